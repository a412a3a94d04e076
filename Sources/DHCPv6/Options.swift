import NetTypes

/// Option codes (RFC 8415 §21, RFC 3646 for 23/24).
public enum OptionCode {
    public static let clientID: UInt16 = 1
    public static let serverID: UInt16 = 2
    public static let iaNA: UInt16 = 3
    public static let iaAddress: UInt16 = 5
    public static let optionRequest: UInt16 = 6
    public static let preference: UInt16 = 7
    public static let elapsedTime: UInt16 = 8
    public static let serverUnicast: UInt16 = 12
    public static let statusCode: UInt16 = 13
    public static let rapidCommit: UInt16 = 14
    public static let dnsServers: UInt16 = 23
    public static let domainList: UInt16 = 24
    public static let solMaxRT: UInt16 = 82
}

/// One option. Options this module does not interpret are kept as `.unknown` so a decode/encode round trip
/// gives back the same bytes.
public enum DHCPOption: Equatable, Sendable {
    case clientID([UInt8])          // a DUID
    case serverID([UInt8])
    case iaNA(IANA)
    case optionRequest([UInt16])
    case preference(UInt8)
    case elapsedTime(UInt16)        // hundredths of a second
    case serverUnicast(IPAddress)
    case statusCode(StatusCode)
    case rapidCommit
    case dnsServers([IPAddress])
    case domainList([String])       // fully qualified names, without the trailing dot
    case solMaxRT(UInt32)           // seconds
    case unknown(code: UInt16, data: [UInt8])

    static func decodeList(_ reader: inout WireReader) throws(DecodeError) -> [DHCPOption] {
        var out: [DHCPOption] = []
        while !reader.isAtEnd {
            let code = try reader.u16("option code")
            let length = Int(try reader.u16("option length"))
            var body = try reader.sub(length, "option body")
            out.append(try decode(code: code, length: length, &body))
        }
        return out
    }

    private static func decode(code: UInt16, length: Int, _ r: inout WireReader) throws(DecodeError) -> DHCPOption {
        func need(_ ok: Bool) throws(DecodeError) { if !ok { throw .badLength(option: code, length: length) } }
        switch code {
        case OptionCode.clientID, OptionCode.serverID:
            // RFC 8415 §11.1: a DUID is a 2-byte type and at most 128 bytes of identifier.
            try need(length >= 2 && length <= 130)
            let duid = r.rest()
            return code == OptionCode.clientID ? .clientID(duid) : .serverID(duid)
        case OptionCode.iaNA:
            return .iaNA(try IANA(decoding: &r))
        case OptionCode.optionRequest:
            try need(length % 2 == 0)
            var codes: [UInt16] = []
            while !r.isAtEnd { codes.append(try r.u16("requested option")) }
            return .optionRequest(codes)
        case OptionCode.preference:
            try need(length == 1)
            return .preference(try r.u8("preference"))
        case OptionCode.elapsedTime:
            try need(length == 2)
            return .elapsedTime(try r.u16("elapsed time"))
        case OptionCode.serverUnicast:
            try need(length == 16)
            return .serverUnicast(IPAddress(bytes: r.rest())!)
        case OptionCode.statusCode:
            return .statusCode(try StatusCode(decoding: &r, length: length))
        case OptionCode.rapidCommit:
            try need(length == 0)
            return .rapidCommit
        case OptionCode.dnsServers:
            try need(length % 16 == 0)
            var servers: [IPAddress] = []
            while !r.isAtEnd { servers.append(IPAddress(bytes: Array(try r.take(16, "DNS server")))!) }
            return .dnsServers(servers)
        case OptionCode.domainList:
            return .domainList(try decodeDomainNames(&r))
        case OptionCode.solMaxRT:
            try need(length == 4)
            return .solMaxRT(try r.u32("SOL_MAX_RT"))
        default:
            return .unknown(code: code, data: r.rest())
        }
    }

    func encode(into w: inout WireWriter) {
        switch self {
        case let .clientID(duid): w.option(OptionCode.clientID) { $0.append(duid) }
        case let .serverID(duid): w.option(OptionCode.serverID) { $0.append(duid) }
        case let .iaNA(ia): w.option(OptionCode.iaNA) { ia.encodeBody(into: &$0) }
        case let .optionRequest(codes): w.option(OptionCode.optionRequest) { for c in codes { $0.u16(c) } }
        case let .preference(p): w.option(OptionCode.preference) { $0.u8(p) }
        case let .elapsedTime(t): w.option(OptionCode.elapsedTime) { $0.u16(t) }
        case let .serverUnicast(a): w.option(OptionCode.serverUnicast) { $0.append(a.bytes) }
        case let .statusCode(s): w.option(OptionCode.statusCode) { s.encodeBody(into: &$0) }
        case .rapidCommit: w.option(OptionCode.rapidCommit) { _ in }
        case let .dnsServers(list): w.option(OptionCode.dnsServers) { for a in list { $0.append(a.bytes) } }
        case let .domainList(names): w.option(OptionCode.domainList) { encodeDomainNames(names, into: &$0) }
        case let .solMaxRT(v): w.option(OptionCode.solMaxRT) { $0.u32(v) }
        case let .unknown(code, data): w.option(code) { $0.append(data) }
        }
    }
}

/// RFC 8415 §21.13 status codes.
public struct StatusCode: Equatable, Sendable, CustomStringConvertible {
    public var code: UInt16
    public var message: String

    public static let success: UInt16 = 0
    public static let unspecFail: UInt16 = 1
    public static let noAddrsAvail: UInt16 = 2
    public static let noBinding: UInt16 = 3
    public static let notOnLink: UInt16 = 4
    public static let useMulticast: UInt16 = 5

    public init(code: UInt16, message: String = "") { self.code = code; self.message = message }

