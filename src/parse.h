/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_PARSE_H
#define NTFW_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Why a packet could not be parsed; each reason has its own counter. */
enum ntfw_malformed {
	NTFW_PKT_OK = 0,
	NTFW_BAD_VERSION,     /* not IPv4/IPv6, or disagrees with the queue's family */
	NTFW_BAD_IP_HDR,      /* header shorter than its minimum or than the data */
	NTFW_BAD_IP_LEN,      /* total length beyond the packet, or below the header */
	NTFW_BAD_EXT_HDR,     /* an IPv6 extension header runs past the IP length */
	NTFW_BAD_L4_HDR,      /* the IP length cuts the TCP/UDP/ICMP header short */
	NTFW_MALFORMED_MAX,
};

const char *ntfw_malformed_name(enum ntfw_malformed m);

#define NTFW_PKT_FRAG (1u << 0)     /* a fragment, first or later */
#define NTFW_PKT_LATERFRAG (1u << 1) /* fragment offset > 0: no L4 header */
#define NTFW_PKT_L4 (1u << 2)       /* ports / ICMP type / TCP flags valid */
#define NTFW_PKT_INNER (1u << 3)    /* an ICMP error quoting a packet: inner_* valid */
#define NTFW_PKT_L4_UNKNOWN (1u << 4) /* the transport header lies past the copied
				       * bytes: its fields are unknown, not bad */
#define NTFW_PKT_PROTO_UNKNOWN (1u << 5) /* the IPv6 extension chain goes on past
					  * the copied bytes: so does the protocol */

#define NTFW_WSCALE_UNKNOWN (-2)

#define NTFW_TCP_FIN 0x01
#define NTFW_TCP_SYN 0x02
#define NTFW_TCP_RST 0x04
#define NTFW_TCP_PSH 0x08
#define NTFW_TCP_ACK 0x10
#define NTFW_TCP_URG 0x20
#define NTFW_TCP_ECE 0x40
#define NTFW_TCP_CWR 0x80

/*
 * What the policy and the flow code need from one packet.  Addresses are in
 * network order (IPv4 in the first 4 bytes), everything else in host order.
 */
struct ntfw_pkt {
	uint8_t family;		/* 4 or 6 */
	uint8_t proto;		/* nft's meta l4proto: after IPv6 extensions */
	uint8_t flags;		/* NTFW_PKT_* */
	uint8_t tcp_flags;
	uint8_t icmp_type;
	uint8_t icmp_code;
	uint8_t hook;		/* NF_INET_*, or 0xff when unknown */
	uint16_t sport;
	uint16_t dport;		/* ICMP echo: the identifier in both */
	uint16_t tcp_win;
	int8_t tcp_wscale;	/* window scale option of a SYN, -1 if none,
				 * NTFW_WSCALE_UNKNOWN: options not copied */
	uint16_t l4_off;	/* offset of the transport header */
	uint16_t payload_off;	/* offset of the transport payload */
	uint32_t ip_len;	/* IP total length (IPv6: 40 + payload length) */
	uint32_t payload_len;	/* transport payload bytes, from the IP length */
	uint32_t tcp_seq;
	uint32_t tcp_ack;
	uint32_t iif;		/* interface indexes, 0 when none */
	uint32_t oif;
	uint8_t src[16];
	uint8_t dst[16];
	/* The packet an ICMP/ICMPv6 error quotes (NTFW_PKT_INNER): as it was
	 * sent, so its source is this packet's destination. */
	uint8_t inner_proto;
	uint16_t inner_sport, inner_dport;	/* ICMP echo: the id in both */
	uint8_t inner_src[16];
	uint8_t inner_dst[16];
};

/*
 * Parse the network packet at @data.  @caplen bytes are present, @wirelen is
 * the packet's real length (larger when the capture was truncated).  Returns
 * NTFW_PKT_OK or the reason it is malformed; never reads past @caplen.
 * A header that the copy range cut off is not malformed: the packet is OK
 * with NTFW_PKT_L4_UNKNOWN or NTFW_PKT_PROTO_UNKNOWN, and the fields it
 * would have given are 0.
 */
enum ntfw_malformed ntfw_parse(const uint8_t *data, size_t caplen,
			       size_t wirelen, struct ntfw_pkt *p);

#endif
