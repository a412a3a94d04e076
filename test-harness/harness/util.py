"""Small helpers: deep merge, placeholder expansion, JSON paths, subset matching."""
import copy
import json
import re

DELETE = "__delete__"   # in an override: remove the key
ABSENT = "__absent__"   # in an expectation: the key must not exist
ANY = "__any__"         # in an expectation: the key must exist, any value


def deep_merge(base, over, keep_markers=False):
    """Return base updated recursively with over (dicts merge, everything else replaces).
    keep_markers: merging two overrides, keep DELETE markers for the final merge."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        if v == DELETE and not keep_markers:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v, keep_markers)
        else:
            out[k] = copy.deepcopy(v)
    return out


_PH = re.compile(r"\$\{([^}]+)\}")


def expand(obj, lookup):
    """Expand ${NAME} placeholders in every string of obj. lookup(name) -> value.
    A string that is exactly one placeholder is replaced by the raw value (may be a dict)."""
    if isinstance(obj, str):
        m = _PH.fullmatch(obj)
        if m:
            return lookup(m.group(1))
        return _PH.sub(lambda mm: _tostr(lookup(mm.group(1))), obj)
    if isinstance(obj, list):
        return [expand(x, lookup) for x in obj]
    if isinstance(obj, dict):
        return {expand(k, lookup) if isinstance(k, str) else k: expand(v, lookup) for k, v in obj.items()}
    return obj


def _tostr(v):
    return v if isinstance(v, str) else json.dumps(v)


def jget(obj, path):
    """Get a value by a slash path like 'ips/0/address'. Raises KeyError."""
    cur = obj
    if path in ("", "/"):
        return cur
    for part in path.strip("/").split("/"):
        if isinstance(cur, list):
            try:
                cur = cur[int(part)]
            except (ValueError, IndexError):
                raise KeyError(path)
        elif isinstance(cur, dict):
            if part not in cur:
                raise KeyError(path)
            cur = cur[part]
        else:
            raise KeyError(path)
    return cur


def match(exp, act, path=""):
    """Subset match. Returns None when act satisfies exp, else a reason string.
    dict: every expected key must match (ABSENT: must be missing; ANY: must exist);
    list: same length, element-wise; str: equal, or 're:REGEX' full match; numbers/bools: equal."""
    if isinstance(exp, dict):
        if not isinstance(act, dict):
            return f"{path or '/'}: expected an object, got {short(act)}"
        for k, v in exp.items():
            p = f"{path}/{k}"
            if v == ABSENT:
                if k in act:
                    return f"{p}: should be absent, got {short(act[k])}"
                continue
            if k not in act:
                return f"{p}: missing (have {sorted(act.keys())})"
            r = match(v, act[k], p)
            if r:
                return r
        return None
    if isinstance(exp, list):
        if not isinstance(act, list):
            return f"{path or '/'}: expected a list, got {short(act)}"
        if len(exp) != len(act):
            return f"{path or '/'}: expected {len(exp)} elements, got {len(act)}: {short(act)}"
        for i, (e, a) in enumerate(zip(exp, act)):
            r = match(e, a, f"{path}/{i}")
            if r:
                return r
        return None
    if exp == ANY:
        return None
    if isinstance(exp, str):
        if exp.startswith("re:"):
            if isinstance(act, str) and re.fullmatch(exp[3:], act):
                return None
            return f"{path or '/'}: {short(act)} does not match /{exp[3:]}/"
        if act != exp:
            return f"{path or '/'}: expected {exp!r}, got {short(act)}"
        return None
    if isinstance(exp, bool) or isinstance(act, bool):
        if exp is not act:
            return f"{path or '/'}: expected {exp!r}, got {short(act)}"
        return None
    if act != exp:
        return f"{path or '/'}: expected {exp!r}, got {short(act)}"
    return None


def short(v, n=160):
    try:
        s = json.dumps(v, sort_keys=True)
    except TypeError:
        s = repr(v)
    return s if len(s) <= n else s[:n] + "..."


def oneline(s, n):
    s = " ".join(s.split())
    return s if len(s) <= n else s[:n] + "..."
