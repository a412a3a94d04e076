import CNI
import Glibc
import Namespace
import NetTypes
import Netlink

/// What a plugin knows of the link it is about to create, so that an L2 ADD need not read it back: the MAC it
/// sends (nil when the kernel chooses or overrides it, e.g. a passthru macvlan takes its master's) and the MTU
/// the link will have (the configured one or the master's, which a child inherits).
public struct LinkShape: Sendable {
    public let mac: MACAddress?
    public let mtu: UInt32
    public init(mac: MACAddress?, mtu: UInt32) {
        self.mac = mac
        self.mtu = mtu
    }
}

/// ADD of a link plugin, after the plugin has validated its config and found its master: the link is
/// created (by the plugin's `create`) straight into the container under CNI_IFNAME, given the IPAM's addresses
/// and routes, and described in the result. An IPAM that does not need the interface (`IPAMOverlap`) is started
/// before the link is created and finished after, so the two overlap. Every step that changes the world registers its undo; if anything
/// throws, the undo list runs in reverse (`Rollback.guarding`).
///
/// Round trips: the kernel checks a new link's name in the namespace it lands in (IFLA_NET_NS_FD), so the
/// creation itself refuses an existing CNI_IFNAME, and an L2 link is created up with a MAC the plugin chose:
/// master lookup + RTM_NEWLINK, nothing read back. Kernels that check the name on the creating side answer
/// EEXIST although the container has no such link; for them the link is made under the temporary name and
/// renamed (`createUnderTemporaryName`).
public struct LinkAdd {
    public let request: Request
    public let attachment: Attachment
    public let ipam: (any IPAM)?
    public let temporaryName: TemporaryName
    /// What the link is, for messages ("a bridge macvlan on eth1").
    public let describe: String
    /// The `ipv6` object: its sysctls are written before the link comes up; its DAD mode governs the wait.
    public var ipv6: IPv6Settings?
    /// What a plugin does beyond creating a link; nothing by default (macvlan).
    public var extras = Extras()

    /// A plugin's own steps around the shared ones (macvtap: its character device, an adopted link).
    public struct Extras {
        /// How the new link is undone when the ADD fails; nil: it is deleted.
        public var undoLink: ((_ link: LinkInfo) throws(CNIError) -> Void)?
        /// Whether a link already under the temporary name is the remains of a killed ADD, to delete before one
        /// retry (true for created links; an adopted link must never be deleted).
        public var replacesStaleLink = true
        /// Runs once the link is in the container under its temporary name (its undo registered), before the
        /// rename: a name unique to this attachment identifies the link there. Registers its own undos. A plugin
        /// that sets it always takes the temporary-name path (one more round trip for the rename).
        public var prepare: ((_ link: LinkInfo, _ rollback: inout Rollback) throws(CNIError) -> Void)?
        /// Completes the result's entry for the interface (e.g. its socketPath).
        public var completeInterface: ((_ interface: inout CNIResult.Interface) -> Void)?

        public init() {}
    }

    public init(request: Request, attachment: Attachment, ipam: (any IPAM)?, temporaryName: TemporaryName, describe: String) {
        self.request = request
        self.attachment = attachment
        self.ipam = ipam
        self.temporaryName = temporaryName
        self.describe = describe
    }

    /// What a plugin adds once the link has its addresses and routes (the macvlan plugin's hostAccess): gets the
    /// link and the IPAM's result, registers its own undo steps.
    public typealias AfterAddressing = (_ link: LinkInfo, _ assigned: CNIResult, _ rollback: inout Rollback) throws(CNIError) -> Void

