"""The timing side of the benchmark: a worker process that lives in one host namespace (started as
`ip netns exec HOST python3 bench/worker.py`), reads one JSON request per line on stdin and answers one JSON
line on stdout. It posix_spawns plugins with stdin from an in-memory pipe and reaps them with wait4, so a
sample is spawn .. reap with the plugin's own rusage, and nothing of Python's start-up is measured."""
import json
import os
import selectors
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True   # keep the source tree clean (no __pycache__)
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "test-harness"))
from cnitest.command import SYS_PATH, in_netns  # noqa: E402

EXEC_TIMEOUT = 60.0            # seconds, per plugin execution (and per batch)

def _spawn(job):
    """posix_spawn one plugin with stdin from an in-memory pipe. Returns a running-job dict."""
    data = job["stdin"].encode()
    if len(data) >= 65536:
        raise ValueError("stdin too large for the pipe buffer")
    in_r, in_w = os.pipe()          # O_CLOEXEC: other jobs never inherit our ends
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    os.write(in_w, data)            # fits in the pipe buffer; the plugin reads it from memory
    os.close(in_w)
    env = dict(job["env"])
    env.setdefault("PATH", SYS_PATH)
    t0 = time.perf_counter_ns()
    try:
        pid = os.posix_spawn(job["plugin"], [job["plugin"]] + job.get("args", []), env,
                             file_actions=[(os.POSIX_SPAWN_DUP2, in_r, 0),
                                           (os.POSIX_SPAWN_DUP2, out_w, 1),
                                           (os.POSIX_SPAWN_DUP2, err_w, 2)])
    finally:
        os.close(in_r)
        os.close(out_w)
        os.close(err_w)
    return {"pid": pid, "t0": t0, "out_fd": out_r, "err_fd": err_r, "out": [], "err": [],
            "open": 2, "done": False}


def _run_jobs(jobs, timeout=EXEC_TIMEOUT):
    """Start all jobs at once, collect output, reap with wait4. Returns (results, batch_wall_ns)."""
    running = []
    sel = selectors.DefaultSelector()
    t_start = time.perf_counter_ns()
    try:
        for job in jobs:
            r = _spawn(job)
            running.append(r)
            sel.register(r["out_fd"], selectors.EVENT_READ, (r, "out"))
            sel.register(r["err_fd"], selectors.EVENT_READ, (r, "err"))
    except Exception:
        for r in running:
            os.kill(r["pid"], signal.SIGKILL)
        raise
    by_pid = {r["pid"]: r for r in running}
    deadline = time.monotonic() + timeout
    timed_out = False
    open_fds = 2 * len(running)
    while open_fds > 0:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        for key, _ in sel.select(timeout=min(left, 1.0)):
            r, which = key.data
            chunk = os.read(key.fd, 65536)
            if chunk:
                r[which].append(chunk)
            else:
                sel.unregister(key.fd)
                os.close(key.fd)
                open_fds -= 1
    if timed_out:
        for r in running:
            try:
                os.kill(r["pid"], signal.SIGKILL)   # only processes we spawned, by PID
            except ProcessLookupError:
                pass
        for key in list(sel.get_map().values()):
            sel.unregister(key.fd)
            os.close(key.fd)
    sel.close()
    # reap in exit order
    remaining = len(running)
    t_end = t_start
    while remaining:
        pid, status, ru = os.wait4(-1, 0)
        now = time.perf_counter_ns()
        r = by_pid.get(pid)
        if r is None:
            continue
        remaining -= 1
        t_end = max(t_end, now)
        r.update(done=True, wall_ns=now - r["t0"], status=status,
                 utime=ru.ru_utime, stime=ru.ru_stime, maxrss_kb=ru.ru_maxrss)
    results = []
    job_rss_files = [j.get("rss_file") for j in jobs]
    for r in running:
        st = r["status"]
        rss_kb = None
        if job_rss_files[len(results)]:
            try:
                with open(job_rss_files[len(results)]) as f:
                    rss_kb = int(f.read().split()[-1])
            except (OSError, ValueError, IndexError):
                pass
        results.append({
            "rc": os.waitstatus_to_exitcode(st),
            "plugin_maxrss_kb": rss_kb,
            "out": b"".join(r["out"]).decode(errors="replace"),
            "err": b"".join(r["err"]).decode(errors="replace")[-4000:],
            "wall_ns": r["wall_ns"],
            "cpu_s": r["utime"] + r["stime"],
            "utime": r["utime"], "stime": r["stime"],
            "maxrss_kb": r["maxrss_kb"],
            "timed_out": timed_out,
        })
    return results, t_end - t_start


def worker_main():
    def on_term(signum, frame):
        sys.exit(1)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)
    # Ctrl-C reaches the whole process group: keep serving, the coordinator tells us to quit. A Python
    # handler (not SIG_IGN) so that plugins we spawn get the default disposition back on exec.
    signal.signal(signal.SIGINT, lambda s, f: None)
    inp = sys.stdin.buffer
    out = sys.stdout.buffer
    while True:
        line = inp.readline()
        if not line:
            return 0
        req = json.loads(line)
        try:
            if req["op"] == "quit":
                return 0
            elif req["op"] == "batch":
                res, wall = _run_jobs(req["jobs"], req.get("timeout", EXEC_TIMEOUT))
                reply = {"ok": True, "results": res, "batch_wall_ns": wall}
            elif req["op"] == "ping":
                reply = {"ok": True, "netns": os.readlink("/proc/self/ns/net")}
            else:
                reply = {"ok": False, "error": "unknown op"}
        except Exception as e:  # report, keep serving
            reply = {"ok": False, "error": repr(e)}
        out.write(json.dumps(reply).encode() + b"\n")
        out.flush()


class Worker:
    def __init__(self, host_ns):
        self.host_ns = host_ns
        self.proc = subprocess.Popen(
            in_netns(host_ns, [sys.executable, os.path.abspath(__file__)]),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        r = self._call({"op": "ping"})
        if not r.get("ok"):
            raise RuntimeError("worker failed to start: %r" % r)

    def _call(self, req):
        self.proc.stdin.write(json.dumps(req).encode() + b"\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("worker in %s died" % self.host_ns)
        return json.loads(line)

    def batch(self, jobs, timeout=EXEC_TIMEOUT):
        r = self._call({"op": "batch", "jobs": jobs, "timeout": timeout})
        if not r.get("ok"):
            raise RuntimeError("worker error: %s" % r.get("error"))
        return r["results"], r["batch_wall_ns"]

    def run(self, job):
        res, _ = self.batch([job])
        return res[0]

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b'{"op":"quit"}\n')
                self.proc.stdin.flush()
                self.proc.stdin.close()
            except (BrokenPipeError, OSError, ValueError):
                pass
            try:
                self.proc.wait(timeout=EXEC_TIMEOUT + 5)
            except subprocess.TimeoutExpired:
                self.proc.kill()            # by PID: our own child
                self.proc.wait(timeout=10)




if __name__ == "__main__":
    sys.exit(worker_main())
