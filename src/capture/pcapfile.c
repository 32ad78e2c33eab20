/* pcapfile: replay of a capture (libpcap reads both pcap and pcapng) with packet time as the one
 * clock, so a replay produces the events the live run would have. */
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>

#include "capture/capture.h"
#include "capture/decode.h"

static int link_supported(int dlt)
{
	return dlt == LINK_ETHERNET || dlt == LINK_RAW || dlt == LINK_LINUX_SLL ||
	       dlt == LINK_IPV4 || dlt == LINK_IPV6 || dlt == 12 /* DLT_RAW on some BSDs */;
}

int replay_pcap(const char *path, struct shard *sh, struct detector *d, volatile sig_atomic_t *stop,
		struct replay_stats *rs, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const u_char *data;
	struct obs o;
	uint64_t next_tick = 0, ts = 0;
	int r = 1;

	memset(rs, 0, sizeof(*rs));
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!p) {
		snprintf(err, errlen, "%s: %s", path, ebuf);
		return -1;
	}
	int dlt = pcap_datalink(p);
	if (!link_supported(dlt)) {
		snprintf(err, errlen, "%s: link type %s (%d) is not supported", path,
			 pcap_datalink_val_to_name(dlt) ? pcap_datalink_val_to_name(dlt) : "?",
			 dlt);
		pcap_close(p);
		return -1;
	}
	if (dlt == 12)
		dlt = LINK_RAW;
	shard_sync(sh);
	while (!*stop && (r = pcap_next_ex(p, &hdr, &data)) == 1) {
		ts = (uint64_t)hdr->ts.tv_sec * 1000000000ULL + (uint64_t)hdr->ts.tv_usec;
		if (!next_tick) {
			next_tick = (ts / TICK_NS + 1) * TICK_NS;
			rs->first_ns = ts;
		}
		/* a capture that goes back in time (merged files) lands in the current tick */
		while (ts >= next_tick) {
			det_tick(d, next_tick);
			next_tick += TICK_NS;
		}
		rs->packets++;
		if (decode_packet(dlt, data, hdr->caplen, hdr->len, ts, &o, &sh->st.dec) == DEC_OK)
			shard_account(sh, &o);
	}
	if (!*stop && r == -1) {
		snprintf(err, errlen, "%s: %s (after %llu packets)", path, pcap_geterr(p),
			 (unsigned long long)rs->packets);
		pcap_close(p);
		return -1;
	}
	pcap_close(p);
	rs->last_ns = ts;
	if (next_tick) {
		det_tick(d, next_tick);
		rs->end_ns = *stop ? next_tick : det_drain(d, next_tick);
	}
	return 0;
}
