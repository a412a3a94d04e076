import CNI
import LinkPlugin
import NetTypes
import Netlink

extension MacvtapPlugin {
    /// Validates the config, then the shared ADD: a macvtap created from the master's namespace straight into
    /// the container (or, with `deviceID`, an existing one adopted), its character device found while the link
    /// still has its unique temporary name, and the plugin's own node made for it (see TapNode).
    public func add(_ request: Request) throws(CNIError) -> CNIResult {
        let env = request.environment
        let config = try MacvtapConfig(request)
        try TapNode.validate(containerID: env.containerID, ifName: env.ifName)
        let previous = try request.config.decodedPrevResult()
        let ipam = try system.ipam(request)
        let attachment = try system.attach(request, linkInContainer: config.linkInContainer)
        let record = AttachmentRecord(containerID: env.containerID, ifName: env.ifName, netns: env.netns,
                                      node: TapNode.path(containerID: env.containerID, ifName: env.ifName))
        if let deviceID = config.deviceID {
            return try adopt(deviceID, request: request, config: config, previous: previous, ipam: ipam, attachment: attachment, record: record)
        }
        let master = try attachment.findMaster(config.master, childKind: "macvtap", pciDevices: system.pciDevices, log: request.log)
        let mtu = try config.family.mtu(forMaster: master.name, masterMTU: master.mtu)
        var add = LinkAdd(request: request, attachment: attachment, ipam: ipam, temporaryName: Self.temporaryName,
                          describe: "a \(config.mode.configName) macvtap on \(master.name)")
        add.extras = nodeSteps(request, config: config, record: record, attachment: attachment, removesRecord: true) { index in
            guard config.promiscuous else { return nil }
            var change = LinkChange(index: index)
            change.promiscuous = true
            return change
        }
        add.ipv6 = config.ipv6
        // The node steps need the temporary-name path (extras.prepare), which reads the link back: no shape to guess.
        let shape = LinkShape(mac: nil, mtu: mtu ?? master.mtu)
        return try add.run(previous: previous, shape: shape) { (name: InterfaceName, up: Bool) throws(NetlinkError) in
            let spec = config.family.creation(of: .macvtap, name: name, master: master, mac: config.mac, mtu: mtu, up: up,
                                              containerNamespaceFD: attachment.containerNamespaceFD)
            try attachment.masterSocket.createMacvlan(spec)
        }
    }

    /// The steps ADD adds for the character device, run while the link has its temporary name: `settings`
    /// (promiscuity; for an adopted link also MAC and MTU) applied, the device number read from /sys/dev/char,
    /// the record written, the node made; each undone on failure. The result reports the node as the
    /// interface's socketPath (cniVersion 1.1.0; see the README).
    func nodeSteps(_ request: Request, config: MacvtapConfig, record: AttachmentRecord, attachment: Attachment, removesRecord: Bool,
                   settings: @escaping (_ index: Int32) -> LinkChange?) -> LinkAdd.Extras {
        let recordPath = Self.recordPath(config, network: request.config.name, containerID: record.containerID, ifName: record.ifName)
        let host = self.host
        var extras = LinkAdd.Extras()
        extras.prepare = { (link: LinkInfo, rollback: inout Rollback) throws(CNIError) in
            if let change = settings(link.index) {
                do throws(NetlinkError) { try attachment.containerSocket.changeLink(change) } catch { throw error.cni("configuring \(link.name) in \(attachment.containerPath)") }
            }
            guard let device = try TapNode.find(linkName: link.name, index: link.index, in: host.characterDevices()) else {
                throw CNIError(.linkFailure, "the character device of the new macvtap \(link.name) (index \(link.index)) is not listed in /sys/dev/char",
                               details: "the kernel makes one for every macvtap; is /sys a sysfs mount?")
            }
            var complete = record
            complete.device = device
            if removesRecord {
                rollback.register("remove the record \(recordPath)") { () throws(CNIError) in try host.remove(recordPath) }
            }
            try host.write(recordPath, complete.encoded)
            rollback.register("remove the device node \(record.node)") { () throws(CNIError) in try host.remove(record.node) }
            try host.makeNode(at: record.node, device: device, permissions: config.permissions)
        }
        extras.completeInterface = { $0.socketPath = record.node }
        return extras
    }
}
