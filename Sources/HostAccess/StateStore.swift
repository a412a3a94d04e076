import Glibc
import NetTypes
import SystemCall

/// The on-disk state of host access, like host-local's store: `<dataDir>/<network>/<containerID>:<ifName>`,
/// one record per attachment, replaced atomically (temporary file, rename), and `<dataDir>/.lock`, an flock
/// that every change to records and shims is made under. Network names and container IDs never start with
/// '.', so the lock and temporary files cannot collide with them. No fsync: a record only has to outlive the
/// plugin process (the page cache does that); what it describes, the shim and its routes, does not survive a
/// reboot anyway.
public struct StateStore: Sendable {
    public let root: String
    /// How long `lock()` waits for another plugin process before giving up.
    public let lockTimeoutMilliseconds: Int
    /// Polled while waiting for the lock: a termination signal must stop the wait (the ADD then rolls back).
    let isInterrupted: @Sendable () -> Bool

    public init(root: String, lockTimeoutMilliseconds: Int = 30_000, isInterrupted: @escaping @Sendable () -> Bool = { false }) {
        self.root = root
        self.lockTimeoutMilliseconds = lockTimeoutMilliseconds
        self.isInterrupted = isInterrupted
    }

    // MARK: lock

    /// Takes the lock, creating the directory if needed. Released by `StateLock.release()` or at process exit
    /// (the kernel drops an flock with its last descriptor, so a killed plugin never leaves it taken).
    /// `interruptible` false: a pending termination signal does not end the wait (a rollback must finish).
    public func lock(interruptible: Bool = true) throws(HostAccessError) -> StateLock {
        try makeDirectory(root)
        let path = root + "/.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("opening the lock \(path)", errno) }
        var waited = 0
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            guard code == EWOULDBLOCK || code == EINTR else {
                close(fd)
                throw failure("locking \(path)", code)
            }
            if interruptible && isInterrupted() {
                close(fd)
                throw HostAccessError(.interrupted, "interrupted while waiting for the host-access lock \(path)")
            }
            if waited >= lockTimeoutMilliseconds {
                close(fd)
                throw HostAccessError(.busy, "the host-access lock \(path) stayed taken for \(lockTimeoutMilliseconds / 1000) s",
                                      details: "another plugin process holds it; retry")
            }
            var delay = timespec(tv_sec: 0, tv_nsec: 5_000_000)
            nanosleep(&delay, nil)
            waited += 5
        }
        return StateLock(fd: fd)
    }

    // MARK: records

    /// The record of `key`, nil if there is none. A file that does not parse as the record of `key` is
    /// reported, not guessed at.
    public func read(_ key: AttachmentKey) throws(HostAccessError) -> AttachmentRecord? {
        let path = recordPath(key)
        guard let text = try readFile(path) else { return nil }
        guard let record = AttachmentRecord(decoding: text), record.key == key else {
            throw HostAccessError(.stateFailure, "the host-access record \(path) is damaged",
                                  details: "remove it by hand after removing the host routes it names")
        }
        return record
    }

    /// Writes the record of its key atomically: readers see the old one or the new one, never a mix.
    public func write(_ record: AttachmentRecord) throws(HostAccessError) {
        let directory = root + "/" + record.key.network
        try makeDirectory(directory)
        let path = recordPath(record.key)
        let temporary = directory + "/.tmp-\(getpid())"
        do {
            try replaceFile(path, with: Array(record.encoded.utf8), temporary: temporary, mode: 0o644)
        } catch {
            throw failure(error.action, error.code)
        }
    }

    /// Removes the record of `key`; one that is already gone counts as removed.
    public func remove(_ key: AttachmentKey) throws(HostAccessError) {
        let path = recordPath(key)
        guard unlink(path) == 0 || errno == ENOENT else { throw failure("removing \(path)", errno) }
        rmdir(root + "/" + key.network)   // only succeeds once the network has no records left
    }

    /// The records of one network, or of every network when `network` is nil.
    public func records(network: String? = nil) throws(HostAccessError) -> [AttachmentRecord] {
        let networks: [String]
        if let network { networks = [network] } else { networks = try entries(of: root) }
        var out: [AttachmentRecord] = []
        for name in networks {
            let directory = root + "/" + name
            for file in try entries(of: directory) {
                let path = directory + "/" + file
                guard let text = try readFile(path) else { continue }   // removed meanwhile
                guard let record = AttachmentRecord(decoding: text), record.key.network.bytesEqual(name),
                      fileName(record.key).bytesEqual(file) else {
                    throw HostAccessError(.stateFailure, "the host-access record \(path) is damaged",
                                          details: "remove it by hand after removing the host routes it names")
                }
                out.append(record)
            }
        }
        return out
    }

    // MARK: paths

    func recordPath(_ key: AttachmentKey) -> String { root + "/" + key.network + "/" + fileName(key) }

    /// "<containerID>:<ifName>" (':' occurs in neither). A container ID too long for a file name keeps its
    /// first 200 bytes and a hash of the rest; the record inside still holds the whole ID.
    func fileName(_ key: AttachmentKey) -> String {
        var id = key.containerID
        if id.utf8.count > 200 {
            id = String(decoding: id.utf8.prefix(200), as: UTF8.self) + "~" + FNV1a.hex(FNV1a.hash(id.utf8), digits: 16)
        }
        return id + ":" + key.ifName
    }

    // MARK: file system

    private func failure(_ what: String, _ code: Int32) -> HostAccessError {
        HostAccessError(.stateFailure, "\(what): \(errnoText(code))")
    }

    /// mkdir -p, mode 0755 like host-local's directories.
    private func makeDirectory(_ path: String) throws(HostAccessError) {
        do { try makeDirectories(path, mode: 0o755) } catch { throw failure(error.action, error.code) }
        var st = stat()
        guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFDIR else {
            throw HostAccessError(.stateFailure, "\(path) is not a directory", details: "\"hostAccess.dataDir\" must name a directory")
        }
    }

    /// The whole file, nil if it does not exist.
    private func readFile(_ path: String) throws(HostAccessError) -> String? {
        do {
            return try readWholeFile(path, limit: 1 << 20).map { String(decoding: $0, as: UTF8.self) }
        } catch {
            if error.step == .tooLarge { throw HostAccessError(.stateFailure, "\(path) is larger than any host-access record") }
            throw failure(error.action, error.code)
        }
    }

    /// Names in a directory, without "." entries and hidden files (the lock, temporary files); [] if it is missing.
    private func entries(of directory: String) throws(HostAccessError) -> [String] {
        guard let names = directoryEntries(directory) else {
            if errno == ENOENT { return [] }
            throw failure("listing \(directory)", errno)
        }
        return names.filter { !$0.hasBytePrefix(UInt8(ascii: ".")) }.sorted()
    }
}

/// The held host-access lock.
public final class StateLock {
    private var fd: Int32

    init(fd: Int32) { self.fd = fd }

    public var isHeld: Bool { fd >= 0 }

    public func release() {
        guard fd >= 0 else { return }
        close(fd)   // drops the flock
        fd = -1
    }

    deinit { release() }
}
