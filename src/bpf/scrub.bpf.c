/* scrub.bpf.c: the XDP scrubber. Built with clang -target bpf (not part of libmoat), loaded by
 * src/mitigate/xdp.c through the generated skeleton. Maps and verdict order in
 * docs/ARCHITECTURE.md.
 *
 * Per packet, in order: parse (Ethernet, up to 2 VLAN tags, IPv4/IPv6 with extension headers,
 * TCP/UDP/ICMP/ICMPv6) and drop invalid packets; source in the allow list: pass; in the deny list:
 * drop (exact addresses of both lists in one hash lookup, then each list's LPM trie of shorter
 * prefixes; maps userspace marks empty are not looked up);
 * destination with rules: first matching rule decides (drop, pass, rate limit per source);
 * destination under attack: drop UDP from amplification ports; else pass. The verdict, its reason
 * and the rule are counted in one function (done, inlined at each exit), which also samples drops.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bpf/scrub.h"

char LICENSE[] SEC("license") = "GPL";

/* Compile-time features (xdp-filter style: not a branch per packet). */
#ifndef SCRUB_VLAN
#define SCRUB_VLAN 1 /* walk up to 2 802.1Q/802.1ad tags */
#endif
#ifndef SCRUB_SAMPLE
#define SCRUB_SAMPLE 1 /* ring buffer samples of dropped packets */
#endif

#define NSEC 1000000000ULL

/* The allow and deny lists. Exact addresses (an IPv4 /32, an IPv6 /128) of both lists are in
 * one hash per family, exact4 (keyed by the IPv4 address: the key xdp-filter hashes, 3 ns
 * cheaper than a mapped one) and exact6, whose value says which lists hold the address
 * (EXACT_*): one lookup serves both lists. Shorter prefixes are in an LPM trie per list, whose
 * lookup walks up to 128 levels. Userspace (xdp_scrub_prefix_*) keeps the entries apart. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SCRUB_MAX_PREFIXES);
	__type(key, struct scrub_lpm_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} allow_v SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SCRUB_MAX_PREFIXES);
	__type(key, struct scrub_lpm_key);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} deny_v SEC(".maps");

/* not preallocated: an empty one costs only its bucket array (16 bytes an entry) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SCRUB_MAX_PREFIXES);
	__type(key, __be32);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} exact4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SCRUB_MAX_PREFIXES);
	__type(key, struct scrub_addr);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} exact6 SEC(".maps");

/* Which maps have entries, and whether drops are sampled: enum scrub_nonempty bits (scrub.h).
 * A global in its own section, so that libbpf makes it a one-entry array map of its own, which
 * userspace pins and reuses like the others ("data_nonempty"): the program reads it with one
 * load, not a map lookup. Until userspace writes it, every bit is set: every map is looked up. */
__u32 ne_bits SEC(".data.nonempty") = ~0U;

/* kernel hash maps use a random per-map seed, so sources cannot aim at buckets */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SCRUB_MAX_TARGETS);
	__type(key, struct scrub_addr);
	__type(value, struct scrub_target);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SCRUB_MAX_RULES);
	__type(key, __u32);
	__type(value, struct scrub_rule);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SCRUB_MAX_BUCKETS);
	__type(key, struct scrub_rl_key);
	__type(value, struct scrub_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} buckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SCRUB_MAX_RULES);
	__type(key, __u32);
	__type(value, struct scrub_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} rule_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SCRUB_R_MAX);
	__type(key, __u32);
	__type(value, struct scrub_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} reason_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scrub_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, SCRUB_RING_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} samples SEC(".maps");

struct vlan_hdr {
	__be16 tci;
	__be16 proto;
};

struct ip6_ext {
	__u8 nexthdr;
	__u8 len;
	__be16 frag_off; /* fragment header only */
	__be32 id;
};

