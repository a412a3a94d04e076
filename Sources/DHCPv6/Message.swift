import NetTypes

/// RFC 8415 §7.3 message types a client sends or receives (relay messages are for relays only).
public enum MessageType: Equatable, Hashable, Sendable, CustomStringConvertible {
    case solicit, advertise, request, confirm, renew, rebind, reply, release, decline, reconfigure, informationRequest
    case other(UInt8)

    public init(code: UInt8) {
        switch code {
        case 1: self = .solicit
        case 2: self = .advertise
        case 3: self = .request
        case 4: self = .confirm
        case 5: self = .renew
        case 6: self = .rebind
        case 7: self = .reply
        case 8: self = .release
        case 9: self = .decline
        case 10: self = .reconfigure
        case 11: self = .informationRequest
        default: self = .other(code)
        }
    }

    public var code: UInt8 {
        switch self {
        case .solicit: return 1
        case .advertise: return 2
        case .request: return 3
        case .confirm: return 4
        case .renew: return 5
        case .rebind: return 6
        case .reply: return 7
        case .release: return 8
        case .decline: return 9
        case .reconfigure: return 10
        case .informationRequest: return 11
        case let .other(code): return code
        }
    }

    public var description: String {
        switch self {
        case .solicit: return "SOLICIT"
        case .advertise: return "ADVERTISE"
        case .request: return "REQUEST"
        case .confirm: return "CONFIRM"
        case .renew: return "RENEW"
        case .rebind: return "REBIND"
        case .reply: return "REPLY"
        case .release: return "RELEASE"
        case .decline: return "DECLINE"
        case .reconfigure: return "RECONFIGURE"
        case .informationRequest: return "INFORMATION-REQUEST"
        case let .other(code): return "type \(code)"
        }
    }
}

/// A client/server DHCPv6 message (RFC 8415 §8): type, 24-bit transaction ID, options in wire order.
public struct Message: Equatable, Sendable {
    public var type: MessageType
    public var transactionID: UInt32  // low 24 bits
    public var options: [DHCPOption]

    public init(type: MessageType, transactionID: UInt32, options: [DHCPOption]) {
        self.type = type
        self.transactionID = transactionID & 0xFF_FFFF
        self.options = options
    }

    /// Decodes a UDP payload. Throws on anything malformed (RFC 8415 §16: the client discards such messages).
    public init(decoding bytes: [UInt8]) throws(DecodeError) {
        var reader = WireReader(bytes)
        let code = try reader.u8("message type")
        // Relay-forward/relay-reply have a different header (hop count, link and peer addresses).
        guard code != 12, code != 13 else { throw .relayMessage(type: code) }
        let high = try reader.u8("transaction id"), mid = try reader.u8("transaction id"), low = try reader.u8("transaction id")
        type = MessageType(code: code)
        transactionID = UInt32(high) << 16 | UInt32(mid) << 8 | UInt32(low)
        options = try DHCPOption.decodeList(&reader)
    }

    public func encoded() -> [UInt8] {
        var w = WireWriter()
        w.u8(type.code)
        w.u8(UInt8(truncatingIfNeeded: transactionID >> 16))
        w.u8(UInt8(truncatingIfNeeded: transactionID >> 8))
        w.u8(UInt8(truncatingIfNeeded: transactionID))
        for option in options { option.encode(into: &w) }
        return w.bytes
    }

    // Accessors for the options a client acts on: the first occurrence wins.
    public var clientID: [UInt8]? { options.lazy.compactMap { if case let .clientID(d) = $0 { d } else { nil } }.first }
    public var serverID: [UInt8]? { options.lazy.compactMap { if case let .serverID(d) = $0 { d } else { nil } }.first }
    public var preference: UInt8? { options.lazy.compactMap { if case let .preference(p) = $0 { p } else { nil } }.first }
    public var status: StatusCode? { options.lazy.compactMap { if case let .statusCode(s) = $0 { s } else { nil } }.first }
    public var serverUnicast: IPAddress? { options.lazy.compactMap { if case let .serverUnicast(a) = $0 { a } else { nil } }.first }
    public var dnsServers: [IPAddress] { options.lazy.compactMap { if case let .dnsServers(a) = $0 { a } else { nil } }.first ?? [] }
    public var domainList: [String] { options.lazy.compactMap { if case let .domainList(d) = $0 { d } else { nil } }.first ?? [] }
    public var hasRapidCommit: Bool { options.contains { if case .rapidCommit = $0 { true } else { false } } }
    public func iaNA(_ iaid: UInt32) -> IANA? {
        options.lazy.compactMap { if case let .iaNA(ia) = $0, ia.iaid == iaid { ia } else { nil } }.first
    }
}
