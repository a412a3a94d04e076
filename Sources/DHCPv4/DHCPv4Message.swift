import NetTypes

/// A BOOTP/DHCPv4 message (RFC 2131 section 2, options RFC 2132): the fixed header plus options in the order
/// they were found or added. Pure: no sockets, no clock.
public struct DHCPv4Message: Equatable, Sendable {
    public enum MessageType: UInt8, Sendable {
        case discover = 1, offer, request, decline, ack, nak, release, inform
    }

    public static let bootRequest: UInt8 = 1
    public static let bootReply: UInt8 = 2
    /// The flags bit asking the server to broadcast its reply: our socket cannot receive a unicast to an
    /// address that is not configured yet.
    public static let broadcastFlag: UInt16 = 0x8000
    static let magicCookie: [UInt8] = [99, 130, 83, 99]
    static let fixedLength = 236

    public var op: UInt8 = bootRequest
    public var transactionID: UInt32 = 0
    public var seconds: UInt16 = 0
    public var flags: UInt16 = 0
    public var clientAddress: IPAddress = .zeroV4      // ciaddr
    public var yourAddress: IPAddress = .zeroV4        // yiaddr
    public var serverAddress: IPAddress = .zeroV4      // siaddr
    public var relayAddress: IPAddress = .zeroV4       // giaddr
    public var hardwareAddress: [UInt8] = []           // chaddr (Ethernet: 6 bytes)
    public var options: [DHCPv4Option] = []

    public init() {}

    public var messageType: MessageType? {
        option(.messageType).flatMap { $0.count == 1 ? MessageType(rawValue: $0[0]) : nil }
    }

    /// The first option with this code (RFC 3396 concatenation of split long options is applied).
    public func option(_ code: DHCPv4Option.Code) -> [UInt8]? {
        let parts = options.filter { $0.code == code.rawValue }
        return parts.isEmpty ? nil : parts.flatMap(\.value)
    }

    public mutating func set(_ code: DHCPv4Option.Code, _ value: [UInt8]) {
        set(code: code.rawValue, value)
    }

    /// Replaces an option (or appends it). Values longer than 255 bytes are split over several options
    /// (RFC 3396).
    public mutating func set(code: UInt8, _ value: [UInt8]) {
        options.removeAll { $0.code == code }
        if value.isEmpty { options.append(DHCPv4Option(code: code, value: [])); return }
        var rest = value[...]
        while !rest.isEmpty {
            options.append(DHCPv4Option(code: code, value: Array(rest.prefix(255))))
            rest = rest.dropFirst(255)
        }
    }

    // MARK: encoding

    public func encoded() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Self.fixedLength)
        out[0] = op
        out[1] = 1                                    // htype Ethernet
        out[2] = UInt8(min(hardwareAddress.count, 16))
        put32(&out, 4, transactionID)
        put16(&out, 8, seconds)
        put16(&out, 10, flags)
        out.replaceSubrange(12..<16, with: clientAddress.bytes)
        out.replaceSubrange(16..<20, with: yourAddress.bytes)
        out.replaceSubrange(20..<24, with: serverAddress.bytes)
        out.replaceSubrange(24..<28, with: relayAddress.bytes)
        for (i, b) in hardwareAddress.prefix(16).enumerated() { out[28 + i] = b }
        out += Self.magicCookie
        for option in options {
            out.append(option.code)
            out.append(UInt8(option.value.count))
            out += option.value
        }
        out.append(DHCPv4Option.Code.end.rawValue)
        // Some relays and servers drop BOOTP messages shorter than 300 bytes (RFC 1542 section 2.1).
        if out.count < 300 { out += [UInt8](repeating: 0, count: 300 - out.count) }
        return out
    }

    public enum DecodeError: Error, Equatable, Sendable {
        case tooShort(Int), badMagicCookie, truncatedOption(code: UInt8)
    }

    /// Decodes a message. The `file` and `sname` fields are read as options when option 52 says so.
    public init(decoding bytes: [UInt8]) throws(DecodeError) {
        guard bytes.count >= Self.fixedLength + 4 else { throw .tooShort(bytes.count) }
        guard Array(bytes[236..<240]) == Self.magicCookie else { throw .badMagicCookie }
        op = bytes[0]
        transactionID = get32(bytes, 4)
        seconds = get16(bytes, 8)
        flags = get16(bytes, 10)
        clientAddress = IPAddress(bytes: Array(bytes[12..<16]))!
        yourAddress = IPAddress(bytes: Array(bytes[16..<20]))!
        serverAddress = IPAddress(bytes: Array(bytes[20..<24]))!
        relayAddress = IPAddress(bytes: Array(bytes[24..<28]))!
        hardwareAddress = Array(bytes[28..<(28 + Int(min(bytes[2], 16)))])
        options = try Self.parseOptions(bytes[240...])
        if let overload = option(.overload), overload.count == 1 {
            if overload[0] & 1 != 0 { options += try Self.parseOptions(bytes[108..<236]) }
            if overload[0] & 2 != 0 { options += try Self.parseOptions(bytes[44..<108]) }
        }
    }

    static func parseOptions(_ area: ArraySlice<UInt8>) throws(DecodeError) -> [DHCPv4Option] {
        var out: [DHCPv4Option] = []
        var i = area.startIndex
        while i < area.endIndex {
            let code = area[i]
            if code == DHCPv4Option.Code.pad.rawValue { i += 1; continue }
            if code == DHCPv4Option.Code.end.rawValue { break }
            guard i + 1 < area.endIndex else { throw .truncatedOption(code: code) }
            let length = Int(area[i + 1])
            guard i + 2 + length <= area.endIndex else { throw .truncatedOption(code: code) }
            out.append(DHCPv4Option(code: code, value: Array(area[(i + 2)..<(i + 2 + length)])))
            i += 2 + length
        }
        return out
    }
}

public struct DHCPv4Option: Equatable, Sendable {
    public var code: UInt8
    public var value: [UInt8]
    public init(code: UInt8, value: [UInt8]) { self.code = code; self.value = value }

    public enum Code: UInt8, Sendable {
        case pad = 0, subnetMask = 1, router = 3, dnsServers = 6, hostName = 12, domainName = 15
        case staticRoutes = 33, requestedAddress = 50, leaseTime = 51, overload = 52, messageType = 53
        case serverIdentifier = 54, parameterRequestList = 55, message = 56, maximumMessageSize = 57
        case renewalTime = 58, rebindingTime = 59, vendorClass = 60, clientIdentifier = 61, userClass = 77
        case domainSearch = 119, classlessRoutes = 121, end = 255
    }
}

extension IPAddress {
    public static let zeroV4 = IPAddress(bytes: [0, 0, 0, 0])!
    public static let broadcastV4 = IPAddress(bytes: [255, 255, 255, 255])!
}

func put16(_ b: inout [UInt8], _ at: Int, _ v: UInt16) { b[at] = UInt8(v >> 8); b[at + 1] = UInt8(v & 0xFF) }
func put32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) {
    for i in 0..<4 { b[at + i] = UInt8((v >> (24 - 8 * UInt32(i))) & 0xFF) }
}
func get16(_ b: [UInt8], _ at: Int) -> UInt16 { UInt16(b[at]) << 8 | UInt16(b[at + 1]) }
func get32(_ b: [UInt8], _ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 << 8 | UInt32(b[at + $1]) } }
func get32(_ b: [UInt8]) -> UInt32? { b.count == 4 ? get32(b, 0) : nil }
func bytes32(_ v: UInt32) -> [UInt8] { var b = [UInt8](repeating: 0, count: 4); put32(&b, 0, v); return b }
