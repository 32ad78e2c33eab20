#!/bin/sh
# 10,000 routes to a BIRD peer: BIRD 2 in a network namespace of its own (loopback only, 127.0.0.1,
# AS 65000, flow4 table flowtab4 and master4, no import limits) and build/release/bench/bgp-load
# (moat's BGP speaker through its API, AS 65001 from 127.0.0.2) in the same namespace. Per run it
# announces N distinct routes as fast as bgp_speaker_announce() takes them, then withdraws them,
# and times each phase from its first call to: the API calls returned (api), the write() of the
# last UPDATE (wire, the speaker's bgp_update_sent mono_ns) and BIRD's table holding all of them,
# or none (bird; `birdc show route count` polled back to back). Flowspec rules (destination
# 198.51.100.1..100/32 x UDP destination port 1000..1099, discard), then blackhole /32s
# (198.18.0.0/15, community 65535:666). Prints the runs and a Markdown table of medians.
# Target (issue: BGP): 10,000 rules announced in under 1 s.
# usage: sh bench/bgp-load.sh [N] [RUNS]   (root; needs bird2)
. "$(dirname "$0")/lib.sh"
N=${1:-10000}
RUNS=${2:-5}
LOAD=$ROOT/build/release/bench/bgp-load
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 1; }
for t in bird birdc; do command -v $t >/dev/null || { echo "needs $t" >&2; exit 1; }; done
[ -x "$LOAD" ] || { echo "build it first: make release" >&2; exit 1; }
NS=moat-bgpload-$$
D=$(mktemp -d "$W/bgp-load.XXXXXX")
cleanup() {
	[ -f "$D/bird.pid" ] && kill "$(cat "$D/bird.pid")" 2>/dev/null
	ip netns pids "$NS" 2>/dev/null | xargs -r kill 2>/dev/null
	sleep 0.2
	ip netns del "$NS" 2>/dev/null
}
trap cleanup EXIT INT TERM
ip netns add "$NS" || exit 1
ip -n "$NS" link set lo up
cat >"$D/bird.conf" <<CONF
router id 192.0.2.1;
log "$D/bird.log" { warning, error, fatal };
protocol device {}
flow4 table flowtab4;
protocol bgp moat {
  local 127.0.0.1 as 65000;
  neighbor 127.0.0.2 as 65001;
  multihop;
  hold time 90;
  connect retry time 1;
  ipv4 { import all; export none; gateway recursive; igp table master4; };
  flow4 { table flowtab4; import all; export none; };
}
CONF
ip netns exec "$NS" bird -c "$D/bird.conf" -s "$D/bird.ctl" -P "$D/bird.pid" || exit 1
for _ in $(seq 1 30); do [ -S "$D/bird.ctl" ] && break; sleep 0.1; done
echo "# $N routes to BIRD $(bird --version 2>&1 | awk '{ print $3 }'), $RUNS runs"
machine
for k in flow blackhole; do
	ip netns exec "$NS" "$LOAD" -b "$D/bird.ctl" -n "$N" -r "$RUNS" -k "$k" >"$D/$k.out" 2>"$D/$k.err" ||
		{ echo "bgp-load -k $k failed: $(cat "$D/$k.err")" >&2; }
	sed "s/^/$k /" "$D/$k.out"
done
echo
echo "| routes | phase | API calls return, ms | last UPDATE written, ms | in BIRD's table, ms | UPDATEs | runs |"
echo "|---|---|---|---|---|---|---|"
for k in flow blackhole; do
	for ph in announce withdraw; do
		grep -q " $ph " "$D/$k.out" || continue
		col() { awk -v p="$ph" -v c="$1" '$3 == p { for (i = 4; i < NF; i += 2) if ($i == c) print $(i + 1) }' "$D/$k.out"; }
		name=$([ $k = flow ] && echo "$N flowspec rules" || echo "$N blackhole /32s")
		printf '| %s | %s | %.1f | %.1f | **%.1f** | %.0f | %s |\n' "$name" "$ph" "$(col api_ms | median)" \
			"$(col wire_ms | median)" "$(col bird_ms | median)" "$(col updates | median)" \
			"$(col bird_ms | tr '\n' ' ' | sed 's/ $//')"
	done
done
