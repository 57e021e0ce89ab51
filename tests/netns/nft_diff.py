# SPDX-License-Identifier: GPL-2.0-only
"""
Differential test of ntfw's verdicts against the kernel's nftables.

Random policies are written twice, as an ntfw configuration and as an nft
chain that means the same (policy.c is the reference for each match), and
random packets go to two routers, one running each.  nft_diff.sh builds the
namespaces; this script generates, sends and compares:

  nft_diff.py run DIR   generate, apply each policy to both routers, send
  nft_diff.py check DIR compare what the two sinks received

The environment passes the rest (see nft_diff.sh).  Run with /usr/bin/python3
(scapy).
"""
import ipaddress
import json
import os
import random
import re
import signal
import struct
import subprocess
import sys
import time

from scapy.all import (  # noqa: E402
    AH, ESP, GRE, ICMP, IP, SCTP, TCP, UDP, Ether, HBHOptUnknown,
    ICMPv6Unknown, IPOption, IPOption_NOP, IPOption_Router_Alert,
    IPOption_RR, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, IPv6ExtHdrSegmentRouting, PadN,
    Raw, conf, defragment, defragment6, fragment, fragment6, raw, rdpcap,
    wrpcap)

conf.verb = 0

# Address space of the test packets: 10.213.0.0/17, fd00:213:0:0::/57 (the
# links between namespaces use 10.213.250-251.x and fd00:213:fa/fb::).
V4_NET = ipaddress.ip_network("10.213.0.0/17")
V6_NET = ipaddress.ip_network("fd00:213::/57")

# ntfw.conf(5): ICMP type names and their ICMP / ICMPv6 numbers.
ICMP_NAMES = {
    "echo-reply": (0, 129), "destination-unreachable": (3, 1),
    "source-quench": (4, None), "redirect": (5, None),
    "echo-request": (8, 128), "router-advertisement": (9, None),
    "router-solicitation": (10, None), "time-exceeded": (11, 3),
    "parameter-problem": (12, 4), "timestamp-request": (13, None),
    "timestamp-reply": (14, None), "info-request": (15, None),
    "info-reply": (16, None), "address-mask-request": (17, None),
    "address-mask-reply": (18, None), "packet-too-big": (None, 2),
    "mld-listener-query": (None, 130), "mld-listener-report": (None, 131),
    "mld-listener-done": (None, 132), "nd-router-solicit": (None, 133),
    "nd-router-advert": (None, 134), "nd-neighbor-solicit": (None, 135),
    "nd-neighbor-advert": (None, 136), "nd-redirect": (None, 137),
    "mld2-listener-report": (None, 143),
}
PROTO_NAMES = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58, "sctp": 132,
               "gre": 47, "esp": 50, "ah": 51}
TCP_FLAGS = ["fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr"]


def env(name, default=None):
    v = os.environ.get(name, default)
    if v is None:
        sys.exit("nft_diff.py: %s is not set" % name)
    return v


# ---------------------------------------------------------------- policies

