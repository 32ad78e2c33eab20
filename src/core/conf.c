/* conf: moat.yaml -> struct conf.
 *
 * Two passes. libyaml's event parser builds a small tree of our own nodes, each with its line and
 * column; a schema walk then turns the tree into struct conf. The tree is ours rather than
 * libyaml's document API so that we can refuse aliases (a few lines of anchors expand to gigabytes)
 * and bound nesting depth and node count while the events arrive, before anything big is built.
 *
 * Every error is one line, "file:line:column: what is wrong", the first one found: syntax errors
 * in file order, then each mapping's keys (unknown, duplicate) before its values, values in the
 * order of the schema tables below. Nothing is ignored: an unknown key, a tag, a second document,
 * a float where an integer belongs are all errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>
#include <yaml.h>

#include "core/conf.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

enum {
	CONF_MAX_SIZE = 16 << 20, /* bytes of YAML; a real config is a few KiB */
	CONF_MAX_DEPTH = 64,	  /* the schema needs 5; the rest only feeds a fuzzer's stack */
	CONF_MAX_NODES = 1 << 20, /* bounds the tree at ~100 MiB whatever the input */
	CONF_MAX_STR = 4096,	  /* PATH_MAX */
	CONF_MAX_KEYS = 24,	  /* keys in the largest schema mapping (top level: 17) */
	CONF_MAX_CAPTURES = 64,
	CONF_MAX_SECS = 86400, /* a day: longer cooldowns or timeouts are typos */
	CONF_MAX_HOSTS = 1 << 24,
	CONF_MAX_WORKERS = 16, /* afpacket.c MAX_WORKERS: more would be cut, not refused */
	CONF_MAX_RING_MB = 4096,
	CONF_MAX_TOP_N = 32,
	CONF_MAX_EXPORTERS = 4096,
	CONF_MAX_SAMPLING = 1 << 24, /* FLOW_MAX_SAMPLING */
	CONF_MAX_LIST = 1 << 21,     /* scrubber allow/deny file entries: SCRUB_MAX_PREFIXES */
};

/* 1000G: far above any link, and low enough that bits-per-second conversions downstream
 * (mbps * 125000 bytes) cannot overflow 64 bits. */
#define THR_MAX 1000000000000ULL

#define DEF_PPS	       100000
#define DEF_MBPS       1000
#define DEF_FLOWS      50000
#define DEF_COOLDOWN   30.0
#define DEF_UPDATE     5.0
#define DEF_TOP_N      5
#define DEF_TIMEOUT    30.0
#define DEF_MAX_HOSTS  262144
#define DEF_MAX_HOT    16384
#define DEF_HOST_IDLE  300.0
#define DEF_RING_MB    64
#define DEF_HOLD       300.0
#define DEF_SAMPLE     100
#define DEF_EVIDENCE   10000
#define DEF_EVID_DIR   "/var/lib/moat/evidence"
#define DEF_PIN_DIR    "/sys/fs/bpf/moat"
#define DEF_SRC_PPS    50
#define DEF_SRC_BURST  100
#define DEF_CTL_SOCK   "/run/moat/moatd.sock"
#define DEF_BGP_STATE  "/var/lib/moat/bgp-routes.json"
#define DEF_API_LISTEN "127.0.0.1:8080"
#define DEF_HISTORY    "/var/lib/moat/history.db"
#define DEF_RETENTION  90
#define DEF_MAX_ATT    100000
#define API_TOKEN_MIN  16

static const char *const thr_names[THR__COUNT] = {
    [THR_PPS] = "pps",		 [THR_MBPS] = "mbps",		[THR_FLOWS] = "flows",
    [THR_TCP_PPS] = "tcp_pps",	 [THR_UDP_PPS] = "udp_pps",	[THR_ICMP_PPS] = "icmp_pps",
    [THR_SYN_PPS] = "syn_pps",	 [THR_FRAG_PPS] = "frag_pps",	[THR_TCP_MBPS] = "tcp_mbps",
    [THR_UDP_MBPS] = "udp_mbps", [THR_ICMP_MBPS] = "icmp_mbps",
};

static const char *const dir_names[DIR__COUNT] = {"incoming", "outgoing"};

const char *conf_thr_name(enum thr t)
{
	return (unsigned)t < THR__COUNT ? thr_names[t] : "?";
}

const char *conf_dir_name(enum dir d)
{
	return (unsigned)d < DIR__COUNT ? dir_names[d] : "?";
}

/* ---- the node tree ---- */

enum ntype { N_SCALAR, N_SEQ, N_MAP };

struct node {
	enum ntype type;
	int line, col;	   /* 1-based */
	char *s;	   /* scalar: the value, NUL-terminated (embedded NULs are refused) */
	bool null;	   /* plain scalar spelling YAML null: empty, "~", "null" */
	struct node **kid; /* sequence: items; mapping: key, value, key, value, ... */
	size_t n, cap;
	struct node *up; /* enclosing node, while building */
};

/* Load state. */
struct ld {
	const char *name; /* file name for messages */
	char *err;
	size_t errlen;
	size_t n_nodes;
	struct conf *c;
	struct prefix *nets; /* networks sorted, for in_networks() */
	size_t n_nets;
	bool net_plen[129];	   /* prefix lengths that occur in networks */
	const struct node *hg_mit; /* a hostgroup's mitigation list: needs a bgp section */
};

static void node_free(struct node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		node_free(n->kid[i]); /* depth <= CONF_MAX_DEPTH */
	free(n->kid);
	free(n->s);
	free(n);
}

/* Appends k to p. Returns 0, or -1 when out of memory (k is then still the caller's). */
static int node_add(struct node *p, struct node *k)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 4;
		struct node **kid = realloc(p->kid, cap * sizeof(*kid));
		if (!kid)
			return -1;
		p->kid = kid;
		p->cap = cap;
	}
	p->kid[p->n++] = k;
	k->up = p;
	return 0;
}

/* ---- errors ---- */

/* Writes "name:line:col: message" (or "name: message" when line is 0) into ld->err and returns
 * -1, so that callers can `return fail(...)`. Control characters become '?' so that the error
 * is always one line whatever the input held. */
static int __attribute__((format(printf, 4, 5)))
fail_at(struct ld *ld, int line, int col, const char *fmt, ...)
{
	va_list ap;
	size_t off;

	if (!ld->err || ld->errlen == 0)
		return -1;
	if (line > 0)
		snprintf(ld->err, ld->errlen, "%s:%d:%d: ", ld->name, line, col);
	else
		snprintf(ld->err, ld->errlen, "%s: ", ld->name);
	off = strlen(ld->err);
	va_start(ap, fmt);
	vsnprintf(ld->err + off, ld->errlen - off, fmt, ap);
	va_end(ap);
	for (char *p = ld->err; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return -1;
}

#define fail(ld, n, ...) fail_at((ld), (n)->line, (n)->col, __VA_ARGS__)

enum { QUOTE_MAX = 48 };

/* Quotes a scalar for a message, cut at QUOTE_MAX bytes on a UTF-8 boundary. Returns buf. */
static const char *quote(const struct node *n, char *buf, size_t len)
{
	size_t l = strlen(n->s);

	if (l <= QUOTE_MAX) {
		snprintf(buf, len, "'%s'", n->s);
		return buf;
	}
	l = QUOTE_MAX;
	while (l > 0 && ((unsigned char)n->s[l] & 0xc0) == 0x80)
		l--;
	snprintf(buf, len, "'%.*s...'", (int)l, n->s);
	return buf;
}

/* Names what a node is, for "expected X, got Y". Returns buf or a constant. */
static const char *what(const struct node *n, char *buf, size_t len)
{
	if (n->type == N_SEQ)
		return "a sequence";
	if (n->type == N_MAP)
		return "a mapping";
	if (n->null)
		return n->s[0] ? "null" : "nothing";
	return quote(n, buf, len);
}

/* Paths in messages: "thresholds.incoming", "hostgroups[2].prefixes[0]". */
static const char *sub(char *buf, size_t len, const char *path, const char *key)
{
	/* a cut path still points the reader at the right line */
	if (snprintf(buf, len, "%s%s%s", path ? path : "", path ? "." : "", key) >= (int)len)
		buf[len - 1] = 0;
	return buf;
}

static const char *idx(char *buf, size_t len, const char *path, size_t i)
{
	if (snprintf(buf, len, "%s[%zu]", path, i) >= (int)len)
		buf[len - 1] = 0;
	return buf;
}

enum { PATH_MAX_ = 160, QBUF = QUOTE_MAX + 8 };

/* ---- YAML -> tree ---- */

struct bld {
	struct node *root, *cur;
	int depth, docs;
	bool done;
};

/* libyaml's reader reports a byte offset, not a mark. Turns it into 1-based line and column. */
static void offset_pos(const char *buf, size_t len, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			++*line;
			*col = 1;
		} else {
			++*col;
		}
	}
}

/* Reports the parser's error with its mark and problem text. Returns -1. */
static int syntax_error(struct ld *ld, const yaml_parser_t *p, const char *buf, size_t len)
{
	int line, col;
	const yaml_mark_t *m = &p->problem_mark;
	const char *problem = p->problem ? p->problem : "unknown error";

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return fail_at(ld, 0, 0, "out of memory");
	case YAML_READER_ERROR:
		offset_pos(buf, len, p->problem_offset, &line, &col);
		if (p->problem_value != -1)
			return fail_at(ld, line, col, "invalid input: %s (0x%x)", problem,
				       (unsigned)p->problem_value);
		return fail_at(ld, line, col, "invalid input: %s", problem);
	case YAML_SCANNER_ERROR:
	case YAML_PARSER_ERROR:
		if (p->context)
			return fail_at(ld, (int)m->line + 1, (int)m->column + 1,
				       "YAML syntax error: %s (%s at %d:%d)", problem, p->context,
				       (int)p->context_mark.line + 1,
				       (int)p->context_mark.column + 1);
		return fail_at(ld, (int)m->line + 1, (int)m->column + 1, "YAML syntax error: %s",
			       problem);
	default:
		return fail_at(ld, (int)m->line + 1, (int)m->column + 1, "YAML error: %s", problem);
	}
}

/* Makes a node at mark m and hangs it under the current one. Returns the node, or NULL with the
 * error written. */
static struct node *node_open(struct ld *ld, struct bld *b, enum ntype t, const yaml_mark_t *m)
{
	int line = (int)m->line + 1, col = (int)m->column + 1;
	struct node *n;

	if (++ld->n_nodes > CONF_MAX_NODES) {
		fail_at(ld, line, col, "too many YAML nodes (more than %d)", CONF_MAX_NODES);
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		fail_at(ld, line, col, "out of memory");
		return NULL;
	}
	n->type = t;
	n->line = line;
	n->col = col;
	if (!b->cur) {
		b->root = n;
	} else if (node_add(b->cur, n) < 0) {
		free(n);
		fail_at(ld, line, col, "out of memory");
		return NULL;
	}
	return n;
}

/* Anchors are only useful with aliases, and tags would change a value's meaning: both are refused
 * rather than ignored. Returns 0 or -1 with the error written. */
static int no_extras(struct ld *ld, const yaml_event_t *ev, const yaml_char_t *anchor,
		     const yaml_char_t *tag)
{
	int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;

	if (anchor)
		return fail_at(ld, line, col, "anchors and aliases are not supported");
	if (tag)
		return fail_at(ld, line, col, "tags are not supported ('%s')", (const char *)tag);
	return 0;
}

static int on_scalar(struct ld *ld, struct bld *b, const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	struct node *n;

	if (no_extras(ld, ev, ev->data.scalar.anchor, ev->data.scalar.tag) < 0)
		return -1;
	if (strlen(v) != len)
		return fail_at(ld, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
			       "NUL character in a string");
	n = node_open(ld, b, N_SCALAR, &ev->start_mark);
	if (!n)
		return -1;
	n->s = strdup(v);
	if (!n->s)
		return fail(ld, n, "out of memory");
	n->null = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		  (!strcmp(v, "") || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
		   !strcmp(v, "NULL"));
	return 0;
}

static int on_open(struct ld *ld, struct bld *b, const yaml_event_t *ev, enum ntype t)
{
	struct node *n;

	if (t == N_SEQ &&
	    no_extras(ld, ev, ev->data.sequence_start.anchor, ev->data.sequence_start.tag) < 0)
		return -1;
	if (t == N_MAP &&
	    no_extras(ld, ev, ev->data.mapping_start.anchor, ev->data.mapping_start.tag) < 0)
		return -1;
	if (++b->depth > CONF_MAX_DEPTH)
		return fail_at(ld, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
			       "nesting too deep (more than %d levels)", CONF_MAX_DEPTH);
	n = node_open(ld, b, t, &ev->start_mark);
	if (!n)
		return -1;
	b->cur = n;
	return 0;
}

