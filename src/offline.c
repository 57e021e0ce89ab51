// SPDX-License-Identifier: GPL-2.0-only
/*
 * Offline mode: libpcap opens the capture (pcap or pcapng) and reads
 * pcapng; a classic pcap file we read ourselves, mapped, as libpcap would
 * (its fread() copies were a third of the run).  We find the IP header
 * behind the link layer, and the engine does the rest exactly as in the
 * daemon, with the capture's timestamps as the clock.
 */
#include <byteswap.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/if_ether.h>

#include "conf.h"
#include "engine.h"
#include "log.h"
#include "offline.h"
#include "priv.h"

/*
 * Records are written by a thread of their own when there is a second
 * CPU: formatting some sixty fields per flow was a third of the run.  The
 * packet path copies each ended flow into a ring, in order, and goes on.
 */
#define RING_FLOWS 1024u
/* Wake the writer for this many records, not each: a wake-up costs more
 * than a record. */
#define RING_BATCH 64u

struct writer {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t data, space;
	struct ntfw_flow *ring;
	unsigned int head, tail;	/* moved by the packet path, the writer */
	bool on, stop, wait_data, wait_space;
};

struct offline {
	enum ntfw_record_fmt fmt;
	const struct ntfw_conf *conf;
	struct ntfw_engine *e;
	int dlt;
	uint64_t not_ip;	/* frames that carry no IP (ARP...) */
	uint64_t last_ts;	/* the latest timestamp seen */
	uint64_t ts_back;	/* frames stamped before that: taken at it */
	uint64_t len_cut;	/* frames longer than their IP header says */
	struct writer w;
	char err[PCAP_ERRBUF_SIZE];
};

static void write_record(const struct offline *o, const struct ntfw_flow *f)
{
	char buf[NTFW_RECORD_MAX];
	size_t n = ntfw_record_format(f, o->conf, o->fmt, buf, sizeof(buf));

	fwrite(buf, 1, n, stdout);
}

static void *writer_main(void *arg)
{
	struct offline *o = arg;
	struct writer *w = &o->w;
	unsigned int head;

	for (;;) {
		pthread_mutex_lock(&w->mu);
		while (w->tail == w->head && !w->stop) {
			w->wait_data = true;
			pthread_cond_wait(&w->data, &w->mu);
			w->wait_data = false;
		}
		head = w->head;
		pthread_mutex_unlock(&w->mu);
		if (w->tail == head)
			return NULL; /* stopped, and nothing left */
		/* The slots below head are ours until tail passes them. */
		while (w->tail != head) {
			write_record(o, &w->ring[w->tail % RING_FLOWS]);
			pthread_mutex_lock(&w->mu);
			w->tail++;
			if (w->wait_space)
				pthread_cond_signal(&w->space);
			pthread_mutex_unlock(&w->mu);
		}
	}
}

static void writer_start(struct offline *o)
{
	struct writer *w = &o->w;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return;
	w->ring = malloc(RING_FLOWS * sizeof(*w->ring));
	if (!w->ring)
		return;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->data, NULL);
	pthread_cond_init(&w->space, NULL);
	if (pthread_create(&w->th, NULL, writer_main, o)) {
		free(w->ring);
		w->ring = NULL;
		return;
	}
	w->on = true;
}

/* Wait until every record handed over is written. */
static void writer_drain(struct offline *o)
{
	struct writer *w = &o->w;

	if (!w->on)
		return;
	pthread_mutex_lock(&w->mu);
	if (w->wait_data)
		pthread_cond_signal(&w->data); /* what is left of a batch */
	while (w->tail != w->head) {
		w->wait_space = true;
		pthread_cond_wait(&w->space, &w->mu);
		w->wait_space = false;
	}
	pthread_mutex_unlock(&w->mu);
}

static void writer_stop(struct offline *o)
{
	struct writer *w = &o->w;

	if (!w->on)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->data);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	free(w->ring);
	w->on = false;
}

static void print_record(const struct ntfw_flow *f, void *arg)
{
	struct offline *o = arg;
	struct writer *w = &o->w;

	if (!w->on) {
		write_record(o, f);
		return;
	}
	pthread_mutex_lock(&w->mu);
	while (w->head - w->tail == RING_FLOWS) {
		w->wait_space = true;
		pthread_cond_wait(&w->space, &w->mu);
		w->wait_space = false;
	}
	pthread_mutex_unlock(&w->mu);
	/* Slot head is free: the writer reads only below head. */
	w->ring[w->head % RING_FLOWS] = *f;
	pthread_mutex_lock(&w->mu);
	w->head++;
	if (w->wait_data && w->head - w->tail >= RING_BATCH)
		pthread_cond_signal(&w->data);
	pthread_mutex_unlock(&w->mu);
}

