// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rule matching.  Rules are tested top to bottom; the first whose every
 * match holds decides.  Cheap tests come first so that most rules are
 * rejected after one or two comparisons.
 */
#include <string.h>
#include <netinet/in.h>

#include "conf.h"
#include "flow.h"
#include "ifcache.h"
#include "limiter.h"
#include "lookup.h"
#include "parse.h"
#include "policy.h"

const char *ntfw_verdict_name(enum ntfw_verdict v)
{
	return v == NTFW_DROP ? "drop" : "accept";
}

static const char *const pstate_names[NTFW_ST_MAX] = {
	[NTFW_ST_NEW] = "new", [NTFW_ST_ESTABLISHED] = "established",
	[NTFW_ST_RELATED] = "related", [NTFW_ST_INVALID] = "invalid",
};

const char *ntfw_pstate_name(enum ntfw_pstate s)
{
	return s < NTFW_ST_MAX ? pstate_names[s] : "unknown";
}

bool ntfw_prefix_match(const struct ntfw_prefix *pf, uint8_t family,
		       const uint8_t *addr)
{
	unsigned int bytes = pf->len / 8, bits = pf->len % 8;

	if (pf->family != family)
		return false;
	if (memcmp(pf->addr, addr, bytes))
		return false;
	if (bits) {
		uint8_t mask = (uint8_t)(0xff << (8 - bits));

		if ((pf->addr[bytes] ^ addr[bytes]) & mask)
			return false;
	}
	return true;
}

/* Lists and sets are searched as intervals (lookup.c); a list built by
 * hand, without them, is walked. */
static bool addrs_match(const struct ntfw_addrs *a, const struct ntfw_pkt *p,
			const uint8_t *addr)
{
	unsigned int i;

	if (a->ranges)
		return ntfw_addr_ranges_has(a->ranges, p->family, addr);
	for (i = 0; i < a->n; i++)
		if (ntfw_prefix_match(&a->v[i], p->family, addr))
			return true;
	return false;
}

static bool ports_match(const struct ntfw_ports *ps, uint16_t port)
{
	unsigned int i;

	if (ps->m)
		return ntfw_port_ranges_has(ps->m, ps->nm, port);
	for (i = 0; i < ps->n; i++)
		if (port >= ps->v[i].lo && port <= ps->v[i].hi)
			return true;
	return false;
}

static bool bit_isset(const uint64_t *map, uint8_t b)
{
	return map[b / 64] & (1ull << (b % 64));
}

static bool icmp_match(const struct ntfw_rule *r, const struct ntfw_pkt *p)
{
	if (p->proto == IPPROTO_ICMP && p->family == 4)
		return bit_isset(r->icmp4, p->icmp_type);
	if (p->proto == IPPROTO_ICMPV6 && p->family == 6)
		return bit_isset(r->icmp6, p->icmp_type);
	return false;
}

static bool cmp(uint64_t a, uint8_t op, uint64_t b)
{
	switch (op) {
	case NTFW_GT:
		return a > b;
	case NTFW_GE:
		return a >= b;
	case NTFW_LT:
		return a < b;
	case NTFW_LE:
		return a <= b;
	case NTFW_EQ:
		return a == b;
	default:
		return a != b;
	}
}

/* The stateful part of a rule, tested once everything else matched:
 * flow features, then rates (which count only packets that got here). */
