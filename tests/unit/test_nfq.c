// SPDX-License-Identifier: GPL-2.0-only
/*
 * The netlink messages of the queue, without a socket: verdicts built and
 * read back attribute by attribute with libmnl, and packet messages as the
 * kernel writes them, read into struct ntfw_nfq_msg.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <cmocka.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include "nfq.h"

#define QUEUE 7
#define FASTPATH 0x40000000u

/* ---- verdicts ---- */

struct attrs {
	char buf[128];
	const struct nlattr *a[NFQA_MAX + 1];
	unsigned int n; /* attributes seen, repeats included */
};

static int attr_cb(const struct nlattr *a, void *data)
{
	struct attrs *t = data;
	uint16_t type = mnl_attr_get_type(a);

	t->n++;
	assert_true(type <= NFQA_MAX);
	assert_null(t->a[type]);
	t->a[type] = a;
	return MNL_CB_OK;
}

/*
 * Build the verdict on @m into @t->buf and read it back: the netlink and
 * nfnetlink headers, then every attribute, @nattrs of them, the first the
 * verdict header with @m's id and @verdict.
 */
static void verdict_check(const struct ntfw_nfq_msg *m, unsigned int verdict,
			  bool ct, unsigned int nattrs, struct attrs *t)
{
	const struct nfqnl_msg_verdict_hdr *vh;
	const struct nlmsghdr *nlh;
	const struct nfgenmsg *nfg;
	size_t len;

	memset(t, 0, sizeof(*t));
	len = ntfw_nfq_verdict_build(t->buf, sizeof(t->buf), QUEUE, m, verdict,
				     ct);
	nlh = (const struct nlmsghdr *)t->buf;
	assert_true(mnl_nlmsg_ok(nlh, (int)len));
	assert_int_equal(nlh->nlmsg_len, len);
	assert_int_equal(nlh->nlmsg_type,
			 NFNL_SUBSYS_QUEUE << 8 | NFQNL_MSG_VERDICT);
	assert_int_equal(nlh->nlmsg_flags, NLM_F_REQUEST);
	nfg = mnl_nlmsg_get_payload(nlh);
	assert_int_equal(nfg->nfgen_family, AF_UNSPEC);
	assert_int_equal(nfg->version, NFNETLINK_V0);
	assert_int_equal(ntohs(nfg->res_id), QUEUE);
	assert_int_equal(mnl_attr_parse(nlh, sizeof(*nfg), attr_cb, t),
			 MNL_CB_OK);
	assert_int_equal(t->n, nattrs);
	assert_non_null(t->a[NFQA_VERDICT_HDR]);
	assert_int_equal(mnl_attr_get_payload_len(t->a[NFQA_VERDICT_HDR]),
			 sizeof(*vh));
	vh = mnl_attr_get_payload(t->a[NFQA_VERDICT_HDR]);
	assert_int_equal(ntohl(vh->id), m->id);
	assert_int_equal(ntohl(vh->verdict), verdict);
}

static void assert_u32_attr(const struct nlattr *a, uint32_t want)
{
	assert_non_null(a);
	assert_int_equal(mnl_attr_validate(a, MNL_TYPE_U32), 0);
	assert_int_equal(ntohl(mnl_attr_get_u32(a)), want);
}

static int ct_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	assert_true(type == CTA_MARK || type == CTA_MARK_MASK);
	assert_null(tb[type]);
	tb[type] = a;
	return MNL_CB_OK;
}

/* The NFQA_CT of @t sets @bits of the connection's mark, and only them. */
static void assert_ct_sets(const struct attrs *t, uint32_t bits)
{
	const struct nlattr *tb[CTA_MAX + 1] = { 0 };

	assert_non_null(t->a[NFQA_CT]);
	assert_int_equal(mnl_attr_validate(t->a[NFQA_CT], MNL_TYPE_NESTED), 0);
	assert_int_equal(mnl_attr_parse_nested(t->a[NFQA_CT], ct_cb, tb),
			 MNL_CB_OK);
	assert_u32_attr(tb[CTA_MARK], bits);
	assert_u32_attr(tb[CTA_MARK_MASK], bits);
}

