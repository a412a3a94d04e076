import CNI
import Testing

/// The body throws a CNIError with this code.
public func expectCode(_ code: CNIError.Code, _ body: () throws(CNIError) -> Void, sourceLocation: SourceLocation = #_sourceLocation) {
    do { try body(); Issue.record("no error, expected code \(code.rawValue)", sourceLocation: sourceLocation) } catch {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    }
}

/// The error a body throws (nil, recorded as an issue, if it does not).
public func thrownError(_ body: () throws(CNIError) -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> CNIError? {
    do { try body() } catch { return error }
    Issue.record("no error", sourceLocation: sourceLocation)
    return nil
}
