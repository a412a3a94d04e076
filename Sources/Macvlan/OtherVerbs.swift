import CNI
import Namespace
import NetTypes
import Netlink

// MARK: - DEL

extension MacvlanPlugin {
    /// Best effort: IPAM DEL and the link deletion are both attempted and their failures collected. What is
    /// already gone (namespace, link, master) counts as deleted, so DEL can be repeated.
    public func delete(_ request: Request) throws(CNIError) {
        let env = request.environment
        // A missing or odd netns is fine for DEL (the container may be gone), but never our own namespace:
        // that would delete a host interface that happens to carry CNI_IFNAME. Refused before anything runs.
        let namespace = try containerNamespaceForDelete(env)
        var failures: [CNIError] = []
        do {
            if let ipam = try ipamPlugin(request) {
                _ = try ipam.run(.del, environment: env, stdin: request.config.bytes,
                                 timeoutMilliseconds: DelegatedPlugin.defaultTimeoutMilliseconds, interruptible: false)
            }
        } catch { failures.append(error) }
        if let namespace {
            do { try deleteLinks(env, in: namespace) } catch { failures.append(error) }
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

    private func deleteLinks(_ env: Environment, in namespace: NetworkNamespace) throws(CNIError) {
        let socket = try routeSocket(in: namespace)
        for name in [env.ifName, TemporaryName.make(containerID: env.containerID, ifName: env.ifName)] {
            guard let link = try lookup(socket, name, "looking up \(name) in \(env.netns)") else { continue }
            guard link.kind == "macvlan" || link.kind == "macvtap" else {
                StandardIO.log("DEL: \(name) in \(env.netns) is a \(link.kind ?? "non-macvlan") interface, not ours; left alone")
                continue
            }
            do { try socket.deleteLink(index: link.index) } catch where error.kind == .notFound {} catch {
                throw error.cni("deleting \(name) in \(env.netns)")
            }
        }
    }
}

// MARK: - CHECK

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
        let master = try Attachment.findMaster(config.master, socket: attachment.masterSocket,
                                               whereText: config.linkInContainer ? "the container's namespace" : "the plugin's namespace")
        if link.parentIndex != master.index || (link.linkNetnsID == nil) == !config.linkInContainer {
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

    private func checkAddressing(_ previous: CNIResult, interfaceIndex: Int, link: LinkInfo, socket: RouteSocket, ifName: String) throws(CNIError) {
        let present: [AddressInfo]
        do { present = try socket.addresses(index: link.index) } catch { throw error.cni("reading addresses of \(ifName)") }
        for ip in previous.ips where ip.interface == interfaceIndex {
            if !present.contains(where: { $0.prefix == ip.address }) {
                throw drift("address \(ip.address) of prevResult is missing on \(ifName)", code: .addressingFailure)
            }
        }
        let routes: [RouteInfo]
        do { routes = try socket.routes(family: nil) } catch { throw error.cni("reading routes") }
        let ourIPs = previous.ips.filter { $0.interface == interfaceIndex }
        for route in previous.routes {
            let gateway = route.gateway ?? ourIPs.first { $0.address.family == route.destination.family }?.gateway
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

// MARK: - STATUS and GC

extension MacvlanPlugin {
    /// Ready when an ADD could succeed now: the master exists and is up (it lives in containers with
    /// linkInContainer, so it cannot be checked then), and the IPAM plugin says it is ready.
    public func status(_ request: Request) throws(CNIError) {
        let config = try MacvlanConfig(request)
        if !config.linkInContainer {
            let socket: RouteSocket
            do { socket = try RouteSocket() } catch { throw error.cni("opening a netlink socket") }
            let master: LinkInfo
            do { master = try Attachment.findMaster(config.master, socket: socket, whereText: "the plugin's namespace") } catch {
                throw CNIError(.notAvailable, error.message, details: error.details)
            }
            if !master.isUp {
                throw CNIError(.notAvailable, "master \"\(master.name)\" is down", details: "bring it up (ip link set \(master.name) up) before adding containers")
            }
        }
        if let ipam = try ipamPlugin(request) {
            _ = try ipam.run(.status, environment: request.environment, stdin: request.config.bytes)
        }
    }

    /// Our links live in container namespaces, which go away with their containers: nothing of ours outlives
    /// an attachment on the host. The IPAM store does, so GC is forwarded with the valid attachments.
    public func garbageCollect(_ request: Request) throws(CNIError) {
        if let ipam = try ipamPlugin(request) {
            _ = try ipam.run(.gc, environment: request.environment, stdin: request.config.bytes)
        }
    }
}
