// SPDX-License-Identifier: GPL-2.0-only
/*
 * The flow table and the stateful policy, through the engine (the packet
 * path the daemon and -r share): flow identity and direction, ends on FIN,
 * RST and timeouts, the bound under a flood, rates and flow conditions.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "conf.h"
#include "engine.h"
#include "flow.h"
#include "parse.h"
#include "conf_text.h"
#include "pkt.h"
#include "record.h"

#define SEC 1000000000ull

struct ended {
	unsigned int n;
	struct ntfw_flow last;
	unsigned int by_end[NTFW_END_EOF + 1];
};

static void on_end(const struct ntfw_flow *f, void *arg)
{
	struct ended *e = arg;

	e->n++;
	e->last = *f;
	e->by_end[f->end]++;
}

struct rig {
	struct ntfw_conf *c;
	struct ntfw_engine e;
	struct ended ended;
	uint64_t now;
};

static void rig_init(struct rig *r, const char *text, uint32_t max)
{
	memset(r, 0, sizeof(*r));
	r->c = conf_text(text);
	assert_int_equal(ntfw_engine_init(&r->e, r->c, max, on_end, &r->ended), 0);
	r->now = 1000 * SEC;
}

static void rig_free(struct rig *r)
{
	ntfw_engine_free(&r->e);
	ntfw_conf_free(r->c);
}

static enum ntfw_verdict feed(struct rig *r, const uint8_t *b, size_t n)
{
	struct ntfw_meta m = { .hook = 1, .ts_ns = r->now };

	ntfw_engine_tick(&r->e, r->now);
	return ntfw_engine_packet(&r->e, b, (uint32_t)n, (uint32_t)n, &m, NULL);
}

static enum ntfw_verdict tcp(struct rig *r, const char *src, const char *dst,
			     uint16_t sp, uint16_t dp, uint8_t flags,
			     uint32_t seq, uint32_t ack, size_t data)
{
	struct tcp_opts o = { .sport = sp, .dport = dp, .seq = seq, .ack = ack,
			      .flags = flags, .win = 1000 };
	uint8_t b[PKT_MAX];
	size_t n = strchr(src, ':') ? pkt_tcp6(b, src, dst, &o, data) :
				      pkt_tcp4(b, src, dst, &o, data);

	return feed(r, b, n);
}

#define C "10.213.0.2"

#define S "10.213.0.1"
#define SYN NTFW_TCP_SYN
#define ACK NTFW_TCP_ACK
#define FIN NTFW_TCP_FIN
#define RST NTFW_TCP_RST
#define PSH NTFW_TCP_PSH

/* A handshake, a request and a reply, both FINs acked: one flow, ended
 * "fin", client and server the right way round, packets per direction. */
static void tcp_close_by_fin(void **state)
{
	struct rig r;

	rig_init(&r, "", 64);
	tcp(&r, C, S, 40000, 80, SYN, 100, 0, 0);
	tcp(&r, S, C, 80, 40000, SYN | ACK, 500, 101, 0);
	tcp(&r, C, S, 40000, 80, ACK, 101, 501, 0);
	tcp(&r, C, S, 40000, 80, PSH | ACK, 101, 501, 10);
	tcp(&r, S, C, 80, 40000, PSH | ACK, 501, 111, 20);
	tcp(&r, C, S, 40000, 80, FIN | ACK, 111, 521, 0);
	tcp(&r, S, C, 80, 40000, FIN | ACK, 521, 112, 0);
	assert_int_equal(r.e.flows.used, 1);
	tcp(&r, C, S, 40000, 80, ACK, 112, 522, 0);
	/* Both FINs acked: over, but kept a while for stragglers. */
	assert_int_equal(r.ended.n, 0);
	r.now += 11 * SEC; /* past "timeout closed" (10 s) */
	ntfw_engine_tick(&r.e, r.now);
	assert_int_equal(r.ended.n, 1);
	assert_int_equal(r.ended.last.end, NTFW_END_FIN);
	assert_int_equal(r.ended.last.cport, 40000);
	assert_int_equal(r.ended.last.sport, 80);
	assert_int_equal(r.ended.last.feat.d[0].pkts, 5);
	assert_int_equal(r.ended.last.feat.d[1].pkts, 3);
	assert_false(r.ended.last.state & NTFW_FS_MIDSTREAM);
	assert_int_equal(r.e.flows.used, 0);
	rig_free(&r);
}

/* RST ends the flow; a straggler after it (the SYN retransmitted before
 * the RST arrived) still belongs to it. */
static void tcp_rst_and_straggler(void **state)
{
	struct rig r;

	rig_init(&r, "", 64);
	tcp(&r, C, S, 40001, 81, SYN, 1, 0, 0);
	tcp(&r, S, C, 81, 40001, RST | ACK, 0, 2, 0);
	tcp(&r, C, S, 40001, 81, SYN, 1, 0, 0);
	assert_int_equal(r.e.flows.used, 1);
	ntfw_engine_flush(&r.e);
	assert_int_equal(r.ended.n, 1);
	/* The end it knew (rst) is kept at flush, not replaced by eof. */
	assert_int_equal(r.ended.last.end, NTFW_END_RST);
	assert_int_equal(r.ended.last.feat.d[0].pkts, 2);
	rig_free(&r);
}

/* A new SYN on a closed connection's ports opens the next flow. */
static void tcp_port_reuse(void **state)
{
	struct rig r;

	rig_init(&r, "", 64);
	tcp(&r, C, S, 40002, 82, SYN, 1, 0, 0);
	tcp(&r, S, C, 82, 40002, RST | ACK, 0, 2, 0);
	tcp(&r, C, S, 40002, 82, SYN, 9000, 0, 0);
	assert_int_equal(r.ended.n, 1);
	assert_int_equal(r.ended.last.end, NTFW_END_RST);
	assert_int_equal(r.e.flows.used, 1);
	assert_int_equal(r.e.flows.created, 2);
	rig_free(&r);
}

