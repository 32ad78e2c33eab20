/* msg: the BGP-4 message codec of moatd's BGP speaker (RFC 4271 and extensions). No sockets and
 * no session state: functions from bytes to structs and back, for the session on top of it.
 *
 * What the session does with it:
 *
 *   - frame the byte stream:  bgp_frame() says "need more", "a message of n bytes" or a header
 *     error (NOTIFICATION 1/x to send, in struct bgp_err).
 *   - open:  fill a struct bgp_open from config (bgp_open_init), bgp_open_encode() it; parse the
 *     peer's with bgp_parse() (or bgp_open_decode()), then bgp_negotiate() for what both sides
 *     support (4-octet AS, families, route refresh, hold time).
 *   - send:  bgp_update_encode() announces or withdraws routes of one family that share a set
 *     of attributes (struct bgp_attrs), as many as fit in one 4096-byte message; the session
 *     loops until all are sent. bgp_eor_encode(), bgp_keepalive_encode(),
 *     bgp_notification_encode(), bgp_route_refresh_encode().
 *   - receive:  bgp_parse() validates any message. It returns 0 (accept; routes received are
 *     counted in struct bgp_update_info and ignored by moatd), or -1 with the NOTIFICATION to
 *     send in struct bgp_err (then close). UPDATE errors follow RFC 7606 unless ctx.strict: the
 *     errors it downgrades to "treat-as-withdraw" or "attribute discard" are accepted and
 *     reported in info.withdraw_code/withdraw_subcode (or info.discarded), the rest (header,
 *     lengths that desynchronise the message, NLRI, MP_REACH/MP_UNREACH errors) reset the
 *     session.
 *
 * All decoders take a whole message, header included (what bgp_frame() delimits), and never read
 * outside [msg, msg + len). Encoders write whole messages into (buf, cap) and return the length,
 * or -1 when it does not fit or the arguments are invalid; they never write past cap.
 *
 * Families are enum bgp_family; a set of families is a bitmask of BGP_FAM_BIT(f).
 * Prefix lengths are in the family's own space (IPv4 0..32) and addresses are struct maddr with
 * IPv4 mapped into ::ffff:0:0/96.
 */
#ifndef MOAT_BGP_MSG_H
#define MOAT_BGP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bgp/flowspec.h"
#include "core/obs.h"

enum {
	BGP_HDR_LEN = 19,
	BGP_MAX_LEN = 4096,
	BGP_MARKER_LEN = 16,
	BGP_VERSION = 4,
	BGP_AS_TRANS = 23456,
	BGP_PORT = 179,
};

enum bgp_type {
	BGP_OPEN = 1,
	BGP_UPDATE = 2,
	BGP_NOTIFICATION = 3,
	BGP_KEEPALIVE = 4,
	BGP_ROUTE_REFRESH = 5,
};

/* NOTIFICATION error codes and subcodes (IANA "BGP Error (Sub)Codes"). */
enum bgp_err_code {
	BGP_ERR_HEADER = 1,
	BGP_ERR_OPEN = 2,
	BGP_ERR_UPDATE = 3,
	BGP_ERR_HOLD_TIMER = 4,
	BGP_ERR_FSM = 5,
	BGP_ERR_CEASE = 6,
	BGP_ERR_ROUTE_REFRESH = 7,
};

