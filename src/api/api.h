/* api: the HTTP API, Prometheus metrics and the dashboard, served by moatd's main thread with
 * libmicrohttpd (docs/api.md).
 *
 * The API is a second transport for the control socket's commands: a route becomes the same
 * argument vector `moatctl` sends (GET /api/v1/top?by=bps -> "top" "bps" "incoming" "10") and
 * is answered by the same handler, so the two can never disagree. libmicrohttpd runs in
 * "external select" mode on an epoll descriptor the main loop polls with the control socket:
 * handlers run on the main thread like every other command, and no lock is taken.
 *
 * api_route() turns a request into what to do. It is pure (no daemon, no sockets) so that the
 * unit tests and the fuzzer can drive it with anything.
 */
#ifndef MOAT_API_H
#define MOAT_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ctl/ctl.h"

struct conf;

#define API_MAX_BODY (64 * 1024)
#define API_MAX_ARGS 40

/* A file of the dashboard, embedded in moatd at build time (tools/embed.sh). */
struct api_asset {
	const char *path; /* "/", "/app.js" */
	const char *type; /* Content-Type */
	const unsigned char *data;
	size_t len;
};

enum api_kind {
	API_CMD = 0,  /* run argv through the command handler */
	API_HEALTH,   /* the main loop answers: nothing else to do */
	API_METRICS,  /* Prometheus text */
	API_ASSET,    /* a dashboard file: asset */
	API_EVIDENCE, /* the pcap of attack argv[1] */
};

enum api_auth {
	API_OPEN = 0, /* no token needed (dashboard files) */
	API_READ,     /* a token needed when bound beyond loopback */
	API_WRITE,    /* a token always needed */
};

struct api_req {
	enum api_kind kind;
	enum api_auth auth;
	int ok_status; /* 200, or 201 for a POST that creates */
	int argc;
	char *argv[API_MAX_ARGS + 1]; /* point into buf */
	char buf[API_MAX_BODY + 512];
	const struct api_asset *asset;
	const char *allow; /* on 405: the methods the route takes */
};

/* Looks a query parameter up: its value (NULL when absent). */
typedef const char *(*api_param_fn)(void *ctx, const char *name);
/* Calls fn(ctx2, name) for every query parameter given; returns how many. */
typedef int (*api_params_fn)(void *ctx, int (*fn)(void *ctx2, const char *name), void *ctx2);

/* Works out what a request asks for. Returns 0 with *r filled, or an HTTP status (400, 404,
 * 405, 413) with a message in err. assets may be NULL. */
int api_route(const char *method, const char *url, api_param_fn param, api_params_fn params,
	      void *pctx, const char *body, size_t body_len, const struct api_asset *assets,
	      size_t n_assets, struct api_req *r, char *err, size_t errlen);

/* What the API needs from the daemon. */
struct api_hooks {
	ctl_handler cmd;
	void *arg;
	/* writes the Prometheus text exposition */
	void (*metrics)(void *arg, FILE *f);
	/* the evidence pcap path of an attack into buf; -1 when there is none */
	int (*evidence)(void *arg, const char *attack_id, char *buf, size_t len);
	const struct api_asset *assets;
	size_t n_assets;
};

struct api;

/* Listens on c->api.listen (TLS when configured). NULL with the reason in err. */
struct api *api_open(const struct conf *c, const struct api_hooks *h, char *err, size_t errlen);
/* The descriptor to poll for input; call api_run when it has some, and at least every tick. */
int api_fd(const struct api *a);
void api_run(void *a);
/* A reload: the token may change (listen and TLS change when moatd restarts; the caller warns). */
void api_set_conf(struct api *a, const struct conf *c);
void api_close(struct api *a);

struct api_stats {
	unsigned long long requests, errors_4xx, errors_5xx, unauthorized;
	unsigned long long by_status_class[6]; /* 1xx..5xx at 1..5 */
};
const struct api_stats *api_stats(const struct api *a);

/* The HTTP status of a command's negative return (see ctl.h). */
int api_status_of(int rc);

#endif
