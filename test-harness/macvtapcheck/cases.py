"""The macvtap end-to-end cases: each takes a set-up Run and a log function, raises Fail or Skip."""
import concurrent.futures as cf
import json
import os
import signal
import subprocess
import time

from .topology import NODE_DIR, PREFIX, Fail, Skip, node_number, prove_node, sh


def case_frames(run, log):
    c = run.netns("c1")
    conf = run.config()
    result = run.add(c, conf)
    log(f"ADD result interface: {json.dumps(result['interfaces'][0])}")
    log(f"node {result['interfaces'][0]['socketPath']} = {node_number(result['interfaces'][0]['socketPath'])}")
    log("with the virtio-net header: " + prove_node(run, result, "vnet"))
    log("header off (TUNSETIFF without IFF_VNET_HDR): " + prove_node(run, result, "bare", vnet_header=False))
    run.delete(c, conf)
    if os.path.exists(result["interfaces"][0]["socketPath"]):
        raise Fail("DEL left the node")


def case_same_ifindex(run, log):
    conf = run.config()
    results = []
    for suffix in ("s1", "s2"):
        c = run.netns(suffix)
        results.append((c, run.add(c, conf)))
    indexes = [run.link(c, "eth0")["ifindex"] for c, _ in results]
    numbers = [node_number(r["interfaces"][0]["socketPath"]) for _, r in results]
    log(f"ifindexes {indexes}; nodes " + ", ".join(f"{r['interfaces'][0]['socketPath']}={n[0]}:{n[1]}" for (_, r), n in zip(results, numbers)))
    kernel = f"/dev/tap{indexes[0]}"
    if os.path.exists(kernel):
        log(f"the kernel's {kernel} is {node_number(kernel)}: one node for two devices")
    if indexes[0] != indexes[1]:
        raise Fail(f"the two macvtaps have different ifindexes {indexes}: the case needs them equal")
    if numbers[0] == numbers[1]:
        raise Fail(f"both nodes are {numbers[0]}")
    for (c, r), label in zip(results, ("first", "second")):
        log(f"{label}: " + prove_node(run, r, label))
    for c, r in results:
        run.delete(c, conf)
        if os.path.exists(r["interfaces"][0]["socketPath"]):
            raise Fail(f"DEL left {r['interfaces'][0]['socketPath']}")


def expect_check(run, c, conf, result, want_code, label, log):
    checked = dict(conf, prevResult=result)
    rc, out, err = run.call("CHECK", c, checked)
    code = (out or {}).get("code", 0) if rc != 0 else 0
    if code != want_code:
        raise Fail(f"CHECK after {label}: code {code}, expected {want_code}: {out}")
    log(f"CHECK after {label}: " + ("ok" if rc == 0 else f"code {code}: {out.get('msg')}"))


def case_check(run, log):
    c = run.netns("k1")
    other = run.netns("k2")
    conf = run.config(tap={"owner": 107, "group": 36, "mode": "0660"})
    result = run.add(c, conf)
    other_result = run.add(other, conf)
    path = result["interfaces"][0]["socketPath"]
    st = os.stat(path)
    if (st.st_uid, st.st_gid, st.st_mode & 0o7777) != (107, 36, 0o660):
        raise Fail(f"{path} has {st.st_uid}:{st.st_gid} {oct(st.st_mode & 0o7777)}")
    expect_check(run, c, conf, result, 0, "ADD", log)
    os.chmod(path, 0o666)
    expect_check(run, c, conf, result, 100, "chmod 0666", log)
    os.chmod(path, 0o660)
    # The other container's node: same ifname, same ifindex, another device.
    major, minor = node_number(other_result["interfaces"][0]["socketPath"])
    os.unlink(path)
    os.mknod(path, 0o660 | 0o020000, os.makedev(major, minor))
    os.chown(path, 107, 36)
    expect_check(run, c, conf, result, 100, "the node swapped for the other container's device", log)
    os.unlink(path)
    expect_check(run, c, conf, result, 100, "removing the node", log)
    run.delete(c, conf)
    run.delete(other, conf)


