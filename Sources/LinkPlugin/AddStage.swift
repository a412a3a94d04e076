import CNI

/// The points of an ADD at which the world has changed a little more, declared in the order an ADD passes
/// them (L2-only ADDs skip ipam-added, addresses-added and routes-added; ADDs without hostAccess the last
/// four). `renamed`: the link carries CNI_IFNAME; a link created under it passes it right after link-created,
/// one made under the temporary name (kernels that check a new name on the creating side) after its rename.
/// At each, a termination signal that
/// has arrived becomes an error, so the rollback runs (code 104). In the fault-injection build (compile-time
/// condition FAULT_INJECTION, `scripts/build --fault-injection`) the process can also stop itself there,
/// for the harness to kill it and prove that the next DEL cleans up; the shipped binary has no such hook.
public enum AddStage: String, CaseIterable, Sendable {
    case validated = "validated"
    case linkCreated = "link-created"
    case renamed = "renamed"
    case ipamAdded = "ipam-added"
    case addressesAdded = "addresses-added"
    case up = "up"
    case routesAdded = "routes-added"
    // With the macvlan plugin's hostAccess only: the host side of the attachment (see the HostAccess module).
    case hostAccessRecorded = "host-access-recorded"
    case shimReady = "shim-ready"
    case hostRoutesAdded = "host-routes-added"
    case containerRoutesAdded = "container-routes-added"

    /// Those of every link plugin: all but the host-access ones (macvlan's `hostAccess` only).
    public static let shared: [AddStage] = allCases.filter { !hostAccessStages.contains($0) }
    public static let hostAccessStages: [AddStage] = [.hostAccessRecorded, .shimReady, .hostRoutesAdded, .containerRoutesAdded]

    /// The checkpoint: pause here if the fault build was asked to, then honour a pending termination signal.
    public func reached() throws(CNIError) {
        #if FAULT_INJECTION
        FaultInjection.pauseIfRequested(at: rawValue)
        #endif
        try Interruption.check(after: self)
    }
}

/// Termination signals (SIGTERM, SIGINT, SIGHUP) are recorded by a handler, never acted on in it; long
/// operations ask here and unwind through their rollback.
public enum Interruption {
    /// Throws 104 when a termination signal has arrived.
    public static func check(after stage: AddStage) throws(CNIError) {
        let signal = Signals.terminationSignal
        if signal != 0 {
            throw CNIError(.interrupted, "ADD interrupted by signal \(signal) after stage \"\(stage.rawValue)\"; everything it did was undone")
        }
    }
}
