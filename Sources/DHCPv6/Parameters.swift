/// RFC 8415 §15 retransmission parameters of one kind of exchange, in milliseconds. 0 for `maxRetransmissionTime`,
/// `maxRetransmissionCount` or `maxDuration` means "no limit".
public struct Retransmission: Equatable, Sendable {
    public var initialTimeout: Int64          // IRT
    public var maxRetransmissionTime: Int64   // MRT
    public var maxRetransmissionCount: Int    // MRC
    public var maxDuration: Int64             // MRD

    public init(initialTimeout: Int64, maxRetransmissionTime: Int64 = 0, maxRetransmissionCount: Int = 0, maxDuration: Int64 = 0) {
        self.initialTimeout = initialTimeout; self.maxRetransmissionTime = maxRetransmissionTime
        self.maxRetransmissionCount = maxRetransmissionCount; self.maxDuration = maxDuration
    }

    // RFC 8415 §7.6. RENEW's duration ends at T2 and REBIND's when the valid lifetime ends: the client adds those.
    public static let solicit = Retransmission(initialTimeout: 1_000, maxRetransmissionTime: 3_600_000)   // SOL_TIMEOUT, SOL_MAX_RT
    public static let request = Retransmission(initialTimeout: 1_000, maxRetransmissionTime: 30_000, maxRetransmissionCount: 10)
    public static let renew = Retransmission(initialTimeout: 10_000, maxRetransmissionTime: 600_000)
    public static let rebind = Retransmission(initialTimeout: 10_000, maxRetransmissionTime: 600_000)
    public static let release = Retransmission(initialTimeout: 1_000, maxRetransmissionCount: 4)          // REL_TIMEOUT, REL_MAX_RC
    public static let decline = Retransmission(initialTimeout: 1_000, maxRetransmissionCount: 4)          // DEC_TIMEOUT, DEC_MAX_RC
}

/// Everything about the client's behaviour that is not protocol state.
public struct ClientParameters: Equatable, Sendable {
    public var solicit = Retransmission.solicit
    public var request = Retransmission.request
    public var renew = Retransmission.renew
    public var rebind = Retransmission.rebind
    public var release = Retransmission.release
    public var decline = Retransmission.decline
    /// SOL_MAX_DELAY: the first SOLICIT waits a random time up to this (RFC 8415 §18.2.1, to spread a link's
    /// clients booting at once). A daemon adding one container at a time may set 0.
    public var solicitMaxDelay: Int64 = 1_000
    /// Options asked for in every ORO (SOL_MAX_RT is added to SOLICIT's, as RFC 8415 §18.2.1 requires).
    public var requestedOptions: [UInt16] = [OptionCode.dnsServers, OptionCode.domainList]
    /// Send RAPID_COMMIT in SOLICIT: a server that supports it answers with a REPLY directly (2 messages).
    public var rapidCommit = false

    public init() {}
}

/// The client's source of randomness: RFC 8415's RAND factor and transaction IDs. Tests inject a fixed one.
public protocol ClientRandomness {
    /// Uniform in [0, 1).
    mutating func unit() -> Double
    mutating func transactionID() -> UInt32
}

public struct SystemRandomness: ClientRandomness {
    private var generator = SystemRandomNumberGenerator()
    public init() {}
    public mutating func unit() -> Double { Double.random(in: 0..<1, using: &generator) }
    public mutating func transactionID() -> UInt32 { UInt32.random(in: 0...0xFF_FFFF, using: &generator) }
}

/// A reproducible `ClientRandomness` (SplitMix64): the same seed gives the same transaction IDs and timeouts,
/// so a recorded exchange with a real server can be replayed byte for byte (Tests/DHCPv6Tests transcripts).
public struct SeededRandomness: ClientRandomness {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }

    private mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    public mutating func transactionID() -> UInt32 { UInt32(truncatingIfNeeded: next() >> 40) }
}
