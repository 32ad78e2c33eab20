/* fuzz_json: the JSON parser (src/core/jparse.c). For any input:
 * - it agrees with a second, independent validator (recursive descent, written from RFC 8259 and
 *   RFC 3629 here) on whether the input is JSON;
 * - an error is one non-empty line "LINE:COL: message";
 * - what parses prints (faithfully: %.17g, exact integers, every string byte) to a text that
 *   parses to the same document and, from then on, prints the same; lookups find the last
 *   duplicate;
 * - the input taken as a string and written by src/core/json.h reads back as that string. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jparse.h"
#include "core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the reference validator ---- */

struct ref {
	const uint8_t *p, *end;
};

static void ws(struct ref *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static int ishex(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static unsigned hexv(const uint8_t *s)
{
	char b[5] = {(char)s[0], (char)s[1], (char)s[2], (char)s[3], 0};
	return (unsigned)strtoul(b, NULL, 16);
}

/* one UTF-8 character by decoding it: 0 if invalid */
static size_t utf8_char(const uint8_t *s, const uint8_t *end)
{
	uint32_t cp;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	else if ((s[0] & 0xe0) == 0xc0)
		n = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if ((size_t)(end - s) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
	if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static int rstring(struct ref *r)
{
	r->p++;
	while (r->p < r->end) {
		uint8_t c = *r->p;
		if (c == '"') {
			r->p++;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c == '\\') {
			if (r->end - r->p < 2)
				return -1;
			uint8_t e = r->p[1];
			if (strchr("\"\\/bfnrt", e) && e) {
				r->p += 2;
				continue;
			}
			if (e != 'u' || r->end - r->p < 6 || !ishex(r->p[2]) || !ishex(r->p[3]) ||
			    !ishex(r->p[4]) || !ishex(r->p[5]))
				return -1;
			unsigned u = hexv(r->p + 2);
			r->p += 6;
			if (u >= 0xdc00 && u <= 0xdfff)
				return -1;
			if (u >= 0xd800 && u <= 0xdbff) {
				if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u' ||
				    !ishex(r->p[2]) || !ishex(r->p[3]) || !ishex(r->p[4]) ||
				    !ishex(r->p[5]))
					return -1;
				unsigned lo = hexv(r->p + 2);
				if (lo < 0xdc00 || lo > 0xdfff)
					return -1;
				r->p += 6;
			}
			continue;
		}
		size_t n = utf8_char(r->p, r->end);
		if (!n)
			return -1;
		r->p += n;
	}
	return -1;
}

static int digits(struct ref *r)
{
	const uint8_t *s = r->p;
	while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
		r->p++;
	return r->p > s ? 0 : -1;
}

static int rnumber(struct ref *r)
{
	const uint8_t *s = r->p;
	if (*r->p == '-')
		r->p++;
	if (r->p < r->end && *r->p == '0')
		r->p++;
	else if (digits(r) < 0)
		return -1;
	if (r->p < r->end && *r->p == '.') {
		r->p++;
		if (digits(r) < 0)
			return -1;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (digits(r) < 0)
			return -1;
	}
	char *t = malloc((size_t)(r->p - s) + 1);
	if (!t)
		abort();
	memcpy(t, s, (size_t)(r->p - s));
	t[r->p - s] = 0;
	errno = 0;
	double d = strtod(t, NULL);
	free(t);
	return isinf(d) ? -1 : 0;
}

static int rvalue(struct ref *r, int depth)
{
	ws(r);
	if (r->p >= r->end)
		return -1;
	switch (*r->p) {
	case '[':
	case '{': {
		uint8_t close = *r->p == '[' ? ']' : '}';
		if (depth >= JPARSE_MAX_DEPTH)
			return -1;
		r->p++;
		ws(r);
		if (r->p < r->end && *r->p == close) {
			r->p++;
			return 0;
		}
		for (;;) {
			if (close == '}') {
				ws(r);
				if (r->p >= r->end || *r->p != '"' || rstring(r) < 0)
					return -1;
				ws(r);
				if (r->p >= r->end || *r->p++ != ':')
					return -1;
			}
			if (rvalue(r, depth + 1) < 0)
				return -1;
			ws(r);
			if (r->p >= r->end)
				return -1;
			if (*r->p == close) {
				r->p++;
				return 0;
			}
			if (*r->p++ != ',')
				return -1;
		}
	}
	case '"':
		return rstring(r);
	case 't':
	case 'f':
	case 'n': {
		const char *w = *r->p == 't' ? "true" : *r->p == 'f' ? "false" : "null";
		size_t n = strlen(w);
		if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n))
			return -1;
		r->p += n;
		return 0;
	}
	default:
		if (*r->p == '-' || (*r->p >= '0' && *r->p <= '9'))
			return rnumber(r);
		return -1;
	}
}

static int ref_valid(const uint8_t *data, size_t size)
{
	struct ref r = {data, data + size};
	if (rvalue(&r, 0) < 0)
		return 0;
	ws(&r);
	return r.p == r.end;
}

/* ---- printing and comparing documents ---- */

static void sput(struct json *s, const char *p, size_t n)
{
	char *t = malloc(n + 1);
	if (!t)
		abort();
	memcpy(t, p, n);
	t[n] = 0;
	json_raw(s, t);
	free(t);
}

static void sstr(struct json *s, const char *p, size_t n)
{
	sput(s, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		char e[8];
		if (c == '"' || c == '\\') {
			e[0] = '\\';
			e[1] = (char)c;
			sput(s, e, 2);
		} else if (c < 0x20) {
			snprintf(e, sizeof(e), "\\u%04x", c);
			sput(s, e, 6);
		} else {
			sput(s, &p[i], 1);
		}
	}
	sput(s, "\"", 1);
}

static void dump(struct json *s, const struct jval *v)
{
	char b[40];
	int64_t i;
	uint64_t u;
	size_t n;
	const char *str;

	switch (jv_type(v)) {
	case J_NULL:
		sput(s, "null", 4);
		break;
	case J_BOOL:
		sput(s, jv_bool(v) ? "true" : "false", jv_bool(v) ? 4 : 5);
		break;
	case J_NUM:
		if (jv_uint(v, &u))
			snprintf(b, sizeof(b), "%llu", (unsigned long long)u);
		else if (jv_int(v, &i))
			snprintf(b, sizeof(b), "%lld", (long long)i);
		else
			snprintf(b, sizeof(b), "%.17g", jv_num(v));
		sput(s, b, strlen(b));
		break;
	case J_STR:
		str = jv_strn(v, &n);
		sstr(s, str, n);
		break;
	case J_ARR:
	case J_OBJ:
		sput(s, jv_type(v) == J_ARR ? "[" : "{", 1);
		for (size_t k = 0; k < jv_len(v); k++) {
			if (k)
				sput(s, ",", 1);
			if (jv_type(v) == J_OBJ) {
				const char *key = jv_keyn(v, k, &n);
				sstr(s, key, n);
				sput(s, ":", 1);
			}
			dump(s, jv_at(v, k));
		}
		sput(s, jv_type(v) == J_ARR ? "]" : "}", 1);
		break;
	case J_NONE:
		abort();
	}
}

/* a and b are the same document; b came from printing a, so keys may be cut at U+0000 */
static void same(const struct jval *a, const struct jval *b)
{
	int64_t i1, i2;
	uint64_t u1, u2;
	size_t n1, n2;

	if (jv_type(a) != jv_type(b))
		abort();
	switch (jv_type(a)) {
	case J_BOOL:
		if (jv_bool(a) != jv_bool(b))
			abort();
		break;
	case J_NUM:
		if (jv_num(a) != jv_num(b) && !(isnan(jv_num(a)) && isnan(jv_num(b))))
			abort();
		if (isnan(jv_num(a)) || isinf(jv_num(a)))
			abort();
		/* exact stays exact; a fraction may print as an integer once rounded */
		if (jv_int(a, &i1) && (!jv_int(b, &i2) || i1 != i2))
			abort();
		if (jv_uint(a, &u1) && (!jv_uint(b, &u2) || u1 != u2))
			abort();
		if ((jv_int(a, &i1) || jv_uint(a, &u1)) && jv_num(a) != floor(jv_num(a)))
			abort();
		break;
	case J_STR: {
		const char *s1 = jv_strn(a, &n1), *s2 = jv_strn(b, &n2);
		if (n1 != n2 || memcmp(s1, s2, n1) || strlen(s1) > n1)
			abort();
		if ((jv_str(a) == NULL) != (memchr(s1, 0, n1) != NULL))
			abort();
		break;
	}
	case J_ARR:
	case J_OBJ:
		if (jv_len(a) != jv_len(b) || jv_at(a, jv_len(a)) || jv_key(a, jv_len(a)))
			abort();
		for (size_t k = 0; k < jv_len(a); k++) {
			if (jv_type(a) == J_OBJ) {
				size_t l1, l2;
				const char *k1 = jv_keyn(a, k, &l1), *k2 = jv_keyn(b, k, &l2);
				if (!k1 || !k2 || l1 != l2 || memcmp(k1, k2, l1) || k1[l1] ||
				    strlen(k1) > l1 || strcmp(jv_key(a, k), k1))
					abort();
				/* lookup finds the last member with this key (keys compare in
				 * full, so one holding U+0000 is found by no C string) */
				if (jv_len(a) <= 100 && strlen(k1) == l1) {
					const struct jval *want = NULL;
					for (size_t m = jv_len(a); m-- > 0 && !want;) {
						size_t lm;
						const char *km = jv_keyn(a, m, &lm);
						if (lm == l1 && !memcmp(km, k1, l1))
							want = jv_at(a, m);
					}
					if (jv_get(a, k1) != want)
						abort();
				}
			} else if (jv_key(a, k)) {
				abort();
			}
			same(jv_at(a, k), jv_at(b, k));
		}
		break;
	case J_NULL:
		break;
	case J_NONE:
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct jdoc *d = jparse((const char *)data, size, err, sizeof(err));
	int valid = ref_valid(data, size);

	if (!d != !valid) {
		fprintf(stderr, "jparse %s, the reference says %s: %s\n", d ? "accepts" : "rejects",
			valid ? "valid" : "invalid", d ? "" : err);
		abort();
	}
	if (!d) {
		unsigned long l, c;
		int n = 0;
		if (sscanf(err, "%lu:%lu: %n", &l, &c, &n) != 2 || !n || !err[n] ||
		    strchr(err, '\n') || l < 1 || c < 1)
			abort();
	} else {
		struct json a, b;
		json_init(&a);
		json_init(&b);
		dump(&a, jdoc_root(d));
		struct jdoc *d2 = jparse(a.buf, a.len, err, sizeof(err));
		if (!d2) {
			fprintf(stderr, "printed document does not parse: %s\n%s\n", err, a.buf);
			abort();
		}
		same(jdoc_root(d), jdoc_root(d2));
		/* printed once, stable: a fraction may print as an integer ("1.5e20" as
		 * "1.5e+20" is exact 150000000000000000000) and then stays one */
		dump(&b, jdoc_root(d2));
		struct jdoc *d3 = jparse(b.buf, b.len, err, sizeof(err));
		if (!d3)
			abort();
		same(jdoc_root(d2), jdoc_root(d3));
		json_reset(&a);
		dump(&a, jdoc_root(d3));
		if (a.len != b.len || memcmp(a.buf, b.buf, a.len)) {
			fprintf(stderr, "print is not stable:\n%s\n%s\n", b.buf, a.buf);
			abort();
		}
		json_free(&a);
		json_free(&b);
		jdoc_free(d3);
		jdoc_free(d2);
		jdoc_free(d);
	}

	/* the input as a string, through the writer: when it is UTF-8 without U+0000 */
	size_t k = 0;
	while (k < size && data[k]) {
		size_t n = utf8_char(data + k, data + size);
		if (!n)
			break;
		k += n;
	}
	if (k == size && size < 4096) {
		char *s = malloc(size + 1);
		struct json w;
		if (!s)
			abort();
		memcpy(s, data, size);
		s[size] = 0;
		json_init(&w);
		json_arr(&w);
		json_str(&w, s);
		json_aend(&w);
		d = jparse(w.buf, w.len, err, sizeof(err));
		if (!d || !jv_str(jv_at(jdoc_root(d), 0)) ||
		    strcmp(jv_str(jv_at(jdoc_root(d), 0)), s))
			abort();
		jdoc_free(d);
		json_free(&w);
		free(s);
	}
	return 0;
}
