"""The processes a test started: each in its own session, so that a stuck plugin and whatever it spawned can be
killed as a group. Nothing else is ever signalled: only PIDs registered here (or recorded by our own fake IPAMs
and checked by their command line before the kill)."""
import os
import signal
import threading


class Registry:
    def __init__(self):
        self._lock = threading.Lock()
        self._procs = {}          # pid -> Popen, each the leader of a session we created

    def register(self, p):
        with self._lock:
            self._procs[p.pid] = p

    def unregister(self, p):
        with self._lock:
            self._procs.pop(p.pid, None)

    def kill_all(self):
        with self._lock:
            procs = list(self._procs.values())
        for p in procs:
            if p.poll() is None:
                kill_group(p.pid)


def kill_group(pid):
    """SIGKILL the session/process group led by pid (one we created), then SIGCONT in case it was stopped."""
    for sig in (signal.SIGKILL, signal.SIGCONT):
        try:
            os.killpg(pid, sig)
        except OSError:
            pass


def kill_if_command_contains(pid, markers):
    """SIGKILL pid if it still runs and its command line contains one of markers (bytes): a process one of our
    plugins started (a fake IPAM) that recorded its PID; the check keeps a recycled PID safe."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read()
    except OSError:
        return
    if any(m in cmd for m in markers):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def state(pid):
    """One-letter state of pid from /proc (R, S, T for stopped, Z, ...); None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
        return data[data.rindex(")") + 2]
    except (OSError, ValueError):
        return None


def children(pid):
    """pid's child processes, from /proc (empty once it is gone)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []
