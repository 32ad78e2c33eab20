/* fuzz_ctl: the control socket's request framing (src/ctl/ctl.c). Each input is what one client
 * sends before half-closing its connection, split into pieces (the first byte sets the piece
 * size) with the server served in between. The reply must be exactly what the protocol in
 * ctl.h says, worked out here independently: one line of JSON (read back with jparse) that
 * echoes the arguments, or the error for an empty, oversized, NUL-holding, not UTF-8,
 * over-long or unterminated request; no reply at all for a client that sent nothing. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/jparse.h"
#include "core/json.h"
#include "ctl/ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ctl *srv;
static char dir[64], path[128];

static int echo(void *arg, int argc, char **argv, struct json *out, char *err, size_t errlen)
{
	if (argc < 1 || argc > CTL_MAX_ARGS || argv[argc])
		abort();
	json_key(out, "args");
	json_arr(out);
	for (int i = 0; i < argc; i++)
		json_str(out, argv[i]);
	json_aend(out);
	return 0;
}

static void cleanup(void)
{
	ctl_close(srv);
	rmdir(dir);
}

static void setup(void)
{
	char err[256];

	signal(SIGPIPE, SIG_IGN);
	snprintf(dir, sizeof(dir), "/tmp/fuzz_ctl.XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/s", dir);
	srv = ctl_open(path, echo, NULL, err, sizeof(err));
	if (!srv) {
		fprintf(stderr, "ctl_open: %s\n", err);
		abort();
	}
	atexit(cleanup);
}

/* one UTF-8 character by decoding it: 0 if invalid */
static size_t utf8_char(const uint8_t *s, const uint8_t *end)
{
	uint32_t cp;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	else if ((s[0] & 0xe0) == 0xc0)
		n = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if ((size_t)(end - s) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
	if (cp < min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* what the server must say: NULL for nothing, else the error message or "" for an echo */
static const char *expect(const uint8_t *d, size_t n, size_t *reqlen)
{
	size_t end = SIZE_MAX;

	for (size_t i = 0; i < n && i < CTL_MAX_REQUEST; i++)
		if (d[i] == '\n' && (i == 0 || d[i - 1] == '\n')) {
			end = i;
			break;
		}
	if (end == SIZE_MAX) {
		if (n == 0)
			return NULL;
		if (n >= CTL_MAX_REQUEST)
			return "request too long (at most 65536 bytes)";
		return "incomplete request: the arguments must be followed by an empty line";
	}
	*reqlen = end + 1;
	if (end == 0)
		return "empty request";
	if (memchr(d, 0, end + 1))
		return "the request holds a NUL byte";
	for (size_t i = 0; i <= end;) {
		size_t k = utf8_char(d + i, d + end + 1);
		if (!k)
			return "the request is not valid UTF-8";
		i += k;
	}
	size_t args = 0;
	for (size_t i = 0; i < end; i++)
		args += d[i] == '\n';
	if (args > CTL_MAX_ARGS)
		return "too many arguments (at most 64)";
	return "";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t piece = 1 + (size ? data[0] % 64 : 0) * 61, off = 0, reqlen = 0;
	char *rep = NULL;
	size_t rlen = 0, rcap = 0;
	int eof = 0;

	if (!srv)
		setup();
	if (size) { /* the first byte picks the piece size; the rest is the client's */
		data++;
		size--;
	}
	const char *want = expect(data, size, &reqlen);

	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		abort();
	fcntl(fd, F_SETFL, O_NONBLOCK);
	for (int rounds = 0; !eof; rounds++) {
		if (rounds > 100000)
			abort(); /* the server never answered */
		if (off < size) {
			size_t k = size - off < piece ? size - off : piece;
			ssize_t w = send(fd, data + off, k, MSG_NOSIGNAL);
			if (w > 0)
				off += (size_t)w;
			else if (errno == EPIPE || errno == ECONNRESET)
				off = size; /* the server has answered and closed */
			if (off == size)
				shutdown(fd, SHUT_WR);
		} else if (off == 0 && size == 0 && rounds == 0) {
			shutdown(fd, SHUT_WR);
		}
		if (ctl_serve(srv, 0) < 0)
			abort();
		for (;;) {
			if (rcap - rlen < 4096) {
				rcap = rcap ? rcap * 2 : 8192;
				rep = realloc(rep, rcap);
				if (!rep)
					abort();
			}
			ssize_t r = recv(fd, rep + rlen, rcap - rlen - 1, MSG_DONTWAIT);
			if (r > 0) {
				rlen += (size_t)r;
				continue;
			}
			if (r == 0 || (errno != EAGAIN && errno != EINTR))
				eof = 1; /* an end, or a reset after the reply */
			break;
		}
	}
	close(fd);
	if (ctl_serve(srv, 0) < 0 || ctl_clients(srv) != 0)
		abort();

	if (!want) {
		if (rlen)
			abort();
		free(rep);
		return 0;
	}
	if (!rlen || rep[rlen - 1] != '\n' || memchr(rep, '\n', rlen) != rep + rlen - 1) {
		fprintf(stderr, "reply is not one line: %.*s\n", (int)rlen, rep ? rep : "");
		abort();
	}
	char err[256];
	struct jdoc *d = jparse(rep, rlen, err, sizeof(err));
	if (!d) {
		fprintf(stderr, "reply is not JSON: %s: %.*s", err, (int)rlen, rep);
		abort();
	}
	const struct jval *r = jdoc_root(d);
	if (*want) {
		if (jv_bool(jv_get(r, "ok")) != 0 || !jv_str(jv_get(r, "error")) ||
		    strcmp(jv_str(jv_get(r, "error")), want) || jv_len(r) != 2) {
			fprintf(stderr, "want error \"%s\", got %.*s", want, (int)rlen, rep);
			abort();
		}
	} else {
		const struct jval *args = jv_get(r, "args");
		const uint8_t *p = data, *end = data + reqlen - 1;
		size_t i = 0;
		if (jv_bool(jv_get(r, "ok")) != 1 || jv_len(r) != 2)
			abort();
		for (; p < end; i++) {
			const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
			size_t n;
			const char *s = jv_strn(jv_at(args, i), &n);
			if (!s || n != (size_t)(nl - p) || memcmp(s, p, n)) {
				fprintf(stderr, "argument %zu differs: %.*s", i, (int)rlen, rep);
				abort();
			}
			p = nl + 1;
		}
		if (jv_len(args) != i)
			abort();
	}
	jdoc_free(d);
	free(rep);
	return 0;
}
