import Foundation
@testable import DHCPv6
import NetTypes

/// Fixture files recorded by test-harness/dhcp/dhcpv6-real (real dnsmasq 2.90 and dhclient 4.4.3 packets).
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func lines(_ name: String) throws -> [String] {
        try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            .split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") && !$0.isEmpty }
    }

    /// The dhclient ↔ dnsmasq capture: (c2s|s2c, UDP payload) in capture order.
    static func dhclientCapture() throws -> [(direction: String, bytes: [UInt8])] {
        try lines("dhclient-dnsmasq.txt").map { line in
            let parts = line.split(separator: " ")
            return (String(parts[0]), hexBytes(String(parts[1]))!)
        }
    }
}

/// RAND fixed by `unit` (0.5 → RAND 0 for ordinary timeouts, +0.05 for the first SOLICIT) and sequential
/// transaction IDs, so every deadline in a test is computable by hand.
struct FixedRandomness: ClientRandomness {
    var value = 0.5
    var nextID: UInt32 = 0x10
    mutating func unit() -> Double { value }
    mutating func transactionID() -> UInt32 { nextID += 1; return nextID }
}

/// A fake server's answers to what the client sent.
struct FakeServer {
    var serverID: [UInt8] = [0, 3, 0, 1, 2, 0, 0, 0, 0, 1]
    var preference: UInt8? = nil
    var unicast: IPAddress? = nil
    var address = IPAddress("2001:db8::150")!
    var t1: UInt32 = 60, t2: UInt32 = 105, preferred: UInt32 = 120, valid: UInt32 = 120
    var iaStatus: StatusCode? = nil
    var topStatus: StatusCode? = nil

    func answer(_ to: Message, type: MessageType, extra: [DHCPOption] = []) -> [UInt8] {
        let iaid: UInt32 = to.options.lazy.compactMap { (o: DHCPOption) -> UInt32? in if case let .iaNA(ia) = o { ia.iaid } else { nil } }.first ?? 0
        var ia = IANA(iaid: iaid, t1: t1, t2: t2)
        if valid > 0 || iaStatus == nil {
            ia.options.append(.address(IAAddress(address: address, preferredLifetime: preferred, validLifetime: valid)))
        }
        if let iaStatus { ia.options.append(.status(iaStatus)) }
        var options: [DHCPOption] = [.clientID(to.clientID ?? []), .serverID(serverID), .iaNA(ia)]
        if let preference { options.append(.preference(preference)) }
        if let unicast { options.append(.serverUnicast(unicast)) }
        if let topStatus { options.append(.statusCode(topStatus)) }
        return Message(type: type, transactionID: to.transactionID, options: options + extra).encoded()
    }
}

extension Step {
    var sent: [Message] { outgoing.map(\.message) }
    var types: [MessageType] { outgoing.map(\.message.type) }
}
