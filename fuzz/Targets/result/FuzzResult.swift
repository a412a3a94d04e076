// IPAM result / prevResult parser: JSONValue.parse, then CNIResult.decode with each supported version as the
// default, then json(version:) in every version for each decoded result. Also checks two invariants:
// what json(version:) writes can be decoded again, and writing that is stable (encode∘decode∘encode = encode).
import CNI
import JSON

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzResult(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    guard let value = try? JSONValue.parse(bytes) else { return 0 }

    // JSON round trip through jansson.
    let text = value.serialized(indent: 0)
    guard let again = try? JSONValue.parse(text) else { fatalError("serialized JSON does not parse: \(text)") }
    guard again == value else { fatalError("JSON round trip changed the value: \(text)") }

    for defaultVersion in SpecVersion.supported {
        let result: CNIResult
        do throws(ResultDecodeError) { result = try CNIResult.decode(value, defaultVersion: defaultVersion) } catch {
            _ = error.description
            continue
        }
        for version in SpecVersion.supported {
            let encoded: JSONValue
            do throws(CNIError) { encoded = try result.json(version: version) } catch {
                _ = error.json(version: version.description).serialized()
                continue
            }
            let written = encoded.serialized()
            guard let reparsed = try? JSONValue.parse(written) else { fatalError("result JSON does not parse: \(written)") }
            let decoded: CNIResult
            do throws(ResultDecodeError) { decoded = try CNIResult.decode(reparsed, defaultVersion: version) } catch {
                fatalError("a result written as \(version) cannot be read back (\(error)): \(written)")
            }
            guard let rewritten = try? decoded.json(version: version), rewritten == encoded else {
                fatalError("writing a result as \(version) is not stable: \(written)")
            }
        }
    }
    return 0
}