/*
 * Offset of the IP header in a frame of link type @dlt, and its ethertype
 * in *@proto; -1 when the frame carries no IP.
 */
static int l3_offset(int dlt, const uint8_t *d, uint32_t caplen,
		     uint16_t *proto)
{
	uint32_t off;
	uint16_t type;

	switch (dlt) {
	case DLT_EN10MB:
		if (caplen < 14)
			return -1;
		off = 12;
		type = (uint16_t)(d[off] << 8 | d[off + 1]);
		/* 802.1Q and 802.1ad tags, stacked */
		while ((type == 0x8100 || type == 0x88a8) && off + 6 <= caplen) {
			off += 4;
			type = (uint16_t)(d[off] << 8 | d[off + 1]);
		}
		off += 2;
		break;
	case DLT_LINUX_SLL:
		if (caplen < 16)
			return -1;
		type = (uint16_t)(d[14] << 8 | d[15]);
		off = 16;
		break;
	case DLT_LINUX_SLL2:
		if (caplen < 20)
			return -1;
		type = (uint16_t)(d[0] << 8 | d[1]);
		off = 20;
		break;
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		if (caplen < 1)
			return -1;
		type = (d[0] >> 4) == 6 ? ETH_P_IPV6 : ETH_P_IP;
		off = 0;
		break;
	default:
		return -1;
	}
	if (type != ETH_P_IP && type != ETH_P_IPV6)
		return -1;
	*proto = type;
	return (int)off;
}

static int dlt_supported(int dlt)
{
	return dlt == DLT_EN10MB || dlt == DLT_LINUX_SLL ||
	       dlt == DLT_LINUX_SLL2 || dlt == DLT_RAW || dlt == DLT_IPV4 ||
	       dlt == DLT_IPV6;
}

/*
 * The length the frame had on the wire.  The capture's word for it
 * (orig_len) is bounded by what the frame shows: at least the bytes
 * captured, at most the link header plus the IP length (total length;
 * IPv6: payload length and fixed header), or the bytes captured when
 * those are more (Ethernet padding).  Without a readable IP length
 * (IPv6 jumbograms, a header cut short, a total length of 0 from
 * segmentation offload) the frame is as long as captured.
 */
static uint32_t wire_len(struct offline *o, const uint8_t *d, uint32_t caplen,
			 uint32_t len, uint32_t off, uint16_t proto)
{
	const uint8_t *ip = d + off;
	uint32_t ipl = 0, max;

	if (proto == ETH_P_IP && caplen - off >= 4)
		ipl = (uint32_t)(ip[2] << 8 | ip[3]);
	else if (proto == ETH_P_IPV6 && caplen - off >= 6 && (ip[4] | ip[5]))
		ipl = 40u + (uint32_t)(ip[4] << 8 | ip[5]);
	max = off + ipl > caplen ? off + ipl : caplen;
	if (len > max) {
		o->len_cut++;
		return max;
	}
	return len < caplen ? caplen : len;
}

/* One frame of the capture through the engine. */
static void one_frame(struct offline *o, uint64_t ts_ns, const uint8_t *d,
		      uint32_t caplen, uint32_t len)
{
	struct ntfw_meta m = { .hook = 0xff };
	uint16_t proto;
	int off = l3_offset(o->dlt, d, caplen, &proto);

	if (off < 0) {
		o->not_ip++;
		return;
	}
	/* The capture's clock never runs back for the engine: a frame
	 * stamped before the one it follows (merged captures, a clock
	 * stepped back) is taken at the latest time seen, so that no
	 * duration is negative and no flow ends before it began. */
	if (ts_ns < o->last_ts) {
		o->ts_back++;
		ts_ns = o->last_ts;
	}
	o->last_ts = ts_ns;
	m.ts_ns = ts_ns;
	len = wire_len(o, d, caplen, len, (uint32_t)off, proto);
	m.hw_proto = proto;
	/* The frame on the wire; without Ethernet, assume it. */
	m.wire_len = o->dlt == DLT_EN10MB ? len : 0;
	/* The capture's clock waits for us: every due flow ends first. */
	while (ntfw_engine_tick(o->e, m.ts_ns))
		;
	ntfw_engine_packet(o->e, d + off, caplen - (uint32_t)off,
			   len > (uint32_t)off ? len - (uint32_t)off : 0, &m, NULL);
}

