/// A PCI function address as sysfs names it: "DDDD:BB:DD.F" (domain, bus, device, function; lower-case hex).
/// The short form "BB:DD.F" (as lspci prints it) means domain 0000.
public struct PCIAddress: Hashable, Sendable, CustomStringConvertible {
    /// The canonical sysfs form, e.g. "0000:3b:00.1".
    public let description: String

    public init?(_ text: String) {
        var bytes = Array(text.utf8.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "F") ? $0 + 0x20 : $0 })
        if bytes.count == 7 { bytes = Array("0000:".utf8) + bytes }
        // DDDD:BB:DD.F, device 00-1f, function 0-7
        guard bytes.count == 12, bytes[4] == UInt8(ascii: ":"), bytes[7] == UInt8(ascii: ":"), bytes[10] == UInt8(ascii: "."),
              [0, 1, 2, 3, 5, 6, 8, 9].allSatisfy({ Self.isHexDigit(bytes[$0]) }),
              bytes[11] >= UInt8(ascii: "0"), bytes[11] <= UInt8(ascii: "7"),
              let device = UInt8(String(decoding: bytes[8...9], as: UTF8.self), radix: 16), device <= 0x1F
        else { return nil }
        description = String(decoding: bytes, as: UTF8.self)
    }

    private static func isHexDigit(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "f"))
    }
}
