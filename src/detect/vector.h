/* vector: what an attack is made of. Heavy-hitter sketches (Space-Saving) per feature, filled from
 * sampled packets, so a flood from millions of spoofed sources costs the same memory as one from
 * ten; and the classifier that names the attack from them. */
#ifndef MOAT_VECTOR_H
#define MOAT_VECTOR_H

#include <stdint.h>

#include "core/json.h"
#include "detect/account.h"

#define SKETCH_K 16 /* counters per feature: top-N is exact for items above 1/16 of the weight */

struct sk_item {
	uint8_t key[16];
	uint64_t count; /* upper bound of the item's weight */
	uint64_t err;	/* count - err is a lower bound */
};

struct sketch {
	struct sk_item it[SKETCH_K];
	uint32_t n;
	uint64_t total;
};

/* Space-Saving: an item not tracked replaces the smallest counter and inherits its count as err.
 * O(K) per update, which is fine at K = 16 on the detector thread. */
void sketch_add(struct sketch *s, const uint8_t key[16], uint64_t w);
/* Copies the items sorted by count, largest first; returns how many (<= max). */
uint32_t sketch_top(const struct sketch *s, struct sk_item *out, uint32_t max);
/* Halves every count, so old traffic fades (half-life = the caller's period). */
void sketch_decay(struct sketch *s);
/* Lower-bound weight of key, 0 if not tracked. */
uint64_t sketch_get(const struct sketch *s, const uint8_t key[16]);

enum vfeat {
	VF_PROTO = 0,
	VF_SPORT,
	VF_DPORT,
	VF_LEN,
	VF_TTL,
	VF_TCPFLAGS,
	VF_ICMP, /* type << 8 | code */
	VF_SRC,
	VF_SRCPFX, /* /24 or /48 */
	VF__COUNT
};

struct vec {
	struct sketch sk[VF__COUNT];
	uint64_t total; /* weight of every sample */
};

void vec_add(struct vec *v, const struct feed_rec *r);
void vec_decay(struct vec *v);

enum atype {
	AT_UNKNOWN = 0,
	AT_SYN_FLOOD,
	AT_ACK_FLOOD,
	AT_RST_FLOOD,
	AT_UDP_FLOOD,
	AT_ICMP_FLOOD,
	AT_FRAGMENT_FLOOD,
	AT_DNS_AMP,
	AT_NTP_AMP,
	AT_SSDP_AMP,
	AT_MEMCACHED_AMP,
	AT_CLDAP_AMP,
	AT_CHARGEN_AMP,
	AT_SNMP_AMP,
	AT_IP_FLOOD,
	AT__COUNT
};

const char *atype_name(enum atype t);

/* Names the attack from its window counters (struct enum ctr sums) and its vector (may be NULL).
 * A class needs at least half of the packets ("dominates"). */
enum atype classify(const uint64_t sum[C__COUNT], const struct vec *v);

/* Writes the vector as a JSON object: each feature a list of {value, share}, at most top_n
 * items, shares of all sampled packets. */
void vec_json(const struct vec *v, struct json *j, unsigned top_n);

#endif
