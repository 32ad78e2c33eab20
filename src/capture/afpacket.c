/* afpacket: live capture with TPACKET_V3 rings and PACKET_FANOUT.
 *
 * TPACKET_V3 hands userspace whole blocks of packets, so one poll wakes a worker for thousands of
 * packets. Workers share a fanout group with PACKET_FANOUT_HASH: the kernel hashes each flow to
 * one worker, so per-flow state (the distinct-flow filter) stays on one shard. A host's flows
 * spread over workers; the detector adds the shards up every tick.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capture/capture.h"
#include "capture/decode.h"
#include "core/log.h"

enum {
	BLOCK_SIZE = 1 << 20,
	FRAME_SIZE = 2048,
	BLOCK_TIMEOUT_MS =
	    10, /* a block is handed over at least this often when traffic is light */
	MAX_WORKERS = 16,
};

struct afp_worker {
	struct afp *afp;
	struct shard *sh;
	int fd;
	uint8_t *ring;
	size_t ring_len;
	unsigned n_blocks;
	pthread_t thread;
	bool started;
};

struct afp {
	char ifname[IFNAMSIZ];
	int n;
	_Atomic bool stop;
	struct afp_worker w[MAX_WORKERS];
};

int afp_workers(const struct afp *a)
{
	return a->n;
}