/* Adds one event to the tree. Returns 0 or -1 with the error written. */
static int on_event(struct ld *ld, struct bld *b, const yaml_event_t *ev)
{
	int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (b->docs++)
			return fail_at(ld, line, col, "more than one YAML document");
		return 0;
	case YAML_ALIAS_EVENT:
		return fail_at(ld, line, col, "anchors and aliases are not supported");
	case YAML_SCALAR_EVENT:
		return on_scalar(ld, b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_open(ld, b, ev, N_SEQ);
	case YAML_MAPPING_START_EVENT:
		return on_open(ld, b, ev, N_MAP);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		b->cur = b->cur->up;
		b->depth--;
		return 0;
	case YAML_STREAM_END_EVENT:
		b->done = true;
		return 0;
	default:
		return 0;
	}
}

/* Parses buf into a tree. Returns 0 with *root set (NULL for an empty stream), or -1 with the
 * error written and nothing allocated. */
static int yaml_tree(struct ld *ld, const char *buf, size_t len, struct node **root)
{
	yaml_parser_t p;
	yaml_event_t ev;
	struct bld b = {0};
	int rc = -1;

	*root = NULL;
	if (!yaml_parser_initialize(&p))
		return fail_at(ld, 0, 0, "out of memory");
	/* No guessing from a BOM: the file is UTF-8, and reader offsets are then buf offsets. */
	yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	while (!b.done) {
		if (!yaml_parser_parse(&p, &ev)) {
			syntax_error(ld, &p, buf, len);
			goto out;
		}
		int r = on_event(ld, &b, &ev);
		yaml_event_delete(&ev);
		if (r < 0)
			goto out;
	}
	*root = b.root;
	b.root = NULL;
	rc = 0;
out:
	node_free(b.root);
	yaml_parser_delete(&p);
	return rc;
}

/* ---- schema helpers ---- */

/* Checks that n is a mapping whose keys are scalars from names[0..cnt), each at most once, and
 * sets val[i] to the value of names[i] (NULL when absent). path names the mapping in messages
 * (NULL: the top level). Returns 0 or -1 with the error written. */
static int map_keys(struct ld *ld, const struct node *n, const char *path, const char *const *names,
		    size_t cnt, const struct node **val)
{
	const struct node *key[CONF_MAX_KEYS] = {0};
	char q[QBUF], list[256] = "";
	size_t i, k;

	if (cnt > CONF_MAX_KEYS) /* a schema past the bound: a bug here, not in the file */
		return fail(ld, n, "internal error: %zu keys in %s, more than CONF_MAX_KEYS", cnt,
			    path ? path : "top level");

	if (n->type != N_MAP)
		return fail(ld, n, "%s: expected a mapping, got %s", path ? path : "top level",
			    what(n, q, sizeof(q)));
	for (k = 0; k < cnt; k++)
		val[k] = NULL;
	for (i = 0; i + 1 < n->n; i += 2) {
		const struct node *kn = n->kid[i];
		if (kn->type != N_SCALAR)
			return fail(ld, kn, "%s: expected a key name, got %s",
				    path ? path : "top level", what(kn, q, sizeof(q)));
		for (k = 0; k < cnt && strcmp(kn->s, names[k]); k++)
			;
		if (k == cnt) {
			for (k = 0; k < cnt; k++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
					 k ? ", " : "", names[k]);
			return fail(ld, kn, "unknown key %s %s%s (expected one of: %s)",
				    quote(kn, q, sizeof(q)), path ? "in " : "at top level",
				    path ? path : "", list);
		}
		if (key[k])
			return fail(ld, kn, "duplicate key '%s' %s%s (first at line %d)", names[k],
				    path ? "in " : "at top level", path ? path : "", key[k]->line);
		key[k] = kn;
		val[k] = n->kid[i + 1];
	}
	return 0;
}

/* Checks that n is a sequence (an empty one too). Returns 0 or -1 with the error written. */
static int want_seq(struct ld *ld, const struct node *n, const char *path)
{
	char q[QBUF];

	if (n->type != N_SEQ)
		return fail(ld, n, "%s: expected a sequence, got %s", path, what(n, q, sizeof(q)));
	return 0;
}

static bool isdig(char c)
{
	return c >= '0' && c <= '9';
}

/* Parses a non-negative decimal integer into *v, with a k, M or G multiplier (10^3, 10^6, 10^9)
 * when units is set, and checks lo <= *v <= hi. Plain digits only: no sign, no underscores, no
 * leading zeros (YAML 1.1 would read 010 as octal 8). Returns 0 or -1 with the error written. */
static int get_uint(struct ld *ld, const struct node *n, const char *path, bool units, uint64_t lo,
		    uint64_t hi, uint64_t *v)
{
	char q[QBUF];
	const char *s, *p;
	uint64_t x = 0, mul = 1;
	bool big = false;

	if (n->type != N_SCALAR || n->null)
		return fail(ld, n, "%s: expected a number, got %s", path, what(n, q, sizeof(q)));
	s = n->s;
	if (s[0] == '-' && isdig(s[1]))
		return fail(ld, n, "%s: expected a non-negative number, got %s", path,
			    quote(n, q, sizeof(q)));
	for (p = s; isdig(*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (x > (UINT64_MAX - d) / 10)
			big = true;
		else
			x = x * 10 + d;
	}
	if (p > s && *p == '.' && isdig(p[1]))
		return fail(ld, n, "%s: expected an integer, got %s", path, quote(n, q, sizeof(q)));
	if (p > s && units && *p && strchr("kMG", *p)) {
		mul = *p == 'k' ? 1000 : *p == 'M' ? 1000000 : 1000000000;
		p++;
	}
	if (p == s || *p)
		return fail(ld, n, "%s: expected a number%s, got %s", path,
			    units ? " (optionally with a k, M or G suffix)" : "",
			    quote(n, q, sizeof(q)));
	if (s[0] == '0' && isdig(s[1]))
		return fail(ld, n, "%s: leading zero in %s (octal is not supported)", path,
			    quote(n, q, sizeof(q)));
	if (!big && x > UINT64_MAX / mul)
		big = true;
	x *= mul;
	if (big || x < lo || x > hi)
		return fail(ld, n, "%s: %s is out of range (%llu..%llu)", path,
			    quote(n, q, sizeof(q)), (unsigned long long)lo, (unsigned long long)hi);
	*v = x;
	return 0;
}

static int get_unsigned(struct ld *ld, const struct node *n, const char *path, unsigned lo,
			unsigned hi, unsigned *v)
{
	uint64_t x;

	if (get_uint(ld, n, path, false, lo, hi, &x) < 0)
		return -1;
	*v = (unsigned)x;
	return 0;
}

/* Parses seconds: "30", "0.5", at most 6 decimals (microseconds), 0 < s <= CONF_MAX_SECS. Kept
 * exact as a count of microseconds, so the printed value reads back to the same double.
 * Returns 0 or -1 with the error written. */
static int get_secs(struct ld *ld, const struct node *n, const char *path, double *v)
{
	char q[QBUF];
	const char *s, *p;
	uint64_t ip = 0, frac = 0;
	int ndig = 0, nfrac = 0;

	if (n->type != N_SCALAR || n->null)
		return fail(ld, n, "%s: expected a number of seconds, got %s", path,
			    what(n, q, sizeof(q)));
	s = n->s;
	if (s[0] == '-' && isdig(s[1]))
		return fail(ld, n, "%s: expected a positive number of seconds, got %s", path,
			    quote(n, q, sizeof(q)));
	for (p = s; isdig(*p); p++, ndig++)
		if (ndig < 12)
			ip = ip * 10 + (uint64_t)(*p - '0');
	if (ndig && *p == '.' && isdig(p[1]))
		for (p++; isdig(*p); p++, nfrac++)
			if (nfrac < 6)
				frac = frac * 10 + (uint64_t)(*p - '0');
	if (!ndig || *p)
		return fail(ld, n, "%s: expected a number of seconds, got %s", path,
			    quote(n, q, sizeof(q)));
	if (s[0] == '0' && isdig(s[1]))
		return fail(ld, n, "%s: leading zero in %s", path, quote(n, q, sizeof(q)));
	if (nfrac > 6)
		return fail(ld, n, "%s: more than 6 decimals in %s", path, quote(n, q, sizeof(q)));
	for (int i = nfrac; i < 6; i++)
		frac *= 10;
	if (ndig > 12 || ip > CONF_MAX_SECS || ip * 1000000 + frac == 0 ||
	    ip * 1000000 + frac > (uint64_t)CONF_MAX_SECS * 1000000)
		return fail(ld, n, "%s: %s is out of range (more than 0, at most %d seconds)", path,
			    quote(n, q, sizeof(q)), CONF_MAX_SECS);
	*v = (double)(ip * 1000000 + frac) / 1e6;
	return 0;
}

/* Copies a non-empty string without control characters into *out (a new allocation). Returns 0
 * or -1 with the error written. */
static int get_str(struct ld *ld, const struct node *n, const char *path, char **out)
{
	char q[QBUF];
	size_t len;

	if (n->type != N_SCALAR || n->null || !n->s[0])
		return fail(ld, n, "%s: expected a string, got %s", path, what(n, q, sizeof(q)));
	len = strlen(n->s);
	if (len > CONF_MAX_STR)
		return fail(ld, n, "%s: string longer than %d bytes", path, CONF_MAX_STR);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)n->s[i] < 0x20 || n->s[i] == 0x7f)
			return fail(ld, n, "%s: control character in %s", path,
				    quote(n, q, sizeof(q)));
	*out = strdup(n->s);
	if (!*out)
		return fail(ld, n, "out of memory");
	return 0;
}

/* Matches a string against names[0..cnt). Returns the index, or -1 with the error written. */
static int get_enum(struct ld *ld, const struct node *n, const char *path, const char *what_,
		    const char *const *names, size_t cnt)
{
	char q[QBUF], list[128] = "";

	if (n->type == N_SCALAR && !n->null)
		for (size_t i = 0; i < cnt; i++)
			if (!strcmp(n->s, names[i]))
				return (int)i;
	for (size_t i = 0; i < cnt; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 names[i]);
	if (n->type != N_SCALAR || n->null)
		return fail(ld, n, "%s: expected %s (one of: %s), got %s", path, what_, list,
			    what(n, q, sizeof(q)));
	return fail(ld, n, "%s: unknown %s %s (expected one of: %s)", path, what_,
		    quote(n, q, sizeof(q)), list);
}

/* true or false, nothing else (YAML 1.1's yes/no/on/off are refused: they surprise). Returns 0
 * or -1 with the error written. */
static int get_bool(struct ld *ld, const struct node *n, const char *path, bool *v)
{
	char q[QBUF];

	if (n->type == N_SCALAR && !n->null && !strcmp(n->s, "true")) {
		*v = true;
		return 0;
	}
	if (n->type == N_SCALAR && !n->null && !strcmp(n->s, "false")) {
		*v = false;
		return 0;
	}
	return fail(ld, n, "%s: expected true or false, got %s", path, what(n, q, sizeof(q)));
}

/* An absolute path without control characters. Returns 0 or -1 with the error written. */
static int get_path(struct ld *ld, const struct node *n, const char *path, char **out)
{
	char q[QBUF];

	if (get_str(ld, n, path, out) < 0)
		return -1;
	if ((*out)[0] != '/') {
		free(*out);
		*out = NULL;
		return fail(ld, n, "%s: %s is not an absolute path", path, quote(n, q, sizeof(q)));
	}
	return 0;
}

static int get_mitigation(struct ld *ld, const struct node *n, const char *path,
			  struct mit_policy **out, size_t *cnt);

/* ---- prefixes ---- */

static char *pfx_str(const struct prefix *p, char *buf, size_t len)
{
	return prefix_str(&p->addr, p->plen, buf, len);
}

/* Parses one prefix. Returns 0 or -1 with the error written. */
static int get_prefix(struct ld *ld, const struct node *n, const char *path, struct prefix *p)
{
	char q[QBUF];
	int rc;

	if (n->type != N_SCALAR || n->null)
		return fail(ld, n, "%s: expected a prefix, got %s", path, what(n, q, sizeof(q)));
	rc = prefix_parse(n->s, &p->addr, &p->plen);
	if (rc == -2)
		return fail(ld, n, "%s: host bits set in %s", path, quote(n, q, sizeof(q)));
	if (rc < 0)
		return fail(ld, n, "%s: %s is not a prefix", path, quote(n, q, sizeof(q)));
	return 0;
}

static int pfx_cmp(const void *va, const void *vb)
{
	const struct prefix *a = va, *b = vb;
	int r = memcmp(a->addr.b, b->addr.b, sizeof(a->addr.b));

	if (r)
		return r;
	return a->plen < b->plen ? -1 : a->plen > b->plen;
}

/* Indexes c->networks for in_networks(): a sorted copy and the lengths in use. Returns 0, or -1
 * with the error written. */
static int nets_index(struct ld *ld, const struct node *n)
{
	const struct conf *c = ld->c;

	ld->nets = malloc(c->n_networks * sizeof(*ld->nets));
	if (!ld->nets)
		return fail(ld, n, "out of memory");
	memcpy(ld->nets, c->networks, c->n_networks * sizeof(*ld->nets));
	ld->n_nets = c->n_networks;
	qsort(ld->nets, ld->n_nets, sizeof(*ld->nets), pfx_cmp);
	for (size_t i = 0; i < ld->n_nets; i++)
		ld->net_plen[ld->nets[i].plen] = true;
	return 0;
}

