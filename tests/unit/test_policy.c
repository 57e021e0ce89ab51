// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rule matching tests: configs from the config parser, packets built byte
 * by byte and run through the packet parser, and the rule that decides
 * checked by name, as the counters show it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <cmocka.h>

#include "conf.h"
#include "flow.h"
#include "ifcache.h"
#include "limiter.h"
#include "parse.h"
#include "policy.h"
#include "pkt.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* NF_INET_* hook numbers. */
#define HOOK_PRE 0
#define HOOK_IN 1
#define HOOK_FWD 2
#define HOOK_OUT 3
#define HOOK_POST 4
#define HOOK_NONE 0xff

#define SEC 1000000000ull
#define HOUR (3600 * SEC)

static struct ntfw_conf *conf(const char *text)
{
	struct ntfw_conf *c = NULL;
	char *err = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&err, &len);
	int n;

	assert_non_null(f);
	n = ntfw_conf_parse("test.conf", text, strlen(text), &c, f);
	fclose(f);
	if (n)
		fail_msg("config does not parse:\n%s", err);
	free(err);
	return c;
}

/*
 * The name of the rule that decides @p, or "default".  The index given
 * back must agree: the rule's own, or nrules for the default.
 */
static const char *decide(const struct ntfw_conf *c, const struct ntfw_pkt *p,
			  struct ntfw_ifcache *ifc)
{
	struct ntfw_eval_ctx ctx = { .ifc = ifc };
	unsigned int idx = 12345;
	const struct ntfw_rule *r = ntfw_policy_eval(c, p, &ctx, &idx);

	if (!r) {
		assert_int_equal(idx, c->nrules);
		return "default";
	}
	assert_ptr_equal(r, &c->rules[idx]);
	return r->name;
}

/* ---- packets ---- */

static int is6(const char *addr)
{
	return strchr(addr, ':') != NULL;
}

/* Parse @n bytes of @b into @p with the given metadata; it must be valid. */
static void mk(struct ntfw_pkt *p, const uint8_t *b, size_t n, uint8_t hook,
	       uint32_t iif, uint32_t oif)
{
	enum ntfw_malformed m;

	p->hook = hook;
	p->iif = iif;
	p->oif = oif;
	m = ntfw_parse(b, n, n, p);
	if (m != NTFW_PKT_OK)
		fail_msg("test packet is malformed: %s", ntfw_malformed_name(m));
}

static struct ntfw_pkt tcp_pkt(const char *src, const char *dst,
			       uint16_t sport, uint16_t dport, uint8_t flags)
{
	struct tcp_opts o = { .sport = sport, .dport = dport, .seq = 1,
			      .flags = flags, .win = 1000 };
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n = is6(src) ? pkt_tcp6(b, src, dst, &o, 0) :
			      pkt_tcp4(b, src, dst, &o, 0);

	mk(&p, b, n, HOOK_IN, 0, 0);
	return p;
}

static struct ntfw_pkt tcp(const char *src, const char *dst, uint16_t dport)
{
	return tcp_pkt(src, dst, 40000, dport, NTFW_TCP_SYN);
}

static struct ntfw_pkt udp(const char *src, const char *dst, uint16_t sport,
			   uint16_t dport)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n = is6(src) ? pkt_udp6(b, src, dst, sport, dport, 4) :
			      pkt_udp4(b, src, dst, sport, dport, 4);

	mk(&p, b, n, HOOK_IN, 0, 0);
	return p;
}

/* ICMP for IPv4 addresses, ICMPv6 for IPv6 ones; @id for echo. */
static struct ntfw_pkt icmp(const char *src, const char *dst, uint8_t type,
			    uint16_t id)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n = is6(src) ? pkt_icmp6(b, src, dst, type, 0, id, 8) :
			      pkt_icmp4(b, src, dst, type, 0, id, 8);

	mk(&p, b, n, HOOK_IN, 0, 0);
	return p;
}

/* An ICMP-looking header under any protocol number. */
static struct ntfw_pkt icmp_in(const char *src, const char *dst, uint8_t proto,
			       uint8_t type)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n = is6(src) ? put_ip6(b, proto, 8, src, dst) :
			      put_ip4(b, proto, 28, src, dst);

	n += put_icmp(b + n, type, 0, 1, 1);
	mk(&p, b, n, HOOK_IN, 0, 0);
	return p;
}

