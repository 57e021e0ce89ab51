// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control socket: a UNIX stream socket, one JSON request per
 * connection, answered with one JSON line.  One thread polls the listening
 * socket and every client, all non-blocking, so a client that stalls or
 * sends garbage costs the others nothing: a request must arrive whole, at
 * most NTFW_CTL_REQ_MAX bytes, within CLIENT_READ_NS; else the client gets
 * an error line and is dropped.  The same thread writes the metrics file.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "conf.h"
#include "ctl.h"
#include "ctlproto.h"
#include "evlog.h"
#include "kring.h"
#include "log.h"
#include "metrics.h"
#include "reload.h"
#include "snap.h"
#include "stats.h"
#include "worker.h"

#define NS 1000000000ull
#define CLIENT_READ_NS (2 * NS)		/* for the request to arrive */
#define CLIENT_WRITE_NS (10 * NS)	/* for the reply to leave */
#define SNAP_WAIT_NS (2 * NS)		/* for the workers' flow copies */

struct ntfw_ctl_client {
	int fd;			/* -1: free slot */
	bool writing;		/* the reply is being sent */
	uint64_t deadline;
	char *in;		/* NTFW_CTL_REQ_MAX bytes */
	size_t inlen;
	char *out;		/* the reply line */
	size_t outlen, outoff;
};

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

/* ---- socket ---- */

static int sock_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -1;
	strcpy(sa->sun_path, path);
	return 0;
}

/* Whether a daemon answers on @path. */
static bool answered(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool yes;

	if (fd < 0)
		return false;
	yes = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
	close(fd);
	return yes;
}

int ntfw_ctl_open(struct ntfw_ctl *c, struct ntfw_daemon *d,
		  const struct ntfw_kring *kr, int stop_fd)
{
	const struct ntfw_conf *conf = d->conf;
	const char *path = conf->control_socket ? conf->control_socket :
			   NTFW_CTL_PATH;
	struct sockaddr_un sa;
	struct stat st;
	char *dir;
	gid_t gid = (gid_t)-1;
	unsigned int i;

	memset(c, 0, sizeof(*c));
	c->d = d;
	c->kr = kr;
	c->lfd = -1;
	c->stop_fd = stop_fd;
	c->start_ns = mono_ns();
	c->snap_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	c->cl = calloc(NTFW_CTL_CLIENTS, sizeof(*c->cl));
	if (c->snap_fd < 0 || !c->cl) {
		log_warn("control socket");
		return -1;
	}
	for (i = 0; i < NTFW_CTL_CLIENTS; i++)
		c->cl[i].fd = -1;
	if (!*path) {
		log_info("control socket: none");
		return 0;
	}
	if (sock_addr(path, &sa)) {
		log_warnx("control-socket %s: path too long", path);
		return -1;
	}
	if (conf->control_group) {
		struct group *g = getgrnam(conf->control_group);

		if (!g) {
			log_warnx("control-group %s: no such group",
				  conf->control_group);
			return -1;
		}
		gid = g->gr_gid;
	}
	c->path = strdup(path);
	dir = strdup(path);
	if (!c->path || !dir) {
		free(dir);
		log_warn("control socket");
		return -1;
	}
	/* /run/ntfw does not survive a reboot. */
	if (mkdir(dirname(dir), 0755) < 0 && errno != EEXIST)
		log_warn("control socket: mkdir %s", dir);
	free(dir);
	if (answered(&sa)) {
		log_warnx("control socket %s: another daemon answers there, running without one",
			  path);
		free(c->path);
		c->path = NULL;
		return 0;
	}
	unlink(path);	/* a stale socket */
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->lfd < 0 ||
	    bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0660) < 0 ||
	    (gid != (gid_t)-1 && chown(path, (uid_t)-1, gid) < 0) ||
	    listen(c->lfd, 16) < 0 || stat(path, &st) < 0) {
		log_warn("control socket %s", path);
		if (c->lfd >= 0)
			close(c->lfd);
		c->lfd = -1;
		return -1;
	}
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	log_info("control socket: %s", path);
	return 0;
}

