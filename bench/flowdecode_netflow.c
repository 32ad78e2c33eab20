/* flowdecode_netflow: how many NetFlow v9 and IPFIX flow records one core turns into obs per
 * second.
 *
 * The exporter is a router under load: the templates are sent once (one for IPv4 and one for
 * IPv6 records, 20 fields each, what a Cisco-style v9 or an IPFIX exporter sends by default),
 * then data datagrams of 28 records (v9: 22 IPv4 + 6 IPv6) or 24 records (IPFIX: 18 + 6, with
 * 8-byte counters and millisecond timestamps), in two data sets each. 64 different datagrams
 * with random addresses, ports, protocols and counts are decoded round robin, so the branch
 * predictor does not learn one datagram. Each format runs 5 times for about a second (the run
 * time in seconds can be given as the first argument) with an emit that only sums; the median
 * run is printed.
 *
 * Output: "netflow v9: N records/s per core" and "ipfix: N records/s per core", each followed
 * by the datagram size and the time per record.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flow/flow.h"

enum {
	N_DGRAMS = 64,
	RUNS = 5,
	V9_N4 = 22,
	V9_N6 = 6,
	IPFIX_N4 = 18,
	IPFIX_N6 = 6,
};

struct buf {
	uint8_t b[4096];
	uint32_t n;
};

/* A field specifier: information element id, length. */
struct fs {
	uint16_t type, len;
};

/* IPv4: bytes, packets, proto, tos, flags, sport, src, src mask, in ifindex, dport, dst, dst
 * mask, out ifindex, next hop, src AS, dst AS, last, first, direction, TTL (v9 lengths). */
static const struct fs V9_T4[] = {{1, 4},  {2, 4},  {4, 1},  {5, 1},  {6, 1},  {7, 2},	{8, 4},
				  {9, 1},  {10, 2}, {11, 2}, {12, 4}, {13, 1}, {14, 2}, {15, 4},
				  {16, 2}, {17, 2}, {21, 4}, {22, 4}, {61, 1}, {192, 1}};
static const struct fs V9_T6[] = {{1, 4},  {2, 4},  {4, 1},  {5, 1},   {6, 1},	{7, 2},	 {27, 16},
				  {29, 1}, {10, 2}, {11, 2}, {28, 16}, {30, 1}, {14, 2}, {62, 16},
				  {16, 2}, {17, 2}, {21, 4}, {22, 4},  {61, 1}, {192, 1}};
/* IPFIX: 8-byte counters, 4-byte ifindex and AS numbers, flowStart/EndMilliseconds. */
static const struct fs IX_T4[] = {{1, 8},  {2, 8},  {4, 1},   {5, 1},	{6, 1},	 {7, 2},  {8, 4},
				  {9, 1},  {10, 4}, {11, 2},  {12, 4},	{13, 1}, {14, 4}, {15, 4},
				  {16, 4}, {17, 4}, {152, 8}, {153, 8}, {61, 1}, {192, 1}};
static const struct fs IX_T6[] = {{1, 8},  {2, 8},  {4, 1},   {5, 1},	{6, 1},	 {7, 2},  {27, 16},
				  {29, 1}, {10, 4}, {11, 2},  {28, 16}, {30, 1}, {14, 4}, {62, 16},
				  {16, 4}, {17, 4}, {152, 8}, {153, 8}, {61, 1}, {192, 1}};

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

static void put(struct buf *d, uint64_t v, unsigned len)
{
	while (len--)
		d->b[d->n++] = (uint8_t)(v >> (8 * len));
}

static void set16(struct buf *d, uint32_t at, uint32_t v)
{
	d->b[at] = (uint8_t)(v >> 8);
	d->b[at + 1] = (uint8_t)v;
}

static void template_set(struct buf *d, uint16_t set_id, uint16_t id, const struct fs *f, int n)
{
	uint32_t at = d->n;
	int i;

	put(d, set_id, 2);
	put(d, 0, 2);
	put(d, id, 2);
	put(d, n, 2);
	for (i = 0; i < n; i++) {
		put(d, f[i].type, 2);
		put(d, f[i].len, 2);
	}
	set16(d, at + 2, d->n - at);
}

/* One record of template f with random but plausible values. */
static void record(struct buf *d, const struct fs *f, int n, uint64_t ms)
{
	static const uint8_t protos[] = {6, 6, 6, 17, 17, 1};
	uint8_t proto = protos[rnd() % sizeof(protos)];
	uint32_t pk = 1 + rnd() % 100;
	int i, k;

	for (i = 0; i < n; i++) {
		switch (f[i].type) {
		case 1:
			put(d, pk * (40 + rnd() % 1460), f[i].len);
			break;
		case 2:
			put(d, pk, f[i].len);
			break;
		case 4:
			put(d, proto, 1);
			break;
		case 6:
			put(d, proto == 6 ? rnd() & 0x3f : 0, 1);
			break;
		case 8:
		case 12:
			put(d, 0xc6336400u | (rnd() & 0xff), 4); /* 198.51.100.0/24 */
			break;
		case 27:
		case 28:
			put(d, 0x20010db8u, 4);
			for (k = 0; k < 3; k++)
				put(d, rnd(), 4);
			break;
		case 21:
			put(d, 3600000 - rnd() % 1000, 4); /* sysUptime 1 h */
			break;
		case 22:
			put(d, 3600000 - 1000 - rnd() % 30000, 4);
			break;
		case 152:
			put(d, ms - 1000 - rnd() % 30000, 8);
			break;
		case 153:
			put(d, ms - rnd() % 1000, 8);
			break;
		default:
			for (k = 0; k < f[i].len; k++)
				put(d, rnd(), 1);
		}
	}
}

