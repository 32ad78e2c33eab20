/* moatctl: the control client. Sends one request (COMMAND ARGS...) to moatd's control socket
 * (protocol in src/ctl/ctl.h), reads the one-line JSON reply and prints it: as received with
 * --json, else for people: tables and reports for the replies it knows (top, attacks, history,
 * attack, host, exporters, mitigations, rules, health, config check) and indented "key: value"
 * lines for the rest. The commands moatctl knows take their own options (top --by bps -n 5),
 * translated here into moatd's words ("top" "bps" "incoming" "5"); any other command is sent as
 * it is. `top` asks again every interval and redraws, like top(1).
 * Exit status: 0 ok, 1 the daemon said no, 2 bad usage, 3 no (valid) reply. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/jparse.h"
#include "ctl/ctl.h"

#define MOAT_VERSION "0.1.0"

#define EXIT_NO	  1 /* the daemon answered "ok":false */
#define EXIT_USE  2
#define EXIT_DOWN 3 /* moatd not reachable, or no valid reply */

#define REPLY_TIMEOUT_MS 5000
#define REPLY_MAX	 ((size_t)256 << 20)

static void usage(FILE *f)
{
	fprintf(f,
		"usage: moatctl [-s PATH] [--json] COMMAND [ARGS...]\n"
		"\n"
		"Sends a command to moatd over its control socket and prints the reply.\n"
		"\n"
		"  -s, --socket PATH   control socket (default " CTL_DEFAULT_PATH ")\n"
		"      --json          print the reply as received: one JSON object on one line\n"
		"                      (top: one line per refresh)\n"
		"  -h, --help          this text\n"
		"  -V, --version       version\n"
		"\n"
		"Commands (moatd decides what it supports; others come back as errors):\n"
		"  status                        the daemon's state\n"
		"  health                        moatd's version and uptime\n"
		"  top [TOP OPTIONS]             the busiest hosts, redrawn like top(1); keys:\n"
		"                                q quits, p/b/f order by pps/bps/flows,\n"
		"                                d switches direction, space refreshes\n"
		"  host ADDRESS                  one tracked host, both directions\n"
		"  attacks                       the active attacks\n"
		"  history [HISTORY OPTIONS]     attacks from the history, newest first\n"
		"  attack ID                     one attack: facts, vector, timeline, events,\n"
		"                                mitigations, routes\n"
		"  mitigations                   scrubber rules and BGP routes in place\n"
		"  exporters                     flow collectors and their exporters\n"
		"  config check                  load moatd's configuration file, not applying it\n"
		"  reload                        reload the configuration (as SIGHUP)\n"
		"  rules                         the same as rule list\n"
		"  rule list                     mitigation rules with their counters\n"
		"  rule add TARGET [MATCH...] ACTION\n"
		"                                add a manual rule; ACTION is drop, pass or\n"
		"                                ratelimit PPS (grammar: moatctl(8))\n"
		"  rule del ID                   delete a rule\n"
		"  bgp peers                     BGP sessions and their state\n"
		"  bgp list                      routes announced, with their attacks\n"
		"  bgp announce blackhole|diversion ADDRESS\n"
		"  bgp announce flowspec TARGET [MATCH...] drop\n"
		"                                announce by hand (rule words: moatctl(8))\n"
		"  bgp withdraw ID               withdraw a route\n"
		"  help                          this text\n"
		"\n"
		"Top options (after top):\n"
		"      --by pps|bps|flows        order by packets, bits or flows a second (pps)\n"
		"      --direction incoming|outgoing\n"
		"                                traffic to the hosts or from them (incoming)\n"
		"  -n N                          hosts, 1..100 (as many as fit the terminal;\n"
		"                                10 when the output is not a terminal)\n"
		"      --interval SECONDS        time between refreshes (1)\n"
		"      --count K                 stop after K refreshes (default: run until q,\n"
		"                                or once when the output is not a terminal)\n"
		"History options (after history):\n"
		"  -n N                          at most N attacks, 1..1000 (moatd's default: 50)\n"
		"      --before UNIX             only attacks that started before this time\n"
		"      --target ADDRESS          only attacks on this address\n"
		"\n"
		"Exit status: 0 ok, 1 moatd refused the command, 2 bad usage, 3 moatd not\n"
		"reachable or no valid reply.\n");
}

/* ---- talking to moatd ---- */

/* Sends the request and reads the whole reply into *out (NUL-terminated). On failure prints
 * why and returns EXIT_DOWN (or EXIT_USE for a socket path that cannot be one). */
static int transact(const char *path, int argc, const char *const *argv, char **out, size_t *outlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct timeval tv = {.tv_sec = REPLY_TIMEOUT_MS / 1000};
	size_t reqlen = 1;
	char *req, *p;
	int fd, e;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "moatctl: socket path too long (at most %zu bytes): %s\n",
			sizeof(sa.sun_path) - 1, path);
		return EXIT_USE;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	for (int i = 0; i < argc; i++)
		reqlen += strlen(argv[i]) + 1;
	req = p = malloc(reqlen);
	if (!req) {
		fprintf(stderr, "moatctl: out of memory\n");
		return EXIT_DOWN;
	}
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);
		memcpy(p, argv[i], n);
		p[n] = '\n';
		p += n + 1;
	}
	*p = '\n';

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fprintf(stderr, "moatctl: socket: %s\n", strerror(errno));
		free(req);
		return EXIT_DOWN;
	}
	/* a connect to a listener whose backlog is full waits this long, then fails */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno;
		fprintf(stderr, "moatctl: cannot connect to moatd at %s: %s%s\n", path, strerror(e),
			e == ENOENT || e == ECONNREFUSED ? " (is moatd running?)"
			: e == EACCES ? " (moatctl needs moatd's user, usually root)"
				      : "");
		free(req);
		close(fd);
		return EXIT_DOWN;
	}
	for (size_t off = 0; off < reqlen;) {
		ssize_t n = send(fd, req + off, reqlen - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "moatctl: sending to moatd at %s: %s\n", path,
				strerror(errno));
			free(req);
			close(fd);
			return EXIT_DOWN;
		}
		off += (size_t)n;
	}
	free(req);

	uint64_t deadline = mono_ns() / 1000000 + REPLY_TIMEOUT_MS;
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);
	int rc = 0;
	if (!buf) {
		fprintf(stderr, "moatctl: out of memory\n");
		close(fd);
		return EXIT_DOWN;
	}
	for (;;) {
		uint64_t now = mono_ns() / 1000000;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (now >= deadline) {
			fprintf(stderr, "moatctl: no reply from moatd at %s within %d s\n", path,
				REPLY_TIMEOUT_MS / 1000);
			rc = EXIT_DOWN;
			break;
		}
		int r = poll(&pfd, 1, (int)(deadline - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "moatctl: poll: %s\n", strerror(errno));
			rc = EXIT_DOWN;
			break;
		}
		if (r == 0)
			continue;
		if (cap - len < 2) {
			if (cap >= REPLY_MAX) {
				fprintf(stderr, "moatctl: reply from moatd larger than %zu MiB\n",
					REPLY_MAX >> 20);
				rc = EXIT_DOWN;
				break;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				fprintf(stderr, "moatctl: out of memory\n");
				rc = EXIT_DOWN;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		/* a reset after a complete line is the daemon closing with our bytes unread */
		if (n == 0 || (n < 0 && errno == ECONNRESET && len && buf[len - 1] == '\n'))
			break;
		if (n < 0) {
			fprintf(stderr, "moatctl: reading the reply of moatd at %s: %s\n", path,
				strerror(errno));
			rc = EXIT_DOWN;
			break;
		}
		len += (size_t)n;
	}
	close(fd);
	if (rc) {
		free(buf);
		return rc;
	}
	buf[len] = 0;
	*out = buf;
	*outlen = len;
	return 0;
}

/* ---- text ---- */

static void oom(void)
{
	fprintf(stderr, "moatctl: out of memory\n");
	exit(EXIT_DOWN);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p)
		oom();
	return p;
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		oom();
	va_end(ap);
	return s;
}

