/* test_netflow: netflow_decode against hand-built NetFlow v5, v9 and IPFIX datagrams (every
 * expected number worked out by hand in the comments), against datagrams cut at every length,
 * and against real softflowd exports (tests/fuzz/corpus/netflow/softflowd-*.bin, captured from
 * softflowd reading a moat-gen pcap; paths are relative to the repo root).
 *
 * NETFLOW_SEEDS=DIR writes every hand-built datagram to DIR (fuzz seeds).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow.h"
#include "t.h"

#define S(x)   ((uint64_t)(x)*1000000000ull)
#define MS(x)  ((uint64_t)(x)*1000000ull)
#define TTL_NS S(FLOW_TEMPLATE_TTL_S)

/* ---- a datagram under construction, big-endian ---- */

struct dg {
	uint8_t b[8192];
	size_t n;
};

static void put8(struct dg *d, uint64_t v)
{
	d->b[d->n++] = (uint8_t)v;
}

static void put16(struct dg *d, uint64_t v)
{
	put8(d, v >> 8);
	put8(d, v);
}

static void put32(struct dg *d, uint64_t v)
{
	put16(d, v >> 16);
	put16(d, v);
}

static void put64(struct dg *d, uint64_t v)
{
	put32(d, v >> 32);
	put32(d, v);
}

static void putn(struct dg *d, const void *p, size_t n)
{
	memcpy(d->b + d->n, p, n);
	d->n += n;
}

static void ip4(struct dg *d, int a, int b, int c, int e)
{
	put8(d, a);
	put8(d, b);
	put8(d, c);
	put8(d, e);
}

/* 2001:db8:<net>::<host> */
static void ip6(struct dg *d, int net, int host)
{
	uint8_t a[16] = {0x20,	     0x01, 0x0d, 0xb8, net >> 8, net & 0xff, [14] = host >> 8,
			 host & 0xff};
	putn(d, a, 16);
}

static void set16(struct dg *d, size_t at, uint64_t v)
{
	d->b[at] = (uint8_t)(v >> 8);
	d->b[at + 1] = (uint8_t)v;
}

static void v9_hdr(struct dg *d, uint32_t uptime, uint32_t secs, uint32_t seq, uint32_t srcid)
{
	d->n = 0;
	put16(d, 9);
	put16(d, 0); /* count: not checked */
	put32(d, uptime);
	put32(d, secs);
	put32(d, seq);
	put32(d, srcid);
}

static void ipfix_hdr(struct dg *d, uint32_t export, uint32_t seq, uint32_t domain)
{
	d->n = 0;
	put16(d, 10);
	put16(d, 0); /* length: ipfix_end() */
	put32(d, export);
	put32(d, seq);
	put32(d, domain);
}

static void ipfix_end(struct dg *d)
{
	set16(d, 2, d->n);
}

static size_t set_begin(struct dg *d, uint16_t id)
{
	size_t at = d->n;

	put16(d, id);
	put16(d, 0);
	return at;
}

static void set_end(struct dg *d, size_t at)
{
	set16(d, at + 2, d->n - at);
}

/* A field specifier: information element id, length. */
struct fs {
	uint16_t type, len;
};

/* A template record: id, then n field specifiers from f. */
static void tmpl(struct dg *d, uint16_t id, const struct fs *f, int n)
{
	int i;

	put16(d, id);
	put16(d, n);
	for (i = 0; i < n; i++) {
		put16(d, f[i].type);
		put16(d, f[i].len);
	}
}

/* ---- what the decoder emitted ---- */

enum { MAXGOT = 512 };
static struct got {
	int n;
	struct obs o[MAXGOT];
	uint64_t first[MAXGOT], last[MAXGOT];
} g;

static void sink(void *arg, const struct obs *o, uint64_t first, uint64_t last)
{
	struct got *gg = arg;

	if (gg->n < MAXGOT) {
		gg->o[gg->n] = *o;
		gg->first[gg->n] = first;
		gg->last[gg->n] = last;
	}
	gg->n++;
}

static void seed_dump(const uint8_t *b, size_t n)
{
	static int seq;
	const char *dir = getenv("NETFLOW_SEEDS");
	char path[512];
	FILE *f;

	if (!dir)
		return;
	snprintf(path, sizeof(path), "%s/built-%03d.bin", dir, seq++);
	if ((f = fopen(path, "wb"))) {
		fwrite(b, 1, n, f);
		fclose(f);
	}
}

static int dec(struct exporter *ex, const struct dg *d, uint64_t now)
{
	g.n = 0;
	seed_dump(d->b, d->n);
	return netflow_decode(d->b, d->n, now, ex, sink, &g);
}

static const char *src(int i)
{
	static char buf[MADDR_STRLEN];
	return maddr_str(&g.o[i].src, buf);
}

static const char *dst(int i)
{
	static char buf[MADDR_STRLEN];
	return maddr_str(&g.o[i].dst, buf);
}

static void fresh(struct exporter *ex)
{
	exporter_release(ex);
	memset(ex, 0, sizeof(*ex));
}

/* ---- NetFlow v5 ---- */

struct v5rec {
	uint8_t src[4], dst[4];
	uint32_t pkts, octets, first, last;
	uint16_t sport, dport;
	uint8_t flags, proto;
};

/* Header: sysUptime 100000 ms at unix time 1700000000.5. */
static void v5_build(struct dg *d, const struct v5rec *r, int n, uint16_t count, uint32_t seq,
		     uint16_t sampling)
{
	int i;

	d->n = 0;
	put16(d, 5);
	put16(d, count);
	put32(d, 100000);
	put32(d, 1700000000);
	put32(d, 500000000);
	put32(d, seq);
	put8(d, 1); /* engine type */
	put8(d, 2); /* engine id */
	put16(d, sampling);
	for (i = 0; i < n; i++) {
		putn(d, r[i].src, 4);
		putn(d, r[i].dst, 4);
		put32(d, 0); /* nexthop */
		put32(d, 0); /* input, output ifindex */
		put32(d, r[i].pkts);
		put32(d, r[i].octets);
		put32(d, r[i].first);
		put32(d, r[i].last);
		put16(d, r[i].sport);
		put16(d, r[i].dport);
		put8(d, 0);
		put8(d, r[i].flags);
		put8(d, r[i].proto);
		put8(d, 0);  /* tos */
		put32(d, 0); /* src_as, dst_as */
		put32(d, 0); /* masks, pad */
	}
}

static const struct v5rec V5R[2] = {
    {{192, 0, 2, 1}, {198, 51, 100, 2}, 10, 4000, 90000, 99000, 1234, 80, 0x12, 6},
    /* ICMP echo request: Cisco puts type << 8 | code in the destination port */
    {{203, 0, 113, 7}, {198, 51, 100, 3}, 1, 84, 100000, 100000, 99, 0x0800, 0x02, 1},
};

static void test_v5(void)
{
	struct exporter ex = {0};
	struct dg d;

	/* mode 1, interval 100 */
	v5_build(&d, V5R, 2, 2, 1000, 0x4000 | 100);
	CHECK_EQ(dec(&ex, &d, S(5)), 2);
	CHECK_EQ(ex.v5_sampling, 100);
	CHECK_EQ(g.o[0].family, 4);
	CHECK_STR(src(0), "192.0.2.1");
	CHECK_STR(dst(0), "198.51.100.2");
	CHECK_EQ(g.o[0].proto, 6);
	CHECK_EQ(g.o[0].sport, 1234);
	CHECK_EQ(g.o[0].dport, 80);
	CHECK_EQ(g.o[0].tcp_flags, 0x12);
	CHECK_EQ(g.o[0].l4, 1);
	CHECK_EQ(g.o[0].packets, 1000); /* 10 x 100 */
	CHECK_EQ(g.o[0].bytes, 400000);
	CHECK_EQ(g.o[0].len, 400);
	/* first 90000 ms = 10 s before the header's uptime, last 1 s before */
	CHECK_EQ(g.first[0], S(1699999990) + 500000000);
	CHECK_EQ(g.last[0], S(1699999999) + 500000000);
	CHECK_EQ(g.o[0].ts_ns, g.last[0]);

	CHECK_STR(src(1), "203.0.113.7");
	CHECK_EQ(g.o[1].proto, 1);
	CHECK_EQ(g.o[1].dport, 0x0800);
	CHECK_EQ(g.o[1].sport, 0);
	CHECK_EQ(g.o[1].tcp_flags, 0); /* not TCP */
	CHECK_EQ(g.o[1].l4, 1);
	CHECK_EQ(g.o[1].packets, 100);
	CHECK_EQ(g.o[1].bytes, 8400);
	CHECK_EQ(g.first[1], S(1700000000) + 500000000);
	CHECK_EQ(g.last[1], g.first[1]);

	/* the config override beats the header */
	ex.sampling_override = 7;
	v5_build(&d, V5R, 2, 2, 1002, 0x4000 | 100);
	CHECK_EQ(dec(&ex, &d, S(6)), 2);
	CHECK_EQ(g.o[0].packets, 70);
	CHECK_EQ(g.o[0].bytes, 28000);
	CHECK_EQ(g.o[0].len, 400);

	/* mode 0 means unsampled whatever the interval; interval 1 too */
	ex.sampling_override = 0;
	v5_build(&d, V5R, 2, 2, 1004, 100);
	CHECK_EQ(dec(&ex, &d, S(7)), 2);
	CHECK_EQ(g.o[0].packets, 10);
	v5_build(&d, V5R, 2, 2, 1006, 0x8000 | 1);
	CHECK_EQ(dec(&ex, &d, S(8)), 2);
	CHECK_EQ(g.o[0].packets, 10);
	CHECK_EQ(ex.v5_sampling, 0);

	CHECK_EQ(ex.st.packets, 4);
	CHECK_EQ(ex.st.records, 8);
	CHECK_EQ(ex.st.errors, 0);
	CHECK_EQ(ex.st.seq_gaps, 0);
	CHECK_EQ(ex.st.last_seen_ns, S(8));
	CHECK(ex.tmpl == NULL); /* v5 never allocates */
}