static void data_set(struct buf *d, uint16_t id, const struct fs *f, int nf, int n, uint64_t ms)
{
	uint32_t at = d->n;
	int i;

	put(d, id, 2);
	put(d, 0, 2);
	for (i = 0; i < n; i++)
		record(d, f, nf, ms);
	while ((d->n - at) % 4)
		put(d, 0, 1);
	set16(d, at + 2, d->n - at);
}

static void v9_header(struct buf *d, uint32_t seq)
{
	d->n = 0;
	put(d, 9, 2);
	put(d, 0, 2);
	put(d, 3600000, 4);
	put(d, 1700000000, 4);
	put(d, seq, 4);
	put(d, 1, 4);
}

static void ipfix_header(struct buf *d, uint32_t seq)
{
	d->n = 0;
	put(d, 10, 2);
	put(d, 0, 2);
	put(d, 1700000000, 4);
	put(d, seq, 4);
	put(d, 1, 4);
}

/* The template datagram, then N_DGRAMS data datagrams. Returns records per data datagram. */
static int build(struct buf *tmpl, struct buf *data, int ipfix)
{
	const struct fs *t4 = ipfix ? IX_T4 : V9_T4, *t6 = ipfix ? IX_T6 : V9_T6;
	int n4 = ipfix ? IPFIX_N4 : V9_N4, n6 = ipfix ? IPFIX_N6 : V9_N6, i;
	uint16_t tset = ipfix ? 2 : 0;
	uint32_t seq = 0;

	if (ipfix)
		ipfix_header(tmpl, seq);
	else
		v9_header(tmpl, seq++);
	template_set(tmpl, tset, 256, t4, 20);
	template_set(tmpl, tset, 257, t6, 20);
	if (ipfix)
		set16(tmpl, 2, tmpl->n);
	for (i = 0; i < N_DGRAMS; i++) {
		if (ipfix)
			ipfix_header(&data[i], seq);
		else
			v9_header(&data[i], seq++);
		data_set(&data[i], 256, t4, 20, n4, 1700000000000ull);
		data_set(&data[i], 257, t6, 20, n6, 1700000000000ull);
		if (ipfix) {
			set16(&data[i], 2, data[i].n);
			seq += n4 + n6;
		}
	}
	return n4 + n6;
}

static uint64_t sink_packets;

static void sink(void *arg, const struct obs *o, uint64_t first, uint64_t last)
{
	(void)arg;
	(void)first;
	(void)last;
	sink_packets += o->packets;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Runs one format; prints its line. Returns 0, or 1 if the decoder did not decode it all. */
static int bench(const char *name, int ipfix, double secs)
{
	static struct buf tmpl, data[N_DGRAMS];
	struct exporter ex;
	double rate[RUNS], t0, t;
	uint64_t records;
	int per, run, i, rc;

	memset(&ex, 0, sizeof(ex));
	per = build(&tmpl, data, ipfix);
	if (netflow_decode(tmpl.b, tmpl.n, 0, &ex, sink, NULL) != 0 || ex.st.templates != 2) {
		fprintf(stderr, "%s: templates not accepted\n", name);
		return 1;
	}
	for (run = 0; run < RUNS; run++) {
		records = 0;
		t0 = now_s();
		do {
			for (i = 0; i < N_DGRAMS; i++) {
				rc = netflow_decode(data[i].b, data[i].n, 0, &ex, sink, NULL);
				if (rc != per) {
					fprintf(stderr, "%s: %d records, expected %d\n", name, rc,
						per);
					return 1;
				}
				records += (uint64_t)rc;
			}
		} while ((t = now_s() - t0) < secs);
		rate[run] = records / t;
	}
	qsort(rate, RUNS, sizeof(rate[0]), cmp_double);
	printf("%s: %.0f records/s per core\n", name, rate[RUNS / 2]);
	printf("  (%d records in a %u-byte datagram, %.1f ns per record, %llu errors)\n", per,
	       data[0].n, 1e9 / rate[RUNS / 2], (unsigned long long)ex.st.errors);
	exporter_release(&ex);
	return 0;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	int rc = 0;

	if (secs <= 0)
		secs = 1.0;
	rc |= bench("netflow v9", 0, secs);
	rc |= bench("ipfix", 1, secs);
	return rc;
}
