import CNI
import Foundation
import JSON
import TestSupport
import Testing

/// The optional per-invocation log (`logFile`, `logLevel`): one JSON line per invocation with the phases' times
/// and the trace context; off by default, never on stdout, and a log that cannot be written never fails a verb.
@Suite(.serialized) struct InvocationLogTests {
    final class Plugin: CNIPlugin {
        var name: String { "logtest" }
        var argKeys: Set<String> { [] }
        func add(_ request: Request) throws(CNIError) -> CNIResult {
            Phases.enter(.link)
            return CNIResult(interfaces: [.init(name: "eth0")])
        }
        func delete(_ request: Request) throws(CNIError) { Phases.enter(.ipam); throw CNIError(.tryAgainLater, "store busy", details: "retry") }
        func check(_ request: Request) throws(CNIError) {}
        func status(_ request: Request) throws(CNIError) {}
        func garbageCollect(_ request: Request) throws(CNIError) {}
    }

    let directory: String = {
        let path = NSTemporaryDirectory() + "cni-log-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()
    var logPath: String { directory + "/plugin.log" }
    var builder: ConfigBuilder { ConfigBuilder().with(["type": "logtest", "logFile": .string(logPath)]).removing("ipam") }

    func records() throws -> [JSONValue] {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return try text.split(separator: "\n").map { try JSONValue.parse(Array($0.utf8)) }
    }

    @Test func oneRecordPerInvocationWithEveryPhase() throws {
        let run = Invocation(Plugin(), .add, builder.env("TRACEPARENT", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
                                                    .env("TRACESTATE", "vendor=1"))
        #expect(run.status == 0)
        #expect(!run.stdout.contains("phases"))  // never on stdout
        let all = try records()
        #expect(all.count == 1)
        let record = try #require(all.first)
        #expect(record["verb"] == "ADD")
        #expect(record["containerID"] == "c1")
        #expect(record["ifname"] == "eth0")
        #expect(record["outcome"] == "ok")
        #expect(record["code"] == .null)
        #expect(record["traceparent"] == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        #expect(record["tracestate"] == "vendor=1")
        let phases = try #require(record["phases"]?.objectValue)
        #expect(phases.map(\.key) == Phase.allCases.map(\.rawValue))
        #expect(phases.allSatisfy { if case .double = $0.value { true } else { false } })
        let time = try #require(record["time"]?.stringValue)
        #expect(time.count == 24 && time.hasSuffix("Z") && time.contains("T"))
    }

    @Test func failuresCarryTheirCodeAndAtDebugTheirMessage() throws {
        #expect(Invocation(Plugin(), .del, builder).status == 1)
        #expect(Invocation(Plugin(), .del, builder.with(["logLevel": "debug"])).status == 1)
        let all = try records()
        #expect(all.map { $0["outcome"] } == ["error", "error"])
        #expect(all.map { $0["code"] } == [.int(11), .int(11)])
        #expect(all[0]["msg"] == nil)
        #expect(all[1]["msg"] == "store busy")
        #expect(all[1]["details"] == "retry")
    }

    @Test func levelErrorRecordsOnlyFailures() throws {
        #expect(Invocation(Plugin(), .add, builder.with(["logLevel": "error"])).status == 0)
        #expect(Invocation(Plugin(), .del, builder.with(["logLevel": "error"])).status == 1)
        #expect(try records().map { $0["verb"] } == ["DEL"])
    }

    @Test func offByDefault() throws {
        #expect(Invocation(Plugin(), .add, builder.removing("logFile")).status == 0)
        #expect(!FileManager.default.fileExists(atPath: logPath))
    }

    @Test(arguments: ["/nonexistent-dir-\(getpid())/x.log", "/proc/version"])
    func unwritableLogNeverFailsTheVerb(_ path: String) throws {
        let run = Invocation(Plugin(), .add, builder.with(["logFile": .string(path)]))
        #expect(run.status == 0)
        #expect(try JSONValue.parse(Array(run.stdout.utf8))["interfaces"] != nil)
        #expect(run.stderr.contains("log file \(path)"))
    }

    @Test(arguments: [["logFile": "relative.log"], ["logLevel": "verbose"], ["logFile": 5]] as [JSONObject])
    func wrongSettingsAreCode7(_ overrides: JSONObject) throws {
        let run = Invocation(Plugin(), .add, builder.with(overrides))
        #expect(run.status == 1)
        #expect(try JSONValue.parse(Array(run.stdout.utf8))["code"] == .int(7))
    }

    @Test func phasesAddUpAndChargeOnePhaseAtATime() {
        var clock = PhaseClock(startup: 2_000_000)  // a clock of its own: other suites' invocations use the process's
        clock.enter(.link)
        var pause = timespec(tv_sec: 0, tv_nsec: 3_000_000)
        nanosleep(&pause, nil)
        clock.enter(.output)
        let ms = Dictionary(uniqueKeysWithValues: clock.milliseconds().map { ($0.0.rawValue, $0.1) })
        #expect(ms["startup"] == 2)
        #expect(ms["link"]! >= 3)
        #expect(ms["ipam"] == 0)
    }
}
