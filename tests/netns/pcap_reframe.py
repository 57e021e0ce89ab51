#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Rewrite the link layer of an Ethernet pcap file.

Usage: pcap_reframe.py [-s SNAPLEN] IN.pcap OUT.pcap FRAMING...
OUT.pcap holds "%s" for the framing's name if there are several.
FRAMING: eth (unchanged), sll (Linux cooked v1), sll2 (Linux cooked v2),
raw (IP alone, LINKTYPE_RAW), vlan (one 802.1Q tag), qinq (an 802.1ad tag
over an 802.1Q one).  -s SNAPLEN truncates every frame of the
result to that many bytes, as `tcpdump -s SNAPLEN` would have.
Timestamps, original lengths (less or more the link header's change) and
the packets' bytes are kept; pcap (microsecond or nanosecond, either byte
order) in, the same flavour out.  Standard library only.
"""
import struct
import sys

LINKTYPE = {"eth": 1, "sll": 113, "sll2": 276, "raw": 101, "vlan": 1, "qinq": 1}
ARPHRD_ETHER = 1
PACKET_HOST, PACKET_OUTGOING = 0, 4


def reframe(frame, framing, outgoing):
    if len(frame) < 14:
        return None
    dst, src, etype = frame[0:6], frame[6:12], frame[12:14]
    payload = frame[14:]
    if framing == "eth":
        return frame
    if framing == "vlan":
        return dst + src + b"\x81\x00" + struct.pack(">H", 0x2000 | 213) + etype + payload
    if framing == "qinq":
        return (dst + src + b"\x88\xa8" + struct.pack(">H", 100) +
                b"\x81\x00" + struct.pack(">H", 213) + etype + payload)
    if framing == "raw":
        return payload
    ptype = PACKET_OUTGOING if outgoing else PACKET_HOST
    if framing == "sll":
        return struct.pack(">HHH", ptype, ARPHRD_ETHER, 6) + src + b"\0\0" + etype + payload
    if framing == "sll2":
        return (etype + b"\0\0" + struct.pack(">IHBB", 2, ARPHRD_ETHER, ptype, 6) +
                src + b"\0\0" + payload)
    raise SystemExit("unknown framing " + framing)


def main(argv):
    args = argv[1:]
    snaplen = 0
    if args[:1] == ["-s"] and len(args) > 1:
        snaplen = int(args[1])
        args = args[2:]
    if len(args) < 3 or any(f not in LINKTYPE for f in args[2:]):
        sys.exit(__doc__)
    src_path, dst_pattern = args[:2]
    for framing in args[2:]:
        dst_path = dst_pattern.replace("%s", framing)
        write(src_path, dst_path, framing, snaplen)
    return 0


def write(src_path, dst_path, framing, snaplen):
    with open(src_path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        sys.exit("%s: no pcap header" % src_path)
    for e in ("<", ">"):
        magic = struct.unpack(e + "I", data[:4])[0]
        if magic in (0xa1b2c3d4, 0xa1b23c4d):
            break
    else:
        sys.exit("%s: not a pcap file" % src_path)
    vmaj, vmin, zone, sigfigs, fsnap, ltype = struct.unpack(e + "HHiIII", data[4:24])
    if ltype != 1:
        sys.exit("%s: link type %d, not Ethernet" % (src_path, ltype))
    out = [struct.pack(e + "IHHiIII", magic, vmaj, vmin, zone, sigfigs,
                       snaplen or 262144, LINKTYPE[framing])]
    me = None  # the capturing host: the source of the first frame
    off = 24
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(e + "IIII", data[off:off + 16])
        frame = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(frame) < incl:
            break  # a cut frame at the end: leave it out
        if me is None:
            me = frame[6:12]
        new = reframe(frame, framing, frame[6:12] == me)
        if new is None:
            continue
        norig = max(orig + len(new) - len(frame), len(new))
        if snaplen:
            new = new[:snaplen]
        out.append(struct.pack(e + "IIII", sec, frac, len(new), norig))
        out.append(new)
    with open(dst_path, "wb") as f:
        f.write(b"".join(out))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
