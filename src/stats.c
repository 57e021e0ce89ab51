// SPDX-License-Identifier: GPL-2.0-only
/* Counters: per worker, summed when reported. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "stats.h"

int ntfw_stats_init(struct ntfw_stats *s, const struct ntfw_conf *conf)
{
	memset(s, 0, sizeof(*s));
	s->rule_pkts = calloc(conf->nrules + 1, sizeof(uint64_t));
	s->rule_bytes = calloc(conf->nrules + 1, sizeof(uint64_t));
	if (!s->rule_pkts || !s->rule_bytes) {
		ntfw_stats_free(s);
		return -1;
	}
	return 0;
}

void ntfw_stats_free(struct ntfw_stats *s)
{
	free(s->rule_pkts);
	free(s->rule_bytes);
	s->rule_pkts = s->rule_bytes = NULL;
}

void ntfw_stats_move_rules(struct ntfw_stats *s, struct ntfw_stats *next,
			   const uint16_t *map, unsigned int n)
{
	uint64_t *pk = s->rule_pkts, *by = s->rule_bytes;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (map[i] == NTFW_RULE_GONE)
			continue;
		next->rule_pkts[map[i]] += pk[i];
		next->rule_bytes[map[i]] += by[i];
	}
	s->rule_pkts = next->rule_pkts;
	s->rule_bytes = next->rule_bytes;
	next->rule_pkts = pk;
	next->rule_bytes = by;
}

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

static uint64_t sum(struct ntfw_stats *const *s, unsigned int n, size_t off)
{
	uint64_t t = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		uint64_t *p = (uint64_t *)((char *)s[i] + off);

		t += LOAD(*p);
	}
	return t;
}

#define SUM(field) sum(s, n, offsetof(struct ntfw_stats, field))

void ntfw_stats_report(const struct ntfw_conf *conf,
		       struct ntfw_stats *const *s, unsigned int n)
{
	uint64_t pk, by;
	unsigned int r, i;
	char line[512];
	int len = 0;

	for (r = 0; r <= conf->nrules; r++) {
		pk = by = 0;
		for (i = 0; i < n; i++) {
			pk += LOAD(s[i]->rule_pkts[r]);
			by += LOAD(s[i]->rule_bytes[r]);
		}
		if (r < conf->nrules)
			log_info("stats: rule %s %s packets=%llu bytes=%llu",
				 conf->rules[r].name,
				 ntfw_verdict_name(conf->rules[r].verdict),
				 (unsigned long long)pk, (unsigned long long)by);
		else
			log_info("stats: default %s packets=%llu bytes=%llu",
				 ntfw_verdict_name(conf->def),
				 (unsigned long long)pk, (unsigned long long)by);
	}
	log_info("stats: total packets=%llu accepted=%llu dropped=%llu malformed=%llu",
		 (unsigned long long)SUM(packets),
		 (unsigned long long)SUM(accepted),
		 (unsigned long long)SUM(dropped),
		 (unsigned long long)SUM(malformed));
	log_info("stats: flows active=%llu created=%llu ended=%llu evicted=%llu expired=%llu handed-off=%llu log-errors=%llu",
		 (unsigned long long)SUM(flows_active),
		 (unsigned long long)SUM(flows_created),
		 (unsigned long long)SUM(flows_ended),
		 (unsigned long long)SUM(flows_evicted),
		 (unsigned long long)SUM(flows_expired),
		 (unsigned long long)SUM(handoffs),
		 (unsigned long long)SUM(log_errors));
	log_info("stats: state new=%llu established=%llu related=%llu invalid=%llu invalid-verdict=%llu untracked=%llu",
		 (unsigned long long)SUM(state_pkts[NTFW_ST_NEW]),
		 (unsigned long long)SUM(state_pkts[NTFW_ST_ESTABLISHED]),
		 (unsigned long long)SUM(state_pkts[NTFW_ST_RELATED]),
		 (unsigned long long)SUM(state_pkts[NTFW_ST_INVALID]),
		 (unsigned long long)SUM(invalid_unmatched),
		 (unsigned long long)SUM(untracked));
	for (r = 1; r < NTFW_MALFORMED_MAX; r++)
		len += snprintf(line + len, sizeof(line) - (size_t)len, " %s=%llu",
				ntfw_malformed_name(r),
				(unsigned long long)SUM(malformed_by[r]));
	log_info("stats: malformed%s", line);
}

void ntfw_stats_report_ring(const struct ntfw_ring_counts *k,
			    struct ntfw_stats *const *s, unsigned int n)
{
	log_info("stats: ring read=%llu applied=%llu unknown-flow=%llu ignored=%llu invalid=%llu bad=%llu kernel-dropped=%llu queue-full=%llu no-owner=%llu resync=%llu",
		 (unsigned long long)LOAD(k->read),
		 (unsigned long long)SUM(ring_applied),
		 (unsigned long long)SUM(ring_unknown),
		 (unsigned long long)SUM(ring_ignored),
		 (unsigned long long)SUM(ring_invalid),
		 (unsigned long long)SUM(ring_bad),
		 (unsigned long long)LOAD(k->kernel_dropped),
		 (unsigned long long)LOAD(k->queue_full),
		 (unsigned long long)LOAD(k->no_owner),
		 (unsigned long long)LOAD(k->resync));
}
