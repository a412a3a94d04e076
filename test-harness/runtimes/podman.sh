#!/bin/bash
# Scenario 2: podman 4.3 with its CNI backend uses the plugin for a macvlan network.
# Parent: veth "rtm<id>" in the root namespace (no address, addrgenmode none), peer in a test
# namespace that also plays the LAN (10.78.0.1). Everything podman keeps goes to a temp dir,
# except libcni's result cache in /var/lib/cni/results (podman 4.3 has no setting for it):
# our entries there are removed, and the directories if they did not exist before.
# Usage: podman.sh PLUGIN
SCEN=podman
. "$(dirname "$0")/lib.sh"

rt_require "podman or runc" podman runc

T=$RT_TMP
NET=rtnet-$RT_ID
SUBNET=10.78.0
mkdir -p "$T/net.d" "$T/tmp" "$T/runroot" "$T/graphroot" "$T/ipam"
mk_plugin_dir "$T/plugins" "$PLUGIN" host-local || die setup "plugin dir"
mk_rootfs "$T/rootfs" || die setup "rootfs"
cat > "$T/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024","nproc=4096:4096"]
[network]
network_backend = "cni"
cni_plugin_dirs = ["$T/plugins"]
network_config_dir = "$T/net.d"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$T/events.log"
tmp_dir = "$T/tmp"
EOF
cat > "$T/storage.conf" <<EOF
[storage]
driver = "vfs"
runroot = "$T/runroot"
graphroot = "$T/graphroot"
EOF
export CONTAINERS_CONF=$T/containers.conf CONTAINERS_STORAGE_CONF=$T/storage.conf
# runc state under the temp dir too, for every runc call: podman hands its --runtime (a path here) to the
# cleanup command conmon runs when a container exits, but not --runtime-flag, so a wrapper carries --root
# (otherwise that late `runc delete` creates /run/runc, after this scenario has checked and cleaned up)
mkdir -p "$T/bin" "$T/runc"
printf '#!/bin/sh\nexec %s --root %s "$@"\n' "$(command -v runc)" "$T/runc" > "$T/bin/runc"
chmod +x "$T/bin/runc"
pm() { timeout 60 podman --runtime "$T/bin/runc" "$@"; }

guard_shared_dir /var/lib/cni "results networks" "results/$NET-*"

# parent: root-namespace veth without address, peer in PEER (the "LAN", with the gateway address)
mk_wire root || die setup "root-namespace veth and its peer namespace"
ip -n "$PEER" addr add $SUBNET.1/24 dev "$PEERIF" || die setup "peer addr"

# containers and the network are removed before the namespaces/veth (cleanup runs in reverse)
rt_defer "pm network rm -f '$NET'"
rt_defer "pm rm -a -f -t 0"

# --- network created by podman itself ---------------------------------------------------------
check network-create pm network create -d macvlan -o parent="$MASTER" --subnet $SUBNET.0/24 \
    --gateway $SUBNET.1 "$NET" || exit 1
CONF=$T/net.d/$NET.conflist
got=$(jq -r '[.cniVersion, .plugins[0].type, .plugins[0].master] | @tsv' "$CONF" 2>&1)
expect_eq network-config "$got" "$(printf '0.4.0\tmacvlan\t%s' "$MASTER")"
# keep host-local's leases in the temp dir (podman passes the file through to libcni unchanged)
jq --arg d "$T/ipam" '.plugins[0].ipam.dataDir = $d' "$CONF" > "$CONF.new" && mv "$CONF.new" "$CONF"
LEASES=$T/ipam/$NET

# --- one-shot container: ADD and DEL in one run ----------------------------------------------
if out=$(pm run --rm --network "$NET" --rootfs "$T/rootfs" /bin/sh -c 'ip -4 -o addr show dev eth0' 2>&1); then
    case $out in *"inet $SUBNET."*) pass run-rm/address;; *) fail run-rm/address "no $SUBNET.x in: $out";; esac
else
    fail run-rm/address "$out"
