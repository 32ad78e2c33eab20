/* test_xdp: the XDP scrubber through BPF_PROG_TEST_RUN. Loads src/bpf/scrub.bpf.c without
 * attaching it, crafts IPv4, IPv6 and VLAN-tagged frames for every rule kind, and asserts the
 * verdicts and the per-rule and per-reason counters. Needs root and BPF: fails if either is
 * missing, since a scrubber that was never run is not tested. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf.h>

#include "bpf/scrub.h"
#include "mitigate/xdp.h"
#include "t.h"

static struct xdp_scrub *X;

/* What a test frame holds. frag: 0 or an enum scrub_frag bit. */
struct pk {
	int v6;
	int vlans; /* 0, 1 (802.1Q) or 2 (802.1ad outer, 802.1Q inner) */
	__u8 proto;
	const char *src, *dst;
	__u16 sport, dport;
	__u8 ttl;
	__u8 flags; /* TCP */
	int frag;
	int payload;		   /* bytes after the L4 header */
	int l4cut;		   /* if > 0: only this many bytes of L4 header and no payload */
	int hbh;		   /* IPv6: a hop-by-hop and a destination options header first */
	__u8 icmp_type, icmp_code; /* proto 1 or 58 */
};

struct built {
	__u8 buf[1600];
	unsigned len, l3, l4;
};

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void build(const struct pk *k, struct built *b)
{
	__u8 *p = b->buf;
	unsigned off = 12, l4hdr, l4len, ext = 0;
	int later = k->frag == SCRUB_FRAG_LATER;

	memset(b, 0, sizeof(*b));
	memcpy(p, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02", 12);
	if (k->vlans == 2) {
		put16(p + off, 0x88a8);
		put16(p + off + 2, 100);
		off += 4;
	}
	if (k->vlans >= 1) {
		put16(p + off, 0x8100);
		put16(p + off + 2, 200);
		off += 4;
	}
	put16(p + off, k->v6 ? 0x86dd : 0x0800);
	off += 2;
	b->l3 = off;
	l4hdr = k->proto == IPPROTO_TCP					       ? 20
		: (k->proto == IPPROTO_UDP || k->proto == 1 || k->proto == 58) ? 8
									       : 0;
	if (later)
		l4hdr = 0;
	if (k->l4cut > 0)
		l4hdr = k->l4cut;
	l4len = l4hdr + (k->l4cut > 0 ? 0 : k->payload);
	if (!k->v6) {
		__u8 *ip = p + off;
		__u16 fo = k->frag == SCRUB_FRAG_FIRST ? 0x2000 : later ? 185 : 0;

		ip[0] = 0x45;
		put16(ip + 2, 20 + l4len);
		put16(ip + 6, fo);
		ip[8] = k->ttl ? k->ttl : 64;
		ip[9] = k->proto;
		inet_pton(AF_INET, k->src, ip + 12);
		inet_pton(AF_INET, k->dst, ip + 16);
		off += 20;
	} else {
		__u8 *ip = p + off, *nh = ip + 6;

		ip[0] = 0x60;
		ip[7] = k->ttl ? k->ttl : 64;
		inet_pton(AF_INET6, k->src, ip + 8);
		inet_pton(AF_INET6, k->dst, ip + 24);
		off += 40;
		if (k->hbh) {
			*nh = 0; /* hop-by-hop, 8 bytes (PadN) */
			nh = p + off;
			p[off + 2] = 1;
			p[off + 3] = 4;
			off += 8;
			*nh = 60; /* destination options, 16 bytes */
			nh = p + off;
			p[off + 1] = 1;
			p[off + 2] = 1;
			p[off + 3] = 12;
			off += 16;
			ext += 24;
		}
		if (k->frag) {
			*nh = 44;
			nh = p + off;
			put16(p + off + 2, later ? 185 << 3 : 1);
			off += 8;
			ext += 8;
		}
		*nh = k->proto;
		put16(ip + 4, ext + l4len);
	}
	b->l4 = off;
	if (!later && k->l4cut == 0) {
		if (k->proto == IPPROTO_TCP) {
			put16(p + off, k->sport);
			put16(p + off + 2, k->dport);
			p[off + 12] = 5 << 4;
			p[off + 13] = k->flags;
		} else if (k->proto == IPPROTO_UDP) {
			put16(p + off, k->sport);
			put16(p + off + 2, k->dport);
			put16(p + off + 4, 8 + k->payload);
		} else if (k->proto == 1 || k->proto == 58) {
			p[off] = k->icmp_type;
			p[off + 1] = k->icmp_code;
		}
	}
	b->len = off + l4len;
}

static int run_frame(const void *frame, unsigned len)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len, .repeat = 1);
	int err = bpf_prog_test_run_opts(xdp_scrub_prog_fd(X), &o);

	if (err) {
		fprintf(stderr, "bpf_prog_test_run_opts: %s\n", strerror(-err));
		return -1;
	}
	return (int)o.retval;
}

static int run(const struct pk *k)
{
	struct built b;

	build(k, &b);
	return run_frame(b.buf, b.len);
}

static unsigned frame_len(const struct pk *k)
{
	struct built b;

	build(k, &b);
	return b.len;
}

static struct scrub_counter reason(__u32 r)
{
	struct scrub_counter c;

	CHECK_EQ(xdp_scrub_reason_counter(X, r, &c), 0);
	return c;
}

static struct scrub_counter rulec(__u32 id)
{
	struct scrub_counter c;

	CHECK_EQ(xdp_scrub_rule_counter(X, id, &c), 0);
	return c;
}

static struct scrub_lpm_key pfx(const char *s)
{
	struct scrub_lpm_key k;

	if (xdp_scrub_prefix_parse(s, &k) != 0) {
		fprintf(stderr, "bad prefix %s\n", s);
		exit(1);
	}
	return k;
}

static struct scrub_addr addr(const char *s)
{
	struct scrub_lpm_key k = pfx(s);
	struct scrub_addr a;

	memcpy(a.a, k.addr, 16);
	return a;
}

#define UDP4(s, d, sp, dp)                                                                         \
	{                                                                                          \
		.proto = IPPROTO_UDP, .src = s, .dst = d, .sport = sp, .dport = dp, .payload = 32  \
	}
#define UDP6(s, d, sp, dp)                                                                         \
	{                                                                                          \
		.v6 = 1, .proto = IPPROTO_UDP, .src = s, .dst = d, .sport = sp, .dport = dp,       \
		.payload = 32                                                                      \
	}

/* deny prefixes, IPv4 and IPv6, plain, 802.1Q and QinQ; allow overrides deny */
static void test_lists(void)
{
	struct scrub_lpm_key d4 = pfx("198.51.100.0/24"), d6 = pfx("2001:db8:bad::/48");
	struct scrub_lpm_key a4 = pfx("198.51.100.7"), a6 = pfx("2001:db8:bad::7");
	struct scrub_counter before = reason(SCRUB_R_DENY), after, al0 = reason(SCRUB_R_ALLOW), al;
	struct pk p4 = UDP4("198.51.100.9", "192.0.2.1", 4000, 5000);
	struct pk p6 = UDP6("2001:db8:bad::9", "2001:db8::1", 4000, 5000);
	unsigned bytes = 0;

	CHECK_EQ(xdp_scrub_prefix_add(X, XDP_SCRUB_DENY, &d4), 0);
	CHECK_EQ(xdp_scrub_prefix_add(X, XDP_SCRUB_DENY, &d6), 0);
	for (int v = 0; v <= 2; v++) {
		p4.vlans = p6.vlans = v;
		CHECK_EQ(run(&p4), XDP_DROP);
		CHECK_EQ(run(&p6), XDP_DROP);
		bytes += frame_len(&p4) + frame_len(&p6);
	}
	after = reason(SCRUB_R_DENY);
	CHECK_EQ(after.packets - before.packets, 6);
	CHECK_EQ(after.dropped_packets - before.dropped_packets, 6);
	CHECK_EQ(after.bytes - before.bytes, bytes);

	struct pk o4 = UDP4("198.51.101.9", "192.0.2.1", 4000, 5000);
	struct pk o6 = UDP6("2001:db8:bae::9", "2001:db8::1", 4000, 5000);
	o4.vlans = 1;
	CHECK_EQ(run(&o4), XDP_PASS);
	CHECK_EQ(run(&o6), XDP_PASS);

	/* allow list wins over deny */
	CHECK_EQ(xdp_scrub_prefix_add(X, XDP_SCRUB_ALLOW, &a4), 0);
	CHECK_EQ(xdp_scrub_prefix_add(X, XDP_SCRUB_ALLOW, &a6), 0);
	struct pk ok4 = UDP4("198.51.100.7", "192.0.2.1", 4000, 5000);
	struct pk ok6 = UDP6("2001:db8:bad::7", "2001:db8::1", 4000, 5000);
	ok4.vlans = 2;
	CHECK_EQ(run(&ok4), XDP_PASS);
	CHECK_EQ(run(&ok6), XDP_PASS);
	CHECK_EQ(run(&p4), XDP_DROP); /* .9 is still denied */
	al = reason(SCRUB_R_ALLOW);
	CHECK_EQ(al.packets - al0.packets, 2);
	CHECK_EQ(al.dropped_packets - al0.dropped_packets, 0);
	CHECK_EQ(xdp_scrub_prefix_del(X, XDP_SCRUB_ALLOW, &a4), 0);
	CHECK_EQ(run(&ok4), XDP_DROP);
	CHECK_EQ(xdp_scrub_prefix_del(X, XDP_SCRUB_ALLOW, &a4), -ENOENT);
	CHECK_EQ(xdp_scrub_prefix_del(X, XDP_SCRUB_ALLOW, &a6), 0);
	CHECK_EQ(xdp_scrub_prefix_del(X, XDP_SCRUB_DENY, &d4), 0);
	CHECK_EQ(xdp_scrub_prefix_del(X, XDP_SCRUB_DENY, &d6), 0);
	CHECK_EQ(run(&p4), XDP_PASS);
	CHECK_EQ(run(&p6), XDP_PASS);
}

