#!/usr/bin/env python3
"""Side-by-side benchmark of two CNI macvlan plugins (python3 stdlib only).

Subcommands (normally reached through the wrappers bench/run and bench/profile):
  run [--smoke] OURS REFERENCE   interleaved benchmark, Markdown table + JSON in bench/results/
  profile OURS [REFERENCE]       strace -c, perf stat, LD_DEBUG=statistics, callgrind on one L2 ADD
  cleanup                        remove namespaces left by a benchmark that was SIGKILLed
  worker                         internal: runs inside a host namespace, spawns plugins, times them

Safety: everything lives in namespaces named mvb-<pid>-..., created here and deleted on exit (also on
failure, Ctrl-C, SIGTERM, SIGHUP). Masters are veth pairs inside the per-plugin host namespace. Nothing in
the root namespace is touched besides creating/deleting those namespaces.
"""

import argparse
import ctypes
import datetime
import json
import os
import platform
import re
import selectors
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

PREFIX = "mvb"
CLONE_NEWNET = 0x40000000
REF_DEFAULT = "/usr/lib/cni/macvlan"
IPAM_DIR = "/usr/lib/cni"
CNI_VERSION = "1.0.0"          # the reference (1.1.1) supports up to 1.0.0
EXEC_TIMEOUT = 60.0            # seconds, per plugin execution (and per batch)
PATH_ENV = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
HERE = os.path.dirname(os.path.abspath(__file__))


SMOKE_DEFAULTS = dict(iterations=5, warmup=1, scale=20, scale_window=5, conc=32, rounds=1, startup=5, rss=3)
FULL_DEFAULTS = dict(iterations=200, warmup=5, scale=1000, scale_window=50, conc=32, rounds=3, startup=100, rss=20)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------------
# Worker: lives in one host namespace (started via `ip netns exec HOST python3 cnibench.py worker`),
# reads one JSON request per line on stdin, answers one JSON line on stdout. Timing = spawn .. reap.
# --------------------------------------------------------------------------------------------------

def _spawn(job):
    """posix_spawn one plugin with stdin from an in-memory pipe. Returns a running-job dict."""
    data = job["stdin"].encode()
    if len(data) >= 65536:
        raise ValueError("stdin too large for the pipe buffer")
    in_r, in_w = os.pipe()          # O_CLOEXEC: other jobs never inherit our ends
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    os.write(in_w, data)            # fits in the pipe buffer; the plugin reads it from memory
    os.close(in_w)
    env = dict(job["env"])
    env.setdefault("PATH", PATH_ENV)
    t0 = time.perf_counter_ns()
    try:
        pid = os.posix_spawn(job["plugin"], [job["plugin"]] + job.get("args", []), env,
                             file_actions=[(os.POSIX_SPAWN_DUP2, in_r, 0),
                                           (os.POSIX_SPAWN_DUP2, out_w, 1),
                                           (os.POSIX_SPAWN_DUP2, err_w, 2)])
    finally:
        os.close(in_r)
        os.close(out_w)
        os.close(err_w)
    return {"pid": pid, "t0": t0, "out_fd": out_r, "err_fd": err_r, "out": [], "err": [],
            "open": 2, "done": False}


def _run_jobs(jobs, timeout=EXEC_TIMEOUT):
    """Start all jobs at once, collect output, reap with wait4. Returns (results, batch_wall_ns)."""
    running = []
    sel = selectors.DefaultSelector()
    t_start = time.perf_counter_ns()
    try:
        for job in jobs:
            r = _spawn(job)
            running.append(r)
            sel.register(r["out_fd"], selectors.EVENT_READ, (r, "out"))
            sel.register(r["err_fd"], selectors.EVENT_READ, (r, "err"))
    except Exception:
        for r in running:
            os.kill(r["pid"], signal.SIGKILL)
        raise
    by_pid = {r["pid"]: r for r in running}
    deadline = time.monotonic() + timeout
    timed_out = False
    open_fds = 2 * len(running)
    while open_fds > 0:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        for key, _ in sel.select(timeout=min(left, 1.0)):
            r, which = key.data
            chunk = os.read(key.fd, 65536)
            if chunk:
                r[which].append(chunk)
            else:
                sel.unregister(key.fd)
                os.close(key.fd)
                open_fds -= 1
    if timed_out:
        for r in running:
            try:
                os.kill(r["pid"], signal.SIGKILL)   # only processes we spawned, by PID
            except ProcessLookupError:
                pass
        for key in list(sel.get_map().values()):
            sel.unregister(key.fd)
            os.close(key.fd)
    sel.close()
    # reap in exit order
    remaining = len(running)
    t_end = t_start
    while remaining:
        pid, status, ru = os.wait4(-1, 0)
        now = time.perf_counter_ns()
        r = by_pid.get(pid)
        if r is None:
            continue
        remaining -= 1
        t_end = max(t_end, now)
        r.update(done=True, wall_ns=now - r["t0"], status=status,
                 utime=ru.ru_utime, stime=ru.ru_stime, maxrss_kb=ru.ru_maxrss)
    results = []
    job_rss_files = [j.get("rss_file") for j in jobs]
    for r in running:
        st = r["status"]
        rss_kb = None
        if job_rss_files[len(results)]:
            try:
                with open(job_rss_files[len(results)]) as f:
                    rss_kb = int(f.read().split()[-1])
            except (OSError, ValueError, IndexError):
                pass
        results.append({
            "rc": os.waitstatus_to_exitcode(st),
            "plugin_maxrss_kb": rss_kb,
            "out": b"".join(r["out"]).decode(errors="replace"),
            "err": b"".join(r["err"]).decode(errors="replace")[-4000:],
            "wall_ns": r["wall_ns"],
            "cpu_s": r["utime"] + r["stime"],
            "utime": r["utime"], "stime": r["stime"],
            "maxrss_kb": r["maxrss_kb"],
            "timed_out": timed_out,
        })
    return results, t_end - t_start


def worker_main():
    def on_term(signum, frame):
        sys.exit(1)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    # Ctrl-C reaches the whole process group: keep serving, the coordinator tells us to quit. A Python
    # handler (not SIG_IGN) so that plugins we spawn get the default disposition back on exec.
    signal.signal(signal.SIGINT, lambda s, f: None)
    inp = sys.stdin.buffer
    out = sys.stdout.buffer
    while True:
        line = inp.readline()
        if not line:
            return 0
        req = json.loads(line)
        try:
            if req["op"] == "quit":
                return 0
            elif req["op"] == "batch":
                res, wall = _run_jobs(req["jobs"], req.get("timeout", EXEC_TIMEOUT))
                reply = {"ok": True, "results": res, "batch_wall_ns": wall}
            elif req["op"] == "ping":
                reply = {"ok": True, "netns": os.readlink("/proc/self/ns/net")}
            else:
                reply = {"ok": False, "error": "unknown op"}
        except Exception as e:  # report, keep serving
            reply = {"ok": False, "error": repr(e)}
        out.write(json.dumps(reply).encode() + b"\n")
        out.flush()


