/* bgp/policy: attacks to BGP announcements, their hold and their state file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bgp/policy.h"
#include "ctl/ctl.h"
#include "core/clock.h"
#include "core/jparse.h"
#include "core/log.h"
#include "mitigate/mitigate.h"
#include "mitigate/rule.h"

#define BGPP_MAX 65536

struct ann {
	uint64_t id;
	enum mit_action action; /* blackhole, flowspec or diversion as sent (auto: two routes) */
	char attack[40];	/* "" by hand */
	struct maddr target;
	struct scrub_rule rule; /* flowspec: the vector it came from */
	uint64_t start_ns;
	uint64_t until_ns; /* 0: while the attack lasts (or by hand: until withdrawn) */
	uint64_t mono_ns;  /* CLOCK_MONOTONIC just before the speaker got it (announce/withdraw) */
	bool only_no_fs;   /* auto's blackhole: only to peers without Flowspec */
	char text[RULE_TEXT_MAX + 64];
	struct ann *next;
};

struct bgpp {
	const struct conf *c;
	struct bgpp_backend b;
	bgpp_emit_fn emit;
	void *emit_arg;
	struct ann *list;
	size_t n;
	uint64_t next_id;
	bool auto_blackhole; /* the route being added goes to peers without flowspec only */
	bool persist;	     /* keep bgp.state_file (not in a replay) */
	struct json j;
};

struct bgpp *bgpp_new(const struct conf *c, const struct bgpp_backend *b, bool persist,
		      bgpp_emit_fn emit, void *emit_arg)
{
	struct bgpp *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->c = c;
	p->b = *b;
	p->emit = emit;
	p->emit_arg = emit_arg;
	p->next_id = 1;
	p->persist = persist;
	json_init(&p->j);
	return p;
}

void bgpp_free(struct bgpp *p)
{
	if (!p)
		return;
	while (p->list) {
		struct ann *a = p->list;
		p->list = a->next;
		free(a);
	}
	json_free(&p->j);
	free(p);
}

void bgpp_set_conf(struct bgpp *p, const struct conf *c)
{
	p->c = c;
}

/* ---- routes ---- */

static void set_comms(struct bgp_out_route *r, const struct bgp_announce_cfg *a)
{
	for (size_t i = 0; i < a->n_comm && i < 16; i++)
		r->comm[r->n_comm++] = a->comm[i];
	for (size_t i = 0; i < a->n_large && i < 8; i++) {
		r->large[r->n_large].global = a->large[i][0];
		r->large[r->n_large].local1 = a->large[i][1];
		r->large[r->n_large].local2 = a->large[i][2];
		r->n_large++;
	}
}

/* A numeric component for lo..hi: "== lo" for one value, ">= lo" when hi is the field's
 * largest value, else the range. */
static void fs_span(struct fs_rule *fs, enum fs_type t, unsigned lo, unsigned hi, unsigned max)
{
	if (lo == hi)
		fs_add_eq(fs, t, lo);
	else if (hi >= max)
		fs_add(fs, t, FS_GT | FS_EQ, lo);
	else
		fs_add_range(fs, t, lo, hi);
}

/* The Flowspec rule for a scrubber rule: destination, protocol, ports, length, TCP flags, ICMP
 * type and code, fragments (TTL has no Flowspec component and is left out: broader, not
 * narrower). IPv6 packet length is the payload length (RFC 8956): the L3 length less 40. */
