// SPDX-License-Identifier: GPL-2.0-only
/*
 * The packet path, top to bottom: parse; an ICMP error about a known flow
 * follows that flow (related); otherwise find or create the flow and
 * update its features (an invalid packet touches nothing); a flow's first
 * packet decides its state through the rules, later packets follow it
 * unless a per-packet rule above the deciding one takes them; count;
 * return the verdict.  No allocation, no locks, no exit.  Malformed
 * packets get the verdict of their own (`malformed`) and touch no flow.
 */
#include <string.h>

#include <netinet/in.h>
#include <linux/if_ether.h>

#include "conf.h"
#include "engine.h"
#include "evlog.h"
#include "kring.h"
#include "parse.h"

static struct ntfw_flow_timeouts timeouts_of(const struct ntfw_conf *conf)
{
	struct ntfw_flow_timeouts to;

	memcpy(to.sec, conf->timeout, sizeof(to.sec));
	return to;
}

/* A flow ended: it is no longer anybody's to relate errors to. */
static void flow_ended(const struct ntfw_flow *f, void *arg)
{
	struct ntfw_engine *e = arg;

	if (e->rel && f->decided)
		ntfw_relate_del(e->rel, f->family, f->proto, f->caddr,
				f->cport, f->saddr, f->sport);
	if (e->on_end)
		e->on_end(f, e->on_end_arg);
}

