/* test_history: the attack history in SQLite. A whole attack (start, updates, end, a mitigation and
 * a BGP route naming it) read back field by field; restarts (history kept, open attacks
 * interrupted, repeated ids); retention by age and count; the list's limit, before and target;
 * files that are not ours, corrupt or newer, left untouched; directories missing or not writable;
 * malformed lines; damaged rows read back as null; a locked database and a full queue counted;
 * lines from two threads while the main thread writes events.
 * `test_history bench` measures instead (events per second, bytes per attack). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/jparse.h"
#include "core/json.h"
#include "core/log.h"
#include "hist/history.h"
#include "t.h"

#define CHECK_NUM(a, b)                                                                            \
	do {                                                                                       \
		double _a = (a), _b = (b);                                                         \
		t_checks++;                                                                        \
		if (!(_a == _b)) {                                                                 \
			t_failed++;                                                                \
			fprintf(stderr, "%s:%d: CHECK_NUM failed: %s == %.17g, %s == %.17g\n",     \
				__FILE__, __LINE__, #a, _a, #b, _b);                               \
		}                                                                                  \
	} while (0)

static char tmp[64];

static const char *tpath(const char *name)
{
	static char p[8][256];
	static int i;

	i = (i + 1) % 8;
	snprintf(p[i], sizeof(p[i]), "%s/%s", tmp, name);
	return p[i];
}

/* ---- making events ---- */

static const char VEC1[] = "{\"samples_weight\":18031,\"protocols\":[{\"value\":\"tcp\",\"share\":"
			   "0.9988}],\"tcp_flags\":[{\"value\":\"S\",\"share\":0.9712}]}";
static const char VEC2[] = "{\"samples_weight\":231014,\"protocols\":[{\"value\":\"tcp\",\"share\":"
			   "0.9993}],\"ttls\":[{\"value\":109,\"share\":0.2543}]}";

struct det {
	const char *id, *target, *hostgroup;
	bool group;
	double started;
};

/* One detector event as the detector writes it: the JSON line and the struct attack it is of. */
struct evbuf {
	char line[3072];
	struct attack a;
	struct event ev;
};

static void det_fmt(struct evbuf *b, const struct det *d, enum ev_kind k, uint64_t ts_ms,
		    double pps, double bps, double peak_pps, double peak_bps, uint64_t pkts,
		    uint64_t bytes, const char *thr, const char *vec)
{
	static const char *const kinds[] = {"attack_start", "attack_update", "attack_end"};
	char hg[80];

	if (d->hostgroup)
		snprintf(hg, sizeof(hg), "\"%s\"", d->hostgroup);
	else
		snprintf(hg, sizeof(hg), "null");
	int n = snprintf(
	    b->line, sizeof(b->line),
	    "{\"event\":\"%s\",\"ts\":%llu.%03llu,\"id\":\"%s\",\"target\":\"%s\","
	    "\"scope\":\"%s\",\"hostgroup\":%s,\"direction\":\"incoming\","
	    "\"type\":\"syn_flood\",\"pps\":%.0f,\"bps\":%.0f,\"peak_pps\":%.0f,"
	    "\"peak_bps\":%.0f,\"thresholds_exceeded\":%s,\"rates\":{\"pps\":%.0f,\"mbps\":%.3f,"
	    "\"flows\":60017,\"tcp_pps\":97,\"udp_pps\":60003,\"icmp_pps\":3,\"syn_pps\":7,"
	    "\"frag_pps\":0,\"tcp_mbps\":0.067,\"udp_mbps\":245.762,\"icmp_mbps\":0.002},"
	    "\"thresholds\":{\"pps\":20000,\"mbps\":1000,\"syn_pps\":10000},\"started\":%.3f,"
	    "\"duration\":%.1f,\"packets\":%llu,\"bytes\":%llu,\"vector\":%s}",
	    kinds[k], (unsigned long long)(ts_ms / 1000), (unsigned long long)(ts_ms % 1000), d->id,
	    d->target, d->group ? "hostgroup" : "host", hg, pps, bps, peak_pps, peak_bps, thr, pps,
	    bps / 1e6, d->started, ts_ms / 1000.0 - d->started, (unsigned long long)pkts,
	    (unsigned long long)bytes, vec ? vec : "null");
	memset(&b->a, 0, sizeof(b->a));
	snprintf(b->a.id, sizeof(b->a.id), "%s", d->id);
	b->a.group = d->group;
	b->a.hg = d->group ? 0 : -1;
	b->a.pps = pps;
	b->a.bps = bps;
	b->a.peak_pps = peak_pps;
	b->a.peak_bps = peak_bps;
	b->a.pkts = pkts;
	b->a.bytes = bytes;
	b->a.start_ns = (uint64_t)llround(d->started * 1000) * 1000000ULL;
	b->ev = (struct event){.kind = k,
			       .ts_ns = ts_ms * 1000000ULL,
			       .a = &b->a,
			       .target = d->target,
			       .hostgroup = d->hostgroup,
			       .json = b->line,
			       .json_len = n > 0 && (size_t)n < sizeof(b->line) ? (size_t)n : 0};
}

static void det_ev(struct hist *h, const struct det *d, enum ev_kind k, uint64_t ts_ms, double pps,
		   double bps, double peak_pps, double peak_bps, uint64_t pkts, uint64_t bytes,
		   const char *thr, const char *vec)
{
	struct evbuf b;

	det_fmt(&b, d, k, ts_ms, pps, bps, peak_pps, peak_bps, pkts, bytes, thr, vec);
	hist_event(h, &b.ev);
}

static void line(struct hist *h, const char *s)
{
	hist_line(h, s, strlen(s));
}

/* ---- reading back ---- */

static struct jdoc *parse_out(struct json *j)
{
	char err[128] = "";
	struct jdoc *d = jparse(j->buf, j->len, err, sizeof(err));

	CHECK(d != NULL);
	if (!d)
		fprintf(stderr, "  output is not JSON (%s): %.300s\n", err, j->buf);
	return d;
}

/* hist_list_json into {...}, parsed; *arr = its "attacks" */
static struct jdoc *list(struct hist *h, unsigned limit, double before, const char *target,
			 const struct jval **arr)
{
	struct json j;
	char err[256] = "";

	json_init(&j);
	json_obj(&j);
	int rc = hist_list_json(h, limit, before, target, &j, err, sizeof(err));
	CHECK_EQ(rc, 0);
	if (rc)
		fprintf(stderr, "  hist_list_json: %s\n", err);
	json_end(&j);
	struct jdoc *d = parse_out(&j);
	*arr = jv_get(jdoc_root(d), "attacks");
	CHECK(jv_type(*arr) == J_ARR);
	json_free(&j);
	return d;
}

static struct jdoc *attack(struct hist *h, const char *id, const struct jval **a)
{
	struct json j;
	char err[256] = "";

	json_init(&j);
	json_obj(&j);
	int rc = hist_attack_json(h, id, &j, err, sizeof(err));
	CHECK_EQ(rc, 0);
	if (rc)
		fprintf(stderr, "  hist_attack_json %s: %d %s\n", id, rc, err);
	json_end(&j);
	struct jdoc *d = parse_out(&j);
	*a = jv_get(jdoc_root(d), "attack");
	CHECK(jv_type(*a) == J_OBJ);
	json_free(&j);
	return d;
}

static double N(const struct jval *o, const char *k)
{
	return jv_num(jv_get(o, k));
}

static const char *S(const struct jval *o, const char *k)
{
	return jv_str(jv_get(o, k));
}

static bool is_null(const struct jval *o, const char *k)
{
	return jv_type(jv_get(o, k)) == J_NULL;
}

/* one integer from a query on a separate connection (WAL: while the history is open) */
static long long q1(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	long long v = -999;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	else
		fprintf(stderr, "  q1 %s: %s\n", sql, sqlite3_errmsg(db));
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static int sql_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);

	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		fprintf(stderr, "  %s: %s\n", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
	return rc;
}

static struct hist *open_ok(const char *path, unsigned days, unsigned max)
{
	char err[512] = "";
	struct hist *h = hist_open(path, days, max, err, sizeof(err));

	CHECK(h != NULL);
	if (!h)
		fprintf(stderr, "  hist_open %s: %s\n", path, err);
	return h;
}

/* ---- a whole attack ---- */

static const struct det A1 = {"1700000000-1", "198.51.100.7", NULL, false, 1700000000.5};
static const struct det A2 = {"1700000003-2", "carpet", "carpet", true, 1700000003.7};

static const char MIT_START[] =
    "{\"event\":\"mitigation_start\",\"ts\":1700000000.500,\"rule_id\":3,\"attack\":"
    "\"1700000000-1\",\"target\":\"198.51.100.7\",\"rule\":\"proto tcp flags S/SA ratelimit 50 "
    "burst 100\",\"origin\":\"auto\",\"action\":\"ratelimit\",\"applied\":false,\"type\":"
    "\"syn_flood\",\"amplification_ports_dropped\":false,\"coverage\":0.971,\"setup_us\":4.8,"
    "\"hold\":5.0,\"evidence\":\"/var/lib/moat/evidence/1700000000-1.pcap\"}";
static const char MIT_END[] =
    "{\"event\":\"mitigation_end\",\"ts\":1700000019.500,\"rule_id\":3,\"attack\":"
    "\"1700000000-1\",\"target\":\"198.51.100.7\",\"rule\":\"proto tcp flags S/SA ratelimit 50 "
    "burst 100\",\"origin\":\"auto\",\"action\":\"ratelimit\",\"applied\":false,\"reason\":"
    "\"hold expired\",\"duration\":19.0,\"packets\":460000,\"bytes\":29440000,"
    "\"dropped_packets\":450000,\"dropped_bytes\":28800000,\"evidence\":"
    "\"/var/lib/moat/evidence/1700000000-1.pcap\",\"evidence_packets\":500}";
