/// A network interface name, by the one rule every layer uses (CNI_IFNAME, `master`, netlink requests,
/// sysctl paths). The kernel's rule (dev_valid_name): 1 to 15 bytes, not "." or "..", no '/', ':', NUL or
/// whitespace. Deliberately stricter: no other control bytes and no bytes above 0x7F either. The kernel would
/// take them, but such names cannot be typed or read back reliably (`ip` escapes them), and a name coming from
/// the environment as text could not be sent byte for byte if it were not valid UTF-8.
/// Names the kernel REPORTS (LinkInfo.name) stay `String`: it can report names this rule refuses.
public struct InterfaceName: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let text: String

    /// IFNAMSIZ - 1.
    public static let maxBytes = 15

    public init?(_ text: String) {
        guard Self.problem(text) == nil else { return nil }
        self.text = text
    }

    /// A literal is source code: one that breaks the rule is a programmer's error, not input.
    public init(stringLiteral text: String) {
        guard let name = InterfaceName(text) else { preconditionFailure("\"\(text)\" is not an interface name") }
        self = name
    }

    public var description: String { text }

    /// Why `text` is not an interface name, in words for an error message; nil when it is one.
    public static func problem(_ text: String) -> String? {
        let bytes = text.utf8
        if bytes.isEmpty { return "it is empty" }
        if bytes.count > maxBytes { return "it is \(bytes.count) bytes long; the limit is \(maxBytes)" }
        if text.bytesEqual(".") || text.bytesEqual("..") { return "\".\" and \"..\" are not interface names" }
        if bytes.contains(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: ":") }) { return "it contains '/' or ':'" }
        if bytes.contains(where: { $0 <= 0x20 || $0 == 0x7F }) { return "it contains whitespace or control characters" }
        if bytes.contains(where: { $0 >= 0x80 }) { return "it contains non-ASCII characters" }
        return nil
    }
}