int ntfw_engine_init(struct ntfw_engine *e, const struct ntfw_conf *conf,
		     uint32_t flows_max, ntfw_flow_end_cb on_end, void *arg)
{
	struct ntfw_flow_timeouts to = timeouts_of(conf);
	int rc;

	memset(e, 0, sizeof(*e));
	e->conf = conf;
	e->on_end = on_end;
	e->on_end_arg = arg;
	if (ntfw_stats_init(&e->stats, conf))
		return -1;
	rc = ntfw_flow_table_init(&e->flows, flows_max, &to, flow_ended, e);
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

/* Where each flows-per-src rule's bit goes: to the bit of the same rule
 * in the new configuration, while it still has flows-per-src. */
static void fps_map(const struct ntfw_conf *from, const struct ntfw_conf *to,
		    const uint16_t *rule_map, int8_t map[NTFW_FLOW_FPS_MAX])
{
	const struct ntfw_rule *r, *nr;
	unsigned int i;

	memset(map, -1, NTFW_FLOW_FPS_MAX);
	for (i = 0; i < from->nrules; i++) {
		r = &from->rules[i];
		if (!(r->have & NTFW_M_FPS) || rule_map[i] >= to->nrules)
			continue;
		nr = &to->rules[rule_map[i]];
		if (nr->have & NTFW_M_FPS)
			map[r->fps_bit] = (int8_t)nr->fps_bit;
	}
}

/* After a reload: what the other workers may read of this one's flows. */
static void republish(struct ntfw_flow *f, void *arg)
{
	struct ntfw_engine *e = arg;

	if (f->decided)
		ntfw_relate_put(e->rel, f->family, f->proto, f->caddr, f->cport,
				f->saddr, f->sport, f->sverdict, f->base,
				e->id);
	else
		ntfw_relate_del(e->rel, f->family, f->proto, f->caddr,
				f->cport, f->saddr, f->sport);
}

void ntfw_engine_reload(struct ntfw_engine *e, struct ntfw_engine_swap *s)
{
	struct ntfw_flow_timeouts to = timeouts_of(s->conf);
	unsigned int n = e->conf->nrules + 1;
	int8_t fps[NTFW_FLOW_FPS_MAX];

	ntfw_stats_move_rules(&e->stats, &s->stats, s->stat_map, n);
	ntfw_flow_redecide(&e->flows, s->conf->reload_keep, s->flow_map, n,
			   (uint16_t)s->conf->nrules);
	ntfw_flow_renumber_rules(&e->flows, s->flow_map, n);
	fps_map(e->conf, s->conf, s->flow_map, fps);
	ntfw_flow_renumber_fps(&e->flows, fps);
	ntfw_flow_set_timeouts(&e->flows, &to);
	/* Buckets are keyed by rule index, which means another rule now. */
	ntfw_limiter_reset(&e->lim);
	e->conf = s->conf;
	if (e->rel)
		ntfw_flow_foreach(&e->flows, republish, e);
}

/*
 * Publish the flow table's counters.  Every change to them passes through
 * flow_end() (ended) or flow_new() (created): when neither moved since the
 * last call, the five stores would write what is there already.  Only this
 * worker writes the stats, so reading them back needs no atomics.
 */
static void flow_counters(struct ntfw_engine *e)
{
	struct ntfw_stats *st = &e->stats;

	if (st->flows_created == e->flows.created &&
	    st->flows_ended == e->flows.ended)
		return;
	__atomic_store_n(&st->flows_active, e->flows.used, __ATOMIC_RELAXED);
	__atomic_store_n(&st->flows_created, e->flows.created, __ATOMIC_RELAXED);
	__atomic_store_n(&st->flows_ended, e->flows.ended, __ATOMIC_RELAXED);
	__atomic_store_n(&st->flows_evicted, e->flows.evicted, __ATOMIC_RELAXED);
	__atomic_store_n(&st->flows_expired, e->flows.expired, __ATOMIC_RELAXED);
}

/*
 * Packets that keep no state: ICMP other than echo has no connection, and
 * conntrack tracks none for it either; a packet whose ports are unknown (a
 * later fragment, a transport header past the copy range) would share one
 * flow with every other such packet of its two hosts, and with a real
 * flow on ports 0.  Each is judged by the rules on its own, outside the
 * flow table.
 */
static bool stateless(const struct ntfw_pkt *p)
{
	if (p->flags & (NTFW_PKT_LATERFRAG | NTFW_PKT_L4_UNKNOWN |
			NTFW_PKT_PROTO_UNKNOWN))
		return true;
	if (p->proto == IPPROTO_ICMP)
		return p->icmp_type != 0 && p->icmp_type != 8;
	if (p->proto == IPPROTO_ICMPV6)
		return p->icmp_type != 128 && p->icmp_type != 129;
	return false;
}

static bool echo_request(const struct ntfw_pkt *p)
{
	return (p->proto == IPPROTO_ICMP && p->icmp_type == 8) ||
	       (p->proto == IPPROTO_ICMPV6 && p->icmp_type == 128);
}

/* A packet that can open a connection: a TCP SYN (no ACK), an echo
 * request, anything of a protocol without handshake. */
static bool opener(const struct ntfw_pkt *p)
{
	if (p->proto == IPPROTO_TCP)
		return (p->tcp_flags & (NTFW_TCP_SYN | NTFW_TCP_ACK)) ==
		       NTFW_TCP_SYN;
	if (p->proto == IPPROTO_ICMP || p->proto == IPPROTO_ICMPV6)
		return echo_request(p);
	return true;
}

/*
 * Decide the state of flow @f from @p, seen in direction @dir: the first
 * rule that matches it without its per-packet conditions, or the default.
 * The flow is judged as the packet that opened it: a flow decided again
 * after a reload turns a packet of the other direction round, and never
 * trusts a guess of who the client is.
 */
static void decide(struct ntfw_engine *e, struct ntfw_flow *f,
		   const struct ntfw_pkt *p, int dir, bool opening,
		   struct ntfw_eval_ctx *ctx)
{
	const struct ntfw_conf *conf = e->conf;
	struct ntfw_eval_ctx c = *ctx;
	const struct ntfw_rule *r;
	struct ntfw_pkt m;
	unsigned int idx;

	c.static_only = true;
	if (opening) {
		f->open_dir = (uint8_t)dir;
	} else if (dir != f->open_dir) {
		ntfw_pkt_mirror(p, &m);
		p = &m;
	}
	r = ntfw_policy_eval(conf, p, &c, &idx);
	f->base = (uint16_t)idx;
	f->sverdict = (uint8_t)(r ? r->verdict : conf->def);
	f->decided = 1;
	ntfw_flow_set_verdict(&e->flows, f, f->sverdict == NTFW_DROP);
	if (e->rel)
		ntfw_relate_put(e->rel, f->family, f->proto, f->caddr, f->cport,
				f->saddr, f->sport, f->sverdict, f->base,
				e->id);
}

/* A packet that follows flow @f: the per-packet rules above the one that
 * decided the flow may still take it; otherwise the flow's state does. */
static enum ntfw_verdict follow(const struct ntfw_conf *conf,
				const struct ntfw_flow *f,
				const struct ntfw_pkt *p,
				struct ntfw_eval_ctx *ctx, unsigned int *idx)
{
	const struct ntfw_rule *r;

	r = ntfw_policy_eval_dynamic(conf, p, ctx, f->base, idx);
	if (r)
		return r->verdict;
	*idx = f->base;
	return (enum ntfw_verdict)f->sverdict;
}

/* An error about a flow of another worker: its verdict and rule, without
 * the flow itself (so "flow" conditions do not hold for it). */
static bool related_elsewhere(struct ntfw_engine *e, const struct ntfw_pkt *p,
			      struct ntfw_eval_ctx *ctx, enum ntfw_verdict *v,
			      unsigned int *idx)
{
	const struct ntfw_rule *r;
	uint8_t verdict;
	uint16_t base;

	if (!e->rel || !(p->flags & NTFW_PKT_INNER) ||
	    memcmp(p->dst, p->inner_src, 16) ||
	    !ntfw_relate_get(e->rel, p->family, p->inner_proto, p->inner_src,
			     p->inner_sport, p->inner_dst, p->inner_dport,
			     &verdict, &base) ||
	    base > e->conf->nrules)
		return false;
	ctx->pstate = NTFW_ST_RELATED;
	r = ntfw_policy_eval_dynamic(e->conf, p, ctx, base, idx);
	if (r) {
		*v = r->verdict;
	} else {
		*v = (enum ntfw_verdict)verdict;
		*idx = base;
	}
	return true;
}

/* A packet judged by the rules alone, outside any flow. */
static enum ntfw_verdict judge(const struct ntfw_conf *conf,
			       const struct ntfw_pkt *p,
			       struct ntfw_eval_ctx *ctx, unsigned int *idx)
{
	const struct ntfw_rule *r = ntfw_policy_eval(conf, p, ctx, idx);

	return r ? r->verdict : conf->def;
}

/*
 * An ICMP error quoting a packet of a flow we decided, sent back to that
 * packet's source (as conntrack's nf_conntrack_inet_error() requires: an
 * error quoting somebody else's packet is nobody's to receive).
 */
static struct ntfw_flow *related_flow(struct ntfw_engine *e,
				      const struct ntfw_pkt *p)
{
	struct ntfw_flow *f;
	int dir;

	if (!(p->flags & NTFW_PKT_INNER) || memcmp(p->dst, p->inner_src, 16))
		return NULL;
	f = ntfw_flow_lookup(&e->flows, p->family, p->inner_proto,
			     p->inner_src, p->inner_sport, p->inner_dst,
			     p->inner_dport, &dir);
	return f && f->decided ? f : NULL;
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
	uint32_t wire;
	const struct ntfw_rule *rule;
	enum ntfw_malformed bad;
	struct ntfw_flow *f;
	enum ntfw_verdict v;
	struct ntfw_pkt p;
	unsigned int idx;
	enum ntfw_ct ct;
	int dir;

	STAT_INC(st->packets);
	e->handed = false;
	p.iif = m->iif;
	p.oif = m->oif;
	p.hook = m->hook;
	bad = data ? ntfw_parse(data, caplen, wirelen, &p) : NTFW_BAD_IP_HDR;
	/* The queue says which family it handed us; believe both or neither. */
	if (!bad && ((m->hw_proto == ETH_P_IP && p.family != 4) ||
		     (m->hw_proto == ETH_P_IPV6 && p.family != 6)))
		bad = NTFW_BAD_VERSION;
	if (bad) {
		idx = NTFW_EVLOG_MALFORMED;
		STAT_INC(st->malformed);
		STAT_INC(st->malformed_by[bad]);
		v = conf->malformed;
		goto out;
	}
	/* Related: an ICMP error about a flow follows that flow. */
	f = related_flow(e, &p);
	if (f) {
		ctx.flow = f;
		ctx.pstate = NTFW_ST_RELATED;
		v = follow(conf, f, &p, &ctx, &idx);
		goto counted;
	}
	if (related_elsewhere(e, &p, &ctx, &v, &idx))
		goto counted;
	/* No state: the rules alone.  Likewise an echo request from the
	 * side that answered this identifier's requests so far: a new
	 * exchange, not a reply (conntrack's inverse of a request is a
	 * reply only). */
	ctx.pstate = NTFW_ST_NEW;
	if (stateless(&p) ||
	    (echo_request(&p) &&
	     (f = ntfw_flow_lookup(&e->flows, p.family, p.proto, p.src,
				   p.sport, p.dst, p.dport, &dir)) && dir)) {
		STAT_INC(st->untracked);
		v = judge(conf, &p, &ctx, &idx);
		goto counted;
	}
	wire = m->wire_len ? m->wire_len : p.ip_len + 14;
	f = ntfw_flow_packet(&e->flows, &p, m->ts_ns, wire, &dir, &ct);
	/*
	 * A dropped flow binds only the direction that opened it, as
	 * conntrack forgets a dropped first packet and pf keeps no state
	 * for a blocked one: a packet that opens a connection the other way
	 * opens a flow of its own (a spoofed packet must not cut the host's
	 * own traffic).  Replies of the dropped flow stay dropped with it.
	 */
	if (ct != NTFW_CT_NEW && f->decided && f->sverdict == NTFW_DROP &&
	    dir != f->open_dir && opener(&p)) {
		ntfw_flow_end_now(&e->flows, f, NTFW_END_REOPENED);
		f = ntfw_flow_packet(&e->flows, &p, m->ts_ns, wire, &dir, &ct);
	}
	ctx.flow = f;
	ctx.new_flow = ct == NTFW_CT_NEW;
	if (ct == NTFW_CT_INVALID) {
		/* Out of the flow's window: the per-packet rules (state
		 * invalid) may take it, else the "invalid" verdict, which
		 * is never looser than the flow's own. */
		ctx.pstate = NTFW_ST_INVALID;
		rule = ntfw_policy_eval_dynamic(conf, &p, &ctx, conf->nrules,
						&idx);
		if (rule) {
			v = rule->verdict;
			goto counted;
		}
		STAT_INC(st->state_pkts[NTFW_ST_INVALID]);
		STAT_INC(st->invalid_unmatched);
		idx = NTFW_EVLOG_INVALID;
		v = conf->invalid;
		if (!f->decided || f->sverdict == NTFW_DROP)
			v = NTFW_DROP;
		goto out;
	}
	ctx.pstate = ct == NTFW_CT_NEW ? NTFW_ST_NEW : NTFW_ST_ESTABLISHED;
	if (ctx.pstate == NTFW_ST_NEW || !f->decided)
		decide(e, f, &p, dir, ctx.pstate == NTFW_ST_NEW, &ctx);
	v = follow(conf, f, &p, &ctx, &idx);
	/* The record names the rule that admitted the flow, or the first
	 * that dropped any of its packets. */
	if (f->rule == UINT16_MAX || (v == NTFW_DROP && f->verdict != NTFW_DROP)) {
		f->rule = (uint16_t)idx;
		f->verdict = (uint8_t)v;
	}
	/* Accepted for good: the kernel can take the rest of the connection
	 * (drops stay here: the kernel forgets an unconfirmed connection's
	 * mark together with its dropped first packet).  Only on a packet of
	 * the connection itself, never on an error that quotes it. */
	e->handed = v == NTFW_ACCEPT && (f->handoff & NTFW_HO_KERNEL);
	if (handoff && !m->ct_related && v == NTFW_ACCEPT &&
	    f->sverdict == NTFW_ACCEPT && conf->fastpath_after && !f->handoff &&
	    f->feat.d[0].pkts + f->feat.d[1].pkts >= conf->fastpath_after &&
	    ntfw_policy_final(conf, &p, &ctx, f->base)) {
		f->handoff = NTFW_HO_KERNEL;
		*handoff = true;
		STAT_INC(st->handoffs);
	}
	flow_counters(e);
counted:
	STAT_INC(st->state_pkts[ctx.pstate]);
	STAT_INC(st->rule_pkts[idx]);
	STAT_ADD(st->rule_bytes[idx], p.ip_len);
out:
	if (v == NTFW_DROP) {
		STAT_INC(st->dropped);
		if (e->on_drop)
			e->on_drop(bad ? NULL : &p, idx, ctx.pstate,
				   e->on_drop_arg);
	} else
		STAT_INC(st->accepted);
	return v;
}

/* ---- records of the kernel ring ---- */

/* Segments of one GSO record at most: 512 KiB (BIG TCP) in 128-byte
 * segments.  More is not a packet the kernel made. */
#define REC_SEGS_MAX 4096u
#define REC_IP_LEN_MAX (1u << 20)

/* The transport header's least length, 0 for a protocol without one we
 * read. */
static uint32_t l4_min(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return 20;
	case IPPROTO_UDP:
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return 8;
	}
	return 0;
}