static void verdict_plain(void **state)
{
	struct ntfw_nfq_msg m = { .id = 12345 };
	struct attrs t;

	/* A verdict without a mark is the header alone, ct or not. */
	verdict_check(&m, NF_DROP, false, 1, &t);
	m.ct = true;
	m.ct_set_bits = FASTPATH; /* without set_mark: not used */
	verdict_check(&m, NF_ACCEPT, true, 1, &t);
}

static void verdict_mark_without_ct(void **state)
{
	struct ntfw_nfq_msg m = {
		.id = 0xfffffffe,
		.mark = 0x5,
		.set_mark = true,
		.new_mark = 0x5 | FASTPATH,
		.ct_set_bits = FASTPATH,
	};
	struct attrs t;

	verdict_check(&m, NF_REPEAT, false, 2, &t);
	assert_u32_attr(t.a[NFQA_MARK], 0x5 | FASTPATH);
	assert_null(t.a[NFQA_CT]);
}

static void verdict_mark_with_ct(void **state)
{
	struct ntfw_nfq_msg m = {
		.id = 1,
		.ct = true,
		.set_mark = true,
		.new_mark = FASTPATH,
		.ct_set_bits = FASTPATH,
	};
	struct attrs t;

	verdict_check(&m, NF_REPEAT, true, 3, &t);
	assert_u32_attr(t.a[NFQA_MARK], FASTPATH);
	assert_ct_sets(&t, FASTPATH);
	/* The bits asked for, not a constant. */
	m.ct_set_bits = 0x3;
	verdict_check(&m, NF_ACCEPT, true, 3, &t);
	assert_u32_attr(t.a[NFQA_MARK], FASTPATH);
	assert_ct_sets(&t, 0x3);
	/* No bits for the connection: no NFQA_CT. */
	m.ct_set_bits = 0;
	verdict_check(&m, NF_ACCEPT, true, 2, &t);
	assert_null(t.a[NFQA_CT]);
}

/* A buffer too short for the message: 0, at every length. */
static void verdict_short_buffer(void **state)
{
	struct ntfw_nfq_msg m = {
		.id = 9, .set_mark = true, .new_mark = FASTPATH,
		.ct_set_bits = FASTPATH,
	};
	char buf[128];
	size_t full, len;

	full = ntfw_nfq_verdict_build(buf, sizeof(buf), QUEUE, &m, NF_REPEAT,
				      true);
	assert_true(full > 0);
	for (len = 0; len < full; len++)
		assert_int_equal(ntfw_nfq_verdict_build(buf, len, QUEUE, &m,
							NF_REPEAT, true), 0);
	assert_int_equal(ntfw_nfq_verdict_build(buf, full, QUEUE, &m,
						NF_REPEAT, true), full);
}

/* ---- packet messages ---- */

struct pkt_opts {
	uint32_t id;		/* 0: 77 */
	uint16_t type, queue;
	bool no_hdr;
	uint32_t caplen, cap_len_attr, skb_info, mark;
	bool ct;
};

/* A packet message as nfnetlink_queue writes it, payload of @o->caplen. */
static struct nlmsghdr *pkt_msg(char *buf, const struct pkt_opts *o)
{
	static uint8_t data[600];
	struct nfqnl_msg_packet_hdr ph = {
		.packet_id = htonl(o->id ? o->id : 77),
		.hw_protocol = htons(0x0800),
		.hook = NF_INET_LOCAL_OUT,
	};
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;
	struct nlattr *nest;

