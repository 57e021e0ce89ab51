// SPDX-License-Identifier: GPL-2.0-only
/*
 * Packet parser tests on hand-built packets: every field of well-formed
 * packets, every truncation point, and every way a header can lie about
 * its length.  Each packet is handed over in a buffer of exactly the
 * captured length, so that ASan or valgrind catch a read past it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "parse.h"
#include "pkt.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define HOOK_IN 1

/* Metadata the caller fills in before parsing; it must survive. */
#define META_IIF 7
#define META_OIF 9

/*
 * Parse the first @caplen bytes of @b from a heap copy of exactly that size.
 * The result starts out as garbage, to show that the parser clears it.
 */
static enum ntfw_malformed parse(const uint8_t *b, size_t caplen,
				 size_t wirelen, struct ntfw_pkt *p)
{
	uint8_t *copy = malloc(caplen);
	enum ntfw_malformed m;

	assert_true(copy || !caplen);
	if (caplen)
		memcpy(copy, b, caplen);
	memset(p, 0xa5, sizeof(*p));
	p->iif = META_IIF;
	p->oif = META_OIF;
	p->hook = HOOK_IN;
	m = ntfw_parse(copy, caplen, wirelen, p);
	free(copy);
	/* Whatever the outcome, the metadata is left alone. */
	assert_int_equal(p->iif, META_IIF);
	assert_int_equal(p->oif, META_OIF);
	assert_int_equal(p->hook, HOOK_IN);
	return m;
}

/* A whole packet, as captured in full. */
static enum ntfw_malformed parse_all(const uint8_t *b, size_t len,
				     struct ntfw_pkt *p)
{
	return parse(b, len, len, p);
}

#define assert_reason(got, want)                                         \
	assert_string_equal(ntfw_malformed_name(got), ntfw_malformed_name(want))

static void assert_addr(const uint8_t *got, const char *want)
{
	uint8_t a[16] = { 0 };

	pkt_addr(a, want);
	assert_memory_equal(got, a, 16);
}

static const struct tcp_opts tcp_syn = {
	.sport = 40000, .dport = 443, .seq = 0x01020304, .ack = 0xa0b0c0d0,
	.flags = NTFW_TCP_SYN | NTFW_TCP_ACK | NTFW_TCP_ECE, .win = 29200,
};

/* ---- well-formed packets ---- */

static void tcp4(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n = pkt_tcp4(b, "192.0.2.1", "198.51.100.2", &tcp_syn, 10);

	assert_int_equal(n, 50);
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.family, 4);
	assert_int_equal(p.proto, IPPROTO_TCP);
	assert_int_equal(p.flags, NTFW_PKT_L4);
	assert_addr(p.src, "192.0.2.1");
	assert_addr(p.dst, "198.51.100.2");
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.dport, 443);
	assert_int_equal(p.tcp_seq, 0x01020304);
	assert_int_equal(p.tcp_ack, 0xa0b0c0d0);
	assert_int_equal(p.tcp_flags, NTFW_TCP_SYN | NTFW_TCP_ACK | NTFW_TCP_ECE);
	assert_int_equal(p.tcp_win, 29200);
	assert_int_equal(p.icmp_type, 0);
	assert_int_equal(p.icmp_code, 0);
	assert_int_equal(p.ip_len, 50);
	assert_int_equal(p.l4_off, 20);
	assert_int_equal(p.payload_off, 40);
	assert_int_equal(p.payload_len, 10);
}

static void tcp4_every_flag(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	struct tcp_opts o = tcp_syn;
	unsigned int f;

	for (f = 0; f < 256; f++) {
		size_t n;

		o.flags = (uint8_t)f;
		n = pkt_tcp4(b, "10.0.0.1", "10.0.0.2", &o, 0);
		assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
		assert_int_equal(p.tcp_flags, f);
	}
}

static void tcp4_options(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	struct tcp_opts o = tcp_syn;
	size_t n;

	/* 12 bytes of TCP options: the payload starts after them. */
	o.doff = 8;
	n = pkt_tcp4(b, "10.0.0.1", "10.0.0.2", &o, 5);
	assert_int_equal(n, 57);
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.l4_off, 20);
	assert_int_equal(p.payload_off, 52);
	assert_int_equal(p.payload_len, 5);

	/* The largest header, 60 bytes, and no payload. */
	o.doff = 15;
	n = pkt_tcp4(b, "10.0.0.1", "10.0.0.2", &o, 0);
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.payload_off, 80);
	assert_int_equal(p.payload_len, 0);
}

static void ip4_options(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n;

	/* IHL 6: a 4-byte option (NOPs) before UDP. */
	n = put_ip4(b, IPPROTO_UDP, 24 + 8 + 3, "10.0.0.1", "10.0.0.2");
	b[0] = 0x46;
	memset(b + 20, 1, 4);
	n += 4;
	n += put_udp(b + n, 53, 5353, 8 + 3);
	n += put_data(b + n, 3);
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.l4_off, 24);
	assert_int_equal(p.sport, 53);
	assert_int_equal(p.dport, 5353);
	assert_int_equal(p.payload_off, 32);
	assert_int_equal(p.payload_len, 3);
}