/* Whether p lies inside one of the networks: for each length in use up to p's, one binary search
 * for p cut to that length. At most 129 * log(networks) steps per prefix, where a scan of every
 * network would make a config with many networks and many hostgroup prefixes quadratic. */
static bool in_networks(const struct ld *ld, const struct prefix *p)
{
	for (int l = 0; l <= p->plen; l++) {
		struct prefix k = {.addr = p->addr, .plen = l};
		if (!ld->net_plen[l])
			continue;
		maddr_mask(&k.addr, l);
		if (bsearch(&k, ld->nets, ld->n_nets, sizeof(k), pfx_cmp))
			return true;
	}
	return false;
}

/* A prefix and where it was written, for duplicate checks. */
struct pent {
	struct prefix p;
	const struct node *n;
	size_t group;
};

static int pos_cmp(const struct node *a, const struct node *b)
{
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return a->col < b->col ? -1 : a->col > b->col;
}

static int pent_cmp(const void *va, const void *vb)
{
	const struct pent *a = va, *b = vb;
	int r = memcmp(a->p.addr.b, b->p.addr.b, sizeof(a->p.addr.b));

	if (r)
		return r;
	if (a->p.plen != b->p.plen)
		return a->p.plen < b->p.plen ? -1 : 1;
	return pos_cmp(a->n, b->n);
}

/* Sorts v and finds the repeated prefix whose second occurrence comes first in the file, so that
 * the error is the one a reader meets first. Returns true with *first and *again set, or false
 * when all prefixes differ. O(n log n). */
static bool find_dup(struct pent *v, size_t cnt, const struct pent **first,
		     const struct pent **again)
{
	*again = NULL;
	if (cnt < 2)
		return false;
	qsort(v, cnt, sizeof(*v), pent_cmp);
	for (size_t i = 1; i < cnt; i++) {
		if (v[i].p.plen != v[i - 1].p.plen || !maddr_eq(&v[i].p.addr, &v[i - 1].p.addr))
			continue;
		/* v[i - 1] is the first of its run only if the one before differs. */
		if (i >= 2 && v[i - 2].p.plen == v[i].p.plen &&
		    maddr_eq(&v[i - 2].p.addr, &v[i].p.addr))
			continue;
		if (!*again || pos_cmp(v[i].n, (*again)->n) < 0) {
			*first = &v[i - 1];
			*again = &v[i];
		}
	}
	return *again != NULL;
}

/* Parses a sequence of prefixes into a new array *out of *cnt. need_one: an empty list is an
 * error; inside: each must lie inside c->networks. Repeats within the list are errors unless
 * the caller checks them itself (check_dup false). Returns 0 or -1 with the error written;
 * *out is set (and the caller's to free) as soon as it is allocated. */
static int get_prefixes(struct ld *ld, const struct node *n, const char *path, bool need_one,
			bool inside, bool check_dup, struct prefix **out, size_t *cnt)
{
	char pb[PATH_MAX_], s[64];
	const struct pent *first, *again;
	struct pent *v;
	int rc = 0;

	if (want_seq(ld, n, path) < 0)
		return -1;
	if (n->n == 0) {
		if (need_one)
			return fail(ld, n, "%s: at least one prefix is required", path);
		return 0;
	}
	*out = calloc(n->n, sizeof(**out));
	if (!*out)
		return fail(ld, n, "out of memory");
	*cnt = n->n;
	for (size_t i = 0; i < n->n; i++) {
		struct prefix *p = &(*out)[i];
		if (get_prefix(ld, n->kid[i], idx(pb, sizeof(pb), path, i), p) < 0)
			return -1;
		if (inside && !in_networks(ld, p))
			return fail(ld, n->kid[i], "%s: %s is not inside networks", pb,
				    pfx_str(p, s, sizeof(s)));
	}
	if (!check_dup)
		return 0;
	v = calloc(n->n, sizeof(*v));
	if (!v)
		return fail(ld, n, "out of memory");
	for (size_t i = 0; i < n->n; i++) {
		v[i].p = (*out)[i];
		v[i].n = n->kid[i];
	}
	if (find_dup(v, n->n, &first, &again))
		rc = fail(ld, again->n, "duplicate prefix %s in %s (first at line %d)",
			  pfx_str(&again->p, s, sizeof(s)), path, first->n->line);
	free(v);
	return rc;
}

/* ---- thresholds ---- */

/* Applies a thresholds mapping to t: a metric key sets both directions, `incoming:` and
 * `outgoing:` (when allowed) then override one direction, whatever the order they are written
 * in. Keys not given keep the value t already has. Returns 0 or -1 with the error written. */
static int get_thr(struct ld *ld, const struct node *n, const char *path, bool dirs,
		   struct thresholds *t)
{
	const char *names[THR__COUNT + DIR__COUNT];
	const struct node *val[THR__COUNT + DIR__COUNT] = {0};
	char pb[PATH_MAX_];
	uint64_t x;

	memcpy(names, thr_names, sizeof(thr_names));
	memcpy(names + THR__COUNT, dir_names, sizeof(dir_names));
	if (map_keys(ld, n, path, names, dirs ? ARRAY_SIZE(names) : THR__COUNT, val) < 0)
		return -1;
	for (int k = 0; k < THR__COUNT; k++) {
		if (!val[k])
			continue;
		if (get_uint(ld, val[k], sub(pb, sizeof(pb), path, thr_names[k]), true, 0, THR_MAX,
			     &x) < 0)
			return -1;
		for (int d = 0; d < DIR__COUNT; d++)
			t->v[d][k] = x;
	}
	if (!dirs)
		return 0;
	for (int d = 0; d < DIR__COUNT; d++) {
		struct thresholds one;
		if (!val[THR__COUNT + d])
			continue;
		memcpy(one.v[0], t->v[d], sizeof(one.v[0]));
		if (get_thr(ld, val[THR__COUNT + d], sub(pb, sizeof(pb), path, dir_names[d]), false,
			    &one) < 0)
			return -1;
		memcpy(t->v[d], one.v[0], sizeof(one.v[0]));
	}
	return 0;
}

/* ---- sections ---- */

static int get_whitelist(struct ld *ld, const struct node *n)
{
	return get_prefixes(ld, n, "whitelist", false, true, true, &ld->c->whitelist,
			    &ld->c->n_whitelist);
}

static bool name_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len >= CONF_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') || isdig(s[i]) ||
		      s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return false;
	return true;
}

/* Parses one hostgroup into g; its per-host thresholds start from the global ones. Sets the
 * nodes of its name and prefixes for the checks across groups. Returns 0 or -1 with the error
 * written. */
static int get_hostgroup(struct ld *ld, const struct node *n, const char *path, struct hostgroup *g,
			 const struct node **name_node, const struct node **pfx_node)
{
	static const char *const keys[] = {"name", "prefixes", "thresholds", "total_thresholds",
					   "mitigation"};
	const struct node *val[ARRAY_SIZE(keys)];
	char pb[PATH_MAX_], q[QBUF];

	if (map_keys(ld, n, path, keys, ARRAY_SIZE(keys), val) < 0)
		return -1;
	for (size_t k = 0; k < 2; k++)
		if (!val[k])
			return fail(ld, n, "%s: missing required key '%s'", path, keys[k]);
	sub(pb, sizeof(pb), path, "name");
	if (val[0]->type != N_SCALAR || val[0]->null)
		return fail(ld, val[0], "%s: expected a name, got %s", pb,
			    what(val[0], q, sizeof(q)));
	if (!name_ok(val[0]->s))
		return fail(ld, val[0], "%s: %s is not a valid name (1 to %d of A-Z a-z 0-9 _ . -)",
			    pb, quote(val[0], q, sizeof(q)), CONF_NAME_MAX - 1);
	strcpy(g->name, val[0]->s);
	*name_node = val[0];
	*pfx_node = val[1];
	if (get_prefixes(ld, val[1], sub(pb, sizeof(pb), path, "prefixes"), true, true, false,
			 &g->prefixes, &g->n_prefixes) < 0)
		return -1;
	g->thr = ld->c->thr;
	if (val[2] &&
	    get_thr(ld, val[2], sub(pb, sizeof(pb), path, "thresholds"), true, &g->thr) < 0)
		return -1;
	if (val[3] && get_thr(ld, val[3], sub(pb, sizeof(pb), path, "total_thresholds"), true,
			      &g->total_thr) < 0)
		return -1;
	if (val[4] && get_mitigation(ld, val[4], sub(pb, sizeof(pb), path, "mitigation"),
				     &g->mitigation, &g->n_mitigation) < 0)
		return -1;
	if (val[4] && !ld->hg_mit)
		ld->hg_mit = val[4];
	return 0;
}

static int name_cmp(const void *va, const void *vb)
{
	const struct node *const *a = va, *const *b = vb;
	int r = strcmp((*a)->s, (*b)->s);

	return r ? r : pos_cmp(*a, *b);
}

/* Group names must be unique. Sorting keeps this O(n log n). Returns 0 or -1 with the error
 * written. */
static int hostgroup_names_unique(struct ld *ld, const struct node **names, size_t cnt)
{
	const struct node *first = NULL, *again = NULL;

	qsort(names, cnt, sizeof(*names), name_cmp);
	for (size_t i = 1; i < cnt; i++) {
		if (strcmp(names[i]->s, names[i - 1]->s))
			continue;
		if (i >= 2 && !strcmp(names[i]->s, names[i - 2]->s))
			continue;
		if (!again || pos_cmp(names[i], again) < 0) {
			first = names[i - 1];
			again = names[i];
		}
	}
	if (again)
		return fail(ld, again, "duplicate hostgroup name '%s' (first at line %d)", again->s,
			    first->line);
	return 0;
}

/* Parses the hostgroups list, then checks what spans groups: names are unique, and a prefix
 * belongs to one group only (longest-prefix match could not choose otherwise). Returns 0 or -1
 * with the error written. */
