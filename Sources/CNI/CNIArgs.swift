import NetTypes

/// `CNI_ARGS`: "K=V;K=V", split on bytes as libcni does. Keys this plugin or its IPAM understand are accepted; any other key is an error
/// unless `IgnoreUnknown` is true, as libcni-era plugins agree.
public struct CNIArgs: Sendable, Equatable {
    public let pairs: [(key: String, value: String)]

    /// Keys a macvlan invocation may carry: ours (MAC), the static IPAM's (IP, GATEWAY) and the runtimes'.
    public static let knownKeys: Set<String> = [
        "IgnoreUnknown", "MAC", "IP", "GATEWAY",
        "K8S_POD_NAMESPACE", "K8S_POD_NAME", "K8S_POD_INFRA_CONTAINER_ID", "K8S_POD_UID",
    ]

    public init(parsing text: String) throws(CNIError) {
        var pairs: [(key: String, value: String)] = []
        for segment in text.split(onByte: UInt8(ascii: ";"), omittingEmpty: true) {
            guard let (key, value) = segment.split(atFirstByte: UInt8(ascii: "=")), !key.isEmpty else {
                throw CNIError(.invalidEnvironment, "CNI_ARGS entry \"\(segment)\" is not KEY=VALUE",
                               details: "CNI_ARGS is a ';'-separated list of KEY=VALUE pairs")
            }
            pairs.append((key, value))
        }
        self.pairs = pairs
        let ignoreUnknown = try Self.ignoreUnknown(in: pairs)
        if !ignoreUnknown, let unknown = pairs.first(where: { pair in !Self.knownKeys.contains { $0.bytesEqual(pair.key) } }) {
            throw CNIError(.invalidEnvironment, "CNI_ARGS key \"\(unknown.key)\" is not known",
                           details: "known keys: \(Self.knownKeys.sorted().joined(separator: ", ")); set IgnoreUnknown=1 to allow others")
        }
    }

    private static func ignoreUnknown(in pairs: [(key: String, value: String)]) throws(CNIError) -> Bool {
        guard let value = pairs.last(where: { $0.key.bytesEqual("IgnoreUnknown") })?.value else { return false }
        switch Array(value.lowercased().utf8) {
        case Array("1".utf8), Array("true".utf8): return true
        case Array("0".utf8), Array("false".utf8), []: return false
        default: throw CNIError(.invalidEnvironment, "CNI_ARGS IgnoreUnknown=\"\(value)\" is not a boolean", details: "use 1, true, 0 or false")
        }
    }

    public subscript(key: String) -> String? { pairs.last { $0.key.bytesEqual(key) }?.value }

    public static func == (a: CNIArgs, b: CNIArgs) -> Bool {
        a.pairs.count == b.pairs.count && zip(a.pairs, b.pairs).allSatisfy { $0.key.bytesEqual($1.key) && $0.value.bytesEqual($1.value) }
    }
}
