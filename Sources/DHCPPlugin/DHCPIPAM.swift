import CNI
import DHCPService
import Glibc
import JSON

/// The `dhcp` IPAM plugin: hands each CNI call to the daemon over its unix socket. When the daemon is down,
/// DEL and GC release from the lease records themselves (RELEASE from the leased address, record removed),
/// ADD and CHECK answer 11 (try again later), STATUS 50.
public struct DHCPIPAM: CNIPlugin {
    public let name = "dhcp"
    /// A main plugin hands its IPAM the same CNI_ARGS: MAC= is macvlan's (and podman's), not ours, but must pass.
    public let argKeys: Set<String> = ["MAC"]

    public init() {}

    public func add(_ request: Request) throws(CNIError) -> CNIResult {
        let config = try DHCPConfig(network: request.config.reader.object)
        let reply = try required(try call(.add, request, config: config, waitSeconds: (config.timeout ?? DaemonClient.defaultAddWait) + 10), config)
        guard case let .result(value) = reply else {
            throw CNIError(.decodingFailure, "the DHCP daemon answered ADD without a result")
        }
        do {
            return try CNIResult.decode(value, defaultVersion: .latest)
        } catch {
            throw CNIError(.decodingFailure, "the DHCP daemon's result is malformed: \(error)")
        }
    }

    public func delete(_ request: Request) throws(CNIError) {
        let config = try DHCPConfig(network: request.config.reader.object)
        if case let .unreachable(why) = try call(.del, request, config: config, waitSeconds: 20) {
            try OfflineRelease(config: config).delete(request, because: why)
        }
    }

    public func check(_ request: Request) throws(CNIError) {
        let config = try DHCPConfig(network: request.config.reader.object)
        _ = try required(try call(.check, request, config: config, waitSeconds: 20), config)
    }

    public func status(_ request: Request) throws(CNIError) {
        let config = try DHCPConfig(network: request.config.reader.object)
        if case let .unreachable(why) = try call(.status, request, config: config, waitSeconds: 10) {
            throw CNIError(.notAvailable, "the DHCP daemon does not answer at \(config.socketPath)", details: why)
        }
    }

    public func garbageCollect(_ request: Request) throws(CNIError) {
        let config = try DHCPConfig(network: request.config.reader.object)
        if case let .unreachable(why) = try call(.gc, request, config: config, waitSeconds: 60) {
            try OfflineRelease(config: config).garbageCollect(request, because: why)
        }
    }

    /// ADD and CHECK need the daemon: unreachable is code 11 (a runtime retries; the daemon may be restarting).
    private func required(_ outcome: DaemonClient.Outcome, _ config: DHCPConfig) throws(CNIError) -> ControlReply {
        switch outcome {
        case let .reply(reply): return reply
        case let .unreachable(why):
            throw CNIError(.tryAgainLater, "the DHCP daemon does not answer at \(config.socketPath)",
                           details: "\(why); start it with `dhcp daemon` (see README \"DHCP\")")
        }
    }

    /// Calls the daemon. An error it answers is thrown; an unreachable daemon is returned, so DEL and GC can
    /// fall back to the records.
    private func call(_ command: Command, _ request: Request, config: DHCPConfig, waitSeconds: Double) throws(CNIError) -> DaemonClient.Outcome {
        let env = request.environment
        let message = ControlRequest(command: command, containerID: env.containerID, netns: Self.absolute(env.netns),
                                     ifName: env.interfaceName?.text ?? "",  // STATUS and GC name no interface
                                     provided: command == .add ? try config.resolvedProvidedOptions(args: env.args) : [],
                                     config: request.config.reader.object,
                                     validAttachments: ControlRequest.attachments(request.config.reader.object["cni.dev/valid-attachments"]))
        let outcome = try DaemonClient(socketPath: config.socketPath).exchange(message, waitSeconds: waitSeconds)
        if case let .reply(.failure(error)) = outcome { throw error }
        return outcome
    }

    /// The daemon may run in another working directory: relative namespace paths are made absolute.
    static func absolute(_ path: String) -> String {
        guard !path.isEmpty, !path.hasPrefix("/") else { return path }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX))
        guard getcwd(&buffer, buffer.count) != nil else { return path }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) + "/" + path
    }
}