	nlh->nlmsg_type = NFNL_SUBSYS_QUEUE << 8 |
			  (o->type ? o->type : NFQNL_MSG_PACKET);
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_INET;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(o->queue ? o->queue : QUEUE);
	if (!o->no_hdr)
		mnl_attr_put(nlh, NFQA_PACKET_HDR, sizeof(ph), &ph);
	mnl_attr_put_u32(nlh, NFQA_IFINDEX_OUTDEV, htonl(3));
	if (o->mark)
		mnl_attr_put_u32(nlh, NFQA_MARK, htonl(o->mark));
	if (o->ct) {
		nest = mnl_attr_nest_start(nlh, NFQA_CT);
		mnl_attr_put_u32(nlh, CTA_STATUS, htonl(0x8));
		mnl_attr_put_u32(nlh, CTA_MARK, htonl(0x1));
		mnl_attr_nest_end(nlh, nest);
		mnl_attr_put_u32(nlh, NFQA_CT_INFO, htonl(0));
	}
	if (o->cap_len_attr)
		mnl_attr_put_u32(nlh, NFQA_CAP_LEN, htonl(o->cap_len_attr));
	if (o->skb_info)
		mnl_attr_put_u32(nlh, NFQA_SKB_INFO, htonl(o->skb_info));
	memset(data, 0x45, sizeof(data));
	mnl_attr_put(nlh, NFQA_PAYLOAD, o->caplen, data);
	return nlh;
}

static void packet_plain(void **state)
{
	char buf[2048];
	struct pkt_opts o = { .caplen = 60, .mark = 0x5 };
	struct ntfw_nfq_msg m;

	memset(&m, 0xa5, sizeof(m));
	assert_int_equal(ntfw_nfq_msg_parse(pkt_msg(buf, &o), QUEUE, &m), 0);
	assert_int_equal(m.id, 77);
	assert_int_equal(m.hw_proto, 0x0800);
	assert_int_equal(m.hook, NF_INET_LOCAL_OUT);
	assert_int_equal(m.iif, 0);
	assert_int_equal(m.oif, 3);
	assert_int_equal(m.caplen, 60);
	assert_int_equal(m.wirelen, 60);
	assert_int_equal(m.mark, 0x5);
	assert_false(m.ct);
	assert_false(m.gso);
	assert_false(m.set_mark);
	assert_int_equal(m.ct_set_bits, 0);
}

/* "gso yes": a super-packet, cut at the copy range, its checksum not
 * filled in. */
static void packet_gso(void **state)
{
	char buf[2048];
	struct pkt_opts o = {
		.caplen = 512, .cap_len_attr = 65226,
		.skb_info = NFQA_SKB_GSO | NFQA_SKB_CSUMNOTREADY,
	};
	struct ntfw_nfq_msg m;

	assert_int_equal(ntfw_nfq_msg_parse(pkt_msg(buf, &o), QUEUE, &m), 0);
	assert_int_equal(m.caplen, 512);
	assert_int_equal(m.wirelen, 65226);
	assert_true(m.gso);
	/* A checksum to fill in alone is no super-packet. */
	o.skb_info = NFQA_SKB_CSUMNOTREADY;
	assert_int_equal(ntfw_nfq_msg_parse(pkt_msg(buf, &o), QUEUE, &m), 0);
	assert_false(m.gso);
}

static void packet_ct(void **state)
{
	char buf[2048];
	struct pkt_opts o = { .caplen = 40, .ct = true };
	struct ntfw_nfq_msg m;

	assert_int_equal(ntfw_nfq_msg_parse(pkt_msg(buf, &o), QUEUE, &m), 0);
	assert_true(m.ct);
	assert_int_equal(m.caplen, 40);
}

static void packet_not_ours(void **state)
{
	char buf[2048];
	struct pkt_opts o = { .caplen = 40 };
	struct ntfw_nfq_msg m;

	o.queue = QUEUE + 1;
	assert_int_equal(ntfw_nfq_msg_parse(pkt_msg(buf, &o), QUEUE, &m), -1);
	o.queue = 0;
	o.no_hdr = true;
	assert_int_equal(ntfw_nfq_msg_parse(pkt_msg(buf, &o), QUEUE, &m), -1);
	o.no_hdr = false;
	o.type = NFQNL_MSG_VERDICT;
	assert_int_equal(ntfw_nfq_msg_parse(pkt_msg(buf, &o), QUEUE, &m), -1);
}


/* ---- verdicts in the order the kernel gets them ---- */

