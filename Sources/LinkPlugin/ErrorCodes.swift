import CNI

/// The codes of every link plugin (the spec leaves 100 and up to plugins). One set for the whole family, so a
/// runtime's operator reads the same number the same way whichever plugin answered.
extension CNIError.Code {
    /// A link operation failed (the kernel's message is included); CHECK found the link different.
    public static let linkFailure = CNIError.Code(rawValue: 100)
    /// An address or route could not be applied; CHECK found one missing.
    public static let addressingFailure = CNIError.Code(rawValue: 101)
    /// The IPAM's answer cannot be used: no address, an address no interface can have, or too large.
    public static let unusableIPAMResult = CNIError.Code(rawValue: 102)
    /// The IPAM could not be run, died, timed out, or failed without an error JSON.
    public static let ipamExecutionFailure = CNIError.Code(rawValue: 103)
    /// A termination signal arrived; everything done was undone.
    public static let interrupted = CNIError.Code(rawValue: 104)
}

extension DelegationCodes {
    /// The link plugins' codes for failures of a delegated IPAM.
    public static let linkPlugin = DelegationCodes(executionFailure: .ipamExecutionFailure, interrupted: .interrupted,
                                                   unusableResult: .unusableIPAMResult)
}
