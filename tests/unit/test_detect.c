/* Detector tests with synthetic obs at exact rates: detection latency, reported rate accuracy,
 * classification, lifecycle timing, directions, IPv6, hostgroup totals, whitelist. */
/* positional stream tables leave the run-time fields out */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <math.h>
#include <stdlib.h>

#include "core/conf.h"
#include "detect/account.h"
#include "detect/detect.h"
#include "t.h"

#define T0 1700000000ULL /* seconds: an arbitrary epoch for the synthetic traffic */

struct stream {
	const char *src, *dst; /* src may be NULL: sources rotate over 203.0.113.0/24 */
	uint8_t proto, flags, frag;
	uint16_t sport, dport;
	uint32_t len;
	double pps, start, end; /* seconds after T0 */
	double next;
	uint32_t n;
};

struct got {
	char kind[16];
	double ts;
	char target[64], dir[16], type[32];
	double pps, bps;
	char json[4096];
};

static struct got ev[64];
static int n_ev;
static struct det_stats last_st; /* the detector's counters when run() ended */

static void jfield(const char *js, const char *key, char *out, size_t n)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\":", key);
	const char *p = strstr(js, pat);
	out[0] = 0;
	if (!p)
		return;
	p += strlen(pat);
	if (*p == '"')
		p++;
	size_t i = 0;
	while (p[i] && p[i] != '"' && p[i] != ',' && p[i] != '}' && i + 1 < n) {
		out[i] = p[i];
		i++;
	}
	out[i] = 0;
}

static void on_event(void *arg, const struct event *e)
{
	(void)arg;
	if (n_ev == 64)
		return;
	struct got *g = &ev[n_ev++];
	char buf[64];
	snprintf(g->json, sizeof(g->json), "%.*s", (int)e->json_len, e->json);
	jfield(g->json, "event", g->kind, sizeof(g->kind));
	jfield(g->json, "target", g->target, sizeof(g->target));
	jfield(g->json, "direction", g->dir, sizeof(g->dir));
	jfield(g->json, "type", g->type, sizeof(g->type));
	jfield(g->json, "ts", buf, sizeof(buf));
	g->ts = atof(buf) - T0;
	jfield(g->json, "pps", buf, sizeof(buf));
	g->pps = atof(buf);
	jfield(g->json, "bps", buf, sizeof(buf));
	g->bps = atof(buf);
}

/* Runs the streams from 0 to `secs` like a replay does, then drains. */
static void run(const char *yaml, struct stream *s, int ns, double secs)
{
	struct conf *c;
	char err[512];
	struct sipkey key;

	n_ev = 0;
	if (conf_load_buf("test.yaml", yaml, strlen(yaml), &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "config: %s\n", err);
		CHECK(0);
		return;
	}
	struct detector *d = det_new(c, 1, err, sizeof(err));
	CHECK(d != NULL);
	if (!d) {
		conf_free(c);
		return;
	}
	sipkey_init(&key, 2);
	struct shard *other = shard_new(0, 4096, &key, true);
	/* a shard hashed with another key is refused: it could never find a hot host */
	CHECK_EQ(det_add_shard(d, other), -1);
	shard_free(other);
	struct shard *sh = shard_new(0, 4096, det_key(d), true);
	CHECK_EQ(det_add_shard(d, sh), 0);
	det_subscribe(d, on_event, NULL);
	shard_sync(sh);

	for (int i = 0; i < ns; i++)
		s[i].next = s[i].start;
	uint64_t next_tick = T0 * 1000000000ULL + TICK_NS;
	for (;;) {
		int best = -1;
		for (int i = 0; i < ns; i++)
			if (s[i].next < s[i].end && s[i].next < secs &&
			    (best < 0 || s[i].next < s[best].next))
				best = i;
		if (best < 0)
			break;
		struct stream *x = &s[best];
		uint64_t ts = T0 * 1000000000ULL + (uint64_t)llround(x->next * 1e9);
		while (ts >= next_tick) {
			det_tick(d, next_tick);
			next_tick += TICK_NS;
		}
		struct obs o;
		memset(&o, 0, sizeof(o));
		o.ts_ns = ts;
		if (x->src) {
			maddr_parse(x->src, &o.src);
		} else {
			char a[32];
			snprintf(a, sizeof(a), "203.0.113.%u", x->n % 250 + 1);
			maddr_parse(a, &o.src);
		}
		maddr_parse(x->dst, &o.dst);
		o.family = maddr_is_v4(&o.dst) ? 4 : 6;
		o.proto = x->proto;
		o.tcp_flags = x->flags;
		o.frag = x->frag;
		o.l4 = x->frag != OBS_FRAG_LATER && x->proto != 47;
		o.sport = x->sport ? x->sport : (uint16_t)(1024 + x->n % 60000);
		o.dport = x->dport;
		o.len = x->len;
		o.ttl = (uint8_t)(50 + x->n % 3);
		o.packets = 1;
		o.bytes = x->len;
		shard_account(sh, &o);
		x->n++;
		x->next = x->start + x->n / x->pps;
	}
	while (next_tick <= T0 * 1000000000ULL + (uint64_t)(secs * 1e9)) {
		det_tick(d, next_tick);
		next_tick += TICK_NS;
	}
	det_drain(d, next_tick);
	CHECK_EQ(det_stats(d)->attacks_active, 0);
	last_st = *det_stats(d);
	det_free(d);
	shard_free(sh);
	conf_free(c);
}

