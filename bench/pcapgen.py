#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Write a synthetic pcap of complete TCP connections for the benchmarks.

pcapgen.py OUT PACKETS: connections from 10.213.0.0/16 clients to
10.213.0.1:80, each a handshake, a request, a response of full-sized
segments acked every second segment, and a FIN close, in time order.
Frames are Ethernet, captured at 96 bytes (headers only), so a million
packets make a file of about 130 MB rather than 1.5 GB.

pcapgen.py --syn OUT FLOWS: one SYN from each of FLOWS distinct clients
(address and port), 1 microsecond apart, to fill a flow table.
"""
import struct
import sys

SNAP = 96
MSS = 1448


def csum_free_ip(src, dst, proto, payload_len, ident):
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + payload_len, ident,
                       0x4000, 64, proto, 0, src, dst)


ETH = bytes(6) + bytes([2, 0, 0, 0, 0, 1]) + b"\x08\x00"
SERVER = bytes([10, 213, 0, 1])


def open_pcap(out):
    f = open(out, "wb", buffering=1 << 20)
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, SNAP, 1))
    return f


def write_pkt(f, t, cap, wire):
    """One record: timestamp t in microseconds, cap bytes of wire."""
    f.write(struct.pack("<IIII", t // 1_000_000, t % 1_000_000, len(cap), wire))
    f.write(cap)


def syns(out, flows):
    f = open_pcap(out)
    t = 1_700_000_000 * 1_000_000
    for n in range(flows):
        client = bytes([10, 213, 1 + (n >> 16) % 250, (n >> 8) & 255])
        th = struct.pack("!HHIIBBHHH", 1024 + (n & 255), 80, n, 0, 0x50,
                         0x02, 65535, 0, 0)
        frame = ETH + csum_free_ip(client, SERVER, 6, 20, n & 0xffff) + th
        t += 1
        write_pkt(f, t, frame, len(frame))
    f.close()
    print(f"{out}: {flows} SYNs")


def main():
    if sys.argv[1] == "--syn":
        syns(sys.argv[2], int(sys.argv[3]))
        return
    out, total = sys.argv[1], int(sys.argv[2])
    f = open_pcap(out)
    eth, server = ETH, SERVER
    t = 1_700_000_000 * 1_000_000  # microseconds
    written = conn = 0
    while written < total:
        client = bytes([10, 213, 1 + (conn >> 8) % 250, conn & 255])
        cport = 1024 + conn % 60000
        segs = 8 + conn % 32  # response segments: 8 to 39
        cseq, sseq = 1000 + conn, 5000 + conn * 7
        pkts = []

        def tcp(c2s, seq, ack, flags, data):
            src, dst = (client, server) if c2s else (server, client)
            sp, dp = (cport, 80) if c2s else (80, cport)
            th = struct.pack("!HHIIBBHHH", sp, dp, seq & 0xffffffff,
                             ack & 0xffffffff, 0x50, flags, 65535, 0, 0)
            ip = csum_free_ip(src, dst, 6, 20 + data, len(pkts))
            pkts.append((eth + ip + th, 14 + 20 + 20 + data))

        tcp(1, cseq, 0, 0x02, 0)
        tcp(0, sseq, cseq + 1, 0x12, 0)
        tcp(1, cseq + 1, sseq + 1, 0x10, 0)
        tcp(1, cseq + 1, sseq + 1, 0x18, 100)
        s = sseq + 1
        for i in range(segs):
            tcp(0, s, cseq + 101, 0x10 | (0x08 if i == segs - 1 else 0), MSS)
            s += MSS
            if i % 2 == 1 or i == segs - 1:
                tcp(1, cseq + 101, s, 0x10, 0)
        tcp(1, cseq + 101, s, 0x11, 0)
        tcp(0, s, cseq + 102, 0x11, 0)
        tcp(1, cseq + 102, s + 1, 0x10, 0)
        for frame, wire in pkts:
            t += 50
            write_pkt(f, t, frame[:SNAP], wire)
        written += len(pkts)
        conn += 1
    f.close()
    print(f"{out}: {written} packets, {conn} connections")


if __name__ == "__main__":
    main()
