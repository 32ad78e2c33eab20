/* test_bgp_speaker: moatd's BGP speaker (src/bgp/speaker.c) against fake peers made of the codec
 * on loopback (OPEN exchange, capabilities, routes before and after Established, End-of-RIB,
 * withdrawals, NOTIFICATIONs sent for malformed input and bad OPENs, backoff, hold timer,
 * shutdown with withdrawals and Cease 6/2), then against a real BIRD 2 (routes in its tables
 * with their communities, withdrawals, BIRD restarted, TCP MD5). BIRD missing is a failure. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bgp/speaker.h"
#include "core/clock.h"
#include "core/log.h"
#include "t.h"

#define MS 1000000ull

/* ---- events --------------------------------------------------------------------------------- */

static pthread_mutex_t ev_mu = PTHREAD_MUTEX_INITIALIZER;
static char ev_buf[1 << 20];
static size_t ev_len;

static void on_event(void *arg, const char *json, size_t len)
{
	pthread_mutex_lock(&ev_mu);
	if (ev_len + len + 2 < sizeof(ev_buf)) {
		memcpy(ev_buf + ev_len, json, len);
		ev_len += len;
		ev_buf[ev_len++] = '\n';
		ev_buf[ev_len] = 0;
	}
	pthread_mutex_unlock(&ev_mu);
}

static bool ev_has(const char *needle)
{
	pthread_mutex_lock(&ev_mu);
	bool r = strstr(ev_buf, needle) != NULL;
	pthread_mutex_unlock(&ev_mu);
	return r;
}

static bool wait_ev(const char *needle, int ms)
{
	uint64_t end = mono_ns() + (uint64_t)ms * MS;
	while (mono_ns() < end) {
		if (ev_has(needle))
			return true;
		usleep(10000);
	}
	fprintf(stderr, "event not seen: %s\n", needle);
	return false;
}

static bool json_has(struct bgp_speaker *s, bool peers, const char *needle)
{
	struct json j;
	bool r;
	json_init(&j);
	if (peers)
		bgp_speaker_peers_json(s, &j);
	else
		bgp_speaker_routes_json(s, &j);
	json_raw(&j, "");
	r = j.buf && strstr(j.buf, needle);
	if (!r && getenv("T_VERBOSE"))
		fprintf(stderr, "json: %s\n", j.buf ? j.buf : "");
	json_free(&j);
	return r;
}

static bool wait_json(struct bgp_speaker *s, bool peers, const char *needle, int ms)
{
	uint64_t end = mono_ns() + (uint64_t)ms * MS;
	while (mono_ns() < end) {
		if (json_has(s, peers, needle))
			return true;
		usleep(20000);
	}
	fprintf(stderr, "not in %s json: %s\n", peers ? "peers" : "routes", needle);
	json_has(s, peers, needle);
	return false;
}

/* ---- fake peers ------------------------------------------------------------------------------ */

struct fake {
	int lfd, fd;
	uint8_t in[1 << 16];
	size_t in_len;
};

static struct maddr a4(const char *s)
{
	struct maddr a;
	if (maddr_parse(s, &a) < 0)
		abort();
	return a;
}

static struct sockaddr_in sin4(const char *ip, uint16_t port)
{
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	inet_pton(AF_INET, ip, &sa.sin_addr);
	return sa;
}

static int fake_listen(struct fake *f, const char *ip, uint16_t port)
{
	struct sockaddr_in sa = sin4(ip, port);
	int one = 1;
	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(f->lfd, 4) < 0) {
		perror("fake listen");
		return -1;
	}
	return 0;
}

/* waits for the speaker to connect; returns the time it did or 0 */
static uint64_t fake_accept(struct fake *f, int ms)
{
	struct pollfd p = {f->lfd, POLLIN, 0};
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	f->in_len = 0;
	if (poll(&p, 1, ms) != 1)
		return 0;
	f->fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
	return f->fd >= 0 ? mono_ns() : 0;
}

static int fake_connect(struct fake *f, const char *src, const char *ip, uint16_t port)
{
	struct sockaddr_in sa = sin4(ip, port), ls = sin4(src, 0);
	if (f->fd >= 0)
		close(f->fd);
	f->in_len = 0;
	f->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (bind(f->fd, (struct sockaddr *)&ls, sizeof(ls)) < 0 ||
	    connect(f->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("fake connect");
		return -1;
	}
	return 0;
}

static void fake_close(struct fake *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->lfd > 0)
		close(f->lfd);
	f->fd = f->lfd = -1;
}

static void fake_send(struct fake *f, const uint8_t *m, int len)
{
	if (len <= 0 || f->fd < 0 || write(f->fd, m, (size_t)len) != len)
		fprintf(stderr, "fake_send failed\n");
}

/* the next message into m; its length, 0 on timeout, -1 on EOF/error */
static int fake_read(struct fake *f, uint8_t *m, int ms)
{
	uint64_t end = mono_ns() + (uint64_t)ms * MS;
	size_t len;
	for (;;) {
		int fr = bgp_frame(f->in, f->in_len, &len, NULL);
		if (fr < 0)
			return -1;
		if (fr == 1) {
			memcpy(m, f->in, len);
			memmove(f->in, f->in + len, f->in_len - len);
			f->in_len -= len;
			return (int)len;
		}
		uint64_t now = mono_ns();
		if (now >= end || f->fd < 0)
			return 0;
		struct pollfd p = {f->fd, POLLIN, 0};
		if (poll(&p, 1, (int)((end - now) / MS) + 1) != 1)
			continue;
		ssize_t r = read(f->fd, f->in + f->in_len, sizeof(f->in) - f->in_len);
		if (r <= 0)
			return -1;
		f->in_len += (size_t)r;
	}
}

/* the next message that is not a KEEPALIVE */
static int fake_read_nk(struct fake *f, uint8_t *m, int ms)
{
	int n;
	while ((n = fake_read(f, m, ms)) > 0 && m[18] == BGP_KEEPALIVE)
		;
	return n;
}

