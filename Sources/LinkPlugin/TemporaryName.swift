import NetTypes

/// The name a new link carries between its creation and its rename to CNI_IFNAME: the plugin's prefix (up to
/// 5 bytes, e.g. "mvtmp") and 10 hex digits derived from the container ID and interface name (FNV-1a, 40 bits),
/// so that a DEL after a SIGKILL'd ADD can find and remove a link that never got its final name, and so that
/// parallel ADDs of the same CNI_IFNAME never collide. Each plugin has its own prefix, so it never takes
/// another plugin's leftovers for its own.
public struct TemporaryName: Sendable {
    public let prefix: String

    public init(prefix: String) {
        precondition(prefix.utf8.count <= 5, "a temporary-name prefix leaves 10 of the kernel's 15 bytes for the hash")
        precondition(InterfaceName(prefix + "0") != nil, "a temporary-name prefix is the start of an interface name")
        self.prefix = prefix
    }

    public func make(containerID: String, ifName: InterfaceName) -> InterfaceName {
        let text = prefix + FNV1a.hex(FNV1a.hash(containerID.utf8 + [0] + ifName.text.utf8), digits: 10)
        // At most 5 + 10 = 15 bytes, a checked prefix and hex digits: an interface name whatever the input.
        guard let name = InterfaceName(text) else { preconditionFailure("temporary name \"\(text)\" from prefix \"\(prefix)\"") }
        return name
    }
}
