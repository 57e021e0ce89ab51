/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_KRING_H
#define NTFW_KRING_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../kmod/ntfw_ring.h"
#include "feed.h"

/* Where the kernel module maps its ring. */
#define NTFW_KRING_PATH "/proc/ntfw/ring"

/* The kernel ring, mapped, and the thread that empties it. */
struct ntfw_kring {
	int fd;
	struct ntfw_ring_hdr *hdr;	/* page 0, read-write (cons only) */
	void *rec_map;			/* the records, read-only */
	size_t hdr_len, rec_map_len;
	const uint8_t *rec;		/* record 0 in @rec_map */
	uint32_t nrec;
	uint64_t cons;			/* ours; hdr->cons follows it */
	uint64_t dropped_seen;		/* hdr->dropped when last read */
	struct ntfw_feed feed;		/* where records go (feed.h) */
	int stop_fd;
	/*
	 * The module went away (magic 0): the records are unmapped, the
	 * header page stays mapped (its page outlives the module) and the
	 * thread tries @path again from time to time.
	 */
	bool gone;
	char *path;
	pthread_t thread;
	bool started;
};

/*
 * Map the ring at @path: the header page read-write, the records
 * read-only.  Returns 0, -ENOENT when there is no ring, -EPROTO for a
 * ring of a layout not known here, another -errno otherwise; on error a
 * message for the user is in @err.
 */
int ntfw_kring_open(struct ntfw_kring *k, const char *path, char *err,
		    size_t errlen);

/*
 * Take up to NTFW_FEED_BATCH records out of the ring into their owners'
 * queues (k->feed, set up with ntfw_feed_init()), give the ring the slots back and wake the workers that got
 * records.  Returns how many records were taken.  The thread calls it;
 * tests may too, without the thread.
 */
unsigned int ntfw_kring_poll(struct ntfw_kring *k);

/*
 * After the producer went away (k->gone): map @k->path again if a live
 * ring is there, and read on from its producer's index.  Returns 0 when
 * reading again, -errno otherwise.  The thread calls it.
 */
int ntfw_kring_reopen(struct ntfw_kring *k);

/* The thread: polls until @stop_fd is readable. */
int ntfw_kring_start(struct ntfw_kring *k, int stop_fd);
void ntfw_kring_join(struct ntfw_kring *k);

/* Unmap and free everything, k->feed too (after ntfw_kring_join). */
void ntfw_kring_close(struct ntfw_kring *k);

#endif
