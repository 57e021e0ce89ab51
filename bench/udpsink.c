// SPDX-License-Identifier: GPL-2.0-only
/*
 * udpsink ADDR PORT SECONDS: count UDP datagrams received on ADDR:PORT
 * during SECONDS after the first one arrives; prints "count seconds".
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH 64

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct timeval tv = { .tv_usec = 100000 };
	static char buf[BATCH][2048];
	struct mmsghdr msg[BATCH] = { 0 };
	struct iovec iov[BATCH];
	unsigned long long got = 0;
	double start = 0, secs;
	int fd, i, n, rcvbuf = 8 << 20;

	if (argc != 4) {
		fprintf(stderr, "usage: udpsink addr port seconds\n");
		return 2;
	}
	inet_pton(AF_INET, argv[1], &a.sin_addr);
	a.sin_port = htons((uint16_t)atoi(argv[2]));
	secs = atof(argv[3]);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("udpsink");
		return 1;
	}
	for (i = 0; i < BATCH; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = sizeof(buf[i]);
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		n = recvmmsg(fd, msg, BATCH, 0, NULL);
		if (n > 0) {
			if (!start)
				start = now();
			got += (unsigned long long)n;
		}
		if (start && now() - start >= secs)
			break;
	}
	printf("%llu %.3f\n", got, now() - start);
	return 0;
}
