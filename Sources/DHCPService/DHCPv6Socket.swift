import DHCPv6
import Glibc
import Namespace
import NetTypes

/// A UDP socket on the DHCPv6 client port (546), opened inside a container's namespace and bound to one
/// interface; messages to All_DHCP_Relay_Agents_and_Servers leave through that interface from its link-local
/// address. Like DHCPv4Socket: the namespace is entered only to create it, and closing it lets the namespace go.
public final class DHCPv6Socket {
    public let fd: Int32
    let ifIndex: Int32

    public init(netns path: String, expected: NamespaceIdentity?, ifName: String, ifIndex: Int32) throws(ExchangeSocketError) {
        self.ifIndex = ifIndex
        fd = try DHCPv4Socket.inNamespace(path, expected: expected) { () throws(ExchangeSocketError) in
            try Self.open(ifName: ifName, ifIndex: ifIndex)
        }
    }

    private static func open(ifName: String, ifIndex: Int32) throws(ExchangeSocketError) -> Int32 {
        let fd = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw ExchangeSocketError(description: "socket: \(String(cString: strerror(errno)))", isGone: false) }
        func fail(_ what: String, _ code: Int32) -> ExchangeSocketError {
            close(fd)
            return ExchangeSocketError(description: "\(what): \(String(cString: strerror(code)))", isGone: code == ENODEV)
        }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &on, socklen_t(MemoryLayout<Int32>.size))
        var index = ifIndex
        setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_MULTICAST_IF, &index, socklen_t(MemoryLayout<Int32>.size))
        let bound = ifName.withCString { setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, $0, socklen_t(strlen($0) + 1)) }
        if bound != 0 { throw fail("bind to device \(ifName)", errno) }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = in_port_t(DHCPv6.Destination.clientPort).bigEndian
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
        }
        if rc != 0 { throw fail("bind [::]:546 on \(ifName)", errno) }
        return fd
    }

    deinit { close(fd) }

    public func send(_ outgoing: DHCPv6.Outgoing) throws(ExchangeSocketError) {
        let target: IPAddress
        switch outgoing.destination {
        case .allServers: target = DHCPv6.Destination.allServersAddress
        case let .unicast(server): target = server
        }
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = in_port_t(DHCPv6.Destination.serverPort).bigEndian
        withUnsafeMutableBytes(of: &address.sin6_addr) { raw in for (i, b) in target.bytes.enumerated() { raw[i] = b } }
        address.sin6_scope_id = UInt32(bitPattern: ifIndex)   // link-scoped destinations need the interface
        let bytes = outgoing.bytes
        let sent = bytes.withUnsafeBytes { raw in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        }
        guard sent == bytes.count else {
            let code = errno
            throw ExchangeSocketError(description: "send DHCPv6 \(outgoing.message.type): \(String(cString: strerror(code)))",
                                      isGone: code == ENODEV || code == ENXIO)
        }
    }

    /// Every datagram waiting (non-blocking), as received.
    public func receiveAll() -> [[UInt8]] {
        var out: [[UInt8]] = []
        var buffer = [UInt8](repeating: 0, count: 2048)
        for _ in 0..<64 {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 { if errno == EINTR { continue }; break }
            out.append(Array(buffer[0..<n]))
        }
        return out
    }
}
