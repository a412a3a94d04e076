import CProcess

/// Termination signals, as the dispatcher's handlers recorded them (`Dispatcher.main` installs them).
public enum Signals {
    /// The first SIGTERM, SIGINT or SIGHUP received, or 0.
    public static var terminationSignal: Int32 { cs_termination_signal() }
    public static var terminated: Bool { cs_termination_signal() != 0 }
}
