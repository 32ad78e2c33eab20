/* api route: a request (method, path, query, body) into a command vector. Pure: no daemon, no
 * sockets; every refusal is an HTTP status and a message a person can act on. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/jparse.h"
#include "core/obs.h"

#define V1 "/api/v1/"

static int failf(char *err, size_t errlen, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* How much of s[0..len) to quote in a message, at most max bytes, for "%.*s": never half a UTF-8
 * character (the message goes into a JSON reply, which must stay UTF-8). */
static int cutn(const char *s, size_t len, size_t max)
{
	size_t n = len < max ? len : max;

	for (int k = 0; k < 3 && n > 0 && n < len && ((unsigned char)s[n] & 0xc0) == 0x80; k++)
		n--;
	if (n < len && ((unsigned char)s[n] & 0xc0) == 0x80)
		n = len < max ? len : max; /* not UTF-8 anyway */
	return (int)n;
}

static int cut(const char *s, size_t max)
{
	return cutn(s, strnlen(s, max + 1), max);
}

static int failf(char *err, size_t errlen, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return status;
}

/* Appends a copy of s as the next argument. Returns 0, or -1 when out of room. */
static int arg(struct api_req *r, size_t *used, const char *s, size_t len)
{
	if (r->argc == API_MAX_ARGS || *used + len + 1 > sizeof(r->buf))
		return -1;
	memcpy(r->buf + *used, s, len);
	r->buf[*used + len] = 0;
	r->argv[r->argc++] = r->buf + *used;
	r->argv[r->argc] = NULL;
	*used += len + 1;
	return 0;
}

static int args(struct api_req *r, size_t *used, const char *s)
{
	return arg(r, used, s, strlen(s));
}

/* ---- query parameters ---- */

struct known {
	const char *const *names;
	const char *bad; /* the first unknown one */
};

static int check_one(void *ctx, const char *name)
{
	struct known *k = ctx;

	for (size_t i = 0; k->names && k->names[i]; i++)
		if (!strcmp(name, k->names[i]))
			return 0;
	if (!k->bad)
		k->bad = name;
	return 0;
}

/* Every parameter given must be one of names (NULL-terminated; NULL = none). */
static int check_params(api_params_fn params, void *pctx, const char *const *names, char *err,
			size_t errlen)
{
	struct known k = {.names = names};
	char list[128] = "";

	if (!params)
		return 0;
	params(pctx, check_one, &k);
	if (!k.bad)
		return 0;
	for (size_t i = 0; names && names[i]; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 names[i]);
	if (!list[0])
		return failf(err, errlen, 400,
			     "unknown query parameter '%.*s' (this route takes none)",
			     cut(k.bad, 64), k.bad);
	return failf(err, errlen, 400, "unknown query parameter '%.*s' (known: %s)", cut(k.bad, 64),
		     k.bad, list);
}

static const char *param(api_param_fn fn, void *pctx, const char *name)
{
	return fn ? fn(pctx, name) : NULL;
}

/* An integer parameter in [lo, hi], default def. Returns 0 or 400 with err. */
static int int_param(api_param_fn fn, void *pctx, const char *name, long lo, long hi, long def,
		     long *out, char *err, size_t errlen)
{
	const char *v = param(fn, pctx, name);
	char *end;

	*out = def;
	if (!v)
		return 0;
	errno = 0;
	long x = strtol(v, &end, 10);
	/* strtol would also take leading white space and a '+' */
	if (!((v[0] >= '0' && v[0] <= '9') || (v[0] == '-' && v[1] >= '0' && v[1] <= '9')) ||
	    *end || errno || x < lo || x > hi)
		return failf(err, errlen, 400,
			     "%s: expected a whole number from %ld to %ld, got '%.*s'", name, lo,
			     hi, cut(v, 32), v);
	*out = x;
	return 0;
}

static int enum_param(api_param_fn fn, void *pctx, const char *name, const char *const *vals,
		      const char **out, char *err, size_t errlen)
{
	const char *v = param(fn, pctx, name);
	char list[96] = "";

	*out = vals[0];
	if (!v)
		return 0;
	for (size_t i = 0; vals[i]; i++) {
		if (!strcmp(v, vals[i])) {
			*out = vals[i];
			return 0;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 vals[i]);
	}
	return failf(err, errlen, 400, "%s: expected one of %s, got '%.*s'", name, list, cut(v, 32),
		     v);
}

/* ---- path pieces ---- */

/* An attack id, a rule or route id: letters, digits, '-', '_', '.', ':' (1..64). */
static bool id_ok(const char *s, size_t len)
{
	if (!len || len > 64)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      c == '-' || c == '_' || c == '.' || c == ':'))
			return false;
	}
	return true;
}

