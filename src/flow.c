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

_Static_assert(sizeof(struct ntfw_flow) <= 512, "a flow must fit in 512 bytes");

static const char *const end_names[] = {
	[NTFW_END_NONE] = "none", [NTFW_END_FIN] = "fin",
	[NTFW_END_RST] = "rst",	  [NTFW_END_TIMEOUT] = "timeout",
	[NTFW_END_EVICTED] = "evicted", [NTFW_END_EOF] = "eof",
};

const char *ntfw_flow_end_name(enum ntfw_flow_end e)
{
	return e <= NTFW_END_EOF ? end_names[e] : "unknown";
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
	/* calloc'd pages are touched only as flows use them. */
	t->pool = calloc(max, sizeof(*t->pool));
	t->bucket = malloc(t->nbuckets * sizeof(*t->bucket));
	if (!t->pool || !t->bucket) {
		ntfw_flow_table_free(t);
		return -ENOMEM;
	}
	memset(t->bucket, 0xff, t->nbuckets * sizeof(*t->bucket));
	for (i = 0; i < max; i++)
		t->pool[i].next = i + 1 < max ? i + 1 : NTFW_FLOW_NONE;
	t->free_head = 0;
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

static inline uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 33);
}

static uint64_t hash_end(uint64_t h, const uint8_t *a, uint16_t port)
{
	uint64_t w[2];

	memcpy(w, a, 16);
	return mix(mix(mix(h, w[0]), w[1]), port);
}

static uint32_t flow_hash(const struct ntfw_flow_table *t, uint8_t proto,
			  const uint8_t *a1, uint16_t p1, const uint8_t *a2,
			  uint16_t p2)
{
	int c = memcmp(a1, a2, 16);
	uint64_t h = mix(t->seed, proto);

	/* Order the two ends so that either direction hashes alike. */
	if (c < 0 || (c == 0 && p1 <= p2))
		h = hash_end(hash_end(h, a1, p1), a2, p2);
	else
		h = hash_end(hash_end(h, a2, p2), a1, p1);
	return (uint32_t)h & (t->nbuckets - 1);
}

static uint32_t hash_of(const struct ntfw_flow_table *t,
			const struct ntfw_flow *f)
{
	return flow_hash(t, f->proto, f->caddr, f->cport, f->saddr, f->sport);
}

/* ---- lists ---- */

static void lru_unlink(struct ntfw_flow_table *t, uint32_t i)
{
	struct ntfw_flow *f = &t->pool[i];

	if (f->prev != NTFW_FLOW_NONE)
		t->pool[f->prev].next = f->next;
	else
		t->head[f->tclass] = f->next;
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
	if (f->prev != NTFW_FLOW_NONE)
		t->pool[f->prev].next = i;
	else
		t->head[f->tclass] = i;
	t->tail[f->tclass] = i;
}