/* ---- replies ---- */

static json_t *err_reply(const char *msg)
{
	return json_pack("{s:b,s:s}", "ok", 0, "error", msg);
}

static void hash_str(const struct ntfw_conf *conf, char *buf, size_t len)
{
	snprintf(buf, len, "%016llx", (unsigned long long)conf->file_hash);
}

static uint64_t sum_at(const struct ntfw_daemon *d, size_t off)
{
	uint64_t t = 0;
	unsigned int i;

	for (i = 0; i < d->nq; i++)
		t += LOAD(*(const uint64_t *)
			  ((const char *)&d->w[i].engine.stats + off));
	return t;
}

#define SUM(field) json_integer((json_int_t)sum_at(d, \
				offsetof(struct ntfw_stats, field)))
#define JI(v) json_integer((json_int_t)(v))

static json_t *queues_json(const struct ntfw_daemon *d)
{
	json_t *a = json_array();
	unsigned int i;

	for (i = 0; i < d->nq; i++) {
		const struct ntfw_worker *w = &d->w[i];
		const struct ntfw_stats *s = &w->engine.stats;
		struct ntfw_nfq_kstats ks;
		json_t *q, *k = json_null();

		if (!ntfw_nfq_kernel_stats(w->queue, &ks))
			k = json_pack("{s:I,s:I,s:I,s:I}",
				      "given", (json_int_t)ks.id_sequence,
				      "waiting", (json_int_t)ks.waiting,
				      "queue_dropped", (json_int_t)ks.queue_dropped,
				      "user_dropped", (json_int_t)ks.user_dropped);
		q = json_pack("{s:i,s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
			      "queue", w->queue, "kernel", k,
			      "id_gaps", (json_int_t)LOAD(w->nfq.id_gaps),
			      "verdicts_held", (json_int_t)LOAD(w->nfq.verdicts_held),
			      "verdicts_lost", (json_int_t)LOAD(w->nfq.verdicts_lost),
			      "gso", (json_int_t)LOAD(w->nfq.gso_pkts),
			      "ct", (json_int_t)LOAD(w->nfq.ct_pkts),
			      "packets", (json_int_t)LOAD(s->packets),
			      "accepted", (json_int_t)LOAD(s->accepted),
			      "dropped", (json_int_t)LOAD(s->dropped),
			      "flows_active", (json_int_t)LOAD(s->flows_active));
		json_array_append_new(a, q);
	}
	return a;
}

