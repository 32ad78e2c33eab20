/* Unit tests: the HTTP API's router (src/api/route.c, api_route) against docs/api.md. Every route
 * with the exact argument vector it becomes, its kind, auth level and success status; the
 * defaults; every refusal with its status and a message that names the problem; the paths that
 * are not routes; the dashboard's files. Query parameters come from a fake store (name/value
 * pairs) through the two callbacks the server gives api_route. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "t.h"

/* ---- the fake query parameter store ---- */

struct kv {
	const char *name, *value;
};

struct store {
	struct kv kv[16];
	int n;
	char buf[1024];
};

static const char *store_get(void *ctx, const char *name)
{
	struct store *s = ctx;

	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->kv[i].name, name))
			return s->kv[i].value;
	return NULL;
}

static int store_each(void *ctx, int (*fn)(void *ctx2, const char *name), void *ctx2)
{
	struct store *s = ctx;

	for (int i = 0; i < s->n; i++)
		fn(ctx2, s->kv[i].name);
	return s->n;
}

/* "a=b&c=d" into the store ("a" alone has the value "") */
static void store_parse(struct store *s, const char *q)
{
	s->n = 0;
	if (!q || !*q)
		return;
	snprintf(s->buf, sizeof(s->buf), "%s", q);
	for (char *p = s->buf, *next; p && s->n < 16; p = next) {
		next = strchr(p, '&');
		if (next)
			*next++ = 0;
		char *eq = strchr(p, '=');
		if (eq)
			*eq++ = 0;
		s->kv[s->n].name = p;
		s->kv[s->n++].value = eq ? eq : "";
	}
}

/* ---- one request ---- */

static struct api_req R;
static char E[512];
static struct store Q;

static const unsigned char html[] = "<!doctype html><title>moat</title>";
static const unsigned char js[] = "console.log('moat');";
static const struct api_asset assets[] = {
    {"/", "text/html; charset=utf-8", html, sizeof(html) - 1},
    {"/app.js", "text/javascript; charset=utf-8", js, sizeof(js) - 1},
};

static int go_n(const char *method, const char *url, const char *query, const char *body,
		size_t body_len)
{
	store_parse(&Q, query);
	strcpy(E, "(unset)");
	return api_route(method, url, store_get, store_each, &Q, body, body_len, assets, 2, &R, E,
			 sizeof(E));
}

static int go(const char *method, const char *url, const char *query, const char *body)
{
	return go_n(method, url, query, body, body ? strlen(body) : 0);
}

/* ---- what the answer must be ---- */

/* argv is exactly the words given (NULL-terminated), each inside R.buf */
static void argv_is(int line, ...)
{
	int failed = t_failed, n = 0;
	va_list ap;
	const char *w;

	va_start(ap, line);
	while ((w = va_arg(ap, const char *)) != NULL) {
		CHECK(n < R.argc);
		if (n < R.argc && n <= API_MAX_ARGS) {
			CHECK_STR(R.argv[n], w);
			CHECK(R.argv[n] >= R.buf &&
			      R.argv[n] + strlen(R.argv[n]) < R.buf + sizeof(R.buf));
		}
		n++;
	}
	va_end(ap);
	CHECK_EQ(R.argc, n);
	CHECK(R.argc >= 0 && R.argc <= API_MAX_ARGS && R.argv[R.argc] == NULL);
	if (t_failed != failed)
		fprintf(stderr, "  (argv checked at line %d; err \"%s\")\n", line, E);
}
#define ARGV(...) argv_is(__LINE__, __VA_ARGS__, (const char *)NULL)

/* a success of this kind, auth and status */
static void ok_is(int line, int rc, enum api_kind kind, enum api_auth auth, int status)
{
	int failed = t_failed;

	CHECK_EQ(rc, 0);
	CHECK_EQ(R.kind, kind);
	CHECK_EQ(R.auth, auth);
	CHECK_EQ(R.ok_status, status);
	if (kind != API_ASSET)
		CHECK(R.asset == NULL);
	CHECK(R.allow == NULL);
	if (t_failed != failed)
		fprintf(stderr, "  (checked at line %d; err \"%s\")\n", line, E);
}
#define OK(rc, kind, auth, status) ok_is(__LINE__, rc, kind, auth, status)
#define CMD_READ(rc)		   OK(rc, API_CMD, API_READ, 200)

/* a refusal with this status whose message holds every string given */
static void refused_is(int line, int rc, int status, ...)
{
	int failed = t_failed;
	va_list ap;
	const char *w;

	CHECK_EQ(rc, status);
	CHECK(E[0] && strcmp(E, "(unset)") != 0);
	va_start(ap, status);
	while ((w = va_arg(ap, const char *)) != NULL)
		CHECK(strstr(E, w) != NULL);
	va_end(ap);
	if (status != 405)
		CHECK(R.allow == NULL);
	if (t_failed != failed)
		fprintf(stderr, "  (refusal checked at line %d; err \"%s\")\n", line, E);
}
#define REFUSED(rc, status, ...) refused_is(__LINE__, rc, status, __VA_ARGS__, (const char *)NULL)

