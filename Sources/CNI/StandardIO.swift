import CProcess
import Glibc
import SystemCall

/// Reading stdin and writing stdout/stderr with plain file descriptors: no Foundation, no buffering surprises.
public enum StandardIO {
    /// The most we read from stdin. Real configs are a few KiB; a prevResult of a long chain stays far below
    /// this. Anything larger is refused rather than buffered without bound.
    public static let inputLimit = 1 << 20

    public enum ReadOutcome { case complete([UInt8]), tooLarge }

    /// Reads until EOF, at most `limit` bytes (one more byte than the limit proves the input is too large).
    public static func readAll(fd: Int32, limit: Int = inputLimit) throws(CNIError) -> ReadOutcome {
        var data: [UInt8] = []
        // Uninitialised scratch: zeroing 64 KiB on every start showed up in profiles.
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 16)
        defer { chunk.deallocate() }
        while true {
            let n = retryingEINTR(untilTerminated: { Signals.terminated }) { read(fd, chunk.baseAddress, chunk.count) }
            if n == 0 { return .complete(data) }
            if n < 0 { throw CNIError(.ioFailure, "reading the network config from stdin failed: \(errnoText(errno))") }
            data.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
            if data.count > limit { return .tooLarge }
        }
    }

    /// Writes everything, retrying short writes and EINTR. Failures are ignored: there is nobody left to tell.
    public static func write(_ text: String, fd: Int32) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = retryingEINTR { bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) } }
            if n <= 0 { return }
            offset += n
        }
    }

    /// The process environment as ordered pairs. Split on bytes: a process gets dozens of variables at every
    /// start, and character-level string scanning showed up in profiles.
    public static func environment() -> [(String, String)] {
        var out: [(String, String)] = []
        guard var cursor = cs_environ() else { return out }
        var count = 0
        while cursor[count] != nil { count += 1 }
        out.reserveCapacity(count)
        while let entry = cursor.pointee {
            let length = strlen(entry)
            entry.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
                let buffer = UnsafeBufferPointer(start: bytes, count: length)
                if let eq = buffer.firstIndex(of: UInt8(ascii: "=")) {
                    out.append((String(decoding: buffer[..<eq], as: UTF8.self),
                                String(decoding: buffer[(eq + 1)...], as: UTF8.self)))
                }
            }
            cursor += 1
        }
        return out
    }
}
