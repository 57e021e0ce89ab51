/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_LIMITER_H
#define NTFW_LIMITER_H

#include <stdbool.h>
#include <stdint.h>

struct ntfw_rate;

/*
 * Rate state for "rate" and "flows-per-src": one GCRA bucket per (rule,
 * kind, address), in a fixed pool; when it is full the least recently used
 * bucket is reused (its address starts again with a full burst).
 */
struct ntfw_lim_entry {
	uint64_t tat;		/* theoretical arrival time, ns */
	uint32_t hnext, prev, next;
	uint16_t rule;
	uint8_t kind;
	uint8_t family;
	uint8_t addr[16];
};

struct ntfw_limiter {
	struct ntfw_lim_entry *pool;
	uint32_t *bucket;
	uint32_t nbuckets, max, used;
	uint32_t head, tail;	/* LRU, most recent last */
	uint64_t seed;
	uint64_t evicted;
};

int ntfw_limiter_init(struct ntfw_limiter *l, uint32_t max);
void ntfw_limiter_free(struct ntfw_limiter *l);

/* Forget every bucket: each address starts again with a full burst. */
void ntfw_limiter_reset(struct ntfw_limiter *l);

/*
 * One event for @rule's limit @rt, keyed by @addr (NULL: one bucket for the
 * rule).  True when it exceeds the rate; an event over the rate does not
 * use up the bucket, as in nftables' "limit rate over".
 */
bool ntfw_limiter_over(struct ntfw_limiter *l, uint16_t rule, uint8_t kind,
		       uint8_t family, const uint8_t *addr,
		       const struct ntfw_rate *rt, uint64_t now_ns);

#endif