/* reads our side of an OPEN exchange: the speaker's OPEN (checked), ours, KEEPALIVEs.
 * Returns 0 when the speaker sent its KEEPALIVE (OpenConfirm). */
static int fake_open(struct fake *f, uint32_t as, uint32_t id, uint16_t hold, unsigned fams,
		     struct bgp_open *theirs)
{
	uint8_t m[BGP_MAX_LEN];
	struct bgp_open o;
	struct bgp_err e;
	int n = fake_read(f, m, 3000);
	if (n <= 0 || m[18] != BGP_OPEN || bgp_open_decode(m, (size_t)n, 0, theirs, &e) < 0) {
		fprintf(stderr, "no OPEN from the speaker (%d)\n", n);
		return -1;
	}
	bgp_open_init(&o, as, hold, id, fams);
	fake_send(f, m, bgp_open_encode(m, sizeof(m), &o));
	n = fake_read(f, m, 3000);
	if (n <= 0 || m[18] != BGP_KEEPALIVE) {
		fprintf(stderr, "no KEEPALIVE after OPEN (%d, type %d)\n", n, n > 0 ? m[18] : 0);
		return -1;
	}
	fake_send(f, m, bgp_keepalive_encode(m, sizeof(m)));
	return 0;
}

/* expects a NOTIFICATION code/sub (skipping KEEPALIVEs); returns its text when it has one */
static void expect_notif(struct fake *f, int code, int sub, char *text, size_t tn)
{
	uint8_t m[BGP_MAX_LEN];
	struct bgp_notification nt;
	struct bgp_err e;
	int n = fake_read_nk(f, m, 5000);
	CHECK(n > 0);
	CHECK_EQ(n > 0 ? m[18] : 0, BGP_NOTIFICATION);
	if (n <= 0 || m[18] != BGP_NOTIFICATION)
		return;
	CHECK_EQ(bgp_notification_decode(m, (size_t)n, &nt, &e), 0);
	CHECK_EQ(nt.code, code);
	CHECK_EQ(nt.subcode, sub);
	if (text)
		snprintf(text, tn, "%s", nt.has_text ? nt.text : "");
}

/* what an UPDATE carried */
struct upd {
	int family; /* of the routes, or of the EoR */
	bool withdraw, eor;
	int n;
	char text[256]; /* first route */
	uint32_t comm[16];
	int n_comm, n_large, n_ext;
	uint64_t ext0;
	struct bgp_large_comm large0;
};