static int get_hostgroups(struct ld *ld, const struct node *n)
{
	struct conf *c = ld->c;
	const struct node **names = NULL, **pfx = NULL;
	const struct pent *first, *again;
	struct pent *v = NULL;
	char pb[PATH_MAX_], s[64];
	size_t cnt = 0, j = 0;
	int rc = -1;

	if (want_seq(ld, n, "hostgroups") < 0)
		return -1;
	if (n->n == 0)
		return 0;
	c->hostgroups = calloc(n->n, sizeof(*c->hostgroups));
	names = calloc(n->n, sizeof(*names));
	pfx = calloc(n->n, sizeof(*pfx));
	if (!c->hostgroups || !names || !pfx) {
		fail(ld, n, "out of memory");
		goto out;
	}
	c->n_hostgroups = n->n;
	for (size_t i = 0; i < n->n; i++) {
		if (get_hostgroup(ld, n->kid[i], idx(pb, sizeof(pb), "hostgroups", i),
				  &c->hostgroups[i], &names[i], &pfx[i]) < 0)
			goto out;
		cnt += c->hostgroups[i].n_prefixes;
	}
	v = calloc(cnt, sizeof(*v));
	if (!v) {
		fail(ld, n, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n->n; i++)
		for (size_t k = 0; k < c->hostgroups[i].n_prefixes; k++, j++) {
			v[j].p = c->hostgroups[i].prefixes[k];
			v[j].n = pfx[i]->kid[k];
			v[j].group = i;
		}
	if (find_dup(v, cnt, &first, &again)) {
		pfx_str(&again->p, s, sizeof(s));
		if (first->group == again->group)
			fail(ld, again->n,
			     "duplicate prefix %s in hostgroup '%s' (first at line %d)", s,
			     c->hostgroups[again->group].name, first->n->line);
		else
			fail(ld, again->n,
			     "prefix %s of hostgroup '%s' is already in hostgroup '%s' (line %d)",
			     s, c->hostgroups[again->group].name, c->hostgroups[first->group].name,
			     first->n->line);
		goto out;
	}
	rc = hostgroup_names_unique(ld, names, n->n);
out:
	free(v);
	free(pfx);
	free(names);
	return rc;
}

static int get_detection(struct ld *ld, const struct node *n)
{
	static const char *const keys[] = {"cooldown", "update_interval", "top_n"};
	const struct node *val[ARRAY_SIZE(keys)];
	struct conf *c = ld->c;

	if (map_keys(ld, n, "detection", keys, ARRAY_SIZE(keys), val) < 0)
		return -1;
	if (val[0] && get_secs(ld, val[0], "detection.cooldown", &c->detection.cooldown) < 0)
		return -1;
	if (val[1] &&
	    get_secs(ld, val[1], "detection.update_interval", &c->detection.update_interval) < 0)
		return -1;
	if (val[2] &&
	    get_unsigned(ld, val[2], "detection.top_n", 1, CONF_MAX_TOP_N, &c->detection.top_n) < 0)
		return -1;
	return 0;
}

static int get_events(struct ld *ld, const struct node *n)
{
	static const char *const keys[] = {"file"};
	const struct node *val[ARRAY_SIZE(keys)];

	if (map_keys(ld, n, "events", keys, ARRAY_SIZE(keys), val) < 0)
		return -1;
	if (!val[0])
		return fail(ld, n, "events: missing required key 'file'");
	return get_str(ld, val[0], "events.file", &ld->c->events.file);
}

static int get_notify(struct ld *ld, const struct node *n)
{
	static const char *const keys[] = {"script", "format", "timeout"};
	static const char *const formats[] = {
	    [NOTIFY_FASTNETMON] = "fastnetmon", [NOTIFY_JSON] = "json"};
	const struct node *val[ARRAY_SIZE(keys)];
	struct conf *c = ld->c;
	int f;

	if (map_keys(ld, n, "notify", keys, ARRAY_SIZE(keys), val) < 0)
		return -1;
	if (!val[0])
		return fail(ld, n, "notify: missing required key 'script'");
	if (get_str(ld, val[0], "notify.script", &c->notify.script) < 0)
		return -1;
	if (val[1]) {
		f = get_enum(ld, val[1], "notify.format", "format", formats, ARRAY_SIZE(formats));
		if (f < 0)
			return -1;
		c->notify.format = (enum notify_format)f;
	}
	if (val[2] && get_secs(ld, val[2], "notify.timeout", &c->notify.timeout) < 0)
		return -1;
	return 0;
}

static int get_limits(struct ld *ld, const struct node *n)
{
	static const char *const keys[] = {"max_hosts", "max_hot", "host_idle"};
	const struct node *val[ARRAY_SIZE(keys)];
	struct conf *c = ld->c;

	if (map_keys(ld, n, "limits", keys, ARRAY_SIZE(keys), val) < 0)
		return -1;
	if (val[0] && get_unsigned(ld, val[0], "limits.max_hosts", 1, CONF_MAX_HOSTS,
				   &c->limits.max_hosts) < 0)
		return -1;
	if (val[1] &&
	    get_unsigned(ld, val[1], "limits.max_hot", 1, CONF_MAX_HOSTS, &c->limits.max_hot) < 0)
		return -1;
	if (val[2] && get_secs(ld, val[2], "limits.host_idle", &c->limits.host_idle) < 0)
		return -1;
	/* hot hosts are a subset of tracked hosts: the default follows a smaller max_hosts, a
	 * value given explicitly must fit */
	if (!val[1] && c->limits.max_hot > c->limits.max_hosts)
		c->limits.max_hot = c->limits.max_hosts;
	if (c->limits.max_hot > c->limits.max_hosts)
		return fail(ld, val[1], "limits.max_hot: %u is more than max_hosts (%u)",
			    c->limits.max_hot, c->limits.max_hosts);
	return 0;
}

static const char *const level_names[] = {
    [LOG_ERR] = "error", [LOG_WARNING] = "warning", [LOG_INFO] = "info", [LOG_DEBUG] = "debug"};

static int get_log(struct ld *ld, const struct node *n)
{
	static const char *const keys[] = {"file", "level"};
	static const char *const levels[] = {"error", "warning", "info", "debug"};
	static const int values[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
	const struct node *val[ARRAY_SIZE(keys)];
	int l;

	if (map_keys(ld, n, "log", keys, ARRAY_SIZE(keys), val) < 0)
		return -1;
	if (val[0] && get_str(ld, val[0], "log.file", &ld->c->log.file) < 0)
		return -1;
	if (val[1]) {
		l = get_enum(ld, val[1], "log.level", "level", levels, ARRAY_SIZE(levels));
		if (l < 0)
			return -1;
		ld->c->log.level = values[l];
	}
	return 0;
}

/* Linux's rule for interface names (dev_valid_name): under IFNAMSIZ, no '/', ':' or space. */
static bool ifname_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len >= 16 || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '/' || s[i] == ':' || s[i] == ' ' || (unsigned char)s[i] < 0x20 ||
		    (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* Parses the body of one capture item ("af_packet: {...}") into cap. Returns 0 or -1 with the
 * error written. */
static int get_capture_one(struct ld *ld, const struct node *n, const char *path,
			   struct capture *cap)
{
	static const char *const keys[] = {"interface", "workers", "ring_mb"};
	const struct node *val[ARRAY_SIZE(keys)] = {0};
	char pb[PATH_MAX_], q[QBUF];
	const struct node *in;

	/* pcap has neither workers nor a ring of ours: only the first key is allowed */
	if (map_keys(ld, n, path, keys, cap->kind == CAPTURE_PCAP ? 1 : ARRAY_SIZE(keys), val) < 0)
		return -1;
	in = val[0];
	if (!in)
		return fail(ld, n, "%s: missing required key 'interface'", path);
	sub(pb, sizeof(pb), path, "interface");
	if (in->type != N_SCALAR || in->null)
		return fail(ld, in, "%s: expected an interface name, got %s", pb,
			    what(in, q, sizeof(q)));
	if (!ifname_ok(in->s))
		return fail(ld, in, "%s: %s is not a valid interface name", pb,
			    quote(in, q, sizeof(q)));
	strcpy(cap->interface, in->s);
	cap->ring_mb = cap->kind == CAPTURE_AF_PACKET ? DEF_RING_MB : 0;
	if (val[1] && get_unsigned(ld, val[1], sub(pb, sizeof(pb), path, "workers"), 0,
				   CONF_MAX_WORKERS, &cap->workers) < 0)
		return -1;
	if (val[2] && get_unsigned(ld, val[2], sub(pb, sizeof(pb), path, "ring_mb"), 1,
				   CONF_MAX_RING_MB, &cap->ring_mb) < 0)
		return -1;
	return 0;
}

/* "0.0.0.0:6343", "192.0.2.1:2055", "[::]:2055", "[2001:db8::1]:6343". Returns 0 or -1. */
static int parse_listen(const char *s, struct capture *cap)
{
	char host[48];
	const char *colon;
	size_t hl;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof(host))
			return -1;
		hl = (size_t)(end - s - 1);
		memcpy(host, s + 1, hl);
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof(host) ||
		    memchr(s, ':', (size_t)(colon - s)))
			return -1;
		hl = (size_t)(colon - s);
		memcpy(host, s, hl);
	}
	host[hl] = 0;
	if (maddr_parse(host, &cap->listen_addr) < 0)
		return -1;
	cap->listen_family = strchr(host, ':') ? 6 : 4;
	if (s[0] != '[' && cap->listen_family == 6)
		return -1;
	char *end;
	errno = 0;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (!isdig(colon[1]) || *end || errno || port == 0 || port > 65535)
		return -1;
	cap->listen_port = (uint16_t)port;
	snprintf(cap->listen, sizeof(cap->listen), "%s%s%s:%lu", cap->listen_family == 6 ? "[" : "",
		 host, cap->listen_family == 6 ? "]" : "", port);
	return 0;
}

/* Parses the body of a collector item ("sflow: {listen: ...}"). Returns 0 or -1. */
static int get_collector_one(struct ld *ld, const struct node *n, const char *path,
			     struct capture *cap)
{
	static const char *const keys[] = {"listen"};
	const struct node *val[ARRAY_SIZE(keys)] = {0};
	char pb[PATH_MAX_], q[QBUF];

	if (map_keys(ld, n, path, keys, ARRAY_SIZE(keys), val) < 0)
		return -1;
	if (!val[0]) {
		/* the well-known ports on every address */
		const char *def = cap->kind == CAPTURE_SFLOW ? "[::]:6343" : "[::]:2055";
		parse_listen(def, cap);
		return 0;
	}
	sub(pb, sizeof(pb), path, "listen");
	if (val[0]->type != N_SCALAR || val[0]->null || parse_listen(val[0]->s, cap) < 0)
		return fail(ld, val[0],
			    "%s: expected ADDRESS:PORT (\"0.0.0.0:6343\", \"[::]:2055\"), got %s",
			    pb, what(val[0], q, sizeof(q)));
	return 0;
}

static int get_capture(struct ld *ld, const struct node *n)
{
	static const char *const kinds[] = {"af_packet", "pcap", "sflow", "netflow"};
	struct conf *c = ld->c;
	char pb[PATH_MAX_], pk[PATH_MAX_], q[QBUF];

	if (want_seq(ld, n, "capture") < 0)
		return -1;
	if (n->n == 0)
		return 0;
	if (n->n > CONF_MAX_CAPTURES)
		return fail(ld, n, "capture: more than %d capture sources", CONF_MAX_CAPTURES);
	c->captures = calloc(n->n, sizeof(*c->captures));
	if (!c->captures)
		return fail(ld, n, "out of memory");
	c->n_captures = n->n;
	for (size_t i = 0; i < n->n; i++) {
		const struct node *it = n->kid[i];
		struct capture *cap = &c->captures[i];
		int k;
		idx(pb, sizeof(pb), "capture", i);
		if (it->type != N_MAP)
			return fail(
			    ld, it,
			    "%s: expected a mapping with one key (af_packet, pcap, sflow or "
			    "netflow), got %s",
			    pb, what(it, q, sizeof(q)));
		if (it->n != 2)
			return fail(
			    ld, it,
			    "%s: expected one key (af_packet, pcap, sflow or netflow), got %zu", pb,
			    it->n / 2);
		k = get_enum(ld, it->kid[0], pb, "capture kind", kinds, ARRAY_SIZE(kinds));
		if (k < 0)
			return -1;
		cap->kind = k == 0   ? CAPTURE_AF_PACKET
			    : k == 1 ? CAPTURE_PCAP
			    : k == 2 ? CAPTURE_SFLOW
				     : CAPTURE_NETFLOW;
		sub(pk, sizeof(pk), pb, kinds[k]);
		if (cap->kind == CAPTURE_SFLOW || cap->kind == CAPTURE_NETFLOW) {
			if (get_collector_one(ld, it->kid[1], pk, cap) < 0)
				return -1;
			/* one socket per address and port */
			for (size_t j = 0; j < i; j++)
				if (c->captures[j].listen_port == cap->listen_port &&
				    maddr_eq(&c->captures[j].listen_addr, &cap->listen_addr) &&
				    c->captures[j].listen_family == cap->listen_family)
					return fail(ld, it,
						    "%s: %s is already used by capture[%zu]", pb,
						    cap->listen, j);
			continue;
		}
		if (get_capture_one(ld, it->kid[1], pk, cap) < 0)
			return -1;
		/* Two sources on one interface would count every packet twice. */
		for (size_t j = 0; j < i; j++)
			if (c->captures[j].interface[0] &&
			    !strcmp(c->captures[j].interface, cap->interface))
				return fail(ld, it,
					    "%s: interface '%s' is already captured by "
					    "capture[%zu]",
					    pb, cap->interface, j);
	}
	return 0;
}

/* exporters: [{address: 192.0.2.1, sampling: 1000}, ...] */
static int get_exporters(struct ld *ld, const struct node *n)
{
	static const char *const keys[] = {"address", "sampling"};
	struct conf *c = ld->c;
	char pb[PATH_MAX_], pk[PATH_MAX_], q[QBUF];

	if (want_seq(ld, n, "exporters") < 0)
		return -1;
	if (n->n == 0)
		return 0;
	if (n->n > CONF_MAX_EXPORTERS)
		return fail(ld, n, "exporters: more than %d exporters", CONF_MAX_EXPORTERS);
	c->exporters = calloc(n->n, sizeof(*c->exporters));
	if (!c->exporters)
		return fail(ld, n, "out of memory");
	c->n_exporters = n->n;
	for (size_t i = 0; i < n->n; i++) {
		const struct node *val[ARRAY_SIZE(keys)] = {0};
		struct exporter_conf *e = &c->exporters[i];
		idx(pb, sizeof(pb), "exporters", i);
		if (map_keys(ld, n->kid[i], pb, keys, ARRAY_SIZE(keys), val) < 0)
			return -1;
		if (!val[0])
			return fail(ld, n->kid[i], "%s: missing required key 'address'", pb);
		sub(pk, sizeof(pk), pb, "address");
		if (val[0]->type != N_SCALAR || val[0]->null ||
		    maddr_parse(val[0]->s, &e->addr) < 0)
			return fail(ld, val[0], "%s: expected an IPv4 or IPv6 address, got %s", pk,
				    what(val[0], q, sizeof(q)));
		if (val[1] && get_unsigned(ld, val[1], sub(pk, sizeof(pk), pb, "sampling"), 1,
					   CONF_MAX_SAMPLING, &e->sampling) < 0)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (maddr_eq(&c->exporters[j].addr, &e->addr))
				return fail(ld, val[0],
					    "%s: %s is already listed as exporters[%zu]",
					    sub(pk, sizeof(pk), pb, "address"),
					    quote(val[0], q, sizeof(q)), j);
	}
	return 0;
}

/* ---- scrubber and control socket ---- */