struct pkt {
	struct scrub_addr src, dst;
	__be32 src4; /* IPv4 source as in the header (or in a mapped IPv6 source) */
	__be32 dst4; /* IPv4 destination; src and dst are mapped from src4 and dst4 by map_addrs */
	__u32 l3len;
	__u16 sport, dport;
	__u8 family, proto, ttl, tcp_flags, frag;
	__u8 src_is4; /* src4 holds the source: IPv4, or IPv6 from ::ffff:0:0/96 */
	/* icmp: ICMP in IPv4 or ICMPv6 in IPv6, not a later fragment: type and code are known */
	__u8 icmp, icmp_type, icmp_code;
};

static __always_inline void map4(struct scrub_addr *a, __be32 v4)
{
	__builtin_memset(a->a, 0, 10);
	a->a[10] = 0xff;
	a->a[11] = 0xff;
	__builtin_memcpy(&a->a[12], &v4, 4);
}

/* src and dst of an IPv4 packet in the mapped space: needed only past the exact lookup (tries,
 * targets, rate-limit buckets), so not done by parse_ip4 */
static __always_inline void map_addrs(struct pkt *p)
{
	if (p->family != 4)
		return;
	map4(&p->src, p->src4);
	map4(&p->dst, p->dst4);
}

/* TCP flag combinations no stack sends: clear scans and floods, not judgment calls. */
static __always_inline int tcp_flags_bad(__u8 f)
{
	f &= 0x3f;
	if (f == 0)
		return 1;
	if ((f & (SCRUB_TCP_SYN | SCRUB_TCP_FIN)) == (SCRUB_TCP_SYN | SCRUB_TCP_FIN))
		return 1;
	if ((f & (SCRUB_TCP_SYN | SCRUB_TCP_RST)) == (SCRUB_TCP_SYN | SCRUB_TCP_RST))
		return 1;
	if ((f & (SCRUB_TCP_FIN | SCRUB_TCP_ACK)) == SCRUB_TCP_FIN)
		return 1;
	return 0;
}

/* L4 header at l4 with l4len bytes of L3 payload. Returns 0 or a drop reason. */
static __always_inline __u32 parse_l4(struct pkt *p, void *l4, __u32 l4len, void *end)
{
	__u32 need;

	if (p->frag == SCRUB_FRAG_LATER)
		return 0;
	switch (p->proto) {
	case IPPROTO_TCP:
		need = sizeof(struct tcphdr);
		break;
	case IPPROTO_UDP:
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		need = 8;
		break;
	default:
		return 0;
	}
	if (l4len < need)
		return p->frag == SCRUB_FRAG_FIRST ? SCRUB_R_TINY_FRAG : SCRUB_R_BAD_HDR;
	if (p->proto == IPPROTO_TCP) {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > end)
			return SCRUB_R_BAD_HDR;
		if (th->doff < 5)
			return SCRUB_R_BAD_HDR;
		if (th->doff * 4U > l4len)
			return p->frag == SCRUB_FRAG_FIRST ? SCRUB_R_TINY_FRAG : SCRUB_R_BAD_HDR;
		p->sport = bpf_ntohs(th->source);
		p->dport = bpf_ntohs(th->dest);
		p->tcp_flags = ((__u8 *)th)[13];
		if (tcp_flags_bad(p->tcp_flags))
			return SCRUB_R_BAD_TCP_FLAGS;
	} else if (p->proto == IPPROTO_UDP) {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > end)
			return SCRUB_R_BAD_HDR;
		if (p->frag == SCRUB_FRAG_NONE &&
		    (bpf_ntohs(uh->len) < 8 || bpf_ntohs(uh->len) > l4len))
			return SCRUB_R_BAD_HDR;
		p->sport = bpf_ntohs(uh->source);
		p->dport = bpf_ntohs(uh->dest);
	} else if (p->proto == (p->family == 4 ? IPPROTO_ICMP : IPPROTO_ICMPV6)) {
		__u8 *ih = l4;

		if ((void *)(ih + 2) > end)
			return SCRUB_R_BAD_HDR;
		p->icmp = 1;
		p->icmp_type = ih[0];
		p->icmp_code = ih[1];
	}
	return 0;
}