/* A message as the queue sent it. */
struct sent {
	uint16_t type;		/* NFQNL_MSG_VERDICT or _BATCH */
	uint32_t id, verdict;
	bool mark;
};

static struct sink {
	struct sent m[64];
	unsigned int n;
	unsigned int fail;	/* the next sends refused */
	bool down;		/* every send refused */
	unsigned int refused;
	unsigned int verdict[64]; /* the callback's answer, by packet id */
} sink;

static ssize_t sink_send(struct ntfw_nfq *q, const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	struct attrs t = { 0 };
	const struct nfqnl_msg_verdict_hdr *vh;
	struct sent *m;

	if (sink.fail || sink.down) {
		if (sink.fail)
			sink.fail--;
		sink.refused++;
		errno = ENOBUFS;
		return -1;
	}
	assert_true(mnl_nlmsg_ok(nlh, (int)len));
	assert_true(sink.n < 64);
	m = &sink.m[sink.n++];
	m->type = NFNL_MSG_TYPE(nlh->nlmsg_type);
	assert_int_equal(mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_cb,
					&t), MNL_CB_OK);
	vh = mnl_attr_get_payload(t.a[NFQA_VERDICT_HDR]);
	m->id = ntohl(vh->id);
	m->verdict = ntohl(vh->verdict);
	m->mark = t.a[NFQA_MARK] != NULL;
	return (ssize_t)len;
}

static unsigned int sink_cb(struct ntfw_nfq_msg *m, void *arg)
{
	unsigned int v = sink.verdict[m->id];

	if (v == NF_REPEAT || v == NF_STOP + 100) {
		m->set_mark = true;
		m->new_mark = FASTPATH;
		return v == NF_REPEAT ? NF_REPEAT : NF_ACCEPT;
	}
	return v;
}

static void sink_queue(struct ntfw_nfq *q)
{
	memset(&sink, 0, sizeof(sink));
	memset(q, 0, sizeof(*q));
	q->queue = QUEUE;
	q->cb = sink_cb;
	q->send = sink_send;
}

/* Packet @id queued to us: its verdict as the callback decides. */
static void sink_packet(struct ntfw_nfq *q, uint32_t id)
{
	char buf[2048];
	struct pkt_opts o = { .id = id, .caplen = 40 };
	struct nlmsghdr *nlh = pkt_msg(buf, &o);

	assert_int_equal(ntfw_nfq_input(q, buf, nlh->nlmsg_len, 0), 1);
}

static void assert_sent(unsigned int i, uint16_t type, uint32_t id,
			uint32_t verdict)
{
	assert_true(i < sink.n);
	assert_int_equal(sink.m[i].type, type);
	assert_int_equal(sink.m[i].id, id);
	assert_int_equal(sink.m[i].verdict, verdict);
}

/*
 * A hand-off (NF_REPEAT) or a marked accept is sent at once, the accepts
 * of the earlier packets that wait for a batch first: the kernel lets
 * the packets go in their order.
 */
static void order_batch_first(void **state)
{
	struct ntfw_nfq q;

	sink_queue(&q);
	sink.verdict[1] = sink.verdict[2] = sink.verdict[5] = NF_ACCEPT;
	sink.verdict[3] = NF_REPEAT;
	sink.verdict[4] = NF_STOP + 100; /* accept with a mark */
	sink_packet(&q, 1);
	sink_packet(&q, 2);
	assert_int_equal(sink.n, 0); /* waiting for the batch */
	sink_packet(&q, 3);
	assert_int_equal(sink.n, 2);
	assert_sent(0, NFQNL_MSG_VERDICT_BATCH, 2, NF_ACCEPT);
	assert_sent(1, NFQNL_MSG_VERDICT, 3, NF_REPEAT);
	assert_true(sink.m[1].mark);
	sink_packet(&q, 4);
	/* No batch was waiting: the marked accept alone. */
	assert_int_equal(sink.n, 3);
	assert_sent(2, NFQNL_MSG_VERDICT, 4, NF_ACCEPT);
	assert_true(sink.m[2].mark);
	sink_packet(&q, 5);
	ntfw_nfq_flush(&q);
	assert_int_equal(sink.n, 4);
	assert_sent(3, NFQNL_MSG_VERDICT_BATCH, 5, NF_ACCEPT);
	/* Nothing waits: a flush sends nothing. */
	ntfw_nfq_flush(&q);
	assert_int_equal(sink.n, 4);
}

