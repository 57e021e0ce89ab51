// SPDX-License-Identifier: GPL-2.0-only
/*
 * Config parser.  A small lexer (words, ',', '{', '}', newlines) feeds a
 * recursive-descent parser with one token of lookahead.  Every error names
 * file:line:col and shows the line with the offending token underlined, the
 * way nftables does; parsing resumes at the next line so that one run
 * reports every mistake.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "conf.h"
#include "evlog.h"
#include "features.h"
#include "lookup.h"
#include "parse.h"

enum tok_type { T_WORD, T_COMMA, T_LBRACE, T_RBRACE, T_NL, T_EOF };

struct tok {
	enum tok_type type;
	const char *s;
	unsigned int len;
	unsigned int line;
	unsigned int col;
	const char *bol; /* start of the token's line */
};

/* A set defined somewhere in the file, found by a first pass. */
struct set_decl {
	char name[NTFW_NAME_MAX];
	unsigned int line;
};

/* An icmp-type value, resolved once the rule's protocol is known. */
struct icmp_val {
	struct tok tok;
	int v4, v6; /* type in each protocol, -1 when the name has none */
};

#define RULE_MAX_ICMP 64

struct parser {
	const char *file;
	const char *p, *end;
	unsigned int line;
	const char *bol;
	int depth; /* brace nesting; newlines inside braces are blanks */
	int in_list; /* inside the braces of the list being parsed */
	struct tok la;
	int have_la;
	enum tok_type last; /* type of the last token consumed */
	FILE *err;
	int nerr;
	struct ntfw_conf *conf;
	unsigned int queue_line, default_line, failopen_line, malformed_line;
	unsigned int timeout_line, flows_line, eventlog_line, logdrops_line;
	unsigned int maxlen_line, copy_line, sockbuf_line, fastpath_line;
	unsigned int gso_line;
	unsigned int kmod_line, kmodring_line, feed_line;
	unsigned int user_line;
	unsigned int invalid_line, reloadflows_line;
	unsigned int ctlsock_line, ctlgroup_line, metrics_line, minterval_line;
	struct set_decl *decls;
	unsigned int ndecls;
	unsigned int rules_cap;	/* slots allocated in conf->rules */
	unsigned int nfps;	/* rules with flows-per-src so far */
	bool hashing;		/* words go into text_hash as they come */
	uint64_t text_hash;
	uint32_t *names;	/* open addressing: rule index + 1, 0 = free */
	uint32_t names_cap;	/* a power of two, at least 2 * nrules */
	/* State of the rule being parsed. */
	char fam_from[80];
	struct tok kw[16];	/* each match keyword of the rule */
	struct tok cur;		/* the match being parsed */
	struct tok name_tok;	/* the rule's name, or its verdict word */
	struct icmp_val icmp[RULE_MAX_ICMP];
	unsigned int nicmp;
	struct tok proto_tok;
};

static int is_sep(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',' ||
	       c == '{' || c == '}' || c == '#';
}

static struct tok lex(struct parser *ps)
{
	struct tok t;

	for (;;) {
		while (ps->p < ps->end &&
		       (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r'))
			ps->p++;
		if (ps->p < ps->end && *ps->p == '#')
			while (ps->p < ps->end && *ps->p != '\n')
				ps->p++;
		if (ps->p < ps->end && *ps->p == '\n' && ps->depth > 0) {
			ps->p++;
			ps->line++;
			ps->bol = ps->p;
			continue;
		}
		break;
	}
	t.s = ps->p;
	t.len = 1;
	t.line = ps->line;
	t.col = (unsigned int)(ps->p - ps->bol) + 1;
	t.bol = ps->bol;
	if (ps->p >= ps->end) {
		t.type = T_EOF;
		return t;
	}
	switch (*ps->p) {
	case '\n':
		t.type = T_NL;
		ps->p++;
		ps->line++;
		ps->bol = ps->p;
		return t;
	case ',':
		t.type = T_COMMA;
		break;
	case '{':
		t.type = T_LBRACE;
		ps->depth++;
		break;
	case '}':
		t.type = T_RBRACE;
		if (ps->depth > 0)
			ps->depth--;
		break;
	default:
		t.type = T_WORD;
		while (ps->p < ps->end && !is_sep(*ps->p))
			ps->p++;
		t.len = (unsigned int)(ps->p - t.s);
		return t;
	}
	ps->p++;
	return t;
}

/* FNV-1a over the words of an unnamed rule, a blank after each: the
 * same words in the same order are the same rule, however spaced. */
static uint64_t words_hash(uint64_t h, const struct tok *t)
{
	unsigned int i;

	for (i = 0; i < t->len; i++)
		h = (h ^ (uint8_t)t->s[i]) * 0x100000001b3ull;
	return (h ^ ' ') * 0x100000001b3ull;
}

static struct tok next(struct parser *ps)
{
	struct tok t;

	if (ps->have_la) {
		ps->have_la = 0;
		t = ps->la;
	} else {
		t = lex(ps);
	}
	ps->last = t.type;
	if (ps->hashing && t.type != T_NL && t.type != T_EOF)
		ps->text_hash = words_hash(ps->text_hash, &t);
	return t;
}

static struct tok *peek(struct parser *ps)
{
	if (!ps->have_la) {
		ps->la = lex(ps);
		ps->have_la = 1;
	}
	return &ps->la;
}

static int tok_is(const struct tok *t, const char *word)
{
	return t->type == T_WORD && strlen(word) == t->len &&
	       !memcmp(t->s, word, t->len);
}

/* A token's text for messages: words as written, the rest by name. */
static const char *tok_str(const struct tok *t, char *buf, size_t size)
{
	switch (t->type) {
	case T_NL:
		return "end of line";
	case T_EOF:
		return "end of file";
	default:
		snprintf(buf, size, "'%.*s'", (int)(t->len > 64 ? 64 : t->len),
			 t->s);
		return buf;
	}
}

static void __attribute__((format(printf, 3, 4)))
perr(struct parser *ps, const struct tok *t, const char *fmt, ...)
{
	const char *eol = t->bol, *c;
	unsigned int i, len = t->len;
	va_list ap;

	ps->nerr++;
	if (ps->nerr > NTFW_MAX_ERRORS)
		return;
	fprintf(ps->err, "%s:%u:%u: error: ", ps->file, t->line, t->col);
	va_start(ap, fmt);
	vfprintf(ps->err, fmt, ap);
	va_end(ap);
	fputc('\n', ps->err);
	while (eol < ps->end && *eol != '\n')
		eol++;
	/* A NUL (an error of its own) shows as a blank, so the line
	 * goes on to the caret. */
	for (c = t->bol; c < eol; c++)
		fputc(*c ? *c : ' ', ps->err);
	fputc('\n', ps->err);
	/* Keep tabs so that the caret lands under the token. */
	for (i = 0; i + 1 < t->col; i++)
		fputc(t->bol[i] == '\t' ? '\t' : ' ', ps->err);
	if (t->type == T_NL || t->type == T_EOF)
		len = 1;
	fputc('^', ps->err);
	for (i = 1; i < len; i++)
		fputc('~', ps->err);
	fputc('\n', ps->err);
}

/* After an error: drop the rest of the statement. */
static void skip_stmt(struct parser *ps)
{
	/* Only the braces of a list hold the statement open: a stray '{'
	 * must not join the lines after it to this one. */
	ps->depth = ps->in_list;
	/* The error may have been found on the newline itself. */
	while (ps->last != T_NL && ps->last != T_EOF)
		next(ps);
	ps->depth = 0;
	ps->in_list = 0;
}

/* ---- values ---- */

/* A word that must follow: "missing value after 'kw'" when it does not. */
static int need_word(struct parser *ps, const struct tok *after,
		     struct tok *t)
{
	*t = next(ps);
	if (t->type == T_WORD)
		return 0;
	perr(ps, after, "missing value after '%.*s'", (int)after->len,
	     after->s);
	return -1;
}

static int word_copy(const struct tok *t, char *buf, size_t size)
{
	if (t->len >= size)
		return -1;
	memcpy(buf, t->s, t->len);
	buf[t->len] = '\0';
	return 0;
}

/* Parse a decimal number of at most @max; -1 not a number, -2 too big. */
static int parse_num(const char *s, size_t len, unsigned long max,
		     unsigned long *out)
{
	unsigned long v = 0;
	size_t i;

	if (!len)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > max)
			continue; /* keep scanning: "12x" is not a number */
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	*out = v;
	return v > max ? -2 : 0;
}

/* "N" or "A-B" for ports and queues. */
static int parse_range(struct parser *ps, const struct tok *t,
		       const char *what, unsigned long max, unsigned long *lo,
		       unsigned long *hi)
{
	const char *dash = memchr(t->s, '-', t->len);
	size_t l1 = dash ? (size_t)(dash - t->s) : t->len;
	const char *part = t->s;
	size_t plen = l1;
	int r;

	r = parse_num(t->s, l1, max, lo);
	if (r == 0 && dash) {
		part = dash + 1;
		plen = t->len - l1 - 1;
		r = parse_num(part, plen, max, hi);
	} else if (r == 0) {
		*hi = *lo;
	}
	if (r == -1) {
		perr(ps, t, "bad %s '%.*s'", what, (int)t->len, t->s);
		return -1;
	}
	if (r == -2) {
		perr(ps, t, "%s %.*s out of range (0-%lu)", what, (int)plen,
		     part, max);
		return -1;
	}
	if (*lo > *hi) {
		perr(ps, t, "bad %s range '%.*s' (start above end)", what,
		     (int)t->len, t->s);
		return -1;
	}
	return 0;
}

/*
 * "a.b.c.d" or "a.b.c.d/len" as inet_pton reads it (four decimal parts,
 * no leading zeros); blocklists are mostly this, a million lines at a
 * time.  Returns -1 for anything else, which takes the general path.
 */
static int fast_prefix4(const struct tok *t, struct ntfw_prefix *pf)
{
	const char *s = t->s, *end = t->s + t->len;
	unsigned int part, v, digits, len = 32;
	uint32_t a = 0, m;

	for (part = 0; part < 4; part++) {
		v = 0;
		digits = 0;
		while (s < end && *s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (unsigned int)(*s++ - '0');
			digits++;
		}
		if (!digits || v > 255 || (digits > 1 && *(s - digits) == '0'))
			return -1;
		a = a << 8 | v;
		if (part < 3 && (s == end || *s++ != '.'))
			return -1;
	}
	if (s < end) {
		if (*s++ != '/' || s == end || end - s > 2)
			return -1;
		len = 0;
		while (s < end && *s >= '0' && *s <= '9')
			len = len * 10 + (unsigned int)(*s++ - '0');
		if (s != end || len > 32)
			return -1;
	}
	m = len ? UINT32_MAX << (32 - len) : 0;
	a &= m; /* host bits are ignored, as below */
	memset(pf, 0, sizeof(*pf));
	pf->family = 4;
	pf->len = (uint8_t)len;
	pf->addr[0] = (uint8_t)(a >> 24);
	pf->addr[1] = (uint8_t)(a >> 16);
	pf->addr[2] = (uint8_t)(a >> 8);
	pf->addr[3] = (uint8_t)a;
	return 0;
}

static int parse_prefix(struct parser *ps, const struct tok *t,
			struct ntfw_prefix *pf)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash;
	unsigned long plen;
	unsigned int i;

