"""Running iproute2 and other tools with a fixed environment, and the error a failed test step raises."""
import shutil
import subprocess

IP = shutil.which("ip") or "/usr/sbin/ip"
SYS_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class Fail(Exception):
    """A check or a set-up step failed; the message says why (printed after FAIL)."""


def sh(args, timeout=30, check=True, input=None):
    """Runs args (no shell) with a minimal environment; text in and out. check: raise Fail on non-zero exit."""
    try:
        p = subprocess.run(args, input=input, capture_output=True, text=True, timeout=timeout,
                           env={"PATH": SYS_PATH, "LC_ALL": "C"})
    except subprocess.TimeoutExpired:
        raise Fail(f"`{' '.join(args)}` did not finish within {timeout}s")
    if check and p.returncode != 0:
        raise Fail(f"`{' '.join(args)}` failed ({p.returncode}): {p.stderr.strip()[:300]}")
    return p


def in_netns(ns, args):
    """argv that runs args inside network namespace ns (`ip netns exec`, which also mounts its /sys)."""
    return [IP, "netns", "exec", ns] + list(args)
