/* rule: parse and format scrubber rules as words (grammar in rule.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/obs.h"
#include "mitigate/rule.h"

static const char *const flag_names[] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG"};
#define ALL_FLAGS 0x3f

static int __attribute__((format(printf, 3, 4))) bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Decimal in lo..hi, digits only. */
static int num(const char *s, unsigned long lo, unsigned long hi, unsigned long *v)
{
	char *end;

	if (!s || !*s || *s < '0' || *s > '9' || strlen(s) > 10)
		return -1;
	errno = 0;
	*v = strtoul(s, &end, 10);
	if (errno || *end || *v < lo || *v > hi)
		return -1;
	return 0;
}

/* "P" or "P-Q" with P <= Q, both in 0..hi. */
static int range(const char *s, unsigned long hi, unsigned long *a, unsigned long *b)
{
	char buf[32];
	const char *dash;

	if (!s || strlen(s) >= sizeof(buf))
		return -1;
	dash = strchr(s, '-');
	if (!dash)
		return num(s, 0, hi, a) < 0 ? -1 : (*b = *a, 0);
	memcpy(buf, s, (size_t)(dash - s));
	buf[dash - s] = 0;
	if (num(buf, 0, hi, a) < 0 || num(dash + 1, 0, hi, b) < 0 || *a > *b)
		return -1;
	return 0;
}

static int flags(const char *s, unsigned *v)
{
	char buf[64], *save = NULL, *tok;

	if (!s || !*s || strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	*v = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i;
		for (i = 0; i < 6 && strcasecmp(tok, flag_names[i]); i++)
			;
		if (i == 6)
			return -1;
		*v |= 1u << i;
	}
	return *v ? 0 : -1;
}

static int frags(const char *s, unsigned *v)
{
	char buf[64], *save = NULL, *tok;

	if (!s || !*s || strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	*v = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "none"))
			*v |= SCRUB_FRAG_NONE;
		else if (!strcmp(tok, "first"))
			*v |= SCRUB_FRAG_FIRST;
		else if (!strcmp(tok, "later"))
			*v |= SCRUB_FRAG_LATER;
		else if (!strcmp(tok, "fragment"))
			*v |= SCRUB_FRAG_FIRST | SCRUB_FRAG_LATER;
		else
			return -1;
	}
	return *v ? 0 : -1;
}

static int proto_num(const char *s, int v6, unsigned long *p)
{
	if (!strcmp(s, "tcp"))
		*p = 6;
	else if (!strcmp(s, "udp"))
		*p = 17;
	else if (!strcmp(s, "icmp"))
		*p = v6 ? 58 : 1;
	else if (!strcmp(s, "icmpv6"))
		*p = 58;
	else
		return num(s, 0, 255, p);
	return 0;
}

