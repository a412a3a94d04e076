import Glibc
import Netlink
import Testing

@Suite struct NetlinkErrorTests {
    @Test(arguments: [
        (EEXIST, NetlinkError.Kind.exists), (ENODEV, .notFound), (ENOENT, .notFound), (ESRCH, .notFound),
        (EADDRNOTAVAIL, .notFound), (EPERM, .permission), (EACCES, .permission), (EINVAL, .invalid),
        (ERANGE, .invalid), (EOPNOTSUPP, .invalid), (EBUSY, .busy), (EINTR, .interrupted), (ENOMEM, .other),
    ])
    func kinds(errno: Int32, kind: NetlinkError.Kind) {
        #expect(NetlinkError(errno: errno, operation: "x").kind == kind)
    }

    @Test func description() {
        let e = NetlinkError(errno: EEXIST, operation: "add address 10.0.0.2/24 to link index 3",
                             kernelMessage: "ipv4: Address already assigned")
        #expect(e.description == "add address 10.0.0.2/24 to link index 3: File exists: ipv4: Address already assigned")
        #expect(NetlinkError(errno: ENODEV, operation: "delete link index 9").description
                == "delete link index 9: No such device")
    }

    func failing(_ code: Int32) throws(NetlinkError) { throw NetlinkError(errno: code, operation: "op") }
    func failingUntyped(_ code: Int32) throws { throw NetlinkError(errno: code, operation: "op") }

    @Test func patternMatching() {
        var matched = ""
        do { try failing(EEXIST) } catch NetlinkError.exists { matched = "exists" } catch { matched = "other" }
        #expect(matched == "exists")
        do { try failingUntyped(ENODEV) } catch NetlinkError.exists { matched = "exists" }
        catch NetlinkError.notFound { matched = "notFound" } catch { matched = "other" }
        #expect(matched == "notFound")
    }
}
