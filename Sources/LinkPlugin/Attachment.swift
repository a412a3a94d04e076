import CNI
import Namespace
import Netlink

/// The namespaces and sockets of one invocation, and the master looked up where the config says it lives.
/// The container's namespace is entered once to open a socket bound to it; from then on the container side is
/// driven from outside through that socket (only sysctls are written from inside).
public struct Attachment {
    /// CNI_NETNS, for messages.
    public let containerPath: String
    /// An open descriptor of the container's namespace (IFLA_NET_NS_FD), alive as long as the attachment.
    public let containerNamespaceFD: Int32
    public let containerSocket: any RouteOperations
    /// The socket of the namespace that holds the master: the plugin's own, or the container's with linkInContainer.
    public let masterSocket: any RouteOperations
    /// That namespace in words, for messages.
    public let masterPlace: String
    /// Writes per-interface sysctls inside the container's namespace.
    public let containerSysctls: any SysctlWriting
    /// What ADD does at each checkpoint it passes (`AddStage.reached`). Tests wrap it to record the order in
    /// which an ADD really passes them, which must be the declared order the fault build lists.
    public var checkpoint: (AddStage) throws(CNIError) -> Void = { (stage: AddStage) throws(CNIError) in try stage.reached() }

    public init(containerPath: String, containerNamespaceFD: Int32, containerSocket: any RouteOperations,
                masterSocket: any RouteOperations, masterPlace: String, containerSysctls: any SysctlWriting) {
        self.containerPath = containerPath
        self.containerNamespaceFD = containerNamespaceFD
        self.containerSocket = containerSocket
        self.masterSocket = masterSocket
        self.masterPlace = masterPlace
        self.containerSysctls = containerSysctls
    }

    /// The master, looked up in the namespace that holds it. `childKind` names the links the plugin makes, for
    /// messages ("macvlan").
    public func findMaster(_ name: String?, childKind: String) throws(CNIError) -> LinkInfo {
        try Self.findMaster(name, socket: masterSocket, whereText: masterPlace, childKind: childKind)
    }

    /// The master by name, or the interface of the lowest-metric default route; checked to be usable as the
    /// parent of a macvlan-family child: Ethernet, not loopback, not itself such a child (stacking only adds a hop).
    public static func findMaster(_ name: String?, socket: any RouteOperations, whereText: String, childKind: String) throws(CNIError) -> LinkInfo {
        Phases.enter(.link)
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
        if let device = master.kind?.macvlanDevice {
            throw CNIError(.invalidConfig, "master \"\(master.name)\" is itself a \(device.rawValue) child",
                           details: "use its parent as master: stacked \(childKind)s only add a hop")
        }
        return master
    }
}

/// One per-interface sysctl to write; `required: false` means a failure is ignored (e.g. an IPv6 knob on a
/// kernel or interface without IPv6, when no IPv6 address is involved).
public struct SysctlSetting: Equatable, Sendable {
    public let key: SysctlKey
    public let value: String
    public let required: Bool
    public init(_ key: SysctlKey, _ value: String, required: Bool = true) {
        self.key = key
        self.value = value
        self.required = required
    }
}

/// Writes sysctls inside the container's namespace (the one thing that cannot be done from outside).
public protocol SysctlWriting {
    func write(_ settings: [SysctlSetting], ifName: String) throws(CNIError)
}
