/* netflow: NetFlow v5, NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) export datagrams -> obs.
 *
 * One entry point, netflow_decode(), tells the three apart by the version field (5, 9, 10).
 *
 * Lengths. Every read is preceded by a check against the bytes left in the unit that encloses
 * it: datagram, set (FlowSet), record, field. A length that points past its parent is a lie, and
 * what we drop for it depends on where it was told:
 *   - datagram header (v5 count against the length, IPFIX length against the datagram): the
 *     whole datagram is rejected (-1, st.errors).
 *   - set header (length under 4 or past the datagram): the next set cannot be found, so the
 *     rest of the datagram is dropped (st.errors); records already emitted stay emitted.
 *   - inside a set (a template record cut short or unusable, a data record running past the
 *     set): the rest of that set is dropped (st.errors) and decoding goes on with the next set.
 * Bytes at the end of a set too short for one more record are padding (RFC 7011 3.3.1).
 *
 * Templates are kept per exporter in ex->tmpl, a compact array of at most FLOW_MAX_TEMPLATES
 * entries keyed by (source id / observation domain, template id) and searched linearly: O(n),
 * n <= 256, once per set rather than per record. A real exporter uses a handful of templates;
 * a hash would need an index in struct exporter and buys nothing at that size. A template not
 * refreshed for FLOW_TEMPLATE_TTL_S is dropped when next looked up, or when the table is full.
 * When the table is full of live templates a new one is refused (st.template_full) rather than
 * evicting one: anyone who can spoof the exporter's address could otherwise flush the real
 * templates with a flood of fake ones, while refusing keeps the working set; a router that
 * renumbers its templates gets room back when the old ones age out.
 *
 * Sampling, highest precedence first: ex->sampling_override (config), the rate a data record
 * carries itself (samplingInterval and friends), the rate of the sampler/selector it names
 * (learned from options data records), the exporter default (an options record naming no
 * sampler), 1. v5 takes its rate from the header. Rate 0 means unsampled; a rate above
 * FLOW_MAX_SAMPLING drops the record (st.bad_sampling).
 *
 * Time: first/last are nanoseconds since the epoch in the exporter's clock. v5 and v9 give
 * sysUptime milliseconds, placed against the header's (sysUptime, unix time) pair. IPFIX gives
 * absolute times, or sysUpTime-relative ones that need systemInitTimeMilliseconds (IE 160) from
 * an options record; without it, or with no time fields at all, both are the export time.
 */
#include <stdlib.h>
#include <string.h>

#include "flow/flow.h"

enum {
	V5_HLEN = 24,
	V5_RLEN = 48,
	V5_MAX_COUNT = 30,
	V9_HLEN = 20,
	IPFIX_HLEN = 16,
	SET_HLEN = 4,
	V9_SET_TEMPLATE = 0,
	V9_SET_OPTIONS = 1,
	IPFIX_SET_TEMPLATE = 2,
	IPFIX_SET_OPTIONS = 3,
	SET_DATA_MIN = 256, /* also the lowest template id */
	V9_OPT_HLEN = 6,    /* template id, scope length, option length */
	VARLEN = 65535,	    /* IPFIX variable-length field (RFC 7011 7) */
	VARLEN_LONG = 255,  /* first length byte announcing a 2-byte length */
	IE_ENTERPRISE = 0x8000,
	FRAG_OFFSET_MASK = 0x1fff,
	FRAGF_MF = 0x20, /* fragmentFlags: bit 2 counted from the most significant (RFC 5102) */
};

#define NS_PER_S	1000000000ull
#define NS_PER_MS	1000000ull
#define NS_PER_US	1000ull
#define NTP_UNIX_OFFSET 2208988800ull /* seconds from 1900-01-01 (NTP era 0) to 1970-01-01 */
#define TEMPLATE_TTL_NS ((uint64_t)FLOW_TEMPLATE_TTL_S * NS_PER_S)

/* IANA IPFIX information element ids (NetFlow v9 uses the same numbers below 128). */
enum ie {
	IE_OCTETS = 1,
	IE_PACKETS = 2,
	IE_PROTO = 4,
	IE_TOS = 5,
	IE_TCP_FLAGS = 6,
	IE_SPORT = 7,
	IE_SRC4 = 8,
	IE_DPORT = 11,
	IE_DST4 = 12,
	IE_LAST_UP = 21,  /* flowEndSysUpTime, v9 LAST_SWITCHED */
	IE_FIRST_UP = 22, /* flowStartSysUpTime, v9 FIRST_SWITCHED */
	IE_SRC6 = 27,
	IE_DST6 = 28,
	IE_ICMP4 = 32, /* icmpTypeCodeIPv4: type << 8 | code */
	IE_SAMPLING_INTERVAL = 34,
	IE_SAMPLING_ALGORITHM = 35,
	IE_SAMPLER_ID = 48,
	IE_SAMPLER_MODE = 49,
	IE_SAMPLER_RANDOM_INTERVAL = 50,
	IE_MIN_TTL = 52,
	IE_MAX_TTL = 53,
	IE_OCTETS_TOTAL = 85,
	IE_PACKETS_TOTAL = 86,
	IE_FRAG_OFFSET = 88,
	IE_ICMP6 = 139,
	IE_START_S = 150,
	IE_END_S = 151,
	IE_START_MS = 152,
	IE_END_MS = 153,
	IE_START_US = 154, /* NTP format */
	IE_END_US = 155,
	IE_START_NS = 156, /* NTP format */
	IE_END_NS = 157,
	IE_START_DELTA_US = 158, /* microseconds before the export time */
	IE_END_DELTA_US = 159,
	IE_SYSINIT_MS = 160,
	IE_ICMP_TYPE4 = 176,
	IE_ICMP_CODE4 = 177,
	IE_ICMP_TYPE6 = 178,
	IE_ICMP_CODE6 = 179,
	IE_TTL = 192,
	IE_FRAG_FLAGS = 197,
	IE_SELECTOR_ID = 302,
	IE_SELECTOR_ALGORITHM = 304,
	IE_PKT_INTERVAL = 305,
	IE_PKT_SPACE = 306,
	IE_SAMPLING_SIZE = 309,
	IE_SAMPLING_POPULATION = 310,
	IE_SAMPLING_PROBABILITY = 311,
};

/* How a known information element is encoded, for checking template field lengths. */
enum ie_kind {
	K_UNKNOWN, /* skipped: any length */
	K_UINT,	   /* unsigned integer, reduced-size encoding allowed: 1..8 bytes */
	K_ADDR4,
	K_ADDR6,
	K_NTP,	 /* dateTimeMicro/Nanoseconds: 8 bytes */
	K_FLOAT, /* float64, or float32 by reduced-size encoding */
};

