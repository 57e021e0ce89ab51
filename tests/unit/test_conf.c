// SPDX-License-Identifier: GPL-2.0-only
/*
 * Config parser tests: what `ntfw -n` tells the user.  Every error message
 * is checked in full (location, message, source line, caret line), and a
 * good config is checked value by value.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "conf.h"
#include "parse.h"
#include "policy.h"
#include "pkt.h"
#include "stats.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ---- */

/*
 * Parse @text as "test.conf".  The text is copied without its NUL so that a
 * read past the length given shows up under ASan or valgrind.  *@err gets
 * everything written to the error stream (the caller frees it).
 */
static int parse_text(const char *text, struct ntfw_conf **out, char **err)
{
	size_t len = strlen(text), errlen = 0;
	char *copy = malloc(len ? len : 1);
	FILE *f;
	int n;

	assert_non_null(copy);
	memcpy(copy, text, len);
	*err = NULL;
	f = open_memstream(err, &errlen);
	assert_non_null(f);
	*out = NULL;
	n = ntfw_conf_parse("test.conf", copy, len, out, f);
	fclose(f);
	free(copy);
	return n;
}

/* Compare multi-line text and show both in full when they differ. */
static bool same_text(const char *got, const char *want)
{
	if (!strcmp(got, want))
		return true;
	print_error("--- expected ---\n%s--- got ---\n%s--- end ---\n", want,
		    got);
	return false;
}

/* A config that must parse without a word on the error stream. */
static struct ntfw_conf *parse_ok(const char *text)
{
	struct ntfw_conf *c;
	char *err;
	int n = parse_text(text, &c, &err);
	bool quiet = same_text(err, "");

	free(err);
	assert_true(quiet);
	assert_int_equal(n, 0);
	assert_non_null(c);
	return c;
}

/* A config that must fail with exactly @want on the error stream. */
static void parse_fails(const char *text, int nerr, const char *want)
{
	struct ntfw_conf *c;
	char *err;
	int n = parse_text(text, &c, &err);
	bool same = same_text(err, want), parsed = c != NULL;

	free(err);
	ntfw_conf_free(c);
	assert_true(same);
	assert_int_equal(n, nerr);
	assert_false(parsed);
}

static const struct ntfw_rule *rule_named(const struct ntfw_conf *c,
					  const char *name)
{
	unsigned int i;

	for (i = 0; i < c->nrules; i++)
		if (!strcmp(c->rules[i].name, name))
			return &c->rules[i];
	fail_msg("no rule named '%s'", name);
	return NULL;
}

/* @pf is exactly @cidr ("10.0.0.0/8", "fd00::/64"; no '/' means a host). */
static void assert_prefix(const struct ntfw_prefix *pf, const char *cidr)
{
	char addr[64], *slash;
	uint8_t want[16] = { 0 };
	int fam, len;

	snprintf(addr, sizeof(addr), "%s", cidr);
	slash = strchr(addr, '/');
	if (slash)
		*slash = '\0';
	fam = strchr(addr, ':') ? 6 : 4;
	assert_int_equal(inet_pton(fam == 4 ? AF_INET : AF_INET6, addr, want), 1);
	len = slash ? atoi(slash + 1) : (fam == 4 ? 32 : 128);
	assert_int_equal(pf->family, fam);
	assert_int_equal(pf->len, len);
	assert_memory_equal(pf->addr, want, 16);
}

static void assert_ports(const struct ntfw_ports *p, unsigned int i,
			 unsigned int lo, unsigned int hi)
{
	assert_true(i < p->n);
	assert_int_equal(p->v[i].lo, lo);
	assert_int_equal(p->v[i].hi, hi);
}

/* The types set in an ICMP bitmap, as "3,8,128"; "" when none. */
static const char *bitmap_str(const uint64_t *map, char *buf, size_t size)
{
	size_t off = 0;
	unsigned int b;

	buf[0] = '\0';
	for (b = 0; b < 256; b++)
		if (map[b / 64] & (1ull << (b % 64)))
			off += (size_t)snprintf(buf + off, size - off, "%s%u",
						off ? "," : "", b);
	return buf;
}

#define assert_icmp(map, want)                                              \
	do {                                                                \
		char b_[1100];                                              \
		assert_string_equal(bitmap_str(map, b_, sizeof(b_)), want); \
	} while (0)

/* ---- the example config ---- */

static const char example_conf[] = EXAMPLE_CONF;

static void example_globals_and_set(void **state)
{
	struct ntfw_conf *c = parse_ok(example_conf);

	assert_int_equal(c->queue_lo, 0);
	assert_int_equal(c->queue_hi, 0);
	assert_int_equal(c->def, NTFW_ACCEPT);
	assert_false(c->fail_open);
	assert_int_equal(c->nsets, 1);
	assert_string_equal(c->sets[0].name, "trusted");
	assert_int_equal(c->sets[0].line, 4);
	assert_int_equal(c->sets[0].n, 2);
	assert_prefix(&c->sets[0].v[0], "10.213.1.0/24");
	assert_prefix(&c->sets[0].v[1], "fd00:213:1::/64");
	ntfw_conf_free(c);
}

static void example_rules(void **state)
{
	static const struct {
		const char *name;
		unsigned int line;
		enum ntfw_verdict verdict;
		uint32_t have;
		uint8_t family, proto;
	} want[] = {
		{ "no-ping", 6, NTFW_DROP, NTFW_M_PROTO | NTFW_M_ICMP, 4,
		  IPPROTO_ICMP },
		{ "telnet", 7, NTFW_DROP, NTFW_M_PROTO | NTFW_M_DPORT, 0,
		  IPPROTO_TCP },
		{ "web", 8, NTFW_ACCEPT, NTFW_M_PROTO | NTFW_M_DPORT, 0,
		  IPPROTO_TCP },
		{ "blocked", 9, NTFW_DROP, NTFW_M_SRC, 4, 0 },
		{ "v6-9000", 10, NTFW_DROP,
		  NTFW_M_PROTO | NTFW_M_DST | NTFW_M_DPORT, 6, IPPROTO_TCP },
		{ "lan", 11, NTFW_ACCEPT, NTFW_M_SRC, 0, 0 },
	};
	struct ntfw_conf *c = parse_ok(example_conf);
	unsigned int i;

	assert_int_equal(c->nrules, ARRAY_SIZE(want));
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		const struct ntfw_rule *r = &c->rules[i];

		assert_string_equal(r->name, want[i].name);
		assert_int_equal(r->line, want[i].line);
		assert_int_equal(r->verdict, want[i].verdict);
		assert_int_equal(r->have, want[i].have);
		assert_int_equal(r->family, want[i].family);
		if (want[i].have & NTFW_M_PROTO)
			assert_int_equal(r->proto, want[i].proto);
	}
	ntfw_conf_free(c);
}

static void example_rule_values(void **state)
{
	struct ntfw_conf *c = parse_ok(example_conf);
	const struct ntfw_rule *r;

	/* echo-request is type 8 in ICMP; the rule is IPv4 only. */
	r = rule_named(c, "no-ping");
	assert_icmp(r->icmp4, "8");
	assert_icmp(r->icmp6, "");

	r = rule_named(c, "telnet");
	assert_int_equal(r->dport.n, 1);
	assert_ports(&r->dport, 0, 23, 23);
	assert_int_equal(r->sport.n, 0);

	r = rule_named(c, "web");
	assert_int_equal(r->dport.n, 3);
	assert_ports(&r->dport, 0, 80, 80);
	assert_ports(&r->dport, 1, 443, 443);
	assert_ports(&r->dport, 2, 8000, 8099);

	r = rule_named(c, "blocked");
	assert_int_equal(r->src.n, 1);
	assert_prefix(&r->src.v[0], "10.213.7.0/24");

	r = rule_named(c, "v6-9000");
	assert_int_equal(r->dst.n, 1);
	assert_prefix(&r->dst.v[0], "fd00:213::/48");
	assert_int_equal(r->dport.n, 1);
	assert_ports(&r->dport, 0, 9000, 9000);

	/* The set is shared, not copied, and both families stay. */
	r = rule_named(c, "lan");
	assert_int_equal(r->src.n, 2);
	assert_ptr_equal(r->src.v, c->sets[0].v);
	assert_false(r->src.owned);
	ntfw_conf_free(c);
}

/* ---- good configs ---- */

static void empty_file_defaults(void **state)
{
	static const char *const texts[] = { "", "\n\n", "# nothing\n",
					     "   \t  \n" };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(texts); i++) {
		struct ntfw_conf *c = parse_ok(texts[i]);

		assert_int_equal(c->queue_lo, 0);
		assert_int_equal(c->queue_hi, 0);
		assert_int_equal(c->def, NTFW_ACCEPT);
		assert_false(c->fail_open);
		assert_false(c->gso);
		assert_int_equal(c->nrules, 0);
		assert_int_equal(c->nsets, 0);
		ntfw_conf_free(c);
	}
}

static void globals_set(void **state)
{
	struct ntfw_conf *c = parse_ok("fail-open yes\ndefault drop\nqueue 7\n");

	assert_int_equal(c->queue_lo, 7);
	assert_int_equal(c->queue_hi, 7);
	assert_int_equal(c->def, NTFW_DROP);
	assert_true(c->fail_open);
	ntfw_conf_free(c);
}