class Worker:
    def __init__(self, host_ns):
        self.host_ns = host_ns
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", host_ns, sys.executable, os.path.abspath(__file__), "worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        r = self._call({"op": "ping"})
        if not r.get("ok"):
            raise RuntimeError("worker failed to start: %r" % r)

    def _call(self, req):
        self.proc.stdin.write(json.dumps(req).encode() + b"\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("worker in %s died" % self.host_ns)
        return json.loads(line)

    def batch(self, jobs, timeout=EXEC_TIMEOUT):
        r = self._call({"op": "batch", "jobs": jobs, "timeout": timeout})
        if not r.get("ok"):
            raise RuntimeError("worker error: %s" % r.get("error"))
        return r["results"], r["batch_wall_ns"]

    def run(self, job):
        res, _ = self.batch([job])
        return res[0]

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b'{"op":"quit"}\n')
                self.proc.stdin.flush()
                self.proc.stdin.close()
            except (BrokenPipeError, OSError, ValueError):
                pass
            try:
                self.proc.wait(timeout=EXEC_TIMEOUT + 5)
            except subprocess.TimeoutExpired:
                self.proc.kill()            # by PID: our own child
                self.proc.wait(timeout=10)


# --------------------------------------------------------------------------------------------------
# Namespaces and netlink helpers (coordinator side, root namespace)
# --------------------------------------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)


def setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "setns: " + os.strerror(e))


def _nl_dump_links(sock):
    RTM_GETLINK, RTM_NEWLINK, NLMSG_ERROR, NLMSG_DONE = 18, 16, 2, 3
    req = struct.pack("=LHHLL", 32, RTM_GETLINK, 1 | 0x300, 1, 0) + struct.pack("=BBHiII", 0, 0, 0, 0, 0, 0)
    sock.send(req)
    links = []
    while True:
        data = sock.recv(1 << 16)
        off = 0
        while off + 16 <= len(data):
            ln, typ, _, _, _ = struct.unpack_from("=LHHLL", data, off)
            if typ == NLMSG_DONE:
                return links
            if typ == NLMSG_ERROR:
                raise OSError("netlink dump error")
            if typ == RTM_NEWLINK:
                name, mac, kind = None, None, None
                a = off + 32
                while a + 4 <= off + ln:
                    alen, atype = struct.unpack_from("=HH", data, a)
                    if alen < 4:
                        break
                    payload = data[a + 4:a + alen]
                    atype &= 0x3fff
                    if atype == 3:                       # IFLA_IFNAME
                        name = payload.split(b"\0")[0].decode()
                    elif atype == 1:                     # IFLA_ADDRESS
                        mac = ":".join("%02x" % b for b in payload)
                    elif atype == 18:                    # IFLA_LINKINFO
                        b = 0
                        while b + 4 <= len(payload):
                            blen, btype = struct.unpack_from("=HH", payload, b)
                            if blen < 4:
                                break
                            if btype & 0x3fff == 1:      # IFLA_INFO_KIND
                                kind = payload[b + 4:b + blen].split(b"\0")[0].decode()
                            b += (blen + 3) & ~3
                    a += (alen + 3) & ~3
                links.append({"name": name, "mac": mac, "kind": kind})
            off += (ln + 3) & ~3


def links_in(ns_names):
    """{ns_name: [links except lo]} read with netlink from inside each namespace (setns, then back)."""
    own = os.open("/proc/self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    res = {}
    try:
        for ns in ns_names:
            fd = os.open("/run/netns/" + ns, os.O_RDONLY | os.O_CLOEXEC)
            try:
                setns(fd)
                s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
            finally:
                setns(own)
                os.close(fd)
            with s:
                res[ns] = [l for l in _nl_dump_links(s) if l["name"] != "lo"]
    finally:
        setns(own)
        os.close(own)
    return res


def ip_batch(lines):
    if not lines:
        return
    with tempfile.NamedTemporaryFile("w", prefix="mvb-ipbatch-", delete=False) as f:
        f.write("\n".join(lines) + "\n")
        path = f.name
    try:
        subprocess.run(["ip", "-force", "-batch", path], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    finally:
        os.unlink(path)


def list_netns():
    try:
        return sorted(os.listdir("/run/netns"))
    except FileNotFoundError:
        return []


class Env:
    """All namespaces of one run. Host namespace per plugin with master veth m0 (peer m1, both up)."""

    def __init__(self, labels, n_containers):
        self.tag = "%s-%d" % (PREFIX, os.getpid())
        self.labels = labels
        self.n = n_containers
        self.created = []
        self.tmp = tempfile.mkdtemp(prefix=self.tag + "-")

    def host(self, label):
        return "%s-%s-h" % (self.tag, label)

    def ctr(self, label, i):
        return "%s-%s-c%d" % (self.tag, label, i)

    def setup(self):
        lines = []
        for lab in self.labels:
            lines.append("netns add " + self.host(lab))
            lines += ["netns add " + self.ctr(lab, i) for i in range(self.n)]
        names = [l.split()[-1] for l in lines]
        self.created = names
        ip_batch(lines)
        missing = set(names) - set(list_netns())
        if missing:
            raise RuntimeError("could not create namespaces: %s" % sorted(missing)[:5])
        for lab in self.labels:
            h = self.host(lab)
            for cmd in (["link", "add", "m0", "type", "veth", "peer", "name", "m1"],
                        ["link", "set", "m0", "up"], ["link", "set", "m1", "up"],
                        ["link", "set", "lo", "up"]):
                subprocess.run(["ip", "-n", h] + cmd, check=True)

    def cleanup(self):
        mine = [n for n in list_netns() if n.startswith(self.tag + "-")]
        ip_batch(["netns del " + n for n in mine])
        shutil.rmtree(self.tmp, ignore_errors=True)
        left = [n for n in list_netns() if n.startswith(self.tag + "-")]
        if left:
            log("WARNING: namespaces left behind: %s" % left[:5])


# --------------------------------------------------------------------------------------------------
# Benchmark coordinator
# --------------------------------------------------------------------------------------------------

def pct(xs, p):
    if not xs:
        return None
    s = sorted(xs)
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 1)) - 1))   # nearest rank
    return s[k]


def p50(xs):
    return statistics.median(xs) if xs else None


def mean(xs):
    return statistics.fmean(xs) if xs else None