/*
 * The packet @r summarises, as ntfw_parse() would have given it, checked
 * field by field: the record comes from memory the kernel writes while
 * we read, and its fields are not trusted.  False when out of bounds.
 */
static bool rec_to_pkt(const struct ntfw_ring_rec *r, struct ntfw_pkt *p)
{
	uint32_t hmin, l4 = l4_min(r->proto);
	bool gso = r->gso_size && r->payload_len > r->gso_size;

	memset(p, 0, sizeof(*p));
	p->tcp_wscale = -1;
	p->hook = 0xff;
	if (r->family != 4 && r->family != 6)
		return false;
	p->family = r->family;
	p->proto = r->proto;
	memcpy(p->src, r->saddr, p->family == 4 ? 4 : 16);
	memcpy(p->dst, r->daddr, p->family == 4 ? 4 : 16);
	p->ip_len = r->ip_len;
	p->payload_len = r->payload_len;
	hmin = (p->family == 4 ? 20 : 40) +
	       (r->flags & NTFW_REC_L4 ? l4 : 0);
	if (r->ip_len > REC_IP_LEN_MAX || r->payload_len > r->ip_len ||
	    r->ip_len - r->payload_len < hmin)
		return false;
	/* Past 64 KiB only as a GSO packet (BIG TCP). */
	if (!gso && r->ip_len > (p->family == 4 ? 65535u : 65535u + 40))
		return false;
	if (gso && ((r->payload_len - 1) / r->gso_size >= REC_SEGS_MAX ||
		    r->ip_len - r->payload_len + r->gso_size > 65535u))
		return false;
	if (r->hook == NTFW_REC_PRE_ROUTING)
		p->iif = r->ifindex;
	else if (r->hook == NTFW_REC_POST_ROUTING)
		p->oif = r->ifindex;
	if (r->flags & NTFW_REC_FRAG)
		p->flags |= NTFW_PKT_FRAG;
	if (!(r->flags & NTFW_REC_L4)) {
		/* A later fragment, or a header the kernel could not read:
		 * no ports, as the parser gives none. */
		if (l4)
			p->flags |= (r->flags & NTFW_REC_FRAG) ?
				    NTFW_PKT_LATERFRAG : NTFW_PKT_L4_UNKNOWN;
		return true;
	}
	if (!l4)
		return true;	/* no transport fields for this protocol */
	p->flags |= NTFW_PKT_L4;
	switch (p->proto) {
	case IPPROTO_TCP:
		p->sport = r->sport;
		p->dport = r->dport;
		p->tcp_seq = r->seq;
		p->tcp_ack = r->ack;
		p->tcp_flags = r->tcp_flags;
		p->tcp_win = r->window;
		if ((r->tcp_flags & NTFW_TCP_SYN) && r->tcp_wscale != 0xff)
			p->tcp_wscale = (int8_t)(r->tcp_wscale > 14 ? 14 :
						 r->tcp_wscale);
		break;
	case IPPROTO_UDP:
		p->sport = r->sport;
		p->dport = r->dport;
		break;
	default:
		p->icmp_type = r->icmp_type;
		p->icmp_code = r->icmp_code;
		if (echo_request(p) ||
		    (p->proto == IPPROTO_ICMP && p->icmp_type == 0) ||
		    (p->proto == IPPROTO_ICMPV6 && p->icmp_type == 129))
			p->sport = p->dport = r->sport;
		break;
	}
	return true;
}

