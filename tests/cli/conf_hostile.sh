#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `ntfw -n` on hostile config files: 1 MB lines, NUL bytes, a file that a
# writer rewrites in place (truncate, then write in pieces) while it is
# read 200 times.  Each run ends with exit 0 ("configuration OK") or 1 and
# a file:line:col error; never a signal (exit >= 128), never a hang.
. "$(dirname "$0")/../lib.sh"
[ -x "$NTFW" ] || fail "build first: $NTFW is missing"

# check FILE EXPECTED_RC [REGEX]: run ntfw -n on FILE.
check() {
	local f=$1 want=$2 re=${3:-} rc first
	timeout 20 "$NTFW" -n -c "$f" >"$T_TMP/out" 2>"$T_TMP/err"
	rc=$?
	[ "$rc" -lt 124 ] || fail "$f: exit $rc (signal or hang)"
	first=$(head -c 300 "$T_TMP/err" | head -n 1)
	assert_eq "$(basename "$f"): exit" "$want" "$rc"
	if [ -n "$re" ]; then
		echo "$first" | grep -qE "$re" || fail "$f: first line of the error: '$first'"
		info "ok: $(basename "$f"): '${first:0:100}'"
	fi
}

py() { python3 -c "$1" "$T_TMP"; }
D='import sys; d = sys.argv[1]'

# A 1 MB comment is fine; a 1 MB rule is an error at its line and column.
py "$D; open(d + '/long-comment.conf', 'w').write('drop name a proto tcp dport 23 # ' + 'x' * (1 << 20) + '\n')"
check "$T_TMP/long-comment.conf" 0
py "$D; open(d + '/long-name.conf', 'w').write('drop name ' + 'y' * (1 << 20) + ' proto tcp\n')"
check "$T_TMP/long-name.conf" 1 "long-name.conf:1:11: error: "
py "$D; open(d + '/long-ports.conf', 'w').write('accept proto tcp dport ' + ','.join(['80'] * 350000) + '\n')"
timeout 20 "$NTFW" -n -c "$T_TMP/long-ports.conf" >/dev/null 2>"$T_TMP/err"
rc=$?
[ "$rc" -le 1 ] || fail "long-ports.conf: exit $rc"
info "ok: long-ports.conf: exit $rc, '$(head -c 100 "$T_TMP/err" | head -n 1)'"
py "$D; open(d + '/long-word.conf', 'w').write('accept ' + 'z' * (1 << 20) + '\n')"
check "$T_TMP/long-word.conf" 1 "long-word.conf:1:8: error: "
py "$D; open(d + '/long-line2.conf', 'w').write('default drop\n' + ' ' * (1 << 20) + 'bogus\n')"
check "$T_TMP/long-line2.conf" 1 "long-line2.conf:2:1048577: error: "

# NUL bytes: inside a rule, a file of them, after a valid line.
printf 'accept name a proto tcp\0 dport 80\n' >"$T_TMP/nul-mid.conf"
check "$T_TMP/nul-mid.conf" 1 "nul-mid.conf:1:24: error: "
head -c 4096 /dev/zero >"$T_TMP/nul-only.conf"
check "$T_TMP/nul-only.conf" 1 "nul-only.conf:1:1: error: "
printf 'default drop\n\0\0\0\n' >"$T_TMP/nul-line2.conf"
check "$T_TMP/nul-line2.conf" 1 "nul-line2.conf:2:1: error: "
printf 'default drop\naccept proto udp # \0\n' >"$T_TMP/nul-comment.conf"
check "$T_TMP/nul-comment.conf" 1 "nul-comment.conf:2:[0-9]+: error: "
# No final newline; random bytes.
printf 'default drop' >"$T_TMP/no-eol.conf"
check "$T_TMP/no-eol.conf" 0
head -c 65536 /dev/urandom >"$T_TMP/random.conf"
check "$T_TMP/random.conf" 1 "random.conf:[0-9]+:[0-9]+: error: "

# A file rewritten in place while it is read: every state the reader can
# see (empty, half a rule, the whole file) parses or fails cleanly.
cat >"$T_TMP/good" <<'C'
default drop
set trusted { 10.213.1.0/24, fd00:213:1::/64 }
drop   name no-ping  proto icmp icmp-type echo-request
accept name web      proto tcp dport 80,443,8000-8099
accept name lan      src @trusted
drop   name ssh-brute proto tcp dport 22 tcp-flags syn !ack rate over 5/second per src
C
W=$T_TMP/moving.conf
cp "$T_TMP/good" "$W"
bg "$T_TMP/writer.log" python3 -c '
import os, sys, time
good = open(sys.argv[1], "rb").read()
bad = good.replace(b"dport 80", b"dport 8\0") + b"x" * 70000 + b"\n"
end = time.time() + 30
i = 0
while time.time() < end and os.path.exists(sys.argv[3]):
    data = good if i % 2 == 0 else bad
    with open(sys.argv[2], "r+b") as f:
        f.truncate(0)
        for k in range(0, len(data), 97):
            f.write(data[k:k + 97])
            f.flush()
    i += 1
' "$T_TMP/good" "$W" "$T_TMP/writer.run"
touch "$T_TMP/writer.run"
writer=$BG_PID
ok=0 bad=0
for i in $(seq 200); do
	timeout 20 "$NTFW" -n -c "$W" >"$T_TMP/out" 2>"$T_TMP/err"
	rc=$?
	case $rc in
	0) ok=$((ok + 1)) ;;
	1)
		head -c 300 "$T_TMP/err" | head -n 1 | grep -qE '^[^ ]*moving.conf:[0-9]+:[0-9]+: error: |^ntfw: ' ||
			fail "run $i: unclear error: $(head -c 300 "$T_TMP/err" | head -n 1)"
		bad=$((bad + 1))
		;;
	*) fail "run $i: exit $rc: $(head -c 300 "$T_TMP/err")" ;;
	esac
done
rm -f "$T_TMP/writer.run"
wait "$writer"
info "moving file: 200 reads, $ok OK, $bad clean errors"
# Both states were met: the race was run, not just the good file read.
assert_ge "reads that met the good file" 1 "$ok"
assert_ge "reads that met a half-written or bad file" 1 "$bad"
