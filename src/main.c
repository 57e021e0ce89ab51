// SPDX-License-Identifier: GPL-2.0-only
/*
 * ntfw: the daemon.  The main thread parses the config, binds one queue per
 * worker, then only waits for signals (and reloads the config on SIGHUP);
 * the workers answer packets.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bpffeed.h"
#include "conf.h"
#include "ctl.h"
#include "evlog.h"
#include "kring.h"
#include "log.h"
#include "offline.h"
#include "priv.h"
#include "reload.h"
#include "stats.h"
#include "worker.h"

#ifndef NTFW_VERSION
#define NTFW_VERSION "unknown"
#endif
#ifndef NTFW_CONF
#define NTFW_CONF "/etc/ntfw/ntfw.conf"
#endif

static void usage(FILE *f)
{
	fprintf(f, "usage: ntfw [-dnv] [-c file]\n"
		   "       ntfw -r capture [-c file] [--format json|csv]\n"
		   "       ntfw -h | -V\n");
}

static void report(const struct ntfw_daemon *d, const struct ntfw_feed *f)
{
	struct ntfw_stats *s[NTFW_MAX_QUEUES] = { 0 };
	struct ntfw_worker *w = d->w;
	unsigned int i;

	/* What the kernel lost or holds: the losses we cannot see. */
	for (i = 0; i < d->nq; i++) {
		struct ntfw_nfq_kstats ks;

		if (ntfw_nfq_kernel_stats(w[i].queue, &ks))
			continue;
		log_info("stats: queue %u given=%llu waiting=%llu queue-dropped=%llu user-dropped=%llu id-gaps=%llu gso=%llu ct=%llu",
			 w[i].queue, (unsigned long long)ks.id_sequence,
			 (unsigned long long)ks.waiting,
			 (unsigned long long)ks.queue_dropped,
			 (unsigned long long)ks.user_dropped,
			 (unsigned long long)__atomic_load_n(&w[i].nfq.id_gaps,
							     __ATOMIC_RELAXED),
			 (unsigned long long)__atomic_load_n(&w[i].nfq.gso_pkts,
							     __ATOMIC_RELAXED),
			 (unsigned long long)__atomic_load_n(&w[i].nfq.ct_pkts,
							     __ATOMIC_RELAXED));
	}
	log_info("stats: reloads done=%llu failed=%llu",
		 (unsigned long long)d->reloads,
		 (unsigned long long)d->reload_failures);
	for (i = 0; i < d->nq; i++)
		s[i] = &w[i].engine.stats;
	ntfw_evlog_report();
	ntfw_stats_report(d->conf, s, d->nq);
	if (f)
		ntfw_stats_report_ring(&f->cnt, s, d->nq);
}

/*
 * The kernel module's ring at @path: 1 when it is read, 0 when the daemon
 * goes on without it, -1 when it cannot run as configured (@want 2: the
 * ring is required).  One line says which.
 */
static int kring_open(struct ntfw_kring *k, const char *path, int want,
		      bool try_bpf)
{
	char err[320];
	int rc;

	rc = ntfw_kring_open(k, path, err, sizeof(err));
	if (rc == -ENOENT && want == 1) {
		if (!try_bpf)
			log_info("kmod ring: none (%s absent): handed-off flows keep the features of their queued packets only",
				 path);
		else
			log_info("kmod ring: none (%s absent)", path);
		return 0;
	}
	if (rc && want == 2) {
		log_warnx("kmod on: cannot use the ring: %s", err);
		return -1;
	}
	if (rc) {
		log_warnx("kmod auto: not using the ring: %s", err);
		return 0;
	}
	log_info("kmod ring: %s, %u records", path, k->nrec);
	return 1;
}

/*
 * The fast-path feed, as fastpath-feed and kmod say (feed.h): the module's
 * ring when it is wanted and there, else the eBPF program when wanted and
 * the kernel takes it, else none.  Sets *@feed to the one that runs, or
 * NULL.  Returns 0, or -1 when the daemon cannot run as configured.
 */