static const char BGP_ANN[] =
    "{\"event\":\"bgp_announce\",\"ts\":1700000001.000,\"route_id\":7,\"attack\":"
    "\"1700000000-1\",\"target\":\"198.51.100.7\",\"action\":\"flowspec\",\"route\":"
    "\"dst 198.51.100.7/32 proto =6 tcp-flags =S rate-limit 0\",\"mono_ns\":123456789}";
static const char BGP_WD[] =
    "{\"event\":\"bgp_withdraw\",\"ts\":1700000020.000,\"route_id\":7,\"attack\":"
    "\"1700000000-1\",\"target\":\"198.51.100.7\",\"action\":\"flowspec\",\"route\":"
    "\"dst 198.51.100.7/32 proto =6 tcp-flags =S rate-limit 0\",\"mono_ns\":223456789,"
    "\"reason\":\"hold expired\"}";
static const char PEER_UP[] = "{\"event\":\"bgp_peer_up\",\"peer\":\"r1\",\"remote_as\":64500,"
			      "\"families\":[\"ipv4\",\"flowspec4\"],\"hold_time\":90}";
static const char SENT[] = "{\"event\":\"bgp_update_sent\",\"peer\":\"r1\",\"family\":"
			   "\"flowspec4\",\"withdraw\":false,\"ids\":[7],\"routes\":1,"
			   "\"mono_ns\":123999999}";

static void write_lifecycle(struct hist *h)
{
	det_ev(h, &A1, EV_ATTACK_START, 1700000000500, 50000, 2e8, 50000, 2e8, 25000, 1000000,
	       "[\"syn_pps\"]", VEC1);
	line(h, MIT_START);
	line(h, BGP_ANN);
	line(h, PEER_UP);
	line(h, SENT);
	det_ev(h, &A2, EV_ATTACK_START, 1700000003700, 48000, 196608000, 48000, 196608000, 33600,
	       17203200, "[\"pps\"]", VEC1);
	det_ev(h, &A1, EV_ATTACK_UPDATE, 1700000005500, 80000, 3.2e8, 80000, 3.2e8, 400000,
	       16000000, "[\"syn_pps\",\"pps\"]", VEC2);
	det_ev(h, &A2, EV_ATTACK_UPDATE, 1700000008700, 0, 0, 48000, 196608000, 192000, 98304000,
	       "[]", NULL);
	/* the flood is over: the rates drop, the thresholds are no longer exceeded */
	det_ev(h, &A1, EV_ATTACK_UPDATE, 1700000010500, 20000, 8e7, 80000, 3.2e8, 500000, 20000000,
	       "[]", VEC2);
	det_ev(h, &A1, EV_ATTACK_END, 1700000014500, 10, 4000, 80000, 3.2e8, 500100, 20004000,
	       "[\"syn_pps\",\"pps\"]", VEC2);
	line(h, MIT_END);
	line(h, BGP_WD);
}

static void check_a1_summary(const struct jval *a, bool listed)
{
	CHECK_STR(S(a, "id"), "1700000000-1");
	CHECK_STR(S(a, "target"), "198.51.100.7");
	CHECK_STR(S(a, "scope"), "host");
	CHECK(is_null(a, "hostgroup"));
	CHECK_STR(S(a, "direction"), "incoming");
	CHECK_STR(S(a, "type"), "syn_flood");
	CHECK_STR(S(a, "state"), "ended");
	CHECK_NUM(N(a, "started"), 1700000000.5);
	CHECK_NUM(N(a, "ended"), 1700000014.5);
	CHECK_NUM(N(a, "duration"), 14.0);
	CHECK_NUM(N(a, "peak_pps"), 80000);
	CHECK_NUM(N(a, "peak_bps"), 3.2e8);
	CHECK_NUM(N(a, "pps"), 10);
	CHECK_NUM(N(a, "bps"), 4000);
	CHECK_NUM(N(a, "packets"), 500100);
	CHECK_NUM(N(a, "bytes"), 20004000);
	const struct jval *thr = jv_get(a, "thresholds_exceeded");
	CHECK_EQ(jv_len(thr), 2);
	CHECK_STR(jv_str(jv_at(thr, 0)), "syn_pps");
	CHECK_STR(jv_str(jv_at(thr, 1)), "pps");
	const struct jval *v = jv_get(a, "vector");
	CHECK_NUM(N(v, "samples_weight"), 231014); /* the last vector */
	CHECK_NUM(N(jv_at(jv_get(v, "ttls"), 0), "value"), 109);
	CHECK_NUM(N(jv_at(jv_get(v, "protocols"), 0), "share"), 0.9993);
	if (listed) /* hist_attack_json has the list instead */
		CHECK_NUM(N(a, "mitigations"), 1);
	else
		CHECK(jv_type(jv_get(a, "mitigations")) == J_ARR);
}

