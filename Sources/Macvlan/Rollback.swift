import CNI

/// The undo list of an ADD: every step that changes the world registers how to undo it; if the ADD throws,
/// the steps run in reverse, and a failing undo does not stop the others. On success the list is dropped.
struct Rollback {
    private var steps: [(what: String, undo: () throws(CNIError) -> Void)] = []

    mutating func register(_ what: String, _ undo: @escaping () throws(CNIError) -> Void) {
        steps.append((what, undo))
    }

    /// Runs every undo step, newest first; returns what could not be undone (also logged on stderr).
    @discardableResult
    func run() -> [String] {
        var failures: [String] = []
        for step in steps.reversed() {
            do { try step.undo() } catch {
                failures.append("\(step.what): \(error)")
                StandardIO.log("rollback: could not \(step.what): \(error)")
            }
        }
        return failures
    }
}
