import CNI
import Glibc
import LinkPlugin
import NetTypes
import Netlink

/// `deviceID`: a macvtap made beforehand in the plugin's namespace (as KubeVirt's device plugin does) is moved
/// into the container instead of a new one being created, and given back on DEL, under its original name and
/// with its original MAC, MTU and flags, rather than destroyed. What DEL needs for that is recorded before the
/// move, so a DEL after a killed ADD can give it back too.
extension MacvtapPlugin {
    func adopt(_ deviceID: InterfaceName, request: Request, config: MacvtapConfig, previous: CNIResult?, ipam: (any IPAM)?,
               attachment: Attachment, record: AttachmentRecord) throws(CNIError) -> CNIResult {
        let hostSocket = attachment.masterSocket
        guard let device = try lookup(hostSocket, deviceID, "looking up \"deviceID\" \(deviceID) in \(attachment.masterPlace)") else {
            throw CNIError(.invalidConfig, "\"deviceID\" \"\(deviceID)\" is not an interface in \(attachment.masterPlace)",
                           details: "the macvtap to adopt must exist before ADD (a device plugin creates it)")
        }
        guard device.kind?.macvlanDevice == .macvtap else {
            throw CNIError(.invalidConfig, "\"deviceID\" \"\(deviceID)\" is a \(device.kind?.description ?? "kind-less") interface, not a macvtap")
        }
        if device.kind?.macvlanMode != config.mode {
            let actual = device.kind?.macvlanMode?.configName ?? "unknown"
            throw CNIError(.invalidConfig, "\"deviceID\" \"\(deviceID)\" is in \(actual) mode, the config says \(config.mode.configName)",
                           details: "set \"mode\" to the mode the macvtap was created with")
        }
        let master: LinkInfo
        if config.master.isGiven {
            master = try attachment.findMaster(config.master, childKind: "macvtap", pciDevices: system.pciDevices, log: request.log)
            guard device.parentIndex == master.index, device.linkNetnsID == nil else {
                throw CNIError(.invalidConfig, "\"deviceID\" \"\(deviceID)\" is not a macvtap of master \(master.name)")
            }
        } else {
            let parent: LinkInfo?
            do { parent = try device.parentIndex.flatMap { (index: Int32) throws(NetlinkError) in try hostSocket.link(index: index) } } catch {
                throw error.cni("looking up the master of \(deviceID)")
            }
            guard let parent, device.linkNetnsID == nil else {
                throw CNIError(.invalidConfig, "the master of \"deviceID\" \"\(deviceID)\" is not in \(attachment.masterPlace)")
            }
            master = parent
        }
        let mtu = try config.family.mtu(forMaster: master.name, masterMTU: master.mtu)
        var record = record
        record.adopted = AttachmentRecord.AdoptedDevice(name: deviceID, mac: device.mac, mtu: device.mtu,
                                                        promiscuous: device.flags.contains(.promiscuous), up: device.isUp)
        let recordPath = Self.recordPath(config, network: request.config.name, containerID: record.containerID, ifName: record.ifName)
        try host.write(recordPath, record.encoded)

        var add = LinkAdd(request: request, attachment: attachment, ipam: ipam, temporaryName: Self.temporaryName,
                          describe: "the \(config.mode.configName) macvtap \(deviceID) on \(master.name)")
        // The record stays until the macvtap is back (below): the runtime's DEL gives it back otherwise.
        add.extras = nodeSteps(request, config: config, record: record, attachment: attachment, removesRecord: false) { index in
            var change = LinkChange(index: index)
            change.mac = config.mac
            change.mtu = mtu
            change.promiscuous = config.promiscuous
            return change
        }
        add.extras.replacesStaleLink = false
        let adopted = record.adopted!
        add.extras.undoLink = { (link: LinkInfo) throws(CNIError) in
            try giveBack(index: link.index, from: attachment.containerSocket, adopted)
        }
        do {
            add.ipv6 = config.ipv6
            return try add.run(previous: previous, shape: LinkShape(mac: nil, mtu: mtu ?? master.mtu)) { (name: InterfaceName, _: Bool) throws(NetlinkError) in
                // Moving under a taken name would leave the macvtap in the container under its old name.
                if try attachment.containerSocket.link(named: name) != nil {
                    throw NetlinkError(errno: EEXIST, operation: "move \(deviceID) into the container as \(name)")
                }
                var move = LinkChange(index: device.index)
                move.namespaceFD = attachment.containerNamespaceFD
                move.name = name
                try hostSocket.changeLink(move)
            }
        } catch {
            if (try? hostSocket.link(named: deviceID)) != nil { try? host.remove(recordPath) }
            throw error
        }
    }

    /// Moves an adopted macvtap from a container back to the plugin's namespace under its original name, then
    /// restores its MAC, MTU and flags there (two requests: a failure after the move must not strand it under
    /// the container's name).
    func giveBack(index: Int32, from container: any RouteOperations, _ adopted: AttachmentRecord.AdoptedDevice) throws(CNIError) {
        var move = LinkChange(index: index)
        move.namespaceFD = try host.ownNamespaceFD()
        move.name = adopted.name
        do { try container.changeLink(move) } catch {
            throw error.cni("giving the adopted macvtap back to the plugin's namespace as \(adopted.name)")
        }
        let own = try system.ownRoutes()
        guard let back = try lookup(own, adopted.name, "finding \(adopted.name) after giving it back") else {
            throw CNIError(.linkFailure, "the adopted macvtap \(adopted.name) is not in the plugin's namespace after the move")
        }
        var restore = LinkChange(index: back.index)
        restore.mac = adopted.mac
        restore.mtu = adopted.mtu
        restore.promiscuous = adopted.promiscuous
        restore.up = adopted.up
        do { try own.changeLink(restore) } catch { throw error.cni("restoring \(adopted.name)'s MAC, MTU and flags") }
    }

    /// DEL and GC: the adopted macvtap, found in the container under CNI_IFNAME or the temporary name, given back.
    /// Nothing there (the container is gone, and the kernel destroyed it with its namespace) is not an error.
    func giveBackIfPresent(_ record: AttachmentRecord, adopted: AttachmentRecord.AdoptedDevice, container: (any RouteOperations)?) throws(CNIError) {
        guard let container else { return }
        for name in [record.ifName, Self.temporaryName.make(containerID: record.containerID, ifName: record.ifName)] {
            if let link = try lookup(container, name, "looking up \(name) in \(record.netns)"), link.kind?.macvlanDevice == .macvtap {
                try giveBack(index: link.index, from: container, adopted)
                return
            }
        }
    }
}
