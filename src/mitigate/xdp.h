/* xdp: the userspace side of the XDP scrubber (src/bpf/scrub.bpf.c): load it through the
 * generated skeleton, pin and reuse its maps, attach it to an interface, edit its rules and lists,
 * read its counters and samples. Every function returns 0 (or what it says) or -errno.
 *
 * One writer: the rule and target calls read, modify and write map values, so one thread (the
 * mitigation policy) edits a scrubber at a time. The data plane sees each update whole.
 */
#ifndef MOAT_MITIGATE_XDP_H
#define MOAT_MITIGATE_XDP_H

#include "bpf/scrub.h"

#define XDP_SCRUB_PIN_DIR "/sys/fs/bpf/moat"

struct xdp_scrub;

enum xdp_scrub_list {
	XDP_SCRUB_ALLOW,
	XDP_SCRUB_DENY,
};

enum xdp_scrub_mode {
	XDP_SCRUB_NATIVE = 1,  /* in the driver */
	XDP_SCRUB_GENERIC = 2, /* after the skb is built: works everywhere, costs more */
};

/* Opens and loads the program without attaching it. pin_dir: NULL for XDP_SCRUB_PIN_DIR, "" for
 * no pinning. Maps already pinned there are reused (rules, lists and counters survive a restart);
 * missing ones are created and pinned. bpffs is mounted on /sys/fs/bpf if it is not.
 * -EINVAL from a pinned map of another layout: remove pin_dir (xdp_scrub_unpin) and retry. */
int xdp_scrub_open(struct xdp_scrub **out, const char *pin_dir);

/* Detaches if attached; pinned maps stay. */
void xdp_scrub_close(struct xdp_scrub *x);

/* Forgets the attachment, so that xdp_scrub_close leaves the program attached (the interface
 * holds it) and filtering goes on across a restart; the next run's xdp_scrub_attach replaces it. */
void xdp_scrub_leave_attached(struct xdp_scrub *x);

/* Removes the pinned maps (the maps live on while the program holds them). */
int xdp_scrub_unpin(struct xdp_scrub *x);

int xdp_scrub_prog_fd(const struct xdp_scrub *x);

/* Attaches to ifindex in native mode, or generic mode if the driver refuses (or if
 * force_generic). Replaces a scrubber left attached by an earlier run; refuses (-EBUSY) any
 * other XDP program. Returns XDP_SCRUB_NATIVE or XDP_SCRUB_GENERIC, or -errno; *native_err gets
 * why native mode failed (0 if it did not), for the log. */
int xdp_scrub_attach(struct xdp_scrub *x, int ifindex, int force_generic, int *native_err);
int xdp_scrub_detach(struct xdp_scrub *x);

int xdp_scrub_config(struct xdp_scrub *x, const struct scrub_config *c);

/* Allow and deny lists. The key is in the mapped space (struct scrub_lpm_key). add_many uses
 * one batch syscall where the kernel has it; returns how many were inserted or -errno.
 * Inside, exact addresses (/128, IPv4 /32) go to a hash and shorter prefixes to an LPM trie, each
 * holding up to SCRUB_MAX_PREFIXES; callers see one list. */
int xdp_scrub_prefix_add(struct xdp_scrub *x, enum xdp_scrub_list l, const struct scrub_lpm_key *k);
int xdp_scrub_prefix_del(struct xdp_scrub *x, enum xdp_scrub_list l, const struct scrub_lpm_key *k);
int xdp_scrub_prefix_add_many(struct xdp_scrub *x, enum xdp_scrub_list l,
			      const struct scrub_lpm_key *k, unsigned int n);

/* Calls cb for every entry of list l (exact addresses first, then prefixes, in no set order);
 * stops at and returns cb's first non-zero. cb must not edit list l. */
int xdp_scrub_prefix_list(struct xdp_scrub *x, enum xdp_scrub_list l,
			  int (*cb)(void *ctx, const struct scrub_lpm_key *k), void *ctx);

/* Parses "192.0.2.0/24", "2001:db8::/32" or an address into a key. -EINVAL if malformed. */
int xdp_scrub_prefix_parse(const char *s, struct scrub_lpm_key *k);

/* Targets: the destinations that have rules or are under attack. target_set creates one or sets
 * its flags (enum scrub_target_flag); target_del also deletes its rules. -ENOSPC when full. */
int xdp_scrub_target_set(struct xdp_scrub *x, const struct scrub_addr *t, __u32 flags);
int xdp_scrub_target_del(struct xdp_scrub *x, const struct scrub_addr *t);

/* Rules: id < SCRUB_MAX_RULES, chosen by the caller; r->target says whose rule it is (created if
 * needed). Appended to the target's list: first match wins. Resets the rule's counters.
 * -EEXIST if id is in use, -ENOSPC if the target has SCRUB_TARGET_RULES, -ERANGE for a bad id. */
int xdp_scrub_rule_add(struct xdp_scrub *x, __u32 id, const struct scrub_rule *r);
int xdp_scrub_rule_del(struct xdp_scrub *x, __u32 id);

/* Calls cb for every rule in id order; stops at and returns cb's first non-zero. */
int xdp_scrub_rule_list(struct xdp_scrub *x,
			int (*cb)(void *ctx, __u32 id, const struct scrub_rule *r), void *ctx);

/* Counters summed over CPUs. */
int xdp_scrub_rule_counter(struct xdp_scrub *x, __u32 id, struct scrub_counter *c);
int xdp_scrub_reason_counter(struct xdp_scrub *x, __u32 reason, struct scrub_counter *c);

/* Reads samples of dropped packets, waiting up to timeout_ms for the first (0: none waits).
 * Returns how many were passed to cb, or -errno. */
int xdp_scrub_samples(struct xdp_scrub *x, void (*cb)(void *ctx, const struct scrub_sample *s),
		      void *ctx, int timeout_ms);

#endif