static void test_v5_lies(void)
{
	struct exporter ex = {0};
	struct dg d;

	v5_build(&d, V5R, 2, 2, 1, 0);
	d.n--; /* one byte short of 24 + 2 * 48 */
	CHECK_EQ(dec(&ex, &d, 0), -1);
	v5_build(&d, V5R, 2, 3, 1, 0); /* count says 3, two records */
	CHECK_EQ(dec(&ex, &d, 0), -1);
	v5_build(&d, V5R, 0, 0, 1, 0); /* count 0 */
	CHECK_EQ(dec(&ex, &d, 0), -1);
	v5_build(&d, V5R, 2, 1, 1, 0); /* count 1, two records: longer than it says */
	CHECK_EQ(dec(&ex, &d, 0), -1);
	memset(d.b, 0, sizeof(d.b));
	d.b[1] = 5;
	d.b[3] = 31; /* count 31 > 30, with the length to match */
	d.n = 24 + 48 * 31;
	CHECK_EQ(dec(&ex, &d, 0), -1);
	d.n = 1; /* not even a version */
	CHECK_EQ(dec(&ex, &d, 0), -1);
	d.b[0] = 0;
	d.b[1] = 7; /* unknown version */
	d.n = 100;
	CHECK_EQ(dec(&ex, &d, 0), -1);
	CHECK_EQ(ex.st.errors, 7);
	CHECK_EQ(ex.st.packets, 0);
	CHECK_EQ(ex.st.records, 0);
}

/* ---- NetFlow v9 ---- */

/* 31-byte records: src, dst, sport, dport, proto, flags, octets, packets, first, last, ttl */
static const struct fs T9[] = {{8, 4}, {12, 4}, {7, 2},	 {11, 2}, {4, 1},  {6, 1},
			       {1, 4}, {2, 4},	{22, 4}, {21, 4}, {192, 1}};

static void t9_template(struct dg *d, uint16_t id)
{
	size_t at = set_begin(d, 0);

	tmpl(d, id, T9, 11);
	set_end(d, at);
}

static void t9_rec(struct dg *d, int host, uint16_t sport, uint16_t dport, uint8_t proto,
		   uint8_t flags, uint32_t octets, uint32_t pkts, uint32_t first, uint32_t last,
		   uint8_t ttl)
{
	ip4(d, 192, 0, 2, host);
	ip4(d, 198, 51, 100, 20);
	put16(d, sport);
	put16(d, dport);
	put8(d, proto);
	put8(d, flags);
	put32(d, octets);
	put32(d, pkts);
	put32(d, first);
	put32(d, last);
	put8(d, ttl);
}

/* Two records of T9 (header: uptime 50000 ms at 1700000100 s), then 3 bytes of padding. */
static void t9_data(struct dg *d, uint16_t id)
{
	size_t at = set_begin(d, id);

	t9_rec(d, 10, 40000, 53, 17, 0, 1000, 10, 45000, 49000, 57);
	t9_rec(d, 11, 5555, 443, 6, 0x02, 120, 2, 49999, 50000, 250);
	put8(d, 0);
	put16(d, 0);
	set_end(d, at);
}

static void test_v9_basic(void)
{
	struct exporter ex = {0};
	struct dg d;

	v9_hdr(&d, 50000, 1700000100, 1, 7);
	t9_template(&d, 256);
	t9_data(&d, 256);
	CHECK_EQ(dec(&ex, &d, S(1)), 2);
	CHECK_EQ(ex.st.templates, 1);
	CHECK_EQ(ex.n_tmpl, 1);
	CHECK_EQ(ex.tmpl[0].min_len, 31);
	CHECK_EQ(ex.tmpl[0].domain, 7);
	CHECK_STR(src(0), "192.0.2.10");
	CHECK_STR(dst(0), "198.51.100.20");
	CHECK_EQ(g.o[0].proto, 17);
	CHECK_EQ(g.o[0].sport, 40000);
	CHECK_EQ(g.o[0].dport, 53);
	CHECK_EQ(g.o[0].l4, 1);
	CHECK_EQ(g.o[0].ttl, 57);
	CHECK_EQ(g.o[0].packets, 10);
	CHECK_EQ(g.o[0].bytes, 1000);
	CHECK_EQ(g.o[0].len, 100);
	CHECK_EQ(g.first[0], S(1700000095)); /* 5 s before the header's uptime */
	CHECK_EQ(g.last[0], S(1700000099));
	CHECK_EQ(g.o[0].ts_ns, S(1700000099));
	CHECK_EQ(g.o[1].proto, 6);
	CHECK_EQ(g.o[1].tcp_flags, 0x02);
	CHECK_EQ(g.o[1].len, 60);
	CHECK_EQ(g.o[1].ttl, 250);
	CHECK_EQ(g.first[1], S(1700000100) - MS(1));
	CHECK_EQ(g.last[1], S(1700000100));
	CHECK_EQ(ex.st.records, 2);
	CHECK_EQ(ex.st.packets, 1);
	CHECK_EQ(ex.st.errors, 0);
	CHECK_EQ(ex.st.ignored, 0);
	fresh(&ex);
}

/* v9 headers give whole seconds: the exporter's boot time is the largest unix_secs - sysUptime
 * seen, so records are placed to the millisecond once a datagram was sent near a second's start. */
static void test_v9_clock(void)
{
	struct exporter ex = {0};
	struct dg d;
	size_t at;

	/* true boot 1700000000.000; exports at 100.500 s, 100.900 s, 101.000 s of uptime */
	v9_hdr(&d, 100500, 1700000100, 1, 7); /* estimate 1699999999.500 */
	t9_template(&d, 256);
	at = set_begin(&d, 256);
	t9_rec(&d, 10, 1, 2, 17, 0, 100, 1, 100400, 100400, 64);
	set_end(&d, at);
	CHECK_EQ(dec(&ex, &d, S(1)), 1);
	CHECK_EQ(g.last[0], S(1700000099) + MS(900)); /* 0.5 s early: all we know yet */
	v9_hdr(&d, 100900, 1700000100, 2, 7);	      /* estimate ...99.100: lower, not taken */
	at = set_begin(&d, 256);
	t9_rec(&d, 10, 1, 2, 17, 0, 100, 1, 100800, 100800, 64);
	set_end(&d, at);
	CHECK_EQ(dec(&ex, &d, S(1)), 1);
	CHECK_EQ(g.last[0], S(1700000100) + MS(300)); /* still the 0.5 s of the first */
	v9_hdr(&d, 101000, 1700000101, 3, 7);	      /* estimate ...00.000: the true boot */
	at = set_begin(&d, 256);
	t9_rec(&d, 10, 1, 2, 17, 0, 100, 1, 100950, 100950, 64);
	set_end(&d, at);
	CHECK_EQ(dec(&ex, &d, S(1)), 1);
	CHECK_EQ(g.last[0], S(1700000100) + MS(950)); /* exact */
	CHECK_EQ(ex.boot_ms, 1700000000000LL);
	/* a reboot: uptime starts over, the estimate jumps far: taken at once */
	v9_hdr(&d, 5000, 1700000200, 4, 7);
	at = set_begin(&d, 256);
	t9_rec(&d, 10, 1, 2, 17, 0, 100, 1, 4000, 4000, 64);
	set_end(&d, at);
	CHECK_EQ(dec(&ex, &d, S(1)), 1);
	CHECK_EQ(g.last[0], S(1700000199));
	fresh(&ex);
}

static void test_v9_no_template(void)
{
	struct exporter ex = {0};
	struct dg d;

	/* a router after a restart: data first */
	v9_hdr(&d, 50000, 1700000100, 1, 7);
	t9_data(&d, 256);
	CHECK_EQ(dec(&ex, &d, S(1)), 0);
	CHECK_EQ(ex.st.no_template, 1);
	CHECK_EQ(ex.st.errors, 0);
	CHECK_EQ(ex.st.packets, 1);
	CHECK(ex.tmpl == NULL);

	/* a template for another source id does not serve source id 7 */
	v9_hdr(&d, 50000, 1700000100, 2, 8);
	t9_template(&d, 256);
	CHECK_EQ(dec(&ex, &d, S(2)), 0);
	v9_hdr(&d, 50000, 1700000100, 2, 7);
	t9_data(&d, 256);
	CHECK_EQ(dec(&ex, &d, S(2)), 0);
	CHECK_EQ(ex.st.no_template, 2);

	v9_hdr(&d, 50000, 1700000100, 3, 7);
	t9_template(&d, 256);
	CHECK_EQ(dec(&ex, &d, S(3)), 0);
	CHECK_EQ(ex.st.templates, 2);
	v9_hdr(&d, 50000, 1700000100, 4, 7);
	t9_data(&d, 256);
	CHECK_EQ(dec(&ex, &d, S(4)), 2);
	CHECK_EQ(ex.st.no_template, 2);
	CHECK_EQ(ex.st.records, 2);
	CHECK_EQ(ex.st.seq_gaps, 0);
	fresh(&ex);
}

static void test_v9_ipv6(void)
{
	/* 55-byte records: src6, dst6, sport, dport, proto, octets (8), packets (8), icmp6 */
	static const struct fs T[] = {{27, 16}, {28, 16}, {7, 2}, {11, 2},
				      {4, 1},	{1, 8},	  {2, 8}, {139, 2}};
	struct exporter ex = {0};
	struct dg d;
	size_t at;

	v9_hdr(&d, 1000, 1700000200, 1, 1);
	at = set_begin(&d, 0);
	tmpl(&d, 300, T, 8);
	set_end(&d, at);
	at = set_begin(&d, 300);
	ip6(&d, 0, 1);
	ip6(&d, 5, 2);
	put16(&d, 443);
	put16(&d, 51000);
	put8(&d, 6);
	put64(&d, 3000);
	put64(&d, 2);
	put16(&d, 0);
	ip6(&d, 0, 3);
	ip6(&d, 5, 2);
	put16(&d, 0);
	put16(&d, 0);
	put8(&d, 58);
	put64(&d, 104);
	put64(&d, 1);
	put16(&d, 128 << 8); /* echo request */
	set_end(&d, at);
	CHECK_EQ(dec(&ex, &d, S(1)), 2);
	CHECK_EQ(g.o[0].family, 6);
	CHECK_STR(src(0), "2001:db8::1");
	CHECK_STR(dst(0), "2001:db8:5::2");
	CHECK_EQ(g.o[0].sport, 443);
	CHECK_EQ(g.o[0].dport, 51000);
	CHECK_EQ(g.o[0].len, 1500);
	/* no time fields: the export time */
	CHECK_EQ(g.first[0], S(1700000200));
	CHECK_EQ(g.last[0], S(1700000200));
	CHECK_EQ(g.o[1].family, 6);
	CHECK_EQ(g.o[1].proto, 58);
	CHECK_EQ(g.o[1].sport, 0);
	CHECK_EQ(g.o[1].dport, 128 << 8);
	CHECK_EQ(g.o[1].l4, 1);
	CHECK_EQ(g.o[1].len, 104);
	fresh(&ex);
}

