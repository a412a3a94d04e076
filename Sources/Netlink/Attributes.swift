import CMnl

/// A bounds-checked walk over a run of netlink attributes. libmnl's mnl_attr_ok validates each header against
/// the bytes that remain, so a malformed length ends the walk instead of reading past the region.
struct Attributes {
    /// Calls `body` with each attribute's type (nested/byte-order flags masked off) and its payload.
    static func forEach(in region: UnsafeRawBufferPointer, _ body: (UInt16, UnsafeRawBufferPointer) -> Void) {
        guard let base = region.baseAddress else { return }
        var offset = 0
        while offset < region.count {
            let remaining = region.count - offset
            let attr = (base + offset).assumingMemoryBound(to: nlattr.self)
            guard mnl_attr_ok(attr, Int32(clamping: remaining)) else { return }
            let payloadLength = Int(mnl_attr_get_payload_len(attr))
            let payload = UnsafeRawBufferPointer(start: mnl_attr_get_payload(attr), count: payloadLength)
            body(mnl_attr_get_type(attr), payload)
            // MNL_ALIGN(nla_len); the loop condition catches the end of a region whose last attribute is unpadded.
            offset += (Int(attr.pointee.nla_len) + 3) & ~3
        }
    }

    /// The attributes of a region by type; a later duplicate wins, as in the kernel's own parser.
    static func table(in region: UnsafeRawBufferPointer) -> AttributeTable {
        var result = AttributeTable()
        forEach(in: region) { type, payload in result[type] = payload }
        return result
    }
}

/// Attributes indexed by type in a flat array: every parse of every reply builds one, and a dictionary's
/// hashing and allocation showed up in profiles. Types beyond the largest any parser reads are ignored.
struct AttributeTable {
    static let capacity = 128
    private var slots = [UnsafeRawBufferPointer?](repeating: nil, count: capacity)

    subscript(type: UInt16) -> UnsafeRawBufferPointer? {
        get { Int(type) < Self.capacity ? slots[Int(type)] : nil }
        set { if Int(type) < Self.capacity { slots[Int(type)] = newValue } }
    }
}

/// Typed reads of attribute payloads; each returns nil when the payload is too short.
extension UnsafeRawBufferPointer {
    var u8: UInt8? { count >= 1 ? self[0] : nil }
    var u32: UInt32? { count >= 4 ? loadUnaligned(as: UInt32.self) : nil }
    var i32: Int32? { count >= 4 ? loadUnaligned(as: Int32.self) : nil }
    /// A string attribute: up to the first NUL (or the whole payload if there is none), invalid UTF-8 repaired.
    var string: String {
        let end = firstIndex(of: 0) ?? count
        return String(decoding: self[0..<end], as: UTF8.self)
    }
    var byteArray: [UInt8] { Array(self) }
}
