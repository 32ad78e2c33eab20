/* gen: deterministic traffic generator. See gen.h for the contract.
 *
 * Speed: every stream owns one frame buffer; an attack builds its datagram payload once and only
 * patches headers per packet, with the payload's checksum cached. Merging is a linear scan over
 * the streams (at most GEN_MAX_ATTACKS + 1), cheaper than a heap at this size.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gen/gen.h"

#define NSEC 1000000000ULL

enum {
	ETH_MIN = 60, /* shortest Ethernet frame without FCS; shorter ones are padded */
	IP4_HLEN = 20,
	IP6_HLEN = 40,
	FRAG6_HLEN = 8,
	TCP_HLEN = 20,
	UDP_HLEN = 8,
	ICMP_HLEN = 8,
	GRE_MIN = 4 + 20 + 8, /* GRE header, inner IPv4 and UDP headers */
	PROTO_GRE = 47,
	PROTO_FRAG6 = 44,
	FRAG4_MAX = (GEN_MTU - IP4_HLEN) & ~7,
	FRAG6_MAX = (GEN_MTU - IP6_HLEN - FRAG6_HLEN) & ~7,
	BG_CONVS = 64,	  /* concurrent background conversations */
	BG_PEERS6 = 4096, /* distinct IPv6 peers of the background */
	ATK_SOURCES6 = 1000,
};

/* ---- PRNG: splitmix64 for seeding, xoshiro256** for streams ---- */

struct rng {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t mix64(uint64_t x)
{
	return splitmix64(&x);
}

static void rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ mix64(stream + 0x6d6f6174);

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl64(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = rotl64(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl64(s[3], 45);
	return res;
}

/* Uniform in [0, n) (multiply-shift; the bias for n < 2^32 is below 2^-32). */
static uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

static double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static uint16_t rng_ephemeral(struct rng *r)
{
	return (uint16_t)(1024 + rng_below(r, 65536 - 1024));
}

static void rng_fill(struct rng *r, uint8_t *p, uint32_t n)
{
	while (n >= 8) {
		uint64_t v = rng_next(r);
		memcpy(p, &v, 8);
		p += 8;
		n -= 8;
	}
	if (n) {
		uint64_t v = rng_next(r);
		memcpy(p, &v, n);
	}
}

/* Bijection on 32 bits, so distinct source numbers give distinct addresses. */
static uint32_t perm32(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

/* ---- byte order and Internet checksum ---- */

static inline void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

/* Adds data to an unfolded one's complement sum. Words are summed in host order, which gives the
 * right bytes when the folded result is stored in host order too. Regions summed separately must
 * start at even offsets of the checksummed data. */
static uint64_t csum_add(uint64_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t w;
	uint16_t h;

	while (len >= 4) {
		memcpy(&w, p, 4);
		sum += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&h, p, 2);
		sum += h;
		p += 2;
		len -= 2;
	}
	if (len) {
		uint8_t t[2] = {p[0], 0};
		memcpy(&h, t, 2);
		sum += h;
	}
	return sum;
}

static uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint64_t csum_u16(uint64_t sum, uint16_t v)
{
	uint8_t b[2];

	put16(b, v);
	return csum_add(sum, b, 2);
}

/* ---- addresses: documentation space only ---- */

static const uint8_t pfx6_protected[6] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x05};
static const uint8_t pfx4_protected[3] = {198, 51, 100};

/* Sources 0..507: 203.0.113.1-254, then 192.0.2.1-254. */
static void pool_v4(uint32_t j, uint8_t *out)
{
	j %= GEN_V4_SOURCES;
	if (j < 254) {
		out[0] = 203, out[1] = 0, out[2] = 113, out[3] = (uint8_t)(j + 1);
	} else {
		out[0] = 192, out[1] = 0, out[2] = 2, out[3] = (uint8_t)(j - 253);
	}
}

/* Source k of a set salted by salt, in 2001:db8:100::/40; distinct k give distinct addresses. */
static void pool_v6(uint32_t k, uint32_t salt, uint8_t *out)
{
	uint64_t h = mix64(((uint64_t)salt << 32) | k);

	out[0] = 0x20, out[1] = 0x01, out[2] = 0x0d, out[3] = 0xb8, out[4] = 0x01;
	put32(out + 5, perm32(k ^ salt));
	for (int i = 9; i < 16; i++, h >>= 8)
		out[i] = (uint8_t)h;
}

/* A random source in 2001:db8:1000::/36. */
static void spoof_v6(struct rng *r, uint8_t *out)
{
	uint64_t a = rng_next(r), b = rng_next(r);

	out[0] = 0x20, out[1] = 0x01, out[2] = 0x0d, out[3] = 0xb8;
	out[4] = (uint8_t)(0x10 | (a & 0x0f));
	for (int i = 5; i < 8; i++, a >>= 8)
		out[i] = (uint8_t)(a >> 8);
	memcpy(out + 8, &b, 8);
}

/* TTL as seen after the path from a source: an initial TTL of 64, 128 or 255 less 5..24 hops,
 * i.e. 40..250. It depends on the address only, so a source keeps its TTL across attacks. */
static uint8_t path_ttl(const uint8_t *a, int alen)
{
	static const uint8_t init[8] = {64, 64, 64, 64, 128, 128, 128, 255};
	uint64_t x = 0, y = 0;

	memcpy(&x, a, alen < 8 ? (size_t)alen : 8);
	if (alen > 8)
		memcpy(&y, a + 8, 8);
	uint64_t h = mix64(x ^ mix64(y ^ 0x74746c));
	return (uint8_t)(init[h & 7] - (5 + (h >> 8) % 20));
}

/* ---- frame building ---- */

struct l3 {
	uint8_t family; /* 4 or 6 */
	uint8_t proto;
	uint8_t ttl;
	bool inbound; /* towards the protected side (selects the MACs) */
	bool df;
	uint16_t ipid;
	uint32_t flow;		  /* IPv6 flow label */
	uint8_t src[16], dst[16]; /* IPv4 in the first 4 bytes */
};

struct frag {
	uint32_t off; /* bytes into the datagram's L3 payload, a multiple of 8 */
	bool mf;
	uint32_t id;
};

struct atk;
struct bg;

struct stream {
	bool done;
	struct rng rng;
	uint64_t pps;
	uint64_t t0;	 /* absolute ns of packet 0 */
	uint64_t end;	 /* absolute ns; packets at or after it are not sent */
	uint64_t ramp;	 /* ns */
	uint64_t jitter; /* background: uniform extra delay below this, < the spacing */
	uint64_t n;	 /* index of the next packet */
	uint64_t next_ts;
	struct gen_stream_stats st;
	char name[80];
	struct atk *atk; /* NULL for the background */
	uint8_t frame[GEN_FRAME_MAX];
};

struct gen {
	struct gen_config c;
	uint32_t l2; /* Ethernet header length, with the VLAN tag */
	int nstreams;
	uint64_t emitted;
	bool ended; /* gen_next has returned 0: every stream ran to its end or the count */
	struct bg *bg;
	struct stream *s;
};

static uint32_t put_eth(const struct gen *g, uint8_t *f, bool inbound, int family)
{
	static const uint8_t mac_up[6] = {0x02, 0, 0, 0, 0, 0x01};   /* upstream router */
	static const uint8_t mac_prot[6] = {0x02, 0, 0, 0, 0, 0x02}; /* protected side */
	uint32_t o = 12;

	memcpy(f, inbound ? mac_prot : mac_up, 6);
	memcpy(f + 6, inbound ? mac_up : mac_prot, 6);
	if (g->c.vlan >= 0) {
		put16(f + 12, 0x8100);
		put16(f + 14, (uint32_t)g->c.vlan);
		o = 16;
	}
	put16(f + o, family == 4 ? 0x0800 : 0x86dd);
	return o + 2;
}

/* Writes the Ethernet and IP headers of a packet carrying plen bytes of L3 payload; fr describes
 * the fragment or is NULL. Returns the offset of the L3 payload in f. */
static uint32_t put_headers(const struct gen *g, uint8_t *f, const struct l3 *ip, uint32_t plen,
			    const struct frag *fr)
{
	uint32_t o = put_eth(g, f, ip->inbound, ip->family);
	uint8_t *h = f + o;

	if (ip->family == 4) {
		uint32_t ff = ip->df ? 0x4000 : 0, id = ip->ipid;
		if (fr) {
			ff = (fr->mf ? 0x2000 : 0) | (fr->off >> 3);
			id = fr->id;
		}
		h[0] = 0x45;
		h[1] = 0;
		put16(h + 2, IP4_HLEN + plen);
		put16(h + 4, id);
		put16(h + 6, ff);
		h[8] = ip->ttl;
		h[9] = ip->proto;
		h[10] = h[11] = 0;
		memcpy(h + 12, ip->src, 4);
		memcpy(h + 16, ip->dst, 4);
		uint16_t c = csum_fold(csum_add(0, h, IP4_HLEN));
		memcpy(h + 10, &c, 2);
		return o + IP4_HLEN;
	}
	put32(h, 0x60000000 | (ip->flow & 0xfffff));
	put16(h + 4, plen + (fr ? FRAG6_HLEN : 0));
	h[6] = fr ? PROTO_FRAG6 : ip->proto;
	h[7] = ip->ttl;
	memcpy(h + 8, ip->src, 16);
	memcpy(h + 24, ip->dst, 16);
	if (!fr)
		return o + IP6_HLEN;
	h[40] = ip->proto;
	h[41] = 0;
	put16(h + 42, fr->off | (fr->mf ? 1 : 0));
	put32(h + 44, fr->id);
	return o + IP6_HLEN + FRAG6_HLEN;
}

/* Pads a frame that ends at `end` to the Ethernet minimum. Returns the frame length. */
static uint32_t finish(const struct gen *g, uint8_t *f, uint32_t end, uint32_t *l3len)
{
	*l3len = end - g->l2;
	if (end < ETH_MIN) {
		memset(f + end, 0, ETH_MIN - end);
		end = ETH_MIN;
	}
	return end;
}

static uint64_t pseudo_sum(const struct l3 *ip, uint32_t l4len)
{
	uint64_t sum;

	if (ip->family == 4) {
		sum = csum_add(0, ip->src, 4);
		sum = csum_add(sum, ip->dst, 4);
		sum = csum_u16(sum, ip->proto);
		return csum_u16(sum, l4len);
	}
	sum = csum_add(0, ip->src, 16);
	sum = csum_add(sum, ip->dst, 16);
	sum = csum_u16(sum, l4len >> 16);
	sum = csum_u16(sum, l4len & 0xffff);
	return csum_u16(sum, ip->proto);
}

/* Stores the L4 checksum: hdr/hlen is summed here, rest is the sum of the l4len - hlen bytes that
 * follow it. ICMPv4 has no pseudo-header; UDP sends 0 as 0xffff. */
static void l4_csum(const struct l3 *ip, uint8_t *hdr, uint32_t hlen, uint64_t rest, uint32_t l4len,
		    uint32_t csum_off)
{
	uint64_t sum = ip->proto == IPPROTO_ICMP_ ? 0 : pseudo_sum(ip, l4len);
	uint16_t c;

	hdr[csum_off] = hdr[csum_off + 1] = 0;
	c = csum_fold(csum_add(sum + rest, hdr, hlen));
	if (c == 0 && ip->proto == IPPROTO_UDP_)
		c = 0xffff;
	memcpy(hdr + csum_off, &c, 2);
}

static void put_tcp(uint8_t *t, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
		    uint32_t optlen, uint8_t flags, uint16_t win)
{
	put16(t, sport);
	put16(t + 2, dport);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = (uint8_t)(((TCP_HLEN + optlen) / 4) << 4);
	t[13] = flags;
	put16(t + 14, win);
	put32(t + 16, 0); /* checksum, urgent pointer */
}

static void put_udp(uint8_t *u, uint16_t sport, uint16_t dport, uint32_t len)
{
	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, len);
	put16(u + 6, 0);
}

