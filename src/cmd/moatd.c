/* moatd: wiring only. Parse flags, load the config, build shards, detector and sinks, run a
 * replay or live capture, reload on SIGHUP, stop on SIGTERM. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "api/metrics.h"
#include "bgp/policy.h"
#include "bgp/speaker.h"
#include "capture/capture.h"
#include "core/clock.h"
#include "core/conf.h"
#include "core/jparse.h"
#include "core/json.h"
#include "core/log.h"
#include "ctl/ctl.h"
#include "detect/detect.h"
#include "event/sinks.h"
#include "flow/collector.h"
#include "hist/history.h"
#include "mitigate/mitigate.h"
#include "mitigate/rule.h"
#include "mitigate/scrubber.h"

#define MOAT_VERSION "0.1.0"

/* the dashboard, embedded at build time (tools/embed.sh) */
extern const struct api_asset moat_web_assets[];
extern const size_t moat_web_n_assets;

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
	struct hist *hist;	 /* NULL: no history */
	struct api *api;	 /* NULL: no api section, or a replay */
	uint64_t next_prune_ns;
	uint64_t sample_sec; /* the last second whose attack samples went to the history */
	unsigned n_samples;  /* samples in that second (capped) */
	struct gprev {	     /* each hostgroup's totals at the end of second `sec` */
		uint64_t p[DIR__COUNT], b[DIR__COUNT], sec;
	} * gprev;
	size_t n_gprev;
	struct json tmp; /* scratch for replies built from other replies */
};

