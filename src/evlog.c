// SPDX-License-Identifier: GPL-2.0-only
/*
 * The event log's writer.  Workers format their lines on the packet path
 * and copy them into their ring; this thread gathers the rings' lines into
 * a batch and writes it with one write(2).  The file is opened non-blocking:
 * a FIFO whose reader stalls makes write(2) fail with EAGAIN instead of
 * waiting, and the lines that do not fit in the batch meanwhile are dropped
 * and counted.  A regular file on a stalled disk can still hold this thread;
 * the rings then fill and the workers count what they could not hand over.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "evlog.h"
#include "ifcache.h"
#include "json.h"
#include "log.h"
#include "parse.h"
#include "policy.h"
#include "record.h"

/* ---- the ring ---- */

#define WRAP_MARK 0xffffffffu	/* the rest of the buffer is unused */

static uint32_t entry_size(uint32_t len)
{
	return 4 + ((len + 3) & ~3u);
}

int ntfw_evring_init(struct ntfw_evring *r, uint32_t size)
{
	memset(r, 0, sizeof(*r));
	if (size < 64 || (size & (size - 1)))
		return -1;
	r->buf = malloc(size);
	if (!r->buf)
		return -1;
	r->size = size;
	return 0;
}

void ntfw_evring_free(struct ntfw_evring *r)
{
	free(r->buf);
	r->buf = NULL;
}

bool ntfw_evring_put(struct ntfw_evring *r, const void *data, uint32_t len)
{
	uint64_t head = r->head;
	uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	uint32_t need = entry_size(len), off = (uint32_t)head & (r->size - 1);
	uint32_t to_end = r->size - off, skip = need > to_end ? to_end : 0;
	uint32_t hdr = len;

	/* An entry is contiguous: one that would cross the end starts at
	 * the beginning, after a mark. */
	if (len >= WRAP_MARK || need > r->size ||
	    r->size - (head - tail) < (uint64_t)skip + need) {
		__atomic_store_n(&r->lost, r->lost + 1, __ATOMIC_RELAXED);
		return false;
	}
	if (skip) {
		hdr = WRAP_MARK;
		memcpy(r->buf + off, &hdr, 4);
		hdr = len;
		head += skip;
		off = 0;
	}
	memcpy(r->buf + off, &hdr, 4);
	memcpy(r->buf + off + 4, data, len);
	__atomic_store_n(&r->head, head + need, __ATOMIC_RELEASE);
	return true;
}

const void *ntfw_evring_peek(struct ntfw_evring *r, uint32_t *len)
{
	uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	uint32_t off, hdr;

	if (r->tail == head)
		return NULL;
	off = (uint32_t)r->tail & (r->size - 1);
	memcpy(&hdr, r->buf + off, 4);
	if (hdr == WRAP_MARK) {
		__atomic_store_n(&r->tail, r->tail + (r->size - off),
				 __ATOMIC_RELEASE);
		if (r->tail == head)
			return NULL;
		off = 0;
		memcpy(&hdr, r->buf, 4);
	}
	*len = hdr;
	return r->buf + off + 4;
}

void ntfw_evring_pop(struct ntfw_evring *r)
{
	uint32_t off = (uint32_t)r->tail & (r->size - 1), hdr;

	memcpy(&hdr, r->buf + off, 4);
	__atomic_store_n(&r->tail, r->tail + entry_size(hdr), __ATOMIC_RELEASE);
}

/* ---- the producers ---- */

/* Drop lines are limited per rule: rules past the first RULE_SLOTS share
 * the last slot, then the default, "invalid" and "malformed". */
#define RULE_SLOTS 256u
#define SLOT_DEFAULT RULE_SLOTS
#define SLOT_INVALID (RULE_SLOTS + 1)
#define SLOT_MALFORMED (RULE_SLOTS + 2)
#define NSLOTS (RULE_SLOTS + 3)

/* Shared by the workers: the limit holds for the whole daemon, however
 * many queues the drops come through.  Atomic, never locked. */
struct drop_slot {
	uint64_t word;		/* second << 32 | lines written in it */
	uint64_t suppressed;	/* not written since the last that was */
};

struct evq {
	struct ntfw_evring ring;
	/* The writer's alone. */
	uint64_t lost_reported;
};

#define BATCH (64u * 1024u)
#define RETRY_NS 1000000000ull
#define POLL_MS 20

static struct evlog {
	unsigned int nq;	/* workers; q[nq] is the daemon's ring */
	struct evq *q;
	pthread_mutex_t dmu;	/* the daemon ring's producers */
	bool on;		/* atomic: there is an event log */

