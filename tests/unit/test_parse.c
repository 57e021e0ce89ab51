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

#include "conf.h"
#include "engine.h"
#include "parse.h"
#include "policy.h"
#include "conf_text.h"
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
	size_t proto_at;	/* bytes that give the protocol */
	size_t l4_need;		/* transport bytes the parser reads */
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
static size_t build_frag_dst6(uint8_t *b)
{
	size_t n = put_ip6(b, IPPROTO_FRAGMENT, 8 + 24 + 20 + 16, "fd00::1",
			   "fd00::2");

	n += put_frag6(b + n, IPPROTO_DSTOPTS, 0, 1);
	n += put_ext6(b + n, IPPROTO_TCP, 2);
	n += put_tcp(b + n, &tcp_syn);
	return n + put_data(b + n, 16);
}

/*
 * The protocol is known once the last extension header's next-header and
 * length bytes are in: 64 + 2 after three headers, 48 + 2 after the
 * fragment header and a destination-options header.  TCP needs its fixed 20 bytes, UDP 8, ICMP 2.
 */
static const struct shape shapes[] = {
	{ "tcp4", build_tcp4, 4, IPPROTO_TCP, 20, 20, 40000, 443, 20, 20 },
	{ "tcp4 with options", build_tcp4_opts, 4, IPPROTO_TCP, 20, 40, 40000,
	  443, 20, 20 },
	{ "udp4", build_udp4, 4, IPPROTO_UDP, 20, 8, 5353, 53, 20, 8 },
	{ "icmp4", build_icmp4, 4, IPPROTO_ICMP, 20, 8, 77, 77, 20, 2 },
	{ "tcp6", build_tcp6, 6, IPPROTO_TCP, 40, 20, 40000, 443, 40, 20 },
	{ "udp6", build_udp6, 6, IPPROTO_UDP, 40, 8, 5353, 53, 40, 8 },
	{ "icmp6", build_icmp6, 6, IPPROTO_ICMPV6, 40, 8, 77, 77, 40, 2 },
	{ "tcp6 after three extension headers", build_ext6, 6, IPPROTO_TCP,
	  72, 20, 40000, 443, 66, 20 },
	{ "tcp6 after a fragment and a dstopts header", build_frag_dst6, 6, IPPROTO_TCP,
	  72, 20, 40000, 443, 50, 20 },
};

static size_t ip_hdr_len(const struct shape *s)
{
	return s->family == 4 ? 20 : 40;
}

static size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

/*
 * The packet parsed fine with its transport header read: check what the
 * truncation must not change.  @ip_len is the IP length, @cap what was
 * captured.  ICMP's type and code take 2 bytes, its echo id 6: a shorter
 * ICMP header is still read, without an id.
 */
static void assert_shape(const struct shape *s, const struct ntfw_pkt *p,
			 size_t ip_len, size_t cap)
{
	size_t hlen = min_sz(s->l4_len, ip_len - s->l4_off);
	int icmp = s->proto == IPPROTO_ICMP || s->proto == IPPROTO_ICMPV6;
	int ids = !icmp || min_sz(ip_len, cap) >= s->l4_off + 6;

	assert_int_equal(p->family, s->family);
	assert_int_equal(p->proto, s->proto);
	assert_true(p->flags & NTFW_PKT_L4);
	assert_false(p->flags & (NTFW_PKT_L4_UNKNOWN | NTFW_PKT_PROTO_UNKNOWN));
	assert_int_equal(p->sport, ids ? s->sport : 0);
	assert_int_equal(p->dport, ids ? s->dport : 0);
	assert_int_equal(p->ip_len, ip_len);
	assert_int_equal(p->l4_off, s->l4_off);
	assert_int_equal(p->payload_off, s->l4_off + hlen);
	assert_int_equal(p->payload_len, ip_len - s->l4_off - hlen);
}

/*
 * The capture stops short, the packet on the wire was whole: the packet
 * is fine whatever is cut.  Past the extension headers that are in, the
 * protocol is unknown; past the protocol, the transport fields.
 */