	if (!fast_prefix4(t, pf))
		return 0;
	if (word_copy(t, buf, sizeof(buf)))
		goto bad;
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(pf, 0, sizeof(*pf));
	if (inet_pton(AF_INET, buf, pf->addr) == 1) {
		pf->family = 4;
		pf->len = 32;
	} else if (inet_pton(AF_INET6, buf, pf->addr) == 1) {
		pf->family = 6;
		pf->len = 128;
	} else {
		goto bad;
	}
	if (slash) {
		if (parse_num(slash + 1, strlen(slash + 1), 255, &plen) ||
		    plen > pf->len) {
			perr(ps, t, "bad prefix length '/%s' for an IPv%u address",
			     slash + 1, pf->family);
			return -1;
		}
		pf->len = (uint8_t)plen;
		/* Host bits are ignored, as pf and nftables do. */
		for (i = 0; i < 16; i++) {
			unsigned int keep = plen >= 8 * (i + 1) ? 8 :
					    plen > 8 * i ? plen - 8 * i : 0;

			pf->addr[i] &= (uint8_t)(0xff00 >> keep);
		}
	}
	return 0;
bad:
	perr(ps, t, "bad address '%.*s'", (int)t->len, t->s);
	return -1;
}

/*
 * A value list: one value, "a,b,c" or "{ a, b }".  @cb parses one value
 * and prints its own error.  @kw is the keyword, for "missing value".
 */
typedef int (*value_cb)(struct parser *ps, const struct tok *t, void *arg);

static int parse_list(struct parser *ps, const struct tok *kw, value_cb cb,
		      void *arg, int allow_empty)
{
	struct tok t = next(ps), prev = *kw, open = t;
	char buf[80];
	int braced = t.type == T_LBRACE;

	if (braced) {
		ps->in_list = 1;
		prev = t;
		t = next(ps);
		if (t.type == T_RBRACE && allow_empty) {
			ps->in_list = 0;
			return 0; /* "set s { }": an empty set */
		}
		if (t.type == T_RBRACE) {
			/* A match on nothing would silently never match. */
			perr(ps, &open, "empty list after '%.*s'", (int)kw->len,
			     kw->s);
			return -1;
		}
	}
	for (;;) {
		if (braced && t.type == T_EOF) {
			/* Not "missing value" on a line past the last one. */
			perr(ps, &open, "unterminated '{' (opened at line %u)",
			     open.line);
			return -1;
		}
		if (t.type != T_WORD) {
			if (prev.type == T_COMMA || prev.type == T_LBRACE)
				perr(ps, &t, "missing value after '%c'",
				     *prev.s);
			else
				perr(ps, &prev, "missing value after '%.*s'",
				     (int)prev.len, prev.s);
			return -1;
		}
		if (cb(ps, &t, arg))
			return -1;
		if (peek(ps)->type != T_COMMA)
			break;
		prev = next(ps);
		t = next(ps);
	}
	if (braced) {
		t = next(ps);
		if (t.type == T_EOF) {
			perr(ps, &open, "unterminated '{' (opened at line %u)",
			     open.line);
			return -1;
		}
		if (t.type != T_RBRACE) {
			perr(ps, &t, "expected ',' or '}', got %s",
			     tok_str(&t, buf, sizeof(buf)));
			return -1;
		}
		ps->in_list = 0;
	}
	return 0;
}

/* ---- sets ---- */

static int name_ok(struct parser *ps, const struct tok *t, const char *what,
		   char *out)
{
	unsigned int i;

	if (t->len >= NTFW_NAME_MAX) {
		perr(ps, t, "%s name too long (at most %d characters)", what,
		     NTFW_NAME_MAX - 1);
		return -1;
	}
	for (i = 0; i < t->len; i++) {
		char c = t->s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.')) {
			perr(ps, t,
			     "bad %s name '%.*s' (letters, digits, '-', '_', '.')",
			     what, (int)t->len, t->s);
			return -1;
		}
	}
	word_copy(t, out, NTFW_NAME_MAX);
	return 0;
}

struct prefix_vec {
	struct ntfw_prefix *v;
	unsigned int n, cap;
};

static int prefix_add(struct parser *ps, const struct tok *t, void *arg)
{
	struct prefix_vec *pv = arg;
	struct ntfw_prefix pf, *v;

	if (parse_prefix(ps, t, &pf))
		return -1;
	/* Doubling: blocklists run to millions of prefixes. */
	if (pv->n == pv->cap) {
		unsigned int cap = pv->cap ? 2 * pv->cap : 8;

		v = realloc(pv->v, cap * sizeof(*v));
		if (!v) {
			perr(ps, t, "out of memory");
			return -1;
		}
		pv->v = v;
		pv->cap = cap;
	}
	pv->v[pv->n++] = pf;
	return 0;
}

/* Read all of @path; NULL with errno set when it cannot be. */
static char *read_all(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *text = NULL, *t;
	size_t cap = 0, n;

	*len = 0;
	if (!f)
		return NULL;
	for (;;) {
		if (cap - *len < 4096) {
			if (cap > max) {
				errno = EFBIG;
				goto fail;
			}
			t = realloc(text, cap ? 2 * cap : 65536);
			if (!t)
				goto fail;
			text = t;
			cap = cap ? 2 * cap : 65536;
		}
		n = fread(text + *len, 1, cap - *len, f);
		*len += n;
		if (n == 0)
			break;
	}
	if (ferror(f))
		goto fail;
	fclose(f);
	return text;
fail:
	n = (size_t)errno;
	fclose(f);
	free(text);
	errno = (int)n;
	return NULL;
}

#define SET_FILE_MAX (256u << 20)

/*
 * "set NAME file PATH": one prefix per line, '#' comments, blank lines.
 * A relative PATH is taken from the config file's directory.  Errors name
 * the set file, its line and column.
 */
static int load_set_file(struct parser *ps, const struct tok *t,
			 struct prefix_vec *pv)
{
	char rel[4096], path[8192], buf[80];
	const char *slash = strrchr(ps->file, '/');
	struct parser sub;
	struct tok w, u;
	size_t len;
	char *text;

	if (word_copy(t, rel, sizeof(rel)) || !t->len) {
		perr(ps, t, "bad set file name");
		return -1;
	}
	if (t->len >= 2 && rel[0] == '"' && rel[t->len - 1] == '"') {
		memmove(rel, rel + 1, t->len - 2);
		rel[t->len - 2] = '\0';
	}
	if (rel[0] == '/' || !slash)
		snprintf(path, sizeof(path), "%s", rel);
	else
		snprintf(path, sizeof(path), "%.*s/%s",
			 (int)(slash - ps->file), ps->file, rel);
	text = read_all(path, SET_FILE_MAX, &len);
	if (!text) {
		perr(ps, t, "cannot read set file '%s': %s", path,
		     strerror(errno));
		return -1;
	}
	memset(&sub, 0, sizeof(sub));
	sub.file = path;
	sub.p = sub.bol = text;
	sub.end = text + len;
	sub.line = 1;
	sub.err = ps->err;
	sub.nerr = ps->nerr;
	sub.conf = ps->conf;
	for (;;) {
		w = lex(&sub);
		sub.depth = 0; /* braces are errors here, not list openers */
		if (w.type == T_EOF)
			break;
		if (w.type == T_NL)
			continue;
		if (w.type != T_WORD) {
			perr(&sub, &w, "unexpected %s (one prefix per line)",
			     tok_str(&w, buf, sizeof(buf)));
		} else if (!prefix_add(&sub, &w, pv)) {
			u = lex(&sub);
			sub.depth = 0;
			if (u.type == T_NL || u.type == T_EOF)
				continue;
			perr(&sub, &u, "unexpected %s (one prefix per line)",
			     tok_str(&u, buf, sizeof(buf)));
		}
		/* The rest of the line is not read. */
		while (sub.p < sub.end && *sub.p != '\n')
			sub.p++;
	}
	ps->nerr = sub.nerr;
	free(text);
	return sub.nerr > 0 ? -1 : 0;
}

