/* notify: the FastNetMon-compatible hook. The script is started with posix_spawn and its details
 * written to a pipe that is closed at once (details are a few KiB, well under the pipe buffer, so
 * the write never blocks the detector). Children are reaped from the main loop. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "event/sinks.h"

extern char **environ;

enum { MAX_CHILDREN = 64 };

struct notify {
	const struct conf *conf;
	struct {
		pid_t pid;
		uint64_t deadline_ns;
	} child[MAX_CHILDREN];
	int n;
	struct notify_stats st;
};

struct notify *notify_new(const struct conf *c)
{
	struct notify *n = calloc(1, sizeof(*n));
	if (n)
		n->conf = c;
	return n;
}

void notify_set_conf(struct notify *n, const struct conf *c)
{
	n->conf = c;
}

const struct notify_stats *notify_stats(const struct notify *n)
{
	return &n->st;
}

/* FastNetMon's details are free text; ours list the fields a script may want to grep. */
static void text_details(const struct event *ev, char *buf, size_t len)
{
	const struct attack *a = ev->a;
	int o = snprintf(buf, len,
			 "IP: %s\nAttack ID: %s\nAttack type: %s\nDirection: %s\nHostgroup: %s\n"
			 "Packets per second: %.0f\nBits per second: %.0f\n"
			 "Peak packets per second: %.0f\nPeak bits per second: %.0f\n"
			 "Attack packets: %llu\nAttack bytes: %llu\n",
			 ev->target, a->id, atype_name(a->type), conf_dir_name((enum dir)a->dir),
			 ev->hostgroup ? ev->hostgroup : "-", a->pps, a->bps, a->peak_pps,
			 a->peak_bps, (unsigned long long)a->pkts, (unsigned long long)a->bytes);
	if (o > 0 && (size_t)o < len)
		snprintf(buf + o, len - (size_t)o, "Event: %.*s\n", (int)ev->json_len, ev->json);
}

void notify_event(void *arg, const struct event *ev)
{
	struct notify *n = arg;
	const struct conf *c = n->conf;
	char pps[32], details[8192];
	int pfd[2];

	if (!c->notify.script || ev->kind == EV_ATTACK_UPDATE)
		return;
	notify_reap(n, false);
	if (n->n == MAX_CHILDREN) {
		n->st.spawn_failed++;
		log_err("notify: %d scripts still running; not starting another for %s", n->n,
			ev->a->id);
		return;
	}
	snprintf(pps, sizeof(pps), "%.0f", ev->a->pps);
	char *argv[] = {c->notify.script,
			(char *)ev->target,
			(char *)conf_dir_name((enum dir)ev->a->dir),
			pps,
			ev->kind == EV_ATTACK_START ? "ban" : "unban",
			NULL};
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		n->st.spawn_failed++;
		log_err("notify: pipe: %s", strerror(errno));
		return;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[0], 0);
	pid_t pid;
	int r = posix_spawn(&pid, c->notify.script, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[0]);
	if (r) {
		close(pfd[1]);
		n->st.spawn_failed++;
		log_err("notify: cannot run %s: %s", c->notify.script, strerror(r));
		return;
	}
	n->st.started++;
	n->child[n->n].pid = pid;
	n->child[n->n].deadline_ns = mono_ns() + (uint64_t)(c->notify.timeout * 1e9);
	n->n++;
	/* a script that does not read stdin must not block us: non-blocking, short write is fine */
	fcntl(pfd[1], F_SETFL, O_NONBLOCK);
	if (c->notify.format == NOTIFY_JSON) {
		if (write(pfd[1], ev->json, ev->json_len) < 0 || write(pfd[1], "\n", 1) < 0) {
			/* EPIPE/EAGAIN: the script did not want its details */
		}
	} else {
		text_details(ev, details, sizeof(details));
		if (write(pfd[1], details, strlen(details)) < 0) {
			/* as above */
		}
	}
	close(pfd[1]);
}

void notify_reap(struct notify *n, bool wait)
{
	uint64_t now = mono_ns();

	for (int i = 0; i < n->n;) {
		int status;
		pid_t r = waitpid(n->child[i].pid, &status, wait ? 0 : WNOHANG);
		if (r == 0) {
			if (now > n->child[i].deadline_ns) {
				kill(n->child[i].pid, SIGKILL);
				n->st.killed++;
				log_err("notify: script pid %d ran past notify.timeout; killed",
					n->child[i].pid);
				n->child[i].deadline_ns = UINT64_MAX;
			}
			i++;
			continue;
		}
		if (r > 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
			n->st.failed++;
			log_warn("notify: script pid %d failed (%s %d)", n->child[i].pid,
				 WIFEXITED(status) ? "exit" : "signal",
				 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		}
		n->child[i] = n->child[--n->n];
	}
}

void notify_free(struct notify *n)
{
	if (!n)
		return;
	notify_reap(n, true);
	free(n);
}