static int get_scrub_ifaces(struct ld *ld, const struct node *n)
{
	struct conf *c = ld->c;
	char pb[PATH_MAX_], q[QBUF];

	if (want_seq(ld, n, "scrubber.interfaces") < 0)
		return -1;
	if (n->n == 0)
		return fail(ld, n, "scrubber.interfaces: at least one interface is needed");
	if (n->n > CONF_MAX_SCRUB_IFACES)
		return fail(ld, n, "scrubber.interfaces: more than %d interfaces",
			    CONF_MAX_SCRUB_IFACES);
	for (size_t i = 0; i < n->n; i++) {
		const struct node *in = n->kid[i];
		idx(pb, sizeof(pb), "scrubber.interfaces", i);
		if (in->type != N_SCALAR || in->null)
			return fail(ld, in, "%s: expected an interface name, got %s", pb,
				    what(in, q, sizeof(q)));
		if (!ifname_ok(in->s))
			return fail(ld, in, "%s: %s is not a valid interface name", pb,
				    quote(in, q, sizeof(q)));
		for (size_t j = 0; j < i; j++)
			if (!strcmp(c->scrubber.interfaces[j], in->s))
				return fail(ld, in, "%s: %s is already listed as %s[%zu]", pb,
					    quote(in, q, sizeof(q)), "scrubber.interfaces", j);
		strcpy(c->scrubber.interfaces[i], in->s);
	}
	c->scrubber.n_interfaces = n->n;
	return 0;
}

static const char *const scrub_modes[] = {
    [SCRUB_MODE_AUTO] = "auto", [SCRUB_MODE_NATIVE] = "native", [SCRUB_MODE_GENERIC] = "generic"};

/* A list file: one prefix or address a line; blank lines and # comments are skipped. Errors
 * name the config's key and the file's line. Returns 0 or -1 with the error written. */
static int get_prefix_file(struct ld *ld, const struct node *n, const char *key, char **path,
			   struct prefix **out, size_t *cnt)
{
	char *line = NULL;
	size_t cap = 0, num = 0, have = 0;
	struct prefix *v = NULL;
	FILE *f;
	int rc = -1;

	if (get_path(ld, n, key, path) < 0)
		return -1;
	f = fopen(*path, "re");
	if (!f)
		return fail(ld, n, "%s: %s: %s", key, *path, strerror(errno));
	struct stat st;
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > 64 << 20) {
		fclose(f);
		return fail(ld, n, "%s: %s: not a regular file of at most 64 MiB", key, *path);
	}
	while (getline(&line, &cap, f) > 0) {
		char *s = line, *e;
		num++;
		if ((e = strchr(s, '#')))
			*e = 0;
		while (*s == ' ' || *s == '\t')
			s++;
		for (e = s + strlen(s); e > s && strchr(" \t\r\n", e[-1]); e--)
			;
		*e = 0;
		if (!*s)
			continue;
		if (*cnt == CONF_MAX_LIST) {
			fail(ld, n, "%s: %s: more than %d prefixes", key, *path, CONF_MAX_LIST);
			goto out;
		}
		if (*cnt == have) {
			size_t nh = have ? have * 2 : 1024;
			struct prefix *nv = realloc(v, nh * sizeof(*v));
			if (!nv) {
				fail(ld, n, "out of memory");
				goto out;
			}
			v = nv;
			have = nh;
		}
		int r = prefix_parse(s, &v[*cnt].addr, &v[*cnt].plen);
		if (r < 0) {
			fail(ld, n, "%s: %s:%zu: %s '%.64s'", key, *path, num,
			     r == -2 ? "host bits set in" : "not a prefix:", s);
			goto out;
		}
		(*cnt)++;
	}
	if (ferror(f)) {
		fail(ld, n, "%s: %s: read error", key, *path);
		goto out;
	}
	rc = 0;
out:
	*out = v;
	free(line);
	fclose(f);
	return rc;
}

static int get_scrubber(struct ld *ld, const struct node *n)
{
	static const char *const keys[] = {"interfaces",
					   "mode",
					   "auto",
					   "hold",
					   "sample_every",
					   "evidence_dir",
					   "evidence_packets",
					   "pin_dir",
					   "source_pps",
					   "source_burst",
					   "allow",
					   "deny",
					   "allow_file",
					   "deny_file"};
	const struct node *val[ARRAY_SIZE(keys)];
	struct conf *c = ld->c;
	int m;

	if (map_keys(ld, n, "scrubber", keys, ARRAY_SIZE(keys), val) < 0)
		return -1;
	if (!val[0])
		return fail(ld, n, "scrubber: missing required key 'interfaces'");
	c->scrubber.enabled = true;
	if (get_scrub_ifaces(ld, val[0]) < 0)
		return -1;
	if (val[1]) {
		m = get_enum(ld, val[1], "scrubber.mode", "mode", scrub_modes,
			     ARRAY_SIZE(scrub_modes));
		if (m < 0)
			return -1;
		c->scrubber.mode = (enum scrub_mode)m;
	}
	if (val[2] && get_bool(ld, val[2], "scrubber.auto", &c->scrubber.autom) < 0)
		return -1;
	if (val[3] && get_secs(ld, val[3], "scrubber.hold", &c->scrubber.hold) < 0)
		return -1;
	if (val[4] && get_unsigned(ld, val[4], "scrubber.sample_every", 0, 1u << 24,
				   &c->scrubber.sample_every) < 0)
		return -1;
	if (val[5]) {
		free(c->scrubber.evidence_dir);
		c->scrubber.evidence_dir = NULL;
		if (get_path(ld, val[5], "scrubber.evidence_dir", &c->scrubber.evidence_dir) < 0)
			return -1;
	}
	if (val[6] && get_unsigned(ld, val[6], "scrubber.evidence_packets", 0, 1u << 24,
				   &c->scrubber.evidence_packets) < 0)
		return -1;
	if (val[7]) {
		free(c->scrubber.pin_dir);
		c->scrubber.pin_dir = NULL;
		if (get_path(ld, val[7], "scrubber.pin_dir", &c->scrubber.pin_dir) < 0)
			return -1;
	}
	if (val[8] && get_unsigned(ld, val[8], "scrubber.source_pps", 1, 1u << 30,
				   &c->scrubber.source_pps) < 0)
		return -1;
	if (val[9] && get_unsigned(ld, val[9], "scrubber.source_burst", 1, 1u << 30,
				   &c->scrubber.source_burst) < 0)
		return -1;
	if (val[10] && get_prefixes(ld, val[10], "scrubber.allow", false, false, true,
				    &c->scrubber.allow, &c->scrubber.n_allow) < 0)
		return -1;
	if (val[11] && get_prefixes(ld, val[11], "scrubber.deny", false, false, true,
				    &c->scrubber.deny, &c->scrubber.n_deny) < 0)
		return -1;
	if (val[12] && get_prefix_file(ld, val[12], "scrubber.allow_file", &c->scrubber.allow_file,
				       &c->scrubber.allow_f, &c->scrubber.n_allow_f) < 0)
		return -1;
	if (val[13] && get_prefix_file(ld, val[13], "scrubber.deny_file", &c->scrubber.deny_file,
				       &c->scrubber.deny_f, &c->scrubber.n_deny_f) < 0)
		return -1;
	return 0;
}

static int get_control(struct ld *ld, const struct node *n)
{
	static const char *const keys[] = {"socket"};
	const struct node *val[ARRAY_SIZE(keys)];
	struct conf *c = ld->c;

	if (map_keys(ld, n, "control", keys, ARRAY_SIZE(keys), val) < 0)
		return -1;
	if (!val[0])
		return 0;
	free(c->control.socket);
	c->control.socket = NULL;
	if (val[0]->type == N_SCALAR && !val[0]->null && !strcmp(val[0]->s, "none"))
		return 0;
	if (get_path(ld, val[0], "control.socket", &c->control.socket) < 0)
		return -1;
	if (strlen(c->control.socket) >= 108) /* sizeof(sun_path) */
		return fail(ld, val[0], "control.socket: longer than 107 bytes");
	return 0;
}

/* ---- BGP and the mitigation policy ---- */

static const char *const fam_names[] = {"ipv4", "ipv6", "flowspec4", "flowspec6"};
static const char *const act_names[] = {[MIT_ACT_AUTO] = "auto",
					[MIT_ACT_BLACKHOLE] = "blackhole",
					[MIT_ACT_FLOWSPEC] = "flowspec",
					[MIT_ACT_DIVERSION] = "diversion",
					[MIT_ACT_NONE] = "none"};

const char *conf_action_name(enum mit_action a)
{
	return (size_t)a < ARRAY_SIZE(act_names) ? act_names[a] : "?";
}

static int get_addr(struct ld *ld, const struct node *n, const char *path, struct maddr *a)
{
	char q[QBUF];

	if (n->type != N_SCALAR || n->null || maddr_parse(n->s, a) < 0)
		return fail(ld, n, "%s: expected an IPv4 or IPv6 address, got %s", path,
			    what(n, q, sizeof(q)));
	return 0;
}

static int get_as(struct ld *ld, const struct node *n, const char *path, uint32_t *as)
{
	uint64_t v;

	if (get_uint(ld, n, path, false, 1, UINT32_MAX, &v) < 0)
		return -1;
	*as = (uint32_t)v;
	return 0;
}

/* "A:B" (RFC 1997) or "A:B:C" (RFC 8092) into parts[]; returns the count or -1 */
static int comm_parse(const char *s, uint32_t parts[3], uint32_t max)
{
	int n = 0;
	const char *p = s;

	while (n < 3) {
		char *end;
		if (!isdig(*p))
			return -1;
		errno = 0;
		unsigned long v = strtoul(p, &end, 10);
		if (errno || v > max || end - p > 10)
			return -1;
		parts[n++] = (uint32_t)v;
		if (!*end)
			return n;
		if (*end != ':')
			return -1;
		p = end + 1;
	}
	return -1;
}

static int get_comms(struct ld *ld, const struct node *n, const char *path, bool large,
		     struct bgp_announce_cfg *a)
{
	char pb[PATH_MAX_], q[QBUF];
	size_t max = large ? CONF_MAX_LARGE : CONF_MAX_COMMS;

	if (want_seq(ld, n, path) < 0)
		return -1;
	if (n->n > max)
		return fail(ld, n, "%s: more than %zu", path, max);
	for (size_t i = 0; i < n->n; i++) {
		const struct node *k = n->kid[i];
		uint32_t parts[3];
		idx(pb, sizeof(pb), path, i);
		if (k->type != N_SCALAR || k->null ||
		    comm_parse(k->s, parts, large ? UINT32_MAX : 65535) != (large ? 3 : 2))
			return fail(ld, k, "%s: expected %s, got %s", pb,
				    large ? "a large community \"A:B:C\"" : "a community \"A:B\"",
				    what(k, q, sizeof(q)));
		if (large) {
			memcpy(a->large[a->n_large++], parts, sizeof(parts));
		} else {
			a->comm[a->n_comm++] = parts[0] << 16 | parts[1];
		}
	}
	return 0;
}

static int get_announce(struct ld *ld, const struct node *n, const char *path,
			struct bgp_announce_cfg *a, bool diversion)
{
	static const char *const keys[] = {"communities", "large_communities", "next_hop",
					   "next_hop6",	  "prefix_len4",       "prefix_len6"};
	const struct node *val[ARRAY_SIZE(keys)];
	char pb[PATH_MAX_], q[QBUF];

	if (map_keys(ld, n, path, keys, diversion ? 6 : 4, val) < 0)
		return -1;
	if (val[0] && get_comms(ld, val[0], sub(pb, sizeof(pb), path, "communities"), false, a) < 0)
		return -1;
	if (val[1] &&
	    get_comms(ld, val[1], sub(pb, sizeof(pb), path, "large_communities"), true, a) < 0)
		return -1;
	if (val[2]) {
		if (get_addr(ld, val[2], sub(pb, sizeof(pb), path, "next_hop"), &a->next_hop) < 0)
			return -1;
		if (!maddr_is_v4(&a->next_hop))
			return fail(ld, val[2], "%s: %s is not an IPv4 address (IPv6: next_hop6)",
				    pb, quote(val[2], q, sizeof(q)));
		a->has_nh4 = true;
	}
	if (val[3]) {
		if (get_addr(ld, val[3], sub(pb, sizeof(pb), path, "next_hop6"), &a->next_hop6) < 0)
			return -1;
		if (maddr_is_v4(&a->next_hop6))
			return fail(ld, val[3], "%s: %s is not an IPv6 address", pb,
				    quote(val[3], q, sizeof(q)));
		a->has_nh6 = true;
	}
	if (diversion && val[4] &&
	    get_unsigned(ld, val[4], sub(pb, sizeof(pb), path, "prefix_len4"), 8, 32, &a->len4) < 0)
		return -1;
	if (diversion && val[5] &&
	    get_unsigned(ld, val[5], sub(pb, sizeof(pb), path, "prefix_len6"), 16, 128, &a->len6) <
		0)
		return -1;
	return 0;
}

