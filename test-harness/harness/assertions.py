"""`assert = KIND` steps: one function per kind, registered in KINDS. The oracle is the kernel (`ip -j`),
host-local's lease files, the fake IPAM's record of its calls, or earlier results. A new kind is a new
function with @assertion("name") (and a row in test-harness/README.md)."""
import os
import time

from cnitest import oracle
from cnitest.command import Fail, in_netns, sh

from . import cleanliness, hostaccess
from .util import deep_merge, jget, match, short

KINDS = {}


def assertion(kind, in_namespace=True):
    """Registers f(cr, step[, ns]) for `assert = kind`; in_namespace: it gets the step's namespace (ns, default
    C0) resolved."""
    def register(f):
        KINDS[kind] = (f, in_namespace)
        return f
    return register


def run(cr, step):
    kind = step["assert"]
    if kind not in KINDS:
        raise Fail(f"unknown assertion {kind!r}")
    f, in_namespace = KINDS[kind]
    if in_namespace:
        return f(cr, step, cr.topo.resolve(step.get("ns", "C0")))
    return f(cr, step)


@assertion("link")
def link(cr, step, ns):
    dev = cr.x(step.get("dev", "eth0"))
    where = step.get("ns", "C0")
    l = oracle.link(ns, dev)
    if not step.get("exists", True):
        if l is not None:
            raise Fail(f"link {dev} exists in {where} ({oracle.kind(l)})")
        return
    if l is None:
        raise Fail(f"no link {dev} in {where}")
    exp = {}
    if "kind" in step:
        exp.setdefault("linkinfo", {})["info_kind"] = cr.x(step["kind"])
    if "mode" in step:
        exp.setdefault("linkinfo", {}).setdefault("info_data", {})["mode"] = step["mode"]
    for k in ("mtu", "operstate"):
        if k in step:
            exp[k] = step[k]
    if "mac" in step:
        exp["address"] = cr.x(step["mac"]).lower()
        l["address"] = l.get("address", "").lower()
    if "up" in step:
        has = "UP" in l.get("flags", [])
        if has != step["up"]:
            raise Fail(f"{dev}: UP flag {has}, expected {step['up']}")
    m = match(deep_merge(exp, cr.x(step.get("match", {}))), l)
    if m:
        raise Fail(f"link {dev}{m}")
    if "master" in step:
        lower_is(cr, step, ns, dev, l)


def lower_is(cr, step, ns, dev, l):
    """The link's lower device is step's master (in master_ns, default H)."""
    mns = cr.topo.resolve(step.get("master_ns", "H"))
    ml = oracle.link(mns, step["master"])
    if ml is None:
        raise Fail(f"master {step['master']} not in {step.get('master_ns', 'H')}")
    if "link" in l and "link_netnsid" not in l:   # lower in the same namespace: ip prints its name
        ok = l["link"] == step["master"] and mns == ns
    else:
        ok = l.get("link_index") == ml["ifindex"]
    if not ok:
        raise Fail(f"{dev} lower {l.get('link') or l.get('link_index')}, expected {step['master']} ({ml['ifindex']})")


@assertion("links")
def links(cr, step, ns):
    ls = oracle.links(ns)
    if ls is None:
        raise Fail(f"namespace {step.get('ns', 'C0')} is gone")
    want = sorted(cr.x(step["names"]))
    if sorted(ls) != want:
        raise Fail(f"links in {step.get('ns', 'C0')}: {sorted(ls)}, expected {want}")


@assertion("addr")
def addr(cr, step, ns):
    dev = cr.x(step.get("dev", "eth0"))
    a = oracle.addrs(ns, dev)
    if a is None:
        raise Fail(f"no link {dev} in {step.get('ns', 'C0')}")
    have = {f"{x['local']}/{x['prefixlen']}": x for x in a}
    for want in cr.x(step.get("has", [])):
        if want not in have:
            raise Fail(f"{dev} lacks {want}; has {sorted(have)}")
        if step.get("no_tentative", True) and have[want].get("tentative"):
            raise Fail(f"{dev}: {want} still tentative (DAD not finished)")
    for bad in cr.x(step.get("lacks", [])):
        if bad in have:
            raise Fail(f"{dev} has {bad}")
    if "global" in step:
        g = sorted(k for k, v in have.items() if v.get("scope") == "global")
        if g != sorted(cr.x(step["global"])):
            raise Fail(f"{dev} global addresses {g}, expected {sorted(step['global'])}")


@assertion("route")
def route(cr, step, ns):
    rs = []
    for f in [step["family"]] if "family" in step else ["4", "6"]:
        rs += oracle.routes(ns, f)
    for want in cr.x(step.get("has", [])):
        if not any(match(want, r) is None for r in rs):
            raise Fail(f"no route matching {short(want)}; have {short([r for r in rs if r.get('type') != 'local'], 600)}")
    for bad in cr.x(step.get("lacks", [])):
        if any(match(bad, r) is None for r in rs):
            raise Fail(f"unexpected route matching {short(bad)}")


