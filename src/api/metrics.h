/* metrics: the Prometheus text exposition (format 0.0.4) of a running moatd, served at /metrics.
 * Every metric is listed in docs/metrics.md. */
#ifndef MOAT_METRICS_H
#define MOAT_METRICS_H

#include <stdint.h>
#include <stdio.h>

struct conf;
struct detector;
struct shard;
struct collector;
struct mit;
struct bgp_speaker;
struct bgpp;
struct hist;
struct api;

/* What the metrics are read from; NULL members are parts not running. */
struct metrics_src {
	const struct conf *conf;
	struct detector *det;
	struct shard *const *shards;
	int n_shards;
	struct collector *const *col;
	int n_col;
	struct mit *mit;
	struct bgp_speaker *bgp;
	struct bgpp *bgpp;
	struct hist *hist;
	const struct api *api;
	uint64_t started_ns;
	const char *version;
};

void metrics_write(FILE *f, const struct metrics_src *s);

/* A label value escaped for the exposition format (\\, \", \n) into buf. */
const char *metrics_label(const char *v, char *buf, size_t len);

#endif
