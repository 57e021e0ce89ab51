#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# ntfw's command line without root: -n checks a config, -h, -V, bad usage.
. "$(dirname "$0")/../lib.sh"

[ -x "$NTFW" ] || fail "$NTFW is not built (run make)"

# run ARGS...: run ntfw, leaving OUT, ERR and RC.
run() {
	"$NTFW" "$@" >"$T_TMP/out" 2>"$T_TMP/err"
	RC=$?
	OUT=$(cat "$T_TMP/out")
	ERR=$(cat "$T_TMP/err")
}

usage='usage: ntfw [-dnv] [-c file]
       ntfw -r capture [-c file] [--format json|csv]
       ntfw -h | -V'

# The example config of ntfw.conf(5).
cat >"$T_TMP/example.conf" <<'EOF'
queue 0
default accept
fail-open no
set trusted { 10.213.1.0/24, fd00:213:1::/64 }

drop   name no-ping  proto icmp icmp-type echo-request
drop   name telnet   proto tcp dport 23
accept name web      proto tcp dport 80,443,8000-8099
drop   name blocked  src 10.213.7.0/24
drop   name v6-9000  proto tcp dst fd00:213::/48 dport 9000
accept name lan      src @trusted
EOF
run -n -c "$T_TMP/example.conf"
assert_eq "example: stdout" "configuration OK" "$OUT"
assert_eq "example: stderr" "" "$ERR"
assert_eq "example: exit status" 0 "$RC"

# The shipped config.
if [ -e "$TOP/conf/ntfw.conf" ]; then
	run -n -c "$TOP/conf/ntfw.conf"
	assert_eq "conf/ntfw.conf: stdout" "configuration OK" "$OUT"
	assert_eq "conf/ntfw.conf: stderr" "" "$ERR"
	assert_eq "conf/ntfw.conf: exit status" 0 "$RC"
else
	info "conf/ntfw.conf does not exist yet: not checked"
fi

# A config with one error: the three lines on stderr, nothing on stdout.
printf 'queue 0\ndrop name telnet proto tpc dport 23\n' >"$T_TMP/bad.conf"
run -n -c "$T_TMP/bad.conf"
assert_eq "bad config: stderr" "$T_TMP/bad.conf:2:24: error: unknown protocol 'tpc'
drop name telnet proto tpc dport 23
                       ^~~" "$ERR"
assert_eq "bad config: stdout" "" "$OUT"
assert_eq "bad config: exit status" 1 "$RC"

# Every error is reported, in order.
printf 'queue 70000\ndefault allow\n' >"$T_TMP/bad2.conf"
run -n -c "$T_TMP/bad2.conf"
assert_eq "two errors: stderr" "$T_TMP/bad2.conf:1:7: error: queue 70000 out of range (0-65535)
queue 70000
      ^~~~~
$T_TMP/bad2.conf:2:9: error: expected 'accept' or 'drop' after 'default', got 'allow'
default allow
        ^~~~~" "$ERR"
assert_eq "two errors: exit status" 1 "$RC"

# A NUL byte is an error, not the end of the value: without the check
# this rule would read as a /32.  $() drops NULs, so compare a copy of
# stderr with them made visible.
printf 'accept src 10.1.2.3\0/8\n' >"$T_TMP/nul.conf"
run -n -c "$T_TMP/nul.conf"
assert_eq "NUL byte: stderr" "$T_TMP/nul.conf:1:20: error: NUL byte
accept src 10.1.2.3 /8
                   ^" "$(tr '\0' '@' <"$T_TMP/err")"
assert_eq "NUL byte: stdout" "" "$OUT"
assert_eq "NUL byte: exit status" 1 "$RC"

# A missing file.
run -n -c "$T_TMP/missing.conf"
assert_eq "missing file: stderr" \
	"$T_TMP/missing.conf: cannot open: No such file or directory" "$ERR"
assert_eq "missing file: stdout" "" "$OUT"
assert_eq "missing file: exit status" 1 "$RC"

# Help and version.
run -h
assert_eq "-h: stdout" "$usage" "$OUT"
assert_eq "-h: stderr" "" "$ERR"
assert_eq "-h: exit status" 0 "$RC"

run -V
assert_eq "-V: stdout" "ntfw $(cat "$TOP/VERSION")" "$OUT"
assert_eq "-V: stderr" "" "$ERR"
assert_eq "-V: exit status" 0 "$RC"

# Bad usage: the usage on stderr, exit 1, and no config is read.
run -x
assert_eq "unknown option: stderr" "$NTFW: invalid option -- 'x'
$usage" "$ERR"
assert_eq "unknown option: stdout" "" "$OUT"
assert_eq "unknown option: exit status" 1 "$RC"

run -c
assert_eq "-c without a file: stderr" "$NTFW: option requires an argument -- 'c'
$usage" "$ERR"
assert_eq "-c without a file: exit status" 1 "$RC"

run -n -c "$T_TMP/example.conf" extra
assert_eq "extra argument: stderr" "$usage" "$ERR"
assert_eq "extra argument: stdout" "" "$OUT"
assert_eq "extra argument: exit status" 1 "$RC"
exit 0