static bool state_match(const struct ntfw_rule *r, unsigned int idx,
			const struct ntfw_pkt *p, struct ntfw_eval_ctx *ctx)
{
	struct ntfw_flow *f = ctx ? ctx->flow : NULL;
	unsigned int i;

	if (ctx && ctx->static_part)
		return true;
	if (r->have & NTFW_M_STATE) {
		/* Without a flow table every packet is a first packet. */
		uint8_t st = ctx ? ctx->pstate : NTFW_ST_NEW;

		if (!(r->states & (1u << st)))
			return false;
	}
	if (r->nflowc) {
		if (!f)
			return false;
		for (i = 0; i < r->nflowc; i++)
			if (!cmp(ntfw_feature_value(&f->feat, r->flowc[i].feature),
				 r->flowc[i].op, r->flowc[i].value))
				return false;
	}
	if (r->have & NTFW_M_FPS) {
		if (!f || !ctx->lim)
			return false;
		/* Judged once, when the flow opens; the verdict holds for
		 * all its packets (a retransmitted SYN is not a new flow). */
		if (ctx->new_flow &&
		    ntfw_limiter_over(ctx->lim, (uint16_t)idx, 1, f->family,
				      f->caddr, &r->fps, ctx->now_ns))
			f->fps_over |= 1u << r->fps_bit;
		/* This rule's judgement only: another rule's limit is not
		 * this one's. */
		if (!(f->fps_over & (1u << r->fps_bit)))
			return false;
	}
	if (r->have & NTFW_M_RATE) {
		const uint8_t *key = NULL;

		if (!ctx || !ctx->lim)
			return false;
		if (r->rate.per_addr)
			key = r->rate.per_dst ? p->dst : p->src;
		return ntfw_limiter_over(ctx->lim, (uint16_t)idx, 0, p->family,
					 key, &r->rate, ctx->now_ns);
	}
	return true;
}

bool ntfw_rule_match(const struct ntfw_rule *r, unsigned int idx,
		     const struct ntfw_pkt *p, struct ntfw_eval_ctx *ctx)
{
	struct ntfw_ifcache *ifc = ctx ? ctx->ifc : NULL;
	uint32_t have = r->have;
	/* The rule needs a field the copy range kept from the parser. */
	bool unknown = false;

	if (ctx && ctx->static_only && (have & NTFW_M_DYNAMIC))
		return false;
	if (r->family && r->family != p->family)
		return false;
	if (have & NTFW_M_PROTO) {
		if (p->flags & NTFW_PKT_PROTO_UNKNOWN)
			unknown = true;
		else if (r->proto != p->proto)
			return false;
	}
	if ((have & NTFW_M_HOOK) && (p->hook > 7 || !(r->hooks & (1u << p->hook))))
		return false;
	if ((have & NTFW_M_L4) && (p->flags & NTFW_PKT_PROTO_UNKNOWN)) {
		unknown = true;
	} else if (have & NTFW_M_L4) {
		bool l4 = p->flags & NTFW_PKT_L4;

		if (!l4 && !(p->flags & NTFW_PKT_L4_UNKNOWN))
			return false;
		/* Ports exist for TCP and UDP only (ICMP echo ids do not count). */
		if ((have & (NTFW_M_SPORT | NTFW_M_DPORT)) &&
		    p->proto != IPPROTO_TCP && p->proto != IPPROTO_UDP)
			return false;
		if ((have & NTFW_M_ICMP) &&
		    !(p->family == 4 && p->proto == IPPROTO_ICMP) &&
		    !(p->family == 6 && p->proto == IPPROTO_ICMPV6))
			return false;
		if ((have & NTFW_M_TCPFLAGS) && p->proto != IPPROTO_TCP)
			return false;
		if (!l4) {
			unknown = true;
		} else {
			if ((have & NTFW_M_DPORT) && !ports_match(&r->dport, p->dport))
				return false;
			if ((have & NTFW_M_SPORT) && !ports_match(&r->sport, p->sport))
				return false;
			if ((have & NTFW_M_ICMP) && !icmp_match(r, p))
				return false;
			if ((have & NTFW_M_TCPFLAGS) &&
			    ((p->tcp_flags & r->tcp_set) != r->tcp_set ||
			     (p->tcp_flags & r->tcp_clear)))
				return false;
		}
	}
	if ((have & NTFW_M_SRC) && !addrs_match(&r->src, p, p->src))
		return false;
	if ((have & NTFW_M_DST) && !addrs_match(&r->dst, p, p->dst))
		return false;
	if (have & (NTFW_M_IIF | NTFW_M_OIF)) {
		if (!ifc)
			return false;
		if ((have & NTFW_M_IIF) && strcmp(r->iif, ntfw_ifname(ifc, p->iif)))
			return false;
		if ((have & NTFW_M_OIF) && strcmp(r->oif, ntfw_ifname(ifc, p->oif)))
			return false;
	}
	/*
	 * Fail closed: everything readable matched, and what is not could.
	 * A drop rule drops the packet, an accept rule lets it fall through:
	 * hiding a port past the copy range must never get a packet in.
	 */
	if (unknown && r->verdict != NTFW_DROP)
		return false;
	if (have & NTFW_M_DYNAMIC)
		return state_match(r, idx, p, ctx);
	return true;
}

