#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# make bench: measurements taken side by side in one run, each reported as
# a ratio to its baseline measured in the same run.  Writes a table on
# stdout, bench/results.json and a chart of the packet rates,
# bench/results.png (gnuplot).  Root; every network figure is taken in a
# pair of namespaces joined by a veth, the firewall in the server's.
# Network figures 1-4 are the median of BENCH_RUNS (default 3) rounds;
# each round measures every setup once, one after the other.
#
# 1. small packets, every packet queued: 64-byte UDP datagrams from two
#    senders (bench/udpflood, sendmmsg) to a sink (bench/udpsink), for
#    BENCH_SECONDS (default 3) each: no queue at all; libnetfilter_queue's
#    own example nf-queue.c; ntfw with 1 queue and a 100-rule policy; ntfw
#    with 2 queues.  Datagrams per second received.
# 2. TCP bulk: iperf3 for BENCH_SECONDS: no firewall; ntfw with
#    "fastpath after 8"; ntfw with "fastpath off" (every packet queued).
# 3. new TCP connections per second (bench/tcpbench crr: connect, one
#    byte there and back, close), for BENCH_SECONDS: no firewall; the
#    ruleset with no daemon bound (conntrack and bypass accepts);
#    nf-queue.c; ntfw; ntfw with "fastpath after 1" (only each
#    connection's SYN queued).
# 4. latency: 20000 one-byte TCP round trips on one connection (bench/
#    tcpbench rr), p50 and p99: no firewall; ntfw; the difference.
# 5. memory: peak resident size of "ntfw -r" filling a table of 10 k,
#    100 k and 1 M flows (one SYN each, bench/pcapgen.py --syn, "flows max"
#    the same); bytes per flow from the difference.
# 6. offline: "ntfw -r" against "tcptrace -l -r -n" on the same capture
#    of BENCH_PACKETS (default 1000000) packets made by bench/pcapgen.py,
#    and on one of 1,000 packets: wall time (best of BENCH_RUNS, default 3;
#    of 10 for the small one, where start-up is all there is) and peak
#    resident memory.  BENCH_ONLY=offline runs this section alone (no
#    root needed).
# 7. policy size: the cost of a packet with a 100,000-prefix set and with
#    10,000 rules, each as a ratio to a 10-rule, 10-prefix policy on the
#    same traffic: offline ("ntfw -r" on a 200,000-packet capture, best of
#    BENCH_POLICY_RUNS, default 7) and live (section 1's 64-byte UDP
#    flood, median of BENCH_RUNS rounds; cost is 1 / datagrams per second).
#    No packet matches a rule: every one is checked against them all.
#    BENCH_ONLY=policy runs this section alone.
# 8. the eBPF fast-path feed: TCP bulk (iperf3, BENCH_SECONDS, median of
#    BENCH_RUNS) with "fastpath after 8" and "fastpath-feed bpf" as a ratio
#    to no firewall (goal: 0.9 or more), beside the fast path with no feed;
#    and the daemon's CPU time (utime + stime of /proc/PID/stat) per GB
#    received, with the feed and without.  BENCH_ONLY=bpf runs this
#    section alone.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
. tests/lib.sh
set -e
PACKETS=${BENCH_PACKETS:-1000000}
RUNS=${BENCH_RUNS:-3}
SECONDS_EACH=${BENCH_SECONDS:-3}
WORK=$T_TMP
die() { echo "bench: $*" >&2; exit 1; }
ratio() { awk "BEGIN {printf \"%.2f\", $1 / ($2 > 0 ? $2 : 1)}"; }
goal() { awk "BEGIN {print ($1) ? \"met\" : \"missed\"}"; }
NEEDS="tcptrace python3 iperf3 gnuplot"
[ "${BENCH_ONLY:-}" = policy ] && NEEDS=python3
[ "${BENCH_ONLY:-}" = offline ] && NEEDS="tcptrace python3"
[ "${BENCH_ONLY:-}" = vm ] && NEEDS=
for c in $NEEDS; do
	command -v "$c" >/dev/null || die "$c is not installed (make deps)"
done
[ -x /usr/bin/time ] || die "/usr/bin/time is not installed (apt-get install time)"

