/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_NFQ_H
#define NTFW_NFQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct mnl_socket;
struct nlmsghdr;

/* One queued packet, as the kernel described it. */
struct ntfw_nfq_msg {
	uint32_t id;
	uint16_t hw_proto;	/* ETH_P_IP / ETH_P_IPV6, host order */
	uint8_t hook;		/* NF_INET_* */
	uint32_t iif, oif;	/* 0 when absent */
	const uint8_t *data;	/* network header onwards */
	uint32_t caplen;	/* bytes present */
	uint32_t wirelen;	/* bytes the packet really has */
	uint32_t mark;		/* the packet's mark */
	bool ct;		/* came with its connection (NFQA_CT): the
				 * kernel has the conntrack glue */
	bool gso;		/* a GSO super-packet, queued whole */
	bool ct_related;	/* NFQA_CT_INFO says related (glue only) */
	bool set_mark;		/* the callback sets: answer with new_mark */
	uint32_t new_mark;
	uint32_t ct_set_bits;	/* with set_mark: set these bits of the
				 * connection's mark too, where ct allows */
};

/* Returns the verdict (NF_ACCEPT, NF_DROP, NF_REPEAT) for the packet, and
 * may ask for a new packet mark with it (m->set_mark). */
typedef unsigned int (*ntfw_nfq_cb)(struct ntfw_nfq_msg *m, void *arg);

struct ntfw_nfq_opts {
	bool fail_open;
	bool gso;		/* take GSO super-packets whole */
	bool conntrack;		/* verdicts may mark connections: ask for
				 * NFQA_CT where the kernel has it */
	uint32_t copy_range;
	uint32_t maxlen;	/* packets the kernel may hold for us */
	uint32_t rcvbuf;	/* socket receive buffer, bytes */
};

/* A verdict the kernel refused, to send again. */
struct ntfw_nfq_held {
	struct ntfw_nfq_msg m;	/* its data gone */
	unsigned int verdict;
};

/* Verdicts held at most; a longer refusal loses the rest (counted). */
#define NTFW_NFQ_HELD_MAX 32

struct ntfw_nfq {
	struct mnl_socket *nl;
	/* NULL: messages go to the socket; a test sees them here. */
	ssize_t (*send)(struct ntfw_nfq *q, const void *buf, size_t len);
	struct ntfw_nfq_opts opts;	/* as the kernel has them */
	unsigned int portid;
	uint16_t queue;
	uint32_t seq;
	uint32_t want_seq;	/* the answer awaited, while reading */
	char *buf;
	size_t bufsize;
	ntfw_nfq_cb cb;
	void *arg;
	uint32_t batch_id;	/* highest accepted id not yet answered */
	uint32_t batch_n;	/* accepts waiting for one batch verdict */
	uint64_t bad_msgs;	/* netlink messages we could not use */
	uint32_t last_id;	/* the last packet id seen, 0 before */
	uint64_t id_gaps;	/* ids never delivered: the kernel could not
				 * send them (socket buffer full) */
	uint64_t send_errors;	/* verdicts the kernel refused, at the send
				 * or in an error message after it */
	struct ntfw_nfq_held held[NTFW_NFQ_HELD_MAX];
	unsigned int held_n;	/* verdicts held: no accept is batched */
	uint64_t verdicts_held;	/* refused, held to be sent again */
	uint64_t verdicts_lost;	/* refused with no room to hold them */
	uint64_t batches;	/* batch verdicts sent */
	bool ct_glue;		/* asked for and took NFQA_CFG_F_CONNTRACK */
	uint64_t ct_pkts;	/* packets that came with NFQA_CT */
	uint64_t gso_pkts;	/* GSO super-packets given whole */
};

/* The kernel's own counters of a queue (/proc/net/netfilter/nfnetlink_queue). */
struct ntfw_nfq_kstats {
	uint64_t waiting;	/* queued now, waiting for a verdict */
	uint64_t queue_dropped;	/* dropped: the queue was full (fail-open no) */
	uint64_t user_dropped;	/* dropped: our socket buffer was full */
	uint64_t id_sequence;	/* packets given to us so far */
};

/*
 * Fill @m from one NFQNL_MSG_PACKET of queue @queue.  Returns 0, or -1 when
 * the message is not a packet of that queue or has no packet id.
 */
int ntfw_nfq_msg_parse(const struct nlmsghdr *nlh, uint16_t queue,
		       struct ntfw_nfq_msg *m);

/*
 * Build in @buf the verdict on @m: its id, @verdict, the packet mark when
 * m->set_mark and, when @ct too, an NFQA_CT that sets m->ct_set_bits of
 * the connection's mark.  Returns the message length, 0 if @len is short.
 */
size_t ntfw_nfq_verdict_build(char *buf, size_t len, uint16_t queue,
			      const struct ntfw_nfq_msg *m,
			      unsigned int verdict, bool ct);

/* 0, or -1 when the queue is not bound in this network namespace. */
int ntfw_nfq_kernel_stats(uint16_t queue, struct ntfw_nfq_kstats *ks);

/*
 * Open a netlink socket and bind it to @queue; waits for the kernel's
 * answer so that "queue in use" is reported here.  Packets that arrive
 * meanwhile go to @cb.  Returns 0 or -errno.
 */
int ntfw_nfq_open(struct ntfw_nfq *q, uint16_t queue,
		  const struct ntfw_nfq_opts *o, ntfw_nfq_cb cb, void *arg);
int ntfw_nfq_fd(const struct ntfw_nfq *q);

/*
 * Change the settings of the bound queue to @o, where they differ.  Waits
 * (a second at most) for the kernel's answer, answering the packets that
 * come first.  Returns 0 or -errno.
 */
int ntfw_nfq_set(struct ntfw_nfq *q, const struct ntfw_nfq_opts *o);

/*
 * Read the messages waiting on the socket (without blocking), up to a
 * bound so that the caller gets back to its timers, and answer each
 * packet.  Returns the number of datagrams read or -errno.
 */
int ntfw_nfq_drain(struct ntfw_nfq *q);
void ntfw_nfq_close(struct ntfw_nfq *q);

/*
 * Run the messages of one datagram @buf: each packet to the callback and
 * its verdict answered (accepts may wait for a batch).  @seq is the
 * configuration message whose answer is awaited, 0 for none.  Returns 0
 * when that answer came, 1 when not (yet), or -errno.
 */
int ntfw_nfq_input(struct ntfw_nfq *q, const void *buf, size_t len,
		   uint32_t seq);

/* Send the verdicts held after a refusal, then the accepts waiting for a
 * batch verdict.  Call it again soon while q->held_n. */
void ntfw_nfq_flush(struct ntfw_nfq *q);

#endif