static const struct ntfw_set *find_set(const struct ntfw_conf *c,
				       const char *name)
{
	unsigned int i;

	for (i = 0; i < c->nsets; i++)
		if (!strcmp(c->sets[i].name, name))
			return &c->sets[i];
	return NULL;
}

static int parse_set(struct parser *ps, const struct tok *kw)
{
	struct ntfw_conf *c = ps->conf;
	struct prefix_vec pv = { 0 };
	struct ntfw_addr_ranges *ranges;
	const struct ntfw_set *old;
	struct ntfw_set *sets;
	char name[NTFW_NAME_MAX], buf[80];
	struct tok t;

	if (need_word(ps, kw, &t))
		return -1;
	if (name_ok(ps, &t, "set", name))
		return -1;
	old = find_set(c, name);
	if (old) {
		perr(ps, &t, "duplicate set name '%s' (first at line %u)", name,
		     old->line);
		return -1;
	}
	if (tok_is(peek(ps), "file")) {
		struct tok f = next(ps), path;

		if (need_word(ps, &f, &path))
			return -1;
		if (load_set_file(ps, &path, &pv)) {
			free(pv.v);
			return -1;
		}
	} else if (peek(ps)->type != T_LBRACE) {
		struct tok u = next(ps);

		perr(ps, &u, "expected '{' after set name, got %s",
		     tok_str(&u, buf, sizeof(buf)));
		return -1;
	} else if (parse_list(ps, &t, prefix_add, &pv, 1)) {
		free(pv.v);
		return -1;
	}
	ranges = ntfw_addr_ranges_build(pv.v, pv.n);
	sets = ranges ? realloc(c->sets, (c->nsets + 1) * sizeof(*sets)) : NULL;
	if (!sets) {
		ntfw_addr_ranges_free(ranges);
		free(pv.v);
		perr(ps, &t, "out of memory");
		return -1;
	}
	c->sets = sets;
	memset(&sets[c->nsets], 0, sizeof(sets[0]));
	memcpy(sets[c->nsets].name, name, sizeof(name));
	sets[c->nsets].line = kw->line;
	sets[c->nsets].v = pv.v;
	sets[c->nsets].n = pv.n;
	sets[c->nsets].ranges = ranges;
	c->nsets++;
	return 0;
}

/* ---- rules ---- */

enum match_kw {
	K_NAME, K_FAMILY, K_PROTO, K_SRC, K_DST, K_SPORT, K_DPORT, K_IIF,
	K_OIF, K_ICMP, K_TCPFLAGS, K_HOOK, K_FLOW, K_RATE, K_FPS, K_STATE,
	K__MAX
};

static const struct {
	const char *word;
	uint32_t bit;
} match_kws[K__MAX] = {
	[K_NAME] = { "name", NTFW_M_NAME },
	[K_FAMILY] = { "family", NTFW_M_FAMILY },
	[K_PROTO] = { "proto", NTFW_M_PROTO },
	[K_SRC] = { "src", NTFW_M_SRC },
	[K_DST] = { "dst", NTFW_M_DST },
	[K_SPORT] = { "sport", NTFW_M_SPORT },
	[K_DPORT] = { "dport", NTFW_M_DPORT },
	[K_IIF] = { "iif", NTFW_M_IIF },
	[K_OIF] = { "oif", NTFW_M_OIF },
	[K_ICMP] = { "icmp-type", NTFW_M_ICMP },
	[K_TCPFLAGS] = { "tcp-flags", NTFW_M_TCPFLAGS },
	[K_HOOK] = { "hook", NTFW_M_HOOK },
	[K_FLOW] = { "flow", NTFW_M_FLOW },
	[K_RATE] = { "rate", NTFW_M_RATE },
	[K_FPS] = { "flows-per-src", NTFW_M_FPS },
	[K_STATE] = { "state", NTFW_M_STATE },
};

static const struct {
	const char *name;
	uint8_t num;
} protos[] = {
	{ "icmp", IPPROTO_ICMP }, { "tcp", IPPROTO_TCP },
	{ "udp", IPPROTO_UDP },	  { "icmpv6", IPPROTO_ICMPV6 },
	{ "gre", IPPROTO_GRE },	  { "esp", IPPROTO_ESP },
	{ "ah", IPPROTO_AH },	  { "sctp", IPPROTO_SCTP },
};

static const struct {
	const char *name;
	int v4, v6;
} icmp_names[] = {
	{ "echo-reply", 0, 129 },
	{ "destination-unreachable", 3, 1 },
	{ "source-quench", 4, -1 },
	{ "redirect", 5, -1 },
	{ "echo-request", 8, 128 },
	{ "router-advertisement", 9, -1 },
	{ "router-solicitation", 10, -1 },
	{ "time-exceeded", 11, 3 },
	{ "parameter-problem", 12, 4 },
	{ "timestamp-request", 13, -1 },
	{ "timestamp-reply", 14, -1 },
	{ "info-request", 15, -1 },
	{ "info-reply", 16, -1 },
	{ "address-mask-request", 17, -1 },
	{ "address-mask-reply", 18, -1 },
	{ "packet-too-big", -1, 2 },
	{ "mld-listener-query", -1, 130 },
	{ "mld-listener-report", -1, 131 },
	{ "mld-listener-done", -1, 132 },
	{ "nd-router-solicit", -1, 133 },
	{ "nd-router-advert", -1, 134 },
	{ "nd-neighbor-solicit", -1, 135 },
	{ "nd-neighbor-advert", -1, 136 },
	{ "nd-redirect", -1, 137 },
	{ "mld2-listener-report", -1, 143 },
};

static const struct {
	const char *name;
	uint8_t bit;
} tcp_flag_names[] = {
	{ "fin", NTFW_TCP_FIN }, { "syn", NTFW_TCP_SYN },
	{ "rst", NTFW_TCP_RST }, { "psh", NTFW_TCP_PSH },
	{ "ack", NTFW_TCP_ACK }, { "urg", NTFW_TCP_URG },
	{ "ece", NTFW_TCP_ECE }, { "cwr", NTFW_TCP_CWR },
};

static const struct {
	const char *name;
	uint8_t hook; /* NF_INET_* */
} hook_names[] = {
	{ "input", 1 },
	{ "forward", 2 },
	{ "output", 3 },
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A match implies a family (an address, icmp): it must agree with the rest. */
static int imply_family(struct parser *ps, struct ntfw_rule *r,
			const struct tok *t, uint8_t fam, const char *what)
{
	if (r->family && r->family != fam) {
		perr(ps, t, "%s in a rule that is IPv%u only (from '%s')", what,
		     r->family, ps->fam_from);
		return -1;
	}
	if (!r->family) {
		r->family = fam;
		snprintf(ps->fam_from, sizeof(ps->fam_from), "%.*s",
			 (int)(t->s + t->len - ps->cur.s), ps->cur.s);
	}
	return 0;
}

struct addr_arg {
	struct ntfw_rule *r;
	struct prefix_vec pv;
	const struct ntfw_prefix *setv; /* an @set: the set's elements */
	unsigned int setn;
	const struct ntfw_addr_ranges *setr;
	int nitems;
};

static int addr_add(struct parser *ps, const struct tok *t, void *arg)
{
	struct addr_arg *a = arg;
	char name[NTFW_NAME_MAX];
	const struct ntfw_set *s;
	unsigned int i;

	a->nitems++;
	if (t->len > 0 && t->s[0] == '@') {
		struct tok nt = *t;

		nt.s++;
		nt.len--;
		nt.col++;
		if (a->nitems > 1 || ps->in_list || peek(ps)->type == T_COMMA) {
			perr(ps, t, "a set cannot be part of a list");
			return -1;
		}
		if (name_ok(ps, &nt, "set", name))
			return -1;
		s = find_set(ps->conf, name);
		if (!s) {
			for (i = 0; i < ps->ndecls; i++)
				if (!strcmp(ps->decls[i].name, name))
					break;
			if (i < ps->ndecls)
				perr(ps, t,
				     "set '%s' is used before its definition at line %u",
				     name, ps->decls[i].line);
			else
				perr(ps, t, "unknown set '%s'", name);
			return -1;
		}
		a->setv = s->v;
		a->setn = s->n;
		a->setr = s->ranges;
		return 0;
	}
	return prefix_add(ps, t, &a->pv);
}

static int parse_addrs(struct parser *ps, struct ntfw_rule *r,
		       const struct tok *kw, struct ntfw_addrs *out)
{
	struct addr_arg a = { .r = r };
	const struct ntfw_prefix *v;
	unsigned int i, n, fams = 0;

	if (parse_list(ps, kw, addr_add, &a, 0)) {
		free(a.pv.v);
		return -1;
	}
	if (a.setr) {
		out->v = a.setv;
		out->n = a.setn;
		out->ranges = a.setr;
		out->owned = false;
	} else {
		out->v = a.pv.v;
		out->n = a.pv.n;
		out->owned = true;
		out->ranges = ntfw_addr_ranges_build(out->v, out->n);
		if (!out->ranges) {
			perr(ps, kw, "out of memory");
			return -1;
		}
	}
	v = out->v;
	n = out->n;
	for (i = 0; i < n; i++)
		fams |= 1u << v[i].family;
	/* Only a one-family list narrows the rule (a mixed set does not). */
	if (fams == 1u << 4)
		return imply_family(ps, r, kw, 4, "IPv4 address");
	if (fams == 1u << 6)
		return imply_family(ps, r, kw, 6, "IPv6 address");
	return 0;
}

static int port_add(struct parser *ps, const struct tok *t, void *arg)
{
	struct ntfw_ports *p = arg;
	unsigned long lo, hi;
	typeof(p->v) v;

	if (parse_range(ps, t, "port", 65535, &lo, &hi))
		return -1;
	/* Grown by doubling (capacity: the next power of two of n): a
	 * list of 350,000 ports must not cost 350,000 copies. */
	v = p->v;
	if (!(p->n & (p->n - 1))) {
		v = realloc(p->v, (p->n ? 2 * p->n : 1) * sizeof(*v));
		if (!v) {
			perr(ps, t, "out of memory");
			return -1;
		}
	}
	v[p->n].lo = (uint16_t)lo;
	v[p->n].hi = (uint16_t)hi;
	p->v = v;
	p->n++;
	return 0;
}

/* The list as written, and sorted and merged for lookups. */
static int parse_ports(struct parser *ps, const struct tok *kw,
		       struct ntfw_ports *p)
{
	if (parse_list(ps, kw, port_add, p, 0))
		return -1;
	p->m = malloc(p->n * sizeof(*p->m));
	if (!p->m) {
		perr(ps, kw, "out of memory");
		return -1;
	}
	p->nm = ntfw_port_ranges_merge((const uint16_t *)p->v, p->n, p->m);
	return 0;
}

static int icmp_add(struct parser *ps, const struct tok *t, void *arg)
{
	struct icmp_val *iv;
	unsigned long num;
	unsigned int i;
	int r;

	(void)arg;
	if (ps->nicmp == RULE_MAX_ICMP) {
		perr(ps, t, "too many icmp types (at most %d)", RULE_MAX_ICMP);
		return -1;
	}
	iv = &ps->icmp[ps->nicmp];
	iv->tok = *t;
	r = parse_num(t->s, t->len, 255, &num);
	if (r == -2) {
		perr(ps, t, "icmp type %.*s out of range (0-255)", (int)t->len,
		     t->s);
		return -1;
	}
	if (r == 0) {
		iv->v4 = iv->v6 = (int)num;
	} else {
		for (i = 0; i < ARRAY_SIZE(icmp_names); i++)
			if (tok_is(t, icmp_names[i].name))
				break;
		if (i == ARRAY_SIZE(icmp_names)) {
			perr(ps, t, "unknown icmp type '%.*s'", (int)t->len,
			     t->s);
			return -1;
		}
		iv->v4 = icmp_names[i].v4;
		iv->v6 = icmp_names[i].v6;
	}
	ps->nicmp++;
	return 0;
}

static int hook_add(struct parser *ps, const struct tok *t, void *arg)
{
	struct ntfw_rule *r = arg;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(hook_names); i++) {
		if (tok_is(t, hook_names[i].name)) {
			r->hooks |= (uint8_t)(1u << hook_names[i].hook);
			return 0;
		}
	}
	perr(ps, t, "unknown hook '%.*s' (input, forward or output)",
	     (int)t->len, t->s);
	return -1;
}

