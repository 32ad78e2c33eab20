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

static struct host *host_find(struct detector *d, const struct maddr *a, bool create)
{
	uint32_t i = host_home(d, a);

	for (;;) {
		uint32_t h = d->idx[i];
		if (!h)
			break;
		if (maddr_eq(&d->hosts[h - 1].addr, a))
			return &d->hosts[h - 1];
		i = (i + 1) & d->idx_mask;
	}
	if (!create)
		return NULL;
	uint32_t n;
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

static void emit(struct detector *d, enum ev_kind k, struct attack *a)
{
	static const char *const names[EV__COUNT] = {"attack_start", "attack_update", "attack_end"};
	struct json *j = &d->j;
	char target[CONF_NAME_MAX + MADDR_STRLEN];
	const char *hg = a->hg >= 0 ? d->conf->hostgroups[a->hg].name : NULL;

	if (a->group)
		snprintf(target, sizeof(target), "%s", hg);
	else
		maddr_str(&a->target, target);

	json_reset(j);
	json_obj(j);
	json_key(j, "event");
	json_str(j, names[k]);
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

/* ---- merging shards ---- */

static void merge_entry(struct detector *d, const struct tick_ent *e)
{
	int hg = host_group(e->netv);
	bool wl = e->netv & NETV_WHITELIST;

	if (hg >= 0 && (size_t)hg < d->n_groups && d->groups[hg].active && !wl)
		win_add(&d->groups[hg].w[e->dir], e->c);

	struct host *h = host_find(d, &e->addr, true);
	if (!h)
		return;
	uint32_t hi = (uint32_t)(h - d->hosts);
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
	struct ticktab *t = &sh->tt[(e - 1) & 1];
	for (uint32_t k = 0; k < t->n; k++)
		merge_entry(d, &t->e[k]);
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

	for (int i = 0; i < d->n_shards; i++) {
		merge_shard(d, i);
		drain_feed(d, i);
	}

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
	d->n_hosts_cap = c->limits.max_hosts;
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
	if (!d->idx || !d->hosts || !d->hot || !d->hotmap)
		goto oom;
	d->lpm = build_lpm(c, err, errlen);
	if (!d->lpm)
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
	struct lpm *t = build_lpm(c, err, errlen);
	if (!t)
		return -1;
	if (setup_groups(d, c, err, errlen) < 0) {
		lpm_free(t);
		free(t);
		return -1;
	}
	retire(d, d->lpm, NULL);
	d->lpm = t;
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
	if (d->lpm) {
		lpm_free(d->lpm);
		free(d->lpm);
	}
	hotset_free(d->hotset);
	free(d->groups);
	free(d->hosts);
	free(d->idx);
	free(d->hot);
	free(d->hotmap);
	json_free(&d->j);
	free(d);
}