static int get_peer(struct ld *ld, const struct node *n, const char *path, struct bgp_peer_cfg *p)
{
	static const char *const keys[] = {"address", "remote_as", "port",     "families",
					   "md5",     "passive",   "hold_time"};
	const struct node *val[ARRAY_SIZE(keys)];
	char pb[PATH_MAX_], q[QBUF];
	unsigned v;

	if (map_keys(ld, n, path, keys, ARRAY_SIZE(keys), val) < 0)
		return -1;
	for (size_t k = 0; k < 2; k++)
		if (!val[k])
			return fail(ld, n, "%s: missing required key '%s'", path, keys[k]);
	if (get_addr(ld, val[0], sub(pb, sizeof(pb), path, "address"), &p->addr) < 0 ||
	    get_as(ld, val[1], sub(pb, sizeof(pb), path, "remote_as"), &p->remote_as) < 0)
		return -1;
	p->port = 179;
	p->hold_time = 90;
	p->families = maddr_is_v4(&p->addr) ? 0x5 : 0xa; /* its own family, unicast + flowspec */
	if (val[2]) {
		if (get_unsigned(ld, val[2], sub(pb, sizeof(pb), path, "port"), 1, 65535, &v) < 0)
			return -1;
		p->port = (uint16_t)v;
	}
	if (val[3]) {
		sub(pb, sizeof(pb), path, "families");
		if (want_seq(ld, val[3], pb) < 0)
			return -1;
		if (val[3]->n == 0)
			return fail(ld, val[3], "%s: at least one family", pb);
		p->families = 0;
		for (size_t i = 0; i < val[3]->n; i++) {
			char pi[PATH_MAX_];
			int f = get_enum(ld, val[3]->kid[i], idx(pi, sizeof(pi), pb, i), "family",
					 fam_names, ARRAY_SIZE(fam_names));
			if (f < 0)
				return -1;
			p->families |= 1u << f;
		}
	}
	if (val[4]) {
		sub(pb, sizeof(pb), path, "md5");
		if (val[4]->type != N_SCALAR || val[4]->null || !val[4]->s[0] ||
		    strlen(val[4]->s) > 80)
			return fail(ld, val[4], "%s: expected a key of 1 to 80 bytes, got %s", pb,
				    what(val[4], q, sizeof(q)));
		strcpy(p->md5, val[4]->s);
	}
	if (val[5] && get_bool(ld, val[5], sub(pb, sizeof(pb), path, "passive"), &p->passive) < 0)
		return -1;
	if (val[6]) {
		if (get_unsigned(ld, val[6], sub(pb, sizeof(pb), path, "hold_time"), 0, 65535,
				 &p->hold_time) < 0)
			return -1;
		if (p->hold_time == 1 || p->hold_time == 2)
			return fail(ld, val[6],
				    "%s: hold time 1 or 2 is not allowed (0 or 3..65535)", pb);
	}
	return 0;
}

static int get_bgp(struct ld *ld, const struct node *n)
{
	static const char *const keys[] = {
	    "local_as",	  "router_id", "listen",	"peers",
	    "blackhole",  "diversion", "flowspec_rate", "withdraw_on_shutdown",
	    "state_file", "hold"};
	const struct node *val[ARRAY_SIZE(keys)];
	struct conf *c = ld->c;
	char pb[PATH_MAX_], q[QBUF];
	struct maddr id;

	if (map_keys(ld, n, "bgp", keys, ARRAY_SIZE(keys), val) < 0)
		return -1;
	for (size_t k = 0; k < 2; k++)
		if (!val[k])
			return fail(ld, n, "bgp: missing required key '%s'", keys[k]);
	if (!val[3])
		return fail(ld, n, "bgp: missing required key 'peers'");
	c->bgp.enabled = true;
	if (get_as(ld, val[0], "bgp.local_as", &c->bgp.local_as) < 0 ||
	    get_addr(ld, val[1], "bgp.router_id", &id) < 0)
		return -1;
	if (!maddr_is_v4(&id) || (id.b[12] | id.b[13] | id.b[14] | id.b[15]) == 0)
		return fail(ld, val[1], "bgp.router_id: %s is not a non-zero IPv4 address",
			    quote(val[1], q, sizeof(q)));
	c->bgp.router_id = (uint32_t)id.b[12] << 24 | (uint32_t)id.b[13] << 16 |
			   (uint32_t)id.b[14] << 8 | id.b[15];
	if (val[2]) {
		struct capture tmp = {0};
		if (val[2]->type != N_SCALAR || val[2]->null || parse_listen(val[2]->s, &tmp) < 0)
			return fail(
			    ld, val[2],
			    "bgp.listen: expected \"ADDRESS:PORT\" (IPv6 in brackets), got %s",
			    what(val[2], q, sizeof(q)));
		snprintf(c->bgp.listen, sizeof(c->bgp.listen), "%s", tmp.listen);
		c->bgp.listen_addr = tmp.listen_addr;
		c->bgp.listen_port = tmp.listen_port;
	}
	if (want_seq(ld, val[3], "bgp.peers") < 0)
		return -1;
	if (val[3]->n == 0 || val[3]->n > CONF_MAX_BGP_PEERS)
		return fail(ld, val[3], "bgp.peers: 1 to %d peers", CONF_MAX_BGP_PEERS);
	c->bgp.peers = calloc(val[3]->n, sizeof(*c->bgp.peers));
	if (!c->bgp.peers)
		return fail(ld, n, "out of memory");
	c->bgp.n_peers = val[3]->n;
	for (size_t i = 0; i < val[3]->n; i++) {
		struct bgp_peer_cfg *p = &c->bgp.peers[i];
		if (get_peer(ld, val[3]->kid[i], idx(pb, sizeof(pb), "bgp.peers", i), p) < 0)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (maddr_eq(&c->bgp.peers[j].addr, &p->addr))
				return fail(ld, val[3]->kid[i], "%s: %s is already bgp.peers[%zu]",
					    pb, maddr_str(&p->addr, q), j);
		if (p->passive && !c->bgp.listen[0])
			return fail(ld, val[3]->kid[i],
				    "%s: a passive peer needs bgp.listen (\"[::]:179\")", pb);
	}
	/* the blackhole's next hop defaults to our router id, a common RTBH setup */
	c->bgp.blackhole.next_hop = id;
	c->bgp.blackhole.has_nh4 = true;
	c->bgp.diversion.len4 = 24;
	c->bgp.diversion.len6 = 48;
	if (val[4] && get_announce(ld, val[4], "bgp.blackhole", &c->bgp.blackhole, false) < 0)
		return -1;
	if (!val[4] || !c->bgp.blackhole.n_comm) /* RFC 7999 BLACKHOLE unless told otherwise */
		c->bgp.blackhole.comm[c->bgp.blackhole.n_comm++] = 0xffff029au;
	if (val[5] && get_announce(ld, val[5], "bgp.diversion", &c->bgp.diversion, true) < 0)
		return -1;
	if (val[6]) {
		uint64_t r;
		if (get_uint(ld, val[6], "bgp.flowspec_rate", true, 0, 1000000000000ULL, &r) < 0)
			return -1;
		c->bgp.flowspec_rate = (double)r;
	}
	if (val[7] &&
	    get_bool(ld, val[7], "bgp.withdraw_on_shutdown", &c->bgp.withdraw_on_shutdown) < 0)
		return -1;
	if (val[8]) {
		free(c->bgp.state_file);
		c->bgp.state_file = NULL;
		if (get_path(ld, val[8], "bgp.state_file", &c->bgp.state_file) < 0)
			return -1;
	}
	if (val[9] && get_secs(ld, val[9], "bgp.hold", &c->bgp.hold) < 0)
		return -1;
	return 0;
}

static int get_mitigation(struct ld *ld, const struct node *n, const char *path,
			  struct mit_policy **out, size_t *cnt)
{
	static const char *const keys[] = {"when", "action"};
	static const char *const wkeys[] = {"bps_over", "pps_over"};
	char pb[PATH_MAX_], pw[PATH_MAX_];

	if (want_seq(ld, n, path) < 0)
		return -1;
	if (n->n > CONF_MAX_POLICIES)
		return fail(ld, n, "%s: more than %d entries", path, CONF_MAX_POLICIES);
	*out = calloc(n->n ? n->n : 1, sizeof(**out));
	if (!*out)
		return fail(ld, n, "out of memory");
	*cnt = n->n;
	for (size_t i = 0; i < n->n; i++) {
		const struct node *val[2], *w[2];
		struct mit_policy *m = &(*out)[i];
		idx(pb, sizeof(pb), path, i);
		if (map_keys(ld, n->kid[i], pb, keys, 2, val) < 0)
			return -1;
		if (!val[1])
			return fail(ld, n->kid[i], "%s: missing required key 'action'", pb);
		int a = get_enum(ld, val[1], sub(pw, sizeof(pw), pb, "action"), "action", act_names,
				 ARRAY_SIZE(act_names));
		if (a < 0)
			return -1;
		m->action = (enum mit_action)a;
		if (!val[0])
			continue;
		sub(pw, sizeof(pw), pb, "when");
		if (map_keys(ld, val[0], pw, wkeys, 2, w) < 0)
			return -1;
		char pk[PATH_MAX_];
		if (w[0] && get_uint(ld, w[0], sub(pk, sizeof(pk), pw, "bps_over"), true, 1,
				     UINT64_MAX / 2, &m->bps_over) < 0)
			return -1;
		if (w[1] && get_uint(ld, w[1], sub(pk, sizeof(pk), pw, "pps_over"), true, 1,
				     UINT64_MAX / 2, &m->pps_over) < 0)
			return -1;
	}
	return 0;
}

/* ---- top level ---- */

static int conf_defaults(struct conf *c)
{
	for (int d = 0; d < DIR__COUNT; d++) {
		c->thr.v[d][THR_PPS] = DEF_PPS;
		c->thr.v[d][THR_MBPS] = DEF_MBPS;
		c->thr.v[d][THR_FLOWS] = DEF_FLOWS;
	}
	c->detection.cooldown = DEF_COOLDOWN;
	c->detection.update_interval = DEF_UPDATE;
	c->detection.top_n = DEF_TOP_N;
	c->notify.format = NOTIFY_FASTNETMON;
	c->notify.timeout = DEF_TIMEOUT;
	c->limits.max_hosts = DEF_MAX_HOSTS;
	c->limits.max_hot = DEF_MAX_HOT;
	c->limits.host_idle = DEF_HOST_IDLE;
	c->log.level = LOG_INFO;
	c->scrubber.autom = true;
	c->scrubber.hold = DEF_HOLD;
	c->scrubber.sample_every = DEF_SAMPLE;
	c->scrubber.evidence_packets = DEF_EVIDENCE;
	c->scrubber.source_pps = DEF_SRC_PPS;
	c->scrubber.source_burst = DEF_SRC_BURST;
	c->scrubber.evidence_dir = strdup(DEF_EVID_DIR);
	c->scrubber.pin_dir = strdup(DEF_PIN_DIR);
	c->control.socket = strdup(DEF_CTL_SOCK);
	c->bgp.withdraw_on_shutdown = true;
	c->bgp.hold = DEF_HOLD;
	c->bgp.state_file = strdup(DEF_BGP_STATE);
	c->history.path = strdup(DEF_HISTORY);
	c->history.retention_days = DEF_RETENTION;
	c->history.max_attacks = DEF_MAX_ATT;
	return c->scrubber.evidence_dir && c->scrubber.pin_dir && c->control.socket &&
		       c->bgp.state_file && c->history.path
		   ? 0
		   : -1;
}

/* ---- the HTTP API and the history ---- */

static bool is_loopback(const struct maddr *a)
{
	static const uint8_t v6lo[16] = {[15] = 1};

	if (maddr_is_v4(a))
		return a->b[12] == 127;
	return !memcmp(a->b, v6lo, 16);
}

/* The first line of a token file, without its newline: at least API_TOKEN_MIN printable
 * characters and nothing after it but blank lines. Returns 0 or -1 with the error written (at
 * the token_file key). */
static int read_token_file(struct ld *ld, const struct node *n, const char *path, char **tok)
{
	char buf[1024];
	FILE *f = fopen(path, "re");
	size_t len;

	if (!f)
		return fail(ld, n, "api.token_file: cannot open %s: %s", path, strerror(errno));
	len = fread(buf, 1, sizeof(buf) - 1, f);
	bool big = !feof(f);
	fclose(f);
	if (big)
		return fail(ld, n, "api.token_file: %s is longer than %zu bytes", path,
			    sizeof(buf) - 1);
	buf[len] = 0;
	size_t tl = strcspn(buf, "\r\n");
	for (size_t i = tl; i < len; i++)
		if (buf[i] != '\r' && buf[i] != '\n' && buf[i] != ' ' && buf[i] != '\t')
			return fail(ld, n, "api.token_file: %s has more than one line", path);
	buf[tl] = 0;
	for (size_t i = 0; i < tl; i++)
		if ((unsigned char)buf[i] <= 0x20 || buf[i] == 0x7f)
			return fail(ld, n,
				    "api.token_file: %s: the token has a space or control "
				    "character",
				    path);
	if (tl < API_TOKEN_MIN)
		return fail(ld, n, "api.token_file: %s: the token is shorter than %d characters",
			    path, API_TOKEN_MIN);
	*tok = strdup(buf);
	return *tok ? 0 : fail(ld, n, "out of memory");
}

