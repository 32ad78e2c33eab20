/* test_conf: golden config tests, as bgpd's: every tests/conf/NAME.yaml must load and print
 * exactly NAME.ok (and that print must load back to the same print); every bad-NAME.yaml must
 * fail with exactly the one line in bad-NAME.err. Then a few struct fields are checked directly.
 *
 * usage: test_conf [DIR]   (default tests/conf, run from the repository root)
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "core/conf.h"
#include "t.h"

static int n_good, n_bad;

/* Reads a whole file. Returns a NUL-terminated malloc'd buffer, or NULL. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;
	int ch;

	if (!f)
		return NULL;
	FILE *m = open_memstream(&buf, &len);
	while ((ch = fgetc(f)) != EOF)
		fputc(ch, m);
	fclose(m);
	fclose(f);
	return buf;
}

/* conf_print into a string (malloc'd). Not inlined: gcc 12 then takes the string for the local
 * variable open_memstream wrote its address into, and warns of a dangling pointer. */
__attribute__((noinline)) static char *print_str(const struct conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	conf_print(c, m);
	fclose(m);
	return buf;
}

/* What printing the printed form again gives: the same, with the one documented exception that an
 * inline api.token is not printed, so the second print says there is none. NULL: the same. */
static char *reprinted(const char *printed)
{
	static const char set[] = "  # token: set, not printed\n";
	static const char none[] = "  # token: none (changes over HTTP are refused)\n";
	const char *hit = strstr(printed, set);

	if (!hit)
		return NULL;
	size_t pre = (size_t)(hit - printed), rest = strlen(hit + strlen(set));
	char *want = malloc(pre + strlen(none) + rest + 1);
	if (!want)
		return NULL;
	memcpy(want, printed, pre);
	memcpy(want + pre, none, strlen(none));
	memcpy(want + pre + strlen(none), hit + strlen(set), rest + 1);
	return want;
}

/* The printed form must load back and print the same: what `moatd -t -v` shows is what runs. */
static void check_roundtrip(const char *name, const char *printed)
{
	struct conf *c2 = NULL;
	char err[512];

	int rc = conf_load_buf(name, printed, strlen(printed), &c2, err, sizeof(err));
	CHECK_EQ(rc, 0);
	if (rc < 0) {
		fprintf(stderr, "%s: printed config does not load: %s\n", name, err);
		return;
	}
	char *again = print_str(c2);
	char *want = reprinted(printed);
	CHECK_STR(again, want ? want : printed);
	free(want);
	free(again);
	conf_free(c2);
}

static void check_good(const char *dir, const char *yaml, const char *base)
{
	char path[1024], okpath[1024], err[512];
	struct conf *c = NULL;

	snprintf(path, sizeof(path), "%s/%s", dir, yaml);
	snprintf(okpath, sizeof(okpath), "%s/%s.ok", dir, base);
	char *want = slurp(okpath);
	CHECK(want != NULL);
	if (!want) {
		fprintf(stderr, "%s: missing %s\n", yaml, okpath);
		return;
	}
	int rc = conf_load(path, &c, err, sizeof(err));
	CHECK_EQ(rc, 0);
	if (rc == 0) {
		char *got = print_str(c);
		CHECK_STR(got, want);
		check_roundtrip(yaml, got);
		free(got);
		conf_free(c);
	} else {
		fprintf(stderr, "%s: %s\n", yaml, err);
	}
	free(want);
	n_good++;
}

static void check_bad(const char *dir, const char *yaml, const char *base)
{
	char path[1024], errpath[1024], err[512], want[1024];
	struct conf *c = NULL;

	snprintf(path, sizeof(path), "%s/%s", dir, yaml);
	snprintf(errpath, sizeof(errpath), "%s/%s.err", dir, base);
	char *line = slurp(errpath);
	CHECK(line != NULL);
	if (!line) {
		fprintf(stderr, "%s: missing %s\n", yaml, errpath);
		return;
	}
	line[strcspn(line, "\n")] = 0;
	/* the .err names the file as yaml; conf_load names it by the path it was given */
	snprintf(want, sizeof(want), "%s/%s", dir, line);
	int rc = conf_load(path, &c, err, sizeof(err));
	CHECK_EQ(rc, -1);
	CHECK(c == NULL);
	CHECK_STR(err, want);
	CHECK(strchr(err, '\n') == NULL);
	conf_free(c);
	free(line);
	n_bad++;
}