# best N CMD...: best wall time (s) over N runs, then the peak RSS (kB) of
# one more run, printed as "SECONDS KB".  The clock is the shell's, in
# microseconds: a run of a small capture takes a few milliseconds.
best() {
	local i n=$1 t0 t1 t bt=
	shift
	for i in $(seq "$n"); do
		t0=$EPOCHREALTIME
		"$@" >/dev/null 2>&1
		t1=$EPOCHREALTIME
		t=$(awk "BEGIN {printf \"%.4f\", $t1 - $t0}")
		if [ -z "$bt" ] || awk "BEGIN {exit !($t < $bt)}"; then
			bt=$t
		fi
	done
	/usr/bin/time -o "$WORK/time" -f "%M" "$@" >/dev/null 2>&1
	echo "$bt $(tail -n 1 "$WORK/time")"
}

# ---- 6. offline ----
# offline_row PACKETS RUNS: one capture of PACKETS, ntfw -r against
# tcptrace, into the off_* variables and a table on stdout.
offline_row() {
	local cap="$WORK/cap$1.pcap"

	python3 bench/pcapgen.py "$cap" "$1" >/dev/null
	read -r off_nt off_nkb < <(best "$2" build/ntfw -r "$cap")
	read -r off_tt off_tkb < <(best "$2" tcptrace -l -r -n "$cap")
	off_flows=$(build/ntfw -r "$cap" 2>/dev/null | wc -l)
	rm -f "$cap"
	off_speed=$(awk "BEGIN {printf \"%.1f\", $off_tt / ($off_nt > 0.0001 ? $off_nt : 0.0001)}")
	off_mem=$(awk "BEGIN {printf \"%.1f\", $off_tkb / $off_nkb}")
	printf '\n%-36s %12s %12s %10s\n' "6. offline, $1 packets" "ntfw -r" "tcptrace" "ratio"
	printf '%-36s %12s %12s %9sx\n' "wall time, best of $2 (s)" "$off_nt" "$off_tt" "$off_speed"
	printf '%-36s %12s %12s %9sx\n' "peak resident memory (kB)" "$off_nkb" "$off_tkb" "$off_mem"
	printf '%-36s %12s\n' "flow records written" "$off_flows"
}
# offline_section: both captures; the large one's figures stay in nt, tt...
offline_section() {
	echo
	echo "bench: offline, captures of 1000 and $PACKETS packets"
	offline_row 1000 10
	small_speed=$off_speed
	offline_row "$PACKETS" "$RUNS"
	nt=$off_nt nkb=$off_nkb tt=$off_tt tkb=$off_tkb flows=$off_flows
	speed=$off_speed mem=$off_mem
	echo "goal: ntfw -r at least 20x faster than tcptrace: $(goal "$speed >= 20")" \
		"($PACKETS packets; ${small_speed}x on 1000)"
}
if [ "${BENCH_ONLY:-}" = vm ]; then
	bench/vm.sh
	exit $?
fi
if [ "${BENCH_ONLY:-}" = offline ]; then
	offline_section
	exit 0
fi

# ---- the network figures ----
[ "$(id -u)" = 0 ] || die "run as root (sudo make bench)"
topo_pair
ip -n "$C" addr add 10.213.0.3/24 dev c0
# The connection loop opens thousands of connections from one address:
# let it reuse TIME_WAIT ports (the client's namespace only).
ip netns exec "$C" sysctl -qw net.ipv4.tcp_tw_reuse=1 \
	net.ipv4.ip_local_port_range="1024 65000"
# 100 rules that every packet is checked against and none matches: ports
# below the client's ephemeral range, so no reply matches either.
python3 -c 'print("\n".join("drop name r%d proto tcp dport %d" % (i, 100 + i) for i in range(100)))' \
	>"$WORK/rules100.conf"
printf 'queue 0-1\n' | cat - "$WORK/rules100.conf" >"$WORK/rules100q2.conf"
printf 'fastpath after 8\nfastpath-feed off\n' | cat - "$WORK/rules100.conf" >"$WORK/rules100fp.conf"
printf 'fastpath after 8\nfastpath-feed bpf\n' | cat - "$WORK/rules100.conf" >"$WORK/rules100bpf.conf"
printf 'fastpath after 1\n' | cat - "$WORK/rules100.conf" >"$WORK/rules100fp1.conf"

