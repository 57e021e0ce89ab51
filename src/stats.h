/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_STATS_H
#define NTFW_STATS_H

#include <stdint.h>

#include "parse.h"
#include "policy.h"

struct ntfw_conf;

/*
 * Counters of one worker.  Only the worker writes them; the main thread
 * reads them for reports, so every write is a relaxed atomic store.
 */
struct ntfw_stats {
	uint64_t packets;
	uint64_t accepted;
	uint64_t dropped;
	uint64_t malformed;
	uint64_t malformed_by[NTFW_MALFORMED_MAX];
	uint64_t flows_active;
	uint64_t flows_created;
	uint64_t flows_ended;
	uint64_t flows_evicted;
	uint64_t flows_expired;
	uint64_t log_errors;	/* flow records the event log refused */
	uint64_t handoffs;	/* flows handed to the kernel fast path */
	uint64_t state_pkts[NTFW_ST_MAX];	/* well-formed packets by state */
	uint64_t invalid_unmatched;	/* invalid, given the "invalid" verdict */
	uint64_t untracked;	/* judged outside the flow table (stateless) */
	/* Records of the kernel ring (kring.c), as this worker took them */
	uint64_t ring_applied;	/* to a flow handed off to the kernel */
	uint64_t ring_unknown;	/* no such flow here, or not handed off */
	uint64_t ring_ignored;	/* packets the flow table keeps no state for */
	uint64_t ring_invalid;	/* refused by the flow's TCP tracking */
	uint64_t ring_bad;	/* fields out of bounds: refused */
	uint64_t *rule_pkts;	/* nrules + 1: the last is "default" */
	uint64_t *rule_bytes;
};

#define STAT_ADD(x, n) __atomic_store_n(&(x), (x) + (n), __ATOMIC_RELAXED)
#define STAT_INC(x) STAT_ADD(x, 1)

int ntfw_stats_init(struct ntfw_stats *s, const struct ntfw_conf *conf);
void ntfw_stats_free(struct ntfw_stats *s);

/*
 * A reload: @next holds zeroed rule counters for the new configuration.
 * The counts of @s's @n rule counters (the default last) are added to
 * those @map names (NTFW_RULE_GONE: dropped), then the two sets of rule
 * counters change places: @next gets the old ones.
 */
void ntfw_stats_move_rules(struct ntfw_stats *s, struct ntfw_stats *next,
			   const uint16_t *map, unsigned int n);

/* What the kernel ring's consumer counts, before any worker sees a record.
 * Written by its thread only, relaxed atomic stores. */
struct ntfw_ring_counts {
	uint64_t read;		/* records copied out of the ring */
	uint64_t kernel_dropped; /* records the kernel lost, the ring full */
	uint64_t queue_full;	/* lost here: the owner's queue was full */
	uint64_t no_owner;	/* no worker holds the flow */
	uint64_t resync;	/* records skipped over a bogus index */
};

/* Log the ring's counters and @n workers' record counters. */
void ntfw_stats_report_ring(const struct ntfw_ring_counts *k,
			    struct ntfw_stats *const *s, unsigned int n);

/* Log the sum of @n workers' counters, one "stats:" line per item. */
void ntfw_stats_report(const struct ntfw_conf *conf,
		       struct ntfw_stats *const *s, unsigned int n);

#endif
