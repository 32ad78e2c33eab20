/* speaker: the BGP-4 session layer of moatd (see speaker.h). One thread, one recursive mutex held
 * by that thread whenever it touches state (never across poll()), so the thread-safe calls and
 * the event callback can take it too. */
#include "bgp/speaker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"

#define NS	      1000000000ull
#define MAX_ROUTES    (1u << 20)
#define MAX_OPS	      (1u << 21)
#define OUT_MAX	      (64u << 20) /* per peer output backlog before the session is dropped */
#define EV_IDS	      64
#define OPEN_HOLD_S   240 /* hold timer while waiting for the OPEN (RFC 4271 8) */
#define CONNECT_TMO_S 10
#define BACKOFF_MAX_S 60
#define SHUTDOWN_TEXT "moatd shutting down"

enum pstate { S_IDLE, S_CONNECT, S_ACTIVE, S_OPENSENT, S_OPENCONFIRM, S_ESTABLISHED };
static const char *const state_names[] = {"idle",     "connect",     "active",
					  "opensent", "openconfirm", "established"};

/* the attributes of a route, zero-padded so that memcmp compares them */
struct akey {
	struct maddr nh;
	uint32_t n_comm;
	uint32_t comm[16];
	uint32_t n_large;
	struct bgp_large_comm large[8];
	uint32_t n_ext;
	uint32_t pad;
	uint64_t ext[4];
};

struct rt {
	uint64_t id;
	struct bgp_route r;
	struct fs_rule *fs; /* flowspec: owned copy, r.fs points to it */
	struct akey a;
	uint64_t mask; /* peers it is announced to */
	bool queued;   /* an announce op is pending */
	bool only_nofs;
};

/* whether peer p (Established) takes route r */
static bool wants(const struct bgp_caps *c, const struct rt *r)
{
	int fs = r->r.family == BGP_IPV4_UNICAST ? BGP_IPV4_FLOWSPEC : BGP_IPV6_FLOWSPEC;

	if (!(c->families & BGP_FAM_BIT(r->r.family)))
		return false;
	return !(r->only_nofs && (c->families & BGP_FAM_BIT(fs)));
}

enum { OP_ANN, OP_WD };
struct op {
	int kind;
	uint64_t id;   /* OP_ANN: looked up when processed */
	struct rt *wd; /* OP_WD: detached from the RIB, owned by the op */
};

struct pend_ev {
	uint64_t end; /* output offset (since session start) after the UPDATE's last byte */
	bool withdraw;
	uint8_t family;
	uint32_t n, nids;
	uint64_t ids[EV_IDS];
};

struct peer {
	struct bgp_peer_conf c;
	int idx;
	char name[MADDR_STRLEN];
	enum pstate state;
	int fd;
	bool outgoing;
	uint64_t retry_at, hold_at, ka_at, up_mono, up_real;
	unsigned backoff;
	uint32_t known_id; /* from the last OPEN, for collision resolution */
	uint8_t in[2 * BGP_MAX_LEN];
	size_t in_len;
	uint8_t *out;
	size_t out_len, out_off, out_cap;
	uint64_t out_written, out_queued; /* totals since the session started */
	struct pend_ev *ev;
	size_t ev_head, ev_n, ev_cap;
	struct bgp_open mine;
	struct bgp_caps caps;
	uint64_t upd_sent, upd_recv, notif_sent, notif_recv, attempts;
	char last_error[300];
};

struct bgp_speaker {
	struct bgp_speaker_conf c;
	struct peer *peers;
	size_t n_peers;
	bgp_event_fn fn;
	void *arg;
	pthread_mutex_t mu;
	pthread_t thr;
	bool started, stop, stop_withdraw;
	int wake_fd, lfd;
	/* Adj-RIB-Out: array + open-addressing index of positions by id */
	struct rt **rib;
	size_t n_rib, cap_rib;
	uint32_t *hidx;
	unsigned hbits;
	struct op *ops;
	size_t n_ops, cap_ops;
};

/* ---- small helpers ---------------------------------------------------------------------------
 */

static void errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static socklen_t to_sockaddr(const struct maddr *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (maddr_is_v4(a)) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, a->b + 12, 4);
		return sizeof(*s4);
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	memcpy(&s6->sin6_addr, a->b, 16);
	return sizeof(*s6);
}

static void from_sockaddr(const struct sockaddr_storage *ss, struct maddr *a)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET)
		maddr_from_v4(a, (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr);
	else
		memcpy(a->b, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
}

static bool maddr_unspec(const struct maddr *a)
{
	static const struct maddr z;
	struct maddr v4z;
	static const uint8_t zero4[4];

	maddr_from_v4(&v4z, zero4);
	return maddr_eq(a, &z) || maddr_eq(a, &v4z);
}

/* key for addr on socket fd (family fam of the socket) */
static int set_md5(int fd, int fam, const struct maddr *addr, const char *key)
{
	struct tcp_md5sig m;
	struct sockaddr_storage ss;

	memset(&m, 0, sizeof(m));
	if (fam == AF_INET6 && maddr_is_v4(addr)) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		memset(&ss, 0, sizeof(ss));
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, addr->b, 16);
	} else {
		to_sockaddr(addr, 0, &ss);
	}
	memcpy(&m.tcpm_addr, &ss, sizeof(ss));
	m.tcpm_keylen = (uint16_t)strlen(key);
	memcpy(m.tcpm_key, key, m.tcpm_keylen);
	return setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &m, sizeof(m));
}

static void wake(struct bgp_speaker *s)
{
	uint64_t one = 1;
	ssize_t r = write(s->wake_fd, &one, sizeof(one));
	(void)r;
}

static void emit(struct bgp_speaker *s, struct json *j)
{
	if (s->fn && !j->oom)
		s->fn(s->arg, j->buf, j->len);
	json_free(j);
}

/* ---- Adj-RIB-Out index -------------------------------------------------------------------------
 */

static size_t h_home(const struct bgp_speaker *s, uint64_t id)
{
	return (size_t)((id * 0x9E3779B97F4A7C15ull) >> (64 - s->hbits));
}

/* slot holding id, or the empty slot where it would go (*found false) */
static size_t h_find(const struct bgp_speaker *s, uint64_t id, bool *found)
{
	size_t mask = ((size_t)1 << s->hbits) - 1, i = h_home(s, id);

	while (s->hidx[i] != UINT32_MAX) {
		if (s->rib[s->hidx[i]]->id == id) {
			*found = true;
			return i;
		}
		i = (i + 1) & mask;
	}
	*found = false;
	return i;
}

static int h_rebuild(struct bgp_speaker *s, unsigned bits)
{
	uint32_t *h = malloc(sizeof(*h) << bits);
	bool f;

	if (!h)
		return -1;
	memset(h, 0xff, sizeof(*h) << bits);
	free(s->hidx);
	s->hidx = h;
	s->hbits = bits;
	for (size_t k = 0; k < s->n_rib; k++)
		s->hidx[h_find(s, s->rib[k]->id, &f)] = (uint32_t)k;
	return 0;
}

