import CNI

/// The macvlan CNI plugin: each verb built from the CNI, Netlink and Namespace layers.
public struct MacvlanPlugin: CNIPlugin {
    /// Read once: tests set MACVLAN_TEST_PAUSE_AT to freeze an ADD at a stage (see Stage).
    let pauseAt: String?

    public init(pauseAt: String?) { self.pauseAt = pauseAt }

    func ipamPlugin(_ request: Request) throws(CNIError) -> DelegatedPlugin? {
        guard let type = request.config.ipamType else { return nil }
        return try DelegatedPlugin.find(type, in: request.environment.path)
    }
}
