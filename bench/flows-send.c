/* flows-send: replays the UDP payloads of a captured flow export stream (NetFlow v9, IPFIX or
 * sFlow v5 datagrams, as tcpdump wrote them) to one collector, paced, for bench/flows-fnm.sh.
 *
 *   flows-send -r STREAM.pcap -t 127.0.0.1:PORT [-R DGRAMS_PER_S] [-n REPEAT] [-b BATCH]
 *   flows-send -r STREAM.pcap --count        count only: datagrams and records, send nothing
 *   flows-send --sink 127.0.0.1:PORT         receive and discard until SIGTERM/SIGINT
 *
 * The payloads are loaded into memory first, then sent with sendmmsg on a connected socket in
 * batches of BATCH (default 16), batch k leaving at k * BATCH / RATE s from the start (absolute
 * sleeps, so a late batch does not shift the rest); REPEAT sends the whole stream that many
 * times. The same bytes go to every collector it is pointed at.
 *
 * Records are counted independently of moat's decoders, from the stream's own structure: NetFlow
 * v9 and IPFIX data records of (non-options) templates defined earlier in the stream, options
 * data records apart; sFlow v5 flow samples (formats 1 and 3) and counter samples (2 and 4).
 *
 * records_v6 counts the IPv6 ones (a template with IE 27/28; an sFlow sample whose raw header is
 * IPv6), seq_gaps the datagrams missing per the v9 and sFlow sequence numbers (IPFIX's count
 * records, and softflowd 1.1.0 numbers them off by one message, so they are not checked).
 *
 * Output (stdout, one "name value" a line): datagrams, bytes, records, records_v6,
 * options_records, counter_samples, templates, seq_gaps, unknown_sets (data sets without a known
 * fixed-length template), bad, skipped_frames, repeat; after sending: sent, send_errors, seconds,
 * rate, max_lag_ms. --sink prints "received N" at exit.
 * Addresses: only what -t / --sink name (the bench uses 127.0.0.1).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
	MAX_BATCH = 1024,
	MAX_TMPL = 65536,
};

struct stream {
	uint8_t *data; /* payloads back to back */
	size_t len, cap;
	size_t *off; /* start of datagram i; off[n] = len */
	size_t n, ncap;
	uint64_t skipped; /* frames that were not complete IPv4/IPv6 UDP datagrams */
};

struct counts {
	uint64_t records, options_records, counter_samples, templates, unknown_sets, bad;
	uint64_t records_v6; /* of records: IPv6 flows (template with IE 27/28; sFlow header) */
	uint64_t seq_gaps;   /* v9 and sFlow: datagrams missing per the sequence numbers */
};

static void die(const char *fmt, const char *a)
{
	fprintf(stderr, "flows-send: ");
	fprintf(stderr, fmt, a);
	fprintf(stderr, "\n");
	exit(1);
}

static uint16_t g16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t g32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void add_dgram(struct stream *s, const uint8_t *p, size_t n)
{
	if (s->n + 2 > s->ncap) {
		s->ncap = s->ncap ? s->ncap * 2 : 65536;
		s->off = realloc(s->off, s->ncap * sizeof(*s->off));
		if (!s->off)
			die("%s", "out of memory");
	}
	if (s->len + n > s->cap) {
		while (s->len + n > s->cap)
			s->cap = s->cap ? s->cap * 2 : (size_t)64 << 20;
		s->data = realloc(s->data, s->cap);
		if (!s->data)
			die("%s", "out of memory");
	}
	s->off[s->n++] = s->len;
	memcpy(s->data + s->len, p, n);
	s->len += n;
	s->off[s->n] = s->len;
}

