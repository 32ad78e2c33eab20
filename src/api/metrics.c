/* metrics: Prometheus text. Each family is written whole (HELP, TYPE, then its samples), as the
 * format requires. Parts that describe themselves as JSON (rules, routes, peers) are read back
 * from that JSON, so a metric and the API can never disagree about them. */
#include <string.h>

#include "api/api.h"
#include "api/metrics.h"
#include "bgp/policy.h"
#include "bgp/speaker.h"
#include "core/clock.h"
#include "core/conf.h"
#include "core/jparse.h"
#include "core/json.h"
#include "detect/detect.h"
#include "flow/collector.h"
#include "hist/history.h"
#include "mitigate/mitigate.h"

#define TOP_N 10

const char *metrics_label(const char *v, char *buf, size_t len)
{
	size_t o = 0;

	for (; v && *v && o + 3 < len; v++) {
		if (*v == '\\' || *v == '"') {
			buf[o++] = '\\';
			buf[o++] = *v;
		} else if (*v == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else {
			buf[o++] = *v;
		}
	}
	buf[o] = 0;
	return buf;
}

static void fam(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void u64(FILE *f, const char *name, const char *labels, uint64_t v)
{
	fprintf(f, "%s%s%s%s %llu\n", name, labels ? "{" : "", labels ? labels : "",
		labels ? "}" : "", (unsigned long long)v);
}

static void dbl(FILE *f, const char *name, const char *labels, double v)
{
	fprintf(f, "%s%s%s%s %.17g\n", name, labels ? "{" : "", labels ? labels : "",
		labels ? "}" : "", v);
}

static const char *const proto_names[4] = {"tcp", "udp", "icmp", "other"};

static void traffic(FILE *f, const struct metrics_src *s)
{
	const struct det_totals *t = det_totals(s->det);
	char l[128], e[160];

	fam(f, "moat_traffic_packets_total", "counter",
	    "Packets to (incoming) and from (outgoing) the protected networks, by IP protocol.");
	for (int d = 0; d < DIR__COUNT; d++)
		for (int p = 0; p < 4; p++) {
			snprintf(l, sizeof(l), "direction=\"%s\",protocol=\"%s\"",
				 conf_dir_name((enum dir)d), proto_names[p]);
			u64(f, "moat_traffic_packets_total", l, t->pkts[d][p]);
		}
	fam(f, "moat_traffic_bytes_total", "counter",
	    "Bytes (IP length) to and from the protected networks, by IP protocol.");
	for (int d = 0; d < DIR__COUNT; d++)
		for (int p = 0; p < 4; p++) {
			snprintf(l, sizeof(l), "direction=\"%s\",protocol=\"%s\"",
				 conf_dir_name((enum dir)d), proto_names[p]);
			u64(f, "moat_traffic_bytes_total", l, t->bytes[d][p]);
		}
	const char *names[2] = {"moat_hostgroup_packets_total", "moat_hostgroup_bytes_total"};
	for (int k = 0; k < 2; k++) {
		fam(f, names[k], "counter",
		    k ? "Bytes per hostgroup and direction (hostgroup=\"\": hosts in none)."
		      : "Packets per hostgroup and direction (hostgroup=\"\": hosts in none).");
		for (int g = -1; g < (int)s->conf->n_hostgroups; g++) {
			uint64_t p[DIR__COUNT], b[DIR__COUNT];
			if (det_group_totals(s->det, g, p, b) < 0)
				continue;
			for (int d = 0; d < DIR__COUNT; d++) {
				snprintf(l, sizeof(l), "hostgroup=\"%s\",direction=\"%s\"",
					 g < 0 ? ""
					       : metrics_label(s->conf->hostgroups[g].name, e,
							       sizeof(e)),
					 conf_dir_name((enum dir)d));
				u64(f, names[k], l, k ? b[d] : p[d]);
			}
		}
	}
}

static void top(FILE *f, const struct metrics_src *s)
{
	struct det_rate r[TOP_N];
	char a[MADDR_STRLEN], l[160];
	static const char *const names[] = {"moat_top_host_pps", "moat_top_host_bps"};
	static const char *const help[] = {
	    "Packets per second of the busiest hosts over the last complete second (top 10 by "
	    "pps per direction).",
	    "Bits per second of the busiest hosts over the last complete second (top 10 by bps "
	    "per direction)."};

	for (int k = 0; k < 2; k++) {
		fam(f, names[k], "gauge", help[k]);
		for (int d = 0; d < DIR__COUNT; d++) {
			unsigned n = det_top(s->det, k ? DET_BPS : DET_PPS, (enum dir)d, r, TOP_N);
			for (unsigned i = 0; i < n; i++) {
				snprintf(l, sizeof(l), "host=\"%s\",direction=\"%s\"",
					 maddr_str(&r[i].addr, a), conf_dir_name((enum dir)d));
				dbl(f, names[k], l, k ? r[i].bps : r[i].pps);
			}
		}
	}
}

static void detector(FILE *f, const struct metrics_src *s)
{
	const struct det_stats *ds = det_stats(s->det);
	struct shard_stats t;
	char l[96];

	fam(f, "moat_attacks_active", "gauge", "Attacks in progress.");
	u64(f, "moat_attacks_active", NULL, ds->attacks_active);
	fam(f, "moat_attacks_total", "counter", "Attacks detected since moatd started.");
	u64(f, "moat_attacks_total", NULL, ds->attacks_total);
	fam(f, "moat_table_entries", "gauge", "Entries in use in the detector's tables.");
	u64(f, "moat_table_entries", "table=\"hosts\"", ds->hosts);
	u64(f, "moat_table_entries", "table=\"hot\"", ds->hot);
	fam(f, "moat_table_capacity", "gauge",
	    "Capacity of the detector's tables (limits.max_hosts, limits.max_hot).");
	u64(f, "moat_table_capacity", "table=\"hosts\"", ds->hosts_cap);
	u64(f, "moat_table_capacity", "table=\"hot\"", ds->hot_cap);
	fam(f, "moat_table_refused_total", "counter",
	    "Entries a full table refused (hosts: a host not tracked; hot: a host not watched "
	    "closely).");
	u64(f, "moat_table_refused_total", "table=\"hosts\"", ds->hosts_full);
	u64(f, "moat_table_refused_total", "table=\"hot\"", ds->hot_full);

	shard_stats_sum(s->shards, s->n_shards, &t);
	fam(f, "moat_packets_decoded_total", "counter",
	    "Packets (and flow samples) decoded by the capture workers.");
	u64(f, "moat_packets_decoded_total", NULL, t.dec.n[DEC_OK]);
	fam(f, "moat_decode_errors_total", "counter",
	    "Packets the decoders counted and dropped, by reason (not_ip is not an error).");
	for (int r = 1; r < DEC__COUNT; r++) {
		snprintf(l, sizeof(l), "reason=\"%s\"", decode_reason_name((enum decode_reason)r));
		u64(f, "moat_decode_errors_total", l, t.dec.n[r]);
	}
	fam(f, "moat_ingest_drops_total", "counter",
	    "Traffic not accounted, by where it was lost (capture: the kernel's ring; "
	    "tick_table: a worker's table was full; samples: the vector feed was full).");
	u64(f, "moat_ingest_drops_total", "stage=\"capture\"", t.capture_drops);
	u64(f, "moat_ingest_drops_total", "stage=\"tick_table\"", t.tick_full);
	u64(f, "moat_ingest_drops_total", "stage=\"samples\"", t.feed_dropped);
	fam(f, "moat_unprotected_packets_total", "counter",
	    "Packets with neither end in the protected networks (not accounted).");
	u64(f, "moat_unprotected_packets_total", NULL, t.unprotected);
}

struct expctx {
	FILE *f;
	int which;
};

static void exp_one(void *arg, const char *kind, const char *listen, const struct maddr *addr,
		    const struct exporter_stats *st)
{
	struct expctx *x = arg;
	char a[MADDR_STRLEN], l[192];
	static const char *const names[] = {
	    "moat_exporter_datagrams_total", "moat_exporter_records_total",
	    "moat_exporter_errors_total", "moat_exporter_lost_total"};
	const uint64_t v[] = {st->packets, st->records, st->errors, st->seq_gaps};

	snprintf(l, sizeof(l), "collector=\"%s %s\",exporter=\"%s\"", kind, listen,
		 maddr_str(addr, a));
	u64(x->f, names[x->which], l, v[x->which]);
}

static void exporters(FILE *f, const struct metrics_src *s)
{
	static const char *const names[] = {
	    "moat_exporter_datagrams_total", "moat_exporter_records_total",
	    "moat_exporter_errors_total", "moat_exporter_lost_total"};
	static const char *const help[] = {
	    "Export datagrams received per exporter.",
	    "Flow records and samples turned into traffic per exporter.",
	    "Datagrams or records rejected as malformed per exporter.",
	    "Datagrams or flows lost per the exporter's sequence numbers."};
	char l[128];

	if (!s->n_col)
		return;
	for (int k = 0; k < 4; k++) {
		struct expctx x = {.f = f, .which = k};
		fam(f, names[k], "counter", help[k]);
		for (int i = 0; i < s->n_col; i++)
			collector_each(s->col[i], exp_one, &x);
	}
	fam(f, "moat_collector_dropped_total", "counter",
	    "Flow datagrams a collector dropped, by reason.");
	for (int i = 0; i < s->n_col; i++) {
		const struct collector_stats *cs = collector_stats(s->col[i]);
		const char *k = collector_kind(s->col[i]), *ls = collector_listen(s->col[i]);
		snprintf(l, sizeof(l), "collector=\"%s %s\",reason=\"unknown_exporter\"", k, ls);
		u64(f, "moat_collector_dropped_total", l, cs->unknown_exporter);
		snprintf(l, sizeof(l), "collector=\"%s %s\",reason=\"exporters_full\"", k, ls);
		u64(f, "moat_collector_dropped_total", l, cs->exporters_full);
		snprintf(l, sizeof(l), "collector=\"%s %s\",reason=\"socket\"", k, ls);
		u64(f, "moat_collector_dropped_total", l, cs->socket_drops);
	}
}

static void rules(FILE *f, const struct metrics_src *s, struct json *j)
{
	static const char *const names[] = {"moat_mitigation_rule_packets_total",
					    "moat_mitigation_rule_bytes_total",
					    "moat_mitigation_rule_dropped_packets_total",
					    "moat_mitigation_rule_dropped_bytes_total"};
	static const char *const keys[] = {"packets", "bytes", "dropped_packets", "dropped_bytes"};
	static const char *const help[] = {
	    "Packets a scrubber rule matched.", "Bytes a scrubber rule matched.",
	    "Packets a scrubber rule dropped.", "Bytes a scrubber rule dropped."};
	char err[128], l[512], e1[160], e2[300];

	if (!s->mit)
		return;
	const struct mit_stats *ms = mit_stats(s->mit);
	fam(f, "moat_mitigations_total", "counter",
	    "Scrubber mitigations, by what happened to them.");
	u64(f, "moat_mitigations_total", "event=\"started\"", ms->started);
	u64(f, "moat_mitigations_total", "event=\"ended\"", ms->ended);
	u64(f, "moat_mitigations_total", "event=\"no_rule\"", ms->no_rule);
	u64(f, "moat_mitigations_total", "event=\"refused\"", ms->backend_errors);
	json_reset(j);
	mit_rules_json(s->mit, j, realtime_ns());
	struct jdoc *d = jparse(j->buf, j->len, err, sizeof(err));
	const struct jval *list = jdoc_root(d);
	fam(f, "moat_mitigation_rules", "gauge", "Scrubber rules in place.");
	u64(f, "moat_mitigation_rules", NULL, jv_len(list));
	for (int k = 0; k < 4; k++) {
		fam(f, names[k], "counter", help[k]);
		for (size_t i = 0; i < jv_len(list); i++) {
			const struct jval *r = jv_at(list, i);
			uint64_t id = 0, v = 0;
			jv_uint(jv_get(r, "id"), &id);
			jv_uint(jv_get(r, "counters") ? jv_get(jv_get(r, "counters"), keys[k])
						      : jv_get(r, keys[k]),
				&v);
			snprintf(l, sizeof(l), "rule=\"%llu\",target=\"%s\",text=\"%s\"",
				 (unsigned long long)id,
				 metrics_label(jv_str(jv_get(r, "target")), e1, sizeof(e1)),
				 metrics_label(jv_str(jv_get(r, "text")), e2, sizeof(e2)));
			u64(f, names[k], l, v);
		}
	}
	jdoc_free(d);
}

static void bgp(FILE *f, const struct metrics_src *s, struct json *j)
{
	char err[128], l[160], e[96];

	if (!s->bgp)
		return;
	json_reset(j);
	bgp_speaker_peers_json(s->bgp, j);
	struct jdoc *d = jparse(j->buf, j->len, err, sizeof(err));
	const struct jval *list = jdoc_root(d);
	fam(f, "moat_bgp_session_up", "gauge", "1 when the BGP session is Established.");
	for (size_t i = 0; i < jv_len(list); i++) {
		const struct jval *p = jv_at(list, i);
		const char *st = jv_str(jv_get(p, "state"));
		snprintf(l, sizeof(l), "peer=\"%s\"",
			 metrics_label(jv_str(jv_get(p, "address")), e, sizeof(e)));
		u64(f, "moat_bgp_session_up", l, st && !strcmp(st, "established"));
	}
	fam(f, "moat_bgp_updates_sent_total", "counter", "UPDATE messages sent to the peer.");
	for (size_t i = 0; i < jv_len(list); i++) {
		const struct jval *p = jv_at(list, i);
		uint64_t v = 0;
		jv_uint(jv_get(p, "updates_sent"), &v);
		snprintf(l, sizeof(l), "peer=\"%s\"",
			 metrics_label(jv_str(jv_get(p, "address")), e, sizeof(e)));
		u64(f, "moat_bgp_updates_sent_total", l, v);
	}
	jdoc_free(d);
	if (!s->bgpp)
		return;
	char *argv[] = {"bgp", "list", NULL};
	json_reset(j);
	json_obj(j);
	if (bgpp_command(s->bgpp, 2, argv, realtime_ns(), j, err, sizeof(err)) != 0)
		return;
	json_end(j);
	d = jparse(j->buf, j->len, err, sizeof(err));
	const struct jval *routes = jv_get(jdoc_root(d), "routes");
	static const char *const acts[] = {"blackhole", "flowspec", "diversion"};
	fam(f, "moat_bgp_routes", "gauge", "Routes announced, by kind.");
	for (size_t k = 0; k < 3; k++) {
		uint64_t n = 0;
		for (size_t i = 0; i < jv_len(routes); i++) {
			const char *a = jv_str(jv_get(jv_at(routes, i), "action"));
			n += a && !strcmp(a, acts[k]);
		}
		snprintf(l, sizeof(l), "kind=\"%s\"", acts[k]);
		u64(f, "moat_bgp_routes", l, n);
	}
	jdoc_free(d);
}

void metrics_write(FILE *f, const struct metrics_src *s)
{
	struct json j;
	char l[96];

	json_init(&j);
	fam(f, "moat_build_info", "gauge", "moatd's version.");
	snprintf(l, sizeof(l), "version=\"%s\"", s->version);
	u64(f, "moat_build_info", l, 1);
	fam(f, "moat_start_time_seconds", "gauge", "When moatd started (unix seconds).");
	dbl(f, "moat_start_time_seconds", NULL, s->started_ns / 1e9);
	traffic(f, s);
	top(f, s);
	detector(f, s);
	exporters(f, s);
	rules(f, s, &j);
	bgp(f, s, &j);
	if (s->hist) {
		const struct hist_stats *h = hist_stats(s->hist);
		fam(f, "moat_history_writes_total", "counter",
		    "Rows the attack history wrote, by kind.");
		u64(f, "moat_history_writes_total", "kind=\"attack\"", h->attacks_written);
		u64(f, "moat_history_writes_total", "kind=\"event\"", h->events_written);
		fam(f, "moat_history_errors_total", "counter",
		    "Attack history failures (write: the database refused; dropped: the queue "
		    "was full).");
		u64(f, "moat_history_errors_total", "kind=\"write\"", h->write_errors);
		u64(f, "moat_history_errors_total", "kind=\"dropped\"", h->dropped);
	}
	if (s->api) {
		const struct api_stats *as = api_stats(s->api);
		fam(f, "moat_api_requests_total", "counter",
		    "HTTP requests answered, by status class.");
		for (int c = 1; c <= 5; c++) {
			snprintf(l, sizeof(l), "code=\"%dxx\"", c);
			u64(f, "moat_api_requests_total", l, as->by_status_class[c]);
		}
	}
	json_free(&j);
}