/* rules 70..73 into ctx[0..3] */
static int keep_rule(void *ctx, __u32 id, const struct scrub_rule *r)
{
	if (id >= 70 && id < 74)
		((struct scrub_rule *)ctx)[id - 70] = *r;
	return 0;
}

struct seen {
	int n, exact;
	struct scrub_lpm_key last;
};

static int on_prefix(void *ctx, const struct scrub_lpm_key *k)
{
	struct seen *s = ctx;

	s->n++;
	s->exact += k->prefixlen == 128;
	s->last = *k;
	return 0;
}

static struct seen list(enum xdp_scrub_list l)
{
	struct seen s = {0};

	CHECK_EQ(xdp_scrub_prefix_list(X, l, on_prefix, &s), 0);
	return s;
}

/* exact addresses (a hash) and shorter prefixes (a trie) in each list: either kind of allow entry
 * beats either kind of deny entry, deletion goes to the right map, listing sees both */
static void test_lists_exact(void)
{
	struct scrub_lpm_key dx4 = pfx("198.51.100.7"), dx6 = pfx("2001:db8:bad::7"),
			     dp4 = pfx("198.51.100.0/24"), dp6 = pfx("2001:db8:bad::/48"),
			     ax4 = pfx("198.51.100.9"), ap6 = pfx("2001:db8:bad:1::/64"),
			     ap4 = pfx("198.51.100.128/25"), dx4b = pfx("198.51.100.200"),
			     dx6b = pfx("2001:db8:bad:1::200");
	struct scrub_counter d0 = reason(SCRUB_R_DENY), a0 = reason(SCRUB_R_ALLOW), c;
	struct pk h7 = UDP4("198.51.100.7", "192.0.2.1", 1, 2);
	struct pk h8 = UDP4("198.51.100.8", "192.0.2.1", 1, 2);
	struct pk h9 = UDP4("198.51.100.9", "192.0.2.1", 1, 2);
	struct pk h200 = UDP4("198.51.100.200", "192.0.2.1", 1, 2);
	struct pk g7 = UDP6("2001:db8:bad::7", "2001:db8::1", 1, 2);
	struct pk g8 = UDP6("2001:db8:bad::8", "2001:db8::1", 1, 2);
	struct pk g200 = UDP6("2001:db8:bad:1::200", "2001:db8::1", 1, 2);
	struct seen s;

	/* exact deny entries alone: only those addresses */
	CHECK_EQ(xdp_scrub_prefix_add(X, XDP_SCRUB_DENY, &dx4), 0);
	CHECK_EQ(xdp_scrub_prefix_add(X, XDP_SCRUB_DENY, &dx6), 0);
	CHECK_EQ(xdp_scrub_prefix_add(X, XDP_SCRUB_DENY, &dx6), 0); /* again: no change */
	h7.vlans = 1;
	CHECK_EQ(run(&h7), XDP_DROP);
	CHECK_EQ(run(&g7), XDP_DROP);
	/* an IPv6 packet from the mapped address matches the IPv4 entry, as it does a trie's */
	struct pk m7 = UDP6("::ffff:198.51.100.7", "2001:db8::1", 1, 2);
	CHECK_EQ(run(&m7), XDP_DROP);
	CHECK_EQ(run(&h8), XDP_PASS);
	CHECK_EQ(run(&g8), XDP_PASS);
	s = list(XDP_SCRUB_DENY);
	CHECK_EQ(s.n, 2);
	CHECK_EQ(s.exact, 2);
	CHECK_EQ(list(XDP_SCRUB_ALLOW).n, 0);

	/* and the prefixes around them */
	CHECK_EQ(xdp_scrub_prefix_add(X, XDP_SCRUB_DENY, &dp4), 0);
	CHECK_EQ(xdp_scrub_prefix_add(X, XDP_SCRUB_DENY, &dp6), 0);
	CHECK_EQ(run(&h8), XDP_DROP);
	CHECK_EQ(run(&g8), XDP_DROP);
	s = list(XDP_SCRUB_DENY);
	CHECK_EQ(s.n, 4);
	CHECK_EQ(s.exact, 2);
	CHECK(s.last.prefixlen == 120 || s.last.prefixlen == 48); /* prefixes come last */

	/* an exact allow entry beats a deny prefix; an allow prefix beats an exact deny entry */
	CHECK_EQ(xdp_scrub_prefix_add(X, XDP_SCRUB_ALLOW, &ax4), 0);
	CHECK_EQ(xdp_scrub_prefix_add(X, XDP_SCRUB_ALLOW, &ap4), 0);
	CHECK_EQ(xdp_scrub_prefix_add(X, XDP_SCRUB_ALLOW, &ap6), 0);
	CHECK_EQ(xdp_scrub_prefix_add(X, XDP_SCRUB_DENY, &dx4b), 0);
	CHECK_EQ(xdp_scrub_prefix_add(X, XDP_SCRUB_DENY, &dx6b), 0);
	h9.vlans = 2;
	CHECK_EQ(run(&h9), XDP_PASS);
	CHECK_EQ(run(&h200), XDP_PASS);
	CHECK_EQ(run(&g200), XDP_PASS);
	CHECK_EQ(run(&h7), XDP_DROP);
	c = reason(SCRUB_R_ALLOW);
	CHECK_EQ(c.packets - a0.packets, 3);
	s = list(XDP_SCRUB_ALLOW);
	CHECK_EQ(s.n, 3);
	CHECK_EQ(s.exact, 1);

	/* deletion: the exact entry goes, its covering prefix still drops; an exact key that was
	 * never added is not found, nor a prefix as an address */
	CHECK_EQ(xdp_scrub_prefix_del(X, XDP_SCRUB_DENY, &dx4), 0);
	CHECK_EQ(xdp_scrub_prefix_del(X, XDP_SCRUB_DENY, &dx4), -ENOENT);
	CHECK_EQ(run(&h7), XDP_DROP);
	CHECK_EQ(xdp_scrub_prefix_del(X, XDP_SCRUB_DENY, &dp4), 0);
	CHECK_EQ(run(&h7), XDP_PASS);
	CHECK_EQ(xdp_scrub_prefix_del(X, XDP_SCRUB_ALLOW, &ax4), 0);
	CHECK_EQ(xdp_scrub_prefix_del(X, XDP_SCRUB_ALLOW, &ap4), 0);
	CHECK_EQ(run(&h200), XDP_DROP); /* its exact deny entry, allowed no more */
	CHECK_EQ(xdp_scrub_prefix_del(X, XDP_SCRUB_DENY, &dx4b), 0);
	CHECK_EQ(run(&h200), XDP_PASS);
	/* IPv6: the prefix deleted first, then the exact entry */
	CHECK_EQ(xdp_scrub_prefix_del(X, XDP_SCRUB_DENY, &dp6), 0);
	CHECK_EQ(run(&g8), XDP_PASS);
	CHECK_EQ(run(&g7), XDP_DROP);
	CHECK_EQ(xdp_scrub_prefix_del(X, XDP_SCRUB_DENY, &dx6), 0);
	CHECK_EQ(run(&g7), XDP_PASS);
	CHECK_EQ(xdp_scrub_prefix_del(X, XDP_SCRUB_ALLOW, &ap6), 0);
	CHECK_EQ(run(&g200), XDP_DROP);
	CHECK_EQ(xdp_scrub_prefix_del(X, XDP_SCRUB_DENY, &dx6b), 0);
	CHECK_EQ(run(&g200), XDP_PASS);
	CHECK_EQ(list(XDP_SCRUB_DENY).n, 0);
	CHECK_EQ(list(XDP_SCRUB_ALLOW).n, 0);

	/* one address in both lists (one hash entry for both): allowed until the allow entry goes,
	 * each list lists it, and deleting it from one list leaves it in the other */
	for (int f = 0; f < 2; f++) {
		struct scrub_lpm_key *kk = f ? &dx6 : &dx4;
		struct pk *pp = f ? &g7 : &h7;

		CHECK_EQ(xdp_scrub_prefix_add(X, XDP_SCRUB_DENY, kk), 0);
		CHECK_EQ(xdp_scrub_prefix_add_many(X, XDP_SCRUB_ALLOW, kk, 1), 1);
		CHECK_EQ(run(pp), XDP_PASS);
		CHECK_EQ(list(XDP_SCRUB_DENY).n, 1);
		s = list(XDP_SCRUB_ALLOW);
		CHECK_EQ(s.n, 1);
		CHECK(memcmp(&s.last, kk, sizeof(*kk)) == 0);
		CHECK_EQ(xdp_scrub_prefix_del(X, XDP_SCRUB_ALLOW, kk), 0);
		CHECK_EQ(run(pp), XDP_DROP);
		CHECK_EQ(xdp_scrub_prefix_del(X, XDP_SCRUB_ALLOW, kk), -ENOENT);
		CHECK_EQ(xdp_scrub_prefix_add(X, XDP_SCRUB_ALLOW, kk), 0);
		CHECK_EQ(xdp_scrub_prefix_del(X, XDP_SCRUB_DENY, kk), 0);
		CHECK_EQ(run(pp), XDP_PASS);
		CHECK_EQ(list(XDP_SCRUB_DENY).n, 0);
		CHECK_EQ(xdp_scrub_prefix_add_many(X, XDP_SCRUB_DENY, kk, 1),
			 1); /* kept: allowed */
		CHECK_EQ(run(pp), XDP_PASS);
		CHECK_EQ(xdp_scrub_prefix_del(X, XDP_SCRUB_ALLOW, kk), 0);
		CHECK_EQ(run(pp), XDP_DROP);
		CHECK_EQ(xdp_scrub_prefix_del(X, XDP_SCRUB_DENY, kk), 0);
		CHECK_EQ(run(pp), XDP_PASS);
	}
	CHECK_EQ(list(XDP_SCRUB_DENY).n, 0);
	CHECK_EQ(list(XDP_SCRUB_ALLOW).n, 0);
	c = reason(SCRUB_R_DENY);
	CHECK_EQ(c.packets - d0.packets, 10 + 2 * 2);
	CHECK_EQ(c.dropped_packets - d0.dropped_packets, 10 + 2 * 2);
	struct scrub_lpm_key bad = dx4;
	bad.prefixlen = 129;
	CHECK_EQ(xdp_scrub_prefix_add(X, XDP_SCRUB_DENY, &bad), -EINVAL);
	CHECK_EQ(xdp_scrub_prefix_add_many(X, XDP_SCRUB_DENY, &bad, 1), -EINVAL);
}