/*
 * A drop the kernel refused is held and sent again; no batch accept may
 * cover it meanwhile (a batch accepts every waiting id up to its own), so
 * the accepts after it are held too, then sent alone, in order.
 */
static void refused_drop_held(void **state)
{
	struct ntfw_nfq q;
	unsigned int i;

	sink_queue(&q);
	for (i = 1; i < 64; i++)
		sink.verdict[i] = NF_ACCEPT;
	sink.verdict[2] = NF_DROP;
	sink_packet(&q, 1);
	ntfw_nfq_flush(&q);
	assert_int_equal(sink.n, 1);
	assert_sent(0, NFQNL_MSG_VERDICT_BATCH, 1, NF_ACCEPT);
	sink.down = true;
	sink_packet(&q, 2);
	sink_packet(&q, 3);
	sink_packet(&q, 4);
	ntfw_nfq_flush(&q);
	assert_int_equal(sink.n, 1);
	assert_int_equal(q.held_n, 3);
	assert_int_equal(q.verdicts_held, 3);
	assert_int_equal(q.batch_n, 0);
	assert_true(sink.refused >= 3);
	/* The kernel takes messages again: the drop first. */
	sink.down = false;
	sink_packet(&q, 5);
	assert_int_equal(q.held_n, 0);
	assert_int_equal(sink.n, 5);
	assert_sent(1, NFQNL_MSG_VERDICT, 2, NF_DROP);
	assert_sent(2, NFQNL_MSG_VERDICT, 3, NF_ACCEPT);
	assert_sent(3, NFQNL_MSG_VERDICT, 4, NF_ACCEPT);
	assert_sent(4, NFQNL_MSG_VERDICT, 5, NF_ACCEPT);
	/* Batches again. */
	sink_packet(&q, 6);
	sink_packet(&q, 7);
	assert_int_equal(sink.n, 5);
	ntfw_nfq_flush(&q);
	assert_sent(5, NFQNL_MSG_VERDICT_BATCH, 7, NF_ACCEPT);
	/* One refusal, then taken: the retry at once is enough. */
	sink.fail = 1;
	sink_packet(&q, 2);
	assert_int_equal(q.held_n, 0);
	assert_sent(6, NFQNL_MSG_VERDICT, 2, NF_DROP);
	assert_int_equal(q.verdicts_lost, 0);
}

/* Past the verdicts it can hold: counted, and still no batch sent. */
static void refused_overflow_counted(void **state)
{
	struct ntfw_nfq q;
	unsigned int i, n = NTFW_NFQ_HELD_MAX + 3;

	sink_queue(&q);
	sink.down = true;
	sink.verdict[1] = NF_DROP;
	for (i = 2; i <= n; i++)
		sink.verdict[i] = NF_ACCEPT;
	for (i = 1; i <= n; i++)
		sink_packet(&q, i);
	ntfw_nfq_flush(&q);
	assert_int_equal(q.held_n, NTFW_NFQ_HELD_MAX);
	assert_int_equal(q.verdicts_lost, 3);
	assert_int_equal(sink.n, 0);
	sink.down = false;
	ntfw_nfq_flush(&q);
	assert_int_equal(sink.n, NTFW_NFQ_HELD_MAX);
	assert_sent(0, NFQNL_MSG_VERDICT, 1, NF_DROP);
	for (i = 0; i < sink.n; i++)
		assert_int_equal(sink.m[i].type, NFQNL_MSG_VERDICT);
}

