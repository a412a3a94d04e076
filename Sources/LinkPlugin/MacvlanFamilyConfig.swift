import CNI
import Netlink
import NetTypes

/// The config keys every plugin of the macvlan family (macvlan, macvtap) reads the same way, validated before
/// anything is changed: the master (`master`, `masterSelector`, `deviceID`, `masterFromPrevResult`), `mode`,
/// `mtu`, the MAC (`macPrefix` < config `mac` < CNI_ARGS `MAC` < `runtimeConfig.mac`), `linkInContainer`,
/// `bcqueuelen`, `bclim`, `numTxQueues`/`numRxQueues` and `ipv6`. Each plugin's config holds one and adds its
/// own keys.
public struct MacvlanFamilyConfig: Sendable {
    /// `master`, `masterSelector`, `deviceID` or `masterFromPrevResult`; none: the default route's interface.
    public let master: MasterChoice
    public let mode: MacvlanMode
    /// nil: inherit the master's MTU. Checked against the master's MTU once the master is known (`mtu(for:)`).
    public let requestedMTU: Int64?
    /// After precedence: `macPrefix` < config `mac` < CNI_ARGS `MAC` < `runtimeConfig.mac`.
    public let mac: MACAddress?
    public let linkInContainer: Bool
    /// `bcqueuelen`: IFLA_MACVLAN_BC_QUEUE_LEN, set at creation.
    public let broadcastQueueLength: UInt32?
    /// `bclim`: -1 never queues multicast as broadcast; N queues it once more than N children use the address.
    public let broadcastCutoff: Int32?
    public let transmitQueues: UInt32?
    public let receiveQueues: UInt32?
    public let ipv6: IPv6Settings?

    /// The kernel's limit on queues per device (rtnl_create_link).
    public static let maximumQueues: Int64 = 4096

    /// The smallest MTU the kernel accepts for an IPv4-capable Ethernet device.
    public static let minimumMTU: Int64 = 68

    /// `kind` names the plugin's links in messages ("macvlan", "macvtap"). `deviceIDNamesMaster` false: the
    /// plugin reads `deviceID` itself (macvtap adopts the device it names).
    public init(_ request: Request, kind: String, deviceIDNamesMaster: Bool = true) throws(CNIError) {
        let reader = request.config.reader
        linkInContainer = try reader.bool("linkInContainer") ?? false
        master = try MasterChoice(request, linkInContainer: linkInContainer, deviceIDNamesMaster: deviceIDNamesMaster)

        let modeText = try reader.string("mode") ?? ""
        if modeText.isEmpty {
            mode = .bridge
        } else if let mode = MacvlanMode(configName: modeText) {
            self.mode = mode
        } else {
            throw CNIError(.invalidConfig, "\"mode\" \"\(modeText)\" is not a \(kind) mode",
                           details: "use one of \(MacvlanMode.allCases.map(\.configName).joined(separator: ", "))")
        }

        let mtu = try reader.integer("mtu", in: Int64.min...Int64.max) ?? 0
        requestedMTU = mtu == 0 ? nil : mtu

        var mac = try Self.mac(try reader.string("mac"), source: "\"mac\"", code: .invalidConfig)
        if let fromArgs = try Self.mac(request.environment.args["MAC"], source: "CNI_ARGS MAC", code: .invalidEnvironment) { mac = fromArgs }
        if let fromRuntime = try Self.mac(try request.config.runtimeConfig?.string("mac"), source: "\"runtimeConfig.mac\"", code: .invalidConfig) { mac = fromRuntime }
        let prefix = try MACPrefix(reading: reader)
        if mac == nil, let prefix, request.environment.command == .add { mac = prefix.mac(for: request.environment) }
        self.mac = mac

        broadcastQueueLength = try reader.integer("bcqueuelen", in: 0...Int64(UInt32.max)).map { UInt32($0) }
        broadcastCutoff = try reader.integer("bclim", in: -1...Int64(Int32.max)).map { Int32($0) }
        transmitQueues = try reader.integer("numTxQueues", in: 1...Self.maximumQueues).map { UInt32($0) }
        receiveQueues = try reader.integer("numRxQueues", in: 1...Self.maximumQueues).map { UInt32($0) }
        ipv6 = try IPv6Settings(reading: reader)

        if request.config.ipamType == nil, request.config.prevResult == nil, request.config.cniVersion.usesLegacyResult,
           request.environment.command == .add {
            throw CNIError(.incompatibleVersion, "a network without IPAM cannot be expressed in cniVersion \(request.config.cniVersion)",
                           details: "results of 0.1.0 and 0.2.0 only carry addresses; use cniVersion 0.3.0 or later, or configure \"ipam\"")
        }
    }

    private static func mac(_ text: String?, source: String, code: CNIError.Code) throws(CNIError) -> MACAddress? {
        guard let text, !text.isEmpty else { return nil }
        guard let mac = MACAddress(text) else {
            throw CNIError(code, "\(source) \"\(text)\" is not a MAC address", details: "expected six hexadecimal bytes such as 02:42:ac:11:00:02")
        }
        guard mac.isAssignable else {
            throw CNIError(code, "\(source) \(mac) cannot be an interface address",
                           details: mac.isZero ? "it is all zeros" : (mac.isBroadcast ? "it is the broadcast address" : "it is a multicast address (lowest bit of the first byte set)"))
        }
        return mac
    }

    /// The MTU to create the link with (nil: inherit), checked against the master: 68 up to the master's MTU,
    /// since a macvlan child cannot exceed its parent. The error names both numbers.
    public func mtu(forMaster master: String, masterMTU: UInt32) throws(CNIError) -> UInt32? {
        guard let mtu = requestedMTU else { return nil }
        guard mtu >= Self.minimumMTU, mtu <= Int64(masterMTU) else {
            throw CNIError(.invalidConfig, "\"mtu\" \(mtu) is out of range for master \(master), whose MTU is \(masterMTU)",
                           details: "use 0 to inherit the master's MTU, or a value from \(Self.minimumMTU) to \(masterMTU)")
        }
        return UInt32(mtu)
    }

    /// The RTM_NEWLINK for a child of `master` under `name` with everything this config sets at creation;
    /// from the master's namespace into the container's (`containerNamespaceFD`) unless linkInContainer.
    public func creation(of device: MacvlanDevice, name: InterfaceName, master: LinkInfo, mac: MACAddress?, mtu: UInt32?, up: Bool,
                         containerNamespaceFD: Int32) -> MacvlanRequest {
        var spec = MacvlanRequest(name: name, parentIndex: master.index, mode: mode)
        spec.device = device
        spec.mac = mac
        spec.mtu = mtu
        spec.up = up
        spec.broadcastQueueLength = broadcastQueueLength
        spec.broadcastCutoff = broadcastCutoff
        spec.transmitQueues = transmitQueues
        spec.receiveQueues = receiveQueues
        spec.namespaceFD = linkInContainer ? nil : containerNamespaceFD
        return spec
    }
}
