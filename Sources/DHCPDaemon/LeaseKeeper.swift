import CNI
import DHCPService
import DHCPv4
import DHCPv6
import Glibc
import JSON
import Namespace
import NetTypes

/// Every lease the daemon keeps, each driven by its own RFC 2131 state machine, all in one thread: the event
/// loop tells the keeper when a socket is readable and when a deadline passes. A lease opens its exchange
/// socket (inside the container's namespace) when an exchange starts and closes it when the exchange ends, so
/// between renewals nothing of ours refers to the namespace.
final class LeaseKeeper {
    final class Lease {
        var attachment: Attachment
        var client: DHCPv4Client
        var record: LeaseRecord?
        var socket: DHCPv4Socket?
        var socketSource: IPAddress?
        /// ADD requests waiting for this lease, each with its own deadline.
        var waiters: [(deadline: Double, reply: (ControlReply) -> Void)] = []
        var lifetimeCheckAt: Double?
        var lifetimeDelay = 0.2
        var nextLivenessCheck: Double
        /// The DHCPv6 side, when the network enables it.
        var v6: V6Exchange?

        init(attachment: Attachment, client: DHCPv4Client, now: Double) {
            self.attachment = attachment
            self.client = client
            nextLivenessCheck = now + LeaseKeeper.livenessInterval
        }
        var name: String { attachment.clientIDText }
    }

    private(set) var leases: [[UInt8]: Lease] = [:]

    /// A lease's DHCPv6 client, started once the link-local address has passed DAD.
    final class V6Exchange {
        var client: DHCPv6.Client
        var socket: DHCPv6Socket?
        var started = false
        var dadCheckAt: Double?
        var lifetimeCheckAt: Double?
        var lifetimeDelay = 0.2
        /// A v6 lease granted before the DHCPv4 one (no record to hold it yet).
        var pending: DHCPv6.Lease?
        init(client: DHCPv6.Client) { self.client = client }
        var isExchanging: Bool { ![.idle, .bound, .released].contains(client.state) }
    }
    let store: LeaseStore
    let options: DaemonOptions
    /// How often a bound lease checks that its namespace and interface still exist (renewals check too).
    static let livenessInterval: Double = 30

    init(store: LeaseStore, options: DaemonOptions) {
        self.store = store
        self.options = options
    }

    private func newClient(for attachment: Attachment) -> DHCPv4Client {
        DHCPv4Client(identity: DHCPv4Client.Identity(clientIdentifier: attachment.clientIdentifier,
                                                             hardwareAddress: attachment.mac.bytes,
                                                             requestedOptions: attachment.requestedOptions,
                                                             providedOptions: attachment.providedOptions),
                            backoff: DHCPv4Client.Backoff(initial: 2, maximum: options.resendMax),
                            broadcastReplies: true)
    }

    // MARK: resuming

    /// Picks up every lease on disk: drops those whose namespace or interface is gone, resumes the others in
    /// the state their times say (renew, rebind, or ask for the same address again).
    func resumeAll(now: Double) {
        let loaded: (records: [LeaseRecord], problems: [String])
        do { loaded = try store.loadAll() } catch {
            DaemonLog.line("cannot read the lease directory: \(error)")
            return
        }
        for problem in loaded.problems { DaemonLog.line("skipping an unreadable lease record: \(problem)") }
        for record in loaded.records {
            switch ContainerLink.check(record) {
            case let .gone(why):
                DaemonLog.lease(record.clientIDText, "dropped on start: \(why)")
                try? store.remove(clientID: record.clientIdentifier)
                continue
            case let .failed(why):
                DaemonLog.lease(record.clientIDText, "could not check the interface (\(why)); resuming anyway")
            case .done:
                break
            }
            let lease = Lease(attachment: record.attachment, client: newClient(for: record.attachment), now: now)
            lease.record = record
            leases[record.clientIdentifier] = lease
            let actions = lease.client.resume(record.binding, now: now)
            DaemonLog.lease(lease.name, "resumed \(record.binding.lease.address) in state \(lease.client.state.rawValue) "
                            + "(renew at \(Self.stamp(record.binding.renewAt)), expires \(Self.stamp(record.binding.expiresAt)))")
            if lease.client.state == .bound { scheduleLifetime(lease, now: now, delay: 0) }
            perform(actions, on: lease, now: now)
            if leases[record.clientIdentifier] === lease, record.dhcpv6PrefixLength != nil { startV6(lease, resuming: record.v6, now: now) }
        }
    }

