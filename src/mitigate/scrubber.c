/* scrubber: the XDP scrubber wired to moatd's config and mitigation manager. */
#include <bpf/libbpf.h>
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "mitigate/scrubber.h"
#include "mitigate/xdp.h"

struct scrubber {
	/* one program per interface, all on the same pinned maps: rules go through xs[0] */
	struct xdp_scrub *xs[CONF_MAX_SCRUB_IFACES];
	int n;
};

static const char *const reason_names[SCRUB_R_MAX] = {
    [SCRUB_R_PASS] = "pass",
    [SCRUB_R_NOT_IP] = "not_ip",
    [SCRUB_R_ALLOW] = "allow_list",
    [SCRUB_R_DENY] = "deny_list",
    [SCRUB_R_RULE_PASS] = "rule_pass",
    [SCRUB_R_RULE_DROP] = "rule_drop",
    [SCRUB_R_RATE_PASS] = "ratelimit_pass",
    [SCRUB_R_RATE_DROP] = "ratelimit_drop",
    [SCRUB_R_AMP] = "amplification_port",
    [SCRUB_R_BAD_HDR] = "bad_header",
    [SCRUB_R_BAD_TCP_FLAGS] = "bad_tcp_flags",
    [SCRUB_R_TINY_FRAG] = "tiny_fragment",
    [SCRUB_R_SAMPLE_LOST] = "sample_lost",
};

/* libbpf's own messages (a kernel refusing native mode, say) go to our log at debug level:
 * what matters is said at info by the callers */
static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n && buf[n - 1] == '\n')
		buf[--n] = 0;
	log_debug("libbpf: %s", buf);
	return 0;
}

static int open_one(const struct conf *c, struct xdp_scrub **x, char *err, size_t errlen)
{
	libbpf_set_print(libbpf_log);
	int rc = xdp_scrub_open(x, c->scrubber.pin_dir);

	if (rc == -EINVAL) {
		snprintf(err, errlen,
			 "scrubber: the maps pinned in %s have another layout (an older moat?); "
			 "run moatd --unload to remove them",
			 c->scrubber.pin_dir);
		return -1;
	}
	if (rc < 0) {
		snprintf(err, errlen, "scrubber: cannot load the XDP program: %s%s", strerror(-rc),
			 rc == -EPERM ? " (needs CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN and a raised memlock)"
				      : "");
		return -1;
	}
	return 0;
}

struct scrubber *scrubber_open(const struct conf *c, char *err, size_t errlen)
{
	struct scrubber *s = calloc(1, sizeof(*s));
	struct scrub_config sc = {.sample_every = c->scrubber.sample_every};

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < c->scrubber.n_interfaces; i++) {
		const char *ifn = c->scrubber.interfaces[i];
		unsigned ifindex = if_nametoindex(ifn);
		int native_err = 0, mode;

		if (!ifindex) {
			snprintf(err, errlen, "scrubber: interface %s: %s", ifn, strerror(errno));
			goto fail;
		}
		if (open_one(c, &s->xs[s->n], err, errlen) < 0)
			goto fail;
		s->n++;
		mode = xdp_scrub_attach(s->xs[s->n - 1], (int)ifindex,
					c->scrubber.mode == SCRUB_MODE_GENERIC, &native_err);
		if (mode < 0) {
			snprintf(err, errlen, "scrubber: cannot attach to %s: %s%s", ifn,
				 strerror(-mode),
				 mode == -EBUSY ? " (another XDP program is attached there)" : "");
			goto fail;
		}
		if (mode == XDP_SCRUB_GENERIC && c->scrubber.mode == SCRUB_MODE_NATIVE) {
			snprintf(err, errlen,
				 "scrubber: %s has no native XDP (%s) and scrubber.mode is native",
				 ifn, strerror(-native_err));
			goto fail;
		}
		if (mode == XDP_SCRUB_NATIVE)
			log_info("scrubber: XDP attached to %s in native mode (in the driver)",
				 ifn);
		else if (c->scrubber.mode == SCRUB_MODE_GENERIC)
			log_info("scrubber: XDP attached to %s in generic mode (scrubber.mode)",
				 ifn);
		else
			log_warn("scrubber: XDP attached to %s in generic mode: the driver refused "
				 "native mode (%s); filtering works but costs more per packet",
				 ifn, strerror(-native_err));
	}
	int rc = xdp_scrub_config(s->xs[0], &sc);
	if (rc < 0) {
		snprintf(err, errlen, "scrubber: cannot write its config: %s", strerror(-rc));
		goto fail;
	}
	return s;