static void fs_from_rule(const struct scrub_rule *s, const struct maddr *t, struct fs_rule *fs)
{
	bool v4 = maddr_is_v4(t);
	unsigned less = v4 ? 0 : 40;

	fs_rule_init(fs, v4 ? 4 : 6);
	fs_set_dst(fs, t, v4 ? 32 : 128, 0);
	if (s->match & SCRUB_M_PROTO)
		fs_add_eq(fs, FS_PROTO, s->proto);
	if (s->match & SCRUB_M_SPORT)
		fs_span(fs, FS_SPORT, s->sport_min, s->sport_max, 65535);
	if (s->match & SCRUB_M_DPORT)
		fs_span(fs, FS_DPORT, s->dport_min, s->dport_max, 65535);
	if (s->match & SCRUB_M_ICMP) {
		fs_add_eq(fs, FS_ICMP_TYPE, s->icmp_type);
		if (s->icmp_code != 0xff)
			fs_add_eq(fs, FS_ICMP_CODE, s->icmp_code);
	}
	if (s->match & SCRUB_M_TCPFLAGS) {
		fs_add(fs, FS_TCP_FLAGS, FS_MATCH, s->tcp_value);
		if (s->tcp_mask & ~s->tcp_value)
			fs_add(fs, FS_TCP_FLAGS, FS_AND | FS_NOT, s->tcp_mask & ~s->tcp_value);
	}
	if ((s->match & SCRUB_M_LEN) && s->len_max >= less)
		fs_span(fs, FS_PKT_LEN, s->len_min > less ? s->len_min - less : 0,
			s->len_max - less, 65535 - less);
	if (s->match & SCRUB_M_FRAG) {
		unsigned f = s->frag & (SCRUB_FRAG_NONE | SCRUB_FRAG_FIRST | SCRUB_FRAG_LATER);
		if (f == (SCRUB_FRAG_FIRST | SCRUB_FRAG_LATER)) {
			fs_add(fs, FS_FRAGMENT, 0, FS_FRAG_ISF);
		} else if (f == SCRUB_FRAG_FIRST) {
			fs_add(fs, FS_FRAGMENT, FS_MATCH, FS_FRAG_FF);
		} else if (f == SCRUB_FRAG_LATER) {
			fs_add(fs, FS_FRAGMENT, FS_MATCH, FS_FRAG_ISF);
			fs_add(fs, FS_FRAGMENT, FS_AND | FS_NOT, FS_FRAG_FF);
		} else if (f == SCRUB_FRAG_NONE) {
			fs_add(fs, FS_FRAGMENT, FS_NOT, FS_FRAG_ISF);
		}
	}
}

static int build(const struct conf *c, enum mit_action act, const struct maddr *t,
		 const struct scrub_rule *s, double rate, struct bgp_out_route *r,
		 struct fs_rule *fs, char *why, size_t whylen)
{
	bool v4 = maddr_is_v4(t);
	const struct bgp_announce_cfg *a =
	    act == MIT_ACT_DIVERSION ? &c->bgp.diversion : &c->bgp.blackhole;

	memset(r, 0, sizeof(*r));
	if (act == MIT_ACT_FLOWSPEC) {
		fs_from_rule(s, t, fs);
		r->r.family = v4 ? BGP_IPV4_FLOWSPEC : BGP_IPV6_FLOWSPEC;
		r->r.fs = fs;
		r->ext[r->n_ext++] = bgp_ext_traffic_rate(
		    (uint16_t)(c->bgp.local_as > 65535 ? 23456 : c->bgp.local_as), (float)rate);
		return 0;
	}
	if (act != MIT_ACT_BLACKHOLE && act != MIT_ACT_DIVERSION) {
		snprintf(why, whylen, "action %s announces nothing", conf_action_name(act));
		return -1;
	}
	if (v4 ? !a->has_nh4 : !a->has_nh6) {
		snprintf(why, whylen, "bgp.%s has no %s",
			 act == MIT_ACT_BLACKHOLE ? "blackhole" : "diversion",
			 v4 ? "next_hop" : "next_hop6");
		return -1;
	}
	r->r.family = v4 ? BGP_IPV4_UNICAST : BGP_IPV6_UNICAST;
	r->r.prefix = *t;
	r->r.len = act == MIT_ACT_BLACKHOLE ? (v4 ? 32 : 128) : (uint8_t)(v4 ? a->len4 : a->len6);
	maddr_mask(&r->r.prefix, v4 ? 96 + r->r.len : r->r.len);
	r->nexthop = v4 ? a->next_hop : a->next_hop6;
	set_comms(r, a);
	return 0;
}

