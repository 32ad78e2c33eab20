/* decode: raw packet bytes -> struct obs.
 *
 * Every byte is untrusted. Every read is bounds-checked against the captured length; lengths in
 * headers are checked against the wire length. A packet that cannot be decoded is counted under
 * one reason and dropped.
 */
#ifndef MOAT_DECODE_H
#define MOAT_DECODE_H

#include <stdint.h>

#include "core/obs.h"

/* Why a packet was not turned into an obs. Order is the order of the counters in
 * struct decode_stats and of decode_reason_name(). */
enum decode_reason {
	DEC_OK = 0,
	DEC_NOT_IP,	 /* ARP, LLDP, ...: not an error, just not ours */
	DEC_TRUNC_L2,	 /* captured bytes end inside the Ethernet/VLAN header */
	DEC_TRUNC_L3,	 /* captured bytes end inside the IPv4/IPv6 header */
	DEC_BAD_IP_VER,	 /* ethertype says IP, version nibble disagrees */
	DEC_BAD_IP_HLEN, /* IPv4 IHL < 5 */
	DEC_BAD_IP_LEN,	 /* IP total/payload length impossible (< header, > wire length) */
	DEC_BAD_EXTHDR,	 /* IPv6 extension header chain malformed or too long */
	DEC_TRUNC_L4,	 /* L4 header cut off where the IP length says it should be */
	DEC_BAD_L4,	 /* e.g. TCP data offset < 5 */
	DEC_VLAN_DEPTH,	 /* more VLAN tags than we follow */
	DEC__COUNT
};

struct decode_stats {
	uint64_t
	    n[DEC__COUNT]; /* indexed by enum decode_reason; n[DEC_OK] counts decoded packets */
};

/* Link types accepted by decode_packet (values are libpcap DLT_* numbers). */
enum {
	LINK_ETHERNET = 1,    /* DLT_EN10MB */
	LINK_RAW = 101,	      /* DLT_RAW: starts at the IP header */
	LINK_LINUX_SLL = 113, /* DLT_LINUX_SLL (cooked, "any" device) */
	LINK_IPV4 = 228,      /* DLT_IPV4 */
	LINK_IPV6 = 229,      /* DLT_IPV6 */
};

/* Decodes one packet.
 * pkt/caplen: the captured bytes; wirelen: the length of the frame on the wire (>= caplen).
 * linktype: one of LINK_*. ts_ns is copied into o->ts_ns; o->packets is set to 1 and o->bytes to
 * the L3 length. Returns DEC_OK and fills *o, or another enum decode_reason (o is then undefined).
 * If st is not NULL the result is counted in it. */
enum decode_reason decode_packet(int linktype, const uint8_t *pkt, uint32_t caplen,
				 uint32_t wirelen, uint64_t ts_ns, struct obs *o,
				 struct decode_stats *st);

/* Decodes starting at an IP header (version nibble picks v4/v6). Same contract as decode_packet;
 * l3_wirelen is the length on the wire counted from the IP header. For sFlow sampled headers. */
enum decode_reason decode_ip(const uint8_t *p, uint32_t caplen, uint32_t l3_wirelen, uint64_t ts_ns,
			     struct obs *o, struct decode_stats *st);

/* Name of a reason for logs and metrics ("trunc_l3"). */
const char *decode_reason_name(enum decode_reason r);

#endif
