import CMnl
import Glibc

/// An independent decoder for the tests: walks a message with libmnl directly, so encoding bugs in the module
/// cannot hide behind the module's own parser.
struct DecodedMessage {
    var type: UInt16
    var flags: UInt16
    var sequence: UInt32
    var familyHeader: [UInt8]
    var attributes: [UInt16: [UInt8]]
    var order: [UInt16]

    init?(_ bytes: [UInt8], familyHeaderSize: Int) {
        guard bytes.count >= 16 else { return nil }
        let result: DecodedMessage? = bytes.withUnsafeBytes { raw in
            let nlh = raw.baseAddress!.assumingMemoryBound(to: nlmsghdr.self)
            guard mnl_nlmsg_ok(nlh, Int32(raw.count)), Int(nlh.pointee.nlmsg_len) == raw.count else { return nil }
            let family = Array(UnsafeRawBufferPointer(start: mnl_nlmsg_get_payload(nlh), count: familyHeaderSize))
            let (attrs, order) = decodeAttributes(UnsafeRawBufferPointer(
                rebasing: raw[(16 + ((familyHeaderSize + 3) & ~3))...]))
            return DecodedMessage(type: nlh.pointee.nlmsg_type, flags: nlh.pointee.nlmsg_flags,
                                  sequence: nlh.pointee.nlmsg_seq, familyHeader: family, attributes: attrs,
                                  order: order)
        }
        guard let result else { return nil }
        self = result
    }

    private init(type: UInt16, flags: UInt16, sequence: UInt32, familyHeader: [UInt8],
                 attributes: [UInt16: [UInt8]], order: [UInt16]) {
        self.type = type
        self.flags = flags
        self.sequence = sequence
        self.familyHeader = familyHeader
        self.attributes = attributes
        self.order = order
    }

    func u32(_ type: Int) -> UInt32? { attributes[UInt16(type)].map(decodeU32) }
    func nested(_ type: Int) -> [UInt16: [UInt8]]? {
        attributes[UInt16(type)].map { bytes in bytes.withUnsafeBytes { decodeAttributes($0).0 } }
    }
    func familyHeader<T: BitwiseCopyable>(as: T.Type) -> T {
        familyHeader.withUnsafeBytes { $0.loadUnaligned(as: T.self) }
    }
}

func decodeU32(_ bytes: [UInt8]) -> UInt32 {
    precondition(bytes.count == 4, "u32 attribute of \(bytes.count) bytes")
    return bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
}

func decodeAttributes(_ region: UnsafeRawBufferPointer) -> ([UInt16: [UInt8]], [UInt16]) {
    var result: [UInt16: [UInt8]] = [:]
    var order: [UInt16] = []
    guard var attr = region.baseAddress?.assumingMemoryBound(to: nlattr.self) else { return (result, order) }
    var remaining = Int32(region.count)
    while mnl_attr_ok(attr, remaining) {
        let type = mnl_attr_get_type(attr)
        result[type] = Array(UnsafeRawBufferPointer(start: mnl_attr_get_payload(attr),
                                                    count: Int(mnl_attr_get_payload_len(attr))))
        order.append(type)
        let step = (Int32(attr.pointee.nla_len) + 3) & ~3
        remaining -= step
        if remaining <= 0 { break }
        attr = UnsafePointer(mnl_attr_next(attr)!)
    }
    return (result, order)
}

/// A hand-rolled message writer for canned kernel replies (independent of the module's MessageBuilder).
struct CannedMessage {
    var bytes: [UInt8] = []

    init<T: BitwiseCopyable>(type: Int, flags: Int = 0, sequence: UInt32 = 0, portID: UInt32 = 0, header: T) {
        bytes = [UInt8](repeating: 0, count: 16)
        withUnsafeBytes(of: header) { bytes += $0 }
        pad()
        self.type = UInt16(type)
        self.flags = UInt16(flags)
        setU32(at: 8, sequence)
        setU32(at: 12, portID)
    }

    var type: UInt16 {
        get { UInt16(bytes[4]) | UInt16(bytes[5]) << 8 }
        set { bytes[4] = UInt8(newValue & 0xFF); bytes[5] = UInt8(newValue >> 8) }
    }
    var flags: UInt16 {
        get { UInt16(bytes[6]) | UInt16(bytes[7]) << 8 }
        set { bytes[6] = UInt8(newValue & 0xFF); bytes[7] = UInt8(newValue >> 8) }
    }

    mutating func setU32(at offset: Int, _ v: UInt32) {
        for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
    }

    mutating func pad() { while bytes.count % 4 != 0 { bytes.append(0) } }

    mutating func attr(_ type: Int, _ payload: [UInt8]) {
        let length = 4 + payload.count
        bytes += [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(type & 0xFF), UInt8(type >> 8)]
        bytes += payload
        pad()
    }
    mutating func attr(_ type: Int, u32 v: UInt32) { attr(type, withUnsafeBytes(of: v) { Array($0) }) }
    mutating func attr(_ type: Int, u8 v: UInt8) { attr(type, [v]) }
    mutating func attr(_ type: Int, string s: String) { attr(type, Array(s.utf8) + [0]) }
    mutating func nest(_ type: Int, _ body: (inout CannedMessage) -> Void) {
        let start = bytes.count
        attr(type | Int(NLA_F_NESTED), [])
        body(&self)
        let length = bytes.count - start
        bytes[start] = UInt8(length & 0xFF)
        bytes[start + 1] = UInt8(length >> 8)
    }

    /// Sets nlmsg_len and returns the message.
    var finished: [UInt8] {
        var copy = self
        copy.setU32(at: 0, UInt32(bytes.count))
        return copy.bytes
    }
}

/// A deterministic generator for the robustness tests (SplitMix64).
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
