"""The scenarios, one function each taking a `Scenario`; `SCENARIOS` is the run order and the names
that `--only` takes."""
import json, os, signal, subprocess, time
from concurrent.futures import ThreadPoolExecutor

from .topology import T1, T2, Fail, sh, start, stop, wait_for


def lease_ip(result):
    ips = result.get("ips") or []
    if not ips:
        raise Fail(f"no ips in the result: {result}")
    return ips[0]["address"].split("/")[0]


def s_add_renew_del(t):
    """ADD through macvlan; lease on disk when ADD answers; kernel lifetime = lease; renewals reach the
    server from the leased address; DEL → RELEASE logged and the address freed."""
    t.start_dnsmasq(); t.start_daemon()
    c = t.container()
    cfg = t.config(ipam_extra={"provide": [{"option": "host-name", "fromArg": "K8S_POD_NAME"}]})
    result = t.add(c, cfg, args="K8S_POD_NAME=web-1")
    ip = lease_ip(result)
    if not ip.startswith("10.213.0."):
        raise Fail(f"unexpected address {ip}")
    if result["ips"][0].get("gateway") != "10.213.0.1":
        raise Fail(f"gateway missing: {result}")
    if not t.opts.reference:
        files = [f for f in os.listdir(t.state) if f.startswith("lease-") and f.endswith(".json")]
        if len(files) != 1:
            raise Fail(f"expected one lease record when ADD answered, found {files}")
        lifetime = wait_for("a finite address lifetime", lambda: [a for a in t.addresses(c) if a.get("valid_life_time", 2**32 - 1) <= 120], 15)
        t.step(f"address lifetime {lifetime[0]['valid_life_time']}")
    if not [l for l in t.server_log() if "DHCPACK(s0)" in l and l.rstrip().endswith(" web-1")]:
        raise Fail("the server did not get the host name from CNI_ARGS (provide/fromArg)")
    check = dict(t.config(), prevResult=result)
    rc, out, _ = t.cni("CHECK", c, check)
    if rc != 0:
        raise Fail(f"CHECK failed: {out}")
    mac = t.mac(c)
    first = len(t.server_events(mac))
    wait_for("a renewal ACK", lambda: [e for e in t.server_events(mac)[first:] if e[1] == "ACK" and e[2] == ip], T1 + 15)
    rc, out, _ = t.cni("DEL", c, t.config())
    if rc != 0:
        raise Fail(f"DEL failed: {out}")
    wait_for("the server to log the RELEASE", lambda: [e for e in t.server_events(mac) if e[1] == "RELEASE" and e[2] == ip], 10)
    wait_for("the server to free the address", lambda: ip not in t.server_leases(), 10)
    if not t.opts.reference and [f for f in os.listdir(t.state) if f.startswith("lease-") and f.endswith(".json")]:
        raise Fail("the lease record is still there after DEL")
    if "10.213.0.53" not in (result.get("dns") or {}).get("nameservers", []):
        raise Fail(f"the result has no DNS server although the server offers one: {result.get('dns')}")


def s_restart(t):
    """kill -9 of the daemon, restart with the stale socket left in place: the next packet of the lease is a
    REQUEST for the same address (not a DISCOVER), and renewals go on."""
    t.start_dnsmasq(); t.start_daemon()
    c = t.container()
    ip = lease_ip(t.add(c, t.config()))
    mac = t.mac(c)
    time.sleep(1)
    stop(t.daemon, signal.SIGKILL)
    t.step("daemon killed with SIGKILL; socket file left: %s" % os.path.exists(t.socket))
    mark = len(t.server_events(mac))
    t.start_daemon()
    time.sleep(1)
    t.step("restarted daemon: " + ("running" if t.daemon.poll() is None else f"exited {t.daemon.returncode}")
           + "; log: " + t.daemon_log().strip().splitlines()[-1][:200])
    if t.daemon.poll() is not None:
        # What an operator of the reference does (its README): remove the stale socket, start again.
        os.unlink(t.socket)
        t.start_daemon()
        t.step("stale socket removed by hand, daemon started again")
    nxt = wait_for("the lease's next packet after the restart", lambda: [e for e in t.server_events(mac)[mark:] if e[1] in ("DISCOVER", "REQUEST")], T1 + 15)
    if nxt[0][1] != "REQUEST" or nxt[0][2] != ip:
        raise Fail(f"next packet after restart: {nxt[0][1]} {nxt[0][2]} (expected REQUEST {ip})")
    wait_for("an ACK after the restart", lambda: [e for e in t.server_events(mac)[mark:] if e[1] == "ACK" and e[2] == ip], T1 + 15)
    t.cni("DEL", c, t.config())


