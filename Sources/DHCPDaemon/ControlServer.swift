import CNI
import CProcess
import DHCPService
import Glibc
import JSON
import SystemCall

/// The daemon's unix socket: accepts plugin connections, reads one request each, checks who is calling, and
/// hands the request on; the answer may come later (ADD waits for the server) through the reply closure.
final class ControlServer {
    struct ServerError: Error, CustomStringConvertible { let description: String }

    let listenFD: Int32
    /// Whether we created the socket file (and so remove it on exit); not under socket activation.
    let ownsPath: String?
    private var connections: [Int32: Connection] = [:]
    private let allowedUIDs: [uid_t]
    /// A plugin that connects and says nothing is dropped after this long.
    static let requestTimeout: Double = 10
    static let requestLimit = 1 << 20

    final class Connection {
        let fd: Int32
        let deadline: Double
        var buffer: [UInt8] = []
        var answered = false
        init(fd: Int32, deadline: Double) { self.fd = fd; self.deadline = deadline }
    }

    init(listenFD: Int32, ownsPath: String?) {
        // Non-blocking: a connection that is reset between poll and accept must not hang the loop.
        _ = fcntl(listenFD, F_SETFL, fcntl(listenFD, F_GETFL) | O_NONBLOCK)
        self.listenFD = listenFD
        self.ownsPath = ownsPath
        allowedUIDs = [0, geteuid()]
    }

    /// The listening socket systemd passed (LISTEN_PID/LISTEN_FDS, first fd 3), if any. Exactly one is expected.
    static func activatedSocket() throws(ServerError) -> Int32? {
        guard let pidText = getenv("LISTEN_PID").map({ String(cString: $0) }), let pid = Int32(pidText), pid == getpid(),
              let countText = getenv("LISTEN_FDS").map({ String(cString: $0) }), let count = Int(countText), count > 0
        else { return nil }
        unsetenv("LISTEN_PID"); unsetenv("LISTEN_FDS"); unsetenv("LISTEN_FDNAMES")
        guard count == 1 else { throw ServerError(description: "socket activation passed \(count) sockets; the daemon takes exactly one") }
        var type: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(3, SOL_SOCKET, SO_TYPE, &type, &length) == 0, type == Int32(SOCK_STREAM.rawValue) else {
            throw ServerError(description: "socket activation: fd 3 is not a stream socket")
        }
        _ = fcntl(3, F_SETFD, FD_CLOEXEC)
        return 3
    }

    /// Creates the socket file: mode 0660 (root and the socket's group may connect; the peer check below still
    /// applies). A leftover file from a dead daemon is replaced: the caller holds the daemon lock, so no live
    /// daemon can be behind it.
    static func listen(at path: String) throws(ServerError) -> Int32 {
        let directory = path.split(separator: "/").dropLast().reduce("") { "\($0)/\($1)" }
        do { try makeDirectories(directory, mode: 0o755) } catch {
            throw ServerError(description: "\(error.action): \(errnoText(error.code))")
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw ServerError(description: "socket path \(path) is too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ServerError(description: "socket: \(errnoText(errno))") }
        var st = stat()
        if lstat(path, &st) == 0 {
            guard st.st_mode & S_IFMT == S_IFSOCK else {
                close(fd)
                throw ServerError(description: "\(path) exists and is not a socket; not replacing it")
            }
            unlink(path)
            DaemonLog.line("removed the stale socket \(path) left by a previous daemon")
        }
        let oldMask = umask(0o117)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        umask(oldMask)
        guard rc == 0 else {
            let code = errno
            close(fd)
            throw ServerError(description: "bind \(path): \(errnoText(code))")
        }
        chmod(path, 0o660)
        guard Glibc.listen(fd, 128) == 0 else {
            let code = errno
            close(fd)
            throw ServerError(description: "listen \(path): \(errnoText(code))")
        }
        return fd
    }

    var pollFDs: [Int32] { [listenFD] + connections.keys.filter { connections[$0]?.answered == false } }

    var nextDeadline: Double? { connections.values.filter { !$0.answered }.map(\.deadline).min() }

    func readable(_ fd: Int32, now: Double, handle: (ControlRequest, @escaping (ControlReply) -> Void) -> Void) {
        if fd == listenFD { accept(now: now); return }
        guard let connection = connections[fd], !connection.answered else { return }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        if n < 0 { if errno == EINTR || errno == EAGAIN { return }; drop(fd); return }
        if n == 0 { drop(fd); return }   // the plugin went away before finishing its request
        connection.buffer += chunk[0..<n]
        if connection.buffer.count > Self.requestLimit {
            respond(connection, .failure(CNIError(.decodingFailure, "request to the DHCP daemon larger than 1 MiB")))
            return
        }
        guard let newline = connection.buffer.firstIndex(of: 0x0A) else { return }
        let request: ControlRequest
        do throws(CNIError) {
            let value: JSONValue
            do { value = try JSONValue.parse(Array(connection.buffer[..<newline])) } catch {
                throw CNIError(.decodingFailure, "request to the DHCP daemon is not JSON: \(error)")
            }
            request = try ControlRequest(json: value)
        } catch {
            respond(connection, .failure(error))
            return
        }
        connection.answered = true   // no more reading: the reply closure owns it now
        handle(request) { [weak self, connection] reply in self?.respond(connection, reply) }
    }

    func tick(now: Double) {
        for connection in connections.values where !connection.answered && now >= connection.deadline {
            DaemonLog.line("dropped a plugin connection that sent no complete request in \(Int(Self.requestTimeout)) s")
            drop(connection.fd)
        }
    }

    private func accept(now: Double) {
        for _ in 0..<64 {
            let fd = Glibc.accept(listenFD, nil, nil)
            if fd < 0 { return }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            var credentials = PeerCredentials()
            var length = socklen_t(MemoryLayout<PeerCredentials>.size)
            guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0 else { close(fd); continue }
            let (uid, pid) = (credentials.uid, credentials.pid)
            // The caller names a namespace the daemon will enter: only root (or the daemon's own user) may.
            guard allowedUIDs.contains(uid) else {
                DaemonLog.line("refused a connection from uid \(uid) pid \(pid): only root may use the DHCP daemon")
                let connection = Connection(fd: fd, deadline: now)
                connections[fd] = connection
                respond(connection, .failure(CNIError(.invalidEnvironment, "permission denied: the DHCP daemon serves only root (uid \(uid) asked)")))
                continue
            }
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            connections[fd] = Connection(fd: fd, deadline: now + Self.requestTimeout)
        }
    }

    private func respond(_ connection: Connection, _ reply: ControlReply) {
        connection.answered = true
        var bytes = Array((reply.json.serialized(indent: 0) + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let n = retryingEINTR { bytes.withUnsafeMutableBytes { Glibc.send(connection.fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) } }
            if n < 0 { break }
            offset += n
        }
        drop(connection.fd)
    }

    private func drop(_ fd: Int32) {
        guard connections.removeValue(forKey: fd) != nil else { return }
        close(fd)
    }

    func closeAll() {
        for fd in Array(connections.keys) { drop(fd) }
        close(listenFD)
        if let ownsPath { unlink(ownsPath) }
    }
}

/// struct ucred (SO_PEERCRED), which glibc declares only under _GNU_SOURCE; its layout is fixed by the kernel ABI.
struct PeerCredentials {
    var pid: pid_t = 0
    var uid: uid_t = 0
    var gid: gid_t = 0
}