static void check_dir(const char *dir)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort);

	CHECK(n > 0);
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		size_t len = strlen(name);
		char base[512];
		/* a golden file whose input is gone would silently stop testing anything */
		const char *dot = strrchr(name, '.');
		if (dot && (!strcmp(dot, ".ok") || !strcmp(dot, ".err"))) {
			char yaml[1024];
			snprintf(yaml, sizeof(yaml), "%s/%.*s.yaml", dir, (int)(dot - name), name);
			CHECK(access(yaml, F_OK) == 0);
			if (access(yaml, F_OK) != 0)
				fprintf(stderr, "%s/%s: no %s\n", dir, name, yaml);
		}
		if (len > 5 && len - 5 < sizeof(base) && !strcmp(name + len - 5, ".yaml")) {
			memcpy(base, name, len - 5);
			base[len - 5] = 0;
			if (!strncmp(name, "bad-", 4))
				check_bad(dir, name, base);
			else
				check_good(dir, name, base);
		}
		free(ents[i]);
	}
	free(ents);
}

/* Loads an inline config that must be good. */
static struct conf *load(const char *yaml)
{
	struct conf *c = NULL;
	char err[512];

	if (conf_load_buf("t.yaml", yaml, strlen(yaml), &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "unexpected error: %s\n", err);
		return NULL;
	}
	return c;
}

/* Loads an inline config that must fail with exactly want. */
static void load_bad(const char *yaml, size_t len, const char *want)
{
	struct conf *c = NULL;
	char err[512];

	CHECK_EQ(conf_load_buf("t.yaml", yaml, len, &c, err, sizeof(err)), -1);
	CHECK(c == NULL);
	CHECK_STR(err, want);
}

static void test_defaults(void)
{
	struct conf *c = load("networks: [198.51.100.0/24]\n");

	CHECK(c != NULL);
	if (!c)
		return;
	for (int d = 0; d < DIR__COUNT; d++) {
		CHECK_EQ(c->thr.v[d][THR_PPS], 100000);
		CHECK_EQ(c->thr.v[d][THR_MBPS], 1000);
		CHECK_EQ(c->thr.v[d][THR_FLOWS], 50000);
		CHECK_EQ(c->thr.v[d][THR_SYN_PPS], 0);
	}
	CHECK_EQ(c->n_networks, 1);
	CHECK_EQ(c->networks[0].plen, 96 + 24);
	CHECK(c->detection.cooldown == 30.0);
	CHECK(c->detection.update_interval == 5.0);
	CHECK_EQ(c->detection.top_n, 5);
	CHECK(c->events.file == NULL);
	CHECK(c->notify.script == NULL);
	CHECK_EQ(c->notify.format, NOTIFY_FASTNETMON);
	CHECK(c->notify.timeout == 30.0);
	CHECK_EQ(c->limits.max_hosts, 262144);
	CHECK_EQ(c->limits.max_hot, 16384);
	CHECK(c->limits.host_idle == 300.0);
	CHECK(c->log.file == NULL);
	CHECK_EQ(c->log.level, LOG_INFO);
	CHECK_EQ(c->n_captures, 0);
	CHECK_EQ(c->n_hostgroups, 0);
	CHECK_STR(c->path, "t.yaml");
	conf_free(c);
}

