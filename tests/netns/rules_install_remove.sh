#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# ntfw-rules install, status and remove, in namespaces only.  Whatever was
# there before - nothing, the user's own nft table, the user's own iptables
# rules - "nft list ruleset" must read byte-for-byte the same after remove.
# Works on kernels with and without nft_queue: it probes and expects the
# backend ntfw-rules should pick.

. "$(dirname "$0")/../lib.sh"

need_root
need_cmd ip nft iptables ip6tables iptables-restore ip6tables-restore cmp
[ -x "$NTFW_RULES" ] || skip "$NTFW_RULES is not built"

IPT_DONE="ntfw-rules: installed iptables-nft rules (chains NTFW-INPUT, NTFW-FORWARD, NTFW-OUTPUT)"
IPT_GONE="ntfw-rules: removed iptables-nft rules (chains NTFW-INPUT, NTFW-FORWARD, NTFW-OUTPUT)"
NFT_DONE="ntfw-rules: installed nft ruleset (table inet ntfw)"
NFT_GONE="ntfw-rules: removed nft ruleset (table inet ntfw)"

# rules NS ARGS...: run ntfw-rules in NS; output (both streams) in OUT, exit
# code in RC.
rules() {
	local ns=$1
	shift
	RC=0
	OUT=$(ip netns exec "$ns" "$NTFW_RULES" "$@" 2>&1) || RC=$?
}

snap() {
	ip netns exec "$1" nft list ruleset >"$T_TMP/$2" 2>/dev/null ||
		fail "nft list ruleset in $1"
}

# same WHAT NS SNAPSHOT: the ruleset in NS now is SNAPSHOT, byte for byte.
same() {
	snap "$2" now
	if ! cmp -s "$T_TMP/$3" "$T_TMP/now"; then
		diff -u "$T_TMP/$3" "$T_TMP/now" >&2
		fail "$1: ruleset differs from before"
	fi
	info "ok: $1: ruleset byte-for-byte as before"
}

# jumps NS CMD CHAIN: how many jumps to NTFW-CHAIN the builtin CHAIN holds.
jumps() {
	ip netns exec "$1" "$2" -S "$3" | grep -c -- "-j NTFW-$3\$"
}

ns_new A
ns_new B

# Does this kernel queue from nft?  Ask it, in a namespace, the way
# ntfw-rules will.
NFT_ERR=$(echo 'table inet ntfwprobe { chain c { type filter hook input priority filter; queue num 0 bypass; }; }' |
	ip netns exec "$A" nft -c -f - 2>&1) && NFT_QUEUE=1 || NFT_QUEUE=0
NFT_ERR=$(echo "$NFT_ERR" | sed -n 's/.*Error: //p' | head -n 1)
info "kernel queues from nft: $NFT_QUEUE${NFT_ERR:+ ($NFT_ERR)}"

# a. Empty namespace, backend picked by probing.
snap "$A" a0
rules "$A" install
assert_eq "a: install exit" 0 "$RC"
if [ "$NFT_QUEUE" = 1 ]; then
	assert_eq "a: install output" "$NFT_DONE, queue 0" "$OUT"
	BACKEND="backend: nft (table inet ntfw)"
	GONE=$NFT_GONE
else
	assert_eq "a: install output" "ntfw-rules: nft cannot load the ruleset ($NFT_ERR), falling back to iptables-nft
$IPT_DONE, queue 0" "$OUT"
	BACKEND="backend: iptables-nft (chains NTFW-INPUT, NTFW-FORWARD, NTFW-OUTPUT)"
	GONE=$IPT_GONE
	for ipt in iptables ip6tables; do
		for c in INPUT FORWARD OUTPUT; do
			ip netns exec "$A" $ipt -S NTFW-$c >/dev/null 2>&1 ||
				fail "a: $ipt chain NTFW-$c missing"
			assert_eq "a: $ipt jumps in $c" 1 "$(jumps "$A" $ipt $c)"
		done
	done
fi
rules "$A" status
assert_eq "a: status exit" 0 "$RC"
assert_eq "a: status backend" "$BACKEND" "$(echo "$OUT" | head -n 1)"
assert_eq "a: status queue" "queue: 0" "$(echo "$OUT" | sed -n 2p)"
rules "$A" remove
assert_eq "a: remove exit" 0 "$RC"
assert_eq "a: remove output" "$GONE" "$OUT"
same "a: install, remove" "$A" a0
rules "$A" status
assert_eq "a: status exit when removed" 1 "$RC"
assert_eq "a: status output when removed" "ntfw-rules: not installed" "$OUT"
rules "$A" remove
assert_eq "a: remove again exit" 0 "$RC"
assert_eq "a: remove again output" "ntfw-rules: nothing installed" "$OUT"

# The same by iptables-nft on any kernel: it must take out the filter
# tables it made iptables-nft create.
rules "$A" -b iptables install
assert_eq "a: iptables install output" "$IPT_DONE, queue 0" "$OUT"
rules "$A" remove
assert_eq "a: iptables remove output" "$IPT_GONE" "$OUT"
same "a: iptables install, remove" "$A" a0

