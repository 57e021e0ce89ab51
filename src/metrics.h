/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_METRICS_H
#define NTFW_METRICS_H

#include <stdint.h>
#include <stdio.h>

struct ntfw_daemon;
struct ntfw_kring;

/*
 * The daemon's counters in the Prometheus text exposition format (0.0.4),
 * "ntfw_" names, no timestamps.  The caller holds @d->lock.  Returns 0, or
 * -1 when @f refused the text.
 */
int ntfw_metrics_write(FILE *f, const struct ntfw_daemon *d,
		       const struct ntfw_kring *kr, uint64_t uptime_s);

/*
 * Write them to @path: a temporary file in the same directory, then
 * rename(2), so a reader sees the old text or the new, whole.  Returns 0
 * or -errno.
 */
int ntfw_metrics_file(const char *path, const struct ntfw_daemon *d,
		      const struct ntfw_kring *kr, uint64_t uptime_s);

#endif
