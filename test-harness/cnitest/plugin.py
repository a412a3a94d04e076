"""Running a CNI plugin the way a runtime does: from the host namespace, the CNI_* environment, the config on
stdin, and a bound on its run time. The process is a session leader registered with a Registry, so that it
and its children (IPAM) can be killed as a group if it hangs or the test is interrupted."""
import json
import subprocess
import tempfile

from .command import SYS_PATH, Fail, in_netns
from .processes import kill_group

CONTAINER_VERBS = ("ADD", "DEL", "CHECK")


def cni_env(verb, cni_path, netns_path="", containerid="", ifname="eth0", args=None, extra=None):
    """The environment of one call; the container variables only for the verbs that take them."""
    env = {"PATH": SYS_PATH, "CNI_COMMAND": verb, "CNI_PATH": cni_path}
    if verb in CONTAINER_VERBS:
        env.update(CNI_CONTAINERID=containerid, CNI_NETNS=netns_path, CNI_IFNAME=ifname)
    if args is not None:
        env["CNI_ARGS"] = args
    env.update(extra or {})
    return env


class Call:
    """Outcome of one plugin run: rc (negative: killed by that signal), out, err, and what the caller did."""

    def __init__(self, rc, out, err, stopped=False, signalled=False):
        self.rc, self.out, self.err, self.stopped, self.signalled = rc, out, err, stopped, signalled

    def json(self):
        """stdout parsed, or None when it is empty or not JSON."""
        try:
            return json.loads(self.out) if self.out.strip() else None
        except ValueError:
            return None


def invoke(host_ns, argv, env, stdin, registry=None, timeout=30.0, while_running=None):
    """Runs argv (the plugin, possibly behind a wrapper such as valgrind) inside host_ns (None: here) with env
    and stdin (str or bytes). while_running(popen, call) may drive it (stop, signal) before it is awaited.
    Raises Fail when it does not finish within timeout (it is killed)."""
    call = Call(None, "", "")
    with tempfile.TemporaryFile() as fin, tempfile.TemporaryFile() as fout, tempfile.TemporaryFile() as ferr:
        fin.write(stdin.encode() if isinstance(stdin, str) else stdin)
        fin.seek(0)
        p = subprocess.Popen(in_netns(host_ns, argv) if host_ns else list(argv), env=env, stdin=fin,
                             stdout=fout, stderr=ferr, start_new_session=True)
        if registry:
            registry.register(p)
        try:
            if while_running:
                while_running(p, call)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                kill_group(p.pid)
                p.wait(5)
                raise Fail(f"plugin did not finish within {timeout}s (killed)")
        finally:
            if p.poll() is None:
                kill_group(p.pid)
                p.wait(5)
            if registry:
                registry.unregister(p)
        fout.seek(0)
        ferr.seek(0)
        call.rc = p.returncode
        call.out = fout.read().decode(errors="replace")
        call.err = ferr.read().decode(errors="replace")
    return call
