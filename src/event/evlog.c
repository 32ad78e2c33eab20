/* evlog: the event log, one JSON object per line. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "event/sinks.h"

struct evlog {
	char *path;
	FILE *f;
	bool is_stdout;
};

struct evlog *evlog_open(const char *path, char *err, size_t errlen)
{
	struct evlog *l = calloc(1, sizeof(*l));

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->path = strdup(path);
	l->is_stdout = strcmp(path, "-") == 0;
	if (!l->path || evlog_reopen(l, err, errlen) < 0) {
		evlog_close(l);
		return NULL;
	}
	return l;
}

int evlog_reopen(struct evlog *l, char *err, size_t errlen)
{
	if (l->is_stdout) {
		l->f = stdout;
		return 0;
	}
	FILE *f = fopen(l->path, "ae");
	if (!f) {
		snprintf(err, errlen, "events file %s: %s", l->path, strerror(errno));
		return -1;
	}
	if (l->f)
		fclose(l->f);
	l->f = f;
	return 0;
}

int evlog_retarget(struct evlog *l, const char *path, char *err, size_t errlen)
{
	if (!path) {
		if (l->f && !l->is_stdout)
			fclose(l->f);
		l->f = NULL;
		free(l->path);
		l->path = NULL;
		return 0;
	}
	struct evlog n = {.path = strdup(path), .is_stdout = strcmp(path, "-") == 0};
	if (!n.path || evlog_reopen(&n, err, errlen) < 0) {
		free(n.path);
		return -1;
	}
	if (l->f && !l->is_stdout)
		fclose(l->f);
	free(l->path);
	*l = n;
	return 0;
}

const char *evlog_path(const struct evlog *l)
{
	return l->path;
}

void evlog_event(void *arg, const struct event *ev)
{
	struct evlog *l = arg;

	if (!l->f)
		return;
	fwrite(ev->json, 1, ev->json_len, l->f);
	fputc('\n', l->f);
	fflush(l->f);
}

void evlog_line(void *arg, const char *json, size_t len)
{
	struct evlog *l = arg;

	if (!l || !l->f)
		return;
	fwrite(json, 1, len, l->f);
	fputc('\n', l->f);
	fflush(l->f);
}

void evlog_close(struct evlog *l)
{
	if (!l)
		return;
	if (l->f && !l->is_stdout)
		fclose(l->f);
	free(l->path);
	free(l);
}
