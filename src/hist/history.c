/* hist: the attack history in SQLite (see history.h for the schema and the threading).
 *
 * Callers only copy a line into a queue; the writer thread parses it (jparse) and writes it with
 * prepared statements, bound parameters only, a batch per transaction. A batch that fails on one
 * line is rolled back and written again line by line, so one bad line costs only itself.
 * Queries read stored JSON back with jparse and write it with the json writer: the output is
 * valid JSON whatever a damaged row holds (a value that does not read back becomes null).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/jparse.h"
#include "core/log.h"
#include "hist/history.h"

enum {
	APP_ID = 0x4d4f4154, /* "MOAT" in the database header (PRAGMA application_id) */
	SCHEMA_VERSION = 1,  /* PRAGMA user_version */
	BUSY_MS = 1000,	     /* waiting for another connection's lock (a sqlite3 shell) */
	MAX_LINE = 1 << 20,  /* longer lines are refused (event lines are ~1.5 KiB) */
	Q_MAX_ITEMS = 65536, /* queued lines: past this the disk is stuck and lines are dropped */
	Q_MAX_BYTES = 64 << 20,
	BATCH = 512,	  /* lines per transaction at most */
	FLUSH_MS = 2000,  /* how long queries wait for what was queued before them */
	LOG_EVERY_S = 60, /* write errors are logged at most this often */
	MAX_THRESHOLDS = 64,
};

static const char SCHEMA[] = "CREATE TABLE attacks ("
			     " seq INTEGER PRIMARY KEY,"
			     " id TEXT NOT NULL,"
			     " target TEXT NOT NULL,"
			     " scope TEXT, hostgroup TEXT, direction TEXT, type TEXT,"
			     " state TEXT NOT NULL,"
			     " started REAL NOT NULL, ended REAL, last_ts REAL NOT NULL,"
			     " pps REAL, bps REAL,"
			     " peak_pps REAL NOT NULL DEFAULT 0, peak_bps REAL NOT NULL DEFAULT 0,"
			     " packets INTEGER, bytes INTEGER,"
			     " thresholds_exceeded TEXT, vector TEXT,"
			     " mitigations INTEGER NOT NULL DEFAULT 0);"
			     "CREATE INDEX attacks_by_id ON attacks(id);"
			     "CREATE INDEX attacks_by_started ON attacks(started);"
			     "CREATE INDEX attacks_by_target ON attacks(target, started);"
			     "CREATE TABLE events ("
			     " seq INTEGER PRIMARY KEY,"
			     " attack INTEGER NOT NULL REFERENCES attacks(seq) ON DELETE CASCADE,"
			     " ts REAL NOT NULL, kind TEXT NOT NULL, json TEXT NOT NULL);"
			     "CREATE INDEX events_by_attack ON events(attack, ts);"
			     "CREATE TABLE other_events ("
			     " seq INTEGER PRIMARY KEY,"
			     " ts REAL NOT NULL, kind TEXT NOT NULL, json TEXT NOT NULL);"
			     "CREATE INDEX other_events_by_ts ON other_events(ts);";

#define SUMMARY                                                                                    \
	"id, target, scope, hostgroup, direction, type, state, started, ended, last_ts, "          \
	"pps, bps, peak_pps, peak_bps, packets, bytes, thresholds_exceeded, vector, "              \
	"mitigations, seq"
enum {
	COL_ID = 0,
	COL_TARGET,
	COL_SCOPE,
	COL_HOSTGROUP,
	COL_DIRECTION,
	COL_TYPE,
	COL_STATE,
	COL_STARTED,
	COL_ENDED,
	COL_LAST,
	COL_PPS,
	COL_BPS,
	COL_PEAK_PPS,
	COL_PEAK_BPS,
	COL_PACKETS,
	COL_BYTES,
	COL_THR,
	COL_VECTOR,
	COL_MITIGATIONS,
	COL_SEQ,
};

enum stmt {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_FIND,
	S_INS_ATTACK,
	S_UPD_ATTACK,
	S_INS_EVENT,
	S_TOUCH,
	S_INS_OTHER,
	S_LIST,
	S_LIST_TARGET,
	S_GET,
	S_EVENTS,
	S_PRUNE_AGE,
	S_COUNT,
	S_PRUNE_COUNT,
	S_PRUNE_OTHER,
	S__COUNT
};

static const char *const SQL[S__COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_FIND] = "SELECT seq, state, thresholds_exceeded FROM attacks WHERE id = ?1"
	       " ORDER BY seq DESC LIMIT 1",
    [S_INS_ATTACK] = "INSERT INTO attacks (id, target, scope, hostgroup, direction, type, state,"
		     " started, last_ts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'active', ?7, ?8)",
    [S_UPD_ATTACK] = "UPDATE attacks SET type = coalesce(?2, type), pps = coalesce(?3, pps),"
		     " bps = coalesce(?4, bps), peak_pps = max(peak_pps, coalesce(?5, 0)),"
		     " peak_bps = max(peak_bps, coalesce(?6, 0)), packets = coalesce(?7, packets),"
		     " bytes = coalesce(?8, bytes),"
		     " thresholds_exceeded = coalesce(?9, thresholds_exceeded),"
		     " vector = coalesce(?10, vector), last_ts = max(last_ts, ?11),"
		     " state = CASE WHEN ?12 THEN 'ended' ELSE state END,"
		     " ended = CASE WHEN ?12 THEN ?11 ELSE ended END WHERE seq = ?1",
    [S_INS_EVENT] = "INSERT INTO events (attack, ts, kind, json) VALUES (?1, ?2, ?3, ?4)",
    [S_TOUCH] = "UPDATE attacks SET last_ts = max(last_ts, ?2),"
		" mitigations = mitigations + ?3 WHERE seq = ?1",
    [S_INS_OTHER] = "INSERT INTO other_events (ts, kind, json) VALUES (?1, ?2, ?3)",
    [S_LIST] = "SELECT " SUMMARY " FROM attacks WHERE started < ?1"
	       " ORDER BY started DESC, seq DESC LIMIT ?2",
    [S_LIST_TARGET] = "SELECT " SUMMARY " FROM attacks WHERE target = ?3 AND started < ?1"
		      " ORDER BY started DESC, seq DESC LIMIT ?2",
    [S_GET] = "SELECT " SUMMARY " FROM attacks WHERE id = ?1 ORDER BY seq DESC LIMIT 1",
    [S_EVENTS] = "SELECT ts, kind, json FROM events WHERE attack = ?1 ORDER BY ts, seq",
    [S_PRUNE_AGE] = "DELETE FROM attacks WHERE state <> 'active' AND ended < ?1",
    [S_COUNT] = "SELECT count(*) FROM attacks",
    [S_PRUNE_COUNT] = "DELETE FROM attacks WHERE seq IN (SELECT seq FROM attacks"
		      " WHERE state <> 'active' ORDER BY started, seq LIMIT ?1)",
    [S_PRUNE_OTHER] = "DELETE FROM other_events WHERE ts < ?1",
};

static const char *const KIND[EV__COUNT] = {
    [EV_ATTACK_START] = "attack_start",
    [EV_ATTACK_UPDATE] = "attack_update",
    [EV_ATTACK_END] = "attack_end",
};

