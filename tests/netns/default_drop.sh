#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# "default drop": everything not accepted by a rule is dropped; the
# replies of an accepted connection follow it (tests/netns/stateful.sh
# has the rest of the state model).
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip curl ping python3 iptables ip6tables
topo_pair
rules_install "$S"
http_serve "$S" :: 8080
http_serve "$S" :: 9000

cat >"$T_TMP/ntfw.conf" <<'C'
default drop
accept name nd  icmp-type nd-neighbor-solicit,nd-neighbor-advert
accept name web proto tcp dport 8080
C
ntfw_start "$S" "$T_TMP/ntfw.conf"

http_get "$C" http://10.213.0.1:8080/
assert_eq "curl IPv4 :8080 (accepted)" 0 "$HTTP_RC"
http_get "$C" "http://[fd00:213::1]:8080/"
assert_eq "curl IPv6 :8080 (accepted)" 0 "$HTTP_RC"
assert_eq "body" "hello from ntfw test" "$HTTP_BODY"
http_get "$C" http://10.213.0.1:9000/
assert_eq "curl IPv4 :9000 (default drop, 28 = timed out)" 28 "$HTTP_RC"
assert_eq "IPv4 pings answered" 0 "$(ping_count "$C" 10.213.0.1 3)"
assert_eq "IPv6 pings answered" 0 "$(ping_count "$C" fd00:213::1 3)"

ntfw_stats
# 6 echo requests + the :9000 SYNs, at least.
assert_ge "default counter" 8 "$(rule_pkts default)"
assert_eq "dropped total = default counter" "$(rule_pkts default)" "$(stat_total dropped)"
assert_ge "web counter" 8 "$(rule_pkts web)"
assert_eq "nothing accepted by default" 0 "$(stat_total accepted | awk -v w="$(rule_pkts web)" -v n="$(rule_pkts nd)" '{print $1 - w - n}')"
ntfw_stop
