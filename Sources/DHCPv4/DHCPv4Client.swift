import NetTypes

/// The RFC 2131 client state machine for one lease (section 4.4, figure 5), pure: the caller feeds it the time,
/// received messages and timer expiries, and carries out what it returns (send a message, report an event).
/// Times are wall-clock seconds, so a lease written to disk resumes correctly in another process.
public struct DHCPv4Client: Sendable {
    public enum State: String, Sendable {
        case initial = "init", selecting, requesting, bound, renewing, rebinding, rebooting, stopped
    }

    /// Who we are on the wire.
    public struct Identity: Sendable, Equatable {
        public var clientIdentifier: [UInt8]
        public var hardwareAddress: [UInt8]
        public var requestedOptions: [UInt8]
        public var providedOptions: [DHCPv4Option]
        public init(clientIdentifier: [UInt8], hardwareAddress: [UInt8], requestedOptions: [UInt8],
                    providedOptions: [DHCPv4Option]) {
            self.clientIdentifier = clientIdentifier; self.hardwareAddress = hardwareAddress
            self.requestedOptions = requestedOptions; self.providedOptions = providedOptions
        }
    }

    /// Retransmission while acquiring (RFC 2131 section 4.1: doubling from about 4 s up to 64 s, each
    /// randomised by ±1 s). `initial` and `maximum` are configurable (the daemon's -resendmax).
    public struct Backoff: Sendable, Equatable {
        public var initial: Double
        public var maximum: Double
        /// Renewing/rebinding retransmit after half the time left to T2/expiry (section 4.4.5), but not more
        /// often than this.
        public var minimumRenewalInterval: Double
        public init(initial: Double = 2, maximum: Double = 62, minimumRenewalInterval: Double = 4) {
            self.initial = initial; self.maximum = maximum; self.minimumRenewalInterval = minimumRenewalInterval
        }
    }

    /// A granted lease in absolute times.
    public struct Binding: Sendable, Equatable {
        public var lease: DHCPv4Lease
        public var boundAt: Double
        public var renewAt: Double { Self.offset(boundAt, lease.renewalSeconds) }
        public var rebindAt: Double { Self.offset(boundAt, lease.rebindingSeconds) }
        public var expiresAt: Double { Self.offset(boundAt, lease.leaseSeconds) }
        public init(lease: DHCPv4Lease, boundAt: Double) { self.lease = lease; self.boundAt = boundAt }
        static func offset(_ base: Double, _ seconds: UInt32) -> Double {
            seconds == DHCPv4Lease.infinite ? .infinity : base + Double(seconds)
        }
    }

    public enum Destination: Sendable, Equatable {
        /// 255.255.255.255 from whatever address the interface has (0.0.0.0 before a lease).
        case broadcast
        /// Unicast to the server from the leased address (renewing, releasing).
        case server(IPAddress)
    }

    public struct Outgoing: Sendable, Equatable {
        public var message: DHCPv4Message
        public var destination: Destination
    }

    public enum Event: Sendable, Equatable {
        /// A lease was granted (first time, renewed, rebound or re-acquired after expiry).
        case bound(Binding, previous: State)
        /// The lease ran out without a renewal; the client now asks for the same address again.
        case expired
        /// The server refused the address we hold or asked for again: the lease is gone.
        case lost(reason: String)
    }

    public enum Action: Sendable, Equatable {
        case send(Outgoing)
        case event(Event)
    }

    public private(set) var state: State = .initial
    public private(set) var binding: Binding?
    public let identity: Identity
    public var backoff: Backoff
    public var broadcastReplies: Bool
    private var transactionID: UInt32 = 0
    private var exchangeStarted: Double = 0
    private var nextTransmission: Double?
    private var interval: Double = 0
    private var attempts = 0
    private var offer: (address: IPAddress, server: IPAddress)?
    /// Transaction IDs and retransmission jitter: the system's generator (getrandom) unless a test injects one.
    private var random: any RandomNumberGenerator & Sendable

    /// Requests for an offered address before falling back to DISCOVER (section 4.1 leaves the count open).
    static let requestAttempts = 4

