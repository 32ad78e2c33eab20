/* bgp-load: announces and withdraws N routes through moat's BGP speaker (src/bgp/speaker.h) to
 * one BIRD peer and times both, for bench/bgp-load.sh.
 *
 *   bgp-load -b BIRD_CTL [-a PEER] [-l LOCAL] [-n N] [-r RUNS] [-k flow|blackhole]
 *
 * Peers with PEER (default 127.0.0.1, port 179, AS 65000) as AS 65001 from LOCAL (default
 * 127.0.0.2), waits for Established, then per run:
 *   announce N distinct routes as fast as bgp_speaker_announce() takes them, then withdraw them
 *   all, each phase timed from its first call:
 *     api   until the last call returned,
 *     wire  until the bgp_update_sent event that brings the phase's routes sent to N (the write()
 *           that completed the last UPDATE, its mono_ns),
 *     bird  until `birdc -s BIRD_CTL show route count table T` (polled back to back, the time
 *           taken after each answer) says N (announce) or 0 (withdraw).
 * Routes: flow (ipv4 flowspec, table flowtab4): destination 198.51.100.(1 + i / 100)/32,
 * protocol udp, destination port 1000 + i % 100, discard (traffic-rate 0); blackhole (ipv4
 * unicast, table master4): 198.18.(i / 256).(i % 256)/32 (RFC 2544's benchmarking range),
 * next hop 192.0.2.254, communities 65535:666. Prints one line per run and phase:
 *   run R announce|withdraw api_ms W wire_ms X bird_ms Y updates U
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bgp/flowspec.h"
#include "bgp/msg.h"
#include "bgp/speaker.h"
#include "core/clock.h"
#include "core/json.h"
#include "core/obs.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool want_withdraw;
static uint64_t sent_routes, sent_updates, done_ns, target;
static bool peer_up;

static uint64_t num_after(const char *json, size_t len, const char *key)
{
	char buf[4096];
	size_t n = len < sizeof(buf) - 1 ? len : sizeof(buf) - 1;
	memcpy(buf, json, n);
	buf[n] = 0;
	const char *p = strstr(buf, key);
	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

static void on_event(void *arg, const char *json, size_t len)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	if (len > 22 && memcmp(json, "{\"event\":\"bgp_peer_up\"", 22) == 0) {
		peer_up = true;
		pthread_cond_broadcast(&cv);
	} else if (len > 26 && memcmp(json, "{\"event\":\"bgp_update_sent\"", 26) == 0) {
		bool wd = memmem(json, len, "\"withdraw\":true", 15) != NULL;
		if (wd == want_withdraw) {
			sent_routes += num_after(json, len, "\"routes\":");
			sent_updates++;
			if (!done_ns && sent_routes >= target) {
				done_ns = num_after(json, len, "\"mono_ns\":");
				pthread_cond_broadcast(&cv);
			}
		}
	}
	pthread_mutex_unlock(&mu);
}

static long bird_count(const char *ctl, const char *table)
{
	char cmd[512], line[512];
	snprintf(cmd, sizeof(cmd), "birdc -s '%s' show route count table %s 2>&1", ctl, table);
	FILE *f = popen(cmd, "r");
	long n = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		long a;
		if (sscanf(line, "%ld of %*d routes", &a) == 1)
			n = a;
	}
	pclose(f);
	return n;
}

static double ms(uint64_t a, uint64_t b)
{
	return (double)(b - a) / 1e6;
}

static void set_v4(struct maddr *a, unsigned b0, unsigned b1, unsigned b2, unsigned b3)
{
	uint8_t v[4] = {(uint8_t)b0, (uint8_t)b1, (uint8_t)b2, (uint8_t)b3};
	maddr_from_v4(a, v);
}

int main(int argc, char **argv)
{
	const char *ctl = NULL, *peer = "127.0.0.1", *local = "127.0.0.2", *kind = "flow";
	unsigned n = 10000, runs = 3;
	int o;
	while ((o = getopt(argc, argv, "b:a:l:n:r:k:")) != -1) {
		switch (o) {
		case 'b':
			ctl = optarg;
			break;
		case 'a':
			peer = optarg;
			break;
		case 'l':
			local = optarg;
			break;
		case 'n':
			n = (unsigned)atoi(optarg);
			break;
		case 'r':
			runs = (unsigned)atoi(optarg);
			break;
		case 'k':
			kind = optarg;
			break;
		default:
			goto usage;
		}
	}
	bool flow = strcmp(kind, "flow") == 0;
	if (!ctl || (!flow && strcmp(kind, "blackhole") != 0) || n == 0 || n > 25600)
		goto usage;
	const char *table = flow ? "flowtab4" : "master4";

	struct bgp_peer_conf pc = {.remote_as = 65000, .hold_time = 90};
	pc.families = BGP_FAM_BIT(BGP_IPV4_UNICAST) | BGP_FAM_BIT(BGP_IPV4_FLOWSPEC);
	struct bgp_speaker_conf sc = {
	    .local_as = 65001, .router_id = 0xc0000202u, .peers = &pc, .n_peers = 1};
	if (maddr_parse(peer, &pc.addr) < 0 || maddr_parse(local, &sc.listen_addr) < 0)
		goto usage;
	char err[256];
	struct bgp_speaker *s = bgp_speaker_new(&sc, on_event, NULL, err, sizeof(err));
	if (!s || bgp_speaker_start(s, err, sizeof(err)) < 0) {
		fprintf(stderr, "bgp-load: %s\n", err);
		return 1;
	}
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 20;
	pthread_mutex_lock(&mu);
	while (!peer_up && pthread_cond_timedwait(&cv, &mu, &dl) != ETIMEDOUT)
		;
	bool up = peer_up;
	pthread_mutex_unlock(&mu);
	if (!up) {
		fprintf(stderr, "bgp-load: no session with %s in 20 s\n", peer);
		bgp_speaker_free(s, false);
		return 1;
	}
	usleep(500000); /* let the initial End-of-RIB exchange settle */

	struct fs_rule *rules = calloc(n, sizeof(*rules));
	struct bgp_out_route *routes = calloc(n, sizeof(*routes));
	if (!rules || !routes)
		return 1;
	for (unsigned i = 0; i < n; i++) {
		struct bgp_out_route *r = &routes[i];
		if (flow) {
			struct maddr d;
			set_v4(&d, 198, 51, 100, 1 + i / 100);
			fs_rule_init(&rules[i], 4);
			fs_set_dst(&rules[i], &d, 32, 0);
			fs_add_eq(&rules[i], FS_PROTO, 17);
			fs_add_eq(&rules[i], FS_DPORT, 1000 + i % 100);
			r->r.family = BGP_IPV4_FLOWSPEC;
			r->r.fs = &rules[i];
			r->ext[0] = bgp_ext_traffic_rate(65001, 0);
			r->n_ext = 1;
		} else {
			r->r.family = BGP_IPV4_UNICAST;
			r->r.len = 32;
			set_v4(&r->r.prefix, 198, 18, i / 256, i % 256);
			set_v4(&r->nexthop, 192, 0, 2, 254);
			r->comm[0] = BGP_COMM_BLACKHOLE;
			r->n_comm = 1;
		}
	}

	int rc = 0;
	for (unsigned run = 1; run <= runs && rc == 0; run++) {
		for (int phase = 0; phase < 2 && rc == 0; phase++) {
			bool wd = phase == 1;
			pthread_mutex_lock(&mu);
			want_withdraw = wd;
			sent_routes = sent_updates = done_ns = 0;
			target = n;
			pthread_mutex_unlock(&mu);
			uint64_t t0 = mono_ns();
			for (unsigned i = 0; i < n; i++) {
				int e;
				routes[i].id = (uint64_t)run * 100000 + i + 1;
				e = wd ? bgp_speaker_withdraw(s, routes[i].id)
				       : bgp_speaker_announce(s, &routes[i]);
				if (e < 0) {
					fprintf(stderr, "bgp-load: route %u: %s\n", i,
						strerror(-e));
					rc = 1;
					break;
				}
			}
			uint64_t t_api = mono_ns();
			long want = wd ? 0 : (long)n, have = -1;
			uint64_t t_bird = 0;
			while (rc == 0 && mono_ns() - t0 < 60 * 1000000000ull) {
				have = bird_count(ctl, table);
				if (have == want) {
					t_bird = mono_ns();
					break;
				}
			}
			clock_gettime(CLOCK_REALTIME, &dl);
			dl.tv_sec += 10;
			pthread_mutex_lock(&mu);
			while (!done_ns && pthread_cond_timedwait(&cv, &mu, &dl) != ETIMEDOUT)
				;
			uint64_t t_wire = done_ns, ups = sent_updates;
			pthread_mutex_unlock(&mu);
			if (!t_bird || !t_wire) {
				fprintf(stderr,
					"bgp-load: run %u %s: BIRD has %ld of %ld, wire %s\n", run,
					wd ? "withdraw" : "announce", have, want,
					t_wire ? "done" : "not done");
				rc = 1;
				break;
			}
			printf("run %u %s api_ms %.2f wire_ms %.2f bird_ms %.2f updates %llu\n",
			       run, wd ? "withdraw" : "announce", ms(t0, t_api), ms(t0, t_wire),
			       ms(t0, t_bird), (unsigned long long)ups);
			fflush(stdout);
			usleep(300000);
		}
	}
	bgp_speaker_free(s, true);
	free(rules);
	free(routes);
	return rc;
usage:
	fprintf(stderr, "usage: bgp-load -b BIRD_CTL [-a PEER] [-l LOCAL] [-n N (<= 25600)] "
			"[-r RUNS] [-k flow|blackhole]\n");
	return 2;
}