static void test_resolved(void)
{
	/* incoming written before the metric it overrides: order must not matter */
	struct conf *c = load("networks: [198.51.100.0/24]\n"
			      "thresholds:\n"
			      "  incoming: {syn_pps: 5000, pps: 7k}\n"
			      "  pps: 20000\n"
			      "  syn_pps: 1000\n"
			      "  outgoing: {mbps: 2G}\n"
			      "hostgroups:\n"
			      "  - name: web\n"
			      "    prefixes: [198.51.100.0/28]\n"
			      "    thresholds: {mbps: 300, outgoing: {syn_pps: 0}}\n"
			      "    total_thresholds: {pps: 1M}\n");

	CHECK(c != NULL);
	if (!c)
		return;
	CHECK_EQ(c->thr.v[DIR_IN][THR_PPS], 7000);
	CHECK_EQ(c->thr.v[DIR_OUT][THR_PPS], 20000);
	CHECK_EQ(c->thr.v[DIR_IN][THR_SYN_PPS], 5000);
	CHECK_EQ(c->thr.v[DIR_OUT][THR_SYN_PPS], 1000);
	CHECK_EQ(c->thr.v[DIR_OUT][THR_MBPS], 2000000000ULL);
	CHECK_EQ(c->thr.v[DIR_IN][THR_MBPS], 0); /* thresholds given: no defaults */
	CHECK_EQ(c->thr.v[DIR_IN][THR_FLOWS], 0);
	CHECK_EQ(c->n_hostgroups, 1);
	const struct hostgroup *g = &c->hostgroups[0];
	CHECK_STR(g->name, "web");
	CHECK_EQ(g->n_prefixes, 1);
	CHECK_EQ(g->thr.v[DIR_IN][THR_PPS], 7000); /* inherited, per direction */
	CHECK_EQ(g->thr.v[DIR_OUT][THR_PPS], 20000);
	CHECK_EQ(g->thr.v[DIR_IN][THR_MBPS], 300); /* the group's own, both directions */
	CHECK_EQ(g->thr.v[DIR_OUT][THR_MBPS], 300);
	CHECK_EQ(g->thr.v[DIR_IN][THR_SYN_PPS], 5000);
	CHECK_EQ(g->thr.v[DIR_OUT][THR_SYN_PPS], 0); /* explicitly disabled */
	CHECK_EQ(g->total_thr.v[DIR_IN][THR_PPS], 1000000);
	CHECK_EQ(g->total_thr.v[DIR_OUT][THR_PPS], 1000000);
	CHECK_EQ(g->total_thr.v[DIR_IN][THR_MBPS], 0); /* totals never inherit */
	conf_free(c);
}

static void test_sections(void)
{
	struct conf *c = load("networks: [\"2001:db8::/32\", 192.0.2.0/24]\n"
			      "whitelist: [192.0.2.10]\n"
			      "detection: {cooldown: 2.5, update_interval: 0.1, top_n: 32}\n"
			      "notify: {script: /x, format: json, timeout: 0.000001}\n"
			      "log: {file: /var/log/moat.log, level: debug}\n"
			      "limits: {max_hosts: 1000, max_hot: 1000, host_idle: 60}\n"
			      "capture:\n"
			      "  - af_packet: {interface: eth1}\n"
			      "  - pcap: {interface: any}\n");

	CHECK(c != NULL);
	if (!c)
		return;
	CHECK_EQ(c->n_networks, 2);
	CHECK_EQ(c->networks[0].plen, 32);
	CHECK_EQ(c->n_whitelist, 1);
	CHECK_EQ(c->whitelist[0].plen, 128);
	CHECK(c->detection.cooldown == 2.5);
	CHECK(c->detection.update_interval == 0.1);
	CHECK_EQ(c->detection.top_n, 32);
	CHECK_EQ(c->notify.format, NOTIFY_JSON);
	CHECK(c->notify.timeout == 0.000001);
	CHECK_STR(c->log.file, "/var/log/moat.log");
	CHECK_EQ(c->log.level, LOG_DEBUG);
	CHECK_EQ(c->limits.max_hot, 1000);
	CHECK_EQ(c->n_captures, 2);
	CHECK_EQ(c->captures[0].kind, CAPTURE_AF_PACKET);
	CHECK_EQ(c->captures[0].workers, 0);
	CHECK_EQ(c->captures[0].ring_mb, 64);
	CHECK_EQ(c->captures[1].kind, CAPTURE_PCAP);
	CHECK_STR(c->captures[1].interface, "any");
	conf_free(c);
}

static void test_names(void)
{
	CHECK_STR(conf_thr_name(THR_PPS), "pps");
	CHECK_STR(conf_thr_name(THR_SYN_PPS), "syn_pps");
	CHECK_STR(conf_thr_name(THR_ICMP_MBPS), "icmp_mbps");
	CHECK_STR(conf_dir_name(DIR_IN), "incoming");
	CHECK_STR(conf_dir_name(DIR_OUT), "outgoing");
}