/* a queued line */
struct item {
	struct item *next;
	uint64_t seq;
	int kind;	/* enum ev_kind (hist_event), -1 (hist_line: read from the line) */
	uint64_t ts_ns; /* hist_event's */
	size_t len;
	char json[];
};

/* what a transaction adds to the stats once committed */
struct cnt {
	uint64_t attacks, events, malformed;
};

struct hist {
	char *path;
	sqlite3 *db;
	sqlite3_stmt *st[S__COUNT];
	/* the connection, its statements and the retention: the writer thread and the queries */
	pthread_mutex_t db_lock;
	unsigned retention_days, max_attacks;

	pthread_mutex_t q_lock; /* the queue */
	pthread_cond_t q_work, q_done;
	struct item *head, *tail;
	size_t q_n, q_bytes;
	uint64_t q_seq, done_seq; /* last queued, last written (lines are written in order) */
	bool stop;
	pthread_t thr;
	bool thr_started;

	pthread_mutex_t log_lock;
	uint64_t last_log_ns, unlogged;

	struct hist_stats stats; /* updated atomically */
};

static void stat_add(uint64_t *p, uint64_t n)
{
	if (n)
		__atomic_add_fetch(p, n, __ATOMIC_RELAXED);
}

/* Counts n lines lost and logs it, at most once a minute (with the count in between). */
static void lost(struct hist *h, uint64_t *counter, uint64_t n, const char *what, const char *why)
{
	stat_add(counter, n);
	pthread_mutex_lock(&h->log_lock);
	uint64_t now = mono_ns();
	h->unlogged += n;
	if (!h->last_log_ns || now - h->last_log_ns >= LOG_EVERY_S * 1000000000ULL) {
		log_err("history %s: %s: %s (%llu event%s not written since the last message)",
			h->path, what, why, (unsigned long long)h->unlogged,
			h->unlogged == 1 ? "" : "s");
		h->last_log_ns = now;
		h->unlogged = 0;
	}
	pthread_mutex_unlock(&h->log_lock);
}

/* ---- values: bound from parsed lines, written from rows ---- */

