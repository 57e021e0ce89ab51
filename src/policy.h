/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_POLICY_H
#define NTFW_POLICY_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

struct ntfw_pkt;
struct ntfw_ifcache;

#define NTFW_NAME_MAX 32 /* rule and set names, with the NUL */

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

struct ntfw_addrs {
	const struct ntfw_prefix *v; /* owned, or a set's elements */
	unsigned int n;
	bool owned;
};

struct ntfw_ports {
	struct { uint16_t lo, hi; } *v;
	unsigned int n;
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
};

struct ntfw_conf;

/*
 * The first rule that matches @p, or NULL when none does (the default
 * applies).  Returns the rule's index in *@idx, or conf->nrules for default.
 * @ifc resolves interface indexes to names; NULL means "no names known".
 */
const struct ntfw_rule *ntfw_policy_eval(const struct ntfw_conf *conf,
					 const struct ntfw_pkt *p,
					 struct ntfw_ifcache *ifc,
					 unsigned int *idx);

bool ntfw_rule_match(const struct ntfw_rule *r, const struct ntfw_pkt *p,
		     struct ntfw_ifcache *ifc);

bool ntfw_prefix_match(const struct ntfw_prefix *pf, uint8_t family,
		       const uint8_t *addr);

#endif