static void put_icmp_echo(uint8_t *p, uint8_t type, uint16_t id, uint16_t seq)
{
	p[0] = type;
	p[1] = 0;
	put16(p + 2, 0);
	put16(p + 4, id);
	put16(p + 6, seq);
}

/* TCP options of a SYN as Linux sends them: MSS, SACK permitted, timestamps, NOP, window
 * scale. Writes 20 bytes. */
static void put_syn_opts(uint8_t *o, uint16_t mss, uint32_t tsval)
{
	static const uint8_t tmpl[20] = {2, 4, 0, 0, 4, 2, 8, 10, 0, 0,
					 0, 0, 0, 0, 0, 0, 1, 3,  3, 7};

	memcpy(o, tmpl, sizeof(tmpl));
	put16(o + 2, mss);
	put32(o + 8, tsval);
}

/* ---- payloads of the attack types ---- */

static void pl_random(uint8_t *p, uint32_t n, struct rng *r)
{
	rng_fill(r, p, n);
}

/* SYN: options, then (if len= asks for more) random data. */
static void pl_syn(uint8_t *p, uint32_t n, struct rng *r)
{
	if (n < 20) {
		pl_random(p, n, r);
		return;
	}
	put_syn_opts(p, 1460, (uint32_t)rng_next(r));
	pl_random(p + 20, n - 20, r);
}

/* Echo data the way ping fills it: a timestamp, then 0x10, 0x11, ... */
static void pl_ping(uint8_t *p, uint32_t n, struct rng *r)
{
	(void)r;
	for (uint32_t i = 0; i < n; i++)
		p[i] = i < 8 ? (uint8_t)(0x65 + i) : (uint8_t)(0x10 + (i - 8));
}

static void fill_text(uint8_t *p, uint32_t n, struct rng *r)
{
	static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789";

	for (uint32_t i = 0; i < n; i++)
		p[i] = (uint8_t)al[rng_below(r, sizeof(al) - 1)];
}

/* DNS response to "example.com ANY" filled with TXT records up to exactly n bytes. */
static void pl_dns(uint8_t *p, uint32_t n, struct rng *r)
{
	static const uint8_t q[] = {7,	 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3,
				    'c', 'o', 'm', 0,	0,   255, 0,   1};
	uint32_t o = 12 + sizeof(q), an = 0;

	if (n < o) {
		pl_random(p, n, r);
		return;
	}
	put16(p, rng_next(r) & 0xffff);
	put16(p + 2, 0x8180); /* response, recursion desired and available */
	put16(p + 4, 1);
	put32(p + 8, 0);
	memcpy(p + 12, q, sizeof(q));
	while (n - o >= 13) {
		uint32_t rr = n - o < 12 + 256 ? n - o : 12 + 256;
		if (n - o - rr > 0 && n - o - rr < 13)
			rr = n - o - 13;
		p[o] = 0xc0, p[o + 1] = 0x0c; /* name: pointer to the question */
		put16(p + o + 2, 16);	      /* TXT */
		put16(p + o + 4, 1);
		put32(p + o + 6, 3600);
		put16(p + o + 10, rr - 12);
		p[o + 12] = (uint8_t)(rr - 13);
		fill_text(p + o + 13, rr - 13, r);
		o += rr;
		an++;
	}
	memset(p + o, 0, n - o);
	put16(p + 6, an);
}

/* NTP mode 7 MON_GETLIST_1 response: 8-byte header and 72-byte items (6 in 440 bytes). */
static void pl_ntp(uint8_t *p, uint32_t n, struct rng *r)
{
	uint32_t items = n < 8 ? 0 : (n - 8) / 72;

	pl_random(p, n, r);
	if (n < 8)
		return;
	p[0] = 0xd7; /* response, more, version 2, mode 7 */
	p[1] = 0;
	p[2] = 3;  /* XNTPD */
	p[3] = 42; /* MON_GETLIST_1 */
	put16(p + 4, items > 0xfff ? 0xfff : items);
	put16(p + 6, 72);
}

static void pl_ssdp(uint8_t *p, uint32_t n, struct rng *r)
{
	static const char hdr[] =
	    "HTTP/1.1 200 OK\r\n"
	    "CACHE-CONTROL: max-age=120\r\n"
	    "ST: upnp:rootdevice\r\n"
	    "USN: uuid:6d6f6174-0000-1000-8000-020000000001::upnp:rootdevice\r\n"
	    "EXT:\r\n"
	    "SERVER: Linux/3.14 UPnP/1.0 moat-gen/1.0\r\n"
	    "LOCATION: http://192.0.2.1:49152/rootDesc.xml\r\n";
	uint32_t hl = sizeof(hdr) - 1;

	(void)r;
	if (n < hl + 11) {
		memcpy(p, hdr, n < hl ? n : hl);
		memset(p + (n < hl ? n : hl), ' ', n < hl ? 0 : n - hl);
		return;
	}
	memcpy(p, hdr, hl);
	memcpy(p + hl, "X-Pad: ", 7);
	memset(p + hl + 7, 'x', n - hl - 11);
	memcpy(p + n - 4, "\r\n\r\n", 4);
}