def case_adopt(run, log):
    c = run.netns("a1")
    sh("ip", "-n", run.host, "link", "add", "link", "p0", "name", "kvtap0", "address", "02:00:00:aa:bb:01", "mtu", "1400",
       "type", "macvtap", "mode", "bridge")
    before = run.link(run.host, "kvtap0")
    conf = run.config(deviceID="kvtap0", mac="02:00:00:aa:bb:02", mtu=1300, promisc=True)
    result = run.add(c, conf)
    inside = run.link(c, "eth0")
    log(f"adopted: in the container as eth0 {inside['address']} mtu {inside['mtu']} flags {inside['flags']}; "
        f"host has kvtap0: {run.link(run.host, 'kvtap0') is not None}")
    if run.link(run.host, "kvtap0") is not None or inside["address"] != "02:00:00:aa:bb:02" or inside["mtu"] != 1300 \
            or "PROMISC" not in inside["flags"]:
        raise Fail(f"adoption did not apply the config: {inside}")
    log("adopted node: " + prove_node(run, result, "adopted"))
    expect_check(run, c, conf, result, 0, "ADD (adopted)", log)
    run.delete(c, conf)
    after = run.link(run.host, "kvtap0")
    if after is None:
        raise Fail("DEL did not give kvtap0 back")
    log(f"given back: kvtap0 {after['address']} mtu {after['mtu']} (before: {before['address']} mtu {before['mtu']})")
    if (after["address"], after["mtu"], after["linkinfo"]["info_kind"]) != (before["address"], before["mtu"], "macvtap"):
        raise Fail(f"kvtap0 came back changed: {after}")
    if os.path.exists(result["interfaces"][0]["socketPath"]) or run.link(c, "eth0"):
        raise Fail("DEL left the node or the link in the container")
    run.delete(c, conf)  # idempotent
    sh("ip", "-n", run.host, "link", "del", "kvtap0")


def case_gc(run, log):
    conf = run.config()
    kept, gone = run.netns("g1"), run.netns("g2")
    r_kept, r_gone = run.add(kept, conf), run.add(gone, conf)
    gc = dict(conf, cniVersion="1.1.0", **{"cni.dev/valid-attachments": [{"containerID": kept, "ifname": "eth0"}]})
    rc, out, err = run.call("GC", "", gc, ifname="", cid="")
    if rc != 0:
        raise Fail(f"GC: exit {rc}: {out} {err}")
    kept_path, gone_path = r_kept["interfaces"][0]["socketPath"], r_gone["interfaces"][0]["socketPath"]
    log(f"GC: {kept_path} exists: {os.path.exists(kept_path)}; {gone_path} exists: {os.path.exists(gone_path)}")
    if not os.path.exists(kept_path) or os.path.exists(gone_path):
        raise Fail("GC removed the wrong node")
    run.delete(kept, conf)
    run.delete(gone, conf)


def case_parallel(run, log, workers=32, rounds=3):
    conf = run.config()
    containers = [run.netns(f"p{i}") for i in range(workers)]

    def cycle(c):
        run.add(c, conf)
        run.delete(c, conf)

    for r in range(rounds):
        with cf.ThreadPoolExecutor(workers) as pool:
            errors = [f.exception() for f in [pool.submit(cycle, c) for c in containers]]
        errors = [e for e in errors if e]
        if errors:
            raise Fail(f"round {r + 1}: {len(errors)} of {workers} ADD/DEL failed: {errors[0]}")
    left = [n for n in os.listdir(NODE_DIR) if n.startswith(PREFIX)] if os.path.isdir(NODE_DIR) else []
    records = os.listdir(os.path.join(run.state, conf["name"])) if os.path.isdir(os.path.join(run.state, conf["name"])) else []
    links = [c for c in containers if run.link(c, "eth0")]
    log(f"{rounds} rounds x {workers} parallel ADD+DEL: nodes left {len(left)}, records left {len(records)}, links left {len(links)}")
    if left or records or links:
        raise Fail(f"left behind: nodes {left[:3]}, records {records[:3]}, links in {links[:3]}")


