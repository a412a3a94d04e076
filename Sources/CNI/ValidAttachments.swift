import JSON

/// One attachment a runtime still uses, as GC's `cni.dev/valid-attachments` lists it.
public struct AttachmentID: Hashable, Sendable {
    public let containerID: String
    public let ifName: String
    public init(containerID: String, ifName: String) {
        self.containerID = containerID
        self.ifName = ifName
    }
}

extension NetworkConfig {
    static let validAttachmentsKey = "cni.dev/valid-attachments"

    /// GC: the attachments the runtime still uses; nil when the key is absent (then nothing may be collected).
    /// Entries are objects with `containerID` and `ifname`; anything else is code 7 naming the entry.
    public func validAttachments() throws(CNIError) -> Set<AttachmentID>? {
        guard let entries = try reader.array(Self.validAttachmentsKey) else { return nil }
        var attachments: Set<AttachmentID> = []
        for (i, entry) in entries.enumerated() {
            guard let containerID = entry[field: "containerID"]?.stringValue, let ifName = entry[field: "ifname"]?.stringValue else {
                throw CNIError(.invalidConfig, "\"\(Self.validAttachmentsKey)\"[\(i)] is not an object with string \"containerID\" and \"ifname\"",
                               details: "got \(entry.serialized(indent: 0).prefix(80))")
            }
            attachments.insert(AttachmentID(containerID: containerID, ifName: ifName))
        }
        return attachments
    }
}