    // MARK: requests

    func handle(_ request: ControlRequest, now: Double, reply: @escaping (ControlReply) -> Void) {
        do {
            switch request.command {
            case .add: try add(request, now: now, reply: reply); return
            case .del: try delete(request, now: now)
            case .check: try check(request)
            case .gc: try garbageCollect(request, now: now)
            case .status, .version: break
            }
            reply(.ok)
        } catch {
            reply(.failure(error))
        }
    }

    private func identify(_ request: ControlRequest) throws(CNIError) -> (config: DHCPConfig, network: String, clientID: [UInt8]) {
        let config = try DHCPConfig(network: request.config)
        guard let network = request.config["name"]?.stringValue, !network.isEmpty else {
            throw CNIError(.invalidConfig, "the network config has no \"name\"")
        }
        return (config, network, ClientIdentifier.option(containerID: request.containerID, network: network, ifName: request.ifName))
    }

    private func add(_ request: ControlRequest, now: Double, reply: @escaping (ControlReply) -> Void) throws(CNIError) {
        let (config, network, clientID) = try identify(request)
        let deadline = now + (config.timeout ?? options.timeout)
        if let existing = leases[clientID] {
            if let record = existing.record, existing.client.state != .rebooting, Self.isComplete(existing) {
                DaemonLog.lease(existing.name, "ADD for a lease already held: \(record.binding.lease.address)")
                reply(.result(try Self.resultJSON(record)))
            } else {
                existing.waiters.append((deadline, reply))
            }
            return
        }
        let netns = options.hostPrefix + request.netns
        let found: (index: Int32, mac: MACAddress, identity: NamespaceIdentity)
        switch ContainerLink.lookup(netns: netns, expected: nil, ifName: request.ifName, bringUp: true) {
        case let .done(link): found = link
        case let .gone(why), let .failed(why):
            throw CNIError(.ioFailure, "DHCP: cannot use \(request.ifName) in \(netns): \(why)")
        }
        let attachment = Attachment(containerID: request.containerID, network: network, ifName: request.ifName, netns: netns,
                                    netnsDevice: found.identity.device, netnsInode: found.identity.inode,
                                    linkIndex: found.index, mac: found.mac, requestedOptions: config.requestedOptions,
                                    providedOptions: request.provided, priority: config.priority,
                                    dhcpv6PrefixLength: config.dhcpv6Enabled ? config.dhcpv6PrefixLength : nil)
        let lease = Lease(attachment: attachment, client: newClient(for: attachment), now: now)
        lease.waiters.append((deadline, reply))
        leases[clientID] = lease
        DaemonLog.lease(lease.name, "acquiring a lease on \(request.ifName) (\(found.mac)) in \(netns), up to \(Int(deadline - now)) s")
        perform(lease.client.acquire(now: now), on: lease, now: now)
        if leases[clientID] === lease, attachment.dhcpv6PrefixLength != nil { startV6(lease, resuming: nil, now: now) }
    }

    private func delete(_ request: ControlRequest, now: Double) throws(CNIError) {
        let (_, _, clientID) = try identify(request)
        if let lease = leases[clientID] {
            finish(lease, now: now, release: true, why: "DEL")
            return
        }
        // Not held (the daemon had dropped it, or never had it): a record left on disk is still released.
        if let record = try? store.load(clientID: clientID) {
            releaseRecord(record, now: now, why: "DEL")
        }
    }

    private func check(_ request: ControlRequest) throws(CNIError) {
        let (_, _, clientID) = try identify(request)
        guard let lease = leases[clientID], lease.record != nil else {
            throw CNIError(.unknownContainer, "DHCP: no lease held for \(String(decoding: clientID.dropFirst(), as: UTF8.self))")
        }
        guard [.bound, .renewing, .rebinding].contains(lease.client.state) else {
            throw CNIError(.tryAgainLater, "DHCP: the lease of \(lease.name) is in state \(lease.client.state.rawValue)")
        }
    }