static int state_add(struct parser *ps, const struct tok *t, void *arg)
{
	struct ntfw_rule *r = arg;
	unsigned int i;

	for (i = 0; i < NTFW_ST_MAX; i++) {
		if (tok_is(t, ntfw_pstate_name(i))) {
			r->states |= (uint8_t)(1u << i);
			return 0;
		}
	}
	perr(ps, t, "unknown state '%.*s' (new, established, related or invalid)",
	     (int)t->len, t->s);
	return -1;
}

static int parse_proto(struct parser *ps, struct ntfw_rule *r,
		       const struct tok *t)
{
	unsigned long num;
	unsigned int i;
	int rc;

	for (i = 0; i < ARRAY_SIZE(protos); i++)
		if (tok_is(t, protos[i].name))
			break;
	if (i < ARRAY_SIZE(protos)) {
		r->proto = protos[i].num;
	} else {
		rc = parse_num(t->s, t->len, 255, &num);
		if (rc == -2) {
			perr(ps, t, "protocol %.*s out of range (0-255)",
			     (int)t->len, t->s);
			return -1;
		}
		if (rc) {
			perr(ps, t, "unknown protocol '%.*s'", (int)t->len,
			     t->s);
			return -1;
		}
		r->proto = (uint8_t)num;
	}
	ps->proto_tok = *t;
	if (r->proto == IPPROTO_ICMP)
		return imply_family(ps, r, t, 4, "proto icmp");
	if (r->proto == IPPROTO_ICMPV6)
		return imply_family(ps, r, t, 6, "proto icmpv6");
	return 0;
}

static int parse_tcp_flags(struct parser *ps, struct ntfw_rule *r,
			   const struct tok *kw)
{
	unsigned int i, n = 0;

	/* Flags run until the next word that is not one. */
	while (peek(ps)->type == T_WORD) {
		struct tok *t = peek(ps);
		struct tok f = *t;
		int neg = f.s[0] == '!';

		if (neg) {
			f.s++;
			f.len--;
		}
		for (i = 0; i < ARRAY_SIZE(tcp_flag_names); i++)
			if (tok_is(&f, tcp_flag_names[i].name))
				break;
		if (i == ARRAY_SIZE(tcp_flag_names)) {
			if (!neg)
				break;
			perr(ps, t, "unknown tcp flag '%.*s'", (int)f.len,
			     f.s);
			return -1;
		}
		if ((r->tcp_set | r->tcp_clear) & tcp_flag_names[i].bit) {
			perr(ps, t, "tcp flag '%s' given twice",
			     tcp_flag_names[i].name);
			return -1;
		}
		if (neg)
			r->tcp_clear |= tcp_flag_names[i].bit;
		else
			r->tcp_set |= tcp_flag_names[i].bit;
		next(ps);
		n++;
	}
	if (!n) {
		struct tok *t = peek(ps);

		if (t->type == T_WORD)
			perr(ps, t, "unknown tcp flag '%.*s'", (int)t->len,
			     t->s);
		else
			perr(ps, kw, "missing value after 'tcp-flags'");
		return -1;
	}
	return 0;
}

static void set_bit(uint64_t *map, unsigned int b)
{
	map[b / 64] |= 1ull << (b % 64);
}

/* Checks that need the whole rule: protocol against the L4 matches. */
static int finish_rule(struct parser *ps, struct ntfw_rule *r)
{
	int has_proto = r->have & NTFW_M_PROTO;
	int ok4, ok6;
	unsigned int i;

	if ((r->have & (NTFW_M_SPORT | NTFW_M_DPORT)) && has_proto &&
	    r->proto != IPPROTO_TCP && r->proto != IPPROTO_UDP) {
		const struct tok *k = (r->have & NTFW_M_SPORT) ?
			&ps->kw[K_SPORT] : &ps->kw[K_DPORT];

		perr(ps, k, "%.*s needs proto tcp or udp, not '%.*s'",
		     (int)k->len, k->s, (int)ps->proto_tok.len,
		     ps->proto_tok.s);
		return -1;
	}
	if (r->have & NTFW_M_TCPFLAGS) {
		if (has_proto && r->proto != IPPROTO_TCP) {
			perr(ps, &ps->kw[K_TCPFLAGS],
			     "tcp-flags needs proto tcp, not '%.*s'",
			     (int)ps->proto_tok.len, ps->proto_tok.s);
			return -1;
		}
		if (r->have & NTFW_M_ICMP) {
			perr(ps, &ps->kw[K_ICMP],
			     "icmp-type needs proto icmp or icmpv6, not 'tcp' (from 'tcp-flags')");
			return -1;
		}
		r->have |= NTFW_M_PROTO;
		r->proto = IPPROTO_TCP;
	}
	if (!(r->have & NTFW_M_ICMP))
		return 0;
	if (has_proto && r->proto != IPPROTO_ICMP && r->proto != IPPROTO_ICMPV6) {
		perr(ps, &ps->kw[K_ICMP],
		     "icmp-type needs proto icmp or icmpv6, not '%.*s'",
		     (int)ps->proto_tok.len, ps->proto_tok.s);
		return -1;
	}
	ok4 = r->family != 6;
	ok6 = r->family != 4;
	for (i = 0; i < ps->nicmp; i++) {
		const struct icmp_val *iv = &ps->icmp[i];
		int used = 0;

		if (ok4 && iv->v4 >= 0) {
			set_bit(r->icmp4, (unsigned int)iv->v4);
			used = 1;
		}
		if (ok6 && iv->v6 >= 0) {
			set_bit(r->icmp6, (unsigned int)iv->v6);
			used = 1;
		}
		if (!used) {
			perr(ps, &iv->tok, "'%.*s' is not an %s type",
			     (int)iv->tok.len, iv->tok.s,
			     r->family == 4 ? "icmp" : "icmpv6");
			return -1;
		}
	}
	return 0;
}



static const char *const cmp_names[] = {
	[NTFW_GT] = ">", [NTFW_GE] = ">=", [NTFW_LT] = "<",
	[NTFW_LE] = "<=", [NTFW_EQ] = "==", [NTFW_NE] = "!=",
};