/* First packet not a SYN: midstream, the lower port is the server's. */
static void tcp_midstream(void **state)
{
	struct rig r;

	rig_init(&r, "", 64);
	tcp(&r, S, C, 443, 50000, ACK, 7, 9, 100);
	ntfw_engine_flush(&r.e);
	assert_int_equal(r.ended.n, 1);
	assert_true(r.ended.last.state & NTFW_FS_MIDSTREAM);
	assert_int_equal(r.ended.last.sport, 443);
	assert_int_equal(r.ended.last.cport, 50000);
	/* The packet went server to client. */
	assert_int_equal(r.ended.last.feat.d[1].pkts, 1);
	assert_int_equal(r.ended.last.end, NTFW_END_EOF);
	rig_free(&r);
}

/* Idle timeouts per class: udp 60 s, icmp 30 s, configurable. */
static void timeouts(void **state)
{
	uint8_t b[PKT_MAX];
	struct rig r;
	size_t n;

	rig_init(&r, "timeout udp 5 icmp 2\n", 64);
	n = pkt_udp4(b, C, S, 5353, 53, 10);
	feed(&r, b, n);
	n = pkt_icmp4(b, C, S, 8, 0, 77, 10);
	feed(&r, b, n);
	n = pkt_icmp4(b, S, C, 0, 0, 77, 10);
	feed(&r, b, n);
	assert_int_equal(r.e.flows.used, 2); /* request and reply: one flow */
	r.now += 3 * SEC;
	ntfw_engine_tick(&r.e, r.now);
	assert_int_equal(r.ended.n, 1);
	assert_int_equal(r.ended.last.proto, IPPROTO_ICMP);
	assert_int_equal(r.ended.last.end, NTFW_END_TIMEOUT);
	assert_int_equal(r.ended.last.feat.d[1].pkts, 1);
	r.now += 3 * SEC;
	ntfw_engine_tick(&r.e, r.now);
	assert_int_equal(r.ended.n, 2);
	assert_int_equal(r.ended.last.proto, IPPROTO_UDP);
	assert_int_equal(r.e.flows.expired, 2);
	rig_free(&r);
}

/*
 * A burst of flows timing out together ends a bounded number per tick:
 * the worker serves packets between two ticks.  Every one ends in the
 * end, each once, and a packet between two ticks still finds its flow.
 */
static void expire_bounded(void **state)
{
	const unsigned int nflows = 3 * NTFW_EXPIRE_BATCH + 17;
	uint8_t b[PKT_MAX];
	unsigned int i, ticks = 0, before;
	struct rig r;
	size_t n;

	rig_init(&r, "timeout udp 5\n", 4096);
	for (i = 0; i < nflows; i++) {
		n = pkt_udp4(b, C, S, (uint16_t)(1024 + i), 53, 10);
		feed(&r, b, n);
	}
	/* One flow more, younger: not due with the others. */
	r.now += 2 * SEC;
	n = pkt_udp4(b, C, S, 999, 53, 10);
	feed(&r, b, n);
	assert_int_equal(r.e.flows.used, nflows + 1);
	r.now += 4 * SEC;
	for (;;) {
		before = r.ended.n;
		ticks++;
		if (!ntfw_engine_tick(&r.e, r.now))
			break;
		assert_int_equal(r.ended.n - before, NTFW_EXPIRE_BATCH);
		/* A packet between two ticks: its flow is still there. */
		if (ticks == 1) {
			n = pkt_udp4(b, C, S, 999, 53, 10);
			assert_int_equal(ntfw_engine_packet(&r.e, b, (uint32_t)n,
					 (uint32_t)n, &(struct ntfw_meta){
					 .hook = 1, .ts_ns = r.now }, NULL),
					 NTFW_ACCEPT);
		}
	}
	assert_true(r.ended.n - before <= NTFW_EXPIRE_BATCH);
	assert_int_equal(ticks, nflows / NTFW_EXPIRE_BATCH + 1);
	assert_int_equal(r.ended.n, nflows);
	assert_int_equal(r.e.flows.expired, nflows);
	assert_int_equal(r.e.flows.used, 1);
	/* Nothing more due: the tick does nothing. */
	assert_false(ntfw_engine_tick(&r.e, r.now));
	assert_int_equal(r.ended.n, nflows);
	/* The last one in its time. */
	r.now += 6 * SEC;
	assert_false(ntfw_engine_tick(&r.e, r.now));
	assert_int_equal(r.ended.n, nflows + 1);
	rig_free(&r);
}

/* A SYN flood from random sources: the table never holds more than its
 * bound; the oldest idle flows make room and are counted. */
static void bound_under_flood(void **state)
{
	char src[32];
	struct rig r;
	unsigned int i;

	rig_init(&r, "", 100);
	for (i = 0; i < 5000; i++) {
		snprintf(src, sizeof(src), "10.213.%u.%u", (i >> 8) & 255, i & 255);
		r.now += 1000;
		tcp(&r, src, S, (uint16_t)(1024 + i), 80, SYN, i, 0, 0);
		assert_true(r.e.flows.used <= 100);
	}
	assert_int_equal(r.e.flows.used, 100);
	assert_int_equal(r.e.flows.created, 5000);
	assert_int_equal(r.e.flows.evicted, 4900);
	assert_int_equal(r.ended.by_end[NTFW_END_EVICTED], 4900);
	/* The victims are the oldest: the last one evicted was the flow
	 * opened 100 flows before the last. */
	assert_int_equal(r.ended.last.cport, 1024 + 4999 - 100);
	rig_free(&r);
}

/* "rate over 5/second per src": the sixth SYN of a burst is over; another
 * source has its own bucket; after a second there is room again. */
static void rate_per_src(void **state)
{
	struct rig r;
	unsigned int i, dropped = 0;

	rig_init(&r, "drop name brute proto tcp dport 22 tcp-flags syn !ack "
		     "rate over 5/second per src\n", 1000);
	for (i = 0; i < 20; i++)
		dropped += tcp(&r, C, S, (uint16_t)(2000 + i), 22, SYN, 1, 0, 0) ==
			   NTFW_DROP;
	assert_int_equal(dropped, 15);
	assert_int_equal(tcp(&r, "10.213.0.3", S, 3000, 22, SYN, 1, 0, 0),
			 NTFW_ACCEPT);
	/* Not a SYN: the rule does not look at it, whatever the rate. */
	assert_int_equal(tcp(&r, C, S, 2100, 22, ACK, 2, 1, 0), NTFW_ACCEPT);
	r.now += SEC;
	for (i = 0, dropped = 0; i < 6; i++)
		dropped += tcp(&r, C, S, (uint16_t)(4000 + i), 22, SYN, 1, 0, 0) ==
			   NTFW_DROP;
	assert_int_equal(dropped, 1);
	rig_free(&r);
}

