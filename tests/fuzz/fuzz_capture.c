// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer: a whole capture through the offline pipeline.  The bytes are
 * a pcap or pcapng file; libpcap reads it from memory and each frame goes
 * through offline.c's own link-layer step and the engine (parse, flows,
 * features, a stateful policy), as `ntfw -r` runs it.  The same bytes are
 * then read again from a file through offline.c's mapped reader.  Every
 * flow record, JSON and CSV, is checked: JSON that a strict parser takes,
 * one line, CSV with the header's number of fields.
 *
 * offline.c is compiled in here, for its frame loop is static: the
 * harness calls its readers, not ntfw_offline_run() (seccomp, stdout,
 * the writer thread).
 */
#include <jansson.h>
#include <sys/mman.h>

#include "../../src/offline.c"

static struct ntfw_conf *conf;
static unsigned int csv_fields;

/* Small on purpose: a table of 64 flows fills, and flows are evicted. */
static const char policy[] =
	"default accept\n"
	"malformed drop\n"
	"flows max 64\n"
	"timeout tcp 30 udp 10 icmp 5\n"
	"set nets { 10.0.0.0/8, fd00::/8 }\n"
	"drop name brute proto tcp dport 22 tcp-flags syn !ack rate over 5/second per src\n"
	"drop name scan proto tcp flows-per-src over 3/second\n"
	"drop name push proto tcp dport 80 flow pushed_c2s > 2\n"
	"drop name inval state invalid\n"
	"drop name noerr proto icmp state related\n"
	"accept name web proto tcp dport 80,443 src @nets\n"
	"drop name dns proto udp dport 53 rate over 10/second burst 5\n"
	"drop name v6 family ip6 proto 58 icmp-type echo-request\n";

/* CSV fields of @s, n bytes: commas outside double quotes, plus one. */
static unsigned int csv_count(const char *s, size_t n)
{
	unsigned int fields = 1;
	bool quoted = false;
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '"')
			quoted = !quoted;
		else if (s[i] == ',' && !quoted)
			fields++;
	}
	if (quoted)
		__builtin_trap();
	return fields;
}

/* One line, newline-terminated, that fits. */
static size_t line_check(const char *buf, size_t n, size_t size)
{
	if (n == 0 || n >= size || buf[n - 1] != '\n' ||
	    memchr(buf, '\n', n - 1) || memchr(buf, '\0', n))
		__builtin_trap();
	return n - 1;
}

static void check_record(const struct ntfw_flow *f, void *arg)
{
	char buf[NTFW_RECORD_MAX];
	json_error_t je;
	json_t *j;
	size_t n;

	n = line_check(buf, ntfw_record_format(f, conf, NTFW_FMT_JSON, buf,
					       sizeof(buf)), sizeof(buf));
	j = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		fprintf(stderr, "bad JSON record (%s at %d): %.*s\n", je.text,
			je.position, (int)n, buf);
		__builtin_trap();
	}
	if (!json_is_object(j))
		__builtin_trap();
	json_decref(j);
	n = line_check(buf, ntfw_record_format(f, conf, NTFW_FMT_CSV, buf,
					       sizeof(buf)), sizeof(buf));
	if (csv_count(buf, n) != csv_fields) {
		fprintf(stderr, "CSV record of %u fields, header %u: %.*s\n",
			csv_count(buf, n), csv_fields, (int)n, buf);
		__builtin_trap();
	}
	(*(uint64_t *)arg)++;
}

/* The capture in @f through the engine, as ntfw_offline_run() reads it;
 * returns how many records it wrote. */
static uint64_t run(FILE *f, bool mapped)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct offline o = { .fmt = NTFW_FMT_JSON, .conf = conf };
	struct ntfw_engine e;
	uint64_t records = 0;
	pcap_t *pc;
	int rc;

	pc = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO,
						      errbuf);
	if (!pc) {
		fclose(f);
		return 0;
	}
	o.dlt = pcap_datalink(pc);
	if (!dlt_supported(o.dlt)) {
		pcap_close(pc);
		return 0;
	}
	if (ntfw_engine_init(&e, conf, conf->flows_max, check_record, &records))
		__builtin_trap();
	o.e = &e;
	rc = mapped ? read_mapped(&o, pc, f) : 0;
	if (rc == 0)
		rc = read_pcap(&o, pc);
	if (rc == PCAP_ERROR && !o.err[0])
		__builtin_trap();
	ntfw_engine_flush(&e);
	if (e.flows.used)
		__builtin_trap();
	ntfw_engine_free(&e);
	pcap_close(pc);
	return records;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char hdr[1024];
	uint8_t *copy;
	uint64_t a, b;
	FILE *f;
	int fd;

	if (!conf) {
		if (ntfw_conf_parse("fuzz", policy, sizeof(policy) - 1, &conf,
				    stderr))
			__builtin_trap();
		csv_fields = csv_count(hdr, line_check(hdr,
			ntfw_record_csv_header(hdr, sizeof(hdr)), sizeof(hdr)));
	}
	if (!size)
		return 0;
	/* An exact-size copy: a read past the end is ASan's to see. */
	copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	f = fmemopen(copy, size, "rb");
	a = f ? run(f, false) : 0;
	free(copy);
	/* The same bytes from a file: offline.c maps a classic pcap file
	 * and reads it itself; it must make the same flows of it. */
	fd = memfd_create("capture", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET)) {
		close(fd);
		return 0;
	}
	f = fdopen(fd, "rb");
	if (!f) {
		close(fd);
		return 0;
	}
	b = run(f, true);
	if (a != b) {
		fprintf(stderr, "records: %llu from libpcap, %llu mapped\n",
			(unsigned long long)a, (unsigned long long)b);
		__builtin_trap();
	}
	return 0;
}
