// SPDX-License-Identifier: GPL-2.0-only
/*
 * Flow features on hand-built packet sequences.  The expected values are
 * what tcptrace 6.6.7 reports for the same sequences (trace.c:dotrace(),
 * rexmit.c), worked out by hand in the comments.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "features.h"
#include "parse.h"
#include "pkt.h"

#define SYN NTFW_TCP_SYN
#define ACK NTFW_TCP_ACK
#define FIN NTFW_TCP_FIN
#define RST NTFW_TCP_RST
#define PSH NTFW_TCP_PSH

#define C2S 0
#define S2C 1

/* A conversation: both sides' next sequence numbers, time in ns. */
struct conv {
	struct ntfw_features f;
	uint32_t seq[2];	/* next sequence number of each side */
	uint64_t now;
};

static uint64_t val(const struct conv *c, enum ntfw_feature id)
{
	return ntfw_feature_value(&c->f, id);
}

/* One TCP packet of @len payload bytes at sequence number @seq. */
static void tcp_at(struct conv *c, int dir, uint8_t flags, uint32_t seq,
		   uint32_t ack, uint32_t len, uint16_t win)
{
	struct ntfw_pkt p = {
		.family = 4,
		.proto = IPPROTO_TCP,
		.flags = NTFW_PKT_L4,
		.tcp_flags = flags,
		.tcp_win = win,
		.tcp_wscale = -1,
		.ip_len = 40 + len,
		.payload_len = len,
		.tcp_seq = seq,
		.tcp_ack = ack,
	};

	c->now += 1000;
	ntfw_features_update(&c->f, &p, dir, c->now, 14 + 40 + len);
}

/* The next packet of @dir: in sequence, acking all the peer sent. */
static void tcp(struct conv *c, int dir, uint8_t flags, uint32_t len)
{
	uint32_t seq = c->seq[dir];

	tcp_at(c, dir, flags, seq, c->seq[!dir], len, 1000);
	c->seq[dir] += len + !!(flags & SYN) + !!(flags & FIN);
}

static void conv_init(struct conv *c, uint32_t cisn, uint32_t sisn)
{
	memset(c, 0, sizeof(*c));
	ntfw_features_init(&c->f);
	c->seq[C2S] = cisn;
	c->seq[S2C] = sisn;
}

static void handshake(struct conv *c, uint32_t cisn, uint32_t sisn)
{
	conv_init(c, cisn, sisn);
	tcp(c, C2S, SYN, 0);
	tcp(c, S2C, SYN | ACK, 0);
	tcp(c, C2S, ACK, 0);
}

static void full_conversation(void **state)
{
	struct conv c;

	handshake(&c, 1000, 5000);
	tcp(&c, C2S, PSH | ACK, 100);	/* request */
	tcp(&c, S2C, ACK, 0);		/* its ACK: closes the client's window */
	tcp(&c, S2C, ACK, 1448);	/* response, two segments */
	tcp(&c, S2C, PSH | ACK, 552);
	tcp(&c, C2S, ACK, 0);		/* acks both: a sample for the last */
	tcp(&c, S2C, FIN | ACK, 0);
	tcp(&c, C2S, FIN | ACK, 0);
	tcp(&c, S2C, ACK, 0);

	assert_int_equal(val(&c, NTFW_F_PKTS_C2S), 5);
	assert_int_equal(val(&c, NTFW_F_PKTS_S2C), 6);
	assert_int_equal(val(&c, NTFW_F_BYTES_C2S), 5 * 40 + 100);
	assert_int_equal(val(&c, NTFW_F_BYTES_S2C), 6 * 40 + 2000);
	assert_int_equal(val(&c, NTFW_F_DATA_PKTS_C2S), 1);
	assert_int_equal(val(&c, NTFW_F_DATA_PKTS_S2C), 2);
	assert_int_equal(val(&c, NTFW_F_DATA_BYTES_C2S), 100);
	assert_int_equal(val(&c, NTFW_F_DATA_BYTES_S2C), 2000);
	assert_int_equal(val(&c, NTFW_F_PUSHED_C2S), 1);
	assert_int_equal(val(&c, NTFW_F_PUSHED_S2C), 1);
	assert_int_equal(val(&c, NTFW_F_SYN_C2S), 1);
	assert_int_equal(val(&c, NTFW_F_SYN_S2C), 1);
	assert_int_equal(val(&c, NTFW_F_FIN_C2S), 1);
	assert_int_equal(val(&c, NTFW_F_FIN_S2C), 1);
	assert_int_equal(val(&c, NTFW_F_RST_C2S), 0);
	assert_int_equal(val(&c, NTFW_F_RST_S2C), 0);
	assert_int_equal(val(&c, NTFW_F_INIT_WIN_BYTES_C2S), 100);
	assert_int_equal(val(&c, NTFW_F_INIT_WIN_PKTS_C2S), 1);
	assert_int_equal(val(&c, NTFW_F_INIT_WIN_BYTES_S2C), 2000);
	assert_int_equal(val(&c, NTFW_F_INIT_WIN_PKTS_S2C), 2);
	assert_int_equal(val(&c, NTFW_F_SYN_WINDOW_C2S), 1000);
	assert_int_equal(val(&c, NTFW_F_SYN_WINDOW_S2C), 1000);
	assert_int_equal(val(&c, NTFW_F_MIN_SEGM_C2S), 100);
	assert_int_equal(val(&c, NTFW_F_MAX_SEGM_C2S), 100);
	assert_int_equal(val(&c, NTFW_F_MIN_SEGM_S2C), 552);
	assert_int_equal(val(&c, NTFW_F_MAX_SEGM_S2C), 1448);
	/* tcptrace's (int)(bytes / (pkts + .001)) */
	assert_int_equal(val(&c, NTFW_F_AVG_SEGM_C2S), 99);
	assert_int_equal(val(&c, NTFW_F_AVG_SEGM_S2C), 999);
	/* SYN, request, FIN; SYN-ACK, the response's last segment, FIN */
	assert_int_equal(val(&c, NTFW_F_RTT_SAMPLES_C2S), 3);
	assert_int_equal(val(&c, NTFW_F_RTT_SAMPLES_S2C), 3);
	assert_int_equal(val(&c, NTFW_F_REXMIT_C2S), 0);
	assert_int_equal(val(&c, NTFW_F_REXMIT_S2C), 0);
	/* c2s IP lengths: 40 four times and 140 */
	assert_int_equal(val(&c, NTFW_F_MED_IP_BYTES_C2S), 40);
	assert_true(ntfw_features_med_exact(&c.f, C2S));
	assert_true(ntfw_features_med_exact(&c.f, S2C));
}