/* memcached UDP frame header, then "VALUE key 0 len" with the stored bytes. */
static void pl_memcached(uint8_t *p, uint32_t n, struct rng *r)
{
	char line[64];
	int ll;
	uint32_t dl;

	if (n < 8 + 40) {
		pl_random(p, n, r);
		return;
	}
	put16(p, rng_next(r) & 0xffff);
	put16(p + 2, 0);
	put16(p + 4, 1);
	put16(p + 6, 0);
	/* the line holds the data length, which depends on the line's length: size it for the
	 * longest, then any digit it lost becomes padding after "END" */
	ll = snprintf(line, sizeof(line), "VALUE moat 0 %u\r\n", n);
	dl = n - 8 - 7 - (uint32_t)ll;
	ll = snprintf(line, sizeof(line), "VALUE moat 0 %u\r\n", dl);
	memcpy(p + 8, line, (size_t)ll);
	fill_text(p + 8 + ll, dl, r);
	memcpy(p + 8 + (uint32_t)ll + dl, "\r\nEND\r\n", 7);
	memset(p + 8 + (uint32_t)ll + dl + 7, ' ', n - (8 + (uint32_t)ll + dl + 7));
}

/* BER tag with a long-form length of lb bytes. Returns the bytes written. */
static uint32_t ber_hdr(uint8_t *p, uint8_t tag, uint32_t len, int lb)
{
	p[0] = tag;
	p[1] = (uint8_t)(0x80 | lb);
	for (int i = 0; i < lb; i++)
		p[2 + i] = (uint8_t)(len >> (8 * (lb - 1 - i)));
	return 2 + (uint32_t)lb;
}

/* CLDAP searchResEntry (netlogon attribute), with 4-byte lengths as Active Directory writes. */
static void pl_cldap(uint8_t *p, uint32_t n, struct rng *r)
{
	uint32_t v, o = 0;

	if (n < 51) {
		pl_random(p, n, r);
		return;
	}
	v = n - 51;
	o += ber_hdr(p + o, 0x30, 45 + v, 4);
	memcpy(p + o, "\x02\x01\x01", 3), o += 3;
	o += ber_hdr(p + o, 0x64, 36 + v, 4);
	memcpy(p + o, "\x04\x00", 2), o += 2;
	o += ber_hdr(p + o, 0x30, 28 + v, 4);
	o += ber_hdr(p + o, 0x30, 22 + v, 4);
	memcpy(p + o, "\x04\x08netlogon", 10), o += 10;
	o += ber_hdr(p + o, 0x31, 6 + v, 4);
	o += ber_hdr(p + o, 0x04, v, 4);
	pl_random(p + o, v, r);
}

/* chargen: 72-character lines of the rotating printable ASCII pattern. */
static void pl_chargen(uint8_t *p, uint32_t n, struct rng *r)
{
	(void)r;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t line = i / 74, col = i % 74;
		p[i] = col == 72 ? '\r' : col == 73 ? '\n' : (uint8_t)(' ' + (line + col) % 95);
	}
}

/* SNMPv2c GetResponse with one varbind (sysDescr.0) whose string fills n bytes. */
static void pl_snmp(uint8_t *p, uint32_t n, struct rng *r)
{
	static const uint8_t oid[] = {0x06, 0x08, 0x2b, 6, 1, 2, 1, 1, 1, 0};
	uint32_t v, o = 0;

	if (n < 53) {
		pl_random(p, n, r);
		return;
	}
	v = n - 53;
	o += ber_hdr(p + o, 0x30, 49 + v, 2);
	memcpy(p + o, "\x02\x01\x01\x04\x06public", 11), o += 11;
	o += ber_hdr(p + o, 0xa2, 34 + v, 2);
	p[o] = 0x02, p[o + 1] = 4, o += 2;
	put32(p + o, (uint32_t)rng_next(r) & 0x7fffffff), o += 4;
	memcpy(p + o, "\x02\x01\x00\x02\x01\x00", 6), o += 6;
	o += ber_hdr(p + o, 0x30, 18 + v, 2);
	o += ber_hdr(p + o, 0x30, 14 + v, 2);
	memcpy(p + o, oid, sizeof(oid)), o += sizeof(oid);
	o += ber_hdr(p + o, 0x04, v, 2);
	fill_text(p + o, v, r);
}

/* GRE carrying IPv4/UDP with random data, as Mirai's "greip" sends. */
static void pl_gre(uint8_t *p, uint32_t n, struct rng *r)
{
	static const uint8_t src[4] = {192, 0, 2, 250}, dst[4] = {198, 51, 100, 250};
	uint8_t *ip = p + 4, *u = p + 24;
	uint16_t c;

	put16(p, 0);
	put16(p + 2, 0x0800);
	ip[0] = 0x45, ip[1] = 0;
	put16(ip + 2, n - 4);
	put16(ip + 4, rng_next(r) & 0xffff);
	put16(ip + 6, 0);
	ip[8] = 64, ip[9] = IPPROTO_UDP_;
	put16(ip + 10, 0);
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	c = csum_fold(csum_add(0, ip, 20));
	memcpy(ip + 10, &c, 2);
	uint16_t sport = rng_ephemeral(r), dport = rng_ephemeral(r);
	put_udp(u, sport, dport, n - 24);
	pl_random(p + GRE_MIN, n - GRE_MIN, r);
}

/* ---- attack types ---- */

struct kind {
	const char *name;
	uint8_t proto;	/* of the IPv4 variant; ICMP becomes ICMPv6, ipflood takes proto= */
	uint8_t flags;	/* TCP flags */
	uint16_t sport; /* fixed source port (reflection), 0 = random */
	uint16_t dport; /* default destination port, 0 = random per packet */
	uint16_t len;	/* default L3 length for IPv4 */
	void (*payload)(uint8_t *p, uint32_t n, struct rng *r);
};

static const struct kind kinds[GEN__TYPES] = {
    [GEN_SYN] = {"syn", IPPROTO_TCP_, TCPF_SYN, 0, 80, 60, pl_syn},
    [GEN_ACK] = {"ack", IPPROTO_TCP_, TCPF_ACK, 0, 80, 40, pl_random},
    [GEN_RST] = {"rst", IPPROTO_TCP_, TCPF_RST, 0, 80, 40, pl_random},
    [GEN_UDP] = {"udp", IPPROTO_UDP_, 0, 0, 0, 512, pl_random},
    [GEN_ICMP] = {"icmp", IPPROTO_ICMP_, 0, 0, 0, 84, pl_ping},
    [GEN_FRAG] = {"frag", IPPROTO_UDP_, 0, 0, 0, 2960, pl_random},
    [GEN_DNS] = {"dns", IPPROTO_UDP_, 0, 53, 0, 2960, pl_dns},
    [GEN_NTP] = {"ntp", IPPROTO_UDP_, 0, 123, 0, 468, pl_ntp},
    [GEN_SSDP] = {"ssdp", IPPROTO_UDP_, 0, 1900, 0, 320, pl_ssdp},
    [GEN_MEMCACHED] = {"memcached", IPPROTO_UDP_, 0, 11211, 0, 1500, pl_memcached},
    [GEN_CLDAP] = {"cldap", IPPROTO_UDP_, 0, 389, 0, 1472, pl_cldap},
    [GEN_CHARGEN] = {"chargen", IPPROTO_UDP_, 0, 19, 0, 1024, pl_chargen},
    [GEN_SNMP] = {"snmp", IPPROTO_UDP_, 0, 161, 0, 1200, pl_snmp},
    [GEN_IPFLOOD] = {"ipflood", PROTO_GRE, 0, 0, 0, 576, pl_gre},
    [GEN_CARPET] = {"carpet", IPPROTO_UDP_, 0, 0, 0, 512, pl_random},
};

const char *gen_type_name(enum gen_type t)
{
	return (unsigned)t < GEN__TYPES ? kinds[t].name : "?";
}

struct atk {
	struct gen_attack a;
	const struct kind *k;
	uint8_t family;
	uint8_t proto;
	bool frag;	/* datagrams are larger than the MTU */
	uint32_t fmax;	/* L3 payload bytes per fragment */
	uint8_t *dgram; /* L4 header and payload of one datagram */
	uint32_t l4_len, hlen, optlen;
	uint64_t psum; /* checksum of dgram[hlen..l4_len) */
	uint32_t off;  /* next fragment offset; 0 = start a new datagram */
	uint32_t frag_id;
	struct l3 ip;
	uint32_t salt;
	uint8_t spoof_ttl[4];
	uint64_t carpet_n;
	uint16_t icmp_seq;
	uint32_t dgram_pkts, dgram_bytes; /* per datagram, for the nominal bit rate */
};

