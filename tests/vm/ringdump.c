// SPDX-License-Identifier: GPL-2.0-only
/*
 * ringdump: a minimal consumer of the ntfw_kmod ring, for the guest tests.
 * Maps /proc/ntfw/ring as the ABI says (ntfw_ring.h), prints each record
 * as one line of text, releases them (cons) and ends with a summary line.
 *
 *   ringdump [-q] [-n] [-t SECONDS] [-P] [PATH]
 *     -q   no record lines, only the summary
 *     -n   peek: do not release the records (cons stays)
 *     -t   keep reading for SECONDS (default: one pass over what is there)
 *     -P   check the mapping's protection first: a writable mapping of the
 *          records, or mprotect making one, must fail
 *
 * Exit: 0 on success, 1 on a usage or system error, 2 on a ring this
 * reader does not understand (magic, version, record size), 3 when -P
 * finds the records writable.
 *
 * Build it static for a busybox initramfs:
 *   gcc -static -O2 -Wall -Wextra -o ringdump tests/vm/ringdump.c
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../kmod/ntfw_ring.h"

#define KNOWN_VERSION 1u

struct summary {
	uint64_t records, hook[2], family[2], tcp, udp, icmp, other;
	uint64_t fastpath, l4, frag, gso;
};

static void fail(const char *what)
{
	fprintf(stderr, "ringdump: %s: %s\n", what, strerror(errno));
	exit(1);
}

static const char *addr(const struct ntfw_ring_rec *r, const uint8_t *a,
			char *buf, size_t len)
{
	if (!inet_ntop(r->family == 6 ? AF_INET6 : AF_INET, a, buf,
		       (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

static void tcp_flags(uint8_t f, char *buf)
{
	static const char names[] = "FSRPAUEC";
	int i, n = 0;

	for (i = 0; i < 8; i++)
		if (f & (1u << i))
			buf[n++] = names[i];
	if (!n)
		buf[n++] = '.';
	buf[n] = 0;
}

static void print_rec(const struct ntfw_ring_rec *r)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], fl[9];

	printf("rec hook=%s family=%u proto=%u src=%s dst=%s sport=%u dport=%u",
	       r->hook == NTFW_REC_PRE_ROUTING ? "pre" :
	       r->hook == NTFW_REC_POST_ROUTING ? "post" : "?",
	       r->family, r->proto, addr(r, r->saddr, s, sizeof(s)),
	       addr(r, r->daddr, d, sizeof(d)), r->sport, r->dport);
	printf(" ip_len=%u payload_len=%u wire_len=%u", r->ip_len,
	       r->payload_len, r->wire_len);
	printf(" flags=%s%s%s%s", r->flags & NTFW_REC_FASTPATH ? "F" : "",
	       r->flags & NTFW_REC_L4 ? "L" : "",
	       r->flags & NTFW_REC_FRAG ? "R" : "",
	       r->flags ? "" : "-");
	if (r->proto == 6) {
		tcp_flags(r->tcp_flags, fl);
		printf(" tcp=%s seq=%u ack=%u win=%u wscale=%d", fl, r->seq,
		       r->ack, r->window,
		       r->tcp_wscale == 0xff ? -1 : r->tcp_wscale);
	}
	if (r->proto == 1 || r->proto == 58)
		printf(" icmp=%u/%u", r->icmp_type, r->icmp_code);
	printf(" gso_segs=%u gso_size=%u ifindex=%u netns=%u ct_mark=0x%x ts=%" PRIu64 "\n",
	       r->gso_segs, r->gso_size, r->ifindex, r->netns, r->ct_mark,
	       (uint64_t)r->ts_ns);
}

static void count(struct summary *sum, const struct ntfw_ring_rec *r)
{
	sum->records++;
	sum->hook[r->hook == NTFW_REC_POST_ROUTING]++;
	sum->family[r->family == 6]++;
	if (r->proto == 6)
		sum->tcp++;
	else if (r->proto == 17)
		sum->udp++;
	else if (r->proto == 1 || r->proto == 58)
		sum->icmp++;
	else
		sum->other++;
	sum->fastpath += !!(r->flags & NTFW_REC_FASTPATH);
	sum->l4 += !!(r->flags & NTFW_REC_L4);
	sum->frag += !!(r->flags & NTFW_REC_FRAG);
	sum->gso += r->gso_size != 0;
}

/* The records must not be writable through any mapping. */
static int check_prot(int fd, size_t pg, size_t rec_bytes)
{
	void *p;
	int bad = 0;

	p = mmap(NULL, rec_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)pg);
	if (p != MAP_FAILED) {
		fprintf(stderr, "ringdump: records mapped writable\n");
		munmap(p, rec_bytes);
		bad = 1;
	}
	p = mmap(NULL, pg * 2, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p != MAP_FAILED) {
		fprintf(stderr, "ringdump: header and records mapped writable\n");
		munmap(p, pg * 2);
		bad = 1;
	}
	p = mmap(NULL, rec_bytes, PROT_READ, MAP_SHARED, fd, (off_t)pg);
	if (p == MAP_FAILED)
		fail("mmap records read-only");
	if (!mprotect(p, rec_bytes, PROT_READ | PROT_WRITE)) {
		fprintf(stderr, "ringdump: mprotect made the records writable\n");
		bad = 1;
	}
	munmap(p, rec_bytes);
	p = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p != MAP_FAILED) {
		fprintf(stderr, "ringdump: private mapping accepted\n");
		munmap(p, pg);
		bad = 1;
	}
	printf("prot %s\n", bad ? "FAIL" : "ok");
	return bad;
}

