#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
# Seeds of fuzz_capture: small captures of each link type and file format
# offline.c reads, with the traffic the stateful policy of the harness
# decides on.  Usage: seeds_capture.py DIR (scapy, /usr/bin/python3).
import os
import struct
import sys

from scapy.all import (ICMP, IP, TCP, UDP, Dot1Q, Ether, ICMPv6EchoRequest,
                       ICMPv6DestUnreach, IPv6, IPv6ExtHdrFragment,
                       IPv6ExtHdrHopByHop, CookedLinux, Raw, fragment,
                       wrpcap, wrpcapng)

out = sys.argv[1]
C, S = "10.213.0.2", "10.213.0.1"
C6, S6 = "fd00:213::2", "fd00:213::1"


def tcp_conn(src, dst, ip, sport=40000, dport=80, data=b"x" * 300):
    c, s = ip(src=src, dst=dst), ip(src=dst, dst=src)
    return [
        c / TCP(sport=sport, dport=dport, flags="S", seq=100,
                options=[("MSS", 1460), ("WScale", 7), ("SAckOK", b"")]),
        s / TCP(sport=dport, dport=sport, flags="SA", seq=500, ack=101,
                options=[("MSS", 1460), ("WScale", 7)]),
        c / TCP(sport=sport, dport=dport, flags="A", seq=101, ack=501),
        c / TCP(sport=sport, dport=dport, flags="PA", seq=101, ack=501) / data,
        s / TCP(sport=dport, dport=sport, flags="A", seq=501, ack=101 + len(data)),
        s / TCP(sport=dport, dport=sport, flags="PA", seq=501,
                ack=101 + len(data)) / (b"y" * 200),
        c / TCP(sport=sport, dport=dport, flags="PA", seq=101, ack=501) / data,
        c / TCP(sport=sport, dport=dport, flags="FA", seq=101 + len(data), ack=701),
        s / TCP(sport=dport, dport=sport, flags="FA", seq=701, ack=102 + len(data)),
        c / TCP(sport=sport, dport=dport, flags="R", seq=999999),
    ]


def timed(pkts, t0=1700000000.0, step=0.01):
    for i, p in enumerate(pkts):
        p.time = t0 + i * step
    return pkts


def eth(pkts):
    return [Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / p for p in pkts]


def put(name, pkts, **kw):
    wrpcap(os.path.join(out, name), timed(pkts), **kw)


put("tcp4-eth", eth(tcp_conn(C, S, IP)))
put("tcp6-eth", eth(tcp_conn(C6, S6, IPv6, dport=443)))
put("tcp4-raw", tcp_conn(C, S, IP, dport=22), linktype=101)
put("tcp4-sll", [CookedLinux(proto=0x0800) / p for p in tcp_conn(C, S, IP)])
put("vlan", [Ether() / Dot1Q(vlan=5) / Dot1Q(vlan=7) / p
             for p in tcp_conn(C, S, IP, dport=8080)])
scan = [IP(src=C, dst=S) / TCP(sport=41000 + i, dport=20 + i, flags="S")
        for i in range(12)]
put("scan", eth(scan))
brute = [IP(src=C, dst=S) / TCP(sport=42000 + i, dport=22, flags="S")
         for i in range(10)]
put("brute", eth(brute))
dns = [IP(src=C, dst=S) / UDP(sport=5353, dport=53) / (b"q" * 30) for _ in range(16)]
dns += [IP(src=S, dst=C) / UDP(sport=53, dport=5353) / (b"r" * 60)]
put("dns", eth(dns))
q = IP(src=C, dst=S) / UDP(sport=5000, dport=6000) / (b"u" * 20)
icmp = [q, IP(src=S, dst=C) / ICMP(type=3, code=3) / bytes(q)[:28],
        IP(src=C, dst=S) / ICMP(type=8, id=7, seq=1),
        IP(src=S, dst=C) / ICMP(type=0, id=7, seq=1)]
put("icmp4", eth(icmp))
q6 = IPv6(src=C6, dst=S6) / UDP(sport=5000, dport=6000) / (b"u" * 20)
icmp6 = [q6, IPv6(src=S6, dst=C6) / ICMPv6DestUnreach() / bytes(q6),
         IPv6(src=C6, dst=S6) / IPv6ExtHdrHopByHop() / ICMPv6EchoRequest(id=3)]
put("icmp6", eth(icmp6))
frags = fragment(IP(src=C, dst=S) / UDP(sport=7, dport=9) / (b"f" * 1200), 400)
f6 = IPv6(src=C6, dst=S6) / IPv6ExtHdrFragment(id=9, m=1, offset=0) / UDP(sport=7, dport=9) / (b"g" * 64)
put("frag", eth(frags + [f6]))
# Nanosecond timestamps, and a big-endian file.
put("tcp4-nano", eth(tcp_conn(C, S, IP, dport=443)), nano=True)
wrpcapng(os.path.join(out, "tcp4-pcapng"), timed(eth(tcp_conn(C, S, IP))))
with open(os.path.join(out, "tcp4-eth"), "rb") as f:
    b = f.read()
# The same file byte-swapped (written on a big-endian host).
hdr = struct.unpack("<IHHiIII", b[:24])
be = struct.pack(">IHHiIII", *hdr)
off = 24
while off + 16 <= len(b):
    sec, frac, cap, ln = struct.unpack("<IIII", b[off:off + 16])
    be += struct.pack(">IIII", sec, frac, cap, ln) + b[off + 16:off + 16 + cap]
    off += 16 + cap
with open(os.path.join(out, "tcp4-bigendian"), "wb") as f:
    f.write(be)
# Version 2.2: caplen and len the other way round; a truncated end.
with open(os.path.join(out, "tcp4-v22-trunc"), "wb") as f:
    v = bytearray(b[:24])
    v[6:8] = struct.pack("<H", 2)
    off = 24
    while off + 16 <= len(b):
        sec, frac, cap, ln = struct.unpack("<IIII", b[off:off + 16])
        v += struct.pack("<IIII", sec, frac, ln, cap) + b[off + 16:off + 16 + cap]
        off += 16 + cap
    f.write(bytes(v[:-30]))
