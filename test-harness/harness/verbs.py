"""Plugin-call steps: build the config and environment, run the plugin in H (one call or N in parallel),
drive fault injection (stop at a stage, signal), and hand the outcome to judge."""
import copy
import json
import os
import signal
import subprocess
import threading
import time

from cnitest import netns
from cnitest.plugin import cni_env, invoke
from cnitest.command import Fail
from cnitest.processes import children, state

from . import cleanliness, hostaccess
from .cases import load_conf
from .judge import judge
from .util import deep_merge, short

REAL_IPAM = (None, "host-local", "static", "dhcp")


def do_verb(cr, step):
    n = int(step.get("parallel", 1))
    if n > 1:
        return do_parallel(cr, step, n)
    verb = step["verb"]
    cns = cr.topo.resolve(step.get("c", "C0")) if cr.topo.containers else cr.topo.h
    cid = cr.x(step.get("containerid", cr.cid))
    ifname = cr.x(step.get("ifname", "eth0"))
    before = cleanliness.before(cr, step, verb)
    cr.results[step.get("id", f"_{len(cr.results)}")] = one_verb(cr, step, verb, cns, cid, ifname)
    cleanliness.after(cr, step, verb, before, [(cns, cid, ifname)])


def do_parallel(cr, step, n):
    if n > len(cr.topo.containers) and not step.get("same_netns"):
        raise Fail(f"parallel={n} needs {n} containers")
    verb = step["verb"]
    before = cleanliness.before(cr, step, verb)
    if step.get("same_netns"):   # n interfaces eth0..eth{n-1} in one container
        jobs = [(cr.topo.resolve(step.get("c", "C0")), cr.x(step.get("containerid", cr.cid)),
                 f"{cr.x(step.get('ifname', 'eth'))}{i}") for i in range(n)]
    else:
        base = cr.x(step.get("containerid", cr.cid))
        jobs = [(cr.topo.containers[i], base if step.get("same_containerid") else f"{base}-{i}",
                 cr.x(step.get("ifname", "eth0"))) for i in range(n)]
    outs = [None] * n
    errs = [None] * n

    def work(i):
        try:
            outs[i] = one_verb(cr, step, verb, *jobs[i])
        except Fail as e:
            errs[i] = e
    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(float(step.get("timeout", 60)) + 10)
    bad = [(i, e) for i, e in enumerate(errs) if e]
    if bad:
        raise Fail(f"{len(bad)}/{n} parallel {verb}s failed; first (#{bad[0][0]}): {bad[0][1]}")
    cr.results[step.get("id", f"_{len(cr.results)}")] = outs
    cleanliness.after(cr, step, verb, before, jobs)


def one_verb(cr, step, verb, cns, cid, ifname):
    conf = build_config(cr, step, cns)
    stdin = build_stdin(cr, step, conf, cns)
    env = build_env(cr, step, verb, cns, cid, ifname)
    if step.get("pause_at"):
        env[cr.profile.fault["pause_env"]] = step["pause_at"]
    call = invoke(cr.topo.h, [cr.plugin], env, stdin, cr.run.registry, float(step.get("timeout", 30)),
                  lambda p, c: drive(cr, step, p, c))
    cr.log.append(f"{verb} {cid}/{ifname} rc={call.rc} out={' '.join(call.out.split())[:500]} "
                  f"err={' '.join(call.err.split())[:300]}")
    return judge(cr, step, verb, conf, call, cns, ifname, env.get("CNI_NETNS"))


def build_config(cr, step, cns):
    case = cr.case
    if "conf" in case:
        conf = load_conf(case["conf"])
        if "plugins" in conf:   # a conflist: the config of the plugin under test, built like libcni
            idx = case.get("plugin_index")
            if idx is None:
                idx = next(i for i, p in enumerate(conf["plugins"]) if p.get("type") == cr.profile.conflist_type)
            pl = copy.deepcopy(conf["plugins"][idx])
            pl["name"] = conf["name"]
            pl["cniVersion"] = conf.get("cniVersion", "0.1.0")
            conf = pl
    else:
        conf = copy.deepcopy(case.get("config", {}))
    conf = deep_merge(conf, case.get("override", {}))
    conf = deep_merge(conf, step.get("override", {}))
    for key, value in cr.profile.config_defaults.items():
        conf.setdefault(key, value)
    conf = cr.x(conf, {"cns": cns})
    ipam = conf.get("ipam")
    if isinstance(ipam, dict):
        # safety: host-local never writes to /var/lib/cni during tests
        if ipam.get("type") == "host-local" and "dataDir" not in ipam:
            ipam["dataDir"] = cr.datadir
        # the fake IPAMs record into the case's file unless told otherwise
        if ipam.get("type") not in REAL_IPAM and "recordFile" not in ipam:
            ipam["recordFile"] = cr.record
    hostaccess.force_state_dir(conf, cr.tmp)
    if "prev" in step:
        conf["prevResult"] = cr.results[step["prev"]] if isinstance(step["prev"], str) else step["prev"]
    return conf