static void udp4(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n = pkt_udp4(b, "10.1.1.1", "10.2.2.2", 5353, 53, 100);

	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.family, 4);
	assert_int_equal(p.proto, IPPROTO_UDP);
	assert_int_equal(p.flags, NTFW_PKT_L4);
	assert_addr(p.src, "10.1.1.1");
	assert_addr(p.dst, "10.2.2.2");
	assert_int_equal(p.sport, 5353);
	assert_int_equal(p.dport, 53);
	assert_int_equal(p.tcp_flags, 0);
	assert_int_equal(p.tcp_seq, 0);
	assert_int_equal(p.ip_len, 128);
	assert_int_equal(p.l4_off, 20);
	assert_int_equal(p.payload_off, 28);
	assert_int_equal(p.payload_len, 100);
}

static void icmp4(void **state)
{
	static const struct {
		uint8_t type, code;
		uint16_t id; /* expected in sport and dport */
	} want[] = {
		{ 8, 0, 0x4242 },	/* echo request */
		{ 0, 0, 0x4242 },	/* echo reply */
		{ 3, 4, 0 },		/* unreachable: no id */
		{ 11, 1, 0 },
		{ 128, 0, 0 },		/* the ICMPv6 echo type means nothing here */
	};
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(want); i++) {
		size_t n = pkt_icmp4(b, "10.0.0.1", "10.0.0.2", want[i].type,
				     want[i].code, 0x4242, 56);

		assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
		assert_int_equal(p.family, 4);
		assert_int_equal(p.proto, IPPROTO_ICMP);
		assert_int_equal(p.flags, NTFW_PKT_L4);
		assert_int_equal(p.icmp_type, want[i].type);
		assert_int_equal(p.icmp_code, want[i].code);
		assert_int_equal(p.sport, want[i].id);
		assert_int_equal(p.dport, want[i].id);
		assert_int_equal(p.ip_len, 84);
		assert_int_equal(p.l4_off, 20);
		assert_int_equal(p.payload_off, 28);
		assert_int_equal(p.payload_len, 56);
	}
}

static void tcp6(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n = pkt_tcp6(b, "2001:db8::1", "2001:db8:ffff::2", &tcp_syn, 7);

	assert_int_equal(n, 67);
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.family, 6);
	assert_int_equal(p.proto, IPPROTO_TCP);
	assert_int_equal(p.flags, NTFW_PKT_L4);
	assert_addr(p.src, "2001:db8::1");
	assert_addr(p.dst, "2001:db8:ffff::2");
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.dport, 443);
	assert_int_equal(p.tcp_seq, 0x01020304);
	assert_int_equal(p.tcp_ack, 0xa0b0c0d0);
	assert_int_equal(p.tcp_flags, NTFW_TCP_SYN | NTFW_TCP_ACK | NTFW_TCP_ECE);
	assert_int_equal(p.tcp_win, 29200);
	assert_int_equal(p.ip_len, 67);
	assert_int_equal(p.l4_off, 40);
	assert_int_equal(p.payload_off, 60);
	assert_int_equal(p.payload_len, 7);
}

static void udp6(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n = pkt_udp6(b, "fd00::1", "fd00::2", 546, 547, 0);

	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.family, 6);
	assert_int_equal(p.proto, IPPROTO_UDP);
	assert_int_equal(p.flags, NTFW_PKT_L4);
	assert_addr(p.src, "fd00::1");
	assert_addr(p.dst, "fd00::2");
	assert_int_equal(p.sport, 546);
	assert_int_equal(p.dport, 547);
	assert_int_equal(p.ip_len, 48);
	assert_int_equal(p.l4_off, 40);
	assert_int_equal(p.payload_off, 48);
	assert_int_equal(p.payload_len, 0);
}

static void icmp6(void **state)
{
	static const struct {
		uint8_t type, code;
		uint16_t id;
	} want[] = {
		{ 128, 0, 0xbeef },	/* echo request */
		{ 129, 0, 0xbeef },	/* echo reply */
		{ 1, 4, 0 },
		{ 135, 0, 0 },
		{ 8, 0, 0 },		/* the ICMP echo type means nothing here */
		{ 0, 0, 0 },
	};
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(want); i++) {
		size_t n = pkt_icmp6(b, "fe80::1", "ff02::1", want[i].type,
				     want[i].code, 0xbeef, 4);

		assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
		assert_int_equal(p.family, 6);
		assert_int_equal(p.proto, IPPROTO_ICMPV6);
		assert_int_equal(p.flags, NTFW_PKT_L4);
		assert_int_equal(p.icmp_type, want[i].type);
		assert_int_equal(p.icmp_code, want[i].code);
		assert_int_equal(p.sport, want[i].id);
		assert_int_equal(p.dport, want[i].id);
		assert_int_equal(p.ip_len, 52);
		assert_int_equal(p.l4_off, 40);
		assert_int_equal(p.payload_off, 48);
		assert_int_equal(p.payload_len, 4);
	}
}

