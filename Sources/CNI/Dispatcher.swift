import CSupport
import JSON

/// One invocation, validated: the environment and the config.
public struct Request: Sendable {
    public let environment: Environment
    public let config: NetworkConfig
    public init(environment: Environment, config: NetworkConfig) { self.environment = environment; self.config = config }
}

/// What a main plugin implements; the dispatcher does everything the spec says around it.
public protocol CNIPlugin {
    func add(_ request: Request) throws(CNIError) -> CNIResult
    func delete(_ request: Request) throws(CNIError)
    func check(_ request: Request) throws(CNIError)
    func status(_ request: Request) throws(CNIError)
    func garbageCollect(_ request: Request) throws(CNIError)
}

public enum Dispatcher {
    /// Runs one invocation and returns the exit status. Results go to stdout; errors go to stdout as CNI error
    /// JSON (runtimes parse stdout), with a copy on stderr for people reading logs.
    public static func run(_ plugin: some CNIPlugin, variables: [(String, String)] = StandardIO.environment(), stdinFD: Int32 = 0) -> Int32 {
        cs_install_termination_handlers()
        var errorVersion = SpecVersion.latest
        do throws(CNIError) {
            let command = try Environment.command(from: variables)
            let input: [UInt8]
            switch try StandardIO.readAll(fd: stdinFD) {
            case let .complete(bytes): input = bytes
            case .tooLarge:
                throw CNIError(.decodingFailure, "the network config on stdin is larger than \(StandardIO.inputLimit) bytes", details: "this limit protects the node; real configs are a few KiB")
            }
            if command == .version { return answerVersion(input) }
            let (object, version) = try NetworkConfig.version(of: input)
            errorVersion = version
            let environment = try Environment.load(variables, command: command)
            try gate(command, version)
            let request = Request(environment: environment, config: try NetworkConfig(bytes: input, object: object, version: version))
            switch command {
            case .add:
                let result = try plugin.add(request)
                StandardIO.write(try result.json(version: version).serialized() + "\n", fd: 1)
            case .del: try plugin.delete(request)
            case .check: try plugin.check(request)
            case .status: try plugin.status(request)
            case .gc: try plugin.garbageCollect(request)
            case .version: break
            }
            return 0
        } catch {
            StandardIO.write(error.json(version: errorVersion.description).serialized() + "\n", fd: 1)
            StandardIO.log("error \(error.code.rawValue): \(error)")
            return 1
        }
    }

    /// CHECK arrived in 0.4.0, STATUS and GC in 1.1.0.
    static func gate(_ command: Command, _ version: SpecVersion) throws(CNIError) {
        let needed: SpecVersion? = switch command {
        case .check: .v0_4_0
        case .status, .gc: .v1_1_0
        default: nil
        }
        if let needed, version < needed {
            throw CNIError(.incompatibleVersion, "\(command.rawValue) needs cniVersion \(needed) or later, the config says \(version)")
        }
    }

    static let supportedVersionsJSON = #","supportedVersions":["# + SpecVersion.supported.map { "\"\($0)\"" }.joined(separator: ",") + "]}\n"

    /// VERSION echoes the version the caller speaks (spec), and lists ours.
    static func answerVersion(_ input: [UInt8]) -> Int32 {
        var asked = SpecVersion.latest.description
        if !input.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x09 || $0 == 0x0D }) {
            guard let object = (try? JSONValue.parse(input))?.objectValue else {
                let error = CNIError(.decodingFailure, "VERSION: stdin is not a JSON object")
                StandardIO.write(error.json(version: asked).serialized() + "\n", fd: 1)
                return 1
            }
            if let v = object[field: "cniVersion"]?.stringValue, !v.isEmpty { asked = v }
        }
        // Runtimes call VERSION before every ADD and DEL: the constant part is written as text, only the echoed
        // version goes through the JSON encoder (it came from the caller and may need escaping).
        StandardIO.write(#"{"cniVersion":"# + JSONValue.string(asked).serialized(indent: 0) + supportedVersionsJSON, fd: 1)
        return 0
    }
}
