import CNI
import Glibc
import NetTypes
import Netlink

/// `masterSelector`: the master described by what it is rather than by one name, so one network definition
/// serves nodes whose NICs are named differently. Every criterion given must hold. `names` is an ordered
/// preference (the first listed that qualifies wins); otherwise, of several qualifying interfaces, the one
/// with the lowest index wins (the oldest, so the choice stays put as interfaces come and go).
public struct MasterSelector: Sendable {
    public var names: [String]?
    public var pattern: NamePattern?
    public var mac: MACAddress?
    public var permanentMac: MACAddress?
    public var pciAddress: PCIAddress?
    public var subnet: IPPrefix?

    static let key = "masterSelector"
    static let criteria = ["names", "pattern", "mac", "permanentMac", "pciAddress", "subnet"]

    public init(pciAddress: PCIAddress) { self.pciAddress = pciAddress }

    /// Reads `masterSelector`; nil when absent. Each bad value is code 7 naming its key and the value.
    public init?(reading config: ConfigReader) throws(CNIError) {
        guard let reader = try config.reader(Self.key) else { return nil }
        if let unknown = reader.object.keys(notAmong: Self.criteria).first {
            throw CNIError(.invalidConfig, "\"\(reader.path).\(unknown)\" is not a master selection criterion",
                           details: "use \(Self.criteria.joined(separator: ", "))")
        }
        if let names = try reader.strings("names") {
            guard !names.isEmpty else {
                throw CNIError(.invalidConfig, "\"\(reader.name("names"))\" is empty", details: "list at least one interface name, or leave the key out")
            }
            for name in names {
                if let problem = InterfaceName.problem(name) {
                    throw CNIError(.invalidConfig, "\"\(reader.name("names"))\" entry \"\(name)\" is not a valid interface name", details: problem)
                }
            }
            self.names = names
        }
        if let text = try reader.string("pattern") {
            pattern = try NamePattern(text, key: reader.name("pattern"))
        }
        mac = try Self.mac(reader, "mac")
        permanentMac = try Self.mac(reader, "permanentMac")
        if let text = try reader.string("pciAddress") {
            guard let address = PCIAddress(text) else {
                throw CNIError(.invalidConfig, "\"\(reader.name("pciAddress"))\" \"\(text)\" is not a PCI address",
                               details: "expected domain:bus:device.function such as 0000:3b:00.1 (as in /sys/bus/pci/devices)")
            }
            pciAddress = address
        }
        if let text = try reader.string("subnet") {
            guard let prefix = IPPrefix(text) else {
                throw CNIError(.invalidConfig, "\"\(reader.name("subnet"))\" \"\(text)\" is not an IP prefix", details: "expected ADDRESS/LENGTH such as 192.168.10.0/24")
            }
            subnet = prefix.network
        }
        if names == nil, pattern == nil, mac == nil, permanentMac == nil, pciAddress == nil, subnet == nil {
            throw CNIError(.invalidConfig, "\"\(reader.path)\" has no criteria", details: "give at least one of \(Self.criteria.joined(separator: ", "))")
        }
    }

    private static func mac(_ reader: ConfigReader, _ key: String) throws(CNIError) -> MACAddress? {
        guard let text = try reader.string(key) else { return nil }
        guard let mac = MACAddress(text) else {
            throw CNIError(.invalidConfig, "\"\(reader.name(key))\" \"\(text)\" is not a MAC address", details: "expected six hexadecimal bytes such as 52:54:00:12:34:56")
        }
        return mac
    }

    /// The criteria in words, for messages: `names [eth1, ens1f0], subnet 10.1.0.0/16`.
    public var summary: String {
        var parts: [String] = []
        if let names { parts.append("names [\(names.joined(separator: ", "))]") }
        if let pattern { parts.append("pattern \"\(pattern.source)\"") }
        if let mac { parts.append("mac \(mac)") }
        if let permanentMac { parts.append("permanentMac \(permanentMac)") }
        if let pciAddress { parts.append("pciAddress \(pciAddress)") }
        if let subnet { parts.append("subnet \(subnet)") }
        return parts.joined(separator: ", ")
    }

    /// What the selection needs beyond the list of links.
    public var needsAddresses: Bool { subnet != nil }

    /// Why `link` does not qualify, or nil when it meets every criterion. `pciInterfaces`: the names under
    /// `pciAddress` (nil when no PCI address is asked for).
    public func mismatch(_ link: LinkInfo, addresses: [AddressInfo], pciInterfaces: [String]?) -> String? {
        if let names, !names.contains(link.name) { return "not in names" }
        if let pattern, !pattern.matches(link.name) { return "name does not match pattern" }
        if let mac, link.mac != mac { return "mac \(link.mac?.description ?? "none")" }
        if let permanentMac, link.permanentMac != permanentMac { return "permanent mac \(link.permanentMac?.description ?? "none")" }
        if let pciInterfaces, !pciInterfaces.contains(link.name) { return "not under PCI \(pciAddress!)" }
        if let subnet, !addresses.contains(where: { $0.index == link.index && subnet.contains($0.prefix.address) }) {
            return "no address in \(subnet)"
        }
        return nil
    }

