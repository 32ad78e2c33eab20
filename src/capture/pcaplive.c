/* pcaplive: live capture through libpcap, for interfaces where an AF_PACKET ring is not wanted
 * or not possible (capture: [{pcap: {interface: X}}]). One thread, one shard. The snapshot length
 * is 256 bytes: every header we decode fits, and the wire length still comes from the kernel. */
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/capture.h"
#include "capture/decode.h"

enum { PCAP_SNAPLEN = 256, PCAP_TIMEOUT_MS = 5 };

struct pcl {
	pcap_t *p;
	struct shard *sh;
	int dlt;
	pthread_t thread;
	bool started;
	_Atomic bool stop;
	uint64_t drops_seen;
};

struct pcl *pcl_open(const struct capture *c, struct shard *sh, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct pcl *l = calloc(1, sizeof(*l));

	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->sh = sh;
	l->p = pcap_create(c->interface, ebuf);
	if (!l->p) {
		snprintf(err, errlen, "pcap %s: %s", c->interface, ebuf);
		free(l);
		return NULL;
	}
	pcap_set_snaplen(l->p, PCAP_SNAPLEN);
	pcap_set_promisc(l->p, 1);
	pcap_set_timeout(l->p, PCAP_TIMEOUT_MS);
	pcap_set_buffer_size(l->p, (int)(c->ring_mb ? c->ring_mb : 64) << 20);
	pcap_set_tstamp_precision(l->p, PCAP_TSTAMP_PRECISION_NANO);
	int r = pcap_activate(l->p);
	if (r < 0) {
		snprintf(err, errlen, "pcap %s: %s", c->interface, pcap_geterr(l->p));
		pcl_close(l);
		return NULL;
	}
	l->dlt = pcap_datalink(l->p);
	if (l->dlt != LINK_ETHERNET && l->dlt != LINK_RAW && l->dlt != LINK_LINUX_SLL) {
		snprintf(err, errlen, "pcap %s: link type %d is not supported", c->interface,
			 l->dlt);
		pcl_close(l);
		return NULL;
	}
	return l;
}

static void on_packet(u_char *arg, const struct pcap_pkthdr *h, const u_char *data)
{
	struct pcl *l = (struct pcl *)arg;
	struct obs o;
	uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000000ULL + (uint64_t)h->ts.tv_usec;

	if (decode_packet(l->dlt, data, h->caplen, h->len, ts, &o, &l->sh->st.dec) == DEC_OK)
		shard_account(l->sh, &o);
}

static void *pcl_main(void *arg)
{
	struct pcl *l = arg;

	while (!atomic_load_explicit(&l->stop, memory_order_relaxed)) {
		shard_sync(l->sh);
		if (pcap_dispatch(l->p, 4096, on_packet, (u_char *)l) < 0)
			break;
	}
	return NULL;
}

int pcl_start(struct pcl *l, char *err, size_t errlen)
{
	int r = pthread_create(&l->thread, NULL, pcl_main, l);

	if (r) {
		snprintf(err, errlen, "pthread_create: %s", strerror(r));
		return -1;
	}
	l->started = true;
	pthread_setname_np(l->thread, "moat-pcap");
	return 0;
}

void pcl_poll_stats(struct pcl *l)
{
	struct pcap_stat ps;

	if (pcap_stats(l->p, &ps) == 0) {
		uint64_t d = (uint64_t)ps.ps_drop + ps.ps_ifdrop;
		if (d > l->drops_seen)
			l->sh->st.capture_drops += d - l->drops_seen;
		l->drops_seen = d;
	}
}

void pcl_close(struct pcl *l)
{
	if (!l)
		return;
	atomic_store(&l->stop, true);
	if (l->started) {
		pcap_breakloop(l->p);
		pthread_join(l->thread, NULL);
	}
	if (l->p)
		pcap_close(l->p);
	free(l);
}
