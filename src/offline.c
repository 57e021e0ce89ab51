// SPDX-License-Identifier: GPL-2.0-only
/*
 * Offline mode: libpcap reads the capture (pcap or pcapng), we find the IP
 * header behind the link layer, and the engine does the rest exactly as in
 * the daemon, with the capture's timestamps as the clock.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#include <linux/if_ether.h>

#include "conf.h"
#include "engine.h"
#include "log.h"
#include "offline.h"

struct offline {
	enum ntfw_record_fmt fmt;
	const struct ntfw_conf *conf;
	uint64_t not_ip;	/* frames that carry no IP (ARP...) */
};

static void print_record(const struct ntfw_flow *f, void *arg)
{
	struct offline *o = arg;
	char buf[NTFW_RECORD_MAX];
	size_t n = ntfw_record_format(f, o->conf, o->fmt, buf, sizeof(buf));

	fwrite(buf, 1, n, stdout);
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

int ntfw_offline_run(const char *path, const struct ntfw_conf *conf,
		     enum ntfw_record_fmt fmt)
{
	char errbuf[PCAP_ERRBUF_SIZE], hdr[1024];
	struct offline o = { .fmt = fmt, .conf = conf };
	struct ntfw_stats *sp;
	struct ntfw_engine e;
	struct pcap_pkthdr *h;
	const u_char *d;
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
	if (fmt == NTFW_FMT_CSV) {
		ntfw_record_csv_header(hdr, sizeof(hdr));
		fputs(hdr, stdout);
	}
	while ((rc = pcap_next_ex(pc, &h, &d)) == 1) {
		struct ntfw_meta m = { .hook = 0xff };
		uint16_t proto;
		int off = l3_offset(dlt, d, h->caplen, &proto);

		m.ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ull +
			  (uint64_t)h->ts.tv_usec; /* ns: nano precision */
		if (off < 0) {
			o.not_ip++;
			continue;
		}
		m.hw_proto = proto;
		/* The frame on the wire; without Ethernet, assume it. */
		m.wire_len = dlt == DLT_EN10MB ? h->len : 0;
		ntfw_engine_tick(&e, m.ts_ns);
		ntfw_engine_packet(&e, d + off, h->caplen - (uint32_t)off,
				   h->len > (uint32_t)off ? h->len - (uint32_t)off : 0, &m,
				   NULL);
	}
	if (rc == PCAP_ERROR) {
		/* Report what was read, then the error. */
		fflush(stdout);
		fprintf(stderr, "ntfw: %s: %s\n", path, pcap_geterr(pc));
		ret = 1;
	}
	ntfw_engine_flush(&e);
	fflush(stdout);
	log_init(1, 0);
	sp = &e.stats;
	ntfw_stats_report(conf, &sp, 1);
	if (o.not_ip)
		log_info("stats: skipped %llu frames without IP",
			 (unsigned long long)o.not_ip);
	ntfw_engine_free(&e);
	pcap_close(pc);
	return ret;
}