# udp_round: datagrams per second through the server's firewall now.
udp_round() {
	local f1 f2 got secs
	bg "$WORK/sink.log" ip netns exec "$S" build/bench/udpsink 10.213.0.1 9000 "$SECONDS_EACH"
	local sink=$BG_PID
	wait_for 5 grep -q ready "$WORK/sink.log" || die "udpsink did not start"
	ip netns exec "$C" build/bench/udpflood 10.213.0.2 10.213.0.1 9000 $((SECONDS_EACH + 1)) >/dev/null &
	f1=$!
	ip netns exec "$C" build/bench/udpflood 10.213.0.3 10.213.0.1 9000 $((SECONDS_EACH + 1)) >/dev/null &
	f2=$!
	wait "$sink" "$f1" "$f2"
	read -r got secs <<<"$(tail -n 1 "$WORK/sink.log")"
	awk "BEGIN {printf \"%d\", $got / $secs}"
}

# bulk_round: TCP goodput through the firewall now, Mbit/s; the bytes
# received in $WORK/iperf.bytes.
bulk_round() {
	bg "$WORK/iperf-s.log" ip netns exec "$S" iperf3 -s -1 -B 10.213.0.1
	local srv=$BG_PID
	wait_for 5 _listening "$S" 5201 || die "iperf3 did not start"
	timeout $((SECONDS_EACH + 20)) ip netns exec "$C" iperf3 -c 10.213.0.1 -t "$SECONDS_EACH" -J >"$WORK/iperf.json"
	wait "$srv"
	python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))["end"]["sum_received"]
open(sys.argv[2], "w").write("%d\n" % r["bytes"])
print("%d" % (r["bits_per_second"] / 1e6))' \
		"$WORK/iperf.json" "$WORK/iperf.bytes"
}

# cpu_ticks PID: user + system clock ticks PID has used.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# bulk_cpu KEY: bulk_round into KEY, and the daemon's CPU seconds per GB
# received into cpu_KEY.
bulk_cpu() {
	local t0 t1 mbit
	t0=$(cpu_ticks "$NTFW_PID")
	mbit=$(bulk_round)
	t1=$(cpu_ticks "$NTFW_PID")
	add "$1" "$mbit"
	add "cpu_$1" "$(awk -v t=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v b="$(cat "$WORK/iperf.bytes")" \
		'BEGIN {printf "%.3f", t / hz / (b / 1e9)}')"
}

# tcp_round MODE ARG: bench/tcpbench MODE against a server in $S.
tcp_round() {
	bg "$WORK/tcpb-s.log" ip netns exec "$S" build/bench/tcpbench serve 10.213.0.1 7000 60
	local srv=$BG_PID
	wait_for 5 grep -q ready "$WORK/tcpb-s.log" || die "tcpbench did not start"
	timeout 60 ip netns exec "$C" build/bench/tcpbench "$1" 10.213.0.1 7000 "$2"
	kill "$srv"
	wait "$srv" 2>/dev/null || true
}
crr_round() {
	local n secs
	read -r n secs <<<"$(tcp_round crr "$SECONDS_EACH")"
	awk "BEGIN {printf \"%d\", $n / $secs}"
}

# One round measures every setup once; setups alternate within a round
# and the median of $RUNS rounds is reported, so that a slow moment of the
# machine does not fall on one setup alone.
declare -A V
add() { V[$1]="${V[$1]:-} $2"; }
median() {
	tr ' ' '\n' <<<"${V[$1]}" | grep . | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}
# ntfw_with CONF: the server's firewall is ntfw with CONF from now on.
ntfw_with() {
	[ -n "${NTFW_PID:-}" ] && ntfw_stop
	NTFW_PID=
	[ -n "$1" ] && ntfw_start "$S" "$1"
	return 0
}
# rules QUEUES|none: the ntfw ruleset for those queues, or none at all.
rules() {
	ip netns exec "$S" build/ntfw-rules remove >/dev/null 2>&1 || true
	[ "$1" = none ] || ip netns exec "$S" build/ntfw-rules -q "$1" install >/dev/null 2>&1
}
# with_nfq KEY ROUND: ROUND with nf-queue.c answering queue 0, into KEY.
with_nfq() {
	bg "$WORK/nfq.log" ip netns exec "$S" build/bench/nf-queue 0
	local pid=$BG_PID
	sleep 0.5
	add "$1" "$($2)"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}