static void gso(void **state)
{
	struct ntfw_conf *c = parse_ok("gso yes\n");

	assert_true(c->gso);
	ntfw_conf_free(c);
	c = parse_ok("gso no # every segment seen\n");
	assert_false(c->gso);
	ntfw_conf_free(c);
}

static void queue_range(void **state)
{
	struct ntfw_conf *c = parse_ok("queue 2-5\n");

	assert_int_equal(c->queue_lo, 2);
	assert_int_equal(c->queue_hi, 5);
	ntfw_conf_free(c);

	/* 64 queues is the most, and 65535 the highest number. */
	c = parse_ok("queue 65472-65535\n");
	assert_int_equal(c->queue_lo, 65472);
	assert_int_equal(c->queue_hi, 65535);
	ntfw_conf_free(c);
}

static void unnamed_rules(void **state)
{
	struct ntfw_conf *c = parse_ok("\naccept\n# x\ndrop proto udp\n");

	assert_int_equal(c->nrules, 2);
	assert_string_equal(c->rules[0].name, "line-2");
	assert_int_equal(c->rules[0].line, 2);
	assert_int_equal(c->rules[0].verdict, NTFW_ACCEPT);
	assert_int_equal(c->rules[0].have, 0);
	assert_string_equal(c->rules[1].name, "line-4");
	assert_int_equal(c->rules[1].verdict, NTFW_DROP);
	ntfw_conf_free(c);
}

static void comments_and_blanks(void **state)
{
	struct ntfw_conf *c = parse_ok("# head\n"
				       "\n"
				       "   # indented comment\n"
				       "queue 3 # trailing comment\n"
				       "\t\n"
				       "drop name a dport 22#no space needed\n"
				       "accept name b dport { 1, # inside\n"
				       "  2 }\n"
				       "# tail without newline");

	assert_int_equal(c->queue_lo, 3);
	assert_int_equal(c->nrules, 2);
	assert_int_equal(rule_named(c, "a")->line, 6);
	assert_int_equal(rule_named(c, "a")->dport.n, 1);
	assert_ports(&rule_named(c, "a")->dport, 0, 22, 22);
	assert_int_equal(rule_named(c, "b")->dport.n, 2);
	ntfw_conf_free(c);
}

static void lists(void **state)
{
	struct ntfw_conf *c = parse_ok("drop name a dport { 80, 443 }\n"
				       "drop name b dport 80 , 443\n"
				       "drop name c dport {80,443}\n"
				       "drop name d dport 0,65535,1-65535\n"
				       "drop name e dport {\n"
				       "    80,\n"
				       "    443\n"
				       "}\n"
				       "drop name f\n");
	static const char *const names[] = { "a", "b", "c", "e" };
	const struct ntfw_rule *r;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		r = rule_named(c, names[i]);
		assert_int_equal(r->dport.n, 2);
		assert_ports(&r->dport, 0, 80, 80);
		assert_ports(&r->dport, 1, 443, 443);
	}
	r = rule_named(c, "d");
	assert_int_equal(r->dport.n, 3);
	assert_ports(&r->dport, 0, 0, 0);
	assert_ports(&r->dport, 1, 65535, 65535);
	assert_ports(&r->dport, 2, 1, 65535);
	/* The rule after a multi-line list is counted at its own line. */
	assert_int_equal(rule_named(c, "f")->line, 9);
	ntfw_conf_free(c);
}

static void set_spanning_lines(void **state)
{
	struct ntfw_conf *c = parse_ok("set admins { 10.213.1.10, 10.213.1.11,\n"
				       "             fd00:213:1::10 }\n"
				       "accept src @admins\n");

	assert_int_equal(c->nsets, 1);
	assert_int_equal(c->sets[0].n, 3);
	assert_prefix(&c->sets[0].v[0], "10.213.1.10");
	assert_prefix(&c->sets[0].v[1], "10.213.1.11");
	assert_prefix(&c->sets[0].v[2], "fd00:213:1::10");
	assert_string_equal(c->rules[0].name, "line-3");
	/* A mixed set does not narrow the rule to one family. */
	assert_int_equal(c->rules[0].family, 0);
	ntfw_conf_free(c);
}

static void empty_set(void **state)
{
	struct ntfw_conf *c = parse_ok("set none { }\nset none2 {}\n"
				       "drop src @none\n");

	assert_int_equal(c->nsets, 2);
	assert_int_equal(c->sets[0].n, 0);
	assert_int_equal(c->sets[1].n, 0);
	assert_int_equal(c->rules[0].src.n, 0);
	ntfw_conf_free(c);
}

static void one_family_set_narrows_rule(void **state)
{
	struct ntfw_conf *c = parse_ok("set v4 { 10.0.0.0/8, 192.168.0.0/16 }\n"
				       "set v6 { fd00::/8 }\n"
				       "drop name a src @v4\n"
				       "drop name b dst @v6\n");

	assert_int_equal(rule_named(c, "a")->family, 4);
	assert_int_equal(rule_named(c, "b")->family, 6);
	ntfw_conf_free(c);
}

static void host_bits_masked(void **state)
{
	struct ntfw_conf *c = parse_ok("drop src 10.1.2.3/24, 10.1.2.255/23, "
				       "10.1.2.3/0, 10.1.2.3\n"
				       "drop dst fd00:1:2:3::1/64, fd00::ff/121, "
				       "::1/128\n");
	const struct ntfw_rule *r = &c->rules[0];

	assert_int_equal(r->src.n, 4);
	assert_prefix(&r->src.v[0], "10.1.2.0/24");
	assert_prefix(&r->src.v[1], "10.1.2.0/23");
	assert_prefix(&r->src.v[2], "0.0.0.0/0");
	assert_prefix(&r->src.v[3], "10.1.2.3/32");
	assert_int_equal(r->family, 4);
	r = &c->rules[1];
	assert_prefix(&r->dst.v[0], "fd00:1:2:3::/64");
	assert_prefix(&r->dst.v[1], "fd00::80/121");
	assert_prefix(&r->dst.v[2], "::1/128");
	assert_int_equal(r->family, 6);
	ntfw_conf_free(c);
}

static void tcp_flags(void **state)
{
	struct ntfw_conf *c = parse_ok("drop name a tcp-flags syn !ack\n"
				       "drop name b proto tcp tcp-flags fin syn rst "
				       "psh ack urg ece cwr\n"
				       "drop name c tcp-flags !fin !syn !rst !psh "
				       "!ack !urg !ece !cwr dport 1\n");
	const struct ntfw_rule *r = rule_named(c, "a");

	/* tcp-flags implies proto tcp. */
	assert_true(r->have & NTFW_M_PROTO);
	assert_int_equal(r->proto, IPPROTO_TCP);
	assert_int_equal(r->tcp_set, NTFW_TCP_SYN);
	assert_int_equal(r->tcp_clear, NTFW_TCP_ACK);
	assert_int_equal(r->family, 0);
	r = rule_named(c, "b");
	assert_int_equal(r->tcp_set, 0xff);
	assert_int_equal(r->tcp_clear, 0);
	r = rule_named(c, "c");
	assert_int_equal(r->tcp_set, 0);
	assert_int_equal(r->tcp_clear, 0xff);
	/* The flags end at the next keyword. */
	assert_int_equal(r->dport.n, 1);
	ntfw_conf_free(c);
}

static void hooks(void **state)
{
	struct ntfw_conf *c = parse_ok("accept name a hook input,output\n"
				       "accept name b hook forward\n");

	assert_int_equal(rule_named(c, "a")->hooks, (1u << 1) | (1u << 3));
	assert_int_equal(rule_named(c, "b")->hooks, 1u << 2);
	assert_true(rule_named(c, "a")->have & NTFW_M_HOOK);
	ntfw_conf_free(c);
}

static void protocols(void **state)
{
	static const struct {
		const char *word;
		uint8_t proto, family;
	} want[] = {
		{ "tcp", 6, 0 },     { "udp", 17, 0 },	 { "icmp", 1, 4 },
		{ "icmpv6", 58, 6 }, { "gre", 47, 0 },	 { "esp", 50, 0 },
		{ "ah", 51, 0 },     { "sctp", 132, 0 }, { "0", 0, 0 },
		{ "255", 255, 0 },   { "47", 47, 0 },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(want); i++) {
		char text[64];
		struct ntfw_conf *c;

		snprintf(text, sizeof(text), "drop proto %s\n", want[i].word);
		c = parse_ok(text);
		assert_int_equal(c->rules[0].proto, want[i].proto);
		assert_int_equal(c->rules[0].family, want[i].family);
		ntfw_conf_free(c);
	}
}

static void families(void **state)
{
	struct ntfw_conf *c = parse_ok("drop name a family ip\n"
				       "drop name b family ip6\n"
				       "drop name c family ip src 10.0.0.1\n"
				       "drop name d proto icmpv6 family ip6 "
				       "dst fd00::1\n");

	assert_int_equal(rule_named(c, "a")->family, 4);
	assert_true(rule_named(c, "a")->have & NTFW_M_FAMILY);
	assert_int_equal(rule_named(c, "b")->family, 6);
	assert_int_equal(rule_named(c, "c")->family, 4);
	assert_int_equal(rule_named(c, "d")->family, 6);
	ntfw_conf_free(c);
}

