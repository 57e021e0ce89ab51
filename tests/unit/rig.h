/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An engine fed crafted packets, for the unit tests of the decision core
 * (after cmocka.h, conf_text.h and pkt.h).
 */
#ifndef NTFW_TEST_RIG_H
#define NTFW_TEST_RIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "engine.h"

#define SEC 1000000000ull

struct rig {
	struct ntfw_conf *c;
	struct ntfw_engine e;
	uint64_t now;
	bool handoff;	/* the last packet handed its flow to the kernel */
};

static inline void rig_init_n(struct rig *r, const char *text, uint32_t flows)
{
	memset(r, 0, sizeof(*r));
	r->c = conf_text(text);
	assert_int_equal(ntfw_engine_init(&r->e, r->c, flows, NULL, NULL), 0);
	r->now = 1000 * SEC;
}

static inline void rig_init(struct rig *r, const char *text)
{
	rig_init_n(r, text, 256);
}

static inline void rig_free(struct rig *r)
{
	ntfw_engine_free(&r->e);
	ntfw_conf_free(r->c);
}

/* @caplen of the @wirelen bytes at @b (as a copy range hands them over),
 * at hook @hook, a hundredth of a second after the last packet. */
static inline enum ntfw_verdict rig_feed(struct rig *r, const uint8_t *b,
					 size_t caplen, size_t wirelen,
					 uint8_t hook)
{
	struct ntfw_meta m = { .hook = hook, .ts_ns = r->now };

	r->now += SEC / 100;
	r->handoff = false;
	return ntfw_engine_packet(&r->e, b, (uint32_t)caplen, (uint32_t)wirelen,
				  &m, &r->handoff);
}

/* A reload to @text, as the daemon's does it. */
static inline void rig_reload(struct rig *r, const char *text)
{
	struct ntfw_conf *next = conf_text(text);
	unsigned int n = r->c->nrules + 1;
	uint16_t *smap = calloc(n, sizeof(*smap)), *fmap = calloc(n, sizeof(*fmap));
	struct ntfw_engine_swap sw = { .conf = next };

	assert_int_equal(ntfw_conf_rule_map(r->c, next, true, smap), 0);
	assert_int_equal(ntfw_conf_rule_map(r->c, next, false, fmap), 0);
	assert_int_equal(ntfw_stats_init(&sw.stats, next), 0);
	sw.stat_map = smap;
	sw.flow_map = fmap;
	ntfw_engine_reload(&r->e, &sw);
	ntfw_stats_free(&sw.stats);
	free(smap);
	free(fmap);
	ntfw_conf_free(r->c);
	r->c = next;
}

#endif