/* A transport the parser does not know: L3 fields only, all of it payload. */
static void unknown_transport(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n;

	n = put_ip4(b, IPPROTO_GRE, 20 + 3, "10.0.0.1", "10.0.0.2");
	n += put_data(b + n, 3);
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.proto, IPPROTO_GRE);
	assert_int_equal(p.flags, 0);
	assert_int_equal(p.sport, 0);
	assert_int_equal(p.dport, 0);
	assert_int_equal(p.l4_off, 20);
	assert_int_equal(p.payload_off, 20);
	assert_int_equal(p.payload_len, 3);

	n = put_ip6(b, IPPROTO_ESP, 12, "fd00::1", "fd00::2");
	n += put_data(b + n, 12);
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.proto, IPPROTO_ESP);
	assert_int_equal(p.flags, 0);
	assert_int_equal(p.l4_off, 40);
	assert_int_equal(p.payload_off, 40);
	assert_int_equal(p.payload_len, 12);
}

/* Link-layer padding after the IP packet is not part of it. */
static void trailing_padding(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n = pkt_udp4(b, "10.0.0.1", "10.0.0.2", 1, 2, 2);

	memset(b + n, 0, 16);
	assert_reason(parse(b, n + 16, n + 16, &p), NTFW_PKT_OK);
	assert_int_equal(p.ip_len, 30);
	assert_int_equal(p.payload_len, 2);

	n = pkt_tcp6(b, "fd00::1", "fd00::2", &tcp_syn, 0);
	memset(b + n, 0, 6);
	assert_reason(parse(b, n + 6, n + 6, &p), NTFW_PKT_OK);
	assert_int_equal(p.ip_len, 60);
	assert_int_equal(p.payload_len, 0);
}

/* ---- every truncation point ---- */

/* A well-formed packet and where its headers are. */
struct shape {
	const char *name;
	size_t (*build)(uint8_t *b);
	uint8_t family, proto;
	size_t l4_off, l4_len; /* the transport header */
	uint16_t sport, dport;
};

static size_t build_tcp4(uint8_t *b)
{
	return pkt_tcp4(b, "10.0.0.1", "10.0.0.2", &tcp_syn, 16);
}

static size_t build_tcp4_opts(uint8_t *b)
{
	struct tcp_opts o = tcp_syn;

	o.doff = 10;
	return pkt_tcp4(b, "10.0.0.1", "10.0.0.2", &o, 16);
}

static size_t build_udp4(uint8_t *b)
{
	return pkt_udp4(b, "10.0.0.1", "10.0.0.2", 5353, 53, 16);
}

static size_t build_icmp4(uint8_t *b)
{
	return pkt_icmp4(b, "10.0.0.1", "10.0.0.2", 8, 0, 77, 16);
}

static size_t build_tcp6(uint8_t *b)
{
	return pkt_tcp6(b, "fd00::1", "fd00::2", &tcp_syn, 16);
}

static size_t build_udp6(uint8_t *b)
{
	return pkt_udp6(b, "fd00::1", "fd00::2", 5353, 53, 16);
}

static size_t build_icmp6(uint8_t *b)
{
	return pkt_icmp6(b, "fd00::1", "fd00::2", 128, 0, 77, 16);
}

/* Hop-by-hop (8) + routing (16) + destination options (8), then TCP. */
static size_t build_ext6(uint8_t *b)
{
	size_t n = put_ip6(b, IPPROTO_HOPOPTS, 8 + 16 + 8 + 20 + 16, "fd00::1",
			   "fd00::2");

	n += put_ext6(b + n, IPPROTO_ROUTING, 0);
	n += put_ext6(b + n, IPPROTO_DSTOPTS, 1);
	n += put_ext6(b + n, IPPROTO_TCP, 0);
	n += put_tcp(b + n, &tcp_syn);
	return n + put_data(b + n, 16);
}

/* A first fragment (offset 0, more to come), then AH (24), then TCP. */
static size_t build_frag_ah6(uint8_t *b)
{
	size_t n = put_ip6(b, IPPROTO_FRAGMENT, 8 + 24 + 20 + 16, "fd00::1",
			   "fd00::2");

	n += put_frag6(b + n, IPPROTO_AH, 0, 1);
	n += put_ah(b + n, IPPROTO_TCP, 4);
	n += put_tcp(b + n, &tcp_syn);
	return n + put_data(b + n, 16);
}

static const struct shape shapes[] = {
	{ "tcp4", build_tcp4, 4, IPPROTO_TCP, 20, 20, 40000, 443 },
	{ "tcp4 with options", build_tcp4_opts, 4, IPPROTO_TCP, 20, 40, 40000, 443 },
	{ "udp4", build_udp4, 4, IPPROTO_UDP, 20, 8, 5353, 53 },
	{ "icmp4", build_icmp4, 4, IPPROTO_ICMP, 20, 8, 77, 77 },
	{ "tcp6", build_tcp6, 6, IPPROTO_TCP, 40, 20, 40000, 443 },
	{ "udp6", build_udp6, 6, IPPROTO_UDP, 40, 8, 5353, 53 },
	{ "icmp6", build_icmp6, 6, IPPROTO_ICMPV6, 40, 8, 77, 77 },
	{ "tcp6 after three extension headers", build_ext6, 6, IPPROTO_TCP,
	  72, 20, 40000, 443 },
	{ "tcp6 after a fragment header and AH", build_frag_ah6, 6, IPPROTO_TCP,
	  72, 20, 40000, 443 },
};

