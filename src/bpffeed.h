/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_BPFFEED_H
#define NTFW_BPFFEED_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "feed.h"

struct ntfw_feed_bpf;
struct ring_buffer;

/* One link per family (IPv4, IPv6) and hook (PRE_ROUTING, POST_ROUTING). */
#define NTFW_BPF_LINKS 4

/* The ring buffer's size (a power of 2 of pages), and the unread bytes
 * past which the program wakes the reader instead of letting it find
 * the records at its next turn. */
#define NTFW_BPF_RING_BYTES (4u << 20)
#define NTFW_BPF_WAKE_BYTES (NTFW_BPF_RING_BYTES / 4)
/* The reader's turn when nobody wakes it, milliseconds. */
#define NTFW_BPF_POLL_MS 10

/* The eBPF netfilter producer (bpf/ntfw_feed.bpf.c) and its reader. */
struct ntfw_bpffeed {
	struct ntfw_feed_bpf *skel;	/* the object, embedded in ntfw */
	struct ring_buffer *rb;		/* libbpf's reader of the ring */
	int link[NTFW_BPF_LINKS];	/* BPF links, the first @nlinks made */
	unsigned int nlinks;
	uint64_t lost_seen;		/* the program's lost count, last read */
	int64_t rt_off;			/* CLOCK_REALTIME - CLOCK_MONOTONIC */
	unsigned int batch;		/* records of the current turn */
	struct ntfw_feed feed;		/* where records go (feed.h) */
	bool active;			/* loaded and attached */
	int stop_fd;
	pthread_t thread;
	bool started;
};

/*
 * Load the program, attach it at both hooks of both families in the
 * calling thread's network namespace, and map its ring.  Needs CAP_BPF,
 * CAP_NET_ADMIN and CAP_PERFMON (or CAP_SYS_ADMIN): call it before the
 * daemon gives its privileges up.  Returns 0, or -errno with a message
 * for the user in @err: -EINVAL when the kernel has no netfilter
 * programs, -EPERM without the rights.  On error nothing is left behind.
 */
int ntfw_bpffeed_open(struct ntfw_bpffeed *b, char *err, size_t errlen);

/*
 * Take what the ring holds (NTFW_FEED_BATCH records at most) into the
 * feed's queues, wake the workers that got some, and count what the
 * program lost.  Returns how many records were taken.  The thread calls
 * it; tests may too.
 */
unsigned int ntfw_bpffeed_poll(struct ntfw_bpffeed *b);

/* Records the program could not write (the ring was full). */
uint64_t ntfw_bpffeed_lost(const struct ntfw_bpffeed *b);

/* The reader thread: polls until @stop_fd is readable. */
int ntfw_bpffeed_start(struct ntfw_bpffeed *b, int stop_fd);
void ntfw_bpffeed_join(struct ntfw_bpffeed *b);

/* Detach (the links go, and with them the hooks), unmap and free, the
 * feed too; after ntfw_bpffeed_join. */
void ntfw_bpffeed_close(struct ntfw_bpffeed *b);

#endif
