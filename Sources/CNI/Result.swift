import NetTypes

/// An ADD result in the newest shape (1.1.0); older versions are encodings of it (ResultEncoding.swift), and
/// every version decodes into it (ResultDecoding.swift).
public struct CNIResult: Equatable, Sendable {
    public var interfaces: [Interface] = []
    public var ips: [IPConfig] = []
    public var routes: [Route] = []
    public var dns = DNS()

    public init(interfaces: [Interface] = [], ips: [IPConfig] = [], routes: [Route] = [], dns: DNS = DNS()) {
        self.interfaces = interfaces; self.ips = ips; self.routes = routes; self.dns = dns
    }

    public struct Interface: Equatable, Sendable {
        public var name: String
        public var mac: ResultMAC?
        public var mtu: Int?
        public var sandbox: String?
        public var socketPath: String?
        public var pciID: String?
        public init(name: String, mac: ResultMAC? = nil, mtu: Int? = nil, sandbox: String? = nil) {
            self.name = name; self.mac = mac; self.mtu = mtu; self.sandbox = sandbox
        }
    }

    /// An interface's "mac": the text it was decoded from, re-encoded unchanged (prevResult keeps interfaces of
    /// earlier plugins of a chain, which may carry upper-case text or addresses that are not Ethernet's, such as
    /// InfiniBand's 20 bytes), and the Ethernet address it is, parsed once, if it is one.
    public struct ResultMAC: Equatable, Sendable, CustomStringConvertible {
        public let text: String
        public let parsed: MACAddress?

        public init(text: String) {
            self.text = text
            parsed = MACAddress(text)
        }

        /// Ours: the address's canonical text.
        public init(_ address: MACAddress) {
            text = address.description
            parsed = address
        }

        public var description: String { text }
    }

    public struct IPConfig: Equatable, Sendable {
        public var address: IPPrefix
        public var gateway: IPAddress?
        /// Index into `interfaces`.
        public var interface: Int?
        public init(address: IPPrefix, gateway: IPAddress? = nil, interface: Int? = nil) {
            self.address = address; self.gateway = gateway; self.interface = interface
        }
    }

    public struct Route: Equatable, Sendable {
        public var destination: IPPrefix
        public var gateway: IPAddress?
        public var mtu: Int?
        public var advmss: Int?
        public var priority: Int?
        public var table: Int?
        public var scope: Int?
        public init(destination: IPPrefix, gateway: IPAddress? = nil) {
            self.destination = destination; self.gateway = gateway
        }
    }

    /// Appends another plugin's result (ours after a prevResult), moving its interface indexes past ours.
    public mutating func append(_ other: CNIResult) {
        let offset = interfaces.count
        interfaces += other.interfaces
        ips += other.ips.map { ip in
            var ip = ip
            ip.interface = ip.interface.map { $0 + offset }
            return ip
        }
        routes += other.routes.filter { !routes.contains($0) }
        dns = dns.merged(with: other.dns)
    }
}

/// Resolver settings. Merging keeps order and drops duplicates: the config's entries first, then IPAM's.
public struct DNS: Equatable, Sendable {
    public var nameservers: [String] = []
    public var domain: String?
    public var search: [String] = []
    public var options: [String] = []

    public init(nameservers: [String] = [], domain: String? = nil, search: [String] = [], options: [String] = []) {
        self.nameservers = nameservers; self.domain = domain; self.search = search; self.options = options
    }

    public init(reading reader: ConfigReader) throws(CNIError) {
        nameservers = try reader.strings("nameservers") ?? []
        domain = try reader.string("domain")
        search = try reader.strings("search") ?? []
        options = try reader.strings("options") ?? []
    }

    public var isEmpty: Bool { nameservers.isEmpty && (domain ?? "").isEmpty && search.isEmpty && options.isEmpty }

    public func merged(with other: DNS) -> DNS {
        func union(_ a: [String], _ b: [String]) -> [String] { a + b.filter { !a.contains($0) } }
        return DNS(nameservers: union(nameservers, other.nameservers),
                   domain: (domain ?? "").isEmpty ? other.domain : domain,
                   search: union(search, other.search),
                   options: union(options, other.options))
    }
}
