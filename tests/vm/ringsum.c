// SPDX-License-Identifier: GPL-2.0-only
/*
 * ringsum: add up the records of the ntfw_kmod ring that match, for the
 * guest tests that compare the ring with what the interfaces and the
 * daemon counted.  It only reads: cons is left alone, so it can run
 * beside the daemon, and it reads any index still in the ring, not only
 * those above cons.
 *
 *   ringsum [-f FROM] [-p PORT] [-n NETNS] [-i IFINDEX] [-F] [-v] [PATH]
 *     -f  first index to read (default: prod - nrec, or 0)
 *     -p  TCP/UDP port on either side
 *     -n  the namespace's inode number
 *     -i  ifindex
 *     -F  fast-path records only
 *     -v  print each record that matches, too
 *
 * Prints "prod=N dropped=N" and, for each hook, the records, the wire
 * segments (gso_segs), the bytes at the hook with the link header
 * (wire_len) and the IP bytes of the segments the wire carries (each
 * segment with the headers).  Exit 1 on an error, 2 on no live ring.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ntfw_ring.h"

struct sum {
	uint64_t recs, segs, wire, ip;
};

int main(int argc, char **argv)
{
	const char *path = "/proc/ntfw/ring";
	long port = -1, netns = -1, ifindex = -1;
	const struct ntfw_ring_hdr *h;
	struct ntfw_ring_rec r;
	struct sum s[2] = { { 0 } };
	uint64_t from = UINT64_MAX, prod, i;
	int opt, fd, fast = 0, verbose = 0;
	const uint8_t *rec;
	void *map;
	size_t len;

	while ((opt = getopt(argc, argv, "f:p:n:i:Fv")) != -1) {
		switch (opt) {
		case 'f':
			from = strtoull(optarg, NULL, 10);
			break;
		case 'p':
			port = strtol(optarg, NULL, 10);
			break;
		case 'n':
			netns = strtol(optarg, NULL, 10);
			break;
		case 'i':
			ifindex = strtol(optarg, NULL, 10);
			break;
		case 'F':
			fast = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			fprintf(stderr, "usage: ringsum [-f FROM] [-p PORT] [-n NETNS] [-i IFINDEX] [-F] [-v] [RING]\n");
			return 1;
		}
	}
	if (optind < argc)
		path = argv[optind];
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "ringsum: %s: %s\n", path, strerror(errno));
		return 1;
	}
	h = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED) {
		fprintf(stderr, "ringsum: mmap: %s\n", strerror(errno));
		return 1;
	}
	if (h->magic != NTFW_RING_MAGIC || h->version != NTFW_RING_VERSION ||
	    h->rec_size != sizeof(r) || !h->nrec || (h->nrec & (h->nrec - 1)) ||
	    h->rec_offset != 4096) {
		fprintf(stderr, "ringsum: no live ring of a known layout\n");
		return 2;
	}
	len = (size_t)h->nrec * sizeof(r);
	map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, h->rec_offset);
	if (map == MAP_FAILED) {
		fprintf(stderr, "ringsum: mmap of the records: %s\n",
			strerror(errno));
		return 1;
	}
	rec = map;
	prod = __atomic_load_n(&h->prod, __ATOMIC_ACQUIRE);
	if (from == UINT64_MAX || from > prod)
		from = prod > h->nrec ? prod - h->nrec : 0;
	if (prod - from > h->nrec) {
		fprintf(stderr, "ringsum: index %" PRIu64 " is overwritten (prod %" PRIu64 ")\n",
			from, prod);
		return 1;
	}
	for (i = from; i < prod; i++) {
		struct sum *t;
		uint32_t hdr, segs;

		memcpy(&r, rec + (i & (h->nrec - 1)) * sizeof(r), sizeof(r));
		if (fast && !(r.flags & NTFW_REC_FASTPATH))
			continue;
		if (port >= 0 && r.sport != port && r.dport != port)
			continue;
		if (netns >= 0 && r.netns != (uint32_t)netns)
			continue;
		if (ifindex >= 0 && r.ifindex != (uint32_t)ifindex)
			continue;
		t = &s[r.hook == NTFW_REC_POST_ROUTING];
		segs = r.gso_segs ? r.gso_segs : 1;
		hdr = r.ip_len - r.payload_len;
		if (verbose)
			printf("%" PRIu64 " %s %u>%u flags=%#x tcp=%#x seq=%u ack=%u ip_len=%u payload=%u gso_size=%u gso_segs=%u wire=%u mark=%#x\n",
			       i, r.hook == NTFW_REC_POST_ROUTING ? "post" : "pre",
			       r.sport, r.dport, r.flags, r.tcp_flags, r.seq,
			       r.ack, r.ip_len, r.payload_len, r.gso_size,
			       r.gso_segs, r.wire_len, r.ct_mark);
		t->recs++;
		t->segs += segs;
		t->wire += r.wire_len;
		t->ip += (uint64_t)hdr * segs + r.payload_len;
	}
	printf("prod=%" PRIu64 " dropped=%" PRIu64, prod,
	       (uint64_t)__atomic_load_n(&h->dropped, __ATOMIC_RELAXED));
	for (i = 0; i < 2; i++)
		printf(" %s=%" PRIu64 " %s_segs=%" PRIu64 " %s_wire=%" PRIu64
		       " %s_ip=%" PRIu64, i ? "post" : "pre", s[i].recs,
		       i ? "post" : "pre", s[i].segs, i ? "post" : "pre",
		       s[i].wire, i ? "post" : "pre", s[i].ip);
	printf("\n");
	return 0;
}
