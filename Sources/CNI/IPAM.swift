/// The IPAM a main plugin hands addressing to, one call per verb. Executing a binary found in CNI_PATH
/// (`DelegatedPlugin`) is one implementation; a built-in one, or a fake in tests, is another. How long a call
/// may take and what it is given on stdin are the implementation's business, not the caller's.
public protocol IPAM {
    /// The name the config gives it (`ipam.type`), for messages.
    var type: String { get }
    /// Addresses, routes and DNS for the attachment (an abbreviated result: no interfaces).
    func add(_ request: Request) throws(CNIError) -> CNIResult
    /// ADD started now and finished by `PendingIPAMAdd.finish()`, so the caller can create its link meanwhile
    /// (only for IPAMs that do not need the interface). Without an implementation of its own, an IPAM runs
    /// its ADD when it is finished, i.e. sequentially.
    func startAdd(_ request: Request) throws(CNIError) -> PendingIPAM<CNIResult>
    /// CHECK started now and finished later, overlapping the caller's own checks (same rules as `startAdd`).
    func startCheck(_ request: Request) throws(CNIError) -> PendingIPAM<Void>
    /// Releases what ADD took. `rollback`: undoing a failing ADD (the spec asks for it even when ADD failed).
    func delete(_ request: Request, rollback: Bool) throws(CNIError)
    func check(_ request: Request) throws(CNIError)
    func status(_ request: Request) throws(CNIError)
    func garbageCollect(_ request: Request) throws(CNIError)
}

extension IPAM {
    public func startAdd(_ request: Request) throws(CNIError) -> PendingIPAM<CNIResult> {
        PendingIPAM { () throws(CNIError) in try self.add(request) }
    }

    public func startCheck(_ request: Request) throws(CNIError) -> PendingIPAM<Void> {
        PendingIPAM { () throws(CNIError) in try self.check(request) }
    }
}

/// An IPAM call under way. `finish` waits for its answer (once); `settle`, for a rollback or an earlier error,
/// waits for it if it is still running and drops its answer (after an ADD, the IPAM DEL which follows then
/// releases whatever it took).
public final class PendingIPAM<Answer> {
    private var wait: (() throws(CNIError) -> Answer)?

    public init(_ wait: @escaping () throws(CNIError) -> Answer) { self.wait = wait }

    public func finish() throws(CNIError) -> Answer {
        guard let wait else { preconditionFailure("an IPAM call is finished once") }
        self.wait = nil
        return try wait()
    }

    /// Whether it succeeded (true when it was already finished).
    @discardableResult
    public func settle() -> Bool {
        guard let wait else { return true }
        self.wait = nil
        do { _ = try wait(); return true } catch { return false }
    }
}

/// The codes a failure of running an IPAM (rather than the IPAM's own error) is reported with. They are
/// plugin-specific (100 and up), so the plugin layer supplies them.
public struct DelegationCodes: Sendable {
    /// It could not be run, died, timed out or failed without an error JSON.
    public var executionFailure: CNIError.Code
    /// A termination signal arrived while it ran (it was killed so the caller can roll back).
    public var interrupted: CNIError.Code
    /// Its answer cannot be used: too large, or an address no interface can have.
    public var unusableResult: CNIError.Code

    public init(executionFailure: CNIError.Code, interrupted: CNIError.Code, unusableResult: CNIError.Code) {
        self.executionFailure = executionFailure
        self.interrupted = interrupted
        self.unusableResult = unusableResult
    }
}
