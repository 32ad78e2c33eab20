/* mitigate: attack vectors to scrubber rules, their lifetime, and their evidence. */
#include <errno.h>
#include <math.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/clock.h"
#include "core/log.h"
#include "ctl/ctl.h"
#include "mitigate/mitigate.h"
#include "mitigate/rule.h"

/* A value joins the rule when it alone covers at least COVER_ONE of the attack's sampled
 * packets; a range (length, TTL) is the span of the fewest top values that cover COVER_RANGE.
 * High bars: every component a rule has lets the packets without it through. */
#define COVER_ONE   0.95
#define COVER_RANGE 0.98
/* Rate-limit rules for traffic a legitimate client also sends: SYNs at source_pps, other
 * packets (ACKs of a download, a busy resolver's UDP) at this many times more. */
#define BULK_FACTOR 20

struct mrule {
	struct scrub_rule r;
	char attack[40];     /* "" for a manual rule or one adopted from an earlier run */
	char type[32];	     /* the attack's class */
	uint32_t tflags;     /* target flags this rule set (SCRUB_T_ATTACK) */
	uint64_t start_ns;   /* rule added */
	uint64_t expires_ns; /* 0: no expiry (attack running, or manual) */
	/* The detector stops seeing an attack the scrubber drops in front of its capture, so the
	 * rule also lives while it drops at attack_pps: hold runs from the later of the two. */
	uint64_t attack_pps;   /* lowest packet-rate threshold of the attack's target; 0: none */
	uint64_t active_ns;    /* last second the rule dropped at attack_pps or more */
	uint64_t seen_ns;      /* when the counters were read last */
	uint64_t seen_dropped; /* dropped_packets then */
	double drop_pps;       /* over the last reading */
	pcap_dumper_t *ev;
	uint32_t ev_n;
	char *ev_path;
};

struct mit {
	const struct conf *c;
	struct mit_backend b;
	bool dry;
	mit_emit_fn emit;
	void *emit_arg;
	struct mrule *rules[SCRUB_MAX_RULES];
	uint32_t hi; /* ids < hi may be in use */
	struct json j;
	struct mit_stats st;
	pcap_t *dead;
	pcap_dumper_t *unmatched;
	uint32_t unmatched_n;
	bool evidence_failed;
};

struct mit *mit_new(const struct conf *c, const struct mit_backend *b, mit_emit_fn emit,
		    void *emit_arg)
{
	struct mit *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->c = c;
	if (b)
		m->b = *b;
	m->dry = !b;
	m->emit = emit;
	m->emit_arg = emit_arg;
	json_init(&m->j);
	return m;
}

static void evidence_close(struct mrule *e)
{
	if (e->ev)
		pcap_dump_close(e->ev);
	e->ev = NULL;
}

void mit_free(struct mit *m)
{
	if (!m)
		return;
	for (uint32_t i = 0; i < m->hi; i++)
		if (m->rules[i]) {
			evidence_close(m->rules[i]);
			free(m->rules[i]->ev_path);
			free(m->rules[i]);
		}
	if (m->unmatched)
		pcap_dump_close(m->unmatched);
	if (m->dead)
		pcap_close(m->dead);
	json_free(&m->j);
	free(m);
}

void mit_set_conf(struct mit *m, const struct conf *c)
{
	m->c = c;
}

const struct mit_stats *mit_stats(const struct mit *m)
{
	return &m->st;
}

/* ---- the policy ---- */

static double share(const struct sk_item *it, uint64_t total)
{
	return total ? (double)(it->count - it->err) / (double)total : 0;
}

static uint32_t key_u32(const uint8_t k[16])
{
	uint32_t v;
	memcpy(&v, k, 4);
	return v;
}

/* The fewest top values of feature f that together cover COVER_RANGE of the packets, as a range
 * lo..hi. Returns their share, or 0 if the top values never get there. */