    /// Runs the ADD. `create(name, up)` makes the link under `name` in the container (from the master's side,
    /// through `attachment.masterSocket`), up from creation when `up`. `shape`: what the link will be.
    /// `previous`: the decoded prevResult, kept in front of ours.
    public func run(previous: CNIResult?, shape: LinkShape,
                    create: (_ name: InterfaceName, _ up: Bool) throws(NetlinkError) -> Void,
                    afterAddressing: AfterAddressing? = nil) throws(CNIError) -> CNIResult {
        let env = request.environment
        let overlapped = try ipam.map { (ipam: any IPAM) throws(CNIError) -> Bool in
            try IPAMOverlap.applies(to: ipam.type, config: request.config)
        } ?? false
        try attachment.checkpoint(.validated)
        return try Rollback.guarding(log: request.log) { (rollback: inout Rollback) throws(CNIError) -> CNIResult in
            var pending: PendingIPAM<CNIResult>?
            var ifNameTaken = false
            if let ipam, overlapped {
                // An ADD still running when the rollback comes is waited for, so that the DEL releases what it
                // took. One exception: CNI_IFNAME exists (a second ADD of a live attachment) and the IPAM's ADD
                // failed (host-local refuses a duplicate): it took nothing, and a DEL would release the live
                // attachment's address, which the sequential order never reached either.
                registerIPAMRelease(ipam, settling: { pending?.settle() ?? true }, skipWhenFailed: { ifNameTaken }, rollback: &rollback)
                pending = try ipam.startAdd(request)
            }
            Phases.enter(.link)
            let created = try createLink(create, up: ipam == nil, ifNameTaken: &ifNameTaken, rollback: &rollback)
            // The index only matters for addresses and routes; the MAC only when the plugin could not choose it.
            var link: LinkInfo?
            if ipam != nil || shape.mac == nil || created.renamed {
                if let info = created.info { link = info } else { link = try findCreated(env.ifName) }
            }
            var interface = CNIResult.Interface(name: env.ifName.text, mac: (link?.mac ?? shape.mac).map(CNIResult.ResultMAC.init),
                                                mtu: Int(link?.mtu ?? shape.mtu), sandbox: env.netns)
            extras.completeInterface?(&interface)
            var result = CNIResult(interfaces: [interface])
            if let ipam, let link {
                Phases.enter(.ipam)  // with the overlap: only what is left of the IPAM's run once the link exists
                let assigned: CNIResult
                if let pending {
                    assigned = try pending.finish()
                } else {
                    registerIPAMRelease(ipam, settling: { true }, skipWhenFailed: { false }, rollback: &rollback)
                    assigned = try ipam.add(request)
                }
                try attachment.checkpoint(.ipamAdded)
                var addressing = Addressing(attachment: attachment, link: link, ifName: env.ifName, log: request.log)
                addressing.dad = ipv6?.dad ?? .wait
                try addressing.apply(assigned, ipamType: ipam.type)
                try afterAddressing?(link, assigned, &rollback)
                result.ips = assigned.ips.map { CNIResult.IPConfig(address: $0.address, gateway: $0.gateway, interface: 0) }
                result.routes = assigned.routes
                result.dns = request.config.dns.merged(with: assigned.dns)
            } else {
                result.dns = request.config.dns
                try attachment.checkpoint(.up)
            }
            var output = result
            if var chained = previous {
                chained.append(result)
                output = chained
            }
            _ = try output.json(version: request.config.cniVersion)  // an unprintable result must roll back too
            return output
        }
    }

    /// Spec: IPAM DEL runs on failure even when its ADD failed, so it is registered before the ADD starts.
    /// `settling` waits for an ADD still running and says whether it succeeded.
    private func registerIPAMRelease(_ ipam: any IPAM, settling: @escaping () -> Bool, skipWhenFailed: @escaping () -> Bool,
                                     rollback: inout Rollback) {
        let request = request
        rollback.register("release the address from IPAM plugin \(ipam.type)") { () throws(CNIError) in
            if !settling() && skipWhenFailed() { return }
            try ipam.delete(request, rollback: true)
        }
    }

    /// The link as created: `info` when it had to be read back anyway (the temporary-name path).
    private struct Created {
        var info: LinkInfo?
        var renamed: Bool
    }

    /// Creation under CNI_IFNAME; its EEXIST is either an existing CNI_IFNAME in the container (refused, left
    /// untouched) or a kernel that checks the name on the creating side (the temporary-name path). The undo is
    /// registered as soon as the link may exist: after success, and after a creation cut short by a signal.
    private func createLink(_ create: (_ name: InterfaceName, _ up: Bool) throws(NetlinkError) -> Void, up: Bool,
                            ifNameTaken: inout Bool, rollback: inout Rollback) throws(CNIError) -> Created {
        let env = request.environment
        let container = attachment.containerSocket
        // The `ipv6` sysctls must be in place before the link comes up (no RA acted on, no DAD started with the
        // kernel's defaults): with them, an L2 link is created down and brought up after they are written.
        let sysctls = ipv6?.sysctls(ifName: env.ifName) ?? []
        if extras.prepare != nil {
            if try lookup(container, env.ifName, "checking CNI_IFNAME in the container") != nil {
                ifNameTaken = true
                throw CNIError(.invalidEnvironment, "interface \"\(env.ifName)\" already exists in \(env.netns)",
                               details: "CNI_IFNAME must name a new interface; the existing one was left untouched")
            }
            return try createUnderTemporaryName(create, up: up, rollback: &rollback)
        }
        do throws(NetlinkError) {
            try createUnderFinalName(create, up: up && sysctls.isEmpty)
        } catch where error.kind == .exists {
            if try lookup(container, env.ifName, "checking CNI_IFNAME in the container") != nil {
                ifNameTaken = true
                throw CNIError(.invalidEnvironment, "interface \"\(env.ifName)\" already exists in \(env.netns)",
                               details: "CNI_IFNAME must name a new interface; the existing one was left untouched")
            }
            return try createUnderTemporaryName(create, up: up, rollback: &rollback)
        } catch {
            if error.kind == .interrupted { registerUndo(named: env.ifName, rollback: &rollback) }
            throw error.cni("creating \(describe) for \(env.netns)")
        }
        registerUndo(named: env.ifName, rollback: &rollback)
        try attachment.checkpoint(.linkCreated)
        try attachment.checkpoint(.renamed)  // the link carries CNI_IFNAME from its creation
        guard !sysctls.isEmpty else { return Created(info: nil, renamed: false) }
        try attachment.containerSysctls.write(sysctls, ifName: env.ifName)
        guard up else { return Created(info: nil, renamed: false) }
        var link = try findCreated(env.ifName)
        do { try container.setLinkUp(index: link.index) } catch { throw error.cni("bringing \(env.ifName) up") }
        link.flags.insert(.up)
        return Created(info: link, renamed: false)
    }

