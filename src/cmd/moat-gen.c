/* moat-gen: writes (or sends live) deterministic background traffic and attacks.
 * Only wiring here: flags, pcap output, the paced AF_PACKET sender. The traffic is src/gen. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>

#include "core/clock.h"
#include "gen/gen.h"

#define NSEC 1000000000ULL

enum {
	EXIT_USAGE = 2,
	BATCH = 64,
	SLACK_NS = 50000, /* live: a packet may leave this much early so batches fill */
};

enum {
	OPT_START = 256,
	OPT_SNAPLEN,
	OPT_VLAN,
	OPT_USEC,
	OPT_BACKGROUND,
	OPT_ATTACK,
	OPT_COUNT,
	OPT_TRUTH,
};

struct opts {
	const char *out, *iface, *truth;
	uint32_t snaplen;
	bool usec;
};

static volatile sig_atomic_t stop;

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: moat-gen -o FILE [options]    write a pcap (FILE '-' is stdout)\n"
	    "       moat-gen -i IFACE [options]   send live, paced to the timestamps\n"
	    "\n"
	    "  -s, --seed N          PRNG seed (default 1); same seed, same bytes\n"
	    "  -d, --duration S      capture length in seconds (default 10; unbounded with "
	    "--count)\n"
	    "      --start EPOCH_S   timestamp of the first packet (default %llu)\n"
	    "      --count N         stop after N packets (k/M/G suffixes: 5M)\n"
	    "      --snaplen N       captured bytes per packet (default 65535); wire length "
	    "kept\n"
	    "      --vlan ID         add an 802.1Q tag\n"
	    "      --usec            microsecond pcap (default nanosecond)\n"
	    "      --truth FILE      write the attacks actually generated as JSON\n"
	    "      --background PPS[:hosts=N][:v6=FRACTION]\n"
	    "                        TCP flows, DNS, ICMP to/from N hosts (default 16) of\n"
	    "                        198.51.100.0/24 and 2001:db8:5::/48 (v6 share, default "
	    "0.1)\n"
	    "      --attack TYPE:TARGET:PPS[:start=S][:dur=S][:sources=N][:len=BYTES]"
	    "[:ramp=S][:dport=N]\n"
	    "                        repeatable. TYPE: syn ack rst udp icmp frag dns ntp ssdp\n"
	    "                        memcached cldap chargen snmp ipflood[:proto=47|0] carpet\n"
	    "                        TARGET: address in 198.51.100.0/24 or 2001:db8:5::/48\n"
	    "                        (bracket IPv6: [2001:db8:5::1]); carpet takes a prefix.\n"
	    "                        sources: distinct sources (default 508 v4, 1000 v6),\n"
	    "                        0 = random spoofed per packet; len: IP bytes per datagram\n"
	    "                        (over 1500 -> IP fragments); ramp: rate rises from 0\n"
	    "  -i, --interface IFACE send on IFACE (AF_PACKET; needs CAP_NET_RAW); with -o, also\n"
	    "                        write what was sent. SIGINT/SIGTERM stop cleanly\n"
	    "  -h, --help\n"
	    "\n"
	    "PPS accepts k/M suffixes. Exit status: 0 ok; 2 bad arguments, or the output file or\n"
	    "interface cannot be opened; 1 a write or send error while running.\n"
	    "example: moat-gen -o a.pcap -d 5 --background 20k --attack "
	    "syn:198.51.100.10:50k:start=1:dur=3\n",
	    GEN_DEFAULT_START_S);
}

static void __attribute__((noreturn, format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "moat-gen: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(moat-gen --help for usage)\n");
	exit(EXIT_USAGE);
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t parse_u64_arg(const char *opt, const char *v, uint64_t max)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-' || x > max)
		usage_error("%s: '%s' is not a number 0..%llu", opt, v, (unsigned long long)max);
	return x;
}

