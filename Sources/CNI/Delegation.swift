import CProcess
import Glibc
import JSON
import NetTypes
import SystemCall

/// A plugin this one hands work to (the IPAM plugin): found by bare name in CNI_PATH, executed directly with
/// posix_spawn (no shell), given our environment with only CNI_COMMAND changed and the whole config on stdin.
/// This is the exec implementation of the IPAM protocol: every verb is one execution of the binary.
public struct DelegatedPlugin: IPAM, Sendable {
    public let type: String
    public let executable: String
    /// The codes failures of the execution itself are reported with (the plugin layer's, 100 and up).
    public let codes: DelegationCodes

    /// How long a delegated plugin may run. DHCP can take several seconds (the daemon backs off); anything
    /// beyond this is a hang, and a runtime waiting on us deserves an answer.
    public static let defaultTimeoutMilliseconds: Int32 = 120_000
    /// Cleanup after a failure gets less: it must not turn one failure into a second hang.
    public static let cleanupTimeoutMilliseconds: Int32 = 20_000

    /// Looks `type` up in each directory of CNI_PATH in order; the first regular, executable file wins.
    public static func find(_ type: String, in directories: [String], codes: DelegationCodes) throws(CNIError) -> DelegatedPlugin {
        guard NetworkConfig.isBareName(type) else {
            throw CNIError(.invalidConfig, "plugin type \"\(type)\" is not a bare file name")
        }
        guard !directories.isEmpty else {
            throw CNIError(.invalidConfig, "cannot find IPAM plugin \"\(type)\": CNI_PATH has no absolute directory",
                           details: "set CNI_PATH to the directories holding CNI plugins, e.g. /opt/cni/bin")
        }
        for directory in directories {
            let candidate = directory.hasByteSuffix(UInt8(ascii: "/")) ? directory + type : directory + "/" + type
            var info = stat()
            if stat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 {
                return DelegatedPlugin(type: type, executable: candidate, codes: codes)
            }
        }
        throw CNIError(.invalidConfig, "cannot find IPAM plugin \"\(type)\" in CNI_PATH",
                       details: "searched \(directories.joined(separator: ":")) for an executable file named \(type)")
    }

    /// Runs the plugin and returns its stdout on success. A non-zero exit becomes the plugin's own error
    /// (its code kept) when it printed one, else code 103. With `interruptible`, a SIGTERM to us kills the
    /// child and throws code 104 so the caller can roll back.
    func run(_ command: Command, environment: Environment, stdin: [UInt8],
             timeoutMilliseconds: Int32 = defaultTimeoutMilliseconds, interruptible: Bool = true) throws(CNIError) -> [UInt8] {
        try spawn(command, environment: environment, stdin: stdin)
            .finish(timeoutMilliseconds: timeoutMilliseconds, interruptible: interruptible)
    }

    /// A started execution: its pid and the read end of its stdout (owned; closed once it is finished).
    final class Running {
        let plugin: DelegatedPlugin
        let what: String
        let pid: pid_t
        let output: Int32
        private var reaped = false

        init(plugin: DelegatedPlugin, what: String, pid: pid_t, output: Int32) {
            self.plugin = plugin
            self.what = what
            self.pid = pid
            self.output = output
        }

        deinit {
            if !reaped { kill(pid, SIGKILL); _ = plugin.reap(pid) }  // never leave a child behind
            close(output)
        }

        /// Waits for it (bounded) and returns its stdout on success; see `run`.
        func finish(timeoutMilliseconds: Int32 = DelegatedPlugin.defaultTimeoutMilliseconds, interruptible: Bool = true) throws(CNIError) -> [UInt8] {
            reaped = true  // collect reaps it on every path
            let codes = plugin.codes
            let status = try plugin.collect(pid: pid, output: output, timeout: timeoutMilliseconds, interruptible: interruptible, what: what)
            if status.truncated {
                throw CNIError(codes.unusableResult, "the answer of \(what) is too large: more than \(DelegatedPlugin.outputLimit) bytes (1 MiB) on stdout",
                               details: "a CNI result is a few KiB, so it was not read; \(status.exitCode.map { "the plugin exited with status \($0)" } ?? "the plugin was killed by signal \(status.signal)")")
            }
            if status.exitCode == 0 { return status.stdout }
            if let error = DelegatedPlugin.pluginError(in: status.stdout) {
                throw CNIError(error.code, "\(what) failed: \(error.message)", details: error.details)
            }
            let printed = String(decoding: status.stdout.prefix(200), as: UTF8.self)
            throw CNIError(codes.executionFailure, "\(what) \(status.exitCode.map { "exited with status \($0)" } ?? "was killed by signal \(status.signal)")",
                           details: printed.isEmpty ? "it printed nothing on stdout" : "stdout: \(printed)")
        }
    }