class Policy:
    """A random policy: sets, rules (dicts), default; and the pools its
    packets draw addresses and ports from, so that some match."""

    def __init__(self, rnd, idx):
        self.rnd, self.idx = rnd, idx
        self.pfx4 = [self.rand_prefix(4) for _ in range(rnd.randint(2, 6))]
        self.pfx6 = [self.rand_prefix(6) for _ in range(rnd.randint(2, 6))]
        self.ports = [self.rand_portspec() for _ in range(rnd.randint(2, 6))]
        self.sets = {}
        for i in range(rnd.randint(0, 3)):
            k = rnd.choice(["4", "6", "mixed", "mixed", "empty"])
            el = []
            if k in ("4", "mixed"):
                el += self.sample_addrs(4)
            if k in ("6", "mixed"):
                el += self.sample_addrs(6)
            self.sets["s%d" % i] = el
        self.default = rnd.choice(["accept", "drop"])
        self.rules = [self.rand_rule(i) for i in range(rnd.randint(1, 8))]
        if os.environ.get("DIFF_ACCEPT_ALL"):
            # To see what the kernel itself forwards.
            self.default, self.rules = "accept", []

    def rand_prefix(self, fam):
        rnd = self.rnd
        if fam == 4:
            ln = rnd.choice([17, 18, 20, 22, 24, 24, 25, 28, 30, 32, 32])
            a = int(V4_NET.network_address) + rnd.getrandbits(15)
            return "%s/%d" % (ipaddress.IPv4Address(a), ln)
        ln = rnd.choice([57, 60, 64, 64, 72, 96, 112, 120, 127, 128, 128])
        a = int(V6_NET.network_address) + rnd.getrandbits(71)
        return "%s/%d" % (ipaddress.IPv6Address(a), ln)

    def rand_portspec(self):
        rnd = self.rnd
        lo = rnd.choice([0, 1, 22, 53, 80, 443, 1024, 8080, 65535,
                         rnd.randint(0, 65535)])
        if rnd.random() < 0.4:
            return (lo, min(65535, lo + rnd.choice([1, 10, 1000, 30000])))
        return (lo, lo)

    def sample_addrs(self, fam):
        pool = self.pfx4 if fam == 4 else self.pfx6
        out = self.rnd.sample(pool, self.rnd.randint(1, min(3, len(pool))))
        # A host address written as a prefix: ntfw ignores the host bits.
        return [p.split("/")[0] if p.endswith(("/32", "/128")) and
                self.rnd.random() < 0.5 else p for p in out]

    def rand_rule(self, i):
        rnd = self.rnd
        r = {"name": "r%d" % i, "verdict": rnd.choice(["accept", "drop"]),
             "family": None, "proto": None, "src": None, "dst": None,
             "sport": None, "dport": None, "icmp": None, "flags": None,
             "iif": None, "oif": None, "hook": None}
        fam = rnd.choice([None, None, 4, 6])
        r["family"] = fam
        kind = rnd.choice(["ports", "ports", "icmp", "flags", "proto",
                           "addr", "addr", "any"])
        if kind == "ports":
            r["proto"] = rnd.choice([None, "tcp", "udp"])
            for k in ("sport", "dport"):
                if rnd.random() < (0.3 if k == "sport" else 0.8):
                    r[k] = rnd.sample(self.ports,
                                      rnd.randint(1, min(3, len(self.ports))))
            if not r["sport"] and not r["dport"]:
                r["dport"] = [self.ports[0]]
        elif kind == "icmp":
            if rnd.random() < 0.5:
                r["proto"] = rnd.choice(["icmp", "icmpv6"])
                fam = r["family"] = 4 if r["proto"] == "icmp" else 6
            names = [n for n, v in ICMP_NAMES.items()
                     if fam is None or v[0 if fam == 4 else 1] is not None]
            vals = rnd.sample(names, rnd.randint(1, 3))
            if rnd.random() < 0.3:
                vals.append(str(rnd.randint(0, 255)))
            r["icmp"] = vals
        elif kind == "flags":
            fl = rnd.sample(TCP_FLAGS, rnd.randint(1, 3))
            r["flags"] = [("!" + f) if rnd.random() < 0.4 else f for f in fl]
            if rnd.random() < 0.3:
                r["proto"] = "tcp"
            if rnd.random() < 0.3:
                r["dport"] = [rnd.choice(self.ports)]
        elif kind == "proto":
            r["proto"] = rnd.choice(["tcp", "udp", "sctp", "gre", "esp", "ah",
                                     "135", "59", "253", "0", "icmp",
                                     "icmpv6"])
            if r["proto"] in ("icmp", "icmpv6"):
                fam = r["family"] = 4 if r["proto"] == "icmp" else 6
        for k in ("src", "dst"):
            if rnd.random() < (0.6 if kind == "addr" else 0.25):
                r[k] = self.rand_addrs(fam)
                fam = fam or self.addrs_family(r[k])
                r["family"] = r["family"] or fam
        if rnd.random() < 0.05:
            r["iif"] = rnd.choice(["r-in", "r-out"])
        if rnd.random() < 0.05:
            r["oif"] = rnd.choice(["r-in", "r-out"])
        if rnd.random() < 0.05:
            r["hook"] = rnd.choice(["forward", "input", "input,forward"])
        if r["icmp"] and r["family"]:
            # An address may have narrowed the family after the names
            # were drawn: keep the names that family has.
            col = 0 if r["family"] == 4 else 1
            r["icmp"] = [v for v in r["icmp"] if v.isdigit() or
                         ICMP_NAMES[v][col] is not None] or ["0"]
        # Stated "family" keyword only sometimes; otherwise implied.
        r["family_kw"] = r["family"] is not None and (
            rnd.random() < 0.5 or not self.implies_family(r))
        return r

    def implies_family(self, r):
        if r["proto"] in ("icmp", "icmpv6"):
            return True
        return any(r[k] and self.addrs_family(r[k]) for k in ("src", "dst"))

    def rand_addrs(self, fam):
        rnd = self.rnd
        if self.sets and rnd.random() < 0.4:
            ok = [n for n, el in self.sets.items()
                  if fam is None or self.list_family(el) in (None, fam)]
            if ok:
                return "@" + rnd.choice(ok)
        f = fam or rnd.choice([4, 6, 0])
        if f == 0:
            return self.sample_addrs(4) + self.sample_addrs(6)
        return self.sample_addrs(f)

    def list_family(self, el):
        fams = {4 if ":" not in a else 6 for a in el}
        return fams.pop() if len(fams) == 1 else None

    def addrs_family(self, a):
        return self.list_family(self.elements(a))

    def elements(self, a):
        return self.sets[a[1:]] if isinstance(a, str) else a

    # -- ntfw configuration
    def ntfw_conf(self):
        # The kernel reads the whole packet: so must ntfw (the default
        # copy of 512 bytes does not hold the longest extension chains).
        out = ["# policy %d" % self.idx, "default %s" % self.default,
               "copy-range %s" % os.environ.get("DIFF_COPY_RANGE", "65535")]
        for n, el in self.sets.items():
            out.append("set %s { %s }" % (n, ", ".join(el)))
        for r in self.rules:
            w = [r["verdict"], "name", r["name"]]
            if r["family_kw"]:
                w += ["family", "ip" if r["family"] == 4 else "ip6"]
            if r["proto"]:
                w += ["proto", r["proto"]]
            for k in ("src", "dst"):
                if r[k]:
                    w += [k, r[k] if isinstance(r[k], str) else ",".join(r[k])]
            for k in ("sport", "dport"):
                if r[k]:
                    w += [k, ",".join(str(lo) if lo == hi else "%d-%d" % (lo, hi)
                                      for lo, hi in r[k])]
            if r["icmp"]:
                w += ["icmp-type", ",".join(r["icmp"])]
            if r["flags"]:
                w += ["tcp-flags"] + r["flags"]
            for k in ("iif", "oif", "hook"):
                if r[k]:
                    w += [k, r[k]]
            out.append(" ".join(w))
        return "\n".join(out) + "\n"

    # -- nft: each ntfw rule becomes one nft rule per address family it
    # can match (nft has no "or" between ip and ip6 matches).
    def nft_rules(self, r):
        out = []
        for fam in (4, 6):
            if r["family"] and r["family"] != fam:
                continue
            m = ["meta nfproto %s" % ("ipv4" if fam == 4 else "ipv6")]
            proto = r["proto"]
            if r["flags"]:
                proto = "tcp"
            if r["icmp"] and not proto:
                proto = "icmp" if fam == 4 else "icmpv6"
            if proto:
                m.append("meta l4proto %d" % PROTO_NAMES.get(proto, 0)
                         if proto in PROTO_NAMES else
                         "meta l4proto %s" % proto)
            elif r["sport"] or r["dport"]:
                # policy.c: ports exist for TCP and UDP only.
                m.append("meta l4proto { 6, 17 }")
            ok = True
            for k in ("src", "dst"):
                if not r[k]:
                    continue
                el = [a for a in self.elements(r[k])
                      if (":" in a) == (fam == 6)]
                if not el:
                    ok = False
                    break
                m.append("%s %s { %s }" % ("ip" if fam == 4 else "ip6",
                                           "saddr" if k == "src" else "daddr",
                                           ", ".join(merge_prefixes(el))))
            if not ok:
                continue
            for k in ("sport", "dport"):
                if r[k]:
                    m.append("th %s { %s }" % (k, ", ".join(
                        "%d" % lo if lo == hi else "%d-%d" % (lo, hi)
                        for lo, hi in merge_ranges(r[k]))))
            if r["icmp"]:
                types = set()
                for v in r["icmp"]:
                    if v.isdigit():
                        types.add(int(v))
                    elif ICMP_NAMES[v][0 if fam == 4 else 1] is not None:
                        types.add(ICMP_NAMES[v][0 if fam == 4 else 1])
                if not types:
                    continue
                m.append("@th,0,8 { %s }" % ", ".join(map(str, sorted(types))))
            if r["flags"]:
                s = sum(1 << TCP_FLAGS.index(f) for f in r["flags"]
                        if not f.startswith("!"))
                c = sum(1 << TCP_FLAGS.index(f[1:]) for f in r["flags"]
                        if f.startswith("!"))
                m.append("@th,104,8 & 0x%02x == 0x%02x" % (s | c, s))
            if r["iif"]:
                m.append('iifname "%s"' % r["iif"])
            if r["oif"]:
                m.append('oifname "%s"' % r["oif"])
            if r["hook"] and "forward" not in r["hook"]:
                continue  # the routers see these packets in forward only
            out.append(" ".join(m) + " counter " + r["verdict"])
        return out

    def nft_script(self):
        out = ["flush chain inet diff rules",
               "table inet diff {",
               "\tchain rules {",
               "\t\ttype filter hook forward priority 0; policy %s;" %
               self.default]
        for r in self.rules:
            for line in self.nft_rules(r):
                out.append("\t\t" + line + "  # " + r["name"])
        out += ["\t}", "}"]
        return "\n".join(out) + "\n"


