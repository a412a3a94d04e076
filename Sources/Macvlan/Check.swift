import CNI
import LinkPlugin
import Netlink

extension MacvlanPlugin {
    /// The shared CHECK, with what is macvlan's: the link is a macvlan in the configured mode on the master.
    public func check(_ request: Request) throws(CNIError) {
        let config = try MacvlanConfig(request)
        try linkCheck(request, system: system, linkInContainer: config.linkInContainer,
                      requestedMTU: config.requestedMTU) { (link: LinkInfo, attachment: Attachment) throws(CNIError) in
            try checkFamilyLink(link, kind: .macvlan, config: config.family, attachment: attachment, ifName: request.environment.ifName)
        }
    }
}
