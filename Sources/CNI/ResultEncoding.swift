import JSON
import NetTypes

extension CNIResult {
    /// The result as the given spec version writes it. Fields a version does not know are dropped; a result
    /// with no IP cannot be written as 0.1.0/0.2.0 (their only content is `ip4`/`ip6`): code 1.
    public func json(version: SpecVersion) throws(CNIError) -> JSONValue {
        var out = JSONObject()
        out["cniVersion"] = .string(version.description)
        if version.usesLegacyResult {
            guard !ips.isEmpty else {
                throw CNIError(.incompatibleVersion, "a result without IP addresses cannot be expressed in cniVersion \(version)",
                               details: "use cniVersion 0.3.0 or later for a network without IPAM")
            }
            for family in [IPFamily.v4, .v6] {
                guard let ip = ips.first(where: { $0.address.family == family }) else { continue }
                var entry = JSONObject()
                entry["ip"] = .string(ip.address.description)
                if let gw = ip.gateway { entry["gateway"] = .string(gw.description) }
                let familyRoutes = routes.filter { $0.destination.family == family }
                if !familyRoutes.isEmpty { entry["routes"] = .array(familyRoutes.map { $0.json(version: version) }) }
                out[family == .v4 ? "ip4" : "ip6"] = .object(entry)
            }
        } else {
            if !interfaces.isEmpty { out["interfaces"] = .array(interfaces.map { $0.json(version: version) }) }
            if !ips.isEmpty {
                out["ips"] = .array(ips.map { ip in
                    var entry = JSONObject()
                    if version < .v1_0_0 { entry["version"] = .string(ip.address.family.versionString) }
                    if let i = ip.interface { entry["interface"] = .int(Int64(i)) }
                    entry["address"] = .string(ip.address.description)
                    if let gw = ip.gateway { entry["gateway"] = .string(gw.description) }
                    return .object(entry)
                })
            }
            if !routes.isEmpty { out["routes"] = .array(routes.map { $0.json(version: version) }) }
        }
        out["dns"] = dns.json
        return .object(out)
    }
}

extension CNIResult.Interface {
    func json(version: SpecVersion) -> JSONValue {
        var o = JSONObject()
        o["name"] = .string(name)
        if let mac, !mac.text.isEmpty { o["mac"] = .string(mac.text) }
        if version >= .v1_1_0, let mtu, mtu > 0 { o["mtu"] = .int(Int64(mtu)) }
        if let sandbox, !sandbox.isEmpty { o["sandbox"] = .string(sandbox) }
        if version >= .v1_1_0 {
            if let socketPath, !socketPath.isEmpty { o["socketPath"] = .string(socketPath) }
            if let pciID, !pciID.isEmpty { o["pciID"] = .string(pciID) }
        }
        return .object(o)
    }
}

extension CNIResult.Route {
    func json(version: SpecVersion) -> JSONValue {
        var o = JSONObject()
        o["dst"] = .string(destination.description)
        if let gateway { o["gw"] = .string(gateway.description) }
        if version >= .v1_1_0 {
            let extras: [(String, Int?)] = [("mtu", mtu), ("advmss", advmss), ("priority", priority), ("table", table), ("scope", scope)]
            for (key, value) in extras { if let value { o[key] = .int(Int64(value)) } }
        }
        return .object(o)
    }
}

extension DNS {
    var json: JSONValue {
        var o = JSONObject()
        if !nameservers.isEmpty { o["nameservers"] = .array(nameservers.map { .string($0) }) }
        if let domain, !domain.isEmpty { o["domain"] = .string(domain) }
        if !search.isEmpty { o["search"] = .array(search.map { .string($0) }) }
        if !options.isEmpty { o["options"] = .array(options.map { .string($0) }) }
        return .object(o)
    }
}