static void test_lifecycle(void)
{
	const char *path = tpath("life/history.db");
	struct hist *h = open_ok(path, 0, 0);
	if (!h)
		return;
	write_lifecycle(h);
	CHECK_EQ(hist_flush(h, 5000), 0);
	const struct hist_stats *st = hist_stats(h);
	CHECK_EQ(st->attacks_written, 2);
	CHECK_EQ(st->events_written, 12); /* 8 of A1, 2 of A2, 2 naming no attack */
	CHECK_EQ(st->write_errors, 0);
	CHECK_EQ(st->malformed, 0);
	CHECK_EQ(q1(path, "PRAGMA user_version"), 1);
	CHECK_EQ(q1(path, "PRAGMA application_id"), 0x4d4f4154);
	CHECK_EQ(q1(path, "PRAGMA auto_vacuum"), 2); /* incremental */
	CHECK_EQ(q1(path, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"),
		 1);
	CHECK_EQ(q1(path, "SELECT count(*) FROM other_events"), 2);
	CHECK_EQ(q1(path, "SELECT count(*) FROM other_events WHERE kind = 'bgp_peer_up'"), 1);
	CHECK_EQ(q1(path, "SELECT count(*) FROM events"), 10);

	const struct jval *arr, *a;
	struct jdoc *d = list(h, 10, 0, NULL, &arr);
	CHECK_EQ(jv_len(arr), 2);
	/* newest first: the carpet attack, still active */
	a = jv_at(arr, 0);
	CHECK_STR(S(a, "id"), "1700000003-2");
	CHECK_STR(S(a, "target"), "carpet");
	CHECK_STR(S(a, "scope"), "hostgroup");
	CHECK_STR(S(a, "hostgroup"), "carpet");
	CHECK_STR(S(a, "state"), "active");
	CHECK(is_null(a, "ended"));
	CHECK_NUM(N(a, "duration"), 5.0); /* to its last event */
	CHECK_NUM(N(a, "peak_pps"), 48000);
	CHECK_NUM(N(a, "pps"), 0);
	CHECK_NUM(N(a, "packets"), 192000);
	CHECK_NUM(N(jv_get(a, "vector"), "samples_weight"), 18031); /* null keeps the last one */
	CHECK_EQ(jv_len(jv_get(a, "thresholds_exceeded")), 1);	    /* [] adds nothing */
	CHECK_NUM(N(a, "mitigations"), 0);
	check_a1_summary(jv_at(arr, 1), true);
	jdoc_free(d);

	d = attack(h, "1700000000-1", &a);
	check_a1_summary(a, false);
	/* no member twice (the count of mitigations gives way to their list) */
	size_t dup = 0;
	for (size_t i = 0; i < jv_len(a); i++)
		for (size_t k = i + 1; k < jv_len(a); k++)
			dup += strcmp(jv_key(a, i), jv_key(a, k)) == 0;
	CHECK_EQ(dup, 0);
	CHECK_EQ(jv_len(a), 24);
	CHECK_NUM(N(a, "updates_omitted"), 0);
	CHECK_NUM(N(a, "samples"), 0);
	const struct jval *evs = jv_get(a, "events");
	static const char *const order[] = {"attack_start",   "mitigation_start", "bgp_announce",
					    "attack_update",  "attack_update",	  "attack_end",
					    "mitigation_end", "bgp_withdraw"};
	CHECK_EQ(jv_len(evs), 8);
	for (size_t i = 0; i < 8; i++)
		CHECK_STR(S(jv_at(evs, i), "event"), order[i]);
	/* as received, member for member */
	const struct jval *e0 = jv_at(evs, 0);
	CHECK_EQ(jv_len(e0), 20);
	CHECK_NUM(N(e0, "ts"), 1700000000.5);
	CHECK_NUM(N(e0, "pps"), 50000);
	CHECK_NUM(N(jv_get(e0, "rates"), "pps"), 50000);
	CHECK_STR(S(jv_at(jv_get(jv_get(e0, "vector"), "tcp_flags"), 0), "value"), "S");
	const struct jval *e1 = jv_at(evs, 1);
	CHECK_NUM(N(e1, "coverage"), 0.971);
	CHECK_NUM(N(e1, "setup_us"), 4.8);
	CHECK(jv_bool(jv_get(e1, "applied")) == 0);
	CHECK_NUM(N(jv_at(evs, 2), "mono_ns"), 123456789);

	const struct jval *tl = jv_get(a, "timeline");
	const double ts[] = {1700000000.5, 1700000005.5, 1700000010.5, 1700000014.5};
	const double pps[] = {50000, 80000, 20000, 10}, bps[] = {2e8, 3.2e8, 8e7, 4000};
	CHECK_EQ(jv_len(jv_get(tl, "ts")), 4);
	CHECK_EQ(jv_len(jv_get(tl, "pps")), 4);
	CHECK_EQ(jv_len(jv_get(tl, "bps")), 4);
	for (size_t i = 0; i < 4; i++) {
		CHECK_NUM(jv_num(jv_at(jv_get(tl, "ts"), i)), ts[i]);
		CHECK_NUM(jv_num(jv_at(jv_get(tl, "pps"), i)), pps[i]);
		CHECK_NUM(jv_num(jv_at(jv_get(tl, "bps"), i)), bps[i]);
	}

	const struct jval *ms = jv_get(a, "mitigations");
	CHECK_EQ(jv_len(ms), 1);
	const struct jval *m = jv_at(ms, 0);
	CHECK_NUM(N(m, "rule_id"), 3);
	CHECK_STR(S(m, "rule"), "proto tcp flags S/SA ratelimit 50 burst 100");
	CHECK_STR(S(m, "action"), "ratelimit");
	CHECK_STR(S(m, "origin"), "auto");
	CHECK_NUM(N(m, "started"), 1700000000.5);
	CHECK_NUM(N(m, "ended"), 1700000019.5);
	CHECK_STR(S(m, "reason"), "hold expired");
	const struct jval *c = jv_get(m, "counters");
	CHECK_EQ(jv_len(c), 4);
	CHECK_NUM(N(c, "packets"), 460000);
	CHECK_NUM(N(c, "bytes"), 29440000);
	CHECK_NUM(N(c, "dropped_packets"), 450000);
	CHECK_NUM(N(c, "dropped_bytes"), 28800000);
	CHECK_STR(S(m, "evidence"), "/var/lib/moat/evidence/1700000000-1.pcap");
	CHECK_NUM(N(m, "evidence_packets"), 500);

	const struct jval *rs = jv_get(a, "routes");
	CHECK_EQ(jv_len(rs), 1);
	const struct jval *r = jv_at(rs, 0);
	CHECK_NUM(N(r, "route_id"), 7);
	CHECK_STR(S(r, "kind"), "flowspec");
	CHECK_STR(S(r, "route"), "dst 198.51.100.7/32 proto =6 tcp-flags =S rate-limit 0");
	CHECK_STR(S(r, "target"), "198.51.100.7");
	CHECK_NUM(N(r, "announced"), 1700000001.0);
	CHECK_NUM(N(r, "withdrawn"), 1700000020.0);
	CHECK_STR(S(r, "reason"), "hold expired");
	jdoc_free(d);

	/* the carpet attack: no mitigation, no route, one point per detector event */
	d = attack(h, "1700000003-2", &a);
	CHECK_EQ(jv_len(jv_get(a, "events")), 2);
	CHECK_EQ(jv_len(jv_get(jv_get(a, "timeline"), "pps")), 2);
	CHECK_NUM(jv_num(jv_at(jv_get(jv_get(a, "timeline"), "pps"), 1)), 0);
	CHECK_EQ(jv_len(jv_get(a, "mitigations")), 0);
	CHECK_EQ(jv_len(jv_get(a, "routes")), 0);
	jdoc_free(d);

	/* no such attack: 1, nothing written */
	struct json j;
	char err[128] = "";
	json_init(&j);
	json_obj(&j);
	size_t len = j.len;
	CHECK_EQ(hist_attack_json(h, "1700000099-9", &j, err, sizeof(err)), 1);
	CHECK_EQ(j.len, len);
	CHECK_EQ(hist_attack_json(h, "", &j, err, sizeof(err)), 1);
	json_free(&j);
	hist_close(h);

	/* ---- a restart: the history is kept, the open attack is interrupted ---- */
	h = open_ok(path, 0, 0);
	if (!h)
		return;
	d = list(h, 10, 0, NULL, &arr);
	CHECK_EQ(jv_len(arr), 2);
	a = jv_at(arr, 0);
	CHECK_STR(S(a, "state"), "interrupted");
	CHECK_NUM(N(a, "ended"), 1700000008.7); /* its last event */
	CHECK_NUM(N(a, "duration"), 5.0);
	check_a1_summary(jv_at(arr, 1), true);
	jdoc_free(d);
	d = attack(h, "1700000000-1", &a);
	CHECK_EQ(jv_len(jv_get(a, "events")), 8);
	jdoc_free(d);

	/* the same id again after a restart whose clock went back: the old one has ended, so
	 * this is a new attack; a lookup by id finds the newest, the list shows both */
	const struct det A1b = {"1700000000-1", "198.51.100.9", NULL, false, 1700000050.0};
	det_ev(h, &A1b, EV_ATTACK_START, 1700000050000, 30000, 1e8, 30000, 1e8, 100, 1000, "[]",
	       NULL);
	/* a start given twice for an attack still active is an update, not a third row */
	det_ev(h, &A1b, EV_ATTACK_START, 1700000051000, 35000, 1e8, 35000, 1e8, 200, 2000, "[]",
	       NULL);
	/* an update whose start was never seen starts the row */
	const struct det A3 = {"1700000060-4", "198.51.100.10", NULL, false, 1700000059.0};
	det_ev(h, &A3, EV_ATTACK_UPDATE, 1700000060000, 25000, 1e8, 26000, 1e8, 300, 3000,
	       "[\"pps\"]", NULL);
	hist_flush(h, 5000);
	CHECK_EQ(hist_stats(h)->attacks_written, 2);
	d = list(h, 10, 0, NULL, &arr);
	CHECK_EQ(jv_len(arr), 4);
	CHECK_STR(S(jv_at(arr, 0), "id"), "1700000060-4");
	CHECK_NUM(N(jv_at(arr, 0), "started"), 1700000059.0);
	CHECK_NUM(N(jv_at(arr, 0), "peak_pps"), 26000);
	CHECK_STR(S(jv_at(arr, 1), "id"), "1700000000-1");
	CHECK_STR(S(jv_at(arr, 1), "target"), "198.51.100.9");
	CHECK_STR(S(jv_at(arr, 3), "id"), "1700000000-1");
	CHECK_STR(S(jv_at(arr, 3), "target"), "198.51.100.7");
	jdoc_free(d);
	d = attack(h, "1700000000-1", &a);
	CHECK_STR(S(a, "target"), "198.51.100.9");
	CHECK_STR(S(a, "state"), "active");
	CHECK_NUM(N(a, "peak_pps"), 35000);
	CHECK_NUM(N(a, "packets"), 200);
	CHECK_EQ(jv_len(jv_get(a, "events")), 2);
	jdoc_free(d);
	hist_close(h);
}

/* ---- retention ---- */

static void ended_attack(struct hist *h, const char *id, double started, double ended)
{
	const struct det d = {id, "198.51.100.20", NULL, false, started};
	uint64_t s = (uint64_t)llround(started * 1000), e = (uint64_t)llround(ended * 1000);

	det_ev(h, &d, EV_ATTACK_START, s, 30000, 1e8, 30000, 1e8, 1, 1, "[\"pps\"]", VEC2);
	det_ev(h, &d, EV_ATTACK_UPDATE, (s + e) / 2, 30000, 1e8, 30000, 1e8, 2, 2, "[\"pps\"]",
	       VEC2);
	det_ev(h, &d, EV_ATTACK_END, e, 0, 0, 30000, 1e8, 3, 3, "[\"pps\"]", VEC2);
}

static void test_retention(void)
{
	const char *path = tpath("ret.db");
	struct hist *h = open_ok(path, 7, 0);
	if (!h)
		return;
	const double now = 1800000000.0, day = 86400;
	ended_attack(h, "a-10d", now - 11 * day, now - 10 * day);
	ended_attack(h, "a-8d", now - 9 * day, now - 8 * day);
	ended_attack(h, "a-5d", now - 6 * day, now - 5 * day);
	ended_attack(h, "a-2d", now - 3 * day, now - 2 * day);
	ended_attack(h, "a-1d", now - 1.5 * day, now - 1 * day);
	/* active for 20 days: never deleted */
	const struct det act = {"active-20d", "198.51.100.21", NULL, false, now - 20 * day};
	det_ev(h, &act, EV_ATTACK_START, (uint64_t)(now - 20 * day) * 1000, 30000, 1e8, 30000, 1e8,
	       1, 1, "[]", NULL);
	char l[256];
	snprintf(l, sizeof(l), "{\"event\":\"bgp_peer_down\",\"ts\":%.3f,\"peer\":\"r1\"}",
		 now - 9 * day);
	line(h, l);
	snprintf(l, sizeof(l), "{\"event\":\"bgp_peer_down\",\"ts\":%.3f,\"peer\":\"r1\"}",
		 now - 1 * day);
	line(h, l);
	/* an event naming an attack that is not in the history goes with the others */
	snprintf(l, sizeof(l),
		 "{\"event\":\"mitigation_end\",\"ts\":%.3f,\"rule_id\":1,\"attack\":\"gone-1\"}",
		 now - 1 * day);
	line(h, l);
	hist_flush(h, 5000);
	CHECK_EQ(q1(path, "SELECT count(*) FROM events"), 16);
	CHECK_EQ(q1(path, "SELECT count(*) FROM other_events"), 3);

	long long pages = q1(path, "PRAGMA page_count");
	CHECK_EQ(hist_prune(h, (uint64_t)now * 1000000000ULL), 2);
	CHECK_EQ(q1(path, "SELECT count(*) FROM attacks"), 4);
	CHECK_EQ(q1(path, "SELECT count(*) FROM attacks WHERE id IN ('a-10d', 'a-8d')"), 0);
	CHECK_EQ(q1(path, "SELECT count(*) FROM events"), 10); /* theirs went with them */
	CHECK_EQ(q1(path, "SELECT count(*) FROM events WHERE attack NOT IN"
			  " (SELECT seq FROM attacks)"),
		 0);
	CHECK_EQ(q1(path, "SELECT count(*) FROM other_events"), 2);
	CHECK_EQ(hist_prune(h, (uint64_t)now * 1000000000ULL), 0);

	/* by count: 4 attacks, at most 2: the two oldest ended go, the active one stays */
	hist_set_retention(h, 0, 2);
	CHECK_EQ(hist_prune(h, (uint64_t)now * 1000000000ULL), 2);
	const struct jval *arr;
	struct jdoc *d = list(h, 10, 0, NULL, &arr);
	CHECK_EQ(jv_len(arr), 2);
	CHECK_STR(S(jv_at(arr, 0), "id"), "a-1d");
	CHECK_STR(S(jv_at(arr, 1), "id"), "active-20d");
	jdoc_free(d);
	CHECK_EQ(q1(path, "SELECT count(*) FROM events"), 4);
	/* only the active one and one ended: at most 1 leaves the active one alone */
	hist_set_retention(h, 0, 1);
	CHECK_EQ(hist_prune(h, (uint64_t)now * 1000000000ULL), 1);
	CHECK_EQ(hist_prune(h, (uint64_t)now * 1000000000ULL), 0);
	CHECK_EQ(q1(path, "SELECT count(*) FROM attacks WHERE id = 'active-20d'"), 1);
	CHECK_EQ(hist_stats(h)->pruned, 5);
	CHECK_EQ(q1(path, "SELECT count(*) FROM other_events"), 2); /* retention 0: kept */
	/* the pages freed went back to the file system (auto_vacuum incremental) */
	CHECK_EQ(q1(path, "PRAGMA freelist_count"), 0);
	CHECK(q1(path, "PRAGMA page_count") < pages);
	hist_close(h);
}

/* ---- list filters ---- */

static void test_filters(void)
{
	const char *path = tpath("filters.db");
	struct hist *h = open_ok(path, 0, 0);
	if (!h)
		return;
	static const char *const ids[] = {"f-0", "f-1", "f-2", "f-3", "f-4", "f-5"};
	for (int i = 0; i < 6; i++) {
		const struct det d = {ids[i], i % 2 ? "198.51.100.2" : "198.51.100.1", NULL, false,
				      1700001000.0 + i * 10};
		det_ev(h, &d, EV_ATTACK_START, (uint64_t)(1700001000 + i * 10) * 1000, 30000, 1e8,
		       30000, 1e8, 1, 1, "[]", NULL);
	}
	const struct jval *arr;
	struct jdoc *d = list(h, 2, 0, NULL, &arr);
	CHECK_EQ(jv_len(arr), 2);
	CHECK_STR(S(jv_at(arr, 0), "id"), "f-5");
	CHECK_STR(S(jv_at(arr, 1), "id"), "f-4");
	jdoc_free(d);
	/* the next page: started before the last one seen */
	d = list(h, 2, 1700001040.0, NULL, &arr);
	CHECK_EQ(jv_len(arr), 2);
	CHECK_STR(S(jv_at(arr, 0), "id"), "f-3");
	CHECK_STR(S(jv_at(arr, 1), "id"), "f-2");
	jdoc_free(d);
	d = list(h, 1000, 0, "198.51.100.1", &arr);
	CHECK_EQ(jv_len(arr), 3);
	CHECK_STR(S(jv_at(arr, 0), "id"), "f-4");
	CHECK_STR(S(jv_at(arr, 2), "id"), "f-0");
	jdoc_free(d);
	d = list(h, 1, 1700001040.0, "198.51.100.2", &arr);
	CHECK_EQ(jv_len(arr), 1);
	CHECK_STR(S(jv_at(arr, 0), "id"), "f-3");
	jdoc_free(d);
	d = list(h, 10, 0, "192.0.2.1", &arr);
	CHECK_EQ(jv_len(arr), 0);
	jdoc_free(d);
	d = list(h, 10, 1700001000.0, NULL, &arr); /* strictly before */
	CHECK_EQ(jv_len(arr), 0);
	jdoc_free(d);

	/* bad arguments: -1 with a message, nothing written */
	struct json j;
	char err[128] = "";
	json_init(&j);
	json_obj(&j);
	json_key(&j, "ok");
	json_bool(&j, true);
	size_t len = j.len;
	CHECK_EQ(hist_list_json(h, 0, 0, NULL, &j, err, sizeof(err)), -1);
	CHECK(strstr(err, "limit must be 1..1000") != NULL);
	CHECK_EQ(hist_list_json(h, 1001, 0, NULL, &j, err, sizeof(err)), -1);
	CHECK_EQ(hist_list_json(h, 10, -1, NULL, &j, err, sizeof(err)), -1);
	CHECK_EQ(hist_list_json(h, 10, NAN, NULL, &j, err, sizeof(err)), -1);
	CHECK_EQ(j.len, len);
	/* the writer's state is intact: more members follow correctly */
	CHECK_EQ(hist_list_json(h, 1, 0, NULL, &j, err, sizeof(err)), 0);
	json_end(&j);
	struct jdoc *dd = parse_out(&j);
	CHECK(jv_bool(jv_get(jdoc_root(dd), "ok")) == 1);
	CHECK_EQ(jv_len(jv_get(jdoc_root(dd), "attacks")), 1);
	jdoc_free(dd);
	json_reset(&j);
	json_obj(&j);
	len = j.len;
	CHECK_EQ(sql_exec(path, "DROP TABLE attacks"), SQLITE_OK);
	CHECK_EQ(hist_list_json(h, 10, 0, NULL, &j, err, sizeof(err)), -1);
	CHECK(strstr(err, "no such table: attacks") != NULL);
	CHECK_EQ(j.len, len);
	CHECK_EQ(j.depth, 1);
	json_free(&j);
	hist_close(h);
}

/* ---- files that are not ours ---- */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b = NULL;

	*len = 0;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc((size_t)n + 1);
	if (b && fread(b, 1, (size_t)n, f) == (size_t)n)
		*len = (size_t)n;
	fclose(f);
	return b;
}