# rr_into SETUP: round-trip percentiles into p50_SETUP and p99_SETUP.
rr_into() {
	local p50 p99
	read -r p50 p99 <<<"$(tcp_round rr 20000)"
	add "p50_$1" "$p50"
	add "p99_$1" "$p99"
}
# ---- 7. policy size ----
# Configs: "bl" drops sources in a set of 10.0.0.0 + 3 i (i < N: never two
# adjacent, so nothing merges), then port rules: tcp and udp dports 1-1023
# but 80, for ten destination hosts that no packet goes to.
policy_configs() {
	python3 - "$WORK" <<'PY'
import sys
d = sys.argv[1]
def blk(path, n):
    with open(path, "w") as f:
        f.write("# blocklist: %d addresses\n" % n)
        for a in range(0, 3 * n, 3):
            f.write("10.%d.%d.%d\n" % (a >> 16 & 255, a >> 8 & 255, a & 255))
def rules(n):
    out = []
    for host in range(1, 11):
        for proto in ("tcp", "udp"):
            for port in range(1, 1024):
                if port != 80 and len(out) < n:
                    out.append("drop name r%d proto %s dport %d dst 10.213.200.%d"
                               % (len(out), proto, port, host))
    return "\n".join(out) + "\n"
blk(d + "/blk10.txt", 10)
blk(d + "/blk100k.txt", 100000)
for name, setf, nrules in (("pol_base", "blk10.txt", 9),
                           ("pol_set", "blk100k.txt", 9),
                           ("pol_rules", "blk10.txt", 9999)):
    with open("%s/%s.conf" % (d, name), "w") as f:
        f.write('set blk file "%s"\ndrop name bl src @blk\n' % setf)
        f.write(rules(nrules))
PY
}
POLICIES="pol_base pol_set pol_rules"
# policy_offline: best wall time of "ntfw -r" per config, runs alternating.
policy_offline() {
	local i k t0 t1 t n=${BENCH_POLICY_RUNS:-7}
	echo "bench: policy size, offline, best of $n"
	python3 bench/pcapgen.py "$WORK/pol.pcap" 200000 >/dev/null
	for i in $(seq "$n"); do
		for k in $POLICIES; do
			t0=$EPOCHREALTIME
			build/ntfw -r "$WORK/pol.pcap" -c "$WORK/$k.conf" >/dev/null 2>&1 ||
				die "ntfw -r failed with $k.conf"
			t1=$EPOCHREALTIME
			t=$(awk "BEGIN {printf \"%.4f\", $t1 - $t0}")
			if [ -z "${V[off_$k]:-}" ] || awk "BEGIN {exit !($t < ${V[off_$k]})}"; then
				V[off_$k]=$t
			fi
		done
	done
	rm -f "$WORK/pol.pcap"
}
# policy_live: one round of datagrams/s through ntfw with each config.
policy_live() {
	local k
	rules 0
	for k in $POLICIES; do
		ntfw_with "$WORK/$k.conf"
		add "pps_$k" "$(udp_round)"
	done
	ntfw_with ""
}
policy_table() {
	local k set_off set_live rules_off rules_live
	for k in $POLICIES; do
		printf -v "pps_$k" '%s' "$(median "pps_$k")"
		echo "bench: pps_$k:${V[pps_$k]} -> median $(median "pps_$k")"
	done
	# Cost ratios: time over the base's; datagrams/s the other way up.
	set_off=$(ratio "${V[off_pol_set]}" "${V[off_pol_base]}")
	rules_off=$(ratio "${V[off_pol_rules]}" "${V[off_pol_base]}")
	set_live=$(ratio "$pps_pol_base" "$pps_pol_set")
	rules_live=$(ratio "$pps_pol_base" "$pps_pol_rules")
	echo
	printf '%-34s %12s %8s %12s %8s\n' "7. policy size (cost ratio)" \
		"offline s" "ratio" "live dgram/s" "ratio"
	printf '%-34s %12s %8s %12s %8s\n' "10 rules, 10-prefix set (base)" \
		"${V[off_pol_base]}" "1.00" "$pps_pol_base" "1.00"
	printf '%-34s %12s %8s %12s %8s\n' "10 rules, 100,000-prefix set" \
		"${V[off_pol_set]}" "$set_off" "$pps_pol_set" "$set_live"
	printf '%-34s %12s %8s %12s %8s\n' "10,000 rules, 10-prefix set" \
		"${V[off_pol_rules]}" "$rules_off" "$pps_pol_rules" "$rules_live"
	echo "goals: 100,000-prefix set <= 1.1x: offline $(goal "$set_off <= 1.1")," \
		"live $(goal "$set_live <= 1.1"); 10,000 rules <= 1.5x:" \
		"offline $(goal "$rules_off <= 1.5"), live $(goal "$rules_live <= 1.5")"
}
# ---- 8. the eBPF feed ----
bpf_round() {
	rules none
	add bulk_none "$(bulk_round)"
	rules 0
	ntfw_with "$WORK/rules100fp.conf"
	bulk_cpu bulk_fp
	ntfw_with "$WORK/rules100bpf.conf"
	grep -q '^ntfw: fastpath feed: bpf' "$NTFW_LOG" || die "no eBPF feed: $(cat "$NTFW_LOG")"
	bulk_cpu bulk_bpf
	ntfw_with ""
}
bpf_table() {
	local k
	for k in bulk_none bulk_fp bulk_bpf cpu_bulk_fp cpu_bulk_bpf; do
		printf -v "$k" '%s' "$(median "$k")"
		echo "bench: $k:${V[$k]} -> median ${!k}"
	done
	echo
	row "8. TCP bulk, eBPF feed (iperf3), median of $RUNS" "Mbit/s" "ratio"
	row "no firewall" "$bulk_none" "1.00"
	row "ntfw, fastpath after 8, no feed" "$bulk_fp" "$(ratio "$bulk_fp" "$bulk_none")"
	row "ntfw, fastpath after 8, fastpath-feed bpf" "$bulk_bpf" "$(ratio "$bulk_bpf" "$bulk_none")"
	row "goal: eBPF feed >= 0.9 of no firewall" "" \
		"$(goal "$bulk_bpf >= 0.9 * $bulk_none")"
	row "daemon CPU, no feed" "s/GB" "$cpu_bulk_fp"
	row "daemon CPU, fastpath-feed bpf" "s/GB" "$cpu_bulk_bpf"
}
row() { printf '%-44s %14s %10s\n' "$@"; }
if [ "${BENCH_ONLY:-}" = bpf ]; then
	for round in $(seq "$RUNS"); do
		echo "bench: bpf round $round of $RUNS"
		bpf_round
	done
	bpf_table
	exit 0