static __always_inline __u32 parse_ip4(struct pkt *p, void *l3, void *end)
{
	struct iphdr *ip = l3;
	__u32 hl, tot;
	__u16 fo;

	if ((void *)(ip + 1) > end)
		return SCRUB_R_BAD_HDR;
	if (ip->version != 4 || ip->ihl < 5)
		return SCRUB_R_BAD_HDR;
	hl = ip->ihl * 4;
	tot = bpf_ntohs(ip->tot_len);
	if (tot < hl || l3 + tot > end)
		return SCRUB_R_BAD_HDR;
	p->family = 4;
	p->proto = ip->protocol;
	p->ttl = ip->ttl;
	p->l3len = tot;
	p->src4 = ip->saddr;
	p->src_is4 = 1;
	p->dst4 = ip->daddr; /* src and dst: by map_addrs, only if needed */
	fo = bpf_ntohs(ip->frag_off);
	if (fo & 0x1fff)
		p->frag = SCRUB_FRAG_LATER;
	else if (fo & 0x2000)
		p->frag = SCRUB_FRAG_FIRST;
	else
		p->frag = SCRUB_FRAG_NONE;
	/* RFC 1858: a TCP fragment at offset 8 bytes can only be there to rewrite the flags */
	if ((fo & 0x1fff) == 1 && p->proto == IPPROTO_TCP)
		return SCRUB_R_TINY_FRAG;
	return parse_l4(p, l3 + hl, tot - hl, end);
}

static __always_inline __u32 parse_ip6(struct pkt *p, void *l3, void *end)
{
	struct ipv6hdr *ip6 = l3;
	__u32 off = sizeof(*ip6), tot;
	__u8 nh;

	if ((void *)(ip6 + 1) > end)
		return SCRUB_R_BAD_HDR;
	if (ip6->version != 6)
		return SCRUB_R_BAD_HDR;
	tot = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
	if (l3 + tot > end)
		return SCRUB_R_BAD_HDR;
	p->family = 6;
	p->ttl = ip6->hop_limit;
	p->l3len = tot;
	p->frag = SCRUB_FRAG_NONE;
	__builtin_memcpy(p->src.a, &ip6->saddr, 16);
	__builtin_memcpy(p->dst.a, &ip6->daddr, 16);
	/* a mapped source is looked up where userspace keeps mapped /128s: exact4 */
	if (ip6->saddr.in6_u.u6_addr32[0] == 0 && ip6->saddr.in6_u.u6_addr32[1] == 0 &&
	    ip6->saddr.in6_u.u6_addr32[2] == bpf_htonl(0xffff)) {
		p->src4 = ip6->saddr.in6_u.u6_addr32[3];
		p->src_is4 = 1;
	}
	nh = ip6->nexthdr;
	/* bounded walk: more than SCRUB_EXT_HDRS extension headers is no legitimate packet */
	for (int i = 0; i < SCRUB_EXT_HDRS; i++) {
		struct ip6_ext *e;

		if (nh != IPPROTO_HOPOPTS && nh != IPPROTO_ROUTING && nh != IPPROTO_DSTOPTS &&
		    nh != IPPROTO_FRAGMENT)
			break;
		if (off > 1024 || off + 8 > tot)
			return SCRUB_R_BAD_HDR;
		e = l3 + off;
		if ((void *)(e + 1) > end)
			return SCRUB_R_BAD_HDR;
		if (nh == IPPROTO_FRAGMENT) {
			__u16 fo = bpf_ntohs(e->frag_off);

			nh = e->nexthdr;
			off += 8;
			if (fo & 0xfff8) {
				p->frag = SCRUB_FRAG_LATER;
				break;
			}
			if (fo & 1)
				p->frag = SCRUB_FRAG_FIRST;
		} else {
			nh = e->nexthdr;
			off += (e->len + 1) * 8;
		}
	}
	if (off > tot)
		return SCRUB_R_BAD_HDR;
	if (p->frag != SCRUB_FRAG_LATER && (nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING ||
					    nh == IPPROTO_DSTOPTS || nh == IPPROTO_FRAGMENT))
		return SCRUB_R_BAD_HDR;
	p->proto = nh;
	if (off > 2048)
		return SCRUB_R_BAD_HDR;
	return parse_l4(p, l3 + off, tot - off, end);
}

