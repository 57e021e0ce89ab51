#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A SYN flood from random sources (20000 SYNs, hping3 --rand-source) with
# "flows max 4096": the resident size stays within its baseline plus the
# table's bound (4096 flows of about 560 bytes, ntfw.conf(5)) and a margin,
# the table stays at its bound, and a legitimate client still connects and
# fetches a page during the flood.  (flow_bound.sh checks the eviction
# counters on a small table.)
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip curl hping3 iptables ip6tables
topo_pair
ip netns exec "$S" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.s0.rp_filter=0
rules_install "$S"
http_serve "$S" 0.0.0.0 8080
MAX=4096
printf 'flows max %s\naccept name web proto tcp dport 8080\n' $MAX >"$T_TMP/ntfw.conf"
ntfw_start "$S" "$T_TMP/ntfw.conf"
rss() { awk '/VmRSS/ {print $2}' "/proc/$NTFW_PID/status"; }
http_get "$C" http://10.213.0.1:8080/
assert_eq "before the flood: page fetched" "0 hello from ntfw test" "$HTTP_RC $HTTP_BODY"
rss0=$(rss)
bg "$T_TMP/hping.log" ip netns exec "$C" hping3 -q -S --rand-source -p 8080 \
	-c 20000 -i u100 10.213.0.1
flood=$BG_PID
sleep 0.5
ok=0 tries=0 rss_max=$rss0
while kill -0 "$flood" 2>/dev/null && [ "$tries" -lt 40 ]; do
	http_get "$C" http://10.213.0.1:8080/ --max-time 2
	[ "$HTTP_RC $HTTP_BODY" = "0 hello from ntfw test" ] && ok=$((ok + 1))
	tries=$((tries + 1))
	r=$(rss)
	[ "$r" -le "$rss_max" ] || rss_max=$r
done
wait "$flood"
r=$(rss)
[ "$r" -le "$rss_max" ] || rss_max=$r
ntfw_stats
info "$(grep '^ntfw: stats: flows ' "$NTFW_LOG" | tail -n 1)"
assert_ge "fetches made during the flood" 2 "$tries"
assert_eq "fetches that succeeded during the flood" "$tries" "$ok"
assert_eq "flows active at the bound" $MAX "$(stat_field flows active)"
assert_ge "flows created (spoofed sources)" 15000 "$(stat_field flows created)"
bound=$((MAX * 560 / 1024 + 1024))
info "resident: $rss0 kB before, at most $rss_max kB during (bound +$bound kB)"
[ $((rss_max - rss0)) -le "$bound" ] || fail "resident size grew by $((rss_max - rss0)) kB"
ntfw_stop
