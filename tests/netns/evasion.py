# SPDX-License-Identifier: GPL-2.0-only
"""Packets that once slipped past ntfw's port rules, for tests/netns/evasion.sh.

  evasion.py syn6 SRC DST DPORT dstopts520|chain17|plain
      one crafted IPv6 SYN; exit 0 if a SYN-ACK comes back within 2 s
  evasion.py udp0 SRC DST DPORT
      one UDP datagram with a length field of 0 (IPv4 or IPv6)
  evasion.py connect DST PORT DSTOPTS_BYTES
      a real TCP client (IPV6_DSTOPTS when DSTOPTS_BYTES > 0) asking an HTTP
      server for /; exit 0 if it answered
  evasion.py udplisten FILE PORT...
      log "port" for each datagram from the client to FILE, for 20 s

Standard library only: raw sockets and struct.
"""
import select
import socket
import struct
import sys
import time


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def pseudo(src, dst, proto, length):
    if ":" in src:
        return (socket.inet_pton(socket.AF_INET6, src) +
                socket.inet_pton(socket.AF_INET6, dst) +
                struct.pack("!IxxxB", length, proto))
    return (socket.inet_aton(src) + socket.inet_aton(dst) +
            struct.pack("!xBH", proto, length))


def dstopts(nh, size):
    """A destination-options header of SIZE bytes (a multiple of 8) that
    Linux accepts: unknown skippable options (type 0x1e) of at most 202
    bytes each, no padding (it takes at most 7 bytes of it)."""
    body = b""
    left = size - 2
    while left:
        n = min(left, 202)
        body += bytes([0x1e, n - 2]) + bytes(n - 2)
        left -= n
    return bytes([nh, size // 8 - 1]) + body


def ip6(src, dst, nh, payload):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, 64,
                       socket.inet_pton(socket.AF_INET6, src),
                       socket.inet_pton(socket.AF_INET6, dst)) + payload


def syn6(src, dst, dport, mode):
    sport = 40000 + dport % 1000
    seg = struct.pack("!HHIIBBHHH", sport, dport, 12345, 0, 5 << 4, 0x02,
                      64240, 0, 0)
    seg = seg[:16] + struct.pack("!H", csum(pseudo(src, dst, 6, len(seg)) +
                                            seg)) + seg[18:]
    if mode == "dstopts520":
        chain, nh = dstopts(6, 520), 60
    elif mode == "chain17":
        chain, nh = b"", 6
        for _ in range(17):
            # PadN of 4: 8 bytes, 6 of them padding.
            chain = bytes([nh, 0, 1, 4, 0, 0, 0, 0]) + chain
            nh = 60
    else:
        chain, nh = b"", 6
    rx = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_TCP)
    tx = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
    tx.sendto(ip6(src, dst, nh, chain + seg), (dst, 0))
    end = time.time() + 2
    while time.time() < end:
        r, _, _ = select.select([rx], [], [], 0.1)
        if not r:
            continue
        d, addr = rx.recvfrom(65535)
        sp, dp = struct.unpack("!HH", d[:4])
        if sp == dport and dp == sport and d[13] & 0x12 == 0x12:
            print("SYN-ACK from port %d" % dport)
            return 0
    print("no answer from port %d" % dport)
    return 1


def udp0(src, dst, dport):
    data = b"evasion"
    hdr = struct.pack("!HHHH", 40999, dport, 0, 0)
    ck = csum(pseudo(src, dst, 17, 8 + len(data)) + hdr + data) or 0xffff
    seg = hdr[:6] + struct.pack("!H", ck) + data
    if ":" in src:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
        s.sendto(ip6(src, dst, 17, seg), (dst, 0))
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(seg), 7, 0, 64,
                          17, 0, socket.inet_aton(src), socket.inet_aton(dst))
        s.sendto(iph + seg, (dst, 0))
    return 0


def connect(dst, port, nbytes):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    if nbytes:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_DSTOPTS,
                     dstopts(0, nbytes))
    s.settimeout(3)
    try:
        s.connect((dst, port))
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        reply = s.recv(100)
    except OSError as e:
        print("port %d: %s" % (port, e))
        return 1
    print("port %d: %r" % (port, reply[:20]))
    return 0 if reply.startswith(b"HTTP/") else 1


def udplisten(path, ports):
    socks = []
    for p in ports:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", p))
        socks.append((s, p))
    out = open(path, "a", buffering=1)
    out.write("ready\n")
    end = time.time() + 20
    while time.time() < end:
        r, _, _ = select.select([s for s, _ in socks], [], [], 0.1)
        for s, p in socks:
            if s in r:
                s.recv(65535)
                out.write("%d\n" % p)
    return 0


def main(a):
    if a[0] == "syn6":
        return syn6(a[1], a[2], int(a[3]), a[4])
    if a[0] == "udp0":
        return udp0(a[1], a[2], int(a[3]))
    if a[0] == "connect":
        return connect(a[1], int(a[2]), int(a[3]))
    if a[0] == "udplisten":
        return udplisten(a[1], [int(p) for p in a[2:]])
    return 2


sys.exit(main(sys.argv[1:]))