fi

if [ "${BENCH_ONLY:-}" = policy ]; then
	policy_configs
	policy_offline
	for round in $(seq "$RUNS"); do
		echo "bench: policy round $round of $RUNS"
		policy_live
	done
	policy_table
	exit 0
fi

policy_configs
for round in $(seq "$RUNS"); do
	echo "bench: round $round of $RUNS"
	# Bulk first: the connection loop leaves thousands of connections
	# in TIME_WAIT behind it, in the sockets and in conntrack.
	rules none
	add bulk_none "$(bulk_round)"
	rules 0
	ntfw_with "$WORK/rules100.conf"
	add bulk_off "$(bulk_round)"
	ntfw_with "$WORK/rules100fp.conf"
	bulk_cpu bulk_fp
	ntfw_with "$WORK/rules100bpf.conf"
	bulk_cpu bulk_bpf
	ntfw_with ""

	rules none
	add pps_none "$(udp_round)"
	rules 0
	with_nfq pps_nfq udp_round
	ntfw_with "$WORK/rules100.conf"
	add pps_1q "$(udp_round)"
	ntfw_with ""
	rules 0-1
	ntfw_with "$WORK/rules100q2.conf"
	add pps_2q "$(udp_round)"
	ntfw_with ""

	rules none
	add crr_none "$(crr_round)"
	rr_into none
	rules 0
	add crr_bypass "$(crr_round)"
	with_nfq crr_nfq crr_round
	ntfw_with "$WORK/rules100.conf"
	add crr_ntfw "$(crr_round)"
	rr_into ntfw
	ntfw_with "$WORK/rules100fp1.conf"
	add crr_fp1 "$(crr_round)"
	ntfw_with ""
	policy_live
