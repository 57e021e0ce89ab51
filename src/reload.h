/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_RELOAD_H
#define NTFW_RELOAD_H

#include <pthread.h>
#include <stdint.h>

struct ntfw_conf;
struct ntfw_feed;
struct ntfw_worker;

/* What the main thread holds while the workers answer packets. */
struct ntfw_relate;

struct ntfw_daemon {
	const char *path;	/* the configuration file, read on SIGHUP */
	struct ntfw_conf *conf;	/* the running configuration */
	struct ntfw_worker *w;
	unsigned int nq;
	int log_fd;		/* the event log, or -1 */
	int ack_fd;		/* eventfd: a worker took a new configuration */
	uint64_t gen;		/* generation of the running configuration */
	uint64_t reloads;	/* reloads done, and refused */
	uint64_t reload_failures;
	struct ntfw_relate *rel;	/* decided flows, several queues */
	/* The fast-path feed that runs (feed.h), or NULL, and which one:
	 * NTFW_FEED_KMOD, NTFW_FEED_BPF or NTFW_FEED_OFF. */
	const struct ntfw_feed *feed;
	uint8_t feed_kind;
	/* Held by whoever reloads or reads the configuration and the rule
	 * counters: the signal loop and the control thread. */
	pthread_mutex_t lock;
};

/* Open the event log of @conf into *@fd (-1 when there is none).
 * Returns 0, or -1 after logging why. */
int ntfw_event_log_open(const struct ntfw_conf *conf, int *fd);

/*
 * SIGHUP: read the configuration file again and hand it to the workers.
 * On any error the running configuration stays, whole.  Statements that
 * need a restart keep their running value, with a warning each.
 * Returns 0 when the new configuration runs, -1 otherwise.
 */
int ntfw_reload(struct ntfw_daemon *d);

/* The same, and with @msg non-NULL, *@msg is set to what the parser said
 * (malloc'd, "file:line:col: error: ..." lines; NULL when nothing). */
int ntfw_reload_msg(struct ntfw_daemon *d, char **msg);

#endif
