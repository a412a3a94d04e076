#!/usr/bin/env bash
# Reproducer (found while fuzzing): CNIArgs splits CNI_ARGS on ';' and '=' as Characters, so a separator
# followed by a combining mark (U+0301) is not a separator: "K8S_POD_NAME=a;<U+0301>FOO=1" is ONE pair
# (unknown key FOO hidden in a value, accepted), and "K8S_POD_NAME=<U+0301>x" is "not KEY=VALUE" (code 4).
# libcni/the Go plugins split bytes: the first is rejected (unknown key), the second accepted.
# Uses DEL with an empty netns and no ipam: nothing is touched. Exit 1 = bug present.
set -uo pipefail
bin="${1:-$(cd "$(dirname "$0")/../.." && pwd)/.build/release/macvlan}"
conf='{"cniVersion":"1.0.0","name":"n","type":"macvlan","master":"p0"}'
run() { echo "$conf" | CNI_COMMAND=DEL CNI_CONTAINERID=c1 CNI_IFNAME=eth0 CNI_NETNS= CNI_ARGS="$1" "$bin" 2>/dev/null; echo "exit $?"; }
bad=0
a=$(run "K8S_POD_NAME=a;$(printf '\xcc\x81')FOO=1"); echo "hidden unknown key: $a" | tr '\n' ' '; echo
case "$a" in *"exit 0"*) echo "BUG: unknown key after ';'+U+0301 accepted"; bad=1 ;; esac
b=$(run "K8S_POD_NAME=$(printf '\xcc\x81')x"); echo "combining after '=': $b" | tr '\n' ' '; echo
case "$b" in *"exit 0"*) ;; *) echo "BUG: valid KEY=VALUE rejected"; bad=1 ;; esac
exit $bad
