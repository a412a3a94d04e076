"""Judging one plugin call against its step: the expected error (code, message, JSON) or success, the shape of
an ADD result for its cniVersion, the interface it names against the kernel, and the step's expectations."""
from cnitest import oracle
from cnitest.command import Fail

from .shape import check_add_result, check_error
from .util import jget, match, oneline, short


def judge(cr, step, verb, conf, call, cns, ifname, netns_env=None):
    """Returns the parsed stdout (the result, or the error JSON)."""
    parsed = call.json()
    if step.get("killed"):
        if call.rc is None or call.rc >= 0:
            raise Fail(f"expected the plugin to die from a signal, exit status {call.rc}")
        return parsed
    if step.get("code") is not None or step.get("fails"):
        return expect_error(cr, step, call, parsed)
    out = call.out.strip()
    if call.rc != 0:
        raise Fail(f"expected success, exit {call.rc}: {oneline(out, 300)} {oneline(call.err, 200)}")
    if verb in ("ADD", "VERSION") and parsed is None:
        raise Fail(f"stdout is not JSON: {out[:200]!r}")
    if verb == "ADD" and step.get("shape", True):
        own_stdin = "stdin" in step or "stdin_parts" in step
        check_add_result(parsed, parsed.get("cniVersion") if own_stdin else conf.get("cniVersion", "0.1.0"))
        check_interface(parsed, cns, ifname, netns_env)
    if "result" in step:
        m = match(cr.x(step["result"], {"cns": cns}), parsed)
        if m:
            raise Fail("result" + m + "  (result: " + short(parsed, 400) + ")")
    for path, vals in cr.x(step.get("includes", {}), {"cns": cns}).items():
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


def expect_error(cr, step, call, parsed):
    want_code = step.get("code")
    out = call.out.strip()
    if call.rc == 0:
        got = short(parsed) if parsed is not None else oneline(out, 200)
        raise Fail(f"expected an error{' code ' + str(want_code) if want_code is not None else ''}, got success: {got}")
    if call.rc is not None and call.rc < 0:
        raise Fail(f"plugin died from signal {-call.rc} instead of returning an error JSON")
    if parsed is None:
        raise Fail(f"exit {call.rc} but stdout is not an error JSON: {oneline(out, 200)!r} "
                   f"stderr: {oneline(call.err, 200)!r}")
    check_error(parsed)
    if want_code is not None and parsed["code"] != want_code:
        raise Fail(f"expected code {want_code}, got {parsed['code']}: {parsed.get('msg')!r}")
    low = (parsed.get("msg", "") + " " + str(parsed.get("details", ""))).lower()
    for s in step.get("msg", []):
        if cr.x(s).lower() not in low:
            raise Fail(f"error msg/details lack {s!r}: {parsed.get('msg')!r} {parsed.get('details', '')!r}")
    if "error" in step:
        m = match(cr.x(step["error"]), parsed)
        if m:
            raise Fail("error JSON: " + m)
    return parsed


def check_interface(res, cns, ifname, netns_env=None):
    """The result's interface must match the kernel: name, sandbox (= CNI_NETNS), MAC."""
    if not isinstance(res, dict) or "interfaces" not in res:
        return
    sandbox = netns_env or "/var/run/netns/" + cns
    mine = [i for i in res["interfaces"] if i.get("sandbox") == sandbox and i.get("name") == ifname]
    if not mine:
        raise Fail(f"result has no interface {ifname!r} with sandbox {sandbox}: {short(res['interfaces'])}")
    l = oracle.link(cns, ifname)
    if l is None:
        raise Fail(f"result names {ifname} but the kernel has no such link in the container")
    if mine[0].get("mac", "").lower() != l.get("address", "").lower():
        raise Fail(f"result mac {mine[0].get('mac')} != kernel {l.get('address')}")
