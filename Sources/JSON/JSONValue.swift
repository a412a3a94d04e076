/// A parsed JSON document as a Swift value. Objects keep their key order (insertion order on output), which
/// keeps results readable and golden files stable.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The name used in error messages ("string", "number", ...), matching JSON's vocabulary, not Swift's.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int, .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    public var stringValue: String? { if case let .string(s) = self { return s } else { return nil } }
    public var boolValue: Bool? { if case let .bool(b) = self { return b } else { return nil } }
    public var intValue: Int64? { if case let .int(i) = self { return i } else { return nil } }
    public var arrayValue: [JSONValue]? { if case let .array(a) = self { return a } else { return nil } }
    public var objectValue: JSONObject? { if case let .object(o) = self { return o } else { return nil } }
    public var isNull: Bool { self == .null }

    public subscript(key: String) -> JSONValue? { objectValue?[key] }
    public subscript(field name: String) -> JSONValue? { objectValue?[field: name] }
}

/// An ordered JSON object. Lookups are linear: CNI configs have tens of keys, and order matters more than speed.
public struct JSONObject: Equatable, Sendable, Sequence {
    public private(set) var entries: [(key: String, value: JSONValue)]

    public init(_ entries: [(key: String, value: JSONValue)] = []) { self.entries = entries }

    public subscript(key: String) -> JSONValue? {
        // Keys compare as bytes, as jansson (which rejected duplicates) and Go compare them.
        get { entries.first { $0.key.utf8.elementsEqual(key.utf8) }?.value }
        set {
            if let i = entries.firstIndex(where: { $0.key.utf8.elementsEqual(key.utf8) }) {
                if let newValue { entries[i].value = newValue } else { entries.remove(at: i) }
            } else if let newValue {
                entries.append((key, newValue))
            }
        }
    }

    /// The member a Go program decoding into a struct field named `name` ends up with (what the reference
    /// plugins do with `encoding/json`): every key equal to `name` ignoring ASCII case is assigned in document
    /// order, so the last such key wins; with a single one, its case does not matter. Configs written for the
    /// reference ("MTU", "Master", "IPAM": {"Type": ...}) mean the same here.
    public subscript(field name: String) -> JSONValue? { entries.last { Self.equalIgnoringASCIICase($0.key, name) }?.value }

    /// The key `subscript(field:)` reads `name` from, for messages that quote what the user wrote.
    public func key(forField name: String) -> String? { entries.last { Self.equalIgnoringASCIICase($0.key, name) }?.key }

    /// The keys that name none of `fields` (compared as `subscript(field:)` does): a typo in an object whose
    /// keys are all known.
    public func keys(notAmong fields: [String]) -> [String] {
        keys.filter { key in !fields.contains { Self.equalIgnoringASCIICase(key, $0) } }
    }

    static func equalIgnoringASCIICase(_ a: String, _ b: String) -> Bool {
        // Lengths first: most keys of a config differ in length from the one asked for, and every lookup
        // scans all keys (the byte loop was 7% of an L2 ADD's instructions).
        a.utf8.count == b.utf8.count && a.utf8.elementsEqual(b.utf8) { x, y in
            x == y || (x | 0x20 == y | 0x20 && (x | 0x20) >= UInt8(ascii: "a") && (x | 0x20) <= UInt8(ascii: "z"))
        }
    }

    public var keys: [String] { entries.map(\.key) }
    public var isEmpty: Bool { entries.isEmpty }
    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> { entries.makeIterator() }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        a.entries.count == b.entries.count && a.entries.allSatisfy { b[$0.key] == $0.value }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements.map { (key: $0.0, value: $0.1) }))
    }
    public init(nilLiteral: ()) { self = .null }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements.map { (key: $0.0, value: $0.1) })
    }
}
