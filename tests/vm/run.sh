#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Boot Debian's stock kernel under qemu (TCG) with a small initramfs and
# run tests/vm/guest.sh inside it: what the development kernel cannot do
# (the nft queue expression, the conntrack glue, loadable modules).
#
# The kernel is the linux-image package that matches the newest
# /usr/src/linux-headers-*-amd64 (the headers kmod/ is built against),
# fetched with apt-get download; vmlinuz and the few modules the tests
# need are extracted once under build/vm/.  The initramfs holds a static
# busybox, Debian's ip and nft with their libraries, build/ntfw and
# build/ntfw-rules.  Every guest check prints "PASS name", "FAIL name: why"
# or "SKIP name: why"; this script prints them and fails on any FAIL, on a
# guest that does not finish in time, and on an Oops, BUG, WARNING or
# panic in the console log.  Exit 0 only when every check passed; 77 only
# when qemu cannot run at all.
#
# "run.sh bpo" boots the newest 6.12 kernel of bookworm-backports
# instead (tests/vm/bpo.sh fetches it, with its headers, which kmod/ is
# built against under build/vm/): a Debian kernel with eBPF netfilter
# links, on which the module and the eBPF feed run side by side.  When
# backports cannot be reached that pass is skipped (77), with the reason.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
VM=$BUILD/vm
KERNEL=${1:-stock}
case $KERNEL in
stock) BOOT_TIMEOUT=${VM_TIMEOUT:-120} GUEST_TIMEOUT=100 ;;
bpo) BOOT_TIMEOUT=${VM_TIMEOUT:-240} GUEST_TIMEOUT=200 ;;
*) echo "usage: run.sh [stock|bpo]" >&2; exit 2 ;;
esac
# Loaded in this order after their dependencies.  nf_conntrack_netlink
# carries the conntrack glue of nfnetlink_queue (NFQA_CT).
MODULES="veth nf_tables nft_ct nft_queue nfnetlink_queue nf_conntrack_netlink"
# Debian's tools the guest needs where busybox falls short.
TOOLS="ip nft"
# ethtool turns segmentation offload off for the feed checks.
[ "$KERNEL" = bpo ] && TOOLS="$TOOLS ethtool"

skip() { echo "SKIP: $*"; exit 77; }
die() { echo "FAIL: vm: $*"; exit 1; }

command -v qemu-system-x86_64 >/dev/null 2>&1 ||
	skip "qemu-system-x86_64 is not installed (tests/deps.sh installs qemu-system-x86)"
[ "$(id -u)" = 0 ] || skip "needs root (the initramfs needs a /dev/console node)"
BUSYBOX=$(command -v busybox) || die "busybox is not installed (busybox-static)"
ldd "$BUSYBOX" >/dev/null 2>&1 && die "$BUSYBOX is not static (install busybox-static)"
for t in $TOOLS cpio gzip dpkg-deb apt-get; do
	command -v "$t" >/dev/null 2>&1 || die "'$t' is not installed"
done
[ -x "$BUILD/ntfw" ] && [ -x "$BUILD/ntfw-rules" ] || die "build ntfw first (make all)"

# --- the kernel --------------------------------------------------------------
if [ "$KERNEL" = bpo ]; then
	mkdir -p "$VM"
	start=$(date +%s)
	KVER=$("$TOP/tests/vm/bpo.sh" "$VM") ||
		skip "bookworm-backports: ${KVER:-tests/vm/bpo.sh failed}"
	echo "vm: fetched linux $KVER in $(($(date +%s) - start))s"
	HDRS=$VM/hdr-$KVER/usr/src/linux-headers-$KVER
	KDIR=$VM/linux-$KVER
	# Its own initramfs, console and module build: the stock pass's
	# files stay as they are.
	OUT=$VM/run-$KVER
	KMOD=$OUT/kmod
	rm -rf "$KMOD"
	mkdir -p "$KMOD"
	cp "$TOP"/kmod/Kbuild "$TOP"/kmod/Makefile "$TOP"/kmod/*.[ch] "$KMOD/" ||
		die "cannot copy kmod/"
else
	# The newest headers name the kernel (never the running one: that is the
	# host's, not Debian's).
	KVER=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null |
		sed 's|.*/linux-headers-||' | sort -V | tail -n 1)
	[ -n "$KVER" ] || die "no /usr/src/linux-headers-*-amd64 (install linux-headers-amd64)"
	HDRS=/usr/src/linux-headers-$KVER
	KDIR=$VM/linux-$KVER
	OUT=$VM
	KMOD=$TOP/kmod