static void truncated_capture(void **state)
{
	const struct shape *s = *state;
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t full = s->build(b), cap;

	for (cap = 0; cap <= full; cap++) {
		enum ntfw_malformed want, got = parse(b, cap, full, &p);

		want = cap < ip_hdr_len(s) ? NTFW_BAD_IP_HDR : NTFW_PKT_OK;
		if (got != want)
			fail_msg("%s, %zu of %zu bytes captured: %s, expected %s",
				 s->name, cap, full, ntfw_malformed_name(got),
				 ntfw_malformed_name(want));
		if (got != NTFW_PKT_OK)
			continue;
		assert_int_equal(p.ip_len, full);
		assert_int_equal(p.family, s->family);
		if (cap < s->proto_at) {
			assert_true(p.flags & NTFW_PKT_PROTO_UNKNOWN);
			assert_false(p.flags & (NTFW_PKT_L4 | NTFW_PKT_L4_UNKNOWN));
			assert_int_equal(p.dport, 0);
		} else if (cap < s->l4_off + s->l4_need) {
			assert_int_equal(p.proto, s->proto);
			assert_true(p.flags & NTFW_PKT_L4_UNKNOWN);
			assert_false(p.flags & (NTFW_PKT_L4 | NTFW_PKT_PROTO_UNKNOWN));
			assert_int_equal(p.l4_off, s->l4_off);
			assert_int_equal(p.sport, 0);
			assert_int_equal(p.dport, 0);
		} else {
			assert_shape(s, &p, full, cap);
		}
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
		/* The UDP length then says more than there is: no matter.
		 * A first fragment's headers may go on in the next one:
		 * what it cuts is unknown, not malformed. */
		if (len < ip_hdr_len(s))
			want = NTFW_BAD_IP_HDR;
		else if (s->build == build_frag_dst6 && len >= 48 &&
			 len < s->l4_off + s->l4_need) {
			assert_reason(got, NTFW_PKT_OK);
			assert_true(p.flags & (len < s->proto_at ?
					       NTFW_PKT_PROTO_UNKNOWN :
					       NTFW_PKT_L4_UNKNOWN));
			assert_false(p.flags & NTFW_PKT_L4);
			continue;
		}
		else if (len < s->l4_off)
			want = NTFW_BAD_EXT_HDR;
		else if (len < s->l4_off + s->l4_need)
			want = NTFW_BAD_L4_HDR;
		else
			want = NTFW_PKT_OK;
		if (got != want)
			fail_msg("%s, cut to %zu of %zu bytes: %s, expected %s",
				 s->name, len, full, ntfw_malformed_name(got),
				 ntfw_malformed_name(want));
		if (got == NTFW_PKT_OK)
			assert_shape(s, &p, len, len);
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

/*
 * The data offset says where the payload starts; the ports, sequence
 * numbers, flags and window are in the first 20 bytes whatever it says.
 */
static void tcp_data_offset(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	struct tcp_opts o = tcp_syn;
	unsigned int doff;
	size_t n;

	/* Below 5 words: the header is taken as 20 bytes. */
	for (doff = 0; doff < 5; doff++) {
		n = pkt_tcp4(b, "10.0.0.1", "10.0.0.2", &tcp_syn, 40);
		b[20 + 12] = (uint8_t)(doff << 4);
		assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
		assert_int_equal(p.flags, NTFW_PKT_L4);
		assert_int_equal(p.sport, 40000);
		assert_int_equal(p.dport, 443);
		assert_int_equal(p.tcp_flags, tcp_syn.flags);
		assert_int_equal(p.payload_off, 40);
		assert_int_equal(p.payload_len, 40);
	}
	/* Beyond the packet: 60 bytes of header in 20 + 30.  The payload
	 * starts at the end; the options are walked only as far as there
	 * are bytes. */
	n = pkt_tcp4(b, "10.0.0.1", "10.0.0.2", &tcp_syn, 30);
	b[20 + 12] = 15 << 4;
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.dport, 443);
	assert_int_equal(p.payload_off, 70);
	assert_int_equal(p.payload_len, 0);
	/* Beyond the IP length, though within the capture (padding). */
	n = pkt_tcp6(b, "fd00::1", "fd00::2", &tcp_syn, 0);
	b[40 + 12] = 6 << 4;
	memset(b + n, 0xff, 4);
	assert_reason(parse(b, n + 4, n + 4, &p), NTFW_PKT_OK);
	assert_int_equal(p.ip_len, 60);
	assert_int_equal(p.payload_off, 60);
	assert_int_equal(p.payload_len, 0);
	assert_int_equal(p.tcp_wscale, -1);
	/* Exactly the packet. */
	o.doff = 6;
	n = pkt_tcp6(b, "fd00::1", "fd00::2", &o, 0);
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.payload_off, 64);
	assert_int_equal(p.payload_len, 0);
}