static void h_delete(struct bgp_speaker *s, size_t i)
{
	size_t mask = ((size_t)1 << s->hbits) - 1, j = i, k;

	for (;;) {
		j = (j + 1) & mask;
		if (s->hidx[j] == UINT32_MAX)
			break;
		k = h_home(s, s->rib[s->hidx[j]]->id);
		/* move j back to i unless its home lies cyclically in (i, j] */
		if ((i <= j) ? (k <= i || k > j) : (k <= i && k > j)) {
			s->hidx[i] = s->hidx[j];
			i = j;
		}
	}
	s->hidx[i] = UINT32_MAX;
}

static struct rt *rib_get(struct bgp_speaker *s, uint64_t id)
{
	bool f;
	size_t i = h_find(s, id, &f);
	return f ? s->rib[s->hidx[i]] : NULL;
}

/* removes id from the RIB and returns it (not freed) */
static struct rt *rib_detach(struct bgp_speaker *s, uint64_t id)
{
	bool f;
	size_t i = h_find(s, id, &f), pos;
	struct rt *r;

	if (!f)
		return NULL;
	pos = s->hidx[i];
	r = s->rib[pos];
	h_delete(s, i);
	if (pos != s->n_rib - 1) {
		s->rib[pos] = s->rib[s->n_rib - 1];
		s->hidx[h_find(s, s->rib[pos]->id, &f)] = (uint32_t)pos;
	}
	s->n_rib--;
	return r;
}

static void rt_free(struct rt *r)
{
	if (r) {
		free(r->fs);
		free(r);
	}
}

