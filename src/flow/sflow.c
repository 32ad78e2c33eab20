/* sflow: sFlow version 5 datagrams -> obs, one per flow sample.
 *
 * Layout (sFlow.org "sFlow Version 5", July 2004), every field a 32-bit big-endian XDR word:
 *
 *   datagram: version, agent address type (1 IPv4, 2 IPv6), agent address (4 or 16 bytes),
 *             sub-agent id, sequence number, uptime (ms), number of samples, samples...
 *   sample:   tag (enterprise << 12 | format), length, data
 *   flow sample (0:1):      sequence, source id, sampling rate, sample pool, drops, input,
 *                           output, number of records, records...
 *   expanded (0:3):         sequence, source class, source index, sampling rate, sample pool,
 *                           drops, input format, input, output format, output, records...
 *   flow record:            tag (enterprise << 12 | format), length, data
 *
 * A flow sample stands for one sampled packet, so it becomes one obs: from the raw packet header
 * record when there is one we can decode (through the packet decoder, so packet mode and sFlow
 * mode agree byte for byte), else from a sampled IPv4/IPv6 record. Counter samples carry
 * interface totals, not traffic we can attribute to hosts: counted and skipped.
 *
 * Every length comes from the sender and is checked before the bytes it covers are read. A
 * sample that claims more bytes than the datagram holds ends the datagram (what was emitted
 * stays); a sample whose inside is malformed is dropped alone, since its length still tells us
 * where the next one starts.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "capture/decode.h"
#include "flow/flow.h"

enum {
	SFLOW_VERSION = 5,
	SFLOW_ADDR_IP4 = 1,
	SFLOW_ADDR_IP6 = 2,

	/* sample tags, enterprise 0 */
	SFLOW_FLOW_SAMPLE = 1,
	SFLOW_COUNTER_SAMPLE = 2,
	SFLOW_FLOW_SAMPLE_EXP = 3,
	SFLOW_COUNTER_SAMPLE_EXP = 4,

	/* flow record tags, enterprise 0 */
	SFLOW_REC_RAW = 1,
	SFLOW_REC_IP4 = 3,
	SFLOW_REC_IP6 = 4,

	/* raw header protocols */
	SFLOW_HDR_ETHERNET = 1,
	SFLOW_HDR_IPV4 = 11,
	SFLOW_HDR_IPV6 = 12,

	/* A forward jump in the datagram sequence larger than this is not loss (at 100k datagrams
	 * a second it would be three minutes of nothing): it is another instance of the agent, or
	 * a forged datagram. Resynchronise instead of counting it. */
	SFLOW_SEQ_JUMP_MAX = 1u << 24,
};

/* A read cursor over untrusted bytes: p is the next byte, len how many are left. */
struct xdr {
	const uint8_t *p;
	size_t len;
};

/* What one datagram's decode carries around. */
struct sctx {
	struct exporter *ex;
	uint64_t now_ns;
	flow_emit_fn emit;
	void *arg;
	int emitted;
};

/* The records of one flow sample that can become its obs; p is NULL when absent. */
struct recs {
	struct xdr raw; /* raw packet header record body */
	struct xdr ip4; /* sampled_ipv4 record body */
	struct xdr ip6; /* sampled_ipv6 record body */
};

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Returns 0 and the next word in *v, or -1 if fewer than 4 bytes are left. */
static inline int xdr_u32(struct xdr *x, uint32_t *v)
{
	if (x->len < 4)
		return -1;
	*v = rd32(x->p);
	x->p += 4;
	x->len -= 4;
	return 0;
}

/* Takes the next n bytes as a cursor of their own in *sub. Returns 0, or -1 if fewer than n
 * bytes are left (x is then unchanged). */
static inline int xdr_sub(struct xdr *x, size_t n, struct xdr *sub)
{
	if (x->len < n)
		return -1;
	sub->p = x->p;
	sub->len = n;
	x->p += n;
	x->len -= n;
	return 0;
}

/* Skips n bytes. Returns 0, or -1 if fewer than n are left. */
static inline int xdr_skip(struct xdr *x, size_t n)
{
	struct xdr unused;

	return xdr_sub(x, n, &unused);
}

