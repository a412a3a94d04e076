import CNI
import HostAccess
import LinkPlugin
import NetTypes

/// The macvlan config: the keys the macvlan family shares (`MacvlanFamilyConfig`, reachable as
/// `config.master`, `config.mode`, ...) and macvlan's own (`hostAccess`), validated before anything is changed.
@dynamicMemberLookup
public struct MacvlanConfig: Sendable {
    public let family: MacvlanFamilyConfig
    /// nil: the host gets no route to the containers (macvlan's default).
    public let hostAccess: HostAccessConfig?

    public init(_ request: Request) throws(CNIError) {
        family = try MacvlanFamilyConfig(request, kind: "macvlan")
        hostAccess = try HostAccessSettings.parse(request.config.reader)
        if hostAccess != nil {
            try HostAccessSettings.validate(mode: family.mode, linkInContainer: family.linkInContainer, hasIPAM: request.config.ipamType != nil)
        }
    }

    public subscript<T>(dynamicMember path: KeyPath<MacvlanFamilyConfig, T>) -> T { family[keyPath: path] }

    public func mtu(forMaster master: String, masterMTU: UInt32) throws(CNIError) -> UInt32? {
        try family.mtu(forMaster: master, masterMTU: masterMTU)
    }
}
