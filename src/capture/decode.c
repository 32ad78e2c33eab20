/* decode: raw packet bytes -> struct obs, on the hot path.
 *
 * Two lengths govern every decision, and they mean different things:
 *
 *   caplen - how many bytes we were given. A capture is often cut short by a snaplen, so running
 *            out of captured bytes says nothing about the packet itself.
 *   wirelen and the lengths inside the headers - what the packet claims to be. A header that
 *            points past its own IP length, or an IP length beyond the wire length, is a lie:
 *            the packet is malformed.
 *
 * The rule, layer by layer:
 *   - Captured bytes end inside the L2 header (Ethernet, VLAN tags, SLL): DEC_TRUNC_L2.
 *   - Captured bytes end inside the fixed IPv4 (20) or IPv6 (40) header: DEC_TRUNC_L3. Without
 *     the addresses there is nothing to report.
 *   - IP lengths are checked against the wire length only, never against caplen:
 *     IPv4 IHL*4 <= total length <= L3 wire length, IPv6 40 + payload length <= L3 wire length,
 *     else DEC_BAD_IP_LEN. The wire may be longer than the IP length (Ethernet padding).
 *   - Every IPv6 extension header and every L4 header must fit inside the IP length, else
 *     DEC_BAD_EXTHDR or DEC_TRUNC_L4 (the IP header lies, e.g. a tiny first fragment).
 *   - When the IP length says a header is there but the capture ends before it (IPv4 options,
 *     IPv6 extension headers or the L4 header cut by the snaplen), the packet is fine: it is
 *     decoded as far as the captured bytes go and ports/flags are left 0. If the IPv6 chain is
 *     cut, proto is the last next-header value seen.
 *   - L4 fields are filled only when the whole fixed L4 header is captured (TCP 20, UDP 8,
 *     ICMP/ICMPv6 4 bytes), so a packet gives all of sport/dport/tcp_flags or none of them.
 * A check we cannot make because its bytes were not captured is not made: the same packet can
 * decode with a shorter snaplen and fail with a longer one.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "capture/decode.h"

enum {
	ETH_HLEN = 14,
	SLL_HLEN = 16,
	VLAN_HLEN = 4,
	VLAN_MAX = 4, /* tags followed; QinQ needs 2, nobody sane needs 5 */
	ETHERTYPE_IPV4 = 0x0800,
	ETHERTYPE_IPV6 = 0x86dd,
	ETHERTYPE_8021Q = 0x8100,
	ETHERTYPE_8021AD = 0x88a8,
	ETHERTYPE_QINQ_OLD = 0x9100,
	IP4_HLEN = 20,
	IP6_HLEN = 40,
	IP6_EXT_MAX = 8, /* longer chains are an evasion attempt, not traffic */
	IP6_EXT_MIN = 8, /* smallest extension header: every kind is at least 8 bytes */
	IP6_OPT_JUMBO = 0xc2,
	NH_HOPOPTS = 0,
	NH_ROUTING = 43,
	NH_FRAGMENT = 44,
	NH_AH = 51,
	NH_DSTOPTS = 60,
	NH_MOBILITY = 135,
	NH_HIP = 139,
	NH_SHIM6 = 140,
	TCP_HLEN = 20,
	UDP_HLEN = 8,
	ICMP_HLEN = 4, /* type, code, checksum: all we read, and all ICMPv6 guarantees */
};

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Bytes left after off, 0 if off is already past the end. */
static inline uint32_t avail(uint32_t len, uint32_t off)
{
	return len > off ? len - off : 0;
}

/* Fills ports and tcp_flags from the L4 header at p + off; the caller has zeroed them.
 * cap: captured bytes from p; end: the IP length from p. Returns DEC_OK (also when the capture
 * stops before the header), DEC_TRUNC_L4 if the IP length leaves no room for the header,
 * DEC_BAD_L4 if the TCP data offset is below 5. */
static enum decode_reason l4_parse(const uint8_t *p, uint32_t off, uint32_t cap, uint32_t end,
				   struct obs *o)
{
	const uint8_t *q;
	uint32_t need, doff;

