/* obs: the one record every input produces and everything downstream consumes.
 *
 * A packet decoder fills one obs per packet; a flow decoder (sFlow, NetFlow, IPFIX) fills one per
 * record with packets/bytes already scaled by the sampling rate. Nothing after this point knows
 * which input an obs came from.
 */
#ifndef MOAT_OBS_H
#define MOAT_OBS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* An IPv4 or IPv6 address. IPv4 is stored IPv4-mapped (::ffff:a.b.c.d) so that every table can
 * key on 16 bytes; `family` in struct obs says which one it really is. */
struct maddr {
	uint8_t b[16];
};

enum obs_frag {
	OBS_FRAG_NONE = 0,
	OBS_FRAG_FIRST = 1, /* offset 0, more-fragments set: has the L4 header */
	OBS_FRAG_LATER = 2, /* offset > 0: no L4 header, ports are 0 */
};

/* TCP flag bits as on the wire (byte 13 of the TCP header). */
enum {
	TCPF_FIN = 0x01,
	TCPF_SYN = 0x02,
	TCPF_RST = 0x04,
	TCPF_PSH = 0x08,
	TCPF_ACK = 0x10,
	TCPF_URG = 0x20,
	TCPF_ECE = 0x40,
	TCPF_CWR = 0x80,
};

struct obs {
	uint64_t ts_ns;	  /* nanoseconds since the epoch, from the one clock */
	struct maddr src; /* IPv4-mapped for family 4 */
	struct maddr dst;
	uint64_t packets;  /* packets this record stands for (1 for a packet, scaled for flows) */
	uint64_t bytes;	   /* L3 bytes as on the wire (IP total length), scaled likewise */
	uint32_t len;	   /* L3 length of one packet (for flows: bytes/packets) */
	uint16_t sport;	   /* 0 when not TCP/UDP or a non-first fragment */
	uint16_t dport;	   /* for ICMP/ICMPv6: type << 8 | code in dport, sport 0 */
	uint8_t family;	   /* 4 or 6 */
	uint8_t proto;	   /* IP protocol number of the L4 header (after IPv6 ext headers) */
	uint8_t tcp_flags; /* OR of flags for flows */
	uint8_t ttl;	   /* TTL or hop limit */
	uint8_t frag;	   /* enum obs_frag */
	uint8_t l4;	   /* 1: ports/ICMP type/TCP flags were read from a captured L4 header.
			    * 0: no L4 header (non-first fragment, other protocol) or the capture
			    * was cut before it; the port fields are 0 and mean nothing */
	uint8_t pad[2];
};

enum {
	IPPROTO_ICMP_ = 1,
	IPPROTO_TCP_ = 6,
	IPPROTO_UDP_ = 17,
	IPPROTO_ICMPV6_ = 58,
};

static inline void maddr_from_v4(struct maddr *a, const uint8_t v4[4])
{
	memset(a->b, 0, 10);
	a->b[10] = 0xff;
	a->b[11] = 0xff;
	memcpy(a->b + 12, v4, 4);
}

static inline bool maddr_is_v4(const struct maddr *a)
{
	static const uint8_t pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return memcmp(a->b, pfx, 12) == 0;
}

static inline bool maddr_eq(const struct maddr *a, const struct maddr *b)
{
	return memcmp(a->b, b->b, 16) == 0;
}

/* Formats an address into buf (at least MADDR_STRLEN bytes). Returns buf. */
#define MADDR_STRLEN 46
char *maddr_str(const struct maddr *a, char *buf);

/* Parses "192.0.2.1" or "2001:db8::1". Returns 0 on success, -1 if not an address. */
int maddr_parse(const char *s, struct maddr *a);

/* Parses "192.0.2.0/24", "2001:db8::/32" or a bare address (host prefix). The prefix length is
 * returned in the mapped space (IPv4 /24 -> 120). Host bits must be zero.
 * Returns 0 on success, -1 on a malformed prefix, -2 if host bits are set. */
int prefix_parse(const char *s, struct maddr *a, int *plen);

/* Formats a prefix given in the mapped space ("198.51.100.0/24"). */
char *prefix_str(const struct maddr *a, int plen, char *buf, size_t n);

/* Masks a to its first plen bits (mapped space). */
void maddr_mask(struct maddr *a, int plen);

/* "tcp", "udp", "icmp", "icmpv6", "gre", "esp", "sctp" for those IP protocol numbers, else NULL. */
const char *ipproto_name(unsigned p);

#endif
