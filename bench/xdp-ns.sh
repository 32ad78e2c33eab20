#!/bin/sh
# bench/xdp-ns.sh: nanoseconds per packet of the XDP scrubber through BPF_PROG_TEST_RUN
# (repeat 1e6, one 64-byte IPv4 UDP frame) with 0, 10, 10k and 1M deny entries (all /32, and half
# /32 half /24) and with target rule lists, beside xdp-filter (Debian's xdp-tools, its own compiled
# program xdpfilt_alw_ip.o run the same way, in the same process). RUNS rounds (default 11), each
# timing every column of a row in turn; medians. Root only; nothing is attached to any interface.
# Prints Markdown. The runner is C (libbpf), compiled here from the heredoc below against
# build/release.
RUNS=${RUNS:-11}
. "$(dirname "$0")/lib.sh"
set -e
[ "$(id -u)" = 0 ] || { echo "xdp-ns: needs root" >&2; exit 1; }
[ -f "$ROOT/build/release/libmoat-bpf.a" ] || make -C "$ROOT" -s release
XDPFILT=${XDPFILT:-/usr/lib/$(cc -dumpmachine)/bpf/xdpfilt_alw_ip.o}
RUNNER="$W/xdp-ns-run"
cat >"$W/xdp-ns-run.c" <<'C'
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "mitigate/xdp.h"

/* One measurement: a program and a 64-byte IPv4 UDP frame from src, timed ROUNDS times. */
struct probe {
	const char *name;
	int fd, want;
	unsigned char frame[64];
	unsigned ns[64];
};

static int rounds;

static void mkframe(unsigned char *frame, const char *src, const char *dst)
{
	unsigned char *ip = frame + 14, *u = ip + 20;

	memset(frame, 0, 64);
	frame[12] = 0x08;
	ip[0] = 0x45;
	ip[3] = 50;
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	inet_pton(AF_INET, src, ip + 12);
	inet_pton(AF_INET, dst, ip + 16);
	u[0] = 0x30, u[1] = 0x39, u[2] = 0x00, u[3] = 0x50, u[5] = 30;
}

static void probe(struct probe *p, const char *name, int fd, const char *src, const char *dst,
		  int want)
{
	p->name = name;
	p->fd = fd;
	p->want = want;
	mkframe(p->frame, src, dst);
}

static unsigned run1(struct probe *p)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = p->frame, .data_size_in = 64,
		    .repeat = 1000000);
	int err = bpf_prog_test_run_opts(p->fd, &o);

	if (err || (int)o.retval != p->want) {
		fprintf(stderr, "%s: err %d retval %u, want %d\n", p->name, err, o.retval, p->want);
		exit(1);
	}
	return o.duration;
}

