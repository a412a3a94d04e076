/// The client's DUID and IAID, derived only from the attachment's identity string (the daemon passes the same
/// client identity the reference uses for DHCPv4: container ID, network name and interface name), so that a
/// restarted daemon, or the plugin releasing on its own, presents the same identity to the server and the
/// server keeps handing out the same address.
///
/// Choice: DUID-UUID (RFC 8415 §11.5, type 4) holding a name-based UUID (RFC 9562 version 5, SHA-1) of the
/// identity in the fixed namespace below. A DUID-LL/LLT would follow the interface's MAC, which is random for
/// macvlan/macvtap and changes on every ADD; a DUID-EN would need an IANA enterprise number we do not own.
/// The IAID is the last 4 bytes of that UUID: one IA_NA per attachment, stable as long as the identity is.
public struct ClientIdentity: Equatable, Sendable {
    public let duid: [UInt8]
    public let iaid: UInt32

    /// UUID namespace of this project's DHCPv6 client identities (a random UUID fixed once; never change it,
    /// or every container gets a new DUID and a new address).
    static let namespace: [UInt8] = [0x5b, 0x0c, 0x7e, 0x1a, 0x93, 0x4d, 0x4f, 0x6e, 0xa1, 0x2f, 0x6d, 0x68, 0x63, 0x70, 0x76, 0x36]

    public init(identity: String) {
        let uuid = Self.nameBasedUUID(namespace: Self.namespace, name: identity)
        duid = [0x00, 0x04] + uuid
        iaid = uuid[12...].reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// RFC 9562 §5.5: SHA-1 of namespace and name, truncated to 16 bytes, with version 5 and the RFC variant.
    static func nameBasedUUID(namespace: [UInt8], name: String) -> [UInt8] {
        var uuid = Array(SHA1.hash(namespace + Array(name.utf8)).prefix(16))
        uuid[6] = uuid[6] & 0x0F | 0x50
        uuid[8] = uuid[8] & 0x3F | 0x80
        return uuid
    }

    /// The UUID inside the DUID, in its usual text form (for logs).
    public var uuidText: String {
        let uuid = Array(duid.dropFirst(2))
        return [0..<4, 4..<6, 6..<8, 8..<10, 10..<16].map { hexText(Array(uuid[$0])) }.joined(separator: "-")
    }
}
