/* capture: sources of packets. Each turns what it reads into obs and hands them to a shard. */
#ifndef MOAT_CAPTURE_H
#define MOAT_CAPTURE_H

#include <signal.h>
#include <stdint.h>

#include "core/conf.h"
#include "detect/account.h"
#include "detect/detect.h"

struct replay_stats {
	uint64_t packets;
	uint64_t first_ns, last_ns, end_ns;
};

/* Replays a pcap or pcapng file through one inline shard, using the packets' timestamps as the
 * clock: ticks run as packet time crosses each 100 ms boundary, and at the end of the file the
 * clock runs on until every attack has ended. Stops early when *stop becomes nonzero.
 * Returns 0, or -1 with err set (unreadable file, unsupported link type). */
int replay_pcap(const char *path, struct shard *sh, struct detector *d, volatile sig_atomic_t *stop,
		struct replay_stats *rs, char *err, size_t errlen);

/* Live AF_PACKET capture: one thread per worker, each with its own TPACKET_V3 ring, joined in a
 * PACKET_FANOUT group so the kernel spreads packets across them. */
struct afp;

/* Opens the sockets and rings (needs CAP_NET_RAW). Returns NULL with err set. */
struct afp *afp_open(const struct capture *c, struct shard **shards, int n_workers, char *err,
		     size_t errlen);
/* Starts the worker threads. Returns 0 or -1 with err set. */
int afp_start(struct afp *a, char *err, size_t errlen);
/* Stops the threads and closes everything. */
void afp_close(struct afp *a);
/* Sums the kernel's drop counters into the shards' capture_drops. */
void afp_poll_stats(struct afp *a);
int afp_workers(const struct afp *a);

/* Live capture through libpcap: one thread, one shard. Same contract as afp_*. */
struct pcl;
struct pcl *pcl_open(const struct capture *c, struct shard *sh, char *err, size_t errlen);
int pcl_start(struct pcl *l, char *err, size_t errlen);
void pcl_poll_stats(struct pcl *l);
void pcl_close(struct pcl *l);

#endif
