import Testing
@testable import DHCPv4
import NetTypes

/// A server reply as dnsmasq builds it, for the tests.
func reply(_ type: DHCPv4Message.MessageType, to request: DHCPv4Message, address: String = "10.0.0.150",
           options: [(DHCPv4Option.Code, [UInt8])] = standardOptions) -> DHCPv4Message {
    var m = DHCPv4Message()
    m.op = DHCPv4Message.bootReply
    m.transactionID = request.transactionID
    m.hardwareAddress = request.hardwareAddress
    m.yourAddress = type == .nak ? .zeroV4 : IPAddress(address)!
    m.set(.messageType, [type.rawValue])
    m.set(.serverIdentifier, [10, 0, 0, 1])
    if type != .nak { for (code, value) in options { m.set(code, value) } }
    return m
}

let standardOptions: [(DHCPv4Option.Code, [UInt8])] = [
    (.subnetMask, [255, 255, 255, 0]), (.router, [10, 0, 0, 1]), (.dnsServers, [10, 0, 0, 53, 10, 0, 0, 54]),
    (.domainName, Array("example.test".utf8)), (.leaseTime, [0, 0, 0, 120]), (.renewalTime, [0, 0, 0, 10]),
    (.rebindingTime, [0, 0, 0, 20]),
]

@Suite struct MessageCodecTests {
    @Test func roundTrip() throws {
        var m = DHCPv4Message()
        m.transactionID = 0xDEAD_BEEF
        m.flags = DHCPv4Message.broadcastFlag
        m.seconds = 3
        m.clientAddress = IPAddress("10.0.0.5")!
        m.hardwareAddress = [2, 0, 0, 0, 0, 1]
        m.set(.messageType, [1])
        m.set(.clientIdentifier, [0] + Array("c/n/eth0".utf8))
        let bytes = m.encoded()
        #expect(bytes.count == 300)   // padded to the BOOTP minimum
        #expect(Array(bytes[236..<240]) == [99, 130, 83, 99])
        let decoded = try DHCPv4Message(decoding: bytes)
        #expect(decoded == m)
        #expect(decoded.messageType == .discover)
    }

    @Test func longOptionsSplitAndConcatenate() throws {
        var m = DHCPv4Message()
        m.hardwareAddress = [2, 0, 0, 0, 0, 1]
        let long = [UInt8](repeating: 7, count: 300)
        m.set(code: 77, long)
        #expect(m.options.filter { $0.code == 77 }.map(\.value.count) == [255, 45])
        #expect(try DHCPv4Message(decoding: m.encoded()).option(.userClass) == long)
    }

    @Test func rejectsMalformed() {
        #expect(throws: DHCPv4Message.DecodeError.tooShort(10)) { try DHCPv4Message(decoding: [UInt8](repeating: 0, count: 10)) }
        #expect(throws: DHCPv4Message.DecodeError.badMagicCookie) { try DHCPv4Message(decoding: [UInt8](repeating: 0, count: 300)) }
        var bytes = DHCPv4Message().encoded()
        bytes.replaceSubrange(240..<243, with: [53, 9, 1])   // length runs past the end
        bytes = Array(bytes[0..<243])
        #expect(throws: DHCPv4Message.DecodeError.truncatedOption(code: 53)) { try DHCPv4Message(decoding: bytes) }
    }

    @Test func overloadedFileFieldIsRead() throws {
        var m = DHCPv4Message()
        m.hardwareAddress = [2, 0, 0, 0, 0, 1]
        m.set(.overload, [1])
        var bytes = m.encoded()
        bytes.replaceSubrange(108..<114, with: [3, 4, 10, 0, 0, 9])   // router option in `file`
        #expect(try DHCPv4Message(decoding: bytes).option(.router) == [10, 0, 0, 9])
    }
}

@Suite struct LeaseParsingTests {
    @Test func readsAnAck() throws {
        let request = DHCPv4Message()
        let lease = try DHCPv4Lease(ack: reply(.ack, to: request))
        #expect(lease.address == IPPrefix("10.0.0.150/24"))
        #expect(lease.router == IPAddress("10.0.0.1"))
        #expect(lease.dnsServers == [IPAddress("10.0.0.53")!, IPAddress("10.0.0.54")!])
        #expect(lease.domainName == "example.test")
        #expect((lease.leaseSeconds, lease.renewalSeconds, lease.rebindingSeconds) == (120, 10, 20))
        #expect(lease.routes.count == 1 && lease.routes[0].destination == IPPrefix("0.0.0.0/0") && lease.routes[0].gateway == IPAddress("10.0.0.1"))
    }