/* The SYN's window and scale: SYN for c2s, SYN-ACK for s2c. */
static void syn_window(void **state)
{
	struct conv c;
	struct ntfw_pkt p = {
		.family = 6, .proto = IPPROTO_TCP, .flags = NTFW_PKT_L4,
		.tcp_flags = SYN, .tcp_win = 64240, .tcp_wscale = 7,
		.ip_len = 60, .tcp_seq = 1,
	};

	conv_init(&c, 1, 100);
	ntfw_features_update(&c.f, &p, C2S, 1, 74);
	p.tcp_flags = SYN | ACK;
	p.tcp_win = 65160;
	p.tcp_wscale = -1;
	p.tcp_seq = 100;
	p.tcp_ack = 2;
	ntfw_features_update(&c.f, &p, S2C, 2, 74);
	/* a retransmitted SYN with another window changes nothing */
	p.tcp_flags = SYN;
	p.tcp_win = 1;
	p.tcp_seq = 1;
	ntfw_features_update(&c.f, &p, C2S, 3, 74);
	assert_int_equal(val(&c, NTFW_F_SYN_WINDOW_C2S), 64240);
	assert_int_equal(val(&c, NTFW_F_SYN_WINDOW_S2C), 65160);
	assert_int_equal(c.f.d[C2S].syn_wscale, 7);
	assert_int_equal(c.f.d[S2C].syn_wscale, -1);
	assert_int_equal(val(&c, NTFW_F_SYN_C2S), 2);
	/* the second SYN covers sequence space sent before */
	assert_int_equal(val(&c, NTFW_F_REXMIT_C2S), 1);
}

/*
 * The initial window counts data until the peer first acks something
 * other than ISN + 1: the handshake ACK and an ACK riding on the first
 * request do not close the server's window, the ACK of data does.
 */
static void initial_window(void **state)
{
	struct conv c;

	handshake(&c, 70000, 90000);
	/* the server talks first (a banner), three segments */
	tcp(&c, S2C, PSH | ACK, 30);
	tcp(&c, S2C, ACK, 1000);
	/* the client sends data acking only the SYN-ACK: still open */
	tcp_at(&c, C2S, PSH | ACK, c.seq[C2S], 90001, 10, 1000);
	c.seq[C2S] += 10;
	/* the server goes on, acking only the client's SYN */
	tcp_at(&c, S2C, ACK, c.seq[S2C], 70001, 500, 1000);
	c.seq[S2C] += 500;
	/* the client acks the server's data: the server's window closes */
	tcp(&c, C2S, ACK, 0);
	tcp_at(&c, S2C, PSH | ACK, c.seq[S2C], 70001, 700, 1000);
	c.seq[S2C] += 700;
	tcp(&c, C2S, ACK, 20);
	/* the server's ACK of the client's data closes the client's */
	tcp(&c, S2C, ACK, 0);
	tcp(&c, C2S, ACK, 30);

	assert_int_equal(val(&c, NTFW_F_INIT_WIN_BYTES_S2C), 1530);
	assert_int_equal(val(&c, NTFW_F_INIT_WIN_PKTS_S2C), 3);
	/* the 10 and 20 byte segments went before the server acked data */
	assert_int_equal(val(&c, NTFW_F_INIT_WIN_BYTES_C2S), 30);
	assert_int_equal(val(&c, NTFW_F_INIT_WIN_PKTS_C2S), 2);
}

/*
 * Retransmissions: counted per packet (SYN and FIN too), kept out of the
 * initial window, and their ACKs give no RTT sample (Karn).
 */
static void retransmissions(void **state)
{
	struct conv c;
	uint32_t s;

	conv_init(&c, 1, 1000);
	tcp_at(&c, C2S, SYN, 1, 0, 0, 1000);
	tcp_at(&c, C2S, SYN, 1, 0, 0, 1000);	/* SYN again */
	c.seq[C2S] = 2;
	tcp(&c, S2C, SYN | ACK, 0);		/* acks a retransmitted SYN */
	tcp(&c, C2S, ACK, 0);
	s = c.seq[S2C];
	tcp(&c, S2C, ACK, 1000);		/* [s, s+1000) */
	tcp(&c, S2C, ACK, 1000);		/* [s+1000, s+2000) */
	tcp_at(&c, S2C, ACK, s, 2, 1000, 1000);	/* the first again */
	tcp_at(&c, S2C, ACK, s + 1500, 2, 1000, 1000); /* half old, half new */
	c.seq[S2C] = s + 2500;
	/* acks all: the new half, sent with the retransmission, samples */
	tcp_at(&c, C2S, ACK, 2, s + 2500, 0, 1000);
	tcp(&c, S2C, ACK, 1000);		/* new, after the ack */
	tcp(&c, C2S, ACK, 0);			/* a sample */
	tcp(&c, S2C, FIN | ACK, 0);
	tcp_at(&c, S2C, FIN | ACK, c.seq[S2C] - 1, 2, 0, 1000); /* FIN again */
	tcp(&c, C2S, ACK, 0);			/* acks a retransmitted FIN */

	assert_int_equal(val(&c, NTFW_F_REXMIT_C2S), 1);
	assert_int_equal(val(&c, NTFW_F_REXMIT_S2C), 3);
	assert_int_equal(val(&c, NTFW_F_DATA_PKTS_S2C), 5);
	assert_int_equal(val(&c, NTFW_F_DATA_BYTES_S2C), 5000);
	/* two new segments before the first data ACK; retransmissions not */
	assert_int_equal(val(&c, NTFW_F_INIT_WIN_PKTS_S2C), 2);
	assert_int_equal(val(&c, NTFW_F_INIT_WIN_BYTES_S2C), 2000);
	/* SYN-ACK, the new half, the last segment; not the FIN */
	assert_int_equal(val(&c, NTFW_F_RTT_SAMPLES_S2C), 3);
	assert_int_equal(val(&c, NTFW_F_RTT_SAMPLES_C2S), 0);
}

