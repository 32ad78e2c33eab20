/* test_bgp_policy: which announcement an attack gets (the mitigation list, a hostgroup's own,
 * auto), the routes built (blackhole /32 and /128 with communities, Flowspec from the vector,
 * diversion prefix), the hold, moatctl's bgp commands and the state file across a restart, over
 * a backend that records what the speaker would be told. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bgp/policy.h"
#include "ctl/ctl.h"
#include "t.h"

static struct bgp_out_route got[64];
static struct fs_rule got_fs[64];
static int n_ann, n_wd;
static uint64_t wd_ids[64];

static int b_announce(void *arg, const struct bgp_out_route *r)
{
	if (n_ann < 64) {
		got[n_ann] = *r;
		if (r->r.fs) {
			got_fs[n_ann] = *r->r.fs;
			got[n_ann].r.fs = &got_fs[n_ann];
		}
	}
	n_ann++;
	return 0;
}

static int b_withdraw(void *arg, uint64_t id)
{
	if (n_wd < 64)
		wd_ids[n_wd] = id;
	n_wd++;
	return 0;
}

static const struct bgpp_backend be = {NULL, b_announce, b_withdraw};
static char events[8192];

static void on_emit(void *arg, const char *json, size_t len)
{
	size_t n = strlen(events);
	if (n + len + 2 < sizeof(events)) {
		memcpy(events + n, json, len);
		events[n + len] = '\n';
		events[n + len + 1] = 0;
	}
}

static struct conf *load(const char *yaml)
{
	struct conf *c = NULL;
	char err[512];

	if (conf_load_buf("t.yaml", yaml, strlen(yaml), &c, err, sizeof(err)) < 0)
		fprintf(stderr, "config: %s\n", err);
	return c;
}

/* an incoming attack on target with a vector of n packets of one shape */
static struct attack *attack(const char *id, const char *target, double pps, double bps,
			     uint8_t proto, uint16_t sport, uint32_t len, int hg)
{
	struct attack *a = calloc(1, sizeof(*a));
	a->vec = calloc(1, sizeof(*a->vec));
	snprintf(a->id, sizeof(a->id), "%s", id);
	CHECK_EQ(maddr_parse(target, &a->target), 0);
	a->pps = pps;
	a->bps = bps;
	a->hg = hg;
	a->type = sport == 53 ? AT_DNS_AMP : AT_UDP_FLOOD;
	struct feed_rec r = {.dir = DIR_IN,
			     .proto = proto,
			     .ttl = 50,
			     .frag = 1,
			     .l4 = 1,
			     .sport = sport,
			     .dport = 40000,
			     .len = len,
			     .weight = 1,
			     .host = a->target};
	for (int k = 0; k < 500; k++) {
		uint8_t b[4] = {203, 0, 113, (uint8_t)k};
		maddr_from_v4(&r.peer, b);
		vec_add(a->vec, &r);
	}
	return a;
}

static void ev(struct bgpp *p, enum ev_kind k, struct attack *a, uint64_t ts)
{
	struct event e = {.kind = k, .ts_ns = ts, .a = a, .target = "t"};
	bgpp_event(p, &e);
}

static const uint64_t S = 1000000000ULL;

#define BGP_YAML                                                                                   \
	"networks: [198.51.100.0/24, \"2001:db8:5::/48\"]\n"                                       \
	"hostgroups: [{name: web, prefixes: [198.51.100.16/28], mitigation: [{action: "            \
	"diversion}]}]\n"                                                                          \
	"bgp:\n"                                                                                   \
	"  local_as: 65001\n"                                                                      \
	"  router_id: 192.0.2.254\n"                                                               \
	"  peers: [{address: 192.0.2.1, remote_as: 65000}]\n"                                      \
	"  blackhole: {communities: [\"65535:666\", \"65001:666\"], large_communities: "           \
	"[\"65001:666:1\"]}\n"                                                                     \
	"  diversion: {next_hop: 192.0.2.253, communities: [\"65001:777\"]}\n"                     \
	"  hold: 10\n"

