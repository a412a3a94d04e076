import CNI
import DHCPv4
import JSON

/// The `ipam` section of a network using `"type": "dhcp"`: the reference's keys (`daemonSocketPath`, `request`,
/// `provide`, `priority`) plus ours (`timeout`, `stateDir`, `dhcpv6`). Read by the plugin (to fail early with
/// code 7) and by the daemon (which acts on it).
public struct DHCPConfig: Sendable, Equatable {
    public static let defaultSocketPath = "/run/cni/dhcp.sock"
    public static let defaultStateDirectory = "/var/lib/cni/dhcp"

    public var socketPath = defaultSocketPath
    public var stateDirectory = defaultStateDirectory
    public var requestedOptions: [UInt8] = OptionNames.defaultRequested
    /// Options sent to the server: code and value (a literal, or a CNI_ARGS value by key).
    public var providedOptions: [(code: UInt8, value: String?, fromArg: String?)] = []
    /// Route metric for the routes the lease brings.
    public var priority: Int?
    /// How long ADD may wait for a lease, in seconds; nil = the daemon's -timeout.
    public var timeout: Double?
    public var dhcpv6Enabled = false
    public var dhcpv6PrefixLength = 64

    public init() {}

    public static func == (a: DHCPConfig, b: DHCPConfig) -> Bool {
        a.socketPath == b.socketPath && a.stateDirectory == b.stateDirectory && a.requestedOptions == b.requestedOptions
            && a.providedOptions.elementsEqual(b.providedOptions, by: { $0.code == $1.code && $0.value == $1.value && $0.fromArg == $1.fromArg })
            && a.priority == b.priority && a.timeout == b.timeout && a.dhcpv6Enabled == b.dhcpv6Enabled
            && a.dhcpv6PrefixLength == b.dhcpv6PrefixLength
    }

    public init(network object: JSONObject) throws(CNIError) {
        let top = ConfigReader(object)
        guard let ipam = try top.reader("ipam") else { return }
        if let path = try ipam.string("daemonSocketPath"), !path.isEmpty {
            guard path.hasPrefix("/") else {
                throw CNIError(.invalidConfig, "\"ipam.daemonSocketPath\" must be an absolute path, got \"\(path)\"")
            }
            socketPath = path
        }
        if let dir = try ipam.string("stateDir"), !dir.isEmpty {
            guard dir.hasPrefix("/") else {
                throw CNIError(.invalidConfig, "\"ipam.stateDir\" must be an absolute path, got \"\(dir)\"")
            }
            stateDirectory = dir
        }
        if let entries = try ipam.array("request") {
            var skipDefault = false
            var codes: [UInt8] = []
            for (i, entry) in entries.enumerated() {
                guard let object = entry.objectValue else { throw ipam.wrongType("request", expected: "an array of objects") }
                let item = ConfigReader(object, path: ipam.name("request[\(i)]"))
                if try item.bool("skipDefault") == true { skipDefault = true }
                if let name = try item.string("option") {
                    guard let code = OptionNames.code(name) else { throw Self.unknownOption(name, item) }
                    if !codes.contains(code) { codes.append(code) }
                }
            }
            requestedOptions = skipDefault ? codes : codes + OptionNames.defaultRequested.filter { !codes.contains($0) }
        }
        if let entries = try ipam.array("provide") {
            for (i, entry) in entries.enumerated() {
                guard let object = entry.objectValue else { throw ipam.wrongType("provide", expected: "an array of objects") }
                let item = ConfigReader(object, path: ipam.name("provide[\(i)]"))
                guard let name = try item.string("option") else {
                    throw CNIError(.invalidConfig, "\"\(item.name("option"))\" is missing")
                }
                guard let code = OptionNames.code(name) else { throw Self.unknownOption(name, item) }
                let value = try item.string("value")
                if let value, value.utf8.count > 255 {
                    throw CNIError(.invalidConfig, "\"\(item.name("value"))\" is \(value.utf8.count) bytes; a DHCP option holds at most 255")
                }
                providedOptions.append((code, value.flatMap { $0.isEmpty ? nil : $0 }, try item.string("fromArg")))
            }
        }
        if let p = try ipam.integer("priority", in: 0...Int64(UInt32.max)) { priority = Int(p) }
        if let t = ipam.object["timeout"], !t.isNull {
            timeout = try Self.seconds(t, name: ipam.name("timeout"))
        }
        if let v6 = try ipam.reader("dhcpv6") {
            dhcpv6Enabled = try v6.bool("enabled") ?? false
            if let length = try v6.integer("prefixLength", in: 1...128) { dhcpv6PrefixLength = Int(length) }
        }
    }

    static func unknownOption(_ name: String, _ item: ConfigReader) -> CNIError {
        CNIError(.invalidConfig, "\"\(item.name("option"))\": unknown DHCP option \"\(name)\"",
                 details: "use a number 1-254 or one of " + OptionNames.knownNames.joined(separator: ", "))
    }

    /// A timeout: seconds as a number, or a Go duration string ("30s", "1m30s") as the daemon flags take.
    static func seconds(_ value: JSONValue, name: String) throws(CNIError) -> Double {
        let parsed: Double?
        switch value {
        case let .int(i): parsed = Double(i)
        case let .double(d): parsed = d
        case let .string(s): parsed = GoDuration.seconds(s)
        default: parsed = nil
        }
        guard let parsed, parsed > 0, parsed <= 3600 else {
            throw CNIError(.invalidConfig, "\"\(name)\" must be a number of seconds or a duration like \"30s\" (at most 1 h), got \(value.serialized(indent: 0))")
        }
        return parsed
    }

    /// The provided options with their CNI_ARGS values filled in (an argument wins over a literal, as in the
    /// reference); options whose value is empty are left out.
    public func resolvedProvidedOptions(args: CNIArgs) throws(CNIError) -> [DHCPv4Option] {
        var out: [DHCPv4Option] = []
        for option in providedOptions {
            var value = option.value
            if let key = option.fromArg, let fromArgs = args[key] {
                guard fromArgs.utf8.count <= 255 else {
                    throw CNIError(.invalidConfig, "CNI_ARGS \(key) is \(fromArgs.utf8.count) bytes; DHCP option \(option.code) holds at most 255")
                }
                value = fromArgs
            }
            if let value, !value.isEmpty { out.append(DHCPv4Option(code: option.code, value: Array(value.utf8))) }
        }
        return out
    }
}

/// Go's time.ParseDuration subset the daemon flags use: a sequence of number+unit (h, m, s, ms, us, ns).
public enum GoDuration {
    public static func seconds(_ text: String) -> Double? {
        var rest = Substring(text)
        guard !rest.isEmpty else { return nil }
        if rest == "0" { return 0 }
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { ($0 >= "0" && $0 <= "9") || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { !(($0 >= "0" && $0 <= "9") || $0 == ".") }
            rest = rest.dropFirst(unit.count)
            let scale: Double
            switch unit {
            case "h": scale = 3600
            case "m": scale = 60
            case "s": scale = 1
            case "ms": scale = 1e-3
            case "us", "µs": scale = 1e-6
            case "ns": scale = 1e-9
            default: return nil
            }
            total += value * scale
        }
        return total
    }
}
