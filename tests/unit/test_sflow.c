/* test_sflow: sflow_decode against datagrams built word by word, each obs checked by hand, then
 * truncations, lies and counters, and one datagram captured from pmacct's sfprobe. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow.h"
#include "t.h"

/* ---- a datagram under construction: XDR words, big-endian ---- */

struct dg {
	uint8_t b[4096];
	uint32_t n;
};

/* Appends a word; returns its offset so a test can patch it. */
static uint32_t w32(struct dg *d, uint32_t v)
{
	uint32_t at = d->n;

	d->b[d->n++] = v >> 24;
	d->b[d->n++] = v >> 16;
	d->b[d->n++] = v >> 8;
	d->b[d->n++] = v;
	return at;
}

static void set32(struct dg *d, uint32_t off, uint32_t v)
{
	d->b[off] = v >> 24;
	d->b[off + 1] = v >> 16;
	d->b[off + 2] = v >> 8;
	d->b[off + 3] = v;
}

/* Appends n bytes and the XDR padding to a multiple of 4. */
static void wbytes(struct dg *d, const void *p, uint32_t n)
{
	memcpy(d->b + d->n, p, n);
	d->n += n;
	while (d->n % 4)
		d->b[d->n++] = 0;
}

static const uint8_t AGENT4[4] = {10, 0, 0, 1};
static const uint8_t AGENT6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 0xa};
static const uint8_t V4_SRC[4] = {192, 0, 2, 1};
static const uint8_t V4_DST[4] = {198, 51, 100, 2};
static const uint8_t V6_SRC[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t V6_DST[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

/* Datagram header with an IPv4 (atype 1) or IPv6 (atype 2) agent. Returns the offset of the
 * sample count. */
static uint32_t dg_header(struct dg *d, uint32_t atype, uint32_t sub, uint32_t seq,
			  uint32_t n_samples)
{
	d->n = 0;
	w32(d, 5);
	w32(d, atype);
	if (atype == 2)
		wbytes(d, AGENT6, 16);
	else
		wbytes(d, AGENT4, 4);
	w32(d, sub);
	w32(d, seq);
	w32(d, 123456); /* uptime */
	return w32(d, n_samples);
}

/* Starts a sample or record: tag and a length patched by end(). Returns the length's offset. */
static uint32_t begin(struct dg *d, uint32_t tag)
{
	w32(d, tag);
	return w32(d, 0);
}

static void end(struct dg *d, uint32_t len_off)
{
	set32(d, len_off, d->n - len_off - 4);
}

/* The fixed part of a flow sample (compact, format 1, or expanded, format 3). */
static uint32_t flow_begin(struct dg *d, int expanded, uint32_t rate, uint32_t n_rec)
{
	uint32_t at = begin(d, expanded ? 3 : 1);

	w32(d, 77); /* sample sequence */
	if (expanded) {
		w32(d, 0); /* source class */
		w32(d, 5); /* source index */
	} else {
		w32(d, 5);
	}
	w32(d, rate);
	w32(d, 1000000); /* pool */
	w32(d, 0);	 /* drops */
	if (expanded) {
		w32(d, 0);
		w32(d, 3);
		w32(d, 0);
		w32(d, 4);
	} else {
		w32(d, 3);
		w32(d, 4);
	}
	w32(d, n_rec);
	return at;
}

static void rec_raw(struct dg *d, uint32_t proto, uint32_t frame_len, uint32_t stripped,
		    const uint8_t *hdr, uint32_t hdr_len)
{
	uint32_t at = begin(d, 1);

	w32(d, proto);
	w32(d, frame_len);
	w32(d, stripped);
	w32(d, hdr_len);
	wbytes(d, hdr, hdr_len);
	end(d, at);
}

static void rec_ip4(struct dg *d, uint32_t len, uint32_t proto, uint32_t sport, uint32_t dport,
		    uint32_t flags)
{
	uint32_t at = begin(d, 3);

	w32(d, len);
	w32(d, proto);
	wbytes(d, V4_SRC, 4);
	wbytes(d, V4_DST, 4);
	w32(d, sport);
	w32(d, dport);
	w32(d, flags);
	w32(d, 0); /* tos */
	end(d, at);
}

static void rec_ip6(struct dg *d, uint32_t len, uint32_t proto, uint32_t sport, uint32_t dport,
		    uint32_t flags)
{
	uint32_t at = begin(d, 4);

	w32(d, len);
	w32(d, proto);
	wbytes(d, V6_SRC, 16);
	wbytes(d, V6_DST, 16);
	w32(d, sport);
	w32(d, dport);
	w32(d, flags);
	w32(d, 0); /* priority */
	end(d, at);
}

/* An extended_switch record: something to skip. */
static void rec_switch(struct dg *d)
{
	uint32_t at = begin(d, 1001);

	w32(d, 10);
	w32(d, 0);
	w32(d, 20);
	w32(d, 0);
	end(d, at);
}

/* A generic interface counter sample (format 2 or 4), content is filler. */
static void counter_sample(struct dg *d, uint32_t format)
{
	uint32_t at = begin(d, format);

	w32(d, 1); /* sequence */
	if (format == 4)
		w32(d, 0);
	w32(d, 5);
	w32(d, 1); /* one record */
	w32(d, 1); /* generic interface counters */
	w32(d, 8);
	w32(d, 5);
	w32(d, 6);
	end(d, at);
}

/* ---- packets ---- */

struct pkt {
	uint8_t b[2048];
	uint32_t n;
};

static void put(struct pkt *k, const void *p, uint32_t n)
{
	memcpy(k->b + k->n, p, n);
	k->n += n;
}

static void eth(struct pkt *k, uint16_t type)
{
	uint8_t h[14] = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, type >> 8, type & 0xff};
	put(k, h, sizeof(h));
}

static void vlan(struct pkt *k, uint16_t vid, uint16_t type)
{
	uint8_t h[4] = {vid >> 8, vid & 0xff, type >> 8, type & 0xff};
	put(k, h, sizeof(h));
}

/* IPv4 header with total length tot, TTL 64. */
static void ip4(struct pkt *k, uint8_t proto, uint16_t tot)
{
	uint8_t h[20] = {0x45, 0, tot >> 8, tot & 0xff, 0x12, 0x34, 0x40, 0, 64, proto};

	memcpy(h + 12, V4_SRC, 4);
	memcpy(h + 16, V4_DST, 4);
	put(k, h, sizeof(h));
}

/* IPv6 header with payload length plen, hop limit 57. */
static void ip6(struct pkt *k, uint8_t nh, uint16_t plen)
{
	uint8_t h[40] = {0x60, 0, 0, 0, plen >> 8, plen & 0xff, nh, 57};

	memcpy(h + 8, V6_SRC, 16);
	memcpy(h + 24, V6_DST, 16);
	put(k, h, sizeof(h));
}

/* TCP header with data offset doff words (options are NOPs). */
static void tcp(struct pkt *k, uint16_t sport, uint16_t dport, uint8_t flags, int doff)
{
	uint8_t h[60] = {sport >> 8, sport & 0xff, dport >> 8, dport & 0xff};

	h[12] = doff << 4;
	h[13] = flags;
	memset(h + 20, 1, sizeof(h) - 20);
	put(k, h, doff * 4);
}

static void udp(struct pkt *k, uint16_t sport, uint16_t dport, uint16_t len)
{
	uint8_t h[8] = {sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, len >> 8, len & 0xff};
	put(k, h, sizeof(h));
}

static void zeros(struct pkt *k, uint32_t n)
{
	memset(k->b + k->n, 0, n);
	k->n += n;
}

/* Ethernet + IPv4 + TCP SYN with MSS-sized options (IP length 44), padded to the 60-byte
 * Ethernet minimum. */
static void syn_frame(struct pkt *k)
{
	k->n = 0;
	eth(k, 0x0800);
	ip4(k, 6, 44);
	tcp(k, 40000, 80, 0x02, 6);
	zeros(k, 2);
}

/* ---- collecting what the decoder emits ---- */

struct got {
	struct obs o[64];
	uint64_t first[64], last[64];
	int n;
};

static void collect(void *arg, const struct obs *o, uint64_t first_ns, uint64_t last_ns)
{
	struct got *g = arg;

	if (g->n < 64) {
		g->o[g->n] = *o;
		g->first[g->n] = first_ns;
		g->last[g->n] = last_ns;
	}
	g->n++;
}

static const uint64_t NOW = 1700000000123456789ull;

/* Decodes d from a heap copy of exactly its length, so ASan sees any read past the end. */
static int decode(const struct dg *d, struct exporter *ex, struct got *g)
{
	uint8_t *copy = malloc(d->n ? d->n : 1);
	int r;

	memcpy(copy, d->b, d->n);
	memset(g, 0, sizeof(*g));
	r = sflow_decode(copy, d->n, NOW, ex, collect, g);
	free(copy);
	return r;
}

static int is_v4(const struct maddr *a, const uint8_t v4[4])
{
	struct maddr m;

	maddr_from_v4(&m, v4);
	return maddr_eq(a, &m);
}

static int is_v6(const struct maddr *a, const uint8_t v6[16])
{
	return memcmp(a->b, v6, 16) == 0;
}

/* One flow sample with the SYN frame, FCS counted in frame_length and in stripped. */
static void syn_datagram(struct dg *d, uint32_t atype, int expanded, uint32_t rate)
{
	struct pkt k;
	uint32_t s;

	syn_frame(&k);
	dg_header(d, atype, 0, 1, 1);
	s = flow_begin(d, expanded, rate, 2);
	rec_raw(d, 1, k.n + 4, 4, k.b, k.n);
	rec_switch(d);
	end(d, s);
}

static void check_syn(const struct obs *o, uint32_t rate)
{
	CHECK_EQ(o->family, 4);
	CHECK_EQ(o->proto, 6);
	CHECK(is_v4(&o->src, V4_SRC));
	CHECK(is_v4(&o->dst, V4_DST));
	CHECK_EQ(o->sport, 40000);
	CHECK_EQ(o->dport, 80);
	CHECK_EQ(o->tcp_flags, 0x02);
	CHECK_EQ(o->ttl, 64);
	CHECK_EQ(o->frag, OBS_FRAG_NONE);
	CHECK_EQ(o->l4, 1);
	CHECK_EQ(o->len, 44);
	CHECK_EQ(o->packets, rate);
	CHECK_EQ(o->bytes, 44ull * rate);
	CHECK_EQ(o->ts_ns, NOW);
	CHECK_EQ(o->pad[0], 0);
	CHECK_EQ(o->pad[1], 0);
}

static void test_ipv4_agent_syn(void)
{
	struct exporter ex = {0};
	struct got g;
	struct dg d;

	syn_datagram(&d, 1, 0, 512);
	CHECK_EQ(decode(&d, &ex, &g), 1);
	CHECK_EQ(g.n, 1);
	check_syn(&g.o[0], 512);
	CHECK_EQ(g.first[0], NOW);
	CHECK_EQ(g.last[0], NOW);
	CHECK_EQ(ex.st.packets, 1);
	CHECK_EQ(ex.st.records, 1);
	CHECK_EQ(ex.st.errors, 0);
	CHECK_EQ(ex.st.ignored, 0);
	CHECK_EQ(ex.st.bad_sampling, 0);
	CHECK_EQ(ex.st.last_seen_ns, NOW);
	CHECK_EQ(ex.seq_valid, 1);
	CHECK_EQ(ex.seq_next, 2);
}

static void test_ipv6_agent_and_expanded(void)
{
	struct exporter ex = {0};
	struct got g;
	struct dg d;

	syn_datagram(&d, 2, 0, 1000);
	CHECK_EQ(decode(&d, &ex, &g), 1);
	check_syn(&g.o[0], 1000);

	syn_datagram(&d, 2, 1, 2048);
	CHECK_EQ(decode(&d, &ex, &g), 1);
	check_syn(&g.o[0], 2048);

	syn_datagram(&d, 1, 1, 1);
	CHECK_EQ(decode(&d, &ex, &g), 1);
	check_syn(&g.o[0], 1);
	CHECK_EQ(ex.st.records, 3);
	CHECK_EQ(ex.st.errors, 0);
}

/* header_protocol 11 (IPv4) and 12 (IPv6): the header starts at the IP header. */
static void test_raw_ip_protocols(void)
{
	struct exporter ex = {0};
	struct pkt k = {0};
	struct got g;
	struct dg d;
	uint32_t s;

	ip4(&k, 17, 28 + 100);
	udp(&k, 53, 33000, 108);
	dg_header(&d, 1, 0, 1, 2);
	s = flow_begin(&d, 0, 10, 1);
	rec_raw(&d, 11, 128, 0, k.b, k.n); /* 28 of 128 bytes captured */
	end(&d, s);

	k.n = 0;
	ip6(&k, 17, 8 + 500);
	udp(&k, 123, 44444, 508);
	s = flow_begin(&d, 0, 10, 1);
	rec_raw(&d, 12, 548, 0, k.b, k.n);
	end(&d, s);

	CHECK_EQ(decode(&d, &ex, &g), 2);
	CHECK_EQ(g.o[0].family, 4);
	CHECK_EQ(g.o[0].proto, 17);
	CHECK_EQ(g.o[0].sport, 53);
	CHECK_EQ(g.o[0].dport, 33000);
	CHECK_EQ(g.o[0].len, 128);
	CHECK_EQ(g.o[0].bytes, 1280);
	CHECK_EQ(g.o[0].packets, 10);

	CHECK_EQ(g.o[1].family, 6);
	CHECK_EQ(g.o[1].proto, 17);
	CHECK(is_v6(&g.o[1].src, V6_SRC));
	CHECK(is_v6(&g.o[1].dst, V6_DST));
	CHECK_EQ(g.o[1].sport, 123);
	CHECK_EQ(g.o[1].dport, 44444);
	CHECK_EQ(g.o[1].ttl, 57);
	CHECK_EQ(g.o[1].l4, 1);
	CHECK_EQ(g.o[1].len, 548);
	CHECK_EQ(g.o[1].bytes, 5480);
	CHECK_EQ(ex.st.records, 2);
}

static void test_sampled_records(void)
{
	struct exporter ex = {0};
	struct got g;
	struct dg d;
	uint32_t s;

	dg_header(&d, 1, 0, 1, 3);
	s = flow_begin(&d, 0, 100, 2);
	rec_switch(&d);
	rec_ip4(&d, 1500, 6, 443, 51000, 0x18);
	end(&d, s);
	s = flow_begin(&d, 1, 100, 1);
	rec_ip6(&d, 1280, 17, 53, 1024, 0xff); /* flags on UDP mean nothing: dropped */
	end(&d, s);
	s = flow_begin(&d, 0, 100, 1);
	rec_ip4(&d, 84, 1, 8, 0, 0); /* ICMP echo request: type and code in the port words */
	end(&d, s);

	CHECK_EQ(decode(&d, &ex, &g), 3);
	CHECK_EQ(g.o[0].family, 4);
	CHECK(is_v4(&g.o[0].src, V4_SRC));
	CHECK(is_v4(&g.o[0].dst, V4_DST));
	CHECK_EQ(g.o[0].proto, 6);
	CHECK_EQ(g.o[0].sport, 443);
	CHECK_EQ(g.o[0].dport, 51000);
	CHECK_EQ(g.o[0].tcp_flags, 0x18);
	CHECK_EQ(g.o[0].l4, 1);
	CHECK_EQ(g.o[0].ttl, 0);
	CHECK_EQ(g.o[0].frag, OBS_FRAG_NONE);
	CHECK_EQ(g.o[0].len, 1500);
	CHECK_EQ(g.o[0].packets, 100);
	CHECK_EQ(g.o[0].bytes, 150000);
	CHECK_EQ(g.o[0].ts_ns, NOW);

	CHECK_EQ(g.o[1].family, 6);
	CHECK(is_v6(&g.o[1].src, V6_SRC));
	CHECK(is_v6(&g.o[1].dst, V6_DST));
	CHECK_EQ(g.o[1].proto, 17);
	CHECK_EQ(g.o[1].sport, 53);
	CHECK_EQ(g.o[1].dport, 1024);
	CHECK_EQ(g.o[1].tcp_flags, 0);
	CHECK_EQ(g.o[1].len, 1280);
	CHECK_EQ(g.o[1].bytes, 128000);

	CHECK_EQ(g.o[2].proto, 1);
	CHECK_EQ(g.o[2].sport, 0);
	CHECK_EQ(g.o[2].dport, 8 << 8);
	CHECK_EQ(g.o[2].len, 84);
	CHECK_EQ(ex.st.errors, 0);

	/* a protocol without ports (GRE): port words mean nothing */
	dg_header(&d, 1, 0, 2, 1);
	s = flow_begin(&d, 0, 100, 1);
	rec_ip4(&d, 576, 47, 1, 2, 2);
	end(&d, s);
	CHECK_EQ(decode(&d, &ex, &g), 1);
	CHECK_EQ(g.o[0].proto, 47);
	CHECK_EQ(g.o[0].sport, 0);
	CHECK_EQ(g.o[0].dport, 0);
	CHECK_EQ(g.o[0].tcp_flags, 0);
	CHECK_EQ(g.o[0].l4, 0);
	CHECK_EQ(g.o[0].bytes, 57600);

	/* impossible lengths and protocols are malformed samples */
	dg_header(&d, 1, 0, 3, 3);
	s = flow_begin(&d, 0, 100, 1);
	rec_ip4(&d, 19, 6, 1, 2, 0);
	end(&d, s);
	s = flow_begin(&d, 0, 100, 1);
	rec_ip6(&d, 39, 6, 1, 2, 0);
	end(&d, s);
	s = flow_begin(&d, 0, 100, 1);
	rec_ip4(&d, 40, 256, 1, 2, 0);
	end(&d, s);
	CHECK_EQ(decode(&d, &ex, &g), 0);
	CHECK_EQ(ex.st.errors, 3);
}

/* A raw header wins over a sampled IPv4 record in the same sample: one obs per sample. A raw
 * header of a protocol we do not decode falls back to the sampled record. */
static void test_raw_wins(void)
{
	struct exporter ex = {0};
	struct pkt k;
	struct got g;
	struct dg d;
	uint32_t s;
	uint8_t ppp[8] = {0xff, 0x03, 0x00, 0x21};

	syn_frame(&k);
	dg_header(&d, 1, 0, 1, 3);
	s = flow_begin(&d, 0, 4, 2);
	rec_ip4(&d, 999, 17, 1, 2, 0);
	rec_raw(&d, 1, k.n + 4, 4, k.b, k.n);
	end(&d, s);
	s = flow_begin(&d, 0, 4, 2);
	rec_raw(&d, 7, 100, 0, ppp, sizeof(ppp));
	rec_ip4(&d, 999, 17, 1, 2, 0);
	end(&d, s);
	s = flow_begin(&d, 0, 4, 1);
	rec_raw(&d, 7, 100, 0, ppp, sizeof(ppp)); /* nothing to fall back to */
	end(&d, s);

	CHECK_EQ(decode(&d, &ex, &g), 2);
	check_syn(&g.o[0], 4);
	CHECK_EQ(g.o[1].proto, 17);
	CHECK_EQ(g.o[1].len, 999);
	CHECK_EQ(ex.st.ignored, 1);
	CHECK_EQ(ex.st.errors, 0);
}

static void test_counter_samples(void)
{
	struct exporter ex = {0};
	struct pkt k;
	struct got g;
	struct dg d;
	uint32_t s;

	syn_frame(&k);
	dg_header(&d, 1, 0, 1, 3);
	counter_sample(&d, 2);
	s = flow_begin(&d, 0, 8, 1);
	rec_raw(&d, 1, k.n + 4, 4, k.b, k.n);
	end(&d, s);
	counter_sample(&d, 4);
	CHECK_EQ(decode(&d, &ex, &g), 1);
	check_syn(&g.o[0], 8);
	CHECK_EQ(ex.st.counter_samples, 2);
	CHECK_EQ(ex.st.records, 1);
	CHECK_EQ(ex.st.ignored, 0);
	CHECK_EQ(ex.st.errors, 0);
}

static void test_sampling(void)
{
	struct exporter ex = {0};
	struct got g;
	struct dg d;

	ex.sampling_override = 100;
	syn_datagram(&d, 1, 0, 512);
	CHECK_EQ(decode(&d, &ex, &g), 1);
	check_syn(&g.o[0], 100);
	syn_datagram(&d, 1, 0, 0); /* the override stands in for a missing rate too */
	CHECK_EQ(decode(&d, &ex, &g), 1);
	check_syn(&g.o[0], 100);
	CHECK_EQ(ex.st.bad_sampling, 0);

	ex.sampling_override = 0;
	syn_datagram(&d, 1, 0, 0);
	CHECK_EQ(decode(&d, &ex, &g), 0);
	CHECK_EQ(ex.st.bad_sampling, 1);
	syn_datagram(&d, 1, 1, FLOW_MAX_SAMPLING + 1);
	CHECK_EQ(decode(&d, &ex, &g), 0);
	CHECK_EQ(ex.st.bad_sampling, 2);
	syn_datagram(&d, 1, 0, 0xffffffff);
	CHECK_EQ(decode(&d, &ex, &g), 0);
	CHECK_EQ(ex.st.bad_sampling, 3);
	syn_datagram(&d, 1, 0, FLOW_MAX_SAMPLING);
	CHECK_EQ(decode(&d, &ex, &g), 1);
	check_syn(&g.o[0], FLOW_MAX_SAMPLING);
	CHECK_EQ(ex.st.errors, 0);
	CHECK_EQ(ex.st.records, 3);
	CHECK_EQ(ex.st.packets, 6);
}

/* A datagram with a bit of everything, for the truncation loop. */
static void mixed_datagram(struct dg *d)
{
	struct pkt k;
	uint32_t s;

	syn_frame(&k);
	dg_header(d, 2, 3, 1000, 5);
	s = flow_begin(d, 0, 64, 2);
	rec_raw(d, 1, k.n + 4, 4, k.b, k.n);
	rec_switch(d);
	end(d, s);
	counter_sample(d, 2);
	s = flow_begin(d, 1, 64, 1);
	rec_ip6(d, 60, 6, 1, 2, 0x12);
	end(d, s);
	s = begin(d, 4300 << 12 | 5);
	w32(d, 1);
	end(d, s);
	s = flow_begin(d, 0, 64, 1);
	rec_ip4(d, 40, 17, 1, 2, 0);
	end(d, s);
}

/* Every cut of a datagram: no crash, no read past the end (ASan), one error, never more records
 * than the whole datagram gives. */
static int truncations(const struct dg *d, uint32_t hdr_len)
{
	struct exporter ex = {0};
	struct got g;
	struct dg cut;
	int full, r, bad = 0;

	full = decode(d, &ex, &g);
	for (uint32_t len = 0; len < d->n; len++) {
		memset(&ex, 0, sizeof(ex));
		memcpy(cut.b, d->b, len);
		cut.n = len;
		r = decode(&cut, &ex, &g);
		if (len < hdr_len) /* no datagram at all */
			bad += r != -1 || ex.st.packets != 0 || ex.st.records != 0;
		else
			bad += r < 0 || r > full || ex.st.packets != 1;
		bad += ex.st.errors != 1;
		bad += r >= 0 && (uint64_t)r != ex.st.records;
		bad += g.n != (r > 0 ? r : 0);
	}
	return bad;
}

static void test_truncation(void)
{
	struct exporter ex = {0};
	struct got g;
	struct dg d;

	mixed_datagram(&d);
	CHECK_EQ(decode(&d, &ex, &g), 3);
	CHECK_EQ(ex.st.errors, 0);
	CHECK_EQ(ex.st.counter_samples, 1);
	CHECK_EQ(ex.st.ignored, 1);
	CHECK_EQ(truncations(&d, 40), 0); /* IPv6 agent: 40-byte header */

	syn_datagram(&d, 1, 0, 2);
	CHECK_EQ(truncations(&d, 28), 0);
}

/* A flow sample whose own length cuts its body anywhere: the sample is malformed (one error,
 * nothing emitted), and the sample after it is still decoded. */
static int body_cuts(const struct dg *one)
{
	const uint32_t at = 28; /* the sample after an IPv4 agent's header */
	uint32_t body = one->n - at - 8;
	struct exporter ex;
	struct got g;
	struct dg d;
	int bad = 0;

	for (uint32_t len = 0; len < body; len++) {
		memset(&ex, 0, sizeof(ex));
		memcpy(d.b, one->b, at + 8 + len);
		d.n = at + 8 + len;
		set32(&d, 24, 2);
		set32(&d, at + 4, len);
		counter_sample(&d, 2);
		bad += decode(&d, &ex, &g) != 0;
		bad += ex.st.errors != 1 || ex.st.counter_samples != 1 || ex.st.records != 0;
	}
	return bad;
}

static void test_sample_body_cut(void)
{
	struct exporter ex = {0};
	struct got g;
	struct dg d;
	uint32_t s;

	syn_datagram(&d, 1, 0, 2);
	CHECK_EQ(body_cuts(&d), 0);
	syn_datagram(&d, 1, 1, 2);
	CHECK_EQ(body_cuts(&d), 0);

	dg_header(&d, 1, 0, 1, 1);
	s = flow_begin(&d, 0, 2, 1);
	rec_ip4(&d, 40, 6, 1, 2, 2);
	end(&d, s);
	CHECK_EQ(decode(&d, &ex, &g), 1);
	CHECK_EQ(body_cuts(&d), 0);

	dg_header(&d, 1, 0, 1, 1);
	s = flow_begin(&d, 1, 2, 1);
	rec_ip6(&d, 40, 6, 1, 2, 2);
	end(&d, s);
	CHECK_EQ(decode(&d, &ex, &g), 1);
	CHECK_EQ(body_cuts(&d), 0);

	/* a record shorter than its fixed fields, inside a sample that is long enough */
	memset(&ex, 0, sizeof(ex));
	dg_header(&d, 1, 0, 1, 2);
	s = flow_begin(&d, 0, 2, 1);
	w32(&d, 3);
	w32(&d, 28); /* sampled_ipv4 is 32 bytes */
	for (int i = 0; i < 7; i++)
		w32(&d, 40);
	end(&d, s);
	s = flow_begin(&d, 0, 2, 1);
	w32(&d, 1);
	w32(&d, 12); /* raw header: 16 bytes before the header bytes */
	for (int i = 0; i < 3; i++)
		w32(&d, 1);
	end(&d, s);
	CHECK_EQ(decode(&d, &ex, &g), 0);
	CHECK_EQ(ex.st.errors, 2);
}

/* A sample whose length runs past the datagram ends it; what came before stays. */
static void test_sample_past_end(void)
{
	struct exporter ex = {0};
	struct pkt k;
	struct got g;
	struct dg d;
	uint32_t s;

	syn_frame(&k);
	dg_header(&d, 1, 0, 1, 3);
	s = flow_begin(&d, 0, 2, 1);
	rec_raw(&d, 1, k.n + 4, 4, k.b, k.n);
	end(&d, s);
	s = flow_begin(&d, 0, 2, 1);
	rec_raw(&d, 1, k.n + 4, 4, k.b, k.n);
	end(&d, s);
	counter_sample(&d, 2);
	set32(&d, s, d.n - s - 4 + 1); /* one byte more than there is */
	CHECK_EQ(decode(&d, &ex, &g), 1);
	check_syn(&g.o[0], 2);
	CHECK_EQ(ex.st.errors, 1);
	CHECK_EQ(ex.st.records, 1);
	CHECK_EQ(ex.st.packets, 1);

	/* A record running past its sample: that sample is dropped, the next one decoded. */
	memset(&ex, 0, sizeof(ex));
	dg_header(&d, 1, 0, 1, 2);
	s = flow_begin(&d, 0, 2, 1);
	w32(&d, 1);
	w32(&d, 400); /* raw header record of 400 bytes in a sample with 8 */
	w32(&d, 1);
	w32(&d, 1);
	end(&d, s);
	s = flow_begin(&d, 0, 2, 1);
	rec_raw(&d, 1, k.n + 4, 4, k.b, k.n);
	end(&d, s);
	CHECK_EQ(decode(&d, &ex, &g), 1);
	check_syn(&g.o[0], 2);
	CHECK_EQ(ex.st.errors, 1);

	/* More records claimed than the sample holds; header bytes past the record; stripped
	 * larger than the frame; a record count past the end. All malformed samples. */
	memset(&ex, 0, sizeof(ex));
	dg_header(&d, 1, 0, 1, 4);
	s = flow_begin(&d, 0, 2, 2);
	rec_raw(&d, 1, k.n + 4, 4, k.b, k.n);
	end(&d, s);
	s = flow_begin(&d, 0, 2, 1);
	rec_raw(&d, 1, k.n + 4, 4, k.b, k.n);
	set32(&d, d.n - 60 - 4, 61);
	end(&d, s);
	s = flow_begin(&d, 0, 2, 1);
	rec_raw(&d, 1, 10, 11, k.b, k.n);
	end(&d, s);
	s = begin(&d, 1);
	w32(&d, 1);
	end(&d, s);
	CHECK_EQ(decode(&d, &ex, &g), 0);
	CHECK_EQ(ex.st.errors, 4);
	CHECK_EQ(ex.st.packets, 1);

	/* more samples claimed than present */
	memset(&ex, 0, sizeof(ex));
	syn_datagram(&d, 1, 0, 2);
	set32(&d, 24, 2);
	CHECK_EQ(decode(&d, &ex, &g), 1);
	CHECK_EQ(ex.st.errors, 1);
}

static void test_bad_header(void)
{
	struct exporter ex = {0};
	struct got g;
	struct dg d;

	syn_datagram(&d, 1, 0, 2);
	set32(&d, 0, 4);
	CHECK_EQ(decode(&d, &ex, &g), -1);
	set32(&d, 0, 5);
	set32(&d, 4, 3); /* unknown address type */
	CHECK_EQ(decode(&d, &ex, &g), -1);
	set32(&d, 4, 0);
	CHECK_EQ(decode(&d, &ex, &g), -1);
	CHECK_EQ(ex.st.errors, 3);
	CHECK_EQ(ex.st.packets, 0);
	CHECK_EQ(ex.st.last_seen_ns, 0);
	CHECK_EQ(ex.seq_valid, 0);
	CHECK_EQ(g.n, 0);
}

static void test_unknown_sample(void)
{
	struct exporter ex = {0};
	struct pkt k;
	struct got g;
	struct dg d;
	uint32_t s;

	syn_frame(&k);
	dg_header(&d, 1, 0, 1, 4);
	s = begin(&d, 99); /* enterprise 0, format 99 */
	w32(&d, 0xdeadbeef);
	end(&d, s);
	s = begin(&d, 4413 << 12 | 1); /* a vendor's format 1 is not a flow sample */
	w32(&d, 1);
	w32(&d, 2);
	end(&d, s);
	s = begin(&d, 5); /* an empty sample (a drop notification we do not read) */
	end(&d, s);
	s = flow_begin(&d, 0, 3, 1);
	rec_raw(&d, 1, k.n + 4, 4, k.b, k.n);
	end(&d, s);
	CHECK_EQ(decode(&d, &ex, &g), 1);
	check_syn(&g.o[0], 3);
	CHECK_EQ(ex.st.ignored, 3);
	CHECK_EQ(ex.st.errors, 0);

	/* ARP in a raw header: not for us */
	memset(&ex, 0, sizeof(ex));
	k.n = 0;
	eth(&k, 0x0806);
	zeros(&k, 28);
	dg_header(&d, 1, 0, 1, 1);
	s = flow_begin(&d, 0, 3, 1);
	rec_raw(&d, 1, 64, 4, k.b, k.n);
	end(&d, s);
	CHECK_EQ(decode(&d, &ex, &g), 0);
	CHECK_EQ(ex.st.ignored, 1);
	CHECK_EQ(ex.st.errors, 0);
}

static void test_sequence(void)
{
	struct exporter ex = {0};
	struct got g;
	struct dg d;
	static const struct {
		uint32_t sub, seq;
		uint64_t gaps; /* cumulative after this datagram */
	} steps[] = {
	    {0, 10, 0}, /* first: nothing to compare with */
	    {0, 11, 0},
	    {0, 15, 3}, /* 12, 13, 14 lost */
	    {0, 16, 3},
	    {0, 2, 3}, /* restart: resync, not counted */
	    {0, 3, 3},
	    {0, 5, 4},	 /* 4 lost */
	    {1, 900, 4}, /* another sub-agent: resync */
	    {1, 901, 4},
	    {1, 901 + (1u << 25), 4}, /* absurd jump: resync */
	    {1, 903 + (1u << 25), 5},
	};

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		syn_datagram(&d, 1, 0, 2);
		set32(&d, 12, steps[i].sub);
		set32(&d, 16, steps[i].seq);
		CHECK_EQ(decode(&d, &ex, &g), 1);
		CHECK_EQ(ex.st.seq_gaps, steps[i].gaps);
		CHECK_EQ(ex.seq_domain, steps[i].sub);
		CHECK_EQ(ex.seq_next, steps[i].seq + 1);
	}
}

