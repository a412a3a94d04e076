import Testing
@testable import LinkPlugin

let names = TemporaryName(prefix: "mvtmp")

@Suite struct TemporaryNameTests {
    @Test func fitsTheKernelLimitAndIsStable() {
        let a = names.make(containerID: "abc", ifName: "eth0")
        #expect(a.text.utf8.count == 15)
        #expect(a.text.hasPrefix(names.prefix))
        #expect(a == names.make(containerID: "abc", ifName: "eth0"))
    }

    @Test func differsPerAttachment() {
        let made = Set((0..<1000).map { names.make(containerID: "c\($0)", ifName: "eth0") })
        #expect(made.count == 1000)
        #expect(names.make(containerID: "ab", ifName: "ceth0") != names.make(containerID: "abc", ifName: "eth0"))
    }
}