static size_t ip_hdr_len(const struct shape *s)
{
	return s->family == 4 ? 20 : 40;
}

/* The packet parsed fine: check what the truncation must not change. */
static void assert_shape(const struct shape *s, const struct ntfw_pkt *p,
			 size_t ip_len)
{
	assert_int_equal(p->family, s->family);
	assert_int_equal(p->proto, s->proto);
	assert_true(p->flags & NTFW_PKT_L4);
	assert_int_equal(p->sport, s->sport);
	assert_int_equal(p->dport, s->dport);
	assert_int_equal(p->ip_len, ip_len);
	assert_int_equal(p->l4_off, s->l4_off);
	assert_int_equal(p->payload_off, s->l4_off + s->l4_len);
	assert_int_equal(p->payload_len, ip_len - s->l4_off - s->l4_len);
}

/*
 * The capture stops short, the packet on the wire was whole: whatever the
 * headers that are there in full, the packet is fine.
 */
static void truncated_capture(void **state)
{
	const struct shape *s = *state;
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t full = s->build(b), cap;

	for (cap = 0; cap <= full; cap++) {
		enum ntfw_malformed want, got = parse(b, cap, full, &p);

		if (cap < ip_hdr_len(s))
			want = NTFW_BAD_IP_HDR;
		else if (cap < s->l4_off)
			want = NTFW_BAD_EXT_HDR;
		else if (cap < s->l4_off + s->l4_len)
			want = NTFW_BAD_L4_HDR;
		else
			want = NTFW_PKT_OK;
		if (got != want)
			fail_msg("%s, %zu of %zu bytes captured: %s, expected %s",
				 s->name, cap, full, ntfw_malformed_name(got),
				 ntfw_malformed_name(want));
		if (got == NTFW_PKT_OK)
			assert_shape(s, &p, full);
	}
}

/* The packet itself is short, and its IP length says so. */
static void short_packet(void **state)
{
	const struct shape *s = *state;
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t full = s->build(b), len;

	for (len = 0; len <= full; len++) {
		enum ntfw_malformed want, got;

		if (s->family == 4)
			wr16(b + 2, (uint16_t)len);
		else if (len >= 40)
			wr16(b + 4, (uint16_t)(len - 40));
		got = parse(b, len, len, &p);
		if (len < ip_hdr_len(s))
			want = NTFW_BAD_IP_HDR;
		else if (len < s->l4_off)
			want = NTFW_BAD_EXT_HDR;
		else if (len < s->l4_off + s->l4_len)
			want = NTFW_BAD_L4_HDR;
		else if (s->proto == IPPROTO_UDP && len < full)
			want = NTFW_BAD_L4_HDR; /* UDP length past the end */
		else
			want = NTFW_PKT_OK;
		if (got != want)
			fail_msg("%s, cut to %zu of %zu bytes: %s, expected %s",
				 s->name, len, full, ntfw_malformed_name(got),
				 ntfw_malformed_name(want));
		if (got == NTFW_PKT_OK)
			assert_shape(s, &p, len);
	}
}

/* The packet is short, but its IP length claims the whole. */
static void ip_length_lies(void **state)
{
	const struct shape *s = *state;
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t full = s->build(b), len;

	for (len = 0; len <= full; len++) {
		enum ntfw_malformed want, got = parse(b, len, len, &p);

		if (len < ip_hdr_len(s))
			want = NTFW_BAD_IP_HDR;
		else if (len < full)
			want = NTFW_BAD_IP_LEN;
		else
			want = NTFW_PKT_OK;
		if (got != want)
			fail_msg("%s, %zu of %zu bytes: %s, expected %s", s->name,
				 len, full, ntfw_malformed_name(got),
				 ntfw_malformed_name(want));
	}
}

/* ---- IPv4 header and length checks ---- */

static void ip4_bad_ihl(void **state)
{
	static const uint8_t first[] = { 0x40, 0x41, 0x44 };
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(first); i++) {
		n = pkt_tcp4(b, "10.0.0.1", "10.0.0.2", &tcp_syn, 0);
		b[0] = first[i];
		assert_reason(parse_all(b, n, &p), NTFW_BAD_IP_HDR);
	}
	/* 60 bytes of header in a 48-byte packet. */
	n = pkt_udp4(b, "10.0.0.1", "10.0.0.2", 1, 2, 20);
	b[0] = 0x4f;
	assert_reason(parse_all(b, n, &p), NTFW_BAD_IP_HDR);
	/* The same in a capture cut short of a packet long enough. */
	wr16(b + 2, 100);
	assert_reason(parse(b, n, 100, &p), NTFW_BAD_IP_HDR);
}

