"""The benchmark's report: statistics of the samples, binary sizes, the machine, and the Markdown table of
ours against the reference with the ratio targets."""
import os
import platform
import re
import statistics
import subprocess

from phases import CNI_VERSION


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

    if A.samples.get("version"):
        row("startup: VERSION wall p50 (ms)", wall(A, "version", .5), wall(B, "version", .5))
        row("startup: VERSION CPU mean (ms)", cpu(A, "version"), cpu(B, "version"))
    for kind, title, add_t in (("l2", "L2-only", 0.35), ("hl", "host-local", 0.55)):
        if not A.samples.get(kind + ".add"):
            continue
        l2 = kind == "l2"
        row("%s ADD wall p50 (ms)" % title, wall(A, kind + ".add", .5), wall(B, kind + ".add", .5), add_t)
        row("%s ADD wall p90 (ms)" % title, wall(A, kind + ".add", .9), wall(B, kind + ".add", .9))
        row("%s ADD CPU mean (ms)" % title, cpu(A, kind + ".add"), cpu(B, kind + ".add"), 0.3 if l2 else None)
        row("%s CHECK wall p50 (ms)" % title, wall(A, kind + ".check", .5), wall(B, kind + ".check", .5), 0.5)
        row("%s CHECK wall p90 (ms)" % title, wall(A, kind + ".check", .9), wall(B, kind + ".check", .9))
        row("%s CHECK CPU mean (ms)" % title, cpu(A, kind + ".check"), cpu(B, kind + ".check"))
        row("%s DEL wall p50 (ms)" % title, wall(A, kind + ".del", .5), wall(B, kind + ".del", .5), 1.0)
        row("%s DEL wall p90 (ms)" % title, wall(A, kind + ".del", .9), wall(B, kind + ".del", .9))
        row("%s DEL CPU mean (ms)" % title, cpu(A, kind + ".del"), cpu(B, kind + ".del"))
        if A.samples.get("rss." + kind):
            row("%s peak RSS of one ADD (MiB, max of %d)%s" % (title, len(A.samples["rss." + kind]),
                                                            "" if l2 else ": max(plugin, host-local child)"),
                rss(A, "rss." + kind), rss(B, "rss." + kind), 0.8 if l2 else None)
    if A.samples.get("conc"):
        def cw(p, k):
            xs = [c[k] / 1e6 for c in p.samples["conc"]]
            return p50(xs)
        nconc = A.samples["conc"][0]["n"]
        row("concurrency: %d ADDs at once, batch wall (ms)" % nconc, cw(A, "add_wall_ns"), cw(B, "add_wall_ns"), 0.5)
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
    attribution = getattr(A, "attribution", None)
    if attribution:
        from phases import PHASE_ORDER
        lines.append("")
        lines.append("Where our time goes (means in ms per phase, from the plugin's own invocation log, `logFile`; "
                     "a separate untimed run of ours only; startup = CPU before main):")
        lines.append("")
        lines.append("| operation | n | " + " | ".join(PHASE_ORDER) + " | sum |")
        lines.append("|---|---:|" + "---:|" * (len(PHASE_ORDER) + 1))
        for op, (n, means) in attribution.items():
            lines.append("| %s | %d | %s | %s |" % (op, n, " | ".join("%.2f" % means[k] for k in PHASE_ORDER),
                                                   "%.2f" % sum(means.values())))
    return "\n".join(lines) + "\n", rows, missed


