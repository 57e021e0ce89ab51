/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef NTFW_STRBUF_H
#define NTFW_STRBUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * Appending to a fixed buffer without printf: flow records are written
 * once per flow but have some fifty fields, and snprintf was most of the
 * cost of "ntfw -r".  Writes stop at the end of the buffer; @len keeps
 * counting, so len >= size means the output was cut (as with snprintf).
 */
struct strbuf {
	char *buf;
	size_t size;
	size_t len;
};

static inline void sb_putc(struct strbuf *sb, char c)
{
	if (sb->len + 1 < sb->size)
		sb->buf[sb->len] = c;
	sb->len++;
}

static inline void sb_puts(struct strbuf *sb, const char *s)
{
	size_t n = strlen(s);

	if (sb->len + n < sb->size) {
		memcpy(sb->buf + sb->len, s, n);
		sb->len += n;
		return;
	}
	while (*s)
		sb_putc(sb, *s++);
}

static inline void sb_u64(struct strbuf *sb, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		sb_putc(sb, tmp[--n]);
}

/* Terminate (within the buffer) and return the length. */
static inline size_t sb_end(struct strbuf *sb)
{
	if (sb->size)
		sb->buf[sb->len < sb->size ? sb->len : sb->size - 1] = '\0';
	return sb->len;
}

#endif