/* One captured frame -> its UDP payload, or skipped. */
static void frame(struct stream *s, int dlt, const uint8_t *p, uint32_t caplen)
{
	uint32_t o = 0;
	uint16_t et = 0;

	switch (dlt) {
	case DLT_EN10MB:
		if (caplen < 14)
			goto skip;
		et = g16(p + 12);
		o = 14;
		while ((et == 0x8100 || et == 0x88a8) && caplen >= o + 4) {
			et = g16(p + o + 2);
			o += 4;
		}
		break;
	case DLT_LINUX_SLL:
		if (caplen < 16)
			goto skip;
		et = g16(p + 14);
		o = 16;
		break;
	case DLT_NULL:
	case DLT_LOOP:
		if (caplen < 4)
			goto skip;
		o = 4;
		et = (p[o] >> 4) == 6 ? 0x86dd : 0x0800;
		break;
	case DLT_RAW:
		et = caplen && (p[0] >> 4) == 6 ? 0x86dd : 0x0800;
		break;
	default:
		goto skip;
	}
	if (et == 0x0800) {
		if (caplen < o + 20 || (p[o] >> 4) != 4 || p[o + 9] != 17)
			goto skip;
		if (g16(p + o + 6) & 0x3fff) /* a fragment */
			goto skip;
		o += (uint32_t)(p[o] & 15) * 4;
	} else if (et == 0x86dd) {
		if (caplen < o + 40 || p[o + 6] != 17)
			goto skip;
		o += 40;
	} else {
		goto skip;
	}
	if (caplen < o + 8)
		goto skip;
	uint32_t ulen = g16(p + o + 4);
	if (ulen < 8 || caplen < o + ulen)
		goto skip; /* truncated by the snap length */
	add_dgram(s, p + o + 8, ulen - 8);
	return;
skip:
	s->skipped++;
}

static void load(struct stream *s, const char *path)
{
	char eb[PCAP_ERRBUF_SIZE];
	pcap_t *pc = pcap_open_offline(path, eb);
	struct pcap_pkthdr *h;
	const u_char *p;
	int r;

	if (!pc)
		die("%s", eb);
	int dlt = pcap_datalink(pc);
	while ((r = pcap_next_ex(pc, &h, &p)) == 1)
		frame(s, dlt, p, h->caplen);
	if (r == -1)
		die("%s", pcap_geterr(pc));
	pcap_close(pc);
}

/* ---- independent record counts ---- */

/* record length per template id: v9 and IPFIX kept apart; 0 = unknown, <0 = options template,
 * INT32_MIN = has variable-length fields (counted by walking) */
static int32_t tmpl_len[2][MAX_TMPL];
static uint8_t tmpl_var[2][MAX_TMPL];
static uint8_t tmpl_v6[2][MAX_TMPL];

