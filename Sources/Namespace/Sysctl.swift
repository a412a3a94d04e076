import Glibc
import NetTypes
import SystemCall

/// A per-interface sysctl under /proc/sys/net, built from checked parts so no input can steer the path
/// elsewhere.
public enum SysctlKey: Sendable, Equatable {
    case ipv4(interface: InterfaceName, name: String)   // /proc/sys/net/ipv4/conf/IF/NAME, e.g. "arp_notify"
    case ipv6(interface: InterfaceName, name: String)   // /proc/sys/net/ipv6/conf/IF/NAME, e.g. "ndisc_notify"

    /// nil when the key is not acceptable (the interface name is by its type; "all" and "default",
    /// directories there too, are interface names by the rule).
    public var path: String? {
        switch self {
        case let .ipv4(interface, name): return Self.path("ipv4", interface, name)
        case let .ipv6(interface, name): return Self.path("ipv6", interface, name)
        }
    }

    private static func path(_ family: String, _ interface: InterfaceName, _ name: String) -> String? {
        guard validName(name) else { return nil }
        return "/proc/sys/net/\(family)/conf/\(interface)/\(name)"
    }

    /// Sysctl leaf names are lower-case words joined by '_' (a few use '-').
    static func validName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 64 && s.utf8.allSatisfy { b in
            (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
                || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
        }
    }
}

/// Writes `value` to the sysctl of the calling thread's network namespace (O_WRONLY|O_CLOEXEC, never creates).
public func writeSysctl(_ key: SysctlKey, _ value: String) throws(NamespaceError) {
    let (fd, path) = try openSysctl(key, O_WRONLY)
    defer { close(fd) }
    let bytes = Array(value.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { raw in
            retryingEINTR { write(fd, raw.baseAddress! + offset, raw.count - offset) }
        }
        guard n > 0 else { throw .sysctl(path: path, errno: n < 0 ? errno : EIO) }
        offset += n
    }
}

/// The sysctl's value without the trailing newline.
public func readSysctl(_ key: SysctlKey) throws(NamespaceError) -> String {
    let (fd, path) = try openSysctl(key, O_RDONLY)
    defer { close(fd) }
    var buffer = [UInt8](repeating: 0, count: 4096)
    var length = 0
    while length < buffer.count {
        let n = buffer.withUnsafeMutableBytes { raw in
            retryingEINTR { read(fd, raw.baseAddress! + length, raw.count - length) }
        }
        if n < 0 { throw .sysctl(path: path, errno: errno) }
        if n == 0 { break }
        length += n
    }
    var text = buffer[0..<length]
    while let last = text.last, last == UInt8(ascii: "\n") { text = text.dropLast() }
    return String(decoding: text, as: UTF8.self)
}

/// Opens the sysctl file of a validated key (close-on-exec, never created); a missing file is `.notFound`.
private func openSysctl(_ key: SysctlKey, _ mode: Int32) throws(NamespaceError) -> (fd: Int32, path: String) {
    guard let path = key.path else { throw .sysctl(path: "\(key)", errno: EINVAL) }
    let fd = retryingEINTR { open(path, mode | O_CLOEXEC) }
    guard fd >= 0 else {
        let code = errno
        throw code == ENOENT ? .notFound(path: path) : .sysctl(path: path, errno: code)
    }
    return (fd, path)
}
