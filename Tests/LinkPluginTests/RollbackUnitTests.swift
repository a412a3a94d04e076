import CNI
@testable import LinkPlugin
import TestSupport
import Testing

/// The undo list on its own: newest first, every step attempted, the original error kept.
@Suite struct RollbackUnitTests {
    final class Log { var entries: [String] = [] }

    @Test func successDropsTheList() throws {
        let log = Log()
        let value = try Rollback.guarding(log: .standardError(prefix: "test")) { (rollback: inout Rollback) throws(CNIError) -> Int in
            rollback.register("a") { () throws(CNIError) in log.entries.append("undo a") }
            return 7
        }
        #expect(value == 7)
        #expect(log.entries.isEmpty)
    }

    @Test func undoesNewestFirst() {
        let log = Log()
        let error = thrownError { () throws(CNIError) in
            try Rollback.guarding(log: .standardError(prefix: "test")) { (rollback: inout Rollback) throws(CNIError) in
                for step in ["link", "ipam", "addresses"] {
                    rollback.register(step) { () throws(CNIError) in log.entries.append(step) }
                }
                throw CNIError(.addressingFailure, "route refused")
            }
        }
        #expect(log.entries == ["addresses", "ipam", "link"])
        #expect(error?.code == .addressingFailure)
        #expect(error?.details == "")
    }

    @Test func failingUndoDoesNotStopTheOthersAndIsReported() {
        let log = Log()
        let error = thrownError { () throws(CNIError) in
            try Rollback.guarding(log: .standardError(prefix: "test")) { (rollback: inout Rollback) throws(CNIError) in
                rollback.register("delete the link") { () throws(CNIError) in log.entries.append("link") }
                rollback.register("release the address") { () throws(CNIError) in throw CNIError(.ioFailure, "store gone") }
                throw CNIError(.linkFailure, "rename failed", details: "EBUSY")
            }
        }
        #expect(log.entries == ["link"])
        #expect(error?.code == .linkFailure)  // the original error, not the undo's
        #expect(error?.message == "rename failed")
        #expect(error?.details.hasPrefix("EBUSY; rollback incomplete: release the address") == true)
    }

    @Test func runReturnsWhatCouldNotBeUndone() {
        var rollback = Rollback(log: .standardError(prefix: "test"))
        rollback.register("x") { () throws(CNIError) in throw CNIError(.ioFailure, "no") }
        rollback.register("y") { () throws(CNIError) in }
        #expect(rollback.run().count == 1)
    }
}

/// Codes of the link plugins and the codes a delegated IPAM's failures get.
@Suite struct LinkPluginCodeTests {
    @Test func codes() {
        #expect([CNIError.Code.linkFailure, .addressingFailure, .unusableIPAMResult, .ipamExecutionFailure, .interrupted].map(\.rawValue)
                == [100, 101, 102, 103, 104])
        #expect(DelegationCodes.linkPlugin.executionFailure == .ipamExecutionFailure)
        #expect(DelegationCodes.linkPlugin.interrupted == .interrupted)
        #expect(DelegationCodes.linkPlugin.unusableResult == .unusableIPAMResult)
    }

    @Test func interruptedNetlinkCallRollsBackAs104() {
        #expect(FakeRoutes.error(4 /* EINTR */).cni("creating").code == .interrupted)
        #expect(FakeRoutes.error(1 /* EPERM */).cni("creating").code == .linkFailure)
    }
}
