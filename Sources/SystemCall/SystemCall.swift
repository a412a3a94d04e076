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

/// A file operation that failed: the step, the path it was done on, errno (EFBIG for `.tooLarge`), and the
/// action in words for messages ("creating /d/.tmp", "renaming /d/.tmp to /d/record").
public struct FileFailure: Error, Sendable {
    public enum Step: Sendable { case open, read, tooLarge, makeDirectory, create, write, sync, rename }
    public let step: Step
    public let path: String
    public let code: Int32
    public let action: String
}

/// The whole of a file, nil when it does not exist. More than `limit` bytes is `.tooLarge`: these are small
/// records, and a larger file is not one of them.
public func readWholeFile(_ path: String, limit: Int) throws(FileFailure) -> [UInt8]? {
    let fd = retryingEINTR { open(path, O_RDONLY | O_CLOEXEC) }
    guard fd >= 0 else {
        if errno == ENOENT { return nil }
        throw FileFailure(step: .open, path: path, code: errno, action: "opening \(path)")
    }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 16384)
    while true {
        let n = retryingEINTR { chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } }
        if n < 0 { throw FileFailure(step: .read, path: path, code: errno, action: "reading \(path)") }
        if n == 0 { return bytes }
        bytes += chunk[..<n]
        if bytes.count > limit { throw FileFailure(step: .tooLarge, path: path, code: EFBIG, action: "reading \(path)") }
    }
}

/// Replaces `path` atomically: writes `temporary` (in the same directory) with `mode`, fsyncs it when `sync`
/// (state that must survive a crash), renames it over `path`. The temporary is removed when a step fails.
public func replaceFile(_ path: String, with bytes: [UInt8], temporary: String, mode: mode_t, sync: Bool = false) throws(FileFailure) {
    let fd = retryingEINTR { open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode) }
    guard fd >= 0 else { throw FileFailure(step: .create, path: temporary, code: errno, action: "creating \(temporary)") }
    func abandon(_ step: FileFailure.Step, _ code: Int32, _ action: String) -> FileFailure {
        close(fd)
        unlink(temporary)
        return FileFailure(step: step, path: temporary, code: code, action: action)
    }
    var offset = 0
    while offset < bytes.count {
        let n = retryingEINTR { bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) } }
        guard n > 0 else { throw abandon(.write, n < 0 ? errno : EIO, "writing \(temporary)") }
        offset += n
    }
    if sync && fsync(fd) != 0 { throw abandon(.sync, errno, "syncing \(temporary)") }
    close(fd)
    guard rename(temporary, path) == 0 else {
        let code = errno
        unlink(temporary)
        throw FileFailure(step: .rename, path: temporary, code: code, action: "renaming \(temporary) to \(path)")
    }
}

/// `mkdir -p`: every missing directory of the absolute `path`, made with `mode`; existing ones are kept as they are.
public func makeDirectories(_ path: String, mode: mode_t) throws(FileFailure) {
    var partial = ""
    for component in path.utf8.split(separator: UInt8(ascii: "/")) {
        partial += "/" + String(decoding: component, as: UTF8.self)
        if mkdir(partial, mode) != 0 && errno != EEXIST {
            throw FileFailure(step: .makeDirectory, path: partial, code: errno, action: "creating \(partial)")
        }
    }
}
