import Glibc
import SystemCall

/// The daemon's log: one line per event on stderr (journald or the container log keeps it), UTC timestamp
/// first, then the attachment's client ID, so `grep CONTAINERID` shows one lease's history.
public enum DaemonLog {
    public static func line(_ text: String) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var t = now.tv_sec
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let ms = Int(now.tv_nsec / 1_000_000)
        let stamp = "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):"
            + "\(two(parts.tm_min)):\(two(parts.tm_sec)).\(ms < 10 ? "00" : ms < 100 ? "0" : "")\(ms)Z"
        var bytes = Array("\(stamp) dhcp: \(text)\n".utf8)
        var offset = 0
        while offset < bytes.count {
            let n = retryingEINTR { bytes.withUnsafeMutableBytes { write(2, $0.baseAddress! + offset, $0.count - offset) } }
            if n < 0 { return }
            offset += n
        }
    }

    public static func lease(_ clientID: String, _ text: String) { line("\(clientID): \(text)") }
}

/// Wall-clock seconds (lease times must mean the same in the next process).
public enum WallClock {
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
