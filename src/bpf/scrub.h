/* scrub.h: the one header shared by the XDP scrubber (scrub.bpf.c) and its userspace side
 * (src/mitigate/xdp.c): map keys and values, actions, match bits, drop reasons and limits.
 *
 * Addresses are 16 bytes, IPv4 mapped into ::ffff:0:0/96 as everywhere else in moat, so one LPM
 * trie and one target table serve both families: an IPv4 /24 is the mapped /120.
 */
#ifndef MOAT_BPF_SCRUB_H
#define MOAT_BPF_SCRUB_H

#include <linux/types.h>

/* Every limit of the data plane. Each table is bounded; what happens when full is said beside. */
enum scrub_limits {
	SCRUB_MAX_PREFIXES = 1 << 21, /* allow and deny tries each; an insert past it fails */
	SCRUB_MAX_TARGETS = 1 << 16,  /* protected addresses with rules; insert fails when full */
	SCRUB_MAX_RULES = 1 << 14,    /* rule ids 0..MAX-1, also the rule counter index */
	SCRUB_TARGET_RULES = 16,      /* rules per target, tried in order, first match wins */
	SCRUB_MAX_BUCKETS = 1 << 18,  /* rate-limit buckets; LRU: the least recent is evicted */
	SCRUB_SAMPLE_BYTES = 128,     /* bytes of a dropped packet copied to userspace */
	SCRUB_RING_BYTES = 1 << 22,   /* ring buffer; when full, samples are lost and counted */
	SCRUB_EXT_HDRS = 6,	      /* IPv6 extension headers walked before giving up */
	SCRUB_NO_RULE = 0xffffffff,   /* sample.rule when no rule decided */
};

/* What a rule does with a packet it matches. 0 marks an empty rule slot. */
enum scrub_action {
	SCRUB_ACT_NONE = 0,
	SCRUB_ACT_DROP = 1,
	SCRUB_ACT_PASS = 2,
	SCRUB_ACT_RATELIMIT = 3, /* pass while the source's token bucket has tokens, else drop */
};

/* Which fields of struct scrub_rule are compared; a rule with none matches every packet. */
enum scrub_match {
	SCRUB_M_PROTO = 1 << 0,
	SCRUB_M_SPORT = 1 << 1, /* never matches a non-first fragment (no ports) */
	SCRUB_M_DPORT = 1 << 2,
	SCRUB_M_LEN = 1 << 3,	   /* L3 length: IPv4 total length, IPv6 40 + payload length */
	SCRUB_M_TTL = 1 << 4,	   /* IPv4 TTL or IPv6 hop limit */
	SCRUB_M_TCPFLAGS = 1 << 5, /* (flags & mask) == value; never matches non-TCP */
	SCRUB_M_FRAG = 1 << 6,	   /* fragment state is one of the bits in rule.frag */
	SCRUB_M_FAMILY = 1 << 7,   /* rule.family: 4 or 6 */
	SCRUB_M_ICMP = 1 << 8, /* ICMP or ICMPv6 type icmp_type, and code icmp_code unless 0xff */
};

/* Who added a rule (scrub_rule.origin). Kept in the map, so a restarted moatd knows which
 * pinned rules came from its automatic mitigation and which an operator put there. */
enum scrub_origin {
	SCRUB_ORIGIN_MANUAL = 0,
	SCRUB_ORIGIN_AUTO = 1,
};

/* Fragment state of a packet, as bits so a rule can accept several. */
enum scrub_frag {
	SCRUB_FRAG_NONE = 1 << 0,
	SCRUB_FRAG_FIRST = 1 << 1, /* offset 0, more fragments */
	SCRUB_FRAG_LATER = 1 << 2, /* offset > 0: no L4 header */
};

/* TCP flag bits as in the header's 13th byte. */
enum scrub_tcp_flag {
	SCRUB_TCP_FIN = 0x01,
	SCRUB_TCP_SYN = 0x02,
	SCRUB_TCP_RST = 0x04,
	SCRUB_TCP_PSH = 0x08,
	SCRUB_TCP_ACK = 0x10,
	SCRUB_TCP_URG = 0x20,
};

/* Why a packet got its verdict: one counter each (map reason_stats), and in every sample. Each
 * reason but SCRUB_R_SAMPLE_LOST is a pass or a drop by itself: the data plane counts a reason's
 * packets and bytes, and xdp_scrub_reason_counter derives its dropped_* from them. */
enum scrub_reason {
	SCRUB_R_PASS = 0,  /* nothing matched */
	SCRUB_R_NOT_IP,	   /* passed: not IPv4/IPv6 (ARP, LLDP, ...) */
	SCRUB_R_ALLOW,	   /* passed: source in the allow list */
	SCRUB_R_DENY,	   /* dropped: source in the deny list */
	SCRUB_R_RULE_PASS, /* passed by a target rule */
	SCRUB_R_RULE_DROP, /* dropped by a target rule */
	SCRUB_R_RATE_PASS, /* rate-limit rule, bucket had a token */
	SCRUB_R_RATE_DROP, /* rate-limit rule, bucket empty */
	SCRUB_R_AMP,	   /* dropped: UDP from an amplification port to a target under attack */
	SCRUB_R_BAD_HDR,   /* dropped: bad version, header length, total length or L4 header */
	SCRUB_R_BAD_TCP_FLAGS, /* dropped: SYN+FIN, SYN+RST, no flags, FIN without ACK */
	SCRUB_R_TINY_FRAG,   /* dropped: first fragment without the whole L4 header, or TCP offset 1
			      */
	SCRUB_R_SAMPLE_LOST, /* not a verdict: a sample did not fit in the ring buffer */
	SCRUB_R_MAX,
};

