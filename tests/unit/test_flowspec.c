/* test_flowspec: Flow Specification NLRI (src/bgp/flowspec.c) against the encodings worked out
 * in RFC 8955 4.3 and RFC 8956 3.8, NLRI captured from BIRD 2, round trips of every component
 * type in both families, the 2-byte length form and malformed input. */
#include <stdlib.h>

#include "bgp/flowspec.h"
#include "t.h"

static struct maddr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	struct maddr m;

	maddr_from_v4(&m, (const uint8_t[4]){a, b, c, d});
	return m;
}

static struct maddr v6(const char *s)
{
	struct maddr m;

	if (maddr_parse(s, &m) < 0)
		abort();
	return m;
}

/* Encodes r, compares with want, decodes want and compares with r. */
static void check_bytes(const struct fs_rule *r, const uint8_t *want, size_t n, const char *text)
{
	uint8_t buf[FS_NLRI_BUFLEN];
	struct fs_rule d;
	char s[512];
	int len = fs_nlri_encode(r, buf, sizeof(buf));

	CHECK_EQ(len, (long long)n);
	CHECK(len == (int)n && memcmp(buf, want, n) == 0);
	CHECK_EQ(fs_nlri_decode(want, n, r->family, &d), (long long)n);
	CHECK(fs_rule_eq(r, &d));
	if (text) {
		fs_format(&d, s, sizeof(s));
		CHECK_STR(s, text);
	}
}

static void rfc8955_examples(void)
{
	struct fs_rule r;
	struct maddr a;

	/* 4.3 example 1: all packets to 192.0.2.0/24 and TCP port 25 */
	static const uint8_t ex1[] = {0x0b, 0x01, 0x18, 0xc0, 0x00, 0x02,
				      0x03, 0x81, 0x06, 0x04, 0x81, 0x19};
	fs_rule_init(&r, 4);
	a = v4(192, 0, 2, 0);
	fs_set_dst(&r, &a, 24, 0);
	fs_add_eq(&r, FS_PROTO, 6);
	fs_add_eq(&r, FS_PORT, 25);
	check_bytes(&r, ex1, sizeof(ex1), "destination 192.0.2.0/24 protocol ==tcp port ==25");

	/* example 2: to 192.0.2.0/24 from 203.0.113.0/24 and port {range [137, 139] or 8080} */
	static const uint8_t ex2[] = {0x12, 0x01, 0x18, 0xc0, 0x00, 0x02, 0x02, 0x18, 0xcb, 0x00,
				      0x71, 0x04, 0x03, 0x89, 0x45, 0x8b, 0x91, 0x1f, 0x90};
	fs_rule_init(&r, 4);
	a = v4(192, 0, 2, 0);
	fs_set_dst(&r, &a, 24, 0);
	a = v4(203, 0, 113, 0);
	fs_set_src(&r, &a, 24, 0);
	CHECK_EQ(fs_add_range(&r, FS_PORT, 137, 139), 0);
	fs_add_eq(&r, FS_PORT, 8080);
	check_bytes(&r, ex2, sizeof(ex2),
		    "destination 192.0.2.0/24 source 203.0.113.0/24 port >=137&<=139 ==8080");

	/* example 3: all packets to 192.0.2.1/32 and fragment {DF or FF} (one bitmask item
	 * without the match bit: any of DF, FF set) */
	static const uint8_t ex3[] = {0x09, 0x01, 0x20, 0xc0, 0x00, 0x02, 0x01, 0x0c, 0x80, 0x05};
	fs_rule_init(&r, 4);
	a = v4(192, 0, 2, 1);
	fs_set_dst(&r, &a, 32, 0);
	fs_add(&r, FS_FRAGMENT, 0, FS_FRAG_DF | FS_FRAG_FF);
	check_bytes(&r, ex3, sizeof(ex3), "destination 192.0.2.1/32 fragment DF+FF");
}

