"""The macvtap end-to-end topology and its probes: namespaces mt<pid>-* (H with master p0, F with its peer p1,
containers), plugin calls from H, the device nodes, and Ethernet frames written to / read from a node and seen
on p1 (tcpdump) or sent from it (AF_PACKET)."""
import fcntl
import json
import os
import select
import struct
import subprocess
import tempfile
import time

PREFIX = f"mt{os.getpid()}"
NODE_DIR = "/dev/macvtap-cni"
VNET_HDR_LEN = 10
TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI = 0x0002, 0x1000
ETH_P_EXPERIMENTAL = 0x88B5      # IEEE "local experimental" EtherType: nothing else on the wire uses it


def sh(*args, input=None, check=True, timeout=30):
    p = subprocess.run(args, input=input, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise Fail(f"{' '.join(args)}: exit {p.returncode}: {p.stderr.strip()[:300]}")
    return p


class Fail(Exception):
    pass


class Skip(Exception):
    pass


class Run:
    def __init__(self, plugin, verbose, fault_plugin=None):
        self.plugin = os.path.abspath(plugin)
        self.fault_plugin = os.path.abspath(fault_plugin) if fault_plugin else None
        self.verbose = verbose
        self.tmp = tempfile.mkdtemp(prefix=f"{PREFIX}-")
        self.state = os.path.join(self.tmp, "state")
        self.namespaces = []

    def setup(self):
        self.host = self.netns("h")
        self.far = self.netns("f")
        sh("ip", "-n", self.host, "link", "add", "p0", "type", "veth", "peer", "name", "p1", "netns", self.far)
        sh("ip", "-n", self.host, "link", "set", "p0", "up")
        sh("ip", "-n", self.far, "link", "set", "p1", "up")
        sh("ip", "-n", self.far, "link", "set", "p1", "promisc", "on")

    def netns(self, suffix):
        name = f"{PREFIX}-{suffix}"
        sh("ip", "netns", "add", name)
        self.namespaces.append(name)
        return name

    def cleanup(self):
        for name in reversed(self.namespaces):
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
        if os.path.isdir(NODE_DIR):
            for node in os.listdir(NODE_DIR):
                if node.startswith(PREFIX):
                    os.unlink(os.path.join(NODE_DIR, node))
        subprocess.run(["rm", "-rf", self.tmp])

    def config(self, **extra):
        conf = {"cniVersion": "1.1.0", "name": f"{PREFIX}net", "type": "macvtap", "master": "p0",
                "stateDir": self.state}
        conf.update(extra)
        return conf

    def call(self, command, container, conf, ifname="eth0", cid=None):
        env = {"CNI_COMMAND": command, "CNI_CONTAINERID": cid or container, "CNI_IFNAME": ifname,
               "CNI_NETNS": f"/var/run/netns/{container}" if container else "", "CNI_PATH": "/usr/lib/cni",
               "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        p = subprocess.run(["ip", "netns", "exec", self.host, "env", "-i"] + [f"{k}={v}" for k, v in env.items()]
                           + [self.plugin], input=json.dumps(conf), capture_output=True, text=True, timeout=60)
        out = json.loads(p.stdout) if p.stdout.strip() else None
        return p.returncode, out, p.stderr

    def add(self, container, conf, **kw):
        rc, out, err = self.call("ADD", container, conf, **kw)
        if rc != 0:
            raise Fail(f"ADD {container}: exit {rc}: {out} {err.strip()[:300]}")
        return out

    def delete(self, container, conf, **kw):
        rc, out, err = self.call("DEL", container, conf, **kw)
        if rc != 0:
            raise Fail(f"DEL {container}: exit {rc}: {out} {err.strip()[:300]}")

    def link(self, ns, name):
        p = sh("ip", "-n", ns, "-j", "-d", "link", "show", name, check=False)
        return json.loads(p.stdout)[0] if p.returncode == 0 else None


def mac_bytes(text):
    return bytes(int(b, 16) for b in text.split(":"))


def frame(dst, src, payload):
    return mac_bytes(dst) + mac_bytes(src) + struct.pack("!H", ETH_P_EXPERIMENTAL) + payload


def open_node(path, vnet_header=True):
    fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
    if not vnet_header:
        # The queue's flags: IFF_TAP|IFF_NO_PI are required, IFF_VNET_HDR left out turns the header off.
        fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH22x", b"", IFF_TAP | IFF_NO_PI))
    return fd


def write_frame(fd, data, vnet_header=True):
    os.write(fd, (bytes(VNET_HDR_LEN) if vnet_header else b"") + data)


def read_frame(fd, match, vnet_header=True, timeout=10):
    """Reads from the node until a frame containing `match` arrives (other traffic, e.g. IPv6 DAD, is skipped)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            continue
        body = data[VNET_HDR_LEN:] if vnet_header else data
        if match in body:
            return data
    raise Fail(f"no frame with {match!r} read from the node within {timeout} s")


def capture(run, src_mac, count=1):
    """Starts tcpdump on p1 in F for frames from src_mac; returns (process, pcap path)."""
    path = os.path.join(run.tmp, f"cap-{time.monotonic_ns()}.txt")
    out = open(path, "w")
    proc = subprocess.Popen(["ip", "netns", "exec", run.far, "tcpdump", "-l", "-n", "-e", "-x", "-c", str(count),
                             "-i", "p1", f"ether src {src_mac} and ether proto 0x88b5"],
                            stdout=out, stderr=subprocess.PIPE, bufsize=0)
    # tcpdump says "listening on p1" once its capture is open (read unbuffered: select sees only the pipe).
    deadline = time.monotonic() + 15
    said = b""
    while time.monotonic() < deadline and b"listening on" not in said:
        ready, _, _ = select.select([proc.stderr], [], [], 1)
        if ready:
            chunk = os.read(proc.stderr.fileno(), 4096)
            if not chunk:
                break
            said += chunk
    if b"listening on" in said:
        return proc, path
    proc.kill()
    proc.wait()
    raise Fail(f"tcpdump did not start: {said.decode(errors='replace').strip()}")


def captured(proc, path, timeout=10):
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise Fail(f"tcpdump captured nothing within {timeout} s")
    return open(path).read()


def send_from_far(run, dst_mac, payload):
    """Sends one frame to dst_mac from p1 in F (a Python AF_PACKET socket run inside F)."""
    code = ("import socket,struct,sys\n"
            "s=socket.socket(socket.AF_PACKET,socket.SOCK_RAW)\n"
            "s.bind(('p1',0))\n"
            "src=s.getsockname()[4]\n"
            f"dst=bytes.fromhex('{dst_mac.replace(':', '')}')\n"
            f"s.send(dst+src+struct.pack('!H',{ETH_P_EXPERIMENTAL})+bytes.fromhex('{payload.hex()}'))\n")
    sh("ip", "netns", "exec", run.far, "python3", "-c", code)


def far_mac(run):
    return run.link(run.far, "p1")["address"]


def node_number(path):
    st = os.stat(path)
    return os.major(st.st_rdev), os.minor(st.st_rdev)


def prove_node(run, result, label, vnet_header=True):
    """Frames both ways through the node the result reports. Returns the tcpdump line."""
    iface = result["interfaces"][-1]
    path, mac = iface["socketPath"], iface["mac"]
    fd = open_node(path, vnet_header)
    try:
        payload = f"{PREFIX} {label} out".encode()
        proc, cap = capture(run, mac)
        write_frame(fd, frame("ff:ff:ff:ff:ff:ff", mac, payload), vnet_header)
        text = captured(proc, cap)
        if mac.lower() not in text.lower() or payload.hex()[:16] not in text.replace(" ", ""):
            raise Fail(f"{label}: tcpdump saw something else: {text.strip()[:300]}")
        inbound = f"{PREFIX} {label} in".encode()
        send_from_far(run, mac, inbound)
        data = read_frame(fd, inbound, vnet_header)
        body = data[(VNET_HDR_LEN if vnet_header else 0):]
        if body[:6] != mac_bytes(mac):
            raise Fail(f"{label}: the frame read from the node is not addressed to {mac}")
        header = f"{VNET_HDR_LEN}-byte virtio-net header {data[:VNET_HDR_LEN].hex()} + " if vnet_header else ""
        read = (f"read {len(data)} bytes from {path}: {header}{body[:6].hex(':')} < {body[6:12].hex(':')} "
                f"type {body[12:14].hex()} {body[14:].decode(errors='replace')!r}")
        return f"out: written to {path}, tcpdump on p1: {text.strip().splitlines()[0].strip()} | in: {read}"
    finally:
        os.close(fd)
