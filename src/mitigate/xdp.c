/* xdp: loads and drives the XDP scrubber through its libbpf skeleton (build/bpf/scrub.skel.h). */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "core/obs.h"
#include "mitigate/xdp.h"
#include "scrub.skel.h"

#define BPF_FS_MAGIC_NUMBER 0xcafe4a11

struct xdp_scrub {
	struct scrub *skel;
	struct ring_buffer *ring;
	int ncpus;
	int ifindex; /* attached to, or 0 */
	__u32 attach_flags;
	/* the sample callback while xdp_scrub_samples runs */
	void (*sample_cb)(void *ctx, const struct scrub_sample *s);
	void *sample_ctx;
	int nsamples;
};

static int is_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && (unsigned long)st.f_type == BPF_FS_MAGIC_NUMBER;
}

/* mkdir -p for a pin directory, mounting bpffs on /sys/fs/bpf first when it is not there */
static int pin_dir_prepare(const char *dir)
{
	char p[PATH_MAX];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(p))
		return -EINVAL;
	if (strncmp(dir, "/sys/fs/bpf/", 12) == 0 && !is_bpffs("/sys/fs/bpf") &&
	    mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") < 0)
		return -errno;
	memcpy(p, dir, n + 1);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return -errno;
	return is_bpffs(p) ? 0 : -ENOTSUP;
}

int xdp_scrub_open(struct xdp_scrub **out, const char *pin_dir)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo);
	struct xdp_scrub *x;
	struct bpf_map *m;
	int err;

	*out = NULL;
	if (!pin_dir)
		pin_dir = XDP_SCRUB_PIN_DIR;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->ncpus = libbpf_num_possible_cpus();
	if (x->ncpus <= 0) {
		err = x->ncpus ? x->ncpus : -EINVAL;
		goto fail;
	}
	if (*pin_dir) {
		err = pin_dir_prepare(pin_dir);
		if (err)
			goto fail;
		oo.pin_root_path = pin_dir;
	}
	x->skel = scrub__open_opts(&oo);
	if (!x->skel) {
		err = -errno;
		goto fail;
	}
	if (!*pin_dir) {
		bpf_object__for_each_map(m, x->skel->obj)
		{
			err = bpf_map__set_pin_path(m, NULL);
			if (err)
				goto fail;
		}
	}
	err = scrub__load(x->skel);
	if (err)
		goto fail;
	*out = x;
	return 0;
fail:
	if (x->skel)
		scrub__destroy(x->skel);
	free(x);
	return err < 0 ? err : -EINVAL;
}

void xdp_scrub_close(struct xdp_scrub *x)
{
	if (!x)
		return;
	if (x->ifindex)
		xdp_scrub_detach(x);
	ring_buffer__free(x->ring);
	scrub__destroy(x->skel);
	free(x);
}

int xdp_scrub_unpin(struct xdp_scrub *x)
{
	struct bpf_map *m;
	int err, ret = 0;

	bpf_object__for_each_map(m, x->skel->obj)
	{
		if (!bpf_map__is_pinned(m))
			continue;
		err = bpf_map__unpin(m, NULL);
		if (err && !ret)
			ret = err;
	}
	return ret;
}

int xdp_scrub_prog_fd(const struct xdp_scrub *x)
{
	return bpf_program__fd(x->skel->progs.scrub);
}

/* The program attached to ifindex in mode flags, if it is a scrubber (an earlier run of ours):
 * returns its fd, 0 if none is attached, -EBUSY if another program is. */
static int attached_scrubber(int ifindex, __u32 flags)
{
	struct bpf_prog_info info = {};
	__u32 id = 0, len = sizeof(info);
	int fd, err;

	err = bpf_xdp_query_id(ifindex, flags, &id);
	if (err)
		return err;
	if (!id)
		return 0;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return -errno;
	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	if (err || strcmp(info.name, "scrub") != 0 || info.type != BPF_PROG_TYPE_XDP) {
		close(fd);
		return err ? err : -EBUSY;
	}
	return fd;
}