static void rfc8956_examples(void)
{
	struct fs_rule r;
	struct maddr a;

	/* 3.8 example 1: to 2001:db8::/32, from ::1234:5678:9a00:0/64-104 (offset 64), TCP.
	 * (The RFC's table header has a typo, "0d bb"; the byte breakdown has 0d b8.) */
	static const uint8_t ex1[] = {0x12, 0x01, 0x20, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x02, 0x68,
				      0x40, 0x12, 0x34, 0x56, 0x78, 0x9a, 0x03, 0x81, 0x06};
	fs_rule_init(&r, 6);
	a = v6("2001:db8::");
	fs_set_dst(&r, &a, 32, 0);
	a = v6("::1234:5678:9a00:0");
	fs_set_src(&r, &a, 104, 64);
	fs_add_eq(&r, FS_PROTO, 6);
	check_bytes(
	    &r, ex1, sizeof(ex1),
	    "destination 2001:db8::/32 source ::1234:5678:9a00:0/104 offset 64 protocol ==tcp");

	/* example 2: the same source address matched from bit 65: the pattern is bits 65..103,
	 * one bit shorter, shifted left by one, with one bit of padding at the end */
	static const uint8_t ex2[] = {0x0f, 0x01, 0x20, 0x00, 0x20, 0x01, 0x0d, 0xb8,
				      0x02, 0x68, 0x41, 0x24, 0x68, 0xac, 0xf1, 0x34};
	fs_rule_init(&r, 6);
	a = v6("2001:db8::");
	fs_set_dst(&r, &a, 32, 0);
	a = v6("::1234:5678:9a00:0");
	fs_set_src(&r, &a, 104, 65);
	check_bytes(&r, ex2, sizeof(ex2), NULL);
}

/* What BIRD 2 sent for "flow4 { dst 198.51.100.5/32; proto = 17; sport = 53; length >= 1000; }"
 * and "flow6 { dst 2001:db8::5/128; next header = 17; dport = 123; }" (captured over loopback,
 * the whole UPDATEs are in tests/fuzz/corpus/bgp/). */
static void bird_nlri(void)
{
	struct fs_rule r;
	struct maddr a;

	static const uint8_t f4[] = {0x10, 0x01, 0x20, 0xc6, 0x33, 0x64, 0x05, 0x03, 0x81,
				     0x11, 0x06, 0x81, 0x35, 0x0a, 0x93, 0x03, 0xe8};
	fs_rule_init(&r, 4);
	a = v4(198, 51, 100, 5);
	fs_set_dst(&r, &a, 32, 0);
	fs_add_eq(&r, FS_PROTO, 17);
	fs_add_eq(&r, FS_SPORT, 53);
	fs_add(&r, FS_PKT_LEN, FS_GT | FS_EQ, 1000);
	check_bytes(&r, f4, sizeof(f4),
		    "destination 198.51.100.5/32 protocol ==udp source-port ==53 packet-length "
		    ">=1000");

	static const uint8_t f6[] = {0x19, 0x01, 0x80, 0x00, 0x20, 0x01, 0x0d, 0xb8, 0x00,
				     0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
				     0x00, 0x05, 0x03, 0x81, 0x11, 0x05, 0x81, 0x7b};
	fs_rule_init(&r, 6);
	a = v6("2001:db8::5");
	fs_set_dst(&r, &a, 128, 0);
	fs_add_eq(&r, FS_PROTO, 17);
	fs_add_eq(&r, FS_DPORT, 123);
	check_bytes(&r, f6, sizeof(f6),
		    "destination 2001:db8::5/128 protocol ==udp destination-port ==123");
}

static void roundtrip(const struct fs_rule *r)
{
	uint8_t buf[FS_NLRI_BUFLEN];
	struct fs_rule d;
	int n = fs_nlri_encode(r, buf, sizeof(buf));

	CHECK(n > 0);
	if (n <= 0)
		return;
	CHECK_EQ(fs_nlri_decode(buf, (size_t)n, r->family, &d), n);
	CHECK(fs_rule_eq(r, &d));
	/* every shorter buffer is refused, never overrun */
	CHECK_EQ(fs_nlri_encode(r, buf, (size_t)n - 1), -1);
	/* every truncation fails to decode */
	for (int k = 0; k < n; k++)
		CHECK_EQ(fs_nlri_decode(buf, (size_t)k, r->family, &d), -1);
}

