import CNI
import NetTypes
import Netlink

/// CHECK's half that any link plugin shares: the addresses and routes of prevResult are still there. Dumps
/// only what there is to compare: an L2-only prevResult has no addresses or routes to look for.
public func checkAddressing(_ previous: CNIResult, interfaceIndex: Int, link: LinkInfo, socket: any RouteOperations, ifName: InterfaceName) throws(CNIError) {
    let ourIPs = previous.ips.filter { $0.interface == interfaceIndex }
    if !ourIPs.isEmpty {
        let present: [AddressInfo]
        do { present = try socket.addresses(index: link.index) } catch { throw error.cni("reading addresses of \(ifName)") }
        for ip in ourIPs where !present.contains(where: { $0.prefix == ip.address }) {
            throw drift("address \(ip.address) of prevResult is missing on \(ifName)", code: .addressingFailure)
        }
    }
    guard !previous.routes.isEmpty else { return }
    let routes: [RouteInfo]
    do { routes = try socket.routes(family: nil) } catch { throw error.cni("reading routes") }
    for route in previous.routes {
        let gateway = route.gateway(fallingBackTo: ourIPs)
        let found = routes.contains { r in
            r.destination == route.destination.network && (gateway == nil || r.gateway == gateway)
                && (route.table == nil || r.table.rawValue == UInt32(route.table!))
                && (route.priority == nil || r.priority == UInt32(route.priority!))
        }
        if !found {
            throw drift("route \(route.destination)\(gateway.map { " via \($0)" } ?? "") of prevResult is missing", code: .addressingFailure)
        }
    }
}

/// A difference CHECK found between prevResult and the kernel.
public func drift(_ message: String, code: CNIError.Code = .linkFailure) -> CNIError {
    CNIError(code, "CHECK failed: \(message)")
}