/* Which fields a record carried (struct rec.have). H_FIRST/H_LAST: first_ns/last_ns hold absolute
 * times; H_FIRST_UP/H_LAST_UP: first_up/last_up hold sysUptime milliseconds. */
#define H_OCTETS	  (1ull << 0)
#define H_PACKETS	  (1ull << 1)
#define H_OCTETS_TOTAL	  (1ull << 2)
#define H_PACKETS_TOTAL	  (1ull << 3)
#define H_SRC4		  (1ull << 4)
#define H_DST4		  (1ull << 5)
#define H_SRC6		  (1ull << 6)
#define H_DST6		  (1ull << 7)
#define H_PROTO		  (1ull << 8)
#define H_SPORT		  (1ull << 9)
#define H_DPORT		  (1ull << 10)
#define H_TCP_FLAGS	  (1ull << 11)
#define H_TTL		  (1ull << 12)
#define H_MIN_TTL	  (1ull << 13)
#define H_MAX_TTL	  (1ull << 14)
#define H_ICMP4		  (1ull << 15)
#define H_ICMP6		  (1ull << 16)
#define H_ICMP_TYPE	  (1ull << 17)
#define H_ICMP_CODE	  (1ull << 18)
#define H_FRAG_OFFSET	  (1ull << 19)
#define H_FRAG_FLAGS	  (1ull << 20)
#define H_FIRST		  (1ull << 21)
#define H_LAST		  (1ull << 22)
#define H_FIRST_UP	  (1ull << 23)
#define H_LAST_UP	  (1ull << 24)
#define H_SYSINIT	  (1ull << 25)
#define H_SAMPLER	  (1ull << 26)
#define H_INTERVAL	  (1ull << 27)
#define H_RANDOM_INTERVAL (1ull << 28)
#define H_PKT_INTERVAL	  (1ull << 29)
#define H_PKT_SPACE	  (1ull << 30)
#define H_SIZE		  (1ull << 31)
#define H_POPULATION	  (1ull << 32)
#define H_PROBABILITY	  (1ull << 33)
#define H_ADDR4		  (H_SRC4 | H_DST4)
#define H_ADDR6		  (H_SRC6 | H_DST6)

/* One data or options record as read from the wire. Only the members whose H_ bit is set in
 * `have` are meaningful: the rest is left over from earlier records, never cleared, since a
 * memset per record would cost more than the decoding. */
struct rec {
	uint64_t have;
	uint64_t octets, packets, octets_total, packets_total;
	uint64_t first_ns, last_ns;
	uint64_t sysinit_ms;
	uint64_t sampler;
	uint64_t interval, random_interval, pkt_interval, pkt_space, size, population;
	double probability;
	uint32_t first_up, last_up;
	uint16_t sport, dport, icmp4, icmp6, frag_offset;
	uint8_t src4[4], dst4[4], src6[16], dst6[16];
	uint8_t proto, tcp_flags, ttl, min_ttl, max_ttl, icmp_type, icmp_code, frag_flags;
};

/* What one call of netflow_decode works with. */
struct nf_ctx {
	struct exporter *ex;
	flow_emit_fn emit;
	void *arg;
	uint64_t now_ns;
	uint64_t export_ns; /* header clock: v5 unix time, v9 unix_secs, IPFIX export time */
	uint32_t uptime_ms; /* header sysUptime (v5, v9) */
	uint32_t domain;    /* v9 source id, IPFIX observation domain */
	uint8_t ipfix;
	uint8_t uncounted; /* a data set we could not count: IPFIX sequence unknown */
	uint32_t n_data;   /* data records framed; IPFIX sequence numbers count them */
	int n_emitted;
};

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) << 32 | rd32(p + 4);
}

/* An unsigned integer of 1..8 bytes, big-endian: reduced-size encoding (RFC 7011 6.2) means any
 * integer element may arrive shorter than its type. The caller has checked l. */
static inline uint64_t rd_uint(const uint8_t *p, size_t l)
{
	uint64_t v = 0;
	size_t i;

	switch (l) {
	case 1:
		return p[0];
	case 2:
		return rd16(p);
	case 4:
		return rd32(p);
	case 8:
		return rd64(p);
	}
	for (i = 0; i < l; i++)
		v = v << 8 | p[i];
	return v;
}

/* float32 or float64 (the caller has checked l is 4 or 8), as a double. */
static double rd_float(const uint8_t *p, size_t l)
{
	uint32_t u32;
	uint64_t u64;
	float f;
	double d;

	if (l == 4) {
		u32 = rd32(p);
		memcpy(&f, &u32, sizeof(f));
		return f;
	}
	u64 = rd64(p);
	memcpy(&d, &u64, sizeof(d));
	return d;
}

