// SPDX-License-Identifier: GPL-2.0-only
/* Flow records: JSON lines for the event log and -r, or CSV for -r. */
#include <arpa/inet.h>
#include <stdio.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "conf.h"
#include "features.h"
#include "flow.h"
#include "record.h"

#define IDENTITY_COLUMNS                                                  \
	"family,proto,client_addr,client_port,server_addr,server_port,"   \
	"midstream,end,first_ts,last_ts,duration,verdict,rule"

static const char *proto_name(uint8_t proto, char *buf, size_t size)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	}
	snprintf(buf, size, "%u", proto);
	return buf;
}

static const char *rule_name(const struct ntfw_flow *f,
			     const struct ntfw_conf *conf)
{
	if (f->rule < conf->nrules)
		return conf->rules[f->rule].name;
	/* Parentheses: no rule can be named so. */
	return f->rule == NTFW_RULE_GONE ? "(removed)" : "default";
}

/* Seconds with microsecond precision, as tcptrace and pcap print them. */
#define TS_FMT "%llu.%06llu"
#define TS_ARGS(ns) (unsigned long long)((ns) / 1000000000ull), \
		    (unsigned long long)((ns) % 1000000000ull / 1000)

static int clamp(int n, size_t size)
{
	return n < 0 ? 0 : (size_t)n >= size ? (int)size - 1 : n;
}

size_t ntfw_record_format(const struct ntfw_flow *f,
			  const struct ntfw_conf *conf,
			  enum ntfw_record_fmt fmt, char *buf, size_t size)
{
	char ca[INET6_ADDRSTRLEN], sa[INET6_ADDRSTRLEN], pb[8];
	int af = f->family == 6 ? AF_INET6 : AF_INET, n;
	uint64_t dur = f->last_ns - f->first_ns;
	const char *proto = proto_name(f->proto, pb, sizeof(pb));
	const char *mid = (f->state & NTFW_FS_MIDSTREAM) ? "true" : "false";
	const char *verdict = ntfw_verdict_name(f->verdict);

	inet_ntop(af, f->caddr, ca, sizeof(ca));
	inet_ntop(af, f->saddr, sa, sizeof(sa));
	if (fmt == NTFW_FMT_CSV) {
		n = clamp(snprintf(buf, size,
				   "%u,%s,%s,%u,%s,%u,%s,%s," TS_FMT "," TS_FMT
				   "," TS_FMT ",%s,%s,",
				   f->family, proto, ca, f->cport, sa, f->sport,
				   mid, ntfw_flow_end_name(f->end),
				   TS_ARGS(f->first_ns), TS_ARGS(f->last_ns),
				   TS_ARGS(dur), verdict, rule_name(f, conf)),
			  size);
		n += clamp(ntfw_features_csv(&f->feat, buf + n, size - (size_t)n),
			   size - (size_t)n);
		n += clamp(snprintf(buf + n, size - (size_t)n, "\n"),
			   size - (size_t)n);
		return (size_t)n;
	}
	n = clamp(snprintf(buf, size,
			   "{\"family\":%u,\"proto\":\"%s\",\"client_addr\":\"%s\","
			   "\"client_port\":%u,\"server_addr\":\"%s\","
			   "\"server_port\":%u,\"midstream\":%s,\"end\":\"%s\","
			   "\"first_ts\":" TS_FMT ",\"last_ts\":" TS_FMT ","
			   "\"duration\":" TS_FMT ",\"verdict\":\"%s\","
			   "\"rule\":\"%s\",",
			   f->family, proto, ca, f->cport, sa, f->sport, mid,
			   ntfw_flow_end_name(f->end), TS_ARGS(f->first_ns),
			   TS_ARGS(f->last_ns), TS_ARGS(dur), verdict,
			   rule_name(f, conf)),
		  size);
	n += clamp(ntfw_features_json(&f->feat, buf + n, size - (size_t)n),
		   size - (size_t)n);
	n += clamp(snprintf(buf + n, size - (size_t)n, "}\n"), size - (size_t)n);
	return (size_t)n;
}

size_t ntfw_record_csv_header(char *buf, size_t size)
{
	return (size_t)clamp(snprintf(buf, size, IDENTITY_COLUMNS ",%s\n",
				      ntfw_features_csv_header()),
			     size);
}
