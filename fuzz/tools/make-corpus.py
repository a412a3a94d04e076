#!/usr/bin/env python3
"""Regenerates the committed seed corpora fuzz/corpus/{config,cniargs,result} from the repository's configs
(conf/), the golden results (Tests/CNITests/Golden), real IPAM outputs (host-local and static from
/usr/lib/cni, run with a throwaway dataDir: they only allocate, nothing touches a namespace) and hand-written
edge cases. The netlink corpus comes from fuzz/tools/capture-netlink (it needs a network namespace)."""
import json, os, shutil, subprocess, sys, tempfile

here = os.path.dirname(os.path.abspath(__file__))
fuzz = os.path.dirname(here)
root = os.path.dirname(fuzz)
corpus = os.path.join(fuzz, "corpus")
VERSIONS = ["0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"]


def reset(target):
    path = os.path.join(corpus, target)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def write(directory, name, data):
    if isinstance(data, (dict, list)):
        data = json.dumps(data, indent=1)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def configs():
    out = reset("config")
    for name in sorted(os.listdir(os.path.join(root, "conf"))):
        with open(os.path.join(root, "conf", name), "rb") as f:
            raw = f.read()
        write(out, "conf-" + name, raw)
        doc = json.loads(raw)
        for i, plugin in enumerate(doc.get("plugins", [])):   # a conflist's plugin as libcni sends it
            plugin = dict(plugin, name=doc["name"], cniVersion=doc["cniVersion"])
            write(out, f"conf-{name}-plugin{i}.json", plugin)
    base = {"cniVersion": "1.1.0", "name": "fuzznet", "type": "macvlan", "master": "p0"}
    ipam = {"type": "host-local", "subnet": "10.9.0.0/24", "routes": [{"dst": "0.0.0.0/0"}]}
    with open(os.path.join(root, "Tests/CNITests/Golden/result-1.0.0.json")) as f:
        prev = json.load(f)
    cases = {
        "minimal": {"name": "n", "type": "macvlan"},
        "l2only": dict(base),
        "l2only-emptyipam": dict(base, ipam={}),
        "modes": [dict(base, mode=m, ipam=ipam) for m in ["bridge", "private", "vepa", "passthru", "source", "nosuch", ""]],
        "mtu": [dict(base, mtu=v, ipam=ipam) for v in [0, 68, 1500, 9000, -1, 67, 65536, 1.5, "1500", 2**63 - 1]],
        "mac": [dict(base, mac=v, ipam=ipam) for v in ["02:00:00:00:00:01", "ff:ff:ff:ff:ff:ff", "01:00:5e:00:00:01",
                                                        "00:00:00:00:00:00", "0200.0000.0001", "02-00-00-00-00-01", "zz"]],
        "runtimemac": dict(base, ipam=ipam, capabilities={"mac": True}, runtimeConfig={"mac": "02:11:22:33:44:55"}),
        "linkincontainer": dict(base, linkInContainer=True, ipam=ipam),
        "bcqueuelen": [dict(base, bcqueuelen=v) for v in [0, 100, 4294967295, 4294967296, -5, "x"]],
        "master-empty": dict(base, master=""),
        "master-bad": [dict(base, master=v) for v in ["lo", "a/b", "x" * 16, ".", "..", "a b", "eth0:1"]],
        "versions": [dict(base, cniVersion=v, ipam=ipam) for v in VERSIONS + ["", "2.0.0", "0.3", "1.1.0-rc1"]],
        "no-version": {"name": "n", "type": "macvlan", "master": "p0", "ipam": ipam},
        "dns": dict(base, ipam=ipam, dns={"nameservers": ["10.0.0.1", "fd00::1"], "domain": "d", "search": ["a", "b"], "options": ["ndots:5"]}),
        "args": dict(base, ipam=ipam, args={"cni": {"ips": ["10.9.0.5/24"], "mac": "02:00:00:00:00:05"}}),
        "prevresult": dict(base, ipam=ipam, prevResult=prev),
        "prevresult-legacy": dict(base, cniVersion="0.2.0", ipam=ipam, prevResult={"cniVersion": "0.2.0", "ip4": {"ip": "10.0.0.2/24"}}),
        "ipam-bad": [dict(base, ipam=v) for v in [{"type": "../x"}, {"type": "a/b"}, {"type": ""}, {"subnet": "x"}, [], "host-local"]],
        "wrongtypes": [dict(base, **{k: v}) for k, v in [("name", 5), ("master", 1), ("mode", True), ("linkInContainer", "yes"),
                                                         ("dns", []), ("runtimeConfig", 3), ("prevResult", "x"), ("args", []),
                                                         ("capabilities", 1), ("type", None), ("mac", 7)]],
        "names": [dict(base, name=v) for v in ["a", "-bad", "ok_name.1-2", "", "n\u00e9t", "a" * 300]],
        "gc": dict(base, **{"cni.dev/valid-attachments": [{"containerID": "c1", "ifname": "eth0"}],
                           "cni.dev/attachments": [{"containerID": "c2", "ifname": "eth1"}]}),
        "unknown-keys": dict(base, foo={"bar": [1, 2, {"baz": None}]}, x=1e308, y=-0.0, z="\u0000"),
    }
    for name, value in cases.items():
        if isinstance(value, list):
            for i, v in enumerate(value):
                write(out, f"{name}-{i}.json", v)
        else:
            write(out, f"{name}.json", value)
    for name, raw in {"not-json": "{", "array": "[]", "string": '"x"', "empty": "", "nul": '{"name":"a\\u0000b","type":"m"}',
                      "dupkey": '{"name":"a","name":"b"}', "deep": "[" * 3000 + "]" * 3000, "bom": "\ufeff{}"}.items():
        write(out, f"raw-{name}.json", raw)


