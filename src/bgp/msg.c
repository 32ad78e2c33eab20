/* msg: BGP-4 message encoding and decoding. See msg.h.
 *
 * Decoding: every read is checked against the enclosing unit (message, attribute, segment,
 * capability); a unit whose length points past its parent is an error with the NOTIFICATION
 * RFC 4271 gives for it, adjusted by RFC 7606 (revised UPDATE error handling):
 *   - session reset: header errors, withdrawn/attribute lengths that overrun the message,
 *     an attribute header or length overrunning the attribute section, unparseable NLRI,
 *     malformed or repeated MP_REACH_NLRI / MP_UNREACH_NLRI, unrecognized well-known attributes.
 *   - treat-as-withdraw (accepted, reported in withdraw_code/subcode): bad flags, ORIGIN,
 *     AS_PATH, NEXT_HOP, MED, LOCAL_PREF, COMMUNITIES, EXTENDED/LARGE_COMMUNITIES, missing
 *     well-known attributes, flowspec NLRI whose components do not parse (RFC 8955 10).
 *   - attribute discard (accepted, counted): ATOMIC_AGGREGATE, AGGREGATOR, AS4_AGGREGATOR,
 *     AS4_PATH with a bad length or content; repeated attributes other than MP_*.
 * moatd ignores received routes, so "treat-as-withdraw" costs nothing: the peer stays up.
 *
 * Encoding: struct wr writes into the caller's buffer and remembers overflow instead of
 * writing past it, so one check at the end tells whether the message fit.
 */
#include <string.h>

#include "bgp/msg.h"
#include "bgp/wr.h"

enum {
	OPEN_MIN = BGP_HDR_LEN + 10,
	UPDATE_MIN = BGP_HDR_LEN + 4,
	NOTIF_MIN = BGP_HDR_LEN + 2,
	RR_LEN = BGP_HDR_LEN + 4,
	/* attribute flags */
	AF_OPTIONAL = 0x80,
	AF_TRANSITIVE = 0x40,
	AF_PARTIAL = 0x20,
	AF_EXTLEN = 0x10,
	/* OPEN optional parameters and capabilities */
	OPT_CAPABILITIES = 2,
	OPT_EXTENDED = 255, /* RFC 9072 */
	CAP_MP = 1,
	CAP_ROUTE_REFRESH = 2,
	CAP_AS4 = 65,
	/* AS_PATH segment types */
	SEG_SET = 1,
	SEG_SEQUENCE = 2,
	SEG_CONFED_SEQUENCE = 3,
	SEG_CONFED_SET = 4,
	ORIGIN_IGP = 0,
	ORIGIN_INCOMPLETE = 2,
	/* extended communities, RFC 8955 7 */
	EXT_TRAFFIC_RATE = 0x8006,
	EXT_TRAFFIC_MARKING = 0x8009,
	SHUTDOWN_MAX = 255, /* RFC 9003 */
};

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- families ----------------------------------------------------------------------------------
 */

static const struct {
	uint16_t afi;
	uint8_t safi;
	const char *name;
} fams[BGP_NFAMILIES] = {
    [BGP_IPV4_UNICAST] = {BGP_AFI_IPV4, BGP_SAFI_UNICAST, "ipv4-unicast"},
    [BGP_IPV6_UNICAST] = {BGP_AFI_IPV6, BGP_SAFI_UNICAST, "ipv6-unicast"},
    [BGP_IPV4_FLOWSPEC] = {BGP_AFI_IPV4, BGP_SAFI_FLOWSPEC, "ipv4-flowspec"},
    [BGP_IPV6_FLOWSPEC] = {BGP_AFI_IPV6, BGP_SAFI_FLOWSPEC, "ipv6-flowspec"},
};

int bgp_family_of(uint16_t afi, uint8_t safi)
{
	int f;

	for (f = 0; f < BGP_NFAMILIES; f++)
		if (fams[f].afi == afi && fams[f].safi == safi)
			return f;
	return -1;
}

void bgp_family_afi_safi(enum bgp_family f, uint16_t *afi, uint8_t *safi)
{
	*afi = fams[f].afi;
	*safi = fams[f].safi;
}

static int fam_ip(int f)
{
	return f == BGP_IPV4_UNICAST || f == BGP_IPV4_FLOWSPEC ? 4 : 6;
}

static bool fam_fs(int f)
{
	return f == BGP_IPV4_FLOWSPEC || f == BGP_IPV6_FLOWSPEC;
}

/* ---- errors ------------------------------------------------------------------------------------
 */

static int fail(struct bgp_err *e, uint8_t code, uint8_t sub, const uint8_t *data, size_t n)
{
	if (!e)
		return -1;
	e->code = code;
	e->subcode = sub;
	if (n > sizeof(e->data))
		n = sizeof(e->data);
	e->data_len = (uint16_t)n;
	if (n)
		memcpy(e->data, data, n);
	return -1;
}

/* ---- writer ------------------------------------------------------------------------------------
 */

static void set16(struct wr *w, size_t at, size_t v)
{
	if (w->err || at + 2 > w->len)
		return;
	w->p[at] = (uint8_t)(v >> 8);
	w->p[at + 1] = (uint8_t)v;
}

static void msg_begin(struct wr *w, uint8_t type)
{
	int i;

	for (i = 0; i < BGP_MARKER_LEN; i++)
		put8(w, 0xff);
	put16(w, 0); /* length, set by msg_end */
	put8(w, type);
}

static int msg_end(struct wr *w)
{
	if (w->err || w->len > BGP_MAX_LEN)
		return -1;
	set16(w, BGP_MARKER_LEN, w->len);
	return (int)w->len;
}

/* An attribute with a 2-byte length placeholder; attr_end shrinks it to 1 byte if it can. */
static size_t attr_begin(struct wr *w, uint8_t flags, uint8_t type)
{
	size_t at = w->len;

	put8(w, flags | AF_EXTLEN);
	put8(w, type);
	put16(w, 0);
	return at;
}

static void attr_end(struct wr *w, size_t at)
{
	size_t vlen;

	if (w->err)
		return;
	vlen = w->len - at - 4;
	if (vlen <= 255) {
		memmove(w->p + at + 3, w->p + at + 4, vlen);
		w->p[at] &= (uint8_t)~AF_EXTLEN;
		w->p[at + 2] = (uint8_t)vlen;
		w->len--;
	} else {
		set16(w, at + 2, vlen);
	}
}

