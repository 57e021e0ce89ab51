// SPDX-License-Identifier: GPL-2.0-only
/*
 * Packet parser: IPv4, IPv6 and its extension-header chain, TCP, UDP, ICMP,
 * ICMPv6, and the packet an ICMP error quotes.  Every read is checked
 * against the captured length first; the packet path relies on this
 * function never faulting whatever it is given.
 *
 * A packet is read the way nftables reads it (nft_set_pktinfo_ipv4/6 and
 * nft_payload), so that a packet the kernel delivers is never judged on
 * less than what a rule can see: the protocol is meta l4proto, transport
 * fields come from the fixed part of the header.  Only what the kernel
 * itself could not read is malformed.  What the copy range left out is
 * unknown, not bad: the policy decides such packets fail-closed.
 */
#include <stdbool.h>
#include <string.h>
#include <netinet/in.h>

#include "parse.h"

#define IPV6_HDR_LEN 40
/*
 * The most the 16-bit length fields hold.  A GSO super-packet past it
 * (BIG TCP) has a length field of 0 and is as long as the wire length
 * says: no packet that long is sent unsegmented.
 */
#define IP_LEN_MAX 0xffffu

static const char *const malformed_names[NTFW_MALFORMED_MAX] = {
	[NTFW_PKT_OK] = "ok",
	[NTFW_BAD_VERSION] = "bad-version",
	[NTFW_BAD_IP_HDR] = "bad-ip-header",
	[NTFW_BAD_IP_LEN] = "bad-ip-length",
	[NTFW_BAD_EXT_HDR] = "bad-ext-header",
	[NTFW_BAD_L4_HDR] = "bad-l4-header",
};

const char *ntfw_malformed_name(enum ntfw_malformed m)
{
	return m < NTFW_MALFORMED_MAX ? malformed_names[m] : "unknown";
}

static inline uint16_t rd16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static inline uint32_t rd32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

/* The window scale option (RFC 7323) of a SYN, or -1, or
 * NTFW_WSCALE_UNKNOWN when the copy (@len of the @full option bytes) ends
 * before it could be found; a malformed list just ends the walk. */
static int8_t tcp_wscale(const uint8_t *o, size_t len, size_t full)
{
	size_t i = 0;

	while (i < len) {
		if (o[i] == 0) /* end of options */
			return -1;
		if (o[i] == 1) { /* no-op */
			i++;
			continue;
		}
		if (i + 1 >= len || o[i + 1] < 2 || i + o[i + 1] > len)
			break;
		if (o[i] == 3 && o[i + 1] == 3)
			return (int8_t)(o[i + 2] > 14 ? 14 : o[i + 2]);
		i += o[i + 1];
	}
	/* The walk stopped at the copy range: the option may lie past it. */
	return len < full ? NTFW_WSCALE_UNKNOWN : -1;
}

static size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* Extension headers as ipv6_find_hdr() walks them (ipv6_ext_hdr() less
 * NONE, which ends the chain).  Mobility, HIP and Shim6 are protocols to
 * nft's meta l4proto, and so they are here. */
static int ipv6_is_ext(uint8_t nh)
{
	switch (nh) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_FRAGMENT:
	case IPPROTO_AH:
	case IPPROTO_DSTOPTS:
		return 1;
	}
	return 0;
}

/* What walking an IPv6 extension chain found. */
enum chain {
	CHAIN_END,	/* *@off is the transport header, *@nh its protocol */
	CHAIN_LATER,	/* a later fragment: *@nh from its fragment header */
	CHAIN_CUT,	/* the next header to read lies past @cap */
	CHAIN_BAD,	/* a header runs past @end */
};

/*
 * Walk the extension headers from *@off (@nh the first one's type), the
 * way ipv6_find_hdr() does.  With @stop_ah, AH ends the walk and is the
 * protocol, as nft's meta l4proto has it (IP6_FH_F_AUTH): "proto ah"
 * matches it and transport rules do not see what it carries, as in nft;
 * without, it is walked past, as conntrack reads a quoted packet.
 * Headers must fit in @end (the IP length); only @cap bytes can be read.
 * There is no bound on the number of headers but the packet: each one
 * moves *@off on by at least 8 bytes.
 */
