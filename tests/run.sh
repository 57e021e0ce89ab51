#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Run every test tier: cmocka unit tests, command-line tests, netns tests.
# One line per test; the last line is "check: N passed, N failed".
# A test exits 0 (pass), 77 (skip: its output says why) or anything else.
# BUILD names the build to test (default build/; `make check SAN=1` passes
# build-san/ and NTFW_SAN=1).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
export BUILD=${BUILD:-$TOP/build}
LOGDIR=${LOGDIR:-$BUILD/test-logs}
mkdir -p "$LOGDIR"
pass=0 fail=0 skipped=0
failed=()

run_one() {
	local name=$1 log="$LOGDIR/$1.log" rc start
	shift
	mkdir -p "${log%/*}" # names are tier/test
	start=$(date +%s)
	timeout -k 5 300 "$@" >"$log" 2>&1 </dev/null
	rc=$?
	case $rc in
	0)
		pass=$((pass + 1))
		printf 'PASS  %-40s %3ss\n' "$name" $(($(date +%s) - start))
		;;
	77)
		skipped=$((skipped + 1))
		printf 'SKIP  %-40s %s\n' "$name" "$(grep -m1 '^SKIP' "$log" | sed 's/^SKIP:* *//')"
		;;
	*)
		fail=$((fail + 1))
		failed+=("$name")
		printf 'FAIL  %-40s (exit %s, log %s)\n' "$name" "$rc" "$log"
		sed 's/^/      | /' "$log" | tail -n 40
		;;
	esac
}

# skip_one NAME REASON: a tier this run does not run.
skip_one() {
	skipped=$((skipped + 1))
	printf 'SKIP  %-40s %s\n' "$1" "$2"
}

filter=${1:-}
# Namespaces that other runs on this machine own are not ours to judge.
before=$(ip netns list 2>/dev/null | awk '/^ntfwt-/ {print $1}' | sort)
for t in "$BUILD"/test_*; do
	n=unit/$(basename "$t")
	# Binaries only (not test_x.o, test_x.d): judged by the file's own
	# name, since the build's path may hold a dot (mktemp -d).
	[ -x "$t" ] && [[ $n != *.* ]] || continue
	[[ -z $filter || $n == *$filter* ]] && run_one "$n" "$t"
done
# Short fuzzing runs, each after replaying its corpus: long ones are
# `make fuzz FUZZ_SECONDS=N`.
for f in fuzz_parse:20 fuzz_conf:20 fuzz_capture:15 fuzz_ctl:10 fuzz_kring:15; do
	n=fuzz/${f%:*}
	[[ -z $filter || $n == *$filter* ]] || continue
	if [ -n "${NTFW_SAN:-}" ]; then
		skip_one "$n" "sanitizer run: the fuzzers are ASan/UBSan builds of their own"
	else
		FUZZ_SECONDS=${f#*:} run_one "$n" tests/fuzz/run.sh "${f%:*}"
	fi
done
for t in tests/cli/*.sh tests/netns/*.sh; do
	[ -e "$t" ] || continue
	n=${t#tests/}
	n=${n%.sh}
	[[ -z $filter || $n == *$filter* ]] && run_one "$n" bash "$t"
done
# Debian's kernels under qemu: its own tier, one boot each for all its
# checks.  The stock kernel, and the newest of bookworm-backports, on
# which the module and the eBPF feed both run (skipped when backports
# cannot be reached).
for k in kernel:stock kernel-bpo:bpo; do
	n=vm/${k%:*}
	if [[ -n $filter && $n != *$filter* ]]; then
		:
	elif [ -n "${NTFW_SAN:-}" ]; then
		skip_one "$n" "sanitizer run: the qemu (TCG) tier takes minutes; the normal check runs it"
	else
		run_one "$n" tests/vm/run.sh "${k#*:}"
	fi
done
# A test names its namespaces ntfwt-PID-N after its own PID: one whose test
# is gone, and that was not there before this run, was left behind.
leftover=
for ns in $(comm -13 <(echo "$before") \
	<(ip netns list 2>/dev/null | awk '/^ntfwt-/ {print $1}' | sort)); do
	pid=${ns#ntfwt-}
	pid=${pid%%-*}
	kill -0 "$pid" 2>/dev/null || leftover="$leftover$ns "
done
if [ -n "$leftover" ]; then
	fail=$((fail + 1))
	echo "FAIL  leftover namespaces: $leftover"
fi
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
if [ "$skipped" -gt 0 ]; then
	echo "check: $pass passed, $fail failed, $skipped skipped"
else
	echo "check: $pass passed, $fail failed"
fi
[ "$fail" -eq 0 ]
