import CNI
import DHCPv4
import DHCPv6
import JSON

/// The plugin↔daemon protocol: one JSON request per connection, one JSON reply, each ending with a newline.
/// Ours, not the reference's Go net/rpc+gob (see README "DHCP"): a request carries the CNI invocation as is.
public struct ControlRequest: Sendable, Equatable {
    public var command: Command
    public var containerID: String
    public var netns: String
    public var ifName: String
    /// The options to send the server, CNI_ARGS values already filled in by the plugin (which validated
    /// CNI_ARGS), so the daemon never parses CNI_ARGS.
    public var provided: [DHCPv4Option]
    /// The network config the plugin received on stdin.
    public var config: JSONObject
    /// GC: the attachments to keep (`cni.dev/valid-attachments`), as (containerID, ifName).
    public var validAttachments: [(containerID: String, ifName: String)]

    public init(command: Command, containerID: String, netns: String, ifName: String, provided: [DHCPv4Option] = [], config: JSONObject,
                validAttachments: [(containerID: String, ifName: String)] = []) {
        self.command = command; self.containerID = containerID; self.netns = netns; self.ifName = ifName
        self.provided = provided; self.config = config; self.validAttachments = validAttachments
    }

    public static func == (a: ControlRequest, b: ControlRequest) -> Bool {
        a.command == b.command && a.containerID == b.containerID && a.netns == b.netns && a.ifName == b.ifName
            && a.provided == b.provided && a.config == b.config
            && a.validAttachments.elementsEqual(b.validAttachments, by: { $0.containerID == $1.containerID && $0.ifName == $1.ifName })
    }

    public var json: JSONValue {
        var o = JSONObject()
        o["command"] = .string(command.rawValue)
        o["containerID"] = .string(containerID)
        o["netns"] = .string(netns)
        o["ifName"] = .string(ifName)
        if !provided.isEmpty {
            o["provided"] = .array(provided.map { ["code": .int(Int64($0.code)), "value": .string(hexText($0.value))] })
        }
        o["config"] = .object(config)
        if command == .gc {
            o["validAttachments"] = .array(validAttachments.map { ["containerID": .string($0.containerID), "ifname": .string($0.ifName)] })
        }
        return .object(o)
    }

    public init(json value: JSONValue) throws(CNIError) {
        guard let o = value.objectValue, let name = o["command"]?.stringValue,
              let command = Command.allCases.first(where: { $0.rawValue == name }),
              let config = o["config"]?.objectValue else {
            throw CNIError(.decodingFailure, "malformed request to the DHCP daemon")
        }
        self.init(command: command, containerID: o["containerID"]?.stringValue ?? "", netns: o["netns"]?.stringValue ?? "",
                  ifName: o["ifName"]?.stringValue ?? "", provided: try Self.options(o["provided"]), config: config,
                  validAttachments: Self.attachments(o["validAttachments"]))
    }

    static func options(_ value: JSONValue?) throws(CNIError) -> [DHCPv4Option] {
        var out: [DHCPv4Option] = []
        for item in value?.arrayValue ?? [] {
            guard let code = item["code"]?.intValue, (1...254).contains(code),
                  let bytes = item["value"]?.stringValue.flatMap(hexBytes), bytes.count <= 255 else {
                throw CNIError(.decodingFailure, "malformed provided option in a request to the DHCP daemon")
            }
            out.append(DHCPv4Option(code: UInt8(code), value: bytes))
        }
        return out
    }

    /// `cni.dev/valid-attachments` entries: objects with "containerID" and "ifname".
    public static func attachments(_ value: JSONValue?) -> [(containerID: String, ifName: String)] {
        (value?.arrayValue ?? []).compactMap { item in
            guard let id = item["containerID"]?.stringValue, let ifName = item["ifname"]?.stringValue else { return nil }
            return (id, ifName)
        }
    }
}

/// The daemon's answer: a result (ADD), plain success, or a CNI error the plugin prints as its own.
public enum ControlReply: Sendable, Equatable {
    case result(JSONValue)
    case ok
    case failure(CNIError)

    public var json: JSONValue {
        switch self {
        case let .result(r): return ["result": r]
        case .ok: return ["ok": true]
        case let .failure(e):
            var o = JSONObject()
            o["code"] = .int(Int64(e.code.rawValue))
            o["msg"] = .string(e.message)
            if !e.details.isEmpty { o["details"] = .string(e.details) }
            return ["error": .object(o)]
        }
    }

    public init(json value: JSONValue) throws(CNIError) {
        if let r = value["result"] { self = .result(r); return }
        if value["ok"]?.boolValue == true { self = .ok; return }
        if let e = value["error"], let code = e["code"]?.intValue, let msg = e["msg"]?.stringValue {
            self = .failure(CNIError(CNIError.Code(rawValue: Int(code)), msg, details: e["details"]?.stringValue ?? ""))
            return
        }
        throw CNIError(.decodingFailure, "malformed reply from the DHCP daemon")
    }

    public static func == (a: ControlReply, b: ControlReply) -> Bool {
        switch (a, b) {
        case let (.result(x), .result(y)): return x == y
        case (.ok, .ok): return true
        case let (.failure(x), .failure(y)): return x.code == y.code && x.message == y.message && x.details == y.details
        default: return false
        }
    }
}