/* burst and minute units; a rate without "per" is one bucket for all. */
static void rate_burst_global(void **state)
{
	struct rig r;
	unsigned int i, dropped = 0;
	char src[32];

	rig_init(&r, "drop name udp-flood proto udp rate over 60/minute burst 2\n",
		 1000);
	for (i = 0; i < 4; i++) {
		uint8_t b[PKT_MAX];

		snprintf(src, sizeof(src), "10.213.1.%u", i + 1);
		dropped += feed(&r, b, pkt_udp4(b, src, S, 1000, 53, 1)) ==
			   NTFW_DROP;
	}
	assert_int_equal(dropped, 2);
	rig_free(&r);
}

/* flows-per-src: each new flow is judged once; its later packets (a
 * retransmitted SYN) share the verdict. */
static void flows_per_src(void **state)
{
	struct rig r;
	unsigned int i, dropped = 0;

	rig_init(&r, "drop name scan proto tcp flows-per-src over 3/second\n",
		 1000);
	for (i = 0; i < 5; i++)
		dropped += tcp(&r, C, S, (uint16_t)(6000 + i), 80, SYN, 1, 0, 0) ==
			   NTFW_DROP;
	assert_int_equal(dropped, 2);
	/* Retransmissions: the first three flows pass, the last two not. */
	assert_int_equal(tcp(&r, C, S, 6000, 80, SYN, 1, 0, 0), NTFW_ACCEPT);
	assert_int_equal(tcp(&r, C, S, 6004, 80, SYN, 1, 0, 0), NTFW_DROP);
	rig_free(&r);
}

/* "flow <feature> <op> N" sees the flow as updated by this packet. */
static void flow_condition(void **state)
{
	struct rig r;
	unsigned int i;

	rig_init(&r, "drop name chatty proto tcp flow pkts_c2s > 3\n", 64);
	for (i = 0; i < 3; i++)
		assert_int_equal(tcp(&r, C, S, 7000, 80, ACK, 1, 1, 1),
				 NTFW_ACCEPT);
	assert_int_equal(tcp(&r, C, S, 7000, 80, ACK, 1, 1, 1), NTFW_DROP);
	/* The other direction does not count towards pkts_c2s. */
	rig_free(&r);
	rig_init(&r, "drop name big proto tcp flow pkts_s2c >= 2 flow pkts_c2s < 2\n", 64);
	tcp(&r, C, S, 7001, 80, SYN, 1, 0, 0);
	assert_int_equal(tcp(&r, S, C, 80, 7001, SYN | ACK, 1, 2, 0), NTFW_ACCEPT);
	assert_int_equal(tcp(&r, S, C, 80, 7001, ACK, 2, 2, 5), NTFW_DROP);
	ntfw_engine_flush(&r.e);
	/* The record names the rule that dropped a packet of the flow. */
	assert_int_equal(r.ended.last.verdict, NTFW_DROP);
	assert_int_equal(r.ended.last.rule, 0);
	rig_free(&r);
}

/* Config errors of the stateful matches and statements. */
static void stateful_errors(void **state)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{ "drop flow bogus > 1\n",
		  "test.conf:1:11: error: unknown flow feature 'bogus'\n" },
		{ "drop flow pkts_c2s => 1\n",
		  "test.conf:1:20: error: expected a comparison (>, >=, <, <=, ==, !=), got '=>'\n" },
		{ "drop flow pkts_c2s > x\n",
		  "test.conf:1:22: error: bad number 'x'\n" },
		{ "drop rate 5/second\n",
		  "test.conf:1:11: error: expected 'over' after 'rate', got '5/second'\n" },
		{ "drop rate over 5/fortnight\n",
		  "test.conf:1:16: error: bad rate '5/fortnight' (N/second, N/minute or N/hour, N from 1 to 1000000000)\n" },
		{ "drop rate over 0/second\n",
		  "test.conf:1:16: error: bad rate '0/second' (N/second, N/minute or N/hour, N from 1 to 1000000000)\n" },
		{ "drop rate over 5/second per host\n",
		  "test.conf:1:29: error: expected 'src' or 'dst' after 'per', got 'host'\n" },
		{ "drop rate over 5/second burst 0\n",
		  "test.conf:1:31: error: bad burst '0' (1-1000000000)\n" },
		{ "drop flows-per-src over 5/second per src\n",
		  "test.conf:1:34: error: unknown keyword 'per'\n" },
		{ "drop rate over 1/second rate over 2/second\n",
		  "test.conf:1:25: error: duplicate 'rate' in rule\n" },
		{ "timeout tcp 0\n",
		  "test.conf:1:13: error: bad timeout '0' (1-31536000 seconds)\n" },
		{ "timeout sctp 5\n",
		  "test.conf:1:9: error: unknown timeout 'sctp' (tcp, udp, icmp, closed or dropped)\n" },
		{ "timeout tcp 5 tcp 6\n",
		  "test.conf:1:15: error: timeout 'tcp' given twice\n" },
		{ "flows max 10\n",
		  "test.conf:1:11: error: bad flow table size '10' (64-67108864)\n" },
		{ "flows 100\n",
		  "test.conf:1:7: error: expected 'max' after 'flows', got '100'\n" },
		{ "queue-maxlen 0\n",
		  "test.conf:1:14: error: bad queue-maxlen '0' (1-16777216)\n" },
		{ "copy-range 40\n",
		  "test.conf:1:12: error: bad copy-range '40' (60-65535)\n" },
		{ "socket-buffer 1k\n",
		  "test.conf:1:15: error: bad socket-buffer '1k' (65536-1073741824)\n" },
		{ "copy-range 100\ncopy-range 200\n",
		  "test.conf:2:1: error: duplicate 'copy-range' statement (first at line 1)\n" },
		{ "fastpath sometimes\n",
		  "test.conf:1:10: error: expected 'after' or 'off' after 'fastpath', got 'sometimes'\n" },
		{ "fastpath after 0\n",
		  "test.conf:1:16: error: bad fastpath '0' (1-1000000)\n" },
		{ "event-log flows.json\n",
		  "test.conf:1:11: error: event-log needs an absolute path, got 'flows.json'\n" },
		{ "drop flow pkts_c2s > 1 flow pkts_c2s > 2 flow pkts_c2s > 3 "
		  "flow pkts_c2s > 4 flow pkts_c2s > 5\n",
		  "test.conf:1:78: error: too many 'flow' conditions in one rule (at most 4)\n" },
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ntfw_conf *c = NULL;
		char *err = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&err, &len);
		int n = ntfw_conf_parse("test.conf", cases[i].text,
					strlen(cases[i].text), &c, f);

		fclose(f);
		assert_int_equal(n, 1);
		/* First line of the error record: position and message. */
		*strchr(err, '\n') = '\0';
		strcat(err, "\n");
		assert_string_equal(err, cases[i].err);
		free(err);
	}
}