def case_conf(run, log):
    """Every conf/macvtap-*.conf end to end: ADD, CHECK, DEL, nothing left (master, stateDir, IPAM dataDir overridden)."""
    confdir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "conf")
    names = sorted(n for n in os.listdir(confdir) if n.startswith("macvtap-") and n.endswith(".conf"))
    if not names:
        raise Fail("no conf/macvtap-*.conf")
    for i, name in enumerate(names):
        conf = json.load(open(os.path.join(confdir, name)))
        conf["stateDir"] = run.state
        if "deviceID" in conf:
            sh("ip", "-n", run.host, "link", "add", "link", "p0", "name", conf["deviceID"], "type", "macvtap", "mode", "bridge")
        else:
            conf["master"] = "p0"
        if "ipam" in conf:
            conf["ipam"]["dataDir"] = os.path.join(run.tmp, "ipam")
        c = run.netns(f"conf{i}")
        result = run.add(c, conf)
        expect_check(run, c, conf, result, 0, f"ADD of {name}", log)
        run.delete(c, conf)
        path = result["interfaces"][-1].get("socketPath") or f"{NODE_DIR}/{c}@eth0"
        if os.path.exists(path) or run.link(c, "eth0"):
            raise Fail(f"{name}: DEL left the node or the link")
        if "deviceID" in conf and not run.link(run.host, conf["deviceID"]):
            raise Fail(f"{name}: DEL did not give {conf['deviceID']} back")
        log(f"{name}: ADD, CHECK, DEL ok")


def leftovers(run, container, conf):
    """What an attachment of `container` may have left: its node, its record, a macvtap in the container, a lease."""
    found = []
    node = f"{NODE_DIR}/{container}@eth0"
    if os.path.exists(node):
        found.append(node)
    record = os.path.join(run.state, conf["name"], f"{container}@eth0")
    if os.path.exists(record):
        found.append(record)
    p = sh("ip", "-n", container, "-j", "-d", "link", "show", check=False)
    for link in json.loads(p.stdout or "[]"):
        if link.get("linkinfo", {}).get("info_kind") == "macvtap":
            found.append(f"link {link['ifname']} in {container}")
    leases = os.path.join(run.tmp, "ipam", conf["name"])
    if os.path.isdir(leases):
        found += [f"lease {n}" for n in os.listdir(leases) if n not in ("lock",) and not n.startswith("last_reserved_ip")]
    return found


