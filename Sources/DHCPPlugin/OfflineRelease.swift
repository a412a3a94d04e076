import CNI
import DHCPService
import DHCPv4
import Glibc

/// DEL and GC without the daemon: the lease records on disk say what to release. RELEASE goes from the leased
/// address (when the namespace still exists), the record is removed, and the next daemon finds nothing to
/// resume. A DEL must succeed whatever is left (spec), so failures to send are reported on stderr only.
struct OfflineRelease {
    let config: DHCPConfig

    func delete(_ request: Request, because why: String) throws(CNIError) {
        guard let network = request.config.reader.object["name"]?.stringValue else { return }
        let clientID = ClientIdentifier.option(containerID: request.environment.containerID, network: network,
                                               ifName: request.environment.ifName.text)
        let store = LeaseStore(directory: config.stateDirectory)
        let record: LeaseRecord?
        do { record = try store.load(clientID: clientID) } catch {
            StandardIO.write("dhcp: DEL without the daemon (\(why)): cannot read the lease record: \(error)\n", fd: 2)
            return
        }
        guard var record else { return }
        // The record holds the daemon's view of the path (with -hostprefix); ours is CNI_NETNS. The namespace
        // identity in the record still guards against a different namespace at that path.
        if !request.environment.netns.isEmpty { record.attachment.netns = request.environment.netns }
        release(record, store: store, why: why)
    }

    func garbageCollect(_ request: Request, because why: String) throws(CNIError) {
        guard let network = request.config.reader.object["name"]?.stringValue else { return }
        let valid = ControlRequest.attachments(request.config.reader.object["cni.dev/valid-attachments"])
        let store = LeaseStore(directory: config.stateDirectory)
        let all: [LeaseRecord]
        do { all = try store.loadAll().records } catch {
            throw CNIError(.ioFailure, "GC without the daemon (\(why)): cannot read the lease records: \(error)")
        }
        for record in all where record.network == network
            && !valid.contains(where: { $0.containerID == record.containerID && $0.ifName == record.ifName }) {
            release(record, store: store, why: why)
        }
    }

    private func release(_ record: LeaseRecord, store: LeaseStore, why: String) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        if case let .failure(error) = LeaseRelease.send(record, now: Double(now.tv_sec) + Double(now.tv_nsec) / 1e9) {
            StandardIO.write("dhcp: \(record.clientIDText): no RELEASE sent for \(record.binding.lease.address) (\(error.description))\n", fd: 2)
        }
        do { try store.remove(clientID: record.clientIdentifier) } catch {
            StandardIO.write("dhcp: \(record.clientIDText): cannot remove the lease record: \(error)\n", fd: 2)
        }
        StandardIO.write("dhcp: \(record.clientIDText): released \(record.binding.lease.address) without the daemon (\(why))\n", fd: 2)
    }
}
