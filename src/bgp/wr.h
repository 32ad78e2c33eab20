/* wr: the bounded byte writer of the BGP and Flowspec encoders. A write past cap sets err and
 * writes nothing; the caller checks err once at the end. Big-endian, as on the wire. */
#ifndef MOAT_BGP_WR_H
#define MOAT_BGP_WR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct wr {
	uint8_t *p;
	size_t cap, len;
	bool err;
};

static inline void put8(struct wr *w, uint8_t v)
{
	if (w->len >= w->cap) {
		w->err = true;
		return;
	}
	w->p[w->len++] = v;
}

static inline void put16(struct wr *w, uint16_t v)
{
	put8(w, (uint8_t)(v >> 8));
	put8(w, (uint8_t)v);
}

static inline void put32(struct wr *w, uint32_t v)
{
	put16(w, (uint16_t)(v >> 16));
	put16(w, (uint16_t)v);
}

static inline void putn(struct wr *w, const void *d, size_t n)
{
	if (n > w->cap - w->len) {
		w->err = true;
		return;
	}
	memcpy(w->p + w->len, d, n);
	w->len += n;
}

#endif