int rule_parse(int argc, char *const *argv, struct scrub_rule *r, char *err, size_t errlen)
{
	struct maddr t;
	unsigned long a, b;
	unsigned f, m;
	int i, v6, have_burst = 0, have_per = 0;

	memset(r, 0, sizeof(*r));
	if (argc < 1)
		return bad(err, errlen, "a rule needs a target address and an action");
	if (maddr_parse(argv[0], &t) < 0)
		return bad(err, errlen, "'%s' is not an IPv4 or IPv6 address", argv[0]);
	memcpy(r->target.a, t.b, 16);
	v6 = !maddr_is_v4(&t);
	for (i = 1; i < argc; i++) {
		const char *w = argv[i], *x = i + 1 < argc ? argv[i + 1] : NULL;
		int seen = 0;

#define ONCE(bit)                                                                                  \
	do {                                                                                       \
		if (r->match & (bit))                                                              \
			return bad(err, errlen, "'%s' given twice", w);                            \
		if (!x)                                                                            \
			return bad(err, errlen, "'%s' needs a value", w);                          \
		r->match |= (bit);                                                                 \
		i++;                                                                               \
		seen = 1;                                                                          \
	} while (0)
		if (r->action &&
		    (!strcmp(w, "drop") || !strcmp(w, "pass") || !strcmp(w, "ratelimit")))
			return bad(err, errlen, "'%s': more than one action", w);
		if (r->action && strcmp(w, "burst") && strcmp(w, "per"))
			return bad(err, errlen, "'%s' after the action (the action comes last)", w);
		if (!strcmp(w, "proto")) {
			ONCE(SCRUB_M_PROTO);
			if (proto_num(x, v6, &a) < 0)
				return bad(err, errlen,
					   "proto: '%s' is not tcp, udp, icmp, icmpv6 or "
					   "a number 0-255",
					   x);
			r->proto = (__u8)a;
		} else if (!strcmp(w, "sport") || !strcmp(w, "dport")) {
			int s = w[0] == 's';
			ONCE(s ? SCRUB_M_SPORT : SCRUB_M_DPORT);
			if (range(x, 65535, &a, &b) < 0)
				return bad(err, errlen, "%s: '%s' is not a port or range P-Q", w,
					   x);
			if (s)
				r->sport_min = (__u16)a, r->sport_max = (__u16)b;
			else
				r->dport_min = (__u16)a, r->dport_max = (__u16)b;
		} else if (!strcmp(w, "len")) {
			ONCE(SCRUB_M_LEN);
			if (range(x, 65535, &a, &b) < 0)
				return bad(err, errlen, "len: '%s' is not a length or range A-B",
					   x);
			r->len_min = (__u16)a, r->len_max = (__u16)b;
		} else if (!strcmp(w, "ttl")) {
			ONCE(SCRUB_M_TTL);
			if (range(x, 255, &a, &b) < 0)
				return bad(err, errlen, "ttl: '%s' is not a TTL or range A-B", x);
			r->ttl_min = (__u8)a, r->ttl_max = (__u8)b;
		} else if (!strcmp(w, "flags")) {
			char v[64];
			const char *slash;
			ONCE(SCRUB_M_TCPFLAGS);
			slash = strchr(x, '/');
			if (strlen(x) >= sizeof(v))
				return bad(err, errlen, "flags: '%s' is too long", x);
			strcpy(v, x);
			if (slash)
				v[slash - x] = 0;
			if (flags(v, &f) < 0 || (slash && flags(slash + 1, &m) < 0))
				return bad(
				    err, errlen,
				    "flags: '%s' is not FLAGS[/MASK] of FIN,SYN,RST,PSH,ACK,URG",
				    x);
			if (!slash)
				m = ALL_FLAGS;
			if (f & ~m)
				return bad(err, errlen, "flags: '%s' sets flags outside its mask",
					   x);
			r->tcp_value = (__u8)f, r->tcp_mask = (__u8)m;
		} else if (!strcmp(w, "frag")) {
			ONCE(SCRUB_M_FRAG);
			if (frags(x, &f) < 0)
				return bad(err, errlen,
					   "frag: '%s' is not none, first, later or fragment", x);
			r->frag = (__u8)f;
		} else if (!strcmp(w, "icmp-type")) {
			ONCE(SCRUB_M_ICMP);
			if (num(x, 0, 255, &a) < 0)
				return bad(err, errlen, "icmp-type: '%s' is not 0-255", x);
			r->icmp_type = (__u8)a;
			r->icmp_code = 0xff;
			if (i + 2 < argc && !strcmp(argv[i + 1], "icmp-code")) {
				if (num(argv[i + 2], 0, 254, &a) < 0)
					return bad(err, errlen, "icmp-code: '%s' is not 0-254",
						   argv[i + 2]);
				r->icmp_code = (__u8)a;
				i += 2;
			}
		} else if (!strcmp(w, "icmp-code")) {
			return bad(err, errlen, "icmp-code comes right after icmp-type");
		} else if (!strcmp(w, "drop") || !strcmp(w, "pass")) {
			if (r->action)
				return bad(err, errlen, "'%s': more than one action", w);
			r->action = w[0] == 'd' ? SCRUB_ACT_DROP : SCRUB_ACT_PASS;
			seen = 1;
		} else if (!strcmp(w, "ratelimit")) {
			if (r->action)
				return bad(err, errlen, "'%s': more than one action", w);
			if (!x || num(x, 1, 1u << 30, &a) < 0)
				return bad(err, errlen,
					   "ratelimit needs packets per second (1-1073741824)");
			r->action = SCRUB_ACT_RATELIMIT;
			r->rate = (__u32)a;
			r->burst = (__u32)a; /* a second's worth unless told */
			i++;
			seen = 1;
		} else if (!strcmp(w, "burst") || !strcmp(w, "per")) {
			if (r->action != SCRUB_ACT_RATELIMIT)
				return bad(err, errlen, "'%s' goes after ratelimit PPS", w);
			if (!x)
				return bad(err, errlen, "'%s' needs a value", w);
			if (w[0] == 'b') {
				if (have_burst++ || num(x, 1, 1u << 30, &a) < 0)
					return bad(
					    err, errlen,
					    "burst: '%s' is not 1-1073741824 (or given twice)", x);
				r->burst = (__u32)a;
			} else {
				if (have_per++ || x[0] != '/' ||
				    num(x + 1, 1, v6 ? 128 : 32, &a) < 0)
					return bad(
					    err, errlen,
					    "per: '%s' is not a prefix length /1-/%d (or given "
					    "twice)",
					    x, v6 ? 128 : 32);
				if (v6)
					r->rl_plen6 = (__u8)a;
				else
					r->rl_plen4 = (__u8)a;
			}
			i++;
			seen = 1;
		}
#undef ONCE
		if (!seen)
			return bad(
			    err, errlen,
			    "unknown word '%s' (expected proto, sport, dport, len, ttl, flags, "
			    "frag, icmp-type, drop, pass or ratelimit)",
			    w);
	}
	if (!r->action)
		return bad(err, errlen, "no action: end the rule with drop, pass or ratelimit PPS");
	if (r->match & SCRUB_M_ICMP) {
		if (!(r->match & SCRUB_M_PROTO)) {
			r->match |= SCRUB_M_PROTO;
			r->proto = v6 ? 58 : 1;
		}
		if (r->proto != (v6 ? 58 : 1))
			return bad(err, errlen, "icmp-type needs proto %s", v6 ? "icmpv6" : "icmp");
	}
	if (r->match & (SCRUB_M_SPORT | SCRUB_M_DPORT) &&
	    (!(r->match & SCRUB_M_PROTO) || (r->proto != 6 && r->proto != 17)))
		return bad(err, errlen, "ports need proto tcp or udp");
	if (r->match & SCRUB_M_TCPFLAGS) {
		if (!(r->match & SCRUB_M_PROTO)) {
			r->match |= SCRUB_M_PROTO;
			r->proto = 6;
		}
		if (r->proto != 6)
			return bad(err, errlen, "flags need proto tcp");
	}
	r->origin = SCRUB_ORIGIN_MANUAL;
	return 0;
}

