/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_RECORD_H
#define NTFW_RECORD_H

#include <stddef.h>

struct ntfw_conf;
struct ntfw_flow;

enum ntfw_record_fmt { NTFW_FMT_JSON, NTFW_FMT_CSV };

#define NTFW_RECORD_MAX 4096 /* a record always fits */

/*
 * One flow record, newline-terminated: the identity fields of FEATURES.md
 * then the features.  Returns its length.
 */
size_t ntfw_record_format(const struct ntfw_flow *f,
			  const struct ntfw_conf *conf,
			  enum ntfw_record_fmt fmt, char *buf, size_t size);

/* The CSV header line, newline-terminated. */
size_t ntfw_record_csv_header(char *buf, size_t size);

#endif