static int feed_open(struct ntfw_kring *k, struct ntfw_bpffeed *b,
		     struct ntfw_feed **feed, const struct ntfw_conf *conf,
		     const struct ntfw_relate *rel, unsigned int nq)
{
	const char *path = conf->kmod_ring ? conf->kmod_ring : NTFW_KRING_PATH;
	int want_kmod, want_bpf, rc = 0;
	char err[320], msg[512];

	*feed = NULL;
	k->hdr = NULL;
	k->fd = -1;
	ntfw_feed_wants(conf->feed, conf->kmod, &want_kmod, &want_bpf);
	if (!want_kmod && !want_bpf) {
		log_info("fastpath feed: off (fastpath-feed %s, kmod %s)",
			 ntfw_feed_name(conf->feed),
			 conf->kmod == NTFW_KMOD_OFF ? "off" : "auto");
		return 0;
	}
	if (want_kmod)
		rc = kring_open(k, path, want_kmod, want_bpf);
	if (rc < 0)
		return -1;
	if (rc > 0) {
		*feed = &k->feed;
	} else if (want_bpf) {
		rc = ntfw_bpffeed_open(b, err, sizeof(err));
		rc = ntfw_feed_bpf_decide(want_bpf, rc, err, msg, sizeof(msg));
		if (rc < 0) {
			log_warnx("%s", msg);
			return -1;
		}
		if (rc == 0) {
			log_warnx("%s", msg);
			return 0;
		}
		log_info("%s: netfilter program, %u links, ring of %u KiB (wakeup at %u KiB unread, else every %u ms)",
			 msg, b->nlinks, NTFW_BPF_RING_BYTES >> 10,
			 NTFW_BPF_WAKE_BYTES >> 10, NTFW_BPF_POLL_MS);
		*feed = &b->feed;
	} else {
		return 0;
	}
	rc = ntfw_feed_init(*feed, nq, rel);
	if (rc) {
		errno = -rc;
		log_warn("fastpath feed");
		*feed = NULL;
		return conf->feed == NTFW_FEED_AUTO &&
		       conf->kmod != NTFW_KMOD_ON ? 0 : -1;
	}
	return 0;
}

