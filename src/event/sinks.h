/* sinks: consumers of detector events. Each is subscribed with det_subscribe(). */
#ifndef MOAT_SINKS_H
#define MOAT_SINKS_H

#include <stdio.h>

#include "core/conf.h"
#include "detect/detect.h"

/* JSON lines to a file ("-" = stdout). Each event is one line, flushed at once. */
struct evlog;
struct evlog *evlog_open(const char *path, char *err, size_t errlen);
void evlog_event(void *evlog, const struct event *ev);
/* Writes one JSON object (no newline) as a line: events that do not come from the detector
 * (mitigation_start, mitigation_end). */
void evlog_line(void *evlog, const char *json, size_t len);
/* Reopens the file (after log rotation, on SIGHUP). Returns 0 or -1 with err set. */
int evlog_reopen(struct evlog *l, char *err, size_t errlen);
/* Points the log at another file (NULL: stop writing). Returns 0 or -1 with err set, keeping
 * the old file. */
int evlog_retarget(struct evlog *l, const char *path, char *err, size_t errlen);
const char *evlog_path(const struct evlog *l);
void evlog_close(struct evlog *l);

/* Runs the notify script on attack_start and attack_end, FastNetMon-style:
 *   SCRIPT IP incoming|outgoing PPS ban|unban   with details (text or JSON) on stdin.
 * The script runs in the background; notify_reap() collects it and kills it after the timeout. */
struct notify;
struct notify *notify_new(const struct conf *c);
void notify_set_conf(struct notify *n, const struct conf *c);
void notify_event(void *notify, const struct event *ev);
/* Collects finished scripts; kills ones past their timeout. With wait, blocks until all ended. */
void notify_reap(struct notify *n, bool wait);
void notify_free(struct notify *n);
/* Scripts started, failed to start, exited non-zero, killed by timeout. */
struct notify_stats {
	unsigned long started, spawn_failed, failed, killed;
};
const struct notify_stats *notify_stats(const struct notify *n);

#endif
