import Testing
@testable import DHCPv6
import NetTypes

private let identity = ClientIdentity(identity: "ctr/net/eth0")

private func client(delay: Int64 = 0, _ configure: (inout ClientParameters) -> Void = { _ in }) -> Client {
    var parameters = ClientParameters()
    parameters.solicitMaxDelay = delay
    configure(&parameters)
    return Client(identity: identity, parameters: parameters, randomness: FixedRandomness())
}

private func ia(_ message: Message) -> IANA? { message.iaNA(identity.iaid) }

/// SOLICIT at 0, a preference-255 ADVERTISE at 5 (REQUEST sent at once), REPLY at 20: bound, obtained at 5.
private func bound(_ server: FakeServer = FakeServer(), _ c: inout Client) throws -> Lease {
    let solicit = try #require(c.start(now: 0).sent.first)
    var advertiser = server
    advertiser.preference = 255
    let request = try #require(c.receive(advertiser.answer(solicit, type: .advertise), now: 5).sent.first)
    let step = c.receive(server.answer(request, type: .reply), now: 20)
    guard case let .leaseObtained(lease)? = step.events.first else { Issue.record("not bound: \(step.events)"); throw Abort() }
    return lease
}

private struct Abort: Error {}

@Suite struct SolicitTests {
    @Test func initialDelayAndRetransmissionTimes() throws {
        var c = client(delay: 1000) { $0.solicit.maxRetransmissionTime = 4000 }
        #expect(c.start(now: 0).outgoing.isEmpty)
        #expect(c.nextDeadline == 500)  // RAND-scaled SOL_MAX_DELAY
        #expect(c.advance(now: 499).outgoing.isEmpty)
        let first = c.advance(now: 500)
        #expect(first.types == [.solicit] && first.outgoing[0].destination == .allServers)
        #expect(c.nextDeadline == 1550)  // IRT + 0.05 IRT: the first RT of SOLICIT is always above IRT
        #expect(c.advance(now: 1550).sent.first?.options.contains(.elapsedTime(105)) == true)
        #expect(c.nextDeadline == 3650)  // 2 RT
        _ = c.advance(now: 3650)
        #expect(c.nextDeadline == 7650)  // capped at MRT
        let solicit = first.sent[0]
        #expect(solicit.clientID == identity.duid && solicit.serverID == nil)
        #expect(solicit.options.contains(.optionRequest([23, 24, 82])) && solicit.options.contains(.elapsedTime(0)))
        #expect(ia(solicit) == IANA(iaid: identity.iaid))
        // All transmissions of one exchange share the transaction ID.
        #expect(c.advance(now: 7650).sent.first?.transactionID == solicit.transactionID)
    }

    @Test func picksTheMostPreferredAdvertiseAfterTheFirstRT() throws {
        var c = client()
        let solicit = try #require(c.start(now: 0).sent.first)
        var a = FakeServer(serverID: [0, 2, 0, 0, 0, 1, 0xA], preference: 10, address: IPAddress("2001:db8::a")!)
        var b = FakeServer(serverID: [0, 2, 0, 0, 0, 1, 0xB], preference: 20, address: IPAddress("2001:db8::b")!)
        #expect(c.receive(a.answer(solicit, type: .advertise), now: 100).outgoing.isEmpty)
        #expect(c.receive(b.answer(solicit, type: .advertise), now: 200).outgoing.isEmpty)
        a.preference = 15; b.preference = 20
        let step = c.advance(now: 1050)
        let request = try #require(step.sent.first)
        #expect(request.type == .request && c.state == .requesting)
        #expect(request.serverID == b.serverID)
        #expect(ia(request)?.addresses.map(\.address) == [b.address])
        #expect(request.options.contains(.elapsedTime(0)))  // a new exchange
        #expect(request.transactionID != solicit.transactionID)
    }

    @Test func preference255IsTakenAtOnce() throws {
        var c = client()
        let solicit = try #require(c.start(now: 0).sent.first)
        let step = c.receive(FakeServer(preference: 255).answer(solicit, type: .advertise), now: 10)
        #expect(step.types == [.request])
    }

    @Test func afterTheFirstRTTheFirstAdvertiseIsTaken() throws {
        var c = client()
        let solicit = try #require(c.start(now: 0).sent.first)
        #expect(c.advance(now: 1050).types == [.solicit])
        #expect(c.receive(FakeServer(preference: 1).answer(solicit, type: .advertise), now: 1100).types == [.request])
    }

