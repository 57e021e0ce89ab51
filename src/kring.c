// SPDX-License-Identifier: GPL-2.0-only
/*
 * The consumer of the kernel's packet summary ring (kmod/ntfw_ring.h).
 *
 * A connection accepted for good is handed to the kernel, and its later
 * packets never reach a queue; the kernel module writes a summary record
 * of each of them into a ring that we map.  A thread of its own empties
 * the ring: it copies each record out (the kernel may be writing the next
 * ones, and nothing in a record is trusted) and hands it to the feed
 * (feed.c), which puts it on the queue of the worker that holds its flow.
 *
 * The ring's indexes are free-running counts: the kernel publishes prod
 * with a store release, we read it with a load acquire, copy the records
 * below it and give their slots back with a store release of cons, once
 * per batch.  When the ring is empty the thread sleeps a little longer
 * each time, up to a few milliseconds: no busy loop, and a record waits
 * a few milliseconds at most.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kring.h"
#include "log.h"

#define BACKOFF_MAX_MS 4
/* How often the thread looks for a ring again once the module is gone. */
#define REOPEN_MS 500
#define NREC_MAX (1u << 24)

#define CNT_ADD(x, n) __atomic_store_n(&(x), (x) + (n), __ATOMIC_RELAXED)

static long page_size(void)
{
	long p = sysconf(_SC_PAGESIZE);

	return p > 0 ? p : 4096;
}

static void unmap(struct ntfw_kring *k)
{
	if (k->rec_map && k->rec_map != MAP_FAILED)
		munmap(k->rec_map, k->rec_map_len);
	if (k->hdr && (void *)k->hdr != MAP_FAILED)
		munmap(k->hdr, k->hdr_len);
	if (k->fd >= 0)
		close(k->fd);
	k->rec_map = NULL;
	k->hdr = NULL;
	k->fd = -1;
	free(k->path);
	k->path = NULL;
}

