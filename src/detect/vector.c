/* vector: Space-Saving sketches (Metwally, Agrawal, El Abbadi 2005) and the classifier. */
#include <stdio.h>
#include <string.h>

#include "detect/vector.h"

static inline bool key_eq(const uint8_t *a, const uint8_t *b)
{
	uint64_t a0, a1, b0, b1;

	memcpy(&a0, a, 8);
	memcpy(&a1, a + 8, 8);
	memcpy(&b0, b, 8);
	memcpy(&b1, b + 8, 8);
	return ((a0 ^ b0) | (a1 ^ b1)) == 0;
}

void sketch_add(struct sketch *s, const uint8_t key[16], uint64_t w)
{
	uint32_t min = 0;

	s->total += w;
	for (uint32_t i = 0; i < s->n; i++) {
		if (key_eq(s->it[i].key, key)) {
			s->it[i].count += w;
			return;
		}
		if (s->it[i].count < s->it[min].count)
			min = i;
	}
	if (s->n < SKETCH_K) {
		struct sk_item *it = &s->it[s->n++];
		memcpy(it->key, key, 16);
		it->count = w;
		it->err = 0;
		return;
	}
	struct sk_item *it = &s->it[min];
	memcpy(it->key, key, 16);
	it->err = it->count;
	it->count += w;
}

uint64_t sketch_get(const struct sketch *s, const uint8_t key[16])
{
	for (uint32_t i = 0; i < s->n; i++)
		if (memcmp(s->it[i].key, key, 16) == 0)
			return s->it[i].count - s->it[i].err;
	return 0;
}

uint32_t sketch_top(const struct sketch *s, struct sk_item *out, uint32_t max)
{
	struct sk_item tmp[SKETCH_K];
	uint32_t n = s->n;

	memcpy(tmp, s->it, n * sizeof(tmp[0]));
	/* insertion sort of at most 16 items, by lower bound then upper bound */
	for (uint32_t i = 1; i < n; i++) {
		struct sk_item x = tmp[i];
		uint32_t j = i;
		while (j > 0 && (tmp[j - 1].count - tmp[j - 1].err < x.count - x.err ||
				 (tmp[j - 1].count - tmp[j - 1].err == x.count - x.err &&
				  memcmp(tmp[j - 1].key, x.key, 16) > 0))) {
			tmp[j] = tmp[j - 1];
			j--;
		}
		tmp[j] = x;
	}
	if (n > max)
		n = max;
	memcpy(out, tmp, n * sizeof(tmp[0]));
	return n;
}

void sketch_decay(struct sketch *s)
{
	uint32_t k = 0;

	s->total /= 2;
	for (uint32_t i = 0; i < s->n; i++) {
		s->it[i].count /= 2;
		s->it[i].err /= 2;
		if (s->it[i].count)
			s->it[k++] = s->it[i];
	}
	s->n = k;
}

static void key_u32(uint8_t key[16], uint32_t v)
{
	memset(key, 0, 16);
	memcpy(key, &v, 4);
}

static uint32_t u32_key(const uint8_t key[16])
{
	uint32_t v;
	memcpy(&v, key, 4);
	return v;
}

void vec_add(struct vec *v, const struct feed_rec *r)
{
	uint8_t k[16];
	uint64_t w = r->weight;
	bool ports = r->l4 && (r->proto == IPPROTO_TCP_ || r->proto == IPPROTO_UDP_);

	v->total += w;
	key_u32(k, r->proto);
	sketch_add(&v->sk[VF_PROTO], k, w);
	if (ports) {
		key_u32(k, r->sport);
		sketch_add(&v->sk[VF_SPORT], k, w);
		key_u32(k, r->dport);
		sketch_add(&v->sk[VF_DPORT], k, w);
	}
	if (r->l4 && (r->proto == IPPROTO_ICMP_ || r->proto == IPPROTO_ICMPV6_)) {
		key_u32(k, r->dport);
		sketch_add(&v->sk[VF_ICMP], k, w);
	}
	if (r->l4 && r->proto == IPPROTO_TCP_) {
		key_u32(k, r->tcp_flags);
		sketch_add(&v->sk[VF_TCPFLAGS], k, w);
	}
	key_u32(k, r->len);
	sketch_add(&v->sk[VF_LEN], k, w);
	key_u32(k, r->ttl);
	sketch_add(&v->sk[VF_TTL], k, w);
	sketch_add(&v->sk[VF_SRC], r->peer.b, w);
	struct maddr p = r->peer;
	maddr_mask(&p, maddr_is_v4(&p) ? 96 + 24 : 48);
	sketch_add(&v->sk[VF_SRCPFX], p.b, w);
}

