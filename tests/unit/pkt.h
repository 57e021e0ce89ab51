/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Packet builders for the unit tests: IPv4, IPv6 and its extension headers,
 * TCP, UDP, ICMP.  Each put_*() writes one header at @b and returns its
 * length; the pkt_*() helpers assemble whole packets with the lengths right.
 */
#ifndef NTFW_TEST_PKT_H
#define NTFW_TEST_PKT_H

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <netinet/in.h>

#define PKT_MAX 4096

static inline void wr16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static inline void wr32(uint8_t *b, uint32_t v)
{
	wr16(b, (uint16_t)(v >> 16));
	wr16(b + 2, (uint16_t)v);
}

/* An address in text form into 4 or 16 bytes. */
static inline void pkt_addr(uint8_t *out, const char *s)
{
	if (inet_pton(strchr(s, ':') ? AF_INET6 : AF_INET, s, out) != 1)
		memset(out, 0xee, 4);
}

/* IPv4 header without options; @total is the IP total length. */
static inline size_t put_ip4(uint8_t *b, uint8_t proto, size_t total,
			     const char *src, const char *dst)
{
	memset(b, 0, 20);
	b[0] = 0x45;
	wr16(b + 2, (uint16_t)total);
	wr16(b + 4, 0x1234); /* id */
	b[8] = 64;	     /* ttl */
	b[9] = proto;
	pkt_addr(b + 12, src);
	pkt_addr(b + 16, dst);
	return 20;
}

/* IPv6 header; @paylen is the payload length field. */
static inline size_t put_ip6(uint8_t *b, uint8_t nh, size_t paylen,
			     const char *src, const char *dst)
{
	memset(b, 0, 40);
	b[0] = 0x60;
	wr16(b + 4, (uint16_t)paylen);
	b[6] = nh;
	b[7] = 64;
	pkt_addr(b + 8, src);
	pkt_addr(b + 24, dst);
	return 40;
}

/* A generic IPv6 extension header (hop-by-hop, routing, dest-opts). */
static inline size_t put_ext6(uint8_t *b, uint8_t nh, uint8_t len8)
{
	size_t len = ((size_t)len8 + 1) * 8;

	memset(b, 0, len);
	b[0] = nh;
	b[1] = len8;
	return len;
}

/* IPv6 fragment header; @offset in 8-byte units. */
static inline size_t put_frag6(uint8_t *b, uint8_t nh, uint16_t offset,
			       int more)
{
	memset(b, 0, 8);
	b[0] = nh;
	wr16(b + 2, (uint16_t)(offset << 3 | (more ? 1 : 0)));
	wr32(b + 4, 0xcafe);
	return 8;
}

/* Authentication header: its length counts 4-byte words, minus 2. */
static inline size_t put_ah(uint8_t *b, uint8_t nh, uint8_t len4)
{
	size_t len = ((size_t)len4 + 2) * 4;

	memset(b, 0, len);
	b[0] = nh;
	b[1] = len4;
	return len;
}

struct tcp_opts {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	uint8_t doff; /* header length in 32-bit words; 0 means 5 */
};

static inline size_t put_tcp(uint8_t *b, const struct tcp_opts *o)
{
	uint8_t doff = o->doff ? o->doff : 5;
	size_t len = doff >= 5 ? (size_t)doff * 4 : 20;

	memset(b, 0, len);
	wr16(b, o->sport);
	wr16(b + 2, o->dport);
	wr32(b + 4, o->seq);
	wr32(b + 8, o->ack);
	b[12] = (uint8_t)(doff << 4);
	b[13] = o->flags;
	wr16(b + 14, o->win);
	return len;
}

/* UDP header; @len is the UDP length field (header + data). */
static inline size_t put_udp(uint8_t *b, uint16_t sport, uint16_t dport,
			     size_t len)
{
	memset(b, 0, 8);
	wr16(b, sport);
	wr16(b + 2, dport);
	wr16(b + 4, (uint16_t)len);
	return 8;
}

