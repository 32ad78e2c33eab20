/* Unit tests: the JSON parser (src/core/jparse.c). Accept and reject lists in the manner of
 * JSONTestSuite (y_ and n_ cases, with this parser's choices for the i_ ones), exact numbers,
 * string decoding, error positions, limits, and round trips with the writer (src/core/json.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jparse.h"
#include "core/json.h"
#include "t.h"

/* ---- a faithful serializer, for round trips: %.17g doubles, exact integers as such ---- */

struct sbuf {
	char *b;
	size_t len, cap;
};

static void sput(struct sbuf *s, const char *p, size_t n)
{
	if (s->len + n + 1 > s->cap) {
		s->cap = (s->len + n + 1) * 2;
		s->b = realloc(s->b, s->cap);
		if (!s->b)
			abort();
	}
	memcpy(s->b + s->len, p, n);
	s->len += n;
	s->b[s->len] = 0;
}

static void sstr(struct sbuf *s, const char *p, size_t n)
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
			sput(s, (const char *)&p[i], 1);
		}
	}
	sput(s, "\"", 1);
}

static void dump(struct sbuf *s, const struct jval *v)
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
		sput(s, "[", 1);
		for (size_t k = 0; k < jv_len(v); k++) {
			if (k)
				sput(s, ",", 1);
			dump(s, jv_at(v, k));
		}
		sput(s, "]", 1);
		break;
	case J_OBJ:
		sput(s, "{", 1);
		for (size_t k = 0; k < jv_len(v); k++) {
			if (k)
				sput(s, ",", 1);
			const char *key = jv_keyn(v, k, &n);
			sstr(s, key, n);
			sput(s, ":", 1);
			dump(s, jv_at(v, k));
		}
		sput(s, "}", 1);
		break;
	case J_NONE:
		abort();
	}
}

/* ---- accept and reject lists ---- */

static const char *const accept[] = {
    "[[]   ]",
    "[]",
    "[\"\"]",
    "[\"a\"]",
    "[false]",
    "[null, 1, \"1\", {}]",
    "[null]",
    "[1\n]",
    " [1]",
    "[1,null,null,null,2]",
    "[2] ",
    "[123e65]",
    "[0e+1]",
    "[0e1]",
    "[ 4]",
    "[-0.0000000000000000000000000000000000000000000000000000000000000000000000000001]\n",
    "[20e1]",
    "[-0]",
    "[-123]",
    "[-1]",
    "[1E22]",
    "[1E-2]",
    "[1E+2]",
    "[123e45]",
    "[123.456e78]",
    "[1e-2]",
    "[1e+2]",
    "[123]",
    "[123.456789]",
    "[1e-400]",
    "{\"asd\":\"sdf\", \"dfg\":\"fgh\"}",
    "{\"asd\":\"sdf\"}",
    "{\"a\":\"b\",\"a\":\"c\"}",
    "{\"a\":\"b\",\"a\":\"b\"}",
    "{}",
    "{\"\":0}",
    "{\"foo\\u0000bar\": 42}",
    "{ \"min\": -1.0e+28, \"max\": 1.0e+28 }",
    "{\"x\":[{\"id\": \"xxx\"}], \"id\": \"xxx\"}",
    "{\"a\":[]}",
    "{\"title\":\"\\u041f\\u043e\\u043b\\u0442\\u043e\\u0440\\u0430 \"}",
    "{\n\"a\": \"b\"\n}",
    "[\"\\u0060\\u012a\\u12AB\"]",
    "[\"\\uD801\\udc37\"]",
    "[\"\\ud83d\\ude39\\ud83d\\udc8d\"]",
    "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]",
    "[\"\\\\u0000\"]",
    "[\"\\\"\"]",
    "[\"a/*b*/c/*d//e\"]",
    "[\"\\\\a\"]",
    "[\"\\\\n\"]",
    "[\"\\u0012\"]",
    "[\"\\uFFFF\"]",
    "[\"asd\"]",
    "[ \"asd\"]",
    "[\"\\uDBFF\\uDFFF\"]",
    "[\"new\\u00A0line\"]",
    "[\"\\u0000\"]",
    "[\"\\u002c\"]",
    "[\"\xcf\x80\"]",
    "[\"\xf0\x9b\xbf\xbf\"]",
    "[\"asd \"]",
    "\" \"",
    "[\"\\uD834\\uDd1e\"]",
    "[\"\\u0821\"]",
    "[\"\\u0123\"]",
    "[\"\\u2028\"]",
    "[\"\\u2029\"]",
    "[\"\\u0061\\u30af\\u30EA\\u30b9\"]",
    "[\"new\\u000Aline\"]",
    "[\"\x7f\"]",
    "[\"\\uA66D\"]",
    "[\"\\u005C\"]",
    "[\"\xe2\x8d\x82\xe3\x88\xb4\xe2\x8d\x82\"]",
    "[\"\\uDBFF\\uDFFE\"]",
    "[\"\\uD83F\\uDFFE\"]",
    "[\"\\u200B\"]",
    "[\"\\uFDD0\"]",
    "[\"\\uFFFE\"]",
    "[\"\\u0022\"]",
    "[\"\xe2\x82\xac\xf0\x9d\x84\x9e\"]",
    "[\"\xef\xbf\xbf\"]",
    "[\"\xf4\x8f\xbf\xbf\"]",
    "[\"\xed\x9f\xbf\"]",
    "[\"\xee\x80\x80\"]",
    "false",
    "42",
    "-0.1",
    "null",
    "\"asd\"",
    "true",
    "\"\"",
    "[\"a\"]\n",
    "[true]",
    " [] ",
    "\t[\r\n1\t,\r2\n]\r\n",
    "{\"a\":{\"b\":{\"c\":[1,{\"d\":[]}]}}}",
};