class Plugin:
    def __init__(self, label, name, path, env, worker):
        self.label, self.name, self.path, self.env, self.worker = label, name, path, env, worker
        self.samples = {}            # key -> list of result dicts (without stdout)
        self.failures = []           # (phase, message)
        self.seq = 0
        self.shown = path

    def fail(self, phase, msg):
        self.failures.append({"phase": phase, "msg": msg[:600]})
        log("  FAIL [%s %s] %s" % (self.name, phase, msg[:300]))

    def record(self, key, res):
        self.samples.setdefault(key, []).append(
            {k: res[k] for k in ("wall_ns", "cpu_s", "utime", "stime", "rc")})

    def job(self, cmd, conf, ctr_i, cid, ifname="eth0", extra_env=None):
        env = {
            "CNI_COMMAND": cmd,
            "CNI_CONTAINERID": cid,
            "CNI_NETNS": "/run/netns/" + self.env.ctr(self.label, ctr_i) if ctr_i is not None else "",
            "CNI_IFNAME": ifname,
            "CNI_PATH": IPAM_DIR,
            "CNI_ARGS": "IgnoreUnknown=1;K8S_POD_NAMESPACE=bench;K8S_POD_NAME=%s" % cid,
            "PATH": PATH_ENV,
        }
        if extra_env:
            env.update(extra_env)
        return {"plugin": self.path, "env": env, "stdin": json.dumps(conf)}

    def new_cid(self, phase):
        self.seq += 1
        return "%s%s%s%d" % (self.env.tag.replace("-", ""), self.label, phase, self.seq)


TIME_BIN = "/usr/bin/time"


def rss_job(job, path):
    """Wraps a job in GNU time, which forks the plugin from its own small process and reports the plugin's
    ru_maxrss. Needed because a plugin posix_spawn()ed straight from the Python worker inherits the worker's
    ~20 MiB high-water mark at exec (the kernel carries the pre-exec mm's hiwater_rss into ru_maxrss)."""
    j = dict(job)
    j["args"] = ["-f", "%M", "-o", path, "--", job["plugin"]]
    j["plugin"] = TIME_BIN
    j["rss_file"] = path
    return j


def l2_conf():
    return {"cniVersion": CNI_VERSION, "name": "mvbench", "type": "macvlan", "master": "m0", "mode": "bridge"}


def hl_conf(data_dir, subnet):
    c = l2_conf()
    c["ipam"] = {"type": "host-local", "ranges": [[{"subnet": subnet}]],
                 "routes": [{"dst": "0.0.0.0/0"}], "dataDir": data_dir}
    return c


def validate_add(p, phase, res, ifname, ctr_i, want_ip, subnet_prefix=None):
    """Checks an ADD result; returns the parsed result or None (failure recorded)."""
    if res["timed_out"]:
        p.fail(phase, "ADD timed out")
        return None
    if res["rc"] != 0:
        p.fail(phase, "ADD rc=%d out=%s err=%s" % (res["rc"], res["out"].strip(), res["err"].strip()))
        return None
    try:
        r = json.loads(res["out"])
    except ValueError:
        p.fail(phase, "ADD result is not JSON: %r" % res["out"][:200])
        return None
    try:
        ifs = r["interfaces"]
        sandbox = "/run/netns/" + p.env.ctr(p.label, ctr_i)
        idx = [i for i, it in enumerate(ifs) if it.get("name") == ifname and it.get("sandbox") == sandbox]
        if not idx:
            raise ValueError("no interface %s with sandbox %s in %s" % (ifname, sandbox, ifs))
        if not re.fullmatch(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}", ifs[idx[0]].get("mac", "").lower()):
            raise ValueError("bad mac in result: %r" % ifs[idx[0]].get("mac"))
        ips = r.get("ips") or []
        if want_ip:
            if not ips:
                raise ValueError("no ips in result")
            for ipc in ips:
                if ipc.get("interface") != idx[0]:
                    raise ValueError("ips[].interface %r != %d" % (ipc.get("interface"), idx[0]))
                if subnet_prefix and not ipc["address"].startswith(subnet_prefix):
                    raise ValueError("address %s outside range" % ipc["address"])
        elif ips:
            raise ValueError("L2-only ADD returned ips %s" % ips)
        if r.get("cniVersion") != CNI_VERSION:
            raise ValueError("cniVersion %r" % r.get("cniVersion"))
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        p.fail(phase, "ADD result invalid: %s" % e)
        return None
    return r


def check_ok(p, phase, what, res):
    if res["timed_out"]:
        p.fail(phase, "%s timed out" % what)
        return False
    if res["rc"] != 0:
        p.fail(phase, "%s rc=%d out=%s err=%s" % (what, res["rc"], res["out"].strip(), res["err"].strip()))
        return False
    return True


def verify_links(p, phase, ctr_idx, present, ifname="eth0", macs=None):
    """Checks the container namespaces: the interface exists (macvlan, MAC as in result) or is gone."""
    names = [p.env.ctr(p.label, i) for i in ctr_idx]
    got = links_in(names)
    bad = 0
    for i, ns in zip(ctr_idx, names):
        links = got[ns]
        if present:
            l = [x for x in links if x["name"] == ifname]
            if not l or l[0]["kind"] != "macvlan":
                p.fail(phase, "%s: no macvlan %s after ADD (links: %s)" % (ns, ifname, links))
                bad += 1
            elif macs and macs.get(i) and l[0]["mac"] != macs[i].lower():
                p.fail(phase, "%s: MAC %s != result %s" % (ns, l[0]["mac"], macs[i]))
                bad += 1
        elif links:
            p.fail(phase, "%s: links left after DEL: %s" % (ns, [x["name"] for x in links]))
            bad += 1
            for x in links:     # remove them so one failure does not cascade into the next iterations
                subprocess.run(["ip", "-n", ns, "link", "del", x["name"]], stderr=subprocess.DEVNULL)
    return bad


def verify_no_leases(p, phase, data_dir):
    d = os.path.join(data_dir, "mvbench")
    if not os.path.isdir(d):
        return
    left = [f for f in os.listdir(d) if f != "lock" and not f.startswith("last_reserved_ip")]
    if left:
        p.fail(phase, "host-local leases left after DEL: %s" % left[:5])


def order_for(i, plugins):
    """A B, B A, A B, ... interleaving."""
    return plugins if i % 2 == 0 else list(reversed(plugins))


def phase_startup(plugins, n):
    log("phase startup: VERSION x %d" % n)
    for i in range(n):
        for p in order_for(i, plugins):
            res = p.worker.run({"plugin": p.path, "env": {"CNI_COMMAND": "VERSION", "PATH": PATH_ENV},
                                "stdin": json.dumps({"cniVersion": CNI_VERSION})})
            if check_ok(p, "startup", "VERSION", res):
                try:
                    v = json.loads(res["out"])
                    if CNI_VERSION not in v.get("supportedVersions", []):
                        p.fail("startup", "VERSION lacks %s: %s" % (CNI_VERSION, res["out"]))
                except ValueError:
                    p.fail("startup", "VERSION output not JSON: %r" % res["out"][:200])
                p.record("version", res)


