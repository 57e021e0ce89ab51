// SPDX-License-Identifier: GPL-2.0-only
/*
 * NFQUEUE over libmnl.  One socket per queue; every message and attribute
 * from the kernel is validated (nfq_nlmsg_parse validates attribute types
 * and sizes) before it is used.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "nfq.h"

/* A message to the queue holding a verdict header; NULL if @len is short. */
static struct nlmsghdr *nfq_verdict_put(char *buf, size_t len, uint16_t type,
					uint16_t queue, uint32_t id,
					unsigned int verdict)
{
	struct nfqnl_msg_verdict_hdr vh = {
		.verdict = htonl(verdict),
		.id = htonl(id),
	};
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;

	if (len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(*nfg)))
		return NULL;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = AF_UNSPEC;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = htons(queue);
	if (!mnl_attr_put_check(nlh, len, NFQA_VERDICT_HDR, sizeof(vh), &vh))
		return NULL;
	return nlh;
}

size_t ntfw_nfq_verdict_build(char *buf, size_t len, uint16_t queue,
			      const struct ntfw_nfq_msg *m,
			      unsigned int verdict, bool ct)
{
	struct nlmsghdr *nlh;
	struct nlattr *nest;

	nlh = nfq_verdict_put(buf, len, NFQNL_MSG_VERDICT, queue, m->id,
			      verdict);
	if (!nlh)
		return 0;
	if (!m->set_mark)
		return nlh->nlmsg_len;
	if (!mnl_attr_put_u32_check(nlh, len, NFQA_MARK, htonl(m->new_mark)))
		return 0;
	if (!ct || !m->ct_set_bits)
		return nlh->nlmsg_len;
	/*
	 * The kernel takes the connection from the queued packet, not from
	 * the message, and sets its mark to (mark & ~CTA_MARK_MASK) ^
	 * CTA_MARK: with both the same, exactly these bits are set.
	 */
	nest = mnl_attr_nest_start_check(nlh, len, NFQA_CT);
	if (!nest ||
	    !mnl_attr_put_u32_check(nlh, len, CTA_MARK, htonl(m->ct_set_bits)) ||
	    !mnl_attr_put_u32_check(nlh, len, CTA_MARK_MASK,
				    htonl(m->ct_set_bits)))
		return 0;
	mnl_attr_nest_end(nlh, nest);
	return nlh->nlmsg_len;
}

/* A counter the main thread reads for its reports. */
static void nfq_count(uint64_t *c)
{
	__atomic_store_n(c, *c + 1, __ATOMIC_RELAXED);
}

/* Every message to the kernel leaves here (a test puts its own hook). */
static ssize_t nfq_send(struct ntfw_nfq *q, const void *buf, size_t len)
{
	if (q->send)
		return q->send(q, buf, len);
	return mnl_socket_sendto(q->nl, buf, len);
}

/*
 * A send to the kernel fails only for want of memory there (ENOBUFS,
 * ENOMEM) or a signal: tried again at once, a few times.
 */
#define NFQ_SEND_TRIES 3

static int nfq_send_verdict(struct ntfw_nfq *q, const struct ntfw_nfq_msg *m,
			    unsigned int verdict)
{
	char buf[128];
	unsigned int i;
	size_t n;

	n = ntfw_nfq_verdict_build(buf, sizeof(buf), q->queue, m, verdict,
				   m->ct);
	for (i = 0; i < NFQ_SEND_TRIES; i++)
		if (nfq_send(q, buf, n) >= 0)
			return 0;
	q->send_errors++;
	return -errno;
}

/*
 * A verdict the kernel would not take: the packet still waits there, and
 * a batch accept sent now would cover it (a batch accepts every waiting
 * id up to its own), a drop turned into an accept.  So it waits here, in
 * order, and no accept is batched until every verdict held has gone; the
 * next flush tries them again.  With no room left to hold it, it is
 * counted: the packet waits in the kernel until the queue is closed,
 * which drops it.
 */
