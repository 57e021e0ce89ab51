/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_WORKER_H
#define NTFW_WORKER_H

#include <pthread.h>
#include <stdint.h>

#include "ifcache.h"
#include "nfq.h"
#include "stats.h"

struct ntfw_conf;

/* One queue, one thread: it owns its socket, counters and caches. */
struct ntfw_worker {
	uint16_t queue;
	const struct ntfw_conf *conf;
	struct ntfw_nfq nfq;
	struct ntfw_stats stats;
	struct ntfw_ifcache ifc;
	int stop_fd;		/* readable when the daemon stops */
	pthread_t thread;
	int started;
};

/* Bind the queue (synchronously, so errors reach the caller). */
int ntfw_worker_init(struct ntfw_worker *w, uint16_t queue,
		     const struct ntfw_conf *conf, int stop_fd);
int ntfw_worker_start(struct ntfw_worker *w);
void ntfw_worker_join(struct ntfw_worker *w);
void ntfw_worker_free(struct ntfw_worker *w);

/* The verdict path, shared with tests: parse, match, count. */
unsigned int ntfw_worker_verdict(struct ntfw_worker *w,
				 const struct ntfw_nfq_msg *m);

#endif