static void bind_text(sqlite3_stmt *s, int i, const char *t)
{
	if (t)
		sqlite3_bind_text(s, i, t, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

/* a number member as REAL, or NULL */
static void bind_real(sqlite3_stmt *s, int i, double v)
{
	if (isfinite(v))
		sqlite3_bind_double(s, i, v);
	else
		sqlite3_bind_null(s, i);
}

/* a count member: exact as INTEGER when it fits, else REAL, or NULL */
static void bind_count(sqlite3_stmt *s, int i, const struct jval *v)
{
	int64_t n;

	if (jv_int(v, &n))
		sqlite3_bind_int64(s, i, n);
	else
		bind_real(s, i, jv_num(v));
}

/* A double as read back: integers as integers, others with the fewest decimals (at most 17)
 * that read back to the same double; only what lies below 10^-17 is lost. Values past 1e60
 * (never a rate or a counter: the writer's buffer would not hold their digits) become null;
 * returns false then. */
static bool put_dbl(struct json *j, double v)
{
	if (!isfinite(v)) {
		json_null(j);
		return false;
	}
	if (v == trunc(v) && v >= -9.2e18 && v <= 9.2e18) {
		json_i64(j, (int64_t)v);
		return true;
	}
	if (fabs(v) < 1e17) {
		/* the fewest decimals: r / 10^dec (r below 2^52, both exact, the quotient correctly
		 * rounded) is what strtod makes of the decimal r * 10^-dec, and %.*f prints that
		 * decimal; checked by arithmetic, not by printing and reading back */
		static const double p10[] = {1e0, 1e1,	1e2,  1e3,  1e4,  1e5,	1e6,  1e7,  1e8,
					     1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17};
		int dec = 1;
		for (; dec < 17; dec++) {
			double r = nearbyint(v * p10[dec]);
			if (fabs(r) >= 4503599627370496.0) { /* 2^52: print and read back */
				for (char b[64]; dec < 17; dec++) {
					snprintf(b, sizeof(b), "%.*f", dec, v);
					if (strtod(b, NULL) == v)
						break;
				}
				break;
			}
			if (r / p10[dec] == v)
				break;
		}
		json_dbl(j, v, dec);
		return true;
	}
	if (fabs(v) < 1e60) { /* an integer (every double past 2^53 is): its digits fit */
		json_dbl(j, v, 0);
		return true;
	}
	json_null(j);
	return false;
}

static void damaged(struct hist *h, uint64_t n)
{
	stat_add(&h->stats.damaged, n);
}

static void put_num(struct hist *h, struct json *j, const struct jval *v)
{
	int64_t i;
	uint64_t u;

	if (jv_int(v, &i))
		json_i64(j, i);
	else if (jv_uint(v, &u))
		json_u64(j, u);
	else if (!put_dbl(j, jv_num(v)))
		damaged(h, 1);
}

/* A parsed value through the writer. Containers deeper than the writer can nest become null. */
static void put_val(struct hist *h, struct json *j, const struct jval *v)
{
	switch (jv_type(v)) {
	case J_BOOL:
		json_bool(j, jv_bool(v) == 1);
		return;
	case J_NUM:
		put_num(h, j, v);
		return;
	case J_STR:
		json_str(j, jv_str(v)); /* NULL (a string holding U+0000) is written as null */
		return;
	case J_ARR:
	case J_OBJ:
		break;
	default:
		json_null(j);
		return;
	}
	if (j->depth >= JSON_DEPTH - 1) {
		json_null(j);
		damaged(h, 1);
		return;
	}
	bool obj = jv_type(v) == J_OBJ;
	obj ? json_obj(j) : json_arr(j);
	for (size_t i = 0; i < jv_len(v); i++) {
		if (obj)
			json_key(j, jv_key(v, i));
		put_val(h, j, jv_at(v, i));
	}
	obj ? json_end(j) : json_aend(j);
}

/* Column i as text fit for JSON (valid UTF-8, no NUL), or NULL. */
static const char *col_text(struct hist *h, sqlite3_stmt *s, int i)
{
	int t = sqlite3_column_type(s, i);

	if (t == SQLITE_NULL)
		return NULL;
	const char *p = (const char *)sqlite3_column_text(s, i);
	size_t n = (size_t)sqlite3_column_bytes(s, i);
	if (t != SQLITE_TEXT || !p || memchr(p, 0, n) || !jutf8_valid(p, n)) {
		damaged(h, 1);
		return NULL;
	}
	return p;
}

static double col_real(struct hist *h, sqlite3_stmt *s, int i)
{
	int t = sqlite3_column_type(s, i);

	if (t == SQLITE_INTEGER || t == SQLITE_FLOAT)
		return sqlite3_column_double(s, i);
	if (t != SQLITE_NULL)
		damaged(h, 1);
	return NAN;
}

static void put_col_str(struct hist *h, struct json *j, sqlite3_stmt *s, int i)
{
	json_str(j, col_text(h, s, i));
}

static void put_col_num(struct hist *h, struct json *j, sqlite3_stmt *s, int i)
{
	if (sqlite3_column_type(s, i) == SQLITE_INTEGER)
		json_i64(j, sqlite3_column_int64(s, i));
	else if (!put_dbl(j, col_real(h, s, i)) && sqlite3_column_type(s, i) == SQLITE_FLOAT)
		damaged(h, 1);
}

/* a time (unix seconds) to the millisecond, as the events have it */
static void put_time(struct json *j, double t)
{
	if (isfinite(t))
		json_dbl(j, t, 3);
	else
		json_null(j);
}

/* Column i holds JSON text: parsed and written again, or null (counted) if it does not parse. */
static void put_col_json(struct hist *h, struct json *j, sqlite3_stmt *s, int i)
{
	if (sqlite3_column_type(s, i) == SQLITE_NULL) {
		json_null(j);
		return;
	}
	const char *p = (const char *)sqlite3_column_blob(s, i);
	struct jdoc *d = jparse(p ? p : "", (size_t)sqlite3_column_bytes(s, i), NULL, 0);
	if (!d)
		damaged(h, 1);
	put_val(h, j, jdoc_root(d));
	jdoc_free(d);
}

/* ---- writing events ---- */

static int step_done(sqlite3_stmt *s)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The newest attack row of id: 1 with *seq, *active and the stored thresholds (a copy, may be
 * NULL) in *thr; 0 when there is none; -1 on an error. */
static int find_attack(struct hist *h, const char *id, int64_t *seq, bool *active, char **thr)
{
	sqlite3_stmt *s = h->st[S_FIND];
	int rc, found = 0;

	bind_text(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		found = 1;
		*seq = sqlite3_column_int64(s, 0);
		const char *st = (const char *)sqlite3_column_text(s, 1);
		*active = st && strcmp(st, "active") == 0;
		if (thr) {
			const char *t = (const char *)sqlite3_column_text(s, 2);
			*thr = t ? strdup(t) : NULL;
		}
	} else if (rc != SQLITE_DONE) {
		found = -1;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return found;
}

static bool in_list(const char *const *l, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(l[i], s) == 0)
			return true;
	return false;
}

/* The union of the stored thresholds_exceeded (JSON text, may be NULL) and the event's, in the
 * order first seen, as JSON text into *out (json_free it). Returns false when the event has none
 * and nothing is stored (the column keeps its value). */
static bool thresholds_union(const char *stored, const struct jval *ev, struct json *out)
{
	struct jdoc *d = stored ? jparse(stored, strlen(stored), NULL, 0) : NULL;
	const struct jval *old = jdoc_root(d);
	const char *names[MAX_THRESHOLDS];
	size_t n = 0;

	for (int k = 0; k < 2; k++) {
		const struct jval *a = k ? ev : old;
		for (size_t i = 0; i < jv_len(a) && jv_type(a) == J_ARR; i++) {
			const char *s = jv_str(jv_at(a, i));
			if (s && n < MAX_THRESHOLDS && !in_list(names, n, s))
				names[n++] = s;
		}
	}
	bool any = jv_type(ev) == J_ARR || jv_type(old) == J_ARR;
	if (any) {
		json_arr(out);
		for (size_t i = 0; i < n; i++)
			json_str(out, names[i]);
		json_aend(out);
	}
	jdoc_free(d);
	return any && !out->oom;
}

static int insert_event(struct hist *h, int64_t seq, double ts, const char *kind,
			const struct item *it, struct cnt *c)
{
	sqlite3_stmt *s = h->st[S_INS_EVENT];

	sqlite3_bind_int64(s, 1, seq);
	sqlite3_bind_double(s, 2, ts);
	bind_text(s, 3, kind);
	sqlite3_bind_text(s, 4, it->json, (int)it->len, SQLITE_STATIC);
	if (step_done(s) < 0)
		return -1;
	c->events++;
	return 0;
}

static double num(const struct jval *o, const char *k)
{
	return jv_num(jv_get(o, k));
}

static double fmax_nan(double a, double b)
{
	return isnan(a) ? b : isnan(b) ? a : fmax(a, b);
}

/* attack_start, attack_update, attack_end: the attack's summary row and the event. */
static int attack_event(struct hist *h, int kind, double ts, const struct jval *ev,
			const struct item *it, struct cnt *c)
{
	const char *id = jv_str(jv_get(ev, "id")), *target = jv_str(jv_get(ev, "target"));
	int64_t seq = 0;
	bool active = false;
	char *thr = NULL;
	int rc = -1;

	if (!id || !*id || !target) {
		c->malformed++;
		return 0;
	}
	int found = find_attack(h, id, &seq, &active, &thr);
	if (found < 0)
		return -1;
	if (!found || !active) {
		/* A new attack: none has this id, or the one that has is over. Ids repeat only when
		 * the clock went back across a restart; both rows are kept (the list shows both)
		 * and a lookup by id finds the newest. An update or end whose start is missing (not
		 * written, or the history began during the attack) starts a row as well. An
		 * attack_start for an attack still active (the same start given twice) is taken as
		 * an update below. */
		sqlite3_stmt *s = h->st[S_INS_ATTACK];
		double started = num(ev, "started");
		bind_text(s, 1, id);
		bind_text(s, 2, target);
		bind_text(s, 3, jv_str(jv_get(ev, "scope")));
		bind_text(s, 4, jv_str(jv_get(ev, "hostgroup")));
		bind_text(s, 5, jv_str(jv_get(ev, "direction")));
		bind_text(s, 6, jv_str(jv_get(ev, "type")));
		sqlite3_bind_double(s, 7, isfinite(started) ? started : ts);
		sqlite3_bind_double(s, 8, ts);
		if (step_done(s) < 0)
			goto out;
		seq = sqlite3_last_insert_rowid(h->db);
		c->attacks++;
		free(thr);
		thr = NULL;
	}
	if (insert_event(h, seq, ts, KIND[kind], it, c) < 0)
		goto out;

	struct json tj, vj;
	json_init(&tj);
	json_init(&vj);
	sqlite3_stmt *s = h->st[S_UPD_ATTACK];
	const struct jval *vec = jv_get(ev, "vector");
	sqlite3_bind_int64(s, 1, seq);
	bind_text(s, 2, jv_str(jv_get(ev, "type")));
	bind_real(s, 3, num(ev, "pps"));
	bind_real(s, 4, num(ev, "bps"));
	bind_real(s, 5, fmax_nan(num(ev, "peak_pps"), num(ev, "pps")));
	bind_real(s, 6, fmax_nan(num(ev, "peak_bps"), num(ev, "bps")));
	bind_count(s, 7, jv_get(ev, "packets"));
	bind_count(s, 8, jv_get(ev, "bytes"));
	if (thresholds_union(thr, jv_get(ev, "thresholds_exceeded"), &tj))
		sqlite3_bind_text(s, 9, tj.buf, (int)tj.len, SQLITE_STATIC);
	if (jv_type(vec) == J_OBJ || jv_type(vec) == J_ARR) {
		put_val(h, &vj, vec);
		if (!vj.oom)
			sqlite3_bind_text(s, 10, vj.buf, (int)vj.len, SQLITE_STATIC);
	}
	sqlite3_bind_double(s, 11, ts);
	sqlite3_bind_int(s, 12, kind == EV_ATTACK_END);
	rc = step_done(s);
	json_free(&tj);
	json_free(&vj);
out:
	free(thr);
	return rc;
}

/* Any other event: with its attack when it names one we have, else in other_events. */
static int other_event(struct hist *h, const char *kind, double ts, const struct jval *ev,
		       const struct item *it, struct cnt *c)
{
	const char *aid = jv_str(jv_get(ev, "attack"));
	int64_t seq;
	bool active;

	if (aid && *aid) {
		int found = find_attack(h, aid, &seq, &active, NULL);
		if (found < 0)
			return -1;
		if (found) {
			if (insert_event(h, seq, ts, kind, it, c) < 0)
				return -1;
			sqlite3_stmt *s = h->st[S_TOUCH];
			sqlite3_bind_int64(s, 1, seq);
			sqlite3_bind_double(s, 2, ts);
			sqlite3_bind_int(s, 3, strcmp(kind, "mitigation_start") == 0);
			return step_done(s);
		}
	}
	sqlite3_stmt *s = h->st[S_INS_OTHER];
	sqlite3_bind_double(s, 1, ts);
	bind_text(s, 2, kind);
	sqlite3_bind_text(s, 3, it->json, (int)it->len, SQLITE_STATIC);
	if (step_done(s) < 0)
		return -1;
	c->events++;
	return 0;
}

static int kind_of(const char *name)
{
	for (int k = 0; name && k < EV__COUNT; k++)
		if (strcmp(name, KIND[k]) == 0)
			return k;
	return -1;
}

/* Writes one line inside the open transaction. -1 on an SQLite error (roll back). */
static int apply(struct hist *h, const struct item *it, struct cnt *c)
{
	struct jdoc *d = jparse(it->json, it->len, NULL, 0);
	const struct jval *ev = jdoc_root(d);
	const char *name = jv_str(jv_get(ev, "event"));
	int kind = it->kind >= 0 ? it->kind : kind_of(name);
	int rc = 0;

	if (jv_type(ev) != J_OBJ || (kind < 0 && (!name || !*name))) {
		c->malformed++;
	} else {
		double ts = it->kind >= 0 ? it->ts_ns / 1e9 : num(ev, "ts");
		if (!isfinite(ts)) /* bgp_peer_up, bgp_update_sent: no "ts"; now, then */
			ts = realtime_ns() / 1e9;
		rc = kind >= 0 ? attack_event(h, kind, ts, ev, it, c)
			       : other_event(h, name, ts, ev, it, c);
	}
	jdoc_free(d);
	return rc;
}

static void commit_cnt(struct hist *h, const struct cnt *c)
{
	stat_add(&h->stats.attacks_written, c->attacks);
	stat_add(&h->stats.events_written, c->events);
	stat_add(&h->stats.malformed, c->malformed);
}

/* One line in its own transaction. */
static void write_one(struct hist *h, const struct item *it)
{
	struct cnt c = {0};

	if (step_done(h->st[S_BEGIN]) == 0 && apply(h, it, &c) == 0 &&
	    step_done(h->st[S_COMMIT]) == 0) {
		commit_cnt(h, &c);
		return;
	}
	char why[256];
	snprintf(why, sizeof(why), "%s", sqlite3_errmsg(h->db));
	if (!sqlite3_get_autocommit(h->db))
		step_done(h->st[S_ROLLBACK]);
	lost(h, &h->stats.write_errors, 1, "cannot write an event", why);
}

static void write_batch(struct hist *h, struct item *list, size_t n)
{
	struct cnt c = {0};
	bool ok;

	pthread_mutex_lock(&h->db_lock);
	if (n == 1) {
		write_one(h, list);
		goto out;
	}
	if (step_done(h->st[S_BEGIN]) < 0) {
		/* locked by another connection past the busy timeout, or the disk is gone */
		lost(h, &h->stats.write_errors, n, "cannot write events", sqlite3_errmsg(h->db));
		goto out;
	}
	ok = true;
	for (struct item *it = list; ok && it; it = it->next)
		ok = apply(h, it, &c) == 0;
	if (ok && step_done(h->st[S_COMMIT]) == 0) {
		commit_cnt(h, &c);
		goto out;
	}
	if (!sqlite3_get_autocommit(h->db))
		step_done(h->st[S_ROLLBACK]);
	/* one line failed (or the commit): each again alone, so only what fails is lost */
	for (struct item *it = list; it; it = it->next)
		write_one(h, it);
out:
	pthread_mutex_unlock(&h->db_lock);
}

static void *writer(void *arg)
{
	struct hist *h = arg;

	pthread_mutex_lock(&h->q_lock);
	for (;;) {
		while (!h->head && !h->stop)
			pthread_cond_wait(&h->q_work, &h->q_lock);
		if (!h->head)
			break;
		struct item *list = h->head, *last = list;
		size_t n = 1, bytes = list->len;
		while (n < BATCH && last->next) {
			last = last->next;
			bytes += last->len;
			n++;
		}
		h->head = last->next;
		if (!h->head)
			h->tail = NULL;
		last->next = NULL;
		h->q_n -= n;
		h->q_bytes -= bytes;
		uint64_t seq = last->seq;
		pthread_mutex_unlock(&h->q_lock);

		write_batch(h, list, n);
		for (struct item *it = list, *nx; it; it = nx) {
			nx = it->next;
			free(it);
		}

		pthread_mutex_lock(&h->q_lock);
		h->done_seq = seq;
		pthread_cond_broadcast(&h->q_done);
	}
	pthread_mutex_unlock(&h->q_lock);
	return NULL;
}

static void enqueue(struct hist *h, int kind, uint64_t ts_ns, const char *json, size_t len)
{
	if (!h || !json)
		return;
	if (len > MAX_LINE) {
		stat_add(&h->stats.malformed, 1);
		return;
	}
	struct item *it = malloc(sizeof(*it) + len + 1);
	if (!it) {
		lost(h, &h->stats.dropped, 1, "cannot queue an event", "out of memory");
		return;
	}
	it->next = NULL;
	it->kind = kind;
	it->ts_ns = ts_ns;
	it->len = len;
	memcpy(it->json, json, len);
	it->json[len] = 0;

	pthread_mutex_lock(&h->q_lock);
	if (h->stop || h->q_n >= Q_MAX_ITEMS || h->q_bytes + len > Q_MAX_BYTES) {
		pthread_mutex_unlock(&h->q_lock);
		free(it);
		lost(h, &h->stats.dropped, 1, "cannot queue an event",
		     "the queue is full: the database does not keep up");
		return;
	}
	it->seq = ++h->q_seq;
	if (h->tail)
		h->tail->next = it;
	else
		h->head = it;
	h->tail = it;
	h->q_n++;
	h->q_bytes += len;
	pthread_cond_signal(&h->q_work);
	pthread_mutex_unlock(&h->q_lock);
}

void hist_event(void *arg, const struct event *ev)
{
	if (ev && (unsigned)ev->kind < EV__COUNT)
		enqueue(arg, (int)ev->kind, ev->ts_ns, ev->json, ev->json_len);
}

void hist_line(struct hist *h, const char *json, size_t len)
{
	enqueue(h, -1, 0, json, len);
}

int hist_flush(struct hist *h, unsigned timeout_ms)
{
	struct timespec dl;
	int rc = 0;

	if (!h)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	uint64_t ns =
	    (uint64_t)dl.tv_nsec + (uint64_t)(timeout_ms ? timeout_ms : FLUSH_MS) * 1000000;
	dl.tv_sec += (time_t)(ns / 1000000000);
	dl.tv_nsec = (long)(ns % 1000000000);
	pthread_mutex_lock(&h->q_lock);
	uint64_t want = h->q_seq;
	while (h->done_seq < want && rc == 0)
		if (pthread_cond_timedwait(&h->q_done, &h->q_lock, &dl) == ETIMEDOUT)
			rc = h->done_seq < want ? -1 : 0;
	pthread_mutex_unlock(&h->q_lock);
	return rc;
}

/* ---- queries ---- */

/* Puts out back as it was before a query began writing (its buffer stays). */
static void restore(struct json *out, const struct json *snap)
{
	char *buf = out->buf;
	size_t cap = out->cap;

	*out = *snap;
	out->buf = buf;
	out->cap = cap;
	if (buf)
		buf[out->len] = 0;
}

static int db_error(struct hist *h, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "history %s: %s: %s", h->path, what, sqlite3_errmsg(h->db));
	return -1;
}

/* The list fields of the attack in the current row of s (columns SUMMARY). */
static void put_summary(struct hist *h, struct json *j, sqlite3_stmt *s, bool with_count)
{
	static const struct {
		const char *key;
		int col;
	} strs[] = {{"id", COL_ID},
		    {"target", COL_TARGET},
		    {"scope", COL_SCOPE},
		    {"hostgroup", COL_HOSTGROUP},
		    {"direction", COL_DIRECTION},
		    {"type", COL_TYPE},
		    {"state", COL_STATE}};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		json_key(j, strs[i].key);
		put_col_str(h, j, s, strs[i].col);
	}
	double started = col_real(h, s, COL_STARTED), ended = col_real(h, s, COL_ENDED);
	double last = col_real(h, s, COL_LAST);
	json_key(j, "started");
	put_time(j, started);
	json_key(j, "ended");
	put_time(j, ended);
	json_key(j, "duration");
	double d = (isfinite(ended) ? ended : last) - started;
	put_time(j, d > 0 ? d : d <= 0 ? 0 : NAN); /* NAN stays NAN: null */
	static const struct {
		const char *key;
		int col;
	} nums[] = {{"peak_pps", COL_PEAK_PPS}, {"peak_bps", COL_PEAK_BPS}, {"pps", COL_PPS},
		    {"bps", COL_BPS},		{"packets", COL_PACKETS},   {"bytes", COL_BYTES}};
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		json_key(j, nums[i].key);
		put_col_num(h, j, s, nums[i].col);
	}
	json_key(j, "thresholds_exceeded");
	put_col_json(h, j, s, COL_THR);
	json_key(j, "vector");
	put_col_json(h, j, s, COL_VECTOR);
	if (with_count) { /* hist_attack_json has the list of them instead */
		json_key(j, "mitigations");
		put_col_num(h, j, s, COL_MITIGATIONS);
	}
}