fi
expect_eq run-rm/lease-released "$(ls "$LEASES" 2>/dev/null | grep -c '^[0-9]')" 0

# --- two long-running containers, one with --ip and --mac-address ------------------------------
MAC1=02:00:0a:4e:00:32; IP1=$SUBNET.50
check run-c1 pm run -d --name "rtc1-$RT_ID" --network "$NET" --ip "$IP1" --mac-address "$MAC1" \
    --rootfs "$T/rootfs" /bin/sleep 300 || exit 1
check run-c2 pm run -d --name "rtc2-$RT_ID" --network "$NET" --rootfs "$T/rootfs" /bin/sleep 300 || exit 1
NS1=$(pm inspect "rtc1-$RT_ID" --format '{{.NetworkSettings.SandboxKey}}')
NS2=$(pm inspect "rtc2-$RT_ID" --format '{{.NetworkSettings.SandboxKey}}')
nsl() { local ns=$1; shift; nsenter --net="$ns" "$@"; }

j=$(nsl "$NS1" ip -j -d link show dev eth0 | jq -c '.[0]')
expect_eq c1/link "$(echo "$j" | jq -r '[.linkinfo.info_kind, .linkinfo.info_data.mode, .address] | @tsv')" \
    "$(printf 'macvlan\tbridge\t%s' "$MAC1")"
expect_eq c1/address "$(nsl "$NS1" ip -j addr show dev eth0 | jq -r '.[0].addr_info[] | select(.family=="inet") | "\(.local)/\(.prefixlen)"')" "$IP1/24"
expect_eq c1/default-route "$(nsl "$NS1" ip -j route show default | jq -r '.[0].gateway')" $SUBNET.1
expect_eq c1/podman-inspect "$(pm inspect "rtc1-$RT_ID" --format "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}} {{(index .NetworkSettings.Networks \"$NET\").MacAddress}}")" "$IP1 $MAC1"
IP2=$(nsl "$NS2" ip -j addr show dev eth0 | jq -r '.[0].addr_info[] | select(.family=="inet") | .local')
case $IP2 in $SUBNET.1|$IP1|"") fail c2/address "got '$IP2'";; $SUBNET.*) pass c2/address;; *) fail c2/address "got '$IP2'";; esac
expect_eq c2/link "$(nsl "$NS2" ip -j -d link show dev eth0 | jq -r '.[0].linkinfo.info_kind')" macvlan

if [ -f "$LEASES/$IP1" ] && [ -f "$LEASES/$IP2" ]; then pass leases; else fail leases "$(ls "$LEASES" 2>&1 | tr '\n' ' ')"; fi

check ping/c2-to-c1 pm exec "rtc2-$RT_ID" ping -c 1 -W 3 "$IP1"
check ping/c1-to-c2 pm exec "rtc1-$RT_ID" ping -c 1 -W 3 "$IP2"
check ping/c1-to-lan ip netns exec "$PEER" ping -c 1 -W 3 "$IP1"

# --- podman rm: DEL leaves nothing -------------------------------------------------------------
check rm pm rm -f -t 0 "rtc1-$RT_ID" "rtc2-$RT_ID"
left=""
for ns in "$NS1" "$NS2"; do [ -e "$ns" ] && left+="netns $ns; "; done
for n in $(ip -j -d link show | jq -r --arg m "$MASTER" '.[] | select(.linkinfo.info_kind=="macvlan") | .ifname'); do
    left+="root-ns macvlan $n; "
done
left+=$(plugin_links "$PEER" | sed 's/^/peer macvlan /')
leases=$(ls "$LEASES" 2>/dev/null | grep '^[0-9]')
[ -n "$leases" ] && left+="leases: $leases; "
cached=$(ls /var/lib/cni/results 2>/dev/null | grep "^$NET-")
[ -n "$cached" ] && left+="libcni cache: $cached; "
if [ -z "$left" ]; then pass rm-clean; else fail rm-clean "$left"; fi

rt_finish
