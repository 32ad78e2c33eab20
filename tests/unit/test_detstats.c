/* The detector's live numbers for the operator surface: per-second host rates and top lists,
 * per-host details, traffic per second per network, cumulative totals, active attacks as JSON.
 * Traffic is fed at exact counts, so every value is checked exactly. */
#include <math.h>
#include <stdlib.h>

#include "core/conf.h"
#include "core/jparse.h"
#include "core/json.h"
#include "detect/account.h"
#include "detect/detect.h"
#include "t.h"

#define T0 1700000000ULL /* seconds: an arbitrary epoch for the synthetic traffic */

static uint64_t ns(double t)
{
	return T0 * 1000000000ULL + (uint64_t)llround(t * 1e9);
}

struct got {
	char kind[16];
	char id[40];
	char json[8192];
};

static struct got ev[64];
static int n_ev;

static void jfield(const char *js, const char *key, char *out, size_t n)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	const char *p = strstr(js, pat);
	size_t i = 0;

	if (p)
		for (p += strlen(pat); p[i] && p[i] != '"' && i + 1 < n; i++)
			out[i] = p[i];
	out[i] = 0;
}

static void on_event(void *arg, const struct event *e)
{
	(void)arg;
	if (n_ev == 64)
		return;
	struct got *g = &ev[n_ev++];
	snprintf(g->json, sizeof(g->json), "%.*s", (int)e->json_len, e->json);
	jfield(g->json, "event", g->kind, sizeof(g->kind));
	jfield(g->json, "id", g->id, sizeof(g->id));
}

struct fx {
	struct conf *c;
	struct detector *d;
	struct shard *sh;
	uint64_t next; /* the next tick's time */
};

static struct conf *load(const char *yaml)
{
	struct conf *c;
	char err[512];

	if (conf_load_buf("test.yaml", yaml, strlen(yaml), &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "config: %s\n", err);
		return NULL;
	}
	return c;
}

/* A detector and one inline shard, ticking from first_tick (seconds after T0). */
static int fx_open(struct fx *f, const char *yaml, double first_tick)
{
	char err[512];

	memset(f, 0, sizeof(*f));
	n_ev = 0;
	f->c = load(yaml);
	if (!f->c)
		return -1;
	f->d = det_new(f->c, 1, err, sizeof(err));
	if (!f->d) {
		fprintf(stderr, "det_new: %s\n", err);
		conf_free(f->c);
		return -1;
	}
	f->sh = shard_new(0, 1u << 14, det_key(f->d), true);
	if (!f->sh || det_add_shard(f->d, f->sh) < 0)
		return -1;
	det_subscribe(f->d, on_event, NULL);
	shard_sync(f->sh);
	f->next = ns(first_tick);
	return 0;
}

static void fx_close(struct fx *f)
{
	det_free(f->d);
	shard_free(f->sh);
	conf_free(f->c);
}

/* Runs every tick due at or before t, as a replay does before a packet of time t. */
static void fx_run(struct fx *f, double t)
{
	while (f->next <= ns(t)) {
		det_tick(f->d, f->next);
		f->next += TICK_NS;
	}
}

/* One obs at time t standing for `packets` packets of len bytes each. */
static void fx_obs(struct fx *f, double t, const char *src, const char *dst, uint8_t proto,
		   uint16_t sport, uint16_t dport, uint32_t len, uint64_t packets)
{
	struct obs o;

	fx_run(f, t);
	memset(&o, 0, sizeof(o));
	o.ts_ns = ns(t);
	maddr_parse(src, &o.src);
	maddr_parse(dst, &o.dst);
	o.family = maddr_is_v4(&o.dst) ? 4 : 6;
	o.proto = proto;
	o.tcp_flags = proto == 6 ? TCPF_ACK : 0;
	o.l4 = proto == 6 || proto == 17 || proto == 1;
	o.sport = sport;
	o.dport = dport;
	o.len = len;
	o.ttl = 64;
	o.packets = packets;
	o.bytes = (uint64_t)len * packets;
	shard_account(f->sh, &o);
}

static bool addr_is(const struct maddr *a, const char *s)
{
	struct maddr b;
	return maddr_parse(s, &b) == 0 && maddr_eq(a, &b);
}

/* ---- traffic JSON ---- */

struct traffic {
	struct json j;
	struct jdoc *doc;
	const struct jval *root;
};

static void traffic_get(struct fx *f, unsigned secs, struct traffic *t)
{
	char err[128];

	json_init(&t->j);
	json_obj(&t->j);
	det_traffic_json(f->d, secs, &t->j);
	json_end(&t->j);
	t->doc = jparse(t->j.buf, t->j.len, err, sizeof(err));
	if (!t->doc)
		fprintf(stderr, "traffic json: %s: %s\n", err, t->j.buf);
	CHECK(t->doc != NULL);
	t->root = t->doc ? jdoc_root(t->doc) : NULL;
	/* det_last_second is the newest second the charts have */
	const struct jval *ts = jv_get(t->root, "ts");
	uint64_t last = 0;
	if (jv_len(ts))
		jv_uint(jv_at(ts, jv_len(ts) - 1), &last);
	if (secs >= 1)
		CHECK_EQ(det_last_second(f->d), last);
}

static void traffic_free(struct traffic *t)
{
	jdoc_free(t->doc);
	json_free(&t->j);
}

