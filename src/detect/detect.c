/* detect: merge, windows, thresholds, lifecycle.
 *
 * Two tiers keep memory per host small without giving up exact windows where they matter:
 * - every tracked host has cumulative counters (struct host, ~224 bytes);
 * - a (host, direction) whose traffic in one tick reaches a quarter of any of its thresholds is
 *   promoted to "hot": it gets a ring of the last 10 tick deltas (an exact 1 s sliding window,
 *   recomputed every 100 ms) and heavy-hitter sketches for its vector. A host cannot exceed a
 *   threshold without first being promoted, so nothing is missed; the window starts at the
 *   promotion tick, so traffic before it (under a quarter of the threshold) is not counted, which
 *   can only delay a detection, never cause one.
 * Hostgroups with total_thresholds always have a window per direction.
 *
 * Reported rates: when an attack starts soon after promotion, the 1 s window is still filling and
 * its average would under-report the flood (FastNetMon's exponential average shows a third of the
 * true rate when it fires). We report the rate over the complete ticks since promotion instead,
 * which for a flood is its true rate.
 *
 * Live numbers for the operator surface cost nothing per tracked host: while merging, each
 * (host, direction) touched in the current second gets an entry in a rate table keyed by host
 * index (memory follows the hosts active in a second); when the second completes it becomes the
 * last complete second, its top lists are selected once (a min-heap of DET_TOP_MAX per direction
 * and metric), and its per-network packets and bytes go into a ring of DET_HIST_SECS seconds.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/json.h"
#include "core/log.h"
#include "detect/detect.h"

enum {
	PROMOTE_DIV = 4,    /* promote at 1/4 of a threshold in one tick */
	DEMOTE_DIV = 8,	    /* demote below 1/8 of every threshold... */
	DEMOTE_TICKS = 50,  /* ...for 5 s, when not under attack */
	DECAY_TICKS = 50,   /* vector sketches halve every 5 s */
	FEED_BUDGET = 2048, /* samples per shard per tick we aim for: 20k/s, shares to ~1% */
	VEC_MAX = 4096,	    /* vectors (sketch sets) at once: ~5 KiB each */
	ACK_WAIT_US = 20000,
	VIEWS = 32,
};

struct window {
	uint64_t ring[WIN_TICKS][C__COUNT];
	uint64_t sum[C__COUNT];
	uint32_t pos;
	uint32_t n_ticks; /* ticks since the window started, saturating */
	uint32_t quiet;
};

/* 216 bytes: every byte here is paid per tracked host. Whether a direction is hot is two bits of
 * netv (whose LPM value uses 18); which hot entry it is lives in the small hotmap. */
struct host {
	struct maddr addr;
	uint32_t netv; /* LPM value | HOST_HOT(dir) bits; NONE = free entry */
	uint32_t last_tick;
	uint64_t c[DIR__COUNT][C__STORED];
};

#define HOST_HOT(dir) (1u << (30 + (dir)))
#define NETV_LPM_BITS (NETV_GROUP_MASK | NETV_PROTECTED | NETV_WHITELIST)

struct hot {
	struct window w;
	uint32_t host; /* index into hosts */
	uint8_t dir;
	bool used;
	struct attack *att;
	struct vec *vec;
	uint32_t next_free;
};

struct group {
	struct window w[DIR__COUNT];
	struct attack *att[DIR__COUNT];
	struct vec *vec[DIR__COUNT];
	bool active; /* has total thresholds */
};

/* Per-second rates: the current second's counters of each (host, direction) it touched, as a dense
 * array of entries in arrival order with an open-addressed index keyed by host index and direction
 * (linear probing, at most 3/4 full). Memory follows the (host, direction) pairs active in a
 * second: it grows on demand up to every pair the host table can hold, shrinks back when a second
 * used less than a sixteenth of it, and is otherwise reused from second to second. 32 bytes an
 * entry plus 8 to 16 bytes of index. Packet counts of one host in one second saturate at 2^32-1. */
struct rate_ent {
	uint32_t key; /* host index << 1 | dir, and its network series << RK_SERIES_SHIFT */
	uint32_t pkts;
	uint64_t bytes;
	uint32_t flows, tcp, udp, icmp;
};

struct ratetab {
	struct rslot {
		uint32_t hd;  /* (host index << 1 | dir) + 1; 0 = empty */
		uint32_t ent; /* index into e */
	} * idx;
	struct rate_ent *e;
	uint32_t n, cap; /* entries in use, entries allocated (3/4 of the index slots) */
	uint32_t mask;	 /* index slots - 1 */
	unsigned shift;	 /* 64 - log2(slots), for Fibonacci hashing */
};

enum {
	RT_MIN_SLOTS = 1024,  /* smallest index: 768 (host, dir) in a second before it grows */
	RK_SERIES_SHIFT = 25, /* host indexes are < 2^24 (CONF_MAX_HOSTS) */
	RK_HD_MASK = (1u << RK_SERIES_SHIFT) - 1,
};

#define NS_SEC 1000000000ULL

struct retired {
	struct lpm *lpm;
	struct hotset *hot;
	uint32_t epoch; /* free once every shard acked this epoch */
};

struct detector {
	const struct conf *conf;
	struct sipkey key;
	uint64_t tick; /* ticks run */
	uint64_t now_ns;

	/* host table: entries plus an open-addressed index of entry + 1 */
	struct host *hosts;
	uint32_t n_hosts_cap, hosts_hw, free_host;
	uint32_t *idx;
	uint32_t idx_mask;
	uint32_t sweep;

	struct hot *hot;
	uint32_t hot_cap, hot_hw, free_hot;
	/* (host index, dir) -> hot index + 1, open addressing, at most half full */
	struct hotmap_slot {
		uint32_t key; /* host index << 1 | dir, + 1; 0 = empty */
		uint32_t hot;
	} * hotmap;
	uint32_t hotmap_mask;
	uint32_t n_vec;

	struct group *groups; /* [n_hostgroups] */
	size_t n_groups;

	struct lpm *lpm;
	struct hotset *hotset;
	bool hot_dirty;
	struct retired retired[16];
	int n_retired;

	struct netview views[VIEWS];
	unsigned view_next;
	struct netview *cur_view;

	struct shard *shards[MAX_SHARDS];
	bool pending[MAX_SHARDS];
	uint32_t feed_seen[MAX_SHARDS];
	int n_shards;

	struct {
		event_fn fn;
		void *arg;
	} subs[8];
	int n_subs;
	void (*tick_fn)(void *arg, uint64_t now_ns);
	void *tick_arg;

	uint32_t seq;
	struct json j;
	struct det_stats st;

	/* per-second rates: rt[rt_cur] fills during the second rs_sec, the other holds the last
	 * complete second, whose top lists are computed once when it completes */
	struct ratetab rt[2];
	int rt_cur;
	uint32_t rt_max_slots;
	uint64_t rt_refused; /* (host, dir, tick) merges left out of the rates: out of memory */
	bool rs_open, rs_complete;
	uint64_t rs_sec;
	struct det_rate top[DIR__COUNT][DET__METRICS][DET_TOP_MAX];
	unsigned n_top[DIR__COUNT][DET__METRICS];

	/* traffic per second for the charts: series 0 is everything, 1.. the networks */
	struct lpm *netlpm; /* network index + 1, for the first DET_MAX_SERIES - 1 networks */
	unsigned n_series;
	uint64_t cur_ser[DET_MAX_SERIES][DIR__COUNT][2]; /* the second filling: packets, bytes */
	uint64_t (*hist)[DET_HIST_SECS][DIR__COUNT][2];	 /* [series]: a ring of complete seconds */
	uint64_t hist_ts[DET_HIST_SECS];
	uint32_t hist_pos, hist_n; /* next slot to write, seconds held */
	uint64_t net_since;	   /* network series hold seconds from this one on (reload) */

	/* cumulative totals */
	struct det_totals tot;
	struct gtot {
		uint64_t pkts[DIR__COUNT], bytes[DIR__COUNT];
	} * gtot; /* [n_groups + 1]: no hostgroup, then each hostgroup */
};

static const uint32_t NONE = 0xffffffffu;

double thr_metric(enum thr t, const uint64_t s[C__COUNT], double secs)
{
	switch (t) {
	case THR_PPS:
		return (double)s[C_PKTS] / secs;
	case THR_MBPS:
		return (double)s[C_BYTES] * 8 / 1e6 / secs;
	case THR_FLOWS:
		return (double)s[C_FLOWS] / secs;
	case THR_TCP_PPS:
		return (double)s[C_TCP_P] / secs;
	case THR_UDP_PPS:
		return (double)s[C_UDP_P] / secs;
	case THR_ICMP_PPS:
		return (double)s[C_ICMP_P] / secs;
	case THR_SYN_PPS:
		return (double)s[C_SYN_P] / secs;
	case THR_FRAG_PPS:
		return (double)s[C_FRAG_P] / secs;
	case THR_TCP_MBPS:
		return (double)s[C_TCP_B] * 8 / 1e6 / secs;
	case THR_UDP_MBPS:
		return (double)s[C_UDP_B] * 8 / 1e6 / secs;
	case THR_ICMP_MBPS:
		return (double)s[C_ICMP_B] * 8 / 1e6 / secs;
	default:
		return 0;
	}
}