/* mitigation events go to the event log (which a reload may open later) */
static void emit_line(void *arg, const char *json, size_t len)
{
	struct daemon *m = arg;

	if (m->evlog)
		evlog_line(m->evlog, json, len);
	if (m->hist)
		hist_line(m->hist, json, len);
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

/* One point of an attack's timeline a second, to the history only (attack_sample): a host
 * attack's target's traffic in its direction over the second that just completed, a hostgroup
 * attack's whole group's (the difference of its totals a second apart). Stamped at the second's
 * end, like an event's rate over the window ending at its ts. At most 4096 a second. */
static void sample_attack(void *arg, const struct attack *a)
{
	struct daemon *m = arg;
	struct det_host_info h;
	double pps, bps;
	char line[256];

	if (m->n_samples >= 4096)
		return;
	if (a->group) {
		uint64_t p[DIR__COUNT], b[DIR__COUNT];
		if (a->hg < 0 || (size_t)a->hg >= m->n_gprev ||
		    m->gprev[a->hg].sec + 1 != m->sample_sec ||
		    det_group_totals(m->det, a->hg, p, b) < 0)
			return;
		pps = (double)(p[a->dir] - m->gprev[a->hg].p[a->dir]);
		bps = (double)(b[a->dir] - m->gprev[a->hg].b[a->dir]) * 8;
	} else {
		if (det_host(m->det, &a->target, &h) < 0)
			return;
		pps = h.rate[a->dir].pps;
		bps = h.rate[a->dir].bps;
	}
	m->n_samples++;
	int n = snprintf(line, sizeof(line),
			 "{\"event\":\"attack_sample\",\"ts\":%llu,\"attack\":\"%s\",\"pps\":%.0f,"
			 "\"bps\":%.0f}",
			 (unsigned long long)m->sample_sec + 1, a->id, pps, bps);
	if (n > 0 && (size_t)n < sizeof(line))
		hist_line(m->hist, line, (size_t)n);
}

/* Every hostgroup's totals as of the second that just completed, for the next second's samples */
static void sample_groups(struct daemon *m)
{
	size_t n = m->conf->n_hostgroups;

	if (n != m->n_gprev) { /* a reload changed the groups: start over */
		struct gprev *g = realloc(m->gprev, (n ? n : 1) * sizeof(*g));
		if (!g)
			return;
		memset(g, 0, (n ? n : 1) * sizeof(*g));
		m->gprev = g;
		m->n_gprev = n;
	}
	for (size_t i = 0; i < n; i++)
		if (det_group_totals(m->det, (int)i, m->gprev[i].p, m->gprev[i].b) == 0)
			m->gprev[i].sec = m->sample_sec;
}

/* The detector's tick hook: holds of scrubber rules and BGP routes, attack samples */
static void on_tick(void *arg, uint64_t now_ns)
{
	struct daemon *m = arg;

	if (m->hist && det_last_second(m->det) != m->sample_sec) {
		m->sample_sec = det_last_second(m->det);
		m->n_samples = 0;
		det_each_attack(m->det, sample_attack, m);
		sample_groups(m);
	}

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
	/* a replay keeps history only when the config asks for it */
	const struct conf *c = m->conf;
	if (c->history.path && (!m->replay || c->history.given)) {
		m->hist = hist_open(c->history.path, c->history.retention_days,
				    c->history.max_attacks, err, errlen);
		if (!m->hist)
			return -1;
		/* retention counts on the system clock: a replay of an old capture would delete its
		 * own attacks, so replays never prune */
		int n = m->replay ? 0 : hist_prune(m->hist, realtime_ns());
		log_info("history: %s (retention %u days, at most %u attacks)%s", c->history.path,
			 c->history.retention_days, c->history.max_attacks,
			 n > 0 ? ", old attacks pruned" : "");
		det_subscribe(m->det, hist_event, m->hist);
		m->next_prune_ns = realtime_ns() + 3600ULL * 1000000000ULL;
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
	if (m->hist)
		hist_set_retention(m->hist, c->history.retention_days, c->history.max_attacks);
	if ((m->hist == NULL) != (c->history.path == NULL || (m->replay && !c->history.given)) ||
	    (m->hist && strcmp(m->conf->history.path, c->history.path) != 0))
		log_warn("reload: history.path changed; it takes effect when moatd restarts");
	api_set_conf(m->api, c);
	if (!m->replay && m->conf->api.enabled != c->api.enabled)
		log_warn("reload: the api section %s; that takes effect when moatd restarts",
			 c->api.enabled ? "was added" : "was removed");
	else if (m->api && (strcmp(m->conf->api.listen, c->api.listen) != 0 ||
			    (m->conf->api.tls_cert == NULL) != (c->api.tls_cert == NULL)))
		log_warn(
		    "reload: api.listen or TLS changed; that takes effect when moatd restarts");
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

	shard_stats_sum(m->shards, m->n_shards, &t);
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
		return CTL_EUNAVAIL;
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
		if (rule_parse(argc - 2, argv + 2, &r, err, errlen) < 0)
			return CTL_EBAD;
		int rc = mit_rule_add(m->mit, &r, now, &id, err, errlen);
		if (rc < 0)
			return rc; /* CTL_ECONFLICT: the same rule is in place */
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
		if (errno || *end || !*argv[2] || argv[2][0] == '-') {
			snprintf(err, errlen, "rule del: '%s' is not a rule id", argv[2]);
			return CTL_EBAD;
		}
		if (id >= SCRUB_MAX_RULES) {
			snprintf(err, errlen, "no rule %s", argv[2]);
			return CTL_ENOTFOUND;
		}
		int rc = mit_rule_del(m->mit, (uint32_t)id, now, err, errlen);
		if (rc < 0)
			return rc; /* CTL_ENOTFOUND */
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
	json_key(out, "history");
	if (m->hist) {
		const struct hist_stats *hs = hist_stats(m->hist);
		json_obj(out);
		json_key(out, "path");
		json_str(out, m->conf->history.path);
		json_key(out, "attacks_written");
		json_u64(out, hs->attacks_written);
		json_key(out, "events_written");
		json_u64(out, hs->events_written);
		json_key(out, "write_errors");
		json_u64(out, hs->write_errors);
		json_key(out, "pruned");
		json_u64(out, hs->pruned);
		json_end(out);
	} else {
		json_null(out);
	}
	json_key(out, "api");
	if (m->api) {
		const struct api_stats *as = api_stats(m->api);
		json_obj(out);
		json_key(out, "listen");
		json_str(out, m->conf->api.listen);
		json_key(out, "tls");
		json_bool(out, m->conf->api.tls_cert != NULL);
		json_key(out, "requests");
		json_u64(out, as->requests);
		json_end(out);
	} else {
		json_null(out);
	}
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

/* ---- the operator surface's commands (moatctl and the HTTP API alike) ---- */

static const char *hg_name(const struct daemon *m, int hg)
{
	return hg >= 0 && (size_t)hg < m->conf->n_hostgroups ? m->conf->hostgroups[hg].name : NULL;
}

static void put_rate(struct json *j, const char *k, double v)
{
	json_key(j, k);
	json_u64(j, v > 0 ? (uint64_t)llround(v) : 0);
}

/* top [pps|bps|flows] [incoming|outgoing] [N] */
static int cmd_top(struct daemon *m, int argc, char **argv, struct json *out, char *err,
		   size_t errlen)
{
	static const char *const by_names[] = {"pps", "bps", "flows"};
	enum det_metric by = DET_PPS;
	enum dir dir = DIR_IN;
	unsigned long n = 10;
	struct det_rate r[DET_TOP_MAX];
	char a[MADDR_STRLEN];
	int i = 1;

	if (i < argc && !strcmp(argv[i], "pps"))
		by = DET_PPS, i++;
	else if (i < argc && !strcmp(argv[i], "bps"))
		by = DET_BPS, i++;
	else if (i < argc && !strcmp(argv[i], "flows"))
		by = DET_FLOWS, i++;
	if (i < argc && !strcmp(argv[i], "incoming"))
		dir = DIR_IN, i++;
	else if (i < argc && !strcmp(argv[i], "outgoing"))
		dir = DIR_OUT, i++;
	if (i < argc) {
		char *end;
		errno = 0;
		n = strtoul(argv[i], &end, 10);
		if (errno || *end || !*argv[i] || argv[i][0] == '-' || n < 1 || n > DET_TOP_MAX) {
			snprintf(err, errlen,
				 "top: '%s' is not pps, bps, flows, incoming, outgoing or a count "
				 "from 1 to %d",
				 argv[i], DET_TOP_MAX);
			return CTL_EBAD;
		}
		i++;
	}
	if (i < argc) {
		snprintf(err, errlen, "usage: top [pps|bps|flows] [incoming|outgoing] [N]");
		return CTL_EBAD;
	}
	unsigned k = det_top(m->det, by, dir, r, (unsigned)n);
	json_key(out, "by");
	json_str(out, by_names[by]);
	json_key(out, "direction");
	json_str(out, conf_dir_name(dir));
	json_key(out, "ts"); /* the second the rates are of (its start) */
	json_u64(out, det_last_second(m->det));
	json_key(out, "hosts");
	json_arr(out);
	for (unsigned x = 0; x < k; x++) {
		json_obj(out);
		json_key(out, "host");
		json_str(out, maddr_str(&r[x].addr, a));
		json_key(out, "hostgroup");
		json_str(out, hg_name(m, r[x].hg));
		put_rate(out, "pps", r[x].pps);
		put_rate(out, "bps", r[x].bps);
		put_rate(out, "flows", r[x].flows);
		put_rate(out, "tcp_pps", r[x].tcp_pps);
		put_rate(out, "udp_pps", r[x].udp_pps);
		put_rate(out, "icmp_pps", r[x].icmp_pps);
		json_key(out, "attack");
		json_str(out, r[x].attack);
		json_end(out);
	}
	json_aend(out);
	return 0;
}

static int cmd_host(struct daemon *m, int argc, char **argv, struct json *out, char *err,
		    size_t errlen)
{
	struct maddr ad;
	struct det_host_info h;
	char a[MADDR_STRLEN];

	if (argc != 2) {
		snprintf(err, errlen, "usage: host ADDRESS");
		return CTL_EBAD;
	}
	if (maddr_parse(argv[1], &ad) < 0) {
		snprintf(err, errlen, "host: '%s' is not an IPv4 or IPv6 address", argv[1]);
		return CTL_EBAD;
	}
	if (det_host(m->det, &ad, &h) < 0) {
		snprintf(err, errlen, "host %s is not tracked (no traffic to or from it lately)",
			 argv[1]);
		return CTL_ENOTFOUND;
	}
	json_key(out, "host");
	json_obj(out);
	json_key(out, "host");
	json_str(out, maddr_str(&h.addr, a));
	json_key(out, "hostgroup");
	json_str(out, hg_name(m, h.hg));
	json_key(out, "protected");
	json_bool(out, h.protected_);
	json_key(out, "whitelisted");
	json_bool(out, h.whitelisted);
	json_key(out, "idle");
	json_dbl(out, h.idle, 1);
	for (int d = 0; d < DIR__COUNT; d++) {
		const struct det_rate *r = &h.rate[d];
		json_key(out, conf_dir_name((enum dir)d));
		json_obj(out);
		json_key(out, "hot");
		json_bool(out, h.hot[d]);
		put_rate(out, "pps", r->pps);
		put_rate(out, "bps", r->bps);
		put_rate(out, "flows", r->flows);
		put_rate(out, "tcp_pps", r->tcp_pps);
		put_rate(out, "udp_pps", r->udp_pps);
		put_rate(out, "icmp_pps", r->icmp_pps);
		json_key(out, "packets");
		json_u64(out, h.pkts[d]);
		json_key(out, "bytes");
		json_u64(out, h.bytes[d]);
		json_key(out, "attack");
		json_str(out, r->attack);
		json_end(out);
	}
	json_end(out);
	return 0;
}

/* The rules and routes of the running mitigation, parsed back from their own replies (one
 * source of truth for what a rule or route looks like). *rules / *routes stay NULL when that
 * part is not configured. The documents are freed by the caller. */
static void mitigation_docs(struct daemon *m, struct jdoc **rules, struct jdoc **routes)
{
	char err[128];
	uint64_t now = realtime_ns();

	*rules = *routes = NULL;
	if (m->mit) {
		json_reset(&m->tmp);
		mit_rules_json(m->mit, &m->tmp, now);
		*rules = jparse(m->tmp.buf, m->tmp.len, err, sizeof(err));
	}
	if (m->bgpp) {
		char *argv[] = {"bgp", "list", NULL};
		json_reset(&m->tmp);
		json_obj(&m->tmp);
		if (bgpp_command(m->bgpp, 2, argv, now, &m->tmp, err, sizeof(err)) == 0) {
			json_end(&m->tmp);
			*routes = jparse(m->tmp.buf, m->tmp.len, err, sizeof(err));
		}
	}
}

/* The rules and routes acting on attack id, as short objects. */
static void put_acting(struct json *out, const char *id, const struct jval *rules,
		       const struct jval *routes)
{
	json_arr(out);
	for (size_t i = 0; i < jv_len(rules); i++) {
		const struct jval *r = jv_at(rules, i);
		const char *at = jv_str(jv_get(r, "attack"));
		if (!at || strcmp(at, id) != 0)
			continue;
		json_obj(out);
		json_key(out, "kind");
		json_str(out, "scrubber");
		json_key(out, "id");
		jv_write(jv_get(r, "id"), out);
		json_key(out, "rule");
		jv_write(jv_get(r, "text"), out);
		json_key(out, "dropped_packets");
		jv_write(jv_get(r, "dropped_packets"), out);
		json_key(out, "drop_pps");
		jv_write(jv_get(r, "drop_pps"), out);
		json_end(out);
	}
	for (size_t i = 0; i < jv_len(routes); i++) {
		const struct jval *r = jv_at(routes, i);
		const char *at = jv_str(jv_get(r, "attack"));
		if (!at || strcmp(at, id) != 0)
			continue;
		json_obj(out);
		json_key(out, "kind");
		json_str(out, "bgp");
		json_key(out, "id");
		jv_write(jv_get(r, "id"), out);
		json_key(out, "action");
		jv_write(jv_get(r, "action"), out);
		json_key(out, "route");
		jv_write(jv_get(r, "route"), out);
		json_end(out);
	}
	json_aend(out);
}

/* attacks listed at most: under a carpet of thousands of host attacks a reply stays a few
 * hundred KB and a few ms of the main thread; "active" says how many there are */
#define ATTACKS_LISTED 500

struct acting {
	const struct jval *rules, *routes;
};

/* each listed attack's "mitigations", after the members the detector writes */
static void attack_acting(void *arg, const struct attack *a, struct json *out)
{
	const struct acting *x = arg;

	json_key(out, "mitigations");
	put_acting(out, a->id, x->rules, x->routes);
}

static int cmd_attacks(struct daemon *m, struct json *out)
{
	struct jdoc *rules, *routes;

	mitigation_docs(m, &rules, &routes);
	struct acting x = {jdoc_root(rules), jv_get(jdoc_root(routes), "routes")};
	json_key(out, "attacks");
	size_t total = det_attacks_json(m->det, out, ATTACKS_LISTED, attack_acting, &x);
	json_key(out, "active");
	json_u64(out, total);
	jdoc_free(rules);
	jdoc_free(routes);
	return 0;
}

static int cmd_mitigations(struct daemon *m, struct json *out)
{
	struct jdoc *rules, *routes;

	mitigation_docs(m, &rules, &routes);
	json_key(out, "rules");
	jv_write(rules ? jdoc_root(rules) : NULL, out);
	json_key(out, "routes");
	jv_write(routes ? jv_get(jdoc_root(routes), "routes") : NULL, out);
	jdoc_free(rules);
	jdoc_free(routes);
	return 0;
}

static int no_history(struct daemon *m, char *err, size_t errlen)
{
	snprintf(err, errlen, "no attack history (history.path is none%s)",
		 m->replay ? ", or this is a replay without a history section" : "");
	return CTL_EUNAVAIL;
}

/* history [limit N] [before UNIX] [target ADDRESS] */
static int cmd_history(struct daemon *m, int argc, char **argv, struct json *out, char *err,
		       size_t errlen)
{
	unsigned long limit = 50;
	double before = 0;
	const char *target = NULL;

	if (!m->hist)
		return no_history(m, err, errlen);
	for (int i = 1; i < argc; i += 2) {
		char *end;
		if (i + 1 >= argc) {
			snprintf(err, errlen,
				 "usage: history [limit N] [before UNIX-TIME] [target ADDRESS]");
			return CTL_EBAD;
		}
		const char *v = argv[i + 1];
		errno = 0;
		if (!strcmp(argv[i], "limit")) {
			limit = strtoul(v, &end, 10);
			if (errno || *end || !*v || v[0] == '-' || limit < 1 || limit > 1000) {
				snprintf(err, errlen, "history: limit '%s' is not 1..1000", v);
				return CTL_EBAD;
			}
		} else if (!strcmp(argv[i], "before")) {
			before = strtod(v, &end);
			if (errno || *end || !*v || !isfinite(before) || before < 0) {
				snprintf(err, errlen, "history: before '%s' is not unix seconds",
					 v);
				return CTL_EBAD;
			}
		} else if (!strcmp(argv[i], "target")) {
			struct maddr ad;
			if (maddr_parse(v, &ad) < 0) {
				snprintf(err, errlen,
					 "history: target '%s' is not an IPv4 or IPv6 address", v);
				return CTL_EBAD;
			}
			target = v;
		} else {
			snprintf(err, errlen,
				 "history: unknown '%s' (usage: history [limit N] [before "
				 "UNIX-TIME] [target ADDRESS])",
				 argv[i]);
			return CTL_EBAD;
		}
	}
	if (hist_list_json(m->hist, (unsigned)limit, before, target, out, err, errlen) < 0)
		return CTL_EFAIL;
	return 0;
}

/* attack ID: from the history, which holds active attacks too */
static int cmd_attack(struct daemon *m, int argc, char **argv, struct json *out, char *err,
		      size_t errlen)
{
	if (argc != 2) {
		snprintf(err, errlen, "usage: attack ID");
		return CTL_EBAD;
	}
	if (!m->hist)
		return no_history(m, err, errlen);
	int rc = hist_attack_json(m->hist, argv[1], out, err, errlen);
	if (rc < 0)
		return CTL_EFAIL;
	if (rc > 0) {
		snprintf(err, errlen, "no attack '%s' in the history", argv[1]);
		return CTL_ENOTFOUND;
	}
	return 0;
}

/* The pcap of the scrubber's samples for an attack: the evidence path of its newest rule. */
static int evidence_path(void *arg, const char *id, char *buf, size_t len)
{
	struct daemon *m = arg;
	struct jdoc *rules, *routes;
	int rc = -1;

	mitigation_docs(m, &rules, &routes);
	const struct jval *rl = jdoc_root(rules);
	for (size_t i = 0; i < jv_len(rl); i++) {
		const struct jval *r = jv_at(rl, i);
		const char *at = jv_str(jv_get(r, "attack")), *p = jv_str(jv_get(r, "evidence"));
		if (at && p && !strcmp(at, id)) {
			snprintf(buf, len, "%s", p);
			rc = 0;
		}
	}
	jdoc_free(rules);
	jdoc_free(routes);
	if (rc == 0 || !m->hist)
		return rc;
	/* a rule that has ended: the history has its path */
	json_reset(&m->tmp);
	json_obj(&m->tmp);
	char err[128];
	if (hist_attack_json(m->hist, id, &m->tmp, err, sizeof(err)) != 0)
		return -1;
	json_end(&m->tmp);
	struct jdoc *d = jparse(m->tmp.buf, m->tmp.len, err, sizeof(err));
	const struct jval *mits = jv_get(jv_get(jdoc_root(d), "attack"), "mitigations");
	for (size_t i = 0; i < jv_len(mits); i++) {
		const char *p = jv_str(jv_get(jv_at(mits, i), "evidence"));
		if (p) {
			snprintf(buf, len, "%s", p);
			rc = 0;
		}
	}
	jdoc_free(d);
	return rc;
}

static int cmd_exporters(struct daemon *m, struct json *out)
{
	json_key(out, "collectors");
	json_arr(out);
	for (int i = 0; i < m->n_col; i++)
		collector_json(m->col[i], out);
	json_aend(out);
	return 0;
}

static int cmd_traffic(struct daemon *m, int argc, char **argv, struct json *out, char *err,
		       size_t errlen)
{
	unsigned long secs = 300;

	if (argc > 2) {
		snprintf(err, errlen, "usage: traffic [SECONDS]");
		return CTL_EBAD;
	}
	if (argc == 2) {
		char *end;
		errno = 0;
		secs = strtoul(argv[1], &end, 10);
		if (errno || *end || !*argv[1] || argv[1][0] == '-' || secs < 1 ||
		    secs > DET_HIST_SECS) {
			snprintf(err, errlen, "traffic: '%s' is not a number of seconds 1..%d",
				 argv[1], DET_HIST_SECS);
			return CTL_EBAD;
		}
	}
	det_traffic_json(m->det, (unsigned)secs, out);
	return 0;
}

/* config check: loads the file moatd runs from and says whether it would be taken */
static int cmd_config_check(struct daemon *m, char *err, size_t errlen, struct json *out)
{
	struct conf *c;

	if (conf_load(m->conf_path, &c, err, errlen) < 0)
		return CTL_EBAD;
	conf_free(c);
	json_key(out, "config");
	json_str(out, m->conf_path);
	return 0;
}

static void write_metrics(void *arg, FILE *f)
{
	struct daemon *m = arg;
	struct metrics_src s = {
	    .conf = m->conf,
	    .det = m->det,
	    .shards = m->shards,
	    .n_shards = m->n_shards,
	    .col = m->col,
	    .n_col = m->n_col,
	    .mit = m->mit,
	    .bgp = m->bgp,
	    .bgpp = m->bgpp,
	    .hist = m->hist,
	    .api = m->api,
	    .started_ns = m->started_ns,
	    .version = MOAT_VERSION,
	};
	metrics_write(f, &s);
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
			return CTL_EUNAVAIL;
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
	if (!strcmp(argv[0], "health") && argc == 1) {
		json_key(out, "version");
		json_str(out, MOAT_VERSION);
		json_key(out, "uptime");
		json_dbl(out, (realtime_ns() - m->started_ns) / 1e9, 1);
		return 0;
	}
	if (!strcmp(argv[0], "top"))
		return cmd_top(m, argc, argv, out, err, errlen);
	if (!strcmp(argv[0], "host"))
		return cmd_host(m, argc, argv, out, err, errlen);
	if (!strcmp(argv[0], "attacks") && argc == 1)
		return cmd_attacks(m, out);
	if (!strcmp(argv[0], "attack"))
		return cmd_attack(m, argc, argv, out, err, errlen);
	if (!strcmp(argv[0], "history"))
		return cmd_history(m, argc, argv, out, err, errlen);
	if (!strcmp(argv[0], "mitigations") && argc == 1)
		return cmd_mitigations(m, out);
	if (!strcmp(argv[0], "exporters") && argc == 1)
		return cmd_exporters(m, out);
	if (!strcmp(argv[0], "traffic"))
		return cmd_traffic(m, argc, argv, out, err, errlen);
	if (!strcmp(argv[0], "config") && argc == 2 && !strcmp(argv[1], "check"))
		return cmd_config_check(m, err, errlen, out);
	snprintf(err, errlen,
		 "unknown command '%s' (known: status, health, top, host, attacks, attack, "
		 "history, mitigations, exporters, traffic, config check, reload, rule "
		 "add|del|list, bgp peers|list|announce|withdraw)",
		 argv[0]);
	return CTL_EBAD;
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
	if (m->api) {
		struct pollfd p = {.fd = api_fd(m->api), .events = POLLIN};
		if (poll(&p, 1, (int)((next - now + 999999) / 1000000)) > 0)
			api_run(m->api);
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
	if (m->conf->api.enabled) {
		struct api_hooks h = {
		    .cmd = on_command,
		    .arg = m,
		    .metrics = write_metrics,
		    .evidence = evidence_path,
		    .assets = moat_web_assets,
		    .n_assets = moat_web_n_assets,
		};
		m->api = api_open(m->conf, &h, err, errlen);
		if (!m->api)
			return -1;
		if (m->ctl && ctl_watch(m->ctl, api_fd(m->api), api_run, m->api) < 0) {
			snprintf(err, errlen, "api: cannot watch its descriptor");
			return -1;
		}
		log_info("api: %s://%s/ (dashboard), /api/v1/, /metrics%s",
			 m->conf->api.tls_cert ? "https" : "http", m->conf->api.listen,
			 m->conf->api.token ? "; changes need the token"
					    : "; no token: changes over HTTP are refused");
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
		api_run(m->api); /* its timeouts */
		if (m->hist && now >= m->next_prune_ns) {
			hist_prune(m->hist, now);
			m->next_prune_ns = now + 3600ULL * 1000000000ULL;
		}
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
	json_init(&m.tmp);
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
	api_close(m.api);
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
	hist_close(m.hist); /* after everything that emits events */
	evlog_close(m.evlog);
	json_free(&m.tmp);
	free(m.gprev);
	for (int i = 0; i < m.n_old; i++)
		conf_free(m.old_confs[i]);
	conf_free(m.conf);
	return rc < 0 ? 1 : 0;
}