/* A fragment after the first one: no transport header. */
static struct ntfw_pkt later_frag(const char *src, const char *dst,
				  uint8_t proto)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n;

	if (is6(src)) {
		n = put_ip6(b, IPPROTO_FRAGMENT, 8 + 24, src, dst);
		n += put_frag6(b + n, proto, 100, 1);
	} else {
		n = put_ip4(b, proto, 20 + 24, src, dst);
		ip4_frag(b, 100, 1);
	}
	/* Bytes that would read as port 80 and SYN were they a header. */
	n += put_tcp(b + n, &(struct tcp_opts){ .sport = 80, .dport = 80,
						.flags = NTFW_TCP_SYN });
	n += 4;
	mk(&p, b, n, HOOK_IN, 0, 0);
	assert_true(p.flags & NTFW_PKT_LATERFRAG);
	return p;
}

static struct ntfw_pkt ip_proto(const char *src, const char *dst,
				uint8_t proto)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n = is6(src) ? put_ip6(b, proto, 8, src, dst) :
			      put_ip4(b, proto, 28, src, dst);

	n += put_data(b + n, 8);
	mk(&p, b, n, HOOK_IN, 0, 0);
	return p;
}

static struct ntfw_pkt with_hook(struct ntfw_pkt p, uint8_t hook)
{
	p.hook = hook;
	return p;
}

static struct ntfw_pkt with_ifs(struct ntfw_pkt p, uint32_t iif, uint32_t oif)
{
	p.iif = iif;
	p.oif = oif;
	return p;
}

/* ---- order ---- */

static void first_match_wins(void **state)
{
	struct ntfw_conf *c = conf("accept name a dport 22\n"
				   "drop name b dport 22\n"
				   "drop name c proto tcp\n"
				   "accept name d\n"
				   "drop name e\n");
	struct ntfw_pkt p;

	p = tcp("10.0.0.1", "10.0.0.2", 22);
	assert_string_equal(decide(c, &p, NULL), "a");
	p = tcp("10.0.0.1", "10.0.0.2", 23);
	assert_string_equal(decide(c, &p, NULL), "c");
	p = udp("10.0.0.1", "10.0.0.2", 1, 23);
	assert_string_equal(decide(c, &p, NULL), "d");
	ntfw_conf_free(c);
}

static void default_when_none(void **state)
{
	struct ntfw_conf *c = conf("default drop\ndrop name a dport 22\n");
	struct ntfw_pkt p = tcp("10.0.0.1", "10.0.0.2", 80);

	assert_string_equal(decide(c, &p, NULL), "default");
	ntfw_conf_free(c);

	c = conf("");
	assert_string_equal(decide(c, &p, NULL), "default");
	ntfw_conf_free(c);
}

/* A rule without matches takes every packet, even odd ones. */
static void empty_rule_matches_all(void **state)
{
	struct ntfw_conf *c = conf("accept name all\n");
	struct ntfw_pkt p;

	p = later_frag("10.0.0.1", "10.0.0.2", IPPROTO_TCP);
	assert_string_equal(decide(c, &p, NULL), "all");
	p = ip_proto("fd00::1", "fd00::2", IPPROTO_NONE);
	assert_string_equal(decide(c, &p, NULL), "all");
	p = with_hook(udp("10.0.0.1", "10.0.0.2", 1, 2), HOOK_NONE);
	assert_string_equal(decide(c, &p, NULL), "all");
	ntfw_conf_free(c);
}

/* ---- addresses ---- */