	pthread_mutex_t mu;	/* guards what follows, never held in I/O */
	char *path;		/* the log's path, NULL: none */
	int next_fd;		/* for the writer, once have_next */
	bool have_next;

	int wake_fd;
	bool stop;		/* atomic */
	pthread_t thread;
	bool started;

	/* The writer's alone. */
	int fd;
	char *wpath;
	uint64_t retry_ns;
	bool failing;
	size_t n;
	char buf[BATCH];

	/* Counters: the writer's, relaxed atomic stores. */
	uint64_t lines;		/* written */
	uint64_t dropped;	/* not written: the file would not take them */
	uint64_t reopens;	/* ntfw_evlog_reopen()'s */

	/* Drop lines a second, per rule (atomic). */
	const struct ntfw_conf *slot_conf;	/* the rules the slots count */
	struct drop_slot slot[NSLOTS];
} L = {
	.dmu = PTHREAD_MUTEX_INITIALIZER,
	.mu = PTHREAD_MUTEX_INITIALIZER,
	.next_fd = -1, .wake_fd = -1, .fd = -1,
};

bool ntfw_evlog_on(void)
{
	return __atomic_load_n(&L.on, __ATOMIC_RELAXED);
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

size_t ntfw_evlog_head(char *buf, size_t size, const char *event)
{
	uint64_t ns = clock_ns(CLOCK_REALTIME);
	int n;

	n = snprintf(buf, size, "{\"ts\":%llu.%06llu,\"event\":\"%s\"",
		     (unsigned long long)(ns / 1000000000ull),
		     (unsigned long long)(ns % 1000000000ull / 1000), event);
	return n < 0 ? 0 : (size_t)n >= size ? size - 1 : (size_t)n;
}

bool ntfw_evlog_put(unsigned int q, const char *line, size_t len)
{
	return q < L.nq && ntfw_evring_put(&L.q[q].ring, line, (uint32_t)len);
}

/* The daemon's lines: any thread, so under a lock; the lock guards only
 * the copy into the ring. */
static void daemon_put(const char *line, size_t len)
{
	if (!L.q)
		return;
	pthread_mutex_lock(&L.dmu);
	ntfw_evring_put(&L.q[L.nq].ring, line, (uint32_t)len);
	pthread_mutex_unlock(&L.dmu);
}

/* ,"key":"value" escaped, for a line in @buf of @size, @n used. */
static size_t put_kv(char *buf, size_t size, size_t n, const char *key,
		     const char *val)
{
	int k = snprintf(buf + n, size - n, ",\"%s\":\"", key);

	if (k < 0 || (size_t)k >= size - n)
		return n;
	n += (size_t)k;
	n += ntfw_json_escape(buf + n, size - n, val, strlen(val));
	if (n + 1 < size)
		buf[n++] = '"';
	buf[n] = '\0';
	return n;
}

/* Close the line: "}\n", room kept for it by every writer above. */
static size_t put_end(char *buf, size_t size, size_t n)
{
	if (n + 3 > size)
		n = size - 3;
	memcpy(buf + n, "}\n", 3);
	return n + 2;
}

/* Count a line in @s for second @sec unless @limit were written in it. */
static bool drop_take(struct drop_slot *s, uint32_t sec, uint32_t limit)
{
	uint64_t old = __atomic_load_n(&s->word, __ATOMIC_RELAXED), nw;
	uint32_t n;

	do {
		n = (uint32_t)(old >> 32) == sec ? (uint32_t)old : 0;
		if (n >= limit)
			return false;
		nw = (uint64_t)sec << 32 | (n + 1);
	} while (!__atomic_compare_exchange_n(&s->word, &old, nw, true,
					      __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	return true;
}

void ntfw_evlog_drop(unsigned int q, const struct ntfw_conf *conf,
		     struct ntfw_ifcache *ifc, const struct ntfw_pkt *p,
		     unsigned int rule, unsigned int pstate)
{
	char line[1024], sa[INET6_ADDRSTRLEN], da[INET6_ADDRSTRLEN], pb[8];
	const size_t size = sizeof(line) - 2;	/* "}\n" always fits */
	const struct ntfw_conf *old;
	struct drop_slot *s;
	const char *name;
	uint64_t sec, suppressed;
	unsigned int i;
	size_t n;
	struct evq *e;

	if (q >= L.nq || !conf->log_drops || !ntfw_evlog_on())
		return;
	e = &L.q[q];
	/* Rule numbers mean other rules after a reload: start again (the
	 * worker that sees the new rules first clears the slots; a line a
	 * worker counts meanwhile only moves a second's count). */
	old = __atomic_load_n(&L.slot_conf, __ATOMIC_ACQUIRE);
	if (old != conf &&
	    __atomic_compare_exchange_n(&L.slot_conf, &old, conf, false,
					__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		for (i = 0; i < NSLOTS; i++) {
			__atomic_store_n(&L.slot[i].word, 0, __ATOMIC_RELAXED);
			__atomic_store_n(&L.slot[i].suppressed, 0,
					 __ATOMIC_RELAXED);
		}
	}
	if (rule == NTFW_EVLOG_MALFORMED) {
		i = SLOT_MALFORMED;
		name = "(malformed)";
	} else if (rule == NTFW_EVLOG_INVALID) {
		i = SLOT_INVALID;
		name = "(invalid)";
	} else if (rule >= conf->nrules) {
		i = SLOT_DEFAULT;
		name = "default";
	} else {
		i = rule < RULE_SLOTS ? rule : RULE_SLOTS - 1;
		name = conf->rules[rule].name;
	}
	s = &L.slot[i];
	sec = clock_ns(CLOCK_MONOTONIC) / 1000000000ull;
	if (!drop_take(s, (uint32_t)sec, conf->log_drops)) {
		__atomic_fetch_add(&s->suppressed, 1, __ATOMIC_RELAXED);
		return;
	}
	suppressed = __atomic_exchange_n(&s->suppressed, 0, __ATOMIC_RELAXED);
	n = ntfw_evlog_head(line, size, "drop");
	n = put_kv(line, size, n, "rule", name);
	if (p) {
		int af = p->family == 6 ? AF_INET6 : AF_INET;

		inet_ntop(af, p->src, sa, sizeof(sa));
		inet_ntop(af, p->dst, da, sizeof(da));
		n += (size_t)snprintf(line + n, size - n,
				      ",\"family\":%u,\"proto\":\"%s\",\"src\":\"%s\",\"sport\":%u,\"dst\":\"%s\",\"dport\":%u,\"state\":\"%s\"",
				      p->family,
				      ntfw_record_proto(p->proto, pb, sizeof(pb)),
				      sa, p->sport, da, p->dport,
				      ntfw_pstate_name(pstate));
		if (n >= size)
			n = size - 1;
		if (p->iif)
			n = put_kv(line, size, n, "in", ntfw_ifname(ifc, p->iif));
		if (p->oif)
			n = put_kv(line, size, n, "out", ntfw_ifname(ifc, p->oif));
	}
	n += (size_t)snprintf(line + n, size - n, ",\"suppressed\":%llu",
			      (unsigned long long)suppressed);
	if (n >= size)
		n = size - 1;
	n = put_end(line, sizeof(line), n);
	if (!ntfw_evring_put(&e->ring, line, (uint32_t)n))
		__atomic_fetch_add(&s->suppressed, suppressed, __ATOMIC_RELAXED);
}

void ntfw_evlog_reload(bool ok, const char *error, unsigned int nrules)
{
	char line[2048];
	size_t n;

	if (!ntfw_evlog_on())
		return;
	n = ntfw_evlog_head(line, sizeof(line) - 2, "reload");
	if (ok) {
		n += (size_t)snprintf(line + n, sizeof(line) - 2 - n,
				      ",\"result\":\"ok\",\"rules\":%u", nrules);
	} else {
		n = put_kv(line, sizeof(line) - 2, n, "result", "error");
		n = put_kv(line, sizeof(line) - 2, n, "error",
			   error ? error : "");
	}
	n = put_end(line, sizeof(line), n);
	daemon_put(line, n);
}

void ntfw_evlog_error(const char *msg)
{
	char line[2048];
	size_t n;

	if (!ntfw_evlog_on())
		return;
	n = ntfw_evlog_head(line, sizeof(line) - 2, "error");
	n = put_kv(line, sizeof(line) - 2, n, "message", msg);
	n = put_end(line, sizeof(line), n);
	daemon_put(line, n);
}

/* ---- the file ---- */

int ntfw_evlog_open(const char *path, int *fd)
{
	struct stat st;

	*fd = -1;
	if (!path)
		return 0;
	/* O_NONBLOCK changes nothing for a regular file; for a FIFO it
	 * makes the open and every write fail rather than wait. */
	*fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
			 O_CLOEXEC | O_NONBLOCK, 0640);
	if (*fd < 0) {
		/* A FIFO with no reader yet: the writer tries again. */
		if (errno == ENXIO && !stat(path, &st) && S_ISFIFO(st.st_mode))
			return 0;
		return -1;
	}
	return 0;
}

void ntfw_evlog_set(const char *path, int fd)
{
	char *copy = path ? strdup(path) : NULL;

	pthread_mutex_lock(&L.mu);
	if (L.have_next && L.next_fd >= 0)
		close(L.next_fd);
	free(L.path);
	L.path = copy;
	L.next_fd = fd;
	L.have_next = true;
	__atomic_store_n(&L.on, copy != NULL, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&L.mu);
	if (L.wake_fd >= 0)
		eventfd_write(L.wake_fd, 1);
}

int ntfw_evlog_reopen(void)
{
	char *path;
	int fd, rc;

	pthread_mutex_lock(&L.mu);
	path = L.path ? strdup(L.path) : NULL;
	pthread_mutex_unlock(&L.mu);
	if (!path) {
		errno = ENOENT;
		return -1;
	}
	rc = ntfw_evlog_open(path, &fd);
	if (!rc) {
		ntfw_evlog_set(path, fd);
		__atomic_add_fetch(&L.reopens, 1, __ATOMIC_RELAXED);
	}
	free(path);
	return rc;
}

/* ---- the writer ---- */

static uint64_t count_lines(const char *s, size_t n)
{
	const char *end = s + n;
	uint64_t c = 0;

	while ((s = memchr(s, '\n', (size_t)(end - s)))) {
		c++;
		s++;
	}
	return c;
}

static void take_next(void)
{
	pthread_mutex_lock(&L.mu);
	if (L.have_next) {
		if (L.fd >= 0)
			close(L.fd);
		free(L.wpath);
		L.fd = L.next_fd;
		L.wpath = L.path ? strdup(L.path) : NULL;
		L.next_fd = -1;
		L.have_next = false;
		L.retry_ns = 0;
	}
	pthread_mutex_unlock(&L.mu);
}

static void drop_batch(void)
{
	__atomic_store_n(&L.dropped, L.dropped + count_lines(L.buf, L.n),
			 __ATOMIC_RELAXED);
	L.n = 0;
}

/* Write the batch, as much as the file takes without waiting. */
static void flush(void)
{
	ssize_t w;

	if (!L.n)
		return;
	if (L.fd < 0 && L.wpath && clock_ns(CLOCK_MONOTONIC) >= L.retry_ns) {
		/* A FIFO without a reader, or one that left. */
		if (ntfw_evlog_open(L.wpath, &L.fd) || L.fd < 0)
			L.retry_ns = clock_ns(CLOCK_MONOTONIC) + RETRY_NS;
	}
	if (L.fd < 0) {
		drop_batch();
		return;
	}
	while (L.n) {
		w = write(L.fd, L.buf, L.n);
		if (w > 0) {
			__atomic_store_n(&L.lines,
					 L.lines + count_lines(L.buf, (size_t)w),
					 __ATOMIC_RELAXED);
			memmove(L.buf, L.buf + w, L.n - (size_t)w);
			L.n -= (size_t)w;
			L.failing = false;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;	/* the reader is slow: keep it, add nothing */
		if (!L.failing) {
			/* Once per episode: the warning is an event too. */
			L.failing = true;
			log_warn("event-log %s: write", L.wpath);
		}
		if (w < 0 && errno == EPIPE) {
			close(L.fd);
			L.fd = -1;
			L.retry_ns = clock_ns(CLOCK_MONOTONIC) + RETRY_NS;
		}
		drop_batch();
		return;
	}
}

static void append(const void *line, uint32_t len)
{
	if (!L.wpath)
		return;		/* no event log: nothing to count */
	if (L.n + len > sizeof(L.buf))
		flush();
	if (L.n + len > sizeof(L.buf)) {
		__atomic_store_n(&L.dropped, L.dropped + 1, __ATOMIC_RELAXED);
		return;
	}
	memcpy(L.buf + L.n, line, len);
	L.n += len;
}

/* Move the rings' lines into the batch; whether there were any. */
static bool drain(void)
{
	char line[160];
	bool moved = false;
	const void *p;
	unsigned int i;
	uint32_t len;
	uint64_t lost;
	size_t n;

	for (i = 0; i <= L.nq; i++) {
		struct evq *e = &L.q[i];

		while ((p = ntfw_evring_peek(&e->ring, &len))) {
			append(p, len);
			ntfw_evring_pop(&e->ring);
			moved = true;
		}
		/* The ring is empty now: say what it could not take. */
		lost = __atomic_load_n(&e->ring.lost, __ATOMIC_RELAXED);
		if (lost == e->lost_reported)
			continue;
		n = ntfw_evlog_head(line, sizeof(line), "log-lost");
		if (i < L.nq)
			n += (size_t)snprintf(line + n, sizeof(line) - n,
					      ",\"worker\":%u", i);
		else
			n += (size_t)snprintf(line + n, sizeof(line) - n,
					      ",\"worker\":\"daemon\"");
		n += (size_t)snprintf(line + n, sizeof(line) - n,
				      ",\"count\":%llu}\n",
				      (unsigned long long)(lost - e->lost_reported));
		append(line, (uint32_t)n);
		e->lost_reported = lost;
		moved = true;
	}
	return moved;
}

static void *writer_main(void *arg)
{
	struct pollfd pfd[2] = { { .fd = L.wake_fd, .events = POLLIN } };
	eventfd_t v;
	bool moved;

	for (;;) {
		take_next();
		moved = drain();
		flush();
		if (__atomic_load_n(&L.stop, __ATOMIC_ACQUIRE) && !moved)
			break;
		if (moved)
			continue;
		/* Idle: the workers do not wake us (that would be a system
		 * call on the packet path), so look again shortly. */
		pfd[1].fd = L.fd;
		pfd[1].events = POLLOUT;
		if (poll(pfd, L.n && L.fd >= 0 ? 2 : 1, POLL_MS) > 0 &&
		    pfd[0].revents)
			eventfd_read(L.wake_fd, &v);
	}
	return NULL;
}

int ntfw_evlog_init(unsigned int nq)
{
	unsigned int i;

	L.q = calloc(nq + 1, sizeof(*L.q));
	if (!L.q)
		return -1;
	L.nq = nq;
	for (i = 0; i <= nq; i++)
		if (ntfw_evring_init(&L.q[i].ring, NTFW_EVRING_SIZE))
			return -1;
	L.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return L.wake_fd < 0 ? -1 : 0;
}

int ntfw_evlog_start(void)
{
	int rc = pthread_create(&L.thread, NULL, writer_main, NULL);

	if (rc)
		return -rc;
	L.started = true;
	return 0;
}

void ntfw_evlog_stop(void)
{
	unsigned int i;

	if (L.started) {
		__atomic_store_n(&L.stop, true, __ATOMIC_RELEASE);
		eventfd_write(L.wake_fd, 1);
		pthread_join(L.thread, NULL);
		L.started = false;
	}
	/* What a FIFO did not take by now is lost. */
	drop_batch();
	if (L.fd >= 0)
		close(L.fd);
	L.fd = -1;
	if (L.have_next && L.next_fd >= 0)
		close(L.next_fd);
	L.have_next = false;
	__atomic_store_n(&L.on, false, __ATOMIC_RELAXED);
	for (i = 0; L.q && i <= L.nq; i++)
		ntfw_evring_free(&L.q[i].ring);
	free(L.q);
	L.q = NULL;
	L.nq = 0;
	free(L.path);
	free(L.wpath);
	L.path = L.wpath = NULL;
	if (L.wake_fd >= 0)
		close(L.wake_fd);
	L.wake_fd = -1;
}

void ntfw_evlog_report(void)
{
	char line[512];
	unsigned int i;
	int len = 0;

	log_info("stats: event-log lines=%llu dropped=%llu reopens=%llu",
		 (unsigned long long)__atomic_load_n(&L.lines, __ATOMIC_RELAXED),
		 (unsigned long long)__atomic_load_n(&L.dropped, __ATOMIC_RELAXED),
		 (unsigned long long)__atomic_load_n(&L.reopens, __ATOMIC_RELAXED));
	for (i = 0; L.q && i <= L.nq && len < (int)sizeof(line) - 40; i++) {
		unsigned long long lost =
			__atomic_load_n(&L.q[i].ring.lost, __ATOMIC_RELAXED);

		if (i < L.nq)
			len += snprintf(line + len, sizeof(line) - (size_t)len,
					" worker%u=%llu", i, lost);
		else
			len += snprintf(line + len, sizeof(line) - (size_t)len,
					" daemon=%llu", lost);
	}
	log_info("stats: event-log lost%s", len ? line : "");
}
