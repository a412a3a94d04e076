"""Running one case to a status (PASS, FAIL, SKIP, DEVIATES with --reference) and summarising a run."""
import os
import time

from cnitest.command import Fail

from .case_run import CaseRun
from .cases import needs_fault_build, requirements


STATUSES = ("PASS", "FAIL", "SKIP", "DEVIATES")


def skip_reason(run, case):
    if needs_fault_build(case) and run.opts.reference:
        return "needs the fault-injection build (ours only)"
    if "host-access" in requirements(case) and run.opts.reference:
        return "hostAccess is ours only (the reference has nothing for host-container access)"
    if "invocation-log" in requirements(case) and run.opts.reference:
        return "the invocation log (logFile) is ours only"
    if "creates-under-final-name" in requirements(case) and not run.profile.creates_under_final_name:
        return f"{run.profile.name} always creates its link under the temporary name (its -temporary-name twin applies)"
    if "ipv6" in requirements(case) and not os.path.exists("/proc/sys/net/ipv6"):
        return "no IPv6 in this kernel"
    return None


def run_one(run, case, deviations):
    """Returns (status, reason, log)."""
    reason = skip_reason(run, case)
    if reason:
        return "SKIP", reason, []
    if needs_fault_build(case) and run.stages is None:
        return "FAIL", f"no fault-injection build: {run.fault_error}", []
    cr = CaseRun(run, case)
    t0 = time.monotonic()
    try:
        cr.execute()
        status, reason = "PASS", ""
    except Fail as e:
        status, reason = "FAIL", str(e)
    except Exception as e:  # a harness bug must not kill the run
        status, reason = "FAIL", f"harness error: {type(e).__name__}: {e}"
    verbose = run.opts.verbose
    if run.opts.reference and case["id"] in deviations:
        if status == "FAIL":
            return "DEVIATES", deviations[case["id"]] + (f"  [{reason}]" if verbose else ""), cr.log
        if status == "PASS":
            return "FAIL", "listed in deviations.toml but the reference passes: remove it from the list", cr.log
    if verbose and status == "FAIL":
        reason += f" ({time.monotonic() - t0:.1f}s)"
    return status, reason, cr.log


def counts(results):
    return {k: sum(1 for s, _ in results.values() if s == k) for k in STATUSES}


def markdown(results, cases):
    """A table of statuses per group."""
    groups = {}
    for c in cases:
        st = results.get(c["id"], ("SKIP", ""))[0]
        g = groups.setdefault(c["group"], dict.fromkeys(("cases",) + STATUSES, 0))
        g["cases"] += 1
        g[st] += 1
    lines = ["| group | cases | pass | fail | skip | deviates |", "|---|---:|---:|---:|---:|---:|"]
    tot = dict.fromkeys(("cases",) + STATUSES, 0)
    for name in sorted(groups):
        g = groups[name]
        for k in tot:
            tot[k] += g[k]
        lines.append(f"| {name} | {g['cases']} | {g['PASS']} | {g['FAIL']} | {g['SKIP']} | {g['DEVIATES']} |")
    lines.append(f"| **total** | {tot['cases']} | {tot['PASS']} | {tot['FAIL']} | {tot['SKIP']} | {tot['DEVIATES']} |")
    return "\n".join(lines) + "\n"


def as_json(opts, results, cases):
    return {"plugin": opts.plugin, "reference": opts.reference,
            "cases": [{"id": c["id"], "group": c["group"],
                       "status": results.get(c["id"], ("NOTRUN", ""))[0],
                       "reason": results.get(c["id"], ("", ""))[1]} for c in cases]}