/* 18-byte records: src, dst, proto, octets, packets, FLOW_SAMPLER_ID (1 byte) */
static const struct fs T9S[] = {{8, 4}, {12, 4}, {4, 1}, {1, 4}, {2, 4}, {48, 1}};

static void t9s_rec(struct dg *d, uint32_t octets, uint32_t pkts, uint8_t sampler)
{
	ip4(d, 192, 0, 2, 1);
	ip4(d, 198, 51, 100, 1);
	put8(d, 17);
	put32(d, octets);
	put32(d, pkts);
	put8(d, sampler);
}

static void test_v9_sampler(void)
{
	/* T9S plus its own SAMPLING_INTERVAL: 22-byte records */
	static const struct fs TOWN[] = {{8, 4}, {12, 4}, {4, 1}, {1, 4}, {2, 4}, {48, 1}, {34, 4}};
	struct exporter ex = {0};
	struct dg d;
	size_t at;

	v9_hdr(&d, 1000, 1700000200, 10, 1);
	/* options template 257: scope System (4 bytes); FLOW_SAMPLER_ID (1), FLOW_SAMPLER_MODE (1),
	 * FLOW_SAMPLER_RANDOM_INTERVAL (4): 10-byte records */
	at = set_begin(&d, 1);
	put16(&d, 257);
	put16(&d, 4);
	put16(&d, 12);
	put16(&d, 1);
	put16(&d, 4);
	put16(&d, 48);
	put16(&d, 1);
	put16(&d, 49);
	put16(&d, 1);
	put16(&d, 50);
	put16(&d, 4);
	put16(&d, 0); /* padding to 4 bytes */
	set_end(&d, at);
	at = set_begin(&d, 0);
	tmpl(&d, 258, T9S, 6);
	tmpl(&d, 260, TOWN, 7);
	set_end(&d, at);
	at = set_begin(&d, 257);
	put32(&d, 0);
	put8(&d, 3);
	put8(&d, 2);
	put32(&d, 50); /* sampler 3: 1 in 50 */
	put32(&d, 0);
	put8(&d, 4);
	put8(&d, 2);
	put32(&d, 1000); /* sampler 4: 1 in 1000 */
	put16(&d, 0);
	set_end(&d, at);
	at = set_begin(&d, 258);
	t9s_rec(&d, 100, 1, 3);
	t9s_rec(&d, 200, 2, 4);
	t9s_rec(&d, 300, 3, 9); /* unknown sampler: exporter default, none yet: 1 */
	set_end(&d, at);
	at = set_begin(&d, 260);
	t9s_rec(&d, 100, 1, 3);
	put32(&d, 5); /* its own interval beats sampler 3's */
	set_end(&d, at);
	CHECK_EQ(dec(&ex, &d, S(1)), 4);
	CHECK_EQ(ex.st.templates, 3);
	CHECK_EQ(ex.n_samplers, 2);
	CHECK_EQ(ex.samplers[0].id, 3);
	CHECK_EQ(ex.samplers[0].rate, 50);
	CHECK_EQ(ex.samplers[0].domain, 1);
	CHECK_EQ(ex.samplers[1].rate, 1000);
	CHECK_EQ(g.o[0].packets, 50);
	CHECK_EQ(g.o[0].bytes, 5000);
	CHECK_EQ(g.o[0].len, 100);
	CHECK_EQ(g.o[1].packets, 2000);
	CHECK_EQ(g.o[1].bytes, 200000);
	CHECK_EQ(g.o[2].packets, 3);
	CHECK_EQ(g.o[3].packets, 5);
	CHECK_EQ(ex.st.ignored, 0);

	/* options template 259, scope System: SAMPLING_INTERVAL (4), SAMPLING_ALGORITHM (1): the
	 * exporter default, used by records whose sampler is unknown */
	v9_hdr(&d, 1000, 1700000200, 11, 1);
	at = set_begin(&d, 1);
	put16(&d, 259);
	put16(&d, 4);
	put16(&d, 8);
	put16(&d, 1);
	put16(&d, 4);
	put16(&d, 34);
	put16(&d, 4);
	put16(&d, 35);
	put16(&d, 1);
	put16(&d, 0);
	set_end(&d, at);
	at = set_begin(&d, 259);
	put32(&d, 0);
	put32(&d, 20);
	put8(&d, 1);
	set_end(&d, at);
	at = set_begin(&d, 258);
	t9s_rec(&d, 300, 3, 9);
	t9s_rec(&d, 100, 1, 3);
	set_end(&d, at);
	CHECK_EQ(dec(&ex, &d, S(2)), 2);
	CHECK_EQ(ex.default_sampling, 20);
	CHECK_EQ(g.o[0].packets, 60);
	CHECK_EQ(g.o[1].packets, 50);

	/* the config beats everything */
	ex.sampling_override = 3;
	v9_hdr(&d, 1000, 1700000200, 12, 1);
	at = set_begin(&d, 260);
	t9s_rec(&d, 100, 1, 3);
	put32(&d, 5);
	set_end(&d, at);
	CHECK_EQ(dec(&ex, &d, S(3)), 1);
	CHECK_EQ(g.o[0].packets, 3);
	CHECK_EQ(ex.st.errors, 0);
	CHECK_EQ(ex.st.seq_gaps, 0);
	fresh(&ex);
}

/* ---- IPFIX ---- */

static void test_ipfix_encodings(void)
{
	struct exporter ex = {0};
	struct dg d;
	size_t at;
	int i;

	ipfix_hdr(&d, 1700000300, 0, 42);
	at = set_begin(&d, 2);
	put16(&d, 300);
	put16(&d, 12);
	put16(&d, 8);
	put16(&d, 4);
	put16(&d, 12);
	put16(&d, 4);
	put16(&d, 4);
	put16(&d, 1);
	put16(&d, 7);
	put16(&d, 2);
	put16(&d, 11);
	put16(&d, 2);
	put16(&d, 0x8000 | 100); /* enterprise element 100 of PEN 9, 4 bytes */
	put16(&d, 4);
	put32(&d, 9);
	put16(&d, 82); /* interfaceName, variable length */
	put16(&d, 65535);
	put16(&d, 1); /* octetDeltaCount in 2 bytes instead of 8 */
	put16(&d, 2);
	put16(&d, 2); /* packetDeltaCount in 1 byte */
	put16(&d, 1);
	put16(&d, 0x8000 | 1); /* reverse octetDeltaCount (PEN 29305), variable length */
	put16(&d, 65535);
	put32(&d, 29305);
	put16(&d, 152); /* flowStartMilliseconds */
	put16(&d, 8);
	put16(&d, 153);
	put16(&d, 8);
	set_end(&d, at);

	at = set_begin(&d, 300);
	ip4(&d, 198, 51, 100, 7);
	ip4(&d, 203, 0, 113, 9);
	put8(&d, 17);
	put16(&d, 123);
	put16(&d, 4444);
	put32(&d, 0xdeadbeef);
	put8(&d, 3);
	putn(&d, "eth", 3);
	put16(&d, 1500);
	put8(&d, 3);
	put8(&d, 0); /* empty variable-length field */
	put64(&d, 1700000290123ull);
	put64(&d, 1700000299456ull);

	ip4(&d, 192, 0, 2, 5);
	ip4(&d, 198, 51, 100, 7);
	put8(&d, 6);
	put16(&d, 80);
	put16(&d, 1025);
	put32(&d, 0);
	put8(&d, 255); /* long form: 255, then 2 bytes of length */
	put16(&d, 256);
	for (i = 0; i < 256; i++)
		put8(&d, 'x');
	put16(&d, 40);
	put8(&d, 1);
	put8(&d, 2);
	put16(&d, 0xabcd);
	put64(&d, 1700000295000ull);
	put64(&d, 1700000295000ull);
	put16(&d, 0); /* padding, shorter than the 38-byte minimum record */
	set_end(&d, at);
	ipfix_end(&d);

	CHECK_EQ(dec(&ex, &d, S(1)), 2);
	CHECK_EQ(ex.st.templates, 1);
	CHECK_EQ(ex.tmpl[0].n_fields, 12);
	CHECK_EQ(ex.tmpl[0].domain, 42);
	CHECK_EQ(ex.tmpl[0].min_len, 38); /* 4+4+1+2+2+4+1+2+1+1+8+8 */
	CHECK_EQ(ex.tmpl[0].f[5].type, 100);
	CHECK_EQ(ex.tmpl[0].f[5].pen, 9);
	CHECK_EQ(ex.tmpl[0].f[9].type, 1);
	CHECK_EQ(ex.tmpl[0].f[9].pen, 29305);
	CHECK_EQ(ex.tmpl[0].f[9].len, 65535);
	CHECK_STR(src(0), "198.51.100.7");
	CHECK_STR(dst(0), "203.0.113.9");
	CHECK_EQ(g.o[0].sport, 123);
	CHECK_EQ(g.o[0].dport, 4444);
	CHECK_EQ(g.o[0].packets, 3);
	CHECK_EQ(g.o[0].bytes, 1500);
	CHECK_EQ(g.o[0].len, 500);
	CHECK_EQ(g.first[0], MS(1700000290123ull));
	CHECK_EQ(g.last[0], MS(1700000299456ull));
	CHECK_STR(src(1), "192.0.2.5");
	CHECK_EQ(g.o[1].proto, 6);
	CHECK_EQ(g.o[1].dport, 1025);
	CHECK_EQ(g.o[1].packets, 1);
	CHECK_EQ(g.o[1].bytes, 40);
	CHECK_EQ(g.first[1], MS(1700000295000ull));
	CHECK_EQ(g.last[1], g.first[1]);
	CHECK_EQ(ex.st.errors, 0);
	CHECK_EQ(ex.seq_next, 2); /* IPFIX counts data records */
	fresh(&ex);
}

