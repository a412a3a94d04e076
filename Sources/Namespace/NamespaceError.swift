import SystemCall
import Glibc

/// Why a namespace could not be opened or entered, or a sysctl not written.
public enum NamespaceError: Error, CustomStringConvertible, Sendable, Equatable {
    case notFound(path: String)                                // ENOENT
    case notNetworkNamespace(path: String, reason: String)     // "a regular file", "a directory", "uts namespace"
    case open(path: String, errno: Int32)
    case enter(path: String, errno: Int32)
    case sysctl(path: String, errno: Int32)

    public var description: String {
        switch self {
        case let .notFound(path): return "\(path): no such file or directory"
        case let .notNetworkNamespace(path, reason): return "\(path) is not a network namespace: it is \(reason)"
        case let .open(path, code): return "open \(path): \(errnoText(code))"
        case let .enter(path, code): return "enter network namespace \(path): \(errnoText(code))"
        case let .sysctl(path, code): return "sysctl \(path): \(errnoText(code))"
        }
    }
}
