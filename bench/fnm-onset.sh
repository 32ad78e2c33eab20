#!/bin/bash
# bench/fnm-onset.sh: moatd against FastNetMon 1.2.4 (Debian 12 package) on the same traffic,
# in the same run: time from flood onset to the first detection, and the attack rate each reports
# at that moment against the generator's planned rate.
#
#   sudo bench/fnm-onset.sh                     # 5 runs per scenario and FNM setting
#   REPS=3 FNM_AVGS="5" bench/fnm-onset.sh      # fewer runs, one FNM setting
#   OUT=/tmp/x.md bench/fnm-onset.sh            # also write the Markdown report to a file
#   KEEP=1 bench/fnm-onset.sh                   # keep the temp dir (logs, events, configs of each run)
#
# Lab: tools/lab.sh's two network namespaces (documentation addresses only). moat-gen sends from
# the "inet" namespace; moatd and fastnetmon both read prot0 in the "prot" namespace through their
# own AF_PACKET sockets, so both see every packet of the same run. Every run starts both daemons
# afresh (a FastNetMon ban lasts ban_time, moat's attack lasts its cooldown), and the runs spread
# the onset over the phase of FastNetMon's 1 s and moat's 100 ms rate computation.
#
# Onset: tcpdump (filter in the kernel, -c 1) timestamps moat-gen's first packet on prot0;
# moat-gen paces every packet to its own first one, so onset = first packet + ONSET seconds.
# moat: latency from the attack_start event's ts (the 100 ms tick that saw it) and, the same way
# as FastNetMon, from the time its FastNetMon-compatible notify script ran; pps from the event.
# FastNetMon: latency and pps from its notify script ("IP incoming PPS ban").
#
# FastNetMon's config is Debian's /etc/fastnetmon.conf with only these changes: AF_PACKET mirror
# on prot0, networks_list 198.51.100.0/24, ban_for_bandwidth off (only pps, threshold_pps 20000
# as packaged), our notify script, files in a temp dir, usage report/API/prometheus off, and
# average_calculation_time set per FNM_AVGS: 15 is FastNetMon's compiled-in default, 5 is what
# Debian's config file sets, 1 is the smallest positive value, 0 (not documented, not refused)
# turns the exponential average off (exp(-1/0) = 0): the rate of the last 1 s period.
#
# Installs what is missing (fastnetmon, tcpdump, jq) with apt-get and makes sure the packaged
# fastnetmon service is not left running. Needs root. Cleans up namespaces, daemons, temp files.
set -u -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MOATD=${MOATD:-$ROOT/build/release/moatd}
MOAT_GEN=${MOAT_GEN:-$ROOT/build/release/moat-gen}
REPS=${REPS:-5}
FNM_AVGS=${FNM_AVGS:-"15 5 1 0"}
# TYPE:PPS; target 198.51.100.5, threshold 20000 pps for both daemons
SCENARIOS=${SCENARIOS:-"syn:50000 udp:100000"}
THRESHOLD=20000
TARGET=198.51.100.5
ONSET=3        # flood start, seconds after moat-gen's first packet
FLOOD_DUR=12   # long enough for FNM's 15 s average to cross 20k at 50k pps (~8 s)
BG="1000:hosts=8"
OUT=${OUT:-}

