// SPDX-License-Identifier: GPL-2.0-only
/* The control socket's request parser: good requests and garbage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctlproto.h"

static int parse(const char *s, struct ntfw_ctl_req *r, char *err)
{
	return ntfw_ctl_parse(s, strlen(s), r, err, 160);
}

static void test_good(void **state)
{
	struct ntfw_ctl_req r;
	char err[160];

	assert_int_equal(parse("{\"cmd\":\"status\"}\n", &r, err), 0);
	assert_int_equal(r.cmd, NTFW_CTL_STATUS);
	assert_int_equal(parse("{\"cmd\":\"rules\"}", &r, err), 0);
	assert_int_equal(r.cmd, NTFW_CTL_RULES);
	assert_int_equal(parse("{\"cmd\":\"reload\"}", &r, err), 0);
	assert_int_equal(r.cmd, NTFW_CTL_RELOAD);
	assert_int_equal(parse("{\"cmd\":\"stats\",\"format\":\"prometheus\"}", &r, err), 0);
	assert_int_equal(r.cmd, NTFW_CTL_STATS);
	assert_true(r.prometheus);
	assert_int_equal(parse("{\"cmd\":\"flows\"}", &r, err), 0);
	assert_int_equal(r.top, NTFW_CTL_TOP_DEFAULT);
	assert_int_equal(r.sort, NTFW_CTL_SORT_BYTES);
	assert_false(r.m_addr || r.m_port || r.m_proto);
	assert_int_equal(parse("{\"cmd\":\"flows\",\"top\":3,\"sort\":\"age\","
			       "\"match\":{\"addr\":\"fd00:213::1\",\"port\":8080,\"proto\":\"tcp\"}}",
			       &r, err), 0);
	assert_int_equal(r.top, 3);
	assert_int_equal(r.sort, NTFW_CTL_SORT_AGE);
	assert_true(r.m_addr && r.m_port && r.m_proto);
	assert_int_equal(r.m_family, 6);
	assert_int_equal(r.m_addr_v[0], 0xfd);
	assert_int_equal(r.m_addr_v[15], 1);
	assert_int_equal(r.m_port_v, 8080);
	assert_int_equal(r.m_proto_v, 6);
	assert_int_equal(parse("{\"cmd\":\"flows\",\"match\":{\"addr\":\"10.213.0.2\",\"proto\":17}}",
			       &r, err), 0);
	assert_int_equal(r.m_family, 4);
	assert_int_equal(r.m_addr_v[3], 2);
	assert_int_equal(r.m_proto_v, 17);
}

/* Each must be refused, with the reason given. */
static void test_garbage(void **state)
{
	static const char *const bad[][2] = {
		{ "", "bad JSON" },
		{ "\n", "bad JSON" },
		{ "hello", "bad JSON" },
		{ "{", "bad JSON" },
		{ "{\"cmd\":\"status\"", "bad JSON" },
		{ "{\"cmd\":\"status\"} {}", "bad JSON" },
		{ "[\"status\"]", "expected a JSON object" },
		{ "\"status\"", "expected a JSON object" },
		{ "42", "expected a JSON object" },
		{ "null", "expected a JSON object" },
		{ "{}", "no \"cmd\" string" },
		{ "{\"cmd\":7}", "no \"cmd\" string" },
		{ "{\"cmd\":null}", "no \"cmd\" string" },
		{ "{\"cmd\":\"shutdown\"}", "unknown command 'shutdown'" },
		{ "{\"cmd\":\"STATUS\"}", "unknown command 'STATUS'" },
		{ "{\"cmd\":\"status\",\"cmd\":\"reload\"}", "bad JSON" },
		{ "{\"cmd\":\"status\",\"top\":3}", "unknown field 'top'" },
		{ "{\"cmd\":\"flows\",\"top\":0}", "top: expected" },
		{ "{\"cmd\":\"flows\",\"top\":-1}", "top: expected" },
		{ "{\"cmd\":\"flows\",\"top\":\"5\"}", "top: expected" },
		{ "{\"cmd\":\"flows\",\"top\":1.5}", "top: expected" },
		{ "{\"cmd\":\"flows\",\"top\":99999999999999999999}", "bad JSON" },
		{ "{\"cmd\":\"flows\",\"sort\":\"size\"}", "sort: expected" },
		{ "{\"cmd\":\"flows\",\"match\":[]}", "match: expected an object" },
		{ "{\"cmd\":\"flows\",\"match\":{\"adr\":\"1.2.3.4\"}}", "match: unknown field 'adr'" },
		{ "{\"cmd\":\"flows\",\"match\":{\"addr\":\"1.2.3\"}}", "match addr: not" },
		{ "{\"cmd\":\"flows\",\"match\":{\"addr\":\"1.2.3.4/24\"}}", "match addr: not" },
		{ "{\"cmd\":\"flows\",\"match\":{\"addr\":5}}", "match addr: expected" },
		{ "{\"cmd\":\"flows\",\"match\":{\"port\":65536}}", "match port" },
		{ "{\"cmd\":\"flows\",\"match\":{\"port\":\"80\"}}", "match port" },
		{ "{\"cmd\":\"flows\",\"match\":{\"proto\":\"sctp\"}}", "match proto" },
		{ "{\"cmd\":\"flows\",\"match\":{\"proto\":256}}", "match proto" },
		{ "{\"cmd\":\"stats\",\"format\":\"xml\"}", "format: expected" },
		{ "{\"cmd\":\"status\"}\n{\"cmd\":\"reload\"}\n", "one request per line" },
	};
	struct ntfw_ctl_req r;
	char err[160];
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (parse(bad[i][0], &r, err) != -1 || !strstr(err, bad[i][1]))
			fail_msg("'%s': got '%s', expected '%s'", bad[i][0],
				 err, bad[i][1]);
	}
}