/* Returns 0 with *p filled, SCRUB_R_NOT_IP, or a drop reason. */
static __always_inline __u32 parse(struct xdp_md *ctx, struct pkt *p)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	void *l3 = eth + 1;
	__u16 proto;

	if (l3 > end)
		return SCRUB_R_NOT_IP;
	proto = eth->h_proto;
#if SCRUB_VLAN
#pragma unroll
	for (int i = 0; i < 2; i++) {
		struct vlan_hdr *vh = l3;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > end)
			return SCRUB_R_BAD_HDR;
		proto = vh->proto;
		l3 = vh + 1;
	}
#endif
	if (proto == bpf_htons(ETH_P_IP))
		return parse_ip4(p, l3, end);
	if (proto == bpf_htons(ETH_P_IPV6))
		return parse_ip6(p, l3, end);
	return SCRUB_R_NOT_IP;
}

static __always_inline int in_range(__u32 v, __u32 lo, __u32 hi)
{
	return v >= lo && v <= hi;
}

static __always_inline int rule_match(const struct scrub_rule *r, const struct pkt *p)
{
	__u32 m = r->match;
	int ports =
	    p->frag != SCRUB_FRAG_LATER && (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP);

	if ((m & SCRUB_M_FAMILY) && r->family != p->family)
		return 0;
	if ((m & SCRUB_M_PROTO) && r->proto != p->proto)
		return 0;
	if ((m & SCRUB_M_SPORT) && (!ports || !in_range(p->sport, r->sport_min, r->sport_max)))
		return 0;
	if ((m & SCRUB_M_DPORT) && (!ports || !in_range(p->dport, r->dport_min, r->dport_max)))
		return 0;
	if ((m & SCRUB_M_LEN) && !in_range(p->l3len, r->len_min, r->len_max))
		return 0;
	if ((m & SCRUB_M_TTL) && !in_range(p->ttl, r->ttl_min, r->ttl_max))
		return 0;
	if ((m & SCRUB_M_TCPFLAGS) && (p->proto != IPPROTO_TCP || p->frag == SCRUB_FRAG_LATER ||
				       (p->tcp_flags & r->tcp_mask) != r->tcp_value))
		return 0;
	if ((m & SCRUB_M_FRAG) && !(r->frag & p->frag))
		return 0;
	if ((m & SCRUB_M_ICMP) && (!p->icmp || r->icmp_type != p->icmp_type ||
				   (r->icmp_code != 0xff && r->icmp_code != p->icmp_code)))
		return 0;
	return 1;
}

/* One token bucket per (rule, source prefix). Concurrent CPUs may race on one bucket; the error
 * is at most one packet per CPU, the price of not taking a lock per packet. */
static __always_inline int ratelimit_ok(const struct scrub_rule *r, __u32 id, const struct pkt *p)
{
	struct scrub_rl_key k = {.rule = id};
	struct scrub_bucket *b, nb;
	__u32 plen = p->family == 4 ? 96 + (r->rl_plen4 ? r->rl_plen4 : 32)
				    : (r->rl_plen6 ? r->rl_plen6 : 128);
	__u64 now = bpf_ktime_get_ns(), cap, el;

	if (plen > 128)
		plen = 128;
#pragma unroll
	for (int i = 0; i < 16; i++) {
		__u32 bits = i * 8;
		__u8 mask = plen >= bits + 8 ? 0xff
			    : plen <= bits   ? 0
					     : (__u8)(0xff00 >> (plen - bits));

		k.addr[i] = p->src.a[i] & mask;
	}
	cap = (__u64)r->burst * NSEC;
	b = bpf_map_lookup_elem(&buckets, &k);
	if (!b) {
		if (!r->burst)
			return 0;
		nb.credit = cap - NSEC;
		nb.last_ns = now;
		bpf_map_update_elem(&buckets, &k, &nb, BPF_ANY);
		return 1;
	}
	el = now - b->last_ns;
	b->last_ns = now;
	if (r->rate && el >= (cap - b->credit) / r->rate)
		b->credit = cap;
	else
		b->credit += el * r->rate;
	if (b->credit < NSEC)
		return 0;
	b->credit -= NSEC;
	return 1;
}

