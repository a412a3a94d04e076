import CNI
import CSupport

/// The points of an ADD at which the world has changed a little more. At each, a pending SIGTERM turns into
/// an error (so the rollback runs), and tests can freeze the plugin with MACVLAN_TEST_PAUSE_AT=<stage> to
/// kill it there and prove that the next DEL cleans up.
enum Stage: String, CaseIterable {
    case validated = "validated"
    case linkCreated = "link-created"
    case renamed = "renamed"
    case ipamAdded = "ipam-added"
    case addressesAdded = "addresses-added"
    case routesAdded = "routes-added"
    case up = "up"

    func reached(pauseAt: String?) throws(CNIError) {
        if pauseAt == rawValue { cs_stop_self() }
        let signal = cs_termination_signal()
        if signal != 0 {
            throw CNIError(.interrupted, "ADD interrupted by signal \(signal) after stage \"\(rawValue)\"; everything it did was undone")
        }
    }
}
