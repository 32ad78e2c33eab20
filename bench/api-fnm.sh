#!/bin/sh
# bench/api-fnm.sh: moatd's HTTP API against FastNetMon's (Debian 12's fastnetmon 1.2.x) in the
# same run, under the same flood. FastNetMon has no API for top hosts or attack details; what it
# has is a Prometheus endpoint (prometheus_host:9209) and a gRPC API whose command-line client
# knows ban, unban and get_banlist. So two comparisons:
#   metrics  wrk (1 thread, CONNS connections, DUR s) against each daemon's Prometheus endpoint
#   banlist  a script asking "what is under attack?" N times in a row, one process per question:
#            `fastnetmon_api_client get_banlist` against `curl .../api/v1/attacks` (each call is
#            timed from fork to exit: what an operator's script waits)
# Both daemons read prot0 of a veth lab (tools/lab.sh, documentation addresses) through their own
# AF_PACKET sockets; moat-gen, pinned to CPU 0, sends background traffic and a SYN flood at
# 198.51.100.10 that both detect (threshold 20000 pps) before the measurements start. Root only;
# cleans up. Prints Markdown.
RUNS=${RUNS:-3}
DUR=${DUR:-10}
N=${N:-200}
CONNS=${CONNS:-1}
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || { echo "api-fnm: needs root" >&2; exit 1; }
for c in wrk curl jq fastnetmon fastnetmon_api_client; do
	command -v $c >/dev/null || { echo "api-fnm: needs $c (tools/deps.sh; fastnetmon: apt-get install fastnetmon)" >&2; exit 1; }
done
[ -x "$MOATD" ] && [ -x "$MOAT_GEN" ] || make -C "$ROOT" -s release
[ -r /etc/fastnetmon.conf ] || { echo "api-fnm: /etc/fastnetmon.conf (packaged) is missing" >&2; exit 1; }
LAB_ID=f$$
. "$ROOT/tools/lab.sh"

MPID=
FPID=
GPID=
cleanup() {
	for p in $GPID $FPID $MPID; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	lab_down
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM
lab_up || { echo "api-fnm: cannot build the lab" >&2; exit 1; }

D=$W/api-fnm
rm -rf "$D" && mkdir -p "$D"
echo "198.51.100.0/24" >"$D/networks_list"
: >"$D/whitelist"
printf '#!/bin/sh\nexit 0\n' >"$D/notify.sh"
chmod 755 "$D/notify.sh"
# Debian's config with the lab's interface and files; its API and Prometheus endpoint stay on
grep -v '^[[:space:]]*#' /etc/fastnetmon.conf | grep -v '^[[:space:]]*$' | sed \
	-e 's/^disable_usage_report *=.*/disable_usage_report = on/' \
	-e 's/^mirror_afpacket *=.*/mirror_afpacket = on/' \
	-e 's/^interfaces *=.*/interfaces = prot0/' \
	-e 's/^ban_for_bandwidth *=.*/ban_for_bandwidth = off/' \
	-e "s|^networks_list_path *=.*|networks_list_path = $D/networks_list|" \
	-e "s|^white_list_path *=.*|white_list_path = $D/whitelist|" \
	-e "s|^notify_script_path *=.*|notify_script_path = $D/notify.sh|" \
	-e "s|^pid_path *=.*|pid_path = $D/fnm.pid|" \
	-e "s|^cli_stats_file_path *=.*|cli_stats_file_path = $D/fnm.dat|" \
	-e "s|^cli_stats_ipv6_file_path *=.*|cli_stats_ipv6_file_path = $D/fnm6.dat|" \
	-e 's/^enable_api *=.*/enable_api = on/' \
	-e 's/^prometheus *=.*/prometheus = on/' \
	-e 's/^monitor_local_ip_addresses *=.*/monitor_local_ip_addresses = off/' >"$D/fnm.conf"
cat >"$D/moat.yaml" <<EOF
networks: [198.51.100.0/24]
thresholds: {pps: 20000}
capture: [{af_packet: {interface: prot0, workers: 1}}]
control: {socket: none}
history: {path: $D/history.db}
api: {listen: 127.0.0.1:18080}
EOF

# FastNetMon first (see bench/fnm-onset.sh: its fanout group id is its pid)
ip netns exec "$LAB_PROT" fastnetmon --configuration_file "$D/fnm.conf" --log_file "$D/fnm.log" \
	>"$D/fnm.out" 2>&1 &
FPID=$!
i=0
until grep -q "Start AF_PACKET worker process for prot0" "$D/fnm.log" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 100 ] && kill -0 "$FPID" 2>/dev/null || { cat "$D/fnm.out" "$D/fnm.log" >&2; exit 1; }
	sleep 0.1
done
ip netns exec "$LAB_PROT" "$MOATD" -c "$D/moat.yaml" >"$D/moatd.log" 2>&1 &
MPID=$!
i=0
until ip netns exec "$LAB_PROT" curl -sf http://127.0.0.1:18080/api/v1/health >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 100 ] && kill -0 "$MPID" 2>/dev/null || { cat "$D/moatd.log" >&2; exit 1; }
	sleep 0.1