/* A SYN's window scale option: read when it was copied, else unknown. */
static void tcp_window_scale(void **state)
{
	static const uint8_t opts[] = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7 };
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	struct tcp_opts o = tcp_syn;
	size_t n;

	o.doff = 7;
	n = pkt_tcp6(b, "fd00::1", "fd00::2", &o, 0);
	memcpy(b + 60, opts, sizeof(opts));
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.tcp_wscale, 7);
	/* The option's last byte past the copy: it may be there. */
	assert_reason(parse(b, n - 1, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.flags, NTFW_PKT_L4);
	assert_int_equal(p.tcp_wscale, NTFW_WSCALE_UNKNOWN);
	assert_int_equal(p.payload_off, 68);
	/* A SYN-less segment has none to give. */
	b[40 + 13] = NTFW_TCP_ACK;
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.tcp_wscale, -1);
}

/*
 * Linux takes a UDP datagram whatever its length field says (0 included:
 * the IP length rules), and nft reads its ports: so does ntfw.
 */
static void udp_length(void **state)
{
	static const uint16_t lens[] = { 0, 7, 8, 20, 28, 29, 0xffff };
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		size_t n = pkt_udp4(b, "10.0.0.1", "10.0.0.2", 1, 2, 20);

		wr16(b + 24, lens[i]);
		assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
		assert_int_equal(p.flags, NTFW_PKT_L4);
		assert_int_equal(p.dport, 2);
		assert_int_equal(p.payload_len, 20);
		n = pkt_udp6(b, "fd00::1", "fd00::2", 1, 2, 20);
		wr16(b + 44, lens[i]);
		assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
		assert_int_equal(p.flags, NTFW_PKT_L4);
		assert_int_equal(p.dport, 2);
		assert_int_equal(p.payload_len, 20);
	}
	/* Fewer than 8 bytes in the IP length is another matter. */
	pkt_udp4(b, "10.0.0.1", "10.0.0.2", 1, 2, 0);
	wr16(b + 2, 27);
	assert_reason(parse(b, 27, 27, &p), NTFW_BAD_L4_HDR);
	pkt_udp6(b, "fd00::1", "fd00::2", 1, 2, 0);
	wr16(b + 4, 7);
	assert_reason(parse(b, 47, 47, &p), NTFW_BAD_L4_HDR);
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

	/* 8 bytes of a 20-byte TCP header: the rest is in the next
	 * fragment, so the fields are unknown (rules fail closed), as
	 * nft reads nothing past a fragment either. */
	n += put_data(b + n, 8);
	ip4_frag(b, 0, 1);
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_true(p.flags & NTFW_PKT_L4_UNKNOWN);
	assert_false(p.flags & NTFW_PKT_L4);
	/* Not a fragment: the header is cut short, malformed. */
	ip4_frag(b, 0, 0);
	assert_reason(parse_all(b, n, &p), NTFW_BAD_L4_HDR);
}

/* A first fragment's UDP length covers the datagram, not the fragment. */
static void ip4_first_fragment_udp(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n = pkt_udp4(b, "10.0.0.1", "10.0.0.2", 4789, 4789, 32);

	wr16(b + 24, 3000);
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
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

/* AH is the protocol, as nft's meta l4proto has it: "proto ah" matches,
 * transport fields are not read behind it, its length is not checked. */
static void ip6_ah(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n;

	n = put_ip6(b, IPPROTO_AH, 24 + 8, "fd00::1", "fd00::2");
	n += put_ah(b + n, IPPROTO_ICMPV6, 4);
	n += put_icmp(b + n, 128, 0, 5, 1);
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.proto, IPPROTO_AH);
	assert_int_equal(p.l4_off, 40);
	assert_false(p.flags & NTFW_PKT_L4);

	/* Behind a hop-by-hop header, too. */
	n = put_ip6(b, IPPROTO_HOPOPTS, 8 + 16 + 8, "fd00::1", "fd00::2");
	n += put_ext6(b + n, IPPROTO_AH, 0);
	n += put_ah(b + n, IPPROTO_UDP, 2);
	n += put_udp(b + n, 1, 2, 8);
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.proto, IPPROTO_AH);
	assert_int_equal(p.l4_off, 48);
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

