/* Unit tests: the control socket server (src/ctl/ctl.c) over a real socket in a temporary
 * directory, and the moatctl client (build/VARIANT/moatctl, next to this test's directory)
 * against it: request framing, replies, errors, limits, timeouts, concurrent clients, stale and
 * live sockets, and moatctl's output and exit status. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/json.h"
#include "ctl/ctl.h"
#include "t.h"

extern char **environ;

static char dir[256], sock[300];

/* ---- the test daemon's commands ---- */

struct state {
	int calls;
	int empty_rules;
};

static void rule_json(struct json *o, int which)
{
	json_obj(o);
	json_key(o, "id");
	json_u64(o, which ? 12 : 1);
	json_key(o, "target");
	json_str(o, which ? "2001:db8::1" : "198.51.100.5");
	json_key(o, "origin");
	json_str(o, which ? "manual" : "auto");
	json_key(o, "attack");
	json_str(o, which ? NULL : "1700000000-1");
	json_key(o, "text");
	json_str(o, which ? "tcp dport 80 flags SYN/SYN,ACK ratelimit 1000 per /24"
			  : "udp sport 53 len 1000-65535 drop");
	json_key(o, "action");
	json_str(o, which ? "ratelimit" : "drop");
	json_key(o, "packets");
	json_u64(o, which ? 999 : 1234567);
	json_key(o, "bytes");
	json_u64(o, which ? 99900 : 1234567000);
	json_key(o, "dropped_packets");
	json_u64(o, which ? 0 : 1234000);
	json_key(o, "dropped_bytes");
	json_u64(o, which ? 0 : 1234000000);
	json_key(o, "expires_in");
	if (which)
		json_null(o);
	else
		json_u64(o, 300);
	json_end(o);
}

static int handler(void *arg, int argc, char **argv, struct json *out, char *err, size_t errlen)
{
	struct state *st = arg;

	st->calls++;
	CHECK(argv[argc] == NULL);
	if (!strcmp(argv[0], "echo")) {
		json_key(out, "args");
		json_arr(out);
		for (int i = 0; i < argc; i++)
			json_str(out, argv[i]);
		json_aend(out);
		return 0;
	}
	if (!strcmp(argv[0], "fail")) {
		json_key(out, "junk"); /* discarded */
		json_u64(out, 1);
		snprintf(err, errlen, "it failed: %s", argc > 1 ? argv[1] : "");
		return -1;
	}
	if (!strcmp(argv[0], "noop"))
		return 0;
	if (!strcmp(argv[0], "failempty"))
		return -1;
	if (!strcmp(argv[0], "unbalanced")) {
		json_key(out, "x");
		json_obj(out);
		return 0;
	}
	if (!strcmp(argv[0], "big")) {
		size_t n = (size_t)atol(argv[1]);
		char *s = malloc(n + 1);
		memset(s, 'x', n);
		s[n] = 0;
		json_key(out, "data");
		json_str(out, s);
		free(s);
		return 0;
	}
	if (!strcmp(argv[0], "status")) {
		json_key(out, "version");
		json_str(out, "0.1.0");
		json_key(out, "uptime");
		json_dbl(out, 12.5, 1);
		json_key(out, "mode");
		json_str(out, "live\x1b[31m");
		json_key(out, "stats");
		json_obj(out);
		json_key(out, "packets");
		json_u64(out, 100);
		json_key(out, "hosts");
		json_u64(out, 3);
		json_end(out);
		json_key(out, "captures");
		json_arr(out);
		json_obj(out);
		json_key(out, "kind");
		json_str(out, "af_packet");
		json_key(out, "interface");
		json_str(out, "eth0");
		json_key(out, "drops");
		json_u64(out, 0);
		json_end(out);
		json_obj(out);
		json_key(out, "kind");
		json_str(out, "sflow");
		json_key(out, "drops");
		json_u64(out, 12345);
		json_end(out);
		json_aend(out);
		json_key(out, "networks");
		json_arr(out);
		json_str(out, "198.51.100.0/24");
		json_str(out, "2001:db8::/32");
		json_aend(out);
		json_key(out, "attacks");
		json_arr(out);
		json_aend(out);
		json_key(out, "mixed");
		json_arr(out);
		json_u64(out, 1);
		json_obj(out);
		json_key(out, "a");
		json_null(out);
		json_end(out);
		json_aend(out);
		return 0;
	}
	if (!strcmp(argv[0], "rule") && argc >= 2) {
		if (!strcmp(argv[1], "list") && argc == 2) {
			json_key(out, "rules");
			json_arr(out);
			if (!st->empty_rules) {
				rule_json(out, 0);
				rule_json(out, 1);
			}
			json_aend(out);
			return 0;
		}
		if (!strcmp(argv[1], "add")) {
			static const char *want[] = {"rule",	   "add",   "198.51.100.5", "proto",
						     "udp",	   "sport", "53",	    "len",
						     "1000-65535", "drop"};
			if (argc != 10) {
				snprintf(err, errlen, "rule add: %d arguments", argc);
				return -1;
			}
			for (int i = 0; i < 10; i++)
				if (strcmp(argv[i], want[i])) {
					snprintf(err, errlen, "unexpected argument '%s'", argv[i]);
					return -1;
				}
			json_key(out, "rule");
			rule_json(out, 0);
			return 0;
		}
		if (!strcmp(argv[1], "del") && argc == 3) {
			if (strcmp(argv[2], "5")) {
				snprintf(err, errlen, "no rule %s", argv[2]);
				return -1;
			}
			json_key(out, "deleted");
			json_u64(out, 5);
			return 0;
		}
	}
	snprintf(err, errlen, "unknown command '%s'", argv[0]);
	return -1;
}