static json_t *status_json(struct ntfw_ctl *c)
{
	const struct ntfw_daemon *d = c->d;
	const struct ntfw_conf *conf = d->conf;
	const struct ntfw_kring *kr = c->kr;
	const struct ntfw_feed *fd = d->feed;
	json_t *r, *mal = json_object(), *ring, *cnt = NULL, *feed;
	char hash[24];
	unsigned int i;

	hash_str(conf, hash, sizeof(hash));
	for (i = 1; i < NTFW_MALFORMED_MAX; i++)
		json_object_set_new(mal, ntfw_malformed_name(i),
				    SUM(malformed_by[i]));
	if (kr && kr->hdr && d->feed_kind == NTFW_FEED_KMOD)
		ring = json_pack("{s:b,s:s,s:I}", "active", 1,
				 "path", conf->kmod_ring ? conf->kmod_ring :
					 NTFW_KRING_PATH,
				 "records", (json_int_t)kr->nrec);
	else
		ring = json_pack("{s:b,s:s}", "active", 0, "mode",
				 conf->kmod == NTFW_KMOD_OFF ? "off" :
				 conf->kmod == NTFW_KMOD_ON ? "on" : "auto");
	/* The counts of the feed that runs, under either name. */
	if (fd) {
		cnt = json_pack("{s:I,s:I,s:I,s:I,s:I,s:o,s:o,s:o,s:o,s:o}",
				"read", (json_int_t)LOAD(fd->cnt.read),
				"kernel_dropped", (json_int_t)LOAD(fd->cnt.kernel_dropped),
				"queue_full", (json_int_t)LOAD(fd->cnt.queue_full),
				"no_owner", (json_int_t)LOAD(fd->cnt.no_owner),
				"resync", (json_int_t)LOAD(fd->cnt.resync),
				"applied", SUM(ring_applied),
				"unknown_flow", SUM(ring_unknown),
				"ignored", SUM(ring_ignored),
				"invalid", SUM(ring_invalid),
				"bad", SUM(ring_bad));
		if (ring && cnt && d->feed_kind == NTFW_FEED_KMOD)
			json_object_update(ring, cnt);
		feed = json_pack("{s:s,s:s,s:O}", "mode",
				 ntfw_feed_name(conf->feed), "active",
				 ntfw_feed_name(d->feed_kind), "records", cnt);
		json_decref(cnt);
	} else {
		feed = json_pack("{s:s,s:s}", "mode", ntfw_feed_name(conf->feed),
				 "active", "none");
	}
	r = json_pack("{s:b,s:s,s:i,s:I,s:{s:s,s:s,s:s,s:i,s:s,s:I},s:{s:I,s:I},"
		      "s:o,s:{s:o,s:o,s:o,s:o},s:o,"
		      "s:{s:o,s:o,s:o,s:o,s:o,s:o,s:o},"
		      "s:{s:o,s:o,s:o,s:o,s:o,s:o},"
		      "s:{s:b,s:i,s:b,s:o},s:o,s:o}",
		      "ok", 1, "version", NTFW_VERSION, "pid", (int)getpid(),
		      "uptime_s", (json_int_t)((mono_ns() - c->start_ns) / NS),
		      "config", "file", d->path, "hash", hash,
		      "hash_algorithm", "fnv1a-64", "rules", (int)conf->nrules,
		      "default", ntfw_verdict_name(conf->def),
		      "generation", (json_int_t)d->gen,
		      "reloads", "done", (json_int_t)d->reloads,
		      "failed", (json_int_t)d->reload_failures,
		      "queues", queues_json(d),
		      "totals", "packets", SUM(packets), "accepted", SUM(accepted),
		      "dropped", SUM(dropped), "malformed", SUM(malformed),
		      "malformed", mal,
		      "flows", "active", SUM(flows_active),
		      "created", SUM(flows_created), "ended", SUM(flows_ended),
		      "evicted", SUM(flows_evicted),
		      "expired", SUM(flows_expired),
		      "handed_off", SUM(handoffs), "log_errors", SUM(log_errors),
		      "states", "new", SUM(state_pkts[NTFW_ST_NEW]),
		      "established", SUM(state_pkts[NTFW_ST_ESTABLISHED]),
		      "related", SUM(state_pkts[NTFW_ST_RELATED]),
		      "invalid", SUM(state_pkts[NTFW_ST_INVALID]),
		      "invalid_verdict", SUM(invalid_unmatched),
		      "untracked", SUM(untracked),
		      "fastpath", "enabled", conf->fastpath_after != 0,
		      "after", (int)conf->fastpath_after,
		      "conntrack_glue", d->nq && d->w[0].nfq.ct_glue,
		      "handoffs", SUM(handoffs),
		      "kmod_ring", ring, "fastpath_feed", feed);
	return r ? r : err_reply("out of memory");
}

static json_t *rules_json(struct ntfw_ctl *c)
{
	const struct ntfw_daemon *d = c->d;
	const struct ntfw_conf *conf = d->conf;
	json_t *a = json_array();
	unsigned int r, i;

	for (r = 0; r <= conf->nrules; r++) {
		uint64_t pk = 0, by = 0;
		bool def = r == conf->nrules;

		for (i = 0; i < d->nq; i++) {
			pk += LOAD(d->w[i].engine.stats.rule_pkts[r]);
			by += LOAD(d->w[i].engine.stats.rule_bytes[r]);
		}
		json_array_append_new(a, json_pack("{s:s,s:s,s:i,s:I,s:I}",
			"name", def ? "default" : conf->rules[r].name,
			"verdict", ntfw_verdict_name(def ? conf->def :
						     conf->rules[r].verdict),
			"line", def ? 0 : (int)conf->rules[r].line,
			"packets", (json_int_t)pk, "bytes", (json_int_t)by));
	}
	return json_pack("{s:b,s:o}", "ok", 1, "rules", a);
}

