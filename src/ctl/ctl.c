/* ctl: control socket server. One poll(2) over the listening socket and every client; each
 * client is a small state machine: reading its request (until the empty line), then writing the
 * reply, then closed. Nothing blocks: reads and writes take what the socket has room for, and
 * the deadlines in ctl.h bound how long a client may hold a slot. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/jparse.h"
#include "core/json.h"
#include "core/log.h"
#include "ctl/ctl.h"

enum { C_READ, C_WRITE };

struct client {
	int fd;
	int state;
	bool dead;
	char *in;
	size_t inlen, incap;
	char *out;
	size_t outlen, outoff;
	uint64_t start_ms, last_ms; /* connected; last progress */
};

struct ctl {
	int lfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;
	ino_t ino;
	ctl_handler h;
	void *arg;
	struct client cl[CTL_MAX_CLIENTS];
	int n;
	struct json j;
	struct watch {
		int fd;
		void (*fn)(void *arg);
		void *arg;
	} w[CTL_MAX_WATCH];
	int n_w;
};

static uint64_t now_ms(void)
{
	return mono_ns() / 1000000;
}

/* ---- opening ---- */

/* mkdir -p of path's directory; the directories made get mode 0755 */
static int make_parent(const char *path, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0; /* relative name in the current directory, or in / */
	*slash = 0;
	for (char *p = dir + 1;; p++) {
		if (*p && *p != '/')
			continue;
		char c = *p;
		*p = 0;
		if (mkdir(dir, 0755) == 0) {
			if (chmod(dir, 0755) < 0) {
				snprintf(err, errlen, "chmod %s: %s", dir, strerror(errno));
				return -1;
			}
		} else if (errno != EEXIST) {
			snprintf(err, errlen, "cannot create directory %s: %s", dir,
				 strerror(errno));
			return -1;
		}
		*p = c;
		if (!c)
			break;
	}
	return 0;
}

/* An existing file at path: a socket nobody listens on is removed; anything else stays and is
 * an error. */
static int clear_stale(const struct sockaddr_un *sa, char *err, size_t errlen)
{
	const char *path = sa->sun_path;
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket; not replacing it", path);
		return -1;
	}
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	int r = connect(s, (const struct sockaddr *)sa, sizeof(*sa)), e = errno;
	close(s);
	if (r == 0 || e == EAGAIN) { /* accepted, or a full backlog: alive either way */
		snprintf(err, errlen,
			 "another process is listening on %s (is moatd already running?); "
			 "not replacing it",
			 path);
		return -1;
	}
	if (e == ENOENT)
		return 0; /* gone meanwhile */
	if (e != ECONNREFUSED) {
		snprintf(err, errlen, "cannot probe the existing socket %s: %s", path, strerror(e));
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "cannot remove the stale socket %s: %s", path,
			 strerror(errno));
		return -1;
	}
	log_info("removed the stale control socket %s", path);
	return 0;
}

struct ctl *ctl_open(const char *path, ctl_handler h, void *arg, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct ctl *c;
	struct stat st;

	if (!path || !*path) {
		snprintf(err, errlen, "empty control socket path");
		return NULL;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "control socket path too long (at most %zu bytes): %s",
			 sizeof(sa.sun_path) - 1, path);
		return NULL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (make_parent(path, err, errlen) < 0 || clear_stale(&sa, err, errlen) < 0)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->h = h;
	c->arg = arg;
	memcpy(c->path, sa.sun_path, sizeof(c->path));
	json_init(&c->j);
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->lfd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		free(c);
		return NULL;
	}
	/* not listening yet, so nobody can connect before the mode is 0600 */
	if (bind(c->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, errlen, "cannot bind %s: %s", path, strerror(errno));
		goto fail_fd;
	}
	if (chmod(path, 0600) < 0 || stat(path, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail_unlink;
	}
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	if (listen(c->lfd, SOMAXCONN) < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		goto fail_unlink;
	}
	return c;
fail_unlink:
	unlink(path);
fail_fd:
	close(c->lfd);
	free(c);
	return NULL;
}

