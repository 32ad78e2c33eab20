/* evlog: the event log, one JSON object per line. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "event/sinks.h"

struct evlog {
	char *path;
	FILE *f;
	bool is_stdout;
	/* the BGP speaker writes its events from its own thread: one line at a time */
	pthread_mutex_t lock;
};

struct evlog *evlog_open(const char *path, char *err, size_t errlen)
{
	struct evlog *l = calloc(1, sizeof(*l));

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&l->lock, NULL);
	l->path = strdup(path);
	l->is_stdout = strcmp(path, "-") == 0;
	if (!l->path || evlog_reopen(l, err, errlen) < 0) {
		evlog_close(l);
		return NULL;
	}
	return l;
}

/* Opens path for appending into *f ("-": stdout). 0 or -1 with err set. */
static int open_file(const char *path, bool is_stdout, FILE **f, char *err, size_t errlen)
{
	if (is_stdout) {
		*f = stdout;
		return 0;
	}
	*f = fopen(path, "ae");
	if (!*f) {
		snprintf(err, errlen, "events file %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int evlog_reopen(struct evlog *l, char *err, size_t errlen)
{
	FILE *f;

	if (open_file(l->path, l->is_stdout, &f, err, errlen) < 0)
		return -1;
	pthread_mutex_lock(&l->lock);
	if (l->f && !l->is_stdout)
		fclose(l->f);
	l->f = f;
	pthread_mutex_unlock(&l->lock);
	return 0;
}

int evlog_retarget(struct evlog *l, const char *path, char *err, size_t errlen)
{
	char *np = NULL;
	FILE *f = NULL;
	bool is_stdout = path && strcmp(path, "-") == 0;

	if (path && (!(np = strdup(path)) || open_file(np, is_stdout, &f, err, errlen) < 0)) {
		if (!np)
			snprintf(err, errlen, "out of memory");
		free(np);
		return -1;
	}
	pthread_mutex_lock(&l->lock);
	if (l->f && !l->is_stdout)
		fclose(l->f);
	free(l->path);
	l->f = f;
	l->path = np;
	l->is_stdout = is_stdout;
	pthread_mutex_unlock(&l->lock);
	return 0;
}

const char *evlog_path(const struct evlog *l)
{
	return l->path;
}

void evlog_line(void *arg, const char *json, size_t len)
{
	struct evlog *l = arg;

	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	if (l->f) {
		fwrite(json, 1, len, l->f);
		fputc('\n', l->f);
		fflush(l->f);
	}
	pthread_mutex_unlock(&l->lock);
}

void evlog_event(void *arg, const struct event *ev)
{
	evlog_line(arg, ev->json, ev->json_len);
}

void evlog_close(struct evlog *l)
{
	if (!l)
		return;
	if (l->f && !l->is_stdout)
		fclose(l->f);
	free(l->path);
	pthread_mutex_destroy(&l->lock);
	free(l);
}
