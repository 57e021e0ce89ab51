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
#include <arpa/inet.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf.h"
#include "flow.h"
#include "ifcache.h"
#include "limiter.h"
#include "lookup.h"
#include "parse.h"
#include "policy.h"
#include "conf_text.h"
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
	struct ntfw_conf *c = conf_text("accept name a dport 22\n"
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
	struct ntfw_conf *c = conf_text("default drop\ndrop name a dport 22\n");
	struct ntfw_pkt p = tcp("10.0.0.1", "10.0.0.2", 80);

	assert_string_equal(decide(c, &p, NULL), "default");
	ntfw_conf_free(c);

	c = conf_text("");
	assert_string_equal(decide(c, &p, NULL), "default");
	ntfw_conf_free(c);
}

/* A rule without matches takes every packet, even odd ones. */
static void empty_rule_matches_all(void **state)
{
	struct ntfw_conf *c = conf_text("accept name all\n");
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
		c = conf_text(text);
		pkt_addr(a, addr);
		if (ntfw_prefix_match(&c->rules[0].src.v[0], is6(addr) ? 6 : 4, a) !=
		    prefix_cases[i].match)
			fail_msg("%s against %s: expected %s", addr, pfx,
				 prefix_cases[i].match ? "a match" : "none");
		p = udp(addr, peer, 1, 2);
		assert_string_equal(decide(c, &p, NULL), want);
		ntfw_conf_free(c);

		snprintf(text, sizeof(text), "drop name r dst %s\n", pfx);
		c = conf_text(text);
		p = udp(peer, addr, 1, 2);
		assert_string_equal(decide(c, &p, NULL), want);
		ntfw_conf_free(c);
	}
}

