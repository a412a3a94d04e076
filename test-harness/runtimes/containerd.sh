#!/bin/bash
# Scenario 3: containerd 1.6 + `ctr run --rm --cni --rootfs`: ADD with CNI_NETNS=/proc/PID/ns/net,
# and, once the task has exited, DEL with an empty CNI_NETNS.
# containerd runs with its own config/root/state/socket in a temp dir, inside the test "host"
# netns (nsenter, not `ip netns exec`: that remounts /sys and runc then finds no cgroups) and a
# private mount namespace in which our CNI dirs are bind-mounted over /etc/cni/net.d,
# /opt/cni/bin (on a tmpfs over /opt) and /usr/lib/cni, and tmpfs covers /run and /var/lib
# -- never globally.
# The macvlan in the plugin dir is a logging wrapper that execs the copy of PLUGIN by its real
# temp path (not a mounted-over path), so the test can see the env of ADD and DEL.
# Usage: containerd.sh PLUGIN
SCEN=containerd
. "$(dirname "$0")/lib.sh"

rt_require containerd containerd ctr

T=$RT_TMP
CID=rtctr-$RT_ID
NET=rtctr-$RT_ID
mkdir -p "$T/net.d" "$T/ipam" "$T/plugins"
mk_rootfs "$T/rootfs" || die setup rootfs
mk_plugin_dir "$T/plugins" "$PLUGIN" host-local loopback || die setup "plugin dir"
mv "$T/plugins/macvlan" "$T/plugins/macvlan.real"
cat > "$T/plugins/macvlan" <<EOF
#!/bin/sh
{ env | grep '^CNI_' | sort | tr '\n' ' '; echo; } >> "$T/calls.log"
exec "$T/plugins/macvlan.real" "\$@"
EOF
chmod +x "$T/plugins/macvlan"

mk_wire || die setup "namespaces and parent veth"
ip -n "$PEER" addr add 10.79.0.1/24 dev "$PEERIF"

jq -n --arg n "$NET" --arg m "$MASTER" --arg d "$T/ipam" '{cniVersion:"1.0.0", name:$n, plugins:[
    {type:"macvlan", master:$m, ipam:{type:"host-local", dataDir:$d,
     ranges:[[{subnet:"10.79.0.0/24", rangeStart:"10.79.0.10", rangeEnd:"10.79.0.20", gateway:"10.79.0.1"}]]}}]}' \
    > "$T/net.d/10-$NET.conflist"

cat > "$T/containerd.toml" <<EOF
version = 2
root = "$T/root"
state = "$T/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$T/containerd.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$T/opt"
EOF

# In the private mount namespace tmpfs also covers /run (runc state /run/containerd/runc, fifos) and
# /var/lib (ctr's libcni cache /var/lib/cni), so nothing of containerd's lands outside the temp dir.
# -n: do not record the mounts in /run/mount/utab.
# setsid/nsenter/unshare/bash all exec, so $! is containerd's PID. Its own session keeps it out of
# a Ctrl-C/timeout signal to our process group: the cleanup stops the task first, then containerd.
setsid nsenter --net="/run/netns/$HOST" unshare -m --propagation private bash -c "
    mount -n -t tmpfs tmpfs /run && mount -n -t tmpfs tmpfs /var/lib &&
    mount -n --bind '$T/net.d' /etc/cni/net.d &&
    mount -n -t tmpfs tmpfs /opt && mkdir -p /opt/cni/bin && mount -n --bind '$T/plugins' /opt/cni/bin &&
    mount -n --bind '$T/plugins' /usr/lib/cni &&
    exec containerd --config '$T/containerd.toml'" > "$T/containerd.log" 2>&1 &
CDPID=$!
rt_defer "kill_pid $CDPID; wait $CDPID"
# the shims outlive containerd; make sure ours go
# (a shim is recognised by our private socket path in its arguments; killed by PID)
rt_defer "for p in \$(ps -eo pid=,args= | awk -v a='$T/containerd.sock' '/containerd-shim/ && index(\$0, a) {print \$1}'); do kill_pid \$p; done"
ctr_() { timeout 30 nsenter --mount="/proc/$CDPID/ns/mnt" --net="/run/netns/$HOST" ctr -a "$T/containerd.sock" "$@"; }
rt_defer "ctr_ task kill -s KILL '$CID'; sleep 0.2; ctr_ task rm -f '$CID'; ctr_ container rm '$CID'"