static int decode_upd(const uint8_t *m, int len, struct upd *u)
{
	struct bgp_update_info i;
	struct bgp_err e;
	struct maddr a;
	uint8_t plen;
	memset(u, 0, sizeof(*u));
	u->family = -1;
	if (len <= 0 || m[18] != BGP_UPDATE ||
	    bgp_update_decode(m, (size_t)len, true, true, &i, &e))
		return -1;
	if (i.eor) {
		u->eor = true;
		u->family = i.eor_family;
		return 0;
	}
	const uint8_t *nl = NULL;
	size_t nlen = 0;
	if (i.n_nlri) {
		u->family = BGP_IPV4_UNICAST, u->n = i.n_nlri, nl = i.nlri, nlen = i.nlri_len;
	} else if (i.n_withdrawn) {
		/* IPv4 withdrawn routes: right after the 2-byte length */
		u->family = BGP_IPV4_UNICAST, u->withdraw = true, u->n = i.n_withdrawn;
		nl = m + 21, nlen = (size_t)(m[19] << 8 | m[20]);
	} else if (i.n_mp_reach) {
		u->family = i.mp_reach_family, u->n = i.n_mp_reach, nl = i.mp_reach_nlri;
		nlen = i.mp_reach_nlri_len;
	} else if (i.n_mp_unreach) {
		u->family = i.mp_unreach_family, u->withdraw = true, u->n = i.n_mp_unreach;
		nl = i.mp_unreach_nlri, nlen = i.mp_unreach_nlri_len;
	}
	if (u->family == BGP_IPV4_UNICAST || u->family == BGP_IPV6_UNICAST) {
		if (bgp_prefix_decode(nl, nlen, u->family == BGP_IPV4_UNICAST ? 4 : 6, &a, &plen) >
		    0)
			prefix_str(&a, plen + (u->family == BGP_IPV4_UNICAST ? 96 : 0), u->text,
				   sizeof(u->text));
	} else if (u->family >= 0) {
		struct fs_rule r;
		if (fs_nlri_decode(nl, nlen, u->family == BGP_IPV4_FLOWSPEC ? 4 : 6, &r) > 0)
			fs_format(&r, u->text, sizeof(u->text));
	}
	u->n_comm = i.n_comm < 16 ? i.n_comm : 16;
	for (int k = 0; k < u->n_comm; k++)
		u->comm[k] = (uint32_t)i.comm[4 * k] << 24 | (uint32_t)i.comm[4 * k + 1] << 16 |
			     (uint32_t)i.comm[4 * k + 2] << 8 | i.comm[4 * k + 3];
	u->n_large = i.n_large;
	u->n_ext = i.n_ext;
	if (i.n_ext)
		for (int k = 0; k < 8; k++)
			u->ext0 = u->ext0 << 8 | i.ext[k];
	if (i.n_large) {
		const uint8_t *p = i.large;
		u->large0.global = (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
		u->large0.local1 = (uint32_t)p[4] << 24 | p[5] << 16 | p[6] << 8 | p[7];
		u->large0.local2 = (uint32_t)p[8] << 24 | p[9] << 16 | p[10] << 8 | p[11];
	}
	return 0;
}

/* reads UPDATEs until End-of-RIB for every family in fams; fills got[] (at most max) */
static int read_table(struct fake *f, unsigned fams, struct upd *got, int max)
{
	uint8_t m[BGP_MAX_LEN];
	unsigned eor = 0;
	int n = 0;
	while ((eor & fams) != fams) {
		int len = fake_read_nk(f, m, 3000);
		struct upd u;
		if (decode_upd(m, len, &u) < 0) {
			fprintf(stderr, "read_table: no UPDATE (%d, type %d)\n", len,
				len > 0 ? m[18] : 0);
			return -1;
		}
		if (u.eor)
			eor |= BGP_FAM_BIT(u.family);
		else if (n < max)
			got[n++] = u;
	}
	return n;
}

static const struct upd *find_upd(const struct upd *u, int n, int fam, bool wd)
{
	for (int k = 0; k < n; k++)
		if (u[k].family == fam && u[k].withdraw == wd)
			return &u[k];
	return NULL;
}

/* ---- routes ------------------------------------------------------------------------------------
 */

static struct fs_rule fs4, fs6;

static void routes_init(struct bgp_out_route *bh4, struct bgp_out_route *bh6,
			struct bgp_out_route *f4, struct bgp_out_route *f6, uint32_t local_as)
{
	struct maddr d;
	memset(bh4, 0, sizeof(*bh4));
	bh4->id = 1;
	bh4->r.family = BGP_IPV4_UNICAST;
	bh4->r.prefix = a4("198.51.100.5");
	bh4->r.len = 32;
	bh4->nexthop = a4("127.0.0.1");
	bh4->comm[0] = BGP_COMM_BLACKHOLE;
	bh4->comm[1] = BGP_COMM(65001, 666);
	bh4->n_comm = 2;
	bh4->large[0] = (struct bgp_large_comm){65001, 666, 1};
	bh4->n_large = 1;
	*bh6 = *bh4;
	bh6->id = 3;
	bh6->r.family = BGP_IPV6_UNICAST;
	bh6->r.prefix = a4("2001:db8:5::5");
	bh6->r.len = 128;
	bh6->nexthop = a4("::1");

	fs_rule_init(&fs4, 4);
	d = a4("198.51.100.5");
	fs_set_dst(&fs4, &d, 32, 0);
	fs_add_eq(&fs4, FS_PROTO, 17);
	fs_add_eq(&fs4, FS_SPORT, 53);
	fs_add(&fs4, FS_PKT_LEN, FS_GT | FS_EQ, 1000);
	memset(f4, 0, sizeof(*f4));
	f4->id = 2;
	f4->r.family = BGP_IPV4_FLOWSPEC;
	f4->r.fs = &fs4;
	f4->ext[0] = bgp_ext_traffic_rate((uint16_t)local_as, 0);
	f4->n_ext = 1;
	f4->comm[0] = BGP_COMM(65001, 666);
	f4->n_comm = 1;

	fs_rule_init(&fs6, 6);
	d = a4("2001:db8:5::5");
	fs_set_dst(&fs6, &d, 128, 0);
	fs_add_eq(&fs6, FS_PROTO, 17);
	fs_add_eq(&fs6, FS_SPORT, 53);
	*f6 = *f4;
	f6->id = 4;
	f6->r.family = BGP_IPV6_FLOWSPEC;
	f6->r.fs = &fs6;
}

/* the Adj-RIB-Out index: many ids in, half out, replaced in place; no thread needed */
static void test_rib(void)
{
	struct bgp_speaker_conf c;
	struct bgp_out_route r, bh6, f4, f6;
	char err[256];
	int bad = 0;

	memset(&c, 0, sizeof(c));
	c.local_as = 65001;
	c.router_id = 1;
	struct bgp_speaker *s = bgp_speaker_new(&c, NULL, NULL, err, sizeof(err));
	CHECK(s != NULL);
	if (!s)
		return;
	routes_init(&r, &bh6, &f4, &f6, 65001);
	for (uint32_t k = 0; k < 5000; k++) {
		uint8_t v4[4] = {10, (uint8_t)(k >> 16), (uint8_t)(k >> 8), (uint8_t)k};
		r.id = (uint64_t)k * 0x10001 + 7;
		maddr_from_v4(&r.r.prefix, v4);
		bad += bgp_speaker_announce(s, &r) != 0;
	}
	for (uint32_t k = 0; k < 5000; k += 2)
		bad += bgp_speaker_withdraw(s, (uint64_t)k * 0x10001 + 7) != 0;
	for (uint32_t k = 0; k < 5000; k++)
		bad += bgp_speaker_withdraw(s, (uint64_t)k * 0x10001 + 7) != (k % 2 ? 0 : -ENOENT);
	CHECK_EQ(bad, 0);
	/* same id, other NLRI: replaced */
	CHECK_EQ(bgp_speaker_announce(s, &f4), 0);
	f6.id = f4.id;
	CHECK_EQ(bgp_speaker_announce(s, &f6), 0);
	CHECK(json_has(s, false, "\"id\":2,\"family\":\"ipv6-flowspec\""));
	CHECK(!json_has(s, false, "ipv4-flowspec"));
	bgp_speaker_free(s, true);
}

/* ---- (1) fake peers ---------------------------------------------------------------------------
 */

static uint16_t base_port;

static void test_fake_main(void)
{
	uint16_t pl = base_port, pa = base_port + 1;
	struct fake A, B;
	struct bgp_peer_conf pc[2];
	struct bgp_speaker_conf c;
	struct bgp_out_route bh4, bh6, f4, f6;
	struct bgp_open theirs;
	struct upd got[32];
	uint8_t m[BGP_MAX_LEN];
	char err[256], text[300], fs4text[256];
	int n;

	CHECK_EQ(fake_listen(&A, "127.0.0.2", pa), 0);
	memset(pc, 0, sizeof(pc));
	pc[0].addr = a4("127.0.0.2");
	pc[0].port = pa;
	pc[0].remote_as = 65010;
	pc[0].hold_time = 90;
	pc[1].addr = a4("127.0.0.3");
	pc[1].remote_as = 65020;
	pc[1].passive = true;
	pc[1].hold_time = 90;
	pc[1].families = BGP_FAM_BIT(BGP_IPV4_UNICAST) | BGP_FAM_BIT(BGP_IPV4_FLOWSPEC);
	memset(&c, 0, sizeof(c));
	c.local_as = 65001;
	c.router_id = 0x0a000001;
	c.peers = pc;
	c.n_peers = 2;
	c.listen_addr = a4("127.0.0.1");

	/* passive peer without a listener: refused */
	CHECK(bgp_speaker_new(&c, on_event, NULL, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "passive") != NULL);
	c.listen_port = pl;
	struct bgp_speaker *s = bgp_speaker_new(&c, on_event, NULL, err, sizeof(err));
	CHECK(s != NULL);
	if (!s)
		return;
	routes_init(&bh4, &bh6, &f4, &f6, c.local_as);
	fs_format(&fs4, fs4text, sizeof(fs4text));
	/* before Established */
	CHECK_EQ(bgp_speaker_announce(s, &bh4), 0);
	CHECK_EQ(bgp_speaker_announce(s, &f4), 0);
	struct bgp_out_route bad = bh4;
	bad.r.len = 33;
	CHECK_EQ(bgp_speaker_announce(s, &bad), -EINVAL);
	CHECK_EQ(bgp_speaker_withdraw(s, 999), -ENOENT);

	/* the listening port taken: a clear error */
	{
		struct bgp_speaker *s2 = bgp_speaker_new(&c, on_event, NULL, err, sizeof(err));
		struct fake blk;
		CHECK_EQ(fake_listen(&blk, "127.0.0.1", pl), 0);
		CHECK_EQ(bgp_speaker_start(s2, err, sizeof(err)), -1);
		CHECK(strstr(err, "Address already in use") != NULL);
		bgp_speaker_free(s2, false);
		fake_close(&blk);
	}
	CHECK_EQ(bgp_speaker_start(s, err, sizeof(err)), 0);

	/* A: the speaker connects */
	CHECK(fake_accept(&A, 3000) != 0);
	CHECK_EQ(fake_open(&A, 65010, 0x0a000002, 90, BGP_FAM_ALL, &theirs), 0);
	CHECK_EQ(theirs.as, 65001);
	CHECK_EQ(theirs.hold_time, 90);
	CHECK_EQ(theirs.bgp_id, 0x0a000001);
	CHECK(theirs.as4);
	CHECK(theirs.route_refresh);
	CHECK_EQ(theirs.families, BGP_FAM_ALL);
	n = read_table(&A, BGP_FAM_ALL, got, 32);
	CHECK_EQ(n, 2);
	const struct upd *u = find_upd(got, n, BGP_IPV4_UNICAST, false);
	CHECK(u != NULL);
	if (u) {
		CHECK_STR(u->text, "198.51.100.5/32");
		CHECK_EQ(u->n_comm, 2);
		CHECK_EQ(u->comm[0], BGP_COMM_BLACKHOLE);
		CHECK_EQ(u->comm[1], BGP_COMM(65001, 666));
		CHECK_EQ(u->n_large, 1);
		CHECK_EQ(u->large0.local1, 666);
	}
	u = find_upd(got, n, BGP_IPV4_FLOWSPEC, false);
	CHECK(u != NULL);
	if (u) {
		CHECK_STR(u->text, fs4text);
		CHECK_EQ(u->n_ext, 1);
		CHECK_EQ(u->ext0, bgp_ext_traffic_rate(65001, 0));
		CHECK_EQ(u->n_comm, 1);
	}
	CHECK(wait_ev("\"event\":\"bgp_peer_up\",\"peer\":\"127.0.0.2\"", 2000));
	CHECK(wait_json(s, true, "\"state\":\"established\"", 2000));
	CHECK(wait_json(s, false,
			"\"id\":1,\"family\":\"ipv4-unicast\",\"text\":\"198.51.100.5/32\","
			"\"peers_sent\":1",
			2000));

	/* after Established */
	CHECK_EQ(bgp_speaker_announce(s, &bh6), 0);
	n = fake_read_nk(&A, m, 3000);
	struct upd u6;
	CHECK_EQ(decode_upd(m, n, &u6), 0);
	CHECK_EQ(u6.family, BGP_IPV6_UNICAST);
	CHECK_STR(u6.text, "2001:db8:5::5/128");
	CHECK_EQ(u6.n_comm, 2);
	CHECK(wait_ev("\"withdraw\":false,\"ids\":[3],\"routes\":1,\"mono_ns\":", 2000));

	/* ROUTE-REFRESH for IPv6 unicast: that family again, then its End-of-RIB */
	fake_send(&A, m, bgp_route_refresh_encode(m, sizeof(m), BGP_IPV6_UNICAST));
	n = read_table(&A, BGP_FAM_BIT(BGP_IPV6_UNICAST), got, 32);
	CHECK_EQ(n, 1);
	CHECK_STR(n == 1 ? got[0].text : "", "2001:db8:5::5/128");

	/* B: passive, connects to the speaker; offers IPv4 unicast and flowspec only */
	B.fd = B.lfd = -1;
	CHECK_EQ(fake_connect(&B, "127.0.0.3", "127.0.0.1", pl), 0);
	CHECK_EQ(fake_open(&B, 65020, 0x0a000003, 90,
			   BGP_FAM_BIT(BGP_IPV4_UNICAST) | BGP_FAM_BIT(BGP_IPV4_FLOWSPEC), &theirs),
		 0);
	n = read_table(&B, BGP_FAM_BIT(BGP_IPV4_UNICAST) | BGP_FAM_BIT(BGP_IPV4_FLOWSPEC), got, 32);
	CHECK_EQ(n, 2);
	CHECK(find_upd(got, n, BGP_IPV6_UNICAST, false) == NULL);
	CHECK(wait_ev("\"event\":\"bgp_peer_up\",\"peer\":\"127.0.0.3\"", 2000));

	/* withdraw reaches both */
	CHECK_EQ(bgp_speaker_withdraw(s, 1), 0);
	CHECK_EQ(bgp_speaker_withdraw(s, 1), -ENOENT);
	for (int k = 0; k < 2; k++) {
		struct upd w;
		n = fake_read_nk(k ? &B : &A, m, 3000);
		CHECK_EQ(decode_upd(m, n, &w), 0);
		CHECK(w.withdraw);
		CHECK_EQ(w.family, BGP_IPV4_UNICAST);
		CHECK_STR(w.text, "198.51.100.5/32");
	}

	/* a malformed UPDATE from A (attribute length past the end): the NOTIFICATION the codec
	 * says, then the speaker reconnects (backoff reset to 1 s by Established) */
	{
		static const uint8_t bad_upd[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
						  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
						  0xff, 0xff, 0,    27,	  2,	0,    0,
						  0,	4,    0x40, 1,	  7,	0};
		struct bgp_parse_ctx ctx = {0, true, false};
		struct bgp_msg pm;
		struct bgp_err pe;
		CHECK_EQ(bgp_parse(bad_upd, sizeof(bad_upd), &ctx, &pm, &pe), -1);
		uint64_t t0 = mono_ns();
		fake_send(&A, bad_upd, sizeof(bad_upd));
		expect_notif(&A, pe.code, pe.subcode, NULL, 0);
		CHECK(wait_ev("\"event\":\"bgp_peer_down\",\"peer\":\"127.0.0.2\"", 2000));
		uint64_t t1 = fake_accept(&A, 3000);
		CHECK(t1 != 0);
		CHECK(t1 - t0 > 800 * MS);
		CHECK(json_has(s, true, "\"notifications_sent\":1"));
		CHECK(json_has(s, true, "\"reconnects\":1"));
	}
	/* re-established: the table again (the v6 blackhole and flowspec, not the withdrawn) */
	CHECK_EQ(fake_open(&A, 65010, 0x0a000002, 90, BGP_FAM_ALL, &theirs), 0);
	n = read_table(&A, BGP_FAM_ALL, got, 32);
	CHECK_EQ(n, 2);
	CHECK(find_upd(got, n, BGP_IPV4_UNICAST, false) == NULL);
	CHECK(find_upd(got, n, BGP_IPV6_UNICAST, false) != NULL);
	CHECK(find_upd(got, n, BGP_IPV4_FLOWSPEC, false) != NULL);

	/* batching: 300 routes of one family and the same attributes in few UPDATEs, events carry
	 * at most 64 ids and the count */
	{
		struct bgp_out_route r = bh4;
		int total = 0, msgs = 0;
		for (int k = 0; k < 300; k++) {
			uint8_t v4[4] = {203, 0, (uint8_t)(k >> 8), (uint8_t)k};
			r.id = 1000 + (uint64_t)k;
			maddr_from_v4(&r.r.prefix, v4);
			CHECK_EQ(bgp_speaker_announce(s, &r), 0);
		}
		while (total < 300) {
			struct upd w;
			n = fake_read_nk(&A, m, 3000);
			if (decode_upd(m, n, &w) < 0)
				break;
			total += w.n;
			msgs++;
		}
		CHECK_EQ(total, 300);
		CHECK(msgs < 20);
	}

	/* a NOTIFICATION from A (Cease with a shutdown communication): closed, reconnected after
	 * the backoff (1 s: reset by Established) */
	{
		uint64_t t0 = mono_ns();
		fake_send(&A, m, bgp_shutdown_encode(m, sizeof(m), 2, "maintenance window"));
		CHECK(wait_json(s, true, "maintenance window", 2000));
		CHECK(json_has(s, true, "\"notifications_received\":1"));
		uint64_t t1 = fake_accept(&A, 3000);
		CHECK(t1 != 0);
		CHECK(t1 - t0 > 800 * MS);
		CHECK_EQ(fake_open(&A, 65010, 0x0a000002, 90, BGP_FAM_ALL, &theirs), 0);
		/* the whole table: the 300 routes in one UPDATE, one event with 64 ids */
		n = read_table(&A, BGP_FAM_ALL, got, 32);
		CHECK_EQ(n, 3);
		const struct upd *b4 = find_upd(got, n, BGP_IPV4_UNICAST, false);
		CHECK_EQ(b4 ? b4->n : 0, 300);
		{
			/* one event per UPDATE: at most 64 ids, and the count */
			pthread_mutex_lock(&ev_mu);
			const char *e = strstr(ev_buf, "\"routes\":300,");
			int ids = 0;
			if (e) {
				const char *b = e;
				while (b > ev_buf && b[-1] != '\n')
					b--;
				for (const char *q = strstr(b, "\"ids\":[");
				     q && q < e && *q != ']'; q++)
					ids += *q == ',';
			}
			pthread_mutex_unlock(&ev_mu);
			CHECK(e != NULL);
			CHECK_EQ(ids, 63); /* 64 ids */
		}
	}

	/* shutdown with withdraw: A gets the withdrawals of 302 routes, B of 301, then 6/2 */
	bgp_speaker_free(s, true);
	for (int k = 0; k < 2; k++) {
		struct fake *f = k ? &B : &A;
		int wd = 0;
		for (;;) {
			struct upd w;
			n = fake_read_nk(f, m, 3000);
			if (decode_upd(m, n, &w) < 0)
				break;
			/* B has not read the 300 routes of the batching test yet */
			CHECK(w.withdraw || k == 1);
			if (w.withdraw)
				wd += w.n;
		}
		CHECK_EQ(wd, k ? 301 : 302);
		CHECK_EQ(n > 0 ? m[18] : 0, BGP_NOTIFICATION);
		struct bgp_notification nt;
		struct bgp_err e;
		if (n > 0 && bgp_notification_decode(m, (size_t)n, &nt, &e) == 0) {
			CHECK_EQ(nt.code, 6);
			CHECK_EQ(nt.subcode, 2);
			CHECK(nt.has_text);
			snprintf(text, sizeof(text), "%s", nt.text);
			CHECK(strstr(text, "moatd") != NULL);
		}
	}
	fake_close(&A);
	fake_close(&B);
}

/* bad OPENs, a NOTIFICATION from the peer, backoff, hold timer */
static void test_fake_errors(void)
{
	uint16_t pc_port = base_port + 2;
	struct fake C;
	struct bgp_peer_conf pc;
	struct bgp_speaker_conf c;
	struct bgp_open theirs, o;
	uint8_t m[BGP_MAX_LEN];
	char err[256];
	uint64_t t[4];

	CHECK_EQ(fake_listen(&C, "127.0.0.4", pc_port), 0);
	memset(&pc, 0, sizeof(pc));
	pc.addr = a4("127.0.0.4");
	pc.port = pc_port;
	pc.remote_as = 4200000001u; /* 4-octet */
	pc.hold_time = 3;
	memset(&c, 0, sizeof(c));
	c.local_as = 65001;
	c.router_id = 0x0a000001;
	c.peers = &pc;
	c.n_peers = 1;
	struct bgp_speaker *s = bgp_speaker_new(&c, on_event, NULL, err, sizeof(err));
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ(bgp_speaker_start(s, err, sizeof(err)), 0);

	/* 1: wrong AS -> 2/2 */
	t[0] = fake_accept(&C, 3000);
	CHECK(t[0] != 0);
	CHECK_EQ(fake_read(&C, m, 3000) > 0 ? m[18] : 0, BGP_OPEN);
	bgp_open_init(&o, 65099, 90, 0x0a000004, BGP_FAM_ALL);
	fake_send(&C, m, bgp_open_encode(m, sizeof(m), &o));
	expect_notif(&C, 2, 2, NULL, 0);
	/* 2: our BGP identifier -> 2/3 */
	t[1] = fake_accept(&C, 3000);
	CHECK(t[1] != 0);
	CHECK_EQ(fake_read(&C, m, 3000) > 0 ? m[18] : 0, BGP_OPEN);
	bgp_open_init(&o, 4200000001u, 90, 0x0a000001, BGP_FAM_ALL);
	fake_send(&C, m, bgp_open_encode(m, sizeof(m), &o));
	expect_notif(&C, 2, 3, NULL, 0);
	/* 3: hold time 2 -> 2/6 */
	t[2] = fake_accept(&C, 4000);
	CHECK(t[2] != 0);
	CHECK_EQ(fake_read(&C, m, 3000) > 0 ? m[18] : 0, BGP_OPEN);
	bgp_open_init(&o, 4200000001u, 2, 0x0a000004, BGP_FAM_ALL);
	fake_send(&C, m, bgp_open_encode(m, sizeof(m), &o));
	expect_notif(&C, 2, 6, NULL, 0);
	/* backoff 1, 2, 4 s between the attempts */
	t[3] = fake_accept(&C, 6000);
	CHECK(t[3] != 0);
	CHECK(t[1] - t[0] > 800 * MS);
	CHECK(t[2] - t[1] > 1800 * MS);
	CHECK(t[3] - t[2] > 3700 * MS);
	CHECK(t[3] - t[2] < 5000 * MS);
	/* established with hold 3, then silent: keepalives every second from the speaker, and the
	 * hold timer drops the session after 3 s with 4/0 */
	CHECK_EQ(fake_open(&C, 4200000001u, 0x0a000004, 3, BGP_FAM_ALL, &theirs), 0);
	CHECK_EQ(theirs.as2, 65001);
	uint64_t up = mono_ns();
	CHECK(wait_json(s, true, "\"state\":\"established\"", 2000));
	CHECK(json_has(s, true, "\"hold_time\":3"));
	int ka = 0, nn;
	while ((nn = fake_read(&C, m, 5000)) > 0 && m[18] != BGP_NOTIFICATION)
		ka += m[18] == BGP_KEEPALIVE;
	uint64_t down = mono_ns();
	CHECK(nn > 0);
	CHECK_EQ(nn > 0 ? m[18] : 0, BGP_NOTIFICATION);
	CHECK_EQ(nn > 0 ? m[19] : 0, 4);
	CHECK(ka >= 2);
	CHECK(down - up > 2500 * MS && down - up < 4500 * MS);
	CHECK(wait_json(s, true, "hold timer expired", 1000));
	bgp_speaker_free(s, false);
	fake_close(&C);
}

/* collision: the peer connects while the speaker's own connection waits in OpenSent; with no
 * BGP identifier known yet the incoming one is kept, the outgoing one gets Cease 6/7 */
static void test_fake_collision(void)
{
	uint16_t pl = base_port + 4, pd = base_port + 5;
	struct fake D, Din;
	struct bgp_peer_conf pc;
	struct bgp_speaker_conf c;
	struct bgp_open theirs;
	struct upd got[4];
	uint8_t m[BGP_MAX_LEN];
	char err[256];

	CHECK_EQ(fake_listen(&D, "127.0.0.7", pd), 0);
	memset(&pc, 0, sizeof(pc));
	pc.addr = a4("127.0.0.7");
	pc.port = pd;
	pc.remote_as = 65030;
	pc.hold_time = 90;
	memset(&c, 0, sizeof(c));
	c.local_as = 65001;
	c.router_id = 0x0a000001;
	c.peers = &pc;
	c.n_peers = 1;
	c.listen_addr = a4("127.0.0.1");
	c.listen_port = pl;
	struct bgp_speaker *s = bgp_speaker_new(&c, on_event, NULL, err, sizeof(err));
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ(bgp_speaker_start(s, err, sizeof(err)), 0);
	CHECK(fake_accept(&D, 3000) != 0);
	CHECK_EQ(fake_read(&D, m, 3000) > 0 ? m[18] : 0, BGP_OPEN);
	CHECK(wait_json(s, true, "\"state\":\"opensent\"", 2000));
	Din.fd = Din.lfd = -1;
	CHECK_EQ(fake_connect(&Din, "127.0.0.7", "127.0.0.1", pl), 0);
	expect_notif(&D, BGP_ERR_CEASE, BGP_CEASE_COLLISION, NULL, 0);
	CHECK_EQ(fake_open(&Din, 65030, 0x0a000007, 90, BGP_FAM_ALL, &theirs), 0);
	CHECK_EQ(read_table(&Din, BGP_FAM_ALL, got, 4), 0); /* End-of-RIBs only */
	CHECK(wait_ev("\"event\":\"bgp_peer_up\",\"peer\":\"127.0.0.7\"", 2000));
	CHECK(json_has(s, true, "\"state\":\"established\""));
	/* a further connection while Established is refused with 6/7 */
	struct fake D3;
	D3.fd = D3.lfd = -1;
	CHECK_EQ(fake_connect(&D3, "127.0.0.7", "127.0.0.1", pl), 0);
	expect_notif(&D3, BGP_ERR_CEASE, BGP_CEASE_COLLISION, NULL, 0);
	CHECK(json_has(s, true, "\"state\":\"established\""));
	bgp_speaker_free(s, false);
	expect_notif(&Din, BGP_ERR_CEASE, BGP_CEASE_ADMIN_SHUTDOWN, NULL, 0);
	fake_close(&D);
	fake_close(&Din);
	fake_close(&D3);
}

/* ---- (2) BIRD 2 ---------------------------------------------------------------------------------
 */

static char tmpdir[64];
static pid_t bird_pid;

static void bird_kill(void)
{
	if (bird_pid > 0) {
		kill(bird_pid, SIGKILL);
		waitpid(bird_pid, NULL, 0);
		bird_pid = 0;
	}
}

static void on_exit_kill(void)
{
	char cmd[128];

	bird_kill();
	if (tmpdir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", tmpdir);
		tmpdir[0] = 0;
	}
}

static int bird_start(void)
{
	char conf[128], sock[128];
	snprintf(conf, sizeof(conf), "%s/bird.conf", tmpdir);
	snprintf(sock, sizeof(sock), "%s/bird.ctl", tmpdir);
	bird_pid = fork();
	if (bird_pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* even if the test dies */
		dup2(fd, 1);
		execlp("bird", "bird", "-f", "-c", conf, "-s", sock, (char *)NULL);
		_exit(127);
	}
	/* wait for the control socket */
	for (int k = 0; k < 300; k++) {
		struct stat st;
		int status;
		if (waitpid(bird_pid, &status, WNOHANG) == bird_pid) {
			fprintf(stderr, "bird exited (status %d): is BIRD 2 installed?\n", status);
			bird_pid = 0;
			return -1;
		}
		if (stat(sock, &st) == 0)
			return 0;
		usleep(10000);
	}
	return -1;
}

/* birdc output of cmd into buf */
static int birdc(const char *cmd, char *buf, size_t n)
{
	char line[512];
	snprintf(line, sizeof(line), "birdc -s %s/bird.ctl %s 2>&1", tmpdir, cmd);
	FILE *p = popen(line, "r");
	size_t len = 0;
	if (!p)
		return -1;
	while (len + 1 < n) {
		size_t r = fread(buf + len, 1, n - 1 - len, p);
		if (!r)
			break;
		len += r;
	}
	buf[len] = 0;
	return pclose(p);
}

static bool bird_wait(const char *cmd, const char *needle, bool present, int ms)
{
	static char out[1 << 16];
	uint64_t end = mono_ns() + (uint64_t)ms * MS;
	do {
		birdc(cmd, out, sizeof(out));
		if ((strstr(out, needle) != NULL) == present)
			return true;
		usleep(100000);
	} while (mono_ns() < end);
	fprintf(stderr, "birdc %s: \"%s\" %s; output:\n%s\n", cmd, needle,
		present ? "missing" : "still there", out);
	return false;
}

static void write_bird_conf(uint16_t pb, uint16_t ps, uint16_t pb2, uint16_t ps2)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/bird.conf", tmpdir);
	FILE *f = fopen(path, "w");
	if (!f)
		abort();
	fprintf(f,
		"router id 192.0.2.1;\n"
		"log \"%s/bird.log\" all;\n"
		"protocol device {}\n"
		"flow4 table flowtab4;\n"
		"flow6 table flowtab6;\n"
		"protocol bgp moat {\n"
		"  local 127.0.0.1 port %u as 65000;\n"
		"  neighbor 127.0.0.1 port %u as 65001;\n"
		"  multihop;\n"
		"  hold time 9;\n"
		"  connect retry time 1;\n"
		"  ipv4 { import all; export none; gateway recursive; igp table master4; };\n"
		"  ipv6 { import all; export none; gateway recursive; igp table master6; };\n"
		"  flow4 { table flowtab4; import all; export none; };\n"
		"  flow6 { table flowtab6; import all; export none; };\n"
		"}\n"
		"protocol bgp moatmd5 {\n"
		"  local 127.0.0.5 port %u as 65000;\n"
		"  neighbor 127.0.0.6 port %u as 65001;\n"
		"  multihop;\n"
		"  password \"secret\";\n"
		"  connect retry time 1;\n"
		"  ipv4 { import all; export none; gateway recursive; igp table master4; };\n"
		"}\n",
		tmpdir, pb, ps, pb2, ps2);
	fclose(f);
}

