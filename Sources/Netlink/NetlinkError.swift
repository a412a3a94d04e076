import SystemCall
import Glibc

/// A failed netlink operation: what we were doing, the errno the kernel (or the socket) answered, and the
/// kernel's extended-ack text when it sent one. Match on `kind` instead of comparing errno values at call sites.
public struct NetlinkError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable { case exists, notFound, permission, invalid, busy, interrupted, other }

    public let kind: Kind
    public let errno: Int32
    public let operation: String
    public let kernelMessage: String?

    public init(errno: Int32, operation: String, kernelMessage: String? = nil) {
        self.kind = Self.kind(of: errno)
        self.errno = errno
        self.operation = operation
        self.kernelMessage = kernelMessage
    }

    /// For failures that are ours rather than the kernel's (invalid arguments, malformed replies).
    public init(kind: Kind, errno: Int32, operation: String, kernelMessage: String? = nil) {
        self.kind = kind
        self.errno = errno
        self.operation = operation
        self.kernelMessage = kernelMessage
    }

    public static func kind(of errno: Int32) -> Kind {
        switch errno {
        case EEXIST: return .exists
        case ENODEV, ENOENT, ESRCH, EADDRNOTAVAIL: return .notFound
        case EPERM, EACCES: return .permission
        case EINVAL, ERANGE, EOPNOTSUPP: return .invalid
        case EBUSY: return .busy
        case EINTR: return .interrupted
        default: return .other
        }
    }

    public var description: String {
        var text = "\(operation): \(errnoText(errno))"
        if let kernelMessage, !kernelMessage.isEmpty { text += ": \(kernelMessage)" }
        return text
    }
}

extension NetlinkError {
    // Pattern matching by kind: `catch NetlinkError.exists { ... }` or `case NetlinkError.notFound:`.
    public static var exists: Kind { .exists }
    public static var notFound: Kind { .notFound }
    public static var permission: Kind { .permission }
    public static var invalid: Kind { .invalid }
    public static var busy: Kind { .busy }
    public static var interrupted: Kind { .interrupted }
    public static var other: Kind { .other }

    public static func ~= (kind: Kind, error: NetlinkError) -> Bool { error.kind == kind }
}

/// Lets an untyped `catch NetlinkError.notFound` match too.
public func ~= (kind: NetlinkError.Kind, error: any Error) -> Bool { (error as? NetlinkError)?.kind == kind }
