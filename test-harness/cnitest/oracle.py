"""The kernel-state oracle: iproute2's `ip -j` (independent of the plugin's own netlink code), and the lease
files of host-local. Every query names a namespace the test created; None means the namespace is gone."""
import ipaddress
import json
import os

from . import netns
from .command import IP, Fail, sh


def ipj(ns, *args):
    """`ip -n NS -j ARGS`, parsed; None when the namespace is gone, [] when the device does not exist."""
    if not netns.exists(ns):
        return None
    p = sh([IP, "-n", ns, "-j"] + list(args), check=False)
    if p.returncode != 0:
        if "does not exist" in p.stderr or "Cannot find device" in p.stderr:
            return []
        raise Fail(f"ip -n {ns} -j {' '.join(args)}: {p.stderr.strip()[:200]}")
    out = p.stdout.strip()
    return json.loads(out) if out else []


def links(ns):
    """{name: `ip -j -d link` object} of a namespace, None if it does not exist."""
    data = ipj(ns, "-d", "link", "show")
    return None if data is None else {l["ifname"]: l for l in data}


def links_of(namespaces, workers=8):
    """links() of many namespaces, queried concurrently (hundreds of containers in stress and scale runs)."""
    if len(namespaces) <= 4:
        return [links(ns) for ns in namespaces]
    import concurrent.futures as cf   # here: its import (logging, threads) costs the one-shot CLI ~60 ms
    with cf.ThreadPoolExecutor(max_workers=workers) as ex:
        return list(ex.map(links, namespaces))


def link(ns, dev):
    data = ipj(ns, "-d", "link", "show", "dev", dev)
    return data[0] if data else None


def kind(l):
    """The rtnetlink kind of a link object (macvlan, veth, ...), None for plain devices such as lo."""
    return (l.get("linkinfo") or {}).get("info_kind")


def addrs(ns, dev):
    data = ipj(ns, "addr", "show", "dev", dev)
    return data[0].get("addr_info", []) if data else None


def global_addrs(ns, dev):
    """'address/prefix' of the global-scope addresses of dev (what a result's ips[] must be on the link)."""
    return [f"{a['local']}/{a['prefixlen']}" for a in addrs(ns, dev) or [] if a.get("scope") == "global"]


def routes(ns, family):
    return ipj(ns, "-" + family, "route", "show", "table", "all") or []


def is_ip(name):
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


def leases(datadir):
    """host-local lease files below datadir: {relative path: content} (files whose name is an IP address)."""
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
    """(container ID, ifname) a host-local lease file names."""
    parts = content.replace("\r\n", "\n").split("\n")
    return (parts[0].strip(), parts[1].strip() if len(parts) > 1 else "")