static const struct {
	const char *prefix, *addr;
	bool match;
} prefix_cases[] = {
	{ "0.0.0.0/0", "0.0.0.0", true },
	{ "0.0.0.0/0", "255.255.255.255", true },
	{ "128.0.0.0/1", "128.0.0.0", true },
	{ "128.0.0.0/1", "255.255.255.255", true },
	{ "128.0.0.0/1", "127.255.255.255", false },
	{ "0.0.0.0/1", "127.255.255.255", true },
	{ "0.0.0.0/1", "128.0.0.0", false },
	{ "10.1.2.0/23", "10.1.2.0", true },
	{ "10.1.2.0/23", "10.1.3.255", true },
	{ "10.1.2.0/23", "10.1.1.255", false },
	{ "10.1.2.0/23", "10.1.4.0", false },
	{ "10.1.2.0/24", "10.1.2.0", true },
	{ "10.1.2.0/24", "10.1.2.255", true },
	{ "10.1.2.0/24", "10.1.3.0", false },
	{ "10.1.2.0/24", "10.1.1.255", false },
	{ "10.1.2.128/25", "10.1.2.128", true },
	{ "10.1.2.128/25", "10.1.2.255", true },
	{ "10.1.2.128/25", "10.1.2.127", false },
	{ "10.1.2.0/25", "10.1.2.127", true },
	{ "10.1.2.0/25", "10.1.2.128", false },
	{ "10.1.2.3/31", "10.1.2.2", true },
	{ "10.1.2.3/32", "10.1.2.3", true },
	{ "10.1.2.3/32", "10.1.2.2", false },
	{ "10.1.2.3", "10.1.2.3", true },
	{ "10.1.2.3", "10.1.2.4", false },
	{ "::/0", "::", true },
	{ "::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true },
	{ "8000::/1", "8000::", true },
	{ "8000::/1", "7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false },
	{ "fd00:1::/63", "fd00:1:0:1::1", true },
	{ "fd00:1::/63", "fd00:1:0:2::", false },
	{ "fd00::/127", "fd00::", true },
	{ "fd00::/127", "fd00::1", true },
	{ "fd00::/127", "fd00::2", false },
	{ "fd00::1/128", "fd00::1", true },
	{ "fd00::1/128", "fd00::", false },
	{ "fd00::1", "fd00::1:0", false },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/128",
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false },
	/* Families never cross, even when the leading bytes agree. */
	{ "0.0.0.0/0", "::", false },
	{ "::/0", "0.0.0.0", false },
	{ "10.0.0.0/8", "a00:1::", false },
	{ "10.0.0.0/8", "::ffff:10.0.0.1", false },
	{ "a00::/8", "10.0.0.1", false },
};

/* The prefix alone, and the same as src and dst of a rule. */
static void prefix_boundaries(void **state)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(prefix_cases); i++) {
		const char *pfx = prefix_cases[i].prefix;
		const char *addr = prefix_cases[i].addr;
		const char *peer = is6(addr) ? "fd99::99" : "192.0.2.99";
		const char *want = prefix_cases[i].match ? "r" : "default";
		char text[128];
		struct ntfw_conf *c;
		struct ntfw_pkt p;
		uint8_t a[16] = { 0 };

		snprintf(text, sizeof(text), "drop name r src %s\n", pfx);
		c = conf(text);
		pkt_addr(a, addr);
		if (ntfw_prefix_match(&c->rules[0].src.v[0], is6(addr) ? 6 : 4, a) !=
		    prefix_cases[i].match)
			fail_msg("%s against %s: expected %s", addr, pfx,
				 prefix_cases[i].match ? "a match" : "none");
		p = udp(addr, peer, 1, 2);
		assert_string_equal(decide(c, &p, NULL), want);
		ntfw_conf_free(c);

		snprintf(text, sizeof(text), "drop name r dst %s\n", pfx);
		c = conf(text);
		p = udp(peer, addr, 1, 2);
		assert_string_equal(decide(c, &p, NULL), want);
		ntfw_conf_free(c);
	}
}

static void address_lists(void **state)
{
	struct ntfw_conf *c = conf("drop name r src 10.0.0.1, 10.9.0.0/16, "
				   "192.168.1.0/24\n");
	struct ntfw_pkt p;

	p = udp("10.0.0.1", "10.0.0.2", 1, 2);
	assert_string_equal(decide(c, &p, NULL), "r");
	p = udp("10.9.200.1", "10.0.0.2", 1, 2);
	assert_string_equal(decide(c, &p, NULL), "r");
	p = udp("192.168.1.77", "10.0.0.2", 1, 2);
	assert_string_equal(decide(c, &p, NULL), "r");
	/* The destination is not the source. */
	p = udp("10.0.0.2", "10.0.0.1", 1, 2);
	assert_string_equal(decide(c, &p, NULL), "default");
	ntfw_conf_free(c);
}