def cniargs():
    out = reset("cniargs")
    seeds = [
        "", "IgnoreUnknown=1", "IgnoreUnknown=true;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=abc123",
        "IgnoreUnknown=1;IP=10.88.0.5;MAC=02:42:ac:11:00:02", "MAC=02:42:ac:11:00:02", "IP=10.1.2.3/24,fd00::3/64;GATEWAY=10.1.2.1",
        "FOO=bar", "IgnoreUnknown=0;FOO=bar", "IgnoreUnknown=maybe", "IgnoreUnknown=TRUE;x=", "novalue", "=x", ";;;", "a==b",
        "K8S_POD_UID=0b6f;IgnoreUnknown=1;K8S_POD_NAME=x;K8S_POD_NAME=y", "IgnoreUnknown=1;A=1=2;B=;C==",
        # With NUL-separated extra environment values: CONTAINERID, IFNAME, NETNS, PATH, COMMAND.
        "IgnoreUnknown=1\0ctr-1\0eth0\0/var/run/netns/x\0/usr/lib/cni:relative::/opt/cni/bin\0ADD",
        "\0bad id!\0eth0\0/n\0/p\0DEL", "\0c\0eth0/1\0/n\0/p\0CHECK", "\0c\0" + "x" * 16 + "\0\0/p\0ADD",
        "\0c\0..\0\0/p\0DEL", "\0\0\0\0\0GC", "\0\0\0\0\0STATUS", "\0c\0eth0\0\0/p\0VERSION", "\0c\0e th\0/n\0/p\0add",
    ]
    for i, s in enumerate(seeds):
        write(out, f"seed-{i:02d}.txt", s)


def run_ipam(plugin, config, command="ADD"):
    env = dict(os.environ, CNI_COMMAND=command, CNI_CONTAINERID="fuzzseed", CNI_NETNS="/var/run/netns/fuzzseed",
               CNI_IFNAME="eth0", CNI_PATH="/usr/lib/cni")
    p = subprocess.run([plugin], input=json.dumps(config).encode(), env=env, capture_output=True, timeout=20)
    return p.stdout