static const char *const reject[] = {
    "",
    " ",
    "\n\t\r ",
    "[1 true]",
    "[a\xe5]",
    "[\"\": 1]",
    "[\"\"],",
    "[,1]",
    "[1,,2]",
    "[\"x\",,]",
    "[\"x\"]]",
    "[\"\",]",
    "[\"x\"",
    "[x",
    "[3[4]]",
    "[\xff]",
    "[1:2]",
    "[,]",
    "[-]",
    "[   , \"\"]",
    "[\"a\",\n4\n,1,",
    "[1,]",
    "[1,,]",
    "[\"\x0b\"]",
    "[*]",
    "[\"\"",
    "[1,",
    "[1,\n1\n,1",
    "[{}",
    "[fals]",
    "[nul]",
    "[tru]",
    "[nulll]",
    "truefalse",
    "nul",
    "[++1234]",
    "[+1]",
    "[+Inf]",
    "[-01]",
    "[-1.0.]",
    "[-2.]",
    "[-NaN]",
    "[.-1]",
    "[.2e-3]",
    "[0.1.2]",
    "[0.3e+]",
    "[0.3e]",
    "[0.e1]",
    "[0E+]",
    "[0E]",
    "[0e+]",
    "[0e]",
    "[1.0e+]",
    "[1.0e-]",
    "[1.0e]",
    "[1 000.0]",
    "[1eE2]",
    "[2.e+3]",
    "[2.e-3]",
    "[2.e3]",
    "[9.e+]",
    "[Inf]",
    "[NaN]",
    "[\xef\xbc\x91]",
    "[-foo]",
    "[- 1]",
    "[-012]",
    "[-.123]",
    "[-1x]",
    "[1ea]",
    "[1e\xe5]",
    "[1.]",
    "[.123]",
    "[1.2a-3]",
    "[1.8011670033376514H-308]",
    "[012]",
    "[0x1]",
    "[0x42]",
    "[Infinity]",
    "[-Infinity]",
    "[0e+-1]",
    "[1+2]",
    "[1e400]",
    "[-1e400]",
    "[1.5e999999999999999999999]",
    "{[: \"x\"}",
    "{\"x\", null}",
    "{\"x\"::\"b\"}",
    "{\xf0\x9f\x87\xa8\xf0\x9f\x87\xad}",
    "{\"a\" b}",
    "{key: 'value'}",
    "{\"a\":\"a\" 123}",
    "{\"a\" 1}",
    "{\"a\":1 \"b\":1}",
    "{:\"b\"}",
    "{\"a\" \"b\"}",
    "{\"a\":}",
    "{\"a\"",
    "{\"a\":",
    "{\"a\":1",
    "{1:1}",
    "{9999E9999:1}",
    "{null:null,null:null}",
    "{\"id\":0,,,,,}",
    "{'a':0}",
    "{\"id\":0,}",
    "{\"a\":\"b\"}/**/",
    "{\"a\":\"b\"}//",
    "{\"a\":\"b\"}/",
    "{\"a\":\"b\",,\"c\":\"d\"}",
    "{a: \"b\"}",
    "{\"a\":\"a",
    "{ \"foo\" : \"bar\", \"a\" }",
    "{\"a\":\"b\"}#",
    "{\"a\":\"b\"}}",
    "{\"a\":true} \"x\"",
    "[\"\\uD800\\\"]",
    "[\"\\uD800\\u\"]",
    "[\"\\uD800\\u1\"]",
    "[\"\\uD800\\u1x\"]",
    "[\"\\uD800\"]",
    "[\"\\uDFFF\"]",
    "[\"\\uDC00\\uD800\"]",
    "[\"\\ud800\\ud800\\udc00\"]",
    "[\"\\ud834\\udd\"]",
    "[\"\\u00A\"]",
    "[\"\\uqqqq\"]",
    "{\"\\uD800\":1}",
    "[\xc3\xa9]",
    "[\"\\x00\"]",
    "[\"\\a\"]",
    "[\"\\'\"]",
    "[\"\\U0041\"]",
    "[\\u0020\"asd\"]",
    "[\\n]",
    "\"",
    "['single quote']",
    "abc",
    "[\"\\",
    "[\"\\\"",
    "[\"new\nline\"]",
    "[\"\t\"]",
    "[\"\x1f\"]",
    "\"\\UA66D\"",
    "\"\"x",
    "[\"\xe0\xff\"]",
    "[\"\xc0\xaf\"]",
    "[\"\xc1\xbf\"]",
    "[\"\xe0\x9f\xbf\"]",
    "[\"\xf0\x8f\xbf\xbf\"]",
    "[\"\xed\xa0\x80\"]",
    "[\"\xed\xbf\xbf\"]",
    "[\"\xf4\x90\x80\x80\"]",
    "[\"\xf5\x80\x80\x80\"]",
    "[\"\xff\"]",
    "[\"\x81\"]",
    "[\"\xfc\x80\x80\x80\x80\x80\"]",
    "[\"\xe9\"]",
    "[\"\xe2\x82\"]",
    "[\"\xf0\x9d\x84\"]",
    "[\"\xc3\x28\"]",
    "<.>",
    "[<null>]",
    "[1]x",
    "[1]]",
    "[\"asd]",
    "a\xc3\xa5",
    "[\"",
    "[",
    "{",
    "]",
    "}",
    ":",
    ",",
    "2 3",
    "null null",
    "[\"a\" \"b\"]",
    "\xef\xbb\xbf{}",
    "[\x0c]",
    "[1]\x0c",
    "[\xc2\xa0]",
    "'a'",
    "[True]",
    "[NULL]",
    "{\"a\":[}",
    "{\"a\":{]}",
    "[[[[[[[[[[[[[[]]]]]]]]]]]]]]]",
};

