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

static int ne_sync(struct xdp_scrub *x);

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
	} else {
		/* the nonempty word is a global (a map of its own, see scrub.bpf.c), which libbpf
		 * does not pin by itself: pinned like the others, so that every scrubber on these
		 * maps, and the next run's, shares it */
		char path[PATH_MAX];

		if (snprintf(path, sizeof(path), "%s/data_nonempty", pin_dir) >=
		    (int)sizeof(path)) {
			err = -ENAMETOOLONG;
			goto fail;
		}
		err = bpf_map__set_pin_path(x->skel->maps.data_nonempty, path);
		if (err)
			goto fail;
	}
	err = scrub__load(x->skel);
	if (err)
		goto fail;
	/* pinned maps may have been filled by an earlier run (or an earlier moat, whose /128s are
	 * in the tries): the data plane's bits come from what the maps hold */
	err = ne_sync(x);
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

void xdp_scrub_leave_attached(struct xdp_scrub *x)
{
	if (x)
		x->ifindex = 0;
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

static int ne_update(struct xdp_scrub *x, __u32 set, __u32 clear);

/* NE_SAMPLE tells the data plane to look config up on a drop; the config and the bit are in
 * pinned maps every scrubber on them shares. */
int xdp_scrub_config(struct xdp_scrub *x, const struct scrub_config *c)
{
	__u32 zero = 0;
	int err =
	    bpf_map__update_elem(x->skel->maps.config, &zero, sizeof(zero), c, sizeof(*c), BPF_ANY);

	if (err)
		return err;
	return c->sample_every ? ne_update(x, NE_SAMPLE, 0) : ne_update(x, 0, NE_SAMPLE);
}

/* Lists. Exact addresses of both lists are in exact4 (IPv4 /32, keyed by the 4 address bytes)
 * or exact6 (other /128s), the value saying which lists hold the address (EXACT_*); shorter
 * prefixes are in the list's LPM trie. The nonempty word (a global of the program, pinned as
 * data_nonempty) says which maps have entries and whether drops are sampled (NE_*, both in
 * scrub.h), so that the data plane skips empty ones. */

static __u32 exact_bit(enum xdp_scrub_list l)
{
	return l == XDP_SCRUB_ALLOW ? EXACT_ALLOW : EXACT_DENY;
}

static __u32 ne_list_exact(enum xdp_scrub_list l)
{
	return l == XDP_SCRUB_ALLOW ? NE_ALLOW_EXACT : NE_DENY_EXACT;
}

static __u32 ne_list_prefix(enum xdp_scrub_list l)
{
	return l == XDP_SCRUB_ALLOW ? NE_ALLOW_PREFIX : NE_DENY_PREFIX;
}

static struct bpf_map *trie(struct xdp_scrub *x, enum xdp_scrub_list l)
{
	return l == XDP_SCRUB_ALLOW ? x->skel->maps.allow_v : x->skel->maps.deny_v;
}

static const __u8 v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* Where an exact key lives: returns 0 if k is a shorter prefix (it goes to a trie). */
struct xkey {
	struct bpf_map *m;
	const void *key;
	size_t len;
	__u32 ne;
};

static int xkey_of(struct xdp_scrub *x, const struct scrub_lpm_key *k, struct xkey *xk)
{
	if (k->prefixlen != 128)
		return 0;
	if (memcmp(k->addr, v4mapped, 12) == 0) {
		xk->m = x->skel->maps.exact4;
		xk->key = k->addr + 12;
		xk->len = 4;
		xk->ne = NE_EXACT4;
	} else {
		xk->m = x->skel->maps.exact6;
		xk->key = k->addr;
		xk->len = 16;
		xk->ne = NE_EXACT6;
	}
	return 1;
}

/* 1 if the map has no entry, 0 if it has one, or -errno */
static int map_empty(struct bpf_map *m)
{
	__u8 key[64]; /* the largest key of the maps asked */
	int err;

	if (bpf_map__key_size(m) > sizeof(key))
		return -EINVAL;
	err = bpf_map_get_next_key(bpf_map__fd(m), NULL, key);
	if (err == -ENOENT)
		return 1;
	return err ? err : 0;
}

static int ne_get(struct xdp_scrub *x, __u32 *bits)
{
	__u32 zero = 0;

	return bpf_map__lookup_elem(x->skel->maps.data_nonempty, &zero, sizeof(zero), bits,
				    sizeof(*bits), 0);
}

/* read, set and clear bits, write if changed */
static int ne_update(struct xdp_scrub *x, __u32 set, __u32 clear)
{
	__u32 zero = 0, bits, nb;
	int err = ne_get(x, &bits);

	if (err)
		return err;
	nb = (bits | set) & ~clear;
	if (nb == bits)
		return 0;
	return bpf_map__update_elem(x->skel->maps.data_nonempty, &zero, sizeof(zero), &nb,
				    sizeof(nb), BPF_ANY);
}

/* Recomputes the data plane's bits from what the maps hold: after deletions, and when opening
 * pinned maps that an earlier run (or an earlier moat, with /128s in the tries) filled. */
static int ne_sync(struct xdp_scrub *x)
{
	const struct {
		struct bpf_map *m;
		__u32 bit;
	} maps[] = {
	    {x->skel->maps.exact4, NE_EXACT4},	      {x->skel->maps.exact6, NE_EXACT6},
	    {x->skel->maps.allow_v, NE_ALLOW_PREFIX}, {x->skel->maps.deny_v, NE_DENY_PREFIX},
	    {x->skel->maps.targets, NE_TARGETS},
	};
	struct scrub_config cf;
	__u32 set = 0, clear = 0, bits, zero = 0;
	int err;

	err = bpf_map__lookup_elem(x->skel->maps.config, &zero, sizeof(zero), &cf, sizeof(cf), 0);
	if (err)
		return err;
	if (cf.sample_every)
		set |= NE_SAMPLE;
	else
		clear |= NE_SAMPLE;
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		int e = map_empty(maps[i].m);

		if (e < 0)
			return e;
		if (e)
			clear |= maps[i].bit;
		else
			set |= maps[i].bit;
	}
	if (!(set & (NE_EXACT4 | NE_EXACT6))) {
		clear |= NE_ALLOW_EXACT | NE_DENY_EXACT;
	} else {
		/* exact entries but no record of whose: assume both lists' */
		err = ne_get(x, &bits);
		if (err)
			return err;
		if (!(bits & (NE_ALLOW_EXACT | NE_DENY_EXACT)))
			set |= NE_ALLOW_EXACT | NE_DENY_EXACT;
	}
	return ne_update(x, set, clear);
}