static void test_vlan(void)
{
	struct exporter ex = {0};
	struct pkt k = {0};
	struct got g;
	struct dg d;
	uint32_t s;

	eth(&k, 0x8100);
	vlan(&k, 100, 0x0800);
	ip4(&k, 6, 44);
	tcp(&k, 40000, 80, 0x02, 6);
	dg_header(&d, 1, 0, 1, 1);
	s = flow_begin(&d, 0, 7, 1);
	rec_raw(&d, 1, k.n + 4, 4, k.b, k.n);
	end(&d, s);
	CHECK_EQ(decode(&d, &ex, &g), 1);
	check_syn(&g.o[0], 7);
}

/* A 1514-byte frame of which the agent sent the first 64 bytes: the length still comes from the
 * IP header, checked against frame_length - stripped. */
static void test_short_header(void)
{
	struct exporter ex = {0};
	struct pkt k = {0};
	struct got g;
	struct dg d;
	uint32_t s;

	eth(&k, 0x0800);
	ip4(&k, 6, 1500);
	tcp(&k, 443, 50000, 0x10, 5);
	zeros(&k, 10);
	CHECK_EQ(k.n, 64);
	dg_header(&d, 1, 0, 1, 2);
	s = flow_begin(&d, 0, 1000, 1);
	rec_raw(&d, 1, 1518, 4, k.b, k.n);
	end(&d, s);
	/* the same frame claiming to be shorter than its IP length: malformed */
	s = flow_begin(&d, 0, 1000, 1);
	rec_raw(&d, 1, 1000, 4, k.b, k.n);
	end(&d, s);
	CHECK_EQ(decode(&d, &ex, &g), 1);
	CHECK_EQ(g.o[0].len, 1500);
	CHECK_EQ(g.o[0].bytes, 1500000);
	CHECK_EQ(g.o[0].packets, 1000);
	CHECK_EQ(g.o[0].tcp_flags, 0x10);
	CHECK_EQ(g.o[0].sport, 443);
	CHECK_EQ(g.o[0].l4, 1);
	CHECK_EQ(ex.st.errors, 1);

	/* cut before the TCP header: addresses and length, no ports */
	memset(&ex, 0, sizeof(ex));
	dg_header(&d, 1, 0, 1, 1);
	s = flow_begin(&d, 0, 1000, 1);
	rec_raw(&d, 1, 1518, 4, k.b, 14 + 20 + 10);
	end(&d, s);
	CHECK_EQ(decode(&d, &ex, &g), 1);
	CHECK_EQ(g.o[0].len, 1500);
	CHECK_EQ(g.o[0].l4, 0);
	CHECK_EQ(g.o[0].sport, 0);
	CHECK_EQ(g.o[0].proto, 6);
}

