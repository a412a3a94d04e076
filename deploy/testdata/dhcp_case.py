"""deploy/test's dhcp part: the dhcp daemon DaemonSet's paths, and a dhcp network config run for real.

The daemon is started with the DaemonSet's own arguments; its /host (the -hostprefix) is a temporary directory
laid out like the DaemonSet's mounts: the node's namespace directories and /proc are the real ones (symlinks),
the socket and state directories private ones. The topology, dnsmasq, the plugin calls and the cleanup (processes
by PID, namespaces by prefix) are test-harness/dhcp/run's (its dhcpcheck.topology module).
"""
import argparse
import ipaddress
import json
import os
import signal
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_SOCKET = "/run/cni/dhcp.sock"      # the daemon's and the plugin's default (docs/DHCP.md)
DEFAULT_STATE = "/var/lib/cni/dhcp"
NODE_VIEWS = ("/var/run/netns", "/run/netns", "/proc")   # the node's own, seen by the daemon through its prefix


def daemon_flags(args):
    """`dhcp daemon` flags as a dict (-flag VALUE or -flag=VALUE; the boolean -broadcast as True)."""
    if not args or args[0] != "daemon":
        raise ValueError(f"not `dhcp daemon ...`: {args}")
    flags, rest = {}, list(args[1:])
    while rest:
        a = rest.pop(0).lstrip("-")
        if "=" in a:
            k, v = a.split("=", 1)
        elif a == "broadcast":
            k, v = a, True
        else:
            k, v = a, rest.pop(0)
        flags[k] = v
    return flags


def host_path(container_path, mounts):
    """The node's path behind a container path, through the longest mount {mountPath: hostPath}; None if none."""
    best = max((m for m in mounts if container_path == m or container_path.startswith(m.rstrip("/") + "/")),
               key=len, default=None)
    return None if best is None else mounts[best] + container_path[len(best):]


def load_dhcp_harness(prefix):
    sys.dont_write_bytecode = True   # no __pycache__ in the tree
    sys.path.insert(0, os.path.join(ROOT, "test-harness", "dhcp"))
    from dhcpcheck import topology
    topology.PREFIX = prefix
    return topology


def _terminated(*_):
    raise SystemExit(143)   # so that the cleanup in run's finally kills what it started


def run(check, name, conf, daemon_args, mounts, dhcp, macvlan, prefix):
    """ADD, CHECK, DEL of CONF (a macvlan config with dhcp IPAM) against a daemon run with DAEMON_ARGS."""
    h = load_dhcp_harness(prefix)
    flags = daemon_flags(daemon_args)
    hp = flags.get("hostprefix", "")
    previous = signal.signal(signal.SIGTERM, _terminated)
    t = None
    try:
        t = h.Scenario(argparse.Namespace(dhcp=dhcp, macvlan=macvlan, reference=False), 0, name)
        host = os.path.join(t.dir, "host")
        for cpath, hpath in mounts.items():
            if not cpath.startswith(hp + "/"):
                continue
            here = host + cpath[len(hp):]
            os.makedirs(os.path.dirname(here), exist_ok=True)
            if hpath in NODE_VIEWS:
                os.symlink(hpath, here)
            else:
                os.makedirs(here)
        args = [host + a[len(hp):] if hp and (a == hp or a.startswith(hp + "/")) else a for a in daemon_args]
        mapped = daemon_flags(args)
        socket_path = mapped.get("hostprefix", "") + mapped.get("socketpath", DEFAULT_SOCKET)
        state = mapped.get("statedir", DEFAULT_STATE)
        outside = [p for p in (socket_path, state) if not p.startswith(host + "/")]
        check(f"{name}: the daemon's socket and state directory are behind its -hostprefix", not outside,
              f"{outside} would be this machine's own (not run)")
        if outside:
            return
        t.start_dnsmasq()
        t.daemon = h.start([f"{t.bin}/dhcp"] + args, ns=t.h, log=f"{t.dir}/daemon.log")
        h.wait_for("the daemon's socket", lambda: os.path.exists(socket_path) or t.daemon.poll() is not None, 20)
        check(f"{name}: dhcp daemon runs with the DaemonSet's arguments", t.daemon.poll() is None
              and os.path.exists(socket_path), t.daemon_log()[-400:])
        conf = json.loads(json.dumps(conf))
        conf["master"] = "m0"
        conf["ipam"].update(daemonSocketPath=socket_path, stateDir=state)
        c = t.container()
        rc, result, _ = t.cni("ADD", c, conf, ifname="net1", args=f"K8S_POD_NAME={name}")
        ips = (result or {}).get("ips") or [{}]
        ok = rc == 0 and ipaddress.ip_interface(ips[0].get("address", "0.0.0.0/0")) in ipaddress.ip_network("10.213.0.0/24")
        check(f"{name}: ADD leases an address from the DHCP server", ok, f"{result} {t.daemon_log()[-400:]}")
        if not ok:
            return
        ip = ips[0]["address"].split("/")[0]
        link = json.loads(h.sh("ip", "-j", "-d", "-n", c, "link", "show", "net1").stdout)[0]
        addrs = [a["local"] for a in t.addresses(c, ifname="net1")]
        check(f"{name}: net1 is a macvlan holding the lease", link["linkinfo"]["info_kind"] == "macvlan" and ip in addrs,
              (link.get("linkinfo"), addrs))
        records = lambda: [f for f in os.listdir(state) if f.startswith("lease-")]
        check(f"{name}: the lease is recorded in the state directory", len(records()) == 1, records())
        rc, out, _ = t.cni("CHECK", c, dict(conf, prevResult=result), ifname="net1")
        check(f"{name}: CHECK", rc == 0, out)
        mac = link["address"]
        rc, out, _ = t.cni("DEL", c, conf, ifname="net1")
        gone = h.sh("ip", "-n", c, "link", "show", "net1", check=False).returncode != 0
        check(f"{name}: DEL removes net1", rc == 0 and gone, out)
        try:
            h.wait_for("the RELEASE", lambda: [e for e in t.server_events(mac) if e[1] == "RELEASE"], 10)
            released = True
        except h.Fail:
            released = False
        check(f"{name}: DEL releases the lease at the server, no record left", released and not records(),
              (t.server_events(mac), records()))
    except h.Fail as e:
        check(f"{name}: dhcp case ran", False, f"{e} {t.daemon_log()[-400:] if t else ''}")
    finally:
        if t:
            t.cleanup()
        h.cleanup_all()
        signal.signal(signal.SIGTERM, previous)