/* ---- flows ---- */

struct flow_ref {
	const struct ntfw_snap_flow *f;
	uint16_t queue;
};

static enum ntfw_ctl_sort sort_by;

static int flow_cmp(const void *a, const void *b)
{
	const struct ntfw_snap_flow *x = ((const struct flow_ref *)a)->f;
	const struct ntfw_snap_flow *y = ((const struct flow_ref *)b)->f;
	uint64_t u, v;

	switch (sort_by) {
	case NTFW_CTL_SORT_PKTS:
		u = x->pkts[0] + x->pkts[1];
		v = y->pkts[0] + y->pkts[1];
		break;
	case NTFW_CTL_SORT_AGE:
		u = x->age_ns;
		v = y->age_ns;
		break;
	default:
		u = x->bytes[0] + x->bytes[1];
		v = y->bytes[0] + y->bytes[1];
	}
	return u < v ? 1 : u > v ? -1 : 0;	/* largest first */
}

static bool flow_match(const struct ntfw_ctl_req *q,
		       const struct ntfw_snap_flow *f)
{
	size_t alen = f->family == 4 ? 4 : 16;

	if (q->m_proto && f->proto != q->m_proto_v)
		return false;
	if (q->m_port && f->cport != q->m_port_v && f->sport != q->m_port_v)
		return false;
	if (q->m_addr && (f->family != q->m_family ||
			  (memcmp(f->caddr, q->m_addr_v, alen) &&
			   memcmp(f->saddr, q->m_addr_v, alen))))
		return false;
	return true;
}

