// SPDX-License-Identifier: GPL-2.0-only
/*
 * A queue worker: read a batch of messages, run each packet through the
 * engine, answer.  Once a second (or when idle) it ends idle flows, a
 * bounded number per turn of the loop.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <linux/netfilter.h>

#include "conf.h"
#include "evlog.h"
#include "log.h"
#include "record.h"
#include "worker.h"

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Wall-clock time for records, but steady: the monotonic clock plus the
 * offset taken at start.  A step of the system clock must not expire every
 * flow at once, nor make every packet look over a rate.
 */
static uint64_t wall_offset;

static uint64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC) + wall_offset;
}

/* Whether the kernel ring lost records since the flows were flagged. */
static bool ring_loss_pending(const struct ntfw_worker *w)
{
	return w->ring_loss &&
	       __atomic_load_n(w->ring_loss, __ATOMIC_ACQUIRE) !=
	       w->ring_loss_seen;
}

/* A flow ended: its record goes to the event log's writer (evlog.c),
 * through this worker's ring, never waiting for the file. */
static void write_record(const struct ntfw_flow *f, void *arg)
{
	struct ntfw_worker *w = arg;
	char buf[NTFW_EVLOG_LINE_MAX];
	struct ntfw_flow lost;
	size_t n, h;

	if (!ntfw_evlog_on())
		return;
	/* Records lost and the flows not flagged yet: this one may have
	 * lost some. */
	if (f->handoff && !(f->handoff & NTFW_HO_RING_LOST) &&
	    ring_loss_pending(w)) {
		lost = *f;
		lost.handoff |= NTFW_HO_RING_LOST;
		f = &lost;
	}
	/* {"ts":...,"event":"flow", then the record without its brace. */
	h = ntfw_evlog_head(buf, sizeof(buf) - NTFW_RECORD_MAX, "flow");
	n = ntfw_record_format(f, w->engine.conf, NTFW_FMT_JSON, buf + h,
			       NTFW_RECORD_MAX);
	buf[h] = ',';
	if (!ntfw_evlog_put(w->engine.id, buf, h + n))
		STAT_INC(w->engine.stats.log_errors);
}

static void worker_drop(const struct ntfw_pkt *p, unsigned int rule,
			unsigned int pstate, void *arg)
{
	struct ntfw_worker *w = arg;

	ntfw_evlog_drop(w->engine.id, w->engine.conf, &w->engine.ifc, p, rule,
			pstate);
}

static unsigned int worker_cb(struct ntfw_nfq_msg *m, void *arg)
{
	struct ntfw_worker *w = arg;
	struct ntfw_meta meta = {
		.hw_proto = m->hw_proto,
		.hook = m->hook,
		.iif = m->iif,
		.oif = m->oif,
		.ts_ns = now_ns(),
		.ct_related = m->ct_related,
	};

	bool handoff = false;

	if (ntfw_engine_packet(&w->engine, m->data, m->caplen, m->wirelen,
			       &meta, &handoff) == NTFW_DROP)
		return NF_DROP;
	if (!handoff && !w->engine.handed)
		return NF_ACCEPT;
	m->set_mark = true;
	m->new_mark = m->mark | NTFW_FASTPATH_MARK;
	/* A packet queued before its flow's hand-off took effect: accepted
	 * with the mark, which tells the kernel ring it was seen here. */
	if (!handoff)
		return NF_ACCEPT;
	/* The fast path: the packet runs the chain again with our mark
	 * bit; the ruleset saves it to the connection's mark and accepts
	 * the connection's later packets itself (rules/).  Where the
	 * kernel has the conntrack glue, the verdict marks the connection
	 * too, whatever the ruleset does with the packet mark. */
	m->ct_set_bits = NTFW_FASTPATH_MARK;
	return NF_REPEAT;
}

static struct ntfw_nfq_opts nfq_opts(const struct ntfw_conf *conf)
{
	struct ntfw_nfq_opts o = {
		.fail_open = conf->fail_open,
		.gso = conf->gso,
		/* Only hand-off verdicts mark anything. */
		.conntrack = conf->fastpath_after != 0,
		.copy_range = conf->copy_range,
		.maxlen = conf->queue_maxlen,
		.rcvbuf = conf->socket_buffer,
	};

