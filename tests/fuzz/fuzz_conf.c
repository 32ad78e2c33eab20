/* fuzz_conf: moat.yaml loader. Any input must load or fail cleanly (ASan/UBSan watch), and what
 * loads must print to a form that loads back and prints the same (the `moatd -t -v` promise). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* conf_print into a malloc'd string. */
static char *print(const struct conf *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		abort();
	conf_print(c, m);
	fclose(m);
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf *c = NULL, *c2 = NULL;
	char err[512];

	if (conf_load_buf("fuzz.yaml", (const char *)data, size, &c, err, sizeof(err)) < 0) {
		if (c || strchr(err, '\n') || !err[0])
			abort(); /* errors are one non-empty line and leave nothing behind */
		return 0;
	}
	char *p1 = print(c);
	if (conf_load_buf("printed.yaml", p1, strlen(p1), &c2, err, sizeof(err)) < 0) {
		fprintf(stderr, "printed config does not load: %s\n%s", err, p1);
		abort();
	}
	char *p2 = print(c2);
	if (strcmp(p1, p2)) {
		fprintf(stderr, "print is not stable:\n%s---\n%s", p1, p2);
		abort();
	}
	free(p1);
	free(p2);
	conf_free(c);
	conf_free(c2);
	return 0;
}