static int get_api(struct ld *ld, const struct node *n)
{
	static const char *const keys[] = {"listen", "token", "token_file", "tls_cert", "tls_key"};
	const struct node *val[ARRAY_SIZE(keys)];
	struct conf *c = ld->c;
	struct capture tmp;
	char q[QBUF];

	if (!(n->type == N_SCALAR && n->null) &&
	    map_keys(ld, n, "api", keys, ARRAY_SIZE(keys), val) < 0)
		return -1;
	if (n->type == N_SCALAR && n->null)
		memset(val, 0, sizeof(val));
	c->api.enabled = true;
	memset(&tmp, 0, sizeof(tmp));
	if (val[0]) {
		if (val[0]->type != N_SCALAR || val[0]->null || parse_listen(val[0]->s, &tmp) < 0)
			return fail(ld, val[0],
				    "api.listen: expected ADDRESS:PORT (\"127.0.0.1:8080\", "
				    "\"[::1]:8080\"), got %s",
				    what(val[0], q, sizeof(q)));
	} else {
		parse_listen(DEF_API_LISTEN, &tmp);
	}
	memcpy(c->api.listen, tmp.listen, sizeof(c->api.listen));
	c->api.listen_addr = tmp.listen_addr;
	c->api.listen_port = tmp.listen_port;
	c->api.listen_family = tmp.listen_family;
	c->api.loopback = is_loopback(&tmp.listen_addr);
	if (val[1] && val[2])
		return fail(ld, val[2], "api.token_file: give token or token_file, not both");
	if (val[1]) {
		if (get_str(ld, val[1], "api.token", &c->api.token) < 0)
			return -1;
		for (const char *p = c->api.token; *p; p++)
			if (*p == ' ' || *p == '\t')
				return fail(ld, val[1], "api.token: the token has a space");
		if (strlen(c->api.token) < API_TOKEN_MIN)
			return fail(ld, val[1], "api.token: shorter than %d characters",
				    API_TOKEN_MIN);
	}
	if (val[2] && (get_path(ld, val[2], "api.token_file", &c->api.token_file) < 0 ||
		       read_token_file(ld, val[2], c->api.token_file, &c->api.token) < 0))
		return -1;
	if (val[3] && get_path(ld, val[3], "api.tls_cert", &c->api.tls_cert) < 0)
		return -1;
	if (val[4] && get_path(ld, val[4], "api.tls_key", &c->api.tls_key) < 0)
		return -1;
	if (!val[3] != !val[4])
		return fail(ld, val[3] ? val[3] : val[4],
			    "api: tls_cert and tls_key go together (HTTPS needs both)");
	if (!c->api.loopback && !c->api.token)
		return fail(ld, val[0] ? val[0] : n,
			    "api.listen: %s is not a loopback address, and then every route needs "
			    "a token: set api.token or api.token_file",
			    c->api.listen);
	return 0;
}

static int get_history(struct ld *ld, const struct node *n)
{
	static const char *const keys[] = {"path", "retention_days", "max_attacks"};
	const struct node *val[ARRAY_SIZE(keys)];
	struct conf *c = ld->c;

	c->history.given = true;
	if (n->type == N_SCALAR && n->null)
		return 0;
	if (map_keys(ld, n, "history", keys, ARRAY_SIZE(keys), val) < 0)
		return -1;
	if (val[0]) {
		free(c->history.path);
		c->history.path = NULL;
		if (val[0]->type == N_SCALAR && !val[0]->null && !strcmp(val[0]->s, "none"))
			return 0;
		if (get_path(ld, val[0], "history.path", &c->history.path) < 0)
			return -1;
	}
	if (val[1] && get_unsigned(ld, val[1], "history.retention_days", 0, 36500,
				   &c->history.retention_days) < 0)
		return -1;
	if (val[2] && get_unsigned(ld, val[2], "history.max_attacks", 0, 100000000,
				   &c->history.max_attacks) < 0)
		return -1;
	return 0;
}

/* Walks the tree into ld->c, sections in the order that later ones depend on earlier ones
 * (whitelist and hostgroups need networks; hostgroups need the global thresholds). Returns 0 or
 * -1 with the error written. */
static int conf_walk(struct ld *ld, const struct node *root)
{
	static const char *const keys[] = {
	    "networks", "whitelist", "thresholds", "hostgroups", "detection", "events",
	    "notify",	"limits",    "log",	   "capture",	 "exporters", "scrubber",
	    "control",	"bgp",	     "mitigation", "api",	 "history"};
	const struct node *v[ARRAY_SIZE(keys)];
	struct conf *c = ld->c;

	if (!root || (root->type == N_SCALAR && root->null))
		return fail_at(ld, 1, 1, "empty configuration ('networks' is required)");
	if (map_keys(ld, root, NULL, keys, ARRAY_SIZE(keys), v) < 0)
		return -1;
	if (!v[0])
		return fail(ld, root, "missing required key 'networks' at top level");
	if (get_prefixes(ld, v[0], "networks", true, false, true, &c->networks, &c->n_networks) <
		0 ||
	    nets_index(ld, v[0]) < 0)
		return -1;
	if (v[1] && get_whitelist(ld, v[1]) < 0)
		return -1;
	if (v[2]) {
		/* given at all: only the keys written are checked */
		memset(&c->thr, 0, sizeof(c->thr));
		if (get_thr(ld, v[2], "thresholds", true, &c->thr) < 0)
			return -1;
	}
	if (v[3] && get_hostgroups(ld, v[3]) < 0)
		return -1;
	if (v[4] && get_detection(ld, v[4]) < 0)
		return -1;
	if (v[5] && get_events(ld, v[5]) < 0)
		return -1;
	if (v[6] && get_notify(ld, v[6]) < 0)
		return -1;
	if (v[7] && get_limits(ld, v[7]) < 0)
		return -1;
	if (v[8] && get_log(ld, v[8]) < 0)
		return -1;
	if (v[9] && get_capture(ld, v[9]) < 0)
		return -1;
	if (v[10] && get_exporters(ld, v[10]) < 0)
		return -1;
	if (v[11] && get_scrubber(ld, v[11]) < 0)
		return -1;
	if (v[12] && get_control(ld, v[12]) < 0)
		return -1;
	if (v[13] && get_bgp(ld, v[13]) < 0)
		return -1;
	if (v[14]) {
		if (!c->bgp.enabled)
			return fail(ld, v[14],
				    "mitigation: acts over BGP, and there is no 'bgp' section");
		if (get_mitigation(ld, v[14], "mitigation", &c->mitigation, &c->n_mitigation) < 0)
			return -1;
	}
	if (ld->hg_mit && !c->bgp.enabled)
		return fail(ld, ld->hg_mit,
			    "mitigation: acts over BGP, and there is no 'bgp' section");
	if (v[15] && get_api(ld, v[15]) < 0)
		return -1;
	if (v[16] && get_history(ld, v[16]) < 0)
		return -1;
	return 0;
}

int conf_load_buf(const char *name, const char *buf, size_t len, struct conf **out, char *err,
		  size_t errlen)
{
	struct ld ld = {.name = name, .err = err, .errlen = errlen};
	struct node *root = NULL;
	struct conf *c;

	*out = NULL;
	if (err && errlen)
		err[0] = 0;
	if (len > CONF_MAX_SIZE)
		return fail_at(&ld, 0, 0, "larger than 16 MiB (%zu bytes)", len);
	c = calloc(1, sizeof(*c));
	if (!c || !(c->path = strdup(name))) {
		free(c);
		return fail_at(&ld, 0, 0, "out of memory");
	}
	ld.c = c;
	if (conf_defaults(c) < 0) {
		fail_at(&ld, 0, 0, "out of memory");
		goto fail;
	}
	if (yaml_tree(&ld, buf ? buf : "", buf ? len : 0, &root) < 0 || conf_walk(&ld, root) < 0)
		goto fail;
	node_free(root);
	free(ld.nets);
	*out = c;
	return 0;
fail:
	node_free(root);
	free(ld.nets);
	conf_free(c);
	return -1;
}

/* Reads path whole, refusing more than CONF_MAX_SIZE bytes. Returns 0 with *buf (malloc'd) and
 * *len, or -1 with the error written. */
static int read_file(struct ld *ld, const char *path, char **buf, size_t *len)
{
	size_t cap = 64 << 10, n = 0;
	char *b = NULL, *nb;
	ssize_t r;
	int fd, e;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail_at(ld, 0, 0, "%s", strerror(errno));
	for (;;) {
		if (n == cap || !b) {
			cap = b ? cap * 2 : cap;
			nb = realloc(b, cap);
			if (!nb) {
				e = ENOMEM;
				goto fail;
			}
			b = nb;
		}
		r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = errno;
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > CONF_MAX_SIZE) {
			free(b);
			close(fd);
			return fail_at(ld, 0, 0, "file is larger than 16 MiB");
		}
	}
	close(fd);
	*buf = b;
	*len = n;
	return 0;
fail:
	free(b);
	close(fd);
	return fail_at(ld, 0, 0, "%s", strerror(e));
}

int conf_load(const char *path, struct conf **out, char *err, size_t errlen)
{
	struct ld ld = {.name = path, .err = err, .errlen = errlen};
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if (read_file(&ld, path, &buf, &len) < 0)
		return -1;
	rc = conf_load_buf(path, buf, len, out, err, errlen);
	free(buf);
	return rc;
}

void conf_free(struct conf *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_hostgroups; i++) {
		free(c->hostgroups[i].prefixes);
		free(c->hostgroups[i].mitigation);
	}
	free(c->hostgroups);
	free(c->networks);
	free(c->whitelist);
	free(c->captures);
	free(c->exporters);
	free(c->events.file);
	free(c->notify.script);
	free(c->log.file);
	free(c->scrubber.evidence_dir);
	free(c->scrubber.pin_dir);
	free(c->scrubber.allow);
	free(c->scrubber.deny);
	free(c->scrubber.allow_file);
	free(c->scrubber.deny_file);
	free(c->scrubber.allow_f);
	free(c->scrubber.deny_f);
	free(c->control.socket);
	free(c->bgp.peers);
	free(c->bgp.state_file);
	free(c->mitigation);
	free(c->api.token);
	free(c->api.token_file);
	free(c->api.tls_cert);
	free(c->api.tls_key);
	free(c->history.path);
	free(c->path);
	free(c);
}

/* ---- printing ---- */

static bool plain_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || isdig(ch) || ch == '_' ||
	       ch == '.' || ch == '/' || ch == '-';
}

/* Whether s can be written unquoted and still read back as the same string by any YAML 1.1
 * or 1.2 reader: safe characters, not starting like a number, an indicator or .inf/.nan, and not
 * one of the words that mean a boolean or null. */
static bool plain_ok(const char *s)
{
	static const char *const words[] = {"y",     "n",  "yes", "no",	 "true",
					    "false", "on", "off", "null"};

	if (!s[0] || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') ||
		       s[0] == '_' || s[0] == '/' || (s[0] == '.' && s[1] == '/')))
		return false;
	for (const char *p = s; *p; p++)
		if (!plain_char(*p))
			return false;
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (!strcasecmp(s, words[i]))
			return false;
	return true;
}

/* Decodes one UTF-8 sequence at s. Returns its length and sets *cp, or 0 if malformed. */
static int utf8_dec(const unsigned char *s, uint32_t *cp)
{
	int len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;

	if (!len)
		return 0;
	*cp = s[0] & (0x7f >> len);
	for (int i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (s[i] & 0x3f);
	}
	return len;
}

/* Writes s as YAML: plain when that is safe, else double-quoted with every byte outside
 * printable ASCII escaped (so that no reader can fold or reject it). */
static void print_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	int n;

	if (plain_ok(s)) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	while (*p) {
		if (*p == '"' || *p == '\\') {
			fprintf(f, "\\%c", *p++);
		} else if (*p >= 0x20 && *p < 0x7f) {
			fputc(*p++, f);
		} else if (*p >= 0x80 && (n = utf8_dec(p, &cp)) > 0) {
			fprintf(f, cp > 0xffff ? "\\U%08x" : "\\u%04x", (unsigned)cp);
			p += n;
		} else {
			fprintf(f, "\\x%02x", *p++); /* unreachable: input was valid UTF-8 */
		}
	}
	fputc('"', f);
}

/* Seconds as parsed: integer microseconds, shortest decimals. */
static void print_secs(FILE *f, double v)
{
	unsigned long long us = (unsigned long long)(v * 1e6 + 0.5);
	unsigned long long frac = us % 1000000;
	int dec = 6;

	fprintf(f, "%llu", us / 1000000);
	if (!frac)
		return;
	while (frac % 10 == 0) {
		frac /= 10;
		dec--;
	}
	fprintf(f, ".%0*llu", dec, frac);
}

/* Thresholds at indent ind: every metric, at the top when both directions agree, else under
 * incoming/outgoing. Reads back to the same values whatever it is applied on top of. */
static void print_thr(FILE *f, const struct thresholds *t, int ind)
{
	bool split = false;

	for (int k = 0; k < THR__COUNT; k++) {
		if (t->v[DIR_IN][k] != t->v[DIR_OUT][k]) {
			split = true;
			continue;
		}
		fprintf(f, "%*s%s: %llu\n", ind, "", thr_names[k],
			(unsigned long long)t->v[DIR_IN][k]);
	}
	if (!split)
		return;
	for (int d = 0; d < DIR__COUNT; d++) {
		fprintf(f, "%*s%s:\n", ind, "", dir_names[d]);
		for (int k = 0; k < THR__COUNT; k++)
			if (t->v[DIR_IN][k] != t->v[DIR_OUT][k])
				fprintf(f, "%*s%s: %llu\n", ind + 2, "", thr_names[k],
					(unsigned long long)t->v[d][k]);
	}
}