static double top_range(const struct vec *v, enum vfeat f, uint32_t *lo, uint32_t *hi)
{
	struct sk_item it[SKETCH_K];
	uint32_t n = sketch_top(&v->sk[f], it, SKETCH_K);
	double cum = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t k = key_u32(it[i].key);
		if (i == 0 || k < *lo)
			*lo = k;
		if (i == 0 || k > *hi)
			*hi = k;
		cum += share(&it[i], v->total);
		if (cum >= COVER_RANGE)
			return cum;
	}
	return 0;
}

/* Top value of feature f if it alone covers COVER_ONE; its share, or 0. */
static double top_one(const struct vec *v, enum vfeat f, uint32_t *k)
{
	struct sk_item it[1];

	if (sketch_top(&v->sk[f], it, 1) != 1)
		return 0;
	double s = share(&it[0], v->total);
	if (s < COVER_ONE)
		return 0;
	*k = key_u32(it[0].key);
	return s;
}

static bool amp_class(enum atype t)
{
	return t >= AT_DNS_AMP && t <= AT_SNMP_AMP;
}

/* Reflection ports, as the data plane knows them (scrub.bpf.c amp_port). */
static bool amp_port(uint32_t p)
{
	static const uint16_t ports[] = {17,  19,   53,	  111,	123,  137,  161,  389,
					 520, 1900, 3283, 3702, 5353, 5683, 11211};
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
		if (ports[i] == p)
			return true;
	return false;
}

