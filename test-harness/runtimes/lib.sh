# Shared helpers for the runtime scenarios (sourced by libcni.sh, podman.sh, containerd.sh, dhcp.sh).
# A scenario sets SCEN before sourcing, receives the plugin binary as $1, prints
# "PASS|FAIL|SKIP runtimes/$SCEN/<case>[: reason]" lines and exits 1 if anything failed.
#
# Safety: every namespace is named "$RT_NS-..." (unique per run), every root-namespace link
# "rtm<hex>..." and everything is undone by the EXIT trap, also on SIGTERM/SIGINT.

set -u
RT_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RT_ID=$(printf '%04x' $(( (RANDOM ^ $$) & 0xffff )))
RT_NS="cnirt-$$-$RT_ID"          # netns name prefix
RT_FAILED=0
RT_CLEANUP=()                      # commands, run in reverse order on exit
RT_TMP=$(mktemp -d "/tmp/cnirt-${SCEN:-x}.XXXXXX")
# last step of the cleanup: unmount whatever a runtime left mounted below RT_TMP, then remove it
RT_CLEANUP+=("findmnt -rn -o TARGET | grep '^$RT_TMP/' | sort -r | xargs -r -n1 umount -l; rm -rf --one-file-system '$RT_TMP'")

rt_defer() { RT_CLEANUP+=("$*"); }