/* The values the statements set, and their defaults. */
static void stateful_settings(void **state)
{
	struct ntfw_conf *c = conf_text("");

	assert_int_equal(c->timeout[NTFW_TC_TCP], 7200);
	assert_int_equal(c->timeout[NTFW_TC_UDP], 60);
	assert_int_equal(c->timeout[NTFW_TC_OTHER], 30);
	assert_int_equal(c->flows_max, NTFW_FLOWS_MAX_DEFAULT);
	assert_null(c->event_log);
	assert_int_equal(c->queue_maxlen, 1024);
	assert_int_equal(c->copy_range, 512);
	assert_int_equal(c->socket_buffer, 8 << 20);
	ntfw_conf_free(c);
	c = conf_text("queue-maxlen 16\ncopy-range 128\nsocket-buffer 1048576\n");
	assert_int_equal(c->queue_maxlen, 16);
	assert_int_equal(c->copy_range, 128);
	assert_int_equal(c->socket_buffer, 1048576);
	ntfw_conf_free(c);
	c = conf_text("timeout tcp 100 closed 3\nflows max 1000\nevent-log /var/log/ntfw.json\n"
		 "drop name r proto tcp rate over 10/minute burst 3 per dst\n");
	assert_int_equal(c->timeout[NTFW_TC_TCP], 100);
	assert_int_equal(c->timeout[NTFW_TC_UDP], 60);
	assert_int_equal(c->timeout[NTFW_TC_CLOSED], 3);
	assert_int_equal(c->flows_max, 1000);
	assert_string_equal(c->event_log, "/var/log/ntfw.json");
	assert_int_equal(c->rules[0].rate.interval_ns, 6 * SEC);
	assert_int_equal(c->rules[0].rate.burst, 3);
	assert_true(c->rules[0].rate.per_addr);
	assert_true(c->rules[0].rate.per_dst);
	ntfw_conf_free(c);
}

/* Move the rig to the configuration @text, as a worker does on reload. */
static void rig_reload(struct rig *r, const char *text)
{
	struct ntfw_engine_swap s = { .conf = conf_text(text) };
	uint16_t *smap = calloc(r->c->nrules + 1, sizeof(*smap));
	uint16_t *fmap = calloc(r->c->nrules + 1, sizeof(*fmap));

	assert_non_null(smap);
	assert_non_null(fmap);
	assert_int_equal(ntfw_conf_rule_map(r->c, s.conf, true, smap), 0);
	assert_int_equal(ntfw_conf_rule_map(r->c, s.conf, false, fmap), 0);
	assert_int_equal(ntfw_stats_init(&s.stats, s.conf), 0);
	s.stat_map = smap;
	s.flow_map = fmap;
	ntfw_engine_reload(&r->e, &s);
	ntfw_stats_free(&s.stats);
	free(smap);
	free(fmap);
	ntfw_conf_free(r->c);
	r->c = (struct ntfw_conf *)s.conf;
}

/* The record's "rule" field, as the event log would have it. */
static const char *record_rule(struct rig *r, char *buf, size_t size)
{
	char rec[NTFW_RECORD_MAX];
	const char *p;

	ntfw_record_format(&r->ended.last, r->c, NTFW_FMT_JSON, rec, sizeof(rec));
	p = strstr(rec, "\"rule\":\"");
	assert_non_null(p);
	p += 8;
	snprintf(buf, size, "%.*s", (int)strcspn(p, "\""), p);
	return buf;
}

/* A reload keeps the flows and their features, and names their rule by
 * name in the new file; counters go on where name and verdict stay; new
 * timeouts apply to the flows already there; rates start again full. */
static void engine_reload(void **state)
{
	uint8_t b[PKT_MAX];
	struct rig r;
	char name[64];
	uint32_t i;

	rig_init(&r, "accept name web proto tcp dport 80\n"
		     "drop name brute proto tcp dport 22 rate over 1/minute\n"
		     "accept name dns proto udp dport 53\n"
		     "accept name ping proto icmp\n", 64);
	tcp(&r, C, S, 40000, 80, SYN, 1, 0, 0);
	assert_int_equal(tcp(&r, C, S, 40001, 22, SYN, 1, 0, 0), NTFW_ACCEPT);
	assert_int_equal(tcp(&r, C, S, 40002, 22, SYN, 1, 0, 0), NTFW_DROP);
	feed(&r, b, pkt_udp4(b, C, S, 5353, 53, 10));
	feed(&r, b, pkt_icmp4(b, C, S, 8, 0, 77, 10));
	rig_reload(&r, "timeout udp 5\n"
		       "drop name brute proto tcp dport 22 rate over 1/minute\n"
		       "accept name web proto tcp dport 80\n"
		       "drop name dns proto udp dport 53\n");
	/* brute and web moved, dns changed its verdict, ping left. */
	assert_int_equal(r.e.stats.rule_pkts[0], 1);
	assert_int_equal(r.e.stats.rule_pkts[1], 1);
	assert_int_equal(r.e.stats.rule_pkts[2], 0);
	assert_int_equal(r.e.stats.rule_pkts[3], 1); /* default: the SYN to 22 */
	assert_int_equal(r.e.stats.packets, 5);
	/* A fresh allowance: one more SYN within the rate. */
	assert_int_equal(tcp(&r, C, S, 40003, 22, SYN, 1, 0, 0), NTFW_ACCEPT);
	assert_int_equal(tcp(&r, C, S, 40004, 22, SYN, 1, 0, 0), NTFW_DROP);
	/* The DNS flow is dropped now, and the "dropped" timeout ends it. */
	assert_int_equal(feed(&r, b, pkt_udp4(b, C, S, 5353, 53, 10)), NTFW_DROP);
	r.ended.n = 0;
	r.now += 11 * SEC;
	ntfw_engine_tick(&r.e, r.now);
	assert_int_equal(r.ended.n, 1);
	assert_int_equal(r.ended.last.feat.d[0].pkts, 2);
	assert_int_equal(r.ended.last.verdict, NTFW_DROP);
	assert_string_equal(record_rule(&r, name, sizeof(name)), "dns");
	/* The web flow names its rule at its new place. */
	for (i = 0; i < r.e.flows.max; i++)
		if (r.e.flows.pool[i].sport == 80)
			assert_int_equal(r.e.flows.pool[i].rule, 1);
	/* The ping flow ends last at the flush: its rule is gone. */
	ntfw_engine_flush(&r.e);
	assert_int_equal(r.ended.last.proto, IPPROTO_ICMP);
	assert_string_equal(record_rule(&r, name, sizeof(name)), "(removed)");
	rig_free(&r);
}