static void hash_unlink(struct ntfw_flow_table *t, uint32_t i)
{
	uint32_t *pp = &t->bucket[hash_of(t, &t->pool[i])];

	while (*pp != i && *pp != NTFW_FLOW_NONE)
		pp = &t->pool[*pp].hnext;
	if (*pp == i)
		*pp = t->pool[i].hnext;
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

void ntfw_flow_expire(struct ntfw_flow_table *t, uint64_t now_ns)
{
	int c;

	for (c = 0; c < NTFW_TC_MAX; c++) {
		while (t->head[c] != NTFW_FLOW_NONE) {
			uint32_t i = t->head[c];

			if (t->pool[i].last_ns + t->timeout_ns[c] > now_ns)
				break;
			t->expired++;
			flow_end(t, i, NTFW_END_TIMEOUT);
		}
	}
}

void ntfw_flow_flush(struct ntfw_flow_table *t, enum ntfw_flow_end why)
{
	int c;

	for (c = 0; c < NTFW_TC_MAX; c++)
		while (t->head[c] != NTFW_FLOW_NONE)
			flow_end(t, t->head[c], why);
}

/* The table is full: end the flow idle for longest, whatever its class. */
static void evict_oldest(struct ntfw_flow_table *t)
{
	uint32_t victim = NTFW_FLOW_NONE;
	int c;

	for (c = 0; c < NTFW_TC_MAX; c++) {
		uint32_t i = t->head[c];

		if (i != NTFW_FLOW_NONE &&
		    (victim == NTFW_FLOW_NONE ||
		     t->pool[i].last_ns < t->pool[victim].last_ns))
			victim = i;
	}
	t->evicted++;
	flow_end(t, victim, NTFW_END_EVICTED);
}

/* ---- lookup and creation ---- */

static uint32_t flow_find(struct ntfw_flow_table *t, uint8_t family,
			  uint8_t proto, const uint8_t *src, uint16_t sport,
			  const uint8_t *dst, uint16_t dport, int *dir)
{
	uint32_t h = flow_hash(t, proto, src, sport, dst, dport);
	uint32_t i;

	for (i = t->bucket[h]; i != NTFW_FLOW_NONE; i = t->pool[i].hnext) {
		const struct ntfw_flow *f = &t->pool[i];

		if (f->proto != proto || f->family != family)
			continue;
		if (f->cport == sport && f->sport == dport &&
		    !memcmp(f->caddr, src, 16) && !memcmp(f->saddr, dst, 16)) {
			*dir = 0;
			return i;
		}
		if (f->cport == dport && f->sport == sport &&
		    !memcmp(f->caddr, dst, 16) && !memcmp(f->saddr, src, 16)) {
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
	uint32_t i;

	if (t->free_head == NTFW_FLOW_NONE)
		evict_oldest(t);
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
	f->hnext = t->bucket[hash_of(t, f)];
	t->bucket[hash_of(t, f)] = i;
	lru_append(t, i);
	t->used++;
	t->created++;
	return i;
}

static int seq_geq(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) >= 0;
}

/* TCP: note FINs and their ACKs; a flow is over on RST or when both
 * FINs are acked.  It then lingers briefly to collect stragglers (a
 * retransmitted FIN, the last ACK) before its record is written. */
static void tcp_track(struct ntfw_flow_table *t, uint32_t i,
		      const struct ntfw_pkt *p, int dir)
{
	struct ntfw_flow *f = &t->pool[i];
	uint8_t fin_me = dir ? NTFW_FS_FIN_S : NTFW_FS_FIN_C;
	uint8_t fin_peer = dir ? NTFW_FS_FIN_C : NTFW_FS_FIN_S;
	uint8_t ack_peer = dir ? NTFW_FS_FINACK_C : NTFW_FS_FINACK_S;

	if (p->tcp_flags & NTFW_TCP_SYN)
		f->state |= (p->tcp_flags & NTFW_TCP_ACK) ? NTFW_FS_SYN_S :
							    NTFW_FS_SYN_C;
	if (p->tcp_flags & NTFW_TCP_FIN) {
		f->state |= fin_me;
		f->fin_end[dir] = p->tcp_seq + p->payload_len + 1;
	}
	if ((p->tcp_flags & NTFW_TCP_ACK) && (f->state & fin_peer) &&
	    seq_geq(p->tcp_ack, f->fin_end[!dir]))
		f->state |= ack_peer;
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

struct ntfw_flow *ntfw_flow_packet(struct ntfw_flow_table *t,
				   const struct ntfw_pkt *p, uint64_t now_ns,
				   uint32_t wire_len, int *dir, enum ntfw_ct *ct)
{
	bool newf;
	uint32_t i = flow_find(t, p->family, p->proto, p->src, p->sport, p->dst,
			       p->dport, dir);
	struct ntfw_flow *f;

	/* A new SYN on a closed connection opens the next one. */
	if (i != NTFW_FLOW_NONE && t->pool[i].tclass == NTFW_TC_CLOSED &&
	    (p->tcp_flags & (NTFW_TCP_SYN | NTFW_TCP_ACK)) == NTFW_TCP_SYN) {
		flow_end(t, i, NTFW_END_NONE);
		i = NTFW_FLOW_NONE;
	}
	newf = i == NTFW_FLOW_NONE;
	*ct = newf ? NTFW_CT_NEW : NTFW_CT_ESTABLISHED;
	if (newf)
		i = flow_new(t, p, now_ns, dir);
	f = &t->pool[i];
	/* Move to the tail of its list: now the most recently seen. */
	lru_unlink(t, i);
	f->last_ns = now_ns;
	ntfw_features_update(&f->feat, p, *dir, now_ns, wire_len);
	if (p->proto == IPPROTO_TCP && (p->flags & NTFW_PKT_L4))
		tcp_track(t, i, p, *dir);
	lru_append(t, i);
	return f;
}
