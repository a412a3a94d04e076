import DHCPv4
import Glibc
import Namespace
import NetTypes
import SystemCall

/// Why an exchange socket could not be opened or used.
public struct ExchangeSocketError: Error, Sendable, CustomStringConvertible {
    public let description: String
    /// The namespace or the interface is gone: the lease has nothing left to serve.
    public let isGone: Bool
}

/// A UDP socket on the DHCP client port, opened inside a container's namespace and bound to one interface.
/// The thread enters the namespace only to create the socket and leaves at once; the socket keeps working
/// there. Closing it (deinit) lets the namespace go: nothing else of ours refers to it.
public final class DHCPv4Socket {
    public let fd: Int32

    public typealias SocketError = ExchangeSocketError

    /// `source`: the leased address to send from (renew, release); nil sends from 0.0.0.0 and receives
    /// broadcasts. `expected`: the namespace identity the lease was taken in (a new namespace at the same path
    /// is not ours).
    public init(netns path: String, expected: NamespaceIdentity?, ifName: String, source: IPAddress?) throws(SocketError) {
        fd = try Self.inNamespace(path, expected: expected) { () throws(SocketError) in try Self.open(ifName: ifName, source: source) }
    }

    /// Runs `open` (which creates a socket) with the thread in the namespace at `path`, checked to be the
    /// lease's namespace, and returns to ours.
    static func inNamespace(_ path: String, expected: NamespaceIdentity?,
                            _ open: () throws(SocketError) -> Int32) throws(SocketError) -> Int32 {
        let namespace: NetworkNamespace
        do {
            namespace = try NetworkNamespace(path: path)
        } catch {
            if case .notFound = error { throw SocketError(description: "namespace \(path) is gone", isGone: true) }
            throw SocketError(description: error.description, isGone: false)
        }
        if let expected, namespace.identity != expected {
            throw SocketError(description: "\(path) is now another namespace than the lease's", isGone: true)
        }
        let outcome: Result<Int32, SocketError>
        do {
            outcome = try namespace.withEntered(open)
        } catch {
            throw SocketError(description: error.description, isGone: false)
        }
        return try outcome.get()
    }

    private static func open(ifName: String, source: IPAddress?) throws(SocketError) -> Int32 {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(68).bigEndian
        if let source { address.sin_addr.s_addr = Self.networkOrder(source) }
        return try boundSocket(family: AF_INET, ifName: ifName, address: &address, describe: "\(source?.description ?? "0.0.0.0"):68") { fd in
            var on: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &on, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    /// A non-blocking UDP socket of `family` tied to `ifName` and bound to `address`, after `configure`.
    /// SO_REUSEADDR: several leases of one namespace (one per interface) exchange at once, each socket on its
    /// own device.
    static func boundSocket<Address>(family: Int32, ifName: String, address: inout Address, describe: String,
                                     configure: (Int32) -> Void) throws(SocketError) -> Int32 {
        let fd = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw SocketError(description: "socket: \(errnoText(errno))", isGone: false) }
        func fail(_ what: String, _ code: Int32) -> SocketError {
            close(fd)
            return SocketError(description: "\(what): \(errnoText(code))", isGone: code == ENODEV)
        }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        configure(fd)
        let tied = ifName.withCString { setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, $0, socklen_t(strlen($0) + 1)) }
        if tied != 0 { throw fail("bind to device \(ifName)", errno) }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<Address>.size)) }
        }
        if rc != 0 { throw fail("bind \(describe) on \(ifName)", errno) }
        return fd
    }

    deinit { close(fd) }

    public func send(_ outgoing: DHCPv4Client.Outgoing) throws(SocketError) {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(67).bigEndian
        switch outgoing.destination {
        case .broadcast: address.sin_addr.s_addr = 0xFFFF_FFFF
        case let .server(server): address.sin_addr.s_addr = Self.networkOrder(server)
        }
        try Self.send(outgoing.message.encoded(), fd: fd, to: &address,
                      what: "DHCP \(outgoing.message.messageType.map { "\($0)" } ?? "message")")
    }

    /// Every datagram waiting (non-blocking), decoded; malformed ones are skipped.
    public func receiveAll() -> [DHCPv4Message] {
        Self.receiveAll(fd: fd, capacity: 1500).compactMap { try? DHCPv4Message(decoding: $0) }
    }

    static func send<Address>(_ bytes: [UInt8], fd: Int32, to address: inout Address, what: String) throws(SocketError) {
        let sent = bytes.withUnsafeBytes { raw in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<Address>.size))
                }
            }
        }
        guard sent == bytes.count else {
            let code = errno
            throw SocketError(description: "send \(what): \(errnoText(code))", isGone: code == ENODEV || code == ENXIO)
        }
    }

    /// The datagrams waiting on a non-blocking socket (at most 64 per call: the loop comes back for more).
    static func receiveAll(fd: Int32, capacity: Int) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: capacity)
        for _ in 0..<64 {
            let n = retryingEINTR { buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) } }
            if n < 0 { break }
            out.append(Array(buffer[0..<n]))
        }
        return out
    }

    static func networkOrder(_ address: IPAddress) -> in_addr_t {
        let b = address.bytes
        return in_addr_t(b[0]) | in_addr_t(b[1]) << 8 | in_addr_t(b[2]) << 16 | in_addr_t(b[3]) << 24
    }
}