/* flow <feature> <op> <integer> */
static int parse_flow_cond(struct parser *ps, struct ntfw_rule *r,
			   const struct tok *kw)
{
	struct tok name, op, val;
	unsigned long num;
	unsigned int i;
	int f;

	if (r->nflowc == NTFW_RULE_MAX_FLOW) {
		perr(ps, kw, "too many 'flow' conditions in one rule (at most %d)",
		     NTFW_RULE_MAX_FLOW);
		return -1;
	}
	if (need_word(ps, kw, &name))
		return -1;
	f = ntfw_feature_lookup(name.s, name.len);
	if (f < 0) {
		perr(ps, &name, "unknown flow feature '%.*s'", (int)name.len,
		     name.s);
		return -1;
	}
	if (need_word(ps, &name, &op))
		return -1;
	for (i = 0; i < ARRAY_SIZE(cmp_names); i++)
		if (tok_is(&op, cmp_names[i]))
			break;
	if (i == ARRAY_SIZE(cmp_names)) {
		perr(ps, &op, "expected a comparison (>, >=, <, <=, ==, !=), got '%.*s'",
		     (int)op.len, op.s);
		return -1;
	}
	if (need_word(ps, &op, &val))
		return -1;
	if (parse_num(val.s, val.len, ~0ul / 10 - 1, &num)) {
		perr(ps, &val, "bad number '%.*s'", (int)val.len, val.s);
		return -1;
	}
	r->flowc[r->nflowc].feature = (uint8_t)f;
	r->flowc[r->nflowc].op = (uint8_t)i;
	r->flowc[r->nflowc].value = num;
	r->nflowc++;
	return 0;
}

/*
 * rate over N/unit [burst B] [per src|dst]
 * flows-per-src over N/unit [burst B]
 * As nftables' "limit rate over": the match holds for what exceeds the
 * rate; the burst (default N) is how many may come at once.
 */
static int parse_rate(struct parser *ps, const struct tok *kw,
		      struct ntfw_rate *rt, int allow_per)
{
	static const struct {
		const char *name;
		uint64_t ns;
	} units[] = {
		{ "second", 1000000000ull },
		{ "minute", 60000000000ull },
		{ "hour", 3600000000000ull },
	};
	struct tok over, t, b;
	const char *slash;
	unsigned long n, burst;
	unsigned int i;
	char buf[80];

	if (need_word(ps, kw, &over))
		return -1;
	if (!tok_is(&over, "over")) {
		perr(ps, &over, "expected 'over' after '%.*s', got %s",
		     (int)kw->len, kw->s, tok_str(&over, buf, sizeof(buf)));
		return -1;
	}
	if (need_word(ps, &over, &t))
		return -1;
	slash = memchr(t.s, '/', t.len);
	if (!slash || parse_num(t.s, (size_t)(slash - t.s), 1000000000ul, &n) ||
	    n == 0) {
		perr(ps, &t, "bad rate '%.*s' (N/second, N/minute or N/hour, N from 1 to 1000000000)",
		     (int)t.len, t.s);
		return -1;
	}
	for (i = 0; i < ARRAY_SIZE(units); i++)
		if (strlen(units[i].name) == t.len - (size_t)(slash + 1 - t.s) &&
		    !memcmp(slash + 1, units[i].name, strlen(units[i].name)))
			break;
	if (i == ARRAY_SIZE(units)) {
		perr(ps, &t, "bad rate '%.*s' (N/second, N/minute or N/hour, N from 1 to 1000000000)",
		     (int)t.len, t.s);
		return -1;
	}
	rt->interval_ns = units[i].ns / n;
	if (!rt->interval_ns)
		rt->interval_ns = 1;
	rt->burst = (uint32_t)n;
	if (tok_is(peek(ps), "burst")) {
		b = next(ps);
		if (need_word(ps, &b, &t))
			return -1;
		if (parse_num(t.s, t.len, 1000000000ul, &burst) || burst == 0) {
			perr(ps, &t, "bad burst '%.*s' (1-1000000000)", (int)t.len,
			     t.s);
			return -1;
		}
		rt->burst = (uint32_t)burst;
	}
	if (allow_per && tok_is(peek(ps), "per")) {
		b = next(ps);
		if (need_word(ps, &b, &t))
			return -1;
		if (!tok_is(&t, "src") && !tok_is(&t, "dst")) {
			perr(ps, &t, "expected 'src' or 'dst' after 'per', got %s",
			     tok_str(&t, buf, sizeof(buf)));
			return -1;
		}
		rt->per_dst = tok_is(&t, "dst");
		rt->per_addr = 1;
	}
	return 0;
}

static int parse_match(struct parser *ps, struct ntfw_rule *r,
		       const struct tok *kw, enum match_kw k)
{
	struct tok t;

	switch (k) {
	case K_SRC:
		return parse_addrs(ps, r, kw, &r->src);
	case K_DST:
		return parse_addrs(ps, r, kw, &r->dst);
	case K_SPORT:
		return parse_ports(ps, kw, &r->sport);
	case K_DPORT:
		return parse_ports(ps, kw, &r->dport);
	case K_ICMP:
		return parse_list(ps, kw, icmp_add, NULL, 0);
	case K_HOOK:
		return parse_list(ps, kw, hook_add, r, 0);
	case K_STATE:
		return parse_list(ps, kw, state_add, r, 0);
	case K_TCPFLAGS:
		return parse_tcp_flags(ps, r, kw);
	case K_FLOW:
		return parse_flow_cond(ps, r, kw);
	case K_RATE:
		return parse_rate(ps, kw, &r->rate, 1);
	case K_FPS:
		return parse_rate(ps, kw, &r->fps, 0);
	default:
		break;
	}
	/* The rest take exactly one word. */
	if (need_word(ps, kw, &t))
		return -1;
	switch (k) {
	case K_NAME:
		ps->name_tok = t;
		return name_ok(ps, &t, "rule", r->name);
	case K_FAMILY:
		if (tok_is(&t, "ip"))
			return imply_family(ps, r, &t, 4, "family ip");
		if (tok_is(&t, "ip6"))
			return imply_family(ps, r, &t, 6, "family ip6");
		perr(ps, &t, "unknown family '%.*s' (ip or ip6)", (int)t.len,
		     t.s);
		return -1;
	case K_PROTO:
		return parse_proto(ps, r, &t);
	case K_IIF:
	case K_OIF:
		if (word_copy(&t, k == K_IIF ? r->iif : r->oif, IF_NAMESIZE)) {
			perr(ps, &t,
			     "interface name '%.*s' too long (at most %d characters)",
			     (int)t.len, t.s, IF_NAMESIZE - 1);
			return -1;
		}
		return 0;
	default:
		return -1;
	}
}

static void rule_free(struct ntfw_rule *r)
{
	if (r->src.owned) {
		free((void *)r->src.v);
		ntfw_addr_ranges_free((struct ntfw_addr_ranges *)r->src.ranges);
	}
	if (r->dst.owned) {
		free((void *)r->dst.v);
		ntfw_addr_ranges_free((struct ntfw_addr_ranges *)r->dst.ranges);
	}
	free(r->sport.v);
	free(r->dport.v);
	free(r->sport.m);
	free(r->dport.m);
}

/* FNV-1a: rule names are short and chosen by the admin. */
static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

/* The slot of @name in ps->names: its rule's, or the free one to take. */
static uint32_t *name_slot(struct parser *ps, const char *name)
{
	uint32_t mask = ps->names_cap - 1, i = name_hash(name) & mask;

	while (ps->names[i] &&
	       strcmp(ps->conf->rules[ps->names[i] - 1].name, name))
		i = (i + 1) & mask;
	return &ps->names[i];
}

/* Keep the name index at most half full; -1 when memory ran out. */
static int names_grow(struct parser *ps)
{
	uint32_t *old = ps->names, cap = ps->names_cap, i;

	if (2 * (ps->conf->nrules + 1) <= cap)
		return 0;
	ps->names_cap = cap ? 2 * cap : 64;
	ps->names = calloc(ps->names_cap, sizeof(*ps->names));
	if (!ps->names) {
		ps->names = old;
		ps->names_cap = cap;
		return -1;
	}
	for (i = 0; i < cap; i++)
		if (old[i])
			*name_slot(ps, ps->conf->rules[old[i] - 1].name) = old[i];
	free(old);
	return 0;
}

/* The free slot for @r's name in the name index, or NULL after an error
 * (a duplicate name, or no memory). */
static uint32_t *check_rule_name(struct parser *ps, const struct ntfw_rule *r,
				 const struct tok *at)
{
	uint32_t *slot;

	if (names_grow(ps)) {
		perr(ps, at, "out of memory");
		return NULL;
	}
	slot = name_slot(ps, r->name);
	if (*slot) {
		perr(ps, at, "duplicate rule name '%s' (first at line %u)",
		     r->name, ps->conf->rules[*slot - 1].line);
		return NULL;
	}
	return slot;
}

