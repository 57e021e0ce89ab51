// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel ring's consumer, without a kernel: a ring laid out as
 * kmod/ntfw_ring.h says in a temporary file, records written into it as
 * the module would, the consumer mapping it, the worker's side applying
 * them.  A flow handed off and then fed by records must end with the
 * features of the same packets all queued.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "conf.h"
#include "engine.h"
#include "kring.h"
#include "parse.h"
#include "record.h"
#include "relate.h"
#include "conf_text.h"
#include "pkt.h"
#include "rig.h"

#define C "10.213.0.2"
#define S "10.213.0.1"
#define C6 "fd00:213::2"
#define S6 "fd00:213::1"
#define SYN NTFW_TCP_SYN
#define ACK NTFW_TCP_ACK
#define PSH NTFW_TCP_PSH
#define FIN NTFW_TCP_FIN

#define NREC 512u

/* A ring in a temporary file, mapped whole for the test's writes. */
struct tring {
	char path[64];
	int fd;
	size_t len;
	struct ntfw_ring_hdr *hdr;
	struct ntfw_ring_rec *rec;
};

static void tring_make(struct tring *t, uint32_t version, uint32_t rec_size)
{
	long page = sysconf(_SC_PAGESIZE);

	strcpy(t->path, "/tmp/ntfw-kring-XXXXXX");
	t->fd = mkstemp(t->path);
	assert_true(t->fd >= 0);
	t->len = (size_t)page + NREC * sizeof(struct ntfw_ring_rec);
	assert_int_equal(ftruncate(t->fd, (off_t)t->len), 0);
	t->hdr = mmap(NULL, t->len, PROT_READ | PROT_WRITE, MAP_SHARED, t->fd, 0);
	assert_true((void *)t->hdr != MAP_FAILED);
	t->rec = (struct ntfw_ring_rec *)((uint8_t *)t->hdr + page);
	t->hdr->magic = NTFW_RING_MAGIC;
	t->hdr->version = version;
	t->hdr->rec_size = rec_size;
	t->hdr->nrec = NREC;
	t->hdr->rec_offset = (uint32_t)page;
}

static void tring_free(struct tring *t)
{
	munmap(t->hdr, t->len);
	close(t->fd);
	unlink(t->path);
}

/* Write @r as the producer does: the record, then prod (release). */
static void tring_put(struct tring *t, const struct ntfw_ring_rec *r)
{
	uint64_t prod = t->hdr->prod;

	t->rec[prod & (NREC - 1)] = *r;
	__atomic_store_n(&t->hdr->prod, prod + 1, __ATOMIC_RELEASE);
}

/* The record the module writes for the packet @b of @n bytes. */
static struct ntfw_ring_rec rec_of(const uint8_t *b, size_t n, uint64_t ts)
{
	struct ntfw_ring_rec r;
	struct ntfw_pkt p;

	assert_int_equal(ntfw_parse(b, n, n, &p), NTFW_PKT_OK);
	memset(&r, 0, sizeof(r));
	r.ts_ns = ts;
	memcpy(r.saddr, p.src, 16);
	memcpy(r.daddr, p.dst, 16);
	r.ip_len = p.ip_len;
	r.wire_len = p.ip_len + 14;
	r.payload_len = p.payload_len;
	r.seq = p.tcp_seq;
	r.ack = p.tcp_ack;
	r.sport = p.sport;
	r.dport = p.dport;
	r.window = p.tcp_win;
	r.gso_segs = 1;
	r.family = p.family;
	r.proto = p.proto;
	r.tcp_flags = p.tcp_flags;
	r.flags = NTFW_REC_FASTPATH | (p.flags & NTFW_PKT_L4 ? NTFW_REC_L4 : 0);
	r.tcp_wscale = p.tcp_wscale < 0 ? 0xff : (uint8_t)p.tcp_wscale;
	r.icmp_type = p.icmp_type;
	r.icmp_code = p.icmp_code;
	r.ct_mark = NTFW_FASTPATH_MARK;
	return r;
}

struct seg {
	int dir;	/* 0: client to server */
	uint8_t flags;
	uint32_t seq, ack;
	size_t data;
};

