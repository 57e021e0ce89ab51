#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# "fastpath-feed bpf": the eBPF netfilter producer of the fast-path
# records, on this machine's kernel.  With the fast path on, a bulk TCP
# transfer and pings bypass the queue, and the flows' records still count
# every packet and byte the client's interface counted (IPv6 off and
# static neighbours: nothing else crosses it), with every GSO segment
# counted (the client's TCP counters); their features equal those of the
# same traffic with the fast path off, field by field, but for the fields
# TCP's timing decides.  The links go when the daemon exits; "auto"
# takes the eBPF feed, and falls back with one line when it cannot load.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip python3 iptables ip6tables bpftool ethtool ping cc setpriv
topo_pair
rules_install "$S"

cc -O2 -Wall -o "$T_TMP/bulk" "$TOP/tests/vm/bulk.c" || fail "cannot build bulk"
# A multiple of the MSS (1448 with timestamps): whole segments only.
XFER=$((1448 * 2048))
PINGS=20

# our_links: the BPF links the running daemon holds (its descriptors'
# fdinfo), as "ID PF HOOK PRIO" lines; other daemons' on this machine
# (other tests' namespaces) are not ours to count.
our_links() {
	local f
	for f in /proc/"$NTFW_PID"/fdinfo/*; do
		awk '$1 == "link_type:" { t = $2 } $1 == "link_id:" { id = $2 }
			$1 == "prog_id:" { p = $2 }
			$1 == "pf:" { pf = $2; h = $4; pr = $6 }
			END { if (t == "netfilter") print id, p, pf, h, pr }' "$f" 2>/dev/null
	done
}
# gone IDS...: none of the link IDs is left (bpftool 7.1 predates the
# netfilter link type and lists it as "type 10").
gone() {
	local id
	for id in "$@"; do
		bpftool link show id "$id" >/dev/null 2>&1 && return 1
	done
	return 0
}

# rec PROTO PORT FILE: the last event-log record of the flow to PORT (0:
# any) of PROTO, one "field=value" a line.
rec() {
	python3 - "$1" "$2" "$3" <<'P'
import json, sys
proto, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
last = None
for line in open(path):
    r = json.loads(line)
    if r.get("proto") == proto and (not port or r.get("server_port") == port):
        last = r
for k, v in (last or {}).items():
    print(f"{k}={v}")
P
}
field() { sed -n "s/^$2=//p" "$1"; }
ctr() { ip netns exec "$C" cat "/sys/class/net/c0/statistics/$1"; }
# tcpmib NS FIELD: the TCP counter FIELD of NS.  OutSegs counts each
# segment a GSO packet will be cut into, retransmissions aside (those are
# RetransSegs); InSegs counts packets as they arrive, GSO ones whole.
tcpmib() {
	ip netns exec "$1" awk -v f="$2" '$1 == "Tcp:" && !n { for (i = 2; i <= NF; i++) h[i] = $i; n = 1; next }
		$1 == "Tcp:" { for (i = 2; i <= NF; i++) if (h[i] == f) print $i }' /proc/net/snmp
}
# The segments each way: the server's and the client's sent.
insegs() { echo $(($(tcpmib "$S" OutSegs) + $(tcpmib "$S" RetransSegs))); }
outsegs() { echo $(($(tcpmib "$C" OutSegs) + $(tcpmib "$C" RetransSegs))); }

# xfer: one bulk transfer from the server to the client on port 8081.
xfer() {
	: >"$T_TMP/bulk-s.log"
	bg "$T_TMP/bulk-s.log" ip netns exec "$S" timeout 60 "$T_TMP/bulk" serve 10.213.0.1 8081 "$XFER"
	local bs=$BG_PID
	wait_for 5 grep -q ready "$T_TMP/bulk-s.log" || fail "bulk server did not start"
	ip netns exec "$C" timeout 60 "$T_TMP/bulk" get 10.213.0.1 8081 >"$T_TMP/xfer.out" 2>&1
	wait "$bs"
	assert_eq "bytes transferred" "$XFER" "$(cut -d' ' -f1 "$T_TMP/xfer.out")"
}

conf() { # conf NAME FEED FASTPATH
	cat >"$T_TMP/$1.conf" <<C
control-socket $T_TMP/ntfw.sock
metrics-file $T_TMP/metrics.prom
metrics-interval 1
fastpath-feed $2
fastpath $3
event-log $T_TMP/ev-$1.json
accept name bulk proto tcp dport 8081
accept name ping proto icmp icmp-type echo-request
accept name ping6 proto icmpv6 icmp-type echo-request
C
}

# --- the feed attaches, IPv6 included, and its links go at exit --------
conf v6 bpf "after 4"
ntfw_start "$S" "$T_TMP/v6.conf"
grep -q '^ntfw: fastpath feed: bpf: netfilter program, 4 links' "$NTFW_LOG" ||
	fail "no feed line: $(cat "$NTFW_LOG")"
our_links >"$T_TMP/links"
info "the daemon's links (id prog pf hook priority): $(tr '\n' '|' <"$T_TMP/links")"
assert_eq "the daemon's netfilter links, both families and hooks" \
	"2 0 -198|2 4 302|10 0 -198|10 4 302|" \
	"$(cut -d' ' -f3- "$T_TMP/links" | sort -n | tr '\n' '|')"
ids=$(cut -d' ' -f1 "$T_TMP/links")
prog=$(cut -d' ' -f2 "$T_TMP/links" | sort -u)
assert_eq "the links' program is ntfw_feed" ntfw_feed \
	"$(bpftool prog show id "$prog" | sed -n 's/.* name \([^ ]*\) .*/\1/p')"
ip netns exec "$C" ping -6 -c "$PINGS" -i 0.05 -s 56 -q fd00:213::1 >/dev/null ||
	fail "ping -6 failed"
sleep 0.1
# What ntfwctl and the metrics say of the feed.
st=$("$BUILD/ntfwctl" -s "$T_TMP/ntfw.sock" status) || fail "ntfwctl status failed"
line=$(grep '^fastpath feed ' <<<"$st")
info "ntfwctl status: $line"
grep -qE '^fastpath feed bpf \(fastpath-feed bpf\): read [1-9][0-9]*, applied [1-9][0-9]*, unknown-flow 0, kernel-dropped 0, queue-full 0$' <<<"$line" ||
	fail "ntfwctl status: $st"
js=$("$BUILD/ntfwctl" -j -s "$T_TMP/ntfw.sock" status) || fail "ntfwctl status --json failed"
assert_eq "status --json: the feed that runs, as configured" "bpf bpf" \
	"$(python3 -c 'import json, sys; f = json.loads(sys.argv[1])["fastpath_feed"]; print(f["active"], f["mode"])' "$js")"
wait_for 3 grep -q '^ntfw_fastpath_feed_active{feed="bpf"} 1$' "$T_TMP/metrics.prom" ||
	fail "metrics: $(grep feed "$T_TMP/metrics.prom" 2>/dev/null)"
grep -q '^ntfw_ring_records_total{feed="bpf",result="applied"} [1-9]' "$T_TMP/metrics.prom" ||
	fail "metrics: $(grep ring_records "$T_TMP/metrics.prom")"
ntfw_stop
rec ipv6-icmp 0 "$T_TMP/ev-v6.json" >"$T_TMP/r6"
[ -s "$T_TMP/r6" ] || rec icmpv6 0 "$T_TMP/ev-v6.json" >"$T_TMP/r6"
info "ping6 record: $(tr '\n' ' ' <"$T_TMP/r6")"
# 40 + 8 + 56 bytes a packet, each way.
assert_eq "ping6 packets, both ways" "$((2 * PINGS))" \
	"$(($(field "$T_TMP/r6" pkts_c2s) + $(field "$T_TMP/r6" pkts_s2c)))"
assert_eq "ping6 bytes, both ways" "$((2 * PINGS * 104))" \
	"$(($(field "$T_TMP/r6" bytes_c2s) + $(field "$T_TMP/r6" bytes_s2c)))"
assert_ge "ring records applied (IPv6)" "$((2 * PINGS - 8))" "$(stat_field ring applied)"
# The kernel frees them after the last reference; give it a moment.
# shellcheck disable=SC2086
wait_for 3 gone $ids || fail "links left after the daemon exited: $(bpftool link show)"
wait_for 3 eval '! bpftool prog show id "$prog"' ||
	fail "program $prog left after the daemon exited"
info "ok: the links and the program went with the daemon"

# --- counting: nothing but our traffic crosses c0 -----------------------
for ns in "$C" "$S"; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
done
ip -n "$S" neigh replace 10.213.0.2 dev s0 lladdr "$(ip netns exec "$C" cat /sys/class/net/c0/address)" nud permanent
ip -n "$C" neigh replace 10.213.0.1 dev c0 lladdr "$(ip netns exec "$S" cat /sys/class/net/s0/address)" nud permanent
# The client advertises 128 KiB at most: the fast path's bursts then fit
# the receiving backlog, and neither run loses a segment to it.
ip -n "$C" route replace 10.213.0.0/24 dev c0 window 131072 ||
	fail "cannot clamp the client's window"

# run NAME FEED FASTPATH: the transfer and the pings under that config;
# the deltas of c0's counters and of the client's TCP segments in
# $T_TMP/NAME.ctr.
run() {
	conf "$1" "$2" "$3"
	ntfw_start "$S" "$T_TMP/$1.conf"
	local rp=$(ctr rx_packets) rb=$(ctr rx_bytes) tp=$(ctr tx_packets) \
		tb=$(ctr tx_bytes) is=$(insegs) os=$(outsegs)
	xfer
	ip netns exec "$C" ping -c "$PINGS" -i 0.05 -q 10.213.0.1 >/dev/null ||
		fail "ping failed"
	# The records wait for the reader's next turn (10 ms).
	sleep 0.2
	echo "$(($(ctr rx_packets) - rp)) $(($(ctr rx_bytes) - rb)) $(($(ctr tx_packets) - tp)) $(($(ctr tx_bytes) - tb)) $(($(insegs) - is)) $(($(outsegs) - os))" >"$T_TMP/$1.ctr"
	ntfw_stats
	cp "$NTFW_LOG" "$T_TMP/$1.log"
	ntfw_stop
	rec tcp 8081 "$T_TMP/ev-$1.json" >"$T_TMP/$1.tcp"
	rec icmp 0 "$T_TMP/ev-$1.json" >"$T_TMP/$1.icmp"
	[ -s "$T_TMP/$1.tcp" ] && [ -s "$T_TMP/$1.icmp" ] ||
		fail "$1: no flow records: $(cat "$T_TMP/ev-$1.json")"
}

# adds_up NAME: the flows' records against c0's counters: every packet
# of the two flows, each way, and its bytes with the Ethernet header.
# The kernel's conntrack passes some packets that TCP itself refuses (the
# rest of a first window the queue released after the connection ended,
# the client's RSTs to it: seen when a loaded machine delays the queue's
# verdicts by milliseconds); the daemon's tracking refuses them too and
# counts them as ring records "invalid", outside the flow's counters.
# Then the counts add up with them, and each direction stays within.
adds_up() {
	local t=$T_TMP/$1.tcp i=$T_TMP/$1.icmp inv
	inv=$(NTFW_LOG=$T_TMP/$1.log stat_field ring invalid)
	inv=${inv:-0} # no feed, no ring line
	set -- $(cat "$T_TMP/$1.ctr")
	local s2c=$(($(field "$t" pkts_s2c) + $(field "$i" pkts_s2c)))
	local c2s=$(($(field "$t" pkts_c2s) + $(field "$i" pkts_c2s)))
	local bs2c=$(($(field "$t" bytes_s2c) + $(field "$i" bytes_s2c) + 14 * s2c))
	local bc2s=$(($(field "$t" bytes_c2s) + $(field "$i" bytes_c2s) + 14 * c2s))
	assert_eq "pings each way" "$PINGS $PINGS" "$(field "$i" pkts_c2s) $(field "$i" pkts_s2c)"
	if [ "$inv" = 0 ]; then
		assert_eq "packets c0 received = the records' server-to-client packets" "$1" "$s2c"
		assert_eq "bytes c0 received = the records' (with 14 a packet)" "$2" "$bs2c"
		assert_eq "packets c0 sent = the records' client-to-server packets" "$3" "$c2s"
		assert_eq "bytes c0 sent = the records' (with 14 a packet)" "$4" "$bc2s"
		return
	fi
	info "$inv ring records refused by the flow's TCP tracking"
	assert_eq "packets c0 counted = the records' packets + the refused ones" \
		"$(($1 + $3))" "$((s2c + c2s + inv))"
	[ "$s2c" -le "$1" ] && [ "$c2s" -le "$3" ] && [ "$bs2c" -le "$2" ] && [ "$bc2s" -le "$4" ] ||
		fail "records past c0's counts: $s2c $bs2c $c2s $bc2s against $*"
}

# (a) segmentation offload off on the server's veth: the stack still builds
# GSO packets, the hooks see them whole, and they are cut into segments
# before the device, which counts each: the records' gso_segs must make
# up for it.
ip netns exec "$S" ethtool -K s0 tso off gso off >/dev/null 2>&1 ||
	fail "cannot turn segmentation offload off on s0"
run bpf bpf "after 4"
info "c0 rx packets, bytes, tx packets, bytes; TCP segments sent by server, client: $(cat "$T_TMP/bpf.ctr")"
info "$(grep '^ntfw: stats: ring ' "$T_TMP/bpf.log")"
info "$(grep '^ntfw: stats: queue ' "$T_TMP/bpf.log")"
NTFW_LOG=$T_TMP/bpf.log
applied=$(stat_field ring applied)
given=$(stat_field "queue 0" given)
assert_eq "records the kernel lost" 0 "$(stat_field ring kernel-dropped)"
assert_eq "records of no known flow" 0 "$(stat_field ring unknown-flow)"
# The fast path carried the traffic: the queue saw the handshakes, the
# first packets and what was in flight at the hand-off.
assert_ge "records applied (of $XFER bytes and $PINGS pings)" 100 "$applied"
[ "$given" -le 200 ] || fail "$given packets still queued"
adds_up bpf

# (b) the same with the fast path off: every packet queued.
run queued off off
adds_up queued
# The fields TCP's timing does not decide must agree exactly (the list of
# tests/vm/guest.sh, the module's twin of this check).  Two transfers
# are two runs of TCP: the fast path sends a burst the client's backlog
# may not hold, the queue paces it, so retransmissions (real packets on
# the wire, counted above against the interface), segment sizes, ACKs,
# RTT samples and the end differ by nature.  The data bytes must agree
# when neither run retransmitted (the window clamp above sees to that).
tcp_same="family proto client_addr server_addr server_port midstream verdict rule syn_c2s syn_s2c rst_c2s rst_s2c fin_s2c syn_window_c2s syn_window_s2c max_segm_s2c data_pkts_c2s data_bytes_c2s"
# A ping is no TCP: everything but the clock and the echo id.
icmp_skip='^(ts|event|client_port|server_port|first_ts|last_ts|duration|iat_[a-z_0-9]*)='
for f in tcp icmp; do
	info "$f record, queued: $(tr '\n' ' ' <"$T_TMP/queued.$f")"
	info "$f record, eBPF feed: $(tr '\n' ' ' <"$T_TMP/bpf.$f")"
done
d=$(awk -F= -v same="$tcp_same" 'NR == FNR { q[$1] = $2; next } { r[$1] = $2 }
	END {
		n = split(same, f, " ")
		for (i = 1; i <= n; i++)
			if (q[f[i]] != r[f[i]])
				printf "%s=%s (queued %s) ", f[i], r[f[i]], q[f[i]]
		if (r["rexmit_s2c"] == 0 && q["rexmit_s2c"] == 0 &&
		    r["data_bytes_s2c"] != q["data_bytes_s2c"])
			printf "data_bytes_s2c=%s (queued %s) ", r["data_bytes_s2c"], q["data_bytes_s2c"]
	}' "$T_TMP/queued.tcp" "$T_TMP/bpf.tcp")
info "retransmissions: fast path $(field "$T_TMP/bpf.tcp" rexmit_s2c), queued $(field "$T_TMP/queued.tcp" rexmit_s2c)"
[ -z "$d" ] || fail "tcp record differs from the all-queued one: $d"
d=$(diff <(grep -vE "$icmp_skip" "$T_TMP/queued.icmp") <(grep -vE "$icmp_skip" "$T_TMP/bpf.icmp") | grep '^[<>]' | tr '\n' ' ')
[ -z "$d" ] || fail "icmp record differs from the all-queued one: $d"
info "ok: the records' features agree with all-queued ones"

# (c) segmentation offload on: GSO packets cross the veth whole (c0
# counts packets, not segments), the records say how many segments each
# carries, and the flow counts the segments the server's TCP sent and the
# packets the client's interface sent.
ip netns exec "$S" ethtool -K s0 tso on gso on >/dev/null 2>&1
run gso bpf "after 4"
set -- $(cat "$T_TMP/gso.ctr")
info "gso run: c0 received $1 packets; TCP segments sent: server $5, client $6"
info "gso run: $(grep '^ntfw: stats: ring ' "$T_TMP/gso.log")"
info "gso run: $(grep '^ntfw: stats: queue ' "$T_TMP/gso.log")"
info "gso run: $(grep '^ntfw: stats: state ' "$T_TMP/gso.log")"
info "gso record: $(tr '\n' ' ' <"$T_TMP/gso.tcp")"
# The client's segments are ACKs, one packet each, counted by c0 when the
# peer took them; TCP's own count ($6) also has those the veth dropped
# when the receiving CPU's backlog was full of the server's burst, which
# no hook ever saw.
info "gso run: client's ACKs that c0 could not deliver: $(($6 - ($3 - PINGS)))"
inv=$(NTFW_LOG=$T_TMP/gso.log stat_field ring invalid)
s2c=$(field "$T_TMP/gso.tcp" pkts_s2c)
c2s=$(field "$T_TMP/gso.tcp" pkts_c2s)
if [ "$inv" = 0 ]; then
	assert_eq "server's TCP segments = the record's server-to-client packets" "$5" "$s2c"
	assert_eq "packets c0 sent, less the pings = the record's client-to-server packets" \
		"$(($3 - PINGS))" "$c2s"
else
	# As in adds_up: what TCP refused is counted apart.
	info "gso run: $inv ring records refused by the flow's TCP tracking"
	assert_eq "server's TCP segments + c0's sent less the pings = the record's + the refused" \
		"$(($5 + $3 - PINGS))" "$((s2c + c2s + inv))"
fi
[ "$1" -lt "$5" ] || info "note: no GSO packet reached c0 ($1 skbs for $5 segments)"

# --- auto takes the eBPF feed; without the right to load it, one line ---
conf auto auto "after 4"
ntfw_start "$S" "$T_TMP/auto.conf"
grep -q '^ntfw: kmod ring: none (/proc/ntfw/ring absent)$' "$NTFW_LOG" ||
	fail "no kmod line: $(cat "$NTFW_LOG")"
grep -q '^ntfw: fastpath feed: bpf: ' "$NTFW_LOG" || fail "auto did not take bpf: $(cat "$NTFW_LOG")"
ntfw_stop
# Without CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN the kernel refuses the
# load: the daemon says so once and serves the queue without a feed.
NTFW_LOG=$T_TMP/ntfw.log
: >"$NTFW_LOG"
bg "$NTFW_LOG" ip netns exec "$S" setpriv --inh-caps=-bpf,-perfmon,-sys_admin \
	--bounding-set=-bpf,-perfmon,-sys_admin "$NTFW" -d -c "$T_TMP/auto.conf"
NTFW_PID=$BG_PID
wait_for 5 grep -q '^ntfw: ready:' "$NTFW_LOG" ||
	fail "auto without the right to load BPF did not start: $(cat "$NTFW_LOG")"
line=$(grep 'fastpath-feed' "$NTFW_LOG")
info "$line"
assert_eq "lines about the feed" 1 "$(grep -c 'fastpath-feed\|fastpath feed' "$NTFW_LOG")"
grep -q '^ntfw: fastpath-feed auto: no eBPF feed, no permission to load BPF (CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON needed): bpf(BPF_PROG_LOAD) of a netfilter program: Operation not permitted; handed-off flows keep the features of their queued packets only$' "$NTFW_LOG" ||
	fail "not the expected line: $line"
ip netns exec "$C" ping -c 2 -i 0.1 -q 10.213.0.1 >/dev/null || fail "no ping without the feed"
assert_eq "links of a daemon without a feed" "" "$(our_links)"
ntfw_stop
exit 0
