import Testing
@testable import DHCPv4
import NetTypes

let identity = DHCPv4Client.Identity(clientIdentifier: [0] + Array("c1/net/eth0".utf8), hardwareAddress: [2, 0, 0, 0, 0, 7],
                                     requestedOptions: [1, 3], providedOptions: [DHCPv4Option(code: 12, value: Array("web".utf8))])

/// Reproducible "randomness" for the state machine: a fixed-step sequence.
struct Steps: RandomNumberGenerator, Sendable {
    var value: UInt64
    init(_ start: UInt64) { value = start }
    mutating func next() -> UInt64 { value &+= 0x6A09_E667_F3BC_C909; return value }
}

func sent(_ actions: [DHCPv4Client.Action]) -> [DHCPv4Client.Outgoing] {
    actions.compactMap { if case let .send(o) = $0 { return o } else { return nil } }
}

func events(_ actions: [DHCPv4Client.Action]) -> [DHCPv4Client.Event] {
    actions.compactMap { if case let .event(e) = $0 { return e } else { return nil } }
}

/// A client taken through DISCOVER/OFFER/REQUEST/ACK at time `t`.
func boundClient(at t: Double = 1000) -> (DHCPv4Client, DHCPv4Client.Binding) {
    var c = DHCPv4Client(identity: identity, random: Steps(42))
    let discover = sent(c.acquire(now: t))[0].message
    let request = sent(c.receive(reply(.offer, to: discover), now: t + 0.1))[0].message
    let done = events(c.receive(reply(.ack, to: request), now: t + 0.2))
    guard case let .bound(binding, _) = done.first else { fatalError("not bound") }
    return (c, binding)
}

@Suite struct ClientStateMachineTests {
    @Test func acquiresThroughOfferAndAck() {
        var c = DHCPv4Client(identity: identity, random: Steps(1))
        let first = sent(c.acquire(now: 100))
        #expect(c.state == .selecting)
        #expect(first.count == 1 && first[0].destination == .broadcast)
        let discover = first[0].message
        #expect(discover.messageType == .discover)
        #expect(discover.flags == DHCPv4Message.broadcastFlag)
        #expect(discover.option(.clientIdentifier) == identity.clientIdentifier)
        #expect(discover.option(.hostName) == Array("web".utf8))
        #expect(discover.option(.parameterRequestList) == [1, 3])
        let request = sent(c.receive(reply(.offer, to: discover), now: 100.5))
        #expect(c.state == .requesting)
        #expect(request[0].message.messageType == .request)
        #expect(request[0].message.option(.requestedAddress) == [10, 0, 0, 150])
        #expect(request[0].message.option(.serverIdentifier) == [10, 0, 0, 1])
        #expect(request[0].message.clientAddress == .zeroV4)
        let done = events(c.receive(reply(.ack, to: request[0].message), now: 101))
        guard case let .bound(binding, previous) = done.first else { Issue.record("not bound"); return }
        #expect(previous == .requesting)
        #expect(c.state == .bound)
        #expect(binding.renewAt == 111 && binding.rebindAt == 121 && binding.expiresAt == 221)
        #expect(c.nextDeadline == 111)
        #expect(!c.isExchanging)
    }

    @Test func ignoresForeignReplies() {
        var c = DHCPv4Client(identity: identity, random: Steps(1))
        let discover = sent(c.acquire(now: 0))[0].message
        var other = reply(.offer, to: discover)
        other.transactionID &+= 1
        #expect(c.receive(other, now: 1).isEmpty)
        var otherMAC = reply(.offer, to: discover)
        otherMAC.hardwareAddress = [2, 0, 0, 0, 0, 8]
        #expect(c.receive(otherMAC, now: 1).isEmpty)
        var otherID = reply(.offer, to: discover)
        otherID.set(.clientIdentifier, [0, 1, 2])
        #expect(c.receive(otherID, now: 1).isEmpty)
        #expect(c.state == .selecting)
    }

