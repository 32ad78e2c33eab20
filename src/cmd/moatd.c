/* moatd: wiring only. Parse flags, load the config, build shards, detector and sinks, run a
 * replay or live capture, reload on SIGHUP, stop on SIGTERM. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bgp/policy.h"
#include "bgp/speaker.h"
#include "capture/capture.h"
#include "core/clock.h"
#include "core/conf.h"
#include "core/json.h"
#include "core/log.h"
#include "ctl/ctl.h"
#include "detect/detect.h"
#include "event/sinks.h"
#include "flow/collector.h"
#include "mitigate/mitigate.h"
#include "mitigate/rule.h"
#include "mitigate/scrubber.h"

#define MOAT_VERSION "0.1.0"

static volatile sig_atomic_t stop_flag, hup_flag;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		hup_flag = 1;
	else
		stop_flag = 1;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: moatd [-c FILE] [-r CAPTURE] [--events FILE|-] [options]\n"
	    "       moatd -t [-v] [-c FILE]\n"
	    "\n"
	    "DDoS detection: watches traffic to the protected networks, detects, classifies and\n"
	    "describes attacks within a second.\n"
	    "\n"
	    "  -c, --config FILE   configuration (default /etc/moat/moat.yaml)\n"
	    "  -t, --test          check the configuration and exit (0 = valid)\n"
	    "  -v, --verbose       with -t: print the effective configuration; else debug logging\n"
	    "  -r, --read FILE     replay a pcap/pcapng capture with its own timestamps as the\n"
	    "                      clock, instead of capturing live\n"
	    "      --events FILE   write events as JSON lines to FILE (- = stdout); overrides\n"
	    "                      events.file\n"
	    "      --stats         print counters to stderr at exit\n"
	    "      --seed N        hash key seed (default: random live, fixed for replays, so a\n"
	    "                      replay is repeatable)\n"
	    "      --unload        detach the XDP scrubber from scrubber.interfaces, remove its\n"
	    "                      pinned maps and rules, and exit\n"
	    "  -h, --help          this text\n"
	    "  -V, --version       version\n"
	    "\n"
	    "Signals: SIGHUP reloads the configuration (a bad file is refused and the old one\n"
	    "kept) and reopens the events file; SIGTERM and SIGINT stop. The XDP scrubber stays\n"
	    "attached with its rules when moatd stops; the next start takes them over.\n"
	    "moatctl(8) talks to a running moatd over control.socket.\n");
}

struct daemon {
	struct conf *conf;
	const char *conf_path;
	const char *events_path;
	bool verbose;
	struct detector *det;
	struct shard *shards[MAX_SHARDS];
	int n_shards;
	struct evlog *evlog;
	struct notify *notify;
	struct afp *afp[MAX_SHARDS];
	int n_afp;
	struct pcl *pcl[MAX_SHARDS];
	int n_pcl;
	struct collector *col[MAX_SHARDS];
	int n_col;
	struct conf *old_confs[8]; /* kept alive: attacks in flight point into them */
	int n_old;
	struct scrubber *scr; /* NULL: no scrubber, or a replay */
	struct mit *mit;      /* NULL: no scrubber configured */
	struct ctl *ctl;
	uint64_t started_ns;
	bool replay;
	struct bgp_speaker *bgp; /* NULL: no bgp section, or a replay */
	struct bgpp *bgpp;	 /* the BGP policy when bgp is configured */
};

/* mitigation events go to the event log (which a reload may open later) */
static void emit_line(void *arg, const char *json, size_t len)
{
	struct daemon *m = arg;

	if (m->evlog)
		evlog_line(m->evlog, json, len);
}

