import CNI

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
