import NetTypes

/// Where an outgoing message goes. The daemon sends from the interface's link-local address, UDP port 546.
public enum Destination: Equatable, Sendable {
    /// All_DHCP_Relay_Agents_and_Servers, ff02::1:2 port 547, on the client's interface.
    case allServers
    /// The server's address from its Server Unicast option, port 547.
    case unicast(IPAddress)

    public static let allServersAddress = IPAddress("ff02::1:2")!
    public static let clientPort: UInt16 = 546
    public static let serverPort: UInt16 = 547
}

public struct Outgoing: Equatable, Sendable {
    public var message: Message
    public var destination: Destination
    /// The UDP payload to send.
    public var bytes: [UInt8] { message.encoded() }
}

/// What changed, for the daemon to act on (configure the interface, persist, log).
public enum ClientEvent: Equatable, Sendable {
    /// A new binding (REQUEST answered, or SOLICIT with rapid commit): add the address, persist the lease.
    case leaseObtained(Lease)
    /// RENEW/REBIND answered for the same address: update the kernel lifetimes and the persisted lease.
    case leaseExtended(Lease)
    /// The address must go now (valid lifetime over, or the server took it back). The client solicits again.
    case leaseLost(Lease, reason: String)
    /// RELEASE done; `confirmed` is false when no server answered within REL_MAX_RC transmissions.
    case released(confirmed: Bool)
    /// DECLINE done (after a failed DAD); the client solicits again.
    case declined(confirmed: Bool)
    /// An exchange gave up (REQUEST after REQ_MAX_RC, SOLICIT after a configured MRD).
    case exchangeFailed(MessageType, reason: String)
    /// A received packet was dropped (malformed, not ours, unexpected). For the log only.
    case ignored(String)
}

/// The result of one call: messages to send now, in order, and what happened.
public struct Step: Equatable, Sendable {
    public var outgoing: [Outgoing] = []
    public var events: [ClientEvent] = []

    mutating func append(_ other: Step) { outgoing += other.outgoing; events += other.events }
}

public enum ClientState: Equatable, Sendable {
    case idle, soliciting, requesting, bound, renewing, rebinding, releasing, declining, released
}

/// The DHCPv6 client of one interface (one IA_NA) as a pure state machine (RFC 8415 §18.2): no sockets, no
/// clock, no threads. The daemon owns the UDP socket and the time, and drives it from its poll() loop:
///
///     var client = Client(identity: ClientIdentity(identity: "\(containerID)/\(network)/\(ifname)"))
///     var step = client.start(now: clock())                     // or client.resume(savedLease, now: clock())
///     while true {
///         for out in step.outgoing { send(out.bytes, to: out.destination) }
///         for event in step.events { apply(event) }             // address add/update/remove, persist, log
///         let timeout = client.nextDeadline.map { max(0, $0 - clock()) }   // nil: no timer
///         if let packet = poll(socket, timeout) { step = client.receive(packet, now: clock()) }
///         else { step = client.advance(now: clock()) }
///     }
///
/// `advance` may be called at any time (it does nothing before the deadline). Times are milliseconds.
/// Daemon duties: send only after the interface's link-local address has finished DAD; give the kernel address
/// `lease.remainingValidLifetime(at:)`/`remainingPreferredLifetime(at:)` so it vanishes with the lease even if
/// the daemon dies; persist the `Lease` on `.leaseObtained`/`.leaseExtended`, forget it on `.leaseLost`/
/// `.released`; report `lease.address` with the configured prefix length (DHCPv6 carries none) and
/// `lease.dnsServers`/`lease.domainList` as DNS; call `decline` if DAD of the leased address fails.
public struct Client {
    public let identity: ClientIdentity
    public var parameters: ClientParameters
    public private(set) var state: ClientState = .idle
    public private(set) var lease: Lease?

    private var random: any ClientRandomness
    private var exchange: Exchange?
    private var offers: [Offer] = []
    private var chosen: Offer?
    private var solicitHint: IPAddress?