static void test_ipfix_times(void)
{
	/* src, dst, packets(4), octets(4), then NTP nanoseconds start/end: 32-byte records */
	static const struct fs TNTP[] = {{8, 4}, {12, 4}, {2, 4}, {1, 4}, {156, 8}, {157, 8}};
	/* ... flowEndSeconds only: 20 bytes */
	static const struct fs TEND[] = {{8, 4}, {12, 4}, {2, 4}, {1, 4}, {151, 4}};
	/* ... flowStart/EndSysUpTime: 24 bytes */
	static const struct fs TUP[] = {{8, 4}, {12, 4}, {2, 4}, {1, 4}, {22, 4}, {21, 4}};
	/* ... flowStart/EndDeltaMicroseconds: 24 bytes */
	static const struct fs TDELTA[] = {{8, 4}, {12, 4}, {2, 4}, {1, 4}, {158, 4}, {159, 4}};
	struct exporter ex = {0};
	struct dg d;
	size_t at;

	ipfix_hdr(&d, 1700000500, 0, 9);
	at = set_begin(&d, 2);
	tmpl(&d, 500, TNTP, 6);
	tmpl(&d, 501, TEND, 5);
	tmpl(&d, 502, TUP, 6);
	tmpl(&d, 503, TDELTA, 6);
	set_end(&d, at);
	at = set_begin(&d, 500);
	ip4(&d, 192, 0, 2, 1);
	ip4(&d, 198, 51, 100, 1);
	put32(&d, 1);
	put32(&d, 100);
	put32(&d, 1700000000ull + 2208988800ull); /* NTP seconds */
	put32(&d, 0);
	put32(&d, 1700000001ull + 2208988800ull);
	put32(&d, 0x80000000u); /* + 0.5 s */
	set_end(&d, at);
	at = set_begin(&d, 501);
	ip4(&d, 192, 0, 2, 1);
	ip4(&d, 198, 51, 100, 1);
	put32(&d, 1);
	put32(&d, 100);
	put32(&d, 1700000400);
	set_end(&d, at);
	at = set_begin(&d, 502); /* sysUpTime, but no systemInitTimeMilliseconds yet */
	ip4(&d, 192, 0, 2, 1);
	ip4(&d, 198, 51, 100, 1);
	put32(&d, 1);
	put32(&d, 100);
	put32(&d, 1000);
	put32(&d, 2000);
	set_end(&d, at);
	at = set_begin(&d, 503);
	ip4(&d, 192, 0, 2, 1);
	ip4(&d, 198, 51, 100, 1);
	put32(&d, 1);
	put32(&d, 100);
	put32(&d, 3000000); /* started 3 s before the export */
	put32(&d, 500000);
	set_end(&d, at);
	ipfix_end(&d);
	CHECK_EQ(dec(&ex, &d, S(1)), 4);
	CHECK_EQ(g.first[0], S(1700000000));
	CHECK_EQ(g.last[0], S(1700000001) + 500000000);
	CHECK_EQ(g.first[1], S(1700000400)); /* only an end: both */
	CHECK_EQ(g.last[1], S(1700000400));
	CHECK_EQ(g.first[2], S(1700000500)); /* init time unknown: export time */
	CHECK_EQ(g.last[2], S(1700000500));
	CHECK_EQ(g.first[3], S(1700000497));
	CHECK_EQ(g.last[3], S(1700000499) + 500000000);
	CHECK_EQ(ex.seq_next, 4);

	/* options template 510, scope observationDomainId: systemInitTimeMilliseconds */
	ipfix_hdr(&d, 1700000500, 4, 9);
	at = set_begin(&d, 3);
	put16(&d, 510);
	put16(&d, 2);
	put16(&d, 1);
	put16(&d, 149);
	put16(&d, 4);
	put16(&d, 160);
	put16(&d, 8);
	put16(&d, 0); /* padding */
	set_end(&d, at);
	at = set_begin(&d, 510);
	put32(&d, 9);
	put64(&d, 1700000000000ull);
	set_end(&d, at);
	at = set_begin(&d, 502);
	ip4(&d, 192, 0, 2, 1);
	ip4(&d, 198, 51, 100, 1);
	put32(&d, 1);
	put32(&d, 100);
	put32(&d, 1000);
	put32(&d, 2500);
	set_end(&d, at);
	ipfix_end(&d);
	CHECK_EQ(dec(&ex, &d, S(2)), 1);
	CHECK_EQ(g.first[0], S(1700000001));
	CHECK_EQ(g.last[0], S(1700000002) + 500000000);
	CHECK_EQ(ex.st.ignored, 0);
	CHECK_EQ(ex.st.errors, 0);
	CHECK_EQ(ex.seq_next, 6); /* one options record, one data record */
	CHECK_EQ(ex.st.seq_gaps, 0);
	fresh(&ex);
}

static void test_ipfix_l3l4(void)
{
	/* src, dst, proto, sport, dport, packets, octets, ipTTL, fragmentOffset, fragmentFlags,
	 * icmpTypeIPv4, icmpCodeIPv4, tcpControlBits (2 bytes): 28-byte records */
	static const struct fs T[] = {{8, 4},	{12, 4},  {4, 1},   {7, 2},  {11, 2},
				      {2, 4},	{1, 4},	  {192, 1}, {88, 2}, {197, 1},
				      {176, 1}, {177, 1}, {6, 2}};
	static const struct {
		uint8_t proto;
		uint16_t sport, dport, frag_off;
		uint8_t frag_flags, icmp_type, icmp_code;
		uint16_t tcp_flags;
	} R[] = {
	    {17, 4000, 53, 0, 0x40, 0, 0, 0},	/* DF: not a fragment */
	    {17, 4000, 53, 0, 0x20, 0, 0, 0},	/* MF, offset 0: first fragment */
	    {17, 4000, 53, 185, 0x00, 0, 0, 0}, /* offset > 0: later, no ports */
	    {6, 1, 2, 0, 0, 0, 0, 0x0112},	/* NS bit above the 8 we keep */
	    {1, 7, 9, 0, 0, 3, 4, 0x02},	/* ICMP unreachable/frag needed */
	    {47, 7, 9, 0, 0, 0, 0, 0x02},	/* GRE: no ports, no flags */
	};
	struct exporter ex = {0};
	struct dg d;
	size_t at, i;

	ipfix_hdr(&d, 1700000600, 0, 1);
	at = set_begin(&d, 2);
	tmpl(&d, 600, T, 13);
	set_end(&d, at);
	at = set_begin(&d, 600);
	for (i = 0; i < sizeof(R) / sizeof(R[0]); i++) {
		ip4(&d, 192, 0, 2, 1);
		ip4(&d, 198, 51, 100, 1);
		put8(&d, R[i].proto);
		put16(&d, R[i].sport);
		put16(&d, R[i].dport);
		put32(&d, 2);
		put32(&d, 3000);
		put8(&d, 60 + i);
		put16(&d, R[i].frag_off);
		put8(&d, R[i].frag_flags);
		put8(&d, R[i].icmp_type);
		put8(&d, R[i].icmp_code);
		put16(&d, R[i].tcp_flags);
	}
	set_end(&d, at);
	ipfix_end(&d);
	CHECK_EQ(dec(&ex, &d, S(1)), 6);
	CHECK_EQ(g.o[0].frag, OBS_FRAG_NONE);
	CHECK_EQ(g.o[0].ttl, 60);
	CHECK_EQ(g.o[0].dport, 53);
	CHECK_EQ(g.o[1].frag, OBS_FRAG_FIRST);
	CHECK_EQ(g.o[1].dport, 53);
	CHECK_EQ(g.o[1].l4, 1);
	CHECK_EQ(g.o[2].frag, OBS_FRAG_LATER);
	CHECK_EQ(g.o[2].sport, 0);
	CHECK_EQ(g.o[2].dport, 0);
	CHECK_EQ(g.o[2].l4, 0);
	CHECK_EQ(g.o[2].ttl, 62);
	CHECK_EQ(g.o[3].tcp_flags, 0x12);
	CHECK_EQ(g.o[3].sport, 1);
	CHECK_EQ(g.o[4].proto, 1);
	CHECK_EQ(g.o[4].dport, 3 << 8 | 4);
	CHECK_EQ(g.o[4].sport, 0);
	CHECK_EQ(g.o[4].tcp_flags, 0);
	CHECK_EQ(g.o[4].l4, 1);
	CHECK_EQ(g.o[5].sport, 0);
	CHECK_EQ(g.o[5].dport, 0);
	CHECK_EQ(g.o[5].tcp_flags, 0);
	CHECK_EQ(g.o[5].l4, 0);
	CHECK_EQ(g.o[5].len, 1500);
	fresh(&ex);
}

static void test_ipfix_selector(void)
{
	/* src, dst, proto, octets, packets, selectorId (4 bytes): 21-byte records */
	static const struct fs T[] = {{8, 4}, {12, 4}, {4, 1}, {1, 4}, {2, 4}, {302, 4}};
	struct exporter ex = {0};
	struct dg d;
	size_t at;

	ipfix_hdr(&d, 1700000400, 0, 5);
	at = set_begin(&d, 3);
	/* 400: scope selectorId (8); samplingPacketInterval, samplingPacketSpace, selectorAlgorithm
	 */
	put16(&d, 400);
	put16(&d, 4);
	put16(&d, 1);
	put16(&d, 302);
	put16(&d, 8);
	put16(&d, 305);
	put16(&d, 4);
	put16(&d, 306);
	put16(&d, 4);
	put16(&d, 304);
	put16(&d, 2);
	/* 401: scope selectorId (4); samplingSize, samplingPopulation */
	put16(&d, 401);
	put16(&d, 3);
	put16(&d, 1);
	put16(&d, 302);
	put16(&d, 4);
	put16(&d, 309);
	put16(&d, 4);
	put16(&d, 310);
	put16(&d, 4);
	set_end(&d, at);
	at = set_begin(&d, 2);
	tmpl(&d, 402, T, 6);
	set_end(&d, at);
	at = set_begin(&d, 400);
	put64(&d, 5);
	put32(&d, 1);
	put32(&d, 99); /* 1 selected, 99 skipped: 1 in 100 */
	put16(&d, 1);
	put16(&d, 0);
	set_end(&d, at);
	at = set_begin(&d, 401);
	put32(&d, 6);
	put32(&d, 1);
	put32(&d, 64); /* 1 out of 64 */
	set_end(&d, at);
	at = set_begin(&d, 402);
	ip4(&d, 192, 0, 2, 1);
	ip4(&d, 198, 51, 100, 1);
	put8(&d, 17);
	put32(&d, 100);
	put32(&d, 1);
	put32(&d, 5);
	ip4(&d, 192, 0, 2, 2);
	ip4(&d, 198, 51, 100, 1);
	put8(&d, 17);
	put32(&d, 200);
	put32(&d, 2);
	put32(&d, 6);
	ip4(&d, 192, 0, 2, 3);
	ip4(&d, 198, 51, 100, 1);
	put8(&d, 17);
	put32(&d, 200);
	put32(&d, 2);
	put32(&d, 77); /* unknown selector, no default: unsampled */
	set_end(&d, at);
	ipfix_end(&d);
	CHECK_EQ(dec(&ex, &d, S(1)), 3);
	CHECK_EQ(ex.st.templates, 3);
	CHECK_EQ(ex.n_samplers, 2);
	CHECK_EQ(ex.samplers[0].rate, 100);
	CHECK_EQ(ex.samplers[1].rate, 64);
	CHECK_EQ(ex.samplers[1].domain, 5);
	CHECK_EQ(g.o[0].packets, 100);
	CHECK_EQ(g.o[0].bytes, 10000);
	CHECK_EQ(g.o[1].packets, 128);
	CHECK_EQ(g.o[1].bytes, 12800);
	CHECK_EQ(g.o[1].len, 100);
	CHECK_EQ(g.o[2].packets, 2);
	CHECK_EQ(ex.st.errors, 0);
	fresh(&ex);
}

