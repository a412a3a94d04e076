import CNI

/// The undo list of an ADD: every step that changes the world registers how to undo it; if the ADD throws,
/// the steps run in reverse, and a failing undo does not stop the others. On success the list is dropped.
public struct Rollback {
    private var steps: [(what: String, undo: () throws(CNIError) -> Void)] = []
    private let log: Log

    public init(log: Log) { self.log = log }

    public mutating func register(_ what: String, _ undo: @escaping () throws(CNIError) -> Void) {
        steps.append((what, undo))
    }

    /// Runs every undo step, newest first; returns what could not be undone (also logged on stderr).
    @discardableResult
    public func run() -> [String] {
        var failures: [String] = []
        for step in steps.reversed() {
            do { try step.undo() } catch {
                failures.append("\(step.what): \(error)")
                log("rollback: could not \(step.what): \(error)")
            }
        }
        return failures
    }

    /// Runs `body`; if it throws, runs the undo steps it registered and rethrows its error, with what could
    /// not be undone added to the details (the original error is what the user must see first).
    public static func guarding<T>(log: Log, _ body: (inout Rollback) throws(CNIError) -> T) throws(CNIError) -> T {
        var rollback = Rollback(log: log)
        do throws(CNIError) {
            return try body(&rollback)
        } catch {
            let leftovers = rollback.run()
            if leftovers.isEmpty { throw error }
            throw CNIError(error.code, error.message, details: ([error.details] + ["rollback incomplete: " + leftovers.joined(separator: "; ")])
                .filter { !$0.isEmpty }.joined(separator: "; "))
        }
    }
}