static int attach_mode(struct xdp_scrub *x, int ifindex, __u32 mode)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, ao);
	int fd = xdp_scrub_prog_fd(x), old, err;

	err = bpf_xdp_attach(ifindex, fd, mode | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	if (err != -EBUSY && err != -EEXIST)
		return err;
	old = attached_scrubber(ifindex, mode);
	if (old <= 0)
		return old ? old : err;
	ao.old_prog_fd = old;
	err = bpf_xdp_attach(ifindex, fd, mode | XDP_FLAGS_REPLACE, &ao);
	close(old);
	return err;
}

int xdp_scrub_attach(struct xdp_scrub *x, int ifindex, int force_generic, int *native_err)
{
	int err = -EOPNOTSUPP;

	if (x->ifindex)
		return -EALREADY;
	if (!force_generic) {
		err = attach_mode(x, ifindex, XDP_FLAGS_DRV_MODE);
		if (native_err)
			*native_err = err;
		if (!err) {
			x->ifindex = ifindex;
			x->attach_flags = XDP_FLAGS_DRV_MODE;
			return XDP_SCRUB_NATIVE;
		}
	} else if (native_err) {
		*native_err = 0;
	}
	err = attach_mode(x, ifindex, XDP_FLAGS_SKB_MODE);
	if (err)
		return err;
	x->ifindex = ifindex;
	x->attach_flags = XDP_FLAGS_SKB_MODE;
	return XDP_SCRUB_GENERIC;
}

int xdp_scrub_detach(struct xdp_scrub *x)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, ao, .old_prog_fd = xdp_scrub_prog_fd(x));
	int err;

	if (!x->ifindex)
		return -ENOENT;
	/* XDP_FLAGS_REPLACE with old_prog_fd: never detach a program that is not ours */
	err = bpf_xdp_detach(x->ifindex, x->attach_flags | XDP_FLAGS_REPLACE, &ao);
	x->ifindex = 0;
	return err;
}

int xdp_scrub_config(struct xdp_scrub *x, const struct scrub_config *c)
{
	__u32 zero = 0;

	return bpf_map__update_elem(x->skel->maps.config, &zero, sizeof(zero), c, sizeof(*c),
				    BPF_ANY);
}

static struct bpf_map *list_map(struct xdp_scrub *x, enum xdp_scrub_list l)
{
	return l == XDP_SCRUB_ALLOW ? x->skel->maps.allow_v : x->skel->maps.deny_v;
}

int xdp_scrub_prefix_add(struct xdp_scrub *x, enum xdp_scrub_list l, const struct scrub_lpm_key *k)
{
	__u32 one = 1;

	if (k->prefixlen > 128)
		return -EINVAL;
	return bpf_map__update_elem(list_map(x, l), k, sizeof(*k), &one, sizeof(one), BPF_ANY);
}

int xdp_scrub_prefix_del(struct xdp_scrub *x, enum xdp_scrub_list l, const struct scrub_lpm_key *k)
{
	return bpf_map__delete_elem(list_map(x, l), k, sizeof(*k), 0);
}

int xdp_scrub_prefix_add_many(struct xdp_scrub *x, enum xdp_scrub_list l,
			      const struct scrub_lpm_key *k, unsigned int n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bo, .elem_flags = BPF_ANY);
	int fd = bpf_map__fd(list_map(x, l)), err = 0;
	unsigned int done = 0;
	__u32 *vals;

	if (n > INT_MAX)
		return -EINVAL;
	for (unsigned int i = 0; i < n; i++)
		if (k[i].prefixlen > 128)
			return -EINVAL;
	vals = malloc((n ? n : 1) * sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++)
		vals[i] = 1;
	/* LPM tries have no batch update before Linux 6.x in some configurations: fall back */
	while (done < n) {
		__u32 cnt = n - done;

		err = bpf_map_update_batch(fd, k + done, vals + done, &cnt, &bo);
		done += cnt;
		if (err)
			break;
	}
	if (err == -EINVAL || err == -EOPNOTSUPP || err == -524 /* ENOTSUPP, kernel-internal */) {
		err = 0;
		for (; done < n && !err; done++)
			err = bpf_map_update_elem(fd, &k[done], &vals[done], BPF_ANY);
		if (err)
			done--;
	}
	free(vals);
	return err ? err : (int)done;
}

