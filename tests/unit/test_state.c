// SPDX-License-Identifier: GPL-2.0-only
/*
 * The state model, through the engine: a flow's first packet decides it,
 * later packets and replies follow, per-packet rules above the deciding
 * rule still apply, ICMP errors follow the flow they quote, ICMP other
 * than echo has no state, a reload re-decides or keeps, the fast path is
 * offered only when no per-packet rule could still decide.
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
#include "parse.h"
#include "conf_text.h"
#include "pkt.h"
#include "rig.h"

#define C "10.213.0.2"
#define S "10.213.0.1"
#define C6 "fd00:213::2"
#define S6 "fd00:213::1"
#define SYN NTFW_TCP_SYN
#define ACK NTFW_TCP_ACK
#define PSH NTFW_TCP_PSH

static enum ntfw_verdict feed_hook(struct rig *r, const uint8_t *b, size_t n,
				   uint8_t hook)
{
	return rig_feed(r, b, n, n, hook);
}

static enum ntfw_verdict feed(struct rig *r, const uint8_t *b, size_t n)
{
	return feed_hook(r, b, n, 1);
}

static enum ntfw_verdict tcp(struct rig *r, const char *src, const char *dst,
			     uint16_t sp, uint16_t dp, uint8_t flags,
			     uint32_t seq, uint32_t ack, size_t data)
{
	struct tcp_opts o = { .sport = sp, .dport = dp, .seq = seq, .ack = ack,
			      .flags = flags, .win = 65000 };
	uint8_t b[PKT_MAX];
	size_t n = strchr(src, ':') ? pkt_tcp6(b, src, dst, &o, data) :
				      pkt_tcp4(b, src, dst, &o, data);

	return feed(r, b, n);
}

static enum ntfw_verdict udp(struct rig *r, const char *src, const char *dst,
			     uint16_t sp, uint16_t dp)
{
	uint8_t b[PKT_MAX];
	size_t n = strchr(src, ':') ? pkt_udp6(b, src, dst, sp, dp, 10) :
				      pkt_udp4(b, src, dst, sp, dp, 10);

	return feed(r, b, n);
}

/* An ICMP(v6) error from @src to @dst quoting a UDP datagram qsrc:qsp ->
 * qdst:qdp. */
static enum ntfw_verdict icmp_err(struct rig *r, const char *src,
				  const char *dst, uint8_t type, uint8_t code,
				  const char *qsrc, uint16_t qsp,
				  const char *qdst, uint16_t qdp)
{
	uint8_t b[PKT_MAX];
	bool v6 = strchr(src, ':') != NULL;
	size_t n, q;

	if (v6) {
		n = put_ip6(b, IPPROTO_ICMPV6, 8 + 48, src, dst);
		n += put_icmp(b + n, type, code, 0, 0);
		q = put_ip6(b + n, IPPROTO_UDP, 8, qsrc, qdst);
	} else {
		n = put_ip4(b, IPPROTO_ICMP, 20 + 8 + 28, src, dst);
		n += put_icmp(b + n, type, code, 0, 0);
		q = put_ip4(b + n, IPPROTO_UDP, 28, qsrc, qdst);
	}
	q += put_udp(b + n + q, qsp, qdp, 8);
	return feed(r, b, n + q);
}

static uint64_t state_pkts(struct rig *r, enum ntfw_pstate s)
{
	return r->e.stats.state_pkts[s];
}

static uint64_t rule_pkts(struct rig *r, unsigned int i)
{
	return r->e.stats.rule_pkts[i];
}

/* Under default drop, one accept rule is all a server needs: the replies
 * follow the connection, other ports stay shut, both families. */