static bool is_tcp(enum gen_type t)
{
	return t == GEN_SYN || t == GEN_ACK || t == GEN_RST;
}

static bool has_ports(enum gen_type t)
{
	return t != GEN_ICMP && t != GEN_IPFLOOD;
}

static uint32_t default_len(enum gen_type t, bool v4)
{
	uint32_t l = kinds[t].len;

	if (v4)
		return l;
	if (l > GEN_MTU) /* the IPv4 defaults above the MTU are two full fragments; same here */
		return IP6_HLEN + 2 * FRAG6_MAX;
	return l + 20 > GEN_MTU ? GEN_MTU : l + 20;
}

static uint32_t min_len(const struct gen_attack *a, bool v4)
{
	uint32_t l4 = is_tcp(a->type)	       ? TCP_HLEN
		      : a->type == GEN_ICMP    ? ICMP_HLEN
		      : a->type != GEN_IPFLOOD ? UDP_HLEN
		      : a->proto == PROTO_GRE  ? GRE_MIN
					       : 8;
	return (v4 ? IP4_HLEN : IP6_HLEN) + l4;
}

/* Picks the source of the next datagram and its TTL. */
static void atk_source(struct atk *t, struct rng *r)
{
	bool v4 = t->family == 4;

	if (t->a.sources == 0) {
		if (v4) {
			t->ip.src[0] = 203, t->ip.src[1] = 0, t->ip.src[2] = 113;
			t->ip.src[3] = (uint8_t)rng_below(r, 256);
		} else {
			spoof_v6(r, t->ip.src);
		}
		/* spoofed packets carry the TTLs of the few machines really sending them */
		t->ip.ttl = t->spoof_ttl[rng_next(r) & 3];
		return;
	}
	uint32_t k = rng_below(r, t->a.sources);
	if (v4)
		pool_v4(t->salt + k, t->ip.src);
	else
		pool_v6(k, t->salt, t->ip.src);
	t->ip.ttl = path_ttl(t->ip.src, v4 ? 4 : 16);
}

/* Carpet bombing: walk every address of the prefix in turn; beyond 2^24 addresses pick randomly
 * (only the low 64 host bits vary). */
static void atk_carpet_dst(struct atk *t, struct rng *r)
{
	int hostbits = 128 - t->a.plen;
	uint64_t h = hostbits <= 24 ? t->carpet_n++ % (1ULL << hostbits) : rng_next(r);
	uint8_t *d = t->ip.dst;
	int alen = t->family == 4 ? 4 : 16;

	if (hostbits < 64)
		h &= (1ULL << hostbits) - 1;
	memcpy(d, t->family == 4 ? t->a.target.b + 12 : t->a.target.b, (size_t)alen);
	for (int i = alen - 1; i >= 0 && h; i--, h >>= 8)
		d[i] |= (uint8_t)h;
}

/* Starts a new datagram: source, destination, ports or ids, checksum. */
static void atk_dgram(struct atk *t, struct rng *r)
{
	const struct gen_attack *a = &t->a;
	uint8_t *d = t->dgram;

	atk_source(t, r);
	if (a->type == GEN_CARPET)
		atk_carpet_dst(t, r);
	t->ip.ipid = (uint16_t)rng_next(r);
	t->frag_id = t->family == 4 ? t->ip.ipid : (uint32_t)rng_next(r);
	if (t->proto == IPPROTO_TCP_) {
		uint16_t dport = a->dport >= 0 ? (uint16_t)a->dport : t->k->dport;
		uint32_t ack = t->k->flags & TCPF_ACK ? (uint32_t)rng_next(r) : 0;
		uint16_t win = t->k->flags & TCPF_SYN ? 64240 : (uint16_t)(rng_next(r) | 0x100);
		uint16_t sport = rng_ephemeral(r);
		uint32_t seq = (uint32_t)rng_next(r);
		put_tcp(d, sport, dport, seq, ack, t->optlen, t->k->flags, win);
		l4_csum(&t->ip, d, TCP_HLEN, t->psum, t->l4_len, 16);
	} else if (t->proto == IPPROTO_UDP_) {
		uint16_t sport = t->k->sport ? t->k->sport : rng_ephemeral(r);
		uint16_t dport = a->dport >= 0 ? (uint16_t)a->dport : rng_ephemeral(r);
		put_udp(d, sport, dport, t->l4_len);
		l4_csum(&t->ip, d, UDP_HLEN, t->psum, t->l4_len, 6);
	} else if (t->proto == IPPROTO_ICMP_ || t->proto == IPPROTO_ICMPV6_) {
		put_icmp_echo(d, t->family == 4 ? 8 : 128, (uint16_t)rng_next(r), t->icmp_seq++);
		l4_csum(&t->ip, d, ICMP_HLEN, t->psum, t->l4_len, 2);
	}
}

/* Builds the next attack packet (a whole datagram or its next fragment) into s->frame.
 * Returns the frame length. */
static uint32_t atk_emit(const struct gen *g, struct stream *s, uint32_t *l3len)
{
	struct atk *t = s->atk;
	uint8_t *f = s->frame;
	uint32_t o, chunk;

	if (t->off == 0)
		atk_dgram(t, &s->rng);
	if (!t->frag) {
		o = put_headers(g, f, &t->ip, t->l4_len, NULL);
		memcpy(f + o, t->dgram, t->l4_len);
		return finish(g, f, o + t->l4_len, l3len);
	}
	chunk = t->l4_len - t->off < t->fmax ? t->l4_len - t->off : t->fmax;
	struct frag fr = {.off = t->off, .mf = t->off + chunk < t->l4_len, .id = t->frag_id};
	o = put_headers(g, f, &t->ip, chunk, &fr);
	memcpy(f + o, t->dgram + t->off, chunk);
	t->off = fr.mf ? t->off + chunk : 0;
	return finish(g, f, o + chunk, l3len);
}

/* Returns 0, or -ENOMEM. */
static int atk_init(const struct gen *g, struct stream *s, const struct gen_attack *a, int idx)
{
	struct atk *t = calloc(1, sizeof(*t));
	bool v4 = maddr_is_v4(&a->target);
	uint32_t iph = v4 ? IP4_HLEN : IP6_HLEN;

	if (!t)
		return -ENOMEM;
	t->a = *a;
	t->k = &kinds[a->type];
	t->family = v4 ? 4 : 6;
	t->proto = a->type == GEN_IPFLOOD ? (uint8_t)a->proto : t->k->proto;
	if (t->proto == IPPROTO_ICMP_ && !v4)
		t->proto = IPPROTO_ICMPV6_;
	t->l4_len = a->len - iph;
	t->hlen = t->proto == IPPROTO_TCP_				     ? TCP_HLEN
		  : t->proto == IPPROTO_UDP_				     ? UDP_HLEN
		  : t->proto == IPPROTO_ICMP_ || t->proto == IPPROTO_ICMPV6_ ? ICMP_HLEN
									     : 0;
	t->dgram = malloc(t->l4_len);
	if (!t->dgram) {
		free(t);
		return -ENOMEM;
	}
	s->atk = t;
	t->k->payload(t->dgram + t->hlen, t->l4_len - t->hlen, &s->rng);
	if (a->type == GEN_SYN && t->l4_len - t->hlen >= 20)
		t->optlen = 20;
	t->psum = csum_add(0, t->dgram + t->hlen, t->l4_len - t->hlen);
	t->frag = a->len > GEN_MTU;
	t->fmax = v4 ? FRAG4_MAX : FRAG6_MAX;
	t->dgram_pkts = t->frag ? (t->l4_len + t->fmax - 1) / t->fmax : 1;
	t->dgram_bytes = t->l4_len + t->dgram_pkts * (iph + (t->frag && !v4 ? FRAG6_HLEN : 0));
	t->ip.family = t->family;
	t->ip.proto = t->proto;
	t->ip.inbound = true;
	t->ip.df = t->proto == IPPROTO_TCP_;
	memcpy(t->ip.dst, v4 ? a->target.b + 12 : a->target.b, v4 ? 4 : 16);
	t->salt = (uint32_t)mix64(g->c.seed ^ ((uint64_t)idx << 40));
	for (int i = 0; i < 4; i++) {
		uint8_t h[8];
		uint64_t x = mix64(t->salt + (uint64_t)i);
		memcpy(h, &x, 8);
		t->spoof_ttl[i] = path_ttl(h, 8);
	}
	return 0;
}

/* ---- background: a pool of conversations, one packet per slot from a random one ---- */

