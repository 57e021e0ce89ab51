/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_FLOW_H
#define NTFW_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "features.h"

struct ntfw_pkt;

#define NTFW_FLOW_NONE UINT32_MAX

/* Why a flow record was written (the "end" field). */
enum ntfw_flow_end {
	NTFW_END_NONE,
	NTFW_END_FIN,
	NTFW_END_RST,
	NTFW_END_TIMEOUT,
	NTFW_END_EVICTED,
	NTFW_END_EOF,
	NTFW_END_REOPENED,	/* dropped, then opened the other way round */
};

const char *ntfw_flow_end_name(enum ntfw_flow_end e);

/* Idle-timeout classes, each its own LRU list so expiry looks at heads. */
enum ntfw_tclass {
	NTFW_TC_TCP,
	NTFW_TC_UDP,
	NTFW_TC_OTHER,	/* ICMP, ICMPv6 and other protocols */
	NTFW_TC_CLOSED,	/* TCP after RST / both FINs acked: stragglers */
	NTFW_TC_DROPPED, /* decided drop: short-lived, evicted first */
	NTFW_TC_MAX,
};

/* TCP state bits */
#define NTFW_FS_SYN_C 0x01	/* client's SYN seen */
#define NTFW_FS_SYN_S 0x02	/* server's SYN (a SYN-ACK) seen */
#define NTFW_FS_FIN_C 0x04
#define NTFW_FS_FIN_S 0x08
#define NTFW_FS_FINACK_C 0x10	/* client's FIN acked */
#define NTFW_FS_FINACK_S 0x20
#define NTFW_FS_MIDSTREAM 0x40	/* first packet was not a client SYN */

/* handoff bits */
#define NTFW_HO_KERNEL 0x01	/* handed to the kernel fast path */
#define NTFW_HO_RING_LOST 0x02	/* the kernel ring lost records while the
				 * kernel had it: its features miss packets */

/* Rules with flows-per-src: each has a bit in a flow's fps_over. */
#define NTFW_FLOW_FPS_MAX 32

/*
 * What TCP tracking knows of the sender of one direction, as conntrack
 * keeps it (ip_ct_tcp_state): sequence numbers are the sender's, windows
 * what its peer allows it.
 */
struct ntfw_tcp_peer {
	uint32_t end;		/* highest sequence number sent, plus its length */
	uint32_t maxend;	/* highest the peer's ACK + window let it send */
	uint32_t maxwin;	/* largest window it advertised, scaled; 0: the
				 * direction has not been seen yet */
	uint32_t maxack;	/* highest ACK it sent (NTFW_TD_MAXACK) */
};

/* tcp_dir[] bits: the window scale (RFC 7323) in the low four */
#define NTFW_TD_SCALE 0x0f
#define NTFW_TD_WSOPT 0x10	/* its SYN carried the window scale option */
#define NTFW_TD_MAXACK 0x20	/* maxack is set */

struct ntfw_flow {
	uint8_t family;
	uint8_t proto;
	uint8_t state;		/* NTFW_FS_* */
	uint8_t tclass;		/* enum ntfw_tclass */
	uint8_t end;		/* enum ntfw_flow_end once decided */
	uint8_t verdict;	/* enum ntfw_verdict of the record */
	uint16_t rule;		/* index of the deciding rule, nrules = default */
	uint8_t handoff;	/* accepted for good: the kernel has it now;
				 * nonzero, with NTFW_HO_* bits */
	uint8_t decided;	/* its state below holds (not before a reload) */
	uint8_t sverdict;	/* enum ntfw_verdict: the flow's state */
	uint8_t open_dir;	/* direction of the packet that decided it */
	uint16_t base;		/* the rule that decided the state, nrules:
				 * the default */
	uint16_t cport, sport;	/* client and server port (ICMP: echo id) */
	uint8_t tcp_dir[2];	/* per direction: window scale, NTFW_TD_* */
	uint32_t hnext;		/* hash chain */
	uint32_t prev, next;	/* LRU list of its class */
	uint32_t fps_over;	/* opened over the limit of flows-per-src
				 * rule n (its fps_bit): bit n */
	struct ntfw_tcp_peer tcp[2];	/* per direction, 0 = client's */
	uint8_t caddr[16], saddr[16];
	uint64_t first_ns, last_ns;
	struct ntfw_features feat;
};

struct ntfw_flow_timeouts {
	uint32_t sec[NTFW_TC_MAX];
};

typedef void (*ntfw_flow_end_cb)(const struct ntfw_flow *f, void *arg);

