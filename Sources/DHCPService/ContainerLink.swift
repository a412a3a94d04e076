import DHCPv4
import DHCPv6
import Namespace
import Netlink
import NetTypes

/// What the daemon and the plugin do to a container's interface over rtnetlink: find it, and give the leased
/// address the lease's lifetime. Each call enters the namespace only to open a netlink socket there, and the
/// socket is closed before returning: nothing refers to the namespace between calls.
public enum ContainerLink {
    public enum Outcome<T> {
        case done(T)
        /// The namespace or the interface no longer exists (or is another one now): the lease is orphaned.
        case gone(String)
        case failed(String)
    }

    static func withRouteSocket<T>(netns path: String, expected: NamespaceIdentity?,
                                   _ body: (RouteSocket) throws(NetlinkError) -> Outcome<T>) -> Outcome<T> {
        let namespace: NetworkNamespace
        do {
            namespace = try NetworkNamespace(path: path)
        } catch {
            if case .notFound = error { return .gone("namespace \(path) is gone") }
            return .failed(error.description)
        }
        if let expected, namespace.identity != expected { return .gone("\(path) is now another namespace than the lease's") }
        let socket: RouteSocket
        do {
            socket = try namespace.withEntered { () throws(NetlinkError) -> RouteSocket in try RouteSocket() }.get()
        } catch {
            return .failed("\(error)")
        }
        do {
            return try body(socket)
        } catch {
            return .failed(error.description)
        }
    }

    /// The interface's index and MAC, looked up by name; `bringUp` sets it up when it is down (main plugins
    /// bring the link up only after IPAM, and DHCP needs it up to talk).
    public static func lookup(netns: String, expected: NamespaceIdentity?, ifName: String,
                              bringUp: Bool) -> Outcome<(index: Int32, mac: MACAddress, identity: NamespaceIdentity)> {
        let identity: NamespaceIdentity
        do { identity = try NetworkNamespace(path: netns).identity } catch {
            if case .notFound = error { return .gone("namespace \(netns) is gone") }
            return .failed(error.description)
        }
        return withRouteSocket(netns: netns, expected: expected ?? identity) { socket throws(NetlinkError) in
            guard let link = try socket.link(namedText: ifName) else { return .gone("interface \(ifName) is gone from \(netns)") }
            guard let mac = link.mac else { return .failed("interface \(ifName) has no Ethernet address") }
            if bringUp && !link.isUp { try socket.setLinkUp(index: link.index) }
            return .done((link.index, mac, identity))
        }
    }

    /// Whether the record's interface is still there: same namespace, same index, same MAC.
    public static func check(_ record: LeaseRecord) -> Outcome<Void> {
        withRouteSocket(netns: record.netns, expected: record.identity) { socket throws(NetlinkError) in
            guard let link = try socket.link(namedText: record.ifName), link.index == record.linkIndex, link.mac == record.mac else {
                return .gone("interface \(record.ifName) (index \(record.linkIndex), \(record.mac)) is gone from \(record.netns)")
            }
            return .done(())
        }
    }

    public enum Lifetime: Equatable { case applied(seconds: UInt32), notYetAdded }

    /// Sets a leased address's valid and preferred lifetimes (seconds left of the lease). Before the main
    /// plugin has added the address (right after ADD) this reports `notYetAdded` and changes nothing; once a
    /// lifetime was applied (`wasApplied`), an address the kernel already expired is added back (the server
    /// granted it again).
    public static func applyLifetime(_ attachment: Attachment, address: IPPrefix, valid: UInt32, preferred: UInt32,
                                     wasApplied: Bool) -> Outcome<Lifetime> {
        withRouteSocket(netns: attachment.netns, expected: attachment.identity) { socket throws(NetlinkError) in
            guard let link = try socket.link(namedText: attachment.ifName), link.index == attachment.linkIndex, link.mac == attachment.mac else {
                return .gone("interface \(attachment.ifName) is gone from \(attachment.netns)")
            }
            let present = try socket.addresses(index: link.index).contains { $0.prefix.address == address.address }
            if !present && !wasApplied { return .done(.notYetAdded) }
            try socket.setAddressLifetime(address, index: link.index, valid: max(valid, 1), preferred: min(preferred, max(valid, 1)))
            return .done(.applied(seconds: max(valid, 1)))
        }
    }

    /// Whether the interface's IPv6 link-local address has finished duplicate address detection (DHCPv6 is
    /// sent from it).
    public static func linkLocalReady(_ attachment: Attachment) -> Outcome<Bool> {
        withRouteSocket(netns: attachment.netns, expected: attachment.identity) { socket throws(NetlinkError) in
            guard let link = try socket.link(namedText: attachment.ifName), link.index == attachment.linkIndex else {
                return .gone("interface \(attachment.ifName) is gone from \(attachment.netns)")
            }
            let ready = try socket.addresses(index: link.index).contains {
                !$0.prefix.address.isIPv4 && $0.prefix.address.bytes.prefix(2) == [0xFE, 0x80] && !$0.isTentative && !$0.isDADFailed
            }
            return .done(ready)
        }
    }
}

extension Attachment {
    public var identity: NamespaceIdentity { NamespaceIdentity(device: netnsDevice, inode: netnsInode) }
}

/// RELEASE for a kept lease, sent once from the leased address to the server (RFC 2131 section 4.4.6: no
/// reply comes). Used by the daemon on DEL/GC and by the plugin when the daemon is down.
public enum LeaseRelease {
    public static func send(_ record: LeaseRecord, now: Double) -> Result<Void, ExchangeSocketError> {
        let v6 = sendV6(record, now: now)
        let v4 = sendV4(record, now: now)
        if case .failure = v4 { return v4 }
        return v6
    }

    /// DHCPv6 RELEASE from the link-local address, sent once (the REPLY it asks for is not waited for).
    static func sendV6(_ record: LeaseRecord, now: Double) -> Result<Void, ExchangeSocketError> {
        guard let lease = record.v6 else { return .success(()) }
        var client = DHCPv6.Client(identity: record.attachment.dhcpv6Identity)
        let ms = Int64(now * 1000)
        _ = client.resume(lease, now: ms)
        guard let release = client.release(now: ms).outgoing.first(where: { $0.message.type == .release }) else {
            return .success(())   // nothing held any more (expired)
        }
        do {
            let socket = try DHCPv6Socket(netns: record.netns, expected: record.identity, ifName: record.ifName,
                                          ifIndex: record.linkIndex)
            try socket.send(release)
            return .success(())
        } catch {
            return .failure(error)
        }
    }

    static func sendV4(_ record: LeaseRecord, now: Double) -> Result<Void, ExchangeSocketError> {
        var client = DHCPv4Client(identity: DHCPv4Client.Identity(clientIdentifier: record.clientIdentifier,
                                                                   hardwareAddress: record.mac.bytes,
                                                                   requestedOptions: [], providedOptions: []))
        _ = client.resume(record.binding, now: now)
        guard let release = client.stop() else {
            return .failure(DHCPv4Socket.SocketError(description: "the lease expired at \(record.binding.expiresAt); nothing to release", isGone: false))
        }
        do {
            let socket = try DHCPv4Socket(netns: record.netns, expected: record.identity, ifName: record.ifName,
                                          source: record.binding.lease.address.address)
            try socket.send(release)
            return .success(())
        } catch {
            return .failure(error)
        }
    }
}
