import NetTypes

/// The host-side macvlan ("shim") through which the host reaches the containers of one master.
public enum ShimName {
    /// IFLA_IFALIAS of every shim we create: what tells ours apart from any other link that has the name.
    public static let alias = "macvlan-cni host access shim"
    static let prefix = "mvh-"

    /// "mvh-" + the master's name when that fits the kernel's 15 bytes; else "mvh-", the master's first four
    /// bytes, "-" and six hex digits of a hash of its whole name (so two long masters never share a shim name).
    public static func forMaster(_ master: String) -> String {
        let whole = prefix + master
        if whole.utf8.count <= 15 { return whole }
        let head = String(decoding: master.utf8.prefix(4).map { $0 < 0x80 ? $0 : UInt8(ascii: "x") }, as: UTF8.self)
        return prefix + head + "-" + FNV1a.hex(FNV1a.hash(master.utf8), digits: 6)
    }
}
