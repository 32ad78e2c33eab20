/* account: the hot path. Each capture worker owns one shard and adds every obs into it without a
 * lock; the detector swaps the shard's tick table every tick (100 ms) and merges what it holds.
 *
 * The handover is an epoch flip: the detector bumps shard->epoch, the worker notices at its next
 * packet or poll, switches to the other table and stores shard->ack; from then on the old table is
 * the detector's alone until it has merged and cleared it. No lock is ever taken on the hot path.
 */
#ifndef MOAT_ACCOUNT_H
#define MOAT_ACCOUNT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "capture/decode.h"
#include "core/conf.h"
#include "core/lpm.h"
#include "core/obs.h"
#include "core/siphash.h"

/* Per host and direction counters. OTHER is every IP protocol but TCP, UDP, ICMP/ICMPv6. */
enum ctr {
	C_PKTS = 0,
	C_BYTES,
	C_TCP_P,
	C_TCP_B,
	C_UDP_P,
	C_UDP_B,
	C_ICMP_P,
	C_ICMP_B,
	C_SYN_P, /* SYN set, ACK clear: connection attempts */
	C_FRAG_P,
	C_FRAG_B,
	C_FLOWS,   /* flows seen for the first time in the current second */
	C_OTHER_P, /* OTHER last: the host table derives it instead of storing it */
	C_OTHER_B,
	C__COUNT
};
#define C__STORED (C__COUNT - 2)

/* LPM value layout for the combined networks / hostgroups / whitelist table. */
enum {
	NETV_GROUP_MASK = 0xffff, /* hostgroup index + 1; 0 = in networks but no hostgroup */
	NETV_PROTECTED = 1u << 16,
	NETV_WHITELIST = 1u << 17,
};

/* One (host, direction) in a tick table. */
struct tick_ent {
	struct maddr addr;
	uint32_t netv; /* LPM value of addr */
	uint32_t slot; /* index slot pointing here, to clear it */
	uint8_t dir;
	uint8_t pad[7];
	uint64_t c[C__COUNT];
};

/* A tick's (host, direction) counters: a hash index of entry numbers over a dense array of
 * entries filled in arrival order. Memory in use follows the hosts seen in a tick, not the
 * capacity: the index is 4 bytes a slot, and only the first n entries are ever touched. */
struct ticktab {
	uint32_t *idx; /* entry + 1, 0 = empty */
	struct tick_ent *e;
	uint32_t n;	/* entries in use: e[0..n) */
	uint32_t mask;	/* index slots - 1 */
	uint32_t limit; /* refuse new entries past this many (index load factor 1/2) */
};

/* What the detector publishes for the workers: which (host, dir) are hot, and which hostgroups.
 * Immutable once published; replaced whole. */
struct hotset {
	struct hotslot {
		struct maddr addr;
		uint32_t hot; /* detector's hot index + 1; 0 = empty slot */
		uint8_t dir;
	} * slot;
	uint32_t mask;
	uint32_t n;
	uint8_t *group_hot[DIR__COUNT]; /* per hostgroup index + 1: nonzero = sample for it */
	uint32_t n_groups;
};

/* The lookup tables the hot path needs, swapped whole on reload. */
struct netview {
	const struct lpm *lpm;
	const struct hotset *hot;
};

/* A sampled packet of a hot host or group, for the attack vector. */
struct feed_rec {
	uint32_t hot;	/* hot index + 1, or 0 when only the group is hot */
	uint16_t group; /* hostgroup index + 1, or 0 */
	uint8_t dir;
	uint8_t proto;
	uint8_t tcp_flags;
	uint8_t ttl;
	uint8_t frag;
	uint8_t l4; /* obs.l4 */
	uint16_t sport;
	uint16_t dport;
	uint32_t len;
	uint32_t weight;   /* packets this sample stands for (sampling rate * obs packets) */
	struct maddr peer; /* the other end: the source for incoming traffic */
	struct maddr host;
};

