/* collector: UDP sockets, exporters, and where in time a flow record belongs.
 *
 * Why spreading: a router that exports a flow after its 60 s active timeout reports a minute of
 * traffic at once. Counted when it arrives, that minute lands in one 100 ms tick as a spike 600
 * times the real rate: the most common cause of wrong rates and false alarms in flow-based
 * detection. Each record is therefore spread evenly over its own duration (first..last), tick by
 * tick. A record whose span is already past when it arrives keeps its duration but starts now:
 * late, but at its true rate. Records from the future (an exporter replaying a capture, or a clock
 * ahead of ours) wait in a wheel until their time comes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/json.h"
#include "core/log.h"
#include "detect/detect.h"
#include "flow/collector.h"

#define SFLOW_DITHER_NS 200000000ULL

enum {
	BATCH = 32,
	DGRAM_MAX = 65536,
	FUTURE_MAX_S = 120, /* a record this far ahead of us re-anchors its exporter's clock */
	PAST_MAX_S = 300,   /* ...and this far behind */
	SYNC_MAX_S = 60,    /* an exporter this close to our clock is taken as synced */
	LATENESS_S = 10,    /* reordering allowed to an exporter with its own clock */
	SFLOW_DITHER_STEPS = 8,
	STATS_EVERY_S = 60,
};

/* ---- time mapping ---- */

bool flowclock_map(struct flowclock *fc, uint64_t now_ns, uint64_t *first, uint64_t *last)
{
	const int64_t NS = 1000000000LL;
	bool anchored = false;
	int64_t m = (int64_t)*last + fc->offset_ns;

	if (!fc->valid || m > (int64_t)now_ns + FUTURE_MAX_S * NS ||
	    m < (int64_t)now_ns - PAST_MAX_S * NS) {
		int64_t skew = (int64_t)now_ns - (int64_t)*last;
		if (skew >= -SYNC_MAX_S * NS && skew <= SYNC_MAX_S * NS) {
			/* a synced clock: record times are ours */
			fc->offset_ns = 0;
			fc->synced = true;
		} else {
			/* a replay or a wrong clock: this record starts LATENESS_S from now, so
			 * records up to that much out of order still land at their own time */
			fc->offset_ns = (int64_t)now_ns + LATENESS_S * NS - (int64_t)*first;
			fc->synced = false;
		}
		fc->valid = true;
		anchored = true;
	}
	*first = (uint64_t)((int64_t)*first + fc->offset_ns);
	*last = (uint64_t)((int64_t)*last + fc->offset_ns);
	return anchored;
}

/* ---- spreading ---- */

struct spread {
	struct obs o;  /* the record; packets/bytes are its totals */
	uint32_t n;    /* ticks it is spread over */
	uint32_t k;    /* ticks done */
	uint32_t next; /* wheel list / free list, index + 1 */
	uint64_t start_tick;
};

struct spreader {
	struct spread *e;
	uint32_t cap, hw, free;		      /* free: index + 1 */
	uint32_t wheel[SPREAD_HORIZON_TICKS]; /* per start tick: list of index + 1 */
	uint32_t *active;
	uint32_t n_active;
	uint64_t full;
};

struct spreader *spreader_new(uint32_t max_entries)
{
	struct spreader *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->cap = max_entries;
	s->e = calloc(max_entries, sizeof(*s->e));
	s->active = calloc(max_entries, sizeof(*s->active));
	if (!s->e || !s->active) {
		spreader_free(s);
		return NULL;
	}
	return s;
}

void spreader_free(struct spreader *s)
{
	if (!s)
		return;
	free(s->e);
	free(s->active);
	free(s);
}

uint32_t spreader_active(const struct spreader *s)
{
	return s->n_active;
}

uint64_t spreader_full(const struct spreader *s)
{
	return s->full;
}

static void account_now(struct shard *sh, const struct obs *o, uint64_t now_ns)
{
	struct obs x = *o;

	x.ts_ns = now_ns;
	shard_account(sh, &x);
}

