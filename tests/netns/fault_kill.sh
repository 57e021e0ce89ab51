#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The daemon killed (SIGKILL) in the middle of a 20 MB transfer and a ping
# flood, then started again, three ways:
#   bypass, fail-open yes:  packets pass while it is down; the transfer
#                           completes, almost every ping is answered;
#   bypass, fail-open no:   the same: bypass, not fail-open, decides what
#                           an absent daemon means (ntfw(8), "Loss and
#                           failure"); fail-open is about a full queue;
#   no bypass, fail-open no: fail-closed: pings and new connections die
#                           while it is down; the transfer stalls and
#                           resumes on the restart.
# Each time the restarted daemon binds its queue within a second and the
# policy holds at once: the dropped port stays dropped, the accepted one
# answers.  The packets waiting in the queue at the kill are dropped by the
# kernel when the socket goes away: the last reading of
# /proc/net/netfilter/nfnetlink_queue before the kill says how many.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip curl ping python3 iptables ip6tables iptables-save iptables-restore
topo_pair
rules_install "$S"
mkdir -p "$T_TMP/www"
head -c 20M /dev/urandom >"$T_TMP/www/big"
http_serve "$S" 0.0.0.0 8080
http_serve "$S" 0.0.0.0 9000
CONF=$T_TMP/ntfw.conf
NPING=1200 # 6 s at 5 ms
DOWN=2    # seconds the daemon stays down

# qwatch SECONDS: print the last content of the queue's /proc entry before
# it went away (the daemon's socket closed), or "none".
qwatch() {
	ip netns exec "$S" python3 -c '
import sys, time
last, end = None, time.time() + float(sys.argv[1])
print("ready", flush=True)
while time.time() < end:
    with open("/proc/net/netfilter/nfnetlink_queue") as f:
        s = f.read().strip()
    if s:
        last = s
    elif last:
        break
    time.sleep(0.0005)
print(last or "none", flush=True)' "$1"
}

# round FAILOPEN BYPASS(yes|no)
round() {
	local fo=$1 bp=$2 t
	printf 'fail-open %s\naccept name web proto tcp dport 8080\n%s\n%s\n' "$fo" \
		'drop name closed proto tcp dport 9000' 'accept name icmp proto icmp' >"$CONF"
	rules_install "$S"
	if [ "$bp" = no ]; then
		for t in iptables ip6tables; do
			ip netns exec "$S" $t-save -t filter | sed 's/ --queue-bypass//' |
				ip netns exec "$S" $t-restore ||
				fail "cannot take the bypass flag away"
		done
		ip netns exec "$S" iptables -S NTFW-INPUT | grep -q -- --queue-bypass &&
			fail "bypass still set"
	fi
	info "--- bypass $bp, fail-open $fo"
	ntfw_start "$S" "$CONF"
	rm -f "$T_TMP/got"
	bg "$T_TMP/bulk.log" ip netns exec "$C" curl -sS --max-time 25 --limit-rate 5M \
		-o "$T_TMP/got" -w '%{size_download}' http://10.213.0.1:8080/big
	local bulk=$BG_PID
	bg "$T_TMP/ping.log" ip netns exec "$C" ping -n -q -c $NPING -i 0.005 -W 2 10.213.0.1
	local pinger=$BG_PID
	bg "$T_TMP/qwatch.log" qwatch 10
	local watcher=$BG_PID
	wait_for 5 grep -q ready "$T_TMP/qwatch.log" || fail "queue watcher did not start"
	sleep 1
	[ -s "$T_TMP/got" ] || fail "the transfer had not started at the kill"
	local before
	before=$(stat -c %s "$T_TMP/got")
	kill -KILL "$NTFW_PID"
	wait "$NTFW_PID" 2>/dev/null
	wait "$watcher"
	# queue_num portid waiting copy_mode copy_range queue_dropped user_dropped id_sequence 1
	local last
	last=$(tail -n 1 "$T_TMP/qwatch.log")
	INFLIGHT=$(echo "$last" | awk '{print $3}')
	info "killed with $before bytes received; last queue reading: $last"
	info "packets waiting at the kill (dropped by the kernel): $INFLIGHT"

	# While it is down: what a new connection meets.
	http_get "$C" http://10.213.0.1:9000/ --max-time 1
	DOWN_RC=$HTTP_RC
	sleep "$DOWN"

	local t0 ms
	t0=$(date +%s%N)
	ntfw_start "$S" "$CONF"
	ms=$((($(date +%s%N) - t0) / 1000000))
	info "restarted: queue bound in $ms ms"
	[ "$ms" -lt 1000 ] || fail "restart took $ms ms to bind the queue"
	http_get "$C" http://10.213.0.1:9000/ --max-time 1
	assert_eq "after the restart: :9000 dropped (28 = timed out)" 28 "$HTTP_RC"
	http_get "$C" http://10.213.0.1:8080/ --max-time 1
	assert_eq "after the restart: :8080 answered" "0 hello from ntfw test" "$HTTP_RC $HTTP_BODY"

	wait "$pinger"
	ANSWERED=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T_TMP/ping.log")
	wait "$bulk"
	BULK_RC=$?
	BULK_GOT=$(cat "$T_TMP/bulk.log")
	info "pings answered: $ANSWERED of $NPING; transfer: curl $BULK_RC, $BULK_GOT bytes"
	if [ "$bp" = yes ]; then
		assert_eq "transfer complete" "0 $((20 << 20))" "$BULK_RC $BULK_GOT"
		cmp -s "$T_TMP/got" "$T_TMP/www/big" || fail "transfer corrupted"
	else
		# The restarted daemon picks the connection up mid-stream and
		# takes it liberally, as conntrack does: the transfer resumes
		# once the daemon is back (its window updates are not invalid).
		info "fail-closed: transfer after the outage: curl $BULK_RC, $BULK_GOT bytes"
		assert_eq "transfer complete after the outage" "0 $((20 << 20))" "$BULK_RC $BULK_GOT"
	fi
	ntfw_stats
	assert_ge "closed rule counted the SYN after the restart" 1 "$(rule_pkts closed)"
	ntfw_stop
}

round yes yes
assert_eq "bypass: new connection to a dropped port while down (answered)" 0 "$DOWN_RC"
# Lost: only what was in the queue at the kill (a few); a down daemon
# without bypass would lose about $DOWN s of the flood.
[ $((NPING - ANSWERED)) -le 20 ] || fail "bypass: $((NPING - ANSWERED)) pings lost"
info "ok: bypass, fail-open yes: $((NPING - ANSWERED)) pings lost"

round no yes
assert_eq "bypass, fail-open no: new connection while down (answered)" 0 "$DOWN_RC"
[ $((NPING - ANSWERED)) -le 20 ] || fail "bypass, fail-open no: $((NPING - ANSWERED)) pings lost"
info "ok: bypass, fail-open no: $((NPING - ANSWERED)) pings lost"

round no no
assert_eq "fail-closed: new connection while down (28 = timed out)" 28 "$DOWN_RC"
# Down for $DOWN s and more (ping slows down when replies stop coming):
# hundreds lost, where bypass loses at most the few in the queue.
assert_ge "fail-closed: pings lost while down" 100 $((NPING - ANSWERED))