int hist_list_json(struct hist *h, unsigned limit, double before, const char *target,
		   struct json *out, char *err, size_t errlen)
{
	if (!h || !out) {
		snprintf(err, errlen, "no history");
		return -1;
	}
	if (limit < 1 || limit > 1000) {
		snprintf(err, errlen, "limit must be 1..1000, not %u", limit);
		return -1;
	}
	if (!(before >= 0) || !isfinite(before)) {
		snprintf(err, errlen, "before must be unix seconds (0 = now)");
		return -1;
	}
	hist_flush(h, 0);
	pthread_mutex_lock(&h->db_lock);
	struct json snap = *out;
	sqlite3_stmt *s = h->st[target ? S_LIST_TARGET : S_LIST];
	int rc;
	sqlite3_bind_double(s, 1, before > 0 ? before : 1e300);
	sqlite3_bind_int(s, 2, (int)limit);
	if (target)
		bind_text(s, 3, target);
	json_key(out, "attacks");
	json_arr(out);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		json_obj(out);
		put_summary(h, out, s, true);
		json_end(out);
	}
	json_aend(out);
	if (rc != SQLITE_DONE)
		db_error(h, "cannot list attacks", err, errlen);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	pthread_mutex_unlock(&h->db_lock);
	if (rc == SQLITE_DONE && out->oom)
		snprintf(err, errlen, "out of memory");
	if (rc != SQLITE_DONE || out->oom) {
		restore(out, &snap);
		return -1;
	}
	return 0;
}