static void print_prefixes(FILE *f, const char *key, const struct prefix *p, size_t n, int ind)
{
	char s[64];

	if (n == 0) {
		fprintf(f, "%*s%s: []\n", ind, "", key);
		return;
	}
	fprintf(f, "%*s%s:\n", ind, "", key);
	/* "::/0" reads back as a block item, but not in flow context or in every reader */
	for (size_t i = 0; i < n; i++) {
		pfx_str(&p[i], s, sizeof(s));
		fprintf(f, s[0] == ':' ? "%*s  - \"%s\"\n" : "%*s  - %s\n", ind, "", s);
	}
}

static void print_mitigation(FILE *f, const char *key, const struct mit_policy *m, size_t n,
			     int ind);

static void print_hostgroups(FILE *f, const struct conf *c)
{
	if (c->n_hostgroups == 0) {
		fputs("hostgroups: []\n", f);
		return;
	}
	fputs("hostgroups:\n", f);
	for (size_t i = 0; i < c->n_hostgroups; i++) {
		const struct hostgroup *g = &c->hostgroups[i];
		fputs("  - name: ", f);
		print_str(f, g->name);
		fputc('\n', f);
		print_prefixes(f, "prefixes", g->prefixes, g->n_prefixes, 4);
		fputs("    thresholds:\n", f);
		print_thr(f, &g->thr, 6);
		fputs("    total_thresholds:\n", f);
		print_thr(f, &g->total_thr, 6);
		if (g->mitigation)
			print_mitigation(f, "mitigation", g->mitigation, g->n_mitigation, 4);
	}
}

static void print_capture(FILE *f, const struct conf *c)
{
	if (c->n_captures == 0) {
		fputs("capture: []\n", f);
		return;
	}
	fputs("capture:\n", f);
	for (size_t i = 0; i < c->n_captures; i++) {
		const struct capture *cap = &c->captures[i];
		bool afp = cap->kind == CAPTURE_AF_PACKET;
		if (cap->kind == CAPTURE_SFLOW || cap->kind == CAPTURE_NETFLOW) {
			fprintf(f, "  - %s:\n      listen: \"%s\"\n",
				cap->kind == CAPTURE_SFLOW ? "sflow" : "netflow", cap->listen);
			continue;
		}
		fprintf(f, "  - %s:\n      interface: ", afp ? "af_packet" : "pcap");
		print_str(f, cap->interface);
		fputc('\n', f);
		if (afp)
			fprintf(f, "      workers: %u\n      ring_mb: %u\n", cap->workers,
				cap->ring_mb);
	}
}

static void print_exporters(FILE *f, const struct conf *c)
{
	char a[MADDR_STRLEN];

	if (c->n_exporters == 0) {
		fputs("# exporters: not listed, any address may send flows\nexporters: []\n", f);
		return;
	}
	fputs("exporters:\n", f);
	for (size_t i = 0; i < c->n_exporters; i++) {
		/* IPv6 quoted: "::1" would not load back as a plain scalar */
		const char *qt = maddr_is_v4(&c->exporters[i].addr) ? "" : "\"";
		fprintf(f, "  - address: %s%s%s\n", qt, maddr_str(&c->exporters[i].addr, a), qt);
		if (c->exporters[i].sampling)
			fprintf(f, "    sampling: %u\n", c->exporters[i].sampling);
	}
}

static void print_kv_secs(FILE *f, const char *key, double v)
{
	fprintf(f, "  %s: ", key);
	print_secs(f, v);
	fputc('\n', f);
}

static void print_kv_str(FILE *f, const char *key, const char *v)
{
	fprintf(f, "  %s: ", key);
	print_str(f, v);
	fputc('\n', f);
}

static void print_api(FILE *f, const struct conf *c)
{
	if (!c->api.enabled) {
		fputs("# api: none (no HTTP API, metrics or dashboard)\n", f);
	} else {
		fputs("api:\n", f);
		print_kv_str(f, "listen", c->api.listen);
		if (c->api.token_file)
			print_kv_str(f, "token_file", c->api.token_file);
		else if (c->api.token)
			fputs("  # token: set, not printed\n", f);
		else
			fputs("  # token: none (changes over HTTP are refused)\n", f);
		if (c->api.tls_cert) {
			print_kv_str(f, "tls_cert", c->api.tls_cert);
			print_kv_str(f, "tls_key", c->api.tls_key);
		}
	}
	fputs("history:\n", f);
	if (c->history.path)
		print_kv_str(f, "path", c->history.path);
	else
		fputs("  path: none\n", f);
	fprintf(f, "  retention_days: %u\n", c->history.retention_days);
	fprintf(f, "  max_attacks: %u\n", c->history.max_attacks);
}

static void print_mitigation(FILE *f, const char *key, const struct mit_policy *m, size_t n,
			     int ind)
{
	if (!n) {
		fprintf(f, "%*s%s: []\n", ind, "", key);
		return;
	}
	fprintf(f, "%*s%s:\n", ind, "", key);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%*s  - ", ind, "");
		if (m[i].bps_over || m[i].pps_over) {
			fputs("when: {", f);
			if (m[i].bps_over)
				fprintf(f, "bps_over: %llu%s", (unsigned long long)m[i].bps_over,
					m[i].pps_over ? ", " : "");
			if (m[i].pps_over)
				fprintf(f, "pps_over: %llu", (unsigned long long)m[i].pps_over);
			fprintf(f, "}\n%*s    ", ind, "");
		}
		fprintf(f, "action: %s\n", act_names[m[i].action]);
	}
}

static void print_announce(FILE *f, const char *key, const struct bgp_announce_cfg *a,
			   bool diversion)
{
	char s[MADDR_STRLEN];

	fprintf(f, "  %s:\n    communities: [", key);
	for (size_t i = 0; i < a->n_comm; i++)
		fprintf(f, "%s\"%u:%u\"", i ? ", " : "", a->comm[i] >> 16, a->comm[i] & 0xffff);
	fputs("]\n    large_communities: [", f);
	for (size_t i = 0; i < a->n_large; i++)
		fprintf(f, "%s\"%u:%u:%u\"", i ? ", " : "", a->large[i][0], a->large[i][1],
			a->large[i][2]);
	fputs("]\n", f);
	if (a->has_nh4)
		fprintf(f, "    next_hop: %s\n", maddr_str(&a->next_hop, s));
	else
		fputs("    # next_hop: none\n", f);
	if (a->has_nh6)
		fprintf(f, "    next_hop6: \"%s\"\n", maddr_str(&a->next_hop6, s));
	else
		fputs("    # next_hop6: none\n", f);
	if (diversion)
		fprintf(f, "    prefix_len4: %u\n    prefix_len6: %u\n", a->len4, a->len6);
}

static void print_bgp(FILE *f, const struct conf *c)
{
	char s[MADDR_STRLEN];

	if (!c->bgp.enabled) {
		fputs("# bgp: none (no BGP announcements)\n", f);
		return;
	}
	fprintf(f, "bgp:\n  local_as: %u\n  router_id: %u.%u.%u.%u\n", c->bgp.local_as,
		c->bgp.router_id >> 24, c->bgp.router_id >> 16 & 0xff, c->bgp.router_id >> 8 & 0xff,
		c->bgp.router_id & 0xff);
	if (c->bgp.listen[0])
		fprintf(f, "  listen: \"%s\"\n", c->bgp.listen);
	else
		fputs("  # listen: none (active sessions only)\n", f);
	fputs("  peers:\n", f);
	for (size_t i = 0; i < c->bgp.n_peers; i++) {
		const struct bgp_peer_cfg *p = &c->bgp.peers[i];
		const char *qt = maddr_is_v4(&p->addr) ? "" : "\"";
		fprintf(f, "    - address: %s%s%s\n      remote_as: %u\n      port: %u\n", qt,
			maddr_str(&p->addr, s), qt, p->remote_as, p->port);
		fputs("      families: [", f);
		for (int b = 0, k = 0; b < 4; b++)
			if (p->families & (1u << b))
				fprintf(f, "%s%s", k++ ? ", " : "", fam_names[b]);
		fputs("]\n", f);
		if (p->md5[0]) {
			fputs("      md5: ", f);
			print_str(f, p->md5);
			fputc('\n', f);
		}
		fprintf(f, "      passive: %s\n      hold_time: %u\n",
			p->passive ? "true" : "false", p->hold_time);
	}
	print_announce(f, "blackhole", &c->bgp.blackhole, false);
	print_announce(f, "diversion", &c->bgp.diversion, true);
	fprintf(f, "  flowspec_rate: %.0f\n  withdraw_on_shutdown: %s\n", c->bgp.flowspec_rate,
		c->bgp.withdraw_on_shutdown ? "true" : "false");
	print_kv_secs(f, "hold", c->bgp.hold);
	print_kv_str(f, "state_file", c->bgp.state_file);
}

static void print_scrubber(FILE *f, const struct conf *c)
{
	if (!c->scrubber.enabled) {
		fputs("# scrubber: none (no XDP filtering)\n", f);
		return;
	}
	fputs("scrubber:\n  interfaces:\n", f);
	for (size_t i = 0; i < c->scrubber.n_interfaces; i++) {
		fputs("    - ", f);
		print_str(f, c->scrubber.interfaces[i]);
		fputc('\n', f);
	}
	fprintf(f, "  mode: %s\n  auto: %s\n", scrub_modes[c->scrubber.mode],
		c->scrubber.autom ? "true" : "false");
	print_kv_secs(f, "hold", c->scrubber.hold);
	fprintf(f, "  sample_every: %u\n", c->scrubber.sample_every);
	print_kv_str(f, "evidence_dir", c->scrubber.evidence_dir);
	fprintf(f, "  evidence_packets: %u\n", c->scrubber.evidence_packets);
	print_kv_str(f, "pin_dir", c->scrubber.pin_dir);
	fprintf(f, "  source_pps: %u\n  source_burst: %u\n", c->scrubber.source_pps,
		c->scrubber.source_burst);
	print_prefixes(f, "allow", c->scrubber.allow, c->scrubber.n_allow, 2);
	print_prefixes(f, "deny", c->scrubber.deny, c->scrubber.n_deny, 2);
	if (c->scrubber.allow_file) {
		print_kv_str(f, "allow_file", c->scrubber.allow_file);
		fprintf(f, "  # %zu prefixes in allow_file\n", c->scrubber.n_allow_f);
	}
	if (c->scrubber.deny_file) {
		print_kv_str(f, "deny_file", c->scrubber.deny_file);
		fprintf(f, "  # %zu prefixes in deny_file\n", c->scrubber.n_deny_f);
	}
}

void conf_print(const struct conf *c, FILE *f)
{
	int lvl = c->log.level;

	fputs("# moat configuration as loaded, every default explicit\n", f);
	print_prefixes(f, "networks", c->networks, c->n_networks, 0);
	print_prefixes(f, "whitelist", c->whitelist, c->n_whitelist, 0);
	fputs("thresholds:\n", f);
	print_thr(f, &c->thr, 2);
	print_hostgroups(f, c);
	fputs("detection:\n", f);
	print_kv_secs(f, "cooldown", c->detection.cooldown);
	print_kv_secs(f, "update_interval", c->detection.update_interval);
	fprintf(f, "  top_n: %u\n", c->detection.top_n);
	if (c->events.file) {
		fputs("events:\n", f);
		print_kv_str(f, "file", c->events.file);
	} else {
		fputs("# events: none (no events file)\n", f);
	}
	if (c->notify.script) {
		fputs("notify:\n", f);
		print_kv_str(f, "script", c->notify.script);
		fprintf(f, "  format: %s\n",
			c->notify.format == NOTIFY_JSON ? "json" : "fastnetmon");
		print_kv_secs(f, "timeout", c->notify.timeout);
	} else {
		fputs("# notify: none (no notify script)\n", f);
	}
	fputs("limits:\n", f);
	fprintf(f, "  max_hosts: %u\n  max_hot: %u\n", c->limits.max_hosts, c->limits.max_hot);
	print_kv_secs(f, "host_idle", c->limits.host_idle);
	fputs("log:\n", f);
	if (c->log.file)
		print_kv_str(f, "file", c->log.file);
	else
		fputs("  # file: none (stderr)\n", f);
	fprintf(f, "  level: %s\n",
		lvl >= 0 && (size_t)lvl < ARRAY_SIZE(level_names) && level_names[lvl]
		    ? level_names[lvl]
		    : "info");
	print_capture(f, c);
	print_exporters(f, c);
	print_scrubber(f, c);
	fputs("control:\n", f);
	if (c->control.socket)
		print_kv_str(f, "socket", c->control.socket);
	else
		fputs("  socket: none\n", f);
	print_bgp(f, c);
	if (c->bgp.enabled && !c->n_mitigation)
		fputs("# mitigation: none (every attack: flowspec where negotiated, else "
		      "blackhole)\n",
		      f);
	else if (c->bgp.enabled)
		print_mitigation(f, "mitigation", c->mitigation, c->n_mitigation, 0);
	print_api(f, c);
}
