/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_RELATE_H
#define NTFW_RELATE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The decided flows of every worker, for the ICMP errors that the kernel
 * queues to another worker than their flow's (with several queues it
 * picks one by the packet's own addresses and protocol: an error about a
 * UDP flow is ICMP).  Each worker writes its own flows; any worker reads.
 */
struct ntfw_relate;

/* A table for about @flows decided flows; NULL when out of memory. */
struct ntfw_relate *ntfw_relate_new(uint32_t flows);
void ntfw_relate_free(struct ntfw_relate *r);

/* The flow with these endpoints (either way round) is decided: @verdict
 * (enum ntfw_verdict) by rule @base, and worker @owner holds it. */
void ntfw_relate_put(struct ntfw_relate *r, uint8_t family, uint8_t proto,
		     const uint8_t *a, uint16_t ap, const uint8_t *b,
		     uint16_t bp, uint8_t verdict, uint16_t base,
		     uint8_t owner);

/* The flow ended. */
void ntfw_relate_del(struct ntfw_relate *r, uint8_t family, uint8_t proto,
		     const uint8_t *a, uint16_t ap, const uint8_t *b,
		     uint16_t bp);

/* Whether the flow is known, and then its verdict and rule. */
bool ntfw_relate_get(const struct ntfw_relate *r, uint8_t family,
		     uint8_t proto, const uint8_t *a, uint16_t ap,
		     const uint8_t *b, uint16_t bp, uint8_t *verdict,
		     uint16_t *base);

/* Whether the flow is known, and then the worker that holds it (for the
 * kernel ring's records, which come to no queue). */
bool ntfw_relate_owner(const struct ntfw_relate *r, uint8_t family,
		       uint8_t proto, const uint8_t *a, uint16_t ap,
		       const uint8_t *b, uint16_t bp, uint8_t *owner);

#endif
