/* fuzz_api: the HTTP API's router (src/api/route.c, api_route). An input is four fields split
 * by NUL bytes: METHOD \0 URL \0 QUERY \0 BODY (the body is the rest and may hold NULs; a
 * missing field is empty). The query "a=b&c=d" is parsed here into the two parameter callbacks
 * the server gives api_route ("a" alone is a parameter without a value, as libmicrohttpd gives
 * it: listed, but looked up as NULL). For any input:
 * - on success: the kind, auth and status are ones api.h defines and fit together (dashboard
 *   files open, writes need the token, 201 only for a POST); argv[argc] == NULL; every argument
 *   is a non-empty string NUL-terminated inside r->buf; a command has at least one argument,
 *   evidence exactly two (attack ID), the others none; asset is set exactly for API_ASSET and
 *   is an entry of the table; allow is NULL;
 * - on failure: the status is 400, 404, 405 or 413 (413 exactly when the body is over 64 KiB);
 *   err is a non-empty string NUL-terminated inside its buffer; allow is set exactly on 405;
 * - the message is UTF-8 whenever the request was (it goes into a JSON reply);
 * - the same request routed again into the same (used) struct gives the same answer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct kv {
	const char *name, *value;
};

struct query {
	struct kv kv[64];
	int n;
};

static const char *q_get(void *ctx, const char *name)
{
	struct query *q = ctx;

	for (int i = 0; i < q->n; i++)
		if (!strcmp(q->kv[i].name, name))
			return q->kv[i].value;
	return NULL;
}

static int q_each(void *ctx, int (*fn)(void *ctx2, const char *name), void *ctx2)
{
	struct query *q = ctx;

	for (int i = 0; i < q->n; i++)
		fn(ctx2, q->kv[i].name);
	return q->n;
}

/* "a=b&c=d" in place into q */
static void q_parse(struct query *q, char *s)
{
	q->n = 0;
	if (!*s)
		return;
	for (char *p = s, *next; p && q->n < 64; p = next) {
		next = strchr(p, '&');
		if (next)
			*next++ = 0;
		char *eq = strchr(p, '=');
		if (eq)
			*eq++ = 0;
		q->kv[q->n].name = p;
		q->kv[q->n++].value = eq; /* NULL: "a" without a value */
	}
}

static const unsigned char page[] = "<!doctype html>";
static const struct api_asset assets[] = {
    {"/", "text/html; charset=utf-8", page, sizeof(page) - 1},
    {"/app.js", "text/javascript; charset=utf-8", page, 1},
    {"/style.css", "text/css; charset=utf-8", page, 2},
};
#define N_ASSETS (sizeof(assets) / sizeof(assets[0]))

static bool utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint32_t cp;
		size_t k;
		if (s[i] < 0x80) {
			i++;
			continue;
		} else if ((s[i] & 0xe0) == 0xc0) {
			k = 2, cp = s[i] & 0x1f;
		} else if ((s[i] & 0xf0) == 0xe0) {
			k = 3, cp = s[i] & 0x0f;
		} else if ((s[i] & 0xf8) == 0xf0) {
			k = 4, cp = s[i] & 0x07;
		} else {
			return false;
		}
		if (n - i < k)
			return false;
		for (size_t j = 1; j < k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
		if (cp < min[k] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k;
	}
	return true;
}

/* the next NUL-terminated field of data, copied into its own allocation */
static char *field(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *z = memchr(*p, 0, (size_t)(end - *p));
	size_t n = z ? (size_t)(z - *p) : (size_t)(end - *p);
	char *s = malloc(n + 1);

	if (!s)
		abort();
	memcpy(s, *p, n);
	s[n] = 0;
	*p = z ? z + 1 : end;
	return s;
}

static void fail(const char *what, const char *method, const char *url, int rc, const char *err)
{
	fprintf(stderr, "fuzz_api: %s (method '%s', url '%s', status %d, err '%s')\n", what, method,
		url, rc, err);
	abort();
}

