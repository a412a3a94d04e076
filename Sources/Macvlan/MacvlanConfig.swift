import CNI
import LinkPlugin
import NetTypes

/// The macvlan config: the keys the macvlan family shares (`MacvlanFamilyConfig`, reachable as
/// `config.master`, `config.mode`, ...), validated before anything is changed.
@dynamicMemberLookup
public struct MacvlanConfig: Sendable {
    public let family: MacvlanFamilyConfig

    public init(_ request: Request) throws(CNIError) {
        family = try MacvlanFamilyConfig(request, kind: "macvlan")
    }

    public subscript<T>(dynamicMember path: KeyPath<MacvlanFamilyConfig, T>) -> T { family[keyPath: path] }

    public func mtu(forMaster master: String, masterMTU: UInt32) throws(CNIError) -> UInt32? {
        try family.mtu(forMaster: master, masterMTU: masterMTU)
    }
}