static void test_policy(void)
{
	char why[256];
	struct conf *c = load(BGP_YAML "mitigation:\n"
				       "  - {when: {bps_over: 5G}, action: blackhole}\n"
				       "  - {when: {pps_over: 1000}, action: flowspec}\n");
	CHECK(c != NULL);
	if (!c)
		return;
	struct bgpp *p = bgpp_new(c, &be, false, on_emit, NULL);
	n_ann = n_wd = 0;
	events[0] = 0;

	/* a DNS reflection under 5 Gbit/s: flowspec of its vector, traffic-rate 0 */
	struct attack *a = attack("1-1", "198.51.100.5", 20000, 2.4e8, 17, 53, 1240, -1);
	ev(p, EV_ATTACK_START, a, 100 * S);
	CHECK_EQ(n_ann, 1);
	CHECK_EQ(got[0].r.family, BGP_IPV4_FLOWSPEC);
	char txt[512];
	fs_format(got[0].r.fs, txt, sizeof(txt));
	CHECK_STR(txt, "destination 198.51.100.5/32 protocol ==udp destination-port ==40000 "
		       "source-port ==53 packet-length >=1200");
	CHECK_EQ(got[0].n_ext, 1);
	CHECK(got[0].ext[0] == bgp_ext_traffic_rate(65001, 0));
	CHECK(strstr(events, "\"event\":\"bgp_announce\"") != NULL);
	CHECK(strstr(events, "\"action\":\"flowspec\"") != NULL);
	CHECK(strstr(events, "\"attack\":\"1-1\"") != NULL);

	/* over 5 Gbit/s: a blackhole /32 with the configured communities */
	struct attack *b = attack("1-2", "198.51.100.6", 4e6, 6e9, 17, 53, 1240, -1);
	ev(p, EV_ATTACK_START, b, 100 * S);
	CHECK_EQ(n_ann, 2);
	CHECK_EQ(got[1].r.family, BGP_IPV4_UNICAST);
	CHECK_EQ(got[1].r.len, 32);
	CHECK_EQ(got[1].r.prefix.b[15], 6);
	CHECK_EQ(got[1].nexthop.b[15], 254); /* the router id by default */
	CHECK_EQ(got[1].n_comm, 2);
	CHECK_EQ(got[1].comm[0], 0xffff029a);
	CHECK_EQ(got[1].comm[1], (65001u << 16) | 666);
	CHECK_EQ(got[1].n_large, 1);
	CHECK_EQ(got[1].large[0].local1, 666);
	CHECK(!got[1].only_without_flowspec);

	/* under every condition: nothing */
	struct attack *q = attack("1-3", "198.51.100.7", 500, 1e6, 17, 53, 1240, -1);
	ev(p, EV_ATTACK_START, q, 100 * S);
	CHECK_EQ(n_ann, 2);

	/* the hostgroup's own list: a diversion of the /24 with its next hop and community */
	struct attack *h = attack("1-4", "198.51.100.20", 20000, 1e8, 17, 53, 1240, 0);
	ev(p, EV_ATTACK_START, h, 100 * S);
	CHECK_EQ(n_ann, 3);
	CHECK_EQ(got[2].r.family, BGP_IPV4_UNICAST);
	CHECK_EQ(got[2].r.len, 24);
	CHECK_EQ(got[2].r.prefix.b[15], 0);
	CHECK_EQ(got[2].nexthop.b[15], 253);
	CHECK_EQ(got[2].comm[0], (65001u << 16) | 777);

	/* an IPv6 blackhole without next_hop6: refused, said, nothing sent */
	struct attack *v6 = attack("1-5", "2001:db8:5::5", 4e6, 6e9, 17, 53, 1240, -1);
	ev(p, EV_ATTACK_START, v6, 100 * S);
	CHECK_EQ(n_ann, 3);
	CHECK_EQ(bgpp_route_for(c, v6, MIT_ACT_BLACKHOLE, &got[63], &got_fs[63], why, sizeof(why)),
		 -1);
	CHECK(strstr(why, "next_hop6") != NULL);

	/* hold: withdrawn 10 s after the end, not before */
	ev(p, EV_ATTACK_END, a, 200 * S);
	bgpp_tick(p, 209 * S);
	CHECK_EQ(n_wd, 0);
	bgpp_tick(p, 210 * S);
	CHECK_EQ(n_wd, 1);
	CHECK_EQ(wd_ids[0], got[0].id);
	CHECK(strstr(events, "\"event\":\"bgp_withdraw\"") != NULL);
	CHECK(strstr(events, "\"reason\":\"hold expired\"") != NULL);

	/* moatctl bgp */
	struct json j;
	char err[256];
	json_init(&j);
	char *ann[] = {"bgp", "announce", "blackhole", "198.51.100.9"};
	CHECK_EQ(bgpp_command(p, 4, ann, 300 * S, &j, err, sizeof(err)), 0);
	CHECK(strstr(j.buf, "198.51.100.9/32 next-hop 192.0.2.254 blackhole") != NULL);
	CHECK_EQ(bgpp_command(p, 4, ann, 300 * S, &j, err, sizeof(err)), CTL_ECONFLICT);
	CHECK(strstr(err, "already announced") != NULL);
	char *fsw[] = {"bgp", "announce", "flowspec", "198.51.100.10", "proto",
		       "udp", "dport",	  "11211",    "drop"};
	CHECK_EQ(bgpp_command(p, 9, fsw, 300 * S, &j, err, sizeof(err)), 0);
	fs_format(got[n_ann - 1].r.fs, txt, sizeof(txt));
	CHECK_STR(txt, "destination 198.51.100.10/32 protocol ==udp destination-port ==11211");
	char *fsr[] = {"bgp", "announce", "flowspec", "198.51.100.10", "ratelimit", "5"};
	CHECK_EQ(bgpp_command(p, 6, fsr, 300 * S, &j, err, sizeof(err)), -1);
	char *bad[] = {"bgp", "announce", "nullroute", "198.51.100.9"};
	CHECK_EQ(bgpp_command(p, 4, bad, 300 * S, &j, err, sizeof(err)), -1);
	char *wd[] = {"bgp", "withdraw", "999"};
	CHECK_EQ(bgpp_command(p, 3, wd, 300 * S, &j, err, sizeof(err)), CTL_ENOTFOUND);
	CHECK(strstr(err, "no route 999") != NULL);
	json_reset(&j);
	json_obj(&j);
	char *ls[] = {"bgp", "list"};
	CHECK_EQ(bgpp_command(p, 2, ls, 300 * S, &j, err, sizeof(err)), 0);
	json_end(&j);
	CHECK(strstr(j.buf, "\"action\":\"flowspec\"") != NULL);
	CHECK(strstr(j.buf, "\"expires_in\":null") != NULL);
	json_free(&j);

	bgpp_free(p);
	conf_free(c);
	free(a->vec), free(a), free(b->vec), free(b), free(q->vec), free(q);
	free(h->vec), free(h), free(v6->vec), free(v6);
}