int xdp_scrub_prefix_parse(const char *s, struct scrub_lpm_key *k)
{
	struct maddr a;
	int plen;

	if (prefix_parse(s, &a, &plen) != 0)
		return -EINVAL;
	k->prefixlen = (__u32)plen;
	memcpy(k->addr, a.b, 16);
	return 0;
}

int xdp_scrub_target_set(struct xdp_scrub *x, const struct scrub_addr *t, __u32 flags)
{
	struct bpf_map *m = x->skel->maps.targets;
	struct scrub_target v = {0};
	int err;

	err = bpf_map__lookup_elem(m, t, sizeof(*t), &v, sizeof(v), 0);
	if (err && err != -ENOENT)
		return err;
	v.flags = flags;
	err = bpf_map__update_elem(m, t, sizeof(*t), &v, sizeof(v), BPF_ANY);
	return err == -E2BIG ? -ENOSPC : err;
}

static int rule_get(struct xdp_scrub *x, __u32 id, struct scrub_rule *r)
{
	if (id >= SCRUB_MAX_RULES)
		return -ERANGE;
	return bpf_map__lookup_elem(x->skel->maps.rules, &id, sizeof(id), r, sizeof(*r), 0);
}

static int rule_put(struct xdp_scrub *x, __u32 id, const struct scrub_rule *r)
{
	return bpf_map__update_elem(x->skel->maps.rules, &id, sizeof(id), r, sizeof(*r), BPF_ANY);
}

static int counter_reset(struct xdp_scrub *x, __u32 id)
{
	struct scrub_counter *c = calloc(x->ncpus, sizeof(*c));
	int err;

	if (!c)
		return -ENOMEM;
	err = bpf_map__update_elem(x->skel->maps.rule_stats, &id, sizeof(id), c,
				   x->ncpus * sizeof(*c), BPF_ANY);
	free(c);
	return err;
}

int xdp_scrub_target_del(struct xdp_scrub *x, const struct scrub_addr *t)
{
	static const struct scrub_rule empty;
	struct scrub_target v;
	int err;

	err = bpf_map__lookup_elem(x->skel->maps.targets, t, sizeof(*t), &v, sizeof(v), 0);
	if (err)
		return err;
	/* the target first, so the data plane never follows a rule id being cleared */
	err = bpf_map__delete_elem(x->skel->maps.targets, t, sizeof(*t), 0);
	if (err)
		return err;
	for (__u32 i = 0; i < v.nrules && i < SCRUB_TARGET_RULES; i++) {
		err = rule_put(x, v.rules[i], &empty);
		if (err)
			return err;
	}
	return 0;
}

int xdp_scrub_rule_add(struct xdp_scrub *x, __u32 id, const struct scrub_rule *r)
{
	struct bpf_map *tm = x->skel->maps.targets;
	struct scrub_target v = {0};
	struct scrub_rule old;
	int err;

	if (r->action == SCRUB_ACT_NONE || r->action > SCRUB_ACT_RATELIMIT)
		return -EINVAL;
	err = rule_get(x, id, &old);
	if (err)
		return err;
	if (old.action != SCRUB_ACT_NONE)
		return -EEXIST;
	err = bpf_map__lookup_elem(tm, &r->target, sizeof(r->target), &v, sizeof(v), 0);
	if (err && err != -ENOENT)
		return err;
	if (v.nrules >= SCRUB_TARGET_RULES)
		return -ENOSPC;
	/* rule and counters before the target points at them */
	err = counter_reset(x, id);
	if (!err)
		err = rule_put(x, id, r);
	if (err)
		return err;
	v.rules[v.nrules++] = id;
	err = bpf_map__update_elem(tm, &r->target, sizeof(r->target), &v, sizeof(v), BPF_ANY);
	if (err) {
		static const struct scrub_rule empty;

		rule_put(x, id, &empty);
		return err == -E2BIG ? -ENOSPC : err;
	}
	return 0;
}

