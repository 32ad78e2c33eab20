/* bgp/policy: what an attack gets upstream. On attack_start the `mitigation` list (a
 * hostgroup's own, else the global one) picks blackhole, flowspec, diversion or none; the route is
 * built from the config and the attack's vector (the same narrowest rule the scrubber uses, as
 * Flowspec components) and handed to the speaker; `hold` seconds after the attack ends it is
 * withdrawn. Routes can be announced and withdrawn by hand (moatctl bgp). The announced set is
 * kept in bgp.state_file, so a restarted moatd announces again what is still active and lets
 * what ended meanwhile go. Every announce and withdraw is an event (bgp_announce,
 * bgp_withdraw). Runs on the detector's thread; the speaker does the I/O on its own. */
#ifndef MOAT_BGP_POLICY_H
#define MOAT_BGP_POLICY_H

#include "bgp/speaker.h"
#include "core/conf.h"
#include "core/json.h"
#include "detect/detect.h"

struct bgpp_backend {
	void *arg;
	int (*announce)(void *arg, const struct bgp_out_route *r);
	int (*withdraw)(void *arg, uint64_t id);
};

typedef void (*bgpp_emit_fn)(void *arg, const char *json, size_t len);

struct bgpp;

/* persist: keep bgp.state_file (a replay does not). */
struct bgpp *bgpp_new(const struct conf *c, const struct bgpp_backend *b, bool persist,
		      bgpp_emit_fn emit, void *emit_arg);
void bgpp_free(struct bgpp *p);
void bgpp_set_conf(struct bgpp *p, const struct conf *c);

/* Announces again what bgp.state_file says is still active (held for `hold` from now when its
 * attack was still going). Returns how many, or -1 with err set (an unreadable file). */
int bgpp_restore(struct bgpp *p, uint64_t now_ns, char *err, size_t errlen);

/* Detector subscriber and tick (hold expiry). */
void bgpp_event(void *p, const struct event *ev);
void bgpp_tick(struct bgpp *p, uint64_t now_ns);

/* moatctl bgp announce blackhole|diversion ADDRESS, bgp announce flowspec RULE-WORDS...,
 * bgp withdraw ID, bgp list. 0, or with err -1, CTL_ECONFLICT (announced already) or
 * CTL_ENOTFOUND (withdraw: no such route). */
int bgpp_command(struct bgpp *p, int argc, char **argv, uint64_t now_ns, struct json *out,
		 char *err, size_t errlen);

/* moatd stops with bgp.withdraw_on_shutdown: a bgp_withdraw event for every route (the speaker
 * withdraws them); the state file keeps them for the next start. */
void bgpp_shutdown(struct bgpp *p, uint64_t now_ns);

/* The route an attack gets under action a (for tests). 0, or -1 with why. */
int bgpp_route_for(const struct conf *c, const struct attack *a, enum mit_action act,
		   struct bgp_out_route *r, struct fs_rule *fs, char *why, size_t whylen);

#endif