    public init(identity: ClientIdentity, parameters: ClientParameters = ClientParameters(),
                randomness: any ClientRandomness = SystemRandomness()) {
        self.identity = identity
        self.parameters = parameters
        self.random = randomness
    }

    /// The time at which `advance` has something to do; nil when only a received packet can change anything.
    public var nextDeadline: Int64? {
        if let exchange { return exchange.nextSend }
        guard state == .bound, let lease else { return nil }
        return [lease.renewAt, lease.rebindAt, lease.expiresAt].compactMap { $0 }.min()
    }

    /// Starts acquiring an address (SOLICIT, after the random initial delay). `hint` asks for a known address.
    public mutating func start(now: Int64, hint: IPAddress? = nil) -> Step {
        guard state == .idle || state == .released else { return Step() }
        beginSolicit(now: now, hint: hint)
        return advance(now: now)
    }

    /// Continues a persisted lease: bound until T1, RENEW until T2, REBIND until it expires, SOLICIT (asking
    /// for the same address) after that.
    public mutating func resume(_ saved: Lease, now: Int64) -> Step {
        guard state == .idle || state == .released else { return Step() }
        lease = saved
        state = .bound
        return advance(now: now)
    }

    /// Gives the address back (RELEASE to the lease's server). Without a lease, just stops.
    public mutating func release(now: Int64) -> Step {
        guard let lease, [.bound, .renewing, .rebinding].contains(state) else {
            exchange = nil
            state = .released
            return Step(events: [.released(confirmed: true)])
        }
        state = .releasing
        exchange = Exchange(type: .release, xid: random.transactionID(), parameters: parameters.release,
                            destination: Self.destination(lease.serverUnicast), deadline: nil, nextSend: now)
        return advance(now: now)
    }

    /// DAD failed for the leased address (RFC 8415 §18.2.8): tell the server, then solicit another one.
    public mutating func decline(now: Int64) -> Step {
        guard let lease, [.bound, .renewing, .rebinding].contains(state) else { return Step() }
        state = .declining
        exchange = Exchange(type: .decline, xid: random.transactionID(), parameters: parameters.decline,
                            destination: Self.destination(lease.serverUnicast), deadline: nil, nextSend: now)
        return advance(now: now)
    }

    /// Timers: transmissions, retransmissions, T1/T2, expiry. Cheap when nothing is due.
    public mutating func advance(now: Int64) -> Step {
        var step = Step()
        // Each pass either stops or makes one state transition; a handful of transitions can fall due at the
        // same instant (e.g. a resumed lease: bound → renewing → rebinding → expired → soliciting).
        for _ in 0..<8 where tick(now: now, &step) {}
        return step
    }

    /// A UDP payload received on port 546 of the interface.
    public mutating func receive(_ bytes: [UInt8], now: Int64) -> Step {
        var step = Step()
        let message: Message
        do { message = try Message(decoding: bytes) } catch { return Step(events: [.ignored(error.description)]) }
        guard let exchange, message.transactionID == exchange.xid else {
            return Step(events: [.ignored("\(message.type) with a transaction ID that is not ours")])
        }
        guard message.clientID == identity.duid else { return Step(events: [.ignored("\(message.type) for another client ID")]) }
        guard message.serverID != nil else { return Step(events: [.ignored("\(message.type) without a server ID")]) }
        for case let .solMaxRT(seconds) in message.options where (60...86_400).contains(seconds) {
            parameters.solicit.maxRetransmissionTime = Int64(seconds) * 1000  // RFC 8415 §21.24
        }
        switch (state, message.type) {
        case (.soliciting, .advertise):
            advertised(message, now: now, &step)
        case (.soliciting, .reply) where parameters.rapidCommit && message.hasRapidCommit:
            replied(message, now: now, &step)
        case (.requesting, .reply), (.renewing, .reply), (.rebinding, .reply):
            replied(message, now: now, &step)
        case (.releasing, .reply):
            self.exchange = nil
            self.lease = nil
            state = .released
            step.events.append(.released(confirmed: true))
        case (.declining, .reply):
            step.events.append(.declined(confirmed: true))
            lease = nil
            beginSolicit(now: now, hint: nil)
        default:
            step.events.append(.ignored("\(message.type) while \(state)"))
        }
        step.append(advance(now: now))
        return step
    }

