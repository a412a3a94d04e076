import CMnl
import Glibc

/// What one received datagram (or any byte string) holds, as far as a request/response exchange cares.
public struct ReplyBatch: Sendable, Equatable {
    /// How the exchange ended, if it ended in this batch.
    public enum Completion: Sendable, Equatable {
        case ack                                             // NLMSG_ERROR with error 0
        case done                                            // NLMSG_DONE closing a dump
        case error(errno: Int32, kernelMessage: String?)     // NLMSG_ERROR (or NLMSG_DONE) with an error
        case malformed(errno: Int32)                         // truncated control message, overrun, dump interrupted
    }

    /// Data messages (type >= NLMSG_MIN_TYPE), each a complete copy starting with its nlmsghdr.
    public var messages: [[UInt8]] = []
    /// nil: the exchange continues in the next datagram.
    public var completion: Completion?
    /// Messages skipped because their sequence number or port id belonged to another exchange.
    public var foreignMessages = 0

    public init() {}
}

/// Walks `bytes` with libmnl's mnl_cb_run2 and collects the messages that belong to the exchange with
/// `sequence` and `portID` (0 matches anything). Stops at the first ack, error or NLMSG_DONE. Never reads
/// outside `bytes`: mnl_nlmsg_ok checks every header, and the control handlers check their own lengths.
/// Safe on arbitrary input (a fuzz target drives it).
public func parseReplies(_ bytes: [UInt8], sequence: UInt32 = 0, portID: UInt32 = 0) -> ReplyBatch {
    let collector = ReplyCollector(sequence: sequence, portID: portID)
    let context = Unmanaged.passUnretained(collector).toOpaque()
    var control: [mnl_cb_t?] = [nil, nil, nil, nil, nil]   // NOOP ignored; ERROR, DONE, OVERRUN handled
    control[Int(K.msgError)] = { header, data in ReplyCollector.from(data).error(header) }
    control[Int(K.msgDone)] = { header, data in ReplyCollector.from(data).done(header) }
    control[Int(K.msgOverrun)] = { _, data in ReplyCollector.from(data).finish(.malformed(errno: EOVERFLOW)) }
    let usable = wellFormedPrefixLength(bytes)
    let result: Int32 = withExtendedLifetime(collector) {
        bytes.withUnsafeBytes { raw in
            control.withUnsafeMutableBufferPointer { table in
                // seq and portid 0: filtering happens in the collector, so a stale reply to an interrupted
                // earlier request is skipped instead of failing this exchange.
                mnl_cb_run2(raw.baseAddress, usable, 0, 0,
                            { header, data in ReplyCollector.from(data).data(header) },
                            context, table.baseAddress, UInt32(table.count))
            }
        }
    }
    if result < 0 && collector.batch.completion == nil {
        // mnl_cb_run2 reports NLM_F_DUMP_INTR as EINTR: the dump changed under us and should be repeated.
        collector.batch.completion = .malformed(errno: errno == EINTR ? EAGAIN : (errno == 0 ? EPROTO : errno))
    }
    return collector.batch
}

