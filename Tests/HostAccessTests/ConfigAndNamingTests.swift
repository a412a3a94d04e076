import NetTypes
import Testing
@testable import HostAccess

@Suite struct ConfigAndNamingTests {
    @Test func shimNameIsDerivedFromTheMaster() {
        #expect(ShimName.forMaster("eth0") == "mvh-eth0")
        #expect(ShimName.forMaster("enp0s31f6") == "mvh-enp0s31f6")
        #expect(ShimName.forMaster("abcdefghijk") == "mvh-abcdefghijk")   // exactly 15 bytes
    }

    @Test func longMastersGetAHashedNameThatFits() {
        let a = ShimName.forMaster("enx001122334455")
        let b = ShimName.forMaster("enx001122334466")
        #expect(a.utf8.count == 15 && b.utf8.count == 15)
        #expect(a.hasPrefix("mvh-enx0-") && b.hasPrefix("mvh-enx0-"))
        #expect(a != b)
        #expect(a == ShimName.forMaster("enx001122334455"))   // stable
    }

    @Test(arguments: ["10.9.0.0/24", "10.9.0.254/31", "fd00::/64", "224.0.0.1/32", "127.0.0.1/32", "0.0.0.0/32",
                      "ff02::1/128", "fe80::1/128", "::1/128", "::/128", "255.255.255.255/32"])
    func addressesMustBeSingleUsableHostAddresses(text: String) {
        #expect(throws: HostAccessError.self) { try HostAccessConfig(addresses: [IPPrefix(text)!], dataDir: "/run/x") }
    }

    @Test func goodAddressesAndTheSourcePerFamily() throws {
        let config = try HostAccessConfig(addresses: [IPPrefix("10.9.0.254/32")!, IPPrefix("fd66::fe/128")!, IPPrefix("10.9.0.253/32")!])
        #expect(config.shimAddress(.v4) == IPAddress("10.9.0.254"))
        #expect(config.shimAddress(.v6) == IPAddress("fd66::fe"))
        #expect(config.dataDir == HostAccessConfig.defaultDataDir)
        #expect(try HostAccessConfig().shimAddress(.v4) == nil)
    }

    @Test func duplicateAddressesAndBadDataDirsAreRefused() {
        #expect(throws: HostAccessError.self) { try HostAccessConfig(addresses: [IPPrefix("10.9.0.254/32")!, IPPrefix("10.9.0.254/32")!]) }
        for dir in ["relative/dir", "/run/../etc", ""] {
            #expect(throws: HostAccessError.self) { try HostAccessConfig(dataDir: dir) }
        }
    }

    @Test func recordRoundTrips() {
        let record = AttachmentRecord(key: AttachmentKey(network: "net-1", containerID: "abc.def_1", ifName: "eth0"), master: "m0",
                                      shim: "mvh-m0", routes: [HostRoute(destination: IPPrefix("10.9.0.10/32")!, source: IPAddress("10.9.0.254")),
                                                               HostRoute(destination: IPPrefix("fd66::10/128")!, source: nil)])
        #expect(AttachmentRecord(decoding: record.encoded) == record)
        let empty = AttachmentRecord(key: record.key, master: "m0", shim: "mvh-m0", routes: [])
        #expect(AttachmentRecord(decoding: empty.encoded) == empty)
    }

    @Test(arguments: ["", "garbage\n", "macvlan-cni host-access 1\nnetwork n\n",
                      "macvlan-cni host-access 1\nnetwork n\ncontainer c\nifname e\nmaster m\nshim s\nroute nonsense\n",
                      "macvlan-cni host-access 1\nnetwork n\ncontainer c\nifname e\nmaster m\nshim s\nshim t\n",
                      "macvlan-cni host-access 1\nnetwork n\ncontainer c\nifname e\nmaster m\nshim s\nroute 10.0.0.1/32 src\n",
                      "macvlan-cni host-access 2\nnetwork n\ncontainer c\nifname e\nmaster m\nshim s\n"])
    func damagedRecordsDoNotDecode(text: String) {
        #expect(AttachmentRecord(decoding: text) == nil)
    }
}