int xdp_scrub_prefix_add(struct xdp_scrub *x, enum xdp_scrub_list l, const struct scrub_lpm_key *k)
{
	struct xkey xk;
	__u32 v = 0;
	int err;

	if (k->prefixlen > 128)
		return -EINVAL;
	if (!xkey_of(x, k, &xk)) {
		v = 1;
		err = bpf_map__update_elem(trie(x, l), k, sizeof(*k), &v, sizeof(v), BPF_ANY);
		/* after the insert: a data plane bit never stands for a map that is still empty */
		return err ? err : ne_update(x, ne_list_prefix(l), 0);
	}
	err = ne_update(x, ne_list_exact(l), 0);
	if (err)
		return err;
	err = bpf_map__lookup_elem(xk.m, xk.key, xk.len, &v, sizeof(v), 0);
	if (err && err != -ENOENT)
		return err;
	v |= exact_bit(l);
	err = bpf_map__update_elem(xk.m, xk.key, xk.len, &v, sizeof(v), BPF_ANY);
	return err ? err : ne_update(x, xk.ne, 0);
}

int xdp_scrub_prefix_del(struct xdp_scrub *x, enum xdp_scrub_list l, const struct scrub_lpm_key *k)
{
	struct xkey xk;
	__u32 v;
	int err;

	if (k->prefixlen > 128)
		return -EINVAL;
	if (xkey_of(x, k, &xk)) {
		err = bpf_map__lookup_elem(xk.m, xk.key, xk.len, &v, sizeof(v), 0);
		if (err && err != -ENOENT)
			return err;
		if (!err && (v & exact_bit(l))) {
			v &= ~exact_bit(l);
			if (v)
				err = bpf_map__update_elem(xk.m, xk.key, xk.len, &v, sizeof(v),
							   BPF_EXIST);
			else
				err = bpf_map__delete_elem(xk.m, xk.key, xk.len, 0);
			return err ? err : ne_sync(x);
		}
		/* not there: maps pinned by an earlier moat hold /128s in the tries */
	}
	err = bpf_map__delete_elem(trie(x, l), k, sizeof(*k), 0);
	return err ? err : ne_sync(x);
}

