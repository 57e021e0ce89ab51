#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The proof that ntfw's TCP features are tcptrace's: real traffic between
# two namespaces, captured on the client's veth, then `ntfw -r` and
# `tcptrace -l -r -n --csv` on the same capture, compared field by field
# for every complete connection (SYN both ways, closed by FIN or RST).
# Scenarios: curl downloads of 1 KB, 100 KB and 2 MB; a client writing
# 200 small pushed chunks to a server that answers each; iperf3; a
# download with 5 % of the packets dropped after the capture point, so
# that the server retransmits; curl over IPv6.  KEEP_CAPTURES=DIR keeps
# the captures.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip tcpdump tcptrace iperf3 curl python3 iptables ethtool
[ -x "$NTFW" ] || skip "$NTFW is not built"
"$NTFW" -h 2>&1 | grep -q -- '-r capture' || skip "ntfw has no -r"

# One CPU for everything: veth hands a packet to the backlog of the CPU
# that sent it, so a sender running on two CPUs (its process, and the
# softirq of the ACKs) reorders its own segments before the capture
# point, and sends some in the same microsecond as a retransmission.
# ntfw follows one reordering gap at a time but not every such case
# (features.c); the proof is for the in-order capture of a real link.
taskset -p -c 0 $$ >/dev/null || fail "cannot pin to CPU 0"
topo_pair
# Segmentation offloads off: the capture shows wire-sized packets.
no_offload "$C" c0
no_offload "$S" s0
mkdir -p "$T_TMP/www"
head -c 1000 /dev/urandom >"$T_TMP/www/1k"
head -c 100000 /dev/urandom >"$T_TMP/www/100k"
head -c 2000000 /dev/urandom >"$T_TMP/www/2m"
http_serve "$S" 10.213.0.1 8080
http_serve "$S" fd00:213::1 8086

# run_capture NAME CMD...: capture everything on c0 while CMD runs.
run_capture() {
	local name=$1
	shift
	capture_start "$C" c0 "$T_TMP/$name.pcap" -Z root tcp
	"$@" || fail "$name: traffic failed"
	# Wait for the closing handshakes, retransmitted FINs included.
	wait_for 10 no_closing || fail "$name: connections did not close"
	capture_stop
}
no_closing() {
	local ns
	for ns in "$C" "$S"; do
		[ -z "$(ip netns exec "$ns" ss -Htn state fin-wait-1 state last-ack \
			state closing state syn-sent state syn-recv)" ] || return 1
	done
}

fetch() { # fetch URL...: curl each URL once, body checked by size
	local url
	for url in "$@"; do
		ip netns exec "$C" curl -sS -g --max-time 20 -o "$T_TMP/body" "$url" ||
			return 1
		[ "$(stat -c %s "$T_TMP/body")" = "$(stat -c %s "$T_TMP/www/${url##*/}")" ] ||
			return 1
	done
}

# A server answering every chunk it reads; a client writing 200 chunks of
# 10-100 bytes with TCP_NODELAY (so each is a pushed segment), then
# reading the answers until the server closes.
cat >"$T_TMP/chunks.py" <<'PY'
import random, socket, sys, time
if sys.argv[1] == "server":
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("10.213.0.1", 7000))
    ls.listen(1)
    print("listening", flush=True)
    s, _ = ls.accept()
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while True:
        b = s.recv(4096)
        if not b:
            break
        s.sendall(b"got %d\n" % len(b))
    s.close()
else:
    rnd = random.Random(7)
    s = socket.create_connection(("10.213.0.1", 7000))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i in range(200):
        s.sendall(bytes(rnd.randrange(32, 127) for _ in range(rnd.randint(10, 100))))
        time.sleep(0.002)
    s.shutdown(socket.SHUT_WR)
    while s.recv(4096):
        pass
    s.close()
PY
chunks() {
	bg "$T_TMP/chunks-server.log" ip netns exec "$S" python3 "$T_TMP/chunks.py" server
	wait_for 5 grep -q listening "$T_TMP/chunks-server.log" || return 1
	ip netns exec "$C" timeout 20 python3 "$T_TMP/chunks.py" client
}

iperf() {
	bg "$T_TMP/iperf-server.log" ip netns exec "$S" iperf3 -s -1 -B 10.213.0.1
	wait_for 5 _listening "$S" 5201 || return 1
	ip netns exec "$C" timeout 30 iperf3 -c 10.213.0.1 -n 5M >"$T_TMP/iperf.log" 2>&1
}

lossy() {
	# Dropped after tcpdump has seen them: the capture holds every
	# transmission, and the server retransmits what the client lost.
	ip netns exec "$C" iptables -A INPUT -p tcp --sport 8080 \
		-m statistic --mode random --probability 0.05 -j DROP || return 1
	fetch http://10.213.0.1:8080/2m http://10.213.0.1:8080/2m
	local rc=$?
	ip netns exec "$C" iptables -F INPUT
	return $rc
}

run_capture curl fetch http://10.213.0.1:8080/1k http://10.213.0.1:8080/100k \
	http://10.213.0.1:8080/2m
run_capture chunks chunks
run_capture iperf3 iperf
run_capture loss lossy
run_capture curl6 fetch "http://[fd00:213::1]:8086/1k" \
	"http://[fd00:213::1]:8086/100k" "http://[fd00:213::1]:8086/2m"

# compare NAME MIN_CONNS [require-rexmit]
compare() {
	local name=$1 pcap=$T_TMP/$1.pcap
	"$NTFW" -r "$pcap" --format csv >"$T_TMP/$name.ntfw" 2>"$T_TMP/$name.ntfw.err" ||
		fail "$name: ntfw -r failed: $(cat "$T_TMP/$name.ntfw.err")"
	tcptrace -l -r -n --csv "$pcap" >"$T_TMP/$name.tcptrace" 2>"$T_TMP/$name.tcptrace.err" ||
		fail "$name: tcptrace failed: $(cat "$T_TMP/$name.tcptrace.err")"
	python3 "$TOP/tests/tcptrace_map.py" "$name" "$T_TMP/$name.ntfw" \
		"$T_TMP/$name.tcptrace" --full --min-conns "$2" ${3:+--$3} ||
		fail "$name: ntfw and tcptrace differ"
}

[ -n "${KEEP_CAPTURES:-}" ] && cp "$T_TMP"/*.pcap "$KEEP_CAPTURES"/
compare curl 3
compare chunks 1
compare iperf3 2
compare loss 2 require-rexmit
compare curl6 3
