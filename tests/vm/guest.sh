#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# The checks that run inside the guest (busybox sh, Debian's stock kernel).
# Each prints "@@ PASS name", "@@ FAIL name: why" or "@@ SKIP name: why";
# "@@ # ..." lines are notes for the console log.  Two namespaces joined by
# a veth, as tests/lib.sh topo_pair builds them:
#   server "s" 10.213.0.1/24 on s0, client "c" 10.213.0.2/24 on c0
# ntfw and its ruleset run in the server's namespace.

export NTFW_RULESDIR=/ntfw
W=/tmp/w
mkdir -p $W/www

pass() { echo "@@ PASS $1"; }
fail() { echo "@@ FAIL $1: $2"; }
skip() { echo "@@ SKIP $1: $2"; }
note() { echo "@@ # $*"; }

# check NAME WHY CMD...: PASS when CMD succeeds, else FAIL with WHY.
check() {
	n=$1 why=$2
	shift 2
	if "$@"; then
		pass "$n"
	else
		fail "$n" "$why"
	fi
}

# wait_for TENTHS CMD...: poll CMD every 0.1 s.
wait_for() {
	i=$1
	shift
	while [ "$i" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		i=$((i - 1))
	done
	return 1
}

# busybox sh runs its own applets before anything on PATH: Debian's ip
# (veth, netns) by its path.  Not a function: "$S ntfw &" must leave $!
# the daemon's PID, which ip's exec keeps.
IP=/opt/bin/ip
S="$IP netns exec s"
C="$IP netns exec c"

# --- the daemon --------------------------------------------------------------
NTFW_PID=
ntfw_start() {
	: >$W/ntfw.log
	$S ntfw -d -c "$1" >$W/ntfw.log 2>&1 &
	NTFW_PID=$!
	wait_for 100 grep -q '^ntfw: ready:' $W/ntfw.log
}
ntfw_stop() {
	[ -n "$NTFW_PID" ] || return 0
	kill -TERM "$NTFW_PID" 2>/dev/null
	wait "$NTFW_PID"
	rc=$?
	NTFW_PID=
	return $rc
}
# ntfw_stats: SIGUSR1, and wait for one more report in the log.
ntfw_stats() {
	n=$(grep -c '^ntfw: stats: malformed' $W/ntfw.log)
	kill -USR1 "$NTFW_PID" 2>/dev/null || return 1
	wait_for 50 _grown "$n"
}
_grown() { [ "$(grep -c '^ntfw: stats: malformed' $W/ntfw.log)" -gt "$1" ]; }
# stat_field LINE FIELD: FIELD of the last "stats: LINE" report line.
stat_field() {
	grep "^ntfw: stats: $1 " $W/ntfw.log | tail -n 1 |
		sed -n "s/.* $2=\([0-9]*\).*/\1/p"
}
rule_pkts() { stat_field "rule $1 [a-z]*" packets; }

# queue_bytes: bytes that the ruleset's queue rules counted, every hook.
queue_bytes() {
	$S nft list table inet ntfw |
		awk '/counter packets .* queue/ {
			for (i = 1; i < NF; i++) if ($i == "bytes") s += $(i + 1)
		} END { print s + 0 }'
}

# get NAME FILE: fetch http://10.213.0.1:8080/NAME from the client into
# FILE; true when it arrived whole.
get() {
	rm -f "$2"
	# No -T: this busybox's wget crashes with it; timeout bounds it.
	$C timeout 30 wget -q -O "$2" "http://10.213.0.1:8080/$1" 2>$W/wget.err &&
		[ "$(md5sum <"$2")" = "$(md5sum <$W/www/$1)" ]
}

# pings N: echo requests answered of N.
pings() {
	$C ping -c "$1" -w $(($1 + 2)) 10.213.0.1 2>/dev/null |
		sed -n 's/.* \([0-9]*\) packets received.*/\1/p'
}

# --- the topology ------------------------------------------------------------
$IP netns add s && $IP netns add c &&
	$IP link add c0 netns c type veth peer name s0 netns s &&
	$S $IP addr add 10.213.0.1/24 dev s0 && $C $IP addr add 10.213.0.2/24 dev c0 &&
	$S $IP link set lo up && $C $IP link set lo up &&
	$S $IP link set s0 up && $C $IP link set c0 up