/* Inserts n keys of ksize bytes into map fd, in batches where the kernel has them; returns how
 * many were inserted or -errno. */
static int insert_many(int fd, const void *keys, size_t ksize, const __u32 *vals, unsigned int n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, bo, .elem_flags = BPF_ANY);
	const char *k = keys;
	unsigned int done = 0;
	int err = 0;

	while (done < n) {
		__u32 cnt = n - done;

		err = bpf_map_update_batch(fd, k + done * ksize, vals + done, &cnt, &bo);
		done += cnt;
		if (err)
			break;
	}
	/* maps without batch updates (LPM tries before some 6.x kernels): one at a time */
	if (err == -EINVAL || err == -EOPNOTSUPP || err == -524 /* ENOTSUPP, kernel-internal */) {
		err = 0;
		for (; done < n && !err; done++)
			err = bpf_map_update_elem(fd, k + done * ksize, &vals[done], BPF_ANY);
		if (err)
			done--;
	}
	return err ? err : (int)done;
}

/* The values for n exact keys of list l: its bit, plus whatever the other list has there if
 * it may have anything (one lookup a key then). */
static int exact_values(struct xdp_scrub *x, enum xdp_scrub_list l, struct bpf_map *m,
			const void *keys, size_t ksize, __u32 *vals, unsigned int n, int merge)
{
	for (unsigned int i = 0; i < n; i++) {
		__u32 v = 0;
		int err = merge ? bpf_map__lookup_elem(m, (const char *)keys + i * ksize, ksize, &v,
						       sizeof(v), 0)
				: 0;

		if (err && err != -ENOENT)
			return err;
		vals[i] = v | exact_bit(l);
	}
	return 0;
}

int xdp_scrub_prefix_add_many(struct xdp_scrub *x, enum xdp_scrub_list l,
			      const struct scrub_lpm_key *k, unsigned int n)
{
	struct xdp_scrub_many {
		__be32 *k4;
		struct scrub_addr *k6;
		struct scrub_lpm_key *kp;
		__u32 *v4, *v6, *vp;
	} b = {0};
	unsigned int n4 = 0, n6 = 0, np = 0;
	struct xkey xk;
	__u32 bits;
	int err, merge, done[3] = {0, 0, 0};

	if (n > INT_MAX)
		return -EINVAL;
	for (unsigned int i = 0; i < n; i++) {
		if (k[i].prefixlen > 128)
			return -EINVAL;
		if (!xkey_of(x, &k[i], &xk))
			np++;
		else if (xk.len == 4)
			n4++;
		else
			n6++;
	}
	err = -ENOMEM;
	b.k4 = malloc((n4 ? n4 : 1) * sizeof(*b.k4));
	b.k6 = malloc((n6 ? n6 : 1) * sizeof(*b.k6));
	b.kp = malloc((np ? np : 1) * sizeof(*b.kp));
	b.v4 = malloc((n4 ? n4 : 1) * sizeof(*b.v4));
	b.v6 = malloc((n6 ? n6 : 1) * sizeof(*b.v6));
	b.vp = malloc((np ? np : 1) * sizeof(*b.vp));
	if (!b.k4 || !b.k6 || !b.kp || !b.v4 || !b.v6 || !b.vp)
		goto out;
	n4 = n6 = np = 0;
	for (unsigned int i = 0; i < n; i++) {
		if (!xkey_of(x, &k[i], &xk)) {
			b.vp[np] = 1;
			b.kp[np++] = k[i];
		} else if (xk.len == 4) {
			memcpy(&b.k4[n4++], xk.key, 4);
		} else {
			memcpy(b.k6[n6++].a, xk.key, 16);
		}
	}
	err = ne_get(x, &bits);
	if (!err && n4 + n6)
		err = ne_update(x, ne_list_exact(l), 0);
	if (err)
		goto out;
	merge = !!(bits & ne_list_exact(l == XDP_SCRUB_ALLOW ? XDP_SCRUB_DENY : XDP_SCRUB_ALLOW));
	err = exact_values(x, l, x->skel->maps.exact4, b.k4, sizeof(*b.k4), b.v4, n4, merge);
	if (!err)
		err =
		    exact_values(x, l, x->skel->maps.exact6, b.k6, sizeof(*b.k6), b.v6, n6, merge);
	if (err)
		goto out;
	done[0] =
	    n4 ? insert_many(bpf_map__fd(x->skel->maps.exact4), b.k4, sizeof(*b.k4), b.v4, n4) : 0;
	if (done[0] >= 0 && n6)
		done[1] =
		    insert_many(bpf_map__fd(x->skel->maps.exact6), b.k6, sizeof(*b.k6), b.v6, n6);
	if (done[0] >= 0 && done[1] >= 0 && np)
		done[2] = insert_many(bpf_map__fd(trie(x, l)), b.kp, sizeof(*b.kp), b.vp, np);
	/* whatever went in, the bits follow the maps */
	err = ne_sync(x);
	for (int i = 0; i < 3; i++)
		if (done[i] < 0)
			err = done[i];
	if (!err)
		err = done[0] + done[1] + done[2];
out:
	free(b.k4);
	free(b.k6);
	free(b.kp);
	free(b.v4);
	free(b.v6);
	free(b.vp);
	return err;
}