/* ---- raw clients ---- */

static void set_path(struct sockaddr_un *sa, const char *path)
{
	size_t n = strlen(path);
	if (n >= sizeof(sa->sun_path))
		n = sizeof(sa->sun_path) - 1;
	memcpy(sa->sun_path, path, n);
	sa->sun_path[n] = 0;
}

static int conn(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	set_path(&sa, sock);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("connect");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

static void sendall(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
		if (k < 0) {
			if (errno == EAGAIN) {
				struct pollfd p = {.fd = fd, .events = POLLOUT};
				poll(&p, 1, 100);
				continue;
			}
			perror("send");
			return;
		}
		s += k;
		n -= (size_t)k;
	}
}

struct rd {
	char *b;
	size_t len, cap;
	int eof; /* 1: EOF seen, -1: error */
};

/* reads what is there without blocking */
static void rd_poll(int fd, struct rd *r)
{
	while (!r->eof) {
		if (r->cap - r->len < 4096) {
			r->cap = r->cap ? r->cap * 2 : 8192;
			r->b = realloc(r->b, r->cap);
		}
		ssize_t n = recv(fd, r->b + r->len, r->cap - r->len - 1, MSG_DONTWAIT);
		if (n > 0) {
			r->len += (size_t)n;
			r->b[r->len] = 0;
			continue;
		}
		if (n == 0)
			r->eof = 1;
		else if (errno != EAGAIN)
			r->eof = -1;
		break;
	}
	if (r->b)
		r->b[r->len] = 0;
}

/* serves until fd's reply is complete (EOF); the reply, or NULL after max_ms */
static char *wait_reply(struct ctl *c, int fd, int max_ms)
{
	struct rd r = {0};
	uint64_t end = mono_ns() / 1000000 + (uint64_t)max_ms;

	while (!r.eof && mono_ns() / 1000000 < end) {
		ctl_serve(c, 5);
		rd_poll(fd, &r);
	}
	close(fd);
	if (r.eof != 1) {
		free(r.b);
		return NULL;
	}
	return r.b ? r.b : strdup("");
}

static char *ask(struct ctl *c, const char *req, size_t n)
{
	int fd = conn();
	if (fd < 0)
		return NULL;
	sendall(fd, req, n);
	return wait_reply(c, fd, 3000);
}

static char *asks(struct ctl *c, const char *req)
{
	return ask(c, req, strlen(req));
}

#define CHECK_REPLY(c, req, want)                                                                  \
	do {                                                                                       \
		char *_r = asks(c, req);                                                           \
		CHECK_STR(_r, want);                                                               \
		free(_r);                                                                          \
	} while (0)

/* ---- tests ---- */

static void test_framing(struct ctl *c)
{
	CHECK_REPLY(c, "echo\na b\nc\n\n", "{\"ok\":true,\"args\":[\"echo\",\"a b\",\"c\"]}\n");
	CHECK_REPLY(c, "echo\n\n", "{\"ok\":true,\"args\":[\"echo\"]}\n");
	/* after the empty line, anything is ignored */
	CHECK_REPLY(c, "echo\nx\n\ngarbage\n\n", "{\"ok\":true,\"args\":[\"echo\",\"x\"]}\n");
	/* arguments are bytes: quotes, tabs, UTF-8 come back escaped as JSON */
	CHECK_REPLY(c, "echo\n\"q\"\t\xc3\xa9\r\n\n",
		    "{\"ok\":true,\"args\":[\"echo\",\"\\\"q\\\"\\t\xc3\xa9\\r\"]}\n");

	/* one byte at a time, the server served between bytes */
	const char *req = "echo\nslow\n\n";
	int fd = conn();
	for (const char *p = req; *p; p++) {
		sendall(fd, p, 1);
		ctl_serve(c, 2);
	}
	char *r = wait_reply(c, fd, 3000);
	CHECK_STR(r, "{\"ok\":true,\"args\":[\"echo\",\"slow\"]}\n");
	free(r);

	/* a big reply (4 MiB) goes out in pieces as the client reads */
	r = asks(c, "big\n4194304\n\n");
	CHECK(r && strlen(r) == 4194304 + strlen("{\"ok\":true,\"data\":\"\"}\n"));
	CHECK(r && !strncmp(r, "{\"ok\":true,\"data\":\"xxx", 22));
	free(r);
	CHECK_EQ(ctl_clients(c), 0);
}

