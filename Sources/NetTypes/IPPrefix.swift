/// An address with a prefix length, as CNI writes it ("10.1.2.3/24"): host bits are kept, because an
/// interface address is exactly that. `network` gives the masked form for routes.
public struct IPPrefix: Hashable, Sendable, CustomStringConvertible {
    public let address: IPAddress
    public let prefixLength: Int

    public init?(address: IPAddress, prefixLength: Int) {
        guard prefixLength >= 0, prefixLength <= address.bitLength else { return nil }
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Parses "ADDR/LEN". A bare address is not accepted: CNI always writes the length.
    public init?(_ text: String) {
        guard let (addressText, lengthText) = text.split(atFirstByte: UInt8(ascii: "/")) else { return nil }
        guard let address = IPAddress(addressText),
              !lengthText.isEmpty, lengthText.count <= 3, lengthText.allSatisfy({ $0.isASCII && $0.isNumber }),
              let length = Int(lengthText) else { return nil }
        self.init(address: address, prefixLength: length)
    }

    /// For text that `init?(_:)` refuses only because of its length ("10.0.0.2/33"): what is wrong with the
    /// length. nil when the text is fine or not "ADDR/DIGITS" at all.
    public static func lengthProblem(_ text: String) -> String? {
        guard IPPrefix(text) == nil, let (addressText, lengthText) = text.split(atFirstByte: UInt8(ascii: "/")),
              let address = IPAddress(addressText), !lengthText.isEmpty,
              lengthText.allSatisfy({ $0.isASCII && $0.isNumber }),
              (Int(lengthText) ?? Int.max) > address.bitLength else { return nil }
        return "prefix length \(lengthText) is out of range for an IPv\(address.isIPv4 ? 4 : 6) address (0 to \(address.bitLength))"
    }

    public var family: IPFamily { address.family }
    public var network: IPPrefix { IPPrefix(address: address.masked(to: prefixLength), prefixLength: prefixLength)! }
    public var isDefaultRoute: Bool { prefixLength == 0 }

    public func contains(_ other: IPAddress) -> Bool {
        other.family == family && other.masked(to: prefixLength) == address.masked(to: prefixLength)
    }

    public var description: String { "\(address)/\(prefixLength)" }
}