enum conv_kind { CV_TCP, CV_DNS, CV_ICMP };
enum { T_SYN, T_SYNACK, T_ACK, T_REQ, T_DATA, T_DACK, T_FIN1, T_FIN2, T_LAST };

struct conv {
	bool live;
	uint8_t kind, state, family;
	bool host_client; /* the protected host opened the conversation */
	uint8_t host[16], peer[16];
	uint8_t host_ttl, peer_ttl;
	uint16_t cport, sport; /* client and server ports */
	uint32_t cseq, sseq;   /* next sequence numbers of client and server */
	uint32_t left;	       /* TCP: response bytes to send; ICMP: echo requests to send */
	uint32_t req;	       /* TCP request bytes; DNS: name index */
	uint16_t id, seq;      /* DNS id; ICMP id and sequence */
	uint16_t cwin, swin;
	uint8_t since_ack, qtype6;
	uint16_t ipid_h, ipid_p;
	uint32_t flow;
};

struct bg {
	struct gen_background b;
	struct conv conv[BG_CONVS];
	uint8_t pattern[GEN_MTU]; /* TCP payload bytes */
};

static const char *const dns_names[] = {"www.example.com", "mail.example.com", "example.org",
					"api.example.net", "cdn.example.org",  "ns1.example.com"};

static uint16_t pick_service(struct rng *r)
{
	static const uint16_t ports[16] = {443, 443, 443, 443, 443, 443,  443,	443,
					   443, 443, 22,  993, 993, 8443, 8443, 853};
	return ports[rng_next(r) & 15];
}

static void conv_new(const struct bg *b, struct conv *c, struct rng *r)
{
	double u = rng_unit(r), h = rng_unit(r);
	uint32_t host = (uint32_t)(b->b.hosts * h * h); /* busier hosts first */

	memset(c, 0, sizeof(*c));
	c->live = true;
	c->family = rng_unit(r) < b->b.v6 ? 6 : 4;
	c->kind = u < 0.55 ? CV_TCP : u < 0.9 ? CV_DNS : CV_ICMP;
	c->host_client = rng_unit(r) < 0.3;
	if (c->family == 4) {
		memcpy(c->host, pfx4_protected, 3);
		c->host[3] = (uint8_t)(host + 1);
		pool_v4(rng_below(r, GEN_V4_SOURCES), c->peer);
	} else {
		memcpy(c->host, pfx6_protected, 6);
		c->host[15] = (uint8_t)(host + 1);
		pool_v6(rng_below(r, BG_PEERS6), 0xb9b9b9b9, c->peer);
	}
	c->host_ttl = host % 4 == 3 ? 127 : 63; /* one hop to the mirror port */
	c->peer_ttl = path_ttl(c->peer, c->family == 4 ? 4 : 16);
	c->cport = (uint16_t)(32768 + rng_below(r, 28232));
	c->sport = c->kind == CV_DNS ? 53 : c->host_client ? 443 : pick_service(r);
	c->cseq = (uint32_t)rng_next(r);
	c->sseq = (uint32_t)rng_next(r);
	c->cwin = (uint16_t)(500 + rng_below(r, 1500));
	c->swin = (uint16_t)(500 + rng_below(r, 1500));
	/* response sizes spread over orders of magnitude, 300 B to 150 kB (integer only, so the
	 * output does not depend on the libm) */
	c->left = rng_below(r, 10);
	c->left = c->kind == CV_ICMP ? 1 + c->left % 4 : 300 + rng_below(r, 300u << c->left);
	c->req = c->kind == CV_DNS ? rng_below(r, 6) : 80 + rng_below(r, 700);
	c->qtype6 = rng_unit(r) < 0.3;
	c->id = (uint16_t)rng_next(r);
	c->ipid_h = (uint16_t)rng_next(r);
	c->ipid_p = (uint16_t)rng_next(r);
	c->flow = (uint32_t)rng_next(r) & 0xfffff;
}

/* Addressing of a packet from the client (from_client) or the server of c. */
static void conv_l3(struct conv *c, bool from_client, uint8_t proto, struct l3 *ip)
{
	bool from_host = from_client == c->host_client;
	int alen = c->family == 4 ? 4 : 16;

	ip->family = c->family;
	ip->proto = proto;
	ip->inbound = !from_host;
	ip->df = proto == IPPROTO_TCP_;
	ip->ttl = from_host ? c->host_ttl : c->peer_ttl;
	ip->ipid = from_host ? c->ipid_h++ : c->ipid_p++;
	ip->flow = c->flow;
	memcpy(ip->src, from_host ? c->host : c->peer, (size_t)alen);
	memcpy(ip->dst, from_host ? c->peer : c->host, (size_t)alen);
}

static uint32_t emit_tcp(const struct gen *g, struct stream *s, struct conv *c, bool from_client,
			 uint8_t flags, const uint8_t *data, uint32_t dlen, uint32_t *l3len)
{
	struct l3 ip;
	uint8_t *f = s->frame, *t;
	uint32_t optlen = flags & TCPF_SYN ? 20 : 0, l4 = TCP_HLEN + optlen + dlen, o;
	uint16_t mss = c->family == 4 ? 1460 : 1440;

	conv_l3(c, from_client, IPPROTO_TCP_, &ip);
	o = put_headers(g, f, &ip, l4, NULL);
	t = f + o;
	put_tcp(t, from_client ? c->cport : c->sport, from_client ? c->sport : c->cport,
		from_client ? c->cseq : c->sseq,
		flags & TCPF_ACK ? (from_client ? c->sseq : c->cseq) : 0, optlen, flags,
		flags & TCPF_SYN ? 64240
		: from_client	 ? c->cwin
				 : c->swin);
	if (optlen)
		put_syn_opts(t + TCP_HLEN, mss, c->cseq ^ c->sseq);
	if (dlen)
		memcpy(t + TCP_HLEN + optlen, data, dlen);
	l4_csum(&ip, t, l4, 0, l4, 16);
	return finish(g, f, o + l4, l3len);
}

static uint32_t emit_udp(const struct gen *g, struct stream *s, struct conv *c, bool from_client,
			 const uint8_t *data, uint32_t dlen, uint32_t *l3len)
{
	struct l3 ip;
	uint8_t *f = s->frame;
	uint32_t l4 = UDP_HLEN + dlen, o;

	conv_l3(c, from_client, IPPROTO_UDP_, &ip);
	ip.df = false;
	o = put_headers(g, f, &ip, l4, NULL);
	put_udp(f + o, from_client ? c->cport : c->sport, from_client ? c->sport : c->cport, l4);
	memcpy(f + o + UDP_HLEN, data, dlen);
	l4_csum(&ip, f + o, l4, 0, l4, 6);
	return finish(g, f, o + l4, l3len);
}

/* Advances a TCP conversation by one packet: handshake, request, MSS-sized response segments
 * acknowledged every second one, FIN exchange. */
static uint32_t conv_tcp(const struct gen *g, struct stream *s, struct conv *c, uint32_t *l3len)
{
	const uint8_t *pat = g->bg->pattern;
	uint32_t mss = c->family == 4 ? 1460 : 1440, n, len = 0;

	switch (c->state) {
	case T_SYN:
		len = emit_tcp(g, s, c, true, TCPF_SYN, NULL, 0, l3len);
		c->cseq++, c->state = T_SYNACK;
		break;
	case T_SYNACK:
		len = emit_tcp(g, s, c, false, TCPF_SYN | TCPF_ACK, NULL, 0, l3len);
		c->sseq++, c->state = T_ACK;
		break;
	case T_ACK:
		len = emit_tcp(g, s, c, true, TCPF_ACK, NULL, 0, l3len);
		c->state = T_REQ;
		break;
	case T_REQ:
		len = emit_tcp(g, s, c, true, TCPF_PSH | TCPF_ACK, pat, c->req, l3len);
		c->cseq += c->req, c->state = T_DATA;
		break;
	case T_DATA:
		n = c->left < mss ? c->left : mss;
		len = emit_tcp(g, s, c, false, TCPF_ACK | (n == c->left ? TCPF_PSH : 0),
			       pat + (c->sseq & 7), n, l3len);
		c->sseq += n, c->left -= n;
		if (++c->since_ack >= 2 || c->left == 0)
			c->state = T_DACK;
		break;
	case T_DACK:
		len = emit_tcp(g, s, c, true, TCPF_ACK, NULL, 0, l3len);
		c->since_ack = 0, c->state = c->left ? T_DATA : T_FIN1;
		break;
	case T_FIN1:
		len = emit_tcp(g, s, c, true, TCPF_FIN | TCPF_ACK, NULL, 0, l3len);
		c->cseq++, c->state = T_FIN2;
		break;
	case T_FIN2:
		len = emit_tcp(g, s, c, false, TCPF_FIN | TCPF_ACK, NULL, 0, l3len);
		c->sseq++, c->state = T_LAST;
		break;
	default:
		len = emit_tcp(g, s, c, true, TCPF_ACK, NULL, 0, l3len);
		c->live = false;
		break;
	}
	return len;
}

