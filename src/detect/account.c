/* account: per-worker shard. Everything here runs once per packet: no locks, no allocation, no
 * syscalls. Tables are open-addressed with linear probing on a keyed hash and refuse new entries
 * when full (counted in shard_stats.tick_full) instead of growing. */
#include <stdlib.h>
#include <string.h>

#include "detect/account.h"

enum {
	FLOW_WAYS = 4,
	FLOW_BUCKETS = 1 << 17, /* x4 slots x8 bytes = 4 MiB per shard */
};

static int ticktab_init(struct ticktab *t, uint32_t hosts)
{
	uint32_t slots = 1024;

	while (slots < hosts * 2)
		slots <<= 1;
	t->idx = calloc(slots, sizeof(*t->idx));
	/* pages of e[] are touched only as entries are used */
	t->e = calloc(hosts, sizeof(*t->e));
	if (!t->idx || !t->e)
		return -1;
	t->mask = slots - 1;
	t->limit = hosts;
	t->n = 0;
	return 0;
}

void ticktab_clear(struct ticktab *t)
{
	for (uint32_t i = 0; i < t->n; i++)
		t->idx[t->e[i].slot] = 0;
	memset(t->e, 0, (size_t)t->n * sizeof(t->e[0]));
	t->n = 0;
}

struct shard *shard_new(int id, uint32_t tick_hosts, const struct sipkey *key, bool inline_)
{
	struct shard *sh = aligned_alloc(64, (sizeof(*sh) + 63) & ~(size_t)63);

	if (!sh)
		return NULL;
	memset(sh, 0, sizeof(*sh));
	sh->id = id;
	sh->inline_ = inline_;
	sh->key = *key;
	atomic_init(&sh->sample_every, 1);
	if (ticktab_init(&sh->tt[0], tick_hosts) < 0 || ticktab_init(&sh->tt[1], tick_hosts) < 0)
		goto fail;
	sh->flow_mask = FLOW_BUCKETS - 1;
	sh->flow = calloc((size_t)FLOW_BUCKETS * FLOW_WAYS, sizeof(uint64_t));
	sh->feed = calloc(FEED_CAP, sizeof(*sh->feed));
	if (!sh->flow || !sh->feed)
		goto fail;
	sh->tt_cur = &sh->tt[0];
	return sh;
fail:
	shard_free(sh);
	return NULL;
}

void shard_free(struct shard *sh)
{
	if (!sh)
		return;
	for (int i = 0; i < 2; i++) {
		free(sh->tt[i].e);
		free(sh->tt[i].idx);
	}
	free(sh->flow);
	free(sh->feed);
	free(sh);
}

/* Returns true if this is the first time the flow is seen in second `gen`. A slot keeps the upper
 * 48 bits of the flow hash and the low 16 bits of the second it was last seen in. When a bucket
 * holds four flows of the current second, a fifth replaces one and either may be counted again:
 * an over-count, only possible when the table holds ~500k live flows. */
static bool flow_is_new(struct shard *sh, uint64_t h, uint64_t gen)
{
	uint64_t *b = &sh->flow[(h & sh->flow_mask) * FLOW_WAYS];
	uint64_t tag = h & ~0xffffULL, g = gen & 0xffff;
	int victim = -1;

	for (int i = 0; i < FLOW_WAYS; i++) {
		if ((b[i] & ~0xffffULL) == tag) {
			if ((b[i] & 0xffff) == g)
				return false;
			b[i] = tag | g;
			return true;
		}
		if (victim < 0 && (b[i] & 0xffff) != g)
			victim = i;
	}
	if (victim < 0) {
		victim = (int)((h >> 20) & (FLOW_WAYS - 1));
		sh->st.flow_evictions++;
	}
	b[victim] = tag | g;
	return true;
}

static uint64_t flow_hash(const struct shard *sh, const struct obs *o)
{
	struct {
		struct maddr s, d;
		uint16_t sp, dp;
		uint8_t proto;
	} __attribute__((packed)) k;

	k.s = o->src;
	k.d = o->dst;
	k.sp = o->sport;
	k.dp = o->dport;
	k.proto = o->proto;
	return siphash13(&sh->key, &k, sizeof(k));
}