/* A tiny IPFIX template: src, dst, packets (12-byte records). */
static const struct fs TSMALL[] = {{8, 4}, {12, 4}, {2, 4}};

static void small_rec(struct dg *d, uint32_t pkts)
{
	ip4(d, 192, 0, 2, 1);
	ip4(d, 198, 51, 100, 1);
	put32(d, pkts);
}

static void test_ipfix_misc(void)
{
	/* both families (the unused one zero), packet/octetTotalCount in 3 and 5 bytes, min/max
	 * TTL, proto, flowStartSeconds, flowEndMicroseconds: 60-byte records */
	static const struct fs TMIX[] = {{8, 4},  {12, 4}, {27, 16}, {28, 16}, {86, 3}, {85, 5},
					 {52, 1}, {53, 1}, {4, 1},   {150, 4}, {155, 8}};
	/* no addresses at all */
	static const struct fs TNOADDR[] = {{2, 4}, {1, 4}};
	/* only a start, and the record's own systemInitTimeMilliseconds with sysUpTime times */
	static const struct fs TSTART[] = {{8, 4}, {12, 4}, {2, 4}, {150, 4}};
	static const struct fs TOWNINIT[] = {{8, 4}, {12, 4}, {2, 4}, {160, 8}, {22, 4}, {21, 4}};
	static const struct fs TSEL[] = {{8, 4}, {12, 4}, {2, 4}, {302, 4}};
	struct exporter ex = {0};
	struct dg d;
	size_t at;
	int i;

	ipfix_hdr(&d, 1700000800, 0, 2);
	at = set_begin(&d, 2);
	tmpl(&d, 800, TMIX, 11);
	tmpl(&d, 801, TNOADDR, 2);
	tmpl(&d, 802, TSTART, 4);
	tmpl(&d, 803, TOWNINIT, 6);
	tmpl(&d, 804, TSEL, 4);
	put32(&d, 0); /* zero padding after the last template */
	set_end(&d, at);
	at = set_begin(&d, 3);
	/* 810: scope selectorId; samplingProbability as float64. 811: as float32 */
	put16(&d, 810);
	put16(&d, 2);
	put16(&d, 1);
	put16(&d, 302);
	put16(&d, 4);
	put16(&d, 311);
	put16(&d, 8);
	put16(&d, 811);
	put16(&d, 2);
	put16(&d, 1);
	put16(&d, 302);
	put16(&d, 4);
	put16(&d, 311);
	put16(&d, 4);
	/* 812: scope observationDomainId; interfaceName: nothing we use */
	put16(&d, 812);
	put16(&d, 2);
	put16(&d, 1);
	put16(&d, 149);
	put16(&d, 4);
	put16(&d, 82);
	put16(&d, 65535);
	/* 813: scope selectorId; samplingPacketInterval */
	put16(&d, 813);
	put16(&d, 2);
	put16(&d, 1);
	put16(&d, 302);
	put16(&d, 4);
	put16(&d, 305);
	put16(&d, 4);
	set_end(&d, at);
	at = set_begin(&d, 4); /* reserved set id */
	put32(&d, 0);
	set_end(&d, at);
	ipfix_end(&d);
	CHECK_EQ(dec(&ex, &d, S(1)), 0);
	CHECK_EQ(ex.st.templates, 9);
	CHECK_EQ(ex.st.ignored, 1);
	CHECK_EQ(ex.st.errors, 0);

	ipfix_hdr(&d, 1700000800, 0, 2);
	at = set_begin(&d, 810);
	put32(&d, 8);
	put64(&d, 0x3f847ae147ae147bull); /* 0.01 as float64: 1 in 100 */
	put32(&d, 9);
	put64(&d, 0x4000000000000000ull); /* 2.0: not a probability, unsampled */
	set_end(&d, at);
	at = set_begin(&d, 811);
	put32(&d, 10);
	put32(&d, 0x3f000000u); /* 0.5 as float32: 1 in 2 */
	set_end(&d, at);
	at = set_begin(&d, 812);
	put32(&d, 2);
	put8(&d, 4);
	putn(&d, "eth0", 4);
	set_end(&d, at);
	at = set_begin(&d, 800);
	ip4(&d, 192, 0, 2, 1);
	ip4(&d, 198, 51, 100, 1);
	ip6(&d, 0, 0);
	ip6(&d, 0, 0);
	put8(&d, 0);
	put16(&d, 3);
	put8(&d, 0);
	put32(&d, 300);
	put8(&d, 30);
	put8(&d, 40);
	put8(&d, 1); /* ICMP without type or code: no L4 information */
	put32(&d, 1700000000);
	put32(&d, 1700000001ull + 2208988800ull);
	put32(&d, 0x400007ffu); /* 0.25 s; the low 11 bits are not microseconds */
	ip4(&d, 0, 0, 0, 0);
	ip4(&d, 0, 0, 0, 0);
	ip6(&d, 0, 1);
	ip6(&d, 5, 2);
	put8(&d, 0);
	put16(&d, 1);
	put8(&d, 0);
	put32(&d, 60);
	put8(&d, 30);
	put8(&d, 40);
	put8(&d, 6);
	put32(&d, 1700000000);
	put32(&d, 1700000001ull + 2208988800ull);
	put32(&d, 0);
	set_end(&d, at);
	at = set_begin(&d, 801);
	put32(&d, 1);
	put32(&d, 100);
	set_end(&d, at);
	at = set_begin(&d, 802);
	small_rec(&d, 0); /* no packets */
	put32(&d, 1700000000);
	small_rec(&d, 1);
	put32(&d, 1700000700);
	set_end(&d, at);
	at = set_begin(&d, 803);
	small_rec(&d, 1);
	put64(&d, 1600000000000ull);
	put32(&d, 1000);
	put32(&d, 2000);
	set_end(&d, at);
	at = set_begin(&d, 804);
	small_rec(&d, 1);
	put32(&d, 8);
	small_rec(&d, 1);
	put32(&d, 9);
	small_rec(&d, 1);
	put32(&d, 10);
	set_end(&d, at);
	ipfix_end(&d);
	CHECK_EQ(dec(&ex, &d, S(2)), 7);
	/* the reserved set; interfaceName only; no addresses; no packets */
	CHECK_EQ(ex.st.ignored, 4);
	CHECK_EQ(g.o[0].family, 4);
	CHECK_STR(src(0), "192.0.2.1");
	CHECK_EQ(g.o[0].packets, 3);
	CHECK_EQ(g.o[0].len, 100);
	CHECK_EQ(g.o[0].ttl, 30);
	CHECK_EQ(g.o[0].l4, 0);
	CHECK_EQ(g.o[0].dport, 0);
	CHECK_EQ(g.first[0], S(1700000000));
	CHECK_EQ(g.last[0], S(1700000001) + 250000000);
	CHECK_EQ(g.o[1].family, 6);
	CHECK_STR(src(1), "2001:db8::1");
	CHECK_EQ(g.o[1].len, 60);
	CHECK_EQ(g.first[2], S(1700000700)); /* a start only: both */
	CHECK_EQ(g.last[2], S(1700000700));
	CHECK_EQ(g.first[3], S(1600000001));
	CHECK_EQ(g.last[3], S(1600000002));
	CHECK_EQ(g.o[4].packets, 100);
	CHECK_EQ(g.o[5].packets, 1);
	CHECK_EQ(g.o[6].packets, 2);
	CHECK_EQ(ex.n_samplers, 3);

	/* a re-announced selector changes its rate in place */
	ipfix_hdr(&d, 1700000800, 0, 2);
	at = set_begin(&d, 810);
	put32(&d, 8);
	put64(&d, 0x3fb999999999999aull); /* 0.1 */
	set_end(&d, at);
	at = set_begin(&d, 804);
	small_rec(&d, 1);
	put32(&d, 8);
	set_end(&d, at);
	ipfix_end(&d);
	CHECK_EQ(dec(&ex, &d, S(3)), 1);
	CHECK_EQ(g.o[0].packets, 10);
	CHECK_EQ(ex.n_samplers, 3);

	/* the sampler table is bounded: announcements past it are ignored */
	ipfix_hdr(&d, 1700000800, 0, 2);
	at = set_begin(&d, 813);
	for (i = 0; i < FLOW_MAX_SAMPLERS; i++) {
		put32(&d, 100 + i);
		put32(&d, 7);
	}
	set_end(&d, at);
	ipfix_end(&d);
	CHECK_EQ(dec(&ex, &d, S(4)), 0);
	CHECK_EQ(ex.n_samplers, FLOW_MAX_SAMPLERS);
	CHECK_EQ(ex.st.ignored, 4 + 3);
	CHECK_EQ(ex.st.errors, 0);
	fresh(&ex);
}

