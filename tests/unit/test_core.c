/* Unit tests: siphash, LPM, JSON writer. */
#include <stdlib.h>

#include "core/json.h"
#include "core/lpm.h"
#include "core/obs.h"
#include "core/siphash.h"
#include "t.h"

static uint32_t set_val(uint32_t old, void *arg)
{
	(void)old;
	return (uint32_t)(uintptr_t)arg;
}

static uint32_t lookup(struct lpm *t, const char *a)
{
	struct maddr m;
	if (maddr_parse(a, &m) < 0)
		return 0xdead;
	return lpm_lookup(t, &m);
}

static void ins(struct lpm *t, const char *p, uint32_t v)
{
	struct maddr a;
	int plen;
	CHECK_EQ(prefix_parse(p, &a, &plen), 0);
	CHECK_EQ(lpm_insert(t, &a, plen, set_val, (void *)(uintptr_t)v), 0);
}

static void test_lpm(void)
{
	struct lpm t;
	CHECK_EQ(lpm_init(&t, 1000), 0);
	/* shortest first, as the detector inserts */
	ins(&t, "0.0.0.0/0", 1);
	ins(&t, "198.51.100.0/24", 2);
	ins(&t, "198.51.100.0/28", 3);
	ins(&t, "198.51.100.10/32", 4);
	ins(&t, "198.51.100.128/25", 5);
	ins(&t, "2001:db8::/32", 6);
	ins(&t, "2001:db8:5::/48", 7);
	ins(&t, "2001:db8:5::1/128", 8);
	ins(&t, "2001:db8:5:8000::/49", 9);

	CHECK_EQ(lookup(&t, "192.0.2.1"), 1);
	CHECK_EQ(lookup(&t, "198.51.100.200"), 5);
	CHECK_EQ(lookup(&t, "198.51.100.127"), 2);
	CHECK_EQ(lookup(&t, "198.51.100.15"), 3);
	CHECK_EQ(lookup(&t, "198.51.100.16"), 2);
	CHECK_EQ(lookup(&t, "198.51.100.10"), 4);
	CHECK_EQ(lookup(&t, "198.51.100.11"), 3);
	CHECK_EQ(lookup(&t, "198.51.101.0"), 1);
	/* IPv4 default route does not cover IPv6 and vice versa */
	CHECK_EQ(lookup(&t, "2001:db9::1"), 0);
	CHECK_EQ(lookup(&t, "2001:db8:1::1"), 6);
	CHECK_EQ(lookup(&t, "2001:db8:5::2"), 7);
	CHECK_EQ(lookup(&t, "2001:db8:5::1"), 8);
	CHECK_EQ(lookup(&t, "2001:db8:5:8000::1"), 9);
	CHECK_EQ(lookup(&t, "2001:db8:5:7fff::1"), 7);
	lpm_free(&t);

	/* the node bound is enforced: inserting many /32s fails cleanly */
	CHECK_EQ(lpm_init(&t, 8), 0);
	int failed = 0;
	for (int i = 0; i < 64 && !failed; i++) {
		struct maddr a;
		uint8_t v4[4] = {10, (uint8_t)i, 0, 1};
		maddr_from_v4(&a, v4);
		failed = lpm_insert(&t, &a, 128, set_val, (void *)1) < 0;
	}
	CHECK(failed);
	lpm_free(&t);
}