static void replies_follow(void **state)
{
	static const char *const cs[2][2] = { { C, S }, { C6, S6 } };
	struct rig r;
	int i;

	rig_init(&r, "default drop\naccept name web proto tcp dport 80\n");
	for (i = 0; i < 2; i++) {
		const char *c = cs[i][0], *s = cs[i][1];

		assert_int_equal(tcp(&r, c, s, 40000, 80, SYN, 100, 0, 0), NTFW_ACCEPT);
		assert_int_equal(tcp(&r, s, c, 80, 40000, SYN | ACK, 500, 101, 0), NTFW_ACCEPT);
		assert_int_equal(tcp(&r, c, s, 40000, 80, ACK, 101, 501, 0), NTFW_ACCEPT);
		assert_int_equal(tcp(&r, s, c, 80, 40000, PSH | ACK, 501, 101, 100), NTFW_ACCEPT);
		/* Another port: dropped, and so is the retransmitted SYN. */
		assert_int_equal(tcp(&r, c, s, 40001, 22, SYN, 100, 0, 0), NTFW_DROP);
		assert_int_equal(tcp(&r, c, s, 40001, 22, SYN, 100, 0, 0), NTFW_DROP);
	}
	assert_int_equal(state_pkts(&r, NTFW_ST_NEW), 4);
	assert_int_equal(state_pkts(&r, NTFW_ST_ESTABLISHED), 8);
	/* Replies are counted under the rule that accepted the flow. */
	assert_int_equal(rule_pkts(&r, 0), 8);
	assert_int_equal(rule_pkts(&r, 1), 4);
	rig_free(&r);
}

/* A host's own connections: out by "hook output", replies in. */
static void output_then_replies(void **state)
{
	uint8_t b[PKT_MAX];
	struct tcp_opts o = { .sport = 50000, .dport = 443, .seq = 1,
			      .flags = SYN, .win = 65000 };
	struct rig r;
	size_t n;

	rig_init(&r, "default drop\naccept name out hook output\n");
	n = pkt_tcp4(b, S, C, &o, 0);
	assert_int_equal(feed_hook(&r, b, n, 3), NTFW_ACCEPT);
	o = (struct tcp_opts){ .sport = 443, .dport = 50000, .seq = 9,
			       .ack = 2, .flags = SYN | ACK, .win = 65000 };
	n = pkt_tcp4(b, C, S, &o, 0);
	assert_int_equal(feed_hook(&r, b, n, 1), NTFW_ACCEPT);
	/* The same packet with no connection behind it: dropped. */
	o.dport = 50001;
	n = pkt_tcp4(b, C, S, &o, 0);
	assert_int_equal(feed_hook(&r, b, n, 1), NTFW_DROP);
	rig_free(&r);
}

/* A per-packet rule above the deciding rule takes the flow's packets
 * once it holds; it is not what decides the flow. */
static void per_packet_above(void **state)
{
	struct rig r;
	uint32_t seq = 101;
	int i;

	rig_init(&r, "default drop\n"
		     "drop name push proto tcp dport 80 flow pushed_c2s > 2\n"
		     "accept name web proto tcp dport 80\n");
	tcp(&r, C, S, 40000, 80, SYN, 100, 0, 0);
	tcp(&r, S, C, 80, 40000, SYN | ACK, 500, 101, 0);
	for (i = 0; i < 4; i++, seq += 10)
		assert_int_equal(tcp(&r, C, S, 40000, 80, PSH | ACK, seq, 501, 10),
				 i < 2 ? NTFW_ACCEPT : NTFW_DROP);
	/* The server's ACK is not to port 80: "push" does not match it,
	 * and it follows the flow. */
	assert_int_equal(tcp(&r, S, C, 80, 40000, ACK, 501, seq, 0), NTFW_ACCEPT);
	assert_int_equal(rule_pkts(&r, 0), 2);
	rig_free(&r);
}

/* Errors quoting a flow follow it, both families, and are counted as
 * related; one quoting nothing known meets the rules. */
