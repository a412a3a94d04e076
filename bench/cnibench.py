#!/usr/bin/env python3
"""Side-by-side benchmark of two CNI link plugins (python3 stdlib only).

Subcommands (normally reached through the wrappers bench/run and bench/profile):
  run [--smoke] OURS REFERENCE   interleaved benchmark, Markdown table + JSON in bench/results/
  profile OURS [REFERENCE]       strace -c, perf stat, LD_DEBUG=statistics, callgrind on one L2 ADD
  cleanup                        remove namespaces left by a benchmark that was SIGKILLed

Modules: worker.py (timing, inside a host namespace), phases.py (what is run and checked), report.py (the
table), profiling.py (profile). Topologies, plugin configs and the `ip -j` oracle come from the test kit
(test-harness/cnitest) and the plugin's profile (test-harness/profiles).

Safety: everything lives in namespaces named mvb-<pid>-..., created here and deleted on exit (also on
failure, Ctrl-C, SIGTERM, SIGHUP). Masters are veth pairs inside the per-plugin host namespace. Nothing in
the root namespace is touched besides creating/deleting those namespaces.
"""

import argparse
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True   # keep the source tree clean (no __pycache__)
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "test-harness"))
from cnitest import netns, profile as profiles  # noqa: E402
from cnitest.topology import Topology  # noqa: E402

from phases import (IPAM_DIR, TIME_BIN, Plugin, log, phase_conc, phase_cycle,  # noqa: E402
                    phase_attribution, phase_rss, phase_scale, phase_startup)
from profiling import profile_main  # noqa: E402
from report import binary_sizes, build_report, machine_info  # noqa: E402
from worker import Worker  # noqa: E402

PREFIX = "mvb"
REF_DEFAULT = "/usr/lib/cni/macvlan"
SMOKE_DEFAULTS = dict(iterations=5, warmup=1, scale=20, scale_window=5, conc=32, rounds=1, startup=5, rss=3, attribution=3)
FULL_DEFAULTS = dict(iterations=200, warmup=5, scale=1000, scale_window=50, conc=32, rounds=3, startup=100, rss=20, attribution=30)


class Namespaces:
    """One topology per plugin (host namespace with the master, n containers) and the run's temp dir."""

    def __init__(self, labels, n_containers):
        self.tag = "%s-%d" % (PREFIX, os.getpid())
        self.tmp = tempfile.mkdtemp(prefix=self.tag + "-")
        self.topos = {l: Topology("%s-%s" % (self.tag, l), {"containers": n_containers, "container_lo_up": False})
                      for l in labels}

    def setup(self):
        for t in self.topos.values():
            t.create()

    def cleanup(self):
        for t in self.topos.values():
            t.destroy()
        shutil.rmtree(self.tmp, ignore_errors=True)
        left = netns.with_prefix(self.tag + "-")
        if left:
            log("WARNING: namespaces left behind: %s" % left[:5])


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
    profile = profiles.load(args.profile)
    env = Namespaces(["a", "b"], n_ctr)
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
        wa, wb = Worker(env.topos["a"].h), Worker(env.topos["b"].h)
        workers = [wa, wb]
        same = os.path.realpath(args.ours) == os.path.realpath(args.reference)
        A = Plugin("a", "reference(A)" if same else "ours", snapshot(os.path.abspath(args.ours), env.tmp, "a"),
                   env.topos["a"], wa, profile, env.tag)
        B = Plugin("b", "reference(B)" if same else "reference",
                   snapshot(os.path.abspath(args.reference), env.tmp, "b"), env.topos["b"], wb, profile, env.tag)
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
        if "attribution" in phases and not same:
            phase_attribution(A, args.attribution, env.tmp)
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
                                "failures": p.failures, "attribution": getattr(p, "attribution", None)} for p in (A, B)},
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



def cleanup_main(_args):
    """Removes namespaces mvb-<pid>-* whose creating process no longer exists."""
    removed = []
    for ns in netns.names():
        m = re.match(r"%s-(\d+)-" % PREFIX, ns)
        if m and not os.path.exists("/proc/%s" % m.group(1)):
            removed.append(ns)
    netns.delete_many(removed)
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
    r.add_argument("--phases", default="startup,l2,rss,hl,conc,scale,attribution")
    r.add_argument("--attribution", type=int, help="cycles per kind of the attribution phase (ours, with logFile)")
    r.add_argument("--profile", default="macvlan", help="plugin profile (test-harness/profiles)")
    r.add_argument("--out", default=None, help="directory for raw JSON/Markdown (bench/results)")
    r.add_argument("--strict", action="store_true", help="exit 3 when a target is missed")
    p = sub.add_parser("profile", help="strace/perf/callgrind of one L2 ADD of OUR binary")
    p.add_argument("ours")
    p.add_argument("reference", nargs="?", default=None, help="optionally profile this one too (same tools)")
    p.add_argument("--ipam", action="store_true", help="profile an ADD with host-local instead of L2-only")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--outdir", default=os.path.join(HERE, "results"))
    p.add_argument("--profile", default="macvlan", help="plugin profile (test-harness/profiles)")
    sub.add_parser("cleanup")
    args = ap.parse_args()
    if args.cmd == "run":
        return run_main(args)
    if args.cmd == "profile":
        return profile_main(args)
    return cleanup_main(args)


if __name__ == "__main__":
    sys.exit(main())