/* As ipv6_find_hdr(): no limit on the number of headers but the packet. */
static void ip6_long_chains(void **state)
{
	static const unsigned int counts[] = { 1, 16, 17, 40, 400 };
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	unsigned int i;
	size_t n;

	for (i = 0; i < ARRAY_SIZE(counts); i++) {
		n = build_long_chain(b, counts[i]);
		assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
		assert_int_equal(p.proto, IPPROTO_UDP);
		assert_int_equal(p.flags, NTFW_PKT_L4);
		assert_int_equal(p.l4_off, 40 + counts[i] * 8);
		assert_int_equal(p.dport, 9);
	}
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

/* ---- what the copy range cuts is unknown, not malformed ---- */

/*
 * An IPv6 TCP SYN behind @n destination-options headers of @len8 each
 * (8 * (len8 + 1) bytes).
 */
static size_t build_dstopts_syn(uint8_t *b, unsigned int n, uint8_t len8,
				uint16_t dport)
{
	struct tcp_opts o = tcp_syn;
	size_t ext = (size_t)n * 8 * (len8 + 1);
	size_t k = put_ip6(b, n ? IPPROTO_DSTOPTS : IPPROTO_TCP, ext + 20,
			   "fd00:213::2", "fd00:213::1");
	unsigned int i;

	o.flags = NTFW_TCP_SYN;
	o.dport = dport;
	for (i = 0; i < n; i++)
		k += put_ext6(b + k, i + 1 < n ? IPPROTO_DSTOPTS : IPPROTO_TCP,
			      len8);
	return k + put_tcp(b + k, &o);
}

/* A 520-byte destination-options header and a 512-byte copy. */
static void evasion_big_dstopts(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n = build_dstopts_syn(b, 1, 64, 22);

	assert_int_equal(n, 40 + 520 + 20);
	assert_reason(parse(b, 512, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.proto, IPPROTO_TCP);
	assert_int_equal(p.flags, NTFW_PKT_L4_UNKNOWN);
	assert_int_equal(p.l4_off, 560);
	assert_int_equal(p.dport, 0);
	assert_int_equal(p.tcp_flags, 0);
	assert_int_equal(p.ip_len, n);
	/* Copied whole, the same packet is read whole. */
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.flags, NTFW_PKT_L4);
	assert_int_equal(p.dport, 22);
	assert_int_equal(p.tcp_flags, NTFW_TCP_SYN);
	/* The 600 bytes a socket option sets (IPV6_DSTOPTS), likewise. */
	n = build_dstopts_syn(b, 1, 74, 22);
	assert_reason(parse(b, 512, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.proto, IPPROTO_TCP);
	assert_int_equal(p.flags, NTFW_PKT_L4_UNKNOWN);
}

/* Two big headers: the second one's next-header byte is past the copy. */
static void evasion_chain_past_copy(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n = build_dstopts_syn(b, 2, 64, 22);

	assert_reason(parse(b, 512, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.flags, NTFW_PKT_PROTO_UNKNOWN);
	assert_int_equal(p.l4_off, 560);
	assert_int_equal(p.dport, 0);
	/* The bytes that name the next header are in, the rest is not. */
	assert_reason(parse(b, 562, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.proto, IPPROTO_TCP);
	assert_int_equal(p.flags, NTFW_PKT_L4_UNKNOWN);
	assert_int_equal(p.l4_off, 1080);
	/* A fragment header needs its offset too: 4 bytes. */
	n = put_ip6(b, IPPROTO_DSTOPTS, 520 + 8 + 8, "fd00::1", "fd00::2");
	n += put_ext6(b + n, IPPROTO_FRAGMENT, 64);
	n += put_frag6(b + n, IPPROTO_UDP, 0, 1);
	n += put_udp(b + n, 1, 53, 100);
	assert_reason(parse(b, 563, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.flags, NTFW_PKT_PROTO_UNKNOWN);
	assert_reason(parse(b, 564, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.flags, NTFW_PKT_FRAG | NTFW_PKT_L4_UNKNOWN);
	assert_int_equal(p.proto, IPPROTO_UDP);
	/* Cut by the IP length instead, the same header is malformed. */
	wr16(b + 4, 520 + 2);
	assert_reason(parse(b, 563, 563, &p), NTFW_BAD_EXT_HDR);
}

/* 17 headers, one more than the old limit, with a SYN behind them. */
static void evasion_17_headers(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n = build_dstopts_syn(b, 17, 0, 22);

	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.proto, IPPROTO_TCP);
	assert_int_equal(p.flags, NTFW_PKT_L4);
	assert_int_equal(p.dport, 22);
	assert_int_equal(p.tcp_flags, NTFW_TCP_SYN);
	/* 60 of them past a 512-byte copy. */
	n = build_dstopts_syn(b, 60, 0, 22);
	assert_reason(parse(b, 512, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.flags, NTFW_PKT_PROTO_UNKNOWN);
}

/* copy-range 60: 40 + 20, a TCP header's fixed part and no options. */
static void evasion_copy_range_60(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	struct tcp_opts o = tcp_syn;
	size_t n;

	o.doff = 10; /* the 20 bytes of options of a Linux SYN */
	n = pkt_tcp6(b, "fd00::1", "fd00::2", &o, 0);
	b[60] = 3;
	b[61] = 3;
	b[62] = 7;
	assert_reason(parse(b, 60, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.flags, NTFW_PKT_L4);
	assert_int_equal(p.dport, 443);
	assert_int_equal(p.tcp_flags, tcp_syn.flags);
	assert_int_equal(p.tcp_wscale, NTFW_WSCALE_UNKNOWN);
	assert_int_equal(p.payload_off, 80);
	/* With data, an ACK of the same connection. */
	n = pkt_tcp6(b, "fd00::1", "fd00::2", &o, 1000);
	assert_reason(parse(b, 60, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.flags, NTFW_PKT_L4);
	assert_int_equal(p.payload_len, 1000);
	/* An IPv4 header with 40 bytes of options leaves no TCP. */
	n = put_ip4(b, IPPROTO_TCP, 60 + 20, "10.0.0.1", "10.0.0.2");
	b[0] = 0x4f;
	memset(b + 20, 1, 40);
	n += 40;
	n += put_tcp(b + n, &tcp_syn);
	assert_reason(parse(b, 60, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.flags, NTFW_PKT_L4_UNKNOWN);
	assert_int_equal(p.proto, IPPROTO_TCP);
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.flags, NTFW_PKT_L4);
	assert_int_equal(p.dport, 443);
}

/* Not extension headers to nft's ipv6_find_hdr(): protocols. */
static void ip6_mobility_hip_shim6(void **state)
{
	static const uint8_t protos[] = { 135, 139, 140 };
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	unsigned int i;
	size_t n;

	for (i = 0; i < ARRAY_SIZE(protos); i++) {
		n = put_ip6(b, IPPROTO_DSTOPTS, 8 + 24, "fd00::1", "fd00::2");
		n += put_ext6(b + n, protos[i], 0);
		/* Its own next-header byte names TCP: not to be followed. */
		n += put_ext6(b + n, IPPROTO_TCP, 2);
		assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
		assert_int_equal(p.proto, protos[i]);
		assert_int_equal(p.flags, 0);
		assert_int_equal(p.l4_off, 48);
		assert_int_equal(p.payload_len, 24);
	}
}

/* AH inside an ICMP error's quote is walked past, as conntrack reads
 * it: (hdrlen + 2) * 4 bytes, with more extension headers after it. */
static void ip6_ah_then_dstopts(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n, q;

	n = put_ip6(b, IPPROTO_ICMPV6, 8 + 40 + 12 + 8 + 20, "fd00::1", "fd00::2");
	n += put_icmp(b + n, 1, 4, 0, 0);
	q = put_ip6(b + n, IPPROTO_AH, 12 + 8 + 20, "fd00::2", "fd00::1");
	q += put_ah(b + n + q, IPPROTO_DSTOPTS, 1);
	q += put_ext6(b + n + q, IPPROTO_TCP, 0);
	q += put_tcp(b + n + q, &tcp_syn);
	assert_reason(parse_all(b, n + q, &p), NTFW_PKT_OK);
	assert_true(p.flags & NTFW_PKT_INNER);
	assert_int_equal(p.inner_proto, IPPROTO_TCP);
	assert_int_equal(p.inner_dport, 443);
}

/* A later fragment's protocol is its fragment header's, as in nft. */
static void ip6_later_fragment_ext(void **state)
{
	uint8_t b[PKT_MAX];
	struct ntfw_pkt p;
	size_t n;

	n = put_ip6(b, IPPROTO_FRAGMENT, 8 + 16, "fd00::1", "fd00::2");
	n += put_frag6(b + n, IPPROTO_DSTOPTS, 100, 1);
	n += put_data(b + n, 16);
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.proto, IPPROTO_DSTOPTS);
	assert_int_equal(p.flags, NTFW_PKT_FRAG | NTFW_PKT_LATERFRAG);
	assert_int_equal(p.l4_off, 48);
	assert_int_equal(p.payload_len, 16);
	/* A fragment header cut by the IP length. */
	wr16(b + 4, 6);
	assert_reason(parse(b, 46, 46, &p), NTFW_BAD_EXT_HDR);
}

/* ---- the packet an ICMP error quotes ---- */

/* An ICMP error from @router quoting @q (@qlen bytes of it). */
static size_t build_icmp4_error(uint8_t *b, uint8_t type, uint8_t code,
				const uint8_t *q, size_t qlen)
{
	size_t n = put_ip4(b, IPPROTO_ICMP, 28 + qlen, "10.213.9.9",
			   "10.213.0.2");

	n += put_icmp(b + n, type, code, 0, 0);
	memcpy(b + n, q, qlen);
	return n + qlen;
}

static size_t build_icmp6_error(uint8_t *b, uint8_t type, uint8_t code,
				const uint8_t *q, size_t qlen)
{
	size_t n = put_ip6(b, IPPROTO_ICMPV6, 8 + qlen, "fd00:213::9",
			   "fd00:213::2");

	n += put_icmp(b + n, type, code, 0, 0);
	memcpy(b + n, q, qlen);
	return n + qlen;
}

static void assert_inner(const struct ntfw_pkt *p, uint8_t proto,
			 const char *src, const char *dst, uint16_t sport,
			 uint16_t dport)
{
	assert_true(p->flags & NTFW_PKT_INNER);
	assert_true(p->flags & NTFW_PKT_L4);
	assert_int_equal(p->inner_proto, proto);
	assert_addr(p->inner_src, src);
	assert_addr(p->inner_dst, dst);
	assert_int_equal(p->inner_sport, sport);
	assert_int_equal(p->inner_dport, dport);
}

static void icmp4_errors(void **state)
{
	static const uint8_t types[] = { 3, 4, 5, 11, 12 };
	uint8_t q[PKT_MAX], b[PKT_MAX];
	struct ntfw_pkt p;
	unsigned int i;
	size_t qn, n;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		/* TCP, quoted with its 8 bytes as RFC 792 asks. */
		qn = pkt_tcp4(q, "10.213.0.2", "10.213.0.1", &tcp_syn, 100);
		n = build_icmp4_error(b, types[i], 1, q, 28);
		assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
		assert_int_equal(p.icmp_type, types[i]);
		assert_inner(&p, IPPROTO_TCP, "10.213.0.2", "10.213.0.1",
			     40000, 443);
		/* UDP, quoted whole. */
		qn = pkt_udp4(q, "10.213.0.2", "10.213.0.1", 5353, 53, 30);
		n = build_icmp4_error(b, types[i], 0, q, qn);
		assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
		assert_inner(&p, IPPROTO_UDP, "10.213.0.2", "10.213.0.1",
			     5353, 53);
		/* An echo request. */
		qn = pkt_icmp4(q, "10.213.0.2", "10.213.0.1", 8, 0, 0x1234, 56);
		n = build_icmp4_error(b, types[i], 0, q, 28);
		assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
		assert_inner(&p, IPPROTO_ICMP, "10.213.0.2", "10.213.0.1",
			     0x1234, 0x1234);
	}
	/* A quoted GRE packet: no ports, but addresses and a protocol. */
	put_ip4(q, IPPROTO_GRE, 28, "10.213.0.2", "10.213.0.1");
	put_data(q + 20, 8);
	n = build_icmp4_error(b, 3, 3, q, 28);
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_inner(&p, IPPROTO_GRE, "10.213.0.2", "10.213.0.1", 0, 0);
	/* Not an error: a reply whose data looks like a packet. */
	qn = pkt_tcp4(q, "10.213.0.2", "10.213.0.1", &tcp_syn, 0);
	n = build_icmp4_error(b, 0, 0, q, qn);
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_false(p.flags & NTFW_PKT_INNER);
}

static void icmp6_errors(void **state)
{
	static const uint8_t types[] = { 1, 2, 3, 4 };
	uint8_t q[PKT_MAX], b[PKT_MAX];
	struct ntfw_pkt p;
	unsigned int i;
	size_t qn, n;

	for (i = 0; i < ARRAY_SIZE(types); i++) {
		qn = pkt_tcp6(q, "fd00:213::2", "fd00:213::1", &tcp_syn, 100);
		n = build_icmp6_error(b, types[i], 0, q, qn);
		assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
		assert_int_equal(p.icmp_type, types[i]);
		assert_inner(&p, IPPROTO_TCP, "fd00:213::2", "fd00:213::1",
			     40000, 443);
		qn = pkt_udp6(q, "fd00:213::2", "fd00:213::1", 5353, 53, 0);
		n = build_icmp6_error(b, types[i], 0, q, qn);
		assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
		assert_inner(&p, IPPROTO_UDP, "fd00:213::2", "fd00:213::1",
			     5353, 53);
		qn = pkt_icmp6(q, "fd00:213::2", "fd00:213::1", 128, 0, 0xbeef, 8);
		n = build_icmp6_error(b, types[i], 0, q, qn);
		assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
		assert_inner(&p, IPPROTO_ICMPV6, "fd00:213::2", "fd00:213::1",
			     0xbeef, 0xbeef);
	}
	/* The quoted packet's extension chain is walked too. */
	qn = build_ext6(q);
	n = build_icmp6_error(b, 1, 4, q, qn);
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_inner(&p, IPPROTO_TCP, "fd00::1", "fd00::2", 40000, 443);
	/* An informational message quotes nothing. */
	n = build_icmp6_error(b, 129, 0, q, qn);
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_false(p.flags & NTFW_PKT_INNER);
}

/* A quote too short for its ports is a well-formed error all the same. */
static void icmp_truncated_quotes(void **state)
{
	uint8_t q[PKT_MAX], b[PKT_MAX];
	struct ntfw_pkt p;
	size_t qn, n, len;

	qn = pkt_udp4(q, "10.213.0.2", "10.213.0.1", 5353, 53, 0);
	for (len = 0; len <= qn; len++) {
		n = build_icmp4_error(b, 3, 3, q, len);
		assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
		assert_int_equal(p.flags & NTFW_PKT_L4, NTFW_PKT_L4);
		/* The ports are the first 4 bytes, as conntrack reads them. */
		if (len < 24)
			assert_false(p.flags & NTFW_PKT_INNER);
		else
			assert_inner(&p, IPPROTO_UDP, "10.213.0.2",
				     "10.213.0.1", 5353, 53);
	}
	/* An echo request needs its 8 bytes. */
	qn = pkt_icmp4(q, "10.213.0.2", "10.213.0.1", 8, 0, 7, 0);
	n = build_icmp4_error(b, 11, 0, q, 27);
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_false(p.flags & NTFW_PKT_INNER);
	/* A v6 quote cut inside its extension chain. */
	qn = build_ext6(q);
	for (len = 0; len < 76; len++) {
		n = build_icmp6_error(b, 1, 0, q, len);
		assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
		assert_false(p.flags & NTFW_PKT_INNER);
	}
	/* The quote cut by the copy range, not by the IP length. */
	qn = pkt_tcp6(q, "fd00:213::2", "fd00:213::1", &tcp_syn, 0);
	n = build_icmp6_error(b, 1, 0, q, qn);
	assert_reason(parse(b, 48 + 43, n, &p), NTFW_PKT_OK);
	assert_true(p.flags & NTFW_PKT_L4);
	assert_false(p.flags & NTFW_PKT_INNER);
	assert_reason(parse(b, 48 + 44, n, &p), NTFW_PKT_OK);
	assert_inner(&p, IPPROTO_TCP, "fd00:213::2", "fd00:213::1", 40000, 443);
	/* The wrong family inside, and a later fragment inside. */
	n = build_icmp4_error(b, 3, 0, q, qn);
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_false(p.flags & NTFW_PKT_INNER);
	qn = pkt_udp4(q, "10.213.0.2", "10.213.0.1", 5353, 53, 0);
	ip4_frag(q, 3, 0);
	n = build_icmp4_error(b, 3, 0, q, qn);
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_false(p.flags & NTFW_PKT_INNER);
	/* An ICMP header of 4 bytes: type and code, nothing quoted. */
	n = put_ip4(b, IPPROTO_ICMP, 24, "10.0.0.1", "10.0.0.2");
	n += put_icmp(b + n, 3, 1, 0, 0) - 4;
	assert_reason(parse_all(b, n, &p), NTFW_PKT_OK);
	assert_int_equal(p.flags, NTFW_PKT_L4);
	assert_int_equal(p.icmp_type, 3);
	assert_int_equal(p.payload_len, 0);
	/* One byte: malformed. */
	wr16(b + 2, 21);
	assert_reason(parse(b, 21, 21, &p), NTFW_BAD_L4_HDR);
}

/* ---- the policy fails closed on what it cannot read ---- */

/* The index of the rule that decides @b (caplen @cap), or -1: default. */
static int decide(const struct ntfw_conf *c, const uint8_t *b, size_t cap,
		  size_t n)
{
	struct ntfw_pkt p;
	unsigned int idx;

	assert_reason(parse(b, cap, n, &p), NTFW_PKT_OK);
	return ntfw_policy_eval(c, &p, NULL, &idx) ? (int)idx : -1;
}

static void policy_fails_closed(void **state)
{
	struct ntfw_conf *c = conf_text(
		"default accept\n"
		"drop name other-src src fd00:213::66 proto tcp dport 80\n"
		"accept name web proto tcp dport 80\n"
		"accept name icmp proto icmpv6\n"
		"drop name dns proto udp dport 53\n"
		"drop name ssh proto tcp dport 22\n"
		"accept name rest src fd00:213::2\n");
	uint8_t b[PKT_MAX];
	size_t n;

	/* Whole: the port decides. */
	n = build_dstopts_syn(b, 1, 64, 80);
	assert_int_equal(decide(c, b, n, n), 1);
	n = build_dstopts_syn(b, 1, 64, 22);
	assert_int_equal(decide(c, b, n, n), 4);
	n = build_dstopts_syn(b, 1, 64, 8080);
	assert_int_equal(decide(c, b, n, n), 5);
	/* Ports past the copy: the accept rule cannot see port 80, the
	 * drop rule on another source still does not match, the UDP rule
	 * cannot, and the first TCP drop rule that could does. */
	n = build_dstopts_syn(b, 1, 64, 80);
	assert_int_equal(decide(c, b, 512, n), 4);
	n = build_dstopts_syn(b, 1, 64, 8080);
	assert_int_equal(decide(c, b, 512, n), 4);
	/* The protocol past the copy: any drop rule that could match, and
	 * no accept rule that names a protocol. */
	n = build_dstopts_syn(b, 2, 64, 8080);
	assert_int_equal(decide(c, b, 512, n), 3);
	/* A rule that needs only readable fields applies. */
	n = put_ip6(b, IPPROTO_DSTOPTS, 520 + 8, "fd00:213::2", "fd00:213::1");
	n += put_ext6(b + n, IPPROTO_ICMPV6, 64);
	n += put_icmp(b + n, 128, 0, 1, 1);
	assert_int_equal(decide(c, b, 512, n), 2);
	ntfw_conf_free(c);

	/* Rules on other families do not reach; rules on TCP flags do. */
	c = conf_text("default accept\n"
		    "accept name web proto tcp dport 80\n"
		    "drop name v4 family ip proto tcp dport 80\n"
		    "drop name flags proto tcp tcp-flags syn\n"
		    "accept name rest\n");
	n = build_dstopts_syn(b, 1, 64, 80);
	assert_int_equal(decide(c, b, n, n), 0);
	assert_int_equal(decide(c, b, 512, n), 2);
	ntfw_conf_free(c);
	/* With no drop rule in reach, the default decides. */
	c = conf_text("default drop\n"
		    "accept name web proto tcp dport 80\n"
		    "drop name icmp proto icmpv6 icmp-type echo-request\n");
	n = build_dstopts_syn(b, 1, 64, 80);
	assert_int_equal(decide(c, b, n, n), 0);
	assert_int_equal(decide(c, b, 512, n), -1);
	ntfw_conf_free(c);
}

/* Malformed packets get the malformed verdict, not the default. */
static void engine_malformed_verdict(void **state)
{
	static const struct {
		const char *conf;
		enum ntfw_verdict want;
	} cases[] = {
		{ "default accept\n", NTFW_DROP },
		{ "default accept\nmalformed drop\n", NTFW_DROP },
		{ "default drop\nmalformed accept\n", NTFW_ACCEPT },
	};
	uint8_t b[PKT_MAX];
	unsigned int i;
	size_t n;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ntfw_conf *c = conf_text(cases[i].conf);
		struct ntfw_meta m = { .hook = 1, .ts_ns = 1 };
		struct ntfw_engine e;

		assert_int_equal(ntfw_engine_init(&e, c, 64, NULL, NULL), 0);
		n = pkt_tcp4(b, "10.0.0.1", "10.0.0.2", &tcp_syn, 0);
		wr16(b + 2, 30); /* TCP cut by the IP length */
		assert_int_equal(ntfw_engine_packet(&e, b, 30, 30, &m, NULL),
				 cases[i].want);
		assert_int_equal(e.stats.malformed, 1);
		assert_int_equal(e.stats.malformed_by[NTFW_BAD_L4_HDR], 1);
		/* A well-formed packet gets the default. */
		n = pkt_tcp4(b, "10.0.0.1", "10.0.0.2", &tcp_syn, 0);
		assert_int_equal(ntfw_engine_packet(&e, b, (uint32_t)n,
						    (uint32_t)n, &m, NULL),
				 c->def);
		assert_int_equal(e.stats.malformed, 1);
		ntfw_engine_free(&e);
		ntfw_conf_free(c);
	}
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
		cmocka_unit_test(tcp_window_scale),
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
		cmocka_unit_test(ip6_long_chains),
		cmocka_unit_test(ip6_ext_past_end),
		cmocka_unit_test(ip6_payload_length),
		cmocka_unit_test(evasion_big_dstopts),
		cmocka_unit_test(evasion_chain_past_copy),
		cmocka_unit_test(evasion_17_headers),
		cmocka_unit_test(evasion_copy_range_60),
		cmocka_unit_test(ip6_mobility_hip_shim6),
		cmocka_unit_test(ip6_ah_then_dstopts),
		cmocka_unit_test(ip6_later_fragment_ext),
		cmocka_unit_test(icmp4_errors),
		cmocka_unit_test(icmp6_errors),
		cmocka_unit_test(icmp_truncated_quotes),
		cmocka_unit_test(policy_fails_closed),
		cmocka_unit_test(engine_malformed_verdict),
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