static void parse_args(int argc, char **argv, struct gen_config *c, struct opts *o)
{
	static const struct option lo[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"seed", required_argument, NULL, 's'},
	    {"duration", required_argument, NULL, 'd'},
	    {"interface", required_argument, NULL, 'i'},
	    {"help", no_argument, NULL, 'h'},
	    {"start", required_argument, NULL, OPT_START},
	    {"snaplen", required_argument, NULL, OPT_SNAPLEN},
	    {"vlan", required_argument, NULL, OPT_VLAN},
	    {"usec", no_argument, NULL, OPT_USEC},
	    {"background", required_argument, NULL, OPT_BACKGROUND},
	    {"attack", required_argument, NULL, OPT_ATTACK},
	    {"count", required_argument, NULL, OPT_COUNT},
	    {"truth", required_argument, NULL, OPT_TRUTH},
	    {NULL, 0, NULL, 0},
	};
	char err[256];
	bool have_dur = false;
	int ch;

	while ((ch = getopt_long(argc, argv, "o:s:d:i:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'o':
			o->out = optarg;
			break;
		case 's':
			c->seed = parse_u64_arg("--seed", optarg, UINT64_MAX);
			break;
		case 'd':
			if (gen_parse_seconds(optarg, &c->duration_ns) < 0 || c->duration_ns == 0)
				usage_error("--duration: '%s' is not a positive number of seconds",
					    optarg);
			have_dur = true;
			break;
		case 'i':
			o->iface = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case OPT_START:
			if (gen_parse_seconds(optarg, &c->start_ns) < 0)
				usage_error("--start: '%s' is not epoch seconds", optarg);
			break;
		case OPT_SNAPLEN:
			o->snaplen = (uint32_t)parse_u64_arg("--snaplen", optarg, 262144);
			if (o->snaplen < 14)
				usage_error("--snaplen: at least 14 (an Ethernet header)");
			break;
		case OPT_VLAN:
			c->vlan = (int)parse_u64_arg("--vlan", optarg, 4095);
			break;
		case OPT_USEC:
			o->usec = true;
			break;
		case OPT_BACKGROUND:
			if (gen_parse_background(optarg, &c->bg, err, sizeof(err)) < 0)
				usage_error("--background %s: %s", optarg, err);
			c->background_on = true;
			break;
		case OPT_ATTACK:
			if (c->n_attacks == GEN_MAX_ATTACKS)
				usage_error("at most %d attacks", GEN_MAX_ATTACKS);
			if (gen_parse_attack(optarg, &c->attacks[c->n_attacks], err, sizeof(err)) <
			    0)
				usage_error("--attack %s: %s", optarg, err);
			c->n_attacks++;
			break;
		case OPT_COUNT:
			if (gen_parse_count(optarg, &c->count) < 0)
				usage_error("--count: '%s' is not a positive count", optarg);
			break;
		case OPT_TRUTH:
			o->truth = optarg;
			break;
		default:
			usage_error("unknown option");
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (!o->out && !o->iface)
		usage_error("give -o FILE or -i IFACE");
	if (c->count && !have_dur)
		c->duration_ns = GEN_FOREVER;
}

/* ---- pcap output ---- */

struct writer {
	pcap_t *pd;
	pcap_dumper_t *dump;
	FILE *fp;
	uint32_t snaplen;
	bool usec;
};

/* Returns 0, or -1 after printing why. */
static int writer_open(struct writer *w, const char *path, uint32_t snaplen, bool usec)
{
	w->snaplen = snaplen;
	w->usec = usec;
	w->pd = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, (int)snaplen,
						     usec ? PCAP_TSTAMP_PRECISION_MICRO
							  : PCAP_TSTAMP_PRECISION_NANO);
	if (!w->pd) {
		fprintf(stderr, "moat-gen: pcap_open_dead failed\n");
		return -1;
	}
	w->fp = strcmp(path, "-") == 0 ? stdout : fopen(path, "wb");
	if (!w->fp) {
		fprintf(stderr, "moat-gen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	setvbuf(w->fp, NULL, _IOFBF, 1 << 20);
	w->dump = pcap_dump_fopen(w->pd, w->fp);
	if (!w->dump) {
		fprintf(stderr, "moat-gen: %s: %s\n", path, pcap_geterr(w->pd));
		return -1;
	}
	return 0;
}

static void writer_put(struct writer *w, const struct gen_pkt *p)
{
	struct pcap_pkthdr h;
	uint64_t frac = p->ts_ns % NSEC;

	h.ts.tv_sec = (time_t)(p->ts_ns / NSEC);
	h.ts.tv_usec = (suseconds_t)(w->usec ? frac / 1000 : frac);
	h.caplen = p->len < w->snaplen ? p->len : w->snaplen;
	h.len = p->len;
	pcap_dump((u_char *)w->dump, &h, p->data);
}

/* Returns 0, or -1 on a write error. */
static int writer_close(struct writer *w)
{
	int rc = 0;

	if (w->dump) {
		if (pcap_dump_flush(w->dump) < 0 || ferror(w->fp))
			rc = -1;
		if (w->fp == stdout)
			fflush(stdout);
		pcap_dump_close(w->dump); /* closes fp, stdout included */
	} else if (w->fp && w->fp != stdout) {
		fclose(w->fp);
	}
	if (w->pd)
		pcap_close(w->pd);
	return rc;
}

/* ---- live sending ---- */

struct live {
	int fd;
	int n;
	uint64_t sent, bytes, l3bytes, retries, max_lag;
	uint64_t t0, first_ts, last_ts, t_first_send, t_last_send;
	struct mmsghdr msg[BATCH];
	struct iovec iov[BATCH];
	uint8_t buf[BATCH][GEN_FRAME_MAX];
};

/* Returns 0, or -1 after printing why. */
static int live_open(struct live *l, const char *ifname)
{
	struct sockaddr_ll sll = {0};
	unsigned int idx = if_nametoindex(ifname);
	int one = 1, sndbuf = 4 << 20;

	if (idx == 0) {
		fprintf(stderr, "moat-gen: -i %s: no such interface\n", ifname);
		return -1;
	}
	l->fd = socket(AF_PACKET, SOCK_RAW, 0); /* protocol 0: send only, receive nothing */
	if (l->fd < 0) {
		fprintf(stderr, "moat-gen: -i %s: socket: %s%s\n", ifname, strerror(errno),
			errno == EPERM ? " (needs CAP_NET_RAW)" : "");
		return -1;
	}
	sll.sll_family = AF_PACKET;
	sll.sll_ifindex = (int)idx;
	if (bind(l->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		fprintf(stderr, "moat-gen: -i %s: bind: %s\n", ifname, strerror(errno));
		return -1;
	}
	/* best effort: skip the qdisc, a bigger send buffer */
	setsockopt(l->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	setsockopt(l->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	for (int i = 0; i < BATCH; i++) {
		l->iov[i].iov_base = l->buf[i];
		l->msg[i].msg_hdr.msg_iov = &l->iov[i];
		l->msg[i].msg_hdr.msg_iovlen = 1;
	}
	return 0;
}

/* Sends the batch; a full device queue (ENOBUFS, EAGAIN) is waited out.
 * Returns 0, or -errno. */
static int live_flush(struct live *l)
{
	int done = 0;

	while (done < l->n) {
		int r = sendmmsg(l->fd, l->msg + done, (unsigned)(l->n - done), 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS || errno == EAGAIN) {
				struct timespec ts = {0, 20000};
				l->retries++;
				nanosleep(&ts, NULL);
				continue;
			}
			return -errno;
		}
		done += r;
	}
	if (l->n) {
		uint64_t now = mono_ns();
		if (l->sent == 0)
			l->t_first_send = now;
		l->t_last_send = now;
	}
	l->sent += (uint64_t)l->n;
	l->n = 0;
	return 0;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = {.tv_sec = (time_t)(t / NSEC), .tv_nsec = (long)(t % NSEC)};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !stop)
		;
}

/* Queues one packet, waiting until it is due (less SLACK_NS). Returns 0, or -errno. */
static int live_put(struct live *l, const struct gen_pkt *p)
{
	uint64_t due, now;
	int r;

	if (l->first_ts == UINT64_MAX) {
		l->first_ts = p->ts_ns;
		l->t0 = mono_ns();
	}
	due = l->t0 + (p->ts_ns - l->first_ts);
	now = mono_ns();
	if (due > now + SLACK_NS) {
		if ((r = live_flush(l)) < 0)
			return r;
		sleep_until(due - SLACK_NS);
		now = mono_ns();
	}
	if (now > due && now - due > l->max_lag)
		l->max_lag = now - due;
	memcpy(l->buf[l->n], p->data, p->len);
	l->iov[l->n].iov_len = p->len;
	l->n++;
	l->bytes += p->len;
	l->l3bytes += p->l3_len;
	l->last_ts = p->ts_ns;
	return l->n == BATCH ? live_flush(l) : 0;
}

static void live_report(const struct live *l, const char *ifname)
{
	double el = (double)(l->t_last_send - l->t_first_send) / 1e9;
	double span = (double)(l->last_ts - l->first_ts) / 1e9;

	if (l->sent < 2 || el <= 0) {
		fprintf(stderr, "moat-gen: sent %" PRIu64 " packets on %s\n", l->sent, ifname);
		return;
	}
	fprintf(stderr,
		"moat-gen: sent %" PRIu64 " packets (%" PRIu64 " bytes) on %s in %.3f s: "
		"%.0f pps, %.2f Mbit/s L3 (planned %.0f pps); max lag %.3f ms, %" PRIu64
		" queue-full retries\n",
		l->sent, l->bytes, ifname, el, (double)(l->sent - 1) / el,
		(double)l->l3bytes * 8 / el / 1e6, span > 0 ? (double)(l->sent - 1) / span : 0,
		(double)l->max_lag / 1e6, l->retries);
}

/* ---- main ---- */

static void summary(const struct gen *g, const struct opts *o, uint64_t total, double secs)
{
	char line[4096];
	size_t n = 0;

	for (int i = 0; i < gen_nstreams(g) && n < sizeof(line) - 128; i++) {
		const struct gen_stream_stats *st = gen_stats(g, i);
		if (i == 0 && st->packets == 0)
			continue;
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s %" PRIu64, n ? ", " : "",
				      gen_stream_name(g, i), st->packets);
	}
	fprintf(stderr, "moat-gen: %" PRIu64 " packets (%s)%s%s in %.2f s", total, line,
		o->out ? " to " : "", o->out ? o->out : "", secs);
	if (!o->iface && secs > 0)
		fprintf(stderr, " (%.2f Mpps)", (double)total / secs / 1e6);
	fprintf(stderr, "%s\n", stop ? ", interrupted" : "");
}

static int write_truth(const struct gen *g, const char *path)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (!f) {
		fprintf(stderr, "moat-gen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	rc = gen_write_truth(g, f);
	if (fclose(f) != 0 || rc < 0) {
		fprintf(stderr, "moat-gen: %s: write error\n", path);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct gen_config c;
	struct opts o = {.snaplen = 65535};
	struct writer w = {0};
	struct live *l = NULL;
	struct gen_pkt p;
	struct gen *g;
	char err[256];
	uint64_t total = 0, t0;
	int rc = 0, r;

	gen_config_init(&c);
	parse_args(argc, argv, &c, &o);
	g = gen_new(&c, err, sizeof(err));
	if (!g)
		usage_error("%s", err);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* failing to set up is a usage error (2); failing while running is 1 */
	if (o.out && writer_open(&w, o.out, o.snaplen, o.usec) < 0) {
		rc = EXIT_USAGE;
		goto out;
	}
	if (o.iface) {
		l = calloc(1, sizeof(*l));
		if (!l || live_open(l, o.iface) < 0) {
			rc = EXIT_USAGE;
			goto out;
		}
		l->first_ts = UINT64_MAX;
	}
	t0 = mono_ns();
	while (!stop && gen_next(g, &p)) {
		if (o.out)
			writer_put(&w, &p);
		if (l && (r = live_put(l, &p)) < 0) {
			fprintf(stderr, "moat-gen: -i %s: send: %s\n", o.iface, strerror(-r));
			rc = 1;
			break;
		}
		total++;
	}
	if (l && rc == 0 && (r = live_flush(l)) < 0) {
		fprintf(stderr, "moat-gen: -i %s: send: %s\n", o.iface, strerror(-r));
		rc = 1;
	}
	summary(g, &o, total, (double)(mono_ns() - t0) / 1e9);
	if (l)
		live_report(l, o.iface);
	if (o.truth && write_truth(g, o.truth) < 0)
		rc = 1;
out:
	if (o.out && writer_close(&w) < 0) {
		fprintf(stderr, "moat-gen: %s: write error\n", o.out);
		rc = 1;
	}
	if (l && l->fd > 0)
		close(l->fd);
	free(l);
	gen_free(g);
	return rc;
}