/* ---- framing -----------------------------------------------------------------------------------
 */

int bgp_frame(const uint8_t *buf, size_t len, size_t *msg_len, struct bgp_err *err)
{
	size_t i, n = len < BGP_MARKER_LEN ? len : BGP_MARKER_LEN;
	uint16_t mlen;
	uint8_t type;
	bool ok;

	for (i = 0; i < n; i++)
		if (buf[i] != 0xff)
			return fail(err, BGP_ERR_HEADER, BGP_HDR_NOT_SYNC, NULL, 0);
	if (len < BGP_HDR_LEN)
		return 0;
	mlen = rd16(buf + BGP_MARKER_LEN);
	type = buf[18];
	if (mlen < BGP_HDR_LEN || mlen > BGP_MAX_LEN)
		return fail(err, BGP_ERR_HEADER, BGP_HDR_BAD_LENGTH, buf + BGP_MARKER_LEN, 2);
	switch (type) {
	case BGP_OPEN:
		ok = mlen >= OPEN_MIN;
		break;
	case BGP_UPDATE:
		ok = mlen >= UPDATE_MIN;
		break;
	case BGP_NOTIFICATION:
		ok = mlen >= NOTIF_MIN;
		break;
	case BGP_KEEPALIVE:
		ok = mlen == BGP_HDR_LEN;
		break;
	case BGP_ROUTE_REFRESH:
		ok = mlen == RR_LEN;
		break;
	default:
		return fail(err, BGP_ERR_HEADER, BGP_HDR_BAD_TYPE, &buf[18], 1);
	}
	if (!ok)
		return fail(err, BGP_ERR_HEADER, BGP_HDR_BAD_LENGTH, buf + BGP_MARKER_LEN, 2);
	if (len < mlen)
		return 0;
	if (msg_len)
		*msg_len = mlen;
	return 1;
}

/* A decoder's first step: msg must be exactly one framed message of the given type. */
static int hdr_check(const uint8_t *msg, size_t len, uint8_t type, struct bgp_err *err)
{
	size_t ml = 0;
	int r = bgp_frame(msg, len, &ml, err);

	if (r < 0)
		return -1;
	if (r == 0 || ml != len) /* cut short, or bytes after the message: the length lies */
		return fail(err, BGP_ERR_HEADER, BGP_HDR_BAD_LENGTH,
			    len >= BGP_HDR_LEN ? msg + BGP_MARKER_LEN : NULL,
			    len >= BGP_HDR_LEN ? 2 : 0);
	if (msg[18] != type)
		return fail(err, BGP_ERR_HEADER, BGP_HDR_BAD_TYPE, &msg[18], 1);
	return 0;
}

/* ---- OPEN --------------------------------------------------------------------------------------
 */

void bgp_open_init(struct bgp_open *o, uint32_t my_as, uint16_t hold_time, uint32_t bgp_id,
		   unsigned families)
{
	memset(o, 0, sizeof(*o));
	o->version = BGP_VERSION;
	o->as = my_as;
	o->as2 = my_as > 0xffff ? BGP_AS_TRANS : (uint16_t)my_as;
	o->hold_time = hold_time;
	o->bgp_id = bgp_id;
	o->as4 = true;
	o->route_refresh = true;
	o->mp = families != 0;
	o->families = (uint8_t)(families & BGP_FAM_ALL);
}

int bgp_open_encode(uint8_t *buf, size_t cap, const struct bgp_open *o)
{
	struct wr w = {buf, cap, 0, false};
	size_t optlen_at, caps_at;
	uint16_t afi;
	uint8_t safi;
	int f;

	msg_begin(&w, BGP_OPEN);
	put8(&w, BGP_VERSION);
	put16(&w, o->as > 0xffff ? BGP_AS_TRANS : (uint16_t)o->as);
	put16(&w, o->hold_time);
	put32(&w, o->bgp_id);
	optlen_at = w.len;
	put8(&w, 0);
	/* one Capabilities parameter holding every capability (RFC 5492 allows either) */
	put8(&w, OPT_CAPABILITIES);
	caps_at = w.len;
	put8(&w, 0);
	for (f = 0; f < BGP_NFAMILIES; f++) {
		if (!(o->families & BGP_FAM_BIT(f)))
			continue;
		bgp_family_afi_safi((enum bgp_family)f, &afi, &safi);
		put8(&w, CAP_MP);
		put8(&w, 4);
		put16(&w, afi);
		put8(&w, 0);
		put8(&w, safi);
	}
	if (o->route_refresh) {
		put8(&w, CAP_ROUTE_REFRESH);
		put8(&w, 0);
	}
	if (o->as4) {
		put8(&w, CAP_AS4);
		put8(&w, 4);
		put32(&w, o->as);
	}
	if (w.err)
		return -1;
	if (w.len == caps_at + 1) {
		w.len -= 2; /* no capability: no parameter */
	} else {
		w.p[caps_at] = (uint8_t)(w.len - caps_at - 1);
		if (w.len - caps_at - 1 > 253)
			return -1; /* would need RFC 9072; we never send that many */
	}
	w.p[optlen_at] = (uint8_t)(w.len - optlen_at - 1);
	return msg_end(&w);
}

/* Capabilities in p[0..len). */
static int parse_caps(const uint8_t *p, size_t len, struct bgp_open *o, struct bgp_err *err)
{
	size_t i = 0, cl;
	uint8_t code;
	int f;

	while (i < len) {
		if (len - i < 2)
			return fail(err, BGP_ERR_OPEN, BGP_OPEN_UNSPECIFIC, NULL, 0);
		code = p[i];
		cl = p[i + 1];
		if (cl > len - i - 2)
			return fail(err, BGP_ERR_OPEN, BGP_OPEN_UNSPECIFIC, NULL, 0);
		const uint8_t *v = p + i + 2;
		switch (code) {
		case CAP_MP:
			if (cl != 4)
				return fail(err, BGP_ERR_OPEN, BGP_OPEN_UNSPECIFIC, p + i, cl + 2);
			o->mp = true;
			f = bgp_family_of(rd16(v), v[3]);
			if (f >= 0)
				o->families |= (uint8_t)BGP_FAM_BIT(f);
			break;
		case CAP_ROUTE_REFRESH:
			if (cl != 0)
				return fail(err, BGP_ERR_OPEN, BGP_OPEN_UNSPECIFIC, p + i, cl + 2);
			o->route_refresh = true;
			break;
		case CAP_AS4:
			if (cl != 4)
				return fail(err, BGP_ERR_OPEN, BGP_OPEN_UNSPECIFIC, p + i, cl + 2);
			o->as4 = true;
			o->as = rd32(v);
			break;
		default:
			if (o->n_unknown < BGP_MAX_UNKNOWN_CAPS)
				o->unknown[o->n_unknown] = code;
			if (o->n_unknown < UINT16_MAX)
				o->n_unknown++;
		}
		i += 2 + cl;
	}
	return 0;
}

