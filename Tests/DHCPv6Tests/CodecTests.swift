import Testing
@testable import DHCPv6
import NetTypes

@Suite struct RealPacketTests {
    @Test func dhclientExchangeDecodesAndReencodesByteForByte() throws {
        let capture = try Fixtures.dhclientCapture()
        let messages = try capture.map { try Message(decoding: $0.bytes) }
        #expect(messages.map(\.type) == [.solicit, .advertise, .request, .reply, .release, .reply])
        for (message, packet) in zip(messages, capture) { #expect(message.encoded() == packet.bytes) }
        #expect(capture.map(\.direction) == ["c2s", "s2c", "c2s", "s2c", "c2s", "s2c"])
    }

    @Test func dhclientSolicit() throws {
        let solicit = try Message(decoding: Fixtures.dhclientCapture()[0].bytes)
        let duid = try #require(solicit.clientID)
        #expect(duid.count == 14 && duid[0...1] == [0, 1])  // dhclient: DUID-LLT from the veth's MAC
        #expect(solicit.options.contains(.elapsedTime(0)))
        #expect(solicit.options.contains(.optionRequest([23, 24, 39, 31])))
        let ia = try #require(solicit.options.lazy.compactMap { if case let .iaNA(ia) = $0 { ia } else { nil } }.first)
        #expect(ia.t1 == 3600 && ia.t2 == 5400 && ia.addresses.isEmpty)
        #expect(solicit.serverID == nil)
    }

    @Test func dnsmasqAdvertise() throws {
        let capture = try Fixtures.dhclientCapture()
        let solicit = try Message(decoding: capture[0].bytes), advertise = try Message(decoding: capture[1].bytes)
        #expect(advertise.transactionID == solicit.transactionID)
        #expect(advertise.clientID == solicit.clientID)
        #expect(advertise.serverID?.prefix(2) == [0, 1])
        #expect(advertise.preference == 0)
        #expect(advertise.dnsServers == [IPAddress("2001:db8:d6::53")!])
        #expect(advertise.domainList == ["example.test", "lab.example.test"])
        let iaid = solicit.options.lazy.compactMap { if case let .iaNA(ia) = $0 { ia.iaid } else { nil } }.first!
        let ia = try #require(advertise.iaNA(iaid))
        #expect(ia.t1 == 60 && ia.t2 == 105)  // dnsmasq: half and 7/8 of the 2-minute lease
        let address = try #require(ia.addresses.first)
        #expect(IPPrefix("2001:db8:d6::/64")!.contains(address.address))
        #expect(address.preferredLifetime == 120 && address.validLifetime == 120)
        // dnsmasq puts its status at the top level, after the IA_NA (nested ones: CodecTests).
        #expect(advertise.status == StatusCode(code: 0, message: "success") && ia.status == nil)
    }

    @Test func dnsmasqAnswersRelease() throws {
        let capture = try Fixtures.dhclientCapture()
        let release = try Message(decoding: capture[4].bytes), reply = try Message(decoding: capture[5].bytes)
        #expect(release.serverID == (try Message(decoding: capture[1].bytes)).serverID)
        #expect(reply.transactionID == release.transactionID)
        #expect(reply.status == StatusCode(code: 0, message: "release received"))
    }

    /// Every truncation and many byte flips of the real packets: decoding must throw or succeed, never trap,
    /// and whatever decodes must re-encode to something that decodes to the same message.
    @Test func hostileVariantsOfRealPackets() throws {
        var random = SeededRandomness(seed: 42)
        var decoded = 0, rejected = 0
        for (_, packet) in try Fixtures.dhclientCapture() {
            for length in 0..<packet.count {
                if (try? Message(decoding: Array(packet.prefix(length)))) != nil { decoded += 1 } else { rejected += 1 }
            }
            for _ in 0..<2000 {
                var mutated = packet
                for _ in 0..<1 + Int(random.unit() * 4) {
                    mutated[Int(random.unit() * Double(mutated.count))] = UInt8(truncatingIfNeeded: random.transactionID())
                }
                guard let message = try? Message(decoding: mutated) else { rejected += 1; continue }
                decoded += 1
                #expect(try Message(decoding: message.encoded()) == message)
            }
        }
        #expect(decoded > 0 && rejected > 0)
    }
}

@Suite struct CodecTests {
    @Test func constructedMessageRoundTripsWithUnknownOptions() throws {
        let ia = IANA(iaid: 7, t1: 10, t2: 20, options: [
            .address(IAAddress(address: IPAddress("2001:db8::5")!, preferredLifetime: 30, validLifetime: 40,
                               options: [.status(StatusCode(code: 0, message: "ok")), .other(code: 999, data: [1, 2])])),
            .status(StatusCode(code: 2, message: "none")),
            .other(code: 1000, data: []),
        ])
        let message = Message(type: .reply, transactionID: 0xABCDEF, options: [
            .clientID([0, 4, 1, 2]), .serverID([0, 2, 0, 0, 0, 9, 1]), .iaNA(ia), .optionRequest([23, 24]),
            .preference(255), .elapsedTime(0xFFFF), .serverUnicast(IPAddress("2001:db8::1")!),
            .statusCode(StatusCode(code: 5)), .rapidCommit, .dnsServers([IPAddress("::1")!, IPAddress("2001:db8::53")!]),
            .domainList(["a.example", "b"]), .solMaxRT(120), .unknown(code: 65535, data: [0xFF]),
        ])
        let bytes = message.encoded()
        #expect(Array(bytes.prefix(4)) == [7, 0xAB, 0xCD, 0xEF])
        let decoded = try Message(decoding: bytes)
        #expect(decoded == message)
        #expect(decoded.encoded() == bytes)
        #expect(decoded.iaNA(7)?.addresses.first?.status?.message == "ok")
        #expect(decoded.iaNA(7)?.status?.code == StatusCode.noAddrsAvail)
        #expect(decoded.iaNA(8) == nil)
    }

