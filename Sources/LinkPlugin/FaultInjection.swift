#if FAULT_INJECTION
import Glibc

/// Test hooks of the fault-injection build only (compile-time condition FAULT_INJECTION; made by
/// `scripts/build --fault-injection`). None of this, not even the variable names, is in the shipped binary.
///  - CNI_TEST_PAUSE_AT=<stage>: the process stops itself (SIGSTOP) at that checkpoint of ADD, so the harness
///    can send it a signal there and check what is left.
///  - CNI_TEST_CREATING_SIDE_NAME_CHECK=1: creation under CNI_IFNAME answers EEXIST as on a kernel that checks
///    the new name in the creating namespace, so the temporary-name path (create, rename) runs on any kernel.
///  - CNI_TEST_LIST_STAGES=1: print the ADD stages in the order ADD passes them and exit, so the harness takes
///    the list from the binary instead of a copy.
enum FaultInjection {
    static func pauseIfRequested(at stage: String) {
        guard let requested = getenv("CNI_TEST_PAUSE_AT"), String(cString: requested) == stage else { return }
        raise(SIGSTOP)
    }

    static var creatingSideNameCheckRequested: Bool {
        guard let value = getenv("CNI_TEST_CREATING_SIDE_NAME_CHECK") else { return false }
        return String(cString: value) == "1"
    }

    static var listStagesRequested: Bool {
        guard let value = getenv("CNI_TEST_LIST_STAGES") else { return false }
        return String(cString: value) == "1"
    }
}
#endif
