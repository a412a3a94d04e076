import CNI
import Namespace
import NetTypes
import Netlink

/// ADD of a link plugin, after the plugin has validated its config and found its master: the link is
/// created (by the plugin's `create`, under the temporary name) straight into the container, renamed to
/// CNI_IFNAME, given the IPAM's addresses and routes, and described in the result. Every step that changes the
/// world registers its undo; if anything throws, the undo list runs in reverse (`Rollback.guarding`).
public struct LinkAdd {
    public let request: Request
    public let attachment: Attachment
    public let ipam: (any IPAM)?
    public let temporaryName: TemporaryName
    /// What the link is, for messages ("a bridge macvlan on eth1").
    public let describe: String
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
        /// rename: a name unique to this attachment identifies the link there. Registers its own undos.
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

    /// Runs the ADD. `create(name)` makes the link under `name` in the container (from the master's side,
    /// through `attachment.masterSocket`). `previous`: the decoded prevResult, kept in front of ours.
    public func run(previous: CNIResult?, create: (_ name: String) throws(NetlinkError) -> Void) throws(CNIError) -> CNIResult {
        let env = request.environment
        if try lookup(attachment.containerSocket, env.ifName, "checking CNI_IFNAME in the container") != nil {
            throw CNIError(.invalidEnvironment, "interface \"\(env.ifName)\" already exists in \(env.netns)",
                           details: "CNI_IFNAME must name a new interface; the existing one was left untouched")
        }
        try AddStage.validated.reached()
        return try Rollback.guarding { (rollback: inout Rollback) throws(CNIError) -> CNIResult in
            let link = try createLink(create, up: ipam == nil, rollback: &rollback)
            var interface = CNIResult.Interface(name: env.ifName, mac: link.mac?.description, mtu: Int(link.mtu), sandbox: env.netns)
            extras.completeInterface?(&interface)
            var result = CNIResult(interfaces: [interface])
            if let ipam {
                // Spec: IPAM DEL runs on failure even when its ADD failed, so register it first.
                rollback.register("release the address from IPAM plugin \(ipam.type)") { () throws(CNIError) in
                    try ipam.delete(request, rollback: true)
                }
                let assigned = try ipam.add(request)
                try AddStage.ipamAdded.reached()
                try Addressing(attachment: attachment, link: link, ifName: env.ifName).apply(assigned, ipamType: ipam.type)
                result.ips = assigned.ips.map { CNIResult.IPConfig(address: $0.address, gateway: $0.gateway, interface: 0) }
                result.routes = assigned.routes
                result.dns = request.config.dns.merged(with: assigned.dns)
            } else {
                result.dns = request.config.dns
                try AddStage.up.reached()
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

    /// Creation under the temporary name, then the rename. The undo is registered before the rename, by index,
    /// so a failing rename still cleans up. `up` (L2 only) brings the link up together with the rename; with
    /// IPAM it comes up after its addresses.
    private func createLink(_ create: (_ name: String) throws(NetlinkError) -> Void, up: Bool, rollback: inout Rollback) throws(CNIError) -> LinkInfo {
        let env = request.environment
        let container = attachment.containerSocket
        let temporary = temporaryName.make(containerID: env.containerID, ifName: env.ifName)
        do throws(NetlinkError) {
            do throws(NetlinkError) { try create(temporary) } catch where error.kind == .exists && extras.replacesStaleLink {
                // Our temporary name can only be taken by the remains of a killed ADD of this same attachment.
                if let stale = try container.link(named: temporary) { try container.deleteLink(index: stale.index) }
                try create(temporary)
            }
        } catch {
            throw error.cni("creating \(describe) for \(env.netns)")
        }
        guard let created = try lookup(container, temporary, "finding the new link") else {
            throw CNIError(.linkFailure, "the new link \(temporary) is not in \(env.netns) after creation")
        }
        if let undoLink = extras.undoLink {
            rollback.register("undo \(describe) in \(env.netns)") { () throws(CNIError) in try undoLink(created) }
        } else {
            rollback.register("delete the new link in \(env.netns)") { () throws(CNIError) in
                try deleteLink(container, index: created.index, "deleting \(temporary)")
            }
        }
        try AddStage.linkCreated.reached()
        var link = created
        if let prepare = extras.prepare {
            try prepare(created, &rollback)
            // It may have changed the link (an adopted macvtap's MAC): the result must say what the kernel has.
            guard let prepared = try lookup(container, temporary, "reading \(temporary) back") else {
                throw CNIError(.linkFailure, "the new link \(temporary) vanished from \(env.netns)")
            }
            link = prepared
        }
        do { try container.renameLink(index: link.index, to: env.ifName, up: up) } catch {
            if error.kind == .exists {
                throw CNIError(.invalidEnvironment, "interface \"\(env.ifName)\" already exists in \(env.netns)", details: "it appeared while this ADD ran")
            }
            throw error.cni("renaming \(temporary) to \(env.ifName)")
        }
        try AddStage.renamed.reached()
        link.name = env.ifName
        return link
    }
}
