// SPDX-License-Identifier: GPL-2.0-only
/*
 * Requests of the control socket, parsed with jansson: the bytes come
 * from any local user the socket's mode lets in, so every field is
 * checked for its type and range, and unknown fields are refused rather
 * than ignored (a typo in "match" must not show every flow).
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ctlproto.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	char *c;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	/* What the client sent is echoed (a key, a command): the reason
	 * stays one line of printable text whatever it holds. */
	for (c = err; errlen && *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return -1;
}

const char *ntfw_ctl_proto_name(uint8_t proto, char *buf, size_t len)
{
	switch (proto) {
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 58:
		return "icmpv6";
	}
	snprintf(buf, len, "%u", proto);
	return buf;
}

static int parse_proto(json_t *v, struct ntfw_ctl_req *r, char *err,
		       size_t errlen)
{
	static const struct {
		const char *name;
		uint8_t num;
	} names[] = {
		{ "icmp", 1 }, { "tcp", 6 }, { "udp", 17 }, { "icmpv6", 58 },
	};
	unsigned int i;

	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0 || json_integer_value(v) > 255)
			return fail(err, errlen, "match proto: out of range 0-255");
		r->m_proto_v = (uint8_t)json_integer_value(v);
		r->m_proto = true;
		return 0;
	}
	if (!json_is_string(v))
		return fail(err, errlen, "match proto: expected a name or a number");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!strcmp(json_string_value(v), names[i].name)) {
			r->m_proto_v = names[i].num;
			r->m_proto = true;
			return 0;
		}
	}
	return fail(err, errlen, "match proto: expected tcp, udp, icmp, icmpv6 or a number");
}

static int parse_match(json_t *m, struct ntfw_ctl_req *r, char *err,
		       size_t errlen)
{
	const char *key;
	json_t *v;

	if (!json_is_object(m))
		return fail(err, errlen, "match: expected an object");
	json_object_foreach(m, key, v) {
		if (!strcmp(key, "addr")) {
			const char *s = json_string_value(v);

			if (!s)
				return fail(err, errlen, "match addr: expected a string");
			if (inet_pton(AF_INET, s, r->m_addr_v) == 1) {
				r->m_family = 4;
			} else if (inet_pton(AF_INET6, s, r->m_addr_v) == 1) {
				r->m_family = 6;
			} else {
				return fail(err, errlen, "match addr: not an IPv4 or IPv6 address");
			}
			r->m_addr = true;
		} else if (!strcmp(key, "port")) {
			if (!json_is_integer(v) || json_integer_value(v) < 0 ||
			    json_integer_value(v) > 65535)
				return fail(err, errlen, "match port: expected an integer 0-65535");
			r->m_port_v = (uint16_t)json_integer_value(v);
			r->m_port = true;
		} else if (!strcmp(key, "proto")) {
			if (parse_proto(v, r, err, errlen))
				return -1;
		} else {
			return fail(err, errlen, "match: unknown field '%.40s'", key);
		}
	}
	return 0;
}

/* Fields that @cmd takes besides "cmd". */
static int parse_field(const char *key, json_t *v, struct ntfw_ctl_req *r,
		       char *err, size_t errlen)
{
	if (r->cmd == NTFW_CTL_FLOWS && !strcmp(key, "top")) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > NTFW_CTL_TOP_MAX)
			return fail(err, errlen, "top: expected an integer 1-%u",
				    NTFW_CTL_TOP_MAX);
		r->top = (uint32_t)json_integer_value(v);
		return 0;
	}
	if (r->cmd == NTFW_CTL_FLOWS && !strcmp(key, "sort")) {
		const char *s = json_string_value(v);

		if (s && !strcmp(s, "bytes"))
			r->sort = NTFW_CTL_SORT_BYTES;
		else if (s && !strcmp(s, "pkts"))
			r->sort = NTFW_CTL_SORT_PKTS;
		else if (s && !strcmp(s, "age"))
			r->sort = NTFW_CTL_SORT_AGE;
		else
			return fail(err, errlen, "sort: expected bytes, pkts or age");
		return 0;
	}
	if (r->cmd == NTFW_CTL_FLOWS && !strcmp(key, "match"))
		return parse_match(v, r, err, errlen);
	if (r->cmd == NTFW_CTL_STATS && !strcmp(key, "format")) {
		const char *s = json_string_value(v);

		if (s && !strcmp(s, "prometheus"))
			r->prometheus = true;
		else if (s && !strcmp(s, "json"))
			r->prometheus = false;
		else
			return fail(err, errlen, "format: expected json or prometheus");
		return 0;
	}
	return fail(err, errlen, "unknown field '%.40s'", key);
}

int ntfw_ctl_parse(const char *buf, size_t len, struct ntfw_ctl_req *r,
		   char *err, size_t errlen)
{
	static const char *const cmds[] = {
		[NTFW_CTL_STATUS] = "status",
		[NTFW_CTL_RULES] = "rules",
		[NTFW_CTL_FLOWS] = "flows",
		[NTFW_CTL_RELOAD] = "reload",
		[NTFW_CTL_STATS] = "stats",
		[NTFW_CTL_REOPEN] = "reopen",
	};
	json_error_t je;
	const char *key, *cmd;
	json_t *root, *v;
	unsigned int i;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	r->top = NTFW_CTL_TOP_DEFAULT;
	if (len > NTFW_CTL_REQ_MAX)
		return fail(err, errlen, "request longer than %u bytes",
			    NTFW_CTL_REQ_MAX);
	if (len && buf[len - 1] == '\n')
		len--;
	if (memchr(buf, '\n', len))
		return fail(err, errlen, "one request per line");
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
			  &je);
	if (!root)
		return fail(err, errlen, "bad JSON at column %d: %s",
			    je.column, je.text);
	if (!json_is_object(root)) {
		fail(err, errlen, "expected a JSON object");
		goto out;
	}
	cmd = json_string_value(json_object_get(root, "cmd"));
	if (!cmd) {
		fail(err, errlen, "no \"cmd\" string");
		goto out;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(cmd, cmds[i]))
			break;
	if (i == sizeof(cmds) / sizeof(cmds[0])) {
		fail(err, errlen, "unknown command '%.40s'", cmd);
		goto out;
	}
	r->cmd = (enum ntfw_ctl_cmd)i;
	json_object_foreach(root, key, v) {
		if (strcmp(key, "cmd") && parse_field(key, v, r, err, errlen))
			goto out;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}
