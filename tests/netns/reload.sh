#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# SIGHUP reloads the configuration: a port accepted becomes dropped for
# new connections, the counters of rules that keep their name and verdict
# go on, the event log is reopened and the queue takes the new copy-range.
# A file with an error, or an event log that cannot be opened, changes
# nothing; a new "queue" is warned about and kept.  A ping runs throughout, reloads included, and loses nothing.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip curl ping python3 iptables ip6tables
LOOPS=${RELOAD_LOOPS:-20}
topo_pair
rules_install "$S"
http_serve "$S" 0.0.0.0 8080

CONF=$T_TMP/ntfw.conf
FLOWS=$T_TMP/flows.json
# conf WEB [LINE...]: the policy, with the verdict WEB for port 8080 and
# LINEs first.
conf() {
	local web=$1
	shift
	{
		printf '%s\n' "$@"
		cat <<C
default drop
event-log $FLOWS
accept name out  hook output
accept name icmp proto icmp
$web name web proto tcp dport 8080
C
	} >"$CONF.new"
	mv "$CONF.new" "$CONF"
}
# copy_range: the copy range the kernel has for queue 0.
copy_range() {
	ip netns exec "$S" awk '$1 == 0 {print $5}' /proc/net/netfilter/nfnetlink_queue
}

conf accept
ntfw_start "$S" "$CONF"
bg "$T_TMP/ping.log" ip netns exec "$C" ping -n -q -i 0.1 10.213.0.1
PING_PID=$BG_PID
http_get "$C" http://10.213.0.1:8080/
assert_eq "curl before the reload" 0 "$HTTP_RC"
assert_eq "copy range at start" 512 "$(copy_range)"
ntfw_stats
icmp0=$(rule_pkts icmp)
assert_ge "icmp counter before the reload" 1 "$icmp0"

# The port is dropped now; the log file was rotated meanwhile.
mv "$FLOWS" "$FLOWS.1"
conf drop "copy-range 256"
ntfw_reload
grep -q '^ntfw: reloaded: 3 rules, default drop, open flows decided again$' "$NTFW_LOG" ||
	fail "no 'reloaded' line: $(tail -3 "$NTFW_LOG")"
info "ok: reloaded: 3 rules, default drop, open flows decided again"
[ -e "$FLOWS" ] || fail "the event log was not reopened"
info "ok: event log reopened"
assert_eq "copy range after the reload" 256 "$(copy_range)"
http_get "$C" http://10.213.0.1:8080/
assert_eq "curl after the reload (28 = timed out)" 28 "$HTTP_RC"
ntfw_stats
grep -q '^ntfw: stats: rule web drop ' "$NTFW_LOG" || fail "no counter for 'web drop'"
web=$(rule_pkts web)
assert_ge "web drop counter (the SYN, retransmitted)" 2 "$web"
assert_ge "icmp counter kept across the reload" "$((icmp0 + 1))" "$(rule_pkts icmp)"

# An error: logged where it is, and the running policy stays.
conf drop "acept name typo proto udp" "copy-range 128"
ntfw_reload
grep -q "^ntfw: $CONF:1:1: error: unknown keyword 'acept'$" "$NTFW_LOG" ||
	fail "parse error not logged: $(tail -5 "$NTFW_LOG")"
info "ok: the error is logged with file:line:col"
grep -q '^ntfw: reload failed, keeping the running configuration$' "$NTFW_LOG" ||
	fail "no 'reload failed' line"
kill -0 "$NTFW_PID" || fail "ntfw died on a bad config"
assert_eq "copy range kept" 256 "$(copy_range)"
http_get "$C" http://10.213.0.1:8080/
assert_eq "curl after the failed reload (28 = timed out)" 28 "$HTTP_RC"
ntfw_stats
assert_ge "web drop counter still counts" "$((web + 2))" "$(rule_pkts web)"
# So is a file whose event log cannot be opened.
FLOWS=/nonexistent/ntfw/flows.json conf accept
ntfw_reload
grep -q '^ntfw: event-log /nonexistent/ntfw/flows.json: No such file or directory$' \
	"$NTFW_LOG" || fail "event-log error not logged: $(tail -3 "$NTFW_LOG")"
assert_eq "reloads refused" 2 "$(grep -c '^ntfw: reload failed' "$NTFW_LOG")"

# Another queue needs a restart: warned about, kept; the rest applies.
conf accept "queue 5"
ntfw_reload
grep -q "^ntfw: reload: 'queue' changed, restart to apply$" "$NTFW_LOG" ||
	fail "no warning for 'queue': $(tail -3 "$NTFW_LOG")"
info "ok: 'queue' warned about"
assert_eq "queue 0 still bound, with copy-range 512 again" 512 "$(copy_range)"
http_get "$C" http://10.213.0.1:8080/
assert_eq "curl with port 8080 accepted again" 0 "$HTTP_RC"

# Reloads in a row, under traffic.
for i in $(seq "$LOOPS"); do
	ntfw_reload
done
assert_eq "reloads logged" $((LOOPS + 2)) "$(grep -c '^ntfw: reloaded:' "$NTFW_LOG")"
http_get "$C" http://10.213.0.1:8080/
assert_eq "curl after $LOOPS more reloads" 0 "$HTTP_RC"

kill -INT "$PING_PID"
wait "$PING_PID"
sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$T_TMP/ping.log")
got=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T_TMP/ping.log")
assert_ge "pings sent" 20 "$sent"
# The last request may still be on its way when ping stops.
assert_ge "pings answered throughout" "$((sent - 1))" "$got"

ntfw_stats
grep -q "^ntfw: stats: reloads done=$((LOOPS + 2)) failed=2$" "$NTFW_LOG" ||
	fail "reloads not counted: $(grep '^ntfw: stats: reloads' "$NTFW_LOG" | tail -1)"
info "ok: reloads counted"
ntfw_stop
# The flows still open at the stop went to the new file; the web flows
# keep the name of their rule.
grep -q '"rule":"web"' "$FLOWS" || fail "no web flow in the new event log"
info "ok: flow records in the reopened event log"
