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

# Every packet queued while the daemon runs gets a verdict: "queued minus
# verdicted" (packets that bypass accepted before the daemon was bound)
# stays the same from now to the end.  Each reading of the daemon's total
# is bracketed by readings of the queue rules' counters.
queued() {
	local t c sum=0
	for t in iptables ip6tables; do
		for c in NTFW-INPUT NTFW-OUTPUT NTFW-FORWARD; do
			sum=$((sum + $(ip netns exec "$S" $t -L $c -v -n -x |
				awk '/NFQUEUE/ {s += $1} END {print s + 0}')))
		done
	done
	echo "$sum"
}
# bracket: sets LO and HI, the bounds of "queued minus verdicted" now.
bracket() {
	local before after
	before=$(queued)
	ntfw_stats
	after=$(queued)
	LO=$((before - $(stat_total packets)))
	HI=$((after - $(stat_total packets)))
}
bracket
lo0=$LO hi0=$HI
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

bracket
[ "$LO" -le "$hi0" ] && [ "$lo0" -le "$HI" ] ||
	fail "packets lost: queued-verdicted was $lo0..$hi0, now $LO..$HI"
info "ok: queued minus verdicted stayed in $lo0..$hi0 / $LO..$HI"
# Every verdict reached the kernel (accepts go in batches): nothing waits.
for q in 0 1 2 3; do
	assert_eq "queue $q: packets waiting for a verdict" 0 \
		"$(grep "^ntfw: stats: queue $q " "$NTFW_LOG" | tail -n 1 | sed -n 's/.* waiting=\([0-9]*\).*/\1/p')"
done
assert_ge "web counter" 40 "$(rule_pkts web)"
assert_eq "nothing dropped" 0 "$(stat_total dropped)"
ntfw_stop