static void nfq_hold(struct ntfw_nfq *q, const struct ntfw_nfq_msg *m,
		     unsigned int verdict)
{
	struct ntfw_nfq_held *h;

	if (q->held_n == NTFW_NFQ_HELD_MAX) {
		nfq_count(&q->verdicts_lost);
		return;
	}
	h = &q->held[q->held_n++];
	h->m = *m;
	h->m.data = NULL;
	h->verdict = verdict;
	nfq_count(&q->verdicts_held);
}

/* Send the verdicts held, in order, as far as the kernel takes them. */
static void nfq_retry_held(struct ntfw_nfq *q)
{
	unsigned int i = 0;

	while (i < q->held_n &&
	       !nfq_send_verdict(q, &q->held[i].m, q->held[i].verdict))
		i++;
	if (!i)
		return;
	memmove(q->held, q->held + i, (q->held_n - i) * sizeof(q->held[0]));
	q->held_n -= i;
}

/*
 * Accepts are answered in batches: one NFQNL_MSG_VERDICT_BATCH accepts
 * every packet up to an id that is still waiting.  Any other verdict is
 * answered at once, the batch waiting before it first: a hand-off
 * (NF_REPEAT) or marked accept would otherwise pass the earlier packets
 * of its own flow, which wait for the batch (a TCP segment overtaking
 * the ones before it).  A drop is then no longer waiting when a later
 * batch arrives.
 */
#define NFQ_BATCH_MAX 64

void ntfw_nfq_flush(struct ntfw_nfq *q)
{
	char buf[128];
	struct nlmsghdr *nlh;

	/* A batch waiting covers only ids before those held: either order. */
	nfq_retry_held(q);
	if (!q->batch_n)
		return;
	nlh = nfq_verdict_put(buf, sizeof(buf), NFQNL_MSG_VERDICT_BATCH,
			      q->queue, q->batch_id, NF_ACCEPT);
	/* Refused: those packets still wait, and the next batch (or this
	 * one again) accepts them. */
	if (nfq_send(q, nlh, nlh->nlmsg_len) < 0) {
		q->send_errors++;
		return;
	}
	q->batches++;
	q->batch_n = 0;
}

int ntfw_nfq_msg_parse(const struct nlmsghdr *nlh, uint16_t queue,
		       struct ntfw_nfq_msg *m)
{
	struct nlattr *attr[NFQA_MAX + 1] = { 0 };
	const struct nfqnl_msg_packet_hdr *ph;
	const struct nfgenmsg *nfg;

	memset(m, 0, sizeof(*m));
	/* Without a packet id there is nothing we can answer. */
	if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_QUEUE ||
	    NFNL_MSG_TYPE(nlh->nlmsg_type) != NFQNL_MSG_PACKET ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*nfg) ||
	    nfq_nlmsg_parse(nlh, attr) < 0 || !attr[NFQA_PACKET_HDR])
		return -1;
	nfg = mnl_nlmsg_get_payload(nlh);
	if (ntohs(nfg->res_id) != queue)
		return -1;
	ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	m->id = ntohl(ph->packet_id);
	m->hw_proto = ntohs(ph->hw_protocol);
	m->hook = ph->hook;
	if (attr[NFQA_IFINDEX_INDEV])
		m->iif = ntohl(mnl_attr_get_u32(attr[NFQA_IFINDEX_INDEV]));
	if (attr[NFQA_IFINDEX_OUTDEV])
		m->oif = ntohl(mnl_attr_get_u32(attr[NFQA_IFINDEX_OUTDEV]));
	if (attr[NFQA_PAYLOAD]) {
		m->data = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		m->caplen = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	}
	/* The copy stops at copy-range; NFQA_CAP_LEN then says how long
	 * the packet is (a GSO super-packet: up to 64 KiB and more). */
	m->wirelen = m->caplen;
	if (attr[NFQA_CAP_LEN])
		m->wirelen = ntohl(mnl_attr_get_u32(attr[NFQA_CAP_LEN]));
	if (attr[NFQA_MARK])
		m->mark = ntohl(mnl_attr_get_u32(attr[NFQA_MARK]));
	/* Only a kernel with the conntrack glue sends NFQA_CT, and only for
	 * a packet with a connection: then a verdict can mark it. */
	m->ct = attr[NFQA_CT] != NULL;
	/* IP_CT_RELATED (2) and IP_CT_RELATED_REPLY (2 + 3): the packet only
	 * relates to the connection; its mark is not ours to set. */
	if (attr[NFQA_CT_INFO]) {
		uint32_t ci = ntohl(mnl_attr_get_u32(attr[NFQA_CT_INFO]));

		m->ct_related = ci == 2 || ci == 5;
	}
	if (attr[NFQA_SKB_INFO])
		m->gso = !!(ntohl(mnl_attr_get_u32(attr[NFQA_SKB_INFO])) &
			    NFQA_SKB_GSO);
	return 0;
}