    // MARK: - Received messages

    private mutating func advertised(_ message: Message, now: Int64, _ step: inout Step) {
        // RFC 8415 §18.2.9: an ADVERTISE without addresses is ignored.
        let ia = message.iaNA(identity.iaid)
        let offered = (ia?.status?.isSuccess ?? true) ? ia?.addresses ?? [] : []
        let addresses = offered.filter { $0.validLifetime != 0 && $0.preferredLifetime <= $0.validLifetime && !$0.address.isIPv4 }
        guard let serverID = message.serverID, !addresses.isEmpty else {
            let why = message.status ?? ia?.status
            step.events.append(.ignored("ADVERTISE without a usable address" + (why.map { " (\($0))" } ?? "")))
            return
        }
        let offer = Offer(serverID: serverID, preference: message.preference ?? 0, addresses: addresses,
                          serverUnicast: message.serverUnicast)
        // Preference 255 is taken at once; after the first RT the first ADVERTISE is (§18.2.1).
        if offer.preference == 255 || (exchange?.count ?? 0) > 1 {
            beginRequest(offer, now: now)
        } else {
            offers.append(offer)
        }
    }

    private mutating func replied(_ message: Message, now: Int64, _ step: inout Step) {
        guard var exchange else { return }
        if let status = message.status, !status.isSuccess {
            if status.code == StatusCode.useMulticast {
                // §18.2.10: send again, to the multicast address, now.
                exchange.destination = .allServers
                exchange.nextSend = now
                self.exchange = exchange
            }
            step.events.append(.ignored("\(exchange.type) answered with \(status)"))
            return
        }
        guard let ia = message.iaNA(identity.iaid) else {
            step.events.append(.ignored("REPLY without our IA_NA"))
            return
        }
        let wasRequesting = state != .renewing && state != .rebinding
        if !wasRequesting, ia.status?.code == StatusCode.noBinding, let serverID = message.serverID, let lease {
            // The server lost our binding: ask for it again with REQUEST (§18.2.10.1).
            beginRequest(Offer(serverID: serverID, preference: 0, addresses: [IAAddress(address: lease.address)],
                               serverUnicast: message.serverUnicast), now: now)
            return
        }
        switch Lease.from(reply: message, ia: ia, obtainedAt: exchange.lastSent) {
        case let .success(new):
            self.exchange = nil
            state = .bound
            let old = lease
            lease = new
            if wasRequesting {
                step.events.append(.leaseObtained(new))
            } else if let old, old.address != new.address {
                step.events.append(.leaseLost(old, reason: "the server moved the lease to \(new.address)"))
                step.events.append(.leaseObtained(new))
            } else {
                step.events.append(.leaseExtended(new))
            }
        case let .failure(rejection):
            if wasRequesting {
                step.events.append(.exchangeFailed(exchange.type, reason: rejection.description))
                beginSolicit(now: now, hint: nil)
            } else if case .invalid = rejection {
                step.events.append(.ignored("REPLY to \(exchange.type): \(rejection)"))
            } else if case let .status(status) = rejection, status.code != StatusCode.notOnLink {
                step.events.append(.ignored("REPLY to \(exchange.type): \(rejection)"))  // keep trying until T2/expiry
            } else {
                loseLease(reason: "REPLY to \(exchange.type): \(rejection)", now: now, hint: nil, &step)
            }
        }
    }

    // MARK: - Timers

