import CNI
import NetTypes

/// How the config names the master: at most one of `master`, `masterSelector`, `deviceID` (top level as Multus
/// injects it, or `runtimeConfig.deviceID` through the `deviceID` capability) and `masterFromPrevResult`;
/// none of them means the interface of the default route. Decoded and validated before anything changes.
public struct MasterChoice: Sendable {
    public enum Rule: Sendable {
        case defaultRoute
        case name(InterfaceName)
        case selector(MasterSelector)
        /// `masterFromPrevResult` in a verb that carries no prevResult (STATUS, GC): known only at ADD.
        case fromPreviousResult
    }

    public let rule: Rule
    /// The key that chose the master, quoted for messages (`"masterSelector"`, `"deviceID" 0000:3b:00.1`).
    public let origin: String

    static let keys = ["master", "masterSelector", "deviceID", "masterFromPrevResult"]

    /// STATUS cannot look for a master that an earlier plugin of the chain makes at ADD.
    public var isKnownOnlyAtAdd: Bool { if case .fromPreviousResult = rule { return true } else { return false } }

    public init(rule: Rule, origin: String) {
        self.rule = rule
        self.origin = origin
    }

    /// Whether the config names the master at all (otherwise: the default route's interface).
    public var isGiven: Bool { if case .defaultRoute = rule { return false } else { return true } }

    /// `deviceIDNamesMaster` false: `deviceID` is the plugin's own key (macvtap adopts the device it names).
    public init(_ request: Request, linkInContainer: Bool, deviceIDNamesMaster: Bool = true) throws(CNIError) {
        let reader = request.config.reader
        var given: [String] = []

        var master: InterfaceName?
        if let text = try reader.string("master"), !text.isEmpty {
            guard let name = InterfaceName(text) else {
                throw CNIError(.invalidConfig, "\"\(reader.name("master"))\" \"\(text)\" is not a valid interface name",
                               details: InterfaceName.problem(text) ?? "")
            }
            master = name
            given.append(reader.name("master"))
        }
        let selector = try MasterSelector(reading: reader)
        if let selector {
            if linkInContainer, selector.pciAddress != nil { throw Self.pciInContainer(reader.name("masterSelector") + ".pciAddress") }
            given.append(reader.name("masterSelector"))
        }
        var device: MasterChoice?
        if let named = try Self.deviceID(of: request), deviceIDNamesMaster {
            let choice = try Self.device(named.text, key: named.key)
            if linkInContainer, case .selector = choice.rule { throw Self.pciInContainer(named.key) }
            device = choice
            given.append(named.key)
        }
        let fromPrevious = try reader.bool("masterFromPrevResult") == true
        if fromPrevious {
            if linkInContainer {
                throw CNIError(.invalidConfig, "\"\(reader.name("masterFromPrevResult"))\" cannot be combined with \"linkInContainer\"",
                               details: "prevResult's host-side interface lives in the plugin's namespace, not the container's")
            }
            given.append(reader.name("masterFromPrevResult"))
        }
        if given.count > 1 {
            throw CNIError(.invalidConfig, "\(given.map { "\"\($0)\"" }.joined(separator: " and ")) each name the master",
                           details: "give only one of \(Self.keys.joined(separator: ", "))")
        }
        if let master {
            self.init(rule: .name(master), origin: "\"master\"")
        } else if let selector {
            self.init(rule: .selector(selector), origin: "\"masterSelector\"")
        } else if let device {
            self = device
        } else if fromPrevious {
            self = try Self.fromPreviousResult(request, key: reader.name("masterFromPrevResult"))
        } else {
            self.init(rule: .defaultRoute, origin: "the default route")
        }
    }

    /// `deviceID` as Multus passes it: `runtimeConfig.deviceID` (the `deviceID` capability) wins over the top-level
    /// key; an empty value counts as absent. Both are read, so either one of the wrong type is refused. `key`
    /// says where the value came from, for messages.
    public static func deviceID(of request: Request) throws(CNIError) -> (text: String, key: String)? {
        let reader = request.config.reader
        let fromRuntime = try request.config.runtimeConfig?.string("deviceID")
        let injected = try reader.string("deviceID")
        if let fromRuntime, !fromRuntime.isEmpty { return (fromRuntime, "runtimeConfig.deviceID") }
        if let injected, !injected.isEmpty { return (injected, reader.name("deviceID")) }
        return nil
    }

    /// A PCI address (the interface under that device) or an interface name.
    static func device(_ text: String, key: String) throws(CNIError) -> MasterChoice {
        if let address = PCIAddress(text) {
            return MasterChoice(rule: .selector(MasterSelector(pciAddress: address)), origin: "\"\(key)\" \(address)")
        }
        if let name = InterfaceName(text) {
            return MasterChoice(rule: .name(name), origin: "\"\(key)\"")
        }
        throw CNIError(.invalidConfig, "\"\(key)\" \"\(text)\" is neither a PCI address nor an interface name",
                       details: "expected a PCI address such as 0000:3b:00.1 or an interface name such as ens1f0")
    }

    /// The first interface of prevResult without a sandbox: a host-side link an earlier plugin of the chain made.
    static func fromPreviousResult(_ request: Request, key: String) throws(CNIError) -> MasterChoice {
        guard let previous = try request.config.decodedPrevResult() else {
            switch request.environment.command {
            case .add, .check:
                throw CNIError(.invalidConfig, "\"\(key)\" is set but the config has no prevResult",
                               details: "the plugin must follow, in a chain, a plugin that creates the master on the host")
            default:
                return MasterChoice(rule: .fromPreviousResult, origin: "\"\(key)\"")
            }
        }
        guard let host = previous.interfaces.first(where: { ($0.sandbox ?? "").isEmpty }) else {
            throw CNIError(.invalidConfig, "\"\(key)\" is set but prevResult has no host-side interface",
                           details: "prevResult's interfaces all have a sandbox: \(previous.interfaces.map(\.name).joined(separator: ", "))")
        }
        guard let name = InterfaceName(host.name) else {
            throw CNIError(.invalidConfig, "prevResult's interface \"\(host.name)\" is not a valid interface name",
                           details: InterfaceName.problem(host.name) ?? "")
        }
        return MasterChoice(rule: .name(name), origin: "prevResult's host-side interface")
    }

    private static func pciInContainer(_ key: String) -> CNIError {
        CNIError(.invalidConfig, "\"\(key)\" cannot be combined with \"linkInContainer\"",
                 details: "PCI devices are looked up in sysfs, which shows the plugin's namespace, not the container's; name the master instead")
    }
}
