import CMnl

/// Builds one netlink request in a private buffer with libmnl's put functions; `bytes` copies it out.
/// Every put uses the `_check` variant, so an oversized request is reported instead of overrunning the buffer.
final class MessageBuilder {
    private static let capacity = 8192   // requests are small: a name, a few u32s, two nests
    private let buffer: UnsafeMutableRawPointer
    private let header: UnsafeMutablePointer<nlmsghdr>
    private(set) var overflowed = false

    init(type: UInt16, flags: UInt16, sequence: UInt32) {
        buffer = UnsafeMutableRawPointer.allocate(byteCount: Self.capacity, alignment: 16)
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: Self.capacity)
        header = mnl_nlmsg_put_header(buffer)
        header.pointee.nlmsg_type = type
        header.pointee.nlmsg_flags = flags
        header.pointee.nlmsg_seq = sequence
    }

    deinit { buffer.deallocate() }

    /// Appends the zeroed family header (ifinfomsg, ifaddrmsg, rtmsg) and stores `value` in it.
    func putFamilyHeader<T: BitwiseCopyable>(_ value: T) {
        let extra = mnl_nlmsg_put_extra_header(header, MemoryLayout<T>.size)!
        extra.storeBytes(of: value, as: T.self)
    }

    func putU32(_ type: UInt16, _ value: UInt32) {
        if !mnl_attr_put_u32_check(header, Self.capacity, type, value) { overflowed = true }
    }

    /// A NUL-terminated string attribute, as the kernel's NLA_STRING policies for names expect.
    func putString(_ type: UInt16, _ value: String) {
        let ok = value.withCString { mnl_attr_put_strz_check(header, Self.capacity, type, $0) }
        if !ok { overflowed = true }
    }

    func putBytes(_ type: UInt16, _ value: [UInt8]) {
        let ok = value.withUnsafeBytes { mnl_attr_put_check(header, Self.capacity, type, $0.count, $0.baseAddress) }
        if !ok { overflowed = true }
    }

    /// Opens a nested attribute and closes it when `body` returns.
    func nest(_ type: UInt16, _ body: () -> Void) {
        guard let start = mnl_attr_nest_start_check(header, Self.capacity, type) else {
            overflowed = true
            return
        }
        body()
        if overflowed { mnl_attr_nest_cancel(header, start) } else { mnl_attr_nest_end(header, start) }
    }

    var sequence: UInt32 { header.pointee.nlmsg_seq }

    var bytes: [UInt8] {
        let length = Int(header.pointee.nlmsg_len)
        return Array(UnsafeRawBufferPointer(start: buffer, count: length))
    }
}