/* ICMP type and code rules, IPv4 and IPv6: echo requests dropped, neighbor discovery passes */
static void test_icmp(void)
{
	static const char *T4 = "203.0.113.40", *T6 = "2001:db8:6::40";
	struct scrub_rule echo4 = {.match = SCRUB_M_ICMP,
				   .action = SCRUB_ACT_DROP,
				   .icmp_type = 8,
				   .icmp_code = 0xff,
				   .origin = SCRUB_ORIGIN_AUTO};
	struct scrub_rule unreach4 = {.match = SCRUB_M_ICMP | SCRUB_M_FAMILY,
				      .action = SCRUB_ACT_DROP,
				      .family = 4,
				      .icmp_type = 3,
				      .icmp_code = 4};
	struct scrub_rule echo6 = {.match = SCRUB_M_ICMP | SCRUB_M_PROTO,
				   .action = SCRUB_ACT_DROP,
				   .proto = 58,
				   .icmp_type = 128,
				   .icmp_code = 0xff};
	struct scrub_counter rd0 = reason(SCRUB_R_RULE_DROP), c;
	struct pk e4 = {.proto = 1, .src = "192.0.2.9", .dst = T4, .icmp_type = 8, .payload = 56};
	struct pk e6 = {.v6 = 1,
			.proto = 58,
			.src = "2001:db8:9::9",
			.dst = T6,
			.icmp_type = 128,
			.payload = 56};

	echo4.target = unreach4.target = addr(T4);
	echo6.target = addr(T6);
	CHECK_EQ(xdp_scrub_rule_add(X, 70, &echo4), 0);
	CHECK_EQ(xdp_scrub_rule_add(X, 71, &unreach4), 0);
	CHECK_EQ(xdp_scrub_rule_add(X, 72, &echo6), 0);

	/* IPv4: echo request with any code dropped; echo reply, other unreachables pass */
	for (int v = 0; v <= 2; v++) {
		e4.vlans = v;
		e4.icmp_code = (__u8)(v * 7);
		CHECK_EQ(run(&e4), XDP_DROP);
	}
	e4.icmp_type = 0;
	e4.icmp_code = 0;
	CHECK_EQ(run(&e4), XDP_PASS);
	e4.icmp_type = 3; /* destination unreachable: code 4 (fragmentation needed) only */
	e4.icmp_code = 4;
	CHECK_EQ(run(&e4), XDP_DROP);
	e4.icmp_code = 3;
	CHECK_EQ(run(&e4), XDP_PASS);
	/* fragments: the first has the ICMP header, later ones do not */
	e4.icmp_type = 8;
	e4.frag = SCRUB_FRAG_FIRST;
	CHECK_EQ(run(&e4), XDP_DROP);
	e4.frag = SCRUB_FRAG_LATER;
	CHECK_EQ(run(&e4), XDP_PASS);
	/* not ICMP: UDP whose first bytes (source port 0x0800) read like an echo request */
	struct pk u4 = UDP4("192.0.2.9", T4, 0x0800, 7);
	CHECK_EQ(run(&u4), XDP_PASS);
	c = rulec(70);
	CHECK_EQ(c.packets, 4);
	CHECK_EQ(c.dropped_packets, 4);
	CHECK_EQ(rulec(71).packets, 1);

	/* IPv6: echo request (128) dropped; neighbor solicitation (135), echo reply (129) pass */
	for (int v = 0; v <= 2; v++) {
		e6.vlans = v;
		e6.hbh = v == 2;
		CHECK_EQ(run(&e6), XDP_DROP);
	}
	e6.vlans = e6.hbh = 0;
	e6.icmp_type = 135;
	CHECK_EQ(run(&e6), XDP_PASS);
	e6.icmp_type = 129;
	CHECK_EQ(run(&e6), XDP_PASS);
	e6.icmp_type = 128;
	e6.frag = SCRUB_FRAG_FIRST;
	CHECK_EQ(run(&e6), XDP_DROP);
	e6.frag = SCRUB_FRAG_LATER;
	CHECK_EQ(run(&e6), XDP_PASS);
	/* ICMP (proto 1) inside IPv6 is not ICMPv6, and ICMPv6's number in IPv4 is not ICMP */
	struct scrub_rule any4 = {
	    .match = SCRUB_M_ICMP, .action = SCRUB_ACT_DROP, .icmp_type = 128, .icmp_code = 0xff};
	any4.target = addr(T6);
	CHECK_EQ(xdp_scrub_rule_add(X, 73, &any4), 0);
	e6.frag = 0;
	e6.proto = 1;
	CHECK_EQ(run(&e6), XDP_PASS);
	e4.frag = 0;
	e4.proto = 58;
	CHECK_EQ(run(&e4), XDP_PASS);
	c = rulec(72);
	CHECK_EQ(c.packets, 4);
	CHECK_EQ(c.dropped_packets, 4);
	CHECK_EQ(rulec(73).packets, 0);
	c = reason(SCRUB_R_RULE_DROP);
	CHECK_EQ(c.packets - rd0.packets, 4 + 1 + 4);

	/* the fields come back as they were put */
	struct scrub_rule got[4];
	int n = 0;

	memset(got, 0, sizeof(got));
	CHECK_EQ(xdp_scrub_rule_list(X, keep_rule, got), 0);
	for (int i = 0; i < 4; i++)
		n += got[i].match != 0;
	CHECK_EQ(n, 4);
	CHECK_EQ(got[0].icmp_type, 8);
	CHECK_EQ(got[0].icmp_code, 0xff);
	CHECK_EQ(got[0].origin, SCRUB_ORIGIN_AUTO);
	CHECK_EQ(got[1].icmp_code, 4);
	CHECK_EQ(got[1].origin, SCRUB_ORIGIN_MANUAL);
	struct scrub_addr a4 = addr(T4), a6 = addr(T6);
	CHECK_EQ(xdp_scrub_target_del(X, &a4), 0);
	CHECK_EQ(xdp_scrub_target_del(X, &a6), 0);
}

