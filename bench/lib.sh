# bench/lib.sh: shared by the benchmark scripts (sourced). Machine facts and medians.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MOATD=${MOATD:-$ROOT/build/release/moatd}
MOAT_GEN=${MOAT_GEN:-$ROOT/build/release/moat-gen}
RUNS=${RUNS:-5}
W=${BENCH_DIR:-/tmp/moat-bench}
mkdir -p "$W"

machine() {
	echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "- cpu: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores online"
	echo "- memory: $(free -g | awk '/^Mem:/ {print $2}') GiB; kernel $(uname -r)"
	echo "- compiler: $(${CC:-cc} --version | head -1); moat $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null)"
}

# median of the numbers on stdin
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# wrk --latency's output on stdin -> "p50_ms p99_ms max_ms requests_per_s"; non-2xx answers are
# reported on stderr
wrk_parse() {
	awk '
		function ms(v) {
			if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
			if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
			if (v ~ /s$/) { sub(/s$/, "", v); return v * 1000 }
			return v
		}
		$1 == "Latency" && !lat { max = ms($4); lat = 1 }
		$1 == "50%" { p50 = ms($2) }
		$1 == "99%" { p99 = ms($2) }
		$1 == "Requests/sec:" { rps = $2 }
		/Non-2xx/ { bad = $NF }
		END { if (bad) print "wrk: non-2xx answers: " bad > "/dev/stderr"; print p50, p99, max, rps }'
}