int xdp_scrub_rule_del(struct xdp_scrub *x, __u32 id)
{
	static const struct scrub_rule empty;
	struct bpf_map *tm = x->skel->maps.targets;
	struct scrub_rule r;
	struct scrub_target v;
	__u32 j = 0;
	int err;

	err = rule_get(x, id, &r);
	if (err)
		return err;
	if (r.action == SCRUB_ACT_NONE)
		return -ENOENT;
	err = bpf_map__lookup_elem(tm, &r.target, sizeof(r.target), &v, sizeof(v), 0);
	if (!err) {
		for (__u32 i = 0; i < v.nrules && i < SCRUB_TARGET_RULES; i++)
			if (v.rules[i] != id)
				v.rules[j++] = v.rules[i];
		v.nrules = j;
		err =
		    bpf_map__update_elem(tm, &r.target, sizeof(r.target), &v, sizeof(v), BPF_EXIST);
		if (err)
			return err;
	} else if (err != -ENOENT) {
		return err;
	}
	return rule_put(x, id, &empty);
}

int xdp_scrub_rule_list(struct xdp_scrub *x,
			int (*cb)(void *ctx, __u32 id, const struct scrub_rule *r), void *ctx)
{
	struct scrub_rule r;
	int err;

	for (__u32 id = 0; id < SCRUB_MAX_RULES; id++) {
		err = rule_get(x, id, &r);
		if (err)
			return err;
		if (r.action == SCRUB_ACT_NONE)
			continue;
		err = cb(ctx, id, &r);
		if (err)
			return err;
	}
	return 0;
}

static int counter_sum(struct xdp_scrub *x, struct bpf_map *m, __u32 key, struct scrub_counter *c)
{
	struct scrub_counter *v = calloc(x->ncpus, sizeof(*v));
	int err;

	memset(c, 0, sizeof(*c));
	if (!v)
		return -ENOMEM;
	err = bpf_map__lookup_elem(m, &key, sizeof(key), v, x->ncpus * sizeof(*v), 0);
	for (int i = 0; !err && i < x->ncpus; i++) {
		c->packets += v[i].packets;
		c->bytes += v[i].bytes;
		c->dropped_packets += v[i].dropped_packets;
		c->dropped_bytes += v[i].dropped_bytes;
	}
	free(v);
	return err;
}

int xdp_scrub_rule_counter(struct xdp_scrub *x, __u32 id, struct scrub_counter *c)
{
	if (id >= SCRUB_MAX_RULES)
		return -ERANGE;
	return counter_sum(x, x->skel->maps.rule_stats, id, c);
}

int xdp_scrub_reason_counter(struct xdp_scrub *x, __u32 reason, struct scrub_counter *c)
{
	if (reason >= SCRUB_R_MAX)
		return -ERANGE;
	return counter_sum(x, x->skel->maps.reason_stats, reason, c);
}

static int sample_event(void *ctx, void *data, size_t size)
{
	struct xdp_scrub *x = ctx;

	if (size < sizeof(struct scrub_sample))
		return 0;
	x->sample_cb(x->sample_ctx, data);
	x->nsamples++;
	return 0;
}

int xdp_scrub_samples(struct xdp_scrub *x, void (*cb)(void *ctx, const struct scrub_sample *s),
		      void *ctx, int timeout_ms)
{
	int err;

	if (!x->ring) {
		x->ring =
		    ring_buffer__new(bpf_map__fd(x->skel->maps.samples), sample_event, x, NULL);
		if (!x->ring)
			return -errno;
	}
	x->sample_cb = cb;
	x->sample_ctx = ctx;
	x->nsamples = 0;
	err = ring_buffer__poll(x->ring, timeout_ms);
	return err < 0 ? err : x->nsamples;
}
