"""Case loading and execution.

A case is data (TOML, see test-harness/README.md). The runner builds fresh namespaces for it,
runs its steps (plugin verbs, shell set-up inside test namespaces, assertions on kernel state),
and removes everything afterwards.
"""
import concurrent.futures as cf
import copy
import glob
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import tomllib

from . import netns as N
from .shape import check_add_result, check_error
from .util import Fail, deep_merge, expand, jget, match, short, family

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # test-harness/
REPO = os.path.dirname(HERE)
CONF_DIR = os.path.join(REPO, "conf")
CASE_DIR = os.path.join(HERE, "cases")
FAKE_IPAM_DIR = os.path.join(HERE, "ipam")
VERBS = ("ADD", "DEL", "CHECK", "STATUS", "GC", "VERSION")
PAUSE_VARIABLE = "CNI_TEST_PAUSE_AT"   # honoured by the fault-injection build only (scripts/build --fault-injection)


def list_stages(binary):
    """The ADD stages of a fault-injection build, in the order ADD passes them (CNI_TEST_LIST_STAGES=1)."""
    p = subprocess.run([binary], env={"CNI_TEST_LIST_STAGES": "1"}, capture_output=True, timeout=10)
    stages = tuple(p.stdout.decode().split())
    if p.returncode != 0 or not stages:
        raise SystemExit(f"{binary} is not a fault-injection build: CNI_TEST_LIST_STAGES=1 answered "
                         f"{p.returncode} {p.stdout[:200]!r} (build one with scripts/build --fault-injection)")
    return stages


# --------------------------------------------------------------------------- loading

def load_cases(case_dir=CASE_DIR):
    cases = []
    for path in sorted(glob.glob(os.path.join(case_dir, "*.toml"))):
        group = os.path.splitext(os.path.basename(path))[0]
        with open(path, "rb") as f:
            try:
                data = tomllib.load(f)
            except tomllib.TOMLDecodeError as e:
                raise SystemExit(f"{path}: {e}")
        defaults = data.get("defaults", {})
        seen = set()
        for c in data.get("case", []):
            if "name" not in c:
                raise SystemExit(f"{path}: a case without name")
            if c["name"] in seen:
                raise SystemExit(f"{path}: duplicate case {c['name']}")
            seen.add(c["name"])
            case = {k: copy.deepcopy(v) for k, v in defaults.items() if k not in ("override", "topo")}
            case.update({k: v for k, v in c.items() if k not in ("override", "topo")})
            case["override"] = deep_merge(defaults.get("override", {}), c.get("override", {}), True)
            case["topo"] = deep_merge(defaults.get("topo", {}), c.get("topo", {}))
            case["group"] = group
            case["id"] = f"{group}/{c['name']}"
            case.setdefault("step", [])
            cases.append(case)
    return cases


def load_deviations(path=os.path.join(HERE, "deviations.toml")):
    out = {}
    with open(path, "rb") as f:
        data = tomllib.load(f)
    for d in data.get("deviation", []):
        for c in d["cases"]:
            if c in out:
                raise SystemExit(f"deviations.toml: {c} listed twice")
            out[c] = d["reason"]
    return out


def load_conf(name):
    path = os.path.join(CONF_DIR, name)
    with open(path) as f:
        return json.load(f)


# --------------------------------------------------------------------------- run context

