#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# "gso yes": the kernel queues a GSO super-packet whole instead of one
# packet per segment.  The same 2 MB transfers, over IPv4 and IPv6, with
# "gso no" and with "gso yes": the file arrives intact both times; with
# "gso no" the daemon is given no super-packet, with "gso yes" it is, and
# it verdicts far fewer packets.  None is malformed either way.  The veths
# keep their offloads: the server's TCP hands them 64 KB at a time.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip curl python3 iptables ip6tables ethtool md5sum
topo_pair
ip netns exec "$S" ethtool -k s0 | grep -q '^tcp-segmentation-offload: on' ||
	skip "TSO is off on this kernel's veth: no super-packets to queue"
rules_install "$S"
mkdir -p "$T_TMP/www"
head -c 2000000 /dev/urandom >"$T_TMP/www/big"
SUM=$(md5sum <"$T_TMP/www/big")
http_serve "$S" :: 8080

# fetch MODE: both transfers under "gso MODE"; the daemon's counters of
# them in PKTS (packets verdicted), SUPER (given whole) and MALFORMED.
fetch() {
	local url
	printf 'gso %s\naccept name web proto tcp dport 8080\n' "$1" >"$T_TMP/ntfw.conf"
	ntfw_start "$S" "$T_TMP/ntfw.conf"
	for url in http://10.213.0.1:8080/big "http://[fd00:213::1]:8080/big"; do
		rm -f "$T_TMP/got"
		http_get "$C" "$url" -o "$T_TMP/got"
		assert_eq "gso $1: curl $url" 0 "$HTTP_RC"
		assert_eq "gso $1: file intact" "$SUM" "$(md5sum <"$T_TMP/got")"
	done
	ntfw_stats
	PKTS=$(stat_total packets)
	MALFORMED=$(stat_total malformed)
	SUPER=$(stat_queue 0 gso)
	ntfw_stop
	info "gso $1: $PKTS packets verdicted, $SUPER of them super-packets"
	assert_eq "gso $1: malformed packets" 0 "$MALFORMED"
}

fetch no
NO_PKTS=$PKTS
# 2 x 2 MB in segments of at most 1448 bytes: 2764 of them at the least.
assert_ge "gso no: packets verdicted" 2764 "$NO_PKTS"
assert_eq "gso no: super-packets given" 0 "$SUPER"

fetch yes
assert_ge "gso yes: super-packets given" 1 "$SUPER"
[ $((PKTS * 2)) -lt "$NO_PKTS" ] ||
	fail "gso yes: $PKTS packets verdicted, not under half of $NO_PKTS (gso no)"
info "ok: gso yes verdicted $PKTS packets, gso no $NO_PKTS"