static void ip4_total_length(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n = pkt_tcp4(b, "10.0.0.1", "10.0.0.2", &tcp_syn, 0);

	/* Beyond the packet. */
	wr16(b + 2, 41);
	assert_reason(parse_all(b, n, &p), NTFW_BAD_IP_LEN);
	wr16(b + 2, 0xffff);
	assert_reason(parse_all(b, n, &p), NTFW_BAD_IP_LEN);
	/* ... unless the capture was cut: then it is only the capture. */
	wr16(b + 2, 41);
	assert_reason(parse(b, n, 41, &p), NTFW_PKT_OK);
	assert_int_equal(p.ip_len, 41);
	assert_int_equal(p.payload_len, 1);
	/* Below the header. */
	wr16(b + 2, 19);
	assert_reason(parse_all(b, n, &p), NTFW_BAD_IP_LEN);
	wr16(b + 2, 0);
	assert_reason(parse_all(b, n, &p), NTFW_BAD_IP_LEN);
	/* Below a header with options. */
	b[0] = 0x46;
	wr16(b + 2, 22);
	assert_reason(parse_all(b, n, &p), NTFW_BAD_IP_LEN);
	/* Exactly the header: no room for TCP. */
	b[0] = 0x45;
	wr16(b + 2, 20);
	assert_reason(parse_all(b, n, &p), NTFW_BAD_L4_HDR);
}

/* A wire length below the captured length means "not truncated". */
static void wirelen_below_caplen(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n = pkt_udp4(b, "10.0.0.1", "10.0.0.2", 1, 2, 4);

	assert_reason(parse(b, n, 0, &p), NTFW_PKT_OK);
	assert_int_equal(p.ip_len, n);
	assert_reason(parse(b, n, n - 1, &p), NTFW_PKT_OK);
}

/* A truncated capture of a UDP datagram: its length covers the whole. */
static void udp_truncated_capture(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n = pkt_udp4(b, "10.0.0.1", "10.0.0.2", 5353, 53, 1400);

	assert_reason(parse(b, 100, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.ip_len, 1428);
	assert_int_equal(p.dport, 53);
	assert_int_equal(p.payload_len, 1400);

	n = pkt_udp6(b, "fd00::1", "fd00::2", 5353, 53, 1400);
	assert_reason(parse(b, 128, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.payload_len, 1400);
}

/*
 * A GSO super-packet ("gso yes"): far past the MTU, its copy cut at the
 * copy range, its length from the queue.  Past 64 KiB (BIG TCP) the IP
 * length field is 0 and the wire length is the packet's length.
 */
static void gso_super_packets(void **state)
{
	static const struct {
		int family;
		int jumbo;	/* a hop-by-hop header first, as some kernels */
		uint16_t len;	/* the IP header's length field */
		size_t wirelen;
		enum ntfw_malformed want;
		uint32_t ip_len, payload_len;
	} cases[] = {
		{ 4, 0, 65000, 65000, NTFW_PKT_OK, 65000, 65000 - 40 },
		{ 6, 0, 65000, 65040, NTFW_PKT_OK, 65040, 65000 - 20 },
		{ 4, 0, 0, 185000, NTFW_PKT_OK, 185000, 185000 - 40 },
		{ 6, 0, 0, 185000, NTFW_PKT_OK, 185000, 185000 - 60 },
		{ 6, 1, 0, 185000, NTFW_PKT_OK, 185000, 185000 - 68 },
		/* A length of 0 on a packet that fits it is a lie. */
		{ 4, 0, 0, 65535, NTFW_BAD_IP_LEN, 0, 0 },
		{ 6, 0, 0, 65575, NTFW_BAD_L4_HDR, 0, 0 },
	};
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	unsigned int i;
	size_t n;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		if (cases[i].family == 4)
			n = put_ip4(b, IPPROTO_TCP, cases[i].len, "10.0.0.1",
				    "10.0.0.2");
		else
			n = put_ip6(b, cases[i].jumbo ? IPPROTO_HOPOPTS :
					IPPROTO_TCP, cases[i].len, "fd00::1",
				    "fd00::2");
		if (cases[i].jumbo)
			n += put_ext6(b + n, IPPROTO_TCP, 0);
		n += put_tcp(b + n, &tcp_syn);
		n += put_data(b + n, 400); /* what copy-range let through */
		assert_reason(parse(b, n, cases[i].wirelen, &p), cases[i].want);
		if (cases[i].want != NTFW_PKT_OK)
			continue;
		assert_int_equal(p.proto, IPPROTO_TCP);
		assert_int_equal(p.dport, tcp_syn.dport);
		assert_int_equal(p.ip_len, cases[i].ip_len);
		assert_int_equal(p.payload_len, cases[i].payload_len);
	}
}

/* ---- transport header checks ---- */

static void tcp_data_offset(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	struct tcp_opts o = tcp_syn;
	unsigned int doff;
	size_t n;

	/* Below 5 words. */
	for (doff = 0; doff < 5; doff++) {
		n = pkt_tcp4(b, "10.0.0.1", "10.0.0.2", &tcp_syn, 40);
		b[20 + 12] = (uint8_t)(doff << 4);
		assert_reason(parse_all(b, n, &p), NTFW_BAD_L4_HDR);
	}
	/* Beyond the packet: 60 bytes of header in 20 + 30. */
	n = pkt_tcp4(b, "10.0.0.1", "10.0.0.2", &tcp_syn, 30);
	b[20 + 12] = 15 << 4;
	assert_reason(parse_all(b, n, &p), NTFW_BAD_L4_HDR);
	/* Beyond the IP length, though within the capture (padding). */
	n = pkt_tcp6(b, "fd00::1", "fd00::2", &tcp_syn, 0);
	b[40 + 12] = 6 << 4;
	memset(b + n, 0, 4);
	assert_reason(parse(b, n + 4, n + 4, &p), NTFW_BAD_L4_HDR);
	/* Exactly the packet. */
	o.doff = 6;
	n = pkt_tcp6(b, "fd00::1", "fd00::2", &o, 0);
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.payload_off, 64);
	assert_int_equal(p.payload_len, 0);
}

