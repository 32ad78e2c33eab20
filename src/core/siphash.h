/* siphash: keyed hashing for every table an attacker can aim at (addresses, ports are theirs). */
#ifndef MOAT_SIPHASH_H
#define MOAT_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

struct sipkey {
	uint64_t k0, k1;
};

/* SipHash-1-3 (as used for hash tables by Rust's std and Python): keyed, fast, and an attacker who
 * does not know the key cannot make keys collide on purpose. */
uint64_t siphash13(const struct sipkey *key, const void *data, size_t len);

/* Fills key from getrandom(2); with seed != 0, deterministically from seed (tests, replays). */
void sipkey_init(struct sipkey *key, uint64_t seed);

#endif