def s_resume_expired(t):
    """A lease that expired while no daemon ran: on start the daemon asks for the same address (INIT-REBOOT
    REQUEST) and puts it back on the interface with the new lifetime."""
    if t.opts.reference:
        raise Fail("the reference keeps no lease records to resume")
    t.start_dnsmasq(); t.start_daemon()
    c = t.container()
    ip = lease_ip(t.add(c, t.config()))
    mac = t.mac(c)
    wait_for("a finite address lifetime", lambda: [a for a in t.addresses(c) if a.get("valid_life_time", 2**32 - 1) <= 120], 15)
    stop(t.daemon, signal.SIGKILL)
    # Age the record past its expiry, and let the kernel drop the address as it would have.
    [name] = [f for f in os.listdir(t.state) if f.startswith("lease-") and f.endswith(".json")]
    path = f"{t.state}/{name}"
    record = json.load(open(path))
    record["v4"]["boundAt"] -= 1000
    json.dump(record, open(path, "w"))
    sh("ip", "-n", c, "addr", "flush", "dev", "eth0", "scope", "global")
    mark = len(t.server_events(mac))
    t.start_daemon()
    nxt = wait_for("the first packet after the restart", lambda: [e for e in t.server_events(mac)[mark:] if e[1] in ("DISCOVER", "REQUEST")], 15)
    if nxt[0][1] != "REQUEST" or nxt[0][2] != ip:
        raise Fail(f"first packet: {nxt[0][1]} {nxt[0][2]} (expected REQUEST {ip})")
    wait_for("the address back on eth0", lambda: [a for a in t.addresses(c) if a["local"] == ip], 15)
    t.cni("DEL", c, t.config())


def s_del_daemon_down(t):
    """DEL with the daemon down succeeds, and the plugin releases from the record itself."""
    t.start_dnsmasq(); t.start_daemon()
    c = t.container()
    ip = lease_ip(t.add(c, t.config()))
    mac = t.mac(c)
    stop(t.daemon, signal.SIGKILL)
    rc, out, _ = t.cni("DEL", c, t.config())
    if rc != 0:
        raise Fail(f"DEL with the daemon down failed: {out}")
    wait_for("the server to log the RELEASE", lambda: [e for e in t.server_events(mac) if e[1] == "RELEASE" and e[2] == ip], 10)
    # the next daemon has nothing to resume
    t.start_daemon()
    time.sleep(2)
    if "resumed" in t.daemon_log().split("listening", 2)[-1]:
        raise Fail("the restarted daemon resumed a released lease")


def s_netns_gone(t):
    """The container namespace is deleted without DEL: no more renewals, the record is dropped."""
    t.start_dnsmasq(); t.start_daemon()
    c = t.container()
    ip = lease_ip(t.add(c, t.config()))
    mac = t.mac(c)
    time.sleep(1)
    sh("ip", "netns", "del", c)
    t.containers.remove(c)
    gone = time.monotonic()
    mark = len(t.server_events(mac))
    time.sleep(T2 + 5)   # past T1 and T2: a kept lease would have renewed and rebound by now
    late = [e for e in t.server_events(mac)[mark:] if e[1] in ("REQUEST", "DISCOVER")]
    if late:
        raise Fail(f"{len(late)} packet(s) from the deleted namespace's lease after {time.monotonic() - gone:.0f} s: {late}")
    if not t.opts.reference and [f for f in os.listdir(t.state) if f.startswith("lease-") and f.endswith(".json")]:
        raise Fail("the record of the gone namespace is still there")


