import CNI
import Netlink
import NetTypes

/// The config keys every plugin of the macvlan family (macvlan, macvtap) reads the same way, validated before
/// anything is changed: `master`, `mode`, `mtu`, the MAC (config `mac` < CNI_ARGS `MAC` < `runtimeConfig.mac`),
/// `linkInContainer` and `bcqueuelen`. Each plugin's config holds one and adds its own keys.
public struct MacvlanFamilyConfig: Sendable {
    /// nil: use the interface of the lowest-metric default route.
    public let master: String?
    public let mode: MacvlanMode
    /// nil: inherit the master's MTU. Checked against the master's MTU once the master is known (`mtu(for:)`).
    public let requestedMTU: Int64?
    /// After precedence: config `mac` < CNI_ARGS `MAC` < `runtimeConfig.mac`.
    public let mac: MACAddress?
    public let linkInContainer: Bool
    /// `bcqueuelen`: IFLA_MACVLAN_BC_QUEUE_LEN, set at creation.
    public let broadcastQueueLength: UInt32?

    /// The smallest MTU the kernel accepts for an IPv4-capable Ethernet device.
    public static let minimumMTU: Int64 = 68

    /// `kind` names the plugin's links in messages ("macvlan", "macvtap").
    public init(_ request: Request, kind: String) throws(CNIError) {
        let reader = request.config.reader
        let master = try reader.string("master") ?? ""
        if !master.isEmpty, let problem = Environment.interfaceNameProblem(master) {
            throw CNIError(.invalidConfig, "\"master\" \"\(master)\" is not a valid interface name", details: problem)
        }
        self.master = master.isEmpty ? nil : master

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
        self.mac = mac

        linkInContainer = try reader.bool("linkInContainer") ?? false
        broadcastQueueLength = try reader.integer("bcqueuelen", in: 0...Int64(UInt32.max)).map { UInt32($0) }

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
}
