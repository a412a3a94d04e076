import Foundation
import Namespace
import Testing

/// Opening and classifying namespaces only: the test process never enters one (tests run in parallel).
@Suite struct NetworkNamespaceTests {
    @Test func currentNamespace() throws {
        let a = try NetworkNamespace.current()
        let b = try NetworkNamespace(path: "/proc/self/ns/net")
        #expect(a.identity == b.identity)
        #expect(a.fd >= 0 && a.fd != b.fd)
        #expect(try a.isCurrent())
    }

    @Test func missingPath() {
        #expect(throws: NamespaceError.notFound(path: "/nonexistent/netns")) {
            try NetworkNamespace(path: "/nonexistent/netns")
        }
    }

    @Test func otherNamespaceKind() {
        #expect(throws: NamespaceError.notNetworkNamespace(path: "/proc/self/ns/uts", reason: "a uts namespace")) {
            try NetworkNamespace(path: "/proc/self/ns/uts")
        }
    }

    @Test func regularFileAndDirectory() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nstest-\(getpid())-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("f")
        FileManager.default.createFile(atPath: file.path, contents: Data("x".utf8))
        #expect(throws: NamespaceError.notNetworkNamespace(path: file.path, reason: "a regular file")) {
            try NetworkNamespace(path: file.path)
        }
        #expect(throws: NamespaceError.notNetworkNamespace(path: dir.path, reason: "a directory")) {
            try NetworkNamespace(path: dir.path)
        }
        // A FIFO must be rejected without opening it (opening would block).
        let fifo = dir.appendingPathComponent("p")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        #expect(throws: NamespaceError.notNetworkNamespace(path: fifo.path, reason: "a FIFO")) {
            try NetworkNamespace(path: fifo.path)
        }
    }

    @Test func characterDevice() {
        #expect(throws: NamespaceError.notNetworkNamespace(path: "/dev/null", reason: "a character device")) {
            try NetworkNamespace(path: "/dev/null")
        }
    }

    @Test func descriptions() {
        #expect(NamespaceError.notFound(path: "/x").description == "/x: no such file or directory")
        #expect(NamespaceError.notNetworkNamespace(path: "/x", reason: "a directory").description
                == "/x is not a network namespace: it is a directory")
        #expect(NamespaceError.enter(path: "/x", errno: EPERM).description
                == "enter network namespace /x: Operation not permitted")
    }
}