/* brute-force cross-check against a linear scan over random prefixes */
static void test_lpm_random(void)
{
	struct {
		struct maddr a;
		int plen;
	} p[300];
	struct lpm t;
	uint64_t s = 12345;
	int n = 0;

	CHECK_EQ(lpm_init(&t, 100000), 0);
	for (int len = 96; len <= 128; len++) {
		for (int k = 0; k < 9; k++) {
			s = s * 6364136223846793005ULL + 1442695040888963407ULL;
			uint8_t v4[4] = {198, 51, (uint8_t)(s >> 40), (uint8_t)(s >> 48)};
			maddr_from_v4(&p[n].a, v4);
			maddr_mask(&p[n].a, len);
			p[n].plen = len;
			CHECK_EQ(lpm_insert(&t, &p[n].a, len, set_val, (void *)(uintptr_t)(n + 1)),
				 0);
			n++;
		}
	}
	int bad = 0;
	for (int q = 0; q < 20000; q++) {
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		uint8_t v4[4] = {198, 51, (uint8_t)(s >> 40), (uint8_t)(s >> 48)};
		struct maddr a;
		maddr_from_v4(&a, v4);
		int best = -1, want = 0;
		for (int i = 0; i < n; i++) {
			struct maddr m = a;
			maddr_mask(&m, p[i].plen);
			/* later inserts of the same length win, as in the trie */
			if (maddr_eq(&m, &p[i].a) && p[i].plen >= best) {
				best = p[i].plen;
				want = i + 1;
			}
		}
		if (lpm_lookup(&t, &a) != (uint32_t)want)
			bad++;
	}
	CHECK_EQ(bad, 0);
	lpm_free(&t);
}

static void test_siphash(void)
{
	/* key 00..0f as in the SipHash reference vectors */
	struct sipkey k;
	uint8_t key[16], msg[64];
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	memcpy(&k.k0, key, 8);
	memcpy(&k.k1, key + 8, 8);
	/* properties that must hold whatever the vector: keyed, length-sensitive, stable */
	uint64_t a = siphash13(&k, msg, 15), b = siphash13(&k, msg, 15), c = siphash13(&k, msg, 16);
	CHECK(a == b);
	CHECK(a != c);
	struct sipkey k2 = k;
	k2.k0 ^= 1;
	CHECK(siphash13(&k2, msg, 15) != a);
	/* empty input, key 00..0f: the first SipHash-1-3 reference vector (also in Rust's
	 * std tests: dc c4 0f 05 58 01 ac ab) */
	CHECK(siphash13(&k, msg, 0) == 0xabac0158050fc4dcULL);
	struct sipkey s1, s2;
	sipkey_init(&s1, 7);
	sipkey_init(&s2, 7);
	CHECK(s1.k0 == s2.k0 && s1.k1 == s2.k1);
	/* distribution: 4096 sequential addresses over 256 buckets, none empty, none > 3x mean */
	int buckets[256] = {0};
	for (uint32_t i = 0; i < 4096; i++) {
		struct maddr m;
		uint8_t v4[4] = {198, 51, (uint8_t)(i >> 8), (uint8_t)i};
		maddr_from_v4(&m, v4);
		buckets[siphash13(&s1, m.b, 16) & 255]++;
	}
	int lo = 1 << 30, hi = 0;
	for (int i = 0; i < 256; i++) {
		lo = buckets[i] < lo ? buckets[i] : lo;
		hi = buckets[i] > hi ? buckets[i] : hi;
	}
	CHECK(lo > 0);
	CHECK(hi < 48);
}

static void test_json(void)
{
	struct json j;
	json_init(&j);
	json_obj(&j);
	json_key(&j, "a");
	json_u64(&j, 1);
	json_key(&j, "s");
	json_str(&j, "q\"\\\n\x01");
	json_key(&j, "l");
	json_arr(&j);
	json_i64(&j, -2);
	json_dbl(&j, 0.5, 2);
	json_bool(&j, true);
	json_null(&j);
	json_obj(&j);
	json_end(&j);
	json_aend(&j);
	json_key(&j, "nan");
	json_dbl(&j, 0.0 / 0.0, 1);
	json_end(&j);
	CHECK_STR(j.buf, "{\"a\":1,\"s\":\"q\\\"\\\\\\n\\u0001\",\"l\":[-2,0.50,true,null,{}],"
			 "\"nan\":null}");
	json_reset(&j);
	json_arr(&j);
	json_aend(&j);
	CHECK_STR(j.buf, "[]");
	json_free(&j);
}

int main(void)
{
	test_lpm();
	test_lpm_random();
	test_siphash();
	test_json();
	return t_done("test_core");
}
