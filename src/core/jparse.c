/* jparse: strict JSON into an arena DOM, without recursion. An explicit stack of open containers
 * (at most JPARSE_MAX_DEPTH) and one growable vector of finished values waiting for their
 * container to close; when it closes, its values are copied into the arena as one array. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strtod_l */
#endif
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jparse.h"
#include "core/json.h"

enum {
	JF_INT = 1,  /* x holds the value as an int64_t */
	JF_UINT = 2, /* x holds the value as a uint64_t */
	JF_NUL = 4,  /* a string that holds U+0000 */
	JF_TRUE = 8, /* a boolean's value */
};

struct jmem;

struct jval {
	uint8_t type, flags;
	size_t len; /* string bytes, array elements, object members */
	union {
		double d;
		const char *s;
		const struct jval *items; /* J_ARR */
		const struct jmem *mems;  /* J_OBJ */
	} u;
	uint64_t x; /* exact integer value of a number (see flags) */
};

struct jmem {
	const char *key;
	size_t klen;
	struct jval val;
};

struct chunk {
	struct chunk *next;
	size_t used, cap;
	max_align_t data[];
};

struct jdoc {
	struct chunk *chunks;
	struct jval root;
};

#define CHUNK_MIN ((size_t)16 << 10)
#define CHUNK_MAX ((size_t)1 << 20)