    /// One step of timer processing; true when the state changed (so the caller looks again).
    private mutating func tick(now: Int64, _ step: inout Step) -> Bool {
        switch state {
        case .bound:
            guard let lease else { return false }
            if let end = lease.expiresAt, now >= end {
                loseLease(reason: "valid lifetime ended", now: now, hint: lease.address, &step)
            } else if let t2 = lease.rebindAt, now >= t2 {
                beginRebind(now: now)
            } else if let t1 = lease.renewAt, now >= t1 {
                beginExchange(.renew, parameters.renew, destination: Self.destination(lease.serverUnicast),
                              deadline: lease.rebindAt, now: now)
                state = .renewing
            } else {
                return false
            }
            return true
        case .soliciting:
            // The first RT is over and ADVERTISEs came in: take the most preferred (the first of equals).
            if let exchange, exchange.count >= 1, now >= exchange.nextSend, var best = offers.first {
                for offer in offers.dropFirst() where offer.preference > best.preference { best = offer }
                beginRequest(best, now: now)
                return true
            }
        default:
            break
        }
        guard var exchange, now >= exchange.nextSend else { return false }
        let limits = exchange.parameters
        if (limits.maxRetransmissionCount > 0 && exchange.count >= limits.maxRetransmissionCount)
            || (exchange.deadline.map { now >= $0 } ?? false) {
            exhausted(now: now, &step)
            return true
        }
        transmit(&exchange, now: now, &step)
        self.exchange = exchange
        return false
    }

    /// RFC 8415 §15: RT = IRT + RAND*IRT first, then 2*RTprev + RAND*RTprev, capped at MRT + RAND*MRT, with RAND
    /// uniform in [-0.1, 0.1] (strictly positive for the first SOLICIT).
    private mutating func transmit(_ exchange: inout Exchange, now: Int64, _ step: inout Step) {
        let limits = exchange.parameters
        var timeout: Double
        if exchange.count == 0 {
            let rand = exchange.type == .solicit ? 0.1 * (1 - random.unit()) : randomFactor()
            timeout = Double(limits.initialTimeout) * (1 + rand)
            exchange.firstSent = now
        } else {
            timeout = Double(exchange.timeout) * (2 + randomFactor())
        }
        if limits.maxRetransmissionTime > 0, timeout > Double(limits.maxRetransmissionTime) {
            timeout = Double(limits.maxRetransmissionTime) * (1 + randomFactor())
        }
        exchange.count += 1
        // Without an MRT the doubling is unbounded: stay within Int64 (a year is far beyond any lease).
        exchange.timeout = Int64(min(max(1, timeout.rounded()), 365 * 86_400_000))
        exchange.lastSent = now
        exchange.nextSend = now + exchange.timeout
        if let deadline = exchange.deadline { exchange.nextSend = min(exchange.nextSend, max(deadline, now)) }
        step.outgoing.append(Outgoing(message: build(exchange, now: now), destination: exchange.destination))
    }

    private mutating func randomFactor() -> Double { -0.1 + 0.2 * random.unit() }

    private mutating func exhausted(now: Int64, _ step: inout Step) {
        guard let exchange else { return }
        switch exchange.type {
        case .solicit:
            self.exchange = nil
            state = .idle
            step.events.append(.exchangeFailed(.solicit, reason: "no usable ADVERTISE after \(exchange.count) SOLICITs"))
        case .request:
            step.events.append(.exchangeFailed(.request, reason: "no REPLY after \(exchange.count) REQUESTs"))
            beginSolicit(now: now, hint: chosen?.addresses.first?.address)
        case .renew:
            beginRebind(now: now)  // T2 reached
        case .rebind:
            loseLease(reason: "valid lifetime ended without a REPLY to REBIND", now: now, hint: lease?.address, &step)
        case .release:
            self.exchange = nil
            lease = nil
            state = .released
            step.events.append(.released(confirmed: false))
        default:  // decline
            lease = nil
            step.events.append(.declined(confirmed: false))
            beginSolicit(now: now, hint: nil)
        }
    }

    // MARK: - Transitions