static void test_lists(void)
{
	char err[256];

	for (size_t i = 0; i < sizeof(accept) / sizeof(accept[0]); i++) {
		struct jdoc *d = jparse(accept[i], strlen(accept[i]), err, sizeof(err));
		CHECK(d != NULL);
		if (!d) {
			fprintf(stderr, "  should accept [%s]: %s\n", accept[i], err);
			continue;
		}
		CHECK_STR(err, "");
		/* round trip: dump, parse again, dump again: the same text */
		struct sbuf a = {0}, b = {0};
		dump(&a, jdoc_root(d));
		struct jdoc *d2 = jparse(a.b, a.len, err, sizeof(err));
		CHECK(d2 != NULL);
		if (d2) {
			dump(&b, jdoc_root(d2));
			CHECK_STR(a.b, b.b);
		}
		free(a.b);
		free(b.b);
		jdoc_free(d2);
		jdoc_free(d);
	}
	for (size_t i = 0; i < sizeof(reject) / sizeof(reject[0]); i++) {
		size_t len = strlen(reject[i]);
		struct jdoc *d = jparse(reject[i], len, err, sizeof(err));
		CHECK(d == NULL);
		if (d) {
			fprintf(stderr, "  should reject [%s]\n", reject[i]);
			jdoc_free(d);
			continue;
		}
		/* every error is "LINE:COL: message", one line */
		unsigned long l, c;
		int n = 0;
		CHECK(sscanf(err, "%lu:%lu: %n", &l, &c, &n) == 2 && n > 0 && err[n]);
		CHECK(strchr(err, '\n') == NULL);
		CHECK(l >= 1 && c >= 1);
	}
	/* NUL bytes in the input: never whitespace, never raw in a string */
	static const char nul1[] = "[\"a\"\0]", nul2[] = "[\"a\0\"]", nul3[] = "[1]\0";
	CHECK(jparse(nul1, sizeof(nul1) - 1, err, sizeof(err)) == NULL);
	CHECK(jparse(nul2, sizeof(nul2) - 1, err, sizeof(err)) == NULL);
	CHECK(jparse(nul3, sizeof(nul3) - 1, err, sizeof(err)) == NULL);
	/* a length that stops short of the text: only buf[0..len) is read */
	struct jdoc *d = jparse("[1]garbage", 3, err, sizeof(err));
	CHECK(d != NULL);
	jdoc_free(d);
	d = jparse("123", 2, err, sizeof(err));
	int64_t v = 0;
	CHECK(jv_int(jdoc_root(d), &v) && v == 12);
	jdoc_free(d);
	/* a NULL buffer of length 0, and no error buffer */
	CHECK(jparse(NULL, 0, err, sizeof(err)) == NULL);
	CHECK(jparse("[", 1, NULL, 0) == NULL);
	/* a tiny error buffer is truncated, not overrun */
	char tiny[4];
	CHECK(jparse("[x]", 3, tiny, sizeof(tiny)) == NULL);
	CHECK_STR(tiny, "1:2");
}

static struct jdoc *P(const char *s)
{
	char err[256];
	struct jdoc *d = jparse(s, strlen(s), err, sizeof(err));
	if (!d)
		fprintf(stderr, "  parse [%s]: %s\n", s, err);
	return d;
}

static const char *E(const char *s)
{
	static char err[256];
	struct jdoc *d = jparse(s, strlen(s), err, sizeof(err));
	if (d) {
		jdoc_free(d);
		return "(accepted)";
	}
	return err;
}

