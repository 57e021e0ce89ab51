#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `make install` into a staging directory: every file in place, and the
# installed programs find the installed config and rules.
. "$(dirname "$0")/../lib.sh"
need_cmd make
dest=$T_TMP/dest
make -s -C "$TOP" install DESTDIR="$dest" >"$T_TMP/install.log" 2>&1 ||
	fail "make install: $(cat "$T_TMP/install.log")"
for f in usr/sbin/ntfw usr/sbin/ntfw-rules usr/share/ntfw/ntfw.nft \
	usr/share/ntfw/ntfw-iptables.rules usr/share/man/man8/ntfw.8 \
	usr/share/man/man8/ntfw-rules.8 usr/share/man/man5/ntfw.conf.5 \
	etc/ntfw/ntfw.conf lib/systemd/system/ntfw.service etc/logrotate.d/ntfw; do
	[ -s "$dest/$f" ] || fail "missing after install: /$f"
done
info "ok: all 10 files installed"
assert_eq "installed config checks" "configuration OK" \
	"$("$dest/usr/sbin/ntfw" -n -c "$dest/etc/ntfw/ntfw.conf")"
assert_eq "ntfw-rules reads /usr/share/ntfw" 1 \
	"$(grep -c '^RULESDIR=${NTFW_RULESDIR:-/usr/share/ntfw}$' "$dest/usr/sbin/ntfw-rules")"
assert_eq "unit starts the installed daemon" 1 \
	"$(grep -c '^ExecStart=/usr/sbin/ntfw -d -c /etc/ntfw/ntfw.conf$' "$dest/lib/systemd/system/ntfw.service")"
assert_eq "unit reloads with SIGHUP" 1 \
	"$(grep -c '^ExecReload=/bin/kill -HUP $MAINPID$' "$dest/lib/systemd/system/ntfw.service")"
# A second install keeps the administrator's config.
echo "default drop" >"$dest/etc/ntfw/ntfw.conf"
make -s -C "$TOP" install DESTDIR="$dest" >/dev/null 2>&1 || fail "second install"
assert_eq "config kept on reinstall" "default drop" "$(cat "$dest/etc/ntfw/ntfw.conf")"
make -s -C "$TOP" uninstall DESTDIR="$dest" >/dev/null 2>&1 || fail "uninstall"
assert_eq "files left by uninstall (the config)" "etc/ntfw/ntfw.conf" \
	"$(cd "$dest" && find . -type f | sed 's|^\./||')"
