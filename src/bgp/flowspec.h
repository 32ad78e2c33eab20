/* flowspec: the Flow Specification NLRI of RFC 8955 (IPv4, AFI 1 SAFI 133) and RFC 8956 (IPv6,
 * AFI 2 SAFI 133): a rule as a struct, its wire encoding, the decoder back and a text form.
 *
 * A rule is a set of components, each present or not; on the wire they appear in ascending type
 * order (the only order allowed), each at most once. Prefix components carry an address and a
 * length in the family's own space (IPv4 0..32, IPv6 0..128, not the mapped /96+ space of
 * prefix_parse); struct maddr holds the address, IPv4 mapped into ::ffff:0:0/96 as everywhere in
 * moat. IPv6 prefixes also carry an offset (RFC 8956 3.1): the bits before it are not matched and
 * not sent. The other components are lists of (operator, value) items:
 *
 *   numeric (protocol, ports, ICMP type/code, packet length, DSCP, flow label): op is an OR of
 *     FS_AND, FS_LT, FS_GT, FS_EQ; FS_GT|FS_EQ is ">=", FS_LT|FS_GT is "!=". An item without
 *     FS_AND starts a new OR term; with FS_AND it is ANDed to the previous one, so
 *     {>=137 &<=139, ==8080} is "137..139 or 8080".
 *   bitmask (TCP flags, fragment): op is an OR of FS_AND, FS_NOT, FS_MATCH: without FS_MATCH
 *     "any of the value's bits set", with it "all of them set"; FS_NOT negates.
 *
 * The end-of-list bit and the value length (1, 2, 4 or 8 bytes, the shortest that holds the
 * value) are the encoder's business and are not in the struct. The first item of a list must not
 * have FS_AND (there is nothing to AND it to): the encoder refuses it and the decoder rejects it.
 *
 * The NLRI is prefixed by its length: 1 byte below 240, else 2 bytes 0xfnnn (at most 4095).
 */
#ifndef MOAT_BGP_FLOWSPEC_H
#define MOAT_BGP_FLOWSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/obs.h"

/* Component types (IANA "Flow Spec Component Types"). */
enum fs_type {
	FS_DST = 1,	    /* destination prefix */
	FS_SRC = 2,	    /* source prefix */
	FS_PROTO = 3,	    /* IP protocol (IPv4) / upper-layer protocol (IPv6) */
	FS_PORT = 4,	    /* source or destination port */
	FS_DPORT = 5,	    /* destination port */
	FS_SPORT = 6,	    /* source port */
	FS_ICMP_TYPE = 7,   /* ICMP / ICMPv6 type */
	FS_ICMP_CODE = 8,   /* ICMP / ICMPv6 code */
	FS_TCP_FLAGS = 9,   /* bitmask */
	FS_PKT_LEN = 10,    /* packet length: IPv4 total length, IPv6 payload length (RFC 8956) */
	FS_DSCP = 11,	    /* 6-bit DSCP */
	FS_FRAGMENT = 12,   /* bitmask of FS_FRAG_* */
	FS_FLOW_LABEL = 13, /* IPv6 only */
	FS_NTYPES = 14,
};

/* Operator bits as on the wire (without end-of-list and length). */
enum {
	FS_AND = 0x40,
	FS_LT = 0x04, /* numeric */
	FS_GT = 0x02,
	FS_EQ = 0x01,
	FS_NOT = 0x02,	 /* bitmask */
	FS_MATCH = 0x01, /* bitmask */
};

/* Fragment component bits (RFC 8955 4.2.2.12). IPv6 has no DF (RFC 8956 3.7). */
enum {
	FS_FRAG_DF = 0x01,  /* don't fragment */
	FS_FRAG_ISF = 0x02, /* is a fragment */
	FS_FRAG_FF = 0x04,  /* first fragment */
	FS_FRAG_LF = 0x08,  /* last fragment */
};

#define FS_MAX_ITEMS   16   /* items per component list; the decoder rejects longer lists */
#define FS_NLRI_MAX    4095 /* longest NLRI value */
#define FS_NLRI_BUFLEN (FS_NLRI_MAX + 2)

struct fs_item {
	uint64_t value;
	uint8_t op; /* FS_AND | FS_LT | FS_GT | FS_EQ, or FS_AND | FS_NOT | FS_MATCH */
};

struct fs_list {
	uint8_t n; /* 0: component absent */
	struct fs_item it[FS_MAX_ITEMS];
};

struct fs_prefix {
	struct maddr addr; /* IPv4 mapped; bits outside [off, len) are ignored by the encoder */
	uint8_t len;	   /* 0..32 for IPv4, 0..128 for IPv6 */
	uint8_t off;	   /* IPv6 only, <= len; 0 for IPv4 */
};

struct fs_rule {
	uint8_t family; /* 4 or 6 */
	bool has_dst, has_src;
	struct fs_prefix dst, src;
	struct fs_list l[FS_NTYPES]; /* indexed by enum fs_type, FS_PROTO..FS_FLOW_LABEL */
};

/* Starts an empty rule of family 4 or 6. */
void fs_rule_init(struct fs_rule *r, int family);

/* Appends one item to list `type` of r. Returns 0, or -1 if the list is full or type is not a
 * list type. */
int fs_add(struct fs_rule *r, enum fs_type type, uint8_t op, uint64_t value);

/* Shorthands: "== v" as a new OR term; the range lo..hi (">= lo & <= hi") as a new OR term. */
int fs_add_eq(struct fs_rule *r, enum fs_type type, uint64_t v);
int fs_add_range(struct fs_rule *r, enum fs_type type, uint64_t lo, uint64_t hi);

/* Sets the destination / source prefix. For IPv4, addr is IPv4-mapped and len 0..32. */
void fs_set_dst(struct fs_rule *r, const struct maddr *addr, int len, int off);
void fs_set_src(struct fs_rule *r, const struct maddr *addr, int len, int off);

/* Encodes r as one NLRI, length prefix included, into buf. Returns the bytes written, or -1 if r
 * is invalid (no component, bad family, prefix length or offset out of range, a list whose first
 * item has FS_AND or an op bit that is not an operator, DF or flow label in the wrong family)
 * or does not fit in cap or in FS_NLRI_MAX. FS_NLRI_BUFLEN always suffices. */
int fs_nlri_encode(const struct fs_rule *r, uint8_t *buf, size_t cap);

/* Decodes one NLRI (length prefix included) of family 4 or 6 from p[0..len). On success fills r
 * and returns the bytes consumed (length prefix + value); bytes after it are not looked at.
 * Returns -1 on anything malformed: truncated, components out of order or repeated, unknown
 * type, bad prefix length or offset, a value running past the NLRI, more than FS_MAX_ITEMS items,
 * a list without end-of-list bit, an AND on a first item. A decoded rule always re-encodes. */
int fs_nlri_decode(const uint8_t *p, size_t len, int family, struct fs_rule *r);

/* Whether two rules are the same rule (padding and ignored address bits not compared). */
bool fs_rule_eq(const struct fs_rule *a, const struct fs_rule *b);

/* Text in the style of gobgp, e.g. "destination 192.0.2.0/24 protocol ==tcp port >=137&<=139
 * ==8080 tcp-flags =S fragment DF+FF". Always NUL-terminates (truncating) when cap > 0;
 * returns the length the full text has, as snprintf does. */
int fs_format(const struct fs_rule *r, char *buf, size_t cap);

/* "destination", "source", "protocol", ... for a component type; "?" if unknown. */
const char *fs_type_name(int type);

#endif
