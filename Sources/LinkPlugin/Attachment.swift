import CNI
import Namespace
import Netlink

/// The namespaces and sockets of one invocation, and the master looked up where the config says it lives.
/// Entered once to open a socket bound to the container's namespace; from then on the container side is
/// driven from outside through that socket.
public struct Attachment {
    public let container: NetworkNamespace
    public let containerSocket: RouteSocket
    /// The socket of the namespace that holds the master: the plugin's own, or the container's with linkInContainer.
    public let masterSocket: RouteSocket
    /// That namespace in words, for messages.
    public let masterPlace: String

    /// Opens CNI_NETNS (verifying it is a network namespace, and not our own), and sockets in both.
    public static func open(_ request: Request, linkInContainer: Bool) throws(CNIError) -> Attachment {
        let path = request.environment.netns
        let container: NetworkNamespace
        let own: NetworkNamespace
        do { container = try NetworkNamespace(path: path) } catch { throw error.cni("CNI_NETNS \"\(path)\"") }
        do { own = try NetworkNamespace.current() } catch { throw error.cni("the plugin's own network namespace") }
        if container.identity == own.identity {
            throw CNIError(.invalidEnvironment, "CNI_NETNS \"\(path)\" is the plugin's own network namespace",
                           details: "refusing to configure the runtime's namespace as a container's")
        }
        let containerSocket = try routeSocket(in: container)
        if linkInContainer {
            return Attachment(container: container, containerSocket: containerSocket, masterSocket: containerSocket,
                              masterPlace: "the container's namespace")
        }
        let hostSocket: RouteSocket
        do { hostSocket = try RouteSocket() } catch { throw error.cni("opening a netlink socket") }
        return Attachment(container: container, containerSocket: containerSocket, masterSocket: hostSocket,
                          masterPlace: "the plugin's namespace")
    }

    /// The master, looked up in the namespace that holds it. `childKind` names the links the plugin makes, for
    /// messages ("macvlan").
    public func findMaster(_ name: String?, childKind: String) throws(CNIError) -> LinkInfo {
        try Self.findMaster(name, socket: masterSocket, whereText: masterPlace, childKind: childKind)
    }

    /// The master by name, or the interface of the lowest-metric default route; checked to be usable as the
    /// parent of a macvlan-family child: Ethernet, not loopback, not itself such a child (stacking only adds a hop).
    public static func findMaster(_ name: String?, socket: RouteSocket, whereText: String, childKind: String) throws(CNIError) -> LinkInfo {
        let link: LinkInfo?
        var defaultIndex: Int32?
        do throws(NetlinkError) {
            if let name {
                link = try socket.link(named: name)
            } else {
                defaultIndex = try socket.defaultRouteInterface()
                if let defaultIndex { link = try socket.link(index: defaultIndex) } else { link = nil }
            }
        } catch {
            throw error.cni("looking up the master in \(whereText)")
        }
        guard let master = link else {
            if let name {
                throw CNIError(.invalidConfig, "master \"\(name)\" not found in \(whereText)",
                               details: "set \"master\" to an existing interface, or leave it empty to use the default route's")
            }
            if defaultIndex == nil {
                throw CNIError(.invalidConfig, "no \"master\" given and \(whereText) has no default route to take it from",
                               details: "set \"master\" to the interface the containers should share")
            }
            throw CNIError(.invalidConfig, "the default route's interface vanished in \(whereText)")
        }
        if master.isLoopback || master.hardwareType != HardwareType.ether {
            throw CNIError(.invalidConfig, "master \"\(master.name)\" cannot carry \(childKind) children",
                           details: "it is not an Ethernet interface (hardware type \(master.hardwareType))")
        }
        if master.kind == "macvlan" || master.kind == "macvtap" {
            throw CNIError(.invalidConfig, "master \"\(master.name)\" is itself a \(master.kind!) child",
                           details: "use its parent as master: stacked \(childKind)s only add a hop")
        }
        return master
    }
}
