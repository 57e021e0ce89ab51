#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# "kmod": the daemon and the kernel ring at startup, on a ring laid out
# as kmod/ntfw_ring.h says in a file (kmod-ring): a missing ring stops
# "kmod on" and not "kmod auto", a ring of another version is refused,
# and records written into a good ring are read, their slots given back
# and counted (a record of no known flow: unknown-flow).
. "$(dirname "$0")/../lib.sh"
need_root
need_cmd ip python3
ns_new N

# mkring PATH VERSION: a header page and 64 records of 96 bytes.
mkring() {
	python3 - "$1" "$2" <<'P'
import mmap, struct, sys
page = mmap.PAGESIZE
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<5I", 0x6e746677, int(sys.argv[2]), 96, 64, page))
    f.truncate(page + 64 * 96)
P
}

# putrec PATH N: N records of a UDP flow nobody has, as the module writes
# them (record, then prod), and the dropped counter set to 3.
putrec() {
	python3 - "$1" "$2" <<'P'
import struct, sys
page, n = __import__("mmap").PAGESIZE, int(sys.argv[2])
with open(sys.argv[1], "r+b") as f:
    f.seek(64); prod = struct.unpack("<Q", f.read(8))[0]
    for i in range(n):
        a = bytes([10, 213, 0, 2]) + bytes(12)
        b = bytes([10, 213, 0, 1]) + bytes(12)
        rec = struct.pack("<Q16s16s7I4H8BIHH", 0, a, b, 128, 142, 100, 0, 0,
                          1, 0, 5555, 9999, 0, 1, 4, 17, 0, 0, 0x03, 0xff,
                          0, 0, 0x40000000, 0, 0) + bytes(4)
        assert len(rec) == 96  # 92 bytes of fields, 4 of tail padding
        f.seek(page + ((prod + i) % 64) * 96); f.write(rec)
    f.seek(192); f.write(struct.pack("<Q", 3))
    f.seek(64); f.write(struct.pack("<Q", prod + n))
P
}
cons() { python3 -c "import struct,sys; f=open(sys.argv[1],'rb'); f.seek(128); print(struct.unpack('<Q', f.read(8))[0])" "$1"; }

# kmod on, no ring: a startup error that says why.
printf 'queue 0\nkmod on\nkmod-ring %s\n' "$T_TMP/none" >"$T_TMP/on.conf"
out=$(ip netns exec "$N" "$NTFW" -d -c "$T_TMP/on.conf" 2>&1) &&
	fail "kmod on started without a ring: $out"
grep -q "kmod on: cannot use the ring: $T_TMP/none: No such file" <<<"$out" ||
	fail "no clear message: $out"
info "ok: kmod on without a ring: $(grep kmod <<<"$out")"

# A ring of another version: refused by "on", warned about by "auto".
mkring "$T_TMP/v2" 2
printf 'queue 0\nkmod on\nkmod-ring %s\n' "$T_TMP/v2" >"$T_TMP/v2on.conf"
out=$(ip netns exec "$N" "$NTFW" -d -c "$T_TMP/v2on.conf" 2>&1) &&
	fail "kmod on took a version 2 ring: $out"
grep -q "ring version 2 with 96-byte records, this ntfw reads version 1" <<<"$out" ||
	fail "no clear message: $out"
info "ok: kmod on refuses version 2"
printf 'queue 0\nkmod-ring %s\n' "$T_TMP/v2" >"$T_TMP/v2auto.conf"
ntfw_start "$N" "$T_TMP/v2auto.conf"
grep -q "kmod auto: not using the ring: .*ring version 2" "$NTFW_LOG" ||
	fail "no warning: $(cat "$NTFW_LOG")"
ntfw_stats
# auto goes on to the eBPF feed where the kernel takes it (bpf_feed.sh):
# then the records are its, else there are none.
if grep -q '^ntfw: fastpath feed: bpf' "$NTFW_LOG"; then
	info "the eBPF feed took over from the refused ring"
else
	grep -q "stats: ring " "$NTFW_LOG" && fail "a ring line without a ring"
fi
ntfw_stop
info "ok: kmod auto warns and runs without it"

# A good ring: read, given back, counted.
mkring "$T_TMP/ring" 1
printf 'queue 0\nkmod on\nkmod-ring %s\n' "$T_TMP/ring" >"$T_TMP/good.conf"
ntfw_start "$N" "$T_TMP/good.conf"
grep -q "kmod ring: $T_TMP/ring, 64 records" "$NTFW_LOG" ||
	fail "no ring line: $(cat "$NTFW_LOG")"
putrec "$T_TMP/ring" 5
wait_for 5 test "$(cons "$T_TMP/ring")" = 5 ||
	fail "the records' slots were not given back: cons $(cons "$T_TMP/ring")"
sleep 0.2
ntfw_stats
assert_eq "ring records read" 5 "$(stat_field ring read)"
assert_eq "records of no known flow" 5 "$(stat_field ring unknown-flow)"
assert_eq "records applied" 0 "$(stat_field ring applied)"
assert_eq "records the kernel dropped" 3 "$(stat_field ring kernel-dropped)"
ntfw_stop