@assertion("sysctl")
def sysctl(cr, step, ns):
    key = cr.x(step["key"])
    p = sh(in_netns(ns, ["cat", "/proc/sys/" + key]), check=False)
    if p.stdout.strip() != str(step["value"]):
        raise Fail(f"{key} = {p.stdout.strip()!r}, expected {step['value']!r}")


@assertion("leases", in_namespace=False)
def leases(cr, step):
    """`settle` (seconds): first wait, bounded, for the count to be reached: an IPAM child outlives a plugin
    killed while it ran (SIGKILL reaches the plugin only) and writes its lease on its own schedule."""
    ls = oracle.leases(cr.datadir)
    deadline = time.monotonic() + step.get("settle", 0)
    while "count" in step and len(ls) != step["count"] and time.monotonic() < deadline:
        time.sleep(0.05)
        ls = oracle.leases(cr.datadir)
    if "count" in step and len(ls) != step["count"]:
        raise Fail(f"{len(ls)} host-local leases, expected {step['count']}: {sorted(ls)}")
    for want in cr.x(step.get("has", [])):
        if not any(os.path.basename(k) == want for k in ls):
            raise Fail(f"no lease for {want}: {sorted(ls)}")


@assertion("record", in_namespace=False)
def record(cr, step):
    """The fake IPAM's calls (VERSION filtered unless with_version)."""
    recs = [r for r in cr.records() if step.get("with_version") or r["command"] != "VERSION"]
    cmds = [r["command"] for r in recs]
    if "commands" in step and cmds != step["commands"]:
        raise Fail(f"IPAM saw {cmds}, expected {step['commands']}")
    for c in step.get("includes", []):
        if c not in cmds:
            raise Fail(f"IPAM never saw {c}: {cmds}")
    for c in step.get("excludes", []):
        if c in cmds:
            raise Fail(f"IPAM saw {c}: {cmds}")
    for sel, exp in cr.x(step.get("match", {})).items():
        m = match(exp, selected_record(recs, cmds, sel))
        if m:
            raise Fail(f"IPAM record {sel}{m}")


def selected_record(recs, cmds, sel):
    """sel: an index into the records, or a command name (its last record)."""
    if sel.lstrip("-").isdigit():
        i = int(sel)
        if not -len(recs) <= i < len(recs):
            raise Fail(f"no IPAM record #{sel}: {cmds}")
        return recs[i]
    cand = [r for r in recs if r["command"] == sel]
    if not cand:
        raise Fail(f"no IPAM {sel} record: {cmds}")
    return cand[-1]


@assertion("distinct", in_namespace=False)
def distinct(cr, step):
    """A value (path, default ips/0/address) differs across the results of a parallel step."""
    vals = []
    for r in cr.results.get(step["step"]) or []:
        try:
            vals.append(jget(r, step.get("path", "ips/0/address")))
        except KeyError:
            raise Fail(f"a result lacks {step.get('path')}: {short(r)}")
    if len(set(vals)) != len(vals):
        raise Fail(f"values not distinct: {vals}")


@assertion("result", in_namespace=False)
def result(cr, step):
    m = match(cr.x(step["match"]), cr.results.get(step["step"]))
    if m:
        raise Fail("result" + m)


@assertion("log", in_namespace=False)
def invocation_log(cr, step):
    """The plugin's invocation log (config key logFile): one JSON line per invocation. `count`, `match` (a list,
    record by record, subset match) and `phases` (keys every matched record's "phases" must have as numbers)."""
    import json
    path = cr.x(step["file"])
    try:
        with open(path) as f:
            recs = [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        recs = []
    except ValueError as e:
        raise Fail(f"log {path} has a line that is not JSON: {e}")
    if "count" in step and len(recs) != step["count"]:
        raise Fail(f"log has {len(recs)} records, expected {step['count']}: {[r.get('verb') for r in recs]}")
    for i, exp in enumerate(cr.x(step.get("match", []))):
        if i >= len(recs):
            raise Fail(f"no log record #{i}")
        m = match(exp, recs[i])
        if m:
            raise Fail(f"log record #{i}{m}")
        phases = recs[i].get("phases") or {}
        missing = [p for p in step.get("phases", []) if not isinstance(phases.get(p), (int, float))]
        if missing:
            raise Fail(f"log record #{i} lacks phases {missing}: {phases}")


assertion("clean", in_namespace=False)(cleanliness.assert_clean)


KINDS["hostaccess"] = (hostaccess.assert_state, False)   # shims, host routes, records, reachability (hostaccess.py)
