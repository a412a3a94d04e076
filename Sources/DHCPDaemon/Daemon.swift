import CProcess
import DHCPService
import Glibc
import SystemCall

/// `dhcp daemon`: one thread, one poll loop over the control socket and the lease exchange sockets, woken
/// at the earliest deadline of any lease (retransmission, T1, T2, expiry, ADD budget, lifetime check).
public enum Daemon {
    public static func main(arguments: [String]) -> Int32 {
        let options: DaemonOptions
        do { options = try DaemonOptions(arguments: arguments) } catch {
            DaemonLog.line(error.description)
            return 2
        }
        cs_install_termination_handlers()
        let store = LeaseStore(directory: options.stateDirectory)
        do { try store.createDirectory() } catch {
            DaemonLog.line("cannot create the state directory: \(error)")
            return 1
        }
        // One daemon per state directory: a second one would renew and release the same leases behind the
        // first one's back. The lock dies with the process, so a crashed daemon never blocks a restart.
        let lockPath = options.stateDirectory + "/daemon.lock"
        let lockFD = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lockFD >= 0 else {
            DaemonLog.line("cannot open \(lockPath): \(errnoText(errno))")
            return 1
        }
        guard flock(lockFD, LOCK_EX | LOCK_NB) == 0 else {
            var holder = [UInt8](repeating: 0, count: 32)
            let n = holder.withUnsafeMutableBytes { pread(lockFD, $0.baseAddress, $0.count, 0) }
            let pid = n > 0 ? String(decoding: holder[0..<n].filter { $0 >= 0x30 && $0 <= 0x39 }, as: UTF8.self) : "?"
            DaemonLog.line("another dhcp daemon (pid \(pid)) already keeps the leases in \(options.stateDirectory); exiting")
            return 1
        }
        let pidText = "\(getpid())\n"
        _ = ftruncate(lockFD, 0)
        _ = pidText.withCString { pwrite(lockFD, $0, strlen($0), 0) }
        if let pidfile = options.pidfile {
            let fd = open(pidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                DaemonLog.line("cannot write the pidfile \(pidfile): \(errnoText(errno))")
                return 1
            }
            _ = pidText.withCString { write(fd, $0, strlen($0)) }
            close(fd)
        }
        defer { if let pidfile = options.pidfile { unlink(pidfile) } }

        let server: ControlServer
        do {
            if let fd = try ControlServer.activatedSocket() {
                server = ControlServer(listenFD: fd, ownsPath: nil)
                DaemonLog.line("listening on the socket passed by systemd (fd 3)")
            } else {
                let path = options.effectiveSocketPath
                server = ControlServer(listenFD: try ControlServer.listen(at: path), ownsPath: path)
                DaemonLog.line("listening on \(path)")
            }
        } catch {
            DaemonLog.line(error.description)
            return 1
        }
        let keeper = LeaseKeeper(store: store, options: options)
        keeper.resumeAll(now: WallClock.now())
        run(server: server, keeper: keeper)
        DaemonLog.line("stopping on signal \(cs_termination_signal()); \(keeper.leases.count) lease(s) stay in \(options.stateDirectory) for the next daemon")
        keeper.closeAll()
        server.closeAll()
        return 0
    }

    static func run(server: ControlServer, keeper: LeaseKeeper) {
        while cs_termination_signal() == 0 {
            let serverFDs = server.pollFDs
            let leaseFDs = keeper.pollFDs
            var fds = serverFDs.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
                + leaseFDs.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            let now = WallClock.now()
            let deadline = [server.nextDeadline, keeper.nextDeadline].compactMap { $0 }.min()
            // Capped so a wall-clock step is noticed within a second or two.
            let wait = deadline.map { max(0, min(($0 - now) * 1000, 2000)) } ?? 2000
            let ready = poll(&fds, nfds_t(fds.count), Int32(wait.rounded(.up)))
            if ready < 0 && errno != EINTR { DaemonLog.line("poll: \(errnoText(errno))"); return }
            let after = WallClock.now()
            if ready > 0 {
                for (i, p) in fds.enumerated() where p.revents != 0 {
                    if i < serverFDs.count {
                        server.readable(p.fd, now: after) { request, reply in keeper.handle(request, now: after, reply: reply) }
                    } else {
                        keeper.readable(fd: p.fd, key: leaseFDs[i - serverFDs.count].key, now: after)
                    }
                }
            }
            server.tick(now: after)
            keeper.tick(now: after)
        }
    }
}
