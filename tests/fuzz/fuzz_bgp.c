/* fuzz_bgp: the BGP message codec (src/bgp/msg.c) and flowspec NLRI (src/bgp/flowspec.c).
 * Any input is framed as a stream, each framed message parsed in both error-handling modes, and
 * the raw input also given to each decoder directly. Whatever decodes as a flowspec rule must
 * encode to bytes that decode to the same rule and encode to the same bytes again; the rule's
 * text must fit its reported length. An error must carry a NOTIFICATION that encodes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgp/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fs_check(const uint8_t *p, size_t len, int family)
{
	struct fs_rule r, r2;
	uint8_t b1[FS_NLRI_BUFLEN], b2[FS_NLRI_BUFLEN];
	char text[64];
	int n, n1, n2;

	n = fs_nlri_decode(p, len, family, &r);
	if (n < 0)
		return;
	if (n > (int)len)
		abort();
	n1 = fs_nlri_encode(&r, b1, sizeof(b1));
	if (n1 < 0)
		abort(); /* a decoded rule always re-encodes */
	if (fs_nlri_decode(b1, (size_t)n1, family, &r2) != n1 || !fs_rule_eq(&r, &r2))
		abort();
	n2 = fs_nlri_encode(&r2, b2, sizeof(b2));
	if (n2 != n1 || memcmp(b1, b2, (size_t)n1))
		abort();
	int tl = fs_format(&r, text, sizeof(text));
	if (tl < 0 || strlen(text) != ((size_t)tl < sizeof(text) ? (size_t)tl : sizeof(text) - 1))
		abort();
}

/* Walk the flowspec NLRI of an MP attribute as the UPDATE decoder found them. */
static void fs_walk(const uint8_t *p, size_t len, int family)
{
	struct fs_rule r;
	size_t i = 0;
	int n;

	while (i < len) {
		fs_check(p + i, len - i, family);
		n = fs_nlri_decode(p + i, len - i, family, &r);
		if (n <= 0)
			break;
		i += (size_t)n;
	}
}

static void err_check(const struct bgp_err *e)
{
	uint8_t buf[BGP_MAX_LEN];

	if (e->code < 1 || e->code > 7 || e->data_len > sizeof(e->data))
		abort();
	if (bgp_notification_encode_err(buf, sizeof(buf), e) < 0)
		abort();
}

static void parse_one(const uint8_t *m, size_t len)
{
	static struct bgp_msg msg;
	static struct bgp_err err;
	struct bgp_parse_ctx ctx = {0};

	for (int mode = 0; mode < 4; mode++) {
		ctx.as4 = mode & 1;
		ctx.strict = mode & 2;
		if (bgp_parse(m, len, &ctx, &msg, &err) < 0) {
			err_check(&err);
			continue;
		}
		if (msg.type == BGP_UPDATE) {
			const struct bgp_update_info *u = &msg.u.update;
			if (u->mp_reach_family == BGP_IPV4_FLOWSPEC ||
			    u->mp_reach_family == BGP_IPV6_FLOWSPEC)
				fs_walk(u->mp_reach_nlri, u->mp_reach_nlri_len,
					u->mp_reach_family == BGP_IPV4_FLOWSPEC ? 4 : 6);
			if (u->mp_unreach_family == BGP_IPV4_FLOWSPEC ||
			    u->mp_unreach_family == BGP_IPV6_FLOWSPEC)
				fs_walk(u->mp_unreach_nlri, u->mp_unreach_nlri_len,
					u->mp_unreach_family == BGP_IPV4_FLOWSPEC ? 4 : 6);
		} else if (msg.type == BGP_OPEN) {
			/* what we decoded, we can send back */
			uint8_t buf[BGP_MAX_LEN];
			struct bgp_open o2;
			struct bgp_caps c;
			int n = bgp_open_encode(buf, sizeof(buf), &msg.u.open);
			if (n < 0 || bgp_open_decode(buf, (size_t)n, 0, &o2, &err) < 0)
				abort();
			if (o2.as != msg.u.open.as || o2.families != msg.u.open.families ||
			    o2.hold_time != msg.u.open.hold_time)
				abort();
			bgp_negotiate(&o2, &msg.u.open, &c);
		} else if (msg.type == BGP_NOTIFICATION && msg.u.notif.has_text) {
			if (strlen(msg.u.notif.text) > 255)
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bgp_err err;
	size_t off = 0, ml;
	int r;

	/* as a stream */
	while (off < size) {
		r = bgp_frame(data + off, size - off, &ml, &err);
		if (r < 0) {
			err_check(&err);
			break;
		}
		if (r == 0)
			break;
		if (ml < BGP_HDR_LEN || ml > BGP_MAX_LEN || ml > size - off)
			abort();
		parse_one(data + off, ml);
		off += ml;
	}
	/* as one message, whatever its header says */
	parse_one(data, size);
	/* as flowspec NLRI of both families */
	fs_check(data, size, 4);
	fs_check(data, size, 6);
	/* an UPDATE built around the input as flowspec MP_REACH NLRI */
	if (size <= BGP_MAX_LEN - 40) {
		static uint8_t m[BGP_MAX_LEN];
		size_t al = 8 + size, len = 23 + al;
		memset(m, 0xff, 16);
		m[16] = (uint8_t)(len >> 8);
		m[17] = (uint8_t)len;
		m[18] = BGP_UPDATE;
		m[19] = m[20] = 0;
		m[21] = (uint8_t)(al >> 8);
		m[22] = (uint8_t)al;
		m[23] = 0x90; /* optional, extended length */
		m[24] = BGP_ATTR_MP_REACH;
		m[25] = (uint8_t)((size + 4) >> 8);
		m[26] = (uint8_t)(size + 4);
		m[27] = 0;
		m[28] = size & 1 ? 2 : 1;
		m[29] = 133;
		m[30] = 0;
		memcpy(m + 31, data, size);
		/* reserved byte is data[0]: fine, it is ignored */
		parse_one(m, len);
	}
	return 0;
}