static int nfq_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ntfw_nfq *q = data;
	struct ntfw_nfq_msg m;
	unsigned int verdict;

	if (ntfw_nfq_msg_parse(nlh, q->queue, &m)) {
		q->bad_msgs++;
		return MNL_CB_OK;
	}
	/* The kernel numbers the packets of a queue one by one as it sends
	 * them; one it could not send (our socket buffer full) leaves a
	 * gap.  With NETLINK_NO_ENOBUFS set no ENOBUFS tells us, and the
	 * kernel's user_dropped leaves out what fail-open accepted. */
	if (q->last_id && m.id - q->last_id - 1 < 0x80000000u)
		__atomic_store_n(&q->id_gaps, q->id_gaps + m.id - q->last_id - 1,
				 __ATOMIC_RELAXED);
	q->last_id = m.id;
	if (m.ct)
		nfq_count(&q->ct_pkts);
	if (m.gso)
		nfq_count(&q->gso_pkts);
	verdict = q->cb(&m, q->arg);
	if (verdict == NF_ACCEPT && !m.set_mark && !q->held_n) {
		q->batch_id = m.id;
		if (++q->batch_n >= NFQ_BATCH_MAX)
			ntfw_nfq_flush(q);
		return MNL_CB_OK;
	}
	ntfw_nfq_flush(q);
	/* Behind the verdicts still held, if any: they go first. */
	if (q->held_n || nfq_send_verdict(q, &m, verdict))
		nfq_hold(q, &m, verdict);
	return MNL_CB_OK;
}

/*
 * An error message (or an ack) is the answer to the message with its
 * sequence number.  Verdicts go with sequence number 0 and the kernel
 * answers only those it refuses (an id no longer waiting): such an
 * answer, or a late one to a configuration we stopped waiting for, is
 * not the answer awaited, and must not pass for it.
 */
static int nfq_error_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ntfw_nfq *q = data;
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*err))) {
		q->bad_msgs++;
		return MNL_CB_OK;
	}
	if (!q->want_seq || nlh->nlmsg_seq != q->want_seq) {
		if (err->error)
			q->send_errors++;
		return MNL_CB_OK;
	}
	if (!err->error)
		return MNL_CB_STOP;
	errno = -err->error;
	return MNL_CB_ERROR;
}

int ntfw_nfq_input(struct ntfw_nfq *q, const void *buf, size_t len,
		   uint32_t seq)
{
	static mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_ERROR] = nfq_error_cb,
	};
	int rc;

	/* Sequence numbers are matched in nfq_error_cb, not by libmnl:
	 * it would take any answer with number 0 for ours. */
	q->want_seq = seq;
	rc = mnl_cb_run2(buf, len, 0, q->portid, nfq_msg_cb, q, ctl,
			 NLMSG_MIN_TYPE);
	q->want_seq = 0;
	if (rc == MNL_CB_ERROR)
		return -errno;
	return rc == MNL_CB_STOP ? 0 : 1;
}

