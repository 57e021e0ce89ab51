#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# Seeds of fuzz_kring: rings as its input lays them out (a 48-byte header,
# then 96-byte records of kmod/ntfw_ring.h).  Usage: seeds_kring.py DIR
import os
import struct
import sys

out = sys.argv[1]
MAGIC, VERSION = 0x6E746677, 1
NS = 1000 * 10**9


def hdr(mode=0, steps=0, gone_at=7, nrec_log=4, magic=MAGIC, version=VERSION,
        rec_size=96, nrec=16, off=0, prod=0, dropped=0, prod_step=0):
    return struct.pack("<BBBBIIIIIQQI4x", mode, steps, gone_at, nrec_log, magic,
                       version, rec_size, nrec, off, prod, dropped, prod_step)


def rec(flow=0, rev=False, aim=True, ts=NS + 5 * 10**9, ip_len=40, payload=0,
        seq=101, ack=501, window=500, gso_segs=1, gso_size=0, family=4,
        proto=6, flags=0x10, rflags=0x03, wscale=0xFF, icmp=(0, 0)):
    pad2 = (1 | flow << 1 | (0x10 if rev else 0)) if aim else 0
    return struct.pack("<Q16s16sIIIIIIIHHHHBBBBBBBBIHHI", ts, b"\0" * 16,
                       b"\0" * 16, ip_len, ip_len + 14, payload, seq, ack, 3,
                       0xF0000001, 0, 0, window, gso_segs, family, proto,
                       flags, 0, rflags, wscale, icmp[0], icmp[1],
                       0x40000000, gso_size, 0, pad2)


def put(name, b):
    with open(os.path.join(out, name), "wb") as f:
        f.write(b)


tcp = [rec(0, payload=300, ip_len=340, flags=0x18),
       rec(0, rev=True, seq=501, ack=401),
       rec(0, rev=True, seq=501, ack=401, payload=2800, ip_len=2840,
           gso_size=1400, gso_segs=2, flags=0x18),
       rec(0, seq=401, ack=3301, flags=0x11),
       rec(0, rev=True, seq=3301, ack=402, flags=0x11)]
put("tcp4", hdr(nrec_log=3) + b"".join(tcp))
put("tcp6", hdr(nrec_log=3) + b"".join(
    rec(1, r[0], family=6, ip_len=60, payload=0) for r in [(False,), (True,)]))
put("udp-icmp", hdr(nrec_log=2) + rec(2, proto=17, ip_len=48, payload=20,
                                      rflags=0x03) +
    rec(3, proto=1, ip_len=28, icmp=(8, 0)) +
    rec(3, rev=True, proto=1, ip_len=28, icmp=(0, 0)))
put("bad", hdr(nrec_log=2) + rec(aim=False, family=5) + rec(0, payload=40) +
    rec(0, ip_len=70000) + rec(0, payload=60000, ip_len=60040, gso_size=1))
put("unknown", hdr(nrec_log=1) + rec(aim=False) + rec(aim=False, family=6))
put("gone", hdr(steps=3, gone_at=1) + b"".join(tcp))
put("resync", hdr(mode=0x80, dropped=1 << 40) + b"".join(tcp))
put("two-workers", hdr(mode=0x04, nrec_log=3) + b"".join(tcp))
put("bad-version", hdr(mode=0x01, version=2) + b"".join(tcp))
put("bad-geom", hdr(mode=0x02, nrec=1000, off=100) + b"".join(tcp))
put("offset", hdr(mode=0x02, nrec=8, off=4096 + 96) + b"".join(tcp))
put("wrap", hdr(nrec_log=2, prod=(1 << 64) - 2, steps=2, prod_step=3) +
    b"".join(tcp))
