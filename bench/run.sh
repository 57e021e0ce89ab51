#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# make bench: measurements taken side by side in one run, each reported as
# a ratio to its baseline measured in the same run.  Writes a table on
# stdout and bench/results.json.
#
# 1. small packets, every packet queued: 64-byte UDP datagrams from two
#    senders (bench/udpflood, sendmmsg) to a sink (bench/udpsink) in
#    namespaces, for BENCH_SECONDS (default 3) each: no queue at all;
#    libnetfilter_queue's own example nf-queue.c; ntfw with 1 queue and a
#    100-rule policy; ntfw with 2 queues.  Datagrams per second received.
# 2. offline: "ntfw -r" against "tcptrace -l -r" on the same capture of
#    BENCH_PACKETS (default 1000000) packets made by bench/pcapgen.py: wall
#    time (best of BENCH_RUNS, default 3) and peak resident memory.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
. tests/lib.sh
set -e
PACKETS=${BENCH_PACKETS:-1000000}
RUNS=${BENCH_RUNS:-3}
SECONDS_EACH=${BENCH_SECONDS:-3}
WORK=$T_TMP
for c in tcptrace python3; do
	command -v "$c" >/dev/null || { echo "bench: $c is not installed (make deps)" >&2; exit 1; }
done
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is not installed (apt-get install time)" >&2; exit 1; }

# best CMD...: best wall time (s) and its peak RSS (kB) over $RUNS runs,
# printed as "SECONDS KB".
best() {
	local i out t kb bt= bkb=
	for i in $(seq "$RUNS"); do
		/usr/bin/time -o "$WORK/time" -f "%e %M" "$@" >/dev/null 2>&1
		out=$(tail -n 1 "$WORK/time")
		t=${out% *}
		kb=${out#* }
		if [ -z "$bt" ] || awk "BEGIN {exit !($t < $bt)}"; then
			bt=$t
			bkb=$kb
		fi
	done
	echo "$bt $bkb"
}

# ---- 1. small packets ----
[ "$(id -u)" = 0 ] || { echo "bench: run as root (sudo make bench)" >&2; exit 1; }
topo_pair
ip -n "$C" addr add 10.213.0.3/24 dev c0
python3 -c 'print("\n".join("drop name r%d proto tcp dport %d" % (i, 10000 + i) for i in range(100)))' \
	>"$WORK/rules100.conf"
printf 'queue 0-1\n' | cat - "$WORK/rules100.conf" >"$WORK/rules100q2.conf"

# udp_round: datagrams per second through the server's firewall now.
udp_round() {
	local f1 f2 got secs
	bg "$WORK/sink.log" ip netns exec "$S" build/bench/udpsink 10.213.0.1 9000 "$SECONDS_EACH"
	local sink=$BG_PID
	wait_for 5 grep -q ready "$WORK/sink.log"
	ip netns exec "$C" build/bench/udpflood 10.213.0.2 10.213.0.1 9000 $((SECONDS_EACH + 1)) >/dev/null &
	f1=$!
	ip netns exec "$C" build/bench/udpflood 10.213.0.3 10.213.0.1 9000 $((SECONDS_EACH + 1)) >/dev/null &
	f2=$!
	wait "$sink" "$f1" "$f2"
	read -r got secs <<<"$(tail -n 1 "$WORK/sink.log")"
	awk "BEGIN {printf \"%d\", $got / $secs}"
}

echo "bench: small packets, ${SECONDS_EACH} s each"
pps_none=$(udp_round)
ip netns exec "$S" build/ntfw-rules install >/dev/null 2>&1
bg "$WORK/nfq.log" ip netns exec "$S" build/bench/nf-queue 0
nfq_pid=$BG_PID
sleep 0.5
pps_nfq=$(udp_round)
kill "$nfq_pid"; wait "$nfq_pid" 2>/dev/null || true
ntfw_start "$S" "$WORK/rules100.conf"
pps_1q=$(udp_round)
ntfw_stop
ip netns exec "$S" build/ntfw-rules -q 0-1 install >/dev/null 2>&1
ntfw_start "$S" "$WORK/rules100q2.conf"
pps_2q=$(udp_round)
ntfw_stop
ratio() { awk "BEGIN {printf \"%.2f\", $1 / ($2 > 0 ? $2 : 1)}"; }

printf '\n%-44s %12s %16s\n' "small packets (64-byte UDP), ${SECONDS_EACH} s" "datagrams/s" "ratio to nf-queue"
printf '%-44s %12s %16s\n' "no queue" "$pps_none" "$(ratio "$pps_none" "$pps_nfq")"
printf '%-44s %12s %16s\n' "nf-queue.c (accept all)" "$pps_nfq" "1.00"
printf '%-44s %12s %16s\n' "ntfw, 1 queue, 100 rules" "$pps_1q" "$(ratio "$pps_1q" "$pps_nfq")"
printf '%-44s %12s %16s\n' "ntfw, 2 queues, 100 rules" "$pps_2q" "$(ratio "$pps_2q" "$pps_nfq")"
printf 'goals: 1 queue >= 1.0 of nf-queue.c: %s; 2 queues >= 1.5: %s\n' \
	"$(awk "BEGIN {print ($pps_1q >= $pps_nfq) ? \"met\" : \"missed\"}")" \
	"$(awk "BEGIN {print ($pps_2q >= 1.5 * $pps_nfq) ? \"met\" : \"missed\"}")"

# ---- 2. offline ----
echo
echo "bench: generating a capture of $PACKETS packets"
python3 bench/pcapgen.py "$WORK/cap.pcap" "$PACKETS"
read -r nt nkb < <(best build/ntfw -r "$WORK/cap.pcap")
read -r tt tkb < <(best tcptrace -l -r -n "$WORK/cap.pcap")
flows=$(build/ntfw -r "$WORK/cap.pcap" 2>/dev/null | wc -l)
speed=$(awk "BEGIN {printf \"%.1f\", $tt / ($nt > 0.005 ? $nt : 0.005)}")
mem=$(awk "BEGIN {printf \"%.1f\", $tkb / $nkb}")

printf '\n%-36s %12s %12s %10s\n' "offline, $PACKETS packets" "ntfw -r" "tcptrace" "ratio"
printf '%-36s %12s %12s %9sx\n' "wall time, best of $RUNS (s)" "$nt" "$tt" "$speed"
printf '%-36s %12s %12s %9sx\n' "peak resident memory (kB)" "$nkb" "$tkb" "$mem"
printf '%-36s %12s\n' "flow records written" "$flows"
printf 'goal: ntfw -r at least 20x faster than tcptrace: %s\n' \
	"$(awk "BEGIN {print ($speed >= 20) ? \"met\" : \"missed\"}")"

cat >bench/results.json <<JSON
{
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "machine": "$(nproc) cores, $(awk '/MemTotal/ {printf "%d MiB", $2 / 1024}' /proc/meminfo), $(uname -r)",
  "small_packets": {
    "seconds": $SECONDS_EACH,
    "no_queue_pps": $pps_none,
    "nf_queue_pps": $pps_nfq,
    "ntfw_1q_100rules_pps": $pps_1q,
    "ntfw_2q_100rules_pps": $pps_2q,
    "ntfw_1q_ratio": $(ratio "$pps_1q" "$pps_nfq"),
    "ntfw_2q_ratio": $(ratio "$pps_2q" "$pps_nfq")
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
