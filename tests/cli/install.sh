#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `make install` into a staging directory: every file in place, and the
# installed programs find the installed config and rules.
. "$(dirname "$0")/../lib.sh"
need_cmd make
dest=$T_TMP/dest
make -s -C "$TOP" install DESTDIR="$dest" >"$T_TMP/install.log" 2>&1 ||
	fail "make install: $(cat "$T_TMP/install.log")"
for f in usr/sbin/ntfw usr/sbin/ntfw-rules usr/sbin/ntfwctl \
	usr/share/ntfw/ntfw.nft usr/share/ntfw/ntfw-iptables.rules \
	usr/share/man/man8/ntfw.8 usr/share/man/man8/ntfw-rules.8 \
	usr/share/man/man8/ntfwctl.8 usr/share/man/man5/ntfw.conf.5 \
	etc/ntfw/ntfw.conf lib/systemd/system/ntfw.service etc/logrotate.d/ntfw; do
	[ -s "$dest/$f" ] || fail "missing after install: /$f"
done
info "ok: all 12 files installed"
assert_eq "installed config checks" "configuration OK" \
	"$("$dest/usr/sbin/ntfw" -n -c "$dest/etc/ntfw/ntfw.conf")"
assert_eq "ntfw-rules reads /usr/share/ntfw" 1 \
	"$(grep -c '^RULESDIR=${NTFW_RULESDIR:-/usr/share/ntfw}$' "$dest/usr/sbin/ntfw-rules")"
assert_eq "unit starts the installed daemon" 1 \
	"$(grep -c '^ExecStart=/usr/sbin/ntfw -d -c /etc/ntfw/ntfw.conf$' "$dest/lib/systemd/system/ntfw.service")"
assert_eq "unit reloads through ntfwctl" 1 \
	"$(grep -c '^ExecReload=/usr/sbin/ntfwctl reload$' "$dest/lib/systemd/system/ntfw.service")"
# A second install keeps the administrator's config.
echo "default drop" >"$dest/etc/ntfw/ntfw.conf"
make -s -C "$TOP" install DESTDIR="$dest" >/dev/null 2>&1 || fail "second install"
assert_eq "config kept on reinstall" "default drop" "$(cat "$dest/etc/ntfw/ntfw.conf")"
make -s -C "$TOP" uninstall DESTDIR="$dest" >/dev/null 2>&1 || fail "uninstall"
assert_eq "files left by uninstall (the config)" "etc/ntfw/ntfw.conf" \
	"$(cd "$dest" && find . -type f | sed 's|^\./||')"

# The unit, installed with absolute paths into the staging tree, passes
# systemd-analyze verify (binaries, man pages and all).
if command -v systemd-analyze >/dev/null 2>&1; then
	sa=$T_TMP/sa
	make -s -C "$TOP" install PREFIX="$sa/usr" SYSCONFDIR="$sa/etc/ntfw" \
		UNITDIR="$sa/unit" >/dev/null 2>&1 || fail "install for verify"
	MANPATH=$sa/usr/share/man systemd-analyze verify "$sa/unit/ntfw.service" \
		>"$T_TMP/verify.log" 2>&1 || fail "systemd-analyze verify: $(cat "$T_TMP/verify.log")"
	info "ok: systemd-analyze verify"
	assert_eq "unit type" 1 "$(grep -c '^Type=notify$' "$sa/unit/ntfw.service")"
	assert_eq "rules installed with full privileges" 1 \
		"$(grep -c "^ExecStartPre=+$sa/usr/sbin/ntfw-rules install$" "$sa/unit/ntfw.service")"
fi
# Every man page is clean for mandoc (warnings and errors; its STYLE notes
# are about cross references to pages installed elsewhere), and ntfw(8)'s SYNOPSIS is ntfw -h.
if command -v mandoc >/dev/null 2>&1; then
	for m in "$TOP"/man/*.[58]; do
		out=$(mandoc -T lint -W warning "$m" 2>&1)
		assert_eq "mandoc -T lint $(basename "$m")" "" "$out"
	done
	syn=$(mandoc -T utf8 "$TOP/man/ntfw.8" 2>/dev/null | col -b |
		sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' | grep -o '^ *ntfw .*' |
		sed 's/^ *//; s/  */ /g; s/ | /|/g')
	use=$("$NTFW" -h 2>&1 | sed 's/^usage: //; s/^ *//; s/  */ /g; s/ | /|/g')
	assert_eq "SYNOPSIS lines" 3 "$(echo "$syn" | wc -l)"
	assert_eq "ntfw(8) SYNOPSIS = ntfw -h" "$use" "$syn"
fi
