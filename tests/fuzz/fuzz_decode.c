/* fuzz_decode: decode_packet on arbitrary bytes, with its output checked for consistency.
 *
 * Input layout: byte 0 picks the link type (low 7 bits, modulo the list) and whether the slack is
 * scaled up (bit 7); bytes 1-2 are the slack, how much longer the wire frame was than the
 * capture; the rest is the packet. libFuzzer's buffer ends where the packet does, so ASan sees
 * any read past caplen.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "capture/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int links[] = {LINK_ETHERNET, LINK_RAW, LINK_LINUX_SLL, LINK_IPV4, LINK_IPV6};

/* What every decoded obs must satisfy, whatever the input. */
static void check(enum decode_reason r, const struct obs *o, uint32_t wirelen)
{
	if ((unsigned)r >= DEC__COUNT)
		abort();
	if (r != DEC_OK)
		return;
	if (o->family != 4 && o->family != 6)
		abort();
	if (o->packets != 1 || o->bytes != o->len || o->len > wirelen)
		abort();
	if (o->len < (o->family == 4 ? 20u : 40u))
		abort();
	if (o->frag > OBS_FRAG_LATER)
		abort();
	if (o->frag == OBS_FRAG_LATER && (o->sport || o->dport || o->tcp_flags))
		abort();
	if (o->proto != IPPROTO_TCP_ && o->tcp_flags)
		abort();
	if (o->proto != IPPROTO_TCP_ && o->proto != IPPROTO_UDP_ && o->sport)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct decode_stats st = {{0}};
	struct obs o;
	uint32_t caplen, slack, wirelen;
	enum decode_reason r;
	int link;

	if (size < 3 || size > 65535 + 3)
		return 0;
	link = links[(data[0] & 0x7f) % (sizeof(links) / sizeof(links[0]))];
	slack = (uint32_t)data[1] << 8 | data[2];
	if (data[0] & 0x80)
		slack <<= 16; /* reach jumbograms and lengths near UINT32_MAX */
	caplen = (uint32_t)(size - 3);
	wirelen = caplen + slack < caplen ? UINT32_MAX : caplen + slack;

	r = decode_packet(link, data + 3, caplen, wirelen, 1, &o, &st);
	check(r, &o, wirelen);
	if (st.n[r] != 1)
		abort();
	return 0;
}
