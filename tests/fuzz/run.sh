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
"$bin" -max_total_time="${FUZZ_SECONDS:-20}" -max_len=4096 -timeout=10 \
	-print_final_stats=1 "$work" 2>&1 | tail -n 25
exit "${PIPESTATUS[0]}"
