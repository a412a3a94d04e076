// DHCPv6 decoder and client engine. The input is decoded as a server's packet (Message(decoding:)); what
// decodes must re-encode to bytes that decode to the same message. Then it is delivered to a Client in one of
// its states (chosen by the input's length) twice: as received, and rewritten to carry the client's current
// transaction ID and DUID, so the fuzzer reaches the ADVERTISE/REPLY handling behind those checks.
import DHCPv6
import NetTypes

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDHCPv6(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let decoded = try? Message(decoding: bytes)
    if let decoded {
        guard let again = try? Message(decoding: decoded.encoded()), again == decoded else {
            fatalError("decoded message does not survive encode/decode")
        }
    }

    let identity = ClientIdentity(identity: "fuzz/net/eth0")
    var client = Client(identity: identity, randomness: SeededRandomness(seed: 1))
    let step: Step
    let lease = Lease(serverID: [0, 2, 0, 0, 0, 1, 1], serverUnicast: nil, address: IPAddress("2001:db8::5")!,
                      preferredLifetime: 100, validLifetime: 200, t1: 50, t2: 80, obtainedAt: 0)
    switch size % 5 {
    case 0:                                                                                   // soliciting
        let first = client.start(now: 0), second = client.advance(now: 1_000)
        step = second.outgoing.isEmpty ? first : second
    case 1: step = client.resume(lease, now: 60_000)                                          // renewing
    case 2: step = client.resume(lease, now: 90_000)                                          // rebinding
    case 3: _ = client.resume(lease, now: 1); step = client.release(now: 2)                   // releasing
    default: _ = client.resume(lease, now: 1); step = client.decline(now: 2)                  // declining
    }
    var now: Int64 = 100_000
    _ = client.receive(bytes, now: now)
    if var message = decoded, let last = step.outgoing.last {
        message.transactionID = last.message.transactionID
        message.options.removeAll { if case .clientID = $0 { true } else { false } }
        message.options.insert(.clientID(identity.duid), at: 0)
        for _ in 0..<3 {
            now += 1
            let answer = client.receive(message.encoded(), now: now)
            guard let next = answer.outgoing.last else { break }
            message.transactionID = next.message.transactionID  // follow the client into its next exchange
        }
    }
    // The timers must keep working whatever state the input left behind: after advance(now) the next deadline
    // is in the future (a deadline not after now would make a poll() loop spin).
    _ = client.advance(now: now)
    for _ in 0..<20 {
        guard let deadline = client.nextDeadline else { break }
        guard deadline > now else { fatalError("deadline \(deadline) not after \(now)") }
        now = deadline
        _ = client.advance(now: now)
    }
    return 0
}
