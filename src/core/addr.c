/* addr: parsing and printing of addresses and prefixes in moat's 16-byte mapped form. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/obs.h"

char *maddr_str(const struct maddr *a, char *buf)
{
	if (maddr_is_v4(a))
		inet_ntop(AF_INET, a->b + 12, buf, MADDR_STRLEN);
	else
		inet_ntop(AF_INET6, a->b, buf, MADDR_STRLEN);
	return buf;
}

int maddr_parse(const char *s, struct maddr *a)
{
	uint8_t v4[4];

	if (strchr(s, ':') == NULL) {
		if (inet_pton(AF_INET, s, v4) != 1)
			return -1;
		maddr_from_v4(a, v4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->b) != 1)
		return -1;
	return 0;
}

void maddr_mask(struct maddr *a, int plen)
{
	for (int i = 0; i < 16; i++) {
		int bits = plen - i * 8;
		if (bits >= 8)
			continue;
		a->b[i] &= bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));
	}
}

int prefix_parse(const char *s, struct maddr *a, int *plen)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	long len;

	if (alen == 0 || alen >= sizeof(buf))
		return -1;
	memcpy(buf, s, alen);
	buf[alen] = 0;
	if (maddr_parse(buf, a) < 0)
		return -1;
	bool v4 = strchr(buf, ':') == NULL;
	int max = v4 ? 32 : 128;
	if (slash) {
		char *end;
		if (slash[1] < '0' || slash[1] > '9')
			return -1;
		errno = 0;
		len = strtol(slash + 1, &end, 10);
		if (errno || *end || len < 0 || len > max)
			return -1;
	} else {
		len = max;
	}
	*plen = (int)len + (v4 ? 96 : 0);
	struct maddr m = *a;
	maddr_mask(&m, *plen);
	if (!maddr_eq(&m, a))
		return -2;
	return 0;
}

char *prefix_str(const struct maddr *a, int plen, char *buf, size_t n)
{
	char tmp[MADDR_STRLEN];

	maddr_str(a, tmp);
	snprintf(buf, n, "%s/%d", tmp, maddr_is_v4(a) ? plen - 96 : plen);
	return buf;
}

const char *ipproto_name(unsigned p)
{
	switch (p) {
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 47:
		return "gre";
	case 50:
		return "esp";
	case 58:
		return "icmpv6";
	case 132:
		return "sctp";
	}
	return NULL;
}
