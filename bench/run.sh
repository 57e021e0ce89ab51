#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# make bench: measurements taken side by side in one run, each reported as
# a ratio to its baseline measured in the same run.  Writes a table on
# stdout and bench/results.json.
#
# offline: "ntfw -r" against "tcptrace -l -r" on the same capture of
# BENCH_PACKETS (default 1000000) packets made by bench/pcapgen.py: wall
# time (best of BENCH_RUNS, default 3) and peak resident memory.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
PACKETS=${BENCH_PACKETS:-1000000}
RUNS=${BENCH_RUNS:-3}
WORK=$(mktemp -d /tmp/ntfw-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
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