/* Reads the datagram header up to and including the sample count.
 * Returns 0, or -1 if it is cut short, not version 5 or has an unknown agent address type. */
static int header_parse(struct xdr *x, uint32_t *sub_agent, uint32_t *seq, uint32_t *n_samples)
{
	uint32_t version, atype, uptime;

	if (xdr_u32(x, &version) < 0 || version != SFLOW_VERSION)
		return -1;
	if (xdr_u32(x, &atype) < 0)
		return -1;
	/* The agent address only names the agent; the collector keys exporters by source. */
	if (atype == SFLOW_ADDR_IP4) {
		if (xdr_skip(x, 4) < 0)
			return -1;
	} else if (atype == SFLOW_ADDR_IP6) {
		if (xdr_skip(x, 16) < 0)
			return -1;
	} else {
		return -1;
	}
	if (xdr_u32(x, sub_agent) < 0 || xdr_u32(x, seq) < 0 || xdr_u32(x, &uptime) < 0 ||
	    xdr_u32(x, n_samples) < 0)
		return -1;
	return 0;
}

/* Tracks the datagram sequence of one sub-agent and counts datagrams lost in between. A step
 * back is a restart (or reordering): resynchronise without counting, so a rebooted agent never
 * shows as billions of lost datagrams. A change of sub-agent resynchronises too: struct exporter
 * keeps one sequence, and under-counting beats inventing loss. */
static void seq_track(struct exporter *ex, uint32_t sub_agent, uint32_t seq)
{
	if (ex->seq_valid && ex->seq_domain == sub_agent && seq > ex->seq_next &&
	    seq - ex->seq_next <= SFLOW_SEQ_JUMP_MAX)
		ex->st.seq_gaps += seq - ex->seq_next;
	ex->seq_valid = 1;
	ex->seq_domain = sub_agent;
	ex->seq_next = seq + 1;
}

/* Walks the n flow records of a sample and remembers the first raw header, sampled IPv4 and
 * sampled IPv6 record (enterprise 0); everything else (extended switch, router, gateway, user,
 * url, vendor records) is skipped by its length.
 * Returns 0, or -1 if a record header or body runs past the sample. */
static int records_walk(struct xdr *x, uint32_t n, struct recs *r)
{
	uint32_t tag, len;
	struct xdr body;

	memset(r, 0, sizeof(*r));
	/* Each record takes at least 8 bytes, so a lying n runs out of bytes, not of time. */
	for (uint32_t i = 0; i < n; i++) {
		if (xdr_u32(x, &tag) < 0 || xdr_u32(x, &len) < 0)
			return -1;
		if (xdr_sub(x, len, &body) < 0)
			return -1;
		if (tag == SFLOW_REC_RAW && !r->raw.p)
			r->raw = body;
		else if (tag == SFLOW_REC_IP4 && !r->ip4.p)
			r->ip4 = body;
		else if (tag == SFLOW_REC_IP6 && !r->ip6.p)
			r->ip6 = body;
	}
	return 0;
}

/* Decodes a raw packet header record into o.
 * Returns 1 on success, 0 if the header protocol is not one we decode (the caller may fall back
 * to a sampled IPv4/IPv6 record), -2 if the packet is not IP (ARP, ...), or -1 if the record or
 * the packet in it is malformed. */
static int raw_parse(struct xdr rec, uint64_t now_ns, struct obs *o)
{
	uint32_t proto, frame_len, stripped, hdr_len, wire;
	enum decode_reason r;
	struct xdr hdr;

	if (xdr_u32(&rec, &proto) < 0 || xdr_u32(&rec, &frame_len) < 0 ||
	    xdr_u32(&rec, &stripped) < 0 || xdr_u32(&rec, &hdr_len) < 0)
		return -1;
	/* The XDR padding after the bytes is not required: only what we read must be there. */
	if (xdr_sub(&rec, hdr_len, &hdr) < 0)
		return -1;
	/* frame_length counts what was on the wire, FCS and encapsulations included; stripped
	 * counts what of it was removed before the header was taken. The difference is the length
	 * of the frame as it starts at hdr, which the decoder checks the IP length against. */
	if (stripped > frame_len)
		return -1;
	wire = frame_len - stripped;

	switch (proto) {
	case SFLOW_HDR_ETHERNET:
		r = decode_packet(LINK_ETHERNET, hdr.p, hdr_len, wire, now_ns, o, NULL);
		break;
	case SFLOW_HDR_IPV4:
	case SFLOW_HDR_IPV6:
		r = decode_ip(hdr.p, hdr_len, wire, now_ns, o, NULL);
		break;
	default:
		return 0;
	}
	if (r == DEC_NOT_IP)
		return -2;
	return r == DEC_OK ? 1 : -1;
}