int rule_valid(const struct scrub_rule *r)
{
	if (r->action < SCRUB_ACT_DROP || r->action > SCRUB_ACT_RATELIMIT)
		return 0;
	if (r->match & ~(__u32)(SCRUB_M_ICMP * 2 - 1))
		return 0;
	if (r->sport_min > r->sport_max || r->dport_min > r->dport_max || r->len_min > r->len_max ||
	    r->ttl_min > r->ttl_max)
		return 0;
	if (r->action == SCRUB_ACT_RATELIMIT && (!r->rate || !r->burst))
		return 0;
	return 1;
}

static void flag_list(char *buf, size_t len, unsigned v)
{
	size_t n = 0;

	buf[0] = 0;
	for (int i = 0; i < 6; i++)
		if (v & (1u << i))
			n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "," : "",
					      flag_names[i]);
}

/* v6: the target is IPv6, where the word "icmp" means ICMPv6 */
static const char *proto_name(unsigned p, int v6, char *buf, size_t len)
{
	if (p == 6)
		return "tcp";
	if (p == 17)
		return "udp";
	if (p == 1 && !v6)
		return "icmp";
	if (p == 58)
		return "icmpv6";
	snprintf(buf, len, "%u", p);
	return buf;
}

void rule_target_str(const struct scrub_rule *r, char *buf, size_t len)
{
	struct maddr t;
	char s[MADDR_STRLEN];

	memcpy(t.b, r->target.a, 16);
	snprintf(buf, len, "%s", maddr_str(&t, s));
}