/* A flow opened over a flows-per-src limit stays so across a reload
 * that moves its rule, and under that rule only: the bit of another
 * rule (an accept here) does not inherit it. */
static void reload_moves_flows_per_src(void **state)
{
	struct rig r;

	rig_init(&r, "drop name a proto tcp dport 80 flows-per-src over 1/minute\n"
		     "drop name b proto tcp dport 81 flows-per-src over 1/minute\n",
		     64);
	assert_int_equal(tcp(&r, C, S, 8000, 81, SYN, 1, 0, 0), NTFW_ACCEPT);
	assert_int_equal(tcp(&r, C, S, 8001, 81, SYN, 1, 0, 0), NTFW_DROP);
	/* b's bit goes from 1 to 0; 1 is c's now. */
	rig_reload(&r, "drop name b proto tcp dport 81 flows-per-src over 1/minute\n"
		       "accept name c proto tcp flows-per-src over 1/minute\n");
	assert_int_equal(tcp(&r, C, S, 8001, 81, SYN, 1, 0, 0), NTFW_DROP);
	assert_int_equal(tcp(&r, C, S, 8000, 81, SYN, 1, 0, 0), NTFW_ACCEPT);
	/* And back to 1, under a rule that took bit 0. */
	rig_reload(&r, "accept name d proto tcp flows-per-src over 1/minute\n"
		       "drop name b proto tcp dport 81 flows-per-src over 1/minute\n");
	assert_int_equal(tcp(&r, C, S, 8001, 81, SYN, 1, 0, 0), NTFW_DROP);
	assert_int_equal(tcp(&r, C, S, 8000, 81, SYN, 1, 0, 0), NTFW_ACCEPT);
	/* b gone: its judgement goes with it. */
	rig_reload(&r, "drop name e proto tcp flows-per-src over 1/minute\n");
	assert_int_equal(tcp(&r, C, S, 8001, 81, SYN, 1, 0, 0), NTFW_ACCEPT);
	rig_free(&r);
}

/* ---- TCP tracking: the flow table alone, packet by packet ---- */

/* A flow table and a clock; seg() hands it one TCP segment. */
struct trig {
	struct ntfw_flow_table t;
	struct ended ended;
	uint64_t now;
	int dir;
};

static void trig_init(struct trig *g)
{
	struct ntfw_flow_timeouts to = { .sec = { 3600, 60, 30, 10 } };

	memset(g, 0, sizeof(*g));
	assert_int_equal(ntfw_flow_table_init(&g->t, 64, &to, on_end, &g->ended), 0);
	g->now = 1000 * SEC;
}

#define NOWS (-1)

/* One segment: @win the raw window field, @ws the window scale option
 * (NOWS: none), @data payload bytes.  Returns what the table made of it. */
static enum ntfw_ct seg(struct trig *g, const char *src, const char *dst,
			uint16_t sp, uint16_t dp, uint8_t flags, uint32_t seq,
			uint32_t ack, uint16_t win, int ws, size_t data)
{
	static uint8_t b[20 + 24 + 65000];
	struct tcp_opts o = { .sport = sp, .dport = dp, .seq = seq, .ack = ack,
			      .flags = flags, .win = win,
			      .doff = ws == NOWS ? 5 : 6 };
	struct ntfw_pkt p;
	enum ntfw_ct ct;
	size_t n;

	assert_true(data <= 65000);
	n = pkt_tcp4(b, src, dst, &o, data);
	if (ws != NOWS) { /* window scale, then end of options */
		b[40] = 3;
		b[41] = 3;
		b[42] = (uint8_t)ws;
		b[43] = 0;
	}
	assert_int_equal(ntfw_parse(b, n, n, &p), NTFW_PKT_OK);
	g->now += 1000;
	assert_non_null(ntfw_flow_packet(&g->t, &p, g->now, (uint32_t)n + 14,
					 &g->dir, &ct));
	return ct;
}

/* Client 10.213.0.2:40000 to server 10.213.0.1:2222. */
#define CP 40000
#define SP 2222
#define cs(g, fl, seq, ack, win, data) \
	seg(g, C, S, CP, SP, fl, seq, ack, win, NOWS, data)
#define sc(g, fl, seq, ack, win, data) \
	seg(g, S, C, SP, CP, fl, seq, ack, win, NOWS, data)

static struct ntfw_flow *trig_flow(struct trig *g)
{
	uint8_t c[16] = { 0 }, s[16] = { 0 };
	int dir;

	pkt_addr(c, C);
	pkt_addr(s, S);
	return ntfw_flow_lookup(&g->t, 4, IPPROTO_TCP, c, CP, s, SP, &dir);
}

/*
 * Handshake with window scale 7 both ways (windows of 64 KB from raw 512),
 * then 3 pushed requests of 100 bytes, each answered with 1000 bytes.
 * Client ISN 1000, server ISN 5000000: the client's next sequence number
 * is 1301, the server's 5003001.
 */
