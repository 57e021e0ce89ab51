#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Malformed packets from the wire: truncated TCP, short UDP, a bad TCP data
# offset, a truncated IPv6 extension header.  The kernel's IP layer passes
# them to the hooks (it checks only the IP header), so ntfw must count them,
# give them the default verdict, and keep answering.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip ping python3 iptables ip6tables
topo_pair
rules_install "$S"
cat >"$T_TMP/ntfw.conf" <<'C'
default drop
accept name all-icmp proto icmp
accept name all-icmpv6 proto icmpv6
C
ntfw_start "$S" "$T_TMP/ntfw.conf"

# Raw sockets with our own headers: the kernel fills in the IPv4 total
# length and checksum, nothing else.
ip netns exec "$C" python3 - <<'PY' || fail "could not send the raw packets"
import socket, struct

def ip4(proto, payload):
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64,
                       proto, 0, socket.inet_aton("10.213.0.2"),
                       socket.inet_aton("10.213.0.1")) + payload

s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
dst = ("10.213.0.1", 0)
s.sendto(ip4(6, b"\x30\x39\x00\x50"), dst)            # TCP header cut at 4 bytes
s.sendto(ip4(17, struct.pack("!HHHH", 1, 2, 200, 0)), dst)  # UDP length 200 > 8
tcp = struct.pack("!HHIIBBHHH", 12345, 80, 1, 0, 0x30, 0x02, 1024, 0, 0)
s.sendto(ip4(6, tcp), dst)                            # TCP data offset 3 (< 5)

# IPv6 with a destination-options header claiming 24 bytes, 8 present.
s6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
ext = bytes([6, 2]) + bytes(6)
hdr = struct.pack("!IHBB16s16s", 6 << 28, len(ext), 60, 64,
                  socket.inet_pton(socket.AF_INET6, "fd00:213::2"),
                  socket.inet_pton(socket.AF_INET6, "fd00:213::1"))
s6.sendto(hdr + ext, ("fd00:213::1", 0))
PY

assert_eq "pings answered after the malformed packets" 3 "$(ping_count "$C" 10.213.0.1 3)"
ntfw_stats
assert_eq "malformed total" 4 "$(stat_total malformed)"
assert_eq "bad-l4-header" 3 "$(stat_malformed bad-l4-header)"
assert_eq "bad-ext-header" 1 "$(stat_malformed bad-ext-header)"
# default drop: malformed packets are dropped, and not counted under a rule.
assert_ge "dropped total" 4 "$(stat_total dropped)"
assert_eq "default counter (well-formed only)" "$(($(stat_total dropped) - 4))" "$(rule_pkts default)"
assert_eq "all-icmp counter (3 requests, 3 replies)" 6 "$(rule_pkts all-icmp)"
ntfw_stop
