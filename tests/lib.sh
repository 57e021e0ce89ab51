# SPDX-License-Identifier: GPL-2.0-only
# Shared helpers for ntfw's shell tests.  Source it; every test is one
# scenario, exits 0 on pass, 77 on skip (after printing why), 1 on failure.
# Namespaces are created with unique names and removed on exit, pass or fail.

set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
NTFW=$BUILD/ntfw
NTFW_RULES=$BUILD/ntfw-rules
export NTFW_RULESDIR=${NTFW_RULESDIR:-$TOP/rules}
T_NAME=$(basename "$0" .sh)
T_TMP=$(mktemp -d "/tmp/ntfw-$T_NAME.XXXXXX")
T_NETNS=()
T_PIDS=()

t_cleanup() {
	local pid ns
	for pid in "${T_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${T_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	for ns in "${T_NETNS[@]}"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$T_TMP"
}
trap t_cleanup EXIT
trap 'exit 1' INT TERM

fail() { echo "FAIL: $T_NAME: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
info() { echo "  $*"; }

# assert_eq WHAT EXPECTED ACTUAL
assert_eq() {
	[ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
	info "ok: $1 = '$3'"
}
# assert_ge WHAT MIN ACTUAL
assert_ge() {
	[ "$3" -ge "$2" ] 2>/dev/null || fail "$1: expected >= $2, got '$3'"
	info "ok: $1 = $3 (>= $2)"
}

need_root() { [ "$(id -u)" = 0 ] || skip "needs root (network namespaces)"; }
need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "'$c' is not installed"
	done
}

# ns_new VAR: create a namespace with a unique name, store the name in VAR.
ns_new() {
	local name="ntfwt-$$-${#T_NETNS[@]}"
	ip netns add "$name" || fail "cannot create netns $name"
	T_NETNS+=("$name")
	ip -n "$name" link set lo up
	printf -v "$1" '%s' "$name"
}

# topo_pair: client namespace $C and server namespace $S joined by a veth.
#   server 10.213.0.1/24 fd00:213::1/64 on veth "s0"
#   client 10.213.0.2/24 fd00:213::2/64 on veth "c0"
topo_pair() {
	ns_new C
	ns_new S
	ip link add c0 netns "$C" type veth peer name s0 netns "$S" ||
		fail "cannot create veth pair"
	ip -n "$S" addr add 10.213.0.1/24 dev s0
	ip -n "$S" addr add fd00:213::1/64 dev s0 nodad
	ip -n "$C" addr add 10.213.0.2/24 dev c0
	ip -n "$C" addr add fd00:213::2/64 dev c0 nodad
	ip -n "$S" link set s0 up
	ip -n "$C" link set c0 up
}

# bg LOGFILE CMD...: run CMD in the background, remember its PID in BG_PID.
bg() {
	local log=$1
	shift
	"$@" >"$log" 2>&1 &
	BG_PID=$!
	T_PIDS+=("$BG_PID")
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
	local n=$(($1 * 10))
	shift
	while [ "$n" -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}
