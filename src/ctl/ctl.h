/* ctl: the control socket server, run by moatd's main thread.
 *
 * Protocol. A client connects to a Unix stream socket (default CTL_DEFAULT_PATH) and sends one
 * request: its arguments, each followed by '\n', ended by an empty line. "rule\nlist\n\n" is the
 * request ("rule", "list"). Arguments are UTF-8 text; one cannot contain '\n' (nor a NUL
 * byte) and cannot be empty (an empty line ends the request). At most CTL_MAX_ARGS arguments and
 * CTL_MAX_REQUEST bytes (the final empty line included); anything sent after the empty line is
 * ignored. The server answers with one JSON object on one line ('\n'-terminated) and closes the
 * connection:
 *   {"ok":true, ...members of the command's reply...}
 *   {"ok":false,"error":"message"}
 * A request that breaks the rules above (empty, too many arguments, too long, a NUL byte, not
 * UTF-8, the connection half-closed before the empty line) gets an "ok":false reply. A client that
 * sends nothing for CTL_IDLE_MS while its request is incomplete, or has not completed it within
 * CTL_REQUEST_MS, is sent an "ok":false reply if its socket takes it and dropped; so is one that
 * reads nothing of a pending reply for CTL_IDLE_MS. At most CTL_MAX_CLIENTS are served at once;
 * past that a new client is told so ("ok":false) and closed at once.
 *
 * Everything is non-blocking: a client can never stall the caller for longer than a handler
 * runs. The socket file is created with mode 0600 (only its owner, root for moatd, may connect),
 * its directory with 0755 when missing. A stale socket file (nothing listens on it) is
 * replaced; one a live process answers on is left alone and ctl_open fails. */
#ifndef MOAT_CTL_H
#define MOAT_CTL_H

#include <stddef.h>

#define CTL_DEFAULT_PATH "/run/moat/moatd.sock"
#define CTL_MAX_ARGS	 64
#define CTL_MAX_REQUEST	 (64 * 1024)
#define CTL_IDLE_MS	 2000
#define CTL_REQUEST_MS	 10000
#define CTL_MAX_CLIENTS	 64
#define CTL_MAX_WATCH	 4

struct json; /* src/core/json.h */
struct ctl;

/* Called once per request with its arguments (argc >= 1, argv[argc] == NULL; the strings live
 * until the handler returns); writes the reply object's members (not the braces) into out with
 * json_key/json_str/...; returns 0 for ok (the server puts "ok":true first) or a negative value
 * with a message in err (the server replies {"ok":false,"error":err}, discarding out). The value
 * says what kind of refusal it is, for the HTTP API's status: -1 or CTL_EBAD a bad request,
 * CTL_ENOTFOUND no such thing, CTL_ECONFLICT it conflicts with the state, CTL_EUNAVAIL the part
 * is not configured, CTL_EFAIL the daemon failed. */
enum {
	CTL_EBAD = -400,
	CTL_ENOTFOUND = -404,
	CTL_ECONFLICT = -409,
	CTL_EFAIL = -500,
	CTL_EUNAVAIL = -503,
};
typedef int (*ctl_handler)(void *arg, int argc, char **argv, struct json *out, char *err,
			   size_t errlen);

/* Creates the socket at path (the parent directory too, 0755, when missing) and listens. NULL
 * with the reason in err when the path is too long, another process listens there, or a system
 * call fails. */
struct ctl *ctl_open(const char *path, ctl_handler h, void *arg, char *err, size_t errlen);

/* Serves clients for up to timeout_ms (negative: until interrupted), polling the listening
 * socket and the open clients; handlers run inside this call. Returns 0 when the time is up, or
 * early (0) when a signal interrupts the wait (EINTR) so the caller can check its flags; -1 with
 * errno only on a fatal error (poll failing otherwise). */
int ctl_serve(struct ctl *c, int timeout_ms);

/* Closes every client and the listening socket and removes the socket file (if it is still the
 * one ctl_open created). NULL is fine. */
void ctl_close(struct ctl *c);

/* Runs h on argv and leaves the whole reply line in j: {"ok":true, ...members...} and '\n', or
 * {"ok":false,"error":...} when h refuses. Returns 0, h's negative value, or CTL_EFAIL when h wrote
 * an unbalanced reply or ran out of memory. The control socket and the HTTP API both answer with
 * it. */
int ctl_run(ctl_handler h, void *arg, int argc, char **argv, struct json *j);

/* {"ok":false,"error":msg} and '\n' into j (reset first). Bytes of msg that are not UTF-8 (a
 * message quoting a request's raw bytes) become '?'. */
void ctl_error_reply(struct json *j, const char *msg);

/* Also polls fd for input in ctl_serve and calls fn(arg) when it has some (the HTTP API's
 * epoll descriptor). At most CTL_MAX_WATCH; returns 0 or -1 when full. */
int ctl_watch(struct ctl *c, int fd, void (*fn)(void *arg), void *arg);

/* The number of clients connected now (for tests and stats). */
int ctl_clients(const struct ctl *c);

#endif
