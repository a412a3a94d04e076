import Foundation
import NetTypes
import Testing
@testable import HostAccess

@Suite struct StateStoreTests {
    func record(_ id: String, network: String = "n1", shim: String = "mvh-m0") -> AttachmentRecord {
        AttachmentRecord(key: AttachmentKey(network: network, containerID: id, ifName: "eth0"), master: "m0", shim: shim,
                         routes: [HostRoute(destination: IPPrefix("10.9.0.10/32")!, source: nil)])
    }

    @Test func writeReadReplaceRemove() throws {
        let dir = TempDir()
        let store = StateStore(root: dir.path + "/deep/state")   // created on demand
        let a = record("a")
        #expect(try store.read(a.key) == nil)
        try store.write(a)
        #expect(try store.read(a.key) == a)
        var b = a
        b.routes = []
        try store.write(b)
        #expect(try store.read(a.key) == b)
        #expect(dir.files() == ["deep/state/n1/a:eth0"])   // no temporary file left
        try store.remove(a.key)
        try store.remove(a.key)   // idempotent
        #expect(try store.read(a.key) == nil)
        #expect(dir.files().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/deep/state/n1"))   // empty network directory removed
    }

    @Test func recordsPerNetworkAndAll() throws {
        let dir = TempDir()
        let store = StateStore(root: dir.path)
        for r in [record("a"), record("b"), record("c", network: "n2")] { try store.write(r) }
        #expect(try store.records(network: "n1").map(\.key.containerID) == ["a", "b"])
        #expect(try store.records().map(\.key.containerID).sorted() == ["a", "b", "c"])
        #expect(try store.records(network: "none").isEmpty)
        #expect(try StateStore(root: dir.path + "/missing").records().isEmpty)
    }

    @Test func longContainerIDsGetAShortenedFileName() throws {
        let dir = TempDir()
        let store = StateStore(root: dir.path)
        let long = String(repeating: "a", count: 300)
        let r = record(long)
        try store.write(r)
        #expect(try store.read(r.key) == r)
        #expect(try store.records() == [r])
        #expect(store.fileName(r.key).utf8.count < 255)
        #expect(store.fileName(r.key) != store.fileName(record(long + "b").key))
    }

    @Test func damagedRecordIsReportedNotGuessed() throws {
        let dir = TempDir()
        let store = StateStore(root: dir.path)
        let r = record("a")
        try store.write(r)
        try "junk".write(toFile: store.recordPath(r.key), atomically: false, encoding: .utf8)
        #expect { try store.read(r.key) } throws: { ($0 as? HostAccessError)?.kind == .stateFailure }
        #expect { try store.records() } throws: { ($0 as? HostAccessError)?.kind == .stateFailure }
    }

    @Test func lockIsExclusiveAndReleased() throws {
        let dir = TempDir()
        let first = try StateStore(root: dir.path).lock()
        let impatient = StateStore(root: dir.path, lockTimeoutMilliseconds: 30)
        #expect { try impatient.lock() } throws: { ($0 as? HostAccessError)?.kind == .busy }
        let interrupted = StateStore(root: dir.path, isInterrupted: { true })
        #expect { try interrupted.lock() } throws: { ($0 as? HostAccessError)?.kind == .interrupted }
        let rollback = StateStore(root: dir.path, lockTimeoutMilliseconds: 30, isInterrupted: { true })
        #expect { try rollback.lock(interruptible: false) } throws: { ($0 as? HostAccessError)?.kind == .busy }   // waited
        first.release()
        let second = try impatient.lock()
        #expect(second.isHeld)
    }

    @Test func dataDirThatIsAFileIsAStateFailure() throws {
        let dir = TempDir()
        try FileManager.default.createDirectory(atPath: dir.path, withIntermediateDirectories: true)
        try "x".write(toFile: dir.path + "/file", atomically: false, encoding: .utf8)
        #expect { try StateStore(root: dir.path + "/file").lock() } throws: { ($0 as? HostAccessError)?.kind == .stateFailure }
    }
}