int bgp_open_decode(const uint8_t *msg, size_t len, uint32_t expect_as, struct bgp_open *o,
		    struct bgp_err *err)
{
	static const uint8_t v4[2] = {0, BGP_VERSION};
	const uint8_t *b = msg + BGP_HDR_LEN, *p;
	size_t optlen, i, pl, hl;
	uint8_t pt;

	memset(o, 0, sizeof(*o));
	if (hdr_check(msg, len, BGP_OPEN, err) < 0)
		return -1;
	o->version = b[0];
	o->as2 = rd16(b + 1);
	o->hold_time = rd16(b + 3);
	o->bgp_id = rd32(b + 5);
	optlen = b[9];
	if (o->version != BGP_VERSION)
		return fail(err, BGP_ERR_OPEN, BGP_OPEN_BAD_VERSION, v4, 2);
	p = b + 10;
	hl = 1; /* parameter length bytes */
	if (optlen == 255 && len > OPEN_MIN && p[0] == OPT_EXTENDED) {
		/* RFC 9072: 255, 255, 2-byte length, parameters with 2-byte lengths */
		if (len < OPEN_MIN + 3)
			return fail(err, BGP_ERR_OPEN, BGP_OPEN_UNSPECIFIC, NULL, 0);
		optlen = rd16(p + 1);
		p += 3;
		hl = 2;
	}
	if ((size_t)(p - msg) + optlen != len)
		return fail(err, BGP_ERR_OPEN, BGP_OPEN_UNSPECIFIC, NULL, 0);
	for (i = 0; i < optlen; i += 1 + hl + pl) {
		if (optlen - i < 1 + hl)
			return fail(err, BGP_ERR_OPEN, BGP_OPEN_UNSPECIFIC, NULL, 0);
		pt = p[i];
		pl = hl == 1 ? p[i + 1] : rd16(p + i + 1);
		if (pl > optlen - i - 1 - hl)
			return fail(err, BGP_ERR_OPEN, BGP_OPEN_UNSPECIFIC, NULL, 0);
		if (pt != OPT_CAPABILITIES)
			return fail(err, BGP_ERR_OPEN, BGP_OPEN_UNSUP_OPT_PARAM, p + i,
				    1 + hl + pl);
		if (parse_caps(p + i + 1 + hl, pl, o, err) < 0)
			return -1;
	}
	if (!o->as4)
		o->as = o->as2;
	if (o->as == 0 || (!o->as4 && o->as2 == BGP_AS_TRANS) || (expect_as && o->as != expect_as))
		return fail(err, BGP_ERR_OPEN, BGP_OPEN_BAD_PEER_AS, NULL, 0);
	if (o->hold_time == 1 || o->hold_time == 2)
		return fail(err, BGP_ERR_OPEN, BGP_OPEN_BAD_HOLD_TIME, NULL, 0);
	if (o->bgp_id == 0)
		return fail(err, BGP_ERR_OPEN, BGP_OPEN_BAD_BGP_ID, NULL, 0);
	return 0;
}

void bgp_negotiate(const struct bgp_open *mine, const struct bgp_open *peer, struct bgp_caps *c)
{
	uint8_t pf = peer->mp ? peer->families : (uint8_t)BGP_FAM_BIT(BGP_IPV4_UNICAST);
	uint8_t mf = mine->mp ? mine->families : (uint8_t)BGP_FAM_BIT(BGP_IPV4_UNICAST);

	memset(c, 0, sizeof(*c));
	c->as4 = mine->as4 && peer->as4;
	c->route_refresh = mine->route_refresh && peer->route_refresh;
	c->families = pf & mf;
	c->hold_time = mine->hold_time < peer->hold_time ? mine->hold_time : peer->hold_time;
	c->keepalive = c->hold_time / 3;
	c->peer_as = peer->as;
	c->peer_id = peer->bgp_id;
}

/* ---- UPDATE encoding
 * ------------------------------------------------------------------------------ */

uint64_t bgp_ext_traffic_rate(uint16_t as, float bytes_per_s)
{
	uint32_t f;

	memcpy(&f, &bytes_per_s, 4); /* IEEE 754 single precision, sent big-endian */
	return (uint64_t)EXT_TRAFFIC_RATE << 48 | (uint64_t)as << 32 | f;
}

uint64_t bgp_ext_traffic_marking(uint8_t dscp)
{
	return (uint64_t)EXT_TRAFFIC_MARKING << 48 | (dscp & 0x3f);
}

static bool route_ok(const struct bgp_route *r, int fam)
{
	if (r->family != fam)
		return false;
	if (fam_fs(fam))
		return r->fs && r->fs->family == fam_ip(fam);
	return r->len <= (fam_ip(fam) == 4 ? 32 : 128);
}

static void put_prefix(struct wr *w, int ip, const struct maddr *a, uint8_t plen)
{
	const uint8_t *b = a->b + (ip == 4 ? 12 : 0);
	int nb = (plen + 7) / 8, i;

	put8(w, plen);
	for (i = 0; i < nb; i++) {
		uint8_t v = b[i];
		if (i == nb - 1 && plen % 8)
			v &= (uint8_t)(0xff << (8 - plen % 8));
		put8(w, v);
	}
}

static void put_route(struct wr *w, const struct bgp_route *r)
{
	int n;

	if (!fam_fs(r->family)) {
		put_prefix(w, fam_ip(r->family), &r->prefix, r->len);
		return;
	}
	if (w->err)
		return;
	n = fs_nlri_encode(r->fs, w->p + w->len, w->cap - w->len);
	if (n < 0)
		w->err = true;
	else
		w->len += (size_t)n;
}