/* The scrubber (live) or the dry-run manager (replay) when scrubber: is configured. */
static int setup_mitigation(struct daemon *m, char *err, size_t errlen)
{
	struct mit_backend b;

	if (!m->conf->scrubber.enabled)
		return 0;
	if (!m->replay) {
		m->scr = scrubber_open(m->conf, err, errlen);
		if (!m->scr)
			return -1;
		scrubber_backend(m->scr, &b);
		if (scrubber_lists(m->scr, m->conf, err, errlen) < 0)
			return -1;
	} else {
		log_info("replay: scrubber rules are worked out and logged, not applied");
	}
	m->mit = mit_new(m->conf, m->replay ? NULL : &b, emit_line, m);
	if (!m->mit) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (m->scr) {
		int n = mit_adopt(m->mit, realtime_ns());
		if (n < 0)
			log_err("scrubber: cannot read the pinned rules: %s", strerror(-n));
		else if (n > 0)
			log_info("scrubber: took over %d rule(s) pinned in %s by an earlier run", n,
				 m->conf->scrubber.pin_dir);
	}
	det_subscribe(m->det, mit_event, m->mit);
	return 0;
}

static int b_announce(void *arg, const struct bgp_out_route *r)
{
	return arg ? bgp_speaker_announce(arg, r) : 0;
}

static int b_withdraw(void *arg, uint64_t id)
{
	return arg ? bgp_speaker_withdraw(arg, id) : 0;
}

/* The BGP speaker (live) and the policy that feeds it; in a replay the policy alone, its
 * announcements logged but sent nowhere. */
static int setup_bgp(struct daemon *m, char *err, size_t errlen)
{
	const struct conf *c = m->conf;
	struct bgp_peer_conf peers[CONF_MAX_BGP_PEERS];

	if (!c->bgp.enabled)
		return 0;
	if (!m->replay) {
		struct bgp_speaker_conf sc = {
		    .local_as = c->bgp.local_as,
		    .router_id = c->bgp.router_id,
		    .peers = peers,
		    .n_peers = c->bgp.n_peers,
		    .listen_addr = c->bgp.listen_addr,
		    .listen_port = c->bgp.listen[0] ? c->bgp.listen_port : 0,
		};
		memset(peers, 0, sizeof(peers));
		for (size_t i = 0; i < c->bgp.n_peers; i++) {
			const struct bgp_peer_cfg *p = &c->bgp.peers[i];
			peers[i].addr = p->addr;
			peers[i].port = p->port;
			peers[i].remote_as = p->remote_as;
			peers[i].families = p->families;
			snprintf(peers[i].md5, sizeof(peers[i].md5), "%s", p->md5);
			peers[i].passive = p->passive;
			peers[i].hold_time = p->hold_time;
		}
		m->bgp = bgp_speaker_new(&sc, emit_line, m, err, errlen);
		if (!m->bgp || bgp_speaker_start(m->bgp, err, errlen) < 0)
			return -1;
		log_info("bgp: AS %u, %zu peer(s)%s%s", c->bgp.local_as, c->bgp.n_peers,
			 c->bgp.listen[0] ? ", listening on " : "", c->bgp.listen);
	} else {
		log_info("replay: BGP announcements are worked out and logged, not sent");
	}
	struct bgpp_backend b = {.arg = m->bgp, .announce = b_announce, .withdraw = b_withdraw};
	m->bgpp = bgpp_new(c, &b, !m->replay, emit_line, m);
	if (!m->bgpp) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!m->replay && bgpp_restore(m->bgpp, realtime_ns(), err, errlen) < 0)
		return -1;
	det_subscribe(m->det, bgpp_event, m->bgpp);
	return 0;
}

/* The detector's tick hook: holds of scrubber rules and BGP routes */
static void on_tick(void *arg, uint64_t now_ns)
{
	struct daemon *m = arg;

	if (m->mit)
		mit_tick(m->mit, now_ns);
	if (m->bgpp)
		bgpp_tick(m->bgpp, now_ns);
}

static int setup_sinks(struct daemon *m, char *err, size_t errlen)
{
	const char *ev = m->events_path ? m->events_path : m->conf->events.file;

	if (ev) {
		m->evlog = evlog_open(ev, err, errlen);
		if (!m->evlog)
			return -1;
		det_subscribe(m->det, evlog_event, m->evlog);
	}
	m->notify = notify_new(m->conf);
	if (!m->notify) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	det_subscribe(m->det, notify_event, m->notify);
	return 0;
}