int mit_rule_for(const struct attack *a, const struct conf *c, struct scrub_rule *r,
		 uint32_t *tflags, double *cover, char *why, size_t whylen)
{
	const struct vec *v = a->vec;
	double cv = 1, s;
	uint32_t k, lo = 0, hi = 0;
	bool narrowed = false;

	memset(r, 0, sizeof(*r));
	*tflags = 0;
	if (a->group) {
		snprintf(why, whylen, "a hostgroup attack: the scrubber filters per address");
		return -1;
	}
	if (a->dir != DIR_IN) {
		snprintf(why, whylen,
			 "an outgoing attack: the scrubber filters traffic toward "
			 "protected addresses");
		return -1;
	}
	if (!v || !v->total) {
		snprintf(why, whylen, "no vector (no sampled packets)");
		return -1;
	}
	memcpy(r->target.a, a->target.b, 16);
	r->origin = SCRUB_ORIGIN_AUTO;
	if ((s = top_one(v, VF_PROTO, &k)) > 0) {
		r->match |= SCRUB_M_PROTO;
		r->proto = (uint8_t)k;
		cv *= s;
	}
	bool ports = (r->match & SCRUB_M_PROTO) && (r->proto == 6 || r->proto == 17);
	bool icmp = (r->match & SCRUB_M_PROTO) && (r->proto == 1 || r->proto == 58);
	if (ports && (s = top_one(v, VF_SPORT, &k)) > 0) {
		r->match |= SCRUB_M_SPORT;
		r->sport_min = r->sport_max = (uint16_t)k;
		cv *= s;
		narrowed = true;
		if (r->proto == 17 && amp_port(k))
			*tflags |= SCRUB_T_ATTACK;
	}
	if (ports && (s = top_one(v, VF_DPORT, &k)) > 0) {
		r->match |= SCRUB_M_DPORT;
		r->dport_min = r->dport_max = (uint16_t)k;
		cv *= s;
		narrowed = true;
	}
	if (ports && r->proto == 6 && (s = top_one(v, VF_TCPFLAGS, &k)) > 0) {
		r->match |= SCRUB_M_TCPFLAGS;
		r->tcp_value = (uint8_t)(k & 0x3f);
		r->tcp_mask = 0x3f;
		cv *= s;
	}
	if (icmp && (s = top_one(v, VF_ICMP, &k)) > 0) {
		r->match |= SCRUB_M_ICMP;
		r->icmp_type = (uint8_t)(k >> 8);
		r->icmp_code = (uint8_t)(k & 0xff) == 0xff ? 0xff : (uint8_t)(k & 0xff);
		cv *= s;
		narrowed = true;
	}
	if (a->type == AT_FRAGMENT_FLOOD) {
		r->match |= SCRUB_M_FRAG;
		r->frag = SCRUB_FRAG_FIRST | SCRUB_FRAG_LATER;
		narrowed = true;
	}
	/* a length range narrows when it is tight, or when every packet is big: big packets
	 * (reflection, floods) read as "longer than", which padding cannot dodge */
	if ((s = top_range(v, VF_LEN, &lo, &hi)) > 0 && (hi - lo <= 64 || lo >= 512)) {
		if (lo >= 512) {
			lo -= lo % 100;
			hi = 65535;
		}
		r->match |= SCRUB_M_LEN;
		r->len_min = (uint16_t)lo;
		r->len_max = (uint16_t)hi;
		cv *= s;
		/* a length alone does not make a drop safe (QUIC, VPNs and games send big UDP too),
		 * except for reflection, where the classifier saw the amplification port */
		if (amp_class(a->type))
			narrowed = true;
	}
	if ((s = top_range(v, VF_TTL, &lo, &hi)) > 0 && hi - lo <= 16) {
		r->match |= SCRUB_M_TTL;
		r->ttl_min = (uint8_t)lo;
		r->ttl_max = (uint8_t)hi;
		cv *= s;
	}
	if (amp_class(a->type))
		*tflags |= SCRUB_T_ATTACK;

	/* Drop only what a legitimate client would not send: narrowed non-TCP traffic, and SYNs
	 * without options. Other TCP floods look like clients' own packets, so their sources are
	 * rate limited instead: a flood from few sources dies, a client keeps connecting. */
	bool syn = (r->match & SCRUB_M_TCPFLAGS) && r->tcp_value == SCRUB_TCP_SYN;
	/* A SYN without TCP options (40 bytes over IPv4, 60 over IPv6) is made by a tool: every
	 * stack a client runs sends at least an MSS option. Those are dropped outright, which
	 * stops spoofed floods that per-source limits cannot. */
	bool bare_syn =
	    syn && (r->match & SCRUB_M_LEN) && r->len_max <= (maddr_is_v4(&a->target) ? 40 : 60);
	if (bare_syn || (narrowed && !(ports && r->proto == 6))) {
		r->action = SCRUB_ACT_DROP;
	} else {
		uint32_t f = syn ? 1 : BULK_FACTOR;
		r->action = SCRUB_ACT_RATELIMIT;
		r->rate = c->scrubber.source_pps * f;
		r->burst = c->scrubber.source_burst * f;
	}
	*cover = cv;
	return 0;
}

/* ---- bookkeeping ---- */

static void emit_done(struct mit *m)
{
	json_end(&m->j);
	if (m->emit && !m->j.oom)
		m->emit(m->emit_arg, m->j.buf, m->j.len);
}

static void emit_head(struct mit *m, const char *name, uint64_t now_ns, uint32_t id,
		      const struct mrule *e)
{
	struct json *j = &m->j;
	char s[RULE_TEXT_MAX];

	json_reset(j);
	json_obj(j);
	json_key(j, "event");
	json_str(j, name);
	json_key(j, "ts");
	json_dbl(j, now_ns / 1e9, 3);
	json_key(j, "rule_id");
	json_u64(j, id);
	json_key(j, "attack");
	if (e->attack[0])
		json_str(j, e->attack);
	else
		json_null(j);
	rule_target_str(&e->r, s, sizeof(s));
	json_key(j, "target");
	json_str(j, s);
	json_key(j, "rule");
	rule_format(&e->r, s, sizeof(s));
	json_str(j, s);
	json_key(j, "origin");
	json_str(j, e->r.origin == SCRUB_ORIGIN_AUTO ? "auto" : "manual");
	json_key(j, "action");
	json_str(j, e->r.action == SCRUB_ACT_DROP	 ? "drop"
		    : e->r.action == SCRUB_ACT_PASS	 ? "pass"
		    : e->r.action == SCRUB_ACT_RATELIMIT ? "ratelimit"
							 : "none");
	json_key(j, "applied");
	json_bool(j, !m->dry);
}