	switch (o->proto) {
	case IPPROTO_TCP_:
		need = TCP_HLEN;
		break;
	case IPPROTO_UDP_:
		need = UDP_HLEN;
		break;
	case IPPROTO_ICMP_:
	case IPPROTO_ICMPV6_:
		need = ICMP_HLEN;
		break;
	default:
		return DEC_OK;
	}
	if (end - off < need)
		return DEC_TRUNC_L4;
	if (avail(cap, off) < need)
		return DEC_OK; /* snaplen, not malformed */
	q = p + off;
	o->l4 = 1;
	if (need == ICMP_HLEN) {
		o->dport = rd16(q);
		return DEC_OK;
	}
	o->sport = rd16(q);
	o->dport = rd16(q + 2);
	if (need != TCP_HLEN)
		return DEC_OK;
	doff = (q[12] >> 4) * 4u;
	if (doff < TCP_HLEN)
		return DEC_BAD_L4;
	if (doff > end - off)
		return DEC_TRUNC_L4;
	o->tcp_flags = q[13];
	return DEC_OK;
}

/* Decodes IPv4 at p. cap: captured bytes from p; wire: wire length from p.
 * Returns DEC_OK, DEC_TRUNC_L3, DEC_BAD_IP_VER, DEC_BAD_IP_HLEN, DEC_BAD_IP_LEN or an L4 reason. */
static enum decode_reason ip4_parse(const uint8_t *p, uint32_t cap, uint32_t wire, struct obs *o)
{
	uint32_t hlen, tot;
	uint16_t frag;

	if (cap < IP4_HLEN)
		return DEC_TRUNC_L3;
	if (p[0] >> 4 != 4)
		return DEC_BAD_IP_VER;
	hlen = (p[0] & 0x0f) * 4u;
	if (hlen < IP4_HLEN)
		return DEC_BAD_IP_HLEN;
	tot = rd16(p + 2);
	if (tot < hlen || tot > wire)
		return DEC_BAD_IP_LEN;

	o->family = 4;
	o->proto = p[9];
	o->ttl = p[8];
	o->bytes = tot;
	o->len = tot;
	maddr_from_v4(&o->src, p + 12);
	maddr_from_v4(&o->dst, p + 16);
	o->sport = 0;
	o->dport = 0;
	o->tcp_flags = 0;
	o->l4 = 0;

	frag = rd16(p + 6);
	if (frag & 0x1fff) {
		o->frag = OBS_FRAG_LATER; /* bytes after the offset are payload, not a header */
		return DEC_OK;
	}
	o->frag = (frag & 0x2000) ? OBS_FRAG_FIRST : OBS_FRAG_NONE;
	return l4_parse(p, hlen, cap, tot, o);
}

/* Whether an IPv6 packet with payload length 0 really is a jumbogram (RFC 2675): the hop-by-hop
 * header at p + 40 carries a Jumbo Payload option. Rare path, so a plain option walk. If the
 * capture ends before the option area does, gives the benefit of the doubt. */
static bool ip6_is_jumbo(const uint8_t *p, uint32_t cap)
{
	uint32_t i, end;

	if (cap < IP6_HLEN + IP6_EXT_MIN)
		return true;
	end = IP6_HLEN + (p[IP6_HLEN + 1] + 1u) * 8;
	if (end > cap)
		return true;
	for (i = IP6_HLEN + 2; i < end;) {
		if (p[i] == 0) { /* Pad1 has no length byte */
			i++;
			continue;
		}
		if (end - i < 2)
			break;
		if (p[i] == IP6_OPT_JUMBO && p[i + 1] == 4)
			return true;
		i += 2u + p[i + 1];
	}
	return false;
}

/* Walks the IPv6 extension header chain of a packet of IP length len. Sets o->proto and o->frag;
 * *l4off is where the L4 header starts, or 0 when there is none to parse (later fragment, or the
 * capture ends inside the chain). Returns DEC_OK or DEC_BAD_EXTHDR (header beyond the IP length,
 * hop-by-hop not first, more than IP6_EXT_MAX headers). */
