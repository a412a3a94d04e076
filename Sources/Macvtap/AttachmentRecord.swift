import NetTypes

/// What the plugin keeps on disk per attachment, at `<stateDir>/<network>/<CNI_CONTAINERID>@<CNI_IFNAME>`:
/// which network owns the node (GC sweeps only its own network's), the device number the node was made for
/// (CHECK), and for an adopted macvtap what DEL needs to give it back as it was. One `key=value` per line.
public struct AttachmentRecord: Equatable, Sendable {
    public var containerID: String
    public var ifName: InterfaceName
    public var netns: String
    public var node: String
    public var device: DeviceNumber?
    public var adopted: AdoptedDevice?

    public init(containerID: String, ifName: InterfaceName, netns: String, node: String) {
        self.containerID = containerID
        self.ifName = ifName
        self.netns = netns
        self.node = node
    }

    /// An adopted macvtap as it was in the master's namespace before the ADD.
    public struct AdoptedDevice: Equatable, Sendable {
        public var name: InterfaceName
        public var mac: MACAddress?
        public var mtu: UInt32
        public var promiscuous: Bool
        public var up: Bool

        public init(name: InterfaceName, mac: MACAddress?, mtu: UInt32, promiscuous: Bool, up: Bool) {
            self.name = name
            self.mac = mac
            self.mtu = mtu
            self.promiscuous = promiscuous
            self.up = up
        }
    }

    public var encoded: [UInt8] {
        var lines = [("containerID", containerID), ("ifName", ifName.text), ("netns", netns), ("node", node)]
        if let device { lines.append(("device", device.description)) }
        if let adopted {
            lines += [("adoptedName", adopted.name.text), ("adoptedMTU", "\(adopted.mtu)"),
                      ("adoptedPromisc", adopted.promiscuous ? "1" : "0"), ("adoptedUp", adopted.up ? "1" : "0")]
            if let mac = adopted.mac { lines.append(("adoptedMAC", mac.description)) }
        }
        return Array(lines.map { "\($0.0)=\(Self.escape($0.1))\n" }.joined().utf8)
    }

    /// nil for anything this version did not write (a damaged record is reported, never guessed at).
    public init?(decoding bytes: [UInt8]) {
        var values: [String: String] = [:]
        for line in bytes.split(separator: UInt8(ascii: "\n")) {
            guard let equals = line.firstIndex(of: UInt8(ascii: "=")) else { return nil }
            guard let key = String(validating: line[..<equals], as: UTF8.self),
                  let value = Self.unescape(Array(line[(equals + 1)...])) else { return nil }
            values[key] = value
        }
        // Names this plugin validated before writing them: one that is not an interface name is damage too.
        guard let containerID = values["containerID"], let ifName = values["ifName"].flatMap(InterfaceName.init), let netns = values["netns"],
              let node = values["node"] else { return nil }
        self.init(containerID: containerID, ifName: ifName, netns: netns, node: node)
        if let text = values["device"] {
            guard let device = DeviceNumber(text) else { return nil }
            self.device = device
        }
        if let text = values["adoptedName"] {
            guard let name = InterfaceName(text), let mtu = values["adoptedMTU"].flatMap({ UInt32($0) }) else { return nil }
            let mac = values["adoptedMAC"].flatMap { MACAddress($0) }
            adopted = AdoptedDevice(name: name, mac: mac, mtu: mtu, promiscuous: values["adoptedPromisc"] == "1",
                                    up: values["adoptedUp"] == "1")
        }
    }

    /// Values are kept on one line: '%' and newline are percent-encoded.
    static func escape(_ value: String) -> String {
        var out = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "%": out += "%25"
            case "\n": out += "%0A"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func unescape(_ bytes: [UInt8]) -> String? {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%") {
                guard i + 2 < bytes.count else { return nil }
                let code = bytes[(i + 1)...(i + 2)]
                if code.elementsEqual("25".utf8) { out.append(UInt8(ascii: "%")) }
                else if code.elementsEqual("0A".utf8) { out.append(UInt8(ascii: "\n")) }
                else { return nil }
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    /// The record's file name: the node's (see TapNode), unique per attachment.
    static func fileName(containerID: String, ifName: InterfaceName) -> String { TapNode.fileName(containerID: containerID, ifName: ifName) }
}
