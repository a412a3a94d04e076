import NetTypes

/// The line format of a recorded client run (test-harness/dhcp/dhcpv6-real records one against dnsmasq;
/// Tests/DHCPv6Tests replays it). Inputs are what the daemon would call, outputs what the client answered:
///
///     start NOW | advance NOW | release NOW | recv NOW HEX      (inputs; NOW in milliseconds)
///     send all|ADDRESS HEX | event TEXT | deadline NOW|none      (outputs of the input before them)
///
/// It lives in the module so that the recorder (dhcpv6-drive) and the replaying test share one definition.
public enum TranscriptLine: Equatable, Sendable {
    case start(Int64), advance(Int64), release(Int64), receive(Int64, [UInt8])
    case send(Destination, [UInt8]), event(String), deadline(Int64?)

    public init?(_ line: String) {
        let words = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true).map(String.init)
        guard words.count >= 2 else { return nil }
        switch words[0] {
        case "start", "advance", "release", "recv":
            guard let now = Int64(words[1]) else { return nil }
            if words[0] == "recv" {
                guard words.count == 3, let bytes = hexBytes(words[2]) else { return nil }
                self = .receive(now, bytes)
            } else {
                self = words[0] == "start" ? .start(now) : words[0] == "advance" ? .advance(now) : .release(now)
            }
        case "send":
            guard words.count == 3, let bytes = hexBytes(words[2]) else { return nil }
            if words[1] == "all" { self = .send(.allServers, bytes) }
            else if let address = IPAddress(words[1]) { self = .send(.unicast(address), bytes) }
            else { return nil }
        case "event":
            self = .event(words.dropFirst().joined(separator: " "))
        case "deadline":
            if words[1] == "none" { self = .deadline(nil) } else if let t = Int64(words[1]) { self = .deadline(t) } else { return nil }
        default:
            return nil
        }
    }

    public var text: String {
        switch self {
        case let .start(t): return "start \(t)"
        case let .advance(t): return "advance \(t)"
        case let .release(t): return "release \(t)"
        case let .receive(t, b): return "recv \(t) \(hexText(b))"
        case let .send(.allServers, b): return "send all \(hexText(b))"
        case let .send(.unicast(a), b): return "send \(a) \(hexText(b))"
        case let .event(e): return "event \(e)"
        case let .deadline(t): return "deadline \(t.map(String.init) ?? "none")"
        }
    }

    /// What the daemon calls (the rest are the client's answers).
    public var isInput: Bool {
        switch self {
        case .start, .advance, .release, .receive: return true
        case .send, .event, .deadline: return false
        }
    }

    /// Runs one input line on the client and gives its output lines (nil for an output line).
    public static func run(_ input: TranscriptLine, on client: inout Client) -> [TranscriptLine]? {
        let step: Step
        switch input {
        case let .start(now): step = client.start(now: now)
        case let .advance(now): step = client.advance(now: now)
        case let .release(now): step = client.release(now: now)
        case let .receive(now, bytes): step = client.receive(bytes, now: now)
        default: return nil
        }
        return step.outgoing.map { .send($0.destination, $0.bytes) } + step.events.map { .event(eventText($0)) }
            + [.deadline(client.nextDeadline)]
    }

    /// One line of text per event (what the daemon's log would say).
    public static func eventText(_ event: ClientEvent) -> String {
        func lease(_ l: Lease) -> String {
            "\(l.address) preferred=\(l.preferredLifetime) valid=\(l.validLifetime) t1=\(l.t1) t2=\(l.t2) at=\(l.obtainedAt)"
        }
        switch event {
        case let .leaseObtained(l): return "obtained \(lease(l))"
        case let .leaseExtended(l): return "extended \(lease(l))"
        case let .leaseLost(l, why): return "lost \(l.address): \(why)"
        case let .released(confirmed): return "released confirmed=\(confirmed)"
        case let .declined(confirmed): return "declined confirmed=\(confirmed)"
        case let .exchangeFailed(type, why): return "failed \(type): \(why)"
        case let .ignored(why): return "ignored \(why)"
        }
    }
}


/// Lower-case hex without separators.
public func hexText(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 0xF)]) }
    return String(decoding: out, as: UTF8.self)
}

/// Parses hex text (even length, no separators); nil if malformed.
public func hexBytes(_ text: String) -> [UInt8]? {
    let chars = Array(text.utf8)
    guard chars.count % 2 == 0 else { return nil }
    func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x61...0x66: return c - 0x57
        case 0x41...0x46: return c - 0x37
        default: return nil
        }
    }
    var out: [UInt8] = []
    out.reserveCapacity(chars.count / 2)
    for i in stride(from: 0, to: chars.count, by: 2) {
        guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { return nil }
        out.append(hi << 4 | lo)
    }
    return out
}
