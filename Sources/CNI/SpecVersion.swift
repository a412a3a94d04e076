import NetTypes

/// A CNI specification version ("1.1.0"). Comparable, so verb gates read as `version >= .v0_4_0`.
public struct SpecVersion: Comparable, Hashable, Sendable, CustomStringConvertible {
    public let major: Int
    public let minor: Int
    public let patch: Int

    public init(_ major: Int, _ minor: Int, _ patch: Int) {
        self.major = major; self.minor = minor; self.patch = patch
    }

    /// Strict "X.Y.Z" with decimal components; anything else is not a version.
    public init?(_ text: String) {
        let parts = text.split(onByte: UInt8(ascii: "."), omittingEmpty: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty && $0.count <= 4 && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
              let a = Int(parts[0]), let b = Int(parts[1]), let c = Int(parts[2]) else { return nil }
        self.init(a, b, c)
    }

    public static let v0_1_0 = SpecVersion(0, 1, 0)
    public static let v0_2_0 = SpecVersion(0, 2, 0)
    public static let v0_3_0 = SpecVersion(0, 3, 0)
    public static let v0_3_1 = SpecVersion(0, 3, 1)
    public static let v0_4_0 = SpecVersion(0, 4, 0)
    public static let v1_0_0 = SpecVersion(1, 0, 0)
    public static let v1_1_0 = SpecVersion(1, 1, 0)

    public static let supported: [SpecVersion] = [.v0_1_0, .v0_2_0, .v0_3_0, .v0_3_1, .v0_4_0, .v1_0_0, .v1_1_0]
    public static let latest = SpecVersion.v1_1_0

    public var isSupported: Bool { SpecVersion.supported.contains(self) }
    /// 0.1.0 and 0.2.0 results use the `ip4`/`ip6` shape.
    public var usesLegacyResult: Bool { self < .v0_3_0 }

    public var description: String { "\(major).\(minor).\(patch)" }

    public static func < (a: SpecVersion, b: SpecVersion) -> Bool {
        (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch)
    }
}
