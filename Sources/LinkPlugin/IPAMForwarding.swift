import CNI

/// The IPAM the config names, found in CNI_PATH, or nil for an L2-only network.
public func configuredIPAM(_ request: Request) throws(CNIError) -> (any IPAM)? {
    guard let type = request.config.ipamType else { return nil }
    return try DelegatedPlugin.find(type, in: request.environment.path, codes: .linkPlugin)
}

/// GC of a link plugin: its links live in container namespaces, which go away with their containers, so
/// nothing of its own outlives an attachment on the host. The IPAM store does: GC is forwarded with the valid
/// attachments (they are in the config the IPAM gets).
public func forwardGarbageCollection(_ request: Request, ipam: (any IPAM)?) throws(CNIError) {
    try ipam?.garbageCollect(request)
}

/// The IPAM's say on STATUS, after the plugin's own checks: its error (e.g. 50/51, pool exhausted) is returned.
public func forwardStatus(_ request: Request, ipam: (any IPAM)?) throws(CNIError) {
    try ipam?.status(request)
}