def merge_prefixes(el):
    nets = sorted({ipaddress.ip_network(a, strict=False) for a in el},
                  key=lambda n: (n.prefixlen, n))
    keep = []
    for n in nets:
        if not any(n.subnet_of(k) for k in keep):
            keep.append(n)
    return [str(n) for n in sorted(keep)]


def merge_ranges(rs):
    out = []
    for lo, hi in sorted(rs):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


# ----------------------------------------------------------------- packets

class Gen:
    """Random packets for a policy; every packet its own flow: no two
    packets share an (unordered) address pair."""

    def __init__(self, rnd):
        self.rnd = rnd
        self.pairs = set()
        self.gid = 0

    def addr_in(self, pfx):
        n = ipaddress.ip_network(pfx, strict=False)
        host = self.rnd.getrandbits(n.max_prefixlen - n.prefixlen) \
            if n.prefixlen < n.max_prefixlen else 0
        return str(n.network_address + host)

    def addr(self, pol, fam):
        rnd = self.rnd
        pool = pol.pfx4 if fam == 4 else pol.pfx6
        if rnd.random() < 0.6:
            return self.addr_in(rnd.choice(pool))
        return self.addr_in(str(V4_NET if fam == 4 else V6_NET))

    def pair(self, pol, fam):
        for _ in range(200):
            s, d = self.addr(pol, fam), self.addr(pol, fam)
            key = frozenset((s, d))
            if s != d and key not in self.pairs:
                self.pairs.add(key)
                return s, d
        raise RuntimeError("no unused address pair")

    def port(self, pol):
        rnd = self.rnd
        if rnd.random() < 0.6:
            lo, hi = rnd.choice(pol.ports)
            p = rnd.choice([lo, hi, rnd.randint(lo, hi), lo - 1, hi + 1])
            return min(65535, max(0, p))
        return rnd.randint(0, 65535)

    def payload(self):
        n = self.rnd.choice([0, 0, 8, 20, 100])
        return b"" if not n else (b"NTFWDIFF" + struct.pack("!I", self.gid) +
                                  bytes(self.rnd.getrandbits(8)
                                        for _ in range(n - 12)) if n >= 12
                                  else bytes(n))

    def l4(self, pol, fam):
        """(kind, scapy transport layer or raw bytes, ip proto)"""
        rnd = self.rnd
        c = rnd.random()
        if c < 0.28:
            flags = rnd.choice([0x02, 0x12, 0x10, 0x11, 0x04, 0x14, 0x18,
                                0x03, 0x29, 0xc2, 0x00, 0xff,
                                rnd.getrandbits(8)])
            t = TCP(sport=self.port(pol), dport=self.port(pol), flags=flags,
                    seq=rnd.getrandbits(32), ack=rnd.getrandbits(32))
            if rnd.random() < 0.15:
                t.options = [("MSS", 1460), ("WScale", rnd.randint(0, 15)),
                             ("NOP", None)]
            p = t / self.payload()
            r = rnd.random()
            if r < 0.04:
                return "tcp-truncated", raw(p)[:rnd.randint(1, 19)], 6
            if r < 0.07:
                b = bytearray(raw(p))
                b[12] = (rnd.randint(0, 4) << 4) | (b[12] & 0xf)
                return "tcp-bad-doff", bytes(b), 6
            return "tcp", p, 6
        if c < 0.50:
            u = UDP(sport=self.port(pol), dport=self.port(pol))
            pl = self.payload()
            r = rnd.random()
            if r < 0.12:
                u.len = 0
                return "udp-len0", u / pl, 17
            if r < 0.20:
                u.len = 8 + len(pl) + rnd.randint(1, 200)
                return "udp-len-long", u / pl, 17
            if r < 0.26:
                u.len = rnd.randint(1, 7)
                return "udp-len-short", u / pl, 17
            if r < 0.30 and pl:
                u.len = 8 + rnd.randint(0, len(pl) - 1)
                return "udp-len-less", u / pl, 17
            if r < 0.33:
                return "udp-truncated", raw(u / pl)[:rnd.randint(1, 7)], 17
            return "udp", u / pl, 17
        if c < 0.70:
            if fam == 4:
                typ = rnd.choice([0, 3, 4, 5, 8, 9, 10, 11, 12, 13, 14, 17,
                                  rnd.randint(0, 255)])
                ic = ICMP(type=typ, code=rnd.randint(0, 3),
                          id=rnd.getrandbits(16))
                if typ in (3, 4, 5, 11, 12) and rnd.random() < 0.7:
                    return "icmp-error", ic / IP(src="10.213.1.1",
                                                 dst="10.213.2.2") / \
                        UDP(sport=1, dport=2), 1
                return "icmp", ic / self.payload(), 1
            typ = rnd.choice([1, 2, 3, 4, 128, 129, 130, 133, 134, 135, 136,
                              137, 143, rnd.randint(0, 255)])
            body = struct.pack("!BBHHH", typ, rnd.randint(0, 3), 0,
                               rnd.getrandbits(16), 1)
            return "icmpv6", ICMPv6Unknown(body) / self.payload(), 58
        if c < 0.95:
            proto = rnd.choice(["sctp", "gre", "esp", "ah", "mh", "mh",
                                "none", "random"])
            if proto == "sctp":
                return "sctp", SCTP(sport=self.port(pol),
                                    dport=self.port(pol)), 132
            if proto == "gre":
                return "gre", GRE() / self.payload(), 47
            if proto == "esp":
                return "esp", ESP(spi=rnd.getrandbits(32), seq=1) / \
                    bytes(16), 50
            if proto == "ah":
                # IPv4: AH is the transport protocol; IPv6: an extension
                # header before UDP.
                return "ah", AH(nh=17, payloadlen=4, spi=1, seq=1,
                                icv=bytes(12)) / UDP(sport=self.port(pol),
                                                     dport=self.port(pol)), 51
            if proto == "mh":
                # Mobility header: a transport protocol for nft (not an
                # extension header it skips).
                ln = rnd.randint(0, 2)
                return "mh", bytes([59, ln, rnd.randint(0, 8), 0]) + \
                    bytes(4 + 8 * ln), 135
            if proto == "none":
                return "nonext", bytes(rnd.choice([0, 8])), 59
            p = rnd.choice([2, 4, 41, 88, 103, 136, 253, 255] +
                           ([0, 58] if fam == 4 else [1]))
            return "proto-%d" % p, bytes(rnd.choice([0, 4, 16])), p
        return "icmp-truncated" if fam == 4 else "icmpv6-truncated", \
            bytes(rnd.randint(1, 7)), 1 if fam == 4 else 58

    def ext6(self, long_chain):
        """A random IPv6 extension chain: [(type, bytes)]."""
        rnd = self.rnd
        hdrs = []
        n = rnd.randint(17, 20) if long_chain else rnd.randint(1, 4)
        for i in range(n):
            k = rnd.choice(["hbh", "dst", "dst", "rt", "srh", "ah", "frag0"])
            if k == "hbh" and i:
                k = "dst"
            if k in ("hbh", "dst"):
                ln = rnd.choice([0, 0, 1, 6, 50, 120]) if not long_chain else 0
                hdrs.append((k, (IPv6ExtHdrHopByHop if k == "hbh"
                                 else IPv6ExtHdrDestOpt)(options=padn(ln))))
            elif k == "rt":
                hdrs.append((k, IPv6ExtHdrRouting(
                    type=rnd.choice([0, 2, 3]), segleft=0,
                    addresses=["fd00:213:77::1"] * rnd.randint(0, 3))))
            elif k == "srh":
                hdrs.append((k, IPv6ExtHdrSegmentRouting(
                    addresses=["fd00:213:77::2"], segleft=0)))
            elif k == "ah":
                hdrs.append((k, AH(payloadlen=rnd.choice([1, 4, 6]),
                                   spi=1, seq=1)))
            else:
                # An atomic fragment: offset 0, no more fragments.
                hdrs.append((k, IPv6ExtHdrFragment(id=rnd.getrandbits(32),
                                                   m=0, offset=0)))
        out = []
        for k, h in hdrs:
            if k == "ah":
                h.icv = bytes((h.payloadlen + 2) * 4 - 12)
            out.append((EXT_TYPES[k], bytearray(raw(h))))
        return "+".join(k for k, _ in hdrs), out

    def packet(self, pol):
        """One test packet: (kind, [frames]) with the same id in each."""
        rnd = self.rnd
        self.gid += 1
        gid = self.gid
        fam = rnd.choice([4, 6])
        s, d = self.pair(pol, fam)
        kind, l4, proto = self.l4(pol, fam)
        l4b = l4 if isinstance(l4, bytes) else None
        eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:01:01")
        frag = rnd.random()
        if fam == 4:
            ip = IP(src=s, dst=d, id=gid, ttl=64, proto=proto)
            if rnd.random() < 0.15:
                on, ip.options = rnd.choice([
                    ("nop", [IPOption_NOP()] * 4),
                    ("rr", [IPOption_RR(routers=["0.0.0.0"] * 3)]),
                    ("ra", [IPOption_Router_Alert()]),
                    ("ts", [IPOption(b"\x44\x0c\x05\x00" + bytes(8))]),
                    ("long", [IPOption_NOP()] * 32 +
                     [IPOption_RR(routers=["0.0.0.0"])]),
                ])
                kind = "v4opt[%s]/%s" % (on, kind)
            p = ip / (Raw(l4b) if l4b is not None else l4)
            if frag < 0.08 and len(raw(p)) > 60:
                kind = "v4frags/" + kind
                return gid, s, kind, [eth / f for f in fragment(p, 24)]
            if frag < 0.10 and len(raw(p)) > 60:
                kind = "v4firstfrag/" + kind
                f = IP(raw(fragment(p, 24)[0]))
                return gid, s, kind, [eth / f]
            if rnd.random() < 0.01:
                p = IP(raw(p))
                p.chksum ^= 0x5a5a
                kind = "v4badsum/" + kind
            return gid, s, kind, [eth / p]
        ip = IPv6(src=s, dst=d, fl=gid, hlim=64)
        r = rnd.random()
        body = Raw(l4b) if l4b is not None else l4
        if proto == 51 and l4b is None:
            kind = "v6ah/udp"
            proto, body = 17, l4.payload
            ext_kind, chain = "ah", [(51, bytearray(raw(AH(
                payloadlen=4, spi=1, seq=1, icv=bytes(12)))))]
        elif r < 0.35:
            ext_kind, chain = self.ext6(False)
        elif r < 0.38:
            ext_kind, chain = self.ext6(True)
        else:
            ext_kind, chain = "", []
        if len(chain) > 16:
            ext_kind = "long%d" % len(chain)
        if chain:
            kind = "v6ext[%s]/%s" % (ext_kind, kind)
        # The transport header with its checksum, then the chain in
        # front of it, each header's next-header field set by hand.
        l4bytes = raw(IPv6(src=s, dst=d, nh=proto) / body)[40:]
        nxt = proto
        for typ, hb in reversed(chain):
            hb[0] = nxt
            nxt = typ
        ext = b"".join(bytes(hb) for _, hb in chain)
        p = IPv6(raw(IPv6(src=s, dst=d, fl=gid, hlim=64, nh=nxt,
                          plen=len(ext) + len(l4bytes))) + ext + l4bytes)
        if frag < 0.08 and len(raw(p)) > 120:
            q = IPv6(raw(p))
            fh = IPv6ExtHdrFragment(id=rnd.getrandbits(32))
            # Fragment header right after the IPv6 header (the whole
            # extension chain travels in the fragments).
            q2 = IPv6(src=s, dst=d, fl=gid, hlim=64) / fh / q.payload
            q2 = IPv6(fix_frag_nh(q2, q.nh))
            kind = "v6frags/" + kind
            return gid, s, kind, [eth / f for f in fragment6(q2, 96)]
        if frag < 0.10 and len(raw(p)) > 120:
            q = IPv6(raw(p))
            fh = IPv6ExtHdrFragment(id=rnd.getrandbits(32))
            q2 = IPv6(src=s, dst=d, fl=gid, hlim=64) / fh / q.payload
            q2 = IPv6(fix_frag_nh(q2, q.nh))
            kind = "v6firstfrag/" + kind
            return gid, s, kind, [eth / fragment6(q2, 96)[0]]
        if rnd.random() < 0.02:
            # A truncated extension header: the kernel forwards it.
            b = bytearray(raw(p))
            b[6] = 60
            b = bytes(b[:40]) + bytes([17, 4]) + bytes(6)
            b = b[:4] + struct.pack("!H", len(b) - 40) + b[6:]
            p = IPv6(b)
            kind = "v6ext-truncated"
        return gid, s, kind, [eth / p]