static void sets_mixed_families(void **state)
{
	struct ntfw_conf *c = conf("set s { 10.0.0.0/8, fd00::/16, 192.0.2.7 }\n"
				   "set empty { }\n"
				   "drop name none src @empty\n"
				   "drop name from src @s\n"
				   "drop name to dst @s\n");
	struct ntfw_pkt p;

	p = udp("10.1.1.1", "203.0.113.1", 1, 2);
	assert_string_equal(decide(c, &p, NULL), "from");
	p = udp("192.0.2.7", "203.0.113.1", 1, 2);
	assert_string_equal(decide(c, &p, NULL), "from");
	p = udp("fd00:0:1::1", "2001:db8::1", 1, 2);
	assert_string_equal(decide(c, &p, NULL), "from");
	p = udp("203.0.113.1", "10.255.255.255", 1, 2);
	assert_string_equal(decide(c, &p, NULL), "to");
	p = udp("2001:db8::1", "fd00:ffff::1", 1, 2);
	assert_string_equal(decide(c, &p, NULL), "to");
	p = udp("11.0.0.1", "192.0.2.8", 1, 2);
	assert_string_equal(decide(c, &p, NULL), "default");
	p = udp("fd01::1", "fe80::1", 1, 2);
	assert_string_equal(decide(c, &p, NULL), "default");
	/* 10.0.0.0/8 is no IPv6 prefix: a0a:: starts with the same byte. */
	p = udp("a0a::1", "2001:db8::1", 1, 2);
	assert_string_equal(decide(c, &p, NULL), "default");
	ntfw_conf_free(c);
}

/* ---- ports ---- */

static void port_ranges_and_lists(void **state)
{
	static const struct {
		uint16_t port;
		const char *want;
	} cases[] = {
		{ 0, "zero" },	    { 1, "default" },	 { 79, "default" },
		{ 80, "web" },	    { 81, "default" },	 { 443, "web" },
		{ 7999, "default" }, { 8000, "web" },	 { 8050, "web" },
		{ 8099, "web" },    { 8100, "default" }, { 65534, "default" },
		{ 65535, "top" },
	};
	struct ntfw_conf *c = conf("accept name web dport 80,443,8000-8099\n"
				   "accept name zero dport 0\n"
				   "accept name top dport 65535\n");
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ntfw_pkt p = tcp("10.0.0.1", "10.0.0.2", cases[i].port);

		assert_string_equal(decide(c, &p, NULL), cases[i].want);
		p = udp("fd00::1", "fd00::2", 9, cases[i].port);
		assert_string_equal(decide(c, &p, NULL), cases[i].want);
	}
	ntfw_conf_free(c);
}

static void source_ports(void **state)
{
	struct ntfw_conf *c = conf("drop name low sport 0-1023\n"
				   "drop name both sport 5000 dport 6000\n");
	struct ntfw_pkt p;

	p = udp("10.0.0.1", "10.0.0.2", 1023, 9999);
	assert_string_equal(decide(c, &p, NULL), "low");
	p = udp("10.0.0.1", "10.0.0.2", 1024, 9999);
	assert_string_equal(decide(c, &p, NULL), "default");
	p = udp("10.0.0.1", "10.0.0.2", 9999, 1000);
	assert_string_equal(decide(c, &p, NULL), "default");
	p = udp("10.0.0.1", "10.0.0.2", 5000, 6000);
	assert_string_equal(decide(c, &p, NULL), "both");
	p = udp("10.0.0.1", "10.0.0.2", 6000, 5000);
	assert_string_equal(decide(c, &p, NULL), "default");
	ntfw_conf_free(c);
}

/* Without proto, a port means TCP or UDP; an ICMP echo id is no port. */
static void ports_without_proto(void **state)
{
	struct ntfw_conf *c = conf("drop name d dport 7\n"
				   "drop name s sport 7\n");
	struct ntfw_pkt p;

	p = tcp("10.0.0.1", "10.0.0.2", 7);
	assert_string_equal(decide(c, &p, NULL), "d");
	p = udp("fd00::1", "fd00::2", 1, 7);
	assert_string_equal(decide(c, &p, NULL), "d");
	p = icmp("10.0.0.1", "10.0.0.2", 8, 7);
	assert_int_equal(p.dport, 7);
	assert_string_equal(decide(c, &p, NULL), "default");
	p = icmp("10.0.0.1", "10.0.0.2", 0, 7);
	assert_string_equal(decide(c, &p, NULL), "default");
	p = icmp("fd00::1", "fd00::2", 128, 7);
	assert_int_equal(p.sport, 7);
	assert_string_equal(decide(c, &p, NULL), "default");
	p = ip_proto("10.0.0.1", "10.0.0.2", IPPROTO_GRE);
	assert_string_equal(decide(c, &p, NULL), "default");
	ntfw_conf_free(c);
}

