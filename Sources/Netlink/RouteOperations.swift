import NetTypes

/// The rtnetlink operations the link plugins use, bound to one network namespace. `RouteSocket` is the
/// kernel's implementation; tests drive the plugins' verbs through a fake (no root, no namespaces).
public protocol RouteOperations: AnyObject {
    func link(named name: InterfaceName) throws(NetlinkError) -> LinkInfo?
    func link(index: Int32) throws(NetlinkError) -> LinkInfo?
    /// Every link of the namespace, in the kernel's order.
    func allLinks() throws(NetlinkError) -> [LinkInfo]
    /// Creates a macvlan or macvtap (from this socket's namespace; into `request.namespaceFD` if set).
    func createMacvlan(_ request: MacvlanRequest) throws(NetlinkError)
    func deleteLink(index: Int32) throws(NetlinkError)
    func renameLink(index: Int32, to name: InterfaceName, up: Bool) throws(NetlinkError)
    func setLinkUp(index: Int32) throws(NetlinkError)
    /// Sets IFLA_IFALIAS (the kernel ignores it in the message that creates a link).
    func setAlias(index: Int32, _ alias: String) throws(NetlinkError)
    /// `flags` go in IFA_FLAGS (IPv6: `.nodad` usable at once, never tentative; `.optimistic` usable during DAD).
    func addAddress(_ prefix: IPPrefix, index: Int32, flags: AddressFlags) throws(NetlinkError)
    /// Moves, renames and reconfigures an existing link in one RTM_SETLINK.
    func changeLink(_ change: LinkChange) throws(NetlinkError)
    func addresses(index: Int32?) throws(NetlinkError) -> [AddressInfo]
    func addRoute(_ route: RouteSpec) throws(NetlinkError)
    /// Deletes the route with this destination, output interface and table; `.notFound` when there is none.
    func deleteRoute(_ route: RouteSpec) throws(NetlinkError)
    func routes(family: IPFamily?) throws(NetlinkError) -> [RouteInfo]
    /// The interface of the lowest-metric default route (IPv4 first, then IPv6), if any.
    func defaultRouteInterface() throws(NetlinkError) -> Int32?
}

extension RouteOperations {
    /// The link called `text`, a name read from outside (a record, another process): one that breaks our name
    /// rule names no link we made or validated, so it is nil like a missing link.
    public func link(namedText text: String) throws(NetlinkError) -> LinkInfo? {
        guard let name = InterfaceName(text) else { return nil }
        return try link(named: name)
    }

    /// An address with duplicate address detection (the kernel's default).
    public func addAddress(_ prefix: IPPrefix, index: Int32) throws(NetlinkError) {
        try addAddress(prefix, index: index, flags: [])
    }
}

extension RouteSocket: RouteOperations {}

