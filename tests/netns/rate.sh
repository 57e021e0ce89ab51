#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# "rate over 5/second per src" stops a burst of SYNs from one client while
# another client still connects.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip curl python3 hping3 iptables ip6tables
topo_pair
ip -n "$C" addr add 10.213.0.3/24 dev c0
rules_install "$S"
http_serve "$S" 0.0.0.0 8080

cat >"$T_TMP/ntfw.conf" <<'C'
drop name syn-flood proto tcp dport 8080 tcp-flags syn !ack rate over 5/second per src
C
ntfw_start "$S" "$T_TMP/ntfw.conf"

# 100 SYNs in about a second from 10.213.0.2 (hping3: -i u10000 = 100/s).
ip netns exec "$C" hping3 -q -S -p 8080 -c 100 -i u10000 -a 10.213.0.2 \
	10.213.0.1 >"$T_TMP/hping.log" 2>&1
# Meanwhile the other client is served.
http_get "$C" http://10.213.0.1:8080/ --interface 10.213.0.3
assert_eq "curl from 10.213.0.3 during the flood" 0 "$HTTP_RC"
assert_eq "body" "hello from ntfw test" "$HTTP_BODY"

ntfw_stats
dropped=$(rule_pkts syn-flood)
# 100 SYNs over ~1 s at 5/s with a burst of 5: about 90 over the rate.
[ "$dropped" -ge 80 ] && [ "$dropped" -le 95 ] ||
	fail "syn-flood dropped $dropped of 100 SYNs, expected 80-95"
info "ok: syn-flood dropped $dropped of 100 SYNs"
assert_eq "dropped total = syn-flood counter" "$dropped" "$(stat_total dropped)"
ntfw_stop
