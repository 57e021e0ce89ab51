// SPDX-License-Identifier: GPL-2.0-only
/*
 * The eBPF producer of the fast-path records (bpf/ntfw_feed.bpf.c): its
 * loader, and the thread that reads its ring into the feed (feed.c).
 *
 * Debian 12's libbpf (1.1) and uapi headers predate the netfilter program
 * type (Linux 6.4).  libbpf 1.1 loads the program once told its type and
 * expected attach type (it does not know the "netfilter" section); the
 * link is made with the bpf() system call by hand, with the netfilter
 * member of union bpf_attr's link_create declared below.  The object is
 * compiled into ntfw (bpftool gen skeleton): the installed daemon needs
 * no other file.
 *
 * Lifetime: the links are not pinned.  They are file descriptors of the
 * daemon, so the hooks go when it exits, however it exits; a restart
 * attaches afresh, and a connection handed off before it is no longer
 * any worker's (its records count as unknown-flow).  Two daemons in one
 * network namespace cannot both attach: the kernel refuses a second BPF
 * hook at the same priority (EBUSY).
 *
 * The reader never sleeps on a record: the program wakes it only when a
 * quarter of the ring is unread (NTFW_BPF_WAKE_BYTES), and the thread
 * otherwise looks at the ring every NTFW_BPF_POLL_MS.  Reading the ring
 * is loads and stores in a shared mapping (libbpf's ring_buffer__consume),
 * waiting is poll(2) on libbpf's epoll descriptor: no system call that
 * the daemon's seccomp filter would have to allow for it.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "bpffeed.h"
#include "log.h"
#include "ntfw_feed.skel.h"

/* Linux 6.4 uapi, absent from Debian 12's <linux/bpf.h>. */
#define NTFW_PROG_TYPE_NETFILTER 32	/* enum bpf_prog_type */
#define NTFW_ATTACH_NETFILTER 45	/* enum bpf_attach_type */
#define NTFW_NFPROTO_IPV4 2
#define NTFW_NFPROTO_IPV6 10
#define NTFW_NF_INET_PRE_ROUTING 0
#define NTFW_NF_INET_POST_ROUTING 4

/*
 * union bpf_attr's link_create as Linux 6.4 lays it out, its netfilter
 * member included: prog_fd, target_fd, attach_type, flags, then the
 * per-type union, whose netfilter member is pf, hooknum, priority, flags.
 * The kernel takes a shorter bpf_attr and zeroes the rest.
 */
struct ntfw_nf_link_create {
	uint32_t prog_fd;
	uint32_t target_fd;	/* unused: 0 */
	uint32_t attach_type;	/* NTFW_ATTACH_NETFILTER */
	uint32_t flags;		/* 0 */
	uint32_t pf;		/* NFPROTO_* */
	uint32_t hooknum;	/* NF_INET_* */
	int32_t priority;
	uint32_t nf_flags;	/* BPF_F_NETFILTER_IP_DEFRAG: not wanted */
};
_Static_assert(sizeof(struct ntfw_nf_link_create) == 32,
	       "link_create with its netfilter member is 32 bytes");

/*
 * The priorities: those of kmod/ntfw_kmod.c plus one, so that the module
 * and the program may run side by side (a hook of each at one priority
 * would run in load order).  PRE_ROUTING after conntrack (-200) and
 * before mangle (-150) and DNAT (-100): the connection and its mark are
 * known, the addresses are the wire's.  POST_ROUTING after SNAT (100) and
 * the conntrack helpers (300), before confirm (INT_MAX).  The IPv6
 * priorities are the same numbers.
 */
#define NTFW_BPF_PRI_PRE (-200 + 2)
#define NTFW_BPF_PRI_POST (300 + 2)

static const struct {
	uint32_t pf, hook;
	int32_t prio;
} hooks[NTFW_BPF_LINKS] = {
	{ NTFW_NFPROTO_IPV4, NTFW_NF_INET_PRE_ROUTING, NTFW_BPF_PRI_PRE },
	{ NTFW_NFPROTO_IPV4, NTFW_NF_INET_POST_ROUTING, NTFW_BPF_PRI_POST },
	{ NTFW_NFPROTO_IPV6, NTFW_NF_INET_PRE_ROUTING, NTFW_BPF_PRI_PRE },
	{ NTFW_NFPROTO_IPV6, NTFW_NF_INET_POST_ROUTING, NTFW_BPF_PRI_POST },
};