static void nf_sets(struct counts *c, const uint8_t *p, size_t n, int ipfix)
{
	int v = ipfix;
	size_t o = ipfix ? 16 : 20;

	while (o + 4 <= n) {
		uint16_t id = g16(p + o), sl = g16(p + o + 2);
		if (sl < 4 || o + sl > n) {
			c->bad++;
			return;
		}
		const uint8_t *q = p + o + 4, *e = p + o + sl;
		uint16_t t_set = ipfix ? 2 : 0, o_set = ipfix ? 3 : 1;
		if (id == t_set || id == o_set) {
			while (q + 4 <= e) {
				uint16_t tid = g16(q), nf = g16(q + 2);
				const uint8_t *f = q + 4;
				if (id == o_set && !ipfix) {
					/* v9 options: scope length, option length, both in bytes */
					uint16_t sl2 = g16(q + 2), ol;
					if (q + 6 > e)
						break;
					ol = g16(q + 4);
					if (q + 6 + sl2 + ol > e)
						break;
					int32_t len = 0;
					for (const uint8_t *x = q + 6; x + 4 <= q + 6 + sl2 + ol; x += 4)
						len += g16(x + 2);
					tmpl_len[v][tid] = -(len > 0 ? len : 1);
					tmpl_var[v][tid] = 0;
					c->templates++;
					q += 6 + sl2 + ol;
					continue;
				}
				if (id == o_set) { /* IPFIX options: field count (scope included), scope count */
					if (q + 6 > e)
						break;
					f = q + 6;
				}
				{
					uint16_t cnt = nf;
					int32_t len = 0;
					int var = 0, v6 = 0;
					if (cnt == 0) { /* withdrawal */
						q = f;
						continue;
					}
					for (uint16_t i = 0; i < cnt; i++) {
						if (f + 4 > e)
							goto bad;
						uint16_t ty = g16(f), fl = g16(f + 2);
						f += 4;
						if (ipfix && (ty & 0x8000))
							f += 4;
						else if (ty == 27 || ty == 28)
							v6 = 1;
						if (fl == 65535)
							var = 1;
						else
							len += fl;
					}
					if (f > e)
						goto bad;
					tmpl_len[v][tid] = id == o_set ? -(len ? len : 1) : (len ? len : 1);
					tmpl_var[v][tid] = (uint8_t)var;
					tmpl_v6[v][tid] = (uint8_t)v6;
					c->templates++;
					q = f;
				}
			}
		} else if (id >= 256) {
			int32_t L = tmpl_len[v][id];
			int opt = L < 0;
			if (L == 0) {
				c->unknown_sets++;
			} else if (tmpl_var[v][id]) {
				c->unknown_sets++; /* variable-length records: not produced by the bench's exporters */
			} else {
				uint64_t k = (uint64_t)(e - q) / (uint64_t)(opt ? -L : L);
				if (opt) {
					c->options_records += k;
				} else {
					c->records += k;
					if (tmpl_v6[v][id])
						c->records_v6 += k;
				}
			}
		}
		o += sl;
		continue;
bad:
		c->bad++;
		return;
	}
}

/* Is this sFlow flow sample (format 1 or 3, body p..p+n) of an IPv6 packet? From its raw header
 * record (Ethernet, possibly tagged, or bare IPv6) or a sampled IPv6 record. */
static int sflow_sample_v6(const uint8_t *p, size_t n, uint32_t fmt)
{
	size_t o = fmt == 1 ? 28 : 40; /* fields before the record count */
	if (o + 4 > n)
		return 0;
	uint32_t nr = g32(p + o);
	o += 4;
	for (uint32_t i = 0; i < nr && o + 8 <= n; i++) {
		uint32_t rf = g32(p + o), rl = g32(p + o + 4);
		const uint8_t *r = p + o + 8;
		if (rl > n - o - 8)
			return 0;
		if (rf == 4) /* sampled IPv6 */
			return 1;
		if (rf == 1 && rl >= 16) {
			uint32_t proto = g32(r), hl = g32(r + 12);
			const uint8_t *h = r + 16;
			if (hl > rl - 16)
				return 0;
			if (proto == 12)
				return 1;
			if (proto == 1 && hl >= 14) {
				size_t e = 12;
				uint16_t et = g16(h + e);
				while ((et == 0x8100 || et == 0x88a8) && e + 6 <= hl) {
					e += 4;
					et = g16(h + e);
				}
				return et == 0x86dd;
			}
			return 0;
		}
		o += 8 + rl;
	}
	return 0;
}

static uint32_t last_seq[2];
static int have_seq[2];

static void seq_check(struct counts *c, int k, uint32_t seq, uint32_t step)
{
	if (have_seq[k] && seq != last_seq[k] + step && seq - last_seq[k] < 0x80000000u)
		c->seq_gaps += seq - last_seq[k] - step;
	last_seq[k] = seq;
	have_seq[k] = 1;
}

