// SPDX-License-Identifier: GPL-2.0-only
/*
 * Prometheus text exposition, written by hand: counters end in _total,
 * every family has its HELP and TYPE lines, label values are escaped.
 * Per-queue counters carry a "queue" label; a sum is the scraper's job.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "kring.h"
#include "metrics.h"
#include "reload.h"
#include "stats.h"
#include "worker.h"

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

static void family(FILE *f, const char *name, const char *type,
		   const char *help)
{
	fprintf(f, "# HELP ntfw_%s %s\n# TYPE ntfw_%s %s\n", name, help, name,
		type);
}

/* A label value: backslash, double quote and newline escaped. */
static void label_value(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*v, f);
	}
}

static void sample(FILE *f, const char *name, const char *lname,
		   const char *lval, uint64_t v)
{
	fprintf(f, "ntfw_%s", name);
	if (lname) {
		fprintf(f, "{%s=\"", lname);
		label_value(f, lval);
		fputs("\"}", f);
	}
	fprintf(f, " %llu\n", (unsigned long long)v);
}

/* One family with a sample per queue, from the worker counter at @off. */
static void per_queue(FILE *f, const struct ntfw_daemon *d, const char *name,
		      const char *type, const char *help, size_t off)
{
	unsigned int i;
	char q[8];

	family(f, name, type, help);
	for (i = 0; i < d->nq; i++) {
		const uint64_t *p = (const uint64_t *)
			((const char *)&d->w[i].engine.stats + off);

		snprintf(q, sizeof(q), "%u", d->w[i].queue);
		sample(f, name, "queue", q, LOAD(*p));
	}
}

#define PQ(name, type, help, field) \
	per_queue(f, d, name, type, help, offsetof(struct ntfw_stats, field))

static uint64_t sum(const struct ntfw_daemon *d, size_t off)
{
	uint64_t t = 0;
	unsigned int i;

	for (i = 0; i < d->nq; i++)
		t += LOAD(*(const uint64_t *)
			  ((const char *)&d->w[i].engine.stats + off));
	return t;
}

#define SUM(field) sum(d, offsetof(struct ntfw_stats, field))

static void kernel_queues(FILE *f, const struct ntfw_daemon *d)
{
	struct ntfw_nfq_kstats ks[NTFW_MAX_QUEUES];
	int ok[NTFW_MAX_QUEUES];
	static const struct {
		const char *name, *type, *help;
		size_t off;
	} k[] = {
		{ "queue_kernel_packets_total", "counter",
		  "Packets the kernel handed to the queue (id sequence).",
		  offsetof(struct ntfw_nfq_kstats, id_sequence) },
		{ "queue_kernel_waiting", "gauge",
		  "Packets waiting in the kernel for a verdict.",
		  offsetof(struct ntfw_nfq_kstats, waiting) },
		{ "queue_kernel_dropped_total", "counter",
		  "Packets the kernel dropped, the queue full.",
		  offsetof(struct ntfw_nfq_kstats, queue_dropped) },
		{ "queue_kernel_user_dropped_total", "counter",
		  "Packets the kernel could not send to the daemon's socket.",
		  offsetof(struct ntfw_nfq_kstats, user_dropped) },
	};
	unsigned int i, j;
	char q[8];

	for (i = 0; i < d->nq; i++)
		ok[i] = !ntfw_nfq_kernel_stats(d->w[i].queue, &ks[i]);
	for (j = 0; j < sizeof(k) / sizeof(k[0]); j++) {
		family(f, k[j].name, k[j].type, k[j].help);
		for (i = 0; i < d->nq; i++) {
			if (!ok[i])
				continue;
			snprintf(q, sizeof(q), "%u", d->w[i].queue);
			sample(f, k[j].name, "queue", q,
			       *(const uint64_t *)((const char *)&ks[i] +
						   k[j].off));
		}
	}
	family(f, "queue_id_gaps_total", "counter",
	       "Packet ids never delivered: the socket buffer was full.");
	for (i = 0; i < d->nq; i++) {
		snprintf(q, sizeof(q), "%u", d->w[i].queue);
		sample(f, "queue_id_gaps_total", "queue", q,
		       LOAD(d->w[i].nfq.id_gaps));
	}
}