static size_t build(uint8_t *b, bool v6, const struct seg *s)
{
	struct tcp_opts o = {
		.sport = s->dir ? 80 : 40000, .dport = s->dir ? 40000 : 80,
		.seq = s->seq, .ack = s->ack, .flags = s->flags, .win = 64000,
	};
	const char *src = v6 ? (s->dir ? S6 : C6) : (s->dir ? S : C);
	const char *dst = v6 ? (s->dir ? C6 : S6) : (s->dir ? C : S);

	return v6 ? pkt_tcp6(b, src, dst, &o, s->data) :
		    pkt_tcp4(b, src, dst, &o, s->data);
}

/* A short TCP connection: handshake, data both ways, both FINs. */
static const struct seg conn[] = {
	{ 0, SYN, 100, 0, 0 },
	{ 1, SYN | ACK, 500, 101, 0 },
	{ 0, ACK, 101, 501, 0 },
	{ 0, PSH | ACK, 101, 501, 300 },
	{ 1, ACK, 501, 401, 0 },
	{ 1, PSH | ACK, 501, 401, 1400 },
	{ 1, PSH | ACK, 1901, 401, 1400 },
	{ 0, ACK, 401, 3301, 0 },
	{ 1, PSH | ACK, 3301, 401, 200 },
	{ 0, FIN | ACK, 401, 3501, 0 },
	{ 1, FIN | ACK, 3501, 402, 0 },
	{ 0, ACK, 402, 3502, 0 },
};

#define NCONN (sizeof(conn) / sizeof(conn[0]))

static struct ntfw_flow *flow_of(struct rig *r, bool v6)
{
	uint8_t c[16] = { 0 }, s[16] = { 0 };
	int dir;

	pkt_addr(c, v6 ? C6 : C);
	pkt_addr(s, v6 ? S6 : S);
	return ntfw_flow_lookup(&r->e.flows, v6 ? 6 : 4, IPPROTO_TCP, c, 40000,
				s, 80, &dir);
}

static void json_of(struct rig *r, bool v6, char *buf, size_t size)
{
	struct ntfw_flow *f = flow_of(r, v6);

	assert_non_null(f);
	ntfw_record_format(f, r->c, NTFW_FMT_JSON, buf, size);
}

static struct ntfw_kring open_ring(struct tring *t, unsigned int nw,
				   const struct ntfw_relate *rel)
{
	struct ntfw_kring k;
	char err[256];

	assert_int_equal(ntfw_kring_open(&k, t->path, err, sizeof(err)), 0);
	assert_int_equal(ntfw_feed_init(&k.feed, nw, rel), 0);
	return k;
}

/* The same connection all queued, and handed off after 3 packets with
 * the rest through the ring: the same record, features and TCP state. */
static void same_features(bool v6)
{
	char a[NTFW_RECORD_MAX], b[NTFW_RECORD_MAX];
	struct ntfw_ring_rec rec;
	uint8_t pk[PKT_MAX];
	struct ntfw_kring k;
	struct rig q, h;
	struct tring t;
	size_t i, n;

	rig_init(&q, "default accept\n");
	rig_init(&h, "default accept\nfastpath after 3\n");
	tring_make(&t, NTFW_RING_VERSION, sizeof(struct ntfw_ring_rec));
	k = open_ring(&t, 1, NULL);
	for (i = 0; i < NCONN; i++) {
		n = build(pk, v6, &conn[i]);
		assert_int_equal(rig_feed(&q, pk, n, n, 1), NTFW_ACCEPT);
		if (i < 3) {
			assert_int_equal(rig_feed(&h, pk, n, n, 1), NTFW_ACCEPT);
			assert_int_equal(h.handoff, i == 2);
			continue;
		}
		rec = rec_of(pk, n, h.now);
		h.now += SEC / 100;
		tring_put(&t, &rec);
	}
	assert_int_equal(ntfw_kring_poll(&k), NCONN - 3);
	assert_int_equal(t.hdr->cons, NCONN - 3);
	assert_int_equal(ntfw_kq_drain(k.feed.q[0], &h.e, 1000), NCONN - 3);
	assert_int_equal(h.e.stats.ring_applied, NCONN - 3);
	assert_int_equal(h.e.stats.ring_unknown, 0);
	/* Through the ring, no packet met the policy. */
	assert_int_equal(h.e.stats.packets, 3);
	json_of(&q, v6, a, sizeof(a));
	json_of(&h, v6, b, sizeof(b));
	assert_string_equal(a, b);
	assert_memory_equal(&flow_of(&q, v6)->feat, &flow_of(&h, v6)->feat,
			    sizeof(struct ntfw_features));
	assert_memory_equal(flow_of(&q, v6)->tcp, flow_of(&h, v6)->tcp,
			    sizeof(flow_of(&q, v6)->tcp));
	assert_int_equal(flow_of(&q, v6)->state, flow_of(&h, v6)->state);
	assert_int_equal(flow_of(&h, v6)->end, NTFW_END_FIN);
	ntfw_kring_close(&k);
	tring_free(&t);
	rig_free(&q);
	rig_free(&h);
}