static void every_component(void)
{
	struct fs_rule r;
	struct maddr a;
	char s[1024];

	for (int fam = 4; fam <= 6; fam += 2) {
		fs_rule_init(&r, fam);
		a = fam == 4 ? v4(198, 51, 100, 0) : v6("2001:db8:1::");
		fs_set_dst(&r, &a, fam == 4 ? 24 : 48, 0);
		a = fam == 4 ? v4(10, 0, 0, 0) : v6("2001:db8:2::");
		fs_set_src(&r, &a, fam == 4 ? 8 : 48, fam == 4 ? 0 : 16);
		fs_add_eq(&r, FS_PROTO, 6);
		fs_add_eq(&r, FS_PROTO, 17);
		fs_add_range(&r, FS_PORT, 1024, 65535);
		fs_add_eq(&r, FS_DPORT, 443);
		fs_add(&r, FS_DPORT, FS_LT | FS_GT, 80); /* != 80 */
		fs_add(&r, FS_SPORT, FS_GT, 100000);	 /* 4-byte value */
		fs_add_eq(&r, FS_ICMP_TYPE, 8);
		fs_add_eq(&r, FS_ICMP_CODE, 0);
		fs_add(&r, FS_TCP_FLAGS, FS_MATCH, 0x02);	     /* =S */
		fs_add(&r, FS_TCP_FLAGS, FS_AND | FS_NOT, 0x10);     /* &!A */
		fs_add(&r, FS_TCP_FLAGS, FS_NOT | FS_MATCH, 0x0100); /* 2-byte bitmask */
		fs_add_range(&r, FS_PKT_LEN, 1000, 1500);
		fs_add_eq(&r, FS_DSCP, 46);
		fs_add(&r, FS_FRAGMENT, FS_MATCH,
		       fam == 4 ? FS_FRAG_DF | FS_FRAG_ISF : FS_FRAG_ISF | FS_FRAG_LF);
		if (fam == 6)
			fs_add_eq(&r, FS_FLOW_LABEL, 0xabcde);
		fs_add(&r, FS_PKT_LEN, FS_GT | FS_LT | FS_EQ,
		       0x1122334455ull); /* 8 bytes, "true" */
		roundtrip(&r);
		fs_format(&r, s, sizeof(s));
		if (fam == 4)
			CHECK_STR(s, "destination 198.51.100.0/24 source 10.0.0.0/8 protocol ==tcp "
				     "==udp port >=1024&<=65535 destination-port ==443 !=80 "
				     "source-port >100000 icmp-type ==8 icmp-code ==0 tcp-flags "
				     "=S&!A !=0x100 packet-length >=1000&<=1500 true dscp ==46 "
				     "fragment =DF+IsF");
		else if (!(strstr(s, "source 0:db8:2::/48 offset 16") &&
			   strstr(s, "flow-label ==703710") && strstr(s, "fragment =IsF+LF")))
			fprintf(stderr, "v6 text: %s\n", s);
		if (fam == 6)
			CHECK(strstr(s, "source 0:db8:2::/48 offset 16") &&
			      strstr(s, "flow-label ==703710") && strstr(s, "fragment =IsF+LF"));
		/* truncated text still terminated, length is the full one */
		char small[10];
		int full = fs_format(&r, small, sizeof(small));
		CHECK_EQ(full, (long long)strlen(s));
		CHECK_EQ(strlen(small), 9);
	}
	/* just one component of each kind, alone */
	for (int t = FS_PROTO; t < FS_NTYPES; t++) {
		for (int fam = 4; fam <= 6; fam += 2) {
			if (t == FS_FLOW_LABEL && fam == 4)
				continue;
			fs_rule_init(&r, fam);
			fs_add(&r, (enum fs_type)t,
			       t == FS_TCP_FLAGS || t == FS_FRAGMENT ? 0 : FS_EQ,
			       t == FS_FRAGMENT ? FS_FRAG_FF : 3);
			roundtrip(&r);
		}
	}
	/* prefixes alone, odd lengths; the bits past the length are not sent */
	fs_rule_init(&r, 4);
	a = v4(192, 0, 2, 255);
	fs_set_dst(&r, &a, 25, 0);
	roundtrip(&r);
	uint8_t buf[64];
	CHECK_EQ(fs_nlri_encode(&r, buf, sizeof(buf)), 7);
	CHECK_EQ(buf[6], 0x80);
	fs_rule_init(&r, 6);
	a = v6("::");
	fs_set_src(&r, &a, 0, 0);
	roundtrip(&r);
}