size_t det_host_bytes(void)
{
	/* one entry plus two index slots (the index is kept at most half full) */
	return sizeof(struct host) + 2 * sizeof(uint32_t);
}

/* ---- windows ---- */

static void win_advance(struct window *w)
{
	w->pos = (w->pos + 1) % WIN_TICKS;
	for (int c = 0; c < C__COUNT; c++) {
		w->sum[c] -= w->ring[w->pos][c];
		w->ring[w->pos][c] = 0;
	}
	if (w->n_ticks < UINT32_MAX)
		w->n_ticks++;
}

static void win_add(struct window *w, const uint64_t *delta)
{
	for (int c = 0; c < C__COUNT; c++) {
		w->ring[w->pos][c] += delta[c];
		w->sum[c] += delta[c];
	}
}

/* Sums the last k ticks (k <= WIN_TICKS) into out. */
static void win_last(const struct window *w, uint32_t k, uint64_t out[C__COUNT])
{
	memset(out, 0, sizeof(uint64_t) * C__COUNT);
	for (uint32_t i = 0; i < k; i++) {
		uint32_t p = (w->pos + WIN_TICKS - i) % WIN_TICKS;
		for (int c = 0; c < C__COUNT; c++)
			out[c] += w->ring[p][c];
	}
}

/* The counters and duration to report a rate from: the complete ticks since the window started
 * while it is younger than 1 s, else the whole window; with `recent`, the last 300 ms when they
 * show more (a flood that began while the window was already full). */
static double win_report(const struct window *w, bool recent, uint64_t out[C__COUNT])
{
	if (w->n_ticks >= 2 && w->n_ticks <= WIN_TICKS) {
		win_last(w, w->n_ticks - 1, out);
		return (w->n_ticks - 1) * (TICK_NS / 1e9);
	}
	memcpy(out, w->sum, sizeof(w->sum));
	if (recent && w->n_ticks > WIN_TICKS) {
		uint64_t r[C__COUNT];
		win_last(w, 3, r);
		if (r[C_PKTS] / 0.3 > out[C_PKTS] / 1.0) {
			memcpy(out, r, sizeof(r));
			return 0.3;
		}
	}
	return WIN_TICKS * (TICK_NS / 1e9);
}

/* ---- host table ---- */

/* Backward-shift deletion in a linear-probing table: after slot i is emptied, the entry at j
 * (whose home slot is k) moves back into i unless its home lies cyclically in (i, j]; moving it
 * would then put it before its home, where lookups never look. */
static bool probe_moves(uint32_t i, uint32_t j, uint32_t k)
{
	return (j > i) ? (k <= i || k > j) : (k <= i && k > j);
}

static uint32_t host_home(const struct detector *d, const struct maddr *a)
{
	return (uint32_t)siphash13(&d->key, a->b, 16) & d->idx_mask;
}

/* Returns the index of host a, or NONE with *slot the free index slot where it would go. i is
 * its home slot (host_home). */
static uint32_t host_lookup_at(const struct detector *d, const struct maddr *a, uint32_t i,
			       uint32_t *slot)
{
	for (;;) {
		uint32_t h = d->idx[i];
		if (!h)
			break;
		if (maddr_eq(&d->hosts[h - 1].addr, a))
			return h - 1;
		i = (i + 1) & d->idx_mask;
	}
	if (slot)
		*slot = i;
	return NONE;
}

static uint32_t host_lookup(const struct detector *d, const struct maddr *a, uint32_t *slot)
{
	return host_lookup_at(d, a, host_home(d, a), slot);
}

/* Finds host a (home: its home slot), creating it if asked and there is room. */
static struct host *host_find(struct detector *d, const struct maddr *a, uint32_t home, bool create)
{
	uint32_t i, n = host_lookup_at(d, a, home, &i);

	if (n != NONE)
		return &d->hosts[n];
	if (!create)
		return NULL;
	if (d->free_host != NONE) {
		n = d->free_host;
		memcpy(&d->free_host, &d->hosts[n].last_tick, sizeof(uint32_t));
	} else if (d->hosts_hw < d->n_hosts_cap) {
		n = d->hosts_hw++;
	} else {
		d->st.hosts_full++;
		return NULL;
	}
	struct host *h = &d->hosts[n];
	memset(h, 0, sizeof(*h));
	h->addr = *a;
	d->idx[i] = n + 1;
	d->st.hosts++;
	return h;
}

/* Removes host n from the index (backward-shift deletion keeps probe chains unbroken) and puts
 * it on the free list. */
static void host_remove(struct detector *d, uint32_t n)
{
	uint32_t i = host_home(d, &d->hosts[n].addr);

	while (d->idx[i] != n + 1)
		i = (i + 1) & d->idx_mask;
	d->idx[i] = 0;
	for (uint32_t j = (i + 1) & d->idx_mask; d->idx[j]; j = (j + 1) & d->idx_mask) {
		uint32_t k = host_home(d, &d->hosts[d->idx[j] - 1].addr);
		bool move = probe_moves(i, j, k);
		if (move) {
			d->idx[i] = d->idx[j];
			d->idx[j] = 0;
			i = j;
		}
	}
	memset(&d->hosts[n], 0, sizeof(d->hosts[n]));
	memcpy(&d->hosts[n].last_tick, &d->free_host, sizeof(uint32_t));
	d->hosts[n].netv = NONE; /* marks a free entry for the sweep */
	d->free_host = n;
	d->st.hosts--;
}

static void hosts_sweep(struct detector *d)
{
	uint32_t idle = (uint32_t)(d->conf->limits.host_idle * 1e9 / TICK_NS);
	/* the per-second rates refer to hosts by index: a host seen in this second or the last one
	 * stays, so its index is not reused under them */
	if (idle < 2 * WIN_TICKS)
		idle = 2 * WIN_TICKS;
	uint32_t slice = d->n_hosts_cap / 600 + 64;

	for (uint32_t k = 0; k < slice && d->hosts_hw; k++) {
		uint32_t n = d->sweep++ % d->hosts_hw;
		struct host *h = &d->hosts[n];
		if (h->netv == NONE || (h->netv & (HOST_HOT(0) | HOST_HOT(1))))
			continue;
		if ((uint32_t)d->tick - h->last_tick > idle) {
			host_remove(d, n);
			d->st.hosts_evicted++;
		}
	}
}

/* ---- thresholds ---- */

static int host_group(uint32_t netv)
{
	return (int)(netv & NETV_GROUP_MASK) - 1;
}

static const uint64_t *limits_for(const struct detector *d, int hg, uint8_t dir)
{
	if (hg >= 0 && (size_t)hg < d->conf->n_hostgroups)
		return d->conf->hostgroups[hg].thr.v[dir];
	return d->conf->thr.v[dir];
}

static bool over_fraction(const uint64_t *lim, const uint64_t *c, double secs, unsigned div)
{
	for (int t = 0; t < THR__COUNT; t++)
		if (lim[t] && thr_metric((enum thr)t, c, secs) * div >= (double)lim[t])
			return true;
	return false;
}

static uint32_t exceeded_set(const uint64_t *lim, const uint64_t *sum)
{
	uint32_t x = 0;

	for (int t = 0; t < THR__COUNT; t++)
		if (lim[t] && thr_metric((enum thr)t, sum, 1.0) > (double)lim[t])
			x |= 1u << t;
	return x;
}

/* ---- events ---- */

/* Prints an attack's target (its address, or its hostgroup's name) into target. Returns the name
 * of its hostgroup, NULL for none. */
static const char *attack_target(const struct detector *d, const struct attack *a,
				 char target[CONF_NAME_MAX + MADDR_STRLEN])
{
	const char *hg = a->hg >= 0 ? d->conf->hostgroups[a->hg].name : NULL;

	if (a->group)
		snprintf(target, CONF_NAME_MAX + MADDR_STRLEN, "%s", hg);
	else
		maddr_str(&a->target, target);
	return hg;
}

/* Writes the members of an attack's object: everything its event line holds after "event". The
 * one definition of that object, for the events and for det_attacks_json. */
static void attack_members(const struct detector *d, struct json *j, const struct attack *a,
			   enum ev_kind k)
{
	char target[CONF_NAME_MAX + MADDR_STRLEN];
	const char *hg = attack_target(d, a, target);