def stopped(pid, timeout=30):
    """Waits (bounded) until the process has stopped itself (state T)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False
        if state in ("T", "t"):
            return True
        time.sleep(0.02)
    return False


def case_fault_injection(run, log):
    """The fault build paused at every ADD stage it lists, then SIGTERM (the rollback runs: code 104, nothing
    left) or SIGKILL (the runtime's DEL, with the shipped binary, cleans up: nothing left)."""
    if not run.fault_plugin:
        raise Skip("needs --fault-build BIN (scripts/build --fault-injection --product macvtap)")
    stages = subprocess.run([run.fault_plugin], env={"CNI_TEST_LIST_STAGES": "1"}, capture_output=True, text=True, timeout=30).stdout.split()
    if not stages:
        raise Fail("the fault build lists no stages")
    conf = run.config(cniVersion="1.0.0",   # Debian's host-local stops at 1.0.0
                      ipam={"type": "host-local", "subnet": "10.66.0.0/24", "dataDir": os.path.join(run.tmp, "ipam")})
    for stage in stages:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            pause_and_signal(run, conf, stage, sig)
        log(f"paused at {stage}: SIGTERM rolled back (104), SIGKILL + DEL cleaned up; nothing left")
    # An adopted macvtap (L2 only: the stages an L2 ADD passes) is given back in every case.
    sh("ip", "-n", run.host, "link", "add", "link", "p0", "name", "kvfault0", "type", "macvtap", "mode", "bridge")
    adopt = run.config(deviceID="kvfault0")
    for stage in [s for s in stages if s not in ("ipam-added", "addresses-added", "routes-added")]:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            pause_and_signal(run, adopt, stage, sig)
            if not run.link(run.host, "kvfault0"):
                raise Fail(f"adopted, {stage}/{sig.name}: kvfault0 was not given back")
        log(f"adopted, paused at {stage}: SIGTERM and SIGKILL + DEL gave kvfault0 back; nothing left")


def pause_and_signal(run, conf, stage, sig):
    c = run.netns(f"x{len(run.namespaces)}")
    env = {"CNI_COMMAND": "ADD", "CNI_CONTAINERID": c, "CNI_IFNAME": "eth0", "CNI_NETNS": f"/var/run/netns/{c}",
           "CNI_PATH": "/usr/lib/cni", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "CNI_TEST_PAUSE_AT": stage}
    proc = subprocess.Popen(["ip", "netns", "exec", run.host, "env", "-i"] + [f"{k}={v}" for k, v in env.items()]
                            + [run.fault_plugin], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    proc.stdin.write(json.dumps(conf))
    proc.stdin.close()
    try:
        if not stopped(proc.pid):
            raise Fail(f"{stage}: the plugin did not stop at the stage (exit {proc.poll()})")
        os.kill(proc.pid, sig)
        if sig == signal.SIGTERM:
            os.kill(proc.pid, signal.SIGCONT)
        out = proc.stdout.read()
        rc = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if sig == signal.SIGTERM:
        code = json.loads(out).get("code") if out.strip() else None
        if rc == 0 or code != 104:
            raise Fail(f"{stage}/SIGTERM: exit {rc}, code {code}, expected 104: {out[:200]}")
    else:
        run.delete(c, conf)
    left = leftovers(run, c, conf)
    if left:
        raise Fail(f"{stage}/{sig.name}: left {left}")


BAD_INPUT = [
    # (what, config overrides, environment overrides, expected code)
    ("tap mode not octal", {"tap": {"mode": "0999"}}, {}, 7),
    ("tap mode with setuid", {"tap": {"mode": "04755"}}, {}, 7),
    ("tap owner negative", {"tap": {"owner": -1}}, {}, 7),
    ("tap owner (uid_t)-1", {"tap": {"owner": 4294967295}}, {}, 7),
    ("tap not an object", {"tap": "0660"}, {}, 7),
    ("deviceID with a slash", {"deviceID": "../../x"}, {}, 7),
    ("deviceID missing", {"deviceID": "nosuchtap0"}, {}, 7),
    ("deviceID not a macvtap", {"deviceID": "p0"}, {}, 7),
    ("deviceID with linkInContainer", {"deviceID": "x", "linkInContainer": True}, {}, 7),
    ("stateDir relative", {"stateDir": "state"}, {}, 7),
    ("stateDir with ..", {"stateDir": "/run/../etc"}, {}, 7),
    ("mode unknown", {"mode": "tap"}, {}, 7),
    ("master is loopback", {"master": "lo"}, {}, 7),
    ("master missing", {"master": "nosuch0"}, {}, 7),
    ("mtu above the master's", {"mtu": 9000}, {}, 7),
    ("mac multicast", {"mac": "01:00:5e:00:00:01"}, {}, 7),
    ("CNI_ARGS MAC broadcast", {}, {"CNI_ARGS": "MAC=ff:ff:ff:ff:ff:ff"}, 4),
    ("container ID too long for the node name", {}, {"CNI_CONTAINERID": "a" * 252}, 4),
    ("CNI_IFNAME with a slash", {}, {"CNI_IFNAME": "a/b"}, 4),
]


def case_bad_input(run, log):
    """macvtap's own keys and the node path refused before anything changes: the right code, the key named,
    and no node, record or link."""
    c = run.netns("bad")
    for what, overrides, env, want in BAD_INPUT:
        conf = dict(run.config(), **overrides)
        cid = env.get("CNI_CONTAINERID", c)
        call_env = {"CNI_COMMAND": "ADD", "CNI_CONTAINERID": cid, "CNI_IFNAME": env.get("CNI_IFNAME", "eth0"),
                    "CNI_NETNS": f"/var/run/netns/{c}", "CNI_PATH": "/usr/lib/cni", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        if "CNI_ARGS" in env:
            call_env["CNI_ARGS"] = env["CNI_ARGS"]
        p = subprocess.run(["ip", "netns", "exec", run.host, "env", "-i"] + [f"{k}={v}" for k, v in call_env.items()]
                           + [run.plugin], input=json.dumps(conf), capture_output=True, text=True, timeout=60)
        out = json.loads(p.stdout) if p.stdout.strip() else {}
        if p.returncode == 0 or out.get("code") != want or not out.get("msg"):
            raise Fail(f"{what}: exit {p.returncode}, code {out.get('code')}, expected {want}: {p.stdout[:200]}")
        left = leftovers(run, c, run.config())
        if left or (os.path.isdir(NODE_DIR) and any(n.startswith(cid) for n in os.listdir(NODE_DIR))):
            raise Fail(f"{what}: left {left}")
        log(f"{what}: code {want}: {out['msg'][:90]}")


CASES = [("frames", case_frames), ("same-ifindex", case_same_ifindex), ("check", case_check),
         ("adopt", case_adopt), ("gc", case_gc), ("conf", case_conf), ("bad-input", case_bad_input),
         ("fault-injection", case_fault_injection), ("parallel", case_parallel)]
