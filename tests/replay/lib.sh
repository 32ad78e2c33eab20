# Shared helpers for replay tests: sourced, not run. Each test is a shell script that exits 0 only
# when every check passed; checks print what they compared so a failure explains itself.
set -u
: "${MOATD:=$MOAT_ROOT/build/asan/moatd}"
: "${MOAT_GEN:=$MOAT_ROOT/build/release/moat-gen}"
T=$(mktemp -d "${TEST_OUT:-/tmp}/replay.XXXXXX")
FAILS=0
CHECKS=0

ok() { CHECKS=$((CHECKS + 1)); echo "ok: $*"; }
bad() { CHECKS=$((CHECKS + 1)); FAILS=$((FAILS + 1)); echo "FAIL: $*"; }
check() { # description, then a command that must succeed
	d=$1
	shift
	if "$@"; then ok "$d"; else bad "$d"; fi
}
finish() {
	echo "$CHECKS checks, $FAILS failed"
	[ "$CHECKS" -gt 0 ] && [ "$FAILS" -eq 0 ]
}
# within VALUE EXPECTED FRACTION: |VALUE - EXPECTED| <= FRACTION * EXPECTED
within() { awk -v v="$1" -v e="$2" -v f="$3" 'BEGIN { d = v - e; if (d < 0) d = -d; exit !(d <= f * e) }'; }
# since T0 TS MAX: 0 < TS - T0 <= MAX (epoch seconds: compared as differences, never printed)
since() { awk -v a="$1" -v b="$2" -v m="$3" 'BEGIN { d = b - a; exit !(d > 0 && d <= m) }'; }
# le A B: A <= B (floats)
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
# wait_for SECONDS COMMAND...: COMMAND succeeds within SECONDS (tried every 0.1 s)
wait_for() {
	n=$(($1 * 10))
	shift
	while [ $n -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}