def s_gc(t):
    """GC releases leases of attachments not in cni.dev/valid-attachments, keeps the others."""
    t.start_dnsmasq(); t.start_daemon()
    c1, c2 = t.container(), t.container()
    ip1 = lease_ip(t.add(c1, t.config()))
    ip2 = lease_ip(t.add(c2, t.config()))
    m1, m2 = t.mac(c1), t.mac(c2)
    cfg = t.config("1.1.0")
    cfg["cni.dev/valid-attachments"] = [{"containerID": f"ctr-{c1}", "ifname": "eth0"}]
    rc, out, _ = t.cni("GC", None, cfg, ifname="")
    if rc != 0:
        raise Fail(f"GC failed: {out}")
    wait_for("the RELEASE of the stale attachment", lambda: [e for e in t.server_events(m2) if e[1] == "RELEASE" and e[2] == ip2], 10)
    if [e for e in t.server_events(m1) if e[1] == "RELEASE"]:
        raise Fail("GC released a valid attachment's lease")
    mark = len(t.server_events(m1))
    wait_for("the kept lease to renew", lambda: [e for e in t.server_events(m1)[mark:] if e[1] == "ACK" and e[2] == ip1], T1 + 15)
    t.cni("DEL", c1, t.config())


def s_status(t):
    """STATUS, from the plugin and forwarded by macvlan: 0 with the daemon answering, 50 when it does not."""
    t.start_daemon()
    cfg = t.config("1.1.0")
    for plugin in ("dhcp", "macvlan"):
        rc, out, _ = t.cni("STATUS", None, cfg, plugin=plugin, ifname="")
        if rc != 0:
            raise Fail(f"STATUS through {plugin} with the daemon up: {rc} {out}")
    stop(t.daemon, signal.SIGKILL)
    for plugin in ("dhcp", "macvlan"):
        rc, out, _ = t.cni("STATUS", None, cfg, plugin=plugin, ifname="")
        if rc == 0 or (out or {}).get("code") != 50:
            raise Fail(f"STATUS through {plugin} with the daemon down: exit {rc}, {out} (expected code 50)")


def s_socket_activation(t):
    """systemd socket activation (LISTEN_FDS): the daemon serves the passed socket."""
    t.start_dnsmasq(); t.start_daemon(activated=True)
    c = t.container()
    lease_ip(t.add(c, t.config()))
    if not t.opts.reference and "passed by systemd" not in t.daemon_log():
        raise Fail("the daemon did not say it used the activated socket")
    rc, out, _ = t.cni("DEL", c, t.config())
    if rc != 0:
        raise Fail(f"DEL failed: {out}")


def s_no_server(t):
    """No DHCP server: ADD fails with code 11 within the configured budget and leaves nothing behind."""
    t.start_daemon(["-timeout", "6s"])
    c = t.container()
    rc, out, elapsed = t.cni("ADD", c, t.config(ipam_extra={"timeout": 6}), timeout=90)
    if rc == 0:
        raise Fail("ADD succeeded without a server")
    if (out or {}).get("code") != 11:
        raise Fail(f"expected code 11, got {out}")
    if elapsed > 6 + 15:
        raise Fail(f"ADD took {elapsed:.0f} s for a 6 s budget")
    if sh("ip", "-n", c, "link", "show", "eth0", check=False).returncode == 0:
        raise Fail("eth0 left in the container")
    if not t.opts.reference and os.path.isdir(t.state) and [f for f in os.listdir(t.state) if f.startswith("lease-") and f.endswith(".json")]:
        raise Fail("a lease record was left")


def s_second_daemon(t):
    """A second daemon on the same state directory refuses to start; the first keeps serving."""
    if t.opts.reference:
        raise Fail("the reference has no lock (and no state directory)")
    t.start_daemon()
    log = f"{t.dir}/daemon2.log"
    p = start([f"{t.bin}/dhcp", "daemon", "-socketpath", t.socket + "2", "-statedir", t.state], ns=t.h, log=log)
    try:
        p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        raise Fail("the second daemon kept running")
    text = open(log).read()
    if p.returncode == 0 or "another dhcp daemon" not in text:
        raise Fail(f"second daemon: exit {p.returncode}: {text[-300:]}")
    rc, out, _ = t.cni("STATUS", None, t.config("1.1.0"), plugin="dhcp", ifname="")
    if rc != 0:
        raise Fail(f"the first daemon stopped answering: {out}")