/* Fills the port fields of an obs built from a sampled IPv4/IPv6 record (the agent decoded the
 * packet for us). The spec says "port number or equivalent"; for ICMP the equivalent is the type
 * in the source port word and the code in the destination port word (sflowtool's reading), and
 * obs wants type << 8 | code in dport. Other protocols carry no ports. */
static void sampled_l4(struct obs *o, uint32_t sport, uint32_t dport, uint32_t flags)
{
	o->sport = 0;
	o->dport = 0;
	o->tcp_flags = 0;
	o->l4 = 0;
	switch (o->proto) {
	case IPPROTO_TCP_:
		o->tcp_flags = (uint8_t)flags;
		/* fallthrough */
	case IPPROTO_UDP_:
		o->sport = (uint16_t)sport;
		o->dport = (uint16_t)dport;
		o->l4 = 1;
		break;
	case IPPROTO_ICMP_:
	case IPPROTO_ICMPV6_:
		o->dport = (uint16_t)((sport & 0xff) << 8 | (dport & 0xff));
		o->l4 = 1;
		break;
	default:
		break;
	}
}

/* Decodes a sampled_ipv4 (family 4) or sampled_ipv6 (family 6) record into o. TTL and fragment
 * state are not in these records: left 0 and "not a fragment".
 * Returns 0, or -1 if the record is short or its length or protocol is impossible. */
static int sampled_parse(struct xdr rec, int family, uint64_t now_ns, struct obs *o)
{
	uint32_t alen = family == 4 ? 4 : 16;
	uint32_t min_len = family == 4 ? 20 : 40;
	uint32_t max_len = family == 4 ? 65535 : UINT32_MAX; /* IPv6: jumbograms */
	const uint8_t *p = rec.p, *src, *dst, *l4;
	uint32_t len, proto;

	/* length, protocol, two addresses, then source port, destination port, TCP flags and
	 * tos/priority (not used): fixed offsets once the size is known */
	if (rec.len < 8 + 2 * alen + 16)
		return -1;
	len = rd32(p);
	proto = rd32(p + 4);
	src = p + 8;
	dst = p + 8 + alen;
	l4 = p + 8 + 2 * alen;
	if (len < min_len || len > max_len || proto > 255)
		return -1;

	memset(o, 0, sizeof(*o));
	o->family = (uint8_t)family;
	o->proto = (uint8_t)proto;
	if (family == 4) {
		maddr_from_v4(&o->src, src);
		maddr_from_v4(&o->dst, dst);
	} else {
		memcpy(o->src.b, src, 16);
		memcpy(o->dst.b, dst, 16);
	}
	o->len = len;
	o->bytes = len;
	o->packets = 1;
	o->ts_ns = now_ns;
	o->frag = OBS_FRAG_NONE;
	sampled_l4(o, rd32(l4), rd32(l4 + 4), rd32(l4 + 8));
	return 0;
}

/* Builds the obs of one flow sample from its records: the raw header when we can decode its
 * protocol, else sampled IPv4, else sampled IPv6. One sample is one packet, so one obs.
 * Returns 1 with *o filled, 0 if there is nothing to report (counted as ignored), -1 if the
 * record we picked is malformed. */
