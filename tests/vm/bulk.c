// SPDX-License-Identifier: GPL-2.0-only
/*
 * bulk: one TCP transfer of a fixed size, cut the same way every time,
 * for the guest tests that compare the records of two runs of the same
 * transfer, and for the guest benchmark.
 *
 *   bulk serve ADDR PORT BYTES [MS]
 *                                accept one connection, send BYTES (a
 *                                multiple of the MSS is sent in full
 *                                segments only: every write is a multiple
 *                                of it), close; prints "ready" once
 *                                listening; with MS, after the first
 *                                write prints "pause" and waits MS
 *                                milliseconds
 *   bulk get ADDR PORT           connect, read to the end; prints
 *                                "BYTES SECONDS"
 *
 * Built static: the guest has no libraries of its own.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 20];

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct sockaddr_in addr_of(const char *a, const char *p)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	sin.sin_port = htons((unsigned short)atoi(p));
	if (inet_pton(AF_INET, a, &sin.sin_addr) != 1) {
		fprintf(stderr, "bulk: bad address %s\n", a);
		exit(2);
	}
	return sin;
}

static int serve(struct sockaddr_in sin, unsigned long long bytes,
		 unsigned int pause_ms)
{
	int one = 1, ls, fd, mss;
	socklen_t len = sizeof(mss);
	size_t chunk, i;
	ssize_t n;

	ls = socket(AF_INET, SOCK_STREAM, 0);
	if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(ls, (struct sockaddr *)&sin, sizeof(sin)) || listen(ls, 1))
		die("listen");
	printf("ready\n");
	fflush(stdout);
	fd = accept(ls, NULL, NULL);
	if (fd < 0)
		die("accept");
	if (getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &len) || mss <= 0)
		die("TCP_MAXSEG");
	/* Writes of whole segments: nothing is left to be pushed alone. */
	chunk = sizeof(buf) / (size_t)mss * (size_t)mss;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7);
	while (bytes) {
		size_t want = bytes < chunk ? (size_t)bytes : chunk;

		n = write(fd, buf, want);
		if (n <= 0)
			die("write");
		bytes -= (unsigned long long)n;
		if (pause_ms) {
			printf("pause\n");
			fflush(stdout);
			usleep(pause_ms * 1000u);
			pause_ms = 0;
		}
	}
	close(fd);
	close(ls);
	return 0;
}

static int get(struct sockaddr_in sin)
{
	unsigned long long got = 0;
	double t0 = now_s();
	ssize_t n;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		die("connect");
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		got += (unsigned long long)n;
	if (n < 0)
		die("read");
	printf("%llu %.6f\n", got, now_s() - t0);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "serve"))
		return serve(addr_of(argv[2], argv[3]),
			     strtoull(argv[4], NULL, 10),
			     argc == 6 ? (unsigned int)atoi(argv[5]) : 0);
	if (argc == 4 && !strcmp(argv[1], "get"))
		return get(addr_of(argv[2], argv[3]));
	fprintf(stderr, "usage: bulk serve ADDR PORT BYTES [MS] | bulk get ADDR PORT\n");
	return 2;
}
