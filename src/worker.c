// SPDX-License-Identifier: GPL-2.0-only
/*
 * A queue worker.  The packet path, top to bottom: read a batch of
 * messages, and for each packet parse it, find the first matching rule,
 * count, answer.  No allocation, no locks, no exit on this path.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include <linux/if_ether.h>
#include <linux/netfilter.h>

#include "conf.h"
#include "log.h"
#include "parse.h"
#include "policy.h"
#include "worker.h"

static unsigned int to_nf(enum ntfw_verdict v)
{
	return v == NTFW_DROP ? NF_DROP : NF_ACCEPT;
}

unsigned int ntfw_worker_verdict(struct ntfw_worker *w,
				 const struct ntfw_nfq_msg *m)
{
	const struct ntfw_conf *conf = w->conf;
	struct ntfw_stats *st = &w->stats;
	const struct ntfw_rule *rule;
	enum ntfw_malformed bad;
	enum ntfw_verdict v;
	struct ntfw_pkt p;
	unsigned int idx;

	STAT_INC(st->packets);
	p.iif = m->iif;
	p.oif = m->oif;
	p.hook = m->hook;
	bad = m->data ? ntfw_parse(m->data, m->caplen, m->wirelen, &p) :
			NTFW_BAD_IP_HDR;
	/* The queue says which family it handed us; believe both or neither. */
	if (!bad && ((m->hw_proto == ETH_P_IP && p.family != 4) ||
		     (m->hw_proto == ETH_P_IPV6 && p.family != 6)))
		bad = NTFW_BAD_VERSION;
	if (bad) {
		STAT_INC(st->malformed);
		STAT_INC(st->malformed_by[bad]);
		v = conf->def;
	} else {
		rule = ntfw_policy_eval(conf, &p, &w->ifc, &idx);
		v = rule ? rule->verdict : conf->def;
		STAT_INC(st->rule_pkts[idx]);
		STAT_ADD(st->rule_bytes[idx], p.ip_len);
	}
	if (v == NTFW_DROP)
		STAT_INC(st->dropped);
	else
		STAT_INC(st->accepted);
	return to_nf(v);
}

static unsigned int worker_cb(const struct ntfw_nfq_msg *m, void *arg)
{
	return ntfw_worker_verdict(arg, m);
}

int ntfw_worker_init(struct ntfw_worker *w, uint16_t queue,
		     const struct ntfw_conf *conf, int stop_fd)
{
	struct ntfw_nfq_opts o = {
		.fail_open = conf->fail_open,
		.copy_range = 0xffff,
	};
	int rc;

	memset(w, 0, sizeof(*w));
	w->queue = queue;
	w->conf = conf;
	w->stop_fd = stop_fd;
	if (ntfw_stats_init(&w->stats, conf))
		return -ENOMEM;
	rc = ntfw_nfq_open(&w->nfq, queue, &o, worker_cb, w);
	if (rc < 0)
		ntfw_stats_free(&w->stats);
	return rc;
}

static void *worker_main(void *arg)
{
	struct ntfw_worker *w = arg;
	struct pollfd pfd[2] = {
		{ .fd = ntfw_nfq_fd(&w->nfq), .events = POLLIN },
		{ .fd = w->stop_fd, .events = POLLIN },
	};
	int rc;

	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_warn("queue %u: poll", w->queue);
			break;
		}
		if (pfd[1].revents)
			break;
		rc = ntfw_nfq_drain(&w->nfq);
		if (rc < 0) {
			/* A socket error is not the network's doing: say so,
			 * keep serving (bypass covers the gap). */
			errno = -rc;
			log_warn("queue %u: receive", w->queue);
		}
	}
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
	ntfw_nfq_close(&w->nfq);
	ntfw_stats_free(&w->stats);
}