static const char *base_yaml =
    "networks: [198.51.100.0/24, 2001:db8:5::/48]\n"
    "whitelist: [198.51.100.10/32]\n"
    "thresholds: {pps: 20000, mbps: 1000, syn_pps: 10000, flows: 100000}\n"
    "hostgroups:\n"
    "  - name: web\n"
    "    prefixes: [198.51.100.16/28]\n"
    "    thresholds: {pps: 5000}\n"
    "    total_thresholds: {pps: 30000}\n"
    "detection: {cooldown: 5}\n";

static int find(const char *kind, int from)
{
	for (int i = from; i < n_ev; i++)
		if (strcmp(ev[i].kind, kind) == 0)
			return i;
	return -1;
}

static int count(const char *kind)
{
	int n = 0;
	for (int i = 0; i < n_ev; i++)
		n += strcmp(ev[i].kind, kind) == 0;
	return n;
}

static void test_syn_flood(void)
{
	struct stream s[] = {
	    /* background to the same host: web clients */
	    {"192.0.2.7", "198.51.100.5", 6, 0x18, 0, 40000, 443, 800, 200, 0, 40},
	    {NULL, "198.51.100.5", 6, TCPF_SYN, 0, 0, 80, 60, 50000, 10.05, 25.05},
	};
	run(base_yaml, s, 2, 40);
	int st = find("attack_start", 0), en = find("attack_end", 0);
	CHECK(st >= 0);
	CHECK(en > st);
	if (st < 0 || en < 0)
		return;
	CHECK_STR(ev[st].target, "198.51.100.5");
	CHECK_STR(ev[st].dir, "incoming");
	CHECK_STR(ev[st].type, "syn_flood");
	/* detected within 1 s of onset */
	CHECK(ev[st].ts > 10.05 && ev[st].ts <= 11.05);
	/* reported rate within 10% of the true rate (flood + background) */
	CHECK(fabs(ev[st].pps - 50200) / 50200 < 0.10);
	CHECK(strstr(ev[st].json, "\"syn_pps\"") != NULL);
	/* syn_pps (10k) is crossed 0.2 s after onset, before pps (20k) */
	CHECK(strstr(ev[st].json, "\"thresholds_exceeded\":[\"syn_pps\"]") != NULL);
	/* spoofed sources: no single address stands out, the /24 does */
	CHECK(strstr(ev[st].json, "\"src_addrs\":[]") != NULL);
	CHECK(strstr(ev[st].json, "\"src_prefixes\":[{\"value\":\"203.0.113.0/24\"") != NULL);
	CHECK(strstr(ev[st].json, "\"dst_ports\":[{\"value\":80,") != NULL);
	CHECK(strstr(ev[st].json, "\"tcp_flags\":[{\"value\":\"S\",") != NULL);
	/* updates at least every 5 s while it lasts: 15 s attack -> 2 or 3 updates */
	CHECK(count("attack_update") >= 2);
	/* ends cooldown (5 s) after the flood stops at 25.05, give or take the window */
	CHECK(ev[en].ts >= 30.0 && ev[en].ts <= 31.5);
	char peak[32];
	jfield(ev[en].json, "peak_pps", peak, sizeof(peak));
	CHECK(fabs(atof(peak) - 50200) / 50200 < 0.10);
	/* the end lists every threshold the attack crossed */
	CHECK(strstr(ev[en].json, "\"thresholds_exceeded\":[\"pps\",\"syn_pps\"]") != NULL);
	CHECK_EQ(count("attack_start"), 1);
}