static size_t route_size(const struct bgp_route *r)
{
	uint8_t tmp[FS_NLRI_BUFLEN];
	int n;

	if (!fam_fs(r->family))
		return 1 + (size_t)(r->len + 7) / 8;
	n = fs_nlri_encode(r->fs, tmp, sizeof(tmp));
	return n < 0 ? SIZE_MAX / 2 : (size_t)n;
}

static void put_as_path(struct wr *w, const struct bgp_attrs *a)
{
	size_t at = attr_begin(w, AF_TRANSITIVE, BGP_ATTR_AS_PATH);

	if (!a->ibgp) {
		put8(w, SEG_SEQUENCE);
		put8(w, 1);
		if (a->as4)
			put32(w, a->my_as);
		else
			put16(w, a->my_as > 0xffff ? BGP_AS_TRANS : (uint16_t)a->my_as);
	}
	attr_end(w, at);
}

static void build_update(struct wr *w, int fam, bool withdraw, const struct bgp_attrs *a,
			 const struct bgp_route *r, size_t k)
{
	size_t wl_at, al_at, at, i;
	uint16_t afi;
	uint8_t safi;

	bgp_family_afi_safi((enum bgp_family)fam, &afi, &safi);
	msg_begin(w, BGP_UPDATE);
	wl_at = w->len;
	put16(w, 0);
	if (withdraw && fam == BGP_IPV4_UNICAST) {
		for (i = 0; i < k; i++)
			put_route(w, &r[i]);
		set16(w, wl_at, w->len - wl_at - 2);
		put16(w, 0);
		return;
	}
	al_at = w->len;
	put16(w, 0);
	if (withdraw) {
		at = attr_begin(w, AF_OPTIONAL, BGP_ATTR_MP_UNREACH);
		put16(w, afi);
		put8(w, safi);
		for (i = 0; i < k; i++)
			put_route(w, &r[i]);
		attr_end(w, at);
		set16(w, al_at, w->len - al_at - 2);
		return;
	}
	at = attr_begin(w, AF_TRANSITIVE, BGP_ATTR_ORIGIN);
	put8(w, ORIGIN_IGP);
	attr_end(w, at);
	put_as_path(w, a);
	if (fam == BGP_IPV4_UNICAST) {
		at = attr_begin(w, AF_TRANSITIVE, BGP_ATTR_NEXT_HOP);
		putn(w, a->nexthop.b + 12, 4);
		attr_end(w, at);
	}
	if (a->ibgp) {
		at = attr_begin(w, AF_TRANSITIVE, BGP_ATTR_LOCAL_PREF);
		put32(w, a->local_pref);
		attr_end(w, at);
	}
	if (a->n_comm) {
		at = attr_begin(w, AF_OPTIONAL | AF_TRANSITIVE, BGP_ATTR_COMMUNITIES);
		for (i = 0; i < a->n_comm; i++)
			put32(w, a->comm[i]);
		attr_end(w, at);
	}
	if (fam != BGP_IPV4_UNICAST) {
		at = attr_begin(w, AF_OPTIONAL, BGP_ATTR_MP_REACH);
		put16(w, afi);
		put8(w, safi);
		if (fam == BGP_IPV6_UNICAST) {
			put8(w, a->has_ll ? 32 : 16);
			putn(w, a->nexthop.b, 16);
			if (a->has_ll)
				putn(w, a->nexthop_ll.b, 16);
		} else {
			put8(w, 0); /* flowspec: no next hop (RFC 8955 4) */
		}
		put8(w, 0); /* reserved (was SNPAs) */
		for (i = 0; i < k; i++)
			put_route(w, &r[i]);
		attr_end(w, at);
	}
	if (a->n_ext) {
		at = attr_begin(w, AF_OPTIONAL | AF_TRANSITIVE, BGP_ATTR_EXT_COMMUNITIES);
		for (i = 0; i < a->n_ext; i++) {
			put32(w, (uint32_t)(a->ext[i] >> 32));
			put32(w, (uint32_t)a->ext[i]);
		}
		attr_end(w, at);
	}
	if (!a->ibgp && !a->as4 && a->my_as > 0xffff) {
		at = attr_begin(w, AF_OPTIONAL | AF_TRANSITIVE, BGP_ATTR_AS4_PATH);
		put8(w, SEG_SEQUENCE);
		put8(w, 1);
		put32(w, a->my_as);
		attr_end(w, at);
	}
	if (a->n_large) {
		at = attr_begin(w, AF_OPTIONAL | AF_TRANSITIVE, BGP_ATTR_LARGE_COMMUNITIES);
		for (i = 0; i < a->n_large; i++) {
			put32(w, a->large[i].global);
			put32(w, a->large[i].local1);
			put32(w, a->large[i].local2);
		}
		attr_end(w, at);
	}
	set16(w, al_at, w->len - al_at - 2);
	if (fam == BGP_IPV4_UNICAST)
		for (i = 0; i < k; i++)
			put_route(w, &r[i]);
}

int bgp_update_encode(uint8_t *buf, size_t cap, bool withdraw, const struct bgp_attrs *a,
		      const struct bgp_route *routes, size_t n, size_t *n_done)
{
	static const struct bgp_attrs none;
	size_t limit = cap < BGP_MAX_LEN ? cap : BGP_MAX_LEN, k, sum, sz;
	int fam;

	if (n_done)
		*n_done = 0;
	if (!n || !routes || routes[0].family >= BGP_NFAMILIES)
		return -1;
	if (!a) {
		if (!withdraw)
			return -1;
		a = &none;
	}
	fam = routes[0].family;
	struct wr w = {buf, limit, 0, false};
	build_update(&w, fam, withdraw, a, routes, 0);
	if (w.err)
		return -1;
	for (k = 0, sum = 0; k < n; k++) {
		if (!route_ok(&routes[k], fam))
			return -1;
		sz = route_size(&routes[k]);
		if (w.len + sum + sz > limit)
			break;
		sum += sz;
	}
	for (; k > 0; k--) {
		/* an attribute that grew past 255 bytes takes one more length byte: retry */
		w.len = 0;
		w.err = false;
		build_update(&w, fam, withdraw, a, routes, k);
		if (!w.err)
			break;
	}
	if (k == 0)
		return -1;
	if (n_done)
		*n_done = k;
	return msg_end(&w);
}

