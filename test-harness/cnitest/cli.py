"""Command line of the test kit, for the bash scripts (runtime scenarios, demo, hot-sections):

  python3 -S test-harness/cnitest up PREFIX [--spec JSON]      build a topology, print H= F= C0.. MASTER= PEER=
  python3 -S test-harness/cnitest down PREFIX [--spec JSON]    remove it (same spec)
  python3 -S test-harness/cnitest netns-add NAME               one more namespace, lo up
  python3 -S test-harness/cnitest invoke [options] VERB PLUGIN [WRAPPER...]   one plugin call; config on stdin
  python3 -S test-harness/cnitest link NS DEV                  `ip -j -d link` object of DEV (nothing if absent)
  python3 -S test-harness/cnitest links NS [--kind KIND]       link names (of that kind)
  python3 -S test-harness/cnitest addrs NS DEV                 global addresses, address/prefix per line
  python3 -S test-harness/cnitest profile NAME KEY             a profile fact (kind, temp_prefix, l2_config, ...)

The spec is the topology's (cnitest/topology.py DEFAULTS), e.g. '{"containers": 2, "far": true}'.
"""
import argparse
import json
import shlex
import sys

from . import netns, oracle
from .command import Fail, IP, sh
from .plugin import cni_env, invoke
from .topology import Topology


def cmd_up(a):
    topo = Topology(a.prefix, json.loads(a.spec))
    try:
        topo.create()
    except BaseException:
        topo.destroy()
        raise
    out = dict(topo.names(), MASTER=topo.master, PEER=topo.peer)
    print("\n".join(f"{k}={shlex.quote(v)}" for k, v in out.items()))


def cmd_down(a):
    Topology(a.prefix, json.loads(a.spec)).destroy()


def cmd_netns_add(a):
    netns.add(a.name)
    sh([IP, "-n", a.name, "link", "set", "lo", "up"])


def cmd_invoke(a):
    config = json.loads(sys.stdin.read())
    if a.prev:
        with open(a.prev) as f:
            config["prevResult"] = json.load(f)
    env = cni_env(a.verb, a.cni_path, a.netns, a.containerid, a.ifname, a.args)
    call = invoke(a.host, a.wrapper + [a.plugin], env, json.dumps(config), timeout=a.timeout)
    sys.stdout.write(call.out)
    sys.stderr.write(call.err)
    return call.rc if call.rc >= 0 else 128 - call.rc


def cmd_link(a):
    l = oracle.link(a.ns, a.dev)
    if l:
        print(json.dumps(l))


def cmd_links(a):
    for name, l in (oracle.links(a.ns) or {}).items():
        if a.kind is None or oracle.kind(l) == a.kind:
            print(name)


def cmd_addrs(a):
    for addr in oracle.global_addrs(a.ns, a.dev):
        print(addr)


def cmd_profile(a):
    from . import profile as profiles   # tomllib: only this command needs it
    p = profiles.load(a.name)
    v = {"kind": p.kind, "temp_prefix": p.temp_prefix, "conflist_type": p.conflist_type, "l2_config": p.l2}[a.key]
    print(v if isinstance(v, str) else json.dumps(v))


def parser():
    ap = argparse.ArgumentParser(prog="cnitest", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("up", "down"):
        p = sub.add_parser(name)
        p.add_argument("prefix")
        p.add_argument("--spec", default="{}")
    sub.add_parser("netns-add").add_argument("name")
    p = sub.add_parser("invoke")
    p.add_argument("--host", help="namespace to run the plugin in (default: this one)")
    p.add_argument("--netns", default="", help="CNI_NETNS")
    p.add_argument("--containerid", default="cnitest")
    p.add_argument("--ifname", default="eth0")
    p.add_argument("--cni-path", default="/usr/lib/cni")
    p.add_argument("--args", default=None, help="CNI_ARGS")
    p.add_argument("--prev", metavar="FILE", help="put the result in FILE into the config as prevResult")
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("verb")
    p.add_argument("plugin")
    p.add_argument("wrapper", nargs=argparse.REMAINDER, help="a command the plugin runs under (valgrind ...)")
    p = sub.add_parser("link")
    p.add_argument("ns")
    p.add_argument("dev")
    p = sub.add_parser("links")
    p.add_argument("ns")
    p.add_argument("--kind")
    p = sub.add_parser("addrs")
    p.add_argument("ns")
    p.add_argument("dev")
    p = sub.add_parser("profile")
    p.add_argument("name")
    p.add_argument("key", choices=("kind", "temp_prefix", "conflist_type", "l2_config"))
    return ap


def main(argv=None):
    a = parser().parse_args(argv)
    try:
        return globals()["cmd_" + a.cmd.replace("-", "_")](a) or 0
    except Fail as e:
        print(f"cnitest {a.cmd}: {e}", file=sys.stderr)
        return 1