	return o;
}

int ntfw_worker_init(struct ntfw_worker *w, uint16_t queue,
		     const struct ntfw_conf *conf, uint32_t flows_max,
		     int stop_fd, int ack_fd, int log_fd)
{
	struct ntfw_nfq_opts o = nfq_opts(conf);
	int rc;

	if (!wall_offset)
		wall_offset = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
	memset(w, 0, sizeof(*w));
	w->queue = queue;
	w->rec_fd = -1;
	w->stop_fd = stop_fd;
	w->ack_fd = ack_fd;
	w->log_fd = log_fd;
	w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->wake_fd < 0)
		return -errno;
	rc = ntfw_engine_init(&w->engine, conf, flows_max, write_record, w);
	if (rc) {
		close(w->wake_fd);
		return rc < 0 ? rc : -ENOMEM;
	}
	w->engine.on_drop = worker_drop;
	w->engine.on_drop_arg = w;
	rc = ntfw_nfq_open(&w->nfq, queue, &o, worker_cb, w);
	if (rc < 0) {
		ntfw_engine_free(&w->engine);
		close(w->wake_fd);
	}
	return rc;
}

/*
 * Take the configuration offered, if any: between two batches, so no
 * packet sees half of it.  The main thread frees the old one once every
 * worker has said (w->gen) that it let go.
 */
static void worker_take(struct ntfw_worker *w)
{
	struct ntfw_worker_swap *s;
	struct ntfw_nfq_opts o;
	int rc;

	if (!__atomic_load_n(&w->offer, __ATOMIC_RELAXED))
		return;
	s = __atomic_exchange_n(&w->offer, NULL, __ATOMIC_ACQUIRE);
	ntfw_engine_reload(&w->engine, &s->engine);
	w->log_fd = s->log_fd;
	o = nfq_opts(w->engine.conf);
	rc = ntfw_nfq_set(&w->nfq, &o);
	if (rc < 0) {
		errno = -rc;
		log_warn("queue %u: the kernel kept the old queue settings",
			 w->queue);
	}
	__atomic_store_n(&w->gen, s->gen, __ATOMIC_RELEASE);
	if (eventfd_write(w->ack_fd, 1) < 0)
		log_warn("queue %u: eventfd", w->queue);
}

void ntfw_worker_offer(struct ntfw_worker *w, struct ntfw_worker_swap *s)
{
	__atomic_store_n(&w->offer, s, __ATOMIC_RELEASE);
	if (eventfd_write(w->wake_fd, 1) < 0)
		log_warn("queue %u: eventfd", w->queue);
}

bool ntfw_worker_took(struct ntfw_worker *w, uint64_t gen)
{
	if (__atomic_load_n(&w->gen, __ATOMIC_ACQUIRE) == gen)
		return true;
	/* Its thread is gone (it logged why): nothing races us now. */
	if (__atomic_load_n(&w->exited, __ATOMIC_ACQUIRE)) {
		worker_take(w);
		return true;
	}
	return false;
}

void ntfw_worker_ring(struct ntfw_worker *w, struct ntfw_feed *f,
		      unsigned int i)
{
	w->kq = f->q[i];
	w->rec_fd = f->wake_fd[i];
	w->ring_loss = &f->loss_epoch;
	w->ring_loss_seen = __atomic_load_n(&f->loss_epoch, __ATOMIC_ACQUIRE);
}

static void flag_lost(struct ntfw_flow *f, void *arg)
{
	if (f->handoff)
		f->handoff |= NTFW_HO_RING_LOST;
}

/*
 * Records applied in one turn of the loop, between two looks at the
 * queue: queued packets wait for their verdicts behind them, and a
 * record of a GSO packet is up to 64 KiB of segments to account.  With
 * 1024 a turn, the packets still queued at a hand-off (the rest of the
 * first window) waited milliseconds behind the records of the data sent
 * after them through the fast path: the receiver saw them late and out
 * of order, and the sender retransmitted them.
 */