static void spit(const char *path, const void *b, size_t n)
{
	FILE *f = fopen(path, "wb");

	CHECK(f != NULL);
	if (f) {
		CHECK_EQ(fwrite(b, 1, n, f), n);
		fclose(f);
	}
}

/* hist_open refuses path with a message holding want; the file is byte for byte the same */
static void refused(const char *path, const char *want)
{
	size_t n0, n1;
	char *b0 = slurp(path, &n0), err[512] = "", wal[300];
	struct hist *h = hist_open(path, 0, 0, err, sizeof(err));

	CHECK(h == NULL);
	hist_close(h);
	CHECK(strstr(err, want) != NULL);
	if (!strstr(err, want))
		fprintf(stderr, "  %s: got \"%s\", wanted \"%s\"\n", path, err, want);
	CHECK(strstr(err, path) != NULL);
	char *b1 = slurp(path, &n1);
	CHECK(b0 && b1 && n0 == n1 && memcmp(b0, b1, n0) == 0);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	CHECK(access(wal, F_OK) < 0);
	free(b0);
	free(b1);
}

static void test_refused(void)
{
	char text[2000];

	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = "not a database\n"[i % 15];
	spit(tpath("text.db"), text, sizeof(text));
	refused(tpath("text.db"), "not an SQLite database (refusing to use or overwrite it)");
	spit(tpath("short.db"), "SQLite", 6);
	refused(tpath("short.db"), "not an SQLite database");

	/* another application's SQLite database */
	const char *other = tpath("other.db");
	CHECK_EQ(sql_exec(other, "CREATE TABLE attacks (x); INSERT INTO attacks VALUES (1);"),
		 SQLITE_OK);
	refused(other, "an SQLite database of something else (application_id 0, 1 schema objects)"
		       ", not a moat history");
	CHECK_EQ(q1(other, "SELECT x FROM attacks"), 1);

	/* a history from a newer moatd */
	const char *newer = tpath("newer.db");
	struct hist *h = open_ok(newer, 0, 0);
	hist_close(h);
	CHECK_EQ(sql_exec(newer, "PRAGMA user_version = 2"), SQLITE_OK);
	refused(newer, "schema version 2, newer than this moatd knows (1)");

	/* a corrupt history: one page of the events table overwritten */
	const char *bad = tpath("corrupt.db");
	h = open_ok(bad, 0, 0);
	if (h) {
		char id[32];
		for (int i = 0; i < 80; i++) {
			snprintf(id, sizeof(id), "c-%d", i);
			ended_attack(h, id, 1700000000.0 + i, 1700000000.5 + i);
		}
		hist_close(h);
	}
	size_t n;
	char *b = slurp(bad, &n);
	CHECK(n >= 16 * 4096);
	if (b && n >= 16 * 4096) {
		memset(b + 8 * 4096, 0x5a, 4096);
		spit(bad, b, n);
		refused(bad, "corrupt");
		/* the header damaged */
		memset(b, 0, 16);
		spit(bad, b, n);
		refused(bad, "not an SQLite database");
	}
	free(b);

	/* a directory where the file should be */
	CHECK_EQ(mkdir(tpath("dir.db"), 0750), 0);
	char err[512] = "";
	CHECK(hist_open(tpath("dir.db"), 0, 0, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "not a regular file") != NULL);
}

/* ---- directories ---- */

