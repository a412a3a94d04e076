"""Namespaces, topology and the kernel-state oracle (iproute2 `ip -j -d`).

Every command here addresses a namespace this run created (`ip -n NAME ...` or
`ip netns exec NAME ...`); nothing touches the root namespace's links, addresses or routes.
"""
import json
import os
import shutil
import subprocess

from .util import Fail, is_ip

IP = shutil.which("ip") or "/usr/sbin/ip"
SYS_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def sh(args, timeout=20, check=True, input=None):
    p = subprocess.run(args, input=input, capture_output=True, text=True, timeout=timeout,
                       env={"PATH": SYS_PATH, "LC_ALL": "C"})
    if check and p.returncode != 0:
        raise Fail(f"`{' '.join(args)}` failed ({p.returncode}): {p.stderr.strip()[:300]}")
    return p


def ns_exists(name):
    return os.path.exists(f"/run/netns/{name}")


def ns_add(name):
    sh([IP, "netns", "add", name])


def ns_del(name):
    if ns_exists(name):
        sh([IP, "netns", "del", name], check=False)


def ns_list():
    p = sh([IP, "netns", "list"], check=False)
    return [line.split()[0] for line in p.stdout.splitlines() if line.strip()]


def ipj(ns, *args):
    """`ip -n NS -j ARGS`, parsed; [] when the namespace is gone."""
    if not ns_exists(ns):
        return None
    p = sh([IP, "-n", ns, "-j"] + list(args), check=False)
    if p.returncode != 0:
        if "does not exist" in p.stderr or "Cannot find device" in p.stderr:
            return []
        raise Fail(f"ip -n {ns} -j {' '.join(args)}: {p.stderr.strip()[:200]}")
    out = p.stdout.strip()
    return json.loads(out) if out else []


def links(ns):
    """{name: {ifindex, kind, mac, mtu, ...raw}} of a namespace, None if it does not exist."""
    data = ipj(ns, "-d", "link", "show")
    if data is None:
        return None
    return {l["ifname"]: l for l in data}


def link(ns, dev):
    data = ipj(ns, "-d", "link", "show", "dev", dev)
    if not data:
        return None
    return data[0]


def addrs(ns, dev):
    data = ipj(ns, "addr", "show", "dev", dev)
    if not data:
        return None
    return data[0].get("addr_info", [])


def routes(ns, fam):
    return ipj(ns, "-" + fam, "route", "show", "table", "all") or []


def leases(datadir):
    """host-local lease files: {relative path: content} (files whose name is an IP address)."""
    out = {}
    if not datadir or not os.path.isdir(datadir):
        return out
    for root, _dirs, files in os.walk(datadir):
        for f in files:
            if is_ip(f):
                p = os.path.join(root, f)
                try:
                    with open(p) as fh:
                        out[os.path.relpath(p, datadir)] = fh.read()
                except OSError:
                    pass
    return out


def lease_owner(content):
    parts = content.replace("\r\n", "\n").split("\n")
    return (parts[0].strip(), parts[1].strip() if len(parts) > 1 else "")


class Topology:
    """H: host namespace holding parent veth(s) cnipN (peer cnipNp in H, or in F when far);
    C0..Cn-1: container namespaces."""

    def __init__(self, prefix, spec):
        self.prefix = prefix
        self.spec = spec or {}
        self.h = prefix + "-h"
        self.f = prefix + "-f"
        n = int(self.spec.get("containers", 1))
        self.containers = [f"{prefix}-c{i}" for i in range(n)]
        self.far = bool(self.spec.get("far", False))

    def all_ns(self):
        out = [self.h] + self.containers
        if self.far:
            out.append(self.f)
        return out

    def names(self):
        d = {"H": self.h, "F": self.f}
        for i, c in enumerate(self.containers):
            d[f"C{i}"] = c
        return d

    def resolve(self, short):
        d = self.names()
        if short not in d:
            raise Fail(f"unknown namespace {short!r} (have {sorted(d)})")
        return d[short]

    def create(self):
        s = self.spec
        for ns in self.all_ns():
            ns_add(ns)
        sh([IP, "-n", self.h, "link", "set", "lo", "up"])
        if self.far:
            sh([IP, "-n", self.f, "link", "set", "lo", "up"])
        if s.get("container_lo_up", True):
            for c in self.containers:
                sh([IP, "-n", c, "link", "set", "lo", "up"])
        mtu = int(s.get("parent_mtu", 1500))
        for i in range(int(s.get("parents", 1))):
            par, peer = f"cnip{i}", f"cnip{i}p"
            peer_ns = self.f if self.far else self.h
            sh([IP, "-n", self.h, "link", "add", par, "mtu", str(mtu), "type", "veth",
                "peer", "name", peer, "mtu", str(mtu), "netns", peer_ns])
            sh([IP, "-n", peer_ns, "link", "set", peer, "up"])
            if not s.get("parent_down", False) or i > 0:
                sh([IP, "-n", self.h, "link", "set", par, "up"])
        for i, a in enumerate(s.get("host_addrs", [])):
            sh([IP, "-n", self.h, "addr", "add", a, "dev", f"cnip{i}"])
        for r in s.get("host_routes", []):
            sh([IP, "-n", self.h, "route", "add"] + r.split())

    def destroy(self):
        for ns in self.all_ns():
            ns_del(ns)
