import Glibc
import NetTypes
import Netlink
import Testing
import TestSupport
@testable import HostAccess

@Suite struct HostAccessFlowTests {
    @Test func firstAttachCreatesTheShimAndRoutesWithoutAddresses() throws {
        let w = World()
        try w.attach(try w.access(), World.key("a"), ["10.9.0.10/24", "fd66::10/64"])
        let shim = try #require(w.shim)
        #expect(shim.kind == .macvlanFamily(.macvlan, mode: .bridge) && shim.parentIndex == w.master.index)
        #expect(shim.alias == ShimName.alias && shim.isUp)
        #expect(w.hostRoutes == ["10.9.0.10/32 src 10.9.0.1", "fd66::10/128"])
        // No router advertisement may configure the shim, no DAD hold its addresses.
        #expect(w.sysctls.values["/proc/sys/net/ipv6/conf/mvh-m0/accept_ra"] == "0")
        #expect(w.sysctls.values["/proc/sys/net/ipv6/conf/mvh-m0/autoconf"] == "0")
        #expect(w.sysctls.values["/proc/sys/net/ipv6/conf/mvh-m0/accept_dad"] == "0")
        // ... written before the link comes up.
        #expect(w.sysctls.atCall.max()! <= w.host.calls.firstIndex(of: "setLinkUp")!)
        // The container reaches the host's global IPv6 address through the shim's link-local address.
        #expect(w.container.routeList.map { "\($0.destination) via \($0.gateway!)" } == ["fd66::1/128 via fe80::1:\(shim.index)"])
        // The master's own addresses and routes are untouched.
        #expect(w.host.addressList.filter { $0.index == w.master.index }.count == 3)
        #expect(!w.host.routeList.contains { $0.outputIndex == w.master.index })
        let record = try #require(try w.access().store.read(World.key("a")))
        #expect(record.shim == "mvh-m0" && record.routes.count == 2)
    }