/* The value of (dir, metric, series, second i): -1 for null, -2 when absent or not an integer. */
static long long tv(const struct traffic *t, const char *dir, const char *m, size_t s, size_t i)
{
	const struct jval *v = jv_at(jv_at(jv_get(jv_get(t->root, dir), m), s), i);
	uint64_t x;

	if (jv_type(v) == J_NULL)
		return -1;
	return jv_uint(v, &x) ? (long long)x : -2;
}

/* Every series of (dir, metric) has n values. */
static bool tv_shape(const struct traffic *t, const char *dir, const char *m, size_t series,
		     size_t n)
{
	const struct jval *a = jv_get(jv_get(t->root, dir), m);

	if (jv_len(a) != series)
		return false;
	for (size_t s = 0; s < series; s++)
		if (jv_len(jv_at(a, s)) != n)
			return false;
	return true;
}

static long long ts_at(const struct traffic *t, size_t i)
{
	uint64_t x;
	return jv_uint(jv_at(jv_get(t->root, "ts"), i), &x) ? (long long)(x - T0) : -1;
}

/* ---- tests ---- */

static const char *rates_yaml = "networks: [198.51.100.0/24, 2001:db8:5::/48]\n"
				"thresholds: {pps: 1000000}\n"
				"hostgroups:\n"
				"  - name: web\n"
				"    prefixes: [198.51.100.0/30]\n";

#define A "198.51.100.1"
#define B "198.51.100.2"
#define C "198.51.100.3"
#define D "2001:db8:5::9"
#define E "198.51.100.5"
#define F "198.51.100.6"

/* Second 0: known traffic of six hosts in both directions, spread over its ten ticks. Second 1:
 * host A only. */
