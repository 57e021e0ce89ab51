// SPDX-License-Identifier: GPL-2.0-only
/*
 * ntfwctl: ask the running daemon through its control socket.  One
 * request, one reply line; tables for a person, the reply itself with
 * --json.  Exit 0 when the daemon said ok, 1 otherwise.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>

#include "ctlproto.h"

#ifndef NTFW_VERSION
#define NTFW_VERSION "unknown"
#endif
#define DEFAULT_SOCKET "/run/ntfw/ntfw.sock"
#define REPLY_MAX (256u << 20)

static void usage(FILE *f)
{
	fprintf(f, "usage: ntfwctl [-s socket] [--json] command [args]\n"
		   "commands:\n"
		   "  status\n"
		   "  rules\n"
		   "  flows [top N] [sort bytes|pkts|age] [addr A] [port P] [proto P]\n"
		   "  reload\n"
		   "  reopen\n"
		   "  stats [--prometheus]\n");
}

static unsigned long num(const char *what, const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > max || s[0] == '-') {
		fprintf(stderr, "ntfwctl: %s: expected a number up to %lu, got '%s'\n",
			what, max, s);
		exit(1);
	}
	return v;
}

/* The request for the command line; exits on a bad one. */
static json_t *request(int argc, char **argv, int *prom)
{
	const char *cmd = argv[0];
	json_t *r = json_pack("{s:s}", "cmd", cmd), *m;
	int i;

	if (!strcmp(cmd, "status") || !strcmp(cmd, "rules") ||
	    !strcmp(cmd, "reload") || !strcmp(cmd, "reopen")) {
		if (argc > 1)
			goto bad;
		return r;
	}
	if (!strcmp(cmd, "stats")) {
		for (i = 1; i < argc; i++) {
			if (strcmp(argv[i], "--prometheus") &&
			    strcmp(argv[i], "prometheus"))
				goto bad;
			*prom = 1;
		}
		json_object_set_new(r, "format",
				    json_string(*prom ? "prometheus" : "json"));
		return r;
	}
	if (strcmp(cmd, "flows"))
		goto bad;
	m = json_object();
	for (i = 1; i < argc; i += 2) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			goto bad;
		if (!strcmp(k, "top"))
			json_object_set_new(r, "top",
					    json_integer((json_int_t)num("top", v, NTFW_CTL_TOP_MAX)));
		else if (!strcmp(k, "sort"))
			json_object_set_new(r, "sort", json_string(v));
		else if (!strcmp(k, "addr"))
			json_object_set_new(m, "addr", json_string(v));
		else if (!strcmp(k, "port"))
			json_object_set_new(m, "port",
					    json_integer((json_int_t)num("port", v, 65535)));
		else if (!strcmp(k, "proto"))
			json_object_set_new(m, "proto", json_string(v));
		else
			goto bad;
	}
	if (json_object_size(m))
		json_object_set_new(r, "match", m);
	else
		json_decref(m);
	return r;
bad:
	usage(stderr);
	exit(1);
}

/* Send @req, return the reply line (malloc'd); exits when there is none. */
static char *ask(const char *path, const char *req)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = 0, cap = 0, n = strlen(req);
	char *buf = NULL;
	ssize_t got;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "ntfwctl: %s: path too long\n", path);
		exit(1);
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		fprintf(stderr, "ntfwctl: cannot connect to %s: %s (%s)\n",
			path, strerror(e),
			e == EACCES ? "root and the control-group may connect" :
				      "is ntfw running?");
		exit(1);
	}
	while (n) {
		got = send(fd, req, n, MSG_NOSIGNAL);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			fprintf(stderr, "ntfwctl: %s: %s\n", path, strerror(errno));
			exit(1);
		}
		req += got;
		n -= (size_t)got;
	}
	for (;;) {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 65536;
			if (cap > REPLY_MAX || !(buf = realloc(buf, cap + 1))) {
				fprintf(stderr, "ntfwctl: reply too large\n");
				exit(1);
			}
		}
		got = recv(fd, buf + len, cap - len, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			fprintf(stderr, "ntfwctl: %s: %s\n", path, strerror(errno));
			exit(1);
		}
		if (got == 0)
			break;
		len += (size_t)got;
		if (buf[len - 1] == '\n')
			break;
	}
	close(fd);
	if (!len) {
		fprintf(stderr, "ntfwctl: %s: the daemon closed the connection without a reply\n",
			path);
		exit(1);
	}
	buf[len] = '\0';
	return buf;
}