check topology "ip netns / veth setup failed" [ $? = 0 ]

head -c 4000000 /dev/urandom >$W/www/big
echo "hello from ntfw" >$W/www/index.html
$S httpd -f -p 8080 -h $W/www &
HTTPD_PID=$!
wait_for 50 get index.html $W/got
check baseline "no HTTP answer from the server before any ruleset" [ $? = 0 ]
got=$(pings 2)
check baseline-ping "ping answered $got of 2 before any ruleset" [ "$got" = 2 ]

# --- 2. the native nft ruleset -----------------------------------------------
# A table of the user's own: installing and removing ntfw's must leave it
# (and everything else) exactly as it was.
$S nft -f - <<'N'
table inet mine {
	chain input {
		type filter hook input priority 10; policy accept;
		tcp dport 9999 drop
	}
}
N
$S nft list ruleset >$W/ruleset.before
out=$($S ntfw-rules install 2>&1)
note "ntfw-rules install: $out"
case $out in
*"installed nft ruleset (table inet ntfw)"*) pass nft-install ;;
*) fail nft-install "ntfw-rules did not pick nft: $out" ;;
esac
st=$($S ntfw-rules status 2>&1)
case $st in
"backend: nft"*) pass nft-status ;;
*) fail nft-status "status says: $(echo "$st" | head -n 1)" ;;
esac

cat >$W/policy.conf <<'P'
default accept
drop   name no-ping proto icmp icmp-type echo-request
accept name web proto tcp dport 8080
P
if ntfw_start $W/policy.conf; then
	pass nft-daemon-start
	got=$(pings 3)
	check nft-ping-dropped "ping answered $got of 3 under no-ping" [ "$got" = 0 ]
	get big $W/got
	rc=$?
	check nft-tcp-8080 "4 MB over 8080 did not arrive whole: $(cat $W/wget.err)" [ $rc = 0 ]
	if ntfw_stats; then
		np=$(rule_pkts no-ping)
		web=$(rule_pkts web)
		dropped=$(stat_field total dropped)
		note "no-ping packets=$np web packets=$web total dropped=$dropped"
		check nft-counter-no-ping "rule no-ping counted '$np' packets, expected >= 3" \
			[ "${np:-0}" -ge 3 ]
		check nft-counter-web "rule web counted '$web' packets" [ "${web:-0}" -ge 10 ]
		check nft-counter-dropped "total dropped '$dropped', expected >= 3" \
			[ "${dropped:-0}" -ge 3 ]
	else
		fail nft-stats "no stats report on SIGUSR1"
	fi
	qb=$(queue_bytes)
	check nft-queue-counter "queue rules counted $qb bytes of a 4 MB transfer" \
		[ "$qb" -ge 4000000 ]
	ntfw_stop
	rc=$?
	check nft-daemon-stop "ntfw exited with status $rc: $(tail -n 3 $W/ntfw.log)" [ $rc = 0 ]
else
	fail nft-daemon-start "ntfw did not start: $(tail -n 5 $W/ntfw.log)"
	ntfw_stop
fi

# --- 3. the conntrack glue and the fast path ---------------------------------
cat >$W/fast.conf <<'P'
fastpath after 4
accept name web proto tcp dport 8080
P
if ntfw_start $W/fast.conf; then
	glue=$(sed -n 's/^ntfw: conntrack glue: \([a-z]*\).*/\1/p' $W/ntfw.log)
	check ct-glue "ntfw says conntrack glue: '$glue'" [ "$glue" = yes ]
	q0=$(queue_bytes)
	get big $W/got
	rc=$?
	check fastpath-transfer "4 MB over 8080 did not arrive whole: $(cat $W/wget.err)" [ $rc = 0 ]
	queued=$(($(queue_bytes) - q0))
	note "fast path: $queued bytes queued of a 4000000-byte transfer"
	# The handshake, the request and what was in flight at the hand-off.
	if [ $rc = 0 ]; then
		check fastpath-bypass "$queued bytes of a 4 MB transfer went through the queue" \
			[ "$queued" -le 400000 ]
	else
		fail fastpath-bypass "no transfer to measure"
	fi
	if ntfw_stats; then
		ho=$(stat_field flows handed-off)
		ct=$(stat_field "queue 0" ct)
		note "handed-off=$ho queue 0 ct=$ct"
		check fastpath-handed-off "flows handed-off=$ho, expected 1" [ "$ho" = 1 ]
		check ct-glue-packets "queue 0 ct=$ct: no packet came with its connection" \
			[ "${ct:-0}" -ge 1 ]
	else
		fail fastpath-stats "no stats report on SIGUSR1"
	fi
	ntfw_stop
	rc=$?
	check fastpath-daemon-stop "ntfw exited with status $rc" [ $rc = 0 ]
