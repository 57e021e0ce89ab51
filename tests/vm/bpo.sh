#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Fetch the newest 6.12 kernel of Debian's bookworm-backports into
# build/vm/, without touching the machine's apt configuration: a sources
# list, package lists and a cache of its own under build/vm/bpo/, checked
# against Debian's archive keyring like any other apt source.  Extracts
# vmlinuz and the modules the tests need (into $VM/linux-$KVER, as
# run.sh does for the stock kernel) and the headers, with their absolute
# links made relative to the extracted tree, so that kmod/ builds
# against them (into $VM/hdr-$KVER).  Prints the kernel's release on
# success; on failure one line why, exit 1.
set -u
VM=${1:?usage: bpo.sh VMDIR}
BPO=$VM/bpo
SERIES=${VM_BPO_SERIES:-6.12}
MIRROR=${VM_BPO_MIRROR:-http://deb.debian.org/debian}
mkdir -p "$BPO/lists/partial" "$BPO/cache/archives/partial" "$BPO/dl"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR bookworm-backports main" \
	>"$BPO/sources.list"
APT=(-q -o Dir::Etc::SourceList="$BPO/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o Dir::State::Lists="$BPO/lists" -o Dir::Cache="$BPO/cache"
	-o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
	-o APT::Sandbox::User=root -o Acquire::Retries=1 -o Acquire::http::Timeout=20)

# The lists once a day: a new point release is picked up, and a day's
# runs need no network.
if [ -z "$(find "$BPO/lists" -name '*_Packages*' -mmin -1440 2>/dev/null)" ]; then
	# Offline, lists fetched before will do: the kernel they name is
	# extracted already, or the download says why not.
	apt-get "${APT[@]}" update >"$BPO/update.log" 2>&1 ||
		[ -n "$(find "$BPO/lists" -name '*_Packages*' 2>/dev/null)" ] ||
		{ echo "apt-get update (bookworm-backports): $(grep -E '^(E|W):' "$BPO/update.log" | head -n 1)"; exit 1; }
fi
KVER=$(apt-cache "${APT[@]}" pkgnames "linux-image-$SERIES." 2>/dev/null |
	grep -E "^linux-image-$SERIES\.[0-9]+\+bpo-amd64\$|^linux-image-$SERIES\.[0-9]+\+deb12-amd64\$" |
	sed 's/^linux-image-//' | sort -V | tail -n 1)
if [ -z "$KVER" ]; then
	# apt-get update exits 0 on a mirror it could not reach: say so.
	w=$(grep -E '^(E|W):' "$BPO/update.log" 2>/dev/null | head -n 1)
	echo "no linux-image-$SERIES.*-amd64 in bookworm-backports${w:+ ($w)}"
	exit 1
fi
KDIR=$VM/linux-$KVER
HDIR=$VM/hdr-$KVER
if [ -e "$KDIR/.done" ] && [ -e "$HDIR/.done" ]; then
	echo "$KVER"
	exit 0
fi
# The headers' common part and kbuild: what linux-headers-KVER depends on.
common=$(apt-cache "${APT[@]}" depends "linux-headers-$KVER" 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-headers-.*-common\)$/\1/p' | head -n 1)
kbuild=$(apt-cache "${APT[@]}" depends "linux-headers-$KVER" 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-kbuild-.*\)$/\1/p' | head -n 1)
[ -n "$common" ] && [ -n "$kbuild" ] ||
	{ echo "linux-headers-$KVER: cannot tell its common headers and kbuild"; exit 1; }
rm -f "$BPO"/dl/*.deb
(cd "$BPO/dl" && apt-get "${APT[@]}" download "linux-image-$KVER" \
	"linux-headers-$KVER" "$common" "$kbuild") >"$BPO/download.log" 2>&1 ||
	{ echo "apt-get download linux-image-$KVER: $(grep -E '^(E|W):' "$BPO/download.log" | head -n 1)"; exit 1; }
deb() { ls "$BPO"/dl/"$1"_*.deb 2>/dev/null | head -n 1; }

rm -rf "$KDIR" "$HDIR"
mkdir -p "$KDIR" "$HDIR"
dpkg-deb --fsys-tarfile "$(deb "linux-image-$KVER")" | tar -x -C "$KDIR" --wildcards \
	"./boot/vmlinuz-$KVER" \
	"./lib/modules/$KVER/kernel/net/*" \
	"./lib/modules/$KVER/kernel/lib/*" \
	"./lib/modules/$KVER/kernel/crypto/*" \
	"./lib/modules/$KVER/kernel/arch/x86/crypto/*" \
	"./lib/modules/$KVER/kernel/drivers/net/veth.ko*" ||
	{ echo "cannot extract linux-image-$KVER"; exit 1; }
for p in "linux-headers-$KVER" "$common" "$kbuild"; do
	dpkg-deb -x "$(deb "$p")" "$HDIR" || { echo "cannot extract $p"; exit 1; }
done
# Absolute links and includes into /usr/src and /usr/lib point at the
# host: make them point into the extracted tree.
find "$HDIR" -type l | while IFS= read -r l; do
	t=$(readlink "$l")
	case $t in
	/*) ln -sfn "$HDIR$t" "$l" ;;
	esac
done
sed -i "s|^include /usr/|include $HDIR/usr/|" "$HDIR/usr/src/linux-headers-$KVER/Makefile"
# The build's vmlinux serves only to make module BTF, which needs pahole
# (dwarves) and which kmod/ has no use for: without it Kbuild skips that
# step.
rm -f "$HDIR/usr/src/linux-headers-$KVER/vmlinux"
# busybox's insmod reads no xz.
find "$KDIR" -name '*.ko.xz' -exec xz -d {} + ||
	{ echo "cannot decompress the modules of linux-image-$KVER"; exit 1; }
rm -f "$BPO"/dl/*.deb
touch "$KDIR/.done" "$HDIR/.done"
echo "$KVER"