    @Test func retransmitsWithBackoff() {
        var c = DHCPv4Client(identity: identity, backoff: .init(initial: 4, maximum: 16), random: Steps(9))
        _ = c.acquire(now: 0)
        var times: [Double] = []
        var now = 0.0
        for _ in 0..<5 {
            now = c.nextDeadline!
            times.append(now)
            let out = sent(c.tick(now: now))
            #expect(out.count == 1 && out[0].message.messageType == .discover)
        }
        let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
        // 4, 8, 16, 16 (capped), each ±1 s.
        for (gap, expected) in zip([times[0]] + gaps, [4.0, 8, 16, 16, 16]) { #expect(abs(gap - expected) <= 1.0001) }
        #expect(sent(c.tick(now: now + 0.1)).isEmpty)   // nothing before the deadline
    }

    @Test func nakWhileRequestingStartsOver() {
        var c = DHCPv4Client(identity: identity, random: Steps(3))
        let discover = sent(c.acquire(now: 0))[0].message
        let request = sent(c.receive(reply(.offer, to: discover), now: 1))[0].message
        let again = sent(c.receive(reply(.nak, to: request), now: 2))
        #expect(c.state == .selecting && again[0].message.messageType == .discover)
    }

    @Test func renewsFromTheLeasedAddressThenRebindsThenExpires() {
        var (c, binding) = boundClient()
        #expect(sent(c.tick(now: binding.renewAt - 1)).isEmpty)
        let renew = sent(c.tick(now: binding.renewAt))
        #expect(c.state == .renewing)
        #expect(renew[0].destination == .server(IPAddress("10.0.0.1")!))
        #expect(renew[0].message.clientAddress == IPAddress("10.0.0.150"))
        #expect(renew[0].message.option(.requestedAddress) == nil && renew[0].message.option(.serverIdentifier) == nil)
        #expect(renew[0].message.flags == 0)
        // Retransmission: half the time left to T2, at least the minimum.
        #expect(c.nextDeadline! == binding.renewAt + 5)
        let rebind = sent(c.tick(now: binding.rebindAt))
        #expect(c.state == .rebinding && rebind[0].destination == .broadcast)
        #expect(rebind[0].message.clientAddress == IPAddress("10.0.0.150"))
        let expiry = c.tick(now: binding.expiresAt)
        #expect(events(expiry) == [.expired])
        #expect(c.state == .rebooting)
        let reboot = sent(expiry)[0].message
        #expect(reboot.messageType == .request && reboot.option(.requestedAddress) == [10, 0, 0, 150] && reboot.clientAddress == .zeroV4)
        let back = events(c.receive(reply(.ack, to: reboot), now: binding.expiresAt + 1))
        guard case let .bound(_, previous) = back.first else { Issue.record("not re-acquired"); return }
        #expect(previous == .rebooting && c.state == .bound)
    }

    @Test func renewalAckExtendsTheLease() {
        var (c, binding) = boundClient()
        let renew = sent(c.tick(now: binding.renewAt))[0].message
        let done = events(c.receive(reply(.ack, to: renew), now: binding.renewAt + 1))
        guard case let .bound(renewed, previous) = done.first else { Issue.record("not renewed"); return }
        #expect(previous == .renewing)
        #expect(renewed.expiresAt == binding.renewAt + 1 + 120)
    }

    @Test func ackForAnotherAddressIsIgnoredWhileRenewing() {
        var (c, binding) = boundClient()
        let renew = sent(c.tick(now: binding.renewAt))[0].message
        #expect(c.receive(reply(.ack, to: renew, address: "10.0.0.151"), now: binding.renewAt + 1).isEmpty)
        #expect(c.state == .renewing)
    }

    @Test func nakWhileRenewingLosesTheLease() {
        var (c, binding) = boundClient()
        let renew = sent(c.tick(now: binding.renewAt))[0].message
        let out = events(c.receive(reply(.nak, to: renew), now: binding.renewAt + 1))
        guard case .lost = out.first else { Issue.record("expected lost"); return }
        #expect(c.state == .stopped && c.nextDeadline == nil)
    }

    @Test(arguments: [(5.0, DHCPv4Client.State.bound), (12, .renewing), (25, .rebinding), (400, .rebooting)])
    func resumesInTheStateTheTimesSay(_ offset: Double, _ expected: DHCPv4Client.State) {
        let (_, binding) = boundClient(at: 1000)
        var c = DHCPv4Client(identity: identity, random: Steps(5))
        let actions = c.resume(binding, now: 1000 + offset)
        #expect(c.state == expected)
        let out = sent(actions)
        if expected == .bound {
            #expect(out.isEmpty)
            // ... and the first packet, at T1, is a REQUEST for the same address.
            let first = sent(c.tick(now: binding.renewAt))[0].message
            #expect(first.messageType == .request && first.clientAddress == IPAddress("10.0.0.150"))
        } else {
            #expect(out.count == 1 && out[0].message.messageType == .request)
            let m = out[0].message
            #expect(m.clientAddress == IPAddress("10.0.0.150") || m.option(.requestedAddress) == [10, 0, 0, 150])
        }
    }

    @Test func releaseIsUnicastFromTheLease() {
        var (c, _) = boundClient()
        let release = c.stop()
        #expect(release?.destination == .server(IPAddress("10.0.0.1")!))
        #expect(release?.message.messageType == .release)
        #expect(release?.message.clientAddress == IPAddress("10.0.0.150"))
        #expect(release?.message.option(.serverIdentifier) == [10, 0, 0, 1])
        #expect(c.state == .stopped && c.stop() == nil)
    }

    @Test func infiniteLeaseNeverRenews() {
        var c = DHCPv4Client(identity: identity, random: Steps(1))
        let discover = sent(c.acquire(now: 0))[0].message
        let request = sent(c.receive(reply(.offer, to: discover), now: 1))[0].message
        let infinite = standardOptions.filter { ![.leaseTime, .renewalTime, .rebindingTime].contains($0.0) } + [(.leaseTime, [255, 255, 255, 255])]
        _ = c.receive(reply(.ack, to: request, options: infinite), now: 2)
        #expect(c.state == .bound && c.nextDeadline == .infinity)
    }
}
