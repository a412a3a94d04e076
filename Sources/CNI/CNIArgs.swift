import NetTypes

/// `CNI_ARGS`: "K=V;K=V", split on bytes as libcni does. Keys the runtimes send, keys of the standard IPAM
/// plugins and the keys the plugin declares are accepted; any other key is an error unless `IgnoreUnknown` is
/// true, as libcni-era plugins agree.
public struct CNIArgs: Sendable, Equatable {
    public let pairs: [(key: String, value: String)]

    /// Keys any invocation may carry: the runtimes' and the static IPAM's (IP, GATEWAY).
    public static let commonKeys: Set<String> = [
        "IgnoreUnknown", "IP", "GATEWAY",
        "K8S_POD_NAMESPACE", "K8S_POD_NAME", "K8S_POD_INFRA_CONTAINER_ID", "K8S_POD_UID",
    ]

    /// `pluginKeys`: the keys the plugin itself reads (e.g. MAC).
    public init(parsing text: String, pluginKeys: Set<String> = []) throws(CNIError) {
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
        let knownKeys = Self.commonKeys.union(pluginKeys)
        if !ignoreUnknown, let unknown = pairs.first(where: { pair in !knownKeys.contains { $0.bytesEqual(pair.key) } }) {
            throw CNIError(.invalidEnvironment, "CNI_ARGS key \"\(unknown.key)\" is not known",
                           details: "known keys: \(knownKeys.sorted().joined(separator: ", ")); set IgnoreUnknown=1 to allow others")
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