/* Well-known reflection ports: DNS, NTP, SSDP, memcached, CLDAP, chargen, SNMP, and more
 * (QOTD, portmap, NetBIOS, RIP, WS-Discovery, ARMS, CoAP, mDNS). */
static __always_inline int amp_port(__u16 port)
{
	switch (port) {
	case 17:
	case 19:
	case 53:
	case 111:
	case 123:
	case 137:
	case 161:
	case 389:
	case 520:
	case 1900:
	case 3283:
	case 3702:
	case 5353:
	case 5683:
	case 11211:
		return 1;
	}
	return 0;
}

static __always_inline void count(void *map, __u32 key, __u64 bytes, int drop)
{
	struct scrub_counter *c = bpf_map_lookup_elem(map, &key);

	if (!c)
		return;
	c->packets++;
	c->bytes += bytes;
	if (drop) {
		c->dropped_packets++;
		c->dropped_bytes += bytes;
	}
}

/* A reason is a pass or a drop by itself (scrub.h): its counter's dropped_* are not written here
 * but derived by userspace (xdp_scrub_reason_counter), two fewer writes per packet. */
static __always_inline void count_reason(__u32 key, __u64 bytes)
{
	struct scrub_counter *c = bpf_map_lookup_elem(&reason_stats, &key);

	if (!c)
		return;
	c->packets++;
	c->bytes += bytes;
}

/* Called for a drop when userspace has set NE_SAMPLE (sampling configured): not inlined, so that
 * the verdict paths stay short. */
static __noinline void sample(struct xdp_md *ctx, __u32 reason, __u32 rule, __u32 len)
{
#if SCRUB_SAMPLE
	__u32 zero = 0, n = len;
	struct scrub_config *cf;
	struct scrub_sample *s;

	cf = bpf_map_lookup_elem(&config, &zero);
	if (!cf || !cf->sample_every)
		return;
	if (cf->sample_every > 1 && bpf_get_prandom_u32() % cf->sample_every)
		return;
	s = bpf_ringbuf_reserve(&samples, sizeof(*s), 0);
	if (!s) {
		count_reason(SCRUB_R_SAMPLE_LOST, len);
		return;
	}
	s->ts_ns = bpf_ktime_get_ns();
	s->reason = reason;
	s->rule = rule;
	s->ifindex = ctx->ingress_ifindex;
	s->len = len;
	s->pad = 0;
	if (n >= SCRUB_SAMPLE_BYTES) {
		n = SCRUB_SAMPLE_BYTES;
	} else {
		/* hide n's range from clang so the mask stays for the verifier to see */
		asm volatile("" : "+r"(n));
		n &= SCRUB_SAMPLE_BYTES - 1;
	}
	if (n == 0 || bpf_xdp_load_bytes(ctx, 0, s->data, n) < 0)
		n = 0;
	s->caplen = n;
	bpf_ringbuf_submit(s, 0);
#endif
}

/* The verdict: counted by reason and by rule, sampled if a drop and sampling is on (ne: the
 * nonempty word). Inlined at each exit, where reason, rule and drop are mostly constants. */