done
for k in pps_none pps_nfq pps_1q pps_2q bulk_none bulk_fp bulk_off crr_none \
	crr_bypass crr_nfq crr_ntfw crr_fp1 p50_none p99_none p50_ntfw p99_ntfw; do
	printf -v "$k" '%s' "$(median "$k")"
	echo "bench: $k:${V[$k]} -> median ${!k}"
done


echo
row "1. small packets (64-byte UDP), median of $RUNS" "datagrams/s" "ratio"
row "no queue" "$pps_none" "$(ratio "$pps_none" "$pps_nfq")"
row "nf-queue.c (accept all)" "$pps_nfq" "1.00"
row "ntfw, 1 queue, 100 rules" "$pps_1q" "$(ratio "$pps_1q" "$pps_nfq")"
row "ntfw, 2 queues, 100 rules" "$pps_2q" "$(ratio "$pps_2q" "$pps_nfq")"
echo "goals: 1 queue >= 1.0 of nf-queue.c: $(goal "$pps_1q >= $pps_nfq");" \
	"2 queues >= 1.5: $(goal "$pps_2q >= 1.5 * $pps_nfq")"
echo
row "2. TCP bulk (iperf3), median of $RUNS" "Mbit/s" "ratio"
row "no firewall" "$bulk_none" "1.00"
row "ntfw, fastpath after 8" "$bulk_fp" "$(ratio "$bulk_fp" "$bulk_none")"
row "ntfw, fastpath off" "$bulk_off" "$(ratio "$bulk_off" "$bulk_none")"
echo "goal: fast path >= 0.9 of no firewall: $(goal "$bulk_fp >= 0.9 * $bulk_none")"
echo
bpf_table
echo
row "3. new TCP connections, median of $RUNS" "conn/s" "ratio"
row "no firewall" "$crr_none" "1.00"
row "ruleset, no daemon (bypass accepts)" "$crr_bypass" "$(ratio "$crr_bypass" "$crr_none")"
row "nf-queue.c (accept all)" "$crr_nfq" "$(ratio "$crr_nfq" "$crr_none")"
row "ntfw, 100 rules" "$crr_ntfw" "$(ratio "$crr_ntfw" "$crr_none")"
row "ntfw, 100 rules, fastpath after 1" "$crr_fp1" "$(ratio "$crr_fp1" "$crr_none")"
echo "goal: >= 0.7 of no firewall: $(goal "$crr_ntfw >= 0.7 * $crr_none")"
echo
add50=$(awk "BEGIN {printf \"%.1f\", $p50_ntfw - $p50_none}")
add99=$(awk "BEGIN {printf \"%.1f\", $p99_ntfw - $p99_none}")
row "4. TCP round trip, 1 byte, median of $RUNS" "p50 us" "p99 us"
row "no firewall" "$p50_none" "$p99_none"
row "ntfw, 100 rules" "$p50_ntfw" "$p99_ntfw"
row "added by ntfw" "$add50" "$add99"
echo "goal: p99 added < 100 us: $(goal "$add99 < 100")"

# ---- 5. memory ----
echo "bench: memory"
declare -A rss
for n in 10000 100000 1000000; do
	python3 bench/pcapgen.py --syn "$WORK/syn.pcap" "$n" >/dev/null
	printf 'flows max %d\n' "$n" >"$WORK/mem.conf"
	/usr/bin/time -o "$WORK/time" -f "%M" build/ntfw -r "$WORK/syn.pcap" \
		-c "$WORK/mem.conf" >/dev/null 2>"$WORK/mem.log"
	rss[$n]=$(tail -n 1 "$WORK/time")
	grep -q "created=$n " "$WORK/mem.log" || die "the table did not hold $n flows"
