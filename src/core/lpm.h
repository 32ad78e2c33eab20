/* lpm: longest-prefix match over IPv4 and IPv6, as a multibit trie with 8-bit strides and
 * leaf pushing. A lookup is at most 4 (IPv4) or 16 (IPv6) dependent loads and never allocates.
 *
 * Values are uint32_t with the top bit reserved; 0 means "no prefix covers this address". The
 * table is built once (config load, reload builds a new one) and then only read, so any number of
 * threads may look up at once.
 */
#ifndef MOAT_LPM_H
#define MOAT_LPM_H

#include <stddef.h>
#include <stdint.h>

#include "core/obs.h"

#define LPM_VALUE_MAX 0x7fffffffu

struct lpm {
	uint32_t (*node)[256];
	uint32_t n_nodes, cap_nodes;
	uint32_t root4, root6;
	uint32_t max_nodes; /* bound: refuse inserts past it */
};

/* Called for each covered leaf when a prefix is inserted: returns the new value from the old one.
 * Inserting prefixes shortest first makes `old` the value of the longest enclosing prefix. */
typedef uint32_t (*lpm_merge_fn)(uint32_t old, void *arg);

/* Returns 0 on success, -1 on allocation failure or when max_nodes would be exceeded. */
int lpm_init(struct lpm *t, uint32_t max_nodes);
void lpm_free(struct lpm *t);

/* Inserts a (mapped-space) prefix. Returns 0, or -1 if out of nodes. */
int lpm_insert(struct lpm *t, const struct maddr *a, int plen, lpm_merge_fn merge, void *arg);

static inline uint32_t lpm_lookup(const struct lpm *t, const struct maddr *a)
{
	static const uint8_t v4pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	uint32_t n, e;
	int i;

	if (memcmp(a->b, v4pfx, 12) == 0) {
		n = t->root4;
		i = 12;
	} else {
		n = t->root6;
		i = 0;
	}
	for (; i < 16; i++) {
		e = t->node[n][a->b[i]];
		if (!(e & 0x80000000u))
			return e;
		n = e & 0x7fffffffu;
	}
	return 0; /* not reached: the last level holds values */
}

#endif
