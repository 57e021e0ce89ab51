/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_EVLOG_H
#define NTFW_EVLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ntfw_conf;
struct ntfw_ifcache;
struct ntfw_pkt;

/*
 * The event log: JSON lines ({"ts":...,"event":...}) written by a thread
 * of their own, so that neither a slow disk nor a FIFO nobody reads can
 * hold a packet.  Each worker hands its lines over through a ring of its
 * own (one producer, one consumer, no lock) and never waits: a line that
 * does not fit is counted as lost, and the writer says so in the log
 * ("log-lost") once it has made room.
 */

/* One producer, one consumer: variable-length entries in @size bytes. */
struct ntfw_evring {
	uint8_t *buf;
	uint32_t size;		/* a power of two */
	uint64_t head __attribute__((aligned(64)));	/* the producer's */
	uint64_t lost;		/* lines that did not fit, the producer's */
	uint64_t tail __attribute__((aligned(64)));	/* the consumer's */
};

#define NTFW_EVRING_SIZE (256u * 1024u)	/* per worker */
#define NTFW_EVLOG_LINE_MAX 4608u	/* any line fits (a flow record) */

int ntfw_evring_init(struct ntfw_evring *r, uint32_t size);
void ntfw_evring_free(struct ntfw_evring *r);
/* Queue @len bytes; false (and counted in @r->lost) when they do not fit. */
bool ntfw_evring_put(struct ntfw_evring *r, const void *data, uint32_t len);
/* The oldest entry, in place, or NULL; ntfw_evring_pop() lets it go. */
const void *ntfw_evring_peek(struct ntfw_evring *r, uint32_t *len);
void ntfw_evring_pop(struct ntfw_evring *r);

/* Default for "log-drops yes": drop lines per second per rule and queue. */
#define NTFW_EVLOG_DROPS_DEFAULT 10u

/*
 * Open @path for the log (NULL: none, *@fd = -1).  A FIFO nobody has
 * opened for reading yet is no error: *@fd is -1 and the writer tries
 * again every second.  Returns 0, or -1 with errno set.
 */
int ntfw_evlog_open(const char *path, int *fd);

/* Before the workers exist: @nq rings, and the daemon's own. */
int ntfw_evlog_init(unsigned int nq);
/* The writer thread (after daemon(): threads do not survive a fork). */
int ntfw_evlog_start(void);
/* Write what is queued and end the thread, after the workers ended. */
void ntfw_evlog_stop(void);

/* From now on log to @path through @fd (from ntfw_evlog_open(), ours
 * now); NULL: no event log. */
void ntfw_evlog_set(const char *path, int fd);

/* Open the log's path again (logrotate: SIGUSR2, ntfwctl reopen).
 * Returns 0, or -1 with errno set (the old file stays in use). */
int ntfw_evlog_reopen(void);

bool ntfw_evlog_on(void);

/* {"ts":<now>,"event":"<event>" into @buf, without the closing brace;
 * returns its length. */
size_t ntfw_evlog_head(char *buf, size_t size, const char *event);

/* Worker @q's line (a whole line, newline-terminated); false: lost. */
bool ntfw_evlog_put(unsigned int q, const char *line, size_t len);

/* A packet worker @q dropped, by rule @rule of @conf (conf->nrules: the
 * default, NTFW_EVLOG_INVALID, NTFW_EVLOG_MALFORMED with @p NULL), at
 * most conf->log_drops lines per second and rule. */
#define NTFW_EVLOG_INVALID 0xfffffffeu
#define NTFW_EVLOG_MALFORMED 0xffffffffu
void ntfw_evlog_drop(unsigned int q, const struct ntfw_conf *conf,
		     struct ntfw_ifcache *ifc, const struct ntfw_pkt *p,
		     unsigned int rule, unsigned int pstate);

/* Lines of the daemon itself, from any thread but a worker's packet path. */
void ntfw_evlog_reload(bool ok, const char *error, unsigned int nrules);
void ntfw_evlog_error(const char *msg);

/* "stats: event-log ..." lines. */
void ntfw_evlog_report(void);

#endif
