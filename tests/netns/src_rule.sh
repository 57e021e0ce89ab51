#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A src rule blocks one client address and not another.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip curl ping python3 iptables ip6tables
topo_pair
ip -n "$C" addr add 10.213.0.3/24 dev c0
rules_install "$S"
http_serve "$S" 0.0.0.0 8080

cat >"$T_TMP/ntfw.conf" <<'C'
drop name blocked src 10.213.0.3
C
ntfw_start "$S" "$T_TMP/ntfw.conf"

http_get "$C" http://10.213.0.1:8080/ --interface 10.213.0.2
assert_eq "curl from 10.213.0.2" 0 "$HTTP_RC"
assert_eq "body for 10.213.0.2" "hello from ntfw test" "$HTTP_BODY"
http_get "$C" http://10.213.0.1:8080/ --interface 10.213.0.3
assert_eq "curl from 10.213.0.3 (28 = timed out)" 28 "$HTTP_RC"
assert_eq "pings from 10.213.0.2" 2 "$(ip netns exec "$C" ping -n -q -c 2 -i 0.2 -W 1 -I 10.213.0.2 10.213.0.1 | sed -n 's/.* \([0-9]*\) received.*/\1/p')"
assert_eq "pings from 10.213.0.3" 0 "$(ip netns exec "$C" ping -n -q -c 2 -i 0.2 -W 1 -I 10.213.0.3 10.213.0.1 | sed -n 's/.* \([0-9]*\) received.*/\1/p')"

ntfw_stats
# SYN + retransmissions, and the 2 pings: all from .3, all dropped.
assert_ge "blocked counter" 4 "$(rule_pkts blocked)"
assert_eq "dropped total = blocked counter" "$(rule_pkts blocked)" "$(stat_total dropped)"
assert_ge "default counter (client .2 both ways)" 10 "$(rule_pkts default)"
ntfw_stop