/* The attack's packet-rate floor in bytes per second, for a Flowspec traffic-rate where the
 * scrubber would limit per source (Flowspec limits the whole aggregate). */
static double rate_for(const struct conf *c, const struct attack *a, const struct scrub_rule *s)
{
	if (s->action != SCRUB_ACT_RATELIMIT)
		return c->bgp.flowspec_rate;
	if (a && a->limit && a->limit[THR_MBPS])
		return (double)a->limit[THR_MBPS] * 125000.0;
	return c->bgp.flowspec_rate;
}

int bgpp_route_for(const struct conf *c, const struct attack *a, enum mit_action act,
		   struct bgp_out_route *r, struct fs_rule *fs, char *why, size_t whylen)
{
	struct scrub_rule s;
	uint32_t tf;
	double cover;

	if (a->group) {
		snprintf(why, whylen, "a hostgroup attack: announcements are per address");
		return -1;
	}
	if (a->dir != DIR_IN) {
		snprintf(why, whylen, "an outgoing attack: announcements stop traffic toward us");
		return -1;
	}
	memset(&s, 0, sizeof(s));
	if (act == MIT_ACT_FLOWSPEC && mit_rule_for(a, c, &s, &tf, &cover, why, whylen) < 0)
		return -1;
	return build(c, act, &a->target, &s, rate_for(c, a, &s), r, fs, why, whylen);
}

static enum mit_action choose(const struct conf *c, const struct attack *a)
{
	const struct mit_policy *m = c->mitigation;
	size_t n = c->n_mitigation;

	if (a->hg >= 0 && (size_t)a->hg < c->n_hostgroups && c->hostgroups[a->hg].mitigation) {
		m = c->hostgroups[a->hg].mitigation;
		n = c->hostgroups[a->hg].n_mitigation;
	}
	if (!m)
		return MIT_ACT_AUTO;
	for (size_t i = 0; i < n; i++)
		if ((!m[i].bps_over || a->bps > (double)m[i].bps_over) &&
		    (!m[i].pps_over || a->pps > (double)m[i].pps_over))
			return m[i].action;
	return MIT_ACT_NONE;
}

/* ---- the state file ---- */

static void save(struct bgpp *p)
{
	const char *path = p->c->bgp.state_file;
	char tmp[4200];
	struct json j;
	char rs[RULE_TEXT_MAX], ts[MADDR_STRLEN];

	if (!path || !p->persist)
		return;
	json_init(&j);
	json_obj(&j);
	json_key(&j, "next_id");
	json_u64(&j, p->next_id);
	json_key(&j, "routes");
	json_arr(&j);
	for (struct ann *a = p->list; a; a = a->next) {
		json_obj(&j);
		json_key(&j, "id");
		json_u64(&j, a->id);
		json_key(&j, "action");
		json_str(&j, conf_action_name(a->action));
		json_key(&j, "attack");
		json_str(&j, a->attack);
		json_key(&j, "target");
		json_str(&j, maddr_str(&a->target, ts));
		json_key(&j, "rule");
		rule_format(&a->rule, rs, sizeof(rs));
		json_str(&j, a->rule.action ? rs : "");
		json_key(&j, "until");
		json_dbl(&j, a->until_ns / 1e9, 3);
		json_key(&j, "only_without_flowspec");
		json_bool(&j, a->only_no_fs);
		json_end(&j);
	}
	json_aend(&j);
	json_end(&j);
	json_raw(&j, "\n");
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0 || j.oom || write(fd, j.buf, j.len) != (ssize_t)j.len || fsync(fd) < 0 ||
	    close(fd) < 0 || rename(tmp, path) < 0) {
		static bool said;
		if (!said)
			log_err("bgp: cannot write the state file %s: %s", path, strerror(errno));
		said = true;
		if (fd >= 0)
			close(fd);
	}
	json_free(&j);
}