static int op_push(struct bgp_speaker *s, int kind, uint64_t id, struct rt *wd)
{
	if (s->n_ops == s->cap_ops) {
		size_t nc = s->cap_ops ? s->cap_ops * 2 : 256;
		struct op *n;
		if (nc > MAX_OPS)
			return -ENOSPC;
		n = realloc(s->ops, nc * sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->ops = n;
		s->cap_ops = nc;
	}
	s->ops[s->n_ops++] = (struct op){kind, id, wd};
	return 0;
}

static bool same_nlri(const struct rt *a, const struct rt *b)
{
	if (a->r.family != b->r.family)
		return false;
	if (a->fs || b->fs)
		return a->fs && b->fs && fs_rule_eq(a->fs, b->fs);
	return a->r.len == b->r.len && maddr_eq(&a->r.prefix, &b->r.prefix);
}

static bool is_flowspec(int fam)
{
	return fam == BGP_IPV4_FLOWSPEC || fam == BGP_IPV6_FLOWSPEC;
}

static void route_text(const struct rt *r, char *buf, size_t n)
{
	if (r->fs)
		fs_format(r->fs, buf, n);
	else
		prefix_str(&r->r.prefix, r->r.len + (r->r.family == BGP_IPV4_UNICAST ? 96 : 0), buf,
			   n);
}

/* ---- output ------------------------------------------------------------------------------------
 */

static void close_session(struct bgp_speaker *s, struct peer *p, const char *reason,
			  const struct bgp_err *notif);

static int out_append(struct peer *p, const uint8_t *b, size_t n)
{
	if (p->out_off && p->out_off == p->out_len)
		p->out_off = p->out_len = 0;
	if (p->out_len + n > p->out_cap) {
		if (p->out_off) {
			memmove(p->out, p->out + p->out_off, p->out_len - p->out_off);
			p->out_len -= p->out_off;
			p->out_off = 0;
		}
		if (p->out_len + n > p->out_cap) {
			size_t nc = p->out_cap ? p->out_cap : 16384;
			uint8_t *nb;
			while (nc < p->out_len + n)
				nc *= 2;
			if (nc > OUT_MAX)
				return -1;
			nb = realloc(p->out, nc);
			if (!nb)
				return -1;
			p->out = nb;
			p->out_cap = nc;
		}
	}
	memcpy(p->out + p->out_len, b, n);
	p->out_len += n;
	p->out_queued += n;
	return 0;
}

static void emit_sent(struct bgp_speaker *s, struct peer *p, uint64_t now)
{
	while (p->ev_head < p->ev_n && p->ev[p->ev_head].end <= p->out_written) {
		struct pend_ev *e = &p->ev[p->ev_head++];
		struct json j;

		json_init(&j);
		json_obj(&j);
		json_key(&j, "event");
		json_str(&j, "bgp_update_sent");
		json_key(&j, "peer");
		json_str(&j, p->name);
		json_key(&j, "family");
		json_str(&j, bgp_family_name(e->family));
		json_key(&j, "withdraw");
		json_bool(&j, e->withdraw);
		json_key(&j, "ids");
		json_arr(&j);
		for (uint32_t k = 0; k < e->nids; k++)
			json_u64(&j, e->ids[k]);
		json_aend(&j);
		json_key(&j, "routes");
		json_u64(&j, e->n);
		json_key(&j, "mono_ns");
		json_u64(&j, now);
		json_end(&j);
		emit(s, &j);
	}
	if (p->ev_head == p->ev_n)
		p->ev_head = p->ev_n = 0;
}

/* writes what it can; -1 if the session was closed */
static int flush(struct bgp_speaker *s, struct peer *p)
{
	while (p->fd >= 0 && p->out_off < p->out_len) {
		ssize_t w = send(p->fd, p->out + p->out_off, p->out_len - p->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			char why[128];
			snprintf(why, sizeof(why), "write: %s", strerror(errno));
			close_session(s, p, why, NULL);
			return -1;
		}
		p->out_off += (size_t)w;
		p->out_written += (uint64_t)w;
		if (p->ev_n > p->ev_head)
			emit_sent(s, p, mono_ns());
	}
	return 0;
}

/* queues a message; -1 if the session had to be closed */
static int send_msg(struct bgp_speaker *s, struct peer *p, const uint8_t *m, int len)
{
	if (len < 0)
		return 0;
	if (out_append(p, m, (size_t)len) < 0) {
		close_session(s, p, "output buffer full", NULL);
		return -1;
	}
	log_debug("bgp %s: sent %s (%d bytes)", p->name, bgp_type_name(m[18]), len);
	return 0;
}

static struct bgp_attrs attrs_of(const struct bgp_speaker *s, const struct peer *p,
				 const struct rt *r)
{
	struct bgp_attrs a;

	memset(&a, 0, sizeof(a));
	a.my_as = s->c.local_as;
	a.ibgp = p->c.remote_as == s->c.local_as;
	a.as4 = p->caps.as4;
	a.local_pref = 100;
	a.nexthop = r->a.nh;
	a.comm = r->a.comm;
	a.n_comm = r->a.n_comm;
	a.large = r->a.large;
	a.n_large = r->a.n_large;
	a.ext = r->a.ext;
	a.n_ext = r->a.n_ext;
	return a;
}

/* announces or withdraws rts[0..n) (one family, same attributes) to p in as many UPDATEs as it
 * takes; -1 if the session was closed */
static int send_routes(struct bgp_speaker *s, struct peer *p, bool withdraw, struct rt **rts,
		       size_t n)
{
	struct bgp_route routes[1024]; /* more than fit in one UPDATE but for /0s */
	uint8_t buf[BGP_MAX_LEN];
	struct bgp_attrs a = attrs_of(s, p, rts[0]);
	size_t i = 0;

	while (i < n) {
		size_t k = n - i < 1024 ? n - i : 1024, done = 0;
		for (size_t q = 0; q < k; q++)
			routes[q] = rts[i + q]->r;
		int len = bgp_update_encode(buf, sizeof(buf), withdraw, &a, routes, k, &done);
		if (len < 0 || !done) {
			log_warn("bgp %s: cannot encode route %llu", p->name,
				 (unsigned long long)rts[i]->id);
			i++;
			continue;
		}
		if (send_msg(s, p, buf, len) < 0)
			return -1;
		p->upd_sent++;
		if (p->ev_n == p->ev_cap) {
			size_t nc = p->ev_cap ? p->ev_cap * 2 : 16;
			struct pend_ev *ne = realloc(p->ev, nc * sizeof(*ne));
			if (!ne) {
				close_session(s, p, "out of memory", NULL);
				return -1;
			}
			p->ev = ne;
			p->ev_cap = nc;
		}
		struct pend_ev *e = &p->ev[p->ev_n++];
		e->end = p->out_queued;
		e->withdraw = withdraw;
		e->family = rts[i]->r.family;
		e->n = (uint32_t)done;
		e->nids = done < EV_IDS ? (uint32_t)done : EV_IDS;
		for (uint32_t q = 0; q < e->nids; q++)
			e->ids[q] = rts[i + q]->id;
		if (withdraw)
			for (size_t q = 0; q < done; q++)
				rts[i + q]->mask &= ~(1ull << p->idx);
		else
			for (size_t q = 0; q < done; q++)
				rts[i + q]->mask |= 1ull << p->idx;
		i += done;
	}
	return flush(s, p);
}

static int cmp_rt(const void *x, const void *y)
{
	const struct rt *a = *(struct rt *const *)x, *b = *(struct rt *const *)y;
	return memcmp(&a->a, &b->a, sizeof(a->a));
}

/* sends rts[0..n) grouped by attributes; all of one family */
static int send_grouped(struct bgp_speaker *s, struct peer *p, bool withdraw, struct rt **rts,
			size_t n)
{
	size_t i = 0, j;

	if (!withdraw)
		qsort(rts, n, sizeof(*rts), cmp_rt);
	while (i < n) {
		for (j = i + 1; j < n && (withdraw || cmp_rt(&rts[i], &rts[j]) == 0); j++)
			;
		if (send_routes(s, p, withdraw, rts + i, j - i) < 0)
			return -1;
		i = j;
	}
	return 0;
}

/* the whole table of family f (routes announced to p), then End-of-RIB */
static int send_table(struct bgp_speaker *s, struct peer *p, int f, bool eor)
{
	struct rt **v = malloc((s->n_rib + 1) * sizeof(*v));
	size_t n = 0;
	uint8_t buf[64];
	int r = 0;

	if (!v) {
		close_session(s, p, "out of memory", NULL);
		return -1;
	}
	for (size_t k = 0; k < s->n_rib; k++)
		if (s->rib[k]->r.family == f && wants(&p->caps, s->rib[k]))
			v[n++] = s->rib[k];
	if (n)
		r = send_grouped(s, p, false, v, n);
	free(v);
	if (r == 0 && eor) {
		int len = bgp_eor_encode(buf, sizeof(buf), (enum bgp_family)f);
		r = send_msg(s, p, buf, len);
		if (r == 0)
			r = flush(s, p);
	}
	return r;
}

/* ---- sessions ----------------------------------------------------------------------------------
 */

static void reset_io(struct peer *p)
{
	p->in_len = 0;
	p->out_len = p->out_off = 0;
	p->out_written = p->out_queued = 0;
	p->ev_head = p->ev_n = 0;
}

static void clear_mask(struct bgp_speaker *s, struct peer *p)
{
	uint64_t m = ~(1ull << p->idx);
	for (size_t k = 0; k < s->n_rib; k++)
		s->rib[k]->mask &= m;
	for (size_t k = 0; k < s->n_ops; k++)
		if (s->ops[k].wd)
			s->ops[k].wd->mask &= m;
}

/* best effort: push out what is buffered (a NOTIFICATION last) with a short wait */
static void drain_out(struct bgp_speaker *s, struct peer *p, int ms)
{
	uint64_t end = mono_ns() + (uint64_t)ms * 1000000ull;

	while (p->fd >= 0 && p->out_off < p->out_len) {
		ssize_t w = send(p->fd, p->out + p->out_off, p->out_len - p->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			p->out_off += (size_t)w;
			p->out_written += (uint64_t)w;
			emit_sent(s, p, mono_ns());
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			break;
		uint64_t now = mono_ns();
		if (now >= end)
			break;
		struct pollfd pfd = {p->fd, POLLOUT, 0};
		poll(&pfd, 1, (int)((end - now) / 1000000ull) + 1);
	}
}

/* closes p's connection (sending notif first if given) and schedules the next attempt */
static void close_session(struct bgp_speaker *s, struct peer *p, const char *reason,
			  const struct bgp_err *notif)
{
	uint64_t now = mono_ns();
	bool was_up = p->state == S_ESTABLISHED;

	if (p->fd < 0)
		return;
	if (notif) {
		uint8_t buf[BGP_MAX_LEN];
		int len = bgp_notification_encode_err(buf, sizeof(buf), notif);
		/* drop unsent UPDATEs: the NOTIFICATION is what matters now */
		if (p->out_off < p->out_len && p->state != S_ESTABLISHED)
			p->out_len = p->out_off;
		if (len > 0 && out_append(p, buf, (size_t)len) == 0) {
			p->notif_sent++;
			drain_out(s, p, 200);
		}
		log_info("bgp %s: sent NOTIFICATION %u/%u %s%s%s", p->name, notif->code,
			 notif->subcode, bgp_err_name(notif->code),
			 *bgp_suberr_name(notif->code, notif->subcode) ? " / " : "",
			 bgp_suberr_name(notif->code, notif->subcode));
	}
	close(p->fd);
	p->fd = -1;
	snprintf(p->last_error, sizeof(p->last_error), "%s", reason);
	reset_io(p);
	p->state = S_ACTIVE;
	p->hold_at = p->ka_at = 0;
	p->retry_at = now + (uint64_t)p->backoff * NS;
	p->backoff = p->backoff * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : p->backoff * 2;
	if (was_up) {
		struct json j;

		clear_mask(s, p);
		log_info("bgp %s: session down: %s", p->name, reason);
		json_init(&j);
		json_obj(&j);
		json_key(&j, "event");
		json_str(&j, "bgp_peer_down");
		json_key(&j, "peer");
		json_str(&j, p->name);
		json_key(&j, "reason");
		json_str(&j, reason);
		json_end(&j);
		emit(s, &j);
	} else {
		log_info("bgp %s: connection closed: %s", p->name, reason);
	}
}

static void fail(struct bgp_speaker *s, struct peer *p, const struct bgp_err *e, const char *what)
{
	char why[300];
	const char *sub = bgp_suberr_name(e->code, e->subcode);

	snprintf(why, sizeof(why), "%s: sent %u/%u %s%s%s", what, e->code, e->subcode,
		 bgp_err_name(e->code), *sub ? " / " : "", sub);
	close_session(s, p, why, e);
}

static void fail_code(struct bgp_speaker *s, struct peer *p, uint8_t code, uint8_t sub,
		      const char *what)
{
	struct bgp_err e;

	memset(&e, 0, sizeof(e));
	e.code = code;
	e.subcode = sub;
	fail(s, p, &e, what);
}

static void send_open(struct bgp_speaker *s, struct peer *p)
{
	uint8_t buf[BGP_MAX_LEN];
	unsigned fams = p->c.families ? p->c.families : BGP_FAM_ALL;

	bgp_open_init(&p->mine, s->c.local_as, (uint16_t)p->c.hold_time, s->c.router_id, fams);
	if (send_msg(s, p, buf, bgp_open_encode(buf, sizeof(buf), &p->mine)) < 0)
		return;
	p->state = S_OPENSENT;
	p->hold_at = mono_ns() + OPEN_HOLD_S * NS;
	flush(s, p);
}

static void adopt(struct bgp_speaker *s, struct peer *p, int fd, bool outgoing)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	p->fd = fd;
	p->outgoing = outgoing;
	p->attempts++;
	reset_io(p);
}

static void start_connect(struct bgp_speaker *s, struct peer *p, uint64_t now)
{
	struct sockaddr_storage ss, ls;
	socklen_t sl = to_sockaddr(&p->c.addr, p->c.port, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	char why[200];

	if (fd < 0) {
		snprintf(why, sizeof(why), "socket: %s", strerror(errno));
		goto fail;
	}
	if (p->c.md5[0] && set_md5(fd, ss.ss_family, &p->c.addr, p->c.md5) < 0) {
		snprintf(why, sizeof(why), "TCP_MD5SIG: %s", strerror(errno));
		goto fail;
	}
	if (!maddr_unspec(&s->c.listen_addr) &&
	    maddr_is_v4(&s->c.listen_addr) == maddr_is_v4(&p->c.addr)) {
		socklen_t ll = to_sockaddr(&s->c.listen_addr, 0, &ls);
		if (bind(fd, (struct sockaddr *)&ls, ll) < 0) {
			snprintf(why, sizeof(why), "bind: %s", strerror(errno));
			goto fail;
		}
	}
	adopt(s, p, fd, true);
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		p->state = S_CONNECT;
		close_session(s, p, why, NULL);
		return;
	}
	log_debug("bgp %s: connecting to port %u", p->name, p->c.port);
	p->state = S_CONNECT;
	p->hold_at = now + CONNECT_TMO_S * NS;
	return;
fail:
	if (fd >= 0)
		close(fd);
	snprintf(p->last_error, sizeof(p->last_error), "%s", why);
	log_warn("bgp %s: %s", p->name, why);
	p->retry_at = now + (uint64_t)p->backoff * NS;
	p->backoff = p->backoff * 2 > BACKOFF_MAX_S ? BACKOFF_MAX_S : p->backoff * 2;
}

static void established(struct bgp_speaker *s, struct peer *p)
{
	struct json j;
	char fams[128] = "";

	p->state = S_ESTABLISHED;
	p->backoff = 1;
	p->up_mono = mono_ns();
	p->up_real = realtime_ns();
	p->last_error[0] = 0;
	for (int f = 0; f < BGP_NFAMILIES; f++)
		if (p->caps.families & BGP_FAM_BIT(f))
			snprintf(fams + strlen(fams), sizeof(fams) - strlen(fams), "%s%s",
				 fams[0] ? "," : "", bgp_family_name(f));
	log_info("bgp %s: session established (AS %u, id %u.%u.%u.%u, hold %u, families %s)",
		 p->name, p->caps.peer_as, p->caps.peer_id >> 24, p->caps.peer_id >> 16 & 255,
		 p->caps.peer_id >> 8 & 255, p->caps.peer_id & 255, p->caps.hold_time, fams);
	json_init(&j);
	json_obj(&j);
	json_key(&j, "event");
	json_str(&j, "bgp_peer_up");
	json_key(&j, "peer");
	json_str(&j, p->name);
	json_key(&j, "remote_as");
	json_u64(&j, p->caps.peer_as);
	json_key(&j, "families");
	json_arr(&j);
	for (int f = 0; f < BGP_NFAMILIES; f++)
		if (p->caps.families & BGP_FAM_BIT(f))
			json_str(&j, bgp_family_name(f));
	json_aend(&j);
	json_key(&j, "hold_time");
	json_u64(&j, p->caps.hold_time);
	json_end(&j);
	emit(s, &j);
	for (int f = 0; f < BGP_NFAMILIES && p->fd >= 0; f++)
		if (p->caps.families & BGP_FAM_BIT(f))
			if (send_table(s, p, f, true) < 0)
				return;
}

/* one whole message from the peer */
static void on_msg(struct bgp_speaker *s, struct peer *p, const uint8_t *msg, size_t len)
{
	struct bgp_parse_ctx ctx = {p->c.remote_as, p->caps.as4, false};
	struct bgp_msg m;
	struct bgp_err e;
	uint64_t now = mono_ns();
	uint8_t buf[64];

	if (bgp_parse(msg, len, &ctx, &m, &e) < 0) {
		char what[64];
		snprintf(what, sizeof(what), "bad %s from peer", bgp_type_name(msg[18]));
		fail(s, p, &e, what);
		return;
	}
	log_debug("bgp %s: received %s (%zu bytes)", p->name, bgp_type_name(m.type), len);
	if (m.type == BGP_NOTIFICATION) {
		char why[600];
		const char *sub = bgp_suberr_name(m.u.notif.code, m.u.notif.subcode);
		p->notif_recv++;
		snprintf(why, sizeof(why), "received NOTIFICATION %u/%u %s%s%s%s%s%s",
			 m.u.notif.code, m.u.notif.subcode, bgp_err_name(m.u.notif.code),
			 *sub ? " / " : "", sub, m.u.notif.has_text ? ": \"" : "",
			 m.u.notif.has_text ? m.u.notif.text : "", m.u.notif.has_text ? "\"" : "");
		close_session(s, p, why, NULL);
		return;
	}
	switch (p->state) {
	case S_OPENSENT:
		if (m.type != BGP_OPEN) {
			fail_code(s, p, BGP_ERR_FSM, 1, "unexpected message in OpenSent");
			return;
		}
		if (m.u.open.bgp_id == s->c.router_id) {
			fail_code(s, p, BGP_ERR_OPEN, BGP_OPEN_BAD_BGP_ID,
				  "peer uses our BGP identifier");
			return;
		}
		bgp_negotiate(&p->mine, &m.u.open, &p->caps);
		p->known_id = p->caps.peer_id;
		if (send_msg(s, p, buf, bgp_keepalive_encode(buf, sizeof(buf))) < 0)
			return;
		p->state = S_OPENCONFIRM;
		p->hold_at = p->caps.hold_time ? now + p->caps.hold_time * NS : 0;
		p->ka_at = p->caps.keepalive ? now + p->caps.keepalive * NS : 0;
		flush(s, p);
		return;
	case S_OPENCONFIRM:
		if (m.type != BGP_KEEPALIVE) {
			fail_code(s, p, BGP_ERR_FSM, 2, "unexpected message in OpenConfirm");
			return;
		}
		if (p->caps.hold_time)
			p->hold_at = now + p->caps.hold_time * NS;
		established(s, p);
		return;
	case S_ESTABLISHED:
		if (p->caps.hold_time)
			p->hold_at = now + p->caps.hold_time * NS;
		if (m.type == BGP_OPEN) {
			fail_code(s, p, BGP_ERR_FSM, 3, "OPEN in Established");
			return;
		}
		if (m.type == BGP_UPDATE) {
			p->upd_recv++;
			if (m.u.update.withdraw_code)
				log_debug("bgp %s: UPDATE treated as withdraw (%u/%u)", p->name,
					  m.u.update.withdraw_code, m.u.update.withdraw_subcode);
		} else if (m.type == BGP_ROUTE_REFRESH) {
			int f = m.u.rr.family;
			if (f >= 0 && (p->caps.families & BGP_FAM_BIT(f)))
				send_table(s, p, f, true);
		}
		return;
	default:
		return;
	}
}

static void on_readable(struct bgp_speaker *s, struct peer *p)
{
	for (;;) {
		ssize_t r = recv(p->fd, p->in + p->in_len, sizeof(p->in) - p->in_len, MSG_DONTWAIT);
		if (r == 0) {
			close_session(s, p, "connection closed by peer", NULL);
			return;
		}
		if (r < 0) {
			char why[128];
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			snprintf(why, sizeof(why), "read: %s", strerror(errno));
			close_session(s, p, why, NULL);
			return;
		}
		p->in_len += (size_t)r;
		size_t off = 0, ml;
		struct bgp_err e;
		for (;;) {
			int fr = bgp_frame(p->in + off, p->in_len - off, &ml, &e);
			if (fr < 0) {
				fail(s, p, &e, "bad message header from peer");
				return;
			}
			if (fr == 0)
				break;
			on_msg(s, p, p->in + off, ml);
			if (p->fd < 0)
				return;
			off += ml;
		}
		memmove(p->in, p->in + off, p->in_len - off);
		p->in_len -= off;
	}
}

static void on_connected(struct bgp_speaker *s, struct peer *p)
{
	int err = 0;
	socklen_t el = sizeof(err);
	char why[160];

	getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &el);
	if (err) {
		snprintf(why, sizeof(why), "connect: %s", strerror(err));
		close_session(s, p, why, NULL);
		return;
	}
	log_debug("bgp %s: connected", p->name);
	send_open(s, p);
}

