/* fuzz_history: the attack history (src/hist/history.c) reading event lines it did not write.
 * Each line of the input is given to hist_line as it is, and also spliced as the value of one
 * member of a valid event (an attack, mitigation or BGP event naming this run's attack, the
 * member and a depth of arrays around the value chosen by its first two bytes), so the fuzzer
 * reaches the storing and reading back of odd values without having to write whole events. Then,
 * for any input:
 * - hist_list_json and hist_attack_json write valid JSON (jparse reads it back), whatever was
 *   stored; hist_attack_json answers 0 or 1;
 * - every line is counted once: written, malformed, or (never here) failed or dropped.
 * The database lives in /dev/shm (or TMPDIR) and starts afresh every 500 inputs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/jparse.h"
#include "core/json.h"
#include "core/log.h"
#include "hist/history.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct hist *h;
static char path[256];
static unsigned runs;

static void remove_db(void)
{
	char p[300];

	hist_close(h);
	h = NULL;
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

static void reopen(void)
{
	char err[512];

	remove_db();
	h = hist_open(path, 0, 0, err, sizeof(err));
	if (!h) {
		fprintf(stderr, "fuzz_history: %s\n", err);
		abort();
	}
}

static void check_json(const struct json *j, const char *what)
{
	char err[128];
	struct jdoc *d = jparse(j->buf, j->len, err, sizeof(err));

	if (!d) {
		fprintf(stderr, "fuzz_history: %s wrote what is not JSON (%s): %.2000s\n", what,
			err, j->buf);
		abort();
	}
	jdoc_free(d);
}

static const char *const kinds[] = {"attack_start",	"attack_update",  "attack_end",
				    "mitigation_start", "mitigation_end", "bgp_announce",
				    "bgp_withdraw",	"bgp_peer_up"};
static const char *const members[] = {
    "pps",    "bps",	 "peak_pps", "packets", "vector",   "thresholds_exceeded", "started",
    "ts",     "rule_id", "route_id", "rule",	"evidence", "dropped_packets",	   "type",
    "target", "x"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char id[32];
	uint64_t lines = 0;

	if (!h) {
		const char *t = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
		snprintf(path, sizeof(path), "%s/fuzz-history-%d.db", t ? t : "/tmp",
			 (int)getpid());
		log_set_level(LOG_CRIT);
		reopen();
		atexit(remove_db);
	}
	if (++runs % 500 == 0)
		reopen();
	snprintf(id, sizeof(id), "f-%u", runs);
	const struct hist_stats *st = hist_stats(h);
	uint64_t before = st->events_written + st->malformed + st->write_errors + st->dropped;

	for (size_t off = 0; off < size;) {
		const uint8_t *nl = memchr(data + off, '\n', size - off);
		size_t n = nl ? (size_t)(nl - (data + off)) : size - off;
		const char *l = (const char *)data + off;
		hist_line(h, l, n);
		lines++;
		if (n >= 2) { /* the rest of the line as a member of a good event */
			char *b = NULL;
			size_t blen = 0;
			FILE *f = open_memstream(&b, &blen);
			if (!f)
				break;
			fprintf(f,
				"{\"event\":\"%s\",\"ts\":%u.5,\"id\":\"%s\",\"target\":\"198.51."
				"100.1\","
				"\"attack\":\"%s\",\"rule_id\":%u,\"route_id\":%u,\"%s\":",
				kinds[(uint8_t)l[0] % 8], runs, id, id, (uint8_t)l[0] >> 3 & 3,
				(uint8_t)l[0] >> 5, members[(uint8_t)l[1] % 16]);
			unsigned deep = (uint8_t)l[1] >> 4; /* inside that many arrays */
			for (unsigned k = 0; k < deep; k++)
				fputc('[', f);
			fwrite(l + 2, 1, n - 2, f);
			for (unsigned k = 0; k < deep; k++)
				fputs(",0]", f);
			fputc('}', f);
			fclose(f);
			hist_line(h, b, blen);
			free(b);
			lines++;
		}
		off += n + (nl ? 1 : 0);
	}
	/* the end, so retention may take it */
	char end[256];
	int n = snprintf(end, sizeof(end),
			 "{\"event\":\"attack_end\",\"ts\":%u.9,\"id\":\"%s\",\"target\":\"x\"}",
			 runs, id);
	hist_line(h, end, (size_t)n);
	lines++;
	if (hist_flush(h, 10000) < 0)
		abort();
	uint64_t after = st->events_written + st->malformed + st->write_errors + st->dropped;
	if (after - before != lines || st->write_errors || st->dropped) {
		fprintf(stderr,
			"fuzz_history: %llu lines, %llu counted (%llu errors, %llu dropped)\n",
			(unsigned long long)lines, (unsigned long long)(after - before),
			(unsigned long long)st->write_errors, (unsigned long long)st->dropped);
		abort();
	}

	struct json j;
	char err[512];
	json_init(&j);
	json_obj(&j);
	if (hist_list_json(h, 5, 0, NULL, &j, err, sizeof(err)) < 0) {
		fprintf(stderr, "fuzz_history: hist_list_json: %s\n", err);
		abort();
	}
	json_end(&j);
	check_json(&j, "hist_list_json");
	json_reset(&j);
	json_obj(&j);
	int rc = hist_attack_json(h, id, &j, err, sizeof(err));
	if (rc != 0 && rc != 1) {
		fprintf(stderr, "fuzz_history: hist_attack_json: %d %s\n", rc, err);
		abort();
	}
	json_end(&j);
	check_json(&j, "hist_attack_json");
	json_free(&j);
	return 0;
}
