// The dhcp IPAM plugin (no arguments: a CNI call on stdin/environment) and, as `dhcp daemon [flags]`, the
// daemon that acquires, keeps, renews and releases the leases (README "DHCP").
import CNI
import DHCPDaemon
import DHCPPlugin
import Glibc

let arguments = CommandLine.arguments
if arguments.count > 1 && arguments[1] == "daemon" {
    exit(Daemon.main(arguments: Array(arguments.dropFirst(2))))
}
exit(Dispatcher.main(DHCPIPAM()))