static void on_accept(struct bgp_speaker *s)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = accept4(s->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
	struct maddr a;
	struct peer *p = NULL;
	char name[MADDR_STRLEN];
	uint8_t buf[64];

	if (fd < 0)
		return;
	from_sockaddr(&ss, &a);
	for (size_t k = 0; k < s->n_peers; k++)
		if (maddr_eq(&s->peers[k].c.addr, &a)) {
			p = &s->peers[k];
			break;
		}
	if (!p) {
		log_info("bgp: refused connection from unknown %s", maddr_str(&a, name));
		close(fd);
		return;
	}
	if (p->fd >= 0) {
		/* collision (see speaker.h) */
		bool keep_existing =
		    p->state == S_ESTABLISHED || (p->known_id && s->c.router_id > p->known_id);
		if (keep_existing) {
			int len = bgp_notification_encode(buf, sizeof(buf), BGP_ERR_CEASE,
							  BGP_CEASE_COLLISION, NULL, 0);
			log_info("bgp %s: connection collision: keeping the %s connection", p->name,
				 state_names[p->state]);
			ssize_t w = send(fd, buf, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
			(void)w;
			close(fd);
			return;
		}
		log_info("bgp %s: connection collision: keeping the incoming connection", p->name);
		if (p->state >= S_OPENSENT)
			fail_code(s, p, BGP_ERR_CEASE, BGP_CEASE_COLLISION, "connection collision");
		else
			close_session(s, p, "connection collision", NULL);
	}
	log_debug("bgp %s: incoming connection", p->name);
	adopt(s, p, fd, false);
	send_open(s, p);
}

static void timers(struct bgp_speaker *s, uint64_t now)
{
	uint8_t buf[64];

	for (size_t k = 0; k < s->n_peers; k++) {
		struct peer *p = &s->peers[k];
		if (p->fd < 0) {
			if (!p->c.passive && now >= p->retry_at)
				start_connect(s, p, now);
			continue;
		}
		if (p->hold_at && now >= p->hold_at) {
			if (p->state == S_CONNECT)
				close_session(s, p, "connect: timed out", NULL);
			else
				fail_code(s, p, BGP_ERR_HOLD_TIMER, 0, "hold timer expired");
			continue;
		}
		if (p->ka_at && now >= p->ka_at &&
		    (p->state == S_OPENCONFIRM || p->state == S_ESTABLISHED)) {
			p->ka_at = now + p->caps.keepalive * NS;
			if (send_msg(s, p, buf, bgp_keepalive_encode(buf, sizeof(buf))) == 0)
				flush(s, p);
		}
	}
}

static uint64_t next_deadline(const struct bgp_speaker *s)
{
	uint64_t d = UINT64_MAX;

	for (size_t k = 0; k < s->n_peers; k++) {
		const struct peer *p = &s->peers[k];
		if (p->fd < 0) {
			if (!p->c.passive && p->retry_at < d)
				d = p->retry_at;
			continue;
		}
		if (p->hold_at && p->hold_at < d)
			d = p->hold_at;
		if (p->ka_at && p->ka_at < d)
			d = p->ka_at;
	}
	return d;
}

/* sends the queued announcements and withdrawals to every Established peer */
static void process_ops(struct bgp_speaker *s)
{
	struct op *ops = s->ops;
	size_t n = s->n_ops;
	struct rt **rts, **run;

	if (!n)
		return;
	s->ops = NULL;
	s->n_ops = s->cap_ops = 0;
	rts = calloc(n, sizeof(*rts));
	run = calloc(n, sizeof(*run));
	if (!rts || !run) {
		log_err("bgp: out of memory sending routes");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (ops[i].kind == OP_WD) {
			rts[i] = ops[i].wd;
		} else {
			rts[i] = rib_get(s, ops[i].id);
			if (rts[i] && !rts[i]->queued)
				rts[i] = NULL; /* an earlier op of this batch covered it */
			if (rts[i])
				rts[i]->queued = false;
		}
	}
	for (size_t k = 0; k < s->n_peers; k++) {
		struct peer *p = &s->peers[k];
		uint64_t bit = 1ull << p->idx;
		size_t i = 0;

		while (i < n && p->state == S_ESTABLISHED) {
			bool wd = ops[i].kind == OP_WD;
			size_t m = 0;
			int fam = -1;
			for (; i < n; i++) {
				struct rt *r = rts[i];
				bool owd = ops[i].kind == OP_WD;
				if (!r || (owd ? !(r->mask & bit) : !wants(&p->caps, r)))
					continue;
				if (owd != wd)
					break;
				if (fam < 0)
					fam = r->r.family;
				else if (r->r.family != fam ||
					 (!wd && memcmp(&r->a, &run[0]->a, sizeof(r->a))))
					break;
				run[m++] = r;
			}
			if (m && send_routes(s, p, wd, run, m) < 0)
				break;
		}
	}
out:
	for (size_t i = 0; i < n; i++)
		if (ops[i].kind == OP_WD)
			rt_free(ops[i].wd);
	free(ops);
	free(rts);
	free(run);
}

static void shutdown_all(struct bgp_speaker *s)
{
	uint8_t buf[BGP_MAX_LEN];

	process_ops(s);
	for (size_t k = 0; k < s->n_peers; k++) {
		struct peer *p = &s->peers[k];
		if (p->fd < 0)
			continue;
		if (s->stop_withdraw && p->state == S_ESTABLISHED) {
			for (int f = 0; f < BGP_NFAMILIES && p->fd >= 0; f++) {
				struct rt **v = malloc((s->n_rib + 1) * sizeof(*v));
				size_t n = 0;
				if (!v)
					break;
				for (size_t q = 0; q < s->n_rib; q++)
					if (s->rib[q]->r.family == f &&
					    (s->rib[q]->mask & (1ull << p->idx)))
						v[n++] = s->rib[q];
				if (n)
					send_routes(s, p, true, v, n);
				free(v);
			}
		}
		if (p->fd < 0)
			continue;
		if (p->state >= S_OPENSENT) {
			int len = bgp_shutdown_encode(buf, sizeof(buf), BGP_CEASE_ADMIN_SHUTDOWN,
						      SHUTDOWN_TEXT);
			if (len > 0 && out_append(p, buf, (size_t)len) == 0)
				p->notif_sent++;
		}
	}
	/* push everything out, at most ~2 s in all */
	uint64_t end = mono_ns() + 2 * NS;
	for (size_t k = 0; k < s->n_peers; k++) {
		struct peer *p = &s->peers[k];
		uint64_t now = mono_ns();
		if (p->fd < 0)
			continue;
		drain_out(s, p, now < end ? (int)((end - now) / 1000000ull) : 0);
		close_session(s, p, "administrative shutdown", NULL);
		p->state = S_IDLE;
	}
}

static void *run(void *arg)
{
	struct bgp_speaker *s = arg;
	struct pollfd *pfd = calloc(s->n_peers + 2, sizeof(*pfd));
	struct peer **pp = calloc(s->n_peers + 2, sizeof(*pp));

	if (!pfd || !pp) {
		log_err("bgp: out of memory");
		free(pfd);
		free(pp);
		return NULL;
	}
	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		uint64_t now = mono_ns(), d;
		int n = 0, tmo;

		process_ops(s);
		timers(s, now);
		pfd[n++] = (struct pollfd){s->wake_fd, POLLIN, 0};
		if (s->lfd >= 0)
			pfd[n++] = (struct pollfd){s->lfd, POLLIN, 0};
		for (size_t k = 0; k < s->n_peers; k++) {
			struct peer *p = &s->peers[k];
			if (p->fd < 0)
				continue;
			short ev = p->state == S_CONNECT ? POLLOUT : POLLIN;
			if (p->out_off < p->out_len)
				ev |= POLLOUT;
			pp[n] = p;
			pfd[n++] = (struct pollfd){p->fd, ev, 0};
		}
		d = next_deadline(s);
		now = mono_ns();
		tmo = d == UINT64_MAX ? 1000 : d <= now ? 0 : (int)((d - now) / 1000000ull) + 1;
		if (tmo > 1000)
			tmo = 1000;
		pthread_mutex_unlock(&s->mu);
		poll(pfd, (nfds_t)n, tmo);
		pthread_mutex_lock(&s->mu);
		if (pfd[0].revents) {
			uint64_t v;
			ssize_t r = read(s->wake_fd, &v, sizeof(v));
			(void)r;
		}
		for (int i = 1; i < n; i++) {
			if (!pfd[i].revents)
				continue;
			if (s->lfd >= 0 && pfd[i].fd == s->lfd && i == 1) {
				on_accept(s);
				continue;
			}
			struct peer *p = pp[i];
			if (p->fd != pfd[i].fd)
				continue; /* replaced meanwhile */
			if (p->state == S_CONNECT) {
				on_connected(s, p);
				continue;
			}
			if (pfd[i].revents & POLLOUT)
				if (flush(s, p) < 0)
					continue;
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				on_readable(s, p);
		}
	}
	shutdown_all(s);
	pthread_mutex_unlock(&s->mu);
	free(pfd);
	free(pp);
	return NULL;
}

