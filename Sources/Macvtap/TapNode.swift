import CNI
import NetTypes

/// A character device number, as sysfs names it ("246:3").
public struct DeviceNumber: Hashable, Sendable, CustomStringConvertible {
    public let major: UInt32
    public let minor: UInt32

    public init(major: UInt32, minor: UInt32) {
        self.major = major
        self.minor = minor
    }

    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let major = UInt32(parts[0]), let minor = UInt32(parts[1]),
              major < 1 << 12, minor < 1 << 20 else { return nil }  // the kernel's MAJOR/MINOR widths
        self.init(major: major, minor: minor)
    }

    public var description: String { "\(major):\(minor)" }

    /// glibc's dev_t encoding (makedev).
    public var rawValue: UInt64 {
        let major = UInt64(major), minor = UInt64(minor)
        return ((major & 0xffff_f000) << 32) | ((major & 0xfff) << 8) | ((minor & 0xffff_ff00) << 12) | (minor & 0xff)
    }

    public init(rawValue dev: UInt64) {
        major = UInt32(truncatingIfNeeded: ((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff))
        minor = UInt32(truncatingIfNeeded: ((dev >> 12) & 0xffff_ff00) | (dev & 0xff))
    }
}

/// Where the plugin puts an attachment's character device node and how it finds the kernel's number for it.
///
/// The kernel's own node, `/dev/tap<ifindex>`, cannot be trusted: ifindexes are per namespace, so two
/// containers' macvtaps can both be `tap2`, and devtmpfs then has one node for two devices. The number itself
/// is unique, and `/sys/dev/char/<major>:<minor>` lists every character device of every namespace as a
/// symlink to `.../net/<link name>/macvtap/tap<ifindex>` (the files behind it are visible only to a sysfs
/// mounted in the device's namespace, but the link's name is not). While the new link still has its temporary
/// name, which is unique to the attachment, that name and its ifindex identify its entry there.
public enum TapNode {
    /// Our nodes live here, on devtmpfs (a filesystem that allows device nodes).
    public static let directory = "/dev/macvtap-cni"
    /// NAME_MAX.
    static let maximumFileName = 255

    /// `/dev/macvtap-cni/<CNI_CONTAINERID>@<CNI_IFNAME>`: derived only from the attachment; '@' cannot occur in a
    /// container ID, so the split is unambiguous.
    public static func path(containerID: String, ifName: InterfaceName) -> String {
        "\(directory)/\(fileName(containerID: containerID, ifName: ifName))"
    }

    static func fileName(containerID: String, ifName: InterfaceName) -> String { "\(containerID)@\(ifName.text)" }

    /// Refuses an attachment whose node name would exceed NAME_MAX (a container ID over 239 bytes).
    static func validate(containerID: String, ifName: InterfaceName) throws(CNIError) {
        let length = fileName(containerID: containerID, ifName: ifName).utf8.count
        if length > maximumFileName {
            throw CNIError(.invalidEnvironment, "CNI_CONTAINERID is too long for a macvtap device node name (\(length) bytes with CNI_IFNAME)",
                           details: "the node is \(directory)/<CNI_CONTAINERID>@<CNI_IFNAME>, at most \(maximumFileName) bytes")
        }
    }

    /// The number of the macvtap called `linkName` with index `index`, among the entries of /sys/dev/char
    /// (name "major:minor", symlink target). nil when none matches; an error when several do (the name is not
    /// unique after all, so no answer would be right).
    static func find(linkName: String, index: Int32, in entries: [(name: String, target: String)]) throws(CNIError) -> DeviceNumber? {
        let suffix = "/net/\(linkName)/macvtap/tap\(index)"
        let matches = entries.filter { $0.target.hasSuffix(suffix) }.compactMap { DeviceNumber($0.name) }
        if matches.count > 1 {
            throw CNIError(.linkFailure, "several macvtap character devices belong to a link named \(linkName) with index \(index): \(matches.map(\.description).joined(separator: ", "))",
                           details: "another namespace holds a macvtap with the same name and index; remove it and retry")
        }
        return matches.first
    }

    /// Whether /sys/dev/char's entry for `device` (its symlink target) names the link `linkName` with `index`.
    static func belongs(_ target: String, to linkName: InterfaceName, index: Int32) -> Bool {
        target.hasSuffix("/net/\(linkName.text)/macvtap/tap\(index)")
    }
}
