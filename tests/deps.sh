#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Install the Debian packages that building and testing ntfw need, if any
# is missing.  Quiet when everything is there.
set -eu
PKGS="build-essential pkg-config libmnl-dev libnetfilter-queue-dev
libcmocka-dev libpcap-dev libcap-ng-dev libseccomp-dev mandoc clang libclang-rt-14-dev nftables iptables iproute2
iputils-ping curl python3 python3-scapy procps tcpdump tcptrace iperf3 hping3 ethtool time valgrind
qemu-system-x86 busybox-static linux-headers-amd64 cpio
libjansson-dev python3-prometheus-client libbpf-dev bpftool"
missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$missing (run as root, or apt-get install them)" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
