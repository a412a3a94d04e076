/// FNV-1a, 64 bits: a short, stable fingerprint for deriving names that must fit a length limit (interface
/// names, state file names). Not for anything that needs collision resistance against an adversary.
public enum FNV1a {
    public static func hash<Bytes: Sequence>(_ bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }

    /// The lowest `digits` hexadecimal digits of `hash`, most significant first.
    public static func hex(_ hash: UInt64, digits: Int) -> String {
        let alphabet = Array("0123456789abcdef")
        var text = ""
        for shift in stride(from: (digits - 1) * 4, through: 0, by: -4) { text.append(alphabet[Int((hash >> UInt64(shift)) & 0xF)]) }
        return text
    }

    /// Byte strings joined by NUL, so ("ab", "c") and ("a", "bc") differ.
    public static func hash(_ parts: [String]) -> UInt64 {
        var bytes: [UInt8] = []
        for (i, part) in parts.enumerated() { if i > 0 { bytes.append(0) }; bytes += part.utf8 }
        return hash(bytes)
    }
}
