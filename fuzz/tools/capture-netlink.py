#!/usr/bin/env python3
"""Writes real rtnetlink replies (as received from the kernel, one file per datagram, plus each message on its
own) into OUTDIR. Run it INSIDE a throwaway network namespace (fuzz/tools/capture-netlink does that):
    ip netns exec NS python3 capture-netlink.py OUTDIR
Captures: RTM_GETLINK/GETADDR/GETROUTE dumps (v4+v6, all tables), an ACK, an NLMSG_ERROR with extended-ack
TLVs (creating a link of an unknown kind), and an error for a missing device."""
import os, socket, struct, sys

NETLINK_ROUTE = 0
NETLINK_EXT_ACK = 11
NETLINK_CAP_ACK = 10
SOL_NETLINK = 270
NLM_F_REQUEST, NLM_F_ACK, NLM_F_ROOT, NLM_F_MATCH = 1, 4, 0x100, 0x200
NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH
NLM_F_CREATE, NLM_F_EXCL = 0x400, 0x200
RTM_NEWLINK, RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE, RTM_SETLINK = 16, 18, 22, 26, 19
NLMSG_ERROR, NLMSG_DONE = 2, 3
IFLA_IFNAME, IFLA_LINKINFO, IFLA_INFO_KIND = 3, 18, 1

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
seq = 100


def attr(kind, payload):
    length = 4 + len(payload)
    return struct.pack("=HH", length, kind) + payload + b"\0" * ((4 - length % 4) % 4)


def request(sock, msgtype, flags, body):
    global seq
    seq += 1
    header = struct.pack("=IHHII", 16 + len(body), msgtype, flags, seq, 0)
    sock.send(header + body)
    return seq


def collect(sock, name, single=False):
    """Receives datagrams until DONE or ERROR (or one datagram with single); saves each datagram and message."""
    n = 0
    while True:
        data = sock.recv(1 << 20)
        with open(os.path.join(out, f"{name}-dgram{n}.bin"), "wb") as f:
            f.write(data)
        offset, finished = 0, False
        while offset + 16 <= len(data):
            length, msgtype = struct.unpack_from("=IH", data, offset)
            if length < 16:
                break
            with open(os.path.join(out, f"{name}-dgram{n}-msg{offset}.bin"), "wb") as f:
                f.write(data[offset:offset + length])
            if msgtype in (NLMSG_DONE, NLMSG_ERROR):
                finished = True
            offset += (length + 3) & ~3
        n += 1
        if finished or single or n > 50:
            return


def main():
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
    sock.settimeout(5)
    sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
    sock.bind((0, 0))
    ifinfomsg = struct.pack("=BxHiII", 0, 0, 0, 0, 0)
    request(sock, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, ifinfomsg)
    collect(sock, "link-dump")
    for family, label in ((socket.AF_INET, "v4"), (socket.AF_INET6, "v6")):
        request(sock, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, struct.pack("=BBBBI", family, 0, 0, 0, 0))
        collect(sock, f"addr-dump-{label}")
        request(sock, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, struct.pack("=BBBBBBBBI", family, 0, 0, 0, 0, 0, 0, 0, 0))
        collect(sock, f"route-dump-{label}")
    # A single link by name (what the plugin does for the master).
    request(sock, RTM_GETLINK, NLM_F_REQUEST, ifinfomsg + attr(IFLA_IFNAME, b"mv0\0"))
    collect(sock, "link-get-mv0", single=True)
    # An ACK: set lo up with NLM_F_ACK.
    lo = socket.if_nametoindex("lo")
    request(sock, RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK, struct.pack("=BxHiII", 0, 0, lo, 1, 1))
    collect(sock, "ack")
    # Errors: unknown link kind (extended ack message), then a missing device (ENODEV), uncapped and capped.
    body = ifinfomsg + attr(IFLA_IFNAME, b"fz0\0") + attr(IFLA_LINKINFO | 0x8000, attr(IFLA_INFO_KIND, b"nosuchkind\0"))
    request(sock, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, body)
    collect(sock, "error-extack")
    request(sock, RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK, ifinfomsg + attr(IFLA_IFNAME, b"nosuchdev0\0"))
    collect(sock, "error-nodev")
    sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
    request(sock, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, body)
    collect(sock, "error-extack-capped")


main()