/* Calls cb for the entries of exact map m (keys of klen bytes) that list l holds. */
static int list_exact(struct bpf_map *m, size_t klen, enum xdp_scrub_list l,
		      int (*cb)(void *ctx, const struct scrub_lpm_key *k), void *ctx)
{
	enum { BATCH = 4096 };
	LIBBPF_OPTS(bpf_map_batch_opts, bo);
	__u8 *keys = malloc(BATCH * klen);
	__u32 *vals = malloc(BATCH * sizeof(*vals));
	__u64 tok = 0; /* hash maps: a bucket index */
	int err = -ENOMEM, first = 1;

	while (keys && vals) {
		__u32 cnt = BATCH;

		err = bpf_map_lookup_batch(bpf_map__fd(m), first ? NULL : &tok, &tok, keys, vals,
					   &cnt, &bo);
		if (err && err != -ENOENT)
			break;
		for (__u32 i = 0; i < cnt; i++) {
			struct scrub_lpm_key k = {.prefixlen = 128};
			int e;

			if (!(vals[i] & exact_bit(l)))
				continue;
			if (klen == 4) {
				memcpy(k.addr, v4mapped, 12);
				memcpy(k.addr + 12, keys + i * 4, 4);
			} else {
				memcpy(k.addr, keys + i * 16, 16);
			}
			e = cb(ctx, &k);
			if (e) {
				err = e;
				goto out;
			}
		}
		if (err == -ENOENT) {
			err = 0;
			break;
		}
		first = 0;
	}
out:
	free(keys);
	free(vals);
	return err;
}

int xdp_scrub_prefix_list(struct xdp_scrub *x, enum xdp_scrub_list l,
			  int (*cb)(void *ctx, const struct scrub_lpm_key *k), void *ctx)
{
	int fd = bpf_map__fd(trie(x, l)), err;
	struct scrub_lpm_key k, next;
	void *cur = NULL;

	err = list_exact(x->skel->maps.exact4, 4, l, cb, ctx);
	if (!err)
		err = list_exact(x->skel->maps.exact6, 16, l, cb, ctx);
	while (!err) {
		err = bpf_map_get_next_key(fd, cur, &next);
		if (err == -ENOENT)
			return 0;
		if (err)
			return err;
		k = next;
		err = cb(ctx, &k);
		cur = &k;
	}
	return err;
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
	if (err)
		return err == -E2BIG ? -ENOSPC : err;
	return ne_update(x, NE_TARGETS, 0);
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
	return ne_sync(x);
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
	return ne_update(x, NE_TARGETS, 0);
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

/* The data plane counts a reason's packets and bytes only: whether they were dropped follows from
 * the reason. */
static int reason_drops(__u32 reason)
{
	switch (reason) {
	case SCRUB_R_DENY:
	case SCRUB_R_RULE_DROP:
	case SCRUB_R_RATE_DROP:
	case SCRUB_R_AMP:
	case SCRUB_R_BAD_HDR:
	case SCRUB_R_BAD_TCP_FLAGS:
	case SCRUB_R_TINY_FRAG:
		return 1;
	}
	return 0;
}

int xdp_scrub_reason_counter(struct xdp_scrub *x, __u32 reason, struct scrub_counter *c)
{
	int err;

	if (reason >= SCRUB_R_MAX)
		return -ERANGE;
	err = counter_sum(x, x->skel->maps.reason_stats, reason, c);
	if (err)
		return err;
	c->dropped_packets = reason_drops(reason) ? c->packets : 0;
	c->dropped_bytes = reason_drops(reason) ? c->bytes : 0;
	return 0;
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