/* ---- announce, withdraw ---- */

static void emit(struct bgpp *p, const char *ev, uint64_t now_ns, const struct ann *a,
		 const char *reason)
{
	struct json *j = &p->j;
	char ts[MADDR_STRLEN];

	json_reset(j);
	json_obj(j);
	json_key(j, "event");
	json_str(j, ev);
	json_key(j, "ts");
	json_dbl(j, now_ns / 1e9, 3);
	json_key(j, "route_id");
	json_u64(j, a->id);
	json_key(j, "attack");
	if (a->attack[0])
		json_str(j, a->attack);
	else
		json_null(j);
	json_key(j, "target");
	json_str(j, maddr_str(&a->target, ts));
	json_key(j, "action");
	json_str(j, conf_action_name(a->action));
	json_key(j, "route");
	json_str(j, a->text);
	json_key(j, "mono_ns"); /* the bgp_update_sent events' clock: announce to wire */
	json_u64(j, a->mono_ns);
	if (reason) {
		json_key(j, "reason");
		json_str(j, reason);
	}
	json_end(j);
	if (p->emit && !j->oom)
		p->emit(p->emit_arg, j->buf, j->len);
}

static int add(struct bgpp *p, enum mit_action act, const char *attack, const struct maddr *t,
	       const struct scrub_rule *s, double rate, uint64_t now_ns, uint64_t until_ns,
	       uint64_t id, struct ann **out, char *err, size_t errlen)
{
	struct bgp_out_route r;
	struct fs_rule fs;
	if (p->n >= BGPP_MAX) {
		snprintf(err, errlen, "%d routes announced already", BGPP_MAX);
		return -1;
	}
	if (build(p->c, act, t, s, rate, &r, &fs, err, errlen) < 0)
		return -1;
	struct ann *a = calloc(1, sizeof(*a));
	if (!a) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	a->id = id ? id : p->next_id++;
	if (a->id >= p->next_id)
		p->next_id = a->id + 1;
	r.id = a->id;
	a->action = act;
	snprintf(a->attack, sizeof(a->attack), "%s", attack ? attack : "");
	a->target = *t;
	if (s)
		a->rule = *s;
	a->start_ns = now_ns;
	a->until_ns = until_ns;
	if (act == MIT_ACT_FLOWSPEC) {
		fs_format(&fs, a->text, sizeof(a->text));
	} else {
		char pfx[MADDR_STRLEN], nh[MADDR_STRLEN];
		snprintf(a->text, sizeof(a->text), "%s/%u next-hop %s%s",
			 maddr_str(&r.r.prefix, pfx), r.r.len, maddr_str(&r.nexthop, nh),
			 act == MIT_ACT_BLACKHOLE ? " blackhole" : " diversion");
	}
	r.only_without_flowspec = p->auto_blackhole;
	a->only_no_fs = p->auto_blackhole;
	a->mono_ns = mono_ns();
	int rc = p->b.announce(p->b.arg, &r);
	if (rc < 0) {
		snprintf(err, errlen, "the speaker refused the route: %s", strerror(-rc));
		free(a);
		return -1;
	}
	a->next = p->list;
	p->list = a;
	p->n++;
	emit(p, "bgp_announce", now_ns, a, NULL);
	log_info("bgp: announced %s %s (route %llu%s%s)", conf_action_name(act), a->text,
		 (unsigned long long)a->id, a->attack[0] ? ", attack " : "", a->attack);
	save(p);
	if (out)
		*out = a;
	return 0;
}