/* Serve the queues of @conf until SIGTERM or SIGINT; @conf is ours now. */
static int run(const char *path, struct ntfw_conf *conf, int foreground)
{
	unsigned int nq = conf->queue_hi - conf->queue_lo + 1u, i, bound = 0;
	uint32_t shard = conf->flows_max / nq;
	struct ntfw_daemon d = {
		.path = path, .conf = conf, .nq = nq, .log_fd = -1,
		.lock = PTHREAD_MUTEX_INITIALIZER,
	};
	struct ntfw_ctl ctl = { .lfd = -1, .snap_fd = -1 };
	struct ntfw_kring kr = { .fd = -1 };
	struct ntfw_bpffeed bf = { .stop_fd = -1 };
	struct ntfw_feed *feed = NULL;
	char *abs = NULL;
	sigset_t set;
	int stop_fd, sig, rc = 1;

	/* Workers inherit this mask: signals are taken by sigwait below. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	d.w = calloc(nq, sizeof(*d.w));
	stop_fd = eventfd(0, EFD_CLOEXEC);
	d.ack_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (!d.w || stop_fd < 0 || d.ack_fd < 0)
		fatal("startup");
	/* A reload reads the file again, after daemon() went to "/". */
	if (!foreground && path[0] != '/') {
		abs = realpath(path, NULL);
		if (!abs)
			fatal("%s", path);
		d.path = abs;
	}
	if (ntfw_event_log_open(conf, &d.log_fd) || ntfw_evlog_init(nq))
		goto out;
	/* The event log's writer owns the file from here on (evlog.c). */
	ntfw_evlog_set(conf->event_log, d.log_fd);
	d.log_fd = -1;
	/* Each worker owns a shard of the flow table, no lock shared; with
	 * several, they publish their decided flows for each other's ICMP
	 * errors (relate.c). */
	if (shard < 64)
		shard = 64;
	if (nq > 1) {
		d.rel = ntfw_relate_new(shard * nq);
		if (!d.rel)
			fatal("startup");
	}
	for (i = 0; i < nq; i++, bound++) {
		uint16_t q = (uint16_t)(conf->queue_lo + i);
		int err = ntfw_worker_init(&d.w[i], q, conf, shard, stop_fd,
					   d.ack_fd, d.log_fd);

		if (err) {
			errno = -err;
			/* nfnetlink_queue answers EPERM both to a caller
			 * without CAP_NET_ADMIN and for a queue that another
			 * socket owns; root has the capability. */
			if (err == -EPERM && geteuid() == 0)
				log_warnx("queue %u is bound by another program",
					  q);
			else if (err == -EPERM)
				log_warnx("cannot bind queue %u: permission denied (needs CAP_NET_ADMIN)",
					  q);
			else
				log_warn("cannot bind queue %u", q);
			goto out;
		}
		d.w[i].engine.rel = d.rel;
		d.w[i].engine.id = (uint8_t)i;
	}
	/* Before the privileges go: loading BPF needs them. */
	if (feed_open(&kr, &bf, &feed, conf, d.rel, nq))
		goto out;
	for (i = 0; feed && i < nq; i++)
		ntfw_worker_ring(&d.w[i], feed, i);
	d.feed = feed;
	d.feed_kind = feed == &kr.feed ? NTFW_FEED_KMOD :
		      feed ? NTFW_FEED_BPF : NTFW_FEED_OFF;
	if (ntfw_ctl_open(&ctl, &d, &kr, stop_fd))
		goto out;
	/* Fork before threads exist; the bound sockets come along. */
	if (!foreground && daemon(0, 0) < 0)
		fatal("daemon");
	/* Everything is open: give up what the threads will not need. */
	if (ntfw_priv_daemon(conf->user))
		goto out;
	if (ntfw_evlog_start())
		fatal("event-log writer");
	log_set_hook(ntfw_evlog_error);
	for (i = 0; i < nq; i++) {
		int err = ntfw_worker_start(&d.w[i]);

		if (err) {
			errno = -err;
			log_warn("cannot start the worker of queue %u",
				 d.w[i].queue);
			goto out;
		}
	}
	if (feed) {
		int err = feed == &kr.feed ? ntfw_kring_start(&kr, stop_fd) :
			  ntfw_bpffeed_start(&bf, stop_fd);

		if (err) {
			errno = -err;
			log_warn("cannot start the fastpath feed's reader");
			goto out;
		}
	}
	if (ntfw_ctl_start(&ctl)) {
		log_warnx("cannot start the control socket's thread");
		goto out;
	}
	if (nq == 1)
		log_info("ready: queue %u, %u rules, default %s", conf->queue_lo,
			 conf->nrules, ntfw_verdict_name(conf->def));
	else
		log_info("ready: queue %u-%u, %u rules, default %s",
			 conf->queue_lo, conf->queue_hi, conf->nrules,
			 ntfw_verdict_name(conf->def));
	log_info("policy: malformed %s, invalid %s, reload-flows %s",
		 ntfw_verdict_name(conf->malformed),
		 ntfw_verdict_name(conf->invalid),
		 conf->reload_keep ? "keep" : "reevaluate");
	/* Every queue asked the same kernel: one line says it. */
	if (conf->fastpath_after)
		log_info("conntrack glue: %s", d.w[0].nfq.ct_glue ?
			 "yes, hand-off verdicts mark the connection" :
			 "no, the ruleset saves the packet mark to the connection");
	for (;;) {
		if (sigwait(&set, &sig))
			continue;
		pthread_mutex_lock(&d.lock);
		if (sig == SIGUSR1)
			report(&d, feed);
		else if (sig == SIGHUP)
			ntfw_reload(&d);
		else if (sig == SIGUSR2 && ntfw_evlog_reopen())
			log_warn("event-log: reopen");
		else if (sig == SIGUSR2)
			log_info("event-log reopened");
		pthread_mutex_unlock(&d.lock);
		if (sig != SIGUSR1 && sig != SIGHUP && sig != SIGUSR2) {
			log_info("%s: stopping", strsignal(sig));
			break;
		}
	}
	rc = 0;
out:
	if (eventfd_write(stop_fd, 1) < 0)
		log_warn("eventfd");
	ntfw_kring_join(&kr);
	ntfw_bpffeed_join(&bf);
	for (i = 0; i < nq; i++)
		ntfw_worker_join(&d.w[i]);
	ntfw_ctl_close(&ctl);
	/* The workers wrote their last records: write them out. */
	log_set_hook(NULL);
	ntfw_evlog_stop();
	if (rc == 0)
		report(&d, feed);
	for (i = 0; i < bound; i++)
		ntfw_worker_free(&d.w[i]);
	free(d.w);
	ntfw_kring_close(&kr);
	/* The hooks go with the links: the feed does not outlive us. */
	ntfw_bpffeed_close(&bf);
	ntfw_relate_free(d.rel);
	close(stop_fd);
	close(d.ack_fd);
	if (d.log_fd >= 0)
		close(d.log_fd);
	ntfw_conf_free(d.conf);
	free(abs);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NTFW_CONF, *capture = NULL;
	enum ntfw_record_fmt fmt = NTFW_FMT_JSON;
	struct ntfw_conf *conf = NULL;
	int ch, foreground = 0, check = 0, verbose = 0, rc, have_conf = 0;
	int fmt_given = 0;

	while ((ch = getopt_long(argc, argv, "c:dhnr:vV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			have_conf = 1;
			break;
		case 'r':
			capture = optarg;
			break;
		case 'F':
			fmt_given = 1;
			if (!strcmp(optarg, "json")) {
				fmt = NTFW_FMT_JSON;
			} else if (!strcmp(optarg, "csv")) {
				fmt = NTFW_FMT_CSV;
			} else {
				fprintf(stderr, "ntfw: --format: expected json or csv, got '%s'\n",
					optarg);
				return 1;
			}
			break;
		case 'd':
			foreground = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'n':
			check = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'V':
			printf("ntfw %s\n", NTFW_VERSION);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}
	if (fmt_given && !capture) {
		fprintf(stderr, "ntfw: --format applies to -r only\n");
		return 1;
	}
	if (capture && !have_conf) {
		/* Offline without a config: every packet meets the default
		 * (accept), the flows and their features are the point. */
		if (ntfw_conf_parse("(none)", "", 0, &conf, stderr))
			return 1;
	} else if (ntfw_conf_load(path, &conf, stderr)) {
		return 1;
	}
	if (capture && !check) {
		rc = ntfw_offline_run(capture, conf, fmt);
		ntfw_conf_free(conf);
		return rc;
	}
	if (check) {
		printf("configuration OK\n");
		ntfw_conf_free(conf);
		return 0;
	}
	log_init(foreground, verbose);
	return run(path, conf, foreground);
}
