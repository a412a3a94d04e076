import CNI
import Namespace
import NetTypes
import Netlink

extension MacvlanPlugin {
    public func add(_ request: Request) throws(CNIError) -> CNIResult {
        let env = request.environment
        let config = try MacvlanConfig(request)
        let previous = try request.config.decodedPrevResult()
        let ipam = try ipamPlugin(request)
        let attachment = try Attachment.open(request, linkInContainer: config.linkInContainer)
        let master = try attachment.findMaster(config.master)
        let mtu = try config.mtu(forMaster: master.name, masterMTU: master.mtu)
        let container = attachment.containerSocket
        if try lookup(container, env.ifName, "checking CNI_IFNAME in the container") != nil {
            throw CNIError(.invalidEnvironment, "interface \"\(env.ifName)\" already exists in \(env.netns)",
                           details: "CNI_IFNAME must name a new interface; the existing one was left untouched")
        }
        try Stage.validated.reached(pauseAt: pauseAt)

        var rollback = Rollback()
        do throws(CNIError) {
            let link = try createLink(config, master: master, mtu: mtu, attachment: attachment, env: env, up: ipam == nil, rollback: &rollback)
            var result = CNIResult(interfaces: [CNIResult.Interface(name: env.ifName, mac: link.mac?.description,
                                                                    mtu: Int(link.mtu), sandbox: env.netns)])
            if let ipam {
                // Spec: IPAM DEL runs on failure even when its ADD failed, so register it first.
                rollback.register("release the address from IPAM plugin \(ipam.type)") { () throws(CNIError) in
                    _ = try ipam.run(.del, environment: env, stdin: request.config.bytes,
                                     timeoutMilliseconds: DelegatedPlugin.cleanupTimeoutMilliseconds, interruptible: false)
                }
                let assigned = try ipam.add(environment: env, config: request.config)
                try Stage.ipamAdded.reached(pauseAt: pauseAt)
                try Addressing(socket: container, namespace: attachment.container, link: link, ifName: env.ifName, pauseAt: pauseAt)
                    .apply(assigned, ipamType: ipam.type)
                result.ips = assigned.ips.map { CNIResult.IPConfig(address: $0.address, gateway: $0.gateway, interface: 0) }
                result.routes = assigned.routes
                result.dns = request.config.dns.merged(with: assigned.dns)
            } else {
                result.dns = request.config.dns
                try Stage.up.reached(pauseAt: pauseAt)
            }
            var output = result
            if var chained = previous {
                chained.append(result)
                output = chained
            }
            _ = try output.json(version: request.config.cniVersion)  // an unprintable result must roll back too
            return output
        } catch {
            let leftovers = rollback.run()
            if leftovers.isEmpty { throw error }
            throw CNIError(error.code, error.message, details: ([error.details] + ["rollback incomplete: " + leftovers.joined(separator: "; ")])
                .filter { !$0.isEmpty }.joined(separator: "; "))
        }
    }

    /// One RTM_NEWLINK from the master's namespace, straight into the container under the temporary name, then
    /// the rename. The undo is registered before the rename, by index, so a failing rename still cleans up.
    /// `up` (L2 only) brings the link up together with the rename; with IPAM it comes up after its addresses.
    private func createLink(_ config: MacvlanConfig, master: LinkInfo, mtu: UInt32?, attachment: Attachment, env: Environment,
                            up: Bool, rollback: inout Rollback) throws(CNIError) -> LinkInfo {
        let container = attachment.containerSocket
        let temporary = TemporaryName.make(containerID: env.containerID, ifName: env.ifName)
        var spec = MacvlanRequest(name: temporary, parentIndex: master.index, mode: config.mode.kernelValue)
        spec.mac = config.mac
        spec.mtu = mtu
        spec.broadcastQueueLength = config.broadcastQueueLength
        spec.namespaceFD = config.linkInContainer ? nil : attachment.container.fd
        do throws(NetlinkError) {
            do throws(NetlinkError) { try attachment.masterSocket.createMacvlan(spec) } catch where error.kind == .exists {
                // Our temporary name can only be taken by the remains of a killed ADD of this same attachment.
                if let stale = try container.link(named: temporary) { try container.deleteLink(index: stale.index) }
                try attachment.masterSocket.createMacvlan(spec)
            }
        } catch {
            throw error.cni("creating a \(config.mode.rawValue) macvlan on \(master.name) for \(env.netns)")
        }
        guard let created = try lookup(container, temporary, "finding the new link") else {
            throw CNIError(.linkFailure, "the new macvlan \(temporary) is not in \(env.netns) after creation")
        }
        rollback.register("delete the new link in \(env.netns)") { () throws(CNIError) in
            try deleteLink(container, index: created.index, "deleting \(temporary)")
        }
        try Stage.linkCreated.reached(pauseAt: pauseAt)
        do { try container.renameLink(index: created.index, to: env.ifName, up: up) } catch {
            if error.kind == .exists {
                throw CNIError(.invalidEnvironment, "interface \"\(env.ifName)\" already exists in \(env.netns)", details: "it appeared while this ADD ran")
            }
            throw error.cni("renaming \(temporary) to \(env.ifName)")
        }
        try Stage.renamed.reached(pauseAt: pauseAt)
        var link = created
        link.name = env.ifName
        return link
    }
}
