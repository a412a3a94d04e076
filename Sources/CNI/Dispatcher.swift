import CProcess
import Glibc
import JSON

/// One invocation, validated: the environment and the config.
public struct Request {
    public let environment: Environment
    public let config: NetworkConfig
    /// The invocation's log (its error stream, prefixed with the plugin's name).
    public let log: Log
    public init(environment: Environment, config: NetworkConfig, log: Log) {
        self.environment = environment
        self.config = config
        self.log = log
    }
}

/// What a main plugin implements; the dispatcher does everything the spec says around it.
public protocol CNIPlugin {
    /// The plugin's name (its `type`), the prefix of its log lines.
    var name: String { get }
    /// The CNI_ARGS keys it reads, beyond those every plugin accepts (CNIArgs.commonKeys).
    var argKeys: Set<String> { get }
    func add(_ request: Request) throws(CNIError) -> CNIResult
    func delete(_ request: Request) throws(CNIError)
    func check(_ request: Request) throws(CNIError)
    func status(_ request: Request) throws(CNIError)
    func garbageCollect(_ request: Request) throws(CNIError)
}

/// Where one invocation's input comes from and its output goes: the process's descriptors, or (in tests)
/// bytes and closures.
public struct InvocationIO {
    public var variables: [(String, String)]
    public var readInput: () throws(CNIError) -> StandardIO.ReadOutcome
    public var writeOutput: (String) -> Void
    public var writeError: (String) -> Void

    public init(variables: [(String, String)], readInput: @escaping () throws(CNIError) -> StandardIO.ReadOutcome,
                writeOutput: @escaping (String) -> Void, writeError: @escaping (String) -> Void) {
        self.variables = variables
        self.readInput = readInput
        self.writeOutput = writeOutput
        self.writeError = writeError
    }

    /// The process's own environment and descriptors 0, 1 and 2.
    public static func process() -> InvocationIO {
        InvocationIO(variables: StandardIO.environment(), readInput: { () throws(CNIError) in try StandardIO.readAll(fd: 0) },
                     writeOutput: { StandardIO.write($0, fd: 1) }, writeError: { StandardIO.write($0, fd: 2) })
    }
}

public enum Dispatcher {
    /// Runs one invocation in this process, as the executable: termination signals are recorded (so an ADD
    /// can roll back), then `run(_:io:)` with the process's descriptors.
    public static func main(_ plugin: some CNIPlugin) -> Int32 {
        let startup = Phases.processCPUNanoseconds()  // what the process cost before main
        cs_install_termination_handlers()
        return run(plugin, io: .process(), startupNanoseconds: startup)
    }

    /// Runs one invocation and returns the exit status. Results go to stdout; errors go to stdout as CNI error
    /// JSON (runtimes parse stdout), with a copy on stderr for people reading logs.
    public static func run(_ plugin: some CNIPlugin, io: InvocationIO, startupNanoseconds: Int64 = 0) -> Int32 {
        Phases.reset(startup: startupNanoseconds)
        Phases.enter(.config)
        let log = Log(prefix: plugin.name, sink: io.writeError)
        let variables = io.variables
        var errorVersion = SpecVersion.latest
        var record: InvocationLog?   // the per-invocation record (config key logFile), when asked for
        var recordedCommand: Command?
        do throws(CNIError) {
            let command = try Environment.command(from: variables)
            let input: [UInt8]
            switch try io.readInput() {
            case let .complete(bytes): input = bytes
            case .tooLarge:
                throw CNIError(.decodingFailure, "the network config on stdin is larger than \(StandardIO.inputLimit) bytes", details: "this limit protects the node; real configs are a few KiB")
            }
            if command == .version { return answerVersion(input, io) }
            let (object, version) = try NetworkConfig.version(of: input)
            errorVersion = version
            let environment = try Environment.load(variables, command: command, pluginArgKeys: plugin.argKeys)
            try gate(command, version)
            let request = Request(environment: environment, config: try NetworkConfig(bytes: input, object: object, version: version), log: log)
            record = try InvocationLog.settings(request.config)
            recordedCommand = command
            switch command {
            case .add:
                let result = try plugin.add(request)
                Phases.enter(.output)
                io.writeOutput(try result.json(version: version).serialized() + "\n")
            case .del: try plugin.delete(request)
            case .check: try plugin.check(request)
            case .status: try plugin.status(request)
            case .gc: try plugin.garbageCollect(request)
            case .version: break
            }
            writeRecord(record, command: recordedCommand, variables: variables, error: nil, log: log)
            return 0
        } catch {
            Phases.enter(.output)
            io.writeOutput(error.json(version: errorVersion.description).serialized() + "\n")
            log("error \(error.code.rawValue): \(error)")
            writeRecord(record, command: recordedCommand, variables: variables, error: error, log: log)
            return 1
        }
    }

    /// The invocation's record, when the config asked for one; a failure to write it is only reported on stderr.
    static func writeRecord(_ record: InvocationLog?, command: Command?, variables: [(String, String)], error: CNIError?, log: Log) {
        guard let record, let command else { return }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let line = InvocationLog.record(time: now, command: command, environment: variables, error: error,
                                        level: record.level, phases: Phases.milliseconds())
        if let problem = record.append(line, error: error) { log("\(problem); the \(command.rawValue) itself is unaffected") }
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

    /// Built with a plain loop: the generic `joined(separator:)` looked its element type up by mangled name at
    /// run time, a quarter of a VERSION call's instructions (callgrind).
    static let supportedVersionsJSON: String = {
        var list = ""
        for version in SpecVersion.supported {
            if !list.isEmpty { list += "," }
            list += "\"" + version.description + "\""
        }
        return #","supportedVersions":["# + list + "]}\n"
    }()

    /// VERSION echoes the version the caller speaks (spec), and lists ours.
    static func answerVersion(_ input: [UInt8], _ io: InvocationIO) -> Int32 {
        var asked = SpecVersion.latest.description
        if !input.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x09 || $0 == 0x0D }) {
            guard let object = (try? JSONValue.parse(input))?.objectValue else {
                let error = CNIError(.decodingFailure, "VERSION: stdin is not a JSON object")
                io.writeOutput(error.json(version: asked).serialized() + "\n")
                return 1
            }
            if let v = object[field: "cniVersion"]?.stringValue, !v.isEmpty { asked = v }
        }
        // Runtimes call VERSION before every ADD and DEL: the constant part is written as text, only the echoed
        // version goes through the JSON encoder (it came from the caller and may need escaping).
        io.writeOutput(#"{"cniVersion":"# + JSONValue.string(asked).serialized(indent: 0) + supportedVersionsJSON)
        return 0
    }
}
