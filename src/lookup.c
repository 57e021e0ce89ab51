// SPDX-License-Identifier: GPL-2.0-only
/*
 * Lookup structures built when a configuration is loaded, so that the cost
 * of a packet does not grow with the size of the policy:
 *
 * - address lists and sets as sorted disjoint intervals (binary search:
 *   a 1,000,000-prefix blocklist costs about 20 comparisons);
 * - port lists as sorted merged intervals;
 * - the rule index, which hands the evaluator only the rules that could
 *   match a packet, in config order.
 *
 * The rule index.  Two dimensions are indexed, in the manner of the bit
 * vector classifiers (nftables' pipapo sets do the same per field):
 *
 *   family x protocol: a bitmap of rules per (family, protocol class).
 *   Protocols that some rule names get a class each; every other protocol
 *   shares class 0.  A rule sets its bit in each class it could match: one
 *   class with "proto", all of them without; one family or both.
 *
 *   destination port: the ports 0-65535 cut into elementary intervals at
 *   every rule's range boundaries; each interval lists the "dport" rules
 *   that cover it (in rule order).  A rule whose ranges cover more than
 *   PORT_LIST_CAP intervals, like every rule without "dport", goes into the
 *   bitmap of port wildcards instead, so memory stays linear in the rules.
 *
 * A packet's candidates are (its family/protocol bitmap AND the wildcard
 * bitmap) merged in order with its port interval's list (each entry kept
 * only when its family/protocol bit is set).  A packet whose transport
 * fields are not known (later fragment, header not copied) or that has no
 * ports gets no port filtering beyond what no "dport" rule could match.
 * Each bitmap has a summary, one bit per non-zero word, so that long runs of
 * rules that cannot match cost a bit each per 64 words, not a word each.
 *
 * The index only narrows: every candidate is confirmed by ntfw_rule_match,
 * and fields the index does not look at (addresses, interfaces, hooks,
 * state) are left to it.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "lookup.h"
#include "parse.h"
#include "policy.h"

/* ---- addresses ---- */

static uint32_t rd32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

static uint64_t rd64(const uint8_t *b)
{
	return (uint64_t)rd32(b) << 32 | rd32(b + 4);
}

struct iv4 {
	uint32_t lo, hi;
};

struct iv6 {
	struct ntfw_u128 lo, hi;
};

static int u128_cmp(const struct ntfw_u128 *a, const struct ntfw_u128 *b)
{
	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	return 0;
}

static int iv4_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct iv4 *)a)->lo, y = ((const struct iv4 *)b)->lo;

	return x < y ? -1 : x > y;
}

static int iv6_cmp(const void *a, const void *b)
{
	return u128_cmp(&((const struct iv6 *)a)->lo,
			&((const struct iv6 *)b)->lo);
}

/*
 * Sort by start: a radix sort, 11 bits a pass, when there are many (a
 * blocklist loads in linear time); nothing when they came sorted.
 */
static int sort4(struct iv4 *v, unsigned int n)
{
	unsigned int i, pass, sum, c;
	unsigned int *cnt;
	struct iv4 *tmp, *from = v, *to;

	for (i = 1; i < n && v[i - 1].lo <= v[i].lo; i++)
		;
	if (i >= n)
		return 0;
	if (n < 256) {
		qsort(v, n, sizeof(*v), iv4_cmp);
		return 0;
	}
	tmp = malloc(n * sizeof(*tmp));
	cnt = malloc(2048 * sizeof(*cnt));
	if (!tmp || !cnt) {
		free(tmp);
		free(cnt);
		return -1;
	}
	to = tmp;
	for (pass = 0; pass < 3; pass++) {
		unsigned int shift = pass * 11;
		struct iv4 *x;

		memset(cnt, 0, 2048 * sizeof(*cnt));
		for (i = 0; i < n; i++)
			cnt[(from[i].lo >> shift) & 2047]++;
		for (i = 0, sum = 0; i < 2048; i++) {
			c = cnt[i];
			cnt[i] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			to[cnt[(from[i].lo >> shift) & 2047]++] = from[i];
		x = from;
		from = to;
		to = x;
	}
	/* Three passes: the sorted copy is in tmp. */
	memcpy(v, from, n * sizeof(*v));
	free(tmp);
	free(cnt);
	return 0;
}

/* Sort by start and merge what overlaps or touches; returns the count. */
static int merge4(struct iv4 *v, unsigned int *np)
{
	unsigned int i, k = 0, n = *np;

	if (!n)
		return 0;
	if (sort4(v, n))
		return -1;
	for (i = 1; i < n; i++) {
		if (v[k].hi == UINT32_MAX || v[i].lo <= v[k].hi + 1) {
			if (v[i].hi > v[k].hi)
				v[k].hi = v[i].hi;
		} else {
			v[++k] = v[i];
		}
	}
	*np = k + 1;
	return 0;
}

static unsigned int merge6(struct iv6 *v, unsigned int n)
{
	unsigned int i, k = 0;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), iv6_cmp);
	for (i = 1; i < n; i++) {
		struct ntfw_u128 next = v[k].hi;

		/* next = hi + 1, unless hi is the last address. */
		if (++next.lo == 0)
			next.hi++;
		if ((next.hi == 0 && next.lo == 0) ||
		    u128_cmp(&v[i].lo, &next) <= 0) {
			if (u128_cmp(&v[i].hi, &v[k].hi) > 0)
				v[k].hi = v[i].hi;
		} else {
			v[++k] = v[i];
		}
	}
	return k + 1;
}