    init(decoding r: inout WireReader, length: Int) throws(DecodeError) {
        guard length >= 2 else { throw .badLength(option: OptionCode.statusCode, length: length) }
        code = try r.u16("status code")
        // The message is UTF-8 for display only: invalid sequences are replaced, never rejected.
        message = String(decoding: r.rest(), as: UTF8.self)
    }

    func encodeBody(into w: inout WireWriter) { w.u16(code); w.append(message.utf8) }

    public var isSuccess: Bool { code == StatusCode.success }
    public var description: String { message.isEmpty ? "status \(code)" : "status \(code) (\(message))" }
}

/// IA_NA (RFC 8415 §21.4): the client's identity association for non-temporary addresses.
public struct IANA: Equatable, Sendable {
    public var iaid: UInt32
    public var t1: UInt32
    public var t2: UInt32
    /// Everything inside, in wire order: `.iaAddress`, `.status`, `.other` (kept for round trips).
    public var options: [IAOption]

    public init(iaid: UInt32, t1: UInt32 = 0, t2: UInt32 = 0, options: [IAOption] = []) {
        self.iaid = iaid; self.t1 = t1; self.t2 = t2; self.options = options
    }

    public var addresses: [IAAddress] { options.compactMap { if case let .address(a) = $0 { a } else { nil } } }
    public var status: StatusCode? { options.firstStatus }

    init(decoding r: inout WireReader) throws(DecodeError) {
        iaid = try r.u32("IA_NA IAID")
        t1 = try r.u32("IA_NA T1")
        t2 = try r.u32("IA_NA T2")
        options = try IAOption.decodeList(&r)
    }

    func encodeBody(into w: inout WireWriter) {
        w.u32(iaid); w.u32(t1); w.u32(t2)
        for o in options { o.encode(into: &w) }
    }
}

/// What an IA_NA or IAADDR may carry.
public enum IAOption: Equatable, Sendable {
    case address(IAAddress)
    case status(StatusCode)
    case other(code: UInt16, data: [UInt8])

    static func decodeList(_ r: inout WireReader) throws(DecodeError) -> [IAOption] {
        var out: [IAOption] = []
        while !r.isAtEnd {
            let code = try r.u16("option code")
            let length = Int(try r.u16("option length"))
            var body = try r.sub(length, "option body")
            switch code {
            case OptionCode.iaAddress: out.append(.address(try IAAddress(decoding: &body, length: length)))
            case OptionCode.statusCode: out.append(.status(try StatusCode(decoding: &body, length: length)))
            default: out.append(.other(code: code, data: body.rest()))
            }
        }
        return out
    }

    func encode(into w: inout WireWriter) {
        switch self {
        case let .address(a): w.option(OptionCode.iaAddress) { a.encodeBody(into: &$0) }
        case let .status(s): w.option(OptionCode.statusCode) { s.encodeBody(into: &$0) }
        case let .other(code, data): w.option(code) { $0.append(data) }
        }
    }
}

extension [IAOption] {
    /// The first STATUS_CODE among an IA_NA's or IAADDR's options.
    var firstStatus: StatusCode? { lazy.compactMap { if case let .status(s) = $0 { s } else { nil } }.first }
}

/// IAADDR (RFC 8415 §21.6). Lifetimes in seconds; 0xFFFFFFFF is infinity.
public struct IAAddress: Equatable, Sendable {
    public var address: IPAddress
    public var preferredLifetime: UInt32
    public var validLifetime: UInt32
    public var options: [IAOption]

    public init(address: IPAddress, preferredLifetime: UInt32 = 0, validLifetime: UInt32 = 0, options: [IAOption] = []) {
        self.address = address; self.preferredLifetime = preferredLifetime; self.validLifetime = validLifetime; self.options = options
    }

    public var status: StatusCode? { options.firstStatus }

    init(decoding r: inout WireReader, length: Int) throws(DecodeError) {
        guard length >= 24 else { throw .badLength(option: OptionCode.iaAddress, length: length) }
        address = IPAddress(bytes: Array(try r.take(16, "IAADDR address")))!
        preferredLifetime = try r.u32("IAADDR preferred lifetime")
        validLifetime = try r.u32("IAADDR valid lifetime")
        options = try IAOption.decodeList(&r)
    }

    func encodeBody(into w: inout WireWriter) {
        w.append(address.bytes); w.u32(preferredLifetime); w.u32(validLifetime)
        for o in options { o.encode(into: &w) }
    }
}

/// RFC 1035 §3.1 names without compression (RFC 8415 §10): length-prefixed labels ending in a zero byte.
func decodeDomainNames(_ r: inout WireReader) throws(DecodeError) -> [String] {
    var names: [String] = []
    while !r.isAtEnd {
        var labels: [String] = []
        var wireLength = 0
        while true {
            let length = Int(try r.u8("domain label length"))
            wireLength += 1 + length
            guard wireLength <= 255 else { throw .badValue(what: "domain name longer than 255 bytes") }
            if length == 0 { break }
            guard length <= 63 else { throw .badValue(what: "domain label length \(length)") }
            let label = try r.take(length, "domain label")
            // Printable ASCII without "." keeps the text form unambiguous (and its re-encoding identical).
            guard label.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: ".") }) else {
                throw .badValue(what: "domain label character")
            }
            labels.append(String(decoding: label, as: UTF8.self))
        }
        names.append(labels.joined(separator: "."))
    }
    return names
}

func encodeDomainNames(_ names: [String], into w: inout WireWriter) {
    for name in names {
        for label in name.split(onByte: UInt8(ascii: "."), omittingEmpty: true) {
            let bytes = Array(label.utf8.prefix(63))
            w.u8(UInt8(bytes.count)); w.append(bytes)
        }
        w.u8(0)
    }
}
