// Netlink reply parser: parseReplies over the datagram (with the sequence and port taken from the first bytes
// half of the time, 0 = match anything otherwise), then each collected message through the link, address and
// route parsers, and the raw input through each of them directly.
import Netlink

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNetlink(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    var sequence: UInt32 = 0, port: UInt32 = 0
    if let first = bytes.first, first & 1 == 1, bytes.count >= 16 {
        // Use the first message's own seq/pid so filtering keeps some messages and skips others.
        sequence = UInt32(bytes[8]) | UInt32(bytes[9]) << 8 | UInt32(bytes[10]) << 16 | UInt32(bytes[11]) << 24
        port = UInt32(bytes[12]) | UInt32(bytes[13]) << 8 | UInt32(bytes[14]) << 16 | UInt32(bytes[15]) << 24
    }
    let batch = parseReplies(bytes, sequence: sequence, portID: port)
    var total = 0
    for message in batch.messages {
        guard message.count >= 16 else { fatalError("parseReplies returned a message shorter than nlmsghdr") }
        let length = Int(UInt32(message[0]) | UInt32(message[1]) << 8 | UInt32(message[2]) << 16 | UInt32(message[3]) << 24)
        guard length == message.count else { fatalError("message length \(length) != copied \(message.count)") }
        total += message.count
        if let link = parseLinkMessage(message) { _ = link.name.utf8.count; _ = link.mac?.description }
        if let address = parseAddressMessage(message) { _ = address.prefix.description }
        if let route = parseRouteMessage(message) { _ = route.destination.description; _ = route.gateway?.description }
    }
    guard total <= bytes.count else { fatalError("parseReplies returned more bytes than it was given") }
    if case let .error(_, message)? = batch.completion { _ = message?.utf8.count }
    _ = parseLinkMessage(bytes)
    _ = parseAddressMessage(bytes)
    _ = parseRouteMessage(bytes)
    return 0
}
