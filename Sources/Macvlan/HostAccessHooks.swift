import CNI
import HostAccess
import JSON
import LinkPlugin
import Namespace
import NetTypes
import Netlink

/// Where the verbs meet the HostAccess module: the `hostAccess` config key, the ADD steps with their stages and
/// undo, and DEL, CHECK and GC.
enum HostAccessSettings {
    /// `"hostAccess": true`, or `{"addresses": [...], "dataDir": "..."}`; false, null or absent: nil.
    static func parse(_ reader: ConfigReader) throws(CNIError) -> HostAccessConfig? {
        guard let value = reader.object[field: "hostAccess"] else { return nil }
        switch value {
        case .null, .bool(false): return nil
        case .bool(true): return try converted { () throws(HostAccessError) in try HostAccessConfig() }
        case let .object(object):
            let settings = ConfigReader(object, path: reader.name("hostAccess"))
            var addresses: [IPPrefix] = []
            for text in try settings.strings("addresses") ?? [] {
                guard let prefix = IPPrefix(text) else {
                    throw CNIError(.invalidConfig, "\"hostAccess.addresses\" entry \"\(text)\" is not an address with a prefix length",
                                   details: "write host addresses such as \"10.9.0.254/32\" or \"fd00::fe/128\"")
                }
                addresses.append(prefix)
            }
            let dataDir = try settings.string("dataDir") ?? HostAccessConfig.defaultDataDir
            return try converted { () throws(HostAccessError) in try HostAccessConfig(addresses: addresses, dataDir: dataDir) }
        default:
            throw reader.wrongType("hostAccess", expected: "true, false or an object")
        }
    }

    /// Host access needs a bridge-mode child of a master in the plugin's namespace (the shim talks to the
    /// containers through the master's bridge) and container addresses to route to.
    static func validate(mode: MacvlanMode, linkInContainer: Bool, hasIPAM: Bool) throws(CNIError) {
        if mode != .bridge {
            throw CNIError(.invalidConfig, "\"hostAccess\" needs \"mode\": \"bridge\", the config says \"\(mode.configName)\"",
                           details: "only bridge-mode children reach the host's shim")
        }
        if linkInContainer {
            throw CNIError(.invalidConfig, "\"hostAccess\" cannot be used with \"linkInContainer\"",
                           details: "the shim lives beside the master, and with linkInContainer the master is in the container")
        }
        if !hasIPAM {
            throw CNIError(.invalidConfig, "\"hostAccess\" needs \"ipam\"", details: "host routes go to the container's addresses")
        }
    }

    /// `cni.dev/valid-attachments` of a GC config; nil when it is absent (then GC collects nothing).
    static func validAttachments(_ request: Request) throws(CNIError) -> Set<AttachmentKey>? {
        guard let items = try request.config.reader.array("cni.dev/valid-attachments") else { return nil }
        var keys = Set<AttachmentKey>()
        for item in items {
            guard let object = item.objectValue, let id = object["containerID"]?.stringValue, let ifName = object["ifname"]?.stringValue else {
                throw CNIError(.invalidConfig, "\"cni.dev/valid-attachments\" entries must be objects with \"containerID\" and \"ifname\" strings",
                               details: "got \(item.serialized(indent: 0).prefix(80))")
            }
            keys.insert(AttachmentKey(network: request.config.name, containerID: id, ifName: ifName))
        }
        return keys
    }

    static func key(_ request: Request) -> AttachmentKey {
        AttachmentKey(network: request.config.name, containerID: request.environment.containerID, ifName: request.environment.ifName.text)
    }
}

extension HostAccessError {
    var cni: CNIError {
        let code: CNIError.Code = switch kind {
        case .invalidConfig: .invalidConfig
        case .busy: .tryAgainLater
        case .interrupted: .interrupted
        case .stateFailure: .ioFailure
        case .conflict, .kernelFailure, .drift: .linkFailure
        }
        return CNIError(code, kind == .drift ? "CHECK failed: \(message)" : message, details: details)
    }
}

func converted<T>(_ body: () throws(HostAccessError) -> T) throws(CNIError) -> T {
    do { return try body() } catch { throw error.cni }
}

