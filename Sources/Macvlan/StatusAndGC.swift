import CNI
import Netlink

extension MacvlanPlugin {
    /// Ready when an ADD could succeed now: the master exists and is up (it lives in containers with
    /// linkInContainer, so it cannot be checked then), and the IPAM plugin says it is ready.
    public func status(_ request: Request) throws(CNIError) {
        let config = try MacvlanConfig(request)
        if !config.linkInContainer {
            let socket: RouteSocket
            do { socket = try RouteSocket() } catch { throw error.cni("opening a netlink socket") }
            let master: LinkInfo
            do { master = try Attachment.findMaster(config.master, socket: socket, whereText: "the plugin's namespace") } catch {
                throw CNIError(.notAvailable, error.message, details: error.details)
            }
            if !master.isUp {
                throw CNIError(.notAvailable, "master \"\(master.name)\" is down", details: "bring it up (ip link set \(master.name) up) before adding containers")
            }
        }
        if let ipam = try ipamPlugin(request) {
            _ = try ipam.run(.status, environment: request.environment, stdin: request.config.bytes)
        }
    }

    /// Our links live in container namespaces, which go away with their containers: nothing of ours outlives
    /// an attachment on the host. The IPAM store does, so GC is forwarded with the valid attachments.
    public func garbageCollect(_ request: Request) throws(CNIError) {
        if let ipam = try ipamPlugin(request) {
            _ = try ipam.run(.gc, environment: request.environment, stdin: request.config.bytes)
        }
    }
}
