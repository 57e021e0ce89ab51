/* SPDX-License-Identifier: GPL-2.0-only */
/* A configuration from text, for the unit tests (after cmocka.h). */
#ifndef NTFW_TEST_CONF_TEXT_H
#define NTFW_TEST_CONF_TEXT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

/* @text parsed, or the test fails with the parser's messages. */
static inline struct ntfw_conf *conf_text(const char *text)
{
	struct ntfw_conf *c = NULL;
	char *err = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&err, &len);
	int n;

	assert_non_null(f);
	n = ntfw_conf_parse("test.conf", text, strlen(text), &c, f);
	fclose(f);
	if (n)
		fail_msg("config does not parse:\n%s", err);
	free(err);
	return c;
}

#endif
