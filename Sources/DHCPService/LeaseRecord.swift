import CNI
import DHCPv4
import DHCPv6
import JSON
import NetTypes

/// One attachment that holds (or is acquiring) a lease: who asked (container, network, interface), where it lives
/// (namespace path and identity, link index and MAC), and what it asks the server for.
public struct Attachment: Sendable, Equatable {
    public var containerID: String
    public var network: String
    public var ifName: String
    /// The namespace path as the daemon opens it (with -hostprefix applied).
    public var netns: String
    /// Device and inode of the namespace when the lease was taken: a new namespace at the same path is not ours.
    public var netnsDevice: UInt64
    public var netnsInode: UInt64
    public var linkIndex: Int32
    public var mac: MACAddress
    public var requestedOptions: [UInt8]
    public var providedOptions: [DHCPv4Option]
    /// Route metric for the result's routes (config `priority`).
    public var priority: Int?
    /// DHCPv6 (IA_NA) on the same interface when set: the prefix length the result gives the address.
    public var dhcpv6PrefixLength: Int?

    public init(containerID: String, network: String, ifName: String, netns: String, netnsDevice: UInt64,
                netnsInode: UInt64, linkIndex: Int32, mac: MACAddress, requestedOptions: [UInt8],
                providedOptions: [DHCPv4Option], priority: Int?, dhcpv6PrefixLength: Int? = nil) {
        self.containerID = containerID; self.network = network; self.ifName = ifName; self.netns = netns
        self.netnsDevice = netnsDevice; self.netnsInode = netnsInode; self.linkIndex = linkIndex; self.mac = mac
        self.requestedOptions = requestedOptions; self.providedOptions = providedOptions; self.priority = priority
        self.dhcpv6PrefixLength = dhcpv6PrefixLength
    }

    /// The DHCPv6 identity (DUID and IAID) derived from the same string as the DHCPv4 client identifier.
    public var dhcpv6Identity: ClientIdentity { ClientIdentity(identity: clientIDText) }

    public var clientIdentifier: [UInt8] { ClientIdentifier.option(containerID: containerID, network: network, ifName: ifName) }
    public var clientIDText: String { String(decoding: clientIdentifier.dropFirst(), as: UTF8.self) }
}

/// Everything kept on disk about one attachment's lease: the attachment and what the server granted. Enough
/// to resume renewals after a restart, to release without the daemon, and to rebuild the ADD result.
@dynamicMemberLookup
public struct LeaseRecord: Sendable, Equatable {
    public var attachment: Attachment
    public var binding: DHCPv4Client.Binding
    /// Whether the kernel address carries the lease's lifetime yet (the main plugin adds it after ADD).
    public var lifetimeApplied: Bool
    /// The DHCPv6 lease, once granted (times in milliseconds of the wall clock).
    public var v6: DHCPv6.Lease?
    public var v6LifetimeApplied = false

    public init(attachment: Attachment, binding: DHCPv4Client.Binding, lifetimeApplied: Bool, v6: DHCPv6.Lease? = nil,
                v6LifetimeApplied: Bool = false) {
        self.attachment = attachment; self.binding = binding; self.lifetimeApplied = lifetimeApplied
        self.v6 = v6; self.v6LifetimeApplied = v6LifetimeApplied
    }

    /// The v6 address with the configured prefix length.
    public var v6Prefix: IPPrefix? {
        guard let v6, let length = attachment.dhcpv6PrefixLength else { return nil }
        return IPPrefix(address: v6.address, prefixLength: length)
    }

    public subscript<T>(dynamicMember path: KeyPath<Attachment, T>) -> T { attachment[keyPath: path] }

    /// The ADD result: the leased address with the router as gateway, the lease's routes (with the configured
    /// priority as metric) and its DNS servers.
    public func result() -> CNIResult {
        let lease = binding.lease
        var result = CNIResult()
        result.ips = [CNIResult.IPConfig(address: lease.address, gateway: lease.router)]
        let priority = attachment.priority
        result.routes = lease.routes.map { route in
            var r = CNIResult.Route(destination: route.destination, gateway: route.gateway)
            r.priority = priority
            return r
        }
        result.dns = DNS(nameservers: lease.dnsServers.map(\.description), domain: lease.domainName)
        if let prefix = v6Prefix, let v6 {
            result.ips.append(CNIResult.IPConfig(address: prefix))
            result.dns = result.dns.merged(with: DNS(nameservers: v6.dnsServers.map(\.description), search: v6.domainList))
        }
        return result
    }