/* What the events of one attack say about its mitigations and routes, and its chart. */
struct mitig {
	uint64_t rule_id;
	char *rule, *action, *origin, *reason, *evidence;
	double started, ended; /* NAN: not seen */
	bool has_counters, has_evp;
	uint8_t have; /* counters present, bit per ctr_keys */
	uint64_t ctr[4], evidence_packets;
};
static const char *const ctr_keys[4] = {"packets", "bytes", "dropped_packets", "dropped_bytes"};

struct route {
	uint64_t route_id;
	char *kind, *text, *target, *reason;
	double announced, withdrawn;
};

struct story {
	double *ts, *pps, *bps;
	size_t n, cap;
	struct mitig *m;
	size_t nm, capm;
	struct route *r;
	size_t nr, capr;
	bool oom;
};

static bool grow(void **p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return true;
	size_t c = *cap ? *cap * 2 : 16;
	void *q = realloc(*p, c * size);
	if (!q)
		return false;
	*p = q;
	*cap = c;
	return true;
}

static char *dup_str(struct story *st, const struct jval *v)
{
	const char *s = jv_str(v);
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		st->oom = true;
	return d;
}

static void set_str(struct story *st, char **dst, const struct jval *v)
{
	free(*dst);
	*dst = dup_str(st, v);
}

static void story_timeline(struct story *st, double ts, const struct jval *ev)
{
	if (st->n == st->cap) {
		size_t c = st->cap ? st->cap * 2 : 64;
		double *a = realloc(st->ts, c * sizeof(double));
		if (a)
			st->ts = a;
		double *b = a ? realloc(st->pps, c * sizeof(double)) : NULL;
		if (b)
			st->pps = b;
		double *d = b ? realloc(st->bps, c * sizeof(double)) : NULL;
		if (d)
			st->bps = d;
		if (!d) {
			st->oom = true;
			return;
		}
		st->cap = c;
	}
	st->ts[st->n] = ts;
	st->pps[st->n] = num(ev, "pps");
	st->bps[st->n] = num(ev, "bps");
	st->n++;
}

static void story_mitigation(struct story *st, bool start, double ts, const struct jval *ev)
{
	uint64_t id;
	struct mitig *m = NULL;

	if (!jv_uint(jv_get(ev, "rule_id"), &id))
		return;
	if (!start) /* the end closes the latest open mitigation of that rule id (ids are reused) */
		for (size_t i = st->nm; i-- > 0 && !m;)
			if (st->m[i].rule_id == id && isnan(st->m[i].ended))
				m = &st->m[i];
	if (!m) { /* a start, or an end whose start is not here */
		if (!grow((void **)&st->m, &st->capm, st->nm, sizeof(*st->m))) {
			st->oom = true;
			return;
		}
		m = &st->m[st->nm++];
		memset(m, 0, sizeof(*m));
		m->rule_id = id;
		m->started = m->ended = NAN;
	}
	if (start)
		m->started = ts;
	else
		m->ended = ts;
	if (jv_type(jv_get(ev, "rule")) == J_STR)
		set_str(st, &m->rule, jv_get(ev, "rule"));
	if (jv_type(jv_get(ev, "action")) == J_STR)
		set_str(st, &m->action, jv_get(ev, "action"));
	if (jv_type(jv_get(ev, "origin")) == J_STR)
		set_str(st, &m->origin, jv_get(ev, "origin"));
	if (!start)
		set_str(st, &m->reason, jv_get(ev, "reason"));
	/* the end's evidence is what was written (null: no packet); the start's what will be */
	if (jv_get(ev, "evidence"))
		set_str(st, &m->evidence, jv_get(ev, "evidence"));
	for (int k = 0; k < 4; k++)
		if (jv_uint(jv_get(ev, ctr_keys[k]), &m->ctr[k]))
			m->have |= (uint8_t)(1u << k);
	if (jv_uint(jv_get(ev, "evidence_packets"), &m->evidence_packets))
		m->has_evp = true;
}