static void same_features4(void **state)
{
	same_features(false);
}

static void same_features6(void **state)
{
	same_features(true);
}

/* A GSO record is cut into the segments the wire carries: the features
 * are those of the segments queued one by one. */
static void gso_cut(void **state)
{
	static const struct seg wire[] = {
		{ 1, ACK, 501, 101, 1000 },
		{ 1, ACK, 1501, 101, 1000 },
		{ 1, PSH | ACK, 2501, 101, 600 },
	};
	const struct seg head[] = { conn[0], conn[1], conn[2] };
	const struct seg super = { 1, PSH | ACK, 501, 101, 2600 };
	char a[NTFW_RECORD_MAX], b[NTFW_RECORD_MAX];
	struct ntfw_ring_rec rec;
	uint8_t pk[PKT_MAX];
	struct ntfw_kring k;
	struct rig q, h;
	struct tring t;
	size_t i, n;

	rig_init(&q, "default accept\n");
	rig_init(&h, "default accept\nfastpath after 3\n");
	tring_make(&t, NTFW_RING_VERSION, sizeof(struct ntfw_ring_rec));
	k = open_ring(&t, 1, NULL);
	for (i = 0; i < 3; i++) {
		n = build(pk, false, &head[i]);
		rig_feed(&q, pk, n, n, 1);
		rig_feed(&h, pk, n, n, 1);
	}
	assert_true(h.handoff);
	/* The segments reach the queue within one microsecond. */
	for (i = 0; i < 3; i++) {
		n = build(pk, false, &wire[i]);
		rig_feed(&q, pk, n, n, 1);
		q.now -= SEC / 100;
	}
	n = build(pk, false, &super);
	rec = rec_of(pk, n, h.now);
	rec.gso_size = 1000;
	rec.gso_segs = 3;
	tring_put(&t, &rec);
	assert_int_equal(ntfw_kring_poll(&k), 1);
	assert_int_equal(ntfw_kq_drain(k.feed.q[0], &h.e, 10), 1);
	assert_int_equal(flow_of(&h, false)->feat.d[1].pkts, 4);
	assert_int_equal(flow_of(&h, false)->feat.d[1].data_pkts, 3);
	assert_int_equal(flow_of(&h, false)->feat.d[1].pushed, 1);
	json_of(&q, false, a, sizeof(a));
	json_of(&h, false, b, sizeof(b));
	assert_string_equal(a, b);
	assert_memory_equal(&flow_of(&q, false)->feat, &flow_of(&h, false)->feat,
			    sizeof(struct ntfw_features));
	ntfw_kring_close(&k);
	tring_free(&t);
	rig_free(&q);
	rig_free(&h);
}

/* Records of flows we do not have, or have not handed off, change
 * nothing and are counted; so are records out of bounds. */