def build_stdin(cr, step, conf, cns):
    if "stdin" in step:
        stdin = cr.x(step["stdin"], {"cns": cns})
        if not isinstance(stdin, str):
            stdin = json.dumps(stdin)
    elif "stdin_parts" in step:
        stdin = stdin_parts(cr, step["stdin_parts"], cns)
    else:
        stdin = json.dumps(conf)
    if "stdin" in step or "stdin_parts" in step:
        stdin = with_config_defaults(cr, stdin, cns)
    if "pad_to" in step:   # pad with trailing spaces (still valid JSON) to exactly N bytes
        data = stdin.encode() if isinstance(stdin, str) else stdin
        n = int(step["pad_to"])
        if len(data) > n:
            raise Fail(f"pad_to={n}: stdin is already {len(data)} bytes")
        stdin = data + b" " * (n - len(data))
    return stdin


def with_config_defaults(cr, stdin, cns):
    """A literal stdin that is an object gets the profile's config_defaults as leading keys, inserted as text so
    whatever the case tests (duplicate keys, odd bytes, depth, invalid JSON after them) stays as written; a key
    the text already has wins (the last of duplicate keys does)."""
    defaults = cr.profile.config_defaults
    data = stdin.encode() if isinstance(stdin, str) else stdin
    body = data.lstrip()
    if not defaults or not body.startswith(b"{"):
        return stdin
    values = cr.x(defaults, {"cns": cns})
    keys = ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in values.items()).encode()
    rest = body[1:]
    glue = b"" if rest.lstrip().startswith(b"}") else b", "
    return data[:len(data) - len(body)] + b"{" + keys + glue + rest


def stdin_parts(cr, parts, cns):
    """A list of "text" (placeholders expanded), ["unit", N] (unit repeated N times) and {hex = "ff fe"} (raw
    bytes), concatenated."""
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(cr.x(part, {"cns": cns}).encode())
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


def build_env(cr, step, verb, cns, cid, ifname):
    env = cni_env(verb, cr.run.cni_path, netns.path(cns), cid, ifname)
    env.update({k: str(v) for k, v in cr.x(step.get("env", {}), {"cns": cns}).items()})
    for k in step.get("unset", []):
        env.pop(k, None)
    return env


def drive(cr, step, p, call):
    """While the plugin runs: stop it at a stage and signal it (pause_at), signal it once the fake IPAM is
    running a command (signal_when_ipam), or signal it after a delay (kill_after)."""
    if step.get("pause_at"):
        pause_and_signal(cr, step, p, call)
    elif step.get("signal_when_ipam"):
        signal_when_ipam(cr, step, p, call)
    elif step.get("kill_after"):
        try:
            p.wait(float(step["kill_after"]))
        except subprocess.TimeoutExpired:
            os.kill(p.pid, getattr(signal, "SIG" + step.get("signal", "TERM")))
            call.signalled = True


def signal_when_ipam(cr, step, p, call):
    """Waits until the fake IPAM has recorded the command (it records before it acts, e.g. hangs), then
    signals the plugin: the signal arrives while the IPAM runs however slowly the machine starts processes."""
    want = step["signal_when_ipam"]
    deadline = time.monotonic() + float(step.get("timeout", 30))
    while not any(r.get("command") == want for r in cr.records()):
        if p.poll() is not None:
            raise Fail(f"plugin exited ({p.returncode}) before the IPAM recorded {want}")
        if time.monotonic() > deadline:
            raise Fail(f"the IPAM never recorded {want}")
        time.sleep(0.01)
    os.kill(p.pid, getattr(signal, "SIG" + step.get("signal", "TERM")))
    call.signalled = True


def pause_and_signal(cr, step, p, call):
    stage = step["pause_at"]
    if cr.run.stages is None:
        raise Fail(f"no fault-injection build: {cr.run.fault_error}")
    if stage not in cr.run.stages:
        raise Fail(f"unknown pause stage {stage!r} (the fault build lists {cr.run.stages})")
    deadline = time.monotonic() + float(step.get("pause_timeout", 30))
    while state(p.pid) != "T":
        if p.poll() is not None:
            raise Fail(f"plugin exited ({p.returncode}) without stopping at stage {stage!r} "
                       f"({cr.profile.fault['pause_env']} not honoured)")
        if time.monotonic() > deadline:
            raise Fail(f"plugin never stopped at stage {stage!r}")
        time.sleep(0.005)
    call.stopped = True
    for cmd in step.get("while_paused", []):
        cr.shell(cmd, True)
    orphans = children(p.pid) if step.get("signal") == "KILL" else []
    os.kill(p.pid, getattr(signal, "SIG" + step.get("signal", "TERM")))
    os.kill(p.pid, signal.SIGCONT)
    call.signalled = True
    # SIGKILL reaches the plugin only: an IPAM it started (overlapped with the link's creation) runs on and
    # writes its lease on its own schedule. The runtime's next call comes after that on any machine but a
    # loaded one; wait for it (bounded) so that what follows sees one state, not a race.
    deadline = time.monotonic() + 30
    while orphans and time.monotonic() < deadline:
        orphans = [c for c in orphans if state(c) not in ("Z", "X", None)]
        time.sleep(0.02)