/* ---- clients ---- */

/* discards what the client still sends, so that closing does not reset its connection while
 * the reply is unread (a Unix socket closed with unread input resets its peer) */
static void drain(int fd)
{
	char b[4096];
	for (int i = 0; i < 16; i++)
		if (recv(fd, b, sizeof(b), MSG_DONTWAIT) <= 0)
			break;
}

static void client_close(struct client *cl)
{
	if (cl->fd >= 0) {
		drain(cl->fd);
		close(cl->fd);
	}
	free(cl->in);
	free(cl->out);
	memset(cl, 0, sizeof(*cl));
	cl->fd = -1;
	cl->dead = true;
}

/* {"ok":false,"error":msg}\n into j */
void ctl_error_reply(struct json *j, const char *msg)
{
	char clean[512];

	/* a message may quote the request's own bytes: the reply must stay UTF-8 (JSON) */
	if (!jutf8_valid(msg, strlen(msg))) {
		size_t i = 0;
		for (; msg[i] && i + 1 < sizeof(clean); i++)
			clean[i] = (unsigned char)msg[i] < 0x80 ? msg[i] : '?';
		clean[i] = 0;
		msg = clean;
	}
	json_reset(j);
	json_obj(j);
	json_key(j, "ok");
	json_bool(j, false);
	json_key(j, "error");
	json_str(j, msg);
	json_end(j);
	json_raw(j, "\n");
}

int ctl_run(ctl_handler h, void *arg, int argc, char **argv, struct json *j)
{
	char err[512] = "";

	json_reset(j);
	json_obj(j);
	json_key(j, "ok");
	json_bool(j, true);
	int r = h(arg, argc, argv, j, err, sizeof(err));
	if (r != 0) {
		err[sizeof(err) - 1] = 0;
		ctl_error_reply(j, err[0] ? err : "failed");
		return r;
	}
	if (j->depth != 1 || j->after_key || j->oom) {
		log_err("command %s: the handler wrote an unbalanced reply", argv[0]);
		ctl_error_reply(j, "internal error: malformed reply");
		return CTL_EFAIL;
	}
	json_end(j);
	json_raw(j, "\n");
	return 0;
}

/* best effort, for a client being dropped: one send of an error reply, whatever it takes */
static void send_error_now(struct ctl *c, int fd, const char *msg)
{
	ctl_error_reply(&c->j, msg);
	if (!c->j.oom && send(fd, c->j.buf, c->j.len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("control client: %s (reply not sent: %s)", msg, strerror(errno));
}

static void client_write(struct client *cl, uint64_t now)
{
	while (cl->outoff < cl->outlen) {
		ssize_t n = send(cl->fd, cl->out + cl->outoff, cl->outlen - cl->outoff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				log_debug("control client: reply not sent: %s", strerror(errno));
				client_close(cl);
			}
			return;
		}
		cl->outoff += (size_t)n;
		cl->last_ms = now;
	}
	client_close(cl);
}

/* the reply becomes the client's to write */
static void reply(struct ctl *c, struct client *cl, uint64_t now)
{
	free(cl->in);
	cl->in = NULL;
	cl->inlen = cl->incap = 0;
	if (c->j.oom)
		ctl_error_reply(&c->j, "out of memory");
	if (c->j.oom) { /* even that failed: nothing to say */
		json_free(&c->j);
		json_init(&c->j);
		client_close(cl);
		return;
	}
	cl->out = c->j.buf;
	cl->outlen = c->j.len;
	cl->outoff = 0;
	json_init(&c->j);
	cl->state = C_WRITE;
	cl->last_ms = now = now_ms(); /* the handler may have taken a while */
	client_write(cl, now);
}

/* the request is cl->in[0..len), its last byte the '\n' of the empty line */
static void handle(struct ctl *c, struct client *cl, size_t len, uint64_t now)
{
	char *argv[CTL_MAX_ARGS + 1];
	int argc = 0;
	char err[512] = "";

	if (len == 1) {
		ctl_error_reply(&c->j, "empty request");
		reply(c, cl, now);
		return;
	}
	if (memchr(cl->in, 0, len)) {
		ctl_error_reply(&c->j, "the request holds a NUL byte");
		reply(c, cl, now);
		return;
	}
	if (!jutf8_valid(cl->in, len)) {
		ctl_error_reply(&c->j, "the request is not valid UTF-8");
		reply(c, cl, now);
		return;
	}
	for (char *p = cl->in, *end = cl->in + len - 1; p < end;) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (argc == CTL_MAX_ARGS) {
			snprintf(err, sizeof(err), "too many arguments (at most %d)", CTL_MAX_ARGS);
			ctl_error_reply(&c->j, err);
			reply(c, cl, now);
			return;
		}
		*nl = 0;
		argv[argc++] = p;
		p = nl + 1;
	}
	argv[argc] = NULL;

	ctl_run(c->h, c->arg, argc, argv, &c->j);
	reply(c, cl, now);
}