fail:
	for (int i = 0; i < s->n; i++)
		xdp_scrub_close(s->xs[i]); /* detaches what this call attached */
	free(s);
	return NULL;
}

void scrubber_close(struct scrubber *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->n; i++) {
		xdp_scrub_leave_attached(s->xs[i]);
		xdp_scrub_close(s->xs[i]);
	}
	free(s);
}

static int b_rule_add(void *arg, uint32_t id, const struct scrub_rule *r)
{
	return xdp_scrub_rule_add(arg, id, r);
}

static int b_rule_del(void *arg, uint32_t id)
{
	return xdp_scrub_rule_del(arg, id);
}

static int b_target_set(void *arg, const struct scrub_addr *t, uint32_t flags)
{
	return xdp_scrub_target_set(arg, t, flags);
}

static int b_target_del(void *arg, const struct scrub_addr *t)
{
	return xdp_scrub_target_del(arg, t);
}

static int b_counter(void *arg, uint32_t id, struct scrub_counter *c)
{
	return xdp_scrub_rule_counter(arg, id, c);
}

static int b_list(void *arg, int (*cb)(void *ctx, uint32_t id, const struct scrub_rule *r),
		  void *ctx)
{
	return xdp_scrub_rule_list(arg, cb, ctx);
}

void scrubber_backend(struct scrubber *s, struct mit_backend *b)
{
	*b = (struct mit_backend){
	    .arg = s->xs[0],
	    .rule_add = b_rule_add,
	    .rule_del = b_rule_del,
	    .target_set = b_target_set,
	    .target_del = b_target_del,
	    .counter = b_counter,
	    .list = b_list,
	};
}

static void on_sample(void *ctx, const struct scrub_sample *smp)
{
	mit_sample(ctx, smp);
}

int scrubber_poll(struct scrubber *s, struct mit *m)
{
	int n = xdp_scrub_samples(s->xs[0], on_sample, m, 0);
	return n < 0 ? 0 : n;
}

/* ---- allow and deny lists: the maps made equal to the config ---- */

struct keys {
	struct scrub_lpm_key *k;
	size_t n, cap;
};

static int keys_push(struct keys *v, const struct scrub_lpm_key *k)
{
	if (v->n == v->cap) {
		size_t nc = v->cap ? v->cap * 2 : 1024;
		struct scrub_lpm_key *nk = realloc(v->k, nc * sizeof(*nk));
		if (!nk)
			return -ENOMEM;
		v->k = nk;
		v->cap = nc;
	}
	v->k[v->n++] = *k;
	return 0;
}

static int key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct scrub_lpm_key));
}

static int collect(void *ctx, const struct scrub_lpm_key *k)
{
	return keys_push(ctx, k);
}