static int count_rule(void *ctx, __u32 id, const struct scrub_rule *r)
{
	(*(int *)ctx)++;
	return 0;
}

/* per-target rules: protocol, ports, length, TTL, TCP flags, fragments; first match wins */
static void test_rules(void)
{
	static const char *T4 = "203.0.113.10", *T6 = "2001:db8:1::10";
	struct scrub_rule r1 = {.match = SCRUB_M_PROTO | SCRUB_M_DPORT | SCRUB_M_LEN | SCRUB_M_TTL,
				.action = SCRUB_ACT_DROP,
				.proto = IPPROTO_UDP,
				.dport_min = 1000,
				.dport_max = 2000,
				.len_min = 100,
				.len_max = 200,
				.ttl_min = 1,
				.ttl_max = 64};
	struct scrub_rule r2 = {.match = SCRUB_M_PROTO | SCRUB_M_TCPFLAGS | SCRUB_M_DPORT,
				.action = SCRUB_ACT_DROP,
				.proto = IPPROTO_TCP,
				.tcp_mask = SCRUB_TCP_SYN | SCRUB_TCP_ACK,
				.tcp_value = SCRUB_TCP_SYN,
				.dport_min = 80,
				.dport_max = 80};
	struct scrub_rule r3 = {.match = SCRUB_M_FRAG | SCRUB_M_SPORT,
				.action = SCRUB_ACT_DROP,
				.frag = SCRUB_FRAG_FIRST,
				.sport_min = 0,
				.sport_max = 65535};
	struct scrub_rule r4 = {
	    .match = SCRUB_M_FRAG, .action = SCRUB_ACT_DROP, .frag = SCRUB_FRAG_LATER};
	struct scrub_rule r5 = {.match = SCRUB_M_PROTO | SCRUB_M_DPORT | SCRUB_M_FAMILY,
				.action = SCRUB_ACT_PASS,
				.proto = IPPROTO_TCP,
				.family = 4,
				.dport_min = 22,
				.dport_max = 22};
	struct scrub_rule r6 = {
	    .match = SCRUB_M_PROTO, .action = SCRUB_ACT_DROP, .proto = IPPROTO_TCP};
	struct scrub_rule *all[] = {&r1, &r2, &r3, &r4, &r5, &r6};
	struct scrub_counter rp0 = reason(SCRUB_R_RULE_PASS), rd0 = reason(SCRUB_R_RULE_DROP), c;
	const char *tg[2] = {T4, T6};

	for (int f = 0; f < 2; f++) {
		for (unsigned i = 0; i < 6; i++) {
			struct scrub_rule r = *all[i];

			r.target = addr(tg[f]);
			CHECK_EQ(xdp_scrub_rule_add(X, 10 * (f + 1) + i, &r), 0);
		}
	}
	CHECK_EQ(xdp_scrub_rule_add(X, 10, &r1), -EEXIST);
	CHECK_EQ(xdp_scrub_rule_add(X, SCRUB_MAX_RULES, &r1), -ERANGE);

	for (int f = 0; f < 2; f++) {
		const char *src = f ? "2001:db8:5::1" : "192.0.2.50", *dst = tg[f];
		__u32 base = 10 * (f + 1);
		unsigned hdr = f ? 48 : 28; /* L3 + UDP header */
		struct pk u = {.v6 = f,
			       .proto = IPPROTO_UDP,
			       .src = src,
			       .dst = dst,
			       .sport = 5555,
			       .dport = 1500,
			       .ttl = 60,
			       .payload = 150 - hdr};
		unsigned r1bytes = 0;

		for (int v = 0; v <= 2; v++) { /* all in range: dropped by r1 */
			u.vlans = v;
			CHECK_EQ(run(&u), XDP_DROP);
			r1bytes += frame_len(&u);
		}
		u.vlans = 1;
		u.dport = 999; /* port below the range */
		CHECK_EQ(run(&u), XDP_PASS);
		u.dport = 2001;
		CHECK_EQ(run(&u), XDP_PASS);
		u.dport = 2000;
		u.payload = 201 - hdr; /* length 201 */
		CHECK_EQ(run(&u), XDP_PASS);
		u.payload = 100 - hdr; /* length 100: in */
		CHECK_EQ(run(&u), XDP_DROP);
		r1bytes += frame_len(&u);
		u.ttl = 65;
		CHECK_EQ(run(&u), XDP_PASS);
		c = rulec(base + 0);
		CHECK_EQ(c.packets, 4);
		CHECK_EQ(c.dropped_packets, 4);
		CHECK_EQ(c.bytes, r1bytes);

		/* r2: SYN to 80 dropped, SYN-ACK and SYN to 81 fall through to r6 (drop all TCP) or
		 * r5 (IPv4 port 22 passes) */
		struct pk t = {.v6 = f,
			       .proto = IPPROTO_TCP,
			       .src = src,
			       .dst = dst,
			       .sport = 40000,
			       .dport = 80,
			       .flags = SCRUB_TCP_SYN,
			       .vlans = f};
		CHECK_EQ(run(&t), XDP_DROP);
		CHECK_EQ(rulec(base + 1).packets, 1);
		t.flags = SCRUB_TCP_SYN | SCRUB_TCP_ACK;
		CHECK_EQ(run(&t), XDP_DROP); /* r6 */
		CHECK_EQ(rulec(base + 1).packets, 1);
		CHECK_EQ(rulec(base + 5).packets, 1);
		t.dport = 22;
		t.flags = SCRUB_TCP_ACK;
		CHECK_EQ(run(&t), f ? XDP_DROP : XDP_PASS); /* r5 is IPv4 only */
		c = rulec(base + 4);
		CHECK_EQ(c.packets, f ? 0 : 1);
		CHECK_EQ(c.dropped_packets, 0);
		CHECK_EQ(rulec(base + 5).packets, f ? 2 : 1);

		/* fragments: the first (ports known) by r3, later ones (no ports) by r4 only */
		struct pk fr = {.v6 = f,
				.proto = IPPROTO_UDP,
				.src = src,
				.dst = dst,
				.sport = 53,
				.dport = 3000,
				.payload = 64,
				.frag = SCRUB_FRAG_FIRST};
		CHECK_EQ(run(&fr), XDP_DROP);
		CHECK_EQ(rulec(base + 2).packets, 1);
		fr.frag = SCRUB_FRAG_LATER;
		fr.vlans = 2;
		CHECK_EQ(run(&fr), XDP_DROP);
		CHECK_EQ(rulec(base + 2).packets, 1);
		CHECK_EQ(rulec(base + 3).packets, 1);
		/* a later UDP fragment toward r1's ports does not match r1 (no ports) */
		CHECK_EQ(rulec(base + 0).packets, 4);
		fr.frag = 0;
		CHECK_EQ(run(&fr), XDP_PASS); /* not a fragment, no rule for UDP 3000 */
	}
	c = reason(SCRUB_R_RULE_PASS);
	CHECK_EQ(c.packets - rp0.packets, 1);
	c = reason(SCRUB_R_RULE_DROP);
	CHECK_EQ(c.packets - rd0.packets, 2 * (4 + 1 + 1 + 2) + 1);

	/* list, delete: deleting r6 lets IPv6 TCP to 81 through */
	int n = 0;
	CHECK_EQ(xdp_scrub_rule_list(X, count_rule, &n), 0);
	CHECK_EQ(n, 12);
	CHECK_EQ(xdp_scrub_rule_del(X, 25), 0);
	CHECK_EQ(xdp_scrub_rule_del(X, 25), -ENOENT);
	struct pk t6 = {.v6 = 1,
			.proto = IPPROTO_TCP,
			.src = "2001:db8:5::1",
			.dst = T6,
			.sport = 1,
			.dport = 81,
			.flags = SCRUB_TCP_ACK};
	CHECK_EQ(run(&t6), XDP_PASS);
	struct scrub_addr a4 = addr(T4), a6 = addr(T6);
	CHECK_EQ(xdp_scrub_target_del(X, &a4), 0);
	CHECK_EQ(xdp_scrub_target_del(X, &a6), 0);
	n = 0;
	CHECK_EQ(xdp_scrub_rule_list(X, count_rule, &n), 0);
	CHECK_EQ(n, 0);
}

