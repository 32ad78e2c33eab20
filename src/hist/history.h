/* hist: the attack history, in SQLite. Every attack is kept across restarts with its events (as
 * received), its summary (vector, peaks, counters, state), its mitigations and BGP routes, under a
 * retention by age and by count.
 *
 * Writes are queued (a copy of the line) and done by the history's own writer thread, in batches
 * of one transaction: a slow, full or locked disk delays the history, never the detector or the
 * BGP speaker. What cannot be written (an SQLite error, or a queue that is full because the disk
 * is stuck) is counted (write_errors, dropped) and logged at most once a minute; nothing crashes.
 * Queries first wait (up to 2 s) for what was queued before them, so they see every event given
 * before the call.
 *
 * Schema (PRAGMA application_id 0x4d4f4154 "MOAT", PRAGMA user_version 1):
 *   attacks(seq PK, id, target, scope, hostgroup, direction, type, state, started, ended, last_ts,
 *           pps, bps, peak_pps, peak_bps, packets, bytes, thresholds_exceeded JSON, vector JSON,
 *           mitigations)          one row per attack, updated by each of its events
 *   events(seq PK, attack -> attacks.seq ON DELETE CASCADE, ts, kind, json)
 *                                 every event naming the attack, the JSON as received
 *   other_events(seq PK, ts, kind, json)   events naming no (known) attack: bgp_peer_up, ...
 * Times are unix seconds (REAL). The mitigations and routes of an attack are read back from its
 * events; they need no table of their own. A new file gets auto_vacuum=incremental (pruning gives
 * the space back); every open sets WAL, synchronous=NORMAL, foreign_keys, and checks the file:
 * its header, application_id, user_version, then PRAGMA quick_check. */
#ifndef MOAT_HISTORY_H
#define MOAT_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "core/json.h"
#include "detect/detect.h"

struct hist;

/* Opens (creating when missing, with its directory, 0750) the SQLite database at path: WAL mode,
 * synchronous=NORMAL, a schema version (PRAGMA user_version) checked on open; a file that is not
 * a moat history database, or is corrupt, is refused with a clear message (never overwritten).
 * Attacks left open by a previous run (no attack_end) are closed as "interrupted" at their last
 * event's time. retention_days 0 = keep forever; max_attacks 0 = no limit. NULL + err on failure.
 */
struct hist *hist_open(const char *path, unsigned retention_days, unsigned max_attacks, char *err,
		       size_t errlen);
/* Writes what is queued, stops the writer thread, closes the database. NULL is ignored. Call it
 * once the threads that give it lines (the BGP speaker) are stopped. */
void hist_close(struct hist *h);

/* Detector events (det_subscribe): attack_start, attack_update, attack_end. */
void hist_event(void *h, const struct event *ev);

/* Any other event line (one JSON object): mitigation_start/end, bgp_announce/withdraw, ...; those
 * naming an attack ("attack" member) are stored with it; others (bgp_peer_up/down, ...) in a
 * general events table. Called from several threads (the BGP speaker has its own): thread-safe.
 * A line that is not a JSON object with a string "event" is counted (malformed) and ignored.
 * attack_start/update/end lines are taken as hist_event would take them (an event log can be
 * imported line by line). */
void hist_line(struct hist *h, const char *json, size_t len);

/* Waits until everything queued before the call is written (at most timeout_ms; 0 = 2 s).
 * Returns 0, or -1 on timeout. Queries, hist_prune and hist_close do it themselves. */
int hist_flush(struct hist *h, unsigned timeout_ms);

/* Writes members "attacks":[...] (newest first, at most limit, 1..1000) of the attacks that started
 * before `before` (unix seconds; 0 = now, i.e. no bound: replays of captures stamped in the future
 * are listed too), optionally only those whose target is `target` (NULL = all). Each: id, target,
 * scope, hostgroup, direction, type, state ("active", "ended", "interrupted"), started, ended (null
 * while active), duration (to the last event while active), peak_pps, peak_bps, pps, bps (last),
 * packets, bytes, thresholds_exceeded (every one seen in the attack), vector (the last one seen),
 * mitigations (count). Returns 0, or -1 with err (and nothing written). */
int hist_list_json(struct hist *h, unsigned limit, double before, const char *target,
		   struct json *out, char *err, size_t errlen);

/* Writes member "attack":{...the list fields..., "events":[every event object of the attack in
 * time order, as received], "timeline":{"ts":[...],"pps":[...],"bps":[...]} (from its
 * start/update/end events, for a chart), "mitigations":[{rule_id, rule, action, origin, started,
 * ended, reason, counters ({packets, bytes, dropped_packets, dropped_bytes}, the last seen, null
 * before mitigation_end), evidence (path or null), evidence_packets}], "routes":[{route_id, kind
 * (blackhole, flowspec, diversion), route (prefix or Flowspec rule), target, announced, withdrawn,
 * reason}]}. Its "mitigations" is that list, not the list's count (a member may appear only
 * once). The newest attack of that id (ids repeat only if the clock went back). Events are in
 * time order, in the order received for equal times; a stored event that no longer parses is
 * null. Returns 0, 1 when no such attack (nothing written), -1 with err on a database error
 * (nothing written either). */
int hist_attack_json(struct hist *h, const char *id, struct json *out, char *err, size_t errlen);

/* Deletes attacks (and their events) that ended more than retention_days before now, then the
 * oldest ended ones beyond max_attacks, and general events older than the retention. Active
 * attacks are never deleted. Returns the number of attacks deleted, or -1. moatd calls it at
 * start and hourly. */
int hist_prune(struct hist *h, uint64_t now_ns);

/* Changes retention (on reload). */
void hist_set_retention(struct hist *h, unsigned retention_days, unsigned max_attacks);

struct hist_stats {
	uint64_t attacks_written, events_written, write_errors, pruned;
	uint64_t malformed; /* lines refused: not a JSON object with a string "event" */
	uint64_t dropped;   /* lines not queued: the queue was full (the disk is stuck) */
	uint64_t damaged;   /* stored values that did not read back (written as null) */
};
const struct hist_stats *hist_stats(const struct hist *h);

#endif