else
	fail ct-glue "ntfw did not start: $(tail -n 5 $W/ntfw.log)"
	ntfw_stop
fi

out=$($S ntfw-rules remove 2>&1)
$S nft list ruleset >$W/ruleset.after
if cmp -s $W/ruleset.before $W/ruleset.after; then
	pass nft-remove-restores
else
	fail nft-remove-restores "nft list ruleset differs after remove: $(diff $W/ruleset.before $W/ruleset.after | head -n 5 | tr '\n' '|')"
fi

# --- 4. the kernel module ----------------------------------------------------
kmod_checks() {
	if ! out=$(insmod /kmod/ntfw_kmod.ko 2>&1); then
		fail kmod-insmod "$out"
		return
	fi
	pass kmod-insmod
	check kmod-proc-ring "/proc/ntfw/ring is missing" [ -e /proc/ntfw/ring ]
	check kmod-proc-stats "/proc/ntfw/stats is missing" [ -e /proc/ntfw/stats ]
	note "stats at load: $(tr '\n' ' ' </proc/ntfw/stats 2>&1)"
	r0=$(ringmap 2>&1)
	note "ring at load: $r0"
	case $r0 in
	*"magic=0x6e746677 version=1 rec_size=96 "*) pass kmod-ring-header ;;
	*) fail kmod-ring-header "ringmap: $r0" ;;
	esac
	p0=$(echo "$r0" | sed -n 's/.* prod=\([0-9]*\).*/\1/p')
	$S ntfw-rules install >/dev/null 2>&1
	if ntfw_start $W/fast.conf; then
		get big $W/got
		rc=$?
		check kmod-transfer "4 MB over 8080 did not arrive whole" [ $rc = 0 ]
		ntfw_stop
	else
		fail kmod-transfer "ntfw did not start: $(tail -n 5 $W/ntfw.log)"
	fi
	$S ntfw-rules remove >/dev/null 2>&1
	r1=$(ringmap 2>&1)
	note "ring after the transfer: $r1"
	note "stats after the transfer: $(tr '\n' ' ' </proc/ntfw/stats 2>&1)"
	p1=$(echo "$r1" | sed -n 's/.* prod=\([0-9]*\).*/\1/p')
	check kmod-ring-records "prod went from '$p0' to '$p1'" \
		[ "${p1:-0}" -gt "${p0:-0}" ]
	if [ -x /opt/bin/ringdump ]; then
		note "ringdump: $(timeout 10 ringdump 2>&1 | head -n 3 | tr '\n' '|')"
	fi
	# Remove the module under a live mapping: refused (busy) or done,
	# but never an oops, and the reader's page stays readable.
	ringmap -h 3 >$W/hold.log 2>&1 &
	hold=$!
	wait_for 50 grep -q mapped $W/hold.log
	out=$(rmmod ntfw_kmod 2>&1)
	note "rmmod under a mapping: ${out:-done}"
	wait $hold
	hrc=$?
	check kmod-rmmod-mapped "the reader exited with status $hrc: $(tr '\n' '|' <$W/hold.log)" \
		[ "$hrc" = 0 ]
	if grep -q '^ntfw_kmod ' /proc/modules; then
		out=$(rmmod ntfw_kmod 2>&1)
		check kmod-rmmod "rmmod after the reader left: $out" \
			! grep -q '^ntfw_kmod ' /proc/modules
	else
		pass kmod-rmmod
	fi
}
if [ -e /kmod/ntfw_kmod.ko ]; then
	kmod_checks