def results():
    out = reset("result")
    golden = os.path.join(root, "Tests/CNITests/Golden")
    for name in sorted(os.listdir(golden)):
        shutil.copy(os.path.join(golden, name), os.path.join(out, "golden-" + name))
    hostlocal, static = "/usr/lib/cni/host-local", "/usr/lib/cni/static"
    if os.access(hostlocal, os.X_OK):
        with tempfile.TemporaryDirectory() as data:
            for v in VERSIONS:
                ipam = {"type": "host-local", "dataDir": data, "ranges": [[{"subnet": "10.77.0.0/24", "gateway": "10.77.0.1"}],
                                                                          [{"subnet": "fd77::/64"}]],
                        "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}, {"dst": "10.78.0.0/16", "gw": "10.77.0.254"}]}
                conf = {"cniVersion": v, "name": "seednet", "type": "macvlan", "ipam": ipam}
                write(out, f"host-local-{v}.json", run_ipam(hostlocal, conf))
                run_ipam(hostlocal, conf, "DEL")
            conf = {"cniVersion": "1.0.0", "name": "seednet", "type": "macvlan",
                    "ipam": {"type": "host-local", "dataDir": data, "subnet": "10.79.0.0/30"}}
            run_ipam(hostlocal, conf)
            write(out, "host-local-error-exhausted.json", run_ipam(hostlocal, dict(conf, cniVersion="1.0.0")))
    if os.access(static, os.X_OK):
        for v in VERSIONS:
            ipam = {"type": "static", "addresses": [{"address": "10.24.0.5/24", "gateway": "10.24.0.1"}, {"address": "fd24::5/64"}],
                    "routes": [{"dst": "0.0.0.0/0"}, {"dst": "10.124.0.0/16", "gw": "10.24.0.254"}],
                    "dns": {"nameservers": ["10.24.0.53"], "domain": "example.internal", "search": ["example.internal"]}}
            write(out, f"static-{v}.json", run_ipam(static, {"cniVersion": v, "name": "seednet", "type": "macvlan", "ipam": ipam}))
    hand = {
        "error": {"cniVersion": "1.0.0", "code": 11, "msg": "try again", "details": "x"},
        "legacy-v6only": {"cniVersion": "0.2.0", "ip6": {"ip": "fd00::5/64", "gateway": "fd00::1", "routes": [{"dst": "::/0", "gw": "fd00::1"}]}},
        "legacy-nocniversion": {"ip4": {"ip": "10.0.0.5/8"}},
        "ips-noversion-030": {"cniVersion": "0.3.0", "ips": [{"address": "10.0.0.5/24"}]},
        "ips-wrongversion": {"cniVersion": "0.3.1", "ips": [{"version": "6", "address": "10.0.0.5/24", "interface": 7}]},
        "interfaces-many": {"cniVersion": "1.1.0", "interfaces": [{"name": "a"}, {"name": "b", "mac": "x", "mtu": 9000, "sandbox": "", "pciID": "0000:00:01.0"}],
                            "ips": [{"address": "10.0.0.5/24", "interface": 1}, {"address": "fe80::1/64", "interface": -1}]},
        "routes-110": {"cniVersion": "1.1.0", "ips": [{"address": "10.0.0.5/24"}],
                       "routes": [{"dst": "0.0.0.0/0", "gw": "10.0.0.1", "mtu": 1400, "advmss": 1360, "priority": 5, "table": 254, "scope": 253},
                                  {"dst": "10.0.0.0/8", "mtu": -1, "table": 4294967296}, {"dst": "bad"}]},
        "dns-only": {"cniVersion": "1.0.0", "dns": {"nameservers": ["1.1.1.1"]}},
        "empty": {}, "null-version": {"cniVersion": None, "ips": []},
        "bad-prefix": {"cniVersion": "1.0.0", "ips": [{"address": "10.0.0.5/33"}]},
        "mapped": {"cniVersion": "1.0.0", "ips": [{"address": "::ffff:10.0.0.5/120", "gateway": "::ffff:10.0.0.1"}]},
        "zone": {"cniVersion": "1.0.0", "ips": [{"address": "fe80::1%eth0/64"}]},
    }
    for name, value in hand.items():
        write(out, f"hand-{name}.json", value)


configs()
cniargs()
results()
for t in ("config", "cniargs", "result", "netlink"):
    d = os.path.join(corpus, t)
    print(t, len(os.listdir(d)) if os.path.isdir(d) else 0, "seeds", file=sys.stderr)