def s_peer_check(t):
    """Socket mode 0660; a non-root caller who can open the socket is refused by the peer-credential check."""
    if t.opts.reference:
        raise Fail("the reference has no peer check")
    t.start_daemon()
    mode = os.stat(t.socket).st_mode & 0o777
    if mode != 0o660:
        raise Fail(f"socket mode {oct(mode)}")
    os.chmod(os.path.dirname(t.socket), 0o755)
    os.chown(t.socket, 0, 65534)   # group nogroup: the file mode lets the caller in, the daemon must not
    # The daemon answers at accept, before any request, so the probe only reads.
    probe = "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); print(s.recv(4096).decode())"
    p = sh("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "python3", "-c", probe, t.socket, check=False)
    if "permission denied" not in p.stdout:
        raise Fail(f"non-root caller not refused: {p.stdout} {p.stderr}")


def s_concurrent(t):
    """Eight ADDs at once (one daemon thread serves them all), distinct addresses; eight DELs at once."""
    t.start_dnsmasq(); t.start_daemon()
    containers = [t.container() for _ in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda c: t.cni("ADD", c, t.config()), containers))
    failed = [r for r in results if r[0] != 0]
    if failed:
        raise Fail(f"{len(failed)} of 8 concurrent ADDs failed: {failed[0][1]}")
    ips = [lease_ip(r[1]) for r in results]
    if len(set(ips)) != 8:
        raise Fail(f"addresses not distinct: {ips}")
    with ThreadPoolExecutor(max_workers=8) as pool:
        dels = list(pool.map(lambda c: t.cni("DEL", c, t.config()), containers))
    if [d for d in dels if d[0] != 0]:
        raise Fail("a concurrent DEL failed")
    wait_for("eight RELEASEs", lambda: len([l for l in t.server_log() if "DHCPRELEASE(s0)" in l]) >= 8, 15)


def s_dhcpv6(t):
    """DHCPv6 (IA_NA) next to DHCPv4: the result has the v6 address with the configured prefix length, the
    kernel address gets the lease's lifetime, DEL releases both."""
    if t.opts.reference:
        raise Fail("the reference has no DHCPv6")
    t.start_dnsmasq(v6=True); t.start_daemon()
    c = t.container()
    cfg = t.config(ipam_extra={"dhcpv6": {"enabled": True, "prefixLength": 64}, "timeout": 30})
    result = t.add(c, cfg)
    v6 = [ip["address"] for ip in result.get("ips", []) if ":" in ip["address"]]
    if len(v6) != 1 or not v6[0].startswith("fd00:213::") or not v6[0].endswith("/64"):
        raise Fail(f"expected one fd00:213::/64 address in the result, got {result.get('ips')}")
    addr = v6[0].split("/")[0]
    wait_for("a finite lifetime on the v6 address", lambda: [a for a in t.addresses(c, "inet6") if a["local"] == addr
                                                          and a.get("valid_life_time", 2**32 - 1) <= 120], 20)
    rc, out, _ = t.cni("DEL", c, cfg)
    if rc != 0:
        raise Fail(f"DEL failed: {out}")
    wait_for("the server to log the DHCPv6 RELEASE", lambda: [l for l in t.server_log() if "DHCPRELEASE(s0)" in l and "10.213." not in l], 10)


SCENARIOS = [("add-renew-del", s_add_renew_del), ("restart", s_restart), ("resume-expired", s_resume_expired),
             ("del-daemon-down", s_del_daemon_down), ("netns-gone", s_netns_gone), ("gc", s_gc),
             ("status", s_status), ("socket-activation", s_socket_activation), ("no-server", s_no_server),
             ("second-daemon", s_second_daemon), ("peer-check", s_peer_check), ("concurrent", s_concurrent), ("dhcpv6", s_dhcpv6)]
