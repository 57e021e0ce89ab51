// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fast-path feed's shared half (feed.h): the per-worker queues the
 * producers' readers fill, the routing of a record to the worker that
 * owns its flow, the batched wakeups, the loss epoch, and the startup
 * decision between the producers.  The producers themselves are kring.c
 * (the kernel module's ring) and bpffeed.c (the eBPF program's).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "engine.h"
#include "feed.h"
#include "log.h"
#include "relate.h"

#define CNT_ADD(x, n) __atomic_store_n(&(x), (x) + (n), __ATOMIC_RELAXED)

int ntfw_feed_init(struct ntfw_feed *f, unsigned int nw,
		   const struct ntfw_relate *rel)
{
	unsigned int i;

	if (!nw || nw > 64)
		return -EINVAL;
	f->q = calloc(nw, sizeof(*f->q));
	f->wake_fd = malloc(nw * sizeof(*f->wake_fd));
	if (!f->q || !f->wake_fd)
		return -ENOMEM;
	f->nw = nw;
	for (i = 0; i < nw; i++)
		f->wake_fd[i] = -1;
	for (i = 0; i < nw; i++) {
		f->q[i] = aligned_alloc(64, sizeof(struct ntfw_kq));
		if (!f->q[i])
			return -ENOMEM;
		memset(f->q[i], 0, sizeof(struct ntfw_kq));
		f->wake_fd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (f->wake_fd[i] < 0)
			return -errno;
	}
	f->rel = rel;
	return 0;
}

void ntfw_feed_free(struct ntfw_feed *f)
{
	unsigned int i;

	for (i = 0; i < f->nw; i++) {
		if (f->q)
			free(f->q[i]);
		if (f->wake_fd && f->wake_fd[i] >= 0)
			close(f->wake_fd[i]);
	}
	free(f->q);
	free(f->wake_fd);
	f->q = NULL;
	f->wake_fd = NULL;
	f->nw = 0;
}

/* The worker that holds the flow of @r, or -1. */
static int owner_of(const struct ntfw_feed *f, const struct ntfw_ring_rec *r)
{
	uint8_t sa[16], da[16], w;

	if (f->nw == 1)
		return 0;
	/* A record of no family we know: worker 0 counts it as bad. */
	if (r->family != 4 && r->family != 6)
		return 0;
	memcpy(sa, r->saddr, 16);
	memcpy(da, r->daddr, 16);
	if (r->family == 4) {
		memset(sa + 4, 0, 12);
		memset(da + 4, 0, 12);
	}
	if (!f->rel || !ntfw_relate_owner(f->rel, r->family, r->proto, sa,
					  r->sport, da, r->dport, &w) ||
	    w >= f->nw)
		return -1;
	return w;
}

static bool kq_push(struct ntfw_kq *q, const struct ntfw_ring_rec *r)
{
	uint64_t head = q->head;

	if (head - __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE) >= NTFW_KQ_LEN)
		return false;
	q->rec[head & (NTFW_KQ_LEN - 1)] = *r;
	__atomic_store_n(&q->head, head + 1, __ATOMIC_RELEASE);
	return true;
}

void ntfw_feed_put(struct ntfw_feed *f, const struct ntfw_ring_rec *r)
{
	int w = owner_of(f, r);

	CNT_ADD(f->cnt.read, 1);
	if (w < 0) {
		CNT_ADD(f->cnt.no_owner, 1);
		return;
	}
	if (!kq_push(f->q[w], r)) {
		CNT_ADD(f->cnt.queue_full, 1);
		return;
	}
	f->woken |= 1ull << w;
}

void ntfw_feed_wake(struct ntfw_feed *f)
{
	unsigned int i;

	for (i = 0; i < f->nw; i++)
		if ((f->woken >> i & 1) && eventfd_write(f->wake_fd[i], 1) < 0)
			log_warn("fastpath feed: eventfd");
	f->woken = 0;
}

void ntfw_feed_lost(struct ntfw_feed *f, uint64_t n)
{
	CNT_ADD(f->cnt.kernel_dropped, n);
	__atomic_add_fetch(&f->loss_epoch, 1, __ATOMIC_RELEASE);
}

void ntfw_feed_wants(unsigned int feed, unsigned int kmod, int *want_kmod,
		     int *want_bpf)
{
	*want_kmod = *want_bpf = 0;
	switch (feed) {
	case NTFW_FEED_KMOD:
		*want_kmod = 2;
		break;
	case NTFW_FEED_BPF:
		*want_bpf = 2;
		break;
	case NTFW_FEED_AUTO:
		/* The configuration refuses "kmod" statements that
		 * contradict fastpath-feed (conf.c): on is "kmod",
		 * off is "not the module". */
		if (kmod == NTFW_KMOD_ON) {
			*want_kmod = 2;
		} else {
			*want_kmod = kmod == NTFW_KMOD_AUTO;
			*want_bpf = 1;
		}
		break;
	default:
		break;
	}
}

int ntfw_feed_bpf_decide(int want, int rc, const char *why, char *msg,
			 size_t msglen)
{
	const char *what;

	if (!rc) {
		snprintf(msg, msglen, "fastpath feed: bpf");
		return 1;
	}
	switch (rc) {
	case -EINVAL:
	case -EOPNOTSUPP:
	case -ENOENT:
		what = "the kernel has no netfilter BPF programs (Linux 6.4 on with CONFIG_NETFILTER_BPF_LINK)";
		break;
	case -EPERM:
	case -EACCES:
		what = "no permission to load BPF (CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON needed)";
		break;
	default:
		what = "cannot load or attach the program";
		break;
	}
	if (want == 2) {
		snprintf(msg, msglen, "fastpath-feed bpf: %s: %s", what, why);
		return -1;
	}
	snprintf(msg, msglen, "fastpath-feed auto: no eBPF feed, %s: %s; handed-off flows keep the features of their queued packets only",
		 what, why);
	return 0;
}

unsigned int ntfw_kq_drain(struct ntfw_kq *q, struct ntfw_engine *e,
			   unsigned int max)
{
	uint64_t tail = q->tail;
	uint64_t head = __atomic_load_n(&q->head, __ATOMIC_ACQUIRE);
	struct ntfw_ring_rec r;
	unsigned int n = 0;

	while (tail != head && n < max) {
		r = q->rec[tail & (NTFW_KQ_LEN - 1)];
		tail++;
		n++;
		ntfw_engine_record(e, &r);
	}
	__atomic_store_n(&q->tail, tail, __ATOMIC_RELEASE);
	return n;
}
