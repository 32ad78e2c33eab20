/* mitigate: the scrubber's policy. Turns an attack's vector into the narrowest rule that still
 * covers most of its packets, installs it when the attack starts, removes it `hold` seconds after
 * the attack ends, takes rules added and removed by hand, and keeps the dropped-packet samples of
 * each mitigation as a pcap (its evidence). Every change is an event (mitigation_start,
 * mitigation_end) on the event log.
 *
 * The data plane is reached through struct mit_backend (src/mitigate/xdp.c in moatd); without
 * one the manager keeps rules in memory only (a replay, or `scrubber` configured in a dry run),
 * so the policy is the same code whatever is underneath. Runs on one thread: the detector's.
 */
#ifndef MOAT_MITIGATE_H
#define MOAT_MITIGATE_H

#include <stdint.h>

#include "bpf/scrub.h"
#include "core/conf.h"
#include "core/json.h"
#include "detect/detect.h"

struct mit_backend {
	void *arg;
	int (*rule_add)(void *arg, uint32_t id, const struct scrub_rule *r);
	int (*rule_del)(void *arg, uint32_t id);
	int (*target_set)(void *arg, const struct scrub_addr *t, uint32_t flags);
	int (*target_del)(void *arg, const struct scrub_addr *t);
	int (*counter)(void *arg, uint32_t id, struct scrub_counter *c);
	int (*list)(void *arg, int (*cb)(void *ctx, uint32_t id, const struct scrub_rule *r),
		    void *ctx);
};

/* Receives each mitigation event as one JSON object (no newline). */
typedef void (*mit_emit_fn)(void *arg, const char *json, size_t len);

struct mit_stats {
	uint64_t started, ended, manual_added, manual_deleted;
	uint64_t no_rule;	    /* attacks the policy made no rule for (why is logged) */
	uint64_t backend_errors;    /* a rule the data plane refused */
	uint64_t samples;	    /* dropped-packet samples received */
	uint64_t samples_written;   /* written to an evidence pcap */
	uint64_t samples_unmatched; /* no mitigation to file them under (deny list, invalid) */
	uint64_t samples_over;	    /* past evidence_packets for their mitigation */
	uint64_t last_setup_ns;	    /* attack event to rule in the map, the last one */
};

struct mit;

/* c must outlive the manager (or be replaced with mit_set_conf). b NULL: rules in memory only. */
struct mit *mit_new(const struct conf *c, const struct mit_backend *b, mit_emit_fn emit,
		    void *emit_arg);
void mit_free(struct mit *m);
void mit_set_conf(struct mit *m, const struct conf *c);

/* Takes over the rules already in the data plane (pinned by an earlier run): manual ones stay,
 * automatic ones are held for `hold` seconds from now_ns unless an attack claims them again.
 * Returns how many, or -errno. */
int mit_adopt(struct mit *m, uint64_t now_ns);

/* A detector subscriber (det_subscribe(d, mit_event, m)). */
void mit_event(void *m, const struct event *ev);

/* Removes the rules whose hold has run out. now_ns on the detector's clock. Takes a void * so it
 * can be the detector's tick hook (det_on_tick). */
void mit_tick(void *m, uint64_t now_ns);

/* Rules by hand. add: *id gets the rule's id. Both return 0, or with a message in err -1, or
 * CTL_ECONFLICT (add: the same rule is in place), CTL_ENOTFOUND (del: no such rule). */
int mit_rule_add(struct mit *m, const struct scrub_rule *r, uint64_t now_ns, uint32_t *id,
		 char *err, size_t errlen);
int mit_rule_del(struct mit *m, uint32_t id, uint64_t now_ns, char *err, size_t errlen);

/* The rules as a JSON array of objects (id, target, text, origin, attack, counters, ...). */
void mit_rules_json(struct mit *m, struct json *j, uint64_t now_ns);
/* One rule's object; -1 if there is no rule id. */
int mit_rule_json(struct mit *m, uint32_t id, struct json *j, uint64_t now_ns);

/* A sample of a dropped packet from the data plane (ts_ns on CLOCK_MONOTONIC). */
void mit_sample(struct mit *m, const struct scrub_sample *s);

const struct mit_stats *mit_stats(const struct mit *m);

/* The policy alone: the rule for attack a under config c. Returns 0 with *r, the target flags
 * (enum scrub_target_flag) and the estimated share of the attack's packets the rule covers, or
 * -1 with why there is none. */
int mit_rule_for(const struct attack *a, const struct conf *c, struct scrub_rule *r,
		 uint32_t *tflags, double *cover, char *why, size_t whylen);

#endif