static enum chain ipv6_walk(const uint8_t *data, size_t cap, size_t end,
			    size_t *off, uint8_t *nh, uint8_t *flags,
			    bool stop_ah)
{
	while (ipv6_is_ext(*nh) && !(stop_ah && *nh == IPPROTO_AH)) {
		const uint8_t *e = data + *off;
		/* The bytes that give the next header and the length (a
		 * fragment header's offset instead of a length). */
		size_t need = *nh == IPPROTO_FRAGMENT ? 4 : 2, elen;

		if (*off + need > end)
			return CHAIN_BAD;
		if (*off + need > cap)
			return CHAIN_CUT;
		if (*nh == IPPROTO_FRAGMENT) {
			elen = 8;
			if (*off + elen > end)
				return CHAIN_BAD;
			*flags |= NTFW_PKT_FRAG;
			if (rd16(e + 2) & 0xfff8) {
				*nh = e[0];
				*off += elen;
				return CHAIN_LATER;
			}
		} else if (*nh == IPPROTO_AH) {
			elen = ((size_t)e[1] + 2) * 4;
		} else {
			elen = ((size_t)e[1] + 1) * 8;
		}
		/* A first fragment's header may go on in the next fragment:
		 * like ipv6_find_hdr(), which reads only the next-header and
		 * length bytes, step over it; what lies past the fragment is
		 * unknown to the caller. */
		if (*off + elen > end && !(*flags & NTFW_PKT_FRAG))
			return CHAIN_BAD;
		*nh = e[0];
		*off += elen;
	}
	return CHAIN_END;
}

static int icmp_is_echo(uint8_t proto, uint8_t type)
{
	if (proto == IPPROTO_ICMP)
		return type == 0 || type == 8;
	return proto == IPPROTO_ICMPV6 && (type == 128 || type == 129);
}

static int icmp_is_error(uint8_t proto, uint8_t type)
{
	if (proto == IPPROTO_ICMP)
		return type == 3 || type == 4 || type == 5 || type == 11 ||
		       type == 12;
	return proto == IPPROTO_ICMPV6 && type >= 1 && type <= 4;
}

/*
 * The packet an ICMP error quotes, in @q[0..@len) (what was copied of the
 * quote): its addresses, protocol and, as conntrack reads them, the ports
 * (4 bytes of TCP or UDP) or the echo id (8 bytes of ICMP).  A quote too
 * short for them, of another family, or of a later fragment sets nothing:
 * it is still a well-formed ICMP error.
 */
static void parse_quote(const uint8_t *q, size_t len, struct ntfw_pkt *p)
{
	uint8_t nh, flags = 0;
	size_t off, alen;

	if (p->family == 4) {
		if (len < 20 || q[0] >> 4 != 4)
			return;
		off = (size_t)(q[0] & 0x0f) * 4;
		if (off < 20 || off > len || (rd16(q + 6) & 0x1fff))
			return;
		nh = q[9];
		alen = 4;
	} else {
		if (len < IPV6_HDR_LEN || q[0] >> 4 != 6)
			return;
		off = IPV6_HDR_LEN;
		nh = q[6];
		/* The quote is cut where it is cut: its IP length means
		 * nothing here, so both bounds are the quote's end. */
		if (ipv6_walk(q, len, len, &off, &nh, &flags, false) != CHAIN_END ||
		    off > len) /* a quoted fragment's header, stepped over */
			return;
		alen = 16;
	}
	/* ntfw_parse() left the inner fields alone: IPv4 addresses take
	 * 4 of the 16 bytes, and the rest must read as zero. */
	memset(p->inner_src, 0, sizeof(p->inner_src));
	memset(p->inner_dst, 0, sizeof(p->inner_dst));
	p->inner_sport = p->inner_dport = 0;
	switch (nh) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		if (len - off < 4)
			return;
		p->inner_sport = rd16(q + off);
		p->inner_dport = rd16(q + off + 2);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (len - off < 8 || (nh == IPPROTO_ICMP) != (p->family == 4))
			return;
		if (icmp_is_echo(nh, q[off]))
			p->inner_sport = p->inner_dport = rd16(q + off + 4);
		break;
	}
	p->inner_proto = nh;
	memcpy(p->inner_src, p->family == 4 ? q + 12 : q + 8, alen);
	memcpy(p->inner_dst, p->family == 4 ? q + 16 : q + 24, alen);
	p->flags |= NTFW_PKT_INNER;
}

