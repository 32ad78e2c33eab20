/* lpm: multibit trie, 8-bit strides, leaf pushing.
 *
 * Each node is 256 slots; a slot holds either a value or (top bit set) the index of a child node.
 * Inserting a prefix of length L walks L/8 whole bytes, creating children that inherit the slot's
 * old value (leaf pushing), then fills the 2^(8 - L%8) slots the remaining bits cover. Memory is
 * 1 KiB per node: a few nodes for a typical config, about one node per /24 for big tables. The
 * alternative, a path-compressed binary trie, is smaller but costs up to 128 dependent loads.
 */
#include <stdlib.h>
#include <string.h>

#include "core/lpm.h"

#define CHILD 0x80000000u

static int node_new(struct lpm *t, uint32_t fill, uint32_t *out)
{
	if (t->n_nodes == t->cap_nodes) {
		uint32_t cap = t->cap_nodes ? t->cap_nodes * 2 : 16;
		if (cap > t->max_nodes)
			cap = t->max_nodes;
		if (cap <= t->n_nodes)
			return -1;
		void *p = realloc(t->node, (size_t)cap * sizeof(*t->node));
		if (!p)
			return -1;
		t->node = p;
		t->cap_nodes = cap;
	}
	for (int i = 0; i < 256; i++)
		t->node[t->n_nodes][i] = fill;
	*out = t->n_nodes++;
	return 0;
}

int lpm_init(struct lpm *t, uint32_t max_nodes)
{
	memset(t, 0, sizeof(*t));
	t->max_nodes = max_nodes < 2 ? 2 : max_nodes;
	if (node_new(t, 0, &t->root4) < 0 || node_new(t, 0, &t->root6) < 0) {
		lpm_free(t);
		return -1;
	}
	return 0;
}

void lpm_free(struct lpm *t)
{
	free(t->node);
	memset(t, 0, sizeof(*t));
}

static void fill_all(struct lpm *t, uint32_t n, lpm_merge_fn merge, void *arg)
{
	for (int i = 0; i < 256; i++) {
		uint32_t e = t->node[n][i];
		if (e & CHILD)
			fill_all(t, e & ~CHILD, merge, arg);
		else
			t->node[n][i] = merge(e, arg);
	}
}

int lpm_insert(struct lpm *t, const struct maddr *a, int plen, lpm_merge_fn merge, void *arg)
{
	uint32_t n;
	int i, bits;

	if (maddr_is_v4(a) && plen >= 96) {
		n = t->root4;
		i = 12;
		bits = plen - 96;
	} else {
		n = t->root6;
		i = 0;
		bits = plen;
	}
	/* walk whole bytes, pushing leaves down */
	for (; bits > 8; i++, bits -= 8) {
		uint32_t e = t->node[n][a->b[i]], c;
		if (!(e & CHILD)) {
			if (node_new(t, e, &c) < 0)
				return -1;
			t->node[n][a->b[i]] = CHILD | c;
			e = CHILD | c;
		}
		n = e & ~CHILD;
	}
	/* the remaining 1..8 bits cover a run of slots in this node (0 bits: a default route) */
	unsigned lo = 0, span = 256;
	if (bits > 0) {
		span = 1u << (8 - bits);
		lo = a->b[i] & (uint8_t)(0xff << (8 - bits));
	}
	for (unsigned s = lo; s < lo + span; s++) {
		uint32_t e = t->node[n][s];
		if (e & CHILD)
			fill_all(t, e & ~CHILD, merge, arg);
		else
			t->node[n][s] = merge(e, arg);
	}
	return 0;
}
