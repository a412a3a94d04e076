import CNI
import LinkPlugin

extension MacvlanPlugin {
    /// The shared best-effort DEL; a link under CNI_IFNAME is ours when it is a macvlan-family child. With
    /// hostAccess, the host side too, whatever became of the container.
    public func delete(_ request: Request) throws(CNIError) {
        try bestEffortDelete(request, system: system, temporaryName: Self.temporaryName,
                             alsoDelete: { () throws(CNIError) in try tearDownHostAccess(request) }) { link in
            link.kind?.macvlanDevice != nil
        }
    }
}
