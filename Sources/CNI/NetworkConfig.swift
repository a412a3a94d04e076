import JSON
import NetTypes

/// The keys every CNI plugin config shares. Plugin-specific keys are read by the plugin from `reader`.
public struct NetworkConfig: Sendable {
    /// Exactly what came on stdin: delegated plugins get the whole config, byte for byte.
    public let bytes: [UInt8]
    public let reader: ConfigReader
    public let cniVersion: SpecVersion
    public let name: String
    public let type: String
    /// nil for an L2-only network: no `ipam`, or `"ipam": {}`.
    public let ipamType: String?
    public let dns: DNS
    public let runtimeConfig: ConfigReader?
    /// The raw `prevResult`; decoded by the verbs that need it.
    public let prevResult: JSONValue?

    /// Parses stdin. Order matters for the error a person sees: undecodable JSON (6) first, then the version (1),
    /// then everything else (7).
    public static func version(of bytes: [UInt8]) throws(CNIError) -> (JSONObject, SpecVersion) {
        let document: JSONValue
        do { document = try JSONValue.parse(bytes) } catch {
            throw CNIError(.decodingFailure, "the network config on stdin is not valid JSON: \(error)")
        }
        guard let object = document.objectValue else {
            throw CNIError(.decodingFailure, "the network config on stdin must be a JSON object, got \(document.typeName)")
        }
        let reader = ConfigReader(object)
        guard let text = try reader.string("cniVersion") else { return (object, .v0_1_0) }  // spec: missing means 0.1.0
        guard let version = SpecVersion(text), version.isSupported else {
            throw CNIError(.incompatibleVersion, "cniVersion \"\(text)\" is not supported",
                           details: "supported versions: \(SpecVersion.supported.map(\.description).joined(separator: ", "))")
        }
        return (object, version)
    }

    public init(bytes: [UInt8], object: JSONObject, version: SpecVersion) throws(CNIError) {
        self.bytes = bytes
        let reader = ConfigReader(object)
        self.reader = reader
        self.cniVersion = version
        guard let name = try reader.string("name") else {
            throw CNIError(.invalidConfig, "the network config has no \"name\"", details: "runtimes insert the network's name; add \"name\" when calling by hand")
        }
        guard Environment.isValidIdentifier(name) else {
            throw CNIError(.invalidConfig, "network name \"\(name)\" is invalid",
                           details: "it must start with a letter or digit and contain only letters, digits, '_', '.' and '-'")
        }
        self.name = name
        self.type = try reader.string("type") ?? ""
        let ipam = try reader.reader("ipam")
        if let ipam, !ipam.object.isEmpty {
            guard let type = try ipam.string("type"), !type.isEmpty else {
                throw CNIError(.invalidConfig, "\"ipam\" has no \"type\"", details: "use \"ipam\": {} (or leave it out) for a network without addresses")
            }
            guard Self.isBareName(type) else {
                throw CNIError(.invalidConfig, "\"ipam.type\" \"\(type)\" is not a plugin name", details: "it must be a bare file name found in CNI_PATH: no '/', not '.' or '..'")
            }
            self.ipamType = type
        } else {
            self.ipamType = nil
        }
        self.dns = try reader.reader("dns").map { r throws(CNIError) in try DNS(reading: r) } ?? DNS()
        self.runtimeConfig = try reader.reader("runtimeConfig")
        self.prevResult = reader.present("prevResult")
        if let prev = prevResult, prev.objectValue == nil { throw reader.wrongType("prevResult", expected: "an object") }
        _ = try reader.object("args")
        _ = try reader.object("capabilities")
    }

    static func isBareName(_ name: String) -> Bool {
        !name.isEmpty && !name.bytesEqual(".") && !name.bytesEqual("..") && !name.containsByte(UInt8(ascii: "/")) && !name.containsByte(0)
    }

    /// The prevResult decoded in this config's version, or a code 7 error naming what is wrong with it.
    public func decodedPrevResult() throws(CNIError) -> CNIResult? {
        guard let prevResult else { return nil }
        do { return try CNIResult.decode(prevResult, defaultVersion: cniVersion) } catch {
            throw CNIError(.invalidConfig, "\"prevResult\" cannot be decoded: \(error.message)")
        }
    }
}