static void udp_length(void **state)
{
	static const struct {
		uint16_t len;
		enum ntfw_malformed want;
	} cases[] = {
		{ 0, NTFW_BAD_L4_HDR }, { 7, NTFW_BAD_L4_HDR },
		{ 8, NTFW_PKT_OK },	{ 20, NTFW_PKT_OK },
		{ 28, NTFW_PKT_OK },	{ 29, NTFW_BAD_L4_HDR },
		{ 0xffff, NTFW_BAD_L4_HDR },
	};
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t n = pkt_udp4(b, "10.0.0.1", "10.0.0.2", 1, 2, 20);

		wr16(b + 24, cases[i].len);
		assert_reason(parse_all(b, n, &p), cases[i].want);
		n = pkt_udp6(b, "fd00::1", "fd00::2", 1, 2, 20);
		wr16(b + 44, cases[i].len);
		assert_reason(parse_all(b, n, &p), cases[i].want);
	}
}

/* ---- IPv4 fragments ---- */

static void ip4_first_fragment(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n = pkt_tcp4(b, "10.0.0.1", "10.0.0.2", &tcp_syn, 8);

	ip4_frag(b, 0, 1);
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.flags, NTFW_PKT_FRAG | NTFW_PKT_L4);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.dport, 443);
	assert_int_equal(p.tcp_flags, tcp_syn.flags);
}

static void ip4_dont_fragment(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n = pkt_tcp4(b, "10.0.0.1", "10.0.0.2", &tcp_syn, 8);

	wr16(b + 6, 0x4000);
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.flags, NTFW_PKT_L4);
}

static void ip4_later_fragment(void **state)
{
	static const struct {
		uint16_t offset;
		int more;
	} frags[] = { { 1, 1 }, { 185, 1 }, { 185, 0 }, { 0x1000, 0 }, { 0x1fff, 0 } };
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(frags); i++) {
		/* The bytes after the IP header are data, not a header. */
		size_t n = put_ip4(b, IPPROTO_TCP, 20 + 4, "10.0.0.1",
				   "10.0.0.2");

		n += put_data(b + n, 4);
		ip4_frag(b, frags[i].offset, frags[i].more);
		assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
		assert_int_equal(p.family, 4);
		assert_int_equal(p.proto, IPPROTO_TCP);
		assert_int_equal(p.flags, NTFW_PKT_FRAG | NTFW_PKT_LATERFRAG);
		assert_addr(p.src, "10.0.0.1");
		assert_addr(p.dst, "10.0.0.2");
		assert_int_equal(p.ip_len, 24);
		assert_int_equal(p.sport, 0);
		assert_int_equal(p.dport, 0);
		assert_int_equal(p.tcp_flags, 0);
	}
}

static void ip4_first_fragment_too_short(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n = put_ip4(b, IPPROTO_TCP, 20 + 8, "10.0.0.1", "10.0.0.2");

	/* 8 bytes of a 20-byte TCP header. */
	n += put_data(b + n, 8);
	ip4_frag(b, 0, 1);
	assert_reason(parse_all(b, n, &p), NTFW_BAD_L4_HDR);
}

/* A first fragment's UDP length covers the datagram, not the fragment. */
static void ip4_first_fragment_udp(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n = pkt_udp4(b, "10.0.0.1", "10.0.0.2", 4789, 4789, 32);

	wr16(b + 24, 3000);
	assert_reason(parse_all(b, n, &p), NTFW_BAD_L4_HDR);
	ip4_frag(b, 0, 1);
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.flags, NTFW_PKT_FRAG | NTFW_PKT_L4);
	assert_int_equal(p.dport, 4789);
}

/* ---- IPv6 extension headers ---- */

static void ip6_extension_chain(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n = build_ext6(b);

	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.proto, IPPROTO_TCP);
	assert_int_equal(p.flags, NTFW_PKT_L4);
	assert_int_equal(p.l4_off, 72);
	assert_int_equal(p.payload_off, 92);
	assert_int_equal(p.payload_len, 16);
	assert_int_equal(p.ip_len, n);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.tcp_seq, 0x01020304);
}

static void ip6_first_fragment(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n = put_ip6(b, IPPROTO_FRAGMENT, 8 + 8 + 4, "fd00::1", "fd00::2");

	n += put_frag6(b + n, IPPROTO_UDP, 0, 1);
	n += put_udp(b + n, 53, 33000, 2000); /* the whole datagram */
	n += put_data(b + n, 4);
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.proto, IPPROTO_UDP);
	assert_int_equal(p.flags, NTFW_PKT_FRAG | NTFW_PKT_L4);
	assert_int_equal(p.l4_off, 48);
	assert_int_equal(p.sport, 53);
	assert_int_equal(p.dport, 33000);
}

