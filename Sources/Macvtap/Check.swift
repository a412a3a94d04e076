import CNI
import LinkPlugin
import NetTypes
import Netlink

extension MacvtapPlugin {
    /// The shared CHECK, with what is macvtap's: kind, mode and master (an adopted macvtap without "master"
    /// keeps the parent it came with), promiscuity, and the node: present, a character device whose number
    /// is this link's in /sys/dev/char and the one ADD recorded, with the configured owner, group and mode.
    public func check(_ request: Request) throws(CNIError) {
        let env = request.environment
        let config = try MacvtapConfig(request)
        let record = try readRecord(Self.recordPath(config, network: request.config.name, containerID: env.containerID, ifName: env.ifName))
        try linkCheck(request, system: system, linkInContainer: config.linkInContainer,
                      requestedMTU: config.requestedMTU) { (link: LinkInfo, attachment: Attachment) throws(CNIError) in
            try checkFamilyLink(link, kind: .macvtap, config: config.family, attachment: attachment, ifName: env.ifName,
                                checkMaster: record?.adopted == nil || config.master.isGiven,
                                pciDevices: system.pciDevices, log: request.log)
            let promiscuous = link.flags.contains(.promiscuous)
            if promiscuous != config.promiscuous {
                throw drift("\(env.ifName) is \(promiscuous ? "" : "not ")promiscuous, the config says \"promisc\": \(config.promiscuous)")
            }
            try checkNode(of: link, ifName: env.ifName, config: config, record: record)
        }
    }

    private func checkNode(of link: LinkInfo, ifName: InterfaceName, config: MacvtapConfig, record: AttachmentRecord?) throws(CNIError) {
        guard let record else { throw drift("no record of this attachment in \(config.stateDirectory); was it added by this plugin?") }
        let path = record.node
        guard let node = try host.node(at: path) else { throw drift("the device node \(path) is missing") }
        guard node.isCharacterDevice else { throw drift("\(path) is not a character device") }
        let target = try host.characterDevices().first { $0.name == node.device.description }?.target
        guard let target, TapNode.belongs(target, to: ifName, index: link.index) else {
            throw drift("\(path) is device \(node.device), which is \(target.map { "not \(ifName)'s (sysfs: \($0))" } ?? "no device at all")")
        }
        if let recorded = record.device, recorded != node.device {
            throw drift("\(path) is device \(node.device), ADD made it for \(recorded)")
        }
        let wanted = config.permissions
        if node.owner != wanted.owner || node.group != wanted.group || node.mode != wanted.mode {
            let actual = NodePermissions(owner: node.owner, group: node.group, mode: node.mode)
            throw drift("\(path) has owner \(node.owner), group \(node.group), mode \(actual.modeText); the config says \(wanted.owner), \(wanted.group), \(wanted.modeText)")
        }
    }
}
