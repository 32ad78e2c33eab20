#!/bin/sh
# bench/api-latency.sh: how fast moatd's HTTP API answers the two questions operators ask in the
# middle of an attack, top hosts (GET /api/v1/top) and active attacks (GET /api/v1/attacks),
# measured with wrk, idle and while moatd captures and detects a flood. Root only; makes its own
# two network namespaces and a veth pair (tools/lab.sh, documentation addresses) and removes them.
#
# moatd (release) captures on prot0 with one AF_PACKET worker; moat-gen sends from the other end
# of the veth: background traffic to 254 hosts of 198.51.100.0/24 and 2001:db8:5::/48, a SYN
# flood at 198.51.100.10 and a carpet over 198.51.100.0/24, as fast as it can up to LOAD_PPS. wrk
# runs in moatd's namespace, 1 thread and CONNS connections (default 1: one request at a time,
# back to back, so the latency is moatd's answer time and not a queue wrk built itself; CONNS=8
# shows throughput) for DUR seconds per route and round, RUNS rounds, idle first and then under
# load. Prints Markdown: p50/p99/max latency and requests/s per route (medians of the rounds),
# the packets per second moatd accounted meanwhile, and the load average (other work on the
# machine shows in the tail).
RUNS=${RUNS:-5}
DUR=${DUR:-10}
LOAD_PPS=${LOAD_PPS:-2M}
CONNS=${CONNS:-1}
. "$(dirname "$0")/lib.sh"
set -e
[ "$(id -u)" = 0 ] || { echo "api-latency: needs root" >&2; exit 1; }
command -v wrk >/dev/null || { echo "api-latency: needs wrk (Debian wrk)" >&2; exit 1; }
command -v jq >/dev/null || { echo "api-latency: needs jq" >&2; exit 1; }
[ -x "$MOATD" ] && [ -x "$MOAT_GEN" ] || make -C "$ROOT" -s release
LAB_ID=b$$
. "$ROOT/tools/lab.sh"

MPID=
GPID=
cleanup() {
	[ -n "$GPID" ] && kill "$GPID" 2>/dev/null && wait "$GPID" 2>/dev/null
	[ -n "$MPID" ] && kill "$MPID" 2>/dev/null && wait "$MPID" 2>/dev/null
	lab_down
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

lab_up || { echo "api-latency: cannot build the lab" >&2; exit 1; }
cat >"$W/api.yaml" <<EOF
networks: [198.51.100.0/24, 2001:db8:5::/48]
thresholds: {pps: 20000, syn_pps: 10000}
detection: {cooldown: 30}
limits: {max_hosts: 262144}
capture: [{af_packet: {interface: prot0, workers: 1}}]
control: {socket: none}
history: {path: $W/api-history.db}
api: {listen: 127.0.0.1:18080}
EOF
rm -f "$W/api-history.db"*
ip netns exec "$LAB_PROT" "$MOATD" -c "$W/api.yaml" >"$W/api-moatd.log" 2>&1 &
MPID=$!
URL=http://127.0.0.1:18080
i=0
until ip netns exec "$LAB_PROT" curl -sf "$URL/api/v1/health" >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 100 ] && kill -0 "$MPID" 2>/dev/null || { cat "$W/api-moatd.log" >&2; exit 1; }
	sleep 0.1
done

accounted() { # incoming packets moatd has accounted
	ip netns exec "$LAB_PROT" curl -s "$URL/metrics" |
		awk '/^moat_traffic_packets_total\{direction="incoming"/ { s += $2 } END { printf "%.0f\n", s }'
}

wrk_run() { # path -> "p50_ms p99_ms max_ms rps"
	ip netns exec "$LAB_PROT" wrk -t1 -c"$CONNS" -d"${DUR}s" --latency "$URL$1" 2>&1 | wrk_parse
}

measure() { # label
	for route in "/api/v1/top?by=pps&limit=10" "/api/v1/attacks"; do
		: >"$W/api-runs"
		a0=$(accounted)
		t0=$(date +%s%N)
		r=0
		while [ $r -lt "$RUNS" ]; do
			wrk_run "$route" >>"$W/api-runs"
			r=$((r + 1))
		done
		t1=$(date +%s%N)
		a1=$(accounted)
		pps=$(echo "$a0 $a1 $t0 $t1" | awk '{ printf "%.0f", ($2 - $1) / (($4 - $3) / 1e9) }')
		p50=$(awk '{ print $1 }' "$W/api-runs" | median)
		p99=$(awk '{ print $2 }' "$W/api-runs" | median)
		p99max=$(awk '{ print $2 }' "$W/api-runs" | sort -g | tail -1)
		mx=$(awk '{ print $3 }' "$W/api-runs" | median)
		rps=$(awk '{ print $4 }' "$W/api-runs" | median)
		echo "| $1 | \`$route\` | $p50 | **$p99** (worst round $p99max) | $mx | $rps | $pps |"
	done
}

echo "## HTTP API latency (wrk -t1 -c$CONNS, ${DUR} s x $RUNS rounds per line)"
echo
machine
echo
echo "| load | route | p50 ms | p99 ms (median of rounds) | max ms | requests/s | packets/s moatd accounted |"
echo "|---|---|---|---|---|---|---|"
measure idle
ip netns exec "$LAB_INET" taskset -c 0 "$MOAT_GEN" -i inet0 -d 36000 \
	--background 100k:hosts=254 --attack "syn:198.51.100.10:$LOAD_PPS:sources=0" \
	--attack carpet:198.51.100.0/24:200k >"$W/api-gen.log" 2>&1 &
GPID=$!
sleep 3
active=$(ip netns exec "$LAB_PROT" curl -s "$URL/api/v1/attacks" | jq '.attacks | length')
measure "flood ($active attack(s) active)"
hosts=$(ip netns exec "$LAB_PROT" curl -s "$URL/api/v1/status" | jq .hosts)
echo
echo "Hosts tracked at the end: $hosts. Generator: moat-gen pinned to CPU 0; moatd and wrk share"
echo "the rest. Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