/* One packet into its flow, as ntfw_engine_packet() puts it there.  The
 * kernel passed it, but the flow's TCP tracking may still refuse it: then
 * it counts nowhere but in ring_invalid. */
static void rec_apply(struct ntfw_engine *e, const struct ntfw_pkt *p,
		      uint64_t ts)
{
	enum ntfw_ct ct;
	int dir;

	ntfw_flow_packet(&e->flows, p, ts, p->ip_len + 14, &dir, &ct);
	if (ct == NTFW_CT_INVALID)
		STAT_INC(e->stats.ring_invalid);
}

enum ntfw_rec_result ntfw_engine_record(struct ntfw_engine *e,
					const struct ntfw_ring_rec *r)
{
	struct ntfw_stats *st = &e->stats;
	uint32_t hdr, left, seg, seq, size;
	struct ntfw_flow *f;
	struct ntfw_pkt p, s;
	uint8_t fl;
	uint64_t ts;
	bool first;
	int dir;

	if (!rec_to_pkt(r, &p)) {
		STAT_INC(st->ring_bad);
		return NTFW_REC_BAD;
	}
	/* What the queued path keeps out of the flow table stays out. */
	if (stateless(&p)) {
		STAT_INC(st->ring_ignored);
		return NTFW_REC_IGNORED;
	}
	f = ntfw_flow_lookup(&e->flows, p.family, p.proto, p.src, p.sport,
			     p.dst, p.dport, &dir);
	if (!f || !f->handoff) {
		STAT_INC(st->ring_unknown);
		return NTFW_REC_UNKNOWN;
	}
	if (echo_request(&p) && dir) {
		STAT_INC(st->ring_ignored);
		return NTFW_REC_IGNORED;
	}
	/* The kernel's clock: a flow's time never goes back for it. */
	ts = r->ts_ns > f->last_ns ? r->ts_ns : f->last_ns;
	STAT_INC(st->ring_applied);
	size = r->gso_size;
	if (!size || p.payload_len <= size ||
	    (p.proto != IPPROTO_TCP && p.proto != IPPROTO_UDP) ||
	    !(p.flags & NTFW_PKT_L4)) {
		rec_apply(e, &p, ts);
		flow_counters(e);
		return NTFW_REC_APPLIED;
	}
	/*
	 * A GSO packet: the segments the wire carries, as the stack cuts
	 * them (tcp_gso_segment()): every segment has the headers, the
	 * payload in @size pieces, the sequence number moving on; PSH and
	 * FIN only on the last, SYN and CWR only on the first.
	 */
	hdr = p.ip_len - p.payload_len;
	fl = p.tcp_flags;
	seq = p.tcp_seq;
	first = true;
	for (left = p.payload_len; left; left -= seg) {
		seg = left < size ? left : size;
		s = p;
		s.payload_len = seg;
		s.ip_len = hdr + seg;
		if (p.proto == IPPROTO_TCP) {
			s.tcp_seq = seq;
			s.tcp_flags = fl;
			if (left > seg)
				s.tcp_flags &= (uint8_t)~(NTFW_TCP_PSH | NTFW_TCP_FIN);
			if (!first)
				s.tcp_flags &= (uint8_t)~(NTFW_TCP_SYN | NTFW_TCP_CWR);
			if (!first)
				s.tcp_wscale = -1;
			seq += seg + !!(s.tcp_flags & NTFW_TCP_SYN);
		}
		rec_apply(e, &s, ts);
		first = false;
	}
	flow_counters(e);
	return NTFW_REC_APPLIED;
}

bool ntfw_engine_tick(struct ntfw_engine *e, uint64_t now_ns)
{
	bool more = ntfw_flow_expire(&e->flows, now_ns, NTFW_EXPIRE_BATCH);

	flow_counters(e);
	return more;
}

void ntfw_engine_flush(struct ntfw_engine *e)
{
	ntfw_flow_flush(&e->flows, NTFW_END_EOF);
	flow_counters(e);
}