    /// Starts the plugin with the config in an in-memory file as stdin and a pipe as stdout.
    func spawn(_ command: Command, environment: Environment, stdin: [UInt8]) throws(CNIError) -> Running {
        let what = "\(command.rawValue) of IPAM plugin \(type)"
        let input = cs_memfd("cni-stdin")
        guard input >= 0 else { throw CNIError(.ioFailure, "\(what): cannot create its stdin: \(errnoText(errno))") }
        defer { close(input) }
        var written = 0
        while written < stdin.count {
            let n = retryingEINTR { stdin.withUnsafeBytes { write(input, $0.baseAddress! + written, $0.count - written) } }
            if n <= 0 { throw CNIError(.ioFailure, "\(what): cannot write its stdin: \(errnoText(errno))") }
            written += n
        }
        lseek(input, 0, SEEK_SET)

        var pipeFDs: [Int32] = [-1, -1]
        guard cs_pipe_cloexec(&pipeFDs) == 0 else { throw CNIError(.ioFailure, "\(what): pipe failed: \(errnoText(errno))") }

        var pid: pid_t = 0
        let spawnResult = withCStrings([executable]) { argv in
            withCStrings(environmentEntries(environment, command: command)) { envp in
                cs_spawn(executable, argv, envp, input, pipeFDs[1], &pid)
            }
        }
        close(pipeFDs[1])
        guard spawnResult == 0 else {
            close(pipeFDs[0])
            throw CNIError(codes.executionFailure, "\(what) could not be started: \(errnoText(spawnResult))", details: executable)
        }
        return Running(plugin: self, what: what, pid: pid, output: pipeFDs[0])
    }

    /// Executes ADD and reads the result it returns, in whatever version it answers.
    public func add(_ request: Request) throws(CNIError) -> CNIResult {
        try decodeAdd(try run(.add, environment: request.environment, stdin: request.config.bytes), config: request.config)
    }

    /// ADD started now, read when finished: the link is created while the IPAM runs.
    public func startAdd(_ request: Request) throws(CNIError) -> PendingIPAM<CNIResult> {
        let running = try spawn(.add, environment: request.environment, stdin: request.config.bytes)
        let config = request.config
        return PendingIPAM { () throws(CNIError) in try self.decodeAdd(try running.finish(), config: config) }
    }

    public func startCheck(_ request: Request) throws(CNIError) -> PendingIPAM<Void> {
        let running = try spawn(.check, environment: request.environment, stdin: request.config.bytes)
        return PendingIPAM { () throws(CNIError) in _ = try running.finish() }
    }

    private func decodeAdd(_ stdout: [UInt8], config: NetworkConfig) throws(CNIError) -> CNIResult {
        let value: JSONValue
        do { value = try JSONValue.parse(stdout) } catch {
            throw CNIError(.decodingFailure, "ADD of IPAM plugin \(type) printed something that is not JSON: \(error)",
                           details: "stdout: \(String(decoding: stdout.prefix(200), as: UTF8.self))")
        }
        do { return try CNIResult.decode(value, defaultVersion: config.cniVersion) } catch {
            if let address = error.unusableAddress {
                throw CNIError(codes.unusableResult, "IPAM plugin \(type) returned address \(address), which cannot be an interface address",
                               details: error.message)
            }
            throw CNIError(.decodingFailure, "ADD of IPAM plugin \(type) returned a result that cannot be read: \(error.message)")
        }
    }

    /// The most of a delegated plugin's stdout we keep (1 MiB, as for our own stdin); the rest is drained so the
    /// child can finish, and the answer is refused as too large.
    public static let outputLimit = StandardIO.inputLimit

