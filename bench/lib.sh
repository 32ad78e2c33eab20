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