else
	skip kmod "kmod/ntfw_kmod.ko is not built (kmod/ has no Kbuild or Makefile to build it)"
fi

# --- 5. the ring keeps handed-off flows' features complete -------------------
# rec_fields FILE: the record of the connection to port 8080 in the event
# log FILE, one "field=value" a line, without what differs between two
# runs of the same transfer by nature: the client's port and the clock.
rec_fields() {
	grep '"server_port":8081,' "$1" | tail -n 1 | tr -d '{}"' | tr ',' '\n' |
		sed 's/:/=/' | grep -vE '^(ts|event|client_port|first_ts|last_ts|duration)='
}
field() { sed -n "s/^$2=//p" "$1"; }
# iface_ctr NS DEV: "rx_packets rx_bytes tx_packets tx_bytes" of DEV.
iface_ctr() {
	for c in rx_packets rx_bytes tx_packets tx_bytes; do
		$IP netns exec "$1" cat /sys/class/net/$2/statistics/$c
	done | tr '\n' ' '
}
written() { sed -n 's/^written //p' /proc/ntfw/stats; }
written_over() { [ "$(written)" -gt "$1" ]; }
unloaded() { ! grep -q '^ntfw_kmod ' /proc/modules; }
netns_ino() { $IP netns exec "$1" readlink /proc/self/ns/net | tr -dc 0-9; }
# xfer BYTES [MS]: one bulk transfer from the server to the client on port
# 8081, in whole segments, with a pause of MS after the first MB; true
# when BYTES arrived.  "BYTES SECONDS" in
# $W/xfer.out.
xfer() {
	: >$W/bulk-s.log
	$S timeout 60 bulk serve 10.213.0.1 8081 "$1" ${2:-} >$W/bulk-s.log 2>&1 &
	bs=$!
	wait_for 50 grep -q ready $W/bulk-s.log
	$C timeout 60 bulk get 10.213.0.1 8081 >$W/xfer.out 2>&1
	wait $bs
	[ "$(cut -d' ' -f1 $W/xfer.out)" = "$1" ]
}
# A multiple of the MSS (1448 with timestamps): whole segments only.
XFER=$((1448 * 1024))

