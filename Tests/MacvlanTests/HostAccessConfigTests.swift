import Testing
import TestSupport
@testable import Macvlan
import CNI
import HostAccess
import JSON
import NetTypes

/// The `hostAccess` key: its two forms, and what it refuses with code 7 before anything is changed.
@Suite struct HostAccessConfigTests {
    @Test func absentFalseAndNullMeanNoHostAccess() throws {
        #expect(try config().hostAccess == nil)
        #expect(try config(["hostAccess": false]).hostAccess == nil)
        #expect(try config(["hostAccess": nil]).hostAccess == nil)
    }

    @Test func trueIsTheEmptyObject() throws {
        let plain = try #require(try config(["hostAccess": true]).hostAccess)
        #expect(plain == (try config(["hostAccess": [:]]).hostAccess))
        #expect(plain.addresses.isEmpty && plain.dataDir == HostAccessConfig.defaultDataDir)
    }

    @Test func objectForm() throws {
        let c = try #require(try config(["hostAccess": ["addresses": ["10.9.0.254/32", "fd00::fe/128"], "dataDir": "/tmp/ha"]]).hostAccess)
        #expect(c.addresses == [IPPrefix("10.9.0.254/32")!, IPPrefix("fd00::fe/128")!])
        #expect(c.dataDir == "/tmp/ha")
    }

    @Test(arguments: [
        (["hostAccess": true, "mode": "vepa"], "bridge"),
        (["hostAccess": true, "mode": "private"], "bridge"),
        (["hostAccess": true, "linkInContainer": true], "linkInContainer"),
        (["hostAccess": true, "ipam": [:]], "ipam"),
        (["hostAccess": "yes"], "hostAccess"),
        (["hostAccess": 1], "hostAccess"),
        (["hostAccess": ["addresses": "10.9.0.254/32"]], "addresses"),
        (["hostAccess": ["addresses": [1]]], "addresses"),
        (["hostAccess": ["addresses": ["10.9.0.254"]]], "10.9.0.254"),
        (["hostAccess": ["addresses": ["10.9.0.0/24"]]], "/32"),
        (["hostAccess": ["dataDir": "relative"]], "dataDir"),
        (["hostAccess": ["dataDir": 5]], "dataDir"),
    ] as [(JSONObject, String)])
    func refusedWithCode7(overrides: JSONObject, mentions: String) {
        do throws(CNIError) { _ = try config(overrides); Issue.record("accepted \(overrides)") } catch {
            #expect(error.code == .invalidConfig, "\(error)")
            #expect(error.description.contains(mentions), "\(error)")
        }
    }

    @Test func noIPAMKeyAtAllIsRefused() throws {
        let request = try ConfigBuilder().with(["hostAccess": true]).removing("ipam").request(.add)
        expectCode(.invalidConfig) { () throws(CNIError) in _ = try MacvlanConfig(request) }
    }

    @Test func keysMatchIgnoringCaseAsElsewhere() throws {
        #expect(try config(["HostAccess": ["Addresses": ["10.9.0.254/32"]]]).hostAccess?.addresses == [IPPrefix("10.9.0.254/32")!])
    }

    @Test func validAttachmentsOfGC() throws {
        let r = try request(["cni.dev/valid-attachments": [["containerID": "a", "ifname": "eth0"], ["containerID": "b", "ifname": "net1"]]],
                            command: .gc, version: "1.1.0")
        #expect(try HostAccessSettings.validAttachments(r) == [AttachmentKey(network: "net", containerID: "a", ifName: "eth0"),
                                                              AttachmentKey(network: "net", containerID: "b", ifName: "net1")])
        #expect(try HostAccessSettings.validAttachments(try request(command: .gc, version: "1.1.0")) == nil)
        let bad = try request(["cni.dev/valid-attachments": [["containerID": "a"]]], command: .gc, version: "1.1.0")
        expectCode(.invalidConfig) { () throws(CNIError) in _ = try HostAccessSettings.validAttachments(bad) }
    }

    @Test func errorKindsMapToCNICodes() {
        #expect(HostAccessError(.busy, "x").cni.code == .tryAgainLater)
        #expect(HostAccessError(.interrupted, "x").cni.code == .interrupted)
        #expect(HostAccessError(.stateFailure, "x").cni.code == .ioFailure)
        #expect(HostAccessError(.conflict, "x").cni.code == .linkFailure)
        #expect(HostAccessError(.drift, "x").cni.message.hasPrefix("CHECK failed"))
    }
}