void vec_decay(struct vec *v)
{
	v->total /= 2;
	for (int i = 0; i < VF__COUNT; i++)
		sketch_decay(&v->sk[i]);
}

static const char *const atype_names[AT__COUNT] = {
    [AT_UNKNOWN] = "unknown",
    [AT_SYN_FLOOD] = "syn_flood",
    [AT_ACK_FLOOD] = "ack_flood",
    [AT_RST_FLOOD] = "rst_flood",
    [AT_UDP_FLOOD] = "udp_flood",
    [AT_ICMP_FLOOD] = "icmp_flood",
    [AT_FRAGMENT_FLOOD] = "fragment_flood",
    [AT_DNS_AMP] = "dns_amplification",
    [AT_NTP_AMP] = "ntp_amplification",
    [AT_SSDP_AMP] = "ssdp_amplification",
    [AT_MEMCACHED_AMP] = "memcached_amplification",
    [AT_CLDAP_AMP] = "cldap_amplification",
    [AT_CHARGEN_AMP] = "chargen_amplification",
    [AT_SNMP_AMP] = "snmp_amplification",
    [AT_IP_FLOOD] = "ip_flood",
};

const char *atype_name(enum atype t)
{
	return (unsigned)t < AT__COUNT ? atype_names[t] : "unknown";
}

/* UDP source ports of the reflection/amplification protocols we name. */
static const struct {
	uint16_t port;
	enum atype type;
} amp_ports[] = {
    {53, AT_DNS_AMP},	 {123, AT_NTP_AMP},    {1900, AT_SSDP_AMP}, {11211, AT_MEMCACHED_AMP},
    {389, AT_CLDAP_AMP}, {19, AT_CHARGEN_AMP}, {161, AT_SNMP_AMP},
};

static bool dominates(uint64_t part, uint64_t whole)
{
	return whole > 0 && part * 2 >= whole;
}

/* Share of the sampled weight carrying TCP flags f exactly (f) or any of mask bits. */
static uint64_t flags_weight(const struct sketch *s, uint8_t want, uint8_t mask)
{
	uint64_t w = 0;

	for (uint32_t i = 0; i < s->n; i++)
		if ((u32_key(s->it[i].key) & mask) == want)
			w += s->it[i].count - s->it[i].err;
	return w;
}

static enum atype classify_udp(const struct vec *v)
{
	const struct sketch *sp = v ? &v->sk[VF_SPORT] : NULL;

	if (!sp || !sp->total)
		return AT_UNKNOWN;
	for (size_t i = 0; i < sizeof(amp_ports) / sizeof(amp_ports[0]); i++) {
		uint8_t k[16];
		key_u32(k, amp_ports[i].port);
		if (dominates(sketch_get(sp, k), sp->total))
			return amp_ports[i].type;
	}
	return AT_UNKNOWN;
}

static enum atype classify_tcp(const uint64_t sum[C__COUNT], const struct vec *v)
{
	if (dominates(sum[C_SYN_P], sum[C_TCP_P]))
		return AT_SYN_FLOOD;
	if (v && v->sk[VF_TCPFLAGS].total) {
		const struct sketch *f = &v->sk[VF_TCPFLAGS];
		if (dominates(flags_weight(f, TCPF_RST, TCPF_RST), f->total))
			return AT_RST_FLOOD;
		if (dominates(flags_weight(f, TCPF_ACK, TCPF_ACK | TCPF_SYN | TCPF_RST | TCPF_FIN),
			      f->total))
			return AT_ACK_FLOOD;
	}
	return AT_IP_FLOOD;
}

