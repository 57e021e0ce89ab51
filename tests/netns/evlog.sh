#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The event log.  (1) After pings, a curl, dropped packets and a good and a
# bad reload, every line is a JSON object with "ts" and "event"; drop lines
# are limited per rule and say how many they left out; the reload error's
# text (quotes, backslash) survives.  (2) With the log a FIFO that nobody
# reads, pings through the firewall are still answered and the loss is
# counted.  (3) SIGUSR2 reopens the log after a rename.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip ping curl python3 mkfifo iptables ip6tables
topo_pair
rules_install "$S"
http_serve "$S" 0.0.0.0 8080

EVLOG=$T_TMP/events.json
CONF=$T_TMP/ntfw.conf
# conf LOG [LINE...]: the policy, logging to LOG, LINEs first.
conf() {
	local log=$1
	shift
	{
		printf '%s\n' "$@"
		cat <<C
event-log $log
control-socket $T_TMP/ctl.sock
log-drops yes limit ${LIMIT:-5}
accept name web proto tcp dport 8080
accept name icmp proto icmp
accept name icmp6 proto icmpv6
drop name no-udp proto udp dport 9999
C
	} >"$CONF.new"
	mv "$CONF.new" "$CONF"
}
# udp_send N: N datagrams from the client to the dropped port, at once
# (paced by 200 a millisecond: the queue's length is not what is tested).
udp_send() {
	ip netns exec "$C" python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[1])):
    s.sendto(b"x" * 32, ("10.213.0.1", 9999))
    if i % 200 == 199:
        time.sleep(0.001)' "$1"
}
# evstat FIELD: FIELD of the last "stats: event-log" line.
evstat() {
	grep '^ntfw: stats: event-log lines=' "$NTFW_LOG" | tail -n 1 |
		sed -n "s/.* $1=\([0-9]*\).*/\1/p"
}

# ---- (1) every line parses; drops limited ----
conf "$EVLOG"
ntfw_start "$S" "$CONF"
assert_eq "pings answered" 3 "$(ping_count "$C" 10.213.0.1 3)"
http_get "$C" http://10.213.0.1:8080/
assert_eq "curl" 0 "$HTTP_RC"
udp_send 100
sleep 1.2 # a new second: the next drop line carries the count left out
udp_send 1
ntfw_reload
grep -q '^ntfw: reloaded:' "$NTFW_LOG" || fail "good reload refused"
cp "$CONF" "$CONF.good"
conf 'a\b"c'
ntfw_reload
grep -q '^ntfw: reload failed' "$NTFW_LOG" || fail "bad reload taken"
ntfw_stats
dropped=$(rule_pkts no-udp)
assert_eq "no-udp counter" 101 "$dropped"
ntfw_stop # writes the open flows
python3 - "$EVLOG" >"$T_TMP/summary" <<'P' || fail "event log: $(cat "$T_TMP/summary")"
import collections, json, sys
ev = collections.Counter()
drops = sup = 0
reload_ok = reload_err = 0
for n, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    r = json.loads(line)
    if not isinstance(r, dict) or not isinstance(r.get("ts"), float) or \
       not isinstance(r.get("event"), str):
        sys.exit("line %d: no ts or event: %s" % (n, line))
    ev[r["event"]] += 1
    if r["event"] == "drop" and r["rule"] == "no-udp":
        assert r["proto"] == "udp" and r["dport"] == 9999, line
        assert r["src"] == "10.213.0.2" and r["state"] in ("new", "established"), line
        assert r["in"] == "s0", line
        drops += 1
        sup += r["suppressed"]
    if r["event"] == "reload" and r["result"] == "ok":
        reload_ok += 1
    if r["event"] == "reload" and r["result"] == "error":
        reload_err += 1
        if not r["error"].endswith("error: event-log needs an absolute path, got 'a\\b\"c'"):
            sys.exit("reload error text: %r" % r["error"])
    if r["event"] == "flow":
        assert list(r)[:4] == ["ts", "event", "family", "proto"], line
print("lines", sum(ev.values()))
for k, v in sorted(ev.items()):
    print("event", k, v)
print("drops", drops)
print("suppressed", sup)
print("reload_ok", reload_ok)
print("reload_err", reload_err)
P
field() { sed -n "s/^$1 //p" "$T_TMP/summary"; }
info "ok: all $(field lines) lines parse, each with ts and event"
assert_ge "flow lines" 3 "$(field 'event flow')"
assert_eq "reload ok lines" 1 "$(field reload_ok)"
assert_eq "reload error lines" 1 "$(field reload_err)"
assert_ge "error lines (the parser's message)" 1 "$(field 'event error')"
# 100 in well under a second, then one more a second later: at most
# 5 lines a second, each packet either a line or counted in one.
d=$(field drops)
[ "$d" -ge 2 ] && [ "$d" -le 11 ] || fail "drop lines: $d, expected 2..11"
info "ok: $d drop lines for 101 packets"
assert_eq "drop lines + suppressed = dropped" "$dropped" "$((d + $(field suppressed)))"

