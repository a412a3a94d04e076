import CNI
import Netlink

extension MacvlanPlugin {
    /// Ready (exit 0) whenever an ADD could succeed now; code 50 only for what makes ADD fail. The master must
    /// exist and be usable as a parent (it lives in containers with linkInContainer, so it cannot be checked
    /// then); a master that is merely down still takes ADDs, so that is a note on stderr, not an error. Config
    /// errors keep their own code (7): they are not a matter of availability. The IPAM plugin has its say last.
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
                StandardIO.log("STATUS: master \"\(master.name)\" is down; ADD works, but containers get no traffic until it is up (ip link set \(master.name) up)")
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