static enum decode_reason ip6_chain(const uint8_t *p, uint32_t cap, uint32_t len, uint32_t *l4off,
				    struct obs *o)
{
	uint32_t off = IP6_HLEN, hl;
	uint8_t nh = p[6];
	const uint8_t *q;

	for (int n = 0;; n++) {
		switch (nh) {
		case NH_HOPOPTS:
			if (n > 0)
				return DEC_BAD_EXTHDR;
			break;
		case NH_ROUTING:
		case NH_FRAGMENT:
		case NH_AH:
		case NH_DSTOPTS:
		case NH_MOBILITY:
		case NH_HIP:
		case NH_SHIM6:
			break;
		default:
			goto out; /* L4, ESP, no-next-header or unknown: end of chain */
		}
		if (n == IP6_EXT_MAX || len - off < IP6_EXT_MIN)
			return DEC_BAD_EXTHDR;
		if (avail(cap, off) < IP6_EXT_MIN) {
			o->proto = nh;
			*l4off = 0;
			return DEC_OK; /* snaplen */
		}
		q = p + off;
		if (nh == NH_FRAGMENT) {
			hl = 8;
			if (rd16(q + 2) & 0xfff8) {
				o->frag = OBS_FRAG_LATER;
				o->proto = q[0];
				*l4off = 0;
				return DEC_OK;
			}
			if (q[3] & 1)
				o->frag = OBS_FRAG_FIRST;
		} else if (nh == NH_AH) {
			hl = (q[1] + 2u) * 4;
		} else {
			hl = (q[1] + 1u) * 8;
		}
		if (hl > len - off)
			return DEC_BAD_EXTHDR;
		off += hl;
		nh = q[0];
	}
out:
	o->proto = nh;
	*l4off = off;
	return DEC_OK;
}

/* Decodes IPv6 at p. cap: captured bytes from p; wire: wire length from p.
 * Returns DEC_OK, DEC_TRUNC_L3, DEC_BAD_IP_VER, DEC_BAD_IP_LEN, DEC_BAD_EXTHDR or an L4 reason. */
static enum decode_reason ip6_parse(const uint8_t *p, uint32_t cap, uint32_t wire, struct obs *o)
{
	enum decode_reason r;
	uint32_t len, l4off;

	if (cap < IP6_HLEN)
		return DEC_TRUNC_L3;
	if (p[0] >> 4 != 6)
		return DEC_BAD_IP_VER;
	len = IP6_HLEN + rd16(p + 4);
	if (len == IP6_HLEN && p[6] == NH_HOPOPTS) {
		if (!ip6_is_jumbo(p, cap))
			return DEC_BAD_IP_LEN;
		len = wire; /* the jumbo option's own length is not trusted over the wire's */
	}
	if (len > wire)
		return DEC_BAD_IP_LEN;

	o->family = 6;
	o->ttl = p[7];
	o->bytes = len;
	o->len = len;
	memcpy(o->src.b, p + 8, 16);
	memcpy(o->dst.b, p + 24, 16);
	o->sport = 0;
	o->dport = 0;
	o->tcp_flags = 0;
	o->l4 = 0;
	o->frag = OBS_FRAG_NONE;

	r = ip6_chain(p, cap, len, &l4off, o);
	if (r != DEC_OK || l4off == 0)
		return r;
	return l4_parse(p, l4off, cap, len, o);
}

/* Follows up to VLAN_MAX 802.1Q/802.1ad tags starting at *off, with *type the ethertype just
 * read. Leaves *off at the L3 header and *type its ethertype.
 * Returns DEC_OK, DEC_TRUNC_L2 or DEC_VLAN_DEPTH. */
static enum decode_reason vlan_skip(const uint8_t *p, uint32_t cap, uint32_t *off, uint16_t *type)
{
	for (int n = 0;; n++) {
		switch (*type) {
		case ETHERTYPE_8021Q:
		case ETHERTYPE_8021AD:
		case ETHERTYPE_QINQ_OLD:
			break;
		default:
			return DEC_OK;
		}
		if (n == VLAN_MAX)
			return DEC_VLAN_DEPTH;
		if (avail(cap, *off) < VLAN_HLEN)
			return DEC_TRUNC_L2;
		*type = rd16(p + *off + 2);
		*off += VLAN_HLEN;
	}
}