static void test_v9_options_bad(void)
{
	struct exporter ex = {0};
	struct dg d;
	size_t at;

	v9_hdr(&d, 0, 1700000100, 1, 7);
	at = set_begin(&d, 1);
	put16(&d, 256);
	put16(&d, 2); /* scope length not a multiple of 4 */
	put16(&d, 4);
	put16(&d, 1);
	put16(&d, 2);
	put16(&d, 34);
	put16(&d, 4);
	set_end(&d, at);
	at = set_begin(&d, 1);
	put16(&d, 200); /* template id < 256 */
	put16(&d, 4);
	put16(&d, 4);
	put16(&d, 1);
	put16(&d, 4);
	put16(&d, 34);
	put16(&d, 4);
	set_end(&d, at);
	at = set_begin(&d, 1);
	put16(&d, 257);
	put16(&d, 4);
	put16(&d, 8); /* two option fields announced, one there */
	put16(&d, 1);
	put16(&d, 4);
	put16(&d, 34);
	put16(&d, 4);
	set_end(&d, at);
	at = set_begin(&d, 1);
	put16(&d, 258);
	put16(&d, 4);
	put16(&d, 4);
	put16(&d, 1);
	put16(&d, 4);
	put16(&d, 34);
	put16(&d, 4);
	put32(&d, 0); /* 6 bytes of zero padding */
	put16(&d, 0);
	set_end(&d, at);
	at = set_begin(&d, 100); /* reserved FlowSet id */
	set_end(&d, at);
	CHECK_EQ(dec(&ex, &d, S(1)), 0);
	CHECK_EQ(ex.st.errors, 3);
	CHECK_EQ(ex.st.templates, 1);
	CHECK_EQ(ex.st.ignored, 1);

	/* variable-length fields whose length bytes are cut by the set end. 400: packets (1 byte),
	 * interfaceName; 401: two interfaceNames. Both: records of at least 2 bytes */
	fresh(&ex);
	ipfix_hdr(&d, 1700000100, 0, 1);
	at = set_begin(&d, 2);
	put16(&d, 400);
	put16(&d, 2);
	put16(&d, 2);
	put16(&d, 1);
	put16(&d, 82);
	put16(&d, 65535);
	put16(&d, 401);
	put16(&d, 2);
	put16(&d, 82);
	put16(&d, 65535);
	put16(&d, 82);
	put16(&d, 65535);
	set_end(&d, at);
	at = set_begin(&d, 400);
	put8(&d, 1);
	put8(&d, 255); /* long form, one length byte of two */
	put8(&d, 0);
	set_end(&d, at);
	at = set_begin(&d, 401);
	put8(&d, 1);
	put8(&d, 'x'); /* no room left for the second field's length byte */
	set_end(&d, at);
	at = set_begin(&d, 400);
	put8(&d, 1);
	put8(&d, 1);
	put8(&d, 'x');
	put8(&d, 1); /* shorter than a record: padding */
	set_end(&d, at);
	ipfix_end(&d);
	CHECK_EQ(dec(&ex, &d, S(1)), 0);
	CHECK_EQ(ex.st.errors, 2);
	CHECK_EQ(ex.st.ignored, 1); /* the whole record: no addresses */
	fresh(&ex);
}

static void test_ipfix_withdrawal(void)
{
	struct exporter ex = {0};
	struct dg d;
	size_t at;

	ipfix_hdr(&d, 1700000700, 0, 3);
	at = set_begin(&d, 2);
	tmpl(&d, 700, TSMALL, 3);
	tmpl(&d, 701, TSMALL, 3);
	set_end(&d, at);
	at = set_begin(&d, 3);
	put16(&d, 702);
	put16(&d, 2);
	put16(&d, 1);
	put16(&d, 149);
	put16(&d, 4);
	put16(&d, 34);
	put16(&d, 4);
	put16(&d, 0);
	set_end(&d, at);
	ipfix_end(&d);
	CHECK_EQ(dec(&ex, &d, S(1)), 0);
	CHECK_EQ(ex.n_tmpl, 3);

	/* withdraw 700: its data is no longer understood, 701 still is */
	ipfix_hdr(&d, 1700000700, 0, 3);
	at = set_begin(&d, 2);
	put16(&d, 700);
	put16(&d, 0);
	set_end(&d, at);
	at = set_begin(&d, 700);
	small_rec(&d, 1);
	set_end(&d, at);
	at = set_begin(&d, 701);
	small_rec(&d, 1);
	set_end(&d, at);
	ipfix_end(&d);
	CHECK_EQ(dec(&ex, &d, S(2)), 1);
	CHECK_EQ(ex.n_tmpl, 2);
	CHECK_EQ(ex.st.no_template, 1);

	/* template id 2 in set 2: every (non-options) template of the domain */
	ipfix_hdr(&d, 1700000700, 0, 3);
	at = set_begin(&d, 2);
	put16(&d, 2);
	put16(&d, 0);
	set_end(&d, at);
	ipfix_end(&d);
	CHECK_EQ(dec(&ex, &d, S(3)), 0);
	CHECK_EQ(ex.n_tmpl, 1);
	CHECK_EQ(ex.tmpl[0].id, 702);
	CHECK_EQ(ex.tmpl[0].options, 1);

	/* id 3 in set 3: every options template */
	ipfix_hdr(&d, 1700000700, 0, 3);
	at = set_begin(&d, 3);
	put16(&d, 3);
	put16(&d, 0);
	set_end(&d, at);
	ipfix_end(&d);
	CHECK_EQ(dec(&ex, &d, S(4)), 0);
	CHECK_EQ(ex.n_tmpl, 0);
	CHECK_EQ(ex.st.errors, 0);

	/* withdrawing id 5 is meaningless */
	ipfix_hdr(&d, 1700000700, 0, 3);
	at = set_begin(&d, 2);
	put16(&d, 5);
	put16(&d, 0);
	set_end(&d, at);
	ipfix_end(&d);
	CHECK_EQ(dec(&ex, &d, S(5)), 0);
	CHECK_EQ(ex.st.errors, 1);
	fresh(&ex);
}

static void test_template_ttl(void)
{
	/* same key, different definition: src, dst, packets, octets (2 bytes) */
	static const struct fs T2[] = {{8, 4}, {12, 4}, {2, 4}, {1, 2}};
	const uint64_t t0 = S(1000000);
	struct exporter ex = {0};
	struct dg d;
	size_t at;

	v9_hdr(&d, 50000, 1700000100, 1, 7);
	t9_template(&d, 256);
	CHECK_EQ(dec(&ex, &d, t0), 0);
	v9_hdr(&d, 50000, 1700000100, 2, 7);
	t9_data(&d, 256);
	CHECK_EQ(dec(&ex, &d, t0 + TTL_NS), 2); /* exactly the TTL: still live */

	v9_hdr(&d, 50000, 1700000100, 3, 7);
	t9_template(&d, 256); /* refresh */
	CHECK_EQ(dec(&ex, &d, t0 + S(1000)), 0);
	CHECK_EQ(ex.st.templates, 2);
	CHECK_EQ(ex.n_tmpl, 1);
	v9_hdr(&d, 50000, 1700000100, 4, 7);
	t9_data(&d, 256);
	CHECK_EQ(dec(&ex, &d, t0 + S(1000) + TTL_NS), 2);
	v9_hdr(&d, 50000, 1700000100, 5, 7);
	t9_data(&d, 256);
	CHECK_EQ(dec(&ex, &d, t0 + S(1000) + TTL_NS + 1), 0); /* aged out */
	CHECK_EQ(ex.st.no_template, 1);
	CHECK_EQ(ex.n_tmpl, 0);

	/* a re-sent template may change its definition */
	v9_hdr(&d, 50000, 1700000100, 6, 7);
	t9_template(&d, 256);
	at = set_begin(&d, 0);
	tmpl(&d, 256, T2, 4);
	set_end(&d, at);
	at = set_begin(&d, 256);
	ip4(&d, 192, 0, 2, 1);
	ip4(&d, 198, 51, 100, 1);
	put32(&d, 4);
	put16(&d, 400);
	set_end(&d, at);
	CHECK_EQ(dec(&ex, &d, t0 + S(5000)), 1);
	CHECK_EQ(ex.n_tmpl, 1);
	CHECK_EQ(ex.tmpl[0].n_fields, 4);
	CHECK_EQ(g.o[0].len, 100);
	fresh(&ex);
}

static void test_template_flood(void)
{
	static const struct fs T1[] = {{8, 4}};
	struct exporter ex = {0};
	struct dg d;
	size_t at;
	int i;

	v9_hdr(&d, 0, 1700000100, 1, 7);
	at = set_begin(&d, 0);
	for (i = 0; i < 300; i++)
		tmpl(&d, 256 + i, T1, 1);
	set_end(&d, at);
	CHECK_EQ(dec(&ex, &d, S(10)), 0);
	CHECK_EQ(ex.n_tmpl, FLOW_MAX_TEMPLATES);
	CHECK_EQ(ex.st.templates, FLOW_MAX_TEMPLATES);
	CHECK_EQ(ex.st.template_full, 300 - FLOW_MAX_TEMPLATES);
	CHECK_EQ(ex.st.errors, 0);

	/* refreshing a stored one still works when full */
	v9_hdr(&d, 0, 1700000100, 2, 7);
	at = set_begin(&d, 0);
	tmpl(&d, 256, T1, 1);
	tmpl(&d, 2000, T1, 1);
	set_end(&d, at);
	CHECK_EQ(dec(&ex, &d, S(20)), 0);
	CHECK_EQ(ex.st.templates, FLOW_MAX_TEMPLATES + 1);
	CHECK_EQ(ex.st.template_full, 300 - FLOW_MAX_TEMPLATES + 1);

	/* once the flood has aged out there is room again; 256, refreshed at 20 s, stays */
	v9_hdr(&d, 0, 1700000100, 3, 7);
	at = set_begin(&d, 0);
	tmpl(&d, 2000, T1, 1);
	set_end(&d, at);
	CHECK_EQ(dec(&ex, &d, S(15) + TTL_NS), 0);
	CHECK_EQ(ex.n_tmpl, 2);
	CHECK_EQ(ex.st.template_full, 300 - FLOW_MAX_TEMPLATES + 1);
	fresh(&ex);
}

