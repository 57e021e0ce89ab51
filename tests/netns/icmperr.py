# SPDX-License-Identifier: GPL-2.0-only
# Send an ICMP or ICMPv6 error that quotes a packet, as a router or host
# would: icmperr.py SRC DST TYPE CODE PROTO QSRC QSPORT QDST QDPORT [COUNT]
# The quoted packet is QSRC:QSPORT -> QDST:QDPORT of protocol PROTO (tcp,
# udp).  Needs scapy (run with /usr/bin/python3).
import sys
from scapy.all import IP, IPv6, ICMP, TCP, UDP, ICMPv6DestUnreach, \
    ICMPv6TimeExceeded, ICMPv6PacketTooBig, ICMPv6ParamProblem, send

src, dst, typ, code, proto, qsrc, qsport, qdst, qdport = sys.argv[1:10]
count = int(sys.argv[10]) if len(sys.argv) > 10 else 1
typ, code, qsport, qdport = int(typ), int(code), int(qsport), int(qdport)
l4 = (TCP(sport=qsport, dport=qdport, flags="PA", seq=1000) if proto == "tcp"
      else UDP(sport=qsport, dport=qdport))
if ":" in src:
    quoted = IPv6(src=qsrc, dst=qdst) / l4 / b"quoted"
    err = {1: ICMPv6DestUnreach, 2: ICMPv6PacketTooBig, 3: ICMPv6TimeExceeded,
           4: ICMPv6ParamProblem}[typ](code=code)
    pkt = IPv6(src=src, dst=dst) / err / quoted
else:
    quoted = IP(src=qsrc, dst=qdst) / l4 / b"quoted"
    pkt = IP(src=src, dst=dst) / ICMP(type=typ, code=code) / quoted
send(pkt, count=count, inter=0.05, verbose=0)