# b. The user's own nft table and iptables rules (a user chain, a rule in
# INPUT, a drop policy on IPv6 FORWARD, nothing in OUTPUT) stay as they are,
# and so does every chain iptables-nft did not have to create for ntfw.
ip netns exec "$B" nft -f - <<'EOF' || fail "b: cannot load the user's nft table"
table inet user {
	chain input {
		type filter hook input priority filter + 10; policy accept;
		tcp dport 22 counter accept
	}
}
EOF
ip netns exec "$B" iptables -N USER
ip netns exec "$B" iptables -A USER -s 10.213.0.2 -j ACCEPT
ip netns exec "$B" iptables -A INPUT -p tcp --dport 22 -j USER
ip netns exec "$B" ip6tables -P FORWARD DROP
snap "$B" b0
ip netns exec "$B" iptables -S >"$T_TMP/b0.ipt"
for backend in auto iptables; do
	if [ $backend = auto ]; then
		rules "$B" install
	else
		rules "$B" -b $backend install
	fi
	assert_eq "b: $backend install exit" 0 "$RC"
	rules "$B" status
	assert_eq "b: $backend status exit" 0 "$RC"
	ip netns exec "$B" iptables -S | grep -qx -- "-A INPUT -p tcp -m tcp --dport 22 -j USER" ||
		fail "b: $backend: the user's INPUT rule is gone"
	ip netns exec "$B" ip6tables -S | grep -qx -- "-P FORWARD DROP" ||
		fail "b: $backend: the user's FORWARD policy is gone"
	rules "$B" remove
	assert_eq "b: $backend remove exit" 0 "$RC"
	same "b: $backend install, remove" "$B" b0
done
ip netns exec "$B" iptables -S >"$T_TMP/b1.ipt"
cmp -s "$T_TMP/b0.ipt" "$T_TMP/b1.ipt" || fail "b: iptables -S differs"
info "ok: b: iptables -S as before"

# c. Installing again replaces, never duplicates, and remove still finds
# everything; also across a change of queue and of backend.
for ns in "$A" "$B"; do
	[ "$ns" = "$A" ] && s=a0 || s=b0
	rules "$ns" -b iptables -q 0-3 install
	rules "$ns" -b iptables -q 1 install
	assert_eq "c: second install exit" 0 "$RC"
	assert_eq "c: second install output" "$IPT_DONE, queue 1" "$OUT"
	for ipt in iptables ip6tables; do
		for c in INPUT FORWARD OUTPUT; do
			assert_eq "c: $ipt jumps in $c" 1 "$(jumps "$ns" $ipt $c)"
		done
		assert_eq "c: $ipt queue rules" 3 \
			"$(ip netns exec "$ns" $ipt -S | grep -c -- '-j NFQUEUE --queue-num 1 --queue-bypass$')"
	done
	rules "$ns" install
	assert_eq "c: install over iptables exit" 0 "$RC"
	rules "$ns" remove
	assert_eq "c: remove exit" 0 "$RC"
	same "c: install twice, remove" "$ns" "$s"
done

# d. Queue ranges, and queues that are not.
rules "$A" -b iptables -q 0-3 install
assert_eq "d: -q 0-3 install output" "$IPT_DONE, queue 0-3" "$OUT"
for ipt in iptables ip6tables; do
	for c in INPUT FORWARD OUTPUT; do
		assert_eq "d: $ipt NTFW-$c queue" "-A NTFW-$c -j NFQUEUE --queue-balance 0:3 --queue-bypass" \
			"$(ip netns exec "$A" $ipt -S NTFW-$c | grep -- '-j NFQUEUE')"
	done
done
rules "$A" status
assert_eq "d: status queue" "queue: 0-3" "$(echo "$OUT" | sed -n 2p)"
rules "$A" remove
same "d: -q 0-3 install, remove" "$A" a0
check_bad() {
	local want=$1
	shift
	rules "$A" "$@"
	assert_eq "d: '$*' exit" 2 "$RC"
	assert_eq "d: '$*' output" "$want" "$OUT"
}
check_bad "ntfw-rules: queue 70000: out of range (0-65535)" -q 70000 install
check_bad "ntfw-rules: queue 5-2: first queue above last" -q 5-2 install
check_bad "ntfw-rules: queue 1-x: expected N or A-B" -q 1-x install
check_bad "ntfw-rules: backend pf: expected nft or iptables" -b pf install
same "d: failed installs" "$A" a0

# e. nft forced: installs where the kernel queues from nft, otherwise fails
# with nft's reason and leaves everything as it was.
rules "$A" -b nft install
if [ "$NFT_QUEUE" = 1 ]; then
	assert_eq "e: -b nft install exit" 0 "$RC"
	assert_eq "e: -b nft install output" "$NFT_DONE, queue 0" "$OUT"
	ip netns exec "$A" nft list table inet ntfw >/dev/null ||
		fail "e: table inet ntfw missing"
	rules "$A" remove
	assert_eq "e: remove output" "$NFT_GONE" "$OUT"
else
	[ "$RC" != 0 ] || fail "e: -b nft install succeeded without nft_queue"
	info "ok: e: -b nft install exit = $RC"
	assert_eq "e: -b nft install output" "ntfw-rules: nft cannot load the ruleset: $NFT_ERR" "$OUT"
fi
same "e: -b nft" "$A" a0

echo "PASS: $T_NAME"