static bool captures_equal(const struct conf *a, const struct conf *b)
{
	if (a->n_captures != b->n_captures)
		return false;
	for (size_t i = 0; i < a->n_captures; i++) {
		const struct capture *x = &a->captures[i], *y = &b->captures[i];
		if (x->kind != y->kind || strcmp(x->interface, y->interface) != 0 ||
		    x->workers != y->workers || x->ring_mb != y->ring_mb)
			return false;
	}
	return true;
}

/* events.file changed in the config: write to the new file from now on */
static void reload_events(struct daemon *m, const struct conf *c)
{
	const char *old = m->evlog ? evlog_path(m->evlog) : NULL;
	const char *now = c->events.file;
	char err[512];

	if ((!old && !now) || (old && now && strcmp(old, now) == 0))
		return;
	if (!m->evlog) {
		m->evlog = evlog_open(now, err, sizeof(err));
		if (!m->evlog) {
			log_err("reload: %s; events are not written to a file", err);
			return;
		}
		det_subscribe(m->det, evlog_event, m->evlog);
	} else if (evlog_retarget(m->evlog, now, err, sizeof(err)) < 0) {
		log_err("reload: %s; still writing events to %s", err, old ? old : "nowhere");
		return;
	}
	log_info("reload: events now go to %s", now ? now : "no file");
}

static bool scrubber_equal(const struct conf *a, const struct conf *b)
{
	if (a->scrubber.enabled != b->scrubber.enabled ||
	    a->scrubber.n_interfaces != b->scrubber.n_interfaces ||
	    a->scrubber.mode != b->scrubber.mode ||
	    a->scrubber.sample_every != b->scrubber.sample_every ||
	    strcmp(a->scrubber.pin_dir, b->scrubber.pin_dir) != 0)
		return false;
	for (size_t i = 0; i < a->scrubber.n_interfaces; i++)
		if (strcmp(a->scrubber.interfaces[i], b->scrubber.interfaces[i]) != 0)
			return false;
	return true;
}

/* Returns 0, or -1 with why in err (the running config stays). */
static int reload(struct daemon *m, const char *why, char *err, size_t errlen)
{
	struct conf *c;
	char e2[512];

	log_info("%s: reloading %s", why, m->conf_path);
	if (conf_load(m->conf_path, &c, err, errlen) < 0) {
		log_err("reload refused, keeping the running config: %s", err);
		return -1;
	}
	if (det_reload(m->det, c, err, errlen) < 0) {
		log_err("reload refused, keeping the running config: %s", err);
		conf_free(c);
		return -1;
	}
	notify_set_conf(m->notify, c);
	if (m->mit)
		mit_set_conf(m->mit, c);
	if (m->bgpp)
		bgpp_set_conf(m->bgpp, c);
	if (m->scr && scrubber_lists(m->scr, c, e2, sizeof(e2)) < 0)
		log_err("reload: %s", e2); /* the lists stay as far as they got */
	if (m->conf->bgp.enabled != c->bgp.enabled || m->conf->bgp.local_as != c->bgp.local_as ||
	    m->conf->bgp.router_id != c->bgp.router_id ||
	    strcmp(m->conf->bgp.listen, c->bgp.listen) != 0 ||
	    m->conf->bgp.n_peers != c->bgp.n_peers ||
	    (c->bgp.n_peers &&
	     memcmp(m->conf->bgp.peers, c->bgp.peers, c->bgp.n_peers * sizeof(*c->bgp.peers)) != 0))
		log_warn(
		    "reload: the BGP sessions (bgp: local_as, router_id, listen, peers) change "
		    "when moatd restarts; the mitigation list, communities, next hops and hold "
		    "apply now");
	if (!scrubber_equal(m->conf, c))
		log_warn("reload: the scrubber's interfaces, mode, sampling or pin_dir changed; "
			 "they take effect when moatd restarts (auto, hold and limits apply now)");
	log_set_level(m->verbose ? LOG_DEBUG : c->log.level);
	if (!captures_equal(m->conf, c))
		log_warn("reload: capture sources changed; they take effect when moatd restarts");
	if ((m->conf->log.file == NULL) != (c->log.file == NULL) ||
	    (c->log.file && strcmp(m->conf->log.file, c->log.file) != 0))
		log_warn("reload: log.file changed; it takes effect when moatd restarts");
	if (!m->events_path) /* --events on the command line wins over the file */
		reload_events(m, c);
	if (m->n_old == (int)(sizeof(m->old_confs) / sizeof(m->old_confs[0]))) {
		conf_free(m->old_confs[0]);
		memmove(m->old_confs, m->old_confs + 1,
			sizeof(m->old_confs[0]) * (size_t)(m->n_old - 1));
		m->n_old--;
	}
	m->old_confs[m->n_old++] = m->conf;
	m->conf = c;
	if (m->evlog && evlog_path(m->evlog) && evlog_reopen(m->evlog, e2, sizeof(e2)) < 0)
		log_err("%s", e2);
	log_info("reloaded %s: %zu networks, %zu hostgroups", m->conf_path, c->n_networks,
		 c->n_hostgroups);
	return 0;
}

