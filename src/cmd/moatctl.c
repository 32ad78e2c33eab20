/* moatctl: the control client. Sends one request (COMMAND ARGS...) to moatd's control socket
 * (protocol in src/ctl/ctl.h), reads the one-line JSON reply and prints it: as received with
 * --json, else as tables for the replies it knows (rules) and as indented "key: value" lines
 * for the rest. Exit status: 0 ok, 1 the daemon said no, 2 bad usage, 3 no (valid) reply. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
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
		"  -h, --help          this text\n"
		"  -V, --version       version\n"
		"\n"
		"Commands (moatd decides what it supports; others come back as errors):\n"
		"  status                        the daemon's state\n"
		"  reload                        reload the configuration (as SIGHUP)\n"
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
		"Exit status: 0 ok, 1 moatd refused the command, 2 bad usage, 3 moatd not\n"
		"reachable or no valid reply.\n");
}

/* ---- talking to moatd ---- */

/* Sends the request and reads the whole reply into *out (NUL-terminated). On failure prints
 * why and returns EXIT_DOWN (or EXIT_USE for a socket path that cannot be one). */
static int transact(const char *path, int argc, char **argv, char **out, size_t *outlen)
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

/* ---- printing ---- */

/* a string fit for a terminal: control characters become '?' */
static char *clean(const char *s)
{
	char *o = strdup(s ? s : "");
	if (!o) {
		fprintf(stderr, "moatctl: out of memory\n");
		exit(EXIT_DOWN);
	}
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

/* seconds -> 45s, 3m05s, 2h10m, 3d04h; "-" when not a number */
static char *fmt_duration(const struct jval *v)
{
	double x = jv_num(v);
	char b[48];

	if (isnan(x))
		return clean("-");
	long long s = x < 0 ? 0 : (long long)ceil(x);
	if (s < 60)
		snprintf(b, sizeof(b), "%llds", s);
	else if (s < 3600)
		snprintf(b, sizeof(b), "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(b, sizeof(b), "%lldh%02lldm", s / 3600, s / 60 % 60);
	else
		snprintf(b, sizeof(b), "%lldd%02lldh", s / 86400, s / 3600 % 24);
	return clean(b);
}

struct table {
	int ncols;
	const char **head;
	bool *right;
	char **cells; /* rows * ncols */
	size_t rows;
};

static void table_print(struct table *t, int indent)
{
	size_t w[64] = {0};

	for (int c = 0; c < t->ncols && c < 64; c++) {
		w[c] = width(t->head[c]);
		for (size_t r = 0; r < t->rows; r++)
			if (width(t->cells[r * (size_t)t->ncols + (size_t)c]) > w[c])
				w[c] = width(t->cells[r * (size_t)t->ncols + (size_t)c]);
	}
	for (size_t r = 0; r <= t->rows; r++) {
		printf("%*s", indent, "");
		for (int c = 0; c < t->ncols && c < 64; c++) {
			const char *s =
			    r ? t->cells[(r - 1) * (size_t)t->ncols + (size_t)c] : t->head[c];
			size_t pad = w[c] - width(s);
			bool last = c == t->ncols - 1 || c == 63;
			if (t->right[c])
				printf("%*s%s", (int)pad, "", s);
			else
				printf("%s%*s", s, last ? 0 : (int)pad, "");
			if (!last)
				printf("  ");
		}
		printf("\n");
	}
}

static void table_free(struct table *t)
{
	for (size_t i = 0; i < t->rows * (size_t)t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);
	if (!p) {
		fprintf(stderr, "moatctl: out of memory\n");
		exit(EXIT_DOWN);
	}
	return p;
}

/* rules: the rule table, one row per RULE object */
static void print_rules(const struct jval *arr, size_t n, const struct jval *one)
{
	static const char *head[] = {"ID",	"TARGET",  "ORIGIN",  "ACTION",
				     "PACKETS", "DROPPED", "EXPIRES", "RULE"};
	static bool right[] = {true, false, false, false, true, true, true, false};
	struct table t = {.ncols = 8, .head = head, .right = right, .rows = n};

	t.cells = xcalloc(n * 8, sizeof(char *));
	for (size_t r = 0; r < n; r++) {
		const struct jval *v = one ? one : jv_at(arr, r);
		char **row = t.cells + r * 8;
		row[0] = fmt_scalar(jv_get(v, "id"));
		row[1] = fmt_scalar(jv_get(v, "target"));
		row[2] = fmt_scalar(jv_get(v, "origin"));
		row[3] = fmt_scalar(jv_get(v, "action"));
		row[4] = fmt_human(jv_get(v, "packets"));
		row[5] = fmt_human(jv_get(v, "dropped_packets"));
		row[6] = fmt_duration(jv_get(v, "expires_in"));
		row[7] = fmt_scalar(jv_get(v, "text"));
	}
	table_print(&t, 0);
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
	struct table t = {.ncols = nk, .rows = jv_len(a)};
	char **head = xcalloc((size_t)nk, sizeof(char *));
	t.right = xcalloc((size_t)nk, sizeof(bool));
	t.cells = xcalloc(t.rows * (size_t)nk, sizeof(char *));
	for (int j = 0; j < nk; j++) {
		head[j] = clean(keys[j]);
		for (char *p = head[j]; *p; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
		t.right[j] = true; /* numbers right, unless the column holds anything else */
		for (size_t r = 0; r < t.rows; r++) {
			const struct jval *cv = jv_get(jv_at(a, r), keys[j]);
			t.cells[r * (size_t)nk + (size_t)j] = fmt_scalar(cv);
			if (cv && jv_type(cv) != J_NUM && jv_type(cv) != J_NULL)
				t.right[j] = false;
		}
	}
	t.head = (const char **)head;
	table_print(&t, indent);
	table_free(&t);
	for (int j = 0; j < nk; j++)
		free(head[j]);
	free(head);
	free(t.right);
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
	size_t total = 1;
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
		total += strlen(argv[i]) + 1;
	}
	if (argc > CTL_MAX_ARGS || total > CTL_MAX_REQUEST) {
		fprintf(stderr, "moatctl: request too large (at most %d arguments, %d bytes)\n",
			CTL_MAX_ARGS, CTL_MAX_REQUEST);
		return EXIT_USE;
	}

	char *buf = NULL, err[256];
	size_t len = 0;
	int rc = transact(path, argc, argv, &buf, &len);
	if (rc)
		return rc;
	struct jdoc *d = jparse(buf, len, err, sizeof(err));
	const struct jval *r = jdoc_root(d);
	if (!d || jv_type(r) != J_OBJ || jv_bool(jv_get(r, "ok")) < 0) {
		fprintf(stderr, "moatctl: malformed reply from moatd at %s: %s\n", path,
			!d ? err : "not an object with \"ok\"");
		jdoc_free(d);
		free(buf);
		return EXIT_DOWN;
	}
	bool ok = jv_bool(jv_get(r, "ok")) == 1;
	if (json) {
		fwrite(buf, 1, len, stdout);
		if (!len || buf[len - 1] != '\n')
			putchar('\n');
	}
	if (!ok) {
		char *e = clean(jv_str(jv_get(r, "error")) ? jv_str(jv_get(r, "error"))
							   : "moatd reported an error");
		fprintf(stderr, "moatctl: %s\n", e);
		free(e);
	} else if (!json) {
		print_reply(r);
	}
	jdoc_free(d);
	free(buf);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "moatctl: writing the output: %s\n", strerror(errno));
		return EXIT_DOWN;
	}
	return ok ? 0 : EXIT_NO;
}
