// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer: the kmod ring consumer against a hostile producer.  A ring
 * laid out as kmod/ntfw_ring.h says, in a memory file, with its header
 * (magic, version, geometry, prod, cons, dropped) and its records from
 * the input, is opened and polled as the daemon does; the records taken
 * go through the worker's side (ntfw_kq_drain(), ntfw_engine_record())
 * into an engine whose flows were handed off to the kernel.  The flows'
 * records must stay valid JSON.
 *
 * Input: a 48-byte header (below), then records of 96 bytes.  A record
 * whose pad2 is odd is aimed at one of the handed-off flows: its
 * addresses, ports, family and protocol are that flow's (either way
 * round), the rest stays the input's.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"
#include "engine.h"
#include "kring.h"
#include "parse.h"
#include "record.h"
#include "../unit/pkt.h"

#define SLOTS 64u		/* records the file holds */
#define HDR_IN 48u

struct hdr_in {
	uint8_t mode;		/* MODE_* */
	uint8_t steps;		/* polls, 1-4 */
	uint8_t gone_at;	/* magic 0 before this poll */
	uint8_t nrec_log;	/* without MODE_RAW_GEOM: 1 << (n % 7) records */
	uint32_t magic, version, rec_size, nrec, rec_offset;
	uint64_t prod;		/* added to the index the consumer starts at */
	uint64_t dropped;
	uint32_t prod_step;	/* added to prod after each poll */
};

#define MODE_RAW_MAGIC 0x01	/* magic, version, rec_size from the input */
#define MODE_RAW_GEOM 0x02	/* nrec, rec_offset from the input */
#define MODE_TWO 0x04		/* two workers: records have no owner */

static struct ntfw_conf *conf;
static const char policy[] =
	"default accept\n"
	"flows max 64\n"
	"fastpath after 2\n"
	"drop name push proto tcp dport 9 flow pushed_c2s > 1\n";

/* The flows handed off before the ring is read. */
#define NFLOWS 4
static uint8_t pk[16][128];
static size_t pk_len[16];
static unsigned int npk;
static struct ntfw_pkt flow_pkt[NFLOWS];

static void add(size_t n)
{
	pk_len[npk++] = n;
}

static void build(void)
{
	struct tcp_opts c = { .sport = 40000, .dport = 80, .seq = 100,
			      .flags = NTFW_TCP_SYN, .win = 64000 };
	struct tcp_opts s = { .sport = 80, .dport = 40000, .seq = 500,
			      .ack = 101, .flags = NTFW_TCP_SYN | NTFW_TCP_ACK,
			      .win = 64000 };
	struct tcp_opts a = { .sport = 40000, .dport = 80, .seq = 101,
			      .ack = 501, .flags = NTFW_TCP_ACK, .win = 64000 };
	unsigned int i;

	add(pkt_tcp4(pk[npk], "10.213.0.2", "10.213.0.1", &c, 0));
	add(pkt_tcp4(pk[npk], "10.213.0.1", "10.213.0.2", &s, 0));
	add(pkt_tcp4(pk[npk], "10.213.0.2", "10.213.0.1", &a, 0));
	add(pkt_tcp6(pk[npk], "fd00:213::2", "fd00:213::1", &c, 0));
	add(pkt_tcp6(pk[npk], "fd00:213::1", "fd00:213::2", &s, 0));
	add(pkt_tcp6(pk[npk], "fd00:213::2", "fd00:213::1", &a, 0));
	add(pkt_udp4(pk[npk], "10.213.0.2", "10.213.0.1", 5000, 6000, 20));
	add(pkt_udp4(pk[npk], "10.213.0.1", "10.213.0.2", 6000, 5000, 20));
	add(pkt_icmp4(pk[npk], "10.213.0.2", "10.213.0.1", 8, 0, 7, 1));
	add(pkt_icmp4(pk[npk], "10.213.0.1", "10.213.0.2", 0, 0, 7, 1));
	/* One packet of each flow, for its identity. */
	for (i = 0; i < NFLOWS; i++)
		if (ntfw_parse(pk[i < 2 ? i * 3 : 6 + (i - 2) * 2],
			       pk_len[i < 2 ? i * 3 : 6 + (i - 2) * 2],
			       pk_len[i < 2 ? i * 3 : 6 + (i - 2) * 2],
			       &flow_pkt[i]) != NTFW_PKT_OK)
			__builtin_trap();
}

static void check_record(const struct ntfw_flow *f, void *arg)
{
	char buf[NTFW_RECORD_MAX];
	size_t n = ntfw_record_format(f, conf, NTFW_FMT_JSON, buf, sizeof(buf));
	json_t *j;

	if (!n || n >= sizeof(buf) || buf[n - 1] != '\n')
		__builtin_trap();
	j = json_loadb(buf, n - 1, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(j)) {
		fprintf(stderr, "bad record: %.*s", (int)n, buf);
		__builtin_trap();
	}
	json_decref(j);
}