    // MARK: JSON

    public var json: JSONValue {
        let lease = binding.lease
        var v4 = JSONObject()
        v4["address"] = .string(lease.address.description)
        v4["server"] = .string(lease.serverIdentifier.description)
        if let router = lease.router { v4["router"] = .string(router.description) }
        v4["routes"] = .array(lease.routes.map { route in
            var o = JSONObject()
            o["dst"] = .string(route.destination.description)
            if let gw = route.gateway { o["gw"] = .string(gw.description) }
            return .object(o)
        })
        v4["dns"] = .array(lease.dnsServers.map { .string($0.description) })
        if let domain = lease.domainName { v4["domain"] = .string(domain) }
        v4["leaseSeconds"] = .int(Int64(lease.leaseSeconds))
        v4["renewalSeconds"] = .int(Int64(lease.renewalSeconds))
        v4["rebindingSeconds"] = .int(Int64(lease.rebindingSeconds))
        v4["boundAt"] = .double(binding.boundAt)
        let a = attachment
        var o = JSONObject()
        o["version"] = 1
        o["clientID"] = .string(a.clientIDText)
        o["containerID"] = .string(a.containerID)
        o["network"] = .string(a.network)
        o["ifName"] = .string(a.ifName)
        o["netns"] = .string(a.netns)
        o["netnsDevice"] = .int(Int64(bitPattern: a.netnsDevice))
        o["netnsInode"] = .int(Int64(bitPattern: a.netnsInode))
        o["linkIndex"] = .int(Int64(a.linkIndex))
        o["mac"] = .string(a.mac.description)
        o["requestedOptions"] = .array(a.requestedOptions.map { .int(Int64($0)) })
        o["providedOptions"] = .array(a.providedOptions.map { .object(["code": .int(Int64($0.code)), "value": .string(hexText($0.value))]) })
        if let priority = a.priority { o["priority"] = .int(Int64(priority)) }
        if let length = a.dhcpv6PrefixLength { o["dhcpv6PrefixLength"] = .int(Int64(length)) }
        o["lifetimeApplied"] = .bool(lifetimeApplied)
        o["v4"] = .object(v4)
        if let v6 {
            var v6o = JSONObject()
            v6o["address"] = .string(v6.address.description)
            v6o["serverID"] = .string(hexText(v6.serverID))
            if let unicast = v6.serverUnicast { v6o["serverUnicast"] = .string(unicast.description) }
            v6o["preferredLifetime"] = .int(Int64(v6.preferredLifetime))
            v6o["validLifetime"] = .int(Int64(v6.validLifetime))
            v6o["t1"] = .int(Int64(v6.t1))
            v6o["t2"] = .int(Int64(v6.t2))
            v6o["obtainedAtMilliseconds"] = .int(v6.obtainedAt)
            v6o["dns"] = .array(v6.dnsServers.map { .string($0.description) })
            v6o["domains"] = .array(v6.domainList.map { .string($0) })
            v6o["lifetimeApplied"] = .bool(v6LifetimeApplied)
            o["v6"] = .object(v6o)
        }
        return .object(o)
    }

