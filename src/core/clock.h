/* clock: the two clocks moat reads. CLOCK_REALTIME is the detector's clock when live (the same
 * epoch as packet and flow timestamps); CLOCK_MONOTONIC measures durations and deadlines. */
#ifndef MOAT_CLOCK_H
#define MOAT_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline uint64_t realtime_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

static inline uint64_t mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

#endif