/* An error message (or ack, @error 0) with sequence number @seq. */
static size_t err_msg(char *buf, uint32_t seq, int error)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nlmsgerr *e;

	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_seq = seq;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e));
	e->error = error;
	e->msg.nlmsg_seq = seq;
	e->msg.nlmsg_type = NFNL_SUBSYS_QUEUE << 8 | NFQNL_MSG_VERDICT;
	return nlh->nlmsg_len;
}

/*
 * Waiting for the answer to configuration message 5: the kernel's
 * refusal of an earlier verdict (sequence number 0), or a late answer to
 * message 4, is not that answer; the packets around it are answered.
 */
static void ack_matches_seq(void **state)
{
	char buf[4096];
	struct pkt_opts o = { .id = 9, .caplen = 40 };
	struct ntfw_nfq q;
	size_t n;

	sink_queue(&q);
	sink.verdict[9] = NF_DROP;
	q.seq = 5;
	n = err_msg(buf, 0, -ENOENT);
	assert_int_equal(ntfw_nfq_input(&q, buf, n, q.seq), 1);
	assert_int_equal(q.send_errors, 1);
	n = err_msg(buf, 4, -EINVAL);
	assert_int_equal(ntfw_nfq_input(&q, buf, n, q.seq), 1);
	n = err_msg(buf, 4, 0);
	assert_int_equal(ntfw_nfq_input(&q, buf, n, q.seq), 1);
	/* A stray error, then a packet, in one datagram. */
	n = err_msg(buf, 0, -ENOENT);
	n += pkt_msg(buf + n, &o)->nlmsg_len;
	assert_int_equal(ntfw_nfq_input(&q, buf, n, q.seq), 1);
	assert_int_equal(sink.n, 1);
	assert_sent(0, NFQNL_MSG_VERDICT, 9, NF_DROP);
	/* The answer itself: an ack, or the refusal. */
	n = err_msg(buf, 5, 0);
	assert_int_equal(ntfw_nfq_input(&q, buf, n, q.seq), 0);
	n = err_msg(buf, 5, -EOPNOTSUPP);
	assert_int_equal(ntfw_nfq_input(&q, buf, n, q.seq), -EOPNOTSUPP);
	/* Outside a wait, the ack of 5 come late is no error either. */
	n = err_msg(buf, 5, 0);
	assert_int_equal(ntfw_nfq_input(&q, buf, n, 0), 1);
	assert_int_equal(q.bad_msgs, 0);
}

/* The kernel could not send ids 3 and 4 (socket buffer full): counted
 * from the gap, whatever became of them. */
static void id_gaps_counted(void **state)
{
	struct ntfw_nfq q;

	sink_queue(&q);
	sink.verdict[1] = sink.verdict[2] = sink.verdict[5] = NF_ACCEPT;
	sink.verdict[6] = sink.verdict[9] = NF_ACCEPT;
	sink_packet(&q, 1);
	sink_packet(&q, 2);
	assert_int_equal(q.id_gaps, 0);
	sink_packet(&q, 5);
	assert_int_equal(q.id_gaps, 2);
	sink_packet(&q, 6);
	assert_int_equal(q.id_gaps, 2);
	sink_packet(&q, 9);
	assert_int_equal(q.id_gaps, 4);
	/* The packets are answered all the same. */
	ntfw_nfq_flush(&q);
	assert_sent(0, NFQNL_MSG_VERDICT_BATCH, 9, NF_ACCEPT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(verdict_plain),
		cmocka_unit_test(verdict_mark_without_ct),
		cmocka_unit_test(verdict_mark_with_ct),
		cmocka_unit_test(verdict_short_buffer),
		cmocka_unit_test(packet_plain),
		cmocka_unit_test(packet_gso),
		cmocka_unit_test(packet_ct),
		cmocka_unit_test(packet_not_ours),
		cmocka_unit_test(order_batch_first),
		cmocka_unit_test(refused_drop_held),
		cmocka_unit_test(refused_overflow_counted),
		cmocka_unit_test(ack_matches_seq),
		cmocka_unit_test(id_gaps_counted),
	};

	return cmocka_run_group_tests_name("nfq", tests, NULL, NULL);
}
