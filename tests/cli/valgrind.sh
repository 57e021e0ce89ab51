#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# valgrind memcheck on ntfw -r: a TCP conversation (Ethernet pcap, Linux
# cooked v2, pcapng), the fuzzing corpus's packets as raw IP (fragments,
# ICMP errors, IPv6 extension headers), with and without a policy, JSON
# and CSV, and a capture cut short: no memory error and no definite or
# indirect leak.  valgrind does not implement seccomp(2): NTFW_NO_SECCOMP=1
# leaves ntfw -r's filter out (see ntfw(8)).
. "$(dirname "$0")/../lib.sh"
need_cmd valgrind python3
# ASan's runtime and valgrind's cannot share a process.
[ -n "${NTFW_SAN:-}" ] && skip "sanitizer build: memcheck runs on the normal build"
python3 - "$T_TMP" "$TOP/tests/fuzz/corpus/parse" <<'PY' || fail "could not write the captures"
import os, struct, sys, socket
d, corpus = sys.argv[1], sys.argv[2]

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

def pcap(name, lt, frames):
    with open(f"{d}/{name}", "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, lt))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000, 1000 * i, len(fr), len(fr)) + fr)

pcap("eth.pcap", 1, [eth + p for p in conv])
pcap("sll2.pcap", 276, [struct.pack("!HHIHBB8s", 0x800, 0, 2, 1, 0, 6, bytes(8)) + p
                        for p in conv])
# The corpus files are a hook byte and an IP packet.
raw = []
for n in sorted(os.listdir(corpus)):
    with open(os.path.join(corpus, n), "rb") as f:
        raw.append(f.read()[1:])
pcap("corpus.pcap", 101, raw * 3 + conv)

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
with open(f"{d}/eth.pcap", "rb") as f:
    whole = f.read()
with open(f"{d}/cut.pcap", "wb") as f:  # cut 8 bytes into packet 5
    f.write(whole[:24 + 4 * (16 + 54) + 8 + 16 + 30])
PY
printf '%s\n' 'set nets { 10.213.0.0/16, fd00:213::/48 }' \
	'drop name web proto tcp dport 80 src @nets' \
	'drop name ping icmp-type echo-request' >"$T_TMP/p.conf"

# vg WANT_STATUS CAPTURE ARGS...: ntfw -r under memcheck.
vg() {
	local want=$1 cap=$2 rc
	shift 2
	NTFW_NO_SECCOMP=1 valgrind -q --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
		"$NTFW" -r "$T_TMP/$cap" "$@" >"$T_TMP/out" 2>"$T_TMP/vg.log"
	rc=$?
	grep -q '^==[0-9]*==' "$T_TMP/vg.log" &&
		fail "memcheck on -r $cap $*: $(cat "$T_TMP/vg.log")"
	assert_eq "-r $cap $*: exit status under memcheck" "$want" "$rc"
}
vg 0 eth.pcap
assert_eq "eth.pcap: records" 1 "$(wc -l <"$T_TMP/out")"
grep -q '^ntfw: seccomp filter left out (NTFW_NO_SECCOMP=1)$' "$T_TMP/vg.log" ||
	fail "no line about the filter: $(cat "$T_TMP/vg.log")"
vg 0 sll2.pcap --format csv
assert_eq "sll2.pcap csv: header and row" 2 "$(wc -l <"$T_TMP/out")"
vg 0 eth.pcapng -c "$T_TMP/p.conf"
grep -q '"verdict":"drop","rule":"web"' "$T_TMP/out" || fail "verdict: $(cat "$T_TMP/out")"
vg 0 corpus.pcap -c "$T_TMP/p.conf"
grep -q '^ntfw: stats: total packets=' "$T_TMP/vg.log" || fail "no counters: $(cat "$T_TMP/vg.log")"
vg 0 corpus.pcap --format csv
vg 1 cut.pcap
assert_eq "cut.pcap: records before the cut" 1 "$(wc -l <"$T_TMP/out")"
