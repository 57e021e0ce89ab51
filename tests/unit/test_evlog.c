// SPDX-License-Identifier: GPL-2.0-only
/*
 * The event log's pieces without a daemon: the JSON string escaper, judged
 * by python's json module, and the workers' ring, alone and with a producer
 * and a consumer thread racing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "evlog.h"
#include "json.h"

static void escape_known(void **state)
{
	static const struct {
		const char *in, *out;
	} c[] = {
		{ "eth0", "eth0" },
		{ "a\"b", "a\\\"b" },
		{ "back\\slash", "back\\\\slash" },
		{ "nl\ntab\tcr\r", "nl\\ntab\\tcr\\r" },
		{ "\x01\x1f\x7f", "\\u0001\\u001f\x7f" },
		{ "caf\xc3\xa9", "caf\xc3\xa9" },
		{ "bad\xff", "bad\\ufffd" },
		{ "overlong\xc0\xaf", "overlong\\ufffd\\ufffd" },
		{ "surrogate\xed\xa0\x80", "surrogate\\ufffd\\ufffd\\ufffd" },
		{ "cut\xe2\x82", "cut\\ufffd\\ufffd" },
	};
	char buf[128];
	size_t i, n;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		n = ntfw_json_escape(buf, sizeof(buf), c[i].in, strlen(c[i].in));
		assert_string_equal(buf, c[i].out);
		assert_int_equal(n, strlen(c[i].out));
	}
	/* A NUL inside the input is a character like the others. */
	n = ntfw_json_escape(buf, sizeof(buf), "a\0b", 3);
	assert_string_equal(buf, "a\\u0000b");
	/* Cut between characters, never inside an escape or a sequence. */
	n = ntfw_json_escape(buf, 4, "a\"b", 3);
	assert_string_equal(buf, "a\\\"");
	n = ntfw_json_escape(buf, 3, "a\"b", 3);
	assert_string_equal(buf, "a");
	n = ntfw_json_escape(buf, 3, "\xc3\xa9\xc3\xa9", 4);
	assert_string_equal(buf, "\xc3\xa9");
	assert_int_equal(ntfw_json_escape(buf, 0, "x", 1), 0);
}

/* Random strings of the bytes that matter, every prefix size too: each
 * escaped string must parse as JSON, and give back the input when it is
 * UTF-8 (U+FFFD for what is not), a prefix of it when cut. */
static void escape_python(void **state)
{
	static const char py[] =
		"import json, sys\n"
		"bad = 0\n"
		"for n, line in enumerate(sys.stdin.buffer):\n"
		"    hexin, esc, full = line.rstrip(b'\\n').split(b'\\t')\n"
		"    raw = bytes.fromhex(hexin.decode())\n"
		"    try:\n"
		"        s = json.loads(b'\"' + esc + b'\"')\n"
		"        f = json.loads(b'\"' + full + b'\"')\n"
		"    except Exception as e:\n"
		"        print('line', n, 'does not parse:', e); bad += 1; continue\n"
		"    try:\n"
		"        want = raw.decode('utf-8')\n"
		"    except UnicodeDecodeError:\n"
		"        want = None\n"
		"    if want is not None and f != want:\n"
		"        print('line', n, 'decodes to', repr(f), 'not', repr(want)); bad += 1\n"
		"    if want is None and '\\ufffd' not in f:\n"
		"        print('line', n, 'lost its bad bytes'); bad += 1\n"
		"    if not f.startswith(s):\n"
		"        print('line', n, 'cut is no prefix'); bad += 1\n"
		"print('bad', bad)\n"
		"sys.exit(1 if bad else 0)\n";
	static const char *const pieces[] = {
		"a", "Z", " ", "\"", "\\", "\n", "\t", "\x01", "\x1f", "\x7f",
		"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xff",
		"\xc0\x80", "\xed\xa0\x80", "\xe2\x82", "\x80", "/", "\0",
	};
	char script[] = "/tmp/ntfw-evlog-XXXXXX";
	char cmd[128], in[64], esc[512], full[512], hex[160];
	size_t len, k, cut, i;
	unsigned int seed = 1;
	FILE *f;
	int fd, rc, t;

	if (system("python3 -c 'import json' >/dev/null 2>&1"))
		skip();
	fd = mkstemp(script);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, py, sizeof(py) - 1), (ssize_t)sizeof(py) - 1);
	close(fd);
	snprintf(cmd, sizeof(cmd), "python3 %s", script);
	f = popen(cmd, "w");
	assert_non_null(f);
	for (t = 0; t < 2000; t++) {
		len = 0;
		for (k = rand_r(&seed) % 12; k > 0; k--) {
			const char *p = pieces[rand_r(&seed) %
					       (sizeof(pieces) / sizeof(pieces[0]))];
			size_t pl = *p ? strlen(p) : 1;

			if (len + pl > sizeof(in))
				break;
			memcpy(in + len, p, pl);
			len += pl;
		}
		for (i = 0; i < len; i++)
			snprintf(hex + 2 * i, 3, "%02x", (unsigned char)in[i]);
		hex[2 * len] = '\0';
		if (!len)
			strcpy(hex, "");
		ntfw_json_escape(full, sizeof(full), in, len);
		/* Every buffer size, down to one byte (an empty string). */
		cut = 1 + (size_t)rand_r(&seed) % (strlen(full) + 1);
		ntfw_json_escape(esc, cut, in, len);
		assert_true(strlen(esc) < cut);
		fprintf(f, "%s\t%s\t%s\n", hex, esc, full);
	}
	rc = pclose(f);
	unlink(script);
	assert_int_equal(rc, 0);
}