    @Test func shimAddressesBecomeRouteSourcesAndOffSubnetOnesGetAContainerRoute() throws {
        let w = World()
        try w.attach(try w.access(["10.9.0.254/32", "fd00::fe/128"]), World.key("a"), ["10.9.0.10/24", "fd66::10/64"])
        let shim = try #require(w.shim)
        #expect(w.host.addressList.filter { $0.index == shim.index && $0.scope == RouteScope.universe }.map(\.prefix.description).sorted()
                == ["10.9.0.254/32", "fd00::fe/128"])
        #expect(w.hostRoutes == ["10.9.0.10/32 src 10.9.0.254", "fd66::10/128 src fd00::fe"])
        // 10.9.0.254 is inside the container's /24 (on-link already); fd00::fe is not.
        let routes = w.container.routeList.map { "\($0.destination)" + ($0.gateway.map { " via \($0)" } ?? "") }.sorted()
        #expect(routes == ["fd00::fe/128", "fd66::1/128 via fe80::1:\(shim.index)"])
    }

    @Test func withoutShimAddressesIPv4RoutesTakeTheMastersAddressInTheContainersSubnet() throws {
        let w = World()
        w.host.addressList.append(AddressInfo(index: w.master.index, prefix: IPPrefix("10.10.0.1/24")!, scope: RouteScope.universe))
        let access = try w.access()
        try w.attach(access, World.key("a"), ["10.10.0.10/24"])
        try w.attach(access, World.key("b"), ["192.168.7.10/24"])   // no master address there: the first
        #expect(w.hostRoutes == ["10.10.0.10/32 src 10.10.0.1", "192.168.7.10/32 src 10.9.0.1"])
        #expect(w.host.noDADAddresses.isEmpty)
    }

    @Test func shimAddressesAreAddedWithoutDAD() throws {
        let w = World()
        try w.attach(try w.access(["10.9.0.254/32", "fd66::fe/128"]), World.key("a"), ["10.9.0.10/24"])
        #expect(w.host.noDADAddresses.map(\.description) == ["10.9.0.254/32", "fd66::fe/128"])
    }

    @Test func ipv4OnlyNeedsNoContainerRoutes() throws {
        let w = World()
        try w.attach(try w.access(), World.key("a"), ["10.9.0.10/24"])
        #expect(w.container.routeList.isEmpty)
        #expect(w.sysctls.values["/proc/sys/net/ipv6/conf/mvh-m0/disable_ipv6"] == nil)
    }

    @Test func secondAttachReusesTheShim() throws {
        let w = World()
        let access = try w.access()
        try w.attach(access, World.key("a"), ["10.9.0.10/24"])
        let first = try #require(w.shim)
        let before = (w.host.calls.count, w.sysctls.values.count)
        let setup = try w.attach(access, World.key("b", network: "net2"), ["10.9.0.11/24"])
        #expect(!setup.createdShim)
        #expect(w.shim?.index == first.index)
        let calls = w.host.calls[before.0...]
        #expect(!calls.contains("createMacvlan") && !calls.contains("setAlias") && w.sysctls.values.count == before.1)
        #expect(w.hostRoutes == ["10.9.0.10/32 src 10.9.0.1", "10.9.0.11/32 src 10.9.0.1"])
    }

    @Test func aForeignLinkWithTheShimNameIsAnErrorNamingIt() throws {
        let w = World()
        w.host.addLink("mvh-m0", kind: .other("veth"))
        let access = try w.access()
        let setup = try access.begin(World.key("a"), master: w.master, containerAddresses: [IPPrefix("10.9.0.10/24")!])
        #expect { try setup.ensureShim() } throws: { e in
            let e = e as! HostAccessError
            return e.kind == .conflict && e.message.contains("mvh-m0") && e.message.contains("veth")
        }
        try setup.undo()
        #expect(w.host.links.map(\.name) == ["m0", "mvh-m0"])   // untouched
        #expect(w.dir.files().isEmpty)
    }

    @Test(arguments: [(LinkKind.macvlanFamily(.macvlan, mode: .vepa), nil as String?, "bridge mode"),
                      (.macvlanFamily(.macvtap, mode: .bridge), nil, "not a macvlan"),
                      (.macvlanFamily(.macvlan, mode: .bridge), "someone else's", "alias"),
                      (.macvlanFamily(.macvlan, mode: .bridge), nil, "alias")])
    func lookalikesAreNotOurs(kind: LinkKind, alias: String?, reason: String) throws {
        let w = World()
        w.host.addLink("mvh-m0", kind: kind, parent: w.master.index, alias: alias)
        #expect { try w.attach(try w.access(), World.key("a"), ["10.9.0.10/24"]) } throws: { e in
            (e as? HostAccessError)?.kind == .conflict && (e as! HostAccessError).message.contains(reason)
        }
    }

    @Test func aShimLeftWithoutAliasByAKilledAddIsClaimedAndFinished() throws {
        let w = World()
        let access = try w.access()
        // A killed ADD: its record is written and the shim created, nothing else.
        let killed = try access.begin(World.key("killed"), master: w.master, containerAddresses: [IPPrefix("10.9.0.10/24")!])
        try w.host.createMacvlan(MacvlanRequest(name: "mvh-m0", parentIndex: w.master.index, mode: .bridge))
        killed.finish()
        let setup = try w.attach(access, World.key("b"), ["10.9.0.11/24"])
        #expect(!setup.createdShim)
        #expect(w.shim?.alias == ShimName.alias && w.shim?.isUp == true)
        // The DEL of the killed ADD removes only its own (never added) route; the shim stays for b.
        try access.detach(World.key("killed"))
        #expect(w.hostRoutes == ["10.9.0.11/32 src 10.9.0.1"])
        try access.detach(World.key("b"))
        #expect(w.shim == nil)
    }

    @Test func anExistingRouteIsSomeoneElsesAndSurvivesTheUndo() throws {
        let w = World()
        let access = try w.access()
        try w.attach(access, World.key("a"), ["10.9.0.10/24"])
        let setup = try access.begin(World.key("b"), master: w.master, containerAddresses: [IPPrefix("10.9.0.12/24")!, IPPrefix("10.9.0.10/24")!])
        try setup.ensureShim()
        #expect { try setup.addHostRoutes() } throws: { e in
            let e = e as! HostAccessError
            return e.kind == .conflict && e.details.contains("a/eth0")
        }
        try setup.undo()
        #expect(w.hostRoutes == ["10.9.0.10/32 src 10.9.0.1"])     // a's route kept, b's first one removed
        #expect(w.shim != nil)                        // a still uses it
        #expect(try access.store.read(World.key("b")) == nil)
    }

    @Test func undoDeletesTheShimOnlyWhenThisAddCreatedIt() throws {
        let w = World()
        let access = try w.access()
        let setup = try access.begin(World.key("a"), master: w.master, containerAddresses: [IPPrefix("10.9.0.10/24")!])
        try setup.ensureShim()
        try setup.addHostRoutes()
        setup.finish()
        try setup.undo()   // takes the lock again
        #expect(w.shim == nil && w.hostRoutes.isEmpty && w.dir.files().isEmpty)

        // A shim that was there before (ours, unused) is left as it was.
        w.host.addLink("mvh-m0", kind: .macvlanFamily(.macvlan, mode: .bridge), parent: w.master.index, alias: ShimName.alias)
        let again = try access.begin(World.key("a"), master: w.master, containerAddresses: [IPPrefix("10.9.0.10/24")!])
        try again.ensureShim()
        try again.addHostRoutes()
        try again.undo()   // lock still held by the setup
        #expect(w.shim != nil && w.hostRoutes.isEmpty && w.dir.files().isEmpty)
    }

    @Test func failuresPartWayThroughShimCreationAreUndone() throws {
        for op in ["setAlias", "addAddress", "setLinkUp"] {
            let w = World()
            w.host.failures[op] = FakeRoutes.error(EPERM, op)
            let access = try w.access(["10.9.0.254/32"])
            let setup = try access.begin(World.key("a"), master: w.master, containerAddresses: [IPPrefix("10.9.0.10/24")!])
            #expect(throws: HostAccessError.self) { try setup.ensureShim() }
            w.host.failures.removeAll()
            try setup.undo()
            #expect(w.shim == nil, "after a failing \(op)")
            #expect(w.dir.files().isEmpty)
        }
    }

    @Test func interruptedNetlinkCallsBecomeInterrupted() throws {
        let w = World()
        w.host.failures["addRoute"] = FakeRoutes.error(EINTR)
        #expect { try w.attach(try w.access(), World.key("a"), ["10.9.0.10/24"]) } throws: { ($0 as? HostAccessError)?.kind == .interrupted }
    }

    @Test func detachRemovesRoutesThenTheLastShimAndIsIdempotent() throws {
        let w = World()
        let access = try w.access()
        try w.attach(access, World.key("a"), ["10.9.0.10/24", "fd66::10/64"])
        try w.attach(access, World.key("b"), ["10.9.0.11/24"])
        try access.detach(World.key("a"))
        #expect(w.hostRoutes == ["10.9.0.11/32 src 10.9.0.1"])
        try access.detach(World.key("a"))
        try access.detach(World.key("b"))
        #expect(w.shim == nil)
        #expect(w.dir.files().isEmpty)
        try access.detach(World.key("b"))
        try access.detach(World.key("never"))
    }

    @Test func detachWorksWhenTheMasterAndShimAreGone() throws {
        let w = World()
        let access = try w.access()
        try w.attach(access, World.key("a"), ["10.9.0.10/24"])
        try w.host.deleteLink(index: w.master.index)   // takes the shim and its routes with it
        try access.detach(World.key("a"))
        #expect(w.dir.files().isEmpty)
    }

    @Test func aFailingRouteDeletionKeepsTheRecordForTheNextDel() throws {
        let w = World()
        let access = try w.access()
        try w.attach(access, World.key("a"), ["10.9.0.10/24"])
        w.host.failures["deleteRoute"] = FakeRoutes.error(EPERM)
        #expect(throws: HostAccessError.self) { try access.detach(World.key("a")) }
        #expect(try access.store.read(World.key("a")) != nil)
        w.host.failures.removeAll()
        try access.detach(World.key("a"))
        #expect(w.shim == nil && w.dir.files().isEmpty)
    }

    @Test func aStaleRecordOfTheSameAttachmentIsReplaced() throws {
        let w = World()
        let access = try w.access()
        try w.attach(access, World.key("a"), ["10.9.0.10/24"])
        try w.attach(access, World.key("a"), ["10.9.0.20/24"])
        #expect(w.hostRoutes == ["10.9.0.20/32 src 10.9.0.1"])
        #expect(try access.store.read(World.key("a"))?.routes.map(\.destination.description) == ["10.9.0.20/32"])
    }

    @Test func gcRemovesStaleAttachmentsOfItsNetworkAndUnusedShims() throws {
        let w = World()
        let access = try w.access()
        try w.attach(access, World.key("keep"), ["10.9.0.10/24"])
        try w.attach(access, World.key("gone"), ["10.9.0.11/24"])
        try w.attach(access, World.key("other", network: "net2"), ["10.9.0.12/24"])
        // An unused shim of ours on another master, and a lookalike that is not ours.
        let m1 = w.host.addLink("m1")
        w.host.addLink("mvh-m1", kind: .macvlanFamily(.macvlan, mode: .bridge), parent: m1.index, alias: ShimName.alias)
        w.host.addLink("mvh-m2", kind: .macvlanFamily(.macvlan, mode: .bridge), parent: m1.index)
        try access.collect(network: "net1", valid: [World.key("keep")])
        #expect(w.hostRoutes == ["10.9.0.10/32 src 10.9.0.1", "10.9.0.12/32 src 10.9.0.1"])
        #expect(w.host.links.map(\.name).sorted() == ["m0", "m1", "mvh-m0", "mvh-m2"])
        #expect(try access.store.records().map(\.key.containerID).sorted() == ["keep", "other"])
        try access.collect(network: "net1", valid: [])
        try access.collect(network: "net2", valid: [])
        #expect(w.shim == nil)
        #expect(w.dir.files().isEmpty)
    }

    @Test func checkFindsEveryKindOfDrift() throws {
        let addresses = [IPPrefix("10.9.0.10/24")!, IPPrefix("fd66::10/64")!]
        func check(_ w: World, _ access: HostAccess) throws {
            try access.check(World.key("a"), master: w.master, containerAddresses: addresses, container: w.container,
                             containerLinkIndex: w.containerLink.index)
        }
        func drifted(_ change: (World, HostAccess) throws -> Void, _ expected: String) throws {
            let w = World()
            let access = try w.access(["10.9.0.254/32"])
            try w.attach(access, World.key("a"), ["10.9.0.10/24", "fd66::10/64"])
            try check(w, access)
            try change(w, access)
            #expect { try check(w, access) } throws: { e in
                let e = e as! HostAccessError
                return e.kind == .drift && e.description.contains(expected)
            }
        }
        try drifted({ w, _ in try w.host.deleteLink(index: w.shim!.index) }, "does not exist")
        try drifted({ w, _ in w.host.links[w.host.links.firstIndex { $0.name == "mvh-m0" }!].flags.remove(.up) }, "down")
        try drifted({ w, _ in w.host.links[w.host.links.firstIndex { $0.name == "mvh-m0" }!].alias = "x" }, "alias")
        try drifted({ w, _ in w.host.addressList.removeAll { $0.prefix.description == "10.9.0.254/32" } }, "lacks its address")
        try drifted({ w, _ in w.host.routeList.removeAll { $0.destination.description == "fd66::10/128" } }, "fd66::10/128")
        try drifted({ _, a in try a.store.remove(World.key("a")) }, "no host-access record")
        try drifted({ w, _ in w.container.routeList.removeAll() }, "fd66::1/128")
    }
}
