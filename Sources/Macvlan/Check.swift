import CNI
import LinkPlugin
import Netlink

extension MacvlanPlugin {
    /// The shared CHECK, with what is macvlan's: the link is a macvlan in the configured mode on the master.
    public func check(_ request: Request) throws(CNIError) {
        let config = try MacvlanConfig(request)
        try linkCheck(request, system: system, linkInContainer: config.linkInContainer,
                      requestedMTU: config.requestedMTU) { (link: LinkInfo, attachment: Attachment) throws(CNIError) in
            let master = try checkFamilyLink(link, kind: .macvlan, config: config.family, attachment: attachment,
                                             ifName: request.environment.ifName, pciDevices: system.pciDevices, log: request.log)
            if let hostAccess = config.hostAccess, let master {
                try checkHostAccess(hostAccess, request: request, master: master, link: link, attachment: attachment)
            }
        }
    }
}