static int want_add(struct keys *v, const struct prefix *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct scrub_lpm_key k;
		memset(&k, 0, sizeof(k));
		k.prefixlen = (__u32)p[i].plen;
		memcpy(k.addr, p[i].addr.b, 16);
		if (keys_push(v, &k) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int sync_list(struct xdp_scrub *x, enum xdp_scrub_list l, const struct prefix *a, size_t na,
		     const struct prefix *b, size_t nb, const char *name, char *err, size_t errlen)
{
	struct keys want = {0}, have = {0};
	size_t removed = 0, w = 0;
	int rc;

	if ((rc = want_add(&want, a, na)) < 0 || (rc = want_add(&want, b, nb)) < 0)
		goto out;
	if (want.n)
		qsort(want.k, want.n, sizeof(*want.k), key_cmp);
	for (size_t i = 0; i < want.n; i++) /* the file may repeat what the config says */
		if (!w || key_cmp(&want.k[i], &want.k[w - 1]))
			want.k[w++] = want.k[i];
	want.n = w;
	if ((rc = xdp_scrub_prefix_list(x, l, collect, &have)) < 0)
		goto out;
	for (size_t i = 0; i < have.n; i++)
		if (!want.n || !bsearch(&have.k[i], want.k, want.n, sizeof(*want.k), key_cmp)) {
			if ((rc = xdp_scrub_prefix_del(x, l, &have.k[i])) < 0 && rc != -ENOENT)
				goto out;
			removed++;
		}
	rc = want.n ? xdp_scrub_prefix_add_many(x, l, want.k, (unsigned)want.n) : 0;
	if (rc >= 0) {
		log_info("scrubber: %s list: %zu entries (%zu were there, %zu removed)", name, want.n,
			 have.n, removed);
		rc = 0;
	}
out:
	if (rc < 0)
		snprintf(err, errlen, "scrubber: cannot write the %s list: %s", name, strerror(-rc));
	free(want.k);
	free(have.k);
	return rc;
}

int scrubber_lists(struct scrubber *s, const struct conf *c, char *err, size_t errlen)
{
	if (sync_list(s->xs[0], XDP_SCRUB_ALLOW, c->scrubber.allow, c->scrubber.n_allow,
		      c->scrubber.allow_f, c->scrubber.n_allow_f, "allow", err, errlen) < 0)
		return -1;
	return sync_list(s->xs[0], XDP_SCRUB_DENY, c->scrubber.deny, c->scrubber.n_deny,
			 c->scrubber.deny_f, c->scrubber.n_deny_f, "deny", err, errlen);
}

void scrubber_json(struct scrubber *s, struct json *j)
{
	json_key(j, "reasons");
	json_obj(j);
	for (unsigned r = 0; r < SCRUB_R_MAX; r++) {
		struct scrub_counter c;
		if (xdp_scrub_reason_counter(s->xs[0], r, &c) < 0)
			continue;
		json_key(j, reason_names[r] ? reason_names[r] : "other");
		json_obj(j);
		json_key(j, "packets");
		json_u64(j, c.packets);
		json_key(j, "bytes");
		json_u64(j, c.bytes);
		json_key(j, "dropped_packets");
		json_u64(j, c.dropped_packets);
		json_key(j, "dropped_bytes");
		json_u64(j, c.dropped_bytes);
		json_end(j);
	}
	json_end(j);
}

int scrubber_unload(const struct conf *c, char *err, size_t errlen)
{
	struct xdp_scrub *x = NULL;
	int rc = 0;

	if (!c->scrubber.enabled) {
		snprintf(err, errlen, "%s: no scrubber configured", c->path);
		return -1;
	}
	libbpf_set_print(libbpf_log);
	/* A fresh program on the same pins: attaching replaces the one an earlier moatd left
	 * (never another program), and detaching then takes ours off. */
	for (size_t i = 0; i < c->scrubber.n_interfaces; i++) {
		const char *ifn = c->scrubber.interfaces[i];
		unsigned ifindex = if_nametoindex(ifn);
		if (!ifindex)
			continue; /* gone with its program */
		if (xdp_scrub_open(&x, "") < 0) {
			snprintf(err, errlen, "cannot load the XDP program to replace the old one");
			return -1;
		}
		int m = xdp_scrub_attach(x, (int)ifindex, 0, NULL);
		if (m >= 0) {
			xdp_scrub_detach(x);
			log_info("scrubber: detached from %s", ifn);
		} else if (m == -EBUSY) {
			snprintf(err, errlen, "%s: another XDP program is attached; left alone",
				 ifn);
			rc = -1;
		}
		xdp_scrub_close(x);
		x = NULL;
	}
	if (xdp_scrub_open(&x, c->scrubber.pin_dir) == 0) {
		xdp_scrub_unpin(x);
		xdp_scrub_close(x);
		log_info("scrubber: pinned maps under %s removed", c->scrubber.pin_dir);
	}
	return rc;
}