/* ICMP or ICMPv6 header; for echo, @id and @seq follow type and code. */
static inline size_t put_icmp(uint8_t *b, uint8_t type, uint8_t code,
			      uint16_t id, uint16_t seq)
{
	memset(b, 0, 8);
	b[0] = type;
	b[1] = code;
	wr16(b + 4, id);
	wr16(b + 6, seq);
	return 8;
}

/* Fill @n payload bytes with a pattern. */
static inline size_t put_data(uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(0xa0 + i);
	return n;
}

/* Whole packets. */

static inline size_t pkt_tcp4(uint8_t *b, const char *src, const char *dst,
			      const struct tcp_opts *o, size_t data)
{
	size_t hl = o->doff > 5 ? (size_t)o->doff * 4 : 20;
	size_t n = put_ip4(b, IPPROTO_TCP, 20 + hl + data, src, dst);

	n += put_tcp(b + n, o);
	return n + put_data(b + n, data);
}

static inline size_t pkt_tcp6(uint8_t *b, const char *src, const char *dst,
			      const struct tcp_opts *o, size_t data)
{
	size_t hl = o->doff > 5 ? (size_t)o->doff * 4 : 20;
	size_t n = put_ip6(b, IPPROTO_TCP, hl + data, src, dst);

	n += put_tcp(b + n, o);
	return n + put_data(b + n, data);
}

static inline size_t pkt_udp4(uint8_t *b, const char *src, const char *dst,
			      uint16_t sport, uint16_t dport, size_t data)
{
	size_t n = put_ip4(b, IPPROTO_UDP, 28 + data, src, dst);

	n += put_udp(b + n, sport, dport, 8 + data);
	return n + put_data(b + n, data);
}

static inline size_t pkt_udp6(uint8_t *b, const char *src, const char *dst,
			      uint16_t sport, uint16_t dport, size_t data)
{
	size_t n = put_ip6(b, IPPROTO_UDP, 8 + data, src, dst);

	n += put_udp(b + n, sport, dport, 8 + data);
	return n + put_data(b + n, data);
}

static inline size_t pkt_icmp4(uint8_t *b, const char *src, const char *dst,
			       uint8_t type, uint8_t code, uint16_t id,
			       size_t data)
{
	size_t n = put_ip4(b, IPPROTO_ICMP, 28 + data, src, dst);

	n += put_icmp(b + n, type, code, id, 1);
	return n + put_data(b + n, data);
}

static inline size_t pkt_icmp6(uint8_t *b, const char *src, const char *dst,
			       uint8_t type, uint8_t code, uint16_t id,
			       size_t data)
{
	size_t n = put_ip6(b, IPPROTO_ICMPV6, 8 + data, src, dst);

	n += put_icmp(b + n, type, code, id, 1);
	return n + put_data(b + n, data);
}

/* Set the IPv4 fragment field: @offset in 8-byte units, MF. */
static inline void ip4_frag(uint8_t *b, uint16_t offset, int more)
{
	wr16(b + 6, (uint16_t)((more ? 0x2000 : 0) | (offset & 0x1fff)));
}

/* The rules of conf/ntfw.conf, without its comments. */
#define EXAMPLE_CONF \
	"queue 0\n"\
	"default accept\n"\
	"fail-open no\n"\
	"set trusted { 10.213.1.0/24, fd00:213:1::/64 }\n"\
	"\n"\
	"drop   name no-ping  proto icmp icmp-type echo-request\n"\
	"drop   name telnet   proto tcp dport 23\n"\
	"accept name web      proto tcp dport 80,443,8000-8099\n"\
	"drop   name blocked  src 10.213.7.0/24\n"\
	"drop   name v6-9000  proto tcp dst fd00:213::/48 dport 9000\n"\
	"accept name lan      src @trusted\n"

#endif
