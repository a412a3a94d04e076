#!/bin/bash
# Scenario 4: "ipam": {"type": "dhcp"} through the reference dhcp daemon, with dnsmasq serving
# from a namespace on the far side of the parent veth:
#   SRV netns: rtp<id> 10.80.0.1/24 + dnsmasq  <-veth->  HOST netns: rtm<id> (master, plugin runs here)
#   CNT netns: eth0 (macvlan on rtm<id>) gets its address by DHCP.
# ADD with a MAC from CNI_ARGS that dnsmasq has a reservation for (so the MAC must be set before
# DHCP), and one plain ADD from the dynamic range; CHECK; DEL must release the lease: dnsmasq
# logs DHCPRELEASE and drops the lease from its lease file.
# Usage: dhcp.sh PLUGIN
SCEN=dhcp
. "$(dirname "$0")/lib.sh"

rt_require dnsmasq dnsmasq
[ -x /usr/lib/cni/dhcp ] || { skip all "/usr/lib/cni/dhcp missing"; exit 0; }

T=$RT_TMP
mk_plugin_dir "$T/plugins" "$PLUGIN" dhcp || die setup "plugin dir"
mk_wire || die setup "namespaces and parent veth"
SRV=$PEER; SRVIF=$PEERIF
ip -n "$SRV" addr add 10.80.0.1/24 dev "$SRVIF" || die setup "server address"

RESMAC=02:00:0a:50:00:4d; RESIP=10.80.0.77
touch "$T/dnsmasq.leases"
ip netns exec "$SRV" dnsmasq --conf-file=/dev/null --keep-in-foreground --port=0 --bind-interfaces \
    --interface="$SRVIF" --except-interface=lo --user=root --group=root \
    --dhcp-range=10.80.0.50,10.80.0.60,255.255.255.0,2m --dhcp-authoritative \
    --dhcp-host="$RESMAC,$RESIP" --dhcp-leasefile="$T/dnsmasq.leases" \
    --log-dhcp --log-facility="$T/dnsmasq.log" --pid-file= > "$T/dnsmasq.out" 2>&1 &
DNSMASQ=$!
rt_defer "kill_pid $DNSMASQ"

SOCK=$T/dhcp.sock
nsenter --net="/run/netns/$HOST" /usr/lib/cni/dhcp daemon -socketpath "$SOCK" -pidfile "$T/dhcp.pid" \
    > "$T/dhcpd.log" 2>&1 &
DHCPD=$!
rt_defer "kill_pid $DHCPD"

if wait_while_alive 60 "$DHCPD" test -S "$SOCK" && kill -0 "$DNSMASQ" 2>/dev/null; then pass daemons-start
else die daemons-start "dnsmasq: $(tail -n 2 "$T/dnsmasq.out" "$T/dnsmasq.log" 2>/dev/null) dhcp: $(tail -n 2 "$T/dhcpd.log")"; fi

CONF=$(jq -n -c --arg m "$MASTER" --arg s "$SOCK" \
    '{cniVersion:"1.0.0", name:"rtdhcp", type:"macvlan", master:$m, mode:"bridge",
      ipam:{type:"dhcp", daemonSocketPath:$s}}')

# plugin CMD NETNS ID [CNI_ARGS] [stdin]  (runs in HOST)
plugin() {
    printf '%s' "${5:-$CONF}" | timeout 60 ip netns exec "$HOST" env CNI_COMMAND="$1" CNI_NETNS="$2" \
        CNI_CONTAINERID="$3" CNI_IFNAME=eth0 CNI_ARGS="${4:-}" CNI_PATH="$T/plugins" "$T/plugins/macvlan"
}

# run_case NAME CNI_ARGS WANT_IP_REGEX
run_case() {
    local c=$1 args=$2 want=$3 cnt res id=rtdhcp-$1-$RT_ID
    mk_ns cnt "c-$c" || { fail "$c/setup" netns; return; }
    local nsp=/run/netns/$cnt t0=$SECONDS
    if ! res=$(plugin ADD "$nsp" "$id" "$args" 2>"$T/$c.err"); then
        fail "$c/add" "$res $(tail -n 2 "$T/$c.err")"; return
    fi
    pass "$c/add"
    echo "# runtimes/$SCEN/$c: DHCP ADD took $((SECONDS - t0)) s" >&2
    local ip mac
    ip=$(echo "$res" | jq -r '.ips[0].address // empty')
    mac=$(link_json "$cnt" eth0 | jq -r '.address')
    if [[ ${ip%/*} =~ ^($want)$ ]]; then pass "$c/result-ip"; else fail "$c/result-ip" "got '$ip', want $want"; fi
    expect_eq "$c/address" "$(addrs "$cnt" eth0)" "$ip"
    expect_eq "$c/result-mac" "$(echo "$res" | jq -r '.interfaces[0].mac')" "$mac"
    if grep -qi " $mac ${ip%/*} " "$T/dnsmasq.leases"; then pass "$c/server-lease"
    else fail "$c/server-lease" "no '$mac ${ip%/*}' in $(tr '\n' '|' < "$T/dnsmasq.leases")"; fi
    check "$c/ping-server" ip netns exec "$cnt" ping -c 1 -W 3 10.80.0.1
    local prev; prev=$(jq -c --argjson r "$res" '. + {prevResult: $r}' <<<"$CONF")
    check "$c/check" plugin CHECK "$nsp" "$id" "$args" "$prev"
    check "$c/del" plugin DEL "$nsp" "$id" "$args" "$prev"
    expect_eq "$c/del-link-gone" "$(plugin_links "$cnt")" ""
    # release: dnsmasq logs DHCPRELEASE for the address and drops it from its lease file
    # dnsmasq handles the release when it gets to run: a state to wait for, not a deadline
    if wait_while_alive 30 "$DNSMASQ" grep -qi "DHCPRELEASE.* ${ip%/*} $mac" "$T/dnsmasq.log"; then pass "$c/del-dhcprelease"
    else fail "$c/del-dhcprelease" "no DHCPRELEASE of ${ip%/*} $mac in dnsmasq.log"; fi
    if wait_while_alive 30 "$DNSMASQ" sh -c "! grep -qi ' $mac ' '$T/dnsmasq.leases'"; then pass "$c/del-server-lease-gone"
    else fail "$c/del-server-lease-gone" "$(grep -i " $mac " "$T/dnsmasq.leases")"; fi
    check "$c/del-again" plugin DEL "$nsp" "$id" "$args"
}

run_case reserved "IgnoreUnknown=1;MAC=$RESMAC" "${RESIP//./\\.}"
run_case dynamic "" '10\.80\.0\.(5[0-9]|60)'

rt_finish
