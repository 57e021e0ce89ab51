/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_WORKER_H
#define NTFW_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "feed.h"
#include "nfq.h"
#include "snap.h"

struct ntfw_conf;

/* A new configuration for one worker, from the main thread. */
struct ntfw_worker_swap {
	uint64_t gen;			/* its generation */
	int log_fd;			/* the event log from now on, or -1 */
	struct ntfw_engine_swap engine;
};

/* One queue, one thread: it owns its socket and its engine (flow shard,
 * rate buckets, counters). */
struct ntfw_worker {
	uint16_t queue;
	struct ntfw_engine engine;
	struct ntfw_nfq nfq;
	int stop_fd;		/* readable when the daemon stops */
	int wake_fd;		/* eventfd: a new configuration is offered */
	int ack_fd;		/* the daemon's eventfd: written once taken */
	int log_fd;		/* flow records, or -1 */
	struct ntfw_worker_swap *offer;	/* atomic: set by the main thread */
	/* The fast-path feed's records for this worker's flows (feed.h), set
	 * by ntfw_worker_ring() before the thread starts; NULL: no feed. */
	struct ntfw_kq *kq;
	int rec_fd;		/* eventfd: records are queued */
	const uint64_t *ring_loss;	/* the ring's loss epoch */
	uint64_t ring_loss_seen;	/* the epoch the flows were flagged at */
	uint64_t ring_flag_ns;		/* when they were */
	uint64_t gen;		/* atomic: generation of the configuration run */
	struct ntfw_snap *snap;	/* atomic: a copy of the flows asked for */
	bool exited;		/* atomic: the thread is done with everything */
	pthread_t thread;
	int started;
};

/* Bind the queue (synchronously, so errors reach the caller). */
int ntfw_worker_init(struct ntfw_worker *w, uint16_t queue,
		     const struct ntfw_conf *conf, uint32_t flows_max,
		     int stop_fd, int ack_fd, int log_fd);
int ntfw_worker_start(struct ntfw_worker *w);

/* Take the records of the feed's queue @i (before the thread
 * starts). */
void ntfw_worker_ring(struct ntfw_worker *w, struct ntfw_feed *f,
		      unsigned int i);
void ntfw_worker_join(struct ntfw_worker *w);
void ntfw_worker_free(struct ntfw_worker *w);

/*
 * Offer @s to the worker, which takes it between two batches of packets;
 * @s must stay until ntfw_worker_took(@s->gen) holds, and then holds what
 * the worker let go (the old rule counters).
 */
void ntfw_worker_offer(struct ntfw_worker *w, struct ntfw_worker_swap *s);

/* Whether the worker runs the configuration of generation @gen.  A
 * worker whose thread has ended is moved to it here. */
bool ntfw_worker_took(struct ntfw_worker *w, uint64_t gen);

#endif