/*
 * A flow table: a fixed pool of flows, a hash of indexes, one LRU list per
 * timeout class.  Owned by one worker; nothing here locks.  Pool and
 * buckets are reserved for @max flows but touched only as flows use them.
 */
struct ntfw_flow_table {
	struct ntfw_flow *pool;
	uint32_t *bucket;
	uint32_t nbuckets;	/* a power of two */
	uint32_t max;
	uint32_t used;
	uint32_t free_head;	/* flows that ended, for reuse */
	uint32_t hwm;		/* pool[hwm..max) never used yet */
	uint32_t head[NTFW_TC_MAX], tail[NTFW_TC_MAX];
	uint64_t seed;
	uint64_t timeout_ns[NTFW_TC_MAX];
	uint64_t expire_at;	/* no list head's timeout falls before this */
	ntfw_flow_end_cb on_end;
	void *cb_arg;
	/* counters */
	uint64_t created, ended, evicted, expired;
};

int ntfw_flow_table_init(struct ntfw_flow_table *t, uint32_t max,
			 const struct ntfw_flow_timeouts *to,
			 ntfw_flow_end_cb on_end, void *arg);
void ntfw_flow_table_free(struct ntfw_flow_table *t);

/* New idle timeouts; they apply to the flows already in the table too. */
void ntfw_flow_set_timeouts(struct ntfw_flow_table *t,
			    const struct ntfw_flow_timeouts *to);

/*
 * A reload: with @keep, each flow keeps its state and its deciding rule
 * index i below @n becomes @map[i], or @gone (the new default's index)
 * when that is larger (the rule left); without, every
 * flow's state is decided again on its next packet.
 */
void ntfw_flow_redecide(struct ntfw_flow_table *t, bool keep,
			const uint16_t *map, unsigned int n, uint16_t gone);

/*
 * The flow's state is now @dropped or accepted: a dropped flow moves to the short-lived
 * list that a full table evicts first (unless TCP closed it already), an
 * accepted one back to its protocol's.
 */
void ntfw_flow_set_verdict(struct ntfw_flow_table *t, struct ntfw_flow *f,
			   bool dropped);

/* Call @cb for every flow in the table. */
void ntfw_flow_foreach(struct ntfw_flow_table *t,
		       void (*cb)(struct ntfw_flow *f, void *arg), void *arg);

/* End @f now, with @why (its record is written). */
void ntfw_flow_end_now(struct ntfw_flow_table *t, struct ntfw_flow *f,
		       enum ntfw_flow_end why);

/* A reload renumbered the rules: each flow's rule index i below @n
 * becomes @map[i]. */
void ntfw_flow_renumber_rules(struct ntfw_flow_table *t, const uint16_t *map,
			      unsigned int n);

/* A reload renumbered the flows-per-src rules: bit n of each flow's
 * fps_over becomes bit @map[n], or goes when @map[n] is -1. */
void ntfw_flow_renumber_fps(struct ntfw_flow_table *t,
			    const int8_t map[NTFW_FLOW_FPS_MAX]);

/* What the flow table made of a packet. */
enum ntfw_ct {
	NTFW_CT_NEW,		/* it opened a flow */
	NTFW_CT_ESTABLISHED,	/* a packet of a known flow */
	NTFW_CT_INVALID,	/* a known flow's packet that TCP would not
				 * accept: flow state and features untouched */
};

/*
 * The flow of @p, created when new (evicting the oldest idle flow when the
 * table is full).  *@dir is 0 when @p goes client to server.  *@ct says
 * whether @p opened the flow, belongs to it, or is invalid for it.  Updates
 * features, state and timestamps (not for an invalid packet).
 */
struct ntfw_flow *ntfw_flow_packet(struct ntfw_flow_table *t,
				   const struct ntfw_pkt *p, uint64_t now_ns,
				   uint32_t wire_len, int *dir, enum ntfw_ct *ct);

/* The flow with these endpoints, either way round, or NULL; *@dir as in
 * ntfw_flow_packet().  Nothing is updated. */
struct ntfw_flow *ntfw_flow_lookup(struct ntfw_flow_table *t, uint8_t family,
				   uint8_t proto, const uint8_t *src,
				   uint16_t sport, const uint8_t *dst,
				   uint16_t dport, int *dir);

/*
 * End the flows idle past their timeout at @now_ns, at most @max of them
 * (each writes its record).  Returns true when more are due: call again.
 */
bool ntfw_flow_expire(struct ntfw_flow_table *t, uint64_t now_ns,
		      unsigned int max);

/* End every flow (end of capture, daemon stop) with @why, unless the flow
 * already knows its end (fin, rst). */
void ntfw_flow_flush(struct ntfw_flow_table *t, enum ntfw_flow_end why);

#endif
