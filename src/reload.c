// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reload.  The main thread parses the file into a new configuration and
 * prepares, for each worker, everything the switch needs (counters, rule
 * maps), so that nothing can fail once the first worker has switched.
 * Each worker takes its offer between two batches of packets, with no
 * lock on the packet path, and says so through its generation counter;
 * the old configuration is freed when the last one has.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "conf.h"
#include "evlog.h"
#include "log.h"
#include "reload.h"
#include "worker.h"

int ntfw_event_log_open(const struct ntfw_conf *conf, int *fd)
{
	if (ntfw_evlog_open(conf->event_log, fd)) {
		log_warn("event-log %s", conf->event_log);
		return -1;
	}
	return 0;
}

/* Read the file again; the parser's messages go to the log, a line each,
 * as they would have gone to the terminal. */
static struct ntfw_conf *load(const char *path, char **msg, char *why,
			      size_t size)
{
	struct ntfw_conf *conf = NULL;
	char *text = NULL, *p, *eol;
	size_t len = 0;
	FILE *err = open_memstream(&text, &len);
	int rc;

	if (!err) {
		log_warn("reload");
		return NULL;
	}
	rc = ntfw_conf_load(path, &conf, err);
	fclose(err);
	for (p = text; p && *p; p = *eol ? eol + 1 : eol) {
		eol = strchrnul(p, '\n');
		log_warnx("%.*s", (int)(eol - p), p);
		/* The first line says what is wrong, for the event log. */
		if (p == text)
			snprintf(why, size, "%.*s", (int)(eol - p), p);
	}
	if (msg && text && *text)
		*msg = text;
	else
		free(text);
	return rc ? NULL : conf;
}

/* Wait until every worker runs generation d->gen; they wake at once. */
static void wait_workers(struct ntfw_daemon *d)
{
	struct pollfd pfd = { .fd = d->ack_fd, .events = POLLIN };
	unsigned int i, left;
	eventfd_t v;

	for (;;) {
		for (i = 0, left = 0; i < d->nq; i++)
			left += !ntfw_worker_took(&d->w[i], d->gen);
		if (!left)
			return;
		/* The timeout only guards against a lost wake-up. */
		if (poll(&pfd, 1, 1000) > 0)
			eventfd_read(d->ack_fd, &v);
	}
}

static void swaps_free(struct ntfw_worker_swap *sw, unsigned int n)
{
	unsigned int i;

	for (i = 0; sw && i < n; i++)
		ntfw_stats_free(&sw[i].engine.stats);
	free(sw);
}

int ntfw_reload(struct ntfw_daemon *d)
{
	return ntfw_reload_msg(d, NULL);
}

int ntfw_reload_msg(struct ntfw_daemon *d, char **msg)
{
	const struct ntfw_conf *run = d->conf;
	struct ntfw_worker_swap *sw = NULL;
	uint16_t *stat_map = NULL, *flow_map = NULL;
	const char *fixed[NTFW_CONF_FIXED];
	struct ntfw_conf *next;
	unsigned int i, n;
	int log_fd = -1;
	char why[512] = "";

	if (msg)
		*msg = NULL;
	next = load(d->path, msg, why, sizeof(why));
	if (!next)
		goto fail;
	n = ntfw_conf_keep_fixed(next, run, fixed);
	for (i = 0; i < n; i++)
		log_warnx("reload: '%s' changed, restart to apply", fixed[i]);
	/* A new file for the event log: the old one may have been rotated. */
	if (ntfw_event_log_open(next, &log_fd)) {
		snprintf(why, sizeof(why), "event-log %s: %s", next->event_log,
			 strerror(errno));
		goto fail;
	}
	stat_map = calloc(run->nrules + 1, sizeof(*stat_map));
	flow_map = calloc(run->nrules + 1, sizeof(*flow_map));
	sw = calloc(d->nq, sizeof(*sw));
	if (!stat_map || !flow_map || !sw ||
	    ntfw_conf_rule_map(run, next, true, stat_map) ||
	    ntfw_conf_rule_map(run, next, false, flow_map))
		goto nomem;
	for (i = 0; i < d->nq; i++)
		if (ntfw_stats_init(&sw[i].engine.stats, next))
			goto nomem;
	/* Nothing can fail from here on. */
	d->gen++;
	for (i = 0; i < d->nq; i++) {
		sw[i].gen = d->gen;
		sw[i].log_fd = -1;	/* the writer's (evlog.c) */
		sw[i].engine.conf = next;
		sw[i].engine.stat_map = stat_map;
		sw[i].engine.flow_map = flow_map;
		ntfw_worker_offer(&d->w[i], &sw[i]);
	}
	wait_workers(d);
	/* No worker sees the old configuration, counters or log now. */
	swaps_free(sw, d->nq);
	free(stat_map);
	free(flow_map);
	ntfw_conf_free(d->conf);
	d->conf = next;
	ntfw_evlog_set(next->event_log, log_fd);
	d->reloads++;
	ntfw_evlog_reload(true, NULL, next->nrules);
	log_info("reloaded: %u rules, default %s, open flows %s", next->nrules,
		 ntfw_verdict_name(next->def),
		 next->reload_keep ? "kept" : "decided again");
	return 0;
nomem:
	errno = ENOMEM;
	log_warn("reload");
fail:
	swaps_free(sw, d->nq);
	free(stat_map);
	free(flow_map);
	if (log_fd >= 0)
		close(log_fd);
	ntfw_conf_free(next);
	d->reload_failures++;
	ntfw_evlog_reload(false, why, 0);
	log_warnx("reload failed, keeping the running configuration");
	return -1;
}