/* Writes a DNS query (answers = 0) or its response into p. Returns the length. */
static uint32_t dns_msg(uint8_t *p, const struct conv *c, int answers)
{
	const char *name = dns_names[c->req % 6];
	uint32_t o = 12;
	uint16_t qtype = c->qtype6 ? 28 : 1;

	put16(p, c->id);
	put16(p + 2, answers ? 0x8180 : 0x0100);
	put16(p + 4, 1);
	put16(p + 6, (uint32_t)answers);
	put32(p + 8, 0);
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		p[o++] = (uint8_t)l;
		memcpy(p + o, name, l);
		o += (uint32_t)l;
		name += l + (dot ? 1 : 0);
	}
	p[o++] = 0;
	put16(p + o, qtype), put16(p + o + 2, 1), o += 4;
	for (int i = 0; i < answers; i++) {
		p[o] = 0xc0, p[o + 1] = 0x0c;
		put16(p + o + 2, qtype);
		put16(p + o + 4, 1);
		put32(p + o + 6, 300);
		put16(p + o + 10, c->qtype6 ? 16 : 4);
		o += 12;
		if (c->qtype6) {
			static const uint8_t a6[14] = {0x20, 0x01, 0x0d, 0xb8, 0x01, 0xff};
			memcpy(p + o, a6, 14);
			put16(p + o + 14, (c->id + (uint32_t)i) & 0xffff);
			o += 16;
		} else {
			p[o] = 192, p[o + 1] = 0, p[o + 2] = 2;
			p[o + 3] = (uint8_t)(1 + (c->id + (uint32_t)i) % 254);
			o += 4;
		}
	}
	return o;
}

static uint32_t conv_dns(const struct gen *g, struct stream *s, struct conv *c, uint32_t *l3len)
{
	uint8_t msg[512];
	uint32_t n;

	if (c->state == 0) {
		n = dns_msg(msg, c, 0);
		c->state = 1;
		return emit_udp(g, s, c, true, msg, n, l3len);
	}
	n = dns_msg(msg, c, 1 + c->id % 2);
	c->live = false;
	return emit_udp(g, s, c, false, msg, n, l3len);
}

static uint32_t conv_icmp(const struct gen *g, struct stream *s, struct conv *c, uint32_t *l3len)
{
	struct l3 ip;
	uint8_t *f = s->frame, *p;
	bool req = c->state == 0, v4 = c->family == 4;
	uint32_t l4 = ICMP_HLEN + 56, o;

	conv_l3(c, req, v4 ? IPPROTO_ICMP_ : IPPROTO_ICMPV6_, &ip);
	ip.df = true;
	o = put_headers(g, f, &ip, l4, NULL);
	p = f + o;
	put_icmp_echo(p, req ? (v4 ? 8 : 128) : (v4 ? 0 : 129), c->id, c->seq);
	pl_ping(p + ICMP_HLEN, 56, NULL);
	l4_csum(&ip, p, l4, 0, l4, 2);
	if (req) {
		c->state = 1;
	} else {
		c->state = 0, c->seq++;
		if (--c->left == 0)
			c->live = false;
	}
	return finish(g, f, o + l4, l3len);
}

static uint32_t bg_emit(const struct gen *g, struct stream *s, uint32_t *l3len)
{
	struct conv *c = &g->bg->conv[rng_below(&s->rng, BG_CONVS)];

	if (!c->live)
		conv_new(g->bg, c, &s->rng);
	switch (c->kind) {
	case CV_TCP:
		return conv_tcp(g, s, c, l3len);
	case CV_DNS:
		return conv_dns(g, s, c, l3len);
	default:
		return conv_icmp(g, s, c, l3len);
	}
}

/* ---- scheduling and merging ---- */

/* Time of packet n: evenly spaced at pps; during a ramp the rate rises linearly from 0, so
 * packet n comes at sqrt(2 * ramp * n / pps). */
static uint64_t sched(const struct stream *s, uint64_t n)
{
	if (s->ramp) {
		double rs = (double)s->ramp / NSEC, pps = (double)s->pps;
		double rn = pps * rs / 2;
		if ((double)n < rn)
			return s->t0 + (uint64_t)(sqrt(2.0 * rs * (double)n / pps) * NSEC);
		return s->t0 + s->ramp / 2 + (uint64_t)(((unsigned __int128)n * NSEC) / s->pps);
	}
	return s->t0 + (uint64_t)(((unsigned __int128)n * NSEC) / s->pps);
}

static void advance(struct stream *s)
{
	uint64_t t = sched(s, s->n);

	if (s->jitter)
		t += rng_next(&s->rng) % s->jitter;
	s->next_ts = t;
	if (t >= s->end)
		s->done = true;
}

int gen_next(struct gen *g, struct gen_pkt *p)
{
	struct stream *b = NULL;
	int bi = 0;

	if (g->c.count && g->emitted >= g->c.count) {
		g->ended = true;
		return 0;
	}
	for (int i = 0; i < g->nstreams; i++) {
		struct stream *s = &g->s[i];
		if (!s->done && (!b || s->next_ts < b->next_ts))
			b = s, bi = i;
	}
	if (!b) {
		g->ended = true;
		return 0;
	}
	p->ts_ns = b->next_ts;
	p->stream = bi;
	p->data = b->frame;
	p->len = b->atk ? atk_emit(g, b, &p->l3_len) : bg_emit(g, b, &p->l3_len);
	if (b->st.packets == 0)
		b->st.first_ns = p->ts_ns;
	b->st.last_ns = p->ts_ns;
	b->st.packets++;
	b->st.bytes += p->l3_len;
	b->n++;
	advance(b);
	g->emitted++;
	return 1;
}

/* ---- configuration ---- */

void gen_config_init(struct gen_config *c)
{
	memset(c, 0, sizeof(*c));
	c->seed = 1;
	c->start_ns = GEN_DEFAULT_START_S * NSEC;
	c->duration_ns = 10 * NSEC;
	c->vlan = -1;
	c->bg.hosts = 16;
	c->bg.v6 = 0.1;
}

void gen_attack_init(struct gen_attack *a)
{
	memset(a, 0, sizeof(*a));
	a->plen = 128;
	a->dur_ns = GEN_FOREVER;
	a->sources = GEN_SOURCES_DEFAULT;
	a->dport = -1;
	a->proto = PROTO_GRE;
}

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -1)

/* Fills the defaults left in a and checks it. Returns 0, or -1 with a message in err. */
static int attack_resolve(struct gen_attack *a, char *err, size_t errlen)
{
	bool v4;

	if ((unsigned)a->type >= GEN__TYPES)
		return ERR("unknown attack type %d", (int)a->type);
	v4 = maddr_is_v4(&a->target);
	if (v4 ? memcmp(a->target.b + 12, pfx4_protected, 3) != 0 || a->plen < 120
	       : memcmp(a->target.b, pfx6_protected, 6) != 0 || a->plen < 48)
		return ERR("target must lie in 198.51.100.0/24 or 2001:db8:5::/48");
	if (a->type != GEN_CARPET && a->plen != 128)
		return ERR("%s takes one address; carpet takes a prefix", kinds[a->type].name);
	if (a->pps < 1 || a->pps > GEN_MAX_PPS)
		return ERR("rate must be 1..%d pps", GEN_MAX_PPS);
	if (a->sources == GEN_SOURCES_DEFAULT)
		a->sources = v4 ? GEN_V4_SOURCES : ATK_SOURCES6;
	if (v4 && a->sources > GEN_V4_SOURCES)
		return ERR("an IPv4 attack has at most %d distinct sources (192.0.2.0/24, "
			   "203.0.113.0/24); use sources=0 (spoofed) or an IPv6 target",
			   GEN_V4_SOURCES);
	if (a->type == GEN_IPFLOOD && a->proto != PROTO_GRE && !(a->proto == 0 && v4))
		return ERR("ipflood: proto must be 47, or 0 for an IPv4 target");
	if (a->dport >= 0 && !has_ports(a->type))
		return ERR("%s has no ports: dport= does not apply", kinds[a->type].name);
	if (a->dport > 65535)
		return ERR("dport must be 0..65535");
	if (a->len == 0)
		a->len = default_len(a->type, v4);
	if (a->len < min_len(a, v4) || a->len > GEN_MAX_LEN)
		return ERR("%s: len must be %u..%d for IPv%d", kinds[a->type].name, min_len(a, v4),
			   GEN_MAX_LEN, v4 ? 4 : 6);
	if (a->type == GEN_FRAG && a->len <= GEN_MTU)
		return ERR("frag: len must exceed the MTU (%d) to fragment", GEN_MTU);
	if (a->dur_ns == 0)
		return ERR("dur must be positive");
	if (a->dur_ns != GEN_FOREVER && a->ramp_ns > a->dur_ns)
		return ERR("ramp is longer than dur");
	return 0;
}

