import CMnl
import Netlink
import Testing

/// The reply parsers must survive anything (a fuzz target will drive them too): truncations, bit flips and
/// random bytes must never crash or read out of bounds (run under `--sanitize=address` to check the latter).
@Suite struct RobustnessTests {
    static var corpus: [[UInt8]] {
        [
            MessageParsingTests.macvlanLink(),
            ReplyParsingTests.errorReply(code: -17, sequence: 5, message: "Address already assigned"),
            ReplyParsingTests.errorReply(code: -19, sequence: 5, message: "x", capped: false),
            ReplyParsingTests.link(index: 1, name: "lo", sequence: 9) + ReplyParsingTests.done(sequence: 9),
        ]
    }

    static func exercise(_ bytes: [UInt8]) {
        let batch = parseReplies(bytes)
        for m in batch.messages {
            _ = parseLinkMessage(m)
            _ = parseAddressMessage(m)
            _ = parseRouteMessage(m)
        }
        _ = parseLinkMessage(bytes)
        _ = parseAddressMessage(bytes)
        _ = parseRouteMessage(bytes)
    }

    @Test func everyTruncation() {
        for sample in Self.corpus {
            for n in 0...sample.count { Self.exercise(Array(sample[0..<n])) }
        }
    }

    @Test func bitFlipsAndLengthCorruption() {
        var rng = SplitMix(state: 0x5EED)
        for sample in Self.corpus {
            for _ in 0..<3000 {
                var b = sample
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    let i = Int.random(in: 0..<b.count, using: &rng)
                    b[i] = UInt8.random(in: 0...255, using: &rng)
                }
                Self.exercise(b)
            }
        }
    }

    @Test func randomBytes() {
        var rng = SplitMix(state: 42)
        for _ in 0..<5000 {
            let n = Int.random(in: 0...300, using: &rng)
            var b = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            // Plausible headers make the walk go deeper.
            if n >= 16 {
                b[0] = UInt8(truncatingIfNeeded: n); b[1] = 0; b[2] = 0; b[3] = 0
                b[4] = [16, 20, 24, 2, 3][Int.random(in: 0..<5, using: &rng)]; b[5] = 0
            }
            Self.exercise(b)
        }
    }
}
