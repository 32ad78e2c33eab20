/* collector: a UDP socket receiving sFlow or NetFlow/IPFIX, its exporters, and the placement of
 * flow records in time. One thread per collector, owning one shard, so flows go through exactly
 * the accounting and detection that packets do. */
#ifndef MOAT_COLLECTOR_H
#define MOAT_COLLECTOR_H

#include <stdio.h>

#include "core/conf.h"
#include "detect/account.h"
#include "flow/flow.h"

enum {
	COLLECTOR_MAX_EXPORTERS = 1024, /* when the config lists none: first come, first served */
	SPREAD_MAX = 1 << 20, /* records spread over time at once (~100 B each, touched as used) */
	SPREAD_HORIZON_TICKS = 2048, /* how far ahead a record may be placed (204.8 s) */
	SPREAD_MAX_TICKS = 3000,     /* a record is spread over at most 300 s */
};

/* Counters of a collector (beyond each exporter's own). */
struct collector_stats {
	uint64_t datagrams;
	uint64_t unknown_exporter; /* from an address not in `exporters` */
	uint64_t exporters_full;   /* from a new exporter past COLLECTOR_MAX_EXPORTERS */
	uint64_t spread_full;	   /* records accounted at once: the spread pool was full */
	uint64_t reanchors;	   /* an exporter's clock jumped: its time offset was set again */
	uint64_t socket_drops;	   /* datagrams the kernel dropped (receive buffer full) */
};

/* Maps a record's time, in the exporter's clock, onto ours. An exporter whose first record ends
 * within 60 s of our clock is synced (NTP): its times are used as they are. Any other (a capture
 * replayed through an exporter, softflowd -r; a router with a wrong clock) is anchored: its first
 * record starts 10 s from now and the rest keep their spacing, so a burst of records flushed out
 * of order is still replayed at its own pace; the 10 s are the reordering it may do. A record
 * mapped beyond [now - 300 s, now + 120 s] anchors again. */
struct flowclock {
	int64_t offset_ns;
	bool valid;
	bool synced;
};

struct collector;

/* Opens the socket for an sflow or netflow capture (err set on failure: address in use, no
 * permission). The collector accounts into sh, which must be attached to the detector. */
struct collector *collector_open(const struct capture *cap, const struct conf *c, struct shard *sh,
				 char *err, size_t errlen);
int collector_start(struct collector *co, char *err, size_t errlen);
/* Stops the thread (its counters stay readable); collector_close frees everything. */
void collector_stop(struct collector *co);
void collector_close(struct collector *co);

/* Writes one line per exporter (and the collector's counters) to f, or to the log if f is NULL. */
void collector_print_stats(struct collector *co, FILE *f);

/* The collector's counters and each exporter's, for moatctl exporters and the API: one object
 * {"kind","listen","datagrams",...,"exporters":[{"address","datagrams","records",...}]}. Read
 * from another thread than the collector's: each counter is read whole, the set is not a
 * snapshot. */
struct json;
void collector_json(struct collector *co, struct json *j);

/* Calls fn for each exporter heard from (Prometheus metrics). */
void collector_each(struct collector *co,
		    void (*fn)(void *arg, const char *kind, const char *listen,
			       const struct maddr *addr, const struct exporter_stats *st),
		    void *arg);
const struct collector_stats *collector_stats(const struct collector *co);
const char *collector_kind(const struct collector *co); /* "sflow", "netflow" */
const char *collector_listen(const struct collector *co);

/* The placement logic, exposed for tests: places one record at now_ns. */
struct spreader;
struct spreader *spreader_new(uint32_t max_entries);
void spreader_free(struct spreader *s);
/* Places a record whose mapped span is [first_ns, last_ns] (our clock). Records that start in the
 * past are moved to start now, keeping their duration. Returns 0 if spread or scheduled, 1 if it
 * was accounted at once into sh (short, or the pool was full). */
int spreader_place(struct spreader *s, struct shard *sh, const struct obs *o, uint64_t first_ns,
		   uint64_t last_ns, uint64_t now_ns);
/* Accounts the slices of every record active in the tick that starts at tick_ns. */
void spreader_tick(struct spreader *s, struct shard *sh, uint64_t tick_ns);
uint32_t spreader_active(const struct spreader *s);
uint64_t spreader_full(const struct spreader *s);

/* Maps [first, last] from the exporter's clock onto ours (see struct flowclock). Returns true if
 * the offset was (re)set. */
bool flowclock_map(struct flowclock *fc, uint64_t now_ns, uint64_t *first, uint64_t *last);

#endif