static inline uint64_t sat_mul(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

static inline uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

static inline uint64_t sat_sub(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/* NTP timestamp (32-bit seconds since 1900, 32-bit fraction) -> ns since 1970. Seconds below
 * the 1970 offset are read as NTP era 1 (from 2036), as RFC 5905 does. */
static uint64_t ntp_ns(uint64_t v)
{
	uint64_t s = v >> 32, frac = v & 0xffffffffu;

	s = s >= NTP_UNIX_OFFSET ? s - NTP_UNIX_OFFSET : s + (1ull << 32) - NTP_UNIX_OFFSET;
	return s * NS_PER_S + ((frac * NS_PER_S) >> 32);
}

/* ---- templates ---------------------------------------------------------------------------- */

/* Allocates the template array on the first template. Returns 0, or -1 if out of memory. */
static int tmpl_alloc(struct exporter *ex)
{
	if (ex->tmpl)
		return 0;
	ex->tmpl = calloc(FLOW_MAX_TEMPLATES, sizeof(*ex->tmpl));
	ex->n_tmpl = 0;
	return ex->tmpl ? 0 : -1;
}

static void tmpl_remove(struct exporter *ex, uint32_t i)
{
	/* keep the array compact: the last entry fills the hole */
	if (i != ex->n_tmpl - 1)
		memcpy(&ex->tmpl[i], &ex->tmpl[ex->n_tmpl - 1], sizeof(ex->tmpl[i]));
	ex->n_tmpl--;
}

static bool tmpl_expired(const struct flow_template *t, uint64_t now_ns)
{
	return now_ns > t->refreshed_ns && now_ns - t->refreshed_ns > TEMPLATE_TTL_NS;
}

/* Index of template (domain, id), or -1 if we do not have it. */
static int tmpl_index(const struct exporter *ex, uint32_t domain, uint16_t id)
{
	uint32_t i;

	for (i = 0; i < ex->n_tmpl; i++)
		if (ex->tmpl[i].id == id && ex->tmpl[i].domain == domain)
			return (int)i;
	return -1;
}

/* The live template for a data set, or NULL (absent, or expired and dropped now). */
static const struct flow_template *tmpl_lookup(struct nf_ctx *c, uint16_t id)
{
	struct exporter *ex = c->ex;
	int i;

	if (!ex->tmpl || (i = tmpl_index(ex, c->domain, id)) < 0)
		return NULL;
	if (tmpl_expired(&ex->tmpl[i], c->now_ns)) {
		tmpl_remove(ex, (uint32_t)i);
		return NULL;
	}
	return &ex->tmpl[i];
}

static void tmpl_expire_all(struct exporter *ex, uint64_t now_ns)
{
	uint32_t i = 0;

	while (i < ex->n_tmpl) {
		if (tmpl_expired(&ex->tmpl[i], now_ns))
			tmpl_remove(ex, i); /* the moved-in entry is checked next */
		else
			i++;
	}
}

/* Stores a parsed template, or refreshes (and redefines) the one with its key. A refusal is
 * counted in st.template_full: the table is full of live templates, or could not be allocated. */
static void tmpl_store(struct nf_ctx *c, struct flow_template *nt)
{
	struct exporter *ex = c->ex;
	int i;

	if (tmpl_alloc(ex) < 0) {
		ex->st.template_full++;
		return;
	}
	i = tmpl_index(ex, nt->domain, nt->id);
	if (i < 0 && ex->n_tmpl >= FLOW_MAX_TEMPLATES)
		tmpl_expire_all(ex, c->now_ns);
	if (i < 0 && ex->n_tmpl >= FLOW_MAX_TEMPLATES) {
		ex->st.template_full++;
		return;
	}
	if (i < 0)
		i = (int)ex->n_tmpl++;
	nt->used = 1;
	nt->refreshed_ns = c->now_ns;
	/* only the fields in use: a template is mostly its unused field array */
	memcpy(&ex->tmpl[i], nt,
	       offsetof(struct flow_template, f) + nt->n_fields * sizeof(nt->f[0]));
	ex->st.templates++;
}

/* IPFIX template withdrawal (RFC 7011 8.1): id names one template, or is the set id itself (2 or
 * 3) to withdraw every template (or options template) of the domain. Returns 0, or -1 if id is
 * neither. Withdrawing a template we do not have is not an error: it may have aged out. */
static int tmpl_withdraw(struct nf_ctx *c, uint16_t id, uint16_t set_id)
{
	struct exporter *ex = c->ex;
	uint8_t options = set_id == IPFIX_SET_OPTIONS;
	uint32_t i = 0;
	int k;

	if (id != set_id && id < SET_DATA_MIN)
		return -1;
	if (!ex->tmpl)
		return 0;
	if (id >= SET_DATA_MIN) {
		if ((k = tmpl_index(ex, c->domain, id)) >= 0)
			tmpl_remove(ex, (uint32_t)k);
		return 0;
	}
	while (i < ex->n_tmpl) {
		if (ex->tmpl[i].domain == c->domain && ex->tmpl[i].options == options)
			tmpl_remove(ex, i);
		else
			i++;
	}
	return 0;
}

static enum ie_kind ie_kind(uint16_t type)
{
	switch (type) {
	case IE_SRC4:
	case IE_DST4:
		return K_ADDR4;
	case IE_SRC6:
	case IE_DST6:
		return K_ADDR6;
	case IE_START_US:
	case IE_END_US:
	case IE_START_NS:
	case IE_END_NS:
		return K_NTP;
	case IE_SAMPLING_PROBABILITY:
		return K_FLOAT;
	case IE_OCTETS:
	case IE_PACKETS:
	case IE_PROTO:
	case IE_TOS:
	case IE_TCP_FLAGS:
	case IE_SPORT:
	case IE_DPORT:
	case IE_LAST_UP:
	case IE_FIRST_UP:
	case IE_ICMP4:
	case IE_SAMPLING_INTERVAL:
	case IE_SAMPLING_ALGORITHM:
	case IE_SAMPLER_ID:
	case IE_SAMPLER_MODE:
	case IE_SAMPLER_RANDOM_INTERVAL:
	case IE_MIN_TTL:
	case IE_MAX_TTL:
	case IE_OCTETS_TOTAL:
	case IE_PACKETS_TOTAL:
	case IE_FRAG_OFFSET:
	case IE_ICMP6:
	case IE_START_S:
	case IE_END_S:
	case IE_START_MS:
	case IE_END_MS:
	case IE_START_DELTA_US:
	case IE_END_DELTA_US:
	case IE_SYSINIT_MS:
	case IE_ICMP_TYPE4:
	case IE_ICMP_CODE4:
	case IE_ICMP_TYPE6:
	case IE_ICMP_CODE6:
	case IE_TTL:
	case IE_FRAG_FLAGS:
	case IE_SELECTOR_ID:
	case IE_SELECTOR_ALGORITHM:
	case IE_PKT_INTERVAL:
	case IE_PKT_SPACE:
	case IE_SAMPLING_SIZE:
	case IE_SAMPLING_POPULATION:
		return K_UINT;
	}
	return K_UNKNOWN;
}

/* Whether a field specifier can be decoded: an element we read must come in a length its type
 * allows, fixed (an integer or address sent as variable-length is meaningless). Unknown and
 * enterprise elements are skipped whatever their length, 0 included. Returns true if usable. */
static bool field_ok(uint16_t type, uint32_t pen, uint16_t len, bool ipfix)
{
	enum ie_kind k = pen ? K_UNKNOWN : ie_kind(type);

	if (len == VARLEN)
		return ipfix && k == K_UNKNOWN; /* v9 has no variable-length fields */
	switch (k) {
	case K_UNKNOWN:
		return true;
	case K_UINT:
		return len >= 1 && len <= 8;
	case K_ADDR4:
		return len == 4;
	case K_ADDR6:
		return len == 16;
	case K_NTP:
		return len == 8;
	case K_FLOAT:
		return len == 4 || len == 8;
	}
	return false;
}

/* Reads n field specifiers (type, length and, IPFIX enterprise elements, a PEN) from p into t,
 * and sums min_len. The first `unchecked` are v9 options scope fields, whose types are scope
 * kinds rather than elements and which data decoding skips. Returns the bytes read, or -1 if
 * they run past avail, a field is unusable, or no record of the template could fit a datagram
 * or make progress (min_len 0). */
static long tmpl_fields(const uint8_t *p, size_t avail, uint16_t n, uint16_t unchecked, bool ipfix,
			struct flow_template *t)
{
	size_t off = 0;
	int64_t min_len = 0;
	uint16_t i, type, len;
	uint32_t pen;

	if (n == 0 || n > FLOW_MAX_TEMPLATE_FIELDS)
		return -1;
	for (i = 0; i < n; i++) {
		if (avail - off < 4)
			return -1;
		type = rd16(p + off);
		len = rd16(p + off + 2);
		off += 4;
		pen = 0;
		if (ipfix && (type & IE_ENTERPRISE)) {
			if (avail - off < 4)
				return -1;
			type &= ~IE_ENTERPRISE;
			pen = rd32(p + off);
			off += 4;
		}
		if (i >= unchecked && !field_ok(type, pen, len, ipfix))
			return -1;
		t->f[i].type = type;
		t->f[i].len = len;
		t->f[i].pen = pen;
		min_len += len == VARLEN ? 1 : len;
	}
	if (min_len == 0 || min_len > UINT16_MAX)
		return -1;
	t->n_fields = n;
	t->min_len = (int32_t)min_len;
	return (long)off;
}

/* A template set: v9 FlowSet 0, IPFIX Set 2 (templates) or 3 (options templates, which add a
 * scope field count). Stores each template record. Returns 0, or -1 if a record is malformed
 * (the rest of the set is dropped; templates before it stay). */
static int template_set(struct nf_ctx *c, uint16_t set_id, const uint8_t *p, size_t n)
{
	bool options = c->ipfix && set_id == IPFIX_SET_OPTIONS;
	size_t hlen = options ? 6 : 4, off = 0;
	struct flow_template nt;
	uint16_t id, cnt, scope = 0;
	long k;

	while (n - off >= 4) {
		id = rd16(p + off);
		cnt = rd16(p + off + 2);
		if (id == 0 && cnt == 0)
			break; /* zero padding */
		if (c->ipfix && cnt == 0) {
			if (tmpl_withdraw(c, id, set_id) < 0)
				return -1;
			off += 4;
			continue;
		}
		if (id < SET_DATA_MIN || n - off < hlen)
			return -1;
		if (options) {
			scope = rd16(p + off + 4);
			if (scope == 0 || scope > cnt) /* RFC 7011 3.4.2.2: at least one */
				return -1;
		}
		off += hlen;
		k = tmpl_fields(p + off, n - off, cnt, 0, c->ipfix, &nt);
		if (k < 0)
			return -1;
		off += (size_t)k;
		nt.domain = c->domain;
		nt.id = id;
		nt.options = options;
		nt.scope_fields = scope;
		tmpl_store(c, &nt);
	}
	return 0;
}

/* A v9 options template FlowSet (RFC 3954 6.1): template id, scope and option lengths in bytes,
 * the scope fields (System, Interface, ... with their lengths), then option fields, then
 * padding. Returns 0, or -1 if a record is malformed. */
static int v9_options_set(struct nf_ctx *c, const uint8_t *p, size_t n)
{
	struct flow_template nt;
	uint16_t id, slen, olen;
	size_t off = 0;
	long k;

	while (n - off >= V9_OPT_HLEN) {
		id = rd16(p + off);
		slen = rd16(p + off + 2);
		olen = rd16(p + off + 4);
		if (id == 0 && slen == 0 && olen == 0)
			break; /* zero padding */
		if (id < SET_DATA_MIN || slen % 4 || olen % 4)
			return -1;
		off += V9_OPT_HLEN;
		k = tmpl_fields(p + off, n - off, (uint16_t)((slen + olen) / 4), slen / 4, false,
				&nt);
		if (k < 0)
			return -1;
		off += (size_t)k;
		nt.domain = c->domain;
		nt.id = id;
		nt.options = 1;
		nt.scope_fields = slen / 4;
		tmpl_store(c, &nt);
	}
	return 0;
}

/* ---- records ------------------------------------------------------------------------------ */

/* Reads one known element into r. The template check guaranteed l fits the element's kind. */
static inline void rec_field(const struct nf_ctx *c, uint16_t type, const uint8_t *p, size_t l,
			     struct rec *r)
{
	switch (type) {
	case IE_OCTETS:
		r->octets = rd_uint(p, l);
		r->have |= H_OCTETS;
		break;
	case IE_PACKETS:
		r->packets = rd_uint(p, l);
		r->have |= H_PACKETS;
		break;
	case IE_OCTETS_TOTAL:
		r->octets_total = rd_uint(p, l);
		r->have |= H_OCTETS_TOTAL;
		break;
	case IE_PACKETS_TOTAL:
		r->packets_total = rd_uint(p, l);
		r->have |= H_PACKETS_TOTAL;
		break;
	case IE_SRC4:
		memcpy(r->src4, p, 4);
		r->have |= H_SRC4;
		break;
	case IE_DST4:
		memcpy(r->dst4, p, 4);
		r->have |= H_DST4;
		break;
	case IE_SRC6:
		memcpy(r->src6, p, 16);
		r->have |= H_SRC6;
		break;
	case IE_DST6:
		memcpy(r->dst6, p, 16);
		r->have |= H_DST6;
		break;
	case IE_PROTO:
		r->proto = (uint8_t)rd_uint(p, l);
		r->have |= H_PROTO;
		break;
	case IE_SPORT:
		r->sport = (uint16_t)rd_uint(p, l);
		r->have |= H_SPORT;
		break;
	case IE_DPORT:
		r->dport = (uint16_t)rd_uint(p, l);
		r->have |= H_DPORT;
		break;
	case IE_TCP_FLAGS:
		/* 2 bytes (RFC 7125): the classic flags are the low 8 bits */
		r->tcp_flags = (uint8_t)rd_uint(p, l);
		r->have |= H_TCP_FLAGS;
		break;
	case IE_TTL:
		r->ttl = (uint8_t)rd_uint(p, l);
		r->have |= H_TTL;
		break;
	case IE_MIN_TTL:
		r->min_ttl = (uint8_t)rd_uint(p, l);
		r->have |= H_MIN_TTL;
		break;
	case IE_MAX_TTL:
		r->max_ttl = (uint8_t)rd_uint(p, l);
		r->have |= H_MAX_TTL;
		break;
	case IE_ICMP4:
		r->icmp4 = (uint16_t)rd_uint(p, l);
		r->have |= H_ICMP4;
		break;
	case IE_ICMP6:
		r->icmp6 = (uint16_t)rd_uint(p, l);
		r->have |= H_ICMP6;
		break;
	case IE_ICMP_TYPE4:
	case IE_ICMP_TYPE6:
		r->icmp_type = (uint8_t)rd_uint(p, l);
		r->have |= H_ICMP_TYPE;
		break;
	case IE_ICMP_CODE4:
	case IE_ICMP_CODE6:
		r->icmp_code = (uint8_t)rd_uint(p, l);
		r->have |= H_ICMP_CODE;
		break;
	case IE_FRAG_OFFSET:
		r->frag_offset = (uint16_t)rd_uint(p, l);
		r->have |= H_FRAG_OFFSET;
		break;
	case IE_FRAG_FLAGS:
		r->frag_flags = (uint8_t)rd_uint(p, l);
		r->have |= H_FRAG_FLAGS;
		break;
	case IE_FIRST_UP:
		r->first_up = (uint32_t)rd_uint(p, l);
		r->have |= H_FIRST_UP;
		break;
	case IE_LAST_UP:
		r->last_up = (uint32_t)rd_uint(p, l);
		r->have |= H_LAST_UP;
		break;
	case IE_START_S:
		r->first_ns = sat_mul(rd_uint(p, l), NS_PER_S);
		r->have |= H_FIRST;
		break;
	case IE_END_S:
		r->last_ns = sat_mul(rd_uint(p, l), NS_PER_S);
		r->have |= H_LAST;
		break;
	case IE_START_MS:
		r->first_ns = sat_mul(rd_uint(p, l), NS_PER_MS);
		r->have |= H_FIRST;
		break;
	case IE_END_MS:
		r->last_ns = sat_mul(rd_uint(p, l), NS_PER_MS);
		r->have |= H_LAST;
		break;
	case IE_START_US:
		/* RFC 7011 6.1.9: the 11 low fraction bits of microseconds are ignored */
		r->first_ns = ntp_ns(rd64(p) & ~0x7ffull);
		r->have |= H_FIRST;
		break;
	case IE_END_US:
		r->last_ns = ntp_ns(rd64(p) & ~0x7ffull);
		r->have |= H_LAST;
		break;
	case IE_START_NS:
		r->first_ns = ntp_ns(rd64(p));
		r->have |= H_FIRST;
		break;
	case IE_END_NS:
		r->last_ns = ntp_ns(rd64(p));
		r->have |= H_LAST;
		break;
	case IE_START_DELTA_US:
		r->first_ns = sat_sub(c->export_ns, sat_mul(rd_uint(p, l), NS_PER_US));
		r->have |= H_FIRST;
		break;
	case IE_END_DELTA_US:
		r->last_ns = sat_sub(c->export_ns, sat_mul(rd_uint(p, l), NS_PER_US));
		r->have |= H_LAST;
		break;
	case IE_SYSINIT_MS:
		r->sysinit_ms = rd_uint(p, l);
		r->have |= H_SYSINIT;
		break;
	case IE_SAMPLER_ID:
	case IE_SELECTOR_ID:
		r->sampler = rd_uint(p, l);
		r->have |= H_SAMPLER;
		break;
	case IE_SAMPLING_INTERVAL:
		r->interval = rd_uint(p, l);
		r->have |= H_INTERVAL;
		break;
	case IE_SAMPLER_RANDOM_INTERVAL:
		r->random_interval = rd_uint(p, l);
		r->have |= H_RANDOM_INTERVAL;
		break;
	case IE_PKT_INTERVAL:
		r->pkt_interval = rd_uint(p, l);
		r->have |= H_PKT_INTERVAL;
		break;
	case IE_PKT_SPACE:
		r->pkt_space = rd_uint(p, l);
		r->have |= H_PKT_SPACE;
		break;
	case IE_SAMPLING_SIZE:
		r->size = rd_uint(p, l);
		r->have |= H_SIZE;
		break;
	case IE_SAMPLING_POPULATION:
		r->population = rd_uint(p, l);
		r->have |= H_POPULATION;
		break;
	case IE_SAMPLING_PROBABILITY:
		r->probability = rd_float(p, l);
		r->have |= H_PROBABILITY;
		break;
	}
	/* samplingAlgorithm, samplerMode, selectorAlgorithm: the rate fields present say enough */
}

/* Reads one record of template t from p (n bytes left in the set) into r. v9 options scope
 * fields are skipped: their types are scope kinds, not elements. Returns the record's length,
 * or -1 if it runs past the set. */
static long rec_parse(const struct nf_ctx *c, const struct flow_template *t, const uint8_t *p,
		      size_t n, struct rec *r)
{
	uint16_t i, skip = !c->ipfix && t->options ? t->scope_fields : 0;
	size_t off = 0, l;

	r->have = 0;
	for (i = 0; i < t->n_fields; i++) {
		const struct tfield *f = &t->f[i];

		l = f->len;
		if (l == VARLEN) {
			if (off >= n)
				return -1;
			l = p[off++];
			if (l == VARLEN_LONG) {
				if (n - off < 2)
					return -1;
				l = rd16(p + off);
				off += 2;
			}
		}
		if (n - off < l)
			return -1;
		if (f->pen == 0 && i >= skip)
			rec_field(c, f->type, p + off, l, r);
		off += l;
	}
	return (long)off;
}

/* The sampling rate a record announces about itself (or, for an options record, about its
 * sampler). Returns true and sets *rate (0: announced as unsampled) if it carries one. */
static bool rec_rate(const struct rec *r, uint64_t *rate)
{
	uint64_t i, s;

	if (r->have & H_INTERVAL) {
		*rate = r->interval;
	} else if (r->have & H_RANDOM_INTERVAL) {
		*rate = r->random_interval;
	} else if (r->have & H_PKT_INTERVAL) {
		/* select `interval` packets, skip `space`: 1 in (interval + space) / interval */
		i = r->pkt_interval;
		s = r->have & H_PKT_SPACE ? r->pkt_space : 0;
		*rate = i ? sat_add(sat_add(i, s), i / 2) / i : 0;
	} else if ((r->have & H_SIZE) && (r->have & H_POPULATION)) {
		*rate = r->size ? sat_add(r->population, r->size / 2) / r->size : 0;
	} else if (r->have & H_PROBABILITY) {
		/* NaN and values outside (0, 1] fail the first test: unsampled */
		if (!(r->probability > 0 && r->probability <= 1))
			*rate = 0;
		else if (r->probability < 1.0 / UINT32_MAX)
			*rate = UINT32_MAX;
		else
			*rate = (uint64_t)(1.0 / r->probability + 0.5);
	} else {
		return false;
	}
	return true;
}

static bool sampler_find(const struct exporter *ex, uint32_t domain, uint32_t id, uint64_t *rate)
{
	uint32_t i;

	for (i = 0; i < ex->n_samplers && i < FLOW_MAX_SAMPLERS; i++) {
		if (ex->samplers[i].id == id && ex->samplers[i].domain == domain) {
			*rate = ex->samplers[i].rate;
			return true;
		}
	}
	return false;
}

/* Sets a sampler's rate. Returns 0, or -1 if the table is full (FLOW_MAX_SAMPLERS). */
static int sampler_set(struct exporter *ex, uint32_t domain, uint32_t id, uint32_t rate)
{
	uint32_t i;

	for (i = 0; i < ex->n_samplers && i < FLOW_MAX_SAMPLERS; i++) {
		if (ex->samplers[i].id == id && ex->samplers[i].domain == domain) {
			ex->samplers[i].rate = rate;
			return 0;
		}
	}
	if (ex->n_samplers >= FLOW_MAX_SAMPLERS)
		return -1;
	ex->samplers[ex->n_samplers].domain = domain;
	ex->samplers[ex->n_samplers].id = id;
	ex->samplers[ex->n_samplers].rate = rate;
	ex->n_samplers++;
	return 0;
}

/* An options data record: what we use of it is the sampling rate (of its sampler or selector,
 * or of the whole exporter when it names none) and systemInitTimeMilliseconds. Anything else
 * is counted as ignored. Sampler ids are kept as their low 32 bits. */
static void options_record(struct nf_ctx *c, const struct rec *r)
{
	struct exporter *ex = c->ex;
	bool used = false;
	uint64_t rate;
	uint32_t r32;

	if (r->have & H_SYSINIT) {
		ex->sys_init_ms = r->sysinit_ms;
		ex->sys_init_valid = 1;
		used = true;
	}
	if (rec_rate(r, &rate)) {
		r32 = rate > UINT32_MAX ? UINT32_MAX : (uint32_t)rate;
		if (!(r->have & H_SAMPLER)) {
			ex->default_sampling = r32;
			used = true;
		} else if (sampler_set(ex, c->domain, (uint32_t)r->sampler, r32) == 0) {
			used = true;
		}
	}
	if (!used)
		ex->st.ignored++;
}

/* Absolute ns for a sysUptime-relative time x. v5/v9: against the header's (sysUptime, unix
 * time) pair; the difference is signed so a router uptime that wrapped (49.7 days) between
 * flow and export still works. IPFIX: systemInitTimeMilliseconds + x, from the record or the
 * exporter's options. Returns false if IPFIX and the init time is unknown. */
static bool uptime_ns(const struct nf_ctx *c, const struct rec *r, uint32_t x, uint64_t *ns)
{
	int64_t ago;

	if (!c->ipfix) {
		ago = (int32_t)(c->uptime_ms - x);
		*ns = ago >= 0 ? sat_sub(c->export_ns, (uint64_t)ago * NS_PER_MS)
			       : sat_add(c->export_ns, (uint64_t)-ago * NS_PER_MS);
		return true;
	}
	if (r->have & H_SYSINIT) {
		*ns = sat_mul(sat_add(r->sysinit_ms, x), NS_PER_MS);
		return true;
	}
	if (c->ex->sys_init_valid) {
		*ns = sat_mul(sat_add(c->ex->sys_init_ms, x), NS_PER_MS);
		return true;
	}
	return false;
}

/* first/last of a record, with first <= last. A missing end is the other end; no usable time
 * at all is the export time. */
static void rec_times(const struct nf_ctx *c, const struct rec *r, uint64_t *first, uint64_t *last)
{
	bool hf = false, hl = false;
	uint64_t f = 0, l = 0;

	if (r->have & H_FIRST) {
		f = r->first_ns;
		hf = true;
	} else if (r->have & H_FIRST_UP) {
		hf = uptime_ns(c, r, r->first_up, &f);
	}
	if (r->have & H_LAST) {
		l = r->last_ns;
		hl = true;
	} else if (r->have & H_LAST_UP) {
		hl = uptime_ns(c, r, r->last_up, &l);
	}
	if (!hf && !hl)
		f = l = c->export_ns;
	else if (!hf)
		f = l;
	else if (!hl)
		l = f;
	*first = f < l ? f : l;
	*last = l;
}

/* Addresses and family. Templates that list both families leave the unused one zero, so v4
 * wins unless its addresses are zero and v6 ones are present. Returns false if no addresses. */
static bool rec_addrs(const struct rec *r, struct obs *o)
{
	static const uint8_t zero[16];
	const uint8_t *s4 = r->have & H_SRC4 ? r->src4 : zero,
		      *d4 = r->have & H_DST4 ? r->dst4 : zero;
	bool v4 = r->have & H_ADDR4, v6 = r->have & H_ADDR6;

	if (v4 && v6 && !memcmp(s4, zero, 4) && !memcmp(d4, zero, 4))
		v4 = false;
	if (v4) {
		maddr_from_v4(&o->src, s4);
		maddr_from_v4(&o->dst, d4);
		o->family = 4;
		return true;
	}
	if (!v6)
		return false;
	memcpy(o->src.b, r->have & H_SRC6 ? r->src6 : zero, 16);
	memcpy(o->dst.b, r->have & H_DST6 ? r->dst6 : zero, 16);
	o->family = 6;
	return true;
}

/* Fragment state, ports, ICMP type/code and TCP flags; o->proto is set, the rest zero. */
static void rec_l4(const struct rec *r, struct obs *o)
{
	if ((r->have & H_FRAG_OFFSET) && (r->frag_offset & FRAG_OFFSET_MASK))
		o->frag = OBS_FRAG_LATER;
	else if ((r->have & H_FRAG_FLAGS) && (r->frag_flags & FRAGF_MF))
		o->frag = OBS_FRAG_FIRST;
	if (o->frag == OBS_FRAG_LATER)
		return; /* a flow of non-first fragments carries no L4 header */

	switch (o->proto) {
	case IPPROTO_TCP_:
		if (r->have & H_TCP_FLAGS)
			o->tcp_flags = r->tcp_flags;
		/* fall through */
	case IPPROTO_UDP_:
		if (r->have & (H_SPORT | H_DPORT)) {
			o->sport = r->have & H_SPORT ? r->sport : 0;
			o->dport = r->have & H_DPORT ? r->dport : 0;
			o->l4 = 1;
		}
		break;
	case IPPROTO_ICMP_:
	case IPPROTO_ICMPV6_:
		o->l4 = 1;
		if ((r->have & H_ICMP4) && (o->proto == IPPROTO_ICMP_ || !(r->have & H_ICMP6)))
			o->dport = r->icmp4;
		else if (r->have & H_ICMP6)
			o->dport = r->icmp6;
		else if (r->have & H_ICMP_TYPE)
			o->dport = (uint16_t)(r->icmp_type << 8 |
					      (r->have & H_ICMP_CODE ? r->icmp_code : 0));
		else if (r->have & H_DPORT)
			o->dport = r->dport; /* v5 and many v9 exporters: type << 8 | code */
		else
			o->l4 = 0;
		break;
	}
}

/* Builds the obs of a data record and emits it, packets and bytes scaled by rate (1 ..
 * FLOW_MAX_SAMPLING). Records without addresses or with no packets are counted as ignored. */
static void rec_emit(struct nf_ctx *c, const struct rec *r, uint64_t rate)
{
	struct obs o;
	uint64_t pk, oc, first, last;

	memset(&o, 0, sizeof(o));
	pk = r->have & H_PACKETS ? r->packets : r->have & H_PACKETS_TOTAL ? r->packets_total : 0;
	if (pk == 0 || !rec_addrs(r, &o)) {
		c->ex->st.ignored++;
		return;
	}
	oc = r->have & H_OCTETS ? r->octets : r->have & H_OCTETS_TOTAL ? r->octets_total : 0;
	o.proto = r->have & H_PROTO ? r->proto : 0;
	rec_l4(r, &o);
	o.ttl = r->have & H_TTL	      ? r->ttl
		: r->have & H_MIN_TTL ? r->min_ttl
		: r->have & H_MAX_TTL ? r->max_ttl
				      : 0;
	o.len = oc / pk > UINT32_MAX ? UINT32_MAX : (uint32_t)(oc / pk);
	o.packets = sat_mul(pk, rate);
	o.bytes = sat_mul(oc, rate);
	rec_times(c, r, &first, &last);
	o.ts_ns = last;
	c->ex->st.records++;
	c->n_emitted++;
	if (c->emit)
		c->emit(c->arg, &o, first, last);
}

/* The rate for a v9/IPFIX data record, by precedence (see the top of the file). Returns 0, or
 * -1 if the rate is absurd (counted; the record is dropped). */
static int data_rate(const struct nf_ctx *c, const struct rec *r, uint64_t *rate)
{
	const struct exporter *ex = c->ex;
	uint64_t v;

	if (ex->sampling_override)
		v = ex->sampling_override;
	else if (!rec_rate(r, &v) &&
		 !((r->have & H_SAMPLER) && sampler_find(ex, c->domain, (uint32_t)r->sampler, &v)))
		v = ex->default_sampling;
	if (v == 0)
		v = 1;
	if (v > FLOW_MAX_SAMPLING) {
		c->ex->st.bad_sampling++;
		return -1;
	}
	*rate = v;
	return 0;
}

/* A data set (id >= 256): every record of its template, up to the padding. Returns 0, or -1 if
 * a record runs past the set, or if the set cannot hold even one record (padding is 3 bytes at
 * most in practice; a whole set of it means the template does not match the data). A set whose
 * template we lack is counted (st.no_template, once per set: its records cannot even be
 * counted) and skipped: routers send data before templates after a restart. */
static int data_set(struct nf_ctx *c, uint16_t id, const uint8_t *p, size_t n)
{
	const struct flow_template *t = tmpl_lookup(c, id);
	size_t off = 0;
	uint64_t rate;
	struct rec r;
	long k;

	if (!t) {
		c->ex->st.no_template++;
		c->uncounted = 1;
		return 0;
	}
	while (n - off >= (size_t)t->min_len) {
		k = rec_parse(c, t, p + off, n - off, &r);
		if (k < 0) {
			c->uncounted = 1;
			return -1;
		}
		off += (size_t)k;
		c->n_data++;
		if (t->options)
			options_record(c, &r);
		else if (data_rate(c, &r, &rate) == 0)
			rec_emit(c, &r, rate);
	}
	if (off == 0 && n >= SET_HLEN) {
		c->uncounted = 1;
		return -1;
	}
	return 0;
}

/* One set, by id. Malformed sets are counted here; the walk goes on. */
static void set_decode(struct nf_ctx *c, uint16_t id, const uint8_t *p, size_t n)
{
	int rc = 0;

	if (id >= SET_DATA_MIN)
		rc = data_set(c, id, p, n);
	else if (c->ipfix && (id == IPFIX_SET_TEMPLATE || id == IPFIX_SET_OPTIONS))
		rc = template_set(c, id, p, n);
	else if (!c->ipfix && id == V9_SET_TEMPLATE)
		rc = template_set(c, id, p, n);
	else if (!c->ipfix && id == V9_SET_OPTIONS)
		rc = v9_options_set(c, p, n);
	else
		c->ex->st.ignored++; /* reserved set ids */
	if (rc < 0)
		c->ex->st.errors++;
}

/* Walks the sets after a v9 or IPFIX header. A set length under 4 or past the datagram leaves
 * no way to find the next set: counted, and the walk stops. */
static void sets_walk(struct nf_ctx *c, const uint8_t *p, size_t n)
{
	size_t off = 0;
	uint16_t id, sl;

	while (n - off >= SET_HLEN) {
		id = rd16(p + off);
		sl = rd16(p + off + 2);
		if (sl < SET_HLEN || sl > n - off) {
			c->ex->st.errors++;
			c->uncounted = 1;
			return;
		}
		set_decode(c, id, p + off + SET_HLEN, sl - SET_HLEN);
		off += sl;
	}
	/* v9 exporters may pad the datagram; IPFIX messages are sets and nothing else */
	if (c->ipfix && off != n) {
		c->ex->st.errors++;
		c->uncounted = 1;
	}
}

/* ---- sequence numbers --------------------------------------------------------------------- */

/* Counts what a forward jump of seq says was lost. A backward jump is a restart and is not
 * counted; neither is the first datagram of a domain (we track one: another re-seeds). */
static void seq_check(struct exporter *ex, uint32_t domain, uint32_t seq)
{
	int32_t d;

	if (!ex->seq_valid || ex->seq_domain != domain)
		return;
	d = (int32_t)(seq - ex->seq_next);
	if (d > 0)
		ex->st.seq_gaps += (uint64_t)d;
}

static void seq_set(struct exporter *ex, uint32_t domain, uint32_t next)
{
	ex->seq_valid = 1;
	ex->seq_domain = domain;
	ex->seq_next = next;
}

/* ---- datagrams ---------------------------------------------------------------------------- */

static int reject(struct exporter *ex)
{
	ex->st.errors++;
	return -1;
}

static void accept_dgram(struct exporter *ex, uint64_t now_ns)
{
	ex->st.packets++;
	ex->st.last_seen_ns = now_ns;
}

/* NetFlow v5: 24-byte header, count (1..30) records of 48 bytes, nothing else. Returns the
 * records emitted, or -1 if the length does not match the count. */
static int v5_decode(struct nf_ctx *c, const uint8_t *buf, size_t len)
{
	struct exporter *ex = c->ex;
	uint16_t count, smp;
	uint32_t seq, domain;
	uint64_t rate;
	const uint8_t *p;
	struct rec r;
	uint16_t i;

	if (len < V5_HLEN)
		return reject(ex);
	count = rd16(buf + 2);
	if (count < 1 || count > V5_MAX_COUNT || len != V5_HLEN + (size_t)V5_RLEN * count)
		return reject(ex);
	c->uptime_ms = rd32(buf + 4);
	c->export_ns = rd32(buf + 8) * NS_PER_S + rd32(buf + 12);
	seq = rd32(buf + 16);
	domain = (uint32_t)buf[20] << 8 | buf[21]; /* engine type, engine id */
	smp = rd16(buf + 22);
	accept_dgram(ex, c->now_ns);

	/* top 2 bits: mode (0 = none), low 14: interval */
	ex->v5_sampling = (smp >> 14) && (smp & 0x3fff) > 1 ? smp & 0x3fff : 0;
	rate = ex->sampling_override ? ex->sampling_override
	       : ex->v5_sampling     ? ex->v5_sampling
				     : 1;
	seq_check(ex, domain, seq);
	seq_set(ex, domain, seq + count); /* v5 counts flows */
	if (rate > FLOW_MAX_SAMPLING) {
		ex->st.bad_sampling += count;
		return 0;
	}

	r.have = H_ADDR4 | H_PACKETS | H_OCTETS | H_FIRST_UP | H_LAST_UP | H_SPORT | H_DPORT |
		 H_TCP_FLAGS | H_PROTO;
	for (i = 0; i < count; i++) {
		p = buf + V5_HLEN + (size_t)V5_RLEN * i;
		memcpy(r.src4, p, 4);
		memcpy(r.dst4, p + 4, 4);
		r.packets = rd32(p + 16);
		r.octets = rd32(p + 20);
		r.first_up = rd32(p + 24);
		r.last_up = rd32(p + 28);
		r.sport = rd16(p + 32);
		r.dport = rd16(p + 34);
		r.tcp_flags = p[37];
		r.proto = p[38];
		rec_emit(c, &r, rate);
	}
	return c->n_emitted;
}

/* The v9 header gives the export time in whole seconds, so unix_secs - sysUptime is up to 1 s
 * below the true boot time, a different amount in each datagram: flows placed with it jitter by
 * up to a second, enough to show a steady flood 10% above its rate. The largest estimate seen is
 * the best; one more than 2 s below it means the router rebooted, its uptime wrapped (49.7 days)
 * or its clock was stepped back, and starts over. */
static void v9_clock(struct exporter *ex, uint32_t unix_secs, uint32_t uptime_ms)
{
	int64_t est = (int64_t)unix_secs * 1000 - (int64_t)uptime_ms;

	if (!ex->boot_valid || est > ex->boot_ms || est < ex->boot_ms - 2000) {
		ex->boot_ms = est;
		ex->boot_valid = 1;
	}
}

/* NetFlow v9: 20-byte header (count, sysUptime, unix_secs, sequence, source id), FlowSets.
 * The count field is not checked: exporters disagree on what it counts. Returns the records
 * emitted, or -1 if the header is cut short. */
static int v9_decode(struct nf_ctx *c, const uint8_t *buf, size_t len)
{
	uint32_t seq;

	if (len < V9_HLEN)
		return reject(c->ex);
	c->uptime_ms = rd32(buf + 4);
	v9_clock(c->ex, rd32(buf + 8), c->uptime_ms);
	c->export_ns = (uint64_t)(c->ex->boot_ms + c->uptime_ms) * NS_PER_MS;
	seq = rd32(buf + 12);
	c->domain = rd32(buf + 16);
	accept_dgram(c->ex, c->now_ns);

	seq_check(c->ex, c->domain, seq);
	seq_set(c->ex, c->domain, seq + 1); /* v9 counts datagrams */
	sets_walk(c, buf + V9_HLEN, len - V9_HLEN);
	return c->n_emitted;
}

/* IPFIX: 16-byte header (length, export time, sequence, observation domain), Sets. Returns the
 * records emitted, or -1 if the header is cut short or its length is not the datagram's. */
static int ipfix_decode(struct nf_ctx *c, const uint8_t *buf, size_t len)
{
	struct exporter *ex = c->ex;
	uint32_t seq;

	if (len < IPFIX_HLEN || rd16(buf + 2) != len)
		return reject(ex);
	c->ipfix = 1;
	c->export_ns = rd32(buf + 4) * NS_PER_S;
	seq = rd32(buf + 8);
	c->domain = rd32(buf + 12);
	accept_dgram(ex, c->now_ns);

	bool in_seq = ex->seq_valid && ex->seq_domain == c->domain;
	sets_walk(c, buf + IPFIX_HLEN, len - IPFIX_HLEN);
	/* IPFIX counts data records, which we can only do when every set could be read */
	if (c->uncounted) {
		ex->seq_valid = 0;
		return c->n_emitted;
	}
	/* RFC 7011 numbers a message by the data records sent before it; softflowd 1.1.0 by the
	 * records up to and including it. Either numbering in sequence is no loss; a gap is
	 * counted from the RFC's expectation only when the number fits neither. */
	if (in_seq && seq != ex->seq_next && seq != ex->seq_last + c->n_data) {
		int32_t d = (int32_t)(seq - ex->seq_next);
		if (d > 0)
			ex->st.seq_gaps += (uint64_t)d;
	}
	seq_set(ex, c->domain, seq + c->n_data);
	ex->seq_last = seq;
	return c->n_emitted;
}

/* Returns the number of records emitted (>= 0), or -1 if the datagram was rejected as a whole
 * (counted in ex->st.errors): unknown version, or a header that is cut short or lies about the
 * length. Malformed sets inside an accepted datagram are counted and skipped. */
int netflow_decode(const uint8_t *buf, size_t len, uint64_t now_ns, struct exporter *ex,
		   flow_emit_fn emit, void *arg)
{
	struct nf_ctx c = {.ex = ex, .emit = emit, .arg = arg, .now_ns = now_ns};

	if (!buf || len < 2)
		return reject(ex);
	switch (rd16(buf)) {
	case 5:
		return v5_decode(&c, buf, len);
	case 9:
		return v9_decode(&c, buf, len);
	case 10:
		return ipfix_decode(&c, buf, len);
	}
	return reject(ex);
}

/* Frees the template array (and the state kept with it); the exporter can be used again. */
void exporter_release(struct exporter *ex)
{
	free(ex->tmpl);
	ex->tmpl = NULL;
	ex->n_tmpl = 0;
}
