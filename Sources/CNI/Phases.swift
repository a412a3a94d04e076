import Glibc

/// The phases of one invocation whose durations the invocation log reports. Time is charged to one phase at a
/// time: `Phases.enter` closes the current phase and opens the next, so the durations add up to the run.
public enum Phase: String, CaseIterable, Sendable {
    case startup, config, namespace, link, ipam, addresses, routes
    case dadWait = "dad-wait"
    case output
}

/// Time charged to one phase at a time.
public struct PhaseClock: Sendable {
    private var nanoseconds = [Int64](repeating: 0, count: Phase.allCases.count)
    private var current: Int?
    private var since: Int64

    /// `startup`: the CPU time the process spent before `main` (dynamic loader, libc and Swift runtime
    /// initialisers): known only as CPU time, which on an idle CPU is its wall time too.
    public init(startup: Int64) {
        nanoseconds[Phase.allCases.firstIndex(of: .startup)!] = startup
        since = Phases.monotonicNanoseconds()
    }

    /// From now on time counts to `phase`.
    public mutating func enter(_ phase: Phase) {
        let now = Phases.monotonicNanoseconds()
        if let current { nanoseconds[current] += now - since }
        current = Phase.allCases.firstIndex(of: phase)
        since = now
    }

    /// The durations so far (the current phase up to now), in milliseconds, in phase order.
    public func milliseconds() -> [(Phase, Double)] {
        var totals = nanoseconds
        if let current { totals[current] += Phases.monotonicNanoseconds() - since }
        return zip(Phase.allCases, totals).map { ($0, Double($1) / 1_000_000) }
    }
}

/// Where the time of this invocation went. One process is one invocation, single-threaded, so this is
/// process-wide state; a clock read (vDSO) per phase change is all it costs.
public enum Phases {
    nonisolated(unsafe) private static var clock = PhaseClock(startup: 0)

    /// Starts a fresh record (the dispatcher, once per invocation).
    public static func reset(startup: Int64) { clock = PhaseClock(startup: startup) }

    /// From now on time counts to `phase`.
    public static func enter(_ phase: Phase) { clock.enter(phase) }

    public static func milliseconds() -> [(Phase, Double)] { clock.milliseconds() }

    static func monotonicNanoseconds() -> Int64 { clockNanoseconds(CLOCK_MONOTONIC) }

    /// CPU time this process has used so far (at `main`: the start-up's).
    public static func processCPUNanoseconds() -> Int64 { clockNanoseconds(CLOCK_PROCESS_CPUTIME_ID) }

    private static func clockNanoseconds(_ clock: clockid_t) -> Int64 {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}
