import CNI
import Synchronization
import LinkPlugin
import Namespace
import Netlink
import NetTypes

/// Records sysctl writes instead of entering a namespace.
public final class FakeSysctls: SysctlWriting {
    public private(set) var written: [SysctlSetting] = []
    public var failure: CNIError?
    public init() {}
    public func write(_ settings: [SysctlSetting], ifName: InterfaceName) throws(CNIError) {
        if let failure { throw failure }
        written += settings
    }
}

/// A host namespace with a master, one container namespace, an IPAM: everything a link plugin's verbs touch.
public final class FakeSystem: LinkSystem {
    public let host: FakeRoutes
    public let container = FakeRoutes()
    public let sysctls = FakeSysctls()
    /// Sysctls written in the plugin's own namespace (the host-access shim's), by path.
    public var ownSysctls: [String: String] = [:]
    /// nil: the config's IPAM is not found (L2-only configs never ask).
    public var ipamPlugin: FakeIPAM? = FakeIPAM()
    /// DEL: the container namespace is gone (nothing to clean there).
    public var containerGone = false
    /// CNI_NETNS names the plugin's own namespace.
    public var containerIsOwn = false
    /// Opening the container fails with this (e.g. code 3, no such namespace).
    public var attachFailure: CNIError?
    /// The ADD checkpoints passed, in order.
    public private(set) var stagesPassed: [AddStage] = []
    /// A fake sysfs tree (tests make one in a temporary directory); the default finds no PCI device.
    public var pciDevices = PCINetworkDevices(root: "/nonexistent-sysfs")

    public init(masterUp: Bool = true) {
        host = FakeRoutes.host(masterUp: masterUp)
        host.peer = container
        container.peer = host  // where a link given back from the container lands
    }

    public func attach(_ request: Request, linkInContainer: Bool) throws(CNIError) -> Attachment {
        if let attachFailure { throw attachFailure }
        if containerIsOwn { throw CNIError(.invalidEnvironment, "CNI_NETNS is the plugin's own network namespace") }
        var attachment = Attachment(containerPath: request.environment.netns, containerNamespaceFD: 42, containerSocket: container,
                                    masterSocket: linkInContainer ? container : host,
                                    masterPlace: linkInContainer ? "the container's namespace" : "the plugin's namespace", containerSysctls: sysctls)
        attachment.checkpoint = { [unowned self] (stage: AddStage) throws(CNIError) in
            stagesPassed.append(stage)
            try stage.reached()
        }
        return attachment
    }

    public func ownRoutes() throws(CNIError) -> any RouteOperations { host }

    public func containerRoutesForDelete(_ env: Environment, log: Log) throws(CNIError) -> (any RouteOperations)? {
        if containerIsOwn { throw CNIError(.invalidEnvironment, "CNI_NETNS is the plugin's own network namespace") }
        return containerGone || env.netns.isEmpty ? nil : container
    }

    public func ipam(_ request: Request) throws(CNIError) -> (any IPAM)? {
        guard let type = request.config.ipamType else { return nil }
        guard let ipamPlugin else { throw CNIError(.invalidConfig, "cannot find IPAM plugin \"\(type)\" in CNI_PATH") }
        return ipamPlugin
    }

    public func writeOwnSysctl(_ key: SysctlKey, _ value: String) throws(NamespaceError) {
        ownSysctls[key.path ?? "?"] = value
    }
}

/// Runs one invocation through the dispatcher in-process and keeps what it printed.
public struct Invocation {
    public let status: Int32
    public let stdout: String
    public let stderr: String

    /// The dispatcher's log sink is process-wide and suites run in parallel: one invocation at a time, or one
    /// suite's stderr collects another's log lines.
    private static let exclusive = Mutex(())

    public init(_ plugin: some CNIPlugin, _ command: Command, _ builder: ConfigBuilder, stdin: [UInt8]? = nil) {
        let box = OutputBox()
        let input = stdin ?? builder.bytes
        let io = InvocationIO(variables: builder.variables(command), readInput: { () throws(CNIError) in .complete(input) },
                              writeOutput: { box.out += $0 }, writeError: { box.err += $0 })
        status = Self.exclusive.withLock { _ in Dispatcher.run(plugin, io: io) }
        stdout = box.out
        stderr = box.err
    }
}

final class OutputBox { var out = ""; var err = "" }
