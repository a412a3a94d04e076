import CNI
import Namespace
import NetTypes
import Netlink

/// Everything the link plugins' verbs need from the system: namespaces and netlink sockets, sysctls, the
/// IPAM. `Kernel` is the real one; tests give the verbs a fake and run them in-process without root.
public protocol LinkSystem {
    /// ADD and CHECK: opens CNI_NETNS (a network namespace, not our own) and the sockets of both sides.
    func attach(_ request: Request, linkInContainer: Bool) throws(CNIError) -> Attachment
    /// STATUS: the routes of the plugin's own namespace.
    func ownRoutes() throws(CNIError) -> any RouteOperations
    /// DEL: the routes of CNI_NETNS, or nil when there is nothing to clean there (empty, gone, not a network
    /// namespace). The plugin's own namespace is refused (code 4).
    func containerRoutesForDelete(_ env: Environment, log: Log) throws(CNIError) -> (any RouteOperations)?
    /// The IPAM the config names, or nil for an L2-only network.
    func ipam(_ request: Request) throws(CNIError) -> (any IPAM)?
    /// A per-interface sysctl of the plugin's own namespace (the host-access shim's).
    func writeOwnSysctl(_ key: SysctlKey, _ value: String) throws(NamespaceError)
    /// Where PCI functions list their network interfaces (`masterSelector.pciAddress`, `deviceID`).
    var pciDevices: PCINetworkDevices { get }
}

extension LinkSystem {
    public var pciDevices: PCINetworkDevices { PCINetworkDevices() }
}

/// The real system: namespaces by path, netlink sockets bound to them, sysctl files, IPAM binaries in CNI_PATH.
public struct Kernel: LinkSystem {
    public init() {}

    public func attach(_ request: Request, linkInContainer: Bool) throws(CNIError) -> Attachment {
        Phases.enter(.namespace)
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
        let sysctls = NamespaceSysctls(namespace: container)
        if linkInContainer {
            return Attachment(containerPath: path, containerNamespaceFD: container.fd, containerSocket: containerSocket,
                              masterSocket: containerSocket, masterPlace: "the container's namespace", containerSysctls: sysctls)
        }
        return Attachment(containerPath: path, containerNamespaceFD: container.fd, containerSocket: containerSocket,
                          masterSocket: try ownRoutes(), masterPlace: "the plugin's namespace", containerSysctls: sysctls)
    }

    public func ownRoutes() throws(CNIError) -> any RouteOperations {
        do { return try RouteSocket() } catch { throw error.cni("opening a netlink socket") }
    }

    public func containerRoutesForDelete(_ env: Environment, log: Log) throws(CNIError) -> (any RouteOperations)? {
        // containerd sends DEL with an empty CNI_NETNS once the task is gone; a deleted or unusable path has
        // nothing of ours either.
        Phases.enter(.namespace)
        guard !env.netns.isEmpty else { return nil }
        let namespace: NetworkNamespace
        do { namespace = try NetworkNamespace(path: env.netns) } catch {
            log("DEL: \(error); nothing to delete there")
            return nil
        }
        if let own = try? NetworkNamespace.current(), own.identity == namespace.identity {
            throw CNIError(.invalidEnvironment, "CNI_NETNS \"\(env.netns)\" is the plugin's own network namespace",
                           details: "refusing to delete interfaces of the runtime's namespace; nothing was changed")
        }
        return try routeSocket(in: namespace)
    }

    public func ipam(_ request: Request) throws(CNIError) -> (any IPAM)? {
        guard let type = request.config.ipamType else { return nil }
        return try DelegatedPlugin.find(type, in: request.environment.path, codes: .linkPlugin)
    }

    public func writeOwnSysctl(_ key: SysctlKey, _ value: String) throws(NamespaceError) {
        try writeSysctl(key, value)
    }
}

/// Sysctls written by entering the namespace once for all of them. Holds the namespace (and so its
/// descriptor) open for the attachment's lifetime.
struct NamespaceSysctls: SysctlWriting {
    let namespace: NetworkNamespace

    func write(_ settings: [SysctlSetting], ifName: InterfaceName) throws(CNIError) {
        try inside(namespace, "setting sysctls of \(ifName) in \(namespace.path)") { () throws(CNIError) in
            for setting in settings {
                do throws(NamespaceError) { try writeSysctl(setting.key, setting.value) } catch {
                    if setting.required { throw error.cni("setting \(setting.key.path ?? "sysctl")") }
                }
            }
        }
    }
}