/* the first '\n' that ends an empty line, searching from `from`; -1 if none */
static long find_end(const char *b, size_t len, size_t from)
{
	for (size_t i = from; i < len; i++)
		if (b[i] == '\n' && (i == 0 || b[i - 1] == '\n'))
			return (long)i;
	return -1;
}

static void client_read(struct ctl *c, struct client *cl, uint64_t now)
{
	char msg[128];

	for (;;) {
		if (cl->inlen == cl->incap) {
			size_t cap = cl->incap ? cl->incap * 2 : 512;
			if (cap > CTL_MAX_REQUEST)
				cap = CTL_MAX_REQUEST;
			char *p = realloc(cl->in, cap);
			if (!p) {
				send_error_now(c, cl->fd, "out of memory");
				client_close(cl);
				return;
			}
			cl->in = p;
			cl->incap = cap;
		}
		ssize_t n = recv(cl->fd, cl->in + cl->inlen, cl->incap - cl->inlen, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				client_close(cl);
			return;
		}
		if (n == 0) { /* the client is done sending, without the empty line */
			if (cl->inlen == 0) {
				client_close(cl);
				return;
			}
			ctl_error_reply(&c->j,
					"incomplete request: the arguments must be followed by "
					"an empty line");
			reply(c, cl, now);
			return;
		}
		size_t from = cl->inlen ? cl->inlen - 1 : 0;
		cl->inlen += (size_t)n;
		cl->last_ms = now;
		long end = find_end(cl->in, cl->inlen, from);
		if (end >= 0) {
			handle(c, cl, (size_t)end + 1, now);
			return;
		}
		if (cl->inlen >= CTL_MAX_REQUEST) {
			snprintf(msg, sizeof(msg), "request too long (at most %d bytes)",
				 CTL_MAX_REQUEST);
			ctl_error_reply(&c->j, msg);
			reply(c, cl, now);
			return;
		}
	}
}

static void accept_clients(struct ctl *c, uint64_t now, bool *accept_ok)
{
	for (int i = 0; i < 16; i++) {
		int fd = accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				/* out of descriptors or memory: try again at the next ctl_serve */
				log_warn("control socket %s: accept: %s", c->path, strerror(errno));
				*accept_ok = false;
			}
			return;
		}
		if (c->n == CTL_MAX_CLIENTS) {
			char msg[96];
			snprintf(msg, sizeof(msg), "too many control clients (at most %d at once)",
				 CTL_MAX_CLIENTS);
			send_error_now(c, fd, msg);
			drain(fd);
			close(fd);
			continue;
		}
		struct client *cl = &c->cl[c->n++];
		memset(cl, 0, sizeof(*cl));
		cl->fd = fd;
		cl->state = C_READ;
		cl->start_ms = cl->last_ms = now;
		client_read(c, cl, now); /* the request is often there already */
	}
}

static uint64_t client_deadline(const struct client *cl)
{
	uint64_t d = cl->last_ms + CTL_IDLE_MS;
	if (cl->state == C_READ && cl->start_ms + CTL_REQUEST_MS < d)
		d = cl->start_ms + CTL_REQUEST_MS;
	return d;
}