static int cmpu(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

/* rounds of every probe in turn, starting one further each round (no probe always follows the
 * same one), so that noise falls on all alike; then each probe's median */
static void measure(struct probe *p, int n)
{
	for (int r = 0; r < rounds; r++)
		for (int j = 0; j < n; j++) {
			int i = (r + j) % n;

			p[i].ns[r] = run1(&p[i]);
		}
	for (int i = 0; i < n; i++) {
		qsort(p[i].ns, rounds, sizeof(unsigned), cmpu);
		p[i].ns[0] = rounds % 2 ? p[i].ns[rounds / 2]
					: (p[i].ns[rounds / 2 - 1] + p[i].ns[rounds / 2] + 1) / 2;
	}
}

static struct xdp_scrub *scrubber(void)
{
	struct xdp_scrub *x;
	int err = xdp_scrub_open(&x, "");

	if (err) {
		fprintf(stderr, "xdp_scrub_open: %s\n", strerror(-err));
		exit(1);
	}
	return x;
}

/* n deny entries 10.0.0.0 + i * 256: all /32, or (mixed) every other a /24 */
static struct xdp_scrub *deny_list(long n, int mixed)
{
	struct xdp_scrub *x = scrubber();
	struct scrub_lpm_key *k = calloc(n ? n : 1, sizeof(*k));

	for (long i = 0; i < n; i++) {
		unsigned v = 0x0a000000u + (unsigned)i * 256;

		k[i].prefixlen = mixed && i % 2 ? 120 : 128;
		k[i].addr[10] = k[i].addr[11] = 0xff;
		k[i].addr[12] = v >> 24, k[i].addr[13] = v >> 16, k[i].addr[14] = v >> 8;
	}
	if (n && xdp_scrub_prefix_add_many(x, XDP_SCRUB_DENY, k, n) != n) {
		fprintf(stderr, "deny list of %ld failed\n", n);
		exit(1);
	}
	free(k);
	return x;
}

/* xdp-filter's own object: filter_ipv4 is a hash of exact addresses, value flags (1 = source).
 * Returns the program fd, 0 if n is more than it holds (*max says how many), -1 on error. */
static int xdpfilt(const char *path, long n, unsigned *max)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *p;
	struct bpf_map *m;
	int ncpu = libbpf_num_possible_cpus();

	if (obj) /* its maps ask to be pinned by name: not here */
		bpf_object__for_each_map(m, obj) bpf_map__set_pin_path(m, NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "xdp-filter object %s: %s\n", path, strerror(errno));
		return -1;
	}
	p = bpf_object__next_program(obj, NULL);
	m = bpf_object__find_map_by_name(obj, "filter_ipv4");
	if (!p || !m)
		return -1;
	*max = bpf_map__max_entries(m);
	if ((unsigned long)n > *max)
		return 0;
	size_t vs = (bpf_map__value_size(m) + 7) & ~7UL;
	int percpu = bpf_map__type(m) == BPF_MAP_TYPE_PERCPU_HASH;
	unsigned char *val = calloc(percpu ? ncpu : 1, vs);
	for (int c = 0; c < (percpu ? ncpu : 1); c++)
		val[c * vs] = 1; /* MAP_FLAG_SRC */
	for (long i = 0; i < n; i++) {
		unsigned k = htonl(0x0a000000u + (unsigned)i * 256);
		if (bpf_map__update_elem(m, &k, 4, val, percpu ? ncpu * vs : bpf_map__value_size(m),
					 0))
			return -1;
	}
	free(val);
	return bpf_program__fd(p);
}

static const char *num(long n)
{
	static char b[4][32];
	static int i;

	i = (i + 1) % 4;
	if (n >= 1000000)
		snprintf(b[i], 32, "%ld,%03ld,%03ld", n / 1000000, n / 1000 % 1000, n % 1000);
	else if (n >= 1000)
		snprintf(b[i], 32, "%ld,%03ld", n / 1000, n % 1000);
	else
		snprintf(b[i], 32, "%ld", n);
	return b[i];
}