enum {
	/* 1: Message Header Error */
	BGP_HDR_NOT_SYNC = 1,
	BGP_HDR_BAD_LENGTH = 2,
	BGP_HDR_BAD_TYPE = 3,
	/* 2: OPEN Message Error */
	BGP_OPEN_UNSPECIFIC = 0,
	BGP_OPEN_BAD_VERSION = 1,
	BGP_OPEN_BAD_PEER_AS = 2,
	BGP_OPEN_BAD_BGP_ID = 3,
	BGP_OPEN_UNSUP_OPT_PARAM = 4,
	BGP_OPEN_BAD_HOLD_TIME = 6,
	BGP_OPEN_UNSUP_CAPABILITY = 7,
	BGP_OPEN_ROLE_MISMATCH = 11,
	/* 3: UPDATE Message Error */
	BGP_UPD_MALFORMED_ATTR_LIST = 1,
	BGP_UPD_UNRECOGNIZED_WELLKNOWN = 2,
	BGP_UPD_MISSING_WELLKNOWN = 3,
	BGP_UPD_ATTR_FLAGS = 4,
	BGP_UPD_ATTR_LENGTH = 5,
	BGP_UPD_INVALID_ORIGIN = 6,
	BGP_UPD_INVALID_NEXT_HOP = 8,
	BGP_UPD_OPTIONAL_ATTR = 9,
	BGP_UPD_INVALID_NETWORK = 10,
	BGP_UPD_MALFORMED_AS_PATH = 11,
	/* 6: Cease (RFC 4486) */
	BGP_CEASE_MAX_PREFIXES = 1,
	BGP_CEASE_ADMIN_SHUTDOWN = 2,
	BGP_CEASE_PEER_DECONFIGURED = 3,
	BGP_CEASE_ADMIN_RESET = 4,
	BGP_CEASE_CONN_REJECTED = 5,
	BGP_CEASE_OTHER_CONFIG_CHANGE = 6,
	BGP_CEASE_COLLISION = 7,
	BGP_CEASE_OUT_OF_RESOURCES = 8,
	BGP_CEASE_HARD_RESET = 9,
	BGP_CEASE_BFD_DOWN = 10,
};

/* Path attribute type codes. */
enum bgp_attr_type {
	BGP_ATTR_ORIGIN = 1,
	BGP_ATTR_AS_PATH = 2,
	BGP_ATTR_NEXT_HOP = 3,
	BGP_ATTR_MED = 4,
	BGP_ATTR_LOCAL_PREF = 5,
	BGP_ATTR_ATOMIC_AGGREGATE = 6,
	BGP_ATTR_AGGREGATOR = 7,
	BGP_ATTR_COMMUNITIES = 8,
	BGP_ATTR_MP_REACH = 14,
	BGP_ATTR_MP_UNREACH = 15,
	BGP_ATTR_EXT_COMMUNITIES = 16,
	BGP_ATTR_AS4_PATH = 17,
	BGP_ATTR_AS4_AGGREGATOR = 18,
	BGP_ATTR_LARGE_COMMUNITIES = 32,
};

enum bgp_family {
	BGP_IPV4_UNICAST = 0, /* AFI 1 SAFI 1 */
	BGP_IPV6_UNICAST,     /* AFI 2 SAFI 1 */
	BGP_IPV4_FLOWSPEC,    /* AFI 1 SAFI 133 */
	BGP_IPV6_FLOWSPEC,    /* AFI 2 SAFI 133 */
	BGP_NFAMILIES,
};
#define BGP_FAM_BIT(f)	  (1u << (f))
#define BGP_FAM_ALL	  ((1u << BGP_NFAMILIES) - 1)
#define BGP_AFI_IPV4	  1
#define BGP_AFI_IPV6	  2
#define BGP_SAFI_UNICAST  1
#define BGP_SAFI_FLOWSPEC 133

/* Well-known communities and extended-community helpers. */
#define BGP_COMM_BLACKHOLE 0xffff029au /* 65535:666, RFC 7999 */
#define BGP_COMM_NO_EXPORT 0xffffff01u
#define BGP_COMM(a, b)	   ((uint32_t)(a) << 16 | (uint16_t)(b))

/* Family <-> (AFI, SAFI). bgp_family_of returns -1 for a pair moatd does not know. */
int bgp_family_of(uint16_t afi, uint8_t safi);
void bgp_family_afi_safi(enum bgp_family f, uint16_t *afi, uint8_t *safi);

/* What a NOTIFICATION says: built by the decoders for the session to send, or decoded from the
 * peer's. data is the diagnostic data (the erroneous attribute, the bad length, ...). */
struct bgp_err {
	uint8_t code, subcode;
	uint16_t data_len;
	uint8_t data[BGP_MAX_LEN - BGP_HDR_LEN - 2];
};

/* ---- framing ----------------------------------------------------------------------------------
 */