    private func createUnderFinalName(_ create: (_ name: InterfaceName, _ up: Bool) throws(NetlinkError) -> Void, up: Bool) throws(NetlinkError) {
        #if FAULT_INJECTION
        if FaultInjection.creatingSideNameCheckRequested {  // behave as a kernel that checks the name on the host side
            throw NetlinkError(errno: EEXIST, operation: "create (fault build: name checked on the creating side)")
        }
        #endif
        try create(request.environment.ifName, up)
    }

    /// The undo of a link made under CNI_IFNAME, found by name when the rollback runs (an L2 ADD never learns
    /// its index). Only a link of our own making can carry the name: the creation refused an existing one.
    private func registerUndo(named name: InterfaceName, rollback: inout Rollback) {
        let container = attachment.containerSocket
        let env = request.environment
        rollback.register("delete the new link in \(env.netns)") { () throws(CNIError) in
            guard let link = try lookup(container, name, "finding \(name) to delete it") else { return }
            try deleteLink(container, index: link.index, "deleting \(name)")
        }
    }

    private func findCreated(_ name: InterfaceName) throws(CNIError) -> LinkInfo {
        guard let link = try lookup(attachment.containerSocket, name, "finding the new link") else {
            throw CNIError(.linkFailure, "the new link \(name) is not in \(request.environment.netns) after creation")
        }
        return link
    }

    /// For kernels that check a new name on the creating side: creation under the temporary name (derived from
    /// the container ID and CNI_IFNAME, so a DEL after SIGKILL finds it), then the rename (L2: and up, in the
    /// same request). The undo is registered before the rename, by index, so a failing rename still cleans up.
    private func createUnderTemporaryName(_ create: (_ name: InterfaceName, _ up: Bool) throws(NetlinkError) -> Void, up: Bool,
                                          rollback: inout Rollback) throws(CNIError) -> Created {
        let env = request.environment
        let container = attachment.containerSocket
        let temporary = temporaryName.make(containerID: env.containerID, ifName: env.ifName)
        do throws(NetlinkError) {
            do throws(NetlinkError) { try create(temporary, false) } catch where error.kind == .exists && extras.replacesStaleLink {
                // Our temporary name can only be taken by the remains of a killed ADD of this same attachment.
                if let stale = try container.link(named: temporary) { try container.deleteLink(index: stale.index) }
                try create(temporary, false)
            }
        } catch {
            if error.kind == .interrupted && extras.undoLink == nil { registerUndo(named: temporary, rollback: &rollback) }
            throw error.cni("creating \(describe) for \(env.netns)")
        }
        let created = try findCreated(temporary)
        if let undoLink = extras.undoLink {
            rollback.register("undo \(describe) in \(env.netns)") { () throws(CNIError) in try undoLink(created) }
        } else {
            rollback.register("delete the new link in \(env.netns)") { () throws(CNIError) in
                try deleteLink(container, index: created.index, "deleting \(temporary)")
            }
        }
        try attachment.checkpoint(.linkCreated)
        // Under the temporary name, while the link is still down: the kernel must not act on an RA or start DAD
        // with the defaults first. The values stay with the link through the rename.
        if let settings = ipv6?.sysctls(ifName: temporary), !settings.isEmpty {
            try attachment.containerSysctls.write(settings, ifName: temporary)
        }
        var link = created
        if let prepare = extras.prepare {
            try prepare(created, &rollback)
            // It may have changed the link (an adopted macvtap's MAC): the result must say what the kernel has.
            link = try findCreated(temporary)
        }
        do { try container.renameLink(index: link.index, to: env.ifName, up: up) } catch {
            if error.kind == .exists {
                throw CNIError(.invalidEnvironment, "interface \"\(env.ifName)\" already exists in \(env.netns)", details: "it appeared while this ADD ran")
            }
            throw error.cni("renaming \(temporary) to \(env.ifName)")
        }
        try attachment.checkpoint(.renamed)
        link.name = env.ifName.text
        if up { link.flags.insert(.up) }
        return Created(info: link, renamed: true)
    }
}