/* rate limit: a bucket of 5 per source /24 (IPv4) or /64 (IPv6), 1 packet/s refill */
static void test_ratelimit(void)
{
	struct scrub_rule r = {.action = SCRUB_ACT_RATELIMIT,
			       .match = SCRUB_M_PROTO,
			       .proto = IPPROTO_UDP,
			       .rate = 1,
			       .burst = 5,
			       .rl_plen4 = 24,
			       .rl_plen6 = 64};
	struct scrub_counter p0 = reason(SCRUB_R_RATE_PASS), d0 = reason(SCRUB_R_RATE_DROP), c;
	char src[64];
	int pass = 0, drop = 0;

	r.target = addr("203.0.113.20");
	CHECK_EQ(xdp_scrub_rule_add(X, 40, &r), 0);
	r.target = addr("2001:db8:2::20");
	CHECK_EQ(xdp_scrub_rule_add(X, 41, &r), 0);
	for (int i = 1; i <= 8; i++) { /* eight sources of one /24 share one bucket */
		snprintf(src, sizeof(src), "192.0.2.%d", i);
		struct pk u = UDP4(src, "203.0.113.20", 1000, 2000);
		u.vlans = i % 3;
		int v = run(&u);
		pass += v == XDP_PASS;
		drop += v == XDP_DROP;
	}
	CHECK_EQ(pass, 5);
	CHECK_EQ(drop, 3);
	struct pk other = UDP4("192.0.3.1", "203.0.113.20", 1000, 2000);
	CHECK_EQ(run(&other), XDP_PASS); /* another /24, another bucket */
	struct pk tcp = {.proto = IPPROTO_TCP,
			 .src = "192.0.2.1",
			 .dst = "203.0.113.20",
			 .sport = 1,
			 .dport = 2,
			 .flags = SCRUB_TCP_ACK};
	CHECK_EQ(run(&tcp), XDP_PASS); /* the rule is for UDP only */
	c = rulec(40);
	CHECK_EQ(c.packets, 9);
	CHECK_EQ(c.dropped_packets, 3);

	pass = drop = 0;
	for (int i = 1; i <= 7; i++) { /* one /64 */
		snprintf(src, sizeof(src), "2001:db8:77:1::%d", i);
		struct pk u = UDP6(src, "2001:db8:2::20", 1000, 2000);
		int v = run(&u);
		pass += v == XDP_PASS;
		drop += v == XDP_DROP;
	}
	CHECK_EQ(pass, 5);
	CHECK_EQ(drop, 2);
	struct pk o6 = UDP6("2001:db8:77:2::1", "2001:db8:2::20", 1000, 2000);
	CHECK_EQ(run(&o6), XDP_PASS);
	c = reason(SCRUB_R_RATE_PASS);
	CHECK_EQ(c.packets - p0.packets, 5 + 1 + 5 + 1);
	c = reason(SCRUB_R_RATE_DROP);
	CHECK_EQ(c.packets - d0.packets, 3 + 2);
	CHECK_EQ(c.dropped_packets - d0.dropped_packets, 3 + 2);
	/* after a second the bucket has a token again */
	sleep(1);
	struct pk again = UDP4("192.0.2.9", "203.0.113.20", 1000, 2000);
	CHECK_EQ(run(&again), XDP_PASS);
	CHECK_EQ(run(&again), XDP_DROP);
	CHECK_EQ(xdp_scrub_rule_del(X, 40), 0);
	CHECK_EQ(xdp_scrub_rule_del(X, 41), 0);
}

/* amplification ports: dropped only toward a target under attack */
static void test_amp(void)
{
	struct scrub_addr t4 = addr("203.0.113.30"), t6 = addr("2001:db8:3::30");
	struct scrub_counter a0 = reason(SCRUB_R_AMP), c;
	static const __u16 amp[] = {53, 123, 1900, 11211, 389, 19, 161};

	CHECK_EQ(xdp_scrub_target_set(X, &t4, SCRUB_T_ATTACK), 0);
	CHECK_EQ(xdp_scrub_target_set(X, &t6, SCRUB_T_ATTACK), 0);
	for (unsigned i = 0; i < sizeof(amp) / sizeof(amp[0]); i++) {
		struct pk u4 = UDP4("192.0.2.1", "203.0.113.30", amp[i], 40000);
		struct pk u6 = UDP6("2001:db8:9::1", "2001:db8:3::30", amp[i], 40000);
		struct pk n4 = UDP4("192.0.2.1", "203.0.113.31", amp[i], 40000); /* not flagged */
		u4.vlans = i % 3;
		u6.vlans = (i + 1) % 3;
		CHECK_EQ(run(&u4), XDP_DROP);
		CHECK_EQ(run(&u6), XDP_DROP);
		CHECK_EQ(run(&n4), XDP_PASS);
	}
	struct pk hi = UDP4("192.0.2.1", "203.0.113.30", 40000, 53); /* DNS query *to* it */
	CHECK_EQ(run(&hi), XDP_PASS);
	struct pk tcp = {.proto = IPPROTO_TCP,
			 .src = "192.0.2.1",
			 .dst = "203.0.113.30",
			 .sport = 53,
			 .dport = 40000,
			 .flags = SCRUB_TCP_ACK};
	CHECK_EQ(run(&tcp), XDP_PASS);
	c = reason(SCRUB_R_AMP);
	CHECK_EQ(c.packets - a0.packets, 14);
	CHECK_EQ(c.dropped_packets - a0.dropped_packets, 14);
	/* attack over: flag cleared */
	CHECK_EQ(xdp_scrub_target_set(X, &t4, 0), 0);
	struct pk u4 = UDP4("192.0.2.1", "203.0.113.30", 53, 40000);
	CHECK_EQ(run(&u4), XDP_PASS);
	CHECK_EQ(xdp_scrub_target_del(X, &t4), 0);
	CHECK_EQ(xdp_scrub_target_del(X, &t6), 0);
	CHECK_EQ(xdp_scrub_target_del(X, &t6), -ENOENT);
}

static int run_built(struct built *b)
{
	return run_frame(b->buf, b->len);
}