static __always_inline int done(struct xdp_md *ctx, __u32 ne, __u32 reason, __u32 rule, __u32 len,
				int drop)
{
	count_reason(reason, len);
	if (rule != SCRUB_NO_RULE)
		count(&rule_stats, rule, len, drop);
	if (drop && (ne & NE_SAMPLE))
		sample(ctx, reason, rule, len);
	return drop ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int scrub(struct xdp_md *ctx)
{
	__u32 len = ctx->data_end - ctx->data;
	__u32 reason, n, x = 0;
	struct scrub_lpm_key k;
	struct scrub_target *t;
	struct pkt p;

	/* src and dst are written before they are read (parse_ip6, map_addrs): zero the rest */
	__builtin_memset(&p.src4, 0, sizeof(p) - __builtin_offsetof(struct pkt, src4));

	/* which maps to look up, and whether drops are sampled (also for drops by parse) */
	n = *(volatile __u32 *)&ne_bits;
	reason = parse(ctx, &p);
	if (reason == SCRUB_R_NOT_IP)
		return done(ctx, n, SCRUB_R_NOT_IP, SCRUB_NO_RULE, len, 0);
	if (reason)
		return done(ctx, n, reason, SCRUB_NO_RULE, len, 1);

	/* allow before deny; in each, the exact address before the trie */
	if (n & (p.src_is4 ? NE_EXACT4 : NE_EXACT6)) {
		__u32 *v = p.src_is4 ? bpf_map_lookup_elem(&exact4, &p.src4)
				     : bpf_map_lookup_elem(&exact6, &p.src);

		if (v)
			x = *v;
	}
	/* the tries (and their key) only if the exact address did not already allow; a trie's
	 * match is added to x as the exact list's bit */
	if (!(x & EXACT_ALLOW) && (n & (NE_ALLOW_PREFIX | NE_DENY_PREFIX))) {
		map_addrs(&p);
		k.prefixlen = 128;
		__builtin_memcpy(k.addr, p.src.a, 16);
		if ((n & NE_ALLOW_PREFIX) && bpf_map_lookup_elem(&allow_v, &k))
			x |= EXACT_ALLOW;
		else if (!(x & EXACT_DENY) && (n & NE_DENY_PREFIX) &&
			 bpf_map_lookup_elem(&deny_v, &k))
			x |= EXACT_DENY;
	}
	if (x & EXACT_ALLOW)
		return done(ctx, n, SCRUB_R_ALLOW, SCRUB_NO_RULE, len, 0);
	if (x & EXACT_DENY)
		return done(ctx, n, SCRUB_R_DENY, SCRUB_NO_RULE, len, 1);

	if (!(n & NE_TARGETS))
		return done(ctx, n, SCRUB_R_PASS, SCRUB_NO_RULE, len, 0);
	map_addrs(&p);
	t = bpf_map_lookup_elem(&targets, &p.dst);
	if (!t)
		return done(ctx, n, SCRUB_R_PASS, SCRUB_NO_RULE, len, 0);
	for (int i = 0; i < SCRUB_TARGET_RULES; i++) {
		struct scrub_rule *r;
		__u32 id;

		if (i >= t->nrules)
			break;
		id = t->rules[i];
		r = bpf_map_lookup_elem(&rules, &id);
		if (!r || r->action == SCRUB_ACT_NONE || !rule_match(r, &p))
			continue;
		if (r->action == SCRUB_ACT_DROP)
			return done(ctx, n, SCRUB_R_RULE_DROP, id, len, 1);
		if (r->action == SCRUB_ACT_PASS)
			return done(ctx, n, SCRUB_R_RULE_PASS, id, len, 0);
		if (ratelimit_ok(r, id, &p))
			return done(ctx, n, SCRUB_R_RATE_PASS, id, len, 0);
		return done(ctx, n, SCRUB_R_RATE_DROP, id, len, 1);
	}
	if ((t->flags & SCRUB_T_ATTACK) && p.proto == IPPROTO_UDP && p.frag != SCRUB_FRAG_LATER &&
	    amp_port(p.sport))
		return done(ctx, n, SCRUB_R_AMP, SCRUB_NO_RULE, len, 1);
	return done(ctx, n, SCRUB_R_PASS, SCRUB_NO_RULE, len, 0);
}
