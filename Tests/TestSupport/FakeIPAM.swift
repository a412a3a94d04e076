import CNI
import NetTypes

/// An IPAM that answers from memory and records every call.
public final class FakeIPAM: IPAM {
    public let type: String
    public var result: CNIResult
    /// Errors by verb ("ADD", "DEL", "CHECK", "STATUS", "GC").
    public var failures: [String: CNIError] = [:]
    /// Every call: the verb, and for DEL whether it was a rollback ("DEL-rollback").
    public private(set) var calls: [String] = []

    public init(type: String = "fake", result: CNIResult = FakeIPAM.defaultResult) {
        self.type = type
        self.result = result
    }

    public static let defaultResult = CNIResult(ips: [CNIResult.IPConfig(address: IPPrefix("10.77.0.2/24")!, gateway: IPAddress("10.77.0.1"))],
                                                routes: [CNIResult.Route(destination: IPPrefix("0.0.0.0/0")!)])

    private func called(_ verb: String, _ record: String? = nil) throws(CNIError) {
        calls.append(record ?? verb)
        if let failure = failures[verb] { throw failure }
    }

    public func add(_ request: Request) throws(CNIError) -> CNIResult { try called("ADD"); return result }
    /// Overlapped ADD: recorded as "ADD-start" when started (a real IPAM allocates then, whoever waits), its
    /// answer (or `failures["ADD"]`) given when finished ("ADD-finish").
    public func startAdd(_ request: Request) throws(CNIError) -> PendingIPAM<CNIResult> {
        try called("ADD-start")
        return PendingIPAM { () throws(CNIError) in try self.called("ADD", "ADD-finish"); return self.result }
    }
    public func startCheck(_ request: Request) throws(CNIError) -> PendingIPAM<Void> {
        try called("CHECK-start")
        return PendingIPAM { () throws(CNIError) in try self.called("CHECK", "CHECK-finish") }
    }
    public func delete(_ request: Request, rollback: Bool) throws(CNIError) { try called("DEL", rollback ? "DEL-rollback" : "DEL") }
    public func check(_ request: Request) throws(CNIError) { try called("CHECK") }
    public func status(_ request: Request) throws(CNIError) { try called("STATUS") }
    public func garbageCollect(_ request: Request) throws(CNIError) { try called("GC") }
}
