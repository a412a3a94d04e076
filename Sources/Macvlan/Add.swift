import CNI
import LinkPlugin
import Netlink

extension MacvlanPlugin {
    /// Validates the config and finds the master, then the shared ADD with one RTM_NEWLINK from the master's
    /// namespace straight into the container (IFLA_NET_NS_FD), mode always sent.
    public func add(_ request: Request) throws(CNIError) -> CNIResult {
        let config = try MacvlanConfig(request)
        let previous = try request.config.decodedPrevResult()
        let ipam = try system.ipam(request)
        let attachment = try system.attach(request, linkInContainer: config.linkInContainer)
        let master = try attachment.findMaster(config.master, childKind: "macvlan", pciDevices: system.pciDevices)
        let mtu = try config.mtu(forMaster: master.name, masterMTU: master.mtu)
        var add = LinkAdd(request: request, attachment: attachment, ipam: ipam, temporaryName: Self.temporaryName,
                          describe: "a \(config.mode.configName) macvlan on \(master.name)")
        add.ipv6 = config.ipv6
        return try add.run(previous: previous) { (name: String) throws(NetlinkError) in
            var spec = MacvlanRequest(name: name, parentIndex: master.index, mode: config.mode)
            spec.mac = config.mac
            spec.mtu = mtu
            spec.broadcastQueueLength = config.broadcastQueueLength
            spec.broadcastCutoff = config.broadcastCutoff
            spec.transmitQueues = config.transmitQueues
            spec.receiveQueues = config.receiveQueues
            spec.namespaceFD = config.linkInContainer ? nil : attachment.containerNamespaceFD
            try attachment.masterSocket.createMacvlan(spec)
        }
    }
}