enum atype classify(const uint64_t sum[C__COUNT], const struct vec *v)
{
	uint64_t p = sum[C_PKTS];
	enum atype t;

	if (!p)
		return AT_UNKNOWN;
	if (dominates(sum[C_UDP_P], p) && (t = classify_udp(v)) != AT_UNKNOWN)
		return t;
	if (dominates(sum[C_FRAG_P], p))
		return AT_FRAGMENT_FLOOD;
	if (dominates(sum[C_TCP_P], p))
		return classify_tcp(sum, v);
	if (dominates(sum[C_UDP_P], p))
		return AT_UDP_FLOOD;
	if (dominates(sum[C_ICMP_P], p))
		return AT_ICMP_FLOOD;
	return AT_IP_FLOOD;
}

static const char *proto_name(uint32_t p, char *buf, size_t n)
{
	const char *s = ipproto_name(p);

	if (s)
		return s;
	snprintf(buf, n, "%u", p);
	return buf;
}

static void flags_str(uint32_t f, char *buf)
{
	static const char names[] = "FSRPAUEC";
	int n = 0;

	for (int i = 0; i < 8; i++)
		if (f & (1u << i))
			buf[n++] = names[i];
	if (!n)
		buf[n++] = '.';
	buf[n] = 0;
}

static void feature_json(const struct vec *v, enum vfeat f, struct json *j, unsigned top_n)
{
	struct sk_item top[SKETCH_K];
	uint32_t n = sketch_top(&v->sk[f], top, top_n < SKETCH_K ? top_n : SKETCH_K);
	char buf[64];

	json_arr(j);
	for (uint32_t i = 0; i < n; i++) {
		uint64_t w = top[i].count - top[i].err;
		/* below 0.5% an item is sketch noise, not a heavy hitter: an empty list says
		 * "spread out" (spoofed sources, random ports) */
		if (!w || w * 200 < v->total)
			continue;
		json_obj(j);
		json_key(j, "value");
		switch (f) {
		case VF_PROTO:
			json_str(j, proto_name(u32_key(top[i].key), buf, sizeof(buf)));
			break;
		case VF_TCPFLAGS:
			flags_str(u32_key(top[i].key), buf);
			json_str(j, buf);
			break;
		case VF_ICMP:
			snprintf(buf, sizeof(buf), "%u/%u", u32_key(top[i].key) >> 8,
				 u32_key(top[i].key) & 0xff);
			json_str(j, buf);
			break;
		case VF_SRC:
			json_str(j, maddr_str((const struct maddr *)top[i].key, buf));
			break;
		case VF_SRCPFX: {
			const struct maddr *a = (const struct maddr *)top[i].key;
			json_str(j, prefix_str(a, maddr_is_v4(a) ? 120 : 48, buf, sizeof(buf)));
			break;
		}
		default:
			json_u64(j, u32_key(top[i].key));
		}
		json_key(j, "share");
		json_dbl(j, v->total ? (double)w / (double)v->total : 0, 4);
		json_end(j);
	}
	json_aend(j);
}

void vec_json(const struct vec *v, struct json *j, unsigned top_n)
{
	static const char *const names[VF__COUNT] = {
	    [VF_PROTO] = "protocols", [VF_SPORT] = "src_ports", [VF_DPORT] = "dst_ports",
	    [VF_LEN] = "lengths",     [VF_TTL] = "ttls",	[VF_TCPFLAGS] = "tcp_flags",
	    [VF_ICMP] = "icmp_types", [VF_SRC] = "src_addrs",	[VF_SRCPFX] = "src_prefixes",
	};

	json_obj(j);
	json_key(j, "samples_weight");
	json_u64(j, v->total);
	for (int f = 0; f < VF__COUNT; f++) {
		json_key(j, names[f]);
		feature_json(v, (enum vfeat)f, j, top_n);
	}
	json_end(j);
}
