#!/bin/sh
# Runs every test: unit tests, replay and netns integration tests (all against the
# AddressSanitizer+UBSan build), then each fuzzer briefly. Prints one line per test and a last line
# "N passed, N failed". ONLY=lint|unit|replay|netns|flow|web|fuzz runs one group. FUZZ_SECONDS sets the fuzz time.
cd "$(dirname "$0")/.." || exit 1
export MOAT_ROOT="$PWD"
export MOATD="${MOATD:-$PWD/build/asan/moatd}"
export MOAT_GEN="${MOAT_GEN:-$PWD/build/release/moat-gen}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
FUZZ_SECONDS="${FUZZ_SECONDS:-20}"
OUT="${TEST_OUT:-$PWD/build/test-out}"
rm -rf "$OUT" && mkdir -p "$OUT"
export TEST_OUT="$OUT"
pass=0
fail=0
failed=""

run() { # name, command...
	name=$1
	shift
	start=$(date +%s)
	mkdir -p "$(dirname "$OUT/$name.log")"
	if "$@" >"$OUT/$name.log" 2>&1; then
		pass=$((pass + 1))
		echo "ok   $name ($(($(date +%s) - start)) s)"
	else
		fail=$((fail + 1))
		failed="$failed $name"
		echo "FAIL $name ($(($(date +%s) - start)) s); last lines of $OUT/$name.log:"
		tail -n 25 "$OUT/$name.log" | sed 's/^/     /'
	fi
}

want() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }

if want lint; then
	run "lint/clang-format" make -s check-format
fi
if want unit; then
	for t in build/asan/tests/test_*; do
		[ -x "$t" ] || continue
		run "unit/$(basename "$t")" "$t"
	done
fi
if want replay; then
	for t in tests/replay/*.sh; do
		[ -f "$t" ] && [ "$(basename "$t")" != lib.sh ] || continue
		run "replay/$(basename "$t" .sh)" sh "$t"
	done
fi
if want netns; then
	for t in tests/netns/*.sh; do
		[ -f "$t" ] || continue
		run "netns/$(basename "$t" .sh)" sh "$t"
	done
fi
if want flow; then
	for t in tests/flow/*.sh; do
		[ -f "$t" ] || continue
		run "flow/$(basename "$t" .sh)" sh "$t"
	done
fi
if want web; then
	# the dashboard in headless Chromium; screenshots go to build/artifacts/web/
	for t in tests/web/*.sh; do
		[ -f "$t" ] || continue
		run "web/$(basename "$t" .sh)" sh "$t"
	done
fi
if want fuzz; then
	for f in build/fuzz/fuzz_*; do
		[ -x "$f" ] || continue
		n=$(basename "$f" | sed 's/^fuzz_//')
		corpus="$OUT/corpus-$n"
		mkdir -p "$corpus"
		[ -d "tests/fuzz/corpus/$n" ] && cp "tests/fuzz/corpus/$n"/* "$corpus"/ 2>/dev/null
		run "fuzz/$n" "$f" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
			-print_final_stats=1 "$corpus"
	done
fi
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