static int nfq_process(struct ntfw_nfq *q, ssize_t n, uint32_t seq)
{
	return ntfw_nfq_input(q, q->buf, (size_t)n, seq);
}

/* The kernel answers a configuration message at once; only a full socket
 * buffer loses the answer, so waiting for it is bounded. */
#define NFQ_ACK_MS 1000

static uint64_t clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Wait for the answer to message q->seq, answering the packets that come
 * first; 0, or -errno (the kernel's refusal, or ETIMEDOUT). */
static int nfq_wait_ack(struct ntfw_nfq *q)
{
	struct pollfd pfd = { .fd = mnl_socket_get_fd(q->nl), .events = POLLIN };
	uint64_t end = clock_ms() + NFQ_ACK_MS, now;
	ssize_t n;
	int rc;

	for (;;) {
		now = clock_ms();
		if (now >= end)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)(end - now)) <= 0)
			continue;
		n = recv(pfd.fd, q->buf, q->bufsize, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR ||
			    errno == ENOBUFS)
				continue;
			return -errno;
		}
		rc = nfq_process(q, n, q->seq);
		ntfw_nfq_flush(q);
		if (rc <= 0)
			return rc;
	}
}

/* Copy mode and range, queue length and flags, and with @bind the bind
 * command, in one message: no packet can reach us in between with a
 * half-made configuration. */
static int nfq_config(struct ntfw_nfq *q, const struct ntfw_nfq_opts *o,
		      bool bind, bool ct)
{
	uint32_t flags = (o->fail_open ? NFQA_CFG_F_FAIL_OPEN : 0) |
			 (o->gso ? NFQA_CFG_F_GSO : 0) |
			 (ct ? NFQA_CFG_F_CONNTRACK : 0);
	uint32_t mask = NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO |
			NFQA_CFG_F_CONNTRACK;
	char buf[128] = { 0 };	/* attribute padding included */
	struct nlmsghdr *nlh;

	nlh = nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, q->queue);
	if (bind)
		nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
	nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, (int)o->copy_range);
	mnl_attr_put_u32(nlh, NFQA_CFG_QUEUE_MAXLEN, htonl(o->maxlen));
	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(mask));
	nlh->nlmsg_flags |= NLM_F_ACK;
	/* Never 0: queued packets come with sequence number 0. */
	nlh->nlmsg_seq = q->seq = q->seq ? q->seq + 1 : (uint32_t)time(NULL) | 1;
	if (nfq_send(q, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return nfq_wait_ack(q);
}

static void nfq_set_rcvbuf(struct ntfw_nfq *q, uint32_t size)
{
	int fd = mnl_socket_get_fd(q->nl), v = (int)size;

	/* A large buffer absorbs bursts while a verdict is late.  Best
	 * effort: without CAP_NET_ADMIN the kernel caps it at rmem_max. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
}

int ntfw_nfq_set(struct ntfw_nfq *q, const struct ntfw_nfq_opts *o)
{
	struct ntfw_nfq_opts *cur = &q->opts;
	int rc = 0;

	if (o->rcvbuf != cur->rcvbuf) {
		nfq_set_rcvbuf(q, o->rcvbuf);
		cur->rcvbuf = o->rcvbuf;
	}
	if (o->fail_open != cur->fail_open || o->gso != cur->gso ||
	    o->copy_range != cur->copy_range || o->maxlen != cur->maxlen) {
		/* Conntrack data stays as the queue was opened with
		 * (q->ct_glue); o->conntrack only matters at open. */
		rc = nfq_config(q, o, false, q->ct_glue);
		if (!rc)
			*cur = *o;
	}
	return rc;
}