	json_key(j, "ts");
	json_dbl(j, d->now_ns / 1e9, 3);
	json_key(j, "id");
	json_str(j, a->id);
	json_key(j, "target");
	json_str(j, target);
	json_key(j, "scope");
	json_str(j, a->group ? "hostgroup" : "host");
	json_key(j, "hostgroup");
	json_str(j, hg);
	json_key(j, "direction");
	json_str(j, conf_dir_name((enum dir)a->dir));
	json_key(j, "type");
	json_str(j, atype_name(a->type));
	json_key(j, "pps");
	json_u64(j, (uint64_t)llround(a->pps));
	json_key(j, "bps");
	json_u64(j, (uint64_t)llround(a->bps));
	json_key(j, "peak_pps");
	json_u64(j, (uint64_t)llround(a->peak_pps));
	json_key(j, "peak_bps");
	json_u64(j, (uint64_t)llround(a->peak_bps));
	json_key(j, "thresholds_exceeded");
	json_arr(j);
	uint32_t x = k == EV_ATTACK_END ? a->ever_exceeded : a->exceeded;
	for (int t = 0; t < THR__COUNT; t++)
		if (x & (1u << t))
			json_str(j, conf_thr_name((enum thr)t));
	json_aend(j);
	json_key(j, "rates");
	json_obj(j);
	for (int t = 0; t < THR__COUNT; t++) {
		json_key(j, conf_thr_name((enum thr)t));
		json_dbl(j, a->rate[t], t == THR_MBPS || t >= THR_TCP_MBPS ? 3 : 0);
	}
	json_end(j);
	json_key(j, "thresholds");
	json_obj(j);
	for (int t = 0; t < THR__COUNT; t++) {
		if (!a->limit[t])
			continue;
		json_key(j, conf_thr_name((enum thr)t));
		json_u64(j, a->limit[t]);
	}
	json_end(j);
	json_key(j, "started");
	json_dbl(j, a->start_ns / 1e9, 3);
	json_key(j, "duration");
	json_dbl(j, (d->now_ns - a->start_ns) / 1e9, 1);
	json_key(j, "packets");
	json_u64(j, a->pkts);
	json_key(j, "bytes");
	json_u64(j, a->bytes);
	json_key(j, "vector");
	if (a->vec)
		vec_json(a->vec, j, d->conf->detection.top_n);
	else
		json_null(j);
}

static void emit(struct detector *d, enum ev_kind k, struct attack *a)
{
	static const char *const names[EV__COUNT] = {"attack_start", "attack_update", "attack_end"};
	struct json *j = &d->j;
	char target[CONF_NAME_MAX + MADDR_STRLEN];
	const char *hg = attack_target(d, a, target);

	json_reset(j);
	json_obj(j);
	json_key(j, "event");
	json_str(j, names[k]);
	attack_members(d, j, a, k);
	json_end(j);

	struct event ev = {
	    .kind = k,
	    .ts_ns = d->now_ns,
	    .a = a,
	    .target = target,
	    .hostgroup = hg,
	    .json = j->buf,
	    .json_len = j->len,
	};
	for (int i = 0; i < d->n_subs; i++)
		d->subs[i].fn(d->subs[i].arg, &ev);
}

/* ---- lifecycle ---- */

static void attack_rates(struct attack *a, const struct window *w, bool at_start)
{
	uint64_t c[C__COUNT];
	double secs = win_report(w, at_start, c);

	for (int t = 0; t < THR__COUNT; t++)
		a->rate[t] = thr_metric((enum thr)t, c, secs);
	a->pps = a->rate[THR_PPS];
	a->bps = a->rate[THR_MBPS] * 1e6;
	/* a peak measured over 200 ms is mostly the jitter of the input's timestamps (flow
	 * exporters give milliseconds at best): the peak takes the start rate and rates over at
	 * least half a second */
	if (!at_start && secs < 0.5)
		return;
	if (a->pps > a->peak_pps)
		a->peak_pps = a->pps;
	if (a->bps > a->peak_bps)
		a->peak_bps = a->bps;
}

static struct attack *attack_start(struct detector *d, const struct window *w, uint32_t exceeded,
				   const uint64_t *lim, struct vec *v)
{
	struct attack *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->start_ns = d->now_ns;
	a->last_over_ns = d->now_ns;
	a->next_update_ns = d->now_ns + (uint64_t)(d->conf->detection.update_interval * 1e9);
	a->exceeded = a->ever_exceeded = exceeded;
	a->limit = lim;
	a->vec = v;
	snprintf(a->id, sizeof(a->id), "%llu-%u", (unsigned long long)(d->now_ns / 1000000000ULL),
		 ++d->seq);
	attack_rates(a, w, true);
	a->type = classify(w->sum, v);
	/* the ticks before the start were part of the attack too */
	a->pkts = w->sum[C_PKTS];
	a->bytes = w->sum[C_BYTES];
	d->st.attacks_active++;
	d->st.attacks_total++;
	return a;
}

/* Runs one tick of an attack's lifecycle. Returns true when it ended (caller frees it). */
static bool attack_step(struct detector *d, struct attack *a, const struct window *w,
			uint32_t exceeded, const uint64_t *lim)
{
	a->limit = lim;
	a->exceeded = exceeded;
	a->ever_exceeded |= exceeded;
	a->pkts += w->ring[w->pos][C_PKTS];
	a->bytes += w->ring[w->pos][C_BYTES];
	if (exceeded) {
		a->last_over_ns = d->now_ns;
		attack_rates(a, w, false);
		a->type = classify(w->sum, a->vec);
	}
	if (!exceeded &&
	    d->now_ns - a->last_over_ns >= (uint64_t)(d->conf->detection.cooldown * 1e9)) {
		attack_rates(a, w, false);
		a->end_ns = d->now_ns;
		emit(d, EV_ATTACK_END, a);
		d->st.attacks_active--;
		return true;
	}
	if (d->now_ns >= a->next_update_ns) {
		if (!exceeded)
			attack_rates(a, w, false);
		emit(d, EV_ATTACK_UPDATE, a);
		a->next_update_ns += (uint64_t)(d->conf->detection.update_interval * 1e9);
	}
	return false;
}

/* ---- hotmap: which hot entry a hot (host, dir) has ---- */

static uint32_t hotmap_home(const struct detector *d, uint32_t key)
{
	/* keys are our own indices, not attacker-chosen: a multiplicative hash is enough */
	return (key * 2654435761u) & d->hotmap_mask;
}

static uint32_t hotmap_get(const struct detector *d, uint32_t host, uint8_t dir)
{
	uint32_t key = (host << 1 | dir) + 1;

	for (uint32_t i = hotmap_home(d, key);; i = (i + 1) & d->hotmap_mask) {
		if (d->hotmap[i].key == key)
			return d->hotmap[i].hot;
		if (!d->hotmap[i].key)
			return 0;
	}
}

static void hotmap_put(struct detector *d, uint32_t host, uint8_t dir, uint32_t hot)
{
	uint32_t key = (host << 1 | dir) + 1, i = hotmap_home(d, key);

	while (d->hotmap[i].key)
		i = (i + 1) & d->hotmap_mask;
	d->hotmap[i].key = key;
	d->hotmap[i].hot = hot;
}

static void hotmap_del(struct detector *d, uint32_t host, uint8_t dir)
{
	uint32_t key = (host << 1 | dir) + 1, i = hotmap_home(d, key);

	while (d->hotmap[i].key != key)
		i = (i + 1) & d->hotmap_mask;
	d->hotmap[i].key = 0;
	for (uint32_t j = (i + 1) & d->hotmap_mask; d->hotmap[j].key;
	     j = (j + 1) & d->hotmap_mask) {
		uint32_t k = hotmap_home(d, d->hotmap[j].key);
		bool move = probe_moves(i, j, k);
		if (move) {
			d->hotmap[i] = d->hotmap[j];
			d->hotmap[j].key = 0;
			i = j;
		}
	}
}

/* ---- hot pool ---- */

static struct vec *vec_get(struct detector *d)
{
	if (d->n_vec >= VEC_MAX) {
		d->st.vec_full++;
		return NULL;
	}
	struct vec *v = calloc(1, sizeof(*v));
	if (v) {
		d->n_vec++;
		d->hot_dirty = true;
	}
	return v;
}

static void vec_put(struct detector *d, struct vec *v)
{
	if (!v)
		return;
	free(v);
	d->n_vec--;
	d->hot_dirty = true;
}

static struct hot *hot_promote(struct detector *d, struct host *h, uint32_t hi, uint8_t dir)
{
	uint32_t n;

	if (d->free_hot != NONE) {
		n = d->free_hot;
		d->free_hot = d->hot[n].next_free;
	} else if (d->hot_hw < d->hot_cap) {
		n = d->hot_hw++;
	} else {
		if (d->st.hot_full++ % 10000 == 0)
			log_warn("hot pool full (limits.max_hot = %u): a host near its thresholds "
				 "is not watched",
				 d->hot_cap);
		return NULL;
	}
	struct hot *x = &d->hot[n];
	memset(x, 0, sizeof(*x));
	x->used = true;
	x->host = hi;
	x->dir = dir;
	x->vec = vec_get(d);
	h->netv |= HOST_HOT(dir);
	hotmap_put(d, hi, dir, n + 1);
	d->st.hot++;
	return x;
}

static void hot_demote(struct detector *d, uint32_t n)
{
	struct hot *x = &d->hot[n];

	d->hosts[x->host].netv &= ~HOST_HOT(x->dir);
	hotmap_del(d, x->host, x->dir);
	vec_put(d, x->vec);
	x->used = false;
	x->vec = NULL;
	x->next_free = d->free_hot;
	d->free_hot = n;
	d->st.hot--;
}

/* ---- per-second rates and traffic ---- */

static uint32_t rt_home(const struct ratetab *t, uint32_t hd)
{
	/* keys are our own indices, not attacker-chosen: Fibonacci hashing spreads them */
	return (uint32_t)(((uint64_t)hd * 0x9e3779b97f4a7c15ULL) >> t->shift);
}

static unsigned log2u(uint32_t v)
{
	unsigned b = 0;

	while ((1u << b) < v)
		b++;
	return b;
}

/* Points t at a fresh index of `slots` (a power of two) slots with room for 3/4 as many entries,
 * keeping the first t->n entries. Returns 0, or -1 (t unchanged) when out of memory. */