int main(int argc, char **argv)
{
	static const long sizes[] = {0, 10, 10000, 1000000};
	static const long nrules[] = {0, 10, 16, 10000};
	const char *filt = argc > 2 ? argv[2] : "";

	if (argc < 2 || (rounds = atoi(argv[1])) < 1 || rounds > 64)
		return 2;
	libbpf_set_print(NULL);
	printf("| entries | moat, not listed | moat, listed | xdp-filter, not listed | xdp-filter, "
	       "listed | moat, half /24: not listed | listed /32 | in a listed /24 | not listed, "
	       "in 10/8 |\n|---|---|---|---|---|---|---|---|---|\n");
	for (unsigned s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		long n = sizes[s];
		struct xdp_scrub *ex = deny_list(n, 0), *mx = deny_list(n, 1);
		unsigned max = 0;
		int ff = *filt ? xdpfilt(filt, n, &max) : -1, np = 0;
		struct probe p[8];

		probe(&p[np++], "exact miss", xdp_scrub_prog_fd(ex), "192.0.2.1", "203.0.113.1",
		      XDP_PASS);
		probe(&p[np++], "mixed miss", xdp_scrub_prog_fd(mx), "192.0.2.1", "203.0.113.1",
		      XDP_PASS);
		if (ff > 0)
			probe(&p[np++], "xdp-filter miss", ff, "192.0.2.1", "203.0.113.1", XDP_PASS);
		if (n) {
			probe(&p[np++], "exact hit", xdp_scrub_prog_fd(ex), "10.0.0.0",
			      "203.0.113.1", XDP_DROP);
			probe(&p[np++], "mixed hit /32", xdp_scrub_prog_fd(mx), "10.0.0.0",
			      "203.0.113.1", XDP_DROP);
			probe(&p[np++], "mixed hit /24", xdp_scrub_prog_fd(mx), "10.0.1.7",
			      "203.0.113.1", XDP_DROP);
			probe(&p[np++], "mixed near miss", xdp_scrub_prog_fd(mx), "10.0.0.1",
			      "203.0.113.1", XDP_PASS);
			if (ff > 0)
				probe(&p[np++], "xdp-filter hit", ff, "10.0.0.0", "203.0.113.1",
				      XDP_DROP);
		}
		measure(p, np);
		printf("| %s |", num(n));
		for (int c = 0; c < 8; c++) {
			static const char *cols[] = {"exact miss",    "exact hit",     "xdp-filter miss",
						     "xdp-filter hit", "mixed miss",    "mixed hit /32",
						     "mixed hit /24", "mixed near miss"};
			int found = 0;

			for (int i = 0; i < np; i++)
				if (!strcmp(p[i].name, cols[c])) {
					printf(" %u |", p[i].ns[0]);
					found = 1;
				}
			if (found)
				continue;
			if (c == 2 && ff == 0)
				printf(" cannot: holds at most %s |", num(max));
			else if (c == 2 && ff < 0)
				printf(" (no xdp-tools) |");
			else
				printf(" – |");
		}
		printf("\n");
		xdp_scrub_close(ex);
		xdp_scrub_close(mx);
	}
	printf("\n| target rules (16 a target, the probed target's last matches) | ns |\n|---|---|\n");
	for (unsigned s = 0; s < sizeof(nrules) / sizeof(nrules[0]); s++) {
		long n = nrules[s], t = 0;
		struct xdp_scrub *x = scrubber();
		struct probe p;
		char dst[32];

		for (long i = 0; i < n; i++) {
			struct scrub_rule r = {.action = SCRUB_ACT_DROP,
					       .match = SCRUB_M_PROTO | SCRUB_M_DPORT,
					       .proto = IPPROTO_UDP,
					       .dport_min = 1000,
					       .dport_max = 2000};
			t = i / SCRUB_TARGET_RULES;
			r.target.a[10] = r.target.a[11] = 0xff;
			r.target.a[12] = 100, r.target.a[13] = t >> 16, r.target.a[14] = t >> 8,
			r.target.a[15] = t;
			if (i == n - 1)
				r.dport_min = 80, r.dport_max = 80;
			if (xdp_scrub_rule_add(x, i, &r))
				return 1;
		}
		snprintf(dst, sizeof(dst), "100.%ld.%ld.%ld", (t >> 16) & 255, (t >> 8) & 255,
			 t & 255);
		probe(&p, "rules", xdp_scrub_prog_fd(x), "192.0.2.1", dst, n ? XDP_DROP : XDP_PASS);
		measure(&p, 1);
		printf("| %s | %u |\n", num(n), p.ns[0]);
		xdp_scrub_close(x);
	}
	return 0;
}
C
cc -O2 -std=gnu11 -D_GNU_SOURCE -I"$ROOT/src" -I"$ROOT/build/bpf" "$W/xdp-ns-run.c" \
	"$ROOT/build/release/libmoat-bpf.a" "$ROOT/build/release/libmoat.a" -lbpf -o "$RUNNER"

echo "## XDP scrubber: ns per packet (BPF_PROG_TEST_RUN, repeat 1e6, median of $RUNS rounds)"
echo
machine
echo
[ -f "$XDPFILT" ] || XDPFILT=
"$RUNNER" "$RUNS" "$XDPFILT"
echo
echo "Every round times every column of a row in turn (one process, the first one further each round),"
echo "so noise falls on all alike."
echo "Deny list entries are 10.0.0.0 + i * 256. moat keeps /32s in a hash (xdp-filter's kind of table)"
echo "and shorter prefixes in an LPM trie; xdp-filter cannot hold prefixes."
