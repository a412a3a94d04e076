import CMnl
import Glibc
import NetTypes

/// An rtnetlink socket bound to the network namespace that was current (for the calling thread) when it was
/// created; it keeps acting there whatever namespace the thread enters later. SOCK_CLOEXEC, extended acks on,
/// acks capped to the header. Every request carries NLM_F_ACK and a fresh sequence number, and only replies with
/// that sequence number and our port id are accepted (a reply left over from an interrupted request is skipped).
/// A receive interrupted by a signal throws `.interrupted` rather than retrying, so the caller can roll back.
public final class RouteSocket {
    private let socket: OpaquePointer
    private let portID: UInt32
    private var sequence: UInt32
    private let receiveBuffer: UnsafeMutableRawPointer
    // Large enough for any datagram the kernel builds for a dump (it caps them at 32 KiB + a page).
    private static let receiveBufferSize = 65536
    private static let receiveTimeoutSeconds = 30
    private static let dumpAttempts = 5

    public init() throws(NetlinkError) {
        guard let s = mnl_socket_open2(NETLINK_ROUTE, Int32(SOCK_CLOEXEC.rawValue)) else {
            throw NetlinkError(errno: errno, operation: "open rtnetlink socket")
        }
        var on: Int32 = 1
        // Extended acks carry the kernel's own explanation; capped acks keep error replies small. Both are
        // best-effort (old kernels lack them), so failures are ignored.
        _ = mnl_socket_setsockopt(s, K.optExtAck, &on, socklen_t(MemoryLayout<Int32>.size))
        _ = mnl_socket_setsockopt(s, K.optCapAck, &on, socklen_t(MemoryLayout<Int32>.size))
        // A bounded wait: the kernel always answers, but a wedged rtnl lock should not hang the plugin forever.
        var timeout = timeval(tv_sec: Self.receiveTimeoutSeconds, tv_usec: 0)
        _ = setsockopt(mnl_socket_get_fd(s), SOL_SOCKET, SO_RCVTIMEO, &timeout,
                       socklen_t(MemoryLayout<timeval>.size))
        guard mnl_socket_bind(s, 0, pid_t(MNL_SOCKET_AUTOPID)) == 0 else {
            let code = errno
            mnl_socket_close(s)
            throw NetlinkError(errno: code, operation: "bind rtnetlink socket")
        }
        socket = s
        portID = mnl_socket_get_portid(s)
        // Distinct starting points per socket make a misrouted reply easy to recognise.
        sequence = UInt32(truncatingIfNeeded: time(nil))
        receiveBuffer = UnsafeMutableRawPointer.allocate(byteCount: Self.receiveBufferSize, alignment: 16)
    }

    deinit {
        mnl_socket_close(socket)
        receiveBuffer.deallocate()
    }

    /// The socket's file descriptor (for poll or diagnostics); owned by the socket.
    public var fileDescriptor: Int32 { mnl_socket_get_fd(socket) }

    // MARK: links

    /// The link called `name`, or nil if there is none.
    public func link(named name: InterfaceName) throws(NetlinkError) -> LinkInfo? {
        let seq = nextSequence()
        return try lookup(RouteRequest.getLink(named: name, sequence: seq), sequence: seq,
                          operation: "look up link \(name)")
    }

    /// The link with this index, or nil if there is none.
    public func link(index: Int32) throws(NetlinkError) -> LinkInfo? {
        guard index > 0 else { return nil }
        let seq = nextSequence()
        return try lookup(RouteRequest.getLink(index: index, sequence: seq), sequence: seq,
                          operation: "look up link index \(index)")
    }

    public func allLinks() throws(NetlinkError) -> [LinkInfo] {
        try dump(operation: "list links") { seq in RouteRequest.dumpLinks(sequence: seq) }
            .compactMap(parseLinkMessage)
    }

    /// Creates the macvlan/macvtap child with one RTM_NEWLINK (NLM_F_CREATE|NLM_F_EXCL).
    public func createMacvlan(_ request: MacvlanRequest) throws(NetlinkError) {
        let seq = nextSequence()
        let operation = "create \(request.device.rawValue) link \(request.name) on parent index \(request.parentIndex)"
            + (request.namespaceFD != nil ? " in the target namespace" : "")
        try execute(RouteRequest.newMacvlan(request, sequence: seq), sequence: seq, operation: operation)
    }

