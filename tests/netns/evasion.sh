#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Packets built to slip past a port rule: a SYN behind a 520-byte IPv6
# destination-options header (its headers do not fit the 512-byte copy),
# a SYN behind 17 extension headers, UDP with a length field of 0, a real
# client with a 600-byte IPV6_DSTOPTS, and IPv6 TCP with options under
# copy-range 60.  The server runs "default accept" and drop rules naming
# the ports: each packet must be dropped by such a rule, the server must
# never answer, and the same packets to an allowed port must be answered
# (so they are packets the server would take).
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip curl python3 iptables ip6tables
topo_pair
rules_install "$S"
PY="python3 $TOP/tests/netns/evasion.py"
C4=10.213.0.2 S4=10.213.0.1 C6=fd00:213::2 S6=fd00:213::1
for port in 7000 7001 7002 7004; do
	http_serve "$S" :: "$port"
done

# evasion.py udplisten in the server: which ports got a datagram.
UDP_LOG=$T_TMP/udp.log
bg "$T_TMP/udplisten.log" ip netns exec "$S" $PY udplisten "$UDP_LOG" 7003 7013
wait_for 5 grep -q ready "$UDP_LOG" || fail "UDP listener did not start"
udp_got() { grep -c "^$1\$" "$UDP_LOG"; }

# syn6 PORT MODE: a crafted SYN; prints and returns whether it was answered.
syn6() { ip netns exec "$C" $PY syn6 "$C6" "$S6" "$1" "$2"; }
# connect PORT DSTOPTS_BYTES: a real client; returns whether it got a reply.
connect6() { ip netns exec "$C" $PY connect "$S6" "$1" "$2"; }

conf() {
	cat >"$T_TMP/ntfw.conf" <<C
default accept
$1
drop name dstopts  proto tcp dport 7001
drop name chain17  proto tcp dport 7002
drop name udp0     proto udp dport 7003
drop name sockopt  proto tcp dport 7004
C
}

# ---- the default copy range, 512 bytes ----
conf ""
ntfw_start "$S" "$T_TMP/ntfw.conf"
syn6 7002 chain17 && fail "17 extension headers: port 7002 answered"
syn6 7000 chain17 || fail "17 extension headers: allowed port 7000 did not answer"
info "ok: SYN behind 17 extension headers dropped on 7002, answered on 7000"
syn6 7001 dstopts520 && fail "520-byte dstopts: port 7001 answered"
info "ok: SYN behind 520 bytes of destination options dropped on 7001"
for src in $C4 $C6; do
	dst=$S4
	[ "$src" = "$C6" ] && dst=$S6
	ip netns exec "$C" $PY udp0 "$src" "$dst" 7003 || fail "cannot send UDP"
	ip netns exec "$C" $PY udp0 "$src" "$dst" 7013 || fail "cannot send UDP"
done
connect6 7004 600 && fail "600-byte IPV6_DSTOPTS client reached dropped port 7004"
connect6 7000 0 || fail "plain client did not reach allowed port 7000"
# Its port is past the copy: the first TCP drop rule that could match
# drops it, even on a port no rule drops (fail closed).
connect6 7000 600 && fail "600-byte IPV6_DSTOPTS client passed at copy-range 512"
info "ok: 600-byte IPV6_DSTOPTS client refused on 7004 and (fail closed) on 7000"
sleep 0.5
assert_eq "UDP length 0 datagrams received on dropped port 7003" 0 "$(udp_got 7003)"
# Linux takes an IPv6 UDP length of 0 (IPv4 drops it itself).
assert_eq "UDP length 0 datagrams received on open port 7013" 1 "$(udp_got 7013)"
ntfw_stats
assert_eq "chain17 counter" 1 "$(rule_pkts chain17)"
assert_eq "udp0 counter (IPv4 and IPv6)" 2 "$(rule_pkts udp0)"
# The crafted SYN, then the SYNs of both 600-byte clients.
assert_ge "dstopts counter" 3 "$(rule_pkts dstopts)"
assert_eq "malformed" 0 "$(stat_total malformed)"
ntfw_stop

# ---- a copy range that holds the 600 bytes: every rule reads its port ----
conf "copy-range 2048"
ntfw_start "$S" "$T_TMP/ntfw.conf"
syn6 7001 dstopts520 && fail "520-byte dstopts: port 7001 answered"
syn6 7000 dstopts520 || fail "520-byte dstopts: allowed port 7000 did not answer"
info "ok: SYN behind 520 bytes of destination options dropped on 7001, answered on 7000"
connect6 7004 600 && fail "600-byte IPV6_DSTOPTS client reached dropped port 7004"
connect6 7000 600 || fail "600-byte IPV6_DSTOPTS client did not reach allowed port 7000"
info "ok: 600-byte IPV6_DSTOPTS client refused on 7004, served on 7000"
ntfw_stats
assert_eq "dstopts counter" 1 "$(rule_pkts dstopts)"
assert_ge "sockopt counter (SYN and retransmissions)" 2 "$(rule_pkts sockopt)"
assert_eq "malformed" 0 "$(stat_total malformed)"
ntfw_stop

# ---- copy-range 60: IPv6 TCP options lie past the copy ----
conf "copy-range 60"
ntfw_start "$S" "$T_TMP/ntfw.conf"
http_get "$C" "http://[$S6]:7004/"
assert_eq "curl IPv6 :7004 at copy-range 60 (28 = timed out)" 28 "$HTTP_RC"
http_get "$C" "http://[$S6]:7000/"
assert_eq "curl IPv6 :7000 at copy-range 60" 0 "$HTTP_RC"
assert_eq "curl IPv6 :7000 body" "hello from ntfw test" "$HTTP_BODY"
ntfw_stats
assert_ge "sockopt counter" 2 "$(rule_pkts sockopt)"
assert_eq "malformed" 0 "$(stat_total malformed)"
ntfw_stop