    @Test func advertiseWithoutAddressesIsIgnored() throws {
        var c = client()
        let solicit = try #require(c.start(now: 0).sent.first)
        var server = FakeServer(preference: 255)
        server.valid = 0
        server.iaStatus = StatusCode(code: StatusCode.noAddrsAvail, message: "no addresses")
        let step = c.receive(server.answer(solicit, type: .advertise), now: 10)
        #expect(step.outgoing.isEmpty && c.state == .soliciting)
        #expect(step.events == [.ignored("ADVERTISE without a usable address (status 2 (no addresses))")])
    }

    @Test func solMaxRTFromTheServerIsHonoured() throws {
        var c = client()
        let solicit = try #require(c.start(now: 0).sent.first)
        _ = c.receive(FakeServer().answer(solicit, type: .advertise, extra: [.solMaxRT(70)]), now: 10)
        #expect(c.parameters.solicit.maxRetransmissionTime == 70_000)
        _ = c.receive(FakeServer().answer(solicit, type: .advertise, extra: [.solMaxRT(10)]), now: 20)  // out of range
        #expect(c.parameters.solicit.maxRetransmissionTime == 70_000)
    }

    @Test func rapidCommit() throws {
        var c = client { $0.rapidCommit = true }
        let solicit = try #require(c.start(now: 0).sent.first)
        #expect(solicit.hasRapidCommit)
        let step = c.receive(FakeServer().answer(solicit, type: .reply, extra: [.rapidCommit]), now: 30)
        guard case let .leaseObtained(lease)? = step.events.first else { Issue.record("\(step.events)"); return }
        #expect(lease.address == FakeServer().address && c.state == .bound)
    }

    @Test func maxDurationEndsSoliciting() {
        var c = client { $0.solicit.maxDuration = 5000 }
        _ = c.start(now: 0)
        var events: [ClientEvent] = []
        for _ in 0..<10 { guard let t = c.nextDeadline else { break }; events += c.advance(now: t).events }
        #expect(events == [.exchangeFailed(.solicit, reason: "no usable ADVERTISE after 3 SOLICITs")])
        #expect(c.state == .idle && c.nextDeadline == nil)
    }
}

@Suite struct RequestTests {
    @Test func replyBindsTheLease() throws {
        var c = client()
        let server = FakeServer(unicast: nil)
        let lease = try bound(server, &c)
        #expect(lease.address == server.address && lease.serverID == server.serverID)
        #expect(lease.t1 == 60 && lease.t2 == 105 && lease.preferredLifetime == 120 && lease.validLifetime == 120)
        #expect(lease.obtainedAt == 5)  // lifetimes count from when the REQUEST left, not from the REPLY
        #expect(c.state == .bound && c.lease == lease)
        #expect(c.nextDeadline == 60_005)
        #expect(lease.remainingValidLifetime(at: 20_005) == 100)
    }

    @Test func gives10RequestsThenSolicitsAgain() throws {
        var c = client()
        let solicit = try #require(c.start(now: 0).sent.first)
        var sent = c.receive(FakeServer(preference: 255).answer(solicit, type: .advertise), now: 0).types
        var events: [ClientEvent] = []
        var times: [Int64] = []
        for _ in 0..<20 where c.state == .requesting {
            let t = c.nextDeadline!
            times.append(t)
            let step = c.advance(now: t)
            sent += step.types
            events += step.events
        }
        #expect(sent == Array(repeating: .request, count: 10) + [.solicit])
        // RT doubles from REQ_TIMEOUT and is capped at REQ_MAX_RT (30 s).
        #expect(times == [1000, 3000, 7000, 15000, 31000, 61000, 91000, 121000, 151000, 181000])
        #expect(events == [.exchangeFailed(.request, reason: "no REPLY after 10 REQUESTs")])
        #expect(c.state == .soliciting)
    }

    @Test func noAddrsAvailInTheReplySolicitsAgain() throws {
        var c = client()
        let solicit = try #require(c.start(now: 0).sent.first)
        let request = try #require(c.receive(FakeServer(preference: 255).answer(solicit, type: .advertise), now: 0).sent.first)
        var server = FakeServer()
        server.valid = 0
        server.iaStatus = StatusCode(code: StatusCode.noAddrsAvail)
        let step = c.receive(server.answer(request, type: .reply), now: 10)
        #expect(step.events == [.exchangeFailed(.request, reason: "server answered status 2")])
        #expect(step.types == [.solicit] && c.state == .soliciting)
    }

