/* flowdecode_sflow: how many sFlow flow samples one core turns into obs per second.
 *
 * The datagram is what a switch sends under load: an IPv4 agent, 8 flow samples at 1 in 2048,
 * each with an extended_switch record and a 128-byte raw Ethernet header (the default header
 * size of most agents), 5 of them IPv4 TCP/UDP and 3 IPv6, some behind an 802.1Q tag. It is
 * decoded in a loop with an emit that only sums, in 5 runs of about a second each (the run time
 * in seconds can be given as the first argument); the median run is printed.
 *
 * Output: "sflow: N records/s per core", then the datagram size and the time per record.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flow/flow.h"

enum {
	N_SAMPLES = 8,
	HDR_LEN = 128,
	RATE = 2048,
	RUNS = 5,
};

struct buf {
	uint8_t b[4096];
	uint32_t n;
};

static void w32(struct buf *d, uint32_t v)
{
	d->b[d->n++] = v >> 24;
	d->b[d->n++] = v >> 16;
	d->b[d->n++] = v >> 8;
	d->b[d->n++] = v;
}

static void wbytes(struct buf *d, const void *p, uint32_t n)
{
	memcpy(d->b + d->n, p, n);
	d->n += n;
}

static void set16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

/* A 128-byte capture of a 1514-byte (or 1518 tagged) frame: Ethernet, optional 802.1Q tag, IPv4
 * or IPv6, TCP or UDP, payload. i varies addresses and ports. */
static void frame(uint8_t *f, int i, int v6, int tagged, int udp)
{
	uint32_t off = 12, l4;

	memset(f, 0xab, HDR_LEN);
	memset(f, 0x02, 12);
	if (tagged) {
		set16(f + off, 0x8100);
		set16(f + off + 2, 100 + i);
		off += 4;
	}
	set16(f + off, v6 ? 0x86dd : 0x0800);
	off += 2;
	if (v6) {
		memset(f + off, 0, 40);
		f[off] = 0x60;
		set16(f + off + 4, 1500 - 40);
		f[off + 6] = udp ? 17 : 6;
		f[off + 7] = 60;
		f[off + 8] = 0x20;
		f[off + 9] = 0x01;
		f[off + 23] = (uint8_t)i;
		f[off + 24] = 0x20;
		f[off + 25] = 0x01;
		f[off + 39] = 1;
		l4 = off + 40;
	} else {
		memset(f + off, 0, 20);
		f[off] = 0x45;
		set16(f + off + 2, 1500);
		f[off + 8] = 60;
		f[off + 9] = udp ? 17 : 6;
		f[off + 12] = 192;
		f[off + 15] = (uint8_t)i;
		f[off + 16] = 198;
		f[off + 19] = 1;
		l4 = off + 20;
	}
	set16(f + l4, (uint16_t)(40000 + i));
	set16(f + l4 + 2, udp ? 53 : 443);
	if (udp) {
		set16(f + l4 + 4, v6 ? 1460 : 1480);
	} else {
		f[l4 + 12] = 5 << 4;
		f[l4 + 13] = 0x10;
	}
}

static void datagram(struct buf *d)
{
	uint8_t f[HDR_LEN];

	d->n = 0;
	w32(d, 5);
	w32(d, 1);
	w32(d, 0x0a000001);
	w32(d, 0);
	w32(d, 1);
	w32(d, 3600000);
	w32(d, N_SAMPLES);
	for (int i = 0; i < N_SAMPLES; i++) {
		int v6 = i % 3 == 2, tagged = i % 2, udp = i % 4 == 3;

		frame(f, i, v6, tagged, udp);
		w32(d, 1);			    /* flow sample */
		w32(d, 32 + 24 + 16 + HDR_LEN + 8); /* its length */
		w32(d, (uint32_t)i);		    /* sequence */
		w32(d, 7);			    /* source id */
		w32(d, RATE);			    /* sampling rate */
		w32(d, (uint32_t)i * RATE);	    /* pool */
		w32(d, 0);			    /* drops */
		w32(d, 7);			    /* input */
		w32(d, 9);			    /* output */
		w32(d, 2);			    /* records */
		w32(d, 1001);			    /* extended_switch */
		w32(d, 16);
		w32(d, 100);
		w32(d, 0);
		w32(d, 200);
		w32(d, 0);
		w32(d, 1); /* raw packet header */
		w32(d, 16 + HDR_LEN);
		w32(d, 1);			/* Ethernet */
		w32(d, 1514 + 4u * tagged + 4); /* frame length with FCS */
		w32(d, 4);			/* stripped: the FCS */
		w32(d, HDR_LEN);
		wbytes(d, f, HDR_LEN);
	}
}

struct sink {
	uint64_t bytes, n;
};

static void emit(void *arg, const struct obs *o, uint64_t first_ns, uint64_t last_ns)
{
	struct sink *s = arg;

	s->bytes += o->bytes;
	s->n++;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0, rates[RUNS], t0, t;
	struct exporter ex;
	struct sink s = {0, 0};
	struct buf d;
	uint64_t recs;
	int r;

	datagram(&d);
	memset(&ex, 0, sizeof(ex));
	r = sflow_decode(d.b, d.n, 1, &ex, emit, &s);
	if (r != N_SAMPLES || ex.st.errors) {
		fprintf(stderr, "flowdecode_sflow: decoded %d of %d samples, %llu errors\n", r,
			N_SAMPLES, (unsigned long long)ex.st.errors);
		return 1;
	}
	for (int run = 0; run < RUNS; run++) {
		recs = 0;
		t0 = now_s();
		do {
			for (int i = 0; i < 1024; i++)
				recs += (uint64_t)sflow_decode(d.b, d.n, 1, &ex, emit, &s);
			t = now_s() - t0;
		} while (t < secs);
		rates[run] = recs / t;
	}
	qsort(rates, RUNS, sizeof(rates[0]), cmp);
	printf("sflow: %.0f records/s per core\n", rates[RUNS / 2]);
	printf("  (%u-byte datagram, %d samples with %d-byte headers; %.1f ns per record; "
	       "runs %.0f..%.0f)\n",
	       d.n, N_SAMPLES, HDR_LEN, 1e9 / rates[RUNS / 2], rates[0], rates[RUNS - 1]);
	return 0;
}