static struct tick_ent *tick_get(struct ticktab *t, uint64_t h, const struct maddr *a, uint8_t dir,
				 uint32_t netv)
{
	uint32_t i = (uint32_t)h & t->mask;

	for (;;) {
		uint32_t k = t->idx[i];
		if (!k) {
			if (t->n >= t->limit)
				return NULL;
			struct tick_ent *e = &t->e[t->n++];
			t->idx[i] = t->n;
			e->addr = *a;
			e->dir = dir;
			e->netv = netv;
			e->slot = i;
			return e;
		}
		struct tick_ent *e = &t->e[k - 1];
		if (e->dir == dir && maddr_eq(&e->addr, a))
			return e;
		i = (i + 1) & t->mask;
	}
}

uint32_t hotset_find(const struct hotset *h, uint64_t hash, const struct maddr *a, uint8_t dir)
{
	uint32_t i = (uint32_t)hash & h->mask;

	for (;;) {
		const struct hotslot *s = &h->slot[i];
		if (!s->hot)
			return 0;
		if (s->dir == dir && maddr_eq(&s->addr, a))
			return s->hot;
		i = (i + 1) & h->mask;
	}
}

struct hotset *hotset_new(uint32_t n_expected, uint32_t n_groups)
{
	struct hotset *h = calloc(1, sizeof(*h));
	uint32_t slots = 16;

	if (!h)
		return NULL;
	while (slots < n_expected * 2 + 2)
		slots <<= 1;
	h->slot = calloc(slots, sizeof(*h->slot));
	h->mask = slots - 1;
	h->n_groups = n_groups;
	for (int d = 0; d < DIR__COUNT; d++)
		h->group_hot[d] = calloc(n_groups + 1, 1);
	if (!h->slot || !h->group_hot[0] || !h->group_hot[1]) {
		hotset_free(h);
		return NULL;
	}
	return h;
}

void hotset_free(struct hotset *h)
{
	if (!h)
		return;
	free(h->slot);
	for (int d = 0; d < DIR__COUNT; d++)
		free(h->group_hot[d]);
	free(h);
}

int hotset_add(struct hotset *h, const struct sipkey *k, const struct maddr *a, uint8_t dir,
	       uint32_t hot)
{
	if (h->n + 1 > h->mask / 2)
		return -1;
	uint32_t i = (uint32_t)hostdir_hash(k, a, dir) & h->mask;
	while (h->slot[i].hot)
		i = (i + 1) & h->mask;
	h->slot[i].addr = *a;
	h->slot[i].dir = dir;
	h->slot[i].hot = hot;
	h->n++;
	return 0;
}

static void feed_push(struct shard *sh, const struct obs *o, uint32_t hot, uint32_t group,
		      uint8_t dir, const struct maddr *host, const struct maddr *peer)
{
	uint32_t every = atomic_load_explicit(&sh->sample_every, memory_order_relaxed);

	if (++sh->sample_ctr < every)
		return;
	sh->sample_ctr = 0;
	uint32_t head = atomic_load_explicit(&sh->feed_head, memory_order_relaxed);
	uint32_t tail = atomic_load_explicit(&sh->feed_tail, memory_order_acquire);
	if (head - tail >= FEED_CAP) {
		sh->st.feed_dropped++;
		return;
	}
	struct feed_rec *r = &sh->feed[head & (FEED_CAP - 1)];
	r->hot = hot;
	r->group = (uint16_t)group;
	r->dir = dir;
	r->proto = o->proto;
	r->tcp_flags = o->tcp_flags;
	r->ttl = o->ttl;
	r->frag = o->frag;
	r->l4 = o->l4;
	r->sport = o->sport;
	r->dport = o->dport;
	r->len = o->len;
	r->weight = (uint32_t)(o->packets * every > UINT32_MAX ? UINT32_MAX : o->packets * every);
	r->peer = *peer;
	r->host = *host;
	atomic_store_explicit(&sh->feed_head, head + 1, memory_order_release);
}