static int open_one(struct afp *a, struct afp_worker *w, int ifindex, unsigned ring_mb,
		    int *fanout_id, char *err, size_t errlen)
{
	int v = TPACKET_V3;
	struct tpacket_req3 req;
	struct sockaddr_ll sll;

	w->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (w->fd < 0) {
		snprintf(err, errlen, "AF_PACKET socket: %s (moatd needs CAP_NET_RAW)",
			 strerror(errno));
		return -1;
	}
	if (setsockopt(w->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) < 0) {
		snprintf(err, errlen, "%s: TPACKET_V3: %s", a->ifname, strerror(errno));
		return -1;
	}
	memset(&req, 0, sizeof(req));
	req.tp_block_size = BLOCK_SIZE;
	req.tp_block_nr = ring_mb ? ring_mb : 64;
	req.tp_frame_size = FRAME_SIZE;
	req.tp_frame_nr = req.tp_block_nr * (BLOCK_SIZE / FRAME_SIZE);
	req.tp_retire_blk_tov = BLOCK_TIMEOUT_MS;
	if (setsockopt(w->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0) {
		snprintf(err, errlen, "%s: PACKET_RX_RING of %u MiB: %s", a->ifname,
			 req.tp_block_nr, strerror(errno));
		return -1;
	}
	w->n_blocks = req.tp_block_nr;
	w->ring_len = (size_t)req.tp_block_size * req.tp_block_nr;
	w->ring =
	    mmap(NULL, w->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, w->fd, 0);
	if (w->ring == MAP_FAILED) /* MAP_LOCKED can fail under RLIMIT_MEMLOCK: try without */
		w->ring = mmap(NULL, w->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED, w->fd, 0);
	if (w->ring == MAP_FAILED) {
		w->ring = NULL;
		snprintf(err, errlen, "%s: mmap ring: %s", a->ifname, strerror(errno));
		return -1;
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = ifindex;
	if (bind(w->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		snprintf(err, errlen, "%s: bind: %s", a->ifname, strerror(errno));
		return -1;
	}
	/* a mirror port delivers frames addressed to other hosts: see them all */
	struct packet_mreq mr = {.mr_ifindex = ifindex, .mr_type = PACKET_MR_PROMISC};
	if (setsockopt(w->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0) {
		snprintf(err, errlen, "%s: promiscuous mode: %s", a->ifname, strerror(errno));
		return -1;
	}
	/* no PACKET_FANOUT_FLAG_DEFRAG: it would reassemble IPv4 fragments before we see them,
	 * and a fragment flood must be counted fragment by fragment */
	/* The first worker asks the kernel for an unused group id (PACKET_FANOUT_FLAG_UNIQUEID,
	 * Linux 4.12) and the others join it. An id we picked ourselves could be another capture
	 * program's: joined to its group, the kernel would split the traffic between us, silently.
	 */
	int fanout = PACKET_FANOUT_HASH << 16;
	if (*fanout_id < 0)
		fanout |= PACKET_FANOUT_FLAG_UNIQUEID << 16;
	else
		fanout |= *fanout_id;
	if (setsockopt(w->fd, SOL_PACKET, PACKET_FANOUT, &fanout, sizeof(fanout)) < 0) {
		snprintf(err, errlen, "%s: PACKET_FANOUT: %s%s", a->ifname, strerror(errno),
			 *fanout_id < 0 ? " (the kernel must support PACKET_FANOUT_FLAG_UNIQUEID, "
					  "Linux 4.12 or later)"
					: "");
		return -1;
	}
	if (*fanout_id < 0) {
		int got = 0;
		socklen_t gl = sizeof(got);
		if (getsockopt(w->fd, SOL_PACKET, PACKET_FANOUT, &got, &gl) < 0) {
			snprintf(err, errlen, "%s: reading the fanout group id: %s", a->ifname,
				 strerror(errno));
			return -1;
		}
		*fanout_id = got & 0xffff;
	}
	return 0;
}

struct afp *afp_open(const struct capture *c, struct shard **shards, int n_workers, char *err,
		     size_t errlen)
{
	struct afp *a = calloc(1, sizeof(*a));
	int ifindex;

	if (!a) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (n_workers > MAX_WORKERS)
		n_workers = MAX_WORKERS;
	if (strlen(c->interface) >= sizeof(a->ifname)) {
		snprintf(err, errlen, "interface name '%.64s' is longer than %d characters",
			 c->interface, IFNAMSIZ - 1);
		free(a);
		return NULL;
	}
	memcpy(a->ifname, c->interface, strlen(c->interface) + 1);
	ifindex = (int)if_nametoindex(c->interface);
	if (!ifindex) {
		snprintf(err, errlen, "interface %s: %s", c->interface, strerror(errno));
		free(a);
		return NULL;
	}
	int fanout_id = -1; /* assigned by the kernel to the first worker */
	for (int i = 0; i < n_workers; i++) {
		a->w[i].afp = a;
		a->w[i].sh = shards[i];
		a->w[i].fd = -1;
		a->n = i + 1;
		if (open_one(a, &a->w[i], ifindex, c->ring_mb, &fanout_id, err, errlen) < 0) {
			afp_close(a);
			return NULL;
		}
	}
	return a;
}

static void walk_block(struct afp_worker *w, struct tpacket_block_desc *bd)
{
	uint32_t n = bd->hdr.bh1.num_pkts;
	struct tpacket3_hdr *h =
	    (struct tpacket3_hdr *)((uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt);
	struct obs o;

	for (uint32_t i = 0; i < n; i++) {
		uint64_t ts = (uint64_t)h->tp_sec * 1000000000ULL + h->tp_nsec;
		if (decode_packet(LINK_ETHERNET, (uint8_t *)h + h->tp_mac, h->tp_snaplen, h->tp_len,
				  ts, &o, &w->sh->st.dec) == DEC_OK)
			shard_account(w->sh, &o);
		h = (struct tpacket3_hdr *)((uint8_t *)h + h->tp_next_offset);
	}
}

static void *worker_main(void *arg)
{
	struct afp_worker *w = arg;
	unsigned b = 0;
	struct pollfd pfd = {.fd = w->fd, .events = POLLIN | POLLERR};

	while (!atomic_load_explicit(&w->afp->stop, memory_order_relaxed)) {
		struct tpacket_block_desc *bd =
		    (struct tpacket_block_desc *)(w->ring + (size_t)b * BLOCK_SIZE);
		shard_sync(w->sh);
		if (!(atomic_load_explicit((_Atomic uint32_t *)&bd->hdr.bh1.block_status,
					   memory_order_acquire) &
		      TP_STATUS_USER)) {
			/* short timeout: the detector waits for our ack of each tick */
			poll(&pfd, 1, 5);
			continue;
		}
		walk_block(w, bd);
		atomic_store_explicit((_Atomic uint32_t *)&bd->hdr.bh1.block_status,
				      TP_STATUS_KERNEL, memory_order_release);
		b = (b + 1) % w->n_blocks;
	}
	return NULL;
}

int afp_start(struct afp *a, char *err, size_t errlen)
{
	for (int i = 0; i < a->n; i++) {
		int r = pthread_create(&a->w[i].thread, NULL, worker_main, &a->w[i]);
		if (r) {
			snprintf(err, errlen, "pthread_create: %s", strerror(r));
			return -1;
		}
		a->w[i].started = true;
		char name[32];
		snprintf(name, sizeof(name), "moat-cap%d", i);
		name[15] = 0; /* the kernel's limit */
		pthread_setname_np(a->w[i].thread, name);
	}
	return 0;
}

void afp_poll_stats(struct afp *a)
{
	for (int i = 0; i < a->n; i++) {
		struct tpacket_stats_v3 st;
		socklen_t len = sizeof(st);
		/* reading the statistics resets them, so we add */
		if (getsockopt(a->w[i].fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
			a->w[i].sh->st.capture_drops += st.tp_drops;
	}
}

void afp_close(struct afp *a)
{
	if (!a)
		return;
	atomic_store(&a->stop, true);
	for (int i = 0; i < a->n; i++) {
		if (a->w[i].started)
			pthread_join(a->w[i].thread, NULL);
		if (a->w[i].ring)
			munmap(a->w[i].ring, a->w[i].ring_len);
		if (a->w[i].fd >= 0)
			close(a->w[i].fd);
	}
	free(a);
}
