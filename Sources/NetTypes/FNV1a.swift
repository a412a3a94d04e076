/// 64-bit FNV-1a over byte strings joined by NUL (so ("ab","c") and ("a","bc") differ). Not cryptographic: it
/// derives stable names and addresses from identifiers, where the same input must always give the same output
/// across processes and versions (Swift's Hasher is seeded per process).
public enum FNV1a {
    public static func hash(_ parts: [String]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for (i, part) in parts.enumerated() {
            if i > 0 { hash = (hash ^ 0) &* 0x100_0000_01b3 }
            for byte in part.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
        }
        return hash
    }
}
