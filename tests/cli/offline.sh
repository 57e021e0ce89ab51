#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# ntfw -r: the same TCP conversation written as pcap with Ethernet, Linux
# cooked v1 and v2, and raw IP frames, and as pcapng, gives the same flow
# record; bad input gives one clear line and exit status 1.
. "$(dirname "$0")/../lib.sh"
need_cmd python3
python3 - "$T_TMP" <<'PY' || fail "could not write the captures"
import struct, sys, socket
d = sys.argv[1]

def ip4(src, dst, sp, dp, seq, ack, flags, data):
    tcp = struct.pack("!HHIIBBHHH", sp, dp, seq, ack, 0x50, flags, 8192, 0, 0)
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 40 + data, 1, 0, 64, 6, 0,
                       socket.inet_aton(src), socket.inet_aton(dst)) + tcp + bytes(data)

C, S = "10.213.0.2", "10.213.0.1"
conv = [ip4(C, S, 40000, 80, 100, 0, 0x02, 0), ip4(S, C, 80, 40000, 500, 101, 0x12, 0),
        ip4(C, S, 40000, 80, 101, 501, 0x10, 0), ip4(C, S, 40000, 80, 101, 501, 0x18, 30),
        ip4(S, C, 80, 40000, 501, 131, 0x18, 700), ip4(C, S, 40000, 80, 131, 1201, 0x11, 0),
        ip4(S, C, 80, 40000, 1201, 132, 0x11, 0), ip4(C, S, 40000, 80, 132, 1202, 0x10, 0)]
eth = bytes(6) + bytes([2, 0, 0, 0, 0, 1]) + b"\x08\x00"
links = {
    "eth": (1, lambda p: eth + p),
    "sll": (113, lambda p: struct.pack("!HHH8sH", 0, 1, 6, bytes(8), 0x800) + p),
    "sll2": (276, lambda p: struct.pack("!HHIHBB8s", 0x800, 0, 2, 1, 0, 6, bytes(8)) + p),
    "raw": (101, lambda p: p),
}
for name, (lt, wrap) in links.items():
    with open(f"{d}/{name}.pcap", "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, lt))
        for i, p in enumerate(conv):
            fr = wrap(p)
            f.write(struct.pack("<IIII", 1700000000, 1000 * i, len(fr), len(fr)) + fr)
# pcapng: section header, one Ethernet interface, enhanced packet blocks.
def blk(t, body):
    body += bytes(-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", t, n) + body + struct.pack("<I", n)
with open(f"{d}/eth.pcapng", "wb") as f:
    f.write(blk(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
    f.write(blk(1, struct.pack("<HHI", 1, 0, 65535)))
    for i, p in enumerate(conv):
        fr = eth + p
        ts = 1700000000 * 1000000 + 1000 * i
        f.write(blk(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xffffffff, len(fr), len(fr)) + fr))
with open(f"{d}/null.pcap", "wb") as f:  # BSD loopback: not supported
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 0))
with open(f"{d}/eth.pcap", "rb") as f:
    whole = f.read()
with open(f"{d}/cut.pcap", "wb") as f:  # cut 8 bytes into packet 5
    f.write(whole[:24 + 4 * (16 + 54) + 8 + 16 + 30])
PY

run() { "$NTFW" -r "$@" 2>"$T_TMP/err"; }
ref=$(run "$T_TMP/eth.pcap") || fail "eth.pcap: $(cat "$T_TMP/err")"
assert_eq "records from eth.pcap" 1 "$(echo "$ref" | wc -l)"
echo "$ref" | grep -q '"client_port":40000,"server_addr":"10.213.0.1","server_port":80,"midstream":false,"end":"fin"' ||
	fail "unexpected record: $ref"
echo "$ref" | grep -q '"pkts_c2s":5,"pkts_s2c":3,' || fail "packet counts: $ref"
echo "$ref" | grep -q '"data_bytes_c2s":30,"data_bytes_s2c":700,' || fail "data bytes: $ref"
for f in sll sll2 raw; do
	assert_eq "$f.pcap gives the same record" "$ref" "$(run "$T_TMP/$f.pcap")"
done
assert_eq "eth.pcapng gives the same record" "$ref" "$(run "$T_TMP/eth.pcapng")"
grep -q '^ntfw: stats: default accept packets=8 ' "$T_TMP/err" || fail "counters: $(cat "$T_TMP/err")"

csv=$("$NTFW" -r "$T_TMP/eth.pcap" --format csv 2>/dev/null)
assert_eq "csv: header and one row" 2 "$(echo "$csv" | wc -l)"
assert_eq "csv: header starts with the identity fields" \
	"family,proto,client_addr,client_port,server_addr,server_port,midstream,end" \
	"$(echo "$csv" | head -n 1 | cut -d, -f1-8)"
assert_eq "csv: columns in header and row" "$(echo "$csv" | head -n 1 | tr ',' '\n' | wc -l)" \
	"$(echo "$csv" | tail -n 1 | tr ',' '\n' | wc -l)"

# -c: the policy decides, and the record says which rule.
printf 'drop name web proto tcp dport 80\n' >"$T_TMP/p.conf"
run "$T_TMP/eth.pcap" -c "$T_TMP/p.conf" | grep -q '"verdict":"drop","rule":"web"' ||
	fail "verdict with -c"
# The flow's 5 packets to port 80 and its 3 replies: all the flow's.
grep -q '^ntfw: stats: rule web drop packets=8 ' "$T_TMP/err" || fail "rule counter: $(cat "$T_TMP/err")"

# Crafted captures: timestamps that run back, an orig_len past the IP
# length, a fragmented UDP datagram.
python3 - "$T_TMP" <<'PY' || fail "could not write the crafted captures"
import struct, sys, socket
d = sys.argv[1]
C, S = socket.inet_aton("10.213.0.2"), socket.inet_aton("10.213.0.1")
eth = bytes(6) + bytes([2, 0, 0, 0, 0, 1]) + b"\x08\x00"
def ip4(src, dst, proto, body, frag=0, tot=None):
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, tot or 20 + len(body), 7, frag,
                       64, proto, 0, src, dst) + body
