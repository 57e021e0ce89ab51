#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Forged packets cannot restart a flow's features.  The policy drops a
# connection's pushed segments after the third; a client that, before every
# third message, injects a RST with a random sequence number and then a SYN
# on the same ports (or a forged FIN/ACK and a SYN) would, if ntfw believed
# them, start a fresh flow each time and get all 12 messages through.  The
# server must get 3, and `ntfw -r` on a capture of the attack must show one
# flow whose pushed_c2s kept growing.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip tcpdump iptables
[ -x "$NTFW" ] || skip "$NTFW is not built"
PY=/usr/bin/python3
"$PY" -c 'import scapy.all' 2>/dev/null || skip "scapy for $PY is not installed"
topo_pair
rules_install "$S"

cat >"$T_TMP/ntfw.conf" <<'C'
default accept
drop name nopush proto tcp dport 2222 flow pushed_c2s > 3
C

# The server counts the newline-terminated messages it reads, in a file.
cat >"$T_TMP/server.py" <<'PY'
import socket, sys, time
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("10.213.0.1", 2222))
ls.listen(1)
print("listening", flush=True)
ls.settimeout(10)
s, _ = ls.accept()
s.settimeout(0.5)
buf, end = b"", time.time() + 12
while time.time() < end:
    try:
        b = s.recv(4096)
    except socket.timeout:
        continue
    if not b:
        break
    buf += b
    with open(sys.argv[1], "w") as f:
        f.write("%d\n" % buf.count(b"\n"))
PY

# The client: 12 messages on one connection, one every 0.2 s; before every
# third, the forged pair through a raw socket, same addresses and ports.
cat >"$T_TMP/client.py" <<'PY'
import random, socket, sys, time
from scapy.all import IP, TCP, send, conf
conf.verb = 0
mode, dst, dport = sys.argv[1], "10.213.0.1", 2222
s = socket.socket()
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.bind(("10.213.0.2", 0))
s.connect((dst, dport))
sport = s.getsockname()[1]
forged = 0
for i in range(12):
    if i % 3 == 2:
        ip = IP(src="10.213.0.2", dst=dst)
        if mode == "rst":
            send(ip / TCP(sport=sport, dport=dport, flags="R",
                          seq=random.getrandbits(32)))
        else:
            send(ip / TCP(sport=sport, dport=dport, flags="FA",
                          seq=random.getrandbits(32),
                          ack=random.getrandbits(32)))
        send(ip / TCP(sport=sport, dport=dport, flags="S",
                      seq=random.getrandbits(32)))
        forged += 2
        time.sleep(0.1)
    s.send(b"message %02d\n" % i)
    time.sleep(0.2)
print("forged", forged, flush=True)
time.sleep(1)
s.close()
PY

attack() { # attack MODE: run the server and the attacking client once
	local mode=$1
	rm -f "$T_TMP/count"
	bg "$T_TMP/server.log" ip netns exec "$S" "$PY" "$T_TMP/server.py" "$T_TMP/count"
	local srv=$BG_PID
	wait_for 5 grep -q listening "$T_TMP/server.log" || fail "$mode: server did not start"
	timeout 20 ip netns exec "$C" "$PY" "$T_TMP/client.py" "$mode" \
		>"$T_TMP/client.log" 2>&1 || fail "$mode: client failed: $(cat "$T_TMP/client.log")"
	grep -q '^forged 8$' "$T_TMP/client.log" || fail "$mode: client did not forge"
	kill "$srv" 2>/dev/null
	wait "$srv" 2>/dev/null
	assert_eq "$mode: messages the server received" 3 "$(cat "$T_TMP/count" 2>/dev/null || echo 0)"
}

ntfw_start "$S" "$T_TMP/ntfw.conf"
capture_start "$S" s0 "$T_TMP/rst.pcap" tcp port 2222
attack rst
capture_stop
attack fin
ntfw_stats
# The forged packets reached ntfw: 4 RSTs and 4 SYNs, then 4 FIN/ACKs and
# 4 SYNs, besides the connections themselves.
assert_ge "packets ntfw saw" 40 "$(stat_total packets)"
assert_ge "packets dropped by nopush" 2 "$(rule_pkts nopush)"
# Every forged packet is out of its connection's window: invalid.
assert_eq "invalid packets (the 16 forged)" 16 "$(stat_field state invalid)"
ntfw_stop
info "ok: 3 of 12 messages passed with forged RST+SYN and FIN/ACK+SYN"

# Offline, the same capture: one flow for the connection, and its
# pushed_c2s counted past 3 (the retransmitted 4th message) instead of
# starting again at each forged SYN.
"$NTFW" -r "$T_TMP/rst.pcap" -c "$T_TMP/ntfw.conf" >"$T_TMP/records" 2>"$T_TMP/offline.err" ||
	fail "ntfw -r failed: $(cat "$T_TMP/offline.err")"
assert_eq "records for port 2222" 1 "$(grep -c '"server_port":2222' "$T_TMP/records")"
pushed=$(grep -o '"pushed_c2s":[0-9]*' "$T_TMP/records" | head -1 | cut -d: -f2)
assert_ge "pushed_c2s of the attacked flow" 4 "${pushed:-0}"
syns=$(grep -o '"syn_c2s":[0-9]*' "$T_TMP/records" | head -1 | cut -d: -f2)
assert_eq "syn_c2s (the forged SYNs are not the flow's)" 1 "$syns"
info "ok: offline, one flow, pushed_c2s $pushed"
