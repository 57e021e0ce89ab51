#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# An overloaded queue: the daemon is stopped (SIGSTOP) while 300 datagrams
# arrive at a queue that holds 16.  "fail-open no": the kernel drops what
# does not fit and counts it (queue-dropped); "fail-open yes": the kernel
# accepts it unseen, which the queue rule's counter minus the packets
# given to the daemon shows.  A third round overflows the daemon's netlink
# socket instead (a small socket-buffer, a long queue): the kernel counts
# user-dropped, the daemon the gap in packet ids.  After each overflow the
# daemon keeps going: 10 datagrams sent afterwards all arrive, each seen,
# and 5 to a dropped port are all dropped by their rule.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip python3 iptables ip6tables
topo_pair
rules_install "$S"
N=300

# receive SECONDS: count UDP datagrams to 10.213.0.1:9999 in the server:
# prints "A B", the burst's ("a...") and the later ones ("b...").
receive() {
	ip netns exec "$S" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
# SO_RCVBUFFORCE (33): past rmem_max, so that a burst of 300 waits whole
# for a receiver the machine runs late.
s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)
s.bind(("10.213.0.1", 9999))
s.settimeout(0.2)
n = {b"a": 0, b"b": 0}
end = time.time() + float(sys.argv[1])
print("ready", flush=True)
while time.time() < end:
    try:
        d = s.recv(2048)
        n[d[:1]] = n.get(d[:1], 0) + 1
    except socket.timeout:
        pass
print(n[b"a"], n[b"b"], flush=True)' "$1"
}

# send COUNT PORT TAG SIZE GAP: COUNT datagrams of SIZE bytes starting
# with TAG to 10.213.0.1:PORT, GAP seconds apart.
send() {
	ip netns exec "$C" python3 -c '
import socket, sys, time
n, port, tag, size, gap = sys.argv[1:6]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(n)):
    s.sendto(tag.encode() + b"x" * (int(size) - 1), ("10.213.0.1", int(port)))
    time.sleep(float(gap))' "$@"
}

# overload FAILOPEN QUEUE-MAXLEN SOCKET-BUFFER SIZE: run one round of N
# datagrams of SIZE bytes while the daemon is stopped, then 10 more and 5
# to a dropped port with it running; sets RECEIVED, LATER, QDROP, UDROP,
# GAPS, SEEN, QUEUED, SUNK.
overload() {
	printf 'queue-maxlen %s\nsocket-buffer %s\nfail-open %s\naccept name probe proto udp dport 9999\ndrop name sink proto udp dport 9998\n' \
		"$2" "$3" "$1" >"$T_TMP/ntfw.conf"
	ntfw_start "$S" "$T_TMP/ntfw.conf"
	local q0
	q0=$(queued "$S")
	bg "$T_TMP/recv.log" receive 5
	local rpid=$BG_PID
	wait_for 5 grep -q ready "$T_TMP/recv.log" || fail "receiver did not start"
	kill -STOP "$NTFW_PID"
	send "$N" 9999 a "$4" 0
	sleep 0.5
	kill -CONT "$NTFW_PID"
	sleep 0.5
	QUEUED=$(($(queued "$S") - q0))
	# The daemon goes on as before.
	send 10 9999 b 32 0.02
	send 5 9998 c 32 0.02
	wait "$rpid"
	read -r RECEIVED LATER <<<"$(tail -n 1 "$T_TMP/recv.log")"
	ntfw_stats
	info "$(grep '^ntfw: stats: queue 0 ' "$NTFW_LOG" | tail -n 1)"
	QDROP=$(stat_field "queue 0" queue-dropped)
	UDROP=$(stat_field "queue 0" user-dropped)
	GAPS=$(stat_field "queue 0" id-gaps)
	SEEN=$(($(rule_pkts probe) - LATER)) # burst datagrams the daemon saw
	SUNK=$(rule_pkts sink)
	ntfw_stop
	assert_eq "fail-open $1: the 10 datagrams after the overflow arrived" 10 "$LATER"
	assert_eq "fail-open $1: the 5 to the dropped port were dropped by their rule" 5 "$SUNK"
}

overload no 16 1048576 32
info "fail-open no: $RECEIVED of $N received, $SEEN seen by ntfw, $QDROP dropped by the kernel"
assert_eq "fail-open no: what arrived went through ntfw" "$SEEN" "$RECEIVED"
[ "$RECEIVED" -ge 1 ] && [ "$RECEIVED" -le 16 ] ||
	fail "fail-open no: $RECEIVED datagrams got through a queue of 16"
# Every datagram that did not arrive was counted as dropped by the kernel
# (the count may include a stray packet of the namespace's own).
assert_ge "fail-open no: queue-dropped covers every lost datagram" \
	"$((N - RECEIVED))" "$QDROP"

overload yes 16 1048576 32
info "fail-open yes: $RECEIVED of $N received, $SEEN seen by ntfw"
assert_eq "fail-open yes: all received" "$N" "$RECEIVED"
assert_eq "fail-open yes: nothing dropped by the kernel" 0 "$QDROP"
[ "$SEEN" -le 16 ] || fail "fail-open yes: ntfw saw $SEEN datagrams through a queue of 16"
# The rest passed unseen: the queue rule counted them, the daemon did not.
assert_ge "fail-open yes: queued by the rule" "$N" "$QUEUED"
info "ok: fail-open yes: accepted unseen = $((N - SEEN))"

# The daemon's socket overflows: 300 datagrams of 1200 bytes (copied
# whole) into a 64 KiB socket while the daemon is stopped.
overload no 4096 65536 1200
info "socket overflow: $RECEIVED of $N received, $SEEN seen, user-dropped $UDROP, id gaps $GAPS"
assert_eq "socket overflow: what arrived went through ntfw" "$SEEN" "$RECEIVED"
[ "$UDROP" -ge 1 ] || fail "socket overflow: the kernel counted no user-dropped packet"
assert_eq "socket overflow: nothing dropped for the queue's length" 0 "$QDROP"
# What the socket could not take is what the daemon saw missing.
assert_eq "socket overflow: the id gaps are the user-dropped packets" "$UDROP" "$GAPS"
assert_ge "socket overflow: user-dropped covers every lost datagram" \
	"$((N - RECEIVED))" "$UDROP"