    public func deleteLink(index: Int32) throws(NetlinkError) {
        let seq = nextSequence()
        try execute(RouteRequest.deleteLink(index: index, sequence: seq), sequence: seq,
                    operation: "delete link index \(index)")
    }

    /// Renames a link that is down; with `up`, also brings it up in the same message.
    public func renameLink(index: Int32, to name: InterfaceName, up: Bool = false) throws(NetlinkError) {
        let seq = nextSequence()
        try execute(RouteRequest.renameLink(index: index, to: name, up: up, sequence: seq), sequence: seq,
                    operation: "rename link index \(index) to \(name)\(up ? " and bring it up" : "")")
    }

    public func setAlias(index: Int32, _ alias: String) throws(NetlinkError) {
        let seq = nextSequence()
        try execute(RouteRequest.setAlias(index: index, alias, sequence: seq), sequence: seq,
                    operation: "set the alias of link index \(index)")
    }

    /// One RTM_SETLINK: move, rename, MAC, MTU, promiscuity, up/down (LinkChange).
    public func changeLink(_ change: LinkChange) throws(NetlinkError) {
        let seq = nextSequence()
        try execute(RouteRequest.changeLink(change, sequence: seq), sequence: seq,
                    operation: "change link index \(change.index): \(change.summary)")
    }

    public func setLinkUp(index: Int32) throws(NetlinkError) {
        let seq = nextSequence()
        try execute(RouteRequest.setLinkUp(index: index, true, sequence: seq), sequence: seq,
                    operation: "set link index \(index) up")
    }

    public func setLinkDown(index: Int32) throws(NetlinkError) {
        let seq = nextSequence()
        try execute(RouteRequest.setLinkUp(index: index, false, sequence: seq), sequence: seq,
                    operation: "set link index \(index) down")
    }

    // MARK: addresses

    /// Adds an address (IFA_LOCAL + IFA_ADDRESS, IPv4 with `brd +`). EEXIST when it is already there.
    public func addAddress(_ prefix: IPPrefix, index: Int32, flags: AddressFlags) throws(NetlinkError) {
        let seq = nextSequence()
        try execute(RouteRequest.newAddress(prefix, index: index, flags: flags, sequence: seq), sequence: seq,
                    operation: "add address \(prefix) to link index \(index)")
    }

    /// Sets an address's lifetimes (adding it when absent); see RouteRequest.setAddressLifetime.
    public func setAddressLifetime(_ prefix: IPPrefix, index: Int32, valid: UInt32, preferred: UInt32) throws(NetlinkError) {
        let seq = nextSequence()
        try execute(RouteRequest.setAddressLifetime(prefix, index: index, valid: valid, preferred: preferred, sequence: seq),
                    sequence: seq, operation: "set lifetime of \(prefix) on link index \(index)")
    }

    /// Addresses of both families, of one link when `index` is given.
    public func addresses(index: Int32?) throws(NetlinkError) -> [AddressInfo] {
        let all = try dump(operation: "list addresses") { seq in
            RouteRequest.dumpAddresses(family: nil, sequence: seq)
        }.compactMap(parseAddressMessage)
        guard let index else { return all }
        return all.filter { $0.index == index }
    }

    // MARK: routes

    /// Adds a route (NLM_F_CREATE|NLM_F_EXCL). EEXIST when an identical one is there.
    public func addRoute(_ route: RouteSpec) throws(NetlinkError) {
        let seq = nextSequence()
        var operation = "add route \(route.destination.network)"
        if let gateway = route.gateway { operation += " via \(gateway)" }
        operation += " dev index \(route.outputIndex)"
        try execute(RouteRequest.newRoute(route, sequence: seq), sequence: seq, operation: operation)
    }

    /// Deletes the route `route` describes (see RouteRequest.deleteRoute). `.notFound` when there is none.
    public func deleteRoute(_ route: RouteSpec) throws(NetlinkError) {
        let seq = nextSequence()
        try execute(RouteRequest.deleteRoute(route, sequence: seq), sequence: seq,
                    operation: "delete route \(route.destination.network) dev index \(route.outputIndex)")
    }

    /// Routes of every table, of one family or all.
    public func routes(family: IPFamily?) throws(NetlinkError) -> [RouteInfo] {
        let all = try dump(operation: "list routes") { seq in
            RouteRequest.dumpRoutes(family: family, sequence: seq)
        }.compactMap(parseRouteMessage)
        guard let family else { return all }
        return all.filter { $0.destination.family == family }
    }