static void story_route(struct story *st, bool announce, double ts, const struct jval *ev)
{
	uint64_t id;
	struct route *r = NULL;

	if (!jv_uint(jv_get(ev, "route_id"), &id))
		return;
	if (!announce)
		for (size_t i = st->nr; i-- > 0 && !r;)
			if (st->r[i].route_id == id && isnan(st->r[i].withdrawn))
				r = &st->r[i];
	if (!r) {
		if (!grow((void **)&st->r, &st->capr, st->nr, sizeof(*st->r))) {
			st->oom = true;
			return;
		}
		r = &st->r[st->nr++];
		memset(r, 0, sizeof(*r));
		r->route_id = id;
		r->announced = r->withdrawn = NAN;
	}
	if (announce)
		r->announced = ts;
	else
		r->withdrawn = ts;
	if (jv_type(jv_get(ev, "action")) == J_STR)
		set_str(st, &r->kind, jv_get(ev, "action"));
	if (jv_type(jv_get(ev, "route")) == J_STR)
		set_str(st, &r->text, jv_get(ev, "route"));
	if (jv_type(jv_get(ev, "target")) == J_STR)
		set_str(st, &r->target, jv_get(ev, "target"));
	if (!announce)
		set_str(st, &r->reason, jv_get(ev, "reason"));
}

static void story_add(struct story *st, const char *kind, double ts, const struct jval *ev)
{
	if (!kind)
		return;
	if (kind_of(kind) >= 0 || strcmp(kind, "attack_sample") == 0)
		story_timeline(st, ts, ev);
	else if (strcmp(kind, "mitigation_start") == 0 || strcmp(kind, "mitigation_end") == 0)
		story_mitigation(st, kind[11] == 's', ts, ev);
	else if (strcmp(kind, "bgp_announce") == 0 || strcmp(kind, "bgp_withdraw") == 0)
		story_route(st, kind[4] == 'a', ts, ev);
}

static void story_free(struct story *st)
{
	free(st->ts);
	free(st->pps);
	free(st->bps);
	for (size_t i = 0; i < st->nm; i++) {
		free(st->m[i].rule);
		free(st->m[i].action);
		free(st->m[i].origin);
		free(st->m[i].reason);
		free(st->m[i].evidence);
	}
	free(st->m);
	for (size_t i = 0; i < st->nr; i++) {
		free(st->r[i].kind);
		free(st->r[i].text);
		free(st->r[i].target);
		free(st->r[i].reason);
	}
	free(st->r);
}

static void put_story(struct json *j, const struct story *st)
{
	json_key(j, "timeline");
	json_obj(j);
	const double *cols[3] = {st->ts, st->pps, st->bps};
	static const char *const names[3] = {"ts", "pps", "bps"};
	for (int c = 0; c < 3; c++) {
		json_key(j, names[c]);
		json_arr(j);
		for (size_t i = 0; i < st->n; i++) {
			if (c)
				put_dbl(j, cols[c][i]);
			else
				put_time(j, cols[c][i]);
		}
		json_aend(j);
	}
	json_end(j);

	json_key(j, "mitigations");
	json_arr(j);
	for (size_t i = 0; i < st->nm; i++) {
		const struct mitig *m = &st->m[i];
		json_obj(j);
		json_key(j, "rule_id");
		json_u64(j, m->rule_id);
		json_key(j, "rule");
		json_str(j, m->rule);
		json_key(j, "action");
		json_str(j, m->action);
		json_key(j, "origin");
		json_str(j, m->origin);
		json_key(j, "started");
		put_time(j, m->started);
		json_key(j, "ended");
		put_time(j, m->ended);
		json_key(j, "reason");
		json_str(j, m->reason);
		json_key(j, "counters");
		if (m->have) {
			json_obj(j);
			for (int k = 0; k < 4; k++)
				if (m->have & (1u << k)) {
					json_key(j, ctr_keys[k]);
					json_u64(j, m->ctr[k]);
				}
			json_end(j);
		} else {
			json_null(j);
		}
		json_key(j, "evidence");
		json_str(j, m->evidence);
		json_key(j, "evidence_packets");
		if (m->has_evp)
			json_u64(j, m->evidence_packets);
		else
			json_null(j);
		json_end(j);
	}
	json_aend(j);

	json_key(j, "routes");
	json_arr(j);
	for (size_t i = 0; i < st->nr; i++) {
		const struct route *r = &st->r[i];
		json_obj(j);
		json_key(j, "route_id");
		json_u64(j, r->route_id);
		json_key(j, "kind");
		json_str(j, r->kind);
		json_key(j, "route");
		json_str(j, r->text);
		json_key(j, "target");
		json_str(j, r->target);
		json_key(j, "announced");
		put_time(j, r->announced);
		json_key(j, "withdrawn");
		put_time(j, r->withdrawn);
		json_key(j, "reason");
		json_str(j, r->reason);
		json_end(j);
	}
	json_aend(j);
}

/* attack_update events listed in an attack's detail; the rest count in updates_omitted (an attack
 * of a day has 17,280 updates at the default 5 s) */
#define HIST_MAX_UPDATES 500

int hist_attack_json(struct hist *h, const char *id, struct json *out, char *err, size_t errlen)
{
	struct story st = {0};
	uint64_t n_samples = 0, n_updates = 0, omitted = 0;
	int rc;

	if (!h || !out) {
		snprintf(err, errlen, "no history");
		return -1;
	}
	if (!id || !*id)
		return 1;
	hist_flush(h, 0);
	pthread_mutex_lock(&h->db_lock);
	struct json snap = *out;
	sqlite3_stmt *s = h->st[S_GET];
	bind_text(s, 1, id);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		int ret =
		    rc == SQLITE_DONE ? 1 : db_error(h, "cannot read the attack", err, errlen);
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		pthread_mutex_unlock(&h->db_lock);
		return ret;
	}
	json_key(out, "attack");
	json_obj(out);
	put_summary(h, out, s, false);
	int64_t seq = sqlite3_column_int64(s, COL_SEQ);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);

	s = h->st[S_EVENTS];
	sqlite3_bind_int64(s, 1, seq);
	json_key(out, "events");
	json_arr(out);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_blob(s, 2);
		struct jdoc *d = jparse(p ? p : "", (size_t)sqlite3_column_bytes(s, 2), NULL, 0);
		const struct jval *ev = jdoc_root(d);
		const char *kind = col_text(h, s, 1);
		if (jv_type(ev) != J_OBJ) { /* damaged: it was an object when stored */
			json_null(out);
			damaged(h, 1);
		} else if (kind && !strcmp(kind, "attack_sample")) {
			/* a point of the timeline a second: there, not among the events */
			n_samples++;
			story_add(&st, kind, col_real(h, s, 0), ev);
		} else if (kind && !strcmp(kind, "attack_update") &&
			   ++n_updates > HIST_MAX_UPDATES) {
			/* a long attack: its first updates are listed, every one is in the timeline
			 */
			omitted++;
			story_add(&st, kind, col_real(h, s, 0), ev);
		} else {
			put_val(h, out, ev);
			story_add(&st, kind, col_real(h, s, 0), ev);
		}
		jdoc_free(d);
	}
	json_aend(out);
	json_key(out, "updates_omitted");
	json_u64(out, omitted);
	json_key(out, "samples");
	json_u64(out, n_samples);
	if (rc != SQLITE_DONE)
		db_error(h, "cannot read the attack's events", err, errlen);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	pthread_mutex_unlock(&h->db_lock);
	put_story(out, &st);
	json_end(out);
	if (rc == SQLITE_DONE && (out->oom || st.oom))
		snprintf(err, errlen, "out of memory");
	story_free(&st);
	if (rc != SQLITE_DONE || out->oom || st.oom) {
		restore(out, &snap);
		return -1;
	}
	return 0;
}

