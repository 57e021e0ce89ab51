// SPDX-License-Identifier: GPL-2.0-only
/*
 * Flow table.  A fixed pool, allocated once: however many flows the network
 * tries to open, memory stays at the bound and the oldest idle flow makes
 * room.  Each flow sits on the LRU list of its timeout class, most recently
 * seen last, so expiry and eviction only ever look at list heads.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <netinet/in.h>

#include "flow.h"
#include "parse.h"

/* Nine cache lines: the features, TCP window tracking, the state. */
_Static_assert(sizeof(struct ntfw_flow) <= 576, "a flow must fit in 576 bytes");

static const char *const end_names[] = {
	[NTFW_END_NONE] = "none", [NTFW_END_FIN] = "fin",
	[NTFW_END_RST] = "rst",	  [NTFW_END_TIMEOUT] = "timeout",
	[NTFW_END_EVICTED] = "evicted", [NTFW_END_EOF] = "eof",
	[NTFW_END_REOPENED] = "reopened",
};

const char *ntfw_flow_end_name(enum ntfw_flow_end e)
{
	return e <= NTFW_END_REOPENED ? end_names[e] : "unknown";
}

int ntfw_flow_table_init(struct ntfw_flow_table *t, uint32_t max,
			 const struct ntfw_flow_timeouts *to,
			 ntfw_flow_end_cb on_end, void *arg)
{
	uint32_t i;

	memset(t, 0, sizeof(*t));
	if (max < 1)
		max = 1;
	t->nbuckets = 1;
	while (t->nbuckets < max && t->nbuckets < (1u << 31))
		t->nbuckets <<= 1;
	/*
	 * Nothing here is written: calloc'd memory this large comes as fresh
	 * zero pages, which cost nothing until a flow uses them.  Buckets
	 * hold the complement of a flow's index, so that zero is the empty
	 * chain; the pool is handed out below a high-water mark, and only
	 * flows that ended go through the free list.
	 */
	t->pool = calloc(max, sizeof(*t->pool));
	t->bucket = calloc(t->nbuckets, sizeof(*t->bucket));
	if (!t->pool || !t->bucket) {
		ntfw_flow_table_free(t);
		return -ENOMEM;
	}
	t->free_head = NTFW_FLOW_NONE;
	t->hwm = 0;
	t->max = max;
	for (i = 0; i < NTFW_TC_MAX; i++)
		t->head[i] = t->tail[i] = NTFW_FLOW_NONE;
	ntfw_flow_set_timeouts(t, to);
	/* A secret seed: remote hosts cannot aim at one hash chain. */
	if (getrandom(&t->seed, sizeof(t->seed), GRND_NONBLOCK) != sizeof(t->seed))
		t->seed = (uint64_t)(uintptr_t)t ^ 0x9e3779b97f4a7c15ull;
	t->on_end = on_end;
	t->cb_arg = arg;
	return 0;
}

void ntfw_flow_table_free(struct ntfw_flow_table *t)
{
	free(t->pool);
	free(t->bucket);
	t->pool = NULL;
	t->bucket = NULL;
}

void ntfw_flow_set_timeouts(struct ntfw_flow_table *t,
			    const struct ntfw_flow_timeouts *to)
{
	unsigned int c;

	/* A list stays in order of last packet whatever its timeout. */
	for (c = 0; c < NTFW_TC_MAX; c++)
		t->timeout_ns[c] = (uint64_t)to->sec[c] * 1000000000ull;
	t->expire_at = 0; /* look at every list next time */
}

void ntfw_flow_renumber_rules(struct ntfw_flow_table *t, const uint16_t *map,
			      unsigned int n)
{
	unsigned int c;
	uint32_t i;

	/* The lists hold every flow in use, and only those. */
	for (c = 0; c < NTFW_TC_MAX; c++)
		for (i = t->head[c]; i != NTFW_FLOW_NONE; i = t->pool[i].next)
			if (t->pool[i].rule < n)
				t->pool[i].rule = map[t->pool[i].rule];
}