/* Looks at the start of a byte stream. Returns 1 with *msg_len set when a whole message is in
 * buf[0..len) (its header checked: marker, length 19..4096 and right for its type, known type),
 * 0 when more bytes are needed, -1 on a header error (err: 1/1 bad marker, 1/2 bad length with
 * the length as data, 1/3 bad type with the type as data). err may be NULL. */
int bgp_frame(const uint8_t *buf, size_t len, size_t *msg_len, struct bgp_err *err);

/* ---- OPEN -------------------------------------------------------------------------------------
 */

#define BGP_MAX_UNKNOWN_CAPS 16

/* An OPEN: ours to send, or the peer's as decoded. */
struct bgp_open {
	uint8_t version;
	uint32_t as;	    /* the real AS: from the 4-octet AS capability when present */
	uint16_t as2;	    /* the 2-octet "My Autonomous System" field as on the wire */
	uint16_t hold_time; /* seconds: 0 or >= 3 */
	uint32_t bgp_id;    /* host byte order */
	bool as4;	    /* 4-octet AS capability (RFC 6793) */
	bool route_refresh; /* route refresh capability (RFC 2918) */
	bool mp;	    /* any multiprotocol capability was present */
	uint8_t families;   /* BGP_FAM_BIT()s of the MP capabilities (RFC 4760) */
	/* decoded only: capabilities not understood (ignored, RFC 5492), first codes kept */
	uint16_t n_unknown;
	uint8_t unknown[BGP_MAX_UNKNOWN_CAPS];
};

/* Our OPEN from config: version 4, 4-octet AS and route refresh on, families as given. */
void bgp_open_init(struct bgp_open *o, uint32_t my_as, uint16_t hold_time, uint32_t bgp_id,
		   unsigned families);

/* Encodes o: the 2-octet AS field is AS_TRANS when o->as > 65535; capabilities: one MP per
 * family in o->families, route refresh if o->route_refresh, 4-octet AS if o->as4. */
int bgp_open_encode(uint8_t *buf, size_t cap, const struct bgp_open *o);

/* Decodes and validates an OPEN. expect_as: the AS configured for the peer, 0 for any.
 * Errors (2/x): 1 bad version (data: 2 bytes, version 4), 2 bad peer AS (0, AS_TRANS in the
 * 2-octet field without a 4-octet capability, a 4-octet capability saying 0, not expect_as),
 * 3 bad BGP identifier (0), 4 unsupported optional parameter (data: the parameter),
 * 6 unacceptable hold time (1 or 2), 0 for lengths that do not add up. RFC 9072 extended
 * optional parameters are understood. */
int bgp_open_decode(const uint8_t *msg, size_t len, uint32_t expect_as, struct bgp_open *o,
		    struct bgp_err *err);

/* What both sides support, from our OPEN and the peer's. */
struct bgp_caps {
	bool as4;
	bool route_refresh;
	uint8_t families;   /* BGP_FAM_BIT()s; a peer with no MP capability has IPv4 unicast */
	uint16_t hold_time; /* the smaller of the two, 0 if either is 0 */
	uint16_t keepalive; /* hold_time / 3 */
	uint32_t peer_as;
	uint32_t peer_id;
};
void bgp_negotiate(const struct bgp_open *mine, const struct bgp_open *peer, struct bgp_caps *c);

/* ---- UPDATE: encoding --------------------------------------------------------------------------
 */

struct bgp_large_comm {
	uint32_t global, local1, local2;
};

/* Attributes shared by the routes of one UPDATE. Arrays may be NULL when their count is 0. */
struct bgp_attrs {
	uint32_t my_as;
	bool ibgp;	      /* iBGP: empty AS_PATH and LOCAL_PREF; eBGP: AS_PATH [my_as] */
	bool as4;	      /* 4-octet AS negotiated: 4-octet AS_PATH, else 2-octet + AS4_PATH */
	uint32_t local_pref;  /* iBGP only */
	struct maddr nexthop; /* unicast: IPv4 (mapped) for IPv4, global IPv6 for IPv6 */
	bool has_ll;	      /* IPv6 unicast: also a link-local next hop (32-byte next hop) */
	struct maddr nexthop_ll;
	const uint32_t *comm; /* RFC 1997 communities, e.g. BGP_COMM_BLACKHOLE */
	size_t n_comm;
	const struct bgp_large_comm *large; /* RFC 8092 */
	size_t n_large;
	const uint64_t *ext; /* extended communities as 64-bit big-endian values (bgp_ext_*) */
	size_t n_ext;
};