static void test_dirs(void)
{
	char err[512] = "";
	struct stat sb;

	/* missing directories are made, 0750; the file is 0640 */
	const char *deep = tpath("a/b/c/history.db");
	struct hist *h = open_ok(deep, 0, 0);
	hist_close(h);
	CHECK(stat(tpath("a"), &sb) == 0 && (sb.st_mode & 0777) == 0750);
	CHECK(stat(tpath("a/b/c"), &sb) == 0 && (sb.st_mode & 0777) == 0750);
	CHECK(stat(deep, &sb) == 0 && (sb.st_mode & 0777) == 0640);

	/* a file in the way of the directory */
	spit(tpath("plain"), "x", 1);
	CHECK(hist_open(tpath("plain/sub/history.db"), 0, 0, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "cannot create the directory") != NULL);
	CHECK(strstr(err, "Not a directory") != NULL);
	/* a directory nobody may create, even root */
	CHECK(hist_open("/proc/moat-test/history.db", 0, 0, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "history /proc/moat-test/history.db: cannot create the directory "
			  "/proc/moat-test") != NULL);

	/* not writable: as an unprivileged user (root may write anywhere), a directory of root's
	 * 0755 and a history of root's 0644 */
	const char *ro = tpath("ro");
	CHECK_EQ(mkdir(ro, 0755), 0);
	CHECK_EQ(chmod(tmp, 0755), 0);
	const char *rodb = tpath("ro/history.db");
	h = open_ok(rodb, 0, 0);
	hist_close(h);
	CHECK_EQ(chmod(rodb, 0644), 0);
	pid_t pid = fork();
	if (pid == 0) {
		int bits = 0;
		if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
			_exit(64);
		struct hist *x = hist_open(tpath("ro/new.db"), 0, 0, err, sizeof(err));
		if (!x)
			bits |= 1;
		if (strstr(err, "cannot create it: Permission denied"))
			bits |= 2;
		hist_close(x);
		err[0] = 0;
		x = hist_open(rodb, 0, 0, err, sizeof(err));
		if (!x)
			bits |= 4;
		if (strstr(err, "the database is read-only"))
			bits |= 8;
		hist_close(x);
		_exit(bits);
	}
	int status = 0;
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	int bits = WEXITSTATUS(status);
	CHECK(bits & 1);
	CHECK(bits & 2);
	CHECK(bits & 4);
	CHECK(bits & 8);
	CHECK(access(tpath("ro/new.db"), F_OK) < 0);
	/* still a good history for its owner */
	h = open_ok(rodb, 0, 0);
	hist_close(h);
}

/* ---- malformed lines, damaged rows ---- */

static void test_malformed(void)
{
	const char *path = tpath("malformed.db");
	struct hist *h = open_ok(path, 0, 0);
	if (!h)
		return;
	static const char *const bad[] = {
	    "not json",
	    "[1,2]",
	    "{\"ts\":1}",
	    "{\"event\":5}",
	    "{\"event\":\"\"}",
	    "{\"event\":\"x\"",
	    "{\"event\":\"x\"} {}",
	    "{\"event\":\"\xff\"}",
	    "",
	    /* an attack event without its id or target */
	    "{\"event\":\"attack_start\",\"ts\":1.0,\"target\":\"198.51.100.1\"}",
	    "{\"event\":\"attack_end\",\"ts\":1.0,\"id\":\"x-1\"}",
	};
	size_t nbad = sizeof(bad) / sizeof(bad[0]);
	for (size_t i = 0; i < nbad; i++)
		line(h, bad[i]);
	size_t big = (1 << 20) + 1;
	char *huge = malloc(big);
	memset(huge, ' ', big);
	memcpy(huge, "{\"event\":\"x\"}", 13);
	hist_line(h, huge, big);
	free(huge);
	/* a detector event whose line is broken */
	struct attack a = {.id = "m-1"};
	struct event ev = {
	    .kind = EV_ATTACK_START, .ts_ns = 1, .a = &a, .json = "{\"id\":", .json_len = 6};
	hist_event(h, &ev);
	hist_line(h, NULL, 0);
	hist_line(NULL, "{}", 2);
	hist_event(h, NULL);
	/* a good one still goes in */
	line(h, PEER_UP);
	hist_flush(h, 5000);
	const struct hist_stats *st = hist_stats(h);
	CHECK_EQ(st->malformed, nbad + 2);
	CHECK_EQ(st->events_written, 1);
	CHECK_EQ(st->attacks_written, 0);
	CHECK_EQ(st->write_errors, 0);
	CHECK_EQ(q1(path, "SELECT count(*) FROM other_events"), 1);
	CHECK_EQ(q1(path, "SELECT count(*) FROM attacks"), 0);

	/* an attack event line given as a line is taken like a detector event (imports) */
	det_ev(h, &A1, EV_ATTACK_START, 1700000000500, 50000, 2e8, 50000, 2e8, 25000, 1000000,
	       "[\"syn_pps\"]", VEC1);
	line(h, "{\"event\":\"attack_update\",\"ts\":1700000001.500,\"id\":\"1700000000-1\","
		"\"target\":\"198.51.100.7\",\"pps\":60000,\"peak_pps\":60000,\"packets\":1e3,"
		"\"bytes\":18446744073709551615,\"thresholds_exceeded\":[\"pps\",7,\"syn_pps\"]}");
	/* without peaks, at a lower rate: the peaks stay */
	line(h, "{\"event\":\"attack_update\",\"ts\":1700000002.500,\"id\":\"1700000000-1\","
		"\"target\":\"198.51.100.7\",\"pps\":1000}");
	hist_flush(h, 5000);
	const struct jval *arr, *x;
	struct jdoc *d = list(h, 10, 0, NULL, &arr);
	x = jv_at(arr, 0);
	CHECK_EQ(jv_len(arr), 1);
	CHECK_NUM(N(x, "packets"), 1000);
	CHECK_NUM(N(x, "bytes"), 18446744073709551615.0); /* past int64: kept as REAL */
	CHECK_NUM(N(x, "pps"), 1000);
	CHECK_NUM(N(x, "peak_pps"), 60000);
	CHECK_NUM(N(x, "peak_bps"), 2e8);
	x = jv_get(x, "thresholds_exceeded"); /* strings only, in the order first seen */
	CHECK_EQ(jv_len(x), 2);
	CHECK_STR(jv_str(jv_at(x, 0)), "syn_pps");
	CHECK_STR(jv_str(jv_at(x, 1)), "pps");
	jdoc_free(d);

	/* damaged rows: written as null, counted; the output stays JSON */
	CHECK_EQ(sql_exec(path,
			  "UPDATE attacks SET vector = '{broken', thresholds_exceeded = '[1,',"
			  " target = CAST(X'C328' AS TEXT), pps = 'abc';"
			  " UPDATE events SET json = '{\"event\":' WHERE kind = 'attack_start'"),
		 SQLITE_OK);
	uint64_t dmg = st->damaged;
	d = list(h, 10, 0, NULL, &arr);
	x = jv_at(arr, 0);
	CHECK(is_null(x, "vector"));
	CHECK(is_null(x, "thresholds_exceeded"));
	CHECK(is_null(x, "target"));
	CHECK(is_null(x, "pps"));
	CHECK_NUM(N(x, "peak_pps"), 60000);
	CHECK_NUM(N(x, "packets"), 1000);
	CHECK_STR(S(x, "id"), "1700000000-1");
	CHECK_EQ(st->damaged - dmg, 4);
	jdoc_free(d);
	d = attack(h, "1700000000-1", &x);
	CHECK_EQ(st->damaged - dmg, 9);
	const struct jval *evs = jv_get(x, "events");
	CHECK_EQ(jv_len(evs), 3);
	CHECK(jv_type(jv_at(evs, 0)) == J_NULL);
	CHECK_STR(S(jv_at(evs, 1), "event"), "attack_update");
	CHECK_EQ(jv_len(jv_get(jv_get(x, "timeline"), "ts")), 2);
	CHECK(jv_type(jv_at(jv_get(jv_get(x, "timeline"), "bps"), 1)) == J_NULL); /* none given */
	jdoc_free(d);
	hist_close(h);
}

/* ---- numbers: what is stored is what comes back ---- */

static void test_numbers(void)
{
	const char *path = tpath("numbers.db");
	struct hist *h = open_ok(path, 0, 0);
	if (!h)
		return;
	static const double v[] = {0.1,	       0.3,    1700000000.123, 123456.789012,
				   1e-7,       0.9993, -42.5,	       1234567890123.4567,
				   0.1 + 0.2,  1e20,   -9.5e18,	       18446744073709551615.0,
				   1e15 + 0.5, 2.5e-3, 5e-324};
	size_t n = sizeof(v) / sizeof(v[0]);
	char l[2048];
	int off = snprintf(l, sizeof(l),
			   "{\"event\":\"attack_start\",\"ts\":1.5,\"id\":\"n-1\","
			   "\"target\":\"198.51.100.1\",\"v\":[");
	for (size_t i = 0; i < n; i++)
		off += snprintf(l + off, sizeof(l) - (size_t)off, "%s%.17g", i ? "," : "", v[i]);
	snprintf(l + off, sizeof(l) - (size_t)off, ",1e300,-7,18446744073709551615]}");
	line(h, l);
	hist_flush(h, 5000);
	uint64_t dmg = hist_stats(h)->damaged;
	const struct jval *a;
	struct jdoc *d = attack(h, "n-1", &a);
	const struct jval *back = jv_get(jv_at(jv_get(a, "events"), 0), "v");
	CHECK_EQ(jv_len(back), n + 3);
	for (size_t i = 0; i < n - 1; i++)
		CHECK_NUM(jv_num(jv_at(back, i)), v[i]);
	CHECK_NUM(jv_num(jv_at(back, n - 1)), 0); /* below 10^-17 */
	CHECK(jv_type(jv_at(back, n)) == J_NULL); /* past 1e60 */
	CHECK_EQ(hist_stats(h)->damaged - dmg, 1);
	int64_t i64;
	uint64_t u64;
	CHECK(jv_int(jv_at(back, n + 1), &i64) && i64 == -7);
	CHECK(jv_uint(jv_at(back, n + 2), &u64) && u64 == UINT64_MAX);
	CHECK_NUM(N(a, "started"), 1.5);
	jdoc_free(d);

	/* nesting deeper than the writer's: the deep part is null, the rest is JSON */
	off = snprintf(l, sizeof(l), "{\"event\":\"deep\",\"attack\":\"n-1\",\"ts\":2,\"v\":");
	for (int i = 0; i < 20; i++)
		off += snprintf(l + off, sizeof(l) - (size_t)off, "[%d,", i);
	off += snprintf(l + off, sizeof(l) - (size_t)off, "0");
	for (int i = 0; i < 20; i++)
		off += snprintf(l + off, sizeof(l) - (size_t)off, ",%d]", i);
	snprintf(l + off, sizeof(l) - (size_t)off, ",\"after\":[1,2]}");
	line(h, l);
	dmg = hist_stats(h)->damaged;
	d = attack(h, "n-1", &a);
	const struct jval *deep = jv_get(jv_at(jv_get(a, "events"), 1), "v");
	int lv = 0;
	while (jv_type(deep) == J_ARR) {
		CHECK_EQ(jv_len(deep), 3);
		deep = jv_at(deep, 1);
		lv++;
	}
	CHECK(jv_type(deep) == J_NULL);
	CHECK_EQ(lv, 11); /* root { attack { events [ event { v: 11 levels, then null */
	CHECK_EQ(jv_len(jv_get(jv_at(jv_get(a, "events"), 1), "after")), 2);
	CHECK_EQ(hist_stats(h)->damaged - dmg, 2); /* and 1e300 of the first event, again */
	jdoc_free(d);
	hist_close(h);
}

