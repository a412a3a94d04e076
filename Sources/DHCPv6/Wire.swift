/// Bounds-checked reading and big-endian writing of DHCPv6 wire data. Every read checks the remaining length
/// first and throws instead of trapping: a DHCPv6 client decodes packets from anyone on the link.
struct WireReader {
    private let bytes: [UInt8]
    private(set) var offset: Int
    let end: Int

    init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.offset = start
        self.end = end ?? bytes.count
    }

    var remaining: Int { end - offset }
    var isAtEnd: Bool { offset >= end }

    mutating func take(_ count: Int, _ what: StaticString) throws(DecodeError) -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else { throw .truncated(what: "\(what)", offset: offset) }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    mutating func u8(_ what: StaticString) throws(DecodeError) -> UInt8 { try take(1, what).first! }

    mutating func u16(_ what: StaticString) throws(DecodeError) -> UInt16 {
        let s = try take(2, what)
        return UInt16(s[s.startIndex]) << 8 | UInt16(s[s.startIndex + 1])
    }

    mutating func u32(_ what: StaticString) throws(DecodeError) -> UInt32 {
        let s = try take(4, what)
        return s.reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// A sub-reader over the next `count` bytes (an option's body); this reader moves past them.
    mutating func sub(_ count: Int, _ what: StaticString) throws(DecodeError) -> WireReader {
        let start = offset
        _ = try take(count, what)
        return WireReader(bytes, from: start, to: start + count)
    }

    mutating func rest() -> [UInt8] {
        defer { offset = end }
        return Array(bytes[offset..<end])
    }
}

struct WireWriter {
    private(set) var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { bytes.append(UInt8(v >> 8)); bytes.append(UInt8(v & 0xFF)) }
    mutating func u32(_ v: UInt32) { for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt32(shift))) } }
    mutating func append<C: Collection<UInt8>>(_ data: C) { bytes.append(contentsOf: data) }

    /// Writes an option header and a body produced by `body`, with the body's length filled in afterwards.
    mutating func option(_ code: UInt16, _ body: (inout WireWriter) -> Void) {
        var inner = WireWriter()
        body(&inner)
        u16(code)
        u16(UInt16(truncatingIfNeeded: inner.bytes.count))
        append(inner.bytes)
    }
}

/// Why a packet was rejected. The offset is where in the packet the decoder was when it gave up.
public enum DecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated(what: String, offset: Int)
    case badLength(option: UInt16, length: Int)
    case badValue(what: String)
    case relayMessage(type: UInt8)

    public var description: String {
        switch self {
        case let .truncated(what, offset): return "DHCPv6 packet truncated in \(what) at byte \(offset)"
        case let .badLength(option, length): return "DHCPv6 option \(option) has invalid length \(length)"
        case let .badValue(what): return "DHCPv6 packet has an invalid \(what)"
        case let .relayMessage(type): return "DHCPv6 relay message (type \(type)) is not for a client"
        }
    }
}
