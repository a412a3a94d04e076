import Glibc

/// The one way this package makes a blocking system call: retried while it fails with EINTR, unless a
/// termination signal should cut it short (`untilTerminated`: the caller then sees EINTR and rolls back).
/// Bounded, so a storm of signals cannot spin for ever.
public func retryingEINTR<T: BinaryInteger>(untilTerminated terminated: () -> Bool = { false }, _ call: () -> T) -> T {
    var result = call()
    var attempts = 0
    while result < 0 && errno == EINTR && !terminated() && attempts < 1000 {
        attempts += 1
        result = call()
    }
    return result
}

/// The text of an errno value ("No such file or directory"), or "errno N" for one libc does not know.
public func errnoText(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(cString: text)
}

/// The names in a directory, without "." and "..", in the order the kernel gives them; nil when the directory
/// cannot be opened (errno is opendir's, so the caller can tell a missing directory from another failure).
public func directoryEntries(_ path: String) -> [String]? {
    guard let directory = opendir(path) else { return nil }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names
}