const struct ntfw_rule *ntfw_policy_eval(const struct ntfw_conf *conf,
					 const struct ntfw_pkt *p,
					 struct ntfw_eval_ctx *ctx,
					 unsigned int *idx)
{
	struct ntfw_cand c;
	unsigned int i;

	/* The index yields, in order, every rule that could match; each is
	 * confirmed here.  Without one (a hand-built conf), every rule. */
	if (ntfw_rule_index_start(conf->index, p, &c)) {
		while ((i = ntfw_cand_next(&c)) < conf->nrules) {
			if (ntfw_rule_match(&conf->rules[i], i, p, ctx)) {
				*idx = i;
				return &conf->rules[i];
			}
		}
		*idx = conf->nrules;
		return NULL;
	}
	for (i = 0; i < conf->nrules; i++) {
		if (ntfw_rule_match(&conf->rules[i], i, p, ctx)) {
			*idx = i;
			return &conf->rules[i];
		}
	}
	*idx = conf->nrules;
	return NULL;
}

void ntfw_policy_finality(struct ntfw_conf *conf)
{
	unsigned int i, next = conf->nrules;

	for (i = conf->nrules; i-- > 0;) {
		conf->rules[i].next_dyn = (uint16_t)next;
		if (conf->rules[i].have & NTFW_M_DYNAMIC)
			next = i;
	}
	conf->first_dyn = next;
}

const struct ntfw_rule *ntfw_policy_eval_dynamic(const struct ntfw_conf *conf,
						 const struct ntfw_pkt *p,
						 struct ntfw_eval_ctx *ctx,
						 unsigned int limit,
						 unsigned int *idx)
{
	unsigned int i;

	for (i = conf->first_dyn; i < limit; i = conf->rules[i].next_dyn) {
		if (ntfw_rule_match(&conf->rules[i], i, p, ctx)) {
			*idx = i;
			return &conf->rules[i];
		}
	}
	return NULL;
}

void ntfw_pkt_mirror(const struct ntfw_pkt *p, struct ntfw_pkt *m)
{
	*m = *p;
	memcpy(m->src, p->dst, sizeof(m->src));
	memcpy(m->dst, p->src, sizeof(m->dst));
	m->sport = p->dport;
	m->dport = p->sport;
	m->iif = p->oif;
	m->oif = p->iif;
	if (p->hook == 1 || p->hook == 3) /* NF_INET_LOCAL_IN <-> LOCAL_OUT */
		m->hook = (uint8_t)(4 - p->hook);
	if (p->proto == IPPROTO_ICMP && (p->icmp_type == 0 || p->icmp_type == 8))
		m->icmp_type = (uint8_t)(8 - p->icmp_type);
	if (p->proto == IPPROTO_ICMPV6 &&
	    (p->icmp_type == 128 || p->icmp_type == 129))
		m->icmp_type = (uint8_t)(257 - p->icmp_type);
}

bool ntfw_policy_final(const struct ntfw_conf *conf, const struct ntfw_pkt *p,
		       struct ntfw_eval_ctx *ctx, unsigned int base)
{
	struct ntfw_eval_ctx c = *ctx;
	struct ntfw_pkt m;
	unsigned int idx;

	/* Later fragments carry no ports: they are no witness. */
	if (p->flags & NTFW_PKT_LATERFRAG)
		return false;
	c.static_part = true;
	c.static_only = false;
	if (ntfw_policy_eval_dynamic(conf, p, &c, base, &idx))
		return false;
	ntfw_pkt_mirror(p, &m);
	return !ntfw_policy_eval_dynamic(conf, &m, &c, base, &idx);
}
