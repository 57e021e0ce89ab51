/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_CTLPROTO_H
#define NTFW_CTLPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The control socket's protocol: one JSON object per line each way.  A
 * request is {"cmd":"status"|"rules"|"flows"|"reload"|"stats", ...}; the
 * reply {"ok":true,...} or {"ok":false,"error":"..."}.
 */
#define NTFW_CTL_REQ_MAX 65536u	/* bytes of one request, newline included */
#define NTFW_CTL_TOP_DEFAULT 50u
#define NTFW_CTL_TOP_MAX 1000000u

enum ntfw_ctl_cmd {
	NTFW_CTL_STATUS,
	NTFW_CTL_RULES,
	NTFW_CTL_FLOWS,
	NTFW_CTL_RELOAD,
	NTFW_CTL_STATS,
	NTFW_CTL_REOPEN,	/* the event log, after logrotate */
};

enum ntfw_ctl_sort {
	NTFW_CTL_SORT_BYTES,
	NTFW_CTL_SORT_PKTS,
	NTFW_CTL_SORT_AGE,
};

struct ntfw_ctl_req {
	enum ntfw_ctl_cmd cmd;
	/* flows */
	uint32_t top;
	enum ntfw_ctl_sort sort;
	bool m_addr, m_port, m_proto;	/* which "match" fields were given */
	uint8_t m_family;		/* 4 or 6 */
	uint8_t m_addr_v[16];		/* IPv4 in the first four bytes */
	uint16_t m_port_v;		/* either end's port */
	uint8_t m_proto_v;
	/* stats */
	bool prometheus;
};

/*
 * Parse one request of @len bytes (a trailing newline allowed).  Returns 0,
 * or -1 with a one-line reason in @err.  Never trusts @buf: any bytes at
 * all give one or the other.
 */
int ntfw_ctl_parse(const char *buf, size_t len, struct ntfw_ctl_req *r,
		   char *err, size_t errlen);

/* "tcp", "udp", "icmp", "icmpv6" or the number, into @buf. */
const char *ntfw_ctl_proto_name(uint8_t proto, char *buf, size_t len);

#endif
