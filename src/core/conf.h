/* conf: moat.yaml, parsed with libyaml into struct conf.
 *
 * Parsing is all-or-nothing: conf_load() either returns a complete, validated config or an error
 * naming file:line:column and what is wrong. Unknown keys are errors. The daemon keeps running on
 * its old config when a reload fails.
 */
#ifndef MOAT_CONF_H
#define MOAT_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/obs.h"

/* Threshold metrics, per host and per direction. The order is the order of the YAML keys in
 * conf_thr_name(). A value of 0 means "not checked". */
enum thr {
	THR_PPS = 0,
	THR_MBPS,
	THR_FLOWS,
	THR_TCP_PPS,
	THR_UDP_PPS,
	THR_ICMP_PPS,
	THR_SYN_PPS,
	THR_FRAG_PPS,
	THR_TCP_MBPS,
	THR_UDP_MBPS,
	THR_ICMP_MBPS,
	THR__COUNT
};

enum dir {
	DIR_IN = 0,  /* traffic to the protected host */
	DIR_OUT = 1, /* traffic from the protected host */
	DIR__COUNT
};

/* One set of thresholds for both directions. v[d][t] == 0: not checked. */
struct thresholds {
	uint64_t v[DIR__COUNT][THR__COUNT];
};

struct prefix {
	struct maddr addr; /* IPv4-mapped for IPv4 */
	int plen;	   /* in the mapped space: IPv4 /24 is 120 */
};

#define CONF_NAME_MAX 64

/* What an attack gets upstream over BGP (the `mitigation` list). */
enum mit_action {
	MIT_ACT_AUTO = 0,  /* flowspec to peers that negotiated it, a blackhole to the others */
	MIT_ACT_BLACKHOLE, /* the attacked /32 or /128 with the blackhole communities */
	MIT_ACT_FLOWSPEC,  /* the attack's vector as a Flowspec rule, traffic-rate flowspec_rate */
	MIT_ACT_DIVERSION, /* the covering prefix to the scrubbing center's next hop */
	MIT_ACT_NONE,
};

/* One `mitigation` entry: the first whose conditions all hold decides. */
struct mit_policy {
	uint64_t bps_over, pps_over; /* 0: not checked */
	enum mit_action action;
};

#define CONF_MAX_POLICIES 32

struct hostgroup {
	char name[CONF_NAME_MAX];
	struct prefix *prefixes;
	size_t n_prefixes;
	struct thresholds thr;	       /* per host; keys not given inherit the global thresholds */
	struct thresholds total_thr;   /* the whole group at once; 0 = not checked */
	struct mit_policy *mitigation; /* NULL: the global list */
	size_t n_mitigation;
};

enum capture_kind {
	CAPTURE_AF_PACKET = 1,
	CAPTURE_PCAP = 2,    /* af_packet-less live capture through libpcap (any interface) */
	CAPTURE_SFLOW = 3,   /* sFlow v5 collector on a UDP socket */
	CAPTURE_NETFLOW = 4, /* NetFlow v5/v9 and IPFIX collector on a UDP socket */
};

struct capture {
	enum capture_kind kind;
	char interface[64];
	unsigned workers; /* af_packet: fanout threads, 0..16 (0 = one per CPU, at most 8) */
	unsigned ring_mb; /* af_packet: ring size per worker in MiB (default 64); pcap: 0 */
	/* sflow, netflow: where to listen. "0.0.0.0:6343", "[::]:2055" (IPv6 any also takes IPv4)
	 */
	char listen[64];	  /* canonical form */
	struct maddr listen_addr; /* IPv4-mapped for IPv4 */
	uint16_t listen_port;
	uint8_t listen_family; /* 4 or 6 */
};

/* An exporter allowed to send flows, with the sampling rate to assume for it. */
struct exporter_conf {
	struct maddr addr;
	uint32_t sampling; /* 0 = use what the exporter reports */
};

enum notify_format {
	NOTIFY_FASTNETMON = 0, /* FastNetMon arguments, text details on stdin */
	NOTIFY_JSON = 1,       /* same arguments, event JSON on stdin */
};

enum scrub_mode {
	SCRUB_MODE_AUTO = 0,	/* native XDP where the driver has it, generic otherwise */
	SCRUB_MODE_NATIVE = 1,	/* native only: refuse to start without it */
	SCRUB_MODE_GENERIC = 2, /* generic (skb) XDP: works on every interface */
};

#define CONF_MAX_SCRUB_IFACES 16
#define CONF_MAX_BGP_PEERS    64
#define CONF_MAX_COMMS	      16
#define CONF_MAX_LARGE	      8

struct bgp_peer_cfg {
	struct maddr addr;
	uint16_t port;	    /* default 179 */
	uint32_t remote_as; /* == local_as: iBGP */
	unsigned families;  /* bit 0 ipv4, 1 ipv6, 2 flowspec4, 3 flowspec6 (enum bgp_family) */
	char md5[81];	    /* "" = none */
	bool passive;
	unsigned hold_time; /* default 90 */
};

/* Attributes of blackhole and diversion announcements. */
struct bgp_announce_cfg {
	uint32_t comm[CONF_MAX_COMMS];
	size_t n_comm;
	uint32_t large[CONF_MAX_LARGE][3];
	size_t n_large;
	struct maddr next_hop, next_hop6; /* IPv4 mapped; IPv6 */
	bool has_nh4, has_nh6;
	unsigned len4, len6; /* diversion: the prefix length announced (default 24, 48) */
};