def phase_cycle(plugins, kind, n, warmup, tmp):
    """n interleaved ADD/CHECK/DEL cycles (after warmup), L2 ('l2') or host-local ('hl')."""
    log("phase %s: %d ADD/CHECK/DEL cycles (+%d warmup)" % (kind, n, warmup))
    confs = {}
    for p in plugins:
        if kind == "l2":
            confs[p.label] = l2_conf()
        else:
            d = os.path.join(tmp, "%s-hl" % p.label)
            confs[p.label] = (hl_conf(d, "10.%d.0.0/16" % (201 + len(confs))), d)
    pool = 4
    for i in range(warmup + n):
        ctr = i % pool
        order = order_for(i, plugins)
        state = {}
        for p in order:
            conf = confs[p.label] if kind == "l2" else confs[p.label][0]
            cid = p.new_cid(kind)
            res = p.worker.run(p.job("ADD", conf, ctr, cid))
            if i >= warmup:
                p.record(kind + ".add", res)
            prefix = "10.%s." % conf["ipam"]["ranges"][0][0]["subnet"].split(".")[1] if kind == "hl" else None
            r = validate_add(p, kind, res, "eth0", ctr, kind == "hl", prefix)
            state[p.label] = (conf, cid, r)
        for p in order:
            conf, cid, r = state[p.label]
            if r is not None:
                mac = {ctr: r["interfaces"][0]["mac"]}
                verify_links(p, kind, [ctr], True, macs=mac)
                cc = dict(conf, prevResult=r)
                res = p.worker.run(p.job("CHECK", cc, ctr, cid))
                if check_ok(p, kind, "CHECK", res) and i >= warmup:
                    p.record(kind + ".check", res)
        for p in order:
            conf, cid, r = state[p.label]
            dc = dict(conf, prevResult=r) if r is not None else conf
            res = p.worker.run(p.job("DEL", dc, ctr, cid))
            if check_ok(p, kind, "DEL", res) and i >= warmup:
                p.record(kind + ".del", res)
            verify_links(p, kind, [ctr], False)
    if kind == "hl":
        for p in plugins:
            verify_no_leases(p, kind, confs[p.label][1])


def phase_rss(plugins, n, tmp):
    """Peak RSS of one ADD, measured through GNU time (not timed), L2-only and host-local."""
    log("phase rss: %d L2 + %d host-local ADDs per plugin through %s (RSS only)" % (n, n, TIME_BIN))
    for kind in ("l2", "hl"):
        confs = {}
        for k, p in enumerate(plugins):
            confs[p.label] = l2_conf() if kind == "l2" else \
                hl_conf(os.path.join(tmp, "%s-rss" % p.label), "10.%d.0.0/16" % (211 + k))
        for i in range(n):
            for p in order_for(i, plugins):
                conf = confs[p.label]
                cid = p.new_cid("rss")
                out = os.path.join(tmp, "rss-%s-%d" % (p.label, i))
                res = p.worker.run(rss_job(p.job("ADD", conf, 0, cid), out))
                r = validate_add(p, "rss", res, "eth0", 0, kind == "hl")
                if r is not None:
                    if res["plugin_maxrss_kb"] is None:
                        p.fail("rss", "no maxrss from %s" % TIME_BIN)
                    else:
                        p.samples.setdefault("rss." + kind, []).append(res["plugin_maxrss_kb"])
                dres = p.worker.run(p.job("DEL", dict(conf, prevResult=r) if r else conf, 0, cid))
                check_ok(p, "rss", "DEL", dres)
                verify_links(p, "rss", [0], False)


def phase_conc(plugins, n, rounds, tmp):
    log("phase concurrency: %d ADDs at once then %d DELs, %d round(s) per plugin" % (n, n, rounds))
    for rnd in range(rounds):
        for p in order_for(rnd, plugins):
            d = os.path.join(tmp, "%s-conc%d" % (p.label, rnd))
            conf = hl_conf(d, "10.250.%d.0/24" % (rnd % 200))
            cids = [p.new_cid("conc") for _ in range(n)]
            jobs = [p.job("ADD", conf, i, cids[i]) for i in range(n)]
            res, wall = p.worker.batch(jobs, timeout=EXEC_TIMEOUT * 2)
            results, addrs, fails = {}, [], 0
            for i, r in enumerate(res):
                pr = validate_add(p, "conc", r, "eth0", i, True, "10.250.")
                if pr is None:
                    fails += 1
                else:
                    results[i] = pr
                    addrs += [ip["address"].split("/")[0] for ip in pr.get("ips", [])]
            dups = len(addrs) - len(set(addrs))
            if dups:
                p.fail("conc", "%d duplicate addresses: %s" % (dups, sorted(addrs)))
            fails += verify_links(p, "conc", sorted(results), True,
                                  macs={i: r["interfaces"][0]["mac"] for i, r in results.items()})
            djobs = [p.job("DEL", dict(conf, prevResult=results[i]) if i in results else conf, i, cids[i])
                     for i in range(n)]
            dres, dwall = p.worker.batch(djobs, timeout=EXEC_TIMEOUT * 2)
            dfails = sum(0 if check_ok(p, "conc", "DEL", r) else 1 for r in dres)
            dfails += verify_links(p, "conc", list(range(n)), False)
            verify_no_leases(p, "conc", d)
            p.samples.setdefault("conc", []).append(
                {"add_wall_ns": wall, "del_wall_ns": dwall, "add_failures": fails, "del_failures": dfails,
                 "duplicates": dups, "n": n,
                 "add_cpu_s": sum(r["cpu_s"] for r in res), "del_cpu_s": sum(r["cpu_s"] for r in dres)})


def phase_scale(plugins, n, window, warmup):
    log("phase scale: %d attachments per plugin on one master (interleaved), then DEL all" % n)
    conf = l2_conf()
    state = {p.label: {} for p in plugins}
    for i in range(warmup):         # not recorded: warm caches after the previous phase
        for p in order_for(i, plugins):
            cid = p.new_cid("scalewarm")
            r = validate_add(p, "scale", p.worker.run(p.job("ADD", conf, 0, cid)), "eth0", 0, False)
            check_ok(p, "scale", "DEL", p.worker.run(p.job("DEL", dict(conf, prevResult=r) if r else conf, 0, cid)))
    t_last = time.monotonic()
    for i in range(n):
        for p in order_for(i, plugins):
            cid = p.new_cid("scale")
            res = p.worker.run(p.job("ADD", conf, i, cid))
            p.record("scale.add", res)
            r = validate_add(p, "scale", res, "eth0", i, False)
            state[p.label][i] = (cid, r)
        if time.monotonic() - t_last > 10:
            log("  scale: %d/%d" % (i + 1, n))
            t_last = time.monotonic()
    for p in plugins:
        macs = {i: r["interfaces"][0]["mac"] for i, (c, r) in state[p.label].items() if r}
        verify_links(p, "scale", sorted(macs), True, macs=macs)
    for i in range(n):
        for p in order_for(i, plugins):
            cid, r = state[p.label][i]
            res = p.worker.run(p.job("DEL", dict(conf, prevResult=r) if r else conf, i, cid))
            if check_ok(p, "scale", "DEL", res):
                p.record("scale.del", res)
    for p in plugins:
        verify_links(p, "scale", list(range(n)), False)


# ------------------------------------------------------------------ sizes