static void test_errors(struct ctl *c, struct state *st)
{
	char *r;
	int calls = st->calls;

	CHECK_REPLY(c, "\n", "{\"ok\":false,\"error\":\"empty request\"}\n");
	CHECK_REPLY(c, "\n\n", "{\"ok\":false,\"error\":\"empty request\"}\n");
	CHECK_REPLY(c, "fail\nboom\n\n", "{\"ok\":false,\"error\":\"it failed: boom\"}\n");
	CHECK_REPLY(c, "failempty\n\n", "{\"ok\":false,\"error\":\"failed\"}\n");
	CHECK_REPLY(c, "unbalanced\n\n",
		    "{\"ok\":false,\"error\":\"internal error: malformed reply\"}\n");
	CHECK_REPLY(c, "nosuch\nx\n\n", "{\"ok\":false,\"error\":\"unknown command 'nosuch'\"}\n");
	CHECK_EQ(st->calls, calls + 4);

	/* NUL bytes */
	r = ask(c, "echo\na\0b\n\n", 10);
	CHECK_STR(r, "{\"ok\":false,\"error\":\"the request holds a NUL byte\"}\n");
	free(r);

	/* arguments are UTF-8 (the reply must be JSON, and JSON is UTF-8) */
	CHECK_REPLY(c, "echo\n\xff\n\n",
		    "{\"ok\":false,\"error\":\"the request is not valid UTF-8\"}\n");
	CHECK_REPLY(c, "echo\n\xc3\xa9\n\n", "{\"ok\":true,\"args\":[\"echo\",\"\xc3\xa9\"]}\n");

	/* 64 arguments are fine, 65 are not */
	char buf[1024] = "echo\n";
	for (int i = 1; i < CTL_MAX_ARGS; i++)
		strcat(buf, "a\n");
	strcat(buf, "\n");
	r = asks(c, buf);
	CHECK(r && !strncmp(r, "{\"ok\":true,", 11));
	free(r);
	buf[strlen(buf) - 1] = 0;
	strcat(buf, "a\n\n");
	CHECK_REPLY(c, buf, "{\"ok\":false,\"error\":\"too many arguments (at most 64)\"}\n");

	/* 64 KiB in all is fine, one more byte is not */
	size_t n = CTL_MAX_REQUEST;
	char *big = malloc(n + 2);
	memcpy(big, "echo\n", 5);
	memset(big + 5, 'x', n - 7);
	memcpy(big + n - 2, "\n\n", 2);
	r = ask(c, big, n);
	CHECK(r && !strncmp(r, "{\"ok\":true,", 11));
	CHECK(r && strlen(r) > n - 7);
	free(r);
	memset(big + 5, 'x', n - 6);
	memcpy(big + n - 1, "\n\n", 2);
	r = ask(c, big, n + 1);
	CHECK_STR(r, "{\"ok\":false,\"error\":\"request too long (at most 65536 bytes)\"}\n");
	free(r);
	/* a megabyte without an end */
	int fd = conn();
	char chunk[65536];
	struct rd rr = {0};
	uint64_t end = mono_ns() / 1000000 + 3000;
	memset(chunk, 'y', sizeof(chunk));
	while (!rr.eof && mono_ns() / 1000000 < end) {
		if (send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
		    errno != EAGAIN && errno != EPIPE && errno != ECONNRESET)
			perror("send");
		ctl_serve(c, 5);
		rd_poll(fd, &rr);
	}
	close(fd);
	/* the reply, then an end (or a reset: the server closed with our bytes unread) */
	CHECK_STR(rr.b, "{\"ok\":false,\"error\":\"request too long (at most 65536 bytes)\"}\n");
	free(rr.b);
	free(big);

	/* half-closed before the empty line */
	fd = conn();
	sendall(fd, "echo\nx\n", 7);
	shutdown(fd, SHUT_WR);
	r = wait_reply(c, fd, 3000);
	CHECK_STR(r, "{\"ok\":false,\"error\":\"incomplete request: the arguments must be "
		     "followed by an empty line\"}\n");
	free(r);
	/* closed at once, or after a partial request: nothing to say, nothing left behind */
	fd = conn();
	close(fd);
	fd = conn();
	sendall(fd, "ec", 2);
	ctl_serve(c, 20);
	close(fd);
	ctl_serve(c, 20);
	CHECK_EQ(ctl_clients(c), 0);
	/* a client that goes away before reading its (big) reply */
	fd = conn();
	sendall(fd, "big\n8000000\n\n", 13);
	ctl_serve(c, 20);
	close(fd);
	ctl_serve(c, 20);
	CHECK_EQ(ctl_clients(c), 0);
}

