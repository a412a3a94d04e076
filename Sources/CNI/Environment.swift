import NetTypes

/// The CNI verbs.
public enum Command: String, Sendable, CaseIterable {
    case add = "ADD", del = "DEL", check = "CHECK", status = "STATUS", gc = "GC", version = "VERSION"
}

/// The `CNI_*` variables, validated per the spec's rules, plus the whole environment for delegation.
public struct Environment: Sendable {
    public let command: Command
    public let containerID: String
    public let netns: String
    /// CNI_IFNAME, validated; nil for STATUS, GC and VERSION, which name no interface (libcni sends it empty).
    public let interfaceName: InterfaceName?
    public let args: CNIArgs
    /// Absolute directories from CNI_PATH; relative and empty entries are dropped (they would resolve against
    /// whatever directory the runtime happened to start us in).
    public let path: [String]
    /// Every variable we were started with, passed on unchanged (but for CNI_COMMAND) to delegated plugins.
    public let variables: [(String, String)]

    public static func command(from variables: [(String, String)]) throws(CNIError) -> Command {
        guard let text = lookup("CNI_COMMAND", variables), !text.isEmpty else {
            throw CNIError(.invalidEnvironment, "CNI_COMMAND is not set",
                           details: "expected one of \(Command.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let command = Command.allCases.first(where: { $0.rawValue.bytesEqual(text) }) else {
            throw CNIError(.invalidEnvironment, "CNI_COMMAND \"\(text)\" is not a CNI command",
                           details: "expected one of \(Command.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return command
    }

    /// Validates what `command` needs. STATUS and GC need nothing beyond the command (libcni sends empty
    /// container ID, netns and interface for them); DEL may have an empty netns.
    /// `pluginArgKeys`: the CNI_ARGS keys the plugin reads, beyond the common ones (see CNIArgs).
    public static func load(_ variables: [(String, String)], command: Command, pluginArgKeys: Set<String> = []) throws(CNIError) -> Environment {
        let containerID = lookup("CNI_CONTAINERID", variables) ?? ""
        let netns = lookup("CNI_NETNS", variables) ?? ""
        var ifName: InterfaceName?
        switch command {
        case .add, .check, .del:
            try validateContainerID(containerID)
            ifName = try validateInterfaceName(lookup("CNI_IFNAME", variables) ?? "", variable: "CNI_IFNAME")
            if command != .del, netns.isEmpty {
                throw CNIError(.invalidEnvironment, "CNI_NETNS is not set", details: "\(command.rawValue) needs the container's network namespace path")
            }
        case .status, .gc, .version:
            break
        }
        let args = try CNIArgs(parsing: lookup("CNI_ARGS", variables) ?? "", pluginKeys: pluginArgKeys)
        let path = (lookup("CNI_PATH", variables) ?? "").split(onByte: UInt8(ascii: ":"), omittingEmpty: true)
            .filter { $0.hasBytePrefix(UInt8(ascii: "/")) }
        return Environment(command: command, containerID: containerID, netns: netns, interfaceName: ifName,
                           args: args, path: path, variables: variables)
    }

    /// CNI_IFNAME of an ADD, CHECK or DEL, which `load` refuses without a valid one.
    public var ifName: InterfaceName {
        guard let interfaceName else { preconditionFailure("CNI_IFNAME read by \(command.rawValue), which has none") }
        return interfaceName
    }

    static func lookup(_ name: String, _ variables: [(String, String)]) -> String? {
        variables.last { $0.0.bytesEqual(name) }?.1
    }

    /// Spec: non-empty, starts alphanumeric, then alphanumerics, '_', '.', '-'.
    public static func validateContainerID(_ id: String) throws(CNIError) {
        guard !id.isEmpty else { throw CNIError(.invalidEnvironment, "CNI_CONTAINERID is not set") }
        guard isValidIdentifier(id) else {
            throw CNIError(.invalidEnvironment, "CNI_CONTAINERID \"\(id)\" is invalid",
                           details: "it must start with a letter or digit and contain only letters, digits, '_', '.' and '-'")
        }
    }

    /// The spec's rule for container IDs and network names.
    public static func isValidIdentifier(_ text: String) -> Bool {
        guard let first = text.utf8.first, isAlphanumeric(first) else { return false }
        return text.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    private static func isAlphanumeric(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }

    /// Spec (and kernel): non-empty, at most 15 bytes, not "." or "..", no '/', ':' or whitespace. Stricter than
    /// the kernel, only printable ASCII: a name that renders like another ("eth0" with a Cyrillic "е") or that
    /// tools print differently is an accident or an attack, never what a runtime means.
    /// The one interface-name rule (InterfaceName), in words.
    public static func interfaceNameProblem(_ name: String) -> String? { InterfaceName.problem(name) }

    public static func validateInterfaceName(_ name: String, variable: String) throws(CNIError) -> InterfaceName {
        if name.isEmpty { throw CNIError(.invalidEnvironment, "\(variable) is not set") }
        guard let valid = InterfaceName(name) else {
            throw CNIError(.invalidEnvironment, "\(variable) \"\(name)\" is not a valid interface name",
                           details: interfaceNameProblem(name) ?? "")
        }
        return valid
    }
}