int ntfw_nfq_open(struct ntfw_nfq *q, uint16_t queue,
		  const struct ntfw_nfq_opts *o, ntfw_nfq_cb cb, void *arg)
{
	int one = 1, rc;

	memset(q, 0, sizeof(*q));
	q->queue = queue;
	q->cb = cb;
	q->arg = arg;
	/* Largest packet plus netlink headers and metadata. */
	q->bufsize = 0xffff + MNL_SOCKET_BUFFER_SIZE / 2;
	q->buf = malloc(q->bufsize);
	if (!q->buf)
		return -ENOMEM;
	q->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!q->nl) {
		rc = -errno;
		goto fail;
	}
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		goto fail;
	}
	q->portid = mnl_socket_get_portid(q->nl);
	nfq_set_rcvbuf(q, o->rcvbuf);
	/* Overruns are counted by the kernel (user_dropped) and by the
	 * gaps in the packet ids; an error would only stop us. */
	mnl_socket_setsockopt(q->nl, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	/*
	 * NFQA_CT needs the kernel's conntrack glue.  A kernel without it
	 * refuses the flag (EOPNOTSUPP) before it binds anything, and the
	 * packet mark alone will do; one that loads it as a module asks
	 * for the same message again (EAGAIN).
	 */
	rc = nfq_config(q, o, true, o->conntrack);
	if (rc == -EAGAIN && o->conntrack)
		rc = nfq_config(q, o, true, true);
	q->ct_glue = o->conntrack && rc >= 0;
	if (rc == -EOPNOTSUPP && o->conntrack)
		rc = nfq_config(q, o, true, false);
	if (rc < 0)
		goto fail;
	q->opts = *o;
	return 0;
fail:
	ntfw_nfq_close(q);
	return rc;
}

int ntfw_nfq_fd(const struct ntfw_nfq *q)
{
	return mnl_socket_get_fd(q->nl);
}

/* Datagrams read in one go: under a flood the socket is never empty, and
 * the worker must still see its timers and a new configuration. */
#define NFQ_DRAIN_MAX 1024

int ntfw_nfq_drain(struct ntfw_nfq *q)
{
	int fd = mnl_socket_get_fd(q->nl), handled = 0, rc;
	ssize_t n;

	for (;;) {
		n = recv(fd, q->buf, q->bufsize, MSG_DONTWAIT);
		if (n < 0) {
			int err = errno;

			/* Nothing more to read now: answer what we hold. */
			ntfw_nfq_flush(q);
			errno = err;
			if (errno == EAGAIN || errno == EINTR)
				return handled;
			/* Not reported (NETLINK_NO_ENOBUFS); the gaps in
			 * the packet ids count the losses. */
			if (errno == ENOBUFS)
				continue;
			return -errno;
		}
		rc = nfq_process(q, n, 0);
		if (rc < 0)
			q->bad_msgs++;
		if (++handled == NFQ_DRAIN_MAX) {
			ntfw_nfq_flush(q);
			return handled;
		}
	}
}

void ntfw_nfq_close(struct ntfw_nfq *q)
{
	/* Closing the socket unbinds the queue; with "bypass" in the
	 * ruleset the kernel then accepts instead of queueing. */
	if (q->nl)
		mnl_socket_close(q->nl);
	q->nl = NULL;
	free(q->buf);
	q->buf = NULL;
}

int ntfw_nfq_kernel_stats(uint16_t queue, struct ntfw_nfq_kstats *ks)
{
	FILE *f = fopen("/proc/net/netfilter/nfnetlink_queue", "r");
	unsigned long long v[9];
	char line[256];
	int rc = -1;

	if (!f)
		return -1;
	/* queue portid waiting copy_mode copy_range queue_dropped
	 * user_dropped id_sequence 1 */
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%llu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
			   &v[7], &v[8]) < 8 || v[0] != queue)
			continue;
		ks->waiting = v[2];
		ks->queue_dropped = v[5];
		ks->user_dropped = v[6];
		ks->id_sequence = v[7];
		rc = 0;
		break;
	}
	fclose(f);
	return rc;
}
