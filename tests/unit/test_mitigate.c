/* test_mitigate: rule words (parse, format, errors), the policy that turns attack vectors into
 * rules, and the manager's lifecycle (start, hold, expiry, claims, rules by hand, target flags,
 * evidence pcaps) over an in-memory backend that records what the data plane would be told. */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/json.h"
#include "core/obs.h"
#include "ctl/ctl.h"
#include "mitigate/mitigate.h"
#include "mitigate/rule.h"
#include "t.h"

/* ---- rule words ---- */

static int parse_str(const char *s, struct scrub_rule *r, char *err, size_t errlen)
{
	char buf[512], *argv[64], *save = NULL;
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", s);
	for (char *t = strtok_r(buf, " ", &save); t && argc < 64; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	return rule_parse(argc, argv, r, err, errlen);
}

/* parses "TARGET words", formats it back and checks the words and a second round trip */
static void roundtrip(const char *in, const char *want)
{
	struct scrub_rule r, r2;
	char err[256], txt[RULE_TEXT_MAX], again[512];

	CHECK_EQ(parse_str(in, &r, err, sizeof(err)), 0);
	if (err[0] && r.action == 0)
		fprintf(stderr, "%s: %s\n", in, err);
	CHECK(rule_valid(&r));
	rule_format(&r, txt, sizeof(txt));
	CHECK_STR(txt, want);
	char tgt[64];
	rule_target_str(&r, tgt, sizeof(tgt));
	snprintf(again, sizeof(again), "%s %s", tgt, txt);
	CHECK_EQ(parse_str(again, &r2, err, sizeof(err)), 0);
	CHECK(memcmp(&r, &r2, sizeof(r)) == 0);
}

static void bad_rule(const char *in, const char *want_sub)
{
	struct scrub_rule r;
	char err[256] = "";

	CHECK_EQ(parse_str(in, &r, err, sizeof(err)), -1);
	CHECK(strstr(err, want_sub) != NULL);
	if (!strstr(err, want_sub))
		fprintf(stderr, "  '%s' gave '%s', wanted '%s'\n", in, err, want_sub);
}

static void test_rule_words(void)
{
	struct scrub_rule r;
	char err[256];

	roundtrip("198.51.100.77 proto udp sport 53 len 1000-65535 drop",
		  "proto udp sport 53 len 1000-65535 drop");
	roundtrip("2001:db8::1 proto tcp dport 80-443 flags SYN ratelimit 50 burst 100 per /64",
		  "proto tcp dport 80-443 flags SYN ratelimit 50 burst 100 per /64");
	roundtrip("192.0.2.1 flags SYN/SYN,ACK ttl 64 ratelimit 10",
		  "proto tcp ttl 64 flags SYN/SYN,ACK ratelimit 10");
	roundtrip("192.0.2.1 icmp-type 8 drop", "proto icmp icmp-type 8 drop");
	roundtrip("2001:db8::1 icmp-type 128 icmp-code 0 drop",
		  "proto icmpv6 icmp-type 128 icmp-code 0 drop");
	roundtrip("192.0.2.1 proto 47 pass", "proto 47 pass");
	roundtrip("192.0.2.1 frag fragment len 1400-1500 drop", "len 1400-1500 frag fragment drop");
	roundtrip("192.0.2.1 frag later drop", "frag later drop");
	roundtrip("192.0.2.1 frag none,first drop", "frag none,first drop");
	roundtrip("192.0.2.1 drop", "drop");
	roundtrip("192.0.2.1 ratelimit 1000 per /24", "ratelimit 1000 per /24");

	CHECK_EQ(parse_str("198.51.100.77 proto udp sport 53 drop", &r, err, sizeof(err)), 0);
	CHECK_EQ(r.match, SCRUB_M_PROTO | SCRUB_M_SPORT);
	CHECK_EQ(r.proto, 17);
	CHECK_EQ(r.sport_min, 53);
	CHECK_EQ(r.sport_max, 53);
	CHECK_EQ(r.action, SCRUB_ACT_DROP);
	CHECK_EQ(r.origin, SCRUB_ORIGIN_MANUAL);
	CHECK_EQ(r.target.a[10], 0xff); /* IPv4 mapped */
	CHECK_EQ(r.target.a[15], 77);
	CHECK_EQ(parse_str("192.0.2.1 flags SYN ratelimit 5", &r, err, sizeof(err)), 0);
	CHECK_EQ(r.tcp_value, SCRUB_TCP_SYN);
	CHECK_EQ(r.tcp_mask, 0x3f);
	CHECK_EQ(r.proto, 6);
	CHECK_EQ(r.rate, 5);
	CHECK_EQ(r.burst, 5);
	CHECK_EQ(parse_str("192.0.2.1 ratelimit 5 per /24", &r, err, sizeof(err)), 0);
	CHECK_EQ(r.rl_plen4, 24);
	CHECK_EQ(r.rl_plen6, 0);

	bad_rule("", "needs a target");
	bad_rule("198.51.100.300 drop", "not an IPv4 or IPv6 address");
	bad_rule("192.0.2.0/24 drop", "not an IPv4 or IPv6 address");
	bad_rule("192.0.2.1", "no action");
	bad_rule("192.0.2.1 proto udp", "no action");
	bad_rule("192.0.2.1 proto sctpx drop", "proto: 'sctpx'");
	bad_rule("192.0.2.1 proto udp proto tcp drop", "given twice");
	bad_rule("192.0.2.1 proto udp sport 70000 drop", "sport: '70000'");
	bad_rule("192.0.2.1 proto udp sport 9-3 drop", "sport: '9-3'");
	bad_rule("192.0.2.1 sport 53 drop", "ports need proto tcp or udp");
	bad_rule("192.0.2.1 proto icmp dport 53 drop", "ports need proto tcp or udp");
	bad_rule("192.0.2.1 len drop", "len: 'drop'");
	bad_rule("192.0.2.1 len", "needs a value");
	bad_rule("192.0.2.1 ttl 300 drop", "ttl: '300'");
	bad_rule("192.0.2.1 flags XMAS drop", "flags: 'XMAS'");
	bad_rule("192.0.2.1 flags SYN,ACK/SYN drop", "outside its mask");
	bad_rule("192.0.2.1 proto udp flags SYN drop", "flags need proto tcp");
	bad_rule("192.0.2.1 frag sometimes drop", "frag: 'sometimes'");
	bad_rule("192.0.2.1 proto udp icmp-type 8 drop", "icmp-type needs proto icmp");
	bad_rule("192.0.2.1 icmp-code 3 drop", "right after icmp-type");
	bad_rule("192.0.2.1 drop pass", "more than one action");
	bad_rule("192.0.2.1 drop proto udp", "after the action");
	bad_rule("192.0.2.1 ratelimit", "ratelimit needs packets per second");
	bad_rule("192.0.2.1 ratelimit 0", "ratelimit needs packets per second");
	bad_rule("192.0.2.1 ratelimit -5", "ratelimit needs packets per second");
	bad_rule("192.0.2.1 drop burst 5", "goes after ratelimit");
	bad_rule("192.0.2.1 ratelimit 5 per /33", "per: '/33'");
	bad_rule("192.0.2.1 ratelimit 5 per 24", "per: '24'");
	bad_rule("192.0.2.1 ratelimit 5 burst 0", "burst: '0'");
	bad_rule("192.0.2.1 bogus drop", "unknown word 'bogus'");
	/* ICMPv6 target: "proto icmp" means ICMPv6 (58) */
	CHECK_EQ(parse_str("2001:db8::1 proto icmp icmp-type 128 drop", &r, err, sizeof(err)), 0);
	CHECK_EQ(r.proto, 58);

	/* the JSON form */
	struct json j;
	json_init(&j);
	CHECK_EQ(
	    parse_str("198.51.100.77 proto udp sport 53 len 1000-65535 drop", &r, err, sizeof(err)),
	    0);
	json_obj(&j);
	rule_json(&r, &j);
	json_end(&j);
	CHECK(strstr(j.buf, "\"target\":\"198.51.100.77\"") != NULL);
	CHECK(strstr(j.buf, "\"text\":\"proto udp sport 53 len 1000-65535 drop\"") != NULL);
	CHECK(strstr(j.buf, "\"sport\":[53,53]") != NULL);
	CHECK(strstr(j.buf, "\"len\":[1000,65535]") != NULL);
	json_free(&j);
}

/* ---- the policy ---- */

static struct conf cf;

static void conf_init(void)
{
	memset(&cf, 0, sizeof(cf));
	cf.scrubber.enabled = true;
	cf.scrubber.autom = true;
	cf.scrubber.hold = 300;
	cf.scrubber.source_pps = 50;
	cf.scrubber.source_burst = 100;
	cf.scrubber.sample_every = 1;
	cf.scrubber.evidence_packets = 3;
}

struct pk {
	uint8_t proto, flags, ttl, frag, l4;
	uint16_t sport, dport;
	uint32_t len;
	uint32_t n;
};

static struct attack *mk_attack(const char *id, const char *target, enum atype type,
				const struct pk *p, size_t np)
{
	struct attack *a = calloc(1, sizeof(*a));
	a->vec = calloc(1, sizeof(*a->vec));
	snprintf(a->id, sizeof(a->id), "%s", id);
	CHECK_EQ(maddr_parse(target, &a->target), 0);
	a->type = type;
	a->hg = -1;
	for (size_t i = 0; i < np; i++) {
		struct feed_rec r = {.dir = DIR_IN,
				     .proto = p[i].proto,
				     .tcp_flags = p[i].flags,
				     .ttl = p[i].ttl,
				     .frag = p[i].frag,
				     .l4 = p[i].l4,
				     .sport = p[i].sport,
				     .dport = p[i].dport,
				     .len = p[i].len,
				     .weight = 1,
				     .host = a->target};
		for (uint32_t k = 0; k < p[i].n; k++) {
			uint8_t b[4] = {203, 0, 113, (uint8_t)(k % 200)};
			maddr_from_v4(&r.peer, b);
			vec_add(a->vec, &r);
		}
	}
	return a;
}

static void free_attack(struct attack *a)
{
	free(a->vec);
	free(a);
}

static void rule_of(const char *id, const char *tgt, enum atype type, const struct pk *p, size_t np,
		    const char *want, uint32_t want_flags)
{
	struct attack *a = mk_attack(id, tgt, type, p, np);
	struct scrub_rule r;
	uint32_t tf;
	double cover;
	char why[256], txt[RULE_TEXT_MAX];

	CHECK_EQ(mit_rule_for(a, &cf, &r, &tf, &cover, why, sizeof(why)), 0);
	rule_format(&r, txt, sizeof(txt));
	CHECK_STR(txt, want);
	CHECK_EQ(tf, want_flags);
	CHECK(cover >= 0.5 && cover <= 1.0);
	CHECK_EQ(r.origin, SCRUB_ORIGIN_AUTO);
	CHECK(memcmp(r.target.a, a->target.b, 16) == 0);
	CHECK(rule_valid(&r));
	free_attack(a);
}

static void test_policy(void)
{
	conf_init();
	/* DNS reflection: UDP from 53, big answers of a few sizes */
	const struct pk dns[] = {{17, 0, 50, 1, 1, 53, 40000, 1400, 500},
				 {17, 0, 50, 1, 1, 53, 41000, 1210, 400},
				 {17, 0, 51, 1, 1, 53, 33000, 1500, 100}};
	rule_of("1-1", "198.51.100.77", AT_DNS_AMP, dns, 3,
		"proto udp sport 53 len 1200-65535 ttl 50-51 drop", SCRUB_T_ATTACK);
	/* SYN flood from a tool: 40-byte SYNs to port 80; rate limited per source, never a drop
	 * of every SYN (clients send SYNs too) */
	const struct pk syn[] = {{6, 0x02, 64, 1, 1, 1234, 80, 60, 1000}};
	rule_of("1-2", "198.51.100.5", AT_SYN_FLOOD, syn, 1,
		"proto tcp sport 1234 dport 80 len 60 ttl 64 flags SYN ratelimit 50 burst 100", 0);
	/* SYNs without TCP options (40 bytes IPv4, 60 IPv6): no client stack sends them, drop */
	const struct pk bare[] = {{6, 0x02, 64, 1, 1, 1234, 80, 40, 1000}};
	rule_of("1-2b", "198.51.100.5", AT_SYN_FLOOD, bare, 1,
		"proto tcp sport 1234 dport 80 len 40 ttl 64 flags SYN drop", 0);
	const struct pk bare6[] = {{6, 0x02, 64, 1, 1, 1234, 80, 60, 1000}};
	rule_of("1-2c", "2001:db8:5::5", AT_SYN_FLOOD, bare6, 1,
		"proto tcp sport 1234 dport 80 len 60 ttl 64 flags SYN drop", 0);
	/* random source ports */
	struct pk syn2[20];
	for (int i = 0; i < 20; i++)
		syn2[i] = (struct pk){6, 0x02, 64, 1, 1, (uint16_t)(1024 + i * 7), 443, 80, 50};
	rule_of("1-3", "2001:db8:5::5", AT_SYN_FLOOD, syn2, 20,
		"proto tcp dport 443 len 80 ttl 64 flags SYN ratelimit 50 burst 100", 0);
	/* ACK flood: the bulk rate, 20 times the SYN one */
	const struct pk ack[] = {{6, 0x10, 64, 1, 1, 5555, 22, 52, 1000}};
	rule_of("1-4", "198.51.100.5", AT_ACK_FLOOD, ack, 1,
		"proto tcp sport 5555 dport 22 len 52 ttl 64 flags ACK ratelimit 1000 burst 2000",
		0);
	/* ICMP echo flood: type and code, dropped */
	const struct pk icmp[] = {{1, 0, 64, 1, 1, 0, 8 << 8, 84, 1000}};
	rule_of("1-5", "198.51.100.5", AT_ICMP_FLOOD, icmp, 1,
		"proto icmp len 84 ttl 64 icmp-type 8 icmp-code 0 drop", 0);
	/* fragment flood: later fragments have no ports */
	const struct pk frag[] = {{17, 0, 64, 2, 1, 4444, 5555, 1500, 300},
				  {17, 0, 64, 4, 0, 0, 0, 1500, 700}};
	rule_of("1-6", "198.51.100.5", AT_FRAGMENT_FLOOD, frag, 2,
		"proto udp len 1500-65535 ttl 64 frag fragment drop", 0);
	/* a mixed flood: no protocol dominates, so only a per-source limit on everything */
	struct pk mix[4] = {{6, 0x02, 64, 1, 1, 1, 80, 60, 250},
			    {17, 0, 64, 1, 1, 2, 53, 100, 250},
			    {1, 0, 64, 1, 1, 0, 8 << 8, 84, 250},
			    {47, 0, 64, 1, 0, 0, 0, 400, 250}};
	mix[0].ttl = 30, mix[1].ttl = 90, mix[2].ttl = 120, mix[3].ttl = 200;
	rule_of("1-7", "198.51.100.5", AT_UNKNOWN, mix, 4, "ratelimit 1000 burst 2000", 0);
	/* UDP flood with random ports and lengths: a per-source limit on UDP */
	struct pk udp[40];
	for (int i = 0; i < 40; i++)
		udp[i] = (struct pk){17,
				     0,
				     (uint8_t)(10 + i * 5),
				     1,
				     1,
				     (uint16_t)(2000 + i),
				     (uint16_t)(3000 + i),
				     (uint32_t)(100 + i * 30),
				     25};
	rule_of("1-8", "198.51.100.5", AT_UDP_FLOOD, udp, 40, "proto udp ratelimit 1000 burst 2000",
		0);

	/* no rule: outgoing, hostgroup, no vector */
	struct attack *a = mk_attack("2-1", "198.51.100.5", AT_SYN_FLOOD, syn, 1);
	struct scrub_rule r;
	uint32_t tf;
	double cover;
	char why[256];
	a->dir = DIR_OUT;
	CHECK_EQ(mit_rule_for(a, &cf, &r, &tf, &cover, why, sizeof(why)), -1);
	CHECK(strstr(why, "outgoing") != NULL);
	a->dir = DIR_IN;
	a->group = true;
	CHECK_EQ(mit_rule_for(a, &cf, &r, &tf, &cover, why, sizeof(why)), -1);
	CHECK(strstr(why, "hostgroup") != NULL);
	a->group = false;
	free(a->vec);
	a->vec = NULL;
	CHECK_EQ(mit_rule_for(a, &cf, &r, &tf, &cover, why, sizeof(why)), -1);
	CHECK(strstr(why, "no vector") != NULL);
	free(a);
}

/* ---- the manager over a recording backend ---- */

static struct {
	struct scrub_rule rules[SCRUB_MAX_RULES];
	bool used[SCRUB_MAX_RULES];
	struct scrub_addr tgt[8];
	uint32_t tflags[8];
	bool tused[8];
	uint64_t extra[SCRUB_MAX_RULES]; /* dropped packets on top of the fixed 900 + id */
	int adds, dels, tsets, tdels;
	int fail_next_add;
} be;

static int tgt_slot(const struct scrub_addr *t, bool create)
{
	for (int i = 0; i < 8; i++)
		if (be.tused[i] && !memcmp(&be.tgt[i], t, sizeof(*t)))
			return i;
	if (!create)
		return -1;
	for (int i = 0; i < 8; i++)
		if (!be.tused[i]) {
			be.tused[i] = true;
			be.tgt[i] = *t;
			be.tflags[i] = 0;
			return i;
		}
	return -1;
}

static int b_add(void *arg, uint32_t id, const struct scrub_rule *r)
{
	if (be.fail_next_add) {
		be.fail_next_add = 0;
		return -ENOSPC;
	}
	if (be.used[id])
		return -EEXIST;
	be.used[id] = true;
	be.rules[id] = *r;
	tgt_slot(&r->target, true);
	be.adds++;
	return 0;
}

static int b_del(void *arg, uint32_t id)
{
	if (!be.used[id])
		return -ENOENT;
	be.used[id] = false;
	be.dels++;
	return 0;
}

static int b_tset(void *arg, const struct scrub_addr *t, uint32_t flags)
{
	int i = tgt_slot(t, true);
	be.tflags[i] = flags;
	be.tsets++;
	return 0;
}

static int b_tdel(void *arg, const struct scrub_addr *t)
{
	int i = tgt_slot(t, false);
	if (i < 0)
		return -ENOENT;
	be.tused[i] = false;
	be.tdels++;
	return 0;
}

static int b_counter(void *arg, uint32_t id, struct scrub_counter *c)
{
	c->packets = 1000 + id;
	c->dropped_packets = 900 + id + be.extra[id];
	c->bytes = c->dropped_bytes = 0;
	return 0;
}

static int b_list(void *arg, int (*cb)(void *, uint32_t, const struct scrub_rule *), void *ctx)
{
	for (uint32_t i = 0; i < SCRUB_MAX_RULES; i++)
		if (be.used[i]) {
			int rc = cb(ctx, i, &be.rules[i]);
			if (rc)
				return rc;
		}
	return 0;
}

static const struct mit_backend backend = {NULL, b_add, b_del, b_tset, b_tdel, b_counter, b_list};

static char events[16][1024];
static int n_events;

static void on_emit(void *arg, const char *json, size_t len)
{
	if (n_events < 16) {
		snprintf(events[n_events], sizeof(events[0]), "%.*s", (int)len, json);
		n_events++;
	}
}

static void ev(struct mit *m, enum ev_kind k, struct attack *a, uint64_t ts)
{
	struct event e = {.kind = k, .ts_ns = ts, .a = a, .target = "t"};
	mit_event(m, &e);
}

static const uint64_t S = 1000000000ULL;

static void test_manager(void)
{
	char dir[] = "/tmp/moat-mit-XXXXXX";
	char err[256];

	conf_init();
	CHECK(mkdtemp(dir) != NULL);
	char evdir[300];
	snprintf(evdir, sizeof(evdir), "%s/evidence/x", dir);
	cf.scrubber.evidence_dir = evdir;
	memset(&be, 0, sizeof(be));
	n_events = 0;

	struct mit *m = mit_new(&cf, &backend, on_emit, NULL);
	CHECK(m != NULL);
	const struct pk dns[] = {{17, 0, 50, 1, 1, 53, 40000, 1400, 1000}};
	struct attack *a = mk_attack("100-1", "198.51.100.77", AT_DNS_AMP, dns, 1);

	ev(m, EV_ATTACK_START, a, 100 * S);
	CHECK_EQ(be.adds, 1);
	CHECK(be.used[0]);
	CHECK_EQ(be.rules[0].action, SCRUB_ACT_DROP);
	CHECK_EQ(be.tflags[tgt_slot(&be.rules[0].target, false)], SCRUB_T_ATTACK);
	CHECK_EQ(n_events, 1);
	CHECK(strstr(events[0], "\"event\":\"mitigation_start\"") != NULL);
	CHECK(strstr(events[0], "\"attack\":\"100-1\"") != NULL);
	CHECK(strstr(events[0],
		     "\"rule\":\"proto udp sport 53 dport 40000 len 1400-65535 ttl 50 drop\"") !=
	      NULL);
	CHECK(strstr(events[0], "\"amplification_ports_dropped\":true") != NULL);
	CHECK(strstr(events[0], "\"applied\":true") != NULL);

	/* evidence: samples of rule 0 go to the attack's pcap, at most evidence_packets */
	struct scrub_sample smp = {.rule = 0, .len = 1400, .caplen = 64, .ts_ns = 5 * S};
	for (int i = 0; i < 64; i++)
		smp.data[i] = (uint8_t)i;
	for (int i = 0; i < 5; i++)
		mit_sample(m, &smp);
	smp.rule = SCRUB_NO_RULE;
	mit_sample(m, &smp);
	CHECK_EQ(mit_stats(m)->samples, 6);
	CHECK_EQ(mit_stats(m)->samples_written, 3);
	CHECK_EQ(mit_stats(m)->samples_over, 2);
	CHECK_EQ(mit_stats(m)->samples_unmatched, 1);

	/* a manual rule on the same target, and the listing */
	struct scrub_rule r;
	char *argv[] = {"198.51.100.77", "proto", "tcp", "dport", "22", "drop"};
	uint32_t id;
	CHECK_EQ(rule_parse(6, argv, &r, err, sizeof(err)), 0);
	CHECK_EQ(mit_rule_add(m, &r, 101 * S, &id, err, sizeof(err)), 0);
	CHECK_EQ(id, 1);
	CHECK_EQ(mit_rule_add(m, &r, 101 * S, &id, err, sizeof(err)), CTL_ECONFLICT);
	CHECK(strstr(err, "already in place as id 1") != NULL);
	struct json j;
	json_init(&j);
	mit_rules_json(m, &j, 102 * S);
	CHECK(strstr(j.buf, "\"id\":0") != NULL);
	CHECK(strstr(j.buf, "\"id\":1") != NULL);
	CHECK(strstr(j.buf, "\"origin\":\"manual\"") != NULL);
	CHECK(strstr(j.buf, "\"dropped_packets\":900") != NULL);
	CHECK(strstr(j.buf, "\"expires_in\":null") != NULL);
	json_free(&j);

	/* attack ends: rule held for `hold`, then removed with mitigation_end */
	ev(m, EV_ATTACK_END, a, 200 * S);
	mit_tick(m, 499 * S);
	CHECK(be.used[0]);
	mit_tick(m, 500 * S);
	CHECK(!be.used[0]);
	CHECK_EQ(n_events, 3);
	CHECK(strstr(events[2], "\"event\":\"mitigation_end\"") != NULL);
	CHECK(strstr(events[2], "\"reason\":\"hold expired\"") != NULL);
	CHECK(strstr(events[2], "\"dropped_packets\":900") != NULL);
	CHECK(strstr(events[2], "\"evidence_packets\":3") != NULL);
	/* the manual rule keeps the target; its amplification flag went with the auto rule */
	int ts = tgt_slot(&r.target, false);
	CHECK(ts >= 0);
	CHECK_EQ(ts >= 0 ? be.tflags[ts] : 99, 0);

	/* the evidence file reads back with the sample's bytes */
	char path[400], perr[PCAP_ERRBUF_SIZE];
	snprintf(path, sizeof(path), "%s/100-1.pcap", evdir);
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, perr);
	CHECK(p != NULL);
	if (p) {
		struct pcap_pkthdr *h;
		const u_char *d;
		int n = 0;
		while (pcap_next_ex(p, &h, &d) == 1) {
			CHECK_EQ(h->caplen, 64);
			CHECK_EQ(h->len, 1400);
			CHECK_EQ(d[63], 63);
			n++;
		}
		CHECK_EQ(n, 3);
		pcap_close(p);
	}

	/* a new attack with the same vector while a rule is still held claims it */
	struct attack *b = mk_attack("600-1", "198.51.100.77", AT_DNS_AMP, dns, 1);
	ev(m, EV_ATTACK_START, b, 600 * S);
	CHECK_EQ(be.adds, 3); /* first auto rule, the manual one, this */
	ev(m, EV_ATTACK_END, b, 610 * S);
	struct attack *c = mk_attack("620-1", "198.51.100.77", AT_DNS_AMP, dns, 1);
	ev(m, EV_ATTACK_START, c, 620 * S);
	CHECK_EQ(be.adds, 3); /* claimed, not added again */
	mit_tick(m, 1000 * S);
	CHECK_EQ(be.dels, 1); /* no expiry: the claim cleared it */
	ev(m, EV_ATTACK_END, c, 1000 * S);
	mit_tick(m, 1300 * S);
	CHECK_EQ(be.dels, 2);

	/* by hand: delete, and unknown ids */
	CHECK_EQ(mit_rule_del(m, 1, 1400 * S, err, sizeof(err)), 0);
	CHECK_EQ(mit_rule_del(m, 1, 1400 * S, err, sizeof(err)), CTL_ENOTFOUND);
	CHECK(strstr(err, "no rule 1") != NULL);
	CHECK_EQ(mit_rule_del(m, 99999, 1400 * S, err, sizeof(err)), CTL_ENOTFOUND);
	CHECK_EQ(tgt_slot(&r.target, false), -1); /* last rule gone: target removed */

	/* the data plane refusing a rule: counted, no event */
	int before = n_events;
	be.fail_next_add = 1;
	struct attack *d = mk_attack("2000-1", "198.51.100.78", AT_DNS_AMP, dns, 1);
	ev(m, EV_ATTACK_START, d, 2000 * S);
	CHECK_EQ(mit_stats(m)->backend_errors, 1);
	CHECK_EQ(n_events, before);

	/* auto off: nothing */
	cf.scrubber.autom = false;
	ev(m, EV_ATTACK_START, d, 2001 * S);
	CHECK_EQ(n_events, before);
	cf.scrubber.autom = true;
	mit_free(m);

	/* a restart: rules left in the data plane are taken over; automatic ones held */
	memset(&be, 0, sizeof(be));
	struct mit *m2 = mit_new(&cf, &backend, on_emit, NULL);
	struct scrub_rule ar = r;
	ar.origin = SCRUB_ORIGIN_AUTO;
	b_add(NULL, 7, &ar);
	b_add(NULL, 9, &r);
	CHECK_EQ(mit_adopt(m2, 3000 * S), 2);
	mit_tick(m2, 3299 * S);
	CHECK(be.used[7]);
	mit_tick(m2, 3300 * S);
	CHECK(!be.used[7]);
	CHECK(be.used[9]); /* manual: stays */
	mit_free(m2);

	free_attack(a);
	free_attack(b);
	free_attack(c);
	free_attack(d);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	CHECK_EQ(system(cmd), 0);
}

