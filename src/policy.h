/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_POLICY_H
#define NTFW_POLICY_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

struct ntfw_conf;
struct ntfw_pkt;
struct ntfw_ifcache;
struct ntfw_addr_ranges;

#define NTFW_NAME_MAX 32 /* rule and set names, with the NUL */
/* A rule index for "no such rule": the rule left the configuration in a
 * reload.  Indexes run up to NTFW_MAX_RULES, the default's. */
#define NTFW_RULE_GONE (UINT16_MAX - 1)

enum ntfw_verdict {
	NTFW_ACCEPT,
	NTFW_DROP,
};

const char *ntfw_verdict_name(enum ntfw_verdict v);

/* An address prefix; IPv4 lives in the first 4 bytes of @addr. */
struct ntfw_prefix {
	uint8_t family; /* 4 or 6 */
	uint8_t len;
	uint8_t addr[16];
};

/* @v as written; @ranges, what matching reads: the same addresses as
 * sorted merged intervals (lookup.h). */
struct ntfw_addrs {
	const struct ntfw_prefix *v; /* owned, or a set's elements */
	unsigned int n;
	const struct ntfw_addr_ranges *ranges; /* owned with @v, or the set's */
	bool owned;
};

/* @v as written; @m, what matching reads: sorted merged ranges, each
 * lo << 16 | hi. */
struct ntfw_ports {
	struct { uint16_t lo, hi; } *v;
	unsigned int n;
	uint32_t *m;
	unsigned int nm;
};

/* What a rule tests; a bit per match, as written in the config. */
enum {
	NTFW_M_FAMILY = 1u << 0,
	NTFW_M_PROTO = 1u << 1,
	NTFW_M_SRC = 1u << 2,
	NTFW_M_DST = 1u << 3,
	NTFW_M_SPORT = 1u << 4,
	NTFW_M_DPORT = 1u << 5,
	NTFW_M_IIF = 1u << 6,
	NTFW_M_OIF = 1u << 7,
	NTFW_M_ICMP = 1u << 8,
	NTFW_M_TCPFLAGS = 1u << 9,
	NTFW_M_HOOK = 1u << 10,
	NTFW_M_NAME = 1u << 11, /* not a match: "name" was given */
	NTFW_M_FLOW = 1u << 12,	 /* flow <feature> <op> <n> */
	NTFW_M_RATE = 1u << 13,	 /* rate over N/unit per src|dst */
	NTFW_M_FPS = 1u << 14,	 /* flows-per-src over N/unit */
};

enum ntfw_cmp { NTFW_GT, NTFW_GE, NTFW_LT, NTFW_LE, NTFW_EQ, NTFW_NE };

#define NTFW_RULE_MAX_FLOW 4 /* "flow" conditions in one rule */

/* A rate: @burst events at once, then one per @interval_ns (GCRA). */
struct ntfw_rate {
	uint64_t interval_ns;
	uint32_t burst;
	uint8_t per_addr;	/* one bucket per address, not per rule */
	uint8_t per_dst;	/* ... the destination's, not the source's */
};

/* Transport matches that a later fragment (no L4 header) cannot satisfy. */
#define NTFW_M_L4 (NTFW_M_SPORT | NTFW_M_DPORT | NTFW_M_ICMP | NTFW_M_TCPFLAGS)

struct ntfw_rule {
	char name[NTFW_NAME_MAX];
	unsigned int line;
	enum ntfw_verdict verdict;
	uint32_t have;		/* NTFW_M_* */
	uint8_t family;		/* 0: either; implied by addresses and protos */
	uint8_t proto;
	uint8_t tcp_set;	/* flags that must be set */
	uint8_t tcp_clear;	/* flags that must be clear */
	uint8_t hooks;		/* bit per NF_INET_* hook */
	uint64_t icmp4[4];	/* bitmap of ICMP types */
	uint64_t icmp6[4];	/* bitmap of ICMPv6 types */
	struct ntfw_addrs src, dst;
	struct ntfw_ports sport, dport;
	char iif[IF_NAMESIZE];
	char oif[IF_NAMESIZE];
	struct {
		uint8_t feature;	/* enum ntfw_feature */
		uint8_t op;		/* enum ntfw_cmp */
		uint64_t value;
	} flowc[NTFW_RULE_MAX_FLOW];
	unsigned int nflowc;
	struct ntfw_rate rate;		/* NTFW_M_RATE */
	struct ntfw_rate fps;		/* NTFW_M_FPS */
	bool final;	/* its decision can be handed to the kernel */
};

/* Matches whose outcome is the same for every packet of a connection in
 * either direction, once checked both ways (addresses and ports swap). */
#define NTFW_M_CONN (NTFW_M_FAMILY | NTFW_M_PROTO | NTFW_M_SRC | NTFW_M_DST | \
		     NTFW_M_SPORT | NTFW_M_DPORT)

/*
 * Mark the rules whose decision is final for a connection: the rule and
 * every rule above it test only connection fields (NTFW_M_CONN), so no
 * later packet can fall to another rule.  conf->default_final likewise.
 */
void ntfw_policy_finality(struct ntfw_conf *conf);

/* Whether the decision @idx just made for @p holds for every packet of
 * its connection: it is final, and the mirrored packet (the other
 * direction) gets the same verdict from a final decision. */
bool ntfw_policy_final(const struct ntfw_conf *conf, const struct ntfw_pkt *p,
		       unsigned int idx);

struct ntfw_conf;
struct ntfw_flow;
struct ntfw_limiter;

/* What a rule may look at besides the packet: its flow and rate state. */
struct ntfw_eval_ctx {
	struct ntfw_ifcache *ifc;	/* NULL: interface names unknown */
	struct ntfw_flow *flow;		/* NULL: no flow table */
	bool new_flow;			/* this packet created the flow */
	struct ntfw_limiter *lim;	/* NULL: rates never exceeded */
	uint64_t now_ns;
};

/*
 * The first rule that matches @p, or NULL when none does (the default
 * applies).  Returns the rule's index in *@idx, or conf->nrules for default.
 * @ctx may be NULL: stateless evaluation.
 */
const struct ntfw_rule *ntfw_policy_eval(const struct ntfw_conf *conf,
					 const struct ntfw_pkt *p,
					 struct ntfw_eval_ctx *ctx,
					 unsigned int *idx);

bool ntfw_rule_match(const struct ntfw_rule *r, unsigned int idx,
		     const struct ntfw_pkt *p, struct ntfw_eval_ctx *ctx);

bool ntfw_prefix_match(const struct ntfw_prefix *pf, uint8_t family,
		       const uint8_t *addr);

#endif