static void ip6_later_fragment(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n;

	n = put_ip6(b, IPPROTO_FRAGMENT, 8 + 3, "fd00::1", "fd00::2");
	n += put_frag6(b + n, IPPROTO_UDP, 1, 0);
	n += put_data(b + n, 3);
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.family, 6);
	assert_int_equal(p.proto, IPPROTO_UDP);
	assert_int_equal(p.flags, NTFW_PKT_FRAG | NTFW_PKT_LATERFRAG);
	assert_int_equal(p.l4_off, 48);
	assert_int_equal(p.payload_off, 48);
	assert_int_equal(p.sport, 0);
	assert_int_equal(p.dport, 0);
	assert_addr(p.src, "fd00::1");

	/* After a hop-by-hop header, with more fragments to come. */
	n = put_ip6(b, IPPROTO_HOPOPTS, 8 + 8, "fd00::1", "fd00::2");
	n += put_ext6(b + n, IPPROTO_FRAGMENT, 0);
	n += put_frag6(b + n, IPPROTO_TCP, 8191, 1);
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.proto, IPPROTO_TCP);
	assert_int_equal(p.flags, NTFW_PKT_FRAG | NTFW_PKT_LATERFRAG);
	assert_int_equal(p.l4_off, 56);
}

static void ip6_ah(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n;

	n = put_ip6(b, IPPROTO_AH, 24 + 8, "fd00::1", "fd00::2");
	n += put_ah(b + n, IPPROTO_ICMPV6, 4);
	n += put_icmp(b + n, 128, 0, 5, 1);
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.proto, IPPROTO_ICMPV6);
	assert_int_equal(p.l4_off, 64);
	assert_int_equal(p.icmp_type, 128);
	assert_int_equal(p.sport, 5);

	/* AH's length counts 4-byte words: 16 bytes is len 2, not 8-byte units. */
	n = put_ip6(b, IPPROTO_AH, 16 + 8, "fd00::1", "fd00::2");
	n += put_ah(b + n, IPPROTO_UDP, 2);
	n += put_udp(b + n, 1, 2, 8);
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.l4_off, 56);
	assert_int_equal(p.dport, 2);
}

static void ip6_no_next_header(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n;

	n = put_ip6(b, IPPROTO_NONE, 0, "fd00::1", "fd00::2");
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.proto, IPPROTO_NONE);
	assert_int_equal(p.flags, 0);
	assert_int_equal(p.l4_off, 40);
	assert_int_equal(p.payload_off, 40);

	n = put_ip6(b, IPPROTO_DSTOPTS, 8 + 5, "fd00::1", "fd00::2");
	n += put_ext6(b + n, IPPROTO_NONE, 0);
	n += put_data(b + n, 5); /* ignored, whatever it is */
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.proto, IPPROTO_NONE);
	assert_int_equal(p.flags, 0);
	assert_int_equal(p.l4_off, 48);
}

/* @count destination-options headers, then UDP. */
static size_t build_long_chain(uint8_t *b, unsigned int count)
{
	size_t n = put_ip6(b, IPPROTO_DSTOPTS, count * 8 + 8, "fd00::1",
			   "fd00::2");
	unsigned int i;

	for (i = 0; i < count; i++)
		n += put_ext6(b + n, i + 1 < count ? IPPROTO_DSTOPTS : IPPROTO_UDP,
			      0);
	return n + put_udp(b + n, 7, 9, 8);
}

static void ip6_chain_too_long(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n;

	n = build_long_chain(b, 16);
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.l4_off, 40 + 16 * 8);
	assert_int_equal(p.dport, 9);
	n = build_long_chain(b, 17);
	assert_reason(parse_all(b, n, &p), NTFW_BAD_EXT_HDR);
}

static void ip6_ext_past_end(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n;

	/* A hop-by-hop header that says 88 bytes, in a 28-byte payload. */
	n = put_ip6(b, IPPROTO_HOPOPTS, 8 + 20, "fd00::1", "fd00::2");
	n += put_ext6(b + n, IPPROTO_TCP, 0);
	n += put_tcp(b + n, &tcp_syn);
	b[41] = 10;
	assert_reason(parse_all(b, n, &p), NTFW_BAD_EXT_HDR);
	/* Past the payload length, though within the capture. */
	n = put_ip6(b, IPPROTO_ROUTING, 8, "fd00::1", "fd00::2");
	n += put_ext6(b + n, IPPROTO_NONE, 1);
	assert_int_equal(n, 56);
	assert_reason(parse_all(b, n, &p), NTFW_BAD_EXT_HDR);
	/* An AH longer than what is left. */
	n = put_ip6(b, IPPROTO_AH, 24, "fd00::1", "fd00::2");
	n += put_ah(b + n, IPPROTO_NONE, 4);
	b[41] = 5;
	assert_reason(parse_all(b, n, &p), NTFW_BAD_EXT_HDR);
}