    /// Interface index of the main table's default route with the lowest metric: IPv4 first, IPv6 if there
    /// is no IPv4 default route; nil if neither exists.
    public func defaultRouteInterface() throws(NetlinkError) -> Int32? {
        for family in [IPFamily.v4, .v6] {
            let candidates = try routes(family: family).filter {
                $0.destination.prefixLength == 0 && $0.table == RouteTable.main && $0.type == RouteType.unicast
                    && $0.outputIndex != nil
            }
            // min(by:) keeps the first of equal metrics, i.e. the kernel's order.
            if let best = candidates.min(by: { $0.priority < $1.priority }) { return best.outputIndex }
        }
        return nil
    }

    // MARK: exchange

    private func nextSequence() -> UInt32 {
        sequence &+= 1
        if sequence == 0 { sequence = 1 }   // 0 would disable sequence matching
        return sequence
    }

    /// A request answered by an ack or an error.
    private func execute(_ request: [UInt8], sequence seq: UInt32, operation: String) throws(NetlinkError) {
        _ = try exchange(request, sequence: seq, operation: operation)
    }

    /// A GET of one object: ENODEV/ENOENT (no such link) become nil.
    private func lookup(_ request: [UInt8], sequence seq: UInt32, operation: String) throws(NetlinkError)
        -> LinkInfo? {
        do {
            return try exchange(request, sequence: seq, operation: operation).lazy.compactMap(parseLinkMessage).first
        } catch where error.kind == .notFound {
            return nil
        }
    }

    /// A dump, repeated when the kernel flags it inconsistent (NLM_F_DUMP_INTR: the set changed meanwhile).
    private func dump(operation: String, _ build: (UInt32) -> [UInt8]) throws(NetlinkError) -> [[UInt8]] {
        var attempt = 1
        while true {
            let seq = nextSequence()
            do {
                return try exchange(build(seq), sequence: seq, operation: operation)
            } catch where error.errno == EAGAIN && error.kind == .other && attempt < Self.dumpAttempts {
                attempt += 1
            }
        }
    }

    /// Sends one request and collects its data messages until the ack, error or NLMSG_DONE.
    private func exchange(_ request: [UInt8], sequence seq: UInt32, operation: String) throws(NetlinkError)
        -> [[UInt8]] {
        let sent = request.withUnsafeBytes { mnl_socket_sendto(socket, $0.baseAddress, $0.count) }
        guard sent == request.count else {
            throw NetlinkError(errno: sent < 0 ? errno : EIO, operation: operation)
        }
        var messages: [[UInt8]] = []
        // Bounded: each round either ends the exchange or consumes a datagram, and the receive timeout bounds
        // the wait for each one.
        while true {
            let received = mnl_socket_recvfrom(socket, receiveBuffer, Self.receiveBufferSize)
            if received < 0 {
                let code = errno
                if code == EAGAIN || code == EWOULDBLOCK {
                    throw NetlinkError(kind: .busy, errno: ETIMEDOUT, operation: operation,
                                       kernelMessage: "no reply within \(Self.receiveTimeoutSeconds) s")
                }
                throw NetlinkError(errno: code, operation: operation)
            }
            let datagram = Array(UnsafeRawBufferPointer(start: receiveBuffer, count: received))
            // Each datagram answers one request: one with another sequence number is a leftover of an earlier,
            // interrupted exchange (possibly a dump flagged NLM_F_DUMP_INTR), and is dropped whole.
            if received >= MemoryLayout<nlmsghdr>.size,
               receiveBuffer.loadUnaligned(as: nlmsghdr.self).nlmsg_seq != seq { continue }
            let batch = parseReplies(datagram, sequence: seq, portID: portID)
            messages += batch.messages
            switch batch.completion {
            case nil:
                continue
            case .ack?, .done?:
                return messages
            case let .error(code, message)?:
                throw NetlinkError(errno: code, operation: operation, kernelMessage: message)
            case let .malformed(code)?:
                if batch.messages.isEmpty && batch.foreignMessages > 0 { continue }  // someone else's leftovers
                throw NetlinkError(kind: .other, errno: code, operation: operation,
                                   kernelMessage: code == EAGAIN ? "dump interrupted by a concurrent change"
                                                                 : "malformed netlink reply")
            }
        }
    }
}
