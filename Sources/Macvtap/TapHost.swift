import CNI
import Glibc
import LinkPlugin
import Namespace
import Netlink
import SystemCall

/// What the macvtap verbs need from the host beyond `LinkSystem`: the kernel's list of character devices,
/// device nodes, the attachment records, and namespaces by path. `HostFiles` is the real one; tests use a fake.
public protocol TapHost: AnyObject {
    /// The entries of /sys/dev/char: name ("major:minor") and symlink target.
    func characterDevices() throws(CNIError) -> [(name: String, target: String)]
    /// The node at `path`, or nil when nothing is there.
    func node(at path: String) throws(CNIError) -> NodeStatus?
    /// Makes a character device node with exactly these permissions, visible at `path` only once complete.
    func makeNode(at path: String, device: DeviceNumber, permissions: NodePermissions) throws(CNIError)
    /// Removes the file at `path`; nothing there counts as removed.
    func remove(_ path: String) throws(CNIError)
    /// A file's bytes, or nil when it does not exist.
    func read(_ path: String) throws(CNIError) -> [UInt8]?
    /// Replaces a file atomically (its directory is made when missing).
    func write(_ path: String, _ bytes: [UInt8]) throws(CNIError)
    /// The names in a directory; none when it does not exist.
    func list(_ directory: String) throws(CNIError) -> [String]
    /// The plugin's own network namespace, as a descriptor for IFLA_NET_NS_FD (where adopted macvtaps go back).
    func ownNamespaceFD() throws(CNIError) -> Int32
    /// A netlink socket in the namespace at `path`, or nil when it is gone.
    func routes(inNamespace path: String) throws(CNIError) -> (any RouteOperations)?
}

/// What stat says about a node.
public struct NodeStatus: Equatable, Sendable {
    public var isCharacterDevice: Bool
    public var device: DeviceNumber
    public var owner: UInt32
    public var group: UInt32
    public var mode: UInt32          // permission bits only

    public init(isCharacterDevice: Bool, device: DeviceNumber, owner: UInt32, group: UInt32, mode: UInt32) {
        self.isCharacterDevice = isCharacterDevice
        self.device = device
        self.owner = owner
        self.group = group
        self.mode = mode
    }
}

/// The real host: sysfs, devtmpfs, the state directory, /proc.
public final class HostFiles: TapHost {
    private var own: NetworkNamespace?
    private var namespaces: [NetworkNamespace] = []   // kept open while their sockets are in use

    public init() {}

    static let characterDeviceDirectory = "/sys/dev/char"

    /// Only the entries of the macvtap major are resolved (/proc/devices names it): readlink on sysfs is the
    /// cost here (measured: 26 µs of CPU instead of 363 µs with the ~90 character devices of this machine).
    public func characterDevices() throws(CNIError) -> [(name: String, target: String)] {
        let prefix = try macvtapMajor().map { "\($0):" }
        var entries: [(name: String, target: String)] = []
        var buffer = [CChar](repeating: 0, count: 4096)
        for name in try list(Self.characterDeviceDirectory) where prefix.map({ name.hasPrefix($0) }) ?? true {
            let length = readlink("\(Self.characterDeviceDirectory)/\(name)", &buffer, buffer.count - 1)
            guard length > 0 else { continue }  // gone meanwhile
            let target = buffer.withUnsafeBufferPointer { raw in
                String(decoding: UnsafeRawBufferPointer(start: raw.baseAddress, count: length).bindMemory(to: UInt8.self), as: UTF8.self)
            }
            entries.append((name, target))
        }
        return entries
    }

    /// The major of "macvtap" in /proc/devices' character devices; nil when it is not listed.
    func macvtapMajor() throws(CNIError) -> UInt32? {
        guard let text = try read("/proc/devices") else { return nil }
        var inCharacterSection = false
        for line in text.split(separator: UInt8(ascii: "\n")) {
            let words = line.split(separator: UInt8(ascii: " "))
            if words.first.map({ $0.elementsEqual("Character".utf8) }) == true { inCharacterSection = true; continue }
            if words.first.map({ $0.elementsEqual("Block".utf8) }) == true { inCharacterSection = false; continue }
            if inCharacterSection, words.count == 2, words[1].elementsEqual("macvtap".utf8) {
                return UInt32(String(decoding: words[0], as: UTF8.self))
            }
        }
        return nil
    }

