import DHCPService

/// `dhcp daemon` flags: the reference's (Go `flag` syntax: `-name value`, `-name=value`, `--name`; durations
/// as Go writes them, "10s", "1m30s") plus `-statedir`.
public struct DaemonOptions: Equatable, Sendable {
    public var socketPath = DHCPConfig.defaultSocketPath
    public var pidfile: String?
    /// Prefix of the host's root as the daemon sees it (daemon in a container): applied to the socket path and
    /// to every namespace path a plugin sends.
    public var hostPrefix = ""
    /// How long an ADD may wait for a lease unless the network's config says otherwise.
    public var timeout: Double = 10
    /// The longest retransmission interval while acquiring.
    public var resendMax: Double = 62
    /// Ask servers to broadcast their replies. Our exchange sockets receive broadcasts before the address is
    /// configured, so acquisition always sets the flag; the option is accepted for compatibility.
    public var broadcast = false
    public var stateDirectory = DHCPConfig.defaultStateDirectory

    public init() {}

    public struct UsageError: Error, Equatable, Sendable, CustomStringConvertible {
        public let description: String
    }

    public static let usage = """
        usage: dhcp daemon [-socketpath PATH] [-pidfile PATH] [-hostprefix PATH] [-timeout DURATION]
                           [-resendmax DURATION] [-broadcast] [-statedir DIR]
        """

    public init(arguments: [String]) throws(UsageError) {
        var i = 0
        func value(_ name: String, inline: String?) throws(UsageError) -> String {
            if let inline { return inline }
            i += 1
            guard i < arguments.count else { throw UsageError(description: "flag needs an argument: -\(name)\n\(Self.usage)") }
            return arguments[i]
        }
        func duration(_ name: String, _ text: String) throws(UsageError) -> Double {
            guard let seconds = GoDuration.seconds(text), seconds > 0 else {
                throw UsageError(description: "invalid value \"\(text)\" for flag -\(name): expected a duration like 10s or 1m30s")
            }
            return seconds
        }
        while i < arguments.count {
            var arg = Substring(arguments[i])
            guard arg.hasPrefix("-"), arg != "-" else { throw UsageError(description: "unexpected argument \"\(arg)\"\n\(Self.usage)") }
            arg = arg.dropFirst(arg.hasPrefix("--") ? 2 : 1)
            var inline: String?
            if let eq = arg.firstIndex(of: "=") { inline = String(arg[arg.index(after: eq)...]); arg = arg[..<eq] }
            let name = String(arg)
            switch name {
            case "socketpath": socketPath = try value(name, inline: inline)
            case "pidfile": pidfile = try value(name, inline: inline)
            case "hostprefix": hostPrefix = try value(name, inline: inline)
            case "statedir": stateDirectory = try value(name, inline: inline)
            case "timeout": timeout = try duration(name, try value(name, inline: inline))
            case "resendmax": resendMax = try duration(name, try value(name, inline: inline))
            case "broadcast":
                switch inline {
                case nil, "true", "1", "t", "T", "TRUE", "True": broadcast = true
                case "false", "0", "f", "F", "FALSE", "False": broadcast = false
                default: throw UsageError(description: "invalid boolean value \"\(inline!)\" for -broadcast")
                }
            case "h", "help": throw UsageError(description: Self.usage)
            default: throw UsageError(description: "flag provided but not defined: -\(name)\n\(Self.usage)")
            }
            i += 1
        }
        if socketPath.isEmpty { socketPath = DHCPConfig.defaultSocketPath }
        if let pidfile, !pidfile.hasPrefix("/") {
            throw UsageError(description: "-pidfile \"\(pidfile)\": path not absolute")
        }
        guard stateDirectory.hasPrefix("/") else { throw UsageError(description: "-statedir \"\(stateDirectory)\": path not absolute") }
    }

    /// Where the socket really is (the reference prefixes it with -hostprefix).
    public var effectiveSocketPath: String { hostPrefix + socketPath }
}