    /// A rollback's DEL gets less time and is not cut short by a signal: it must not turn one failure into a
    /// second hang, and it is the undo a signal asked for.
    public func delete(_ request: Request, rollback: Bool) throws(CNIError) {
        _ = try run(.del, environment: request.environment, stdin: request.config.bytes,
                    timeoutMilliseconds: rollback ? Self.cleanupTimeoutMilliseconds : Self.defaultTimeoutMilliseconds, interruptible: false)
    }

    public func check(_ request: Request) throws(CNIError) { _ = try run(.check, environment: request.environment, stdin: request.config.bytes) }
    public func status(_ request: Request) throws(CNIError) { _ = try run(.status, environment: request.environment, stdin: request.config.bytes) }
    public func garbageCollect(_ request: Request) throws(CNIError) { _ = try run(.gc, environment: request.environment, stdin: request.config.bytes) }

    struct Exit { var stdout: [UInt8]; var truncated: Bool; var exitCode: Int32?; var signal: Int32 }

    func collect(pid: pid_t, output: Int32, timeout: Int32, interruptible: Bool, what: String) throws(CNIError) -> Exit {
        let pidfd = cs_pidfd_open(pid)
        defer { if pidfd >= 0 { close(pidfd) } }
        var stdout: [UInt8] = []
        var truncated = false
        var chunk = [UInt8](repeating: 0, count: 16384)
        var outputOpen = true
        var exited = false
        var deadline = monotonicMilliseconds() + Int64(timeout)
        while outputOpen || !exited {
            var fds = [pollfd(fd: outputOpen ? output : -1, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: exited ? -1 : pidfd, events: Int16(POLLIN), revents: 0)]
            let remaining = deadline - monotonicMilliseconds()
            if remaining <= 0 {
                kill(pid, SIGKILL)
                _ = reap(pid)
                throw CNIError(codes.executionFailure, "\(what) did not finish within \(timeout / 1000) s and was killed")
            }
            let ready = retryingEINTR(untilTerminated: { interruptible && Signals.terminated }) {
                poll(&fds, 2, Int32(min(remaining, Int64(Int32.max))))
            }
            if ready < 0 {
                guard errno == EINTR else { break }
                kill(pid, SIGKILL)
                _ = reap(pid)
                throw CNIError(codes.interrupted, "\(what) was interrupted: this plugin received signal \(Signals.terminationSignal)")
            }
            if fds[0].revents != 0 {
                let n = retryingEINTR { chunk.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) } }
                if n > 0 {
                    if stdout.count + n <= Self.outputLimit { stdout += chunk[0..<n] } else { truncated = true }
                } else {
                    outputOpen = false
                }
            }
            if pidfd < 0 || fds[1].revents != 0 {
                exited = true
                // A grandchild may still hold the pipe: once the child is gone, give its output a moment only.
                if outputOpen { deadline = min(deadline, monotonicMilliseconds() + 1000) }
            }
        }
        let status = reap(pid)
        let signal = status & 0x7F
        return Exit(stdout: stdout, truncated: truncated, exitCode: signal == 0 ? (status >> 8) & 0xFF : nil, signal: signal)
    }

    func reap(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        _ = retryingEINTR { waitpid(pid, &status, 0) }
        return status
    }

    /// The child's environment: ours, with CNI_COMMAND replaced.
    private func environmentEntries(_ environment: Environment, command: Command) -> [String] {
        environment.variables.filter { !$0.0.bytesEqual("CNI_COMMAND") }.map { "\($0.0)=\($0.1)" } + ["CNI_COMMAND=\(command.rawValue)"]
    }

    static func pluginError(in stdout: [UInt8]) -> CNIError? {
        guard let object = (try? JSONValue.parse(stdout))?.objectValue,
              let code = object[field: "code"]?.intValue, code > 0, code <= Int64(Int32.max) else { return nil }
        return CNIError(.init(rawValue: Int(code)), object[field: "msg"]?.stringValue ?? "(no message)", details: object[field: "details"]?.stringValue ?? "")
    }
}

func monotonicMilliseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

/// Calls `body` with a NULL-terminated C array of C strings that live for the duration of the call.
func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    let pointers = strings.map { strdup($0) }
    defer { pointers.forEach { free($0) } }
    return body(pointers + [nil])
}