static void sflow_samples(struct counts *c, const uint8_t *p, size_t n)
{
	if (n < 28) {
		c->bad++;
		return;
	}
	uint32_t ipv = g32(p + 4);
	size_t o = ipv == 2 ? 8 + 16 : 8 + 4;
	if (o + 8 <= n)
		seq_check(c, 0, g32(p + o + 4), 1);
	o += 12; /* sub agent, sequence, uptime */
	if (o + 4 > n) {
		c->bad++;
		return;
	}
	uint32_t ns = g32(p + o);
	o += 4;
	for (uint32_t i = 0; i < ns; i++) {
		if (o + 8 > n) {
			c->bad++;
			return;
		}
		uint32_t fmt = g32(p + o), sl = g32(p + o + 4);
		if (sl > n - o - 8) {
			c->bad++;
			return;
		}
		if (fmt == 1 || fmt == 3) {
			c->records++;
			c->records_v6 += (uint64_t)sflow_sample_v6(p + o + 8, sl, fmt);
		}
		else if (fmt == 2 || fmt == 4)
			c->counter_samples++;
		o += 8 + sl;
	}
}

static void count(struct counts *c, const struct stream *s)
{
	memset(c, 0, sizeof(*c));
	memset(tmpl_len, 0, sizeof(tmpl_len));
	memset(have_seq, 0, sizeof(have_seq));
	for (size_t i = 0; i < s->n; i++) {
		const uint8_t *p = s->data + s->off[i];
		size_t n = s->off[i + 1] - s->off[i];
		if (n >= 4 && g32(p) == 5)
			sflow_samples(c, p, n);
		else if (n >= 20 && g16(p) == 9) {
			seq_check(c, 1, g32(p + 12), 1); /* v9: a sequence number per datagram */
			nf_sets(c, p, n, 0);
		}
		else if (n >= 16 && g16(p) == 10)
			nf_sets(c, p, n, 1);
		else
			c->bad++;
	}
}

/* ---- sockets ---- */