int spreader_place(struct spreader *s, struct shard *sh, const struct obs *o, uint64_t first_ns,
		   uint64_t last_ns, uint64_t now_ns)
{
	uint64_t now_tick = now_ns / TICK_NS;
	uint64_t dur = last_ns > first_ns ? last_ns - first_ns : 0;

	if (first_ns < now_ns) /* already past: keep the duration, start now */
		first_ns = now_ns;
	uint64_t start = first_ns / TICK_NS;
	uint64_t n = (dur + TICK_NS - 1) / TICK_NS;
	if (n == 0)
		n = 1;
	if (n > SPREAD_MAX_TICKS)
		n = SPREAD_MAX_TICKS;
	if (start >= now_tick + SPREAD_HORIZON_TICKS)
		start = now_tick + SPREAD_HORIZON_TICKS - 1;
	if (n == 1 && start == now_tick) {
		account_now(sh, o, now_ns);
		return 1;
	}
	uint32_t i;
	if (s->free) {
		i = s->free - 1;
		s->free = s->e[i].next;
	} else if (s->hw < s->cap) {
		i = s->hw++;
	} else {
		s->full++;
		account_now(sh, o, now_ns);
		return 1;
	}
	struct spread *x = &s->e[i];
	x->o = *o;
	x->n = (uint32_t)n;
	x->k = 0;
	x->start_tick = start;
	uint32_t slot = (uint32_t)(start % SPREAD_HORIZON_TICKS);
	x->next = s->wheel[slot];
	s->wheel[slot] = i + 1;
	return 0;
}

/* floor(total * k / n), without overflow for any 64-bit total */
static uint64_t part(uint64_t total, uint32_t k, uint32_t n)
{
	return (uint64_t)((unsigned __int128)total * k / n);
}

void spreader_tick(struct spreader *s, struct shard *sh, uint64_t tick_ns)
{
	uint64_t tick = tick_ns / TICK_NS;
	uint32_t slot = (uint32_t)(tick % SPREAD_HORIZON_TICKS);

	/* records starting now join the active ones; those for a later lap stay */
	uint32_t *pp = &s->wheel[slot];
	while (*pp) {
		struct spread *x = &s->e[*pp - 1];
		if (x->start_tick <= tick) {
			uint32_t i = *pp - 1;
			*pp = x->next;
			s->active[s->n_active++] = i;
		} else {
			pp = &x->next;
		}
	}
	for (uint32_t a = 0; a < s->n_active;) {
		uint32_t i = s->active[a];
		struct spread *x = &s->e[i];
		struct obs o = x->o;
		/* Bresenham: tick k gets floor(P(k+1)/n) - floor(Pk/n), so the slices add up
		 * exactly */
		o.packets = part(x->o.packets, x->k + 1, x->n) - part(x->o.packets, x->k, x->n);
		o.bytes = part(x->o.bytes, x->k + 1, x->n) - part(x->o.bytes, x->k, x->n);
		o.ts_ns = tick_ns;
		if (o.packets)
			shard_account(sh, &o);
		if (++x->k < x->n) {
			a++;
			continue;
		}
		s->active[a] = s->active[--s->n_active];
		x->next = s->free;
		s->free = i + 1;
	}
}

/* ---- exporters ---- */

struct exp_slot {
	struct exporter ex;
	struct flowclock clock;
	bool used;
	bool listed; /* from the config */
};

struct collector {
	struct capture cap;
	int fd;
	struct shard *sh;
	struct spreader *sp;
	struct sipkey key;
	struct exp_slot *exp; /* open addressing on the address */
	uint32_t exp_mask, n_exp;
	bool allow_listed_only;
	struct collector_stats st;
	uint64_t last_tick;
	uint64_t next_stats_ns;
	uint32_t dither;
	pthread_t thread;
	bool started;
	_Atomic bool stop;
	uint8_t *buf; /* BATCH x DGRAM_MAX */
};

static struct exp_slot *exp_find(struct collector *co, const struct maddr *a, bool create)
{
	uint32_t i = (uint32_t)siphash13(&co->key, a->b, 16) & co->exp_mask;

	for (;; i = (i + 1) & co->exp_mask) {
		struct exp_slot *e = &co->exp[i];
		if (e->used && maddr_eq(&e->ex.addr, a))
			return e;
		if (!e->used) {
			if (!create)
				return NULL;
			if (co->n_exp >= COLLECTOR_MAX_EXPORTERS) {
				co->st.exporters_full++;
				return NULL;
			}
			e->used = true;
			e->ex.addr = *a;
			co->n_exp++;
			return e;
		}
	}
}

struct emit_ctx {
	struct collector *co;
	struct exp_slot *e;
	uint64_t now_ns;
};