/* A datagram sent by pmacct 1.7.7's sfprobe plugin: pmacctd read a pcap of six SYNs written by
 * `moat-gen --count 6 --attack syn:198.51.100.10:100:sources=1` at sampling_rate 1, and the
 * datagram was taken off loopback. Each sample holds an extended_switch record and a 74-byte raw
 * Ethernet header (frame_length 78, stripped 4: the FCS). Expected values are tcpdump's reading
 * of the pcap. */
static void test_pmacct(void)
{
	static const uint8_t src[4] = {192, 0, 2, 128}, dst[4] = {198, 51, 100, 10};
	static const uint16_t sports[6] = {39892, 53858, 11178, 14444, 51879, 52412};
	const char *path = "tests/fuzz/corpus/sflow/pmacct-sfprobe.bin";
	struct exporter ex = {0};
	struct got g;
	struct dg d;
	FILE *f = fopen(path, "rb");

	CHECK(f != NULL);
	if (!f)
		return;
	d.n = (uint32_t)fread(d.b, 1, sizeof(d.b), f);
	fclose(f);
	CHECK_EQ(d.n, 1012);
	CHECK_EQ(decode(&d, &ex, &g), 6);
	CHECK_EQ(ex.st.errors, 0);
	CHECK_EQ(ex.st.ignored, 0);
	CHECK_EQ(ex.st.packets, 1);
	CHECK_EQ(ex.st.records, 6);
	CHECK_EQ(ex.seq_next, 2);
	for (int i = 0; i < 6; i++) {
		const struct obs *o = &g.o[i];

		CHECK_EQ(o->family, 4);
		CHECK_EQ(o->proto, 6);
		CHECK(is_v4(&o->src, src));
		CHECK(is_v4(&o->dst, dst));
		CHECK_EQ(o->sport, sports[i]);
		CHECK_EQ(o->dport, 80);
		CHECK_EQ(o->tcp_flags, TCPF_SYN);
		CHECK_EQ(o->ttl, 123);
		CHECK_EQ(o->l4, 1);
		CHECK_EQ(o->frag, OBS_FRAG_NONE);
		CHECK_EQ(o->len, 60);
		CHECK_EQ(o->packets, 1);
		CHECK_EQ(o->bytes, 60);
	}
}

int main(void)
{
	test_ipv4_agent_syn();
	test_ipv6_agent_and_expanded();
	test_raw_ip_protocols();
	test_sampled_records();
	test_raw_wins();
	test_counter_samples();
	test_sampling();
	test_truncation();
	test_sample_body_cut();
	test_sample_past_end();
	test_bad_header();
	test_unknown_sample();
	test_sequence();
	test_vlan();
	test_short_header();
	test_pmacct();
	return t_done("test_sflow");
}