static void established(struct trig *g)
{
	unsigned int i;

	assert_int_equal(seg(g, C, S, CP, SP, SYN, 1000, 0, 64240, 7, 0),
			 NTFW_CT_NEW);
	assert_int_equal(seg(g, S, C, SP, CP, SYN | ACK, 5000000, 1001, 65160,
			     7, 0), NTFW_CT_ESTABLISHED);
	assert_int_equal(cs(g, ACK, 1001, 5000001, 512, 0), NTFW_CT_ESTABLISHED);
	for (i = 0; i < 3; i++) {
		assert_int_equal(cs(g, PSH | ACK, 1001 + 100 * i,
				    5000001 + 1000 * i, 512, 100),
				 NTFW_CT_ESTABLISHED);
		assert_int_equal(sc(g, PSH | ACK, 5000001 + 1000 * i,
				    1101 + 100 * i, 510, 1000),
				 NTFW_CT_ESTABLISHED);
	}
	assert_int_equal(cs(g, ACK, 1301, 5003001, 512, 0), NTFW_CT_ESTABLISHED);
}

/* The flow, its list position and the table's counters, to compare. */
struct snap {
	struct ntfw_flow f;
	uint32_t head[NTFW_TC_MAX], tail[NTFW_TC_MAX];
	uint64_t created, ended;
};

static void snap_take(struct trig *g, struct snap *s)
{
	struct ntfw_flow *f = trig_flow(g);

	assert_non_null(f);
	s->f = *f;
	memcpy(s->head, g->t.head, sizeof(s->head));
	memcpy(s->tail, g->t.tail, sizeof(s->tail));
	s->created = g->t.created;
	s->ended = g->t.ended;
}

static void assert_unchanged(struct trig *g, const struct snap *before)
{
	struct snap now;

	snap_take(g, &now);
	assert_memory_equal(&now.f, &before->f, sizeof(now.f));
	assert_memory_equal(now.head, before->head, sizeof(now.head));
	assert_memory_equal(now.tail, before->tail, sizeof(now.tail));
	assert_int_equal(now.created, before->created);
	assert_int_equal(now.ended, before->ended);
}

/* Forged RST, RST|ACK, FIN|ACK, SYN and data with sequence numbers outside
 * the window: each invalid, and the flow is exactly as it was (features,
 * state, timestamps, LRU position).  The attack "RST then SYN to restart
 * the features" gets nowhere. */
static void tcp_forged_out_of_window(void **state)
{
	static const uint32_t off[] = { 70000, 200000, 0x40000000u,
					0x80000000u, 0xc0000000u,
					(uint32_t)-200000 };
	struct snap before;
	struct trig g;
	unsigned int i;

	trig_init(&g);
	established(&g);
	snap_take(&g, &before);
	for (i = 0; i < sizeof(off) / sizeof(off[0]); i++) {
		uint32_t cseq = 1301 + off[i], sseq = 5003001 + off[i];

		assert_int_equal(cs(&g, RST, cseq, 0, 0, 0), NTFW_CT_INVALID);
		assert_int_equal(cs(&g, RST | ACK, cseq, 5003001, 0, 0),
				 NTFW_CT_INVALID);
		assert_int_equal(sc(&g, RST, sseq, 0, 0, 0), NTFW_CT_INVALID);
		assert_int_equal(cs(&g, FIN | ACK, cseq, 5003001, 512, 0),
				 NTFW_CT_INVALID);
		assert_int_equal(cs(&g, PSH | ACK, cseq, 5003001, 512, 10),
				 NTFW_CT_INVALID);
		assert_int_equal(cs(&g, SYN, cseq, 0, 64240, 0),
				 NTFW_CT_INVALID);
		/* The right sequence number with a made-up ACK. */
		assert_int_equal(cs(&g, FIN | ACK, 1301, sseq, 512, 0),
				 NTFW_CT_INVALID);
		assert_unchanged(&g, &before);
	}
	/* A SYN with a higher ISN on the live connection (the port-reuse
	 * trick without a close): a challenge ACK in TCP, invalid here. */
	assert_int_equal(cs(&g, SYN, 900000, 0, 64240, 0), NTFW_CT_INVALID);
	assert_unchanged(&g, &before);
	assert_int_equal(trig_flow(&g)->feat.d[0].pushed, 3);
	/* The real connection carries on. */
	assert_int_equal(cs(&g, PSH | ACK, 1301, 5003001, 512, 100),
			 NTFW_CT_ESTABLISHED);
	assert_int_equal(trig_flow(&g)->feat.d[0].pushed, 4);
	assert_int_equal(g.t.created, 1);
	ntfw_flow_table_free(&g.t);
}

/* A RST in the receiver's window ends the flow, from either side; the
 * RST's sequence number need not be the exact next one. */
static void tcp_rst_in_window(void **state)
{
	struct trig g;

	trig_init(&g);
	established(&g);
	assert_int_equal(cs(&g, RST, 1301 + 5000, 0, 0, 0), NTFW_CT_ESTABLISHED);
	assert_int_equal(trig_flow(&g)->end, NTFW_END_RST);
	assert_int_equal(trig_flow(&g)->tclass, NTFW_TC_CLOSED);
	ntfw_flow_table_free(&g.t);

	trig_init(&g);
	established(&g);
	/* Below what the client has acknowledged: not in its window. */
	assert_int_equal(sc(&g, RST | ACK, 5003000, 1301, 0, 0), NTFW_CT_INVALID);
	assert_int_equal(sc(&g, RST | ACK, 5003001, 1301, 0, 0),
			 NTFW_CT_ESTABLISHED);
	assert_int_equal(trig_flow(&g)->end, NTFW_END_RST);
	ntfw_flow_table_free(&g.t);
}

/* RST|ACK answering a SYN is valid when it acks the SYN (RFC 793); one that
 * acks something else, or a RST without ACK, is not. */
