// SPDX-License-Identifier: GPL-2.0-only
/*
 * ringmap: map the packet summary ring (/proc/ntfw/ring) the way the
 * daemon does and print its header, for the tests that boot a kernel with
 * ntfw_kmod loaded.  With -h SECONDS it keeps the mapping that long after
 * printing (so the module can be removed under a live mapping) and reads
 * the header once more before it exits.  Built static: the guest has no
 * libraries of its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ntfw_ring.h"

static void show(const char *when, const volatile struct ntfw_ring_hdr *h)
{
	printf("%s: magic=%#x version=%u rec_size=%u nrec=%u rec_offset=%u "
	       "prod=%llu cons=%llu dropped=%llu\n", when, h->magic,
	       h->version, h->rec_size, h->nrec, h->rec_offset,
	       (unsigned long long)__atomic_load_n(&h->prod, __ATOMIC_ACQUIRE),
	       (unsigned long long)h->cons, (unsigned long long)h->dropped);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	const char *path = "/proc/ntfw/ring";
	unsigned int hold = 0;
	const struct ntfw_ring_hdr *h;
	void *map;
	int opt, fd;

	while ((opt = getopt(argc, argv, "h:")) != -1) {
		if (opt != 'h') {
			fprintf(stderr, "usage: ringmap [-h SECONDS] [RING]\n");
			return 2;
		}
		hold = (unsigned int)strtoul(optarg, NULL, 10);
	}
	if (optind < argc)
		path = argv[optind];
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "ringmap: %s: %s\n", path, strerror(errno));
		return 1;
	}
	/* The header page only: its size does not depend on the ring's. */
	map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		fprintf(stderr, "ringmap: mmap %s: %s\n", path, strerror(errno));
		return 1;
	}
	close(fd);
	h = map;
	show("mapped", h);
	if (hold) {
		sleep(hold);
		show("after", h);
	}
	munmap(map, 4096);
	return 0;
}