static void test_bad_templates(void)
{
	static const struct fs BAD_ADDR[] = {{8, 3}, {12, 4}}; /* IPv4 address in 3 bytes */
	static const struct fs BAD_ZERO[] = {{8, 4}, {1, 0}};  /* octetDeltaCount in 0 bytes */
	static const struct fs BAD_INT9[] = {{8, 4}, {2, 9}};  /* a 9-byte integer */
	static const struct fs BAD_EMPTY[] = {{999, 0}};       /* records of 0 bytes */
	/* an unknown zero-length field is harmless: skipped */
	static const struct fs OK_ZERO[] = {{8, 4}, {999, 0}, {2, 4}};
	static const struct fs V9_VAR[] = {{8, 4}, {82, 65535}}; /* v9 has no variable length */
	static const struct fs IPFIX_VAR_INT[] = {{8, 4}, {2, 65535}};
	static const struct fs LOW_ID[] = {{8, 4}};
	struct exporter ex = {0};
	struct fs many[FLOW_MAX_TEMPLATE_FIELDS + 1];
	struct dg d;
	size_t at;
	int i;

	for (i = 0; i < FLOW_MAX_TEMPLATE_FIELDS + 1; i++) {
		many[i].type = 999;
		many[i].len = 1;
	}
	v9_hdr(&d, 0, 1700000100, 1, 7);
	at = set_begin(&d, 0);
	tmpl(&d, 256, BAD_ADDR, 2);
	set_end(&d, at);
	at = set_begin(&d, 0);
	tmpl(&d, 257, BAD_ZERO, 2);
	set_end(&d, at);
	at = set_begin(&d, 0);
	tmpl(&d, 258, BAD_INT9, 2);
	set_end(&d, at);
	at = set_begin(&d, 0);
	tmpl(&d, 259, BAD_EMPTY, 1);
	set_end(&d, at);
	at = set_begin(&d, 0);
	tmpl(&d, 260, V9_VAR, 2);
	set_end(&d, at);
	at = set_begin(&d, 0);
	tmpl(&d, 261, many, FLOW_MAX_TEMPLATE_FIELDS + 1);
	set_end(&d, at);
	at = set_begin(&d, 0);
	tmpl(&d, 255, LOW_ID, 1);
	set_end(&d, at);
	at = set_begin(&d, 0);
	put16(&d, 262);
	put16(&d, 0); /* v9: no withdrawal, zero fields is malformed */
	set_end(&d, at);
	at = set_begin(&d, 0); /* and a good one after all that */
	tmpl(&d, 263, OK_ZERO, 3);
	set_end(&d, at);
	at = set_begin(&d, 263);
	ip4(&d, 192, 0, 2, 1);
	ip4(&d, 198, 51, 100, 1);
	put32(&d, 1);
	set_end(&d, at);
	CHECK_EQ(dec(&ex, &d, S(1)), 1);
	CHECK_EQ(ex.st.errors, 8);
	CHECK_EQ(ex.st.templates, 1);
	CHECK_EQ(ex.n_tmpl, 1);
	CHECK_EQ(ex.tmpl[0].min_len, 8);

	/* IPFIX: an integer cannot be variable-length; an options template needs a scope */
	ipfix_hdr(&d, 1700000100, 0, 7);
	at = set_begin(&d, 2);
	tmpl(&d, 300, IPFIX_VAR_INT, 2);
	set_end(&d, at);
	at = set_begin(&d, 3);
	put16(&d, 301);
	put16(&d, 1);
	put16(&d, 0);
	put16(&d, 34);
	put16(&d, 4);
	put16(&d, 0);
	set_end(&d, at);
	at = set_begin(&d, 3);
	put16(&d, 302);
	put16(&d, 1);
	put16(&d, 2); /* 2 scope fields out of 1 */
	put16(&d, 34);
	put16(&d, 4);
	put16(&d, 0);
	set_end(&d, at);
	at = set_begin(&d, 2); /* enterprise bit, PEN cut off by the set end */
	put16(&d, 303);
	put16(&d, 1);
	put16(&d, 0x8000 | 5);
	put16(&d, 4);
	put16(&d, 0);
	set_end(&d, at);
	ipfix_end(&d);
	CHECK_EQ(dec(&ex, &d, S(1)), 0);
	CHECK_EQ(ex.st.errors, 12);
	CHECK_EQ(ex.n_tmpl, 1);
	fresh(&ex);
}

static void test_lying_lengths(void)
{
	struct exporter ex = {0};
	struct dg d;
	size_t at;

	/* set length past the datagram: counted, the walk stops */
	v9_hdr(&d, 50000, 1700000100, 1, 7);
	t9_template(&d, 256);
	at = d.n;
	t9_data(&d, 256);
	set16(&d, at + 2, d.n - at + 1);
	CHECK_EQ(dec(&ex, &d, S(1)), 0);
	CHECK_EQ(ex.st.errors, 1);
	CHECK_EQ(ex.st.packets, 1);
	CHECK_EQ(ex.st.templates, 1); /* the set before it was fine */

	/* zero set length */
	v9_hdr(&d, 50000, 1700000100, 2, 7);
	at = d.n;
	t9_data(&d, 256);
	set16(&d, at + 2, 0);
	CHECK_EQ(dec(&ex, &d, S(1)), 0);
	CHECK_EQ(ex.st.errors, 2);

	/* a malformed set (template id 5) does not stop the next one */
	v9_hdr(&d, 50000, 1700000100, 3, 7);
	at = set_begin(&d, 0);
	tmpl(&d, 5, T9, 11);
	set_end(&d, at);
	t9_data(&d, 256);
	CHECK_EQ(dec(&ex, &d, S(1)), 2);
	CHECK_EQ(ex.st.errors, 3);

	/* a data set too short for one record of its template (31 bytes) */
	v9_hdr(&d, 50000, 1700000100, 4, 7);
	at = set_begin(&d, 256);
	put32(&d, 0);
	put32(&d, 0);
	set_end(&d, at);
	CHECK_EQ(dec(&ex, &d, S(1)), 0);
	CHECK_EQ(ex.st.errors, 4);

	/* IPFIX: a variable-length field claiming more than the set holds */
	fresh(&ex);
	ipfix_hdr(&d, 1700000100, 0, 1);
	at = set_begin(&d, 2);
	put16(&d, 400);
	put16(&d, 2);
	put16(&d, 82);
	put16(&d, 65535);
	put16(&d, 2);
	put16(&d, 4);
	set_end(&d, at);
	at = set_begin(&d, 400);
	put8(&d, 200); /* 200 bytes follow, says the length byte */
	put32(&d, 1);
	set_end(&d, at);
	at = set_begin(&d, 2);
	tmpl(&d, 401, TSMALL, 3);
	set_end(&d, at);
	at = set_begin(&d, 401);
	small_rec(&d, 1);
	set_end(&d, at);
	ipfix_end(&d);
	CHECK_EQ(dec(&ex, &d, S(1)), 1);
	CHECK_EQ(ex.st.errors, 1);
	CHECK_EQ(ex.st.templates, 2);

	/* IPFIX header length that is not the datagram's */
	set16(&d, 2, d.n - 1);
	CHECK_EQ(dec(&ex, &d, S(1)), -1);
	set16(&d, 2, d.n + 1);
	CHECK_EQ(dec(&ex, &d, S(1)), -1);
	CHECK_EQ(ex.st.errors, 3);
	CHECK_EQ(ex.st.packets, 1);
	/* trailing bytes that are not a set */
	ipfix_hdr(&d, 1700000100, 0, 1);
	put16(&d, 0);
	ipfix_end(&d);
	CHECK_EQ(dec(&ex, &d, S(1)), 0);
	CHECK_EQ(ex.st.errors, 4);
	/* v9: cut inside the header */
	v9_hdr(&d, 0, 0, 0, 0);
	d.n = 19;
	CHECK_EQ(dec(&ex, &d, S(1)), -1);
	CHECK_EQ(ex.st.errors, 5);
	fresh(&ex);
}

/* Decodes every prefix of b as its own datagram, in a buffer of exactly that size so ASan sees
 * any read past it. IPFIX prefixes get their header length patched so the sets are walked. */
static void truncations(const uint8_t *b, size_t n, int full)
{
	struct exporter ex = {0};
	size_t len;
	uint8_t *p;
	int rc;

	for (len = 0; len < n; len++) {
		p = malloc(len ? len : 1);
		memcpy(p, b, len);
		if (len >= 4 && p[1] == 10) {
			p[2] = (uint8_t)(len >> 8);
			p[3] = (uint8_t)len;
		}
		g.n = 0;
		rc = netflow_decode(p, len, S(1), &ex, sink, &g);
		CHECK(rc >= -1 && rc <= full);
		CHECK_EQ(g.n, rc < 0 ? 0 : rc);
		CHECK_EQ(ex.st.records, rc < 0 ? 0 : rc);
		CHECK_EQ(ex.st.packets + (rc < 0), 1);
		CHECK(rc >= 0 || ex.st.errors == 1);
		CHECK(ex.n_tmpl <= 2);
		free(p);
		fresh(&ex);
	}
}

static void test_truncations(void)
{
	struct dg d;
	size_t at;

	v5_build(&d, V5R, 2, 2, 1, 0);
	truncations(d.b, d.n, 0);

	v9_hdr(&d, 50000, 1700000100, 1, 7);
	t9_template(&d, 256);
	t9_data(&d, 256);
	truncations(d.b, d.n, 2);

	/* 400: a variable-length field, an enterprise one in 2 bytes, then TSMALL's: records of at
	 * least 15 bytes */
	ipfix_hdr(&d, 1700000100, 0, 1);
	at = set_begin(&d, 2);
	put16(&d, 400);
	put16(&d, 5);
	put16(&d, 82);
	put16(&d, 65535);
	put16(&d, 0x8000 | 7);
	put16(&d, 2);
	put32(&d, 9);
	put16(&d, 8);
	put16(&d, 4);
	put16(&d, 12);
	put16(&d, 4);
	put16(&d, 2);
	put16(&d, 4);
	set_end(&d, at);
	at = set_begin(&d, 400);
	put8(&d, 2);
	put16(&d, 0x6565);
	put16(&d, 1);
	small_rec(&d, 5);
	put8(&d, 255);
	put16(&d, 1);
	put8(&d, 0x65);
	put16(&d, 1);
	small_rec(&d, 6);
	set_end(&d, at);
	ipfix_end(&d);
	truncations(d.b, d.n, 2);
	{ /* the whole of it decodes */
		struct exporter ex = {0};

		CHECK_EQ(dec(&ex, &d, S(1)), 2);
		CHECK_EQ(g.o[1].packets, 6);
		fresh(&ex);
	}
}

