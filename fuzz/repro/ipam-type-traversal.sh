#!/usr/bin/env bash
# Reproducer (found while fuzzing): "ipam.type" is checked with Character semantics (String.contains("/")),
# so a '/' followed by a combining mark (U+0301) is not seen, and a type like "../<U+0301>evil" passes the
# bare-name check; DelegatedPlugin.find then executes a file OUTSIDE the CNI_PATH directories.
# DEL needs no namespace (empty CNI_NETNS is allowed), so this touches nothing but a temp dir.
# Exit 1 = bug present (the file outside CNI_PATH ran), 0 = fixed.
set -euo pipefail
bin="${1:-$(cd "$(dirname "$0")/../.." && pwd)/.build/release/macvlan}"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/cni"
evil="$tmp/$(printf '\xcc\x81')evil"              # <tmp>/<U+0301>evil, NOT in CNI_PATH=<tmp>/cni
printf '#!/bin/sh\ntouch %s/ran\necho "{}"\n' "$tmp" > "$evil"; chmod +x "$evil"
conf=$(printf '{"cniVersion":"1.0.0","name":"n","type":"macvlan","master":"p0","ipam":{"type":"../\\u0301evil"}}')
out=$(echo "$conf" | CNI_COMMAND=DEL CNI_CONTAINERID=c1 CNI_IFNAME=eth0 CNI_NETNS= CNI_PATH="$tmp/cni" "$bin" 2>/dev/null || true)
echo "plugin said: ${out:-<nothing>}"
if [ -e "$tmp/ran" ]; then echo "BUG: executed $evil (outside CNI_PATH)"; exit 1; fi
echo "ok: the type was rejected or not found"