def padn(ln):
    """Options filling an options header of (ln + 1) * 8 bytes.  The
    kernel refuses more than 7 bytes of padding in a row in a hop-by-hop
    header, so the room is taken by unknown options that say "skip me"
    (type 0x1e), up to 255 bytes each."""
    if not ln:
        return [PadN(optdata=bytes(4))]
    opts, left = [], 8 * ln + 6
    while left > 257:
        opts.append(HBHOptUnknown(otype=0x1e, optdata=bytes(253)))
        left -= 255
    return opts + [HBHOptUnknown(otype=0x1e, optdata=bytes(left - 2))]


EXT_TYPES = {"hbh": 0, "dst": 60, "rt": 43, "srh": 43, "ah": 51, "frag0": 44}


def fix_frag_nh(p, first_nh):
    b = bytearray(raw(p))
    b[40] = first_nh
    return bytes(b)


# --------------------------------------------------------------------- run

def wait_log(log, regex, count, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        with open(log) as f:
            if len(re.findall(regex, f.read(), re.M)) > count:
                return True
        time.sleep(0.05)
    return False


def log_count(log, regex):
    with open(log) as f:
        return len(re.findall(regex, f.read(), re.M))


def ntfw_signal(pid, log, sig, regex):
    n = log_count(log, regex)
    os.kill(pid, sig)
    if not wait_log(log, regex, n):
        sys.exit("nft_diff: ntfw did not answer signal %d" % sig)


def last_stat(log, line, field):
    v = 0
    with open(log) as f:
        for ln in f:
            if ln.startswith("ntfw: stats: %s " % line):
                m = re.search(r" %s=(\d+)" % field, ln)
                if m:
                    v = int(m.group(1))
    return v


def cmd_run(d):
    seed = int(env("DIFF_SEED"))
    npol = int(env("DIFF_POLICIES"))
    npkt = int(env("DIFF_PACKETS"))
    r1 = env("DIFF_R1")
    pid = int(env("DIFF_NTFW_PID"))
    log = env("DIFF_NTFW_LOG")
    ntfw = env("DIFF_NTFW")
    conffile = env("DIFF_CONF")
    rnd = random.Random(seed)
    gen = Gen(rnd)
    from scapy.all import conf as sconf
    socks = [sconf.L2socket(iface=i) for i in ("s1", "s2")]
    meta = {"seed": seed, "policies": [], "packets": {}}
    per = npkt // npol
    malformed_total = {}
    for k in range(npol):
        pol = Policy(rnd, k)
        cf, nf = pol.ntfw_conf(), pol.nft_script()
        with open(os.path.join(d, "policy-%d.conf" % k), "w") as f:
            f.write(cf)
        with open(os.path.join(d, "policy-%d.nft" % k), "w") as f:
            f.write(nf)
        chk = subprocess.run([ntfw, "-n", "-c",
                              os.path.join(d, "policy-%d.conf" % k)],
                             capture_output=True, text=True)
        if chk.returncode:
            sys.exit("nft_diff: ntfw refuses policy %d:\n%s%s" %
                     (k, cf, chk.stderr))
        r = subprocess.run(["ip", "netns", "exec", r1, "nft", "-f",
                            os.path.join(d, "policy-%d.nft" % k)],
                           capture_output=True, text=True)
        if r.returncode:
            sys.exit("nft_diff: nft refuses policy %d:\n%s%s" %
                     (k, nf, r.stderr))
        with open(conffile, "w") as f:
            f.write(cf)
        n = log_count(log, r"^ntfw: reloaded:")
        os.kill(pid, signal.SIGHUP)
        if not wait_log(log, r"^ntfw: (reloaded:|reload failed)", n) or \
                log_count(log, r"^ntfw: reloaded:") <= n:
            sys.exit("nft_diff: ntfw did not reload policy %d" % k)
        mal0 = last_stat(log, "total", "malformed")
        meta["policies"].append({"conf": cf, "nft": nf})
        for _ in range(per):
            bs = [bytes(1515)]
            while max(map(len, bs)) > 1514:  # the veths' MTU
                gid, src, kind, frames = gen.packet(pol)
                bs = [raw(f) for f in frames]
            meta["packets"][gid] = {"policy": k, "kind": kind, "src": src,
                                    "frames": [b.hex() for b in bs],
                                    "summary": frames[0].summary()}
            for b in bs:
                for s in socks:
                    s.send(b)
        time.sleep(0.3)
        ntfw_signal(pid, log, signal.SIGUSR1, r"^ntfw: stats: malformed")
        meta["policies"][-1]["malformed"] = \
            last_stat(log, "total", "malformed") - mal0
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(meta, f)
    print("nft_diff: seed %d: %d policies, %d packets sent" %
          (seed, npol, len(meta["packets"])))


# ------------------------------------------------------------------- check

def received(pcap):
    """Ids (IPv4 id / IPv6 flow label) and sources of the IP packets in
    pcap."""
    got = {}
    for fr in rdpcap(pcap):
        b = raw(fr)
        if len(b) < 14:
            continue
        et = struct.unpack("!H", b[12:14])[0]
        if et == 0x0800 and len(b) >= 34:
            gid = struct.unpack("!H", b[18:20])[0]
            src = str(ipaddress.IPv4Address(b[26:30]))
        elif et == 0x86dd and len(b) >= 54:
            gid = struct.unpack("!I", b[14:18])[0] & 0xfffff
            src = str(ipaddress.IPv6Address(b[22:38]))
        else:
            continue
        got.setdefault(gid, set()).add(src)
    return got


def offline_verdict(ntfw, conf, frame_hex, d):
    """What ntfw -r says of the packet: its rule and verdict, or the
    reason it is malformed."""
    pc, cf = os.path.join(d, "one.pcap"), os.path.join(d, "one.conf")
    frames = [Ether(bytes.fromhex(h)) for h in frame_hex]
    if len(frames) > 1:
        # The routers reassemble fragments before the forward hook.
        eth = frames[0].copy()
        eth.remove_payload()
        if IP in frames[0]:
            frames = [eth / defragment([f[IP] for f in frames])[0]]
        else:
            frames = [eth / defragment6([f[IPv6] for f in frames])]
    wrpcap(pc, frames)
    with open(cf, "w") as f:
        f.write(conf)
    r = subprocess.run([ntfw, "-r", pc, "-c", cf], capture_output=True,
                       text=True)
    m = re.search(r"malformed .*", r.stderr)
    bad = [w for w in (m.group(0).split()[1:] if m else [])
           if not w.endswith("=0")]
    rec = [json.loads(ln) for ln in r.stdout.splitlines() if ln.startswith("{")]
    if bad:
        return "malformed (%s)" % " ".join(bad)
    if rec:
        return "rule %s: %s" % (rec[0]["rule"], rec[0]["verdict"])
    return "no record"


def cmd_check(d):
    ntfw = env("DIFF_NTFW")
    meta = json.load(open(os.path.join(d, "meta.json")))
    got1, got2 = received(env("DIFF_CAP1")), received(env("DIFF_CAP2"))
    pkts = meta["packets"]
    stats = {"both": 0, "none": 0, "nft-only": 0, "ntfw-only": 0}
    kinds, none_kinds = {}, {}
    bad = []
    for gid, p in pkts.items():
        a1 = p["src"] in got1.get(int(gid), ())
        a2 = p["src"] in got2.get(int(gid), ())
        base = p["kind"]
        if a1 and a2:
            stats["both"] += 1
        elif not a1 and not a2:
            stats["none"] += 1
        else:
            stats["nft-only" if a1 else "ntfw-only"] += 1
            bad.append((gid, p, a1, a2))
            kinds[base] = kinds.get(base, 0) + 1
        none_kinds.setdefault(base, [0, 0])
        none_kinds[base][0] += 1
        none_kinds[base][1] += a1 or a2
    print("nft_diff: seed %d: %d packets: %d forwarded by both, %d by "
          "neither, %d by nft only, %d by ntfw only" %
          (meta["seed"], len(pkts), stats["both"], stats["none"],
           stats["nft-only"], stats["ntfw-only"]))
    mal = sum(p.get("malformed", 0) for p in meta["policies"])
    print("nft_diff: ntfw counted %d packets as malformed" % mal)
    groups = {}
    per = int(os.environ.get("DIFF_SHOW", "1"))
    for gid, p, a1, a2 in bad:
        pol = meta["policies"][p["policy"]]
        ov = offline_verdict(ntfw, pol["conf"], p["frames"], d)
        cls = "malformed" if ov.startswith("malformed") else "parsed"
        g = (cls, generic_kind(p["kind"]), "nft %s / ntfw %s" %
             ("accept" if a1 else "drop", "accept" if a2 else "drop"))
        groups[g] = groups.get(g, 0) + 1
        if groups[g] > per:
            continue
        # The first examples of each kind, in full.
        print("\n--- disagreement: packet %s (%s), policy %d" %
              (gid, p["kind"], p["policy"]))
        print("nft: %s, ntfw: %s; ntfw -r says: %s" %
              ("accept" if a1 else "drop", "accept" if a2 else "drop", ov))
        print("packet: %s" % p["summary"])
        for h in p["frames"]:
            print("hex: %s" % h)
        print("ntfw.conf:\n" + pol["conf"] + "nft:\n" + pol["nft"])
    if os.environ.get("DIFF_VERBOSE"):
        print("\nforwarded / sent, by kind:")
        for k in sorted(none_kinds):
            print("  %-50s %d/%d" % (k, none_kinds[k][1], none_kinds[k][0]))
    # Packets ntfw cannot parse get its malformed verdict, by design; they
    # are listed apart and fail the test only with DIFF_STRICT=1.
    nmal = sum(n for g, n in groups.items() if g[0] == "malformed")
    real = len(bad) - nmal
    for cls, title in (("malformed", "on packets ntfw counts as malformed"),
                       ("parsed", "on packets ntfw parsed")):
        gs = sorted((g for g in groups if g[0] == cls),
                    key=lambda g: (-groups[g], g))
        if gs:
            print("\nnft_diff: %d disagreements %s, by kind:" %
                  (sum(groups[g] for g in gs), title))
        for g in gs:
            print("  %5d  %-45s %s" % (groups[g], g[1], g[2]))
    if real or (nmal and os.environ.get("DIFF_STRICT")):
        print("nft_diff: seed %d (DIFF_SEED=%d reproduces it)" %
              (meta["seed"], meta["seed"]))
        return 1
    # A comparison where nothing passed, or everything did, proves little.
    if stats["both"] < len(pkts) // 5 or stats["none"] < len(pkts) // 5:
        print("nft_diff: too few packets forwarded or dropped to compare")
        return 1
    print("nft_diff: 0 disagreements on parsed packets")
    return 0


def generic_kind(k):
    """A kind without the random parts: v6ext[dst+rt]/udp -> v6ext/udp."""
    k = re.sub(r"\[long\d+\]", "[long]", k)
    k = re.sub(r"\[(?!long)[^]]*\]", lambda m: "[%s]" % "+".join(
        sorted(set(m.group(0)[1:-1].split("+")))), k)
    return k


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("run", "check"):
        sys.exit("usage: nft_diff.py run|check DIR")
    sys.exit(cmd_run(sys.argv[2]) if sys.argv[1] == "run"
             else cmd_check(sys.argv[2]))