static void parse_addr(const char *spec, struct sockaddr_storage *ss, socklen_t *sl)
{
	char host[256];
	const char *port;
	struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
				 .ai_socktype = SOCK_DGRAM},
			*ai;

	if (spec[0] == '[') {
		const char *e = strchr(spec, ']');
		if (!e || e[1] != ':' || (size_t)(e - spec - 1) >= sizeof(host))
			die("bad address %s (want [V6]:PORT)", spec);
		memcpy(host, spec + 1, (size_t)(e - spec - 1));
		host[e - spec - 1] = 0;
		port = e + 2;
	} else {
		const char *e = strrchr(spec, ':');
		if (!e || (size_t)(e - spec) >= sizeof(host))
			die("bad address %s (want ADDR:PORT)", spec);
		memcpy(host, spec, (size_t)(e - spec));
		host[e - spec] = 0;
		port = e + 1;
	}
	if (getaddrinfo(host, port, &hints, &ai) != 0)
		die("bad address %s", spec);
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sl = ai->ai_addrlen;
	freeaddrinfo(ai);
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int sink(const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	static uint8_t buf[64][2048];
	struct mmsghdr mm[64];
	struct iovec iov[64];
	uint64_t got = 0;
	int one = 1, rb = 32 << 20;

	parse_addr(spec, &ss, &sl);
	int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rb, sizeof(rb)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rb, sizeof(rb));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0)
		die("bind: %s", strerror(errno));
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	printf("listening %s\n", spec);
	fflush(stdout);
	while (!stop) {
		for (int i = 0; i < 64; i++) {
			iov[i] = (struct iovec){buf[i], sizeof(buf[i])};
			mm[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
		}
		int r = recvmmsg(fd, mm, 64, MSG_WAITFORONE, NULL);
		if (r > 0)
			got += (uint64_t)r;
		else if (r < 0 && errno != EINTR)
			die("recvmmsg: %s", strerror(errno));
	}
	printf("received %llu\n", (unsigned long long)got);
	return 0;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: flows-send -r STREAM.pcap -t ADDR:PORT [-R DGRAMS_PER_S] [-n REPEAT] "
			"[-b BATCH]\n       flows-send -r STREAM.pcap --count\n"
			"       flows-send --sink ADDR:PORT\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *in = NULL, *to = NULL;
	double rate = 20000;
	long repeat = 1, batch = 16;
	int count_only = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--sink") && v)
			return sink(v);
		if (!strcmp(a, "--count")) {
			count_only = 1;
			continue;
		}
		if (!v)
			usage();
		if (!strcmp(a, "-r"))
			in = v;
		else if (!strcmp(a, "-t"))
			to = v;
		else if (!strcmp(a, "-R"))
			rate = atof(v);
		else if (!strcmp(a, "-n"))
			repeat = atol(v);
		else if (!strcmp(a, "-b"))
			batch = atol(v);
		else
			usage();
		i++;
	}
	if (!in || (!to && !count_only) || rate <= 0 || repeat < 1 || batch < 1 || batch > MAX_BATCH)
		usage();

	struct stream s = {0};
	struct counts c;
	load(&s, in);
	if (s.n == 0)
		die("%s: no UDP datagrams", in);
	count(&c, &s);
	printf("datagrams %zu\nbytes %zu\nrecords %llu\nrecords_v6 %llu\noptions_records %llu\n"
	       "counter_samples %llu\ntemplates %llu\nseq_gaps %llu\nunknown_sets %llu\nbad %llu\n"
	       "skipped_frames %llu\nrepeat %ld\n",
	       s.n, s.len, (unsigned long long)c.records, (unsigned long long)c.records_v6,
	       (unsigned long long)c.options_records,
	       (unsigned long long)c.counter_samples, (unsigned long long)c.templates,
	       (unsigned long long)c.seq_gaps, (unsigned long long)c.unknown_sets, (unsigned long long)c.bad,
	       (unsigned long long)s.skipped, repeat);
	fflush(stdout);
	if (count_only)
		return 0;

	struct sockaddr_storage ss;
	socklen_t sl;
	parse_addr(to, &ss, &sl);
	int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	int sb = 4 << 20;
	if (fd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sb, sizeof(sb));
	if (connect(fd, (struct sockaddr *)&ss, sl) < 0)
		die("connect: %s", strerror(errno));
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	static struct mmsghdr mm[MAX_BATCH];
	static struct iovec iov[MAX_BATCH];
	uint64_t sent = 0, errs = 0, total = (uint64_t)s.n * (uint64_t)repeat, k = 0;
	double t0 = now_s(), max_lag = 0;
	while (k < total && !stop) {
		double due = t0 + (double)k / rate, t = now_s();
		if (due > t) {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			double w = due - t;
			ts.tv_sec += (time_t)w;
			ts.tv_nsec += (long)((w - (double)(time_t)w) * 1e9);
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !stop)
				;
		} else if (t - due > max_lag) {
			max_lag = t - due;
		}
		unsigned nb = 0;
		for (; nb < (unsigned)batch && k + nb < total; nb++) {
			size_t i = (size_t)((k + nb) % s.n);
			iov[nb] = (struct iovec){s.data + s.off[i], s.off[i + 1] - s.off[i]};
			mm[nb].msg_hdr = (struct msghdr){.msg_iov = &iov[nb], .msg_iovlen = 1};
		}
		unsigned done = 0;
		while (done < nb) {
			int r = sendmmsg(fd, mm + done, nb - done, 0);
			if (r < 0) {
				if (errno == EINTR && !stop)
					continue;
				errs++; /* e.g. ECONNREFUSED from an earlier datagram: this one is lost */
				done++;
				continue;
			}
			done += (unsigned)r;
			sent += (uint64_t)r;
		}
		k += nb;
	}
	double el = now_s() - t0;
	printf("sent %llu\nsend_errors %llu\nseconds %.3f\nrate %.0f\nmax_lag_ms %.1f\n",
	       (unsigned long long)sent, (unsigned long long)errs, el, el > 0 ? (double)sent / el : 0,
	       max_lag * 1000);
	close(fd);
	free(s.data);
	free(s.off);
	return stop ? 1 : 0;
}
