import CNI
import Glibc
import Namespace
import NetTypes
import Netlink

/// Applies an IPAM result to the new interface: announce sysctls, addresses, link up, DAD, routes.
public struct Addressing {
    let attachment: Attachment
    let link: LinkInfo
    let ifName: InterfaceName
    let log: Log
    /// `ipv6.dad`: with `optimistic` IPv6 addresses are added usable at once (IFA_F_OPTIMISTIC); only `wait`
    /// waits for DAD before the routes and the result.
    public var dad: IPv6Settings.DAD = .wait
    var socket: any RouteOperations { attachment.containerSocket }

    public init(attachment: Attachment, link: LinkInfo, ifName: InterfaceName, log: Log) {
        self.attachment = attachment
        self.link = link
        self.ifName = ifName
        self.log = log
    }

    /// How long IPv6 duplicate address detection may take before we give up (the kernel's default is ~1 s).
    static let dadTimeoutMilliseconds = 10_000

    public func apply(_ result: CNIResult, ipamType: String) throws(CNIError) {
        guard !result.ips.isEmpty else {
            throw CNIError(.unusableIPAMResult, "IPAM plugin \(ipamType) returned no IP address",
                           details: "a network with \"ipam\" needs at least one address; use \"ipam\": {} for L2 only")
        }
        // Refused before anything is applied: the kernel takes some of these (a multicast address) and ignores
        // others (0.0.0.0/0), and a result must never claim an address the interface does not have.
        for ip in result.ips {
            if let problem = ip.address.address.interfaceAddressProblem {
                throw CNIError(.unusableIPAMResult, "IPAM plugin \(ipamType) returned address \(ip.address), which cannot be an interface address",
                               details: problem)
            }
        }
        Phases.enter(.addresses)
        let hasV6 = result.ips.contains { $0.address.family == .v6 }
        // Gratuitous ARP / unsolicited NA on address changes, so neighbours learn the new MAC at once.
        // ndisc_notify is set even without IPv6 addresses (as the reference does); only fatal when IPv6 is in use.
        var settings = [SysctlSetting(.ipv4(interface: ifName, name: "arp_notify"), "1")]
        if hasV6 { settings.append(SysctlSetting(.ipv6(interface: ifName, name: "disable_ipv6"), "0")) }
        settings.append(SysctlSetting(.ipv6(interface: ifName, name: "ndisc_notify"), "1", required: hasV6))
        try attachment.containerSysctls.write(settings, ifName: ifName)
        for ip in result.ips {
            let flags: AddressFlags = dad == .optimistic && ip.address.family == .v6 ? .optimistic : []
            do { try socket.addAddress(ip.address, index: link.index, flags: flags) } catch {
                throw error.cni("adding address \(ip.address) from IPAM plugin \(ipamType) to \(ifName)", code: .addressingFailure)
            }
        }
        try attachment.checkpoint(.addressesAdded)
        do { try socket.setLinkUp(index: link.index) } catch { throw error.cni("bringing \(ifName) up") }
        try attachment.checkpoint(.up)
        try confirmAddresses(result.ips.map(\.address), ipamType: ipamType, waitForDAD: hasV6)
        Phases.enter(.routes)
        for route in result.routes {
            let gateway = route.gateway(fallingBackTo: result.ips)
            var spec = RouteSpec(destination: route.destination.network, gateway: gateway, outputIndex: link.index)
            spec.priority = route.priority.map { UInt32($0) }
            spec.table = route.table.map { RouteTable(rawValue: UInt32($0)) }
            spec.scope = route.scope.map { RouteScope(rawValue: UInt8(truncatingIfNeeded: $0)) }
            spec.mtu = route.mtu.map { UInt32($0) }
            spec.advmss = route.advmss.map { UInt32($0) }
            do { try socket.addRoute(spec) } catch where error.kind == .exists {
                // Another interface of this container already routes there: the first one wins (as in the reference).
                log("route \(route.destination) already exists in \(attachment.containerPath); kept the existing one")
            } catch {
                throw error.cni("adding route \(route.destination)\(gateway.map { " via \($0)" } ?? "") on \(ifName)", code: .addressingFailure)
            }
        }
        try attachment.checkpoint(.routesAdded)
    }

    /// The rule that the result ADD reports is true: every address it will report is read back from the kernel
    /// on the interface. Routes via an IPv6 gateway fail while the source address is still tentative, so with
    /// IPv6 addresses this also waits (bounded) for duplicate address detection. Without them it must not: the
    /// kernel's own link-local address is tentative for a second or two after the link comes up.
    private func confirmAddresses(_ expected: [IPPrefix], ipamType: String, waitForDAD: Bool) throws(CNIError) {
        var waited = 0
        while true {
            let addresses: [AddressInfo]
            do { addresses = try socket.addresses(index: link.index) } catch { throw error.cni("reading addresses of \(ifName)") }
            if let missing = expected.first(where: { address in !addresses.contains { $0.prefix == address } }) {
                throw CNIError(.addressingFailure, "address \(missing) from IPAM plugin \(ipamType) is not on \(ifName) after adding it",
                               details: "the kernel accepted it but does not list it; a result must not report an address the interface lacks")
            }
            guard waitForDAD else { return }
            let v6 = addresses.filter { $0.prefix.family == .v6 }
            if let failed = v6.first(where: \.isDADFailed) {
                throw CNIError(.addressingFailure, "address \(failed.prefix) on \(ifName) is already in use on the network",
                               details: "IPv6 duplicate address detection failed")
            }
            if !dad.waits || !v6.contains(where: \.isTentative) { return }
            Phases.enter(.dadWait)
            if waited >= Self.dadTimeoutMilliseconds {
                throw CNIError(.addressingFailure, "IPv6 duplicate address detection on \(ifName) did not finish within \(Self.dadTimeoutMilliseconds / 1000) s")
            }
            try Interruption.check(after: .up)
            var delay = timespec(tv_sec: 0, tv_nsec: 10_000_000)
            nanosleep(&delay, nil)
            waited += 10
        }
    }
}

extension CNIResult.Route {
    /// A route without a gateway goes via the gateway of the first address of its family (as the reference
    /// applies IPAM results); ADD applies it that way and CHECK looks for it that way.
    public func gateway(fallingBackTo ips: [CNIResult.IPConfig]) -> IPAddress? {
        gateway ?? ips.first { $0.address.family == destination.family }?.gateway
    }
}