void ntfw_flow_redecide(struct ntfw_flow_table *t, bool keep,
			const uint16_t *map, unsigned int n, uint16_t gone)
{
	unsigned int c;
	uint32_t i;

	for (c = 0; c < NTFW_TC_MAX; c++) {
		for (i = t->head[c]; i != NTFW_FLOW_NONE; i = t->pool[i].next) {
			struct ntfw_flow *f = &t->pool[i];

			if (!keep)
				f->decided = 0;
			else if (f->base < n) /* a rule gone maps past @gone */
				f->base = map[f->base] < gone ? map[f->base] : gone;
		}
	}
}

void ntfw_flow_renumber_fps(struct ntfw_flow_table *t,
			    const int8_t map[NTFW_FLOW_FPS_MAX])
{
	uint32_t i, old, bits;
	unsigned int c, n;

	for (c = 0; c < NTFW_TC_MAX; c++) {
		for (i = t->head[c]; i != NTFW_FLOW_NONE; i = t->pool[i].next) {
			old = t->pool[i].fps_over;
			for (bits = 0; old; old &= old - 1) {
				n = (unsigned int)__builtin_ctz(old);
				if (map[n] >= 0)
					bits |= 1u << map[n];
			}
			t->pool[i].fps_over = bits;
		}
	}
}

/* ---- hashing: symmetric, so both directions land in one bucket ---- */

/* A 64x64 multiply folded to 64 bits (as in wyhash): one instruction's
 * worth of mixing that every input bit reaches. */
