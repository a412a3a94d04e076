import NetTypes

/// What an ACK grants, in the server's relative terms (seconds), plus the parameters a CNI result needs.
public struct DHCPv4Lease: Equatable, Sendable {
    public var address: IPPrefix
    public var serverIdentifier: IPAddress
    public var router: IPAddress?
    /// Routes in the order the result lists them: option 121 when present (RFC 3442: then 33 and the router
    /// are ignored), else option 33 plus a default route via the router.
    public var routes: [(destination: IPPrefix, gateway: IPAddress?)]
    public var dnsServers: [IPAddress]
    public var domainName: String?
    public var leaseSeconds: UInt32
    public var renewalSeconds: UInt32
    public var rebindingSeconds: UInt32

    /// The value servers use for "infinite" (RFC 2131 section 3.3).
    public static let infinite: UInt32 = 0xFFFF_FFFF

    public enum Problem: Error, Equatable, Sendable, CustomStringConvertible {
        case missing(String), malformed(String)
        public var description: String {
            switch self {
            case let .missing(what): return "the server's ACK has no \(what)"
            case let .malformed(what): return "the server's ACK has a malformed \(what)"
            }
        }
    }

    public init(address: IPPrefix, serverIdentifier: IPAddress, router: IPAddress?,
                routes: [(destination: IPPrefix, gateway: IPAddress?)], dnsServers: [IPAddress], domainName: String?,
                leaseSeconds: UInt32, renewalSeconds: UInt32, rebindingSeconds: UInt32) {
        self.address = address; self.serverIdentifier = serverIdentifier; self.router = router; self.routes = routes
        self.dnsServers = dnsServers; self.domainName = domainName; self.leaseSeconds = leaseSeconds
        self.renewalSeconds = renewalSeconds; self.rebindingSeconds = rebindingSeconds
    }

    /// Reads an ACK. The subnet mask and the lease time are required (a CNI result needs a prefix; a lease
    /// without a duration cannot be kept). T1/T2 default to 50% and 87.5% (RFC 2131 section 4.4.5) and are
    /// forced into order when a server sends them inconsistent.
    public init(ack: DHCPv4Message) throws(Problem) {
        guard let maskBytes = ack.option(.subnetMask) else { throw .missing("subnet mask (option 1)") }
        guard maskBytes.count == 4, let prefixLength = Self.prefixLength(ofMask: maskBytes) else {
            throw .malformed("subnet mask (option 1)")
        }
        guard let leaseBytes = ack.option(.leaseTime) else { throw .missing("lease time (option 51)") }
        guard let lease = get32(leaseBytes) else { throw .malformed("lease time (option 51)") }
        let server = ack.option(.serverIdentifier).flatMap { IPAddress(bytes: $0) } ?? ack.serverAddress
        address = IPPrefix(address: ack.yourAddress, prefixLength: prefixLength)!
        serverIdentifier = server
        router = ack.option(.router).flatMap { $0.count >= 4 ? IPAddress(bytes: Array($0[0..<4])) : nil }
        dnsServers = Self.addresses(ack.option(.dnsServers) ?? [])
        domainName = ack.option(.domainName).map { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            .flatMap { $0.isEmpty ? nil : $0 }
        leaseSeconds = lease
        var t2 = ack.option(.rebindingTime).flatMap(get32) ?? Self.fraction(lease, 7, 8)
        if t2 > lease { t2 = Self.fraction(lease, 7, 8) }
        var t1 = ack.option(.renewalTime).flatMap(get32) ?? Self.fraction(lease, 1, 2)
        if t1 > t2 { t1 = Self.fraction(t2, 4, 7) }
        renewalSeconds = t1
        rebindingSeconds = t2
        if let classless = ack.option(.classlessRoutes), let parsed = Self.classlessRoutes(classless), !parsed.isEmpty {
            routes = parsed
        } else {
            routes = Self.staticRoutes(ack.option(.staticRoutes) ?? [])
            if let router { routes.append((IPPrefix("0.0.0.0/0")!, router)) }
        }
    }

    public static func == (a: DHCPv4Lease, b: DHCPv4Lease) -> Bool {
        a.address == b.address && a.serverIdentifier == b.serverIdentifier && a.router == b.router
            && a.routes.elementsEqual(b.routes, by: { $0.destination == $1.destination && $0.gateway == $1.gateway })
            && a.dnsServers == b.dnsServers && a.domainName == b.domainName && a.leaseSeconds == b.leaseSeconds
            && a.renewalSeconds == b.renewalSeconds && a.rebindingSeconds == b.rebindingSeconds
    }

    static func fraction(_ value: UInt32, _ numerator: UInt64, _ denominator: UInt64) -> UInt32 {
        value == infinite ? infinite : UInt32(UInt64(value) * numerator / denominator)
    }

    static func prefixLength(ofMask mask: [UInt8]) -> Int? {
        let value = get32(mask, 0)
        let ones = value.leadingZeroBitCount == 0 ? (~value).leadingZeroBitCount : 0
        // Contiguous ones only: 255.0.255.0 is no prefix.
        return (ones == 32 || value << UInt32(ones) == 0) ? ones : nil
    }

    static func addresses(_ bytes: [UInt8]) -> [IPAddress] {
        stride(from: 0, to: bytes.count - bytes.count % 4, by: 4).compactMap { IPAddress(bytes: Array(bytes[$0..<($0 + 4)])) }
    }

    /// Option 33: destination/router pairs; destinations are classful (RFC 2132 section 5.8).
    static func staticRoutes(_ bytes: [UInt8]) -> [(destination: IPPrefix, gateway: IPAddress?)] {
        stride(from: 0, to: bytes.count - bytes.count % 8, by: 8).compactMap { i in
            let destination = Array(bytes[i..<(i + 4)])
            let length = destination[0] < 128 ? 8 : destination[0] < 192 ? 16 : 24
            guard let d = IPAddress(bytes: destination), let prefix = IPPrefix(address: d.masked(to: length), prefixLength: length)
            else { return nil }
            return (prefix, IPAddress(bytes: Array(bytes[(i + 4)..<(i + 8)])))
        }
    }

    /// Option 121 (RFC 3442): width, significant destination octets, router. A 0.0.0.0 router means on-link.
    /// nil when malformed (then the option is ignored as a whole, as RFC 3442 asks).
    static func classlessRoutes(_ bytes: [UInt8]) -> [(destination: IPPrefix, gateway: IPAddress?)]? {
        var out: [(destination: IPPrefix, gateway: IPAddress?)] = []
        var i = 0
        while i < bytes.count {
            let width = Int(bytes[i])
            guard width <= 32 else { return nil }
            let significant = (width + 7) / 8
            guard i + 1 + significant + 4 <= bytes.count else { return nil }
            var destination = [UInt8](repeating: 0, count: 4)
            for j in 0..<significant { destination[j] = bytes[i + 1 + j] }
            let router = IPAddress(bytes: Array(bytes[(i + 1 + significant)..<(i + 5 + significant)]))!
            guard let prefix = IPPrefix(address: IPAddress(bytes: destination)!.masked(to: width), prefixLength: width)
            else { return nil }
            out.append((prefix, router.isUnspecified ? nil : router))
            i += 1 + significant + 4
        }
        return out
    }
}
