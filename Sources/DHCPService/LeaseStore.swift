import Glibc
import JSON
import NetTypes
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
        "\(directory)/lease-\(FNV1a.hex(FNV1a.hash(id), digits: 16)).json"
    }

    public func createDirectory() throws(StoreError) {
        do { try makeDirectories(directory, mode: 0o700) } catch {
            throw StoreError(description: "\(error.action): \(errnoText(error.code))")
        }
    }

    public func save(_ record: LeaseRecord) throws(StoreError) {
        let path = path(forClientID: record.clientIdentifier)
        do {
            try replaceFile(path, with: Array((record.json.serialized(indent: 2) + "\n").utf8), temporary: path + ".tmp",
                            mode: 0o600, sync: true)
        } catch {
            throw StoreError(description: "\(error.action): \(errnoText(error.code))")
        }
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
        do { return try readWholeFile(path, limit: 1 << 20) } catch {
            if error.step == .tooLarge { throw StoreError(description: "\(path): larger than 1 MiB, not a lease record") }
            throw StoreError(description: "\(error.action): \(errnoText(error.code))")
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
