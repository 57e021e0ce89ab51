#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `make CFLAGS="-O2 -g"` replaces the Makefile's CFLAGS: the flags the
# sources need (-D_GNU_SOURCE...) must survive it.  Such a build once
# declared strchrnul() implicitly, truncated its pointer to an int, and
# the daemon died on a SIGHUP with a bad config.  Build that way into a
# directory of its own, warning-free, and run the reload scenario on it.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd make
b=$T_TMP/build
make -s -C "$TOP" -j2 B="$b" CFLAGS="-O2 -g" "$b/ntfw" "$b/ntfw-rules" \
	>"$T_TMP/make.log" 2>&1 || fail "make: $(cat "$T_TMP/make.log")"
assert_eq "warnings in the CFLAGS build" 0 "$(grep -c 'warning:' "$T_TMP/make.log")"
assert_eq "-D_GNU_SOURCE kept" 1 \
	"$(make -s -C "$TOP" -n B="$b" CFLAGS="-O2 -g" -W src/reload.c "$b/reload.o" |
		grep -c -- '-D_GNU_SOURCE.*-O2 -g')"
BUILD=$b "$TOP/tests/netns/reload.sh" || fail "reload.sh on the CFLAGS build"
info "ok: reload.sh passes on the CFLAGS build"