/* many clients at once, their requests interleaved; one more than the limit is turned away */
static void test_concurrent(struct ctl *c)
{
	enum { N = CTL_MAX_CLIENTS };
	int fd[N + 2];
	char req[64];

	for (int i = 0; i < N; i++) {
		fd[i] = conn();
		snprintf(req, sizeof(req), "echo\nclient %d\n", i);
		sendall(fd[i], req, strlen(req) - 3); /* up to the last bytes */
		ctl_serve(c, 0);
	}
	ctl_serve(c, 20);
	CHECK_EQ(ctl_clients(c), N);
	/* the 65th and 66th: told off at once */
	for (int k = 0; k < 2; k++) {
		fd[N + k] = conn();
		char *r = wait_reply(c, fd[N + k], 3000);
		CHECK_STR(r, "{\"ok\":false,\"error\":\"too many control clients (at most 64 at "
			     "once)\"}\n");
		free(r);
	}
	/* the others finish in reverse order */
	for (int i = N - 1; i >= 0; i--) {
		snprintf(req, sizeof(req), "echo\nclient %d\n", i);
		sendall(fd[i], req + strlen(req) - 3, 3);
		sendall(fd[i], "\n", 1);
		if (i % 7 == 0)
			ctl_serve(c, 0);
	}
	int good = 0;
	for (int i = 0; i < N; i++) {
		char want[96];
		char *r = wait_reply(c, fd[i], 3000);
		snprintf(want, sizeof(want), "{\"ok\":true,\"args\":[\"echo\",\"client %d\"]}\n",
			 i);
		good += r && !strcmp(r, want);
		free(r);
	}
	CHECK_EQ(good, N);
	CHECK_EQ(ctl_clients(c), 0);
}

/* a client that stops sending is dropped after CTL_IDLE_MS; others are served meanwhile */
static void test_timeout(struct ctl *c)
{
	int slow = conn(), mute = conn();
	uint64_t t0 = mono_ns() / 1000000;
	struct rd r1 = {0}, r2 = {0};

	sendall(slow, "echo\nx", 6);
	/* a fast client in the meantime */
	CHECK_REPLY(c, "echo\nfast\n\n", "{\"ok\":true,\"args\":[\"echo\",\"fast\"]}\n");
	CHECK_EQ(ctl_clients(c), 2);
	/* still there after 1.5 s, and the slow one's progress resets its clock */
	while (mono_ns() / 1000000 - t0 < 1500)
		ctl_serve(c, 50);
	CHECK_EQ(ctl_clients(c), 2);
	sendall(slow, "x", 1);
	uint64_t t1 = mono_ns() / 1000000;
	while (!r2.eof && mono_ns() / 1000000 - t0 < 4000) {
		ctl_serve(c, 20);
		rd_poll(mute, &r2);
	}
	uint64_t t2 = mono_ns() / 1000000;
	CHECK(t2 - t0 >= CTL_IDLE_MS && t2 - t0 < CTL_IDLE_MS + 500);
	CHECK_STR(r2.b, "{\"ok\":false,\"error\":\"timeout: nothing received for 2 s\"}\n");
	rd_poll(slow, &r1);
	CHECK(!r1.eof);
	CHECK_EQ(ctl_clients(c), 1);
	while (!r1.eof && mono_ns() / 1000000 - t1 < 4000) {
		ctl_serve(c, 20);
		rd_poll(slow, &r1);
	}
	CHECK(mono_ns() / 1000000 - t1 >= CTL_IDLE_MS);
	CHECK_STR(r1.b, "{\"ok\":false,\"error\":\"timeout: nothing received for 2 s\"}\n");
	CHECK_EQ(ctl_clients(c), 0);
	close(slow);
	close(mute);
	free(r1.b);
	free(r2.b);
}

static volatile sig_atomic_t alarmed;

static void on_alarm(int sig)
{
	(void)sig;
	alarmed = 1;
}

