import CNI
import Namespace
import NetTypes
import Netlink

extension MacvlanPlugin {
    /// Verifies that what ADD built is still there as prevResult describes it; each difference is named.
    public func check(_ request: Request) throws(CNIError) {
        let env = request.environment
        let config = try MacvlanConfig(request)
        guard let previous = try request.config.decodedPrevResult() else {
            throw CNIError(.invalidConfig, "CHECK needs \"prevResult\"", details: "the runtime passes the result of the ADD it is checking")
        }
        if let ipam = try ipamPlugin(request) {
            _ = try ipam.run(.check, environment: env, stdin: request.config.bytes)
        }
        guard let ourIndex = previous.interfaces.firstIndex(where: { $0.name == env.ifName && $0.sandbox == env.netns }) else {
            throw CNIError(.invalidConfig, "prevResult has no interface \"\(env.ifName)\" with sandbox \(env.netns)")
        }
        let expected = previous.interfaces[ourIndex]
        let attachment = try Attachment.open(request, linkInContainer: config.linkInContainer)
        let socket = attachment.containerSocket
        guard let link = try lookup(socket, env.ifName, "looking up \(env.ifName)") else {
            throw drift("interface \"\(env.ifName)\" does not exist in \(env.netns)")
        }
        guard link.kind == "macvlan" else { throw drift("\(env.ifName) is a \(link.kind ?? "non-macvlan") interface, expected macvlan") }
        if link.macvlanMode != config.mode.kernelValue {
            let actual = link.macvlanMode.flatMap(MacvlanMode.init(kernelValue:))?.rawValue ?? "unknown"
            throw drift("\(env.ifName) is in \(actual) mode, the config says \(config.mode.rawValue)")
        }
        let master = try attachment.findMaster(config.master)
        // The kernel reports a link-netns id exactly when the parent lives in another namespace.
        let parentElsewhere = link.linkNetnsID != nil
        if link.parentIndex != master.index || parentElsewhere == config.linkInContainer {
            throw drift("\(env.ifName) is not a child of master \(master.name)")
        }
        if let mac = expected.mac, !mac.isEmpty, MACAddress(mac) != link.mac {
            throw drift("\(env.ifName) has MAC \(link.mac?.description ?? "none"), prevResult says \(mac)")
        }
        let expectedMTU = expected.mtu.map { Int64($0) } ?? config.requestedMTU
        if let expectedMTU, expectedMTU != Int64(link.mtu) {
            throw drift("\(env.ifName) has MTU \(link.mtu), expected \(expectedMTU)")
        }
        try checkAddressing(previous, interfaceIndex: ourIndex, link: link, socket: socket, ifName: env.ifName)
    }

    /// Dumps only what there is to compare: an L2-only prevResult has no addresses or routes to look for.
    private func checkAddressing(_ previous: CNIResult, interfaceIndex: Int, link: LinkInfo, socket: RouteSocket, ifName: String) throws(CNIError) {
        let ourIPs = previous.ips.filter { $0.interface == interfaceIndex }
        if !ourIPs.isEmpty {
            let present: [AddressInfo]
            do { present = try socket.addresses(index: link.index) } catch { throw error.cni("reading addresses of \(ifName)") }
            for ip in ourIPs where !present.contains(where: { $0.prefix == ip.address }) {
                throw drift("address \(ip.address) of prevResult is missing on \(ifName)", code: .addressingFailure)
            }
        }
        guard !previous.routes.isEmpty else { return }
        let routes: [RouteInfo]
        do { routes = try socket.routes(family: nil) } catch { throw error.cni("reading routes") }
        for route in previous.routes {
            let gateway = route.gateway(fallingBackTo: ourIPs)
            let found = routes.contains { r in
                r.destination == route.destination.network && (gateway == nil || r.gateway == gateway)
                    && (route.table == nil || r.table == UInt32(route.table!))
                    && (route.priority == nil || r.priority == UInt32(route.priority!))
            }
            if !found {
                throw drift("route \(route.destination)\(gateway.map { " via \($0)" } ?? "") of prevResult is missing", code: .addressingFailure)
            }
        }
    }

    private func drift(_ message: String, code: CNIError.Code = .linkFailure) -> CNIError {
        CNIError(code, "CHECK failed: \(message)")
    }
}