/*
 * A frame's time in ns, from a record's time as libpcap gives it.  A pcap
 * file's seconds are unsigned 32 bits, which libpcap reads as signed in a
 * file of this host's byte order (a date past 2038 comes negative): count
 * them as the file means them.  A fraction of a second out of its range
 * is a damaged field, which libpcap scales with or without a sign by the
 * file's byte order: the second alone counts, in both readers alike.
 */
static uint64_t ts_of(int64_t sec, int64_t nsec)
{
	uint64_t s = sec < 0 ? (uint64_t)sec + (1ull << 32) : (uint64_t)sec;

	if (nsec < 0 || nsec >= 1000000000)
		nsec = 0;
	return s * 1000000000ull + (uint64_t)nsec;
}

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_MAGIC_NS 0xa1b23c4du
#define PCAP_FILE_HDR 24
#define PCAP_REC_HDR 16
/* libpcap's MAXIMUM_SNAPLEN: a larger record is a damaged file. */
#define PCAP_MAX_CAPLEN 262144u
/* A multiple of any page size */
#define MAP_WINDOW (4u << 20)

static uint32_t rd32(const uint8_t *p, bool swap)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return swap ? bswap_32(v) : v;
}

/*
 * A classic pcap file that libpcap has opened (and checked the header
 * of): map it and hand each record to the engine, with libpcap's checks
 * and messages (sf-pcap.c: pcap_next_packet()).  Returns 0 when the file
 * is not for us (pcapng, a pipe, no mmap): libpcap reads it then; 1 at
 * the end of the file; PCAP_ERROR with o->err set.
 */
static int read_mapped(struct offline *o, pcap_t *pc, FILE *f)
{
	uint32_t magic, caplen, len, sec, frac, snap;
	uint64_t mult;
	uint16_t major, minor;
	const uint8_t *map, *p, *end, *done;
	struct stat st;
	bool swap;
	size_t size;
	int ret = 1;

	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode) ||
	    st.st_size < PCAP_FILE_HDR || (uint64_t)st.st_size > SIZE_MAX)
		return 0;
	size = (size_t)st.st_size;
	map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fileno(f), 0);
	if (map == MAP_FAILED)
		return 0;
	memcpy(&magic, map, sizeof(magic));
	swap = magic == bswap_32(PCAP_MAGIC_US) || magic == bswap_32(PCAP_MAGIC_NS);
	if (swap)
		magic = bswap_32(magic);
	if (magic != PCAP_MAGIC_US && magic != PCAP_MAGIC_NS) {
		munmap((void *)map, size);
		return 0;
	}
	madvise((void *)map, size, MADV_SEQUENTIAL);
	mult = magic == PCAP_MAGIC_NS ? 1 : 1000;
	memcpy(&major, map + 4, sizeof(major));
	memcpy(&minor, map + 6, sizeof(minor));
	if (swap) {
		major = bswap_16(major);
		minor = bswap_16(minor);
	}
	snap = (uint32_t)pcap_snapshot(pc);
	p = map + PCAP_FILE_HDR;
	end = map + size;
	done = map;
	while (p < end) {
		/* Let go of what was read: the page cache keeps it, and we
		 * stay at our own size rather than the capture's. */
		if ((size_t)(p - done) >= MAP_WINDOW + MAP_WINDOW) {
			madvise((void *)done, MAP_WINDOW, MADV_DONTNEED);
			done += MAP_WINDOW;
		}
		if ((size_t)(end - p) < PCAP_REC_HDR) {
			snprintf(o->err, sizeof(o->err),
				 "truncated dump file; tried to read %d header bytes, only got %zu",
				 PCAP_REC_HDR, (size_t)(end - p));
			ret = PCAP_ERROR;
			break;
		}
		sec = rd32(p, swap);
		frac = rd32(p + 4, swap);
		caplen = rd32(p + 8, swap);
		len = rd32(p + 12, swap);
		p += PCAP_REC_HDR;
		/* Files before 2.3 had the two lengths the other way round;
		 * 2.3 itself either way. */
		if ((major < 2 || (major == 2 && minor < 3)) ||
		    (major == 2 && minor == 3 && caplen > len)) {
			uint32_t t = caplen;

			caplen = len;
			len = t;
		}
		if (caplen > PCAP_MAX_CAPLEN) {
			if (caplen > snap)
				snprintf(o->err, sizeof(o->err),
					 "invalid packet capture length %u, bigger than snaplen of %u",
					 caplen, snap);
			else
				snprintf(o->err, sizeof(o->err),
					 "invalid packet capture length %u, bigger than maximum of %u",
					 caplen, PCAP_MAX_CAPLEN);
			ret = PCAP_ERROR;
			break;
		}
		if ((size_t)(end - p) < caplen) {
			/* Past the snapshot length, libpcap reads that much
			 * first, and says so when even that is missing. */
			size_t got = (size_t)(end - p);

			snprintf(o->err, sizeof(o->err),
				 "truncated dump file; tried to read %u captured bytes, only got %zu",
				 caplen > snap && got < snap ? snap : caplen, got);
			ret = PCAP_ERROR;
			break;
		}
		one_frame(o, ts_of(sec, (int64_t)frac * (int64_t)mult),
			  p, caplen > snap ? snap : caplen, len);
		p += caplen;
	}
	munmap((void *)map, size);
	return ret;
}