static void address_lists(void **state)
{
	struct ntfw_conf *c = conf_text("drop name r src 10.0.0.1, 10.9.0.0/16, "
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
	struct ntfw_conf *c = conf_text("set s { 10.0.0.0/8, fd00::/16, 192.0.2.7 }\n"
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
	struct ntfw_conf *c = conf_text("accept name web dport 80,443,8000-8099\n"
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
	struct ntfw_conf *c = conf_text("drop name low sport 0-1023\n"
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
	struct ntfw_conf *c = conf_text("drop name d dport 7\n"
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
	struct ntfw_conf *c = conf_text("drop name gre proto gre\n"
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
	struct ntfw_conf *c = conf_text("drop name new tcp-flags syn !ack\n"
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
	struct ntfw_conf *c = conf_text("drop name ping icmp-type echo-request\n"
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
	struct ntfw_conf *c = conf_text("drop name port dport 80\n"
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
	struct ntfw_conf *c = conf_text("accept name out hook output\n"
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
	struct ntfw_conf *c = conf_text("accept name from-lo iif lo\n"
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
	struct ntfw_conf *c = conf_text("drop name v4 family ip dport 1\n"
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
	struct ntfw_conf *c = conf_text("drop name flood rate over 1/hour burst 5124097\n");
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
	struct ntfw_conf *c = conf_text("drop name flood rate over 1/hour burst 5124095\n");
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
	struct ntfw_conf *c = conf_text("drop name a proto tcp tcp-flags syn !ack "
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
	struct ntfw_conf *c = conf_text(text);
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

/* ---- lookup structures against brute force (fixed seeds) ---- */

static uint64_t rng_state;

static uint32_t rnd(void)
{
	/* xorshift64*: the same sequence on every machine. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 2685821657736338717ull) >> 32);
}

static uint32_t rnd_below(uint32_t n)
{
	return n ? rnd() % n : 0;
}

/* Bases that prefixes and addresses cluster around, so that prefixes
 * nest and overlap and addresses fall on their edges. */
static const char *const bases4[] = {
	"0.0.0.0", "10.0.0.0", "10.0.0.255", "10.1.0.0", "128.0.0.0",
	"192.0.2.0", "255.255.255.255", "255.255.255.0",
};
static const char *const bases6[] = {
	"::", "fd00::", "fd00::ffff:ffff:ffff:ffff", "fd00:0:0:1::",
	"8000::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fd00::1:0:0:0",
};

/* Flip a few random low bits of @a (@bits long): near the base. */
static void jitter(uint8_t *a, unsigned int bits)
{
	unsigned int k, n = rnd_below(4);

	for (k = 0; k < n; k++) {
		unsigned int b = bits - 1 - rnd_below(rnd_below(2) ? 12 : bits);

		a[b / 8] ^= (uint8_t)(0x80 >> (b % 8));
	}
}

static void rnd_prefix(struct ntfw_prefix *pf, uint8_t family)
{
	static const uint8_t lens4[] = { 0, 1, 8, 16, 23, 24, 25, 31, 32, 32 };
	static const uint8_t lens6[] = { 0, 1, 48, 63, 64, 65, 127, 128, 128 };
	unsigned int i, bits = family == 4 ? 32 : 128;

	memset(pf, 0, sizeof(*pf));
	pf->family = family;
	if (family == 4) {
		pkt_addr(pf->addr, bases4[rnd_below(ARRAY_SIZE(bases4))]);
		pf->len = rnd_below(3) ? lens4[rnd_below(ARRAY_SIZE(lens4))] :
			  (uint8_t)rnd_below(33);
	} else {
		pkt_addr(pf->addr, bases6[rnd_below(ARRAY_SIZE(bases6))]);
		pf->len = rnd_below(3) ? lens6[rnd_below(ARRAY_SIZE(lens6))] :
			  (uint8_t)rnd_below(129);
	}
	jitter(pf->addr, bits);
	/* Host bits clear, as the config parser leaves them. */
	for (i = pf->len; i < bits; i++)
		pf->addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
}

/* An address at, just inside or just outside one of @v's edges, or
 * near a base. */
static void rnd_addr(uint8_t *a, uint8_t family,
		     const struct ntfw_prefix *v, unsigned int n)
{
	unsigned int bits = family == 4 ? 32 : 128, i, k;
	const struct ntfw_prefix *pf = NULL;

	memset(a, 0, 16);
	for (k = 0; n && k < 4 && !pf; k++) {
		pf = &v[rnd_below(n)];
		if (pf->family != family)
			pf = NULL;
	}
	if (!pf || !rnd_below(4)) {
		pkt_addr(a, family == 4 ? bases4[rnd_below(ARRAY_SIZE(bases4))] :
			 bases6[rnd_below(ARRAY_SIZE(bases6))]);
		jitter(a, bits);
		return;
	}
	memcpy(a, pf->addr, 16);
	if (rnd_below(2)) /* the last address of the prefix */
		for (i = pf->len; i < bits; i++)
			a[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	switch (rnd_below(3)) {
	case 0: {
		/* Plus or minus one: past the end, before the start. */
		int up = rnd_below(2);

		for (i = bits; i-- > 0;) {
			uint8_t bit = (uint8_t)(0x80 >> (i % 8));
			bool was = a[i / 8] & bit;

			a[i / 8] ^= bit;
			if (was != up) /* a bit took the carry (or borrow) */
				break;
		}
		break;
	}
	case 1:
		jitter(a, bits);
		break;
	default:
		break;
	}
}

static bool brute_has(const struct ntfw_prefix *v, unsigned int n,
		      uint8_t family, const uint8_t *a)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (ntfw_prefix_match(&v[i], family, a))
			return true;
	return false;
}

static void check_ranges(const struct ntfw_prefix *v, unsigned int n,
			 unsigned int probes)
{
	struct ntfw_addr_ranges *r = ntfw_addr_ranges_build(v, n);
	unsigned int k;
	uint8_t a[16];

	assert_non_null(r);
	for (k = 0; k < probes; k++) {
		uint8_t fam = rnd_below(2) ? 4 : 6;
		char buf[64];

		rnd_addr(a, fam, v, n);
		if (ntfw_addr_ranges_has(r, fam, a) != brute_has(v, n, fam, a)) {
			inet_ntop(fam == 4 ? AF_INET : AF_INET6, a, buf, sizeof(buf));
			fail_msg("%s: intervals say %d, the prefixes %d (n %u)",
				 buf, !brute_has(v, n, fam, a),
				 brute_has(v, n, fam, a), n);
		}
	}
	ntfw_addr_ranges_free(r);
}

static void set_lookup_random(void **state)
{
	struct ntfw_prefix *v = calloc(6000, sizeof(*v));
	unsigned int t, i, n;

	assert_non_null(v);
	rng_state = 0x5e75e75e75ull;
	for (t = 0; t < 400; t++) {
		n = rnd_below(t < 200 ? 8 : 64);
		for (i = 0; i < n; i++)
			rnd_prefix(&v[i], rnd_below(2) ? 4 : 6);
		check_ranges(v, n, 200);
	}
	/* Large enough for the /16 table: mostly /32 and /24 spread out. */
	n = 6000;
	for (i = 0; i < n; i++) {
		rnd_prefix(&v[i], rnd_below(5) ? 4 : 6);
		if (v[i].family == 4 && rnd_below(4)) {
			uint32_t x = rnd();

			v[i].len = rnd_below(2) ? 32 : 24;
			v[i].addr[0] = (uint8_t)(x >> 24);
			v[i].addr[1] = (uint8_t)(x >> 16);
			v[i].addr[2] = (uint8_t)(x >> 8);
			v[i].addr[3] = v[i].len == 32 ? (uint8_t)x : 0;
		}
	}
	check_ranges(v, n, 20000);
	free(v);
}

static void port_lookup_random(void **state)
{
	static const uint16_t edges[] = { 0, 1, 79, 80, 81, 1023, 1024, 65534,
					  65535 };
	uint16_t lohi[2 * 16];
	uint32_t m[16];
	unsigned int t, i, n, nm, port;

	rng_state = 0x9027ull;
	for (t = 0; t < 600; t++) {
		n = 1 + rnd_below(16);
		for (i = 0; i < n; i++) {
			uint16_t a = rnd_below(2) ? edges[rnd_below(ARRAY_SIZE(edges))] :
				     (uint16_t)rnd_below(t < 300 ? 200 : 65536);
			uint16_t b = rnd_below(3) ? a : (uint16_t)(a + rnd_below(300));

			if (b < a)
				b = 65535;
			lohi[2 * i] = a;
			lohi[2 * i + 1] = b;
		}
		nm = ntfw_port_ranges_merge(lohi, n, m);
		assert_true(nm >= 1 && nm <= n);
		for (i = 1; i < nm; i++) /* disjoint, sorted, not touching */
			assert_true((m[i] >> 16) > (m[i - 1] & 0xffff) + 1);
		for (port = 0; port < 65536; port++) {
			bool want = false;

			for (i = 0; i < n && !want; i++)
				want = port >= lohi[2 * i] && port <= lohi[2 * i + 1];
			if (ntfw_port_ranges_has(m, nm, (uint16_t)port) != want)
				fail_msg("port %u: merged ranges say %d", port, !want);
		}
	}
}

/* ---- the rule index against a walk of every rule ---- */

static const char *const pool4[] = { "10.0.0.0/8", "10.1.0.0/16",
				     "10.1.2.3", "0.0.0.0/0", "192.0.2.0/24" };
static const char *const pool6[] = { "fd00::/16", "fd00:1::/32", "fd00::1",
				     "::/0", "2001:db8::/64" };
static const char *const pool_ports[] = { "0", "22", "53", "80", "443",
					  "1000-2000", "1-65535", "65535",
					  "79-81", "8080" };
static const uint16_t pkt_ports[] = { 0, 1, 21, 22, 23, 53, 79, 80, 81, 443,
				      999, 1000, 1500, 2000, 2001, 8080,
				      65534, 65535 };

static void append(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

static void rnd_addr_list(char *t, size_t size, const char *kw, int fam)
{
	unsigned int k, n = 1 + rnd_below(3);

	append(t, size, " %s ", kw);
	if (!fam && !rnd_below(3)) {
		append(t, size, "@s%u", rnd_below(3));
		return;
	}
	for (k = 0; k < n; k++)
		append(t, size, "%s%s", k ? "," : "",
		       fam == 6 ? pool6[rnd_below(ARRAY_SIZE(pool6))] :
				  pool4[rnd_below(ARRAY_SIZE(pool4))]);
}

/* One rule that parses: the family, once implied, is kept. */
static void rnd_rule(char *t, size_t size, unsigned int i)
{
	static const char *const protos[] = { "tcp", "udp", "icmp", "icmpv6",
					      "gre", "132", "tcp", "udp" };
	int fam = 0, ports = 1, tcp = 1, icmp = 0;
	const char *proto = NULL;
	unsigned int k, n;

	append(t, size, "%s name r%u", rnd_below(2) ? "drop" : "accept", i);
	if (!rnd_below(5)) {
		fam = rnd_below(2) ? 4 : 6;
		append(t, size, " family %s", fam == 4 ? "ip" : "ip6");
	}
	if (rnd_below(5) < 3) {
		proto = protos[rnd_below(ARRAY_SIZE(protos))];
		if ((!strcmp(proto, "icmp") && fam == 6) ||
		    (!strcmp(proto, "icmpv6") && fam == 4))
			proto = "tcp";
		if (!strcmp(proto, "icmp"))
			fam = 4;
		if (!strcmp(proto, "icmpv6"))
			fam = 6;
		append(t, size, " proto %s", proto);
		ports = !strcmp(proto, "tcp") || !strcmp(proto, "udp");
		tcp = !strcmp(proto, "tcp");
		icmp = !strcmp(proto, "icmp") || !strcmp(proto, "icmpv6");
	}
	if (ports && rnd_below(5) < 3) {
		n = 1 + rnd_below(3);
		append(t, size, " dport ");
		for (k = 0; k < n; k++)
			append(t, size, "%s%s", k ? "," : "",
			       pool_ports[rnd_below(ARRAY_SIZE(pool_ports))]);
	}
	if (ports && !rnd_below(6))
		append(t, size, " sport %s",
		       pool_ports[rnd_below(ARRAY_SIZE(pool_ports))]);
	if (!rnd_below(4)) {
		if (!fam && rnd_below(2))
			fam = rnd_below(2) ? 4 : 6;
		rnd_addr_list(t, size, "src", fam);
	}
	if (!rnd_below(5))
		rnd_addr_list(t, size, "dst", fam);
	if (tcp && !icmp && !rnd_below(8))
		append(t, size, " tcp-flags syn !ack");
	if (icmp && rnd_below(2))
		append(t, size, " icmp-type echo-request");
	if (!rnd_below(10))
		append(t, size, " hook %s", rnd_below(2) ? "input" : "output");
	append(t, size, "\n");
}

static void rnd_pkt(struct ntfw_pkt *p)
{
	static const uint8_t protos[] = { 6, 17, 1, 58, 47, 132, 0, 6, 17 };
	static const uint8_t flags[] = { NTFW_PKT_L4, NTFW_PKT_L4, NTFW_PKT_L4,
					 0, NTFW_PKT_FRAG | NTFW_PKT_LATERFRAG,
					 NTFW_PKT_L4_UNKNOWN };
	static const uint8_t hooks[] = { 1, 2, 3, 0xff };
	const char *a;

	memset(p, 0, sizeof(*p));
	p->family = rnd_below(2) ? 4 : 6;
	p->proto = protos[rnd_below(ARRAY_SIZE(protos))];
	p->flags = flags[rnd_below(ARRAY_SIZE(flags))];
	p->hook = hooks[rnd_below(ARRAY_SIZE(hooks))];
	p->sport = pkt_ports[rnd_below(ARRAY_SIZE(pkt_ports))];
	p->dport = rnd_below(8) ? pkt_ports[rnd_below(ARRAY_SIZE(pkt_ports))] :
		   (uint16_t)rnd();
	p->tcp_flags = (uint8_t)rnd();
	p->icmp_type = rnd_below(2) ? (p->family == 4 ? 8 : 128) : 0;
	a = p->family == 4 ? pool4[rnd_below(ARRAY_SIZE(pool4))] :
	    pool6[rnd_below(ARRAY_SIZE(pool6))];
	pkt_addr(p->src, a);
	jitter(p->src, p->family == 4 ? 32 : 128);
	a = p->family == 4 ? pool4[rnd_below(ARRAY_SIZE(pool4))] :
	    pool6[rnd_below(ARRAY_SIZE(pool6))];
	pkt_addr(p->dst, a);
	jitter(p->dst, p->family == 4 ? 32 : 128);
}

static void index_random(void **state)
{
	size_t size = 1 << 16;
	char *text = malloc(size);
	unsigned int t, k, i, n, want, got, cands = 0, tested = 0;
	uint8_t *cand;

	assert_non_null(text);
	rng_state = 0x1dea5ull;
	for (t = 0; t < 300; t++) {
		struct ntfw_conf *c;

		text[0] = '\0';
		for (k = 0; k < 3; k++) {
			append(text, size, "set s%u { ", k);
			append(text, size, "%s, %s }\n",
			       pool4[rnd_below(ARRAY_SIZE(pool4))],
			       pool6[rnd_below(ARRAY_SIZE(pool6))]);
		}
		n = 1 + rnd_below(t < 150 ? 12 : 150);
		for (i = 0; i < n; i++)
			rnd_rule(text, size, i);
		c = conf_text(text);
		assert_non_null(c->index);
		cand = calloc(c->nrules + 1, 1);
		assert_non_null(cand);
		for (k = 0; k < 100; k++) {
			struct ntfw_pkt p;
			struct ntfw_cand it;
			uint32_t prev = 0, ci;
			bool first = true;

			rnd_pkt(&p);
			memset(cand, 0, c->nrules + 1);
			assert_true(ntfw_rule_index_start(c->index, &p, &it));
			/* Candidates come in rule order, each once. */
			while ((ci = ntfw_cand_next(&it)) != UINT32_MAX) {
				assert_true(ci < c->nrules);
				assert_true(first || ci > prev);
				first = false;
				prev = ci;
				cand[ci] = 1;
				cands++;
			}
			/* Every rule that matches is a candidate. */
			want = c->nrules;
			for (i = 0; i < c->nrules; i++) {
				if (!ntfw_rule_match(&c->rules[i], i, &p, NULL))
					continue;
				if (!cand[i])
					fail_msg("rule %u matches but is no candidate:\n%s",
						 i, text);
				if (want == c->nrules)
					want = i;
			}
			ntfw_policy_eval(c, &p, NULL, &got);
			assert_int_equal(got, want);
			tested++;
		}
		free(cand);
		ntfw_conf_free(c);
	}
	/* The index narrows: well under every rule for every packet. */
	assert_true(cands < tested * 40);
	free(text);
}

/* ---- set files ---- */

static void set_files(void **state)
{
	char dir[] = "/tmp/ntfw-set-XXXXXX", path[64], text[256];
	struct ntfw_conf *c = NULL;
	char *err = NULL;
	size_t len = 0;
	struct ntfw_pkt p;
	FILE *f;
	int n;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/block.txt", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("# a blocklist\n10.9.0.0/16\n\n  192.0.2.7 # one host\n"
	      "fd00:9::/32\n", f);
	fclose(f);
	/* Relative to the config file's directory. */
	snprintf(path, sizeof(path), "%s/ntfw.conf", dir);
	snprintf(text, sizeof(text),
		 "set bl file \"block.txt\"\ndrop name bl src @bl\n");
	f = open_memstream(&err, &len);
	n = ntfw_conf_parse(path, text, strlen(text), &c, f);
	fclose(f);
	if (n)
		fail_msg("%s", err);
	free(err);
	assert_int_equal(c->sets[0].n, 3);
	p = udp("10.9.3.4", "10.0.0.1", 1, 2);
	assert_string_equal(decide(c, &p, NULL), "bl");
	p = udp("192.0.2.7", "10.0.0.1", 1, 2);
	assert_string_equal(decide(c, &p, NULL), "bl");
	p = udp("192.0.2.8", "10.0.0.1", 1, 2);
	assert_string_equal(decide(c, &p, NULL), "default");
	p = udp("fd00:9:1::1", "fd00::1", 1, 2);
	assert_string_equal(decide(c, &p, NULL), "bl");
	ntfw_conf_free(c);

	/* Errors are the set file's own line and column. */
	snprintf(path, sizeof(path), "%s/block.txt", dir);
	f = fopen(path, "w");
	fputs("10.0.0.0/8\n\n  10.300.0.1\n10.1.0.0/16 10.2.0.0/16\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/ntfw.conf", dir);
	err = NULL;
	f = open_memstream(&err, &len);
	c = NULL;
	n = ntfw_conf_parse(path, text, strlen(text), &c, f);
	fclose(f);
	assert_int_equal(n, 3); /* two in the file, then the unknown set */
	assert_null(c);
	assert_non_null(strstr(err, "/block.txt:3:3: error: bad address '10.300.0.1'"));
	assert_non_null(strstr(err, "/block.txt:4:13: error: unexpected '10.2.0.0/16'"));
	free(err);

	snprintf(path, sizeof(path), "%s/block.txt", dir);
	unlink(path);
	err = NULL;
	f = open_memstream(&err, &len);
	snprintf(path, sizeof(path), "%s/ntfw.conf", dir);
	n = ntfw_conf_parse(path, text, strlen(text), &c, f);
	fclose(f);
	assert_true(n >= 1);
	assert_non_null(strstr(err, "ntfw.conf:1:13: error: cannot read set file"));
	free(err);
	rmdir(dir);
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
		cmocka_unit_test(set_lookup_random),
		cmocka_unit_test(port_lookup_random),
		cmocka_unit_test(index_random),
		cmocka_unit_test(set_files),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL) ? 1 : 0;
}