static void test_numbers(void)
{
	static const struct {
		const char *in;
		int has_int, has_uint;
		long long i;
		unsigned long long u;
		double d;
	} t[] = {
	    {"0", 1, 1, 0, 0, 0},
	    {"-0", 1, 1, 0, 0, -0.0},
	    {"-0.0e5", 1, 1, 0, 0, -0.0},
	    {"0.000e-7", 1, 1, 0, 0, 0},
	    {"1", 1, 1, 1, 1, 1},
	    {"-1", 1, 0, -1, 0, -1},
	    {"1e2", 1, 1, 100, 100, 100},
	    {"1E+2", 1, 1, 100, 100, 100},
	    {"1.5", 0, 0, 0, 0, 1.5},
	    {"-1.5", 0, 0, 0, 0, -1.5},
	    {"1.50e1", 1, 1, 15, 15, 15},
	    {"500e-2", 1, 1, 5, 5, 5},
	    {"0.5e1", 1, 1, 5, 5, 5},
	    {"5.0", 1, 1, 5, 5, 5},
	    {"501e-2", 0, 0, 0, 0, 5.01},
	    {"1e-2", 0, 0, 0, 0, 0.01},
	    {"9223372036854775807", 1, 1, INT64_MAX, INT64_MAX, 9223372036854775807.0},
	    {"9223372036854775808", 0, 1, 0, 9223372036854775808ull, 9223372036854775808.0},
	    {"-9223372036854775808", 1, 0, INT64_MIN, 0, -9223372036854775808.0},
	    {"-9223372036854775809", 0, 0, 0, 0, -9223372036854775808.0},
	    {"18446744073709551615", 0, 1, 0, UINT64_MAX, 18446744073709551615.0},
	    {"18446744073709551616", 0, 0, 0, 0, 18446744073709551616.0},
	    {"1844674407370955161.5e1", 0, 1, 0, 18446744073709551615ull, 18446744073709551615.0},
	    {"1e19", 0, 1, 0, 10000000000000000000ull, 1e19},
	    {"1e20", 0, 0, 0, 0, 1e20},
	    {"12345678901234567890000e-3", 0, 1, 0, 12345678901234567890ull,
	     12345678901234567890.0},
	    {"123456789012345678901234567890e-10", 0, 0, 0, 0, 12345678901234567890.123456789},
	    {"9007199254740993", 1, 1, 9007199254740993ll, 9007199254740993ull, 9007199254740992.0},
	    {"4503599627370496.5", 0, 0, 0, 0, 4503599627370496.0},
	    {"1e-400", 0, 0, 0, 0, 0},
	    {"2.2250738585072014e-308", 0, 0, 0, 0, 2.2250738585072014e-308},
	    {"1.7976931348623157e308", 0, 0, 0, 0, 1.7976931348623157e308},
	    {"-123.456e-7", 0, 0, 0, 0, -123.456e-7},
	    {"0.1", 0, 0, 0, 0, 0.1},
	    {"100", 1, 1, 100, 100, 100},
	    {"10000000000000000000000000000000000000000e-40", 1, 1, 1, 1, 1},
	};

	for (size_t k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		struct jdoc *d = P(t[k].in);
		CHECK(d != NULL);
		if (!d)
			continue;
		const struct jval *v = jdoc_root(d);
		int64_t i = 7;
		uint64_t u = 7;
		bool hi = jv_int(v, &i), hu = jv_uint(v, &u);
		CHECK_EQ(jv_type(v), J_NUM);
		CHECK_EQ(hi, t[k].has_int);
		CHECK_EQ(hu, t[k].has_uint);
		if (hi)
			CHECK(i == t[k].i);
		if (hu)
			CHECK(u == t[k].u);
		CHECK(jv_num(v) == t[k].d);
		CHECK(!!signbit(jv_num(v)) == !!signbit(t[k].d));
		if (hi != t[k].has_int || hu != t[k].has_uint || jv_num(v) != t[k].d)
			fprintf(stderr, "  number [%s]: int %d uint %d %.17g\n", t[k].in, hi, hu,
				jv_num(v));
		jdoc_free(d);
	}
	/* a long number goes through the heap */
	char big[3000] = "0.";
	memset(big + 2, '1', 2990);
	big[2992] = 0;
	struct jdoc *d = P(big);
	CHECK(d && fabs(jv_num(jdoc_root(d)) - 0.1111111111111111) < 1e-15);
	jdoc_free(d);
	memset(big, '0', 2999);
	big[0] = '1';
	big[2999] = 0;
	CHECK(strstr(E(big), "out of range") != NULL);
	memcpy(big + 400, "e-2998", 7); /* 1 and 399 zeros, times 10^-2998 */
	d = P(big);
	CHECK(d && jv_num(jdoc_root(d)) == 0);
	int64_t i;
	CHECK(d && !jv_int(jdoc_root(d), &i));
	jdoc_free(d);
	/* non-numbers */
	d = P("\"5\"");
	uint64_t u;
	CHECK(isnan(jv_num(jdoc_root(d))));
	CHECK(!jv_int(jdoc_root(d), &i));
	CHECK(!jv_uint(jdoc_root(d), &u));
	CHECK(isnan(jv_num(NULL)));
	jdoc_free(d);
}

