/* gen: a deterministic traffic generator (background mix plus attacks) for tests, benchmarks and
 * the demo.
 *
 * A generator is a set of streams: stream 0 is the background (if any), streams 1..n are the
 * attacks in the order given. Each stream produces packets at evenly spaced timestamps; gen_next
 * merges them in timestamp order (ties go to the lower stream). The same config and seed give the
 * same bytes, always: every stream has its own PRNG seeded from (seed, stream), so adding an
 * attack does not change the background.
 *
 * Addresses come from documentation space only: the protected side is 198.51.100.0/24 and
 * 2001:db8:5::/48 (attack targets must lie there); sources are drawn from 192.0.2.0/24,
 * 203.0.113.0/24 and 2001:db8:100::/40; spoofed (random per packet) sources from 203.0.113.0/24
 * and 2001:db8:1000::/36.
 */
#ifndef MOAT_GEN_H
#define MOAT_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/obs.h"

enum {
	GEN_MAX_ATTACKS = 64,
	GEN_MTU = 1500,	      /* L3 bytes; larger datagrams are sent as IP fragments */
	GEN_FRAME_MAX = 1536, /* largest frame gen_next returns (MTU + Ethernet + VLAN) */
	GEN_MAX_LEN = 65000,  /* largest datagram (len=) */
	GEN_MAX_PPS = 100000000,
	GEN_V4_SOURCES = 508, /* distinct v4 sources: 192.0.2.1-254 and 203.0.113.1-254 */
	GEN_MAX_HOSTS = 254,
};

#define GEN_DEFAULT_START_S 1700000000ULL /* 2023-11-14T22:13:20Z */
#define GEN_FOREVER	    UINT64_MAX
#define GEN_SOURCES_DEFAULT UINT32_MAX /* 1000 for IPv6 targets, all 508 for IPv4 */

enum gen_type {
	GEN_SYN,
	GEN_ACK,
	GEN_RST,
	GEN_UDP,
	GEN_ICMP,
	GEN_FRAG,
	GEN_DNS,
	GEN_NTP,
	GEN_SSDP,
	GEN_MEMCACHED,
	GEN_CLDAP,
	GEN_CHARGEN,
	GEN_SNMP,
	GEN_IPFLOOD,
	GEN_CARPET,
	GEN__TYPES
};

struct gen_background {
	uint64_t pps;
	int hosts; /* protected hosts 198.51.100.1..N (and 2001:db8:5::1..N) */
	double v6; /* share of conversations that are IPv6, 0..1 */
};

struct gen_attack {
	enum gen_type type;
	struct maddr target; /* for carpet: the prefix */
	int plen;	     /* mapped prefix length (128 for a single target) */
	uint64_t pps;
	uint64_t start_ns; /* offset from the capture start */
	uint64_t dur_ns;   /* GEN_FOREVER: until the capture ends */
	uint64_t ramp_ns;  /* rate rises linearly from 0 to pps over this time */
	uint32_t sources;  /* distinct sources; 0 = random spoofed source per packet */
	uint32_t len;	   /* L3 length of a datagram (before fragmentation); 0 = type default */
	int dport;	   /* -1: the type's default (random for most) */
	int proto;	   /* ipflood only: 47 (GRE) or 0 */
};

struct gen_config {
	uint64_t seed;
	uint64_t start_ns;    /* timestamp of the capture start (epoch ns) */
	uint64_t duration_ns; /* GEN_FOREVER: until count */
	uint64_t count;	      /* stop after this many packets; 0 = no limit */
	int vlan;	      /* 802.1Q VLAN ID, -1 = untagged */
	bool background_on;
	struct gen_background bg;
	int n_attacks;
	struct gen_attack attacks[GEN_MAX_ATTACKS];
};

/* One generated packet. data stays valid until the next gen_next or gen_free. */
struct gen_pkt {
	uint64_t ts_ns;
	const uint8_t *data; /* Ethernet frame */
	uint32_t len;	     /* frame length (padded to 60 like a real wire) */
	uint32_t l3_len;     /* IP length of this packet */
	int stream;	     /* 0 = background, 1..n = attack n */
};

struct gen_stream_stats {
	uint64_t packets;
	uint64_t bytes; /* L3 */
	uint64_t first_ns, last_ns;
};

struct gen;

/* Fills c with the defaults: seed 1, start GEN_DEFAULT_START_S, 10 s, no streams, no VLAN. */
void gen_config_init(struct gen_config *c);

/* Fills a with the defaults (start 0, whole capture, no ramp, default sources, length and
 * ports, GRE for ipflood); the caller sets type, target, plen and pps. */
void gen_attack_init(struct gen_attack *a);

/* Parses "PPS[:hosts=N][:v6=FRACTION]". Returns 0, or -1 with a message in err. */
int gen_parse_background(const char *s, struct gen_background *b, char *err, size_t errlen);

/* Parses "TYPE:TARGET:PPS[:start=S][:dur=S][:sources=N][:len=BYTES][:ramp=S][:dport=N]
 * [:proto=N]". TARGET may be bracketed ([2001:db8:5::1]); for carpet it is a prefix.
 * Returns 0, or -1 with a message in err. */
int gen_parse_attack(const char *s, struct gen_attack *a, char *err, size_t errlen);

/* Parses a rate or count: "50000", "50k", "1.5M", "2G". Returns 0, or -1 if not a positive
 * integer. */
int gen_parse_count(const char *s, uint64_t *v);

/* Parses seconds: "10", "2.5", "250ms", "3s". Returns 0, or -1. */
int gen_parse_seconds(const char *s, uint64_t *ns);

/* Builds a generator. Returns NULL with a message in err if the config is invalid (nothing to
 * generate, an unbounded run, a target outside the protected documentation ranges) or on ENOMEM. */
struct gen *gen_new(const struct gen_config *c, char *err, size_t errlen);

/* Produces the next packet in timestamp order. Returns 1 and fills *p, or 0 when every stream has
 * ended or the count is reached. */
int gen_next(struct gen *g, struct gen_pkt *p);

/* Number of streams (background and attacks; the background is stream 0 even when off). */
int gen_nstreams(const struct gen *g);

/* Counters of a stream so far. */
const struct gen_stream_stats *gen_stats(const struct gen *g, int stream);

/* Short name of a stream for summaries: "background", "syn@198.51.100.10". */
const char *gen_stream_name(const struct gen *g, int stream);

/* Writes the ground truth (what was actually generated so far) as JSON.
 * Returns 0, or -1 on a write error. */
int gen_write_truth(const struct gen *g, FILE *f);

const char *gen_type_name(enum gen_type t);

void gen_free(struct gen *g);

#endif