static void stream_name(struct stream *s, const struct gen_attack *a)
{
	char buf[64];

	if (a->type == GEN_CARPET)
		prefix_str(&a->target, a->plen, buf, sizeof(buf));
	else
		maddr_str(&a->target, buf);
	snprintf(s->name, sizeof(s->name), "%s@%s", kinds[a->type].name, buf);
}

static int check_config(const struct gen_config *c, char *err, size_t errlen)
{
	const struct gen_background *b = &c->bg;

	if (!c->background_on && c->n_attacks == 0)
		return ERR("nothing to generate: give --background and/or --attack");
	if (c->n_attacks < 0 || c->n_attacks > GEN_MAX_ATTACKS)
		return ERR("at most %d attacks", GEN_MAX_ATTACKS);
	if (c->duration_ns == GEN_FOREVER && c->count == 0)
		return ERR("unbounded run: give a duration or a packet count");
	if (c->duration_ns == 0)
		return ERR("duration must be positive");
	if (c->vlan > 4095)
		return ERR("VLAN ID must be 0..4095");
	if (c->background_on && (b->pps < 1 || b->pps > GEN_MAX_PPS))
		return ERR("background: rate must be 1..%d pps", GEN_MAX_PPS);
	if (c->background_on && (b->hosts < 1 || b->hosts > GEN_MAX_HOSTS))
		return ERR("background: hosts must be 1..%d", GEN_MAX_HOSTS);
	if (c->background_on && !(b->v6 >= 0 && b->v6 <= 1))
		return ERR("background: v6 must be 0..1");
	return 0;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static int stream_init(struct gen *g, int i, char *err, size_t errlen)
{
	struct stream *s = &g->s[i];
	uint64_t cap_end = add_sat(g->c.start_ns, g->c.duration_ns);
	struct gen_attack a;

	rng_seed(&s->rng, g->c.seed, (uint64_t)i);
	if (i == 0) {
		snprintf(s->name, sizeof(s->name), "background");
		s->done = !g->c.background_on;
		s->pps = g->c.background_on ? g->c.bg.pps : 1;
		s->t0 = g->c.start_ns;
		s->end = cap_end;
		s->jitter = NSEC / s->pps / 2;
		rng_fill(&s->rng, g->bg->pattern, sizeof(g->bg->pattern));
		return 0;
	}
	a = g->c.attacks[i - 1];
	if ((unsigned)a.type < GEN__TYPES)
		stream_name(s, &a);
	if (attack_resolve(&a, err, errlen) < 0)
		return -1;
	if (a.start_ns >= g->c.duration_ns)
		return ERR("start=%.3f s is not before the end of the capture (%.3f s)",
			   (double)a.start_ns / 1e9, (double)g->c.duration_ns / 1e9);
	s->pps = a.pps;
	s->ramp = a.ramp_ns;
	s->t0 = g->c.start_ns + a.start_ns;
	s->end = a.dur_ns == GEN_FOREVER ? cap_end : add_sat(s->t0, a.dur_ns);
	if (s->end > cap_end)
		s->end = cap_end;
	if (atk_init(g, s, &a, i) < 0)
		return ERR("out of memory");
	return 0;
}

struct gen *gen_new(const struct gen_config *c, char *err, size_t errlen)
{
	struct gen *g;

	if (check_config(c, err, errlen) < 0)
		return NULL;
	g = calloc(1, sizeof(*g));
	if (!g)
		goto enomem;
	g->c = *c;
	g->l2 = c->vlan >= 0 ? 18 : 14;
	g->nstreams = 1 + c->n_attacks;
	g->s = calloc((size_t)g->nstreams, sizeof(*g->s));
	g->bg = calloc(1, sizeof(*g->bg));
	if (!g->s || !g->bg)
		goto enomem;
	g->bg->b = c->bg;
	for (int i = 0; i < g->nstreams; i++) {
		char e[200];
		if (stream_init(g, i, e, sizeof(e)) < 0) {
			if (i == 0)
				snprintf(err, errlen, "background: %s", e);
			else
				snprintf(err, errlen, "attack %d (%s): %s", i, g->s[i].name, e);
			gen_free(g);
			return NULL;
		}
		if (!g->s[i].done)
			advance(&g->s[i]);
	}
	return g;
enomem:
	gen_free(g);
	snprintf(err, errlen, "out of memory");
	return NULL;
}

void gen_free(struct gen *g)
{
	if (!g)
		return;
	for (int i = 0; g->s && i < g->nstreams; i++) {
		if (g->s[i].atk)
			free(g->s[i].atk->dgram);
		free(g->s[i].atk);
	}
	free(g->s);
	free(g->bg);
	free(g);
}

int gen_nstreams(const struct gen *g)
{
	return g->nstreams;
}

const struct gen_stream_stats *gen_stats(const struct gen *g, int stream)
{
	return &g->s[stream].st;
}

const char *gen_stream_name(const struct gen *g, int stream)
{
	return g->s[stream].name;
}

/* ---- parsing ---- */

/* A non-negative number with an optional k/M/G suffix that ends up an integer.
 * Returns 0, or -1. */
static int parse_scaled(const char *s, uint64_t *v)
{
	char *end;
	double x, m = 1;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	x = strtod(s, &end);
	if (errno || end == s)
		return -1;
	if (*end == 'k' || *end == 'K')
		m = 1e3, end++;
	else if (*end == 'M')
		m = 1e6, end++;
	else if (*end == 'G')
		m = 1e9, end++;
	x *= m;
	if (*end || !(x >= 0 && x <= 1e15) || x != floor(x))
		return -1;
	*v = (uint64_t)x;
	return 0;
}

int gen_parse_count(const char *s, uint64_t *v)
{
	uint64_t x;

	if (parse_scaled(s, &x) < 0 || x == 0)
		return -1;
	*v = x;
	return 0;
}

int gen_parse_seconds(const char *s, uint64_t *ns)
{
	char *end;
	double x, m = 1e9;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	x = strtod(s, &end);
	if (errno || end == s)
		return -1;
	if (strcmp(end, "ms") == 0)
		m = 1e6;
	else if (strcmp(end, "s") != 0 && *end)
		return -1;
	x *= m;
	if (!(x >= 0 && x <= 1e18))
		return -1;
	*ns = (uint64_t)llround(x);
	return 0;
}

int gen_parse_background(const char *s, struct gen_background *b, char *err, size_t errlen)
{
	char buf[256], *save = NULL, *tok;
	uint64_t v;

	if (strlen(s) >= sizeof(buf))
		return ERR("too long");
	strcpy(buf, s);
	b->hosts = 16;
	b->v6 = 0.1;
	tok = strtok_r(buf, ":", &save);
	if (!tok || gen_parse_count(tok, &b->pps) < 0 || b->pps > GEN_MAX_PPS)
		return ERR("'%s': rate must be 1..%d pps", tok ? tok : "", GEN_MAX_PPS);
	while ((tok = strtok_r(NULL, ":", &save))) {
		char *val = strchr(tok, '=');
		if (!val)
			return ERR("'%s': expected key=value", tok);
		*val++ = 0;
		if (strcmp(tok, "hosts") == 0) {
			if (parse_scaled(val, &v) < 0 || v < 1 || v > GEN_MAX_HOSTS)
				return ERR("hosts must be 1..%d", GEN_MAX_HOSTS);
			b->hosts = (int)v;
		} else if (strcmp(tok, "v6") == 0) {
			char *end;
			b->v6 = strtod(val, &end);
			if (end == val || *end || !(b->v6 >= 0 && b->v6 <= 1))
				return ERR("v6 must be a fraction 0..1");
		} else {
			return ERR("unknown option '%s' (hosts, v6)", tok);
		}
	}
	return 0;
}

static int attack_opt(struct gen_attack *a, char *key, char *err, size_t errlen)
{
	char *val = strchr(key, '=');
	uint64_t v;

	*val++ = 0;
	if (strcmp(key, "start") == 0 || strcmp(key, "dur") == 0 || strcmp(key, "ramp") == 0) {
		if (gen_parse_seconds(val, &v) < 0)
			return ERR("%s: '%s' is not a duration in seconds", key, val);
		if (key[0] == 's')
			a->start_ns = v;
		else if (key[0] == 'd')
			a->dur_ns = v;
		else
			a->ramp_ns = v;
		return 0;
	}
	if (parse_scaled(val, &v) < 0 || v > UINT32_MAX - 1)
		return ERR("%s: '%s' is not a number", key, val);
	if (strcmp(key, "sources") == 0)
		a->sources = (uint32_t)v;
	else if (strcmp(key, "len") == 0)
		a->len = v ? (uint32_t)v : UINT32_MAX;
	else if (strcmp(key, "dport") == 0)
		a->dport = v > 65535 ? 65536 : (int)v;
	else if (strcmp(key, "proto") == 0 && a->type == GEN_IPFLOOD)
		a->proto = (int)(v > 255 ? 256 : v);
	else
		return ERR("unknown option '%s' (start, dur, sources, len, ramp, dport%s)", key,
			   a->type == GEN_IPFLOOD ? ", proto" : "");
	return 0;
}

static int attack_target(struct gen_attack *a, char *t, char *err, size_t errlen)
{
	size_t n = strlen(t);
	int r;

	if (n >= 2 && t[0] == '[' && t[n - 1] == ']') {
		t[n - 1] = 0;
		t++;
	}
	if (a->type == GEN_CARPET) {
		r = prefix_parse(t, &a->target, &a->plen);
		if (r == -2)
			return ERR("'%s': host bits set in the prefix", t);
		if (r < 0)
			return ERR("'%s' is not a prefix", t);
		return 0;
	}
	if (strchr(t, '/'))
		return ERR("'%s': a prefix target needs the carpet type", t);
	if (maddr_parse(t, &a->target) < 0)
		return ERR("'%s' is not an IPv4 or IPv6 address", t);
	a->plen = 128;
	return 0;
}

int gen_parse_attack(const char *s, struct gen_attack *a, char *err, size_t errlen)
{
	char buf[512], target[256] = "", *tok[32];
	int nt = 0, nopt, type;

	if (strlen(s) >= sizeof(buf))
		return ERR("too long");
	strcpy(buf, s);
	tok[nt++] = buf;
	for (char *p = buf; (p = strchr(p, ':')) && nt < 32; p++) {
		*p = 0;
		tok[nt++] = p + 1;
	}
	gen_attack_init(a);
	for (type = 0; type < GEN__TYPES; type++)
		if (strcmp(tok[0], kinds[type].name) == 0)
			break;
	if (type == GEN__TYPES)
		return ERR("unknown type '%s' (syn, ack, rst, udp, icmp, frag, dns, ntp, ssdp, "
			   "memcached, cldap, chargen, snmp, ipflood, carpet)",
			   tok[0]);
	a->type = (enum gen_type)type;
	for (nopt = 1; nopt < nt && !strchr(tok[nopt], '='); nopt++)
		;
	if (nopt < 3)
		return ERR("expected TYPE:TARGET:PPS[:key=value...]");
	for (int i = 1; i < nopt - 1; i++) {
		if (strlen(target) + strlen(tok[i]) + 2 > sizeof(target))
			return ERR("target too long");
		if (i > 1)
			strcat(target, ":");
		strcat(target, tok[i]);
	}
	if (attack_target(a, target, err, errlen) < 0)
		return -1;
	if (gen_parse_count(tok[nopt - 1], &a->pps) < 0 || a->pps > GEN_MAX_PPS)
		return ERR("'%s': rate must be 1..%d pps", tok[nopt - 1], GEN_MAX_PPS);
	for (int i = nopt; i < nt; i++) {
		if (!strchr(tok[i], '='))
			return ERR("'%s': options are key=value", tok[i]);
		if (attack_opt(a, tok[i], err, errlen) < 0)
			return -1;
	}
	if (a->len == UINT32_MAX)
		return ERR("len must be positive");
	struct gen_attack r = *a;
	return attack_resolve(&r, err, errlen);
}

/* ---- ground truth ---- */

static const char *fmt_ts(uint64_t ns, char *buf, size_t n)
{
	snprintf(buf, n, "%llu.%09llu", (unsigned long long)(ns / NSEC),
		 (unsigned long long)(ns % NSEC));
	return buf;
}

static void truth_attack(const struct stream *s, int i, FILE *f)
{
	const struct atk *t = s->atk;
	const struct gen_attack *a = &t->a;
	char b1[32], b2[32], tgt[64];
	uint64_t end = s->t0;
	uint64_t bps = (uint64_t)(((unsigned __int128)a->pps * t->dgram_bytes * 8) / t->dgram_pkts);

	if (s->st.packets) {
		end = add_sat(s->st.last_ns, NSEC / a->pps);
		if (end > s->end)
			end = s->end;
	}
	if (a->type == GEN_CARPET)
		prefix_str(&a->target, a->plen, tgt, sizeof(tgt));
	else
		maddr_str(&a->target, tgt);
	fprintf(f,
		"    {\"id\": %d, \"type\": \"%s\", \"target\": \"%s\", \"family\": %d, "
		"\"proto\": %u,\n     \"start\": %s, \"end\": %s, \"pps\": %llu, \"bps\": %llu, "
		"\"packets\": %llu, \"bytes\": %llu,\n     \"len\": %u, \"fragmented\": %s, "
		"\"packets_per_datagram\": %u, \"sources\": %u, \"spoofed\": %s, ",
		i, t->k->name, tgt, t->family, t->proto, fmt_ts(s->t0, b1, sizeof(b1)),
		fmt_ts(end, b2, sizeof(b2)), (unsigned long long)a->pps, (unsigned long long)bps,
		(unsigned long long)s->st.packets, (unsigned long long)s->st.bytes, a->len,
		t->frag ? "true" : "false", t->dgram_pkts, a->sources,
		a->sources ? "false" : "true");
	if (t->k->sport)
		fprintf(f, "\"sport\": %u, ", t->k->sport);
	else
		fprintf(f, "\"sport\": null, ");
	if (a->dport >= 0 || t->k->dport)
		fprintf(f, "\"dport\": %d, ", a->dport >= 0 ? a->dport : t->k->dport);
	else
		fprintf(f, "\"dport\": null, ");
	fprintf(f, "\"ramp\": %s}", fmt_ts(a->ramp_ns, b1, sizeof(b1)));
}

int gen_write_truth(const struct gen *g, FILE *f)
{
	const struct stream *bg = &g->s[0];
	char b1[32], b2[32];
	uint64_t end = add_sat(g->c.start_ns, g->c.duration_ns), last = g->c.start_ns;

	for (int i = 0; i < g->nstreams; i++)
		if (g->s[i].st.packets && g->s[i].st.last_ns >= last)
			last = g->s[i].st.last_ns + 1;
	/* cut short (count reached, or the caller stopped early): the capture ends after the last
	 * packet */
	if ((g->c.count && g->emitted >= g->c.count) || !g->ended || end == UINT64_MAX)
		end = last < end ? last : end;
	fprintf(f,
		"{\n  \"generator\": \"moat-gen\",\n  \"seed\": %llu,\n  \"start\": %s,\n"
		"  \"end\": %s,\n  \"complete\": %s,\n  \"packets\": %llu,\n",
		(unsigned long long)g->c.seed, fmt_ts(g->c.start_ns, b1, sizeof(b1)),
		fmt_ts(end, b2, sizeof(b2)), g->ended ? "true" : "false",
		(unsigned long long)g->emitted);
	if (g->c.background_on)
		fprintf(f,
			"  \"background\": {\"pps\": %llu, \"hosts\": %d, \"v6\": %g, "
			"\"packets\": %llu, \"bytes\": %llu},\n",
			(unsigned long long)g->c.bg.pps, g->c.bg.hosts, g->c.bg.v6,
			(unsigned long long)bg->st.packets, (unsigned long long)bg->st.bytes);
	else
		fprintf(f, "  \"background\": null,\n");
	fprintf(f, "  \"attacks\": [%s", g->nstreams > 1 ? "\n" : "");
	for (int i = 1; i < g->nstreams; i++) {
		truth_attack(&g->s[i], i, f);
		fprintf(f, "%s\n", i + 1 < g->nstreams ? "," : "");
	}
	fprintf(f, "%s]\n}\n", g->nstreams > 1 ? "  " : "");
	return ferror(f) ? -1 : 0;
}