static void check(int rc, const struct api_req *r, const char *err, size_t errlen,
		  const char *method, const char *url, size_t body_len, bool in_utf8)
{
	if (rc == 0) {
		if (r->kind < API_CMD || r->kind > API_EVIDENCE)
			fail("kind out of range", method, url, rc, "");
		if (r->auth < API_OPEN || r->auth > API_WRITE)
			fail("auth out of range", method, url, rc, "");
		if ((r->auth == API_OPEN) != (r->kind == API_ASSET))
			fail("only dashboard files are open", method, url, rc, "");
		bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
		if (get == (r->auth == API_WRITE))
			fail("reads need API_READ, writes API_WRITE", method, url, rc, "");
		if (r->ok_status != 200 &&
		    !(r->ok_status == 201 && !strcmp(method, "POST") && r->kind == API_CMD))
			fail("ok_status", method, url, rc, "");
		if (r->argc < 0 || r->argc > API_MAX_ARGS || r->argv[r->argc] != NULL)
			fail("argc, or argv[argc] not NULL", method, url, rc, "");
		for (int i = 0; i < r->argc; i++) {
			const char *a = r->argv[i];
			if (a < r->buf || a >= r->buf + sizeof(r->buf))
				fail("argv outside buf", method, url, rc, "");
			const char *z = memchr(a, 0, (size_t)(r->buf + sizeof(r->buf) - a));
			if (!z || z == a)
				fail("argv not a non-empty string inside buf", method, url, rc, "");
		}
		switch (r->kind) {
		case API_CMD:
			if (r->argc < 1)
				fail("a command without arguments", method, url, rc, "");
			break;
		case API_EVIDENCE:
			if (r->argc != 2 || strcmp(r->argv[0], "attack") != 0)
				fail("evidence is not attack ID", method, url, rc, "");
			break;
		default:
			if (r->argc != 0)
				fail("arguments for a non-command", method, url, rc, "");
		}
		if ((r->asset != NULL) != (r->kind == API_ASSET) ||
		    (r->asset && (r->asset < assets || r->asset >= assets + N_ASSETS ||
				  strcmp(r->asset->path, url) != 0)))
			fail("asset", method, url, rc, "");
		if (r->allow)
			fail("allow set on success", method, url, rc, "");
		if (body_len > API_MAX_BODY)
			fail("an oversized body taken", method, url, rc, "");
		return;
	}
	const char *z = memchr(err, 0, errlen);
	if (!z || z == err)
		fail("err not a non-empty string", method, url, rc, "");
	if (rc != 400 && rc != 404 && rc != 405 && rc != 413)
		fail("status not 400, 404, 405 or 413", method, url, rc, err);
	if ((rc == 413) != (body_len > API_MAX_BODY))
		fail("413 iff the body is over 64 KiB", method, url, rc, err);
	if ((rc == 405) != (r->allow != NULL) || (r->allow && !r->allow[0]))
		fail("allow set exactly on 405", method, url, rc, err);
	if (in_utf8 && !utf8((const unsigned char *)err, (size_t)(z - err)))
		fail("the message is not UTF-8", method, url, rc, err);
}

static struct api_req r1, r2;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	char *method = field(&p, end), *url = field(&p, end), *qs = field(&p, end);
	size_t body_len = (size_t)(end - p);
	char *body = malloc(body_len ? body_len : 1);
	char *qcopy = strdup(qs);
	struct query q;
	char err1[512], err2[512];

	if (!body || !qcopy)
		abort();
	memcpy(body, p, body_len);
	bool in_utf8 = utf8((const unsigned char *)method, strlen(method)) &&
		       utf8((const unsigned char *)url, strlen(url)) &&
		       utf8((const unsigned char *)qs, strlen(qs)) &&
		       utf8((const unsigned char *)body, body_len);
	q_parse(&q, qcopy);

	memset(err1, 0x5a, sizeof(err1));
	memset(&r1, 0xa5, sizeof(r1)); /* whatever a struct held, it is filled */
	int rc1 = api_route(method, url, q_get, q_each, &q, body_len ? body : NULL, body_len,
			    assets, N_ASSETS, &r1, err1, sizeof(err1));
	check(rc1, &r1, err1, sizeof(err1), method, url, body_len, in_utf8);

	/* again into a struct that answered something else before */
	memset(err2, 0x5a, sizeof(err2));
	int rc2 = api_route(method, url, q_get, q_each, &q, body_len ? body : NULL, body_len,
			    assets, N_ASSETS, &r2, err2, sizeof(err2));
	check(rc2, &r2, err2, sizeof(err2), method, url, body_len, in_utf8);
	if (rc1 != rc2 || r1.kind != r2.kind || r1.auth != r2.auth ||
	    r1.ok_status != r2.ok_status || r1.argc != r2.argc || r1.asset != r2.asset ||
	    r1.allow != r2.allow || (rc1 && strcmp(err1, err2) != 0))
		fail("routed twice, answered differently", method, url, rc1, err1);
	for (int i = 0; !rc1 && i < r1.argc; i++)
		if (strcmp(r1.argv[i], r2.argv[i]) != 0)
			fail("routed twice, different arguments", method, url, rc1, "");

	free(method);
	free(url);
	free(qs);
	free(qcopy);
	free(body);
	return 0;
}