int ntfw_kring_open(struct ntfw_kring *k, const char *path, char *err,
		    size_t errlen)
{
	long page = page_size();
	uint32_t magic, version, rec_size, nrec, off;
	size_t len, delta;
	struct stat st;
	int rc;

	memset(k, 0, sizeof(*k));
	k->fd = open(path, O_RDWR | O_CLOEXEC);
	if (k->fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	k->hdr_len = (size_t)page;
	if (fstat(k->fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size < (off_t)sizeof(struct ntfw_ring_hdr)) {
		snprintf(err, errlen, "%s: too short for a ring header", path);
		rc = -EPROTO;
		goto fail;
	}
	k->hdr = mmap(NULL, k->hdr_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		      k->fd, 0);
	if ((void *)k->hdr == MAP_FAILED) {
		rc = -errno;
		snprintf(err, errlen, "%s: mmap of the header: %s", path,
			 strerror(errno));
		goto fail;
	}
	magic = __atomic_load_n(&k->hdr->magic, __ATOMIC_ACQUIRE);
	version = k->hdr->version;
	rec_size = k->hdr->rec_size;
	nrec = k->hdr->nrec;
	off = k->hdr->rec_offset ? k->hdr->rec_offset : (uint32_t)page;
	rc = -EPROTO;
	if (magic != NTFW_RING_MAGIC) {
		snprintf(err, errlen, "%s: not an ntfw ring (magic 0x%08x, expected 0x%08x)",
			 path, magic, NTFW_RING_MAGIC);
		goto fail;
	}
	if (version != NTFW_RING_VERSION ||
	    rec_size != sizeof(struct ntfw_ring_rec)) {
		snprintf(err, errlen, "%s: ring version %u with %u-byte records, this ntfw reads version %u with %zu-byte records (module and daemon differ)",
			 path, version, rec_size, NTFW_RING_VERSION,
			 sizeof(struct ntfw_ring_rec));
		goto fail;
	}
	if (!nrec || (nrec & (nrec - 1)) || nrec > NREC_MAX ||
	    off < sizeof(struct ntfw_ring_hdr)) {
		snprintf(err, errlen, "%s: bad ring geometry (%u records at offset %u)",
			 path, nrec, off);
		goto fail;
	}
	/* mmap wants a page-aligned offset: map from the page that holds
	 * record 0. */
	delta = off % (size_t)page;
	len = delta + (size_t)nrec * rec_size;
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size < (uint64_t)off + len - delta) {
		snprintf(err, errlen, "%s: too short for its %u records", path,
			 nrec);
		goto fail;
	}
	k->rec_map_len = len;
	k->rec_map = mmap(NULL, len, PROT_READ, MAP_SHARED, k->fd,
			  (off_t)(off - delta));
	if (k->rec_map == MAP_FAILED) {
		rc = -errno;
		snprintf(err, errlen, "%s: mmap of the records: %s", path,
			 strerror(errno));
		goto fail;
	}
	k->rec = (const uint8_t *)k->rec_map + delta;
	k->nrec = nrec;
	/*
	 * Records written before we came belong to flows that no worker
	 * of ours holds: start at the producer's index, and say so.
	 */
	k->cons = __atomic_load_n(&k->hdr->prod, __ATOMIC_ACQUIRE);
	__atomic_store_n(&k->hdr->cons, k->cons, __ATOMIC_RELEASE);
	k->dropped_seen = __atomic_load_n(&k->hdr->dropped, __ATOMIC_RELAXED);
	k->stop_fd = -1;
	k->path = strdup(path);
	if (!k->path) {
		rc = -ENOMEM;
		snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
		goto fail;
	}
	return 0;
fail:
	unmap(k);
	return rc;
}

/* The kernel lost records: count them, and let the workers know. */
static void check_dropped(struct ntfw_kring *k)
{
	uint64_t d = __atomic_load_n(&k->hdr->dropped, __ATOMIC_ACQUIRE);

	if (d == k->dropped_seen)
		return;
	/* Only growth is news; a counter that went back is not ours to
	 * judge, it is only where we count from now. */
	if (d > k->dropped_seen)
		ntfw_feed_lost(&k->feed, d - k->dropped_seen);
	k->dropped_seen = d;
}

/*
 * The producer is gone: the records go (the header page stays, for the
 * counters and the reports), and the handed-off flows are flagged, for
 * their packets are summarised no more.
 */
static void ring_gone(struct ntfw_kring *k)
{
	if (k->rec_map && k->rec_map != MAP_FAILED)
		munmap(k->rec_map, k->rec_map_len);
	k->rec_map = NULL;
	k->rec = NULL;
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
	k->gone = true;
	ntfw_feed_lost(&k->feed, 0);
	log_warnx("kmod ring: %s went away (module unloaded): handed-off flows keep the features of their queued packets until it is back",
		  k->path);
}

int ntfw_kring_reopen(struct ntfw_kring *k)
{
	struct ntfw_kring t;
	char err[320];
	int rc;

	if (!k->gone)
		return 0;
	rc = ntfw_kring_open(&t, k->path, err, sizeof(err));
	if (rc)
		return rc;
	/* The old header page goes, the new ring comes in its place. */
	munmap(k->hdr, k->hdr_len);
	k->fd = t.fd;
	k->hdr_len = t.hdr_len;
	k->rec_map = t.rec_map;
	k->rec_map_len = t.rec_map_len;
	k->rec = t.rec;
	k->nrec = t.nrec;
	k->cons = t.cons;
	k->dropped_seen = t.dropped_seen;
	__atomic_store_n(&k->hdr, t.hdr, __ATOMIC_RELEASE);
	free(t.path);
	k->gone = false;
	log_info("kmod ring: %s, %u records, read again", k->path, k->nrec);
	return 0;
}

unsigned int ntfw_kring_poll(struct ntfw_kring *k)
{
	const size_t rsz = sizeof(struct ntfw_ring_rec);
	uint64_t prod, avail;
	struct ntfw_ring_rec r;
	unsigned int n, i;
	uint32_t magic;

	if (k->gone)
		return 0;
	/*
	 * Magic 0: the module is going or gone and prod has stopped (it
	 * stores the magic last, with a release).  What is below prod is
	 * still there to read; once it is read, the ring is done with.
	 */
	magic = __atomic_load_n(&k->hdr->magic, __ATOMIC_ACQUIRE);
	check_dropped(k);
	prod = __atomic_load_n(&k->hdr->prod, __ATOMIC_ACQUIRE);
	avail = prod - k->cons;
	if (!avail && magic != NTFW_RING_MAGIC) {
		ring_gone(k);
		return 0;
	}
	if (!avail)
		return 0;
	if (avail > k->nrec) {
		/*
		 * More than the ring holds, or an index that went back: the
		 * producer cannot have written that (or somebody else moved
		 * our index).  Nothing between is to be believed: go on from
		 * its index, count what was skipped, and treat it as lost.
		 */
		if (prod > k->cons)
			CNT_ADD(k->feed.cnt.resync, avail);
		else
			CNT_ADD(k->feed.cnt.resync, 1);
		k->cons = prod;
		__atomic_store_n(&k->hdr->cons, k->cons, __ATOMIC_RELEASE);
		ntfw_feed_lost(&k->feed, 0);
		return 0;
	}
	n = avail < NTFW_FEED_BATCH ? (unsigned int)avail : NTFW_FEED_BATCH;
	for (i = 0; i < n; i++) {
		memcpy(&r, k->rec + (size_t)((k->cons + i) & (k->nrec - 1)) * rsz,
		       rsz);
		ntfw_feed_put(&k->feed, &r);
	}
	k->cons += n;
	/* The slots are the kernel's again once the copies are made. */
	__atomic_store_n(&k->hdr->cons, k->cons, __ATOMIC_RELEASE);
	ntfw_feed_wake(&k->feed);
	return n;
}

static void *kring_main(void *arg)
{
	struct ntfw_kring *k = arg;
	struct pollfd pfd = { .fd = k->stop_fd, .events = POLLIN };
	int ms = 0;

	for (;;) {
		if (k->gone && ntfw_kring_reopen(k))
			ms = REOPEN_MS;
		else if (ntfw_kring_poll(k))
			ms = 0;
		else
			ms = ms ? (ms < BACKOFF_MAX_MS ? ms * 2 : BACKOFF_MAX_MS) : 1;
		/* The sleep is the wait for the stop: one call for both. */
		if (poll(&pfd, 1, ms) > 0)
			break;
	}
	return NULL;
}

int ntfw_kring_start(struct ntfw_kring *k, int stop_fd)
{
	int rc;

	k->stop_fd = stop_fd;
	rc = pthread_create(&k->thread, NULL, kring_main, k);
	if (rc)
		return -rc;
	k->started = true;
	return 0;
}

void ntfw_kring_join(struct ntfw_kring *k)
{
	if (k->started)
		pthread_join(k->thread, NULL);
	k->started = false;
}

void ntfw_kring_close(struct ntfw_kring *k)
{
	ntfw_feed_free(&k->feed);
	unmap(k);
}