/* Limits the fuzzer relies on, and errors that golden files cannot hold. */
static void test_limits(void)
{
	char deep[300];
	size_t n = 0;
	struct conf *c = NULL;
	char err[512];

	n += (size_t)snprintf(deep, sizeof(deep), "networks: ");
	for (int i = 0; i < 100; i++)
		deep[n++] = '[';
	deep[n] = 0;
	load_bad(deep, n, "t.yaml:1:74: nesting too deep (more than 64 levels)");

	load_bad("networks: [10.0.0.0/8]\0", 23,
		 "t.yaml:1:23: invalid input: control characters "
		 "are not allowed (0x0)");
	load_bad("", 0, "t.yaml:1:1: empty configuration ('networks' is required)");
	load_bad(NULL, 0, "t.yaml:1:1: empty configuration ('networks' is required)");

	size_t big = (16u << 20) + 1;
	char *buf = malloc(big);
	CHECK(buf != NULL);
	if (buf) {
		memset(buf, ' ', big);
		load_bad(buf, big, "t.yaml: larger than 16 MiB (16777217 bytes)");
		free(buf);
	}

	CHECK_EQ(conf_load("/nonexistent/moat.yaml", &c, err, sizeof(err)), -1);
	CHECK_STR(err, "/nonexistent/moat.yaml: No such file or directory");
	CHECK_EQ(conf_load("/", &c, err, sizeof(err)), -1);
	CHECK_STR(err, "/: Is a directory");
	CHECK(c == NULL);

	/* a tiny error buffer is cut, not overrun */
	char small[8];
	CHECK_EQ(conf_load_buf("t.yaml", "x", 1, &c, small, sizeof(small)), -1);
	CHECK_STR(small, "t.yaml:");
}

/* scrubber.deny_file / allow_file: one prefix a line, comments and blank lines skipped, errors
 * naming the key and the file's line */
static void test_list_files(void)
{
	char path[] = "/tmp/moat-deny-XXXXXX", yaml[512], want[512];
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	CHECK(f != NULL);
	if (!f)
		return;
	fputs("# a blocklist\n\n203.0.113.0/24   # a comment\n  2001:db8:bad::/48\n"
	      "198.51.100.7\n\t\r\n",
	      f);
	fclose(f);
	snprintf(yaml, sizeof(yaml),
		 "networks: [198.51.100.0/24]\nscrubber: {interfaces: [eth1], deny_file: %s, "
		 "allow_file: %s}\n",
		 path, path);
	struct conf *c = load(yaml);
	CHECK(c != NULL);
	if (c) {
		char s[64];
		CHECK_EQ(c->scrubber.n_deny_f, 3);
		CHECK_EQ(c->scrubber.n_allow_f, 3);
		CHECK_STR(prefix_str(&c->scrubber.deny_f[0].addr, c->scrubber.deny_f[0].plen, s,
				     sizeof(s)),
			  "203.0.113.0/24");
		CHECK_STR(prefix_str(&c->scrubber.deny_f[1].addr, c->scrubber.deny_f[1].plen, s,
				     sizeof(s)),
			  "2001:db8:bad::/48");
		CHECK_STR(prefix_str(&c->scrubber.deny_f[2].addr, c->scrubber.deny_f[2].plen, s,
				     sizeof(s)),
			  "198.51.100.7/32");
		CHECK_STR(c->scrubber.deny_file, path);
		conf_free(c);
	}
	f = fopen(path, "w");
	fputs("203.0.113.0/24\n203.0.113.9/24\n", f);
	fclose(f);
	snprintf(yaml, sizeof(yaml),
		 "networks: [198.51.100.0/24]\nscrubber: {interfaces: [eth1], deny_file: %s}\n",
		 path);
	snprintf(want, sizeof(want),
		 "t.yaml:2:43: scrubber.deny_file: %s:2: host bits set in '203.0.113.9/24'", path);
	load_bad(yaml, strlen(yaml), want);
	f = fopen(path, "w");
	fputs("203.0.113.0/24\nbogus\n", f);
	fclose(f);
	snprintf(want, sizeof(want), "t.yaml:2:43: scrubber.deny_file: %s:2: not a prefix: 'bogus'",
		 path);
	load_bad(yaml, strlen(yaml), want);
	unlink(path);
}

int main(int argc, char **argv)
{
	check_dir(argc > 1 ? argv[1] : "tests/conf");
	printf("test_conf: %d good and %d bad golden configs\n", n_good, n_bad);
	CHECK(n_good >= 8);
	CHECK(n_bad >= 20);
	test_defaults();
	test_resolved();
	test_sections();
	test_names();
	test_limits();
	test_list_files();
	return t_done("test_conf");
}
