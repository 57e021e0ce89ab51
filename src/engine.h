/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_ENGINE_H
#define NTFW_ENGINE_H

#include <stdint.h>

#include "flow.h"
#include "ifcache.h"
#include "limiter.h"
#include "policy.h"
#include "relate.h"
#include "stats.h"

struct ntfw_conf;

/* What came with a packet besides its bytes. */
struct ntfw_meta {
	uint16_t hw_proto;	/* ETH_P_IP / ETH_P_IPV6; 0: unknown */
	uint8_t hook;		/* NF_INET_*; 0xff: unknown (offline) */
	uint32_t iif, oif;
	uint64_t ts_ns;		/* arrival time, ns since the epoch */
	uint32_t wire_len;	/* frame length; 0: IP length + 14 */
	bool ct_related;	/* the kernel says: related to a connection */
};

/*
 * The packet path shared by the daemon's workers and the offline reader:
 * parse, flow and features, policy, counters.  One per worker, unshared.
 */
struct ntfw_engine {
	const struct ntfw_conf *conf;
	struct ntfw_stats stats;
	struct ntfw_flow_table flows;
	struct ntfw_limiter lim;
	struct ntfw_ifcache ifc;
	/* Shared by the workers of several queues (NULL: one queue, or
	 * offline): the decided flows, for errors queued to another. */
	struct ntfw_relate *rel;
	uint8_t id;		/* the worker's index, published in @rel */
	/* Set by ntfw_engine_packet(): the packet belongs to a flow the
	 * kernel already has (queued before the hand-off took effect): its
	 * verdict carries the fast-path mark too, so that the kernel ring,
	 * which skips marked packets, does not count it a second time. */
	bool handed;
	ntfw_flow_end_cb on_end;	/* the caller's */
	void *on_end_arg;
	/* A packet dropped (NULL: none), @p NULL when malformed; @rule is
	 * the rule's index, nrules for the default, or NTFW_EVLOG_INVALID /
	 * NTFW_EVLOG_MALFORMED. */
	void (*on_drop)(const struct ntfw_pkt *p, unsigned int rule,
			unsigned int pstate, void *arg);
	void *on_drop_arg;
};

int ntfw_engine_init(struct ntfw_engine *e, const struct ntfw_conf *conf,
		     uint32_t flows_max, ntfw_flow_end_cb on_end, void *arg);
void ntfw_engine_free(struct ntfw_engine *e);

/*
 * The verdict for one packet.  With @handoff non-NULL, *@handoff is set
 * when the packet's flow has been accepted for good ("fastpath after N"):
 * the caller then asks the kernel to take the connection over.
 */
enum ntfw_verdict ntfw_engine_packet(struct ntfw_engine *e,
				     const uint8_t *data, uint32_t caplen,
				     uint32_t wirelen,
				     const struct ntfw_meta *m, bool *handoff);

struct ntfw_ring_rec;

/* What ntfw_engine_record() made of a record of the kernel ring. */
enum ntfw_rec_result {
	NTFW_REC_APPLIED,	/* to a flow handed off to the kernel */
	NTFW_REC_UNKNOWN,	/* no such flow, or one not handed off */
	NTFW_REC_IGNORED,	/* a packet the flow table keeps no state for */
	NTFW_REC_BAD,		/* fields out of bounds */
};

/*
 * A packet of a connection the kernel took over, as its ring summarises
 * it: the flow's features and TCP state move as they would for the same
 * packet queued (same flow-table path, wire length IP length + 14), with
 * no policy and no verdict.  A GSO record is cut into the segments the
 * wire carries.  Only flows handed off (f->handoff) take records.
 */
enum ntfw_rec_result ntfw_engine_record(struct ntfw_engine *e,
					const struct ntfw_ring_rec *r);

/* A new configuration for an engine, prepared by the caller. */
struct ntfw_engine_swap {
	const struct ntfw_conf *conf;
	struct ntfw_stats stats;	/* zeroed rule counters for @conf */
	const uint16_t *stat_map;	/* ntfw_conf_rule_map(), same verdict */
	const uint16_t *flow_map;	/* ntfw_conf_rule_map(), by name */
};

/*
 * Move @e to @s->conf.  Rule counters are carried over by @s->stat_map,
 * flows keep their features and have their rule renumbered by
 * @s->flow_map, the timeouts are @s->conf's, rate allowances start full.
 * @s->stats gets the old rule counters; the old conf is the caller's.
 */
void ntfw_engine_reload(struct ntfw_engine *e, struct ntfw_engine_swap *s);

/*
 * Flows ended by one tick at most: ending one writes its record, and a
 * burst of flows timing out together must not hold the packets queued
 * behind the tick (40,000 at once were a quarter of a second).
 */
#define NTFW_EXPIRE_BATCH 256u

/* Timers: end idle flows, NTFW_EXPIRE_BATCH at most.  Call at least once
 * a second, and again soon while it returns true (more are due). */
bool ntfw_engine_tick(struct ntfw_engine *e, uint64_t now_ns);

/* End every flow still open (daemon stop, end of capture). */
void ntfw_engine_flush(struct ntfw_engine *e);

#endif