static void test_strings(void)
{
	struct jdoc *d =
	    P("[\"\\u00e9\\u20ac\\ud83d\\ude00\\/\\b\\f\\n\\r\\t\\\"\\\\\", \"\xc3\xa9\","
	      " \"a\\u0000b\", \"\"]");
	const struct jval *r = jdoc_root(d);
	size_t n = 0;

	CHECK(d != NULL);
	CHECK_EQ(jv_type(r), J_ARR);
	CHECK_EQ(jv_len(r), 4);
	CHECK_STR(jv_str(jv_at(r, 0)), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80/\b\f\n\r\t\"\\");
	CHECK_EQ(jv_len(jv_at(r, 0)), 2 + 3 + 4 + 8);
	CHECK_STR(jv_str(jv_at(r, 1)), "\xc3\xa9");
	/* a string with U+0000: no C string, but its bytes */
	CHECK(jv_str(jv_at(r, 2)) == NULL);
	const char *s = jv_strn(jv_at(r, 2), &n);
	CHECK(s && n == 3 && memcmp(s, "a\0b", 3) == 0);
	CHECK_STR(jv_str(jv_at(r, 3)), "");
	CHECK(jv_strn(jv_at(r, 3), NULL) != NULL);
	CHECK(jv_str(r) == NULL);
	CHECK(jv_strn(r, &n) == NULL);
	CHECK(jv_at(r, 4) == NULL);
	CHECK(jv_at(jv_at(r, 0), 0) == NULL);
	jdoc_free(d);

	/* escapes in keys decode too, and keys with U+0000 match no C string */
	d = P("{\"k\\u00e9y\":1, \"a\\u0000b\":2, \"a\":3}");
	r = jdoc_root(d);
	int64_t v = 0;
	CHECK(jv_int(jv_get(r, "k\xc3\xa9y"), &v) && v == 1);
	CHECK(jv_int(jv_get(r, "a"), &v) && v == 3);
	CHECK_STR(jv_key(r, 1), "a");
	size_t kl = 0;
	const char *kn = jv_keyn(r, 1, &kl);
	CHECK(kn && kl == 3 && memcmp(kn, "a\0b", 3) == 0);
	CHECK(jv_keyn(r, 3, &kl) == NULL);
	CHECK(jv_keyn(jv_at(r, 0), 0, NULL) == NULL);
	CHECK(jv_keyn(r, 0, NULL) != NULL);
	CHECK(jv_int(jv_at(r, 1), &v) && v == 2);
	jdoc_free(d);
}

static void test_dom(void)
{
	struct jdoc *d = P("{\"ok\":true,\"n\":null,\"f\":false,\"a\":[1,\"x\",[],{}],"
			   "\"o\":{\"k\":\"v\"},\"dup\":1,\"dup\":2}");
	const struct jval *r = jdoc_root(d);
	int64_t v = 0;

	CHECK(d != NULL);
	CHECK_EQ(jv_type(r), J_OBJ);
	CHECK_EQ(jv_len(r), 7);
	CHECK_EQ(jv_bool(jv_get(r, "ok")), 1);
	CHECK_EQ(jv_bool(jv_get(r, "f")), 0);
	CHECK_EQ(jv_bool(jv_get(r, "n")), -1);
	CHECK_EQ(jv_type(jv_get(r, "n")), J_NULL);
	CHECK_EQ(jv_type(jv_get(r, "missing")), J_NONE);
	CHECK(jv_get(r, "missing") == NULL);
	CHECK(jv_get(r, NULL) == NULL);
	CHECK(jv_get(jv_get(r, "a"), "x") == NULL);
	CHECK_EQ(jv_len(jv_get(r, "a")), 4);
	CHECK_EQ(jv_type(jv_at(jv_get(r, "a"), 2)), J_ARR);
	CHECK_EQ(jv_len(jv_at(jv_get(r, "a"), 2)), 0);
	CHECK_EQ(jv_type(jv_at(jv_get(r, "a"), 3)), J_OBJ);
	CHECK_EQ(jv_len(jv_at(jv_get(r, "a"), 3)), 0);
	CHECK(jv_key(jv_at(jv_get(r, "a"), 3), 0) == NULL);
	CHECK(jv_at(jv_at(jv_get(r, "a"), 3), 0) == NULL);
	CHECK_STR(jv_str(jv_get(jv_get(r, "o"), "k")), "v");
	CHECK(jv_str(jv_get(jv_get(r, "nope"), "k")) == NULL);
	/* duplicates: both kept, in order; lookup finds the last */
	CHECK(jv_int(jv_get(r, "dup"), &v) && v == 2);
	CHECK_STR(jv_key(r, 5), "dup");
	CHECK(jv_int(jv_at(r, 5), &v) && v == 1);
	CHECK_STR(jv_key(r, 6), "dup");
	CHECK(jv_key(r, 7) == NULL);
	CHECK(jv_key(jv_get(r, "a"), 0) == NULL);
	CHECK_EQ(jv_len(jv_get(r, "ok")), 0);
	CHECK_EQ(jv_len(NULL), 0);
	CHECK_EQ(jv_type(NULL), J_NONE);
	CHECK_EQ(jv_bool(NULL), -1);
	CHECK(jdoc_root(NULL) == NULL);
	CHECK_STR(jv_typename(J_OBJ), "object");
	CHECK_STR(jv_typename(J_ARR), "array");
	CHECK_STR(jv_typename(J_STR), "string");
	CHECK_STR(jv_typename(J_NUM), "number");
	CHECK_STR(jv_typename(J_BOOL), "boolean");
	CHECK_STR(jv_typename(J_NULL), "null");
	CHECK_STR(jv_typename(J_NONE), "none");
	jdoc_free(d);
	jdoc_free(NULL);
}

