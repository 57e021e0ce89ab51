#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Compare `ntfw -r --format csv` with `tcptrace -l -r -n --csv` on one capture.

Every complete TCP connection of ntfw's (SYN both ways, ended by FIN or
RST) is matched with tcptrace's connection of the same address/port pair
and every field both compute is compared, both directions.  Every
connection tcptrace saw open and close (SYN and FIN both ways) must have
such a record of ntfw's.  Standard library only.

Usage: tcptrace_map.py NAME NTFW_CSV TCPTRACE_CSV [options]
  --min-conns N       at least N complete connections (default 1)
  --require-rexmit    at least one retransmission in the capture
  --allow FILE        allow-list: lines "FIELD WHERE REASON...";
                      a difference in FIELD (a field name as printed, or a
                      glob of them; "connection" for a connection one
                      side has complete and the other has not) where
                      "NAME/CONN" (e.g. "loss.c0.s68/10.213.1.2:4711->
                      10.213.0.1:8080") matches the glob WHERE is printed
                      as ALLOWED with its reason, and not counted
  --full              print every compared value, not only differences

Output: one line per difference, "DIFF|ALLOWED NAME CONN FIELD NTFW TCPTRACE",
and the allow-list entries that allowed nothing ("UNUSED"),
then "NAME: N connections, N values compared, N differ, N allowed, ...".
Exits 1 on a difference that is not allowed or a missing connection.
"""
import csv
import fnmatch
import ipaddress
import sys

# tcptrace's per-direction fields and ntfw's (a = the side tcptrace saw
# first; ntfw's c2s is the side that sent the first SYN).
FIELDS = [
    ("total_packets", "pkts"),
    ("actual_data_pkts", "data_pkts"),
    ("actual_data_bytes", "data_bytes"),
    ("pushed_data_pkts", "pushed"),
    ("SYN/FIN_pkts_sent", ("syn", "fin")),
    ("resets_sent", "rst"),
    ("initial_window_bytes", "init_win_bytes"),
    ("initial_window_pkts", "init_win_pkts"),
    ("min_segm_size", "min_segm"),
    ("max_segm_size", "max_segm"),
    ("avg_segm_size", "avg_segm"),
    ("RTT_samples", "rtt_samples"),
    ("rexmt_data_pkts", "rexmit"),
]


def rows(lines):
    r = list(csv.reader(lines))
    if not r:
        return []
    hdr = [h.strip() for h in r[0]]
    return [dict(zip(hdr, (v.strip() for v in row))) for row in r[1:] if row]


def addr(a):
    return ipaddress.ip_address(a)


def usec(ts):
    s, _, frac = ts.partition(".")
    return int(s) * 1000000 + int((frac + "000000")[:6])


def tt_usec(ts):
    # tcptrace prints seconds "." microseconds without leading zeros
    s, _, us = ts.partition(".")
    return int(s) * 1000000 + int(us)


def load_allow(path):
    allow = []
    if not path:
        return allow
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            field, cond, reason = (line.split(None, 2) + ["", ""])[:3]
            allow.append({"field": field, "cond": cond, "reason": reason})
    return allow


def main(argv):
    args = list(argv[1:])
    opts = {"--min-conns": "1", "--allow": ""}
    flags = set()
    pos = []
    while args:
        a = args.pop(0)
        if a in opts:
            opts[a] = args.pop(0)
        elif a in ("--require-rexmit", "--full"):
            flags.add(a)
        else:
            pos.append(a)
    if len(pos) != 3:
        sys.exit(__doc__)
    name, ntfw_csv, tt_csv = pos
    allow = load_allow(opts["--allow"])
    full = "--full" in flags

    with open(ntfw_csv) as f:
        ntfw = rows([l for l in f if l.strip()])
    with open(tt_csv) as f:
        tt = rows([l for l in f if l.strip() and not l.startswith("#")])

    st = {"bad": 0, "allowed": 0, "compared": 0}
    out = []

    def differs(conn, field, ours, theirs):
        """Count a difference; True if the allow-list has it."""
        where = "%s/%s" % (name, conn)
        hit = [e for e in allow if fnmatch.fnmatchcase(field, e["field"])
               and fnmatch.fnmatchcase(where, e["cond"])]
        if hit:
            st["allowed"] += 1
            hit[0]["used"] = True
            out.append("ALLOWED %s %s %s %s %s (%s)"
                       % (name, conn, field, ours, theirs, hit[0]["reason"]))
            return True
        st["bad"] += 1
        out.append("DIFF    %s %s %s %s %s" % (name, conn, field, ours, theirs))
        return False

    def check(conn, field, ours, theirs, table):
        ok = str(ours) == str(theirs)
        st["compared"] += 1
        mark = ""
        if not ok:
            if differs(conn, field, ours, theirs):
                mark = "   <-- differs (allowed)"
            else:
                mark = "   <-- DIFFERS"
        table.append("  %-24s %16s %16s%s" % (field, ours, theirs, mark))

    conns = rexmit = 0
    matched = set()
    for n in ntfw:
        if n["proto"] != "tcp" or n["midstream"] != "false" or n["end"] not in ("fin", "rst"):
            continue
        if n["syn_c2s"] == "0" or n["syn_s2c"] == "0":
            continue
        c = (addr(n["client_addr"]), int(n["client_port"]))
        s = (addr(n["server_addr"]), int(n["server_port"]))
        conn = "%s:%d->%s:%d" % (c[0], c[1], s[0], s[1])
        m = [i for i, t in enumerate(tt)
             if {(addr(t["host_a"]), int(t["port_a"])),
                 (addr(t["host_b"]), int(t["port_b"]))} == {c, s}]
        if len(m) != 1:
            differs(conn, "connection", "complete", "%d matching" % len(m))
            continue
        matched.add(m[0])
        t = tt[m[0]]
        ab = ("a2b", "b2a") if (addr(t["host_a"]), int(t["port_a"])) == c else ("b2a", "a2b")
        table = []
        check(conn, "server_port", n["server_port"],
              t["port_b"] if ab[0] == "a2b" else t["port_a"], table)
        check(conn, "first_ts", usec(n["first_ts"]), tt_usec(t["first_packet"]), table)
        check(conn, "last_ts", usec(n["last_ts"]), tt_usec(t["last_packet"]), table)
        check(conn, "duration", usec(n["duration"]),
              tt_usec(t["last_packet"]) - tt_usec(t["first_packet"]), table)
        for d, side in (("c2s", ab[0]), ("s2c", ab[1])):
            for tf, nf in FIELDS:
                theirs = t["%s_%s" % (tf, side)]
                if isinstance(nf, tuple):
                    ours = "/".join(n["%s_%s" % (x, d)] for x in nf)
                    check(conn, "syn/fin_" + d, ours, theirs, table)
                else:
                    check(conn, "%s_%s" % (nf, d), n["%s_%s" % (nf, d)], theirs, table)
            rexmit += int(n["rexmit_" + d])
        conns += 1
        if full:
            print("%s: %s (end %s)" % (name, conn, n["end"]))
            print("  %-24s %16s %16s" % ("field", "ntfw", "tcptrace"))
            print("\n".join(table))

    # Connections tcptrace saw whole that ntfw did not report as complete.
    for i, t in enumerate(tt):
        if i in matched:
            continue
        sf = [t.get("SYN/FIN_pkts_sent_" + s, "0/0").split("/") for s in ("a2b", "b2a")]
        if all(x[0] != "0" and x[1] != "0" for x in sf):
            differs("%s:%s->%s:%s" % (t["host_a"], t["port_a"], t["host_b"], t["port_b"]),
                    "connection", "incomplete", "complete")

    for e in allow:
        if not e.get("used") and fnmatch.fnmatchcase(name, e["cond"].split("/")[0]):
            out.append("UNUSED  %s: %s %s" % (name, e["field"], e["cond"]))
    if out:
        print("\n".join(out))
    print("%s: %d connections, %d values compared, %d differ, %d allowed, %d retransmissions"
          % (name, conns, st["compared"], st["bad"], st["allowed"], rexmit))
    if conns < int(opts["--min-conns"]):
        print("FAIL %s: %d complete connections, expected at least %s"
              % (name, conns, opts["--min-conns"]))
        st["bad"] += 1
    if "--require-rexmit" in flags and rexmit == 0:
        print("FAIL %s: no retransmission in the capture" % name)
        st["bad"] += 1
    return 1 if st["bad"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