#define APPEND(...)                                                                                \
	do {                                                                                       \
		int k_ = snprintf(buf + n, n < len ? len - n : 0, __VA_ARGS__);                    \
		if (k_ > 0)                                                                        \
			n += (size_t)k_;                                                           \
	} while (0)

static void range_str(char *buf, size_t len, size_t *np, const char *w, unsigned a, unsigned b)
{
	size_t n = *np;

	if (a == b)
		APPEND("%s%s %u", n ? " " : "", w, a);
	else
		APPEND("%s%s %u-%u", n ? " " : "", w, a, b);
	*np = n;
}

void rule_format(const struct scrub_rule *r, char *buf, size_t len)
{
	size_t n = 0;
	char tmp[64];
	struct maddr t;

	if (!len)
		return;
	buf[0] = 0;
	memcpy(t.b, r->target.a, 16);
	if (r->match & SCRUB_M_PROTO)
		APPEND("proto %s", proto_name(r->proto, !maddr_is_v4(&t), tmp, sizeof(tmp)));
	if (r->match & SCRUB_M_SPORT)
		range_str(buf, len, &n, "sport", r->sport_min, r->sport_max);
	if (r->match & SCRUB_M_DPORT)
		range_str(buf, len, &n, "dport", r->dport_min, r->dport_max);
	if (r->match & SCRUB_M_LEN)
		range_str(buf, len, &n, "len", r->len_min, r->len_max);
	if (r->match & SCRUB_M_TTL)
		range_str(buf, len, &n, "ttl", r->ttl_min, r->ttl_max);
	if (r->match & SCRUB_M_TCPFLAGS) {
		flag_list(tmp, sizeof(tmp), r->tcp_value);
		APPEND("%sflags %s", n ? " " : "", r->tcp_value ? tmp : "");
		if (r->tcp_mask != ALL_FLAGS || !r->tcp_value) {
			flag_list(tmp, sizeof(tmp), r->tcp_mask);
			APPEND("/%s", tmp);
		}
	}
	if (r->match & SCRUB_M_FRAG) {
		const char *sep = "";
		APPEND("%sfrag ", n ? " " : "");
		if ((r->frag & (SCRUB_FRAG_FIRST | SCRUB_FRAG_LATER)) ==
		    (SCRUB_FRAG_FIRST | SCRUB_FRAG_LATER)) {
			if (r->frag & SCRUB_FRAG_NONE)
				APPEND("none,");
			APPEND("fragment");
		} else {
			if (r->frag & SCRUB_FRAG_NONE) {
				APPEND("none");
				sep = ",";
			}
			if (r->frag & SCRUB_FRAG_FIRST) {
				APPEND("%sfirst", sep);
				sep = ",";
			}
			if (r->frag & SCRUB_FRAG_LATER)
				APPEND("%slater", sep);
		}
	}
	if (r->match & SCRUB_M_ICMP) {
		APPEND("%sicmp-type %u", n ? " " : "", r->icmp_type);
		if (r->icmp_code != 0xff)
			APPEND(" icmp-code %u", r->icmp_code);
	}
	if (r->action == SCRUB_ACT_DROP)
		APPEND("%sdrop", n ? " " : "");
	else if (r->action == SCRUB_ACT_PASS)
		APPEND("%spass", n ? " " : "");
	else if (r->action == SCRUB_ACT_RATELIMIT) {
		unsigned plen = maddr_is_v4(&t) ? r->rl_plen4 : r->rl_plen6;
		APPEND("%sratelimit %u", n ? " " : "", r->rate);
		if (r->burst != r->rate)
			APPEND(" burst %u", r->burst);
		if (plen)
			APPEND(" per /%u", plen);
	}
}

