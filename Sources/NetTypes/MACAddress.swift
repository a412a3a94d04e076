/// A 48-bit Ethernet address. Parsing accepts the colon or hyphen separated forms Go's net.ParseMAC accepts
/// for 6-byte addresses; printing is lower-case with colons, as the kernel and the reference plugin print it.
public struct MACAddress: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 6 else { return nil }
        self.bytes = bytes
    }

    public init?(_ text: String) {
        let parts = text.split(onByte: text.containsByte(UInt8(ascii: "-")) ? UInt8(ascii: "-") : UInt8(ascii: ":"), omittingEmpty: false)
        guard parts.count == 6 else { return nil }
        var out: [UInt8] = []
        for part in parts {
            guard part.count == 2, let byte = UInt8(part, radix: 16) else { return nil }
            out.append(byte)
        }
        self.bytes = out
    }

    /// A new address as the kernel makes one for a link created without IFLA_ADDRESS (eth_random_addr): random,
    /// unicast (bit 0 of the first byte clear), locally administered (bit 1 set). ADD chooses it itself so
    /// that the result's MAC is known without reading the link back.
    public static func randomLocallyAdministered() -> MACAddress {
        var generator = SystemRandomNumberGenerator()  // getrandom(2), as the kernel's own random bytes
        let random = generator.next()
        var bytes = (0..<6).map { UInt8(truncatingIfNeeded: random >> (8 * UInt64($0))) }
        bytes[0] = (bytes[0] & 0xFE) | 0x02
        return MACAddress(bytes: bytes)!
    }

    public var isLocallyAdministered: Bool { bytes[0] & 0x02 != 0 }
    public var isMulticast: Bool { bytes[0] & 0x01 != 0 }  // includes broadcast
    public var isBroadcast: Bool { bytes.allSatisfy { $0 == 0xFF } }
    public var isZero: Bool { bytes.allSatisfy { $0 == 0 } }
    /// Usable as a unicast interface address.
    public var isAssignable: Bool { !isMulticast && !isZero }

    public var description: String {
        var text: [UInt8] = []
        text.reserveCapacity(17)
        for (i, byte) in bytes.enumerated() {
            if i > 0 { text.append(UInt8(ascii: ":")) }
            text.append(Self.hexDigit(byte >> 4))
            text.append(Self.hexDigit(byte & 0xF))
        }
        return String(decoding: text, as: UTF8.self)
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 0x30 + nibble : 0x57 + nibble }
}