    public struct DecodeError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public init(json value: JSONValue) throws(DecodeError) {
        func fail(_ what: String) -> DecodeError { DecodeError(description: "lease record: bad or missing \"\(what)\"") }
        guard let o = value.objectValue, o["version"]?.intValue == 1 else { throw fail("version") }
        guard let v4 = o["v4"]?.objectValue else { throw fail("v4") }
        guard let containerID = o["containerID"]?.stringValue else { throw fail("containerID") }
        guard let network = o["network"]?.stringValue else { throw fail("network") }
        guard let ifName = o["ifName"]?.stringValue else { throw fail("ifName") }
        guard let netns = o["netns"]?.stringValue else { throw fail("netns") }
        guard let dev = o["netnsDevice"]?.intValue, let ino = o["netnsInode"]?.intValue else { throw fail("netnsInode") }
        guard let index = o["linkIndex"]?.intValue, let mac = o["mac"]?.stringValue.flatMap(MACAddress.init) else { throw fail("mac") }
        guard let address = v4["address"]?.stringValue.flatMap(IPPrefix.init) else { throw fail("v4.address") }
        guard let server = v4["server"]?.stringValue.flatMap(IPAddress.init) else { throw fail("v4.server") }
        guard let leaseSeconds = v4["leaseSeconds"]?.intValue, let t1 = v4["renewalSeconds"]?.intValue,
              let t2 = v4["rebindingSeconds"]?.intValue else { throw fail("v4 times") }
        let boundAt: Double
        switch v4["boundAt"] {
        case let .double(d)?: boundAt = d
        case let .int(i)?: boundAt = Double(i)
        default: throw fail("v4.boundAt")
        }
        var routes: [(destination: IPPrefix, gateway: IPAddress?)] = []
        for route in v4["routes"]?.arrayValue ?? [] {
            guard let dst = route["dst"]?.stringValue.flatMap(IPPrefix.init) else { throw fail("v4.routes") }
            routes.append((dst, route["gw"]?.stringValue.flatMap(IPAddress.init)))
        }
        let lease = DHCPv4Lease(address: address, serverIdentifier: server,
                                router: v4["router"]?.stringValue.flatMap(IPAddress.init), routes: routes,
                                dnsServers: (v4["dns"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(IPAddress.init) },
                                domainName: v4["domain"]?.stringValue,
                                leaseSeconds: UInt32(clamping: leaseSeconds), renewalSeconds: UInt32(clamping: t1),
                                rebindingSeconds: UInt32(clamping: t2))
        var provided: [DHCPv4Option] = []
        for item in o["providedOptions"]?.arrayValue ?? [] {
            guard let code = item["code"]?.intValue, let value = item["value"]?.stringValue.flatMap(hexBytes) else {
                throw fail("providedOptions")
            }
            provided.append(DHCPv4Option(code: UInt8(clamping: code), value: value))
        }
        let attachment = Attachment(containerID: containerID, network: network, ifName: ifName, netns: netns,
                                    netnsDevice: UInt64(bitPattern: dev), netnsInode: UInt64(bitPattern: ino),
                                    linkIndex: Int32(clamping: index), mac: mac,
                                    requestedOptions: (o["requestedOptions"]?.arrayValue ?? []).compactMap { $0.intValue.map { UInt8(clamping: $0) } },
                                    providedOptions: provided, priority: o["priority"]?.intValue.map { Int($0) },
                                    dhcpv6PrefixLength: o["dhcpv6PrefixLength"]?.intValue.map { Int($0) })
        var v6: DHCPv6.Lease?
        if let v6o = o["v6"] {
            guard let address = v6o["address"]?.stringValue.flatMap(IPAddress.init),
                  let serverID = v6o["serverID"]?.stringValue.flatMap(hexBytes),
                  let preferred = v6o["preferredLifetime"]?.intValue, let valid = v6o["validLifetime"]?.intValue,
                  let t1 = v6o["t1"]?.intValue, let t2 = v6o["t2"]?.intValue,
                  let obtained = v6o["obtainedAtMilliseconds"]?.intValue else { throw fail("v6") }
            v6 = DHCPv6.Lease(serverID: serverID, serverUnicast: v6o["serverUnicast"]?.stringValue.flatMap(IPAddress.init),
                              address: address, preferredLifetime: UInt32(clamping: preferred), validLifetime: UInt32(clamping: valid),
                              t1: UInt32(clamping: t1), t2: UInt32(clamping: t2), obtainedAt: obtained,
                              dnsServers: (v6o["dns"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(IPAddress.init) },
                              domainList: (v6o["domains"]?.arrayValue ?? []).compactMap(\.stringValue))
        }
        self.init(attachment: attachment, binding: DHCPv4Client.Binding(lease: lease, boundAt: boundAt),
                  lifetimeApplied: o["lifetimeApplied"]?.boolValue ?? false, v6: v6,
                  v6LifetimeApplied: o["v6"]?["lifetimeApplied"]?.boolValue ?? false)
    }
}