static void protocols(void **state)
{
	struct ntfw_conf *c = conf("drop name gre proto gre\n"
				   "drop name udp proto 17\n"
				   "drop name icmp proto icmp\n"
				   "drop name icmpv6 proto icmpv6\n");
	struct ntfw_pkt p;

	p = ip_proto("10.0.0.1", "10.0.0.2", IPPROTO_GRE);
	assert_string_equal(decide(c, &p, NULL), "gre");
	p = ip_proto("fd00::1", "fd00::2", IPPROTO_GRE);
	assert_string_equal(decide(c, &p, NULL), "gre");
	p = udp("10.0.0.1", "10.0.0.2", 1, 2);
	assert_string_equal(decide(c, &p, NULL), "udp");
	p = icmp("10.0.0.1", "10.0.0.2", 3, 0);
	assert_string_equal(decide(c, &p, NULL), "icmp");
	p = icmp("fd00::1", "fd00::2", 1, 0);
	assert_string_equal(decide(c, &p, NULL), "icmpv6");
	p = tcp("10.0.0.1", "10.0.0.2", 80);
	assert_string_equal(decide(c, &p, NULL), "default");
	ntfw_conf_free(c);
}

/* ---- TCP flags and ICMP types ---- */

static void tcp_flags(void **state)
{
	static const struct {
		uint8_t flags;
		const char *want;
	} cases[] = {
		{ NTFW_TCP_SYN, "new" },
		{ NTFW_TCP_SYN | NTFW_TCP_ECE | NTFW_TCP_CWR, "new" },
		{ NTFW_TCP_SYN | NTFW_TCP_ACK, "default" },
		{ NTFW_TCP_ACK, "default" },
		{ 0, "default" },
		{ NTFW_TCP_FIN | NTFW_TCP_ACK, "default" },
		{ NTFW_TCP_RST, "reset" },
		{ NTFW_TCP_RST | NTFW_TCP_ACK, "reset" },
		{ 0xff, "default" },
	};
	struct ntfw_conf *c = conf("drop name new tcp-flags syn !ack\n"
				   "drop name reset tcp-flags rst !syn !fin\n");
	unsigned int i;
	struct ntfw_pkt p;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		p = tcp_pkt("10.0.0.1", "10.0.0.2", 1, 2, cases[i].flags);
		assert_string_equal(decide(c, &p, NULL), cases[i].want);
		p = tcp_pkt("fd00::1", "fd00::2", 1, 2, cases[i].flags);
		assert_string_equal(decide(c, &p, NULL), cases[i].want);
	}
	/* tcp-flags implies proto tcp. */
	p = udp("10.0.0.1", "10.0.0.2", 1, 2);
	assert_string_equal(decide(c, &p, NULL), "default");
	ntfw_conf_free(c);
}

static void icmp_types(void **state)
{
	struct ntfw_conf *c = conf("drop name ping icmp-type echo-request\n"
				   "drop name v4 proto icmp icmp-type 3\n"
				   "drop name v6 proto icmpv6 icmp-type 3\n");
	struct ntfw_pkt p;

	p = icmp("10.0.0.1", "10.0.0.2", 8, 1);
	assert_string_equal(decide(c, &p, NULL), "ping");
	p = icmp("fd00::1", "fd00::2", 128, 1);
	assert_string_equal(decide(c, &p, NULL), "ping");
	/* Type 8 is no echo request in ICMPv6, nor 128 in ICMP. */
	p = icmp("fd00::1", "fd00::2", 8, 1);
	assert_string_equal(decide(c, &p, NULL), "default");
	p = icmp("10.0.0.1", "10.0.0.2", 128, 1);
	assert_string_equal(decide(c, &p, NULL), "default");
	p = icmp("10.0.0.1", "10.0.0.2", 0, 1);
	assert_string_equal(decide(c, &p, NULL), "default");
	/* The same number, a different type in each protocol. */
	p = icmp("10.0.0.1", "10.0.0.2", 3, 0);
	assert_string_equal(decide(c, &p, NULL), "v4");
	p = icmp("fd00::1", "fd00::2", 3, 0);
	assert_string_equal(decide(c, &p, NULL), "v6");
	/* No ICMP, no ICMP type. */
	p = tcp("10.0.0.1", "10.0.0.2", 8);
	assert_string_equal(decide(c, &p, NULL), "default");
	/* ICMP carried in IPv6, ICMPv6 in IPv4: neither is what it seems. */
	p = icmp_in("fd00::1", "fd00::2", IPPROTO_ICMP, 8);
	assert_int_equal(p.icmp_type, 8);
	assert_string_equal(decide(c, &p, NULL), "default");
	p = icmp_in("10.0.0.1", "10.0.0.2", IPPROTO_ICMPV6, 128);
	assert_int_equal(p.icmp_type, 128);
	assert_string_equal(decide(c, &p, NULL), "default");
	ntfw_conf_free(c);
}