/*
 * Transport header at @off of a whole packet or first fragment.  @end is
 * the IP length, @cap what was copied of it.  Only the fields nft reads
 * are needed: TCP's fixed 20 bytes, UDP's 8, ICMP's type and code.  The
 * IP length cutting them short is malformed; the copy range cutting them
 * short leaves them unknown.
 */
static enum ntfw_malformed parse_l4(const uint8_t *data, size_t off,
				    size_t cap, size_t end, struct ntfw_pkt *p)
{
	const uint8_t *h = data + off;
	size_t need, hlen;

	p->l4_off = (uint16_t)off;
	switch (p->proto) {
	case IPPROTO_TCP:
		need = 20;
		break;
	case IPPROTO_UDP:
		need = 8;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		need = 2;
		break;
	default:
		/* No transport header we know: matches on L3 fields only. */
		p->payload_off = (uint16_t)off;
		p->payload_len = (uint32_t)(end > off ? end - off : 0);
		return NTFW_PKT_OK;
	}
	/* A first fragment may cut the header that the next one goes on
	 * with (nft reads nothing there, and neither do we): unknown. */
	if (off + need > end && !(p->flags & NTFW_PKT_FRAG))
		return NTFW_BAD_L4_HDR;
	if (off + need > cap || off + need > end) {
		p->flags |= NTFW_PKT_L4_UNKNOWN;
		p->payload_off = (uint16_t)min_sz(off + need, UINT16_MAX);
		p->payload_len = (uint32_t)(end > off + need ? end - off - need : 0);
		return NTFW_PKT_OK;
	}
	switch (p->proto) {
	case IPPROTO_TCP:
		/* A data offset below 5 or past the packet does not hide
		 * the ports; the payload starts where the header says, at
		 * least 20 bytes in and at most at the end. */
		hlen = (size_t)(h[12] >> 4) * 4;
		hlen = min_sz(hlen < 20 ? 20 : hlen, end - off);
		p->sport = rd16(h);
		p->dport = rd16(h + 2);
		p->tcp_seq = rd32(h + 4);
		p->tcp_ack = rd32(h + 8);
		p->tcp_flags = h[13];
		p->tcp_win = rd16(h + 14);
		/* Options only as far as they were copied. */
		if (p->tcp_flags & NTFW_TCP_SYN)
			p->tcp_wscale = tcp_wscale(h + 20,
						   min_sz(hlen, cap - off) - 20,
						   hlen - 20);
		break;
	case IPPROTO_UDP:
		/* The length field is not checked: Linux takes a length of 0
		 * (and nft reads the ports) whatever it says; the payload
		 * is what the IP length leaves. */
		hlen = 8;
		p->sport = rd16(h);
		p->dport = rd16(h + 2);
		break;
	default:
		hlen = min_sz(8, end - off);
		p->icmp_type = h[0];
		p->icmp_code = h[1];
		/* Echo id doubles as both "ports" so a ping is one flow. */
		if (icmp_is_echo(p->proto, h[0]) && off + 6 <= cap)
			p->sport = p->dport = rd16(h + 4);
		if (hlen == 8 && cap > off + 8 &&
		    icmp_is_error(p->proto, h[0]) &&
		    (p->proto == IPPROTO_ICMP) == (p->family == 4))
			parse_quote(h + 8, cap - off - 8, p);
		break;
	}
	p->flags |= NTFW_PKT_L4;
	p->payload_off = (uint16_t)(off + hlen);
	p->payload_len = (uint32_t)(end - off - hlen);
	return NTFW_PKT_OK;
}

static enum ntfw_malformed parse_ipv4(const uint8_t *data, size_t caplen,
				      size_t wirelen, struct ntfw_pkt *p)
{
	size_t hlen;
	uint16_t frag;

	if (caplen < 20)
		return NTFW_BAD_IP_HDR;
	hlen = (size_t)(data[0] & 0x0f) * 4;
	if (hlen < 20 || hlen > caplen)
		return NTFW_BAD_IP_HDR;
	p->family = 4;
	p->ip_len = rd16(data + 2);
	if (!p->ip_len && wirelen > IP_LEN_MAX)
		p->ip_len = (uint32_t)wirelen;
	if (p->ip_len < hlen || p->ip_len > wirelen)
		return NTFW_BAD_IP_LEN;
	p->proto = data[9];
	memcpy(p->src, data + 12, 4);
	memcpy(p->dst, data + 16, 4);
	frag = rd16(data + 6);
	if (frag & 0x3fff) /* MF or an offset */
		p->flags |= NTFW_PKT_FRAG;
	if (frag & 0x1fff) {
		/* nft: fragoff != 0, no transport header to read. */
		p->flags |= NTFW_PKT_LATERFRAG;
		p->l4_off = p->payload_off = (uint16_t)hlen;
		p->payload_len = (uint32_t)(p->ip_len - hlen);
		return NTFW_PKT_OK;
	}
	return parse_l4(data, hlen, min_sz(p->ip_len, caplen), p->ip_len, p);
}

