// SPDX-License-Identifier: GPL-2.0-only
/*
 * Packet parser: IPv4, IPv6 and its extension-header chain, TCP, UDP, ICMP,
 * ICMPv6.  Every read is checked against the captured length first; the
 * packet path relies on this function never faulting whatever it is given.
 */
#include <string.h>
#include <netinet/in.h>

#include "parse.h"

#define IPV6_HDR_LEN 40
#define IPV6_MAX_EXT 16 /* longer chains are treated as an attack */
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

/* The window scale option (RFC 7323) of a SYN, or -1; options are walked
 * within @len bytes only, and a malformed list just ends the walk. */
static int8_t tcp_wscale(const uint8_t *o, size_t len)
{
	size_t i = 0;

	while (i < len) {
		if (o[i] == 0) /* end of options */
			break;
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
	return -1;
}

/*
 * Transport header at @off; @end is the end of the IP packet within the
 * captured bytes.  Only a first fragment or a whole packet gets here.
 */
static enum ntfw_malformed parse_l4(const uint8_t *data, size_t off,
				    size_t end, struct ntfw_pkt *p)
{
	const uint8_t *h = data + off;
	size_t avail = end - off;
	size_t hlen;

	p->l4_off = (uint16_t)off;
	switch (p->proto) {
	case IPPROTO_TCP:
		if (avail < 20)
			return NTFW_BAD_L4_HDR;
		hlen = (size_t)(h[12] >> 4) * 4;
		if (hlen < 20 || hlen > avail)
			return NTFW_BAD_L4_HDR;
		p->sport = rd16(h);
		p->dport = rd16(h + 2);
		p->tcp_seq = rd32(h + 4);
		p->tcp_ack = rd32(h + 8);
		p->tcp_flags = h[13];
		p->tcp_win = rd16(h + 14);
		if (p->tcp_flags & NTFW_TCP_SYN)
			p->tcp_wscale = tcp_wscale(h + 20, hlen - 20);
		break;
	case IPPROTO_UDP:
		hlen = 8;
		if (avail < hlen)
			return NTFW_BAD_L4_HDR;
		/*
		 * A fragment's UDP length covers the whole datagram; otherwise
		 * it must fit the IP packet, of which only @avail bytes may
		 * have been captured.
		 */
		if (!(p->flags & NTFW_PKT_FRAG) &&
		    (rd16(h + 4) < 8 || rd16(h + 4) > p->ip_len - off))
			return NTFW_BAD_L4_HDR;
		p->sport = rd16(h);
		p->dport = rd16(h + 2);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		hlen = 8;
		if (avail < hlen)
			return NTFW_BAD_L4_HDR;
		p->icmp_type = h[0];
		p->icmp_code = h[1];
		/* Echo id doubles as both "ports" so a ping is one flow. */
		if ((p->proto == IPPROTO_ICMP && (h[0] == 0 || h[0] == 8)) ||
		    (p->proto == IPPROTO_ICMPV6 && (h[0] == 128 || h[0] == 129)))
			p->sport = p->dport = rd16(h + 4);
		break;
	default:
		/* No transport header we know: matches on L3 fields only. */
		p->payload_off = (uint16_t)off;
		p->payload_len = (uint32_t)(p->ip_len - off);
		return NTFW_PKT_OK;
	}
	p->flags |= NTFW_PKT_L4;
	p->payload_off = (uint16_t)(off + hlen);
	p->payload_len = (uint32_t)(p->ip_len - off - hlen);
	return NTFW_PKT_OK;
}

static enum ntfw_malformed parse_ipv4(const uint8_t *data, size_t caplen,
				      size_t wirelen, struct ntfw_pkt *p)
{
	size_t hlen, end;
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
		p->flags |= NTFW_PKT_LATERFRAG;
		return NTFW_PKT_OK;
	}
	end = p->ip_len < caplen ? p->ip_len : caplen;
	return parse_l4(data, hlen, end, p);
}

static int ipv6_is_ext(uint8_t nh)
{
	switch (nh) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_FRAGMENT:
	case IPPROTO_DSTOPTS:
	case IPPROTO_AH:
	case 135: /* mobility */
	case 139: /* HIP */
	case 140: /* shim6 */
		return 1;
	}
	return 0;
}

static enum ntfw_malformed parse_ipv6(const uint8_t *data, size_t caplen,
				      size_t wirelen, struct ntfw_pkt *p)
{
	size_t off = IPV6_HDR_LEN, end, elen;
	uint8_t nh;
	int n;

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
	end = p->ip_len < caplen ? p->ip_len : caplen;
	nh = data[6];
	for (n = 0; ipv6_is_ext(nh); n++) {
		const uint8_t *e = data + off;

		if (n == IPV6_MAX_EXT || off + 8 > end)
			return NTFW_BAD_EXT_HDR;
		if (nh == IPPROTO_FRAGMENT) {
			uint16_t fo = rd16(e + 2);

			p->flags |= NTFW_PKT_FRAG;
			elen = 8;
			if (fo & 0xfff8) {
				p->proto = e[0];
				p->flags |= NTFW_PKT_LATERFRAG;
				p->l4_off = p->payload_off = (uint16_t)(off + 8);
				return NTFW_PKT_OK;
			}
		} else if (nh == IPPROTO_AH) {
			elen = ((size_t)e[1] + 2) * 4;
		} else {
			elen = ((size_t)e[1] + 1) * 8;
		}
		if (off + elen > end)
			return NTFW_BAD_EXT_HDR;
		nh = e[0];
		off += elen;
	}
	p->proto = nh;
	if (nh == IPPROTO_NONE) {
		p->l4_off = p->payload_off = (uint16_t)off;
		return NTFW_PKT_OK;
	}
	return parse_l4(data, off, end, p);
}

enum ntfw_malformed ntfw_parse(const uint8_t *data, size_t caplen,
			       size_t wirelen, struct ntfw_pkt *p)
{
	uint32_t iif = p->iif, oif = p->oif;
	uint8_t hook = p->hook;

	/* Metadata is filled in by the caller before parsing. */
	memset(p, 0, sizeof(*p));
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