    @Test func t1AboveT2DiscardsTheIA() throws {
        var c = client()
        let solicit = try #require(c.start(now: 0).sent.first)
        let request = try #require(c.receive(FakeServer(preference: 255).answer(solicit, type: .advertise), now: 0).sent.first)
        let step = c.receive(FakeServer(t1: 90, t2: 80).answer(request, type: .reply), now: 10)
        #expect(step.events == [.exchangeFailed(.request, reason: "IA_NA with T1 90 > T2 80")])
    }

    @Test(arguments: [
        (UInt32(100), UInt32(200), UInt32(50), UInt32(80)),
        (Lease.infinity, Lease.infinity, Lease.infinity, Lease.infinity),
        (UInt32(0), UInt32(200), UInt32(0), UInt32(0)),
    ])
    func defaultT1T2(_ preferred: UInt32, _ valid: UInt32, _ t1: UInt32, _ t2: UInt32) throws {
        var c = client()
        let lease = try bound(FakeServer(t1: 0, t2: 0, preferred: preferred, valid: valid), &c)
        #expect(lease.t1 == t1 && lease.t2 == t2)
        if valid == Lease.infinity { #expect(c.nextDeadline == nil && lease.expiresAt == nil) }
    }

    @Test func dropsPacketsThatAreNotOurs() throws {
        var c = client()
        let solicit = try #require(c.start(now: 0).sent.first)
        var foreignXID = solicit
        foreignXID.transactionID ^= 1
        var otherClient = solicit
        otherClient.options[0] = .clientID([0, 4, 9, 9])
        let noServerID = Message(type: .advertise, transactionID: solicit.transactionID, options: [.clientID(identity.duid)])
        let inputs: [([UInt8], String)] = [
            ([2, 0], "DHCPv6 packet truncated in transaction id at byte 2"),
            (FakeServer().answer(foreignXID, type: .advertise), "ADVERTISE with a transaction ID that is not ours"),
            (FakeServer().answer(otherClient, type: .advertise), "ADVERTISE for another client ID"),
            (noServerID.encoded(), "ADVERTISE without a server ID"),
            (FakeServer().answer(solicit, type: .reply), "REPLY while soliciting"),
        ]
        for (bytes, why) in inputs {
            let step = c.receive(bytes, now: 10)
            #expect(step.events == [.ignored(why)])
            #expect(step.outgoing.isEmpty)
        }
        #expect(c.state == .soliciting)
    }
}

@Suite struct LeaseLifeTests {
    @Test func renewAtT1RebindAtT2LostAtExpiry() throws {
        var c = client()
        let lease = try bound(FakeServer(), &c)
        var log: [(Int64, MessageType, Destination, Bool)] = []  // time, type, destination, has server ID
        var events: [ClientEvent] = []
        for _ in 0..<10 where c.state != .soliciting {
            let t = c.nextDeadline!
            let step = c.advance(now: t)
            log += step.outgoing.map { (t, $0.message.type, $0.destination, $0.message.serverID != nil) }
            events += step.events
        }
        #expect(log.map(\.0) == [60_005, 70_005, 90_005, 105_005, 115_005, 120_005])
        #expect(log.map(\.1) == [.renew, .renew, .renew, .rebind, .rebind, .solicit])
        #expect(log.allSatisfy { $0.2 == .allServers })
        #expect(log.map(\.3) == [true, true, true, false, false, false])  // REBIND and SOLICIT: no server ID
        #expect(events == [.leaseLost(lease, reason: "valid lifetime ended without a REPLY to REBIND")])
        #expect(c.lease == nil)
    }

    @Test func renewCarriesTheLeaseAndItsReplyExtendsIt() throws {
        var c = client()
        let server = FakeServer()
        let lease = try bound(server, &c)
        let renew = try #require(c.advance(now: 60_005).sent.first)
        #expect(renew.serverID == server.serverID && renew.options.contains(.elapsedTime(0)))
        #expect(ia(renew)?.addresses == [IAAddress(address: lease.address)])
        let step = c.receive(server.answer(renew, type: .reply), now: 60_100)
        var extended = lease
        extended.obtainedAt = 60_005
        #expect(step.events == [.leaseExtended(extended)] && c.nextDeadline == 120_005)
    }