int bgp_eor_encode(uint8_t *buf, size_t cap, enum bgp_family f)
{
	struct wr w = {buf, cap, 0, false};
	uint16_t afi;
	uint8_t safi;

	if ((unsigned)f >= BGP_NFAMILIES)
		return -1;
	msg_begin(&w, BGP_UPDATE);
	put16(&w, 0);
	if (f == BGP_IPV4_UNICAST) {
		put16(&w, 0);
		return msg_end(&w);
	}
	bgp_family_afi_safi(f, &afi, &safi);
	put16(&w, 6);
	put8(&w, AF_OPTIONAL);
	put8(&w, BGP_ATTR_MP_UNREACH);
	put8(&w, 3);
	put16(&w, afi);
	put8(&w, safi);
	return msg_end(&w);
}

/* ---- UPDATE decoding ---------------------------------------------------------------------------
 */

int bgp_prefix_decode(const uint8_t *p, size_t len, int family, struct maddr *a, uint8_t *plen)
{
	int max = family == 4 ? 32 : 128, nb;

	if (len < 1 || p[0] > max)
		return -1;
	nb = (p[0] + 7) / 8;
	if ((size_t)nb > len - 1)
		return -1;
	memset(a, 0, sizeof(*a));
	if (family == 4) {
		a->b[10] = a->b[11] = 0xff;
		memcpy(a->b + 12, p + 1, (size_t)nb);
	} else {
		memcpy(a->b, p + 1, (size_t)nb);
	}
	*plen = p[0];
	return 1 + nb;
}

/* Counts the NLRI of a family in p[0..len). Returns the count, -1 if they do not parse (the
 * field cannot be framed), -2 if flowspec NLRI are framed but a rule does not decode. */
static int count_nlri(const uint8_t *p, size_t len, int fam)
{
	struct fs_rule r;
	struct maddr a;
	uint8_t pl;
	size_t i = 0, vl;
	int n = 0, r2 = 0, c;

	while (i < len) {
		if (!fam_fs(fam)) {
			c = bgp_prefix_decode(p + i, len - i, fam_ip(fam), &a, &pl);
			if (c < 0)
				return -1;
		} else {
			/* frame by the length prefix first, then decode the rule */
			if (p[i] < 240) {
				vl = 1 + (size_t)p[i];
			} else {
				if ((p[i] & 0xf0) != 0xf0 || len - i < 2)
					return -1;
				vl = 2 + ((size_t)(p[i] & 0x0f) << 8 | p[i + 1]);
			}
			if (vl > len - i)
				return -1;
			if (fs_nlri_decode(p + i, vl, fam_ip(fam), &r) != (int)vl)
				r2 = -2;
			c = (int)vl;
		}
		i += (size_t)c;
		n++;
	}
	return r2 ? r2 : n;
}

enum err_class { E_RESET, E_WITHDRAW, E_DISCARD };

struct upd {
	struct bgp_update_info *u;
	struct bgp_err *err;
	bool as4, strict;
	uint8_t seen[32]; /* attribute types seen, a bit each */
};

/* An error in an attribute (a points at its flags byte, alen bytes in all). Returns -1 when it
 * ends the session, 0 when the UPDATE is still accepted. */
static int attr_err(struct upd *d, enum err_class cls, uint8_t sub, const uint8_t *a, size_t alen)
{
	if (cls == E_RESET || d->strict)
		return fail(d->err, BGP_ERR_UPDATE, sub, a, alen);
	if (cls == E_DISCARD) {
		d->u->discarded++;
		return 0;
	}
	if (!d->u->withdraw_code) {
		d->u->withdraw_code = BGP_ERR_UPDATE;
		d->u->withdraw_subcode = sub;
		fail(d->err, BGP_ERR_UPDATE, sub, a, alen);
	}
	return 0;
}

/* AS_PATH / AS4_PATH value with ASes of asz bytes. Returns 0, -1 if malformed. */
static int parse_as_path(const uint8_t *p, size_t len, size_t asz, struct bgp_update_info *u)
{
	size_t i = 0, n;
	uint16_t cnt = 0;

	while (i < len) {
		if (len - i < 2)
			return -1;
		if (p[i] < SEG_SET || p[i] > SEG_CONFED_SET)
			return -1;
		n = p[i + 1];
		if (n == 0 || n * asz > len - i - 2)
			return -1;
		if (u) {
			if (cnt == 0 && (p[i] == SEG_SEQUENCE || p[i] == SEG_SET))
				u->first_as = asz == 4 ? rd32(p + i + 2) : rd16(p + i + 2);
			if (p[i] == SEG_SEQUENCE)
				cnt = (uint16_t)(cnt + n);
			else if (p[i] == SEG_SET)
				cnt++;
		}
		i += 2 + n * asz;
	}
	if (u)
		u->as_path_len = cnt;
	return 0;
}

/* Flags an attribute must have: -1 for unknown types. Bits: optional, transitive. */
static int want_flags(uint8_t type)
{
	switch (type) {
	case BGP_ATTR_ORIGIN:
	case BGP_ATTR_AS_PATH:
	case BGP_ATTR_NEXT_HOP:
	case BGP_ATTR_LOCAL_PREF:
	case BGP_ATTR_ATOMIC_AGGREGATE:
		return AF_TRANSITIVE;
	case BGP_ATTR_MED:
	case BGP_ATTR_MP_REACH:
	case BGP_ATTR_MP_UNREACH:
		return AF_OPTIONAL;
	case BGP_ATTR_AGGREGATOR:
	case BGP_ATTR_COMMUNITIES:
	case BGP_ATTR_EXT_COMMUNITIES:
	case BGP_ATTR_AS4_PATH:
	case BGP_ATTR_AS4_AGGREGATOR:
	case BGP_ATTR_LARGE_COMMUNITIES:
		return AF_OPTIONAL | AF_TRANSITIVE;
	}
	return -1;
}

