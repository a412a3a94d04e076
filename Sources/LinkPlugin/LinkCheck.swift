import CNI
import NetTypes
import Netlink

/// CHECK of a link plugin: what ADD built is still there as prevResult describes it; each difference is
/// named. The plugin checks what is its own (kind, mode, master) in `specifics`; the interface's presence,
/// MAC, MTU, addresses and routes are checked here, and CHECK is forwarded to the IPAM first.
public func linkCheck(_ request: Request, system: any LinkSystem, linkInContainer: Bool, requestedMTU: Int64?,
                      specifics: (LinkInfo, Attachment) throws(CNIError) -> Void) throws(CNIError) {
    guard let previous = try request.config.decodedPrevResult() else {
        throw CNIError(.invalidConfig, "CHECK needs \"prevResult\"", details: "the runtime passes the result of the ADD it is checking")
    }
    // The IPAM's CHECK reads its own store, not the interface: for the types that overlap an ADD
    // (`IPAMOverlap`) it runs while the link is checked; the link's difference is reported first.
    Phases.enter(.ipam)
    var pending: PendingIPAM<Void>?
    if let ipam = try system.ipam(request) {
        if try IPAMOverlap.applies(to: ipam.type, config: request.config) { pending = try ipam.startCheck(request) } else { try ipam.check(request) }
    }
    do throws(CNIError) {
        try checkLink(request, previous: previous, system: system, linkInContainer: linkInContainer, requestedMTU: requestedMTU, specifics: specifics)
    } catch {
        pending?.settle()
        throw error
    }
    Phases.enter(.ipam)
    try pending?.finish()
}

private func checkLink(_ request: Request, previous: CNIResult, system: any LinkSystem, linkInContainer: Bool, requestedMTU: Int64?,
                       specifics: (LinkInfo, Attachment) throws(CNIError) -> Void) throws(CNIError) {
    let env = request.environment
    guard let ourIndex = previous.interfaces.firstIndex(where: { $0.name == env.ifName.text && $0.sandbox == env.netns }) else {
        throw CNIError(.invalidConfig, "prevResult has no interface \"\(env.ifName)\" with sandbox \(env.netns)")
    }
    let expected = previous.interfaces[ourIndex]
    let attachment = try system.attach(request, linkInContainer: linkInContainer)
    let socket = attachment.containerSocket
    Phases.enter(.link)
    guard let link = try lookup(socket, env.ifName, "looking up \(env.ifName)") else {
        throw drift("interface \"\(env.ifName)\" does not exist in \(env.netns)")
    }
    try specifics(link, attachment)
    if let mac = expected.mac, !mac.text.isEmpty, mac.parsed != link.mac {
        throw drift("\(env.ifName) has MAC \(link.mac?.description ?? "none"), prevResult says \(mac)")
    }
    let expectedMTU = expected.mtu.map { Int64($0) } ?? requestedMTU
    if let expectedMTU, expectedMTU != Int64(link.mtu) {
        throw drift("\(env.ifName) has MTU \(link.mtu), expected \(expectedMTU)")
    }
    try checkAddressing(previous, interfaceIndex: ourIndex, link: link, socket: socket, ifName: env.ifName)
}