/* invalid packets: header lengths, TCP flags, tiny fragments */
static void test_invalid(void)
{
	struct scrub_counter h0 = reason(SCRUB_R_BAD_HDR), f0 = reason(SCRUB_R_BAD_TCP_FLAGS),
			     t0 = reason(SCRUB_R_TINY_FRAG), n0 = reason(SCRUB_R_NOT_IP), c;
	struct built b;
	int hdr = 0, flags = 0, tiny = 0;

	for (int f = 0; f < 2; f++) {
		struct pk t = {.v6 = f,
			       .proto = IPPROTO_TCP,
			       .src = f ? "2001:db8::1" : "192.0.2.1",
			       .dst = f ? "2001:db8::2" : "192.0.2.2",
			       .sport = 1,
			       .dport = 2,
			       .vlans = f};
		static const __u8 bad[] = {0, SCRUB_TCP_SYN | SCRUB_TCP_FIN,
					   SCRUB_TCP_SYN | SCRUB_TCP_RST,
					   SCRUB_TCP_FIN | SCRUB_TCP_PSH | SCRUB_TCP_URG,
					   SCRUB_TCP_SYN | SCRUB_TCP_FIN | SCRUB_TCP_ACK};
		static const __u8 good[] = {SCRUB_TCP_SYN, SCRUB_TCP_SYN | SCRUB_TCP_ACK,
					    SCRUB_TCP_ACK, SCRUB_TCP_FIN | SCRUB_TCP_ACK,
					    SCRUB_TCP_RST, SCRUB_TCP_RST | SCRUB_TCP_ACK};

		for (unsigned i = 0; i < sizeof(bad); i++) {
			t.flags = bad[i];
			CHECK_EQ(run(&t), XDP_DROP);
			flags++;
		}
		for (unsigned i = 0; i < sizeof(good); i++) {
			t.flags = good[i];
			CHECK_EQ(run(&t), XDP_PASS);
		}
		/* TCP data offset 3 */
		t.flags = SCRUB_TCP_ACK;
		build(&t, &b);
		b.buf[b.l4 + 12] = 3 << 4;
		CHECK_EQ(run_built(&b), XDP_DROP);
		hdr++;
		/* data offset 15 (60 bytes) beyond the segment */
		build(&t, &b);
		b.buf[b.l4 + 12] = 15 << 4;
		CHECK_EQ(run_built(&b), XDP_DROP);
		hdr++;
		/* frame shorter than the IP length says */
		build(&t, &b);
		b.len -= 4;
		CHECK_EQ(run_built(&b), XDP_DROP);
		hdr++;
		/* a tiny first fragment: 8 bytes of TCP header */
		struct pk tf = t;
		tf.frag = SCRUB_FRAG_FIRST;
		tf.l4cut = 8;
		CHECK_EQ(run(&tf), XDP_DROP);
		tiny++;
		tf.proto = IPPROTO_UDP;
		tf.l4cut = 4;
		CHECK_EQ(run(&tf), XDP_DROP);
		tiny++;
		/* the same 8 bytes of TCP without fragmentation: bad header, not a fragment */
		tf.proto = IPPROTO_TCP;
		tf.l4cut = 8;
		tf.frag = 0;
		CHECK_EQ(run(&tf), XDP_DROP);
		hdr++;
		/* UDP length larger than the datagram */
		struct pk u = {.v6 = f,
			       .proto = IPPROTO_UDP,
			       .src = t.src,
			       .dst = t.dst,
			       .sport = 1,
			       .dport = 2,
			       .payload = 10};
		build(&u, &b);
		b.buf[b.l4 + 4] = 0x10;
		CHECK_EQ(run_built(&b), XDP_DROP);
		hdr++;
	}
	/* IPv4: header length 4, and 6 (options beyond total length) */
	struct pk u4 = UDP4("192.0.2.1", "192.0.2.2", 1, 2);
	build(&u4, &b);
	b.buf[b.l3] = 0x44;
	CHECK_EQ(run_built(&b), XDP_DROP);
	build(&u4, &b);
	b.buf[b.l3] = 0x4f; /* 60 bytes of header in a 60-byte packet: no room for UDP */
	CHECK_EQ(run_built(&b), XDP_DROP);
	build(&u4, &b);
	b.buf[b.l3] = 0x55; /* version 5 */
	CHECK_EQ(run_built(&b), XDP_DROP);
	hdr += 3;
	/* RFC 1858: TCP fragment at offset 1 */
	struct pk t4 = {.proto = IPPROTO_TCP,
			.src = "192.0.2.1",
			.dst = "192.0.2.2",
			.frag = SCRUB_FRAG_LATER,
			.payload = 40};
	build(&t4, &b);
	b.buf[b.l3 + 7] = 1;
	CHECK_EQ(run_built(&b), XDP_DROP);
	tiny++;
	/* IPv6: payload length beyond the frame; more extension headers than walked */
	struct pk u6 = UDP6("2001:db8::1", "2001:db8::2", 1, 2);
	build(&u6, &b);
	b.buf[b.l3 + 5] += 8;
	CHECK_EQ(run_built(&b), XDP_DROP);
	hdr++;
	/* extension headers are walked: hop-by-hop + destination options + UDP parses, and
	 * the ports behind them are what a rule sees */
	struct pk x6 = UDP6("2001:db8::1", "2001:db8:4::40", 1, 999);
	x6.hbh = 1;
	x6.vlans = 2;
	CHECK_EQ(run(&x6), XDP_PASS);
	struct scrub_rule r = {.match = SCRUB_M_PROTO | SCRUB_M_DPORT,
			       .action = SCRUB_ACT_DROP,
			       .proto = IPPROTO_UDP,
			       .dport_min = 999,
			       .dport_max = 999};
	r.target = addr("2001:db8:4::40");
	CHECK_EQ(xdp_scrub_rule_add(X, 50, &r), 0);
	CHECK_EQ(run(&x6), XDP_DROP);
	x6.frag = SCRUB_FRAG_FIRST; /* hop-by-hop, dest opts, fragment, UDP */
	CHECK_EQ(run(&x6), XDP_DROP);
	CHECK_EQ(rulec(50).packets, 2);
	CHECK_EQ(xdp_scrub_rule_del(X, 50), 0);
	/* not IP: ARP passes untouched */
	__u8 arp[60] = {0};
	arp[12] = 0x08;
	arp[13] = 0x06;
	CHECK_EQ(run_frame(arp, sizeof(arp)), XDP_PASS);
	/* VLAN header cut short */
	__u8 vl[16] = {0};
	vl[12] = 0x81;
	CHECK_EQ(run_frame(vl, sizeof(vl)), XDP_DROP);
	hdr++;

	c = reason(SCRUB_R_BAD_HDR);
	CHECK_EQ(c.packets - h0.packets, hdr);
	CHECK_EQ(c.dropped_packets - h0.dropped_packets, hdr);
	c = reason(SCRUB_R_BAD_TCP_FLAGS);
	CHECK_EQ(c.packets - f0.packets, flags);
	c = reason(SCRUB_R_TINY_FRAG);
	CHECK_EQ(c.packets - t0.packets, tiny);
	c = reason(SCRUB_R_NOT_IP);
	CHECK_EQ(c.packets - n0.packets, 1);
	CHECK_EQ(c.dropped_packets - n0.dropped_packets, 0);
}

struct got {
	int n;
	struct scrub_sample s;
};

static void on_sample(void *ctx, const struct scrub_sample *s)
{
	struct got *g = ctx;

	if (g->n++ == 0)
		g->s = *s;
}

/* dropped packets are sampled into the ring buffer, 1 in N */
static void test_samples(void)
{
	struct scrub_config cf = {.sample_every = 1};
	struct scrub_lpm_key d = pfx("198.51.100.0/24");
	struct pk big = UDP4("198.51.100.1", "192.0.2.1", 1, 2), small = big;
	struct built b;
	struct got g = {0};

	big.payload = 500;
	small.payload = 4;
	CHECK_EQ(xdp_scrub_samples(X, on_sample, &g, 0), 0); /* drain: nothing yet */
	CHECK_EQ(xdp_scrub_prefix_add(X, XDP_SCRUB_DENY, &d), 0);
	CHECK_EQ(xdp_scrub_config(X, &cf), 0);
	CHECK_EQ(run(&big), XDP_DROP);
	CHECK_EQ(xdp_scrub_samples(X, on_sample, &g, 100), 1);
	build(&big, &b);
	CHECK_EQ(g.s.reason, SCRUB_R_DENY);
	CHECK_EQ(g.s.rule, SCRUB_NO_RULE);
	CHECK_EQ(g.s.len, b.len);
	CHECK_EQ(g.s.caplen, SCRUB_SAMPLE_BYTES);
	CHECK(memcmp(g.s.data, b.buf, SCRUB_SAMPLE_BYTES) == 0);
	g.n = 0;
	CHECK_EQ(run(&small), XDP_DROP);
	CHECK_EQ(xdp_scrub_samples(X, on_sample, &g, 100), 1);
	build(&small, &b);
	CHECK_EQ(g.s.caplen, b.len);
	CHECK(memcmp(g.s.data, b.buf, b.len) == 0);
	/* 1 in 4: about a quarter of 400 */
	cf.sample_every = 4;
	CHECK_EQ(xdp_scrub_config(X, &cf), 0);
	for (int i = 0; i < 400; i++)
		run(&small);
	g.n = 0;
	while (xdp_scrub_samples(X, on_sample, &g, 10) > 0)
		;
	CHECK(g.n > 50 && g.n < 150);
	cf.sample_every = 0;
	CHECK_EQ(xdp_scrub_config(X, &cf), 0);
	CHECK_EQ(run(&small), XDP_DROP);
	g.n = 0;
	CHECK_EQ(xdp_scrub_samples(X, on_sample, &g, 10), 0);
	CHECK_EQ(xdp_scrub_prefix_del(X, XDP_SCRUB_DENY, &d), 0);
}

/* a restart reuses the pinned maps: lists and rules survive, counters too; a /128 that an earlier
 * moat kept in the allow trie (not the hash) is seen after the restart and can be deleted */
