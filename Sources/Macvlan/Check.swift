import CNI
import LinkPlugin
import Netlink

extension MacvlanPlugin {
    /// The shared CHECK, with what is macvlan's: the link is a macvlan in the configured mode on the master.
    public func check(_ request: Request) throws(CNIError) {
        let env = request.environment
        let config = try MacvlanConfig(request)
        try linkCheck(request, system: system, linkInContainer: config.linkInContainer,
                      requestedMTU: config.requestedMTU) { (link: LinkInfo, attachment: Attachment) throws(CNIError) in
            guard link.kind?.macvlanDevice == .macvlan else {
                throw drift("\(env.ifName) is a \(link.kind?.description ?? "kind-less") interface, expected macvlan")
            }
            if link.kind?.macvlanMode != config.mode {
                throw drift("\(env.ifName) is in \(link.kind?.macvlanMode?.configName ?? "unknown") mode, the config says \(config.mode.configName)")
            }
            let master = try attachment.findMaster(config.master, childKind: "macvlan", pciDevices: system.pciDevices, log: request.log)
            // The kernel reports a link-netns id exactly when the parent lives in another namespace.
            let parentElsewhere = link.linkNetnsID != nil
            if link.parentIndex != master.index || parentElsewhere == config.linkInContainer {
                throw drift("\(env.ifName) is not a child of master \(master.name)")
            }
            if let hostAccess = config.hostAccess {
                try checkHostAccess(hostAccess, request: request, master: master, link: link, attachment: attachment)
            }
        }
    }
}
