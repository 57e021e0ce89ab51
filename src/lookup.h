/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_LOOKUP_H
#define NTFW_LOOKUP_H

#include <stdbool.h>
#include <stdint.h>

struct ntfw_prefix;
struct ntfw_rule;
struct ntfw_pkt;

/* An IPv6 address as a number: the first 8 bytes in @hi. */
struct ntfw_u128 {
	uint64_t hi, lo;
};

/*
 * A list of prefixes of both families as disjoint, sorted, closed
 * intervals, overlapping and adjacent ones merged (nftables interval sets
 * and ipset hash:net answer the same question).  A lookup is a binary
 * search for the last interval that starts at or below the address.
 */
struct ntfw_addr_ranges {
	uint32_t *lo4, *hi4;
	/* Large IPv4 lists: the intervals that start in each /16 are
	 * lo4[blk[b] .. blk[b + 1]), so a search starts there (or NULL). */
	uint32_t *blk;
	struct ntfw_u128 *lo6, *hi6;
	unsigned int n4, n6;
};

/* NULL when memory ran out. */
struct ntfw_addr_ranges *ntfw_addr_ranges_build(const struct ntfw_prefix *v,
						unsigned int n);
void ntfw_addr_ranges_free(struct ntfw_addr_ranges *r);
bool ntfw_addr_ranges_has(const struct ntfw_addr_ranges *r, uint8_t family,
			  const uint8_t *addr);

/*
 * Port ranges sorted and merged, each packed as lo << 16 | hi so that the
 * packed values sort by their start.  Returns how many are left in @m
 * (room for @n), from @n ranges given as pairs in @lohi.
 */
unsigned int ntfw_port_ranges_merge(const uint16_t *lohi, unsigned int n,
				    uint32_t *m);
bool ntfw_port_ranges_has(const uint32_t *m, unsigned int n, uint16_t port);

/* The rule index: see lookup.c. */
struct ntfw_rule_index;

struct ntfw_rule_index *ntfw_rule_index_build(const struct ntfw_rule *rules,
					      unsigned int n);
void ntfw_rule_index_free(struct ntfw_rule_index *ix);

/* The candidates for one packet, in rule order. */
struct ntfw_cand {
	const uint64_t *a, *as;	/* family and protocol: bits, summary */
	const uint64_t *b, *bs;	/* destination port: bits, summary */
	const uint32_t *l, *lend; /* and a list of port rules to merge */
	unsigned int nwords;
	unsigned int nb, nl;	/* next of the bitmap, of the list */
};

/* False when the index cannot tell for this packet: test every rule. */
bool ntfw_rule_index_start(const struct ntfw_rule_index *ix,
			   const struct ntfw_pkt *p, struct ntfw_cand *c);
/* The next candidate's index, or UINT32_MAX after the last. */
uint32_t ntfw_cand_next(struct ntfw_cand *c);

#endif
