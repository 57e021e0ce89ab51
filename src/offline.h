/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_OFFLINE_H
#define NTFW_OFFLINE_H

#include "record.h"

struct ntfw_conf;

/*
 * ntfw -r: run a capture (pcap or pcapng) through the daemon's packet path
 * and print a flow record per flow on stdout, the counters on stderr.
 * Returns 0, or 1 after a one-line error on stderr.
 */
int ntfw_offline_run(const char *path, const struct ntfw_conf *conf,
		     enum ntfw_record_fmt fmt);

#endif