/* ---- API ---------------------------------------------------------------------------------------
 */

struct bgp_speaker *bgp_speaker_new(const struct bgp_speaker_conf *c, bgp_event_fn fn, void *arg,
				    char *err, size_t errlen)
{
	struct bgp_speaker *s;
	pthread_mutexattr_t ma;
	char a[MADDR_STRLEN];

	if (!c->local_as) {
		errf(err, errlen, "bgp: local AS 0 is not valid");
		return NULL;
	}
	if (!c->router_id) {
		errf(err, errlen, "bgp: router id 0.0.0.0 is not valid");
		return NULL;
	}
	if (c->n_peers > BGP_SPEAKER_MAX_PEERS) {
		errf(err, errlen, "bgp: at most %d peers", BGP_SPEAKER_MAX_PEERS);
		return NULL;
	}
	for (size_t k = 0; k < c->n_peers; k++) {
		const struct bgp_peer_conf *pc = &c->peers[k];
		maddr_str(&pc->addr, a);
		if (!pc->remote_as) {
			errf(err, errlen, "bgp: peer %s: remote AS 0 is not valid", a);
			return NULL;
		}
		if (pc->hold_time == 1 || pc->hold_time == 2 || pc->hold_time > 65535) {
			errf(err, errlen, "bgp: peer %s: hold time %u (0 or 3..65535)", a,
			     pc->hold_time);
			return NULL;
		}
		if (pc->passive && !c->listen_port) {
			errf(err, errlen,
			     "bgp: peer %s is passive but the speaker does not listen (no listen "
			     "port)",
			     a);
			return NULL;
		}
		if (strnlen(pc->md5, sizeof(pc->md5)) > TCP_MD5SIG_MAXKEYLEN) {
			errf(err, errlen, "bgp: peer %s: MD5 key longer than %d bytes", a,
			     TCP_MD5SIG_MAXKEYLEN);
			return NULL;
		}
		if (pc->families & ~BGP_FAM_ALL) {
			errf(err, errlen, "bgp: peer %s: unknown family bits", a);
			return NULL;
		}
		for (size_t q = 0; q < k; q++)
			if (maddr_eq(&c->peers[q].addr, &pc->addr)) {
				errf(err, errlen, "bgp: peer %s configured twice", a);
				return NULL;
			}
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->peers = calloc(c->n_peers + 1, sizeof(*s->peers)))) {
		free(s);
		errf(err, errlen, "bgp: out of memory");
		return NULL;
	}
	s->c = *c;
	s->c.peers = NULL;
	s->n_peers = c->n_peers;
	s->fn = fn;
	s->arg = arg;
	s->lfd = -1;
	s->wake_fd = -1;
	for (size_t k = 0; k < c->n_peers; k++) {
		struct peer *p = &s->peers[k];
		p->c = c->peers[k];
		p->c.md5[sizeof(p->c.md5) - 1] = 0;
		if (!p->c.port)
			p->c.port = BGP_PORT;
		p->idx = (int)k;
		p->fd = -1;
		p->backoff = 1;
		p->state = S_IDLE;
		maddr_str(&p->c.addr, p->name);
	}
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&s->mu, &ma);
	pthread_mutexattr_destroy(&ma);
	if (h_rebuild(s, 10) < 0) {
		bgp_speaker_free(s, false);
		errf(err, errlen, "bgp: out of memory");
		return NULL;
	}
	return s;
}