def binary_sizes(path):
    real = os.path.realpath(path)
    size = os.path.getsize(real)
    libs = {}
    try:
        out = subprocess.run(["ldd", real], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    for line in out.splitlines():
        m = re.search(r"=>\s*(/\S+)", line) or re.match(r"\s*(/\S+)\s+\(", line)
        if m:
            lp = os.path.realpath(m.group(1))
            if os.path.exists(lp):
                libs[lp] = os.path.getsize(lp)
    return {"binary": size, "libs": libs, "libs_total": sum(libs.values()), "total": size + sum(libs.values())}


# ------------------------------------------------------------------ report

def machine_info():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        ref = subprocess.run(["dpkg-query", "-W", "containernetworking-plugins"], capture_output=True,
                             text=True).stdout.strip().replace("\t", " ")
    except OSError:
        ref = "?"
    return {"nproc": os.cpu_count(), "kernel": platform.release(), "cpu": cpu, "reference_pkg": ref,
            "python": platform.python_version()}


def ms(ns):
    return None if ns is None else ns / 1e6


def fmt(v, unit=""):
    if v is None:
        return "—"
    if isinstance(v, float):
        if abs(v) >= 100:
            s = "%.0f" % v
        elif abs(v) >= 10:
            s = "%.1f" % v
        else:
            s = "%.2f" % v
    else:
        s = str(v)
    return s + unit


def build_report(A, B, args, info, sizes, started, elapsed, smoke):
    """Returns (markdown, rows, targets_missed)."""
    rows = []     # (metric, a, b, ratio, target, status)

    def wall(p, key, q):
        xs = [s["wall_ns"] for s in p.samples.get(key, [])]
        return ms(pct(xs, q) if q != 0.5 else p50(xs))

    def cpu(p, key):
        xs = [s["cpu_s"] * 1e3 for s in p.samples.get(key, [])]
        return mean(xs)

    def rss(p, key):
        xs = [kb / 1024 for kb in p.samples.get(key, [])]
        return max(xs) if xs else None

    missed = []

    def row(metric, a, b, target=None, better_low=True, ratio=None):
        if ratio is None and a is not None and b:
            ratio = a / b
        status = ""
        if target is not None and smoke:
            status = "(smoke)"
        elif target is not None:
            if ratio is None:
                status = "n/a"
            else:
                ok = ratio <= target if better_low else ratio >= target
                status = "OK" if ok else "MISS"
                if not ok:
                    missed.append(metric)
        rows.append((metric, a, b, ratio, target, status))

    n = lambda p, k: len(p.samples.get(k, []))
    if A.samples.get("version"):
        row("startup: VERSION wall p50 (ms)", wall(A, "version", .5), wall(B, "version", .5))
        row("startup: VERSION CPU mean (ms)", cpu(A, "version"), cpu(B, "version"))
    for kind, title, add_t in (("l2", "L2-only", 0.35), ("hl", "host-local", 0.75)):
        if not A.samples.get(kind + ".add"):
            continue
        l2 = kind == "l2"
        row("%s ADD wall p50 (ms)" % title, wall(A, kind + ".add", .5), wall(B, kind + ".add", .5), add_t)
        row("%s ADD wall p90 (ms)" % title, wall(A, kind + ".add", .9), wall(B, kind + ".add", .9))
        row("%s ADD CPU mean (ms)" % title, cpu(A, kind + ".add"), cpu(B, kind + ".add"), 0.3 if l2 else None)
        row("%s CHECK wall p50 (ms)" % title, wall(A, kind + ".check", .5), wall(B, kind + ".check", .5),
            0.5 if l2 else None)
        row("%s CHECK wall p90 (ms)" % title, wall(A, kind + ".check", .9), wall(B, kind + ".check", .9))
        row("%s CHECK CPU mean (ms)" % title, cpu(A, kind + ".check"), cpu(B, kind + ".check"))
        row("%s DEL wall p50 (ms)" % title, wall(A, kind + ".del", .5), wall(B, kind + ".del", .5), 1.0)
        row("%s DEL wall p90 (ms)" % title, wall(A, kind + ".del", .9), wall(B, kind + ".del", .9))
        row("%s DEL CPU mean (ms)" % title, cpu(A, kind + ".del"), cpu(B, kind + ".del"), 0.3 if l2 else None)
        if A.samples.get("rss." + kind):
            row("%s peak RSS of one ADD (MiB, max of %d)%s" % (title, len(A.samples["rss." + kind]),
                                                            "" if l2 else ": max(plugin, host-local child)"),
                rss(A, "rss." + kind), rss(B, "rss." + kind), 0.5 if l2 else None)
    if A.samples.get("conc"):
        def cw(p, k):
            xs = [c[k] / 1e6 for c in p.samples["conc"]]
            return p50(xs)
        nconc = A.samples["conc"][0]["n"]
        row("concurrency: %d ADDs at once, batch wall (ms)" % nconc, cw(A, "add_wall_ns"), cw(B, "add_wall_ns"), 0.6)
        row("concurrency: %d DELs at once, batch wall (ms)" % nconc, cw(A, "del_wall_ns"), cw(B, "del_wall_ns"), 1.0)
        row("concurrency: CPU of the %d ADDs (ms)" % nconc,
            p50([c["add_cpu_s"] * 1e3 for c in A.samples["conc"]]),
            p50([c["add_cpu_s"] * 1e3 for c in B.samples["conc"]]))
        fa = sum(c["add_failures"] + c["del_failures"] for c in A.samples["conc"])
        fb = sum(c["add_failures"] + c["del_failures"] for c in B.samples["conc"])
        row("concurrency: failed ADD/DEL (count)", fa, fb, ratio="—")
        rows[-1] = rows[-1][:4] + ("0", "OK" if fa == 0 and fb == 0 else "MISS")
        if fa or fb:
            missed.append("concurrency failures")
        da = sum(c["duplicates"] for c in A.samples["conc"])
        db = sum(c["duplicates"] for c in B.samples["conc"])
        rows.append(("concurrency: duplicate addresses", da, db, "—", "0", "OK" if da == 0 and db == 0 else "MISS"))
        if da or db:
            missed.append("duplicate addresses")
    if A.samples.get("scale.add"):
        w = args.scale_window
        def sc(p):
            xs = [s["wall_ns"] for s in p.samples["scale.add"]]
            first, last = ms(p50(xs[:w])), ms(p50(xs[-w:]))
            return first, last, (last / first if first else None)
        fa_, la_, ga = sc(A)
        fb_, lb_, gb = sc(B)
        ns_ = len(A.samples["scale.add"])
        row("scale (%d on one master): ADD p50 first %d (ms)" % (ns_, w), fa_, fb_)
        row("scale (%d on one master): ADD p50 last %d (ms)" % (ns_, w), la_, lb_)
        st = "OK" if ga is not None and gb is not None and ga <= gb * 1.10 else "MISS"
        if st == "MISS":
            missed.append("scale growth")
        rows.append(("scale: growth last/first (×)", ga, gb, (ga / gb) if ga and gb else None,
                     "≤ ref (+10%)", st))
        def scpu(p):
            xs = [s["cpu_s"] * 1e3 for s in p.samples["scale.add"]]
            return p50(xs[:w]), p50(xs[-w:])
        (ca1, ca2), (cb1, cb2) = scpu(A), scpu(B)
        row("scale: ADD CPU p50 first %d (ms)" % w, ca1, cb1)
        row("scale: ADD CPU p50 last %d (ms)" % w, ca2, cb2)
        ga2 = ca2 / ca1 if ca1 else None
        gb2 = cb2 / cb1 if cb1 else None
        rows.append(("scale: CPU growth last/first (×)", ga2, gb2, (ga2 / gb2) if ga2 and gb2 else None, "", ""))
        row("scale: DEL wall p50 (ms)", wall(A, "scale.del", .5), wall(B, "scale.del", .5))
    sa, sb = sizes[A.label], sizes[B.label]
    row("binary size (MiB)", sa["binary"] / 2**20, sb["binary"] / 2**20)
    row("binary + shared libs from ldd (MiB)", sa["total"] / 2**20, sb["total"] / 2**20)
    fa, fb = len(A.failures), len(B.failures)
    rows.append(("correctness failures (all phases)", fa, fb, "—", "0", "OK" if fa == 0 and fb == 0 else "MISS"))

    lines = []
    lines.append("### Benchmark: %s vs %s%s" % (A.name, B.name, " (SMOKE: few iterations, numbers are not meaningful)" if smoke else ""))
    lines.append("")
    lines.append("- Date: %s (took %.0f s)" % (started, elapsed))
    lines.append("- Machine: %d CPUs, kernel %s, %s" % (info["nproc"], info["kernel"], info["cpu"]))
    lines.append("- Load average (1 min) at start / end: %.2f / %.2f%s" % (
        info["load_start"], info["load_end"],
        " — the machine was busy, expect noise" if max(info["load_start"], info["load_end"]) > 0.5 * info["nproc"]
        else ""))
    lines.append("- Reference: `%s` (%s)" % (B.shown, info["reference_pkg"]))
    lines.append("- Ours: `%s`" % A.shown)
    lines.append("- Command: `%s`" % args.command_line)
    lines.append("- Iterations: %d per variant (+%d warmup), interleaved A B B A; cniVersion %s; IPAM host-local "
                 "(IPv4 /16, default route); ms = wall from spawn to reap; CPU = user+sys of the plugin and the "
                 "children it reaped (wait4 rusage, mean); peak RSS = ru_maxrss of the plugin via GNU time (wait4), "
                 "which is the max over the plugin process and the children it reaped (host-local), not a sum"
                 % (args.iterations, args.warmup, CNI_VERSION))
    lines.append("")
    lines.append("| Metric | ours | reference | ours/ref | target | |")
    lines.append("|---|---:|---:|---:|---:|---|")
    for metric, a, b, ratio, target, status in rows:
        r = ratio if isinstance(ratio, str) else fmt(ratio)
        t = target if isinstance(target, str) else ("≤ %s" % target if target is not None else "")
        lines.append("| %s | %s | %s | %s | %s | %s |" % (metric, fmt(a), fmt(b), r, t, status))
    lines.append("")
    if smoke:
        lines.append("Smoke run: timing targets not evaluated; correctness rows are.")
    elif missed:
        lines.append("Targets missed: %s" % ", ".join(missed))
    else:
        lines.append("All targets met.")
    for p in (A, B):
        if p.failures:
            lines.append("")
            lines.append("Failures of %s (%d, first 10):" % (p.name, len(p.failures)))
            for f in p.failures[:10]:
                lines.append("- [%s] %s" % (f["phase"], f["msg"].replace("\n", " ")))
    return "\n".join(lines) + "\n", rows, missed


def snapshot(path, tmp, label):
    """Copies the binary into the run's temp dir, so a rebuild during the run cannot change or block it
    (ETXTBSY). Falls back to the original if the copy cannot find its shared libraries ($ORIGIN)."""
    dst_dir = os.path.join(tmp, "bin-" + label)
    os.makedirs(dst_dir)
    dst = os.path.join(dst_dir, os.path.basename(path))
    shutil.copy2(path, dst)
    try:
        out = subprocess.run(["ldd", dst], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    return path if "not found" in out else dst


def settle(args):
    """Lets the kernel finish deferred work of the previous phase (link/netns teardown) before timing."""
    if not args.smoke:
        time.sleep(1.0)


def run_main(args):
    if os.geteuid() != 0:
        log("must run as root (creates network namespaces)")
        return 2
    for path in (args.ours, args.reference):
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            log("not an executable file: %s" % path)
            return 2
    if not os.access(TIME_BIN, os.X_OK):
        log("%s missing (apt-get install time): needed to measure the plugin's own peak RSS" % TIME_BIN)
        return 2
    if not os.access(os.path.join(IPAM_DIR, "host-local"), os.X_OK):
        log("%s/host-local missing (apt-get install containernetworking-plugins)" % IPAM_DIR)
        return 2
    # Defaults per mode; an option given on the command line wins (warmup may be 0 on purpose).
    defaults = SMOKE_DEFAULTS if args.smoke else FULL_DEFAULTS
    for key, value in defaults.items():
        if getattr(args, key) is None or (key != "warmup" and not getattr(args, key)):
            setattr(args, key, value)
    args.scale_window = min(args.scale_window, args.scale)
    phases = set(args.phases.split(","))
    args.command_line = " ".join(["bench/run"] + sys.argv[2:])
    started = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    t0 = time.monotonic()
    info = machine_info()
    info["load_start"] = os.getloadavg()[0]
    sizes = {"a": binary_sizes(args.ours), "b": binary_sizes(args.reference)}

    n_ctr = max(4, args.conc if "conc" in phases else 0, args.scale if "scale" in phases else 0)
    env = Env(["a", "b"], n_ctr)
    workers = []
    interrupted = []

    def on_signal(signum, frame):
        interrupted.append(signum)
        raise KeyboardInterrupt("signal %d" % signum)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    A = B = None
    try:
        log("setup: %d container namespaces per plugin (%s-*)" % (n_ctr, env.tag))
        env.setup()
        wa, wb = Worker(env.host("a")), Worker(env.host("b"))
        workers = [wa, wb]
        same = os.path.realpath(args.ours) == os.path.realpath(args.reference)
        A = Plugin("a", "reference(A)" if same else "ours", snapshot(os.path.abspath(args.ours), env.tmp, "a"),
                   env, wa)
        B = Plugin("b", "reference(B)" if same else "reference",
                   snapshot(os.path.abspath(args.reference), env.tmp, "b"), env, wb)
        A.shown, B.shown = args.ours, args.reference
        plugins = [A, B]
        if "startup" in phases:
            phase_startup(plugins, args.startup)
        if "l2" in phases:
            settle(args)
            phase_cycle(plugins, "l2", args.iterations, args.warmup, env.tmp)
        if "rss" in phases:
            phase_rss(plugins, args.rss, env.tmp)
        if "hl" in phases:
            settle(args)
            phase_cycle(plugins, "hl", args.iterations, args.warmup, env.tmp)
        if "conc" in phases:
            settle(args)
            phase_conc(plugins, args.conc, args.rounds, env.tmp)
        if "scale" in phases:
            settle(args)
            phase_scale(plugins, args.scale, args.scale_window, args.warmup)
    except KeyboardInterrupt:
        log("interrupted, cleaning up")
        return 130
    except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
        log("benchmark aborted: %s" % e)
        return 2
    finally:
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)      # do not interrupt the cleanup itself
        for w in workers:
            w.close()
        env.cleanup()
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_DFL)
    elapsed = time.monotonic() - t0
    info["load_end"] = os.getloadavg()[0]
    md, rows, missed = build_report(A, B, args, info, sizes, started, elapsed, args.smoke)
    print(md)
    outdir = args.out or os.path.join(HERE, "results")
    os.makedirs(outdir, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = os.path.join(outdir, "bench-%s%s" % (stamp, "-smoke" if args.smoke else ""))
    raw = {"date": started, "elapsed_s": elapsed, "machine": info, "command": args.command_line,
           "smoke": args.smoke, "params": {k: getattr(args, k) for k in
                                            ("iterations", "warmup", "scale", "scale_window", "conc", "rounds",
                                             "startup", "phases")},
           "plugins": {p.name: {"path": p.shown, "size": sizes[p.label], "samples": p.samples,
                                "failures": p.failures} for p in (A, B)},
           "table": [{"metric": r[0], "ours": r[1], "reference": r[2],
                      "ratio": r[3] if not isinstance(r[3], str) else None,
                      "target": r[4], "status": r[5]} for r in rows],
           "targets_missed": missed}
    with open(base + ".json", "w") as f:
        json.dump(raw, f, indent=1)
    with open(base + ".md", "w") as f:
        f.write(md)
    log("raw numbers: %s.json, table: %s.md" % (base, base))
    if A.failures or B.failures:
        log("FAILED: %d correctness failure(s) (ours %d, reference %d)"
            % (len(A.failures) + len(B.failures), len(A.failures), len(B.failures)))
        return 1
    if args.strict and missed and not args.smoke:
        return 3
    return 0


# --------------------------------------------------------------------------------------------------
# profile: where the time goes for one L2 ADD of OUR binary
# --------------------------------------------------------------------------------------------------

def _sh(cmd, stdin_data=None, env=None, timeout=300):
    return subprocess.run(cmd, input=stdin_data, env=env, capture_output=True, text=True, timeout=timeout)


def profile_main(args):
    if os.geteuid() != 0:
        log("must run as root")
        return 2
    targets = [("ours", os.path.abspath(args.ours))] + \
        ([("reference", os.path.abspath(args.reference))] if args.reference else [])
    for _, path in targets:
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            log("not an executable file: %s" % path)
            return 2
    env = Env(["p"], 1)
    ctr = env.ctr("p", 0)
    host = env.host("p")
    conf = l2_conf()
    if args.ipam:
        conf = hl_conf(os.path.join(env.tmp, "hl"), "10.249.0.0/16")
    stdin_data = json.dumps(conf)
    counter = [0]

    def cni_env(cmd):
        counter[0] += 1
        return {"CNI_COMMAND": cmd, "CNI_CONTAINERID": "%sprof%d" % (env.tag.replace("-", ""), counter[0]),
                "CNI_NETNS": "/run/netns/" + ctr, "CNI_IFNAME": "eth0", "CNI_PATH": IPAM_DIR,
                "CNI_ARGS": "IgnoreUnknown=1", "PATH": PATH_ENV}

    def in_host(cmd):
        return ["ip", "netns", "exec", host] + cmd

    def add_del(wrapper, plugin, extra_env=None):
        """Runs one ADD under wrapper, then a plain DEL. Returns the wrapper's CompletedProcess."""
        e = cni_env("ADD")
        if extra_env:
            e.update(extra_env)
        res = _sh(in_host(wrapper + [plugin]), stdin_data, e)
        d = dict(e, CNI_COMMAND="DEL")
        for k in (extra_env or {}):
            d.pop(k, None)
        dr = _sh(in_host([plugin]), stdin_data, d)
        if dr.returncode != 0:
            log("DEL failed: %s %s" % (dr.stdout, dr.stderr))
        return res

    def demangle(text):
        if shutil.which("swift-demangle") or shutil.which("swift"):
            cmd = ["swift-demangle", "--simplified"] if shutil.which("swift-demangle") else \
                ["swift", "demangle", "--simplified"]
            try:
                r = subprocess.run(cmd, input=text, capture_output=True, text=True, timeout=60)
                if r.returncode == 0 and r.stdout:
                    return r.stdout
            except (OSError, subprocess.TimeoutExpired):
                pass
        return text

    def section(title):
        print("\n" + "=" * 100 + "\n== " + title + "\n" + "=" * 100, flush=True)

    def on_signal(signum, frame):
        raise KeyboardInterrupt("signal %d" % signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        env.setup()
        print("profile: one %s ADD (cniVersion %s) per tool, run in host namespace %s"
              % ("host-local" if args.ipam else "L2-only", CNI_VERSION, host))
        for label, path in targets:
            sz = binary_sizes(path)
            section("%s: %s — size %.2f MiB, with ldd libraries %.2f MiB" %
                    (label, path, sz["binary"] / 2**20, sz["total"] / 2**20))
            for lib, s in sorted(sz["libs"].items(), key=lambda kv: -kv[1]):
                print("  %8.2f MiB  %s" % (s / 2**20, lib))
            # sanity: plain ADD works
            r = add_del([], path)
            if r.returncode != 0:
                print("plain ADD FAILED rc=%d\nstdout: %s\nstderr: %s" % (r.returncode, r.stdout, r.stderr))
                return 1

            # strace -c
            section("%s: strace -f -c (syscalls of one ADD incl. children; sorted by time)" % label)
            out = os.path.join(env.tmp, "strace-%s.txt" % label)
            r = add_del(["strace", "-f", "-c", "-S", "time", "-o", out], path)
            if r.returncode != 0:
                print("ADD under strace failed rc=%d: %s %s" % (r.returncode, r.stdout, r.stderr))
            if os.path.exists(out):
                txt = open(out).read().splitlines()
                print("\n".join(txt[:args.top + 4] + (["  ..."] + txt[-2:] if len(txt) > args.top + 6 else
                                                       txt[args.top + 4:])))
            out2 = os.path.join(env.tmp, "strace-tt-%s.txt" % label)
            add_del(["strace", "-f", "-r", "-o", out2], path)
            if os.path.exists(out2):
                lines = open(out2).read().splitlines()
                # largest gaps before a syscall (-r gives the time since the previous syscall)
                gaps = []
                for i, line in enumerate(lines):
                    m = re.match(r"\s*(\d+)\s+(\d+\.\d+)\s+(.*)", line)
                    if m:
                        gaps.append((float(m.group(2)), i, m.group(1), lines[i - 1] if i else "", m.group(3)))
                print("\n-- %d syscalls traced; 10 largest gaps between two consecutive syscalls (user-space "
                      "work, page faults, or waiting in the previous call):" % len(gaps))
                for g, i, pid, prev, cur in sorted(gaps, reverse=True)[:10]:
                    prev = re.sub(r"^\s*\d+\s+\d+\.\d+\s+", "", prev)
                    print("  %7.3f ms  pid %s  after:  %s" % (g * 1e3, pid, prev[:110]))
                    print("                      before: %s" % cur[:110])

            # perf stat
            section("%s: perf stat (one ADD; then 20 × VERSION = startup only)" % label)
            probe = _sh(["perf", "stat", "-x,", "-e", "instructions", "true"])
            hw = "not supported" not in probe.stderr and probe.returncode == 0
            events = "task-clock,context-switches,cpu-migrations,page-faults" + \
                (",instructions,cycles,branches,branch-misses" if hw else "")
            if not hw:
                print("(hardware counters not supported here: `perf stat -e instructions true` says "
                      "<not supported>; software events only)")
            r = add_del(["perf", "stat", "-e", events], path)
            print(r.stderr.strip())
            vr = _sh(in_host(["perf", "stat", "-r", "20", "-e", events, path]),
                     json.dumps({"cniVersion": CNI_VERSION}), {"CNI_COMMAND": "VERSION", "PATH": PATH_ENV})
            print(vr.stderr.strip())

            # dynamic loader
            section("%s: LD_DEBUG=statistics (dynamic loader cost of one ADD)" % label)
            r = add_del(["env", "LD_DEBUG=statistics"], path)
            st = [l for l in r.stderr.splitlines() if re.search(r"\d+:\s", l)]
            print("\n".join(st[:20]) if st else "(no loader statistics: static binary or not glibc-loaded)")

            # callgrind
            section("%s: valgrind --tool=callgrind (one ADD), top %d" % (label, args.top))
            if not shutil.which("valgrind"):
                print("valgrind not installed (apt-get install valgrind)")
                continue
            cg = os.path.join(env.tmp, "callgrind-%s.out" % label)
            # Valgrind 3.19 cannot read the DWARF 5 that Swift 6 emits ("Possibly corrupted debuginfo"):
            # profile a copy without debug info; function names still come from the symbol table.
            prof_bin = os.path.join(env.tmp, "nodebug-" + label, os.path.basename(path))
            os.makedirs(os.path.dirname(prof_bin), exist_ok=True)
            if _sh(["objcopy", "--strip-debug", path, prof_bin]).returncode != 0:
                shutil.copy(path, prof_bin)
            os.chmod(prof_bin, 0o755)
            r = add_del(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + cg, "--trace-children=no"],
                        prof_bin)
            if r.returncode != 0:
                tail = [l for l in r.stderr.splitlines() if l.strip()][-6:]
                print("ADD under callgrind failed (rc=%d)%s; last lines of valgrind's output:\n  %s"
                      % (r.returncode, " — valgrind does not support Go binaries" if label != "ours" else "",
                         "\n  ".join(tail)))
            if os.path.exists(cg) and r.returncode == 0:
                keep = os.path.join(args.outdir, "callgrind-%s-%s.out" % (label, time.strftime("%Y%m%d-%H%M%S")))
                os.makedirs(args.outdir, exist_ok=True)
                shutil.copy(cg, keep)
                for incl in ("no", "yes"):
                    a = _sh(["callgrind_annotate", "--auto=no", "--inclusive=" + incl, "--threshold=100", cg])
                    txt = demangle(a.stdout.replace(prof_bin, path)).splitlines()
                    hdr = [i for i, l in enumerate(txt) if re.match(r"^-+$", l)]
                    start = hdr[-1] + 1 if hdr else 0
                    summary = [l for l in txt if "PROGRAM TOTALS" in l]
                    print("\n-- %s (Ir = instructions executed)" % ("inclusive" if incl == "yes" else "exclusive (self)"))
                    if summary and incl == "no":
                        print(summary[0])
                    shown = [l for l in txt[start:] if l.strip()][:args.top]
                    print("\n".join(l[:220] for l in shown))
                print("\n(full profile kept in %s; open with callgrind_annotate or kcachegrind)" % keep)
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)
        env.cleanup()
    return 0


