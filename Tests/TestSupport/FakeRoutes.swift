import Glibc
import NetTypes
import Netlink

/// One network namespace's links, addresses and routes in memory, behind the same protocol as a netlink
/// socket. Operations can be made to fail (`failures`, by operation name); every operation is recorded.
public final class FakeRoutes: RouteOperations {
    public var links: [LinkInfo] = []
    public var addressList: [AddressInfo] = []
    public var routeList: [RouteInfo] = []
    public var defaultRoute: Int32?
    /// Where a link created with a namespace descriptor lands (the container, seen from the host).
    public weak var peer: FakeRoutes?
    /// Errors by operation: "createMacvlan", "deleteLink", "renameLink", "setLinkUp", "addAddress",
    /// "addresses", "addRoute", "deleteRoute", "routes", "link", "allLinks", "setAlias".
    public var failures: [String: NetlinkError] = [:]
    /// Errors for the first N calls of an operation only (then it works).
    public var failOnce: [String: NetlinkError] = [:]
    /// Addresses the "kernel" accepts but does not list (to prove ADD reads them back).
    public var swallowedAddresses: Set<IPPrefix> = []
    /// Addresses reported tentative for this many dumps (IPv6 DAD).
    public var tentativeDumps = 0
    /// Links coming up get an IPv6 link-local address, as the kernel gives them (off by default: the verbs'
    /// tests count the container's addresses).
    public var linkLocalOnUp = false
    /// Addresses added with `noDAD`.
    public private(set) var noDADAddresses: [IPPrefix] = []
    /// Behave as a kernel that checks a new link's name in the creating namespace (this one) rather than in
    /// the namespace it lands in: EEXIST when this namespace has the name.
    public var checksNameOnCreatingSide = false
    /// The link is created, then the wait for the kernel's answer is cut short by a signal (EINTR).
    public var interruptAfterCreating = false
    public private(set) var calls: [String] = []
    /// Every RTM_NEWLINK asked of this namespace, as sent.
    public private(set) var createRequests: [MacvlanRequest] = []
    var nextIndex: Int32 = 100

    public init() {}

    /// A host namespace with an Ethernet master `eth0` (index 2, MTU 1500) and a default route through it.
    public static func host(masterUp: Bool = true) -> FakeRoutes {
        let host = FakeRoutes()
        host.links = [LinkInfo(index: 1, name: "lo", mtu: 65536, flags: [.up, .loopback], hardwareType: HardwareType.loopback),
                      LinkInfo(index: 2, name: "eth0", kind: .other("veth"), mac: MACAddress("02:00:00:00:00:02"), mtu: 1500,
                               flags: InterfaceFlags(rawValue: masterUp ? 0x1003 : 0x1002), hardwareType: HardwareType.ether)]
        host.defaultRoute = 2
        return host
    }

    private func op(_ name: String) throws(NetlinkError) {
        calls.append(name)
        if let failure = failOnce.removeValue(forKey: name) { throw failure }
        if let failure = failures[name] { throw failure }
    }

    public static func error(_ errno: Int32, _ operation: String = "fake") -> NetlinkError {
        NetlinkError(errno: errno, operation: operation)
    }

    public func link(named name: InterfaceName) throws(NetlinkError) -> LinkInfo? {
        try op("link")
        return links.first { $0.name == name.text }
    }

    public func allLinks() throws(NetlinkError) -> [LinkInfo] {
        try op("allLinks")
        return links
    }

    public func link(index: Int32) throws(NetlinkError) -> LinkInfo? {
        try op("link")
        return links.first { $0.index == index }
    }

    public func createMacvlan(_ request: MacvlanRequest) throws(NetlinkError) {
        try op("createMacvlan")
        createRequests.append(request)
        let target = request.namespaceFD == nil ? self : (peer ?? self)
        guard !target.links.contains(where: { $0.name == request.name.text }) else { throw Self.error(EEXIST, "create") }
        if checksNameOnCreatingSide, links.contains(where: { $0.name == request.name.text }) { throw Self.error(EEXIST, "create") }
        guard let parent = links.first(where: { $0.index == request.parentIndex }) else { throw Self.error(ENODEV, "create") }
        nextIndex += 1
        target.links.append(LinkInfo(index: nextIndex, name: request.name.text, kind: .macvlanFamily(request.device, mode: request.mode),
                                     macvlanBroadcastQueueLength: request.broadcastQueueLength,
                                     mac: request.mac ?? MACAddress(bytes: [0x0a, 0, 0, 0, 0, UInt8(truncatingIfNeeded: nextIndex)]),
                                     mtu: request.mtu ?? parent.mtu, flags: InterfaceFlags(rawValue: request.up ? 0x1003 : 0x1002), hardwareType: HardwareType.ether,
                                     parentIndex: parent.index, linkNetnsID: request.namespaceFD == nil ? nil : 0))
        if interruptAfterCreating { throw Self.error(EINTR, "create") }
    }