static void long_nlri(void)
{
	struct fs_rule r;
	uint8_t buf[FS_NLRI_BUFLEN];
	struct fs_rule d;
	int n, t, i;

	fs_rule_init(&r, 4);
	for (t = FS_PORT; t <= FS_SPORT; t++)
		for (i = 0; i < FS_MAX_ITEMS; i++)
			fs_add(&r, (enum fs_type)t, FS_EQ, 70000u + (unsigned)i); /* 5 bytes each */
	n = fs_nlri_encode(&r, buf, sizeof(buf));
	/* 3 lists of 1 type byte + 16 * 5 = 243 bytes: two length bytes 0xf0 0xf3 */
	CHECK_EQ(n, 2 + 243);
	CHECK_EQ(buf[0], 0xf0);
	CHECK_EQ(buf[1], 0xf3);
	CHECK_EQ(fs_nlri_decode(buf, (size_t)n, 4, &d), n);
	CHECK(fs_rule_eq(&r, &d));
	roundtrip(&r);

	/* 239 bytes still take one length byte */
	fs_rule_init(&r, 4);
	for (t = FS_PORT; t <= FS_SPORT; t++)
		for (i = 0; i < FS_MAX_ITEMS; i++)
			fs_add(&r, (enum fs_type)t, FS_EQ, 70000u + (unsigned)i);
	r.l[FS_SPORT].n = 15;	    /* 243 - 5 = 238 */
	fs_add_eq(&r, FS_PROTO, 6); /* + 3 = 241 */
	r.l[FS_PORT].n = 15;	    /* - 5 = 236 */
	fs_add_eq(&r, FS_DSCP, 1);  /* + 3 = 239 */
	n = fs_nlri_encode(&r, buf, sizeof(buf));
	CHECK_EQ(n, 1 + 239);
	CHECK_EQ(buf[0], 239);
	roundtrip(&r);
	fs_add_eq(&r, FS_ICMP_TYPE, 1); /* 242: two bytes */
	n = fs_nlri_encode(&r, buf, sizeof(buf));
	CHECK_EQ(n, 2 + 242);
	CHECK_EQ(buf[0], 0xf0);
	CHECK_EQ(buf[1], 242);
}