#define RING_DRAIN_MAX 32u
/* The kernel lost records: the handed-off flows are flagged at most this
 * often (a walk of the table); records written in between say it too. */
#define RING_FLAG_NS 100000000ull

/* Apply the records queued for us, and flag the flows that the kernel
 * may have lost records of. */
static void worker_records(struct ntfw_worker *w, uint64_t now)
{
	uint64_t loss;

	ntfw_kq_drain(w->kq, &w->engine, RING_DRAIN_MAX);
	loss = __atomic_load_n(w->ring_loss, __ATOMIC_ACQUIRE);
	if (loss != w->ring_loss_seen && now >= w->ring_flag_ns) {
		ntfw_flow_foreach(&w->engine.flows, flag_lost, NULL);
		w->ring_loss_seen = loss;
		w->ring_flag_ns = now + RING_FLAG_NS;
	}
}

static void *worker_main(void *arg)
{
	struct ntfw_worker *w = arg;
	struct pollfd pfd[4] = {
		{ .fd = ntfw_nfq_fd(&w->nfq), .events = POLLIN },
		{ .fd = w->stop_fd, .events = POLLIN },
		{ .fd = w->wake_fd, .events = POLLIN },
		{ .fd = w->rec_fd, .events = POLLIN },
	};
	nfds_t nfd = w->kq ? 4 : 3;
	uint64_t next_tick = 0, t;
	bool expiring = false;
	eventfd_t v;
	int rc;

	for (;;) {
		/* Records left over from the last turn, or flows still due
		 * to end: do not sleep. */
		rc = poll(pfd, nfd,
			  expiring || (w->kq && ntfw_kq_pending(w->kq)) ? 0 :
			  w->nfq.held_n ? 10 : 1000);
		if (rc < 0 && errno != EINTR) {
			log_warn("queue %u: poll", w->queue);
			break;
		}
		if (pfd[1].revents)
			break;
		if (rc > 0 && pfd[2].revents)
			eventfd_read(w->wake_fd, &v);
		worker_take(w);
		if (rc > 0 && pfd[0].revents) {
			rc = ntfw_nfq_drain(&w->nfq);
			if (rc < 0) {
				/* Not the network's doing: say so and keep
				 * serving (bypass covers the gap). */
				errno = -rc;
				log_warn("queue %u: receive", w->queue);
			}
		}
		/* Verdicts the kernel refused: again, packets or not. */
		if (w->nfq.held_n)
			ntfw_nfq_flush(&w->nfq);
		t = now_ns();
		ntfw_snap_serve(&w->snap, &w->engine.flows, t);
		if (w->kq) {
			if (rc > 0 && pfd[3].revents)
				eventfd_read(w->rec_fd, &v);
			worker_records(w, t);
		}
		/* A burst of flows ending together ends a batch per turn,
		 * the packets that came meanwhile served in between. */
		if (t >= next_tick) {
			expiring = ntfw_engine_tick(&w->engine, t);
			next_tick = expiring ? t : t + 1000000000ull;
		}
	}
	ntfw_engine_flush(&w->engine);
	__atomic_store_n(&w->exited, true, __ATOMIC_RELEASE);
	/* A copy asked for as we stopped: the table is still whole. */
	ntfw_snap_serve(&w->snap, &w->engine.flows, now_ns());
	/* Wake a reload that waits for us. */
	if (eventfd_write(w->ack_fd, 1) < 0)
		log_warn("queue %u: eventfd", w->queue);
	return NULL;
}

int ntfw_worker_start(struct ntfw_worker *w)
{
	int rc = pthread_create(&w->thread, NULL, worker_main, w);

	if (rc)
		return -rc;
	w->started = 1;
	return 0;
}

void ntfw_worker_join(struct ntfw_worker *w)
{
	if (w->started)
		pthread_join(w->thread, NULL);
	w->started = 0;
}

void ntfw_worker_free(struct ntfw_worker *w)
{
	close(w->wake_fd);
	ntfw_nfq_close(&w->nfq);
	ntfw_engine_free(&w->engine);
}