/* no mitigation list (auto): flowspec, and a blackhole for the peers without it */
static void test_auto(void)
{
	struct conf *c = load(BGP_YAML);
	CHECK(c != NULL);
	if (!c)
		return;
	struct bgpp *p = bgpp_new(c, &be, false, on_emit, NULL);
	n_ann = n_wd = 0;
	struct attack *a = attack("2-1", "198.51.100.5", 20000, 2.4e8, 17, 53, 1240, -1);
	ev(p, EV_ATTACK_START, a, 100 * S);
	CHECK_EQ(n_ann, 2);
	CHECK_EQ(got[0].r.family, BGP_IPV4_FLOWSPEC);
	CHECK_EQ(got[1].r.family, BGP_IPV4_UNICAST);
	CHECK(got[1].only_without_flowspec);
	ev(p, EV_ATTACK_END, a, 110 * S);
	bgpp_tick(p, 120 * S);
	CHECK_EQ(n_wd, 2);
	bgpp_free(p);
	conf_free(c);
	free(a->vec), free(a);
}

/* the state file: what is active comes back after a restart, what ended does not */
static void test_state(void)
{
	char dir[] = "/tmp/moat-bgpp-XXXXXX", yaml[2048], err[256];

	CHECK(mkdtemp(dir) != NULL);
	snprintf(yaml, sizeof(yaml), BGP_YAML "  state_file: %s/routes.json\n", dir);
	struct conf *c = load(yaml);
	CHECK(c != NULL);
	if (!c)
		return;
	struct bgpp *p = bgpp_new(c, &be, true, on_emit, NULL);
	n_ann = n_wd = 0;
	struct attack *a = attack("3-1", "198.51.100.5", 20000, 2.4e8, 17, 53, 1240, -1);
	struct attack *b = attack("3-2", "198.51.100.6", 20000, 2.4e8, 17, 123, 488, -1);
	ev(p, EV_ATTACK_START, a, 100 * S); /* flowspec + blackhole */
	ev(p, EV_ATTACK_START, b, 100 * S);
	ev(p, EV_ATTACK_END, b, 105 * S); /* held until 115 */
	uint64_t id_fs = got[0].id;
	CHECK_EQ(n_ann, 4);
	bgpp_free(p); /* moatd stops at 106 */

	/* restarted at 110: b's routes still held, a's still going; all four again, same ids */
	n_ann = 0;
	p = bgpp_new(c, &be, true, on_emit, NULL);
	CHECK_EQ(bgpp_restore(p, 110 * S, err, sizeof(err)), 4);
	CHECK_EQ(n_ann, 4);
	bool same = false;
	for (int i = 0; i < n_ann; i++)
		if (got[i].id == id_fs && got[i].r.family == BGP_IPV4_FLOWSPEC) {
			char txt[256];
			fs_format(got[i].r.fs, txt, sizeof(txt));
			same = strstr(txt, "source-port ==53") != NULL;
		}
	CHECK(same);
	/* auto's blackhole still goes only to the peers without Flowspec */
	int bh = 0;
	for (int i = 0; i < n_ann; i++)
		if (got[i].r.family == BGP_IPV4_UNICAST) {
			bh++;
			CHECK(got[i].only_without_flowspec);
		}
	CHECK_EQ(bh, 2);
	bgpp_free(p);

	/* restarted again at 116: b's ended at 115 meanwhile (not announced); a's, held from the
	 * first restart (110 + 10), still are */
	n_ann = n_wd = 0;
	p = bgpp_new(c, &be, true, on_emit, NULL);
	CHECK_EQ(bgpp_restore(p, 116 * S, err, sizeof(err)), 2);
	CHECK_EQ(n_ann, 2);
	bgpp_tick(p, 119 * S);
	CHECK_EQ(n_wd, 0);
	bgpp_tick(p, 120 * S);
	CHECK_EQ(n_wd, 2);
	bgpp_free(p);
	/* and once more at 200: nothing left */
	n_ann = 0;
	p = bgpp_new(c, &be, true, on_emit, NULL);
	CHECK_EQ(bgpp_restore(p, 200 * S, err, sizeof(err)), 0);
	CHECK_EQ(n_ann, 0);
	bgpp_free(p);

	/* a corrupt file is an error, not a crash */
	char path[300];
	snprintf(path, sizeof(path), "%s/routes.json", dir);
	FILE *f = fopen(path, "w");
	fputs("{\"routes\": [", f);
	fclose(f);
	p = bgpp_new(c, &be, true, on_emit, NULL);
	CHECK_EQ(bgpp_restore(p, 300 * S, err, sizeof(err)), -1);
	CHECK(strstr(err, "routes.json") != NULL);
	bgpp_free(p);
	unlink(path);
	rmdir(dir);
	conf_free(c);
	free(a->vec), free(a), free(b->vec), free(b);
}

int main(void)
{
	test_policy();
	test_auto();
	test_state();
	return t_done("test_bgp_policy");
}
