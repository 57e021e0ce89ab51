// SPDX-License-Identifier: GPL-2.0-only
/* Flow records: JSON lines for the event log and -r, or CSV for -r. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "conf.h"
#include "features.h"
#include "flow.h"
#include "json.h"
#include "record.h"

#define IDENTITY_COLUMNS                                                  \
	"family,proto,client_addr,client_port,server_addr,server_port,"   \
	"midstream,end,first_ts,last_ts,duration,verdict,rule"

const char *ntfw_record_proto(uint8_t proto, char *buf, size_t size)
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

/*
 * The record is built by appending, without printf: formatting the
 * identity fields with snprintf cost "ntfw -r" a tenth of its time.
 * Output that does not fit is cut, NUL-terminated, as snprintf would.
 */
static int clamp(int n, size_t size)
{
	return n < 0 ? 0 : (size_t)n >= size ? (int)size - 1 : n;
}

struct out {
	char *buf;
	size_t size, n;	/* n < size while size > 0 */
};

static void put_mem(struct out *o, const char *s, size_t len)
{
	size_t room;

	if (!o->size)
		return;
	room = o->size - 1 - o->n;
	if (len > room)
		len = room;
	memcpy(o->buf + o->n, s, len);
	o->n += len;
	o->buf[o->n] = '\0';
}

#define PUT_LIT(o, lit) put_mem(o, lit, sizeof(lit) - 1)

static void put_str(struct out *o, const char *s)
{
	put_mem(o, s, strlen(s));
}

/* @s as the inside of a JSON string. */
static void put_json(struct out *o, const char *s)
{
	if (o->size)
		o->n += ntfw_json_escape(o->buf + o->n, o->size - o->n, s,
					 strlen(s));
}

/* @v in decimal, at least @width digits (zero-padded). */
static void put_u64(struct out *o, uint64_t v, int width)
{
	char num[24], *p = num + sizeof(num);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
		width--;
	} while (v || width > 0);
	put_mem(o, p, (size_t)(num + sizeof(num) - p));
}

/* Seconds with microsecond precision, as tcptrace and pcap print them. */
static void put_ts(struct out *o, uint64_t ns)
{
	put_u64(o, ns / 1000000000ull, 1);
	PUT_LIT(o, ".");
	put_u64(o, ns % 1000000000ull / 1000, 6);
}

/* The rest of the buffer to a features formatter, clamped like the rest. */
static void put_features(struct out *o, const struct ntfw_features *feat,
			 bool json)
{
	size_t room = o->size - o->n;
	int n;

	if (!o->size)
		return;
	n = json ? ntfw_features_json(feat, o->buf + o->n, room) :
		   ntfw_features_csv(feat, o->buf + o->n, room);
	o->n += (size_t)clamp(n, room);
}

size_t ntfw_record_format(const struct ntfw_flow *f,
			  const struct ntfw_conf *conf,
			  enum ntfw_record_fmt fmt, char *buf, size_t size)
{
	char ca[INET6_ADDRSTRLEN], sa[INET6_ADDRSTRLEN], pb[8];
	int af = f->family == 6 ? AF_INET6 : AF_INET;
	uint64_t dur = f->last_ns - f->first_ns;
	const char *proto = ntfw_record_proto(f->proto, pb, sizeof(pb));
	bool mid = f->state & NTFW_FS_MIDSTREAM;
	const char *verdict = ntfw_verdict_name(f->verdict);
	struct out o = { .buf = buf, .size = size };

	if (size)
		buf[0] = '\0';
	inet_ntop(af, f->caddr, ca, sizeof(ca));
	inet_ntop(af, f->saddr, sa, sizeof(sa));
	if (fmt == NTFW_FMT_CSV) {
		put_u64(&o, f->family, 1);
		PUT_LIT(&o, ",");
		put_str(&o, proto);
		PUT_LIT(&o, ",");
		put_str(&o, ca);
		PUT_LIT(&o, ",");
		put_u64(&o, f->cport, 1);
		PUT_LIT(&o, ",");
		put_str(&o, sa);
		PUT_LIT(&o, ",");
		put_u64(&o, f->sport, 1);
		put_str(&o, mid ? ",true," : ",false,");
		put_str(&o, ntfw_flow_end_name(f->end));
		PUT_LIT(&o, ",");
		put_ts(&o, f->first_ns);
		PUT_LIT(&o, ",");
		put_ts(&o, f->last_ns);
		PUT_LIT(&o, ",");
		put_ts(&o, dur);
		PUT_LIT(&o, ",");
		put_str(&o, verdict);
		PUT_LIT(&o, ",");
		put_str(&o, rule_name(f, conf));
		PUT_LIT(&o, ",");
		put_features(&o, &f->feat, false);
		PUT_LIT(&o, "\n");
		return o.n;
	}
	PUT_LIT(&o, "{\"family\":");
	put_u64(&o, f->family, 1);
	PUT_LIT(&o, ",\"proto\":\"");
	put_str(&o, proto);
	PUT_LIT(&o, "\",\"client_addr\":\"");
	put_str(&o, ca);
	PUT_LIT(&o, "\",\"client_port\":");
	put_u64(&o, f->cport, 1);
	PUT_LIT(&o, ",\"server_addr\":\"");
	put_str(&o, sa);
	PUT_LIT(&o, "\",\"server_port\":");
	put_u64(&o, f->sport, 1);
	put_str(&o, mid ? ",\"midstream\":true,\"end\":\"" :
			  ",\"midstream\":false,\"end\":\"");
	put_str(&o, ntfw_flow_end_name(f->end));
	PUT_LIT(&o, "\",\"first_ts\":");
	put_ts(&o, f->first_ns);
	PUT_LIT(&o, ",\"last_ts\":");
	put_ts(&o, f->last_ns);
	PUT_LIT(&o, ",\"duration\":");
	put_ts(&o, dur);
	PUT_LIT(&o, ",\"verdict\":\"");
	put_str(&o, verdict);
	PUT_LIT(&o, "\",\"rule\":\"");
	put_json(&o, rule_name(f, conf));
	PUT_LIT(&o, "\",");
	/* Only when true: the kernel ring lost records while the kernel
	 * had the flow, so its features miss packets.  (JSON only: the
	 * CSV columns stay those of FEATURES.md.) */
	if (f->handoff & NTFW_HO_RING_LOST)
		PUT_LIT(&o, "\"ring_lost\":true,");
	put_features(&o, &f->feat, true);
	PUT_LIT(&o, "}\n");
	return o.n;
}

size_t ntfw_record_csv_header(char *buf, size_t size)
{
	return (size_t)clamp(snprintf(buf, size, IDENTITY_COLUMNS ",%s\n",
				      ntfw_features_csv_header()),
			     size);
}
