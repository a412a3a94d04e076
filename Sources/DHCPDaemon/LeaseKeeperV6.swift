import CNI
import DHCPService
import DHCPv6
import Glibc

/// The DHCPv6 side of a lease (IA_NA, when the network enables `dhcpv6`): started after the link-local address
/// passed DAD, driven by the DHCPv6 module's client, persisted in the same record as the DHCPv4 lease.
extension LeaseKeeper {
    static func milliseconds(_ seconds: Double) -> Int64 { Int64((seconds * 1000).rounded()) }

    /// ADD is answered when every enabled family has its lease.
    static func isComplete(_ lease: Lease) -> Bool {
        lease.record != nil && (lease.attachment.dhcpv6PrefixLength == nil || lease.record?.v6 != nil)
    }

    func answerIfComplete(_ lease: Lease) {
        guard Self.isComplete(lease), let record = lease.record else { return }
        let waiters = lease.waiters
        lease.waiters = []
        for waiter in waiters {
            do { waiter.reply(.result(try Self.resultJSON(record))) } catch { waiter.reply(.failure(error)) }
        }
    }

    func startV6(_ lease: Lease, resuming saved: DHCPv6.Lease?, now: Double) {
        let v6 = V6Exchange(client: DHCPv6.Client(identity: lease.attachment.dhcpv6Identity))
        lease.v6 = v6
        if let saved {
            v6.started = true
            DaemonLog.lease(lease.name, "DHCPv6: resuming \(saved.address)")
            performV6(v6.client.resume(saved, now: Self.milliseconds(now)), on: lease, now: now)
            if leases[lease.attachment.clientIdentifier] === lease, v6.client.state == .bound {
                v6.lifetimeCheckAt = now
            }
        } else {
            v6.dadCheckAt = now   // look at once; the link was just brought up
        }
    }

    func tickV6(_ lease: Lease, now: Double) {
        guard let v6 = lease.v6 else { return }
        if !v6.started, let at = v6.dadCheckAt, now >= at {
            switch ContainerLink.linkLocalReady(lease.attachment) {
            case .done(true):
                v6.started = true
                v6.dadCheckAt = nil
                DaemonLog.lease(lease.name, "DHCPv6: link-local address ready, soliciting")
                performV6(v6.client.start(now: Self.milliseconds(now)), on: lease, now: now)
            case .done(false), .failed:
                v6.dadCheckAt = now + 0.2
            case let .gone(why):
                DaemonLog.lease(lease.name, "dropped: \(why)")
                dropGone(lease, now: now)
                return
            }
        }
        if let at = v6.lifetimeCheckAt, now >= at { applyV6Lifetime(lease, now: now) }
        if let at = v6.client.nextDeadline, Self.milliseconds(now) >= at {
            performV6(v6.client.advance(now: Self.milliseconds(now)), on: lease, now: now)
        }
    }

    func performV6(_ step: DHCPv6.Step, on lease: Lease, now: Double) {
        guard let v6 = lease.v6 else { return }
        for outgoing in step.outgoing {
            guard leases[lease.attachment.clientIdentifier] === lease else { return }
            do {
                if v6.socket == nil {
                    v6.socket = try DHCPv6Socket(netns: lease.attachment.netns, expected: lease.attachment.identity,
                                                 ifName: lease.attachment.ifName, ifIndex: lease.attachment.linkIndex)
                }
                try v6.socket!.send(outgoing)
                DaemonLog.lease(lease.name, "DHCPv6 \(v6.client.state): sent \(outgoing.message.type)")
            } catch {
                if error.isGone {
                    DaemonLog.lease(lease.name, "dropped: \(error.description)")
                    dropGone(lease, now: now)
                    return
                }
                DaemonLog.lease(lease.name, "DHCPv6: sending \(outgoing.message.type) failed: \(error.description); will retry")
                v6.socket = nil
            }
        }
        for event in step.events { handleV6(event, on: lease, v6: v6, now: now) }
        if !v6.isExchanging { v6.socket = nil }
    }

    private func handleV6(_ event: DHCPv6.ClientEvent, on lease: Lease, v6: V6Exchange, now: Double) {
        switch event {
        case let .leaseObtained(granted), let .leaseExtended(granted):
            let extended: Bool
            if case .leaseExtended = event { extended = true } else { extended = false }
            DaemonLog.lease(lease.name, "DHCPv6: \(extended ? "renewed" : "bound") \(granted.address) "
                            + "(valid \(granted.validLifetime) s, T1 \(granted.t1) s, T2 \(granted.t2) s)")
            guard var record = lease.record else {
                // DHCPv4 not bound yet: the record (written when it is) takes this lease then.
                v6.pending = granted
                return
            }
            record.v6 = granted
            saveV6(record, lease: lease)
            answerIfComplete(lease)
            v6.lifetimeDelay = 0.2
            v6.lifetimeCheckAt = extended ? now : now + 0.2
        case let .leaseLost(lost, reason):
            DaemonLog.lease(lease.name, "DHCPv6: lost \(lost.address): \(reason); soliciting again")
            if var record = lease.record {
                record.v6 = nil
                record.v6LifetimeApplied = false
                saveV6(record, lease: lease)
            }
        case let .released(confirmed):
            DaemonLog.lease(lease.name, "DHCPv6: released\(confirmed ? "" : " (no reply)")")
        case let .declined(confirmed):
            DaemonLog.lease(lease.name, "DHCPv6: declined\(confirmed ? "" : " (no reply)")")
        case let .exchangeFailed(type, reason):
            DaemonLog.lease(lease.name, "DHCPv6: \(type) failed: \(reason)")
        case .ignored:
            break
        }
    }

    private func saveV6(_ record: LeaseRecord, lease: Lease) {
        lease.record = record
        do { try store.save(record) } catch {
            DaemonLog.lease(lease.name, "cannot write the lease record: \(error)")
        }
    }

    private func applyV6Lifetime(_ lease: Lease, now: Double) {
        guard let v6 = lease.v6, var record = lease.record, let granted = record.v6, let prefix = record.v6Prefix else {
            lease.v6?.lifetimeCheckAt = nil
            return
        }
        let ms = Self.milliseconds(now)
        switch ContainerLink.applyLifetime(record.attachment, address: prefix, valid: granted.remainingValidLifetime(at: ms),
                                           preferred: granted.remainingPreferredLifetime(at: ms), wasApplied: record.v6LifetimeApplied) {
        case let .done(.applied(seconds)):
            v6.lifetimeCheckAt = nil
            DaemonLog.lease(lease.name, "address \(prefix) lifetime set to \(seconds) s")
            if !record.v6LifetimeApplied {
                record.v6LifetimeApplied = true
                saveV6(record, lease: lease)
            }
        case .done(.notYetAdded), .failed:
            v6.lifetimeDelay = min(v6.lifetimeDelay * 2, 5)
            let next = now + v6.lifetimeDelay
            v6.lifetimeCheckAt = (granted.renewAt.map { Double($0) / 1000 } ?? .infinity) > next ? next : nil
        case let .gone(why):
            DaemonLog.lease(lease.name, "dropped: \(why)")
            dropGone(lease, now: now)
        }
    }
}
