import CNI
import Namespace
import Netlink

/// DEL of a link plugin, best effort: IPAM DEL and the link deletion are both attempted and their failures
/// collected. What is already gone (namespace, link, master) counts as deleted, so DEL can be repeated.
/// `isOurs` says whether a link found under CNI_IFNAME (or the temporary name) is one this plugin would have
/// made; anything else is left alone.
public func bestEffortDelete(_ request: Request, ipam: (any IPAM)?, temporaryName: TemporaryName,
                             isOurs: (LinkInfo) -> Bool) throws(CNIError) {
    let env = request.environment
    // A missing or odd netns is fine for DEL (the container may be gone), but never our own namespace:
    // that would delete a host interface that happens to carry CNI_IFNAME. Refused before anything runs.
    let namespace = try containerNamespaceForDelete(env)
    var failures: [CNIError] = []
    do { try ipam?.delete(request, rollback: false) } catch { failures.append(error) }
    if let namespace {
        do {
            try deleteLinks(env, in: namespace, names: [env.ifName, temporaryName.make(containerID: env.containerID, ifName: env.ifName)],
                            isOurs: isOurs)
        } catch { failures.append(error) }
    }
    guard let first = failures.first else { return }
    throw CNIError(first.code, failures.map(\.message).joined(separator: "; "),
                   details: failures.map(\.details).filter { !$0.isEmpty }.joined(separator: "; "))
}

/// The container's namespace, or nil when there is none to clean (containerd sends DEL with an empty
/// CNI_NETNS once the task is gone; a deleted or unusable path has nothing of ours either).
private func containerNamespaceForDelete(_ env: Environment) throws(CNIError) -> NetworkNamespace? {
    guard !env.netns.isEmpty else { return nil }
    let namespace: NetworkNamespace
    do { namespace = try NetworkNamespace(path: env.netns) } catch {
        StandardIO.log("DEL: \(error); nothing to delete there")
        return nil
    }
    if let own = try? NetworkNamespace.current(), own.identity == namespace.identity {
        throw CNIError(.invalidEnvironment, "CNI_NETNS \"\(env.netns)\" is the plugin's own network namespace",
                       details: "refusing to delete interfaces of the runtime's namespace; nothing was changed")
    }
    return namespace
}

private func deleteLinks(_ env: Environment, in namespace: NetworkNamespace, names: [String], isOurs: (LinkInfo) -> Bool) throws(CNIError) {
    let socket = try routeSocket(in: namespace)
    for name in names {
        guard let link = try lookup(socket, name, "looking up \(name) in \(env.netns)") else { continue }
        guard isOurs(link) else {
            StandardIO.log("DEL: \(name) in \(env.netns) is a \(link.kind ?? "kind-less") interface, not ours; left alone")
            continue
        }
        try deleteLink(socket, index: link.index, "deleting \(name) in \(env.netns)")
    }
}