static void rules(FILE *f, const struct ntfw_daemon *d)
{
	const struct ntfw_conf *c = d->conf;
	unsigned int r, i, b;

	for (b = 0; b < 2; b++) {
		const char *name = b ? "rule_bytes_total" : "rule_packets_total";

		family(f, name, "counter", b ?
		       "Bytes (IP length) decided by each rule; rule=\"default\" is the default." :
		       "Packets decided by each rule; rule=\"default\" is the default.");
		for (r = 0; r <= c->nrules; r++) {
			uint64_t v = 0;

			for (i = 0; i < d->nq; i++) {
				const struct ntfw_stats *s = &d->w[i].engine.stats;

				v += b ? LOAD(s->rule_bytes[r]) :
				       LOAD(s->rule_pkts[r]);
			}
			fprintf(f, "ntfw_%s{rule=\"", name);
			label_value(f, r < c->nrules ? c->rules[r].name : "default");
			fprintf(f, "\",verdict=\"%s\"} %llu\n",
				ntfw_verdict_name(r < c->nrules ?
						  c->rules[r].verdict : c->def),
				(unsigned long long)v);
		}
	}
}

static void ring(FILE *f, const struct ntfw_daemon *d,
		 const struct ntfw_kring *kr)
{
	const struct ntfw_feed *fd = d->feed;
	const char *name = ntfw_feed_name(d->feed_kind);

	family(f, "kmod_ring_active", "gauge",
	       "1 when the kernel module's ring is read.");
	sample(f, "kmod_ring_active", NULL, NULL,
	       fd && d->feed_kind == NTFW_FEED_KMOD && kr && kr->hdr);
	family(f, "fastpath_feed_active", "gauge",
	       "1 for the producer of fast-path records that is read.");
	sample(f, "fastpath_feed_active", "feed", "kmod",
	       fd && d->feed_kind == NTFW_FEED_KMOD);
	sample(f, "fastpath_feed_active", "feed", "bpf",
	       fd && d->feed_kind == NTFW_FEED_BPF);
	if (!fd)
		return;
	family(f, "ring_records_total", "counter",
	       "Records of the fast-path feed, by what became of them.");
	fprintf(f, "ntfw_ring_records_total{feed=\"%s\",result=\"read\"} %llu\n"
		   "ntfw_ring_records_total{feed=\"%s\",result=\"applied\"} %llu\n"
		   "ntfw_ring_records_total{feed=\"%s\",result=\"unknown_flow\"} %llu\n"
		   "ntfw_ring_records_total{feed=\"%s\",result=\"ignored\"} %llu\n"
		   "ntfw_ring_records_total{feed=\"%s\",result=\"invalid\"} %llu\n"
		   "ntfw_ring_records_total{feed=\"%s\",result=\"bad\"} %llu\n"
		   "ntfw_ring_records_total{feed=\"%s\",result=\"kernel_dropped\"} %llu\n"
		   "ntfw_ring_records_total{feed=\"%s\",result=\"queue_full\"} %llu\n"
		   "ntfw_ring_records_total{feed=\"%s\",result=\"no_owner\"} %llu\n"
		   "ntfw_ring_records_total{feed=\"%s\",result=\"resync\"} %llu\n",
		name, (unsigned long long)LOAD(fd->cnt.read),
		name, (unsigned long long)SUM(ring_applied),
		name, (unsigned long long)SUM(ring_unknown),
		name, (unsigned long long)SUM(ring_ignored),
		name, (unsigned long long)SUM(ring_invalid),
		name, (unsigned long long)SUM(ring_bad),
		name, (unsigned long long)LOAD(fd->cnt.kernel_dropped),
		name, (unsigned long long)LOAD(fd->cnt.queue_full),
		name, (unsigned long long)LOAD(fd->cnt.no_owner),
		name, (unsigned long long)LOAD(fd->cnt.resync));
}

