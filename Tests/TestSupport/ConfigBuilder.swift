import CNI
import JSON

/// One config builder with overrides, instead of copied JSON templates: a macvlan network on eth0 with
/// host-local IPAM, any key replaced or (with `.null`... use `removing`) removed.
public struct ConfigBuilder {
    public var object: JSONObject = ["cniVersion": "1.0.0", "name": "net", "type": "macvlan", "master": "eth0",
                                     "ipam": ["type": "host-local", "subnet": "10.0.0.0/24"]]
    public var environment: [(String, String)] = [("CNI_CONTAINERID", "c1"), ("CNI_NETNS", "/var/run/netns/c1"),
                                                  ("CNI_IFNAME", "eth0"), ("CNI_PATH", "/opt/cni/bin")]

    public init() {}

    public func with(_ overrides: JSONObject) -> ConfigBuilder {
        var copy = self
        for (key, value) in overrides { copy.object[key] = value }
        return copy
    }

    public func removing(_ keys: String...) -> ConfigBuilder {
        var copy = self
        for key in keys { copy.object[key] = nil }
        return copy
    }

    public func env(_ name: String, _ value: String) -> ConfigBuilder {
        var copy = self
        copy.environment.removeAll { $0.0 == name }
        copy.environment.append((name, value))
        return copy
    }

    public var bytes: [UInt8] { Array(JSONValue.object(object).serialized(indent: 0).utf8) }

    public func variables(_ command: Command) -> [(String, String)] { environment + [("CNI_COMMAND", command.rawValue)] }

    /// The validated request a plugin's verb receives.
    public func request(_ command: Command, argKeys: Set<String> = ["MAC"]) throws(CNIError) -> Request {
        let (parsed, version) = try NetworkConfig.version(of: bytes)
        let environment = try Environment.load(variables(command), command: command, pluginArgKeys: argKeys)
        return Request(environment: environment, config: try NetworkConfig(bytes: bytes, object: parsed, version: version), log: .standardError(prefix: "test"))
    }
}
