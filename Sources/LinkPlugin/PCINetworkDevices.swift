import Glibc
import NetTypes
import SystemCall

/// The network interfaces the kernel registered under a PCI function: the entries of
/// `<sysfs>/bus/pci/devices/<address>/net/`. That is how SR-IOV device plugins and Multus name a device
/// (`deviceID`), and how a NIC is found whatever udev called it on this node. `root` is "/sys" in the plugin
/// and a fake tree in tests.
///
/// sysfs lists the interfaces of the network namespace that mounted it, i.e. the plugin's (not a container's).
public struct PCINetworkDevices: Sendable {
    public let root: String

    public init(root: String = "/sys") { self.root = root }

    public enum Lookup: Equatable, Sendable {
        case noSuchDevice                 // no PCI function with that address
        case interfaces([String])         // sorted; empty when the function has no network interface (here)
    }

    public func interfaces(of device: PCIAddress) -> Lookup {
        let deviceDirectory = "\(root)/bus/pci/devices/\(device)"
        guard access(deviceDirectory, F_OK) == 0 else { return .noSuchDevice }
        return .interfaces((directoryEntries("\(deviceDirectory)/net") ?? []).sorted())
    }
}
