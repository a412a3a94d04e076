import JSON

/// The one error type the protocol layer prints. Lower layers convert their errors into it with context
/// (what was being done, on which interface, in which namespace).
public struct CNIError: Error, Sendable, CustomStringConvertible {
    /// The spec's codes. A struct, not an enum: plugins add their own (100 and up) as static members in their
    /// own modules, and an IPAM plugin's error keeps whatever code it chose.
    public struct Code: RawRepresentable, Hashable, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }

        public static let incompatibleVersion = Code(rawValue: 1)
        public static let unsupportedField = Code(rawValue: 2)
        public static let unknownContainer = Code(rawValue: 3)
        public static let invalidEnvironment = Code(rawValue: 4)
        public static let ioFailure = Code(rawValue: 5)
        public static let decodingFailure = Code(rawValue: 6)
        public static let invalidConfig = Code(rawValue: 7)
        public static let tryAgainLater = Code(rawValue: 11)
        public static let notAvailable = Code(rawValue: 50)
        public static let notAvailableLimitedConnectivity = Code(rawValue: 51)
    }

    public var code: Code
    public var message: String
    public var details: String

    public init(_ code: Code, _ message: String, details: String = "") {
        self.code = code
        self.message = message
        self.details = details
    }

    public var description: String { details.isEmpty ? message : "\(message) (\(details))" }

    /// Prefixes context, keeping the code: "setting up eth0: <message>".
    public func context(_ prefix: String) -> CNIError {
        CNIError(code, "\(prefix): \(message)", details: details)
    }

    public func json(version: String) -> JSONValue {
        var object = JSONObject()
        object["cniVersion"] = .string(version)
        object["code"] = .int(Int64(code.rawValue))
        object["msg"] = .string(message)
        if !details.isEmpty { object["details"] = .string(details) }
        return .object(object)
    }
}