/* Dispatches on the link type. Returns any enum decode_reason; unknown link types are
 * DEC_NOT_IP (nothing we can read). */
static enum decode_reason link_parse(int linktype, const uint8_t *p, uint32_t cap, uint32_t wire,
				     struct obs *o)
{
	enum decode_reason r;
	uint32_t off;
	uint16_t type;

	switch (linktype) {
	case LINK_ETHERNET:
		if (cap < ETH_HLEN)
			return DEC_TRUNC_L2;
		off = ETH_HLEN;
		type = rd16(p + 12);
		break;
	case LINK_LINUX_SLL:
		if (cap < SLL_HLEN)
			return DEC_TRUNC_L2;
		off = SLL_HLEN;
		type = rd16(p + 14);
		break;
	case LINK_RAW:
		if (cap < 1)
			return DEC_TRUNC_L3;
		if (p[0] >> 4 == 4)
			return ip4_parse(p, cap, wire, o);
		if (p[0] >> 4 == 6)
			return ip6_parse(p, cap, wire, o);
		return DEC_BAD_IP_VER;
	case LINK_IPV4:
		return ip4_parse(p, cap, wire, o);
	case LINK_IPV6:
		return ip6_parse(p, cap, wire, o);
	default:
		return DEC_NOT_IP;
	}
	r = vlan_skip(p, cap, &off, &type);
	if (r != DEC_OK)
		return r;
	/* off <= cap here, and wire >= cap, so both subtractions stay in range */
	if (type == ETHERTYPE_IPV4)
		return ip4_parse(p + off, cap - off, wire - off, o);
	if (type == ETHERTYPE_IPV6)
		return ip6_parse(p + off, cap - off, wire - off, o);
	return DEC_NOT_IP;
}

/* Stamps the fields every obs carries and counts the result in one place. */
static inline enum decode_reason finish(enum decode_reason r, uint64_t ts_ns, struct obs *o,
					struct decode_stats *st)
{
	if (r == DEC_OK) {
		o->ts_ns = ts_ns;
		o->packets = 1;
		o->pad[0] = 0; /* obs may be hashed or copied whole: no stale bytes */
		o->pad[1] = 0;
	}
	if (st)
		st->n[r]++;
	return r;
}

enum decode_reason decode_packet(int linktype, const uint8_t *pkt, uint32_t caplen,
				 uint32_t wirelen, uint64_t ts_ns, struct obs *o,
				 struct decode_stats *st)
{
	/* The captured bytes exist, so the wire carried at least that many. */
	if (wirelen < caplen)
		wirelen = caplen;
	return finish(link_parse(linktype, pkt, caplen, wirelen, o), ts_ns, o, st);
}

enum decode_reason decode_ip(const uint8_t *p, uint32_t caplen, uint32_t l3_wirelen, uint64_t ts_ns,
			     struct obs *o, struct decode_stats *st)
{
	if (l3_wirelen < caplen)
		l3_wirelen = caplen;
	return finish(link_parse(LINK_RAW, p, caplen, l3_wirelen, o), ts_ns, o, st);
}

static const char *const reason_names[DEC__COUNT] = {
    [DEC_OK] = "ok",
    [DEC_NOT_IP] = "not_ip",
    [DEC_TRUNC_L2] = "trunc_l2",
    [DEC_TRUNC_L3] = "trunc_l3",
    [DEC_BAD_IP_VER] = "bad_ip_ver",
    [DEC_BAD_IP_HLEN] = "bad_ip_hlen",
    [DEC_BAD_IP_LEN] = "bad_ip_len",
    [DEC_BAD_EXTHDR] = "bad_exthdr",
    [DEC_TRUNC_L4] = "trunc_l4",
    [DEC_BAD_L4] = "bad_l4",
    [DEC_VLAN_DEPTH] = "vlan_depth",
};

const char *decode_reason_name(enum decode_reason r)
{
	if ((unsigned)r >= DEC__COUNT || !reason_names[r])
		return "unknown";
	return reason_names[r];
}