static void related_errors(void **state)
{
	struct rig r;

	rig_init(&r, "default drop\n"
		     "accept name dns proto udp dport 53\n"
		     "drop name blocked proto udp dport 7777\n"
		     "accept name icmp-in proto icmp\n");
	assert_int_equal(udp(&r, C, S, 40000, 53), NTFW_ACCEPT);
	assert_int_equal(udp(&r, C6, S6, 40000, 53), NTFW_ACCEPT);
	assert_int_equal(udp(&r, C, S, 40001, 7777), NTFW_DROP);
	/* The server's port unreachable, no ICMP rule for v6: accepted. */
	assert_int_equal(icmp_err(&r, S, C, 3, 3, C, 40000, S, 53), NTFW_ACCEPT);
	assert_int_equal(icmp_err(&r, S6, C6, 1, 4, C6, 40000, S6, 53), NTFW_ACCEPT);
	/* Quoting the blocked flow the other way round: dropped with it,
	 * although icmp-in accepts ICMP. */
	assert_int_equal(icmp_err(&r, C, S, 3, 3, S, 7777, C, 40001), NTFW_DROP);
	assert_int_equal(state_pkts(&r, NTFW_ST_RELATED), 3);
	assert_int_equal(rule_pkts(&r, 0), 4);
	assert_int_equal(rule_pkts(&r, 1), 2);
	assert_int_equal(rule_pkts(&r, 2), 0);
	/* Nothing known quoted: the rules decide. */
	assert_int_equal(icmp_err(&r, C, S, 3, 3, S, 1, C, 2), NTFW_ACCEPT);
	assert_int_equal(icmp_err(&r, C6, S6, 1, 4, S6, 1, C6, 2), NTFW_DROP);
	assert_int_equal(rule_pkts(&r, 2), 1);
	assert_int_equal(state_pkts(&r, NTFW_ST_RELATED), 3);
	rig_free(&r);
}

/* "state related" as a per-packet rule drops errors about any flow. */
static void state_match_related(void **state)
{
	struct rig r;

	rig_init(&r, "drop name noerr proto icmp state related\n"
		     "accept name dns proto udp dport 53\n");
	assert_int_equal(udp(&r, C, S, 40000, 53), NTFW_ACCEPT);
	assert_int_equal(icmp_err(&r, S, C, 3, 3, C, 40000, S, 53), NTFW_DROP);
	assert_int_equal(rule_pkts(&r, 0), 1);
	/* An unrelated error is new: the rule does not hold. */
	assert_int_equal(icmp_err(&r, S, C, 3, 3, C, 1, S, 2), NTFW_ACCEPT);
	rig_free(&r);
}

/* ICMP other than echo keeps no state: each message meets the rules. */
static void icmp_stateless(void **state)
{
	uint8_t b[PKT_MAX];
	struct rig r;

	rig_init(&r, "default drop\n"
		     "accept name unreach proto icmp icmp-type destination-unreachable\n"
		     "accept name ping proto icmp icmp-type echo-request\n");
	assert_int_equal(feed(&r, b, pkt_icmp4(b, C, S, 3, 1, 0, 28)), NTFW_ACCEPT);
	assert_int_equal(feed(&r, b, pkt_icmp4(b, C, S, 5, 1, 0, 28)), NTFW_DROP);
	assert_int_equal(feed(&r, b, pkt_icmp4(b, C, S, 13, 0, 0, 12)), NTFW_DROP);
	/* Echo is a flow: the reply follows the request. */
	assert_int_equal(feed(&r, b, pkt_icmp4(b, C, S, 8, 0, 77, 8)), NTFW_ACCEPT);
	assert_int_equal(feed(&r, b, pkt_icmp4(b, S, C, 0, 0, 77, 8)), NTFW_ACCEPT);
	assert_int_equal(feed(&r, b, pkt_icmp4(b, S, C, 0, 0, 78, 8)), NTFW_DROP);
	rig_free(&r);
}

/* Without a flow table (ctx NULL) every packet counts as new. */
static void state_without_ctx(void **state)
{
	struct ntfw_conf *c = conf_text("accept name n state new\n"
				   "drop name e state established,invalid\n");
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p = { 0 };
	unsigned int idx;
	size_t n = pkt_udp4(b, C, S, 1, 2, 0);

	assert_int_equal(ntfw_parse(b, n, n, &p), NTFW_PKT_OK);
	assert_non_null(ntfw_policy_eval(c, &p, NULL, &idx));
	assert_int_equal(idx, 0);
	ntfw_conf_free(c);
}


/* A reload re-decides open flows (judged the way they were opened), or
 * with "reload-flows keep" leaves them be. */
