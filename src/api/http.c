/* api http: libmicrohttpd in external-select mode on an epoll descriptor the main loop polls.
 * Every request is answered inside api_run(), on the main thread, by the same command handler
 * the control socket uses (api.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "core/conf.h"
#include "core/json.h"
#include "core/log.h"

#define CSP                                                                                        \
	"default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "             \
	"connect-src 'self'; frame-ancestors 'none'"

struct api {
	struct MHD_Daemon *d;
	int lfd;
	char listen[64];
	bool loopback;
	char *token;
	struct api_hooks h;
	struct json j;
	struct api_req req; /* one request is answered at a time: they all run on one thread */
	struct api_stats st;
};

/* per connection: the body as it arrives */
struct upload {
	char *buf;
	size_t len;
	bool too_big;
};

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = 0;
	log_debug("api: %s", msg);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct upload *u = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (u) {
		free(u->buf);
		free(u);
		*con_cls = NULL;
	}
}

/* A query parameter's value; "" for one given without a value ("?limit"), so that it is refused
 * as an empty value instead of passing for absent. */
static const char *lookup(void *ctx, const char *name)
{
	const char *v = NULL;

	if (MHD_lookup_connection_value_n(ctx, MHD_GET_ARGUMENT_KIND, name, strlen(name), &v,
					  NULL) != MHD_YES)
		return NULL;
	return v ? v : "";
}

struct iter {
	int (*fn)(void *, const char *);
	void *ctx;
	int n;
};

static enum MHD_Result iter_one(void *cls, enum MHD_ValueKind kind, const char *key,
				const char *value)
{
	struct iter *it = cls;

	(void)kind;
	(void)value;
	it->n++;
	it->fn(it->ctx, key ? key : "");
	return MHD_YES;
}

static int each(void *ctx, int (*fn)(void *, const char *), void *ctx2)
{
	struct iter it = {.fn = fn, .ctx = ctx2};

	MHD_get_connection_values(ctx, MHD_GET_ARGUMENT_KIND, iter_one, &it);
	return it.n;
}

/* constant time in the token's contents (its length is not a secret worth hiding) */
static bool token_eq(const char *want, const char *got)
{
	size_t n = strlen(want);
	unsigned char x = 0;

	if (strlen(got) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		x |= (unsigned char)(want[i] ^ got[i]);
	return x == 0;
}

static enum MHD_Result send_resp(struct api *a, struct MHD_Connection *c, int status,
				 struct MHD_Response *r, const char *type)
{
	if (!r)
		return MHD_NO;
	if (type)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	enum MHD_Result rc = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	a->st.requests++;
	if (status >= 100 && status < 600)
		a->st.by_status_class[status / 100]++;
	if (status >= 400 && status < 500)
		a->st.errors_4xx++;
	else if (status >= 500)
		a->st.errors_5xx++;
	return rc;
}

static struct MHD_Response *json_resp(struct api *a)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(a->j.len, a->j.buf, MHD_RESPMEM_MUST_COPY);
	if (r)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	return r;
}

static enum MHD_Result error(struct api *a, struct MHD_Connection *c, int status, const char *msg)
{
	ctl_error_reply(&a->j, msg);
	struct MHD_Response *r = json_resp(a);
	if (r && status == 401)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Bearer realm=\"moat\"");
	if (r && status == 405 && a->req.allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, a->req.allow);
	return send_resp(a, c, status, r, "application/json");
}

/* 0 when the request may go on, else the status it gets (err set) */
static int authorize(struct api *a, struct MHD_Connection *c, enum api_auth need, char *err,
		     size_t errlen)
{
	if (need == API_OPEN || (need == API_READ && a->loopback))
		return 0;
	if (need == API_WRITE && !a->token) {
		snprintf(err, errlen,
			 "changes over HTTP are off: set api.token or api.token_file in the "
			 "configuration");
		return 403;
	}
	const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	if (!h) {
		snprintf(err, errlen, "this needs the API token: Authorization: Bearer TOKEN");
		a->st.unauthorized++;
		return 401;
	}
	if (strncasecmp(h, "Bearer ", 7) != 0 || !token_eq(a->token, h + 7)) {
		snprintf(err, errlen, "wrong API token");
		a->st.unauthorized++;
		return 401;
	}
	return 0;
}

