import CNI
import NetTypes

/// `macPrefix`: a MAC that is the same every time the same pod attaches the same interface (DHCP reservations,
/// licence-bound software), and different for other pods. The prefix (1 to 5 bytes, unicast and locally
/// administered, so it can never collide with a vendor's address) is followed by the leading bytes of a hash
/// of the pod's identity and CNI_IFNAME.
public struct MACPrefix: Sendable, Equatable {
    public let bytes: [UInt8]

    /// Reads `macPrefix` ("02:aa:bb"); nil when absent or empty. Code 7 naming key and value otherwise.
    public init?(reading reader: ConfigReader) throws(CNIError) {
        guard let text = try reader.string("macPrefix"), !text.isEmpty else { return nil }
        let key = reader.name("macPrefix")
        var bytes: [UInt8] = []
        for part in text.split(onByte: UInt8(ascii: ":"), omittingEmpty: false) {
            guard part.utf8.count == 2, let byte = UInt8(part, radix: 16) else {
                throw CNIError(.invalidConfig, "\"\(key)\" \"\(text)\" is not a MAC prefix",
                               details: "expected 1 to 5 hexadecimal bytes separated by ':', such as 02:42:0a")
            }
            bytes.append(byte)
        }
        guard (1...5).contains(bytes.count) else {
            throw CNIError(.invalidConfig, "\"\(key)\" \"\(text)\" has \(bytes.count) bytes",
                           details: "a prefix has 1 to 5 bytes; the rest of the 6 comes from the pod's identity")
        }
        guard bytes[0] & 0x01 == 0 else {
            throw CNIError(.invalidConfig, "\"\(key)\" \"\(text)\" is a multicast prefix",
                           details: "the lowest bit of the first byte must be 0 (unicast), e.g. 02:...")
        }
        guard bytes[0] & 0x02 != 0 else {
            throw CNIError(.invalidConfig, "\"\(key)\" \"\(text)\" is not locally administered",
                           details: "the second-lowest bit of the first byte must be 1 (e.g. 02, 06, 0a, ...) so it cannot collide with a vendor's address")
        }
        self.bytes = bytes
    }

    /// The MAC for this attachment: the prefix, then the leading bytes of FNV-1a(pod identity, CNI_IFNAME).
    public func mac(for env: Environment) -> MACAddress {
        let hash = FNV1a.hash([Self.podIdentity(env), env.ifName.text])
        let suffix = (0..<(6 - bytes.count)).map { UInt8(truncatingIfNeeded: hash >> UInt64(56 - 8 * $0)) }
        return MACAddress(bytes: bytes + suffix)!
    }

    /// "namespace/name" when the runtime says which pod this is (stable across the pod's sandbox restarts),
    /// otherwise the container ID.
    static func podIdentity(_ env: Environment) -> String {
        if let namespace = env.args["K8S_POD_NAMESPACE"], let name = env.args["K8S_POD_NAME"], !namespace.isEmpty, !name.isEmpty {
            return "pod:\(namespace)/\(name)"
        }
        return "container:\(env.containerID)"
    }
}
