#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# "queue 0-3": four workers; the kernel spreads flows over the queues and
# every packet gets its verdict.  A second daemon on a bound queue refuses
# to start and says why.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip curl ping python3 iptables ip6tables
topo_pair
for a in 3 4 5; do ip -n "$C" addr add 10.213.0.$a/24 dev c0; done
rules_install "$S" -q 0-3
http_serve "$S" :: 8080

cat >"$T_TMP/ntfw.conf" <<'C'
queue 0-3
drop   name closed proto tcp dport 9000
accept name web    proto tcp dport 8080
C
ntfw_start "$S" "$T_TMP/ntfw.conf"

verdicts_mark "$S"
grep -q '^ntfw: ready: queue 0-3, 2 rules, default accept$' "$NTFW_LOG" ||
	fail "ready line: $(grep ready "$NTFW_LOG")"

ok=0
for a in 2 3 4 5; do
	for i in 1 2; do
		http_get "$C" http://10.213.0.1:8080/ --interface 10.213.0.$a
		[ "$HTTP_RC" = 0 ] && ok=$((ok + 1))
	done
done
assert_eq "fetches answered from 4 addresses" 8 "$ok"
assert_eq "pings answered" 3 "$(ping_count "$C" 10.213.0.1 3)"

# The same queues again: the kernel refuses, and ntfw says so.
out=$(ip netns exec "$S" "$NTFW" -d -c "$T_TMP/ntfw.conf" 2>&1)
assert_eq "second daemon exit status" 1 "$?"
assert_eq "second daemon message" "ntfw: queue 0 is bound by another program" "$out"

assert_verdicted "$S" 0 1 2 3
assert_ge "web counter" 40 "$(rule_pkts web)"
assert_eq "nothing dropped" 0 "$(stat_total dropped)"
ntfw_stop