/*
 * Karn and tcptrace's "intervening transmissions": a segment sent before
 * the retransmission of an earlier one gives no sample either, one sent
 * after does.  A cumulative ACK samples only the segment it ends.
 */
static void rtt_samples(void **state)
{
	struct conv c;
	uint32_t s;

	handshake(&c, 10, 20);
	s = c.seq[C2S];
	tcp(&c, C2S, ACK, 100);			/* A [s, s+100) */
	tcp(&c, C2S, ACK, 100);			/* B */
	tcp(&c, C2S, ACK, 100);			/* C */
	tcp_at(&c, S2C, ACK, 21, s + 100, 0, 1000); /* A acked: sample */
	tcp_at(&c, C2S, ACK, s + 100, 21, 100, 1000); /* B again */
	tcp(&c, C2S, ACK, 100);			/* D, after the rexmit */
	tcp_at(&c, S2C, ACK, 21, s + 300, 0, 1000); /* C: B resent later */
	tcp_at(&c, S2C, ACK, 21, s + 400, 0, 1000); /* D: sample */
	tcp(&c, C2S, ACK, 100);			/* E */
	tcp(&c, C2S, ACK, 100);			/* F */
	tcp(&c, C2S, ACK, 100);			/* G */
	tcp_at(&c, S2C, ACK, 21, s + 700, 0, 1000); /* E-G: one sample */
	tcp_at(&c, S2C, ACK, 21, s + 700, 0, 1000); /* duplicate: none */
	tcp_at(&c, S2C, ACK, 21, s + 650, 0, 1000); /* old: none */
	tcp(&c, C2S, ACK, 100);			/* H */
	tcp_at(&c, S2C, ACK, 21, s + 900, 0, 1000); /* beyond H: none */
	/* handshake: SYN-ACK sample for s2c, SYN sample for c2s */
	assert_int_equal(val(&c, NTFW_F_RTT_SAMPLES_C2S), 1 + 3);
	assert_int_equal(val(&c, NTFW_F_RTT_SAMPLES_S2C), 1);
	assert_int_equal(val(&c, NTFW_F_REXMIT_C2S), 1);
}

/* Segments reordered before the capture point fill a gap: new data. */
static void reordered(void **state)
{
	struct conv c;
	uint32_t s;

	handshake(&c, 100, 200);
	s = c.seq[S2C];
	tcp_at(&c, S2C, ACK, s, 101, 1000, 1000);	     /* A */
	tcp_at(&c, S2C, ACK, s + 2000, 101, 1000, 1000); /* C */
	tcp_at(&c, S2C, ACK, s + 1000, 101, 1000, 1000); /* B fills the gap */
	tcp_at(&c, C2S, ACK, 101, s + 1000, 0, 1000);	/* A: sample */
	tcp_at(&c, C2S, ACK, 101, s + 2000, 0, 1000);	/* B: sample */
	tcp_at(&c, C2S, ACK, 101, s + 3000, 0, 1000);	/* C: sent before B */
	assert_int_equal(val(&c, NTFW_F_REXMIT_S2C), 0);
	assert_int_equal(val(&c, NTFW_F_RTT_SAMPLES_S2C), 1 + 2);
	assert_int_equal(val(&c, NTFW_F_INIT_WIN_PKTS_S2C), 3);
	/* B again is a retransmission */
	tcp_at(&c, S2C, ACK, s + 1000, 101, 1000, 1000);
	assert_int_equal(val(&c, NTFW_F_REXMIT_S2C), 1);
}

/* While the peer's window is zero, data is a probe, not a rexmit. */
static void window_probe(void **state)
{
	struct conv c;
	uint32_t s;

	handshake(&c, 100, 200);
	s = c.seq[C2S];
	tcp(&c, C2S, ACK, 1000);
	tcp_at(&c, S2C, ACK, 201, s + 1000, 0, 0);	/* window 0 */
	tcp_at(&c, C2S, ACK, s + 999, 201, 1, 1000);	/* a byte again */
	tcp_at(&c, C2S, ACK, s + 999, 201, 1, 1000);
	tcp_at(&c, S2C, ACK, 201, s + 1000, 0, 1000);	/* open again */
	tcp_at(&c, C2S, ACK, s + 999, 201, 1, 1000);	/* now a rexmit */
	assert_int_equal(val(&c, NTFW_F_REXMIT_C2S), 1);
	assert_int_equal(val(&c, NTFW_F_DATA_PKTS_C2S), 4);
}

/* PSH without payload is not a pushed data packet. */
static void pushed(void **state)
{
	struct conv c;

	handshake(&c, 1, 2);
	tcp(&c, C2S, PSH | ACK, 0);
	tcp(&c, C2S, PSH | ACK, 1);
	tcp(&c, C2S, ACK, 5);
	tcp(&c, C2S, PSH | FIN | ACK, 7);	/* data with FIN is data */
	assert_int_equal(val(&c, NTFW_F_PUSHED_C2S), 2);
	assert_int_equal(val(&c, NTFW_F_DATA_PKTS_C2S), 3);
	assert_int_equal(val(&c, NTFW_F_DATA_BYTES_C2S), 13);
	assert_int_equal(val(&c, NTFW_F_MIN_SEGM_C2S), 1);
	assert_int_equal(val(&c, NTFW_F_MAX_SEGM_C2S), 7);
	assert_int_equal(val(&c, NTFW_F_AVG_SEGM_C2S), 4);
}

