"""Named network namespaces (/run/netns/NAME): create, delete, list; batch forms for hundreds at once."""
import os
import tempfile

from .command import IP, sh

RUN_DIR = "/run/netns"


def path(name):
    """The path a runtime passes as CNI_NETNS for a named namespace."""
    return f"/var/run/netns/{name}"


def exists(name):
    return os.path.exists(os.path.join(RUN_DIR, name))


def add(name):
    sh([IP, "netns", "add", name])


def delete(name):
    if exists(name):
        sh([IP, "netns", "del", name], check=False)


def names():
    try:
        return sorted(os.listdir(RUN_DIR))
    except FileNotFoundError:
        return []


def with_prefix(prefix):
    return [n for n in names() if n.startswith(prefix)]


def batch(lines, ns=None, timeout=600):
    """Runs iproute2 commands through one `ip -batch` (one process for hundreds of namespaces or links);
    with ns, inside that namespace. -force: keep going past a failing line (callers check the outcome)."""
    if not lines:
        return
    with tempfile.NamedTemporaryFile("w", prefix="cnitest-ipbatch-", suffix=".txt") as f:
        f.write("\n".join(lines) + "\n")
        f.flush()
        sh([IP] + (["-n", ns] if ns else []) + ["-force", "-batch", f.name], check=False, timeout=timeout)


def add_many(ns_names):
    batch([f"netns add {n}" for n in ns_names])
    missing = set(ns_names) - set(names())
    if missing:
        raise OSError(f"could not create namespaces: {sorted(missing)[:5]}")


def delete_many(ns_names):
    batch([f"netns del {n}" for n in ns_names if exists(n)])
