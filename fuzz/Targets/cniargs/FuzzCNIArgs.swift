// CNI_ARGS parser, and the environment validation around it. The input is split at NUL bytes into
// CNI_ARGS, CNI_CONTAINERID, CNI_IFNAME, CNI_NETNS, CNI_PATH, CNI_COMMAND (missing parts: fixed valid values).
import CNI
import Glibc

/// `fuzz/run --selftest` sets FUZZ_SELFTEST=crash or =leak to prove that a crash and a leak are caught and reported.
private let selfTest = getenv("FUZZ_SELFTEST").map { String(cString: $0) } ?? ""

/// Stops the optimiser from removing the self-test's unused allocation (it would, and nothing would leak).
@_optimize(none) private func keep(_ pointer: UnsafeMutableRawPointer?) { pointer?.storeBytes(of: 1, as: UInt8.self) }

/// Byte equality: String's == treats canonically equivalent strings as equal.
private func same(_ a: String, _ b: String) -> Bool { a.utf8.elementsEqual(b.utf8) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCNIArgs(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let parts = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    let text = parts[0]
    if !selfTest.isEmpty, text.hasPrefix("FUZZ-SELFTEST") {
        if selfTest == "crash" { fatalError("fuzz/run self-test: deliberate crash") }
        if selfTest == "leak" { keep(malloc(4242)) }
    }

    // What libcni and the Go plugins do: split the bytes at ';', each non-empty entry at its first '='.
    var reference: [(key: String, value: String)]? = []
    for entry in text.utf8.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: true) {
        guard let eq = entry.firstIndex(of: UInt8(ascii: "=")), eq != entry.startIndex else { reference = nil; break }
        reference?.append((String(decoding: entry[..<eq], as: UTF8.self),
                           String(decoding: entry[entry.index(after: eq)...], as: UTF8.self)))
    }

    do throws(CNIError) {
        let args = try CNIArgs(parsing: text)
        guard let reference, reference.count == args.pairs.count,
              zip(reference, args.pairs).allSatisfy({ same($0.key, $1.key) && same($0.value, $1.value) }) else {
            fatalError("CNIArgs splits \(text.debugDescription) into \(args.pairs), bytes give \(reference.map { "\($0)" } ?? "a malformed entry")")
        }
        for pair in args.pairs {
            // Invariants of a successful parse: non-empty keys, no separator inside, and lookup finds the last value.
            if pair.key.isEmpty || pair.key.utf8.contains(UInt8(ascii: ";")) || pair.key.utf8.contains(UInt8(ascii: "="))
                || pair.value.utf8.contains(UInt8(ascii: ";")) {
                fatalError("CNIArgs produced a malformed pair \(pair) from \(text.debugDescription)")
            }
            // Keys compare as bytes (as in Go): "e\u{301}" and "\u{e9}" are different keys.
            guard let found = args[pair.key], let last = args.pairs.last(where: { same($0.key, pair.key) })?.value,
                  same(found, last) else {
                fatalError("CNIArgs subscript disagrees with pairs for \(pair.key.debugDescription)")
            }
        }
        if try CNIArgs(parsing: text) != args { fatalError("CNIArgs parse is not deterministic") }
    } catch {
        // Rejected: either an entry without '=' (the byte split agrees), or an unknown key / bad IgnoreUnknown.
        if error.message.hasPrefix("CNI_ARGS entry "), reference != nil {
            fatalError("CNIArgs rejects \(text.debugDescription) as malformed, bytes give \(reference!)")
        }
        _ = error.json(version: "1.1.0").serialized()
    }

    func part(_ i: Int, _ fallback: String) -> String { i < parts.count ? parts[i] : fallback }
    let variables: [(String, String)] = [
        ("CNI_ARGS", text), ("CNI_CONTAINERID", part(1, "fuzz-container")), ("CNI_IFNAME", part(2, "eth0")),
        ("CNI_NETNS", part(3, "/var/run/netns/fuzz")), ("CNI_PATH", part(4, "/usr/lib/cni:/opt/cni/bin")),
        ("CNI_COMMAND", part(5, "ADD")),
    ]
    do throws(CNIError) {
        let command = try Environment.command(from: variables)
        let environment = try Environment.load(variables, command: command)
        if command == .add || command == .check || command == .del {
            let name = Array(environment.ifName.text.utf8), id = Array(environment.containerID.utf8)
            if name.isEmpty || name.count > 15 || name.contains(UInt8(ascii: "/")) || name.contains(UInt8(ascii: ":"))
                || name.contains(where: { $0 <= 0x20 || $0 == 0x7F }) || name == [0x2E] || name == [0x2E, 0x2E] {
                fatalError("invalid CNI_IFNAME accepted: \(environment.ifName.text.debugDescription)")
            }
            if id.isEmpty || !id.allSatisfy({ b in (b >= 0x30 && b <= 0x39) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A) || b == 0x5F || b == 0x2E || b == 0x2D })
                || id[0] == 0x5F || id[0] == 0x2E || id[0] == 0x2D {
                fatalError("invalid CNI_CONTAINERID accepted: \(environment.containerID.debugDescription)")
            }
        }
        // CNI_PATH as bytes: split at ':', keep the absolute entries, in order.
        let expected = part(4, "/usr/lib/cni:/opt/cni/bin").utf8.split(separator: UInt8(ascii: ":"))
            .filter { $0.first == UInt8(ascii: "/") }.map { Array($0) }
        guard expected.count == environment.path.count,
              zip(expected, environment.path).allSatisfy({ $0.elementsEqual($1.utf8) }) else {
            fatalError("CNI_PATH \(part(4, "").debugDescription) gives \(environment.path), bytes give \(expected.map { String(decoding: $0, as: UTF8.self) })")
        }
    } catch {
        _ = error.json(version: "1.1.0").serialized()
    }
    return 0
}
