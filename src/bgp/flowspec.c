/* flowspec: RFC 8955 / RFC 8956 Flow Specification NLRI. See flowspec.h.
 *
 * Every read is checked against the end of the NLRI value (the length prefix says where it ends)
 * and every write against the caller's buffer; a malformed NLRI is an error, never a crash. The
 * decoder only accepts what the encoder can produce again (canonical types, ops, lengths), so
 * decode -> encode -> decode gives the same rule; the fuzzer holds it to that.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bgp/flowspec.h"
#include "bgp/wr.h"

enum {
	OP_END = 0x80,
	OP_LEN_MASK = 0x30,
	OP_LEN_SHIFT = 4,
	NUM_OP_MASK = FS_AND | FS_LT | FS_GT | FS_EQ,
	BIT_OP_MASK = FS_AND | FS_NOT | FS_MATCH,
	LONG_LEN = 240,	      /* lengths from here take two bytes */
	LONG_LEN_FLAG = 0xf0, /* high nibble of the first of two length bytes */
	V4_OFF = 12,	      /* IPv4 address bytes in struct maddr */
};

static bool is_bitmask(int type)
{
	return type == FS_TCP_FLAGS || type == FS_FRAGMENT;
}

static bool is_list(int type)
{
	return type >= FS_PROTO && type < FS_NTYPES;
}

void fs_rule_init(struct fs_rule *r, int family)
{
	memset(r, 0, sizeof(*r));
	r->family = (uint8_t)family;
}

int fs_add(struct fs_rule *r, enum fs_type type, uint8_t op, uint64_t value)
{
	struct fs_list *l;

	if (!is_list((int)type))
		return -1;
	l = &r->l[type];
	if (l->n >= FS_MAX_ITEMS)
		return -1;
	l->it[l->n].op = op;
	l->it[l->n].value = value;
	l->n++;
	return 0;
}

int fs_add_eq(struct fs_rule *r, enum fs_type type, uint64_t v)
{
	return fs_add(r, type, FS_EQ, v);
}

int fs_add_range(struct fs_rule *r, enum fs_type type, uint64_t lo, uint64_t hi)
{
	if (fs_add(r, type, FS_GT | FS_EQ, lo) < 0)
		return -1;
	if (fs_add(r, type, FS_AND | FS_LT | FS_EQ, hi) < 0) {
		r->l[type].n--;
		return -1;
	}
	return 0;
}

static void set_prefix(struct fs_prefix *p, const struct maddr *addr, int len, int off)
{
	p->addr = *addr;
	p->len = (uint8_t)len;
	p->off = (uint8_t)off;
}

void fs_set_dst(struct fs_rule *r, const struct maddr *addr, int len, int off)
{
	set_prefix(&r->dst, addr, len, off);
	r->has_dst = true;
}

void fs_set_src(struct fs_rule *r, const struct maddr *addr, int len, int off)
{
	set_prefix(&r->src, addr, len, off);
	r->has_src = true;
}

/* ---- bits of an address ---------------------------------------------------------------------- */

/* Bit i (0 = most significant) of the family's address: IPv4 counts from byte 12. */
static int getbit(const struct maddr *a, int family, int i)
{
	int byte = (family == 4 ? V4_OFF : 0) + i / 8;

	return (a->b[byte] >> (7 - i % 8)) & 1;
}

static void setbit(struct maddr *a, int family, int i)
{
	int byte = (family == 4 ? V4_OFF : 0) + i / 8;

	a->b[byte] |= (uint8_t)(0x80 >> (i % 8));
}

static bool prefix_ok(const struct fs_prefix *p, int family)
{
	if (family == 4)
		return p->len <= 32 && p->off == 0;
	return p->len <= 128 && p->off <= p->len;
}

/* ---- encoder --------------------------------------------------------------------------------- */