static void unknown_and_bad(void **state)
{
	struct ntfw_ring_rec rec;
	uint8_t pk[PKT_MAX];
	struct ntfw_flow *f;
	struct rig h;
	size_t n;

	rig_init(&h, "default accept\nfastpath after 3\n");
	n = build(pk, false, &conn[0]);
	rec = rec_of(pk, n, h.now);
	assert_int_equal(ntfw_engine_record(&h.e, &rec), NTFW_REC_UNKNOWN);
	assert_int_equal(h.e.flows.used, 0);
	/* Known, but the daemon still sees its packets. */
	rig_feed(&h, pk, n, n, 1);
	n = build(pk, false, &conn[1]);
	rec = rec_of(pk, n, h.now);
	assert_int_equal(ntfw_engine_record(&h.e, &rec), NTFW_REC_UNKNOWN);
	f = flow_of(&h, false);
	assert_int_equal(f->feat.d[1].pkts, 0);
	assert_int_equal(h.e.stats.ring_unknown, 2);
	/* Out of bounds. */
	rec.family = 5;
	assert_int_equal(ntfw_engine_record(&h.e, &rec), NTFW_REC_BAD);
	rec = rec_of(pk, n, h.now);
	rec.payload_len = rec.ip_len;
	assert_int_equal(ntfw_engine_record(&h.e, &rec), NTFW_REC_BAD);
	rec = rec_of(pk, n, h.now);
	rec.ip_len = 70000;
	assert_int_equal(ntfw_engine_record(&h.e, &rec), NTFW_REC_BAD);
	rec = rec_of(pk, n, h.now);
	rec.payload_len = 60000;
	rec.ip_len = 60040;
	rec.gso_size = 1;
	assert_int_equal(ntfw_engine_record(&h.e, &rec), NTFW_REC_BAD);
	assert_int_equal(h.e.stats.ring_bad, 4);
	assert_int_equal(f->feat.d[1].pkts, 0);
	rig_free(&h);
}

/* A ring of another layout is refused, with a message that says why. */
static void refused(void **state)
{
	struct ntfw_kring k;
	struct tring t;
	char err[256];

	tring_make(&t, NTFW_RING_VERSION + 1, sizeof(struct ntfw_ring_rec));
	assert_int_equal(ntfw_kring_open(&k, t.path, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "version 2"));
	tring_free(&t);
	tring_make(&t, NTFW_RING_VERSION, 128);
	assert_int_equal(ntfw_kring_open(&k, t.path, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "128-byte"));
	t.hdr->rec_size = sizeof(struct ntfw_ring_rec);
	t.hdr->magic = 0x12345678;
	assert_int_equal(ntfw_kring_open(&k, t.path, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "not an ntfw ring"));
	t.hdr->magic = NTFW_RING_MAGIC;
	t.hdr->nrec = 1000;	/* not a power of 2 */
	assert_int_equal(ntfw_kring_open(&k, t.path, err, sizeof(err)), -EPROTO);
	t.hdr->nrec = NREC * 2;	/* more than the file holds */
	assert_int_equal(ntfw_kring_open(&k, t.path, err, sizeof(err)), -EPROTO);
	tring_free(&t);
	assert_int_equal(ntfw_kring_open(&k, "/nonexistent/ntfw/ring", err,
					 sizeof(err)), -ENOENT);
}

/* A producer index the kernel cannot have written: nothing read from
 * the slots, the consumer goes on from it, and later records work. */
static void bogus_prod(void **state)
{
	struct ntfw_ring_rec rec;
	uint8_t pk[PKT_MAX];
	struct ntfw_kring k;
	struct tring t;
	size_t n;

	tring_make(&t, NTFW_RING_VERSION, sizeof(struct ntfw_ring_rec));
	t.hdr->prod = t.hdr->cons = 7;
	k = open_ring(&t, 1, NULL);
	assert_int_equal(k.cons, 7);
	t.hdr->prod = 7 + NREC + 5;
	assert_int_equal(ntfw_kring_poll(&k), 0);
	assert_int_equal(k.feed.cnt.resync, NREC + 5);
	assert_int_equal(t.hdr->cons, 7 + NREC + 5);
	assert_false(ntfw_kq_pending(k.feed.q[0]));
	assert_int_equal(k.feed.loss_epoch, 1);
	/* Gone back. */
	t.hdr->prod = 3;
	assert_int_equal(ntfw_kring_poll(&k), 0);
	assert_int_equal(t.hdr->cons, 3);
	n = build(pk, false, &conn[0]);
	rec = rec_of(pk, n, 1);
	tring_put(&t, &rec);
	tring_put(&t, &rec);
	assert_int_equal(ntfw_kring_poll(&k), 2);
	assert_int_equal(t.hdr->cons, 5);
	assert_true(ntfw_kq_pending(k.feed.q[0]));
	assert_int_equal(k.feed.cnt.read, 2);
	ntfw_kring_close(&k);
	tring_free(&t);
}

/* The kernel's losses are counted, and move the loss epoch that makes
 * the workers flag their handed-off flows, whose records then say so. */
