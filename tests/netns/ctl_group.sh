#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# control-group: the control socket belongs to the group, mode 0660; a
# member (nobody:nogroup here) is served, a user outside the group is
# refused by the file's permissions, root always served.  Without
# control-group only root may connect.  A group that does not exist stops
# the daemon at startup with a clear message.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip iptables ip6tables setpriv stat
getent group nogroup >/dev/null || skip "no group nogroup on this system"
CTL=$BUILD/ntfwctl
# The socket's directory must be reachable by the unprivileged user.
chmod 0711 "$T_TMP"
mkdir -m 0755 "$T_TMP/run"
SOCK=$T_TMP/run/ntfw.sock
CONF=$T_TMP/ntfw.conf
topo_pair
rules_install "$S"

# as UID GID CMD...: run CMD as UID:GID with no supplementary group.
as() {
	local u=$1 g=$2
	shift 2
	setpriv --reuid="$u" --regid="$g" --clear-groups "$@"
}
nogroup=$(getent group nogroup | cut -d: -f3)
# A group that is not nogroup, for a user outside it.
other=$((nogroup - 1))

printf 'control-socket %s\ncontrol-group nogroup\ndefault accept\n' "$SOCK" >"$CONF"
ntfw_start "$S" "$CONF"
assert_eq "socket's group and mode" "nogroup 660" "$(stat -c '%G %a' "$SOCK")"
out=$(as 65534 "$nogroup" "$CTL" -s "$SOCK" --json status 2>&1) ||
	fail "a member of the group was refused: $out"
assert_eq "a member's status: running" "true" \
	"$(printf '%s' "$out" | python3 -c 'import json,sys; print(str(json.load(sys.stdin)["ok"]).lower())')"
out=$(as 65534 "$other" "$CTL" -s "$SOCK" reload 2>&1)
assert_eq "a user outside the group: exit" 1 "$?"
case $out in
*"Permission denied (root and the control-group may connect)"*) info "ok: outside the group: $out" ;;
*) fail "a user outside the group: $out" ;;
esac
"$CTL" -s "$SOCK" status >/dev/null || fail "root refused"
ntfw_stop

printf 'control-socket %s\ndefault accept\n' "$SOCK" >"$CONF"
ntfw_start "$S" "$CONF"
assert_eq "socket without control-group: mode" "660 root" "$(stat -c '%a %G' "$SOCK")"
out=$(as 65534 "$nogroup" "$CTL" -s "$SOCK" status 2>&1)
assert_eq "without control-group, nobody: exit" 1 "$?"
case $out in
*"Permission denied (root and the control-group may connect)"*) info "ok: without control-group: $out" ;;
*) fail "without control-group, nobody: $out" ;;
esac
"$CTL" -s "$SOCK" status >/dev/null || fail "root refused"
ntfw_stop

printf 'control-socket %s\ncontrol-group ntfwt-no-such-group\ndefault accept\n' "$SOCK" >"$CONF"
out=$(ip netns exec "$S" timeout 10 "$NTFW" -d -c "$CONF" 2>&1)
rc=$?
[ "$rc" != 0 ] && [ "$rc" != 124 ] || fail "started with a missing group (exit $rc): $out"
case $out in
*"control-group ntfwt-no-such-group: no such group"*) info "ok: exit $rc: $(printf '%s' "$out" | grep 'no such group')" ;;
*) fail "missing group: $out" ;;
esac
exit 0
