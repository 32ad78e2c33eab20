/* fuzz_sflow: sflow_decode on arbitrary bytes, every obs and counter checked for consistency.
 *
 * The input is the datagram itself, so the seeds are real datagrams. libFuzzer's buffer ends
 * where the datagram does, so ASan sees any read past len. Each input is decoded twice on the
 * same exporter, the second time with a sampling override, to reach the sequence tracking and
 * the override path.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { NOW = 1000000007, OVERRIDE = 7 };

struct seen {
	int n;
	uint32_t max_rate;
};

/* What every emitted obs must satisfy, whatever the input. */
static void check(void *arg, const struct obs *o, uint64_t first_ns, uint64_t last_ns)
{
	struct seen *s = arg;

	s->n++;
	if (o->family != 4 && o->family != 6)
		abort();
	if (o->packets < 1 || o->packets > s->max_rate)
		abort();
	if (o->bytes < o->packets || o->bytes != (uint64_t)o->len * o->packets)
		abort();
	if (o->len < (o->family == 4 ? 20u : 40u))
		abort();
	if (o->ts_ns != NOW || first_ns != NOW || last_ns != NOW)
		abort();
	if (o->frag > OBS_FRAG_LATER || o->l4 > 1 || o->pad[0] || o->pad[1])
		abort();
	if (o->family == 4 && !maddr_is_v4(&o->src))
		abort();
	if (o->frag == OBS_FRAG_LATER && (o->sport || o->dport || o->tcp_flags))
		abort();
	if (o->proto != IPPROTO_TCP_ && o->tcp_flags)
		abort();
	if (o->proto != IPPROTO_TCP_ && o->proto != IPPROTO_UDP_ && o->sport)
		abort();
}

/* Decodes once and checks the return value against the callbacks and the counters. */
static int run(const uint8_t *data, size_t size, struct exporter *ex, uint32_t max_rate)
{
	struct exporter_stats before = ex->st;
	struct seen s = {0, max_rate};
	int r;

	r = sflow_decode(data, size, NOW, ex, check, &s);
	if (r < -1 || (r == -1 && s.n != 0) || (r >= 0 && r != s.n))
		abort();
	if (ex->st.records - before.records != (uint64_t)s.n)
		abort();
	if (r == -1 && (ex->st.errors != before.errors + 1 || ex->st.packets != before.packets))
		abort();
	if (r >= 0 && (ex->st.packets != before.packets + 1 || ex->st.last_seen_ns != NOW))
		abort();
	/* at most one error per sample plus one for the datagram; a sample is at least 8 bytes */
	if (ex->st.errors - before.errors > size / 8 + 1)
		abort();
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct exporter ex;
	int r1, r2;

	memset(&ex, 0, sizeof(ex));
	r1 = run(data, size, &ex, FLOW_MAX_SAMPLING);
	ex.sampling_override = OVERRIDE;
	r2 = run(data, size, &ex, OVERRIDE);
	/* the override can only rescue samples whose own rate was refused */
	if (r2 < r1)
		abort();
	if (r1 >= 0 && !ex.seq_valid)
		abort();
	return 0;
}
