import CNI
import CProcess
import DHCPService
import Glibc
import JSON
import SystemCall

/// One request to the daemon over its unix socket, with a bounded wait for the answer.
struct DaemonClient {
    let socketPath: String
    /// ADD's wait when the network sets no `timeout`: the daemon answers by its own -timeout, so this only
    /// bounds a daemon that hangs.
    static let defaultAddWait: Double = 300

    enum Outcome {
        case reply(ControlReply)
        /// No daemon (no socket, stale socket, no answer in time): why.
        case unreachable(String)
    }

    func exchange(_ request: ControlRequest, waitSeconds: Double) throws(CNIError) -> Outcome {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw CNIError(.ioFailure, "socket: \(errnoText(errno))") }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(socketPath.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw CNIError(.invalidConfig, "\"ipam.daemonSocketPath\" \(socketPath) is too long for a unix socket")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if rc != 0 {
            let code = errno
            return .unreachable("connect \(socketPath): \(errnoText(code))")
        }
        var out = Array((request.json.serialized(indent: 0) + "\n").utf8)
        var offset = 0
        while offset < out.count {
            let n = retryingEINTR(untilTerminated: { cs_termination_signal() != 0 }) {
                out.withUnsafeMutableBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            }
            if n < 0 {
                return .unreachable("sending to \(socketPath): \(errnoText(errno))")
            }
            offset += n
        }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        var remaining = waitSeconds * 1000
        while !answer.contains(0x0A) {
            guard remaining > 0 else { return .unreachable("no answer from \(socketPath) within \(Int(waitSeconds)) s") }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            var start = timespec()
            clock_gettime(CLOCK_MONOTONIC, &start)
            let ready = poll(&p, 1, Int32(min(remaining, 60_000)))
            var end = timespec()
            clock_gettime(CLOCK_MONOTONIC, &end)
            remaining -= Double(end.tv_sec - start.tv_sec) * 1000 + Double(end.tv_nsec - start.tv_nsec) / 1e6
            if ready < 0 {
                if errno == EINTR && cs_termination_signal() == 0 { continue }
                throw CNIError(.tryAgainLater, "interrupted by signal \(cs_termination_signal()) while waiting for the DHCP daemon",
                               details: "the daemon goes on with the request; calling again returns its lease")
            }
            if ready == 0 { continue }
            let n = retryingEINTR { chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) } }
            if n < 0 { return .unreachable("reading from \(socketPath): \(errnoText(errno))") }
            if n == 0 { break }
            answer += chunk[0..<n]
            if answer.count > 1 << 20 { throw CNIError(.decodingFailure, "the DHCP daemon's answer is larger than 1 MiB") }
        }
        guard let end = answer.firstIndex(of: 0x0A) else {
            return .unreachable("the DHCP daemon closed the connection without answering")
        }
        let value: JSONValue
        do { value = try JSONValue.parse(Array(answer[..<end])) } catch {
            throw CNIError(.decodingFailure, "the DHCP daemon's answer is not JSON: \(error)")
        }
        return .reply(try ControlReply(json: value))
    }
}