/* ---- mitigations: rule ids are reused; an end without its start ---- */

static void test_mitigations(void)
{
	const char *path = tpath("mit.db");
	struct hist *h = open_ok(path, 0, 0);
	if (!h)
		return;
	const struct det d = {"m-1", "198.51.100.3", NULL, false, 100.0};
	det_ev(h, &d, EV_ATTACK_START, 100000, 30000, 1e8, 30000, 1e8, 1, 1, "[]", NULL);
	static const char *const lines[] = {
	    "{\"event\":\"mitigation_start\",\"ts\":100.0,\"rule_id\":0,\"attack\":\"m-1\","
	    "\"rule\":\"proto udp drop\",\"action\":\"drop\",\"evidence\":\"/e/m-1.pcap\"}",
	    "{\"event\":\"mitigation_start\",\"ts\":101.0,\"rule_id\":1,\"attack\":\"m-1\","
	    "\"rule\":\"proto udp sport 53 drop\",\"action\":\"drop\",\"evidence\":null}",
	    "{\"event\":\"mitigation_end\",\"ts\":110.0,\"rule_id\":0,\"attack\":\"m-1\","
	    "\"reason\":\"by hand\",\"dropped_packets\":5,\"evidence\":null,"
	    "\"evidence_packets\":0}",
	    /* rule id 0 again: a new mitigation */
	    "{\"event\":\"mitigation_start\",\"ts\":120.0,\"rule_id\":0,\"attack\":\"m-1\","
	    "\"rule\":\"proto udp len 1000-65535 drop\",\"action\":\"drop\"}",
	    "{\"event\":\"mitigation_end\",\"ts\":130.0,\"rule_id\":0,\"attack\":\"m-1\","
	    "\"reason\":\"hold expired\",\"packets\":9,\"bytes\":900,\"dropped_packets\":7,"
	    "\"dropped_bytes\":700,\"evidence\":\"/e/m-1b.pcap\",\"evidence_packets\":7}",
	    /* an end whose start is not in the history (taken over from another attack) */
	    "{\"event\":\"mitigation_end\",\"ts\":140.0,\"rule_id\":9,\"attack\":\"m-1\","
	    "\"reason\":\"hold expired\",\"dropped_packets\":1}",
	    /* rule 0 ends again: its mitigations have ended, so this is one not seen starting */
	    "{\"event\":\"mitigation_end\",\"ts\":135.0,\"rule_id\":0,\"attack\":\"m-1\"}",
	    /* a withdraw before its announce was seen (twice), then an announce of another route */
	    "{\"event\":\"bgp_withdraw\",\"ts\":141.0,\"route_id\":3,\"attack\":\"m-1\","
	    "\"action\":\"blackhole\",\"route\":\"198.51.100.3/32 next-hop 192.0.2.1 blackhole\","
	    "\"reason\":\"shutdown\"}",
	    "{\"event\":\"bgp_withdraw\",\"ts\":141.5,\"route_id\":3,\"attack\":\"m-1\"}",
	    "{\"event\":\"bgp_announce\",\"ts\":142.0,\"route_id\":4,\"attack\":\"m-1\","
	    "\"action\":\"blackhole\",\"route\":\"198.51.100.3/32 next-hop 192.0.2.1 blackhole\"}",
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		line(h, lines[i]);
	const struct jval *a, *arr;
	struct jdoc *d0 = list(h, 1, 0, NULL, &arr);
	CHECK_NUM(N(jv_at(arr, 0), "mitigations"), 3); /* mitigation_start events */
	jdoc_free(d0);
	struct jdoc *doc = attack(h, "m-1", &a);
	const struct jval *ms = jv_get(a, "mitigations");
	CHECK_EQ(jv_len(ms), 5);
	const struct jval *m = jv_at(ms, 0);
	CHECK_NUM(N(m, "rule_id"), 0);
	CHECK_STR(S(m, "rule"), "proto udp drop");
	CHECK_NUM(N(m, "started"), 100);
	CHECK_NUM(N(m, "ended"), 110);
	CHECK_STR(S(m, "reason"), "by hand");
	CHECK(is_null(m, "evidence")); /* the end says no file was written */
	CHECK_EQ(jv_len(jv_get(m, "counters")), 1);
	CHECK_NUM(N(jv_get(m, "counters"), "dropped_packets"), 5);
	CHECK_NUM(N(m, "evidence_packets"), 0);
	m = jv_at(ms, 1);
	CHECK_NUM(N(m, "rule_id"), 1);
	CHECK(is_null(m, "ended"));
	CHECK(is_null(m, "counters"));
	CHECK(is_null(m, "reason"));
	CHECK(is_null(m, "evidence_packets"));
	m = jv_at(ms, 2);
	CHECK_NUM(N(m, "rule_id"), 0);
	CHECK_STR(S(m, "rule"), "proto udp len 1000-65535 drop");
	CHECK_NUM(N(m, "started"), 120);
	CHECK_NUM(N(m, "ended"), 130);
	CHECK_NUM(N(jv_get(m, "counters"), "dropped_bytes"), 700);
	CHECK_STR(S(m, "evidence"), "/e/m-1b.pcap");
	m = jv_at(ms, 3);
	CHECK_NUM(N(m, "rule_id"), 0);
	CHECK(is_null(m, "started"));
	CHECK_NUM(N(m, "ended"), 135);
	m = jv_at(ms, 4);
	CHECK_NUM(N(m, "rule_id"), 9);
	CHECK(is_null(m, "started"));
	CHECK_NUM(N(m, "ended"), 140);
	CHECK(is_null(m, "rule"));
	CHECK_NUM(N(jv_at(ms, 2), "ended"), 130); /* not moved by the second end */
	const struct jval *rs = jv_get(a, "routes");
	CHECK_EQ(jv_len(rs), 3);
	CHECK(is_null(jv_at(rs, 0), "announced"));
	CHECK_NUM(N(jv_at(rs, 0), "withdrawn"), 141);
	CHECK_STR(S(jv_at(rs, 0), "kind"), "blackhole");
	CHECK_NUM(N(jv_at(rs, 1), "withdrawn"), 141.5);
	CHECK_NUM(N(jv_at(rs, 2), "route_id"), 4);
	CHECK(is_null(jv_at(rs, 2), "withdrawn"));
	jdoc_free(doc);

	/* a database error in a query: -1 with the reason, and nothing written */
	CHECK_EQ(sql_exec(path, "DROP TABLE events"), SQLITE_OK);
	struct json j;
	char err[256] = "";
	json_init(&j);
	json_obj(&j);
	json_key(&j, "before");
	json_u64(&j, 1);
	size_t len = j.len;
	CHECK_EQ(hist_attack_json(h, "m-1", &j, err, sizeof(err)), -1);
	CHECK(strstr(err, "no such table: events") != NULL);
	CHECK_EQ(j.len, len);
	CHECK_EQ(hist_list_json(h, 10, 0, NULL, &j, err, sizeof(err)), 0); /* still fine */
	json_end(&j);
	struct jdoc *dd = parse_out(&j);
	CHECK_NUM(N(jdoc_root(dd), "before"), 1);
	CHECK_EQ(jv_len(jv_get(jdoc_root(dd), "attacks")), 1);
	jdoc_free(dd);
	json_reset(&j);
	json_obj(&j);
	len = j.len;
	CHECK_EQ(sql_exec(path, "DROP TABLE attacks"), SQLITE_OK);
	CHECK_EQ(hist_list_json(h, 10, 0, NULL, &j, err, sizeof(err)), -1);
	CHECK(strstr(err, "no such table: attacks") != NULL);
	CHECK_EQ(j.len, len);
	CHECK_EQ(j.depth, 1);
	json_free(&j);
	hist_close(h);
}

/* ---- threads ---- */

enum { T_LINES = 3000, T_ATTACKS = 100, T_UPDATES = 20 };

static struct hist *th;

static void *bgp_thread(void *arg)
{
	int k = (int)(intptr_t)arg;
	char l[256];

	for (int i = 0; i < T_LINES; i++) {
		if (i % 3 == 0)
			snprintf(l, sizeof(l),
				 "{\"event\":\"bgp_peer_up\",\"peer\":\"r%d\",\"n\":%d}", k, i);
		else
			snprintf(l, sizeof(l),
				 "{\"event\":\"mitigation_start\",\"ts\":1700000000.%03d,"
				 "\"rule_id\":%d,\"attack\":\"t-0\",\"rule\":\"proto udp drop\"}",
				 i % 1000, i);
		line(th, l);
	}
	return NULL;
}

static void test_threads(void)
{
	const char *path = tpath("threads.db");
	pthread_t t[2];

	th = open_ok(path, 0, 0);
	if (!th)
		return;
	const struct det d0 = {"t-0", "198.51.100.50", NULL, false, 1700000000.0};
	det_ev(th, &d0, EV_ATTACK_START, 1700000000000, 1, 1, 1, 1, 1, 1, "[]", NULL);
	hist_flush(th, 5000);
	for (int k = 0; k < 2; k++)
		CHECK_EQ(pthread_create(&t[k], NULL, bgp_thread, (void *)(intptr_t)k), 0);
	char id[32];
	for (int i = 1; i <= T_ATTACKS; i++) {
		snprintf(id, sizeof(id), "t-%d", i);
		const struct det d = {id, "198.51.100.51", NULL, false, 1700000000.0 + i};
		uint64_t ms = (uint64_t)(1700000000 + i) * 1000;
		det_ev(th, &d, EV_ATTACK_START, ms, 1, 1, 1, 1, 1, 1, "[]", NULL);
		for (int u = 1; u <= T_UPDATES; u++)
			det_ev(th, &d, EV_ATTACK_UPDATE, ms + u, u, u, u, u, u, u, "[]", NULL);
		det_ev(th, &d, EV_ATTACK_END, ms + T_UPDATES + 1, 0, 0, T_UPDATES, T_UPDATES,
		       T_UPDATES, T_UPDATES, "[]", NULL);
	}
	for (int k = 0; k < 2; k++)
		pthread_join(t[k], NULL);
	CHECK_EQ(hist_flush(th, 30000), 0);
	const struct hist_stats *st = hist_stats(th);
	uint64_t per_thread_mit = T_LINES - (T_LINES + 2) / 3;
	CHECK_EQ(st->attacks_written, T_ATTACKS + 1);
	CHECK_EQ(st->events_written, 1 + 2 * T_LINES + T_ATTACKS * (T_UPDATES + 2));
	CHECK_EQ(st->write_errors + st->dropped + st->malformed, 0);
	CHECK_EQ(q1(path, "SELECT count(*) FROM other_events"), 2 * ((T_LINES + 2) / 3));
	CHECK_EQ(q1(path, "SELECT mitigations FROM attacks WHERE id = 't-0'"), 2 * per_thread_mit);
	CHECK_EQ(q1(path, "SELECT count(*) FROM attacks WHERE state = 'ended'"), T_ATTACKS);
	CHECK_EQ(q1(path, "SELECT count(*) FROM attacks WHERE peak_pps = 20 AND packets = 20"),
		 T_ATTACKS);
	hist_close(th);
}

/* ---- a locked database, a full queue ---- */

static void test_locked(void)
{
	const char *path = tpath("locked.db");
	struct hist *h = open_ok(path, 0, 0);
	sqlite3 *db = NULL;
	if (!h)
		return;
	const struct hist_stats *st = hist_stats(h);
	CHECK_EQ(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	CHECK_EQ(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	/* the caller does not wait for the disk */
	uint64_t t0 = mono_ns();
	line(h, PEER_UP);
	CHECK(mono_ns() - t0 < 500000000ULL); /* waiting would take the busy timeout, 1 s */
	CHECK_EQ(hist_flush(h, 5000), 0);     /* the writer gave up after its busy timeout */
	CHECK_EQ(st->write_errors, 1);
	CHECK_EQ(st->events_written, 0);

	/* stuck long enough, the queue fills: lines are dropped, counted, never blocking;
	 * every line is written, failed or dropped */
	enum { MANY = 70000 };
	char l[64];
	uint64_t slowest = 0;
	for (int i = 0; i < MANY; i++) {
		int n = snprintf(l, sizeof(l), "{\"event\":\"bgp_peer_up\",\"n\":%d}", i);
		t0 = mono_ns();
		hist_line(h, l, (size_t)n);
		if (mono_ns() - t0 > slowest)
			slowest = mono_ns() - t0;
	}
	CHECK(slowest < 500000000ULL); /* no call waited for the lock */
	CHECK_EQ(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	CHECK_EQ(hist_flush(h, 60000), 0);
	CHECK(st->dropped > 0); /* 65,536 lines at most wait */
	CHECK(st->write_errors >= 1);
	CHECK_EQ(st->events_written + st->write_errors + st->dropped, MANY + 1);
	CHECK_EQ((uint64_t)q1(path, "SELECT count(*) FROM other_events"), st->events_written);
	hist_close(h);
}

/* One line that fails in a batch costs only itself: the batch is rolled back and written again
 * line by line. A trigger refuses the poisoned line; the other lines wait in the queue (as one
 * batch) while the writer is held on a lock. */
static void test_poison(void)
{
	const char *path = tpath("poison.db");
	struct hist *h = open_ok(path, 0, 0);
	sqlite3 *db = NULL;
	if (!h)
		return;
	CHECK_EQ(sql_exec(path,
			  "CREATE TRIGGER poison BEFORE INSERT ON other_events"
			  " WHEN NEW.kind = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned'); END"),
		 SQLITE_OK);
	CHECK_EQ(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	CHECK_EQ(sqlite3_exec(db, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
	line(h, PEER_UP);
	usleep(100000); /* the writer has it, and waits for the lock */
	for (int i = 0; i < 10; i++)
		line(h, i == 4 ? "{\"event\":\"poison\"}" : PEER_UP);
	CHECK_EQ(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	CHECK_EQ(hist_flush(h, 5000), 0);
	const struct hist_stats *st = hist_stats(h);
	CHECK_EQ(st->write_errors, 1);
	CHECK_EQ(st->events_written, 10);
	CHECK_EQ(q1(path, "SELECT count(*) FROM other_events"), 10);
	hist_close(h);
}

/* ---- bench: `test_history bench` ---- */

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static const char BIG_VEC[] =
    "{\"samples_weight\":231014,\"protocols\":[{\"value\":\"udp\",\"share\":0.9993}],"
    "\"src_ports\":[],\"dst_ports\":[],\"lengths\":[{\"value\":512,\"share\":0.9993}],"
    "\"ttls\":[{\"value\":106,\"share\":0.2525},{\"value\":249,\"share\":0.2516},{\"value\":109,"
    "\"share\":0.2484},{\"value\":58,\"share\":0.2468}],\"tcp_flags\":[],\"icmp_types\":[],"
    "\"src_addrs\":[],\"src_prefixes\":[{\"value\":\"203.0.113.0/24\",\"share\":0.9995}]}";

static off_t fsize(const char *p)
{
	struct stat sb;
	return stat(p, &sb) == 0 ? sb.st_size : 0;
}

static void bench(void)
{
	enum { UPD = 10000, RUNS = 3, ATT = 12500 };
	double enq[RUNS], total[RUNS], one[RUNS], cpu[RUNS];
	char name[64];

	struct evbuf *evs = calloc(UPD + 1, sizeof(*evs));
	const struct det d = {"1700000000-1", "198.51.100.14", NULL, false, 1700000000.0};
	det_fmt(&evs[0], &d, EV_ATTACK_START, 1700000000000, 60103, 245831520, 60103, 245831520,
		24041, 12298751, "[\"pps\"]", BIG_VEC);
	for (int i = 1; i <= UPD; i++)
		det_fmt(&evs[i], &d, EV_ATTACK_UPDATE, 1700000000000 + i * 100ULL, 60000 + i,
			245000000 + i, 60103 + i, 246142352, 24041 + i * 6000ULL,
			12298751 + i * 3072000ULL, "[\"pps\"]", BIG_VEC);
	size_t linebytes = 0;
	for (int i = 0; i <= UPD; i++)
		linebytes += evs[i].ev.json_len;
	printf("event lines: %.0f bytes on average\n", (double)linebytes / (UPD + 1));
	for (int r = 0; r < RUNS; r++) {
		/* as fast as they come: the writer batches them */
		snprintf(name, sizeof(name), "bench-%d.db", r);
		struct hist *h = open_ok(tpath(name), 0, 0);
		uint64_t c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID), t0 = mono_ns();
		for (int i = 0; i <= UPD; i++)
			hist_event(h, &evs[i].ev);
		uint64_t t1 = mono_ns();
		hist_flush(h, 60000);
		uint64_t t2 = mono_ns();
		cpu[r] = (clock_ns(CLOCK_PROCESS_CPUTIME_ID) - c0) / 1e3 / (UPD + 1);
		enq[r] = (t1 - t0) / 1e3 / (UPD + 1);
		total[r] = (t2 - t0) / 1e3 / (UPD + 1);
		CHECK_EQ(hist_stats(h)->events_written, UPD + 1);
		hist_close(h);
		if (r == 0) {
			off_t sz = fsize(tpath(name));
			printf("one attack of %d updates: %lld bytes (%.0f per event)\n", UPD,
			       (long long)sz, (double)sz / (UPD + 1));
		}

		/* one at a time: each event its own transaction (events trickle in) */
		snprintf(name, sizeof(name), "bench1-%d.db", r);
		h = open_ok(tpath(name), 0, 0);
		uint64_t t3 = mono_ns();
		for (int i = 0; i <= 2000; i++) {
			hist_event(h, &evs[i].ev);
			hist_flush(h, 60000);
		}
		one[r] = (mono_ns() - t3) / 1e3 / 2001;
		hist_close(h);
	}
	free(evs);
	qsort(enq, RUNS, sizeof(double), cmp_dbl);
	qsort(total, RUNS, sizeof(double), cmp_dbl);
	qsort(one, RUNS, sizeof(double), cmp_dbl);
	qsort(cpu, RUNS, sizeof(double), cmp_dbl);
	printf("CPU (both threads), batched: median %.1f us per event (runs %.1f %.1f %.1f)\n",
	       cpu[1], cpu[0], cpu[1], cpu[2]);
	printf("hist_event (caller, queueing): median %.2f us per event (runs %.2f %.2f %.2f)\n",
	       enq[1], enq[0], enq[1], enq[2]);
	printf("written, batched: median %.1f us per event, %.0f events/s (runs %.1f %.1f %.1f)\n",
	       total[1], 1e6 / total[1], total[0], total[1], total[2]);
	printf("written one per transaction: median %.1f us per event, %.0f events/s (runs %.1f "
	       "%.1f %.1f)\n",
	       one[1], 1e6 / one[1], one[0], one[1], one[2]);

	/* size of typical attacks: start, 2 updates, end, mitigation start/end, announce, withdraw
	 */
	const char *p = tpath("bench-size.db");
	struct hist *h = open_ok(p, 0, 0);
	char id[32], l[1024];
	uint64_t t0 = mono_ns();
	for (int i = 0; i < ATT; i++) {
		if (i % 1000 == 0) /* a burst of 100,000 lines would fill the queue */
			hist_flush(h, 60000);
		snprintf(id, sizeof(id), "%d-%d", 1700000000 + i * 60, i + 1);
		const struct det da = {id, "198.51.100.14", NULL, false, 1700000000.0 + i * 60};
		uint64_t ms = (uint64_t)(1700000000 + i * 60) * 1000;
		det_ev(h, &da, EV_ATTACK_START, ms, 60103, 245831520, 60103, 245831520, 24041,
		       12298751, "[\"pps\"]", BIG_VEC);
		snprintf(
		    l, sizeof(l),
		    "{\"event\":\"mitigation_start\",\"ts\":%llu.000,\"rule_id\":0,\"attack\":"
		    "\"%s\",\"target\":\"198.51.100.14\",\"rule\":\"proto udp len 500-65535 "
		    "ratelimit 1000 burst 2000\",\"origin\":\"auto\",\"action\":\"ratelimit\","
		    "\"applied\":true,\"type\":\"udp_flood\",\"amplification_ports_dropped\":"
		    "false,\"coverage\":0.998,\"setup_us\":4.8,\"hold\":5.0,\"evidence\":null}",
		    (unsigned long long)ms / 1000, id);
		line(h, l);
		snprintf(l, sizeof(l),
			 "{\"event\":\"bgp_announce\",\"ts\":%llu.000,\"route_id\":%d,\"attack\":"
			 "\"%s\",\"target\":\"198.51.100.14\",\"action\":\"flowspec\",\"route\":"
			 "\"dst 198.51.100.14/32 proto =17 packet-length >=500 rate-limit 0\","
			 "\"mono_ns\":1234567890}",
			 (unsigned long long)ms / 1000, i, id);
		line(h, l);
		det_ev(h, &da, EV_ATTACK_UPDATE, ms + 5000, 60041, 245781960, 60103, 246142352,
		       324286, 165985875, "[\"pps\"]", BIG_VEC);
		det_ev(h, &da, EV_ATTACK_UPDATE, ms + 10000, 35, 133096, 60103, 246142352, 360456,
		       184485765, "[]", BIG_VEC);
		det_ev(h, &da, EV_ATTACK_END, ms + 10200, 23, 32760, 60103, 246142352, 360461,
		       184487820, "[\"pps\"]", BIG_VEC);
		snprintf(l, sizeof(l),
			 "{\"event\":\"mitigation_end\",\"ts\":%llu.200,\"rule_id\":0,\"attack\":"
			 "\"%s\",\"target\":\"198.51.100.14\",\"rule\":\"proto udp len 500-65535 "
			 "ratelimit 1000 burst 2000\",\"origin\":\"auto\",\"action\":\"ratelimit\","
			 "\"applied\":true,\"reason\":\"hold expired\",\"duration\":15.2,"
			 "\"packets\":912000,\"bytes\":466944000,\"dropped_packets\":900000,"
			 "\"dropped_bytes\":460800000,\"evidence\":null,\"evidence_packets\":0}",
			 (unsigned long long)ms / 1000 + 15, id);
		line(h, l);
		snprintf(l, sizeof(l),
			 "{\"event\":\"bgp_withdraw\",\"ts\":%llu.200,\"route_id\":%d,\"attack\":"
			 "\"%s\",\"target\":\"198.51.100.14\",\"action\":\"flowspec\",\"route\":"
			 "\"dst 198.51.100.14/32 proto =17 packet-length >=500 rate-limit 0\","
			 "\"mono_ns\":2234567890,\"reason\":\"hold expired\"}",
			 (unsigned long long)ms / 1000 + 15, i, id);
		line(h, l);
	}
	hist_flush(h, 600000);
	printf("%d attacks written in %.2f s (formatting included)\n", ATT, (mono_ns() - t0) / 1e9);
	hist_close(h);
	off_t sz = fsize(p);
	printf("%d attacks of 8 events (4 detector, 2 mitigation, 2 BGP): %lld bytes, %.0f bytes "
	       "per attack\n",
	       ATT, (long long)sz, (double)sz / ATT);
	t0 = mono_ns();
	h = open_ok(p, 0, 0);
	printf("open (with quick_check) of that: %.1f ms\n", (mono_ns() - t0) / 1e6);
	t0 = mono_ns();
	struct json j;
	char err[128];
	json_init(&j);
	for (int i = 0; i < 100; i++) {
		json_reset(&j);
		json_obj(&j);
		hist_list_json(h, 100, 0, NULL, &j, err, sizeof(err));
		json_end(&j);
	}
	printf("hist_list_json of 100 attacks: %.2f ms (%zu bytes)\n", (mono_ns() - t0) / 1e8,
	       j.len);
	t0 = mono_ns();
	for (int i = 0; i < 100; i++) {
		json_reset(&j);
		json_obj(&j);
		hist_attack_json(h, "1700000000-1", &j, err, sizeof(err));
		json_end(&j);
	}
	printf("hist_attack_json of an 8-event attack: %.3f ms (%zu bytes)\n",
	       (mono_ns() - t0) / 1e8, j.len);
	json_free(&j);
	hist_close(h);
	/* the 10,000-update attack */
	h = open_ok(tpath("bench-0.db"), 0, 0);
	t0 = mono_ns();
	json_init(&j);
	json_obj(&j);
	hist_attack_json(h, "1700000000-1", &j, err, sizeof(err));
	json_end(&j);
	printf("hist_attack_json of a 10,001-event attack: %.1f ms (%zu bytes)\n",
	       (mono_ns() - t0) / 1e6, j.len);
	json_free(&j);
	hist_close(h);
}

static void rm_rf(const char *dir)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

/* attack_sample lines are points of the timeline, not events; a long attack lists its first
 * HIST_MAX_UPDATES (500) updates and counts the rest, while its timeline keeps every point */
static void test_samples(void)
{
	static const struct det A = {"1700000100-1", "198.51.100.9", NULL, false, 1700000100.0};
	struct hist *h = open_ok(tpath("samples.db"), 0, 0);
	const struct jval *a;
	char l[256];

	if (!h)
		return;
	det_ev(h, &A, EV_ATTACK_START, 1700000100000ULL, 1000, 8e5, 1000, 8e5, 100, 8000,
	       "[\"pps\"]", NULL);
	for (int i = 1; i <= 3; i++) {
		snprintf(l, sizeof(l),
			 "{\"event\":\"attack_sample\",\"ts\":%d,\"attack\":\"1700000100-1\","
			 "\"pps\":%d,\"bps\":%d}",
			 1700000100 + i, 2000 + i, 16000 + i);
		line(h, l);
	}
	for (int i = 0; i < 510; i++)
		det_ev(h, &A, EV_ATTACK_UPDATE, 1700000104000ULL + (uint64_t)i * 1000, 3000 + i,
		       24e5, 3000 + i, 24e5, 200, 16000, "[\"pps\"]", NULL);
	struct jdoc *d = attack(h, "1700000100-1", &a);
	CHECK(a != NULL);
	CHECK_NUM(N(a, "samples"), 3);
	CHECK_NUM(N(a, "updates_omitted"), 10);
	const struct jval *evs = jv_get(a, "events"), *tl = jv_get(a, "timeline");
	CHECK_EQ(jv_len(evs), 1 + 500);
	for (size_t i = 0; i < jv_len(evs); i++)
		CHECK(strcmp(S(jv_at(evs, i), "event"), "attack_sample") != 0);
	/* start, 3 samples, 510 updates: every point, in time order */
	CHECK_EQ(jv_len(jv_get(tl, "ts")), 1 + 3 + 510);
	CHECK_EQ(jv_len(jv_get(tl, "pps")), 1 + 3 + 510);
	CHECK_NUM(jv_num(jv_at(jv_get(tl, "pps"), 1)), 2001);
	CHECK_NUM(jv_num(jv_at(jv_get(tl, "bps"), 3)), 16003);
	CHECK_NUM(jv_num(jv_at(jv_get(tl, "ts"), 2)), 1700000102);
	CHECK_NUM(jv_num(jv_at(jv_get(tl, "pps"), 513)), 3509);
	jdoc_free(d);
	hist_close(h);
}

int main(int argc, char **argv)
{
	const char *t = getenv("TMPDIR");

	umask(022);
	log_set_level(LOG_WARNING);
	snprintf(tmp, sizeof(tmp), "%s/moat-hist-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	if (argc > 1 && strcmp(argv[1], "bench") == 0) {
		bench();
		rm_rf(tmp);
		return 0;
	}
	test_dirs();
	test_lifecycle();
	test_retention();
	test_filters();
	test_refused();
	test_malformed();
	test_numbers();
	test_mitigations();
	test_samples();
	test_threads();
	test_locked();
	test_poison();
	rm_rf(tmp);
	return t_done("test_history");
}