static void icmp_types(void **state)
{
	struct ntfw_conf *c = parse_ok(
		"drop name both icmp-type echo-request\n"
		"drop name v6 proto icmpv6 icmp-type echo-request, 133\n"
		"drop name num icmp-type 0,255\n"
		"drop name mixed icmp-type redirect, packet-too-big\n"
		"drop name by-addr icmp-type time-exceeded src 10.0.0.0/8\n");
	const struct ntfw_rule *r;

	/* Without a protocol a name matches in each protocol that has it. */
	r = rule_named(c, "both");
	assert_icmp(r->icmp4, "8");
	assert_icmp(r->icmp6, "128");
	assert_false(r->have & NTFW_M_PROTO);
	r = rule_named(c, "v6");
	assert_icmp(r->icmp4, "");
	assert_icmp(r->icmp6, "128,133");
	r = rule_named(c, "num");
	assert_icmp(r->icmp4, "0,255");
	assert_icmp(r->icmp6, "0,255");
	r = rule_named(c, "mixed");
	assert_icmp(r->icmp4, "5");
	assert_icmp(r->icmp6, "2");
	/* An IPv4 address makes the rule IPv4 only, its types too. */
	r = rule_named(c, "by-addr");
	assert_icmp(r->icmp4, "11");
	assert_icmp(r->icmp6, "");
	ntfw_conf_free(c);
}

static void interfaces(void **state)
{
	struct ntfw_conf *c = parse_ok("accept iif lo oif abcdefghijklmno\n");

	assert_string_equal(c->rules[0].iif, "lo");
	assert_string_equal(c->rules[0].oif, "abcdefghijklmno");
	assert_int_equal(c->rules[0].have, NTFW_M_IIF | NTFW_M_OIF);
	ntfw_conf_free(c);
}

static void names_at_the_limit(void **state)
{
	struct ntfw_conf *c = parse_ok(
		"set Set_0.9-x { }\n"
		"accept name abcdefghijklmnopqrstuvwxyz01234\n"
		"accept name A_b-C.9\n");

	assert_string_equal(c->sets[0].name, "Set_0.9-x");
	assert_string_equal(c->rules[0].name, "abcdefghijklmnopqrstuvwxyz01234");
	assert_string_equal(c->rules[1].name, "A_b-C.9");
	ntfw_conf_free(c);
}

static void crlf_line_ends(void **state)
{
	struct ntfw_conf *c = parse_ok("queue 4\r\ndrop name a dport 1\r\n");

	assert_int_equal(c->queue_lo, 4);
	assert_string_equal(c->rules[0].name, "a");
	ntfw_conf_free(c);
}

/* ---- every error message, in full ---- */

struct err_case {
	const char *name;
	const char *text;
	const char *want;
};

