#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The daemon's flow records (event-log) for curl fetches match what
# "ntfw -r" computes from a capture of the same traffic taken at the same
# time: every field but the timestamps.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip curl python3 tcpdump ethtool iptables ip6tables
topo_pair
rules_install "$S"
mkdir -p "$T_TMP/www"
head -c 300000 /dev/urandom >"$T_TMP/www/big"
http_serve "$S" :: 8080

cat >"$T_TMP/ntfw.conf" <<C
event-log $T_TMP/flows.json
accept name web proto tcp dport 8080
C
ntfw_start "$S" "$T_TMP/ntfw.conf"
no_offload "$S" s0
no_offload "$C" c0
capture_start "$S" s0 "$T_TMP/cap.pcap" tcp port 8080
http_get "$C" http://10.213.0.1:8080/big -o /dev/null
assert_eq "curl IPv4 fetch" 0 "$HTTP_RC"
http_get "$C" "http://[fd00:213::1]:8080/"
assert_eq "curl IPv6 fetch" 0 "$HTTP_RC"
capture_stop
ntfw_stop # writes the flows still open (closed ones linger) to the log

# Compare the TCP flows of both sources, without the timestamps, and
# without the fields that depend on how the two directions interleave
# (initial window, RTT samples): the daemon sees a packet at its hook,
# tcpdump at the device, and a reply may pass one point before and the
# other after the packet it crosses.  tcptrace_compare checks those
# fields exactly, on one capture.
strip() {
	grep '"proto":"tcp"' "$1" |
		sed -e 's/^{"ts":[0-9.]*,"event":"flow",/{/' \
			-e 's/"first_ts":[0-9.]*,//' -e 's/"last_ts":[0-9.]*,//' \
			-e 's/"duration":[0-9.]*,//' \
			-e 's/"init_win_[a-z_0-9]*":[0-9]*,//g' \
			-e 's/"rtt_samples_[a-z_0-9]*":[0-9]*,//g' | sort
}
"$NTFW" -r "$T_TMP/cap.pcap" -c "$T_TMP/ntfw.conf" >"$T_TMP/offline.json" 2>"$T_TMP/offline.err" ||
	fail "ntfw -r: $(cat "$T_TMP/offline.err")"
strip "$T_TMP/flows.json" >"$T_TMP/a"
strip "$T_TMP/offline.json" >"$T_TMP/b"
assert_eq "TCP flows in the daemon's log" 2 "$(wc -l <"$T_TMP/a")"
diff "$T_TMP/a" "$T_TMP/b" >"$T_TMP/diff" || fail "records differ:
$(cat "$T_TMP/diff")"
info "ok: both records identical in all $(head -n 1 "$T_TMP/a" | tr ',' '\n' | wc -l) fields but the 3 timestamps"
grep -q '"rule":"web"' "$T_TMP/a" || fail "records do not name rule web"
