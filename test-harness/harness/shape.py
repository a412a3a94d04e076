"""Result shape per cniVersion (CNI spec 1.1.0 and its older result formats)."""
import ipaddress

from cnitest.command import Fail

from .util import short

OLD = ("0.1.0", "0.2.0")
MID = ("0.3.0", "0.3.1", "0.4.0")
DNS_KEYS = {"nameservers", "domain", "search", "options"}


def _cidr(s, where):
    try:
        ipaddress.ip_interface(s)
    except ValueError:
        raise Fail(f"{where}: {short(s)} is not an address/prefix")
    if "/" not in s:
        raise Fail(f"{where}: {s!r} lacks a prefix length")


def _ip(s, where):
    try:
        ipaddress.ip_address(s)
    except ValueError:
        raise Fail(f"{where}: {short(s)} is not an IP address")


def _keys(obj, allowed, where):
    if not isinstance(obj, dict):
        raise Fail(f"{where}: expected an object, got {short(obj)}")
    extra = set(obj) - set(allowed)
    if extra:
        raise Fail(f"{where}: keys {sorted(extra)} not allowed in this cniVersion")


def _dns(d, where):
    _keys(d, DNS_KEYS, where)
    for k in ("nameservers", "search", "options"):
        if k in d and not (isinstance(d[k], list) and all(isinstance(x, str) for x in d[k])):
            raise Fail(f"{where}/{k}: expected a list of strings")


def _route(r, version, where):
    allowed = {"dst", "gw"}
    if version == "1.1.0":
        allowed |= {"mtu", "advmss", "priority", "table", "scope"}
    _keys(r, allowed, where)
    if "dst" not in r:
        raise Fail(f"{where}: route without dst")
    _cidr(r["dst"], where + "/dst")
    if r.get("gw"):
        _ip(r["gw"], where + "/gw")


def check_add_result(res, version):
    """Raise Fail when an ADD result does not have the shape of `version`."""
    if not isinstance(res, dict):
        raise Fail(f"result is not an object: {short(res)}")
    if res.get("cniVersion") != version:
        raise Fail(f"result cniVersion {res.get('cniVersion')!r}, config asked for {version!r}")
    if version in OLD:
        _keys(res, {"cniVersion", "ip4", "ip6", "dns"}, "result")
        for fam in ("ip4", "ip6"):
            if fam in res:
                e = res[fam]
                _keys(e, {"ip", "gateway", "routes"}, "result/" + fam)
                _cidr(e.get("ip", ""), f"result/{fam}/ip")
                if (":" in e["ip"]) != (fam == "ip6"):
                    raise Fail(f"result/{fam}/ip {e['ip']} has the wrong family")
                for i, r in enumerate(e.get("routes") or []):
                    _route(r, version, f"result/{fam}/routes/{i}")
        if "dns" in res:
            _dns(res["dns"], "result/dns")
        return
    _keys(res, {"cniVersion", "interfaces", "ips", "routes", "dns"}, "result")
    ifkeys = {"name", "mac", "sandbox"}
    if version == "1.1.0":
        ifkeys |= {"mtu", "socketPath", "pciID"}
    ifs = res.get("interfaces", [])
    if not isinstance(ifs, list):
        raise Fail("result/interfaces is not a list")
    for i, itf in enumerate(ifs):
        _keys(itf, ifkeys, f"result/interfaces/{i}")
        if not itf.get("name"):
            raise Fail(f"result/interfaces/{i}: no name")
    for i, ip in enumerate(res.get("ips") or []):
        where = f"result/ips/{i}"
        allowed = {"address", "gateway", "interface"}
        if version in MID:
            allowed.add("version")
        _keys(ip, allowed, where)
        _cidr(ip.get("address", ""), where + "/address")
        if ip.get("gateway"):
            _ip(ip["gateway"], where + "/gateway")
        if version in MID:
            want = "6" if ":" in ip["address"] else "4"
            if ip.get("version") != want:
                raise Fail(f"{where}/version: expected {want!r}, got {ip.get('version')!r}")
        if "interface" in ip:
            idx = ip["interface"]
            if not isinstance(idx, int) or isinstance(idx, bool) or not (0 <= idx < len(ifs)):
                raise Fail(f"{where}/interface: {idx!r} is not an index into interfaces")
    for i, r in enumerate(res.get("routes") or []):
        _route(r, version, f"result/routes/{i}")
    if "dns" in res:
        _dns(res["dns"], "result/dns")


def check_error(obj, where="error"):
    if not isinstance(obj, dict):
        raise Fail(f"{where}: stdout is not a JSON object: {short(obj)}")
    if not isinstance(obj.get("code"), int) or isinstance(obj.get("code"), bool):
        raise Fail(f"{where}: no integer code: {short(obj)}")
    if not isinstance(obj.get("msg"), str):
        raise Fail(f"{where}: no msg string: {short(obj)}")
    _keys(obj, {"cniVersion", "code", "msg", "details"}, where)
