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
	set +e # a script under errexit must still clean up everything
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
	# Emptied here, not only by the child's redirection: that one runs
	# when the child does, and a wait_for on LOG meanwhile reads what an
	# earlier run of the same command left there.
	: >"$log"
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

# ntfw_start NS CONF: run the daemon in NS in the foreground (-d), logging
# to $NTFW_LOG, and wait until it has bound its queues.
ntfw_start() {
	NTFW_LOG=$T_TMP/ntfw.log
	: >"$NTFW_LOG"
	bg "$NTFW_LOG" ip netns exec "$1" "$NTFW" -d -c "$2"
	NTFW_PID=$BG_PID
	wait_for 5 grep -q '^ntfw: ready:' "$NTFW_LOG" ||
		fail "ntfw did not start: $(cat "$NTFW_LOG")"
}

# ntfw_stop: SIGTERM, wait for a clean exit (status 0).
ntfw_stop() {
	kill -TERM "$NTFW_PID" 2>/dev/null || fail "ntfw is not running"
	wait "$NTFW_PID"
	local rc=$?
	[ "$rc" = 0 ] || fail "ntfw exited with status $rc: $(tail -5 "$NTFW_LOG")"
}

# ntfw_signal SIG REGEX: send SIG to the daemon and wait for one more line
# of its log that matches REGEX (grep -E).
ntfw_signal() {
	local n
	n=$(grep -cE "$2" "$NTFW_LOG")
	kill -"$1" "$NTFW_PID" 2>/dev/null || fail "ntfw is not running"
	wait_for 5 _log_grows "$2" "$n" || fail "ntfw did not answer SIG$1"
}
_log_grows() { [ "$(grep -cE "$1" "$NTFW_LOG")" -gt "$2" ]; }

# ntfw_stats: ask the daemon for its counters (SIGUSR1) and wait for them.
ntfw_stats() { ntfw_signal USR1 '^ntfw: stats: malformed'; }

# ntfw_reload: SIGHUP, and wait until the daemon says how the reload went.
ntfw_reload() { ntfw_signal HUP '^ntfw: (reloaded:|reload failed)'; }

# rule_pkts NAME: packets counted for rule NAME ("default" for the default)
# in the last report.
rule_pkts() {
	local line
	if [ "$1" = default ]; then
		line=$(grep '^ntfw: stats: default ' "$NTFW_LOG" | tail -n 1)
	else
		line=$(grep "^ntfw: stats: rule $1 " "$NTFW_LOG" | tail -n 1)
	fi
	[ -n "$line" ] || fail "no counter for rule '$1'"
	echo "$line" | sed -n 's/.* packets=\([0-9]*\) .*/\1/p'
}

# stat_field LINE FIELD: FIELD of the last report line "stats: LINE ...",
# as in stat_field "queue 1" waiting, or stat_field flows created.
stat_field() {
	grep "^ntfw: stats: $1 " "$NTFW_LOG" | tail -n 1 |
		sed -n "s/.* $2=\([0-9]*\).*/\1/p"
}
# stat_total FIELD: FIELD (packets, accepted, dropped, malformed) of the
# last "total" line; stat_malformed REASON likewise.
stat_total() { stat_field total "$1"; }
stat_malformed() { stat_field malformed "$1"; }

# queued NS: packets that ntfw's queue rules in NS have sent to a queue,
# both families, every hook.
queued() {
	local t c sum=0
	for t in iptables ip6tables; do
		for c in NTFW-INPUT NTFW-OUTPUT NTFW-FORWARD; do
			sum=$((sum + $(ip netns exec "$1" $t -L $c -v -n -x |
				awk '/NFQUEUE/ {s += $1} END {print s + 0}')))
		done
	done
	echo "$sum"
}

