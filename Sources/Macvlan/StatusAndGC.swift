import CNI
import LinkPlugin

extension MacvlanPlugin {
    /// The macvlan family's STATUS (master usable, IPAM ready).
    public func status(_ request: Request) throws(CNIError) {
        try familyStatus(request, config: try MacvlanConfig(request).family, kind: "macvlan", system: system)
    }

    public func garbageCollect(_ request: Request) throws(CNIError) {
        try forwardGarbageCollection(request, ipam: try system.ipam(request))
    }
}
