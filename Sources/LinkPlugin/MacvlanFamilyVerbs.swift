import CNI
import NetTypes
import Netlink

/// CHECK's part that is the same for every plugin of the macvlan family: the link is of the plugin's kind, in
/// the configured mode, on the configured master (in the namespace the config says holds it). `checkMaster`
/// false: the link's parent is not the config's to name (an adopted macvtap without "master"). Returns the
/// master when it was checked.
@discardableResult
public func checkFamilyLink(_ link: LinkInfo, kind: MacvlanDevice, config: MacvlanFamilyConfig, attachment: Attachment, ifName: InterfaceName,
                            checkMaster: Bool = true, pciDevices: PCINetworkDevices = PCINetworkDevices(),
                            log: Log? = nil) throws(CNIError) -> LinkInfo? {
    guard link.kind?.macvlanDevice == kind else {
        throw drift("\(ifName) is a \(link.kind?.description ?? "kind-less") interface, expected \(kind.rawValue)")
    }
    if link.kind?.macvlanMode != config.mode {
        throw drift("\(ifName) is in \(link.kind?.macvlanMode?.configName ?? "unknown") mode, the config says \(config.mode.configName)")
    }
    guard checkMaster else { return nil }
    let master = try attachment.findMaster(config.master, childKind: kind.rawValue, pciDevices: pciDevices, log: log)
    // The kernel reports a link-netns id exactly when the parent lives in another namespace.
    let parentElsewhere = link.linkNetnsID != nil
    if link.parentIndex != master.index || parentElsewhere == config.linkInContainer {
        throw drift("\(ifName) is not a child of master \(master.name)")
    }
    return master
}

/// STATUS's part that is the same for every plugin of the macvlan family: ready whenever an ADD could succeed
/// now; code 50 only for what makes ADD fail. The master must exist and be usable as a parent (it lives in
/// containers with linkInContainer, so it cannot be checked then); a master that is merely down still takes
/// ADDs, so that is a note on stderr, not an error. Config errors keep their own code (7): they are not a matter
/// of availability. The IPAM plugin has its say last. `checkMaster` false: ADD needs no master of the config's
/// (macvtap adopting a `deviceID` keeps the parent it was created on).
public func familyStatus(_ request: Request, config: MacvlanFamilyConfig, kind: String, system: any LinkSystem,
                         checkMaster: Bool = true) throws(CNIError) {
    // With masterFromPrevResult the master is made by an earlier plugin at ADD: nothing to look for yet.
    if !config.linkInContainer, checkMaster, !config.master.isKnownOnlyAtAdd {
        let socket = try system.ownRoutes()
        let master: LinkInfo
        do {
            master = try Attachment.findMaster(config.master, socket: socket, whereText: "the plugin's namespace", childKind: kind,
                                               pciDevices: system.pciDevices, log: request.log)
        } catch {
            throw CNIError(.notAvailable, error.message, details: error.details)
        }
        if !master.isUp {
            request.log("STATUS: master \"\(master.name)\" is down; ADD works, but containers get no traffic until it is up (ip link set \(master.name) up)")
        }
    }
    try forwardStatus(request, ipam: try system.ipam(request))
}
