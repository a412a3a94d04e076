"""What a verb must leave behind, checked against kernel snapshots (`ip -j link` of every namespace of the case)
and host-local's lease files: a failed ADD changes nothing, a DEL removes its link, temporary links and lease.

clean = "auto" (default): "del" for a DEL expected to succeed, "unchanged" for an ADD expected to fail, else no
check; or explicitly "unchanged" | "del" | false."""
from cnitest import oracle
from cnitest.command import Fail

from . import hostaccess




def snapshot(cr):
    """{"links": {ns: {name: (ifindex, kind, mac)} or None}, "leases": {path: content}, "host": H's routes and the
    host-access records}"""
    nss = cr.topo.all_ns()
    state = {"links": {}, "leases": oracle.leases(cr.datadir),
             "host": hostaccess.snapshot(cr.topo.h, cr.tmp) if cr.topo.h else None}
    for ns, ls in zip(nss, oracle.links_of(nss)):
        state["links"][ns] = None if ls is None else {
            k: (v.get("ifindex"), oracle.kind(v), v.get("address")) for k, v in ls.items()}
    return state


def clean_mode(step, verb):
    mode = step.get("clean", "auto")
    if mode != "auto":
        return mode
    if verb == "DEL" and not step.get("code"):
        return "del"
    if verb == "ADD" and (step.get("code") is not None or step.get("fails")):
        return "unchanged"
    return "none"


def before(cr, step, verb):
    """The state before a verb, only when after() will compare against it."""
    return None if clean_mode(step, verb) in (False, "none") else snapshot(cr)


def after(cr, step, verb, state_before, jobs):
    """jobs: the (container namespace, container ID, ifname) the verb ran for."""
    mode = clean_mode(step, verb)
    if mode in (False, "none"):
        return
    state_after = snapshot(cr)
    if mode in ("unchanged", True):
        assert_unchanged(cr, state_before, state_after)
    elif mode == "del":
        assert_deleted(cr, state_before, state_after, jobs)
    else:
        raise Fail(f"unknown clean mode {mode!r}")


def assert_unchanged(cr, before, after):
    for ns, ls in after["links"].items():
        b = before["links"].get(ns)
        if ls is None or b is None:
            continue
        where = cr.topo.short_name(ns)
        added = sorted(set(ls) - set(b))
        removed = sorted(set(b) - set(ls))
        if added:
            raise Fail(f"left behind in {where}: links {added} ({[ls[a][1] for a in added]})")
        if removed:
            raise Fail(f"removed from {where}: links {removed}")
        changed = [k for k in ls if ls[k] != b[k]]
        if changed:
            raise Fail(f"changed in {where}: {[(k, b[k], ls[k]) for k in changed]}")
    new = sorted(set(after["leases"]) - set(before["leases"]))
    if new:
        raise Fail(f"host-local leases left behind: {new}")
    changed = hostaccess.compare(before.get("host"), after.get("host"))
    if changed:
        raise Fail(changed)


def assert_deleted(cr, before, after, jobs):
    kind, temp_prefix = cr.profile.kind, cr.profile.temp_prefix
    for ns, ls in after["links"].items():
        if ls is None:
            continue
        added = sorted(set(ls) - set(before["links"].get(ns) or {}))
        if added:
            raise Fail(f"new links in {cr.topo.short_name(ns)} after DEL: {added}")
        tmp = [k for k in ls if k.startswith(temp_prefix)]
        if tmp:
            raise Fail(f"temporary links left in {cr.topo.short_name(ns)}: {tmp}")
    for cns, cid, ifname in jobs:
        ls = after["links"].get(cns)
        if ls and ifname in ls and ls[ifname][1] == kind:
            raise Fail(f"{kind} {ifname} still in {cr.topo.short_name(cns)} after DEL")
        for path, content in after["leases"].items():
            if oracle.lease_owner(content) == (cid, ifname):
                raise Fail(f"lease {path} of {cid}/{ifname} still held after DEL")
    hostaccess.check_deleted(after.get("host"), jobs)


def assert_clean(cr, step):
    """assert = "clean": links of every namespace, leases, H's routes and host-access records as right after the
    case's set-up."""
    assert_unchanged(cr, cr.baseline, snapshot(cr))