/*
 * The frames libpcap reads itself (pcapng, a pipe, what read_mapped()
 * leaves to it).  Returns what pcap_next_ex() last did: PCAP_ERROR with
 * o->err set, or the end of the file.
 */
static int read_pcap(struct offline *o, pcap_t *pc)
{
	struct pcap_pkthdr *h;
	const u_char *d;
	int rc;

	while ((rc = pcap_next_ex(pc, &h, &d)) == 1)
		one_frame(o, ts_of(h->ts.tv_sec, h->ts.tv_usec), /* nano */
			  d, h->caplen, h->len);
	if (rc == PCAP_ERROR)
		snprintf(o->err, sizeof(o->err), "%s", pcap_geterr(pc));
	return rc;
}

int ntfw_offline_run(const char *path, const struct ntfw_conf *conf,
		     enum ntfw_record_fmt fmt)
{
	char errbuf[PCAP_ERRBUF_SIZE], hdr[1024];
	struct offline o = { .fmt = fmt, .conf = conf };
	struct ntfw_stats *sp;
	struct ntfw_engine e;
	static char obuf[1u << 20];
	pcap_t *pc;
	FILE *f;
	int dlt, rc, ret = 0;

	/* Our own FILE with a large buffer: with stdio's default, reading
	 * the capture was a third of the run, in small read(2) calls. */
	f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	if (!f) {
		fprintf(stderr, "ntfw: %s: %s\n", path, strerror(errno));
		return 1;
	}
	setvbuf(f, NULL, _IOFBF, 1u << 20);
	pc = pcap_fopen_offline_with_tstamp_precision(f,
						      PCAP_TSTAMP_PRECISION_NANO,
						      errbuf);
	if (!pc) {
		if (f != stdin)
			fclose(f);
		/* libpcap names the file itself when it could not open it. */
		if (!strncmp(errbuf, path, strlen(path)))
			fprintf(stderr, "ntfw: %s\n", errbuf);
		else
			fprintf(stderr, "ntfw: %s: %s\n", path, errbuf);
		return 1;
	}
	dlt = pcap_datalink(pc);
	if (!dlt_supported(dlt)) {
		fprintf(stderr,
			"ntfw: %s: unsupported link type %s (Ethernet, Linux cooked v1/v2 and raw IP are)\n",
			path, pcap_datalink_val_to_name(dlt) ?: "unknown");
		pcap_close(pc);
		return 1;
	}
	if (ntfw_engine_init(&e, conf, conf->flows_max, print_record, &o)) {
		fprintf(stderr, "ntfw: out of memory\n");
		pcap_close(pc);
		return 1;
	}
	/* Records leave in large writes, not stdio's 4 KiB ones. */
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	if (fmt == NTFW_FMT_CSV) {
		ntfw_record_csv_header(hdr, sizeof(hdr));
		fputs(hdr, stdout);
	}
	o.e = &e;
	o.dlt = dlt;
	writer_start(&o);
	/* The capture is untrusted: read it under a tight seccomp filter. */
	if (ntfw_priv_offline())
		exit(1);
	rc = read_mapped(&o, pc, f);
	if (rc == 0)
		rc = read_pcap(&o, pc);
	if (rc == PCAP_ERROR) {
		/* Report what was read, then the error. */
		writer_drain(&o);
		fflush(stdout);
		fprintf(stderr, "ntfw: %s: %s\n", path, o.err);
		ret = 1;
	}
	ntfw_engine_flush(&e);
	writer_stop(&o);
	fflush(stdout);
	log_init(1, 0);
	sp = &e.stats;
	ntfw_stats_report(conf, &sp, 1);
	if (o.not_ip)
		log_info("stats: skipped %llu frames without IP",
			 (unsigned long long)o.not_ip);
	if (o.ts_back || o.len_cut)
		log_info("stats: capture timestamps-back=%llu lengths-cut=%llu",
			 (unsigned long long)o.ts_back,
			 (unsigned long long)o.len_cut);
	ntfw_engine_free(&e);
	pcap_close(pc);
	return ret;
}