static void drop(struct bgpp *p, struct ann **pp, uint64_t now_ns, const char *reason)
{
	struct ann *a = *pp;
	a->mono_ns = mono_ns();
	int rc = p->b.withdraw(p->b.arg, a->id);

	if (rc < 0 && rc != -ENOENT)
		log_err("bgp: withdraw of route %llu: %s", (unsigned long long)a->id,
			strerror(-rc));
	*pp = a->next;
	p->n--;
	emit(p, "bgp_withdraw", now_ns, a, reason);
	log_info("bgp: withdrew %s %s (%s)", conf_action_name(a->action), a->text, reason);
	free(a);
	save(p);
}

void bgpp_event(void *arg, const struct event *ev)
{
	struct bgpp *p = arg;
	const struct attack *at = ev->a;
	char why[256];

	if (ev->kind == EV_ATTACK_END) {
		for (struct ann *a = p->list; a; a = a->next)
			if (a->attack[0] && !strcmp(a->attack, at->id) && !a->until_ns)
				a->until_ns = ev->ts_ns + (uint64_t)(p->c->bgp.hold * 1e9);
		save(p);
		return;
	}
	if (ev->kind != EV_ATTACK_START)
		return;
	enum mit_action act = choose(p->c, at);
	if (act == MIT_ACT_NONE)
		return;
	if (at->group || at->dir != DIR_IN) {
		log_info("bgp: attack %s on %s: nothing announced: %s", at->id, ev->target,
			 at->group ? "a hostgroup attack (announcements are per address)"
				   : "an outgoing attack");
		return;
	}
	struct scrub_rule s;
	uint32_t tf;
	double cover;
	memset(&s, 0, sizeof(s));
	bool fs_ok = mit_rule_for(at, p->c, &s, &tf, &cover, why, sizeof(why)) == 0;
	if (act == MIT_ACT_FLOWSPEC && !fs_ok) {
		log_info("bgp: attack %s: no flowspec rule (%s), a blackhole instead", at->id, why);
		act = MIT_ACT_BLACKHOLE;
	}
	if (act == MIT_ACT_AUTO) {
		/* flowspec to the peers that have it, a blackhole to the others: the speaker
		 * sends the blackhole only where the flowspec family was not negotiated */
		if (fs_ok &&
		    add(p, MIT_ACT_FLOWSPEC, at->id, &at->target, &s, rate_for(p->c, at, &s),
			ev->ts_ns, 0, 0, NULL, why, sizeof(why)) < 0)
			log_err("bgp: attack %s: %s", at->id, why);
		act = MIT_ACT_BLACKHOLE;
		p->auto_blackhole = fs_ok;
	}
	if (add(p, act, at->id, &at->target, act == MIT_ACT_FLOWSPEC ? &s : NULL,
		rate_for(p->c, at, &s), ev->ts_ns, 0, 0, NULL, why, sizeof(why)) < 0)
		log_err("bgp: attack %s on %s: nothing announced: %s", at->id, ev->target, why);
	p->auto_blackhole = false;
}

void bgpp_tick(struct bgpp *p, uint64_t now_ns)
{
	for (struct ann **pp = &p->list; *pp;) {
		if ((*pp)->until_ns && (*pp)->until_ns <= now_ns)
			drop(p, pp, now_ns, "hold expired");
		else
			pp = &(*pp)->next;
	}
}

/* ---- restart ---- */