static const struct err_case err_cases[] = {
	/* Keywords. */
	{ "unknown statement keyword",
	  "frobnicate 1\n",
	  "test.conf:1:1: error: unknown keyword 'frobnicate'\n"
	  "frobnicate 1\n"
	  "^~~~~~~~~~\n" },
	{ "unknown match keyword",
	  "drop port 22\n",
	  "test.conf:1:6: error: unknown keyword 'port'\n"
	  "drop port 22\n"
	  "     ^~~~\n" },
	{ "keywords are case sensitive",
	  "Drop\n",
	  "test.conf:1:1: error: unknown keyword 'Drop'\n"
	  "Drop\n"
	  "^~~~\n" },

	/* Missing values. */
	{ "missing value after a list keyword",
	  "drop dport\n",
	  "test.conf:1:6: error: missing value after 'dport'\n"
	  "drop dport\n"
	  "     ^~~~~\n" },
	{ "missing value after src",
	  "drop src # the address\n",
	  "test.conf:1:6: error: missing value after 'src'\n"
	  "drop src # the address\n"
	  "     ^~~\n" },
	{ "missing value after name",
	  "accept name\n",
	  "test.conf:1:8: error: missing value after 'name'\n"
	  "accept name\n"
	  "       ^~~~\n" },
	{ "missing value after family",
	  "drop family\n",
	  "test.conf:1:6: error: missing value after 'family'\n"
	  "drop family\n"
	  "     ^~~~~~\n" },
	{ "missing value after proto",
	  "drop proto\n",
	  "test.conf:1:6: error: missing value after 'proto'\n"
	  "drop proto\n"
	  "     ^~~~~\n" },
	{ "missing value after iif",
	  "drop iif\n",
	  "test.conf:1:6: error: missing value after 'iif'\n"
	  "drop iif\n"
	  "     ^~~\n" },
	{ "missing value after oif at end of file",
	  "drop oif",
	  "test.conf:1:6: error: missing value after 'oif'\n"
	  "drop oif\n"
	  "     ^~~\n" },
	{ "missing value after icmp-type",
	  "drop icmp-type\n",
	  "test.conf:1:6: error: missing value after 'icmp-type'\n"
	  "drop icmp-type\n"
	  "     ^~~~~~~~~\n" },
	{ "missing value after hook",
	  "drop hook\n",
	  "test.conf:1:6: error: missing value after 'hook'\n"
	  "drop hook\n"
	  "     ^~~~\n" },
	{ "missing tcp flag",
	  "drop tcp-flags\n",
	  "test.conf:1:6: error: missing value after 'tcp-flags'\n"
	  "drop tcp-flags\n"
	  "     ^~~~~~~~~\n" },
	{ "missing value after queue",
	  "queue\n",
	  "test.conf:1:1: error: missing value after 'queue'\n"
	  "queue\n"
	  "^~~~~\n" },
	{ "missing value after default",
	  "default\n",
	  "test.conf:1:1: error: missing value after 'default'\n"
	  "default\n"
	  "^~~~~~~\n" },
	{ "missing value after fail-open",
	  "fail-open  # yes or no\n",
	  "test.conf:1:1: error: missing value after 'fail-open'\n"
	  "fail-open  # yes or no\n"
	  "^~~~~~~~~\n" },
	{ "missing value after gso",
	  "gso\n",
	  "test.conf:1:1: error: missing value after 'gso'\n"
	  "gso\n"
	  "^~~\n" },
	{ "missing value after set",
	  "set\n",
	  "test.conf:1:1: error: missing value after 'set'\n"
	  "set\n"
	  "^~~\n" },
	{ "missing value after a comma at the end of the line",
	  "drop dport 80,\n",
	  "test.conf:1:15: error: missing value after ','\n"
	  "drop dport 80,\n"
	  "              ^\n" },
	{ "missing value between two commas",
	  "drop dport 80,,443\n",
	  "test.conf:1:15: error: missing value after ','\n"
	  "drop dport 80,,443\n"
	  "              ^\n" },
	{ "missing value after a comma in braces",
	  "drop dport { 80, }\n",
	  "test.conf:1:18: error: missing value after ','\n"
	  "drop dport { 80, }\n"
	  "                 ^\n" },
	{ "missing value after '{'",
	  "drop dport { , 80 }\n",
	  "test.conf:1:14: error: missing value after '{'\n"
	  "drop dport { , 80 }\n"
	  "             ^\n" },

	/* Ports. */
	{ "port out of range",
	  "drop dport 70000\n",
	  "test.conf:1:12: error: port 70000 out of range (0-65535)\n"
	  "drop dport 70000\n"
	  "           ^~~~~\n" },
	{ "port range end out of range",
	  "drop sport 1-65536\n",
	  "test.conf:1:12: error: port 65536 out of range (0-65535)\n"
	  "drop sport 1-65536\n"
	  "           ^~~~~~~\n" },
	{ "port out of range in a list",
	  "drop dport 80,99999\n",
	  "test.conf:1:15: error: port 99999 out of range (0-65535)\n"
	  "drop dport 80,99999\n"
	  "              ^~~~~\n" },
	{ "bad port",
	  "drop dport http\n",
	  "test.conf:1:12: error: bad port 'http'\n"
	  "drop dport http\n"
	  "           ^~~~\n" },
	{ "bad port: trailing garbage",
	  "drop dport 80x\n",
	  "test.conf:1:12: error: bad port '80x'\n"
	  "drop dport 80x\n"
	  "           ^~~\n" },
	{ "bad port: open range",
	  "drop dport 1024-\n",
	  "test.conf:1:12: error: bad port '1024-'\n"
	  "drop dport 1024-\n"
	  "           ^~~~~\n" },
	{ "bad port: negative",
	  "drop dport -1\n",
	  "test.conf:1:12: error: bad port '-1'\n"
	  "drop dport -1\n"
	  "           ^~\n" },
	{ "bad port: two dashes",
	  "drop dport 1-2-3\n",
	  "test.conf:1:12: error: bad port '1-2-3'\n"
	  "drop dport 1-2-3\n"
	  "           ^~~~~\n" },
	{ "bad port range",
	  "drop dport 90-80\n",
	  "test.conf:1:12: error: bad port range '90-80' (start above end)\n"
	  "drop dport 90-80\n"
	  "           ^~~~~\n" },

	/* Addresses and sets. */
	{ "bad address",
	  "drop src 10.0.0.256\n",
	  "test.conf:1:10: error: bad address '10.0.0.256'\n"
	  "drop src 10.0.0.256\n"
	  "         ^~~~~~~~~~\n" },
	{ "bad address: a host name",
	  "drop dst example.org\n",
	  "test.conf:1:10: error: bad address 'example.org'\n"
	  "drop dst example.org\n"
	  "         ^~~~~~~~~~~\n" },
	{ "bad address: too long to be one",
	  "drop src 1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc/64\n",
	  "test.conf:1:10: error: bad address "
	  "'1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc/64'\n"
	  "drop src 1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc/64\n"
	  "         ^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n" },
	{ "bad address in a set",
	  "set s { 10.0.0.1, 10.0.0 }\n",
	  "test.conf:1:19: error: bad address '10.0.0'\n"
	  "set s { 10.0.0.1, 10.0.0 }\n"
	  "                  ^~~~~~\n" },
	{ "bad prefix length for IPv4",
	  "drop src 10.0.0.0/33\n",
	  "test.conf:1:10: error: bad prefix length '/33' for an IPv4 address\n"
	  "drop src 10.0.0.0/33\n"
	  "         ^~~~~~~~~~~\n" },
	{ "bad prefix length for IPv6",
	  "drop dst fd00::/129\n",
	  "test.conf:1:10: error: bad prefix length '/129' for an IPv6 address\n"
	  "drop dst fd00::/129\n"
	  "         ^~~~~~~~~~\n" },
	{ "empty prefix length",
	  "drop src 10.0.0.0/\n",
	  "test.conf:1:10: error: bad prefix length '/' for an IPv4 address\n"
	  "drop src 10.0.0.0/\n"
	  "         ^~~~~~~~~\n" },
	{ "prefix length not a number",
	  "drop src ::/x\n",
	  "test.conf:1:10: error: bad prefix length '/x' for an IPv6 address\n"
	  "drop src ::/x\n"
	  "         ^~~~\n" },
	{ "unknown set",
	  "accept src @nowhere\n",
	  "test.conf:1:12: error: unknown set 'nowhere'\n"
	  "accept src @nowhere\n"
	  "           ^~~~~~~~\n" },
	{ "set used before its definition",
	  "accept src @later\n"
	  "set later { 10.0.0.1 }\n",
	  "test.conf:1:12: error: set 'later' is used before its definition at line 2\n"
	  "accept src @later\n"
	  "           ^~~~~~\n" },
	{ "a set after a value in a list",
	  "set a { 10.0.0.1 }\n"
	  "drop src 10.0.0.2, @a\n",
	  "test.conf:2:20: error: a set cannot be part of a list\n"
	  "drop src 10.0.0.2, @a\n"
	  "                   ^~\n" },
	{ "a set before a value in a list",
	  "set a { 10.0.0.1 }\n"
	  "drop dst @a,10.0.0.2\n",
	  "test.conf:2:10: error: a set cannot be part of a list\n"
	  "drop dst @a,10.0.0.2\n"
	  "         ^~\n" },
	{ "a set in braces",
	  "set a { 10.0.0.1 }\n"
	  "drop src { @a }\n",
	  "test.conf:2:12: error: a set cannot be part of a list\n"
	  "drop src { @a }\n"
	  "           ^~\n" },
	{ "an empty port list",
	  "drop dport { }\n",
	  "test.conf:1:12: error: empty list after 'dport'\n"
	  "drop dport { }\n"
	  "           ^\n" },
	{ "an empty hook list",
	  "accept hook {}\n",
	  "test.conf:1:13: error: empty list after 'hook'\n"
	  "accept hook {}\n"
	  "            ^\n" },
	{ "a set inside a set",
	  "set a { 10.0.0.1 }\n"
	  "set b { @a }\n",
	  "test.conf:2:9: error: bad address '@a'\n"
	  "set b { @a }\n"
	  "        ^~\n" },

	/* Duplicates. */
	{ "duplicate rule name",
	  "accept name web\n"
	  "drop name web\n",
	  "test.conf:2:11: error: duplicate rule name 'web' (first at line 1)\n"
	  "drop name web\n"
	  "          ^~~\n" },
	{ "duplicate rule name of an unnamed rule",
	  "accept name line-2\n"
	  "accept\n",
	  "test.conf:2:1: error: duplicate rule name 'line-2' (first at line 1)\n"
	  "accept\n"
	  "^~~~~~\n" },
	{ "duplicate set name",
	  "set a { 10.0.0.1 }\n"
	  "set a { 10.0.0.2 }\n",
	  "test.conf:2:5: error: duplicate set name 'a' (first at line 1)\n"
	  "set a { 10.0.0.2 }\n"
	  "    ^\n" },
	{ "duplicate queue statement",
	  "queue 1\n"
	  "\n"
	  "queue 2\n",
	  "test.conf:3:1: error: duplicate 'queue' statement (first at line 1)\n"
	  "queue 2\n"
	  "^~~~~\n" },
	{ "duplicate default statement",
	  "default drop\n"
	  "default drop\n",
	  "test.conf:2:1: error: duplicate 'default' statement (first at line 1)\n"
	  "default drop\n"
	  "^~~~~~~\n" },
	{ "duplicate fail-open statement",
	  "fail-open yes\n"
	  "fail-open no\n",
	  "test.conf:2:1: error: duplicate 'fail-open' statement (first at line 1)\n"
	  "fail-open no\n"
	  "^~~~~~~~~\n" },
	{ "duplicate gso statement",
	  "gso yes\n"
	  "queue 1\n"
	  "gso no\n",
	  "test.conf:3:1: error: duplicate 'gso' statement (first at line 1)\n"
	  "gso no\n"
	  "^~~\n" },
	{ "duplicate match in a rule",
	  "drop dport 1 dport 2\n",
	  "test.conf:1:14: error: duplicate 'dport' in rule\n"
	  "drop dport 1 dport 2\n"
	  "             ^~~~~\n" },
	{ "duplicate name in a rule",
	  "drop name a name b\n",
	  "test.conf:1:13: error: duplicate 'name' in rule\n"
	  "drop name a name b\n"
	  "            ^~~~\n" },

	/* Global statements. */
	{ "expected accept or drop",
	  "default reject\n",
	  "test.conf:1:9: error: expected 'accept' or 'drop' after 'default', got 'reject'\n"
	  "default reject\n"
	  "        ^~~~~~\n" },
	{ "expected yes or no",
	  "fail-open true\n",
	  "test.conf:1:11: error: expected 'no' or 'yes' after 'fail-open', got 'true'\n"
	  "fail-open true\n"
	  "          ^~~~\n" },
	{ "expected yes or no after gso",
	  "gso on\n",
	  "test.conf:1:5: error: expected 'no' or 'yes' after 'gso', got 'on'\n"
	  "gso on\n"
	  "    ^~\n" },
	{ "gso takes one word",
	  "gso yes please\n",
	  "test.conf:1:9: error: unexpected 'please'\n"
	  "gso yes please\n"
	  "        ^~~~~~\n" },
	{ "bad queue",
	  "queue one\n",
	  "test.conf:1:7: error: bad queue 'one'\n"
	  "queue one\n"
	  "      ^~~\n" },
	{ "queue out of range",
	  "queue 65536\n",
	  "test.conf:1:7: error: queue 65536 out of range (0-65535)\n"
	  "queue 65536\n"
	  "      ^~~~~\n" },
	{ "bad queue range",
	  "queue 5-3\n",
	  "test.conf:1:7: error: bad queue range '5-3' (start above end)\n"
	  "queue 5-3\n"
	  "      ^~~\n" },
	{ "too many queues",
	  "queue 0-64\n",
	  "test.conf:1:7: error: too many queues in '0-64' (at most 64)\n"
	  "queue 0-64\n"
	  "      ^~~~\n" },

	/* Protocols and families. */
	{ "unknown protocol",
	  "drop name telnet proto tpc dport 23\n",
	  "test.conf:1:24: error: unknown protocol 'tpc'\n"
	  "drop name telnet proto tpc dport 23\n"
	  "                       ^~~\n" },
	{ "protocol out of range",
	  "drop proto 256\n",
	  "test.conf:1:12: error: protocol 256 out of range (0-255)\n"
	  "drop proto 256\n"
	  "           ^~~\n" },
	{ "unknown family",
	  "drop family inet\n",
	  "test.conf:1:13: error: unknown family 'inet' (ip or ip6)\n"
	  "drop family inet\n"
	  "            ^~~~\n" },
	{ "family ip with an IPv6 address",
	  "drop family ip src fd00::1\n",
	  "test.conf:1:16: error: IPv6 address in a rule that is IPv4 only (from 'family ip')\n"
	  "drop family ip src fd00::1\n"
	  "               ^~~\n" },
	{ "proto icmpv6 with an IPv4 address",
	  "drop proto icmpv6 src 10.0.0.1\n",
	  "test.conf:1:19: error: IPv4 address in a rule that is IPv6 only (from 'proto icmpv6')\n"
	  "drop proto icmpv6 src 10.0.0.1\n"
	  "                  ^~~\n" },
	{ "proto icmp with family ip6",
	  "drop proto icmp family ip6\n",
	  "test.conf:1:24: error: family ip6 in a rule that is IPv4 only (from 'proto icmp')\n"
	  "drop proto icmp family ip6\n"
	  "                       ^~~\n" },
	{ "family ip6 with proto icmp",
	  "drop family ip6 proto icmp\n",
	  "test.conf:1:23: error: proto icmp in a rule that is IPv6 only (from 'family ip6')\n"
	  "drop family ip6 proto icmp\n"
	  "                      ^~~~\n" },
	{ "IPv4 source, IPv6 destination",
	  "drop src 10.0.0.1 dst fd00::1\n",
	  "test.conf:1:19: error: IPv6 address in a rule that is IPv4 only (from 'src')\n"
	  "drop src 10.0.0.1 dst fd00::1\n"
	  "                  ^~~\n" },
	{ "IPv6 set with an IPv4 destination",
	  "set v6 { fd00::/8 }\n"
	  "drop src @v6 dst 10.0.0.1\n",
	  "test.conf:2:14: error: IPv4 address in a rule that is IPv6 only (from 'src')\n"
	  "drop src @v6 dst 10.0.0.1\n"
	  "             ^~~\n" },
	{ "dport with proto icmp",
	  "drop proto icmp dport 80\n",
	  "test.conf:1:17: error: dport needs proto tcp or udp, not 'icmp'\n"
	  "drop proto icmp dport 80\n"
	  "                ^~~~~\n" },
	{ "sport with proto gre, proto last",
	  "drop sport 1 proto gre\n",
	  "test.conf:1:6: error: sport needs proto tcp or udp, not 'gre'\n"
	  "drop sport 1 proto gre\n"
	  "     ^~~~~\n" },
	{ "tcp-flags with proto udp",
	  "drop proto udp tcp-flags syn\n",
	  "test.conf:1:16: error: tcp-flags needs proto tcp, not 'udp'\n"
	  "drop proto udp tcp-flags syn\n"
	  "               ^~~~~~~~~\n" },
	{ "icmp-type with proto tcp",
	  "drop proto tcp icmp-type 8\n",
	  "test.conf:1:16: error: icmp-type needs proto icmp or icmpv6, not 'tcp'\n"
	  "drop proto tcp icmp-type 8\n"
	  "               ^~~~~~~~~\n" },
	/* tcp-flags implies proto tcp: with icmp-type no packet can match. */
	{ "icmp-type with tcp-flags",
	  "drop tcp-flags syn icmp-type echo-request\n",
	  "test.conf:1:20: error: icmp-type needs proto icmp or icmpv6, not 'tcp' (from 'tcp-flags')\n"
	  "drop tcp-flags syn icmp-type echo-request\n"
	  "                   ^~~~~~~~~\n" },

	/* ICMP types. */
	{ "unknown icmp type",
	  "drop icmp-type ping\n",
	  "test.conf:1:16: error: unknown icmp type 'ping'\n"
	  "drop icmp-type ping\n"
	  "               ^~~~\n" },
	{ "icmp type out of range",
	  "drop icmp-type 8,256\n",
	  "test.conf:1:18: error: icmp type 256 out of range (0-255)\n"
	  "drop icmp-type 8,256\n"
	  "                 ^~~\n" },
	{ "an ICMPv6 name in an ICMP rule",
	  "drop proto icmp icmp-type echo-request, packet-too-big\n",
	  "test.conf:1:41: error: 'packet-too-big' is not an icmp type\n"
	  "drop proto icmp icmp-type echo-request, packet-too-big\n"
	  "                                        ^~~~~~~~~~~~~~\n" },
	{ "an ICMP name in an ICMPv6 rule",
	  "drop family ip6 icmp-type redirect\n",
	  "test.conf:1:27: error: 'redirect' is not an icmpv6 type\n"
	  "drop family ip6 icmp-type redirect\n"
	  "                          ^~~~~~~~\n" },
	{ "an ICMP name, the rule made IPv6 only later by an address",
	  "drop icmp-type source-quench dst fd00::1\n",
	  "test.conf:1:16: error: 'source-quench' is not an icmpv6 type\n"
	  "drop icmp-type source-quench dst fd00::1\n"
	  "               ^~~~~~~~~~~~~\n" },

	/* TCP flags. */
	{ "unknown tcp flag",
	  "drop tcp-flags sin\n",
	  "test.conf:1:16: error: unknown tcp flag 'sin'\n"
	  "drop tcp-flags sin\n"
	  "               ^~~\n" },
	{ "unknown negated tcp flag",
	  "drop tcp-flags syn !akc\n",
	  "test.conf:1:20: error: unknown tcp flag 'akc'\n"
	  "drop tcp-flags syn !akc\n"
	  "                   ^~~~\n" },
	{ "tcp flag given twice",
	  "drop tcp-flags syn ack syn\n",
	  "test.conf:1:24: error: tcp flag 'syn' given twice\n"
	  "drop tcp-flags syn ack syn\n"
	  "                       ^~~\n" },
	{ "tcp flag both set and clear",
	  "drop tcp-flags syn !syn\n",
	  "test.conf:1:20: error: tcp flag 'syn' given twice\n"
	  "drop tcp-flags syn !syn\n"
	  "                   ^~~~\n" },
	{ "a word after the flags that is no keyword",
	  "drop tcp-flags syn fin2\n",
	  "test.conf:1:20: error: unknown keyword 'fin2'\n"
	  "drop tcp-flags syn fin2\n"
	  "                   ^~~~\n" },

	/* Hooks, interfaces and names. */
	{ "unknown hook",
	  "accept hook input,prerouting\n",
	  "test.conf:1:19: error: unknown hook 'prerouting' (input, forward or output)\n"
	  "accept hook input,prerouting\n"
	  "                  ^~~~~~~~~~\n" },
	{ "interface name too long",
	  "accept iif abcdefghijklmnop\n",
	  "test.conf:1:12: error: interface name 'abcdefghijklmnop' too long (at most 15 characters)\n"
	  "accept iif abcdefghijklmnop\n"
	  "           ^~~~~~~~~~~~~~~~\n" },
	{ "output interface name too long",
	  "accept oif a-very-long-interface-name\n",
	  "test.conf:1:12: error: interface name 'a-very-long-interface-name' too long (at most 15 characters)\n"
	  "accept oif a-very-long-interface-name\n"
	  "           ^~~~~~~~~~~~~~~~~~~~~~~~~~\n" },
	{ "rule name too long",
	  "accept name abcdefghijklmnopqrstuvwxyz012345\n",
	  "test.conf:1:13: error: rule name too long (at most 31 characters)\n"
	  "accept name abcdefghijklmnopqrstuvwxyz012345\n"
	  "            ^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n" },
	{ "bad rule name",
	  "accept name no/ping\n",
	  "test.conf:1:13: error: bad rule name 'no/ping' (letters, digits, '-', '_', '.')\n"
	  "accept name no/ping\n"
	  "            ^~~~~~~\n" },
	{ "set name too long",
	  "set abcdefghijklmnopqrstuvwxyz012345 { }\n",
	  "test.conf:1:5: error: set name too long (at most 31 characters)\n"
	  "set abcdefghijklmnopqrstuvwxyz012345 { }\n"
	  "    ^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n" },
	{ "bad set name",
	  "set my:set { }\n",
	  "test.conf:1:5: error: bad set name 'my:set' (letters, digits, '-', '_', '.')\n"
	  "set my:set { }\n"
	  "    ^~~~~~\n" },
	{ "bad set name after '@'",
	  "accept src @a/b\n",
	  "test.conf:1:13: error: bad set name 'a/b' (letters, digits, '-', '_', '.')\n"
	  "accept src @a/b\n"
	  "            ^~~\n" },

	/* Braces and stray tokens. */
	{ "unterminated '{'",
	  "set a { 10.0.0.1,\n"
	  "        10.0.0.2\n",
	  "test.conf:1:7: error: unterminated '{' (opened at line 1)\n"
	  "set a { 10.0.0.1,\n"
	  "      ^\n" },
	{ "unterminated '{' in a rule",
	  "\n"
	  "drop dport { 80",
	  "test.conf:2:12: error: unterminated '{' (opened at line 2)\n"
	  "drop dport { 80\n"
	  "           ^\n" },
	/* At the end of the file, the open brace is what is wrong. */
	{ "unterminated '{' after a comma",
	  "set s { 10.0.0.1,\n",
	  "test.conf:1:7: error: unterminated '{' (opened at line 1)\n"
	  "set s { 10.0.0.1,\n"
	  "      ^\n" },
	{ "unterminated '{' with nothing in it",
	  "drop dport {\n",
	  "test.conf:1:12: error: unterminated '{' (opened at line 1)\n"
	  "drop dport {\n"
	  "           ^\n" },
	{ "expected ',' or '}'",
	  "drop dport { 80 443 }\n",
	  "test.conf:1:17: error: expected ',' or '}', got '443'\n"
	  "drop dport { 80 443 }\n"
	  "                ^~~\n" },
	{ "expected '{' after a set name",
	  "set a 10.0.0.1\n",
	  "test.conf:1:7: error: expected '{' after set name, got '10.0.0.1'\n"
	  "set a 10.0.0.1\n"
	  "      ^~~~~~~~\n" },
	{ "expected '{', got the end of the line",
	  "set a\n",
	  "test.conf:1:6: error: expected '{' after set name, got end of line\n"
	  "set a\n"
	  "     ^\n" },
	{ "expected '{', got the end of the file",
	  "set a",
	  "test.conf:1:6: error: expected '{' after set name, got end of file\n"
	  "set a\n"
	  "     ^\n" },
	{ "unexpected word after a statement",
	  "queue 1 2\n",
	  "test.conf:1:9: error: unexpected '2'\n"
	  "queue 1 2\n"
	  "        ^\n" },
	{ "unexpected word after a set",
	  "set a { } b\n",
	  "test.conf:1:11: error: unexpected 'b'\n"
	  "set a { } b\n"
	  "          ^\n" },
	{ "unexpected ',' in a rule",
	  "drop , dport 1\n",
	  "test.conf:1:6: error: unexpected ','\n"
	  "drop , dport 1\n"
	  "     ^\n" },
	{ "unexpected '}' in a rule",
	  "drop dport 80 }\n",
	  "test.conf:1:15: error: unexpected '}'\n"
	  "drop dport 80 }\n"
	  "              ^\n" },
	{ "unexpected '}' at the start of a line",
	  "}\n",
	  "test.conf:1:1: error: unexpected '}'\n"
	  "}\n"
	  "^\n" },
	{ "unexpected ',' at the start of a line",
	  "  , queue 1\n",
	  "test.conf:1:3: error: unexpected ','\n"
	  "  , queue 1\n"
	  "  ^\n" },

	/* The caret line keeps tabs so that the caret lands under the token. */
	{ "tab before the token",
	  "drop\tdport 70000\n",
	  "test.conf:1:12: error: port 70000 out of range (0-65535)\n"
	  "drop\tdport 70000\n"
	  "    \t      ^~~~~\n" },
	{ "leading tabs",
	  "\t\tdrop proto tcp dport\t\t70000\n",
	  "test.conf:1:25: error: port 70000 out of range (0-65535)\n"
	  "\t\tdrop proto tcp dport\t\t70000\n"
	  "\t\t                    \t\t^~~~~\n" },
	{ "the error on a later line, in the middle of the file",
	  "queue 0\n"
	  "default drop\n"
	  "accept name a dport 1\n"
	  "accept name b dport 1-0\n"
	  "accept name c dport 2\n",
	  "test.conf:4:21: error: bad port range '1-0' (start above end)\n"
	  "accept name b dport 1-0\n"
	  "                    ^~~\n" },
	/* The fast-path feed, and the older kmod statement beside it. */
	{ "fastpath-feed value",
	  "fastpath-feed ebpf\n",
	  "test.conf:1:15: error: expected 'auto', 'kmod', 'bpf' or 'off' after 'fastpath-feed', got 'ebpf'\n"
	  "fastpath-feed ebpf\n"
	  "              ^~~~\n" },
	{ "fastpath-feed twice",
	  "fastpath-feed bpf\nfastpath-feed off\n",
	  "test.conf:2:1: error: duplicate 'fastpath-feed' statement (first at line 1)\n"
	  "fastpath-feed off\n"
	  "^~~~~~~~~~~~~\n" },
	{ "fastpath-feed contradicts kmod on",
	  "kmod on\nfastpath-feed bpf\n",
	  "test.conf:2:15: error: 'fastpath-feed bpf' contradicts 'kmod on' (line 1); kmod on goes with fastpath-feed kmod or auto, kmod off with anything but kmod, kmod auto with auto\n"
	  "fastpath-feed bpf\n"
	  "              ^~~\n" },
	{ "kmod off contradicts fastpath-feed kmod",
	  "fastpath-feed kmod\nkmod off\n",
	  "test.conf:2:6: error: 'kmod off' contradicts 'fastpath-feed kmod' (line 1); kmod on goes with fastpath-feed kmod or auto, kmod off with anything but kmod, kmod auto with auto\n"
	  "kmod off\n"
	  "     ^~~\n" },
	{ "kmod auto contradicts fastpath-feed off",
	  "kmod auto\nfastpath-feed off\n",
	  "test.conf:2:15: error: 'fastpath-feed off' contradicts 'kmod auto' (line 1); kmod on goes with fastpath-feed kmod or auto, kmod off with anything but kmod, kmod auto with auto\n"
	  "fastpath-feed off\n"
	  "              ^~~\n" },
};

