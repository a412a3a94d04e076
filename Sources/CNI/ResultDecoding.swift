import JSON
import NetTypes

/// Why a result (from an IPAM plugin or a prevResult) could not be read.
public struct ResultDecodeError: Error, Sendable, CustomStringConvertible {
    public let message: String
    /// Set when the result is well-formed but names an address no interface can have ("10.0.0.2/33"): the
    /// text of that address, so an IPAM result can be refused as unusable rather than as undecodable.
    public var unusableAddress: String? = nil
    public var description: String { message }

    /// The error for an `ips[].address` / `ip4.ip` that did not parse: an out-of-range prefix length is named.
    static func address(_ value: JSONValue?, at path: String) -> ResultDecodeError {
        if let text = value?.stringValue, let problem = IPPrefix.lengthProblem(text) {
            return ResultDecodeError(message: "\"\(path)\" \(text): \(problem)", unusableAddress: text)
        }
        return ResultDecodeError(message: "\"\(path)\" \(value?.serialized(indent: 0) ?? "missing") is not an address with a prefix length")
    }
}

extension CNIResult {
    /// Reads a result of any supported version: the `ip4`/`ip6` shape of 0.1.0/0.2.0, or `ips`/`interfaces`/
    /// `routes` of 0.3.0 and later. Unknown keys are ignored, as a newer minor version may add them.
    public static func decode(_ value: JSONValue, defaultVersion: SpecVersion) throws(ResultDecodeError) -> CNIResult {
        guard let object = value.objectValue else { throw ResultDecodeError(message: "expected a JSON object, got \(value.typeName)") }
        var version = defaultVersion
        if let v = object[field: "cniVersion"], !v.isNull {
            guard let text = v.stringValue, let parsed = SpecVersion(text) else {
                throw ResultDecodeError(message: "\"cniVersion\" \(v.serialized(indent: 0)) is not a version")
            }
            version = parsed
        }
        var result = CNIResult()
        if version.usesLegacyResult {
            for key in ["ip4", "ip6"] {
                guard let entry = try optionalObject(object, key) else { continue }
                guard let ip = entry[field: "ip"]?.stringValue, let prefix = IPPrefix(ip) else {
                    throw ResultDecodeError.address(entry[field: "ip"], at: "\(key).ip")
                }
                let gateway = try optionalAddress(entry, "gateway", at: "\(key).gateway")
                result.ips.append(IPConfig(address: prefix, gateway: gateway))
                result.routes += try decodeRoutes(entry[field: "routes"], at: "\(key).routes")
            }
        } else {
            if let interfaces = try optionalArray(object, "interfaces") {
                for (i, item) in interfaces.enumerated() {
                    guard let o = item.objectValue, let name = o[field: "name"]?.stringValue else {
                        throw ResultDecodeError(message: "\"interfaces[\(i)]\" has no \"name\"")
                    }
                    var interface = Interface(name: name, mac: o[field: "mac"]?.stringValue.map(ResultMAC.init(text:)), sandbox: o[field: "sandbox"]?.stringValue)
                    interface.mtu = o[field: "mtu"]?.intValue.map { Int($0) }
                    interface.socketPath = o[field: "socketPath"]?.stringValue
                    interface.pciID = o[field: "pciID"]?.stringValue
                    result.interfaces.append(interface)
                }
            }
            if let ips = try optionalArray(object, "ips") {
                for (i, item) in ips.enumerated() {
                    guard let o = item.objectValue else { throw ResultDecodeError(message: "\"ips[\(i)]\" is not an object") }
                    guard let text = o[field: "address"]?.stringValue, let prefix = IPPrefix(text) else {
                        throw ResultDecodeError.address(o[field: "address"], at: "ips[\(i)].address")
                    }
                    var ip = IPConfig(address: prefix, gateway: try optionalAddress(o, "gateway", at: "ips[\(i)].gateway"))
                    if let index = o[field: "interface"], !index.isNull {
                        guard let n = index.intValue, n >= 0, n < Int64(result.interfaces.count) else {
                            throw ResultDecodeError(message: "\"ips[\(i)].interface\" \(index.serialized(indent: 0)) does not name one of the \(result.interfaces.count) interfaces")
                        }
                        ip.interface = Int(n)
                    }
                    result.ips.append(ip)
                }
            }
            result.routes = try decodeRoutes(object[field: "routes"], at: "routes")
        }
        if let dns = try optionalObject(object, "dns") {
            do { result.dns = try DNS(reading: ConfigReader(dns, path: "dns")) } catch {
                throw ResultDecodeError(message: error.message)
            }
        }
        return result
    }

