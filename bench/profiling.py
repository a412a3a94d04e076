"""bench/profile: where the time goes for one L2 (or host-local) ADD of our binary: strace -c and the largest
gaps between syscalls, perf stat, the dynamic loader's statistics, and callgrind."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "test-harness"))
from cnitest import netns, profile as profiles  # noqa: E402
from cnitest.command import SYS_PATH, in_netns  # noqa: E402
from cnitest.plugin import cni_env, invoke  # noqa: E402
from cnitest.topology import Topology  # noqa: E402

from phases import CNI_VERSION, IPAM_DIR, log  # noqa: E402
from report import binary_sizes  # noqa: E402


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
    tag = "mvb-%d" % os.getpid()
    topo = Topology(tag + "-p", {"containers": 1})
    host = topo.h
    tmp = tempfile.mkdtemp(prefix=tag + "-")
    conf = profiles.load(args.profile).l2_config(topo.master, name="mvbench", cni_version=CNI_VERSION)
    if args.ipam:
        conf["ipam"] = {"type": "host-local", "ranges": [[{"subnet": "10.249.0.0/16"}]],
                        "routes": [{"dst": "0.0.0.0/0"}], "dataDir": os.path.join(tmp, "hl")}
    stdin_data = json.dumps(conf)
    counter = [0]

    def in_host(cmd):
        return in_netns(host, cmd)

    def add_del(wrapper, plugin):
        """Runs one ADD under wrapper, then a plain DEL. Returns the ADD's Call (rc, out, err)."""
        counter[0] += 1
        e = cni_env("ADD", IPAM_DIR, netns.path(topo.containers[0]), "%sprof%d" % (tag.replace("-", ""), counter[0]),
                    "eth0", "IgnoreUnknown=1")
        res = invoke(host, wrapper + [plugin], e, stdin_data, timeout=300)
        dr = invoke(host, [plugin], dict(e, CNI_COMMAND="DEL"), stdin_data, timeout=300)
        if dr.rc != 0:
            log("DEL failed: %s %s" % (dr.out, dr.err))
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
        topo.create()
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
            if r.rc != 0:
                print("plain ADD FAILED rc=%d\nstdout: %s\nstderr: %s" % (r.rc, r.out, r.err))
                return 1

            # strace -c
            section("%s: strace -f -c (syscalls of one ADD incl. children; sorted by time)" % label)
            out = os.path.join(tmp, "strace-%s.txt" % label)
            r = add_del(["strace", "-f", "-c", "-S", "time", "-o", out], path)
            if r.rc != 0:
                print("ADD under strace failed rc=%d: %s %s" % (r.rc, r.out, r.err))
            if os.path.exists(out):
                txt = open(out).read().splitlines()
                print("\n".join(txt[:args.top + 4] + (["  ..."] + txt[-2:] if len(txt) > args.top + 6 else
                                                       txt[args.top + 4:])))
            out2 = os.path.join(tmp, "strace-tt-%s.txt" % label)
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
            print(r.err.strip())
            vr = _sh(in_host(["perf", "stat", "-r", "20", "-e", events, path]),
                     json.dumps({"cniVersion": CNI_VERSION}), {"CNI_COMMAND": "VERSION", "PATH": SYS_PATH})
            print(vr.stderr.strip())

            # dynamic loader
            section("%s: LD_DEBUG=statistics (dynamic loader cost of one ADD)" % label)
            r = add_del(["env", "LD_DEBUG=statistics"], path)
            st = [l for l in r.err.splitlines() if re.search(r"\d+:\s", l)]
            print("\n".join(st[:20]) if st else "(no loader statistics: static binary or not glibc-loaded)")

            # callgrind
            section("%s: valgrind --tool=callgrind (one ADD), top %d" % (label, args.top))
            if not shutil.which("valgrind"):
                print("valgrind not installed (apt-get install valgrind)")
                continue
            cg = os.path.join(tmp, "callgrind-%s.out" % label)
            # Valgrind 3.19 cannot read the DWARF 5 that Swift 6 emits ("Possibly corrupted debuginfo"):
            # profile a copy without debug info; function names still come from the symbol table.
            prof_bin = os.path.join(tmp, "nodebug-" + label, os.path.basename(path))
            os.makedirs(os.path.dirname(prof_bin), exist_ok=True)
            if _sh(["objcopy", "--strip-debug", path, prof_bin]).returncode != 0:
                shutil.copy(path, prof_bin)
            os.chmod(prof_bin, 0o755)
            r = add_del(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + cg, "--trace-children=no"],
                        prof_bin)
            if r.rc != 0:
                tail = [l for l in r.err.splitlines() if l.strip()][-6:]
                print("ADD under callgrind failed (rc=%d)%s; last lines of valgrind's output:\n  %s"
                      % (r.rc, " — valgrind does not support Go binaries" if label != "ours" else "",
                         "\n  ".join(tail)))
            if os.path.exists(cg) and r.rc == 0:
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
        topo.destroy()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


