#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Pings over IPv4 and IPv6: dropped by an icmp-type rule, answered without.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip ping iptables ip6tables
topo_pair
rules_install "$S"

cat >"$T_TMP/drop.conf" <<'C'
drop name no-ping icmp-type echo-request
C
ntfw_start "$S" "$T_TMP/drop.conf"
assert_eq "IPv4 pings answered under no-ping" 0 "$(ping_count "$C" 10.213.0.1 3)"
assert_eq "IPv6 pings answered under no-ping" 0 "$(ping_count "$C" fd00:213::1 3)"
ntfw_stats
# Exactly the 6 echo requests; nothing else is an echo request.
assert_eq "no-ping counter" 6 "$(rule_pkts no-ping)"
assert_eq "dropped total" 6 "$(stat_total dropped)"
ntfw_stop

cat >"$T_TMP/accept.conf" <<'C'
drop name no-ssh proto tcp dport 22
C
ntfw_start "$S" "$T_TMP/accept.conf"
assert_eq "IPv4 pings answered without the rule" 3 "$(ping_count "$C" 10.213.0.1 3)"
assert_eq "IPv6 pings answered without the rule" 3 "$(ping_count "$C" fd00:213::1 3)"
ntfw_stats
# Requests in, replies out (the output hook is queued too), maybe ND.
assert_ge "default counter" 12 "$(rule_pkts default)"
assert_eq "no-ssh counter" 0 "$(rule_pkts no-ssh)"
assert_eq "dropped total" 0 "$(stat_total dropped)"
ntfw_stop