static int free_id(struct mit *m, uint32_t *id)
{
	for (uint32_t i = 0; i < SCRUB_MAX_RULES; i++)
		if (!m->rules[i]) {
			*id = i;
			return 0;
		}
	return -ENOSPC;
}

static uint32_t target_flags(const struct mit *m, const struct scrub_addr *t, uint32_t skip)
{
	uint32_t f = 0;

	for (uint32_t i = 0; i < m->hi; i++)
		if (i != skip && m->rules[i] && !memcmp(m->rules[i]->r.target.a, t->a, 16))
			f |= m->rules[i]->tflags;
	return f;
}

static bool target_has_rules(const struct mit *m, const struct scrub_addr *t, uint32_t skip)
{
	for (uint32_t i = 0; i < m->hi; i++)
		if (i != skip && m->rules[i] && !memcmp(m->rules[i]->r.target.a, t->a, 16))
			return true;
	return false;
}

/* Puts rule e in the data plane under a free id. Returns the id or -errno. */
static int install(struct mit *m, struct mrule *e)
{
	uint32_t id;
	int rc = free_id(m, &id);

	if (rc < 0)
		return rc;
	if (!m->dry) {
		rc = m->b.rule_add(m->b.arg, id, &e->r);
		if (rc == 0 && e->tflags)
			rc = m->b.target_set(m->b.arg, &e->r.target,
					     e->tflags | target_flags(m, &e->r.target, id));
		if (rc < 0) {
			m->st.backend_errors++;
			if (rc != -EEXIST)
				m->b.rule_del(m->b.arg, id);
			return rc;
		}
	}
	m->rules[id] = e;
	if (id >= m->hi)
		m->hi = id + 1;
	return (int)id;
}

static void counters(struct mit *m, uint32_t id, struct scrub_counter *c)
{
	memset(c, 0, sizeof(*c));
	if (!m->dry)
		m->b.counter(m->b.arg, id, c);
}

static void put_counters(struct json *j, const struct scrub_counter *c)
{
	json_key(j, "packets");
	json_u64(j, c->packets);
	json_key(j, "bytes");
	json_u64(j, c->bytes);
	json_key(j, "dropped_packets");
	json_u64(j, c->dropped_packets);
	json_key(j, "dropped_bytes");
	json_u64(j, c->dropped_bytes);
}

/* Takes rule id out of the data plane and emits mitigation_end. */
static void uninstall(struct mit *m, uint32_t id, uint64_t now_ns, const char *reason)
{
	struct mrule *e = m->rules[id];
	struct scrub_counter c;

	counters(m, id, &c);
	if (!m->dry) {
		int rc = m->b.rule_del(m->b.arg, id);
		if (rc < 0 && rc != -ENOENT)
			log_err("scrubber: cannot delete rule %u: %s", id, strerror(-rc));
		if (!target_has_rules(m, &e->r.target, id))
			m->b.target_del(m->b.arg, &e->r.target);
		else if (e->tflags)
			m->b.target_set(m->b.arg, &e->r.target, target_flags(m, &e->r.target, id));
	}
	m->rules[id] = NULL;
	emit_head(m, "mitigation_end", now_ns, id, e);
	json_key(&m->j, "reason");
	json_str(&m->j, reason);
	json_key(&m->j, "duration");
	json_dbl(&m->j, now_ns > e->start_ns ? (now_ns - e->start_ns) / 1e9 : 0, 1);
	put_counters(&m->j, &c);
	json_key(&m->j, "evidence");
	if (e->ev_path && e->ev_n)
		json_str(&m->j, e->ev_path);
	else
		json_null(&m->j);
	json_key(&m->j, "evidence_packets");
	json_u64(&m->j, e->ev_n);
	emit_done(m);
	char s[RULE_TEXT_MAX], t[64];
	rule_format(&e->r, s, sizeof(s));
	rule_target_str(&e->r, t, sizeof(t));
	log_info("mitigation %u ended (%s): %s %s; %llu packets dropped", id, reason, t, s,
		 (unsigned long long)c.dropped_packets);
	if (e->r.origin == SCRUB_ORIGIN_AUTO)
		m->st.ended++;
	evidence_close(e);
	free(e->ev_path);
	free(e);
}