static void tcp_rst_answers_syn(void **state)
{
	struct trig g;

	trig_init(&g);
	assert_int_equal(cs(&g, SYN, 777, 0, 64240, 0), NTFW_CT_NEW);
	assert_int_equal(sc(&g, RST | ACK, 0, 779, 0, 0), NTFW_CT_INVALID);
	assert_int_equal(sc(&g, RST | ACK, 0, 12345678, 0, 0), NTFW_CT_INVALID);
	assert_int_equal(sc(&g, RST, 0, 0, 0, 0), NTFW_CT_INVALID);
	assert_int_equal(trig_flow(&g)->end, NTFW_END_NONE);
	assert_int_equal(sc(&g, RST | ACK, 0, 778, 0, 0), NTFW_CT_ESTABLISHED);
	assert_int_equal(trig_flow(&g)->end, NTFW_END_RST);
	assert_int_equal(trig_flow(&g)->feat.d[1].rst, 1);
	ntfw_flow_table_free(&g.t);
}

/* After a proper close (both FINs acked), a SYN opens a new flow on the
 * same ports, whatever its ISN; a retransmitted FIN before it is a
 * straggler of the old flow. */
static void tcp_port_reuse_after_close(void **state)
{
	struct trig g;

	trig_init(&g);
	established(&g);
	assert_int_equal(cs(&g, FIN | ACK, 1301, 5003001, 512, 0),
			 NTFW_CT_ESTABLISHED);
	assert_int_equal(sc(&g, FIN | ACK, 5003001, 1302, 510, 0),
			 NTFW_CT_ESTABLISHED);
	assert_int_equal(trig_flow(&g)->tclass, NTFW_TC_TCP);
	assert_int_equal(cs(&g, ACK, 1302, 5003002, 512, 0), NTFW_CT_ESTABLISHED);
	assert_int_equal(trig_flow(&g)->tclass, NTFW_TC_CLOSED);
	assert_int_equal(trig_flow(&g)->end, NTFW_END_FIN);
	/* A retransmitted FIN is a straggler of the old flow. */
	assert_int_equal(sc(&g, FIN | ACK, 5003001, 1302, 510, 0),
			 NTFW_CT_ESTABLISHED);
	/* A SYN opens the next connection, whatever its ISN (conntrack
	 * reopens a closed connection alike). */
	assert_int_equal(cs(&g, SYN, 1000, 0, 64240, 0), NTFW_CT_NEW);
	assert_int_equal(g.t.created, 2);
	assert_int_equal(g.ended.n, 1);
	assert_int_equal(g.ended.last.end, NTFW_END_FIN);
	assert_int_equal(g.ended.last.feat.d[0].pushed, 3);
	/* The new flow starts from nothing. */
	assert_int_equal(trig_flow(&g)->feat.d[0].pkts, 1);
	assert_int_equal(trig_flow(&g)->feat.d[0].pushed, 0);
	ntfw_flow_table_free(&g.t);
}

/* A retransmitted SYN or SYN-ACK (same ISN) is an ordinary packet of the
 * flow: counted, nothing reset. */
static void tcp_syn_retransmission(void **state)
{
	struct trig g;

	trig_init(&g);
	assert_int_equal(cs(&g, SYN, 50, 0, 64240, 0), NTFW_CT_NEW);
	assert_int_equal(cs(&g, SYN, 50, 0, 64240, 0), NTFW_CT_ESTABLISHED);
	assert_int_equal(sc(&g, SYN | ACK, 90, 51, 65160, 0),
			 NTFW_CT_ESTABLISHED);
	assert_int_equal(sc(&g, SYN | ACK, 90, 51, 65160, 0),
			 NTFW_CT_ESTABLISHED);
	/* A SYN-ACK with another ISN is not this connection's. */
	assert_int_equal(sc(&g, SYN | ACK, 7777777, 51, 65160, 0),
			 NTFW_CT_INVALID);
	assert_int_equal(cs(&g, ACK, 51, 91, 502, 0), NTFW_CT_ESTABLISHED);
	assert_int_equal(trig_flow(&g)->feat.d[0].syn, 2);
	assert_int_equal(trig_flow(&g)->feat.d[1].syn, 2);
	assert_int_equal(trig_flow(&g)->feat.d[0].pkts, 3);
	assert_int_equal(g.t.created, 1);
	ntfw_flow_table_free(&g.t);
}

/* Picked up mid-stream: the windows are learnt, not enforced on a segment
 * whose ACK is right; a RST must still be in the window learnt. */
static void tcp_midstream_pickup(void **state)
{
	struct snap before;
	struct trig g;
	unsigned int i;

	trig_init(&g);
	/* Windows of raw 200 (scaled by an unknown factor), 1400-byte
	 * segments well past them. */
	assert_int_equal(sc(&g, ACK, 800000, 300000, 200, 1400), NTFW_CT_NEW);
	for (i = 1; i < 20; i++)
		assert_int_equal(sc(&g, ACK, 800000 + 1400 * i, 300000, 200,
				    1400), NTFW_CT_ESTABLISHED);
	assert_int_equal(cs(&g, ACK, 300000, 800000 + 1400 * 10, 200, 0),
			 NTFW_CT_ESTABLISHED);
	assert_int_equal(cs(&g, PSH | ACK, 300000, 800000 + 1400 * 20, 200, 50),
			 NTFW_CT_ESTABLISHED);
	assert_true(trig_flow(&g)->state & NTFW_FS_MIDSTREAM);
	snap_take(&g, &before);
	/* A RST far off: invalid, nothing moves. */
	assert_int_equal(cs(&g, RST, 300050 + 0x40000000u, 0, 0, 0),
			 NTFW_CT_INVALID);
	assert_int_equal(sc(&g, RST, 800000 + 0x80000000u, 0, 0, 0),
			 NTFW_CT_INVALID);
	assert_unchanged(&g, &before);
	/* A flow picked up mid-stream is taken liberally, as conntrack
	 * takes it: a segment whose ACK acknowledges what was never seen
	 * (data in flight before a restart) counts, so that its window
	 * updates cannot stall the connection; it opens and closes
	 * nothing. */
	assert_int_equal(cs(&g, PSH | ACK, 300050, 0x12345678, 200, 50),
			 NTFW_CT_ESTABLISHED);
	assert_int_equal(sc(&g, RST, 800000 + 1400 * 20, 0, 0, 0),
			 NTFW_CT_ESTABLISHED);
	assert_int_equal(trig_flow(&g)->end, NTFW_END_RST);
	assert_int_equal(trig_flow(&g)->feat.d[1].pkts, 21);
	ntfw_flow_table_free(&g.t);
}

