import NetTypes
import Testing

@Suite struct PCIAddressTests {
    @Test(arguments: [("0000:3b:00.1", "0000:3b:00.1"), ("0000:3B:1F.7", "0000:3b:1f.7"), ("3b:00.0", "0000:3b:00.0"),
                      ("10de:af:02.3", "10de:af:02.3")])
    func accepted(text: String, canonical: String) {
        #expect(PCIAddress(text)?.description == canonical)
    }

    @Test(arguments: ["", "eth0", "0000:3b:00", "0000:3b:00.8", "0000:3b:20.0", "0000:3g:00.0", "000:3b:00.0", "0000-3b-00.0",
                      "0000:3b:00.1 ", "../../x:00.0", "00000:3b:00.0"])
    func rejected(text: String) {
        #expect(PCIAddress(text) == nil)
    }
}

@Suite struct FNV1aTests {
    /// Published FNV-1a 64 test vectors: the hash must never change (temporary names and derived MACs of
    /// existing attachments depend on it).
    @Test func knownVectors() {
        #expect(FNV1a.hash([""]) == 0xcbf2_9ce4_8422_2325)
        #expect(FNV1a.hash(["a"]) == 0xaf63_dc4c_8601_ec8c)
        #expect(FNV1a.hash(["foobar"]) == 0x8594_4171_f739_67e8)
    }

    @Test func partsAreJoinedByNUL() {
        #expect(FNV1a.hash(["ab", "c"]) != FNV1a.hash(["a", "bc"]))
        #expect(FNV1a.hash(["a", "b"]) == FNV1a.hash(["a\u{0}b"]))
    }
}
