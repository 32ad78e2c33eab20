/* detect: the detector. Owns every host's merged counters, the 1 s windows of hosts and groups
 * near their thresholds ("hot"), attack state and its lifecycle. Runs one tick every 100 ms of the
 * one clock (packet time when replaying, the system clock when live) on one thread.
 */
#ifndef MOAT_DETECT_H
#define MOAT_DETECT_H

#include <stdint.h>

#include "core/conf.h"
#include "core/siphash.h"
#include "detect/account.h"
#include "detect/vector.h"

enum {
	TICK_NS = 100000000ULL, /* 100 ms */
	WIN_TICKS = 10,		/* 1 s sliding window */
	MAX_SHARDS = 64,
};

enum ev_kind { EV_ATTACK_START = 0, EV_ATTACK_UPDATE, EV_ATTACK_END, EV__COUNT };

/* An attack on one host in one direction, or on a whole hostgroup (carpet bombing). */
struct attack {
	char id[40];
	bool group;	     /* target is the hostgroup as a whole */
	struct maddr target; /* when !group */
	int hg;		     /* hostgroup index, -1 for none */
	uint8_t dir;
	enum atype type;
	uint64_t start_ns, last_over_ns, next_update_ns, end_ns;
	double pps, bps, peak_pps, peak_bps;
	double rate[THR__COUNT]; /* current values of every threshold metric */
	uint32_t exceeded;	 /* thresholds over their limit now (bit per enum thr) */
	uint32_t ever_exceeded;	 /* over their limit at any time in this attack */
	uint64_t pkts, bytes;	 /* seen during the attack */
	const uint64_t *limit;	 /* the thresholds this attack is measured against [THR__COUNT] */
	struct vec *vec;	 /* may be NULL when no sketch memory was left */
};

/* What a subscriber receives: the event and its JSON line (no newline). */
struct event {
	enum ev_kind kind;
	uint64_t ts_ns;
	const struct attack *a;
	const char *target;    /* printable: address or hostgroup name */
	const char *hostgroup; /* NULL when none */
	const char *json;
	size_t json_len;
};

typedef void (*event_fn)(void *arg, const struct event *ev);

struct det_stats {
	uint64_t ticks;
	uint64_t hosts;	     /* tracked now */
	uint64_t hosts_full; /* (host, tick) merges refused: host table full */
	uint64_t hosts_evicted;
	uint64_t hot;	   /* hot (host, dir) now */
	uint64_t hot_full; /* promotions refused: hot pool full */
	uint64_t vec_full; /* attacks without a vector: sketch pool full */
	uint64_t attacks_active;
	uint64_t attacks_total;
	uint64_t shard_lag; /* ticks a shard did not ack in time (its counts move to later) */
	uint64_t feed_samples;
};

struct detector;

/* Creates a detector for config c (which must outlive it, or be replaced with det_reload).
 * seed != 0 makes hashing deterministic (replays and tests). Returns NULL with a message in err. */
struct detector *det_new(const struct conf *c, uint64_t seed, char *err, size_t errlen);
void det_free(struct detector *d);

/* The hash key shards must use: the hot set the detector publishes is hashed with it. */
const struct sipkey *det_key(const struct detector *d);

/* Adds a shard (at most MAX_SHARDS). The detector publishes its netview to it. */
int det_add_shard(struct detector *d, struct shard *sh);

/* Replaces the config. Hosts, windows and attacks survive; thresholds and prefixes change from
 * the next tick. Returns 0, or -1 with err set (the old config stays). */
int det_reload(struct detector *d, const struct conf *c, char *err, size_t errlen);

void det_subscribe(struct detector *d, event_fn fn, void *arg);

/* Calls fn at the end of every tick, on the detector's clock (packet time in a replay). */
void det_on_tick(struct detector *d, void (*fn)(void *arg, uint64_t now_ns), void *arg);

/* Runs the tick that ends at now_ns: merges shards, slides windows, evaluates thresholds, emits
 * events. */
void det_tick(struct detector *d, uint64_t now_ns);

/* Ends a replay: runs ticks with no new traffic from now_ns until no attack is active.
 * Returns the time it stopped at. */
uint64_t det_drain(struct detector *d, uint64_t now_ns);

const struct det_stats *det_stats(const struct detector *d);

/* Bytes of memory per tracked host (host table and index), for the benchmark. */
size_t det_host_bytes(void);

/* Threshold metric value from window counter sums over `secs` seconds. */
double thr_metric(enum thr t, const uint64_t sum[C__COUNT], double secs);

#endif