t0=$SECONDS
if wait_while_alive 120 "$CDPID" test -S "$T/containerd.sock" && wait_while_alive 120 "$CDPID" ctr_ version &&
   [ "$(cat "/proc/$CDPID/comm" 2>/dev/null)" = containerd ]; then pass containerd-start
    echo "# runtimes/$SCEN: containerd serving after $((SECONDS - t0)) s" >&2
else die containerd-start "$(tail -n 3 "$T/containerd.log")"; fi

# the container prints its address, then waits (bounded) for $T/rootfs/tmp/stop
nsenter --mount="/proc/$CDPID/ns/mnt" --net="/run/netns/$HOST" timeout 90 \
    ctr -a "$T/containerd.sock" run --rm --cni --rootfs "$T/rootfs" "$CID" /bin/sh -c \
    'ip -o -4 addr show dev eth0; i=0; while [ ! -e /tmp/stop ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; echo done' \
    > "$T/ctr.out" 2>&1 &
CTRPID=$!
rt_defer "kill_pid $CTRPID"

task_pid() { ctr_ task ls 2>/dev/null | awk -v c="$CID" '$1==c && $3=="RUNNING" {print $2}'; }
# until the container prints its address or `ctr run` gives up (its own bound is 90 s)
t0=$SECONDS
if wait_while_alive 120 "$CTRPID" grep -q inet "$T/ctr.out"; then pass task-running
    echo "# runtimes/$SCEN: task running after $((SECONDS - t0)) s" >&2
else
    die task-running "$(tail -n 3 "$T/ctr.out" | tr '\n' ' ') $(tail -n 3 "$T/containerd.log")"
fi
TPID=$(task_pid)
NSP=/proc/$TPID/ns/net

# --- ADD ------------------------------------------------------------------------------------
add=$(grep 'CNI_COMMAND=ADD' "$T/calls.log" | head -n 1)
case $add in *"CNI_NETNS=$NSP "*) pass add/netns-path;; *) fail add/netns-path "want $NSP in: $add";; esac
j=$(nsenter --net="$NSP" ip -j -d link show dev eth0 | jq -c '.[0]')
expect_eq add/link "$(echo "$j" | jq -r '[.linkinfo.info_kind, .linkinfo.info_data.mode, (.flags|index("UP")!=null)] | @tsv')" \
    "$(printf 'macvlan\tbridge\ttrue')"
ip=$(nsenter --net="$NSP" ip -j addr show dev eth0 | jq -r '.[0].addr_info[] | select(.family=="inet") | .local')
case $ip in 10.79.0.1[0-9]|10.79.0.20) pass add/address;; *) fail add/address "got '$ip'";; esac
case $(cat "$T/ctr.out") in *"inet $ip/24"*) pass add/address-seen-in-container;;
    *) fail add/address-seen-in-container "$(head -n 2 "$T/ctr.out")";; esac
if [ -n "$ip" ] && [ -f "$T/ipam/$NET/$ip" ]; then pass add/lease; else fail add/lease "no lease for '$ip'"; fi
check add/ping-lan ip netns exec "$PEER" ping -c 1 -W 3 "$ip"

# --- task exits -> ctr sends DEL with an empty CNI_NETNS --------------------------------------
touch "$T/rootfs/tmp/stop"
if wait_for 60 sh -c "! kill -0 $CTRPID 2>/dev/null"; then
    wait "$CTRPID"; rc=$?
    expect_eq ctr-exit "$rc" 0 || tail -n 3 "$T/ctr.out" | sed 's/^/    /'
else
    fail ctr-exit "ctr run did not return within 60 s"
fi
del=$(grep 'CNI_COMMAND=DEL' "$T/calls.log" | head -n 1)
case $del in *"CNI_NETNS= "*) pass del/empty-netns;; "") fail del/empty-netns "no DEL call";; *) fail del/empty-netns "$del";; esac
leases=$(ls "$T/ipam/$NET" 2>/dev/null | grep '^[0-9]')
expect_eq del/lease-released "$leases" ""
expect_eq del/no-macvlan-in-host "$(plugin_links "$HOST")" ""
if [ -e "$NSP" ]; then fail del/container-gone "$NSP still exists"; else pass del/container-gone; fi

rt_finish
