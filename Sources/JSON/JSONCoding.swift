import CJansson
import Glibc

/// Why a document could not be parsed, with jansson's position so a person can find the spot.
public struct JSONParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public let line: Int
    public let column: Int
    public var description: String { "\(message) (line \(line), column \(column))" }
}

extension JSONValue {
    /// Parses a complete document. Duplicate object keys are rejected: two values for one key make a config
    /// ambiguous, and different parsers would pick different ones.
    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        var error = json_error_t()
        let flags = JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL
        let root: UnsafeMutablePointer<json_t>? = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress.map { base in
                base.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                    json_loadb($0, buffer.count, Int(flags), &error)
                }
            } ?? json_loadb("", 0, Int(flags), &error)
        }
        guard let root else {
            let message = withUnsafeBytes(of: &error.text) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            throw JSONParseError(message: message, line: Int(error.line), column: Int(error.column))
        }
        defer { json_decref(root) }
        return JSONValue(borrowing: root)
    }

    public static func parse(_ text: String) throws(JSONParseError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    /// Copies a jansson tree without taking ownership of it.
    init(borrowing node: UnsafeMutablePointer<json_t>) {
        switch node.pointee.type {
        case JSON_OBJECT:
            var entries: [(key: String, value: JSONValue)] = []
            var iterator = json_object_iter(node)
            while let it = iterator {
                let key = String(cString: json_object_iter_key(it))
                if let child = json_object_iter_value(it) { entries.append((key, JSONValue(borrowing: child))) }
                iterator = json_object_iter_next(node, it)
            }
            self = .object(JSONObject(entries))
        case JSON_ARRAY:
            self = .array((0..<json_array_size(node)).compactMap { i in json_array_get(node, i).map(JSONValue.init(borrowing:)) })
        case JSON_STRING:
            let length = json_string_length(node)
            let bytes = UnsafeRawBufferPointer(start: json_string_value(node), count: length)
            self = .string(String(decoding: bytes, as: UTF8.self))
        case JSON_INTEGER: self = .int(Int64(json_integer_value(node)))
        case JSON_REAL: self = .double(json_real_value(node))
        case JSON_TRUE: self = .bool(true)
        case JSON_FALSE: self = .bool(false)
        default: self = .null
        }
    }

    /// Builds a new jansson tree; the caller owns the returned reference.
    func makeJansson() -> UnsafeMutablePointer<json_t> {
        switch self {
        case .null: return json_null()
        case let .bool(b): return b ? json_true() : json_false()
        case let .int(i): return json_integer(json_int_t(i))
        case let .double(d): return json_real(d)
        case let .string(s):
            let bytes = Array(s.utf8)
            return bytes.withUnsafeBufferPointer { buf in
                buf.withMemoryRebound(to: CChar.self) { chars in
                    chars.baseAddress.map { json_stringn($0, chars.count) } ?? json_string("")
                }
            }
        case let .array(items):
            let array = json_array()!
            for item in items { json_array_append_new(array, item.makeJansson()) }
            return array
        case let .object(object):
            let node = json_object()!
            for (key, value) in object.entries { json_object_set_new(node, key, value.makeJansson()) }
            return node
        }
    }

    /// Serialises through jansson. `indent` 0 gives compact output.
    public func serialized(indent: Int = 4) -> String {
        let node = makeJansson()
        defer { json_decref(node) }
        let flags = indent > 0 ? (indent & 0x1F) : Int(JSON_COMPACT)
        guard let text = json_dumps(node, flags | Int(JSON_ENCODE_ANY)) else { return "null" }
        defer { free(text) }
        return String(cString: text)
    }
}

