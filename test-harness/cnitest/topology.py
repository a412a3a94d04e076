"""The test topology every user of this package shares (the one place that builds it):

    H  "host" namespace: parent veth(s) MASTERi, the plugin runs here (`ip netns exec H PLUGIN`)
    F  optional far end of the parent's wire (with `far`; otherwise the peer stays in H)
    C0..Cn-1  container namespaces (CNI_NETNS)

With host = "root" the parent sits in the root namespace instead of H (podman runs plugins there): then the
master names must be unique on the machine (the caller's prefix) and the peer goes to F.
Namespace names are PREFIX-h, PREFIX-f, PREFIX-c<i>; destroy() removes them (and a root-namespace master).
"""
from . import netns
from .command import IP, Fail, sh

DEFAULTS = {
    "containers": 1,          # container namespaces C0..
    "parents": 1,             # veth masters MASTER0.. (peer MASTERip)
    "master_prefix": "cnip",
    "parent_mtu": 1500,
    "parent_down": False,     # leave the first master administratively down
    "far": False,             # peers in F instead of H
    "host": "netns",          # "root": masters in the root namespace (runtimes that run plugins there)
    "master_ipv6_ll": True,   # False: no link-local address on the master (no IPv6 noise on the wire)
    "container_lo_up": True,
    "host_addrs": [],         # addresses on MASTER0.., one per master in order
    "host_routes": [],        # `ip route add` arguments in H
}


class Topology:
    def __init__(self, prefix, spec=None):
        unknown = set(spec or {}) - set(DEFAULTS)
        if unknown:
            raise Fail(f"unknown topology keys {sorted(unknown)} (known: {sorted(DEFAULTS)})")
        self.spec = dict(DEFAULTS, **(spec or {}))
        self.prefix = prefix
        self.in_root = self.spec["host"] == "root"
        self.far = bool(self.spec["far"]) or self.in_root
        self.h = None if self.in_root else prefix + "-h"
        self.f = prefix + "-f"
        self.containers = [f"{prefix}-c{i}" for i in range(int(self.spec["containers"]))]
        n = int(self.spec["parents"])
        self.masters = [f"{self.spec['master_prefix']}{i}" for i in range(n)]
        self.peers = [m + "p" for m in self.masters]

    @property
    def master(self):
        return self.masters[0]

    @property
    def peer(self):
        return self.peers[0]

    def all_ns(self):
        return ([self.h] if self.h else []) + self.containers + ([self.f] if self.far else [])

    def names(self):
        """Short names (H, F, C0, ...) to namespace names."""
        d = {"F": self.f} if self.far else {}
        if self.h:
            d["H"] = self.h
        d.update({f"C{i}": c for i, c in enumerate(self.containers)})
        return d

    def resolve(self, short):
        d = self.names()
        if short not in d:
            raise Fail(f"unknown namespace {short!r} (have {sorted(d)})")
        return d[short]

    def short_name(self, ns):
        return next((k for k, v in self.names().items() if v == ns), ns)

    def _ip(self, ns, *args):
        sh([IP] + (["-n", ns] if ns else []) + list(args))

    def create(self):
        s = self.spec
        netns.add_many(self.all_ns())
        for ns in [self.h, self.f if self.far else None] + (self.containers if s["container_lo_up"] else []):
            if ns:
                self._ip(ns, "link", "set", "lo", "up")
        mtu = str(int(s["parent_mtu"]))
        peer_ns = self.f if self.far else self.h
        for i, (par, peer) in enumerate(zip(self.masters, self.peers)):
            self._ip(self.h, "link", "add", par, "mtu", mtu, "type", "veth", "peer", "name", peer, "mtu", mtu,
                     "netns", peer_ns)
            if not s["master_ipv6_ll"]:
                self._ip(self.h, "link", "set", par, "addrgenmode", "none")
            self._ip(peer_ns, "link", "set", peer, "up")
            if not s["parent_down"] or i > 0:
                self._ip(self.h, "link", "set", par, "up")
        for a, par in zip(s["host_addrs"], self.masters):
            self._ip(self.h, "addr", "add", a, "dev", par)
        for r in s["host_routes"]:
            self._ip(self.h, "route", "add", *r.split())
        return self

    def destroy(self):
        if self.in_root:   # only the links we named; deleting F would take the pair along anyway
            for par in self.masters:
                sh([IP, "link", "del", par], check=False)
        netns.delete_many(self.all_ns())

    def __enter__(self):
        try:
            return self.create()
        except BaseException:
            self.destroy()
            raise

    def __exit__(self, *exc):
        self.destroy()
