// SPDX-License-Identifier: GPL-2.0-only
/*
 * tcpbench: TCP connection rate and request/response latency.
 *
 *   tcpbench serve ADDR PORT SECONDS   echo server: answers every byte it
 *                                      reads, closes when the peer does;
 *                                      exits after SECONDS
 *   tcpbench crr ADDR PORT SECONDS     connect, send 1 byte, read the echo,
 *                                      close, again, for SECONDS; prints
 *                                      "CONNECTIONS SECONDS"
 *   tcpbench rr ADDR PORT COUNT        one connection, COUNT round trips of
 *                                      1 byte; prints "p50 p99" in
 *                                      microseconds
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 1024

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static struct sockaddr_in addr_of(const char *ip, const char *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };

	if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
		fprintf(stderr, "tcpbench: bad address %s\n", ip);
		exit(2);
	}
	a.sin_port = htons((uint16_t)atoi(port));
	return a;
}

static int serve(struct sockaddr_in a, double seconds)
{
	struct pollfd p[MAX_CONNS + 1];
	int n = 1, one = 1, i, fd;
	double end = now_s() + seconds;
	char buf[4096];
	ssize_t r;

	p[0].fd = socket(AF_INET, SOCK_STREAM, 0);
	if (p[0].fd < 0)
		die("socket");
	setsockopt(p[0].fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(p[0].fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(p[0].fd, 1024) < 0)
		die("bind/listen");
	p[0].events = POLLIN;
	printf("ready\n");
	fflush(stdout);
	while (now_s() < end) {
		if (poll(p, (nfds_t)n, 200) < 0 && errno != EINTR)
			die("poll");
		if ((p[0].revents & POLLIN) && n <= MAX_CONNS) {
			fd = accept(p[0].fd, NULL, NULL);
			if (fd >= 0) {
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
					   sizeof(one));
				p[n].fd = fd;
				p[n].events = POLLIN;
				p[n++].revents = 0;
			}
		}
		for (i = 1; i < n; i++) {
			if (!p[i].revents)
				continue;
			r = read(p[i].fd, buf, sizeof(buf));
			if (r > 0 && write(p[i].fd, buf, (size_t)r) == r)
				continue;
			close(p[i].fd);
			p[i--] = p[--n];
		}
	}
	return 0;
}

static int connect_to(struct sockaddr_in a)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		die("socket");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("connect");
	return fd;
}

/* One byte there and back; returns the round trip in seconds. */
static double round_trip(int fd)
{
	double t0 = now_s();
	char c = 'x';

	if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1)
		die("round trip");
	return now_s() - t0;
}

static int crr(struct sockaddr_in a, double seconds)
{
	double t0 = now_s(), t;
	unsigned long conns = 0;
	int fd;

	do {
		fd = connect_to(a);
		round_trip(fd);
		close(fd);
		conns++;
		t = now_s() - t0;
	} while (t < seconds);
	printf("%lu %.3f\n", conns, t);
	return 0;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

static int rr(struct sockaddr_in a, long count)
{
	double *rtt = calloc((size_t)count, sizeof(*rtt));
	int fd = connect_to(a);
	long i;

	if (!rtt)
		die("calloc");
	for (i = 0; i < count; i++)
		rtt[i] = round_trip(fd);
	close(fd);
	qsort(rtt, (size_t)count, sizeof(*rtt), cmp_double);
	printf("%.1f %.1f\n", rtt[count / 2] * 1e6,
	       rtt[(count * 99) / 100] * 1e6);
	free(rtt);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a;
	double v;

	if (argc != 5) {
		fprintf(stderr, "usage: tcpbench serve|crr|rr addr port seconds|count\n");
		return 2;
	}
	a = addr_of(argv[2], argv[3]);
	v = atof(argv[4]);
	if (v <= 0) {
		fprintf(stderr, "tcpbench: bad count %s\n", argv[4]);
		return 2;
	}
	if (!strcmp(argv[1], "serve"))
		return serve(a, v);
	if (!strcmp(argv[1], "crr"))
		return crr(a, v);
	if (!strcmp(argv[1], "rr"))
		return rr(a, (long)v);
	fprintf(stderr, "tcpbench: unknown mode %s\n", argv[1]);
	return 2;
}
