import CNI
import NetTypes
import Netlink

/// DEL of a link plugin, best effort: IPAM DEL and the link deletion are both attempted and their failures
/// collected. What is already gone (namespace, link, master) counts as deleted, so DEL can be repeated.
/// `isOurs` says whether a link found under CNI_IFNAME (or the temporary name) is one this plugin would have
/// made; anything else is left alone. `alsoDelete`: what the plugin keeps outside the container (the macvlan
/// plugin's hostAccess), attempted like the rest once CNI_NETNS is known not to be the plugin's own namespace.
public func bestEffortDelete(_ request: Request, system: any LinkSystem, temporaryName: TemporaryName,
                             alsoDelete: (() throws(CNIError) -> Void)? = nil, isOurs: (LinkInfo) -> Bool) throws(CNIError) {
    let env = request.environment
    // A missing or odd netns is fine for DEL (the container may be gone), but never our own namespace:
    // that would delete a host interface that happens to carry CNI_IFNAME. Refused before anything runs.
    let container = try system.containerRoutesForDelete(env, log: request.log)
    var failures: [CNIError] = []
    Phases.enter(.ipam)
    do { try system.ipam(request)?.delete(request, rollback: false) } catch { failures.append(error) }
    Phases.enter(.link)
    if let container {
        for name in [env.ifName, temporaryName.make(containerID: env.containerID, ifName: env.ifName)] {
            do { try deleteIfOurs(name, in: container, env: env, log: request.log, isOurs: isOurs) } catch { failures.append(error) }
        }
    }
    do { try alsoDelete?() } catch { failures.append(error) }
    if let failure = combined(failures) { throw failure }
}

/// Several failures of a best-effort verb as one error: the first one's code, every message and detail.
public func combined(_ failures: [CNIError]) -> CNIError? {
    guard let first = failures.first else { return nil }
    return CNIError(first.code, failures.map(\.message).joined(separator: "; "),
                    details: failures.map(\.details).filter { !$0.isEmpty }.joined(separator: "; "))
}

private func deleteIfOurs(_ name: InterfaceName, in socket: any RouteOperations, env: Environment, log: Log, isOurs: (LinkInfo) -> Bool) throws(CNIError) {
    guard let link = try lookup(socket, name, "looking up \(name) in \(env.netns)") else { return }
    guard isOurs(link) else {
        log("DEL: \(name) in \(env.netns) is a \(link.kind?.description ?? "kind-less") interface, not ours; left alone")
        return
    }
    try deleteLink(socket, index: link.index, "deleting \(name) in \(env.netns)")
}
