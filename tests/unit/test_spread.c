/* Placement of flow records in time: spreading over a record's duration, shifting past records,
 * holding future ones, exact totals, bounded pool; and the exporter clock mapping. */
#include <stdlib.h>

#include "core/conf.h"
#include "detect/detect.h"
#include "flow/collector.h"
#include "t.h"

#define S(x) ((uint64_t)(x)*1000000000ULL)
#define T0   S(1700000000)

static struct shard *sh;

/* packets accounted into the shard's current tick table since the last call */
static uint64_t take(void)
{
	struct ticktab *t = sh->tt_cur;
	uint64_t p = 0;
	for (uint32_t i = 0; i < t->n; i++)
		if (t->e[i].dir == DIR_IN)
			p += t->e[i].c[C_PKTS];
	ticktab_clear(t);
	return p;
}

static struct obs rec(uint64_t packets)
{
	struct obs o;
	memset(&o, 0, sizeof(o));
	maddr_parse("192.0.2.1", &o.src);
	maddr_parse("198.51.100.5", &o.dst);
	o.family = 4;
	o.proto = 17;
	o.sport = 53;
	o.dport = 1234;
	o.l4 = 1;
	o.packets = packets;
	o.bytes = packets * 100;
	o.len = 100;
	return o;
}

static void test_spread(void)
{
	struct spreader *s = spreader_new(4);
	uint64_t now = T0;

	/* 10 s, 100001 packets: 100 ticks of 1000 or 1001, adding up exactly */
	struct obs o = rec(100001);
	CHECK_EQ(spreader_place(s, sh, &o, now - S(10), now, now), 0);
	CHECK_EQ(take(), 0); /* nothing lands at once */
	uint64_t sum = 0, lo = ~0ULL, hi = 0;
	for (int k = 0; k < 100; k++) {
		spreader_tick(s, sh, now + (uint64_t)k * TICK_NS);
		uint64_t p = take();
		sum += p;
		lo = p < lo ? p : lo;
		hi = p > hi ? p : hi;
	}
	CHECK_EQ(sum, 100001);
	CHECK(lo >= 1000 && hi <= 1001);
	CHECK_EQ(spreader_active(s), 0);

	/* a short record now is accounted at once */
	o = rec(7);
	CHECK_EQ(spreader_place(s, sh, &o, now, now + 1000, now), 1);
	CHECK_EQ(take(), 7);

	/* a record 2 s in the future waits for its tick */
	o = rec(50);
	CHECK_EQ(spreader_place(s, sh, &o, now + S(2), now + S(2), now), 0);
	for (int k = 0; k < 20; k++) {
		spreader_tick(s, sh, now + (uint64_t)k * TICK_NS);
		CHECK_EQ(take(), 0);
	}
	spreader_tick(s, sh, now + S(2));
	CHECK_EQ(take(), 50);

	/* the pool holds 4: the fifth long record is accounted at once and counted */
	for (int i = 0; i < 4; i++) {
		o = rec(1000);
		CHECK_EQ(spreader_place(s, sh, &o, now, now + S(5), now), 0);
	}
	o = rec(1000);
	CHECK_EQ(spreader_place(s, sh, &o, now, now + S(5), now), 1);
	CHECK_EQ(spreader_full(s), 1);
	CHECK_EQ(take(), 1000);
	sum = 0;
	for (int k = 0; k < 60; k++) {
		spreader_tick(s, sh, now + (uint64_t)k * TICK_NS);
		sum += take();
	}
	CHECK_EQ(sum, 4000);
	spreader_free(s);
}

static void test_clock(void)
{
	struct flowclock fc = {0};
	uint64_t now = S(2000000000), f, l;

	/* an exporter replaying a 2023 capture: the first record starts 10 s from now */
	f = S(1700000000);
	l = S(1700000001);
	CHECK(flowclock_map(&fc, now, &f, &l));
	CHECK(!fc.synced);
	CHECK_EQ(f, now + S(10));
	CHECK_EQ(l, now + S(11));
	/* later records keep their spacing, even arriving at once and out of order */
	f = l = S(1700000010);
	CHECK(!flowclock_map(&fc, now, &f, &l));
	CHECK_EQ(l, now + S(20));
	f = l = S(1699999995); /* 5 s earlier than the first: still in the future */
	CHECK(!flowclock_map(&fc, now, &f, &l));
	CHECK_EQ(l, now + S(5));
	/* a jump beyond 120 s ahead anchors again */
	f = l = S(1700000500);
	CHECK(flowclock_map(&fc, now, &f, &l));
	CHECK_EQ(l, now + S(10));
	/* a synced exporter: record times are ours, whatever order they come in */
	struct flowclock g = {0};
	f = now - S(60);
	l = now - S(1);
	CHECK(flowclock_map(&g, now, &f, &l));
	CHECK(g.synced);
	CHECK_EQ(l, now - S(1));
	f = now - S(30);
	l = now + S(1);
	CHECK(!flowclock_map(&g, now + S(2), &f, &l));
	CHECK_EQ(l, now + S(1));
}

int main(void)
{
	static const char *yaml = "networks: [198.51.100.0/24]\n";
	struct conf *c;
	char err[256];

	CHECK_EQ(conf_load_buf("t.yaml", yaml, strlen(yaml), &c, err, sizeof(err)), 0);
	struct detector *d = det_new(c, 1, err, sizeof(err));
	sh = shard_new(0, 4096, det_key(d), true);
	CHECK_EQ(det_add_shard(d, sh), 0);
	shard_sync(sh);
	test_spread();
	test_clock();
	det_free(d);
	shard_free(sh);
	conf_free(c);
	return t_done("test_spread");
}
