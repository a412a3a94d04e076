import Glibc
import JSON
import SystemCall

/// Lease records on disk, one file per attachment in the state directory. Writes are atomic and durable
/// (temporary file, fsync, rename, fsync of the directory): after a crash a record is either the old one or
/// the new one, never half of each.
public struct LeaseStore: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    public struct StoreError: Error, Sendable, CustomStringConvertible {
        public let description: String
        init(_ operation: String, _ path: String, _ code: Int32) {
            description = "\(operation) \(path): \(errnoText(code))"
        }
    }

    /// The file of an attachment: a hash of its client identifier (container IDs can be long; a file name
    /// cannot), the identifier itself being inside.
    public func path(forClientID id: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325   // FNV-1a
        for b in id { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 }
        let hex = String(hash, radix: 16)
        return "\(directory)/lease-\(String(repeating: "0", count: 16 - hex.utf8.count))\(hex).json"
    }

    public func createDirectory() throws(StoreError) {
        var prefix = ""
        for part in directory.split(separator: "/") {
            prefix += "/\(part)"
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST { throw StoreError("create", prefix, errno) }
        }
    }

    public func save(_ record: LeaseRecord) throws(StoreError) {
        let path = path(forClientID: record.clientIdentifier)
        let temporary = path + ".tmp"
        let bytes = Array((record.json.serialized(indent: 2) + "\n").utf8)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StoreError("create", temporary, errno) }
        var offset = 0
        while offset < bytes.count {
            let n = retryingEINTR { bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) } }
            if n < 0 {
                let code = errno
                close(fd); unlink(temporary)
                throw StoreError("write", temporary, code)
            }
            offset += n
        }
        if fsync(fd) != 0 { let code = errno; close(fd); unlink(temporary); throw StoreError("fsync", temporary, code) }
        close(fd)
        if rename(temporary, path) != 0 { let code = errno; unlink(temporary); throw StoreError("rename", temporary, code) }
        syncDirectory()
    }

    public func remove(clientID: [UInt8]) throws(StoreError) {
        let path = path(forClientID: clientID)
        if unlink(path) != 0 && errno != ENOENT { throw StoreError("remove", path, errno) }
        syncDirectory()
    }

    public func load(clientID: [UInt8]) throws(StoreError) -> LeaseRecord? {
        let path = path(forClientID: clientID)
        guard let bytes = try readFile(path) else { return nil }
        return try decode(bytes, path: path)
    }

    /// Every readable record, with the problems of those that are not (left on disk for a person to look at).
    public func loadAll() throws(StoreError) -> (records: [LeaseRecord], problems: [String]) {
        guard let entries = directoryEntries(directory) else {
            if errno == ENOENT { return ([], []) }
            throw StoreError("open", directory, errno)
        }
        let names = entries.filter { $0.hasPrefix("lease-") && $0.hasSuffix(".json") }
        var records: [LeaseRecord] = []
        var problems: [String] = []
        for name in names.sorted() {
            let path = "\(directory)/\(name)"
            do {
                guard let bytes = try readFile(path) else { continue }
                records.append(try decode(bytes, path: path))
            } catch {
                problems.append(error.description)
            }
        }
        return (records, problems)
    }

    private func decode(_ bytes: [UInt8], path: String) throws(StoreError) -> LeaseRecord {
        do {
            return try LeaseRecord(json: try JSONValue.parse(bytes))
        } catch let error as LeaseRecord.DecodeError {
            throw StoreError(description: "\(path): \(error.description)")
        } catch {
            throw StoreError(description: "\(path): \(error)")
        }
    }

    private func readFile(_ path: String) throws(StoreError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw StoreError("open", path, errno)
        }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = retryingEINTR { chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } }
            if n == 0 { return out }
            if n < 0 { throw StoreError("read", path, errno) }
            out += chunk[0..<n]
            if out.count > 1 << 20 { throw StoreError(description: "\(path): larger than 1 MiB, not a lease record") }
        }
    }

    private func syncDirectory() {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}

extension LeaseStore.StoreError {
    init(description: String) { self.description = description }
}
