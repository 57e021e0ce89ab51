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
	NTFW_M_STATE = 1u << 15, /* state new|established|related|invalid */
};

/*
 * Matches whose outcome can change over a flow's life.  A rule with one of
 * them is "per-packet": it is evaluated on every packet of the flows it
 * could decide.  Every other match is decided on a flow's first packet,
 * whose verdict becomes the flow's state (ntfw.conf(5), STATE).
 */
#define NTFW_M_DYNAMIC (NTFW_M_FLOW | NTFW_M_RATE | NTFW_M_FPS | NTFW_M_STATE)

/* The state of a packet, as the flow table sees it (nft's ct state). */
enum ntfw_pstate {
	NTFW_ST_NEW,		/* the first packet of a flow */
	NTFW_ST_ESTABLISHED,	/* a later packet of a flow, either way */
	NTFW_ST_RELATED,	/* an ICMP error quoting a known flow */
	NTFW_ST_INVALID,	/* TCP would not accept it for its flow */
	NTFW_ST_MAX,
};

const char *ntfw_pstate_name(enum ntfw_pstate s);

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
	uint64_t text_hash;	/* unnamed: its words, who it is at a
				 * reload (0: named) */
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
	uint8_t fps_bit;	/* its bit in a flow's fps_over */
	uint8_t states;		/* bit per enum ntfw_pstate (NTFW_M_STATE) */
	/* The next per-packet rule below this one, or nrules. */
	uint16_t next_dyn;
};

/*
 * Link the per-packet rules (NTFW_M_DYNAMIC) into the list that
 * conf->first_dyn starts and each rule's next_dyn continues.
 */
void ntfw_policy_finality(struct ntfw_conf *conf);

struct ntfw_conf;
struct ntfw_flow;
struct ntfw_limiter;

/* What a rule may look at besides the packet: its flow and rate state. */
struct ntfw_eval_ctx {
	struct ntfw_ifcache *ifc;	/* NULL: interface names unknown */
	struct ntfw_flow *flow;		/* NULL: no flow table */
	bool new_flow;			/* this packet created the flow */
	uint8_t pstate;			/* enum ntfw_pstate of the packet */
	/* Per-packet rules never match: the flow's state is being decided. */
	bool static_only;
	/* Per-packet conditions are taken as true: could the rule match? */
	bool static_part;
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

/*
 * The first per-packet rule above rule @limit that matches @p, or NULL;
 * *@idx is set to its index when there is one.
 */
const struct ntfw_rule *ntfw_policy_eval_dynamic(const struct ntfw_conf *conf,
						 const struct ntfw_pkt *p,
						 struct ntfw_eval_ctx *ctx,
						 unsigned int limit,
						 unsigned int *idx);

/*
 * Whether a flow accepted by rule @base (conf->nrules: the default) can be
 * handed to the kernel: no per-packet rule above @base could match a
 * packet of the flow, @p or its reply (the connection fields mirrored).
 */
bool ntfw_policy_final(const struct ntfw_conf *conf, const struct ntfw_pkt *p,
		       struct ntfw_eval_ctx *ctx, unsigned int base);

/* @p as its reply would look: addresses, ports, interfaces, input and
 * output hooks and echo request/reply swapped. */
void ntfw_pkt_mirror(const struct ntfw_pkt *p, struct ntfw_pkt *m);

bool ntfw_rule_match(const struct ntfw_rule *r, unsigned int idx,
		     const struct ntfw_pkt *p, struct ntfw_eval_ctx *ctx);

bool ntfw_prefix_match(const struct ntfw_prefix *pf, uint8_t family,
		       const uint8_t *addr);

#endif
