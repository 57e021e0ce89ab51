/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_CONF_H
#define NTFW_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "flow.h"
#include "policy.h"

#define NTFW_MAX_QUEUES 64
#define NTFW_MAX_ERRORS 20
#define NTFW_MAX_RULES 65000
/* The packet and connection mark bit of the kernel fast path. */
#define NTFW_FASTPATH_MARK 0x40000000u
#define NTFW_QUEUE_MAXLEN_DEFAULT 1024u	/* the kernel's own default */
#define NTFW_COPY_RANGE_DEFAULT 512u	/* headers, IPv6 extensions included */
#define NTFW_SOCKET_BUFFER_DEFAULT (8u << 20)
#define NTFW_FLOWS_MAX_DEFAULT 65536u	/* about 32 MB at most */
#define NTFW_CTL_PATH "/run/ntfw/ntfw.sock"
#define NTFW_METRICS_INTERVAL_DEFAULT 15u

/* kmod auto|on|off: whether the daemon reads the kernel module's ring */
#define NTFW_KMOD_AUTO 0	/* when there is one */
#define NTFW_KMOD_ON 1		/* a ring is required */
#define NTFW_KMOD_OFF 2

/* fastpath-feed auto|kmod|bpf|off: which producer of fast-path records
 * the daemon reads (feed.h); also the producer that runs. */
#define NTFW_FEED_AUTO 0	/* the module's ring, else eBPF, else none */
#define NTFW_FEED_KMOD 1
#define NTFW_FEED_BPF 2
#define NTFW_FEED_OFF 3

/* "auto", "kmod", "bpf", "off". */
const char *ntfw_feed_name(unsigned int feed);

struct ntfw_set {
	char name[NTFW_NAME_MAX];
	unsigned int line;
	struct ntfw_prefix *v;
	unsigned int n;
	struct ntfw_addr_ranges *ranges; /* @v as intervals, for lookups */
};

struct ntfw_conf {
	uint16_t queue_lo, queue_hi;
	enum ntfw_verdict def;
	enum ntfw_verdict malformed;	/* packets the parser cannot read */
	bool fail_open;
	bool gso;			/* GSO super-packets queued whole */
	uint32_t timeout[NTFW_TC_MAX];	/* idle seconds per flow class */
	uint32_t flows_max;		/* flow table bound, all workers */
	char *event_log;		/* the event log (JSON lines), or NULL */
	uint32_t log_drops;		/* drop lines a second per rule; 0: none */
	uint32_t queue_maxlen;		/* packets the kernel holds per queue */
	uint32_t copy_range;		/* bytes of each packet copied to us */
	uint32_t socket_buffer;		/* netlink receive buffer, bytes */
	uint32_t fastpath_after;	/* packets before a hand-off; 0: off */
	enum ntfw_verdict invalid;	/* for packets TCP would not accept */
	bool reload_keep;		/* a reload keeps flows' decisions */
	uint8_t kmod;			/* NTFW_KMOD_*: the kernel ring */
	char *kmod_ring;		/* its path, NULL: NTFW_KRING_PATH */
	uint8_t feed;			/* NTFW_FEED_*: fastpath-feed */
	char *control_socket;		/* NULL: NTFW_CTL_PATH; "" none */
	char *control_group;		/* group of the socket, or NULL */
	char *metrics_file;		/* Prometheus text file, or NULL */
	uint32_t metrics_interval;	/* seconds between two writes */
	uint64_t file_hash;		/* FNV-1a 64 of the file's bytes */
	char *user;			/* run as this user after setup, or NULL */
	unsigned int first_dyn;		/* the first per-packet rule, or nrules */
	struct ntfw_set *sets;
	unsigned int nsets;
	struct ntfw_rule *rules;
	unsigned int nrules;
	struct ntfw_rule_index *index;	/* candidates per packet (lookup.h) */
};

/*
 * Parse @len bytes of @text, named @file in messages.  Errors are written to
 * @err as "file:line:col: error: message", the source line and a caret line.
 * Returns the number of errors; *@out is set only when there were none.
 */
int ntfw_conf_parse(const char *file, const char *text, size_t len,
		    struct ntfw_conf **out, FILE *err);

/* Read @path and parse it; an unreadable file is one error. */
int ntfw_conf_load(const char *path, struct ntfw_conf **out, FILE *err);

void ntfw_conf_free(struct ntfw_conf *conf);

/* Statements that take effect only when ntfw starts. */
#define NTFW_CONF_FIXED 4

/*
 * For a reload: put back into @next the running value (@run's) of each
 * statement that needs a restart and differs, and name it in @changed.
 * Returns how many were put back.
 */
unsigned int ntfw_conf_keep_fixed(struct ntfw_conf *next,
				  const struct ntfw_conf *run,
				  const char *changed[NTFW_CONF_FIXED]);

/*
 * Where each rule of @from stands in @to: @map[i] for rule i, and
 * @map[from->nrules] for the default, is its index in @to (to->nrules for
 * the default), or NTFW_RULE_GONE.  Rules are found by name; with
 * @same_verdict, also by verdict (the default only by verdict).
 * Returns 0 or -ENOMEM.
 */
int ntfw_conf_rule_map(const struct ntfw_conf *from, const struct ntfw_conf *to,
		       bool same_verdict, uint16_t *map);

#endif
