/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_RECORD_H
#define NTFW_RECORD_H

#include <stddef.h>
#include <stdint.h>

struct ntfw_conf;
struct ntfw_flow;

enum ntfw_record_fmt { NTFW_FMT_JSON, NTFW_FMT_CSV };

#define NTFW_RECORD_MAX 4096 /* a record always fits */

/*
 * One flow record, newline-terminated: the identity fields of doc/features.md
 * then the features.  Returns its length.
 */
size_t ntfw_record_format(const struct ntfw_flow *f,
			  const struct ntfw_conf *conf,
			  enum ntfw_record_fmt fmt, char *buf, size_t size);

/* A protocol as records and events name it: tcp, udp, icmp, icmpv6, or
 * its number written into @buf. */
const char *ntfw_record_proto(uint8_t proto, char *buf, size_t size);

/* The CSV header line, newline-terminated. */
size_t ntfw_record_csv_header(char *buf, size_t size);

#endif