/* Data on a SYN (TCP Fast Open) and on a FIN is data like any other. */
static void syn_fin_data(void **state)
{
	struct conv c;

	conv_init(&c, 300, 600);
	tcp(&c, C2S, SYN, 20);
	tcp(&c, S2C, SYN | ACK, 0);	/* acks the SYN and its data */
	tcp(&c, C2S, ACK, 0);
	tcp(&c, S2C, PSH | FIN | ACK, 50);
	tcp(&c, C2S, FIN | ACK, 0);
	tcp(&c, S2C, ACK, 0);
	assert_int_equal(val(&c, NTFW_F_DATA_PKTS_C2S), 1);
	assert_int_equal(val(&c, NTFW_F_DATA_BYTES_C2S), 20);
	assert_int_equal(val(&c, NTFW_F_INIT_WIN_BYTES_C2S), 20);
	assert_int_equal(val(&c, NTFW_F_PUSHED_C2S), 0);
	assert_int_equal(val(&c, NTFW_F_PUSHED_S2C), 1);
	assert_int_equal(val(&c, NTFW_F_INIT_WIN_BYTES_S2C), 50);
	assert_int_equal(val(&c, NTFW_F_RTT_SAMPLES_C2S), 2);
	assert_int_equal(val(&c, NTFW_F_RTT_SAMPLES_S2C), 2);
}

/*
 * No SYN seen: no SYN window, and tcptrace's ISN is 0, so that any ACK
 * but 1 closes the initial window.
 */
static void midstream(void **state)
{
	struct conv c;

	conv_init(&c, 5000, 9000);
	tcp(&c, S2C, ACK, 100);	/* its ACK (5000) closes the client's window */
	tcp(&c, S2C, ACK, 100);
	tcp(&c, C2S, ACK, 0);	/* closes the server's */
	tcp(&c, S2C, ACK, 100);
	tcp(&c, C2S, ACK, 10);
	tcp(&c, S2C, ACK, 0);
	assert_int_equal(val(&c, NTFW_F_SYN_WINDOW_C2S), 0);
	assert_int_equal(val(&c, NTFW_F_SYN_WINDOW_S2C), 0);
	assert_int_equal(val(&c, NTFW_F_INIT_WIN_PKTS_S2C), 2);
	assert_int_equal(val(&c, NTFW_F_INIT_WIN_BYTES_S2C), 200);
	assert_int_equal(val(&c, NTFW_F_INIT_WIN_PKTS_C2S), 0);
	/* the ACKs of the second and third segments, of the 10 bytes */
	assert_int_equal(val(&c, NTFW_F_RTT_SAMPLES_S2C), 2);
	assert_int_equal(val(&c, NTFW_F_RTT_SAMPLES_C2S), 1);
}

/* RST: counted, its data counted, but it neither closes nor joins the
 * initial window (dotrace() returns early). */
static void reset(void **state)
{
	struct conv c;

	handshake(&c, 1, 2);
	tcp(&c, S2C, ACK, 100);
	tcp(&c, C2S, RST | ACK, 5);	/* acks the data: window stays open */
	tcp(&c, S2C, ACK, 100);
	assert_int_equal(val(&c, NTFW_F_RST_C2S), 1);
	assert_int_equal(val(&c, NTFW_F_DATA_PKTS_C2S), 1);
	assert_int_equal(val(&c, NTFW_F_INIT_WIN_PKTS_C2S), 0);
	assert_int_equal(val(&c, NTFW_F_INIT_WIN_PKTS_S2C), 2);
	/* but the RST's ACK is an ACK for the RTT */
	assert_int_equal(val(&c, NTFW_F_RTT_SAMPLES_S2C), 2);
}

/*
 * Near 2^32: ISN 0xffffffff is acked by 0, a segment across 2^32 is one
 * segment, retransmissions are found on both sides of the wrap.
 */
static void wraparound(void **state)
{
	struct conv c;

	handshake(&c, 0xffffffffu, 0xfffff800u);
	assert_int_equal(c.seq[C2S], 0);
	tcp(&c, C2S, ACK, 10);		/* the handshake ACK left it open */
	tcp(&c, S2C, ACK, 3000);	/* [0xfffff801, 0x000003b9) wraps */
	tcp(&c, C2S, ACK, 0);		/* acks it: a sample */
	tcp(&c, S2C, ACK, 1000);
	tcp(&c, C2S, ACK, 0);		/* sample */
	tcp_at(&c, S2C, ACK, 0xfffffff0u, 10, 100, 1000); /* across the wrap */
	tcp_at(&c, S2C, ACK, 0x100, 10, 100, 1000); /* the wrapped part */
	tcp_at(&c, S2C, ACK, 0x400, 10, 100, 1000);
	assert_int_equal(val(&c, NTFW_F_INIT_WIN_PKTS_C2S), 1);
	assert_int_equal(val(&c, NTFW_F_INIT_WIN_BYTES_C2S), 10);
	assert_int_equal(val(&c, NTFW_F_INIT_WIN_PKTS_S2C), 1);
	assert_int_equal(val(&c, NTFW_F_REXMIT_S2C), 3);
	/* the SYN is acked by 0, a multiple of 2^30 that tcptrace looks up
	 * in the quadrant after the SYN's: no sample; the 10 bytes: one */
	assert_int_equal(val(&c, NTFW_F_RTT_SAMPLES_C2S), 0 + 1);
	/* SYN-ACK, the segment across the wrap, the next one */
	assert_int_equal(val(&c, NTFW_F_RTT_SAMPLES_S2C), 3);
}

