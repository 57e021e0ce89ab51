// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-flow TCP features (FEATURES.md), in constant time and memory per
 * packet.  Where a feature is one of tcptrace's, the definition is
 * tcptrace 6.6.7's, function by function:
 *
 *   pkts, syn, fin, rst, data_pkts, data_bytes, pushed, min/max segm:
 *	trace.c:dotrace(), "meta connection stats" and "do data stats".
 *	Every packet with payload counts, retransmissions and SYN, FIN or
 *	RST packets included; pushed needs PSH and payload.
 *   rexmit: trace.c:dotrace() "do rexmit stats" and rexmit.c:rexmit(),
 *	addseg(): a packet carrying data, SYN or FIN whose sequence range
 *	overlaps anything sent before counts once (a retransmitted SYN or
 *	FIN too), unless the peer's last window was zero (a window probe).
 *   init_win: trace.c:dotrace() "do stats for initial window": data of
 *	non-retransmitted segments until the peer ACKs something other
 *	than our SYN + 1; RST packets neither count nor close it.
 *   rtt_samples: rexmit.c:ack_in(), rtt_ackin(): an ACK that ends
 *	exactly at the end of a segment not yet acked, never retransmitted,
 *	and with no earlier data (re)transmitted after it.
 *   avg segm: output.c prints (int)(bytes / (pkts + .001)); ntfw exports
 *	the plain integer quotient bytes / pkts that FEATURES.md specifies.
 *
 * tcptrace keeps every segment in a list (unbounded memory).  Here a
 * direction keeps the range of sequence space sent less one hole, the
 * highest ACK and NTFW_NOSAMPLE ranges of ACKs that give no sample.  On a
 * capture that sees every packet sent (losses after the capture point),
 * in the order sent or reordered with one gap at a time, this gives
 * tcptrace's answers, with these known differences:
 *   - a second gap while one is open (more reordering, or data tcptrace
 *     took for a window probe and did not record) is taken as sent: data
 *     later sent into it counts as retransmitted, where tcptrace sees new
 *     data;
 *   - more than NTFW_NOSAMPLE ranges without samples are merged, which
 *     can lose samples (never add any);
 *   - tcptrace ignores already acked segments of the previous 2^30-byte
 *     quadrant when looking for transmissions that spoil a sample; ntfw
 *     does not, so a retransmission of acked data just below such a
 *     boundary can cost a sample;
 *   - a retransmission sent in the same microsecond as, but after, the
 *     segment it spoils is taken as later (tcptrace compares times);
 *   - an ACK is taken to end a segment: one in the middle of a segment
 *     (which receivers do not send) counts a sample where tcptrace
 *     counts a cumulative ACK;
 *   - the ISN is the first sequence number of the direction: a SYN
 *     retransmitted with another ISN is not followed.
 * A quirk of tcptrace that ntfw keeps on purpose: an ACK at a multiple of
 * 2^30 gives no sample (ack_in() looks for the segment in the quadrant
 * the ACK starts, and the segment lies in the one before).
 */
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>

#include "features.h"
#include "parse.h"

_Static_assert(sizeof(struct ntfw_features) <= 400,
	       "a flow must fit in 512 bytes");
_Static_assert(NTFW_MED_EXACT == 64, "the median layout assumes 64 slots");

/* dstate bits */
#define DS_SEQ 0x01	  /* lo, hi valid: something was sent */
#define DS_ACKED 0x02	  /* acked valid */
#define DS_SYN 0x04	  /* a SYN was sent: lo is the ISN */
#define DS_DATA_ACKED 0x08 /* the peer acked data: initial window closed */
#define DS_WIN_ZERO 0x10  /* last window advertised was zero */
#define DS_MED_HIST 0x20  /* med_ip_bytes is estimated */

