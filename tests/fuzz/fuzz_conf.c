// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer: the config parser on arbitrary text. */
#include <stdint.h>
#include <stdio.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ntfw_conf *conf = NULL;
	FILE *err = fopen("/dev/null", "w");

	if (!err)
		return 0;
	if (ntfw_conf_parse("fuzz", (const char *)data, size, &conf, err) == 0)
		ntfw_conf_free(conf);
	fclose(err);
	return 0;
}
