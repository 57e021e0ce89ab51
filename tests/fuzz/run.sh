#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# run.sh NAME: run build/fuzz/NAME for $FUZZ_SECONDS (default 20) on a copy
# of its seed corpus.  A crash, leak or sanitizer report fails the run and
# leaves the input under build/fuzz/.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
name=$1
bin=$TOP/build/fuzz/$name
[ -x "$bin" ] || { echo "SKIP: $bin not built (make fuzz needs clang)"; exit 77; }
work=$(mktemp -d "/tmp/ntfw-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r "$TOP/tests/fuzz/corpus/${name#fuzz_}/." "$work/"
cd "$TOP/build/fuzz" || exit 1
# Captures are larger than single packets; seeds stay below 20 KB.
case $name in
fuzz_capture) max_len=20480 ;;
*) max_len=4096 ;;
esac
dict=()
[ -f "$TOP/tests/fuzz/${name#fuzz_}.dict" ] &&
	dict=(-dict="$TOP/tests/fuzz/${name#fuzz_}.dict")
"$bin" -max_total_time="${FUZZ_SECONDS:-20}" -max_len=$max_len -timeout=10 \
	"${dict[@]}" -print_final_stats=1 "$work" 2>&1 | tail -n 25
exit "${PIPESTATUS[0]}"