static void kernel_dropped(void **state)
{
	char buf[NTFW_RECORD_MAX];
	uint8_t pk[PKT_MAX];
	struct ntfw_kring k;
	struct ntfw_flow *f;
	struct tring t;
	struct rig h;
	size_t i, n;

	tring_make(&t, NTFW_RING_VERSION, sizeof(struct ntfw_ring_rec));
	t.hdr->dropped = 2;
	k = open_ring(&t, 1, NULL);
	assert_int_equal(ntfw_kring_poll(&k), 0);
	assert_int_equal(k.feed.cnt.kernel_dropped, 0);
	t.hdr->dropped = 9;
	assert_int_equal(ntfw_kring_poll(&k), 0);
	assert_int_equal(k.feed.cnt.kernel_dropped, 7);
	assert_int_equal(k.feed.loss_epoch, 1);
	ntfw_kring_close(&k);
	tring_free(&t);

	rig_init(&h, "default accept\nfastpath after 3\n");
	for (i = 0; i < 3; i++) {
		n = build(pk, false, &conn[i]);
		rig_feed(&h, pk, n, n, 1);
	}
	f = flow_of(&h, false);
	ntfw_record_format(f, h.c, NTFW_FMT_JSON, buf, sizeof(buf));
	assert_null(strstr(buf, "ring_lost"));
	f->handoff |= NTFW_HO_RING_LOST;
	ntfw_record_format(f, h.c, NTFW_FMT_JSON, buf, sizeof(buf));
	assert_non_null(strstr(buf, "\"ring_lost\":true,"));
	rig_free(&h);
}

/* A worker's queue is bounded: what does not fit is counted, not
 * waited for. */
static void queue_full(void **state)
{
	struct ntfw_ring_rec rec;
	uint8_t pk[PKT_MAX];
	struct ntfw_kring k;
	struct tring t;
	unsigned int i, j, got = 0;
	size_t n;

	tring_make(&t, NTFW_RING_VERSION, sizeof(struct ntfw_ring_rec));
	k = open_ring(&t, 1, NULL);
	n = build(pk, false, &conn[0]);
	rec = rec_of(pk, n, 1);
	for (i = 0; i < NTFW_KQ_LEN / NTFW_FEED_BATCH + 1; i++) {
		for (j = 0; j < NTFW_FEED_BATCH; j++)
			tring_put(&t, &rec);
		got += ntfw_kring_poll(&k);
	}
	assert_int_equal(got, NTFW_KQ_LEN + NTFW_FEED_BATCH);
	assert_int_equal(k.feed.cnt.queue_full, NTFW_FEED_BATCH);
	assert_int_equal(k.feed.q[0]->head - k.feed.q[0]->tail, NTFW_KQ_LEN);
	ntfw_kring_close(&k);
	tring_free(&t);
}

/* With several workers, a record goes to the one that holds its flow. */
static void owner(void **state)
{
	struct ntfw_relate *rel = ntfw_relate_new(256);
	struct ntfw_ring_rec rec;
	uint8_t pk[PKT_MAX];
	struct ntfw_kring k;
	struct rig w[2];
	struct tring t;
	size_t i, n;

	assert_non_null(rel);
	rig_init(&w[0], "default accept\nfastpath after 3\n");
	rig_init(&w[1], "default accept\nfastpath after 3\n");
	for (i = 0; i < 2; i++) {
		w[i].e.rel = rel;
		w[i].e.id = (uint8_t)i;
	}
	tring_make(&t, NTFW_RING_VERSION, sizeof(struct ntfw_ring_rec));
	k = open_ring(&t, 2, rel);
	for (i = 0; i < 3; i++) {
		n = build(pk, false, &conn[i]);
		rig_feed(&w[1], pk, n, n, 1);
	}
	assert_true(w[1].handoff);
	n = build(pk, false, &conn[3]);
	rec = rec_of(pk, n, w[1].now);
	tring_put(&t, &rec);
	/* A flow nobody holds. */
	rec.sport = 1;
	tring_put(&t, &rec);
	assert_int_equal(ntfw_kring_poll(&k), 2);
	assert_false(ntfw_kq_pending(k.feed.q[0]));
	assert_true(ntfw_kq_pending(k.feed.q[1]));
	assert_int_equal(k.feed.cnt.no_owner, 1);
	assert_int_equal(ntfw_kq_drain(k.feed.q[1], &w[1].e, 10), 1);
	assert_int_equal(flow_of(&w[1], false)->feat.d[0].data_pkts, 1);
	ntfw_kring_close(&k);
	tring_free(&t);
	rig_free(&w[0]);
	rig_free(&w[1]);
	ntfw_relate_free(rel);
}