static void ip6_payload_length(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n = pkt_udp6(b, "fd00::1", "fd00::2", 1, 2, 0);

	wr16(b + 4, 9);
	assert_reason(parse_all(b, n, &p), NTFW_BAD_IP_LEN);
	wr16(b + 4, 0xffff);
	assert_reason(parse_all(b, n, &p), NTFW_BAD_IP_LEN);
	/* Zero (a jumbogram): no room for the transport header. */
	wr16(b + 4, 0);
	assert_reason(parse_all(b, n, &p), NTFW_BAD_L4_HDR);
}

static void bad_version(void **state)
{
	static const uint8_t first[] = { 0x00, 0x15, 0x50, 0x65 ^ 0x30, 0xff };
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(first); i++) {
		size_t n = pkt_tcp4(b, "10.0.0.1", "10.0.0.2", &tcp_syn, 0);

		b[0] = first[i];
		assert_reason(parse_all(b, n, &p), NTFW_BAD_VERSION);
		assert_reason(parse_all(b, 1, &p), NTFW_BAD_VERSION);
	}
	/* One byte of IPv4 or IPv6 is a truncated header. */
	b[0] = 0x45;
	assert_reason(parse_all(b, 1, &p), NTFW_BAD_IP_HDR);
	b[0] = 0x60;
	assert_reason(parse_all(b, 1, &p), NTFW_BAD_IP_HDR);
	assert_reason(parse_all(b, 0, &p), NTFW_BAD_IP_HDR);
}

static void malformed_names(void **state)
{
	static const struct {
		enum ntfw_malformed m;
		const char *name;
	} names[] = {
		{ NTFW_PKT_OK, "ok" },
		{ NTFW_BAD_VERSION, "bad-version" },
		{ NTFW_BAD_IP_HDR, "bad-ip-header" },
		{ NTFW_BAD_IP_LEN, "bad-ip-length" },
		{ NTFW_BAD_EXT_HDR, "bad-ext-header" },
		{ NTFW_BAD_L4_HDR, "bad-l4-header" },
		{ NTFW_MALFORMED_MAX, "unknown" },
		{ (enum ntfw_malformed)1000, "unknown" },
	};
	unsigned int i;

	assert_int_equal(NTFW_MALFORMED_MAX, 6);
	for (i = 0; i < ARRAY_SIZE(names); i++)
		assert_string_equal(ntfw_malformed_name(names[i].m), names[i].name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tcp4),
		cmocka_unit_test(tcp4_every_flag),
		cmocka_unit_test(tcp4_options),
		cmocka_unit_test(ip4_options),
		cmocka_unit_test(udp4),
		cmocka_unit_test(icmp4),
		cmocka_unit_test(tcp6),
		cmocka_unit_test(udp6),
		cmocka_unit_test(icmp6),
		cmocka_unit_test(unknown_transport),
		cmocka_unit_test(trailing_padding),
		cmocka_unit_test(ip4_bad_ihl),
		cmocka_unit_test(ip4_total_length),
		cmocka_unit_test(wirelen_below_caplen),
		cmocka_unit_test(udp_truncated_capture),
		cmocka_unit_test(gso_super_packets),
		cmocka_unit_test(tcp_data_offset),
		cmocka_unit_test(udp_length),
		cmocka_unit_test(ip4_first_fragment),
		cmocka_unit_test(ip4_dont_fragment),
		cmocka_unit_test(ip4_later_fragment),
		cmocka_unit_test(ip4_first_fragment_too_short),
		cmocka_unit_test(ip4_first_fragment_udp),
		cmocka_unit_test(ip6_extension_chain),
		cmocka_unit_test(ip6_first_fragment),
		cmocka_unit_test(ip6_later_fragment),
		cmocka_unit_test(ip6_ah),
		cmocka_unit_test(ip6_no_next_header),
		cmocka_unit_test(ip6_chain_too_long),
		cmocka_unit_test(ip6_ext_past_end),
		cmocka_unit_test(ip6_payload_length),
		cmocka_unit_test(bad_version),
		cmocka_unit_test(malformed_names),
	};
	/* Three truncation tests per packet shape, named after it. */
	static const struct {
		const char *what;
		CMUnitTestFunction fn;
	} kinds[] = {
		{ "truncated capture", truncated_capture },
		{ "short packet", short_packet },
		{ "IP length beyond the packet", ip_length_lies },
	};
	struct CMUnitTest trunc[ARRAY_SIZE(kinds) * ARRAY_SIZE(shapes)];
	char names[ARRAY_SIZE(trunc)][80];
	unsigned int i, k, n = 0;
	int failed;

	for (k = 0; k < ARRAY_SIZE(kinds); k++) {
		for (i = 0; i < ARRAY_SIZE(shapes); i++, n++) {
			snprintf(names[n], sizeof(names[n]), "%s: %s",
				 kinds[k].what, shapes[i].name);
			trunc[n] = (struct CMUnitTest){
				.name = names[n],
				.test_func = kinds[k].fn,
				.initial_state = (void *)&shapes[i],
			};
		}
	}
	failed = cmocka_run_group_tests_name("parse", tests, NULL, NULL);
	failed += _cmocka_run_group_tests("parse truncation", trunc, n, NULL,
					  NULL);
	return failed ? 1 : 0;
}