static void check_error(void **state)
{
	const struct err_case *ec = *state;

	parse_fails(ec->text, 1, ec->want);
}

/* A NUL ends a value early for the C library ("10.1.2.3\0/8" read as a
 * /32, a path cut short): each one is an error, wherever it is, even in a
 * comment, and the line is shown with a blank in its place. */
static void nul_bytes(void **state)
{
	static const char text[] = "accept src 10.1.2.3\0/8\n"
				   "# a\0\n"
				   "\tevent-log /tmp/x\0y\n";
	struct ntfw_conf *c = NULL;
	char *err = NULL;
	size_t errlen = 0;
	FILE *f = open_memstream(&err, &errlen);
	bool same;
	int n;

	assert_non_null(f);
	n = ntfw_conf_parse("test.conf", text, sizeof(text) - 1, &c, f);
	fclose(f);
	same = same_text(err,
			 "test.conf:1:20: error: NUL byte\n"
			 "accept src 10.1.2.3 /8\n"
			 "                   ^\n"
			 "test.conf:2:4: error: NUL byte\n"
			 "# a \n"
			 "   ^\n"
			 "test.conf:3:18: error: NUL byte\n"
			 "\tevent-log /tmp/x y\n"
			 "\t                ^\n");
	free(err);
	assert_true(same);
	assert_int_equal(n, 3);
	assert_null(c);
}

