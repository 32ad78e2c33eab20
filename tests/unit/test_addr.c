/* test_addr: address and prefix parsing/printing in the 16-byte mapped form. */
#include <stdint.h>
#include <string.h>

#include "core/obs.h"
#include "t.h"

static void test_parse(void)
{
	static const struct {
		const char *in;
		int ret;
		const char *out; /* maddr_str of the result */
		int v4;
	} cases[] = {
	    {"192.0.2.1", 0, "192.0.2.1", 1},
	    {"0.0.0.0", 0, "0.0.0.0", 1},
	    {"255.255.255.255", 0, "255.255.255.255", 1},
	    {"2001:db8::1", 0, "2001:db8::1", 0},
	    {"::", 0, "::", 0},
	    {"::1", 0, "::1", 0},
	    {"::ffff:198.51.100.7", 0, "198.51.100.7", 1}, /* same bytes as the IPv4 form */
	    {"", -1, NULL, 0},
	    {"1.2.3", -1, NULL, 0},
	    {"256.0.0.1", -1, NULL, 0},
	    {"1.2.3.4.5", -1, NULL, 0},
	    {"1.2.3.4 ", -1, NULL, 0},
	    {"01.2.3.4", -1, NULL, 0},
	    {"2001:db8::1::2", -1, NULL, 0},
	    {"2001:db8::g", -1, NULL, 0},
	    {"hello", -1, NULL, 0},
	    {"192.0.2.0/24", -1, NULL, 0},
	};
	char buf[MADDR_STRLEN];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct maddr a;
		int r = maddr_parse(cases[i].in, &a);

		if (r != cases[i].ret)
			fprintf(stderr, "maddr_parse(\"%s\") = %d\n", cases[i].in, r);
		CHECK_EQ(r, cases[i].ret);
		if (r != 0)
			continue;
		CHECK_STR(maddr_str(&a, buf), cases[i].out);
		CHECK_EQ(maddr_is_v4(&a), cases[i].v4);
	}

	/* the mapped layout itself */
	{
		static const uint8_t want[16] = {[10] = 0xff, [11] = 0xff, 192, 0, 2, 1};
		struct maddr a;

		CHECK_EQ(maddr_parse("192.0.2.1", &a), 0);
		CHECK(memcmp(a.b, want, 16) == 0);
	}
}

static void test_prefix(void)
{
	static const struct {
		const char *in;
		int ret;
		int plen;
		const char *out; /* prefix_str of the result */
	} cases[] = {
	    {"192.0.2.0/24", 0, 120, "192.0.2.0/24"},
	    {"10.0.0.0/8", 0, 104, "10.0.0.0/8"},
	    {"0.0.0.0/0", 0, 96, "0.0.0.0/0"},
	    {"192.0.2.1", 0, 128, "192.0.2.1/32"},
	    {"192.0.2.1/32", 0, 128, "192.0.2.1/32"},
	    {"2001:db8::/32", 0, 32, "2001:db8::/32"},
	    {"2001:db8::1", 0, 128, "2001:db8::1/128"},
	    {"::/0", 0, 0, "::/0"},
	    {"2001:db8:0:1::/64", 0, 64, "2001:db8:0:1::/64"},
	    {"192.0.2.1/24", -2, 0, NULL},
	    {"192.0.2.128/24", -2, 0, NULL},
	    {"11.0.0.0/7", -2, 0, NULL},
	    {"10.0.0.0/7", 0, 103, "10.0.0.0/7"},
	    {"2001:db8::1/64", -2, 0, NULL},
	    {"2001:db8::/15", -2, 0, NULL},
	    {"192.0.2.0/33", -1, 0, NULL},
	    {"2001:db8::/129", -1, 0, NULL},
	    {"192.0.2.0/", -1, 0, NULL},
	    {"192.0.2.0/-1", -1, 0, NULL},
	    {"192.0.2.0/+8", -1, 0, NULL},
	    {"192.0.2.0/ 8", -1, 0, NULL},
	    {"192.0.2.0/24x", -1, 0, NULL},
	    {"192.0.2.0/24/8", -1, 0, NULL},
	    {"192.0.2.0/99999999999999999999", -1, 0, NULL},
	    {"/24", -1, 0, NULL},
	    {"", -1, 0, NULL},
	    {"192.0.2/24", -1, 0, NULL},
	    {"host/24", -1, 0, NULL},
	    {"0123456789012345678901234567890123456789012345678901234567890123456789/8", -1, 0,
	     NULL},
	};
	char buf[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct maddr a;
		int plen = -1;
		int r = prefix_parse(cases[i].in, &a, &plen);

		if (r != cases[i].ret)
			fprintf(stderr, "prefix_parse(\"%s\") = %d\n", cases[i].in, r);
		CHECK_EQ(r, cases[i].ret);
		if (r != 0 || cases[i].ret != 0)
			continue;
		CHECK_EQ(plen, cases[i].plen);
		CHECK_STR(prefix_str(&a, plen, buf, sizeof(buf)), cases[i].out);
	}

	/* a short buffer is truncated, never overrun */
	{
		struct maddr a;
		int plen;
		char small[8];

		CHECK_EQ(prefix_parse("198.51.100.0/24", &a, &plen), 0);
		memset(small, 'x', sizeof(small));
		prefix_str(&a, plen, small, sizeof(small));
		CHECK_STR(small, "198.51.");
	}
}

static void test_mask(void)
{
	static const struct {
		const char *in;
		int plen;
		const char *out;
	} cases[] = {
	    {"192.0.2.255", 120, "192.0.2.0"},
	    {"192.0.2.255", 121, "192.0.2.128"},
	    {"192.0.2.255", 127, "192.0.2.254"},
	    {"192.0.2.255", 128, "192.0.2.255"},
	    {"203.0.113.77", 96, "0.0.0.0"},
	    {"203.0.113.77", 100, "192.0.0.0"},
	    {"2001:db8:ffff:ffff::1", 48, "2001:db8:ffff::"},
	    {"2001:db8:ffff:ffff::1", 33, "2001:db8:8000::"},
	    {"2001:db8::1", 0, "::"},
	    {"2001:db8::1", 127, "2001:db8::"},
	    {"2001:db8::1", 128, "2001:db8::1"},
	    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1, "8000::"},
	    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 7, "fe00::"},
	};
	char buf[MADDR_STRLEN];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct maddr a;

		CHECK_EQ(maddr_parse(cases[i].in, &a), 0);
		maddr_mask(&a, cases[i].plen);
		CHECK_STR(maddr_str(&a, buf), cases[i].out);
	}
}

static void test_eq(void)
{
	struct maddr a, b;

	CHECK_EQ(maddr_parse("192.0.2.1", &a), 0);
	CHECK_EQ(maddr_parse("::ffff:192.0.2.1", &b), 0);
	CHECK(maddr_eq(&a, &b));
	CHECK_EQ(maddr_parse("192.0.2.2", &b), 0);
	CHECK(!maddr_eq(&a, &b));
	CHECK_EQ(maddr_parse("::c000:201", &b), 0); /* IPv4-compatible, not mapped */
	CHECK(!maddr_is_v4(&b));
	CHECK(!maddr_eq(&a, &b));
}

int main(void)
{
	test_parse();
	test_prefix();
	test_mask();
	test_eq();
	return t_done("test_addr");
}