static void test_eintr(struct ctl *c)
{
	struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART */
	struct itimerval it = {.it_value = {.tv_usec = 100000}};

	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	uint64_t t0 = mono_ns();
	CHECK_EQ(ctl_serve(c, 3000), 0);
	uint64_t ms = (mono_ns() - t0) / 1000000;
	CHECK(alarmed);
	CHECK(ms >= 90 && ms < 1000);
	/* a plain timeout */
	t0 = mono_ns();
	CHECK_EQ(ctl_serve(c, 50), 0);
	ms = (mono_ns() - t0) / 1000000;
	CHECK(ms >= 50 && ms < 500);
	CHECK_EQ(ctl_serve(c, 0), 0);
	signal(SIGALRM, SIG_DFL);
}

static void test_socket_file(struct ctl *c)
{
	struct state st2 = {0};
	struct stat s;
	char err[512], path[400];

	/* made 0600 in a directory made 0755 */
	CHECK(stat(sock, &s) == 0 && S_ISSOCK(s.st_mode) && (s.st_mode & 0777) == 0600);
	snprintf(path, sizeof(path), "%s/run/moat", dir);
	CHECK(stat(path, &s) == 0 && S_ISDIR(s.st_mode) && (s.st_mode & 0777) == 0755);

	/* a live socket is not replaced */
	struct ctl *c2 = ctl_open(sock, handler, &st2, err, sizeof(err));
	CHECK(c2 == NULL);
	CHECK(strstr(err, "another process is listening") && strstr(err, sock));
	CHECK_REPLY(c, "echo\nstill\n\n", "{\"ok\":true,\"args\":[\"echo\",\"still\"]}\n");

	/* a stale one is */
	snprintf(path, sizeof(path), "%s/stale.sock", dir);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	set_path(&sa, path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	close(fd);
	CHECK(stat(path, &s) == 0 && S_ISSOCK(s.st_mode));
	c2 = ctl_open(path, handler, &st2, err, sizeof(err));
	CHECK(c2 != NULL);
	if (!c2)
		fprintf(stderr, "  %s\n", err);
	ctl_close(c2);
	CHECK(stat(path, &s) < 0 && errno == ENOENT);

	/* what is not a socket stays */
	int f = open(path, O_CREAT | O_WRONLY, 0644);
	close(f);
	c2 = ctl_open(path, handler, &st2, err, sizeof(err));
	CHECK(c2 == NULL);
	CHECK(strstr(err, "is not a socket") != NULL);
	CHECK(stat(path, &s) == 0 && S_ISREG(s.st_mode));
	unlink(path);

	/* a path too long, a directory that cannot be made */
	char lng[200];
	memset(lng, 'a', sizeof(lng) - 1);
	lng[0] = '/';
	lng[sizeof(lng) - 1] = 0;
	CHECK(ctl_open(lng, handler, &st2, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "too long") != NULL);
	snprintf(path, sizeof(path), "%s/file", dir);
	f = open(path, O_CREAT | O_WRONLY, 0644);
	close(f);
	snprintf(path, sizeof(path), "%s/file/sub/x.sock", dir);
	CHECK(ctl_open(path, handler, &st2, err, sizeof(err)) == NULL);
	CHECK(strstr(err, "cannot create directory") != NULL);
	snprintf(path, sizeof(path), "%s/file", dir);
	unlink(path);

	/* closing removes the socket only if it is still ours */
	snprintf(path, sizeof(path), "%s/mine.sock", dir);
	struct ctl *a = ctl_open(path, handler, &st2, err, sizeof(err));
	CHECK(a != NULL);
	unlink(path);
	struct ctl *b = ctl_open(path, handler, &st2, err, sizeof(err));
	CHECK(b != NULL);
	ctl_close(a);
	CHECK(stat(path, &s) == 0 && S_ISSOCK(s.st_mode));
	ctl_close(b);
	CHECK(stat(path, &s) < 0);
	ctl_close(NULL);
}

/* ---- moatctl ---- */

static char moatctl[600];

struct run {
	int status; /* exit status, or -1 */
	char *out, *err;
};

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *b = NULL;
	size_t n = 0;

	if (!f)
		return strdup("");
	FILE *m = open_memstream(&b, &n);
	int ch;
	while ((ch = fgetc(f)) != EOF)
		fputc(ch, m);
	fclose(m);
	fclose(f);
	return b;
}