static int parse_rule(struct parser *ps, const struct tok *verb)
{
	struct ntfw_conf *c = ps->conf;
	struct ntfw_rule r, *rules;
	uint32_t *name;
	struct tok t;
	char buf[80];
	unsigned int k;

	memset(&r, 0, sizeof(r));
	r.line = verb->line;
	r.verdict = tok_is(verb, "drop") ? NTFW_DROP : NTFW_ACCEPT;
	ps->nicmp = 0;
	ps->fam_from[0] = '\0';
	ps->name_tok = *verb;
	ps->text_hash = words_hash(0xcbf29ce484222325ull, verb);
	ps->hashing = true;
	for (;;) {
		t = next(ps);
		if (t.type == T_NL || t.type == T_EOF)
			break;
		if (t.type != T_WORD) {
			perr(ps, &t, "unexpected %s", tok_str(&t, buf, sizeof(buf)));
			goto fail;
		}
		for (k = 0; k < K__MAX; k++)
			if (tok_is(&t, match_kws[k].word))
				break;
		if (k == K__MAX) {
			perr(ps, &t, "unknown keyword '%.*s'", (int)t.len, t.s);
			goto fail;
		}
		if ((r.have & match_kws[k].bit) && k != K_FLOW) {
			perr(ps, &t, "duplicate '%s' in rule", match_kws[k].word);
			goto fail;
		}
		r.have |= match_kws[k].bit;
		ps->kw[k] = t;
		ps->cur = t; /* imply_family() quotes from here */
		if (parse_match(ps, &r, &t, k))
			goto fail;
	}
	ps->hashing = false;
	if (finish_rule(ps, &r))
		goto fail;
	r.have &= ~NTFW_M_NAME;
	if (!r.name[0]) {
		snprintf(r.name, sizeof(r.name), "line-%u", r.line);
		r.text_hash = ps->text_hash ? ps->text_hash : 1;
	}
	name = check_rule_name(ps, &r, &ps->name_tok);
	if (!name)
		goto fail;
	/* Flows and rate buckets keep a rule's index in 16 bits. */
	if (c->nrules == NTFW_MAX_RULES) {
		perr(ps, verb, "too many rules (at most %d)", NTFW_MAX_RULES);
		goto fail;
	}
	/* A flow keeps one bit per flows-per-src rule. */
	if ((r.have & NTFW_M_FPS) && ps->nfps == NTFW_FLOW_FPS_MAX) {
		perr(ps, &ps->kw[K_FPS],
		     "too many flows-per-src rules (at most %d)",
		     NTFW_FLOW_FPS_MAX);
		goto fail;
	}
	if (c->nrules == ps->rules_cap) {
		unsigned int cap = ps->rules_cap ? 2 * ps->rules_cap : 16;

		rules = realloc(c->rules, cap * sizeof(*rules));
		if (!rules) {
			perr(ps, verb, "out of memory");
			goto fail;
		}
		c->rules = rules;
		ps->rules_cap = cap;
	}
	if (r.have & NTFW_M_FPS)
		r.fps_bit = (uint8_t)ps->nfps++;
	c->rules[c->nrules++] = r;
	*name = c->nrules;
	return 0;
fail:
	ps->hashing = false;
	rule_free(&r);
	return -1;
}

/* ---- statements ---- */

static int once(struct parser *ps, const struct tok *kw, unsigned int *line)
{
	if (*line) {
		perr(ps, kw, "duplicate '%.*s' statement (first at line %u)",
		     (int)kw->len, kw->s, *line);
		return -1;
	}
	*line = kw->line;
	return 0;
}

static int parse_choice(struct parser *ps, const struct tok *kw,
			const char *a, const char *b, int *which)
{
	char buf[80];
	struct tok t;

	if (need_word(ps, kw, &t))
		return -1;
	if (tok_is(&t, a) || tok_is(&t, b)) {
		*which = tok_is(&t, b);
		return 0;
	}
	perr(ps, &t, "expected '%s' or '%s' after '%.*s', got %s", a, b,
	     (int)kw->len, kw->s, tok_str(&t, buf, sizeof(buf)));
	return -1;
}

static int parse_queue(struct parser *ps, const struct tok *kw)
{
	unsigned long lo, hi;
	struct tok t;

	if (need_word(ps, kw, &t))
		return -1;
	if (parse_range(ps, &t, "queue", 65535, &lo, &hi))
		return -1;
	if (hi - lo + 1 > NTFW_MAX_QUEUES) {
		perr(ps, &t, "too many queues in '%.*s' (at most %d)",
		     (int)t.len, t.s, NTFW_MAX_QUEUES);
		return -1;
	}
	ps->conf->queue_lo = (uint16_t)lo;
	ps->conf->queue_hi = (uint16_t)hi;
	return 0;
}


/* timeout tcp N udp N icmp N closed N dropped N: any of them, each once. */
static int parse_timeout(struct parser *ps, const struct tok *kw)
{
	static const char *const names[NTFW_TC_MAX] = {
		[NTFW_TC_TCP] = "tcp", [NTFW_TC_UDP] = "udp",
		[NTFW_TC_OTHER] = "icmp", [NTFW_TC_CLOSED] = "closed",
		[NTFW_TC_DROPPED] = "dropped",
	};
	unsigned int seen = 0, c;
	unsigned long sec;
	struct tok t, v;

	while (peek(ps)->type == T_WORD || !seen) {
		if (need_word(ps, seen ? &t : kw, &t))
			return -1;
		for (c = 0; c < NTFW_TC_MAX; c++)
			if (tok_is(&t, names[c]))
				break;
		if (c == NTFW_TC_MAX) {
			perr(ps, &t, "unknown timeout '%.*s' (tcp, udp, icmp, closed or dropped)",
			     (int)t.len, t.s);
			return -1;
		}
		if (seen & (1u << c)) {
			perr(ps, &t, "timeout '%s' given twice", names[c]);
			return -1;
		}
		seen |= 1u << c;
		if (need_word(ps, &t, &v))
			return -1;
		if (parse_num(v.s, v.len, 86400 * 365, &sec) || sec == 0) {
			perr(ps, &v, "bad timeout '%.*s' (1-31536000 seconds)",
			     (int)v.len, v.s);
			return -1;
		}
		ps->conf->timeout[c] = (uint32_t)sec;
	}
	return 0;
}

/* flows max N */
static int parse_flows(struct parser *ps, const struct tok *kw)
{
	unsigned long n;
	struct tok t, v;
	char buf[80];

	if (need_word(ps, kw, &t))
		return -1;
	if (!tok_is(&t, "max")) {
		perr(ps, &t, "expected 'max' after 'flows', got %s",
		     tok_str(&t, buf, sizeof(buf)));
		return -1;
	}
	if (need_word(ps, &t, &v))
		return -1;
	if (parse_num(v.s, v.len, 1u << 26, &n) || n < 64) {
		perr(ps, &v, "bad flow table size '%.*s' (64-67108864)",
		     (int)v.len, v.s);
		return -1;
	}
	ps->conf->flows_max = (uint32_t)n;
	return 0;
}

/* queue-maxlen N, copy-range N, socket-buffer N: a number in a range. */
static int parse_uint_stmt(struct parser *ps, const struct tok *kw,
			   unsigned long lo, unsigned long hi, uint32_t *out)
{
	unsigned long n;
	struct tok v;

	if (need_word(ps, kw, &v))
		return -1;
	if (parse_num(v.s, v.len, hi, &n) || n < lo) {
		perr(ps, &v, "bad %.*s '%.*s' (%lu-%lu)", (int)kw->len, kw->s,
		     (int)v.len, v.s, lo, hi);
		return -1;
	}
	*out = (uint32_t)n;
	return 0;
}

/* fastpath after N | fastpath off */
static int parse_fastpath(struct parser *ps, const struct tok *kw)
{
	char buf[80];
	struct tok t;

	if (need_word(ps, kw, &t))
		return -1;
	if (tok_is(&t, "off")) {
		ps->conf->fastpath_after = 0;
		return 0;
	}
	if (!tok_is(&t, "after")) {
		perr(ps, &t, "expected 'after' or 'off' after 'fastpath', got %s",
		     tok_str(&t, buf, sizeof(buf)));
		return -1;
	}
	return parse_uint_stmt(ps, kw, 1, 1000000, &ps->conf->fastpath_after);
}

/* event-log PATH */
static int parse_event_log(struct parser *ps, const struct tok *kw)
{
	struct tok t;

	if (need_word(ps, kw, &t))
		return -1;
	if (t.s[0] != '/') {
		perr(ps, &t, "event-log needs an absolute path, got '%.*s'",
		     (int)t.len, t.s);
		return -1;
	}
	free(ps->conf->event_log);
	ps->conf->event_log = strndup(t.s, t.len);
	if (!ps->conf->event_log) {
		perr(ps, &t, "out of memory");
		return -1;
	}
	return 0;
}

/* log-drops no | yes [limit N]: N drop lines a second per rule. */
static int parse_log_drops(struct parser *ps, const struct tok *kw)
{
	struct tok *la;
	struct tok t;
	int v;

	if (parse_choice(ps, kw, "no", "yes", &v))
		return -1;
	ps->conf->log_drops = v ? NTFW_EVLOG_DROPS_DEFAULT : 0;
	la = peek(ps);
	if (!v || !tok_is(la, "limit"))
		return 0;
	t = next(ps);
	return parse_uint_stmt(ps, &t, 1, 1000000, &ps->conf->log_drops);
}

const char *ntfw_feed_name(unsigned int feed)
{
	switch (feed) {
	case NTFW_FEED_KMOD:
		return "kmod";
	case NTFW_FEED_BPF:
		return "bpf";
	case NTFW_FEED_OFF:
		return "off";
	default:
		return "auto";
	}
}

static const char *kmod_name(uint8_t kmod)
{
	return kmod == NTFW_KMOD_ON ? "on" :
	       kmod == NTFW_KMOD_OFF ? "off" : "auto";
}

/*
 * kmod is the older statement: given with fastpath-feed, the two must
 * agree.  kmod on is fastpath-feed kmod (auto then means it), kmod off
 * says "not the module" (auto, bpf, off), kmod auto is auto.  @t is the
 * value of whichever came second, for the caret.
 */