/* ---- retention ---- */

int hist_prune(struct hist *h, uint64_t now_ns)
{
	int64_t deleted = 0;

	if (!h)
		return -1;
	hist_flush(h, 0);
	pthread_mutex_lock(&h->db_lock);
	double cutoff = now_ns / 1e9 - h->retention_days * 86400.0;
	const char *what = "cannot begin";
	if (step_done(h->st[S_BEGIN]) < 0)
		goto fail;
	if (h->retention_days) {
		what = "cannot delete old attacks";
		sqlite3_bind_double(h->st[S_PRUNE_AGE], 1, cutoff);
		if (step_done(h->st[S_PRUNE_AGE]) < 0)
			goto fail;
		deleted += sqlite3_changes(h->db);
		what = "cannot delete old events";
		sqlite3_bind_double(h->st[S_PRUNE_OTHER], 1, cutoff);
		if (step_done(h->st[S_PRUNE_OTHER]) < 0)
			goto fail;
	}
	if (h->max_attacks) {
		sqlite3_stmt *s = h->st[S_COUNT];
		what = "cannot count attacks";
		if (sqlite3_step(s) != SQLITE_ROW) {
			sqlite3_reset(s);
			goto fail;
		}
		int64_t n = sqlite3_column_int64(s, 0);
		sqlite3_reset(s);
		if (n > (int64_t)h->max_attacks) {
			what = "cannot delete the oldest attacks";
			sqlite3_bind_int64(h->st[S_PRUNE_COUNT], 1, n - h->max_attacks);
			if (step_done(h->st[S_PRUNE_COUNT]) < 0)
				goto fail;
			deleted += sqlite3_changes(h->db);
		}
	}
	what = "cannot commit";
	if (step_done(h->st[S_COMMIT]) < 0)
		goto fail;
	if (deleted) /* give the freed pages back to the file system */
		sqlite3_exec(h->db, "PRAGMA incremental_vacuum", NULL, NULL, NULL);
	pthread_mutex_unlock(&h->db_lock);
	stat_add(&h->stats.pruned, (uint64_t)deleted);
	if (deleted)
		log_info("history: %lld attack%s past the retention deleted", (long long)deleted,
			 deleted == 1 ? "" : "s");
	return (int)deleted;
fail:
	stat_add(&h->stats.write_errors, 1);
	log_err("history %s: prune: %s: %s", h->path, what, sqlite3_errmsg(h->db));
	if (!sqlite3_get_autocommit(h->db))
		step_done(h->st[S_ROLLBACK]);
	pthread_mutex_unlock(&h->db_lock);
	return -1;
}

void hist_set_retention(struct hist *h, unsigned retention_days, unsigned max_attacks)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->db_lock);
	h->retention_days = retention_days;
	h->max_attacks = max_attacks;
	pthread_mutex_unlock(&h->db_lock);
}

const struct hist_stats *hist_stats(const struct hist *h)
{
	return &h->stats;
}

/* ---- opening ---- */

/* Creates the directories above path that are missing (0750). */
static int make_parent(const char *path, char *err, size_t errlen)
{
	char *dir = strdup(path);
	int rc = 0;

	if (!dir) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		for (char *p = dir + 1;; p++) {
			bool end = *p == 0;
			if (*p != '/' && !end)
				continue;
			*p = 0;
			struct stat sb;
			if (stat(dir, &sb) < 0 && (errno != ENOENT || mkdir(dir, 0750) < 0)) {
				snprintf(err, errlen,
					 "history %s: cannot create the directory %s: %s", path,
					 dir, strerror(errno));
				rc = -1;
				break;
			}
			if (end)
				break;
			*p = '/';
		}
	}
	free(dir);
	return rc;
}

/* Checks what is at path before SQLite opens it: nothing (an empty file is created, 0640), an
 * empty file, or a regular file that starts like an SQLite database. *created when we made it. */
static int check_file(const char *path, bool *created, char *err, size_t errlen)
{
	static const char magic[16] = "SQLite format 3";
	char hdr[100];
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*created = false;
	if (fd < 0 && errno == ENOENT) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
		if (fd < 0) {
			snprintf(err, errlen, "history %s: cannot create it: %s", path,
				 strerror(errno));
			return -1;
		}
		close(fd);
		*created = true;
		return 0;
	}
	if (fd < 0) {
		snprintf(err, errlen, "history %s: cannot open it: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "history %s: not a regular file", path);
		close(fd);
		return -1;
	}
	ssize_t n = sb.st_size ? read(fd, hdr, sizeof(hdr)) : 0;
	close(fd);
	if (sb.st_size && (n != (ssize_t)sizeof(hdr) || memcmp(hdr, magic, sizeof(magic)) != 0)) {
		snprintf(err, errlen,
			 "history %s: not an SQLite database (refusing to use or overwrite it)",
			 path);
		return -1;
	}
	return 0;
}

/* The message for an SQLite error while checking the file: corruption says so. */
static void check_error(struct hist *h, const char *what, char *err, size_t errlen)
{
	int rc = sqlite3_errcode(h->db);

	if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB)
		snprintf(err, errlen,
			 "history %s: the database is corrupt (%s: %s): refusing to use it",
			 h->path, what, sqlite3_errmsg(h->db));
	else
		snprintf(err, errlen, "history %s: %s: %s", h->path, what, sqlite3_errmsg(h->db));
}

/* The first column of the first row of sql (a pragma) as an integer, or as text into buf. */
static int query1(struct hist *h, const char *sql, int64_t *v, char *buf, size_t len, char *err,
		  size_t errlen)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(h->db, sql, -1, &s, NULL);

	if (rc == SQLITE_OK) {
		rc = sqlite3_step(s);
		if (rc == SQLITE_ROW && v)
			*v = sqlite3_column_int64(s, 0);
		if (rc == SQLITE_ROW && buf) {
			const char *t = (const char *)sqlite3_column_text(s, 0);
			snprintf(buf, len, "%s", t ? t : "");
		}
	}
	if (rc != SQLITE_ROW)
		check_error(h, sql, err, errlen);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int pragma_int(struct hist *h, const char *sql, int64_t *v, char *err, size_t errlen)
{
	return query1(h, sql, v, NULL, 0, err, errlen);
}

