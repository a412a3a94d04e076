"""One scenario's world: server namespace with dnsmasq, host namespace with the master and the daemon,
containers on demand; running tools and plugins there, and the registry of the processes we started
(killed by PID only)."""
import json, os, re, shutil, signal, subprocess, tempfile, threading, time

PREFIX = f"dh{os.getpid()}"
STARTED = []            # every process we start (Popen), killed by PID at exit
STARTED_LOCK = threading.Lock()
T1, T2 = 10, 20         # dnsmasq: renewals every 10 s (2 min lease, the minimum it grants)


class Fail(Exception):
    pass


def sh(*args, check=True, timeout=60, ns=None, env=None, input=None):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, input=input)
    if check and p.returncode != 0:
        raise Fail(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.strip()[:400]}")
    return p


def start(cmd, ns=None, log=None, env=None):
    full = (["ip", "netns", "exec", ns] if ns else []) + [str(a) for a in cmd]
    out = open(log, "ab") if log else subprocess.DEVNULL
    p = subprocess.Popen(full, stdout=out, stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
                         stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    with STARTED_LOCK:
        STARTED.append(p)
    return p


def stop(p, sig=signal.SIGTERM):
    if p.poll() is None:
        try:
            os.kill(p.pid, sig)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(p.pid, signal.SIGKILL)
            p.wait(timeout=10)


def wait_for(what, predicate, timeout, interval=0.25):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise Fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class Scenario:
    """One topology: server namespace with dnsmasq, host namespace with the master, containers on demand."""

    def __init__(self, opts, index, name):
        self.opts, self.name = opts, name
        self.p = f"{PREFIX}-{index}"
        self.dir = tempfile.mkdtemp(prefix=f"{self.p}-")
        os.chmod(self.dir, 0o755)
        self.h, self.s = f"{self.p}h", f"{self.p}s"
        self.containers = []
        self.dnsmasq = None
        self.daemon = None
        self.log = []
        self.socket = f"{self.dir}/run/dhcp.sock"
        self.state = f"{self.dir}/state"
        self.bin = f"{self.dir}/bin"
        os.makedirs(self.bin)
        os.symlink(opts.dhcp, f"{self.bin}/dhcp")
        os.symlink(opts.macvlan, f"{self.bin}/macvlan")
        for n in (self.h, self.s):
            sh("ip", "netns", "add", n)
        sh("ip", "link", "add", "m0", "netns", self.h, "type", "veth", "peer", "name", "s0", "netns", self.s)
        sh("ip", "-n", self.s, "addr", "add", "10.213.0.1/24", "dev", "s0")
        sh("ip", "-n", self.s, "-6", "addr", "add", "fd00:213::1/64", "dev", "s0", "nodad")
        for n, dev in ((self.h, "m0"), (self.s, "s0")):
            sh("ip", "-n", n, "link", "set", dev, "up")
            sh("ip", "-n", n, "link", "set", "lo", "up")

    def step(self, text):
        self.log.append(f"{time.strftime('%H:%M:%S')} {text}")

    # --- server

    def start_dnsmasq(self, v6=False):
        args = ["dnsmasq", "--conf-file=/dev/null", "--keep-in-foreground", "--port=0", "--bind-interfaces",
                "--interface=s0", "--no-ping", "--dhcp-authoritative",
                "--dhcp-range=10.213.0.100,10.213.0.199,255.255.255.0,2m",
                f"--dhcp-option=option:T1,{T1}", f"--dhcp-option=option:T2,{T2}",
                "--dhcp-option=option:router,10.213.0.1", "--dhcp-option=option:dns-server,10.213.0.53",
                f"--dhcp-leasefile={self.dir}/dnsmasq.leases", f"--log-facility={self.dir}/dnsmasq.log",
                f"--pid-file={self.dir}/dnsmasq.pid"]
        if v6:
            args += ["--dhcp-range=::100,::1ff,constructor:s0,64,2m", "--enable-ra"]
        self.dnsmasq = start(args, ns=self.s)
        wait_for("dnsmasq to start", lambda: os.path.exists(f"{self.dir}/dnsmasq.log"), 10)

    def server_log(self):
        try:
            with open(f"{self.dir}/dnsmasq.log") as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def server_events(self, mac):
        """(line number, kind, address) of the server's DHCP lines for this MAC."""
        out = []
        for i, line in enumerate(self.server_log()):
            m = re.search(r"DHCP(DISCOVER|OFFER|REQUEST|ACK|NAK|RELEASE)\(s0\) (?:(\d+\.\d+\.\d+\.\d+) )?" + re.escape(mac), line)
            if m:
                out.append((i, m.group(1), m.group(2)))
        return out

    def server_leases(self):
        try:
            with open(f"{self.dir}/dnsmasq.leases") as f:
                return [l.split()[2] for l in f if l.strip() and not l.startswith("duid")]
        except FileNotFoundError:
            return []

    # --- daemon

    def start_daemon(self, extra=(), activated=False):
        log = f"{self.dir}/daemon.log"
        cmd = [f"{self.bin}/dhcp", "daemon", "-socketpath", self.socket, "-pidfile", f"{self.dir}/daemon.pid"]
        if not self.opts.reference:
            cmd += ["-statedir", self.state]
        cmd += list(extra)
        if activated:
            os.makedirs(os.path.dirname(self.socket), exist_ok=True)
            cmd = ["systemd-socket-activate", "-l", self.socket] + cmd
        self.daemon = start(cmd, ns=self.h, log=log)
        wait_for("the daemon's socket", lambda: os.path.exists(self.socket) or self.daemon.poll() is not None, 20)
        if self.daemon.poll() is not None:
            raise Fail(f"the daemon exited ({self.daemon.returncode}): {self.daemon_log()[-400:]}")
        return self.daemon

    def daemon_log(self):
        try:
            with open(f"{self.dir}/daemon.log") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    # --- plugin calls

    def config(self, version="1.0.0", ipam_extra=None, name="dhnet"):
        ipam = {"type": "dhcp", "daemonSocketPath": self.socket, "stateDir": self.state}
        ipam.update(ipam_extra or {})
        return {"cniVersion": version, "name": name, "type": "macvlan", "master": "m0", "mode": "bridge", "ipam": ipam}

    def container(self):
        n = f"{self.p}c{len(self.containers) + 1}"
        sh("ip", "netns", "add", n)
        sh("ip", "-n", n, "link", "set", "lo", "up")
        self.containers.append(n)
        return n

    def cni(self, command, container, config, plugin="macvlan", ifname="eth0", cid=None, timeout=120, args=None):
        env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "CNI_COMMAND": command,
               "CNI_CONTAINERID": cid or f"ctr-{container}", "CNI_NETNS": f"/var/run/netns/{container}" if container else "",
               "CNI_IFNAME": ifname, "CNI_PATH": self.bin}
        if args:
            env["CNI_ARGS"] = args
        started = time.monotonic()
        try:
            p = sh(f"{self.bin}/{plugin}", ns=self.h, env=env, input=json.dumps(config), check=False, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Fail(f"{command} did not answer within {timeout} s")
        elapsed = time.monotonic() - started
        self.step(f"{command} {container} → {p.returncode} in {elapsed:.1f}s: {p.stdout.strip()[:300]} {p.stderr.strip()[:200]}")
        out = None
        if p.stdout.strip():
            try:
                out = json.loads(p.stdout)
            except ValueError:
                out = {"unparsed": p.stdout}
        return p.returncode, out, elapsed

    def add(self, container, config, **kw):
        rc, out, _ = self.cni("ADD", container, config, **kw)
        if rc != 0:
            raise Fail(f"ADD failed: {out}")
        return out

    def mac(self, container, ifname="eth0"):
        return json.loads(sh("ip", "-j", "-n", container, "link", "show", ifname).stdout)[0]["address"]

    def addresses(self, container, family="inet", ifname="eth0"):
        p = sh("ip", "-j", "-n", container, "-f", family, "addr", "show", ifname, check=False)
        if p.returncode != 0:
            return []
        data = json.loads(p.stdout or "[]")
        return [a for link in data for a in link.get("addr_info", []) if a.get("scope") == "global"]

    def cleanup(self):
        for p in (self.daemon, self.dnsmasq):
            if p:
                stop(p, signal.SIGKILL)
        for n in self.containers + [self.h, self.s]:
            sh("ip", "netns", "del", n, check=False)
        shutil.rmtree(self.dir, ignore_errors=True)



def cleanup_all():
    with STARTED_LOCK:
        for p in STARTED:
            if p.poll() is None:
                try:
                    os.kill(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
    for line in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.splitlines():
        n = line.split()[0] if line.strip() else ""
        if n.startswith(PREFIX + "-"):
            subprocess.run(["ip", "netns", "del", n], capture_output=True)