    /// Releases the leases of this network whose attachment the runtime no longer lists.
    private func garbageCollect(_ request: ControlRequest, now: Double) throws(CNIError) {
        guard let network = request.config["name"]?.stringValue else { throw CNIError(.invalidConfig, "the network config has no \"name\"") }
        let valid = request.validAttachments
        for lease in Array(leases.values) where lease.attachment.network == network {
            if valid.contains(where: { $0.containerID == lease.attachment.containerID && $0.ifName == lease.attachment.ifName }) { continue }
            finish(lease, now: now, release: true, why: "GC (attachment not in cni.dev/valid-attachments)")
        }
    }

    static func resultJSON(_ record: LeaseRecord) throws(CNIError) -> JSONValue {
        try record.result().json(version: .latest)
    }

    // MARK: events

    var pollFDs: [(fd: Int32, key: [UInt8])] {
        leases.flatMap { key, lease in [lease.socket?.fd, lease.v6?.socket?.fd].compactMap { $0.map { ($0, key) } } }
    }

    func readable(fd: Int32, key: [UInt8], now: Double) {
        guard let lease = leases[key] else { return }
        if let socket = lease.socket, socket.fd == fd {
            for message in socket.receiveAll() {
                perform(lease.client.receive(message, now: now), on: lease, now: now)
                if leases[key] == nil { return }
            }
        } else if let v6 = lease.v6, let socket = v6.socket, socket.fd == fd {
            for packet in socket.receiveAll() {
                performV6(v6.client.receive(packet, now: Self.milliseconds(now)), on: lease, now: now)
                if leases[key] == nil { return }
            }
        }
    }

    var nextDeadline: Double? {
        leases.values.flatMap { lease in
            [lease.client.nextDeadline, lease.lifetimeCheckAt, lease.waiters.map(\.deadline).min(),
             lease.record != nil ? lease.nextLivenessCheck : nil,
             lease.v6?.client.nextDeadline.map { Double($0) / 1000 }, lease.v6?.dadCheckAt, lease.v6?.lifetimeCheckAt].compactMap { $0 }
        }.min()
    }

    func tick(now: Double) {
        for lease in Array(leases.values) {
            expireWaiters(lease, now: now)
            guard leases[lease.attachment.clientIdentifier] === lease else { continue }
            if lease.record != nil, now >= lease.nextLivenessCheck || (lease.client.state == .bound && now >= (lease.client.nextDeadline ?? .infinity)) {
                lease.nextLivenessCheck = now + Self.livenessInterval
                if case let .gone(why) = ContainerLink.check(lease.record!) {
                    DaemonLog.lease(lease.name, "dropped: \(why); no more renewals")
                    finish(lease, now: now, release: false, why: "gone")
                    continue
                }
            }
            if let at = lease.lifetimeCheckAt, now >= at { applyLifetime(lease, now: now) }
            if let at = lease.client.nextDeadline, now >= at { perform(lease.client.tick(now: now), on: lease, now: now) }
            if leases[lease.attachment.clientIdentifier] === lease, lease.v6 != nil { tickV6(lease, now: now) }
        }
    }

    private func expireWaiters(_ lease: Lease, now: Double) {
        let due = lease.waiters.filter { now >= $0.deadline }
        guard !due.isEmpty else { return }
        lease.waiters.removeAll { now >= $0.deadline }
        let error = CNIError(.tryAgainLater, "DHCP: no lease for \(lease.attachment.ifName) from any server in time",
                             details: "no DHCP server answered on \(lease.attachment.ifName) (\(lease.attachment.mac)); "
                                 + "check that a server is reachable from the master's network, or raise \"timeout\"")
        for waiter in due { waiter.reply(.failure(error)) }
        if lease.record == nil && lease.waiters.isEmpty {
            DaemonLog.lease(lease.name, "gave up: no DHCP server answered in time")
            finish(lease, now: now, release: false, why: "timeout")
        }
    }