class Run:
    """State shared by all cases of one harness run."""

    def __init__(self, opts):
        self.opts = opts
        self.plugin = os.path.abspath(opts.plugin)
        self.prefix = f"cnit{os.getpid() % 100000}{os.urandom(2).hex()}"
        self.tmp = tempfile.mkdtemp(prefix=self.prefix + "-")
        os.chmod(self.tmp, 0o755)
        # run a private copy of the plugin: a rebuild during the run cannot change it under us
        # (or fail exec with "Text file busy"); the name stays the same (macvlan)
        os.mkdir(os.path.join(self.tmp, "plugin"))
        self.plugin = os.path.join(self.tmp, "plugin", os.path.basename(self.plugin))
        shutil.copy2(os.path.abspath(opts.plugin), self.plugin)
        # cases that pause the plugin at an ADD stage run the fault-injection build of the same plugin
        self.fault_plugin, self.stages = None, ()
        if getattr(opts, "fault_build", None):
            os.mkdir(os.path.join(self.tmp, "fault-plugin"))
            self.fault_plugin = os.path.join(self.tmp, "fault-plugin", os.path.basename(self.plugin))
            shutil.copy2(os.path.abspath(opts.fault_build), self.fault_plugin)
            self.stages = list_stages(self.fault_plugin)
        self.cni_path = os.path.join(self.tmp, "cni-bin")
        os.mkdir(self.cni_path)
        for name in ("host-local", "static", "dhcp"):
            src = os.path.join(opts.ipam_dir, name)
            if os.path.exists(src):
                os.symlink(src, os.path.join(self.cni_path, name))
        for name in os.listdir(FAKE_IPAM_DIR):
            os.symlink(os.path.join(FAKE_IPAM_DIR, name), os.path.join(self.cni_path, name))
        # a regular file that is not executable, for the "IPAM not executable" case
        with open(os.path.join(self.cni_path, "not-executable"), "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(os.path.join(self.cni_path, "not-executable"), 0o644)
        self.lock = threading.Lock()
        self.procs = {}         # pid -> Popen (plugin processes, each leader of its own session)
        self.extra_pids = set()  # pids of processes our plugins started (fake IPAM) to reap at the end
        self.stopping = False
        self.counter = 0

    def next_prefix(self):
        with self.lock:
            self.counter += 1
            return f"{self.prefix}-{self.counter}"

    def register(self, p):
        with self.lock:
            self.procs[p.pid] = p

    def unregister(self, p):
        with self.lock:
            self.procs.pop(p.pid, None)

    def kill_all(self):
        with self.lock:
            procs = list(self.procs.values())
        for p in procs:
            if p.poll() is None:
                for sig in (signal.SIGKILL, signal.SIGCONT):
                    try:
                        os.killpg(p.pid, sig)   # the session/group we created for it
                    except OSError:
                        pass
        for pid in list(self.extra_pids):
            kill_if_ours(pid)

    def cleanup(self):
        self.kill_all()
        for ns in N.ns_list():
            if ns.startswith(self.prefix + "-"):
                N.ns_del(ns)
        shutil.rmtree(self.tmp, ignore_errors=True)


def kill_if_ours(pid):
    """Kill a fake IPAM process (started by a plugin we started) if it still runs."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read()
    except OSError:
        return
    if b"fake-ipam" in cmd or FAKE_IPAM_DIR.encode() in cmd or b"/cni-bin/" in cmd:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def proc_state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
        return data[data.rindex(")") + 2]
    except (OSError, ValueError):
        return None


# --------------------------------------------------------------------------- one case

class CaseRun:
    def __init__(self, run, case):
        self.run = run
        self.case = case
        self.prefix = run.next_prefix()
        self.topo = N.Topology(self.prefix, case.get("topo"))
        self.tmp = os.path.join(run.tmp, self.prefix)
        os.mkdir(self.tmp)
        self.datadir = os.path.join(self.tmp, "data")
        self.record = os.path.join(self.tmp, "record.jsonl")
        self.results = {}
        self.cid = "cnit-" + "".join(ch if ch.isalnum() else "-" for ch in case["name"])[:40]
        reqs = case.get("requires", [])
        self.plugin = run.fault_plugin if "pause-hook" in ([reqs] if isinstance(reqs, str) else reqs) else run.plugin
        self.log = []
        self.baseline = {}
        self.spawned = {}
        self.round = 0

    # ---- placeholders
    def lookup(self, name, step_ctx=None):
        t = self.topo
        if name in ("H", "F") or (name.startswith("C") and name[1:].isdigit()):
            return t.resolve(name)
        if name.endswith("_PATH") and name[:-5] in t.names():
            return "/var/run/netns/" + t.resolve(name[:-5])
        simple = {
            "MASTER": "cnip0", "PEER": "cnip0p", "DATADIR": self.datadir, "TMP": self.tmp,
            "RECORD": self.record, "CID": self.cid, "ROUND": str(self.round), "CNI_PATH": self.run.cni_path,
            "IPAM_DIR": self.run.opts.ipam_dir, "PLUGIN": self.run.plugin,
            "NETNS": "/var/run/netns/" + (step_ctx or {}).get("cns", t.containers[0] if t.containers else t.h),
        }
        if name in simple:
            return simple[name]
        if name.startswith("R:"):
            _, sid, *rest = name.split(":", 2)
            if sid not in self.results:
                raise Fail(f"placeholder {name}: no result for step id {sid!r}")
            try:
                return jget(self.results[sid], rest[0] if rest else "")
            except KeyError:
                raise Fail(f"placeholder {name}: path not in result {short(self.results[sid])}")
        if name.startswith("PID:"):
            p = self.spawned.get(name[4:])
            if p is None:
                raise Fail(f"placeholder {name}: no spawned process {name[4:]!r}")
            return str(p.pid)
        if name.startswith("IP:"):   # ${IP:id} = first address of a result without prefix
            sid = name[3:]
            res = self.results.get(sid)
            try:
                return jget(res, "ips/0/address").split("/")[0]
            except (KeyError, TypeError):
                raise Fail(f"placeholder {name}: no ips/0/address in {short(res)}")
        raise Fail(f"unknown placeholder ${{{name}}}")

    def x(self, obj, step_ctx=None):
        return expand(obj, lambda n: self.lookup(n, step_ctx))

    # ---- state snapshots (the kernel oracle)
    def snapshot(self):
        st = {"links": {}, "leases": N.leases(self.datadir)}
        nss = self.topo.all_ns()
        if len(nss) > 4:   # many containers (stress cases): query the namespaces concurrently
            with cf.ThreadPoolExecutor(max_workers=8) as ex:
                all_links = list(ex.map(N.links, nss))
        else:
            all_links = [N.links(ns) for ns in nss]
        for ns, ls in zip(nss, all_links):
            st["links"][ns] = None if ls is None else {
                k: (v.get("ifindex"), (v.get("linkinfo") or {}).get("info_kind"), v.get("address"))
                for k, v in ls.items()}
        return st

    # ---- main
    def execute(self):
        try:
            self.topo.create()
            for cmd in self.case.get("setup", []):
                self.shell(cmd, True)
            self.baseline = self.snapshot()
            rounds = int(self.case.get("rounds", 1))
            for self.round in range(rounds):
                where = f"round {self.round + 1}/{rounds}, " if rounds > 1 else ""
                for i, step in enumerate(self.case["step"]):
                    if self.run.stopping:
                        raise Fail("interrupted")
                    try:
                        self.do_step(step)
                    except Fail as e:
                        raise Fail(f"{where}step {i + 1} ({describe(step)}): {e}")
        finally:
            self.teardown()

    def teardown(self):
        # fake IPAM processes still running (a hanging IPAM whose plugin died) are ours to reap
        for e in self.records():
            pid = e.get("pid")
            if pid:
                kill_if_ours(pid)
        for p in self.spawned.values():
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
                p.wait(5)
            self.run.unregister(p)
        self.topo.destroy()

    def records(self):
        out = []
        if os.path.exists(self.record):
            with open(self.record) as f:
                for line in f:
                    line = line.strip()
                    if line:
                        try:
                            out.append(json.loads(line))
                        except ValueError:
                            pass
        return out

    def shell(self, cmd, check):
        """'@NS command' runs `sh -c command` inside test namespace NS (H, F, C0, ...)."""
        if not isinstance(cmd, str) or not cmd.startswith("@"):
            raise Fail(f"shell command must start with @NS: {cmd!r}")
        ns_short, _, rest = cmd[1:].partition(" ")
        ns = self.topo.resolve(ns_short)
        rest = self.x(rest)
        p = N.sh([N.IP, "netns", "exec", ns, "sh", "-c", rest], check=False, timeout=30)
        self.log.append(f"$ [{ns_short}] {rest} -> {p.returncode} {p.stdout.strip()} {p.stderr.strip()}")
        if check and p.returncode != 0:
            raise Fail(f"setup `{rest}` in {ns_short} failed: {p.stderr.strip()[:200]}")
        return p

    def do_step(self, step):
        if "verb" in step:
            return self.do_verb(step)
        if "sh" in step:
            cmds = step["sh"] if isinstance(step["sh"], list) else [step["sh"]]
            for c in cmds:
                self.shell(c, step.get("check", True))
            return
        if "assert" in step:
            return self.do_assert(step)
        if "ping" in step:
            return self.do_ping(step)
        if "spawn" in step:   # a process living in a namespace, for CNI_NETNS=/proc/PID/ns/net
            ns = self.topo.resolve(step["spawn"])
            p = subprocess.Popen([N.IP, "netns", "exec", ns, "sleep", "120"], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            self.run.register(p)
            self.spawned[step.get("id", step["spawn"])] = p
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and os.readlink(f"/proc/{p.pid}/ns/net") == os.readlink("/proc/self/ns/net"):
                time.sleep(0.01)
            return
        if "rmns" in step:
            N.ns_del(self.topo.resolve(step["rmns"]))
            return
        if "sleep" in step:
            time.sleep(min(float(step["sleep"]), 10))
            return
        raise Fail(f"unknown step {short(step)}")

    # ---- config and environment
    def build_config(self, step, cns):
        case = self.case
        ctx = {"cns": cns}
        if "conf" in case:
            conf = load_conf(case["conf"])
            if "plugins" in conf:   # a conflist: build the macvlan plugin's config like libcni
                idx = case.get("plugin_index")
                if idx is None:
                    idx = next(i for i, p in enumerate(conf["plugins"]) if p.get("type") == "macvlan")
                pl = copy.deepcopy(conf["plugins"][idx])
                pl["name"] = conf["name"]
                pl["cniVersion"] = conf.get("cniVersion", "0.1.0")
                conf = pl
        else:
            conf = copy.deepcopy(case.get("config", {}))
        conf = deep_merge(conf, case.get("override", {}))
        conf = deep_merge(conf, step.get("override", {}))
        conf = self.x(conf, ctx)
        ipam = conf.get("ipam")
        if isinstance(ipam, dict):
            # safety: host-local never writes to /var/lib/cni during tests
            if ipam.get("type") == "host-local" and "dataDir" not in ipam:
                ipam["dataDir"] = self.datadir
            # the fake IPAMs record into the case's file unless told otherwise
            if ipam.get("type") not in (None, "host-local", "static", "dhcp") and "recordFile" not in ipam:
                ipam["recordFile"] = self.record
        if "prev" in step:
            conf["prevResult"] = self.results[step["prev"]] if isinstance(step["prev"], str) else step["prev"]
        return conf

    def build_env(self, step, verb, cns, cid, ifname):
        env = {"PATH": N.SYS_PATH, "CNI_COMMAND": verb, "CNI_PATH": self.run.cni_path}
        if verb in ("ADD", "DEL", "CHECK"):
            env.update({"CNI_CONTAINERID": cid, "CNI_NETNS": "/var/run/netns/" + cns, "CNI_IFNAME": ifname})
        env.update({k: str(v) for k, v in self.x(step.get("env", {}), {"cns": cns}).items()})
        for k in step.get("unset", []):
            env.pop(k, None)
        return env

    # ---- plugin execution
    def invoke(self, env, stdin, step):
        """Run the plugin inside H. Returns dict(rc, out, err, stopped, signalled)."""
        run = self.run
        timeout = float(step.get("timeout", 30))
        fin = tempfile.TemporaryFile()
        fin.write(stdin.encode() if isinstance(stdin, str) else stdin)
        fin.seek(0)
        fout, ferr = tempfile.TemporaryFile(), tempfile.TemporaryFile()
        p = subprocess.Popen([N.IP, "netns", "exec", self.topo.h, self.plugin], env=env, stdin=fin,
                             stdout=fout, stderr=ferr, start_new_session=True)
        run.register(p)
        info = {"stopped": False}
        try:
            if step.get("pause_at"):
                self.pause_and_signal(p, step, info)
            elif step.get("kill_after"):
                try:
                    p.wait(float(step["kill_after"]))
                except subprocess.TimeoutExpired:
                    os.kill(p.pid, getattr(signal, "SIG" + step.get("signal", "TERM")))
                    info["signalled"] = True
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(5)
                raise Fail(f"plugin did not finish within {timeout}s (killed)")
        finally:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                    os.killpg(p.pid, signal.SIGCONT)
                except OSError:
                    pass
                p.wait(5)
            run.unregister(p)
        fout.seek(0)
        ferr.seek(0)
        info.update(rc=p.returncode, out=fout.read().decode(errors="replace"),
                    err=ferr.read().decode(errors="replace"))
        return info

    def pause_and_signal(self, p, step, info):
        stage = step["pause_at"]
        if stage not in self.run.stages:
            raise Fail(f"unknown pause stage {stage} (the fault build lists {', '.join(self.run.stages)})")
        deadline = time.monotonic() + float(step.get("pause_timeout", 10))
        while time.monotonic() < deadline:
            if p.poll() is not None:
                raise Fail(f"plugin exited ({p.returncode}) without stopping at stage {stage!r} "
                           f"({PAUSE_VARIABLE} not honoured)")
            if proc_state(p.pid) == "T":
                break
            time.sleep(0.005)
        else:
            raise Fail(f"plugin never stopped at stage {stage!r}")
        info["stopped"] = True
        self.after_pause = self.snapshot()
        for cmd in step.get("while_paused", []):
            self.shell(cmd, True)
        sig = getattr(signal, "SIG" + step.get("signal", "TERM"))
        os.kill(p.pid, sig)
        os.kill(p.pid, signal.SIGCONT)
        info["signalled"] = True

    def do_verb(self, step):
        verb = step["verb"]
        n = int(step.get("parallel", 1))
        if n > 1:
            return self.do_parallel(step, n)
        cns = self.topo.resolve(step.get("c", "C0")) if self.topo.containers else self.topo.h
        cid = self.x(step.get("containerid", self.cid))
        ifname = self.x(step.get("ifname", "eth0"))
        before = self.snapshot_if_needed(step, verb)
        res = self.one_verb(step, verb, cns, cid, ifname)
        self.results[step.get("id", f"_{len(self.results)}")] = res
        self.after_verb(step, verb, before, [(cns, cid, ifname)])

    def one_verb(self, step, verb, cns, cid, ifname):
        conf = self.build_config(step, cns)
        if "stdin" in step:
            stdin = self.x(step["stdin"], {"cns": cns})
            if not isinstance(stdin, str):
                stdin = json.dumps(stdin)
        elif "stdin_parts" in step:
            stdin = self.build_stdin_parts(step["stdin_parts"], cns)
        else:
            stdin = json.dumps(conf)
        if "pad_to" in step:   # pad with trailing spaces (still valid JSON) to exactly N bytes
            data = stdin.encode() if isinstance(stdin, str) else stdin
            n = int(step["pad_to"])
            if len(data) > n:
                raise Fail(f"pad_to={n}: stdin is already {len(data)} bytes")
            stdin = data + b" " * (n - len(data))
        env = self.build_env(step, verb, cns, cid, ifname)
        if step.get("pause_at"):
            env[PAUSE_VARIABLE] = step["pause_at"]
        r = self.invoke(env, stdin, step)
        self.log.append(f"{verb} {cid}/{ifname} rc={r['rc']} out={' '.join(r['out'].split())[:500]} err={' '.join(r['err'].split())[:300]}")
        return self.judge(step, verb, conf, r, cns, ifname, env.get("CNI_NETNS"))

    def build_stdin_parts(self, parts, cns):
        """stdin_parts: a list of "text" (placeholders expanded), ["unit", N] (unit repeated N
        times) and {hex = "ff fe"} (raw bytes), concatenated into the plugin's stdin."""
        out = []
        for part in parts:
            if isinstance(part, str):
                out.append(self.x(part, {"cns": cns}).encode())
            elif isinstance(part, list) and len(part) == 2 and isinstance(part[0], str):
                n = int(part[1])
                if n < 0 or n * len(part[0].encode()) > 64 << 20:
                    raise Fail(f"stdin_parts: repeat {n} too large")
                out.append(part[0].encode() * n)
            elif isinstance(part, dict) and "hex" in part:
                out.append(bytes.fromhex(part["hex"]))
            else:
                raise Fail(f"stdin_parts: bad part {short(part)}")
        return b"".join(out)

    def judge(self, step, verb, conf, r, cns, ifname, netns_env=None):
        out = r["out"].strip()
        parsed = None
        if out:
            try:
                parsed = json.loads(out)
            except ValueError:
                parsed = None
        if step.get("killed"):
            if r["rc"] is None or r["rc"] >= 0:
                raise Fail(f"expected the plugin to die from a signal, exit status {r['rc']}")
            return parsed
        want_code = step.get("code")
        if want_code is not None or step.get("fails"):
            if r["rc"] == 0:
                raise Fail(f"expected an error{' code ' + str(want_code) if want_code is not None else ''}, got success: {short(parsed) if parsed is not None else oneline(out, 200)}")
            if r["rc"] is not None and r["rc"] < 0:
                raise Fail(f"plugin died from signal {-r['rc']} instead of returning an error JSON")
            if parsed is None:
                raise Fail(f"exit {r['rc']} but stdout is not an error JSON: {oneline(out, 200)!r} stderr: {oneline(r['err'], 200)!r}")
            check_error(parsed)
            if want_code is not None and parsed["code"] != want_code:
                raise Fail(f"expected code {want_code}, got {parsed['code']}: {parsed.get('msg')!r}")
            low = (parsed.get("msg", "") + " " + str(parsed.get("details", ""))).lower()
            for s in step.get("msg", []):
                if self.x(s).lower() not in low:
                    raise Fail(f"error msg/details lack {s!r}: {parsed.get('msg')!r} {parsed.get('details', '')!r}")
            if "error" in step:
                m = match(self.x(step["error"]), parsed)
                if m:
                    raise Fail("error JSON: " + m)
            return parsed
        # success expected
        if r["rc"] != 0:
            raise Fail(f"expected success, exit {r['rc']}: {oneline(out, 300)} {oneline(r['err'], 200)}")
        for s in step.get("stderr", []):
            if self.x(s).lower() not in r["err"].lower():
                raise Fail(f"stderr lacks {s!r}: {oneline(r['err'], 300)!r}")
        if verb in ("ADD", "VERSION") and parsed is None:
            raise Fail(f"stdout is not JSON: {out[:200]!r}")
        if verb == "ADD" and step.get("shape", True):
            check_add_result(parsed, parsed.get("cniVersion") if ("stdin" in step or "stdin_parts" in step)
                             else conf.get("cniVersion", "0.1.0"))
            self.check_iface_oracle(parsed, cns, ifname, netns_env)
        if "result" in step:
            m = match(self.x(step["result"], {"cns": cns}), parsed)
            if m:
                raise Fail("result" + m + "  (result: " + short(parsed, 400) + ")")
        for path, vals in self.x(step.get("includes", {}), {"cns": cns}).items():
            try:
                have = jget(parsed, path)
            except KeyError:
                raise Fail(f"result/{path} missing: {short(parsed)}")
            for v in vals:
                if v not in have:
                    raise Fail(f"result/{path} lacks {v!r}: {short(have)}")
        for path, n in step.get("count", {}).items():
            try:
                v = jget(parsed, path)
            except KeyError:
                v = []
            if len(v) != n:
                raise Fail(f"result/{path}: expected {n} elements, got {len(v)}: {short(v)}")
        return parsed

    def check_iface_oracle(self, res, cns, ifname, netns_env=None):
        """The result's interface must match the kernel: name, sandbox (= CNI_NETNS), MAC."""
        if not isinstance(res, dict) or "interfaces" not in res:
            return
        sandbox = netns_env or "/var/run/netns/" + cns
        mine = [i for i in res["interfaces"] if i.get("sandbox") == sandbox and i.get("name") == ifname]
        if not mine:
            raise Fail(f"result has no interface {ifname!r} with sandbox {sandbox}: {short(res['interfaces'])}")
        l = N.link(cns, ifname)
        if l is None:
            raise Fail(f"result names {ifname} but the kernel has no such link in the container")
        if mine[0].get("mac", "").lower() != l.get("address", "").lower():
            raise Fail(f"result mac {mine[0].get('mac')} != kernel {l.get('address')}")

    def do_parallel(self, step, n):
        if n > len(self.topo.containers) and not step.get("same_netns"):
            raise Fail(f"parallel={n} needs {n} containers")
        before = self.snapshot_if_needed(step, step["verb"])
        if step.get("same_netns"):   # n interfaces eth0..eth{n-1} in one container
            jobs = [(self.topo.resolve(step.get("c", "C0")), self.x(step.get("containerid", self.cid)),
                     f"{self.x(step.get('ifname', 'eth'))}{i}") for i in range(n)]
        else:
            base = self.x(step.get("containerid", self.cid))
            jobs = [(self.topo.containers[i], base if step.get("same_containerid") else f"{base}-{i}",
                     self.x(step.get("ifname", "eth0"))) for i in range(n)]
        outs = [None] * n
        errs = [None] * n

        def work(i):
            try:
                outs[i] = self.one_verb(step, step["verb"], *jobs[i])
            except Fail as e:
                errs[i] = e
        threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(float(step.get("timeout", 60)) + 10)
        bad = [(i, e) for i, e in enumerate(errs) if e]
        if bad:
            raise Fail(f"{len(bad)}/{n} parallel {step['verb']}s failed; first (#{bad[0][0]}): {bad[0][1]}")
        self.results[step.get("id", f"_{len(self.results)}")] = outs
        self.after_verb(step, step["verb"], before, jobs)

    @staticmethod
    def clean_mode(step, verb):
        mode = step.get("clean", "auto")
        if mode == "auto":
            if verb == "DEL" and not step.get("code"):
                mode = "del"
            elif verb == "ADD" and (step.get("code") is not None or step.get("fails")):
                mode = "unchanged"
            else:
                mode = "none"
        return mode

    def snapshot_if_needed(self, step, verb):
        """The state before a verb, only when after_verb will compare against it."""
        return None if self.clean_mode(step, verb) in (False, "none") else self.snapshot()

    def after_verb(self, step, verb, before, jobs):
        mode = self.clean_mode(step, verb)
        if mode in (False, "none"):
            return
        after = self.snapshot()
        if mode in ("unchanged", True):
            self.assert_unchanged(before, after)
        elif mode == "del":
            self.assert_deleted(before, after, jobs)
        else:
            raise Fail(f"unknown clean mode {mode!r}")

    def assert_unchanged(self, before, after):
        for ns, ls in after["links"].items():
            b = before["links"].get(ns)
            if ls is None or b is None:
                continue
            short_ns = self.short_ns(ns)
            added = sorted(set(ls) - set(b))
            removed = sorted(set(b) - set(ls))
            if added:
                raise Fail(f"left behind in {short_ns}: links {added} ({[ls[a][1] for a in added]})")
            if removed:
                raise Fail(f"removed from {short_ns}: links {removed}")
            changed = [k for k in ls if ls[k] != b[k]]
            if changed:
                raise Fail(f"changed in {short_ns}: {[(k, b[k], ls[k]) for k in changed]}")
        new = sorted(set(after["leases"]) - set(before["leases"]))
        if new:
            raise Fail(f"host-local leases left behind: {new}")

    def assert_deleted(self, before, after, jobs):
        for ns, ls in after["links"].items():
            if ls is None:
                continue
            b = before["links"].get(ns) or {}
            added = sorted(set(ls) - set(b))
            if added:
                raise Fail(f"new links in {self.short_ns(ns)} after DEL: {added}")
            tmp = [k for k in ls if k.startswith("mvtmp")]
            if tmp:
                raise Fail(f"temporary links left in {self.short_ns(ns)}: {tmp}")
        for cns, cid, ifname in jobs:
            ls = after["links"].get(cns)
            if ls and ifname in ls and (ls[ifname][1] == "macvlan"):
                raise Fail(f"macvlan {ifname} still in {self.short_ns(cns)} after DEL")
            for path, content in after["leases"].items():
                if N.lease_owner(content) == (cid, ifname):
                    raise Fail(f"lease {path} of {cid}/{ifname} still held after DEL")

    def short_ns(self, ns):
        for k, v in self.topo.names().items():
            if v == ns:
                return k
        return ns

    # ---- assertions
    def do_assert(self, step):
        kind = step["assert"]
        ns = self.topo.resolve(step.get("ns", "C0")) if kind not in ("leases", "record", "distinct", "result") else None
        if kind == "link":
            dev = self.x(step.get("dev", "eth0"))
            l = N.link(ns, dev)
            if not step.get("exists", True):
                if l is not None:
                    raise Fail(f"link {dev} exists in {step.get('ns', 'C0')} ({(l.get('linkinfo') or {}).get('info_kind')})")
                return
            if l is None:
                raise Fail(f"no link {dev} in {step.get('ns', 'C0')}")
            exp = {}
            if "kind" in step:
                exp.setdefault("linkinfo", {})["info_kind"] = step["kind"]
            if "mode" in step:
                exp.setdefault("linkinfo", {}).setdefault("info_data", {})["mode"] = step["mode"]
            for k in ("mtu", "operstate"):
                if k in step:
                    exp[k] = step[k]
            if "mac" in step:
                exp["address"] = self.x(step["mac"]).lower()
                l["address"] = l.get("address", "").lower()
            if "up" in step:
                has = "UP" in l.get("flags", [])
                if has != step["up"]:
                    raise Fail(f"{dev}: UP flag {has}, expected {step['up']}")
            exp = deep_merge(exp, self.x(step.get("match", {})))
            m = match(exp, l)
            if m:
                raise Fail(f"link {dev}{m}")
            if "master" in step:
                mns = self.topo.resolve(step.get("master_ns", "H"))
                ml = N.link(mns, step["master"])
                if ml is None:
                    raise Fail(f"master {step['master']} not in {step.get('master_ns', 'H')}")
                if "link" in l and "link_netnsid" not in l:   # lower in the same namespace: ip prints its name
                    ok = l["link"] == step["master"] and mns == ns
                else:
                    ok = l.get("link_index") == ml["ifindex"]
                if not ok:
                    raise Fail(f"{dev} lower {l.get('link') or l.get('link_index')}, expected {step['master']} ({ml['ifindex']})")
            return
        if kind == "links":
            ls = N.links(ns)
            if ls is None:
                raise Fail(f"namespace {step.get('ns', 'C0')} is gone")
            want = sorted(self.x(step["names"]))
            if sorted(ls) != want:
                raise Fail(f"links in {step.get('ns', 'C0')}: {sorted(ls)}, expected {want}")
            return
        if kind == "addr":
            dev = self.x(step.get("dev", "eth0"))
            a = N.addrs(ns, dev)
            if a is None:
                raise Fail(f"no link {dev} in {step.get('ns', 'C0')}")
            have = {f"{x['local']}/{x['prefixlen']}": x for x in a}
            for want in self.x(step.get("has", [])):
                if want not in have:
                    raise Fail(f"{dev} lacks {want}; has {sorted(have)}")
                if step.get("no_tentative", True) and have[want].get("tentative"):
                    raise Fail(f"{dev}: {want} still tentative (DAD not finished)")
            for bad in self.x(step.get("lacks", [])):
                if bad in have:
                    raise Fail(f"{dev} has {bad}")
            if "global" in step:
                g = sorted(k for k, v in have.items() if v.get("scope") == "global")
                if g != sorted(self.x(step["global"])):
                    raise Fail(f"{dev} global addresses {g}, expected {sorted(step['global'])}")
            return
        if kind == "route":
            fams = [step["family"]] if "family" in step else ["4", "6"]
            rs = []
            for f in fams:
                rs += N.routes(ns, f)
            for want in self.x(step.get("has", [])):
                if not any(match(want, r) is None for r in rs):
                    raise Fail(f"no route matching {short(want)}; have {short([r for r in rs if r.get('type') != 'local'], 600)}")
            for bad in self.x(step.get("lacks", [])):
                if any(match(bad, r) is None for r in rs):
                    raise Fail(f"unexpected route matching {short(bad)}")
            return
        if kind == "sysctl":
            key = self.x(step["key"])
            p = N.sh([N.IP, "netns", "exec", ns, "cat", "/proc/sys/" + key], check=False)
            if p.stdout.strip() != str(step["value"]):
                raise Fail(f"{key} = {p.stdout.strip()!r}, expected {step['value']!r}")
            return
        if kind == "leases":
            ls = N.leases(self.datadir)
            if "count" in step and len(ls) != step["count"]:
                raise Fail(f"{len(ls)} host-local leases, expected {step['count']}: {sorted(ls)}")
            for want in self.x(step.get("has", [])):
                if not any(os.path.basename(k) == want for k in ls):
                    raise Fail(f"no lease for {want}: {sorted(ls)}")
            return
        if kind == "record":
            recs = [r for r in self.records() if step.get("with_version") or r["command"] != "VERSION"]
            cmds = [r["command"] for r in recs]
            if "commands" in step and cmds != step["commands"]:
                raise Fail(f"IPAM saw {cmds}, expected {step['commands']}")
            if "includes" in step:
                for c in step["includes"]:
                    if c not in cmds:
                        raise Fail(f"IPAM never saw {c}: {cmds}")
            if "excludes" in step:
                for c in step["excludes"]:
                    if c in cmds:
                        raise Fail(f"IPAM saw {c}: {cmds}")
            for sel, exp in self.x(step.get("match", {})).items():
                # key: index into the filtered records, or a command name (its last record)
                if sel.lstrip("-").isdigit():
                    i = int(sel)
                    if not -len(recs) <= i < len(recs):
                        raise Fail(f"no IPAM record #{sel}: {cmds}")
                    rec = recs[i]
                else:
                    cand = [r for r in recs if r["command"] == sel]
                    if not cand:
                        raise Fail(f"no IPAM {sel} record: {cmds}")
                    rec = cand[-1]
                m = match(exp, rec)
                if m:
                    raise Fail(f"IPAM record {sel}{m}")
            return
        if kind == "distinct":
            res = self.results.get(step["step"])
            vals = []
            for r in res or []:
                try:
                    vals.append(jget(r, step.get("path", "ips/0/address")))
                except KeyError:
                    raise Fail(f"a result lacks {step.get('path')}: {short(r)}")
            if len(set(vals)) != len(vals):
                raise Fail(f"values not distinct: {vals}")
            return
        if kind == "result":
            res = self.results.get(step["step"])
            m = match(self.x(step["match"]), res)
            if m:
                raise Fail("result" + m)
            return
        if kind == "clean":
            self.assert_unchanged(self.baseline, self.snapshot())
            return
        raise Fail(f"unknown assertion {kind!r}")

    def do_ping(self, step):
        src = self.topo.resolve(step.get("from", "C0"))
        dst = self.x(step["ping"])
        want = step.get("expect", True)
        tries = 4 if want else 2
        ok = False
        for _ in range(tries):
            p = N.sh([N.IP, "netns", "exec", src, "ping", "-n", "-c", "1", "-W", "1", dst], check=False, timeout=10)
            if p.returncode == 0:
                ok = True
                break
        if ok != want:
            raise Fail(f"ping {dst} from {step.get('from', 'C0')}: {'reached' if ok else 'unreachable'}, expected {'reachable' if want else 'unreachable'}")


def oneline(s, n):
    s = " ".join(s.split())
    return s if len(s) <= n else s[:n] + "..."


def describe(step):
    if "verb" in step:
        extra = f" x{step['parallel']}" if step.get("parallel") else ""
        return step["verb"] + extra + (f" [{step['id']}]" if "id" in step else "")
    for k in ("sh", "assert", "ping", "rmns", "sleep", "spawn"):
        if k in step:
            v = step[k]
            return f"{k} {v if isinstance(v, str) else ''}".strip()
    return "?"