/* a 405 with this Allow list */
#define NOT_ALLOWED(rc, method, allowed)                                                           \
	do {                                                                                       \
		REFUSED(rc, 405, "method " method " not allowed", allowed);                        \
		CHECK_STR(R.allow, allowed);                                                       \
	} while (0)

/* ---- the routes of docs/api.md ---- */

static void test_reads(void)
{
	int rc;

	rc = go("GET", "/api/v1/health", NULL, NULL);
	OK(rc, API_HEALTH, API_READ, 200);
	CHECK_EQ(R.argc, 0);
	CHECK(R.argv[0] == NULL);

	static const char *const plain[] = {"status", "attacks", "exporters", "mitigations"};
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		char url[64];
		snprintf(url, sizeof(url), "/api/v1/%s", plain[i]);
		rc = go("GET", url, NULL, NULL);
		CMD_READ(rc);
		ARGV(plain[i]);
	}

	rc = go("GET", "/api/v1/hosts/198.51.100.5", NULL, NULL);
	CMD_READ(rc);
	ARGV("host", "198.51.100.5");

	rc = go("GET", "/api/v1/attacks/1700000000-1", NULL, NULL);
	CMD_READ(rc);
	ARGV("attack", "1700000000-1");

	rc = go("GET", "/api/v1/attacks/1700000000-1/evidence.pcap", NULL, NULL);
	OK(rc, API_EVIDENCE, API_READ, 200);
	ARGV("attack", "1700000000-1");

	rc = go("GET", "/api/v1/scrubber/rules", NULL, NULL);
	CMD_READ(rc);
	ARGV("rule", "list");

	rc = go("GET", "/api/v1/bgp/peers", NULL, NULL);
	CMD_READ(rc);
	ARGV("bgp", "peers");

	rc = go("GET", "/api/v1/bgp/routes", NULL, NULL);
	CMD_READ(rc);
	ARGV("bgp", "list");

	rc = go("GET", "/metrics", NULL, NULL);
	OK(rc, API_METRICS, API_READ, 200);
	CHECK_EQ(R.argc, 0);
}

static void test_top(void)
{
	int rc;

	rc = go("GET", "/api/v1/top", NULL, NULL);
	CMD_READ(rc);
	ARGV("top", "pps", "incoming", "10");

	rc = go("GET", "/api/v1/top", "by=bps&direction=outgoing&limit=100", NULL);
	CMD_READ(rc);
	ARGV("top", "bps", "outgoing", "100");

	rc = go("GET", "/api/v1/top", "limit=1&by=flows", NULL);
	CMD_READ(rc);
	ARGV("top", "flows", "incoming", "1");

	rc = go("GET", "/api/v1/top", "direction=outgoing", NULL);
	CMD_READ(rc);
	ARGV("top", "pps", "outgoing", "10");

	/* a number is read, not copied: "007" is 7 */
	rc = go("GET", "/api/v1/top", "limit=007", NULL);
	CMD_READ(rc);
	ARGV("top", "pps", "incoming", "7");

	rc = go("GET", "/api/v1/top", "by=x", NULL);
	REFUSED(rc, 400, "by", "'x'", "pps, bps, flows");
	rc = go("GET", "/api/v1/top", "by=PPS", NULL);
	REFUSED(rc, 400, "by", "'PPS'");
	rc = go("GET", "/api/v1/top", "by=", NULL);
	REFUSED(rc, 400, "by", "''");
	rc = go("GET", "/api/v1/top", "direction=in", NULL);
	REFUSED(rc, 400, "direction", "'in'", "incoming, outgoing");

	static const char *const bad[] = {"0",	"101", "abc", "+5", " 5",  "\t5",
					  "5 ", "5x",  "",    "-1", "1.5", "99999999999999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char q[64], quoted[64];
		snprintf(q, sizeof(q), "limit=%s", bad[i]);
		snprintf(quoted, sizeof(quoted), "'%s'", bad[i]);
		rc = go("GET", "/api/v1/top", q, NULL);
		REFUSED(rc, 400, "limit", "from 1 to 100", quoted);
	}

	rc = go("GET", "/api/v1/top", "foo=1", NULL);
	REFUSED(rc, 400, "unknown query parameter 'foo'", "by, direction, limit");
	/* the first unknown one is named, after known ones */
	rc = go("GET", "/api/v1/top", "limit=5&seconds=3&bar=1", NULL);
	REFUSED(rc, 400, "'seconds'");
	CHECK(strstr(E, "bar") == NULL);
}