static void test_absurd_sampling(void)
{
	/* src, dst, packets, samplingInterval: 16-byte records */
	static const struct fs T[] = {{8, 4}, {12, 4}, {2, 4}, {34, 4}};
	struct exporter ex = {0};
	struct dg d;
	size_t at;

	v9_hdr(&d, 0, 1700000100, 1, 7);
	at = set_begin(&d, 0);
	tmpl(&d, 256, T, 4);
	set_end(&d, at);
	at = set_begin(&d, 256);
	small_rec(&d, 2);
	put32(&d, FLOW_MAX_SAMPLING + 1);
	small_rec(&d, 2);
	put32(&d, FLOW_MAX_SAMPLING);
	small_rec(&d, 2);
	put32(&d, 0); /* 0: unsampled */
	set_end(&d, at);
	CHECK_EQ(dec(&ex, &d, S(1)), 2);
	CHECK_EQ(ex.st.bad_sampling, 1);
	CHECK_EQ(g.o[0].packets, 2ull * FLOW_MAX_SAMPLING);
	CHECK_EQ(g.o[1].packets, 2);

	/* an absurd override drops everything, v5 included */
	ex.sampling_override = FLOW_MAX_SAMPLING + 1;
	CHECK_EQ(dec(&ex, &d, S(2)), 0);
	CHECK_EQ(ex.st.bad_sampling, 4);
	v5_build(&d, V5R, 2, 2, 1, 0);
	CHECK_EQ(dec(&ex, &d, S(3)), 0);
	CHECK_EQ(ex.st.bad_sampling, 6);
	fresh(&ex);
}

static void test_sequence(void)
{
	struct exporter ex = {0};
	struct dg d;
	size_t at;
	int i;

	/* v5 counts flows: 1000 + 2 -> 1002 expected */
	v5_build(&d, V5R, 2, 2, 1000, 0);
	dec(&ex, &d, S(1));
	v5_build(&d, V5R, 2, 2, 1005, 0);
	dec(&ex, &d, S(1));
	CHECK_EQ(ex.st.seq_gaps, 3);
	v5_build(&d, V5R, 2, 2, 10, 0); /* restart: silent */
	dec(&ex, &d, S(1));
	v5_build(&d, V5R, 2, 2, 12, 0);
	dec(&ex, &d, S(1));
	CHECK_EQ(ex.st.seq_gaps, 3);
	d.b[21] = 3; /* another engine id: re-seed */
	set16(&d, 18, 500);
	dec(&ex, &d, S(1));
	CHECK_EQ(ex.st.seq_gaps, 3);
	CHECK_EQ(ex.seq_domain, 1 << 8 | 3);
	fresh(&ex);

	/* v9 counts datagrams, per source id */
	for (i = 0; i < 6; i++) {
		static const uint32_t seq[] = {1, 2, 5, 3, 4, 100}, srcid[] = {1, 1, 1, 1, 1, 2};

		v9_hdr(&d, 0, 1700000100, seq[i], srcid[i]);
		t9_template(&d, 256);
		dec(&ex, &d, S(1));
	}
	CHECK_EQ(ex.st.seq_gaps, 2); /* 3 and 4 lost; then a restart; then another source id */
	v9_hdr(&d, 0, 1700000100, 103, 2);
	dec(&ex, &d, S(1));
	CHECK_EQ(ex.st.seq_gaps, 4);
	v9_hdr(&d, 0, 0xffffffffu, 0xffffffffu, 2); /* wraps */
	dec(&ex, &d, S(1));
	v9_hdr(&d, 0, 0, 0, 2);
	dec(&ex, &d, S(1));
	CHECK_EQ(ex.seq_next, 1);
	fresh(&ex);

	/* IPFIX counts data records, per observation domain */
	ipfix_hdr(&d, 1700000100, 0, 4);
	at = set_begin(&d, 2);
	tmpl(&d, 256, TSMALL, 3);
	set_end(&d, at);
	at = set_begin(&d, 256);
	small_rec(&d, 1);
	small_rec(&d, 1);
	set_end(&d, at);
	ipfix_end(&d);
	CHECK_EQ(dec(&ex, &d, S(1)), 2);
	CHECK_EQ(ex.seq_next, 2);
	for (i = 0; i < 3; i++) {
		static const uint32_t seq[] = {2, 9, 3};
		static const int n[] = {3, 1, 1};
		int k;

		ipfix_hdr(&d, 1700000100, seq[i], 4);
		at = set_begin(&d, 256);
		for (k = 0; k < n[i]; k++)
			small_rec(&d, 1);
		set_end(&d, at);
		ipfix_end(&d);
		dec(&ex, &d, S(1));
	}
	CHECK_EQ(ex.st.seq_gaps, 4); /* expected 5, got 9; then 3 is a restart */
	CHECK_EQ(ex.seq_next, 4);
	/* softflowd numbers a message by the records up to and including it: after 3, a message
	 * of 3 records is 6, then 2 records 8, then 1 record 9; 20 after that is 10 lost (the RFC
	 * expects 10, softflowd 10) */
	for (i = 0; i < 4; i++) {
		static const uint32_t seq[] = {6, 8, 9, 20};
		static const int n[] = {3, 2, 1, 1};
		int k;

		ipfix_hdr(&d, 1700000100, seq[i], 4);
		at = set_begin(&d, 256);
		for (k = 0; k < n[i]; k++)
			small_rec(&d, 1);
		set_end(&d, at);
		ipfix_end(&d);
		dec(&ex, &d, S(1));
		if (i == 2)
			CHECK_EQ(ex.st.seq_gaps, 4);
	}
	CHECK_EQ(ex.st.seq_gaps, 4 + 10);
	CHECK_EQ(ex.seq_next, 21);
	/* a data set without a template cannot be counted: the next datagram re-seeds */
	ipfix_hdr(&d, 1700000100, 4, 4);
	at = set_begin(&d, 999);
	put32(&d, 0);
	set_end(&d, at);
	ipfix_end(&d);
	dec(&ex, &d, S(1));
	CHECK_EQ(ex.seq_valid, 0);
	ipfix_hdr(&d, 1700000100, 50, 4);
	ipfix_end(&d);
	dec(&ex, &d, S(1));
	CHECK_EQ(ex.st.seq_gaps, 14);
	CHECK_EQ(ex.seq_next, 50);
	fresh(&ex);
}

/* ---- real exporter output ---- */

static size_t load(const char *path, uint8_t *b, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		fprintf(stderr, "cannot open %s (run from the repo root)\n", path);
		return 0;
	}
	n = fread(b, 1, cap, f);
	fclose(f);
	return n;
}

/* 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 or 2001:db8::/32 */
static int test_net(const struct maddr *a, int family)
{
	static const uint8_t nets[3][3] = {{192, 0, 2}, {198, 51, 100}, {203, 0, 113}};
	static const uint8_t v6[4] = {0x20, 0x01, 0x0d, 0xb8};
	int i;

	if (family == 6)
		return !maddr_is_v4(a) && memcmp(a->b, v6, 4) == 0;
	for (i = 0; i < 3; i++)
		if (maddr_is_v4(a) && memcmp(a->b + 12, nets[i], 3) == 0)
			return 1;
	return 0;
}

/* Decodes one softflowd datagram (softflowd -a: flow times are the pcap's, from 1700000000 s,
 * 3 s long; a v9 header has whole seconds only, so v9 times may come out up to 1 s early).
 * Checks the record counts (tallied independently from the file with a few lines of python)
 * and that every record is plausible. Returns the total packets. */
static uint64_t softflowd(struct exporter *ex, const char *name, int v4, int v6)
{
	static uint8_t b[65536];
	char path[256];
	uint64_t pk = 0;
	int i, n4 = 0, n6 = 0;
	size_t n;

	snprintf(path, sizeof(path), "tests/fuzz/corpus/netflow/%s", name);
	n = load(path, b, sizeof(b));
	CHECK(n > 0);
	g.n = 0;
	CHECK_EQ(netflow_decode(b, n, S(1), ex, sink, &g), v4 + v6);
	for (i = 0; i < g.n && i < MAXGOT; i++) {
		n4 += g.o[i].family == 4;
		n6 += g.o[i].family == 6;
		CHECK(test_net(&g.o[i].src, g.o[i].family));
		CHECK(test_net(&g.o[i].dst, g.o[i].family));
		CHECK(g.first[i] >= S(1700000000) - (b[1] == 9 ? S(1) : 0));
		CHECK(g.first[i] <= g.last[i]);
		CHECK(g.last[i] < S(1700000004));
		CHECK(g.o[i].packets > 0 && g.o[i].bytes >= 28 * g.o[i].packets);
		CHECK(g.o[i].len >= 28 && g.o[i].len <= 1500);
		pk += g.o[i].packets;
	}
	CHECK_EQ(n4, v4);
	CHECK_EQ(n6, v6);
	CHECK_EQ(ex->st.errors, 0);
	CHECK_EQ(ex->st.no_template, 0);
	return pk;
}

static void test_softflowd(void)
{
	struct exporter ex = {0};

	CHECK_EQ(softflowd(&ex, "softflowd-v5.bin", 29, 0), 30);
	fresh(&ex);
	/* v9: 4 templates and an options template (interface scope, SAMPLING_INTERVAL 1) */
	CHECK_EQ(softflowd(&ex, "softflowd-v9.bin", 22, 2), 25);
	CHECK_EQ(ex.st.templates, 5);
	CHECK_EQ(ex.st.ignored, 0);
	fresh(&ex);
	/* IPFIX: times are flowStart/EndSysUpTime, placed by the options' systemInitTime */
	CHECK_EQ(softflowd(&ex, "softflowd-v10.bin", 20, 2), 23);
	CHECK_EQ(ex.st.templates, 5);
	fresh(&ex);
	/* softflowd -s 10: 23 sampled packets stand for 230 */
	CHECK_EQ(softflowd(&ex, "softflowd-v9-s10.bin", 22, 1), 230);
	CHECK_EQ(ex.default_sampling, 10);
	fresh(&ex);
	CHECK_EQ(softflowd(&ex, "softflowd-v10-s10.bin", 22, 1), 230);
	CHECK_EQ(ex.default_sampling, 10); /* samplingPacketInterval 1, space 9 */
	fresh(&ex);
}

int main(void)
{
	test_v5();
	test_v5_lies();
	test_v9_basic();
	test_v9_clock();
	test_v9_no_template();
	test_v9_ipv6();
	test_v9_sampler();
	test_ipfix_encodings();
	test_ipfix_times();
	test_ipfix_l3l4();
	test_ipfix_selector();
	test_ipfix_misc();
	test_v9_options_bad();
	test_ipfix_withdrawal();
	test_template_ttl();
	test_template_flood();
	test_bad_templates();
	test_lying_lengths();
	test_truncations();
	test_absurd_sampling();
	test_sequence();
	test_softflowd();
	return t_done("test_netflow");
}