static void test_errors(void)
{
	CHECK_STR(E(""), "1:1: empty document");
	CHECK_STR(E("  \n "), "2:2: empty document");
	CHECK_STR(E("[1,\n  x]"), "2:3: a value expected, got 'x'");
	CHECK_STR(E("{\"a\" 1}"), "1:6: ':' expected after an object key, got '1'");
	CHECK_STR(E("{\"a\":1,}"), "1:8: object key (a string) expected, got '}'");
	CHECK_STR(E("[1 2]"), "1:4: ',' or ']' expected after an array element, got '2'");
	CHECK_STR(E("{\"a\":1 2}"), "1:8: ',' or '}' expected after an object member, got '2'");
	CHECK_STR(E("[1"), "1:3: ',' or ']' expected after an array element, got end of input");
	CHECK_STR(E("[1] x"), "1:5: 'x' after the document");
	CHECK_STR(E("[tru]"), "1:5: invalid literal: 'true' expected, got ']'");
	CHECK_STR(E("[01]"), "1:3: leading zero in a number");
	CHECK_STR(E("[1.]"), "1:4: digit expected after '.', got ']'");
	CHECK_STR(E("[1e]"), "1:4: digit expected in the exponent, got ']'");
	CHECK_STR(E("[-]"), "1:3: digit expected after '-', got ']'");
	CHECK_STR(E("[1e999]"), "1:2: number out of range");
	CHECK_STR(E("\"abc"), "1:1: unterminated string");
	CHECK_STR(E("[\"\\q\"]"), "1:3: invalid escape \\ followed by 'q'");
	CHECK_STR(E("[\"\\u12\"]"), "1:3: invalid \\u escape (4 hex digits expected)");
	CHECK_STR(E("[\"\\ud800x\"]"), "1:3: lone high surrogate \\ud800");
	CHECK_STR(E("[\"\\udc00\"]"), "1:3: lone low surrogate \\udc00");
	CHECK_STR(E("[\"a\tb\"]"), "1:4: control character 0x09 in a string (must be escaped)");
	/* columns count characters: é is one */
	CHECK_STR(E("[\"\xc3\xa9\", \xff]"), "1:7: a value expected, got byte 0xff");
	CHECK_STR(E("[\"\xc3\xa9\xc3\"]"), "1:4: invalid UTF-8 (byte 0xc3)");
	CHECK_STR(E("\xef\xbb\xbf[]"), "1:1: a value expected, got a byte order mark");
	CHECK_STR(E("\r\n\n[\n\t,]"), "4:2: a value expected, got ','");
}

static void test_depth(void)
{
	char buf[200];
	char err[128];
	int n = JPARSE_MAX_DEPTH;

	memset(buf, '[', (size_t)n);
	memset(buf + n, ']', (size_t)n);
	struct jdoc *d = jparse(buf, 2 * (size_t)n, err, sizeof(err));
	CHECK(d != NULL);
	const struct jval *v = jdoc_root(d);
	for (int i = 1; i < n; i++)
		v = jv_at(v, 0);
	CHECK_EQ(jv_type(v), J_ARR);
	CHECK_EQ(jv_len(v), 0);
	jdoc_free(d);
	n++;
	memset(buf, '[', (size_t)n);
	memset(buf + n, ']', (size_t)n);
	CHECK(jparse(buf, 2 * (size_t)n, err, sizeof(err)) == NULL);
	CHECK_STR(err, "1:33: nesting deeper than 32 levels");
	/* objects count as well */
	char *p = buf;
	for (int i = 0; i < JPARSE_MAX_DEPTH + 1; i++)
		p += sprintf(p, "{\"a\":");
	CHECK(jparse(buf, (size_t)(p - buf), err, sizeof(err)) == NULL);
	CHECK(strstr(err, "nesting deeper") != NULL);

	/* a million open brackets: an error, not a stack overflow */
	size_t big = 1 << 20;
	char *s = malloc(big);
	memset(s, '[', big);
	CHECK(jparse(s, big, err, sizeof(err)) == NULL);
	/* a wide document: 200k elements, 100k members */
	size_t len = 0;
	s = realloc(s, 32 << 20);
	s[len++] = '[';
	for (int i = 0; i < 200000; i++)
		len += (size_t)sprintf(s + len, "%s%d", i ? "," : "", i);
	s[len++] = ']';
	d = jparse(s, len, err, sizeof(err));
	CHECK(d != NULL);
	int64_t x = 0;
	CHECK_EQ(jv_len(jdoc_root(d)), 200000);
	CHECK(jv_int(jv_at(jdoc_root(d), 199999), &x) && x == 199999);
	jdoc_free(d);
	len = 0;
	s[len++] = '{';
	for (int i = 0; i < 100000; i++)
		len += (size_t)sprintf(s + len, "%s\"k%d\":[%d,{\"x\":\"%0200d\"}]", i ? "," : "",
				       i, i, i);
	s[len++] = '}';
	d = jparse(s, len, err, sizeof(err));
	CHECK(d != NULL);
	CHECK_EQ(jv_len(jdoc_root(d)), 100000);
	CHECK(jv_int(jv_at(jv_get(jdoc_root(d), "k77777"), 0), &x) && x == 77777);
	CHECK_EQ(jv_len(jv_get(jv_at(jv_get(jdoc_root(d), "k5"), 1), "x")), 200);
	jdoc_free(d);
	free(s);
}

