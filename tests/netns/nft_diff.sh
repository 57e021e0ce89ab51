#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Differential test: ntfw's verdicts against the kernel's own nftables.
# Random policies (DIFF_SEED, default fixed) are written as an ntfw
# configuration and as an nft chain meaning the same; the same random
# packets go through a router running each, and what reaches the sink
# behind each router must be the same.
#
#            s1 -- r-in [R1: nft forward chain]   r-out -- k0 [sink 1]
#   sender <
#            s2 -- r-in [R2: ntfw-rules + ntfw]   r-out -- k0 [sink 2]
#
# The routers are identical (names, addresses, MACs, conntrack) but for
# the policy.  Every packet is its own flow (no two share an address
# pair), so ntfw classifies each by its rules, as nft does.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip nft iptables ip6tables tcpdump
/usr/bin/python3 -c 'import scapy.all' 2>/dev/null || skip "python3-scapy is not installed"

SEED=${DIFF_SEED:-20250213}
POLICIES=${DIFF_POLICIES:-24}
PACKETS=${DIFF_PACKETS:-6000}
info "seed $SEED: $POLICIES policies, $PACKETS packets (DIFF_SEED=... to change)"

ns_new SND
ns_new R1
ns_new R2
ns_new K1
ns_new K2
for i in 1 2; do
	r=R$i k=K$i
	ip link add "s$i" netns "$SND" address 02:00:00:00:00:01 type veth \
		peer name r-in netns "${!r}" address 02:00:00:00:01:01 ||
		fail "cannot create veth pair"
	ip link add r-out netns "${!r}" address 02:00:00:00:01:02 type veth \
		peer name k0 netns "${!k}" address 02:00:00:00:02:01 ||
		fail "cannot create veth pair"
	ip -n "$SND" link set "s$i" up
	ip -n "${!k}" link set k0 up
	# The sink captures and discards: a drop at ingress comes after
	# the capture taps, and the sink's IP layer never answers.
	ip netns exec "${!k}" nft -f - <<-N || fail "sink ruleset"
		table netdev sink {
			chain in { type filter hook ingress device k0 priority 0; policy drop; }
		}
	N
	ip netns exec "${!r}" sh -e -c '
		sysctl -qw net.ipv4.ip_forward=1
		sysctl -qw net.ipv6.conf.all.forwarding=1
		sysctl -qw net.ipv4.conf.all.rp_filter=0
		sysctl -qw net.ipv4.conf.default.rp_filter=0
		sysctl -qw net.ipv6.conf.default.accept_dad=0
		sysctl -qw net.ipv6.conf.all.accept_dad=0' ||
		fail "router sysctls"
	ip -n "${!r}" addr add 10.213.250.1/24 dev r-in
	ip -n "${!r}" addr add fd00:213:fa::1/64 dev r-in nodad
	ip -n "${!r}" addr add 10.213.251.1/24 dev r-out
	ip -n "${!r}" addr add fd00:213:fb::1/64 dev r-out nodad
	ip -n "${!r}" link set r-in up
	ip -n "${!r}" link set r-out up
	ip netns exec "${!r}" sysctl -qw net.ipv4.conf.r-in.rp_filter=0
	ip -n "${!r}" neigh add 10.213.251.2 lladdr 02:00:00:00:02:01 dev r-out nud permanent
	ip -n "${!r}" neigh add fd00:213:fb::2 lladdr 02:00:00:00:02:01 dev r-out nud permanent
	ip -n "${!r}" route add default via 10.213.251.2 dev r-out
	ip -n "${!r}" -6 route add default via fd00:213:fb::2 dev r-out
done

# R1: the policy in an inet forward chain.  The prerouting chain's ct
# rule does nothing but make R1 track (and defragment) as R2 does for
# ntfw's connmark rules.
ip netns exec "$R1" nft -f - <<'N' || fail "R1 ruleset"
table inet diff {
	chain pre {
		type filter hook prerouting priority 0; policy accept;
		ct state invalid counter
	}
	chain rules {
		type filter hook forward priority 0; policy accept;
	}
}
N
rules_install "$R2"
printf 'default accept\n' >"$T_TMP/ntfw.conf"
ntfw_start "$R2" "$T_TMP/ntfw.conf"

capture_start "$K1" k0 "$T_TMP/k1.pcap" ip or ip6
CAP1=$CAP_FILE CAP1_PID=$CAP_PID
capture_start "$K2" k0 "$T_TMP/k2.pcap" ip or ip6
CAP2=$CAP_FILE CAP2_PID=$CAP_PID

export DIFF_SEED=$SEED DIFF_POLICIES=$POLICIES DIFF_PACKETS=$PACKETS
export DIFF_R1=$R1 DIFF_NTFW_PID=$NTFW_PID DIFF_NTFW_LOG=$NTFW_LOG
export DIFF_NTFW=$NTFW DIFF_CONF=$T_TMP/ntfw.conf
export DIFF_CAP1=$CAP1 DIFF_CAP2=$CAP2
mkdir -p "$T_TMP/diff"
ip netns exec "$SND" /usr/bin/python3 "$TOP/tests/netns/nft_diff.py" run "$T_TMP/diff" ||
	fail "sending the packets failed"

CAP_FILE=$CAP1 CAP_PID=$CAP1_PID
capture_stop
CAP_FILE=$CAP2 CAP_PID=$CAP2_PID
capture_stop
ntfw_stats
assert_eq "queue 0: packets waiting for a verdict" 0 "$(stat_queue 0 waiting)"

/usr/bin/python3 "$TOP/tests/netns/nft_diff.py" check "$T_TMP/diff" ||
	fail "ntfw and nft disagree (seed $SEED)"
ntfw_stop