    /// The outcome of matching against the links of the master's namespace.
    public enum Outcome: Equatable, Sendable {
        /// `others`: further qualifying interfaces (in preference order), not chosen.
        case chosen(LinkInfo, others: [LinkInfo])
        /// Every interface looked at, with the reason it did not qualify.
        case none(rejected: [(name: String, reason: String)])

        public static func == (a: Outcome, b: Outcome) -> Bool {
            switch (a, b) {
            case let (.chosen(x, xs), .chosen(y, ys)): return x == y && xs == ys
            case let (.none(x), .none(y)): return x.map(\.name) == y.map(\.name) && x.map(\.reason) == y.map(\.reason)
            default: return false
            }
        }
    }

    /// Matches `links` (in the order the kernel listed them). `unusable` says why a link cannot be a master at
    /// all (loopback, not Ethernet, itself a macvlan child); those never qualify.
    public func select(_ links: [LinkInfo], addresses: [AddressInfo], pciInterfaces: [String]?,
                       unusable: (LinkInfo) -> String?) -> Outcome {
        var qualifying: [LinkInfo] = []
        var rejected: [(name: String, reason: String)] = []
        for link in links.sorted(by: { $0.index < $1.index }) {
            if let reason = mismatch(link, addresses: addresses, pciInterfaces: pciInterfaces) ?? unusable(link) {
                rejected.append((link.name, reason))
            } else {
                qualifying.append(link)
            }
        }
        if let names {
            qualifying.sort { names.firstIndex(of: $0.name)! < names.firstIndex(of: $1.name)! }
        }
        guard let first = qualifying.first else { return .none(rejected: rejected) }
        return .chosen(first, others: Array(qualifying.dropFirst()))
    }
}

/// `masterSelector.pattern`: a POSIX extended regular expression (as `grep -E`, with glibc's \w \s \b),
/// searched in the interface name (unanchored, like Go's regexp.MatchString: use ^ and $ to match the whole
/// name). Compiled once, when the config is read, and only when a pattern is configured.
///
/// glibc's regcomp, not Swift's Regex: linking the Swift Regex runtime added ~86,000 instructions to every
/// start-up of a static binary, pattern or not (measured with callgrind; regcomp costs nothing until used).
/// Go's Perl-style escapes that POSIX lacks (\d, \p{..}, \A, \z, \Q..\E) would silently match a
/// letter, so they are refused with a hint instead.
public final class NamePattern: @unchecked Sendable {  // immutable after init; regexec does not modify it
    public let source: String
    private let compiled = UnsafeMutablePointer<regex_t>.allocate(capacity: 1)  // regcomp's state must not move

    public init(_ source: String, key: String) throws(CNIError) {
        guard !source.isEmpty else {
            throw CNIError(.invalidConfig, "\"\(key)\" is empty", details: "give a regular expression such as ^(eth|ens)[0-9]+$, or leave the key out")
        }
        if let escape = Self.perlEscape(in: source) {
            throw CNIError(.invalidConfig, "\"\(key)\" \"\(source)\" uses \\\(escape), which POSIX regular expressions lack",
                           details: "the pattern is a POSIX extended regular expression (as grep -E): write [0-9] for \\d, ^ and $ for \\A and \\z")
        }
        self.source = source
        compiled.initialize(to: regex_t())
        let status = regcomp(compiled, source, REG_EXTENDED | REG_NOSUB)
        guard status == 0 else {
            var text = [CChar](repeating: 0, count: 256)
            regerror(status, compiled, &text, text.count)
            let reason = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw CNIError(.invalidConfig, "\"\(key)\" \"\(source)\" is not a regular expression", details: reason)
        }
    }

    deinit {
        regfree(compiled)  // also safe after a failed regcomp (glibc leaves nothing allocated then)
        compiled.deallocate()
    }

    public func matches(_ name: String) -> Bool { regexec(compiled, name, 0, nil, 0) == 0 }

    /// The first Perl-style escape letter in `source` that POSIX ERE (even with glibc's extensions) lacks.
    static func perlEscape(in source: String) -> Character? {
        var escaped = false
        for character in source {
            if escaped {
                if "dDpPAzQEhHvVR".contains(character) { return character }
                escaped = false
            } else if character == "\\" {
                escaped = true
            }
        }
        return nil
    }
}
