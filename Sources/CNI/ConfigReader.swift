import JSON

/// Typed access to one JSON object of the config. A known key with the wrong type is code 7 naming the key
/// (with its path, e.g. "ipam.type") and the value found; an absent key or JSON null reads as "not given".
/// Keys are matched as the reference plugins' Go `encoding/json` fills struct fields: ignoring ASCII case
/// ("MTU" is "mtu"), the last of several such keys winning.
public struct ConfigReader: Sendable {
    public let object: JSONObject
    public let path: String

    public init(_ object: JSONObject, path: String = "") {
        self.object = object
        self.path = path
    }

    /// The key as written in the config (its case may differ from `key`), with its path.
    public func name(_ key: String) -> String {
        let written = object.key(forField: key) ?? key
        return path.isEmpty ? written : "\(path).\(written)"
    }

    func present(_ key: String) -> JSONValue? {
        guard let value = object[field: key], !value.isNull else { return nil }
        return value
    }

    public func wrongType(_ key: String, expected: String) -> CNIError {
        let value = object[field: key] ?? .null
        return CNIError(.invalidConfig, "\"\(name(key))\" must be \(expected), got \(value.typeName) \(value.serialized(indent: 0).prefix(80))")
    }

    public func string(_ key: String) throws(CNIError) -> String? {
        guard let value = present(key) else { return nil }
        guard let s = value.stringValue else { throw wrongType(key, expected: "a string") }
        return s
    }

    public func bool(_ key: String) throws(CNIError) -> Bool? {
        guard let value = present(key) else { return nil }
        guard let b = value.boolValue else { throw wrongType(key, expected: "true or false") }
        return b
    }

    /// An integer in `range`; a fractional number, a string or an out-of-range value is code 7 naming both.
    public func integer(_ key: String, in range: ClosedRange<Int64>) throws(CNIError) -> Int64? {
        guard let value = present(key) else { return nil }
        guard let i = value.intValue else { throw wrongType(key, expected: "an integer") }
        guard range.contains(i) else {
            throw CNIError(.invalidConfig, "\"\(name(key))\" is \(i), outside \(range.lowerBound)...\(range.upperBound)")
        }
        return i
    }

    public func object(_ key: String) throws(CNIError) -> JSONObject? {
        guard let value = present(key) else { return nil }
        guard let o = value.objectValue else { throw wrongType(key, expected: "an object") }
        return o
    }

    public func reader(_ key: String) throws(CNIError) -> ConfigReader? {
        try object(key).map { ConfigReader($0, path: name(key)) }
    }

    public func array(_ key: String) throws(CNIError) -> [JSONValue]? {
        guard let value = present(key) else { return nil }
        guard let a = value.arrayValue else { throw wrongType(key, expected: "an array") }
        return a
    }

    public func strings(_ key: String) throws(CNIError) -> [String]? {
        guard let items = try array(key) else { return nil }
        var out: [String] = []
        for item in items {
            guard let s = item.stringValue else { throw wrongType(key, expected: "an array of strings") }
            out.append(s)
        }
        return out
    }
}