/* Aim @r at a handed-off flow when its pad2 asks for it. */
static void aim(struct ntfw_ring_rec *r)
{
	const struct ntfw_pkt *p;
	bool rev;

	if (!(r->pad2 & 1))
		return;
	p = &flow_pkt[(r->pad2 >> 1) % NFLOWS];
	rev = r->pad2 & 0x10;
	r->family = p->family;
	r->proto = p->proto;
	memcpy(rev ? r->daddr : r->saddr, p->src, 16);
	memcpy(rev ? r->saddr : r->daddr, p->dst, 16);
	r->sport = rev ? p->dport : p->sport;
	r->dport = rev ? p->sport : p->dport;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const long page = sysconf(_SC_PAGESIZE);
	const size_t flen = (size_t)page + SLOTS * sizeof(struct ntfw_ring_rec);
	struct ntfw_ring_hdr *h;
	struct ntfw_ring_rec *rec;
	struct ntfw_engine e;
	struct ntfw_kring k;
	struct hdr_in in;
	char path[64], err[320];
	uint64_t taken = 0, seen;
	unsigned int i, step, handed = 0;
	uint8_t *copy;
	int fd;

	if (!conf) {
		if (ntfw_conf_parse("fuzz", policy, sizeof(policy) - 1, &conf,
				    stderr))
			__builtin_trap();
		build();
	}
	if (size < HDR_IN)
		return 0;
	/* An exact-size copy: a read past the end is ASan's to see. */
	copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	memcpy(&in, copy, sizeof(in));

	/* The engine, with its flows handed off as the daemon does. */
	if (ntfw_engine_init(&e, conf, conf->flows_max, check_record, NULL))
		__builtin_trap();
	for (i = 0; i < npk; i++) {
		struct ntfw_meta m = { .hook = 1, .ts_ns = 1000000000ull * (1000 + i) };
		bool ho = false;

		ntfw_engine_packet(&e, pk[i], (uint32_t)pk_len[i],
				   (uint32_t)pk_len[i], &m, &ho);
		handed += ho;
	}
	if (handed != NFLOWS)
		__builtin_trap();

	/* The ring, as the producer lays it out. */
	fd = memfd_create("ring", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)flen))
		goto out_fd;
	h = mmap(NULL, flen, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED)
		goto out_fd;
	rec = (struct ntfw_ring_rec *)((uint8_t *)h + page);
	h->magic = in.mode & MODE_RAW_MAGIC ? in.magic : NTFW_RING_MAGIC;
	h->version = in.mode & MODE_RAW_MAGIC ? in.version : NTFW_RING_VERSION;
	h->rec_size = in.mode & MODE_RAW_MAGIC ? in.rec_size :
						 sizeof(struct ntfw_ring_rec);
	h->nrec = in.mode & MODE_RAW_GEOM ? in.nrec : 1u << (in.nrec_log % 7);
	h->rec_offset = in.mode & MODE_RAW_GEOM ? in.rec_offset : 0;
	h->prod = in.prod;	/* before open: where the consumer starts */
	h->cons = in.prod ^ in.dropped;
	h->dropped = in.dropped;
	for (i = 0; i < SLOTS && HDR_IN + (i + 1) * sizeof(*rec) <= size; i++) {
		memcpy(&rec[i], copy + HDR_IN + i * sizeof(*rec), sizeof(*rec));
		aim(&rec[i]);
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (ntfw_kring_open(&k, path, err, sizeof(err))) {
		if (!err[0] || strchr(err, '\n'))
			__builtin_trap();
		goto out_map;
	}
	if (k.nrec > SLOTS || k.cons != in.prod || h->cons != in.prod)
		__builtin_trap();
	if (ntfw_feed_init(&k.feed, in.mode & MODE_TWO ? 2 : 1, NULL))
		__builtin_trap();
	/* The producer moves on, by as much as it likes. */
	h->prod = in.prod + (uint64_t)i + (in.mode & 0x80 ? in.dropped : 0);
	for (step = 0; step < 1 + in.steps % 4u; step++) {
		if (step == in.gone_at % 8u)
			__atomic_store_n(&h->magic, 0, __ATOMIC_RELEASE);
		seen = k.feed.cnt.read;
		taken += ntfw_kring_poll(&k);
		if (k.feed.cnt.read - seen > NTFW_FEED_BATCH)
			__builtin_trap();
		if (!k.gone && h->cons != k.cons)
			__builtin_trap();
		for (i = 0; i < k.feed.nw; i++)
			ntfw_kq_drain(k.feed.q[i], &e, NTFW_KQ_LEN);
		if (k.gone)
			break;
		h->prod += in.prod_step;
		h->dropped += step;
	}
	/* Every record taken is applied, or counted why not. */
	if (!(in.mode & MODE_TWO) &&
	    e.stats.ring_applied + e.stats.ring_unknown + e.stats.ring_ignored +
	    e.stats.ring_bad != taken - k.feed.cnt.queue_full)
		__builtin_trap();
	ntfw_kring_close(&k);
out_map:
	munmap(h, flen);
out_fd:
	if (fd >= 0)
		close(fd);
	ntfw_engine_tick(&e, 1000000000ull * 5000);
	ntfw_engine_flush(&e);
	ntfw_engine_free(&e);
	free(copy);
	return 0;
}
