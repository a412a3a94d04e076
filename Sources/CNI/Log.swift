/// Where one invocation's progress and diagnostics go: a line prefixed with the plugin's name, written to the
/// invocation's error stream (stderr, never stdout: runtimes parse stdout). A value handed down with the
/// request, not process-wide state, so invocations run side by side in tests each keep their own lines.
public struct Log {
    public let prefix: String
    private let sink: (String) -> Void

    public init(prefix: String, sink: @escaping (String) -> Void) {
        self.prefix = prefix
        self.sink = sink
    }

    /// The process's stderr.
    public static func standardError(prefix: String) -> Log { Log(prefix: prefix) { StandardIO.write($0, fd: 2) } }

    public func callAsFunction(_ text: String) { sink("\(prefix): \(text)\n") }
}
