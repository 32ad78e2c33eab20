#!/bin/sh
# bench/xdp-ns.sh: nanoseconds per packet of the XDP scrubber through BPF_PROG_TEST_RUN
# (repeat 1e6, one 64-byte IPv4 UDP frame), with 0, 10, 10k and 1M deny prefixes and with target
# rule lists, beside xdp-filter (Debian's xdp-tools, its own compiled program xdpfilt_alw_ip.o
# run the same way). Root only; nothing is attached to any interface. Prints Markdown.
# The runner is C (libbpf), compiled here from the heredoc below against build/release.
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

static unsigned char frame[64];

static void mkframe(const char *src, const char *dst)
{
	unsigned char *ip = frame + 14, *u = ip + 20;

	memset(frame, 0, sizeof(frame));
	frame[12] = 0x08;
	ip[0] = 0x45;
	ip[3] = 50;
	ip[8] = 64;
	ip[9] = IPPROTO_UDP;
	inet_pton(AF_INET, src, ip + 12);
	inet_pton(AF_INET, dst, ip + 16);
	u[0] = 0x30, u[1] = 0x39, u[2] = 0x00, u[3] = 0x50, u[5] = 30;
}

static void measure(int fd, const char *what, int want)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = sizeof(frame),
		    .repeat = 1000000);
	int err = bpf_prog_test_run_opts(fd, &o);

	if (err || (int)o.retval != want) {
		fprintf(stderr, "%s: err %d retval %u, want %d\n", what, err, o.retval, want);
		exit(1);
	}
	printf("%s %u\n", what, o.duration);
}

static int scrub(const char *mode, long n)
{
	struct xdp_scrub *x;
	int err = xdp_scrub_open(&x, "");

	if (err) {
		fprintf(stderr, "open: %s\n", strerror(-err));
		return 1;
	}
	if (!strcmp(mode, "deny")) {
		struct scrub_lpm_key *k = calloc(n ? n : 1, sizeof(*k));
		for (long i = 0; i < n; i++) { /* /32s from 10.0.0.0, every other a /24 */
			unsigned v = 0x0a000000u + (unsigned)i * 256;
			k[i].prefixlen = i % 2 ? 120 : 128;
			k[i].addr[10] = k[i].addr[11] = 0xff;
			k[i].addr[12] = v >> 24, k[i].addr[13] = v >> 16, k[i].addr[14] = v >> 8;
		}
		if (n && xdp_scrub_prefix_add_many(x, XDP_SCRUB_DENY, k, n) != n)
			return 1;
		mkframe("192.0.2.1", "203.0.113.1");
		measure(xdp_scrub_prog_fd(x), "miss", XDP_PASS);
		if (n) {
			mkframe("10.0.0.0", "203.0.113.1");
			measure(xdp_scrub_prog_fd(x), "hit", XDP_DROP);
		}
	} else { /* n rules on targets of 16; the probed target's last rule matches */
		long t = 0;
		for (long i = 0; i < n; i++) {
			struct scrub_rule r = {.action = SCRUB_ACT_DROP, .match = SCRUB_M_PROTO | SCRUB_M_DPORT,
					       .proto = IPPROTO_UDP, .dport_min = 1000, .dport_max = 2000};
			t = i / SCRUB_TARGET_RULES;
			r.target.a[10] = r.target.a[11] = 0xff;
			r.target.a[12] = 100, r.target.a[13] = t >> 16, r.target.a[14] = t >> 8,
			r.target.a[15] = t;
			if (i == n - 1)
				r.dport_min = 80, r.dport_max = 80;
			if (xdp_scrub_rule_add(x, i, &r))
				return 1;
		}
		char dst[32];
		snprintf(dst, sizeof(dst), "100.%ld.%ld.%ld", (t >> 16) & 255, (t >> 8) & 255, t & 255);
		mkframe("192.0.2.1", dst);
		measure(xdp_scrub_prog_fd(x), n ? "last-rule" : "no-rules", n ? XDP_DROP : XDP_PASS);
	}
	xdp_scrub_close(x);
	return 0;
}