static void expire(struct ctl *c, uint64_t now)
{
	for (int i = 0; i < c->n; i++) {
		struct client *cl = &c->cl[i];
		if (cl->dead || now < client_deadline(cl))
			continue;
		if (cl->state == C_READ) {
			char msg[96];
			if (now >= cl->start_ms + CTL_REQUEST_MS)
				snprintf(msg, sizeof(msg),
					 "timeout: request not complete within %d s",
					 CTL_REQUEST_MS / 1000);
			else
				snprintf(msg, sizeof(msg), "timeout: nothing received for %d s",
					 CTL_IDLE_MS / 1000);
			send_error_now(c, cl->fd, msg);
		} else {
			log_debug("control client dropped: it read nothing of its reply for %d s",
				  CTL_IDLE_MS / 1000);
		}
		client_close(cl);
	}
}

static void compact(struct ctl *c)
{
	int k = 0;
	for (int i = 0; i < c->n; i++)
		if (!c->cl[i].dead)
			c->cl[k++] = c->cl[i];
	c->n = k;
}

int ctl_serve(struct ctl *c, int timeout_ms)
{
	struct pollfd pfd[CTL_MAX_CLIENTS + 1 + CTL_MAX_WATCH];
	uint64_t now = now_ms();
	uint64_t deadline = timeout_ms < 0 ? UINT64_MAX : now + (uint64_t)timeout_ms;
	bool accept_ok = true;

	for (;;) {
		int np = 0;
		uint64_t wake = deadline;

		expire(c, now);
		compact(c);
		if (accept_ok)
			pfd[np++] = (struct pollfd){.fd = c->lfd, .events = POLLIN};
		for (int i = 0; i < c->n; i++) {
			struct client *cl = &c->cl[i];
			pfd[np++] = (struct pollfd){
			    .fd = cl->fd, .events = cl->state == C_READ ? POLLIN : POLLOUT};
			if (client_deadline(cl) < wake)
				wake = client_deadline(cl);
		}
		int nw = np;
		for (int i = 0; i < c->n_w; i++)
			pfd[np++] = (struct pollfd){.fd = c->w[i].fd, .events = POLLIN};
		int wait = -1;
		if (wake != UINT64_MAX)
			wait = wake <= now	       ? 0
			       : wake - now >= INT_MAX ? INT_MAX
						       : (int)(wake - now);
		int r = poll(pfd, (nfds_t)np, wait);
		if (r < 0) {
			if (errno == EINTR)
				return 0;
			return -1;
		}
		now = now_ms();
		/* the clients polled first, then new ones (accept_clients reads those at once) */
		bool incoming = accept_ok && (pfd[0].revents & POLLIN);
		int k = accept_ok ? 1 : 0;
		int polled = c->n;
		for (int i = 0; i < polled; i++, k++) {
			struct client *cl = &c->cl[i];
			if (cl->dead || !pfd[k].revents)
				continue;
			if (cl->state == C_READ)
				client_read(c, cl, now);
			else
				client_write(cl, now);
		}
		compact(c);
		if (incoming)
			accept_clients(c, now, &accept_ok);
		compact(c);
		for (int i = 0; i < c->n_w; i++)
			if (pfd[nw + i].revents)
				c->w[i].fn(c->w[i].arg);
		if (now >= deadline)
			return 0;
	}
}

int ctl_watch(struct ctl *c, int fd, void (*fn)(void *arg), void *arg)
{
	if (c->n_w == CTL_MAX_WATCH)
		return -1;
	c->w[c->n_w++] = (struct watch){.fd = fd, .fn = fn, .arg = arg};
	return 0;
}

int ctl_clients(const struct ctl *c)
{
	return c ? c->n : 0;
}

void ctl_close(struct ctl *c)
{
	struct stat st;

	if (!c)
		return;
	for (int i = 0; i < c->n; i++)
		client_close(&c->cl[i]);
	close(c->lfd);
	if (stat(c->path, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino)
		unlink(c->path);
	json_free(&c->j);
	free(c);
}