static char *evidence_path(const struct mit *m, const char *name)
{
	char *p = NULL;

	if (!m->c->scrubber.sample_every || !m->c->scrubber.evidence_packets)
		return NULL;
	if (asprintf(&p, "%s/%s.pcap", m->c->scrubber.evidence_dir, name) < 0)
		return NULL;
	return p;
}

/* The lowest packet-rate limit the attack's target has: a rule dropping more than that is still
 * stopping an attack. */
static uint64_t attack_pps(const struct attack *a)
{
	static const enum thr pps[] = {THR_PPS,	     THR_TCP_PPS, THR_UDP_PPS,
				       THR_ICMP_PPS, THR_SYN_PPS, THR_FRAG_PPS};
	uint64_t lo = 0;

	if (!a->limit)
		return 0;
	for (size_t i = 0; i < sizeof(pps) / sizeof(pps[0]); i++)
		if (a->limit[pps[i]] && (!lo || a->limit[pps[i]] < lo))
			lo = a->limit[pps[i]];
	return lo;
}

static void on_start(struct mit *m, const struct event *ev)
{
	const struct attack *a = ev->a;
	struct scrub_rule r;
	uint32_t tflags;
	double cover;
	char why[256], s[RULE_TEXT_MAX];
	uint64_t t0 = mono_ns();

	if (!m->c->scrubber.autom)
		return;
	if (mit_rule_for(a, m->c, &r, &tflags, &cover, why, sizeof(why)) < 0) {
		m->st.no_rule++;
		log_info("attack %s on %s: no scrubber rule: %s", a->id, ev->target, why);
		return;
	}
	/* the same rule still held from an earlier attack on this target: claim it */
	for (uint32_t i = 0; i < m->hi; i++) {
		struct mrule *e = m->rules[i];
		if (e && e->r.origin == SCRUB_ORIGIN_AUTO &&
		    !memcmp(&e->r.target, &r.target, sizeof(r.target)) && e->r.match == r.match &&
		    e->r.action == r.action) {
			struct scrub_rule x = e->r;
			x.origin = r.origin;
			if (memcmp(&x, &r, sizeof(r)) != 0)
				continue;
			snprintf(e->attack, sizeof(e->attack), "%s", a->id);
			snprintf(e->type, sizeof(e->type), "%s", atype_name(a->type));
			e->expires_ns = 0;
			e->attack_pps = attack_pps(a);
			log_info("attack %s on %s: rule %u still in place, kept", a->id, ev->target,
				 i);
			return;
		}
	}
	struct mrule *e = calloc(1, sizeof(*e));
	if (!e) {
		log_err("attack %s: out of memory for its rule", a->id);
		return;
	}
	e->r = r;
	e->tflags = tflags;
	e->start_ns = ev->ts_ns;
	e->attack_pps = attack_pps(a);
	snprintf(e->attack, sizeof(e->attack), "%s", a->id);
	snprintf(e->type, sizeof(e->type), "%s", atype_name(a->type));
	e->ev_path = evidence_path(m, a->id);
	int id = install(m, e);
	uint64_t setup = mono_ns() - t0;
	rule_format(&r, s, sizeof(s));
	if (id < 0) {
		log_err("attack %s on %s: the scrubber refused rule '%s': %s", a->id, ev->target, s,
			strerror(-id));
		free(e->ev_path);
		free(e);
		return;
	}
	m->st.started++;
	m->st.last_setup_ns = setup;
	emit_head(m, "mitigation_start", ev->ts_ns, (uint32_t)id, e);
	struct json *j = &m->j;
	json_key(j, "type");
	json_str(j, e->type);
	json_key(j, "amplification_ports_dropped");
	json_bool(j, tflags & SCRUB_T_ATTACK);
	json_key(j, "coverage");
	json_dbl(j, cover, 3);
	json_key(j, "setup_us");
	json_dbl(j, setup / 1e3, 1);
	json_key(j, "hold");
	json_dbl(j, m->c->scrubber.hold, 1);
	json_key(j, "evidence");
	if (e->ev_path)
		json_str(j, e->ev_path);
	else
		json_null(j);
	emit_done(m);
	log_info("mitigation %d for attack %s: %s %s (covers ~%.0f%%%s), in place %.1f us after "
		 "detection",
		 id, a->id, ev->target, s, cover * 100,
		 tflags & SCRUB_T_ATTACK ? ", amplification ports dropped" : "", setup / 1e3);
}