#define U(o, k) ((unsigned long long)json_integer_value(json_object_get((o), (k))))
#define S(o, k) (json_string_value(json_object_get((o), (k))) ?: "-")

static void print_status(json_t *r)
{
	json_t *c = json_object_get(r, "config"), *q, *t, *o;
	const char *k;
	size_t i;

	printf("ntfw %s, pid %llu, up %llu s\n", S(r, "version"), U(r, "pid"),
	       U(r, "uptime_s"));
	printf("config   %s (%s %s), %llu rules, default %s, generation %llu\n",
	       S(c, "file"), S(c, "hash_algorithm"), S(c, "hash"),
	       U(c, "rules"), S(c, "default"), U(c, "generation"));
	t = json_object_get(r, "reloads");
	printf("reloads  done %llu, failed %llu\n", U(t, "done"), U(t, "failed"));
	printf("\n%-6s %12s %8s %10s %10s %12s %12s %12s %8s\n", "QUEUE",
	       "GIVEN", "WAITING", "Q-DROPPED", "U-DROPPED", "PACKETS",
	       "ACCEPTED", "DROPPED", "FLOWS");
	json_array_foreach(json_object_get(r, "queues"), i, q) {
		json_t *kq = json_object_get(q, "kernel");

		printf("%-6llu %12llu %8llu %10llu %10llu %12llu %12llu %12llu %8llu\n",
		       U(q, "queue"), U(kq, "given"), U(kq, "waiting"),
		       U(kq, "queue_dropped"), U(kq, "user_dropped"),
		       U(q, "packets"), U(q, "accepted"), U(q, "dropped"),
		       U(q, "flows_active"));
	}
	t = json_object_get(r, "totals");
	printf("\ntotal    packets %llu, accepted %llu, dropped %llu, malformed %llu\n",
	       U(t, "packets"), U(t, "accepted"), U(t, "dropped"),
	       U(t, "malformed"));
	printf("states  ");
	json_object_foreach(json_object_get(r, "states"), k, o)
		printf(" %s %llu", k, (unsigned long long)json_integer_value(o));
	printf("\nflows   ");
	json_object_foreach(json_object_get(r, "flows"), k, o)
		printf(" %s %llu", k, (unsigned long long)json_integer_value(o));
	printf("\nmalformed");
	json_object_foreach(json_object_get(r, "malformed"), k, o)
		printf(" %s %llu", k, (unsigned long long)json_integer_value(o));
	t = json_object_get(r, "fastpath");
	if (json_is_true(json_object_get(t, "enabled")))
		printf("\nfastpath after %llu packets, conntrack glue %s, handoffs %llu\n",
		       U(t, "after"),
		       json_is_true(json_object_get(t, "conntrack_glue")) ? "yes" : "no",
		       U(t, "handoffs"));
	else
		printf("\nfastpath off\n");
	t = json_object_get(r, "kmod_ring");
	if (json_is_true(json_object_get(t, "active")))
		printf("kmod ring %s, %llu records: read %llu, applied %llu, kernel-dropped %llu\n",
		       S(t, "path"), U(t, "records"), U(t, "read"),
		       U(t, "applied"), U(t, "kernel_dropped"));
	else
		printf("kmod ring none (kmod %s)\n", S(t, "mode"));
	t = json_object_get(r, "fastpath_feed");
	if (json_object_get(t, "records")) {
		json_t *rc = json_object_get(t, "records");

		printf("fastpath feed %s (fastpath-feed %s): read %llu, applied %llu, unknown-flow %llu, kernel-dropped %llu, queue-full %llu\n",
		       S(t, "active"), S(t, "mode"), U(rc, "read"),
		       U(rc, "applied"), U(rc, "unknown_flow"),
		       U(rc, "kernel_dropped"), U(rc, "queue_full"));
	} else {
		printf("fastpath feed none (fastpath-feed %s)\n", S(t, "mode"));
	}
}

