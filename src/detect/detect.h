/* detect: the detector. Owns every host's merged counters, the 1 s windows of hosts and groups
 * near their thresholds ("hot"), attack state and its lifecycle. Runs one tick every 100 ms of the
 * one clock (packet time when replaying, the system clock when live) on one thread.
 */
#ifndef MOAT_DETECT_H
#define MOAT_DETECT_H

#include <stdint.h>

#include "core/conf.h"
#include "core/json.h"
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
	uint64_t hosts_cap; /* limits.max_hosts: hosts / hosts_cap is the host table's fill */
	uint64_t hot_cap;   /* limits.max_hot */
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

/* ---- live numbers for the operator surface (HTTP API, dashboard, metrics, moatctl top) ----
 *
 * Everything below reads the detector's state: call it on the detector's thread (between ticks),
 * like det_tick. Seconds are the clock's own (unix seconds; ticks are 100 ms boundaries of the
 * clock, so a second is the 10 ticks whose traffic lies in it, which is also the second the
 * workers' distinct-flow filter counts in). A second is complete when the detector ran all of its
 * ticks: the partial second the detector started in is left out everywhere. */

enum det_metric { DET_PPS = 0, DET_BPS, DET_FLOWS, DET__METRICS };
#define DET_TOP_MAX    100
#define DET_HIST_SECS  600
#define DET_MAX_SERIES 33

/* A host's rates over the last complete second in one direction. */
struct det_rate {
	struct maddr addr;
	int hg; /* hostgroup index, -1 none */
	uint8_t dir;
	double pps, bps, flows; /* bps in bits per second */
	double tcp_pps, udp_pps, icmp_pps;
	const char *attack; /* id of the active attack on (addr, dir), NULL none (valid until the
			       next det_tick) */
};

/* The unix second (its start) that det_top, det_host's rates and the newest traffic point
 * describe: the last complete second; 0 before the first one completed. */
uint64_t det_last_second(const struct detector *d);

/* The top n (at most DET_TOP_MAX) hosts of the last complete second by `by` in direction dir,
 * highest first; hosts with 0 of that metric are left out. Returns how many were written.
 * The lists are computed once a second; equal values are ordered by the detector's host index
 * (stable from second to second while the hosts stay tracked). */
unsigned det_top(const struct detector *d, enum det_metric by, enum dir dir, struct det_rate *out,
		 unsigned n);

struct det_host_info {
	struct maddr addr;
	int hg;
	bool protected_, whitelisted, hot[DIR__COUNT];
	struct det_rate rate[DIR__COUNT]; /* last complete second (zero when idle in it) */
	uint64_t pkts[DIR__COUNT], bytes[DIR__COUNT]; /* cumulative since the host was first seen */
	uint64_t c[DIR__COUNT][C__COUNT];	      /* every cumulative counter */
	double idle; /* seconds since its last packet (to the tick: 0 = seen in the last tick) */
};
/* Returns 0 and fills out, or -1 when the host is not tracked. */
int det_host(const struct detector *d, const struct maddr *a, struct det_host_info *out);

/* Calls fn for every active attack, in no particular order. */
void det_each_attack(const struct detector *d, void (*fn)(void *arg, const struct attack *a),
		     void *arg);

/* Active attacks as a JSON array: each element is the same object an attack_update event line
 * carries (same members, in the same order, without "event"), plus "active": true. Ordered by
 * start time. At most max of them: when more are active (a carpet of host attacks can make
 * thousands), the max with the highest pps. extra (NULL: none) may add members to each
 * attack's object after "active". Returns how many are active. */
size_t det_attacks_json(struct detector *d, struct json *out, size_t max,
			void (*extra)(void *arg, const struct attack *a, struct json *out),
			void *arg);

/* The last `seconds` (at most DET_HIST_SECS) complete seconds of traffic, columnar, for uPlot:
 * {"interval":1,"series":["all","198.51.100.0/24",...],"ts":[unix seconds...],
 *  "incoming":{"pps":[[...series 0...],[...series 1...]],"bps":[[...],...]},"outgoing":{same}}
 * (written as members of the object being built: the caller has opened it). Seconds before the
 * detector started are left out. ts is the start of each second; values are integers (packets
 * and bits in that second).
 * Series 0 ("all") is every (host, direction) merged, including hosts the host table refused;
 * series 1..k are conf->networks in config order (at most DET_MAX_SERIES - 1; later networks
 * count only in "all"). A host counts in the one network with the longest prefix covering it, so
 * overlapping networks do not count twice and the series add up to "all". When a reload changes
 * the networks, series 1..k restart: their values for seconds before the reload are null (a gap
 * in uPlot), "all" keeps its history. */
void det_traffic_json(const struct detector *d, unsigned seconds, struct json *out);

struct det_totals {
	uint64_t pkts[DIR__COUNT][4], bytes[DIR__COUNT][4]; /* tcp, udp, icmp, other */
};
/* Cumulative packets and bytes since start, every (host, direction) merged. */
const struct det_totals *det_totals(const struct detector *d);
/* Cumulative packets and bytes of hostgroup hg (-1: hosts in no hostgroup). Returns 0, or -1 for
 * an unknown index. Indexes are those of the current config. A reload keeps a hostgroup's totals
 * under its name (its index may change with the config's order); a hostgroup the reload adds
 * starts at 0, one it removes loses its totals. Traffic the workers looked up in the old prefix
 * table (the tick in progress at a reload) counts under its old index, or under no hostgroup when
 * that index is past the new config's hostgroups. */
int det_group_totals(const struct detector *d, int hg, uint64_t pkts[DIR__COUNT],
		     uint64_t bytes[DIR__COUNT]);

/* Bytes of memory per tracked host (host table and index), for the benchmark. */
size_t det_host_bytes(void);

/* Threshold metric value from window counter sums over `secs` seconds. */
double thr_metric(enum thr t, const uint64_t sum[C__COUNT], double secs);

#endif
