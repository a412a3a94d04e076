/// Byte-level text operations for protocol syntax. Swift's String compares and searches by grapheme cluster
/// under canonical equivalence: "/" followed by a combining mark is not found by `contains("/")`, and
/// "CHEC\u{212A}" (Kelvin sign) equals "CHECK". The kernel, Go runtimes and file paths see bytes, so every
/// separator, name and key check in the protocol goes through these.
extension String {
    /// Same UTF-8 bytes (no Unicode equivalence).
    /// Lengths first (O(1) for native strings): the environment is scanned with this for every CNI_ variable.
    public func bytesEqual(_ other: String) -> Bool { utf8.count == other.utf8.count && utf8.elementsEqual(other.utf8) }

    public func containsByte(_ byte: UInt8) -> Bool { utf8.contains(byte) }

    public func hasBytePrefix(_ byte: UInt8) -> Bool { utf8.first == byte }
    public func hasByteSuffix(_ byte: UInt8) -> Bool { utf8.last == byte }

    /// An absolute path with no NUL and no ".." component: where a config may point the plugin's state.
    public var isAbsolutePathWithoutParentReference: Bool {
        hasBytePrefix(UInt8(ascii: "/")) && !containsByte(0)
            && !split(onByte: UInt8(ascii: "/"), omittingEmpty: true).contains(where: { $0.bytesEqual("..") })
    }

    /// Splits on every occurrence of `byte` (an ASCII separator, so the pieces stay valid UTF-8).
    public func split(onByte byte: UInt8, omittingEmpty: Bool) -> [String] {
        utf8.split(separator: byte, omittingEmptySubsequences: omittingEmpty).map { String(decoding: $0, as: UTF8.self) }
    }

    /// The text before and after the first `byte`, or nil if it does not occur.
    public func split(atFirstByte byte: UInt8) -> (String, String)? {
        guard let i = utf8.firstIndex(of: byte) else { return nil }
        return (String(decoding: utf8[..<i], as: UTF8.self), String(decoding: utf8[utf8.index(after: i)...], as: UTF8.self))
    }
}