static int mp_attr(struct upd *d, bool reach, const uint8_t *a, size_t alen, const uint8_t *v,
		   size_t vl)
{
	struct bgp_update_info *u = d->u;
	size_t hl = reach ? 5 : 3, nhl = 0;
	int fam, n;

	if (vl < hl)
		return attr_err(d, E_RESET, BGP_UPD_OPTIONAL_ATTR, a, alen);
	fam = bgp_family_of(rd16(v), v[2]);
	if (reach) {
		nhl = v[3];
		if (vl < hl + nhl)
			return attr_err(d, E_RESET, BGP_UPD_OPTIONAL_ATTR, a, alen);
		if (fam >= 0) {
			bool ok = fam_fs(fam)
				      ? true
				      : (fam_ip(fam) == 4 ? nhl == 4 || nhl == 16 || nhl == 32
							  : nhl == 16 || nhl == 32);
			if (!ok)
				return attr_err(d, E_RESET, BGP_UPD_OPTIONAL_ATTR, a, alen);
		}
		u->nexthop_len = (uint8_t)nhl;
		memset(&u->nexthop, 0, sizeof(u->nexthop));
		if (nhl == 4) {
			maddr_from_v4(&u->nexthop, v + 4);
		} else if (nhl >= 16) {
			memcpy(u->nexthop.b, v + 4, 16);
		}
		hl += nhl;
	}
	const uint8_t *nlri = v + hl;
	size_t nl = vl - hl;
	if (reach) {
		u->mp_reach_family = (int16_t)fam;
		u->mp_reach_nlri = nlri;
		u->mp_reach_nlri_len = (uint16_t)nl;
	} else {
		u->mp_unreach_family = (int16_t)fam;
		u->mp_unreach_nlri = nlri;
		u->mp_unreach_nlri_len = (uint16_t)nl;
	}
	if (fam < 0)
		return 0; /* not a family we asked for: nothing to count */
	n = count_nlri(nlri, nl, fam);
	if (n == -1)
		return attr_err(d, E_RESET, BGP_UPD_INVALID_NETWORK, a, alen);
	if (n == -2)
		return attr_err(d, E_WITHDRAW, BGP_UPD_INVALID_NETWORK, a, alen);
	if (reach)
		u->n_mp_reach = (uint16_t)n;
	else
		u->n_mp_unreach = (uint16_t)n;
	return 0;
}

/* One attribute: a points at the flags byte, alen bytes in all, value v[0..vl). */
static int one_attr(struct upd *d, const uint8_t *a, size_t alen, const uint8_t *v, size_t vl)
{
	struct bgp_update_info *u = d->u;
	uint8_t flags = a[0], type = a[1];
	int want = want_flags(type);

	if (d->seen[type / 8] & (1u << (type % 8))) {
		if (type == BGP_ATTR_MP_REACH || type == BGP_ATTR_MP_UNREACH)
			return attr_err(d, E_RESET, BGP_UPD_MALFORMED_ATTR_LIST, NULL, 0);
		return attr_err(d, E_DISCARD, BGP_UPD_MALFORMED_ATTR_LIST, NULL, 0);
	}
	d->seen[type / 8] |= (uint8_t)(1u << (type % 8));
	if (type < 64)
		u->attrs |= 1ull << type;
	if (want < 0) {
		if (!(flags & AF_OPTIONAL))
			return attr_err(d, E_RESET, BGP_UPD_UNRECOGNIZED_WELLKNOWN, a, alen);
		if (u->n_unknown < UINT16_MAX)
			u->n_unknown++;
		return 0;
	}
	if ((flags & (AF_OPTIONAL | AF_TRANSITIVE)) != want ||
	    ((flags & AF_PARTIAL) && !(want & AF_OPTIONAL)))
		return attr_err(
		    d,
		    type == BGP_ATTR_MP_REACH || type == BGP_ATTR_MP_UNREACH ? E_RESET : E_WITHDRAW,
		    BGP_UPD_ATTR_FLAGS, a, alen);
	switch (type) {
	case BGP_ATTR_ORIGIN:
		if (vl != 1)
			return attr_err(d, E_WITHDRAW, BGP_UPD_ATTR_LENGTH, a, alen);
		if (v[0] > ORIGIN_INCOMPLETE)
			return attr_err(d, E_WITHDRAW, BGP_UPD_INVALID_ORIGIN, a, alen);
		u->origin = v[0];
		return 0;
	case BGP_ATTR_AS_PATH:
		if (parse_as_path(v, vl, d->as4 ? 4 : 2, u) < 0)
			return attr_err(d, E_WITHDRAW, BGP_UPD_MALFORMED_AS_PATH, a, alen);
		return 0;
	case BGP_ATTR_NEXT_HOP:
		if (vl != 4)
			return attr_err(d, E_WITHDRAW, BGP_UPD_ATTR_LENGTH, a, alen);
		maddr_from_v4(&u->nexthop, v);
		u->nexthop_len = 4;
		return 0;
	case BGP_ATTR_MED:
	case BGP_ATTR_LOCAL_PREF:
		if (vl != 4)
			return attr_err(d, E_WITHDRAW, BGP_UPD_ATTR_LENGTH, a, alen);
		if (type == BGP_ATTR_MED)
			u->med = rd32(v);
		else
			u->local_pref = rd32(v);
		return 0;
	case BGP_ATTR_ATOMIC_AGGREGATE:
		return vl == 0 ? 0 : attr_err(d, E_DISCARD, BGP_UPD_ATTR_LENGTH, a, alen);
	case BGP_ATTR_AGGREGATOR:
		return vl == (d->as4 ? 8u : 6u)
			   ? 0
			   : attr_err(d, E_DISCARD, BGP_UPD_ATTR_LENGTH, a, alen);
	case BGP_ATTR_AS4_AGGREGATOR:
		return vl == 8 ? 0 : attr_err(d, E_DISCARD, BGP_UPD_ATTR_LENGTH, a, alen);
	case BGP_ATTR_AS4_PATH:
		return parse_as_path(v, vl, 4, NULL) == 0
			   ? 0
			   : attr_err(d, E_DISCARD, BGP_UPD_MALFORMED_AS_PATH, a, alen);
	case BGP_ATTR_COMMUNITIES:
		if (vl % 4)
			return attr_err(d, E_WITHDRAW, BGP_UPD_ATTR_LENGTH, a, alen);
		u->comm = v;
		u->n_comm = (uint16_t)(vl / 4);
		return 0;
	case BGP_ATTR_EXT_COMMUNITIES:
		if (vl % 8)
			return attr_err(d, E_WITHDRAW, BGP_UPD_ATTR_LENGTH, a, alen);
		u->ext = v;
		u->n_ext = (uint16_t)(vl / 8);
		return 0;
	case BGP_ATTR_LARGE_COMMUNITIES:
		if (vl % 12)
			return attr_err(d, E_WITHDRAW, BGP_UPD_ATTR_LENGTH, a, alen);
		u->large = v;
		u->n_large = (uint16_t)(vl / 12);
		return 0;
	case BGP_ATTR_MP_REACH:
	case BGP_ATTR_MP_UNREACH:
		return mp_attr(d, type == BGP_ATTR_MP_REACH, a, alen, v, vl);
	}
	return 0;
}

