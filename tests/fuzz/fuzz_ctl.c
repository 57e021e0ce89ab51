// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer: the control socket's request parser on arbitrary bytes, as
 * any local user the socket lets in can send them.  A request it takes
 * must be one it can hold: a known command, fields in their ranges.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctlproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ntfw_ctl_req r;
	char err[256];
	char *copy;
	int rc;

	/* An exact-size copy: a read past the end is ASan's to see. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	err[0] = '\0';
	rc = ntfw_ctl_parse(copy, size, &r, err, sizeof(err));
	if (rc != 0 && rc != -1)
		__builtin_trap();
	if (rc) {
		/* A reason, on one line, for the reply's "error". */
		if (!err[0] || strchr(err, '\n'))
			__builtin_trap();
	} else if (r.cmd > NTFW_CTL_REOPEN || r.top < 1 ||
		   r.top > NTFW_CTL_TOP_MAX || r.sort > NTFW_CTL_SORT_AGE ||
		   (r.m_addr && r.m_family != 4 && r.m_family != 6) ||
		   size > NTFW_CTL_REQ_MAX) {
		__builtin_trap();
	}
	free(copy);
	return 0;
}