/* IPv4 intervals from which a list gets its /16 table (256 KB). */
#define BLK_MIN 4096

struct ntfw_addr_ranges *ntfw_addr_ranges_build(const struct ntfw_prefix *v,
						unsigned int n)
{
	struct ntfw_addr_ranges *r = calloc(1, sizeof(*r));
	struct iv4 *a4 = NULL;
	struct iv6 *a6 = NULL;
	unsigned int i, n4 = 0, n6 = 0;

	if (!r)
		return NULL;
	for (i = 0; i < n; i++) {
		if (v[i].family == 4)
			n4++;
		else if (v[i].family == 6)
			n6++;
	}
	a4 = malloc((n4 ? n4 : 1) * sizeof(*a4));
	a6 = malloc((n6 ? n6 : 1) * sizeof(*a6));
	if (!a4 || !a6)
		goto fail;
	n4 = n6 = 0;
	for (i = 0; i < n; i++) {
		const struct ntfw_prefix *pf = &v[i];

		if (pf->family == 4) {
			uint32_t m = pf->len ? UINT32_MAX << (32 - pf->len) : 0;

			a4[n4].lo = rd32(pf->addr) & m;
			a4[n4++].hi = (rd32(pf->addr) & m) | ~m;
		} else if (pf->family == 6) {
			uint64_t mh, ml;
			struct iv6 *x = &a6[n6++];

			if (pf->len <= 64) {
				mh = pf->len ? UINT64_MAX << (64 - pf->len) : 0;
				ml = 0;
			} else {
				mh = UINT64_MAX;
				ml = UINT64_MAX << (128 - pf->len);
			}
			x->lo.hi = rd64(pf->addr) & mh;
			x->lo.lo = rd64(pf->addr + 8) & ml;
			x->hi.hi = x->lo.hi | ~mh;
			x->hi.lo = x->lo.lo | ~ml;
		}
	}
	if (merge4(a4, &n4))
		goto fail;
	n6 = merge6(a6, n6);
	/* Starts and ends apart: the search reads only the starts. */
	r->lo4 = malloc((n4 ? n4 : 1) * 2 * sizeof(uint32_t));
	r->lo6 = malloc((n6 ? n6 : 1) * 2 * sizeof(struct ntfw_u128));
	if (!r->lo4 || !r->lo6)
		goto fail;
	r->hi4 = r->lo4 + n4;
	r->hi6 = r->lo6 + n6;
	for (i = 0; i < n4; i++) {
		r->lo4[i] = a4[i].lo;
		r->hi4[i] = a4[i].hi;
	}
	for (i = 0; i < n6; i++) {
		r->lo6[i] = a6[i].lo;
		r->hi6[i] = a6[i].hi;
	}
	r->n4 = n4;
	r->n6 = n6;
	if (n4 >= BLK_MIN) {
		unsigned int b, k = 0;

		r->blk = malloc(65537 * sizeof(*r->blk));
		if (!r->blk)
			goto fail;
		for (b = 0; b < 65536; b++) {
			while (k < n4 && r->lo4[k] >> 16 < b)
				k++;
			r->blk[b] = k;
		}
		r->blk[65536] = n4;
	}
	free(a4);
	free(a6);
	return r;
fail:
	free(a4);
	free(a6);
	ntfw_addr_ranges_free(r);
	return NULL;
}

void ntfw_addr_ranges_free(struct ntfw_addr_ranges *r)
{
	if (!r)
		return;
	free(r->lo4);
	free(r->lo6);
	free(r->blk);
	free(r);
}

