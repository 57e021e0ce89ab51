// SPDX-License-Identifier: GPL-2.0-only
/*
 * The packet path, top to bottom: parse, find or create the flow and update
 * its features, find the first matching rule, count, return the verdict.
 * No allocation, no locks, no exit.  Malformed packets get the verdict
 * of their own (`malformed`) and touch no flow.
 */
#include <string.h>

#include <linux/if_ether.h>

#include "conf.h"
#include "engine.h"
#include "parse.h"

static struct ntfw_flow_timeouts timeouts_of(const struct ntfw_conf *conf)
{
	struct ntfw_flow_timeouts to;

	memcpy(to.sec, conf->timeout, sizeof(to.sec));
	return to;
}

int ntfw_engine_init(struct ntfw_engine *e, const struct ntfw_conf *conf,
		     uint32_t flows_max, ntfw_flow_end_cb on_end, void *arg)
{
	struct ntfw_flow_timeouts to = timeouts_of(conf);
	int rc;

	memset(e, 0, sizeof(*e));
	e->conf = conf;
	if (ntfw_stats_init(&e->stats, conf))
		return -1;
	rc = ntfw_flow_table_init(&e->flows, flows_max, &to, on_end, arg);
	if (!rc)
		rc = ntfw_limiter_init(&e->lim, flows_max);
	if (rc) {
		ntfw_engine_free(e);
		return rc;
	}
	return 0;
}

void ntfw_engine_free(struct ntfw_engine *e)
{
	ntfw_flow_table_free(&e->flows);
	ntfw_limiter_free(&e->lim);
	ntfw_stats_free(&e->stats);
}

void ntfw_engine_reload(struct ntfw_engine *e, struct ntfw_engine_swap *s)
{
	struct ntfw_flow_timeouts to = timeouts_of(s->conf);
	unsigned int n = e->conf->nrules + 1;

	ntfw_stats_move_rules(&e->stats, &s->stats, s->stat_map, n);
	ntfw_flow_renumber_rules(&e->flows, s->flow_map, n);
	ntfw_flow_set_timeouts(&e->flows, &to);
	/* Buckets are keyed by rule index, which means another rule now. */
	ntfw_limiter_reset(&e->lim);
	e->conf = s->conf;
}

static void flow_counters(struct ntfw_engine *e)
{
	struct ntfw_stats *st = &e->stats;

	__atomic_store_n(&st->flows_active, e->flows.used, __ATOMIC_RELAXED);
	__atomic_store_n(&st->flows_created, e->flows.created, __ATOMIC_RELAXED);
	__atomic_store_n(&st->flows_ended, e->flows.ended, __ATOMIC_RELAXED);
	__atomic_store_n(&st->flows_evicted, e->flows.evicted, __ATOMIC_RELAXED);
	__atomic_store_n(&st->flows_expired, e->flows.expired, __ATOMIC_RELAXED);
}

enum ntfw_verdict ntfw_engine_packet(struct ntfw_engine *e,
				     const uint8_t *data, uint32_t caplen,
				     uint32_t wirelen,
				     const struct ntfw_meta *m, bool *handoff)
{
	const struct ntfw_conf *conf = e->conf;
	struct ntfw_stats *st = &e->stats;
	struct ntfw_eval_ctx ctx = {
		.ifc = &e->ifc, .lim = &e->lim, .now_ns = m->ts_ns,
	};
	const struct ntfw_rule *rule;
	enum ntfw_malformed bad;
	struct ntfw_flow *f;
	enum ntfw_verdict v;
	struct ntfw_pkt p;
	unsigned int idx;
	enum ntfw_ct ct;
	int dir;

	STAT_INC(st->packets);
	p.iif = m->iif;
	p.oif = m->oif;
	p.hook = m->hook;
	bad = data ? ntfw_parse(data, caplen, wirelen, &p) : NTFW_BAD_IP_HDR;
	/* The queue says which family it handed us; believe both or neither. */
	if (!bad && ((m->hw_proto == ETH_P_IP && p.family != 4) ||
		     (m->hw_proto == ETH_P_IPV6 && p.family != 6)))
		bad = NTFW_BAD_VERSION;
	if (bad) {
		STAT_INC(st->malformed);
		STAT_INC(st->malformed_by[bad]);
		v = conf->malformed;
		goto out;
	}
	f = ntfw_flow_packet(&e->flows, &p, m->ts_ns,
			     m->wire_len ? m->wire_len : p.ip_len + 14, &dir,
			     &ct);
	ctx.new_flow = ct == NTFW_CT_NEW;
	ctx.flow = f;
	rule = ntfw_policy_eval(conf, &p, &ctx, &idx);
	v = rule ? rule->verdict : conf->def;
	/* The record names the rule that admitted the flow, or the first
	 * that dropped any of its packets. */
	if (f->rule == UINT16_MAX || (v == NTFW_DROP && f->verdict != NTFW_DROP)) {
		f->rule = (uint16_t)idx;
		f->verdict = (uint8_t)v;
	}
	STAT_INC(st->rule_pkts[idx]);
	STAT_ADD(st->rule_bytes[idx], p.ip_len);
	/* Accepted for good: the kernel can take the rest of the connection
	 * (drops stay here: the kernel forgets an unconfirmed connection's
	 * mark together with its dropped first packet). */
	if (handoff && v == NTFW_ACCEPT && conf->fastpath_after && !f->handoff &&
	    f->feat.d[0].pkts + f->feat.d[1].pkts >= conf->fastpath_after &&
	    ntfw_policy_final(conf, &p, idx)) {
		f->handoff = 1;
		*handoff = true;
		STAT_INC(st->handoffs);
	}
	flow_counters(e);
out:
	if (v == NTFW_DROP)
		STAT_INC(st->dropped);
	else
		STAT_INC(st->accepted);
	return v;
}

void ntfw_engine_tick(struct ntfw_engine *e, uint64_t now_ns)
{
	ntfw_flow_expire(&e->flows, now_ns);
	flow_counters(e);
}

void ntfw_engine_flush(struct ntfw_engine *e)
{
	ntfw_flow_flush(&e->flows, NTFW_END_EOF);
	flow_counters(e);
}
