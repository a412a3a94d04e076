import Testing
@testable import JSON

@Suite struct JSONParsingTests {
    @Test func parsesEveryType() throws {
        let v = try JSONValue.parse(#"{"s":"x","i":-3,"d":1.5,"t":true,"f":false,"n":null,"a":[1,"2"],"o":{"k":"v"}}"#)
        #expect(v["s"] == "x")
        #expect(v["i"] == .int(-3))
        #expect(v["d"] == .double(1.5))
        #expect(v["t"] == true)
        #expect(v["f"] == false)
        #expect(v["n"] == .null)
        #expect(v["a"] == [1, "2"])
        #expect(v["o"]?["k"] == "v")
        #expect(v.objectValue?.keys == ["s", "i", "d", "t", "f", "n", "a", "o"])
    }

    @Test(arguments: ["", "{", "{\"a\":}", "[1,]", "{\"a\":1}x", "nul", "{\"a\":1,\"a\":2}", "\"\\ud800\""])
    func rejects(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test func duplicateKeysAreNamed() {
        do throws(JSONParseError) { _ = try JSONValue.parse(#"{"mtu":1,"mtu":2}"#); Issue.record("accepted duplicate") } catch {
            #expect(error.message.contains("duplicate"))
            #expect(error.line == 1)
        }
    }

    @Test func keepsEmbeddedNulAndUnicode() throws {
        let v = try JSONValue.parse(#"{"k":"a\u0000b","u":"é✓"}"#)
        #expect(v["k"]?.stringValue?.utf8.count == 3)
        #expect(v["u"] == "é✓")
    }

    @Test func deepNestingIsBoundedNotFatal() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(deep) }
    }
}

@Suite struct JSONSerialisationTests {
    @Test func roundTripsKeepingOrder() throws {
        let text = #"{"z":1,"a":[true,null,"x"],"m":{"b":2,"a":1}}"#
        let v = try JSONValue.parse(text)
        #expect(v.serialized(indent: 0) == text)
        #expect(try JSONValue.parse(v.serialized()) == v)
    }

    @Test func escapes() {
        let v: JSONValue = ["k": "quote\" back\\ nl\n"]
        #expect(v.serialized(indent: 0) == #"{"k":"quote\" back\\ nl\n"}"#)
    }

    @Test func objectEqualityIgnoresOrder() throws {
        #expect(try JSONValue.parse(#"{"a":1,"b":2}"#) == JSONValue.parse(#"{"b":2,"a":1}"#))
    }

    @Test func subscriptSetAndRemove() {
        var o = JSONObject()
        o["a"] = 1
        o["b"] = 2
        o["a"] = 3
        #expect(o.keys == ["a", "b"])
        o["a"] = nil
        #expect(o.keys == ["b"])
    }
}

/// Field lookup as Go's encoding/json fills a struct field (what the reference plugins decode with).
@Suite struct FieldLookupTests {
    @Test func caseInsensitive() throws {
        let v = try JSONValue.parse(#"{"MTU":1400,"Master":"eth1","ipam":{"Type":"static"}}"#)
        #expect(v[field: "mtu"] == .int(1400))
        #expect(v[field: "master"] == "eth1")
        #expect(v[field: "ipam"]?[field: "type"] == "static")
        #expect(v["mtu"] == nil)  // the plain subscript stays exact
    }

    @Test func lastMatchingKeyWins() throws {
        let v = try JSONValue.parse(#"{"mtu":1400,"MTU":1300}"#)
        #expect(v[field: "mtu"] == .int(1300))
        #expect(v.objectValue?.key(forField: "mtu") == "MTU")
        let w = try JSONValue.parse(#"{"MTU":1300,"mtu":1400}"#)
        #expect(w[field: "mtu"] == .int(1400))
    }

    @Test(arguments: ["mt_", "mtu ", "m tu", "mtü", "MTUx", ""])
    func onlyLettersFold(_ key: String) throws {
        let object = JSONObject([(key, .int(1))])
        #expect(object[field: "mtu"] == nil)
    }

    @Test func nonLettersMustMatchExactly() {
        // '@' (0x40) and '`' (0x60) differ only in the bit ASCII case flips: they are not letters.
        #expect(JSONObject([("a@", .int(1))])[field: "a`"] == nil)
        #expect(JSONObject([("K8S_pod", .int(1))])[field: "k8s_POD"] == .int(1))
    }
}
