import CNI
import LinkPlugin
import NetTypes

/// The macvtap config: the keys the macvlan family shares (`MacvlanFamilyConfig`, reachable as
/// `config.master`, `config.mode`, ...) and macvtap's own, validated before anything is changed.
@dynamicMemberLookup
public struct MacvtapConfig: Sendable {
    public let family: MacvlanFamilyConfig
    /// `promisc`: the macvtap receives every frame its master passes it (a guest bridging further needs this).
    public let promiscuous: Bool
    /// `tap`: owner, group and mode of the character device node the plugin makes.
    public let permissions: NodePermissions
    /// `deviceID`: an existing macvtap of the master's namespace to adopt instead of creating one.
    public let deviceID: InterfaceName?
    /// `stateDir`: where the plugin keeps one record per attachment (for DEL, CHECK and GC).
    public let stateDirectory: String

    /// Runtime state: macvtaps and their nodes do not survive a reboot, and neither should their records.
    public static let defaultStateDirectory = "/run/cni/macvtap"

    public init(_ request: Request) throws(CNIError) {
        let reader = request.config.reader
        family = try MacvlanFamilyConfig(request, kind: "macvtap", deviceIDNamesMaster: false)
        promiscuous = try reader.bool("promisc") ?? false
        permissions = try NodePermissions(reading: try reader.reader("tap"))

        // Multus puts a device plugin's device into the config, or into runtimeConfig (the "deviceID" capability).
        if let text = try MasterChoice.deviceID(of: request)?.text {
            guard let deviceID = InterfaceName(text) else {
                throw CNIError(.invalidConfig, "\"deviceID\" \"\(text)\" is not a valid interface name",
                               details: "it names the macvtap to adopt (\(InterfaceName.problem(text) ?? ""))")
            }
            if family.linkInContainer {
                throw CNIError(.invalidConfig, "\"deviceID\" cannot be combined with \"linkInContainer\"",
                               details: "an adopted macvtap comes from the plugin's namespace and is given back there")
            }
            for (key, given) in [("bcqueuelen", family.broadcastQueueLength != nil), ("bclim", family.broadcastCutoff != nil),
                                 ("numTxQueues", family.transmitQueues != nil), ("numRxQueues", family.receiveQueues != nil)] where given {
                throw CNIError(.invalidConfig, "\"\(key)\" cannot be combined with \"deviceID\"",
                               details: "it is set when a macvtap is created; the adopted one keeps its own")
            }
            self.deviceID = deviceID
        } else {
            self.deviceID = nil
        }

        let directory = try reader.string("stateDir") ?? ""
        if directory.isEmpty {
            stateDirectory = Self.defaultStateDirectory
        } else {
            guard directory.isAbsolutePathWithoutParentReference else {
                throw CNIError(.invalidConfig, "\"stateDir\" \"\(directory)\" must be an absolute path without \"..\"",
                               details: "give an absolute directory without \"..\", e.g. \(Self.defaultStateDirectory)")
            }
            stateDirectory = directory
        }
    }

    public subscript<T>(dynamicMember path: KeyPath<MacvlanFamilyConfig, T>) -> T { family[keyPath: path] }
}

/// `tap`: `{"owner": uid, "group": gid, "mode": "0660"}`; by default root, root, 0600 (as the kernel's own node).
public struct NodePermissions: Sendable, Equatable {
    public var owner: UInt32 = 0
    public var group: UInt32 = 0
    public var mode: UInt32 = 0o600

    public init() {}

    public init(owner: UInt32, group: UInt32, mode: UInt32) {
        self.owner = owner
        self.group = group
        self.mode = mode
    }

    /// The largest uid/gid: (uid_t)-1 means "unchanged" to chown, so it cannot be an owner.
    static let maximumID = Int64(UInt32.max) - 1

    init(reading reader: ConfigReader?) throws(CNIError) {
        guard let reader else { return }
        if let owner = try reader.integer("owner", in: 0...Self.maximumID) { self.owner = UInt32(owner) }
        if let group = try reader.integer("group", in: 0...Self.maximumID) { self.group = UInt32(group) }
        if let text = try reader.string("mode") {
            guard let mode = Self.octal(text) else {
                throw CNIError(.invalidConfig, "\"\(reader.name("mode"))\" \"\(text)\" is not a file mode",
                               details: "give permission bits in octal, from \"0000\" to \"0777\", e.g. \"0660\"")
            }
            self.mode = mode
        }
    }

    /// Octal permission bits only (no setuid, setgid or sticky bit on a device node).
    static func octal(_ text: String) -> UInt32? {
        guard (1...4).contains(text.utf8.count) else { return nil }
        var value: UInt32 = 0
        for byte in text.utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "7") else { return nil }
            value = value * 8 + UInt32(byte - UInt8(ascii: "0"))
        }
        return value <= 0o777 ? value : nil
    }

    /// "0660".
    public var modeText: String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.utf8.count)) + digits
    }
}