static void test_traffic(void)
{
	int rc;

	rc = go("GET", "/api/v1/traffic", NULL, NULL);
	CMD_READ(rc);
	ARGV("traffic", "300");
	rc = go("GET", "/api/v1/traffic", "seconds=600", NULL);
	CMD_READ(rc);
	ARGV("traffic", "600");
	rc = go("GET", "/api/v1/traffic", "seconds=1", NULL);
	CMD_READ(rc);
	ARGV("traffic", "1");

	rc = go("GET", "/api/v1/traffic", "seconds=601", NULL);
	REFUSED(rc, 400, "seconds", "from 1 to 600", "'601'");
	rc = go("GET", "/api/v1/traffic", "seconds=0", NULL);
	REFUSED(rc, 400, "seconds", "'0'");
	rc = go("GET", "/api/v1/traffic", "limit=5", NULL);
	REFUSED(rc, 400, "unknown query parameter 'limit'", "known: seconds");
}

static void test_history(void)
{
	int rc;

	rc = go("GET", "/api/v1/history", NULL, NULL);
	CMD_READ(rc);
	ARGV("history", "limit", "50");

	rc = go("GET", "/api/v1/history", "limit=1000&before=1700000000.5&target=198.51.100.5",
		NULL);
	CMD_READ(rc);
	ARGV("history", "limit", "1000", "before", "1700000000.5", "target", "198.51.100.5");

	rc = go("GET", "/api/v1/history", "target=2001:db8::1", NULL);
	CMD_READ(rc);
	ARGV("history", "limit", "50", "target", "2001:db8::1");

	rc = go("GET", "/api/v1/history", "before=0&limit=1", NULL);
	CMD_READ(rc);
	ARGV("history", "limit", "1", "before", "0");

	rc = go("GET", "/api/v1/history", "limit=1001", NULL);
	REFUSED(rc, 400, "limit", "from 1 to 1000", "'1001'");
	rc = go("GET", "/api/v1/history", "limit=0", NULL);
	REFUSED(rc, 400, "limit", "'0'");

	static const char *const bad_before[] = {"-1", "nan", "inf", "",     "abc", "1e12",
						 "5s", "+5",  " 5",  "0x10", "1e3", ".5"};
	for (size_t i = 0; i < sizeof(bad_before) / sizeof(bad_before[0]); i++) {
		char q[64], quoted[64];
		snprintf(q, sizeof(q), "before=%s", bad_before[i]);
		snprintf(quoted, sizeof(quoted), "'%s'", bad_before[i]);
		rc = go("GET", "/api/v1/history", q, NULL);
		REFUSED(rc, 400, "before", "unix seconds", quoted);
	}

	rc = go("GET", "/api/v1/history", "target=not-an-address", NULL);
	REFUSED(rc, 400, "target", "'not-an-address'", "not an IPv4 or IPv6 address");
	rc = go("GET", "/api/v1/history", "target=198.51.100.0/24", NULL);
	REFUSED(rc, 400, "target", "'198.51.100.0/24'");
	rc = go("GET", "/api/v1/history", "target=", NULL);
	REFUSED(rc, 400, "target", "''");
	rc = go("GET", "/api/v1/history", "by=pps", NULL);
	REFUSED(rc, 400, "unknown query parameter 'by'", "limit, before, target");
}

static void test_hosts(void)
{
	int rc;

	rc = go("GET", "/api/v1/hosts/2001:db8::1", NULL, NULL);
	CMD_READ(rc);
	ARGV("host", "2001:db8::1");
	rc = go("GET", "/api/v1/hosts/::ffff:198.51.100.5", NULL, NULL);
	CMD_READ(rc);
	ARGV("host", "::ffff:198.51.100.5");
	rc = go("GET", "/api/v1/hosts/::", NULL, NULL);
	CMD_READ(rc);
	ARGV("host", "::");

	rc = go("GET", "/api/v1/hosts/not-an-address", NULL, NULL);
	REFUSED(rc, 400, "'not-an-address'", "not an IPv4 or IPv6 address");
	rc = go("GET", "/api/v1/hosts/198.51.100.256", NULL, NULL);
	REFUSED(rc, 400, "'198.51.100.256'");
	rc = go("GET", "/api/v1/hosts/2001:db8::1%25eth0", NULL, NULL);
	REFUSED(rc, 400, "not an IPv4 or IPv6 address");
	rc = go("GET", "/api/v1/hosts/", NULL, NULL);
	REFUSED(rc, 400, "/api/v1/hosts/ADDRESS");
	rc = go("GET", "/api/v1/hosts/1111:2222:3333:4444:5555:6666:7777:8888:9999", NULL, NULL);
	REFUSED(rc, 400, "'1111:2222:3333:4444:5555:6666:7777:8888:9999' is not an IPv4");
	/* the longest address text there is (45 bytes) */
	rc = go("GET", "/api/v1/hosts/ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", NULL, NULL);
	CMD_READ(rc);
	ARGV("host", "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255");
	/* 64 bytes and more: refused before parsing */
	char url[200];
	snprintf(url, sizeof(url), "/api/v1/hosts/%064d", 1);
	rc = go("GET", url, NULL, NULL);
	REFUSED(rc, 400, "expected /api/v1/hosts/ADDRESS");
	snprintf(url, sizeof(url), "/api/v1/hosts/%063d", 1);
	rc = go("GET", url, NULL, NULL);
	REFUSED(rc, 400,
		"'000000000000000000000000000000000000000000000000000000000000001' is not");
	rc = go("GET", "/api/v1/hosts/198.51.100.5", "x=1", NULL);
	REFUSED(rc, 400, "unknown query parameter 'x'", "takes none");
	rc = go("POST", "/api/v1/hosts/198.51.100.5", NULL, NULL);
	NOT_ALLOWED(rc, "POST", "GET, HEAD");
}