static int feed_agrees(struct parser *ps, const struct tok *t, bool kmod_last)
{
	uint8_t k = ps->conf->kmod, f = ps->conf->feed;
	bool ok;

	if (!ps->kmod_line || !ps->feed_line)
		return 0;
	if (k == NTFW_KMOD_ON)
		ok = f == NTFW_FEED_AUTO || f == NTFW_FEED_KMOD;
	else if (k == NTFW_KMOD_OFF)
		ok = f != NTFW_FEED_KMOD;
	else
		ok = f == NTFW_FEED_AUTO;
	if (ok)
		return 0;
	if (kmod_last)
		perr(ps, t, "'kmod %s' contradicts 'fastpath-feed %s' (line %u); kmod on goes with fastpath-feed kmod or auto, kmod off with anything but kmod, kmod auto with auto",
		     kmod_name(k), ntfw_feed_name(f), ps->feed_line);
	else
		perr(ps, t, "'fastpath-feed %s' contradicts 'kmod %s' (line %u); kmod on goes with fastpath-feed kmod or auto, kmod off with anything but kmod, kmod auto with auto",
		     ntfw_feed_name(f), kmod_name(k), ps->kmod_line);
	return -1;
}

/* kmod auto|on|off */
static int parse_kmod(struct parser *ps, const struct tok *kw)
{
	char buf[80];
	struct tok t;

	if (need_word(ps, kw, &t))
		return -1;
	if (tok_is(&t, "auto")) {
		ps->conf->kmod = NTFW_KMOD_AUTO;
	} else if (tok_is(&t, "on")) {
		ps->conf->kmod = NTFW_KMOD_ON;
	} else if (tok_is(&t, "off")) {
		ps->conf->kmod = NTFW_KMOD_OFF;
	} else {
		perr(ps, &t, "expected 'auto', 'on' or 'off' after 'kmod', got %s",
		     tok_str(&t, buf, sizeof(buf)));
		return -1;
	}
	return feed_agrees(ps, &t, true);
}

/* fastpath-feed auto|kmod|bpf|off */
static int parse_feed(struct parser *ps, const struct tok *kw)
{
	static const uint8_t v[] = { NTFW_FEED_AUTO, NTFW_FEED_KMOD,
				     NTFW_FEED_BPF, NTFW_FEED_OFF };
	char buf[80];
	struct tok t;
	unsigned int i;

	if (need_word(ps, kw, &t))
		return -1;
	for (i = 0; i < sizeof(v); i++)
		if (tok_is(&t, ntfw_feed_name(v[i])))
			break;
	if (i == sizeof(v)) {
		perr(ps, &t, "expected 'auto', 'kmod', 'bpf' or 'off' after 'fastpath-feed', got %s",
		     tok_str(&t, buf, sizeof(buf)));
		return -1;
	}
	ps->conf->feed = v[i];
	return feed_agrees(ps, &t, false);
}

/* kmod-ring PATH: another file than /proc/ntfw/ring (tests) */
static int parse_kmod_ring(struct parser *ps, const struct tok *kw)
{
	struct tok t;

	if (need_word(ps, kw, &t))
		return -1;
	if (t.s[0] != '/') {
		perr(ps, &t, "kmod-ring needs an absolute path, got '%.*s'",
		     (int)t.len, t.s);
		return -1;
	}
	free(ps->conf->kmod_ring);
	ps->conf->kmod_ring = strndup(t.s, t.len);
	if (!ps->conf->kmod_ring) {
		perr(ps, &t, "out of memory");
		return -1;
	}
	return 0;
}

/* control-socket PATH|none, control-group NAME, metrics-file PATH */
static int parse_string_stmt(struct parser *ps, const struct tok *kw,
			     bool path, char **out)
{
	struct tok t;

	if (need_word(ps, kw, &t))
		return -1;
	if (path && t.s[0] != '/' &&
	    !(tok_is(kw, "control-socket") && tok_is(&t, "none"))) {
		perr(ps, &t, "%.*s needs an absolute path, got '%.*s'",
		     (int)kw->len, kw->s, (int)t.len, t.s);
		return -1;
	}
	free(*out);
	*out = tok_is(&t, "none") && path ? strdup("") : strndup(t.s, t.len);
	if (!*out) {
		perr(ps, &t, "out of memory");
		return -1;
	}
	return 0;
}

/* Returns 0 when the statement was parsed, -1 on error. */
static int parse_stmt(struct parser *ps, const struct tok *t)
{
	char buf[80];
	int v, rc;

	if (t->type != T_WORD) {
		perr(ps, t, "unexpected %s", tok_str(t, buf, sizeof(buf)));
		return -1;
	}
	if (tok_is(t, "accept") || tok_is(t, "drop"))
		return parse_rule(ps, t);
	if (tok_is(t, "queue")) {
		rc = once(ps, t, &ps->queue_line) ?: parse_queue(ps, t);
	} else if (tok_is(t, "default")) {
		rc = once(ps, t, &ps->default_line) ?:
		     parse_choice(ps, t, "accept", "drop", &v);
		if (!rc)
			ps->conf->def = v ? NTFW_DROP : NTFW_ACCEPT;
	} else if (tok_is(t, "malformed")) {
		rc = once(ps, t, &ps->malformed_line) ?:
		     parse_choice(ps, t, "accept", "drop", &v);
		if (!rc)
			ps->conf->malformed = v ? NTFW_DROP : NTFW_ACCEPT;
	} else if (tok_is(t, "fail-open")) {
		rc = once(ps, t, &ps->failopen_line) ?:
		     parse_choice(ps, t, "no", "yes", &v);
		if (!rc)
			ps->conf->fail_open = v;
	} else if (tok_is(t, "gso")) {
		rc = once(ps, t, &ps->gso_line) ?:
		     parse_choice(ps, t, "no", "yes", &v);
		if (!rc)
			ps->conf->gso = v;
	} else if (tok_is(t, "invalid")) {
		rc = once(ps, t, &ps->invalid_line) ?:
		     parse_choice(ps, t, "accept", "drop", &v);
		if (!rc)
			ps->conf->invalid = v ? NTFW_DROP : NTFW_ACCEPT;
	} else if (tok_is(t, "reload-flows")) {
		rc = once(ps, t, &ps->reloadflows_line) ?:
		     parse_choice(ps, t, "reevaluate", "keep", &v);
		if (!rc)
			ps->conf->reload_keep = v;
	} else if (tok_is(t, "set")) {
		rc = parse_set(ps, t);
	} else if (tok_is(t, "timeout")) {
		rc = once(ps, t, &ps->timeout_line) ?: parse_timeout(ps, t);
	} else if (tok_is(t, "flows")) {
		rc = once(ps, t, &ps->flows_line) ?: parse_flows(ps, t);
	} else if (tok_is(t, "event-log")) {
		rc = once(ps, t, &ps->eventlog_line) ?: parse_event_log(ps, t);
	} else if (tok_is(t, "log-drops")) {
		rc = once(ps, t, &ps->logdrops_line) ?: parse_log_drops(ps, t);
	} else if (tok_is(t, "fastpath")) {
		rc = once(ps, t, &ps->fastpath_line) ?: parse_fastpath(ps, t);
	} else if (tok_is(t, "kmod")) {
		rc = once(ps, t, &ps->kmod_line) ?: parse_kmod(ps, t);
	} else if (tok_is(t, "fastpath-feed")) {
		rc = once(ps, t, &ps->feed_line) ?: parse_feed(ps, t);
	} else if (tok_is(t, "kmod-ring")) {
		rc = once(ps, t, &ps->kmodring_line) ?: parse_kmod_ring(ps, t);
	} else if (tok_is(t, "control-socket")) {
		rc = once(ps, t, &ps->ctlsock_line) ?:
		     parse_string_stmt(ps, t, true, &ps->conf->control_socket);
	} else if (tok_is(t, "control-group")) {
		rc = once(ps, t, &ps->ctlgroup_line) ?:
		     parse_string_stmt(ps, t, false, &ps->conf->control_group);
	} else if (tok_is(t, "metrics-file")) {
		rc = once(ps, t, &ps->metrics_line) ?:
		     parse_string_stmt(ps, t, true, &ps->conf->metrics_file);
	} else if (tok_is(t, "metrics-interval")) {
		rc = once(ps, t, &ps->minterval_line) ?:
		     parse_uint_stmt(ps, t, 1, 86400,
				     &ps->conf->metrics_interval);
	} else if (tok_is(t, "user")) {
		rc = once(ps, t, &ps->user_line) ?:
		     parse_string_stmt(ps, t, false, &ps->conf->user);
	} else if (tok_is(t, "queue-maxlen")) {
		rc = once(ps, t, &ps->maxlen_line) ?:
		     parse_uint_stmt(ps, t, 1, 1u << 24, &ps->conf->queue_maxlen);
	} else if (tok_is(t, "copy-range")) {
		/* 40 + 20: an IPv6 header and a TCP header at the least. */
		rc = once(ps, t, &ps->copy_line) ?:
		     parse_uint_stmt(ps, t, 60, 65535, &ps->conf->copy_range);
	} else if (tok_is(t, "socket-buffer")) {
		rc = once(ps, t, &ps->sockbuf_line) ?:
		     parse_uint_stmt(ps, t, 65536, 1u << 30,
				     &ps->conf->socket_buffer);
	} else {
		perr(ps, t, "unknown keyword '%.*s'", (int)t->len, t->s);
		return -1;
	}
	if (rc)
		return rc;
	/* A statement ends at the end of its line. */
	if (peek(ps)->type != T_NL && peek(ps)->type != T_EOF) {
		struct tok u = next(ps);

		perr(ps, &u, "unexpected %s", tok_str(&u, buf, sizeof(buf)));
		return -1;
	}
	return 0;
}