/* An ACK that ends a segment on a 2^30 boundary gives no sample. */
static void quadrant_boundary(void **state)
{
	struct conv c;

	handshake(&c, 0x3ffffc00u, 7);
	tcp(&c, C2S, ACK, 0x3ff);	/* ends at 0x40000000 */
	tcp(&c, S2C, ACK, 0);
	tcp(&c, C2S, ACK, 100);
	tcp(&c, S2C, ACK, 0);
	assert_int_equal(val(&c, NTFW_F_RTT_SAMPLES_C2S), 1 + 1);
}

/*
 * An ACK that ends inside a segment (a TSO super-segment seen at the
 * sender, a data + FIN segment acked before its FIN) acks it
 * cumulatively: no sample, and the ACK of its end is a duplicate
 * (rexmit.c:ack_in()).  tcptrace 6.6.7 on the same packets agrees.
 */
static void ack_inside_segment(void **state)
{
	struct conv c;
	uint32_t s;

	handshake(&c, 100, 500);
	s = c.seq[S2C];
	tcp(&c, S2C, ACK, 4000);
	tcp_at(&c, C2S, ACK, 101, s + 2000, 0, 1000);	/* inside */
	tcp_at(&c, C2S, ACK, 101, s + 4000, 0, 1000);	/* its end */
	tcp(&c, S2C, ACK, 1000);
	tcp(&c, C2S, ACK, 0);				/* a sample */
	/* data + FIN: the data acked first, then the FIN */
	tcp(&c, S2C, FIN | ACK, 100);
	tcp_at(&c, C2S, ACK, 101, c.seq[S2C] - 1, 0, 1000);
	tcp(&c, C2S, ACK, 0);
	/* SYN-ACK and the 1000 bytes */
	assert_int_equal(val(&c, NTFW_F_RTT_SAMPLES_S2C), 2);
	assert_int_equal(val(&c, NTFW_F_REXMIT_S2C), 0);
}

/* A SYN is never a window probe: retransmitted after a SYN-ACK with
 * window 0, it is a retransmission; data or a FIN then is a probe. */
static void syn_zero_window(void **state)
{
	struct conv c;

	conv_init(&c, 100, 500);
	tcp_at(&c, C2S, SYN, 100, 0, 0, 1000);
	tcp_at(&c, S2C, SYN | ACK, 500, 101, 0, 0);
	tcp_at(&c, C2S, SYN, 100, 0, 0, 1000);
	assert_int_equal(val(&c, NTFW_F_REXMIT_C2S), 1);
	tcp_at(&c, C2S, ACK, 101, 501, 10, 1000);
	tcp_at(&c, C2S, ACK, 101, 501, 10, 1000);
	tcp_at(&c, C2S, FIN | ACK, 111, 501, 0, 1000);
	tcp_at(&c, C2S, FIN | ACK, 111, 501, 0, 1000);
	assert_int_equal(val(&c, NTFW_F_REXMIT_C2S), 1);
}

/*
 * Several holes at once (segments lost before the capture point): data
 * filling each is new, data sent into a filled one again is not, and the
 * ACKs of segments sent before a filler give no sample.
 */
static void several_holes(void **state)
{
	struct conv c;
	uint32_t s;

	handshake(&c, 100, 500);
	s = c.seq[S2C];
	tcp_at(&c, S2C, ACK, s, 101, 100, 1000);
	tcp_at(&c, S2C, ACK, s + 200, 101, 100, 1000);
	tcp_at(&c, S2C, ACK, s + 400, 101, 100, 1000);
	tcp_at(&c, S2C, ACK, s + 100, 101, 100, 1000);	/* fills hole 1 */
	tcp_at(&c, S2C, ACK, s + 300, 101, 100, 1000);	/* fills hole 2 */
	tcp_at(&c, C2S, ACK, 101, s + 100, 0, 1000);	/* sample */
	tcp_at(&c, C2S, ACK, 101, s + 200, 0, 1000);	/* the filler: sample */
	tcp_at(&c, C2S, ACK, 101, s + 300, 0, 1000);	/* sent before it */
	tcp_at(&c, C2S, ACK, 101, s + 400, 0, 1000);	/* the filler: sample */
	tcp_at(&c, C2S, ACK, 101, s + 500, 0, 1000);	/* sent before it */
	assert_int_equal(val(&c, NTFW_F_REXMIT_S2C), 0);
	assert_int_equal(val(&c, NTFW_F_INIT_WIN_PKTS_S2C), 5);
	assert_int_equal(val(&c, NTFW_F_RTT_SAMPLES_S2C), 1 + 3);

	/* four holes, filled in pieces and out of order */
	handshake(&c, 100, 500);
	s = c.seq[S2C];
	tcp_at(&c, S2C, ACK, s, 101, 100, 1000);
	tcp_at(&c, S2C, ACK, s + 200, 101, 100, 1000);
	tcp_at(&c, S2C, ACK, s + 400, 101, 100, 1000);
	tcp_at(&c, S2C, ACK, s + 600, 101, 100, 1000);
	/* the data below the first hole acked: four fit (features.c) */
	tcp_at(&c, C2S, ACK, 101, s + 100, 0, 1000);
	tcp_at(&c, S2C, ACK, s + 800, 101, 100, 1000);
	tcp_at(&c, S2C, ACK, s + 700, 101, 100, 1000);
	tcp_at(&c, S2C, ACK, s + 300, 101, 50, 1000);
	tcp_at(&c, S2C, ACK, s + 100, 101, 100, 1000);
	tcp_at(&c, S2C, ACK, s + 350, 101, 50, 1000);
	tcp_at(&c, S2C, ACK, s + 500, 101, 100, 1000);
	assert_int_equal(val(&c, NTFW_F_REXMIT_S2C), 0);
	tcp_at(&c, S2C, ACK, s + 300, 101, 50, 1000);	/* again */
	assert_int_equal(val(&c, NTFW_F_REXMIT_S2C), 1);
	/* the ACK closed the initial window after four */
	assert_int_equal(val(&c, NTFW_F_INIT_WIN_PKTS_S2C), 4);
}