static void test_below_threshold(void)
{
	struct stream s[] = {
	    {NULL, "198.51.100.5", 17, 0, 0, 0, 5000, 200, 15000, 0, 20},
	};
	run(base_yaml, s, 1, 20);
	CHECK_EQ(n_ev, 0);
}

static void test_dns_amp_fragments(void)
{
	/* responses larger than the MTU: first fragments carry sport 53, later ones no ports */
	struct stream s[] = {
	    {NULL, "198.51.100.6", 17, 0, OBS_FRAG_FIRST, 53, 0, 1500, 15000, 2, 8},
	    {NULL, "198.51.100.6", 17, 0, OBS_FRAG_LATER, 0, 0, 900, 15000, 2, 8},
	};
	run(base_yaml, s, 2, 12);
	int st = find("attack_start", 0);
	CHECK(st >= 0);
	if (st >= 0) {
		CHECK_STR(ev[st].type, "dns_amplification");
		CHECK(fabs(ev[st].pps - 30000) / 30000 < 0.10);
		CHECK(fabs(ev[st].bps - 15000 * 2400 * 8) / (15000 * 2400 * 8) < 0.10);
		CHECK(strstr(ev[st].json, "\"src_ports\":[{\"value\":53,") != NULL);
	}
}

static void test_types(void)
{
	static const struct {
		uint8_t proto, flags, frag;
		uint16_t sport;
		uint32_t len;
		const char *type;
	} c[] = {
	    {6, TCPF_ACK, 0, 0, 60, "ack_flood"},
	    {6, TCPF_RST | TCPF_ACK, 0, 0, 60, "rst_flood"},
	    {17, 0, 0, 0, 500, "udp_flood"},
	    {1, 0, 0, 0, 84, "icmp_flood"},
	    {17, 0, OBS_FRAG_LATER, 0, 1480, "fragment_flood"},
	    {17, 0, 0, 123, 468, "ntp_amplification"},
	    {17, 0, 0, 1900, 300, "ssdp_amplification"},
	    {17, 0, 0, 11211, 1400, "memcached_amplification"},
	    {17, 0, 0, 389, 1400, "cldap_amplification"},
	    {17, 0, 0, 19, 1000, "chargen_amplification"},
	    {17, 0, 0, 161, 1000, "snmp_amplification"},
	    {47, 0, 0, 0, 500, "ip_flood"},
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct stream s[] = {
		    {NULL, "198.51.100.7", c[i].proto, c[i].flags, c[i].frag, c[i].sport, 7777,
		     c[i].len, 30000, 1, 4},
		};
		run(base_yaml, s, 1, 6);
		int st = find("attack_start", 0);
		CHECK(st >= 0);
		if (st >= 0 && strcmp(ev[st].type, c[i].type) != 0) {
			fprintf(stderr, "case %zu: got %s want %s\n", i, ev[st].type, c[i].type);
			CHECK(0);
		}
	}
}

static void test_whitelist_ipv6_outgoing(void)
{
	struct stream s[] = {
	    /* whitelisted host: never reported */
	    {NULL, "198.51.100.10", 17, 0, 0, 0, 53, 100, 60000, 1, 5},
	    /* IPv6 target */
	    {"2001:db8:100::1", "2001:db8:5::77", 17, 0, 0, 4444, 80, 1000, 40000, 1, 5},
	    /* a protected host sending a flood out */
	    {"198.51.100.9", "192.0.2.99", 17, 0, 0, 5555, 9999, 200, 40000, 1, 5},
	};
	run(base_yaml, s, 3, 8);
	CHECK_EQ(count("attack_start"), 2);
	int v6 = -1, out = -1;
	for (int i = 0; i < n_ev; i++) {
		if (strcmp(ev[i].kind, "attack_start"))
			continue;
		if (strcmp(ev[i].target, "2001:db8:5::77") == 0)
			v6 = i;
		if (strcmp(ev[i].target, "198.51.100.9") == 0)
			out = i;
		CHECK(strcmp(ev[i].target, "198.51.100.10") != 0);
	}
	CHECK(v6 >= 0 && out >= 0);
	if (v6 >= 0) {
		CHECK_STR(ev[v6].dir, "incoming");
		CHECK(strstr(ev[v6].json, "\"src_prefixes\":[{\"value\":\"2001:db8:100::/48\"") !=
		      NULL);
	}
	if (out >= 0)
		CHECK_STR(ev[out].dir, "outgoing");
}