static int rt_resize(struct ratetab *t, uint32_t slots)
{
	struct rslot *idx = calloc(slots, sizeof(*idx));
	uint32_t cap = slots / 4 * 3;
	struct rate_ent *e = idx ? realloc(t->e, (size_t)cap * sizeof(*e)) : NULL;

	if (!e) {
		free(idx);
		return -1;
	}
	free(t->idx);
	t->idx = idx;
	t->e = e;
	t->cap = cap;
	t->mask = slots - 1;
	t->shift = 64 - log2u(slots);
	for (uint32_t k = 0; k < t->n; k++) {
		uint32_t hd = (t->e[k].key & RK_HD_MASK) + 1, i = rt_home(t, hd);
		while (t->idx[i].hd)
			i = (i + 1) & t->mask;
		t->idx[i] = (struct rslot){hd, k};
	}
	return 0;
}

/* Empties t for the next second: shrinks it when the second it held used less than a sixteenth of
 * its index (memory follows use), else clears the index in place. */
static void rt_clear(struct ratetab *t)
{
	uint32_t slots = t->mask + 1;

	if (slots > RT_MIN_SLOTS && (uint64_t)t->n * 16 < slots) {
		uint32_t want = RT_MIN_SLOTS;
		while (want / 4 * 3 < 2 * t->n)
			want <<= 1;
		uint32_t n = t->n;
		t->n = 0;
		if (rt_resize(t, want) == 0)
			return;
		t->n = n;
	}
	memset(t->idx, 0, (size_t)slots * sizeof(*t->idx));
	t->n = 0;
}

/* The chart series of an address: its network's index + 1 (longest prefix), 0 for none. */
static uint32_t series_of(const struct detector *d, const struct maddr *a)
{
	return lpm_lookup(d->netlpm, a);
}

/* The current second's entry of (host hi, dir), created when it has none; NULL when the table
 * cannot grow (out of memory). */
static struct rate_ent *rt_get(struct detector *d, uint32_t hi, uint8_t dir,
			       const struct maddr *addr)
{
	struct ratetab *t = &d->rt[d->rt_cur];
	uint32_t hd = (hi << 1 | dir) + 1, i = rt_home(t, hd);

	for (;; i = (i + 1) & t->mask) {
		if (t->idx[i].hd == hd)
			return &t->e[t->idx[i].ent];
		if (!t->idx[i].hd)
			break;
	}
	if (t->n == t->cap) {
		if (t->mask + 1 >= d->rt_max_slots || rt_resize(t, (t->mask + 1) * 2) < 0) {
			if (d->rt_refused++ % 100000 == 0)
				log_warn(
				    "per-second rate table cannot grow past %u entries: a host's "
				    "rates are left out of this second",
				    t->cap);
			return NULL;
		}
		for (i = rt_home(t, hd); t->idx[i].hd; i = (i + 1) & t->mask)
			;
	}
	t->idx[i] = (struct rslot){hd, t->n};
	struct rate_ent *e = &t->e[t->n++];
	memset(e, 0, sizeof(*e));
	e->key = (hd - 1) | series_of(d, addr) << RK_SERIES_SHIFT;
	return e;
}

static const struct rate_ent *rt_find(const struct ratetab *t, uint32_t hi, uint8_t dir)
{
	uint32_t hd = (hi << 1 | dir) + 1;

	for (uint32_t i = rt_home(t, hd); t->idx[i].hd; i = (i + 1) & t->mask)
		if (t->idx[i].hd == hd)
			return &t->e[t->idx[i].ent];
	return NULL;
}

