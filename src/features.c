// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-flow TCP features (doc/features.md has each field's definition and
 * tcptrace counterpart), in constant time and memory per packet.  Where a
 * feature is one of tcptrace's, the definition is tcptrace 6.6.7's,
 * function by function:
 *
 *   pkts, syn, fin, rst, data_pkts, data_bytes, pushed, min/max segm:
 *	trace.c:dotrace(), "meta connection stats" and "do data stats".
 *	Every packet with payload counts, retransmissions and SYN, FIN or
 *	RST packets included; pushed needs PSH and payload.
 *   rexmit: trace.c:dotrace() "do rexmit stats" and rexmit.c:rexmit(),
 *	addseg(): a packet carrying data, SYN or FIN whose sequence range
 *	overlaps anything sent before counts once (a retransmitted SYN or
 *	FIN too), unless it carries no SYN and the peer's last window was
 *	zero (a window probe).
 *   init_win: trace.c:dotrace() "do stats for initial window": data of
 *	non-retransmitted segments until the peer ACKs something other
 *	than the last SYN + 1; RST packets neither count nor close it.
 *   rtt_samples: rexmit.c:ack_in(), rtt_ackin(): an ACK that ends
 *	exactly a segment not yet acked (an ACK inside a segment acks it
 *	cumulatively), never retransmitted, and with no segment before it
 *	(re)transmitted in a later microsecond.
 *   avg segm: output.c prints (int)(bytes / (pkts + .001)), exported
 *	as the same number in integers.
 *
 * tcptrace keeps every segment in a list (unbounded memory); a direction
 * here keeps NTFW_SEQ_EXT extents of the space not yet acked (see "sequence
 * space" below).  doc/features.md lists where that can differ: more holes
 * or segment sizes than the extents hold, a hole below the peer's ACK,
 * segment times known only as "this microsecond or before", acked
 * segments of the previous 2^30-byte quadrant.  A quirk of tcptrace kept on
 * purpose: an ACK at a multiple of 2^30 gives no sample (ack_in() looks
 * for the segment in the quadrant the ACK starts, and the segment lies in
 * the one before).
 */
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>

#include "features.h"

/* Bytes of a frame, at most, for the wire-length variance. */
#define NTFW_WIRE_MAX (1u << 20)
#include "parse.h"

/* The flow (flow.c) must fit in 576 bytes: 416 of them are ours. */
_Static_assert(sizeof(struct ntfw_features) <= 416,
	       "the features outgrow the flow");
_Static_assert(NTFW_MED_EXACT == 32, "the median layout assumes 32 slots");

/* dstate bits */
#define DS_SEQ 0x01	  /* lo, hi valid: something was sent */
#define DS_ACKED 0x02	  /* acked valid */
#define DS_SYN 0x04	  /* a SYN was sent: lo is the ISN */
#define DS_DATA_ACKED 0x08 /* the peer acked data: initial window closed */
#define DS_WIN_ZERO 0x10  /* last window advertised was zero */
#define DS_MED_HIST 0x20  /* med_ip_bytes is estimated */

/* Every exported feature, in export order (enum ntfw_feature). */
#define FEATURE_NAMES(X) \
	X(pkts_c2s) X(pkts_s2c) \
	X(bytes_c2s) X(bytes_s2c) \
	X(data_pkts_c2s) X(data_pkts_s2c) \
	X(data_bytes_c2s) X(data_bytes_s2c) \
	X(pushed_c2s) X(pushed_s2c) \
	X(syn_c2s) X(syn_s2c) \
	X(fin_c2s) X(fin_s2c) \
	X(rst_c2s) X(rst_s2c) \
	X(init_win_bytes_c2s) X(init_win_bytes_s2c) \
	X(init_win_pkts_c2s) X(init_win_pkts_s2c) \
	X(syn_window_c2s) X(syn_window_s2c) \
	X(min_segm_c2s) X(min_segm_s2c) \
	X(max_segm_c2s) X(max_segm_s2c) \
	X(avg_segm_c2s) X(avg_segm_s2c) \
	X(med_ip_bytes_c2s) X(med_ip_bytes_s2c) \
	X(var_wire_bytes_c2s) X(var_wire_bytes_s2c) \
	X(rtt_samples_c2s) X(rtt_samples_s2c) \
	X(rexmit_c2s) X(rexmit_s2c)

#define NAME(x) #x,
static const char *const names[NTFW_F__MAX] = { FEATURE_NAMES(NAME) };

/* A record's JSON keys, with the comma before them: no strlen() per key. */
struct key {
	const char *s;
	size_t len;
};
#define KEY(x) { ",\"" #x "\":", sizeof(",\"" #x "\":") - 1 },
static const struct key keys[NTFW_F__MAX] = { FEATURE_NAMES(KEY) };
static const struct key exact_keys[2] = {
	KEY(med_ip_bytes_c2s_exact) KEY(med_ip_bytes_s2c_exact)
};

const char *ntfw_feature_name(enum ntfw_feature f)
{
	return (unsigned int)f < NTFW_F__MAX ? names[f] : "unknown";
}

int ntfw_feature_lookup(const char *name, size_t len)
{
	int i;

	for (i = 0; i < NTFW_F__MAX; i++)
		if (strlen(names[i]) == len && !memcmp(names[i], name, len))
			return i;
	return -1;
}

void ntfw_features_init(struct ntfw_features *f)
{
	memset(f, 0, sizeof(*f));
	f->d[0].syn_wscale = f->d[1].syn_wscale = -1;
	/* tcptrace's win_last starts at 0: see the probe test below. */
	f->d[0].dstate = f->d[1].dstate = DS_WIN_ZERO;
}

/* ---- median of the IP length ---- */

/*
 * The flow's 32 slots hold the first IP lengths of both directions
 * exactly: c2s from slot 0 up, s2c from slot 31 down; while a direction is
 * exact, its packet count is its number of values.  When the slots are
 * full, the direction holding more values (at least 16) turns into a
 * histogram in its half of the array and the other keeps up to 16 exact
 * values in the other half.  So a direction is exact for at least its
 * first 16 packets, and for all of them while the flow has at most 32.
 * (32 slots, not 64: the other 64 bytes hold the sequence extents.)
 */
#define MED_HALF (NTFW_MED_EXACT / 2)
#define MED_BUCKETS MED_HALF /* a half holds 16 16-bit counters */

/* Lower bounds of the histogram buckets: fine where packets cluster
 * (bare ACKs, MTU-sized segments), coarse above the MTU (GSO). */
static const uint32_t bucket_lo[MED_BUCKETS + 1] = {
	0, 48, 64, 96, 128, 256, 512, 768, 1024, 1280, 1400, 1460, 1500,
	1501, 4096, 16384, 65536,
};

static bool med_is_exact(const struct ntfw_features *f, int dir)
{
	return !(f->d[dir].dstate & DS_MED_HIST);
}

/* Where the exact values of @dir start, and how many there are. */
static unsigned int med_values(const struct ntfw_features *f, int dir,
			       unsigned int *first)
{
	unsigned int n = (unsigned int)f->d[dir].pkts;

	*first = dir ? NTFW_MED_EXACT - n : 0;
	return n;
}

static uint16_t *med_hist_of(struct ntfw_features *f, int dir)
{
	return f->med + (dir ? MED_HALF : 0);
}

static unsigned int bucket_of(uint32_t v)
{
	unsigned int lo = 0, hi = MED_BUCKETS - 1;

	while (lo < hi) {
		unsigned int mid = (lo + hi + 1) / 2;

		if (v >= bucket_lo[mid])
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

static void hist_add(uint16_t *h, uint32_t v)
{
	unsigned int b = bucket_of(v), i;

	/* Halve on overflow: the proportions, hence the median, survive. */
	if (h[b] == UINT16_MAX)
		for (i = 0; i < MED_BUCKETS; i++)
			h[i] = (uint16_t)((h[i] + 1u) / 2);
	h[b]++;
}

/* Turn the exact values of @dir into a histogram in its half. */
static void med_to_hist(struct ntfw_features *f, int dir)
{
	uint16_t h[MED_BUCKETS] = { 0 };
	unsigned int first, n = med_values(f, dir, &first), i;

	for (i = 0; i < n; i++)
		hist_add(h, f->med[first + i]);
	memcpy(med_hist_of(f, dir), h, sizeof(h));
	f->d[dir].dstate |= DS_MED_HIST;
}

/* Called before the packet is counted in d[dir].pkts. */
static void med_add(struct ntfw_features *f, int dir, uint32_t ip_len)
{
	uint16_t x = ip_len > UINT16_MAX ? UINT16_MAX : (uint16_t)ip_len;
	unsigned int n0, n1, first;

	if (!med_is_exact(f, dir)) {
		hist_add(med_hist_of(f, dir), x);
		return;
	}
	n0 = med_is_exact(f, 0) ? (unsigned int)f->d[0].pkts : MED_HALF;
	n1 = med_is_exact(f, 1) ? (unsigned int)f->d[1].pkts : MED_HALF;
	if (n0 + n1 == NTFW_MED_EXACT) {
		/* Full: the direction with more values (>= 16) gives way. */
		int big = n0 > n1 ? 0 : n1 > n0 ? 1 : dir;

		med_to_hist(f, big);
		if (big == dir) {
			hist_add(med_hist_of(f, dir), x);
			return;
		}
	}
	med_values(f, dir, &first);
	f->med[dir ? first - 1 : (unsigned int)f->d[0].pkts] = x;
}

/* Lower middle value of the exact values of @dir (0 when none). */
static uint32_t med_exact(const struct ntfw_features *f, int dir)
{
	uint16_t s[NTFW_MED_EXACT];
	unsigned int first, n = med_values(f, dir, &first), i, j;

	if (!n)
		return 0;
	memcpy(s, f->med + first, n * sizeof(s[0]));
	for (i = 1; i < n; i++) {
		uint16_t x = s[i];

		for (j = i; j > 0 && s[j - 1] > x; j--)
			s[j] = s[j - 1];
		s[j] = x;
	}
	return s[(n - 1) / 2];
}

/* The same rank in the histogram, interpolated within its bucket. */
static uint32_t med_hist(const struct ntfw_features *f, int dir)
{
	const uint16_t *h = f->med + (dir ? MED_HALF : 0);
	uint64_t total = 0, rank, below = 0;
	unsigned int b;

	for (b = 0; b < MED_BUCKETS; b++)
		total += h[b];
	if (!total)
		return 0;
	rank = (total - 1) / 2;
	for (b = 0;; b++) {
		if (rank < below + h[b]) {
			uint64_t lo = bucket_lo[b], w = bucket_lo[b + 1] - lo;

			return (uint32_t)(lo + w * (2 * (rank - below) + 1) /
					       (2 * h[b]));
		}
		below += h[b];
	}
}

bool ntfw_features_med_exact(const struct ntfw_features *f, int dir)
{
	return med_is_exact(f, dir ? 1 : 0);
}

/* ---- sequence space: retransmissions, RTT samples ---- */

/*
 * What tcptrace keeps as a list of segments (rexmit.c), a direction keeps
 * as up to NTFW_SEQ_EXT extents of the sequence space not yet acked, each
 * of one kind (xz):
 */
#define XZ_HOLE 0	  /* not sent (lost before the capture point) */
#define XZ_ANY 1	  /* sent: every byte may end a segment */
#define XZ_ONE 0xfffe	  /* sent as one segment (of 65534 bytes or more) */
#define XZ_SPOILT 0xffff  /* sent: no ACK in it gives a sample */
/* else: segments of xz bytes from the extent's start, the last shorter */
#define XZ_WORK (NTFW_SEQ_EXT + 8)

/* A working copy of the extents, as offsets from lo: off[n] is hi. */
struct seqmap {
	unsigned int n;
	int64_t off[XZ_WORK + 1];
	uint16_t kind[XZ_WORK];
};

static int32_t seq_off(uint32_t x, uint32_t base)
{
	return (int32_t)(x - base);
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static bool xz_sized(uint16_t k)
{
	return k > XZ_ANY && k < XZ_ONE;
}

/* The kind of an extent holding one segment of @len bytes. */
static uint16_t xz_seg(int64_t len)
{
	return len >= XZ_ONE ? XZ_ONE : (uint16_t)len;
}

static void map_load(const struct ntfw_feat_dir *d, struct seqmap *m)
{
	unsigned int i;

	m->n = d->nx;
	for (i = 0; i < d->nx; i++) {
		m->off[i] = (uint32_t)(d->xs[i] - d->lo);
		m->kind[i] = d->xz[i];
	}
	m->off[m->n] = (uint32_t)(d->hi - d->lo);
}

/* Index of the extent holding offset @x, or -1. */
static int map_find(const struct seqmap *m, int64_t x)
{
	unsigned int i;

	for (i = 0; i < m->n; i++)
		if (x >= m->off[i] && x < m->off[i + 1])
			return (int)i;
	return -1;
}

/* Where the segment holding the byte at @x starts, and where it ends. */
static int64_t seg_start(const struct seqmap *m, int i, int64_t x)
{
	uint16_t k = m->kind[i];

	if (k == XZ_ONE)
		return m->off[i];
	if (xz_sized(k))
		return m->off[i] + (x - m->off[i]) / k * k;
	return x;
}

static int64_t seg_end(const struct seqmap *m, int i, int64_t x)
{
	uint16_t k = m->kind[i];

	if (k == XZ_ONE)
		return m->off[i + 1];
	if (xz_sized(k))
		return min64(m->off[i] + ((x - m->off[i]) / k + 1) * k,
			     m->off[i + 1]);
	return x + 1;
}

/* Make @x an extent boundary (callers split at segment boundaries). */
static void map_split(struct seqmap *m, int64_t x)
{
	int i = map_find(m, x);
	unsigned int j;

	if (i < 0 || m->off[i] == x || m->n == XZ_WORK)
		return;
	for (j = m->n; j > (unsigned int)i; j--) {
		m->off[j + 1] = m->off[j];
		m->kind[j] = m->kind[j - 1];
	}
	m->off[i + 1] = x;
	m->n++;
}

/* Give [@a, @b) kind @k, holes too or (@sent_only) not. */
static void map_paint(struct seqmap *m, int64_t a, int64_t b, uint16_t k,
		      bool sent_only)
{
	unsigned int i;

	if (a >= b)
		return;
	map_split(m, a);
	map_split(m, b);
	for (i = 0; i < m->n; i++)
		if (m->off[i] >= a && m->off[i + 1] <= b &&
		    (!sent_only || m->kind[i] != XZ_HOLE))
			m->kind[i] = k;
}

/* Remove the boundary at off[@i + 1], keeping kind[@i]. */
static void map_join(struct seqmap *m, unsigned int i, uint16_t k)
{
	unsigned int j;

	m->kind[i] = k;
	for (j = i + 1; j < m->n; j++) {
		m->off[j] = m->off[j + 1];
		if (j + 1 < m->n)
			m->kind[j] = m->kind[j + 1];
	}
	m->n--;
}

/*
 * Merge what is alike, then, past NTFW_SEQ_EXT extents, what is not:
 * two neighbouring sent extents become one whose every byte may end a
 * segment (or none, if either gave no samples), and failing that the
 * highest hole is taken as sent.
 */
static void map_tidy(struct seqmap *m)
{
	unsigned int i;

	for (i = 0; i < m->n;) {
		if (m->off[i] >= m->off[i + 1]) {
			/* empty */
			unsigned int j;

			for (j = i; j < m->n; j++) {
				m->off[j] = m->off[j + 1];
				if (j + 1 < m->n)
					m->kind[j] = m->kind[j + 1];
			}
			m->n--;
			continue;
		}
		if (i + 1 < m->n && m->kind[i] == m->kind[i + 1] &&
		    (!xz_sized(m->kind[i]) ||
		     (m->off[i + 1] - m->off[i]) % m->kind[i] == 0) &&
		    m->kind[i] != XZ_ONE) {
			map_join(m, i, m->kind[i]);
			continue;
		}
		i++;
	}
	while (m->n > NTFW_SEQ_EXT) {
		int64_t best = -1;
		unsigned int bi = 0;

		for (i = 0; i + 1 < m->n; i++) {
			int64_t len = m->off[i + 2] - m->off[i];

			if (m->kind[i] == XZ_HOLE || m->kind[i + 1] == XZ_HOLE)
				continue;
			if (best < 0 || len < best) {
				best = len;
				bi = i;
			}
		}
		if (best >= 0) {
			map_join(m, bi,
				 m->kind[bi] == XZ_SPOILT ||
				 m->kind[bi + 1] == XZ_SPOILT ? XZ_SPOILT :
								XZ_ANY);
			continue;
		}
		for (i = m->n; i-- > 0;)
			if (m->kind[i] == XZ_HOLE)
				break;
		m->kind[i] = XZ_SPOILT;
		map_tidy(m);
	}
}

/* Store @m, its extents from offset @base on. */
static void map_store(struct ntfw_feat_dir *d, struct seqmap *m,
		      int64_t base)
{
	unsigned int i, n = 0;

	map_split(m, base);
	for (i = 0; i < m->n && n < NTFW_SEQ_EXT; i++) {
		if (m->off[i] < base)
			continue;
		d->xs[n] = d->lo + (uint32_t)m->off[i];
		d->xz[n++] = m->kind[i];
	}
	d->nx = (uint8_t)n;
	d->hi = d->lo + (uint32_t)m->off[m->n];
}

/* Offset from lo of the first byte not acked. */
static int64_t seq_base(const struct ntfw_feat_dir *d)
{
	if (!(d->dstate & DS_ACKED))
		return 0;
	return max64(seq_off(d->acked, d->lo), 0);
}

/*
 * Segment [@s, @s + @n) is sent (SYN and FIN count one each).  Returns the bytes of it sent before
 * (rexmit.c:rexmit(), addseg()).
 */
static uint32_t seq_sent(struct ntfw_feat_dir *d, uint32_t s, uint32_t n)
{
	struct seqmap m;
	int64_t so, eo, span, base, ov, hs, a, b;
	int64_t pa[NTFW_SEQ_EXT], pb[NTFW_SEQ_EXT];
	unsigned int i, np;
	int j;

	if (!(d->dstate & DS_SEQ)) {
		d->lo = d->hs = d->xs[0] = s;
		d->hi = s + n;
		d->xz[0] = xz_seg(n);
		d->nx = 1;
		d->dstate |= DS_SEQ;
		return 0;
	}
	map_load(d, &m);
	base = seq_base(d);
	span = m.off[m.n];
	so = seq_off(s, d->lo);
	eo = so + n;
	/* bytes sent before: [0, span) less the holes */
	ov = max64(min64(eo, span) - max64(so, 0), 0);
	for (i = 0; i < m.n; i++)
		if (m.kind[i] == XZ_HOLE)
			ov -= max64(min64(eo, m.off[i + 1]) -
				    max64(so, m.off[i]), 0);
	/*
	 * Segments sent before now and ending after @s give no sample: a
	 * later transmission comes before them (rexmit.c:ack_in(),
	 * "intervening xmits"), or they are retransmitted here.  tcptrace
	 * compares microseconds: what was sent in this one (from hs on)
	 * is spoilt only where retransmitted.  What is still in a hole
	 * will be sent later, and a gap filler is new data.
	 */
	if (so < span) {
		a = max64(so, base);
		b = min64(eo, span);
		hs = seq_off(d->hs, d->lo);
		if (hs < 0 || hs > span)
			hs = span;
		b = max64(b, min64(hs, span));
		if (a < b) {
			j = map_find(&m, a);
			if (j >= 0)
				a = seg_start(&m, j, a);
			j = map_find(&m, b - 1);
			if (j >= 0)
				b = seg_end(&m, j, b - 1);
			map_paint(&m, a, b, XZ_SPOILT, true);
		}
	}
	/* new data: the pieces in holes, below lo, above hi */
	for (i = 0, np = 0; i < m.n; i++) {
		if (m.kind[i] != XZ_HOLE)
			continue;
		pa[np] = max64(so, m.off[i]);
		pb[np] = min64(eo, m.off[i + 1]);
		if (pa[np] < pb[np])
			np++;
	}
	for (i = 0; i < np; i++)
		map_paint(&m, pa[i], pb[i], xz_seg(pb[i] - pa[i]), false);
	if (so < 0) {
		int64_t sh = -so;

		for (i = 0; i <= m.n; i++)
			m.off[i] += sh;
		if (!base && m.n + 2 <= XZ_WORK) {
			/* before all: the piece, and a gap up to the old lo */
			unsigned int k = eo < 0 ? 2 : 1;

			for (i = m.n + 1; i-- > 0;)
				m.off[i + k] = m.off[i];
			for (i = m.n; i-- > 0;)
				m.kind[i + k] = m.kind[i];
			m.off[0] = 0;
			m.off[1] = min64(sh, eo + sh);
			m.kind[0] = xz_seg(m.off[1]);
			if (k == 2)
				m.kind[1] = XZ_HOLE;
			m.n += k;
		}
		if (base)
			base += sh;
		d->lo = s;
		so = 0;
		eo += sh;
		span += sh;
	}
	if (eo > span && m.n + 2 <= XZ_WORK) {
		if (so > span) {
			m.kind[m.n++] = XZ_HOLE;
			m.off[m.n] = so;
		}
		m.kind[m.n++] = xz_seg(eo - max64(so, span));
		m.off[m.n] = eo;
	}
	map_tidy(&m);
	/* tcptrace forgets the quadrant opposite to the one in use: keep
	 * the range within 2^30 so that offsets stay meaningful. */
	if (m.off[m.n] > 0x40000000) {
		base = max64(base, m.off[m.n] - 0x40000000);
	}
	map_store(d, &m, base);
	if ((uint32_t)(d->hi - d->lo) > 0x40000000u)
		d->lo = d->hi - 0x40000000u;
	return (uint32_t)(ov > 0 ? ov : 0);
}

/* @d's peer acks @ack (rexmit.c:ack_in()). */
static void seq_acked(struct ntfw_feat_dir *d, uint32_t ack)
{
	struct seqmap m;
	uint32_t cur, adv;
	int64_t a;
	bool end = false;
	int i;

	if (!(d->dstate & DS_SEQ))
		return;
	cur = d->lo + (uint32_t)seq_base(d);
	adv = ack - cur;
	if (!adv || adv > 0x80000000u)
		return; /* acks nothing new */
	d->dstate |= DS_ACKED;
	if (adv > d->hi - cur) {
		/* beyond anything sent: no segment ends there */
		d->acked = d->hi;
		d->nx = 0;
		return;
	}
	map_load(d, &m);
	a = seq_off(ack, d->lo);
	i = map_find(&m, a - 1);
	if (i >= 0) {
		uint16_t k = m.kind[i];

		end = k == XZ_ANY || a == m.off[i + 1] ||
		      (xz_sized(k) && (a - m.off[i]) % k == 0);
		/* Ends a segment that was not acked yet, and that gives
		 * a sample.  A multiple of 2^30 is missed: whichquad()
		 * looks at the quadrant after the segment. */
		if (end && k != XZ_HOLE && k != XZ_SPOILT &&
		    (ack & 0x3fffffffu))
			d->rtt_samples++;
		/* Inside a segment: tcptrace marks it acked, so that the
		 * ACK of its end is a duplicate. */
		if (!end && k != XZ_HOLE)
			map_paint(&m, a, seg_end(&m, i, a - 1), XZ_SPOILT,
				  false);
	}
	d->acked = ack;
	map_tidy(&m);
	map_store(d, &m, a);
}

/* ---- per packet ---- */

void ntfw_features_update(struct ntfw_features *f, const struct ntfw_pkt *p,
			  int dir, uint64_t ts_ns, uint32_t wire_len)
{
	struct ntfw_feat_dir *d = &f->d[dir ? 1 : 0], *o = &f->d[dir ? 0 : 1];
	uint32_t len = p->payload_len, seglen, us;
	uint8_t fl = p->tcp_flags;
	bool tcp, retrans = false;

	us = (uint32_t)(ts_ns / 1000);
	if (us != f->last_us) {
		/* a new microsecond: what was sent so far was sent before */
		f->last_us = us;
		f->d[0].hs = f->d[0].hi;
		f->d[1].hs = f->d[1].hi;
	}
	med_add(f, dir ? 1 : 0, p->ip_len);
	d->pkts++;
	d->bytes += p->ip_len;
	/*
	 * A capture's frame length is whatever its record says (up to
	 * 4 GiB), and its square would wrap the sum of squares into a
	 * variance of 2^64: no frame is longer than a 1 MiB GSO packet, and
	 * the sum stops at its maximum (2^24 such frames) rather than wrap.
	 */
	if (wire_len > NTFW_WIRE_MAX)
		wire_len = NTFW_WIRE_MAX;
	d->wire_sum += wire_len;
	if (__builtin_add_overflow(d->wire_sumsq, (uint64_t)wire_len * wire_len,
				   &d->wire_sumsq))
		d->wire_sumsq = UINT64_MAX;
	if (!(p->flags & NTFW_PKT_L4))
		return; /* a later fragment: no transport header */
	tcp = p->proto == IPPROTO_TCP;
	if (len) {
		d->data_pkts++;
		d->data_bytes += len;
		if (tcp && (fl & NTFW_TCP_PSH))
			d->pushed++;
		if (len > d->max_segm)
			d->max_segm = len;
		if (!d->min_segm || len < d->min_segm)
			d->min_segm = len;
	}
	if (!tcp)
		return;
	if ((fl & NTFW_TCP_SYN) && !d->syn++) {
		d->syn_window = p->tcp_win;
		d->syn_wscale = p->tcp_wscale;
	}
	if (fl & NTFW_TCP_FIN)
		d->fin++;
	if (fl & NTFW_TCP_RST)
		d->rst++;

	seglen = len + !!(fl & NTFW_TCP_SYN) + !!(fl & NTFW_TCP_FIN);
	/* A SYN with another ISN starts the direction's sequence space
	 * again: tcptrace's syn is the last SYN's. */
	if ((fl & NTFW_TCP_SYN) && (d->dstate & DS_SYN) &&
	    p->tcp_seq != d->lo) {
		d->dstate &= (uint8_t)~(DS_SEQ | DS_ACKED | DS_SYN);
		d->nx = 0;
	}
	/* While the peer's last window was zero, tcptrace takes data or a
	 * FIN (not a SYN) for a window probe and keeps it out of its
	 * segment list. */
	if (seglen && ((fl & NTFW_TCP_SYN) ||
		       !((o->dstate & DS_WIN_ZERO) && o->pkts))) {
		if ((fl & NTFW_TCP_SYN) && !(d->dstate & DS_SEQ))
			d->dstate |= DS_SYN;
		if (seq_sent(d, p->tcp_seq, seglen)) {
			retrans = true;
			d->rexmit++;
		}
	}
	if (fl & NTFW_TCP_ACK)
		seq_acked(o, p->tcp_ack);
	if (fl & NTFW_TCP_RST)
		return; /* dotrace() stops here for a RST */

	if (!(fl & (NTFW_TCP_ACK | NTFW_TCP_SYN)) || !p->tcp_win)
		d->dstate |= DS_WIN_ZERO;
	else
		d->dstate &= ~DS_WIN_ZERO;

	/* The peer's initial window closes on the first ACK that is not
	 * for its SYN (tcptrace's syn is 0 when it saw none). */
	if ((fl & NTFW_TCP_ACK) && !(o->dstate & DS_DATA_ACKED) &&
	    p->tcp_ack != ((o->dstate & DS_SYN) ? o->lo : 0) + 1)
		o->dstate |= DS_DATA_ACKED;
	if (len && !(d->dstate & DS_DATA_ACKED) && !retrans) {
		d->init_win_bytes += len;
		d->init_win_pkts++;
	}
}

/* ---- values and export ---- */

static uint64_t variance(const struct ntfw_feat_dir *d)
{
	unsigned __int128 n = d->pkts, s = d->wire_sum, q = d->wire_sumsq;

	if (d->pkts < 2 || n * q < s * s)
		return 0;
	/* population variance, floor: (n * sum(x^2) - sum(x)^2) / n^2 */
	return (uint64_t)((n * q - s * s) / (n * n));
}

/*
 * tcptrace's output.c prints (int)(bytes / (pkts + .001)): that is
 * floor(1000 * bytes / (1000 * pkts + 1)), here in integers.
 */
static uint64_t avg_segm(const struct ntfw_feat_dir *d)
{
	unsigned __int128 b = d->data_bytes;

	return (uint64_t)(b * 1000 / ((unsigned __int128)d->data_pkts * 1000 + 1));
}

static uint32_t median(const struct ntfw_features *f, int dir)
{
	return ntfw_features_med_exact(f, dir) ? med_exact(f, dir) :
						 med_hist(f, dir);
}

uint64_t ntfw_feature_value(const struct ntfw_features *f, enum ntfw_feature id)
{
	int dir = (int)id & 1;
	const struct ntfw_feat_dir *d = &f->d[dir];

	switch ((unsigned int)id & ~1u) {
	case NTFW_F_PKTS_C2S:
		return d->pkts;
	case NTFW_F_BYTES_C2S:
		return d->bytes;
	case NTFW_F_DATA_PKTS_C2S:
		return d->data_pkts;
	case NTFW_F_DATA_BYTES_C2S:
		return d->data_bytes;
	case NTFW_F_PUSHED_C2S:
		return d->pushed;
	case NTFW_F_SYN_C2S:
		return d->syn;
	case NTFW_F_FIN_C2S:
		return d->fin;
	case NTFW_F_RST_C2S:
		return d->rst;
	case NTFW_F_INIT_WIN_BYTES_C2S:
		return d->init_win_bytes;
	case NTFW_F_INIT_WIN_PKTS_C2S:
		return d->init_win_pkts;
	case NTFW_F_SYN_WINDOW_C2S:
		return d->syn_window;
	case NTFW_F_MIN_SEGM_C2S:
		return d->min_segm;
	case NTFW_F_MAX_SEGM_C2S:
		return d->max_segm;
	case NTFW_F_AVG_SEGM_C2S:
		return avg_segm(d);
	case NTFW_F_MED_IP_BYTES_C2S:
		return median(f, dir);
	case NTFW_F_VAR_WIRE_BYTES_C2S:
		return variance(d);
	case NTFW_F_RTT_SAMPLES_C2S:
		return d->rtt_samples;
	case NTFW_F_REXMIT_C2S:
		return d->rexmit;
	}
	return 0;
}

/*
 * Append like snprintf() at offset @n, counting what does not fit.  No
 * printf: a record has some fifty numbers, and formatting them with
 * snprintf was most of the time "ntfw -r" spent.
 */
static int put_mem(char *buf, size_t size, int n, const char *s, size_t len)
{
	size_t off = (size_t)n, k;

	if (off + 1 < size) {
		k = len < size - off - 1 ? len : size - off - 1;
		memcpy(buf + off, s, k);
		buf[off + k] = '\0';
	}
	return n + (int)len;
}

static int put_str(char *buf, size_t size, int n, const char *s)
{
	return put_mem(buf, size, n, s, strlen(s));
}

static int put_num(char *buf, size_t size, int n, uint64_t v)
{
	char num[24], *p = num + sizeof(num);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return put_mem(buf, size, n, p, (size_t)(num + sizeof(num) - p));
}

/* The key @k (JSON) or the separator (CSV) before a value. */
static int put_name(char *buf, size_t size, int n, bool json,
		    const struct key *k)
{
	if (!json)
		return n ? put_mem(buf, size, n, ",", 1) : n;
	/* The first member has no comma before it. */
	return n ? put_mem(buf, size, n, k->s, k->len) :
		   put_mem(buf, size, n, k->s + 1, k->len - 1);
}

static int features_out(const struct ntfw_features *f, char *buf,
			size_t size, bool json)
{
	int n = 0, i, dir;

	if (size)
		buf[0] = '\0';
	for (i = 0; i < NTFW_F__MAX; i++) {
		n = put_name(buf, size, n, json, &keys[i]);
		n = put_num(buf, size, n, ntfw_feature_value(f, i));
		if (i != NTFW_F_MED_IP_BYTES_S2C)
			continue;
		for (dir = 0; dir < 2; dir++) {
			n = put_name(buf, size, n, json, &exact_keys[dir]);
			n = put_str(buf, size, n,
				    med_is_exact(f, dir) ? "true" : "false");
		}
	}
	return n;
}

int ntfw_features_json(const struct ntfw_features *f, char *buf, size_t size)
{
	return features_out(f, buf, size, true);
}

int ntfw_features_csv(const struct ntfw_features *f, char *buf, size_t size)
{
	return features_out(f, buf, size, false);
}

const char *ntfw_features_csv_header(void)
{
	return "pkts_c2s,pkts_s2c,bytes_c2s,bytes_s2c,"
	       "data_pkts_c2s,data_pkts_s2c,data_bytes_c2s,data_bytes_s2c,"
	       "pushed_c2s,pushed_s2c,syn_c2s,syn_s2c,fin_c2s,fin_s2c,"
	       "rst_c2s,rst_s2c,init_win_bytes_c2s,init_win_bytes_s2c,"
	       "init_win_pkts_c2s,init_win_pkts_s2c,"
	       "syn_window_c2s,syn_window_s2c,min_segm_c2s,min_segm_s2c,"
	       "max_segm_c2s,max_segm_s2c,avg_segm_c2s,avg_segm_s2c,"
	       "med_ip_bytes_c2s,med_ip_bytes_s2c,"
	       "med_ip_bytes_c2s_exact,med_ip_bytes_s2c_exact,"
	       "var_wire_bytes_c2s,var_wire_bytes_s2c,"
	       "rtt_samples_c2s,rtt_samples_s2c,rexmit_c2s,rexmit_s2c";
}
