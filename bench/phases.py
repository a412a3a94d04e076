"""The benchmark's phases: interleaved runs of two plugins (A B, B A, ...) through their workers, each result
checked (shape of the ADD result, links in the container namespaces through the `ip -j` oracle, leases),
samples recorded per plugin. Timing is the worker's; everything here is bookkeeping and correctness."""
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "test-harness"))
from cnitest import oracle  # noqa: E402
from cnitest.command import IP, SYS_PATH, sh  # noqa: E402
from cnitest.plugin import cni_env  # noqa: E402

from worker import EXEC_TIMEOUT  # noqa: E402

IPAM_DIR = "/usr/lib/cni"
CNI_VERSION = "1.0.0"          # the reference (1.1.1) supports up to 1.0.0
TIME_BIN = "/usr/bin/time"


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class Plugin:
    """One side of the comparison: its binary, topology (host namespace with the master, containers), worker
    and profile, and what was measured and what failed."""

    def __init__(self, label, name, path, topo, worker, profile, tag):
        self.label, self.name, self.path, self.topo, self.worker = label, name, path, topo, worker
        self.profile, self.tag = profile, tag
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

    def sandbox(self, ctr_i):
        return "/run/netns/" + self.topo.containers[ctr_i]

    def job(self, cmd, conf, ctr_i, cid, ifname="eth0"):
        env = cni_env(cmd, IPAM_DIR, self.sandbox(ctr_i), cid, ifname,
                      "IgnoreUnknown=1;K8S_POD_NAMESPACE=bench;K8S_POD_NAME=%s" % cid)
        return {"plugin": self.path, "env": env, "stdin": json.dumps(conf)}

    def new_cid(self, phase):
        self.seq += 1
        return "%s%s%s%d" % (self.tag.replace("-", ""), self.label, phase, self.seq)

    def l2_conf(self):
        return self.profile.l2_config(self.topo.master, name="mvbench", cni_version=CNI_VERSION)

    def hl_conf(self, data_dir, subnet):
        return dict(self.l2_conf(), ipam={"type": "host-local", "ranges": [[{"subnet": subnet}]],
                                          "routes": [{"dst": "0.0.0.0/0"}], "dataDir": data_dir})



def rss_job(job, path):
    """Wraps a job in GNU time, which forks the plugin from its own small process and reports the plugin's
    ru_maxrss. Needed because a plugin posix_spawn()ed straight from the Python worker inherits the worker's
    ~20 MiB high-water mark at exec (the kernel carries the pre-exec mm's hiwater_rss into ru_maxrss)."""
    j = dict(job)
    j["args"] = ["-f", "%M", "-o", path, "--", job["plugin"]]
    j["plugin"] = TIME_BIN
    j["rss_file"] = path
    return j


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
        sandbox = p.sandbox(ctr_i)
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
    """Checks the container namespaces: the interface exists (the profile's kind, MAC as in the result) or,
    after DEL, nothing but lo is left."""
    names = [p.topo.containers[i] for i in ctr_idx]
    bad = 0
    for i, ns, links in zip(ctr_idx, names, oracle.links_of(names)):
        links = {k: v for k, v in (links or {}).items() if k != "lo"}
        if present:
            l = links.get(ifname)
            if not l or oracle.kind(l) != p.profile.kind:
                p.fail(phase, "%s: no %s %s after ADD (links: %s)" % (ns, p.profile.kind, ifname, sorted(links)))
                bad += 1
            elif macs and macs.get(i) and l.get("address", "").lower() != macs[i].lower():
                p.fail(phase, "%s: MAC %s != result %s" % (ns, l.get("address"), macs[i]))
                bad += 1
        elif links:
            p.fail(phase, "%s: links left after DEL: %s" % (ns, sorted(links)))
            bad += 1
            for x in links:     # remove them so one failure does not cascade into the next iterations
                sh([IP, "-n", ns, "link", "del", x], check=False)
    return bad


def verify_no_leases(p, phase, data_dir):
    d = os.path.join(data_dir, "mvbench")
    if not os.path.isdir(d):
        return
    left = [f for f in os.listdir(d) if f != "lock" and not f.startswith("last_reserved_ip")]
    if left:
        p.fail(phase, "host-local leases left after DEL: %s" % left[:5])


def with_prev(conf, result):
    """conf with an ADD result as prevResult (for CHECK and DEL), or conf when the ADD failed."""
    return dict(conf, prevResult=result) if result else conf


def order_for(i, plugins):
    """A B, B A, A B, ... interleaving."""
    return plugins if i % 2 == 0 else list(reversed(plugins))