static void test_rates(void)
{
	struct fx f;
	struct det_rate r[DET_TOP_MAX + 5];
	struct det_host_info hi;

	if (fx_open(&f, rates_yaml, 0.1) < 0) {
		CHECK(0);
		return;
	}
	CHECK_EQ(det_stats(f.d)->hosts_cap, 262144);
	CHECK_EQ(det_stats(f.d)->hot_cap, 16384);
	for (int i = 0; i < 10; i++) {
		double t = 0.05 + 0.1 * i;
		/* incoming */
		fx_obs(&f, t, "192.0.2.1", A, 6, (uint16_t)(1000 + i % 5), 80, 100, 100);
		fx_obs(&f, t, "192.0.2.2", B, 17, (uint16_t)(2000 + 2 * i), 53, 1000, 25);
		fx_obs(&f, t, "192.0.2.2", B, 17, (uint16_t)(2001 + 2 * i), 53, 1000, 25);
		fx_obs(&f, t, "192.0.2.3", C, 1, (uint16_t)(i % 3), 0, 50, 20);
		fx_obs(&f, t, "2001:db8:100::1", D, 17, (uint16_t)(3000 + i % 2), 53, 200, 30);
		if (i < 5)
			fx_obs(&f, t, "192.0.2.6", F, 17, 4000, 9, 0, 1);
		/* outgoing */
		fx_obs(&f, t, A, "192.0.2.1", 17, 5000, (uint16_t)(6000 + i % 3), 60, 70);
		fx_obs(&f, t, B, "192.0.2.2", 6, 443, (uint16_t)(7000 + i % 2), 1500, 5);
		fx_obs(&f, t, E, "192.0.2.9", 47, 0, 0, 100, 1);
	}
	fx_run(&f, 0.9);
	/* no complete second yet */
	CHECK_EQ(det_top(f.d, DET_PPS, DIR_IN, r, 10), 0);
	CHECK(det_host(f.d, &(struct maddr){0}, &hi) == -1);
	fx_run(&f, 1.0);

	/* incoming by packets: all five, highest first */
	CHECK_EQ(det_top(f.d, DET_PPS, DIR_IN, r, DET_TOP_MAX + 5), 5);
	static const char *const in_pps[] = {A, B, D, C, F};
	static const long long in_pps_v[] = {1000, 500, 300, 200, 5};
	for (int i = 0; i < 5; i++) {
		CHECK(addr_is(&r[i].addr, in_pps[i]));
		CHECK_EQ(r[i].pps, in_pps_v[i]);
		CHECK_EQ(r[i].dir, DIR_IN);
		CHECK(r[i].attack == NULL);
	}
	CHECK_EQ(r[0].bps, 800000);
	CHECK_EQ(r[0].flows, 5);
	CHECK_EQ(r[0].tcp_pps, 1000);
	CHECK_EQ(r[0].udp_pps, 0);
	CHECK_EQ(r[0].hg, 0);
	CHECK_EQ(r[1].bps, 4000000);
	CHECK_EQ(r[1].flows, 20);
	CHECK_EQ(r[1].udp_pps, 500);
	CHECK_EQ(r[2].hg, -1);
	CHECK_EQ(r[2].bps, 480000);
	CHECK_EQ(r[2].flows, 2);
	CHECK_EQ(r[3].icmp_pps, 200);
	CHECK_EQ(r[3].flows, 3);
	CHECK_EQ(r[4].bps, 0);
	/* fewer asked than there are */
	memset(r, 0, sizeof(r));
	CHECK_EQ(det_top(f.d, DET_PPS, DIR_IN, r, 2), 2);
	CHECK(addr_is(&r[0].addr, A) && addr_is(&r[1].addr, B));
	CHECK_EQ(r[2].pps, 0); /* nothing written past n */
	/* by bits: F sent 0 bytes and is left out */
	CHECK_EQ(det_top(f.d, DET_BPS, DIR_IN, r, DET_TOP_MAX), 4);
	static const char *const in_bps[] = {B, A, D, C};
	static const long long in_bps_v[] = {4000000, 800000, 480000, 80000};
	for (int i = 0; i < 4; i++) {
		CHECK(addr_is(&r[i].addr, in_bps[i]));
		CHECK_EQ(r[i].bps, in_bps_v[i]);
	}
	/* by flows */
	CHECK_EQ(det_top(f.d, DET_FLOWS, DIR_IN, r, DET_TOP_MAX), 5);
	static const char *const in_fl[] = {B, A, C, D, F};
	static const long long in_fl_v[] = {20, 5, 3, 2, 1};
	for (int i = 0; i < 5; i++) {
		CHECK(addr_is(&r[i].addr, in_fl[i]));
		CHECK_EQ(r[i].flows, in_fl_v[i]);
	}
	/* outgoing */
	CHECK_EQ(det_top(f.d, DET_PPS, DIR_OUT, r, DET_TOP_MAX), 3);
	CHECK(addr_is(&r[0].addr, A) && addr_is(&r[1].addr, B) && addr_is(&r[2].addr, E));
	CHECK_EQ(r[0].pps, 700);
	CHECK_EQ(r[0].udp_pps, 700);
	CHECK_EQ(r[1].pps, 50);
	CHECK_EQ(r[2].pps, 10);
	CHECK_EQ(r[2].dir, DIR_OUT);
	CHECK_EQ(det_top(f.d, DET_BPS, DIR_OUT, r, DET_TOP_MAX), 3);
	CHECK(addr_is(&r[0].addr, B) && addr_is(&r[1].addr, A) && addr_is(&r[2].addr, E));
	CHECK_EQ(r[0].bps, 600000);
	CHECK_EQ(r[1].bps, 336000);
	CHECK_EQ(r[2].bps, 8000);
	CHECK_EQ(det_top(f.d, DET_FLOWS, DIR_OUT, r, DET_TOP_MAX), 3);
	CHECK(addr_is(&r[0].addr, A) && addr_is(&r[1].addr, B) && addr_is(&r[2].addr, E));
	CHECK_EQ(r[0].flows, 3);
	CHECK_EQ(r[1].flows, 2);
	CHECK_EQ(r[2].flows, 1);
	CHECK_EQ(det_top(f.d, DET__METRICS, DIR_IN, r, 10), 0);
	CHECK_EQ(det_top(f.d, DET_PPS, DIR__COUNT, r, 10), 0);

	/* one host in detail */
	struct maddr a;
	maddr_parse(A, &a);
	CHECK_EQ(det_host(f.d, &a, &hi), 0);
	CHECK(addr_is(&hi.addr, A));
	CHECK_EQ(hi.hg, 0);
	CHECK(hi.protected_ && !hi.whitelisted && !hi.hot[DIR_IN] && !hi.hot[DIR_OUT]);
	CHECK_EQ(hi.rate[DIR_IN].pps, 1000);
	CHECK_EQ(hi.rate[DIR_IN].bps, 800000);
	CHECK_EQ(hi.rate[DIR_IN].flows, 5);
	CHECK_EQ(hi.rate[DIR_OUT].pps, 700);
	CHECK_EQ(hi.rate[DIR_OUT].udp_pps, 700);
	CHECK_EQ(hi.rate[DIR_OUT].dir, DIR_OUT);
	CHECK_EQ(hi.pkts[DIR_IN], 1000);
	CHECK_EQ(hi.bytes[DIR_IN], 100000);
	CHECK_EQ(hi.c[DIR_IN][C_TCP_P], 1000);
	CHECK_EQ(hi.c[DIR_IN][C_FLOWS], 5);
	CHECK_EQ(hi.c[DIR_IN][C_OTHER_P], 0);
	CHECK_EQ(hi.c[DIR_OUT][C_UDP_B], 42000);
	CHECK(hi.idle == 0);
	maddr_parse(E, &a);
	CHECK_EQ(det_host(f.d, &a, &hi), 0);
	CHECK_EQ(hi.hg, -1);
	CHECK_EQ(hi.c[DIR_OUT][C_OTHER_P], 10);
	CHECK_EQ(hi.c[DIR_OUT][C_OTHER_B], 1000);
	CHECK_EQ(hi.rate[DIR_IN].pps, 0);
	maddr_parse("198.51.100.99", &a);
	CHECK_EQ(det_host(f.d, &a, &hi), -1);

	/* second 1: A alone, one flow (seen in second 0 too: it counts again in a new second) */
	for (int i = 0; i < 10; i++)
		fx_obs(&f, 1.05 + 0.1 * i, "192.0.2.1", A, 6, 1000, 80, 100, 5);
	fx_run(&f, 2.0);
	CHECK_EQ(det_top(f.d, DET_PPS, DIR_IN, r, DET_TOP_MAX), 1);
	CHECK(addr_is(&r[0].addr, A));
	CHECK_EQ(r[0].pps, 50);
	CHECK_EQ(r[0].bps, 40000);
	CHECK_EQ(r[0].flows, 1);
	CHECK_EQ(det_top(f.d, DET_PPS, DIR_OUT, r, DET_TOP_MAX), 0);
	maddr_parse(C, &a);
	CHECK_EQ(det_host(f.d, &a, &hi), 0);
	CHECK_EQ(hi.rate[DIR_IN].pps, 0);
	CHECK(addr_is(&hi.rate[DIR_IN].addr, C));
	CHECK_EQ(hi.pkts[DIR_IN], 200);
	CHECK(fabs(hi.idle - 1.0) < 1e-9); /* last merged in the tick ending at 1.0 */

	/* traffic per second: all and the two networks */
	struct traffic t;
	traffic_get(&f, 600, &t);
	const struct jval *ser = jv_get(t.root, "series");
	CHECK_EQ(jv_len(ser), 3);
	CHECK_STR(jv_str(jv_at(ser, 0)), "all");
	CHECK_STR(jv_str(jv_at(ser, 1)), "198.51.100.0/24");
	CHECK_STR(jv_str(jv_at(ser, 2)), "2001:db8:5::/48");
	CHECK_EQ(jv_num(jv_get(t.root, "interval")), 1);
	CHECK_EQ(jv_len(jv_get(t.root, "ts")), 2);
	CHECK_EQ(ts_at(&t, 0), 0);
	CHECK_EQ(ts_at(&t, 1), 1);
	CHECK(tv_shape(&t, "incoming", "pps", 3, 2) && tv_shape(&t, "incoming", "bps", 3, 2));
	CHECK(tv_shape(&t, "outgoing", "pps", 3, 2) && tv_shape(&t, "outgoing", "bps", 3, 2));
	CHECK_EQ(tv(&t, "incoming", "pps", 0, 0), 2005);
	CHECK_EQ(tv(&t, "incoming", "pps", 1, 0), 1705);
	CHECK_EQ(tv(&t, "incoming", "pps", 2, 0), 300);
	CHECK_EQ(tv(&t, "incoming", "bps", 0, 0), 5360000);
	CHECK_EQ(tv(&t, "incoming", "bps", 1, 0), 4880000);
	CHECK_EQ(tv(&t, "incoming", "bps", 2, 0), 480000);
	CHECK_EQ(tv(&t, "incoming", "pps", 0, 1), 50);
	CHECK_EQ(tv(&t, "incoming", "pps", 1, 1), 50);
	CHECK_EQ(tv(&t, "incoming", "pps", 2, 1), 0);
	CHECK_EQ(tv(&t, "incoming", "bps", 1, 1), 40000);
	CHECK_EQ(tv(&t, "outgoing", "pps", 0, 0), 760);
	CHECK_EQ(tv(&t, "outgoing", "pps", 1, 0), 760);
	CHECK_EQ(tv(&t, "outgoing", "pps", 2, 0), 0);
	CHECK_EQ(tv(&t, "outgoing", "bps", 0, 0), 944000);
	CHECK_EQ(tv(&t, "outgoing", "pps", 0, 1), 0);
	traffic_free(&t);
	traffic_get(&f, 1, &t);
	CHECK_EQ(jv_len(jv_get(t.root, "ts")), 1);
	CHECK_EQ(ts_at(&t, 0), 1);
	CHECK_EQ(tv(&t, "incoming", "pps", 0, 0), 50);
	traffic_free(&t);
	traffic_get(&f, 0, &t);
	CHECK_EQ(jv_len(jv_get(t.root, "ts")), 0);
	CHECK(tv_shape(&t, "incoming", "pps", 3, 0));
	traffic_free(&t);

	/* cumulative totals: per protocol */
	const struct det_totals *tot = det_totals(f.d);
	CHECK_EQ(tot->pkts[DIR_IN][0], 1050);
	CHECK_EQ(tot->pkts[DIR_IN][1], 805);
	CHECK_EQ(tot->pkts[DIR_IN][2], 200);
	CHECK_EQ(tot->pkts[DIR_IN][3], 0);
	CHECK_EQ(tot->bytes[DIR_IN][0], 105000);
	CHECK_EQ(tot->bytes[DIR_IN][1], 560000);
	CHECK_EQ(tot->bytes[DIR_IN][2], 10000);
	CHECK_EQ(tot->pkts[DIR_OUT][0], 50);
	CHECK_EQ(tot->bytes[DIR_OUT][0], 75000);
	CHECK_EQ(tot->pkts[DIR_OUT][1], 700);
	CHECK_EQ(tot->bytes[DIR_OUT][1], 42000);
	CHECK_EQ(tot->pkts[DIR_OUT][2], 0);
	CHECK_EQ(tot->pkts[DIR_OUT][3], 10);
	CHECK_EQ(tot->bytes[DIR_OUT][3], 1000);
	/* per hostgroup */
	uint64_t gp[DIR__COUNT], gb[DIR__COUNT];
	CHECK_EQ(det_group_totals(f.d, 0, gp, gb), 0);
	CHECK_EQ(gp[DIR_IN], 1750);
	CHECK_EQ(gb[DIR_IN], 615000);
	CHECK_EQ(gp[DIR_OUT], 750);
	CHECK_EQ(gb[DIR_OUT], 117000);
	CHECK_EQ(det_group_totals(f.d, -1, gp, gb), 0);
	CHECK_EQ(gp[DIR_IN], 305);
	CHECK_EQ(gb[DIR_IN], 60000);
	CHECK_EQ(gp[DIR_OUT], 10);
	CHECK_EQ(gb[DIR_OUT], 1000);
	CHECK_EQ(det_group_totals(f.d, 1, gp, gb), -1);
	CHECK_EQ(det_group_totals(f.d, -2, gp, gb), -1);
	fx_close(&f);
}