/* Bytes no JSON parser should choke on: NULs, invalid UTF-8, control
 * characters, deep nesting, and a request over the size bound. */
static void test_bytes(void **state)
{
	static const char nul[] = "{\"cmd\":\"sta\0tus\"}";
	static const char utf[] = "{\"cmd\":\"st\xff\xfe\"}";
	struct ntfw_ctl_req r;
	char err[160], *big, *deep;
	unsigned int i, seed = 1;

	assert_int_equal(ntfw_ctl_parse(nul, sizeof(nul) - 1, &r, err, sizeof(err)), -1);
	assert_int_equal(ntfw_ctl_parse(utf, sizeof(utf) - 1, &r, err, sizeof(err)), -1);
	assert_int_equal(parse("{\"cmd\":\"status\x01\"}", &r, err), -1);
	big = malloc(NTFW_CTL_REQ_MAX + 2);
	assert_non_null(big);
	memset(big, ' ', NTFW_CTL_REQ_MAX + 1);
	memcpy(big, "{\"cmd\":\"status\"}", 16);
	assert_int_equal(ntfw_ctl_parse(big, NTFW_CTL_REQ_MAX + 1, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longer than"));
	/* Exactly at the bound, padded with blanks: accepted. */
	assert_int_equal(ntfw_ctl_parse(big, NTFW_CTL_REQ_MAX, &r, err, sizeof(err)), 0);
	/* Random bytes: refused, never a crash (ASan builds check). */
	for (i = 0; i < 2000; i++) {
		unsigned int n = (unsigned int)rand_r(&seed) % 200, k;

		for (k = 0; k < n; k++)
			big[k] = (char)rand_r(&seed);
		big[0] = (char)(k % 2 ? '{' : big[0]);
		(void)ntfw_ctl_parse(big, n, &r, err, sizeof(err));
	}
	free(big);
	deep = malloc(40001);
	assert_non_null(deep);
	memset(deep, '[', 20000);
	memset(deep + 20000, ']', 20000);
	deep[40000] = '\0';
	assert_int_equal(parse(deep, &r, err), -1);
	free(deep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