/// The length of the leading run of messages whose nlmsg_len fits. libmnl's mnl_nlmsg_ok compares
/// `(int)nlmsg_len`, so a length of 2^31 or more passes its check and sends the walk out of the buffer;
/// mnl_cb_run2 only ever sees this prefix. (The kernel never sends such lengths; arbitrary input can.)
func wellFormedPrefixLength(_ bytes: [UInt8]) -> Int {
    let hdrSize = MemoryLayout<nlmsghdr>.size
    var offset = 0
    return bytes.withUnsafeBytes { raw in
        while raw.count - offset >= hdrSize {
            let length = Int(raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            guard length >= hdrSize, length <= raw.count - offset else { break }
            offset += min((length + 3) & ~3, raw.count - offset)
        }
        return offset
    }
}

/// Callback state for mnl_cb_run2 (C callbacks cannot capture, so it travels through the data pointer).
private final class ReplyCollector {
    let sequence: UInt32
    let portID: UInt32
    var batch = ReplyBatch()

    init(sequence: UInt32, portID: UInt32) {
        self.sequence = sequence
        self.portID = portID
    }

    static func from(_ data: UnsafeMutableRawPointer?) -> ReplyCollector {
        Unmanaged<ReplyCollector>.fromOpaque(data!).takeUnretainedValue()
    }

    private func belongs(_ h: nlmsghdr) -> Bool {
        (sequence == 0 || h.nlmsg_seq == sequence) && (portID == 0 || h.nlmsg_pid == 0 || h.nlmsg_pid == portID)
    }

    func data(_ header: UnsafePointer<nlmsghdr>?) -> Int32 {
        guard let header else { return MNL_CB_ERROR }
        guard belongs(header.pointee) else { batch.foreignMessages += 1; return MNL_CB_OK }
        // mnl_nlmsg_ok has already checked nlmsg_len against the bytes left.
        let length = Int(header.pointee.nlmsg_len)
        batch.messages.append(Array(UnsafeRawBufferPointer(start: header, count: length)))
        return MNL_CB_OK
    }

    func finish(_ completion: ReplyBatch.Completion) -> Int32 {
        batch.completion = completion
        return MNL_CB_STOP
    }

    /// NLMSG_ERROR: struct nlmsgerr, then (unless NLM_F_CAPPED) the rest of the request, then (with
    /// NLM_F_ACK_TLVS) the extended-ack attributes.
    func error(_ header: UnsafePointer<nlmsghdr>?) -> Int32 {
        guard let header else { return MNL_CB_ERROR }
        guard belongs(header.pointee) else { batch.foreignMessages += 1; return MNL_CB_OK }
        let h = header.pointee
        let hdrSize = MemoryLayout<nlmsghdr>.size
        let errSize = MemoryLayout<nlmsgerr>.size
        let total = Int(h.nlmsg_len)
        guard total >= hdrSize + errSize else { return finish(.malformed(errno: EBADMSG)) }
        let raw = UnsafeRawBufferPointer(start: header, count: total)
        let code = raw.loadUnaligned(fromByteOffset: hdrSize, as: Int32.self)
        if code == 0 { return finish(.ack) }
        var tlvOffset = hdrSize + errSize
        if h.nlmsg_flags & K.flagCapped == 0 {
            // The echoed request follows in full; its own header (already counted in nlmsgerr) says how long.
            let echoedLength = Int(raw.loadUnaligned(fromByteOffset: hdrSize + 4, as: UInt32.self))
            tlvOffset += max(0, ((echoedLength + 3) & ~3) - hdrSize)
        }
        let message = h.nlmsg_flags & K.flagAckTLVs != 0 ? Self.kernelMessage(raw, from: tlvOffset) : nil
        return finish(.error(errno: Self.errno(from: code), kernelMessage: message))
    }

    /// NLMSG_DONE: an int status (negative errno when the dump failed), then optional ext-ack attributes.
    func done(_ header: UnsafePointer<nlmsghdr>?) -> Int32 {
        guard let header else { return MNL_CB_ERROR }
        guard belongs(header.pointee) else { batch.foreignMessages += 1; return MNL_CB_OK }
        let h = header.pointee
        let hdrSize = MemoryLayout<nlmsghdr>.size
        let total = Int(h.nlmsg_len)
        guard total >= hdrSize + 4 else { return finish(.done) }  // old kernels send an empty DONE
        let raw = UnsafeRawBufferPointer(start: header, count: total)
        let code = raw.loadUnaligned(fromByteOffset: hdrSize, as: Int32.self)
        guard code < 0 else { return finish(.done) }
        let message = h.nlmsg_flags & K.flagAckTLVs != 0 ? Self.kernelMessage(raw, from: hdrSize + 4) : nil
        return finish(.error(errno: Self.errno(from: code), kernelMessage: message))
    }

    private static func errno(from code: Int32) -> Int32 {
        if code == Int32.min { return EPROTO }
        return code < 0 ? -code : code
    }

    private static func kernelMessage(_ raw: UnsafeRawBufferPointer, from offset: Int) -> String? {
        guard offset < raw.count else { return nil }
        var message: String?
        Attributes.forEach(in: UnsafeRawBufferPointer(rebasing: raw[offset...])) { type, payload in
            if type == K.errAttrMsg { message = payload.string }
        }
        return message
    }
}
