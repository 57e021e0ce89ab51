/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_CTL_H
#define NTFW_CTL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct ntfw_daemon;
struct ntfw_kring;
struct ntfw_ctl_client;

#define NTFW_CTL_CLIENTS 16	/* served at once; more wait in listen() */

/*
 * The control socket and the metrics file, served by a thread of their
 * own.  Commands that read the configuration or the rule counters, or
 * reload, hold @d->lock; flows are copied by their workers (snap.h).
 */
struct ntfw_ctl {
	struct ntfw_daemon *d;
	const struct ntfw_kring *kr;
	int lfd;		/* listening socket, or -1: none */
	char *path;		/* its path, unlinked at exit if still ours */
	dev_t dev;
	ino_t ino;
	int stop_fd;		/* the daemon's: readable when it stops */
	int snap_fd;		/* eventfd: a worker finished a flow copy */
	uint64_t start_ns;	/* CLOCK_MONOTONIC at start */
	uint64_t metrics_due;	/* when the metrics file is written next */
	struct ntfw_ctl_client *cl;
	pthread_t thread;
	bool started;
};

/*
 * Create the socket of @d->conf ("control-socket", "control-group"),
 * before the daemon forks and starts threads.  A socket another daemon
 * answers on is left alone (warned about; no control socket then).
 * Returns 0, or -1 after logging why.
 */
int ntfw_ctl_open(struct ntfw_ctl *c, struct ntfw_daemon *d,
		  const struct ntfw_kring *kr, int stop_fd);
int ntfw_ctl_start(struct ntfw_ctl *c);
/* Wait for the thread (the daemon wrote stop_fd), close, unlink. */
void ntfw_ctl_close(struct ntfw_ctl *c);

#endif