int ntfw_metrics_write(FILE *f, const struct ntfw_daemon *d,
		       const struct ntfw_kring *kr, uint64_t uptime_s)
{
	unsigned int r, st;

	family(f, "uptime_seconds", "gauge", "Seconds since the daemon started.");
	sample(f, "uptime_seconds", NULL, NULL, uptime_s);
	family(f, "rules", "gauge", "Rules of the running configuration.");
	sample(f, "rules", NULL, NULL, d->conf->nrules);
	family(f, "reloads_total", "counter", "Configuration reloads done.");
	sample(f, "reloads_total", NULL, NULL, d->reloads);
	family(f, "reload_failures_total", "counter",
	       "Reloads refused: the running configuration stayed.");
	sample(f, "reload_failures_total", NULL, NULL, d->reload_failures);
	kernel_queues(f, d);
	PQ("packets_total", "counter", "Packets the daemon judged.", packets);
	PQ("accepted_total", "counter", "Packets accepted.", accepted);
	PQ("dropped_total", "counter", "Packets dropped.", dropped);
	PQ("malformed_total", "counter", "Packets the parser could not read.",
	   malformed);
	family(f, "malformed_reason_total", "counter",
	       "Malformed packets by reason.");
	for (r = 1; r < NTFW_MALFORMED_MAX; r++)
		sample(f, "malformed_reason_total", "reason",
		       ntfw_malformed_name(r), SUM(malformed_by[r]));
	family(f, "state_packets_total", "counter",
	       "Well-formed packets by the state of their flow.");
	for (st = 0; st < NTFW_ST_MAX; st++)
		sample(f, "state_packets_total", "state", ntfw_pstate_name(st),
		       SUM(state_pkts[st]));
	family(f, "invalid_verdict_total", "counter",
	       "Invalid packets given the \"invalid\" verdict.");
	sample(f, "invalid_verdict_total", NULL, NULL, SUM(invalid_unmatched));
	family(f, "untracked_total", "counter",
	       "Packets judged outside the flow table.");
	sample(f, "untracked_total", NULL, NULL, SUM(untracked));
	PQ("flows_active", "gauge", "Flows in the table.", flows_active);
	PQ("flows_created_total", "counter", "Flows opened.", flows_created);
	PQ("flows_ended_total", "counter", "Flows ended.", flows_ended);
	PQ("flows_evicted_total", "counter",
	   "Flows evicted from a full table.", flows_evicted);
	PQ("flows_expired_total", "counter", "Flows ended idle.", flows_expired);
	PQ("handoffs_total", "counter",
	   "Flows handed to the kernel fast path.", handoffs);
	PQ("event_log_errors_total", "counter",
	   "Flow records the event log refused.", log_errors);
	rules(f, d);
	ring(f, d, kr);
	fflush(f);
	return ferror(f) ? -1 : 0;
}

int ntfw_metrics_file(const char *path, const struct ntfw_daemon *d,
		      const struct ntfw_kring *kr, uint64_t uptime_s)
{
	size_t n = strlen(path);
	char *tmp = malloc(n + 16);
	FILE *f = NULL;
	int fd = -1, rc = 0;

	if (!tmp)
		return -ENOMEM;
	snprintf(tmp, n + 16, "%s.tmpXXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		free(tmp);
		return rc;
	}
	/* Readable by a node exporter that does not run as us. */
	if (fchmod(fd, 0644) < 0 || !(f = fdopen(fd, "w"))) {
		rc = -errno;
		close(fd);
		goto out;
	}
	if (ntfw_metrics_write(f, d, kr, uptime_s))
		rc = -EIO;
	if (fclose(f) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path) < 0)
		rc = -errno;
out:
	if (rc)
		unlink(tmp);
	free(tmp);
	return rc;
}