static void print_stats(struct daemon *m, FILE *f)
{
	struct shard_stats t;
	const struct det_stats *ds = det_stats(m->det);

	memset(&t, 0, sizeof(t));
	for (int i = 0; i < m->n_shards; i++) {
		const struct shard_stats *s = &m->shards[i]->st;
		t.obs += s->obs;
		t.unprotected += s->unprotected;
		t.tick_full += s->tick_full;
		t.feed_dropped += s->feed_dropped;
		t.flow_evictions += s->flow_evictions;
		t.capture_drops += s->capture_drops;
		for (int d = 0; d < DIR__COUNT; d++) {
			t.dir_pkts[d] += s->dir_pkts[d];
			t.dir_bytes[d] += s->dir_bytes[d];
		}
		for (int r = 0; r < DEC__COUNT; r++)
			t.dec.n[r] += s->dec.n[r];
	}
	fprintf(f, "decoded %llu", (unsigned long long)t.dec.n[DEC_OK]);
	for (int r = 1; r < DEC__COUNT; r++)
		if (t.dec.n[r])
			fprintf(f, ", %s %llu", decode_reason_name((enum decode_reason)r),
				(unsigned long long)t.dec.n[r]);
	fprintf(f, "\n");
	fprintf(f,
		"accounted %llu (incoming %llu pkts %llu bytes, outgoing %llu pkts %llu bytes), "
		"unprotected %llu\n",
		(unsigned long long)t.obs, (unsigned long long)t.dir_pkts[0],
		(unsigned long long)t.dir_bytes[0], (unsigned long long)t.dir_pkts[1],
		(unsigned long long)t.dir_bytes[1], (unsigned long long)t.unprotected);
	fprintf(f,
		"hosts %llu (evicted %llu, refused %llu), hot %llu (refused %llu), attacks %llu "
		"(active %llu)\n",
		(unsigned long long)ds->hosts, (unsigned long long)ds->hosts_evicted,
		(unsigned long long)ds->hosts_full, (unsigned long long)ds->hot,
		(unsigned long long)ds->hot_full, (unsigned long long)ds->attacks_total,
		(unsigned long long)ds->attacks_active);
	fprintf(f,
		"ticks %llu, tick table full %llu, samples %llu (dropped %llu), flow filter "
		"evictions %llu, capture drops %llu, shard lag %llu\n",
		(unsigned long long)ds->ticks, (unsigned long long)t.tick_full,
		(unsigned long long)ds->feed_samples, (unsigned long long)t.feed_dropped,
		(unsigned long long)t.flow_evictions, (unsigned long long)t.capture_drops,
		(unsigned long long)ds->shard_lag);
	for (int i = 0; i < m->n_col; i++)
		collector_print_stats(m->col[i], f);
	if (m->mit) {
		const struct mit_stats *ms = mit_stats(m->mit);
		fprintf(
		    f,
		    "mitigations started %llu, ended %llu, no rule %llu, refused %llu; rules by "
		    "hand added %llu, deleted %llu; samples %llu (written %llu, unattributed "
		    "%llu, over the cap %llu)\n",
		    (unsigned long long)ms->started, (unsigned long long)ms->ended,
		    (unsigned long long)ms->no_rule, (unsigned long long)ms->backend_errors,
		    (unsigned long long)ms->manual_added, (unsigned long long)ms->manual_deleted,
		    (unsigned long long)ms->samples, (unsigned long long)ms->samples_written,
		    (unsigned long long)ms->samples_unmatched,
		    (unsigned long long)ms->samples_over);
	}
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		fprintf(f, "peak rss %ld KiB, cpu %.3f s user %.3f s system\n", ru.ru_maxrss,
			ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
			ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
}

/* (host, direction) pairs one worker can hold in one tick: as many as the daemon tracks, so a
 * carpet bomb over every host still fits. Entries are touched only when used; the index costs
 * 8 bytes per pair of capacity. */
static uint32_t tick_hosts(const struct conf *c)
{
	uint32_t n = c->limits.max_hosts;
	return n < 4096 ? 4096 : n > (1u << 22) ? 1u << 22 : n;
}

static int run_replay(struct daemon *m, const char *path, uint64_t seed, char *err, size_t errlen)
{
	struct replay_stats rs;
	char e2[512];

	m->det = det_new(m->conf, seed, err, errlen);
	if (!m->det)
		return -1;
	m->shards[0] = shard_new(0, tick_hosts(m->conf), det_key(m->det), true);
	if (!m->shards[0]) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	m->n_shards = 1;
	if (det_add_shard(m->det, m->shards[0]) < 0) {
		snprintf(err, errlen, "cannot attach the capture shard");
		return -1;
	}
	if (setup_sinks(m, err, errlen) < 0 || setup_mitigation(m, err, errlen) < 0 ||
	    setup_bgp(m, err, errlen) < 0)
		return -1;
	det_on_tick(m->det, on_tick, m);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (replay_pcap(path, m->shards[0], m->det, &stop_flag, &rs, e2, sizeof(e2)) < 0) {
		snprintf(err, errlen, "%s", e2);
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	log_info("replayed %llu packets (%.1f s of traffic) in %.3f s: %.2f Mpps",
		 (unsigned long long)rs.packets, (rs.last_ns - rs.first_ns) / 1e9, secs,
		 secs > 0 ? rs.packets / secs / 1e6 : 0);
	return 0;
}

static struct shard *add_shard(struct daemon *m, char *err, size_t errlen)
{
	if (m->n_shards == MAX_SHARDS) {
		snprintf(err, errlen, "more than %d capture workers in all", MAX_SHARDS);
		return NULL;
	}
	struct shard *sh = shard_new(m->n_shards, tick_hosts(m->conf), det_key(m->det), false);
	if (!sh) {
		snprintf(err, errlen, "out of memory for capture worker %d", m->n_shards);
		return NULL;
	}
	m->shards[m->n_shards++] = sh;
	if (det_add_shard(m->det, sh) < 0) {
		snprintf(err, errlen, "cannot attach capture worker %d", m->n_shards - 1);
		return NULL;
	}
	return sh;
}

/* Opens one capture source with its workers; each worker gets its own shard. */
static int open_capture(struct daemon *m, const struct capture *cap, char *err, size_t errlen)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int workers = cap->workers ? (int)cap->workers : (int)(ncpu > 8 ? 8 : ncpu < 1 ? 1 : ncpu);
	struct shard *sh[MAX_SHARDS];

	if (cap->kind == CAPTURE_SFLOW || cap->kind == CAPTURE_NETFLOW) {
		if (!(sh[0] = add_shard(m, err, errlen)))
			return -1;
		struct collector *co = collector_open(cap, m->conf, sh[0], err, errlen);
		if (!co)
			return -1;
		m->col[m->n_col++] = co;
		if (collector_start(co, err, errlen) < 0)
			return -1;
		log_info("collecting %s on %s%s",
			 cap->kind == CAPTURE_SFLOW ? "sFlow v5" : "NetFlow v5/v9 and IPFIX",
			 cap->listen, m->conf->n_exporters ? " (listed exporters only)" : "");
		return 0;
	}
	if (cap->kind == CAPTURE_PCAP) {
		if (!(sh[0] = add_shard(m, err, errlen)))
			return -1;
		struct pcl *l = pcl_open(cap, sh[0], err, errlen);
		if (!l)
			return -1;
		m->pcl[m->n_pcl++] = l;
		if (pcl_start(l, err, errlen) < 0)
			return -1;
		log_info("capturing on %s with libpcap (1 worker)", cap->interface);
		return 0;
	}
	for (int i = 0; i < workers; i++)
		if (!(sh[i] = add_shard(m, err, errlen)))
			return -1;
	struct afp *a = afp_open(cap, sh, workers, err, errlen);
	if (!a)
		return -1;
	m->afp[m->n_afp++] = a;
	if (afp_start(a, err, errlen) < 0)
		return -1;
	log_info("capturing on %s with %d AF_PACKET worker(s), TPACKET_V3, fanout hash",
		 cap->interface, workers);
	return 0;
}

static void close_captures(struct daemon *m)
{
	for (int i = 0; i < m->n_afp; i++)
		afp_close(m->afp[i]);
	for (int i = 0; i < m->n_pcl; i++)
		pcl_close(m->pcl[i]);
	for (int i = 0; i < m->n_col; i++)
		collector_close(m->col[i]);
	m->n_afp = m->n_pcl = m->n_col = 0;
}

static void poll_captures(struct daemon *m)
{
	for (int i = 0; i < m->n_afp; i++)
		afp_poll_stats(m->afp[i]);
	for (int i = 0; i < m->n_pcl; i++)
		pcl_poll_stats(m->pcl[i]);
}

/* ---- the control socket: moatctl's commands ---- */

static int cmd_rule(struct daemon *m, int argc, char **argv, struct json *out, char *err,
		    size_t errlen)
{
	uint64_t now = realtime_ns();

	if (!m->mit) {
		snprintf(err, errlen, "no scrubber configured (add scrubber: to %s)", m->conf_path);
		return -1;
	}
	if (argc >= 2 && !strcmp(argv[1], "list")) {
		if (argc != 2) {
			snprintf(err, errlen, "usage: rule list");
			return -1;
		}
		json_key(out, "rules");
		mit_rules_json(m->mit, out, now);
		return 0;
	}
	if (argc >= 2 && !strcmp(argv[1], "add")) {
		struct scrub_rule r;
		uint32_t id;
		if (argc < 4) {
			snprintf(err, errlen,
				 "usage: rule add TARGET [MATCH...] drop|pass|ratelimit PPS");
			return -1;
		}
		if (rule_parse(argc - 2, argv + 2, &r, err, errlen) < 0 ||
		    mit_rule_add(m->mit, &r, now, &id, err, errlen) < 0)
			return -1;
		json_key(out, "rule");
		return mit_rule_json(m->mit, id, out, now);
	}
	if (argc >= 2 && !strcmp(argv[1], "del")) {
		char *end;
		unsigned long id;
		if (argc != 3) {
			snprintf(err, errlen, "usage: rule del ID");
			return -1;
		}
		errno = 0;
		id = strtoul(argv[2], &end, 10);
		if (errno || *end || !*argv[2] || argv[2][0] == '-' || id >= SCRUB_MAX_RULES) {
			snprintf(err, errlen, "rule del: '%s' is not a rule id", argv[2]);
			return -1;
		}
		if (mit_rule_del(m->mit, (uint32_t)id, now, err, errlen) < 0)
			return -1;
		json_key(out, "deleted");
		json_u64(out, id);
		return 0;
	}
	snprintf(err, errlen, "usage: rule add|del|list ...");
	return -1;
}

static int cmd_status(struct daemon *m, struct json *out)
{
	const struct det_stats *ds = det_stats(m->det);

	json_key(out, "version");
	json_str(out, MOAT_VERSION);
	json_key(out, "pid");
	json_u64(out, (uint64_t)getpid());
	json_key(out, "uptime");
	json_dbl(out, (realtime_ns() - m->started_ns) / 1e9, 1);
	json_key(out, "config");
	json_str(out, m->conf_path);
	json_key(out, "hosts");
	json_u64(out, ds->hosts);
	json_key(out, "attacks_active");
	json_u64(out, ds->attacks_active);
	json_key(out, "attacks_total");
	json_u64(out, ds->attacks_total);
	json_key(out, "scrubber");
	if (!m->scr) {
		json_null(out);
		return 0;
	}
	json_obj(out);
	json_key(out, "interfaces");
	json_arr(out);
	for (size_t i = 0; i < m->conf->scrubber.n_interfaces; i++)
		json_str(out, m->conf->scrubber.interfaces[i]);
	json_aend(out);
	json_key(out, "auto");
	json_bool(out, m->conf->scrubber.autom);
	const struct mit_stats *ms = mit_stats(m->mit);
	json_key(out, "mitigations_started");
	json_u64(out, ms->started);
	json_key(out, "mitigations_ended");
	json_u64(out, ms->ended);
	json_key(out, "samples");
	json_u64(out, ms->samples);
	scrubber_json(m->scr, out);
	json_end(out);
	return 0;
}

static int on_command(void *arg, int argc, char **argv, struct json *out, char *err, size_t errlen)
{
	struct daemon *m = arg;

	if (argc < 1) {
		snprintf(err, errlen, "empty request");
		return -1;
	}
	if (!strcmp(argv[0], "rule"))
		return cmd_rule(m, argc, argv, out, err, errlen);
	if (!strcmp(argv[0], "status") && argc == 1)
		return cmd_status(m, out);
	if (!strcmp(argv[0], "bgp")) {
		if (!m->bgpp) {
			snprintf(err, errlen, "no bgp section in %s", m->conf_path);
			return -1;
		}
		if (argc == 2 && !strcmp(argv[1], "peers")) {
			json_key(out, "peers");
			bgp_speaker_peers_json(m->bgp, out);
			return 0;
		}
		return bgpp_command(m->bgpp, argc, argv, realtime_ns(), out, err, errlen);
	}
	if (!strcmp(argv[0], "reload") && argc == 1) {
		if (reload(m, "moatctl reload", err, errlen) < 0)
			return -1;
		json_key(out, "reloaded");
		json_str(out, m->conf_path);
		return 0;
	}
	snprintf(err, errlen,
		 "unknown command '%s' (known: status, reload, rule add|del|list, bgp "
		 "peers|list|announce|withdraw)",
		 argv[0]);
	return -1;
}

static void wait_until(struct daemon *m, uint64_t next)
{
	uint64_t now = realtime_ns();

	if (now >= next)
		return;
	if (m->ctl) {
		ctl_serve(m->ctl, (int)((next - now + 999999) / 1000000));
		return;
	}
	struct timespec ts = {(time_t)(next / 1000000000ULL), (long)(next % 1000000000ULL)};
	clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL);
}