int bgp_speaker_start(struct bgp_speaker *s, char *err, size_t errlen)
{
	char a[MADDR_STRLEN];

	s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->wake_fd < 0) {
		errf(err, errlen, "bgp: eventfd: %s", strerror(errno));
		return -1;
	}
	if (s->c.listen_port) {
		struct sockaddr_storage ss;
		struct maddr la = s->c.listen_addr;
		socklen_t sl;
		int one = 1, zero = 0, fam;

		if (maddr_unspec(&la))
			memset(&la, 0, sizeof(la)); /* [::]: both families */
		sl = to_sockaddr(&la, s->c.listen_port, &ss);
		fam = ss.ss_family;
		s->lfd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (s->lfd < 0) {
			errf(err, errlen, "bgp: socket: %s", strerror(errno));
			return -1;
		}
		setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (fam == AF_INET6)
			setsockopt(s->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		for (size_t k = 0; k < s->n_peers; k++)
			if (s->peers[k].c.md5[0] &&
			    set_md5(s->lfd, fam, &s->peers[k].c.addr, s->peers[k].c.md5) < 0) {
				errf(err, errlen, "bgp: TCP_MD5SIG for peer %s on the listener: %s",
				     s->peers[k].name, strerror(errno));
				return -1;
			}
		if (bind(s->lfd, (struct sockaddr *)&ss, sl) < 0) {
			int e = errno;
			errf(err, errlen, "bgp: cannot listen on [%s]:%u: %s%s",
			     maddr_str(&s->c.listen_addr, a), s->c.listen_port, strerror(e),
			     e == EADDRINUSE ? " (another BGP daemon running?)" : "");
			return -1;
		}
		if (listen(s->lfd, 16) < 0) {
			errf(err, errlen, "bgp: listen: %s", strerror(errno));
			return -1;
		}
	}
	uint64_t now = mono_ns();
	for (size_t k = 0; k < s->n_peers; k++) {
		s->peers[k].state = S_ACTIVE;
		s->peers[k].retry_at = now;
	}
	log_info("bgp: speaker started (AS %u, %zu peers, listening on port %u)", s->c.local_as,
		 s->n_peers, s->c.listen_port);
	if (pthread_create(&s->thr, NULL, run, s) != 0) {
		errf(err, errlen, "bgp: cannot start the speaker thread");
		return -1;
	}
	s->started = true;
	return 0;
}