static void *arena_alloc(struct jdoc *d, size_t n)
{
	struct chunk *c = d->chunks;

	n = (n + 15) & ~(size_t)15;
	if (!c || c->cap - c->used < n) {
		size_t cap = c ? c->cap * 2 : CHUNK_MIN;
		if (cap > CHUNK_MAX)
			cap = CHUNK_MAX;
		if (cap < n)
			cap = n;
		struct chunk *nc = malloc(sizeof(*nc) + cap);
		if (!nc)
			return NULL;
		nc->used = 0;
		nc->cap = cap;
		/* a big block of its own goes behind the current chunk, which keeps its free space
		 */
		if (c && cap == n && c->cap - c->used > 256) {
			nc->next = c->next;
			c->next = nc;
			nc->used = n;
			return nc->data;
		}
		nc->next = c;
		d->chunks = nc;
		c = nc;
	}
	void *p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

void jdoc_free(struct jdoc *d)
{
	if (!d)
		return;
	for (struct chunk *c = d->chunks, *n; c; c = n) {
		n = c->next;
		free(c);
	}
	free(d);
}

const struct jval *jdoc_root(const struct jdoc *d)
{
	return d ? &d->root : NULL;
}

/* ---- the parser ---- */

struct frame {
	uint8_t type; /* J_ARR or J_OBJ */
	size_t base;  /* its first pending value in p->stk */
	const char *key;
	size_t klen; /* the key of the member being parsed (objects) */
};

struct parser {
	const unsigned char *start, *p, *end;
	struct jdoc *doc;
	struct jmem *stk;
	size_t nstk, capstk;
	struct frame fr[JPARSE_MAX_DEPTH];
	int depth;
	char *err;
	size_t errlen;
};

static int fail(struct parser *p, const unsigned char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "LINE:COL: message"; columns count UTF-8 sequences (bytes that are not continuation bytes) */
static int fail(struct parser *p, const unsigned char *at, const char *fmt, ...)
{
	unsigned long line = 1, col = 1;
	va_list ap;

	if (!p->errlen)
		return -1;
	for (const unsigned char *q = p->start; q < at; q++) {
		if (*q == '\n') {
			line++;
			col = 1;
		} else if ((*q & 0xc0) != 0x80) {
			col++;
		}
	}
	int n = snprintf(p->err, p->errlen, "%lu:%lu: ", line, col);
	if (n >= 0 && (size_t)n < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int oom(struct parser *p)
{
	return fail(p, p->p, "out of memory");
}

/* what is at `at`, for a message: 'x', byte 0xNN, or end of input */
static const char *what(struct parser *p, const unsigned char *at, char buf[24])
{
	if (at >= p->end)
		return "end of input";
	if (*at >= 0x21 && *at < 0x7f)
		snprintf(buf, 24, "'%c'", *at);
	else if (*at == ' ' || *at == '\t' || *at == '\n' || *at == '\r')
		snprintf(buf, 24, "whitespace");
	else if (*at == 0xef && p->end - at >= 3 && at[1] == 0xbb && at[2] == 0xbf)
		snprintf(buf, 24, "a byte order mark");
	else
		snprintf(buf, 24, "byte 0x%02x", *at);
	return buf;
}

static void skip_ws(struct parser *p)
{
	while (p->p < p->end && (*p->p == ' ' || *p->p == '\t' || *p->p == '\n' || *p->p == '\r'))
		p->p++;
}

static int hex4(const unsigned char *s, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned c = s[i], h;
		if (c >= '0' && c <= '9')
			h = c - '0';
		else if (c >= 'a' && c <= 'f')
			h = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			h = c - 'A' + 10;
		else
			return -1;
		v = v << 4 | h;
	}
	*out = v;
	return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Length of the valid UTF-8 sequence at s (RFC 3629 table), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, const unsigned char *end)
{
	unsigned c = s[0];
	size_t n;
	unsigned lo = 0x80, hi = 0xbf; /* range of the second byte */

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* past U+10FFFF */
	} else {
		return 0;
	}
	if ((size_t)(end - s) < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* p->p is at the opening quote. Decodes into the arena; on success p->p is past the closing
 * quote. */
static int parse_string(struct parser *p, const char **out, size_t *outlen, bool *has_nul)
{
	const unsigned char *s = p->p + 1, *q = s;

	/* find the closing quote to size the output: decoding never makes a string longer */
	while (q < p->end && *q != '"') {
		if (*q == '\\' && p->end - q < 2)
			q = p->end;
		else
			q += *q == '\\' ? 2 : 1;
	}
	if (q >= p->end)
		return fail(p, p->p, "unterminated string");
	char *o = arena_alloc(p->doc, (size_t)(q - s) + 1), *o0 = o;
	if (!o)
		return oom(p);
	*has_nul = false;
	while (s < q) {
		unsigned c = *s;
		if (c == '\\') {
			unsigned cp, lo;
			switch (s[1]) {
			case '"':
			case '\\':
			case '/':
				*o++ = (char)s[1];
				break;
			case 'b':
				*o++ = '\b';
				break;
			case 'f':
				*o++ = '\f';
				break;
			case 'n':
				*o++ = '\n';
				break;
			case 'r':
				*o++ = '\r';
				break;
			case 't':
				*o++ = '\t';
				break;
			case 'u':
				if (q - s < 6 || hex4(s + 2, &cp) < 0)
					return fail(p, s,
						    "invalid \\u escape (4 hex digits expected)");
				if (cp >= 0xdc00 && cp <= 0xdfff)
					return fail(p, s, "lone low surrogate \\u%04x", cp);
				if (cp >= 0xd800 && cp <= 0xdbff) {
					if (q - s < 12 || s[6] != '\\' || s[7] != 'u' ||
					    hex4(s + 8, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
						return fail(p, s, "lone high surrogate \\u%04x",
							    cp);
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					s += 6;
				}
				if (cp == 0)
					*has_nul = true;
				o += put_utf8(o, cp);
				s += 4;
				break;
			default:
				if (s + 1 >= q)
					return fail(p, s, "unterminated string");
				char b[24];
				return fail(p, s, "invalid escape \\ followed by %s",
					    what(p, s + 1, b));
			}
			s += 2;
			continue;
		}
		if (c < 0x20)
			return fail(p, s, "control character 0x%02x in a string (must be escaped)",
				    c);
		size_t n = utf8_seq(s, q);
		if (!n)
			return fail(p, s, "invalid UTF-8 (byte 0x%02x)", c);
		memcpy(o, s, n);
		o += n;
		s += n;
	}
	*o = 0;
	*out = o0;
	*outlen = (size_t)(o - o0);
	p->p = q + 1;
	return 0;
}

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
	c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* The exact integer value of a number from its digits: D = digits of the integer and fraction
 * parts, E = exponent minus the fraction digits; integral iff D * 10^E has no fraction. */
static void exact(struct jval *v, bool neg, const unsigned char *ip, size_t ni,
		  const unsigned char *fp, size_t nf, long long e)
{
	unsigned char dig[48];
	size_t nd = 0, lead = 0;
	/* leading zeros of the integer part never matter; the digits are ip[0..ni) fp[0..nf) */
	size_t total = ni + nf;
#define DIGIT(k) ((k) < ni ? ip[(k)] : fp[(k)-ni])
	while (lead < total && DIGIT(lead) == '0')
		lead++;
	size_t last = total; /* trailing zeros shift into the exponent */
	while (last > lead && DIGIT(last - 1) == '0')
		last--;
	e -= (long long)nf;
	e += (long long)(total - last);
	if (last == lead) { /* zero, however spelled */
		v->flags |= JF_INT | JF_UINT;
		v->x = 0;
		return;
	}
	if (e < 0 || (long long)(last - lead) + e > 20)
		return; /* a fraction, or more than 20 digits: past UINT64_MAX */
	for (size_t k = lead; k < last; k++)
		dig[nd++] = DIGIT(k);
#undef DIGIT
	uint64_t u = 0;
	for (size_t k = 0; k < nd + (size_t)e; k++) {
		unsigned d = k < nd ? dig[k] - '0' : 0;
		if (u > (UINT64_MAX - d) / 10)
			return;
		u = u * 10 + d;
	}
	if (!neg) {
		v->flags |= JF_UINT;
		if (u <= (uint64_t)INT64_MAX)
			v->flags |= JF_INT;
		v->x = u;
	} else if (u <= (uint64_t)INT64_MAX + 1) {
		v->flags |= JF_INT;
		v->x = (uint64_t)0 - u; /* two's complement of -u */
	}
}

static int parse_number(struct parser *p, struct jval *v)
{
	const unsigned char *s = p->p, *q = s, *ip, *fp = NULL;
	size_t ni, nf = 0;
	bool neg = false, eneg = false;
	long long e = 0;
	char b[24];

	if (*q == '-') {
		neg = true;
		q++;
	}
	ip = q;
	if (q >= p->end || *q < '0' || *q > '9')
		return fail(p, q, "digit expected after '-', got %s", what(p, q, b));
	if (*q == '0') {
		q++;
		if (q < p->end && *q >= '0' && *q <= '9')
			return fail(p, q, "leading zero in a number");
	} else {
		while (q < p->end && *q >= '0' && *q <= '9')
			q++;
	}
	ni = (size_t)(q - ip);
	if (q < p->end && *q == '.') {
		fp = ++q;
		while (q < p->end && *q >= '0' && *q <= '9')
			q++;
		nf = (size_t)(q - fp);
		if (!nf)
			return fail(p, q, "digit expected after '.', got %s", what(p, q, b));
	}
	if (q < p->end && (*q == 'e' || *q == 'E')) {
		q++;
		if (q < p->end && (*q == '+' || *q == '-'))
			eneg = *q++ == '-';
		if (q >= p->end || *q < '0' || *q > '9')
			return fail(p, q, "digit expected in the exponent, got %s", what(p, q, b));
		while (q < p->end && *q >= '0' && *q <= '9') {
			if (e < 1000000000)
				e = e * 10 + (*q - '0');
			q++;
		}
		if (eneg)
			e = -e;
	}

	char small[64], *t = small;
	size_t n = (size_t)(q - s);
	if (n >= sizeof(small) && !(t = malloc(n + 1)))
		return oom(p);
	memcpy(t, s, n);
	t[n] = 0;
	pthread_once(&c_locale_once, c_locale_init);
	errno = 0;
	double d = c_locale ? strtod_l(t, NULL, c_locale) : strtod(t, NULL);
	int er = errno;
	if (t != small)
		free(t);
	if (er == ERANGE && isinf(d))
		return fail(p, s, "number out of range");
	v->type = J_NUM;
	v->flags = 0;
	v->u.d = d;
	exact(v, neg, ip, ni, fp, nf, e);
	p->p = q;
	return 0;
}

static int literal(struct parser *p, const char *word, size_t n)
{
	if ((size_t)(p->end - p->p) < n || memcmp(p->p, word, n) != 0) {
		size_t k = 0;
		while (p->p + k < p->end && k < n && p->p[k] == (unsigned char)word[k])
			k++;
		char b[24];
		return fail(p, p->p + k, "invalid literal: '%s' expected, got %s", word,
			    what(p, p->p + k, b));
	}
	p->p += n;
	return 0;
}

static int push(struct parser *p, const struct jval *v)
{
	if (p->nstk == p->capstk) {
		size_t cap = p->capstk ? p->capstk * 2 : 64;
		struct jmem *n = realloc(p->stk, cap * sizeof(*n));
		if (!n)
			return oom(p);
		p->stk = n;
		p->capstk = cap;
	}
	struct jmem *m = &p->stk[p->nstk++];
	struct frame *f = &p->fr[p->depth - 1];
	m->key = f->key;
	m->klen = f->klen;
	m->val = *v;
	return 0;
}

/* closes the innermost container into v */
static int close_frame(struct parser *p, struct jval *v)
{
	struct frame *f = &p->fr[--p->depth];
	size_t n = p->nstk - f->base;

	memset(v, 0, sizeof(*v));
	v->type = f->type;
	v->len = n;
	if (n && f->type == J_ARR) {
		struct jval *items = arena_alloc(p->doc, n * sizeof(*items));
		if (!items)
			return oom(p);
		for (size_t i = 0; i < n; i++)
			items[i] = p->stk[f->base + i].val;
		v->u.items = items;
	} else if (n) {
		struct jmem *m = arena_alloc(p->doc, n * sizeof(*m));
		if (!m)
			return oom(p);
		memcpy(m, p->stk + f->base, n * sizeof(*m));
		v->u.mems = m;
	}
	p->nstk = f->base;
	p->p++;
	return 0;
}

/* after '{' or ',' in an object: the key, the colon */
static int member_key(struct parser *p)
{
	struct frame *f = &p->fr[p->depth - 1];
	bool nul;
	char b[24];

	skip_ws(p);
	if (p->p >= p->end || *p->p != '"')
		return fail(p, p->p, "object key (a string) expected, got %s", what(p, p->p, b));
	if (parse_string(p, &f->key, &f->klen, &nul) < 0)
		return -1;
	skip_ws(p);
	if (p->p >= p->end || *p->p != ':')
		return fail(p, p->p, "':' expected after an object key, got %s", what(p, p->p, b));
	p->p++;
	return 0;
}

static int open_frame(struct parser *p, uint8_t type)
{
	if (p->depth >= JPARSE_MAX_DEPTH)
		return fail(p, p->p, "nesting deeper than %d levels", JPARSE_MAX_DEPTH);
	struct frame *f = &p->fr[p->depth++];
	f->type = type;
	f->base = p->nstk;
	f->key = NULL;
	f->klen = 0;
	p->p++;
	return 0;
}

static int parse(struct parser *p)
{
	struct jval v;
	char b[24];

	skip_ws(p);
	if (p->p >= p->end)
		return fail(p, p->p, "empty document");
	for (;;) {
		/* a value starts here */
		skip_ws(p);
		if (p->p >= p->end)
			return fail(p, p->p, "unexpected end of input, a value expected");
		memset(&v, 0, sizeof(v));
		switch (*p->p) {
		case '{':
			if (open_frame(p, J_OBJ) < 0)
				return -1;
			skip_ws(p);
			if (p->p < p->end && *p->p == '}') {
				if (close_frame(p, &v) < 0)
					return -1;
				break;
			}
			if (member_key(p) < 0)
				return -1;
			continue;
		case '[':
			if (open_frame(p, J_ARR) < 0)
				return -1;
			skip_ws(p);
			if (p->p < p->end && *p->p == ']') {
				if (close_frame(p, &v) < 0)
					return -1;
				break;
			}
			continue;
		case '"': {
			bool nul;
			v.type = J_STR;
			if (parse_string(p, &v.u.s, &v.len, &nul) < 0)
				return -1;
			v.flags = nul ? JF_NUL : 0;
			break;
		}
		case 't':
			if (literal(p, "true", 4) < 0)
				return -1;
			v.type = J_BOOL;
			v.flags = JF_TRUE;
			break;
		case 'f':
			if (literal(p, "false", 5) < 0)
				return -1;
			v.type = J_BOOL;
			break;
		case 'n':
			if (literal(p, "null", 4) < 0)
				return -1;
			v.type = J_NULL;
			break;
		default:
			if (*p->p == '-' || (*p->p >= '0' && *p->p <= '9')) {
				if (parse_number(p, &v) < 0)
					return -1;
				break;
			}
			return fail(p, p->p, "a value expected, got %s", what(p, p->p, b));
		}
		/* v is complete: hand it to its container, closing containers as they end */
		for (;;) {
			if (p->depth == 0) {
				p->doc->root = v;
				skip_ws(p);
				if (p->p < p->end)
					return fail(p, p->p, "%s after the document",
						    what(p, p->p, b));
				return 0;
			}
			if (push(p, &v) < 0)
				return -1;
			skip_ws(p);
			struct frame *f = &p->fr[p->depth - 1];
			char close = f->type == J_ARR ? ']' : '}';
			if (p->p < p->end && *p->p == ',') {
				p->p++;
				if (f->type == J_OBJ && member_key(p) < 0)
					return -1;
				break; /* the next value */
			}
			if (p->p < p->end && *p->p == close) {
				if (close_frame(p, &v) < 0)
					return -1;
				continue;
			}
			return fail(p, p->p, "',' or '%c' expected after %s, got %s", close,
				    f->type == J_ARR ? "an array element" : "an object member",
				    what(p, p->p, b));
		}
	}
}

struct jdoc *jparse(const char *buf, size_t len, char *err, size_t errlen)
{
	struct parser p = {
	    .start = (const unsigned char *)buf,
	    .p = (const unsigned char *)buf,
	    .end = (const unsigned char *)buf + len,
	    .err = err,
	    .errlen = errlen,
	};

	if (errlen)
		err[0] = 0;
	if (!buf)
		p.start = p.p = p.end = (const unsigned char *)"";
	p.doc = calloc(1, sizeof(*p.doc));
	if (!p.doc) {
		if (errlen)
			snprintf(err, errlen, "out of memory");
		return NULL;
	}
	int r = parse(&p);
	free(p.stk);
	if (r < 0) {
		jdoc_free(p.doc);
		return NULL;
	}
	return p.doc;
}

/* ---- accessors ---- */

enum jtype jv_type(const struct jval *v)
{
	return v ? (enum jtype)v->type : J_NONE;
}

const char *jv_typename(enum jtype t)
{
	switch (t) {
	case J_NULL:
		return "null";
	case J_BOOL:
		return "boolean";
	case J_NUM:
		return "number";
	case J_STR:
		return "string";
	case J_ARR:
		return "array";
	case J_OBJ:
		return "object";
	case J_NONE:
		break;
	}
	return "none";
}

size_t jv_len(const struct jval *v)
{
	if (!v || (v->type != J_STR && v->type != J_ARR && v->type != J_OBJ))
		return 0;
	return v->len;
}

const struct jval *jv_at(const struct jval *v, size_t i)
{
	if (!v || i >= v->len)
		return NULL;
	if (v->type == J_ARR)
		return &v->u.items[i];
	if (v->type == J_OBJ)
		return &v->u.mems[i].val;
	return NULL;
}

const char *jv_key(const struct jval *obj, size_t i)
{
	if (!obj || obj->type != J_OBJ || i >= obj->len)
		return NULL;
	return obj->u.mems[i].key;
}

const char *jv_keyn(const struct jval *obj, size_t i, size_t *len)
{
	if (!obj || obj->type != J_OBJ || i >= obj->len)
		return NULL;
	if (len)
		*len = obj->u.mems[i].klen;
	return obj->u.mems[i].key;
}

const struct jval *jv_get(const struct jval *obj, const char *key)
{
	if (!obj || obj->type != J_OBJ || !key)
		return NULL;
	size_t kl = strlen(key);
	for (size_t i = obj->len; i-- > 0;) {
		const struct jmem *m = &obj->u.mems[i];
		if (m->klen == kl && memcmp(m->key, key, kl) == 0)
			return &m->val;
	}
	return NULL;
}

const char *jv_str(const struct jval *v)
{
	if (!v || v->type != J_STR || (v->flags & JF_NUL))
		return NULL;
	return v->u.s;
}

const char *jv_strn(const struct jval *v, size_t *len)
{
	if (!v || v->type != J_STR)
		return NULL;
	if (len)
		*len = v->len;
	return v->u.s;
}

double jv_num(const struct jval *v)
{
	return v && v->type == J_NUM ? v->u.d : NAN;
}

bool jv_int(const struct jval *v, int64_t *out)
{
	if (!v || v->type != J_NUM || !(v->flags & JF_INT))
		return false;
	*out = (int64_t)v->x;
	return true;
}

bool jv_uint(const struct jval *v, uint64_t *out)
{
	if (!v || v->type != J_NUM || !(v->flags & JF_UINT))
		return false;
	*out = v->x;
	return true;
}

int jv_bool(const struct jval *v)
{
	if (!v || v->type != J_BOOL)
		return -1;
	return (v->flags & JF_TRUE) ? 1 : 0;
}

bool jutf8_valid(const void *s, size_t len)
{
	const unsigned char *p = s, *end = p + len;

	while (p < end) {
		size_t n = utf8_seq(p, end);
		if (!n)
			return false;
		p += n;
	}
	return true;
}

size_t jv_write(const struct jval *v, struct json *j)
{
	size_t n = 0;

	switch (jv_type(v)) {
	case J_BOOL:
		json_bool(j, jv_bool(v) > 0);
		break;
	case J_NUM: {
		uint64_t u;
		int64_t i;
		if (jv_uint(v, &u))
			json_u64(j, u);
		else if (jv_int(v, &i))
			json_i64(j, i);
		else
			json_num(j, jv_num(v));
		break;
	}
	case J_STR: {
		const char *s = jv_str(v);
		if (s) {
			json_str(j, s);
		} else {
			json_null(j);
			n = 1;
		}
		break;
	}
	case J_ARR:
		if (j->depth >=
		    JSON_DEPTH - 1) { /* deeper than the writer nests (the parser: 32) */
			json_null(j);
			return 1;
		}
		json_arr(j);
		for (size_t i = 0; i < jv_len(v); i++)
			n += jv_write(jv_at(v, i), j);
		json_aend(j);
		break;
	case J_OBJ:
		if (j->depth >= JSON_DEPTH - 1) {
			json_null(j);
			return 1;
		}
		json_obj(j);
		for (size_t i = 0; i < jv_len(v); i++) {
			const char *k = jv_key(v, i);
			json_key(j, k ? k : "");
			n += jv_write(jv_at(v, i), j);
		}
		json_end(j);
		break;
	case J_NULL:
	case J_NONE:
	default:
		json_null(j);
		break;
	}
	return n;
}
