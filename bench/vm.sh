#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The guest section of make bench: boot Debian's kernel under qemu as
# make kmod-check does (tests/vm/run.sh) and measure TCP bulk between two
# namespaces with ntfw's fast path and the kernel module feeding the
# daemon's ring, as a ratio to the same fast path without the module.
# Under TCG the absolute figures mean nothing; the ratios, taken in the
# same guest, do.  Goal: at least 0.9.  BENCH_ONLY=vm runs it alone.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
VM_GUEST=$TOP/bench/vm-guest.sh "$TOP/tests/vm/run.sh" >/dev/null 2>&1
rc=$?
log=${BUILD:-$TOP/build}/vm/console.log.txt
[ "$rc" = 77 ] && { echo "bench: vm: skipped (qemu or root missing)"; exit 0; }
grep '^@@ # bench' "$log" | sed 's/^@@ # bench /vm: /'
r=$(sed -n 's/^@@ # bench ratio ring\/no-module=\([0-9.]*\).*/\1/p' "$log")
[ -n "$r" ] || { echo "bench: vm: no figures (console: $log)"; exit 1; }
echo "goal: TCP bulk with the ring at least 0.9 of the fast path without it: $(awk "BEGIN {print ($r >= 0.9) ? \"met\" : \"missed\"}") ($r)"