static int sample_obs(struct sctx *c, const struct recs *r, struct obs *o)
{
	int ret = 0;

	if (r->raw.p)
		ret = raw_parse(r->raw, c->now_ns, o);
	if (ret == 0 && r->ip4.p)
		ret = sampled_parse(r->ip4, 4, c->now_ns, o) < 0 ? -1 : 1;
	else if (ret == 0 && r->ip6.p)
		ret = sampled_parse(r->ip6, 6, c->now_ns, o) < 0 ? -1 : 1;
	if (ret == 0 || ret == -2) {
		c->ex->st.ignored++; /* no IP packet in this sample: not for us */
		return 0;
	}
	return ret;
}

/* Decodes one flow sample (compact or expanded format, x over its body) and emits its obs.
 * Returns 0 (emitted, or dropped and counted under the reason), or -1 if the sample is malformed
 * (the caller counts it and goes on with the next sample). */
static int flow_sample(struct sctx *c, struct xdr *x, bool expanded)
{
	uint32_t rate, n_rec, eff;
	struct recs r;
	struct obs o;
	int ret;

	/* sequence, source id (expanded: class and index) */
	if (xdr_skip(x, expanded ? 12 : 8) < 0 || xdr_u32(x, &rate) < 0)
		return -1;
	/* sample pool, drops, input, output (expanded: format and value of each) */
	if (xdr_skip(x, expanded ? 24 : 16) < 0 || xdr_u32(x, &n_rec) < 0)
		return -1;
	if (records_walk(x, n_rec, &r) < 0)
		return -1;

	eff = c->ex->sampling_override ? c->ex->sampling_override : rate;
	if (eff == 0 || eff > FLOW_MAX_SAMPLING) {
		c->ex->st.bad_sampling++;
		return 0;
	}
	ret = sample_obs(c, &r, &o);
	if (ret <= 0)
		return ret;

	/* A sample stands for eff packets like it; len is at most 2^32 and eff 2^24, so the
	 * product fits. */
	o.packets = eff;
	o.bytes = (uint64_t)o.len * eff;
	o.ts_ns = c->now_ns;
	c->ex->st.records++;
	c->emitted++;
	c->emit(c->arg, &o, c->now_ns, c->now_ns);
	return 0;
}

/* Decodes one sample of the datagram (x just past its tag). Returns 0, or -1 if the sample's
 * length runs past the datagram: nothing after it can be found. A malformed flow sample is
 * counted and skipped. */
static int sample_parse(struct sctx *c, struct xdr *x, uint32_t tag)
{
	uint32_t len;
	struct xdr body;

	if (xdr_u32(x, &len) < 0 || xdr_sub(x, len, &body) < 0)
		return -1;
	switch (tag) {
	case SFLOW_FLOW_SAMPLE:
	case SFLOW_FLOW_SAMPLE_EXP:
		if (flow_sample(c, &body, tag == SFLOW_FLOW_SAMPLE_EXP) < 0)
			c->ex->st.errors++;
		break;
	case SFLOW_COUNTER_SAMPLE:
	case SFLOW_COUNTER_SAMPLE_EXP:
		c->ex->st.counter_samples++;
		break;
	default:
		c->ex->st.ignored++; /* another enterprise or a format newer than us */
		break;
	}
	return 0;
}

int sflow_decode(const uint8_t *buf, size_t len, uint64_t now_ns, struct exporter *ex,
		 flow_emit_fn emit, void *arg)
{
	struct sctx c = {.ex = ex, .now_ns = now_ns, .emit = emit, .arg = arg};
	struct xdr x = {.p = buf, .len = len};
	uint32_t sub_agent, seq, n_samples, tag;

	if (header_parse(&x, &sub_agent, &seq, &n_samples) < 0) {
		ex->st.errors++;
		return -1;
	}
	ex->st.packets++;
	ex->st.last_seen_ns = now_ns;
	seq_track(ex, sub_agent, seq);

	/* Each sample takes at least 8 bytes, so a lying count runs out of bytes. Bytes after the
	 * last sample are ignored. */
	for (uint32_t i = 0; i < n_samples; i++) {
		if (xdr_u32(&x, &tag) < 0 || sample_parse(&c, &x, tag) < 0) {
			ex->st.errors++;
			break;
		}
	}
	return c.emitted;
}