    public func node(at path: String) throws(CNIError) -> NodeStatus? {
        var info = Glibc.stat()
        if lstat(path, &info) != 0 {
            let code = errno
            if code == ENOENT { return nil }
            throw CNIError(.ioFailure, "reading \(path): \(errnoText(code))")
        }
        return NodeStatus(isCharacterDevice: info.st_mode & S_IFMT == S_IFCHR, device: DeviceNumber(rawValue: UInt64(info.st_rdev)),
                          owner: info.st_uid, group: info.st_gid, mode: info.st_mode & 0o7777)
    }

    public func makeNode(at path: String, device: DeviceNumber, permissions: NodePermissions) throws(CNIError) {
        try makeDirectory(parent(of: path))
        // Made under a private name and renamed into place: the final path never shows a node with the
        // kernel's default permissions, or half-made (the rename replaces a stale node atomically).
        let temporary = "\(parent(of: path))/.\(getpid()).tmp"
        _ = unlink(temporary)
        guard mknod(temporary, S_IFCHR | 0o600, dev_t(device.rawValue)) == 0 else {
            throw CNIError(.ioFailure, "making character device \(device) at \(temporary): \(errnoText(errno))")
        }
        guard chown(temporary, permissions.owner, permissions.group) == 0, chmod(temporary, permissions.mode) == 0,
              rename(temporary, path) == 0 else {
            let code = errno
            _ = unlink(temporary)
            throw CNIError(.ioFailure, "giving \(path) owner \(permissions.owner), group \(permissions.group), mode \(permissions.modeText): \(errnoText(code))")
        }
    }

    public func remove(_ path: String) throws(CNIError) {
        if unlink(path) != 0, errno != ENOENT {
            throw CNIError(.ioFailure, "removing \(path): \(errnoText(errno))")
        }
    }

    public func read(_ path: String) throws(CNIError) -> [UInt8]? {
        do { return try readWholeFile(path, limit: 1 << 16) } catch {   // records are a few hundred bytes
            throw CNIError(.ioFailure, "\(error.action): \(errnoText(error.code))")
        }
    }

    public func write(_ path: String, _ bytes: [UInt8]) throws(CNIError) {
        try makeDirectory(parent(of: path))
        do {
            try replaceFile(path, with: bytes, temporary: "\(parent(of: path))/.\(getpid()).tmp", mode: 0o600)
        } catch {
            throw CNIError(.ioFailure, "\(error.action): \(errnoText(error.code))")
        }
    }

    public func list(_ directory: String) throws(CNIError) -> [String] {
        guard let names = directoryEntries(directory) else {
            if errno == ENOENT { return [] }
            throw CNIError(.ioFailure, "listing \(directory): \(errnoText(errno))")
        }
        return names
    }

    public func ownNamespaceFD() throws(CNIError) -> Int32 {
        if let own { return own.fd }
        do { own = try NetworkNamespace.current() } catch { throw error.cni("the plugin's own network namespace") }
        return own!.fd
    }

    public func routes(inNamespace path: String) throws(CNIError) -> (any RouteOperations)? {
        guard !path.isEmpty else { return nil }
        let namespace: NetworkNamespace
        do { namespace = try NetworkNamespace(path: path) } catch { return nil }
        namespaces.append(namespace)
        return try routeSocket(in: namespace)
    }

    /// mkdir -p for our own directories (root only: 0755).
    private func makeDirectory(_ path: String) throws(CNIError) {
        do { try makeDirectories(path, mode: 0o755) } catch {
            throw CNIError(.ioFailure, "\(error.action): \(errnoText(error.code))")
        }
    }

    private func parent(of path: String) -> String {
        guard let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")), slash != path.utf8.startIndex else { return "/" }
        return String(path[..<slash])
    }

}