static void put_prefix(struct wr *w, int type, const struct fs_prefix *p, int family)
{
	uint8_t pat[16] = {0};
	int nbits = p->len - p->off, i;

	put8(w, (uint8_t)type);
	put8(w, p->len);
	if (family == 6)
		put8(w, p->off);
	for (i = 0; i < nbits; i++)
		if (getbit(&p->addr, family, p->off + i))
			pat[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	for (i = 0; i < (nbits + 7) / 8; i++)
		put8(w, pat[i]);
}

/* Shortest of 1, 2, 4, 8 bytes holding v, as the 2-bit length code. */
static int len_code(uint64_t v)
{
	if (v <= 0xff)
		return 0;
	if (v <= 0xffff)
		return 1;
	if (v <= 0xffffffffu)
		return 2;
	return 3;
}

static int list_ok(const struct fs_list *l, int type, int family)
{
	uint8_t mask = is_bitmask(type) ? BIT_OP_MASK : NUM_OP_MASK;
	int i;

	if (l->n > FS_MAX_ITEMS || (l->it[0].op & FS_AND))
		return -1;
	if (type == FS_FLOW_LABEL && family != 6)
		return -1;
	for (i = 0; i < l->n; i++) {
		if (l->it[i].op & ~mask)
			return -1;
		if (type == FS_FRAGMENT && family == 6 && (l->it[i].value & FS_FRAG_DF))
			return -1;
	}
	return 0;
}

static void put_list(struct wr *w, int type, const struct fs_list *l)
{
	int i, c, k;

	put8(w, (uint8_t)type);
	for (i = 0; i < l->n; i++) {
		c = len_code(l->it[i].value);
		put8(w, (uint8_t)((i == l->n - 1 ? OP_END : 0) | c << OP_LEN_SHIFT | l->it[i].op));
		for (k = (1 << c) - 1; k >= 0; k--)
			put8(w, (uint8_t)(l->it[i].value >> (8 * k)));
	}
}

int fs_nlri_encode(const struct fs_rule *r, uint8_t *buf, size_t cap)
{
	uint8_t tmp[FS_NLRI_BUFLEN];
	struct wr w = {tmp, sizeof(tmp), 0, false};
	int t, fam = r->family;
	bool any = r->has_dst || r->has_src;

	if (fam != 4 && fam != 6)
		return -1;
	if ((r->has_dst && !prefix_ok(&r->dst, fam)) || (r->has_src && !prefix_ok(&r->src, fam)))
		return -1;
	for (t = FS_PROTO; t < FS_NTYPES; t++) {
		if (!r->l[t].n)
			continue;
		if (list_ok(&r->l[t], t, fam) < 0)
			return -1;
		any = true;
	}
	if (!any)
		return -1;
	if (r->has_dst)
		put_prefix(&w, FS_DST, &r->dst, fam);
	if (r->has_src)
		put_prefix(&w, FS_SRC, &r->src, fam);
	for (t = FS_PROTO; t < FS_NTYPES; t++)
		if (r->l[t].n)
			put_list(&w, t, &r->l[t]);
	if (w.err || w.len > FS_NLRI_MAX)
		return -1;
	size_t hl = w.len < LONG_LEN ? 1 : 2;
	if (hl + w.len > cap)
		return -1;
	if (hl == 1) {
		buf[0] = (uint8_t)w.len;
	} else {
		buf[0] = (uint8_t)(LONG_LEN_FLAG | w.len >> 8);
		buf[1] = (uint8_t)w.len;
	}
	memcpy(buf + hl, tmp, w.len);
	return (int)(hl + w.len);
}

/* ---- decoder --------------------------------------------------------------------------------- */

/* Reads a prefix component's body at p[*i..end) into out. */
static int get_prefix(const uint8_t *p, size_t *i, size_t end, int family, struct fs_prefix *out)
{
	int nbits, nbytes, k;

	memset(out, 0, sizeof(*out));
	if (*i >= end)
		return -1;
	out->len = p[(*i)++];
	if (family == 6) {
		if (*i >= end)
			return -1;
		out->off = p[(*i)++];
	}
	if (!prefix_ok(out, family))
		return -1;
	if (family == 4)
		maddr_from_v4(&out->addr, (const uint8_t[4]){0, 0, 0, 0});
	nbits = out->len - out->off;
	nbytes = (nbits + 7) / 8;
	if ((size_t)nbytes > end - *i)
		return -1;
	for (k = 0; k < nbits; k++)
		if (p[*i + (size_t)k / 8] & (0x80 >> (k % 8)))
			setbit(&out->addr, family, out->off + k);
	*i += (size_t)nbytes;
	return 0;
}

static int get_list(const uint8_t *p, size_t *i, size_t end, int type, struct fs_list *l)
{
	uint8_t op, mask = is_bitmask(type) ? BIT_OP_MASK : NUM_OP_MASK;
	size_t vl, k;
	uint64_t v;

	l->n = 0;
	for (;;) {
		if (*i >= end || l->n >= FS_MAX_ITEMS)
			return -1;
		op = p[(*i)++];
		vl = (size_t)1 << ((op & OP_LEN_MASK) >> OP_LEN_SHIFT);
		if (vl > end - *i)
			return -1;
		for (v = 0, k = 0; k < vl; k++)
			v = v << 8 | p[*i + k];
		*i += vl;
		if (l->n == 0 && (op & FS_AND))
			return -1;
		l->it[l->n].op = op & mask; /* reserved bits are ignored on receipt */
		l->it[l->n].value = v;
		l->n++;
		if (op & OP_END)
			return 0;
	}
}

int fs_nlri_decode(const uint8_t *p, size_t len, int family, struct fs_rule *r)
{
	size_t hl, vlen, i, end;
	int type, last = 0;

	if ((family != 4 && family != 6) || len < 1)
		return -1;
	fs_rule_init(r, family);
	if (p[0] < LONG_LEN) {
		hl = 1;
		vlen = p[0];
	} else {
		if ((p[0] & 0xf0) != LONG_LEN_FLAG || len < 2)
			return -1;
		hl = 2;
		vlen = (size_t)(p[0] & 0x0f) << 8 | p[1];
	}
	if (vlen == 0 || vlen > len - hl)
		return -1;
	i = hl;
	end = hl + vlen;
	while (i < end) {
		type = p[i++];
		if (type <= last || type >= FS_NTYPES)
			return -1;
		if (type == FS_FLOW_LABEL && family != 6)
			return -1;
		last = type;
		if (type == FS_DST || type == FS_SRC) {
			struct fs_prefix *pf = type == FS_DST ? &r->dst : &r->src;
			if (get_prefix(p, &i, end, family, pf) < 0)
				return -1;
			if (type == FS_DST)
				r->has_dst = true;
			else
				r->has_src = true;
			continue;
		}
		if (get_list(p, &i, end, type, &r->l[type]) < 0)
			return -1;
		if (list_ok(&r->l[type], type, family) < 0)
			return -1;
	}
	return (int)end;
}

/* ---- comparison ------------------------------------------------------------------------------ */

static bool prefix_eq(const struct fs_prefix *a, const struct fs_prefix *b, int family)
{
	int i;

	if (a->len != b->len || a->off != b->off)
		return false;
	for (i = a->off; i < a->len; i++)
		if (getbit(&a->addr, family, i) != getbit(&b->addr, family, i))
			return false;
	return true;
}

bool fs_rule_eq(const struct fs_rule *a, const struct fs_rule *b)
{
	int t, i;

	if (a->family != b->family || a->has_dst != b->has_dst || a->has_src != b->has_src)
		return false;
	if (a->has_dst && !prefix_eq(&a->dst, &b->dst, a->family))
		return false;
	if (a->has_src && !prefix_eq(&a->src, &b->src, a->family))
		return false;
	for (t = FS_PROTO; t < FS_NTYPES; t++) {
		if (a->l[t].n != b->l[t].n)
			return false;
		for (i = 0; i < a->l[t].n; i++)
			if (a->l[t].it[i].op != b->l[t].it[i].op ||
			    a->l[t].it[i].value != b->l[t].it[i].value)
				return false;
	}
	return true;
}

/* ---- text ------------------------------------------------------------------------------------ */

struct sb {
	char *p;
	size_t cap, len; /* len: what the full text needs, may exceed cap */
};

static void sb_printf(struct sb *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sb *s, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(s->len < s->cap ? s->p + s->len : NULL, s->len < s->cap ? s->cap - s->len : 0,
		      fmt, ap);
	va_end(ap);
	if (n > 0)
		s->len += (size_t)n;
}

const char *fs_type_name(int type)
{
	static const char *const names[FS_NTYPES] = {
	    [FS_DST] = "destination",
	    [FS_SRC] = "source",
	    [FS_PROTO] = "protocol",
	    [FS_PORT] = "port",
	    [FS_DPORT] = "destination-port",
	    [FS_SPORT] = "source-port",
	    [FS_ICMP_TYPE] = "icmp-type",
	    [FS_ICMP_CODE] = "icmp-code",
	    [FS_TCP_FLAGS] = "tcp-flags",
	    [FS_PKT_LEN] = "packet-length",
	    [FS_DSCP] = "dscp",
	    [FS_FRAGMENT] = "fragment",
	    [FS_FLOW_LABEL] = "flow-label",
	};
	return type > 0 && type < FS_NTYPES ? names[type] : "?";
}

static const char *proto_name(uint64_t v)
{
	return v <= 255 ? ipproto_name((unsigned)v) : NULL;
}

static void fmt_prefix(struct sb *s, const char *name, const struct fs_prefix *p, int family)
{
	char a[MADDR_STRLEN];
	struct maddr m;
	int i;

	/* only the matched bits: the rest is not part of the rule */
	memset(&m, 0, sizeof(m));
	if (family == 4)
		maddr_from_v4(&m, (const uint8_t[4]){0, 0, 0, 0});
	for (i = p->off; i < p->len; i++)
		if (getbit(&p->addr, family, i))
			setbit(&m, family, i);
	sb_printf(s, "%s%s %s/%u", s->len ? " " : "", name, maddr_str(&m, a), p->len);
	if (p->off)
		sb_printf(s, " offset %u", p->off);
}

static void fmt_bits(struct sb *s, int type, uint64_t v)
{
	static const char tcp[] = "FSRPAUEC";
	static const char *const frag[] = {"DF", "IsF", "FF", "LF"};
	int i;
	bool first = true;

	if (type == FS_TCP_FLAGS) {
		for (i = 0; i < 8; i++)
			if (v & (1u << i))
				sb_printf(s, "%c", tcp[i]);
		if (v >> 8)
			sb_printf(s, "%s0x%llx", (v & 0xff) ? "+" : "",
				  (unsigned long long)(v & ~0xffull));
		if (!v)
			sb_printf(s, "0");
		return;
	}
	for (i = 0; i < 4; i++)
		if (v & (1u << i)) {
			sb_printf(s, "%s%s", first ? "" : "+", frag[i]);
			first = false;
		}
	if (v >> 4) {
		sb_printf(s, "%s0x%llx", first ? "" : "+", (unsigned long long)(v & ~0xfull));
		first = false;
	}
	if (first)
		sb_printf(s, "0");
}

static void fmt_list(struct sb *s, int type, const struct fs_list *l)
{
	static const char *const num_ops[8] = {"false", "==", ">", ">=", "<", "<=", "!=", "true"};
	static const char *const bit_ops[4] = {"", "=", "!", "!="};
	const struct fs_item *it;
	const char *pn;
	int i;

	sb_printf(s, "%s%s ", s->len ? " " : "", fs_type_name(type));
	for (i = 0; i < l->n; i++) {
		it = &l->it[i];
		if (i)
			sb_printf(s, "%s", (it->op & FS_AND) ? "&" : " ");
		if (is_bitmask(type)) {
			sb_printf(s, "%s", bit_ops[it->op & (FS_NOT | FS_MATCH)]);
			fmt_bits(s, type, it->value);
			continue;
		}
		sb_printf(s, "%s", num_ops[it->op & (FS_LT | FS_GT | FS_EQ)]);
		if ((it->op & (FS_LT | FS_GT | FS_EQ)) == 0 ||
		    (it->op & (FS_LT | FS_GT | FS_EQ)) == (FS_LT | FS_GT | FS_EQ))
			continue; /* false / true: the value does not matter */
		if (type == FS_PROTO && (pn = proto_name(it->value)))
			sb_printf(s, "%s", pn);
		else
			sb_printf(s, "%llu", (unsigned long long)it->value);
	}
}

int fs_format(const struct fs_rule *r, char *buf, size_t cap)
{
	struct sb s = {buf, cap, 0};
	int t;

	if (cap)
		buf[0] = 0;
	if (r->has_dst)
		fmt_prefix(&s, "destination", &r->dst, r->family);
	if (r->has_src)
		fmt_prefix(&s, "source", &r->src, r->family);
	for (t = FS_PROTO; t < FS_NTYPES; t++)
		if (r->l[t].n)
			fmt_list(&s, t, &r->l[t]);
	return (int)s.len;
}