/* The partial second the detector starts in is left out. */
static void test_first_second(void)
{
	struct fx f;
	struct det_rate r[4];
	struct traffic t;

	if (fx_open(&f, rates_yaml, 0.5) < 0) {
		CHECK(0);
		return;
	}
	for (int i = 0; i < 16; i++)
		fx_obs(&f, 0.45 + 0.1 * i, "192.0.2.1", A, 17, 1000, 53, 100, 10);
	fx_run(&f, 1.0);
	CHECK_EQ(det_top(f.d, DET_PPS, DIR_IN, r, 4), 0);
	traffic_get(&f, 600, &t);
	CHECK_EQ(jv_len(jv_get(t.root, "ts")), 0);
	traffic_free(&t);
	fx_run(&f, 2.0);
	CHECK_EQ(det_top(f.d, DET_PPS, DIR_IN, r, 4), 1);
	CHECK_EQ(r[0].pps, 100);
	traffic_get(&f, 600, &t);
	CHECK_EQ(jv_len(jv_get(t.root, "ts")), 1);
	CHECK_EQ(ts_at(&t, 0), 1);
	CHECK_EQ(tv(&t, "incoming", "pps", 0, 0), 100);
	traffic_free(&t);

	/* the clock steps back (live: the system clock was set back) into second 1 again: the
	 * second in progress is dropped and the charts start over */
	fx_run(&f, 2.3);
	f.next = ns(1.1);
	for (int i = 0; i < 10; i++) {
		fx_obs(&f, 1.05 + 0.1 * i, "192.0.2.1", A, 17, 1000, 53, 100, 7);
		if (i == 5) {
			/* the last complete second is still the first second 1 */
			CHECK_EQ(det_top(f.d, DET_PPS, DIR_IN, r, 4), 1);
			CHECK_EQ(r[0].pps, 100);
		}
	}
	fx_run(&f, 2.0);
	traffic_get(&f, 600, &t);
	CHECK_EQ(jv_len(jv_get(t.root, "ts")), 1);
	CHECK_EQ(ts_at(&t, 0), 1);
	CHECK_EQ(tv(&t, "incoming", "pps", 0, 0), 70);
	traffic_free(&t);
	CHECK_EQ(det_top(f.d, DET_PPS, DIR_IN, r, 4), 1);
	CHECK_EQ(r[0].pps, 70);
	fx_close(&f);
}

