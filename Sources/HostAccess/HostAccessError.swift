import Namespace
import Netlink

/// Why host access could not be set up, removed or confirmed. The plugin maps `kind` to a CNI error code.
public struct HostAccessError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        case invalidConfig      // the `hostAccess` settings themselves
        case conflict           // something that is not ours is in the way (a link named like the shim, a route)
        case busy               // the state lock stayed taken
        case interrupted        // a termination signal arrived
        case stateFailure       // the state directory could not be read or written
        case kernelFailure      // a netlink or sysctl operation failed
        case drift              // CHECK: what ADD set up is not there any more
    }

    public let kind: Kind
    public let message: String
    public let details: String

    public init(_ kind: Kind, _ message: String, details: String = "") {
        self.kind = kind
        self.message = message
        self.details = details
    }

    public var description: String { details.isEmpty ? message : "\(message) (\(details))" }
}

extension NetlinkError {
    func hostAccess(_ context: String) -> HostAccessError {
        HostAccessError(kind == .interrupted ? .interrupted : .kernelFailure, "\(context): \(description)")
    }
}

extension NamespaceError {
    func hostAccess(_ context: String) -> HostAccessError {
        HostAccessError(.kernelFailure, "\(context): \(description)")
    }
}
