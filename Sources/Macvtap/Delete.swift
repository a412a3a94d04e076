import CNI
import LinkPlugin
import Netlink

extension MacvtapPlugin {
    /// Best effort, repeatable: an adopted macvtap is given back, a created one deleted (the shared DEL, which
    /// also runs IPAM DEL), the node removed, and the record removed once nothing of the attachment is left
    /// that needs it. Every failure is collected; what is already gone counts as done.
    public func delete(_ request: Request) throws(CNIError) {
        let env = request.environment
        let config = try MacvtapConfig(request)
        // An attachment whose node name could not exist was never added (ADD refuses it): only the link side.
        guard (try? TapNode.validate(containerID: env.containerID, ifName: env.ifName)) != nil else {
            return try bestEffortDelete(request, system: system, temporaryName: Self.temporaryName) { _ in false }
        }
        let recordPath = Self.recordPath(config, network: request.config.name, containerID: env.containerID, ifName: env.ifName)
        var failures: [CNIError] = []
        var record: AttachmentRecord?
        var recordKnown = true
        do { record = try readRecord(recordPath) } catch { failures.append(error); recordKnown = false }
        var recordNeeded = false
        if let record, let adopted = record.adopted {
            do { try giveBackIfPresent(record, adopted: adopted, container: try system.containerRoutesForDelete(env, log: request.log)) } catch {
                failures.append(error)
                recordNeeded = true  // a repeated DEL tries again
            }
        }
        // Never delete a macvtap that may be an adopted one: without a readable record it is left alone.
        let adopted = record?.adopted != nil || !recordKnown
        do {
            try bestEffortDelete(request, system: system, temporaryName: Self.temporaryName) { link in link.kind?.macvlanDevice == .macvtap && !adopted }
        } catch { failures.append(error) }
        do { try host.remove(TapNode.path(containerID: env.containerID, ifName: env.ifName)) } catch { failures.append(error) }
        if recordKnown && !recordNeeded {
            do { try host.remove(recordPath) } catch { failures.append(error) }
        }
        if let failure = combined(failures) { throw failure }
    }
}