/* A SYN again with another ISN: the initial window follows the new one
 * (tcptrace's syn is the last SYN's). */
static void new_isn(void **state)
{
	struct conv c;

	conv_init(&c, 9000, 500);
	tcp_at(&c, C2S, SYN, 100, 0, 0, 1000);
	tcp(&c, C2S, SYN, 0);			/* ISN 9000 */
	tcp(&c, S2C, SYN | ACK, 0);
	tcp(&c, C2S, ACK, 0);
	tcp(&c, C2S, PSH | ACK, 10);
	tcp(&c, S2C, ACK, 0);
	assert_int_equal(val(&c, NTFW_F_REXMIT_C2S), 0);
	assert_int_equal(val(&c, NTFW_F_INIT_WIN_PKTS_C2S), 1);
	assert_int_equal(val(&c, NTFW_F_INIT_WIN_BYTES_C2S), 10);
	/* the new SYN and the 10 bytes */
	assert_int_equal(val(&c, NTFW_F_RTT_SAMPLES_C2S), 2);
}

/* A retransmission in the same microsecond as a segment sent before it
 * does not spoil that segment's sample: tcptrace compares times. */
static void same_microsecond(void **state)
{
	struct conv c;
	uint32_t s;

	handshake(&c, 100, 500);
	s = c.seq[S2C];
	tcp(&c, S2C, ACK, 100);
	tcp(&c, S2C, ACK, 100);
	c.now -= 1000;				/* the same microsecond */
	tcp_at(&c, S2C, ACK, s, 101, 100, 1000);
	tcp_at(&c, C2S, ACK, 101, s + 100, 0, 1000);	/* retransmitted */
	tcp_at(&c, C2S, ACK, 101, s + 200, 0, 1000);	/* a sample */
	assert_int_equal(val(&c, NTFW_F_REXMIT_S2C), 1);
	assert_int_equal(val(&c, NTFW_F_RTT_SAMPLES_S2C), 1 + 1);
	/* a microsecond later, it would have spoilt it */
	handshake(&c, 100, 500);
	tcp(&c, S2C, ACK, 100);
	tcp(&c, S2C, ACK, 100);
	tcp_at(&c, S2C, ACK, s, 101, 100, 1000);
	tcp_at(&c, C2S, ACK, 101, s + 100, 0, 1000);
	tcp_at(&c, C2S, ACK, 101, s + 200, 0, 1000);
	assert_int_equal(val(&c, NTFW_F_RTT_SAMPLES_S2C), 1);
}

/* avg_segm is tcptrace's (int)(bytes / (pkts + .001)). */
static void avg_segm(void **state)
{
	struct conv c;

	handshake(&c, 100, 500);
	assert_int_equal(val(&c, NTFW_F_AVG_SEGM_S2C), 0);
	tcp(&c, S2C, ACK, 1448);
	assert_int_equal(val(&c, NTFW_F_AVG_SEGM_S2C), 1446);
	tcp(&c, S2C, ACK, 1448);
	tcp(&c, S2C, ACK, 1448);
	/* 4344 / 3.001 = 1447.5 */
	assert_int_equal(val(&c, NTFW_F_AVG_SEGM_S2C), 1447);
}

static void median(void **state)
{
	struct ntfw_features f;
	struct ntfw_pkt p = { .family = 4, .proto = IPPROTO_UDP,
			      .flags = NTFW_PKT_L4 };
	unsigned int i;

	ntfw_features_init(&f);
	assert_int_equal(ntfw_feature_value(&f, NTFW_F_MED_IP_BYTES_C2S), 0);
	/* 100, 300, 200, 400: even count, the lower middle value */
	for (i = 0; i < 4; i++) {
		p.ip_len = (uint32_t[]){ 100, 300, 200, 400 }[i];
		ntfw_features_update(&f, &p, C2S, i, p.ip_len + 14);
	}
	assert_int_equal(ntfw_feature_value(&f, NTFW_F_MED_IP_BYTES_C2S), 200);
	p.ip_len = 250;
	ntfw_features_update(&f, &p, C2S, 9, 264);
	assert_int_equal(ntfw_feature_value(&f, NTFW_F_MED_IP_BYTES_C2S), 250);
	assert_true(ntfw_features_med_exact(&f, C2S));

	/* up to 32 packets in all, both directions stay exact */
	for (i = 0; i < 20; i++) {
		p.ip_len = 1000 + i;
		ntfw_features_update(&f, &p, S2C, i, p.ip_len + 14);
	}
	for (i = 0; i < 7; i++) {
		p.ip_len = 52;
		ntfw_features_update(&f, &p, C2S, i, 66);
	}
	assert_true(ntfw_features_med_exact(&f, C2S));
	assert_true(ntfw_features_med_exact(&f, S2C));
	assert_int_equal(ntfw_feature_value(&f, NTFW_F_MED_IP_BYTES_C2S), 52);
	assert_int_equal(ntfw_feature_value(&f, NTFW_F_MED_IP_BYTES_S2C), 1009);
	/* the 33rd: the direction with more values gives way */
	p.ip_len = 1040;
	ntfw_features_update(&f, &p, S2C, 99, 1054);
	assert_true(ntfw_features_med_exact(&f, C2S));
	assert_false(ntfw_features_med_exact(&f, S2C));
	/* 21 values in [1000, 1040], the median 1010: ranks 0-19 fall in
	 * the bucket [768, 1024), estimated within it */
	assert_in_range(ntfw_feature_value(&f, NTFW_F_MED_IP_BYTES_S2C), 768,
			1024);
	/* c2s keeps up to 16 exact values */
	for (i = 0; i < 4; i++) {
		p.ip_len = 52;
		ntfw_features_update(&f, &p, C2S, i, 66);
	}
	assert_true(ntfw_features_med_exact(&f, C2S));
	assert_int_equal(f.d[C2S].pkts, 16);
	assert_int_equal(ntfw_feature_value(&f, NTFW_F_MED_IP_BYTES_C2S), 52);
	p.ip_len = 1500;
	ntfw_features_update(&f, &p, C2S, 99, 1514);
	assert_false(ntfw_features_med_exact(&f, C2S));
	assert_in_range(ntfw_feature_value(&f, NTFW_F_MED_IP_BYTES_C2S), 48, 64);
	/* a long flow of 1500-byte packets and ACKs: 1500 exactly, as
	 * 1500 has a bucket of its own; counters halve, never overflow */
	for (i = 0; i < 300000; i++) {
		p.ip_len = i % 3 ? 1500 : 52;
		ntfw_features_update(&f, &p, S2C, i, p.ip_len + 14);
	}
	assert_int_equal(ntfw_feature_value(&f, NTFW_F_MED_IP_BYTES_S2C), 1500);
}

