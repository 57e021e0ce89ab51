// SPDX-License-Identifier: GPL-2.0-only
/*
 * Flow snapshots for the control socket.  The control thread posts a
 * request into a worker's slot and wakes it; the worker copies its table
 * between two batches of packets, so its packet path keeps no lock and
 * nobody reads a table while its owner changes it.
 */
#include <string.h>
#include <sys/eventfd.h>

#include "flow.h"
#include "snap.h"

struct fill {
	struct ntfw_snap *s;
	uint64_t now;
};

static void fill_one(struct ntfw_flow *f, void *arg)
{
	struct fill *c = arg;
	struct ntfw_snap *s = c->s;
	struct ntfw_snap_flow *o;

	s->total++;
	if (s->n >= s->cap)
		return;
	o = &s->v[s->n++];
	memset(o, 0, sizeof(*o));
	o->family = f->family;
	o->proto = f->proto;
	o->verdict = f->sverdict;
	o->decided = f->decided;
	o->handoff = f->handoff;
	o->rule = f->base;
	o->cport = f->cport;
	o->sport = f->sport;
	memcpy(o->caddr, f->caddr, sizeof(o->caddr));
	memcpy(o->saddr, f->saddr, sizeof(o->saddr));
	o->pkts[0] = f->feat.d[0].pkts;
	o->pkts[1] = f->feat.d[1].pkts;
	o->bytes[0] = f->feat.d[0].bytes;
	o->bytes[1] = f->feat.d[1].bytes;
	o->age_ns = c->now > f->first_ns ? c->now - f->first_ns : 0;
	o->idle_ns = c->now > f->last_ns ? c->now - f->last_ns : 0;
}

void ntfw_snap_serve(struct ntfw_snap **slot, struct ntfw_flow_table *t,
		     uint64_t now_ns)
{
	struct fill c = { .now = now_ns };

	if (!__atomic_load_n(slot, __ATOMIC_RELAXED))
		return;
	c.s = __atomic_exchange_n(slot, NULL, __ATOMIC_ACQUIRE);
	if (!c.s)
		return;
	c.s->n = c.s->total = 0;
	ntfw_flow_foreach(t, fill_one, &c);
	__atomic_store_n(&c.s->done, true, __ATOMIC_RELEASE);
	eventfd_write(c.s->done_fd, 1);
}

void ntfw_snap_post(struct ntfw_snap **slot, struct ntfw_snap *s, int wake_fd)
{
	__atomic_store_n(&s->done, false, __ATOMIC_RELAXED);
	__atomic_store_n(slot, s, __ATOMIC_RELEASE);
	eventfd_write(wake_fd, 1);
}

bool ntfw_snap_cancel(struct ntfw_snap **slot, struct ntfw_snap *s)
{
	struct ntfw_snap *want = s;

	return __atomic_compare_exchange_n(slot, &want, NULL, false,
					   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}
