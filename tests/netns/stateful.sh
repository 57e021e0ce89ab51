#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The state model under "default drop": a flow's first packet is judged by
# the rules, the rest of the flow follows in both directions.  The server
# answers its clients (TCP, UDP, ping, IPv4 and IPv6) with no rule for its
# replies, and a connection it opens itself ("accept hook output") gets its
# replies back; nothing else gets in.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip curl ping python3 iptables ip6tables
topo_pair
rules_install "$S"
http_serve "$S" :: 8080
http_serve "$S" :: 9000
http_serve "$C" :: 7070

# A UDP echo server on port 5353 in the server namespace.
cat >"$T_TMP/udpecho.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1])))
while True:
    d, a = s.recvfrom(2048)
    s.sendto(b"echo " + d, a)
PY
bg "$T_TMP/udpecho.log" ip netns exec "$S" python3 "$T_TMP/udpecho.py" 5353
bg "$T_TMP/udpecho2.log" ip netns exec "$S" python3 "$T_TMP/udpecho.py" 5354

cat >"$T_TMP/ntfw.conf" <<'C'
default drop
accept name nd   proto icmpv6 icmp-type nd-neighbor-solicit,nd-neighbor-advert
accept name web  proto tcp dport 8080
accept name dns  proto udp dport 5353
accept name ping icmp-type echo-request hook input
accept name out  proto tcp dport 7070 hook output
C
ntfw_start "$S" "$T_TMP/ntfw.conf"

# udp_ask ADDR PORT: the answer of the UDP echo server, or "none".
udp_ask() {
	ip netns exec "$C" python3 - "$1" "$2" <<'PY'
import socket, sys
fam = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
s.settimeout(1)
s.sendto(b"hi", (sys.argv[1], int(sys.argv[2])))
try:
    print(s.recv(100).decode())
except socket.timeout:
    print("none")
PY
}

http_get "$C" http://10.213.0.1:8080/
assert_eq "curl IPv4 :8080, replies need no rule" 0 "$HTTP_RC"
http_get "$C" "http://[fd00:213::1]:8080/"
assert_eq "curl IPv6 :8080, replies need no rule" 0 "$HTTP_RC"
assert_eq "body" "hello from ntfw test" "$HTTP_BODY"
http_get "$C" http://10.213.0.1:9000/
assert_eq "curl IPv4 :9000 (no rule: dropped, 28 = timed out)" 28 "$HTTP_RC"
assert_eq "UDP IPv4 :5353 answered" "echo hi" "$(udp_ask 10.213.0.1 5353)"
assert_eq "UDP IPv6 :5353 answered" "echo hi" "$(udp_ask fd00:213::1 5353)"
assert_eq "UDP IPv4 :5354 (no rule)" none "$(udp_ask 10.213.0.1 5354)"
assert_eq "IPv4 pings answered" 3 "$(ping_count "$C" 10.213.0.1 3)"
assert_eq "IPv6 pings answered" 3 "$(ping_count "$C" fd00:213::1 3)"
# The server as a client: its SYN leaves by "out", the replies follow.
HTTP_BODY=$(ip netns exec "$S" curl -sS --max-time 3 http://10.213.0.2:7070/ 2>&1)
assert_eq "server's own curl to the client, IPv4" "hello from ntfw test" "$HTTP_BODY"
HTTP_BODY=$(ip netns exec "$S" curl -sS -g --max-time 3 "http://[fd00:213::2]:7070/" 2>&1)
assert_eq "server's own curl to the client, IPv6" "hello from ntfw test" "$HTTP_BODY"
# A packet shaped like a reply of the web server, with no connection
# behind it, is a first packet like any other: the default drops it.
ip netns exec "$C" python3 - <<'PY' || fail "could not send the stray SYN-ACK"
import socket, struct
tcp = struct.pack("!HHIIBBHHH", 8080, 9000, 1, 1, 0x50, 0x12, 1024, 0, 0)
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40, 1, 0, 64, 6, 0,
                 socket.inet_aton("10.213.0.2"), socket.inet_aton("10.213.0.1"))
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.sendto(ip + tcp, ("10.213.0.1", 0))
PY

ntfw_stats
assert_ge "established packets" 40 "$(stat_field state established)"
assert_ge "new packets" 8 "$(stat_field state new)"
# Replies are counted under the rule that accepted their flow.
assert_ge "web counter (requests and replies)" 16 "$(rule_pkts web)"
assert_ge "dns counter (2 requests, 2 answers)" 4 "$(rule_pkts dns)"
assert_eq "ping counter (6 requests, 6 replies)" 12 "$(rule_pkts ping)"
assert_ge "out counter (both connections, both ways)" 16 "$(rule_pkts out)"
# :9000 SYNs, the :5354 datagram, the stray SYN-ACK.
assert_ge "default counter" 3 "$(rule_pkts default)"
assert_eq "dropped total = default counter" "$(rule_pkts default)" "$(stat_total dropped)"
ntfw_stop