    @Test func defaultsAndOrdersRenewalTimes() throws {
        let base = standardOptions.filter { $0.0 != .renewalTime && $0.0 != .rebindingTime }
        let lease = try DHCPv4Lease(ack: reply(.ack, to: DHCPv4Message(), options: base))
        #expect((lease.renewalSeconds, lease.rebindingSeconds) == (60, 105))
        let inverted = base + [(.renewalTime, [0, 0, 0, 100]), (.rebindingTime, [0, 0, 0, 50])]
        let fixed = try DHCPv4Lease(ack: reply(.ack, to: DHCPv4Message(), options: inverted))
        #expect(fixed.renewalSeconds <= fixed.rebindingSeconds && fixed.rebindingSeconds <= fixed.leaseSeconds)
    }

    @Test func requiresMaskAndLeaseTime() {
        #expect(throws: DHCPv4Lease.Problem.missing("subnet mask (option 1)")) {
            try DHCPv4Lease(ack: reply(.ack, to: DHCPv4Message(), options: [(.leaseTime, [0, 0, 0, 60])]))
        }
        #expect(throws: DHCPv4Lease.Problem.malformed("subnet mask (option 1)")) {
            try DHCPv4Lease(ack: reply(.ack, to: DHCPv4Message(), options: [(.subnetMask, [255, 0, 255, 0]), (.leaseTime, [0, 0, 0, 60])]))
        }
        #expect(throws: DHCPv4Lease.Problem.missing("lease time (option 51)")) {
            try DHCPv4Lease(ack: reply(.ack, to: DHCPv4Message(), options: [(.subnetMask, [255, 255, 255, 0])]))
        }
    }

    @Test func classlessRoutesReplaceRouterAndStaticRoutes() throws {
        // 10.10.0.0/16 via 10.0.0.2, default via 10.0.0.3, 192.168.5.0/24 on-link (RFC 3442 encoding).
        let option121: [UInt8] = [16, 10, 10, 10, 0, 0, 2, 0, 10, 0, 0, 3, 24, 192, 168, 5, 0, 0, 0, 0]
        let lease = try DHCPv4Lease(ack: reply(.ack, to: DHCPv4Message(), options: standardOptions + [
            (.classlessRoutes, option121), (.staticRoutes, [172, 16, 0, 0, 10, 0, 0, 9])]))
        #expect(lease.routes.map(\.destination) == [IPPrefix("10.10.0.0/16")!, IPPrefix("0.0.0.0/0")!, IPPrefix("192.168.5.0/24")!])
        #expect(lease.routes.map(\.gateway) == [IPAddress("10.0.0.2"), IPAddress("10.0.0.3"), nil])
    }

    @Test func staticRoutesAreClassful() throws {
        let lease = try DHCPv4Lease(ack: reply(.ack, to: DHCPv4Message(), options: standardOptions + [
            (.staticRoutes, [172, 16, 0, 0, 10, 0, 0, 9, 10, 1, 2, 3, 10, 0, 0, 8])]))
        #expect(lease.routes.map(\.destination) == [IPPrefix("172.16.0.0/16")!, IPPrefix("10.0.0.0/8")!, IPPrefix("0.0.0.0/0")!])
    }

    @Test func clientIdentifierMatchesTheReference() {
        #expect(ClientIdentifier.option(containerID: "abc", network: "net1", ifName: "eth0") == [0] + Array("abc/net1/eth0".utf8))
        let long = String(repeating: "x", count: 300)
        #expect(ClientIdentifier.option(containerID: long, network: "n", ifName: "eth0").count == 255)
    }

    @Test func optionNames() {
        #expect(OptionNames.code("host-name") == 12)
        #expect(OptionNames.code("121") == 121)
        #expect(OptionNames.code("0") == nil)
        #expect(OptionNames.code("255") == nil)
        #expect(OptionNames.code("hostname") == nil)
    }
}