static void test_ids(void)
{
	char id64[65], url[200];
	int rc;

	memset(id64, 'a', 64);
	id64[64] = 0;
	snprintf(url, sizeof(url), "/api/v1/attacks/%s", id64);
	rc = go("GET", url, NULL, NULL);
	CMD_READ(rc);
	ARGV("attack", id64);
	rc = go("GET", "/api/v1/attacks/A-z_0.9:x", NULL, NULL);
	CMD_READ(rc);
	ARGV("attack", "A-z_0.9:x");

	snprintf(url, sizeof(url), "/api/v1/attacks/%sa", id64);
	rc = go("GET", url, NULL, NULL);
	REFUSED(rc, 404, "no such attack", id64);
	snprintf(url, sizeof(url), "/api/v1/attacks/%sa/evidence.pcap", id64);
	rc = go("GET", url, NULL, NULL);
	REFUSED(rc, 404, "no such attack");
	rc = go("GET", "/api/v1/attacks/bad$id", NULL, NULL);
	REFUSED(rc, 404, "no such attack: 'bad$id'");
	rc = go("GET", "/api/v1/attacks/a b", NULL, NULL);
	REFUSED(rc, 404, "no such attack: 'a b'");
	rc = go("GET", "/api/v1/attacks/a%20b/evidence.pcap", NULL, NULL);
	REFUSED(rc, 404, "no such attack");
	rc = go("GET", "/api/v1/attacks/x/evidence.txt", NULL, NULL);
	REFUSED(rc, 404, "no such route", "evidence.txt");
	rc = go("DELETE", "/api/v1/attacks/x", NULL, NULL);
	NOT_ALLOWED(rc, "DELETE", "GET, HEAD");
	rc = go("GET", "/api/v1/attacks/x", "full=1", NULL);
	REFUSED(rc, 400, "unknown query parameter 'full'");
	rc = go("GET", "/api/v1/attacks/x/evidence.pcap", "y=1", NULL);
	REFUSED(rc, 400, "unknown query parameter 'y'");

	/* a quoted id is cut at 64 bytes, never inside a UTF-8 character */
	char longid[100];
	memset(longid, 'b', 63);
	strcpy(longid + 63, "\xc3\xa9xyz"); /* é straddles byte 64 */
	snprintf(url, sizeof(url), "/api/v1/attacks/%s", longid);
	rc = go("GET", url, NULL, NULL);
	REFUSED(rc, 404, "no such attack");
	CHECK(strstr(E, "\xc3") == NULL);
	CHECK(strstr(E, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'") !=
	      NULL);
}

static void test_writes(void)
{
	int rc;

	rc = go("POST", "/api/v1/scrubber/rules", NULL,
		"{\"rule\":\"198.51.100.5 proto udp dport 53 drop\"}");
	OK(rc, API_CMD, API_WRITE, 201);
	ARGV("rule", "add", "198.51.100.5", "proto", "udp", "dport", "53", "drop");

	/* words split on any JSON white space, escaped or not, runs of it too */
	rc = go("POST", "/api/v1/scrubber/rules", NULL,
		" {\"rule\" : \"  2001:db8::1\\tproto\\n\\rtcp   drop \"} ");
	OK(rc, API_CMD, API_WRITE, 201);
	ARGV("rule", "add", "2001:db8::1", "proto", "tcp", "drop");

	/* escapes are decoded: \u0041 is A, and é stays one word */
	rc = go("POST", "/api/v1/scrubber/rules", NULL, "{\"rule\":\"\\u0041 caf\\u00e9\"}");
	OK(rc, API_CMD, API_WRITE, 201);
	ARGV("rule", "add", "A", "caf\xc3\xa9");

	rc = go("DELETE", "/api/v1/scrubber/rules/12", NULL, NULL);
	OK(rc, API_CMD, API_WRITE, 200);
	ARGV("rule", "del", "12");

	rc = go("POST", "/api/v1/bgp/routes", NULL, "{\"announce\":\"blackhole 198.51.100.5\"}");
	OK(rc, API_CMD, API_WRITE, 201);
	ARGV("bgp", "announce", "blackhole", "198.51.100.5");

	rc = go("DELETE", "/api/v1/bgp/routes/r-3", NULL, NULL);
	OK(rc, API_CMD, API_WRITE, 200);
	ARGV("bgp", "withdraw", "r-3");

	rc = go("POST", "/api/v1/reload", NULL, NULL);
	OK(rc, API_CMD, API_WRITE, 200);
	ARGV("reload");
	rc = go("POST", "/api/v1/reload", NULL, "{}");
	OK(rc, API_CMD, API_WRITE, 200);
	ARGV("reload");
	rc = go("POST", "/api/v1/reload", NULL, " { } \n");
	OK(rc, API_CMD, API_WRITE, 200);
	ARGV("reload");

	rc = go("POST", "/api/v1/config/check", NULL, NULL);
	OK(rc, API_CMD, API_WRITE, 200);
	ARGV("config", "check");
	rc = go("POST", "/api/v1/config/check", NULL, "{}");
	OK(rc, API_CMD, API_WRITE, 200);
	ARGV("config", "check");
}

static void test_bodies(void)
{
	const char *url = "/api/v1/scrubber/rules";
	int rc;

	rc = go("POST", url, NULL, NULL);
	REFUSED(rc, 400, "expected a JSON body", "{\"rule\": ");
	rc = go("POST", url, NULL, "rule=x");
	REFUSED(rc, 400, "the body is not JSON", "1:1:");
	rc = go("POST", url, NULL, "{\"rule\":\"x\"");
	REFUSED(rc, 400, "the body is not JSON");
	rc = go("POST", url, NULL, "[\"x\"]");
	REFUSED(rc, 400, "expected a JSON object");
	rc = go("POST", url, NULL, "\"198.51.100.5 drop\"");
	REFUSED(rc, 400, "expected a JSON object");
	rc = go("POST", url, NULL, "{\"text\":\"198.51.100.5 drop\"}");
	REFUSED(rc, 400, "unknown member 'text'", "expected only \"rule\"");
	rc = go("POST", url, NULL, "{\"rule\":\"198.51.100.5 drop\",\"extra\":1}");
	REFUSED(rc, 400, "unknown member 'extra'");
	/* a key holding U+0000 is not "rule", even though C would read it so */
	rc = go("POST", url, NULL, "{\"rule\":\"198.51.100.5 drop\",\"rule\\u0000x\":\"a\"}");
	REFUSED(rc, 400, "unknown member 'rule'");
	rc = go("POST", url, NULL, "{}");
	REFUSED(rc, 400, "\"rule\": expected a string");
	rc = go("POST", url, NULL, "{\"rule\":\"\"}");
	REFUSED(rc, 400, "\"rule\": expected a string");
	rc = go("POST", url, NULL, "{\"rule\":\" \\t\\n \"}");
	REFUSED(rc, 400, "\"rule\": expected words");
	rc = go("POST", url, NULL, "{\"rule\":5}");
	REFUSED(rc, 400, "\"rule\": expected a string");
	rc = go("POST", url, NULL, "{\"rule\":[\"198.51.100.5\",\"drop\"]}");
	REFUSED(rc, 400, "\"rule\": expected a string");
	rc = go("POST", url, NULL, "{\"rule\":null}");
	REFUSED(rc, 400, "\"rule\": expected a string");
	rc = go("POST", url, NULL, "{\"rule\":\"a\\u0000b\"}");
	REFUSED(rc, 400, "\"rule\": expected a string");
	rc = go("POST", "/api/v1/bgp/routes", NULL, "{\"rule\":\"blackhole 198.51.100.5\"}");
	REFUSED(rc, 400, "unknown member 'rule'", "expected only \"announce\"");
	rc = go("POST", "/api/v1/bgp/routes", NULL, "{\"announce\":true}");
	REFUSED(rc, 400, "\"announce\": expected a string");
	rc = go("POST", "/api/v1/bgp/routes", NULL, "[]");
	REFUSED(rc, 400, "expected a JSON object {\"announce\": ");

	/* words: 38 fit after "rule" "add" (API_MAX_ARGS), 39 do not */
	char body[1024];
	size_t n = (size_t)snprintf(body, sizeof(body), "{\"rule\":\"");
	for (int i = 0; i < API_MAX_ARGS - 2; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "w%d ", i);
	snprintf(body + n, sizeof(body) - n, "\"}");
	rc = go("POST", url, NULL, body);
	OK(rc, API_CMD, API_WRITE, 201);
	CHECK_EQ(R.argc, API_MAX_ARGS);
	CHECK_STR(R.argv[2], "w0");
	CHECK_STR(R.argv[API_MAX_ARGS - 1], "w37");
	CHECK(R.argv[API_MAX_ARGS] == NULL);
	snprintf(body + n, sizeof(body) - n, "w38\"}");
	rc = go("POST", url, NULL, body);
	REFUSED(rc, 400, "\"rule\": too many words", "at most 38");

	/* 64 KiB exactly is taken; one byte more is 413 */
	static char big[API_MAX_BODY + 2];
	memset(big, ' ', sizeof(big));
	memcpy(big, "{\"rule\":\"x", 10);
	memcpy(big + API_MAX_BODY - 2, "\"}", 2);
	rc = go_n("POST", url, NULL, big, API_MAX_BODY);
	OK(rc, API_CMD, API_WRITE, 201);
	ARGV("rule", "add", "x");
	rc = go_n("POST", url, NULL, big, API_MAX_BODY + 1);
	REFUSED(rc, 413, "larger than 65536 bytes");
	/* one word as long as the body allows */
	memset(big + 9, 'y', API_MAX_BODY - 11);
	rc = go_n("POST", url, NULL, big, API_MAX_BODY);
	OK(rc, API_CMD, API_WRITE, 201);
	CHECK_EQ(R.argc, 3);
	CHECK_EQ(strlen(R.argv[2]), API_MAX_BODY - 11);
	/* 413 goes first, whatever the route */
	rc = go_n("GET", "/api/v1/nothing", NULL, big, API_MAX_BODY + 1);
	REFUSED(rc, 413, "larger than");

	/* reload and config check take no body but {} */
	static const char *const not_empty[] = {"{\"a\":1}", "[]", "null", "x", "{} {}", "\"\""};
	for (size_t i = 0; i < sizeof(not_empty) / sizeof(not_empty[0]); i++) {
		rc = go("POST", "/api/v1/reload", NULL, not_empty[i]);
		REFUSED(rc, 400, "this route takes no body");
		CHECK_EQ(R.auth, API_WRITE); /* refused only to those with the token */
		rc = go("POST", "/api/v1/config/check", NULL, not_empty[i]);
		REFUSED(rc, 400, "this route takes no body");
	}
	rc = go("POST", "/api/v1/reload", "now=1", NULL);
	REFUSED(rc, 400, "unknown query parameter 'now'", "takes none");

	/* a member name is quoted whole when short, cut at a character boundary when long */
	rc = go("POST", url, NULL, "{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\u00e9\":\"x\"}");
	REFUSED(rc, 400, "unknown member 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'");
}

static void test_methods(void)
{
	int rc;

	rc = go("POST", "/api/v1/status", NULL, NULL);
	NOT_ALLOWED(rc, "POST", "GET, HEAD");
	rc = go("PUT", "/api/v1/top", NULL, NULL);
	NOT_ALLOWED(rc, "PUT", "GET, HEAD");
	rc = go("DELETE", "/api/v1/health", NULL, NULL);
	NOT_ALLOWED(rc, "DELETE", "GET, HEAD");
	rc = go("POST", "/api/v1/history", NULL, NULL);
	NOT_ALLOWED(rc, "POST", "GET, HEAD");
	rc = go("POST", "/api/v1/traffic", NULL, NULL);
	NOT_ALLOWED(rc, "POST", "GET, HEAD");
	rc = go("POST", "/api/v1/attacks/1700000000-1/evidence.pcap", NULL, NULL);
	NOT_ALLOWED(rc, "POST", "GET, HEAD");
	rc = go("POST", "/api/v1/bgp/peers", NULL, NULL);
	NOT_ALLOWED(rc, "POST", "GET, HEAD");
	rc = go("PUT", "/api/v1/scrubber/rules", NULL, "{\"rule\":\"x\"}");
	NOT_ALLOWED(rc, "PUT", "GET, HEAD, POST");
	rc = go("DELETE", "/api/v1/bgp/routes", NULL, NULL);
	NOT_ALLOWED(rc, "DELETE", "GET, HEAD, POST");
	rc = go("GET", "/api/v1/scrubber/rules/12", NULL, NULL);
	NOT_ALLOWED(rc, "GET", "DELETE");
	rc = go("POST", "/api/v1/bgp/routes/3", NULL, NULL);
	NOT_ALLOWED(rc, "POST", "DELETE");
	rc = go("GET", "/api/v1/reload", NULL, NULL);
	NOT_ALLOWED(rc, "GET", "POST");
	rc = go("HEAD", "/api/v1/config/check", NULL, NULL);
	NOT_ALLOWED(rc, "HEAD", "POST");
	rc = go("POST", "/metrics", NULL, NULL);
	NOT_ALLOWED(rc, "POST", "GET, HEAD");
	/* methods are case-sensitive */
	rc = go("get", "/api/v1/status", NULL, NULL);
	NOT_ALLOWED(rc, "get", "GET, HEAD");

	/* HEAD is GET */
	rc = go("HEAD", "/api/v1/top", "by=bps", NULL);
	CMD_READ(rc);
	ARGV("top", "bps", "incoming", "10");
	rc = go("HEAD", "/api/v1/health", NULL, NULL);
	OK(rc, API_HEALTH, API_READ, 200);
	rc = go("HEAD", "/api/v1/scrubber/rules", NULL, NULL);
	CMD_READ(rc);
	ARGV("rule", "list");
	rc = go("HEAD", "/metrics", NULL, NULL);
	OK(rc, API_METRICS, API_READ, 200);

	/* ids are checked on DELETE: bad characters or too long is 404 */
	char url[200], id65[66];
	memset(id65, '7', 65);
	id65[65] = 0;
	rc = go("DELETE", "/api/v1/scrubber/rules/a/b", NULL, NULL);
	REFUSED(rc, 404, "no such route");
	rc = go("DELETE", "/api/v1/scrubber/rules/a;b", NULL, NULL);
	REFUSED(rc, 404, "no such rule: 'a;b'");
	rc = go("DELETE", "/api/v1/scrubber/rules/", NULL, NULL);
	REFUSED(rc, 404, "no such rule: ''");
	snprintf(url, sizeof(url), "/api/v1/bgp/routes/%s", id65);
	rc = go("DELETE", url, NULL, NULL);
	REFUSED(rc, 404, "no such route: '");
	snprintf(url, sizeof(url), "/api/v1/bgp/routes/%.64s", id65);
	rc = go("DELETE", url, NULL, NULL);
	OK(rc, API_CMD, API_WRITE, 200);
	CHECK_EQ(R.argc, 3);
	CHECK_EQ(strlen(R.argv[2]), 64);
	rc = go("DELETE", "/api/v1/bgp/routes/3", "force=1", NULL);
	REFUSED(rc, 400, "unknown query parameter 'force'");

	/* a 405 sets allow; the next request does not keep it */
	rc = go("POST", "/api/v1/status", NULL, NULL);
	CHECK_EQ(rc, 405);
	CHECK(R.allow != NULL);
	rc = go("GET", "/api/v1/nothing", NULL, NULL);
	REFUSED(rc, 404, "no such route");
	CHECK(R.allow == NULL);
	rc = go("POST", "/api/v1/reload", NULL, NULL);
	OK(rc, API_CMD, API_WRITE, 200);
}

static void test_paths(void)
{
	int rc;

	rc = go("GET", "/api/v1/nothing", NULL, NULL);
	REFUSED(rc, 404, "no such route: /api/v1/nothing");
	rc = go("GET", "/api/v1/status/", NULL, NULL);
	REFUSED(rc, 404, "no such route: /api/v1/status/");
	rc = go("GET", "/api/v1/attacks/", NULL, NULL);
	REFUSED(rc, 404, "no such attack: ''");
	rc = go("GET", "/api/v1/scrubber/rules/", NULL, NULL);
	NOT_ALLOWED(rc, "GET", "DELETE");
	rc = go("GET", "/api/v1//status", NULL, NULL);
	REFUSED(rc, 404, "no such route: /api/v1//status");
	rc = go("GET", "//api/v1/status", NULL, NULL);
	REFUSED(rc, 404, "no such page: //api/v1/status");
	rc = go("GET", "/api/v1/bgp//routes", NULL, NULL);
	REFUSED(rc, 404, "no such route");
	rc = go("GET", "/api/v1", NULL, NULL);
	REFUSED(rc, 404, "no such route: /api/v1 ", "under /api/v1/");
	rc = go("GET", "/api/v1/", NULL, NULL);
	REFUSED(rc, 404, "no such route: /api/v1/");
	rc = go("GET", "/api/v2/status", NULL, NULL);
	REFUSED(rc, 404, "no such route: /api/v2/status", "under /api/v1/");
	rc = go("GET", "/api/", NULL, NULL);
	REFUSED(rc, 404, "under /api/v1/");
	rc = go("GET", "/api", NULL, NULL);
	REFUSED(rc, 404, "no such page: /api");
	rc = go("GET", "/API/v1/status", NULL, NULL);
	REFUSED(rc, 404, "no such page");
	rc = go("GET", "/api/v1/Status", NULL, NULL);
	REFUSED(rc, 404, "no such route");
	rc = go("GET", "/metrics/", NULL, NULL);
	REFUSED(rc, 404, "no such page: /metrics/");
	rc = go("GET", "/metrics", "name=x", NULL);
	REFUSED(rc, 400, "unknown query parameter 'name'", "takes none");
	rc = go("GET", "/api/v1/health", "x", NULL);
	REFUSED(rc, 400, "unknown query parameter 'x'");
	rc = go("GET", "/api/v1/status", "verbose=1", NULL);
	REFUSED(rc, 400, "unknown query parameter 'verbose'", "takes none");

	/* 5 segments after /api/v1/ are no route; 6 and more are cut short */
	rc = go("GET", "/api/v1/attacks/x/evidence.pcap/y/z", NULL, NULL);
	REFUSED(rc, 404, "no such route");
	rc = go("GET", "/api/v1/a/b/c/d/e/f", NULL, NULL);
	REFUSED(rc, 404, "no such route: /api/v1/a/b/c/d/e/f");
	rc = go("GET", "/api/v1/////////////", NULL, NULL);
	REFUSED(rc, 404, "no such route");
	rc = go("GET", "/api/v1/bgp/routes/3/4/5/6/7/8", NULL, NULL);
	REFUSED(rc, 404, "no such route");

	/* a long path is quoted cut, never inside a UTF-8 character */
	char url[300];
	int n = snprintf(url, sizeof(url), "/api/v1/");
	memset(url + n, 'p', (size_t)(99 - n));
	strcpy(url + 99, "\xe2\x82\xac/tail"); /* € at bytes 99..101 */
	rc = go("GET", url, NULL, NULL);
	REFUSED(rc, 404, "no such route: /api/v1/ppp");
	CHECK(strstr(E, "\xe2") == NULL);
	CHECK(strstr(E, "tail") == NULL);

	/* not a request line */
	rc = go("GET", "", NULL, NULL);
	REFUSED(rc, 400, "bad request line");
	rc = go("GET", "api/v1/status", NULL, NULL);
	REFUSED(rc, 400, "bad request line");
	rc = go_n(NULL, "/api/v1/status", NULL, NULL, 0);
	REFUSED(rc, 400, "bad request line");
	rc = go_n("GET", NULL, NULL, NULL, 0);
	REFUSED(rc, 400, "bad request line");
	/* no parameter callbacks: no parameters */
	rc = api_route("GET", "/api/v1/top", NULL, NULL, NULL, NULL, 0, NULL, 0, &R, E, sizeof(E));
	CMD_READ(rc);
	ARGV("top", "pps", "incoming", "10");
}

static void test_assets(void)
{
	int rc;

	rc = go("GET", "/", NULL, NULL);
	OK(rc, API_ASSET, API_OPEN, 200);
	CHECK(R.asset == &assets[0]);
	CHECK_EQ(R.argc, 0);
	rc = go("GET", "/app.js", "v=3", NULL);
	OK(rc, API_ASSET, API_OPEN, 200);
	CHECK(R.asset == &assets[1]);
	rc = go("HEAD", "/app.js", NULL, NULL);
	OK(rc, API_ASSET, API_OPEN, 200);
	CHECK(R.asset == &assets[1]);

	rc = go("GET", "/missing.js", NULL, NULL);
	REFUSED(rc, 404, "no such page: /missing.js");
	CHECK(R.asset == NULL);
	rc = go("GET", "/app.js/", NULL, NULL);
	REFUSED(rc, 404, "no such page: /app.js/");
	rc = go("GET", "/APP.JS", NULL, NULL);
	REFUSED(rc, 404, "no such page");
	rc = go("POST", "/", NULL, "x");
	NOT_ALLOWED(rc, "POST", "GET, HEAD");
	CHECK(R.asset == NULL);
	rc = go("DELETE", "/app.js", NULL, NULL);
	NOT_ALLOWED(rc, "DELETE", "GET, HEAD");

	/* the asset of one request is not left for the next */
	rc = go("GET", "/", NULL, NULL);
	CHECK_EQ(rc, 0);
	rc = go("GET", "/api/v1/status", NULL, NULL);
	CMD_READ(rc);
	CHECK(R.asset == NULL);

	/* without assets there are no pages */
	rc = api_route("GET", "/", store_get, store_each, &Q, NULL, 0, NULL, 0, &R, E, sizeof(E));
	REFUSED(rc, 404, "no such page: /");
	/* an /api/ path is never an asset, even one the table holds */
	static const struct api_asset odd[] = {{"/api/v1/status", "text/plain", html, 1}};
	rc =
	    api_route("GET", "/api/v1/status", NULL, NULL, NULL, NULL, 0, odd, 1, &R, E, sizeof(E));
	CMD_READ(rc);
	ARGV("status");
}

static void test_status_of(void)
{
	CHECK_EQ(api_status_of(-1), 400);
	CHECK_EQ(api_status_of(-404), 404);
	CHECK_EQ(api_status_of(-409), 409);
	CHECK_EQ(api_status_of(-503), 503);
	CHECK_EQ(api_status_of(-2), 500);
	CHECK_EQ(api_status_of(-600), 500);
}

int main(void)
{
	test_reads();
	test_top();
	test_traffic();
	test_history();
	test_hosts();
	test_ids();
	test_writes();
	test_bodies();
	test_methods();
	test_paths();
	test_assets();
	test_status_of();
	return t_done("test_api");
}