# ---- (2) a FIFO nobody reads ----
mkfifo "$T_TMP/fifo"
cp "$CONF.good" "$CONF"
LIMIT=1000000 conf "$T_TMP/fifo"
ntfw_start "$S" "$CONF"
# No reader at all first: the daemon runs, lines are dropped.
udp_send 50
sleep 0.3
ntfw_stats
assert_ge "lines dropped, no reader" 1 "$(evstat dropped)"
# Then a reader that opens and never reads: the pipe fills.
bg "$T_TMP/holder.log" python3 -c '
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
time.sleep(30)' "$T_TMP/fifo"
sleep 1.5 # the writer tries the FIFO again once a second
bg "$T_TMP/ping.log" ip netns exec "$C" ping -n -q -c 40 -i 0.05 -W 1 10.213.0.1
PING_PID=$BG_PID
udp_send 20000
udp_send 20000
wait "$PING_PID"
got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T_TMP/ping.log")
# A stalled writer would stall every worker: no ping answered.  A few
# may share the fate of the burst's datagrams in a full queue (more so
# under the sanitizers), which is not a stall.
assert_ge "pings answered while the FIFO is full (of 40)" 30 "$got"
ntfw_stats
# (The kernel may lose a few datagrams of the burst before the queue.)
assert_ge "no-udp counter" 30000 "$(rule_pkts no-udp)"
lost=$(evstat dropped)
# The pipe and the writer's batch hold 128 KiB (some 600 lines).
assert_ge "lines dropped with the FIFO full" 20000 "$lost"
info "ok: $lost lines dropped, $(evstat lines) written into the pipe"
ntfw_stop

# ---- (3) SIGUSR2 reopens after a rename ----
rm -f "$EVLOG"
cp "$CONF.good" "$CONF"
conf "$EVLOG"
ntfw_start "$S" "$CONF"
udp_send 1
wait_for 3 grep -q '"event":"drop"' "$EVLOG" || fail "no drop line"
mv "$EVLOG" "$EVLOG.1"
ntfw_signal USR2 '^ntfw: event-log reopened'
[ -e "$EVLOG" ] || fail "no new event log after SIGUSR2"
sleep 1.1 # a new second for the drop limit
udp_send 1
wait_for 3 grep -q '"event":"drop"' "$EVLOG" || fail "no drop line in the new file"
assert_eq "lines in the rotated file" 1 "$(grep -c '"event":"drop"' "$EVLOG.1")"
# The same through the control socket: "ntfwctl reopen".
mv "$EVLOG" "$EVLOG.2"
out=$("$BUILD/ntfwctl" -s "$T_TMP/ctl.sock" reopen 2>&1) ||
	fail "ntfwctl reopen: $out"
assert_eq "ntfwctl reopen says" "event log reopened" "$out"
[ -e "$EVLOG" ] || fail "no new event log after ntfwctl reopen"
ntfw_stats
assert_eq "reopens" 2 "$(evstat reopens)"
ntfw_stop

# ---- (4) the drop-line limit holds for the daemon, not per queue ----
# Four queues; 400 datagrams from 8 source addresses (the kernel spreads
# by address) in well under a second: at most 5 drop lines a second
# whatever the queues.
ip netns exec "$S" "$NTFW_RULES" remove >/dev/null 2>&1 ||
	fail "ntfw-rules remove failed"
rules_install "$S" -q 0-3
for a in 3 4 5 6 7 8 9; do ip -n "$C" addr add 10.213.0.$a/24 dev c0; done
rm -f "$EVLOG"
cp "$CONF.good" "$CONF"
conf "$EVLOG" "queue 0-3"
ntfw_start "$S" "$CONF"
sleep 0.2
ip netns exec "$C" python3 -c '
import socket
ss = []
for a in range(2, 10):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("10.213.0.%d" % a, 0))
    ss.append(s)
for i in range(400):
    ss[i % 8].sendto(b"x" * 32, ("10.213.0.1", 9999))'
ntfw_stats
ntfw_stop
dropped=$(rule_pkts no-udp)
assert_eq "no-udp counter, four queues" 400 "$dropped"
queues=0
for q in 0 1 2 3; do
	[ "$(stat_field "queue $q" given)" -gt 0 ] && queues=$((queues + 1))
done
assert_ge "queues that got datagrams" 2 "$queues"
read -r d sup < <(python3 -c '
import json, sys
d = s = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["event"] == "drop":
        d += 1
        s += r["suppressed"]
print(d, s)' "$EVLOG")
# The burst may straddle a second's boundary: two seconds' worth at most.
[ "$d" -ge 1 ] && [ "$d" -le 10 ] ||
	fail "drop lines from four queues: $d, expected 1..10 (limit 5 a second)"
info "ok: $d drop lines for 400 datagrams over $queues queues"
# The lines left out after the last line are not reported (no later line).
assert_ge "lines + suppressed, at most the datagrams" "$((d + sup))" 400