rt_cleanup() {
    local i
    trap - EXIT INT TERM
    for (( i=${#RT_CLEANUP[@]}-1; i>=0; i-- )); do
        eval "${RT_CLEANUP[$i]}" >/dev/null 2>&1 || true
    done
}
trap 'rt_cleanup' EXIT
trap 'echo "FAIL runtimes/$SCEN/interrupted: signal received"; exit 130' INT TERM

pass() { echo "PASS runtimes/$SCEN/$1"; }
skip() { echo "SKIP runtimes/$SCEN/$1: $2"; }
fail() { echo "FAIL runtimes/$SCEN/$1: $(printf '%s' "$2" | tr '\n' ' ' | cut -c1-400)"; RT_FAILED=1; }

# check NAME CMD...: PASS if CMD succeeds, FAIL with its last output lines otherwise.
check() {
    local name=$1 out; shift
    if out=$("$@" 2>&1); then pass "$name"; return 0; fi
    fail "$name" "$(printf '%s' "$out" | tail -n 4)"
    return 1
}

# expect_eq NAME GOT WANT
expect_eq() {
    if [ "$2" == "$3" ]; then pass "$1"; return 0; fi
    fail "$1" "got '$2', want '$3'"; return 1
}

# die NAME REASON: fatal setup failure; the trap cleans up.
die() { fail "$1" "$2"; exit 1; }

rt_finish() { exit "$RT_FAILED"; }

# the plugin under test: the scenario's argument
PLUGIN=$(readlink -f "${1:?usage: $SCEN.sh PLUGIN}")

# rt_require WHAT CMD...: the whole scenario is SKIP unless every CMD is there
rt_require() {
    local what=$1 c; shift
    for c in "$@"; do command -v "$c" >/dev/null || { skip all "$what not installed"; exit 0; }; done
}

# /var/lib/cni and /run/cni are shared with anything else on the machine: remove only our own
# entries (glob patterns relative to DIR), then, if DIR did not exist before, rmdir the given
# subdirectories and DIR itself (rmdir: only if empty).
# guard_shared_dir DIR "SUBDIR..." PATTERN...
guard_shared_dir() {
    local d=$1 subs=$2 p s; shift 2
    if [ ! -e "$d" ]; then              # registered first = runs last
        local cmd=""
        for s in $subs; do cmd+="rmdir '$d/$s' 2>/dev/null; "; done
        rt_defer "${cmd}rmdir '$d' 2>/dev/null"
    fi
    for p in "$@"; do rt_defer "rm -rf $d/$p"; done
}

# Topology (the test kit, test-harness/cnitest) ----------------------------------------------
RT_KIT=(python3 -S "$RT_HERE/../cnitest")   # -S: standard library only, no site-packages start-up cost
RT_KIND=$("${RT_KIT[@]}" profile macvlan kind)          # the link kind the plugin creates
RT_TYPE=$("${RT_KIT[@]}" profile macvlan conflist_type) # its "type" in a network config

# mk_wire [root]: the plugin's parent, a veth MASTER <-> PEERIF whose far end sits in namespace PEER (the
# LAN); MASTER in a namespace HOST, or with "root" in the root namespace (for runtimes that run plugins
# there). Both ends up, no IPv6 link-local address on the master. Removed on exit.
# Sets HOST (empty with root), PEER, MASTER, PEERIF.
mk_wire() {
    local spec="{\"containers\": 0, \"far\": true, \"master_prefix\": \"rtm$RT_ID\", \"master_ipv6_ll\": false${1:+, \"host\": \"$1\"}}"
    local out H="" F=""
    rt_defer "${RT_KIT[*]} down '$RT_NS' --spec '$spec'"
    out=$("${RT_KIT[@]}" up "$RT_NS" --spec "$spec") || return 1
    eval "$out"                        # H, F, MASTER, PEER (the peer interface)
    HOST=$H; PEERIF=$PEER; PEER=$F
}

# mk_ns VAR SUFFIX -> creates netns "$RT_NS-SUFFIX" with lo up (deleted on exit), stores its name in VAR.
# (Not via $(...): the cleanup registration must happen in this shell.)
mk_ns() {
    local n="$RT_NS-$2"
    rt_defer "ip netns del '$n'"
    "${RT_KIT[@]}" netns-add "$n" || return 1
    printf -v "$1" '%s' "$n"
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds (bounded)
wait_for() {
    local limit=$(( $1 * 10 )) i; shift
    for (( i=0; i<limit; i++ )); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# wait_while_alive SECONDS PID CMD...: poll CMD until it succeeds, but give up as soon as PID (the process
# that is to bring the state about) has died; SECONDS is only the bound for a process that hangs. Waits
# for another program's progress must not have a deadline of their own that a loaded machine can overrun.
wait_while_alive() {
    local limit=$(( $1 * 10 )) pid=$2 i; shift 2
    for (( i=0; i<limit; i++ )); do
        "$@" >/dev/null 2>&1 && return 0
        kill -0 "$pid" 2>/dev/null || { "$@" >/dev/null 2>&1; return; }
        sleep 0.1
    done
    return 1
}

# Processes: only those started here, by PID ------------------------------------------------
# kill_pid PID: TERM, wait up to 5 s, then KILL and wait until it is gone (so the leftovers check that
# follows does not see a process that is merely slow to die on a loaded machine)
kill_pid() {
    local p=$1 i
    [ -n "$p" ] || return 0
    kill -TERM "$p" 2>/dev/null || return 0
    for (( i=0; i<50; i++ )); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || return 0
    for (( i=0; i<100; i++ )); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
}

# Inspection: the kit's `ip -j` oracle ---------------------------------------------------------
# link_json NS IF -> `ip -j -d link show` object (or empty)
link_json() { "${RT_KIT[@]}" link "$1" "$2" 2>/dev/null; }
# addrs NS IF -> "a.b.c.d/nn" lines (global scope)
addrs() { "${RT_KIT[@]}" addrs "$1" "$2" 2>/dev/null; }
# plugin_links NS -> names of the links of the plugin's kind in a namespace
plugin_links() { "${RT_KIT[@]}" links "$1" --kind "$RT_KIND" 2>/dev/null; }

# Plugin dir: the plugin under test under its type name, plus copies of reference plugins.
# mk_plugin_dir DIR PLUGIN [ref-plugin...]
mk_plugin_dir() {
    local d=$1 p=$2 r; shift 2
    mkdir -p "$d" && cp "$p" "$d/$RT_TYPE" || return 1
    for r in "$@"; do cp "/usr/lib/cni/$r" "$d/$r" || return 1; done
}

# mk_rootfs DIR: minimal busybox root filesystem (for podman --rootfs and ctr --rootfs)
mk_rootfs() {
    local d=$1 a
    mkdir -p "$d/bin" "$d/sbin" "$d/usr/bin" "$d/usr/sbin" "$d/proc" "$d/sys" "$d/dev" "$d/etc" "$d/tmp" "$d/run" || return 1
    cp /bin/busybox "$d/bin/busybox" || return 1
    for a in $(/bin/busybox --list-full); do
        [ -e "$d/$a" ] || ln -s "$(printf '%s' "${a%/*}" | sed 's|[^/]*|..|g')/bin/busybox" "$d/$a"
    done
    echo "root:x:0:0:root:/root:/bin/sh" > "$d/etc/passwd"
    echo "root:x:0:" > "$d/etc/group"
    touch "$d/etc/resolv.conf" "$d/etc/hosts" "$d/etc/hostname"
}
