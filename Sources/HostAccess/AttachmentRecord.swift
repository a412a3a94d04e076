import NetTypes

/// One attachment as the runtime names it: network, container ID and interface.
public struct AttachmentKey: Hashable, Sendable, CustomStringConvertible {
    public let network: String
    public let containerID: String
    public let ifName: String

    public init(network: String, containerID: String, ifName: String) {
        self.network = network
        self.containerID = containerID
        self.ifName = ifName
    }

    public var description: String { "\(containerID)/\(ifName) of network \(network)" }
}

/// A host route to one container address through the shim.
public struct HostRoute: Equatable, Sendable, CustomStringConvertible {
    /// A host-length prefix (/32, /128).
    public let destination: IPPrefix
    public let source: IPAddress?

    public init(destination: IPPrefix, source: IPAddress?) {
        self.destination = destination
        self.source = source
    }

    public var description: String { "\(destination)" + (source.map { " src \($0)" } ?? "") }
}

/// What DEL needs to undo one attachment's host access without its container: which shim, which routes. It is
/// written before the shim and the routes are touched, so a process killed at any point leaves a record that
/// covers everything it may have done.
public struct AttachmentRecord: Equatable, Sendable {
    public var key: AttachmentKey
    public var master: String
    public var shim: String
    public var routes: [HostRoute]

    public init(key: AttachmentKey, master: String, shim: String, routes: [HostRoute]) {
        self.key = key
        self.master = master
        self.shim = shim
        self.routes = routes
    }

    static let header = "macvlan-cni host-access 1"

    /// One "field value" per line. Every value is a CNI identifier, an interface name or an address: none can
    /// hold whitespace, so the format needs no quoting.
    public var encoded: String {
        var lines = [Self.header, "network \(key.network)", "container \(key.containerID)", "ifname \(key.ifName)",
                     "master \(master)", "shim \(shim)"]
        lines += routes.map { "route \($0.destination)" + ($0.source.map { " src \($0)" } ?? "") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// nil for anything that is not a complete record in this format.
    public init?(decoding text: String) {
        let lines = text.split(onByte: UInt8(ascii: "\n"), omittingEmpty: true)
        guard lines.first?.bytesEqual(Self.header) == true else { return nil }
        var fields: [String: String] = [:]
        var routes: [HostRoute] = []
        for line in lines.dropFirst() {
            let words = line.split(onByte: UInt8(ascii: " "), omittingEmpty: true)
            guard words.count >= 2 else { return nil }
            if words[0].bytesEqual("route") {
                guard let destination = IPPrefix(words[1]) else { return nil }
                var source: IPAddress?
                if words.count == 4, words[2].bytesEqual("src") {
                    guard let s = IPAddress(words[3]) else { return nil }
                    source = s
                } else if words.count != 2 { return nil }
                routes.append(HostRoute(destination: destination, source: source))
            } else {
                guard words.count == 2, fields[words[0]] == nil else { return nil }
                fields[words[0]] = words[1]
            }
        }
        guard let network = fields["network"], let containerID = fields["container"], let ifName = fields["ifname"],
              let master = fields["master"], let shim = fields["shim"], fields.count == 5 else { return nil }
        self.init(key: AttachmentKey(network: network, containerID: containerID, ifName: ifName),
                  master: master, shim: shim, routes: routes)
    }
}