/* The selection keeps the best DET_TOP_MAX whatever the order they come in: 100 hosts at
 * 2, 4, .. 200 packets, then one at 3, which must push out the one at 2. */
static void test_top_select(void)
{
	struct fx f;
	struct det_rate r[DET_TOP_MAX];

	if (fx_open(&f, rates_yaml, 0.1) < 0) {
		CHECK(0);
		return;
	}
	for (int i = 0; i <= DET_TOP_MAX; i++) {
		char dst[64];
		snprintf(dst, sizeof(dst), "2001:db8:5::%x", i + 1);
		fx_obs(&f, 0.05, "2001:db8:100::1", dst, 17, 1000, 53, 100,
		       i < DET_TOP_MAX ? 2 * (uint64_t)(i + 1) : 3);
	}
	fx_run(&f, 1.0);
	CHECK_EQ(det_top(f.d, DET_PPS, DIR_IN, r, DET_TOP_MAX), DET_TOP_MAX);
	int bad = 0;
	for (int k = 0; k < DET_TOP_MAX - 1; k++)
		bad += r[k].pps != 2 * (DET_TOP_MAX - k);
	CHECK_EQ(bad, 0);
	CHECK_EQ(r[DET_TOP_MAX - 1].pps, 3);
	CHECK(addr_is(&r[DET_TOP_MAX - 1].addr, "2001:db8:5::65"));
	fx_close(&f);
}

/* Host i's rank: itself, or a fixed random permutation of 0..PERM_N-1. */
enum { PERM_N = 3000 };
static int perm_tab[PERM_N];

static int rank(int i, int n, bool perm)
{
	if (!perm)
		return i;
	if (!perm_tab[1]) {
		uint64_t x = 88172645463325252ULL;
		for (int k = 0; k < PERM_N; k++)
			perm_tab[k] = k;
		for (int k = PERM_N - 1; k > 0; k--) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
			int j = (int)(x % (uint64_t)(k + 1)), v = perm_tab[k];
			perm_tab[k] = perm_tab[j];
			perm_tab[j] = v;
		}
	}
	return n == PERM_N ? perm_tab[i] : i;
}

/* More hosts in a second than the rate table starts with (it grows), then few (it shrinks), then
 * many again. Host i sends (rank + 1) * mul packets. */
static void many(struct fx *f, double t, int n, int mul, bool perm)
{
	for (int i = 0; i < n; i++) {
		char dst[64];
		snprintf(dst, sizeof(dst), "2001:db8:5::%x:%x", i >> 16, i & 0xffff);
		fx_obs(f, t, "2001:db8:100::1", dst, 17, 1000, 53, 100,
		       (uint64_t)(rank(i, n, perm) + 1) * mul);
	}
}

static bool host_is(const struct maddr *a, int i)
{
	char s[64];
	snprintf(s, sizeof(s), "2001:db8:5::%x:%x", i >> 16, i & 0xffff);
	return addr_is(a, s);
}

