/* test_decode: decode_packet against hand-built frames, one case per header shape, and one
 * table row per malformed reason. */
#include <stdint.h>
#include <string.h>

#include "capture/decode.h"
#include "t.h"

/* A frame under construction. The helpers append one header each and return where it starts, so
 * a test can patch a field afterwards to make the packet lie. */
struct pkt {
	uint8_t b[2048];
	uint32_t n;
};

static const uint8_t V4_SRC[4] = {192, 0, 2, 1};
static const uint8_t V4_DST[4] = {198, 51, 100, 2};
static const uint8_t V6_SRC[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t V6_DST[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

static uint32_t put(struct pkt *k, const void *d, uint32_t n)
{
	uint32_t at = k->n;

	memcpy(k->b + k->n, d, n);
	k->n += n;
	return at;
}

static void set16(struct pkt *k, uint32_t off, uint16_t v)
{
	k->b[off] = v >> 8;
	k->b[off + 1] = v & 0xff;
}

static uint32_t eth(struct pkt *k, uint16_t type)
{
	uint8_t h[14] = {0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, type >> 8, type & 0xff};
	return put(k, h, sizeof(h));
}

/* One 802.1Q/802.1ad tag; the TPID is in the previous header, type is what follows. */
static uint32_t tag(struct pkt *k, uint16_t vid, uint16_t type)
{
	uint8_t h[4] = {vid >> 8, vid & 0xff, type >> 8, type & 0xff};
	return put(k, h, sizeof(h));
}

static uint32_t sll(struct pkt *k, uint16_t proto)
{
	uint8_t h[16] = {0, 0, 0, 1, 0, 6, 0x02, 0, 0, 0, 0, 1, 0, 0, proto >> 8, proto & 0xff};
	return put(k, h, sizeof(h));
}

/* IPv4 with ihl words of header (options are NOPs); total length 0 until fix4(). */
static uint32_t ip4(struct pkt *k, int ihl, uint16_t frag, uint8_t proto)
{
	uint8_t h[60] = {0x40 | ihl, 0, 0, 0, 0x12, 0x34, frag >> 8, frag & 0xff, 64, proto};

	memcpy(h + 12, V4_SRC, 4);
	memcpy(h + 16, V4_DST, 4);
	memset(h + 20, 1, sizeof(h) - 20);
	return put(k, h, ihl >= 5 ? ihl * 4 : 20);
}

static void fix4(struct pkt *k, uint32_t l3)
{
	set16(k, l3 + 2, k->n - l3);
}

static uint32_t ip6(struct pkt *k, uint8_t nh)
{
	uint8_t h[40] = {0x60, 0, 0, 0, 0, 0, nh, 57};

	memcpy(h + 8, V6_SRC, 16);
	memcpy(h + 24, V6_DST, 16);
	return put(k, h, sizeof(h));
}

static void fix6(struct pkt *k, uint32_t l3)
{
	set16(k, l3 + 4, k->n - l3 - 40);
}

/* Extension header of (units + 1) * 8 bytes: hop-by-hop, routing, destination options. */
static uint32_t ext6(struct pkt *k, uint8_t nh, uint8_t units)
{
	uint8_t h[256] = {nh, units};
	return put(k, h, (units + 1u) * 8);
}

static uint32_t frag6(struct pkt *k, uint8_t nh, uint16_t offset8, int more)
{
	uint16_t v = offset8 << 3 | (more ? 1 : 0);
	uint8_t h[8] = {nh, 0, v >> 8, v & 0xff, 0, 0, 0, 42};
	return put(k, h, sizeof(h));
}

static uint32_t tcp(struct pkt *k, uint16_t sp, uint16_t dp, int doff, uint8_t flags)
{
	uint8_t h[60] = {sp >> 8, sp & 0xff, dp >> 8, dp & 0xff, [12] = doff << 4, [13] = flags};
	return put(k, h, doff > 5 ? doff * 4 : 20);
}

static uint32_t udp(struct pkt *k, uint16_t sp, uint16_t dp)
{
	uint8_t h[8] = {sp >> 8, sp & 0xff, dp >> 8, dp & 0xff, 0, 8};
	return put(k, h, sizeof(h));
}

static uint32_t icmp(struct pkt *k, uint8_t type, uint8_t code)
{
	uint8_t h[8] = {type, code};
	return put(k, h, sizeof(h));
}

static void payload(struct pkt *k, uint32_t n)
{
	memset(k->b + k->n, 0xab, n);
	k->n += n;
}

static struct decode_stats stats;

static enum decode_reason dec(int link, const struct pkt *k, struct obs *o)
{
	memset(o, 0x5a, sizeof(*o)); /* poison: every field the decoder leaves alone shows up */
	return decode_packet(link, k->b, k->n, k->n, 777, o, &stats);
}

static void check_v4_addrs(const struct obs *o)
{
	struct maddr a;

	maddr_from_v4(&a, V4_SRC);
	CHECK(maddr_eq(&o->src, &a));
	maddr_from_v4(&a, V4_DST);
	CHECK(maddr_eq(&o->dst, &a));
	CHECK_EQ(o->family, 4);
}

static void check_v6_addrs(const struct obs *o)
{
	CHECK(memcmp(o->src.b, V6_SRC, 16) == 0);
	CHECK(memcmp(o->dst.b, V6_DST, 16) == 0);
	CHECK_EQ(o->family, 6);
}

static void test_tcp_syn(void)
{
	/* 02:00:00:00:00:01 <- 02:00:00:00:00:02, 192.0.2.1:12345 -> 198.51.100.2:80 SYN */
	static const uint8_t f[] = {
	    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00,
	    0x45, 0x00, 0x00, 0x28, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, 0xc0, 0x00,
	    0x02, 0x01, 0xc6, 0x33, 0x64, 0x02, 0x30, 0x39, 0x00, 0x50, 0x00, 0x00, 0x00, 0x01,
	    0x00, 0x00, 0x00, 0x00, 0x50, 0x02, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00};
	struct obs o;

	memset(&o, 0x5a, sizeof(o));
	CHECK_EQ(decode_packet(LINK_ETHERNET, f, sizeof(f), sizeof(f), 123456789, &o, &stats),
		 DEC_OK);
	check_v4_addrs(&o);
	CHECK_EQ(o.ts_ns, 123456789);
	CHECK_EQ(o.packets, 1);
	CHECK_EQ(o.bytes, 40);
	CHECK_EQ(o.len, 40);
	CHECK_EQ(o.sport, 12345);
	CHECK_EQ(o.dport, 80);
	CHECK_EQ(o.proto, IPPROTO_TCP_);
	CHECK_EQ(o.tcp_flags, TCPF_SYN);
	CHECK_EQ(o.ttl, 64);
	CHECK_EQ(o.frag, OBS_FRAG_NONE); /* DF is not fragmentation */
	CHECK(o.pad[0] == 0 && o.pad[1] == 0);
	CHECK_EQ(o.l4, 1);
}

/* VLAN stacks: TPIDs from the outside in; the last one carries IPv4. */
static void test_vlan(void)
{
	static const struct {
		int ntags;
		uint16_t tpid[5];
		enum decode_reason want;
	} cases[] = {
	    {1, {0x8100}, DEC_OK},
	    {2, {0x88a8, 0x8100}, DEC_OK},
	    {2, {0x9100, 0x8100}, DEC_OK},
	    {4, {0x88a8, 0x8100, 0x8100, 0x8100}, DEC_OK},
	    {5, {0x88a8, 0x8100, 0x8100, 0x8100, 0x8100}, DEC_VLAN_DEPTH},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pkt k = {0};
		struct obs o;
		uint32_t l3;

		eth(&k, cases[i].tpid[0]);
		for (int t = 0; t < cases[i].ntags; t++)
			tag(&k, 100 + t, t + 1 < cases[i].ntags ? cases[i].tpid[t + 1] : 0x0800);
		l3 = ip4(&k, 5, 0, IPPROTO_UDP_);
		udp(&k, 5353, 53);
		fix4(&k, l3);
		CHECK_EQ(dec(LINK_ETHERNET, &k, &o), cases[i].want);
		if (cases[i].want != DEC_OK)
			continue;
		check_v4_addrs(&o);
		CHECK_EQ(o.sport, 5353);
		CHECK_EQ(o.dport, 53);
		CHECK_EQ(o.bytes, 28);
	}
}

static void test_ip4_options(void)
{
	struct pkt k = {0};
	struct obs o;
	uint32_t l3;

	eth(&k, 0x0800);
	l3 = ip4(&k, 8, 0, IPPROTO_TCP_);
	tcp(&k, 443, 50000, 8, TCPF_ACK | TCPF_PSH);
	payload(&k, 100);
	fix4(&k, l3);
	CHECK_EQ(dec(LINK_ETHERNET, &k, &o), DEC_OK);
	CHECK_EQ(o.sport, 443);
	CHECK_EQ(o.dport, 50000);
	CHECK_EQ(o.tcp_flags, TCPF_ACK | TCPF_PSH);
	CHECK_EQ(o.bytes, 32 + 32 + 100);
}

static void test_ip4_udp_icmp(void)
{
	static const struct {
		uint8_t type, code;
		uint16_t dport;
	} icmps[] = {{8, 0, 0x0800}, {0, 0, 0x0000}, {3, 3, 0x0303}, {11, 1, 0x0b01}};
	struct pkt k = {0};
	struct obs o;
	uint32_t l3;

	eth(&k, 0x0800);
	l3 = ip4(&k, 5, 0, IPPROTO_UDP_);
	udp(&k, 123, 40000);
	payload(&k, 48);
	fix4(&k, l3);
	CHECK_EQ(dec(LINK_ETHERNET, &k, &o), DEC_OK);
	CHECK_EQ(o.proto, IPPROTO_UDP_);
	CHECK_EQ(o.sport, 123);
	CHECK_EQ(o.dport, 40000);
	CHECK_EQ(o.tcp_flags, 0);
	CHECK_EQ(o.bytes, 76);

	for (size_t i = 0; i < sizeof(icmps) / sizeof(icmps[0]); i++) {
		k.n = 0;
		eth(&k, 0x0800);
		l3 = ip4(&k, 5, 0, IPPROTO_ICMP_);
		icmp(&k, icmps[i].type, icmps[i].code);
		payload(&k, 56);
		fix4(&k, l3);
		CHECK_EQ(dec(LINK_ETHERNET, &k, &o), DEC_OK);
		CHECK_EQ(o.proto, IPPROTO_ICMP_);
		CHECK_EQ(o.sport, 0);
		CHECK_EQ(o.dport, icmps[i].dport);
		CHECK_EQ(o.tcp_flags, 0);
		CHECK_EQ(o.bytes, 84);
	}
}

static void test_ip4_frag(void)
{
	struct pkt k = {0};
	struct obs o;
	uint32_t l3;

	/* first: MF, offset 0, carries the UDP header */
	eth(&k, 0x0800);
	l3 = ip4(&k, 5, 0x2000, IPPROTO_UDP_);
	udp(&k, 1111, 2222);
	payload(&k, 1472);
	fix4(&k, l3);
	CHECK_EQ(dec(LINK_ETHERNET, &k, &o), DEC_OK);
	CHECK_EQ(o.frag, OBS_FRAG_FIRST);
	CHECK_EQ(o.sport, 1111);
	CHECK_EQ(o.dport, 2222);
	CHECK_EQ(o.bytes, 1500);

	/* later: offset 185 (1480 bytes); the payload must not be read as a UDP header, even
	 * when it is too short to be one */
	for (int more = 0; more < 2; more++) {
		k.n = 0;
		eth(&k, 0x0800);
		l3 = ip4(&k, 5, (more ? 0x2000 : 0) | 185, IPPROTO_UDP_);
		payload(&k, 3);
		fix4(&k, l3);
		CHECK_EQ(dec(LINK_ETHERNET, &k, &o), DEC_OK);
		CHECK_EQ(o.frag, OBS_FRAG_LATER);
		CHECK_EQ(o.proto, IPPROTO_UDP_);
		CHECK_EQ(o.sport, 0);
		CHECK_EQ(o.dport, 0);
		CHECK_EQ(o.tcp_flags, 0);
		CHECK_EQ(o.bytes, 23);
	}
}

static void test_ip6_tcp(void)
{
	struct pkt k = {0};
	struct obs o;
	uint32_t l3;

	eth(&k, 0x86dd);
	l3 = ip6(&k, IPPROTO_TCP_);
	tcp(&k, 33000, 22, 5, TCPF_SYN | TCPF_ACK);
	fix6(&k, l3);
	CHECK_EQ(dec(LINK_ETHERNET, &k, &o), DEC_OK);
	check_v6_addrs(&o);
	CHECK_EQ(o.proto, IPPROTO_TCP_);
	CHECK_EQ(o.sport, 33000);
	CHECK_EQ(o.dport, 22);
	CHECK_EQ(o.tcp_flags, TCPF_SYN | TCPF_ACK);
	CHECK_EQ(o.ttl, 57);
	CHECK_EQ(o.bytes, 60);
	CHECK_EQ(o.len, 60);
	CHECK_EQ(o.packets, 1);
	CHECK_EQ(o.frag, OBS_FRAG_NONE);
}

static void test_ip6_exthdrs(void)
{
	struct pkt k = {0};
	struct obs o;
	uint32_t l3;

	/* hop-by-hop (8) + destination options (16) + fragment (first) + UDP */
	eth(&k, 0x86dd);
	l3 = ip6(&k, 0);
	ext6(&k, 60, 0);
	ext6(&k, 44, 1);
	frag6(&k, IPPROTO_UDP_, 0, 1);
	udp(&k, 53, 4444);
	payload(&k, 20);
	fix6(&k, l3);
	CHECK_EQ(dec(LINK_ETHERNET, &k, &o), DEC_OK);
	CHECK_EQ(o.proto, IPPROTO_UDP_);
	CHECK_EQ(o.frag, OBS_FRAG_FIRST);
	CHECK_EQ(o.sport, 53);
	CHECK_EQ(o.dport, 4444);
	CHECK_EQ(o.bytes, 40 + 8 + 16 + 8 + 8 + 20);

	/* later fragment: proto from the fragment header, no ports */
	k.n = 0;
	eth(&k, 0x86dd);
	l3 = ip6(&k, 44);
	frag6(&k, IPPROTO_TCP_, 100, 1);
	payload(&k, 2);
	fix6(&k, l3);
	CHECK_EQ(dec(LINK_ETHERNET, &k, &o), DEC_OK);
	CHECK_EQ(o.frag, OBS_FRAG_LATER);
	CHECK_EQ(o.proto, IPPROTO_TCP_);
	CHECK_EQ(o.sport, 0);
	CHECK_EQ(o.dport, 0);
	CHECK_EQ(o.tcp_flags, 0);

	/* atomic fragment (offset 0, no M): not a fragment for our purposes */
	k.n = 0;
	eth(&k, 0x86dd);
	l3 = ip6(&k, 44);
	frag6(&k, IPPROTO_UDP_, 0, 0);
	udp(&k, 7, 9);
	fix6(&k, l3);
	CHECK_EQ(dec(LINK_ETHERNET, &k, &o), DEC_OK);
	CHECK_EQ(o.frag, OBS_FRAG_NONE);
	CHECK_EQ(o.dport, 9);

	/* routing + AH (payload len 4 -> (4 + 2) * 4 = 24 bytes) + TCP */
	k.n = 0;
	eth(&k, 0x86dd);
	l3 = ip6(&k, 43);
	ext6(&k, 51, 0);
	{
		uint8_t ah[24] = {IPPROTO_TCP_, 4};
		put(&k, ah, sizeof(ah));
	}
	tcp(&k, 1, 2, 5, TCPF_RST);
	fix6(&k, l3);
	CHECK_EQ(dec(LINK_ETHERNET, &k, &o), DEC_OK);
	CHECK_EQ(o.proto, IPPROTO_TCP_);
	CHECK_EQ(o.tcp_flags, TCPF_RST);
	CHECK_EQ(o.dport, 2);

	/* ESP and no-next-header end the chain */
	for (int nh = 50; nh <= 59; nh += 9) {
		k.n = 0;
		eth(&k, 0x86dd);
		l3 = ip6(&k, 60);
		ext6(&k, nh, 0);
		payload(&k, 16);
		fix6(&k, l3);
		CHECK_EQ(dec(LINK_ETHERNET, &k, &o), DEC_OK);
		CHECK_EQ(o.proto, nh);
		CHECK_EQ(o.sport, 0);
		CHECK_EQ(o.dport, 0);
	}

	/* exactly 8 extension headers are fine */
	k.n = 0;
	eth(&k, 0x86dd);
	l3 = ip6(&k, 60);
	for (int i = 0; i < 7; i++)
		ext6(&k, 60, 0);
	ext6(&k, IPPROTO_UDP_, 0);
	udp(&k, 10, 20);
	fix6(&k, l3);
	CHECK_EQ(dec(LINK_ETHERNET, &k, &o), DEC_OK);
	CHECK_EQ(o.dport, 20);
}

static void test_icmp6(void)
{
	struct pkt k = {0};
	struct obs o;
	uint32_t l3;

	eth(&k, 0x86dd);
	l3 = ip6(&k, IPPROTO_ICMPV6_);
	icmp(&k, 128, 0);
	payload(&k, 56);
	fix6(&k, l3);
	CHECK_EQ(dec(LINK_ETHERNET, &k, &o), DEC_OK);
	CHECK_EQ(o.proto, IPPROTO_ICMPV6_);
	CHECK_EQ(o.sport, 0);
	CHECK_EQ(o.dport, 128 << 8);
	CHECK_EQ(o.bytes, 104);
}

static void test_jumbo(void)
{
	struct pkt k = {0};
	struct obs o;
	uint32_t l3;
	uint8_t hbh[8] = {IPPROTO_UDP_, 0, 0xc2, 4, 0, 1, 0x11, 0x70};

	eth(&k, 0x86dd);
	l3 = ip6(&k, 0);
	put(&k, hbh, sizeof(hbh));
	udp(&k, 9, 9);
	memset(&o, 0, sizeof(o));
	CHECK_EQ(decode_packet(LINK_ETHERNET, k.b, k.n, 14 + 70000, 1, &o, &stats), DEC_OK);
	CHECK_EQ(o.bytes, 70000);
	CHECK_EQ(o.dport, 9);

	/* payload length 0 with a hop-by-hop header but no jumbo option: the length lies */
	hbh[2] = 1; /* PadN */
	hbh[3] = 4;
	memcpy(k.b + l3 + 40, hbh, sizeof(hbh));
	CHECK_EQ(decode_packet(LINK_ETHERNET, k.b, k.n, 14 + 70000, 1, &o, &stats), DEC_BAD_IP_LEN);
}

static void test_link_types(void)
{
	struct pkt k = {0};
	struct obs o;
	uint32_t l3;

	sll(&k, 0x0800);
	l3 = ip4(&k, 5, 0, IPPROTO_UDP_);
	udp(&k, 67, 68);
	fix4(&k, l3);
	CHECK_EQ(dec(LINK_LINUX_SLL, &k, &o), DEC_OK);
	CHECK_EQ(o.dport, 68);
	CHECK_EQ(o.bytes, 28);

	k.n = 0;
	sll(&k, 0x86dd);
	l3 = ip6(&k, IPPROTO_UDP_);
	udp(&k, 67, 68);
	fix6(&k, l3);
	CHECK_EQ(dec(LINK_LINUX_SLL, &k, &o), DEC_OK);
	CHECK_EQ(o.family, 6);
	CHECK_EQ(o.sport, 67);

	/* raw and DLT_IPV4: the same IPv4 bytes with no L2 header */
	k.n = 0;
	l3 = ip4(&k, 5, 0, IPPROTO_TCP_);
	tcp(&k, 1000, 2000, 5, TCPF_FIN);
	fix4(&k, l3);
	CHECK_EQ(dec(LINK_RAW, &k, &o), DEC_OK);
	check_v4_addrs(&o);
	CHECK_EQ(o.tcp_flags, TCPF_FIN);
	CHECK_EQ(dec(LINK_IPV4, &k, &o), DEC_OK);
	CHECK_EQ(o.bytes, 40);
	CHECK_EQ(dec(LINK_IPV6, &k, &o), DEC_BAD_IP_VER);
	memset(&o, 0, sizeof(o));
	CHECK_EQ(decode_ip(k.b, k.n, k.n, 5, &o, &stats), DEC_OK);
	CHECK_EQ(o.ts_ns, 5);
	CHECK_EQ(o.dport, 2000);

	k.n = 0;
	l3 = ip6(&k, IPPROTO_TCP_);
	tcp(&k, 1000, 2000, 5, TCPF_FIN);
	fix6(&k, l3);
	CHECK_EQ(dec(LINK_RAW, &k, &o), DEC_OK);
	check_v6_addrs(&o);
	CHECK_EQ(dec(LINK_IPV6, &k, &o), DEC_OK);
	CHECK_EQ(o.bytes, 60);
	CHECK_EQ(dec(LINK_IPV4, &k, &o), DEC_BAD_IP_VER);

	CHECK_EQ(dec(12345, &k, &o), DEC_NOT_IP);
}

/* Snaplen cuts are not malformations: decode what was captured. */
static void test_snaplen(void)
{
	struct pkt k = {0};
	struct obs o;
	uint32_t l3;

	eth(&k, 0x0800);
	l3 = ip4(&k, 5, 0, IPPROTO_TCP_);
	tcp(&k, 80, 51000, 5, TCPF_ACK);
	payload(&k, 1460);
	fix4(&k, l3);
	CHECK_EQ(k.n, 1514);

	CHECK_EQ(decode_packet(LINK_ETHERNET, k.b, 54, 1514, 1, &o, &stats), DEC_OK);
	CHECK_EQ(o.bytes, 1500);
	CHECK_EQ(o.len, 1500);
	CHECK_EQ(o.sport, 80);
	CHECK_EQ(o.tcp_flags, TCPF_ACK);
	CHECK_EQ(o.l4, 1);

	/* cut inside TCP: addresses and length, no ports */
	memset(&o, 0x5a, sizeof(o));
	CHECK_EQ(decode_packet(LINK_ETHERNET, k.b, 44, 1514, 1, &o, &stats), DEC_OK);
	CHECK_EQ(o.bytes, 1500);
	CHECK_EQ(o.proto, IPPROTO_TCP_);
	CHECK_EQ(o.sport, 0);
	CHECK_EQ(o.dport, 0);
	CHECK_EQ(o.tcp_flags, 0);
	CHECK_EQ(o.l4, 0); /* ports unknown, not zero */
	check_v4_addrs(&o);

	/* cut inside the fixed IPv4 header and inside Ethernet */
	CHECK_EQ(decode_packet(LINK_ETHERNET, k.b, 33, 1514, 1, &o, &stats), DEC_TRUNC_L3);
	CHECK_EQ(decode_packet(LINK_ETHERNET, k.b, 13, 1514, 1, &o, &stats), DEC_TRUNC_L2);

	/* cut inside IPv4 options */
	k.n = 0;
	eth(&k, 0x0800);
	l3 = ip4(&k, 15, 0, IPPROTO_UDP_);
	udp(&k, 1, 2);
	fix4(&k, l3);
	CHECK_EQ(decode_packet(LINK_ETHERNET, k.b, 40, k.n, 1, &o, &stats), DEC_OK);
	CHECK_EQ(o.bytes, 68);
	CHECK_EQ(o.dport, 0);

	/* cut inside the IPv6 extension chain: proto is the header we could not read */
	k.n = 0;
	eth(&k, 0x86dd);
	l3 = ip6(&k, 0);
	ext6(&k, 60, 0);
	ext6(&k, IPPROTO_TCP_, 3);
	tcp(&k, 1, 2, 5, 0);
	fix6(&k, l3);
	CHECK_EQ(decode_packet(LINK_ETHERNET, k.b, 14 + 40 + 8 + 4, k.n, 1, &o, &stats), DEC_OK);
	CHECK_EQ(o.proto, 60);
	CHECK_EQ(o.bytes, 40 + 8 + 32 + 20);
	CHECK_EQ(o.dport, 0);
	/* cut after the chain, inside TCP */
	CHECK_EQ(decode_packet(LINK_ETHERNET, k.b, k.n - 1, k.n, 1, &o, &stats), DEC_OK);
	CHECK_EQ(o.proto, IPPROTO_TCP_);
	CHECK_EQ(o.dport, 0);

	/* Ethernet padding: wire longer than the IP length is fine */
	k.n = 0;
	eth(&k, 0x0800);
	l3 = ip4(&k, 5, 0, IPPROTO_TCP_);
	tcp(&k, 1, 2, 5, TCPF_RST);
	fix4(&k, l3);
	payload(&k, 6);
	CHECK_EQ(dec(LINK_ETHERNET, &k, &o), DEC_OK);
	CHECK_EQ(o.bytes, 40);

	/* a caller passing wirelen < caplen does not make the packet bad */
	CHECK_EQ(decode_packet(LINK_ETHERNET, k.b, k.n, 10, 1, &o, &stats), DEC_OK);
}

/* One builder per malformed (or foreign) packet shape. Each fills k and sets its wirelen. */
typedef void (*build_fn)(struct pkt *k, uint32_t *wire);

static void b_arp(struct pkt *k, uint32_t *wire)
{
	eth(k, 0x0806);
	payload(k, 28);
}

static void b_eth_short(struct pkt *k, uint32_t *wire)
{
	eth(k, 0x0800);
	k->n = 10;
}

static void b_vlan_short(struct pkt *k, uint32_t *wire)
{
	eth(k, 0x8100);
	tag(k, 1, 0x0800);
	k->n -= 2;
	*wire = 64;
}

static void b_sll_short(struct pkt *k, uint32_t *wire)
{
	sll(k, 0x0800);
	k->n = 15;
}

static void b_ip4_short(struct pkt *k, uint32_t *wire)
{
	eth(k, 0x0800);
	ip4(k, 5, 0, IPPROTO_TCP_);
	k->n -= 1;
	*wire = 60;
}

static void b_ip6_short(struct pkt *k, uint32_t *wire)
{
	eth(k, 0x86dd);
	ip6(k, IPPROTO_TCP_);
	k->n -= 8;
	*wire = 1514;
}

static void b_ver(struct pkt *k, uint32_t *wire)
{
	uint32_t l3;

	eth(k, 0x0800);
	l3 = ip6(k, IPPROTO_UDP_);
	udp(k, 1, 2);
	fix6(k, l3);
}

static void b_ver_raw(struct pkt *k, uint32_t *wire)
{
	uint32_t l3 = ip4(k, 5, 0, IPPROTO_UDP_);

	udp(k, 1, 2);
	fix4(k, l3);
	k->b[l3] = 0x55;
}

static void b_ihl(struct pkt *k, uint32_t *wire)
{
	uint32_t l3;

	eth(k, 0x0800);
	l3 = ip4(k, 4, 0, IPPROTO_UDP_);
	udp(k, 1, 2);
	fix4(k, l3);
}

static void b_tot_below_ihl(struct pkt *k, uint32_t *wire)
{
	uint32_t l3;

	eth(k, 0x0800);
	l3 = ip4(k, 6, 0, IPPROTO_UDP_);
	udp(k, 1, 2);
	set16(k, l3 + 2, 20);
}

static void b_tot_over_wire(struct pkt *k, uint32_t *wire)
{
	uint32_t l3;

	eth(k, 0x0800);
	l3 = ip4(k, 5, 0, IPPROTO_UDP_);
	udp(k, 1, 2);
	fix4(k, l3);
	set16(k, l3 + 2, k->n - l3 + 1);
}

static void b_ip6_len_over_wire(struct pkt *k, uint32_t *wire)
{
	uint32_t l3;

	eth(k, 0x86dd);
	l3 = ip6(k, IPPROTO_UDP_);
	udp(k, 1, 2);
	set16(k, l3 + 4, 9);
}

static void b_too_many_ext(struct pkt *k, uint32_t *wire)
{
	uint32_t l3;

	eth(k, 0x86dd);
	l3 = ip6(k, 60);
	for (int i = 0; i < 8; i++)
		ext6(k, 60, 0);
	udp(k, 1, 2);
	fix6(k, l3);
}

static void b_ext_over_len(struct pkt *k, uint32_t *wire)
{
	uint32_t l3;

	eth(k, 0x86dd);
	l3 = ip6(k, 60);
	ext6(k, IPPROTO_UDP_, 0);
	udp(k, 1, 2);
	fix6(k, l3);
	k->b[l3 + 41] = 2; /* claims 24 bytes, 16 left in the payload */
}

static void b_hbh_not_first(struct pkt *k, uint32_t *wire)
{
	uint32_t l3;

	eth(k, 0x86dd);
	l3 = ip6(k, 60);
	ext6(k, 0, 0);
	ext6(k, IPPROTO_UDP_, 0);
	udp(k, 1, 2);
	fix6(k, l3);
}

static void b_tcp_short(struct pkt *k, uint32_t *wire)
{
	uint32_t l3;

	eth(k, 0x0800);
	l3 = ip4(k, 5, 0, IPPROTO_TCP_);
	tcp(k, 1, 2, 5, TCPF_SYN);
	fix4(k, l3);
	set16(k, l3 + 2, 30); /* the IP length leaves 10 bytes for TCP */
}

static void b_tiny_frag(struct pkt *k, uint32_t *wire)
{
	uint32_t l3;

	eth(k, 0x0800);
	l3 = ip4(k, 5, 0x2000, IPPROTO_UDP_);
	payload(k, 4);
	fix4(k, l3);
}

static void b_tcp_options_over_len(struct pkt *k, uint32_t *wire)
{
	uint32_t l3;

	eth(k, 0x86dd);
	l3 = ip6(k, IPPROTO_TCP_);
	tcp(k, 1, 2, 5, TCPF_SYN);
	fix6(k, l3);
	k->b[l3 + 40 + 12] = 0xf0;
	*wire = 1514;
}

static void b_icmp6_short(struct pkt *k, uint32_t *wire)
{
	uint32_t l3;

	eth(k, 0x86dd);
	l3 = ip6(k, IPPROTO_ICMPV6_);
	payload(k, 3);
	fix6(k, l3);
}

static void b_tcp_doff(struct pkt *k, uint32_t *wire)
{
	uint32_t l3;

	eth(k, 0x0800);
	l3 = ip4(k, 5, 0, IPPROTO_TCP_);
	tcp(k, 1, 2, 4, TCPF_SYN);
	fix4(k, l3);
}

static void b_vlan5(struct pkt *k, uint32_t *wire)
{
	eth(k, 0x8100);
	for (int i = 0; i < 5; i++)
		tag(k, i, 0x8100);
	payload(k, 40);
}

static void test_malformed(void)
{
	static const struct {
		const char *name;
		build_fn build;
		int link;
		enum decode_reason want;
	} cases[] = {
	    {"arp", b_arp, LINK_ETHERNET, DEC_NOT_IP},
	    {"eth short", b_eth_short, LINK_ETHERNET, DEC_TRUNC_L2},
	    {"vlan short", b_vlan_short, LINK_ETHERNET, DEC_TRUNC_L2},
	    {"sll short", b_sll_short, LINK_LINUX_SLL, DEC_TRUNC_L2},
	    {"ip4 short", b_ip4_short, LINK_ETHERNET, DEC_TRUNC_L3},
	    {"ip6 short", b_ip6_short, LINK_ETHERNET, DEC_TRUNC_L3},
	    {"v6 in 0x0800", b_ver, LINK_ETHERNET, DEC_BAD_IP_VER},
	    {"raw version 5", b_ver_raw, LINK_RAW, DEC_BAD_IP_VER},
	    {"ihl 4", b_ihl, LINK_ETHERNET, DEC_BAD_IP_HLEN},
	    {"tot < ihl", b_tot_below_ihl, LINK_ETHERNET, DEC_BAD_IP_LEN},
	    {"tot > wire", b_tot_over_wire, LINK_ETHERNET, DEC_BAD_IP_LEN},
	    {"ip6 len > wire", b_ip6_len_over_wire, LINK_ETHERNET, DEC_BAD_IP_LEN},
	    {"9 ext headers", b_too_many_ext, LINK_ETHERNET, DEC_BAD_EXTHDR},
	    {"ext past len", b_ext_over_len, LINK_ETHERNET, DEC_BAD_EXTHDR},
	    {"hbh not first", b_hbh_not_first, LINK_ETHERNET, DEC_BAD_EXTHDR},
	    {"tcp past len", b_tcp_short, LINK_ETHERNET, DEC_TRUNC_L4},
	    {"tiny first frag", b_tiny_frag, LINK_ETHERNET, DEC_TRUNC_L4},
	    {"tcp opts past len", b_tcp_options_over_len, LINK_ETHERNET, DEC_TRUNC_L4},
	    {"icmp6 short", b_icmp6_short, LINK_ETHERNET, DEC_TRUNC_L4},
	    {"tcp doff 4", b_tcp_doff, LINK_ETHERNET, DEC_BAD_L4},
	    {"vlan 5", b_vlan5, LINK_ETHERNET, DEC_VLAN_DEPTH},
	};
	struct decode_stats st, want;

	memset(&st, 0, sizeof(st));
	memset(&want, 0, sizeof(want));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pkt k = {0};
		struct obs o;
		uint32_t wire = 0;
		enum decode_reason r;

		cases[i].build(&k, &wire);
		if (wire < k.n)
			wire = k.n;
		r = decode_packet(cases[i].link, k.b, k.n, wire, 1, &o, &st);
		if (r != cases[i].want)
			fprintf(stderr, "case \"%s\": got %s, want %s\n", cases[i].name,
				decode_reason_name(r), decode_reason_name(cases[i].want));
		CHECK_EQ(r, cases[i].want);
		want.n[cases[i].want]++;
	}
	for (int r = 0; r < DEC__COUNT; r++) {
		CHECK_EQ(st.n[r], want.n[r]);
		if (r != DEC_OK)
			CHECK(st.n[r] > 0); /* every reason is reachable */
	}

	/* NULL stats are allowed */
	{
		struct pkt k = {0};
		struct obs o;
		uint32_t wire = 0;

		b_arp(&k, &wire);
		CHECK_EQ(decode_packet(LINK_ETHERNET, k.b, k.n, k.n, 1, &o, NULL), DEC_NOT_IP);
	}
}

static void test_names(void)
{
	static const char *const want[DEC__COUNT] = {
	    "ok",	  "not_ip",	"trunc_l2", "trunc_l3", "bad_ip_ver", "bad_ip_hlen",
	    "bad_ip_len", "bad_exthdr", "trunc_l4", "bad_l4",	"vlan_depth",
	};

	for (int r = 0; r < DEC__COUNT; r++)
		CHECK_STR(decode_reason_name(r), want[r]);
	CHECK_STR(decode_reason_name(DEC__COUNT), "unknown");
	CHECK_STR(decode_reason_name((enum decode_reason) - 1), "unknown");
}

int main(void)
{
	test_tcp_syn();
	test_vlan();
	test_ip4_options();
	test_ip4_udp_icmp();
	test_ip4_frag();
	test_ip6_tcp();
	test_ip6_exthdrs();
	test_icmp6();
	test_jumbo();
	test_link_types();
	test_snaplen();
	test_malformed();
	test_names();
	CHECK(stats.n[DEC_OK] > 20);
	return t_done("test_decode");
}