static void on_end(struct mit *m, const struct event *ev)
{
	for (uint32_t i = 0; i < m->hi; i++) {
		struct mrule *e = m->rules[i];
		if (e && e->attack[0] && !strcmp(e->attack, ev->a->id) && !e->expires_ns) {
			e->expires_ns = ev->ts_ns + (uint64_t)(m->c->scrubber.hold * 1e9);
			if (e->attack_pps && e->drop_pps >= (double)e->attack_pps)
				log_info("attack %s ended at the detector, but rule %u still drops "
					 "%.0f pps: it stays until that stops, plus the hold",
					 ev->a->id, i, e->drop_pps);
		}
	}
}

void mit_event(void *arg, const struct event *ev)
{
	struct mit *m = arg;

	if (ev->kind == EV_ATTACK_START)
		on_start(m, ev);
	else if (ev->kind == EV_ATTACK_END)
		on_end(m, ev);
}

void mit_tick(void *arg, uint64_t now_ns)
{
	struct mit *m = arg;
	uint64_t hold = (uint64_t)(m->c->scrubber.hold * 1e9);

	for (uint32_t i = 0; i < m->hi; i++) {
		struct mrule *e = m->rules[i];
		if (!e)
			continue;
		if (!m->dry && now_ns >= e->seen_ns + 1000000000ULL) {
			struct scrub_counter c;
			counters(m, i, &c);
			if (e->seen_ns && now_ns > e->seen_ns) {
				uint64_t d = c.dropped_packets - e->seen_dropped;
				e->drop_pps = d / ((now_ns - e->seen_ns) / 1e9);
				if (e->attack_pps && e->drop_pps >= (double)e->attack_pps)
					e->active_ns = now_ns;
			}
			e->seen_ns = now_ns;
			e->seen_dropped = c.dropped_packets;
		}
		if (e->expires_ns && e->expires_ns <= now_ns &&
		    (!e->active_ns || e->active_ns + hold <= now_ns))
			uninstall(m, i, now_ns, "hold expired");
	}
	while (m->hi && !m->rules[m->hi - 1])
		m->hi--;
	if (m->unmatched)
		pcap_dump_flush(m->unmatched);
	for (uint32_t i = 0; i < m->hi; i++)
		if (m->rules[i] && m->rules[i]->ev)
			pcap_dump_flush(m->rules[i]->ev);
}

/* ---- rules by hand, and adopted ones ---- */