static const char *addr_str(const struct ntfw_snap_flow *f, const uint8_t *a,
			    char *buf, size_t len)
{
	if (!inet_ntop(f->family == 4 ? AF_INET : AF_INET6, a, buf,
		       (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

/* Ask every worker for a copy of its flows; wait for them, bounded. */
static int snap_all(struct ntfw_ctl *c, struct ntfw_snap *s)
{
	struct ntfw_daemon *d = c->d;
	struct pollfd p = { .fd = c->snap_fd, .events = POLLIN };
	uint64_t until = mono_ns() + SNAP_WAIT_NS, now;
	unsigned int i, left;
	eventfd_t v;

	for (i = 0; i < d->nq; i++) {
		s[i].cap = d->w[i].engine.flows.max;
		s[i].v = malloc((size_t)s[i].cap * sizeof(*s[i].v));
		s[i].done_fd = c->snap_fd;
		if (!s[i].v)
			return -1;
	}
	for (i = 0; i < d->nq; i++)
		ntfw_snap_post(&d->w[i].snap, &s[i], d->w[i].wake_fd);
	for (;;) {
		for (i = 0, left = 0; i < d->nq; i++)
			left += !__atomic_load_n(&s[i].done, __ATOMIC_ACQUIRE);
		now = mono_ns();
		if (!left || now >= until)
			break;
		if (poll(&p, 1, (int)((until - now) / 1000000 + 1)) > 0)
			eventfd_read(c->snap_fd, &v);
	}
	/* A worker that never took its request (stopped): take it back.
	 * One that took it is copying now and will be done shortly. */
	for (i = 0; i < d->nq; i++) {
		if (__atomic_load_n(&s[i].done, __ATOMIC_ACQUIRE))
			continue;
		if (ntfw_snap_cancel(&d->w[i].snap, &s[i])) {
			s[i].n = s[i].total = 0;
			continue;
		}
		while (!__atomic_load_n(&s[i].done, __ATOMIC_ACQUIRE))
			if (poll(&p, 1, 100) > 0)
				eventfd_read(c->snap_fd, &v);
	}
	return 0;
}

static json_t *flows_json(struct ntfw_ctl *c, const struct ntfw_ctl_req *q)
{
	struct ntfw_daemon *d = c->d;
	const struct ntfw_conf *conf = d->conf;
	struct ntfw_snap *s = calloc(d->nq, sizeof(*s));
	struct flow_ref *ref = NULL;
	size_t n = 0, cap = 0, i, k;
	uint64_t total = 0;
	json_t *a = NULL, *r = NULL;
	char ca[INET6_ADDRSTRLEN], sa[INET6_ADDRSTRLEN], pn[8];

	if (!s || snap_all(c, s))
		goto out;
	for (i = 0; i < d->nq; i++) {
		cap += s[i].n;
		total += s[i].total;
	}
	ref = malloc((cap ? cap : 1) * sizeof(*ref));
	if (!ref)
		goto out;
	for (i = 0; i < d->nq; i++)
		for (k = 0; k < s[i].n; k++)
			if (flow_match(q, &s[i].v[k]))
				ref[n++] = (struct flow_ref){ &s[i].v[k],
							      d->w[i].queue };
	sort_by = q->sort;
	qsort(ref, n, sizeof(*ref), flow_cmp);
	a = json_array();
	for (i = 0; i < n && i < q->top; i++) {
		const struct ntfw_snap_flow *f = ref[i].f;

		json_array_append_new(a, json_pack(
			"{s:i,s:i,s:s,s:s,s:i,s:s,s:i,s:s,s:s,s:b,"
			"s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:f}",
			"queue", ref[i].queue, "family", f->family,
			"proto", ntfw_ctl_proto_name(f->proto, pn, sizeof(pn)),
			"client", addr_str(f, f->caddr, ca, sizeof(ca)),
			"cport", f->cport,
			"server", addr_str(f, f->saddr, sa, sizeof(sa)),
			"sport", f->sport,
			"state", f->decided ? ntfw_verdict_name(f->verdict) :
					      "undecided",
			"rule", f->rule < conf->nrules ?
				conf->rules[f->rule].name : "default",
			"handed_off", (f->handoff & NTFW_HO_KERNEL) != 0,
			"pkts", (json_int_t)(f->pkts[0] + f->pkts[1]),
			"bytes", (json_int_t)(f->bytes[0] + f->bytes[1]),
			"pkts_c2s", (json_int_t)f->pkts[0],
			"pkts_s2c", (json_int_t)f->pkts[1],
			"bytes_c2s", (json_int_t)f->bytes[0],
			"bytes_s2c", (json_int_t)f->bytes[1],
			"age_s", (double)f->age_ns / 1e9,
			"idle_s", (double)f->idle_ns / 1e9));
	}
	r = json_pack("{s:b,s:I,s:I,s:o}", "ok", 1, "total", (json_int_t)total,
		      "matched", (json_int_t)n, "flows", a);
out:
	for (i = 0; s && i < d->nq; i++)
		free(s[i].v);
	free(s);
	free(ref);
	return r ? r : err_reply("out of memory");
}

static json_t *reload_json(struct ntfw_ctl *c)
{
	char *msg = NULL;
	json_t *r;
	size_t n;

	if (ntfw_reload_msg(c->d, &msg)) {
		if (msg) {
			n = strlen(msg);
			while (n && msg[n - 1] == '\n')
				msg[--n] = '\0';
		}
		r = err_reply(msg ? msg :
			      "reload failed, keeping the running configuration (see the daemon's log)");
	} else {
		r = json_pack("{s:b,s:i,s:s,s:s?}", "ok", 1,
			      "rules", (int)c->d->conf->nrules,
			      "default", ntfw_verdict_name(c->d->conf->def),
			      "warnings", msg);
	}
	free(msg);
	return r ? r : err_reply("out of memory");
}

static json_t *stats_json(struct ntfw_ctl *c, const struct ntfw_ctl_req *q)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	json_t *r;

	if (!q->prometheus)
		return status_json(c);
	f = open_memstream(&text, &len);
	if (!f)
		return err_reply("out of memory");
	ntfw_metrics_write(f, c->d, c->kr,
			   (mono_ns() - c->start_ns) / NS);
	fclose(f);
	r = json_pack("{s:b,s:s,s:s}", "ok", 1, "format", "prometheus",
		      "text", text ? text : "");
	free(text);
	return r ? r : err_reply("out of memory");
}

static json_t *handle(struct ntfw_ctl *c, const char *buf, size_t len)
{
	struct ntfw_ctl_req q;
	char err[160];
	json_t *r;

	if (ntfw_ctl_parse(buf, len, &q, err, sizeof(err)))
		return err_reply(err);
	pthread_mutex_lock(&c->d->lock);
	switch (q.cmd) {
	case NTFW_CTL_STATUS:
		r = status_json(c);
		break;
	case NTFW_CTL_RULES:
		r = rules_json(c);
		break;
	case NTFW_CTL_FLOWS:
		r = flows_json(c, &q);
		break;
	case NTFW_CTL_RELOAD:
		r = reload_json(c);
		break;
	case NTFW_CTL_REOPEN:
		r = ntfw_evlog_reopen() ?
		    json_pack("{s:b,s:s}", "ok", 0, "error", strerror(errno)) :
		    json_pack("{s:b}", "ok", 1);
		break;
	default:
		r = stats_json(c, &q);
	}
	pthread_mutex_unlock(&c->d->lock);
	return r;
}

/* ---- clients ---- */

static void client_drop(struct ntfw_ctl_client *k)
{
	close(k->fd);
	free(k->in);
	free(k->out);
	memset(k, 0, sizeof(*k));
	k->fd = -1;
}

/* Queue @r (consumed) as the reply and start sending it. */
static void client_reply(struct ntfw_ctl_client *k, json_t *r)
{
	char *s = r ? json_dumps(r, JSON_COMPACT) : NULL;
	size_t n;

	json_decref(r);
	if (!s) {
		client_drop(k);
		return;
	}
	n = strlen(s);
	k->out = realloc(s, n + 2);
	if (!k->out) {
		free(s);
		client_drop(k);
		return;
	}
	k->out[n] = '\n';
	k->outlen = n + 1;
	k->outoff = 0;
	k->writing = true;
	k->deadline = mono_ns() + CLIENT_WRITE_NS;
}

/* Garbage or a stall: a last word, if the socket takes it, and away. */
static void client_refuse(struct ntfw_ctl_client *k, const char *why)
{
	char *s;
	json_t *r = err_reply(why);

	s = r ? json_dumps(r, JSON_COMPACT) : NULL;
	json_decref(r);
	if (s) {
		size_t n = strlen(s);

		s[n] = '\n';	/* json_dumps' NUL: the line's end */
		/* Best effort: it is being dropped anyway. */
		(void)!send(k->fd, s, n + 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		free(s);
	}
	client_drop(k);
}

static void client_read(struct ntfw_ctl *c, struct ntfw_ctl_client *k)
{
	ssize_t n;
	char *nl;

	n = recv(k->fd, k->in + k->inlen, NTFW_CTL_REQ_MAX - k->inlen,
		 MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		client_drop(k);
		return;
	}
	if (n == 0 && !k->inlen) {	/* gone without a word */
		client_drop(k);
		return;
	}
	nl = memchr(k->in + k->inlen, '\n', (size_t)n);
	k->inlen += (size_t)n;
	if (nl) {
		client_reply(k, handle(c, k->in, (size_t)(nl - k->in) + 1));
	} else if (n == 0) {	/* the request ends with the stream */
		client_reply(k, handle(c, k->in, k->inlen));
	} else if (k->inlen == NTFW_CTL_REQ_MAX) {
		client_refuse(k, "request too long (at most 65536 bytes, one line)");
	}
}

static void client_write(struct ntfw_ctl_client *k)
{
	ssize_t n = send(k->fd, k->out + k->outoff, k->outlen - k->outoff,
			 MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		client_drop(k);
		return;
	}
	k->outoff += (size_t)n;
	if (k->outoff == k->outlen)
		client_drop(k);	/* one request per connection */
}

static void accept_all(struct ntfw_ctl *c)
{
	unsigned int i;
	int fd;

	for (;;) {
		for (i = 0; i < NTFW_CTL_CLIENTS && c->cl[i].fd >= 0; i++)
			;
		if (i == NTFW_CTL_CLIENTS)
			return;	/* the rest wait in the backlog */
		fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		c->cl[i].in = malloc(NTFW_CTL_REQ_MAX);
		if (!c->cl[i].in) {
			close(fd);
			return;
		}
		c->cl[i].fd = fd;
		c->cl[i].inlen = 0;
		c->cl[i].writing = false;
		c->cl[i].deadline = mono_ns() + CLIENT_READ_NS;
	}
}

/* ---- metrics file ---- */

static void metrics_tick(struct ntfw_ctl *c, uint64_t now)
{
	const struct ntfw_conf *conf;
	int rc;

	if (now < c->metrics_due)
		return;
	pthread_mutex_lock(&c->d->lock);
	conf = c->d->conf;
	c->metrics_due = now + (uint64_t)conf->metrics_interval * NS;
	if (conf->metrics_file) {
		rc = ntfw_metrics_file(conf->metrics_file, c->d, c->kr,
				       (now - c->start_ns) / NS);
		if (rc) {
			errno = -rc;
			log_warn("metrics-file %s", conf->metrics_file);
		}
	}
	pthread_mutex_unlock(&c->d->lock);
}

static void *ctl_main(void *arg)
{
	struct ntfw_ctl *c = arg;
	struct pollfd p[NTFW_CTL_CLIENTS + 2];
	int slot[NTFW_CTL_CLIENTS + 2];
	uint64_t now, wake;
	unsigned int i, n;
	int timeout;

	for (;;) {
		now = mono_ns();
		metrics_tick(c, now);
		wake = c->metrics_due;
		n = 0;
		p[n].fd = c->stop_fd;
		p[n].events = POLLIN;
		slot[n++] = -1;
		if (c->lfd >= 0) {
			p[n].fd = c->lfd;
			p[n].events = POLLIN;
			slot[n++] = -1;
		}
		for (i = 0; i < NTFW_CTL_CLIENTS; i++) {
			struct ntfw_ctl_client *k = &c->cl[i];

			if (k->fd < 0)
				continue;
			if (now >= k->deadline) {
				if (k->writing)
					client_drop(k);
				else
					client_refuse(k, "request timed out (at most 2 s)");
				continue;
			}
			if (k->deadline < wake)
				wake = k->deadline;
			p[n].fd = k->fd;
			p[n].events = k->writing ? POLLOUT : POLLIN;
			slot[n++] = (int)i;
		}
		timeout = wake > now ? (int)((wake - now) / 1000000 + 1) : 0;
		if (poll(p, n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("control socket: poll");
			break;
		}
		if (p[0].revents)
			break;
		for (i = 1; i < n; i++) {
			struct ntfw_ctl_client *k;

			if (!p[i].revents)
				continue;
			if (slot[i] < 0) {
				accept_all(c);
				continue;
			}
			k = &c->cl[slot[i]];
			if (k->fd != p[i].fd)
				continue;
			if (k->writing)
				client_write(k);
			else
				client_read(c, k);
		}
	}
	return NULL;
}

int ntfw_ctl_start(struct ntfw_ctl *c)
{
	int rc = pthread_create(&c->thread, NULL, ctl_main, c);

	if (rc)
		return -rc;
	c->started = true;
	return 0;
}

void ntfw_ctl_close(struct ntfw_ctl *c)
{
	struct stat st;
	unsigned int i;

	if (c->started)
		pthread_join(c->thread, NULL);
	c->started = false;
	for (i = 0; c->cl && i < NTFW_CTL_CLIENTS; i++)
		if (c->cl[i].fd >= 0)
			client_drop(&c->cl[i]);
	free(c->cl);
	c->cl = NULL;
	if (c->lfd >= 0) {
		close(c->lfd);
		/* Only our own: another daemon may have taken the path. */
		if (c->path && !stat(c->path, &st) && st.st_dev == c->dev &&
		    st.st_ino == c->ino)
			unlink(c->path);
	}
	c->lfd = -1;
	if (c->snap_fd >= 0)
		close(c->snap_fd);
	c->snap_fd = -1;
	free(c->path);
	c->path = NULL;
}