static void median_one_direction(void **state)
{
	struct ntfw_features f;
	struct ntfw_pkt p = { .family = 4, .proto = IPPROTO_UDP,
			      .flags = NTFW_PKT_L4 };
	unsigned int i;

	ntfw_features_init(&f);
	/* a one-way flow is exact for 32 packets */
	for (i = 1; i <= 32; i++) {
		p.ip_len = 33 - i;	/* 32 .. 1 */
		ntfw_features_update(&f, &p, S2C, i, 100);
	}
	assert_true(ntfw_features_med_exact(&f, S2C));
	assert_int_equal(ntfw_feature_value(&f, NTFW_F_MED_IP_BYTES_S2C), 16);
	p.ip_len = 70000; /* beyond 16 bits (IPv6), clamped */
	ntfw_features_update(&f, &p, S2C, 33, 100);
	assert_false(ntfw_features_med_exact(&f, S2C));
	assert_true(ntfw_features_med_exact(&f, C2S));
	/* the other direction now has half the slots */
	for (i = 0; i < 16; i++) {
		p.ip_len = 40;
		ntfw_features_update(&f, &p, C2S, i, 54);
	}
	assert_true(ntfw_features_med_exact(&f, C2S));
	assert_int_equal(ntfw_feature_value(&f, NTFW_F_MED_IP_BYTES_C2S), 40);
	assert_in_range(ntfw_feature_value(&f, NTFW_F_MED_IP_BYTES_S2C), 1, 48);
}

static void variance(void **state)
{
	struct ntfw_features f;
	struct ntfw_pkt p = { .family = 4, .proto = IPPROTO_TCP,
			      .flags = NTFW_PKT_L4, .ip_len = 40 };

	ntfw_features_init(&f);
	ntfw_features_update(&f, &p, C2S, 1, 60);
	assert_int_equal(ntfw_feature_value(&f, NTFW_F_VAR_WIRE_BYTES_C2S), 0);
	ntfw_features_update(&f, &p, C2S, 2, 1514);
	/* mean 787, deviations 727: 528529 */
	assert_int_equal(ntfw_feature_value(&f, NTFW_F_VAR_WIRE_BYTES_C2S),
			 528529);
	ntfw_features_update(&f, &p, C2S, 3, 60);
	/* 60, 1514, 60: (3 * 2299396 - 1634^2) / 9 = 469803.5... */
	assert_int_equal(ntfw_feature_value(&f, NTFW_F_VAR_WIRE_BYTES_C2S),
			 469803);
	assert_int_equal(ntfw_feature_value(&f, NTFW_F_VAR_WIRE_BYTES_S2C), 0);
}

/* Not TCP, or a later fragment: what applies, nothing else. */
static void not_tcp(void **state)
{
	struct ntfw_features f;
	struct ntfw_pkt p = { .family = 4, .proto = IPPROTO_UDP,
			      .flags = NTFW_PKT_L4, .ip_len = 128,
			      .payload_len = 100, .tcp_flags = 0xff };

	ntfw_features_init(&f);
	ntfw_features_update(&f, &p, C2S, 1, 142);
	p.flags = NTFW_PKT_FRAG | NTFW_PKT_LATERFRAG;
	p.payload_len = 1480;
	p.ip_len = 1500;
	ntfw_features_update(&f, &p, C2S, 2, 1514);
	assert_int_equal(ntfw_feature_value(&f, NTFW_F_PKTS_C2S), 2);
	assert_int_equal(ntfw_feature_value(&f, NTFW_F_BYTES_C2S), 1628);
	assert_int_equal(ntfw_feature_value(&f, NTFW_F_DATA_PKTS_C2S), 1);
	assert_int_equal(ntfw_feature_value(&f, NTFW_F_DATA_BYTES_C2S), 100);
	assert_int_equal(ntfw_feature_value(&f, NTFW_F_PUSHED_C2S), 0);
	assert_int_equal(ntfw_feature_value(&f, NTFW_F_SYN_C2S), 0);
	assert_int_equal(ntfw_feature_value(&f, NTFW_F_RST_C2S), 0);
	assert_int_equal(ntfw_feature_value(&f, NTFW_F_INIT_WIN_PKTS_C2S), 0);
}