#define FEED_CAP 65536 /* per shard, power of two */

/* Global counters of a shard, cumulative, written by the worker only. */
struct shard_stats {
	uint64_t obs;	      /* obs accounted */
	uint64_t unprotected; /* obs with neither end in networks */
	uint64_t dir_pkts[DIR__COUNT];
	uint64_t dir_bytes[DIR__COUNT];
	uint64_t tick_full;	 /* obs not accounted per host: tick table full */
	uint64_t feed_dropped;	 /* samples lost: feed ring full */
	uint64_t flow_evictions; /* flow filter bucket full: a flow may be counted twice */
	struct decode_stats dec; /* packet decoders fill this */
	uint64_t capture_drops;	 /* kernel drops reported by the capture (AF_PACKET, pcap) */
};

struct shard {
	int id;
	bool inline_; /* driven from the detector's thread (replay): no waiting for acks */

	/* written by the detector, read by the worker */
	_Atomic uint32_t epoch;
	_Atomic(struct netview *) view;
	_Atomic uint32_t sample_every; /* feed 1 sample per this many hot packets */

	/* written by the worker */
	_Alignas(64) _Atomic uint32_t ack;
	uint32_t cur_epoch;
	struct netview *cur_view;
	struct ticktab *tt_cur;
	uint32_t sample_ctr;
	struct shard_stats st;

	struct ticktab tt[2];
	struct sipkey key; /* same key as the detector's hotset */

	/* flow filter: "have I seen this flow in the current second?" */
	uint64_t *flow;
	uint32_t flow_mask; /* buckets - 1; 4 slots per bucket */

	/* feed: single producer (worker), single consumer (detector) */
	struct feed_rec *feed;
	_Alignas(64) _Atomic uint32_t feed_head;
	_Alignas(64) _Atomic uint32_t feed_tail;
};

/* Sums the counters of n shards into out (read from another thread than the workers': each
 * counter is read whole, the set is not a snapshot). */
void shard_stats_sum(struct shard *const *sh, int n, struct shard_stats *out);

/* Allocates a shard whose tick tables hold up to tick_hosts (host, dir) pairs per tick.
 * Returns NULL on allocation failure. */
struct shard *shard_new(int id, uint32_t tick_hosts, const struct sipkey *key, bool inline_);
void shard_free(struct shard *sh);

/* Worker side: notice an epoch flip. Call at least every few ms even when idle. */
static inline void shard_sync(struct shard *sh)
{
	uint32_t e = atomic_load_explicit(&sh->epoch, memory_order_acquire);
	if (e == sh->cur_epoch)
		return;
	sh->cur_epoch = e;
	sh->tt_cur = &sh->tt[e & 1];
	sh->cur_view = atomic_load_explicit(&sh->view, memory_order_acquire);
	atomic_store_explicit(&sh->ack, e, memory_order_release);
}

/* Worker side: account one obs. */
void shard_account(struct shard *sh, const struct obs *o);

/* Hash of (addr, dir) used by tick tables and the hotset alike. */
static inline uint64_t hostdir_hash(const struct sipkey *k, const struct maddr *a, uint8_t dir)
{
	uint8_t buf[17];
	memcpy(buf, a->b, 16);
	buf[16] = dir;
	return siphash13(k, buf, sizeof(buf));
}

/* Detector side: hotset construction and lookup. */
struct hotset *hotset_new(uint32_t n_expected, uint32_t n_groups);
void hotset_free(struct hotset *h);
/* Returns 0, or -1 if the set is full (it is sized for n_expected). */
int hotset_add(struct hotset *h, const struct sipkey *k, const struct maddr *a, uint8_t dir,
	       uint32_t hot);
uint32_t hotset_find(const struct hotset *h, uint64_t hash, const struct maddr *a, uint8_t dir);

void ticktab_clear(struct ticktab *t);

#endif
