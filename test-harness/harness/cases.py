"""Loading the case files (cases/<group>.toml), the deviation list of the reference, and example configs.

A case with `each_stage = true` is a template: it stands for one case per ADD stage of the plugin's
fault-injection build, with ${STAGE} replaced (in its name too). The stage list comes from that build
(profile.stages), never from a copy; until it is known the template stays one case.
"""
import copy
import glob
import json
import os
import tomllib

from .util import deep_merge, expand

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # test-harness/
REPO = os.path.dirname(HERE)
CONF_DIR = os.path.join(REPO, "conf")
CASE_DIR = os.path.join(HERE, "cases")
DEVIATIONS = os.path.join(HERE, "deviations.toml")
MERGED = ("override", "topo")    # keys deep-merged from [defaults] instead of replaced


def _read_toml(path):
    with open(path, "rb") as f:
        try:
            return tomllib.load(f)
        except tomllib.TOMLDecodeError as e:
            raise SystemExit(f"{path}: {e}")


def load_cases(case_dir=CASE_DIR, stages=None):
    cases = []
    for path in sorted(glob.glob(os.path.join(case_dir, "*.toml"))):
        group = os.path.splitext(os.path.basename(path))[0]
        data = _read_toml(path)
        defaults = data.get("defaults", {})
        seen = set()
        for c in data.get("case", []):
            if "name" not in c:
                raise SystemExit(f"{path}: a case without name")
            if c["name"] in seen:
                raise SystemExit(f"{path}: duplicate case {c['name']}")
            seen.add(c["name"])
            case = {k: copy.deepcopy(v) for k, v in defaults.items() if k not in MERGED}
            case.update({k: v for k, v in c.items() if k not in MERGED})
            case["override"] = deep_merge(defaults.get("override", {}), c.get("override", {}), True)
            case["topo"] = deep_merge(defaults.get("topo", {}), c.get("topo", {}))
            case["group"] = group
            case.setdefault("step", [])
            cases += per_stage(case, stages) if case.get("each_stage") else [case]
    for case in cases:
        case["id"] = f"{case['group']}/{case['name']}"
    return cases


def per_stage(template, stages):
    """One case per stage with ${STAGE} filled in; the template itself while the stages are unknown."""
    if stages is None:
        return [template]
    keep = lambda name: "${" + name + "}"   # other placeholders are expanded when the case runs
    return [expand(template, lambda n: stage if n == "STAGE" else keep(n)) for stage in stages]


def needs_fault_build(case):
    """A case that pauses the plugin at an ADD stage runs the fault-injection build."""
    return bool(case.get("each_stage")) or any("pause_at" in step for step in case["step"])


def requirements(case):
    reqs = case.get("requires", [])
    return [reqs] if isinstance(reqs, str) else reqs


def load_deviations(path=DEVIATIONS):
    out = {}
    for d in _read_toml(path).get("deviation", []):
        for c in d["cases"]:
            if c in out:
                raise SystemExit(f"deviations.toml: {c} listed twice")
            out[c] = d["reason"]
    return out


def load_conf(name):
    with open(os.path.join(CONF_DIR, name)) as f:
        return json.load(f)


def unused_confs(cases, plugin_type):
    """Example configs of this plugin (`type`, or an entry of a conflist's `plugins`) that no case uses: each must be
    exercised, so none can rot. Another plugin's examples are its own tests' (conf/macvtap-*: macvtap-e2e)."""
    used = {c.get("conf") for c in cases}
    return sorted(f for f in os.listdir(CONF_DIR) if f.endswith((".conf", ".conflist", ".json")) and f not in used
                  and belongs_to(f, plugin_type))


def belongs_to(name, plugin_type):
    """Whether an example config is this plugin's; an unreadable one is everyone's (so it gets reported)."""
    try:
        conf = load_conf(name)
    except (OSError, ValueError):
        return True
    types = {conf.get("type")} | {p.get("type") for p in conf.get("plugins", []) if isinstance(p, dict)}
    return plugin_type in types


def describe(step):
    if "verb" in step:
        extra = f" x{step['parallel']}" if step.get("parallel") else ""
        return step["verb"] + extra + (f" [{step['id']}]" if "id" in step else "")
    for k in ("sh", "assert", "ping", "rmns", "sleep", "spawn", "listen", "tcp"):
        if k in step:
            v = step[k]
            return f"{k} {v if isinstance(v, str) else ''}".strip()
    return "?"