ring_checks() {
	if ! out=$(insmod /kmod/ntfw_kmod.ko 2>&1); then
		fail ring-insmod "$out"
		return
	fi
	$S ntfw-rules install >/dev/null 2>&1
	# Static neighbours: no ARP in the interface counters.
	$S $IP neigh replace 10.213.0.2 dev s0 lladdr $($C cat /sys/class/net/c0/address) nud permanent
	$C $IP neigh replace 10.213.0.1 dev c0 lladdr $($S cat /sys/class/net/s0/address) nud permanent
	sino=$(netns_ino s)
	sidx=$($S cat /sys/class/net/s0/ifindex)

	# (a) the daemon reads and applies the ring.
	cat >$W/ring.conf <<P
kmod on
fastpath after 4
event-log $W/ev-ring.json
accept name bulk proto tcp dport 8081
P
	sed -e 's/^kmod on/kmod off/' -e 's/^fastpath after 4/fastpath off/' \
		-e 's/ev-ring/ev-queued/' $W/ring.conf >$W/queued.conf
	if ! ntfw_start $W/ring.conf; then
		fail ring-daemon "ntfw did not start: $(tail -n 5 $W/ntfw.log)"
		ntfw_stop
		return
	fi
	p0=$(ringsum | sed -n 's/^prod=\([0-9]*\).*/\1/p')
	rx0="$($C cat /sys/class/net/c0/statistics/rx_packets) $($C cat /sys/class/net/c0/statistics/rx_bytes)"
	xfer $XFER
	check ring-transfer "$XFER bytes over 8081: $(cat $W/xfer.out)" [ $? = 0 ]
	rx1="$($C cat /sys/class/net/c0/statistics/rx_packets) $($C cat /sys/class/net/c0/statistics/rx_bytes)"
	ntfw_stats
	given=$(stat_field "queue 0" given)
	read=$(stat_field ring read)
	app=$(stat_field ring applied)
	unk=$(stat_field ring unknown-flow)
	bad=$(stat_field ring bad)
	note "$(grep '^ntfw: stats: ring ' $W/ntfw.log | tail -n 1) queue given=$given"
	check ring-read "ring read=$read applied=$app" [ "${read:-0}" -gt 0 ] && [ "${app:-0}" -gt 0 ]
	check ring-unknown "ring unknown-flow=$unk of read=$read" [ "${unk:-99}" -le 8 ]
	check ring-bad "ring bad=$bad" [ "$bad" = 0 ]
	rs=$(ringsum -f "$p0" -F -p 8081 -n "$sino")
	note "ring records of the flow: $rs"
	ntfw_stop
	rec_fields $W/ev-ring.json >$W/f-ring

	# (b) the same transfer, every packet queued.
	if ntfw_start $W/queued.conf; then
		xfer $XFER
		check ring-queued-transfer "$XFER bytes over 8081: $(cat $W/xfer.out)" [ $? = 0 ]
		ntfw_stop
	else
		fail ring-queued-transfer "ntfw did not start: $(tail -n 5 $W/ntfw.log)"
		ntfw_stop
	fi
	rec_fields $W/ev-queued.json >$W/f-queued
	note "record, ring:   $(tr '\n' ' ' <$W/f-ring)"
	note "record, queued: $(tr '\n' ' ' <$W/f-queued)"
	# Every field but those that depend on the receiver's ACKs: in the
	# fast path the client receives GSO packets whole through the veth
	# and acknowledges each, queued packets are cut into segments first
	# and acknowledged every second one (pkts, bytes, med and var of
	# c2s, rtt_samples both ways); pushed_s2c, set on each GSO packet
	# the sender cut, which the queue's timing changes; and init_win_s2c,
	# the data sent before the client's first ACK of data, which the
	# same timing decides.
	grep -vE '^(pkts_c2s|bytes_c2s|med_ip_bytes_c2s|med_ip_bytes_c2s_exact|var_wire_bytes_c2s|rtt_samples_c2s|rtt_samples_s2c|pushed_s2c|init_win_bytes_s2c|init_win_pkts_s2c)=' \
		$W/f-ring >$W/c-ring
	grep -vE '^(pkts_c2s|bytes_c2s|med_ip_bytes_c2s|med_ip_bytes_c2s_exact|var_wire_bytes_c2s|rtt_samples_c2s|rtt_samples_s2c|pushed_s2c|init_win_bytes_s2c|init_win_pkts_s2c)=' \
		$W/f-queued >$W/c-queued
	# Two transfers are two runs of TCP: when the sender retransmitted
	# in one (real packets on the wire, counted by the ring as by the
	# queue), the data it sent once must still agree: data packets less
	# retransmissions; the counts that include the retransmissions are
	# then left to ring-adds-up-iface, which checks this very transfer.
	# Two transfers are two runs of TCP: segment sizes, retransmissions
	# and the end of the record (fin, or eof when the daemon stopped
	# first) follow its timing, not the ring.  The fields that do not
	# depend on that timing must agree exactly (and the data bytes, when
	# neither run retransmitted); the others are printed, and this very
	# transfer's counts are checked against the interface below
	# (ring-adds-up-iface).
	d=$(awk -F= 'NR == FNR { q[$1] = $2; next } { r[$1] = $2 }
		END {
			n = split("family proto client_addr server_addr server_port midstream verdict rule syn_c2s syn_s2c rst_c2s rst_s2c syn_window_c2s syn_window_s2c max_segm_s2c data_pkts_c2s data_bytes_c2s", f, " ")
			for (i = 1; i <= n; i++)
				if (q[f[i]] != r[f[i]])
					printf "%s=%s (queued %s) ", f[i], r[f[i]], q[f[i]]
			if (r["rexmit_s2c"] == 0 && q["rexmit_s2c"] == 0 &&
			    r["data_bytes_s2c"] != q["data_bytes_s2c"])
				printf "data_bytes_s2c=%s (queued %s) ", r["data_bytes_s2c"], q["data_bytes_s2c"]
		}' $W/c-queued $W/c-ring)
	t=$(awk -F= 'NR == FNR { q[$1] = $2; next }
		q[$1] != $2 { printf "%s=%s (queued %s) ", $1, $2, q[$1] }' \
		$W/c-queued $W/c-ring)
	note "fields that follow TCP's timing, ring run vs queued run: $t"
	note "retransmissions: ring run $(field $W/f-ring rexmit_s2c), queued run $(field $W/f-queued rexmit_s2c)"
	if [ ! -s $W/c-ring ] || [ ! -s $W/c-queued ]; then
		fail ring-features-equal "no record of the flow: $(wc -l <$W/ev-ring.json) and $(wc -l <$W/ev-queued.json) lines"
	else
		check ring-features-equal "fields that differ from all-queued: $d" [ -z "$d" ]
	fi
	# (c) what the ring gave the flow, and the packets the daemon saw
	# queued, make the flow's packets.
	segs=$(($(echo "$rs" | sed -n 's/.* pre_segs=\([0-9]*\).*/\1/p') + \
		$(echo "$rs" | sed -n 's/.* post_segs=\([0-9]*\).*/\1/p')))
	pk=$(($(field $W/f-ring pkts_c2s) + $(field $W/f-ring pkts_s2c)))
	note "$(grep '^ntfw: stats: state ' $W/ntfw.log | tail -n 1)"
	note "$(grep '^ntfw: stats: flows ' $W/ntfw.log | tail -n 1)"
	# One packet either way is allowed, and noted: at the connection's
	# end a packet of the closing handshake sometimes falls to neither
	# count (seen in about 1 run in 5 under TCG; see the closing note).
	d1=$((segs + given - pk))
	[ "$d1" != 0 ] && note "ring-adds-up: off by $d1 packet"
	check ring-adds-up "ring segments $segs + queued $given != flow packets $pk" \
		[ "${d1#-}" -le 1 ]
	# And what the client's interface received: the ring's records of
	# the server's sends (skbs as the hook saw them, with the link
	# header) and the queued ones (one skb a segment).
	set -- $rx0 $rx1
	set -- $(($3 - $1)) $(($4 - $2))
	post=$(echo "$rs" | sed -n 's/.* post=\([0-9]*\).*/\1/p')
	psegs=$(echo "$rs" | sed -n 's/.* post_segs=\([0-9]*\).*/\1/p')
	pwire=$(echo "$rs" | sed -n 's/.* post_wire=\([0-9]*\).*/\1/p')
	pip=$(echo "$rs" | sed -n 's/.* post_ip=\([0-9]*\).*/\1/p')
	qs=$(($(field $W/f-ring pkts_s2c) - psegs))
	want_p=$((post + qs))
	want_b=$((pwire + $(field $W/f-ring bytes_s2c) - pip + 14 * qs))
	d2=$(($1 - want_p))
	d3=$(($2 - want_b))
	[ "$d2" != 0 ] && note "ring-adds-up-iface: off by $d2 packet, $d3 bytes"
	check ring-adds-up-iface "c0 received $1 packets $2 bytes; ring and queue say $want_p packets $want_b bytes" \
		[ "${d2#-}" -le 1 ] && [ "${d3#-}" -le 100 ]

	# 2. A ring of 64 records and a reader that stops: the losses are
	# counted by the module and the daemon, and the flow says so.
	$S ntfw-rules remove >/dev/null 2>&1
	rmmod ntfw_kmod
	if ! out=$(insmod /kmod/ntfw_kmod.ko ring_records=64 2>&1); then
		fail ring-overflow "insmod ring_records=64: $out"
		return
	fi
	$S ntfw-rules install >/dev/null 2>&1
	sed -e 's/ev-ring/ev-lost/' $W/ring.conf >$W/lost.conf
	if ! ntfw_start $W/lost.conf; then
		fail ring-overflow "ntfw did not start: $(tail -n 5 $W/ntfw.log)"
		ntfw_stop
		return
	fi
	(xfer $((1448 * 6144)) 1000; echo $? >$W/xfer.rc) &
	xf=$!
	# Stopped once the flow is in the kernel's hands (the sender
	# pauses after its first MB): the rest goes on without the daemon,
	# and the ring fills.
	wait_for 100 grep -q pause $W/bulk-s.log
	kill -STOP "$NTFW_PID"
	wait $xf
	kill -CONT "$NTFW_PID"
	check ring-overflow-transfer "the transfer with the daemon stopped: $(cat $W/xfer.out)" \
		[ "$(cat $W/xfer.rc)" = 0 ]
	kd=$(sed -n 's/^dropped //p' /proc/ntfw/stats)
	note "stats with 64 records: $(tr '\n' ' ' </proc/ntfw/stats)"
	check ring-overflow-module "/proc/ntfw/stats dropped='$kd'" [ "${kd:-0}" -gt 0 ]
	ntfw_stats
	dd=$(stat_field ring kernel-dropped)
	check ring-overflow-daemon "the daemon's kernel-dropped='$dd'" [ "${dd:-0}" -gt 0 ]

	ntfw_stop
	lost=$(grep -c '"server_port":8081,.*"ring_lost":true' $W/ev-lost.json)
	check ring-lost-flagged "flows with ring_lost: $lost of $(grep -c . $W/ev-lost.json)" \
		[ "$lost" = 1 ]

	# 3. rmmod under the running daemon: it says the ring went away,
	# keeps serving, and reads the ring again once the module is back.
	if ! ntfw_start $W/ring.conf; then
		fail ring-rmmod-live "ntfw did not start: $(tail -n 5 $W/ntfw.log)"
		ntfw_stop
		return
	fi
	xfer $((1448 * 256))
	ntfw_stats
	rd0=$(stat_field ring read)
	out=$(rmmod ntfw_kmod 2>&1)
	check ring-rmmod-live "rmmod with the daemon reading: $out" unloaded
	wait_for 50 grep -q 'kmod ring: .* went away' $W/ntfw.log
	check ring-gone-logged "no word of the ring going away: $(grep 'kmod ring' $W/ntfw.log | tr '\n' '|')" [ $? = 0 ]
	xfer $((1448 * 64))
	check ring-gone-serves "a transfer after rmmod: $(cat $W/xfer.out)" [ $? = 0 ]
	insmod /kmod/ntfw_kmod.ko
	wait_for 30 grep -q 'kmod ring: .*read again' $W/ntfw.log
	check ring-reopened "not read again: $(grep 'kmod ring' $W/ntfw.log | tr '\n' '|')" [ $? = 0 ]
	xfer $((1448 * 256))
	check ring-reopened-transfer "a transfer after insmod: $(cat $W/xfer.out)" [ $? = 0 ]
	ntfw_stats
	note "stats after insmod: $(tr '\n' ' ' </proc/ntfw/stats | cut -c1-120)"
	rd1=$(stat_field ring read)
	check ring-reopened-read "ring read went from $rd0 to $rd1 over a transfer after insmod" \
		[ "${rd1:-0}" -gt "${rd0:-0}" ]
	ntfw_stop
	rc=$?
	check ring-daemon-stop "ntfw exited with status $rc: $(tail -n 3 $W/ntfw.log)" [ $rc = 0 ]
	$S ntfw-rules remove >/dev/null 2>&1
	rmmod ntfw_kmod
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	note "kmemleak: $([ -e /sys/kernel/debug/kmemleak ] && echo present || echo 'not in this kernel (CONFIG_DEBUG_KMEMLEAK off)')"
}
if [ -e /kmod/ntfw_kmod.ko ]; then
	ring_checks
else
	skip ring "kmod/ntfw_kmod.ko is not built"
fi

kill "$HTTPD_PID" 2>/dev/null

# --- 6. the kernel's own view ------------------------------------------------
bad=$(dmesg | grep -E 'Oops|BUG:|WARNING:|Call Trace|general protection' | head -n 3)
check dmesg-clean "$(echo "$bad" | tr '\n' '|')" [ -z "$bad" ]