static void test_growth(void)
{
	enum { N = PERM_N };
	struct fx f;
	struct det_rate r[DET_TOP_MAX];
	struct det_host_info hi;
	struct traffic t;

	if (fx_open(&f, rates_yaml, 0.1) < 0) {
		CHECK(0);
		return;
	}
	many(&f, 0.05, N, 1, false);
	fx_run(&f, 1.0);
	CHECK_EQ(det_top(f.d, DET_PPS, DIR_IN, r, DET_TOP_MAX), DET_TOP_MAX);
	int bad = 0;
	for (int k = 0; k < DET_TOP_MAX; k++)
		bad += !host_is(&r[k].addr, N - 1 - k) || r[k].pps != N - k ||
		       r[k].bps != (N - k) * 800.0;
	CHECK_EQ(bad, 0);
	/* every host has one flow: equal values come in the order the hosts were first seen */
	CHECK_EQ(det_top(f.d, DET_FLOWS, DIR_IN, r, DET_TOP_MAX), DET_TOP_MAX);
	bad = 0;
	for (int k = 0; k < DET_TOP_MAX; k++)
		bad += !host_is(&r[k].addr, k) || r[k].flows != 1 || r[k].pps != k + 1;
	CHECK_EQ(bad, 0);
	struct maddr a;
	maddr_parse("2001:db8:5::0:4d2", &a); /* host 1234 */
	CHECK_EQ(det_host(f.d, &a, &hi), 0);
	CHECK_EQ(hi.rate[DIR_IN].pps, 1235);
	traffic_get(&f, 600, &t);
	CHECK_EQ(tv(&t, "incoming", "pps", 0, 0), (long long)N * (N + 1) / 2);
	CHECK_EQ(tv(&t, "incoming", "pps", 2, 0), (long long)N * (N + 1) / 2);
	traffic_free(&t);

	/* three seconds of ten hosts: the tables shrink */
	for (int s = 1; s <= 3; s++) {
		many(&f, s + 0.05, 10, 2, false);
		fx_run(&f, s + 1.0);
		CHECK_EQ(det_top(f.d, DET_PPS, DIR_IN, r, DET_TOP_MAX), 10);
		CHECK(host_is(&r[0].addr, 9) && r[0].pps == 20);
		CHECK(host_is(&r[9].addr, 0) && r[9].pps == 2);
		CHECK_EQ(det_host(f.d, &a, &hi), 0);
		CHECK_EQ(hi.rate[DIR_IN].pps, 0);
	}
	/* and grow again, the values in scrambled order */
	many(&f, 4.05, N, 3, true);
	fx_run(&f, 5.0);
	CHECK_EQ(det_top(f.d, DET_PPS, DIR_IN, r, DET_TOP_MAX), DET_TOP_MAX);
	bad = 0;
	for (int k = 0; k < DET_TOP_MAX; k++) {
		int want = -1;
		for (int i = 0; i < N; i++)
			if (rank(i, N, true) == N - 1 - k)
				want = i;
		bad += !host_is(&r[k].addr, want) || r[k].pps != 3 * (N - k);
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(det_host(f.d, &a, &hi), 0);
	CHECK_EQ(hi.rate[DIR_IN].pps, 3 * (rank(1234, N, true) + 1));
	CHECK_EQ(hi.pkts[DIR_IN], 1235 + 3 * (rank(1234, N, true) + 1));
	traffic_get(&f, 600, &t);
	CHECK_EQ(jv_len(jv_get(t.root, "ts")), 5);
	CHECK_EQ(tv(&t, "incoming", "pps", 0, 1), 110);
	CHECK_EQ(tv(&t, "incoming", "pps", 0, 4), 3LL * N * (N + 1) / 2);
	traffic_free(&t);
	CHECK_EQ(det_stats(f.d)->hosts, N);
	fx_close(&f);
}

/* A reload that changes the networks restarts the network series; one that keeps them does not.
 * Hostgroup totals follow the name when the index changes. */
static void test_reload(void)
{
	static const char *y2 = "networks: [198.51.100.0/24, 198.51.100.4/30, 2001:db8:5::/48]\n"
				"thresholds: {pps: 1000000}\n"
				"hostgroups:\n"
				"  - name: db\n"
				"    prefixes: [198.51.100.4/30]\n"
				"  - name: web\n"
				"    prefixes: [198.51.100.0/30]\n";
	static const char *y3 = "networks: [198.51.100.0/24, 198.51.100.4/30, 2001:db8:5::/48]\n"
				"thresholds: {pps: 2000000}\n"
				"hostgroups:\n"
				"  - name: db\n"
				"    prefixes: [198.51.100.4/30]\n"
				"  - name: web\n"
				"    prefixes: [198.51.100.0/30]\n";
	struct fx f;
	struct traffic t;
	char err[512];
	uint64_t gp[DIR__COUNT], gb[DIR__COUNT];

	if (fx_open(&f, rates_yaml, 0.1) < 0) {
		CHECK(0);
		return;
	}
	struct conf *c2 = load(y2), *c3 = load(y3), *c4 = load(rates_yaml);
	CHECK(c2 && c3 && c4);
	if (!c2 || !c3 || !c4)
		return;
	for (int s = 0; s < 5; s++) {
		for (int i = 0; i < 10; i++) {
			double at = s + 0.05 + 0.1 * i;
			fx_obs(&f, at, "192.0.2.1", A, 17, 1000, 53, 100, 10);
			fx_obs(&f, at, "192.0.2.5", E, 17, 1000, 53, 100, 4);
			fx_obs(&f, at, "2001:db8:100::1", D, 17, 1000, 53, 100, 3);
			/* reloads: at a second's boundary, and in the middle of one */
			if (s == 0 && i == 9) {
				fx_run(&f, 1.0);
				CHECK_EQ(det_reload(f.d, c2, err, sizeof(err)), 0);
			}
			if ((s == 2 || s == 3) && i == 4) {
				fx_run(&f, s + 0.5);
				CHECK_EQ(det_reload(f.d, s == 2 ? c3 : c4, err, sizeof(err)), 0);
			}
		}
		if (s == 2) {
			/* under c2/c3: web moved from index 0 to 1 and kept its totals */
			fx_run(&f, 3.0);
			traffic_get(&f, 600, &t);
			const struct jval *ser = jv_get(t.root, "series");
			CHECK_EQ(jv_len(ser), 4);
			CHECK_STR(jv_str(jv_at(ser, 2)), "198.51.100.4/30");
			CHECK_EQ(jv_len(jv_get(t.root, "ts")), 3);
			for (int k = 0; k < 3; k++)
				CHECK_EQ(tv(&t, "incoming", "pps", 0, k), 170);
			/* second 0 was under other networks: null */
			for (int sr = 1; sr < 4; sr++)
				CHECK_EQ(tv(&t, "incoming", "pps", sr, 0), -1);
			/* seconds 1 and 2 (a reload keeping the networks in the middle of 2):
			 * E counts in the /30, the longest prefix, not in the /24 */
			for (int k = 1; k < 3; k++) {
				CHECK_EQ(tv(&t, "incoming", "pps", 1, k), 100);
				CHECK_EQ(tv(&t, "incoming", "pps", 2, k), 40);
				CHECK_EQ(tv(&t, "incoming", "pps", 3, k), 30);
				CHECK_EQ(tv(&t, "incoming", "bps", 2, k), 32000);
			}
			CHECK_EQ(tv(&t, "outgoing", "pps", 2, 1), 0);
			traffic_free(&t);
			CHECK_EQ(det_group_totals(f.d, 1, gp, gb), 0);
			CHECK_EQ(gp[DIR_IN], 300);
			CHECK_EQ(gb[DIR_IN], 30000);
			CHECK_EQ(det_group_totals(f.d, 0, gp, gb), 0);
			CHECK_EQ(gp[DIR_IN], 80); /* db: since the reload */
			CHECK_EQ(det_group_totals(f.d, -1, gp, gb), 0);
			CHECK_EQ(gp[DIR_IN], (40 + 30) + 2 * 30);
			CHECK_EQ(det_group_totals(f.d, 2, gp, gb), -1);
		}
	}
	fx_run(&f, 5.0);
	/* back to the first networks in the middle of second 3: the network series hold second 4
	 * only; "all" all five */
	traffic_get(&f, 600, &t);
	const struct jval *ser = jv_get(t.root, "series");
	CHECK_EQ(jv_len(ser), 3);
	CHECK_STR(jv_str(jv_at(ser, 2)), "2001:db8:5::/48");
	CHECK_EQ(jv_len(jv_get(t.root, "ts")), 5);
	CHECK(tv_shape(&t, "incoming", "pps", 3, 5) && tv_shape(&t, "outgoing", "bps", 3, 5));
	for (int k = 0; k < 5; k++)
		CHECK_EQ(tv(&t, "incoming", "pps", 0, k), 170);
	for (int k = 0; k < 4; k++) {
		CHECK_EQ(tv(&t, "incoming", "pps", 1, k), -1);
		CHECK_EQ(tv(&t, "incoming", "bps", 2, k), -1);
	}
	CHECK_EQ(tv(&t, "incoming", "pps", 1, 4), 140);
	CHECK_EQ(tv(&t, "incoming", "pps", 2, 4), 30);
	CHECK_EQ(tv(&t, "incoming", "bps", 1, 4), 112000);
	traffic_free(&t);
	/* web back at index 0 with every packet it got; db removed */
	CHECK_EQ(det_group_totals(f.d, 0, gp, gb), 0);
	CHECK_EQ(gp[DIR_IN], 500);
	CHECK_EQ(det_group_totals(f.d, 1, gp, gb), -1);
	CHECK_EQ(det_group_totals(f.d, -1, gp, gb), 0);
	/* before c2: E and D; under c2 and c3: D (E is in db); under c4 (from 3.5): E and D */
	CHECK_EQ(gp[DIR_IN], (40 + 30) + (30 + 30 + 15) + (60 + 45));
	fx_close(&f);
	conf_free(c2);
	conf_free(c3);
	conf_free(c4);
}

static void count_attack(void *arg, const struct attack *a)
{
	(void)a;
	++*(int *)arg;
}

static void extra_id(void *arg, const struct attack *a, struct json *out)
{
	(void)arg;
	json_key(out, "extra");
	json_str(out, a->id);
}

/* det_attacks_json: the same object as the attack_update event, ids as in attack_start, ordered
 * by start; [] once they ended. det_top and det_host name the attack. */
static void test_attacks_json(void)
{
	static const char *yaml = "networks: [198.51.100.0/24]\n"
				  "thresholds: {pps: 5000}\n"
				  "detection: {cooldown: 2, update_interval: 2}\n";
	struct fx f;
	struct json j;
	struct det_rate r[4];
	struct det_host_info hi;
	struct maddr g;
	char gid[40] = "", hid[40] = "";
	int compared = 0, both = 0;

	if (fx_open(&f, yaml, 0.1) < 0) {
		CHECK(0);
		return;
	}
	maddr_parse("198.51.100.7", &g);
	json_init(&j);
	json_arr(&j);
	det_attacks_json(f.d, &j, SIZE_MAX, NULL, NULL);
	json_aend(&j);
	CHECK_STR(j.buf, "[[]]");
	for (int k = 0; k < 120; k++) {
		double t = 0.05 + 0.1 * k;
		int before = n_ev;
		/* a flood on .7 from 1 s to 6 s (20 kpps), one on .8 from 4 s to 6 s; 100 pps
		 * on .7 throughout */
		fx_obs(&f, t, "192.0.2.1", "198.51.100.7", 17, 1234, 80, 100,
		       t >= 1 && t < 6 ? 2000 : 10);
		if (t >= 4 && t < 6)
			fx_obs(&f, t, "192.0.2.1", "198.51.100.8", 17, 1234, 80, 100, 2000);
		for (int e = before; e < n_ev; e++) {
			if (strcmp(ev[e].kind, "attack_start") == 0)
				snprintf(*gid ? hid : gid, sizeof(gid), "%s", ev[e].id);
			if (strcmp(ev[e].kind, "attack_update") == 0 && !*hid && !compared) {
				/* nothing ran since the update: the array holds that object */
				const char *pre = "{\"event\":\"attack_update\",";
				char want[8300];
				size_t l = strlen(ev[e].json);
				CHECK(strncmp(ev[e].json, pre, strlen(pre)) == 0);
				snprintf(want, sizeof(want), "[{%.*s,\"active\":true}]",
					 (int)(l - strlen(pre) - 1), ev[e].json + strlen(pre));
				json_reset(&j);
				det_attacks_json(f.d, &j, SIZE_MAX, NULL, NULL);
				CHECK_STR(j.buf, want);
				CHECK_STR(ev[e].id, gid);
				compared++;
			}
		}
		if (*hid && !both) {
			char err[128];
			json_reset(&j);
			det_attacks_json(f.d, &j, SIZE_MAX, NULL, NULL);
			struct jdoc *doc = jparse(j.buf, j.len, err, sizeof(err));
			const struct jval *root = jdoc_root(doc);
			CHECK_EQ(jv_len(root), 2);
			CHECK_STR(jv_str(jv_get(jv_at(root, 0), "id")), gid);
			CHECK_STR(jv_str(jv_get(jv_at(root, 1), "id")), hid);
			CHECK_STR(jv_str(jv_get(jv_at(root, 1), "target")), "198.51.100.8");
			CHECK_EQ(jv_bool(jv_get(jv_at(root, 0), "active")), 1);
			CHECK_EQ(jv_bool(jv_get(jv_at(root, 1), "active")), 1);
			CHECK(jv_get(jv_at(root, 0), "event") == NULL);
			jdoc_free(doc);
			/* capped at 1: the heavier; at equal rates the earlier */
			json_reset(&j);
			CHECK_EQ(det_attacks_json(f.d, &j, 1, extra_id, NULL), 2);
			doc = jparse(j.buf, j.len, err, sizeof(err));
			CHECK_EQ(jv_len(jdoc_root(doc)), 1);
			CHECK_STR(jv_str(jv_get(jv_at(jdoc_root(doc), 0), "id")), gid);
			/* extra adds its members last, for the attack it is called with */
			const struct jval *o = jv_at(jdoc_root(doc), 0);
			CHECK_STR(jv_key(o, jv_len(o) - 1), "extra");
			CHECK_STR(jv_str(jv_get(o, "extra")), gid);
			jdoc_free(doc);
			int n_att = 0;
			det_each_attack(f.d, count_attack, &n_att);
			CHECK_EQ(n_att, 2);
			both++;
		}
		if (t > 5 && t < 5.1) {
			/* both attacks active: the top list and the host name them */
			CHECK_EQ(det_top(f.d, DET_PPS, DIR_IN, r, 4), 2);
			CHECK(r[0].attack && r[1].attack);
			if (r[0].attack && r[1].attack) {
				CHECK_STR(r[0].attack,
					  addr_is(&r[0].addr, "198.51.100.7") ? gid : hid);
				CHECK_STR(r[1].attack,
					  addr_is(&r[1].addr, "198.51.100.7") ? gid : hid);
			}
			CHECK_EQ(r[0].pps, 20000);
			CHECK_EQ(det_host(f.d, &g, &hi), 0);
			CHECK(hi.hot[DIR_IN]);
			CHECK_STR(hi.rate[DIR_IN].attack, gid);
			CHECK(hi.rate[DIR_OUT].attack == NULL);
		}
	}
	CHECK_EQ(compared, 1);
	CHECK_EQ(both, 1);
	int ends = 0;
	for (int e = 0; e < n_ev; e++)
		ends += strcmp(ev[e].kind, "attack_end") == 0;
	CHECK_EQ(ends, 2);
	json_reset(&j);
	det_attacks_json(f.d, &j, SIZE_MAX, NULL, NULL);
	CHECK_STR(j.buf, "[]");
	/* .7 still sends 100 pps, with no attack now */
	CHECK_EQ(det_top(f.d, DET_PPS, DIR_IN, r, 4), 1);
	CHECK_EQ(r[0].pps, 100);
	CHECK(r[0].attack == NULL);
	json_free(&j);
	fx_close(&f);
}

int main(void)
{
	test_rates();
	test_first_second();
	test_top_select();
	test_growth();
	test_reload();
	test_attacks_json();
	return t_done("test_detstats");
}
