/* fuzz_netflow: netflow_decode on arbitrary datagrams, its output and counters checked.
 *
 * One exporter is kept across inputs, so templates and samplers learned from one input are used
 * by the next, as in a real stream; it is released and cleared every 1000 inputs so the fuzzer
 * also sees fresh starts and the lazy allocation.
 *
 * Input layout: byte 0 is a clock step (see clock_step), and the datagram is the whole input
 * with byte 0 read as 0. Every NetFlow/IPFIX version (5, 9, 10) has a zero high byte, so a raw
 * captured datagram is a valid seed as it is (step 0) and the fuzzer can change the step without
 * breaking the version. The datagram is copied into an allocation of exactly its size so ASan
 * sees any read past it.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { RESET_EVERY = 1000 };

static struct exporter ex;
static uint64_t now_ns = 1700000000ull * 1000000000ull;
static unsigned long inputs;
static int emitted;

/* 0..199: that many 10 ms; 200..255: 1..56 minutes, past the template TTL at the top. */
static uint64_t clock_step(uint8_t b)
{
	if (b < 200)
		return b * 10000000ull;
	return (b - 199) * 60000000000ull;
}

/* What every emitted obs must satisfy, whatever the input. */
static void check(void *arg, const struct obs *o, uint64_t first, uint64_t last)
{
	(void)arg;
	if (o->family == 4) {
		if (!maddr_is_v4(&o->src) || !maddr_is_v4(&o->dst))
			abort();
	} else if (o->family != 6) {
		abort();
	}
	if (o->packets == 0 || o->frag > OBS_FRAG_LATER)
		abort();
	if (o->frag == OBS_FRAG_LATER && (o->sport || o->dport || o->tcp_flags || o->l4))
		abort();
	if (o->proto != IPPROTO_TCP_ && o->tcp_flags)
		abort();
	if (o->proto != IPPROTO_TCP_ && o->proto != IPPROTO_UDP_ && o->sport)
		abort();
	if (o->proto != IPPROTO_TCP_ && o->proto != IPPROTO_UDP_ && o->proto != IPPROTO_ICMP_ &&
	    o->proto != IPPROTO_ICMPV6_ && (o->dport || o->l4))
		abort();
	if (!o->l4 && (o->sport || o->dport))
		abort();
	if (first > last || o->ts_ns != last)
		abort();
	/* len = bytes / packets before scaling, so len * packets <= bytes unless one saturated */
	if (o->packets != UINT64_MAX && o->bytes != UINT64_MAX &&
	    (unsigned __int128)o->len * o->packets > o->bytes)
		abort();
	emitted++;
}

/* The exporter's own invariants: tables within their bounds, stored templates usable. */
static void check_exporter(void)
{
	uint32_t i;

	if (ex.n_tmpl > FLOW_MAX_TEMPLATES || ex.n_samplers > FLOW_MAX_SAMPLERS)
		abort();
	if (ex.n_tmpl && !ex.tmpl)
		abort();
	for (i = 0; i < ex.n_tmpl; i++) {
		const struct flow_template *t = &ex.tmpl[i];

		if (t->id < 256 || t->n_fields == 0 || t->n_fields > FLOW_MAX_TEMPLATE_FIELDS ||
		    t->min_len < 1 || t->scope_fields > t->n_fields || !t->used)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct exporter_stats before;
	uint8_t *dg;
	int rc;

	if (size < 1 || size > 65535)
		return 0;
	if (++inputs % RESET_EVERY == 0) {
		exporter_release(&ex);
		memset(&ex, 0, sizeof(ex));
	}
	now_ns += clock_step(data[0]);
	dg = malloc(size);
	if (!dg)
		return 0;
	memcpy(dg, data, size);
	dg[0] = 0;

	before = ex.st;
	emitted = 0;
	rc = netflow_decode(dg, size, now_ns, &ex, check, NULL);
	free(dg);

	if (rc < -1 || (rc < 0 && emitted) || (rc >= 0 && rc != emitted))
		abort();
	if (ex.st.records - before.records != (uint64_t)emitted)
		abort();
	if (rc < 0 && (ex.st.errors != before.errors + 1 || ex.st.packets != before.packets))
		abort();
	if (rc >= 0 && (ex.st.packets != before.packets + 1 || ex.st.last_seen_ns != now_ns))
		abort();
	check_exporter();
	return 0;
}