/* Splits the body's string member `key` (the only member) into words. Returns 0 or 400. */
static int body_words(const char *body, size_t len, const char *key, const char *example,
		      struct api_req *r, size_t *used, char *err, size_t errlen)
{
	char e[160];
	struct jdoc *d;
	const struct jval *root, *v;
	const char *s;
	size_t sl;

	if (!body || !len)
		return failf(err, errlen, 400, "expected a JSON body: {\"%s\": \"%s\"}", key,
			     example);
	d = jparse(body, len, e, sizeof(e));
	if (!d)
		return failf(err, errlen, 400, "the body is not JSON: %s", e);
	root = jdoc_root(d);
	if (jv_type(root) != J_OBJ) {
		jdoc_free(d);
		return failf(err, errlen, 400, "expected a JSON object {\"%s\": \"%s\"}", key,
			     example);
	}
	for (size_t i = 0; i < jv_len(root); i++) {
		size_t kl;
		const char *k = jv_keyn(root, i, &kl); /* in full: "rule\u0000x" is not "rule" */
		if (!k || kl != strlen(key) || memcmp(k, key, kl) != 0) {
			int rc =
			    failf(err, errlen, 400, "unknown member '%.*s' (expected only \"%s\")",
				  k ? cut(k, 32) : 0, k ? k : "", key);
			jdoc_free(d);
			return rc;
		}
	}
	v = jv_get(root, key);
	s = jv_strn(v, &sl);
	if (!s || !sl || memchr(s, 0, sl)) {
		jdoc_free(d);
		return failf(err, errlen, 400, "\"%s\": expected a string such as \"%s\"", key,
			     example);
	}
	int n0 = r->argc;
	for (size_t i = 0; i < sl;) {
		while (i < sl && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
			i++;
		size_t j = i;
		while (j < sl && !(s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r'))
			j++;
		if (j > i && arg(r, used, s + i, j - i) < 0) {
			jdoc_free(d);
			return failf(err, errlen, 400, "\"%s\": too many words (at most %d)", key,
				     API_MAX_ARGS - n0);
		}
		i = j;
	}
	jdoc_free(d);
	if (r->argc == n0)
		return failf(err, errlen, 400, "\"%s\": expected words such as \"%s\"", key,
			     example);
	return 0;
}

static bool is(const char *m, const char *want)
{
	return !strcmp(m, want);
}

/* GET and HEAD read; the rest write. */
static bool is_get(const char *m)
{
	return is(m, "GET") || is(m, "HEAD");
}

static int not_allowed(struct api_req *r, const char *allow, const char *method, char *err,
		       size_t errlen)
{
	r->allow = allow;
	return failf(err, errlen, 405, "method %.*s not allowed here (allowed: %s)",
		     cut(method, 16), method, allow);
}

int api_status_of(int rc)
{
	if (rc == -1)
		return 400;
	if (rc <= -400 && rc >= -599)
		return -rc;
	return 500;
}

int api_route(const char *method, const char *url, api_param_fn pfn, api_params_fn params,
	      void *pctx, const char *body, size_t body_len, const struct api_asset *assets,
	      size_t n_assets, struct api_req *r, char *err, size_t errlen)
{
	static const char *const none[] = {NULL};
	size_t used = 0;
	int rc;

	memset(r, 0, offsetof(struct api_req, buf));
	r->asset = NULL; /* after buf: not cleared by the memset */
	r->allow = NULL;
	r->ok_status = 200;
	r->auth = API_READ;
	if (!method || !url || url[0] != '/')
		return failf(err, errlen, 400, "bad request line");
	if (body_len > API_MAX_BODY)
		return failf(err, errlen, 413, "the body is larger than %d bytes", API_MAX_BODY);

	/* the dashboard's files */
	if (strncmp(url, "/api/", 5) != 0 && strcmp(url, "/metrics") != 0) {
		for (size_t i = 0; i < n_assets; i++) {
			if (strcmp(url, assets[i].path) != 0)
				continue;
			if (!is_get(method))
				return not_allowed(r, "GET, HEAD", method, err, errlen);
			r->kind = API_ASSET;
			r->auth = API_OPEN;
			r->asset = &assets[i];
			return 0;
		}
		return failf(err, errlen, 404, "no such page: %.*s", cut(url, 100), url);
	}
	if (!strcmp(url, "/metrics")) {
		if (!is_get(method))
			return not_allowed(r, "GET, HEAD", method, err, errlen);
		if ((rc = check_params(params, pctx, none, err, errlen)))
			return rc;
		r->kind = API_METRICS;
		return 0;
	}
	if (strncmp(url, V1, strlen(V1)) != 0)
		return failf(err, errlen, 404, "no such route: %.*s (the API is under /api/v1/)",
			     cut(url, 100), url);
	const char *p = url + strlen(V1);

	/* split the rest into at most 5 segments */
	const char *seg[5];
	size_t sl[5];
	int ns = 0;
	for (const char *s = p;;) {
		const char *e = strchr(s, '/');
		size_t l = e ? (size_t)(e - s) : strlen(s);
		if (ns == 5)
			return failf(err, errlen, 404, "no such route: %.*s", cut(url, 100), url);
		seg[ns] = s;
		sl[ns++] = l;
		if (!e)
			break;
		s = e + 1;
	}
#define SEG(i, s) (sl[i] == strlen(s) && !memcmp(seg[i], s, sl[i]))

	if (ns == 1 && SEG(0, "health")) {
		if (!is_get(method))
			return not_allowed(r, "GET, HEAD", method, err, errlen);
		if ((rc = check_params(params, pctx, none, err, errlen)))
			return rc;
		r->kind = API_HEALTH;
		return 0;
	}
	if (ns == 1 && (SEG(0, "status") || SEG(0, "attacks") || SEG(0, "exporters") ||
			SEG(0, "mitigations"))) {
		if (!is_get(method))
			return not_allowed(r, "GET, HEAD", method, err, errlen);
		if ((rc = check_params(params, pctx, none, err, errlen)))
			return rc;
		arg(r, &used, seg[0], sl[0]);
		return 0;
	}
	if (ns == 1 && SEG(0, "top")) {
		static const char *const known[] = {"by", "direction", "limit", NULL};
		static const char *const by[] = {"pps", "bps", "flows", NULL};
		static const char *const dir[] = {"incoming", "outgoing", NULL};
		const char *b, *d;
		long lim;
		char n[24];
		if (!is_get(method))
			return not_allowed(r, "GET, HEAD", method, err, errlen);
		if ((rc = check_params(params, pctx, known, err, errlen)) ||
		    (rc = enum_param(pfn, pctx, "by", by, &b, err, errlen)) ||
		    (rc = enum_param(pfn, pctx, "direction", dir, &d, err, errlen)) ||
		    (rc = int_param(pfn, pctx, "limit", 1, 100, 10, &lim, err, errlen)))
			return rc;
		snprintf(n, sizeof(n), "%ld", lim);
		args(r, &used, "top");
		args(r, &used, b);
		args(r, &used, d);
		args(r, &used, n);
		return 0;
	}
	if (ns == 1 && SEG(0, "traffic")) {
		static const char *const known[] = {"seconds", NULL};
		long secs;
		char n[24];
		if (!is_get(method))
			return not_allowed(r, "GET, HEAD", method, err, errlen);
		if ((rc = check_params(params, pctx, known, err, errlen)) ||
		    (rc = int_param(pfn, pctx, "seconds", 1, 600, 300, &secs, err, errlen)))
			return rc;
		snprintf(n, sizeof(n), "%ld", secs);
		args(r, &used, "traffic");
		args(r, &used, n);
		return 0;
	}
	if (ns == 1 && SEG(0, "history")) {
		static const char *const known[] = {"limit", "before", "target", NULL};
		long lim;
		char n[24];
		if (!is_get(method))
			return not_allowed(r, "GET, HEAD", method, err, errlen);
		if ((rc = check_params(params, pctx, known, err, errlen)) ||
		    (rc = int_param(pfn, pctx, "limit", 1, 1000, 50, &lim, err, errlen)))
			return rc;
		snprintf(n, sizeof(n), "%ld", lim);
		args(r, &used, "history");
		args(r, &used, "limit");
		args(r, &used, n);
		const char *before = param(pfn, pctx, "before");
		if (before) {
			char *end;
			errno = 0;
			double t = strtod(before, &end);
			/* digits and at most one point: no sign, space, hex or exponent */
			if (!*before || *end || errno || !isfinite(t) || t < 0 || t > 1e11 ||
			    strspn(before, "0123456789.") != strlen(before) || before[0] == '.')
				return failf(err, errlen, 400,
					     "before: expected unix seconds, got '%.*s'",
					     cut(before, 32), before);
			args(r, &used, "before");
			args(r, &used, before);
		}
		const char *target = param(pfn, pctx, "target");
		if (target) {
			struct maddr a;
			if (maddr_parse(target, &a) < 0)
				return failf(err, errlen, 400,
					     "target: '%.*s' is not an IPv4 or IPv6 address",
					     cut(target, 64), target);
			args(r, &used, "target");
			args(r, &used, target);
		}
		return 0;
	}
	if (ns == 2 && SEG(0, "hosts")) {
		char a[64];
		struct maddr m;
		if (!is_get(method))
			return not_allowed(r, "GET, HEAD", method, err, errlen);
		if ((rc = check_params(params, pctx, none, err, errlen)))
			return rc;
		if (!sl[1] || sl[1] >= sizeof(a))
			return failf(err, errlen, 400, "expected /api/v1/hosts/ADDRESS");
		memcpy(a, seg[1], sl[1]);
		a[sl[1]] = 0;
		if (maddr_parse(a, &m) < 0)
			return failf(err, errlen, 400, "'%s' is not an IPv4 or IPv6 address", a);
		args(r, &used, "host");
		args(r, &used, a);
		return 0;
	}
	if ((ns == 2 || ns == 3) && SEG(0, "attacks")) {
		if (!id_ok(seg[1], sl[1]))
			return failf(err, errlen, 404, "no such attack: '%.*s'",
				     cutn(seg[1], sl[1], 64), seg[1]);
		if (ns == 3 && !SEG(2, "evidence.pcap"))
			return failf(err, errlen, 404, "no such route: %.*s", cut(url, 100), url);
		if (!is_get(method))
			return not_allowed(r, "GET, HEAD", method, err, errlen);
		if ((rc = check_params(params, pctx, none, err, errlen)))
			return rc;
		r->kind = ns == 3 ? API_EVIDENCE : API_CMD;
		args(r, &used, "attack");
		arg(r, &used, seg[1], sl[1]);
		return 0;
	}
	if (ns >= 2 && ns <= 3 &&
	    ((SEG(0, "scrubber") && SEG(1, "rules")) || (SEG(0, "bgp") && SEG(1, "routes")))) {
		bool scr = SEG(0, "scrubber");
		if ((rc = check_params(params, pctx, none, err, errlen)))
			return rc;
		if (ns == 3) {
			if (!is(method, "DELETE"))
				return not_allowed(r, "DELETE", method, err, errlen);
			if (!id_ok(seg[2], sl[2]))
				return failf(err, errlen, 404, "no such %s: '%.*s'",
					     scr ? "rule" : "route", cutn(seg[2], sl[2], 64),
					     seg[2]);
			r->auth = API_WRITE;
			args(r, &used, scr ? "rule" : "bgp");
			args(r, &used, scr ? "del" : "withdraw");
			arg(r, &used, seg[2], sl[2]);
			return 0;
		}
		if (is_get(method)) {
			args(r, &used, scr ? "rule" : "bgp");
			args(r, &used, "list");
			return 0;
		}
		if (!is(method, "POST"))
			return not_allowed(r, "GET, HEAD, POST", method, err, errlen);
		r->auth = API_WRITE;
		r->ok_status = 201;
		args(r, &used, scr ? "rule" : "bgp");
		args(r, &used, scr ? "add" : "announce");
		return scr ? body_words(body, body_len, "rule",
					"198.51.100.5 proto udp sport 53 drop", r, &used, err,
					errlen)
			   : body_words(body, body_len, "announce", "blackhole 198.51.100.5", r,
					&used, err, errlen);
	}
	if (ns == 2 && SEG(0, "bgp") && SEG(1, "peers")) {
		if (!is_get(method))
			return not_allowed(r, "GET, HEAD", method, err, errlen);
		if ((rc = check_params(params, pctx, none, err, errlen)))
			return rc;
		args(r, &used, "bgp");
		args(r, &used, "peers");
		return 0;
	}
	if ((ns == 1 && SEG(0, "reload")) || (ns == 2 && SEG(0, "config") && SEG(1, "check"))) {
		if (!is(method, "POST"))
			return not_allowed(r, "POST", method, err, errlen);
		r->auth = API_WRITE; /* a refusal of its body too: only to those with the token */
		if ((rc = check_params(params, pctx, none, err, errlen)))
			return rc;
		if (body_len) {
			char e[160];
			struct jdoc *d = jparse(body, body_len, e, sizeof(e));
			bool empty = d && jv_type(jdoc_root(d)) == J_OBJ && !jv_len(jdoc_root(d));
			jdoc_free(d);
			if (!empty)
				return failf(err, errlen, 400,
					     "this route takes no body (or an empty object {})");
		}
		if (ns == 1) {
			args(r, &used, "reload");
		} else {
			args(r, &used, "config");
			args(r, &used, "check");
		}
		return 0;
	}
#undef SEG
	return failf(err, errlen, 404, "no such route: %.*s", cut(url, 100), url);
}
