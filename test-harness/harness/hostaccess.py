"""Host access (`hostAccess`, the macvlan plugin's): the per-case state directory, the host-side oracle (shims,
host routes, records) and TCP reachability steps. Self-contained: verbs, cleanliness, assertions and case_run
call these few functions.

Steps and assertions this adds to the case format:
  listen = "C0", port = 8080               a TCP listener in C0 (answers "ok\n" to every connection; killed
                                           by PID at the end of the case)
  tcp = "${IP:add}", port = 8080, from = "H", expect = true
                                           connect, read the answer (IPv6 if the address has ':')
  assert = "hostaccess", shims = [...], routes = N, records = N, reach = "STEP_ID", from = "H"
                                           exact set of shim links (mvh-*) in H; number of host routes through
                                           them; number of record files; every address of step STEP_ID's
                                           result(s) answers ping from H
"""
import os
import select
import subprocess

from cnitest import oracle
from cnitest.command import Fail, in_netns, sh

SHIM_PREFIX = "mvh-"

LISTENER = r"""
import socket, sys
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1])))
s.listen(64)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    c.sendall(b"ok\n")
    c.close()
"""

CONNECT = r"""
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam)
s.settimeout(3)
s.connect((sys.argv[1], int(sys.argv[2])))
sys.stdout.write(s.recv(16).decode())
"""


def state_dir(case_tmp):
    return os.path.join(case_tmp, "host-access")


def force_state_dir(conf, case_tmp):
    """Like host-local's dataDir: a test never writes the default /run/cni/macvlan-host-access.
    `true` becomes the equivalent `{}` with the case's directory."""
    ha = conf.get("hostAccess")
    if ha is True:
        conf["hostAccess"] = {"dataDir": state_dir(case_tmp)}
    elif isinstance(ha, dict) and "dataDir" not in ha:
        ha["dataDir"] = state_dir(case_tmp)


def records(case_tmp):
    """{relative path: content} of the record files (hidden files: the lock, temporaries, skipped)."""
    out = {}
    root = state_dir(case_tmp)
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            if not f.startswith("."):
                p = os.path.join(dirpath, f)
                with open(p) as fh:
                    out[os.path.relpath(p, root)] = fh.read()
    return out


def host_routes(ns):
    """The routes of the namespace that a plugin adds (both families, all tables), normalised to comparable
    tuples. Left out: the local table and the kernel's own routes (proto kernel), which follow addresses and
    carrier on the kernel's own time (an IPv6 address's routes appear once the master has carrier), and IPv6
    link-local and multicast routes. A shim left behind shows as a link."""
    out = set()
    for fam in ("4", "6"):
        for r in oracle.routes(ns, fam):
            if str(r.get("dst", "")).startswith(("fe80", "ff00")) or r.get("table") == "local" \
                    or r.get("protocol") == "kernel":
                continue
            out.add((r.get("type", "unicast"), r.get("dst"), r.get("dev"), r.get("prefsrc"), r.get("gateway"),
                     r.get("table", "main"), r.get("protocol", "boot")))
    return out


def snapshot(ns, case_tmp):
    return {"routes": host_routes(ns), "records": records(case_tmp)}


def compare(before, after):
    """What changed on the host side between two snapshots, or None."""
    if before is None or after is None:
        return None
    added = sorted(after["routes"] - before["routes"], key=str)
    removed = sorted(before["routes"] - after["routes"], key=str)
    if added or removed:
        return f"host routes changed: added {added[:4]}, removed {removed[:4]}"
    if after["records"] != before["records"]:
        return f"host-access records changed: {sorted(before['records'])} -> {sorted(after['records'])}"
    return None


def check_deleted(after, jobs):
    """After DEL: no record of the deleted attachments."""
    if after is None:
        return
    for _cns, cid, ifname in jobs:
        left = [p for p in after["records"] if os.path.basename(p) == f"{cid}:{ifname}"]
        if left:
            raise Fail(f"host-access record {left[0]} still there after DEL")


def shims(ns):
    return sorted(n for n in (oracle.links(ns) or {}) if n.startswith(SHIM_PREFIX))


def routes_via_shims(ns):
    """Host routes through shims (not the kernel's own, such as the /128 of a shim's IPv6 address)."""
    return [r for r in host_routes(ns) if (r[2] or "").startswith(SHIM_PREFIX) and r[0] == "unicast"
            and r[6] != "kernel" and r[1] and "/" not in r[1]]


def ping(ns, address):
    for _ in range(4):
        p = sh(in_netns(ns, ["ping", "-n", "-c", "1", "-W", "1", address]), check=False, timeout=10)
        if p.returncode == 0:
            return True
    return False


def assert_state(cr, step):
    h = cr.topo.resolve(step.get("ns", "H"))
    if "shims" in step:
        have = shims(h)
        if have != sorted(cr.x(step["shims"])):
            raise Fail(f"shims in H: {have}, expected {sorted(step['shims'])}")
    if "routes" in step:
        rs = routes_via_shims(h)
        if len(rs) != step["routes"]:
            raise Fail(f"{len(rs)} host routes through shims, expected {step['routes']}: {sorted(rs, key=str)[:6]}")
    if "records" in step:
        recs = records(cr.tmp)
        if len(recs) != step["records"]:
            raise Fail(f"{len(recs)} host-access records, expected {step['records']}: {sorted(recs)[:6]}")
    if "reach" in step:
        res = cr.results.get(step["reach"])
        results = res if isinstance(res, list) else [res]
        src = cr.topo.resolve(step.get("from", "H"))
        for r in results:
            for ip in (r or {}).get("ips", []):
                addr = ip["address"].split("/")[0]
                if not ping(src, addr):
                    raise Fail(f"{addr} does not answer ping from {step.get('from', 'H')}")


def listen(cr, step):
    ns = cr.topo.resolve(step["listen"])
    port = str(int(step.get("port", 8080)))
    p = subprocess.Popen(in_netns(ns, ["python3", "-c", LISTENER, port]), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
    cr.run.registry.register(p)
    cr.spawned[step.get("id", f"listen-{step['listen']}-{port}")] = p   # teardown kills it by PID
    ready, _, _ = select.select([p.stdout], [], [], 10)
    if not ready or p.stdout.readline().strip() != b"ready":
        raise Fail(f"TCP listener in {step['listen']} did not start")


def tcp(cr, step):
    src = cr.topo.resolve(step.get("from", "H"))
    addr = cr.x(step["tcp"]).split("/")[0]   # a result's address carries its prefix length
    want = step.get("expect", True)
    p = sh(in_netns(src, ["python3", "-c", CONNECT, addr, str(int(step.get("port", 8080)))]), check=False, timeout=10)
    ok = p.returncode == 0 and p.stdout == "ok\n"
    if ok != want:
        err = p.stderr.strip().splitlines()
        why = "connected" if ok else "failed" + (f" ({err[-1]})" if err else "")
        raise Fail(f"TCP to {addr}:{step.get('port', 8080)} from {step.get('from', 'H')}: {why}, "
                   f"expected {'success' if want else 'failure'}")