static enum ntfw_malformed parse_ipv6(const uint8_t *data, size_t caplen,
				      size_t wirelen, struct ntfw_pkt *p)
{
	size_t off = IPV6_HDR_LEN, cap;
	uint8_t nh;

	if (caplen < IPV6_HDR_LEN)
		return NTFW_BAD_IP_HDR;
	p->family = 6;
	p->ip_len = IPV6_HDR_LEN + rd16(data + 4);
	if (p->ip_len == IPV6_HDR_LEN && wirelen > IPV6_HDR_LEN + IP_LEN_MAX)
		p->ip_len = (uint32_t)wirelen;
	if (p->ip_len > wirelen)
		return NTFW_BAD_IP_LEN;
	memcpy(p->src, data + 8, 16);
	memcpy(p->dst, data + 24, 16);
	cap = min_sz(p->ip_len, caplen);
	nh = data[6];
	switch (ipv6_walk(data, cap, p->ip_len, &off, &nh, &p->flags, true)) {
	case CHAIN_BAD:
		/* A first fragment's chain goes on in the next fragment: the
		 * protocol is unknown (nft's ipv6_find_hdr fails alike and
		 * its address rules still apply), not malformed. */
		if (!(p->flags & NTFW_PKT_FRAG))
			return NTFW_BAD_EXT_HDR;
		/* fall through */
	case CHAIN_CUT:
		/* Which protocol follows is past the copy: rules that name
		 * one are judged by the policy's fail-closed rule. */
		p->proto = nh;
		p->flags |= NTFW_PKT_PROTO_UNKNOWN;
		p->l4_off = p->payload_off = (uint16_t)min_sz(off, UINT16_MAX);
		p->payload_len = (uint32_t)(p->ip_len > off ? p->ip_len - off : 0);
		return NTFW_PKT_OK;
	case CHAIN_LATER:
		p->proto = nh;
		p->flags |= NTFW_PKT_LATERFRAG;
		p->l4_off = p->payload_off = (uint16_t)min_sz(off, UINT16_MAX);
		p->payload_len = (uint32_t)(p->ip_len > off ? p->ip_len - off : 0);
		return NTFW_PKT_OK;
	case CHAIN_END:
		break;
	}
	p->proto = nh;
	/* nft has no transport header past 64 KiB (thoff > U16_MAX). */
	if (off > UINT16_MAX)
		return NTFW_BAD_EXT_HDR;
	if (nh == IPPROTO_NONE) {
		p->l4_off = p->payload_off = (uint16_t)off;
		p->payload_len = (uint32_t)(p->ip_len > off ? p->ip_len - off : 0);
		return NTFW_PKT_OK;
	}
	return parse_l4(data, off, cap, p->ip_len, p);
}

enum ntfw_malformed ntfw_parse(const uint8_t *data, size_t caplen,
			       size_t wirelen, struct ntfw_pkt *p)
{
	uint32_t iif = p->iif, oif = p->oif;
	uint8_t hook = p->hook;

	/*
	 * Metadata is filled in by the caller before parsing.  The inner_*
	 * fields are left as they are: they mean something only with
	 * NTFW_PKT_INNER, and parse_quote() writes all of them first.
	 */
	memset(p, 0, offsetof(struct ntfw_pkt, inner_proto));
	p->tcp_wscale = -1;
	p->iif = iif;
	p->oif = oif;
	p->hook = hook;
	if (wirelen < caplen)
		wirelen = caplen;
	if (caplen < 1)
		return NTFW_BAD_IP_HDR;
	switch (data[0] >> 4) {
	case 4:
		return parse_ipv4(data, caplen, wirelen, p);
	case 6:
		return parse_ipv6(data, caplen, wirelen, p);
	}
	return NTFW_BAD_VERSION;
}
