import NetTypes

/// A bound IA_NA address as the client keeps it: everything the daemon needs to configure the interface,
/// persist the lease and resume it after a restart (`Client.resume`). Times are milliseconds on the clock the
/// daemon passes as `now` (use one that survives a daemon restart, e.g. CLOCK_REALTIME or CLOCK_BOOTTIME, if
/// leases are persisted). Lifetimes and T1/T2 are seconds from `obtainedAt`; `Lease.infinity` never expires.
public struct Lease: Equatable, Sendable {
    public static let infinity: UInt32 = 0xFFFF_FFFF

    public var serverID: [UInt8]
    /// The address from the server's Server Unicast option: RENEW and RELEASE go there instead of multicast.
    public var serverUnicast: IPAddress?
    public var address: IPAddress
    public var preferredLifetime: UInt32
    public var validLifetime: UInt32
    /// Effective T1/T2 (the server's, or 0.5/0.8 of the preferred lifetime when it sent 0).
    public var t1: UInt32
    public var t2: UInt32
    public var obtainedAt: Int64
    public var dnsServers: [IPAddress]
    public var domainList: [String]

    public init(serverID: [UInt8], serverUnicast: IPAddress? = nil, address: IPAddress, preferredLifetime: UInt32,
                validLifetime: UInt32, t1: UInt32, t2: UInt32, obtainedAt: Int64, dnsServers: [IPAddress] = [],
                domainList: [String] = []) {
        self.serverID = serverID; self.serverUnicast = serverUnicast; self.address = address
        self.preferredLifetime = preferredLifetime; self.validLifetime = validLifetime
        self.t1 = t1; self.t2 = t2; self.obtainedAt = obtainedAt; self.dnsServers = dnsServers; self.domainList = domainList
    }

    /// When RENEW starts, REBIND starts, and the address must be gone; nil = never.
    public var renewAt: Int64? { at(t1) }
    public var rebindAt: Int64? { at(t2) }
    public var expiresAt: Int64? { at(validLifetime) }

    /// Seconds of valid lifetime left at `now` (what the kernel address should be given), `infinity` if infinite.
    public func remainingValidLifetime(at now: Int64) -> UInt32 { remaining(validLifetime, now) }
    public func remainingPreferredLifetime(at now: Int64) -> UInt32 { remaining(preferredLifetime, now) }

    private func at(_ seconds: UInt32) -> Int64? { seconds == Lease.infinity ? nil : obtainedAt + Int64(seconds) * 1000 }

    private func remaining(_ seconds: UInt32, _ now: Int64) -> UInt32 {
        guard let end = at(seconds) else { return Lease.infinity }
        return end <= now ? 0 : UInt32(clamping: (end - now) / 1000)
    }

    /// Builds a lease from a REPLY's IA_NA, or says why it cannot: the IA must carry a usable address, T1 <= T2
    /// when both are set (RFC 8415 §21.4: otherwise the IA is discarded) and preferred <= valid (§21.6).
    static func from(reply: Message, ia: IANA, obtainedAt: Int64) -> Result<Lease, LeaseRejection> {
        if let status = ia.status, !status.isSuccess { return .failure(.status(status)) }
        guard let serverID = reply.serverID else { return .failure(.invalid("no server identifier")) }
        if ia.t1 != 0, ia.t2 != 0, ia.t1 > ia.t2 { return .failure(.invalid("IA_NA with T1 \(ia.t1) > T2 \(ia.t2)")) }
        let usable = ia.addresses.first { a in
            a.validLifetime != 0 && a.preferredLifetime <= a.validLifetime && (a.status?.isSuccess ?? true)
                && !a.address.isIPv4 && !a.address.isUnspecified
        }
        guard let address = usable else {
            if let bad = ia.addresses.lazy.compactMap(\.status).first(where: { !$0.isSuccess }) { return .failure(.status(bad)) }
            return .failure(.noAddress)
        }
        let (t1, t2) = effectiveTimers(t1: ia.t1, t2: ia.t2, preferred: address.preferredLifetime)
        return .success(Lease(serverID: serverID, serverUnicast: reply.serverUnicast, address: address.address,
                              preferredLifetime: address.preferredLifetime, validLifetime: address.validLifetime,
                              t1: t1, t2: t2, obtainedAt: obtainedAt, dnsServers: reply.dnsServers,
                              domainList: reply.domainList))
    }

    /// RFC 8415 §21.4: T1/T2 of 0 leave the timing to the client; we use 0.5 and 0.8 of the preferred lifetime
    /// (the recommended ratios), and never renew after rebinding.
    static func effectiveTimers(t1: UInt32, t2: UInt32, preferred: UInt32) -> (UInt32, UInt32) {
        func fraction(_ numerator: UInt64) -> UInt32 {
            preferred == Lease.infinity ? Lease.infinity : UInt32(UInt64(preferred) * numerator / 10)
        }
        let t2Effective = t2 != 0 ? t2 : fraction(8)
        let t1Effective = t1 != 0 ? t1 : fraction(5)
        return (min(t1Effective, t2Effective), t2Effective)
    }
}

enum LeaseRejection: Error, Equatable, CustomStringConvertible {
    case status(StatusCode)
    case noAddress
    case invalid(String)

    var description: String {
        switch self {
        case let .status(s): return "server answered \(s)"
        case .noAddress: return "no usable address in the IA_NA"
        case let .invalid(why): return why
        }
    }
}
