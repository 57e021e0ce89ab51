#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# ICMP and ICMPv6 errors that quote a flow ntfw knows are related to it:
# accepted when the flow is accepted (the server's port-unreachable reaches
# a client that had no rule for it), dropped when the flow is dropped
# (although a rule accepts ICMP), counted as related.  An error that quotes
# nothing known is judged by the rules like any other packet.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip python3 iptables ip6tables
PY3=/usr/bin/python3
$PY3 -c 'import scapy' 2>/dev/null || skip "python3-scapy is not installed"
topo_pair
rules_install "$S"

cat >"$T_TMP/ntfw.conf" <<'C'
default drop
accept name nd      proto icmpv6 icmp-type nd-neighbor-solicit,nd-neighbor-advert
accept name closed  proto udp dport 9999
drop   name blocked proto udp dport 7777
accept name icmp-in  proto icmp hook input
accept name icmp6-in proto icmpv6 hook input
C
ntfw_start "$S" "$T_TMP/ntfw.conf"

# What ICMP errors reach the server's stack: a raw socket per family
# prints the quoted destination port of each error it receives (the
# errors below quote packets from the server to the client: the
# client's port).
cat >"$T_TMP/icmpsink.py" <<'PY'
import select, socket, struct, sys
s4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
while True:
    r, _, _ = select.select([s4, s6], [], [])
    for s in r:
        d = s.recv(2048)
        if s is s4:
            d = d[(d[0] & 15) * 4:]
            if d[0] in (3, 11):
                q = d[8:]
                q = q[(q[0] & 15) * 4:]
                print("v4", d[0], struct.unpack("!H", q[2:4])[0], flush=True)
        elif d[0] in (1, 3):
            print("v6", d[0], struct.unpack("!H", d[8 + 40 + 2:8 + 40 + 4])[0], flush=True)
PY
bg "$T_TMP/sink.log" ip netns exec "$S" python3 "$T_TMP/icmpsink.py"
sleep 0.5

# refused ADDR PORT: what a connected UDP socket sees after one datagram.
refused() {
	ip netns exec "$C" python3 - "$1" "$2" <<'PY'
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.bind(("0.0.0.0" if fam == socket.AF_INET else "::", 40000 + int(sys.argv[2]) % 1000))
s.connect((sys.argv[1], int(sys.argv[2])))
s.settimeout(1.5)
s.send(b"x")
try:
    s.recv(100)
    print("answer")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("nothing")
PY
}

# 1. Accepted flow: the server's port-unreachable (leaving by the output
# hook, where no rule accepts ICMP) follows the flow to the client.
assert_eq "UDP to a closed port, IPv4: the client is told" refused "$(refused 10.213.0.1 9999)"
assert_eq "UDP to a closed port, IPv6: the client is told" refused "$(refused fd00:213::1 9999)"
# 2. Dropped flow: the client's datagrams to 7777 are dropped, and so is
# an error quoting that flow, although "icmp-in" accepts ICMP.
assert_eq "UDP to the blocked port" nothing "$(refused 10.213.0.1 7777)"
assert_eq "UDP to the blocked port, IPv6" nothing "$(refused fd00:213::1 7777)"
ip netns exec "$C" $PY3 "$TOP/tests/netns/icmperr.py" 10.213.0.2 10.213.0.1 3 3 \
	udp 10.213.0.1 7777 10.213.0.2 40777 3 || fail "scapy send failed"
ip netns exec "$C" $PY3 "$TOP/tests/netns/icmperr.py" fd00:213::2 fd00:213::1 1 4 \
	udp fd00:213::1 7777 fd00:213::2 40777 3 || fail "scapy send failed"
# 3. An error about a flow ntfw never saw: the rules decide ("icmp-in").
ip netns exec "$C" $PY3 "$TOP/tests/netns/icmperr.py" 10.213.0.2 10.213.0.1 3 3 \
	udp 10.213.0.1 5555 10.213.0.2 45555 2 || fail "scapy send failed"
ip netns exec "$C" $PY3 "$TOP/tests/netns/icmperr.py" fd00:213::2 fd00:213::1 1 4 \
	udp fd00:213::1 5555 fd00:213::2 45555 2 || fail "scapy send failed"
sleep 0.5

assert_eq "errors quoting the blocked flow that reached the server" 0 \
	"$(grep -c ' 40777$' "$T_TMP/sink.log")"
assert_eq "errors quoting an unknown flow that reached the server" 4 \
	"$(grep -c ' 45555$' "$T_TMP/sink.log")"
ntfw_stats
# 2 port-unreachables out, 6 forged errors in.
assert_eq "related packets" 8 "$(stat_field state related)"
assert_eq "closed counter (2 datagrams, 2 related errors)" 4 "$(rule_pkts closed)"
assert_eq "blocked counter (2 datagrams, 6 related errors)" 8 "$(rule_pkts blocked)"
assert_eq "icmp-in counter (the unrelated IPv4 errors)" 2 "$(rule_pkts icmp-in)"
ntfw_stop