/* A flow has a bit for each flows-per-src rule: 32 rules at most. */
static void flows_per_src_rules_at_the_limit(void **state)
{
	char text[64 * 34], *p = text;
	struct ntfw_conf *c;
	unsigned int i;

	for (i = 0; i < 32; i++)
		p += sprintf(p, "drop dport %u flows-per-src over 1/second\n", i);
	c = parse_ok(text);
	for (i = 0; i < 32; i++)
		assert_int_equal(c->rules[i].fps_bit, i);
	ntfw_conf_free(c);
	sprintf(p, "accept\ndrop dport 32 flows-per-src over 1/second\n");
	parse_fails(text, 1,
		    "test.conf:34:15: error: too many flows-per-src rules (at most 32)\n"
		    "drop dport 32 flows-per-src over 1/second\n"
		    "              ^~~~~~~~~~~~~\n");
}

/* ---- several errors ---- */

static void errors_in_line_order(void **state)
{
	parse_fails("queue x\n"
		    "accept name ok dport 22\n"
		    "drop dport 80,\n"
		    "drop src 10.0.0.1/40\n"
		    "\n"
		    "default maybe\n",
		    4,
		    "test.conf:1:7: error: bad queue 'x'\n"
		    "queue x\n"
		    "      ^\n"
		    "test.conf:3:15: error: missing value after ','\n"
		    "drop dport 80,\n"
		    "              ^\n"
		    "test.conf:4:10: error: bad prefix length '/40' for an IPv4 address\n"
		    "drop src 10.0.0.1/40\n"
		    "         ^~~~~~~~~~~\n"
		    "test.conf:6:9: error: expected 'accept' or 'drop' after 'default', got 'maybe'\n"
		    "default maybe\n"
		    "        ^~~~~\n");
}

/* Only the first error of a line is reported; the next line is parsed. */
static void one_error_per_line(void **state)
{
	parse_fails("drop dport 70000 sport 70000\n"
		    "drop dport 70001\n",
		    2,
		    "test.conf:1:12: error: port 70000 out of range (0-65535)\n"
		    "drop dport 70000 sport 70000\n"
		    "           ^~~~~\n"
		    "test.conf:2:12: error: port 70001 out of range (0-65535)\n"
		    "drop dport 70001\n"
		    "           ^~~~~\n");
}

/* Errors found on the newline itself must not swallow the next line. */
static void error_at_end_of_line_resumes(void **state)
{
	static const char *const first[] = {
		"drop dport 80,",	/* a value, after ',' */
		"drop tcp-flags",	/* a flag, by peeking */
		"set a",		/* '{', by peeking */
		"default",		/* the value of a statement */
		"drop proto icmp dport 1", /* found once the rule ended */
		"drop dport 1 # comment",  /* fine: no error */
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(first); i++) {
		char text[128], *err;
		const char *found;
		struct ntfw_conf *c;
		int n;

		snprintf(text, sizeof(text), "%s\nqueue 99999\n", first[i]);
		n = parse_text(text, &c, &err);
		found = strstr(err, "test.conf:2:7: error: queue 99999 out of range");
		if (!found)
			print_error("after '%s':\n%s", first[i], err);
		free(err);
		assert_non_null(found);
		assert_null(c);
		assert_int_equal(n, i == ARRAY_SIZE(first) - 1 ? 1 : 2);
	}
}