static void test_carpet_bombing(void)
{
	/* 16 hosts of group web at 2500 pps each: every host under its 5000 pps, the group at
	 * 40000 over its total of 30000 */
	struct stream s[16];
	static char dst[16][32];
	for (int i = 0; i < 16; i++) {
		snprintf(dst[i], sizeof(dst[i]), "198.51.100.%d", 16 + i);
		s[i] = (struct stream){NULL, dst[i], 17, 0, 0, 123, 3000, 400, 2500, 2, 8};
	}
	run(base_yaml, s, 16, 10);
	CHECK_EQ(count("attack_start"), 1);
	int st = find("attack_start", 0);
	if (st >= 0) {
		CHECK_STR(ev[st].target, "web");
		CHECK(strstr(ev[st].json, "\"scope\":\"hostgroup\"") != NULL);
		CHECK(fabs(ev[st].pps - 40000) / 40000 < 0.10);
		CHECK_STR(ev[st].type, "ntp_amplification");
	}
}

static void test_hostgroup_threshold(void)
{
	/* 8000 pps: under the global 20000, over web's per-host 5000 */
	struct stream s[] = {
	    {NULL, "198.51.100.20", 17, 0, 0, 0, 5000, 200, 8000, 1, 5},
	    {NULL, "198.51.100.60", 17, 0, 0, 0, 5000, 200, 8000, 1, 5},
	};
	run(base_yaml, s, 2, 8);
	CHECK_EQ(count("attack_start"), 1);
	int st = find("attack_start", 0);
	if (st >= 0) {
		CHECK_STR(ev[st].target, "198.51.100.20");
		CHECK(strstr(ev[st].json, "\"hostgroup\":\"web\"") != NULL);
	}
}

static void test_flows(void)
{
	/* 3000 pps, every packet a new flow (random source ports): over flows 2000 but under every
	 * packet and bit threshold */
	static const char *yaml = "networks: [198.51.100.0/24]\n"
				  "thresholds: {pps: 20000, flows: 2000}\n"
				  "detection: {cooldown: 2}\n";
	struct stream s[] = {
	    {NULL, "198.51.100.8", 17, 0, 0, 0, 53, 80, 3000, 1, 6},
	    /* one busy flow at 10000 pps: one flow, never a flows attack */
	    {"192.0.2.5", "198.51.100.9", 17, 0, 0, 5000, 53, 80, 10000, 1, 6},
	};
	run(yaml, s, 2, 8);
	CHECK_EQ(count("attack_start"), 1);
	int st = find("attack_start", 0);
	if (st >= 0) {
		CHECK_STR(ev[st].target, "198.51.100.8");
		CHECK(strstr(ev[st].json, "\"thresholds_exceeded\":[\"flows\"]") != NULL);
		char fl[32];
		const char *r = strstr(ev[st].json, "\"rates\":");
		if (r)
			jfield(r, "flows", fl, sizeof(fl));
		CHECK(r && fabs(atof(fl) - 3000) / 3000 < 0.10);
	}
}

static void test_eviction(void)
{
	/* 40 hosts talk for 1 s and fall silent: with host_idle 2 they are gone 2 s later; one
	 * host keeps talking and stays */
	static const char *yaml = "networks: [198.51.100.0/24]\n"
				  "limits: {host_idle: 2}\n";
	struct stream s[41];
	static char dst[40][32];
	for (int i = 0; i < 40; i++) {
		snprintf(dst[i], sizeof(dst[i]), "198.51.100.%d", 100 + i);
		s[i] = (struct stream){"192.0.2.1", dst[i], 17, 0, 0, 1000, 53, 80, 50, 0, 1};
	}
	s[40] = (struct stream){"192.0.2.1", "198.51.100.7", 17, 0, 0, 1000, 53, 80, 50, 0, 6};
	run(yaml, s, 41, 6);
	CHECK_EQ(last_st.hosts_evicted, 40);
	CHECK_EQ(last_st.hosts, 1);
	CHECK_EQ(n_ev, 0);
}

int main(void)
{
	test_eviction();
	test_flows();
	test_syn_flood();
	test_below_threshold();
	test_dns_amp_fragments();
	test_types();
	test_whitelist_ipv6_outgoing();
	test_carpet_bombing();
	test_hostgroup_threshold();
	return t_done("test_detect");
}
