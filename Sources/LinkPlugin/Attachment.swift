import CNI
import Namespace
import NetTypes
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
    public func findMaster(_ choice: MasterChoice, childKind: String, pciDevices: PCINetworkDevices = PCINetworkDevices(),
                           log: Log? = nil) throws(CNIError) -> LinkInfo {
        try Self.findMaster(choice, socket: masterSocket, whereText: masterPlace, childKind: childKind, pciDevices: pciDevices, log: log)
    }

    /// The master the config chooses (by name, by selector, or the interface of the lowest-metric default
    /// route), checked to be usable as the parent of a macvlan-family child.
    public static func findMaster(_ choice: MasterChoice, socket: any RouteOperations, whereText: String, childKind: String,
                                  pciDevices: PCINetworkDevices = PCINetworkDevices(), log: Log? = nil) throws(CNIError) -> LinkInfo {
        Phases.enter(.link)
        switch choice.rule {
        case let .selector(selector):
            return try select(selector, origin: choice.origin, socket: socket, whereText: whereText, childKind: childKind, pciDevices: pciDevices, log: log)
        case .fromPreviousResult:
            throw CNIError(.invalidConfig, "\(choice.origin) names the master only together with a prevResult")
        case .name, .defaultRoute:
            break
        }
        let link: LinkInfo?
        var defaultIndex: Int32?
        do throws(NetlinkError) {
            if case let .name(name) = choice.rule {
                link = try socket.link(named: name)
            } else {
                defaultIndex = try socket.defaultRouteInterface()
                if let defaultIndex { link = try socket.link(index: defaultIndex) } else { link = nil }
            }
        } catch {
            throw error.cni("looking up the master in \(whereText)")
        }
        guard let master = link else {
            if case let .name(name) = choice.rule {
                let from = choice.origin == "\"master\"" ? "" : " (from \(choice.origin))"
                throw CNIError(.invalidConfig, "master \"\(name)\"\(from) not found in \(whereText)",
                               details: "name an existing interface, or leave \"master\" empty to use the default route's")
            }
            if defaultIndex == nil {
                throw CNIError(.invalidConfig, "no \"master\" given and \(whereText) has no default route to take it from",
                               details: "set \"master\" to the interface the containers should share")
            }
            throw CNIError(.invalidConfig, "the default route's interface vanished in \(whereText)")
        }
        if let problem = unusableAsMaster(master, childKind: childKind) {
            throw CNIError(.invalidConfig, "master \"\(master.name)\" \(problem.message)", details: problem.details)
        }
        return master
    }

    /// Why a link cannot carry macvlan-family children: not Ethernet (or loopback), or itself such a child
    /// (stacking only adds a hop).
    static func unusableAsMaster(_ link: LinkInfo, childKind: String) -> (message: String, details: String)? {
        if link.isLoopback || link.hardwareType != HardwareType.ether {
            return ("cannot carry \(childKind) children", "it is not an Ethernet interface (hardware type \(link.hardwareType))")
        }
        if let device = link.kind?.macvlanDevice {
            return ("is itself a \(device.rawValue) child", "use its parent as master: stacked \(childKind)s only add a hop")
        }
        return nil
    }

    /// The links (and, for `subnet`, the addresses) of the master's namespace matched against the selector.
    /// Several qualifying: the choice is logged with the others; none: code 7 listing every link looked at.
    static func select(_ selector: MasterSelector, origin: String, socket: any RouteOperations, whereText: String, childKind: String,
                       pciDevices: PCINetworkDevices, log: Log?) throws(CNIError) -> LinkInfo {
        var pciInterfaces: [String]?
        if let device = selector.pciAddress {
            switch pciDevices.interfaces(of: device) {
            case .noSuchDevice:
                throw CNIError(.invalidConfig, "\(origin): there is no PCI device \(device)",
                               details: "\(pciDevices.root)/bus/pci/devices/\(device) does not exist")
            case let .interfaces(names):
                pciInterfaces = names
            }
        }
        let links: [LinkInfo]
        let addresses: [AddressInfo]
        do throws(NetlinkError) {
            links = try socket.allLinks()
            addresses = selector.needsAddresses ? try socket.addresses(index: nil) : []
        } catch {
            throw error.cni("listing the interfaces of \(whereText) for \(origin)")
        }
        let outcome = selector.select(links, addresses: addresses, pciInterfaces: pciInterfaces) { link in
            unusableAsMaster(link, childKind: childKind).map { _ in link.kind?.macvlanDevice.map { "a \($0.rawValue) child" } ?? "not Ethernet" }
        }
        switch outcome {
        case let .chosen(master, others):
            if !others.isEmpty {
                let why = selector.names == nil ? "the lowest index" : "the first in names"
                log?("\(origin) (\(selector.summary)) matches \(([master] + others).map(\.name).joined(separator: ", ")) in \(whereText); using \(master.name), \(why)")
            }
            return master
        case let .none(rejected):
            let shown = rejected.prefix(16).map { "\($0.name) (\($0.reason))" }
            let more = rejected.count > shown.count ? ", and \(rejected.count - shown.count) more" : ""
            throw CNIError(.invalidConfig, "no interface in \(whereText) matches \(origin) (\(selector.summary))",
                           details: "looked at: \(shown.isEmpty ? "no interfaces" : shown.joined(separator: ", "))\(more)")
        }
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
    func write(_ settings: [SysctlSetting], ifName: InterfaceName) throws(CNIError)
}