die() { echo "fnm-onset: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (network namespaces, AF_PACKET, apt-get)"
for c in ip awk sort date lscpu nproc; do
	command -v "$c" >/dev/null || die "$c is missing"
done

# ---- moat binaries ----
echo "== make release" >&2
if ! make -C "$ROOT" release >/dev/null; then
	[ -x "$MOATD" ] && [ -x "$MOAT_GEN" ] || die "make release failed and there are no binaries"
	echo "fnm-onset: make release failed; measuring the binaries already in build/release" >&2
fi
[ -x "$MOATD" ] && [ -x "$MOAT_GEN" ] || die "no $MOATD or $MOAT_GEN after make release"

# ---- packages ----
POLICY_RC=/usr/sbin/policy-rc.d
POLICY_CREATED=0
WE_INSTALLED_FNM=0

fnm_service_stop() {
	# the packaged unit (Type=forking, /run/fastnetmon.pid) must not run beside the benchmark
	if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
		if systemctl is-active --quiet fastnetmon 2>/dev/null; then
			echo "== stopping the packaged fastnetmon service" >&2
			systemctl stop fastnetmon
		fi
		[ "$WE_INSTALLED_FNM" = 1 ] && systemctl disable --quiet fastnetmon 2>/dev/null
	fi
	if [ -x /etc/init.d/fastnetmon ]; then
		/etc/init.d/fastnetmon stop >/dev/null 2>&1
	fi
	# a daemon started from the packaged unit writes /run/fastnetmon.pid
	local p
	p=$(cat /run/fastnetmon.pid 2>/dev/null)
	if [ -n "$p" ] && [ "$(cat /proc/"$p"/comm 2>/dev/null)" = fastnetmon ]; then
		echo "fnm-onset: the packaged fastnetmon (pid $p) is still running" >&2
		return 1
	fi
	return 0
}

need=()
command -v fastnetmon >/dev/null || need+=(fastnetmon)
command -v tcpdump >/dev/null || need+=(tcpdump)
command -v jq >/dev/null || need+=(jq)
if [ ${#need[@]} -gt 0 ]; then
	echo "== installing ${need[*]}" >&2
	[[ " ${need[*]} " == *" fastnetmon "* ]] && WE_INSTALLED_FNM=1
	# keep the package's service from starting during the install (restored below)
	if [ ! -e "$POLICY_RC" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$POLICY_RC" && chmod 755 "$POLICY_RC" && POLICY_CREATED=1
	fi
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}" >&2
	rc=$?
	[ "$POLICY_CREATED" = 1 ] && rm -f "$POLICY_RC"
	[ $rc = 0 ] || die "apt-get install ${need[*]} failed"
fi
command -v fastnetmon >/dev/null || die "fastnetmon is missing after the install"
[ -r /etc/fastnetmon.conf ] || die "/etc/fastnetmon.conf (the packaged config we start from) is missing"
fnm_service_stop || die "stop the packaged fastnetmon service first"
FNM_VERSION=$(fastnetmon --version 2>&1 | sed -n 's/^Version: *//p' | tr -d ' ')
FNM_PKG=$(dpkg-query -W -f '${Version}' fastnetmon 2>/dev/null)

# ---- lab and cleanup ----
LAB_ID=${LAB_ID:-fnm$$}
. "$ROOT/tools/lab.sh"
W=$(mktemp -d /tmp/fnm-onset.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	lab_down
	if [ "${KEEP:-0}" = 1 ]; then echo "fnm-onset: kept $W" >&2; else rm -rf "$W"; fi
	[ "$POLICY_CREATED" = 1 ] && rm -f "$POLICY_RC"
	fnm_service_stop
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# private copies: a rebuild in the work tree during the run does not change what is measured
cp "$MOATD" "$W/moatd" && cp "$MOAT_GEN" "$W/moat-gen" || die "cannot copy the moat binaries"
MOATD=$W/moatd
MOAT_GEN=$W/moat-gen
MOAT_VERSION=$("$MOATD" -V 2>&1 | head -1)

lab_up || die "could not build the lab (ip netns)"
IFINDEX=$(ip -n "$LAB_PROT" -o link show prot0 | awk -F: '{print $1}')

# ---- configs ----
echo "198.51.100.0/24" >"$W/networks_list"
: >"$W/whitelist"
# FastNetMon-style notify script: IP direction PPS action; details on stdin
mk_notify() {
	cat >"$1" <<EOF
#!/bin/sh
t=\$(date +%s.%N)
echo "\$t \$*" >>"$2"
cat >/dev/null
EOF
	chmod 755 "$1"
}

fnm_conf() { # AVG RUNDIR
	local avg=$1 d=$2
	grep -v '^[[:space:]]*#' /etc/fastnetmon.conf | grep -v '^[[:space:]]*$' | sed \
		-e 's/^disable_usage_report *=.*/disable_usage_report = on/' \
		-e 's/^mirror_afpacket *=.*/mirror_afpacket = on/' \
		-e 's/^interfaces *=.*/interfaces = prot0/' \
		-e 's/^enable_ban *=.*/enable_ban = on/' \
		-e 's/^ban_for_pps *=.*/ban_for_pps = on/' \
		-e "s/^threshold_pps *=.*/threshold_pps = $THRESHOLD/" \
		-e 's/^ban_for_bandwidth *=.*/ban_for_bandwidth = off/' \
		-e 's/^ban_for_flows *=.*/ban_for_flows = off/' \
		-e "s|^networks_list_path *=.*|networks_list_path = $W/networks_list|" \
		-e "s|^white_list_path *=.*|white_list_path = $W/whitelist|" \
		-e "s|^notify_script_path *=.*|notify_script_path = $d/fnm-notify.sh|" \
		-e "s|^pid_path *=.*|pid_path = $d/fnm.pid|" \
		-e "s|^cli_stats_file_path *=.*|cli_stats_file_path = $d/fnm.dat|" \
		-e "s|^cli_stats_ipv6_file_path *=.*|cli_stats_ipv6_file_path = $d/fnm6.dat|" \
		-e 's/^enable_api *=.*/enable_api = off/' \
		-e 's/^prometheus *=.*/prometheus = off/' \
		-e 's/^monitor_local_ip_addresses *=.*/monitor_local_ip_addresses = off/' \
		-e '/^average_calculation_time *=/d'
	echo "average_calculation_time = $avg"
}

cat >"$W/moat.yaml" <<YAML
networks: [198.51.100.0/24]
thresholds: {pps: $THRESHOLD}
control: {socket: none}
history: {path: none}
capture:
  - af_packet: {interface: prot0, workers: 1}
notify: {script: $W/moat-notify.sh}
YAML
mk_notify "$W/moat-notify.sh" "$W/moat-notify.log"
"$MOATD" -t -c "$W/moat.yaml" || die "moatd refuses the config"

cpu_s() { # PID -> utime+stime in seconds
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.3f", ($12 + $13) / hz }' \
		"/proc/$1/stat" 2>/dev/null || echo NA
}

wait_for() { # FILE PATTERN TENTHS PID
	local i
	for ((i = 0; i < $3; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		kill -0 "$4" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

stop_pid() {
	kill "$1" 2>/dev/null
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# raw results, one line per run
RAW=$W/raw.tsv
printf 'scen\tavg\trep\tonset\tlaunch_ms\tmoat_ts\tmoat_notify\tmoat_pps\tfnm_ts\tfnm_pps\tmoat_cpu\tfnm_cpu\tmoat_drops\tmoat_retries\tgen_pps\tgen_lag_ms\tfnm_end_pps\tgen_sent\tmoat_decoded\n' >"$RAW"

run_one() { # TYPE PPS AVG REP
	local type=$1 pps=$2 avg=$3 rep=$4 d
	d=$W/run-$type-$avg-$rep
	mkdir -p "$d"
	fnm_conf "$avg" "$d" >"$d/fnm.conf"
	mk_notify "$d/fnm-notify.sh" "$d/fnm-notify.log"
	: >"$W/moat-notify.log"
	[ -z "$(ip netns pids "$LAB_PROT")" ] || die "processes left in $LAB_PROT from the last run"

	# FastNetMon first: it takes its PID as AF_PACKET fanout group id (mode cpu), moatd
	# takes pid ^ ifindex (mode hash). When the ids are equal, the one that starts second
	# cannot join: moatd then exits (PACKET_FANOUT: Invalid argument) and is started again
	# below, while a FastNetMon that came second would log it and run on blind. (With
	# mirror_af_packet_fanout_mode = hash both would join one group and split the packets.)
	# ip netns exec execs the command itself: $! is the daemon's pid (a shell function would
	# put a subshell in between)
	ip netns exec "$LAB_PROT" fastnetmon --configuration_file "$d/fnm.conf" --log_file "$d/fnm.log" \
		>"$d/fnm.out" 2>&1 &
	local fnm=$!
	PIDS+=("$fnm")
	sleep 0.1
	[ "$(cat /proc/$fnm/comm 2>/dev/null)" = fastnetmon ] || die "fastnetmon did not start: $(cat "$d/fnm.out")"
	wait_for "$d/fnm.log" "Start AF_PACKET worker process for prot0" 100 "$fnm" ||
		{ cat "$d/fnm.out" "$d/fnm.log" >&2; die "fastnetmon did not start capturing"; }
	sleep 0.5
	grep -q "Can't configure fanout\|Can't create\|Can't bind" "$d/fnm.log" &&
		{ cat "$d/fnm.log" >&2; die "fastnetmon could not open prot0"; }

	local moat="" retries=0
	while :; do
		ip netns exec "$LAB_PROT" "$MOATD" -c "$W/moat.yaml" --events "$d/events.json" --stats 2>"$d/moatd.log" &
		moat=$!
		PIDS+=("$moat")
		wait_for "$d/moatd.log" "capturing on prot0" 50 "$moat" && break
		stop_pid "$moat"
		retries=$((retries + 1))
		echo "   moatd did not start (try $retries): $(tail -1 "$d/moatd.log");" \
			"moatd pid $moat ^ ifindex $IFINDEX = $((moat ^ IFINDEX)), fastnetmon pid $fnm" >&2
		[ $retries -lt 5 ] || die "moatd would not start"
	done
	grep -q "Can't configure fanout" "$d/fnm.log" && die "fastnetmon lost its fanout group"

	# the first packet moat-gen puts on the wire, as prot0 receives it
	ip netns exec "$LAB_PROT" tcpdump -i prot0 -n -l -c 1 -tt --time-stamp-precision=nano \
		"(ip and net 198.51.100.0/24) or (ip6 and net 2001:db8:5::/48)" \
		>"$d/first.txt" 2>"$d/tcpdump.err" &
	local td=$!
	PIDS+=("$td")
	wait_for "$d/tcpdump.err" "listening on" 50 "$td" || die "tcpdump did not start"
	# Both daemons have had a second of idle capture (FNM at least one speed period), then the
	# runs stagger the onset: FastNetMon computes rates once a second from its start and moat
	# every 100 ms of the wall clock, so a fixed start-up sequence would put the onset at the same
	# phase of both in every run. Run k of n waits (k-1)/n s plus (k-1) x 23 ms more.
	sleep "$(awk -v k="$rep" -v n="$REPS" 'BEGIN {printf "%.3f", 1 + (k - 1) / n + (k - 1) * 0.023}')"

	local launch gen
	launch=$(date +%s.%N)
	ip netns exec "$LAB_INET" "$MOAT_GEN" -i inet0 -d $((ONSET + FLOOD_DUR)) --background "$BG" \
		--attack "$type:$TARGET:$pps:start=$ONSET:dur=$FLOOD_DUR" 2>"$d/gen.log" &
	gen=$!
	PIDS+=("$gen")
	# what FastNetMon shows for the target (its screen file, the average) 0.5 s before the
	# flood ends: with a short average it is the rate FastNetMon sees, a check on its capture
	sleep "$(awk -v l="$launch" -v e=$((ONSET + FLOOD_DUR)) -v n="$(date +%s.%N)" \
		'BEGIN {x = l + e - 0.5 - n; printf "%.3f", (x > 0 ? x : 0)}')"
	cp "$d/fnm.dat" "$d/fnm-late.dat" 2>/dev/null
	wait "$gen" || { cat "$d/gen.log" >&2; die "moat-gen failed"; }
	sleep 1.2 # notify scripts finish
	local mcpu fcpu
	mcpu=$(cpu_s "$moat")
	fcpu=$(cpu_s "$fnm")
	local fend
	fend=$(awk -v ip="$TARGET" '/^Incoming traffic/ {f = 1} /^Outgoing traffic/ {f = 0}
		f && $1 == ip {print $2; exit}' "$d/fnm-late.dat" 2>/dev/null)
	stop_pid "$moat"
	stop_pid "$fnm"
	stop_pid "$td"
	PIDS=()

	local first onset
	first=$(awk 'NR == 1 {print $1}' "$d/first.txt")
	[ -n "$first" ] || die "tcpdump saw no packet: $(cat "$d/tcpdump.err")"
	onset=$(awk -v f="$first" -v o="$ONSET" 'BEGIN {printf "%.6f", f + o}')
	local launch_ms
	launch_ms=$(awk -v f="$first" -v l="$launch" 'BEGIN {printf "%.1f", (f - l) * 1000}')

	local mts mpps mnot fts fpps drops gpps glag
	read -r mts mpps < <(jq -r --arg t "$TARGET" \
		'select(.event == "attack_start" and .target == $t) | "\(.ts) \(.pps)"' \
		"$d/events.json" 2>/dev/null | head -1)
	mnot=$(awk -v t="$TARGET" '$2 == t && $5 == "ban" {print $1; exit}' "$W/moat-notify.log")
	read -r fts fpps < <(awk -v t="$TARGET" '$2 == t && $5 == "ban" {print $1, $4; exit}' \
		"$d/fnm-notify.log" 2>/dev/null)
	drops=$(sed -n 's/.*capture drops \([0-9]*\).*/\1/p' "$d/moatd.log")
	gpps=$(sed -n 's/.* s: \([0-9]*\) pps,.*/\1/p' "$d/gen.log")
	glag=$(sed -n 's/.*max lag \([0-9.]*\) ms.*/\1/p' "$d/gen.log")
	local sent dec
	sent=$(sed -n 's/.*: sent \([0-9]*\) packets.*/\1/p' "$d/gen.log")
	dec=$(sed -n 's/^decoded \([0-9]*\).*/\1/p' "$d/moatd.log")
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
		"$type:$pps" "$avg" "$rep" "$onset" "$launch_ms" "${mts:-NA}" "${mnot:-NA}" \
		"${mpps:-NA}" "${fts:-NA}" "${fpps:-NA}" "$mcpu" "$fcpu" "${drops:-NA}" "$retries" \
		"${gpps:-NA}" "${glag:-NA}" "${fend:-NA}" "${sent:-NA}" "${dec:-NA}" >>"$RAW"
	awk -v o="$onset" -v m="${mts:-NA}" -v mp="${mpps:-NA}" -v f="${fts:-NA}" -v fp="${fpps:-NA}" \
		-v tag="$type:$pps avg=$avg #$rep" 'function ms(t) { return t == "NA" ? "none" : sprintf("%.0f ms", (t - o) * 1000) }
		BEGIN { printf "   %-22s moat %8s %7s pps | fnm %8s %7s pps\n", tag, ms(m), mp, ms(f), fp }' >&2
	[ "${KEEP:-0}" = 1 ] || rm -rf "$d"
}

# ---- run ----
echo "== fnm-onset: moatd vs FastNetMon $FNM_VERSION; $REPS runs x {$SCENARIOS} x average_calculation_time {$FNM_AVGS}" >&2
for scen in $SCENARIOS; do
	for avg in $FNM_AVGS; do
		for ((rep = 1; rep <= REPS; rep++)); do
			run_one "${scen%%:*}" "${scen##*:}" "$avg" "$rep"
		done
	done
done

# ---- report ----
report() {
	echo "## moatd vs FastNetMon: detection latency and reported rate at first detection"
	echo
	echo "- command: \`REPS=$REPS FNM_AVGS=\"$FNM_AVGS\" bench/fnm-onset.sh\`"
	echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "- machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), nproc $(nproc); kernel $(uname -r)"
	echo "- FastNetMon $FNM_VERSION (Debian package $FNM_PKG), AF_PACKET mirror mode (fanout cpu, one thread per CPU);"
	echo "  moatd ($MOAT_VERSION; tree $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || echo ', src modified')), AF_PACKET, 1 worker"
	echo "- traffic: moat-gen, background $BG pps, flood on $TARGET from ${ONSET} s for ${FLOOD_DUR} s;"
	echo "  threshold $THRESHOLD pps in both; onset = moat-gen's first packet on prot0 (tcpdump) + ${ONSET} s"
	echo
	echo "Latency: median (min-max) over the runs. moat's runs are all the runs of the scenario (moatd ran"
	echo "beside every FastNetMon setting). \"moat (notify)\" is when moat's FastNetMon-compatible notify script"
	echo "ran, measured like FastNetMon's; \"moat (event)\" is the attack_start ts."
	echo
	awk -F'\t' '
	function med(s,   n, a, i, j, t) {
		n = split(s, a, " "); if (n == 0) return "NA"
		for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	function mn(s,   n, a, i, m) { n = split(s, a, " "); m = a[1]; for (i = 2; i <= n; i++) if (a[i] + 0 < m + 0) m = a[i]; return m }
	function mx(s,   n, a, i, m) { n = split(s, a, " "); m = a[1]; for (i = 2; i <= n; i++) if (a[i] + 0 > m + 0) m = a[i]; return m }
	function row(name, lat, pps, cpu, det, tot, truth,   ml, mp) {
		if (lat == "") { printf "| %s | %d/%d | none | - | %s | - | %s |\n", name, det, tot, truth, med(cpu); return }
		ml = med(lat); mp = med(pps)
		printf "| %s | %d/%d | %.0f (%.0f-%.0f) | %.0f | %s | %.2f | %.2f |\n", name, det, tot, ml, mn(lat), mx(lat), mp, truth, mp / truth, med(cpu)
	}
	NR == 1 { next }
	{
		s = $1; truth = substr(s, index(s, ":") + 1)
		if (!(s in seen)) { seen[s] = 1; order[++ns] = s; tr[s] = truth }
		if (!((s, $2) in seena)) { seena[s, $2] = 1; avgs[s] = avgs[s] " " $2 }
		mtot[s]++; ftot[s, $2]++
		if ($6 != "NA") { mdet[s]++; mlat[s] = mlat[s] " " ($6 - $4) * 1000; mpps[s] = mpps[s] " " $8 }
		if ($7 != "NA") { mnlat[s] = mnlat[s] " " ($7 - $4) * 1000 }
		mcpu[s] = mcpu[s] " " $11
		if ($9 != "NA") { fdet[s, $2]++; flat[s, $2] = flat[s, $2] " " ($9 - $4) * 1000; fpps[s, $2] = fpps[s, $2] " " $10 }
		fcpu[s, $2] = fcpu[s, $2] " " $12
		if ($13 != "NA") drops[s] += $13
		gp[s] = gp[s] " " $15; lag[s] = lag[s] " " $16; launch[s] = launch[s] " " $5; rt[s] += $14
		fend[s, $2] = fend[s, $2] " " $17
		if ($18 != "NA") sent[s] += $18
		if ($19 != "NA") dec[s] += $19
	}
	END {
		for (i = 1; i <= ns; i++) {
			s = order[i]; split(s, p, ":")
			printf "### %s flood, %d pps on 198.51.100.5 (threshold 20000 pps)\n\n", toupper(p[1]), tr[s]
			print "| detector | detected | latency ms | reported pps | true pps | reported/true | CPU s per run |"
			print "|---|---|---|---|---|---|---|"
			row("moat (event)", mlat[s], mpps[s], mcpu[s], mdet[s], mtot[s], tr[s])
			row("moat (notify)", mnlat[s], mpps[s], mcpu[s], mdet[s], mtot[s], tr[s])
			n = split(avgs[s], A, " ")
			for (j = 1; j <= n; j++) {
				a = A[j]
				nm = "FNM avg=" a (a == 15 ? " (built-in default)" : a == 5 ? " (Debian conf)" : a == 0 ? " (no average)" : "")
				row(nm, flat[s, a], fpps[s, a], fcpu[s, a], fdet[s, a], ftot[s, a], tr[s])
			}
			printf "\nmoat-gen sent %s pps on average over its run (median; background included), max lag median %s ms;" \
				" moatd decoded %d of the %d packets sent in all runs, capture drops %d; moatd start retries %d;" \
				" moat-gen launch to first packet %s ms (median).", med(gp[s]), med(lag[s]), dec[s], sent[s], drops[s], rt[s], med(launch[s])
			printf " FastNetMon screen file (cli_stats_file_path) for the target 0.5 s before the flood ended (median, by avg):"
			for (j = 1; j <= n; j++) printf " %s: %s pps;", A[j], med(fend[s, A[j]])
			printf "\n\n"
		}
	}' "$RAW"
	echo "CPU: user+system seconds of each daemon over its whole run (about $((ONSET + FLOOD_DUR + 4)) s: start, idle, flood)."
	echo
	echo "<details><summary>raw runs (times epoch s)</summary>"
	echo
	echo '```'
	column -t "$RAW" 2>/dev/null || cat "$RAW"
	echo '```'
	echo "</details>"
}

if [ -n "$OUT" ]; then
	report | tee "$OUT"
else
	report
fi
