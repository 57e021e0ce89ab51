/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_KRING_H
#define NTFW_KRING_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../kmod/ntfw_ring.h"
#include "stats.h"

struct ntfw_engine;
struct ntfw_relate;

/* Where the kernel module maps its ring. */
#define NTFW_KRING_PATH "/proc/ntfw/ring"

/* Records the consumer takes out of the kernel ring at once, at most. */
#define NTFW_KRING_BATCH 256u

/*
 * One worker's queue of records: the consumer thread is its only
 * producer, the worker its only consumer.  Fixed size; a record that does
 * not fit is dropped and counted (queue-full), never waited for.
 */
#define NTFW_KQ_LEN 4096u	/* a power of 2 */

struct ntfw_kq {
	uint64_t head __attribute__((aligned(64)));	/* the consumer's */
	uint64_t tail __attribute__((aligned(64)));	/* the worker's */
	struct ntfw_ring_rec rec[NTFW_KQ_LEN] __attribute__((aligned(64)));
};

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
	/* Where records go: one queue and one eventfd per worker. */
	unsigned int nw;
	struct ntfw_kq **q;
	int *wake_fd;
	const struct ntfw_relate *rel;	/* owners, with several workers */
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
	/*
	 * Bumped (relaxed atomic) each time the kernel is seen to have
	 * dropped records: a worker that sees it move flags the flows it
	 * has handed off (NTFW_HO_RING_LOST), for it cannot know whose
	 * records were lost.
	 */
	uint64_t loss_epoch;
	struct ntfw_ring_counts cnt;
};

/*
 * Map the ring at @path: the header page read-write, the records
 * read-only.  Returns 0, -ENOENT when there is no ring, -EPROTO for a
 * ring of a layout not known here, another -errno otherwise; on error a
 * message for the user is in @err.
 */
int ntfw_kring_open(struct ntfw_kring *k, const char *path, char *err,
		    size_t errlen);

/* One queue and one eventfd for each of @nw workers; 0 or -errno. */
int ntfw_kring_queues(struct ntfw_kring *k, unsigned int nw,
		      const struct ntfw_relate *rel);

/*
 * Take up to NTFW_KRING_BATCH records out of the ring into their owners'
 * queues, give the ring the slots back and wake the workers that got
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

/* Unmap and free everything (after ntfw_kring_join). */
void ntfw_kring_close(struct ntfw_kring *k);

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
