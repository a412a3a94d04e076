import CNI
import Namespace
import Netlink
import NetTypes

/// Lower layers' errors become CNI errors here, with what we were doing. A netlink call cut short by a
/// signal becomes "interrupted" so the ADD rolls back instead of reporting a kernel failure.
extension NetlinkError {
    public func cni(_ context: String, code: CNIError.Code = .linkFailure) -> CNIError {
        CNIError(kind == .interrupted ? .interrupted : code, "\(context): \(description)")
    }
}

extension NamespaceError {
    public func cni(_ context: String) -> CNIError {
        switch self {
        case .notFound: return CNIError(.unknownContainer, "\(context): \(description)")
        case .notNetworkNamespace: return CNIError(.invalidEnvironment, "\(context): \(description)")
        default: return CNIError(.ioFailure, "\(context): \(description)")
        }
    }
}

/// Runs `body` inside `namespace` (for the few things that cannot be done from outside: sysctls, and opening
/// a netlink socket bound to it).
public func inside<T>(_ namespace: NetworkNamespace, _ what: String, _ body: () throws(CNIError) -> T) throws(CNIError) -> T {
    let outcome: Result<T, CNIError>
    do { outcome = try namespace.withEntered(body) } catch { throw error.cni(what) }
    return try outcome.get()
}

/// A netlink socket bound to `namespace`: entered once, then driven from outside.
public func routeSocket(in namespace: NetworkNamespace) throws(CNIError) -> any RouteOperations {
    try inside(namespace, "entering network namespace \(namespace.path)") { () throws(CNIError) -> any RouteOperations in
        do throws(NetlinkError) { return try RouteSocket() } catch { throw error.cni("opening a netlink socket in \(namespace.path)") }
    }
}

/// A link by name through `socket`, with a netlink failure described as `what`.
public func lookup(_ socket: any RouteOperations, _ name: InterfaceName, _ what: String) throws(CNIError) -> LinkInfo? {
    do { return try socket.link(named: name) } catch { throw error.cni(what) }
}

/// Deletes a link; one that is already gone counts as deleted (rollback and DEL may race with the kernel or
/// with each other).
public func deleteLink(_ socket: any RouteOperations, index: Int32, _ what: String) throws(CNIError) {
    do { try socket.deleteLink(index: index) } catch where error.kind == .notFound {} catch { throw error.cni(what) }
}