/* Through the parser, as the daemon and -r feed it. */
static void parsed_packets(void **state)
{
	static const struct tcp_opts o[] = {
		{ .sport = 40000, .dport = 80, .seq = 7, .flags = SYN, .win = 512 },
		{ .sport = 80, .dport = 40000, .seq = 99, .ack = 8, .flags = SYN | ACK, .win = 256 },
		{ .sport = 40000, .dport = 80, .seq = 8, .ack = 100, .flags = ACK | PSH },
	};
	struct ntfw_features f;
	uint8_t b[PKT_MAX];
	unsigned int i;

	ntfw_features_init(&f);
	for (i = 0; i < 3; i++) {
		struct ntfw_pkt p;
		size_t n = pkt_tcp6(b, i == 1 ? "fd00::1" : "fd00::2",
				    i == 1 ? "fd00::2" : "fd00::1", &o[i],
				    i == 2 ? 33 : 0);

		assert_int_equal(ntfw_parse(b, n, n, &p), NTFW_PKT_OK);
		ntfw_features_update(&f, &p, i == 1, i, (uint32_t)n + 14);
	}
	assert_int_equal(ntfw_feature_value(&f, NTFW_F_BYTES_C2S), 60 + 93);
	assert_int_equal(ntfw_feature_value(&f, NTFW_F_PUSHED_C2S), 1);
	assert_int_equal(ntfw_feature_value(&f, NTFW_F_SYN_WINDOW_C2S), 512);
	assert_int_equal(ntfw_feature_value(&f, NTFW_F_SYN_WINDOW_S2C), 256);
	assert_int_equal(ntfw_feature_value(&f, NTFW_F_RTT_SAMPLES_C2S), 1);
	assert_int_equal(ntfw_feature_value(&f, NTFW_F_RTT_SAMPLES_S2C), 1);
	assert_int_equal(ntfw_feature_value(&f, NTFW_F_INIT_WIN_BYTES_C2S), 33);
	assert_int_equal(f.d[C2S].syn_wscale, -1);
}

static void names(void **state)
{
	int i;

	assert_string_equal(ntfw_feature_name(NTFW_F_PKTS_C2S), "pkts_c2s");
	assert_string_equal(ntfw_feature_name(NTFW_F_REXMIT_S2C), "rexmit_s2c");
	assert_string_equal(ntfw_feature_name(NTFW_F__MAX), "unknown");
	for (i = 0; i < NTFW_F__MAX; i++) {
		const char *n = ntfw_feature_name(i);

		assert_int_equal(ntfw_feature_lookup(n, strlen(n)), i);
	}
	/* the name is @len bytes of a longer string (the config's line) */
	assert_int_equal(ntfw_feature_lookup("pushed_c2s > 3", 10),
			 NTFW_F_PUSHED_C2S);
	assert_int_equal(ntfw_feature_lookup("pushed_c2", 9), -1);
	assert_int_equal(ntfw_feature_lookup("pushed_c2s", 11), -1);
	assert_int_equal(ntfw_feature_lookup("med_ip_bytes_c2s_exact", 22), -1);
	assert_int_equal(ntfw_feature_lookup("", 0), -1);
	assert_int_equal(ntfw_feature_lookup("duration", 8), -1);
}

static void export(void **state)
{
	struct conv c;
	char buf[2048], small[16];
	const char *h = ntfw_features_csv_header(), *s, *e;
	int n, commas = 0;

	handshake(&c, 1, 2);
	tcp(&c, C2S, PSH | ACK, 10);
	n = ntfw_features_json(&c.f, buf, sizeof(buf));
	assert_int_equal(n, (int)strlen(buf));
	s = "\"pkts_c2s\":3,\"pkts_s2c\":1,\"bytes_c2s\":130,";
	assert_true(!strncmp(buf, s, strlen(s)));
	assert_non_null(strstr(buf, ",\"med_ip_bytes_c2s\":40,\"med_ip_bytes_s2c\":40,"
				    "\"med_ip_bytes_c2s_exact\":true,"
				    "\"med_ip_bytes_s2c_exact\":true,"
				    "\"var_wire_bytes_c2s\":"));
	assert_non_null(strstr(buf, ",\"rexmit_c2s\":0,\"rexmit_s2c\":0"));
	assert_int_equal(buf[n - 1], '0');

	/* CSV: the same values in the same order, under the header */
	n = ntfw_features_csv(&c.f, buf, sizeof(buf));
	assert_int_equal(n, (int)strlen(buf));
	assert_true(!strncmp(buf, "3,1,130,40,", 11));
	for (s = buf; *s; s++)
		commas += *s == ',';
	for (s = h; *s; s++)
		commas -= *s == ',';
	assert_int_equal(commas, 0);
	assert_non_null(strstr(h, "med_ip_bytes_s2c,med_ip_bytes_c2s_exact,"
				  "med_ip_bytes_s2c_exact,var_wire_bytes_c2s"));
	/* every name of the enum, in order */
	s = h;
	for (n = 0; n < NTFW_F__MAX; n++) {
		const char *name = ntfw_feature_name(n);

		e = strstr(s, name);
		assert_non_null(e);
		s = e + strlen(name);
	}
	assert_non_null(strstr(buf, ",true,true,"));

	/* snprintf-like: the length of everything, a terminated prefix */
	n = ntfw_features_csv(&c.f, small, sizeof(small));
	assert_int_equal(n, (int)strlen(buf));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, buf, sizeof(small) - 1);
	assert_int_equal(ntfw_features_json(&c.f, NULL, 0),
			 ntfw_features_json(&c.f, buf, sizeof(buf)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_conversation),
		cmocka_unit_test(syn_window),
		cmocka_unit_test(initial_window),
		cmocka_unit_test(retransmissions),
		cmocka_unit_test(rtt_samples),
		cmocka_unit_test(reordered),
		cmocka_unit_test(window_probe),
		cmocka_unit_test(pushed),
		cmocka_unit_test(syn_fin_data),
		cmocka_unit_test(midstream),
		cmocka_unit_test(reset),
		cmocka_unit_test(wraparound),
		cmocka_unit_test(quadrant_boundary),
		cmocka_unit_test(ack_inside_segment),
		cmocka_unit_test(syn_zero_window),
		cmocka_unit_test(several_holes),
		cmocka_unit_test(new_isn),
		cmocka_unit_test(same_microsecond),
		cmocka_unit_test(avg_segm),
		cmocka_unit_test(median),
		cmocka_unit_test(median_one_direction),
		cmocka_unit_test(variance),
		cmocka_unit_test(not_tcp),
		cmocka_unit_test(parsed_packets),
		cmocka_unit_test(names),
		cmocka_unit_test(export),
	};

	_Static_assert(sizeof(struct ntfw_features) <= 416, "flow size");
	return cmocka_run_group_tests_name("features", tests, NULL, NULL);
}