static void test_pin_reuse(const char *dir)
{
	char path[128];
	struct scrub_lpm_key old = pfx("192.0.2.77");
	struct scrub_counter a0;
	__u32 one = 1;
	int fd;

	struct scrub_lpm_key d = pfx("198.51.100.0/24");
	struct pk p = UDP4("198.51.100.1", "192.0.2.1", 1, 2);
	struct scrub_rule r = {
	    .action = SCRUB_ACT_DROP, .match = SCRUB_M_PROTO, .proto = IPPROTO_UDP};
	struct pk q = UDP4("192.0.2.77", "203.0.113.99", 1, 2);

	r.target = addr("203.0.113.99");
	CHECK_EQ(xdp_scrub_prefix_add(X, XDP_SCRUB_DENY, &d), 0);
	CHECK_EQ(xdp_scrub_rule_add(X, 60, &r), 0);
	CHECK_EQ(run(&q), XDP_DROP);
	snprintf(path, sizeof(path), "%s/allow_v", dir);
	fd = bpf_obj_get(path);
	CHECK(fd >= 0);
	CHECK_EQ(bpf_map_update_elem(fd, &old, &one, BPF_ANY), 0);
	close(fd);
	xdp_scrub_close(X);
	X = NULL;
	CHECK_EQ(xdp_scrub_open(&X, dir), 0);
	if (!X)
		exit(t_done("test_xdp"));
	CHECK_EQ(run(&p), XDP_DROP);
	a0 = reason(SCRUB_R_ALLOW);
	CHECK_EQ(run(&q), XDP_PASS); /* 192.0.2.77 allowed by the old /128, before any rule */
	CHECK_EQ(reason(SCRUB_R_ALLOW).packets - a0.packets, 1);
	CHECK_EQ(list(XDP_SCRUB_ALLOW).n, 1);
	CHECK_EQ(xdp_scrub_prefix_del(X, XDP_SCRUB_ALLOW, &old), 0);
	CHECK_EQ(list(XDP_SCRUB_ALLOW).n, 0);
	CHECK_EQ(run(&q), XDP_DROP);
	CHECK_EQ(rulec(60).packets, 2);
	CHECK_EQ(xdp_scrub_rule_add(X, 60, &r), -EEXIST);
	CHECK_EQ(xdp_scrub_rule_del(X, 60), 0);
	CHECK_EQ(xdp_scrub_prefix_del(X, XDP_SCRUB_DENY, &d), 0);
	CHECK_EQ(run(&q), XDP_PASS);
}

static void v4key(struct scrub_lpm_key *k, __u32 v, __u32 plen)
{
	memset(k, 0, sizeof(*k));
	k->addr[10] = k->addr[11] = 0xff;
	k->addr[12] = v >> 24;
	k->addr[13] = v >> 16;
	k->addr[14] = v >> 8;
	k->addr[15] = v;
	k->prefixlen = 96 + plen;
}

/* 2001:db8:ee00::/40 + v << 64 (a /64), or 2001:db8:ef::v (a /128) */
static void v6key(struct scrub_lpm_key *k, __u32 v, int exact)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->addr, "\x20\x01\x0d\xb8", 4);
	if (exact) {
		k->addr[5] = 0xef;
		k->addr[13] = v >> 16;
		k->addr[14] = v >> 8;
		k->addr[15] = v;
		k->prefixlen = 128;
	} else {
		k->addr[4] = 0xee;
		k->addr[5] = v >> 16;
		k->addr[6] = v >> 8;
		k->addr[7] = v;
		k->prefixlen = 64;
	}
}