static void on_record(void *arg, const struct obs *o, uint64_t first_ns, uint64_t last_ns)
{
	struct emit_ctx *c = arg;

	if (c->co->cap.kind == CAPTURE_SFLOW) {
		/* sFlow samples carry no time of their own, only when we received them, and agents
		 * send in bursts (pmacct: ~200 datagrams every ~140 ms, nothing between), which a
		 * 100 ms tick would show as a rate swinging around the true one. Each sample is
		 * placed in one of 8 steps over the 200 ms after receipt, in turn: bursts up to
		 * 200 ms apart come out even, at ~100 ms of extra delay. */
		uint64_t t = c->now_ns + (uint64_t)(c->co->dither++ % SFLOW_DITHER_STEPS) *
					     (SFLOW_DITHER_NS / SFLOW_DITHER_STEPS);
		spreader_place(c->co->sp, c->co->sh, o, t, t, c->now_ns);
		return;
	}

	bool was = c->e->clock.valid;
	if (flowclock_map(&c->e->clock, c->now_ns, &first_ns, &last_ns) && was)
		c->co->st.reanchors++;
	spreader_place(c->co->sp, c->co->sh, o, first_ns, last_ns, c->now_ns);
}

static void handle(struct collector *co, const uint8_t *buf, size_t len,
		   const struct sockaddr_storage *from, uint64_t now_ns)
{
	struct maddr a;

	if (from->ss_family == AF_INET) {
		maddr_from_v4(&a, (const uint8_t *)&((const struct sockaddr_in *)from)->sin_addr);
	} else if (from->ss_family == AF_INET6) {
		memcpy(a.b, &((const struct sockaddr_in6 *)from)->sin6_addr, 16);
	} else {
		return;
	}
	co->st.datagrams++;
	struct exp_slot *e = exp_find(co, &a, !co->allow_listed_only);
	if (!e) {
		if (co->allow_listed_only)
			co->st.unknown_exporter++;
		return;
	}
	struct emit_ctx ctx = {co, e, now_ns};
	if (co->cap.kind == CAPTURE_SFLOW)
		sflow_decode(buf, len, now_ns, &e->ex, on_record, &ctx);
	else
		netflow_decode(buf, len, now_ns, &e->ex, on_record, &ctx);
}

static void run_ticks(struct collector *co, uint64_t now_ns)
{
	uint64_t tick = now_ns / TICK_NS;

	if (!co->last_tick || tick < co->last_tick || tick - co->last_tick > SPREAD_HORIZON_TICKS)
		co->last_tick = tick; /* first run, or the clock jumped: no catch-up storm */
	while (co->last_tick < tick) {
		co->last_tick++;
		spreader_tick(co->sp, co->sh, co->last_tick * TICK_NS);
	}
}

static void socket_drops(struct collector *co, struct msghdr *m)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
			uint32_t d;
			memcpy(&d, CMSG_DATA(c), sizeof(d));
			/* the kernel reports its running total */
			if (d > co->st.socket_drops) {
				co->sh->st.capture_drops += d - co->st.socket_drops;
				co->st.socket_drops = d;
			}
		}
	}
}

static void *collector_main(void *arg)
{
	struct collector *co = arg;
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_storage from[BATCH];
	char ctl[BATCH][CMSG_SPACE(sizeof(uint32_t))];
	struct pollfd pfd = {.fd = co->fd, .events = POLLIN};

	while (!atomic_load_explicit(&co->stop, memory_order_relaxed)) {
		/* Slices of spread records go out when the detector opens the tick they belong to
		 * (its epoch flip), not on our own reading of the clock: a few ms early and a
		 * tick's slices would land in the table of the tick before, two ticks in one, and a
		 * 1 s window would hold eleven. */
		uint32_t epoch = co->sh->cur_epoch;
		shard_sync(co->sh);
		uint64_t now = realtime_ns();
		if (co->sh->cur_epoch != epoch)
			run_ticks(co, now);
		if (now >= co->next_stats_ns) {
			if (co->next_stats_ns)
				collector_print_stats(co, NULL);
			co->next_stats_ns = now + STATS_EVERY_S * 1000000000ULL;
		}
		if (poll(&pfd, 1, 5) <= 0)
			continue;
		for (int i = 0; i < BATCH; i++) {
			iov[i].iov_base = co->buf + (size_t)i * DGRAM_MAX;
			iov[i].iov_len = DGRAM_MAX;
			memset(&msg[i].msg_hdr, 0, sizeof(msg[i].msg_hdr));
			msg[i].msg_hdr.msg_iov = &iov[i];
			msg[i].msg_hdr.msg_iovlen = 1;
			msg[i].msg_hdr.msg_name = &from[i];
			msg[i].msg_hdr.msg_namelen = sizeof(from[i]);
			msg[i].msg_hdr.msg_control = ctl[i];
			msg[i].msg_hdr.msg_controllen = sizeof(ctl[i]);
		}
		int n = recvmmsg(co->fd, msg, BATCH, MSG_DONTWAIT, NULL);
		now = realtime_ns();
		for (int i = 0; i < n; i++) {
			socket_drops(co, &msg[i].msg_hdr);
			if (msg[i].msg_hdr.msg_flags & MSG_TRUNC)
				continue; /* larger than any export format allows: counted below */
			handle(co, iov[i].iov_base, msg[i].msg_len, &from[i], now);
		}
	}
	return NULL;
}