static int check_route(const struct bgp_speaker *s, const struct bgp_out_route *r)
{
	uint8_t buf[BGP_MAX_LEN];
	struct bgp_attrs a;
	size_t done;
	int f = r->r.family;

	if (f >= BGP_NFAMILIES || r->n_comm > 16 || r->n_large > 8 || r->n_ext > 4)
		return -EINVAL;
	if (is_flowspec(f)) {
		if (!r->r.fs || r->r.fs->family != (f == BGP_IPV4_FLOWSPEC ? 4 : 6))
			return -EINVAL;
	} else if (f == BGP_IPV4_UNICAST ? (!maddr_is_v4(&r->r.prefix) || r->r.len > 32)
					 : r->r.len > 128) {
		return -EINVAL;
	}
	memset(&a, 0, sizeof(a));
	a.my_as = s->c.local_as;
	a.as4 = true;
	a.nexthop = r->nexthop;
	a.comm = r->comm;
	a.n_comm = r->n_comm;
	a.large = r->large;
	a.n_large = r->n_large;
	a.ext = r->ext;
	a.n_ext = r->n_ext;
	if (bgp_update_encode(buf, sizeof(buf), false, &a, &r->r, 1, &done) < 0 || done != 1)
		return -EINVAL;
	return 0;
}