static void ring_basic(void **state)
{
	struct ntfw_evring r;
	char big[200], out[64];
	const char *p;
	uint32_t len;
	int i;

	assert_int_equal(ntfw_evring_init(&r, 100), -1);	/* not 2^n */
	assert_int_equal(ntfw_evring_init(&r, 256), 0);
	assert_null(ntfw_evring_peek(&r, &len));
	assert_true(ntfw_evring_put(&r, "one\n", 4));
	assert_true(ntfw_evring_put(&r, "two!!\n", 6));
	p = ntfw_evring_peek(&r, &len);
	assert_int_equal(len, 4);
	assert_memory_equal(p, "one\n", 4);
	ntfw_evring_pop(&r);
	p = ntfw_evring_peek(&r, &len);
	assert_int_equal(len, 6);
	assert_memory_equal(p, "two!!\n", 6);
	ntfw_evring_pop(&r);
	assert_null(ntfw_evring_peek(&r, &len));
	/* Larger than the ring: lost, counted. */
	memset(big, 'x', sizeof(big));
	assert_false(ntfw_evring_put(&r, big, sizeof(big) + 100));
	assert_int_equal(r.lost, 1);
	ntfw_evring_free(&r);
	/* Fill it: what does not fit is lost, and comes in once read. */
	assert_int_equal(ntfw_evring_init(&r, 256), 0);
	for (i = 0; ntfw_evring_put(&r, big, 60); i++)
		;
	assert_int_equal(i, 4);	/* 4 * 64 bytes */
	assert_int_equal(r.lost, 1);
	ntfw_evring_pop(&r);
	assert_true(ntfw_evring_put(&r, big, 60));
	assert_false(ntfw_evring_put(&r, big, 1));
	ntfw_evring_free(&r);

	/* Entries that do not fit before the end start over at the front:
	 * every entry comes out whole and in order, around many times. */
	assert_int_equal(ntfw_evring_init(&r, 128), 0);
	for (i = 0; i < 1000; i++) {
		int n = snprintf(out, sizeof(out), "line %d %.*s", i,
				 i % 37, big);

		assert_true(ntfw_evring_put(&r, out, (uint32_t)n));
		p = ntfw_evring_peek(&r, &len);
		assert_non_null(p);
		assert_int_equal(len, n);
		assert_memory_equal(p, out, (size_t)n);
		ntfw_evring_pop(&r);
	}
	assert_null(ntfw_evring_peek(&r, &len));
	assert_int_equal(r.lost, 0);
	ntfw_evring_free(&r);
}

#define RACE_N 300000u

static void *producer(void *arg)
{
	struct ntfw_evring *r = arg;
	char line[96];
	uint32_t i;

	for (i = 0; i < RACE_N; i++) {
		int n = snprintf(line, sizeof(line), "%u:%.*s", i, (int)(i % 50),
				 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz");

		ntfw_evring_put(r, line, (uint32_t)n);
	}
	return NULL;
}

/* One producer, one consumer, no lock: every entry read is one that was
 * put, whole, in order; read + lost = put. */
static void ring_race(void **state)
{
	struct ntfw_evring r;
	uint64_t got = 0;
	long last = -1;
	pthread_t th;
	const char *p;
	uint32_t len;
	bool done = false;

	assert_int_equal(ntfw_evring_init(&r, 4096), 0);
	assert_int_equal(pthread_create(&th, NULL, producer, &r), 0);
	for (;;) {
		p = ntfw_evring_peek(&r, &len);
		if (!p) {
			if (done)
				break;
			/* The producer is done once it wrote the last. */
			done = __atomic_load_n(&r.head, __ATOMIC_ACQUIRE) &&
			       pthread_tryjoin_np(th, NULL) == 0;
			continue;
		}
		{
			char buf[128];
			unsigned long seq;
			int pre;

			assert_true(len < sizeof(buf));
			memcpy(buf, p, len);
			buf[len] = '\0';
			assert_int_equal(sscanf(buf, "%lu:%n", &seq, &pre), 1);
			assert_true((long)seq > last);
			assert_int_equal(len - (uint32_t)pre, seq % 50);
			assert_memory_equal(buf + pre,
					    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
					    seq % 50);
			last = (long)seq;
		}
		ntfw_evring_pop(&r);
		got++;
	}
	assert_int_equal(got + r.lost, RACE_N);
	/* The last entry arrives unless the ring was full for it. */
	assert_true(last <= (long)RACE_N - 1);
	if (!r.lost)
		assert_int_equal(last, RACE_N - 1);
	ntfw_evring_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escape_known),
		cmocka_unit_test(escape_python),
		cmocka_unit_test(ring_basic),
		cmocka_unit_test(ring_race),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