    public init(identity: Identity, backoff: Backoff = Backoff(), broadcastReplies: Bool = true,
                random: any RandomNumberGenerator & Sendable = SystemRandomNumberGenerator()) {
        self.identity = identity
        self.backoff = backoff
        self.broadcastReplies = broadcastReplies
        self.random = random
    }

    // MARK: starting

    /// INIT → SELECTING: the first DISCOVER.
    public mutating func acquire(now: Double) -> [Action] {
        binding = nil
        offer = nil
        return begin(.selecting, now: now)
    }

    /// Resumes a lease kept on disk in the state its times say: BOUND before T1, RENEWING before T2, REBINDING
    /// before expiry, and after expiry INIT-REBOOT for the same address. The first packet (now or at T1) is
    /// always a REQUEST for that address, never a DISCOVER.
    public mutating func resume(_ kept: Binding, now: Double) -> [Action] {
        binding = kept
        if now < kept.renewAt { state = .bound; nextTransmission = nil; return [] }
        if now < kept.rebindAt { return begin(.renewing, now: now) }
        if now < kept.expiresAt { return begin(.rebinding, now: now) }
        return begin(.rebooting, now: now)
    }

    /// Ends the machine (DEL): the RELEASE to send, unicast from the leased address, if we hold a lease.
    public mutating func stop() -> Outgoing? {
        defer { state = .stopped; nextTransmission = nil }
        guard let binding, [.bound, .renewing, .rebinding].contains(state) else { return nil }
        var m = base(.release, now: exchangeStarted)
        m.clientAddress = binding.lease.address.address
        m.set(.serverIdentifier, binding.lease.serverIdentifier.bytes)
        return Outgoing(message: m, destination: .server(binding.lease.serverIdentifier))
    }

    // MARK: time

    /// When `tick` must next be called, nil when nothing is pending.
    public var nextDeadline: Double? {
        switch state {
        case .bound: return binding?.renewAt
        case .renewing: return min(nextTransmission ?? .infinity, binding?.rebindAt ?? .infinity)
        case .rebinding: return min(nextTransmission ?? .infinity, binding?.expiresAt ?? .infinity)
        case .selecting, .requesting, .rebooting: return nextTransmission
        case .initial, .stopped: return nil
        }
    }

    /// Whether the machine is in an exchange (it needs a socket to receive on).
    public var isExchanging: Bool { [.selecting, .requesting, .renewing, .rebinding, .rebooting].contains(state) }

    public mutating func tick(now: Double) -> [Action] {
        switch state {
        case .bound:
            guard let binding, now >= binding.renewAt else { return [] }
            return begin(.renewing, now: now)
        case .renewing:
            guard let binding else { return [] }
            if now >= binding.rebindAt { return begin(.rebinding, now: now) }
        case .rebinding:
            guard let binding else { return [] }
            if now >= binding.expiresAt { return [.event(.expired)] + begin(.rebooting, now: now) }
        case .requesting:
            if let next = nextTransmission, now >= next, attempts >= Self.requestAttempts {
                return acquire(now: now)   // the offer went stale: start over
            }
        case .selecting, .rebooting:
            break
        case .initial, .stopped:
            return []
        }
        guard let next = nextTransmission, now >= next else { return [] }
        return transmit(now: now)
    }

    // MARK: receiving

    public mutating func receive(_ message: DHCPv4Message, now: Double) -> [Action] {
        guard message.op == DHCPv4Message.bootReply, message.transactionID == transactionID,
              message.hardwareAddress.prefix(identity.hardwareAddress.count).elementsEqual(identity.hardwareAddress),
              let type = message.messageType else { return [] }
        // RFC 6842: a server that echoes a client identifier must echo ours.
        if let echoed = message.option(.clientIdentifier), echoed != identity.clientIdentifier { return [] }
        switch (state, type) {
        case (.selecting, .offer):
            guard let server = message.option(.serverIdentifier).flatMap({ IPAddress(bytes: $0) }),
                  !message.yourAddress.isUnspecified else { return [] }
            offer = (message.yourAddress, server)
            return begin(.requesting, now: now)
        case (.requesting, .ack), (.renewing, .ack), (.rebinding, .ack), (.rebooting, .ack):
            guard let lease = try? DHCPv4Lease(ack: message) else { return [] }
            if let held = expectedAddress, held != lease.address.address { return [] }
            let previous = state
            binding = Binding(lease: lease, boundAt: now)
            state = .bound
            nextTransmission = nil
            offer = nil
            return [.event(.bound(binding!, previous: previous))]
        case (.requesting, .nak):
            return acquire(now: now)
        case (.renewing, .nak), (.rebinding, .nak), (.rebooting, .nak):
            let reason = message.option(.message).map { String(decoding: $0, as: UTF8.self) } ?? "no reason given"
            state = .stopped
            nextTransmission = nil
            binding = nil
            return [.event(.lost(reason: "the server refused the address (NAK: \(reason))"))]
        default:
            return []
        }
    }