extension MacvlanPlugin {
    func hostAccess(_ settings: HostAccessConfig, host: any RouteOperations, log: Log) -> HostAccess {
        let system = self.system
        return HostAccess(config: settings, host: host, sysctl: { (key, value) throws(NamespaceError) in try system.writeOwnSysctl(key, value) },
                          isInterrupted: { Signals.terminated }, log: { log($0) })
    }

    /// ADD, once the container has its addresses: record, shim, host routes (under the lock), then the
    /// container's routes to the host. One undo removes the host side as DEL would (the shim only if this ADD
    /// created it); the container's routes have their own.
    func setUpHostAccess(_ settings: HostAccessConfig, request: Request, master: LinkInfo, link: LinkInfo,
                         addresses: [IPPrefix], attachment: Attachment, rollback: inout Rollback) throws(CNIError) {
        let access = hostAccess(settings, host: attachment.masterSocket, log: request.log)
        let key = HostAccessSettings.key(request)
        let setup = try converted { () throws(HostAccessError) in try access.begin(key, master: master, containerAddresses: addresses) }
        rollback.register("remove the host access of \(key)") { () throws(CNIError) in
            try converted { () throws(HostAccessError) in try setup.undo() }
        }
        try attachment.checkpoint(.hostAccessRecorded)
        try converted { () throws(HostAccessError) in try setup.ensureShim() }
        try attachment.checkpoint(.shimReady)
        try converted { () throws(HostAccessError) in try setup.addHostRoutes() }
        try attachment.checkpoint(.hostRoutesAdded)
        let routes = try converted { () throws(HostAccessError) in
            try access.containerRoutes(shim: setup.shim!, master: master, containerAddresses: addresses)
        }
        setup.finish()
        let container = attachment.containerSocket
        let added = try converted { () throws(HostAccessError) in
            try HostAccess.addContainerRoutes(routes, container: container, linkIndex: link.index, log: { request.log($0) })
        }
        rollback.register("remove the container's routes to the host") { () throws(CNIError) in
            let failures = HostAccess.removeContainerRoutes(added, container: container)
            if !failures.isEmpty { throw CNIError(.linkFailure, failures.joined(separator: "; ")) }
        }
        try attachment.checkpoint(.containerRoutesAdded)
    }

    /// DEL: this attachment's host routes and record, and the shim once nobody uses it. Needs no container.
    func tearDownHostAccess(_ request: Request) throws(CNIError) {
        guard let settings = try HostAccessSettings.parse(request.config.reader) else { return }
        let host = try system.ownRoutes()
        try converted { () throws(HostAccessError) in try hostAccess(settings, host: host, log: request.log).detach(HostAccessSettings.key(request)) }
    }

    /// CHECK: the shim, the host routes of the prevResult's addresses, the record, the container's routes.
    func checkHostAccess(_ settings: HostAccessConfig, request: Request, master: LinkInfo, link: LinkInfo,
                         attachment: Attachment) throws(CNIError) {
        let env = request.environment
        guard let previous = try request.config.decodedPrevResult(),
              let ours = previous.interfaces.firstIndex(where: { $0.name == env.ifName.text && $0.sandbox == env.netns }) else { return }
        let addresses = previous.ips.filter { $0.interface == ours }.map(\.address)
        try converted { () throws(HostAccessError) in
            try hostAccess(settings, host: attachment.masterSocket, log: request.log).check(
                HostAccessSettings.key(request), master: master, containerAddresses: addresses,
                container: attachment.containerSocket, containerLinkIndex: link.index)
        }
    }

    /// GC: routes and records of attachments the runtime no longer has, and unused shims.
    func collectHostAccess(_ request: Request) throws(CNIError) {
        guard let settings = try HostAccessSettings.parse(request.config.reader) else { return }
        guard let valid = try HostAccessSettings.validAttachments(request) else {
            request.log("GC without \"cni.dev/valid-attachments\": host access kept everything")
            return
        }
        let host = try system.ownRoutes()
        try converted { () throws(HostAccessError) in try hostAccess(settings, host: host, log: request.log).collect(network: request.config.name, valid: valid) }
    }
}
