/* fuzz_rule: the rule words moatctl sends (rule add TARGET ...). Any words must parse or fail
 * cleanly, and what parses must format to words that parse back to the same rule. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mitigate/rule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* splits buf on spaces and NULs into argv; returns argc */
static int split(char *buf, char **argv, int max)
{
	int argc = 0;
	char *save = NULL;

	for (char *t = strtok_r(buf, " ", &save); t && argc < max; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	return argc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char buf[1024], txt[RULE_TEXT_MAX], tgt[64], again[RULE_TEXT_MAX + 80], err[256];
	char *argv[64];
	struct scrub_rule r, r2;

	if (size >= sizeof(buf))
		return 0;
	for (size_t i = 0; i < size; i++)
		buf[i] = data[i] ? (char)data[i] : ' ';
	buf[size] = 0;
	int argc = split(buf, argv, 64);
	if (rule_parse(argc, argv, &r, err, sizeof(err)) < 0) {
		if (!err[0])
			abort(); /* a refusal always says why */
		return 0;
	}
	if (!rule_valid(&r))
		abort();
	rule_format(&r, txt, sizeof(txt));
	rule_target_str(&r, tgt, sizeof(tgt));
	snprintf(again, sizeof(again), "%s %s", tgt, txt);
	argc = split(again, argv, 64);
	if (rule_parse(argc, argv, &r2, err, sizeof(err)) < 0 || memcmp(&r, &r2, sizeof(r)) != 0) {
		fprintf(stderr, "round trip: '%s' -> %s\n", txt, err);
		abort();
	}
	return 0;
}
