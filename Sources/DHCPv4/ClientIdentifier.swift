/// The client identifier (option 61) the reference plugin sends, so a server keeps recognising a container's
/// lease (and any reservation made for it) after the swap: type byte 0 ("not a hardware address", RFC 2132
/// section 9.14) followed by "CONTAINERID/NETWORKNAME/IFNAME" cut to 254 bytes.
public enum ClientIdentifier {
    public static func bytes(containerID: String, network: String, ifName: String) -> [UInt8] {
        Array(Array("\(containerID)/\(network)/\(ifName)".utf8).prefix(254))
    }

    public static func option(containerID: String, network: String, ifName: String) -> [UInt8] {
        [0] + bytes(containerID: containerID, network: network, ifName: ifName)
    }
}