static int run_live(struct daemon *m, uint64_t seed, char *err, size_t errlen)
{
	char e2[512];

	if (!m->conf->n_captures) {
		snprintf(err, errlen,
			 "%s: no capture configured (add capture: [{af_packet: "
			 "{interface: IFACE}}] or replay a file with -r)",
			 m->conf_path);
		return -1;
	}
	m->det = det_new(m->conf, seed, err, errlen);
	if (!m->det)
		return -1;
	if (setup_sinks(m, err, errlen) < 0 || setup_mitigation(m, err, errlen) < 0 ||
	    setup_bgp(m, err, errlen) < 0)
		return -1;
	det_on_tick(m->det, on_tick, m);
	if (m->conf->control.socket) {
		m->ctl = ctl_open(m->conf->control.socket, on_command, m, err, errlen);
		if (!m->ctl)
			return -1;
		log_info("control socket %s", m->conf->control.socket);
	}
	for (size_t i = 0; i < m->conf->n_captures; i++)
		if (open_capture(m, &m->conf->captures[i], err, errlen) < 0)
			return -1;

	uint64_t next = (realtime_ns() / TICK_NS + 1) * TICK_NS;
	unsigned n = 0;
	while (!stop_flag) {
		wait_until(m, next);
		if (hup_flag) {
			hup_flag = 0;
			reload(m, "SIGHUP", e2, sizeof(e2));
		}
		uint64_t now = realtime_ns();
		if (now + TICK_NS < next) /* clock stepped back: start over from now */
			next = (now / TICK_NS + 1) * TICK_NS;
		if (now < next)
			continue;
		while (next <= now) {
			det_tick(m->det, next);
			next += TICK_NS;
		}
		if (m->scr)
			scrubber_poll(m->scr, m->mit);
		if (++n % 10 == 0) {
			poll_captures(m);
			notify_reap(m->notify, false);
		}
	}
	log_info("stopping");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"test", no_argument, NULL, 't'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"read", required_argument, NULL, 'r'},
	    {"events", required_argument, NULL, 'E'},
	    {"stats", no_argument, NULL, 'S'},
	    {"seed", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {"unload", no_argument, NULL, 'U'},
	    {NULL, 0, NULL, 0},
	};
	struct daemon m = {.conf_path = "/etc/moat/moat.yaml"};
	const char *replay = NULL;
	bool test = false, verbose = false, stats = false, seed_set = false, unload = false;
	uint64_t seed = 0;
	char err[1024];
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "c:tvr:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			m.conf_path = optarg;
			break;
		case 't':
			test = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'r':
			replay = optarg;
			break;
		case 'E':
			m.events_path = optarg;
			break;
		case 'S':
			stats = true;
			break;
		case 'U':
			unload = true;
			break;
		case 's': {
			char *end;
			errno = 0;
			seed = strtoull(optarg, &end, 0);
			if (errno || *end || !*optarg) {
				fprintf(stderr, "moatd: --seed: '%s' is not a number\n", optarg);
				return 2;
			}
			seed_set = true;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("moatd %s\n", MOAT_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "moatd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (conf_load(m.conf_path, &m.conf, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (test) {
		if (verbose)
			conf_print(m.conf, stdout);
		else
			fprintf(stderr, "%s: configuration OK\n", m.conf_path);
		conf_free(m.conf);
		return 0;
	}
	m.verbose = verbose;
	log_init(m.conf->log.file, verbose ? LOG_DEBUG : m.conf->log.level);
	if (unload) {
		rc = scrubber_unload(m.conf, err, sizeof(err));
		if (rc < 0)
			log_err("%s", err);
		conf_free(m.conf);
		return rc < 0 ? 1 : 0;
	}
	m.replay = replay != NULL;
	m.started_ns = realtime_ns();
	if (replay && !seed_set)
		seed = 0x6d6f6174; /* "moat": a replay hashes the same way every time */

	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (replay)
		rc = run_replay(&m, replay, seed, err, sizeof(err));
	else
		rc = run_live(&m, seed, err, sizeof(err));
	if (rc < 0)
		log_err("%s", err);
	for (int i = 0; i < m.n_col; i++)
		collector_stop(m.col[i]);
	for (int i = 0; i < m.n_afp; i++) /* join the workers before reading their counters */
		afp_close(m.afp[i]);
	for (int i = 0; i < m.n_pcl; i++)
		pcl_close(m.pcl[i]);
	m.n_afp = m.n_pcl = 0;
	if (m.det && (stats || verbose))
		print_stats(&m, stderr);
	close_captures(&m);
	if (m.ctl)
		ctl_close(m.ctl);
	mit_free(m.mit);
	if (m.bgp) {
		log_info("bgp: closing the sessions%s",
			 m.conf->bgp.withdraw_on_shutdown ? ", routes withdrawn first" : "");
		if (m.conf->bgp.withdraw_on_shutdown)
			bgpp_shutdown(m.bgpp, realtime_ns());
		bgp_speaker_free(m.bgp, m.conf->bgp.withdraw_on_shutdown);
	}
	bgpp_free(m.bgpp);
	if (m.scr) {
		log_info("scrubber: left attached with its rules (moatd --unload removes it)");
		scrubber_close(m.scr);
	}
	if (m.notify)
		notify_free(m.notify);
	det_free(m.det);
	for (int i = 0; i < m.n_shards; i++)
		shard_free(m.shards[i]);
	evlog_close(m.evlog);
	for (int i = 0; i < m.n_old; i++)
		conf_free(m.old_confs[i]);
	conf_free(m.conf);
	return rc < 0 ? 1 : 0;
}