/* a string fit for a terminal: control characters become '?' */
static char *clean(const char *s)
{
	char *o = strdup(s ? s : "");
	if (!o)
		oom();
	for (char *p = o; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return o;
}

/* characters on screen: UTF-8 sequences, not bytes */
static size_t width(const char *s)
{
	size_t w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

/* a memory stream for text built piece by piece */
struct sbuf {
	FILE *f;
	char *p;
	size_t n;
};

static FILE *sb_open(struct sbuf *b)
{
	b->p = NULL;
	b->n = 0;
	b->f = open_memstream(&b->p, &b->n);
	if (!b->f)
		oom();
	return b->f;
}

/* the text (malloc'd, the caller's) */
static char *sb_done(struct sbuf *b)
{
	if (fclose(b->f) != 0 || !b->p)
		oom();
	return b->p;
}

static bool scalar(const struct jval *v)
{
	enum jtype t = jv_type(v);
	return t == J_NULL || t == J_BOOL || t == J_NUM || t == J_STR;
}

/* a scalar as text (malloc'd): null is "-" */
static char *fmt_scalar(const struct jval *v)
{
	char b[64];
	int64_t i;
	uint64_t u;

	switch (jv_type(v)) {
	case J_STR: {
		size_t n;
		const char *s = jv_strn(v, &n);
		return clean(jv_str(v) ? s : "(binary)");
	}
	case J_NUM:
		if (jv_int(v, &i))
			snprintf(b, sizeof(b), "%lld", (long long)i);
		else if (jv_uint(v, &u))
			snprintf(b, sizeof(b), "%llu", (unsigned long long)u);
		else
			snprintf(b, sizeof(b), "%.15g", jv_num(v));
		break;
	case J_BOOL:
		snprintf(b, sizeof(b), "%s", jv_bool(v) ? "true" : "false");
		break;
	case J_ARR:
	case J_OBJ:
		snprintf(b, sizeof(b), "(%zu %s)", jv_len(v),
			 jv_type(v) == J_ARR ? "items" : "members");
		break;
	default:
		snprintf(b, sizeof(b), "-");
	}
	return clean(b);
}

/* a string member as text, "-" when it is not a string */
static char *fmt_str(const struct jval *v)
{
	return jv_type(v) == J_STR ? fmt_scalar(v) : clean("-");
}

/* 1234567 -> 1.2M; under 1000 as is; "-" when not a number */
static char *fmt_human(const struct jval *v)
{
	static const char units[] = " kMGTPE";
	double x = jv_num(v);
	char b[32];
	int u = 0;

	if (isnan(x))
		return clean("-");
	if (fabs(x) < 1000) {
		snprintf(b, sizeof(b), "%.0f", x);
		return clean(b);
	}
	while (fabs(x) >= 999.5 && u < 6) {
		x /= 1000;
		u++;
	}
	snprintf(b, sizeof(b), fabs(x) < 9.95 ? "%.1f%c" : "%.0f%c", x, units[u]);
	return clean(b);
}

/* A quantity with an SI prefix and three significant digits: 30.1 kpps, 1.23 Gbit/s, 950 pps;
 * "-" for NAN. pad: a space stands for no prefix (" 950  pps"), so units line up in columns. */
static char *fmt_si(double x, const char *unit, bool pad)
{
	static const char prefix[] = "kMGTPE";
	int u = -1;

	if (isnan(x))
		return clean("-");
	while (fabs(x) >= 999.5 && u < 5) {
		x /= 1000;
		u++;
	}
	if (u < 0)
		return xasprintf("%.0f %s%s", x, pad ? " " : "", unit);
	double a = fabs(x);
	return xasprintf(a < 9.995   ? "%.2f %c%s"
			 : a < 99.95 ? "%.1f %c%s"
				     : "%.0f %c%s",
			 x, prefix[u], unit);
}

static char *fmt_pps(const struct jval *v, bool pad)
{
	return fmt_si(jv_num(v), "pps", pad);
}

static char *fmt_bps(const struct jval *v, bool pad)
{
	return fmt_si(jv_num(v), "bit/s", pad);
}

/* part of whole as a percentage: 97%; "-" when whole is 0 or either is missing */
static char *fmt_share(const struct jval *part, const struct jval *whole)
{
	double p = jv_num(part), w = jv_num(whole);
	if (isnan(p) || isnan(w) || w <= 0)
		return clean("-");
	return xasprintf("%.0f%%", p / w * 100);
}

/* seconds -> 45s, 3m05s, 2h10m, 3d04h; "-" when not a number */
static char *fmt_secs(double x)
{
	if (isnan(x))
		return clean("-");
	long long s = x < 0 ? 0 : (long long)ceil(x);
	if (s < 60)
		return xasprintf("%llds", s);
	if (s < 3600)
		return xasprintf("%lldm%02llds", s / 60, s % 60);
	if (s < 86400)
		return xasprintf("%lldh%02lldm", s / 3600, s / 60 % 60);
	return xasprintf("%lldd%02lldh", s / 86400, s / 3600 % 24);
}

static char *fmt_duration(const struct jval *v)
{
	return fmt_secs(jv_num(v));
}

enum tstyle { T_DATE, T_TIME, T_TENTHS };

/* unix seconds as local time: 2026-01-02 15:04:05, 15:04:05 or 15:04:05.7; "-" when missing */
static char *fmt_time(const struct jval *v, enum tstyle style)
{
	double x = jv_num(v);
	struct tm tm;
	char b[64];

	if (isnan(x) || x < 0 || x > 1e12)
		return clean("-");
	long long ms = llround(x * 1000);
	time_t t = (time_t)(ms / 1000);
	if (!localtime_r(&t, &tm))
		return clean("-");
	strftime(b, sizeof(b), style == T_DATE ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S", &tm);
	if (style == T_TENTHS)
		return xasprintf("%s.%lld", b, ms % 1000 / 100);
	return clean(b);
}

/* true -> yes, false -> no */
static char *fmt_yesno(const struct jval *v)
{
	if (jv_type(v) == J_BOOL)
		return clean(jv_bool(v) ? "yes" : "no");
	return fmt_scalar(v);
}

/* incoming -> in, outgoing -> out */
static char *fmt_dir(const struct jval *v)
{
	const char *s = jv_str(v);
	if (s && !strcmp(s, "incoming"))
		return clean("in");
	if (s && !strcmp(s, "outgoing"))
		return clean("out");
	return fmt_str(v);
}

/* an array of scalars as "a,b,c" ("-" when empty or not an array) */
static char *fmt_list(const struct jval *a, const char *sep)
{
	struct sbuf b;
	FILE *f = sb_open(&b);

	if (jv_type(a) != J_ARR || !jv_len(a))
		fputs("-", f);
	for (size_t i = 0; i < jv_len(a); i++) {
		char *s = fmt_scalar(jv_at(a, i));
		fprintf(f, "%s%s", i ? sep : "", s);
		free(s);
	}
	return sb_done(&b);
}

/* ---- tables ---- */

struct table {
	int ncols;
	const char **head;
	const bool *right;
	char **cells; /* rows * ncols */
	size_t rows;
};

static void table_init(struct table *t, int ncols, const char **head, const bool *right,
		       size_t rows)
{
	t->ncols = ncols;
	t->head = head;
	t->right = right;
	t->rows = rows;
	t->cells = xcalloc(rows * (size_t)ncols, sizeof(char *));
}

static char **table_row(struct table *t, size_t r)
{
	return t->cells + r * (size_t)t->ncols;
}

static void table_print(FILE *f, struct table *t, int indent)
{
	size_t w[64] = {0};

	for (int c = 0; c < t->ncols && c < 64; c++) {
		w[c] = width(t->head[c]);
		for (size_t r = 0; r < t->rows; r++)
			if (width(t->cells[r * (size_t)t->ncols + (size_t)c]) > w[c])
				w[c] = width(t->cells[r * (size_t)t->ncols + (size_t)c]);
	}
	for (size_t r = 0; r <= t->rows; r++) {
		fprintf(f, "%*s", indent, "");
		for (int c = 0; c < t->ncols && c < 64; c++) {
			const char *s =
			    r ? t->cells[(r - 1) * (size_t)t->ncols + (size_t)c] : t->head[c];
			size_t pad = w[c] - width(s);
			bool last = c == t->ncols - 1 || c == 63;
			if (t->right[c])
				fprintf(f, "%*s%s", (int)pad, "", s);
			else
				fprintf(f, "%s%*s", s, last ? 0 : (int)pad, "");
			if (!last)
				fprintf(f, "  ");
		}
		fprintf(f, "\n");
	}
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->rows * (size_t)t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
}

/* rules: the rule table, one row per RULE object */
static void print_rules(const struct jval *arr, size_t n, const struct jval *one)
{
	static const char *head[] = {"ID",	"TARGET",  "ORIGIN",  "ACTION",
				     "PACKETS", "DROPPED", "EXPIRES", "RULE"};
	static const bool right[] = {true, false, false, false, true, true, true, false};
	struct table t;

	table_init(&t, 8, head, right, n);
	for (size_t r = 0; r < n; r++) {
		const struct jval *v = one ? one : jv_at(arr, r);
		char **row = table_row(&t, r);
		row[0] = fmt_scalar(jv_get(v, "id"));
		row[1] = fmt_scalar(jv_get(v, "target"));
		row[2] = fmt_scalar(jv_get(v, "origin"));
		row[3] = fmt_scalar(jv_get(v, "action"));
		row[4] = fmt_human(jv_get(v, "packets"));
		row[5] = fmt_human(jv_get(v, "dropped_packets"));
		row[6] = fmt_duration(jv_get(v, "expires_in"));
		row[7] = fmt_scalar(jv_get(v, "text"));
	}
	table_print(stdout, &t, 0);
	table_free(&t);
}

/* BGP routes as bgp list gives them */
static void print_routes(const struct jval *arr)
{
	static const char *head[] = {"ID", "ACTION", "TARGET", "ATTACK", "AGE", "EXPIRES", "ROUTE"};
	static const bool right[] = {true, false, false, false, true, true, false};
	struct table t;

	table_init(&t, 7, head, right, jv_len(arr));
	for (size_t r = 0; r < t.rows; r++) {
		const struct jval *v = jv_at(arr, r);
		char **row = table_row(&t, r);
		row[0] = fmt_scalar(jv_get(v, "id"));
		row[1] = fmt_str(jv_get(v, "action"));
		row[2] = fmt_str(jv_get(v, "target"));
		row[3] = fmt_str(jv_get(v, "attack"));
		row[4] = fmt_duration(jv_get(v, "age"));
		row[5] = fmt_duration(jv_get(v, "expires_in"));
		row[6] = fmt_str(jv_get(v, "route"));
	}
	table_print(stdout, &t, 0);
	table_free(&t);
}

static void print_value(const char *key, const struct jval *v, int indent, size_t keyw);

/* an array of objects whose members are all scalars: a table, columns in order of first use */
static bool table_able(const struct jval *a)
{
	if (jv_type(a) != J_ARR || !jv_len(a))
		return false;
	for (size_t i = 0; i < jv_len(a); i++) {
		const struct jval *o = jv_at(a, i);
		if (jv_type(o) != J_OBJ)
			return false;
		for (size_t k = 0; k < jv_len(o); k++)
			if (!scalar(jv_at(o, k)))
				return false;
	}
	return true;
}

static void print_table(const struct jval *a, int indent)
{
	const char *keys[64];
	int nk = 0;

	for (size_t i = 0; i < jv_len(a); i++) {
		const struct jval *o = jv_at(a, i);
		for (size_t k = 0; k < jv_len(o) && nk < 64; k++) {
			int j = 0;
			while (j < nk && strcmp(keys[j], jv_key(o, k)))
				j++;
			if (j == nk)
				keys[nk++] = jv_key(o, k);
		}
	}
	struct table t;
	char **head = xcalloc((size_t)nk, sizeof(char *));
	bool *right = xcalloc((size_t)nk, sizeof(bool));
	table_init(&t, nk, (const char **)head, right, jv_len(a));
	for (int j = 0; j < nk; j++) {
		head[j] = clean(keys[j]);
		for (char *p = head[j]; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
		right[j] = true; /* numbers right, unless the column holds anything else */
		for (size_t r = 0; r < t.rows; r++) {
			const struct jval *cv = jv_get(jv_at(a, r), keys[j]);
			t.cells[r * (size_t)nk + (size_t)j] = fmt_scalar(cv);
			if (cv && jv_type(cv) != J_NUM && jv_type(cv) != J_NULL)
				right[j] = false;
		}
	}
	table_print(stdout, &t, indent);
	table_free(&t);
	for (int j = 0; j < nk; j++)
		free(head[j]);
	free(head);
	free(right);
}

/* the members of an object, keys of scalar members aligned */
static void print_members(const struct jval *o, int indent)
{
	size_t keyw = 0;

	for (size_t k = 0; k < jv_len(o); k++) {
		char *key = clean(jv_key(o, k));
		if (scalar(jv_at(o, k)) && width(key) > keyw)
			keyw = width(key);
		free(key);
	}
	for (size_t k = 0; k < jv_len(o); k++)
		print_value(jv_key(o, k), jv_at(o, k), indent, keyw);
}

/* "key: value", or "key:" and the value below, indented; key NULL for an array element */
static void print_value(const char *key, const struct jval *v, int indent, size_t keyw)
{
	char *k = clean(key ? key : "-");
	size_t pad = keyw > width(k) ? keyw - width(k) : 0;

	if (key)
		printf("%*s%s:", indent, "", k);
	else
		printf("%*s-", indent, "");
	free(k);
	if (scalar(v)) {
		char *s = fmt_scalar(v);
		printf("%*s %s\n", key ? (int)pad : 0, "", s);
		free(s);
	} else if (!jv_len(v)) {
		printf(" %s\n", jv_type(v) == J_ARR ? "(none)" : "{}");
	} else if (jv_type(v) == J_OBJ) {
		printf("\n");
		print_members(v, indent + 2);
	} else {
		bool all = true;
		for (size_t i = 0; i < jv_len(v); i++)
			all = all && scalar(jv_at(v, i));
		if (all) {
			for (size_t i = 0; i < jv_len(v); i++) {
				char *s = fmt_scalar(jv_at(v, i));
				printf("%s%s", i ? ", " : " ", s);
				free(s);
			}
			printf("\n");
		} else if (table_able(v)) {
			printf("\n");
			print_table(v, indent + 2);
		} else {
			printf("\n");
			for (size_t i = 0; i < jv_len(v); i++)
				print_value(NULL, jv_at(v, i), indent + 2, 0);
		}
	}
}

/* Known shapes (rules, rule, deleted) as tables and sentences, every other member generic; a
 * table is set off from what comes before and after it by an empty line */
static void print_reply(const struct jval *r)
{
	const struct jval *rules = jv_get(r, "rules"), *rule = jv_get(r, "rule");
	const struct jval *del = jv_get(r, "deleted");
	bool printed = false, after_table = false;
	size_t keyw = 0;

	for (size_t j = 0; j < jv_len(r); j++) {
		char *kk = clean(jv_key(r, j));
		if (scalar(jv_at(r, j)) && strcmp(kk, "ok") && width(kk) > keyw)
			keyw = width(kk);
		free(kk);
	}
	for (size_t k = 0; k < jv_len(r); k++) {
		const char *key = jv_key(r, k);
		const struct jval *v = jv_at(r, k);
		bool table =
		    (v == rules && jv_type(v) == J_ARR) || (v == rule && jv_type(v) == J_OBJ);
		if (!strcmp(key, "ok"))
			continue;
		if (printed && (table || after_table))
			printf("\n");
		printed = true;
		after_table = table;
		if (v == rules && table) {
			if (jv_len(v))
				print_rules(v, jv_len(v), NULL);
			else
				printf("no rules\n");
		} else if (v == rule && table) {
			print_rules(NULL, 1, v);
		} else if (v == del && scalar(v)) {
			char *s = fmt_scalar(v);
			printf("rule %s deleted\n", s);
			free(s);
		} else {
			print_value(key, v, 0, keyw);
		}
	}
}

/* ---- the replies of the commands moatctl knows ---- */

/* health: {"version","uptime"} */
static void show_health(const struct jval *r)
{
	char *v = fmt_str(jv_get(r, "version")), *u = fmt_duration(jv_get(r, "uptime"));
	printf("moatd %s is answering, up %s\n", v, u);
	free(v);
	free(u);
}

/* config check: {"config":PATH} */
static void show_config(const struct jval *r)
{
	char *p = fmt_str(jv_get(r, "config"));
	printf("%s: the configuration loads\n", p);
	free(p);
}

/* The mitigations acting on an attack: "rule 3, route 1" from {"kind":"scrubber"|"bgp","id":N,...}
 * objects; plain ids as they are; "-" for none. */
static char *fmt_acting(const struct jval *a)
{
	struct sbuf b;
	FILE *f = sb_open(&b);
	size_t n = jv_type(a) == J_ARR ? jv_len(a) : 0;

	if (!n)
		fputs("-", f);
	for (size_t i = 0; i < n; i++) {
		const struct jval *m = jv_at(a, i);
		const char *kind = jv_str(jv_get(m, "kind"));
		char *id = fmt_scalar(jv_type(m) == J_OBJ ? jv_get(m, "id") : m);
		fprintf(f, "%s%s%s", i ? ", " : "",
			!kind			    ? ""
			: !strcmp(kind, "scrubber") ? "rule "
			: !strcmp(kind, "bgp")	    ? "route "
						    : "",
			id);
		free(id);
	}
	return sb_done(&b);
}

/* A table of attacks (r's "attacks", ten columns), each row filled by row(); `none` when there
 * are none; anything but a list is printed as it came. */
static void show_attack_list(const struct jval *r, const char *none, const char **head,
			     const bool *right, void (*row)(const struct jval *x, char **cells))
{
	const struct jval *a = jv_get(r, "attacks");
	struct table t;

	if (jv_type(a) != J_ARR) {
		print_reply(r);
		return;
	}
	if (!jv_len(a)) {
		printf("%s\n", none);
		return;
	}
	table_init(&t, 10, head, right, jv_len(a));
	for (size_t i = 0; i < t.rows; i++) {
		const struct jval *x = jv_at(a, i);
		char **cells = table_row(&t, i);
		cells[0] = fmt_str(jv_get(x, "id"));
		cells[1] = fmt_str(jv_get(x, "target"));
		cells[2] = fmt_dir(jv_get(x, "direction"));
		cells[3] = fmt_str(jv_get(x, "type"));
		row(x, cells);
	}
	table_print(stdout, &t, 0);
	table_free(&t);
}

static void active_row(const struct jval *x, char **row)
{
	row[4] = fmt_pps(jv_get(x, "pps"), true);
	row[5] = fmt_bps(jv_get(x, "bps"), true);
	row[6] = fmt_pps(jv_get(x, "peak_pps"), true);
	row[7] = fmt_bps(jv_get(x, "peak_bps"), true);
	row[8] = fmt_duration(jv_get(x, "duration"));
	row[9] = fmt_acting(jv_get(x, "mitigations"));
}

/* attacks: the active attacks, one row each */
static void show_attacks(const struct jval *r)
{
	static const char *head[] = {"ID",  "TARGET",	"DIR",	    "TYPE",	"PPS",
				     "BPS", "PEAK PPS", "PEAK BPS", "DURATION", "MITIGATIONS"};
	static const bool right[] = {false, false, false, false, true,
				     true,  true,  true,  true,	 false};

	show_attack_list(r, "no active attacks", head, right, active_row);
}

static void history_row(const struct jval *x, char **row)
{
	row[4] = fmt_str(jv_get(x, "state"));
	row[5] = fmt_time(jv_get(x, "started"), T_DATE);
	row[6] = fmt_duration(jv_get(x, "duration"));
	row[7] = fmt_pps(jv_get(x, "peak_pps"), true);
	row[8] = fmt_bps(jv_get(x, "peak_bps"), true);
	row[9] = jv_type(jv_get(x, "mitigations")) == J_ARR
		     ? xasprintf("%zu", jv_len(jv_get(x, "mitigations")))
		     : fmt_scalar(jv_get(x, "mitigations"));
}

/* history: attacks from the database, newest first */
static void show_history(const struct jval *r)
{
	static const char *head[] = {"ID",	"TARGET",   "DIR",	"TYPE",	    "STATE",
				     "STARTED", "DURATION", "PEAK PPS", "PEAK BPS", "MITIGATIONS"};
	static const bool right[] = {false, false, false, false, false,
				     false, true,  true,  true,	 true};

	show_attack_list(r, "no attacks in the history", head, right, history_row);
}

/* host: one host's facts, then its two directions side by side */
static void show_host(const struct jval *r)
{
	static const char *head[] = {"", "INCOMING", "OUTGOING"};
	static const bool right[] = {false, true, true};
	enum kind { K_YESNO, K_PPS, K_BPS, K_SHARE, K_COUNT, K_BYTES, K_STR };
	static const struct {
		const char *key, *label;
		enum kind k;
	} rows[] = {{"hot", "hot", K_YESNO},	   {"pps", "pps", K_PPS},
		    {"bps", "bps", K_BPS},	   {"flows", "flows", K_COUNT},
		    {"tcp_pps", "tcp", K_SHARE},   {"udp_pps", "udp", K_SHARE},
		    {"icmp_pps", "icmp", K_SHARE}, {"packets", "packets", K_COUNT},
		    {"bytes", "bytes", K_BYTES},   {"attack", "attack", K_STR}};
	const struct jval *h = jv_get(r, "host");
	const struct jval *d[2] = {jv_get(h, "incoming"), jv_get(h, "outgoing")};
	struct table t;

	if (jv_type(h) != J_OBJ) {
		print_reply(r);
		return;
	}
	char *addr = fmt_str(jv_get(h, "host")), *hg = fmt_str(jv_get(h, "hostgroup"));
	char *pr = fmt_yesno(jv_get(h, "protected")), *wl = fmt_yesno(jv_get(h, "whitelisted"));
	char *idle = jv_type(jv_get(h, "idle")) == J_NUM
			 ? xasprintf("%.1f s since its last packet", jv_num(jv_get(h, "idle")))
			 : clean("-");
	printf("host         %s\nhostgroup    %s\nprotected    %s\nwhitelisted  %s\nidle         "
	       "%s\n\n",
	       addr, hg, pr, wl, idle);
	free(addr);
	free(hg);
	free(pr);
	free(wl);
	free(idle);
	table_init(&t, 3, head, right, sizeof(rows) / sizeof(rows[0]));
	for (size_t i = 0; i < t.rows; i++) {
		char **row = table_row(&t, i);
		row[0] = clean(rows[i].label);
		for (int k = 0; k < 2; k++) {
			const struct jval *v = jv_get(d[k], rows[i].key);
			char *a, *s;
			switch (rows[i].k) {
			case K_YESNO:
				row[1 + k] = fmt_yesno(v);
				break;
			case K_PPS:
				row[1 + k] = fmt_pps(v, true);
				break;
			case K_BPS:
				row[1 + k] = fmt_bps(v, true);
				break;
			case K_SHARE:
				a = fmt_pps(v, true), s = fmt_share(v, jv_get(d[k], "pps"));
				row[1 + k] = xasprintf("%s (%s)", a, s);
				free(a), free(s);
				break;
			case K_COUNT:
				row[1 + k] = fmt_human(v);
				break;
			case K_BYTES:
				row[1 + k] = fmt_si(jv_num(v), "B", true);
				break;
			default:
				row[1 + k] = fmt_str(v);
			}
		}
	}
	table_print(stdout, &t, 0);
	table_free(&t);
}

/* exporters: per collector a line of its counters and a table of its exporters */
static void show_exporters(const struct jval *r)
{
	static const char *head[] = {"EXPORTER", "LISTED",  "DATAGRAMS", "RECORDS",   "TEMPLATES",
				     "ERRORS",	 "NO TMPL", "TMPL FULL", "BAD SAMPL", "LOST",
				     "COUNTERS", "IGNORED", "IDLE"};
	static const char *keys[] = {"address",	     "listed", "datagrams",	  "records",
				     "templates",    "errors", "no_template",	  "template_full",
				     "bad_sampling", "lost",   "counter_samples", "ignored",
				     "idle"};
	static const bool right[] = {false, false, true, true, true, true, true,
				     true,  true,  true, true, true, true};
	const struct jval *cs = jv_get(r, "collectors");

	if (jv_type(cs) != J_ARR && jv_type(cs) != J_NULL) {
		print_reply(r);
		return;
	}
	if (!jv_len(cs)) {
		printf("no flow collectors: moatd has no sflow or netflow capture configured\n");
		return;
	}
	for (size_t i = 0; i < jv_len(cs); i++) {
		const struct jval *c = jv_at(cs, i), *ex = jv_get(c, "exporters");
		char *k = fmt_str(jv_get(c, "kind")), *l = fmt_str(jv_get(c, "listen"));
		char *dg = fmt_human(jv_get(c, "datagrams")),
		     *ue = fmt_human(jv_get(c, "unknown_exporter"));
		char *ef = fmt_human(jv_get(c, "exporters_full")),
		     *sf = fmt_human(jv_get(c, "spread_full"));
		char *ra = fmt_human(jv_get(c, "reanchors")),
		     *sd = fmt_human(jv_get(c, "socket_drops"));
		printf("%s%s on %s: %s datagrams, %s from unknown exporters, %s with the exporter "
		       "table "
		       "full, %s spread full, %s reanchors, %s socket drops\n",
		       i ? "\n" : "", k, l, dg, ue, ef, sf, ra, sd);
		free(k), free(l), free(dg), free(ue), free(ef), free(sf), free(ra), free(sd);
		if (!jv_len(ex)) {
			printf("  no exporter heard from\n");
			continue;
		}
		struct table t;
		table_init(&t, 13, head, right, jv_len(ex));
		for (size_t e = 0; e < t.rows; e++) {
			const struct jval *x = jv_at(ex, e);
			char **row = table_row(&t, e);
			for (int j = 0; j < 13; j++) {
				const struct jval *v = jv_get(x, keys[j]);
				if (!strcmp(keys[j], "idle"))
					row[j] = fmt_duration(v);
				else if (jv_type(v) == J_BOOL)
					row[j] = fmt_yesno(v);
				else if (jv_type(v) == J_NUM)
					row[j] = fmt_human(v);
				else
					row[j] = fmt_scalar(v);
			}
		}
		table_print(stdout, &t, 2);
		table_free(&t);
	}
}

/* mitigations: the scrubber's rules and the BGP routes, each null when not configured */
static void show_mitigations(const struct jval *r)
{
	const struct jval *rules = jv_get(r, "rules"), *routes = jv_get(r, "routes");

	if ((jv_type(rules) != J_ARR && jv_type(rules) != J_NULL) ||
	    (jv_type(routes) != J_ARR && jv_type(routes) != J_NULL)) {
		print_reply(r);
		return;
	}
	printf("Scrubber rules:");
	if (jv_type(rules) == J_NULL)
		printf(" none, no scrubber configured\n");
	else if (!jv_len(rules))
		printf(" none\n");
	else {
		printf("\n");
		print_rules(rules, jv_len(rules), NULL);
	}
	printf("\nBGP routes:");
	if (jv_type(routes) == J_NULL)
		printf(" none, no BGP configured\n");
	else if (!jv_len(routes))
		printf(" none\n");
	else {
		printf("\n");
		print_routes(routes);
	}
}

/* A bar chart of vals over time (ts the times of the points) on a few lines of text: up to 60
 * columns, each the highest value of the points in its time slot, or when it has none the value
 * of the last point before it (a rate holds until the next point says otherwise). Without usable
 * times, a column per point (or group of points). */
static void chart(const char *title, const struct jval *ts, const struct jval *vals,
		  const char *unit)
{
	enum { H = 6, WMAX = 60 };
	double col[WMAX], max = 0, held = 0;
	size_t n = jv_type(vals) == J_ARR ? jv_len(vals) : 0, w, next = 0;

	if (!n)
		return;
	double t0 = jv_num(jv_at(ts, 0)), span = jv_num(jv_at(ts, n - 1)) - t0;
	bool bytime = jv_len(ts) == n && !isnan(span) && span > 0;
	/* a column a second at least, a column a point when they are denser; at most WMAX */
	w = bytime && span < WMAX - 1 && (size_t)ceil(span) + 1 > n ? (size_t)ceil(span) + 1 : n;
	if (w > WMAX)
		w = WMAX;
	double step = bytime ? span / (double)(w - 1) : 0;
	for (size_t c = 0; c < w; c++) {
		double m = -1;
		if (bytime) {
			double hi = t0 + ((double)c + 0.5) * step;
			for (; next < n && jv_num(jv_at(ts, next)) < hi; next++) {
				double x = jv_num(jv_at(vals, next));
				if (x > m)
					m = x;
				held = x;
			}
			if (m < 0)
				m = held;
		} else {
			for (size_t i = c * n / w; i < (c + 1) * n / w; i++) {
				double x = jv_num(jv_at(vals, i));
				if (x > m)
					m = x;
			}
		}
		col[c] = m;
		if (m > max)
			max = m;
	}
	if (bytime)
		printf("  %s, a column every %.3g s\n", title, step);
	else
		printf("  %s\n", title);
	char *top = fmt_si(max, unit, false);
	int lw = (int)width(top);
	for (int row = H; row >= 1; row--) {
		char line[WMAX + 1];
		size_t end = 0;
		for (size_t c = 0; c < w; c++) {
			line[c] = max > 0 && ceil(col[c] / max * H) >= row ? '#' : ' ';
			if (line[c] != ' ')
				end = c + 1;
		}
		line[end] = 0;
		printf("  %*s |%s\n", lw, row == H ? top : "", line);
	}
	printf("  %*s +", lw, "0");
	for (size_t c = 0; c < w; c++)
		putchar('-');
	printf("\n");
	char *from = fmt_time(jv_at(ts, 0), T_TIME), *to = fmt_time(jv_at(ts, n - 1), T_TIME);
	if (w >= width(from) + width(to) + 1)
		printf("  %*s  %s%*s%s\n", lw, "", from, (int)(w - width(from) - width(to)), "",
		       to);
	else
		printf("  %*s  %s\n", lw, "", from);
	free(from);
	free(to);
	free(top);
}

/* a vector's top lists: "  protocols     udp 99.7%, tcp 0.3%", empty lists left out */
static void print_vector(const struct jval *vec)
{
	size_t kw = 0;

	if (jv_type(vec) != J_OBJ) {
		printf("Vector: none\n");
		return;
	}
	for (size_t k = 0; k < jv_len(vec); k++)
		if (width(jv_key(vec, k)) > kw)
			kw = width(jv_key(vec, k));
	printf("Vector:\n");
	for (size_t k = 0; k < jv_len(vec); k++) {
		const struct jval *v = jv_at(vec, k);
		char *key = clean(jv_key(vec, k));
		for (char *p = key; *p; p++)
			if (*p == '_')
				*p = ' ';
		if (jv_type(v) == J_ARR && !jv_len(v)) {
			free(key);
			continue;
		}
		printf("  %s%*s  ", key, (int)(kw - width(key)), "");
		free(key);
		if (jv_type(v) != J_ARR) {
			char *s = fmt_scalar(v);
			printf("%s\n", s);
			free(s);
			continue;
		}
		for (size_t i = 0; i < jv_len(v) && i < 6; i++) {
			const struct jval *e = jv_at(v, i);
			char *s = fmt_scalar(jv_get(e, "value") ? jv_get(e, "value") : e);
			double sh = jv_num(jv_get(e, "share"));
			if (isnan(sh))
				printf("%s%s", i ? ", " : "", s);
			else
				printf("%s%s %.1f%%", i ? ", " : "", s, sh * 100);
			free(s);
		}
		printf("%s\n", jv_len(v) > 6 ? ", ..." : "");
	}
}

/* the scalar members of an event that say something (not its name, time, attack, target) */
static void event_rest(FILE *f, const struct jval *e)
{
	static const char *skip[] = {"event", "ts",	   "id",	"attack",  "target",
				     "scope", "hostgroup", "direction", "mono_ns", NULL};
	bool first = true;

	for (size_t k = 0; k < jv_len(e); k++) {
		const char *key = jv_key(e, k);
		int s = 0;
		while (skip[s] && strcmp(skip[s], key))
			s++;
		if (skip[s] || !scalar(jv_at(e, k)))
			continue;
		char *ck = clean(key), *v = fmt_scalar(jv_at(e, k));
		fprintf(f, "%s%s=%s", first ? "" : " ", ck, v);
		first = false;
		free(ck);
		free(v);
	}
}

/* one line of what an event says */
static char *event_line(const struct jval *e)
{
	const char *ev = jv_str(jv_get(e, "event"));
	struct sbuf b;
	FILE *f = sb_open(&b);

	if (!ev)
		ev = "";
	if (!strncmp(ev, "attack_", 7)) {
		char *p = fmt_pps(jv_get(e, "pps"), false), *s = fmt_bps(jv_get(e, "bps"), false);
		char *ty = fmt_str(jv_get(e, "type"));
		fprintf(f, "%s, %s, %s", ty, p, s);
		if (!strcmp(ev, "attack_start")) {
			char *th = fmt_list(jv_get(e, "thresholds_exceeded"), ",");
			fprintf(f, ", over %s", th);
			free(th);
		} else if (!strcmp(ev, "attack_end")) {
			char *d = fmt_duration(jv_get(e, "duration"));
			fprintf(f, ", after %s", d);
			free(d);
		}
		free(p), free(s), free(ty);
	} else if (!strncmp(ev, "mitigation_", 11) && jv_get(e, "rule_id")) {
		char *id = fmt_scalar(jv_get(e, "rule_id")), *ru = fmt_str(jv_get(e, "rule"));
		fprintf(f, "rule %s: %s", id, ru);
		if (jv_get(e, "reason")) {
			char *re = fmt_str(jv_get(e, "reason"));
			fprintf(f, "; %s", re);
			free(re);
		}
		if (jv_get(e, "dropped_packets")) {
			char *dp = fmt_human(jv_get(e, "dropped_packets"));
			fprintf(f, "; %s packets dropped", dp);
			free(dp);
		}
		if (jv_type(jv_get(e, "setup_us")) == J_NUM)
			fprintf(f, "; in place in %.1f us", jv_num(jv_get(e, "setup_us")));
		free(id), free(ru);
	} else if (!strncmp(ev, "bgp_", 4) && jv_get(e, "route_id")) {
		char *id = fmt_scalar(jv_get(e, "route_id")), *ac = fmt_str(jv_get(e, "action"));
		char *ro = fmt_str(jv_get(e, "route"));
		fprintf(f, "route %s, %s: %s", id, ac, ro);
		if (jv_get(e, "reason")) {
			char *re = fmt_str(jv_get(e, "reason"));
			fprintf(f, "; %s", re);
			free(re);
		}
		free(id), free(ac), free(ro);
	} else {
		event_rest(f, e);
	}
	return sb_done(&b);
}

/* events in time order; a run of attack_update events as one line */
static void print_events(const struct jval *evs)
{
	static const char *head[] = {"TIME", "EVENT", "DETAILS"};
	static const bool right[] = {false, false, false};
	size_t n = jv_type(evs) == J_ARR ? jv_len(evs) : 0, rows = 0;
	struct table t;

	printf("Events (%zu):", n);
	if (!n) {
		printf(" none\n");
		return;
	}
	printf("\n");
	table_init(&t, 3, head, right, n);
	for (size_t i = 0; i < n; i++) {
		const struct jval *e = jv_at(evs, i);
		const char *ev = jv_str(jv_get(e, "event"));
		char **row = table_row(&t, rows++);
		row[0] = fmt_time(jv_get(e, "ts"), T_TENTHS);
		if (ev && !strcmp(ev, "attack_update")) {
			size_t j = i;
			double pp = 0, bp = 0;
			while (j < n && jv_str(jv_get(jv_at(evs, j), "event")) &&
			       !strcmp(jv_str(jv_get(jv_at(evs, j), "event")), "attack_update")) {
				double p = jv_num(jv_get(jv_at(evs, j), "pps"));
				double b = jv_num(jv_get(jv_at(evs, j), "bps"));
				pp = p > pp ? p : pp;
				bp = b > bp ? b : bp;
				j++;
			}
			if (j - i > 1) {
				char *t1 = fmt_time(jv_get(jv_at(evs, j - 1), "ts"), T_TENTHS);
				char *p = fmt_si(pp, "pps", false), *b = fmt_si(bp, "bit/s", false);
				row[1] = xasprintf("attack_update x%zu", j - i);
				row[2] = xasprintf("to %s, at most %s, %s", t1, p, b);
				free(t1), free(p), free(b);
				i = j - 1;
				continue;
			}
		}
		row[1] = fmt_str(jv_get(e, "event"));
		row[2] = event_line(e);
	}
	t.rows = rows;
	table_print(stdout, &t, 2);
	t.rows = n; /* the rows left empty are NULL: free(NULL) */
	table_free(&t);
}

/* the attack's scrubber rules, each with its counters and evidence */
static void print_attack_mitigations(const struct jval *ms)
{
	size_t n = jv_type(ms) == J_ARR ? jv_len(ms) : 0;

	printf("Mitigations (%zu):%s\n", n, n ? "" : " none");
	for (size_t i = 0; i < n; i++) {
		const struct jval *m = jv_at(ms, i), *c = jv_get(m, "counters");
		char *id = fmt_scalar(jv_get(m, "rule_id")), *ac = fmt_str(jv_get(m, "action"));
		char *og = fmt_str(jv_get(m, "origin")), *ru = fmt_str(jv_get(m, "rule"));
		char *t0 = fmt_time(jv_get(m, "started"), T_TIME);
		char *t1 = fmt_time(jv_get(m, "ended"), T_TIME);
		printf("  rule %s (%s, %s): %s\n", id, og, ac, ru);
		if (jv_type(jv_get(m, "ended")) == J_NUM) {
			char *re = fmt_str(jv_get(m, "reason"));
			printf("    in place %s to %s (%s)\n", t0, t1, re);
			free(re);
		} else {
			printf("    in place since %s\n", t0);
		}
		if (jv_type(c) == J_OBJ) {
			char *mp = fmt_human(jv_get(c, "packets"));
			char *mb = fmt_si(jv_num(jv_get(c, "bytes")), "B", false);
			char *dp = fmt_human(jv_get(c, "dropped_packets"));
			char *db = fmt_si(jv_num(jv_get(c, "dropped_bytes")), "B", false);
			printf("    matched %s packets (%s), dropped %s packets (%s)\n", mp, mb, dp,
			       db);
			free(mp), free(mb), free(dp), free(db);
		} else {
			printf("    counters: known when the rule ends (moatctl rule list has them "
			       "now)\n");
		}
		if (jv_type(jv_get(m, "evidence")) == J_STR) {
			char *ev = fmt_str(jv_get(m, "evidence"));
			char *np = fmt_scalar(jv_get(m, "evidence_packets"));
			printf("    evidence %s (%s packets)\n", ev, np);
			free(ev), free(np);
		} else {
			printf("    evidence: none\n");
		}
		free(id), free(ac), free(og), free(ru), free(t0), free(t1);
	}
}

static void print_attack_routes(const struct jval *rs)
{
	size_t n = jv_type(rs) == J_ARR ? jv_len(rs) : 0;

	printf("Routes (%zu):%s\n", n, n ? "" : " none");
	for (size_t i = 0; i < n; i++) {
		const struct jval *x = jv_at(rs, i);
		char *id = fmt_scalar(jv_get(x, "route_id")), *k = fmt_str(jv_get(x, "kind"));
		char *ro = fmt_str(jv_get(x, "route")), *tg = fmt_str(jv_get(x, "target"));
		char *t0 = fmt_time(jv_get(x, "announced"), T_TIME);
		char *t1 = fmt_time(jv_get(x, "withdrawn"), T_TIME);
		printf("  route %s (%s, %s): %s\n", id, k, tg, ro);
		if (jv_type(jv_get(x, "withdrawn")) == J_NUM) {
			char *re = fmt_str(jv_get(x, "reason"));
			printf("    announced %s, withdrawn %s (%s)\n", t0, t1, re);
			free(re);
		} else {
			printf("    announced %s, still announced\n", t0);
		}
		free(id), free(k), free(ro), free(tg), free(t0), free(t1);
	}
}

/* attack ID: a report */
static void show_attack(const struct jval *r)
{
	const struct jval *a = jv_get(r, "attack"), *tl;

	if (jv_type(a) != J_OBJ) {
		print_reply(r);
		return;
	}
	char *id = fmt_str(jv_get(a, "id")), *ty = fmt_str(jv_get(a, "type"));
	char *tg = fmt_str(jv_get(a, "target")), *di = fmt_str(jv_get(a, "direction"));
	printf("Attack %s: %s %s %s\n", id, ty, !strcmp(di, "outgoing") ? "from" : "on", tg);
	free(id), free(ty), free(tg);

	const char *fk[12];
	char *fv[12], *p, *b;
	int nf = 0;
	fk[nf] = "state", fv[nf++] = fmt_str(jv_get(a, "state"));
	fk[nf] = "direction", fv[nf++] = di;
	fk[nf] = "scope", fv[nf++] = fmt_str(jv_get(a, "scope"));
	fk[nf] = "hostgroup", fv[nf++] = fmt_str(jv_get(a, "hostgroup"));
	fk[nf] = "started", fv[nf++] = fmt_time(jv_get(a, "started"), T_DATE);
	fk[nf] = "ended", fv[nf++] = fmt_time(jv_get(a, "ended"), T_DATE);
	fk[nf] = "duration", fv[nf++] = fmt_duration(jv_get(a, "duration"));
	p = fmt_pps(jv_get(a, "peak_pps"), false), b = fmt_bps(jv_get(a, "peak_bps"), false);
	fk[nf] = "peak", fv[nf++] = xasprintf("%s, %s", p, b);
	free(p), free(b);
	p = fmt_pps(jv_get(a, "pps"), false), b = fmt_bps(jv_get(a, "bps"), false);
	fk[nf] = "last rate", fv[nf++] = xasprintf("%s, %s", p, b);
	free(p), free(b);
	p = fmt_human(jv_get(a, "packets")), b = fmt_si(jv_num(jv_get(a, "bytes")), "B", false);
	fk[nf] = "traffic", fv[nf++] = xasprintf("%s packets, %s", p, b);
	free(p), free(b);
	fk[nf] = "over", fv[nf++] = fmt_list(jv_get(a, "thresholds_exceeded"), ", ");
	for (int i = 0; i < nf; i++) {
		printf("  %-10s %s\n", fk[i], fv[i]);
		free(fv[i]);
	}
	printf("\n");
	print_vector(jv_get(a, "vector"));
	tl = jv_get(a, "timeline");
	printf("\nTimeline (%zu points):%s\n", jv_len(jv_get(tl, "ts")),
	       jv_len(jv_get(tl, "ts")) ? "" : " none");
	if (jv_len(jv_get(tl, "ts"))) {
		chart("packets a second", jv_get(tl, "ts"), jv_get(tl, "pps"), "pps");
		chart("bits a second", jv_get(tl, "ts"), jv_get(tl, "bps"), "bit/s");
	}
	printf("\n");
	print_events(jv_get(a, "events"));
	printf("\n");
	print_attack_mitigations(jv_get(a, "mitigations"));
	printf("\n");
	print_attack_routes(jv_get(a, "routes"));
}

/* ---- asking ---- */

struct reply {
	char *buf;
	size_t len;
	struct jdoc *d;
	const struct jval *r;
	bool ok;
};

static void reply_free(struct reply *rp)
{
	jdoc_free(rp->d);
	free(rp->buf);
	memset(rp, 0, sizeof(*rp));
}

/* Sends the request and parses the reply: 0, or the exit status after a message */
static int ask(const char *path, int argc, const char *const *argv, struct reply *rp)
{
	char err[256];

	memset(rp, 0, sizeof(*rp));
	int rc = transact(path, argc, argv, &rp->buf, &rp->len);
	if (rc)
		return rc;
	rp->d = jparse(rp->buf, rp->len, err, sizeof(err));
	rp->r = jdoc_root(rp->d);
	if (!rp->d || jv_type(rp->r) != J_OBJ || jv_bool(jv_get(rp->r, "ok")) < 0) {
		fprintf(stderr, "moatctl: malformed reply from moatd at %s: %s\n", path,
			!rp->d ? err : "not an object with \"ok\"");
		reply_free(rp);
		return EXIT_DOWN;
	}
	rp->ok = jv_bool(jv_get(rp->r, "ok")) == 1;
	return 0;
}

/* the reply as received, newline-terminated */
static void print_raw(const struct reply *rp)
{
	fwrite(rp->buf, 1, rp->len, stdout);
	if (!rp->len || rp->buf[rp->len - 1] != '\n')
		putchar('\n');
}

static void print_refusal(const struct reply *rp)
{
	const char *s = jv_str(jv_get(rp->r, "error"));
	char *e = clean(s ? s : "moatd reported an error");
	fprintf(stderr, "moatctl: %s\n", e);
	free(e);
}

/* ---- options of commands ---- */

struct lopt {
	const char *lng; /* "--by", or NULL */
	char shrt;	 /* 'n', or 0 */
};

static const char *opt_name(const struct lopt *o, char *b, size_t n)
{
	if (o->lng)
		return o->lng;
	snprintf(b, n, "-%c", o->shrt);
	return b;
}

/* The option at argv[*i] (every one takes a value: "--by bps", "--by=bps", "-n 5", "-n5"): its
 * index in opts, its value in *val, *i on its last word. -1 after a message when it is none. */
static int next_opt(const char *cmd, const struct lopt *opts, int argc, char **argv, int *i,
		    const char **val)
{
	const char *a = argv[*i];
	char nb[8];

	for (int k = 0; opts[k].lng || opts[k].shrt; k++) {
		const struct lopt *o = &opts[k];
		size_t n = o->lng ? strlen(o->lng) : 0;
		const char *v;
		if (o->lng && !strncmp(a, o->lng, n) && (a[n] == 0 || a[n] == '='))
			v = a[n] == '=' ? a + n + 1 : NULL;
		else if (o->shrt && a[0] == '-' && a[1] == o->shrt)
			v = a[2] ? a + 2 : NULL;
		else
			continue;
		if (!v) {
			if (*i + 1 >= argc) {
				fprintf(stderr, "moatctl %s: option %s needs a value\n", cmd,
					opt_name(o, nb, sizeof(nb)));
				return -1;
			}
			v = argv[++*i];
		}
		*val = v;
		return k;
	}
	char *c = clean(a);
	if (a[0] == '-' && a[1])
		fprintf(stderr, "moatctl %s: unknown option '%s'%s\n", cmd, c,
			!strcmp(a, "--json") || !strncmp(a, "-s", 2) || !strncmp(a, "--socket", 8)
			    ? " (-s and --json go before the command)"
			    : "");
	else
		fprintf(stderr, "moatctl %s: unexpected argument '%s'\n", cmd, c);
	free(c);
	return -1;
}

/* a whole decimal number within [lo, hi] */
static bool parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || *s == '+' || *s == ' ' || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

/* a number of seconds within [lo, hi] (a fraction allowed) */
static bool parse_secs(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi ||
	    strspn(s, "0123456789.") != strlen(s))
		return false;
	*out = v;
	return true;
}

static bool is_address(const char *s)
{
	unsigned char b[16];
	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

static int bad_value(const char *cmd, const char *opt, const char *val, const char *want)
{
	char *v = clean(val);
	fprintf(stderr, "moatctl %s: %s '%s': %s\n", cmd, opt, v, want);
	free(v);
	return EXIT_USE;
}

/* ---- top ---- */

static volatile sig_atomic_t sig_stop, sig_winch, sig_cont;
static struct termios term_saved;
static volatile sig_atomic_t term_raw, term_hidden;

/* back to the terminal as it was (async-signal-safe) */
static void term_leave(void)
{
	if (term_hidden) {
		ssize_t n = write(STDOUT_FILENO, "\033[?25h", 6);
		(void)n;
		term_hidden = 0;
	}
	if (term_raw) {
		tcsetattr(STDIN_FILENO, TCSADRAIN, &term_saved);
		term_raw = 0;
	}
}

/* keys one at a time, not echoed; ^C still interrupts */
static void term_enter(bool keys)
{
	if (keys && !term_raw && tcgetattr(STDIN_FILENO, &term_saved) == 0) {
		struct termios t = term_saved;
		t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		t.c_cc[VMIN] = 1;
		t.c_cc[VTIME] = 0;
		if (tcsetattr(STDIN_FILENO, TCSADRAIN, &t) == 0)
			term_raw = 1;
	}
	if (!term_hidden) {
		ssize_t n = write(STDOUT_FILENO, "\033[?25l", 6);
		(void)n;
		term_hidden = 1;
	}
}

static void on_signal(int sig)
{
	int e = errno;

	if (sig == SIGWINCH) {
		sig_winch = 1;
	} else if (sig == SIGCONT) {
		sig_cont = 1;
	} else if (sig == SIGTSTP) {
		/* stop with the terminal as it was; SIGCONT brings the view back */
		term_leave();
		signal(SIGTSTP, SIG_DFL);
		raise(SIGTSTP);
	} else {
		sig_stop = sig;
	}
	errno = e;
}

static void on_exit_restore(void)
{
	term_leave();
}

static void term_size(int *rows, int *cols)
{
	struct winsize ws;
	*rows = 24;
	*cols = 80;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
}

struct topopt {
	const char *by, *dir;
	long n; /* 0: what fits */
	double interval;
	long count; /* 0: no end */
};

/* One view: a header from status (st may be NULL) and top, then the table. A host under attack
 * has its rank marked with '*'. */
static void render_top(FILE *f, const struct jval *top, const struct jval *st, bool keys)
{
	static const char *head[] = {"#",     "HOST", "HOSTGROUP", "PPS",  "BPS",
				     "FLOWS", "TCP",  "UDP",	   "ICMP", "ATTACK"};
	static const bool right[] = {true, false, false, true, true, true, true, true, true, false};
	const struct jval *hosts = jv_get(top, "hosts");
	time_t now = time(NULL);
	struct tm tm;
	char clock[16] = "";

	if (localtime_r(&now, &tm))
		strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	if (st) {
		char *v = fmt_str(jv_get(st, "version")), *u = fmt_duration(jv_get(st, "uptime"));
		char *h = fmt_scalar(jv_get(st, "hosts")),
		     *aa = fmt_scalar(jv_get(st, "attacks_active"));
		char *at = fmt_scalar(jv_get(st, "attacks_total"));
		fprintf(f, "moatd %s - %s up %s, hosts: %s, attacks: %s active, %s in all\n", v,
			clock, u, h, aa, at);
		free(v), free(u), free(h), free(aa), free(at);
	} else {
		fprintf(f, "moatd - %s\n", clock);
	}
	char *by = fmt_str(jv_get(top, "by")), *dir = fmt_str(jv_get(top, "direction"));
	char *sec = fmt_time(jv_get(top, "ts"), T_TIME);
	fprintf(f, "top hosts by %s, %s, in the second %s%s\n\n", by, dir, sec,
		keys ? "   [q quit, p/b/f order, d direction]" : "");
	free(by), free(dir), free(sec);
	if (!jv_len(hosts)) {
		fprintf(f, "no traffic in that second\n");
		return;
	}
	struct table t;
	table_init(&t, 10, head, right, jv_len(hosts));
	for (size_t i = 0; i < t.rows; i++) {
		const struct jval *x = jv_at(hosts, i), *pps = jv_get(x, "pps");
		bool hit = jv_type(jv_get(x, "attack")) == J_STR;
		char **row = table_row(&t, i);
		row[0] = xasprintf("%s%zu", hit ? "*" : "", i + 1);
		row[1] = fmt_str(jv_get(x, "host"));
		row[2] = fmt_str(jv_get(x, "hostgroup"));
		row[3] = fmt_pps(pps, true);
		row[4] = fmt_bps(jv_get(x, "bps"), true);
		row[5] = fmt_human(jv_get(x, "flows"));
		row[6] = fmt_share(jv_get(x, "tcp_pps"), pps);
		row[7] = fmt_share(jv_get(x, "udp_pps"), pps);
		row[8] = fmt_share(jv_get(x, "icmp_pps"), pps);
		row[9] = fmt_str(jv_get(x, "attack"));
	}
	table_print(f, &t, 0);
	table_free(&t);
}

/* A view on the terminal: drawn over the last one from the top left, at most the terminal's
 * lines and columns, the rows of hosts under attack in bold red. */
static void draw(const char *text)
{
	int rows, cols, line = 0;

	term_size(&rows, &cols);
	fputs("\033[H", stdout);
	for (const char *p = text; *p && line < rows - 1; line++) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p), cut = 0;
		int w = 0;
		while (cut < len && (w < cols || ((unsigned char)p[cut] & 0xc0) == 0x80)) {
			w += ((unsigned char)p[cut] & 0xc0) != 0x80;
			cut++;
		}
		bool hit = p[strspn(p, " ")] == '*';
		if (hit)
			fputs("\033[1;31m", stdout);
		fwrite(p, 1, cut, stdout);
		fputs(hit ? "\033[0m\033[K\n" : "\033[K\n", stdout);
		p = e ? e + 1 : p + len;
	}
	fputs("\033[J", stdout);
	fflush(stdout);
}

static int run_top(const char *path, bool json, int argc, char **argv)
{
	static const struct lopt opts[] = {{"--by", 0},	      {"--direction", 0}, {NULL, 'n'},
					   {"--interval", 0}, {"--count", 0},	  {0}};
	struct topopt o = {.by = "pps", .dir = "incoming", .interval = 1};
	const char *v;

	for (int i = 1; i < argc; i++) {
		switch (next_opt("top", opts, argc, argv, &i, &v)) {
		case 0:
			if (strcmp(v, "pps") && strcmp(v, "bps") && strcmp(v, "flows"))
				return bad_value("top", "--by", v, "not pps, bps or flows");
			o.by = v;
			break;
		case 1:
			if (strcmp(v, "incoming") && strcmp(v, "outgoing"))
				return bad_value("top", "--direction", v,
						 "not incoming or outgoing");
			o.dir = v;
			break;
		case 2:
			if (!parse_long(v, 1, 100, &o.n))
				return bad_value("top", "-n", v,
						 "not a number of hosts from 1 to 100");
			break;
		case 3:
			if (!parse_secs(v, 0.1, 86400, &o.interval))
				return bad_value("top", "--interval", v,
						 "not a number of seconds from 0.1 to 86400");
			break;
		case 4:
			if (!parse_long(v, 1, 1000000000, &o.count))
				return bad_value("top", "--count", v, "not a count from 1 up");
			break;
		default:
			return EXIT_USE;
		}
	}

	bool tty = isatty(STDOUT_FILENO), keys = tty && isatty(STDIN_FILENO);
	if (!tty && !o.count)
		o.count = 1;
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
	if (tty) {
		sigaction(SIGTSTP, &sa, NULL);
		sigaction(SIGCONT, &sa, NULL);
		atexit(on_exit_restore);
		term_enter(keys);
	}

	static const char *bys[] = {"pps", "bps", "flows"};
	char *last = NULL;
	int rc = 0;
	for (long k = 0; !sig_stop; k++) {
		uint64_t t0 = mono_ns() / 1000000;
		int rows, cols;
		char nb[16];
		term_size(&rows, &cols);
		long n = o.n ? o.n : tty ? rows - 5 : 10;
		snprintf(nb, sizeof(nb), "%ld", n < 1 ? 1 : n > 100 ? 100 : n);
		const char *req[] = {"top", o.by, o.dir, nb}, *sreq[] = {"status"};
		struct reply tr, sr = {0};
		if ((rc = ask(path, 4, req, &tr)) != 0)
			break;
		if (json)
			print_raw(&tr);
		if (!tr.ok) {
			print_refusal(&tr);
			reply_free(&tr);
			rc = EXIT_NO;
			break;
		}
		if (!json && (rc = ask(path, 1, sreq, &sr)) != 0) {
			reply_free(&tr);
			break;
		}
		if (!json) {
			struct sbuf b;
			render_top(sb_open(&b), tr.r, sr.ok ? sr.r : NULL, keys);
			free(last);
			last = sb_done(&b);
			if (tty) {
				draw(last);
			} else {
				if (k)
					putchar('\n');
				fputs(last, stdout);
			}
		}
		reply_free(&tr);
		reply_free(&sr);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			rc = EXIT_DOWN;
			break;
		}
		if (o.count && k + 1 >= o.count)
			break;
		/* wait for the next refresh, a key or a signal */
		uint64_t next = t0 + (uint64_t)(o.interval * 1000);
		for (;;) {
			uint64_t now = mono_ns() / 1000000;
			if (sig_stop || now >= next)
				break;
			struct pollfd pfd = {.fd = STDIN_FILENO, .events = POLLIN};
			int r = poll(&pfd, term_raw ? 1 : 0, (int)(next - now));
			if (r < 0 && errno != EINTR)
				break;
			if (sig_cont) {
				sig_cont = 0;
				sigaction(SIGTSTP, &sa, NULL);
				term_enter(keys);
				sig_winch = 1;
			}
			if (sig_winch) {
				sig_winch = 0;
				if (last && !json)
					draw(last);
			}
			if (r <= 0)
				continue;
			char c[32];
			ssize_t got = read(STDIN_FILENO, c, sizeof(c));
			if (got <= 0) {
				term_leave(); /* no keys any more: stop watching them */
				term_enter(false);
				continue;
			}
			bool again = false;
			for (ssize_t j = 0; j < got; j++) {
				if (c[j] == 'q' || c[j] == 'Q')
					sig_stop = -1;
				else if (c[j] == 'p' || c[j] == 'b' || c[j] == 'f')
					o.by = bys[c[j] == 'p' ? 0 : c[j] == 'b' ? 1 : 2];
				else if (c[j] == 'd')
					o.dir =
					    !strcmp(o.dir, "incoming") ? "outgoing" : "incoming";
				else if (c[j] != ' ')
					continue;
				again = true;
			}
			if (again)
				break;
		}
	}
	free(last);
	term_leave();
	if (sig_stop > 0) {
		/* die of the signal, as the caller expects, with the terminal restored */
		signal((int)sig_stop, SIG_DFL);
		raise((int)sig_stop);
	}
	return rc;
}

/* ---- the commands moatctl knows ---- */

typedef void (*show_fn)(const struct jval *r);

/* The request for what the user typed, in req (at most 8 words, pointing into argv or constant);
 * show: how to print the reply (NULL: generically). Returns 0, or EXIT_USE after a message. Any
 * command not known here goes as it is. */
static int translate(int argc, char **argv, const char **req, int *reqc, show_fn *show)
{
	static char limit[24];
	const char *cmd = argv[0];
	static const struct {
		const char *name;
		show_fn show;
	} bare[] = {{"attacks", show_attacks},
		    {"exporters", show_exporters},
		    {"mitigations", show_mitigations},
		    {"health", show_health}};

	*show = NULL;
	for (size_t i = 0; i < sizeof(bare) / sizeof(bare[0]); i++) {
		if (strcmp(cmd, bare[i].name))
			continue;
		if (argc > 1) {
			char *c = clean(argv[1]);
			fprintf(stderr, "moatctl %s: takes no arguments ('%s')\n", cmd, c);
			free(c);
			return EXIT_USE;
		}
		req[0] = cmd;
		*reqc = 1;
		*show = bare[i].show;
		return 0;
	}
	if (!strcmp(cmd, "rules")) {
		if (argc > 1) {
			fprintf(stderr, "moatctl rules: takes no arguments (rule add|del for "
					"changes)\n");
			return EXIT_USE;
		}
		req[0] = "rule";
		req[1] = "list";
		*reqc = 2;
		return 0;
	}
	if (!strcmp(cmd, "attack") || !strcmp(cmd, "host")) {
		bool host = cmd[0] == 'h';
		if (argc != 2 || (argv[1][0] == '-' && argv[1][1])) {
			if (argc >= 2 && argv[1][0] == '-') {
				char *c = clean(argv[1]);
				fprintf(stderr, "moatctl %s: unknown option '%s'\n", cmd, c);
				free(c);
			}
			fprintf(stderr, "usage: moatctl %s\n", host ? "host ADDRESS" : "attack ID");
			return EXIT_USE;
		}
		if (host && !is_address(argv[1]))
			return bad_value("host", "address", argv[1], "not an IPv4 or IPv6 address");
		req[0] = cmd;
		req[1] = argv[1];
		*reqc = 2;
		*show = host ? show_host : show_attack;
		return 0;
	}
	if (!strcmp(cmd, "config")) {
		if (argc != 2 || strcmp(argv[1], "check")) {
			fprintf(stderr, "usage: moatctl config check\n");
			return EXIT_USE;
		}
		req[0] = "config";
		req[1] = "check";
		*reqc = 2;
		*show = show_config;
		return 0;
	}
	if (!strcmp(cmd, "history")) {
		static const struct lopt opts[] = {
		    {NULL, 'n'}, {"--before", 0}, {"--target", 0}, {0}};
		const char *v;
		double d;
		long n;
		*reqc = 0;
		req[(*reqc)++] = "history";
		for (int i = 1; i < argc; i++) {
			switch (next_opt("history", opts, argc, argv, &i, &v)) {
			case 0:
				if (!parse_long(v, 1, 1000, &n))
					return bad_value("history", "-n", v,
							 "not a number of attacks from 1 to 1000");
				snprintf(limit, sizeof(limit), "%ld", n);
				req[(*reqc)++] = "limit";
				req[(*reqc)++] = limit;
				break;
			case 1:
				if (!parse_secs(v, 1, 1e11, &d))
					return bad_value("history", "--before", v,
							 "not a time in unix seconds");
				req[(*reqc)++] = "before";
				req[(*reqc)++] = v;
				break;
			case 2:
				if (!is_address(v))
					return bad_value("history", "--target", v,
							 "not an IPv4 or IPv6 address");
				req[(*reqc)++] = "target";
				req[(*reqc)++] = v;
				break;
			default:
				return EXIT_USE;
			}
			if (*reqc > 7) {
				fprintf(stderr, "moatctl history: each option at most once\n");
				return EXIT_USE;
			}
		}
		*show = show_history;
		return 0;
	}
	/* anything else: as it is */
	*reqc = -1;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"socket", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {0},
	};
	const char *path = CTL_DEFAULT_PATH;
	bool json = false;
	int o;

	while ((o = getopt_long(argc, argv, "+s:hV", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			path = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("moatctl %s\n", MOAT_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		fprintf(stderr, "moatctl: no command given\n");
		usage(stderr);
		return EXIT_USE;
	}
	if (argc == 1 && !strcmp(argv[0], "help")) {
		usage(stdout);
		return 0;
	}
	if (!*path) {
		fprintf(stderr, "moatctl: empty socket path\n");
		return EXIT_USE;
	}
	for (int i = 0; i < argc; i++) {
		if (!*argv[i]) {
			fprintf(stderr,
				"moatctl: argument %d is empty; the protocol cannot carry "
				"empty arguments\n",
				i + 1);
			return EXIT_USE;
		}
		if (strchr(argv[i], '\n')) {
			fprintf(stderr, "moatctl: argument %d holds a newline\n", i + 1);
			return EXIT_USE;
		}
	}
	if (!strcmp(argv[0], "top"))
		return run_top(path, json, argc, argv);

	const char *mine[8];
	const char *const *req = mine;
	int reqc = 0;
	show_fn show;
	int rc = translate(argc, argv, mine, &reqc, &show);
	if (rc)
		return rc;
	if (reqc < 0) {
		req = (const char *const *)argv;
		reqc = argc;
	}
	size_t total = 1;
	for (int i = 0; i < reqc; i++)
		total += strlen(req[i]) + 1;
	if (reqc > CTL_MAX_ARGS || total > CTL_MAX_REQUEST) {
		fprintf(stderr, "moatctl: request too large (at most %d arguments, %d bytes)\n",
			CTL_MAX_ARGS, CTL_MAX_REQUEST);
		return EXIT_USE;
	}

	struct reply rp;
	if ((rc = ask(path, reqc, req, &rp)) != 0)
		return rc;
	if (json)
		print_raw(&rp);
	if (!rp.ok)
		print_refusal(&rp);
	else if (!json)
		(show ? show : print_reply)(rp.r);
	rc = rp.ok ? 0 : EXIT_NO;
	reply_free(&rp);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "moatctl: writing the output: %s\n", strerror(errno));
		return EXIT_DOWN;
	}
	return rc;
}