static enum MHD_Result run_cmd(struct api *a, struct MHD_Connection *c)
{
	struct api_req *r = &a->req;
	int rc = ctl_run(a->h.cmd, a->h.arg, r->argc, r->argv, &a->j);

	return send_resp(a, c, rc ? api_status_of(rc) : r->ok_status, json_resp(a),
			 "application/json");
}

static enum MHD_Result health(struct api *a, struct MHD_Connection *c)
{
	char *argv[] = {"health", NULL};

	a->req.argc = 1;
	a->req.argv[0] = argv[0];
	a->req.argv[1] = NULL;
	a->req.ok_status = 200;
	return run_cmd(a, c);
}

static enum MHD_Result metrics(struct api *a, struct MHD_Connection *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return error(a, c, 500, "out of memory");
	a->h.metrics(a->h.arg, f);
	if (fclose(f) != 0) {
		free(buf);
		return error(a, c, 500, "out of memory");
	}
	struct MHD_Response *r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(buf);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	return send_resp(a, c, 200, r, "text/plain; version=0.0.4; charset=utf-8");
}

static enum MHD_Result evidence(struct api *a, struct MHD_Connection *c)
{
	char path[4096], disp[128];
	struct stat st;
	const char *id = a->req.argv[1];

	if (!a->h.evidence || a->h.evidence(a->h.arg, id, path, sizeof(path)) < 0)
		return error(a, c, 404,
			     "no evidence for this attack (no scrubber rule, or nothing dropped "
			     "and sampled)");
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		if (fd >= 0)
			close(fd);
		return error(a, c, 404, "the evidence file is gone");
	}
	struct MHD_Response *r = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
	if (!r) {
		close(fd);
		return MHD_NO;
	}
	snprintf(disp, sizeof(disp), "attachment; filename=\"%s.pcap\"", id);
	MHD_add_response_header(r, "Content-Disposition", disp);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	return send_resp(a, c, 200, r, "application/vnd.tcpdump.pcap");
}

static enum MHD_Result asset(struct api *a, struct MHD_Connection *c, const struct api_asset *as)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(as->len, (void *)as->data, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Security-Policy", CSP);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	return send_resp(a, c, 200, r, as->type);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *data,
			      size_t *data_size, void **con_cls)
{
	struct api *a = cls;
	struct upload *u = *con_cls;
	char err[512] = "";

	(void)version;
	if (!u) {
		u = calloc(1, sizeof(*u));
		if (!u)
			return MHD_NO;
		*con_cls = u;
		return MHD_YES;
	}
	if (*data_size) {
		if (!u->too_big && u->len + *data_size > API_MAX_BODY) {
			u->too_big = true;
			free(u->buf);
			u->buf = NULL;
		}
		if (!u->too_big) {
			char *nb = realloc(u->buf, u->len + *data_size);
			if (!nb)
				return MHD_NO;
			u->buf = nb;
			memcpy(u->buf + u->len, data, *data_size);
			u->len += *data_size;
		}
		*data_size = 0;
		return MHD_YES;
	}
	if (u->too_big)
		return error(a, c, 413, "the body is larger than 64 KiB");
	int status = api_route(method, url, lookup, each, c, u->buf, u->len, a->h.assets,
			       a->h.n_assets, &a->req, err, sizeof(err));
	char aerr[160];
	int as = authorize(a, c, a->req.auth, aerr, sizeof(aerr));
	if (as)
		return error(a, c, as, aerr);
	if (status)
		return error(a, c, status, err);
	switch (a->req.kind) {
	case API_HEALTH:
		return health(a, c);
	case API_METRICS:
		return metrics(a, c);
	case API_ASSET:
		return asset(a, c, a->req.asset);
	case API_EVIDENCE:
		return evidence(a, c);
	case API_CMD:
	default:
		return run_cmd(a, c);
	}
}

