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
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = in_port_t(DHCPv6.Destination.clientPort).bigEndian
        return try DHCPv4Socket.boundSocket(family: AF_INET6, ifName: ifName, address: &address, describe: "[::]:546") { fd in
            var on: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &on, socklen_t(MemoryLayout<Int32>.size))
            var index = ifIndex
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_MULTICAST_IF, &index, socklen_t(MemoryLayout<Int32>.size))
        }
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
        try DHCPv4Socket.send(outgoing.bytes, fd: fd, to: &address, what: "DHCPv6 \(outgoing.message.type)")
    }

    /// Every datagram waiting (non-blocking), as received.
    public func receiveAll() -> [[UInt8]] { DHCPv4Socket.receiveAll(fd: fd, capacity: 2048) }
}
