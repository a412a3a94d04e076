// Config parser: NetworkConfig.version(of:) → NetworkConfig(bytes:object:version:) → prevResult decoding →
// MacvlanConfig for each verb that reads it, and the error JSON of whatever is thrown (it quotes the input).
import CNI
import JSON
import Macvlan

private let variables: [(String, String)] = [
    ("CNI_CONTAINERID", "fuzz-container"), ("CNI_NETNS", "/var/run/netns/fuzz"), ("CNI_IFNAME", "eth0"),
    ("CNI_ARGS", "IgnoreUnknown=1;MAC=02:00:00:00:00:01"), ("CNI_PATH", "/usr/lib/cni"),
]

private func render(_ error: CNIError, _ version: String) {
    _ = error.json(version: version).serialized()
    _ = error.description
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let object: JSONObject, version: SpecVersion
    do throws(CNIError) { (object, version) = try NetworkConfig.version(of: bytes) } catch {
        render(error, SpecVersion.latest.description)
        return 0
    }
    let config: NetworkConfig
    do throws(CNIError) { config = try NetworkConfig(bytes: bytes, object: object, version: version) } catch {
        render(error, version.description)
        return 0
    }
    // An accepted ipam.type is a bare file name in bytes too (DelegatedPlugin.find appends it to a directory).
    if let type = config.ipamType, type.utf8.contains(UInt8(ascii: "/")) || type.utf8.contains(0)
        || type.utf8.elementsEqual(".".utf8) || type.utf8.elementsEqual("..".utf8) {
        fatalError("ipam.type \(type.debugDescription) accepted but it is not a bare file name")
    }
    do throws(CNIError) { _ = try config.decodedPrevResult() } catch { render(error, version.description) }
    for command in [Command.add, .del, .check, .status, .gc] {
        guard let environment = try? Environment.load(variables, command: command) else { fatalError("fixed environment rejected") }
        do throws(CNIError) {
            let macvlan = try MacvlanConfig(Request(environment: environment, config: config, log: .standardError(prefix: "fuzz")))
            _ = try macvlan.mtu(forMaster: "parent0", masterMTU: 1500)
        } catch { render(error, version.description) }
    }
    return 0
}
