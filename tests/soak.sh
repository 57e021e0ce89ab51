#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Soak: SOAK_SECONDS (default 60) of mixed traffic through the daemon in a
# namespace pair (pings, a curl loop, a rate-limited bulk transfer, SYN
# bursts, truncated TCP headers from a raw socket, UDP to a dropped port)
# with a reload every second.  Every 5 s and at the end:
#   - every packet the rules queued got a verdict (queue rule counters
#     against the daemon's total: the difference moves only by the
#     packets waiting in the queue at the reading); the kernel dropped none;
#   - at the end, with the traffic stopped, no packet waits;
# at the end:
#   - resident memory after warm-up stayed within SOAK_RSS_KB (2048 kB);
#   - the dropped port's counter equals the datagrams sent to it, the
#     malformed counter the truncated packets sent;
#   - the daemon logged no error and is still answering.
# `make soak SOAK_SECONDS=600`; tests/netns/soak_short.sh runs 15 s.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd ip curl ping hping3 python3 iptables ip6tables
SECS=${SOAK_SECONDS:-60}
RSS_MARGIN=${SOAK_RSS_KB:-2048}
WARM=$((SECS / 4 > 10 ? 10 : SECS / 4))
topo_pair
rules_install "$S"
no_offload "$S" s0
no_offload "$C" c0
# One segment a packet: the rules count a GSO packet once, the daemon
# each segment.
ip -n "$S" link set s0 gso_max_segs 1
mkdir -p "$T_TMP/www"
head -c 8M /dev/urandom >"$T_TMP/www/big"
http_serve "$S" 0.0.0.0 8080
CONF=$T_TMP/ntfw.conf
cat >"$CONF" <<'C'
default accept
queue-maxlen 4096
accept name web   proto tcp dport 8080
drop   name sink  proto udp dport 9999
accept name icmp  proto icmp
accept name icmp6 proto icmpv6
C
ntfw_start "$S" "$CONF"
verdicts_mark "$S"
END=$(($(date +%s) + SECS))
info "soak: $SECS s, warm-up $WARM s"

# Traffic, each bounded by the end time.
bg "$T_TMP/ping4.log" ip netns exec "$C" ping -n -q -i 0.02 -w "$SECS" 10.213.0.1
bg "$T_TMP/ping6.log" ip netns exec "$C" ping -6 -n -q -i 0.05 -w "$SECS" fd00:213::1
bg "$T_TMP/curls.log" ip netns exec "$C" bash -c '
ok=0 bad=0
while [ "$(date +%s)" -lt '"$END"' ]; do
	if [ "$(curl -s --max-time 3 http://10.213.0.1:8080/index.html)" = "hello from ntfw test" ]; then
		ok=$((ok + 1))
	else
		bad=$((bad + 1))
	fi
	sleep 0.05
done
echo "$ok $bad"'
bg "$T_TMP/bulk.log" ip netns exec "$C" bash -c '
ok=0 bad=0
while [ "$(date +%s)" -lt $(('"$END"' - 4)) ]; do
	n=$(curl -s --max-time 10 --limit-rate 4M -o /dev/null -w "%{size_download}" \
		http://10.213.0.1:8080/big)
	[ "$n" = 8388608 ] && ok=$((ok + 1)) || bad=$((bad + 1))
done
echo "$ok $bad"'
bg "$T_TMP/syn.log" ip netns exec "$C" bash -c '
n=0
while [ "$(date +%s)" -lt $(('"$END"' - 2)) ]; do
	hping3 -q -S -p 8080 -c 100 -i u2000 10.213.0.1 >/dev/null 2>&1
	n=$((n + 100))
	sleep 1
done
echo "$n"'
# UDP to the dropped port and truncated TCP headers (20 bytes of IP, 8 of
# TCP): counted on the sender's side.
bg "$T_TMP/raw.log" ip netns exec "$C" python3 -c '
import socket, struct, sys, time
end = int(sys.argv[1]) - 2
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
src, dst = socket.inet_aton("10.213.0.2"), socket.inet_aton("10.213.0.1")
nu = nm = 0
while time.time() < end:
    for i in range(20):
        u.sendto(b"x" * 40, ("10.213.0.1", 9999))
        nu += 1
    for i in range(3):
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28, 1000 + nm % 60000, 0, 64, 6, 0, src, dst)
        r.sendto(ip + struct.pack("!HHI", 40000, 8080, nm), ("10.213.0.1", 0))
        nm += 1
    time.sleep(0.1)
print(nu, nm)' "$END"

