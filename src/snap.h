/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_SNAP_H
#define NTFW_SNAP_H

#include <stdbool.h>
#include <stdint.h>

struct ntfw_flow_table;

/* One flow as the control socket shows it. */
struct ntfw_snap_flow {
	uint8_t family, proto;
	uint8_t verdict;	/* enum ntfw_verdict: the flow's state */
	uint8_t decided;
	uint8_t handoff;	/* NTFW_HO_* */
	uint16_t rule;		/* the deciding rule, nrules: the default */
	uint16_t cport, sport;
	uint8_t caddr[16], saddr[16];
	uint64_t pkts[2], bytes[2];	/* client to server, and back */
	uint64_t age_ns, idle_ns;
};

/*
 * A copy of one worker's flow table, asked for by the control thread and
 * filled by the worker itself between two batches: no thread ever reads
 * another's table.  @v has room for @cap flows; the worker sets @n, @total
 * (flows in its table, whether they fitted or not), then @done.
 */
struct ntfw_snap {
	struct ntfw_snap_flow *v;
	uint32_t cap, n, total;
	bool done;		/* atomic, release: the worker is done */
	int done_fd;		/* eventfd the worker writes when done */
};

/*
 * The worker's side: when *@slot holds a request, take it, fill it from
 * @t at time @now_ns (the worker's clock) and say it is done.
 */
void ntfw_snap_serve(struct ntfw_snap **slot, struct ntfw_flow_table *t,
		     uint64_t now_ns);

/*
 * The asker's side: post @s into *@slot and wake the worker through
 * @wake_fd.  ntfw_snap_cancel() takes it back if the worker has not taken
 * it yet (returns true: @s may be freed); false: the worker has it and
 * will set @s->done soon.
 */
void ntfw_snap_post(struct ntfw_snap **slot, struct ntfw_snap *s,
		    int wake_fd);
bool ntfw_snap_cancel(struct ntfw_snap **slot, struct ntfw_snap *s);

#endif