/* without a backend (a replay): the same decisions, marked not applied */
static void test_dry(void)
{
	conf_init();
	cf.scrubber.sample_every = 0;
	n_events = 0;
	struct mit *m = mit_new(&cf, NULL, on_emit, NULL);
	const struct pk syn[] = {{6, 0x02, 64, 1, 1, 1234, 80, 60, 1000}};
	struct attack *a = mk_attack("1-1", "198.51.100.5", AT_SYN_FLOOD, syn, 1);
	ev(m, EV_ATTACK_START, a, 1 * S);
	CHECK_EQ(n_events, 1);
	CHECK(strstr(events[0], "\"applied\":false") != NULL);
	CHECK(strstr(events[0], "\"action\":\"ratelimit\"") != NULL);
	CHECK(strstr(events[0], "\"evidence\":null") != NULL);
	ev(m, EV_ATTACK_END, a, 2 * S);
	mit_tick(m, 302 * S);
	CHECK_EQ(n_events, 2);
	CHECK(strstr(events[1], "\"event\":\"mitigation_end\"") != NULL);
	mit_free(m);
	free_attack(a);
}

/* a rule that keeps dropping at attack rate outlives attack_end + hold (the detector cannot
 * see what the scrubber drops in front of it) */
static void test_still_dropping(void)
{
	uint64_t lim[THR__COUNT] = {0};

	conf_init();
	cf.scrubber.sample_every = 0;
	cf.scrubber.hold = 10;
	memset(&be, 0, sizeof(be));
	n_events = 0;
	lim[THR_PPS] = 20000;
	lim[THR_SYN_PPS] = 1000; /* the lowest packet rate limit decides */
	struct mit *m = mit_new(&cf, &backend, on_emit, NULL);
	const struct pk syn[] = {{6, 0x02, 64, 1, 1, 1234, 80, 40, 1000}};
	struct attack *a = mk_attack("1-1", "198.51.100.5", AT_SYN_FLOOD, syn, 1);
	a->limit = lim;
	ev(m, EV_ATTACK_START, a, 100 * S);
	CHECK(be.used[0]);
	uint64_t t = 100 * S;
	/* the scrubber drops 5000 pps for 30 s; the detector ended the attack at 105 s */
	for (int i = 0; i < 30; i++) {
		t += S;
		be.extra[0] += 5000;
		if (i == 5)
			ev(m, EV_ATTACK_END, a, t);
		mit_tick(m, t);
	}
	CHECK(be.used[0]); /* at 130 s: well past 106 + 10 */
	struct json j;
	json_init(&j);
	CHECK_EQ(mit_rule_json(m, 0, &j, t), 0);
	CHECK(strstr(j.buf, "\"drop_pps\":5000") != NULL);
	CHECK(strstr(j.buf, "\"expires_in\":10.0") != NULL);
	json_free(&j);
	/* it drops 500 pps now: under the limit, so the hold runs from the last busy second */
	for (int i = 0; i < 9; i++) {
		t += S;
		be.extra[0] += 500;
		mit_tick(m, t);
	}
	CHECK(be.used[0]);
	t += S;
	mit_tick(m, t);
	CHECK(!be.used[0]);
	CHECK_EQ(n_events, 2);
	mit_free(m);
	free_attack(a);
}

int main(void)
{
	test_still_dropping();
	test_rule_words();
	test_policy();
	test_manager();
	test_dry();
	return t_done("test_mitigate");
}