# Every packet queued while the daemon runs gets a verdict: "queued minus
# verdicted" (the packets that bypass accepted before the daemon was bound)
# stays the same from one reading to the next.  A reading of the daemon's
# total is bracketed by readings of the queue rules' counters, so it is a
# range.  verdicts_mark NS takes the first reading; assert_verdicted NS
# QUEUE... takes another, fails unless the two ranges meet, and checks
# that no packet waits for a verdict on any QUEUE (accepts go in batches:
# every batch reached the kernel).  The ruleset counts a GSO packet once
# and the daemon each of its segments: bulk TCP sent from NS needs
# gso_max_segs 1 on the device.
verdicts_mark() {
	_verdicts_bracket "$1"
	V_LO=$LO V_HI=$HI
}
assert_verdicted() {
	local ns=$1 q
	shift
	_verdicts_bracket "$ns"
	[ "$LO" -le "$V_HI" ] && [ "$V_LO" -le "$HI" ] ||
		fail "packets lost: queued-verdicted was $V_LO..$V_HI, now $LO..$HI"
	info "ok: queued minus verdicted stayed in $V_LO..$V_HI / $LO..$HI"
	for q in "$@"; do
		assert_eq "queue $q: packets waiting for a verdict" 0 \
			"$(stat_field "queue $q" waiting)"
	done
}
_verdicts_bracket() {
	local before after
	before=$(queued "$1")
	ntfw_stats
	after=$(queued "$1")
	LO=$((before - $(stat_total packets)))
	HI=$((after - $(stat_total packets)))
}
# stat_queue QUEUE FIELD: FIELD (given, waiting, queue-dropped, gso, ...)
# of the last "queue" line of QUEUE.
stat_queue() {
	grep "^ntfw: stats: queue $1 " "$NTFW_LOG" | tail -n 1 |
		sed -n "s/.* $2=\([0-9]*\).*/\1/p"
}

# rules_install NS [ARGS]: the ntfw ruleset, through the user's own tool.
rules_install() {
	local ns=$1
	shift
	ip netns exec "$ns" "$NTFW_RULES" "$@" install >"$T_TMP/rules.log" 2>&1 ||
		fail "ntfw-rules install failed: $(cat "$T_TMP/rules.log")"
}

# http_serve NS ADDR PORT: a static HTTP server (python3) serving $T_TMP/www.
http_serve() {
	mkdir -p "$T_TMP/www"
	[ -e "$T_TMP/www/index.html" ] || echo "hello from ntfw test" >"$T_TMP/www/index.html"
	bg "$T_TMP/http-$3.log" ip netns exec "$1" python3 -m http.server \
		--bind "$2" --directory "$T_TMP/www" "$3"
	wait_for 5 _listening "$1" "$3" || fail "http server on port $3 did not start"
}
_listening() { ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q LISTEN; }

# http_get NS URL [CURL ARGS]: body in $HTTP_BODY, curl's status in $HTTP_RC.
http_get() {
	local ns=$1 url=$2
	shift 2
	HTTP_BODY=$(ip netns exec "$ns" curl -sS -g --max-time 3 "$@" "$url" 2>"$T_TMP/curl.err")
	HTTP_RC=$?
}

# ping_count NS ADDR N: how many of N echo requests were answered.
ping_count() {
	ip netns exec "$1" ping -n -q -c "$3" -i 0.2 -W 1 "$2" 2>/dev/null |
		sed -n 's/.* \([0-9]*\) received.*/\1/p'
}

# no_offload NS DEV...: turn off segmentation offloads, so that captures
# show the packets the wire (and the queue) carry, not GSO super-packets.
no_offload() {
	local ns=$1 dev
	shift
	for dev in "$@"; do
		ip netns exec "$ns" ethtool -K "$dev" tso off gso off gro off >/dev/null 2>&1 ||
			fail "ethtool -K $dev failed"
	done
}

# capture_start NS DEV FILE [FILTER...]: tcpdump writing every packet as it
# comes, with a buffer (32 MB) that holds a few seconds of a busy veth
# while the daemon and the transfer share the CPUs; capture_stop waits
# until the file stops growing, then stops it.
capture_start() {
	local ns=$1 dev=$2 file=$3
	shift 3
	CAP_FILE=$file
	bg "$file.log" ip netns exec "$ns" tcpdump --immediate-mode -U -n -s 0 \
		-B 32768 -i "$dev" -w "$file" "$@"
	CAP_PID=$BG_PID
	wait_for 5 grep -q "listening on" "$file.log" || fail "tcpdump did not start"
}
capture_stop() {
	local size=-1 n=0
	while [ "$n" -lt 50 ] && [ "$(stat -c %s "$CAP_FILE")" != "$size" ]; do
		size=$(stat -c %s "$CAP_FILE")
		sleep 0.3
		n=$((n + 1))
	done
	kill -INT "$CAP_PID"
	wait "$CAP_PID" 2>/dev/null
	grep -q '^0 packets dropped by kernel' "$CAP_FILE.log" ||
		fail "tcpdump lost packets: $(cat "$CAP_FILE.log")"
}
