import CNI
import LinkPlugin

extension MacvtapPlugin {
    /// The macvlan family's STATUS (master usable, IPAM ready); with `deviceID` and no `master` there is no
    /// master to look for (the device plugin makes the macvtap, possibly only when a pod is placed).
    public func status(_ request: Request) throws(CNIError) {
        let config = try MacvtapConfig(request)
        try familyStatus(request, config: config.family, kind: "macvtap", system: system,
                         checkMaster: config.deviceID == nil || config.master.isGiven)
    }

    /// The IPAM's GC, then this network's records: for every attachment not in `cni.dev/valid-attachments`,
    /// an adopted macvtap is given back (if its container still exists), the node and the record removed.
    /// Without the key nothing is collected.
    public func garbageCollect(_ request: Request) throws(CNIError) {
        let config = try MacvtapConfig(request)
        var failures: [CNIError] = []
        do { try forwardGarbageCollection(request, ipam: try system.ipam(request)) } catch { failures.append(error) }
        if let valid = try request.config.validAttachments() {
            let directory = "\(config.stateDirectory)/\(request.config.name)"
            for name in try host.list(directory) where !name.hasPrefix(".") {
                do { try collect("\(directory)/\(name)", keeping: valid, log: request.log) } catch { failures.append(error) }
            }
        }
        if let failure = combined(failures) { throw failure }
    }

    private func collect(_ path: String, keeping valid: Set<AttachmentID>, log: Log) throws(CNIError) {
        let found: AttachmentRecord?
        do { found = try readRecord(path) } catch {
            // Not ours to interpret: reported, and left for a person rather than failing every GC from now on.
            log("GC: \(error.message); skipped")
            return
        }
        guard let record = found else { return }
        if valid.contains(AttachmentID(containerID: record.containerID, ifName: record.ifName.text)) { return }
        if let adopted = record.adopted {
            try giveBackIfPresent(record, adopted: adopted, container: try host.routes(inNamespace: record.netns))
        }
        try host.remove(record.node)
        try host.remove(path)
        log("GC: removed \(record.node) of \(record.containerID)/\(record.ifName)\(record.adopted.map { " and gave back \($0.name)" } ?? "")")
    }
}