done
rm -f "$WORK/syn.pcap"
per_flow=$(awk "BEGIN {printf \"%d\", (${rss[1000000]} - ${rss[10000]}) * 1024 / 990000}")
echo
row "5. memory, flows in the table" "resident kB" "bytes/flow"
for n in 10000 100000 1000000; do
	row "$n" "${rss[$n]}" "$(awk "BEGIN {printf \"%d\", ${rss[$n]} * 1024 / $n}")"
done
row "per added flow (1 M minus 10 k)" "" "$per_flow"
echo "goal: at most 512 bytes per flow: $(goal "$per_flow <= 512")"

offline_section

policy_offline
policy_table

cat >bench/results.json <<JSON
{
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "machine": "$(nproc) cores, $(awk '/MemTotal/ {printf "%d MiB", $2 / 1024}' /proc/meminfo), $(uname -r)",
  "seconds_each": $SECONDS_EACH,
  "small_packets_pps": {
    "no_queue": $pps_none,
    "nf_queue": $pps_nfq,
    "ntfw_1q_100rules": $pps_1q,
    "ntfw_2q_100rules": $pps_2q,
    "ntfw_1q_ratio": $(ratio "$pps_1q" "$pps_nfq"),
    "ntfw_2q_ratio": $(ratio "$pps_2q" "$pps_nfq")
  },
  "tcp_bulk_mbit": {
    "no_firewall": $bulk_none,
    "ntfw_fastpath": $bulk_fp,
    "ntfw_fastpath_off": $bulk_off,
    "fastpath_ratio": $(ratio "$bulk_fp" "$bulk_none"),
    "fastpath_off_ratio": $(ratio "$bulk_off" "$bulk_none")
  },
  "tcp_connections_per_s": {
    "no_firewall": $crr_none,
    "ruleset_bypass": $crr_bypass,
    "nf_queue": $crr_nfq,
    "ntfw": $crr_ntfw,
    "ratio": $(ratio "$crr_ntfw" "$crr_none"),
    "ntfw_fastpath_after_1": $crr_fp1,
    "fastpath_after_1_ratio": $(ratio "$crr_fp1" "$crr_none")
  },
  "tcp_round_trip_us": {
    "no_firewall_p50": $p50_none,
    "no_firewall_p99": $p99_none,
    "ntfw_p50": $p50_ntfw,
    "ntfw_p99": $p99_ntfw,
    "added_p50": $add50,
    "added_p99": $add99
  },
  "memory": {
    "rss_kb_10k_flows": ${rss[10000]},
    "rss_kb_100k_flows": ${rss[100000]},
    "rss_kb_1m_flows": ${rss[1000000]},
    "bytes_per_flow": $per_flow
  },
  "offline": {
    "packets": $PACKETS,
    "runs": $RUNS,
    "ntfw_seconds": $nt,
    "tcptrace_seconds": $tt,
    "speedup": $speed,
    "ntfw_peak_kb": $nkb,
    "tcptrace_peak_kb": $tkb,
    "memory_ratio": $mem,
    "flow_records": $flows
  }
}
JSON
echo "bench: wrote bench/results.json"

# The chart: packets (and connections) per second, one bar each.
cat >"$WORK/pps.dat" <<DAT
"no queue" $pps_none
"nf-queue.c" $pps_nfq
"ntfw 1 queue" $pps_1q
"ntfw 2 queues" $pps_2q
DAT
gnuplot <<GP
set terminal pngcairo size 800,480 noenhanced
set output "bench/results.png"
set title "64-byte UDP datagrams per second, every one queued ($(date -u +%Y-%m-%d), $(nproc) cores)"
set style fill solid 0.6 border -1
set boxwidth 0.6
set yrange [0:*]
set offsets 0.3, 0.3, graph 0.12, 0
set ylabel "datagrams/s"
set grid ytics
unset key
plot "$WORK/pps.dat" using 0:2:xtic(1) with boxes lc rgb "#3a6ea5", \
     "" using 0:2:(sprintf("%d", \$2)) with labels offset 0,1
GP
echo "bench: wrote bench/results.png"
