import Namespace
import NetTypes
import Netlink

/// Host ↔ container access for macvlan: a macvlan child cannot talk to its parent, so the host gets its own
/// bridge-mode child of the master (the shim) and a route per container address through it. Works in the
/// master's namespace (the plugin's); every change to shims and records happens under the state lock.
public struct HostAccess {
    public let config: HostAccessConfig
    /// The master's namespace (the plugin's own).
    public let host: any RouteOperations
    /// Writes a per-interface sysctl of that namespace.
    public typealias SysctlWriter = (SysctlKey, String) throws(NamespaceError) -> Void
    let sysctl: SysctlWriter
    public let store: StateStore
    let log: (String) -> Void

    public init(config: HostAccessConfig, host: any RouteOperations, sysctl: @escaping SysctlWriter,
                isInterrupted: @escaping @Sendable () -> Bool = { false }, log: @escaping (String) -> Void = { _ in }) {
        self.config = config
        self.host = host
        self.sysctl = sysctl
        self.store = StateStore(root: config.dataDir, isInterrupted: isInterrupted)
        self.log = log
    }

    var shims: Shim { Shim(host: host, sysctl: sysctl, config: config, log: log) }

    /// The routes ADD adds on the host for these container addresses: one host-length route each. Its source is
    /// the shim's address of the family if one is configured; else, for IPv4, the master's address in the
    /// container's subnet (or its first): with no address on the shim the kernel would take the first address
    /// of any interface, which a container on another master's subnet cannot answer. IPv6 source selection
    /// already prefers the longest matching prefix.
    public func hostRoutes(for containerAddresses: [IPPrefix], masterAddresses: [AddressInfo]) -> [HostRoute] {
        let masterV4 = masterAddresses.filter { $0.prefix.family == .v4 && $0.scope == RouteScope.universe }.map(\.prefix)
        return containerAddresses.map { a in
            var source = config.shimAddress(a.family)
            if source == nil, a.family == .v4 {
                source = (masterV4.first { $0.contains(a.address) } ?? masterV4.first)?.address
            }
            return HostRoute(destination: IPPrefix(address: a.address, prefixLength: a.address.bitLength)!, source: source)
        }
    }

    // MARK: ADD

    /// Starts an ADD's host access: takes the lock, clears a stale record of the same attachment (a killed ADD
    /// whose DEL never came), and records what this ADD is about to do before it does any of it.
    public func begin(_ key: AttachmentKey, master: LinkInfo, containerAddresses: [IPPrefix]) throws(HostAccessError) -> HostAccessSetup {
        let masterAddresses: [AddressInfo]
        do { masterAddresses = try host.addresses(index: master.index) } catch { throw error.hostAccess("reading the addresses of \(master.name)") }
        let lock = try store.lock()
        let setup = HostAccessSetup(access: self, lock: lock, key: key, master: master, containerAddresses: containerAddresses,
                                    routes: hostRoutes(for: containerAddresses, masterAddresses: masterAddresses))
        if let stale = try store.read(key) {
            log("host access: replacing the stale record of \(key) (routes \(stale.routes.map(\.description).joined(separator: ", ")))")
            try removeLocked(stale, shimPolicy: .keep)
        }
        try store.write(setup.record)
        return setup
    }

    // MARK: DEL

    /// Removes the host routes of `key`, its record, and the shim when no other attachment uses it. Idempotent:
    /// nothing recorded is nothing to do.
    public func detach(_ key: AttachmentKey) throws(HostAccessError) {
        let lock = try store.lock()
        defer { lock.release() }
        guard let record = try store.read(key) else { return }
        try removeLocked(record, shimPolicy: .deleteIfUnused)
    }

    enum ShimPolicy { case keep, deleteIfUnused }

