#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# With several queues, the kernel queues an ICMP error by the hash of its
# own addresses and protocol (ICMP), not the flow's (UDP or TCP), so it
# lands in another worker than its flow most of the time.  The workers
# publish their decided flows to each other (src/relate.c): under default
# drop the server's port-unreachable (like a router's
# fragmentation-needed, which path MTU discovery needs) reaches every
# client.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip python3 iptables ip6tables
topo_pair
for a in 3 4 5 6 7 8 9; do ip -n "$C" addr add 10.213.0.$a/24 dev c0; done
rules_install "$S" -q 0-3

cat >"$T_TMP/ntfw.conf" <<'C'
queue 0-3
default drop
accept name closed proto udp dport 9999
C
ntfw_start "$S" "$T_TMP/ntfw.conf"

# refused SRC: one datagram from SRC to the server's closed port; what a
# connected UDP socket then sees.
refused() {
	ip netns exec "$C" python3 - "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
s.connect(("10.213.0.1", 9999))
s.settimeout(1.0)
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

told=0
for a in 2 3 4 5 6 7 8 9; do
	r=$(refused 10.213.0.$a)
	info "10.213.0.$a: $r"
	[ "$r" = refused ] && told=$((told + 1))
done
ntfw_stats
info "related: $(stat_field state related), dropped: $(stat_total dropped)"
assert_eq "clients told their port is closed (8 addresses, 4 queues)" 8 "$told"
ntfw_stop
