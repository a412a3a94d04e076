/// The name a new link carries between its creation and its rename to CNI_IFNAME. It is derived from the
/// container ID and interface name (FNV-1a, 40 bits) so that a DEL after a SIGKILL'd ADD can find and remove a
/// link that never got its final name, and so that parallel ADDs of the same CNI_IFNAME never collide.
public enum TemporaryName {
    public static let prefix = "mvtmp"

    public static func make(containerID: String, ifName: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in containerID.utf8 + [0] + ifName.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let digits = Array("0123456789abcdef")
        var text = prefix
        for shift in stride(from: 36, through: 0, by: -4) { text.append(digits[Int((hash >> UInt64(shift)) & 0xF)]) }
        return text  // 5 + 10 = 15 bytes, the kernel's limit
    }
}