    /// Routes, then the shim, then the record: a DEL killed half-way still finds the record and finishes.
    func removeLocked(_ record: AttachmentRecord, shimPolicy: ShimPolicy) throws(HostAccessError) {
        let shim: LinkInfo?
        do { shim = try host.link(namedText: record.shim) } catch { throw error.hostAccess("looking up the host-access shim \(record.shim)") }
        if let shim {   // without the shim its routes are gone too
            for route in record.routes {
                do { try host.deleteRoute(RouteSpec(destination: route.destination, gateway: nil, outputIndex: shim.index)) }
                catch where error.kind == .notFound {}
                catch { throw error.hostAccess("deleting the host route \(route.destination) dev \(shim.name)") }
            }
            if shimPolicy == .deleteIfUnused, try !isUsed(record.shim, except: record.key) {
                let master: LinkInfo?
                do { master = try host.link(namedText: record.master) } catch { throw error.hostAccess("looking up \(record.master)") }
                try shims.delete(shim, masterIndex: master?.index, claimed: true)
            }
        }
        try store.remove(record.key)
    }

    /// Whether any attachment other than `key`, of any network, uses the shim `name`.
    func isUsed(_ name: String, except key: AttachmentKey?) throws(HostAccessError) -> Bool {
        try store.records().contains { $0.shim.bytesEqual(name) && $0.key != key }
    }

    // MARK: CHECK

    /// The shim exists, is ours and up, carries the configured addresses; the host routes of these container
    /// addresses go through it; the record DEL will need is there; the container has its routes to the host.
    public func check(_ key: AttachmentKey, master: LinkInfo, containerAddresses: [IPPrefix],
                      container: any RouteOperations, containerLinkIndex: Int32) throws(HostAccessError) {
        let text = ShimName.forMaster(master.name)
        // A master whose reported name breaks our rule (non-ASCII) can have no shim of ours.
        guard let name = InterfaceName(text) else { throw HostAccessError(.drift, "the host-access shim \(text) of \(master.name) does not exist") }
        let shim: LinkInfo
        switch try shims.find(name, master: master, claimed: false) {
        case .absent: throw HostAccessError(.drift, "the host-access shim \(name) of \(master.name) does not exist")
        case let .foreign(link, reason): throw HostAccessError(.drift, "\(link.name) is not the host-access shim of \(master.name): \(reason)")
        case let .ours(link): shim = link
        }
        guard shim.isUp else { throw HostAccessError(.drift, "the host-access shim \(name) is down") }
        if !config.addresses.isEmpty {
            let present: [AddressInfo]
            do { present = try host.addresses(index: shim.index) } catch { throw error.hostAccess("reading the addresses of \(name)") }
            for address in config.addresses where !present.contains(where: { $0.prefix.address == address.address }) {
                throw HostAccessError(.drift, "the host-access shim \(name) lacks its address \(address)")
            }
        }
        guard let record = try store.read(key) else {
            throw HostAccessError(.drift, "no host-access record for \(key) in \(config.dataDir)",
                                  details: "DEL could not remove its host routes")
        }
        let hostTable: [RouteInfo]
        do { hostTable = try host.routes(family: nil) } catch { throw error.hostAccess("reading the host's routes") }
        for address in containerAddresses {
            guard let route = record.routes.first(where: { $0.destination.address == address.address }) else {
                throw HostAccessError(.drift, "the host-access record of \(key) has no route to \(address.address)")
            }
            let found = hostTable.contains { r in
                r.destination == route.destination && r.outputIndex == shim.index && r.table == RouteTable.main && r.source == route.source
            }
            if !found { throw HostAccessError(.drift, "the host route \(route) dev \(name) is missing") }
        }
        let expected = try containerRoutes(shim: shim, master: master, containerAddresses: containerAddresses)
        let table: [RouteInfo]
        do { table = try container.routes(family: nil) } catch { throw error.hostAccess("reading the container's routes") }
        for route in expected where !table.contains(where: { route.matches($0, outputIndex: containerLinkIndex) }) {
            throw HostAccessError(.drift, "the container's route \(route) to the host is missing")
        }
    }

    // MARK: GC

