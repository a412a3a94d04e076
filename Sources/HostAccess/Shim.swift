import Namespace
import NetTypes
import Netlink

/// Finding, creating, configuring and removing the shim of one master. All of it runs under the state lock.
struct Shim {
    let host: any RouteOperations
    let sysctl: HostAccess.SysctlWriter
    let config: HostAccessConfig
    let log: (String) -> Void

    enum Found {
        case absent
        case ours(LinkInfo)
        case foreign(LinkInfo, reason: String)
    }

    /// What carries `name`: nothing, our shim of `master`, or something else.
    func find(_ name: InterfaceName, master: LinkInfo, claimed: Bool) throws(HostAccessError) -> Found {
        let existing: LinkInfo?
        do { existing = try host.link(named: name) } catch { throw error.hostAccess("looking up the host-access shim \(name)") }
        guard let link = existing else { return .absent }
        return Self.classify(link, masterIndex: master.index, masterName: master.name, claimed: claimed)
    }

    /// A bridge-mode macvlan child of the master carrying our alias is ours. Without an alias it is ours only when
    /// a record `claims` it: a shim whose creation was cut short before the alias was set (the kernel ignores an
    /// alias in the message that creates a link). `masterIndex` nil: the master is unknown, the parent unchecked.
    static func classify(_ link: LinkInfo, masterIndex: Int32?, masterName: String, claimed: Bool) -> Found {
        guard link.kind?.macvlanDevice == .macvlan else {
            return .foreign(link, reason: "it is a \(link.kind?.description ?? "kind-less") link, not a macvlan")
        }
        guard link.kind?.macvlanMode == .bridge else { return .foreign(link, reason: "it is not in bridge mode") }
        if let masterIndex, link.parentIndex != masterIndex || link.linkNetnsID != nil {
            return .foreign(link, reason: "it is not a child of \(masterName)")
        }
        if link.alias == ShimName.alias || ((link.alias ?? "").isEmpty && claimed) { return .ours(link) }
        return .foreign(link, reason: "its alias is not \"\(ShimName.alias)\"")
    }

    /// The shim of `master`, created if missing, configured if new or left half-configured, with every configured
    /// address. `created` reports whether this call made it. `ipv6`: the attachment has IPv6 addresses, so the
    /// shim needs IPv6 (its link-local address is the containers' next hop to the host).
    func ensure(_ name: InterfaceName, master: LinkInfo, claimed: Bool, ipv6: Bool, created: inout Bool) throws(HostAccessError) -> LinkInfo {
        var shim: LinkInfo
        switch try find(name, master: master, claimed: claimed) {
        case let .ours(link):
            shim = link
        case let .foreign(link, reason):
            throw Self.conflict(link, master: master, reason: reason)
        case .absent:
            let request = MacvlanRequest(name: name, parentIndex: master.index, mode: .bridge)
            do { try host.createMacvlan(request) } catch where error.kind == .exists {
                // Someone outside our lock made it meanwhile: only usable if it is a shim of ours.
                guard case let .ours(link) = try find(name, master: master, claimed: false) else {
                    throw HostAccessError(.conflict, "a link named \(name) appeared on the host while creating the host-access shim of \(master.name)")
                }
                return try configure(link, named: name, ipv6: ipv6, fresh: false)
            } catch {
                throw error.hostAccess("creating the host-access shim \(name) on \(master.name)")
            }
            let made: LinkInfo?
            do { made = try host.link(named: name) } catch { throw error.hostAccess("looking up the new shim \(name)") }
            guard let made else { throw HostAccessError(.kernelFailure, "the new host-access shim \(name) vanished after its creation") }
            created = true
            shim = made
        }
        return try configure(shim, named: name, ipv6: ipv6, fresh: created)
    }

    static func conflict(_ link: LinkInfo, master: LinkInfo, reason: String) -> HostAccessError {
        HostAccessError(.conflict, "the host already has a link named \(link.name), which host access needs for the shim of \(master.name): \(reason)",
                        details: "rename or remove \(link.name); host access never takes over a link it did not create")
    }

    /// Alias first (it marks the link as ours), then the IPv6 sysctls before the link comes up (no router
    /// advertisement may configure it, no DAD may hold its addresses back), the configured addresses, up.
    /// A shim that is ours, up and aliased only gets missing addresses (and IPv6 if it now needs it).
    private func configure(_ shim: LinkInfo, named name: InterfaceName, ipv6: Bool, fresh: Bool) throws(HostAccessError) -> LinkInfo {
        var shim = shim
        let complete = !fresh && shim.alias == ShimName.alias && shim.isUp
        if !complete {
            if shim.alias != ShimName.alias {
                do { try host.setAlias(index: shim.index, ShimName.alias) } catch { throw error.hostAccess("marking \(shim.name) as the host-access shim") }
                shim.alias = ShimName.alias
            }
            // Off by default on a router-advertised LAN, these would give the host a second default route via the shim.
            for (key, value) in [("accept_ra", "0"), ("autoconf", "0"), ("accept_dad", "0")] {
                try setSysctl(.ipv6(interface: name, name: key), value, required: ipv6)
            }
        }
        if ipv6 { try setSysctl(.ipv6(interface: name, name: "disable_ipv6"), "0", required: true) }
        let present: [AddressInfo]
        do { present = config.addresses.isEmpty ? [] : try host.addresses(index: shim.index) } catch {
            throw error.hostAccess("reading the addresses of \(shim.name)")
        }
        for address in config.addresses where !present.contains(where: { $0.prefix.address == address.address }) {
            // No DAD: host routes name it as their source at once, which the kernel refuses for a tentative address.
            do { try host.addAddress(address, index: shim.index, flags: .nodad) } catch where error.kind == .exists {} catch {
                throw error.hostAccess("adding \(address) to the host-access shim \(shim.name)")
            }
        }
        if !shim.isUp {
            do { try host.setLinkUp(index: shim.index) } catch { throw error.hostAccess("bringing the host-access shim \(shim.name) up") }
            shim.flags.insert(.up)
        }
        return shim
    }

    /// A sysctl of the shim; a missing IPv6 tree (IPv6 disabled in the kernel) only matters when IPv6 is needed.
    private func setSysctl(_ key: SysctlKey, _ value: String, required: Bool) throws(HostAccessError) {
        do { try self.sysctl(key, value) } catch {
            if case .notFound = error, !required { return }
            throw error.hostAccess("configuring the host-access shim")
        }
    }

    /// Deletes `shim` if it is ours (see `classify`); one already gone counts as deleted.
    func delete(_ shim: LinkInfo, masterIndex: Int32?, claimed: Bool) throws(HostAccessError) {
        guard case .ours = Self.classify(shim, masterIndex: masterIndex, masterName: "its master", claimed: claimed) else {
            log("\(shim.name) is not a shim of ours any more; left alone")
            return
        }
        do { try host.deleteLink(index: shim.index) } catch where error.kind == .notFound {} catch {
            throw error.hostAccess("deleting the host-access shim \(shim.name)")
        }
    }
}