/* Keepalives (seq = snd_nxt - 1, no data or one byte) and their answers
 * are packets of the flow. */
static void tcp_keepalive(void **state)
{
	struct trig g;

	trig_init(&g);
	established(&g);
	assert_int_equal(cs(&g, ACK, 1300, 5003001, 512, 0), NTFW_CT_ESTABLISHED);
	assert_int_equal(sc(&g, ACK, 5003001, 1301, 510, 0), NTFW_CT_ESTABLISHED);
	assert_int_equal(cs(&g, ACK, 1300, 5003001, 512, 1), NTFW_CT_ESTABLISHED);
	assert_int_equal(sc(&g, ACK, 5003000, 1301, 510, 0), NTFW_CT_ESTABLISHED);
	assert_int_equal(trig_flow(&g)->feat.d[0].pkts, 8);
	ntfw_flow_table_free(&g.t);
}

/* The server closes its window; the client probes it with one byte past
 * it, and with seq = snd_una - 1; all valid. */
static void tcp_zero_window_probe(void **state)
{
	struct trig g;

	trig_init(&g);
	established(&g);
	assert_int_equal(sc(&g, ACK, 5003001, 1301, 0, 0), NTFW_CT_ESTABLISHED);
	assert_int_equal(cs(&g, ACK, 1301, 5003001, 512, 1), NTFW_CT_ESTABLISHED);
	assert_int_equal(sc(&g, ACK, 5003001, 1301, 0, 0), NTFW_CT_ESTABLISHED);
	assert_int_equal(cs(&g, ACK, 1300, 5003001, 512, 0), NTFW_CT_ESTABLISHED);
	assert_int_equal(sc(&g, ACK, 5003001, 1301, 0, 0), NTFW_CT_ESTABLISHED);
	/* The window opens; the probe's byte is sent again with more. */
	assert_int_equal(sc(&g, ACK, 5003001, 1301, 510, 0), NTFW_CT_ESTABLISHED);
	assert_int_equal(cs(&g, PSH | ACK, 1301, 5003001, 512, 1000),
			 NTFW_CT_ESTABLISHED);
	ntfw_flow_table_free(&g.t);
}

/*
 * Window scaling: with scale 7 on both SYNs, a raw window of 512 is 64 KB
 * and the sender may have 60000 bytes in flight, in TSO-sized segments;
 * without it on the SYN-ACK, scaling is off and a segment that far past
 * the 512-byte window is invalid.  Loss before the capture point and a
 * retransmission (the holes SACK describes) stay valid.
 */
static void tcp_window_scaling(void **state)
{
	struct trig g;

	trig_init(&g);
	established(&g);
	/* A 30000-byte super-segment, then one past it, unacked. */
	assert_int_equal(cs(&g, ACK, 1301, 5003001, 512, 30000),
			 NTFW_CT_ESTABLISHED);
	/* (bytes 31301..32700 lost before the capture point) */
	assert_int_equal(cs(&g, PSH | ACK, 32701, 5003001, 512, 28000),
			 NTFW_CT_ESTABLISHED);
	/* The server acks up to the hole; the hole is retransmitted. */
	assert_int_equal(sc(&g, ACK, 5003001, 31301, 510, 0), NTFW_CT_ESTABLISHED);
	assert_int_equal(sc(&g, ACK, 5003001, 31301, 510, 0), NTFW_CT_ESTABLISHED);
	assert_int_equal(cs(&g, ACK, 31301, 5003001, 512, 1400),
			 NTFW_CT_ESTABLISHED);
	assert_int_equal(sc(&g, ACK, 5003001, 60701, 510, 0), NTFW_CT_ESTABLISHED);
	/* Past the 64 KB window the server advertised: invalid. */
	assert_int_equal(cs(&g, ACK, 60701 + 65280 + 1000, 5003001, 512, 100),
			 NTFW_CT_INVALID);
	assert_int_equal(trig_flow(&g)->feat.d[0].rexmit, 0);
	ntfw_flow_table_free(&g.t);

	/* The server does not scale: the windows are 512 bytes. */
	trig_init(&g);
	assert_int_equal(seg(&g, C, S, CP, SP, SYN, 1000, 0, 64240, 7, 0),
			 NTFW_CT_NEW);
	assert_int_equal(seg(&g, S, C, SP, CP, SYN | ACK, 5000000, 1001, 512,
			     NOWS, 0), NTFW_CT_ESTABLISHED);
	assert_int_equal(cs(&g, ACK, 1001, 5000001, 512, 0), NTFW_CT_ESTABLISHED);
	assert_int_equal(cs(&g, ACK, 1001, 5000001, 512, 500),
			 NTFW_CT_ESTABLISHED);
	assert_int_equal(cs(&g, ACK, 1001 + 20000, 5000001, 512, 500),
			 NTFW_CT_INVALID);
	ntfw_flow_table_free(&g.t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tcp_close_by_fin),
		cmocka_unit_test(tcp_rst_and_straggler),
		cmocka_unit_test(tcp_port_reuse),
		cmocka_unit_test(tcp_midstream),
		cmocka_unit_test(timeouts),
		cmocka_unit_test(expire_bounded),
		cmocka_unit_test(bound_under_flood),
		cmocka_unit_test(rate_per_src),
		cmocka_unit_test(rate_burst_global),
		cmocka_unit_test(flows_per_src),
		cmocka_unit_test(flow_condition),
		cmocka_unit_test(stateful_errors),
		cmocka_unit_test(stateful_settings),
		cmocka_unit_test(engine_reload),
		cmocka_unit_test(reload_moves_flows_per_src),
		cmocka_unit_test(tcp_forged_out_of_window),
		cmocka_unit_test(tcp_rst_in_window),
		cmocka_unit_test(tcp_rst_answers_syn),
		cmocka_unit_test(tcp_port_reuse_after_close),
		cmocka_unit_test(tcp_syn_retransmission),
		cmocka_unit_test(tcp_midstream_pickup),
		cmocka_unit_test(tcp_keepalive),
		cmocka_unit_test(tcp_zero_window_probe),
		cmocka_unit_test(tcp_window_scaling),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