static void sat_add32(uint32_t *x, uint64_t v)
{
	uint64_t s = *x + v;
	*x = s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

/* Adds a merged tick entry to the totals and this second's series and, for a tracked host (hi !=
 * NONE), to its rates. */
static void rates_add(struct detector *d, const struct tick_ent *te, int hg, uint32_t hi)
{
	const uint64_t *c = te->c;
	uint8_t dir = te->dir;
	struct gtot *g = &d->gtot[hg >= 0 && (size_t)hg < d->n_groups ? hg + 1 : 0];
	uint32_t ser;

	d->tot.pkts[dir][0] += c[C_TCP_P];
	d->tot.pkts[dir][1] += c[C_UDP_P];
	d->tot.pkts[dir][2] += c[C_ICMP_P];
	d->tot.pkts[dir][3] += c[C_OTHER_P];
	d->tot.bytes[dir][0] += c[C_TCP_B];
	d->tot.bytes[dir][1] += c[C_UDP_B];
	d->tot.bytes[dir][2] += c[C_ICMP_B];
	d->tot.bytes[dir][3] += c[C_OTHER_B];
	g->pkts[dir] += c[C_PKTS];
	g->bytes[dir] += c[C_BYTES];
	d->cur_ser[0][dir][0] += c[C_PKTS];
	d->cur_ser[0][dir][1] += c[C_BYTES];

	struct rate_ent *e = hi != NONE ? rt_get(d, hi, dir, &te->addr) : NULL;
	if (e) {
		sat_add32(&e->pkts, c[C_PKTS]);
		e->bytes += c[C_BYTES];
		sat_add32(&e->flows, c[C_FLOWS]);
		sat_add32(&e->tcp, c[C_TCP_P]);
		sat_add32(&e->udp, c[C_UDP_P]);
		sat_add32(&e->icmp, c[C_ICMP_P]);
		ser = e->key >> RK_SERIES_SHIFT;
	} else {
		/* a host the table refused still counts in its network */
		ser = series_of(d, &te->addr);
	}
	if (ser) {
		d->cur_ser[ser][dir][0] += c[C_PKTS];
		d->cur_ser[ser][dir][1] += c[C_BYTES];
	}
}

/* The id of the active attack on (host hi, dir), or NULL. */
static const char *attack_of(const struct detector *d, uint32_t hi, uint8_t dir)
{
	if (!(d->hosts[hi].netv & HOST_HOT(dir)))
		return NULL;
	uint32_t x = hotmap_get(d, hi, dir);
	return x && d->hot[x - 1].att ? d->hot[x - 1].att->id : NULL;
}

static void rate_fill(const struct detector *d, const struct rate_ent *e, struct det_rate *r)
{
	uint32_t hi = (e->key & RK_HD_MASK) >> 1;

	memset(r, 0, sizeof(*r));
	r->addr = d->hosts[hi].addr;
	r->hg = host_group(d->hosts[hi].netv);
	r->dir = e->key & 1;
	r->pps = e->pkts;
	r->bps = (double)e->bytes * 8;
	r->flows = e->flows;
	r->tcp_pps = e->tcp;
	r->udp_pps = e->udp;
	r->icmp_pps = e->icmp;
}

struct topc {
	uint64_t v;
	uint32_t key; /* host index << 1 | dir: equal values go to the lower */
	uint32_t ent;
};

/* a ranks above b */
static bool top_above(const struct topc *a, const struct topc *b)
{
	return a->v > b->v || (a->v == b->v && a->key < b->key);
}

/* Offers c to a min-heap of the best DET_TOP_MAX (the root is the lowest kept). */
static void heap_offer(struct topc *h, unsigned *n, struct topc c)
{
	unsigned i;

	if (*n < DET_TOP_MAX) {
		for (i = (*n)++; i && top_above(&h[(i - 1) / 2], &c); i = (i - 1) / 2)
			h[i] = h[(i - 1) / 2];
		h[i] = c;
		return;
	}
	if (!top_above(&c, &h[0]))
		return;
	for (i = 0;;) {
		unsigned l = 2 * i + 1, m = l;
		if (l >= DET_TOP_MAX)
			break;
		if (l + 1 < DET_TOP_MAX && top_above(&h[l], &h[l + 1]))
			m = l + 1;
		if (!top_above(&c, &h[m]))
			break;
		h[i] = h[m];
		i = m;
	}
	h[i] = c;
}

static int cmp_topc(const void *a, const void *b)
{
	return top_above(a, b) ? -1 : top_above(b, a) ? 1 : 0;
}

/* The top lists of the second that just completed (rt[!rt_cur]): one pass with a min-heap of
 * DET_TOP_MAX per (direction, metric), then 100 sorted. */
static void top_compute(struct detector *d)
{
	const struct ratetab *t = &d->rt[!d->rt_cur];
	struct topc heap[DIR__COUNT][DET__METRICS][DET_TOP_MAX];
	unsigned n[DIR__COUNT][DET__METRICS] = {{0}};

	for (uint32_t k = 0; k < t->n; k++) {
		const struct rate_ent *e = &t->e[k];
		uint32_t key = e->key & RK_HD_MASK;
		unsigned dir = key & 1;
		uint64_t v[DET__METRICS] = {e->pkts, e->bytes, e->flows};
		for (int m = 0; m < DET__METRICS; m++)
			if (v[m])
				heap_offer(heap[dir][m], &n[dir][m], (struct topc){v[m], key, k});
	}
	for (int dir = 0; dir < DIR__COUNT; dir++)
		for (int m = 0; m < DET__METRICS; m++) {
			qsort(heap[dir][m], n[dir][m], sizeof(struct topc), cmp_topc);
			for (unsigned i = 0; i < n[dir][m]; i++)
				rate_fill(d, &t->e[heap[dir][m][i].ent], &d->top[dir][m][i]);
			d->n_top[dir][m] = n[dir][m];
		}
}

/* Appends the second that just completed to the charts' ring. */
static void hist_push(struct detector *d)
{
	if (d->hist_n && d->rs_sec <= d->hist_ts[(d->hist_pos + DET_HIST_SECS - 1) % DET_HIST_SECS])
		d->hist_n = 0; /* the clock went back: the charts start over */
	uint32_t p = d->hist_pos;
	d->hist_ts[p] = d->rs_sec;
	for (unsigned s = 0; s < d->n_series; s++)
		memcpy(d->hist[s][p], d->cur_ser[s], sizeof(d->cur_ser[s]));
	d->hist_pos = (p + 1) % DET_HIST_SECS;
	if (d->hist_n < DET_HIST_SECS)
		d->hist_n++;
}

/* Ends the second filling: when complete it becomes the last complete second (top lists, charts),
 * else it is dropped. */
static void second_close(struct detector *d)
{
	if (d->rs_complete) {
		d->rt_cur = !d->rt_cur;
		top_compute(d);
		hist_push(d);
	}
	rt_clear(&d->rt[d->rt_cur]);
	memset(d->cur_ser, 0, sizeof(d->cur_ser));
	d->rs_open = false;
}

/* At the start of a tick: the tick's traffic belongs to the second its start lies in. */
static void second_begin(struct detector *d)
{
	uint64_t start = d->now_ns >= TICK_NS ? d->now_ns - TICK_NS : 0, sec = start / NS_SEC;

	if (d->rs_open && d->rs_sec != sec) {
		/* the clock jumped: drop the second as incomplete */
		d->rs_complete = false;
		second_close(d);
	}
	if (!d->rs_open) {
		d->rs_open = true;
		d->rs_sec = sec;
		/* complete only if the detector ran its first tick */
		d->rs_complete = start - sec * NS_SEC < TICK_NS;
	}
}

/* At the end of a tick: the second is over when the next tick starts in another one. */
static void second_end(struct detector *d)
{
	if (d->rs_open && d->now_ns / NS_SEC != d->rs_sec)
		second_close(d);
}

/* ---- merging shards ---- */

/* home: host_home of e->addr */
static void merge_entry(struct detector *d, const struct tick_ent *e, uint32_t home)
{
	int hg = host_group(e->netv);
	bool wl = e->netv & NETV_WHITELIST;

	if (hg >= 0 && (size_t)hg < d->n_groups && d->groups[hg].active && !wl)
		win_add(&d->groups[hg].w[e->dir], e->c);

	struct host *h = host_find(d, &e->addr, home, true);
	uint32_t hi = h ? (uint32_t)(h - d->hosts) : NONE;
	rates_add(d, e, hg, hi);
	if (!h)
		return;
	h->netv = (h->netv & ~NETV_LPM_BITS) | e->netv;
	h->last_tick = (uint32_t)d->tick;
	for (int c = 0; c < C__STORED; c++)
		h->c[e->dir][c] += e->c[c];
	if (h->netv & HOST_HOT(e->dir)) {
		win_add(&d->hot[hotmap_get(d, hi, e->dir) - 1].w, e->c);
		return;
	}
	if (wl || !over_fraction(limits_for(d, hg, e->dir), e->c, TICK_NS / 1e9, PROMOTE_DIV))
		return;
	struct hot *x = hot_promote(d, h, hi, e->dir);
	if (x) {
		win_advance(&x->w);
		win_add(&x->w, e->c);
	}
}

enum { PF_HASH = 16, PF_HOST = 8, PF_RATE = 4, PF_RING = 32 };

/* Reads ahead of merging entry k of t (see merge_shard): hashes entry k + PF_HASH and loads its
 * index slot, loads the host and rate slot of entry k + PF_HOST, and the rate entry of entry
 * k + PF_RATE. Index slots may name another host (a collision) or change before the merge: what
 * is loaded here is a hint, nothing is decided on it. (One function that also stores the hashes:
 * a function that only prefetches reads as pure to GCC, and calls to it are dropped.) */
static void merge_ahead(const struct detector *d, const struct ticktab *t, uint32_t k,
			uint32_t home[PF_RING])
{
	const struct ratetab *rt = &d->rt[d->rt_cur];
	uint32_t j = k + PF_HASH, x;

	if (j < t->n) {
		home[j % PF_RING] = host_home(d, &t->e[j].addr);
		__builtin_prefetch(&d->idx[home[j % PF_RING]]);
	}
	j = k + PF_HOST;
	if (j < t->n && (x = d->idx[home[j % PF_RING]]) != 0) {
		const struct host *h = &d->hosts[x - 1];
		uint8_t dir = t->e[j].dir;
		__builtin_prefetch(h);
		__builtin_prefetch(&h->c[dir][0]);
		__builtin_prefetch(&h->c[dir][C__STORED - 1]);
		__builtin_prefetch(&rt->idx[rt_home(rt, ((x - 1) << 1 | dir) + 1)]);
	}
	j = k + PF_RATE;
	if (j < t->n && (x = d->idx[home[j % PF_RING]]) != 0) {
		uint32_t hd = ((x - 1) << 1 | t->e[j].dir) + 1;
		const struct rslot *sl = &rt->idx[rt_home(rt, hd)];
		if (sl->hd == hd)
			__builtin_prefetch(&rt->e[sl->ent]);
	}
}

/* Flips a shard's epoch and, once the worker has moved to the other table, merges the one it
 * left. A worker that does not acknowledge within ACK_WAIT_US keeps its table until the next
 * tick: its counts arrive a tick late rather than being read while written. */
static void merge_shard(struct detector *d, int i)
{
	struct shard *sh = d->shards[i];
	uint32_t e = atomic_load_explicit(&sh->epoch, memory_order_relaxed);

	if (!d->pending[i]) {
		e++;
		atomic_store_explicit(&sh->epoch, e, memory_order_release);
		d->pending[i] = true;
		if (sh->inline_)
			shard_sync(sh);
	}
	for (int waited = 0;; waited += 100) {
		if (atomic_load_explicit(&sh->ack, memory_order_acquire) == e)
			break;
		if (waited >= ACK_WAIT_US) {
			d->st.shard_lag++;
			return;
		}
		struct timespec ts = {0, 100000};
		nanosleep(&ts, NULL);
	}
	d->pending[i] = false;
	/* With many hosts in a tick (a carpet bomb), merging waits on memory: the host's index
	 * slot, then the host, then its slot and entry in the rate table. merge_ahead loads them
	 * for the entries a few places ahead, so those loads overlap. */
	struct ticktab *t = &sh->tt[(e - 1) & 1];
	uint32_t home[PF_RING];
	for (uint32_t k = 0; k < t->n && k < PF_HASH; k++) {
		home[k] = host_home(d, &t->e[k].addr);
		__builtin_prefetch(&d->idx[home[k]]);
	}
	for (uint32_t k = 0; k < t->n; k++) {
		merge_ahead(d, t, k, home);
		merge_entry(d, &t->e[k], home[k % PF_RING]);
	}
	ticktab_clear(t);
}

static void drain_feed(struct detector *d, int i)
{
	struct shard *sh = d->shards[i];
	uint32_t head = atomic_load_explicit(&sh->feed_head, memory_order_acquire);
	uint32_t tail = atomic_load_explicit(&sh->feed_tail, memory_order_relaxed);
	uint32_t n = head - tail;

	for (; tail != head; tail++) {
		const struct feed_rec *r = &sh->feed[tail & (FEED_CAP - 1)];
		if (r->hot && r->hot <= d->hot_hw) {
			struct hot *x = &d->hot[r->hot - 1];
			if (x->used && x->vec && x->dir == r->dir &&
			    maddr_eq(&d->hosts[x->host].addr, &r->host))
				vec_add(x->vec, r);
		}
		if (r->group && r->group <= d->n_groups && d->groups[r->group - 1].vec[r->dir])
			vec_add(d->groups[r->group - 1].vec[r->dir], r);
	}
	atomic_store_explicit(&sh->feed_tail, tail, memory_order_release);
	d->st.feed_samples += n;

	/* aim for FEED_BUDGET samples per tick: sample 1 in `every` hot packets */
	uint32_t every = atomic_load_explicit(&sh->sample_every, memory_order_relaxed);
	uint64_t want = ((uint64_t)n * every + FEED_BUDGET - 1) / FEED_BUDGET;
	if (want > every)
		every = (uint32_t)(want > 1u << 20 ? 1u << 20 : want);
	else if (n < FEED_BUDGET / 4 && every > 1)
		every /= 2;
	atomic_store_explicit(&sh->sample_every, every ? every : 1, memory_order_relaxed);
}

/* ---- publishing what the workers need ---- */

static void retire(struct detector *d, struct lpm *lpm, struct hotset *hot)
{
	uint32_t e = 0;

	for (int i = 0; i < d->n_shards; i++) {
		uint32_t se = atomic_load_explicit(&d->shards[i]->epoch, memory_order_relaxed) + 1;
		if (se > e)
			e = se;
	}
	if (d->n_retired == (int)(sizeof(d->retired) / sizeof(d->retired[0]))) {
		/* workers stuck for 16 ticks: wait for them rather than free under their feet */
		log_warn("capture workers are not keeping up; waiting for them");
		struct timespec ts = {0, 50000000};
		nanosleep(&ts, NULL);
	}
	if (d->n_retired < (int)(sizeof(d->retired) / sizeof(d->retired[0])))
		d->retired[d->n_retired++] = (struct retired){lpm, hot, e};
}

static void free_retired(struct detector *d)
{
	uint32_t min = UINT32_MAX;

	for (int i = 0; i < d->n_shards; i++) {
		uint32_t a = atomic_load_explicit(&d->shards[i]->ack, memory_order_acquire);
		if (a < min)
			min = a;
	}
	int k = 0;
	for (int i = 0; i < d->n_retired; i++) {
		struct retired *r = &d->retired[i];
		if (d->n_shards == 0 || min >= r->epoch) {
			if (r->lpm) {
				lpm_free(r->lpm);
				free(r->lpm);
			}
			hotset_free(r->hot);
		} else {
			d->retired[k++] = *r;
		}
	}
	d->n_retired = k;
}

/* Points every shard at the current tables. A netview is two pointers; the detector keeps the
 * last VIEWS of them and reuses a slot only VIEWS publications later, long after every worker has
 * moved on (workers acknowledge every tick; free_retired() waits for laggards). */
static void publish(struct detector *d)
{
	struct netview *v = &d->views[d->view_next++ % VIEWS];

	v->lpm = d->lpm;
	v->hot = d->hotset;
	d->cur_view = v;
	for (int i = 0; i < d->n_shards; i++)
		atomic_store_explicit(&d->shards[i]->view, v, memory_order_release);
}

static void rebuild_hotset(struct detector *d)
{
	struct hotset *hs = hotset_new(d->n_vec + 1, (uint32_t)d->n_groups);

	if (!hs)
		return;
	for (uint32_t n = 0; n < d->hot_hw; n++) {
		struct hot *x = &d->hot[n];
		if (x->used && x->vec)
			hotset_add(hs, &d->key, &d->hosts[x->host].addr, x->dir, n + 1);
	}
	for (size_t g = 0; g < d->n_groups; g++)
		for (int dir = 0; dir < DIR__COUNT; dir++)
			hs->group_hot[dir][g + 1] = d->groups[g].vec[dir] != NULL;
	retire(d, NULL, d->hotset);
	d->hotset = hs;
	publish(d);
	d->hot_dirty = false;
}

/* ---- the tick ---- */

static void step_hot(struct detector *d, uint32_t n)
{
	struct hot *x = &d->hot[n];
	struct host *h = &d->hosts[x->host];
	const uint64_t *lim = limits_for(d, host_group(h->netv), x->dir);
	uint32_t ex = exceeded_set(lim, x->w.sum);

	if (x->vec && d->tick % DECAY_TICKS == 0)
		vec_decay(x->vec);
	if (!x->att) {
		if (ex && x->w.n_ticks >= 2 && !(h->netv & NETV_WHITELIST)) {
			x->att = attack_start(d, &x->w, ex, lim, x->vec);
			if (x->att) {
				x->att->target = h->addr;
				x->att->hg = host_group(h->netv);
				x->att->dir = x->dir;
				emit(d, EV_ATTACK_START, x->att);
			}
			return;
		}
		if (x->w.n_ticks > WIN_TICKS && !over_fraction(lim, x->w.sum, 1.0, DEMOTE_DIV)) {
			if (++x->w.quiet >= DEMOTE_TICKS)
				hot_demote(d, n);
		} else {
			x->w.quiet = 0;
		}
		return;
	}
	if (attack_step(d, x->att, &x->w, ex, lim)) {
		free(x->att);
		x->att = NULL;
	}
}

static void step_group(struct detector *d, size_t g, int dir)
{
	struct group *gr = &d->groups[g];
	const uint64_t *lim = d->conf->hostgroups[g].total_thr.v[dir];
	struct window *w = &gr->w[dir];
	uint32_t ex = exceeded_set(lim, w->sum);
	bool warm = over_fraction(lim, w->sum, 1.0, PROMOTE_DIV);

	if (warm && !gr->vec[dir])
		gr->vec[dir] = vec_get(d);
	if (gr->vec[dir] && d->tick % DECAY_TICKS == 0)
		vec_decay(gr->vec[dir]);
	if (!gr->att[dir]) {
		if (ex && w->n_ticks >= 2) {
			struct attack *a = attack_start(d, w, ex, lim, gr->vec[dir]);
			if (a) {
				a->group = true;
				a->hg = (int)g;
				a->dir = (uint8_t)dir;
				gr->att[dir] = a;
				emit(d, EV_ATTACK_START, a);
			}
		} else if (!warm && gr->vec[dir] && !over_fraction(lim, w->sum, 1.0, DEMOTE_DIV)) {
			vec_put(d, gr->vec[dir]);
			gr->vec[dir] = NULL;
		}
		return;
	}
	if (attack_step(d, gr->att[dir], w, ex, lim)) {
		free(gr->att[dir]);
		gr->att[dir] = NULL;
	}
}

void det_tick(struct detector *d, uint64_t now_ns)
{
	d->now_ns = now_ns;
	d->tick++;
	d->st.ticks++;

	/* open this tick's slot in every window, then fill it */
	for (uint32_t n = 0; n < d->hot_hw; n++)
		if (d->hot[n].used)
			win_advance(&d->hot[n].w);
	for (size_t g = 0; g < d->n_groups; g++)
		if (d->groups[g].active)
			for (int dir = 0; dir < DIR__COUNT; dir++)
				win_advance(&d->groups[g].w[dir]);

	second_begin(d);
	for (int i = 0; i < d->n_shards; i++) {
		merge_shard(d, i);
		drain_feed(d, i);
	}
	second_end(d);

	for (uint32_t n = 0; n < d->hot_hw; n++)
		if (d->hot[n].used)
			step_hot(d, n);
	for (size_t g = 0; g < d->n_groups; g++)
		if (d->groups[g].active)
			for (int dir = 0; dir < DIR__COUNT; dir++)
				step_group(d, g, dir);

	hosts_sweep(d);
	if (d->hot_dirty)
		rebuild_hotset(d);
	free_retired(d);
	if (d->tick_fn)
		d->tick_fn(d->tick_arg, now_ns);
}

void det_on_tick(struct detector *d, void (*fn)(void *arg, uint64_t now_ns), void *arg)
{
	d->tick_fn = fn;
	d->tick_arg = arg;
}

uint64_t det_drain(struct detector *d, uint64_t now_ns)
{
	uint64_t limit = now_ns + (uint64_t)((d->conf->detection.cooldown + 15) * 1e9);

	while (d->st.attacks_active && now_ns < limit) {
		now_ns += TICK_NS;
		det_tick(d, now_ns);
	}
	return now_ns;
}

/* ---- setup ---- */

static uint32_t merge_protected(uint32_t old, void *arg)
{
	(void)arg;
	return old | NETV_PROTECTED;
}

static uint32_t merge_whitelist(uint32_t old, void *arg)
{
	(void)arg;
	return old | NETV_WHITELIST;
}

static uint32_t merge_group(uint32_t old, void *arg)
{
	return (old & ~(uint32_t)NETV_GROUP_MASK) | (uint32_t)(uintptr_t)arg;
}

struct pfx_ins {
	const struct prefix *p;
	lpm_merge_fn fn;
	uintptr_t arg;
};

static int cmp_ins(const void *a, const void *b)
{
	const struct pfx_ins *x = a, *y = b;
	return x->p->plen - y->p->plen;
}

/* Builds the combined table: every prefix of networks, hostgroups and whitelist inserted shortest
 * first, so each leaf ends up with the attributes of all prefixes that cover it. */
static struct lpm *build_lpm(const struct conf *c, char *err, size_t errlen)
{
	size_t n = c->n_networks + c->n_whitelist, k = 0;
	for (size_t g = 0; g < c->n_hostgroups; g++)
		n += c->hostgroups[g].n_prefixes;
	struct pfx_ins *ins = calloc(n ? n : 1, sizeof(*ins));
	struct lpm *t = calloc(1, sizeof(*t));

	if (!ins || !t || lpm_init(t, 1u << 20) < 0)
		goto oom;
	for (size_t i = 0; i < c->n_networks; i++)
		ins[k++] = (struct pfx_ins){&c->networks[i], merge_protected, 0};
	for (size_t i = 0; i < c->n_whitelist; i++)
		ins[k++] = (struct pfx_ins){&c->whitelist[i], merge_whitelist, 0};
	for (size_t g = 0; g < c->n_hostgroups; g++)
		for (size_t i = 0; i < c->hostgroups[g].n_prefixes; i++)
			ins[k++] =
			    (struct pfx_ins){&c->hostgroups[g].prefixes[i], merge_group, g + 1};
	/* stable order for equal lengths: networks, then whitelist, then groups */
	qsort(ins, k, sizeof(*ins), cmp_ins);
	for (size_t i = 0; i < k; i++)
		if (lpm_insert(t, &ins[i].p->addr, ins[i].p->plen, ins[i].fn, (void *)ins[i].arg) <
		    0) {
			snprintf(err, errlen, "prefix table too large (more than %u nodes)",
				 t->max_nodes);
			goto fail;
		}
	free(ins);
	return t;
oom:
	snprintf(err, errlen, "out of memory building the prefix table");
fail:
	free(ins);
	if (t)
		lpm_free(t);
	free(t);
	return NULL;
}

static uint32_t merge_set(uint32_t old, void *arg)
{
	(void)old;
	return (uint32_t)(uintptr_t)arg;
}

/* The charts' table: network index + 1 for the first DET_MAX_SERIES - 1 networks, inserted
 * shortest first so a host belongs to the longest prefix covering it. Later networks are left
 * out, so their hosts count in an earlier network that covers them, if any. */
static struct lpm *build_netlpm(const struct conf *c, unsigned *n_series, char *err, size_t errlen)
{
	size_t n = c->n_networks < DET_MAX_SERIES - 1 ? c->n_networks : DET_MAX_SERIES - 1;
	size_t ord[DET_MAX_SERIES];
	struct lpm *t = calloc(1, sizeof(*t));

	if (!t || lpm_init(t, 1u << 16) < 0) {
		free(t);
		snprintf(err, errlen, "out of memory building the networks table");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		size_t k = i;
		for (; k && c->networks[ord[k - 1]].plen > c->networks[i].plen; k--)
			ord[k] = ord[k - 1];
		ord[k] = i;
	}
	for (size_t i = 0; i < n; i++) {
		const struct prefix *p = &c->networks[ord[i]];
		if (lpm_insert(t, &p->addr, p->plen, merge_set, (void *)(uintptr_t)(ord[i] + 1)) <
		    0) {
			snprintf(err, errlen, "out of memory building the networks table");
			lpm_free(t);
			free(t);
			return NULL;
		}
	}
	*n_series = (unsigned)n + 1;
	return t;
}

/* Whether two configs give the same chart series. */
static bool same_series(const struct conf *a, const struct conf *b)
{
	size_t n = a->n_networks < DET_MAX_SERIES - 1 ? a->n_networks : DET_MAX_SERIES - 1;
	size_t m = b->n_networks < DET_MAX_SERIES - 1 ? b->n_networks : DET_MAX_SERIES - 1;

	if (n != m)
		return false;
	for (size_t i = 0; i < n; i++)
		if (a->networks[i].plen != b->networks[i].plen ||
		    !maddr_eq(&a->networks[i].addr, &b->networks[i].addr))
			return false;
	return true;
}

/* Group totals for config c: kept by name from the current config (d->conf, d->gtot). */
static struct gtot *remap_gtot(const struct detector *d, const struct conf *c)
{
	struct gtot *g = calloc(c->n_hostgroups + 1, sizeof(*g));

	if (!g || !d->gtot)
		return g;
	g[0] = d->gtot[0];
	for (size_t i = 0; i < c->n_hostgroups; i++)
		for (size_t o = 0; o < d->n_groups; o++)
			if (strcmp(d->conf->hostgroups[o].name, c->hostgroups[i].name) == 0)
				g[i + 1] = d->gtot[o + 1];
	return g;
}

static int setup_groups(struct detector *d, const struct conf *c, char *err, size_t errlen)
{
	struct group *g = calloc(c->n_hostgroups ? c->n_hostgroups : 1, sizeof(*g));

	if (!g) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* keep windows and attacks of groups that still exist under the same name */
	for (size_t i = 0; i < c->n_hostgroups; i++) {
		for (size_t o = 0; d->groups && o < d->n_groups; o++) {
			if (strcmp(d->conf->hostgroups[o].name, c->hostgroups[i].name) == 0) {
				g[i] = d->groups[o];
				memset(&d->groups[o], 0, sizeof(d->groups[o]));
				for (int dir = 0; dir < DIR__COUNT; dir++)
					if (g[i].att[dir])
						g[i].att[dir]->hg = (int)i;
			}
		}
		g[i].active = false;
		for (int dir = 0; dir < DIR__COUNT; dir++)
			for (int t = 0; t < THR__COUNT; t++)
				if (c->hostgroups[i].total_thr.v[dir][t])
					g[i].active = true;
	}
	/* groups that went away: their attacks end silently with the reload; say so */
	for (size_t o = 0; d->groups && o < d->n_groups; o++) {
		for (int dir = 0; dir < DIR__COUNT; dir++) {
			if (d->groups[o].att[dir]) {
				log_warn("hostgroup %s removed by reload: its attack %s is dropped",
					 d->conf->hostgroups[o].name, d->groups[o].att[dir]->id);
				free(d->groups[o].att[dir]);
				d->st.attacks_active--;
			}
			vec_put(d, d->groups[o].vec[dir]);
		}
	}
	free(d->groups);
	d->groups = g;
	d->n_groups = c->n_hostgroups;
	return 0;
}

struct detector *det_new(const struct conf *c, uint64_t seed, char *err, size_t errlen)
{
	struct detector *d = calloc(1, sizeof(*d));
	uint32_t slots = 16;

	if (!d)
		goto oom;
	d->conf = c;
	sipkey_init(&d->key, seed);
	json_init(&d->j);
	if (c->limits.max_hosts > 1u << (RK_SERIES_SHIFT - 1)) {
		snprintf(err, errlen, "limits.max_hosts: at most %u", 1u << (RK_SERIES_SHIFT - 1));
		goto fail;
	}
	d->n_hosts_cap = c->limits.max_hosts;
	d->st.hosts_cap = c->limits.max_hosts;
	d->st.hot_cap = c->limits.max_hot;
	while (slots < d->n_hosts_cap * 2)
		slots <<= 1;
	d->idx = calloc(slots, sizeof(*d->idx));
	d->idx_mask = slots - 1;
	d->hosts = calloc(d->n_hosts_cap, sizeof(*d->hosts));
	d->hot_cap = c->limits.max_hot;
	d->hot = calloc(d->hot_cap, sizeof(*d->hot));
	for (slots = 16; slots < d->hot_cap * 2 + 2;)
		slots <<= 1;
	d->hotmap = calloc(slots, sizeof(*d->hotmap));
	d->hotmap_mask = slots - 1;
	d->free_host = d->free_hot = NONE;
	/* the rate tables hold at most every (host, dir) pair the host table can */
	for (d->rt_max_slots = RT_MIN_SLOTS; d->rt_max_slots / 4 * 3 < 2 * d->n_hosts_cap;)
		d->rt_max_slots <<= 1;
	d->hist = calloc(DET_MAX_SERIES, sizeof(*d->hist));
	d->gtot = calloc(c->n_hostgroups + 1, sizeof(*d->gtot));
	if (!d->idx || !d->hosts || !d->hot || !d->hotmap || !d->hist || !d->gtot ||
	    rt_resize(&d->rt[0], RT_MIN_SLOTS) < 0 || rt_resize(&d->rt[1], RT_MIN_SLOTS) < 0)
		goto oom;
	d->lpm = build_lpm(c, err, errlen);
	if (!d->lpm)
		goto fail;
	d->netlpm = build_netlpm(c, &d->n_series, err, errlen);
	if (!d->netlpm)
		goto fail;
	if (setup_groups(d, c, err, errlen) < 0)
		goto fail;
	d->hotset = hotset_new(1, (uint32_t)c->n_hostgroups);
	if (!d->hotset)
		goto oom;
	publish(d);
	return d;
oom:
	snprintf(err, errlen, "out of memory (limits.max_hosts = %u, limits.max_hot = %u)",
		 c->limits.max_hosts, c->limits.max_hot);
fail:
	det_free(d);
	return NULL;
}

int det_reload(struct detector *d, const struct conf *c, char *err, size_t errlen)
{
	if (c->limits.max_hosts != d->n_hosts_cap || c->limits.max_hot != d->hot_cap) {
		snprintf(err, errlen, "limits.max_hosts and limits.max_hot change only on restart");
		return -1;
	}
	unsigned n_series;
	struct lpm *t = build_lpm(c, err, errlen);
	struct lpm *nt = t ? build_netlpm(c, &n_series, err, errlen) : NULL;
	struct gtot *gt = nt ? remap_gtot(d, c) : NULL;
	if (nt && !gt)
		snprintf(err, errlen, "out of memory");
	if (!gt || setup_groups(d, c, err, errlen) < 0) {
		free(gt);
		for (int i = 0; i < 2; i++) {
			struct lpm *x = i ? nt : t;
			if (x)
				lpm_free(x);
			free(x);
		}
		return -1;
	}
	retire(d, d->lpm, NULL);
	d->lpm = t;
	free(d->gtot);
	d->gtot = gt;
	/* new networks: their series start with the first second wholly under them */
	if (!same_series(d->conf, c))
		d->net_since = (d->now_ns + NS_SEC - 1) / NS_SEC;
	lpm_free(d->netlpm);
	free(d->netlpm);
	d->netlpm = nt;
	d->n_series = n_series;
	d->conf = c;
	/* attacks keep pointers to their thresholds: point them at the new config */
	for (uint32_t n = 0; n < d->hot_hw; n++) {
		struct hot *x = &d->hot[n];
		if (x->used && x->att)
			x->att->limit = limits_for(d, host_group(d->hosts[x->host].netv), x->dir);
	}
	for (size_t g = 0; g < d->n_groups; g++)
		for (int dir = 0; dir < DIR__COUNT; dir++)
			if (d->groups[g].att[dir])
				d->groups[g].att[dir]->limit = c->hostgroups[g].total_thr.v[dir];
	d->hot_dirty = true;
	rebuild_hotset(d);
	return 0;
}

const struct sipkey *det_key(const struct detector *d)
{
	return &d->key;
}

int det_add_shard(struct detector *d, struct shard *sh)
{
	if (d->n_shards == MAX_SHARDS)
		return -1;
	/* a shard hashed with another key would never find a hot host */
	if (sh->key.k0 != d->key.k0 || sh->key.k1 != d->key.k1)
		return -1;
	d->shards[d->n_shards++] = sh;
	atomic_store_explicit(&sh->view, d->cur_view, memory_order_release);
	sh->cur_view = d->cur_view;
	return 0;
}

void det_subscribe(struct detector *d, event_fn fn, void *arg)
{
	if (d->n_subs < (int)(sizeof(d->subs) / sizeof(d->subs[0]))) {
		d->subs[d->n_subs].fn = fn;
		d->subs[d->n_subs].arg = arg;
		d->n_subs++;
	}
}

const struct det_stats *det_stats(const struct detector *d)
{
	return &d->st;
}

/* ---- live numbers ---- */

uint64_t det_last_second(const struct detector *d)
{
	if (!d->hist_n)
		return 0;
	return d->hist_ts[(d->hist_pos + DET_HIST_SECS - 1) % DET_HIST_SECS];
}

unsigned det_top(const struct detector *d, enum det_metric by, enum dir dir, struct det_rate *out,
		 unsigned n)
{
	if ((unsigned)by >= DET__METRICS || (unsigned)dir >= DIR__COUNT)
		return 0;
	if (n > d->n_top[dir][by])
		n = d->n_top[dir][by];
	for (unsigned i = 0; i < n; i++) {
		out[i] = d->top[dir][by][i];
		uint32_t hi = host_lookup(d, &out[i].addr, NULL);
		if (hi != NONE)
			out[i].attack = attack_of(d, hi, (uint8_t)dir);
	}
	return n;
}

int det_host(const struct detector *d, const struct maddr *a, struct det_host_info *out)
{
	uint32_t hi = host_lookup(d, a, NULL);

	if (hi == NONE)
		return -1;
	const struct host *h = &d->hosts[hi];
	memset(out, 0, sizeof(*out));
	out->addr = h->addr;
	out->hg = host_group(h->netv);
	out->protected_ = h->netv & NETV_PROTECTED;
	out->whitelisted = h->netv & NETV_WHITELIST;
	for (uint8_t dir = 0; dir < DIR__COUNT; dir++) {
		const uint64_t *c = h->c[dir];
		out->hot[dir] = h->netv & HOST_HOT(dir);
		const struct rate_ent *e = rt_find(&d->rt[!d->rt_cur], hi, dir);
		if (e) {
			rate_fill(d, e, &out->rate[dir]);
		} else {
			out->rate[dir].addr = h->addr;
			out->rate[dir].hg = out->hg;
			out->rate[dir].dir = dir;
		}
		out->rate[dir].attack = attack_of(d, hi, dir);
		out->pkts[dir] = c[C_PKTS];
		out->bytes[dir] = c[C_BYTES];
		memcpy(out->c[dir], c, sizeof(h->c[dir]));
		out->c[dir][C_OTHER_P] = c[C_PKTS] - c[C_TCP_P] - c[C_UDP_P] - c[C_ICMP_P];
		out->c[dir][C_OTHER_B] = c[C_BYTES] - c[C_TCP_B] - c[C_UDP_B] - c[C_ICMP_B];
	}
	out->idle = (uint32_t)((uint32_t)d->tick - h->last_tick) * (TICK_NS / 1e9);
	return 0;
}

static int cmp_attack(const void *a, const void *b)
{
	const struct attack *x = *(const struct attack *const *)a,
			    *y = *(const struct attack *const *)b;
	size_t lx = strlen(x->id), ly = strlen(y->id);

	if (x->start_ns != y->start_ns)
		return x->start_ns < y->start_ns ? -1 : 1;
	/* ids of one start are "SECONDS-SEQUENCE": the shorter sequence is the lower */
	if (lx != ly)
		return lx < ly ? -1 : 1;
	return strcmp(x->id, y->id);
}

void det_each_attack(const struct detector *d, void (*fn)(void *arg, const struct attack *a),
		     void *arg)
{
	for (uint32_t k = 0; k < d->hot_hw; k++)
		if (d->hot[k].used && d->hot[k].att)
			fn(arg, d->hot[k].att);
	for (size_t g = 0; g < d->n_groups; g++)
		for (int dir = 0; dir < DIR__COUNT; dir++)
			if (d->groups[g].att[dir])
				fn(arg, d->groups[g].att[dir]);
}

struct attack_list {
	const struct attack **a;
	size_t n, cap;
};

static void attack_collect(void *arg, const struct attack *a)
{
	struct attack_list *l = arg;

	if (l->n < l->cap)
		l->a[l->n++] = a;
}

/* the heaviest first; equal rates by start */
static int cmp_attack_pps(const void *a, const void *b)
{
	const struct attack *x = *(const struct attack *const *)a,
			    *y = *(const struct attack *const *)b;

	if (x->pps != y->pps)
		return x->pps > y->pps ? -1 : 1;
	return cmp_attack(a, b);
}

size_t det_attacks_json(struct detector *d, struct json *out, size_t max,
			void (*extra)(void *arg, const struct attack *a, struct json *out),
			void *arg)
{
	struct attack_list l = {.cap = d->st.attacks_active ? d->st.attacks_active : 1};

	l.a = malloc(l.cap * sizeof(*l.a));
	json_arr(out);
	if (!l.a) {
		out->oom = true;
		json_aend(out);
		return 0;
	}
	det_each_attack(d, attack_collect, &l);
	size_t total = l.n;
	if (l.n > max) { /* a carpet of host attacks: the heaviest max of them */
		qsort(l.a, l.n, sizeof(*l.a), cmp_attack_pps);
		l.n = max;
	}
	qsort(l.a, l.n, sizeof(*l.a), cmp_attack);
	for (size_t i = 0; i < l.n; i++) {
		json_obj(out);
		attack_members(d, out, l.a[i], EV_ATTACK_UPDATE);
		json_key(out, "active");
		json_bool(out, true);
		if (extra)
			extra(arg, l.a[i], out);
		json_end(out);
	}
	json_aend(out);
	free(l.a);
	return total;
}

void det_traffic_json(const struct detector *d, unsigned seconds, struct json *out)
{
	static const char *const metric[2] = {"pps", "bps"};
	uint32_t n = seconds < d->hist_n ? seconds : d->hist_n;
	uint32_t first = (d->hist_pos + DET_HIST_SECS - n) % DET_HIST_SECS;
	char buf[MADDR_STRLEN + 8];

	json_key(out, "interval");
	json_u64(out, 1);
	json_key(out, "series");
	json_arr(out);
	json_str(out, "all");
	for (unsigned s = 1; s < d->n_series; s++) {
		const struct prefix *p = &d->conf->networks[s - 1];
		json_str(out, prefix_str(&p->addr, p->plen, buf, sizeof(buf)));
	}
	json_aend(out);
	json_key(out, "ts");
	json_arr(out);
	for (uint32_t i = 0; i < n; i++)
		json_u64(out, d->hist_ts[(first + i) % DET_HIST_SECS]);
	json_aend(out);
	for (int dir = 0; dir < DIR__COUNT; dir++) {
		json_key(out, conf_dir_name((enum dir)dir));
		json_obj(out);
		for (int m = 0; m < 2; m++) {
			json_key(out, metric[m]);
			json_arr(out);
			for (unsigned s = 0; s < d->n_series; s++) {
				json_arr(out);
				for (uint32_t i = 0; i < n; i++) {
					uint32_t p = (first + i) % DET_HIST_SECS;
					if (s && d->hist_ts[p] < d->net_since)
						json_null(out);
					else
						json_u64(out, d->hist[s][p][dir][m] * (m ? 8 : 1));
				}
				json_aend(out);
			}
			json_aend(out);
		}
		json_end(out);
	}
}

const struct det_totals *det_totals(const struct detector *d)
{
	return &d->tot;
}

int det_group_totals(const struct detector *d, int hg, uint64_t pkts[DIR__COUNT],
		     uint64_t bytes[DIR__COUNT])
{
	if (hg < -1 || hg >= (int)d->n_groups)
		return -1;
	for (int dir = 0; dir < DIR__COUNT; dir++) {
		pkts[dir] = d->gtot[hg + 1].pkts[dir];
		bytes[dir] = d->gtot[hg + 1].bytes[dir];
	}
	return 0;
}

void det_free(struct detector *d)
{
	if (!d)
		return;
	for (uint32_t n = 0; n < d->hot_hw; n++) {
		free(d->hot[n].att);
		free(d->hot[n].vec);
	}
	for (size_t g = 0; d->groups && g < d->n_groups; g++)
		for (int dir = 0; dir < DIR__COUNT; dir++) {
			free(d->groups[g].att[dir]);
			free(d->groups[g].vec[dir]);
		}
	d->n_shards = 0;
	free_retired(d);
	for (int i = 0; i < 2; i++) {
		struct lpm *x = i ? d->netlpm : d->lpm;
		if (x)
			lpm_free(x);
		free(x);
		free(d->rt[i].idx);
		free(d->rt[i].e);
	}
	free(d->hist);
	free(d->gtot);
	hotset_free(d->hotset);
	free(d->groups);
	free(d->hosts);
	free(d->idx);
	free(d->hot);
	free(d->hotmap);
	json_free(&d->j);
	free(d);
}