done

ip netns exec "$LAB_INET" taskset -c 0 "$MOAT_GEN" -i inet0 -d 36000 --background 20k:hosts=254 \
	--attack "syn:198.51.100.10:300k:sources=0" >"$D/gen.log" 2>&1 &
GPID=$!
# both must have seen the flood before anything is measured
i=0
while :; do
	fb=$(ip netns exec "$LAB_PROT" fastnetmon_api_client get_banlist 2>&1 | grep -c 198.51.100.10)
	ma=$(ip netns exec "$LAB_PROT" curl -s http://127.0.0.1:18080/api/v1/attacks | jq '[.attacks[] | select(.target == "198.51.100.10")] | length')
	[ "$fb" -ge 1 ] && [ "$ma" -ge 1 ] && break
	i=$((i + 1))
	[ $i -lt 60 ] || { echo "api-fnm: no detection after 30 s (fastnetmon $fb, moat $ma)" >&2; exit 1; }
	sleep 0.5
done

wrk_run() { # URL -> "p50_ms p99_ms max_ms rps"
	ip netns exec "$LAB_PROT" wrk -t1 -c"$CONNS" -d"${DUR}s" --latency "$1" 2>&1 | wrk_parse
}

calls() { # N, command... -> one duration in ms per line
	n=$1
	shift
	k=0
	while [ $k -lt "$n" ]; do
		c0=$(date +%s%N)
		ip netns exec "$LAB_PROT" "$@" >/dev/null 2>&1
		c1=$(date +%s%N)
		echo "$c0 $c1" | awk '{ printf "%.3f\n", ($2 - $1) / 1e6 }'
		k=$((k + 1))
	done
}

pct() { # P: percentile of the numbers on stdin
	sort -g | awk -v p="$1" '{ a[NR] = $1 } END { i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; print a[i] }'
}

accounted() { # incoming packets moatd has accounted
	ip netns exec "$LAB_PROT" curl -s http://127.0.0.1:18080/metrics |
		awk '/^moat_traffic_packets_total\{direction="incoming"/ { s += $2 } END { printf "%.0f\n", s }'
}
a0=$(accounted)
t0=$(date +%s%N)

echo "## moat's API against FastNetMon's, same run, same flood"
echo
machine
echo "- FastNetMon: $(fastnetmon --version 2>&1 | sed -n 's/^Version: *//p' | head -1)"
echo
echo "### Prometheus endpoint (wrk -t1 -c$CONNS, ${DUR} s x $RUNS rounds, medians)"
echo
echo "| daemon | URL | p50 ms | p99 ms | requests/s | samples per scrape |"
echo "|---|---|---|---|---|---|"
for who in moat fastnetmon; do
	if [ $who = moat ]; then url=http://127.0.0.1:18080/metrics; else url=http://127.0.0.1:9209/metrics; fi
	: >"$D/runs"
	r=0
	while [ $r -lt "$RUNS" ]; do
		wrk_run "$url" >>"$D/runs"
		r=$((r + 1))
	done
	samples=$(ip netns exec "$LAB_PROT" curl -s "$url" | grep -vc '^#')
	echo "| $who | \`$url\` | $(awk '{print $1}' "$D/runs" | median) | **$(awk '{print $2}' "$D/runs" | median)** | $(awk '{print $4}' "$D/runs" | median) | $samples |"
done
echo
echo "### \"What is under attack?\" from a script, $N calls in a row, a process each"
echo
echo "| daemon | command | p50 ms | p99 ms | answer names 198.51.100.10 |"
echo "|---|---|---|---|---|"
calls "$N" curl -s http://127.0.0.1:18080/api/v1/attacks >"$D/moat.ms"
ok=$(ip netns exec "$LAB_PROT" curl -s http://127.0.0.1:18080/api/v1/attacks | grep -c 198.51.100.10)
echo "| moat | \`curl .../api/v1/attacks\` | $(pct 50 <"$D/moat.ms") | **$(pct 99 <"$D/moat.ms")** | $([ "$ok" -ge 1 ] && echo yes || echo no) |"
calls "$N" fastnetmon_api_client get_banlist >"$D/fnm.ms"
ok=$(ip netns exec "$LAB_PROT" fastnetmon_api_client get_banlist 2>&1 | grep -c 198.51.100.10)
echo "| FastNetMon | \`fastnetmon_api_client get_banlist\` | $(pct 50 <"$D/fnm.ms") | **$(pct 99 <"$D/fnm.ms")** | $([ "$ok" -ge 1 ] && echo yes || echo no) |"
echo
a1=$(accounted)
t1=$(date +%s%N)
echo "Packets/s moatd accounted during the measurements: $(echo "$a0 $a1 $t0 $t1" | awk '{ printf "%.0f", ($2 - $1) / (($4 - $3) / 1e9) }')."
echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
