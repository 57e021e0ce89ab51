/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_JSON_H
#define NTFW_JSON_H

#include <stddef.h>

/*
 * @src (@len bytes) as the inside of a JSON string, into @dst (@size bytes,
 * NUL-terminated when @size > 0): '"' and '\\' escaped, control characters
 * as \n, \t... or \u00XX, bytes that are not UTF-8 as U+FFFD.  What does
 * not fit is cut between two characters, never inside an escape.  Returns
 * the length written.  Every string of the event log goes through here.
 */
size_t ntfw_json_escape(char *dst, size_t size, const char *src, size_t len);

#endif
