/// Option names accepted in the `request`/`provide` config entries: the same names the reference accepts
/// (dhcp-options(5) spelling), or a number 1-254.
public enum OptionNames {
    static let byName: [(String, UInt8)] = [
        ("dhcp-client-identifier", 61), ("subnet-mask", 1), ("routers", 3), ("host-name", 12),
        ("user-class", 77), ("vendor-class-identifier", 60),
    ]

    public static func code(_ text: String) -> UInt8? {
        if let known = byName.first(where: { $0.0.utf8.elementsEqual(text.utf8) }) { return known.1 }
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), text.utf8.count <= 3,
              let n = Int(text), n >= 1, n <= 254 else { return nil }
        return UInt8(n)
    }

    /// What we ask for unless `skipDefault` is set: the reference's router and subnet mask, plus what its result
    /// can carry when a server volunteers it (DNS servers, domain name, static and classless routes): servers
    /// such as dnsmasq send only what is asked for.
    public static let defaultRequested: [UInt8] = [1, 3, 6, 15, 33, 121]
}

extension OptionNames {
    public static var knownNames: [String] { byName.map(\.0) }
}