int bgp_update_decode(const uint8_t *msg, size_t len, bool as4, bool strict,
		      struct bgp_update_info *u, struct bgp_err *err)
{
	struct upd d = {u, err, as4, strict, {0}};
	const uint8_t *b = msg + BGP_HDR_LEN, *attrs, *nlri;
	size_t blen, wl, al, i, vl, hl, nl;
	struct maddr ad;
	uint8_t pl, miss;
	int c;

	memset(u, 0, sizeof(*u));
	u->mp_reach_family = u->mp_unreach_family = u->eor_family = -1;
	if (hdr_check(msg, len, BGP_UPDATE, err) < 0)
		return -1;
	blen = len - BGP_HDR_LEN;
	wl = rd16(b);
	if (wl > blen - 4)
		return fail(err, BGP_ERR_UPDATE, BGP_UPD_MALFORMED_ATTR_LIST, NULL, 0);
	al = rd16(b + 2 + wl);
	if (al > blen - 4 - wl)
		return fail(err, BGP_ERR_UPDATE, BGP_UPD_MALFORMED_ATTR_LIST, NULL, 0);
	for (i = 0; i < wl; i += (size_t)c, u->n_withdrawn++) {
		c = bgp_prefix_decode(b + 2 + i, wl - i, 4, &ad, &pl);
		if (c < 0)
			return fail(err, BGP_ERR_UPDATE, BGP_UPD_INVALID_NETWORK, NULL, 0);
	}
	attrs = b + 4 + wl;
	for (i = 0; i < al; i += hl + vl) {
		if (al - i < 3)
			return fail(err, BGP_ERR_UPDATE, BGP_UPD_MALFORMED_ATTR_LIST, NULL, 0);
		hl = (attrs[i] & AF_EXTLEN) ? 4 : 3;
		if (al - i < hl)
			return fail(err, BGP_ERR_UPDATE, BGP_UPD_MALFORMED_ATTR_LIST, NULL, 0);
		vl = hl == 4 ? rd16(attrs + i + 2) : attrs[i + 2];
		if (vl > al - i - hl) /* RFC 4271 6.3: Attribute Length Error */
			return fail(err, BGP_ERR_UPDATE, BGP_UPD_ATTR_LENGTH, attrs + i, al - i);
		if (one_attr(&d, attrs + i, hl + vl, attrs + i + hl, vl) < 0)
			return -1;
	}
	nlri = attrs + al;
	nl = blen - 4 - wl - al;
	u->nlri = nlri;
	u->nlri_len = (uint16_t)nl;
	for (i = 0; i < nl; i += (size_t)c, u->n_nlri++) {
		c = bgp_prefix_decode(nlri + i, nl - i, 4, &ad, &pl);
		if (c < 0)
			return fail(err, BGP_ERR_UPDATE, BGP_UPD_INVALID_NETWORK, NULL, 0);
	}
	/* mandatory attributes when something is announced (RFC 4271 6.3, RFC 4760 3) */
	if (u->n_nlri || (u->attrs & (1ull << BGP_ATTR_MP_REACH))) {
		miss = 0;
		if (!(u->attrs & (1ull << BGP_ATTR_ORIGIN)))
			miss = BGP_ATTR_ORIGIN;
		else if (!(u->attrs & (1ull << BGP_ATTR_AS_PATH)))
			miss = BGP_ATTR_AS_PATH;
		else if (u->n_nlri && !(u->attrs & (1ull << BGP_ATTR_NEXT_HOP)))
			miss = BGP_ATTR_NEXT_HOP;
		if (miss && attr_err(&d, E_WITHDRAW, BGP_UPD_MISSING_WELLKNOWN, &miss, 1) < 0)
			return -1;
	}
	if (wl == 0 && al == 0 && nl == 0) {
		u->eor = true;
		u->eor_family = BGP_IPV4_UNICAST;
	} else if (wl == 0 && nl == 0 && u->attrs == (1ull << BGP_ATTR_MP_UNREACH) &&
		   u->mp_unreach_nlri_len == 0) {
		u->eor = true;
		u->eor_family = u->mp_unreach_family;
	}
	return 0;
}

/* ---- NOTIFICATION, KEEPALIVE, ROUTE-REFRESH ---------------------------------------------------
 */

int bgp_keepalive_encode(uint8_t *buf, size_t cap)
{
	struct wr w = {buf, cap, 0, false};

	msg_begin(&w, BGP_KEEPALIVE);
	return msg_end(&w);
}

int bgp_notification_encode(uint8_t *buf, size_t cap, uint8_t code, uint8_t subcode,
			    const uint8_t *data, size_t data_len)
{
	struct wr w = {buf, cap, 0, false};

	if (data_len > BGP_MAX_LEN - NOTIF_MIN)
		data_len = BGP_MAX_LEN - NOTIF_MIN; /* diagnostic data: cut rather than not send */
	msg_begin(&w, BGP_NOTIFICATION);
	put8(&w, code);
	put8(&w, subcode);
	if (data_len)
		putn(&w, data, data_len);
	return msg_end(&w);
}

int bgp_notification_encode_err(uint8_t *buf, size_t cap, const struct bgp_err *e)
{
	return bgp_notification_encode(buf, cap, e->code, e->subcode, e->data, e->data_len);
}

int bgp_shutdown_encode(uint8_t *buf, size_t cap, uint8_t subcode, const char *text)
{
	uint8_t d[1 + SHUTDOWN_MAX];
	size_t n = text ? strlen(text) : 0;

	if (n > SHUTDOWN_MAX) {
		n = SHUTDOWN_MAX;
		while (n > 0 && ((uint8_t)text[n] & 0xc0) == 0x80)
			n--; /* text[n] continues a character: cut before that character */
	}
	d[0] = (uint8_t)n;
	if (n)
		memcpy(d + 1, text, n);
	return bgp_notification_encode(buf, cap, BGP_ERR_CEASE, subcode, d, n ? n + 1 : 0);
}

int bgp_notification_decode(const uint8_t *msg, size_t len, struct bgp_notification *n,
			    struct bgp_err *err)
{
	size_t tl, i;

