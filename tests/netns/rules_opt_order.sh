#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# ntfw-rules takes its options before or after the command
# ("ntfw-rules install -q 3" as "ntfw-rules -q 3 install"), in a namespace.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip iptables
[ -x "$NTFW_RULES" ] || skip "$NTFW_RULES is not built"
ns_new N
rules() {
	RC=0
	OUT=$(ip netns exec "$N" "$NTFW_RULES" "$@" 2>&1) || RC=$?
}
rules install -q 3 -b iptables
assert_eq "install -q 3 -b iptables: exit" 0 "$RC"
assert_eq "queue installed" 1 \
	"$(ip netns exec "$N" iptables-save | grep -c -- '-A NTFW-INPUT .*--queue-num 3 ')"
rules status -b iptables
assert_eq "status -b iptables: exit" 0 "$RC"
assert_eq "status names queue 3" "queue: 3" "$(echo "$OUT" | grep '^queue:')"
rules -b iptables remove
assert_eq "-b iptables remove: exit" 0 "$RC"
rules -q 7 install -b iptables
assert_eq "options on both sides: exit" 0 "$RC"
assert_eq "queue installed" 1 \
	"$(ip netns exec "$N" iptables-save | grep -c -- '-A NTFW-INPUT .*--queue-num 7 ')"
rules remove
assert_eq "remove: exit" 0 "$RC"
assert_eq "rules left" 0 "$(ip netns exec "$N" iptables-save | grep -c NTFW)"
# Usage errors stay usage errors, wherever they are.
rules install remove
assert_eq "two commands: exit" 2 "$RC"
rules install -x
assert_eq "unknown option after the command: exit" 2 "$RC"
rules install -q
assert_eq "-q without its value: exit" 2 "$RC"
assert_eq "-q without its value: message" \
	"ntfw-rules: option -q needs an argument" "$(echo "$OUT" | head -1)"
rules
assert_eq "no command: exit" 2 "$RC"
