#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# curl to an HTTP server: answered on an accepted port, timing out on a
# dropped one, over IPv4 and IPv6.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip curl python3 iptables ip6tables
topo_pair
rules_install "$S"
http_serve "$S" :: 8080
http_serve "$S" :: 9000

cat >"$T_TMP/ntfw.conf" <<'C'
accept name web    proto tcp dport 8080
drop   name closed proto tcp dport 9000
C
ntfw_start "$S" "$T_TMP/ntfw.conf"

http_get "$C" http://10.213.0.1:8080/
assert_eq "curl IPv4 :8080 status" 0 "$HTTP_RC"
assert_eq "curl IPv4 :8080 body" "hello from ntfw test" "$HTTP_BODY"
http_get "$C" "http://[fd00:213::1]:8080/"
assert_eq "curl IPv6 :8080 status" 0 "$HTTP_RC"
assert_eq "curl IPv6 :8080 body" "hello from ntfw test" "$HTTP_BODY"
http_get "$C" http://10.213.0.1:9000/
assert_eq "curl IPv4 :9000 status (28 = timed out)" 28 "$HTTP_RC"
http_get "$C" "http://[fd00:213::1]:9000/"
assert_eq "curl IPv6 :9000 status (28 = timed out)" 28 "$HTTP_RC"

ntfw_stats
# Each fetch: SYN, ACK, request, ACKs, FIN... at least 4 packets in.
assert_ge "web counter" 8 "$(rule_pkts web)"
# Each blocked connect: the SYN and its retransmission(s) within 3 s.
assert_ge "closed counter" 4 "$(rule_pkts closed)"
assert_eq "dropped total = closed counter" "$(rule_pkts closed)" "$(stat_total dropped)"
ntfw_stop
