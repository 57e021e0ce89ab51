#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Malformed packets from the wire: TCP and UDP headers cut short by the IP
# length, an IPv6 extension header running past it.  The kernel's IP layer
# passes them to the hooks (it checks only the IP header), so ntfw must
# count them by reason, give them the "malformed" verdict (drop unless the
# config says accept) whatever the default, and keep answering.  Packets
# the kernel reads fine (a UDP length that disagrees with the IP length, a
# TCP data offset below 5) are not malformed: the rules naming their ports
# decide them.
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip ping python3 iptables ip6tables
topo_pair
rules_install "$S"

# A raw socket in the server sees what the firewall let in, before TCP or
# UDP look at it: it prints the IP ids of the client's packets.
cat >"$T_TMP/raw.py" <<'PY'
import select, socket, time
socks = [socket.socket(socket.AF_INET, socket.SOCK_RAW, p) for p in (6, 17)]
print("ready")
end = time.time() + 6
while time.time() < end:
    r, _, _ = select.select(socks, [], [], 0.1)
    for s in r:
        d = s.recv(65535)
        if d[12:16] == socket.inet_aton("10.213.0.2"):
            print("id", int.from_bytes(d[4:6], "big"))
PY
raw_listen() {
	RAW_LOG=$T_TMP/raw-$1.log
	bg "$RAW_LOG" ip netns exec "$S" python3 -u "$T_TMP/raw.py"
	RAW_PID=$BG_PID
	wait_for 5 grep -q ready "$RAW_LOG" || fail "raw listener did not start"
}
raw_seen() { grep -c "^id $1\$" "$RAW_LOG"; }

# Raw sockets with our own headers: the kernel fills in the IPv4 total
# length and checksum, nothing else.  The IP id tells the packets apart.
send_packets() {
	ip netns exec "$C" python3 - <<'PY' || fail "could not send the raw packets"
import socket, struct

def ip4(ident, proto, payload):
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0,
                       64, proto, 0, socket.inet_aton("10.213.0.2"),
                       socket.inet_aton("10.213.0.1")) + payload

s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
dst = ("10.213.0.1", 0)
# Malformed: the IP length cuts the header.
s.sendto(ip4(101, 6, b"\x30\x39\x1f\x90"), dst)           # TCP, 4 bytes
s.sendto(ip4(102, 17, b"\x30\x39\x1f\x91"), dst)          # UDP, 4 bytes
# Well-formed to nft: ports readable, their rules decide.
s.sendto(ip4(103, 17, struct.pack("!HHHH", 1, 8081, 200, 0)), dst)  # UDP length 200 > 8
tcp = struct.pack("!HHIIBBHHH", 12345, 8080, 1, 0, 0x30, 0x02, 1024, 0, 0)
s.sendto(ip4(104, 6, tcp), dst)                           # TCP data offset 3 (< 5)

# IPv6 with a destination-options header claiming 24 bytes, 8 present.
s6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
ext = bytes([6, 2]) + bytes(6)
hdr = struct.pack("!IHBB16s16s", 6 << 28, len(ext), 60, 64,
                  socket.inet_pton(socket.AF_INET6, "fd00:213::2"),
                  socket.inet_pton(socket.AF_INET6, "fd00:213::1"))
s6.sendto(hdr + ext, ("fd00:213::1", 0))
PY
}

# run MALFORMED_STMT: one daemon run under "default accept".
run() {
	cat >"$T_TMP/ntfw.conf" <<C
default accept
$1
accept name all-icmp proto icmp
accept name all-icmpv6 proto icmpv6
drop name tcp-8080 proto tcp dport 8080
drop name udp-8081 proto udp dport 8081
C
	ntfw_start "$S" "$T_TMP/ntfw.conf"
	raw_listen "$2"
	send_packets
	assert_eq "pings answered after the malformed packets" 3 "$(ping_count "$C" 10.213.0.1 3)"
	ntfw_stats
	assert_eq "malformed total" 3 "$(stat_total malformed)"
	assert_eq "bad-l4-header" 2 "$(stat_malformed bad-l4-header)"
	assert_eq "bad-ext-header" 1 "$(stat_malformed bad-ext-header)"
	assert_eq "bad-ip-length" 0 "$(stat_malformed bad-ip-length)"
	# What nft reads, the rules decide: both dropped by their rule.
	assert_eq "tcp-8080 counter (data offset 3)" 1 "$(rule_pkts tcp-8080)"
	assert_eq "udp-8081 counter (UDP length 200)" 1 "$(rule_pkts udp-8081)"
	assert_eq "all-icmp counter (3 requests, 3 replies)" 6 "$(rule_pkts all-icmp)"
	wait "$RAW_PID"
	assert_eq "server saw the TCP-8080 packet" 0 "$(raw_seen 104)"
	assert_eq "server saw the UDP-8081 packet" 0 "$(raw_seen 103)"
}

# The default for malformed packets is drop, under "default accept" too.
run "" drop
assert_eq "server saw the cut TCP header" 0 "$(raw_seen 101)"
assert_eq "server saw the cut UDP header" 0 "$(raw_seen 102)"
# Dropped: 3 malformed, 2 by their rules; none counted under a rule.
assert_eq "dropped total" 5 "$(stat_total dropped)"
assert_eq "default counter (well-formed only)" \
	"$(($(stat_total accepted) - 6 - $(rule_pkts all-icmpv6)))" "$(rule_pkts default)"
ntfw_stop

run "malformed accept" accept
assert_eq "server saw the cut TCP header" 1 "$(raw_seen 101)"
assert_eq "server saw the cut UDP header" 1 "$(raw_seen 102)"
assert_eq "dropped total (the two rules)" 2 "$(stat_total dropped)"
assert_eq "default counter (well-formed only)" \
	"$(($(stat_total accepted) - 6 - $(rule_pkts all-icmpv6) - 3))" "$(rule_pkts default)"
ntfw_stop