    /// The address a reply must grant: the leased one when renewing, the offered one when requesting.
    private var expectedAddress: IPAddress? {
        switch state {
        case .requesting: return offer?.address
        case .renewing, .rebinding, .rebooting: return binding?.lease.address.address
        default: return nil
        }
    }

    // MARK: sending

    private mutating func begin(_ next: State, now: Double) -> [Action] {
        state = next
        transactionID = UInt32.random(in: .min ... .max, using: &random)
        exchangeStarted = now
        attempts = 0
        interval = backoff.initial
        return transmit(now: now)
    }

    private mutating func transmit(now: Double) -> [Action] {
        guard let outgoing = message(now: now) else { return [] }
        attempts += 1
        switch state {
        case .renewing, .rebinding:
            // Half the time left to the next stage (RFC 2131 section 4.4.5), bounded below.
            let limit = state == .renewing ? binding!.rebindAt : binding!.expiresAt
            nextTransmission = now + max((limit - now) / 2, backoff.minimumRenewalInterval)
        default:
            nextTransmission = now + max(interval + Double.random(in: -1..<1, using: &random), 0.5)
            interval = min(interval * 2, backoff.maximum)
        }
        return [.send(outgoing)]
    }

    private func message(now: Double) -> Outgoing? {
        switch state {
        case .selecting:
            var m = base(.discover, now: now)
            addParameters(&m)
            return Outgoing(message: m, destination: .broadcast)
        case .requesting:
            guard let offer else { return nil }
            var m = base(.request, now: now)
            m.set(.requestedAddress, offer.address.bytes)
            m.set(.serverIdentifier, offer.server.bytes)
            addParameters(&m)
            return Outgoing(message: m, destination: .broadcast)
        case .renewing:
            guard let binding else { return nil }
            var m = base(.request, now: now)
            m.flags = 0   // we have an address now: the server answers it directly
            m.clientAddress = binding.lease.address.address
            addParameters(&m)
            return Outgoing(message: m, destination: .server(binding.lease.serverIdentifier))
        case .rebinding:
            guard let binding else { return nil }
            var m = base(.request, now: now)
            m.flags = 0
            m.clientAddress = binding.lease.address.address
            addParameters(&m)
            return Outgoing(message: m, destination: .broadcast)
        case .rebooting:
            guard let binding else { return nil }
            var m = base(.request, now: now)
            m.set(.requestedAddress, binding.lease.address.address.bytes)
            addParameters(&m)
            return Outgoing(message: m, destination: .broadcast)
        case .initial, .bound, .stopped:
            return nil
        }
    }

    private func base(_ type: DHCPv4Message.MessageType, now: Double) -> DHCPv4Message {
        var m = DHCPv4Message()
        m.transactionID = transactionID
        m.hardwareAddress = identity.hardwareAddress
        m.seconds = UInt16(clamping: Int(max(0, now - exchangeStarted)))
        m.flags = broadcastReplies ? DHCPv4Message.broadcastFlag : 0
        m.set(.messageType, [type.rawValue])
        m.set(.clientIdentifier, identity.clientIdentifier)
        return m
    }

    private func addParameters(_ m: inout DHCPv4Message) {
        for option in identity.providedOptions { m.set(code: option.code, option.value) }
        if !identity.requestedOptions.isEmpty { m.set(.parameterRequestList, identity.requestedOptions) }
        m.set(.maximumMessageSize, [0x05, 0xDC])   // 1500: what our receive buffer and an Ethernet frame hold
    }
}