/* An error inside a list in braces skips to its '}', then the line ends. */
static void error_in_braces_resumes_after_them(void **state)
{
	parse_fails("drop dport { 70000,\n"
		    "             80 }\n"
		    "queue x\n",
		    2,
		    "test.conf:1:14: error: port 70000 out of range (0-65535)\n"
		    "drop dport { 70000,\n"
		    "             ^~~~~\n"
		    "test.conf:3:7: error: bad queue 'x'\n"
		    "queue x\n"
		    "      ^\n");
}

/* A '{' that opens no list must not make the next lines part of one. */
static void stray_brace_does_not_swallow_lines(void **state)
{
	static const struct {
		const char *line, *msg;
		unsigned int col;
		const char *caret;
	} stray[] = {
		{ "{", "unexpected '{'", 1, "^" },
		{ "drop {", "unexpected '{'", 6, "^" },
		{ "queue 1 {", "unexpected '{'", 9, "^" },
		{ "drop dport { 80 { 443 }", "expected ',' or '}', got '{'", 17,
		  "^" },
		{ "drop proto {", "missing value after 'proto'", 6, "^~~~~" },
		{ "drop tcp-flags {", "missing value after 'tcp-flags'", 6,
		  "^~~~~~~~~" },
		{ "default {", "missing value after 'default'", 1, "^~~~~~~" },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(stray); i++) {
		char text[128], want[512];
		int len;

		snprintf(text, sizeof(text), "%s\ndrop dport 99999\n",
			 stray[i].line);
		len = snprintf(want, sizeof(want),
			       "test.conf:1:%u: error: %s\n%s\n%*s%s\n"
			       "test.conf:2:12: error: port 99999 out of range (0-65535)\n"
			       "drop dport 99999\n"
			       "           ^~~~~\n",
			       stray[i].col, stray[i].msg, stray[i].line,
			       (int)stray[i].col - 1, "", stray[i].caret);
		assert_true(len > 0 && (size_t)len < sizeof(want));
		parse_fails(text, 2, want);
	}
}

/* Build "drop dport 70000" @n times, and the first 20 error reports. */
static void many_errors(unsigned int n, char **text, char **want)
{
	size_t tlen, wlen;
	FILE *t = open_memstream(text, &tlen);
	FILE *w = open_memstream(want, &wlen);
	unsigned int i;

	for (i = 1; i <= n; i++) {
		fprintf(t, "drop dport %u\n", 70000 + i);
		if (i <= NTFW_MAX_ERRORS)
			fprintf(w,
				"test.conf:%u:12: error: port %u out of range (0-65535)\n"
				"drop dport %u\n"
				"           ^~~~~\n",
				i, 70000 + i, 70000 + i);
	}
	if (n > NTFW_MAX_ERRORS)
		fprintf(w, "test.conf: too many errors (%u), stopped reporting after 20\n",
			n);
	fclose(t);
	fclose(w);
}

static void twenty_errors_all_reported(void **state)
{
	char *text, *want;

	assert_int_equal(NTFW_MAX_ERRORS, 20);
	many_errors(20, &text, &want);
	assert_null(strstr(want, "too many"));
	parse_fails(text, 20, want);
	free(text);
	free(want);
}

static void too_many_errors(void **state)
{
	static const unsigned int counts[] = { 21, 25, 100 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(counts); i++) {
		char *text, *want;

		many_errors(counts[i], &text, &want);
		parse_fails(text, (int)counts[i], want);
		free(text);
		free(want);
	}
}

static void too_many_icmp_types(void **state)
{
	char line[512], text[520], want[2048];
	size_t off;
	unsigned int i;

	off = (size_t)snprintf(line, sizeof(line), "drop icmp-type 0");
	for (i = 1; i < 64; i++)
		off += (size_t)snprintf(line + off, sizeof(line) - off, ",%u", i);
	/* 64 values are fine. */
	snprintf(text, sizeof(text), "%s\n", line);
	ntfw_conf_free(parse_ok(text));

	/* The 65th is reported; it starts after the comma at line[off]. */
	snprintf(line + off, sizeof(line) - off, ",64");
	snprintf(text, sizeof(text), "%s\n", line);
	snprintf(want, sizeof(want),
		 "test.conf:1:%zu: error: too many icmp types (at most 64)\n"
		 "%s\n%*s^~\n",
		 off + 2, line, (int)off + 1, "");
	parse_fails(text, 1, want);
}

/* ---- ntfw_conf_load ---- */

static void load_error(const char *path, const char *want)
{
	struct ntfw_conf *c = NULL;
	size_t len = 0;
	char *err = NULL;
	FILE *f = open_memstream(&err, &len);
	bool same, parsed;
	int n;

	assert_non_null(f);
	n = ntfw_conf_load(path, &c, f);
	fclose(f);
	same = same_text(err, want);
	parsed = c != NULL;
	free(err);
	ntfw_conf_free(c);
	assert_true(same);
	assert_int_equal(n, 1);
	assert_false(parsed);
}

static void load_missing_file(void **state)
{
	load_error("/nonexistent/ntfw.conf",
		   "/nonexistent/ntfw.conf: cannot open: No such file or directory\n");
}

static void load_directory(void **state)
{
	load_error("/", "/: read error: Is a directory\n");
}

static void load_endless_file(void **state)
{
	load_error("/dev/zero", "/dev/zero: file too large\n");
}

/* A config file on disk, removed whatever the outcome of the test. */
static char tmp_path[64];