static char *slurp(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;

	if (!f) {
		snprintf(err, errlen, "api: cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	FILE *m = open_memstream(&buf, &len);
	char chunk[4096];
	size_t n;
	while (m && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, m);
	fclose(f);
	if (!m || fclose(m) != 0) {
		free(buf);
		snprintf(err, errlen, "api: out of memory reading %s", path);
		return NULL;
	}
	return buf;
}

static int listen_on(const struct conf *c, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1, fd;

	memset(&ss, 0, sizeof(ss));
	if (c->api.listen_family == 4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(c->api.listen_port);
		memcpy(&s4->sin_addr, c->api.listen_addr.b + 12, 4);
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(c->api.listen_port);
		memcpy(&s6->sin6_addr, c->api.listen_addr.b, 16);
		sl = sizeof(*s6);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "api.listen %s: socket: %s", c->api.listen, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 256) < 0) {
		snprintf(err, errlen, "api.listen %s: %s", c->api.listen, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

struct api *api_open(const struct conf *c, const struct api_hooks *h, char *err, size_t errlen)
{
	struct api *a = calloc(1, sizeof(*a));
	char *cert = NULL, *key = NULL;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG;

	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->h = *h;
	a->loopback = c->api.loopback;
	snprintf(a->listen, sizeof(a->listen), "%s", c->api.listen);
	json_init(&a->j);
	if (c->api.token && !(a->token = strdup(c->api.token))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (c->api.tls_cert) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			snprintf(err, errlen,
				 "api: tls_cert is set, and this libmicrohttpd has no TLS");
			goto fail;
		}
		if (!(cert = slurp(c->api.tls_cert, err, errlen)) ||
		    !(key = slurp(c->api.tls_key, err, errlen)))
			goto fail;
		flags |= MHD_USE_TLS;
	}
	if (c->api.listen_family == 6)
		flags |= MHD_USE_IPv6;
	a->lfd = listen_on(c, err, errlen);
	if (a->lfd < 0)
		goto fail;
	if (cert)
		a->d = MHD_start_daemon(
		    flags, 0, NULL, NULL, handle, a, MHD_OPTION_LISTEN_SOCKET, a->lfd,
		    MHD_OPTION_CONNECTION_LIMIT, 512U, MHD_OPTION_CONNECTION_TIMEOUT, 30U,
		    MHD_OPTION_NOTIFY_COMPLETED, completed, a, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
		    a, MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_HTTPS_MEM_CERT, cert,
		    MHD_OPTION_END);
	else
		a->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, a, MHD_OPTION_LISTEN_SOCKET,
					a->lfd, MHD_OPTION_CONNECTION_LIMIT, 512U,
					MHD_OPTION_CONNECTION_TIMEOUT, 30U,
					MHD_OPTION_NOTIFY_COMPLETED, completed, a,
					MHD_OPTION_EXTERNAL_LOGGER, mhd_log, a, MHD_OPTION_END);
	/* MHD keeps its own copies of the PEM strings */
	free(cert);
	free(key);
	cert = key = NULL;
	if (!a->d) {
		snprintf(err, errlen,
			 "api: libmicrohttpd would not start on %s (a bad certificate or key?)",
			 c->api.listen);
		close(a->lfd);
		goto fail;
	}
	return a;
fail:
	free(cert);
	free(key);
	free(a->token);
	json_free(&a->j);
	free(a);
	return NULL;
}

int api_fd(const struct api *a)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(a->d, MHD_DAEMON_INFO_EPOLL_FD);
	return i ? i->epoll_fd : -1;
}

void api_run(void *arg)
{
	struct api *a = arg;
	MHD_UNSIGNED_LONG_LONG t;

	if (!a)
		return;
	/* The epoll set is edge-triggered: a connection that still has bytes to read or to send
	 * wakes nobody again, and MHD says so with a timeout of 0. Run until it has nothing left
	 * to do now (bounded, so a flood of requests cannot hold the main loop). */
	MHD_run(a->d);
	for (int i = 0; i < 1024; i++) {
		if (MHD_get_timeout(a->d, &t) != MHD_YES || t > 0)
			break;
		MHD_run(a->d);
	}
}

void api_set_conf(struct api *a, const struct conf *c)
{
	if (!a)
		return;
	if ((a->token == NULL) != (c->api.token == NULL) ||
	    (a->token && strcmp(a->token, c->api.token) != 0)) {
		char *t = c->api.token ? strdup(c->api.token) : NULL;
		if (c->api.token && !t) {
			log_err("reload: out of memory: the API token stays");
			return;
		}
		free(a->token);
		a->token = t;
		log_info("reload: the API token changed");
	}
}

const struct api_stats *api_stats(const struct api *a)
{
	return &a->st;
}

void api_close(struct api *a)
{
	if (!a)
		return;
	MHD_stop_daemon(a->d);
	close(a->lfd);
	free(a->token);
	json_free(&a->j);
	free(a);
}