    private static func decodeRoutes(_ value: JSONValue?, at path: String) throws(ResultDecodeError) -> [Route] {
        guard let value, !value.isNull else { return [] }
        guard let items = value.arrayValue else { throw ResultDecodeError(message: "\"\(path)\" is not an array") }
        var routes: [Route] = []
        for (i, item) in items.enumerated() {
            guard let o = item.objectValue else { throw ResultDecodeError(message: "\"\(path)[\(i)]\" is not an object") }
            guard let text = o[field: "dst"]?.stringValue, let dst = IPPrefix(text) else {
                throw ResultDecodeError(message: "\"\(path)[\(i)].dst\" \(o[field: "dst"]?.serialized(indent: 0) ?? "missing") is not a prefix")
            }
            var route = Route(destination: dst, gateway: try optionalAddress(o, "gw", at: "\(path)[\(i)].gw"))
            if let gw = route.gateway, gw.family != dst.family {
                throw ResultDecodeError(message: "\"\(path)[\(i)]\": gateway \(gw) is not in the family of \(dst)")
            }
            route.mtu = try optionalInt(o, "mtu", at: "\(path)[\(i)].mtu")
            route.advmss = try optionalInt(o, "advmss", at: "\(path)[\(i)].advmss")
            route.priority = try optionalInt(o, "priority", at: "\(path)[\(i)].priority")
            route.table = try optionalInt(o, "table", at: "\(path)[\(i)].table")
            route.scope = try optionalInt(o, "scope", at: "\(path)[\(i)].scope")
            routes.append(route)
        }
        return routes
    }

    private static func optionalObject(_ o: JSONObject, _ key: String) throws(ResultDecodeError) -> JSONObject? {
        guard let v = o[field: key], !v.isNull else { return nil }
        guard let object = v.objectValue else { throw ResultDecodeError(message: "\"\(key)\" is not an object") }
        return object
    }

    private static func optionalArray(_ o: JSONObject, _ key: String) throws(ResultDecodeError) -> [JSONValue]? {
        guard let v = o[field: key], !v.isNull else { return nil }
        guard let array = v.arrayValue else { throw ResultDecodeError(message: "\"\(key)\" is not an array") }
        return array
    }

    private static func optionalAddress(_ o: JSONObject, _ key: String, at path: String) throws(ResultDecodeError) -> IPAddress? {
        guard let v = o[field: key], !v.isNull else { return nil }
        guard let text = v.stringValue else { throw ResultDecodeError(message: "\"\(path)\" is not a string") }
        if text.isEmpty { return nil }
        guard let ip = IPAddress(text) else { throw ResultDecodeError(message: "\"\(path)\" \"\(text)\" is not an IP address") }
        return ip
    }

    private static func optionalInt(_ o: JSONObject, _ key: String, at path: String) throws(ResultDecodeError) -> Int? {
        guard let v = o[field: key], !v.isNull else { return nil }
        guard let n = v.intValue, n >= 0, n <= Int64(UInt32.max) else {
            throw ResultDecodeError(message: "\"\(path)\" \(v.serialized(indent: 0)) is not a non-negative integer")
        }
        return Int(n)
    }
}