/* The thread: records reach the queue and wake the worker; the stop
 * eventfd ends it. */
static void thread(void **state)
{
	struct ntfw_ring_rec rec;
	uint8_t pk[PKT_MAX];
	struct ntfw_kring k;
	struct pollfd pfd;
	struct tring t;
	int stop = eventfd(0, EFD_CLOEXEC);
	size_t n;

	assert_true(stop >= 0);
	tring_make(&t, NTFW_RING_VERSION, sizeof(struct ntfw_ring_rec));
	k = open_ring(&t, 1, NULL);
	assert_int_equal(ntfw_kring_start(&k, stop), 0);
	usleep(20000);	/* asleep, backing off */
	n = build(pk, false, &conn[0]);
	rec = rec_of(pk, n, 1);
	tring_put(&t, &rec);
	pfd.fd = k.feed.wake_fd[0];
	pfd.events = POLLIN;
	assert_int_equal(poll(&pfd, 1, 2000), 1);
	assert_true(ntfw_kq_pending(k.feed.q[0]));
	assert_int_equal(__atomic_load_n(&t.hdr->cons, __ATOMIC_ACQUIRE), 1);
	assert_int_equal(eventfd_write(stop, 1), 0);
	ntfw_kring_join(&k);
	ntfw_kring_close(&k);
	tring_free(&t);
	close(stop);
}

/* The module went away (magic 0): what it wrote before is still read,
 * then the records are let go, the handed-off flows flagged, and a ring
 * that comes back at the same path is read from its producer's index. */
static void gone(void **state)
{
	struct ntfw_ring_rec rec;
	uint8_t pk[PKT_MAX];
	struct ntfw_kring k;
	struct tring t;
	size_t n;

	tring_make(&t, NTFW_RING_VERSION, sizeof(struct ntfw_ring_rec));
	k = open_ring(&t, 1, NULL);
	n = build(pk, false, &conn[0]);
	rec = rec_of(pk, n, 1);
	tring_put(&t, &rec);
	tring_put(&t, &rec);
	__atomic_store_n(&t.hdr->magic, 0, __ATOMIC_RELEASE);
	assert_int_equal(ntfw_kring_poll(&k), 2);
	assert_false(k.gone);
	assert_int_equal(ntfw_kring_poll(&k), 0);
	assert_true(k.gone);
	assert_null(k.rec_map);
	assert_int_equal(k.fd, -1);
	assert_int_equal(k.feed.loss_epoch, 1);
	assert_non_null(k.hdr);
	/* Gone stays gone, whatever the old page says now. */
	tring_put(&t, &rec);
	assert_int_equal(ntfw_kring_poll(&k), 0);
	/* Not back yet: the file says magic 0. */
	assert_int_equal(ntfw_kring_reopen(&k), -EPROTO);
	assert_true(k.gone);
	/* Back, with records already in it: read on from its prod. */
	t.hdr->magic = NTFW_RING_MAGIC;
	assert_int_equal(ntfw_kring_reopen(&k), 0);
	assert_false(k.gone);
	assert_int_equal(k.cons, 3);
	tring_put(&t, &rec);
	assert_int_equal(ntfw_kring_poll(&k), 1);
	assert_int_equal(k.feed.cnt.read, 3);
	assert_int_equal(t.hdr->cons, 4);
	ntfw_kring_close(&k);
	tring_free(&t);
}

/* The statements. */
static void statements(void **state)
{
	struct ntfw_conf *c = conf_text("queue 0\n");
	FILE *devnull = fopen("/dev/null", "w");

	assert_int_equal(c->kmod, NTFW_KMOD_AUTO);
	assert_null(c->kmod_ring);
	ntfw_conf_free(c);
	c = conf_text("kmod on\nkmod-ring /tmp/ring\n");
	assert_int_equal(c->kmod, NTFW_KMOD_ON);
	assert_string_equal(c->kmod_ring, "/tmp/ring");
	ntfw_conf_free(c);
	c = conf_text("kmod off\n");
	assert_int_equal(c->kmod, NTFW_KMOD_OFF);
	ntfw_conf_free(c);
	c = NULL;
	assert_int_equal(ntfw_conf_parse("t", "kmod maybe\n", 11, &c, devnull), 1);
	assert_int_equal(ntfw_conf_parse("t", "kmod-ring ring\n", 15, &c, devnull), 1);
	assert_int_equal(ntfw_conf_parse("t", "kmod on\nkmod off\n", 17, &c, devnull), 1);
	assert_null(c);
	fclose(devnull);
}

