#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Least privilege (src/priv.c): the running daemon keeps CAP_NET_ADMIN
# only (bounding set included), has no_new_privs and a seccomp filter in
# every thread, and still answers packets and reloads (which re-sends the
# queue config); with "user nobody" it runs as nobody.  A system call
# outside the list kills it (SIGSYS).  ntfw -r reads a capture under a
# filter of its own, with no capability.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip ping iptables ip6tables /usr/bin/python3
topo_pair
rules_install "$S"
# The daemon as nobody must read its config again at a reload.
chmod 755 "$T_TMP"
CONF=$T_TMP/ntfw.conf
conf() {
	printf '%s\n' "$@" >"$CONF.new"
	chmod 644 "$CONF.new"
	mv "$CONF.new" "$CONF"
}
# status PID FIELD: the value of FIELD in /proc/PID/status
status() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }
# every thread's FIELD, distinct values
threads() { cat /proc/"$1"/task/*/status | awk -v f="$2:" '$1 == f {print $2}' | sort -u; }

NET_ADMIN=0000000000001000 # bit 12
for who in root nobody; do
	info "--- as $who"
	user= shown=unchanged
	[ "$who" = nobody ] && user="user nobody" shown=nobody
	conf "$user" "default accept" "copy-range 512"
	ntfw_start "$S" "$CONF"
	grep -q "^ntfw: privileges: user $shown, capabilities cap_net_admin, seccomp allowlist$" \
		"$NTFW_LOG" || fail "no privileges line: $(cat "$NTFW_LOG")"
	uid=$(id -u "$who")
	assert_eq "Uid" "$uid" "$(status "$NTFW_PID" Uid)"
	assert_eq "CapEff" "$NET_ADMIN" "$(status "$NTFW_PID" CapEff)"
	assert_eq "CapPrm" "$NET_ADMIN" "$(status "$NTFW_PID" CapPrm)"
	assert_eq "CapBnd (empty: nothing to regain)" 0000000000000000 "$(status "$NTFW_PID" CapBnd)"
	assert_eq "CapAmb" 0000000000000000 "$(status "$NTFW_PID" CapAmb)"
	assert_eq "NoNewPrivs" 1 "$(status "$NTFW_PID" NoNewPrivs)"
	assert_eq "Seccomp of every thread" 2 "$(threads "$NTFW_PID" Seccomp)"
	assert_eq "CapEff of every thread" "$NET_ADMIN" "$(threads "$NTFW_PID" CapEff)"
	assert_eq "pings answered" 3 "$(ping_count "$C" 10.213.0.1 3)"
	# A reload that changes the policy and the queue's copy range.
	conf "$user" "default accept" "copy-range 256" \
		"drop name no-ping icmp-type echo-request"
	ntfw_reload
	grep -q '^ntfw: reloaded: 1 rules' "$NTFW_LOG" ||
		fail "reload failed: $(tail -3 "$NTFW_LOG")"
	assert_eq "copy range after the reload" 256 \
		"$(ip netns exec "$S" awk '$1 == 0 {print $5}' /proc/net/netfilter/nfnetlink_queue)"
	assert_eq "pings answered after the reload" 0 "$(ping_count "$C" 10.213.0.1 3)"
	ntfw_stats
	assert_eq "no-ping counter" 3 "$(rule_pkts no-ping)"
	ntfw_stop
done

# A forbidden system call, once the filter is in: killed by SIGSYS (31).
conf "default accept"
for call in socket execve; do
	log=$T_TMP/forbidden.$call.log
	ip netns exec "$S" env NTFW_SECCOMP_DEBUG=$call "$NTFW" -d -c "$CONF" >"$log" 2>&1
	rc=$?
	assert_eq "daemon trying $call: exit status (128 + SIGSYS)" 159 "$rc"
	grep -q "^ntfw: seccomp debug: trying $call$" "$log" || fail "no debug line: $(cat "$log")"
	grep -q '^ntfw: ready' "$log" && fail "the daemon went on after $call"
done

# ntfw -r: a capture through a FIFO holds it after the header, under the filter.
/usr/bin/python3 - "$T_TMP/c.pcap" <<'P'
import sys
from scapy.all import Ether, IP, UDP, wrpcap
wrpcap(sys.argv[1], [Ether() / IP(src="10.213.0.2", dst="10.213.0.1") /
                     UDP(sport=1000 + i, dport=53) for i in range(5)])
P
mkfifo "$T_TMP/fifo"
"$NTFW" -r "$T_TMP/fifo" >"$T_TMP/off.json" 2>"$T_TMP/off.err" &
OFF=$!
T_PIDS+=("$OFF")
exec 3>"$T_TMP/fifo"
cat "$T_TMP/c.pcap" >&3
wait_for 5 sh -c "grep -q '^Seccomp:.2' /proc/$OFF/status" ||
	fail "ntfw -r: no seccomp filter: $(grep -E 'Seccomp|Cap' /proc/$OFF/status)"
info "ok: ntfw -r runs under seccomp"
assert_eq "ntfw -r: CapEff" 0000000000000000 "$(status "$OFF" CapEff)"
assert_eq "ntfw -r: NoNewPrivs" 1 "$(status "$OFF" NoNewPrivs)"
exec 3>&-
wait "$OFF"
assert_eq "ntfw -r: exit" 0 "$?"
assert_eq "ntfw -r: flow records" 5 "$(grep -c '"proto":"udp"' "$T_TMP/off.json")"
NTFW_SECCOMP_DEBUG=execve "$NTFW" -r "$T_TMP/c.pcap" >/dev/null 2>&1
assert_eq "ntfw -r trying execve: exit status (128 + SIGSYS)" 159 "$?"
