/// `CNI_ARGS`: "K=V;K=V". Keys this plugin or its IPAM understand are accepted; any other key is an error
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
        for segment in text.split(separator: ";", omittingEmptySubsequences: true) {
            guard let eq = segment.firstIndex(of: "="), eq != segment.startIndex else {
                throw CNIError(.invalidEnvironment, "CNI_ARGS entry \"\(segment)\" is not KEY=VALUE",
                               details: "CNI_ARGS is a ';'-separated list of KEY=VALUE pairs")
            }
            pairs.append((String(segment[..<eq]), String(segment[segment.index(after: eq)...])))
        }
        self.pairs = pairs
        let ignoreUnknown = try Self.ignoreUnknown(in: pairs)
        if !ignoreUnknown, let unknown = pairs.first(where: { !Self.knownKeys.contains($0.key) }) {
            throw CNIError(.invalidEnvironment, "CNI_ARGS key \"\(unknown.key)\" is not known",
                           details: "known keys: \(Self.knownKeys.sorted().joined(separator: ", ")); set IgnoreUnknown=1 to allow others")
        }
    }

    private static func ignoreUnknown(in pairs: [(key: String, value: String)]) throws(CNIError) -> Bool {
        guard let value = pairs.last(where: { $0.key == "IgnoreUnknown" })?.value else { return false }
        switch value.lowercased() {
        case "1", "true": return true
        case "0", "false", "": return false
        default: throw CNIError(.invalidEnvironment, "CNI_ARGS IgnoreUnknown=\"\(value)\" is not a boolean", details: "use 1, true, 0 or false")
        }
    }

    public subscript(key: String) -> String? { pairs.last { $0.key == key }?.value }

    public static func == (a: CNIArgs, b: CNIArgs) -> Bool {
        a.pairs.count == b.pairs.count && zip(a.pairs, b.pairs).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}