    /// Children in this namespace (macvlans of a master) go with their parent, as in the kernel.
    public func deleteLink(index: Int32) throws(NetlinkError) {
        try op("deleteLink")
        guard links.contains(where: { $0.index == index }) else { throw Self.error(ENODEV, "delete") }
        let gone = Set([index] + links.filter { $0.parentIndex == index && $0.linkNetnsID == nil }.map(\.index))
        links.removeAll { gone.contains($0.index) }
        addressList.removeAll { gone.contains($0.index) }
        routeList.removeAll { $0.outputIndex.map(gone.contains) ?? false }
    }

    public func setAlias(index: Int32, _ alias: String) throws(NetlinkError) {
        try op("setAlias")
        guard let i = links.firstIndex(where: { $0.index == index }) else { throw Self.error(ENODEV, "alias") }
        links[i].alias = alias
    }

    public func renameLink(index: Int32, to name: InterfaceName, up: Bool) throws(NetlinkError) {
        try op("renameLink")
        guard !links.contains(where: { $0.name == name.text }) else { throw Self.error(EEXIST, "rename") }
        guard let i = links.firstIndex(where: { $0.index == index }) else { throw Self.error(ENODEV, "rename") }
        links[i].name = name.text
        if up { links[i].flags.insert(.up) }
    }

    public func changeLink(_ change: LinkChange) throws(NetlinkError) {
        try op("changeLink")
        guard var link = links.first(where: { $0.index == change.index }) else { throw Self.error(ENODEV, "change") }
        let target = change.namespaceFD == nil ? self : (peer ?? self)
        if let name = change.name, target.links.contains(where: { $0.name == name.text && $0.index != change.index }) {
            throw Self.error(EEXIST, "change")
        }
        if change.namespaceFD != nil {
            link.flags.remove(.up)  // a move brings the link down
            link.linkNetnsID = target === self ? link.linkNetnsID : (link.linkNetnsID == nil ? 0 : nil)
            target.nextIndex += 1
            links.removeAll { $0.index == change.index }
            link.index = target.nextIndex
        } else {
            links.removeAll { $0.index == change.index }
        }
        if let name = change.name { link.name = name.text }
        if let mac = change.mac { link.mac = mac }
        if let mtu = change.mtu { link.mtu = mtu }
        if let promiscuous = change.promiscuous {
            if promiscuous { link.flags.insert(.promiscuous) } else { link.flags.remove(.promiscuous) }
        }
        if let up = change.up { if up { link.flags.insert(.up) } else { link.flags.remove(.up) } }
        target.links.append(link)
    }

    public func setLinkUp(index: Int32) throws(NetlinkError) {
        try op("setLinkUp")
        guard let i = links.firstIndex(where: { $0.index == index }) else { throw Self.error(ENODEV, "up") }
        if linkLocalOnUp && !links[i].isUp {
            addressList.append(AddressInfo(index: index, prefix: IPPrefix("fe80::1:\(index)/64")!, scope: .link))
        }
        links[i].flags.insert(.up)
    }

    public func addAddress(_ prefix: IPPrefix, index: Int32, flags: AddressFlags) throws(NetlinkError) {
        try op("addAddress")
        if flags.contains(.nodad) { noDADAddresses.append(prefix) }
        guard !addressList.contains(where: { $0.index == index && $0.prefix == prefix }) else { throw Self.error(EEXIST, "address") }
        if swallowedAddresses.contains(prefix) { return }
        addressList.append(AddressInfo(index: index, prefix: prefix, flags: flags))
    }

    public func addresses(index: Int32?) throws(NetlinkError) -> [AddressInfo] {
        try op("addresses")
        let tentative = tentativeDumps > 0
        if tentative { tentativeDumps -= 1 }
        return addressList.filter { index == nil || $0.index == index }.map { address in
            tentative && address.prefix.family == .v6 ? AddressInfo(index: address.index, prefix: address.prefix, flags: address.flags.union(.tentative)) : address
        }
    }

    public func addRoute(_ route: RouteSpec) throws(NetlinkError) {
        try op("addRoute")
        if let source = route.source, !addressList.contains(where: { $0.prefix.address == source }) {
            throw NetlinkError(errno: EINVAL, operation: "route", kernelMessage: "Invalid source address")
        }
        var info = RouteInfo(destination: route.destination.network, gateway: route.gateway, outputIndex: route.outputIndex,
                             priority: route.priority ?? 0, table: route.effectiveTable, scope: route.effectiveScope)
        info.source = route.source
        guard !routeList.contains(where: { $0.destination == info.destination && $0.table == info.table && $0.priority == info.priority }) else {
            throw Self.error(EEXIST, "route")
        }
        routeList.append(info)
    }

    public func deleteRoute(_ route: RouteSpec) throws(NetlinkError) {
        try op("deleteRoute")
        guard let i = routeList.firstIndex(where: { $0.destination == route.destination.network && $0.table == route.effectiveTable
                                                    && $0.outputIndex == route.outputIndex }) else { throw Self.error(ESRCH, "route") }
        routeList.remove(at: i)
    }

    public func routes(family: IPFamily?) throws(NetlinkError) -> [RouteInfo] {
        try op("routes")
        return routeList.filter { family == nil || $0.destination.family == family }
    }

    public func defaultRouteInterface() throws(NetlinkError) -> Int32? {
        try op("defaultRoute")
        return defaultRoute
    }
}