def phase_startup(plugins, n):
    log("phase startup: VERSION x %d" % n)
    for i in range(n):
        for p in order_for(i, plugins):
            res = p.worker.run({"plugin": p.path, "env": {"CNI_COMMAND": "VERSION", "PATH": SYS_PATH},
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
            confs[p.label] = p.l2_conf()
        else:
            d = os.path.join(tmp, "%s-hl" % p.label)
            confs[p.label] = (p.hl_conf(d, "10.%d.0.0/16" % (201 + len(confs))), d)
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
            dc = with_prev(conf, r)
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
            confs[p.label] = p.l2_conf() if kind == "l2" else \
                p.hl_conf(os.path.join(tmp, "%s-rss" % p.label), "10.%d.0.0/16" % (211 + k))
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
                dres = p.worker.run(p.job("DEL", with_prev(conf, r), 0, cid))
                check_ok(p, "rss", "DEL", dres)
                verify_links(p, "rss", [0], False)


def phase_conc(plugins, n, rounds, tmp):
    log("phase concurrency: %d ADDs at once then %d DELs, %d round(s) per plugin" % (n, n, rounds))
    for rnd in range(rounds):
        for p in order_for(rnd, plugins):
            d = os.path.join(tmp, "%s-conc%d" % (p.label, rnd))
            conf = p.hl_conf(d, "10.250.%d.0/24" % (rnd % 200))
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
            djobs = [p.job("DEL", with_prev(conf, results.get(i)), i, cids[i])
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
    confs = {p.label: p.l2_conf() for p in plugins}
    state = {p.label: {} for p in plugins}
    for i in range(warmup):         # not recorded: warm caches after the previous phase
        for p in order_for(i, plugins):
            cid, conf = p.new_cid("scalewarm"), confs[p.label]
            r = validate_add(p, "scale", p.worker.run(p.job("ADD", conf, 0, cid)), "eth0", 0, False)
            check_ok(p, "scale", "DEL", p.worker.run(p.job("DEL", with_prev(conf, r), 0, cid)))
    t_last = time.monotonic()
    for i in range(n):
        for p in order_for(i, plugins):
            cid, conf = p.new_cid("scale"), confs[p.label]
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
            res = p.worker.run(p.job("DEL", with_prev(confs[p.label], r), i, cid))
            if check_ok(p, "scale", "DEL", res):
                p.record("scale.del", res)
    for p in plugins:
        verify_links(p, "scale", list(range(n)), False)




PHASE_ORDER = ("startup", "config", "namespace", "link", "ipam", "addresses", "routes", "dad-wait", "output")


def phase_attribution(p, n, tmp):
    """Where our plugin's time goes, from its own invocation log (config key logFile; the reference has none):
    n L2 and n host-local ADD/CHECK/DEL cycles of plugin p alone, outside the timed phases (writing the log
    costs an open and a write per call, which the ratios must not carry). Stores per operation the mean of
    each phase's milliseconds in p.attribution."""
    log("phase attribution: %d L2 + %d host-local ADD/CHECK/DEL cycles of %s with logFile" % (n, n, p.name))
    path = os.path.join(tmp, "attribution-%s.jsonl" % p.label)
    for kind in ("l2", "hl"):
        conf = p.l2_conf() if kind == "l2" else p.hl_conf(os.path.join(tmp, "%s-attr" % p.label), "10.209.0.0/16")
        conf = dict(conf, logFile=path)
        for i in range(n):
            cid = p.new_cid("attr" + kind)
            res = p.worker.run(p.job("ADD", conf, 0, cid))
            if not check_ok(p, "attribution", "ADD", res):
                continue
            r = json.loads(res["out"])
            check_ok(p, "attribution", "CHECK", p.worker.run(p.job("CHECK", dict(conf, prevResult=r), 0, cid)))
            check_ok(p, "attribution", "DEL", p.worker.run(p.job("DEL", with_prev(conf, r), 0, cid)))
    p.attribution = {}
    try:
        with open(path) as f:
            records = [json.loads(line) for line in f if line.strip()]
    except (OSError, ValueError) as e:
        p.fail("attribution", "invocation log %s unreadable: %s" % (path, e))
        return
    # records come in the order run: n l2 cycles (ADD, CHECK, DEL), then n host-local ones
    per_kind = {"l2": records[:3 * n], "hl": records[3 * n:]}
    for kind, recs in per_kind.items():
        for verb in ("ADD", "CHECK", "DEL"):
            sel = [r["phases"] for r in recs if r.get("verb") == verb and r.get("outcome") == "ok"]
            if sel:
                p.attribution["%s %s" % (kind, verb)] = (len(sel), {k: sum(s.get(k, 0) for s in sel) / len(sel) for k in PHASE_ORDER})
