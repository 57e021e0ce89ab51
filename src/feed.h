/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_FEED_H
#define NTFW_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../kmod/ntfw_ring.h"
#include "conf.h"
#include "stats.h"

struct ntfw_engine;
struct ntfw_relate;

/*
 * The fast-path feed: summary records of the packets the kernel accepts
 * for a handed-off connection (kmod/ntfw_ring.h), from whichever producer
 * runs: the kernel module's ring (kring.c) or the eBPF netfilter program
 * (bpffeed.c).  Each producer's reader thread hands every record to
 * ntfw_feed_put(), which finds the worker that holds the record's flow
 * and puts it on that worker's queue; ntfw_feed_wake() then wakes the
 * workers that got records, once per batch.  The workers apply them
 * between two batches of packets (ntfw_kq_drain()), so the flow table
 * keeps its single owner and the packet path takes no lock.
 */

/* Records a reader takes out of its ring before it wakes the workers. */
#define NTFW_FEED_BATCH 256u

/*
 * One worker's queue of records: the reader thread is its only producer,
 * the worker its only consumer.  Fixed size; a record that does not fit
 * is dropped and counted (queue-full), never waited for.
 */
#define NTFW_KQ_LEN 4096u	/* a power of 2 */

struct ntfw_kq {
	uint64_t head __attribute__((aligned(64)));	/* the reader's */
	uint64_t tail __attribute__((aligned(64)));	/* the worker's */
	struct ntfw_ring_rec rec[NTFW_KQ_LEN] __attribute__((aligned(64)));
};

struct ntfw_feed {
	/* Where records go: one queue and one eventfd per worker. */
	unsigned int nw;
	struct ntfw_kq **q;
	int *wake_fd;
	const struct ntfw_relate *rel;	/* owners, with several workers */
	uint64_t woken;			/* workers given records, unwoken */
	/*
	 * Bumped (relaxed atomic) each time the producer is seen to have
	 * lost records: a worker that sees it move flags the flows it has
	 * handed off (NTFW_HO_RING_LOST), for it cannot know whose records
	 * were lost.
	 */
	uint64_t loss_epoch;
	struct ntfw_ring_counts cnt;
};

/* One queue and one eventfd for each of @nw workers; 0 or -errno. */
int ntfw_feed_init(struct ntfw_feed *f, unsigned int nw,
		   const struct ntfw_relate *rel);
void ntfw_feed_free(struct ntfw_feed *f);

/* Route a copy of @r to its owner's queue, or count why not. */
void ntfw_feed_put(struct ntfw_feed *f, const struct ntfw_ring_rec *r);

/* Wake the workers that got records since the last call: one wakeup per
 * worker and batch, not per record. */
void ntfw_feed_wake(struct ntfw_feed *f);

/* The producer lost @n records (0: an unknown number): count them and
 * tell the workers. */
void ntfw_feed_lost(struct ntfw_feed *f, uint64_t n);

/*
 * Which producers a configuration asks for (fastpath-feed and the older
 * kmod statement, conf.h): *kmod and *bpf are 0 (do not try), 1 (try) or
 * 2 (required: the daemon does not start without it).  The module's ring
 * is tried first.
 */
void ntfw_feed_wants(unsigned int feed, unsigned int kmod, int *want_kmod,
		     int *want_bpf);

/*
 * The startup decision for the eBPF feed, after the module's ring was
 * not taken: @want as ntfw_feed_wants() gave it, @rc what loading and
 * attaching the program returned (0 or -errno).  Writes the line to log
 * into @msg (@why: the loader's explanation of @rc) and returns 1 when
 * the feed runs, 0 when the daemon runs without it, -1 when it cannot
 * run as configured.
 */
int ntfw_feed_bpf_decide(int want, int rc, const char *why, char *msg,
			 size_t msglen);

/* The worker's side: apply up to @max records of @q to @e's flows.
 * Returns how many were taken. */
unsigned int ntfw_kq_drain(struct ntfw_kq *q, struct ntfw_engine *e,
			   unsigned int max);

/* Whether @q holds records. */
static inline bool ntfw_kq_pending(const struct ntfw_kq *q)
{
	return __atomic_load_n(&q->head, __ATOMIC_ACQUIRE) !=
	       __atomic_load_n(&q->tail, __ATOMIC_RELAXED);
}

#endif