/* ---- fragments ---- */

static void later_fragments(void **state)
{
	struct ntfw_conf *c = conf("drop name port dport 80\n"
				   "drop name sp sport 80\n"
				   "drop name flags tcp-flags syn\n"
				   "drop name type icmp-type 0,8\n"
				   "accept name tcp proto tcp dst 10.0.0.2\n"
				   "accept name from src fd00::/16\n");
	struct ntfw_pkt p;

	/* Ports, flags and types are not known: only L3 rules match. */
	p = later_frag("10.0.0.1", "10.0.0.2", IPPROTO_TCP);
	assert_string_equal(decide(c, &p, NULL), "tcp");
	p = later_frag("10.0.0.1", "10.0.0.3", IPPROTO_TCP);
	assert_string_equal(decide(c, &p, NULL), "default");
	p = later_frag("fd00::1", "fd00::2", IPPROTO_UDP);
	assert_int_equal(p.proto, IPPROTO_UDP);
	assert_string_equal(decide(c, &p, NULL), "from");
	p = later_frag("10.0.0.1", "10.0.0.2", IPPROTO_ICMP);
	assert_string_equal(decide(c, &p, NULL), "default");
	ntfw_conf_free(c);
}

/* ---- hooks, interfaces, families ---- */

static void hooks(void **state)
{
	static const struct {
		uint8_t hook;
		const char *want;
	} cases[] = {
		{ HOOK_OUT, "out" },	   { HOOK_IN, "in-fwd" },
		{ HOOK_FWD, "in-fwd" },	   { HOOK_PRE, "default" },
		{ HOOK_POST, "default" },  { HOOK_NONE, "default" },
		{ 7, "default" },	   { 8, "default" },
	};
	struct ntfw_conf *c = conf("accept name out hook output\n"
				   "accept name in-fwd hook input,forward\n");
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ntfw_pkt p = with_hook(tcp("10.0.0.1", "10.0.0.2", 1),
					      cases[i].hook);

		assert_string_equal(decide(c, &p, NULL), cases[i].want);
	}
	ntfw_conf_free(c);
}

static void interfaces(void **state)
{
	struct ntfw_conf *c = conf("accept name from-lo iif lo\n"
				   "accept name to-lo oif lo\n"
				   "accept name other iif ntfw-none0\n");
	struct ntfw_ifcache ifc;
	uint32_t lo = if_nametoindex("lo");
	struct ntfw_pkt p = udp("127.0.0.1", "127.0.0.1", 1, 2);
	unsigned int i;

	assert_true(lo > 0);
	memset(&ifc, 0, sizeof(ifc));
	/* Twice: the second time the name comes from the cache. */
	for (i = 0; i < 2; i++) {
		p = with_ifs(p, lo, 0);
		assert_string_equal(decide(c, &p, &ifc), "from-lo");
		p = with_ifs(p, 0, lo);
		assert_string_equal(decide(c, &p, &ifc), "to-lo");
		p = with_ifs(p, lo, lo);
		assert_string_equal(decide(c, &p, &ifc), "from-lo");
		/* Index 0 is "no interface": it has no name to match. */
		p = with_ifs(p, 0, 0);
		assert_string_equal(decide(c, &p, &ifc), "default");
		/* An index no interface has. */
		p = with_ifs(p, 0x7ffffff0, 0x7ffffff0);
		assert_string_equal(decide(c, &p, &ifc), "default");
	}
	/* Without a cache no name is known. */
	p = with_ifs(p, lo, lo);
	assert_string_equal(decide(c, &p, NULL), "default");
	ntfw_conf_free(c);
}

static void families(void **state)
{
	struct ntfw_conf *c = conf("drop name v4 family ip dport 1\n"
				   "drop name v6 family ip6 dport 1\n"
				   "drop name ping4 proto icmp\n"
				   "drop name by-addr dst 0.0.0.0/0 dport 2\n");
	struct ntfw_pkt p;

	p = tcp("10.0.0.1", "10.0.0.2", 1);
	assert_string_equal(decide(c, &p, NULL), "v4");
	p = tcp("fd00::1", "fd00::2", 1);
	assert_string_equal(decide(c, &p, NULL), "v6");
	p = icmp("10.0.0.1", "10.0.0.2", 8, 1);
	assert_string_equal(decide(c, &p, NULL), "ping4");
	p = icmp("fd00::1", "fd00::2", 128, 1);
	assert_string_equal(decide(c, &p, NULL), "default");
	p = udp("10.0.0.1", "10.0.0.2", 1, 2);
	assert_string_equal(decide(c, &p, NULL), "by-addr");
	p = udp("fd00::1", "fd00::2", 1, 2);
	assert_string_equal(decide(c, &p, NULL), "default");
	ntfw_conf_free(c);
}