/* what the writer (src/core/json.h) writes, the parser reads back exactly */
static void test_writer_round_trip(void)
{
	struct json j;
	char err[256];
	const char *tricky = "q\"\\\n\r\t\x01\x1f\x7f/\xc3\xa9\xf0\x9f\x98\x80 end";

	json_init(&j);
	json_obj(&j);
	json_key(&j, "ok");
	json_bool(&j, true);
	json_key(&j, tricky);
	json_str(&j, tricky);
	json_key(&j, "u");
	json_u64(&j, UINT64_MAX);
	json_key(&j, "i");
	json_i64(&j, INT64_MIN);
	json_key(&j, "d");
	json_dbl(&j, 3.25, 2);
	json_key(&j, "nan");
	json_dbl(&j, NAN, 1);
	json_key(&j, "null");
	json_str(&j, NULL);
	json_key(&j, "rules");
	json_arr(&j);
	for (int k = 0; k < 3; k++) {
		json_obj(&j);
		json_key(&j, "id");
		json_u64(&j, (uint64_t)k);
		json_key(&j, "expires_in");
		if (k)
			json_u64(&j, 30u * (unsigned)k);
		else
			json_null(&j);
		json_key(&j, "nested");
		json_arr(&j);
		json_arr(&j);
		json_aend(&j);
		json_obj(&j);
		json_end(&j);
		json_aend(&j);
		json_end(&j);
	}
	json_aend(&j);
	json_end(&j);
	json_raw(&j, "\n");
	CHECK(!j.oom);

	struct jdoc *d = jparse(j.buf, j.len, err, sizeof(err));
	CHECK(d != NULL);
	if (!d) {
		fprintf(stderr, "  %s\n  %s", err, j.buf);
		json_free(&j);
		return;
	}
	const struct jval *r = jdoc_root(d);
	uint64_t u = 0;
	int64_t i = 0;
	CHECK_EQ(jv_bool(jv_get(r, "ok")), 1);
	CHECK_STR(jv_str(jv_get(r, tricky)), tricky);
	CHECK(jv_uint(jv_get(r, "u"), &u) && u == UINT64_MAX);
	CHECK(jv_int(jv_get(r, "i"), &i) && i == INT64_MIN);
	CHECK(jv_num(jv_get(r, "d")) == 3.25);
	CHECK_EQ(jv_type(jv_get(r, "nan")), J_NULL);
	CHECK_EQ(jv_type(jv_get(r, "null")), J_NULL);
	const struct jval *rules = jv_get(r, "rules");
	CHECK_EQ(jv_len(rules), 3);
	for (size_t k = 0; k < 3; k++) {
		const struct jval *rule = jv_at(rules, k);
		CHECK(jv_uint(jv_get(rule, "id"), &u) && u == k);
		if (k)
			CHECK(jv_uint(jv_get(rule, "expires_in"), &u) && u == 30 * k);
		else
			CHECK_EQ(jv_type(jv_get(rule, "expires_in")), J_NULL);
		CHECK_EQ(jv_len(jv_get(rule, "nested")), 2);
	}
	jdoc_free(d);

	/* random strings of every byte value the writer accepts (1..255, valid UTF-8 or not is the
	 * writer's caller's business, so only valid UTF-8 here) survive */
	unsigned seed = 12345;
	for (int round = 0; round < 2000; round++) {
		char s[64];
		size_t n = 0;
		while (n < 40) {
			seed = seed * 1103515245 + 12345;
			unsigned r8 = (seed >> 16) % 300;
			if (r8 < 128 && r8 > 0)
				s[n++] = (char)r8;
			else if (r8 < 200) { /* U+00E9 */
				s[n++] = '\xc3';
				s[n++] = '\xa9';
			} else if (r8 < 250) { /* U+20AC */
				memcpy(s + n, "\xe2\x82\xac", 3);
				n += 3;
			} else if (r8 < 299) { /* U+1F600 */
				memcpy(s + n, "\xf0\x9f\x98\x80", 4);
				n += 4;
			}
		}
		s[n] = 0;
		json_reset(&j);
		json_arr(&j);
		json_str(&j, s);
		json_aend(&j);
		d = jparse(j.buf, j.len, err, sizeof(err));
		CHECK(d && jv_str(jv_at(jdoc_root(d), 0)) &&
		      !strcmp(jv_str(jv_at(jdoc_root(d), 0)), s));
		jdoc_free(d);
	}
	json_free(&j);
}