/*
 * libbpf's own messages: warnings to the log, the rest with -v; one log
 * line per line (a verifier log comes in one piece).  libbpf puts its
 * name in front already.
 */
static int libbpf_log(enum libbpf_print_level level, const char *fmt,
		      va_list ap)
{
	char *buf = NULL, *line, *save = NULL;

	if (vasprintf(&buf, fmt, ap) < 0)
		return 0;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (level == LIBBPF_WARN)
			log_warnx("%s", line);
		else
			log_debug("%s", line);
	}
	free(buf);
	return 0;
}

/*
 * Whether the kernel takes a program of the netfilter type at all: a
 * program that accepts every packet, loaded and closed.  Tells a kernel
 * without the type (EINVAL) from one that refuses us (EPERM) before the
 * real program's verifier log could muddle it.
 */
static int probe(void)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, o,
		    .expected_attach_type = NTFW_ATTACH_NETFILTER);
	int fd;

	fd = bpf_prog_load(NTFW_PROG_TYPE_NETFILTER, "ntfw_probe", "GPL",
			   insns, 2, &o);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int link_create(int prog_fd, unsigned int i)
{
	struct ntfw_nf_link_create a;

	memset(&a, 0, sizeof(a));
	a.prog_fd = (uint32_t)prog_fd;
	a.attach_type = NTFW_ATTACH_NETFILTER;
	a.pf = hooks[i].pf;
	a.hooknum = hooks[i].hook;
	a.priority = hooks[i].prio;
	return (int)syscall(__NR_bpf, BPF_LINK_CREATE, &a, sizeof(a));
}

static int on_record(void *ctx, void *data, size_t len)
{
	struct ntfw_bpffeed *b = ctx;
	struct ntfw_ring_rec r;

	if (len != sizeof(r)) {
		/* Not the program we built: nothing in it to believe. */
		__atomic_store_n(&b->feed.cnt.resync, b->feed.cnt.resync + 1,
				 __ATOMIC_RELAXED);
		return 0;
	}
	memcpy(&r, data, sizeof(r));
	/* The program's clock is CLOCK_MONOTONIC; the records' realtime. */
	r.ts_ns = (uint64_t)((int64_t)r.ts_ns + b->rt_off);
	ntfw_feed_put(&b->feed, &r);
	/* A negative return ends libbpf's turn, this record taken. */
	return ++b->batch >= NTFW_FEED_BATCH ? -EAGAIN : 0;
}

