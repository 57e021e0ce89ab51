#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# "fastpath after 4": once a connection is accepted for good, the kernel
# accepts the rest of it (mark -> connmark -> accept): a bulk transfer
# mostly bypasses the queue, as the ruleset's counters show.  A rule
# changed at restart still applies to new connections.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip curl python3 iptables ip6tables
topo_pair
rules_install "$S"
mkdir -p "$T_TMP/www"
head -c 2000000 /dev/urandom >"$T_TMP/www/big"
http_serve "$S" 0.0.0.0 8080

# count WHAT: bytes through ntfw's queue rules (queued) or through its
# connmark accept rules (fast), input and output.  Bytes, not packets:
# the veth's segmentation offload sends 64 KB at a time through the hooks.
count() {
	local pat=NFQUEUE
	[ "$1" = fast ] && pat="connmark match"
	for c in NTFW-INPUT NTFW-OUTPUT; do
		ip netns exec "$S" iptables -L "$c" -v -n -x
	done | awk -v p="$pat" 'index($0, p) {s += $2} END {print s + 0}'
}

cat >"$T_TMP/ntfw.conf" <<'C'
fastpath after 4
accept name web proto tcp dport 8080
C
ntfw_start "$S" "$T_TMP/ntfw.conf"
q0=$(count queued)
http_get "$C" http://10.213.0.1:8080/big -o "$T_TMP/got"
assert_eq "curl of 2 MB" 0 "$HTTP_RC"
assert_eq "file intact" "$(md5sum <"$T_TMP/www/big")" "$(md5sum <"$T_TMP/got")"
queued=$(($(count queued) - q0))
fast=$(count fast)
info "$queued bytes queued, $fast bytes accepted by the kernel fast path"
# The handshake, the request, and what was in flight at the hand-off.
[ "$queued" -le 200000 ] || fail "$queued bytes of the transfer still queued"
assert_ge "bytes the fast path accepted (of a 2 MB file)" 1800000 "$fast"
ntfw_stats
assert_eq "flows handed off" 1 "$(stat_field flows handed-off)"
# Where the kernel has the conntrack glue, packets come with their
# connection and the hand-off verdict marks it; elsewhere neither.
glue=$(sed -n 's/^ntfw: conntrack glue: \([a-z]*\),.*/\1/p' "$NTFW_LOG")
info "conntrack glue: $glue"
case $glue in
yes) assert_ge "packets that came with their connection" 1 "$(stat_queue 0 ct)" ;;
no) assert_eq "packets that came with their connection" 0 "$(stat_queue 0 ct)" ;;
*) fail "no conntrack glue line: $(cat "$NTFW_LOG")" ;;
esac
ntfw_stop

# A per-packet rule that could still decide the connection (a flow
# feature on its port) keeps every packet in userspace; one that cannot
# match it (another port) does not.
cat >"$T_TMP/ntfw.conf" <<'C'
fastpath after 4
drop   name other-port proto tcp dport 9 flow pushed_c2s > 1000
drop   name pushy proto tcp dport 8080 flow pushed_c2s > 1000
accept name web proto tcp dport 8080
C
ntfw_start "$S" "$T_TMP/ntfw.conf"
f0=$(count fast)
http_get "$C" http://10.213.0.1:8080/big -o /dev/null
assert_eq "curl of 2 MB (no hand-off)" 0 "$HTTP_RC"
assert_eq "fast path unused behind a per-packet rule" "$f0" "$(count fast)"
ntfw_stop

# Restart with the port dropped: new connections meet the new rule.
cat >"$T_TMP/ntfw.conf" <<'C'
fastpath after 4
drop name web proto tcp dport 8080
C
ntfw_start "$S" "$T_TMP/ntfw.conf"
http_get "$C" http://10.213.0.1:8080/
assert_eq "curl after the change (28 = timed out)" 28 "$HTTP_RC"
ntfw_stats
assert_ge "web drop counter" 2 "$(rule_pkts web)"
ntfw_stop