/* Values of the exact-address maps (exact4, exact6): which lists hold the address. /32 and /128
 * entries live there, shorter prefixes in the lists' LPM tries. */
enum scrub_exact {
	EXACT_ALLOW = 1 << 0,
	EXACT_DENY = 1 << 1,
};

/* The nonempty word (a global of scrub.bpf.c, pinned as data_nonempty): one __u32 saying which
 * maps have entries, so that an empty map costs no lookup (8-15 ns each), and whether drops are
 * sampled. Userspace sets a bit after inserting and clears it once the map is empty, and
 * recomputes them when it opens pinned maps: a bit set over an empty map costs a lookup, a bit
 * clear over a non-empty map would hide it. */
enum scrub_nonempty {
	NE_EXACT4 = 1 << 0,
	NE_EXACT6 = 1 << 1,
	NE_ALLOW_PREFIX = 1 << 2,
	NE_DENY_PREFIX = 1 << 3,
	NE_TARGETS = 1 << 4,
	/* not a map: config.sample_every is non-zero, so a drop looks config up (xdp_scrub_config
	 * keeps it, ne_sync recomputes it from a pinned config) */
	NE_SAMPLE = 1 << 5,
	/* userspace bookkeeping only: an exact entry may carry this list's bit (set before
	 * inserting, cleared when both exact maps are empty), so inserts into the other list need
	 * not read the old values to keep it */
	NE_ALLOW_EXACT = 1 << 8,
	NE_DENY_EXACT = 1 << 9,
};

/* Target flags (struct scrub_target.flags). */
enum scrub_target_flag {
	SCRUB_T_ATTACK = 1 << 0, /* under attack: drop UDP from amplification ports */
};

struct scrub_addr {
	__u8 a[16];
};

/* Key of the allow and deny LPM tries: prefixlen counts from the first of the 16 bytes, so an
 * IPv4 prefix /p is stored as the mapped /(96 + p). */
struct scrub_lpm_key {
	__u32 prefixlen;
	__u8 addr[16];
};

struct scrub_rule {
	struct scrub_addr target; /* the destination it belongs to (for listing and deletion) */
	__u32 match;		  /* enum scrub_match bits */
	__u8 action;		  /* enum scrub_action */
	__u8 proto;
	__u8 family; /* 4 or 6, with SCRUB_M_FAMILY */
	__u8 frag;   /* enum scrub_frag bits, with SCRUB_M_FRAG */
	__u16 sport_min, sport_max;
	__u16 dport_min, dport_max;
	__u16 len_min, len_max;
	__u8 ttl_min, ttl_max;
	__u8 tcp_mask, tcp_value;
	/* SCRUB_ACT_RATELIMIT: a bucket per (rule, source masked to rl_plen4 or rl_plen6 bits) */
	__u8 rl_plen4;		   /* 32 per address, 24 per /24; 0 means 32 */
	__u8 rl_plen6;		   /* 128 per address, 64 per /64; 0 means 128 */
	__u8 icmp_type, icmp_code; /* with SCRUB_M_ICMP; icmp_code 0xff: any code */
	__u32 rate;		   /* packets per second refilled */
	__u32 burst;		   /* bucket size in packets */
	__u32 origin;		   /* enum scrub_origin: userspace bookkeeping, unused by XDP */
	__u32 pad;
};

struct scrub_target {
	__u32 flags; /* enum scrub_target_flag */
	__u32 nrules;
	__u32 rules[SCRUB_TARGET_RULES]; /* rule ids, tried in order */
};

/* Per-CPU; userspace sums over CPUs. Rules count every packet they matched. */
struct scrub_counter {
	__u64 packets;
	__u64 bytes; /* frame bytes as the driver saw them (Ethernet header included) */
	__u64 dropped_packets;
	__u64 dropped_bytes;
};

struct scrub_rl_key {
	__u32 rule;
	__u8 addr[16]; /* source, masked */
};

/* Token bucket in nano-packets: one packet costs 1e9, time refills rate per ns. */
struct scrub_bucket {
	__u64 credit;
	__u64 last_ns;
};

struct scrub_config {
	__u32 sample_every; /* sample 1 in N dropped packets at random; 0: none */
	__u32 flags;	    /* reserved */
};

struct scrub_sample {
	__u64 ts_ns; /* bpf_ktime_get_ns() */
	__u32 reason;
	__u32 rule; /* SCRUB_NO_RULE when no rule decided */
	__u32 ifindex;
	__u32 len;    /* frame length */
	__u32 caplen; /* bytes in data */
	__u32 pad;
	__u8 data[SCRUB_SAMPLE_BYTES];
};

#endif