    @Test func serverUnicastOptionSendsRenewAndReleaseToTheServer() throws {
        var c = client()
        let server = FakeServer(unicast: IPAddress("2001:db8::1")!)
        let lease = try bound(server, &c)
        #expect(lease.serverUnicast == server.unicast)
        #expect(c.advance(now: 60_005).outgoing.first?.destination == .unicast(server.unicast!))
        // The server asks for multicast: the same RENEW goes again at once, multicast.
        var useMulticast = server
        useMulticast.topStatus = StatusCode(code: StatusCode.useMulticast)
        let renew = c.advance(now: 70_005).sent[0]
        let step = c.receive(useMulticast.answer(renew, type: .reply), now: 70_010)
        #expect(step.outgoing.map(\.destination) == [.allServers] && step.types == [.renew])
        #expect(step.sent.first?.transactionID == renew.transactionID)
        #expect(c.advance(now: 105_005).outgoing.first?.destination == .allServers)  // REBIND: always multicast
    }

    @Test func noBindingInTheRenewReplyRequestsAgain() throws {
        var c = client()
        var server = FakeServer()
        let lease = try bound(server, &c)
        let renew = c.advance(now: 60_005).sent[0]
        server.iaStatus = StatusCode(code: StatusCode.noBinding)
        server.valid = 0
        let step = c.receive(server.answer(renew, type: .reply), now: 60_010)
        #expect(step.types == [.request] && c.state == .requesting)
        #expect(step.sent.first?.serverID == server.serverID)
        #expect(step.sent.first.flatMap(ia)?.addresses.map(\.address) == [lease.address])
    }

    @Test func zeroValidLifetimeInTheReplyLosesTheLease() throws {
        var c = client()
        var server = FakeServer()
        let lease = try bound(server, &c)
        let renew = c.advance(now: 60_005).sent[0]
        server.valid = 0; server.preferred = 0
        let step = c.receive(server.answer(renew, type: .reply), now: 60_010)
        #expect(step.events == [.leaseLost(lease, reason: "REPLY to RENEW: no usable address in the IA_NA")])
        #expect(step.types == [.solicit])
    }

    @Test func aNewAddressInTheReplyReplacesTheOldOne() throws {
        var c = client()
        var server = FakeServer()
        let lease = try bound(server, &c)
        let rebind = c.advance(now: 105_005).sent[0]
        #expect(rebind.type == .rebind)
        server.address = IPAddress("2001:db8::99")!
        let step = c.receive(server.answer(rebind, type: .reply), now: 105_010)
        guard step.events.count == 2, case .leaseLost(lease, _) = step.events[0], case let .leaseObtained(new) = step.events[1] else {
            Issue.record("\(step.events)"); return
        }
        #expect(new.address == server.address && c.lease == new)
    }

    @Test func releaseIsAnsweredOrGivenUpAfter4Tries() throws {
        var c = client()
        let server = FakeServer()
        let lease = try bound(server, &c)
        let release = try #require(c.release(now: 1000).sent.first)
        #expect(release.type == .release && release.serverID == server.serverID)
        #expect(ia(release)?.addresses.map(\.address) == [lease.address])
        #expect(c.receive(server.answer(release, type: .reply), now: 1010).events == [.released(confirmed: true)])
        #expect(c.state == .released && c.lease == nil && c.nextDeadline == nil)

        var silent = client()
        _ = try bound(server, &silent)
        var count = silent.release(now: 1000).outgoing.count
        var events: [ClientEvent] = []
        for _ in 0..<10 where silent.state == .releasing {
            let step = silent.advance(now: silent.nextDeadline!)
            count += step.outgoing.count
            events += step.events
        }
        #expect(count == 4 && events == [.released(confirmed: false)])
    }

    @Test func releaseWithoutALeaseJustStops() {
        var c = client()
        _ = c.start(now: 0)
        #expect(c.release(now: 10) == Step(outgoing: [], events: [.released(confirmed: true)]))
        #expect(c.nextDeadline == nil)
    }

