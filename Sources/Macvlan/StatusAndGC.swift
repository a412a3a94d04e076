import CNI
import LinkPlugin
import Netlink

extension MacvlanPlugin {
    /// Ready (exit 0) whenever an ADD could succeed now; code 50 only for what makes ADD fail. The master must
    /// exist and be usable as a parent (it lives in containers with linkInContainer, so it cannot be checked
    /// then); a master that is merely down still takes ADDs, so that is a note on stderr, not an error. Config
    /// errors keep their own code (7): they are not a matter of availability. The IPAM plugin has its say last.
    public func status(_ request: Request) throws(CNIError) {
        let config = try MacvlanConfig(request)
        // With masterFromPrevResult the master is made by an earlier plugin at ADD: nothing to look for yet.
        if !config.linkInContainer, !config.master.isKnownOnlyAtAdd {
            let socket = try system.ownRoutes()
            let master: LinkInfo
            do {
                master = try Attachment.findMaster(config.master, socket: socket, whereText: "the plugin's namespace", childKind: "macvlan",
                                                   pciDevices: system.pciDevices, log: request.log)
            } catch {
                throw CNIError(.notAvailable, error.message, details: error.details)
            }
            if !master.isUp {
                request.log("STATUS: master \"\(master.name)\" is down; ADD works, but containers get no traffic until it is up (ip link set \(master.name) up)")
            }
        }
        try forwardStatus(request, ipam: try system.ipam(request))
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