/* One route: a prefix for the unicast families, a flowspec rule for the flowspec ones. */
struct bgp_route {
	uint8_t family; /* enum bgp_family */
	uint8_t len;	/* prefix length, 0..32 / 0..128 */
	struct maddr prefix;
	const struct fs_rule *fs; /* flowspec families: the rule (its family must match) */
};

/* Flowspec actions (RFC 8955 7): traffic-rate in bytes per second (0: discard), with the AS
 * (2 octets) it is informational for; traffic-marking with a DSCP. */
uint64_t bgp_ext_traffic_rate(uint16_t as, float bytes_per_s);
uint64_t bgp_ext_traffic_marking(uint8_t dscp);

/* Encodes one UPDATE announcing (withdraw false) or withdrawing routes[0..n), all of one family,
 * as many as fit in BGP_MAX_LEN bytes (and in cap); *n_done says how many (>= 1 on success).
 * Announcements carry ORIGIN IGP, AS_PATH (and AS4_PATH), NEXT_HOP for IPv4 unicast,
 * MP_REACH_NLRI for the others (flowspec with a zero-length next hop), LOCAL_PREF for iBGP,
 * COMMUNITIES, EXTENDED_COMMUNITIES, LARGE_COMMUNITIES when given. Withdrawals carry no
 * attributes but MP_UNREACH_NLRI (IPv4 unicast: the withdrawn routes field); a may be NULL.
 * Returns the message length, or -1 (mixed families, a bad prefix or rule, no room for one). */
int bgp_update_encode(uint8_t *buf, size_t cap, bool withdraw, const struct bgp_attrs *a,
		      const struct bgp_route *routes, size_t n, size_t *n_done);

/* End-of-RIB marker for a family (RFC 4724): an empty UPDATE for IPv4 unicast, an UPDATE with an
 * empty MP_UNREACH_NLRI otherwise. */
int bgp_eor_encode(uint8_t *buf, size_t cap, enum bgp_family f);

/* ---- UPDATE: decoding --------------------------------------------------------------------------
 */

/* What an UPDATE held, for counters and logs. Pointers point into the message. */
struct bgp_update_info {
	uint16_t n_withdrawn; /* IPv4 unicast withdrawn routes */
	uint16_t n_nlri;      /* IPv4 unicast NLRI */
	uint16_t n_mp_reach, n_mp_unreach;
	int16_t mp_reach_family, mp_unreach_family; /* enum bgp_family, -1 absent or unknown */
	uint64_t attrs;	    /* bit t set for each attribute type t < 64 seen */
	uint16_t n_unknown; /* optional attributes not understood (kept, ignored) */
	bool eor;	    /* End-of-RIB marker */
	int16_t eor_family; /* its family, -1 unknown */
	uint8_t origin;
	uint32_t local_pref, med;
	struct maddr nexthop; /* NEXT_HOP, or the MP_REACH next hop (first 16 bytes) */
	uint8_t nexthop_len;  /* as on the wire: 4 (NEXT_HOP), 0, 16 or 32 (MP_REACH) */
	uint16_t as_path_len; /* ASes in AS_PATH (a set counts one) */
	uint32_t first_as;    /* first AS of the path, 0 if empty */
	const uint8_t *comm, *large, *ext; /* attribute values: n_comm * 4, n_large * 12 ... */
	uint16_t n_comm, n_large, n_ext;
	const uint8_t *nlri, *mp_reach_nlri, *mp_unreach_nlri; /* NLRI fields, raw */
	uint16_t nlri_len, mp_reach_nlri_len, mp_unreach_nlri_len;
	/* RFC 7606: the error that made the UPDATE "treat-as-withdraw" (0 if none) */
	uint8_t withdraw_code, withdraw_subcode;
	uint16_t discarded; /* attributes discarded as malformed ("attribute discard") */
};