static void test_utf8(void)
{
	CHECK(jutf8_valid("", 0));
	CHECK(jutf8_valid(NULL, 0));
	CHECK(jutf8_valid("a\0b", 3));
	CHECK(jutf8_valid("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf", 13));
	CHECK(!jutf8_valid("\xc3", 1));
	CHECK(!jutf8_valid("\xc3\xa9", 1));
	CHECK(!jutf8_valid("\xc0\xaf", 2));
	CHECK(!jutf8_valid("\xe0\x80\xaf", 3));
	CHECK(!jutf8_valid("\xed\xa0\x80", 3));
	CHECK(!jutf8_valid("\xf4\x90\x80\x80", 4));
	CHECK(!jutf8_valid("\xff", 1));
	CHECK(!jutf8_valid("ok\x80", 3));
}

/* jv_write: every accepted document written back with the JSON writer parses to the same
 * document (strings holding U+0000 excepted: a C string cannot carry them, they become null). */
static void test_jv_write(void)
{
	char err[256];
	int n = 0;

	for (size_t i = 0; i < sizeof(accept) / sizeof(accept[0]); i++) {
		if (strstr(accept[i], "\\u0000"))
			continue;
		struct jdoc *d = jparse(accept[i], strlen(accept[i]), err, sizeof(err));
		if (!d)
			continue;
		struct json j;
		json_init(&j);
		jv_write(jdoc_root(d), &j);
		struct jdoc *d2 = jparse(j.buf, j.len, err, sizeof(err));
		CHECK(d2 != NULL);
		if (d2) {
			struct sbuf a = {0}, b = {0};
			dump(&a, jdoc_root(d));
			dump(&b, jdoc_root(d2));
			CHECK_STR(a.b, b.b);
			free(a.b);
			free(b.b);
			n++;
		}
		jdoc_free(d2);
		jdoc_free(d);
		json_free(&j);
	}
	CHECK(n > 20);
	/* exact integers to 64 bits, doubles that read back the same, NULL as null */
	const char *in = "[18446744073709551615,-9223372036854775808,0.1,1e300,-0.5,3]";
	struct jdoc *d = jparse(in, strlen(in), err, sizeof(err));
	struct json j;
	json_init(&j);
	jv_write(jdoc_root(d), &j);
	json_raw(&j, "");
	CHECK(j.len < 256);
	char out[256];
	snprintf(out, sizeof(out), "%.*s", (int)j.len, j.buf);
	CHECK_STR(out, "[18446744073709551615,-9223372036854775808,0.1,1e+300,-0.5,3]");
	json_reset(&j);
	CHECK_EQ(jv_write(NULL, &j), 0);
	snprintf(out, sizeof(out), "%.*s", (int)j.len, j.buf);
	CHECK_STR(out, "null");
	jdoc_free(d);
	/* 20 arrays deep (the parser takes 32, the writer nests 16): the containers past the
	 * writer's depth become one null, and the output is still JSON */
	const char *deep = "[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]";
	d = jparse(deep, strlen(deep), err, sizeof(err));
	CHECK(d != NULL);
	json_reset(&j);
	CHECK_EQ(jv_write(jdoc_root(d), &j), 1);
	snprintf(out, sizeof(out), "%.*s", (int)j.len, j.buf);
	CHECK_STR(out, "[[[[[[[[[[[[[[[null]]]]]]]]]]]]]]]");
	struct jdoc *d3 = jparse(j.buf, j.len, err, sizeof(err));
	CHECK(d3 != NULL);
	jdoc_free(d3);
	/* a string holding U+0000 counts too */
	jdoc_free(d);
	const char *nul = "[\"a\\u0000b\",\"ok\"]";
	d = jparse(nul, strlen(nul), err, sizeof(err));
	json_reset(&j);
	CHECK_EQ(jv_write(jdoc_root(d), &j), 1);
	snprintf(out, sizeof(out), "%.*s", (int)j.len, j.buf);
	CHECK_STR(out, "[null,\"ok\"]");
	json_free(&j);
	jdoc_free(d);
}

int main(void)
{
	test_lists();
	test_jv_write();
	test_numbers();
	test_strings();
	test_dom();
	test_errors();
	test_depth();
	test_writer_round_trip();
	test_utf8();
	return t_done("test_jparse");
}