static int pragma_text(struct hist *h, const char *sql, char *buf, size_t len, char *err,
		       size_t errlen)
{
	return query1(h, sql, NULL, buf, len, err, errlen);
}

static int exec(struct hist *h, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(h->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	snprintf(err, errlen, "history %s: %s", h->path, msg ? msg : sqlite3_errmsg(h->db));
	sqlite3_free(msg);
	return -1;
}

/* Is this our database, of a version we know, and whole? Creates the schema when it is empty. */
static int check_schema(struct hist *h, char *err, size_t errlen)
{
	int64_t app, ver, objs;
	char buf[512];

	if (pragma_int(h, "PRAGMA application_id", &app, err, errlen) < 0 ||
	    pragma_int(h, "PRAGMA user_version", &ver, err, errlen) < 0 ||
	    pragma_int(h, "SELECT count(*) FROM sqlite_master", &objs, err, errlen) < 0)
		return -1;
	if (app == 0 && ver == 0 && objs == 0) { /* new */
		if (exec(h, "PRAGMA auto_vacuum = INCREMENTAL", err, errlen) < 0 ||
		    exec(h, "PRAGMA journal_mode = WAL", err, errlen) < 0 ||
		    exec(h, "BEGIN", err, errlen) < 0)
			return -1;
		snprintf(buf, sizeof(buf), "PRAGMA application_id = %d; PRAGMA user_version = %d",
			 APP_ID, SCHEMA_VERSION);
		if (exec(h, SCHEMA, err, errlen) < 0 || exec(h, buf, err, errlen) < 0 ||
		    exec(h, "COMMIT", err, errlen) < 0) {
			sqlite3_exec(h->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		return 0;
	}
	if (app != APP_ID) {
		snprintf(err, errlen,
			 "history %s: an SQLite database of something else (application_id %lld, "
			 "%lld schema objects), not a moat history: refusing to use it",
			 h->path, (long long)app, (long long)objs);
		return -1;
	}
	if (ver > SCHEMA_VERSION) {
		snprintf(err, errlen,
			 "history %s: schema version %lld, newer than this moatd knows (%d): "
			 "refusing to use it",
			 h->path, (long long)ver, SCHEMA_VERSION);
		return -1;
	}
	if (ver < 1) {
		snprintf(err, errlen,
			 "history %s: a moat history without a schema version: damaged", h->path);
		return -1;
	}
	/* every page of the tables and indexes read once: corruption is refused here rather than
	 * found by the writer (measured: 0.11 s for 65 MB, 12,500 attacks) */
	if (pragma_text(h, "PRAGMA quick_check(1)", buf, sizeof(buf), err, errlen) < 0)
		return -1;
	if (strcmp(buf, "ok") != 0) {
		snprintf(err, errlen,
			 "history %s: the database is corrupt (%s): refusing to use it", h->path,
			 buf);
		return -1;
	}
	return 0;
}

struct hist *hist_open(const char *path, unsigned retention_days, unsigned max_attacks, char *err,
		       size_t errlen)
{
	struct hist *h;
	bool created;
	char mode[32];

	if (!path || !*path) {
		snprintf(err, errlen, "history: no database path");
		return NULL;
	}
	if (make_parent(path, err, errlen) < 0 || check_file(path, &created, err, errlen) < 0)
		return NULL;
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	h->retention_days = retention_days;
	h->max_attacks = max_attacks;
	pthread_mutex_init(&h->db_lock, NULL);
	pthread_mutex_init(&h->q_lock, NULL);
	pthread_mutex_init(&h->log_lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->q_work, NULL);
	pthread_cond_init(&h->q_done, &ca);
	pthread_condattr_destroy(&ca);
	if (!(h->path = strdup(path))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}

	/* no SQLITE_OPEN_CREATE: the file exists (made above, 0640); our mutex guards the
	 * connection */
	if (sqlite3_open_v2(path, &h->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "history %s: %s", path,
			 h->db ? sqlite3_errmsg(h->db) : "out of memory");
		goto fail;
	}
	if (sqlite3_db_readonly(h->db, "main") == 1) {
		snprintf(err, errlen, "history %s: the database is read-only", path);
		goto fail;
	}
	sqlite3_busy_timeout(h->db, BUSY_MS);
	if (check_schema(h, err, errlen) < 0)
		goto fail;
	if (pragma_text(h, "PRAGMA journal_mode = WAL", mode, sizeof(mode), err, errlen) < 0)
		goto fail;
	if (strcmp(mode, "wal") != 0) {
		snprintf(err, errlen, "history %s: cannot use WAL mode (journal mode %s)", path,
			 mode);
		goto fail;
	}
	/* synchronous=NORMAL in WAL mode: a power cut may lose the last transactions, never
	 * corrupt; foreign keys for the cascade from attacks to their events; the WAL file is
	 * cut back to 16 MiB after checkpoints */
	if (exec(h,
		 "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"
		 "PRAGMA journal_size_limit = 16777216",
		 err, errlen) < 0)
		goto fail;
	for (int i = 0; i < S__COUNT; i++)
		if (sqlite3_prepare_v3(h->db, SQL[i], -1, SQLITE_PREPARE_PERSISTENT, &h->st[i],
				       NULL) != SQLITE_OK) {
			snprintf(err, errlen, "history %s: the schema is damaged: %s", path,
				 sqlite3_errmsg(h->db));
			goto fail;
		}
	/* attacks a previous run left open end at their last event */
	if (exec(h,
		 "UPDATE attacks SET state = 'interrupted', ended = last_ts"
		 " WHERE state = 'active'",
		 err, errlen) < 0)
		goto fail;
	int n = sqlite3_changes(h->db);
	if (n)
		log_info("history: %d attack%s left open by the previous run marked interrupted", n,
			 n == 1 ? "" : "s");
	if (pthread_create(&h->thr, NULL, writer, h) != 0) {
		snprintf(err, errlen, "history: cannot start its thread");
		goto fail;
	}
	h->thr_started = true;
	return h;
fail:
	if (h && h->db) {
		for (int i = 0; i < S__COUNT; i++)
			sqlite3_finalize(h->st[i]);
		sqlite3_close(h->db);
	}
	if (created) /* the empty file we made, and what SQLite added to it */
		unlink(path);
	hist_close(h);
	return NULL;
}

void hist_close(struct hist *h)
{
	if (!h)
		return;
	if (h->thr_started) {
		pthread_mutex_lock(&h->q_lock);
		h->stop = true;
		pthread_cond_signal(&h->q_work);
		pthread_mutex_unlock(&h->q_lock);
		pthread_join(h->thr, NULL); /* it writes what is queued first */
		for (int i = 0; i < S__COUNT; i++)
			sqlite3_finalize(h->st[i]);
		sqlite3_close(h->db); /* the last connection: checkpoints, removes the WAL */
	}
	pthread_mutex_destroy(&h->db_lock);
	pthread_mutex_destroy(&h->q_lock);
	pthread_mutex_destroy(&h->log_lock);
	pthread_cond_destroy(&h->q_work);
	pthread_cond_destroy(&h->q_done);
	free(h->path);
	free(h);
}