/* Decodes and validates an UPDATE. as4: 4-octet AS negotiated (AS_PATH, AGGREGATOR width).
 * strict: every error is a session reset, as in RFC 4271 before RFC 7606.
 * Returns 0 (accept) or -1 with the NOTIFICATION 3/x in err. */
int bgp_update_decode(const uint8_t *msg, size_t len, bool as4, bool strict,
		      struct bgp_update_info *u, struct bgp_err *err);

/* Reads one unicast prefix (length byte + bytes) of family 4 or 6 from p[0..len). Returns the
 * bytes consumed, or -1 if the length is too long for the family or the bytes are not there. */
int bgp_prefix_decode(const uint8_t *p, size_t len, int family, struct maddr *a, uint8_t *plen);

/* ---- NOTIFICATION, KEEPALIVE, ROUTE-REFRESH ----------------------------------------------------
 */

int bgp_keepalive_encode(uint8_t *buf, size_t cap);

/* NOTIFICATION with diagnostic data (data may be NULL when data_len is 0). */
int bgp_notification_encode(uint8_t *buf, size_t cap, uint8_t code, uint8_t subcode,
			    const uint8_t *data, size_t data_len);
/* The NOTIFICATION for an error a decoder reported. */
int bgp_notification_encode_err(uint8_t *buf, size_t cap, const struct bgp_err *e);
/* Cease (6) with subcode 2 (administrative shutdown) or 4 (reset) and a shutdown communication
 * (RFC 9003): text cut to 255 bytes at a UTF-8 character boundary; NULL or "" for none. */
int bgp_shutdown_encode(uint8_t *buf, size_t cap, uint8_t subcode, const char *text);

struct bgp_notification {
	uint8_t code, subcode;
	const uint8_t *data; /* into the message */
	uint16_t data_len;
	bool has_text;	/* Cease 6/2 or 6/4 with a well-formed shutdown communication */
	char text[256]; /* its text, NUL-terminated, control characters replaced by '?' */
};
/* Decodes a NOTIFICATION. -1 (1/2 bad length) when shorter than 21 bytes. */
int bgp_notification_decode(const uint8_t *msg, size_t len, struct bgp_notification *n,
			    struct bgp_err *err);

/* ROUTE-REFRESH (RFC 2918) for a family. */
int bgp_route_refresh_encode(uint8_t *buf, size_t cap, enum bgp_family f);
/* Decodes one: *family is the enum bgp_family or -1 for an AFI/SAFI moatd does not know (which
 * RFC 2918 says to ignore). -1 (1/2) on a length other than 23. */
int bgp_route_refresh_decode(const uint8_t *msg, size_t len, uint16_t *afi, uint8_t *safi,
			     int *family, struct bgp_err *err);

/* ---- any message --------------------------------------------------------------------------------
 */

struct bgp_parse_ctx {
	uint32_t peer_as; /* expected peer AS for OPEN, 0: any */
	bool as4;	  /* 4-octet AS negotiated (UPDATE) */
	bool strict;	  /* no RFC 7606 downgrades */
};

struct bgp_msg {
	uint8_t type; /* enum bgp_type */
	uint16_t len;
	union {
		struct bgp_open open;
		struct bgp_update_info update;
		struct bgp_notification notif;
		struct {
			uint16_t afi;
			uint8_t safi;
			int family;
		} rr;
	} u;
};

/* Validates and decodes one whole message (as delimited by bgp_frame). Returns 0 to accept, -1
 * with the NOTIFICATION to send in err. A KEEPALIVE longer than 19 bytes is 1/2. */
int bgp_parse(const uint8_t *msg, size_t len, const struct bgp_parse_ctx *ctx, struct bgp_msg *m,
	      struct bgp_err *err);

/* ---- names for logs ---------------------------------------------------------------------------
 */

const char *bgp_type_name(int type);		    /* "OPEN", ... "?" */
const char *bgp_err_name(int code);		    /* "Message Header Error", ... */
const char *bgp_suberr_name(int code, int subcode); /* "Bad Peer AS", ... "" if none */
const char *bgp_family_name(int f);		    /* "ipv4-unicast", ... */

#endif
