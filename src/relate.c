// SPDX-License-Identifier: GPL-2.0-only
/*
 * A table of decided flows that every worker can read without a lock.
 *
 * One slot per hash of a flow's endpoints: a 64-bit tag (the hash, keyed
 * with a secret seed, never 0) and a 32-bit value (owning worker, verdict
 * and rule).  A
 * worker writes only its own flows: the value, then the tag (release).  A
 * reader loads the tag (acquire), the value, and the tag again: when both
 * tags are the one it looks for, the value belongs to them.  Two flows on
 * one slot: the later one wins, and an error about the earlier meets the
 * rules as if nothing were known (never a looser verdict than the rules').
 * A stale value can only be one the flow had a moment ago.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "relate.h"

struct slot {
	uint64_t tag;
	uint32_t val;	/* owner << 24 | verdict << 16 | rule */
	uint32_t pad;
};

struct ntfw_relate {
	uint64_t seed;
	uint64_t mask;
	struct slot *slot;
};

struct ntfw_relate *ntfw_relate_new(uint32_t flows)
{
	struct ntfw_relate *r = calloc(1, sizeof(*r));
	uint64_t n = 1024;

	if (!r)
		return NULL;
	while (n < 2ull * flows && n < (1ull << 30))
		n <<= 1;
	/* calloc'd pages cost nothing until a flow lands on them. */
	r->slot = calloc(n, sizeof(*r->slot));
	if (!r->slot) {
		free(r);
		return NULL;
	}
	r->mask = n - 1;
	if (getrandom(&r->seed, sizeof(r->seed), GRND_NONBLOCK) != sizeof(r->seed))
		r->seed = (uint64_t)(uintptr_t)r ^ 0x2545f4914f6cdd1dull;
	return r;
}

void ntfw_relate_free(struct ntfw_relate *r)
{
	if (r)
		free(r->slot);
	free(r);
}

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	h *= 0xff51afd7ed558ccdull;
	return h ^ (h >> 33);
}

static uint64_t end_hash(uint64_t h, const uint8_t *a, uint16_t port)
{
	uint64_t w[2];

	memcpy(w, a, 16);
	return mix(mix(mix(h, w[0]), w[1]), port);
}

/* Either way round alike: the two ends in a fixed order. */
static uint64_t tag_of(const struct ntfw_relate *r, uint8_t family,
		       uint8_t proto, const uint8_t *a, uint16_t ap,
		       const uint8_t *b, uint16_t bp)
{
	int c = memcmp(a, b, 16);
	uint64_t h = mix(r->seed, (uint64_t)family << 8 | proto);

	if (c < 0 || (c == 0 && ap <= bp))
		h = end_hash(end_hash(h, a, ap), b, bp);
	else
		h = end_hash(end_hash(h, b, bp), a, ap);
	return h | 1;
}

void ntfw_relate_put(struct ntfw_relate *r, uint8_t family, uint8_t proto,
		     const uint8_t *a, uint16_t ap, const uint8_t *b,
		     uint16_t bp, uint8_t verdict, uint16_t base,
		     uint8_t owner)
{
	uint64_t tag = tag_of(r, family, proto, a, ap, b, bp);
	struct slot *s = &r->slot[(tag >> 1) & r->mask];

	/* Readers that see the old tag after this must not take the new
	 * value for it: clear, write, then publish. */
	__atomic_store_n(&s->tag, 0, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&s->val, (uint32_t)owner << 24 |
			 (uint32_t)verdict << 16 | base,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&s->tag, tag, __ATOMIC_RELEASE);
}

void ntfw_relate_del(struct ntfw_relate *r, uint8_t family, uint8_t proto,
		     const uint8_t *a, uint16_t ap, const uint8_t *b,
		     uint16_t bp)
{
	uint64_t tag = tag_of(r, family, proto, a, ap, b, bp);
	struct slot *s = &r->slot[(tag >> 1) & r->mask];

	/* Only this flow's: another may have taken the slot since. */
	__atomic_compare_exchange_n(&s->tag, &tag, 0, false, __ATOMIC_RELEASE,
				    __ATOMIC_RELAXED);
}

/* The value of the flow's slot, when the slot is the flow's. */
static bool value_of(const struct ntfw_relate *r, uint8_t family,
		     uint8_t proto, const uint8_t *a, uint16_t ap,
		     const uint8_t *b, uint16_t bp, uint32_t *val)
{
	uint64_t tag = tag_of(r, family, proto, a, ap, b, bp);
	const struct slot *s = &r->slot[(tag >> 1) & r->mask];

	if (__atomic_load_n(&s->tag, __ATOMIC_ACQUIRE) != tag)
		return false;
	*val = __atomic_load_n(&s->val, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	return __atomic_load_n(&s->tag, __ATOMIC_RELAXED) == tag;
}

bool ntfw_relate_get(const struct ntfw_relate *r, uint8_t family,
		     uint8_t proto, const uint8_t *a, uint16_t ap,
		     const uint8_t *b, uint16_t bp, uint8_t *verdict,
		     uint16_t *base)
{
	uint32_t val;

	if (!value_of(r, family, proto, a, ap, b, bp, &val))
		return false;
	*verdict = (uint8_t)(val >> 16);
	*base = (uint16_t)val;
	return true;
}

bool ntfw_relate_owner(const struct ntfw_relate *r, uint8_t family,
		       uint8_t proto, const uint8_t *a, uint16_t ap,
		       const uint8_t *b, uint16_t bp, uint8_t *owner)
{
	uint32_t val;

	if (!value_of(r, family, proto, a, ap, b, bp, &val))
		return false;
	*owner = (uint8_t)(val >> 24);
	return true;
}
