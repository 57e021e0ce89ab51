/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_WORKER_H
#define NTFW_WORKER_H

#include <pthread.h>
#include <stdint.h>

#include "engine.h"
#include "nfq.h"

struct ntfw_conf;

/* One queue, one thread: it owns its socket and its engine (flow shard,
 * rate buckets, counters). */
struct ntfw_worker {
	uint16_t queue;
	struct ntfw_engine engine;
	struct ntfw_nfq nfq;
	int stop_fd;		/* readable when the daemon stops */
	int log_fd;		/* flow records, or -1 */
	pthread_t thread;
	int started;
};

/* Bind the queue (synchronously, so errors reach the caller). */
int ntfw_worker_init(struct ntfw_worker *w, uint16_t queue,
		     const struct ntfw_conf *conf, uint32_t flows_max,
		     int stop_fd, int log_fd);
int ntfw_worker_start(struct ntfw_worker *w);
void ntfw_worker_join(struct ntfw_worker *w);
void ntfw_worker_free(struct ntfw_worker *w);

#endif
