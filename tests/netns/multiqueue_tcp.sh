#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# "queue 0-1": a long TCP transfer and IPv4 and IPv6 pings from several
# client addresses, at the same time, over two workers.  Every packet gets
# its verdict, both queues carry traffic, and each flow stays on one
# worker: it has exactly one record in the event log, with every packet of
# it counted there.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip curl ping python3 tcpdump ethtool iptables ip6tables
topo_pair
# The kernel picks a queue from a hash of the address pair and protocol,
# seeded at boot: 6 client addresses make 13 pairs (6 echo per family, one
# TCP), all on one queue once in 4096 boots.
ADDRS="2 3 4 5 6 7"
for a in $ADDRS; do
	[ "$a" = 2 ] && continue
	ip -n "$C" addr add 10.213.0.$a/24 dev c0
	ip -n "$C" addr add fd00:213::$a/64 dev c0 nodad
done
rules_install "$S" -q 0-1
mkdir -p "$T_TMP/www"
head -c 20000000 /dev/urandom >"$T_TMP/www/big"
http_serve "$S" :: 8080

# Timeouts longer than the test: no flow ends and starts again, so a flow
# with two records can only have been split.  ntfw_stop writes them all.
cat >"$T_TMP/ntfw.conf" <<C
queue 0-1
timeout tcp 600 udp 600 icmp 600 closed 600
event-log $T_TMP/flows.json
accept name web proto tcp dport 8080
C
ntfw_start "$S" "$T_TMP/ntfw.conf"
# One segment, one packet at the hooks and in the capture.  TCP builds
# GSO packets whatever the device offers: the queue hands them to the
# daemon as segments, but the ruleset's counters count them whole, so the
# server sends one segment a packet (gso_max_segs).
no_offload "$S" s0
no_offload "$C" c0
ip -n "$S" link set s0 gso_max_segs 1
verdicts_mark "$S"
capture_start "$S" s0 "$T_TMP/cap.pcap" tcp port 8080

# 25 echo requests 0.2 s apart from each address and family, two echo ids
# from the first address, while the client fetches 20 MB at 4 MB/s.
NPING=25
pings=()
for a in $ADDRS 2; do
	id=$((${#pings[@]} / 2 + 100))
	bg "$T_TMP/ping-4-$id.log" ip netns exec "$C" ping -4 -n -q -c $NPING -i 0.2 -W 2 \
		-e $id -I 10.213.0.$a 10.213.0.1
	pings+=("$BG_PID 4 10.213.0.$a $id")
	bg "$T_TMP/ping-6-$id.log" ip netns exec "$C" ping -6 -n -q -c $NPING -i 0.2 -W 2 \
		-e $id -I fd00:213::$a fd00:213::1
	pings+=("$BG_PID 6 fd00:213::$a $id")
done
http_get "$C" http://10.213.0.1:8080/big --interface 10.213.0.2 \
	--max-time 20 --limit-rate 4M -o "$T_TMP/got" -w '%{local_port}'
assert_eq "curl of 20 MB" 0 "$HTTP_RC"
assert_eq "file intact" "$(md5sum <"$T_TMP/www/big")" "$(md5sum <"$T_TMP/got")"
port=$HTTP_BODY
answered=0
for p in "${pings[@]}"; do
	set -- $p
	wait "$1"
	n=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T_TMP/ping-$2-$4.log")
	[ "$n" = $NPING ] || fail "ping from $3 (id $4): $n of $NPING answered"
	answered=$((answered + n))
done
assert_eq "pings answered" $((${#pings[@]} * NPING)) "$answered"
capture_stop

assert_verdicted "$S" 0 1
for q in 0 1; do
	info "$(grep "^ntfw: stats: queue $q " "$NTFW_LOG" | tail -n 1 | sed 's/^ntfw: stats: //')"
	assert_ge "queue $q: packets given to its worker" 1 "$(stat_field "queue $q" given)"
	assert_eq "queue $q: dropped for a full queue" 0 "$(stat_field "queue $q" queue-dropped)"
	assert_eq "queue $q: dropped for a full socket" 0 "$(stat_field "queue $q" user-dropped)"
done
assert_eq "nothing dropped" 0 "$(stat_total dropped)"
ntfw_stop # writes every flow still open: all of them (see the timeouts)

# Each flow, either direction, has one record.  A flow whose packets went
# to both workers would be two flows, one in each worker's table, each
# created by the first packet that worker saw (for TCP, seen mid-stream,
# its server taken as the lower port: the same ends), and each written at
# stop: two records under one key, fewer keys than "created", and two
# partial counts, each below the capture's.  Any of the checks below
# fails then; the per-packet ones also fail for a split of the two
# directions.
python3 - "$T_TMP/flows.json" >"$T_TMP/summary" <<'P' || fail "cannot read the event log"
import collections, json, sys
recs = [r for r in map(json.loads, open(sys.argv[1])) if r["event"] == "flow"]
keys = collections.Counter()
pkts = 0
for r in recs:
    ends = sorted([(r["client_addr"], r["client_port"]),
                   (r["server_addr"], r["server_port"])])
    keys[(r["family"], r["proto"], *ends)] += 1
    pkts += r["pkts_c2s"] + r["pkts_s2c"]
    if r["proto"] in ("icmp", "icmpv6") and r["client_port"]:
        print("echo", r["client_addr"], r["client_port"], r["pkts_c2s"], r["pkts_s2c"])
    if r["proto"] == "tcp":
        print("tcp", r["client_addr"], r["client_port"], r["pkts_c2s"], r["pkts_s2c"])
for (fam, proto, a, b), n in keys.items():
    if n > 1:
        print("split %s %s port %s - %s port %s: %d records" % (proto, *a, *b, n))
print("records", len(recs))
print("keys", len(keys))
print("pkts", pkts)
P
summary() { sed -n "s/^$1 //p" "$T_TMP/summary"; }
[ -z "$(summary split)" ] || fail "flows split over several records:
$(summary split)"
info "ok: no flow has two records"
assert_eq "records, one per flow" "$(summary keys)" "$(summary records)"
assert_eq "flows created" "$(summary keys)" "$(stat_field flows created)"
# Every packet of a flow, none twice: all but those that keep no state
# (neighbour discovery), relate to a flow or are invalid for it.
assert_eq "packets in records (every packet of a flow, none twice)" \
	"$(($(stat_total packets) - $(stat_field state untracked) - \
	    $(stat_field state related) - $(stat_field state invalid)))" "$(summary pkts)"
assert_eq "malformed" 0 "$(stat_total malformed)"
for p in "${pings[@]}"; do
	set -- $p
	assert_eq "echo flow $3 id $4: requests, replies" "$NPING $NPING" \
		"$(summary echo | sed -n "s/^$3 $4 //p")"
done
# The transfer's record against the server's capture, packet for packet.
c2s=$(tcpdump -r "$T_TMP/cap.pcap" -n "src 10.213.0.2 and src port $port and dst port 8080" 2>/dev/null | wc -l)
s2c=$(tcpdump -r "$T_TMP/cap.pcap" -n "dst 10.213.0.2 and dst port $port and src port 8080" 2>/dev/null | wc -l)
assert_ge "captured packets of the transfer" 10000 $((c2s + s2c))
assert_eq "transfer's record: packets client to server, server to client" \
	"$c2s $s2c" "$(summary tcp | sed -n "s/^10.213.0.2 $port //p")"
