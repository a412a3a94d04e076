import Glibc

/// An IPv4 or IPv6 address as its network-order bytes. Parsing and printing go through inet_pton/inet_ntop so
/// the text forms match what `ip` and Go print (canonical RFC 5952 for IPv6).
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    case v4(UInt8, UInt8, UInt8, UInt8)
    case v6([UInt8])  // always 16 bytes

    public init?(_ text: String) {
        if text.containsByte(UInt8(ascii: ":")) {
            var raw = in6_addr()
            guard inet_pton(AF_INET6, text, &raw) == 1 else { return nil }
            self = .v6(withUnsafeBytes(of: &raw) { Array($0) })
        } else {
            var raw = in_addr()
            guard inet_pton(AF_INET, text, &raw) == 1 else { return nil }
            let b = withUnsafeBytes(of: &raw) { Array($0) }
            self = .v4(b[0], b[1], b[2], b[3])
        }
    }

    /// From raw bytes as netlink carries them: 4 or 16 bytes.
    public init?(bytes: [UInt8]) {
        switch bytes.count {
        case 4: self = .v4(bytes[0], bytes[1], bytes[2], bytes[3])
        case 16: self = .v6(bytes)
        default: return nil
        }
    }

    public var bytes: [UInt8] {
        switch self {
        case let .v4(a, b, c, d): return [a, b, c, d]
        case let .v6(b): return b
        }
    }

    public var isIPv4: Bool { if case .v4 = self { return true } else { return false } }
    public var family: IPFamily { isIPv4 ? .v4 : .v6 }
    public var bitLength: Int { isIPv4 ? 32 : 128 }

    public var isUnspecified: Bool { bytes.allSatisfy { $0 == 0 } }
    public var isLoopback: Bool {
        switch self {
        case let .v4(a, _, _, _): return a == 127
        case let .v6(b): return b[0..<15].allSatisfy { $0 == 0 } && b[15] == 1
        }
    }
    public var isMulticast: Bool {
        switch self {
        case let .v4(a, _, _, _): return a & 0xF0 == 0xE0  // 224.0.0.0/4
        case let .v6(b): return b[0] == 0xFF                // ff00::/8
        }
    }
    public var isLimitedBroadcast: Bool { self == .v4(255, 255, 255, 255) }

    /// Why this address cannot be an interface's own address (nil when it can). An IPAM result carrying one
    /// would either be refused by the kernel half-way through an ADD or, worse, accepted and misbehave.
    public var interfaceAddressProblem: String? {
        if isUnspecified { return "it is the unspecified address" }
        if isLoopback { return "it is a loopback address" }
        if isMulticast { return "it is a multicast address" }
        if isLimitedBroadcast { return "it is the IPv4 limited broadcast address" }
        return nil
    }

    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        var raw = bytes
        let family = isIPv4 ? AF_INET : AF_INET6
        let ok = raw.withUnsafeMutableBytes { src in
            inet_ntop(family, src.baseAddress, &buffer, socklen_t(buffer.count)) != nil
        }
        guard ok else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The address with every bit after `prefixLength` cleared.
    public func masked(to prefixLength: Int) -> IPAddress {
        var b = bytes
        for i in 0..<b.count {
            let bitsBefore = i * 8
            if bitsBefore >= prefixLength { b[i] = 0 }
            else if bitsBefore + 8 > prefixLength {
                b[i] &= UInt8(truncatingIfNeeded: 0xFF << (8 - (prefixLength - bitsBefore)))
            }
        }
        return IPAddress(bytes: b)!
    }
}

public enum IPFamily: Sendable, Hashable {
    case v4, v6
    /// The CNI 0.3.x/0.4.0 `ips[].version` string.
    public var versionString: String { self == .v4 ? "4" : "6" }
}