	memset(n, 0, sizeof(*n));
	if (hdr_check(msg, len, BGP_NOTIFICATION, err) < 0)
		return -1;
	n->code = msg[19];
	n->subcode = msg[20];
	n->data = msg + NOTIF_MIN;
	n->data_len = (uint16_t)(len - NOTIF_MIN);
	if (n->code == BGP_ERR_CEASE &&
	    (n->subcode == BGP_CEASE_ADMIN_SHUTDOWN || n->subcode == BGP_CEASE_ADMIN_RESET) &&
	    n->data_len >= 1) {
		tl = n->data[0];
		if (tl >= 1 && tl + 1 <= n->data_len) {
			for (i = 0; i < tl; i++) {
				uint8_t c = n->data[1 + i];
				n->text[i] = (char)(c < 0x20 || c == 0x7f ? '?' : c);
			}
			n->text[tl] = 0;
			n->has_text = true;
		}
	}
	return 0;
}

int bgp_route_refresh_encode(uint8_t *buf, size_t cap, enum bgp_family f)
{
	struct wr w = {buf, cap, 0, false};
	uint16_t afi;
	uint8_t safi;

	if ((unsigned)f >= BGP_NFAMILIES)
		return -1;
	bgp_family_afi_safi(f, &afi, &safi);
	msg_begin(&w, BGP_ROUTE_REFRESH);
	put16(&w, afi);
	put8(&w, 0);
	put8(&w, safi);
	return msg_end(&w);
}

int bgp_route_refresh_decode(const uint8_t *msg, size_t len, uint16_t *afi, uint8_t *safi,
			     int *family, struct bgp_err *err)
{
	if (hdr_check(msg, len, BGP_ROUTE_REFRESH, err) < 0)
		return -1;
	*afi = rd16(msg + 19);
	*safi = msg[22];
	*family = bgp_family_of(*afi, *safi);
	return 0;
}

int bgp_parse(const uint8_t *msg, size_t len, const struct bgp_parse_ctx *ctx, struct bgp_msg *m,
	      struct bgp_err *err)
{
	static const struct bgp_parse_ctx dflt;

	if (!ctx)
		ctx = &dflt;
	memset(m, 0, sizeof(*m));
	if (len < BGP_HDR_LEN) {
		bgp_frame(msg, len, NULL, err); /* a bad marker is still 1/1 */
		return fail(err, BGP_ERR_HEADER, BGP_HDR_BAD_LENGTH, NULL, 0);
	}
	m->type = msg[18];
	m->len = (uint16_t)(len > BGP_MAX_LEN ? BGP_MAX_LEN : len);
	switch (m->type) {
	case BGP_OPEN:
		return bgp_open_decode(msg, len, ctx->peer_as, &m->u.open, err);
	case BGP_UPDATE:
		return bgp_update_decode(msg, len, ctx->as4, ctx->strict, &m->u.update, err);
	case BGP_NOTIFICATION:
		return bgp_notification_decode(msg, len, &m->u.notif, err);
	case BGP_KEEPALIVE:
		return hdr_check(msg, len, BGP_KEEPALIVE, err);
	case BGP_ROUTE_REFRESH:
		return bgp_route_refresh_decode(msg, len, &m->u.rr.afi, &m->u.rr.safi,
						&m->u.rr.family, err);
	}
	return hdr_check(msg, len, 0, err); /* reports the header error (bad type, ...) */
}

/* ---- names -------------------------------------------------------------------------------------
 */

const char *bgp_type_name(int type)
{
	static const char *const n[] = {"?",	     "OPEN",	     "UPDATE", "NOTIFICATION",
					"KEEPALIVE", "ROUTE-REFRESH"};
	return type > 0 && type <= BGP_ROUTE_REFRESH ? n[type] : "?";
}

const char *bgp_err_name(int code)
{
	static const char *const n[] = {"?",
					"Message Header Error",
					"OPEN Message Error",
					"UPDATE Message Error",
					"Hold Timer Expired",
					"Finite State Machine Error",
					"Cease",
					"ROUTE-REFRESH Message Error"};
	return code > 0 && code <= BGP_ERR_ROUTE_REFRESH ? n[code] : "?";
}

const char *bgp_suberr_name(int code, int subcode)
{
	static const char *const hdr[] = {"", "Connection Not Synchronized", "Bad Message Length",
					  "Bad Message Type"};
	static const char *const open[] = {"",
					   "Unsupported Version Number",
					   "Bad Peer AS",
					   "Bad BGP Identifier",
					   "Unsupported Optional Parameter",
					   "Authentication Failure",
					   "Unacceptable Hold Time",
					   "Unsupported Capability",
					   "",
					   "",
					   "",
					   "Role Mismatch"};
	static const char *const upd[] = {"",
					  "Malformed Attribute List",
					  "Unrecognized Well-known Attribute",
					  "Missing Well-known Attribute",
					  "Attribute Flags Error",
					  "Attribute Length Error",
					  "Invalid ORIGIN Attribute",
					  "AS Routing Loop",
					  "Invalid NEXT_HOP Attribute",
					  "Optional Attribute Error",
					  "Invalid Network Field",
					  "Malformed AS_PATH"};
	static const char *const fsm[] = {"", "Receive Unexpected Message in OpenSent State",
					  "Receive Unexpected Message in OpenConfirm State",
					  "Receive Unexpected Message in Established State"};
	static const char *const cease[] = {"",
					    "Maximum Number of Prefixes Reached",
					    "Administrative Shutdown",
					    "Peer De-configured",
					    "Administrative Reset",
					    "Connection Rejected",
					    "Other Configuration Change",
					    "Connection Collision Resolution",
					    "Out of Resources",
					    "Hard Reset",
					    "BFD Down"};
	static const char *const rr[] = {"", "Invalid Message Length"};
#define PICK(t) return subcode >= 0 && (size_t)subcode < sizeof(t) / sizeof(t[0]) ? t[subcode] : ""
	switch (code) {
	case BGP_ERR_HEADER:
		PICK(hdr);
	case BGP_ERR_OPEN:
		PICK(open);
	case BGP_ERR_UPDATE:
		PICK(upd);
	case BGP_ERR_FSM:
		PICK(fsm);
	case BGP_ERR_CEASE:
		PICK(cease);
	case BGP_ERR_ROUTE_REFRESH:
		PICK(rr);
	}
#undef PICK
	return "";
}

const char *bgp_family_name(int f)
{
	return f >= 0 && f < BGP_NFAMILIES ? fams[f].name : "?";
}