    /// Removes what belongs to attachments of `network` that are not in `valid`, then every shim of ours that no
    /// attachment of any network uses. Goes on past failures; the first is thrown at the end.
    public func collect(network: String, valid: Set<AttachmentKey>) throws(HostAccessError) {
        let lock = try store.lock()
        defer { lock.release() }
        var failures: [HostAccessError] = []
        for record in try store.records(network: network) where !valid.contains(record.key) {
            do { try removeLocked(record, shimPolicy: .keep) } catch { failures.append(error) }
        }
        let links: [LinkInfo]
        do { links = try host.allLinks() } catch { throw error.hostAccess("listing the host's links") }
        let used = Set(try store.records().map(\.shim))
        for link in links where link.alias == ShimName.alias && !used.contains(link.name) {
            do { try shims.delete(link, masterIndex: nil, claimed: false) } catch { failures.append(error) }
        }
        if let first = failures.first { throw first }
    }

    // MARK: container side

    /// The container's routes to the host, beyond what its own addresses give it:
    /// - a shim address of a family the container uses but outside all of its prefixes: on-link via the
    ///   container's interface (the shim answers ARP/ND for it);
    /// - with IPv6: each global IPv6 address of the host on the master via the shim's link-local address. IPv6
    ///   neighbour discovery answers only for addresses of the receiving interface, and the container's
    ///   solicitations reach the shim, never the master.
    public func containerRoutes(shim: LinkInfo, master: LinkInfo, containerAddresses: [IPPrefix]) throws(HostAccessError) -> [ContainerRoute] {
        let families = Set(containerAddresses.map(\.family))
        var out: [ContainerRoute] = []
        for address in config.addresses where families.contains(address.family)
            && !containerAddresses.contains(where: { $0.contains(address.address) }) {
            out.append(ContainerRoute(destination: address, gateway: nil))
        }
        guard families.contains(.v6) else { return out }
        let hostV6: [AddressInfo]
        do { hostV6 = try host.addresses(index: master.index).filter { $0.prefix.family == .v6 && $0.scope == RouteScope.universe } }
        catch { throw error.hostAccess("reading the addresses of \(master.name)") }
        var targets: [IPAddress] = []
        for a in hostV6 where !targets.contains(a.prefix.address) && !config.addresses.contains(where: { $0.address == a.prefix.address }) {
            targets.append(a.prefix.address)
        }
        guard !targets.isEmpty else { return out }
        let linkLocal = try shimLinkLocal(shim)
        out += targets.map { ContainerRoute(destination: IPPrefix(address: $0, prefixLength: 128)!, gateway: linkLocal) }
        return out
    }

    private func shimLinkLocal(_ shim: LinkInfo) throws(HostAccessError) -> IPAddress {
        let addresses: [AddressInfo]
        do { addresses = try host.addresses(index: shim.index) } catch { throw error.hostAccess("reading the addresses of \(shim.name)") }
        guard let linkLocal = addresses.first(where: { $0.prefix.family == .v6 && $0.scope == RouteScope.link && !$0.isDADFailed }) else {
            throw HostAccessError(.kernelFailure, "the host-access shim \(shim.name) has no IPv6 link-local address",
                                  details: "containers reach the host's IPv6 addresses through it; check net.ipv6.conf.\(shim.name).addr_gen_mode")
        }
        return linkLocal.prefix.address
    }

    /// Adds the container routes; one that exists already is kept (and not undone). Returns those added.
    public static func addContainerRoutes(_ routes: [ContainerRoute], container: any RouteOperations, linkIndex: Int32,
                                          log: (String) -> Void = { _ in }) throws(HostAccessError) -> [RouteSpec] {
        var added: [RouteSpec] = []
        for route in routes {
            let spec = route.spec(outputIndex: linkIndex)
            do { try container.addRoute(spec); added.append(spec) } catch where error.kind == .exists {
                log("host access: the container already has a route to \(route.destination); kept it")
            } catch {
                removeContainerRoutes(added, container: container)
                throw error.hostAccess("adding the container's route \(route) to the host")
            }
        }
        return added
    }

    /// Best effort: these routes also vanish with the container's interface.
    @discardableResult
    public static func removeContainerRoutes(_ routes: [RouteSpec], container: any RouteOperations) -> [String] {
        var failures: [String] = []
        for spec in routes.reversed() {
            do { try container.deleteRoute(spec) } catch where error.kind == .notFound {} catch { failures.append(error.description) }
        }
        return failures
    }
}

