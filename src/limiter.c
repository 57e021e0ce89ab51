// SPDX-License-Identifier: GPL-2.0-only
/* Rate limits: GCRA in integer nanoseconds, bounded like the flow table. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "limiter.h"
#include "policy.h"

#define NONE UINT32_MAX

int ntfw_limiter_init(struct ntfw_limiter *l, uint32_t max)
{
	memset(l, 0, sizeof(*l));
	l->nbuckets = 1;
	while (l->nbuckets < max)
		l->nbuckets <<= 1;
	l->pool = calloc(max, sizeof(*l->pool));
	l->bucket = malloc(l->nbuckets * sizeof(*l->bucket));
	if (!l->pool || !l->bucket) {
		ntfw_limiter_free(l);
		return -ENOMEM;
	}
	l->max = max;
	ntfw_limiter_reset(l);
	if (getrandom(&l->seed, sizeof(l->seed), GRND_NONBLOCK) != sizeof(l->seed))
		l->seed = (uint64_t)(uintptr_t)l;
	return 0;
}

void ntfw_limiter_free(struct ntfw_limiter *l)
{
	free(l->pool);
	free(l->bucket);
	l->pool = NULL;
	l->bucket = NULL;
}

void ntfw_limiter_reset(struct ntfw_limiter *l)
{
	memset(l->bucket, 0xff, l->nbuckets * sizeof(*l->bucket));
	l->used = 0;
	l->head = l->tail = NONE;
}

static uint32_t lim_hash(const struct ntfw_limiter *l, uint16_t rule,
			 uint8_t kind, const uint8_t *addr)
{
	uint64_t h = l->seed ^ ((uint64_t)rule << 8 | kind), w[2];

	memcpy(w, addr, 16);
	h = (h ^ w[0]) * 0xff51afd7ed558ccdull;
	h = (h ^ (h >> 33) ^ w[1]) * 0xc4ceb9fe1a85ec53ull;
	return (uint32_t)(h ^ (h >> 33)) & (l->nbuckets - 1);
}

static void lru_unlink(struct ntfw_limiter *l, uint32_t i)
{
	struct ntfw_lim_entry *e = &l->pool[i];

	if (e->prev != NONE)
		l->pool[e->prev].next = e->next;
	else
		l->head = e->next;
	if (e->next != NONE)
		l->pool[e->next].prev = e->prev;
	else
		l->tail = e->prev;
}

static void lru_append(struct ntfw_limiter *l, uint32_t i)
{
	struct ntfw_lim_entry *e = &l->pool[i];

	e->next = NONE;
	e->prev = l->tail;
	if (l->tail != NONE)
		l->pool[l->tail].next = i;
	else
		l->head = i;
	l->tail = i;
}

static void hash_unlink(struct ntfw_limiter *l, uint32_t i)
{
	const struct ntfw_lim_entry *e = &l->pool[i];
	uint32_t *pp = &l->bucket[lim_hash(l, e->rule, e->kind, e->addr)];

	while (*pp != i && *pp != NONE)
		pp = &l->pool[*pp].hnext;
	if (*pp == i)
		*pp = e->hnext;
}

static uint32_t lim_get(struct ntfw_limiter *l, uint16_t rule, uint8_t kind,
			uint8_t family, const uint8_t *addr)
{
	uint32_t h = lim_hash(l, rule, kind, addr), i;
	struct ntfw_lim_entry *e;

	for (i = l->bucket[h]; i != NONE; i = l->pool[i].hnext) {
		e = &l->pool[i];
		if (e->rule == rule && e->kind == kind && e->family == family &&
		    !memcmp(e->addr, addr, 16)) {
			lru_unlink(l, i);
			lru_append(l, i);
			return i;
		}
	}
	if (l->used < l->max) {
		i = l->used++;
	} else {
		i = l->head;
		l->evicted++;
		hash_unlink(l, i);
		lru_unlink(l, i);
	}
	e = &l->pool[i];
	e->tat = 0;
	e->rule = rule;
	e->kind = kind;
	e->family = family;
	memcpy(e->addr, addr, 16);
	e->hnext = l->bucket[h];
	l->bucket[h] = i;
	lru_append(l, i);
	return i;
}

bool ntfw_limiter_over(struct ntfw_limiter *l, uint16_t rule, uint8_t kind,
		       uint8_t family, const uint8_t *addr,
		       const struct ntfw_rate *rt, uint64_t now_ns)
{
	static const uint8_t any[16];
	struct ntfw_lim_entry *e;
	uint64_t tat, ahead;

	e = &l->pool[lim_get(l, rule, kind, addr ? family : 0, addr ? addr : any)];
	tat = e->tat > now_ns ? e->tat : now_ns;
	/* Up to @burst events may be ahead of schedule.  A burst of 5124097
	 * at 1/hour is more than 2^64 ns ahead: saturate rather than wrap
	 * to a small allowance (an allowance of 584 years is endless). */
	if (__builtin_mul_overflow((uint64_t)(rt->burst - 1), rt->interval_ns,
				   &ahead))
		ahead = UINT64_MAX;
	if (tat - now_ns > ahead)
		return true;
	if (__builtin_add_overflow(tat, rt->interval_ns, &e->tat))
		e->tat = UINT64_MAX;
	return false;
}