rss() { awk '/VmRSS/ {print $2}' "/proc/$NTFW_PID/status"; }
reloads=0 checks=0 rss_warm= rss_max=0 t0=$(date +%s)
while [ "$(date +%s)" -lt "$END" ]; do
	sleep 1
	kill -0 "$NTFW_PID" 2>/dev/null || fail "ntfw died: $(tail -5 "$NTFW_LOG")"
	ntfw_reload
	grep -q 'reload failed' "$NTFW_LOG" && fail "reload failed: $(grep -A3 'reload failed' "$NTFW_LOG")"
	reloads=$((reloads + 1))
	r=$(rss)
	if [ $(($(date +%s) - t0)) -ge "$WARM" ]; then
		[ -n "$rss_warm" ] || rss_warm=$r
		[ "$r" -le "$rss_max" ] || rss_max=$r
	fi
	if [ $((reloads % 5)) = 0 ]; then
		# Traffic flows: a packet may sit in the queue at the
		# reading, so those waiting count as not yet verdicted.
		_verdicts_bracket "$S"
		w=$(stat_queue 0 waiting)
		[ $((LO - w)) -le "$V_HI" ] && [ "$V_LO" -le "$HI" ] ||
			fail "packets lost: queued-verdicted was $V_LO..$V_HI, now $LO..$HI ($w waiting)"
		[ "$(stat_queue 0 queue-dropped)" = 0 ] || fail "queue-dropped: $(stat_queue 0 queue-dropped)"
		checks=$((checks + 1))
	fi
done
# Let the last transfers and datagrams end, then the final readings.
for p in "${T_PIDS[@]}"; do
	[ "$p" = "$NTFW_PID" ] || [ "$p" = "${T_PIDS[0]}" ] || wait "$p" 2>/dev/null
done
sleep 1
assert_verdicted "$S" 0
checks=$((checks + 1))
ntfw_stats
read -r curl_ok curl_bad <"$T_TMP/curls.log"
read -r bulk_ok bulk_bad <"$T_TMP/bulk.log"
read -r udp_sent mal_sent <"$T_TMP/raw.log"
syn_sent=$(cat "$T_TMP/syn.log")
verdicted=$(stat_total packets)
qdrop=$(stat_queue 0 queue-dropped)
udrop=$(stat_queue 0 user-dropped)
lost=$((qdrop + udrop))
info "$(grep '^ntfw: stats: total ' "$NTFW_LOG" | tail -n 1)"
info "$(grep '^ntfw: stats: queue 0 ' "$NTFW_LOG" | tail -n 1)"
info "pings: v4 $(sed -n 's/.*transmitted, \([0-9]*\) received.*/\1/p' "$T_TMP/ping4.log")" \
	"v6 $(sed -n 's/.*transmitted, \([0-9]*\) received.*/\1/p' "$T_TMP/ping6.log") answered;" \
	"curls $curl_ok ok $curl_bad failed; bulk 8 MB $bulk_ok ok $bulk_bad failed;" \
	"SYNs $syn_sent; UDP to the dropped port $udp_sent; truncated TCP $mal_sent"
assert_eq "sink counter = datagrams sent to the dropped port" "$udp_sent" "$(rule_pkts sink)"
assert_eq "malformed = truncated packets sent" "$mal_sent" "$(stat_total malformed)"
assert_eq "dropped = sink + malformed" "$((udp_sent + mal_sent))" "$(stat_total dropped)"
assert_eq "curl failures" 0 "$curl_bad"
assert_eq "bulk transfer failures" 0 "$bulk_bad"
assert_ge "bulk transfers" 1 "$bulk_ok"
assert_eq "packets lost in the queue (queue-dropped + user-dropped)" 0 "$lost"
info "resident: $rss_warm kB after warm-up, at most $rss_max kB after"
[ $((rss_max - rss_warm)) -le "$RSS_MARGIN" ] ||
	fail "resident size grew by $((rss_max - rss_warm)) kB after warm-up"
errs=$(grep -v '^ntfw: stats: ' "$NTFW_LOG" | grep -iE 'error|warn|fail|abort|assert' |
	grep -v 'reload failed=0' || true)
[ -z "$errs" ] || fail "the daemon logged: $errs"
http_get "$C" http://10.213.0.1:8080/
assert_eq "still answering" "0 hello from ntfw test" "$HTTP_RC $HTTP_BODY"
ntfw_stop
echo "soak: $SECS s: $verdicted packets verdicted, $reloads reloads, $checks verdict checks," \
	"faults survived: $mal_sent malformed + $syn_sent SYNs; packets lost: $lost;" \
	"rss $rss_warm -> $rss_max kB"