/* fastpath-feed, alone and with kmod: what each combination accepted by
 * the parser asks of the producers (0: no, 1: try, 2: required). */
static void feed_wants(void **state)
{
	static const struct {
		const char *text;
		int kmod, bpf;
	} cases[] = {
		{ "", 1, 1 },
		{ "fastpath-feed auto\n", 1, 1 },
		{ "fastpath-feed kmod\n", 2, 0 },
		{ "fastpath-feed bpf\n", 0, 2 },
		{ "fastpath-feed off\n", 0, 0 },
		{ "kmod on\n", 2, 0 },
		{ "kmod on\nfastpath-feed kmod\n", 2, 0 },
		{ "kmod on\nfastpath-feed auto\n", 2, 0 },
		{ "kmod off\n", 0, 1 },
		{ "kmod off\nfastpath-feed bpf\n", 0, 2 },
		{ "kmod off\nfastpath-feed off\n", 0, 0 },
		{ "fastpath-feed auto\nkmod auto\n", 1, 1 },
	};
	struct ntfw_conf *c;
	unsigned int i;
	int k, b;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = conf_text(cases[i].text);
		ntfw_feed_wants(c->feed, c->kmod, &k, &b);
		if (k != cases[i].kmod || b != cases[i].bpf)
			fail_msg("'%s': kmod %d bpf %d, expected %d %d",
				 cases[i].text, k, b, cases[i].kmod, cases[i].bpf);
		ntfw_conf_free(c);
	}
}

/* The eBPF feed's startup decision and its one line: auto falls back on
 * a kernel without the program type and without the right to load it,
 * bpf does not start. */
static void feed_bpf_decide(void **state)
{
	char msg[512];

	assert_int_equal(ntfw_feed_bpf_decide(1, 0, "", msg, sizeof(msg)), 1);
	assert_string_equal(msg, "fastpath feed: bpf");
	assert_int_equal(ntfw_feed_bpf_decide(1, -EINVAL,
		"bpf(BPF_PROG_LOAD) of a netfilter program: Invalid argument",
		msg, sizeof(msg)), 0);
	assert_string_equal(msg, "fastpath-feed auto: no eBPF feed, the kernel has no netfilter BPF programs (Linux 6.4 on with CONFIG_NETFILTER_BPF_LINK): bpf(BPF_PROG_LOAD) of a netfilter program: Invalid argument; handed-off flows keep the features of their queued packets only");
	assert_int_equal(ntfw_feed_bpf_decide(1, -EPERM, "x", msg, sizeof(msg)), 0);
	assert_non_null(strstr(msg, "auto: no eBPF feed, no permission to load BPF"));
	assert_int_equal(ntfw_feed_bpf_decide(1, -ENOEXEC, "x", msg, sizeof(msg)), 0);
	assert_non_null(strstr(msg, "cannot load or attach the program: x;"));
	assert_int_equal(ntfw_feed_bpf_decide(2, -EINVAL, "y", msg, sizeof(msg)), -1);
	assert_string_equal(msg, "fastpath-feed bpf: the kernel has no netfilter BPF programs (Linux 6.4 on with CONFIG_NETFILTER_BPF_LINK): y");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_features4),
		cmocka_unit_test(same_features6),
		cmocka_unit_test(gso_cut),
		cmocka_unit_test(unknown_and_bad),
		cmocka_unit_test(refused),
		cmocka_unit_test(bogus_prod),
		cmocka_unit_test(kernel_dropped),
		cmocka_unit_test(queue_full),
		cmocka_unit_test(owner),
		cmocka_unit_test(thread),
		cmocka_unit_test(gone),
		cmocka_unit_test(statements),
		cmocka_unit_test(feed_wants),
		cmocka_unit_test(feed_bpf_decide),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