int mit_rule_add(struct mit *m, const struct scrub_rule *r, uint64_t now_ns, uint32_t *id,
		 char *err, size_t errlen)
{
	char s[RULE_TEXT_MAX];
	struct mrule *e;
	int rc;

	if (!rule_valid(r)) {
		snprintf(err, errlen, "invalid rule");
		return -1;
	}
	for (uint32_t i = 0; i < m->hi; i++)
		if (m->rules[i] && !memcmp(&m->rules[i]->r.target, &r->target, sizeof(r->target)) &&
		    !memcmp(&m->rules[i]->r, r, sizeof(*r))) {
			snprintf(err, errlen, "the same rule is already in place as id %u", i);
			return CTL_ECONFLICT;
		}
	e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	e->r = *r;
	e->start_ns = now_ns;
	rc = install(m, e);
	if (rc < 0) {
		free(e);
		snprintf(err, errlen, "%s",
			 rc == -ENOSPC
			     ? "no room: the target has 16 rules or the rule table is full"
			     : strerror(-rc));
		return -1;
	}
	*id = (uint32_t)rc;
	char base[64];
	snprintf(base, sizeof(base), "rule-%d-%llu", rc,
		 (unsigned long long)(now_ns / 1000000000ULL));
	e->ev_path = evidence_path(m, base);
	m->st.manual_added++;
	emit_head(m, "mitigation_start", now_ns, (uint32_t)rc, e);
	json_key(&m->j, "evidence");
	if (e->ev_path)
		json_str(&m->j, e->ev_path);
	else
		json_null(&m->j);
	emit_done(m);
	rule_format(r, s, sizeof(s));
	log_info("rule %d added by hand: %s", rc, s);
	return 0;
}

int mit_rule_del(struct mit *m, uint32_t id, uint64_t now_ns, char *err, size_t errlen)
{
	if (id >= SCRUB_MAX_RULES || !m->rules[id]) {
		snprintf(err, errlen, "no rule %u", id);
		return CTL_ENOTFOUND;
	}
	uninstall(m, id, now_ns, "deleted by operator");
	m->st.manual_deleted++;
	return 0;
}

struct adopt_ctx {
	struct mit *m;
	uint64_t now_ns;
	int n;
};

static int adopt_one(void *arg, uint32_t id, const struct scrub_rule *r)
{
	struct adopt_ctx *a = arg;
	struct mrule *e;

	if (id >= SCRUB_MAX_RULES || a->m->rules[id])
		return 0;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->r = *r;
	e->start_ns = a->now_ns;
	if (r->origin == SCRUB_ORIGIN_AUTO)
		e->expires_ns = a->now_ns + (uint64_t)(a->m->c->scrubber.hold * 1e9);
	a->m->rules[id] = e;
	if (id >= a->m->hi)
		a->m->hi = id + 1;
	a->n++;
	return 0;
}

int mit_adopt(struct mit *m, uint64_t now_ns)
{
	struct adopt_ctx a = {.m = m, .now_ns = now_ns};

	if (m->dry)
		return 0;
	int rc = m->b.list(m->b.arg, adopt_one, &a);
	if (rc < 0)
		return rc;
	/* a target flag set by an earlier run stays in the map until its last rule goes */
	return a.n;
}

static void rule_obj(struct mit *m, uint32_t id, struct json *j, uint64_t now_ns)
{
	const struct mrule *e = m->rules[id];
	struct scrub_counter c;

	counters(m, id, &c);
	json_obj(j);
	json_key(j, "id");
	json_u64(j, id);
	rule_json(&e->r, j);
	json_key(j, "attack");
	if (e->attack[0])
		json_str(j, e->attack);
	else
		json_null(j);
	json_key(j, "attack_type");
	if (e->type[0])
		json_str(j, e->type);
	else
		json_null(j);
	json_key(j, "applied");
	json_bool(j, !m->dry);
	put_counters(j, &c);
	json_key(j, "drop_pps");
	json_dbl(j, e->drop_pps, 0);
	json_key(j, "age");
	json_dbl(j, now_ns > e->start_ns ? (now_ns - e->start_ns) / 1e9 : 0, 1);
	json_key(j, "expires_in");
	if (e->expires_ns) {
		uint64_t until = e->expires_ns, held = (uint64_t)(m->c->scrubber.hold * 1e9);
		if (e->active_ns && e->active_ns + held > until)
			until = e->active_ns + held;
		json_dbl(j, until > now_ns ? (until - now_ns) / 1e9 : 0, 1);
	} else {
		json_null(j);
	}
	json_key(j, "evidence");
	if (e->ev_path && e->ev_n)
		json_str(j, e->ev_path);
	else
		json_null(j);
	json_key(j, "evidence_packets");
	json_u64(j, e->ev_n);
	json_end(j);
}

