import CMnl
import Glibc
import NetTypes
import Netlink
import Testing

@Suite struct ReplyParsingTests {
    /// NLMSG_ERROR as the kernel sends it with NETLINK_CAP_ACK (and ext-ack TLVs when `message` is given).
    static func errorReply(code: Int32, sequence: UInt32, portID: UInt32 = 77, message: String? = nil,
                           capped: Bool = true) -> [UInt8] {
        var echoed = nlmsghdr()
        echoed.nlmsg_len = capped ? 16 : 24
        echoed.nlmsg_type = UInt16(RTM_NEWLINK)
        echoed.nlmsg_seq = sequence
        var err = nlmsgerr()
        err.error = code
        err.msg = echoed
        var flags = capped ? Int(NLM_F_CAPPED) : 0
        if message != nil { flags |= Int(NLM_F_ACK_TLVS) }
        var m = CannedMessage(type: Int(NLMSG_ERROR), flags: flags, sequence: sequence, portID: portID, header: err)
        if !capped { m.bytes += [UInt8](repeating: 0xAA, count: 8) }  // the rest of the echoed request
        if let message { m.attr(Int(NLMSGERR_ATTR_MSG.rawValue), string: message) }
        return m.finished
    }

    static func done(sequence: UInt32, code: Int32 = 0) -> [UInt8] {
        CannedMessage(type: Int(NLMSG_DONE), flags: Int(NLM_F_MULTI), sequence: sequence, header: code).finished
    }

    static func link(index: Int32, name: String, sequence: UInt32) -> [UInt8] {
        var ifi = ifinfomsg()
        ifi.ifi_index = index
        var m = CannedMessage(type: Int(RTM_NEWLINK), flags: Int(NLM_F_MULTI), sequence: sequence, header: ifi)
        m.attr(Int(IFLA_IFNAME), string: name)
        return m.finished
    }

    @Test func ack() {
        let batch = parseReplies(Self.errorReply(code: 0, sequence: 5), sequence: 5, portID: 77)
        #expect(batch.completion == .ack)
        #expect(batch.messages.isEmpty)
    }

    @Test func errorWithExtendedAck() {
        let bytes = Self.errorReply(code: -EEXIST, sequence: 5, message: "ipv4: Address already assigned")
        let batch = parseReplies(bytes, sequence: 5, portID: 77)
        #expect(batch.completion == .error(errno: EEXIST, kernelMessage: "ipv4: Address already assigned"))
    }

    @Test func uncappedErrorSkipsTheEchoedRequest() {
        let bytes = Self.errorReply(code: -ENODEV, sequence: 5, message: "Unknown device type", capped: false)
        #expect(parseReplies(bytes, sequence: 5).completion
                == .error(errno: ENODEV, kernelMessage: "Unknown device type"))
    }

    @Test func errorWithoutTLVs() {
        #expect(parseReplies(Self.errorReply(code: -EINVAL, sequence: 1)).completion
                == .error(errno: EINVAL, kernelMessage: nil))
    }

    @Test func dumpThenDone() {
        let bytes = Self.link(index: 1, name: "lo", sequence: 9) + Self.link(index: 2, name: "eth0", sequence: 9)
            + Self.done(sequence: 9)
        let batch = parseReplies(bytes, sequence: 9)
        #expect(batch.completion == .done)
        #expect(batch.messages.compactMap(parseLinkMessage).map(\.name) == ["lo", "eth0"])
    }

    @Test func dumpContinues() {
        let batch = parseReplies(Self.link(index: 1, name: "lo", sequence: 9), sequence: 9)
        #expect(batch.completion == nil)
        #expect(batch.messages.count == 1)
    }

    @Test func doneCarryingAnError() {
        #expect(parseReplies(Self.done(sequence: 3, code: -EPERM), sequence: 3).completion
                == .error(errno: EPERM, kernelMessage: nil))
    }

    @Test func foreignSequenceNumbersAreSkipped() {
        let bytes = Self.link(index: 1, name: "old", sequence: 8) + Self.errorReply(code: 0, sequence: 8)
            + Self.link(index: 2, name: "new", sequence: 9) + Self.done(sequence: 9)
        let batch = parseReplies(bytes, sequence: 9)
        #expect(batch.foreignMessages == 2)
        #expect(batch.completion == .done)
        #expect(batch.messages.compactMap(parseLinkMessage).map(\.name) == ["new"])
    }

    @Test func foreignPortIsSkipped() {
        let batch = parseReplies(Self.errorReply(code: 0, sequence: 4, portID: 1), sequence: 4, portID: 77)
        #expect(batch.completion == nil && batch.foreignMessages == 1)
    }

    @Test func truncatedErrorIsMalformed() {
        var m = CannedMessage(type: Int(NLMSG_ERROR), sequence: 1, header: Int32(-1))
        m.pad()
        #expect(parseReplies(m.finished).completion == .malformed(errno: EBADMSG))
    }

    @Test func interruptedDumpIsReportedForRetry() {
        var ifi = ifinfomsg()
        ifi.ifi_index = 1
        var m = CannedMessage(type: Int(RTM_NEWLINK), flags: Int(NLM_F_MULTI | NLM_F_DUMP_INTR), sequence: 2,
                              header: ifi)
        m.attr(Int(IFLA_IFNAME), string: "lo")
        #expect(parseReplies(m.finished, sequence: 2).completion == .malformed(errno: EAGAIN))
    }

    @Test func emptyAndShortInputs() {
        #expect(parseReplies([]).completion == nil)
        #expect(parseReplies([1, 2, 3]).completion == nil)
        #expect(parseReplies([UInt8](repeating: 0xFF, count: 64)).messages.isEmpty)
    }
}