/* ---- the example config, end to end ---- */

/* ---- stateful matches ---- */

/* The rule deciding @p of flow @f (NULL: none), with rate state @lim at
 * @now; @new_flow when @p opened @f. */
static const char *decide_at(const struct ntfw_conf *c,
			     const struct ntfw_pkt *p, struct ntfw_limiter *lim,
			     struct ntfw_flow *f, bool new_flow, uint64_t now)
{
	struct ntfw_eval_ctx ctx = { .flow = f, .new_flow = new_flow,
				     .lim = lim, .now_ns = now };
	unsigned int idx;
	const struct ntfw_rule *r = ntfw_policy_eval(c, p, &ctx, &idx);

	return r ? r->name : "default";
}

/* Count the packets of @n, @p each, that @c drops at @now. */
static unsigned int drops_at(const struct ntfw_conf *c,
			     const struct ntfw_pkt *p, struct ntfw_limiter *lim,
			     unsigned int n, uint64_t now)
{
	unsigned int i, dropped = 0;

	for (i = 0; i < n; i++)
		dropped += strcmp(decide_at(c, p, lim, NULL, false, now),
				  "default") != 0;
	return dropped;
}

/* A burst whose allowance, (burst - 1) * interval, passes 2^64 ns: all
 * of it is within the rate, not a wrapped-around allowance of a few. */
static void rate_burst_past_64_bits(void **state)
{
	struct ntfw_conf *c = conf("drop name flood rate over 1/hour burst 5124097\n");
	struct ntfw_pkt p = udp("10.213.0.2", "10.213.0.1", 1000, 53);
	struct ntfw_limiter lim;

	assert_int_equal(ntfw_limiter_init(&lim, 64), 0);
	assert_int_equal(drops_at(c, &p, &lim, 10, 1000 * SEC), 0);
	assert_int_equal(drops_at(c, &p, &lim, 10, 1000 * SEC + HOUR), 0);
	ntfw_limiter_free(&lim);
	ntfw_conf_free(c);
}

/* The largest burst at 1/hour that fits in 64 bits is kept to the
 * packet: burst packets at once, the next one over, one more an hour
 * later. */
static void rate_burst_large(void **state)
{
	struct ntfw_conf *c = conf("drop name flood rate over 1/hour burst 5124095\n");
	struct ntfw_pkt p = udp("10.213.0.2", "10.213.0.1", 1000, 53);
	uint64_t t0 = 1000 * SEC;
	struct ntfw_limiter lim;

	assert_int_equal(ntfw_limiter_init(&lim, 64), 0);
	assert_int_equal(drops_at(c, &p, &lim, 5124095, t0), 0);
	assert_int_equal(drops_at(c, &p, &lim, 3, t0), 3);
	assert_int_equal(drops_at(c, &p, &lim, 1, t0 + HOUR), 0);
	assert_int_equal(drops_at(c, &p, &lim, 1, t0 + HOUR), 1);
	ntfw_limiter_free(&lim);
	ntfw_conf_free(c);
}

/* A flow of @p's client, as the flow table would open it. */
static struct ntfw_flow flow_of(const struct ntfw_pkt *p)
{
	struct ntfw_flow f;

	memset(&f, 0, sizeof(f));
	f.family = p->family;
	f.proto = p->proto;
	memcpy(f.caddr, p->src, sizeof(f.caddr));
	memcpy(f.saddr, p->dst, sizeof(f.saddr));
	return f;
}

/* Each flows-per-src rule judges a flow for itself: a flow opened over
 * rule a's limit is not over rule b's (1000/second, two flows). */
