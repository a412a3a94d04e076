import Glibc
import JSON
import SystemCall

/// The optional per-invocation log of every plugin: config keys `logFile` (an absolute path; JSON lines, one
/// record per invocation, appended) and `logLevel` ("error": failed invocations only; "info", the default:
/// every invocation; "debug": also the error's message and details). Off unless `logFile` is set; never on
/// stdout (that is the runtime's); a log that cannot be written never fails the verb (one line on stderr).
/// The record: time, verb, container ID, ifname, outcome, error code, the duration of each phase (`Phases`),
/// and the W3C trace context the runtime passed (TRACEPARENT/TRACESTATE, which reach the IPAM unchanged with
/// the rest of our environment).
public struct InvocationLog: Sendable {
    public enum Level: String, Sendable { case error, info, debug }

    public let path: String
    public let level: Level

    /// nil when the config asks for no log. Wrong values are config errors (code 7), found before anything runs.
    public static func settings(_ config: NetworkConfig) throws(CNIError) -> InvocationLog? {
        let reader = config.reader
        let levelText = try reader.string("logLevel") ?? ""
        guard let level = levelText.isEmpty ? Level.info : Level(rawValue: levelText) else {
            throw CNIError(.invalidConfig, "\"logLevel\" \"\(levelText)\" is not a log level", details: "use error, info or debug")
        }
        guard let path = try reader.string("logFile"), !path.isEmpty else { return nil }
        guard path.utf8.first == UInt8(ascii: "/"), !path.utf8.contains(0) else {
            throw CNIError(.invalidConfig, "\"logFile\" \"\(path)\" is not an absolute path", details: "give the full path of the file to append records to")
        }
        return InvocationLog(path: path, level: level)
    }

    /// The record of one invocation as a JSON line.
    public static func record(time: timespec, command: Command, environment: [(String, String)], error: CNIError?,
                              level: Level, phases: [(Phase, Double)]) -> String {
        func variable(_ name: String) -> JSONValue {
            environment.last { $0.0.utf8.elementsEqual(name.utf8) }.map { .string($0.1) } ?? .null
        }
        var object = JSONObject([("time", .string(utcText(time))), ("verb", .string(command.rawValue)),
                                 ("containerID", variable("CNI_CONTAINERID")), ("ifname", variable("CNI_IFNAME")),
                                 ("outcome", .string(error == nil ? "ok" : "error")),
                                 ("code", error.map { .int(Int64($0.code.rawValue)) } ?? .null)])
        if level == .debug, let error {
            object["msg"] = .string(error.message)
            if !error.details.isEmpty { object["details"] = .string(error.details) }
        }
        object["phases"] = .object(JSONObject(phases.map { ($0.0.rawValue, .double(($0.1 * 1000).rounded() / 1000)) }))
        object["traceparent"] = variable("TRACEPARENT")
        object["tracestate"] = variable("TRACESTATE")
        return JSONValue.object(object).serialized(indent: 0) + "\n"
    }

    /// Appends one record with a single write (O_APPEND: concurrent plugins do not interleave lines). Returns
    /// what went wrong, for one line on stderr; never throws.
    public func append(_ line: String, error: CNIError?) -> String? {
        if level == .error && error == nil { return nil }
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0o600)
        guard fd >= 0 else { return "cannot open log file \(path): \(errnoText(errno))" }
        defer { close(fd) }
        let bytes = Array(line.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        return written == bytes.count ? nil : "cannot write log file \(path): \(written < 0 ? errnoText(errno) : "short write")"
    }

    /// 2026-12-03T10:00:00.123Z
    static func utcText(_ time: timespec) -> String {
        var seconds = time.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(time.tv_nsec / 1_000_000), 3))Z"
    }
}
