import CNI
import LinkPlugin

extension MacvlanPlugin {
    /// The shared best-effort DEL; a link under CNI_IFNAME is ours when it is a macvlan-family child.
    public func delete(_ request: Request) throws(CNIError) {
        try bestEffortDelete(request, system: system, temporaryName: Self.temporaryName) { link in
            link.kind?.macvlanDevice != nil
        }
    }
}