static const char *action_name(unsigned a)
{
	return a == SCRUB_ACT_DROP	  ? "drop"
	       : a == SCRUB_ACT_PASS	  ? "pass"
	       : a == SCRUB_ACT_RATELIMIT ? "ratelimit"
					  : "none";
}

void rule_json(const struct scrub_rule *r, struct json *j)
{
	char s[RULE_TEXT_MAX], tmp[64];

	rule_target_str(r, s, sizeof(s));
	json_key(j, "target");
	json_str(j, s);
	rule_format(r, s, sizeof(s));
	json_key(j, "text");
	json_str(j, s);
	json_key(j, "action");
	json_str(j, action_name(r->action));
	json_key(j, "origin");
	json_str(j, r->origin == SCRUB_ORIGIN_AUTO ? "auto" : "manual");
	json_key(j, "match");
	json_obj(j);
	if (r->match & SCRUB_M_PROTO) {
		struct maddr t;
		memcpy(t.b, r->target.a, 16);
		json_key(j, "proto");
		json_str(j, proto_name(r->proto, !maddr_is_v4(&t), tmp, sizeof(tmp)));
	}
	if (r->match & SCRUB_M_SPORT) {
		json_key(j, "sport");
		json_arr(j), json_u64(j, r->sport_min), json_u64(j, r->sport_max), json_aend(j);
	}
	if (r->match & SCRUB_M_DPORT) {
		json_key(j, "dport");
		json_arr(j), json_u64(j, r->dport_min), json_u64(j, r->dport_max), json_aend(j);
	}
	if (r->match & SCRUB_M_LEN) {
		json_key(j, "len");
		json_arr(j), json_u64(j, r->len_min), json_u64(j, r->len_max), json_aend(j);
	}
	if (r->match & SCRUB_M_TTL) {
		json_key(j, "ttl");
		json_arr(j), json_u64(j, r->ttl_min), json_u64(j, r->ttl_max), json_aend(j);
	}
	if (r->match & SCRUB_M_TCPFLAGS) {
		flag_list(tmp, sizeof(tmp), r->tcp_value);
		json_key(j, "tcp_flags");
		json_str(j, tmp);
		flag_list(tmp, sizeof(tmp), r->tcp_mask);
		json_key(j, "tcp_mask");
		json_str(j, tmp);
	}
	if (r->match & SCRUB_M_FRAG) {
		json_key(j, "frag");
		json_arr(j);
		if (r->frag & SCRUB_FRAG_NONE)
			json_str(j, "none");
		if (r->frag & SCRUB_FRAG_FIRST)
			json_str(j, "first");
		if (r->frag & SCRUB_FRAG_LATER)
			json_str(j, "later");
		json_aend(j);
	}
	if (r->match & SCRUB_M_ICMP) {
		json_key(j, "icmp_type");
		json_u64(j, r->icmp_type);
		if (r->icmp_code != 0xff) {
			json_key(j, "icmp_code");
			json_u64(j, r->icmp_code);
		}
	}
	json_end(j);
	if (r->action == SCRUB_ACT_RATELIMIT) {
		struct maddr t;
		memcpy(t.b, r->target.a, 16);
		unsigned plen = maddr_is_v4(&t) ? r->rl_plen4 : r->rl_plen6;
		json_key(j, "rate");
		json_u64(j, r->rate);
		json_key(j, "burst");
		json_u64(j, r->burst);
		json_key(j, "per");
		json_u64(j, plen ? plen : maddr_is_v4(&t) ? 32 : 128);
	}
}