    @Test func wireLayoutOfAnIAAddress() {
        let bytes = Message(type: .renew, transactionID: 1, options: [.iaNA(IANA(iaid: 0x01020304, t1: 5, t2: 6, options: [
            .address(IAAddress(address: IPAddress("::1")!, preferredLifetime: 7, validLifetime: 8))]))]).encoded()
        #expect(bytes == [5, 0, 0, 1, 0, 3, 0, 40, 1, 2, 3, 4, 0, 0, 0, 5, 0, 0, 0, 6, 0, 5, 0, 24]
                + [UInt8](repeating: 0, count: 15) + [1, 0, 0, 0, 7, 0, 0, 0, 8])
    }

    static let malformed: [([UInt8], DecodeError)] = [
        ([], .truncated(what: "message type", offset: 0)),
        ([1, 0, 0], .truncated(what: "transaction id", offset: 3)),
        ([12, 0, 0, 0], .relayMessage(type: 12)),
        ([1, 0, 0, 0, 0], .truncated(what: "option code", offset: 4)),
        ([1, 0, 0, 0, 0, 1, 0, 9, 0, 1], .truncated(what: "option body", offset: 8)),
        ([1, 0, 0, 0, 0, 1, 0, 1, 0], .badLength(option: 1, length: 1)),                  // DUID of 1 byte
        ([1, 0, 0, 0, 0, 6, 0, 3, 0, 23, 0], .badLength(option: 6, length: 3)),           // odd ORO
        ([1, 0, 0, 0, 0, 7, 0, 2, 0, 0], .badLength(option: 7, length: 2)),
        ([1, 0, 0, 0, 0, 14, 0, 1, 0], .badLength(option: 14, length: 1)),
        ([1, 0, 0, 0, 0, 23, 0, 4, 1, 2, 3, 4], .badLength(option: 23, length: 4)),
        ([1, 0, 0, 0, 0, 13, 0, 1, 0], .badLength(option: 13, length: 1)),
        ([1, 0, 0, 0, 0, 3, 0, 8] + [UInt8](repeating: 0, count: 8), .truncated(what: "IA_NA T2", offset: 16)),
        // IA_NA holding an IAADDR of 4 bytes
        ([1, 0, 0, 0, 0, 3, 0, 20] + [UInt8](repeating: 0, count: 12) + [0, 5, 0, 4, 0, 0, 0, 0], .badLength(option: 5, length: 4)),
        // IA_NA whose inner option runs past the IA_NA (but not past the packet)
        ([1, 0, 0, 0, 0, 3, 0, 16] + [UInt8](repeating: 0, count: 12) + [0, 13, 0, 2, 0, 0], .truncated(what: "option body", offset: 24)),
        ([1, 0, 0, 0, 0, 24, 0, 2, 64, 0], .badValue(what: "domain label length 64")),
        ([1, 0, 0, 0, 0, 24, 0, 2, 2, 97], .truncated(what: "domain label", offset: 9)),
        ([1, 0, 0, 0, 0, 24, 0, 3, 1, 46, 0], .badValue(what: "domain label character")),  // "." inside a label
    ]

    @Test(arguments: malformed)
    func rejects(_ bytes: [UInt8], _ error: DecodeError) {
        #expect(throws: error) { try Message(decoding: bytes) }
    }

    @Test func domainNameLongerThan255BytesIsRejected() {
        let label: [UInt8] = [63] + [UInt8](repeating: 97, count: 63)
        let name = label + label + label + label + [0]  // 257 bytes
        #expect(throws: DecodeError.badValue(what: "domain name longer than 255 bytes")) {
            try Message(decoding: [1, 0, 0, 0, 0, 24, 1, 1] + name)
        }
    }

    @Test func unknownMessageTypeAndStatusTextAreKept() throws {
        let m = try Message(decoding: [200, 1, 2, 3, 0, 13, 0, 4, 0, 9, 0xFF, 0x41])
        #expect(m.type == .other(200) && m.type.code == 200)
        #expect(m.status?.code == 9)
    }
}