int bgp_speaker_announce(struct bgp_speaker *s, const struct bgp_out_route *r)
{
	struct rt *n, *old;
	int rc = check_route(s, r);

	if (rc)
		return rc;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->id = r->id;
	n->r = r->r;
	n->r.fs = NULL;
	if (is_flowspec(r->r.family)) {
		n->fs = malloc(sizeof(*n->fs));
		if (!n->fs) {
			free(n);
			return -ENOMEM;
		}
		*n->fs = *r->r.fs;
		n->r.fs = n->fs;
		memset(&n->r.prefix, 0, sizeof(n->r.prefix));
		n->r.len = 0;
	} else {
		n->a.nh = r->nexthop;
		maddr_mask(&n->r.prefix, n->r.len + (r->r.family == BGP_IPV4_UNICAST ? 96 : 0));
	}
	n->only_nofs = r->only_without_flowspec && !is_flowspec(r->r.family);
	n->a.n_comm = (uint32_t)r->n_comm;
	memcpy(n->a.comm, r->comm, r->n_comm * sizeof(r->comm[0]));
	n->a.n_large = (uint32_t)r->n_large;
	memcpy(n->a.large, r->large, r->n_large * sizeof(r->large[0]));
	n->a.n_ext = (uint32_t)r->n_ext;
	memcpy(n->a.ext, r->ext, r->n_ext * sizeof(r->ext[0]));

	pthread_mutex_lock(&s->mu);
	old = rib_get(s, r->id);
	if (old && same_nlri(old, n)) {
		/* in place: same NLRI, new attributes (an implicit replace on the wire) */
		old->a = n->a;
		old->only_nofs = n->only_nofs;
		rt_free(n);
		n = old;
	} else {
		if (!old && s->n_rib >= MAX_ROUTES) {
			rc = -ENOSPC;
			goto fail;
		}
		if (s->n_rib + 1 > s->cap_rib) {
			size_t nc = s->cap_rib ? s->cap_rib * 2 : 64;
			struct rt **nr = realloc(s->rib, nc * sizeof(*nr));
			if (!nr) {
				rc = -ENOMEM;
				goto fail;
			}
			s->rib = nr;
			s->cap_rib = nc;
		}
		if ((s->n_rib + 1) * 2 > ((size_t)1 << s->hbits) &&
		    h_rebuild(s, s->hbits + 1) < 0) {
			rc = -ENOMEM;
			goto fail;
		}
		if (old) {
			old = rib_detach(s, r->id);
			if ((rc = op_push(s, OP_WD, old->id, old)) < 0) {
				rt_free(old);
				goto fail;
			}
		}
		bool f;
		size_t slot = h_find(s, n->id, &f);
		s->hidx[slot] = (uint32_t)s->n_rib;
		s->rib[s->n_rib++] = n;
	}
	if (!n->queued) {
		if ((rc = op_push(s, OP_ANN, n->id, NULL)) < 0) {
			pthread_mutex_unlock(&s->mu);
			return rc; /* stays in the RIB: sent at the next (re)establishment */
		}
		n->queued = true;
	}
	pthread_mutex_unlock(&s->mu);
	wake(s);
	return 0;
fail:
	pthread_mutex_unlock(&s->mu);
	rt_free(n);
	return rc;
}

int bgp_speaker_withdraw(struct bgp_speaker *s, uint64_t id)
{
	struct rt *r;
	int rc;

	pthread_mutex_lock(&s->mu);
	r = rib_detach(s, id);
	if (!r) {
		pthread_mutex_unlock(&s->mu);
		return -ENOENT;
	}
	r->queued = false;
	rc = op_push(s, OP_WD, id, r);
	if (rc < 0) {
		/* cannot queue it: put it back so that the caller may retry */
		bool f;
		s->hidx[h_find(s, r->id, &f)] = (uint32_t)s->n_rib;
		s->rib[s->n_rib++] = r;
	}
	pthread_mutex_unlock(&s->mu);
	if (rc == 0)
		wake(s);
	return rc;
}

void bgp_speaker_peers_json(struct bgp_speaker *s, struct json *j)
{
	uint64_t now = mono_ns();

	pthread_mutex_lock(&s->mu);
	json_arr(j);
	for (size_t k = 0; k < s->n_peers; k++) {
		struct peer *p = &s->peers[k];
		bool up = p->state == S_ESTABLISHED;
		json_obj(j);
		json_key(j, "address");
		json_str(j, p->name);
		json_key(j, "port");
		json_u64(j, p->c.port);
		json_key(j, "remote_as");
		json_u64(j, p->c.remote_as);
		json_key(j, "passive");
		json_bool(j, p->c.passive);
		json_key(j, "state");
		json_str(j, state_names[p->state]);
		json_key(j, "uptime");
		json_u64(j, up ? (now - p->up_mono) / NS : 0);
		json_key(j, "families");
		json_arr(j);
		for (int f = 0; f < BGP_NFAMILIES; f++)
			if (up && (p->caps.families & BGP_FAM_BIT(f)))
				json_str(j, bgp_family_name(f));
		json_aend(j);
		json_key(j, "hold_time");
		json_u64(j, up ? p->caps.hold_time : p->c.hold_time);
		json_key(j, "updates_sent");
		json_u64(j, p->upd_sent);
		json_key(j, "updates_received");
		json_u64(j, p->upd_recv);
		json_key(j, "notifications_sent");
		json_u64(j, p->notif_sent);
		json_key(j, "notifications_received");
		json_u64(j, p->notif_recv);
		json_key(j, "last_error");
		if (p->last_error[0])
			json_str(j, p->last_error);
		else
			json_null(j);
		json_key(j, "reconnects");
		json_u64(j, p->attempts > 1 ? p->attempts - 1 : 0);
		json_end(j);
	}
	json_aend(j);
	pthread_mutex_unlock(&s->mu);
}

void bgp_speaker_routes_json(struct bgp_speaker *s, struct json *j)
{
	char text[1024];

	pthread_mutex_lock(&s->mu);
	json_arr(j);
	for (size_t k = 0; k < s->n_rib; k++) {
		const struct rt *r = s->rib[k];
		json_obj(j);
		json_key(j, "id");
		json_u64(j, r->id);
		json_key(j, "family");
		json_str(j, bgp_family_name(r->r.family));
		json_key(j, "text");
		route_text(r, text, sizeof(text));
		json_str(j, text);
		json_key(j, "peers_sent");
		json_u64(j, (uint64_t)__builtin_popcountll(r->mask));
		json_end(j);
	}
	json_aend(j);
	pthread_mutex_unlock(&s->mu);
}

void bgp_speaker_free(struct bgp_speaker *s, bool withdraw)
{
	if (!s)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->mu);
		s->stop = true;
		s->stop_withdraw = withdraw;
		pthread_mutex_unlock(&s->mu);
		wake(s);
		pthread_join(s->thr, NULL);
		log_info("bgp: speaker stopped");
	}
	for (size_t k = 0; k < s->n_peers; k++) {
		if (s->peers[k].fd >= 0)
			close(s->peers[k].fd);
		free(s->peers[k].out);
		free(s->peers[k].ev);
	}
	for (size_t k = 0; k < s->n_rib; k++)
		rt_free(s->rib[k]);
	for (size_t k = 0; k < s->n_ops; k++)
		if (s->ops[k].kind == OP_WD)
			rt_free(s->ops[k].wd);
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	pthread_mutex_destroy(&s->mu);
	free(s->ops);
	free(s->rib);
	free(s->hidx);
	free(s->peers);
	free(s);
}