static void flows_per_src_per_rule(void **state)
{
	struct ntfw_conf *c = conf("drop name a proto tcp tcp-flags syn !ack "
				   "flows-per-src over 1/second\n"
				   "drop name b proto tcp flows-per-src over 1000/second\n");
	struct ntfw_pkt syn1 = tcp_pkt("10.213.0.2", "10.213.0.1", 40001, 80,
				       NTFW_TCP_SYN);
	struct ntfw_pkt syn2 = tcp_pkt("10.213.0.2", "10.213.0.1", 40002, 80,
				       NTFW_TCP_SYN);
	struct ntfw_pkt ack1 = tcp_pkt("10.213.0.2", "10.213.0.1", 40001, 80,
				       NTFW_TCP_ACK);
	struct ntfw_pkt ack2 = tcp_pkt("10.213.0.2", "10.213.0.1", 40002, 80,
				       NTFW_TCP_ACK);
	struct ntfw_flow f1 = flow_of(&syn1), f2 = flow_of(&syn2);
	uint64_t now = 1000 * SEC;
	struct ntfw_limiter lim;

	assert_int_equal(ntfw_limiter_init(&lim, 64), 0);
	/* The first flow is within both limits, the second over a's. */
	assert_string_equal(decide_at(c, &syn1, &lim, &f1, true, now), "default");
	assert_string_equal(decide_at(c, &syn2, &lim, &f2, true, now), "a");
	/* Past the SYN, rule a does not look; b counted neither flow. */
	assert_string_equal(decide_at(c, &ack1, &lim, &f1, false, now), "default");
	assert_string_equal(decide_at(c, &ack2, &lim, &f2, false, now), "default");
	/* Rule a still holds for the second flow's SYN, as judged. */
	assert_string_equal(decide_at(c, &syn2, &lim, &f2, false, now), "a");
	assert_string_equal(decide_at(c, &syn1, &lim, &f1, false, now), "default");
	ntfw_limiter_free(&lim);
	ntfw_conf_free(c);
}

static void example_config(void **state)
{
	static const char text[] = EXAMPLE_CONF;
	struct ntfw_conf *c = conf(text);
	struct ntfw_pkt p;

	p = icmp("10.213.1.5", "10.213.0.1", 8, 1);
	assert_string_equal(decide(c, &p, NULL), "no-ping");
	/* IPv6 pings are not covered by "proto icmp". */
	p = icmp("fd00:213:2::5", "fd00:213::1", 128, 1);
	assert_string_equal(decide(c, &p, NULL), "default");
	p = icmp("fd00:213:1::5", "fd00:213::1", 128, 1);
	assert_string_equal(decide(c, &p, NULL), "lan");
	p = tcp("10.213.1.5", "10.213.0.1", 23);
	assert_string_equal(decide(c, &p, NULL), "telnet");
	p = udp("10.213.1.5", "10.213.0.1", 1, 23);
	assert_string_equal(decide(c, &p, NULL), "lan");
	p = tcp("10.213.7.5", "10.213.0.1", 8080);
	assert_string_equal(decide(c, &p, NULL), "web");
	p = tcp("10.213.7.5", "10.213.0.1", 22);
	assert_string_equal(decide(c, &p, NULL), "blocked");
	p = tcp("fd00:213:1::5", "fd00:213::1", 9000);
	assert_string_equal(decide(c, &p, NULL), "v6-9000");
	p = tcp("fd00:213:1::5", "fd00:214::1", 9000);
	assert_string_equal(decide(c, &p, NULL), "lan");
	p = tcp("10.213.2.5", "10.213.0.1", 9000);
	assert_string_equal(decide(c, &p, NULL), "default");
	p = udp("fd00:213:1::ffff", "fd00:213::1", 1, 9000);
	assert_string_equal(decide(c, &p, NULL), "lan");
	ntfw_conf_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(first_match_wins),
		cmocka_unit_test(default_when_none),
		cmocka_unit_test(empty_rule_matches_all),
		cmocka_unit_test(prefix_boundaries),
		cmocka_unit_test(address_lists),
		cmocka_unit_test(sets_mixed_families),
		cmocka_unit_test(port_ranges_and_lists),
		cmocka_unit_test(source_ports),
		cmocka_unit_test(ports_without_proto),
		cmocka_unit_test(protocols),
		cmocka_unit_test(tcp_flags),
		cmocka_unit_test(icmp_types),
		cmocka_unit_test(later_fragments),
		cmocka_unit_test(hooks),
		cmocka_unit_test(interfaces),
		cmocka_unit_test(families),
		cmocka_unit_test(rate_burst_past_64_bits),
		cmocka_unit_test(rate_burst_large),
		cmocka_unit_test(flows_per_src_per_rule),
		cmocka_unit_test(example_config),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL) ? 1 : 0;
}