static void test_bird(void)
{
	uint16_t pb = base_port + 10, ps = base_port + 11, pb2 = base_port + 12,
		 ps2 = base_port + 13;
	struct bgp_peer_conf pc;
	struct bgp_speaker_conf c;
	struct bgp_out_route bh4, bh6, f4, f6;
	char err[256];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/moat-bgp-XXXXXX");
	CHECK(mkdtemp(tmpdir) != NULL);
	write_bird_conf(pb, ps, pb2, ps2);
	if (bird_start() < 0) {
		fprintf(stderr, "FAIL: cannot run BIRD 2 (bird, birdc)\n");
		CHECK(!"BIRD 2 runs");
		return;
	}
	memset(&pc, 0, sizeof(pc));
	pc.addr = a4("127.0.0.1");
	pc.port = pb;
	pc.remote_as = 65000;
	pc.hold_time = 90;
	memset(&c, 0, sizeof(c));
	c.local_as = 65001;
	c.router_id = 0xc0000202; /* 192.0.2.2 */
	c.peers = &pc;
	c.n_peers = 1;
	c.listen_addr = a4("127.0.0.1");
	c.listen_port = ps;
	struct bgp_speaker *s = bgp_speaker_new(&c, on_event, NULL, err, sizeof(err));
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_EQ(bgp_speaker_start(s, err, sizeof(err)), 0);

	/* the MD5 session: its own speaker, source 127.0.0.6, key on both sides */
	struct bgp_peer_conf pm = pc;
	struct bgp_speaker_conf cm = c;
	pm.addr = a4("127.0.0.5");
	pm.port = pb2;
	pm.families = BGP_FAM_BIT(BGP_IPV4_UNICAST);
	snprintf(pm.md5, sizeof(pm.md5), "secret");
	cm.peers = &pm;
	cm.listen_addr = a4("127.0.0.6");
	cm.listen_port = ps2;
	cm.router_id = 0xc0000203;
	struct bgp_speaker *sm = bgp_speaker_new(&cm, on_event, NULL, err, sizeof(err));
	CHECK(sm != NULL);
	if (sm)
		CHECK_EQ(bgp_speaker_start(sm, err, sizeof(err)), 0);

	CHECK(bird_wait("show protocols all moat", "Established", true, 10000));
	CHECK(bird_wait("show protocols all moat", "flow6", true, 1000));
	CHECK(wait_json(s, true, "\"state\":\"established\"", 3000));
	CHECK(json_has(s, true,
		       "\"families\":[\"ipv4-unicast\",\"ipv6-unicast\",\"ipv4-flowspec\","
		       "\"ipv6-flowspec\"]"));
	CHECK(bird_wait("show protocols all moatmd5", "Established", true, 10000));

	routes_init(&bh4, &bh6, &f4, &f6, c.local_as);
	bh4.large[0] = (struct bgp_large_comm){65001, 666, 7};
	CHECK_EQ(bgp_speaker_announce(s, &bh4), 0);
	CHECK_EQ(bgp_speaker_announce(s, &bh6), 0);
	CHECK_EQ(bgp_speaker_announce(s, &f4), 0);
	CHECK_EQ(bgp_speaker_announce(s, &f6), 0);
	if (sm)
		CHECK_EQ(bgp_speaker_announce(sm, &bh4), 0);

	CHECK(bird_wait("show route all table master4", "198.51.100.5/32", true, 5000));
	CHECK(bird_wait("show route all table master4", "(65535,666) (65001,666)", true, 1000));
	CHECK(bird_wait("show route all table master4", "(65001, 666, 7)", true, 1000));
	CHECK(bird_wait("show route all table master4 protocol moatmd5", "198.51.100.5/32", true,
			3000));
	CHECK(bird_wait("show route all table master6", "2001:db8:5::5/128", true, 3000));
	CHECK(bird_wait("show route all table master6", "(65535,666) (65001,666)", true, 1000));
	CHECK(bird_wait("show route all table flowtab4",
			"flow4 { dst 198.51.100.5/32; proto 17; sport 53; length >= 1000; }", true,
			3000));
	CHECK(bird_wait("show route all table flowtab4", "(generic, 0x8006fde9, 0x0)", true, 1000));
	CHECK(bird_wait("show route all table flowtab6", "dst 2001:db8:5::5/128", true, 3000));

	/* withdraw the IPv4 ones */
	CHECK_EQ(bgp_speaker_withdraw(s, bh4.id), 0);
	CHECK_EQ(bgp_speaker_withdraw(s, f4.id), 0);
	CHECK(bird_wait("show route all table master4 protocol moat", "198.51.100.5/32", false,
			3000));
	CHECK(bird_wait("show route all table flowtab4", "198.51.100.5/32", false, 3000));
	CHECK(bird_wait("show route all table master6", "2001:db8:5::5/128", true, 1000));

	/* BIRD restarts: the session comes back, the routes still announced reappear */
	bird_kill();
	CHECK(wait_ev("\"event\":\"bgp_peer_down\",\"peer\":\"127.0.0.1\"", 5000));
	CHECK(bird_start() == 0);
	CHECK(bird_wait("show protocols all moat", "Established", true, 10000));
	CHECK(bird_wait("show route all table master6", "2001:db8:5::5/128", true, 5000));
	CHECK(bird_wait("show route all table flowtab6", "dst 2001:db8:5::5/128", true, 3000));
	CHECK(
	    bird_wait("show route all table master4 protocol moat", "198.51.100.5/32", false, 500));
	CHECK(bird_wait("show route all table flowtab4", "198.51.100.5/32", false, 500));
	CHECK(wait_json(s, false, "\"peers_sent\":1", 3000));

	bgp_speaker_free(s, true);
	CHECK(bird_wait("show protocols all moat", "Administrative shutdown", true, 3000));
	CHECK(bird_wait("show route all table master6", "2001:db8:5::5/128", false, 3000));
	bgp_speaker_free(sm, false);
	on_exit_kill();
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	atexit(on_exit_kill);
	log_init(NULL, getenv("T_VERBOSE") ? LOG_DEBUG : LOG_WARNING);
	/* ports from the pid so that parallel runs do not collide */
	base_port = (uint16_t)(20000 + (getpid() % 2000) * 20);
	test_rib();
	test_fake_main();
	test_fake_collision();
	test_fake_errors();
	test_bird();
	bird_kill();
	return t_done("test_bgp_speaker");
}
