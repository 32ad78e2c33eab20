/* scrubber: moatd's XDP scrubber as the config describes it. Opens the program with its maps
 * pinned under scrubber.pin_dir, attaches it to every scrubber interface (native where the
 * driver has it, generic otherwise, as scrubber.mode says), gives the mitigation manager its
 * backend, and pumps dropped-packet samples to it.
 *
 * On exit the program stays attached and its maps pinned: filtering goes on while moatd
 * restarts, and the next moatd picks the rules up (mit_adopt). scrubber_unload() removes it all.
 */
#ifndef MOAT_MITIGATE_SCRUBBER_H
#define MOAT_MITIGATE_SCRUBBER_H

#include "core/conf.h"
#include "mitigate/mitigate.h"

struct scrubber;

/* Returns NULL with err set when the program cannot be loaded or an interface attached. */
struct scrubber *scrubber_open(const struct conf *c, char *err, size_t errlen);

/* Leaves the program attached and the maps pinned (see above); frees the rest. */
void scrubber_close(struct scrubber *s);

/* The manager's backend over this scrubber's maps. */
void scrubber_backend(struct scrubber *s, struct mit_backend *b);

/* Makes the allow and deny lists in the maps what the config says (scrubber.allow, .deny and
 * their files): adds what is missing, removes what is no longer listed. At start and on reload.
 * Returns 0 or -1 with err set. */
int scrubber_lists(struct scrubber *s, const struct conf *c, char *err, size_t errlen);

/* Hands every waiting sample to mit_sample. Returns how many. */
int scrubber_poll(struct scrubber *s, struct mit *m);

/* Per-reason counters summed over CPUs, as JSON members "reasons": {name: {packets, ...}}. */
void scrubber_json(struct scrubber *s, struct json *j);

/* Detaches the scrubber from the config's interfaces and removes its pinned maps: what
 * `moatd --unload` does. Returns 0 or -1 with err set. */
int scrubber_unload(const struct conf *c, char *err, size_t errlen);

#endif