static int64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int ntfw_bpffeed_open(struct ntfw_bpffeed *b, char *err, size_t errlen)
{
	struct bpf_program *prog;
	unsigned int i;
	int rc, fd;

	memset(b, 0, sizeof(*b));
	b->stop_fd = -1;
	libbpf_set_print(libbpf_log);
	rc = probe();
	if (rc) {
		snprintf(err, errlen, "bpf(BPF_PROG_LOAD) of a netfilter program: %s",
			 strerror(-rc));
		return rc;
	}
	b->skel = ntfw_feed_bpf__open();
	if (!b->skel) {
		rc = -errno;
		snprintf(err, errlen, "opening the program: %s", strerror(errno));
		return rc;
	}
	prog = b->skel->progs.ntfw_feed;
	b->skel->rodata->wake_bytes = NTFW_BPF_WAKE_BYTES;
	if (bpf_map__set_max_entries(b->skel->maps.ntfw_ring,
				     NTFW_BPF_RING_BYTES) ||
	    bpf_program__set_type(prog, NTFW_PROG_TYPE_NETFILTER) ||
	    bpf_program__set_expected_attach_type(prog, NTFW_ATTACH_NETFILTER)) {
		rc = -EINVAL;
		snprintf(err, errlen, "setting the program up: %s",
			 strerror(EINVAL));
		goto fail;
	}
	rc = ntfw_feed_bpf__load(b->skel);
	if (rc) {
		/* The kernel took the probe: this is the verifier's or
		 * the relocations' refusal, not a missing right. */
		snprintf(err, errlen, "loading the program: %s (the libbpf lines above say why)",
			 strerror(rc < 0 ? -rc : EINVAL));
		rc = -ENOEXEC;
		goto fail;
	}
	b->rb = ring_buffer__new(bpf_map__fd(b->skel->maps.ntfw_ring),
				 on_record, b, NULL);
	if (!b->rb) {
		rc = -errno;
		snprintf(err, errlen, "mapping the ring: %s", strerror(errno));
		goto fail;
	}
	fd = bpf_program__fd(prog);
	for (i = 0; i < NTFW_BPF_LINKS; i++) {
		b->link[i] = link_create(fd, i);
		if (b->link[i] >= 0) {
			b->nlinks++;
		} else {
			rc = -errno;
			snprintf(err, errlen, "bpf(BPF_LINK_CREATE) %s %s priority %d: %s%s",
				 hooks[i].pf == NTFW_NFPROTO_IPV4 ? "ipv4" : "ipv6",
				 hooks[i].hook ? "postrouting" : "prerouting",
				 hooks[i].prio, strerror(errno),
				 errno == EBUSY ? " (another ntfw feeds this network namespace)" : "");
			goto fail;
		}
	}
	b->lost_seen = ntfw_bpffeed_lost(b);
	b->active = true;
	return 0;
fail:
	ntfw_bpffeed_close(b);
	return rc;
}

uint64_t ntfw_bpffeed_lost(const struct ntfw_bpffeed *b)
{
	/* The program's global, in the mapping of its .bss. */
	return b->skel && b->skel->bss ?
	       __atomic_load_n(&b->skel->bss->ntfw_lost, __ATOMIC_RELAXED) : 0;
}

unsigned int ntfw_bpffeed_poll(struct ntfw_bpffeed *b)
{
	uint64_t lost = ntfw_bpffeed_lost(b);
	int n;

	if (lost > b->lost_seen)
		ntfw_feed_lost(&b->feed, lost - b->lost_seen);
	b->lost_seen = lost;
	b->batch = 0;
	b->rt_off = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
	n = ring_buffer__consume(b->rb);
	ntfw_feed_wake(&b->feed);
	if (n == -EAGAIN)
		return NTFW_FEED_BATCH;
	if (n < 0) {
		errno = -n;
		log_warn("fastpath feed: bpf ring");
		return 0;
	}
	return (unsigned int)n;
}

static void *bpffeed_main(void *arg)
{
	struct ntfw_bpffeed *b = arg;
	struct pollfd pfd[2] = {
		{ .fd = ring_buffer__epoll_fd(b->rb), .events = POLLIN },
		{ .fd = b->stop_fd, .events = POLLIN },
	};
	unsigned int n;

	for (;;) {
		n = ntfw_bpffeed_poll(b);
		/* A full batch: more is waiting, do not sleep.  The sleep
		 * is the wait for the stop too. */
		if (poll(pfd, 2, n >= NTFW_FEED_BATCH ? 0 : NTFW_BPF_POLL_MS) > 0 &&
		    pfd[1].revents)
			break;
	}
	return NULL;
}

int ntfw_bpffeed_start(struct ntfw_bpffeed *b, int stop_fd)
{
	int rc;

	b->stop_fd = stop_fd;
	rc = pthread_create(&b->thread, NULL, bpffeed_main, b);
	if (rc)
		return -rc;
	b->started = true;
	return 0;
}

void ntfw_bpffeed_join(struct ntfw_bpffeed *b)
{
	if (b->started)
		pthread_join(b->thread, NULL);
	b->started = false;
}

void ntfw_bpffeed_close(struct ntfw_bpffeed *b)
{
	unsigned int i;

	/* The links first: no record is written after they are gone. */
	for (i = 0; i < b->nlinks; i++)
		close(b->link[i]);
	b->nlinks = 0;
	ring_buffer__free(b->rb);
	b->rb = NULL;
	ntfw_feed_bpf__destroy(b->skel);
	b->skel = NULL;
	ntfw_feed_free(&b->feed);
	b->active = false;
}