def tcp(src, dst, sp, dp, flags):
    return ip4(src, dst, 6, struct.pack("!HHIIBBHHH", sp, dp, 1, 0, 0x50, flags, 8192, 0, 0))
def cap(name, frames):
    with open(f"{d}/{name}.pcap", "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for sec, p, olen in frames:
            fr = eth + p
            f.write(struct.pack("<IIII", 1700000000 + sec, 0, len(fr), olen or len(fr)) + fr)
# Back in time: the reply 2 s after the SYN, then an ACK 5 s before it.
cap("back", [(10, tcp(C, S, 4000, 80, 0x02), 0), (12, tcp(S, C, 80, 4000, 0x12), 0),
             (5, tcp(C, S, 4000, 80, 0x10), 0)])
# Two replies of 54 bytes, one said to have been 1,000,000 long.
cap("len", [(1, tcp(C, S, 4001, 80, 0x02), 0), (1, tcp(S, C, 80, 4001, 0x12), 0),
            (1, tcp(S, C, 80, 4001, 0x10), 1000000)])
# A UDP datagram in two fragments (offset 0 with MF, then offset 16).
udp = struct.pack("!HHHH", 5000, 53, 8 + 24, 0) + bytes(24)
cap("frag", [(1, ip4(C, S, 17, udp[:16], 0x2000, 20 + 16), 0),
             (1, ip4(C, S, 17, udp[16:], 2, 20 + 16), 0)])
PY
out=$(run "$T_TMP/back.pcap") || fail "back.pcap: $(cat "$T_TMP/err")"
echo "$out" | grep -q '"first_ts":1700000010.000000,"last_ts":1700000012.000000,"duration":2.000000,' ||
	fail "timestamps back: $out"
grep -q 'timestamps-back=1 ' "$T_TMP/err" || fail "timestamps back not counted: $(cat "$T_TMP/err")"
out=$(run "$T_TMP/len.pcap") || fail "len.pcap: $(cat "$T_TMP/err")"
echo "$out" | grep -q '"var_wire_bytes_s2c":0,' || fail "orig_len trusted: $out"
grep -q 'lengths-cut=1$' "$T_TMP/err" || fail "length not counted: $(cat "$T_TMP/err")"
# The later fragment is judged alone (untracked): one record, with ports.
out=$(run "$T_TMP/frag.pcap") || fail "frag.pcap: $(cat "$T_TMP/err")"
assert_eq "records from frag.pcap" 1 "$(echo "$out" | wc -l)"
echo "$out" | grep -q '"client_port":5000,"server_addr":"10.213.0.1","server_port":53,' ||
	fail "fragment record: $out"
echo "$out" | grep -q '"pkts_c2s":1,' || fail "later fragment in the flow: $out"
grep -q 'untracked=1$' "$T_TMP/err" || fail "later fragment not untracked: $(cat "$T_TMP/err")"

# Bad input: one line on stderr, exit 1.
bad() {
	local what=$1 want=$2 out rc
	shift 2
	out=$("$NTFW" "$@" 2>&1 >/dev/null)
	rc=$?
	assert_eq "$what: exit status" 1 "$rc"
	assert_eq "$what: message" "$want" "$(echo "$out" | grep -v '^ntfw: stats:')"
}
bad "missing file" "ntfw: $T_TMP/none.pcap: No such file or directory" -r "$T_TMP/none.pcap"
bad "not a capture" "ntfw: $TOP/README.md: unknown file format" -r "$TOP/README.md"
bad "unknown link type" "ntfw: $T_TMP/null.pcap: unsupported link type NULL (Ethernet, Linux cooked v1/v2 and raw IP are)" \
	-r "$T_TMP/null.pcap"
bad "truncated capture" "ntfw: $T_TMP/cut.pcap: truncated dump file; tried to read 754 captured bytes, only got 8" \
	-r "$T_TMP/cut.pcap"
# ...after the records of what it could read.
assert_eq "truncated capture: records still written" 1 "$(run "$T_TMP/cut.pcap" | wc -l)"
bad "--format without -r" "ntfw: --format applies to -r only" --format csv
bad "bad --format" "ntfw: --format: expected json or csv, got 'xml'" -r "$T_TMP/eth.pcap" --format xml