/* xdp-filter's own object: filter_ipv4 is a hash of exact addresses, value flags (1 = source) */
static int xdpfilt(const char *path, long n)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *p;
	struct bpf_map *m;
	int ncpu = libbpf_num_possible_cpus();

	if (obj) /* its maps ask to be pinned by name: not here */
		bpf_object__for_each_map(m, obj) bpf_map__set_pin_path(m, NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "xdp-filter object %s: %s\n", path, strerror(errno));
		return 1;
	}
	p = bpf_object__next_program(obj, NULL);
	m = bpf_object__find_map_by_name(obj, "filter_ipv4");
	if (!p || !m)
		return 1;
	if ((unsigned long)n > bpf_map__max_entries(m)) {
		printf("max %u\n", bpf_map__max_entries(m));
		return 0;
	}
	size_t vs = bpf_map__value_size(m);
	int percpu = bpf_map__type(m) == BPF_MAP_TYPE_PERCPU_HASH;
	unsigned char *val = calloc(percpu ? ncpu : 1, (vs + 7) & ~7UL);
	for (int c = 0; c < (percpu ? ncpu : 1); c++)
		val[c * ((vs + 7) & ~7UL)] = 1; /* MAP_FLAG_SRC */
	for (long i = 0; i < n; i++) {
		unsigned k = htonl(0x0a000000u + (unsigned)i * 256);
		if (bpf_map__update_elem(m, &k, 4, val, percpu ? ncpu * ((vs + 7) & ~7UL) : vs, 0))
			return 1;
	}
	mkframe("192.0.2.1", "203.0.113.1");
	measure(bpf_program__fd(p), "miss", XDP_PASS);
	if (n) {
		mkframe("10.0.0.0", "203.0.113.1");
		measure(bpf_program__fd(p), "hit", XDP_DROP);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	libbpf_set_print(NULL);
	if (!strcmp(argv[1], "xdpfilt"))
		return xdpfilt(argv[2], atol(argv[3]));
	return scrub(argv[2], atol(argv[3]));
}
C
cc -O2 -std=gnu11 -D_GNU_SOURCE -I"$ROOT/src" -I"$ROOT/build/bpf" "$W/xdp-ns-run.c" \
	"$ROOT/build/release/libmoat-bpf.a" "$ROOT/build/release/libmoat.a" -lbpf -o "$RUNNER"

# median over RUNS of one line ("miss 41") of the runner's output
med() { # what, runner args...
	what=$1
	shift
	i=0
	while [ $i -lt "$RUNS" ]; do
		"$RUNNER" "$@" | awk -v w="$what" '$1 == w { print $2 }'
		i=$((i + 1))
	done | median
}

echo "## XDP scrubber: ns per packet (BPF_PROG_TEST_RUN, repeat 1e6, median of $RUNS)"
echo
machine
echo
echo "| table | entries | moat miss | moat hit | xdp-filter miss | xdp-filter hit |"
echo "|---|---|---|---|---|---|"
for n in 0 10 10000 1000000; do
	mm=$(med miss scrub deny $n)
	mh=$([ $n -gt 0 ] && med hit scrub deny $n || echo -)
	if "$RUNNER" xdpfilt "$XDPFILT" $n | grep -q '^max'; then
		fm="(max $("$RUNNER" xdpfilt "$XDPFILT" $n | awk '{print $2}') entries)"
		fh=-
	elif [ -f "$XDPFILT" ]; then
		fm=$(med miss xdpfilt "$XDPFILT" $n)
		fh=$([ $n -gt 0 ] && med hit xdpfilt "$XDPFILT" $n || echo -)
	else
		fm="(no xdp-tools)"
		fh=-
	fi
	echo "| source deny list | $n | $mm | $mh | $fm | $fh |"
done
for n in 0 10 16 10000; do
	w=$([ $n -gt 0 ] && echo last-rule || echo no-rules)
	echo "| target rules (16 a target, last matches) | $n | $(med $w scrub rules $n) | | | |"
done
echo
echo "moat's deny list is an LPM trie of /32s and /24s (any prefix); xdp-filter's is a hash of exact"
echo "addresses, so it cannot hold prefixes and its table is smaller."
