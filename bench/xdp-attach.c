/* xdp-attach: attaches the XDP scrubber to one interface with one drop rule, for benchmarks
 * (bench/xdp-veth.sh). Opens the scrubber unpinned, attaches it (native, else generic), installs
 * a deny prefix or a target rule, says "attached IFACE MODE" on stderr, waits for SIGTERM or
 * SIGINT, then prints the rule and reason counters as one line of JSON on stdout and detaches.
 *
 *   xdp-attach [--generic] IFACE deny PREFIX
 *   xdp-attach [--generic] IFACE rule TARGET udp|tcp|icmp|any|PROTO
 *
 * The rule is rule 0 of TARGET, action drop, matching the protocol (any: every packet).
 */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mitigate/xdp.h"

static const char *const reasons[SCRUB_R_MAX] = {
    [SCRUB_R_PASS] = "pass",
    [SCRUB_R_NOT_IP] = "not_ip",
    [SCRUB_R_ALLOW] = "allow",
    [SCRUB_R_DENY] = "deny",
    [SCRUB_R_RULE_PASS] = "rule_pass",
    [SCRUB_R_RULE_DROP] = "rule_drop",
    [SCRUB_R_RATE_PASS] = "rate_pass",
    [SCRUB_R_RATE_DROP] = "rate_drop",
    [SCRUB_R_AMP] = "amp",
    [SCRUB_R_BAD_HDR] = "bad_hdr",
    [SCRUB_R_BAD_TCP_FLAGS] = "bad_tcp_flags",
    [SCRUB_R_TINY_FRAG] = "tiny_frag",
    [SCRUB_R_SAMPLE_LOST] = "sample_lost",
};

static int usage(void)
{
	fprintf(stderr, "usage: xdp-attach [--generic] IFACE deny PREFIX\n"
			"       xdp-attach [--generic] IFACE rule TARGET udp|tcp|icmp|any|PROTO\n");
	return 2;
}

static void counter_json(const char *name, const struct scrub_counter *c, int comma)
{
	printf("%s\"%s\":{\"packets\":%llu,\"bytes\":%llu,\"dropped_packets\":%llu,"
	       "\"dropped_bytes\":%llu}",
	       comma ? "," : "", name, (unsigned long long)c->packets, (unsigned long long)c->bytes,
	       (unsigned long long)c->dropped_packets, (unsigned long long)c->dropped_bytes);
}

/* 0 with *r filled, or -1 */
static int parse_rule(const char *target, const char *proto, struct scrub_rule *r)
{
	struct scrub_lpm_key k;
	char *end;

	memset(r, 0, sizeof(*r));
	if (xdp_scrub_prefix_parse(target, &k) != 0 || k.prefixlen != 128)
		return -1;
	memcpy(r->target.a, k.addr, 16);
	r->action = SCRUB_ACT_DROP;
	r->match = SCRUB_M_PROTO;
	if (!strcmp(proto, "udp")) {
		r->proto = IPPROTO_UDP;
	} else if (!strcmp(proto, "tcp")) {
		r->proto = IPPROTO_TCP;
	} else if (!strcmp(proto, "icmp")) {
		r->proto = memcmp(k.addr, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) ? IPPROTO_ICMPV6
									      : IPPROTO_ICMP;
	} else if (!strcmp(proto, "any")) {
		r->match = 0;
	} else {
		unsigned long p = strtoul(proto, &end, 10);

		if (*end || end == proto || p > 255)
			return -1;
		r->proto = (__u8)p;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct xdp_scrub *x = NULL;
	struct scrub_lpm_key k;
	struct scrub_rule r;
	struct scrub_counter c;
	sigset_t set;
	int a = 1, generic = 0, ifindex, mode, native_err = 0, err, sig, rule = 0;

	if (argc > 1 && !strcmp(argv[1], "--generic")) {
		generic = 1;
		a++;
	}
	if (argc - a != 3 && argc - a != 4)
		return usage();
	ifindex = (int)if_nametoindex(argv[a]);
	if (!ifindex) {
		fprintf(stderr, "xdp-attach: %s: no such interface\n", argv[a]);
		return 2;
	}
	if (!strcmp(argv[a + 1], "deny") && argc - a == 3) {
		if (xdp_scrub_prefix_parse(argv[a + 2], &k) != 0) {
			fprintf(stderr, "xdp-attach: bad prefix %s\n", argv[a + 2]);
			return 2;
		}
	} else if (!strcmp(argv[a + 1], "rule") && argc - a == 4) {
		if (parse_rule(argv[a + 2], argv[a + 3], &r) != 0) {
			fprintf(stderr, "xdp-attach: bad rule %s %s\n", argv[a + 2], argv[a + 3]);
			return 2;
		}
		rule = 1;
	} else {
		return usage();
	}
	/* block the signals before anything is attached: they are taken by sigwait below */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);

	err = xdp_scrub_open(&x, "");
	if (err) {
		fprintf(stderr, "xdp-attach: xdp_scrub_open: %s\n", strerror(-err));
		return 1;
	}
	err = rule ? xdp_scrub_rule_add(x, 0, &r) : xdp_scrub_prefix_add(x, XDP_SCRUB_DENY, &k);
	if (err) {
		fprintf(stderr, "xdp-attach: installing the %s: %s\n", rule ? "rule" : "prefix",
			strerror(-err));
		xdp_scrub_close(x);
		return 1;
	}
	mode = xdp_scrub_attach(x, ifindex, generic, &native_err);
	if (mode < 0) {
		fprintf(stderr, "xdp-attach: attach %s: %s\n", argv[a], strerror(-mode));
		xdp_scrub_close(x);
		return 1;
	}
	fprintf(stderr, "attached %s %s", argv[a], mode == XDP_SCRUB_NATIVE ? "native" : "generic");
	if (native_err)
		fprintf(stderr, " (native: %s)", strerror(-native_err));
	fprintf(stderr, "\n");

	while (sigwait(&set, &sig) != 0)
		;

	printf("{\"iface\":\"%s\",\"mode\":\"%s\"", argv[a],
	       mode == XDP_SCRUB_NATIVE ? "native" : "generic");
	if (rule && xdp_scrub_rule_counter(x, 0, &c) == 0)
		counter_json("rule", &c, 1);
	printf(",\"reasons\":{");
	for (int i = 0; i < SCRUB_R_MAX; i++) {
		if (xdp_scrub_reason_counter(x, (__u32)i, &c) != 0)
			memset(&c, 0, sizeof(c));
		counter_json(reasons[i], &c, i > 0);
	}
	printf("}}\n");
	fflush(stdout);
	xdp_scrub_close(x); /* detaches */
	return 0;
}