static void reload_reevaluate_or_keep(void **state)
{
	struct rig r;

	rig_init(&r, "default drop\naccept name web proto tcp dport 80\n"
		     "accept name ssh proto tcp dport 22\n");
	tcp(&r, C, S, 40000, 80, SYN, 100, 0, 0);
	tcp(&r, C, S, 40001, 22, SYN, 100, 0, 0);
	rig_reload(&r, "default drop\naccept name web proto tcp dport 80\n");
	/* The server's reply is turned round: the flow is still web's. */
	assert_int_equal(tcp(&r, S, C, 80, 40000, SYN | ACK, 500, 101, 0), NTFW_ACCEPT);
	assert_int_equal(tcp(&r, S, C, 22, 40001, SYN | ACK, 500, 101, 0), NTFW_DROP);
	assert_int_equal(tcp(&r, C, S, 40001, 22, ACK, 101, 501, 0), NTFW_DROP);

	rig_reload(&r, "default drop\nreload-flows keep\n");
	assert_int_equal(tcp(&r, C, S, 40000, 80, ACK, 101, 501, 0), NTFW_ACCEPT);
	assert_int_equal(tcp(&r, C, S, 40002, 80, SYN, 100, 0, 0), NTFW_DROP);
	rig_free(&r);
}

/* The fast path is offered once the flow is accepted and no per-packet
 * rule above its rule could match it, either way round. */
static void handoff_finality(void **state)
{
	struct rig r;

	rig_init(&r, "fastpath after 2\n"
		     "drop name other proto tcp dport 9 flow pushed_c2s > 1\n"
		     "accept name web proto tcp dport 80\n"
		     "drop name push proto tcp sport 81 flow pushed_s2c > 1\n"
		     "accept name web2 proto tcp dport 81\n");
	tcp(&r, C, S, 40000, 80, SYN, 100, 0, 0);
	assert_false(r.handoff);
	tcp(&r, S, C, 80, 40000, SYN | ACK, 500, 101, 0);
	assert_true(r.handoff);
	/* push tests the server's port as sport: it matches the replies. */
	tcp(&r, C, S, 40001, 81, SYN, 100, 0, 0);
	tcp(&r, S, C, 81, 40001, SYN | ACK, 500, 101, 0);
	assert_false(r.handoff);
	assert_int_equal(r.e.stats.handoffs, 1);
	rig_free(&r);
}

/* With several queues, an error queued to another worker than its flow's
 * follows the flow all the same, through the shared table of decided
 * flows; a flow that ended is forgotten there. */
static void related_other_worker(void **state)
{
	struct ntfw_relate *rel = ntfw_relate_new(256);
	struct rig a, b;

	assert_non_null(rel);
	rig_init(&a, "default drop\naccept name dns proto udp dport 53\n");
	rig_init(&b, "default drop\naccept name dns proto udp dport 53\n");
	a.e.rel = b.e.rel = rel;
	assert_int_equal(udp(&a, C, S, 40000, 53), NTFW_ACCEPT);
	assert_int_equal(udp(&a, C, S, 40001, 54), NTFW_DROP);
	assert_int_equal(icmp_err(&b, S, C, 3, 3, C, 40000, S, 53), NTFW_ACCEPT);
	assert_int_equal(b.e.stats.state_pkts[NTFW_ST_RELATED], 1);
	assert_int_equal(b.e.stats.rule_pkts[0], 1);
	assert_int_equal(icmp_err(&b, S, C, 3, 3, C, 40001, S, 54), NTFW_DROP);
	assert_int_equal(b.e.stats.state_pkts[NTFW_ST_RELATED], 2);
	/* Not sent back to the quoted packet's source: the rules. */
	assert_int_equal(icmp_err(&b, S, "10.213.0.9", 3, 3, C, 40000, S, 53),
			 NTFW_DROP);
	assert_int_equal(b.e.stats.state_pkts[NTFW_ST_RELATED], 2);
	/* The flows end: the errors meet the rules (default drop). */
	ntfw_engine_flush(&a.e);
	assert_int_equal(icmp_err(&b, S, C, 3, 3, C, 40000, S, 53), NTFW_DROP);
	rig_free(&a);
	rig_free(&b);
	ntfw_relate_free(rel);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(replies_follow),
		cmocka_unit_test(output_then_replies),
		cmocka_unit_test(per_packet_above),
		cmocka_unit_test(related_errors),
		cmocka_unit_test(state_match_related),
		cmocka_unit_test(icmp_stateless),
		cmocka_unit_test(state_without_ctx),
		cmocka_unit_test(reload_reevaluate_or_keep),
		cmocka_unit_test(handoff_finality),
		cmocka_unit_test(related_other_worker),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