static void add_counters(uint64_t *c, const struct obs *o, bool new_flow)
{
	uint64_t p = o->packets, b = o->bytes;

	c[C_PKTS] += p;
	c[C_BYTES] += b;
	switch (o->proto) {
	case IPPROTO_TCP_:
		c[C_TCP_P] += p;
		c[C_TCP_B] += b;
		if ((o->tcp_flags & (TCPF_SYN | TCPF_ACK)) == TCPF_SYN)
			c[C_SYN_P] += p;
		break;
	case IPPROTO_UDP_:
		c[C_UDP_P] += p;
		c[C_UDP_B] += b;
		break;
	case IPPROTO_ICMP_:
	case IPPROTO_ICMPV6_:
		c[C_ICMP_P] += p;
		c[C_ICMP_B] += b;
		break;
	default:
		c[C_OTHER_P] += p;
		c[C_OTHER_B] += b;
	}
	if (o->frag) {
		c[C_FRAG_P] += p;
		c[C_FRAG_B] += b;
	}
	c[C_FLOWS] += new_flow;
}

static void account_one(struct shard *sh, const struct obs *o, const struct maddr *host,
			const struct maddr *peer, uint8_t dir, uint32_t netv, bool new_flow)
{
	uint64_t h = hostdir_hash(&sh->key, host, dir);
	struct tick_ent *e = tick_get(sh->tt_cur, h, host, dir, netv);

	if (!e) {
		sh->st.tick_full++;
		return;
	}
	add_counters(e->c, o, new_flow);

	const struct hotset *hs = sh->cur_view->hot;
	if (!hs || (!hs->n && !hs->n_groups))
		return;
	uint32_t group = netv & NETV_GROUP_MASK;
	uint32_t hot = hs->n ? hotset_find(hs, h, host, dir) : 0;
	bool ghot = group && group <= hs->n_groups && hs->group_hot[dir][group];
	if (hot || ghot)
		feed_push(sh, o, hot, ghot ? group : 0, dir, host, peer);
}

void shard_account(struct shard *sh, const struct obs *o)
{
	/* the detector publishes a new view (hot set) at the end of a tick; loading it per packet
	 * lets sampling for a newly hot host start at once instead of at the next flip. Views are
	 * freed only after every worker acknowledged a later epoch, so this pointer stays valid
	 * until our next shard_sync(). */
	sh->cur_view = atomic_load_explicit(&sh->view, memory_order_acquire);
	const struct lpm *lpm = sh->cur_view->lpm;
	/* the flow filter is larger than the caches: start loading the bucket now and let the
	 * prefix lookups run while it arrives */
	uint64_t fh = flow_hash(sh, o);
	__builtin_prefetch(&sh->flow[(fh & sh->flow_mask) * FLOW_WAYS], 1);
	uint32_t vd = lpm_lookup(lpm, &o->dst);
	uint32_t vs = lpm_lookup(lpm, &o->src);

	if (!((vd | vs) & NETV_PROTECTED)) {
		sh->st.unprotected++;
		return;
	}
	sh->st.obs++;
	bool new_flow = flow_is_new(sh, fh, o->ts_ns / 1000000000ULL);
	if (vd & NETV_PROTECTED) {
		sh->st.dir_pkts[DIR_IN] += o->packets;
		sh->st.dir_bytes[DIR_IN] += o->bytes;
		account_one(sh, o, &o->dst, &o->src, DIR_IN, vd, new_flow);
	}
	if (vs & NETV_PROTECTED) {
		sh->st.dir_pkts[DIR_OUT] += o->packets;
		sh->st.dir_bytes[DIR_OUT] += o->bytes;
		account_one(sh, o, &o->src, &o->dst, DIR_OUT, vs, new_flow);
	}
}

void shard_stats_sum(struct shard *const *sh, int n, struct shard_stats *t)
{
	memset(t, 0, sizeof(*t));
	for (int i = 0; i < n; i++) {
		const struct shard_stats *s = &sh[i]->st;
		t->obs += s->obs;
		t->unprotected += s->unprotected;
		t->tick_full += s->tick_full;
		t->feed_dropped += s->feed_dropped;
		t->flow_evictions += s->flow_evictions;
		t->capture_drops += s->capture_drops;
		for (int d = 0; d < DIR__COUNT; d++) {
			t->dir_pkts[d] += s->dir_pkts[d];
			t->dir_bytes[d] += s->dir_bytes[d];
		}
		for (int r = 0; r < DEC__COUNT; r++)
			t->dec.n[r] += s->dec.n[r];
	}
}
