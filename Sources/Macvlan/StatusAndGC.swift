import CNI
import LinkPlugin

extension MacvlanPlugin {
    /// The macvlan family's STATUS (master usable, IPAM ready).
    public func status(_ request: Request) throws(CNIError) {
        try familyStatus(request, config: try MacvlanConfig(request).family, kind: "macvlan", system: system)
    }

    /// What outlives an attachment on the host is the IPAM store (GC is forwarded) and, with hostAccess, host
    /// routes, their records and shims. Both are attempted; the first failure is returned.
    public func garbageCollect(_ request: Request) throws(CNIError) {
        var failure: CNIError?
        do { try collectHostAccess(request) } catch { failure = error }
        do { try forwardGarbageCollection(request, ipam: try system.ipam(request)) } catch { failure = failure ?? error }
        if let failure { throw failure }
    }
}