static void malformed(void)
{
	struct fs_rule r;
	uint8_t buf[64];

	static const uint8_t out_of_order[] = {0x06, 0x03, 0x81, 0x06, 0x01, 0x08, 0x0a};
	static const uint8_t repeated[] = {0x06, 0x03, 0x81, 0x06, 0x03, 0x81, 0x11};
	static const uint8_t unknown[] = {0x03, 0x0e, 0x81, 0x06};
	static const uint8_t no_end[] = {0x03, 0x03, 0x01, 0x06};
	static const uint8_t and_first[] = {0x03, 0x03, 0xc1, 0x06};
	static const uint8_t value_past[] = {0x03, 0x03, 0x91, 0x06};
	static const uint8_t pfx_long[] = {0x06, 0x01, 0x21, 0, 0, 0, 0};
	static const uint8_t pfx_short[] = {0x04, 0x01, 0x20, 0xc0, 0x00};
	static const uint8_t len_past[] = {0x0b, 0x01, 0x18, 0xc0};
	static const uint8_t zero_len[] = {0x00};
	static const uint8_t bad_long[] = {0xe0, 0x10};
	static const uint8_t v4_label[] = {0x03, 0x0d, 0x81, 0x06};
	static const uint8_t v6_offset[] = {0x04, 0x01, 0x10, 0x11, 0x00};
	static const uint8_t v6_df[] = {0x03, 0x0c, 0x81, 0x01};

	CHECK_EQ(fs_nlri_decode(out_of_order, sizeof(out_of_order), 4, &r), -1);
	CHECK_EQ(fs_nlri_decode(repeated, sizeof(repeated), 4, &r), -1);
	CHECK_EQ(fs_nlri_decode(unknown, sizeof(unknown), 6, &r), -1);
	CHECK_EQ(fs_nlri_decode(no_end, sizeof(no_end), 4, &r), -1);
	CHECK_EQ(fs_nlri_decode(and_first, sizeof(and_first), 4, &r), -1);
	CHECK_EQ(fs_nlri_decode(value_past, sizeof(value_past), 4, &r), -1);
	CHECK_EQ(fs_nlri_decode(pfx_long, sizeof(pfx_long), 4, &r), -1);
	CHECK_EQ(fs_nlri_decode(pfx_short, sizeof(pfx_short), 4, &r), -1);
	CHECK_EQ(fs_nlri_decode(len_past, sizeof(len_past), 4, &r), -1);
	CHECK_EQ(fs_nlri_decode(zero_len, sizeof(zero_len), 4, &r), -1);
	CHECK_EQ(fs_nlri_decode(bad_long, sizeof(bad_long), 4, &r), -1);
	CHECK_EQ(fs_nlri_decode(v4_label, sizeof(v4_label), 4, &r), -1);
	CHECK_EQ(fs_nlri_decode(v4_label, sizeof(v4_label), 6, &r), 4);
	CHECK_EQ(fs_nlri_decode(v6_offset, sizeof(v6_offset), 6, &r), -1);
	CHECK_EQ(fs_nlri_decode(v6_df, sizeof(v6_df), 6, &r), -1);
	CHECK_EQ(fs_nlri_decode(v6_df, sizeof(v6_df), 4, &r), 4);
	CHECK_EQ(fs_nlri_decode(buf, 0, 4, &r), -1);
	CHECK_EQ(fs_nlri_decode(v6_df, sizeof(v6_df), 5, &r), -1);

	/* the encoder refuses what it cannot send */
	fs_rule_init(&r, 4);
	CHECK_EQ(fs_nlri_encode(&r, buf, sizeof(buf)), -1); /* no component */
	fs_add(&r, FS_PROTO, FS_AND | FS_EQ, 6);
	CHECK_EQ(fs_nlri_encode(&r, buf, sizeof(buf)), -1); /* AND on a first item */
	fs_rule_init(&r, 4);
	fs_add(&r, FS_PROTO, 0x08, 6);
	CHECK_EQ(fs_nlri_encode(&r, buf, sizeof(buf)), -1); /* reserved op bit */
	fs_rule_init(&r, 4);
	fs_add_eq(&r, FS_FLOW_LABEL, 1);
	CHECK_EQ(fs_nlri_encode(&r, buf, sizeof(buf)), -1);
	fs_rule_init(&r, 6);
	fs_add(&r, FS_FRAGMENT, 0, FS_FRAG_DF);
	CHECK_EQ(fs_nlri_encode(&r, buf, sizeof(buf)), -1);
	fs_rule_init(&r, 4);
	struct maddr a = v4(1, 2, 3, 4);
	fs_set_dst(&r, &a, 33, 0);
	CHECK_EQ(fs_nlri_encode(&r, buf, sizeof(buf)), -1);
	fs_rule_init(&r, 6);
	fs_set_dst(&r, &a, 64, 65);
	CHECK_EQ(fs_nlri_encode(&r, buf, sizeof(buf)), -1);
	fs_rule_init(&r, 4);
	for (int i = 0; i < FS_MAX_ITEMS; i++)
		CHECK_EQ(fs_add_eq(&r, FS_PORT, (uint64_t)i), 0);
	CHECK_EQ(fs_add_eq(&r, FS_PORT, 99), -1);
	CHECK_EQ(fs_add(&r, FS_DST, FS_EQ, 1), -1);
	/* an over-long list on the wire */
	uint8_t lst[2 + 2 * (FS_MAX_ITEMS + 1)];
	lst[0] = (uint8_t)(sizeof(lst) - 1);
	lst[1] = FS_PORT;
	for (int i = 0; i <= FS_MAX_ITEMS; i++) {
		lst[2 + 2 * i] = (uint8_t)(FS_EQ | (i == FS_MAX_ITEMS ? 0x80 : 0));
		lst[3 + 2 * i] = (uint8_t)i;
	}
	CHECK_EQ(fs_nlri_decode(lst, sizeof(lst), 4, &r), -1);
	CHECK_STR(fs_type_name(0), "?");
	CHECK_STR(fs_type_name(FS_DSCP), "dscp");
}

int main(void)
{
	rfc8955_examples();
	rfc8956_examples();
	bird_nlri();
	every_component();
	long_nlri();
	malformed();
	return t_done("test_flowspec");
}