/* First pass: where each set is defined, to tell "later" from "nowhere". */
static void find_set_decls(struct parser *ps, const char *text, size_t len)
{
	struct parser scan = { .p = text, .end = text + len, .line = 1,
			       .bol = text };
	struct tok t, n;
	int bol = 1;
	void *v;

	for (;;) {
		t = lex(&scan);
		if (t.type == T_EOF)
			break;
		if (bol && tok_is(&t, "set")) {
			n = lex(&scan);
			if (n.type == T_WORD && n.len < NTFW_NAME_MAX) {
				v = realloc(ps->decls,
					    (ps->ndecls + 1) * sizeof(*ps->decls));
				if (!v)
					return;
				ps->decls = v;
				word_copy(&n, ps->decls[ps->ndecls].name,
					  NTFW_NAME_MAX);
				ps->decls[ps->ndecls++].line = t.line;
			}
			t = n;
		}
		bol = t.type == T_NL;
	}
}

/* A NUL would end a value early for the C functions that read it
 * ("10.1.2.3\0/8" a /32, a path cut short): each one is an error. */
static void check_nul(struct parser *ps)
{
	const char *p = ps->p, *bol = p, *nul;
	struct tok t = { .type = T_WORD, .len = 1, .line = 1 };

	while ((nul = memchr(p, '\0', (size_t)(ps->end - p)))) {
		for (; p < nul; p++) {
			if (*p == '\n') {
				t.line++;
				bol = p + 1;
			}
		}
		t.s = nul;
		t.col = (unsigned int)(nul - bol) + 1;
		t.bol = bol;
		perr(ps, &t, "NUL byte");
		p = nul + 1;
	}
}

int ntfw_conf_parse(const char *file, const char *text, size_t len,
		    struct ntfw_conf **out, FILE *err)
{
	struct parser ps = {
		.file = file, .p = text, .end = text + len, .line = 1,
		.bol = text, .err = err,
	};
	struct tok t;
	int rc;

	ps.conf = calloc(1, sizeof(*ps.conf));
	if (!ps.conf) {
		fprintf(err, "%s: out of memory\n", file);
		return 1;
	}
	ps.conf->timeout[NTFW_TC_TCP] = 7200;
	ps.conf->timeout[NTFW_TC_UDP] = 60;
	ps.conf->timeout[NTFW_TC_OTHER] = 30;
	ps.conf->timeout[NTFW_TC_CLOSED] = 10;
	ps.conf->timeout[NTFW_TC_DROPPED] = 10;
	ps.conf->flows_max = NTFW_FLOWS_MAX_DEFAULT;
	ps.conf->queue_maxlen = NTFW_QUEUE_MAXLEN_DEFAULT;
	ps.conf->metrics_interval = NTFW_METRICS_INTERVAL_DEFAULT;
	ps.conf->copy_range = NTFW_COPY_RANGE_DEFAULT;
	ps.conf->invalid = NTFW_DROP;	/* as pf drops what is out of window */
	/* What cannot be read cannot be judged: pf drops it too. */
	ps.conf->malformed = NTFW_DROP;
	ps.conf->socket_buffer = NTFW_SOCKET_BUFFER_DEFAULT;
	check_nul(&ps);
	find_set_decls(&ps, text, len);
	for (;;) {
		t = next(&ps);
		if (t.type == T_EOF)
			break;
		if (t.type == T_NL)
			continue;
		rc = parse_stmt(&ps, &t);
		if (rc < 0)
			skip_stmt(&ps);
	}
	if (ps.nerr > NTFW_MAX_ERRORS)
		fprintf(err, "%s: too many errors (%d), stopped reporting after %d\n",
			file, ps.nerr, NTFW_MAX_ERRORS);
	free(ps.decls);
	free(ps.names);
	ntfw_policy_finality(ps.conf);
	if (!ps.nerr) {
		ps.conf->index = ntfw_rule_index_build(ps.conf->rules,
						       ps.conf->nrules);
		if (!ps.conf->index) {
			fprintf(err, "%s: out of memory\n", file);
			ps.nerr++;
		}
	}
	if (ps.nerr) {
		ntfw_conf_free(ps.conf);
		return ps.nerr;
	}
	*out = ps.conf;
	return 0;
}

int ntfw_conf_load(const char *path, struct ntfw_conf **out, FILE *err)
{
	char *text = NULL;
	size_t len = 0, cap = 0;
	FILE *f = fopen(path, "r");
	int rc;

	if (!f) {
		fprintf(err, "%s: cannot open: %s\n", path, strerror(errno));
		return 1;
	}
	for (;;) {
		size_t n;

		if (cap - len < 4096) {
			char *t = realloc(text, cap + 65536);

			if (!t || cap > (1u << 24)) {
				free(t ? t : text);
				fclose(f);
				fprintf(err, "%s: file too large\n", path);
				return 1;
			}
			text = t;
			cap += 65536;
		}
		n = fread(text + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		fprintf(err, "%s: read error: %s\n", path, strerror(errno));
		fclose(f);
		free(text);
		return 1;
	}
	fclose(f);
	rc = ntfw_conf_parse(path, text, len, out, err);
	if (!rc) {
		/* Which file runs, for the control socket: FNV-1a 64. */
		uint64_t h = 0xcbf29ce484222325ull;
		size_t i;

		for (i = 0; i < len; i++)
			h = (h ^ (uint8_t)text[i]) * 0x100000001b3ull;
		(*out)->file_hash = h;
	}
	free(text);
	return rc;
}

void ntfw_conf_free(struct ntfw_conf *c)
{
	unsigned int i;

	if (!c)
		return;
	for (i = 0; i < c->nrules; i++)
		rule_free(&c->rules[i]);
	for (i = 0; i < c->nsets; i++) {
		free(c->sets[i].v);
		ntfw_addr_ranges_free(c->sets[i].ranges);
	}
	ntfw_rule_index_free(c->index);
	free(c->rules);
	free(c->sets);
	free(c->event_log);
	free(c->kmod_ring);
	free(c->control_socket);
	free(c->control_group);
	free(c->metrics_file);
	free(c->user);
	free(c);
}

/* ---- reload ---- */

unsigned int ntfw_conf_keep_fixed(struct ntfw_conf *next,
				  const struct ntfw_conf *run,
				  const char *changed[NTFW_CONF_FIXED])
{
	unsigned int n = 0;

	/* The queues are bound and the flow tables allocated at start. */
	if (next->queue_lo != run->queue_lo || next->queue_hi != run->queue_hi) {
		next->queue_lo = run->queue_lo;
		next->queue_hi = run->queue_hi;
		changed[n++] = "queue";
	}
	if (next->flows_max != run->flows_max) {
		next->flows_max = run->flows_max;
		changed[n++] = "flows max";
	}
	/* The feed is loaded and attached with rights given up since. */
	if (next->feed != run->feed || next->kmod != run->kmod) {
		next->feed = run->feed;
		next->kmod = run->kmod;
		changed[n++] = "fastpath-feed";
	}
	/* The daemon gave up the rights to change its user again. */
	if (!next->user != !run->user ||
	    (next->user && strcmp(next->user, run->user))) {
		free(next->user);
		next->user = run->user ? strdup(run->user) : NULL;
		changed[n++] = "user";
	}
	return n;
}

/* Who a rule is at a reload: its name, or for an unnamed rule its words
 * and how many unnamed rules above it have the same words. */
struct rule_key {
	const char *name;	/* NULL: unnamed */
	uint64_t hash;
	uint32_t nth;
	uint16_t idx;
};

static int rule_key_cmp(const void *a, const void *b)
{
	const struct rule_key *x = a, *y = b;

	if (!x->name != !y->name)
		return x->name ? -1 : 1;
	if (x->name)
		return strcmp(x->name, y->name);
	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->nth < y->nth ? -1 : x->nth > y->nth;
}

/* The keys of @c's rules, sorted; NULL when memory ran out. */
static struct rule_key *rule_keys(const struct ntfw_conf *c)
{
	struct rule_key *k = malloc((c->nrules + 1) * sizeof(*k));
	unsigned int i, nth = 0;

	if (!k)
		return NULL;
	for (i = 0; i < c->nrules; i++) {
		k[i].name = c->rules[i].text_hash ? NULL : c->rules[i].name;
		k[i].hash = c->rules[i].text_hash;
		k[i].nth = i;	/* sorted, copies of a text keep file order */
		k[i].idx = (uint16_t)i;
	}
	/* Sorted: up to 65000 rules on each side. */
	qsort(k, c->nrules, sizeof(*k), rule_key_cmp);
	for (i = 0; i < c->nrules; i++) {
		if (i && !k[i].name && !k[i - 1].name &&
		    k[i].hash == k[i - 1].hash)
			nth++;
		else
			nth = 0;
		k[i].nth = nth;
	}
	return k;
}

int ntfw_conf_rule_map(const struct ntfw_conf *from, const struct ntfw_conf *to,
		       bool same_verdict, uint16_t *map)
{
	struct rule_key *keys = rule_keys(to), *fkeys = rule_keys(from);
	const struct rule_key *hit;
	unsigned int i;

	if (!keys || !fkeys) {
		free(keys);
		free(fkeys);
		return -ENOMEM;
	}
	for (i = 0; i < from->nrules; i++) {
		const struct ntfw_rule *r = &from->rules[fkeys[i].idx];

		hit = bsearch(&fkeys[i], keys, to->nrules, sizeof(*keys),
			      rule_key_cmp);
		if (hit && (!same_verdict ||
			    to->rules[hit->idx].verdict == r->verdict))
			map[fkeys[i].idx] = hit->idx;
		else
			map[fkeys[i].idx] = NTFW_RULE_GONE;
	}
	map[from->nrules] = !same_verdict || from->def == to->def ?
			    (uint16_t)to->nrules : NTFW_RULE_GONE;
	free(keys);
	free(fkeys);
	return 0;
}
