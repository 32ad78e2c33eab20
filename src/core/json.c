/* json: streaming writer. Numbers are written with snprintf; doubles that are not finite become
 * null because JSON has no NaN or infinity. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

void json_init(struct json *j)
{
	memset(j, 0, sizeof(*j));
	j->first[0] = true;
}

void json_free(struct json *j)
{
	free(j->buf);
	memset(j, 0, sizeof(*j));
}

void json_reset(struct json *j)
{
	char *b = j->buf;
	size_t cap = j->cap;

	memset(j, 0, sizeof(*j));
	j->buf = b;
	j->cap = cap;
	j->first[0] = true;
	if (b)
		b[0] = 0;
}

static void put(struct json *j, const char *s, size_t n)
{
	if (j->len + n + 1 > j->cap) {
		size_t cap = j->cap ? j->cap : 256;
		while (cap < j->len + n + 1)
			cap *= 2;
		char *p = realloc(j->buf, cap);
		if (!p) {
			j->oom = true;
			return;
		}
		j->buf = p;
		j->cap = cap;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = 0;
}

/* comma before a value or key unless it is the first at this depth or follows a key */
static void sep(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (!j->first[j->depth])
		put(j, ",", 1);
	j->first[j->depth] = false;
}

static void open_(struct json *j, const char *c)
{
	sep(j);
	put(j, c, 1);
	if (j->depth < JSON_DEPTH - 1)
		j->depth++;
	j->first[j->depth] = true;
}

static void close_(struct json *j, const char *c)
{
	if (j->depth > 0)
		j->depth--;
	put(j, c, 1);
}

void json_obj(struct json *j)
{
	open_(j, "{");
}

void json_end(struct json *j)
{
	close_(j, "}");
}

void json_arr(struct json *j)
{
	open_(j, "[");
}

void json_aend(struct json *j)
{
	close_(j, "]");
}

static void str_(struct json *j, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t run = 0;

	put(j, "\"", 1);
	for (; p[run];) {
		unsigned char c = p[run];
		if (c >= 0x20 && c != '"' && c != '\\') {
			run++;
			continue;
		}
		put(j, (const char *)p, run);
		p += run;
		run = 0;
		char esc[7] = {'\\', 0};
		switch (c) {
		case '"':
			esc[1] = '"';
			break;
		case '\\':
			esc[1] = '\\';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
		}
		put(j, esc, strlen(esc));
		p++;
	}
	put(j, (const char *)p, run);
	put(j, "\"", 1);
}

void json_key(struct json *j, const char *k)
{
	sep(j);
	str_(j, k);
	put(j, ":", 1);
	j->after_key = true;
}

void json_str(struct json *j, const char *s)
{
	sep(j);
	if (!s) {
		put(j, "null", 4);
		return;
	}
	str_(j, s);
}

void json_u64(struct json *j, uint64_t v)
{
	char b[24];
	sep(j);
	put(j, b, (size_t)snprintf(b, sizeof(b), "%llu", (unsigned long long)v));
}

void json_i64(struct json *j, int64_t v)
{
	char b[24];
	sep(j);
	put(j, b, (size_t)snprintf(b, sizeof(b), "%lld", (long long)v));
}

void json_dbl(struct json *j, double v, int decimals)
{
	char b[64];
	sep(j);
	if (!isfinite(v)) {
		put(j, "null", 4);
		return;
	}
	put(j, b, (size_t)snprintf(b, sizeof(b), "%.*f", decimals, v));
}

void json_num(struct json *j, double v)
{
	char b[64];
	int n;

	sep(j);
	if (!isfinite(v)) {
		put(j, "null", 4);
		return;
	}
	/* the shortest of %.15g..%.17g that reads back as the same double */
	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(b, sizeof(b), "%.*g", prec, v);
		if (strtod(b, NULL) == v)
			break;
	}
	put(j, b, (size_t)n);
}

void json_bool(struct json *j, bool v)
{
	sep(j);
	put(j, v ? "true" : "false", v ? 4 : 5);
}

void json_null(struct json *j)
{
	sep(j);
	put(j, "null", 4);
}

void json_raw(struct json *j, const char *s)
{
	put(j, s, strlen(s));
}
