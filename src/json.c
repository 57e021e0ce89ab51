// SPDX-License-Identifier: GPL-2.0-only
/* JSON strings: the one escaper of the event log and the flow records. */
#include <stdint.h>
#include <string.h>

#include "json.h"

/* Length of the well-formed UTF-8 sequence at @s (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s, size_t left)
{
	unsigned char c = s[0];
	size_t n, i;
	uint32_t cp;

	if (c < 0xc2 || c > 0xf4)
		return 0;
	n = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	if (left < n)
		return 0;
	cp = c & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

size_t ntfw_json_escape(char *dst, size_t size, const char *src, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0, i = 0, n;
	char esc[8];
	const char *piece;

	if (!size)
		return 0;
	while (i < len) {
		unsigned char c = s[i];

		piece = esc;
		n = 2;
		esc[0] = '\\';
		if (c == '"' || c == '\\') {
			esc[1] = (char)c;
		} else if (c == '\n') {
			esc[1] = 'n';
		} else if (c == '\r') {
			esc[1] = 'r';
		} else if (c == '\t') {
			esc[1] = 't';
		} else if (c == '\b') {
			esc[1] = 'b';
		} else if (c == '\f') {
			esc[1] = 'f';
		} else if (c < 0x20) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			n = 6;
		} else if (c < 0x80) {
			piece = (const char *)s + i;
			n = 1;
		} else if ((n = utf8_len(s + i, len - i))) {
			piece = (const char *)s + i;
		} else {
			piece = "\\ufffd";
			n = 6;
		}
		if (o + n >= size)
			break;
		memcpy(dst + o, piece, n);
		o += n;
		/* A UTF-8 sequence consumes its bytes, anything else one. */
		i += piece == (const char *)s + i ? n : 1;
	}
	dst[o] = '\0';
	return o;
}