int main(int argc, char **argv)
{
	const char *path = "/proc/ntfw/ring";
	int quiet = 0, peek = 0, prot = 0, opt, fd;
	long seconds = 0;
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), rec_bytes;
	struct ntfw_ring_hdr *hdr;
	const struct ntfw_ring_rec *recs;
	struct summary sum = { 0 };
	uint64_t prod, cons, mask;
	time_t end;

	while ((opt = getopt(argc, argv, "qnt:P")) != -1) {
		switch (opt) {
		case 'q':
			quiet = 1;
			break;
		case 'n':
			peek = 1;
			break;
		case 't':
			seconds = strtol(optarg, NULL, 10);
			break;
		case 'P':
			prot = 1;
			break;
		default:
			fprintf(stderr,
				"usage: ringdump [-q] [-n] [-t SECONDS] [-P] [PATH]\n");
			return 1;
		}
	}
	if (optind < argc)
		path = argv[optind];

	fd = open(path, O_RDWR);
	if (fd < 0)
		fail(path);
	/* The header page alone is writable: the reader owns cons. */
	hdr = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (hdr == MAP_FAILED)
		fail("mmap header");
	if (hdr->magic != NTFW_RING_MAGIC) {
		fprintf(stderr, "ringdump: bad magic 0x%08x (want 0x%08x): no live ring\n",
			hdr->magic, NTFW_RING_MAGIC);
		return 2;
	}
	if (hdr->version != KNOWN_VERSION) {
		fprintf(stderr, "ringdump: ring version %u, this reader knows version %u only\n",
			hdr->version, KNOWN_VERSION);
		return 2;
	}
	if (hdr->rec_size != sizeof(struct ntfw_ring_rec) || !hdr->nrec ||
	    hdr->nrec & (hdr->nrec - 1) || hdr->rec_offset != pg) {
		fprintf(stderr, "ringdump: bad geometry: rec_size %u (want %zu) nrec %u rec_offset %u\n",
			hdr->rec_size, sizeof(struct ntfw_ring_rec), hdr->nrec,
			hdr->rec_offset);
		return 2;
	}
	mask = hdr->nrec - 1;
	rec_bytes = (size_t)hdr->nrec * hdr->rec_size;
	rec_bytes = (rec_bytes + pg - 1) & ~(pg - 1);
	if (prot && check_prot(fd, pg, rec_bytes))
		return 3;
	/* The records from the second page on, read-only. */
	recs = mmap(NULL, rec_bytes, PROT_READ, MAP_SHARED, fd, (off_t)pg);
	if (recs == MAP_FAILED)
		fail("mmap records");

	printf("ring version=%u nrec=%u rec_size=%u\n", hdr->version,
	       hdr->nrec, hdr->rec_size);
	cons = __atomic_load_n(&hdr->cons, __ATOMIC_RELAXED);
	end = time(NULL) + seconds;
	for (;;) {
		/* Acquire: the records below prod are written. */
		prod = __atomic_load_n(&hdr->prod, __ATOMIC_ACQUIRE);
		if (prod - cons > mask + 1) {
			fprintf(stderr, "ringdump: prod %" PRIu64 " cons %" PRIu64 ": more than a ring apart\n",
				prod, cons);
			return 2;
		}
		for (; cons != prod; cons++) {
			const struct ntfw_ring_rec *r = &recs[cons & mask];

			count(&sum, r);
			if (!quiet)
				print_rec(r);
		}
		/* Release: done reading them before the producer reuses
		 * the slots. */
		if (!peek)
			__atomic_store_n(&hdr->cons, cons, __ATOMIC_RELEASE);
		if (time(NULL) >= end)
			break;
		usleep(10000);
	}
	printf("summary records=%" PRIu64 " pre=%" PRIu64 " post=%" PRIu64
	       " ipv4=%" PRIu64 " ipv6=%" PRIu64 " tcp=%" PRIu64 " udp=%" PRIu64
	       " icmp=%" PRIu64 " other=%" PRIu64 " fastpath=%" PRIu64
	       " l4=%" PRIu64 " frag=%" PRIu64 " gso=%" PRIu64
	       " dropped=%" PRIu64 " prod=%" PRIu64 " cons=%" PRIu64 "\n",
	       sum.records, sum.hook[0], sum.hook[1], sum.family[0],
	       sum.family[1], sum.tcp, sum.udp, sum.icmp, sum.other,
	       sum.fastpath, sum.l4, sum.frag, sum.gso,
	       (uint64_t)__atomic_load_n(&hdr->dropped, __ATOMIC_RELAXED),
	       prod, cons);
	return 0;
}