bool ntfw_addr_ranges_has(const struct ntfw_addr_ranges *r, uint8_t family,
			  const uint8_t *addr)
{
	unsigned int lo = 0, hi, mid;

	if (family == 4) {
		uint32_t x = rd32(addr);

		hi = r->n4;
		if (r->blk) {
			lo = r->blk[x >> 16];
			hi = r->blk[(x >> 16) + 1];
			/* None starts in this /16 at or below x: the last one
			 * before it may still reach x. */
		}
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (r->lo4[mid] <= x)
				lo = mid + 1;
			else
				hi = mid;
		}
		return lo && x <= r->hi4[lo - 1];
	}
	if (family == 6) {
		struct ntfw_u128 x = { rd64(addr), rd64(addr + 8) };

		hi = r->n6;
		while (lo < hi) {
			mid = lo + (hi - lo) / 2;
			if (u128_cmp(&r->lo6[mid], &x) <= 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		return lo && u128_cmp(&x, &r->hi6[lo - 1]) <= 0;
	}
	return false;
}

/* ---- ports ---- */

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

unsigned int ntfw_port_ranges_merge(const uint16_t *lohi, unsigned int n,
				    uint32_t *m)
{
	unsigned int i, k = 0;

	if (!n)
		return 0;
	for (i = 0; i < n; i++)
		m[i] = (uint32_t)lohi[2 * i] << 16 | lohi[2 * i + 1];
	qsort(m, n, sizeof(*m), u32_cmp);
	for (i = 1; i < n; i++) {
		uint32_t khi = m[k] & 0xffff, lo = m[i] >> 16, ihi = m[i] & 0xffff;

		if (lo <= khi + 1) {
			if (ihi > khi)
				m[k] = (m[k] & 0xffff0000u) | ihi;
		} else {
			m[++k] = m[i];
		}
	}
	return k + 1;
}

bool ntfw_port_ranges_has(const uint32_t *m, unsigned int n, uint16_t port)
{
	uint32_t key = (uint32_t)port << 16 | 0xffff;
	unsigned int lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (m[mid] <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo && (m[lo - 1] & 0xffff) >= port;
}

/* ---- the rule index ---- */

/* Port intervals one rule may be listed in before it counts as a port
 * wildcard: bounds the lists at PORT_LIST_CAP entries per rule. */
#define PORT_LIST_CAP 16

struct ntfw_rule_index {
	unsigned int nrules, nwords, nsum;
	unsigned int nclass;
	uint8_t pclass[256];	/* protocol -> class; 0: no rule names it */
	uint64_t *fp, *fps;	/* [family][class] bitmaps, summaries */
	uint64_t *wild, *wilds;	/* rules any port could match */
	uint16_t *bound;	/* interval k starts at bound[k] */
	unsigned int nbound;
	uint32_t *off;		/* interval k's rules: list[off[k] .. off[k+1]) */
	uint32_t *list;
};

static void bit_set(uint64_t *map, unsigned int b)
{
	map[b / 64] |= 1ull << (b % 64);
}

static void summarise(const uint64_t *map, unsigned int nwords, uint64_t *sum)
{
	unsigned int w;

	for (w = 0; w < nwords; w++)
		if (map[w])
			bit_set(sum, w);
}

/* The interval that holds @port. */
static unsigned int port_interval(const struct ntfw_rule_index *ix,
				  uint16_t port)
{
	unsigned int lo = 0, hi = ix->nbound, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (ix->bound[mid] <= port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo - 1; /* bound[0] is 0 */
}

static bool port_listed(const struct ntfw_rule *r)
{
	return (r->have & NTFW_M_DPORT) && r->dport.m && r->dport.nm;
}

/* Cut 0-65535 at every listed rule's range boundaries. */
static int build_bounds(struct ntfw_rule_index *ix,
			const struct ntfw_rule *rules, unsigned int n)
{
	unsigned int i, j, k, cnt = 1;
	uint32_t *tmp;

	for (i = 0; i < n; i++)
		if (port_listed(&rules[i]))
			cnt += 2 * rules[i].dport.nm;
	tmp = malloc(cnt * sizeof(*tmp));
	if (!tmp)
		return -1;
	cnt = 0;
	tmp[cnt++] = 0;
	for (i = 0; i < n; i++) {
		if (!port_listed(&rules[i]))
			continue;
		for (j = 0; j < rules[i].dport.nm; j++) {
			uint32_t m = rules[i].dport.m[j];

			tmp[cnt++] = m >> 16;
			if ((m & 0xffff) < 0xffff)
				tmp[cnt++] = (m & 0xffff) + 1;
		}
	}
	qsort(tmp, cnt, sizeof(*tmp), u32_cmp);
	ix->bound = malloc(cnt * sizeof(*ix->bound));
	if (!ix->bound) {
		free(tmp);
		return -1;
	}
	for (i = 0, k = 0; i < cnt; i++)
		if (!k || tmp[i] != ix->bound[k - 1])
			ix->bound[k++] = (uint16_t)tmp[i];
	ix->nbound = k;
	free(tmp);
	return 0;
}

/* How many intervals @r's ports cover. */
static unsigned int covered(const struct ntfw_rule_index *ix,
			    const struct ntfw_rule *r)
{
	unsigned int j, c = 0;

	for (j = 0; j < r->dport.nm; j++)
		c += port_interval(ix, (uint16_t)(r->dport.m[j] & 0xffff)) -
		     port_interval(ix, (uint16_t)(r->dport.m[j] >> 16)) + 1;
	return c;
}

static int build_ports(struct ntfw_rule_index *ix,
		       const struct ntfw_rule *rules, unsigned int n)
{
	unsigned int i, j, k, last, total = 0;
	uint32_t *fill;

	if (build_bounds(ix, rules, n))
		return -1;
	ix->off = calloc(ix->nbound + 1, sizeof(*ix->off));
	ix->wild = calloc(ix->nwords ? ix->nwords : 1, sizeof(uint64_t));
	ix->wilds = calloc(ix->nsum ? ix->nsum : 1, sizeof(uint64_t));
	if (!ix->off || !ix->wild || !ix->wilds)
		return -1;
	/* Count, then fill in rule order: each list comes out sorted. */
	for (i = 0; i < n; i++) {
		const struct ntfw_rule *r = &rules[i];

		if (!port_listed(r) || covered(ix, r) > PORT_LIST_CAP) {
			bit_set(ix->wild, i);
			continue;
		}
		for (j = 0; j < r->dport.nm; j++) {
			last = port_interval(ix, (uint16_t)(r->dport.m[j] & 0xffff));
			for (k = port_interval(ix, (uint16_t)(r->dport.m[j] >> 16));
			     k <= last; k++) {
				ix->off[k + 1]++;
				total++;
			}
		}
	}
	summarise(ix->wild, ix->nwords, ix->wilds);
	for (k = 0; k < ix->nbound; k++)
		ix->off[k + 1] += ix->off[k];
	ix->list = malloc((total ? total : 1) * sizeof(*ix->list));
	fill = malloc((ix->nbound ? ix->nbound : 1) * sizeof(*fill));
	if (!ix->list || !fill) {
		free(fill);
		return -1;
	}
	memcpy(fill, ix->off, ix->nbound * sizeof(*fill));
	for (i = 0; i < n; i++) {
		const struct ntfw_rule *r = &rules[i];

		if (ix->wild[i / 64] & (1ull << (i % 64)))
			continue;
		for (j = 0; j < r->dport.nm; j++) {
			last = port_interval(ix, (uint16_t)(r->dport.m[j] & 0xffff));
			for (k = port_interval(ix, (uint16_t)(r->dport.m[j] >> 16));
			     k <= last; k++)
				ix->list[fill[k]++] = i;
		}
	}
	free(fill);
	return 0;
}

static uint64_t *fp_map(const struct ntfw_rule_index *ix, unsigned int fam6,
			unsigned int cls)
{
	return ix->fp + ((size_t)fam6 * ix->nclass + cls) * ix->nwords;
}

static uint64_t *fp_sum(const struct ntfw_rule_index *ix, unsigned int fam6,
			unsigned int cls)
{
	return ix->fps + ((size_t)fam6 * ix->nclass + cls) * ix->nsum;
}

struct ntfw_rule_index *ntfw_rule_index_build(const struct ntfw_rule *rules,
					      unsigned int n)
{
	struct ntfw_rule_index *ix = calloc(1, sizeof(*ix));
	unsigned int i, f, c;

	if (!ix)
		return NULL;
	ix->nrules = n;
	ix->nwords = (n + 63) / 64;
	ix->nsum = (ix->nwords + 63) / 64;
	for (i = 0; i < n; i++) {
		const struct ntfw_rule *r = &rules[i];

		if ((r->have & NTFW_M_PROTO) && !ix->pclass[r->proto])
			ix->pclass[r->proto] = (uint8_t)++ix->nclass;
	}
	ix->nclass++;
	ix->fp = calloc((size_t)2 * ix->nclass * ix->nwords + 1, sizeof(uint64_t));
	ix->fps = calloc((size_t)2 * ix->nclass * ix->nsum + 1, sizeof(uint64_t));
	if (!ix->fp || !ix->fps)
		goto fail;
	for (i = 0; i < n; i++) {
		const struct ntfw_rule *r = &rules[i];

		for (f = 0; f < 2; f++) {
			if (r->family && r->family != (f ? 6 : 4))
				continue;
			if (r->have & NTFW_M_PROTO) {
				bit_set(fp_map(ix, f, ix->pclass[r->proto]), i);
				continue;
			}
			for (c = 0; c < ix->nclass; c++)
				bit_set(fp_map(ix, f, c), i);
		}
	}
	for (f = 0; f < 2; f++)
		for (c = 0; c < ix->nclass; c++)
			summarise(fp_map(ix, f, c), ix->nwords, fp_sum(ix, f, c));
	if (build_ports(ix, rules, n))
		goto fail;
	return ix;
fail:
	ntfw_rule_index_free(ix);
	return NULL;
}

void ntfw_rule_index_free(struct ntfw_rule_index *ix)
{
	if (!ix)
		return;
	free(ix->fp);
	free(ix->fps);
	free(ix->wild);
	free(ix->wilds);
	free(ix->bound);
	free(ix->off);
	free(ix->list);
	free(ix);
}

/* The first bit at or after @from set in both bitmaps. */
static uint32_t next_bit(const struct ntfw_cand *c, uint32_t from)
{
	unsigned int w = from / 64, sw;
	uint64_t m, s;

	if (w >= c->nwords)
		return UINT32_MAX;
	m = c->a[w] & c->b[w] & (UINT64_MAX << (from % 64));
	while (!m) {
		/* The next word that is non-zero in both summaries. */
		if (++w >= c->nwords)
			return UINT32_MAX;
		sw = w / 64;
		s = c->as[sw] & c->bs[sw] & (UINT64_MAX << (w % 64));
		while (!s) {
			if (++sw * 64 >= c->nwords)
				return UINT32_MAX;
			s = c->as[sw] & c->bs[sw];
		}
		w = sw * 64 + (unsigned int)__builtin_ctzll(s);
		m = c->a[w] & c->b[w];
	}
	return w * 64 + (unsigned int)__builtin_ctzll(m);
}

/* The next listed port rule whose family/protocol bit is set. */
static uint32_t next_listed(struct ntfw_cand *c)
{
	while (c->l < c->lend) {
		uint32_t i = *c->l++;

		if (c->a[i / 64] & (1ull << (i % 64)))
			return i;
	}
	return UINT32_MAX;
}

bool ntfw_rule_index_start(const struct ntfw_rule_index *ix,
			   const struct ntfw_pkt *p, struct ntfw_cand *c)
{
	unsigned int f, cls, k;

	/* A protocol cut off by the copy range: any protocol's rules may
	 * match (a linear walk; such packets are rare). */
	if (!ix || (p->family != 4 && p->family != 6) ||
	    (p->flags & NTFW_PKT_PROTO_UNKNOWN))
		return false;
	f = p->family == 6;
	cls = ix->pclass[p->proto];
	c->a = fp_map(ix, f, cls);
	c->as = fp_sum(ix, f, cls);
	c->nwords = ix->nwords;
	c->l = c->lend = NULL;
	if (!(p->flags & NTFW_PKT_L4) || (p->flags & NTFW_PKT_L4_UNKNOWN)) {
		/* Transport fields unknown: whatever the port rules say. */
		c->b = c->a;
		c->bs = c->as;
	} else {
		c->b = ix->wild;
		c->bs = ix->wilds;
		if (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP) {
			k = port_interval(ix, p->dport);
			c->l = ix->list + ix->off[k];
			c->lend = ix->list + ix->off[k + 1];
		}
	}
	c->nb = next_bit(c, 0);
	c->nl = next_listed(c);
	return true;
}

uint32_t ntfw_cand_next(struct ntfw_cand *c)
{
	uint32_t i;

	if (c->nb < c->nl) {
		i = c->nb;
		c->nb = next_bit(c, i + 1);
	} else {
		i = c->nl;
		if (i == UINT32_MAX)
			return i;
		if (c->nb == i)
			c->nb = next_bit(c, i + 1);
		c->nl = next_listed(c);
	}
	return i;
}