int bgpp_restore(struct bgpp *p, uint64_t now_ns, char *err, size_t errlen)
{
	const char *path = p->c->bgp.state_file;
	char *buf = NULL, e2[256];
	size_t len = 0;
	FILE *f;
	int n = 0, gone = 0;

	if (!path || !(f = fopen(path, "re"))) {
		if (path && errno != ENOENT) {
			snprintf(err, errlen, "bgp.state_file %s: %s", path, strerror(errno));
			return -1;
		}
		return 0;
	}
	buf = malloc(1 << 24);
	if (buf)
		len = fread(buf, 1, 1 << 24, f);
	fclose(f);
	struct jdoc *d = buf ? jparse(buf, len, e2, sizeof(e2)) : NULL;
	free(buf);
	if (!d) {
		snprintf(err, errlen, "bgp.state_file %s: %s", path, buf ? e2 : "out of memory");
		return -1;
	}
	const struct jval *root = jdoc_root(d), *routes = jv_get(root, "routes");
	uint64_t next = 0;
	if (jv_uint(jv_get(root, "next_id"), &next) && next > p->next_id)
		p->next_id = next;
	for (size_t i = 0; i < jv_len(routes); i++) {
		const struct jval *r = jv_at(routes, i);
		const char *act = jv_str(jv_get(r, "action")), *tgt = jv_str(jv_get(r, "target"));
		const char *rule = jv_str(jv_get(r, "rule")), *attack = jv_str(jv_get(r, "attack"));
		double until = jv_num(jv_get(r, "until"));
		uint64_t id = 0;
		struct maddr t;
		struct scrub_rule s;
		enum mit_action a;

		memset(&s, 0, sizeof(s));
		if (!act || !tgt || !jv_uint(jv_get(r, "id"), &id) || maddr_parse(tgt, &t) < 0)
			continue;
		if (!strcmp(act, "blackhole"))
			a = MIT_ACT_BLACKHOLE;
		else if (!strcmp(act, "diversion"))
			a = MIT_ACT_DIVERSION;
		else if (!strcmp(act, "flowspec"))
			a = MIT_ACT_FLOWSPEC;
		else
			continue;
		if (a == MIT_ACT_FLOWSPEC) {
			char words[RULE_TEXT_MAX + 64], *argv[64], *save = NULL;
			int argc = 0;
			snprintf(words, sizeof(words), "%s %s", tgt, rule ? rule : "");
			for (char *w = strtok_r(words, " ", &save); w && argc < 64;
			     w = strtok_r(NULL, " ", &save))
				argv[argc++] = w;
			if (rule_parse(argc, argv, &s, e2, sizeof(e2)) < 0)
				continue;
		}
		uint64_t until_ns = until > 0 ? (uint64_t)(until * 1e9) : 0;
		if (until_ns && until_ns <= now_ns) {
			gone++; /* ended while moatd was down: the session reset took it away */
			continue;
		}
		/* an attack still going when moatd stopped: unknown now, so held from now */
		if (!until_ns)
			until_ns = now_ns + (uint64_t)(p->c->bgp.hold * 1e9);
		/* auto's blackhole stays away from the Flowspec peers after a restart too */
		p->auto_blackhole = jv_bool(jv_get(r, "only_without_flowspec")) == 1;
		int rc = add(p, a, attack, &t, a == MIT_ACT_FLOWSPEC ? &s : NULL,
			     a == MIT_ACT_FLOWSPEC ? p->c->bgp.flowspec_rate : 0, now_ns, until_ns,
			     id, NULL, e2, sizeof(e2));
		p->auto_blackhole = false;
		if (rc == 0)
			n++;
		else
			log_err("bgp: cannot announce route %llu again: %s", (unsigned long long)id,
				e2);
	}
	jdoc_free(d);
	if (n || gone)
		log_info("bgp: %d route(s) from %s announced again, %d ended while moatd was down",
			 n, path, gone);
	save(p);
	return n;
}

/* ---- by hand ---- */

static void ann_json(const struct ann *a, struct json *j, uint64_t now_ns)
{
	char ts[MADDR_STRLEN];

	json_obj(j);
	json_key(j, "id");
	json_u64(j, a->id);
	json_key(j, "action");
	json_str(j, conf_action_name(a->action));
	json_key(j, "target");
	json_str(j, maddr_str(&a->target, ts));
	json_key(j, "route");
	json_str(j, a->text);
	json_key(j, "attack");
	if (a->attack[0])
		json_str(j, a->attack);
	else
		json_null(j);
	json_key(j, "age");
	json_dbl(j, now_ns > a->start_ns ? (now_ns - a->start_ns) / 1e9 : 0, 1);
	json_key(j, "expires_in");
	if (a->until_ns)
		json_dbl(j, a->until_ns > now_ns ? (a->until_ns - now_ns) / 1e9 : 0, 1);
	else
		json_null(j);
	json_end(j);
}