    @Test func declineThenSolicit() throws {
        var c = client()
        let server = FakeServer()
        _ = try bound(server, &c)
        let decline = try #require(c.decline(now: 30).sent.first)
        #expect(decline.type == .decline && decline.serverID == server.serverID)
        let step = c.receive(server.answer(decline, type: .reply), now: 40)
        #expect(step.events == [.declined(confirmed: true)] && step.types == [.solicit] && c.lease == nil)
    }
}

@Suite struct ResumeTests {
    let saved = Lease(serverID: [0, 2, 0, 0, 0, 1, 1], address: IPAddress("2001:db8::77")!, preferredLifetime: 100,
                      validLifetime: 200, t1: 50, t2: 80, obtainedAt: 1_000_000)

    @Test func beforeT1WaitsForT1() {
        var c = client()
        #expect(c.resume(saved, now: 1_010_000) == Step())
        #expect(c.state == .bound && c.nextDeadline == 1_050_000)
    }

    @Test func betweenT1AndT2Renews() {
        var c = client()
        let step = c.resume(saved, now: 1_060_000)
        #expect(step.types == [.renew] && step.sent.first?.serverID == saved.serverID)
        #expect(c.nextDeadline == 1_070_000)
    }

    @Test func betweenT2AndExpiryRebinds() {
        var c = client()
        #expect(c.resume(saved, now: 1_190_000).types == [.rebind])
        #expect(c.nextDeadline == 1_200_000)  // REB retransmission cut at the end of the valid lifetime
    }

    @Test func expiredSolicitsTheSameAddress() {
        var c = client()
        let step = c.resume(saved, now: 1_300_000)
        #expect(step.events == [.leaseLost(saved, reason: "valid lifetime ended")])
        #expect(step.types == [.solicit])
        #expect(step.sent.first.flatMap(ia)?.addresses == [IAAddress(address: saved.address)])
    }
}

/// A run of the Client against a real dnsmasq, recorded by test-harness/dhcp/dhcpv6-real (SOLICIT, ADVERTISE,
/// REQUEST, REPLY, RENEW, REPLY, REBIND, REPLY, RELEASE, REPLY), replayed: same inputs, same bytes out.
@Suite struct TranscriptTests {
    @Test func replaysTheDnsmasqRunByteForByte() throws {
        let lines = try Fixtures.lines("client-dnsmasq.transcript").map { line in
            guard let parsed = TranscriptLine(line) else { throw Abort() }
            return parsed
        }
        var parameters = ClientParameters()
        parameters.solicitMaxDelay = 0  // as dhcpv6-drive runs it
        var c = Client(identity: ClientIdentity(identity: "d6c0ffee/dhcpv6-test/eth0"), parameters: parameters,
                       randomness: SeededRandomness(seed: 6))
        var index = 0, inputs = 0
        while index < lines.count {
            let input = lines[index]
            let produced = try #require(TranscriptLine.run(input, on: &c), "not an input: \(input.text)")
            inputs += 1
            index += 1
            var expected: [TranscriptLine] = []
            while index < lines.count, !lines[index].isInput {
                expected.append(lines[index]); index += 1
            }
            #expect(produced.map(\.text) == expected.map(\.text), "after \(input.text)")
        }
        #expect(inputs >= 9 && c.state == .released)
    }

    @Test func linesRoundTrip() {
        for text in ["start 5", "advance 7", "release 9", "recv 3 0102ff", "send all 01", "send 2001:db8::1 05",
                     "event obtained x", "deadline none", "deadline 12"] {
            #expect(TranscriptLine(text)?.text == text)
        }
        for bad in ["", "start", "start x", "recv 3 0g", "recv 3 012", "send nowhere 01", "deadline soon", "what 1"] {
            #expect(TranscriptLine(bad) == nil)
        }
    }
}

@Suite struct UnboundedRetransmissionTests {
    @Test func withoutMRTTheTimeoutStopsGrowingAtAYear() {
        var c = client { $0.solicit.maxRetransmissionTime = 0 }
        _ = c.start(now: 0)
        var previous: Int64 = 0, gaps: [Int64] = []
        for _ in 0..<80 {
            let t = c.nextDeadline!
            gaps.append(t - previous)
            previous = t
            #expect(c.advance(now: t).types == [.solicit])
        }
        let year: Int64 = 365 * 86_400_000
        #expect(gaps.suffix(3) == [year, year, year])
    }
}
