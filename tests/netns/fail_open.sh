#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# An overloaded queue: the daemon is stopped (SIGSTOP) while 300 datagrams
# arrive at a queue that holds 16.  "fail-open no": the kernel drops what
# does not fit and counts it (queue-dropped); "fail-open yes": the kernel
# accepts it unseen, which the queue rule's counter minus the packets
# given to the daemon shows.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip python3 iptables ip6tables
topo_pair
rules_install "$S"
N=300

# receive SECONDS: count UDP datagrams to 10.213.0.1:9999 in the server.
receive() {
	ip netns exec "$S" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.bind(("10.213.0.1", 9999))
s.settimeout(0.2)
n, end = 0, time.time() + float(sys.argv[1])
print("ready", flush=True)
while time.time() < end:
    try:
        s.recv(2048)
        n += 1
    except socket.timeout:
        pass
print(n, flush=True)' "$1"
}

send() {
	ip netns exec "$C" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[1])):
    s.sendto(b"x" * 32, ("10.213.0.1", 9999))' "$N"
}

# overload MODE: run one round; sets RECEIVED, QDROP, SEEN, QUEUED.
overload() {
	printf 'queue-maxlen 16\nfail-open %s\naccept name probe proto udp dport 9999\n' \
		"$1" >"$T_TMP/ntfw.conf"
	ntfw_start "$S" "$T_TMP/ntfw.conf"
	local q0
	q0=$(queued "$S")
	bg "$T_TMP/recv.log" receive 4
	local rpid=$BG_PID
	wait_for 5 grep -q ready "$T_TMP/recv.log" || fail "receiver did not start"
	kill -STOP "$NTFW_PID"
	send
	sleep 0.5
	kill -CONT "$NTFW_PID"
	wait "$rpid"
	RECEIVED=$(tail -n 1 "$T_TMP/recv.log")
	QUEUED=$(($(queued "$S") - q0))
	ntfw_stats
	info "$(grep '^ntfw: stats: queue 0 ' "$NTFW_LOG" | tail -n 1)"
	QDROP=$(stat_field "queue 0" queue-dropped)
	SEEN=$(rule_pkts probe) # datagrams the daemon saw
	ntfw_stop
}

overload no
info "fail-open no: $RECEIVED of $N received, $SEEN seen by ntfw, $QDROP dropped by the kernel"
assert_eq "fail-open no: what arrived went through ntfw" "$SEEN" "$RECEIVED"
[ "$RECEIVED" -ge 1 ] && [ "$RECEIVED" -le 16 ] ||
	fail "fail-open no: $RECEIVED datagrams got through a queue of 16"
# Every datagram that did not arrive was counted as dropped by the kernel
# (the count may include a stray packet of the namespace's own).
assert_ge "fail-open no: queue-dropped covers every lost datagram" \
	"$((N - RECEIVED))" "$QDROP"

overload yes
info "fail-open yes: $RECEIVED of $N received, $SEEN seen by ntfw"
assert_eq "fail-open yes: all received" "$N" "$RECEIVED"
assert_eq "fail-open yes: nothing dropped by the kernel" 0 "$QDROP"
[ "$SEEN" -le 16 ] || fail "fail-open yes: ntfw saw $SEEN datagrams through a queue of 16"
# The rest passed unseen: the queue rule counted them, the daemon did not.
assert_ge "fail-open yes: queued by the rule" "$N" "$QUEUED"
info "ok: fail-open yes: accepted unseen = $((N - SEEN))"