/* a million deny entries of both kinds in one batch: accepted, listed, and lookups still right */
static void test_million(void)
{
	enum { N = 1000000, N4X = 450000, N4P = 200000, N6X = 150000 };
	struct scrub_lpm_key *k = calloc(N, sizeof(*k)), al[4];
	struct timespec t0, t1;
	struct seen s;
	int n;

	CHECK(k != NULL);
	if (!k)
		return;
	/* 450k IPv4 /32 from 10.0.0.0, 200k IPv4 /24 from 100.64.0.0, 150k IPv6 /128, 200k IPv6
	 * /64, interleaved so that each batch holds both kinds */
	for (int i = 0; i < N; i++) {
		int j = (int)(((long)i * 7919) % N); /* 7919 is prime: a permutation of 0..N-1 */

		if (j < N4X)
			v4key(&k[i], 0x0a000000u + (__u32)j, 32);
		else if (j < N4X + N4P)
			v4key(&k[i], 0x64400000u + ((__u32)(j - N4X) << 8), 24);
		else if (j < N4X + N4P + N6X)
			v6key(&k[i], (__u32)(j - N4X - N4P), 1);
		else
			v6key(&k[i], (__u32)(j - N4X - N4P - N6X), 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	n = xdp_scrub_prefix_add_many(X, XDP_SCRUB_DENY, k, N);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK_EQ(n, N);
	printf("1M deny entries (600k exact, 400k prefixes) inserted in %.2f s\n",
	       (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	s = list(XDP_SCRUB_DENY);
	CHECK_EQ(s.n, N);
	CHECK_EQ(s.exact, N4X + N6X);
	/* two exact and two prefix allow entries over denied ones */
	v4key(&al[0], 0x0a000005u, 32);
	v4key(&al[1], 0x64400100u, 25); /* 100.64.1.0/25 inside a denied /24 */
	v6key(&al[2], 77, 1);
	v6key(&al[3], 5, 0);
	CHECK_EQ(xdp_scrub_prefix_add_many(X, XDP_SCRUB_ALLOW, al, 4), 4);
	static const struct {
		const char *src;
		int verdict;
	} cases[] = {
	    {"10.0.0.0", XDP_DROP},
	    {"10.6.221.207", XDP_DROP}, /* 449999 = 0x6ddcf */
	    {"10.6.221.208", XDP_PASS},
	    {"10.0.0.5", XDP_PASS}, /* allowed */
	    {"10.0.0.6", XDP_DROP},
	    {"100.64.0.77", XDP_DROP},
	    {"100.64.1.77", XDP_PASS},	 /* allowed /25 */
	    {"100.64.1.128", XDP_DROP},	 /* the other half of that /24 */
	    {"103.77.63.255", XDP_DROP}, /* 100.64.0.0 + (199999 << 8) + 255 */
	    {"103.77.64.0", XDP_PASS},
	    {"2001:db8:ef::", XDP_DROP},
	    {"2001:db8:ef::2:49ef", XDP_DROP}, /* 149999 = 0x249ef */
	    {"2001:db8:ef::2:49f0", XDP_PASS},
	    {"2001:db8:ef::4d", XDP_PASS}, /* 77: allowed */
	    {"2001:db8:ef::4e", XDP_DROP},
	    {"2001:db8:ee00:0:1::1", XDP_DROP},
	    {"2001:db8:ee03:d3f::9", XDP_DROP}, /* 199999 = 0x30d3f */
	    {"2001:db8:ee03:d40::9", XDP_PASS},
	    {"2001:db8:ee00:5::9", XDP_PASS}, /* allowed /64 */
	    {"192.0.2.1", XDP_PASS},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int v6 = strchr(cases[i].src, ':') != NULL;
		struct pk p = {.v6 = v6,
			       .proto = IPPROTO_UDP,
			       .src = cases[i].src,
			       .dst = v6 ? "2001:db8::1" : "192.0.2.1",
			       .sport = 1,
			       .dport = 2,
			       .vlans = (int)i % 3};
		int v = run(&p);

		if (v != cases[i].verdict)
			fprintf(stderr, "case %s\n", cases[i].src);
		CHECK_EQ(v, cases[i].verdict);
	}
	/* deleting from a full list: an exact entry and a prefix */
	struct pk e = UDP4("10.0.0.6", "192.0.2.1", 1, 2),
		  q = UDP4("100.64.0.77", "192.0.2.1", 1, 2);
	struct scrub_lpm_key ke, kq;
	v4key(&ke, 0x0a000006u, 32);
	v4key(&kq, 0x64400000u, 24);
	CHECK_EQ(xdp_scrub_prefix_del(X, XDP_SCRUB_DENY, &ke), 0);
	CHECK_EQ(xdp_scrub_prefix_del(X, XDP_SCRUB_DENY, &kq), 0);
	CHECK_EQ(run(&e), XDP_PASS);
	CHECK_EQ(run(&q), XDP_PASS);
	/* 10.0.0.5 is in both lists: without its allow entry the deny entry drops it */
	struct pk a5 = UDP4("10.0.0.5", "192.0.2.1", 1, 2);
	CHECK_EQ(xdp_scrub_prefix_del(X, XDP_SCRUB_ALLOW, &al[0]), 0);
	CHECK_EQ(run(&a5), XDP_DROP);
	CHECK_EQ(list(XDP_SCRUB_ALLOW).n, 3);
	free(k);
}

/* the nonempty word, as the data plane reads it (pinned as data_nonempty) */
static __u32 ne_word(const char *dir)
{
	char path[128];
	__u32 zero = 0, v = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/data_nonempty", dir);
	fd = bpf_obj_get(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return 0;
	CHECK_EQ(bpf_map_lookup_elem(fd, &zero, &v), 0);
	close(fd);
	return v;
}

static void ne_word_set(const char *dir, __u32 v)
{
	char path[128];
	__u32 zero = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/data_nonempty", dir);
	fd = bpf_obj_get(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_EQ(bpf_map_update_elem(fd, &zero, &v, BPF_ANY), 0);
	close(fd);
}

/* moatd opens a scrubber per interface on the same pinned maps and configures the first: the
 * nonempty word (lists, sampling) is shared, so a second scrubber's program drops and samples
 * alike; a reopen recomputes the word (NE_SAMPLE from the pinned config too); reason counters
 * derive dropped_* from the reason */
static void test_shared(const char *dir)
{
	struct scrub_config on = {.sample_every = 1}, off = {0};
	struct scrub_lpm_key d = pfx("198.51.100.7");
	struct pk p = UDP4("198.51.100.7", "192.0.2.1", 1, 2),
		  q = UDP4("198.51.100.8", "192.0.2.1", 1, 2);
	struct scrub_counter d0, d1, p0, p1;
	struct xdp_scrub *y = NULL;
	struct got g = {0};
	struct built b;
	int fy;

	CHECK_EQ(xdp_scrub_open(&y, dir), 0);
	if (!y)
		return;
	fy = xdp_scrub_prog_fd(y);
	build(&p, &b);
	CHECK_EQ(xdp_scrub_samples(X, on_sample, &g, 0) >= 0, 1); /* drain */
	CHECK_EQ(xdp_scrub_config(X, &off), 0);
	CHECK_EQ(ne_word(dir) & NE_SAMPLE, 0);
	CHECK_EQ(xdp_scrub_prefix_add(X, XDP_SCRUB_DENY, &d), 0);
	CHECK(ne_word(dir) & NE_EXACT4);
	d0 = reason(SCRUB_R_DENY);
	p0 = reason(SCRUB_R_PASS);
	{
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = b.buf, .data_size_in = b.len);

		CHECK_EQ(bpf_prog_test_run_opts(fy, &o), 0);
		CHECK_EQ(o.retval, XDP_DROP); /* added through X, dropped by y's program */
	}
	g.n = 0;
	CHECK_EQ(xdp_scrub_samples(X, on_sample, &g, 10), 0); /* not sampling */
	CHECK_EQ(xdp_scrub_config(X, &on), 0);
	CHECK(ne_word(dir) & NE_SAMPLE);
	{
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = b.buf, .data_size_in = b.len);

		CHECK_EQ(bpf_prog_test_run_opts(fy, &o), 0);
		CHECK_EQ(o.retval, XDP_DROP);
	}
	CHECK_EQ(xdp_scrub_samples(y, on_sample, &g, 100), 1); /* configured through X */
	CHECK_EQ(g.s.reason, SCRUB_R_DENY);
	CHECK_EQ(run(&q), XDP_PASS);
	d1 = reason(SCRUB_R_DENY);
	p1 = reason(SCRUB_R_PASS);
	CHECK_EQ(d1.packets - d0.packets, 2);
	CHECK_EQ(d1.dropped_packets - d0.dropped_packets, 2);
	CHECK_EQ(d1.dropped_bytes - d0.dropped_bytes, 2 * (__u64)b.len);
	CHECK_EQ(d1.dropped_bytes, d1.bytes);
	CHECK_EQ(p1.packets - p0.packets, 1);
	CHECK_EQ(p1.dropped_packets, 0);
	CHECK_EQ(p1.dropped_bytes, 0);
	xdp_scrub_close(y);

	/* a word that lost its bits (an older moat's, or cleared): the reopen recomputes it */
	ne_word_set(dir, 0);
	xdp_scrub_close(X);
	X = NULL;
	CHECK_EQ(xdp_scrub_open(&X, dir), 0);
	if (!X)
		exit(t_done("test_xdp"));
	CHECK((ne_word(dir) & (NE_SAMPLE | NE_EXACT4)) == (NE_SAMPLE | NE_EXACT4));
	CHECK_EQ(run(&p), XDP_DROP);
	g.n = 0;
	CHECK_EQ(xdp_scrub_samples(X, on_sample, &g, 100), 1);
	CHECK_EQ(xdp_scrub_config(X, &off), 0);
	CHECK_EQ(ne_word(dir) & NE_SAMPLE, 0);
	CHECK_EQ(run(&p), XDP_DROP);
	g.n = 0;
	CHECK_EQ(xdp_scrub_samples(X, on_sample, &g, 10), 0);
	CHECK_EQ(xdp_scrub_prefix_del(X, XDP_SCRUB_DENY, &d), 0);
	CHECK_EQ(ne_word(dir) & NE_EXACT4, 0);
	CHECK_EQ(run(&p), XDP_PASS);
}

static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* real XDP on a veth pair between two namespaces made here: native mode, then generic; a deny
 * prefix stops ping, deleting it lets ping through */
static void test_attach(void)
{
	char a[32], b[32], ns[64];
	struct xdp_scrub *y = NULL;
	struct scrub_lpm_key k = pfx("203.0.113.1");
	struct scrub_counter c0, c;
	int pid = (int)getpid(), orig = -1, nsfd = -1, ifindex, ne, mode;

	snprintf(a, sizeof(a), "moatxa%d", pid);
	snprintf(b, sizeof(b), "moatxb%d", pid);
	if (sh("ip netns add %s && ip netns add %s && "
	       "ip link add mxa%d netns %s type veth peer name mxb%d netns %s && "
	       "ip -n %s addr add 203.0.113.1/24 dev mxa%d && ip -n %s addr add 203.0.113.2/24 dev "
	       "mxb%d && "
	       "ip -n %s link set mxa%d up && ip -n %s link set mxb%d up",
	       a, b, pid, a, pid, b, a, pid, b, pid, a, pid, b, pid) != 0) {
		CHECK(!"netns setup");
		goto out;
	}
	snprintf(ns, sizeof(ns), "/run/netns/%s", b);
	orig = open("/proc/self/ns/net", O_RDONLY);
	nsfd = open(ns, O_RDONLY);
	CHECK(orig >= 0 && nsfd >= 0);
	if (orig < 0 || nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0) {
		CHECK(!"setns");
		goto out;
	}
	snprintf(ns, sizeof(ns), "mxb%d", pid);
	ifindex = (int)if_nametoindex(ns);
	CHECK(ifindex > 0);
	CHECK_EQ(xdp_scrub_open(&y, ""), 0);
	if (!y)
		goto out;
	for (int generic = 0; generic <= 1; generic++) {
		mode = xdp_scrub_attach(y, ifindex, generic, &ne);
		CHECK_EQ(mode, generic ? XDP_SCRUB_GENERIC : XDP_SCRUB_NATIVE);
		CHECK_EQ(xdp_scrub_reason_counter(y, SCRUB_R_DENY, &c0), 0);
		CHECK_EQ(xdp_scrub_prefix_add(y, XDP_SCRUB_DENY, &k), 0);
		CHECK(sh("ip netns exec %s ping -c 2 -i 0.2 -W 1 203.0.113.2 >/dev/null 2>&1", a) !=
		      0);
		CHECK_EQ(xdp_scrub_reason_counter(y, SCRUB_R_DENY, &c), 0);
		CHECK_EQ(c.packets - c0.packets, 2);
		CHECK_EQ(xdp_scrub_prefix_del(y, XDP_SCRUB_DENY, &k), 0);
		CHECK_EQ(sh("ip netns exec %s ping -c 1 -W 2 203.0.113.2 >/dev/null 2>&1", a), 0);
		CHECK_EQ(xdp_scrub_detach(y), 0);
	}
	CHECK_EQ(xdp_scrub_detach(y), -ENOENT);
out:
	xdp_scrub_close(y);
	if (orig >= 0) {
		CHECK_EQ(setns(orig, CLONE_NEWNET), 0);
		close(orig);
	}
	if (nsfd >= 0)
		close(nsfd);
	sh("ip netns del %s 2>/dev/null; ip netns del %s 2>/dev/null", a, b);
}

int main(void)
{
	char dir[64];
	int err;

	if (geteuid() != 0) {
		fprintf(stderr, "test_xdp: needs root (BPF_PROG_TEST_RUN, bpffs)\n");
		return 1;
	}
	snprintf(dir, sizeof(dir), "/sys/fs/bpf/moat-test-%d", (int)getpid());
	err = xdp_scrub_open(&X, dir);
	if (err) {
		fprintf(stderr, "test_xdp: xdp_scrub_open: %s\n", strerror(-err));
		return 1;
	}
	test_lists();
	test_lists_exact();
	test_icmp();
	test_rules();
	test_ratelimit();
	test_amp();
	test_invalid();
	test_samples();
	test_pin_reuse(dir);
	test_shared(dir);
	test_attach();
	CHECK_EQ(xdp_scrub_unpin(X), 0);
	CHECK_EQ(rmdir(dir), 0);
	xdp_scrub_close(X);

	/* unpinned: its million prefixes go with it */
	err = xdp_scrub_open(&X, "");
	CHECK_EQ(err, 0);
	if (!err) {
		test_million();
		xdp_scrub_close(X);
	}
	return t_done("test_xdp");
}