static int open_socket(struct collector *co, char *err, size_t errlen)
{
	const struct capture *c = &co->cap;
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1, zero = 0;

	memset(&ss, 0, sizeof(ss));
	if (c->listen_family == 4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(c->listen_port);
		memcpy(&s4->sin_addr, c->listen_addr.b + 12, 4);
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(c->listen_port);
		memcpy(&s6->sin6_addr, c->listen_addr.b, 16);
		sl = sizeof(*s6);
	}
	co->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (co->fd < 0) {
		snprintf(err, errlen, "%s: socket: %s", c->listen, strerror(errno));
		return -1;
	}
	if (ss.ss_family == AF_INET6) /* [::] takes IPv4 exporters too */
		setsockopt(co->fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	setsockopt(co->fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	/* bursts of exports are normal: a deep receive buffer, forced past rmem_max as root */
	int rcv = 32 << 20;
	if (setsockopt(co->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
		setsockopt(co->fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (bind(co->fd, (struct sockaddr *)&ss, sl) < 0) {
		snprintf(err, errlen, "%s: bind: %s", c->listen, strerror(errno));
		return -1;
	}
	return 0;
}

struct collector *collector_open(const struct capture *cap, const struct conf *c, struct shard *sh,
				 char *err, size_t errlen)
{
	struct collector *co = calloc(1, sizeof(*co));
	uint32_t slots = 16;

	if (!co) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	co->fd = -1;
	co->cap = *cap;
	co->sh = sh;
	co->key = sh->key;
	co->allow_listed_only = c->n_exporters > 0;
	while (slots < (COLLECTOR_MAX_EXPORTERS > c->n_exporters ? COLLECTOR_MAX_EXPORTERS
								 : c->n_exporters) *
			   2)
		slots <<= 1;
	co->exp = calloc(slots, sizeof(*co->exp));
	co->exp_mask = slots - 1;
	co->sp = spreader_new(SPREAD_MAX);
	co->buf = malloc((size_t)BATCH * DGRAM_MAX);
	if (!co->exp || !co->sp || !co->buf) {
		snprintf(err, errlen, "out of memory");
		collector_close(co);
		return NULL;
	}
	for (size_t i = 0; i < c->n_exporters; i++) {
		co->n_exp = 0; /* listed exporters do not count against the limit */
		struct exp_slot *e = exp_find(co, &c->exporters[i].addr, true);
		e->listed = true;
		e->ex.sampling_override = c->exporters[i].sampling;
	}
	co->n_exp = (uint32_t)c->n_exporters;
	if (open_socket(co, err, errlen) < 0) {
		collector_close(co);
		return NULL;
	}
	return co;
}

int collector_start(struct collector *co, char *err, size_t errlen)
{
	int r = pthread_create(&co->thread, NULL, collector_main, co);

	if (r) {
		snprintf(err, errlen, "pthread_create: %s", strerror(r));
		return -1;
	}
	co->started = true;
	pthread_setname_np(co->thread,
			   co->cap.kind == CAPTURE_SFLOW ? "moat-sflow" : "moat-netflow");
	return 0;
}

void collector_print_stats(struct collector *co, FILE *f)
{
	char a[MADDR_STRLEN], line[512];
	uint64_t now = realtime_ns();
	const char *kind = co->cap.kind == CAPTURE_SFLOW ? "sflow" : "netflow";

	snprintf(line, sizeof(line),
		 "%s %s: %llu datagrams, %u exporters, unknown exporter %llu, exporter table full "
		 "%llu, spread now %u (pool full %llu), clock re-anchors %llu, socket drops %llu",
		 kind, co->cap.listen, (unsigned long long)co->st.datagrams, co->n_exp,
		 (unsigned long long)co->st.unknown_exporter,
		 (unsigned long long)co->st.exporters_full, spreader_active(co->sp),
		 (unsigned long long)spreader_full(co->sp), (unsigned long long)co->st.reanchors,
		 (unsigned long long)co->st.socket_drops);
	if (f)
		fprintf(f, "%s\n", line);
	else
		log_info("%s", line);
	for (uint32_t i = 0; i <= co->exp_mask; i++) {
		const struct exp_slot *e = &co->exp[i];
		const struct exporter_stats *s = &e->ex.st;
		if (!e->used || (!s->packets && !s->errors))
			continue;
		snprintf(
		    line, sizeof(line),
		    "%s exporter %s: %llu datagrams, %llu records, %llu templates, %llu errors, "
		    "%llu without template, %llu bad sampling, %llu lost (sequence gaps), %llu "
		    "counter samples, last seen %.1f s ago",
		    kind, maddr_str(&e->ex.addr, a), (unsigned long long)s->packets,
		    (unsigned long long)s->records, (unsigned long long)s->templates,
		    (unsigned long long)s->errors, (unsigned long long)s->no_template,
		    (unsigned long long)s->bad_sampling, (unsigned long long)s->seq_gaps,
		    (unsigned long long)s->counter_samples,
		    s->last_seen_ns ? (double)(now - s->last_seen_ns) / 1e9 : -1.0);
		if (f)
			fprintf(f, "%s\n", line);
		else
			log_info("%s", line);
	}
}

void collector_stop(struct collector *co)
{
	atomic_store(&co->stop, true);
	if (co->started)
		pthread_join(co->thread, NULL);
	co->started = false;
}

void collector_close(struct collector *co)
{
	if (!co)
		return;
	collector_stop(co);
	if (co->fd >= 0)
		close(co->fd);
	for (uint32_t i = 0; co->exp && i <= co->exp_mask; i++)
		if (co->exp[i].used)
			exporter_release(&co->exp[i].ex);
	free(co->exp);
	spreader_free(co->sp);
	free(co->buf);
	free(co);
}

const struct collector_stats *collector_stats(const struct collector *co)
{
	return &co->st;
}

const char *collector_kind(const struct collector *co)
{
	return co->cap.kind == CAPTURE_SFLOW ? "sflow" : "netflow";
}

const char *collector_listen(const struct collector *co)
{
	return co->cap.listen;
}

void collector_each(struct collector *co,
		    void (*fn)(void *arg, const char *kind, const char *listen,
			       const struct maddr *addr, const struct exporter_stats *st),
		    void *arg)
{
	for (uint32_t i = 0; i <= co->exp_mask; i++) {
		const struct exp_slot *e = &co->exp[i];
		if (e->used && (e->ex.st.packets || e->ex.st.errors))
			fn(arg, collector_kind(co), co->cap.listen, &e->ex.addr, &e->ex.st);
	}
}

void collector_json(struct collector *co, struct json *j)
{
	char a[MADDR_STRLEN];
	uint64_t now = realtime_ns();
	static const char *const names[] = {
	    "datagrams",     "records",	     "templates", "errors",	     "no_template",
	    "template_full", "bad_sampling", "lost",	  "counter_samples", "ignored"};

	json_obj(j);
	json_key(j, "kind");
	json_str(j, collector_kind(co));
	json_key(j, "listen");
	json_str(j, co->cap.listen);
	json_key(j, "datagrams");
	json_u64(j, co->st.datagrams);
	json_key(j, "unknown_exporter");
	json_u64(j, co->st.unknown_exporter);
	json_key(j, "exporters_full");
	json_u64(j, co->st.exporters_full);
	json_key(j, "spread_full");
	json_u64(j, spreader_full(co->sp));
	json_key(j, "reanchors");
	json_u64(j, co->st.reanchors);
	json_key(j, "socket_drops");
	json_u64(j, co->st.socket_drops);
	json_key(j, "exporters");
	json_arr(j);
	for (uint32_t i = 0; i <= co->exp_mask; i++) {
		const struct exp_slot *e = &co->exp[i];
		const struct exporter_stats *s = &e->ex.st;
		if (!e->used || (!s->packets && !s->errors && !e->listed))
			continue;
		const uint64_t v[] = {s->packets,      s->records,     s->templates,
				      s->errors,       s->no_template, s->template_full,
				      s->bad_sampling, s->seq_gaps,    s->counter_samples,
				      s->ignored};
		json_obj(j);
		json_key(j, "address");
		json_str(j, maddr_str(&e->ex.addr, a));
		json_key(j, "listed");
		json_bool(j, e->listed);
		for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
			json_key(j, names[k]);
			json_u64(j, v[k]);
		}
		json_key(j, "idle"); /* seconds since its last datagram */
		if (s->last_seen_ns)
			json_dbl(j, (double)(now - s->last_seen_ns) / 1e9, 1);
		else
			json_null(j);
		json_end(j);
	}
	json_aend(j);
	json_end(j);
}