int bgpp_command(struct bgpp *p, int argc, char **argv, uint64_t now_ns, struct json *out,
		 char *err, size_t errlen)
{
	if (argc == 2 && !strcmp(argv[1], "list")) {
		json_key(out, "routes");
		json_arr(out);
		for (struct ann *a = p->list; a; a = a->next)
			ann_json(a, out, now_ns);
		json_aend(out);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "withdraw")) {
		char *end;
		errno = 0;
		unsigned long long id = strtoull(argv[2], &end, 10);
		if (errno || *end || !*argv[2] || argv[2][0] == '-') {
			snprintf(err, errlen, "bgp withdraw: '%s' is not a route id", argv[2]);
			return -1;
		}
		for (struct ann **pp = &p->list; *pp; pp = &(*pp)->next)
			if ((*pp)->id == id) {
				drop(p, pp, now_ns, "withdrawn by operator");
				json_key(out, "withdrawn");
				json_u64(out, id);
				return 0;
			}
		snprintf(err, errlen, "no route %llu", id);
		return CTL_ENOTFOUND;
	}
	if (argc >= 4 && !strcmp(argv[1], "announce")) {
		struct maddr t;
		struct scrub_rule s;
		struct ann *a;
		enum mit_action act;

		memset(&s, 0, sizeof(s));
		if (!strcmp(argv[2], "blackhole"))
			act = MIT_ACT_BLACKHOLE;
		else if (!strcmp(argv[2], "diversion"))
			act = MIT_ACT_DIVERSION;
		else if (!strcmp(argv[2], "flowspec"))
			act = MIT_ACT_FLOWSPEC;
		else {
			snprintf(err, errlen,
				 "bgp announce: '%s' is not blackhole, flowspec or "
				 "diversion",
				 argv[2]);
			return -1;
		}
		if (act == MIT_ACT_FLOWSPEC) {
			if (rule_parse(argc - 3, argv + 3, &s, err, errlen) < 0)
				return -1;
			if (s.action != SCRUB_ACT_DROP) {
				snprintf(err, errlen,
					 "bgp announce flowspec: the rule must end with "
					 "drop (traffic-rate bgp.flowspec_rate)");
				return -1;
			}
			memcpy(t.b, s.target.a, 16);
		} else if (argc != 4 || maddr_parse(argv[3], &t) < 0) {
			snprintf(err, errlen, "bgp announce %s: expected one IPv4 or IPv6 address",
				 argv[2]);
			return -1;
		}
		for (struct ann *x = p->list; x; x = x->next)
			if (x->action == act && maddr_eq(&x->target, &t) &&
			    (act != MIT_ACT_FLOWSPEC || !memcmp(&x->rule, &s, sizeof(s)))) {
				snprintf(err, errlen, "already announced as route %llu",
					 (unsigned long long)x->id);
				return CTL_ECONFLICT;
			}
		if (add(p, act, NULL, &t, act == MIT_ACT_FLOWSPEC ? &s : NULL,
			p->c->bgp.flowspec_rate, now_ns, 0, 0, &a, err, errlen) < 0)
			return -1;
		json_key(out, "route");
		ann_json(a, out, now_ns);
		return 0;
	}
	snprintf(err, errlen,
		 "usage: bgp list | bgp withdraw ID | bgp announce blackhole|diversion ADDRESS | "
		 "bgp announce flowspec TARGET [MATCH...] drop|ratelimit PPS | bgp peers");
	return -1;
}

void bgpp_shutdown(struct bgpp *p, uint64_t now_ns)
{
	for (struct ann *a = p->list; a; a = a->next) {
		a->mono_ns = mono_ns();
		emit(p, "bgp_withdraw", now_ns, a, "shutdown (kept in the state file)");
	}
}