static const char *const names[NTFW_F__MAX] = {
	"pkts_c2s", "pkts_s2c",
	"bytes_c2s", "bytes_s2c",
	"data_pkts_c2s", "data_pkts_s2c",
	"data_bytes_c2s", "data_bytes_s2c",
	"pushed_c2s", "pushed_s2c",
	"syn_c2s", "syn_s2c",
	"fin_c2s", "fin_s2c",
	"rst_c2s", "rst_s2c",
	"init_win_bytes_c2s", "init_win_bytes_s2c",
	"init_win_pkts_c2s", "init_win_pkts_s2c",
	"syn_window_c2s", "syn_window_s2c",
	"min_segm_c2s", "min_segm_s2c",
	"max_segm_c2s", "max_segm_s2c",
	"avg_segm_c2s", "avg_segm_s2c",
	"med_ip_bytes_c2s", "med_ip_bytes_s2c",
	"var_wire_bytes_c2s", "var_wire_bytes_s2c",
	"rtt_samples_c2s", "rtt_samples_s2c",
	"rexmit_c2s", "rexmit_s2c",
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
 * The flow's 64 slots hold the first IP lengths of both directions
 * exactly: c2s from slot 0 up, s2c from slot 63 down; while a direction is
 * exact, its packet count is its number of values.  When the slots are
 * full, the direction holding more values (at least 32) turns into a
 * histogram in its half of the array and the other keeps up to 32 exact
 * values in the other half.  So a direction is exact for at least its
 * first 32 packets, and for all of them while the flow has at most 64.
 */
#define MED_HALF (NTFW_MED_EXACT / 2)
#define MED_BUCKETS MED_HALF /* a half holds 32 16-bit counters */

/* Lower bounds of the histogram buckets: fine where packets cluster
 * (bare ACKs, MTU-sized segments), coarse above the MTU (GSO). */
static const uint32_t bucket_lo[MED_BUCKETS + 1] = {
	0, 48, 56, 64, 80, 96, 128, 160, 192, 256, 320, 384, 448, 512,
	640, 768, 896, 1024, 1152, 1280, 1400, 1460, 1490, 1500, 1501,
	2048, 4096, 8192, 16384, 24576, 32768, 49152, 65536,
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
		/* Full: the direction with more values (>= 32) gives way. */
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

static int32_t seq_off(uint32_t x, uint32_t base)
{
	return (int32_t)(x - base);
}

/* Is @ack inside a range where ACKs give no sample? */
static bool nosample(const struct ntfw_feat_dir *d, uint32_t ack)
{
	unsigned int i;

	for (i = 0; i < NTFW_NOSAMPLE; i++) {
		uint32_t r = d->ns_lo[i], m = d->ns_hi[i];

		if (r != m && ack - r - 1 < m - r)
			return true;
	}
	return false;
}

/*
 * ACKs in (@r, @m] give no sample: a retransmission starting at @r when
 * everything up to @m had been sent (those segments are now either
 * retransmitted or preceded by a later transmission), or the end of a
 * segment that tcptrace would not match.  Ranges are kept disjoint; when
 * there are too many, the two closest are merged.
 */
static void nosample_add(struct ntfw_feat_dir *d, uint32_t r, uint32_t m)
{
	uint32_t base = (d->dstate & DS_ACKED) ? d->acked : d->lo;
	int64_t lo[NTFW_NOSAMPLE + 1], hi[NTFW_NOSAMPLE + 1];
	unsigned int n = 0, i, j;

	for (i = 0; i < NTFW_NOSAMPLE; i++) {
		if (d->ns_lo[i] == d->ns_hi[i])
			continue;
		lo[n] = seq_off(d->ns_lo[i], base);
		hi[n++] = seq_off(d->ns_hi[i], base);
	}
	lo[n] = seq_off(r, base);
	hi[n] = lo[n] + (int64_t)(uint32_t)(m - r);
	n++;
	/* sort by start (n <= 4) */
	for (i = 1; i < n; i++) {
		for (j = i; j > 0 && lo[j - 1] > lo[j]; j--) {
			int64_t t = lo[j];

			lo[j] = lo[j - 1];
			lo[j - 1] = t;
			t = hi[j];
			hi[j] = hi[j - 1];
			hi[j - 1] = t;
		}
	}
	/* merge overlapping or touching ranges */
	for (i = 0, j = 0; i < n; i++) {
		if (j && lo[i] <= hi[j - 1]) {
			if (hi[i] > hi[j - 1])
				hi[j - 1] = hi[i];
			continue;
		}
		lo[j] = lo[i];
		hi[j++] = hi[i];
	}
	n = j;
	if (n > NTFW_NOSAMPLE) {
		unsigned int best = 0;

		for (i = 1; i + 1 < n; i++)
			if (lo[i + 1] - hi[i] < lo[best + 1] - hi[best])
				best = i;
		hi[best] = hi[best + 1];
		for (i = best + 1; i + 1 < n; i++) {
			lo[i] = lo[i + 1];
			hi[i] = hi[i + 1];
		}
		n--;
	}
	for (i = 0; i < NTFW_NOSAMPLE; i++) {
		d->ns_lo[i] = i < n ? base + (uint32_t)lo[i] : 0;
		d->ns_hi[i] = i < n ? base + (uint32_t)hi[i] : 0;
	}
}

/* Forget ranges wholly acked: no later ACK can fall in them. */
static void nosample_prune(struct ntfw_feat_dir *d)
{
	unsigned int i;

	for (i = 0; i < NTFW_NOSAMPLE; i++)
		if (d->ns_lo[i] != d->ns_hi[i] &&
		    seq_off(d->ns_hi[i], d->acked) <= 0)
			d->ns_lo[i] = d->ns_hi[i] = 0;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/*
 * Segment [@s, @s + @n) is sent (SYN and FIN count one each).  Returns
 * the bytes of it sent before (rexmit.c:rexmit(), addseg()).
 *
 * The space sent is [lo, hi) less one hole [hole_lo, hole_hi): segments
 * reordered before the capture point arrive after later ones, and
 * tcptrace takes them for new data filling a gap.  A second gap, or the
 * right part of a hole filled in its middle, is taken as sent.
 */
static uint32_t seq_sent(struct ntfw_feat_dir *d, uint32_t s, uint32_t n)
{
	uint32_t hi0 = d->hi, e = s + n;
	int64_t so, eo, span, ov, h1, h2, hov = 0;

	if (!(d->dstate & DS_SEQ)) {
		d->lo = d->hole_lo = d->hole_hi = s;
		d->hi = e;
		d->dstate |= DS_SEQ;
		return 0;
	}
	span = (uint32_t)(d->hi - d->lo);
	so = seq_off(s, d->lo);
	eo = so + n;
	ov = max64(min64(eo, span) - max64(so, 0), 0);
	h1 = seq_off(d->hole_lo, d->lo);
	h2 = seq_off(d->hole_hi, d->lo);
	if (h1 < h2) {
		hov = max64(min64(eo, h2) - max64(so, h1), 0);
		ov -= hov;
	}
	/*
	 * The ACK of a segment sent before now and ending after @s is
	 * spoilt: a later transmission comes before it (rexmit.c:ack_in(),
	 * "intervening xmits"), or it is this retransmission.  What is
	 * still in the hole will be sent later, and a gap filler is new
	 * data whose own ACK is good.
	 */
	if (ov > 0 && h1 < h2 && so < h1) {
		nosample_add(d, s, d->hole_lo);
		nosample_add(d, d->hole_hi, hi0);
	} else if (ov > 0 && (h1 >= h2 || so >= h2)) {
		nosample_add(d, s, hi0);
	} else if ((ov > 0 || hov > 0) && h2 < span) {
		nosample_add(d, d->hole_hi, hi0);
	}
	if (hov && so <= h1 && eo >= h2)
		d->hole_lo = d->hole_hi = d->lo; /* filled */
	else if (hov && so <= h1)
		d->hole_lo = e; /* filled from the left */
	else if (hov)
		d->hole_hi = s; /* from the right, or split */
	else if (h1 >= h2 && so > span)
		d->hole_lo = d->hi, d->hole_hi = s; /* a gap after all */
	else if (h1 >= h2 && eo < 0)
		d->hole_lo = e, d->hole_hi = d->lo; /* a gap before all */
	if (so < 0)
		d->lo = s;
	if (eo > span)
		d->hi = e;
	/* tcptrace forgets the quadrant opposite to the one in use: keep
	 * the range within 2^30 so that offsets stay meaningful. */
	if ((uint32_t)(d->hi - d->lo) > 0x40000000u) {
		d->lo = d->hi - 0x40000000u;
		if (seq_off(d->hole_lo, d->lo) < 0)
			d->hole_lo = d->hole_hi = d->lo;
	}
	return (uint32_t)(ov > 0 ? ov : 0);
}

/* @d's peer acks @ack (rexmit.c:ack_in()). */
static void seq_acked(struct ntfw_feat_dir *d, uint32_t ack)
{
	uint32_t cur, adv;

	if (!(d->dstate & DS_SEQ))
		return;
	cur = (d->dstate & DS_ACKED) ? d->acked : d->lo;
	adv = ack - cur;
	if (!adv || adv > 0x80000000u)
		return; /* acks nothing new */
	d->dstate |= DS_ACKED;
	if (adv > d->hi - cur) {
		/* beyond anything sent: no segment ends there */
		d->acked = d->hi;
	} else {
		/* Ends a segment that was not acked yet.  A multiple of
		 * 2^30 is missed: whichquad() looks at the quadrant after
		 * the segment. */
		if (!nosample(d, ack) && (ack & 0x3fffffffu) &&
		    ack - d->hole_lo - 1 >= d->hole_hi - d->hole_lo)
			d->rtt_samples++;
		d->acked = ack;
	}
	nosample_prune(d);
}

/* ---- per packet ---- */

void ntfw_features_update(struct ntfw_features *f, const struct ntfw_pkt *p,
			  int dir, uint64_t ts_ns, uint32_t wire_len)
{
	struct ntfw_feat_dir *d = &f->d[dir ? 1 : 0], *o = &f->d[dir ? 0 : 1];
	uint32_t len = p->payload_len, seglen;
	uint8_t fl = p->tcp_flags;
	bool tcp, retrans = false;

	med_add(f, dir ? 1 : 0, p->ip_len);
	d->pkts++;
	d->bytes += p->ip_len;
	d->wire_sum += wire_len;
	d->wire_sumsq += (uint64_t)wire_len * wire_len;
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
	/* While the peer's last window was zero, tcptrace takes data for
	 * a window probe and keeps it out of its segment list. */
	if (seglen && !((o->dstate & DS_WIN_ZERO) && o->pkts)) {
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

	if (d->pkts < 2)
		return 0;
	/* population variance, floor: (n * sum(x^2) - sum(x)^2) / n^2 */
	return (uint64_t)((n * q - s * s) / (n * n));
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
		return d->data_pkts ? d->data_bytes / d->data_pkts : 0;
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
static int put_str(char *buf, size_t size, int n, const char *s)
{
	size_t len = strlen(s), off = (size_t)n, k;

	if (off + 1 < size) {
		k = len < size - off - 1 ? len : size - off - 1;
		memcpy(buf + off, s, k);
		buf[off + k] = '\0';
	}
	return n + (int)len;
}

static int put_num(char *buf, size_t size, int n, uint64_t v)
{
	char num[24], *p = num + sizeof(num) - 1;

	*p = '\0';
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return put_str(buf, size, n, p);
}

static int put_name(char *buf, size_t size, int n, bool json,
		    const char *name, const char *suffix)
{
	if (!json)
		return n ? put_str(buf, size, n, ",") : n;
	n = put_str(buf, size, n, n ? ",\"" : "\"");
	n = put_str(buf, size, n, name);
	n = put_str(buf, size, n, suffix);
	return put_str(buf, size, n, "\":");
}

static int features_out(const struct ntfw_features *f, char *buf,
			size_t size, bool json)
{
	int n = 0, i, dir;

	if (size)
		buf[0] = '\0';
	for (i = 0; i < NTFW_F__MAX; i++) {
		n = put_name(buf, size, n, json, names[i], "");
		n = put_num(buf, size, n, ntfw_feature_value(f, i));
		if (i != NTFW_F_MED_IP_BYTES_S2C)
			continue;
		for (dir = 0; dir < 2; dir++) {
			n = put_name(buf, size, n, json,
				     names[NTFW_F_MED_IP_BYTES_C2S + dir],
				     "_exact");
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
