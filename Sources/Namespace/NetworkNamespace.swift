import CNamespaces
import Glibc

/// Identifies a namespace: two paths name the same namespace exactly when device and inode agree.
public struct NamespaceIdentity: Hashable, Sendable {
    public let device: UInt64
    public let inode: UInt64

    public init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }
}

/// An open network namespace, checked to really be one before anything uses it. The descriptor is
/// O_RDONLY|O_CLOEXEC and closes in deinit; it can be passed as IFLA_NET_NS_FD.
public final class NetworkNamespace {
    public let path: String
    public let fd: Int32
    public let identity: NamespaceIdentity

    /// The calling thread's own network namespace.
    public static let currentPath = "/proc/thread-self/ns/net"

    public init(path: String) throws(NamespaceError) {
        // stat before open: opening a FIFO or a device to find out what it is could block or have side effects.
        var st = stat()
        guard stat(path, &st) == 0 else {
            let code = errno
            throw code == ENOENT ? .notFound(path: path) : .open(path: path, errno: code)
        }
        guard st.st_mode & S_IFMT == S_IFREG else {
            throw .notNetworkNamespace(path: path, reason: Self.fileTypeName(st.st_mode))
        }
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            let code = errno
            throw code == ENOENT ? .notFound(path: path) : .open(path: path, errno: code)
        }
        switch cs_netns_kind(fd) {
        case 0:
            break
        case 1:
            close(fd)
            throw .notNetworkNamespace(path: path, reason: "a regular file")
        case 2:
            let kind = Self.namespaceKind(fd: fd)
            close(fd)
            throw .notNetworkNamespace(path: path, reason: kind.map { "a \($0) namespace" } ?? "another kind of namespace")
        default:
            let code = errno
            close(fd)
            throw .open(path: path, errno: code)
        }
        var fst = stat()
        guard fstat(fd, &fst) == 0 else {
            let code = errno
            close(fd)
            throw .open(path: path, errno: code)
        }
        self.path = path
        self.fd = fd
        self.identity = NamespaceIdentity(device: UInt64(fst.st_dev), inode: UInt64(fst.st_ino))
    }

    deinit { close(fd) }

    /// The calling thread's network namespace, opened (so it can be compared with or returned to).
    public static func current() throws(NamespaceError) -> NetworkNamespace {
        try NetworkNamespace(path: currentPath)
    }

    /// Whether this is the namespace the calling thread is in now.
    public func isCurrent() throws(NamespaceError) -> Bool {
        try NetworkNamespace.current().identity == identity
    }

    /// Enters this namespace (calling thread only), runs `body`, and returns to the namespace the thread was in.
    /// Failing to enter throws; the body's own outcome comes back as the Result, so both error types stay
    /// typed: `let link = try ns.withEntered { () throws(MyError) in ... }.get()`.
    /// If returning fails the process aborts with a message on fd 2: going on would act in the wrong namespace.
    /// Keep bodies synchronous (no await): setns affects only the current thread.
    public func withEntered<T, E: Error>(_ body: () throws(E) -> T) throws(NamespaceError) -> Result<T, E> {
        let saved = Glibc.open(Self.currentPath, O_RDONLY | O_CLOEXEC)
        guard saved >= 0 else { throw .open(path: Self.currentPath, errno: errno) }
        defer { close(saved) }
        guard cs_setns_net(fd) == 0 else { throw .enter(path: path, errno: errno) }
        defer {
            if cs_setns_net(saved) != 0 {
                let code = errno
                let message = "fatal: cannot return to the original network namespace after entering \(path): "
                    + "errno \(code)\n"
                _ = message.withCString { write(2, $0, strlen($0)) }
                abort()
            }
        }
        do throws(E) {
            return .success(try body())
        } catch {
            return .failure(error)
        }
    }

    /// The same with one error type: failures to enter are converted by `wrap`.
    public func withEntered<T, E: Error>(wrappingErrors wrap: (NamespaceError) -> E,
                                         _ body: () throws(E) -> T) throws(E) -> T {
        let outcome: Result<T, E>
        do {
            outcome = try withEntered(body)
        } catch {
            throw wrap(error)
        }
        return try outcome.get()
    }

    private static func fileTypeName(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "a directory"
        case S_IFLNK: return "a symbolic link"
        case S_IFIFO: return "a FIFO"
        case S_IFSOCK: return "a socket"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        default: return "not a regular file"
        }
    }

    /// "uts" for an fd whose /proc link reads "uts:[4026531838]".
    private static func namespaceKind(fd: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: 128)
        let n = readlink("/proc/self/fd/\(fd)", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        let text = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let colon = text.firstIndex(of: ":") else { return nil }
        return String(text[..<colon])
    }
}