    private mutating func beginSolicit(now: Int64, hint: IPAddress?) {
        state = .soliciting
        offers = []
        chosen = nil
        solicitHint = hint
        let delay = Int64((random.unit() * Double(parameters.solicitMaxDelay)).rounded(.down))
        let duration = parameters.solicit.maxDuration
        beginExchange(.solicit, parameters.solicit, destination: .allServers,
                      deadline: duration > 0 ? now + delay + duration : nil, now: now + delay)
    }

    private mutating func beginRequest(_ offer: Offer, now: Int64) {
        state = .requesting
        chosen = offer
        offers = []
        beginExchange(.request, parameters.request, destination: Self.destination(offer.serverUnicast), deadline: nil, now: now)
    }

    private mutating func beginRebind(now: Int64) {
        state = .rebinding
        beginExchange(.rebind, parameters.rebind, destination: .allServers, deadline: lease?.expiresAt, now: now)
    }

    private mutating func beginExchange(_ type: MessageType, _ limits: Retransmission, destination: Destination,
                                        deadline: Int64?, now: Int64) {
        exchange = Exchange(type: type, xid: random.transactionID(), parameters: limits, destination: destination,
                            deadline: deadline, nextSend: now)
    }

    private mutating func loseLease(reason: String, now: Int64, hint: IPAddress?, _ step: inout Step) {
        if let lease { step.events.append(.leaseLost(lease, reason: reason)) }
        lease = nil
        beginSolicit(now: now, hint: hint)
    }

    private static func destination(_ unicast: IPAddress?) -> Destination { unicast.map { .unicast($0) } ?? .allServers }

    // MARK: - Messages

    private func build(_ exchange: Exchange, now: Int64) -> Message {
        // Elapsed time in hundredths of a second since the exchange's first transmission, saturating (§21.9).
        let elapsed = UInt16(clamping: (now - (exchange.firstSent ?? now)) / 10)
        var options: [DHCPOption] = [.clientID(identity.duid)]
        let requested = DHCPOption.optionRequest(parameters.requestedOptions)
        func ia(_ addresses: [IPAddress]) -> DHCPOption {
            .iaNA(IANA(iaid: identity.iaid, options: addresses.map { .address(IAAddress(address: $0)) }))
        }
        let leased = lease.map { [$0.address] } ?? []
        switch exchange.type {
        case .solicit:
            options += [.optionRequest(parameters.requestedOptions + [OptionCode.solMaxRT]), .elapsedTime(elapsed)]
            if parameters.rapidCommit { options.append(.rapidCommit) }
            options.append(ia(solicitHint.map { [$0] } ?? []))
        case .request:
            options += [.serverID(chosen?.serverID ?? []), requested, .elapsedTime(elapsed),
                        ia(chosen?.addresses.map(\.address) ?? [])]
        case .renew:
            options += [.serverID(lease?.serverID ?? []), requested, .elapsedTime(elapsed), ia(leased)]
        case .rebind:
            options += [requested, .elapsedTime(elapsed), ia(leased)]
        default:  // release, decline
            options += [.serverID(lease?.serverID ?? []), .elapsedTime(elapsed), ia(leased)]
        }
        return Message(type: exchange.type, transactionID: exchange.xid, options: options)
    }
}

/// One ADVERTISE worth requesting.
struct Offer {
    var serverID: [UInt8]
    var preference: UInt8
    var addresses: [IAAddress]
    var serverUnicast: IPAddress?
}

/// One message exchange with its retransmission state (§15).
struct Exchange {
    var type: MessageType
    var xid: UInt32
    var parameters: Retransmission
    var destination: Destination
    /// Absolute end of retransmission (MRD, T2 for RENEW, the valid lifetime's end for REBIND).
    var deadline: Int64?
    var nextSend: Int64
    var count = 0
    var timeout: Int64 = 0
    var firstSent: Int64?
    var lastSent: Int64 = 0

    init(type: MessageType, xid: UInt32, parameters: Retransmission, destination: Destination, deadline: Int64?, nextSend: Int64) {
        self.type = type; self.xid = xid; self.parameters = parameters; self.destination = destination
        self.deadline = deadline; self.nextSend = nextSend
    }
}