/* runs moatctl ARGS (NULL-terminated) while serving c (which may be NULL) */
static struct run run_ctl(struct ctl *c, const char *const *args)
{
	struct run r = {-1, NULL, NULL};
	char out[400], errp[400];
	const char *argv[80];
	int n = 0;
	pid_t pid;
	posix_spawn_file_actions_t fa;

	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(errp, sizeof(errp), "%s/err", dir);
	argv[n++] = moatctl;
	for (; *args && n < 79; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_addopen(&fa, 2, errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (posix_spawn(&pid, moatctl, &fa, NULL, (char *const *)argv, environ) != 0) {
		perror("posix_spawn");
		posix_spawn_file_actions_destroy(&fa);
		return r;
	}
	posix_spawn_file_actions_destroy(&fa);
	uint64_t t0 = mono_ns();
	for (;;) {
		int st;
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid) {
			r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
			break;
		}
		if (mono_ns() - t0 > 20000000000ull) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			break;
		}
		if (c)
			ctl_serve(c, 5);
		else
			usleep(5000);
	}
	r.out = slurp(out);
	r.err = slurp(errp);
	return r;
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

#define RUN(c, ...) run_ctl(c, (const char *const[]){__VA_ARGS__, NULL})

static void test_moatctl_output(struct ctl *c, struct state *st)
{
	struct run r;

	r = RUN(c, "-s", sock, "echo", "a b", "c");
	CHECK_EQ(r.status, 0);
	CHECK_STR(r.out, "args: echo, a b, c\n");
	CHECK_STR(r.err, "");
	run_free(&r);

	r = RUN(c, "--socket", sock, "--json", "echo", "x");
	CHECK_EQ(r.status, 0);
	CHECK_STR(r.out, "{\"ok\":true,\"args\":[\"echo\",\"x\"]}\n");
	run_free(&r);

	/* options end at the command: what follows goes to the daemon as it is */
	r = RUN(c, "-s", sock, "echo", "-h", "--json", "-");
	CHECK_EQ(r.status, 0);
	CHECK_STR(r.out, "args: echo, -h, --json, -\n");
	run_free(&r);

	r = RUN(c, "-s", sock, "fail", "boom");
	CHECK_EQ(r.status, 1);
	CHECK_STR(r.out, "");
	CHECK_STR(r.err, "moatctl: it failed: boom\n");
	run_free(&r);

	r = RUN(c, "-s", sock, "--json", "nosuch");
	CHECK_EQ(r.status, 1);
	CHECK_STR(r.out, "{\"ok\":false,\"error\":\"unknown command 'nosuch'\"}\n");
	CHECK_STR(r.err, "moatctl: unknown command 'nosuch'\n");
	run_free(&r);

	r = RUN(c, "-s", sock, "rule", "list");
	CHECK_EQ(r.status, 0);
	CHECK_STR(
	    r.out,
	    "ID  TARGET        ORIGIN  ACTION     PACKETS  DROPPED  EXPIRES  RULE\n"
	    " 1  198.51.100.5  auto    drop          1.2M     1.2M    5m00s  udp sport 53 len "
	    "1000-65535 drop\n"
	    "12  2001:db8::1   manual  ratelimit      999        0        -  tcp dport 80 flags "
	    "SYN/SYN,ACK ratelimit 1000 per /24\n");
	run_free(&r);

	st->empty_rules = 1;
	r = RUN(c, "-s", sock, "rule", "list");
	CHECK_EQ(r.status, 0);
	CHECK_STR(r.out, "no rules\n");
	run_free(&r);
	st->empty_rules = 0;

	r = RUN(c, "-s", sock, "rule", "add", "198.51.100.5", "proto", "udp", "sport", "53", "len",
		"1000-65535", "drop");
	CHECK_EQ(r.status, 0);
	CHECK_STR(r.out,
		  "ID  TARGET        ORIGIN  ACTION  PACKETS  DROPPED  EXPIRES  RULE\n"
		  " 1  198.51.100.5  auto    drop       1.2M     1.2M    5m00s  udp sport 53 "
		  "len 1000-65535 drop\n");
	CHECK_STR(r.err, "");
	run_free(&r);

	r = RUN(c, "-s", sock, "rule", "del", "5");
	CHECK_EQ(r.status, 0);
	CHECK_STR(r.out, "rule 5 deleted\n");
	run_free(&r);

	r = RUN(c, "-s", sock, "rule", "del", "6");
	CHECK_EQ(r.status, 1);
	CHECK_STR(r.err, "moatctl: no rule 6\n");
	run_free(&r);

	/* the generic rendering; control characters from the daemon do not reach the terminal */
	r = RUN(c, "-s", sock, "status");
	CHECK_EQ(r.status, 0);
	CHECK_STR(r.out, "version: 0.1.0\n"
			 "uptime:  12.5\n"
			 "mode:    live?[31m\n"
			 "stats:\n"
			 "  packets: 100\n"
			 "  hosts:   3\n"
			 "captures:\n"
			 "  KIND       INTERFACE  DROPS\n"
			 "  af_packet  eth0           0\n"
			 "  sflow      -          12345\n"
			 "networks: 198.51.100.0/24, 2001:db8::/32\n"
			 "attacks: (none)\n"
			 "mixed:\n"
			 "  - 1\n"
			 "  -\n"
			 "    a: -\n");
	run_free(&r);

	/* ok with nothing to say: nothing printed */
	r = RUN(c, "-s", sock, "noop");
	CHECK_EQ(r.status, 0);
	CHECK_STR(r.out, "");
	CHECK_STR(r.err, "");
	run_free(&r);
	r = RUN(c, "-s", sock, "big", "0");
	CHECK_EQ(r.status, 0);
	CHECK_STR(r.out, "data: \n");
	run_free(&r);
	/* a big reply */
	r = RUN(c, "-s", sock, "--json", "big", "3000000");
	CHECK_EQ(r.status, 0);
	CHECK(r.out && strlen(r.out) == 3000000 + strlen("{\"ok\":true,\"data\":\"\"}\n"));
	run_free(&r);
}

static void test_moatctl_usage(void)
{
	struct run r;

	r = RUN(NULL, "help");
	CHECK_EQ(r.status, 0);
	CHECK(strstr(r.out, "rule add TARGET") && strstr(r.out, "status") &&
	      strstr(r.out, "rule del ID") && strstr(r.out, "rule list"));
	run_free(&r);
	r = RUN(NULL, "-h");
	CHECK_EQ(r.status, 0);
	CHECK(strstr(r.out, "--socket PATH") && strstr(r.out, CTL_DEFAULT_PATH));
	run_free(&r);
	r = RUN(NULL, "--help");
	CHECK_EQ(r.status, 0);
	run_free(&r);
	r = RUN(NULL, "-V");
	CHECK_EQ(r.status, 0);
	CHECK(!strncmp(r.out, "moatctl ", 8));
	run_free(&r);

	r = run_ctl(NULL, (const char *const[]){NULL});
	CHECK_EQ(r.status, 2);
	CHECK(strstr(r.err, "no command") != NULL);
	run_free(&r);
	r = RUN(NULL, "--bogus", "status");
	CHECK_EQ(r.status, 2);
	run_free(&r);
	r = RUN(NULL, "-s");
	CHECK_EQ(r.status, 2);
	run_free(&r);
	r = RUN(NULL, "-s", sock, "echo", "");
	CHECK_EQ(r.status, 2);
	CHECK(strstr(r.err, "argument 2 is empty") != NULL);
	run_free(&r);
	r = RUN(NULL, "-s", sock, "echo", "a\nb");
	CHECK_EQ(r.status, 2);
	CHECK(strstr(r.err, "newline") != NULL);
	run_free(&r);
	const char *many[70];
	many[0] = "-s";
	many[1] = sock;
	for (int i = 2; i < 67; i++)
		many[i] = "a";
	many[67] = NULL;
	r = run_ctl(NULL, many);
	CHECK_EQ(r.status, 2);
	CHECK(strstr(r.err, "too large") != NULL);
	run_free(&r);
}

/* a socket nobody serves: 3, the path and the reason */
static void test_moatctl_down(void)
{
	struct run r;
	char path[400];

	snprintf(path, sizeof(path), "%s/none.sock", dir);
	r = RUN(NULL, "-s", path, "status");
	CHECK_EQ(r.status, 3);
	CHECK(strstr(r.err, path) && strstr(r.err, "No such file or directory"));
	run_free(&r);

	/* a stale socket file: connection refused */
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	set_path(&sa, path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	r = RUN(NULL, "-s", path, "status");
	CHECK_EQ(r.status, 3);
	CHECK(strstr(r.err, "Connection refused") && strstr(r.err, "is moatd running"));
	run_free(&r);

	/* listening, never answering: 3 after 5 s */
	listen(fd, 4);
	uint64_t t0 = mono_ns();
	r = RUN(NULL, "-s", path, "status");
	uint64_t ms = (mono_ns() - t0) / 1000000;
	CHECK_EQ(r.status, 3);
	CHECK(strstr(r.err, "no reply") != NULL);
	CHECK(ms >= 5000 && ms < 9000);
	run_free(&r);
	close(fd);
	unlink(path);
}

/* a server that answers what is not a reply: 3 */
static void test_moatctl_garbage(void)
{
	static const char *replies[] = {"hello\n", "[1,2]\n", "{\"ok\":1}\n", "", "{\"ok\":tr"};
	char path[400];

	snprintf(path, sizeof(path), "%s/garbage.sock", dir);
	for (size_t i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		set_path(&sa, path);
		unlink(path);
		int l = socket(AF_UNIX, SOCK_STREAM, 0);
		CHECK(bind(l, (struct sockaddr *)&sa, sizeof(sa)) == 0);
		listen(l, 4);
		/* moatctl's request fits the socket buffer: answer before it even runs */
		pid_t pid = fork();
		if (pid == 0) {
			int a = accept(l, NULL, NULL);
			char b[256];
			ssize_t n = read(a, b, sizeof(b));
			(void)n;
			n = write(a, replies[i], strlen(replies[i]));
			close(a);
			_exit(0);
		}
		struct run r = RUN(NULL, "-s", path, "status");
		CHECK_EQ(r.status, 3);
		CHECK(strstr(r.err, "malformed reply") != NULL);
		run_free(&r);
		waitpid(pid, NULL, 0);
		close(l);
	}
	unlink(path);
}

static int find_moatctl(void)
{
	const char *env = getenv("MOATCTL");
	char self[512];
	ssize_t n;

	if (env && *env) {
		snprintf(moatctl, sizeof(moatctl), "%s", env);
		return access(moatctl, X_OK);
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return -1;
	self[n] = 0;
	/* build/asan/tests/test_ctl -> build/asan/moatctl */
	for (int k = 0; k < 2; k++) {
		char *s = strrchr(self, '/');
		if (!s)
			return -1;
		*s = 0;
	}
	snprintf(moatctl, sizeof(moatctl), "%s/moatctl", self);
	return access(moatctl, X_OK);
}

/* ctl_run and ctl_error_reply alone: what both the socket and the HTTP API answer with */
static int h_ok(void *arg, int argc, char **argv, struct json *out, char *err, size_t errlen)
{
	json_key(out, "n");
	json_u64(out, (uint64_t)argc);
	return 0;
}

static int h_refuse(void *arg, int argc, char **argv, struct json *out, char *err, size_t errlen)
{
	snprintf(err, errlen, "no host '%s'", argv[1]); /* quotes the request's bytes */
	return CTL_ENOTFOUND;
}

static int h_unbalanced(void *arg, int argc, char **argv, struct json *out, char *err,
			size_t errlen)
{
	json_key(out, "open");
	json_arr(out);
	return 0;
}

static void test_run(void)
{
	struct json j;
	char a0[] = "x", a1[] = "198.51.100.\xff\xfe";
	char *argv[] = {a0, a1, NULL};

	json_init(&j);
	CHECK_EQ(ctl_run(h_ok, NULL, 2, argv, &j), 0);
	CHECK_STR(j.buf, "{\"ok\":true,\"n\":2}\n");
	CHECK_EQ(ctl_run(h_refuse, NULL, 2, argv, &j), CTL_ENOTFOUND);
	CHECK_STR(j.buf, "{\"ok\":false,\"error\":\"no host '198.51.100.?"
			 "?'\"}\n");
	CHECK_EQ(ctl_run(h_unbalanced, NULL, 2, argv, &j), CTL_EFAIL);
	CHECK_STR(j.buf, "{\"ok\":false,\"error\":\"internal error: malformed reply\"}\n");
	ctl_error_reply(&j, "caf\xc3\xa9 stays");
	CHECK_STR(j.buf, "{\"ok\":false,\"error\":\"caf\xc3\xa9 stays\"}\n");
	json_free(&j);
}

int main(void)
{
	const char *tmp = getenv("TEST_OUT");
	struct state st = {0};
	char err[512];

	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "%s/ctl.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror(dir);
		return 1;
	}
	/* the parent directories do not exist yet: ctl_open makes them */
	snprintf(sock, sizeof(sock), "%s/run/moat/moatd.sock", dir);
	struct ctl *c = ctl_open(sock, handler, &st, err, sizeof(err));
	CHECK(c != NULL);
	if (!c) {
		fprintf(stderr, "ctl_open: %s\n", err);
		return t_done("test_ctl");
	}
	test_run();
	test_framing(c);
	test_errors(c, &st);
	test_concurrent(c);
	test_eintr(c);
	test_socket_file(c);
	test_timeout(c);
	if (find_moatctl() == 0) {
		test_moatctl_usage();
		test_moatctl_output(c, &st);
		test_moatctl_down();
		test_moatctl_garbage();
	} else {
		CHECK(!"moatctl binary not found (make asan builds it)");
		fprintf(stderr, "  looked for %s\n", moatctl);
	}
	ctl_close(c);
	struct stat s;
	CHECK(stat(sock, &s) < 0 && errno == ENOENT);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return t_done("test_ctl");
}
