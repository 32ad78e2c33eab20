/* flow: sFlow v5, NetFlow v5/v9 and IPFIX export packets -> flow records -> obs.
 *
 * Decoders are pure functions of (datagram, exporter state): they validate every length, keep
 * templates and sampling per exporter, count what they reject, and call `emit` once per record
 * with an obs whose packets/bytes are already multiplied by the sampling rate, plus the record's
 * first/last times. Nothing here does I/O; the collector (flow/collector.c) owns sockets,
 * exporters and time.
 */
#ifndef MOAT_FLOW_H
#define MOAT_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "core/obs.h"

enum {
	FLOW_MAX_TEMPLATES = 256, /* per exporter: (domain/source id, template id) pairs kept */
	FLOW_MAX_TEMPLATE_FIELDS = 128,
	FLOW_MAX_SAMPLERS = 64,	      /* per exporter: v9 sampler ids / IPFIX selector ids */
	FLOW_MAX_SAMPLING = 1u << 24, /* sampling rates above this are absurd: refused */
	FLOW_TEMPLATE_TTL_S = 1800,   /* a template not refreshed for this long is dropped */
};

/* Counters per exporter, cumulative. */
struct exporter_stats {
	uint64_t packets;	/* export datagrams received */
	uint64_t records;	/* flow records / flow samples turned into obs */
	uint64_t templates;	/* template (and options template) records accepted */
	uint64_t errors;	/* datagrams or records rejected as malformed */
	uint64_t no_template;	/* data records for a template we do not have (yet) */
	uint64_t template_full; /* templates refused: FLOW_MAX_TEMPLATES reached */
	uint64_t bad_sampling;	/* records whose sampling rate was absurd: dropped */
	uint64_t seq_gaps; /* export datagrams (or flows, v5/IPFIX) lost per sequence numbers */
	uint64_t counter_samples; /* sFlow counter samples seen (accepted, not used) */
	uint64_t ignored; /* understood but not for us: options data we do not use, non-IP */
	uint64_t last_seen_ns;
};

struct flow_template {
	uint32_t domain; /* v9 source id / IPFIX observation domain */
	uint16_t id;	 /* 256.. */
	uint16_t n_fields;
	uint16_t scope_fields; /* options templates: leading scope fields */
	uint8_t options;       /* 1: an options template */
	uint8_t used;
	int32_t min_len; /* sum of fixed field lengths; variable-length fields count 1 */
	uint64_t refreshed_ns;
	struct tfield {
		uint16_t type; /* information element id (enterprise bit cleared) */
		uint16_t len;  /* 65535: variable length (IPFIX) */
		uint32_t pen;  /* enterprise number, 0 for IANA */
	} f[FLOW_MAX_TEMPLATE_FIELDS];
};

/* What a decoder knows about one exporter (keyed by its source address in the collector). */
struct exporter {
	struct maddr addr;
	uint32_t sampling_override; /* from the config; 0 = use what the exporter reports */
	struct exporter_stats st;

	/* sequence tracking */
	uint8_t seq_valid;
	uint32_t seq_next;   /* next expected sequence number (per version semantics) */
	uint32_t seq_last;   /* IPFIX: the number of the last message */
	uint32_t seq_domain; /* v9 source id / IPFIX domain / sFlow agent sub-id the seq is for */

	/* sampling announced by the exporter */
	uint32_t v5_sampling;	   /* from the v5 header (0 = none) */
	uint32_t default_sampling; /* from an options record without a sampler id (v9/IPFIX) */
	struct {
		uint32_t domain;
		uint32_t id; /* sampler id (v9 FLOW_SAMPLER_ID 48/302) or selector id (IPFIX 302) */
		uint32_t rate;
	} samplers[FLOW_MAX_SAMPLERS];
	uint32_t n_samplers;

	struct flow_template *tmpl; /* [FLOW_MAX_TEMPLATES], allocated on first use */
	uint32_t n_tmpl;

	/* clocks */
	uint64_t sys_init_ms; /* IPFIX systemInitTimeMilliseconds (IE 160) from options records */
	uint8_t sys_init_valid;
	uint8_t boot_valid;
	int64_t
	    boot_ms; /* v9: unix time at sysUptime 0, ms: the header has whole seconds only, so
		      * each datagram gives a value up to 1 s low; the running maximum converges */
};

/* Called per record. first_ns/last_ns: when the flow's first and last packets were seen, in the
 * exporter's clock as nanoseconds since the epoch (sFlow samples: both the receive time). */
typedef void (*flow_emit_fn)(void *arg, const struct obs *o, uint64_t first_ns, uint64_t last_ns);

/* Each decoder: returns the number of records emitted (>= 0), or -1 if the datagram was rejected
 * as a whole (counted in ex->st.errors). now_ns is the receive time (for template ageing, sFlow
 * sample times, and exporters that send no usable clock). Never reads past buf + len. */
int sflow_decode(const uint8_t *buf, size_t len, uint64_t now_ns, struct exporter *ex,
		 flow_emit_fn emit, void *arg);
int netflow_decode(const uint8_t *buf, size_t len, uint64_t now_ns, struct exporter *ex,
		   flow_emit_fn emit, void *arg); /* v5, v9 and IPFIX (10), told apart by version */

/* Frees what an exporter allocated (templates). */
void exporter_release(struct exporter *ex);

#endif