struct conf {
	char *path; /* file it came from */

	struct prefix *networks;
	size_t n_networks;
	struct prefix *whitelist;
	size_t n_whitelist;

	struct thresholds thr; /* global per-host defaults */

	struct hostgroup *hostgroups;
	size_t n_hostgroups;

	struct {
		double cooldown; /* seconds below thresholds before attack_end (default 30) */
		double update_interval; /* seconds between attack_update events (default 5) */
		unsigned top_n;		/* items per vector list (default 5) */
	} detection;

	struct {
		char *file; /* NULL: no events file */
	} events;

	struct {
		char *script; /* NULL: no notify */
		enum notify_format format;
		double timeout; /* seconds a script may run before it is killed (default 30) */
	} notify;

	struct {
		unsigned max_hosts; /* tracked hosts, whole daemon (default 262144) */
		unsigned
		    max_hot; /* hosts with a full 1 s window and vector sketches (default 16384) */
		double
		    host_idle; /* seconds without traffic before a host is evicted (default 300) */
	} limits;

	struct {
		char *file; /* NULL: stderr */
		int level;  /* LOG_ERR..LOG_DEBUG, default LOG_INFO */
	} log;

	struct capture *captures;
	size_t n_captures;

	/* when n_exporters > 0, flows from any other address are counted and dropped */
	struct exporter_conf *exporters;
	size_t n_exporters;

	struct {
		bool enabled; /* the section is present */
		char interfaces[CONF_MAX_SCRUB_IFACES][16];
		size_t n_interfaces;
		enum scrub_mode mode;
		bool autom;		   /* auto: attacks become rules (default true) */
		double hold;		   /* seconds a rule outlives its attack (default 300) */
		unsigned sample_every;	   /* keep 1 in N dropped packets as evidence; 0: none */
		unsigned evidence_packets; /* samples kept per attack (default 10000) */
		char *evidence_dir;	   /* default /var/lib/moat/evidence */
		char *pin_dir;		   /* default /sys/fs/bpf/moat */
		unsigned source_pps;	   /* per-source limit of rate-limit rules (default 50) */
		unsigned source_burst;	   /* and its burst (default 100) */
		/* source allow and deny lists: written in the config, and read from a file (one
		 * prefix a line) whose contents are not printed back */
		struct prefix *allow, *deny;
		size_t n_allow, n_deny;
		char *allow_file, *deny_file;
		struct prefix *allow_f, *deny_f;
		size_t n_allow_f, n_deny_f;
	} scrubber;

	struct {
		char *socket; /* NULL: no control socket */
	} control;

	struct {
		bool enabled;
		uint32_t local_as;
		uint32_t router_id; /* host order */
		struct bgp_peer_cfg *peers;
		size_t n_peers;
		char listen[64]; /* "" = no listener */
		struct maddr listen_addr;
		uint16_t listen_port;
		struct bgp_announce_cfg blackhole, diversion;
		double flowspec_rate;	   /* traffic-rate in bytes/s; 0 = discard (default) */
		double hold;		   /* seconds a route outlives its attack (default 300) */
		bool withdraw_on_shutdown; /* default true */
		char *state_file;	   /* default /var/lib/moat/bgp-routes.json */
	} bgp;

	struct mit_policy *mitigation; /* NULL: MIT_ACT_AUTO for every attack */
	size_t n_mitigation;

	/* The HTTP API, metrics and dashboard (docs/api.md). */
	struct {
		bool enabled;	 /* the section is present */
		char listen[64]; /* canonical "127.0.0.1:8080", "[::1]:8080" */
		struct maddr listen_addr;
		uint16_t listen_port;
		uint8_t listen_family;	  /* 4 or 6 */
		bool loopback;		  /* listen_addr is a loopback address */
		char *token;		  /* NULL: none (from token, or token_file's first line) */
		char *token_file;	  /* NULL: the token was written inline, or none */
		char *tls_cert, *tls_key; /* PEM files; both or neither */
	} api;

	/* The attack history (SQLite). */
	struct {
		char *path; /* NULL: no history ("none") */
		bool given; /* the section was written (a replay keeps history only then) */
		unsigned retention_days; /* 0: keep forever (default 90) */
		unsigned max_attacks;	 /* 0: no limit (default 100000) */
	} history;
};

/* Loads and validates path. On success returns 0 and *out owns a new config (free with
 * conf_free). On error returns -1, sets *out to NULL and writes "file:line:column: message" (one
 * line, no newline) into err; errors with no position in the file (unreadable, larger than
 * 16 MiB) are "file: message". The syntax and every key are described in docs/moat.yaml.md. */
int conf_load(const char *path, struct conf **out, char *err, size_t errlen);

/* Same, from a buffer; name is used in error messages in place of a file name. */
int conf_load_buf(const char *name, const char *buf, size_t len, struct conf **out, char *err,
		  size_t errlen);

void conf_free(struct conf *c);

/* Writes the config back in canonical form (every default made explicit) as YAML. */
void conf_print(const struct conf *c, FILE *f);

/* YAML key of a threshold ("syn_pps"). */
const char *conf_thr_name(enum thr t);

/* "incoming" / "outgoing" */
const char *conf_dir_name(enum dir d);

/* A mitigation action's YAML name ("blackhole"); "?" for a value out of range. */
const char *conf_action_name(enum mit_action a);

#endif