# --------------------------------------------------------------------------------------------------

def cleanup_main(_args):
    """Removes namespaces mvb-<pid>-* whose creating process no longer exists."""
    removed = []
    for ns in list_netns():
        m = re.match(r"%s-(\d+)-" % PREFIX, ns)
        if m and not os.path.exists("/proc/%s" % m.group(1)):
            removed.append(ns)
    ip_batch(["netns del " + n for n in removed])
    for d in os.listdir(tempfile.gettempdir()):
        m = re.match(r"%s-(\d+)-" % PREFIX, d)
        if m and not os.path.exists("/proc/%s" % m.group(1)):
            shutil.rmtree(os.path.join(tempfile.gettempdir(), d), ignore_errors=True)
    print("removed %d stale namespace(s)" % len(removed))
    return 0


def main():
    ap = argparse.ArgumentParser(prog="cnibench.py")
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="side-by-side benchmark")
    r.add_argument("ours")
    r.add_argument("reference", nargs="?", default=REF_DEFAULT)
    r.add_argument("--smoke", action="store_true", help="few iterations (CI, < 60 s), checks correctness only")
    r.add_argument("--iterations", type=int, default=0, help="ADD/CHECK/DEL cycles per variant (200)")
    r.add_argument("--warmup", type=int, default=None, help="discarded warmup cycles (5)")
    r.add_argument("--scale", type=int, default=0, help="attachments on one master (1000)")
    r.add_argument("--scale-window", type=int, default=0, help="first/last window for scale p50 (50)")
    r.add_argument("--conc", type=int, default=0, help="concurrent ADDs (32)")
    r.add_argument("--rounds", type=int, default=0, help="concurrency rounds per plugin (3)")
    r.add_argument("--startup", type=int, default=0, help="VERSION runs (100)")
    r.add_argument("--rss", type=int, default=0, help="ADDs per variant measured through GNU time for RSS (20)")
    r.add_argument("--phases", default="startup,l2,rss,hl,conc,scale")
    r.add_argument("--out", default=None, help="directory for raw JSON/Markdown (bench/results)")
    r.add_argument("--strict", action="store_true", help="exit 3 when a target is missed")
    p = sub.add_parser("profile", help="strace/perf/callgrind of one L2 ADD of OUR binary")
    p.add_argument("ours")
    p.add_argument("reference", nargs="?", default=None, help="optionally profile this one too (same tools)")
    p.add_argument("--ipam", action="store_true", help="profile an ADD with host-local instead of L2-only")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--outdir", default=os.path.join(HERE, "results"))
    sub.add_parser("worker")
    sub.add_parser("cleanup")
    args = ap.parse_args()
    if args.cmd == "worker":
        return worker_main()
    if args.cmd == "run":
        return run_main(args)
    if args.cmd == "profile":
        return profile_main(args)
    return cleanup_main(args)


if __name__ == "__main__":
    sys.exit(main())