static void print_rules(json_t *r)
{
	json_t *x;
	size_t i;

	printf("%-24s %-7s %6s %12s %14s\n", "RULE", "VERDICT", "LINE",
	       "PACKETS", "BYTES");
	json_array_foreach(json_object_get(r, "rules"), i, x)
		printf("%-24s %-7s %6llu %12llu %14llu\n", S(x, "name"),
		       S(x, "verdict"), U(x, "line"), U(x, "packets"),
		       U(x, "bytes"));
}

static void endpoint(char *buf, size_t len, json_t *x, const char *a,
		     const char *p)
{
	const char *s = S(x, a);

	snprintf(buf, len, strchr(s, ':') ? "[%s]:%llu" : "%s:%llu", s, U(x, p));
}

static void print_flows(json_t *r)
{
	char c[64], s[64];
	json_t *x;
	size_t i;

	printf("%-6s %-46s %-46s %-9s %-16s %10s %12s %9s\n", "PROTO",
	       "CLIENT", "SERVER", "STATE", "RULE", "PKTS", "BYTES", "AGE");
	json_array_foreach(json_object_get(r, "flows"), i, x) {
		endpoint(c, sizeof(c), x, "client", "cport");
		endpoint(s, sizeof(s), x, "server", "sport");
		printf("%-6s %-46s %-46s %-9s %-16s %10llu %12llu %8.1fs%s\n",
		       S(x, "proto"), c, s, S(x, "state"), S(x, "rule"),
		       U(x, "pkts"), U(x, "bytes"),
		       json_real_value(json_object_get(x, "age_s")),
		       json_is_true(json_object_get(x, "handed_off")) ?
		       " (kernel)" : "");
	}
	printf("%llu of %llu flows matched, %zu shown\n", U(r, "matched"),
	       U(r, "total"), json_array_size(json_object_get(r, "flows")));
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "prometheus", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_SOCKET, *cmd;
	int ch, json = 0, prom = 0, ok;
	json_error_t je;
	json_t *req, *rep;
	char *line, *text;

	/* "+": options after the command are the command's (--prometheus). */
	while ((ch = getopt_long(argc, argv, "+hjs:V", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			json = 1;
			break;
		case 's':
			path = optarg;
			break;
		case 'P':
			prom = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("ntfwctl %s\n", NTFW_VERSION);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 1;
	}
	cmd = argv[optind];
	req = request(argc - optind, argv + optind, &prom);
	if (prom && strcmp(cmd, "stats")) {
		usage(stderr);
		return 1;
	}
	if (prom)
		json_object_set_new(req, "format", json_string("prometheus"));
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!text)
		return 1;
	line = malloc(strlen(text) + 2);
	if (!line)
		return 1;
	sprintf(line, "%s\n", text);
	free(text);
	text = ask(path, line);
	free(line);
	rep = json_loads(text, 0, &je);
	if (!rep || !json_is_object(rep)) {
		fprintf(stderr, "ntfwctl: %s: a reply that is not JSON: %s\n",
			path, rep ? "not an object" : je.text);
		return 1;
	}
	ok = json_is_true(json_object_get(rep, "ok"));
	if (json) {
		fputs(text, stdout);
	} else if (!ok) {
		fprintf(stderr, "ntfwctl: %s\n", S(rep, "error"));
	} else if (!strcmp(cmd, "status") ||
		   (!strcmp(cmd, "stats") && !prom)) {
		print_status(rep);
	} else if (!strcmp(cmd, "rules")) {
		print_rules(rep);
	} else if (!strcmp(cmd, "flows")) {
		print_flows(rep);
	} else if (!strcmp(cmd, "reload")) {
		if (json_string_value(json_object_get(rep, "warnings")))
			fprintf(stderr, "%s", S(rep, "warnings"));
		printf("reloaded: %llu rules, default %s\n", U(rep, "rules"),
		       S(rep, "default"));
	} else if (!strcmp(cmd, "reopen")) {
		printf("event log reopened\n");
	} else {
		fputs(S(rep, "text"), stdout);
	}
	free(text);
	json_decref(rep);
	return ok ? 0 : 1;
}
