#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A SYN flood from random sources (hping3 --rand-source) does not grow the
# flow table past "flows max": the oldest idle flows are evicted and counted.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip hping3 iptables ip6tables
topo_pair
# Spoofed sources have no route back: let them in anyway (this namespace's
# own setting, not the host's).
ip netns exec "$S" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.s0.rp_filter=0
rules_install "$S"

cat >"$T_TMP/ntfw.conf" <<'C'
flows max 200
C
ntfw_start "$S" "$T_TMP/ntfw.conf"
rss0=$(awk '/VmRSS/ {print $2}' "/proc/$NTFW_PID/status")
ip netns exec "$C" hping3 -q -S --rand-source -p 80 -c 3000 -i u200 \
	10.213.0.1 >"$T_TMP/hping.log" 2>&1
ntfw_stats
line=$(grep '^ntfw: stats: flows ' "$NTFW_LOG" | tail -n 1)
info "$line"
active=$(echo "$line" | sed -n 's/.* active=\([0-9]*\).*/\1/p')
created=$(echo "$line" | sed -n 's/.* created=\([0-9]*\).*/\1/p')
evicted=$(echo "$line" | sed -n 's/.* evicted=\([0-9]*\).*/\1/p')
assert_eq "flows active at the bound" 200 "$active"
# Some random sources are martians (0/8, 127/8, multicast) that the
# kernel drops before the hooks.
assert_ge "flows created (one per spoofed source)" 2500 "$created"
assert_eq "evicted = created - active" "$((created - active))" "$evicted"
rss1=$(awk '/VmRSS/ {print $2}' "/proc/$NTFW_PID/status")
info "resident size: $rss0 kB before, $rss1 kB after"
# 200 flows of at most 512 bytes: growth is bounded by the pool.
[ $((rss1 - rss0)) -lt 1024 ] || fail "resident size grew by $((rss1 - rss0)) kB"
ntfw_stop