static inline uint64_t mum(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t load64(const uint8_t *a)
{
	uint64_t w;

	memcpy(&w, a, sizeof(w));
	return w;
}

static inline bool addr_eq(const uint8_t *a, const uint8_t *b)
{
	return load64(a) == load64(b) && load64(a + 8) == load64(b + 8);
}

static uint32_t flow_hash(const struct ntfw_flow_table *t, uint8_t proto,
			  const uint8_t *a1, uint16_t p1, const uint8_t *a2,
			  uint16_t p2)
{
	uint64_t x0 = load64(a1), x1 = load64(a1 + 8);
	uint64_t y0 = load64(a2), y1 = load64(a2 + 8);
	uint64_t s = t->seed, tmp, h;
	uint16_t tp;

	/* Order the two ends so that either direction hashes alike. */
	if (x0 > y0 || (x0 == y0 && (x1 > y1 || (x1 == y1 && p1 > p2)))) {
		tmp = x0, x0 = y0, y0 = tmp;
		tmp = x1, x1 = y1, y1 = tmp;
		tp = p1, p1 = p2, p2 = tp;
	}
	/* Three independent products keyed by the secret seed, then one
	 * more so that every bit of each reaches the bucket's bits. */
	h = mum(x0 ^ s, y0 ^ (s * 0x9e3779b97f4a7c15ull)) ^
	    mum(x1 ^ 0xa0761d6478bd642full ^ s, y1 ^ 0xe7037ed1a0b428dbull) ^
	    mum(((uint64_t)proto << 32 | (uint64_t)p1 << 16 | p2) ^
		    0x8ebc6af09c88c6e3ull, s ^ 0x589965cc75374cc3ull);
	h = mum(h ^ 0x1d8e4e27c47d124full, s | 1);
	return (uint32_t)h & (t->nbuckets - 1);
}

static uint32_t hash_of(const struct ntfw_flow_table *t,
			const struct ntfw_flow *f)
{
	return flow_hash(t, f->proto, f->caddr, f->cport, f->saddr, f->sport);
}

/* Buckets hold ~index: calloc's zeroes are empty chains (NTFW_FLOW_NONE). */
static inline uint32_t bucket_get(const struct ntfw_flow_table *t, uint32_t h)
{
	return ~t->bucket[h];
}

static inline void bucket_set(struct ntfw_flow_table *t, uint32_t h,
			      uint32_t i)
{
	t->bucket[h] = ~i;
}

/* ---- lists ---- */

/*
 * Only the head of a list can time out (ntfw_flow_expire() looks no
 * further), so expire_at stays at or below the deadline of every head:
 * lowered whenever a flow becomes a head, raised only by a walk of the
 * lists.  Until then the walk would find nothing, and is skipped.
 */
static inline void new_head(struct ntfw_flow_table *t, uint32_t i, uint8_t c)
{
	uint64_t at = t->pool[i].last_ns + t->timeout_ns[c];

	if (at < t->expire_at)
		t->expire_at = at;
}

static void lru_unlink(struct ntfw_flow_table *t, uint32_t i)
{
	struct ntfw_flow *f = &t->pool[i];

	if (f->prev != NTFW_FLOW_NONE) {
		t->pool[f->prev].next = f->next;
	} else {
		t->head[f->tclass] = f->next;
		if (f->next != NTFW_FLOW_NONE)
			new_head(t, f->next, f->tclass);
	}
	if (f->next != NTFW_FLOW_NONE)
		t->pool[f->next].prev = f->prev;
	else
		t->tail[f->tclass] = f->prev;
}

static void lru_append(struct ntfw_flow_table *t, uint32_t i)
{
	struct ntfw_flow *f = &t->pool[i];

	f->next = NTFW_FLOW_NONE;
	f->prev = t->tail[f->tclass];
	if (f->prev != NTFW_FLOW_NONE) {
		t->pool[f->prev].next = i;
	} else {
		t->head[f->tclass] = i;
		new_head(t, i, f->tclass);
	}
	t->tail[f->tclass] = i;
}

static void hash_unlink(struct ntfw_flow_table *t, uint32_t i)
{
	uint32_t h = hash_of(t, &t->pool[i]), j = bucket_get(t, h);

	if (j == i) {
		bucket_set(t, h, t->pool[i].hnext);
		return;
	}
	while (j != NTFW_FLOW_NONE && t->pool[j].hnext != i)
		j = t->pool[j].hnext;
	if (j != NTFW_FLOW_NONE)
		t->pool[j].hnext = t->pool[i].hnext;
}

/* Write the record (through the callback) and return the flow to the pool. */
static void flow_end(struct ntfw_flow_table *t, uint32_t i,
		     enum ntfw_flow_end why)
{
	struct ntfw_flow *f = &t->pool[i];

	if (f->end == NTFW_END_NONE)
		f->end = (uint8_t)why;
	if (t->on_end)
		t->on_end(f, t->cb_arg);
	t->ended++;
	hash_unlink(t, i);
	lru_unlink(t, i);
	f->next = t->free_head;
	t->free_head = i;
	t->used--;
}

bool ntfw_flow_expire(struct ntfw_flow_table *t, uint64_t now_ns,
		      unsigned int max)
{
	uint64_t at = UINT64_MAX;
	unsigned int n = 0;
	int c;

	if (now_ns < t->expire_at)
		return false;
	/* Each class in turn, the longest idle first: the budget is the
	 * caller's, so that packets are served between two calls. */
	for (c = 0; c < NTFW_TC_MAX; c++) {
		while (t->head[c] != NTFW_FLOW_NONE) {
			uint32_t i = t->head[c];

			if (t->pool[i].last_ns + t->timeout_ns[c] > now_ns)
				break;
			if (n == max) {
				/* More are due: the next call walks again. */
				t->expire_at = 0;
				return true;
			}
			t->expired++;
			flow_end(t, i, NTFW_END_TIMEOUT);
			n++;
		}
	}
	/* The next walk is due at the earliest deadline of a head. */
	for (c = 0; c < NTFW_TC_MAX; c++)
		if (t->head[c] != NTFW_FLOW_NONE &&
		    t->pool[t->head[c]].last_ns + t->timeout_ns[c] < at)
			at = t->pool[t->head[c]].last_ns + t->timeout_ns[c];
	t->expire_at = at;
	return false;
}

void ntfw_flow_flush(struct ntfw_flow_table *t, enum ntfw_flow_end why)
{
	int c;

	for (c = 0; c < NTFW_TC_MAX; c++)
		while (t->head[c] != NTFW_FLOW_NONE)
			flow_end(t, t->head[c], why);
}

/*
 * The table is full: end a dropped flow if there is one (an attacker's
 * flood of dropped packets must not push out accepted connections),
 * otherwise the flow idle for longest, whatever its class.
 */
static void evict_oldest(struct ntfw_flow_table *t)
{
	uint32_t victim = t->head[NTFW_TC_DROPPED];
	int c;

	if (victim == NTFW_FLOW_NONE) {
		for (c = 0; c < NTFW_TC_MAX; c++) {
			uint32_t i = t->head[c];

			if (i != NTFW_FLOW_NONE &&
			    (victim == NTFW_FLOW_NONE ||
			     t->pool[i].last_ns < t->pool[victim].last_ns))
				victim = i;
		}
	}
	t->evicted++;
	flow_end(t, victim, NTFW_END_EVICTED);
}

void ntfw_flow_foreach(struct ntfw_flow_table *t,
		       void (*cb)(struct ntfw_flow *f, void *arg), void *arg)
{
	unsigned int c;
	uint32_t i;

	/* The lists hold every flow in use, and only those. */
	for (c = 0; c < NTFW_TC_MAX; c++)
		for (i = t->head[c]; i != NTFW_FLOW_NONE; i = t->pool[i].next)
			cb(&t->pool[i], arg);
}

void ntfw_flow_end_now(struct ntfw_flow_table *t, struct ntfw_flow *f,
		       enum ntfw_flow_end why)
{
	flow_end(t, (uint32_t)(f - t->pool), why);
}

/* Placed after tclass_of() below. */
static uint8_t tclass_of(uint8_t proto);

void ntfw_flow_set_verdict(struct ntfw_flow_table *t, struct ntfw_flow *f,
			   bool dropped)
{
	uint32_t i = (uint32_t)(f - t->pool);
	uint8_t c = f->tclass;

	if (c == NTFW_TC_CLOSED)
		return;
	c = dropped ? NTFW_TC_DROPPED : tclass_of(f->proto);
	if (c == f->tclass)
		return;
	lru_unlink(t, i);
	f->tclass = c;
	lru_append(t, i);
}

/* ---- lookup and creation ---- */

static uint32_t flow_find(struct ntfw_flow_table *t, uint8_t family,
			  uint8_t proto, const uint8_t *src, uint16_t sport,
			  const uint8_t *dst, uint16_t dport, int *dir)
{
	uint32_t h = flow_hash(t, proto, src, sport, dst, dport);
	uint32_t i;

	for (i = bucket_get(t, h); i != NTFW_FLOW_NONE; i = t->pool[i].hnext) {
		const struct ntfw_flow *f = &t->pool[i];

		if (f->proto != proto || f->family != family)
			continue;
		if (f->cport == sport && f->sport == dport &&
		    addr_eq(f->caddr, src) && addr_eq(f->saddr, dst)) {
			*dir = 0;
			return i;
		}
		if (f->cport == dport && f->sport == sport &&
		    addr_eq(f->caddr, dst) && addr_eq(f->saddr, src)) {
			*dir = 1;
			return i;
		}
	}
	return NTFW_FLOW_NONE;
}

struct ntfw_flow *ntfw_flow_lookup(struct ntfw_flow_table *t, uint8_t family,
				   uint8_t proto, const uint8_t *src,
				   uint16_t sport, const uint8_t *dst,
				   uint16_t dport, int *dir)
{
	uint32_t i = flow_find(t, family, proto, src, sport, dst, dport, dir);

	return i == NTFW_FLOW_NONE ? NULL : &t->pool[i];
}

static uint8_t tclass_of(uint8_t proto)
{
	if (proto == IPPROTO_TCP)
		return NTFW_TC_TCP;
	if (proto == IPPROTO_UDP)
		return NTFW_TC_UDP;
	return NTFW_TC_OTHER;
}

/*
 * Who is the client: the sender of a TCP SYN, of an ICMP echo request, of
 * the first UDP datagram.  A TCP flow seen mid-stream takes the lower port
 * as the server's (well-known ports are low), and is marked so.
 */
static int sender_is_client(const struct ntfw_pkt *p, uint8_t *state)
{
	if (p->proto == IPPROTO_TCP) {
		if ((p->tcp_flags & (NTFW_TCP_SYN | NTFW_TCP_ACK)) == NTFW_TCP_SYN)
			return 1;
		*state |= NTFW_FS_MIDSTREAM;
		if (p->sport != p->dport)
			return p->sport > p->dport;
		return 1;
	}
	if (p->proto == IPPROTO_ICMP && p->icmp_type == 0)
		return 0; /* an echo reply: the receiver asked */
	if (p->proto == IPPROTO_ICMPV6 && p->icmp_type == 129)
		return 0;
	return 1;
}

static uint32_t flow_new(struct ntfw_flow_table *t, const struct ntfw_pkt *p,
			 uint64_t now_ns, int *dir)
{
	struct ntfw_flow *f;
	uint8_t state = 0;
	uint32_t h, i;

	/* Reuse an ended flow's slot; else take the next never used one,
	 * so the pool's untouched tail stays untouched; else evict. */
	if (t->free_head == NTFW_FLOW_NONE) {
		if (t->hwm < t->max)
			t->free_head = t->hwm++;
		else
			evict_oldest(t); /* onto the free list */
		t->pool[t->free_head].next = NTFW_FLOW_NONE;
	}
	i = t->free_head;
	f = &t->pool[i];
	t->free_head = f->next;
	memset(f, 0, sizeof(*f));
	f->family = p->family;
	f->proto = p->proto;
	f->tclass = tclass_of(p->proto);
	f->rule = UINT16_MAX;
	if (sender_is_client(p, &state)) {
		memcpy(f->caddr, p->src, 16);
		memcpy(f->saddr, p->dst, 16);
		f->cport = p->sport;
		f->sport = p->dport;
		*dir = 0;
	} else {
		memcpy(f->caddr, p->dst, 16);
		memcpy(f->saddr, p->src, 16);
		f->cport = p->dport;
		f->sport = p->sport;
		*dir = 1;
	}
	f->state = state;
	f->first_ns = now_ns;
	ntfw_features_init(&f->feat);
	h = hash_of(t, f);
	f->hnext = bucket_get(t, h);
	bucket_set(t, h, i);
	lru_append(t, i);
	t->used++;
	t->created++;
	return i;
}

/* ---- TCP: the sequence space, as conntrack and pf follow it ---- */

static inline bool before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

static inline bool after(uint32_t a, uint32_t b)
{
	return before(b, a);
}

/* The largest window scale RFC 7323 allows. */
#define TCP_MAX_WSCALE 14
/* How far below the receiver's end an ACK may lag while nothing says how
 * large the sender's window is (conntrack's MAXACKWINDOW). */
#define TCP_MAXACKWIN_DEFAULT 66000u

/*
 * The TCP part of a flow, worked on as a copy: a packet that turns out
 * invalid must leave the flow exactly as it was.
 */
struct tcp_track {
	struct ntfw_tcp_peer tcp[2];
	uint8_t tdir[2];
	uint8_t state;
};

enum tcp_res {
	TCP_VALID,
	TCP_INVALID,
	TCP_REOPEN,	/* a SYN that TCP takes for a new connection */
};

/* Sequence space a segment takes: its payload, and one each for SYN, FIN. */
static uint32_t seg_end(const struct ntfw_pkt *p)
{
	return p->tcp_seq + p->payload_len + !!(p->tcp_flags & NTFW_TCP_SYN) +
	       !!(p->tcp_flags & NTFW_TCP_FIN);
}

/* RFC 7323: windows are scaled only when both SYNs carried the option. */
static unsigned int wscale(const struct tcp_track *tt, int dir)
{
	if (!(tt->tdir[0] & tt->tdir[1] & NTFW_TD_WSOPT))
		return 0;
	return tt->tdir[dir] & NTFW_TD_SCALE;
}

/* A direction's SYN: its ISN, its first window (never scaled), its
 * window scale option. */
static void syn_init(struct tcp_track *tt, const struct ntfw_pkt *p, int dir)
{
	struct ntfw_tcp_peer *s = &tt->tcp[dir];

	s->end = s->maxend = seg_end(p);
	s->maxwin = p->tcp_win ? p->tcp_win : 1;
	s->maxack = 0;
	tt->tdir[dir] = 0;
	/* An option the copy range cut off may be there: take the largest
	 * scale (liberal windows), never none (windows too small). */
	if (p->tcp_wscale == NTFW_WSCALE_UNKNOWN)
		tt->tdir[dir] = NTFW_TD_WSOPT | TCP_MAX_WSCALE;
	else if (p->tcp_wscale >= 0)
		tt->tdir[dir] = NTFW_TD_WSOPT |
				(p->tcp_wscale > TCP_MAX_WSCALE ? TCP_MAX_WSCALE :
								  p->tcp_wscale);
	tt->state |= dir ? NTFW_FS_SYN_S : NTFW_FS_SYN_C;
}

/* A direction first seen after its SYN: its history is lost, so take what
 * the packet says, and make the peer's end its ACK until the peer speaks. */
static void midstream_init(struct tcp_track *tt, const struct ntfw_pkt *p,
			   int dir)
{
	struct ntfw_tcp_peer *s = &tt->tcp[dir], *r = &tt->tcp[!dir];
	uint32_t swin = (uint32_t)p->tcp_win << wscale(tt, dir);

	s->end = seg_end(p);
	s->maxwin = swin ? swin : 1;
	/* What the peer has in flight unacked fitted in this side's
	 * window, whatever its scale. */
	if (r->maxwin && before(p->tcp_ack, r->end) &&
	    r->end - p->tcp_ack > s->maxwin)
		s->maxwin = r->end - p->tcp_ack;
	s->maxend = s->end + s->maxwin;
	if (!r->maxwin)
		r->end = r->maxend = p->tcp_ack;
}

/* A SYN on a flow that has seen this direction. */
static enum tcp_res syn_again(struct tcp_track *tt, const struct ntfw_pkt *p,
			      int dir, bool closed)
{
	const struct ntfw_tcp_peer *s = &tt->tcp[dir];
	uint8_t syn_me = dir ? NTFW_FS_SYN_S : NTFW_FS_SYN_C;
	uint8_t syn_peer = dir ? NTFW_FS_SYN_C : NTFW_FS_SYN_S;
	bool ack = p->tcp_flags & NTFW_TCP_ACK;

	/* The same SYN again, nothing sent since: a retransmission. */
	if ((tt->state & syn_me) && seg_end(p) == s->end)
		return TCP_VALID;
	/* Once the old connection is over (RST, or both FINs acked), a SYN
	 * opens the next one on the same ports, whatever its sequence
	 * number, as conntrack reopens a closed connection: the new one is
	 * a new flow, judged by the rules. */
	if (!ack && closed)
		return TCP_REOPEN;
	/* RFC 793: a sender reinitialised before any answer "must only be
	 * sure to use sequence numbers larger than those recently used". */
	if (!ack && (tt->state & syn_me) && !(tt->state & syn_peer) &&
	    !tt->tcp[!dir].maxwin && after(seg_end(p), s->end)) {
		syn_init(tt, p, dir);
		return TCP_VALID;
	}
	/* Anything else is what RFC 5961 4.2 answers with a challenge ACK. */
	return TCP_INVALID;
}

/*
 * Whether @p is acceptable to the flow's TCP, and what it changes, in the
 * manner of conntrack's tcp_in_window(): the sequence number below what
 * the receiver's window allows (I) and not below its window's left edge
 * (II), the ACK not past what the peer sent (III) nor too far behind (IV).
 * A segment without data is checked by its ACK alone, as in conntrack,
 * since keepalives and window probes carry sequence numbers just below
 * the window; a RST is always checked by its sequence number.  @fresh: the
 * packet opened the flow, there is nothing to check it against.
 */
static enum tcp_res tcp_window(struct tcp_track *tt, const struct ntfw_pkt *p,
			       int dir, bool closed, bool fresh)
{
	struct ntfw_tcp_peer *s = &tt->tcp[dir], *r = &tt->tcp[!dir];
	uint8_t fl = p->tcp_flags;
	uint8_t syn_peer = dir ? NTFW_FS_SYN_C : NTFW_FS_SYN_S;
	uint8_t fin_me = dir ? NTFW_FS_FIN_S : NTFW_FS_FIN_C;
	uint8_t fin_peer = dir ? NTFW_FS_FIN_C : NTFW_FS_FIN_S;
	uint8_t ack_peer = dir ? NTFW_FS_FINACK_C : NTFW_FS_FINACK_S;
	uint32_t seq = p->tcp_seq, end = seg_end(p), ack = p->tcp_ack;
	uint32_t win = p->tcp_win, maxackwin;
	bool in_win, ack_ok, learnt = false;

	if (fl & NTFW_TCP_SYN) {
		if (s->maxwin && !fresh)
			return syn_again(tt, p, dir, closed);
		/* A direction never seen: after a close, its SYN is a new
		 * connection; otherwise the SYN-ACK of this one. */
		if (!(fl & NTFW_TCP_ACK) && closed && !fresh)
			return TCP_REOPEN;
		syn_init(tt, p, dir);
		if (!(fl & NTFW_TCP_ACK))
			return TCP_VALID; /* the first SYN, or simultaneous open */
	} else if (!s->maxwin) {
		/*
		 * A RST from a direction that sent nothing yet answers the
		 * peer's SYN: RFC 793 takes it when it acks that SYN.  After
		 * a mid-stream pickup, it must be in the window the peer
		 * advertised from what it acked.
		 */
		if ((fl & NTFW_TCP_RST) && !fresh) {
			if (tt->state & syn_peer) {
				if (!(fl & NTFW_TCP_ACK) || ack != r->end)
					return TCP_INVALID;
			} else if (!(tt->tdir[!dir] & NTFW_TD_MAXACK) ||
				   before(seq, r->maxack) ||
				   after(seq, s->maxend)) {
				return TCP_INVALID;
			}
			return TCP_VALID;
		}
		midstream_init(tt, p, dir);
	}

	/* No ACK (or the zero ACK of some stacks' RST): nothing to check. */
	if (!(fl & NTFW_TCP_ACK) || ((fl & NTFW_TCP_RST) && !ack))
		ack = r->end;
	if (seq == end && !(fl & NTFW_TCP_RST))
		seq = end = s->end;

	in_win = before(seq, s->maxend + 1) &&
		 (!r->maxwin || after(end, s->end - r->maxwin - 1));
	maxackwin = s->maxwin ? s->maxwin : TCP_MAXACKWIN_DEFAULT;
	ack_ok = before(ack, r->end + 1) && after(ack, r->end - maxackwin - 1);
	if (fresh) {
		/* nothing to hold it against */
	} else if (fl & NTFW_TCP_RST) {
		/* RFC 5961 3.2: a RST counts only in the receiver's window,
		 * never below what the receiver has acknowledged. */
		if (!in_win || !ack_ok ||
		    ((tt->tdir[!dir] & NTFW_TD_MAXACK) && before(seq, r->maxack)))
			return TCP_INVALID;
	} else if (!in_win || !ack_ok) {
		/*
		 * Picked up mid-stream (after a restart, or an eviction),
		 * the window scale and what was in flight are unknown, so
		 * the windows are guesses: be liberal, as conntrack is with
		 * the connections it picks up (IP_CT_TCP_FLAG_BE_LIBERAL),
		 * or a window update the guess rules out stalls the
		 * connection for good.  What closes it must still be in the
		 * window, and what opens it is never taken here.
		 */
		if (!(tt->state & NTFW_FS_MIDSTREAM) || (fl & NTFW_TCP_SYN) ||
		    ((fl & NTFW_TCP_FIN) && !in_win))
			return TCP_INVALID;
		learnt = true;
	}

	if (!(fl & NTFW_TCP_SYN))
		win <<= wscale(tt, dir);
	if (s->maxwin < win)
		s->maxwin = win;
	if (after(end, s->end))
		s->end = end;
	/* An ACK taken liberally (a pickup's guess ruled it out) moves no
	 * bound: a forged one must not block the real RST or window. */
	if ((fl & NTFW_TCP_ACK) && ack == p->tcp_ack && ack_ok) {
		if (!(tt->tdir[dir] & NTFW_TD_MAXACK) || after(ack, s->maxack))
			s->maxack = ack;
		tt->tdir[dir] |= NTFW_TD_MAXACK;
	}
	/* Sent past the window we knew: the receiver's window was larger. */
	if (r->maxwin && after(end, s->maxend))
		r->maxwin += end - s->maxend;
	/* ... and counts once: the next segment grows it by its own bytes. */
	if (learnt && after(end, s->maxend))
		s->maxend = end;
	if (ack_ok && after(ack + win, r->maxend - 1)) {
		r->maxend = ack + win;
		if (!win)
			r->maxend++; /* room for a zero-window probe */
	}

	if (fl & NTFW_TCP_FIN)
		tt->state |= fin_me;
	if ((fl & NTFW_TCP_ACK) && (tt->state & fin_peer) &&
	    !before(p->tcp_ack, r->end))
		tt->state |= ack_peer;
	return TCP_VALID;
}

static void tt_load(struct tcp_track *tt, const struct ntfw_flow *f)
{
	memcpy(tt->tcp, f->tcp, sizeof(tt->tcp));
	memcpy(tt->tdir, f->tcp_dir, sizeof(tt->tdir));
	tt->state = f->state;
}

static void tt_store(struct ntfw_flow *f, const struct tcp_track *tt)
{
	memcpy(f->tcp, tt->tcp, sizeof(f->tcp));
	memcpy(f->tcp_dir, tt->tdir, sizeof(f->tcp_dir));
	f->state = tt->state;
}

/* A flow is over on an acceptable RST or when both FINs are acked.  It
 * then lingers briefly to collect stragglers (a retransmitted FIN, the
 * last ACK) before its record is written. */
static void tcp_close(struct ntfw_flow *f, const struct ntfw_pkt *p)
{
	if (f->tclass == NTFW_TC_CLOSED)
		return;
	if (p->tcp_flags & NTFW_TCP_RST)
		f->end = NTFW_END_RST;
	else if ((f->state & (NTFW_FS_FINACK_C | NTFW_FS_FINACK_S)) ==
		 (NTFW_FS_FINACK_C | NTFW_FS_FINACK_S))
		f->end = NTFW_END_FIN;
	else
		return;
	f->tclass = NTFW_TC_CLOSED;
}

static bool tcp_checked(const struct ntfw_pkt *p)
{
	return p->proto == IPPROTO_TCP && (p->flags & NTFW_PKT_L4);
}

struct ntfw_flow *ntfw_flow_packet(struct ntfw_flow_table *t,
				   const struct ntfw_pkt *p, uint64_t now_ns,
				   uint32_t wire_len, int *dir, enum ntfw_ct *ct)
{
	uint32_t i = flow_find(t, p->family, p->proto, p->src, p->sport, p->dst,
			       p->dport, dir);
	struct tcp_track tt;
	struct ntfw_flow *f;

	*ct = NTFW_CT_ESTABLISHED;
	if (i != NTFW_FLOW_NONE && tcp_checked(p)) {
		f = &t->pool[i];
		tt_load(&tt, f);
		switch (tcp_window(&tt, p, *dir,
				   f->tclass == NTFW_TC_CLOSED, false)) {
		case TCP_INVALID:
			/* Not even its timestamp: it is not the flow's. */
			*ct = NTFW_CT_INVALID;
			return f;
		case TCP_REOPEN:
			flow_end(t, i, NTFW_END_NONE);
			i = NTFW_FLOW_NONE;
			break;
		case TCP_VALID:
			break;
		}
	}
	if (i == NTFW_FLOW_NONE) {
		*ct = NTFW_CT_NEW;
		i = flow_new(t, p, now_ns, dir);
		if (tcp_checked(p)) {
			tt_load(&tt, &t->pool[i]);
			tcp_window(&tt, p, *dir, false, true);
		}
	}
	f = &t->pool[i];
	/* Move to the tail of its list: now the most recently seen. */
	lru_unlink(t, i);
	f->last_ns = now_ns;
	ntfw_features_update(&f->feat, p, *dir, now_ns, wire_len);
	if (tcp_checked(p)) {
		tt_store(f, &tt);
		tcp_close(f, p);
	}
	lru_append(t, i);
	return f;
}