fi
if [ ! -e "$KDIR/.done" ]; then
	rm -rf "$KDIR" "$VM/dl"
	mkdir -p "$KDIR" "$VM/dl"
	(cd "$VM/dl" && apt-get download -q -o APT::Sandbox::User=root \
		"linux-image-$KVER") >"$VM/dl/apt.log" 2>&1 ||
		die "apt-get download linux-image-$KVER: $(tail -n 1 "$VM/dl/apt.log")"
	deb=$(ls "$VM"/dl/linux-image-"$KVER"_*.deb | head -n 1)
	# The networking modules and what they may depend on (crc32c and
	# friends live under lib/ and crypto/), not the whole 400 MB tree.
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$KDIR" --wildcards \
		"./boot/vmlinuz-$KVER" \
		"./lib/modules/$KVER/kernel/net/*" \
		"./lib/modules/$KVER/kernel/lib/*" \
		"./lib/modules/$KVER/kernel/crypto/*" \
		"./lib/modules/$KVER/kernel/arch/x86/crypto/*" \
		"./lib/modules/$KVER/kernel/drivers/net/veth.ko" ||
		die "cannot extract $deb"
	rm -f "$deb"
	touch "$KDIR/.done"
fi
MODDIR=$KDIR/lib/modules/$KVER

# modinfo_field KO FIELD: a field of the module's .modinfo section.
modinfo_field() {
	tr '\0' '\n' <"$1" | sed -n "s/^$2=//p" | head -n 1
}

# The package ships no modules.dep (depmod runs at install): the
# dependencies come from each module's "depends=".
declare -A KO
while IFS= read -r f; do
	n=${f##*/}
	n=${n%.ko}
	KO[${n//-/_}]=$f
done < <(find "$MODDIR" -name '*.ko')
ORDER=()
declare -A SEEN
# by_alias NAME: the first module that has NAME as an alias ("crc32c").
by_alias() {
	local f
	# Generic code first: arch/x86's crc32c-intel needs SSE 4.2, which
	# qemu's default CPU lacks.
	for f in $(printf '%s\n' "${KO[@]}" | sort | grep -v /arch/) \
	    $(printf '%s\n' "${KO[@]}" | sort | grep /arch/); do
		tr '\0' '\n' <"$f" | grep -qx "alias=$1" && echo "$f" && return 0
	done
	return 1
}
add_module() {
	local m=${1//-/_} d
	[ -n "${SEEN[$m]:-}" ] && return 0
	SEEN[$m]=1
	[ -n "${KO[$m]:-}" ] || KO[$m]=$(by_alias "$m") ||
		die "module $m is not in linux-image-$KVER's net, lib or crypto"
	# A "softdep pre:" names what the module needs before its init
	# succeeds (libcrc32c needs a crc32c algorithm): load those first.
	for d in $(modinfo_field "${KO[$m]}" depends | tr , ' ') \
	    $(modinfo_field "${KO[$m]}" softdep | sed -n 's/^pre: *//p'); do
		add_module "$d"
	done
	ORDER+=("${KO[$m]#"$KDIR"}")
}
for m in $MODULES; do
	add_module "$m"
done

# --- the initramfs -----------------------------------------------------------
ROOT=$OUT/root
rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,opt/bin,etc,proc,sys,dev,tmp,run,var,ntfw,kmod}
ln -s ../run "$ROOT/var/run"
cp "$BUSYBOX" "$ROOT/bin/busybox"
ln -s busybox "$ROOT/bin/sh"
mknod -m 600 "$ROOT/dev/console" c 5 1 || die "mknod /dev/console"
cp /etc/protocols /etc/services "$ROOT/etc/" 2>/dev/null
echo "root:x:0:0:root:/:/bin/sh" >"$ROOT/etc/passwd"
echo "root:x:0:" >"$ROOT/etc/group"

# copy_bin FILE: FILE into /opt/bin, and the libraries ldd lists at the
# paths it lists them.
copy_bin() {
	local lib
	cp -L "$1" "$ROOT/opt/bin/" || die "cannot copy $1"
	for lib in $(ldd "$1" 2>/dev/null | grep -o '/[^ ]*'); do
		[ -e "$ROOT$lib" ] && continue
		mkdir -p "$ROOT${lib%/*}"
		cp -L "$lib" "$ROOT$lib" || die "cannot copy $lib"
	done
}
for t in $TOOLS; do
	copy_bin "$(command -v "$t")"
done
copy_bin "$BUILD/ntfw"
cp "$BUILD/ntfw-rules" "$ROOT/opt/bin/"
cp "$TOP"/rules/*.nft "$TOP"/rules/*.rules "$ROOT/ntfw/"
for f in "${ORDER[@]}"; do
	mkdir -p "$ROOT${f%/*}"
	cp "$KDIR$f" "$ROOT$f"
	echo "$f"
done >"$ROOT/modules.order"
cp "$TOP/tests/vm/init" "$ROOT/init"
cp "${VM_GUEST:-$TOP/tests/vm/guest.sh}" "$ROOT/guest.sh"
chmod 755 "$ROOT/init" "$ROOT/guest.sh"

# The module, when kmod/ has been built for this kernel; check 4 says
# SKIP otherwise.
kmod_ko=$KMOD/ntfw_kmod.ko
if [ ! -e "$kmod_ko" ] && { [ -e "$KMOD/Kbuild" ] || [ -e "$KMOD/Makefile" ]; }; then
	make -C "$HDRS" M="$KMOD" modules >"$OUT/kmod-build.log" 2>&1 ||
		die "kmod build failed: $(tail -n 5 "$OUT/kmod-build.log")"
fi
if [ -e "$kmod_ko" ]; then
	magic=$(modinfo_field "$kmod_ko" vermagic)
	case $magic in
	"$KVER "*) ;;
	*) die "$kmod_ko is built for '${magic%% *}', not $KVER" ;;
	esac
	cp "$kmod_ko" "$ROOT/kmod/"
	cc -static -O2 -Wall -Wextra -I"$TOP/kmod" -o "$ROOT/opt/bin/ringmap" \
		"$TOP/tests/vm/ringmap.c" || die "cannot build tests/vm/ringmap"
	cc -static -O2 -Wall -Wextra -I"$TOP/kmod" -o "$ROOT/opt/bin/ringsum" \
		"$TOP/tests/vm/ringsum.c" || die "cannot build tests/vm/ringsum"
	cc -static -O2 -Wall -Wextra -o "$ROOT/opt/bin/bulk" \
		"$TOP/tests/vm/bulk.c" || die "cannot build tests/vm/bulk"
	# A reader of the kmod engineers' own, if there is one.
	[ -x "$TOP/tests/vm/ringdump" ] && cp "$TOP/tests/vm/ringdump" "$ROOT/opt/bin/"
fi

(cd "$ROOT" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) \
	>"$OUT/initrd.gz" || die "cannot pack the initramfs"

# --- the boot ----------------------------------------------------------------
# TCG always: /dev/kvm exists on these machines but does not work.  A
# panic or an oops reboots at once (panic=-1, oops=panic), and -no-reboot
# turns that into qemu's exit; timeout bounds a hang.
CONSOLE=$OUT/console.log
: >"$CONSOLE"
start=$(date +%s)
timeout -k 5 "$BOOT_TIMEOUT" qemu-system-x86_64 -accel tcg -m 512 -smp 2 \
	-nographic -monitor none -serial "file:$CONSOLE" -nic none -no-reboot \
	-kernel "$KDIR/boot/vmlinuz-$KVER" -initrd "$OUT/initrd.gz" \
	-append "console=ttyS0 panic=-1 oops=panic loglevel=4 rdinit=/init ntfw_guest_timeout=$GUEST_TIMEOUT" \
	>"$OUT/qemu.log" 2>&1 </dev/null
qrc=$?
secs=$(($(date +%s) - start))

tr -d '\r' <"$CONSOLE" >"$CONSOLE.txt"
# The guest prefixes its own lines with "@@ ", so that kernel messages
# interleaved with them cannot be taken for results, nor results for
# kernel messages.
grep -E '^@@ (PASS|FAIL|SKIP) ' "$CONSOLE.txt" | sed 's/^@@ //'
npass=$(grep -c '^@@ PASS ' "$CONSOLE.txt")
nfail=$(grep -c '^@@ FAIL ' "$CONSOLE.txt")
nskip=$(grep -c '^@@ SKIP ' "$CONSOLE.txt")
bad=0
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	echo "FAIL vm-boot: no result within ${BOOT_TIMEOUT}s (console: $CONSOLE)"
	bad=$((bad + 1))
elif [ "$qrc" != 0 ]; then
	echo "FAIL vm-boot: qemu exited with status $qrc: $(tail -n 3 "$OUT/qemu.log")"
	bad=$((bad + 1))
fi
if ! grep -q '^@@ DONE' "$CONSOLE.txt"; then
	echo "FAIL vm-done: the guest did not finish its checks (console: $CONSOLE)"
	bad=$((bad + 1))
fi
oops=$(grep -v '^@@ ' "$CONSOLE.txt" |
	grep -m 5 -E 'Oops|BUG:|WARNING:|Kernel panic|general protection fault|Call Trace')
if [ -n "$oops" ]; then
	echo "FAIL vm-kernel: the console log has:"
	echo "$oops" | sed 's/^/    /'
	bad=$((bad + 1))
fi
if [ "$npass" = 0 ]; then
	echo "FAIL vm-results: the guest reported no passing check"
	bad=$((bad + 1))
fi
if [ "$nfail" -gt 0 ] || [ "$bad" != 0 ]; then
	echo "---- console (last 60 lines of $CONSOLE) ----"
	tail -n 60 "$CONSOLE.txt"
fi
echo "vm: linux $KVER, ${secs}s"
[ "$nskip" -gt 0 ] && s=", $nskip skipped" || s=
echo "vm: $npass passed, $((nfail + bad)) failed$s"
[ "$nfail" = 0 ] && [ "$bad" = 0 ]
