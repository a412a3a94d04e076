"""One case: fresh namespaces, its set-up commands, its steps (round after round), and the teardown."""
import glob
import json
import os
import subprocess
import time

from cnitest import netns
from cnitest.command import Fail, in_netns, sh
from cnitest.processes import kill_group, kill_if_command_contains
from cnitest.topology import Topology

from . import assertions, cleanliness, hostaccess, verbs
from .cases import describe, needs_fault_build
from .util import expand, jget, short


class CaseRun:
    def __init__(self, run, case):
        self.run = run
        self.case = case
        self.profile = run.profile
        self.prefix = run.next_prefix()
        self.topo = Topology(self.prefix, case.get("topo"))
        self.tmp = os.path.join(run.tmp, self.prefix)
        os.mkdir(self.tmp)
        self.datadir = os.path.join(self.tmp, "data")
        self.record = os.path.join(self.tmp, "record.jsonl")
        self.results = {}
        self.cid = "cnit-" + "".join(ch if ch.isalnum() else "-" for ch in case["name"])[:40]
        self.log = []
        self.baseline = {}
        self.spawned = {}
        self.round = 0
        # a case that pauses the plugin runs the fault-injection build for all its verbs
        self.plugin = run.fault_plugin if needs_fault_build(case) else run.plugin

    # ---- placeholders
    def lookup(self, name, step_ctx=None):
        t = self.topo
        if name in t.names():
            return t.resolve(name)
        if name.endswith("_PATH") and name[:-5] in t.names():
            return netns.path(t.resolve(name[:-5]))
        simple = {
            "MASTER": t.master, "PEER": t.peer, "DATADIR": self.datadir, "TMP": self.tmp,
            "RECORD": self.record, "CID": self.cid, "ROUND": str(self.round), "CNI_PATH": self.run.cni_path,
            "IPAM_DIR": self.run.opts.ipam_dir, "PLUGIN": self.plugin,
            "KIND": self.profile.kind, "TEMP_PREFIX": self.profile.temp_prefix,
            "NETNS": netns.path((step_ctx or {}).get("cns", t.containers[0] if t.containers else t.h)),
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
            res = self.results.get(name[3:])
            try:
                return jget(res, "ips/0/address").split("/")[0]
            except (KeyError, TypeError):
                raise Fail(f"placeholder {name}: no ips/0/address in {short(res)}")
        raise Fail(f"unknown placeholder ${{{name}}}")

    def x(self, obj, step_ctx=None):
        return expand(obj, lambda n: self.lookup(n, step_ctx))

    # ---- main
    def execute(self):
        try:
            self.topo.create()
            for cmd in self.case.get("setup", []):
                self.shell(cmd, True)
            self.baseline = cleanliness.snapshot(self)
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
            if e.get("pid"):
                kill_if_command_contains(e["pid"], self.run.fake_ipam_markers())
        for p in self.spawned.values():
            if p.poll() is None:
                kill_group(p.pid)
                p.wait(5)
            self.run.registry.unregister(p)
        self.topo.destroy()
        for pattern in self.profile.attachment_files:
            for path in glob.glob(pattern.format(cid=glob.escape(self.cid))):
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass

    def records(self):
        """The fake IPAM's record of its calls, in order."""
        out = []
        if os.path.exists(self.record):
            with open(self.record) as f:
                for line in f:
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
        rest = self.x(rest)
        p = sh(in_netns(self.topo.resolve(ns_short), ["sh", "-c", rest]), check=False, timeout=30)
        self.log.append(f"$ [{ns_short}] {rest} -> {p.returncode} {p.stdout.strip()} {p.stderr.strip()}")
        if check and p.returncode != 0:
            raise Fail(f"setup `{rest}` in {ns_short} failed: {p.stderr.strip()[:200]}")
        return p

    def do_step(self, step):
        for key, action in STEPS.items():
            if key in step:
                return action(self, step)
        raise Fail(f"unknown step {short(step)}")

    # ---- steps besides verbs and assertions
    def step_sh(self, step):
        for c in step["sh"] if isinstance(step["sh"], list) else [step["sh"]]:
            self.shell(c, step.get("check", True))

    def step_spawn(self, step):
        """A process living in a namespace, for CNI_NETNS=/proc/PID/ns/net."""
        p = subprocess.Popen(in_netns(self.topo.resolve(step["spawn"]), ["sleep", "120"]),
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
        self.run.registry.register(p)
        self.spawned[step.get("id", step["spawn"])] = p
        own = os.readlink("/proc/self/ns/net")
        deadline = time.monotonic() + 20
        while os.readlink(f"/proc/{p.pid}/ns/net") == own:
            if time.monotonic() > deadline or p.poll() is not None:
                raise Fail(f"spawned process never entered {step['spawn']} (exit {p.poll()})")
            time.sleep(0.01)

    def step_rmns(self, step):
        netns.delete(self.topo.resolve(step["rmns"]))

    def step_sleep(self, step):
        time.sleep(min(float(step["sleep"]), 10))

    def step_ping(self, step):
        src = self.topo.resolve(step.get("from", "C0"))
        dst = self.x(step["ping"])
        want = step.get("expect", True)
        ok = False
        for _ in range(4 if want else 2):
            if sh(in_netns(src, ["ping", "-n", "-c", "1", "-W", "1", dst]), check=False, timeout=10).returncode == 0:
                ok = True
                break
        if ok != want:
            raise Fail(f"ping {dst} from {step.get('from', 'C0')}: {'reached' if ok else 'unreachable'}, "
                       f"expected {'reachable' if want else 'unreachable'}")


STEPS = {
    "verb": verbs.do_verb,
    "sh": CaseRun.step_sh,
    "assert": assertions.run,
    "ping": CaseRun.step_ping,
    "spawn": CaseRun.step_spawn,
    "rmns": CaseRun.step_rmns,
    "sleep": CaseRun.step_sleep,
    "listen": hostaccess.listen,
    "tcp": hostaccess.tcp,
}