void mit_rules_json(struct mit *m, struct json *j, uint64_t now_ns)
{
	json_arr(j);
	for (uint32_t i = 0; i < m->hi; i++)
		if (m->rules[i])
			rule_obj(m, i, j, now_ns);
	json_aend(j);
}

int mit_rule_json(struct mit *m, uint32_t id, struct json *j, uint64_t now_ns)
{
	if (id >= SCRUB_MAX_RULES || !m->rules[id])
		return -1;
	rule_obj(m, id, j, now_ns);
	return 0;
}

/* ---- evidence ---- */

static int mkdirs(const char *dir)
{
	char p[4096];
	size_t n = strlen(dir);

	if (n >= sizeof(p))
		return -ENAMETOOLONG;
	memcpy(p, dir, n + 1);
	for (size_t i = 1; i <= n; i++)
		if (p[i] == '/' || p[i] == 0) {
			char ch = p[i];
			p[i] = 0;
			if (mkdir(p, 0750) < 0 && errno != EEXIST)
				return -errno;
			p[i] = ch;
		}
	return 0;
}

static pcap_dumper_t *evidence_open(struct mit *m, const char *path)
{
	pcap_dumper_t *d;
	int rc;

	if (!m->dead && !(m->dead = pcap_open_dead_with_tstamp_precision(
			      DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_NANO)))
		return NULL;
	if ((rc = mkdirs(m->c->scrubber.evidence_dir)) < 0) {
		if (!m->evidence_failed)
			log_err("evidence: cannot create %s: %s", m->c->scrubber.evidence_dir,
				strerror(-rc));
		m->evidence_failed = true;
		return NULL;
	}
	d = pcap_dump_open_append(m->dead, path);
	if (!d && !m->evidence_failed) {
		log_err("evidence: %s: %s", path, pcap_geterr(m->dead));
		m->evidence_failed = true;
	}
	return d;
}

static void write_sample(pcap_dumper_t *d, const struct scrub_sample *s, uint64_t real_ns)
{
	struct pcap_pkthdr h = {
	    .ts = {.tv_sec = (time_t)(real_ns / 1000000000ULL),
		   .tv_usec = (suseconds_t)(real_ns % 1000000000ULL)}, /* nanosecond file */
	    .caplen = s->caplen > SCRUB_SAMPLE_BYTES ? SCRUB_SAMPLE_BYTES : s->caplen,
	    .len = s->len,
	};
	pcap_dump((u_char *)d, &h, s->data);
}

void mit_sample(struct mit *m, const struct scrub_sample *s)
{
	uint64_t real = s->ts_ns + (realtime_ns() - mono_ns());
	uint32_t cap = m->c->scrubber.evidence_packets;
	struct mrule *e = s->rule < SCRUB_MAX_RULES ? m->rules[s->rule] : NULL;

	m->st.samples++;
	if (!e || !e->ev_path) {
		m->st.samples_unmatched++;
		if (!cap || m->unmatched_n >= cap || !m->c->scrubber.sample_every)
			return;
		if (!m->unmatched) {
			char *p = NULL;
			if (asprintf(&p, "%s/unattributed.pcap", m->c->scrubber.evidence_dir) < 0)
				return;
			m->unmatched = evidence_open(m, p);
			free(p);
			if (!m->unmatched)
				return;
		}
		write_sample(m->unmatched, s, real);
		m->unmatched_n++;
		return;
	}
	if (e->ev_n >= cap) {
		m->st.samples_over++;
		return;
	}
	if (!e->ev && !(e->ev = evidence_open(m, e->ev_path)))
		return;
	write_sample(e->ev, s, real);
	e->ev_n++;
	m->st.samples_written++;
}