static int tmp_create(void **state)
{
	int fd;

	snprintf(tmp_path, sizeof(tmp_path), "/tmp/ntfw-test-conf.XXXXXX");
	fd = mkstemp(tmp_path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int tmp_remove(void **state)
{
	unlink(tmp_path);
	return 0;
}

static void tmp_write(const char *text)
{
	FILE *f = fopen(tmp_path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void load_file(void **state)
{
	struct ntfw_conf *c = NULL;

	tmp_write(example_conf);
	assert_int_equal(ntfw_conf_load(tmp_path, &c, stderr), 0);
	assert_non_null(c);
	assert_int_equal(c->nrules, 6);
	assert_int_equal(c->nsets, 1);
	ntfw_conf_free(c);
}

/* Errors name the file as it was given. */
static void load_file_with_error(void **state)
{
	char want[256];

	tmp_write("queue 1\nqueue 2\n");
	snprintf(want, sizeof(want),
		 "%s:2:1: error: duplicate 'queue' statement (first at line 1)\n"
		 "queue 2\n"
		 "^~~~~\n",
		 tmp_path);
	load_error(tmp_path, want);
}

/* ---- reload ---- */

/* Only "queue" and "flows max" need a restart: they are put back to the
 * running values and named; everything else stays as the new file says. */
static void reload_keeps_fixed(void **state)
{
	struct ntfw_conf *run = parse_ok("queue 0-1\nflows max 1000\n");
	struct ntfw_conf *next = parse_ok("queue 4\nflows max 2000\n"
					  "fail-open yes\ncopy-range 128\n"
					  "queue-maxlen 99\nsocket-buffer 65536\n"
					  "default drop\ntimeout udp 5\n"
					  "fastpath after 3\n");
	const char *changed[NTFW_CONF_FIXED];

	assert_int_equal(ntfw_conf_keep_fixed(next, run, changed), 2);
	assert_string_equal(changed[0], "queue");
	assert_string_equal(changed[1], "flows max");
	assert_int_equal(next->queue_lo, 0);
	assert_int_equal(next->queue_hi, 1);
	assert_int_equal(next->flows_max, 1000);
	assert_true(next->fail_open);
	assert_int_equal(next->copy_range, 128);
	assert_int_equal(next->queue_maxlen, 99);
	assert_int_equal(next->socket_buffer, 65536);
	assert_int_equal(next->def, NTFW_DROP);
	assert_int_equal(next->timeout[NTFW_TC_UDP], 5);
	assert_int_equal(next->fastpath_after, 3);
	/* Now the same: nothing to say. */
	assert_int_equal(ntfw_conf_keep_fixed(next, run, changed), 0);
	ntfw_conf_free(next);
	/* One end of the range is a change too. */
	next = parse_ok("queue 0-2\nflows max 1000\n");
	assert_int_equal(ntfw_conf_keep_fixed(next, run, changed), 1);
	assert_string_equal(changed[0], "queue");
	assert_int_equal(next->queue_hi, 1);
	ntfw_conf_free(next);
	ntfw_conf_free(run);
}

/* Rules are found by name wherever they moved; with the verdict too for
 * the counters; unnamed rules by their words. */
static void reload_rule_map(void **state)
{
	struct ntfw_conf *a = parse_ok("accept name web proto tcp dport 80\n"
				       "drop name telnet proto tcp dport 23\n"
				       "accept name gone proto udp\n"
				       "drop proto tcp dport 9\n");
	struct ntfw_conf *b = parse_ok("drop proto tcp dport 7\n"
				       "accept name new proto icmp\n"
				       "accept name telnet proto tcp dport 23\n"
				       "accept name web proto tcp dport 80,443\n"
				       "default drop\n");
	uint16_t map[5];

	assert_int_equal(ntfw_conf_rule_map(a, b, false, map), 0);
	assert_int_equal(map[0], 3);		/* web */
	assert_int_equal(map[1], 2);		/* telnet */
	assert_int_equal(map[2], NTFW_RULE_GONE);
	assert_int_equal(map[3], NTFW_RULE_GONE); /* dport 9 is not there */
	assert_int_equal(map[4], 4);		/* default */
	assert_int_equal(ntfw_conf_rule_map(a, b, true, map), 0);
	assert_int_equal(map[0], 3);
	assert_int_equal(map[1], NTFW_RULE_GONE); /* drop became accept */
	assert_int_equal(map[2], NTFW_RULE_GONE);
	assert_int_equal(map[4], NTFW_RULE_GONE); /* default accept, now drop */
	/* The other way round: dport 7 is not dport 9. */
	assert_int_equal(ntfw_conf_rule_map(b, a, false, map), 0);
	assert_int_equal(map[0], NTFW_RULE_GONE);
	assert_int_equal(map[1], NTFW_RULE_GONE);
	assert_int_equal(map[2], 1);
	assert_int_equal(map[3], 0);
	assert_int_equal(map[4], 4);
	ntfw_conf_free(a);
	ntfw_conf_free(b);
}

/* The counters of @from's rules, 10 * (i + 1) packets for rule i, as a
 * reload carries them to @to's rules by ntfw_conf_rule_map(). */
static uint64_t *counters_after(const struct ntfw_conf *from,
				const struct ntfw_conf *to)
{
	struct ntfw_stats s, next;
	uint16_t map[16];
	uint64_t *pkts;
	unsigned int i;

	assert_true(from->nrules < ARRAY_SIZE(map));
	assert_int_equal(ntfw_stats_init(&s, from), 0);
	assert_int_equal(ntfw_stats_init(&next, to), 0);
	for (i = 0; i < from->nrules; i++)
		s.rule_pkts[i] = 10 * (i + 1);
	assert_int_equal(ntfw_conf_rule_map(from, to, true, map), 0);
	ntfw_stats_move_rules(&s, &next, map, from->nrules + 1);
	pkts = malloc((to->nrules + 1) * sizeof(*pkts));
	assert_non_null(pkts);
	memcpy(pkts, s.rule_pkts, (to->nrules + 1) * sizeof(*pkts));
	ntfw_stats_free(&s);
	ntfw_stats_free(&next);
	return pkts;
}

/* An unnamed rule is its words, not its line: moved two lines down it
 * keeps its counters (and does not hand them to the rule now on its old
 * line); spaced or commented otherwise it is the same; with a word
 * changed, or a name given, it is a new rule. */
static void reload_unnamed_rules_by_words(void **state)
{
	struct ntfw_conf *a = parse_ok("accept name out hook output\n"
				       "drop proto tcp dport 23\n"
				       "accept proto udp dport 53\n"
				       "drop proto tcp dport 9\n"
				       "drop proto tcp dport 25\n");
	struct ntfw_conf *b = parse_ok("accept name out hook output\n"
				       "# two lines above it now\n"
				       "accept name ping proto icmp\n"
				       "drop proto tcp dport 23\n"
				       "accept proto udp dport 53,5353\n"
				       "drop  proto tcp\tdport 9 # spaced\n"
				       "drop name smtp proto tcp dport 25\n");
	uint16_t map[6];
	uint64_t *pkts;

	assert_string_equal(b->rules[2].name, "line-4");
	assert_int_equal(ntfw_conf_rule_map(a, b, false, map), 0);
	assert_int_equal(map[0], 0);
	assert_int_equal(map[1], 2);		/* moved from line 2 to 4 */
	assert_int_equal(map[2], NTFW_RULE_GONE); /* a port more */
	assert_int_equal(map[3], 4);		/* respaced */
	assert_int_equal(map[4], NTFW_RULE_GONE); /* named now */
	pkts = counters_after(a, b);
	assert_int_equal(pkts[0], 10);
	assert_int_equal(pkts[1], 0);
	assert_int_equal(pkts[2], 20);		/* line-4, was line-2 */
	assert_int_equal(pkts[3], 0);
	assert_int_equal(pkts[4], 40);
	assert_int_equal(pkts[5], 0);
	free(pkts);
	ntfw_conf_free(a);
	ntfw_conf_free(b);
	/* The verdict is one of the words. */
	a = parse_ok("drop proto tcp dport 23\n");
	b = parse_ok("accept proto tcp dport 23\n");
	assert_int_equal(ntfw_conf_rule_map(a, b, false, map), 0);
	assert_int_equal(map[0], NTFW_RULE_GONE);
	ntfw_conf_free(a);
	ntfw_conf_free(b);
}

/* Unnamed rules with the same words pair up in file order: the first
 * with the first, and so on; a copy with no partner is new, or gone. */
static void reload_identical_unnamed_rules(void **state)
{
	struct ntfw_conf *a = parse_ok("drop dport 1 rate over 1/second\n"
				       "accept name x\n"
				       "drop dport 1 rate over 1/second\n");
	struct ntfw_conf *b = parse_ok("drop dport 1 rate over 1/second\n"
				       "drop dport 1 rate over 1/second\n"
				       "drop dport 1 rate over 1/second\n");
	uint16_t map[4];
	uint64_t *pkts;

	assert_int_equal(ntfw_conf_rule_map(a, b, true, map), 0);
	assert_int_equal(map[0], 0);
	assert_int_equal(map[1], NTFW_RULE_GONE);
	assert_int_equal(map[2], 1);
	pkts = counters_after(a, b);
	assert_int_equal(pkts[0], 10);
	assert_int_equal(pkts[1], 30);
	assert_int_equal(pkts[2], 0);
	free(pkts);
	/* The other way: the third copy is gone. */
	assert_int_equal(ntfw_conf_rule_map(b, a, true, map), 0);
	assert_int_equal(map[0], 0);
	assert_int_equal(map[1], 2);
	assert_int_equal(map[2], NTFW_RULE_GONE);
	ntfw_conf_free(a);
	ntfw_conf_free(b);
}

/* No rules on either side: only the default. */
static void reload_rule_map_empty(void **state)
{
	struct ntfw_conf *a = parse_ok(""), *b = parse_ok("accept name x\n");
	uint16_t map[2];

	assert_int_equal(ntfw_conf_rule_map(a, b, true, map), 0);
	assert_int_equal(map[0], 1);
	assert_int_equal(ntfw_conf_rule_map(b, a, true, map), 0);
	assert_int_equal(map[0], NTFW_RULE_GONE);
	assert_int_equal(map[1], 0);
	ntfw_conf_free(a);
	ntfw_conf_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(example_globals_and_set),
		cmocka_unit_test(example_rules),
		cmocka_unit_test(example_rule_values),
		cmocka_unit_test(empty_file_defaults),
		cmocka_unit_test(globals_set),
		cmocka_unit_test(gso),
		cmocka_unit_test(queue_range),
		cmocka_unit_test(unnamed_rules),
		cmocka_unit_test(comments_and_blanks),
		cmocka_unit_test(lists),
		cmocka_unit_test(set_spanning_lines),
		cmocka_unit_test(empty_set),
		cmocka_unit_test(one_family_set_narrows_rule),
		cmocka_unit_test(host_bits_masked),
		cmocka_unit_test(tcp_flags),
		cmocka_unit_test(hooks),
		cmocka_unit_test(protocols),
		cmocka_unit_test(families),
		cmocka_unit_test(icmp_types),
		cmocka_unit_test(interfaces),
		cmocka_unit_test(names_at_the_limit),
		cmocka_unit_test(crlf_line_ends),
		cmocka_unit_test(nul_bytes),
		cmocka_unit_test(flows_per_src_rules_at_the_limit),
		cmocka_unit_test(errors_in_line_order),
		cmocka_unit_test(one_error_per_line),
		cmocka_unit_test(error_at_end_of_line_resumes),
		cmocka_unit_test(error_in_braces_resumes_after_them),
		cmocka_unit_test(stray_brace_does_not_swallow_lines),
		cmocka_unit_test(twenty_errors_all_reported),
		cmocka_unit_test(too_many_errors),
		cmocka_unit_test(too_many_icmp_types),
		cmocka_unit_test(load_missing_file),
		cmocka_unit_test(load_directory),
		cmocka_unit_test(load_endless_file),
		cmocka_unit_test_setup_teardown(load_file, tmp_create, tmp_remove),
		cmocka_unit_test_setup_teardown(load_file_with_error, tmp_create,
						tmp_remove),
		cmocka_unit_test(reload_keeps_fixed),
		cmocka_unit_test(reload_rule_map),
		cmocka_unit_test(reload_rule_map_empty),
		cmocka_unit_test(reload_unnamed_rules_by_words),
		cmocka_unit_test(reload_identical_unnamed_rules),
	};
	struct CMUnitTest errs[ARRAY_SIZE(err_cases)];
	unsigned int i;
	int failed;

	/* One test per error message, named after the case. */
	for (i = 0; i < ARRAY_SIZE(err_cases); i++)
		errs[i] = (struct CMUnitTest){
			.name = err_cases[i].name,
			.test_func = check_error,
			.initial_state = (void *)&err_cases[i],
		};
	failed = cmocka_run_group_tests_name("conf", tests, NULL, NULL);
	failed += _cmocka_run_group_tests("conf errors", errs, ARRAY_SIZE(errs),
					  NULL, NULL);
	return failed ? 1 : 0;
}