/// A route in the container towards the host: on-link (no gateway) or via the shim's link-local address.
public struct ContainerRoute: Equatable, Sendable, CustomStringConvertible {
    public let destination: IPPrefix
    public let gateway: IPAddress?

    public var description: String { "\(destination)" + (gateway.map { " via \($0)" } ?? "") }

    func spec(outputIndex: Int32) -> RouteSpec {
        RouteSpec(destination: destination, gateway: gateway, outputIndex: outputIndex)
    }

    func matches(_ r: RouteInfo, outputIndex: Int32) -> Bool {
        r.destination == destination && r.gateway == gateway && r.outputIndex == outputIndex && r.table == RouteTable.main
    }
}

/// One ADD's host access in progress. Holds the lock from `begin` until `finish`; `undo` takes it back out,
/// the way DEL would, except that it deletes the shim only if this ADD created it.
public final class HostAccessSetup {
    let access: HostAccess
    private var lock: StateLock?
    public let key: AttachmentKey
    public let master: LinkInfo
    public let containerAddresses: [IPPrefix]
    private(set) var record: AttachmentRecord
    public private(set) var shim: LinkInfo?
    public private(set) var createdShim = false

    init(access: HostAccess, lock: StateLock, key: AttachmentKey, master: LinkInfo, containerAddresses: [IPPrefix], routes: [HostRoute]) {
        self.access = access
        self.lock = lock
        self.key = key
        self.master = master
        self.containerAddresses = containerAddresses
        record = AttachmentRecord(key: key, master: master.name, shim: ShimName.forMaster(master.name),
                                  routes: routes)
    }

    /// The shim, created or reused (one per master, whatever the network).
    public func ensureShim() throws(HostAccessError) {
        guard let name = InterfaceName(record.shim) else {   // from a master whose reported name breaks our rule
            throw HostAccessError(.kernelFailure, "cannot create the host-access shim \(record.shim) on \(master.name)",
                                  details: "invalid interface name: \(InterfaceName.problem(record.shim) ?? "")")
        }
        let claimed = try access.isUsed(record.shim, except: key)
        let ipv6 = containerAddresses.contains { $0.family == .v6 }
        shim = try access.shims.ensure(name, master: master, claimed: claimed, ipv6: ipv6, created: &createdShim)
    }

    /// One route per container address through the shim. A route already there is someone else's: the record
    /// is cut back to the routes this ADD added (so its undo cannot remove the other one) and the ADD fails.
    public func addHostRoutes() throws(HostAccessError) {
        guard let shim else { preconditionFailure("addHostRoutes before ensureShim") }
        for (i, route) in record.routes.enumerated() {
            var spec = RouteSpec(destination: route.destination, gateway: nil, outputIndex: shim.index)
            spec.source = route.source
            do { try access.host.addRoute(spec) } catch {
                if error.kind == .exists {
                    let owner = (try? access.store.records())?.first { $0.key != key && $0.routes.contains { $0.destination == route.destination } }
                    record.routes = Array(record.routes[..<i])
                    try access.store.write(record)
                    throw HostAccessError(.conflict, "the host already routes \(route.destination) through \(shim.name)",
                                          details: owner.map { "it belongs to \($0.key)" } ?? "a route this plugin did not add")
                }
                throw error.hostAccess("adding the host route \(route) dev \(shim.name)")
            }
        }
    }

    /// Releases the lock; what follows (the container's routes) does not touch the host.
    public func finish() {
        lock?.release()
        lock = nil
    }

    /// Undoes this ADD's host access under the lock (taken again if `finish` released it; a SIGTERM that
    /// started the rollback does not cut that wait short).
    public func undo() throws(HostAccessError) {
        let held: StateLock
        if let lock, lock.isHeld { held = lock } else { held = try access.store.lock(interruptible: false) }
        defer { held.release(); lock = nil }
        guard let current = try access.store.read(key) else { return }
        try access.removeLocked(current, shimPolicy: createdShim ? .deleteIfUnused : .keep)
    }
}
