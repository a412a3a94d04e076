import CNI

/// Which IPAM ADDs run while the link is created. An IPAM that does not look at the container's interface
/// (host-local and static allocate from their own store or config) can start first, so the link's creation
/// overlaps its run; dhcp needs the finished interface, and a type we know nothing about may too, so those run
/// after the link exists. The config key `ipamWithoutInterface` (a list of type names, e.g. ["whereabouts"])
/// adds types.
public enum IPAMOverlap {
    public static let configKey = "ipamWithoutInterface"
    public static let knownTypes: Set<String> = ["host-local", "static"]

    /// Read (and validated) before anything changes: a wrong value is code 7.
    public static func applies(to type: String, config: NetworkConfig) throws(CNIError) -> Bool {
        if knownTypes.contains(type) { return true }
        guard let listed = try config.reader.strings(configKey) else { return false }
        return listed.contains(type)
    }
}
