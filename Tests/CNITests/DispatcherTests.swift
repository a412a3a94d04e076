import CNI
import JSON
import TestSupport
import Testing

/// The dispatcher with injected I/O: what it does around any plugin.
@Suite struct DispatcherTests {
    /// A plugin that records which verb reached it.
    final class Recorder: CNIPlugin {
        var verbs: [String] = []
        var name: String { "recorder" }
        var argKeys: Set<String> { ["COLOUR"] }
        func add(_ request: Request) throws(CNIError) -> CNIResult { verbs.append("ADD"); return CNIResult(interfaces: [.init(name: "eth0")]) }
        func delete(_ request: Request) throws(CNIError) { verbs.append("DEL") }
        func check(_ request: Request) throws(CNIError) { verbs.append("CHECK") }
        func status(_ request: Request) throws(CNIError) { verbs.append("STATUS"); throw CNIError(.notAvailable, "not today") }
        func garbageCollect(_ request: Request) throws(CNIError) { verbs.append("GC") }
    }

    let builder = ConfigBuilder().with(["type": "recorder"]).removing("master")

    @Test func addPrintsTheResultInTheConfigsVersion() throws {
        let plugin = Recorder()
        let run = Invocation(plugin, .add, builder.with(["cniVersion": "0.4.0"]))
        #expect(run.status == 0)
        #expect(plugin.verbs == ["ADD"])
        #expect(try JSONValue.parse(Array(run.stdout.utf8))["cniVersion"] == "0.4.0")
    }

    @Test func errorsGoToStdoutAsJSONWithACopyOnStderrPrefixedWithThePluginsName() throws {
        let run = Invocation(Recorder(), .status, builder.with(["cniVersion": "1.1.0"]))
        #expect(run.status == 1)
        let error = try JSONValue.parse(Array(run.stdout.utf8))
        #expect(error["code"] == .int(50))
        #expect(error["cniVersion"] == "1.1.0")
        #expect(run.stderr.hasPrefix("recorder: error 50"))
    }

    @Test func pluginArgKeysAreAccepted() {
        #expect(Invocation(Recorder(), .add, builder.env("CNI_ARGS", "COLOUR=blue")).status == 0)
        #expect(Invocation(Recorder(), .add, builder.env("CNI_ARGS", "MAC=02:00:00:00:00:01")).status == 1)  // not this plugin's
    }

    @Test func versionNeedsNoPluginCall() throws {
        let plugin = Recorder()
        let run = Invocation(plugin, .version, builder, stdin: Array(#"{"cniVersion":"0.4.0"}"#.utf8))
        #expect(run.status == 0)
        #expect(plugin.verbs.isEmpty)
        #expect(try JSONValue.parse(Array(run.stdout.utf8))["cniVersion"] == "0.4.0")
    }

    @Test func checkBelow040NeverReachesThePlugin() {
        let plugin = Recorder()
        #expect(Invocation(plugin, .check, builder.with(["cniVersion": "0.3.1"])).status == 1)
        #expect(plugin.verbs.isEmpty)
    }

    @Test func undecodableStdinIsCode6() throws {
        let run = Invocation(Recorder(), .add, builder, stdin: Array("{not json".utf8))
        #expect(try JSONValue.parse(Array(run.stdout.utf8))["code"] == .int(6))
    }

    @Test func delAndGCReachThePlugin() {
        let plugin = Recorder()
        #expect(Invocation(plugin, .del, builder).status == 0)
        #expect(Invocation(plugin, .gc, builder.with(["cniVersion": "1.1.0"])).status == 0)
        #expect(plugin.verbs == ["DEL", "GC"])
    }
}
