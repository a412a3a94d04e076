import CNI
import LinkPlugin
import NetTypes
import Netlink

extension MacvlanPlugin {
    /// Validates the config and finds the master, then the shared ADD with one RTM_NEWLINK from the master's
    /// namespace straight into the container (IFLA_NET_NS_FD), mode always sent.
    public func add(_ request: Request) throws(CNIError) -> CNIResult {
        let config = try MacvlanConfig(request)
        let previous = try request.config.decodedPrevResult()
        let ipam = try system.ipam(request)
        let attachment = try system.attach(request, linkInContainer: config.linkInContainer)
        let master = try attachment.findMaster(config.master, childKind: "macvlan", pciDevices: system.pciDevices, log: request.log)
        let mtu = try config.mtu(forMaster: master.name, masterMTU: master.mtu)
        var add = LinkAdd(request: request, attachment: attachment, ipam: ipam, temporaryName: Self.temporaryName,
                          describe: "a \(config.mode.configName) macvlan on \(master.name)")
        // The MAC the kernel would choose (random, unicast, locally administered), chosen here so that nothing
        // has to be read back; a passthru child takes its master's MAC whatever is sent, so the kernel's is read.
        let mac = config.mode == .passthru ? config.mac : (config.mac ?? .randomLocallyAdministered())
        let shape = LinkShape(mac: config.mode == .passthru ? nil : mac, mtu: mtu ?? master.mtu)
        add.ipv6 = config.ipv6
        let create = { (name: InterfaceName, up: Bool) throws(NetlinkError) in
            let spec = config.family.creation(of: .macvlan, name: name, master: master, mac: mac, mtu: mtu, up: up,
                                              containerNamespaceFD: attachment.containerNamespaceFD)
            try attachment.masterSocket.createMacvlan(spec)
        }
        guard let hostAccess = config.hostAccess else { return try add.run(previous: previous, shape: shape, create: create) }
        return try add.run(previous: previous, shape: shape, create: create) { (link, assigned, rollback: inout Rollback) throws(CNIError) in
            try setUpHostAccess(hostAccess, request: request, master: master, link: link, addresses: assigned.ips.map(\.address),
                                attachment: attachment, rollback: &rollback)
        }
    }
}