    private func perform(_ actions: [DHCPv4Client.Action], on lease: Lease, now: Double) {
        for action in actions {
            guard leases[lease.attachment.clientIdentifier] === lease else { return }
            switch action {
            case let .send(outgoing): send(outgoing, on: lease, now: now)
            case let .event(event): handle(event, on: lease, now: now)
            }
        }
        // Exchange over: close the socket (and with it our last reference to the namespace).
        if !lease.client.isExchanging { lease.socket = nil; lease.socketSource = nil }
    }

    private func send(_ outgoing: DHCPv4Client.Outgoing, on lease: Lease, now: Double) {
        let type = outgoing.message.messageType.map { "\($0)".uppercased() } ?? "?"
        // Renewing and rebinding speak from the leased address; acquiring speaks from 0.0.0.0.
        let source: IPAddress? = [.renewing, .rebinding].contains(lease.client.state) ? lease.record?.binding.lease.address.address : nil
        do {
            if lease.socket == nil || lease.socketSource != source {
                lease.socket = nil
                lease.socket = try DHCPv4Socket(netns: lease.attachment.netns, expected: lease.attachment.identity,
                                                ifName: lease.attachment.ifName, source: source)
                lease.socketSource = source
            }
            try lease.socket!.send(outgoing)
            let to: String = switch outgoing.destination { case .broadcast: "broadcast"; case let .server(s): "\(s)" }
            DaemonLog.lease(lease.name, "\(lease.client.state.rawValue): sent \(type) to \(to)")
        } catch {
            if error.isGone {
                DaemonLog.lease(lease.name, "dropped: \(error.description); no more renewals")
                finish(lease, now: now, release: false, why: "gone")
            } else {
                // Left to the retransmission timer: a transient failure (link briefly down, address not yet there).
                DaemonLog.lease(lease.name, "\(lease.client.state.rawValue): sending \(type) failed: \(error.description); will retry")
                lease.socket = nil
            }
        }
    }

    private func handle(_ event: DHCPv4Client.Event, on lease: Lease, now: Double) {
        switch event {
        case let .bound(binding, previous):
            let first = lease.record == nil
            var record = LeaseRecord(attachment: lease.attachment, binding: binding, lifetimeApplied: lease.record?.lifetimeApplied ?? false)
            record.v6 = lease.record?.v6 ?? lease.v6?.pending
            record.v6LifetimeApplied = lease.record?.v6LifetimeApplied ?? false
            if lease.v6?.pending != nil { lease.v6?.pending = nil; lease.v6?.lifetimeCheckAt = now + 0.2 }
            do {
                try store.save(record)
            } catch {
                DaemonLog.lease(lease.name, "cannot write the lease record: \(error); releasing it")
                lease.record = record
                failWaiters(lease, CNIError(.ioFailure, "DHCP: cannot write the lease record: \(error)"))
                finish(lease, now: now, release: true, why: "unrecordable")
                return
            }
            lease.record = record
            let l = binding.lease
            let verb = first ? "bound" : previous == .renewing ? "renewed" : previous == .rebinding ? "rebound" : "re-acquired"
            DaemonLog.lease(lease.name, "\(verb) \(l.address) from \(l.serverIdentifier) for \(l.leaseSeconds) s "
                            + "(renew at \(Self.stamp(binding.renewAt)), rebind at \(Self.stamp(binding.rebindAt)))")
            answerIfComplete(lease)
            // The main plugin adds the address after our answer: look for it shortly; on renewals it is there.
            scheduleLifetime(lease, now: now, delay: first ? 0.2 : 0)
            if !first { applyLifetime(lease, now: now) }
        case .expired:
            DaemonLog.lease(lease.name, "expired without renewal; asking for \(lease.record?.binding.lease.address.description ?? "?") again")
        case let .lost(reason):
            DaemonLog.lease(lease.name, "lost: \(reason)")
            failWaiters(lease, CNIError(.tryAgainLater, "DHCP: \(reason)"))
            finish(lease, now: now, release: false, why: "lost")
        }
    }

