"""Plugin profiles (test-harness/profiles/<name>.toml): the facts about one link plugin that tests need (the
link kind it creates, its temporary-name prefix, which entry of a conflist it is, a minimal config, how to
build its fault-injection variant and ask it for its ADD stages). Nothing plugin-specific lives elsewhere."""
import os
import subprocess
import tomllib

from .command import SYS_PATH, Fail

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # test-harness/
REPO = os.path.dirname(HERE)
PROFILE_DIR = os.path.join(HERE, "profiles")
REQUIRED = ("name", "kind", "temp_prefix", "conflist_type", "l2_config", "fault_injection")
FAULT_KEYS = ("build", "pause_env", "list_stages_env")


class Profile:
    def __init__(self, data, source):
        missing = [k for k in REQUIRED if k not in data] + \
            [f"fault_injection.{k}" for k in FAULT_KEYS if k not in data.get("fault_injection", {})]
        if missing:
            raise Fail(f"profile {source}: missing {missing}")
        self.source = source
        self.name = data["name"]
        self.kind = data["kind"]
        self.temp_prefix = data["temp_prefix"]
        self.conflist_type = data["conflist_type"]
        self.l2 = dict(data["l2_config"])
        self.fault = dict(data["fault_injection"])
        # Files the plugin makes outside namespaces for an attachment ("{cid}" is the case's container ID), e.g.
        # macvtap's device nodes: removed at every case's teardown, also after a failure.
        self.attachment_files = list(data.get("attachment_files", []))
        # Keys every config of a case gets unless the case sets them (placeholders expanded per case), e.g.
        # macvtap's stateDir in the case's temp dir, so shared cases never write the plugin's state to /run.
        self.config_defaults = dict(data.get("config_defaults", {}))
        # Whether ADD creates the link under CNI_IFNAME (false: always under the temporary name, then renamed).
        self.creates_under_final_name = bool(data.get("creates_under_final_name", True))

    def l2_config(self, master, name="cnitest", cni_version="1.0.0", **extra):
        """A complete L2-only config on master (extra keys such as ipam added)."""
        return dict(self.l2, cniVersion=cni_version, name=name, master=master, **extra)

    def build_fault_binary(self, timeout=1800):
        """Builds the fault-injection variant; returns its path. Raises Fail with the build's last words."""
        try:
            p = subprocess.run(self.fault["build"], cwd=REPO, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise Fail(f"fault-injection build `{' '.join(self.fault['build'])}`: {e}")
        lines = p.stdout.strip().splitlines()
        if p.returncode != 0 or not lines or not os.access(lines[-1], os.X_OK):
            tail = " | ".join((p.stderr.strip().splitlines() or ["no output"])[-3:])
            raise Fail(f"fault-injection build `{' '.join(self.fault['build'])}` failed ({p.returncode}): {tail}")
        return lines[-1]

    def stages(self, fault_binary):
        """ADD's checkpoints in the order ADD passes them, as the fault build itself lists them."""
        env = {"PATH": SYS_PATH, self.fault["list_stages_env"]: "1"}
        try:
            p = subprocess.run([fault_binary], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=30)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise Fail(f"{fault_binary} {self.fault['list_stages_env']}=1: {e}")
        stages = [l.strip() for l in p.stdout.splitlines() if l.strip()]
        if p.returncode != 0 or not stages:
            raise Fail(f"{fault_binary} {self.fault['list_stages_env']}=1 listed no stages "
                       f"(exit {p.returncode}): {p.stdout.strip()[:200]} {p.stderr.strip()[:200]}")
        return stages


def load(name_or_path="macvlan"):
    """A profile by name (test-harness/profiles/NAME.toml) or by path to a .toml file."""
    path = name_or_path if name_or_path.endswith(".toml") else os.path.join(PROFILE_DIR, name_or_path + ".toml")
    try:
        with open(path, "rb") as f:
            return Profile(tomllib.load(f), path)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise Fail(f"plugin profile {name_or_path}: {e}")


def available():
    return sorted(f[:-5] for f in os.listdir(PROFILE_DIR) if f.endswith(".toml"))