    private func failWaiters(_ lease: Lease, _ error: CNIError) {
        let waiters = lease.waiters
        lease.waiters = []
        for waiter in waiters { waiter.reply(.failure(error)) }
    }

    private func scheduleLifetime(_ lease: Lease, now: Double, delay: Double) {
        lease.lifetimeDelay = max(delay, 0.2)
        lease.lifetimeCheckAt = now + delay
    }

    /// Gives the kernel address the lease's remaining lifetime; retried with a growing delay until the main
    /// plugin has added the address (or the next renewal, which tries again).
    private func applyLifetime(_ lease: Lease, now: Double) {
        guard var record = lease.record else { lease.lifetimeCheckAt = nil; return }
        let remaining = record.binding.expiresAt - now
        let seconds: UInt32 = remaining.isInfinite ? DHCPv4Lease.infinite : UInt32(clamping: Int64(max(1, remaining.rounded(.up))))
        switch ContainerLink.applyLifetime(record.attachment, address: record.binding.lease.address, valid: seconds,
                                           preferred: seconds, wasApplied: record.lifetimeApplied) {
        case let .done(.applied(seconds)):
            lease.lifetimeCheckAt = nil
            DaemonLog.lease(lease.name, "address \(record.binding.lease.address) lifetime set to \(seconds) s")
            if !record.lifetimeApplied {
                record.lifetimeApplied = true
                lease.record = record
                try? store.save(record)
            }
        case .done(.notYetAdded):
            lease.lifetimeDelay = min(lease.lifetimeDelay * 2, 5)
            let next = now + lease.lifetimeDelay
            lease.lifetimeCheckAt = next < record.binding.renewAt ? next : nil
        case let .gone(why):
            DaemonLog.lease(lease.name, "dropped: \(why); no more renewals")
            finish(lease, now: now, release: false, why: "gone")
        case let .failed(why):
            DaemonLog.lease(lease.name, "setting the address lifetime failed: \(why)")
            lease.lifetimeDelay = min(lease.lifetimeDelay * 2, 5)
            lease.lifetimeCheckAt = now + lease.lifetimeDelay
        }
    }

    /// A lease whose namespace or interface disappeared: forgotten without RELEASE (nothing left to send from).
    func dropGone(_ lease: Lease, now: Double) {
        finish(lease, now: now, release: false, why: "gone")
    }

    /// Ends a lease: RELEASE from the leased address when asked (and possible), record removed, socket closed.
    private func finish(_ lease: Lease, now: Double, release: Bool, why: String) {
        lease.socket = nil
        lease.v6?.socket = nil
        leases[lease.attachment.clientIdentifier] = nil
        failWaiters(lease, CNIError(.tryAgainLater, "DHCP: the lease ended (\(why)) before it was granted"))
        if release, let record = lease.record {
            releaseRecord(record, now: now, why: why)
        } else {
            do { try store.remove(clientID: lease.attachment.clientIdentifier) } catch {
                DaemonLog.lease(lease.name, "cannot remove the lease record: \(error)")
            }
        }
    }

    private func releaseRecord(_ record: LeaseRecord, now: Double, why: String) {
        switch LeaseRelease.send(record, now: now) {
        case .success:
            DaemonLog.lease(record.clientIDText, "released \(record.binding.lease.address)\(record.v6.map { " and \($0.address)" } ?? "") "
                            + "to \(record.binding.lease.serverIdentifier) (\(why))")
        case let .failure(error):
            DaemonLog.lease(record.clientIDText, "forgot \(record.binding.lease.address) without RELEASE (\(why)): \(error.description)")
        }
        do { try store.remove(clientID: record.clientIdentifier) } catch {
            DaemonLog.lease(record.clientIDText, "cannot remove the lease record: \(error)")
        }
    }

    /// Shutdown: leases stay on disk (the next daemon resumes them); sockets close.
    func closeAll() {
        for lease in leases.values { lease.socket = nil; lease.v6?.socket = nil }
    }

    static func stamp(_ t: Double) -> String {
        guard t.isFinite else { return "never" }
        var seconds = time_t(t)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
}
