#!/bin/bash
# bench/flows-fnm.sh: flow telemetry cost, moatd against FastNetMon 1.2.4 (Debian 12 package).
#
#   sudo bench/flows-fnm.sh                      # v9, IPFIX and sFlow, 3 runs per daemon
#   REPS=5 FORMATS="v9 sflow" bench/flows-fnm.sh  # other run counts / formats
#   RATE=25000 bench/flows-fnm.sh                 # export datagrams/s for every format; or per
#   RATE_V9=.. RATE_IPFIX=.. RATE_SFLOW=..         #   format (defaults 10000, 10000, 25000)
#   OUT=/tmp/x.md bench/flows-fnm.sh              # also write the Markdown report to a file
#   KEEP=1 bench/flows-fnm.sh                     # keep the temp dir (streams, logs, configs)
#
# 1. Decode only: build/release/bench/flowdecode_sflow and flowdecode_netflow (one core, synthetic
#    router-like datagrams, each prints the median of 5 one-second runs), run DECODE_RUNS times.
# 2. End to end: one capture from moat-gen (30 s: background to 200 hosts, a spoofed 100 kpps UDP
#    flood on 198.51.100.5, a spoofed 50 kpps IPv6 SYN flood on 2001:db8:5::5) is turned into
#    NetFlow v9 and IPFIX by Debian's softflowd (-r) and into sFlow v5 (1 in 1) by pmacctd's
#    sfprobe plugin; tcpdump records the export datagrams on lo. Those streams are made once per
#    run of this script. Then, per format and run, each daemon is started afresh, left idle
#    IDLE_S s (its idle CPU rate), fed the SAME stream by bench/flows-send.c (the same bytes,
#    RATE_<FMT> datagrams/s with sendmmsg to 127.0.0.1) and measured: CPU time from /proc/PID/stat
#    (utime+stime) over the feed, minus the idle rate over the same wall time; what it counted;
#    socket drops (moatd's own counter, /proc/net/udp for FastNetMon). The daemons run one after
#    the other (never at the same time), the order rotating from run to run.
#    - moatd: networks 198.51.100.0/24 and 2001:db8:5::/48, thresholds pps 20000 / mbps 1000 (as
#      FastNetMon's packaged config), a netflow and an sflow collector, --stats. A replayed stream
#      is anchored to moatd's clock (docs/ARCHITECTURE.md, "Time"): its records are accounted up
#      to 10 s + the capture's 30 s after the first one arrives, so moatd's window runs until then
#      (and its "spread now" at exit must be 0).
#    - FastNetMon: Debian's /etc/fastnetmon.conf with only these changes: netflow and sflow on
#      127.0.0.1 (no mirror), the two networks, our notify script (records bans), files in the
#      temp dir, usage report and API off, prometheus on 127.0.0.1 (its only counters; read once,
#      after the CPU measurement). Two variants: "packaged" as is (the kernel's default socket
#      buffer, rmem_default), and "32 MiB buffer": the same with SO_RCVBUFFORCE 32 MiB set by an
#      LD_PRELOAD shim at bind (what moatd sets for itself; FastNetMon 1.2.4 has no option for
#      it, its docs suggest raising net.core.rmem_default, which this script does not touch).
#
# Installs what is missing (fastnetmon, softflowd, pmacct, tcpdump, curl) with apt-get, keeps
# packaged services from starting during the install, stops the packaged fastnetmon/softflowd/
# pmacct services if they run. Needs root. Sends only to 127.0.0.1. Cleans up its processes
# (by pid) and temp files.
set -u -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
REL=$ROOT/build/release
MOATD=${MOATD:-$REL/moatd}
MOAT_GEN=${MOAT_GEN:-$REL/moat-gen}
REPS=${REPS:-3}
FORMATS=${FORMATS:-"v9 ipfix sflow"}
# Datagrams/s. NetFlow: 10000/s is ~255k records/s, about 40% of a core for FastNetMon here; at
# 25000/s it has no core to spare and drops even with a 32 MiB buffer. sFlow datagrams carry ~6
# samples, so 25000/s is ~155k samples/s.
RATE=${RATE:-}
RATE_V9=${RATE:-${RATE_V9:-10000}}
RATE_IPFIX=${RATE:-${RATE_IPFIX:-10000}}
RATE_SFLOW=${RATE:-${RATE_SFLOW:-25000}}
rate_of() { case $1 in v9) echo "$RATE_V9" ;; ipfix) echo "$RATE_IPFIX" ;; sflow) echo "$RATE_SFLOW" ;; esac; }
REPEAT=${REPEAT:-1}
IDLE_S=${IDLE_S:-10}
DECODE_RUNS=${DECODE_RUNS:-5}
FNM_VARIANTS=${FNM_VARIANTS:-"packaged buf32"}
FNM_BUF=33554432
CAP_DUR=30
OUT=${OUT:-}
HZ=$(getconf CLK_TCK)

die() {
	echo "flows-fnm: $*" >&2
	exit 1
}
log() { echo "$*" >&2; }

[ "$(id -u)" = 0 ] || die "needs root (apt-get, SO_RCVBUFFORCE, services)"
for c in awk sed sort ss lscpu nproc cc getconf; do
	command -v "$c" >/dev/null || die "$c is missing"
done

# ---- moat binaries ----
log "== make release"
if ! make -C "$ROOT" release >/dev/null; then
	log "flows-fnm: make release failed; using the binaries already in build/release"
fi
for b in "$MOATD" "$MOAT_GEN" "$REL/bench/flowdecode_sflow" "$REL/bench/flowdecode_netflow"; do
	[ -x "$b" ] || die "no $b (make release)"
done

# ---- packages ----
POLICY_RC=/usr/sbin/policy-rc.d
POLICY_CREATED=0
WE_INSTALLED=()

svc_stop() { # NAME PIDFILE...: stop a packaged service if it runs (never other instances)
	local name=$1 p f
	shift
	if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
		if systemctl is-active --quiet "$name" 2>/dev/null; then
			log "== stopping the packaged $name service"
			systemctl stop "$name"
		fi
		[[ " ${WE_INSTALLED[*]} " == *" $name "* ]] && systemctl disable --quiet "$name" 2>/dev/null
	fi
	for f in "$@"; do
		p=$(cat "$f" 2>/dev/null)
		[ -n "$p" ] && [ -d "/proc/$p" ] || continue
		if [ -x "/etc/init.d/$name" ]; then
			log "== stopping the packaged $name service (pid $p)"
			"/etc/init.d/$name" stop >/dev/null 2>&1
		fi
		[ -d "/proc/$p" ] && { log "flows-fnm: the packaged $name (pid $p) is still running"; return 1; }
	done
	return 0
}
services_stop() {
	svc_stop fastnetmon /run/fastnetmon.pid /var/run/fastnetmon.pid &&
		svc_stop softflowd /run/softflowd.pid &&
		svc_stop pmacctd /run/pmacctd.pid
}

need=()
command -v fastnetmon >/dev/null || need+=(fastnetmon)
command -v softflowd >/dev/null || need+=(softflowd)
command -v pmacctd >/dev/null || need+=(pmacct)
command -v tcpdump >/dev/null || need+=(tcpdump)
command -v curl >/dev/null || need+=(curl)
dpkg-query -W -f '${Status}' libpcap0.8-dev 2>/dev/null | grep -q "ok installed" || need+=(libpcap0.8-dev)
if [ ${#need[@]} -gt 0 ]; then
	log "== installing ${need[*]}"
	for n in "${need[@]}"; do
		case $n in fastnetmon | softflowd) WE_INSTALLED+=("$n") ;; pmacct) WE_INSTALLED+=(pmacctd) ;; esac
	done
	if [ ! -e "$POLICY_RC" ]; then
		printf '#!/bin/sh\nexit 101\n' >"$POLICY_RC" && chmod 755 "$POLICY_RC" && POLICY_CREATED=1
	fi
	apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y "${need[@]}" >&2
	rc=$?
	[ "$POLICY_CREATED" = 1 ] && rm -f "$POLICY_RC" && POLICY_CREATED=0
	[ $rc = 0 ] || die "apt-get install ${need[*]} failed"
fi
for c in fastnetmon softflowd pmacctd tcpdump curl; do
	command -v "$c" >/dev/null || die "$c is missing after the install"
done
[ -r /etc/fastnetmon.conf ] || die "/etc/fastnetmon.conf (the packaged config we start from) is missing"
services_stop || die "stop the packaged services first"
FNM_VERSION=$(fastnetmon --version 2>&1 | sed -n 's/^Version: *//p' | tr -d ' ')
pkgv() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null; }

# ---- temp dir, cleanup ----
W=$(mktemp -d /tmp/flows-fnm.XXXXXX)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	if [ "${KEEP:-0}" = 1 ]; then log "flows-fnm: kept $W"; else rm -rf "$W"; fi
	[ "$POLICY_CREATED" = 1 ] && rm -f "$POLICY_RC"
	services_stop
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# private copies: a rebuild in the work tree during the run does not change what is measured
cp "$MOATD" "$W/moatd" && cp "$MOAT_GEN" "$W/moat-gen" &&
	cp "$REL/bench/flowdecode_sflow" "$REL/bench/flowdecode_netflow" "$W/" ||
	die "cannot copy the moat binaries"
MOATD=$W/moatd
MOAT_VERSION=$("$MOATD" -V 2>&1 | head -1)
# the tree the binaries were built from (others may commit during the run)
TREE="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || echo ', src modified')"
if [ -x "$REL/bench/flows-send" ] && [ "$REL/bench/flows-send" -nt "$ROOT/bench/flows-send.c" ]; then
	cp "$REL/bench/flows-send" "$W/flows-send"
else
	cc -std=gnu11 -D_GNU_SOURCE -O2 -Wall -Wextra -o "$W/flows-send" "$ROOT/bench/flows-send.c" -lpcap ||
		die "cannot build bench/flows-send.c"
fi
SEND=$W/flows-send

# LD_PRELOAD shim for FastNetMon's "32 MiB buffer" variant: SO_RCVBUFFORCE on UDP sockets at bind
cat >"$W/rcvbuf.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/socket.h>
int bind(int fd, const struct sockaddr *a, socklen_t l)
{
	static int (*real)(int, const struct sockaddr *, socklen_t);
	int type = 0, sz;
	socklen_t tl = sizeof(type);
	const char *e = getenv("FLOWS_RCVBUF");

	if (!real)
		real = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "bind");
	if (e && (sz = atoi(e)) > 0 && getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 &&
	    type == SOCK_DGRAM)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz));
	return real(fd, a, l);
}
EOF
cc -O2 -shared -fPIC -o "$W/rcvbuf.so" "$W/rcvbuf.c" -ldl || die "cannot build the rcvbuf shim"

# ---- helpers ----
TAKEN=" "
pick_port() { # VAR: a port free for UDP and TCP on this machine, not handed out before
	local p
	while :; do
		p=$((20000 + RANDOM % 40000))
		[[ "$TAKEN" == *" $p "* ]] && continue
		ss -Hauln "sport = :$p" 2>/dev/null | grep -q . && continue
		ss -Htln "sport = :$p" 2>/dev/null | grep -q . && continue
		break
	done
	TAKEN="$TAKEN$p "
	printf -v "$1" '%s' "$p"
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
	local i
	kill "$1" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

forget_pids() { PIDS=(); }

cpu_ticks() { # PID -> utime+stime, clock ticks (all threads, living and exited)
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo NA
}
cpu_user() { # PID -> utime, clock ticks
	awk '{ sub(/^.*\) /, ""); print $12 }' "/proc/$1/stat" 2>/dev/null || echo NA
}
sched_ns() { # PID -> CPU ns of its living threads (schedstat: exact, for the idle rate)
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f", s }'
}
now_s() { date +%s.%N; }

udp_sock() { # PORT FIELD(drops|rxq): from /proc/net/udp for 127.0.0.1:PORT (rxq: bytes queued)
	local v
	v=$(awk -v a="$(printf '0100007F:%04X' "$1")" -v f="$2" '$2 == a {
		if (f == "drops") print $NF; else { split($5, q, ":"); print q[2] }; exit }' /proc/net/udp)
	[ -n "$v" ] || { echo NA; return; }
	if [ "$2" = rxq ]; then echo $((16#$v)); else echo "$v"; fi
}

kv() { # FILE KEY -> value of "KEY value" lines
	awk -v k="$2" '$1 == k { print $2; exit }' "$1"
}

median() { sort -g | awk '{ a[NR] = $1 } END { if (!NR) print "NA"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# ---- 1. decode only ----
log "== decode only: flowdecode_sflow, flowdecode_netflow x $DECODE_RUNS"
DEC=$W/decode.tsv
: >"$DEC"
for ((i = 1; i <= DECODE_RUNS; i++)); do
	"$W/flowdecode_sflow" >"$W/fd-s.out" 2>&1 || die "flowdecode_sflow failed: $(cat "$W/fd-s.out")"
	"$W/flowdecode_netflow" >"$W/fd-n.out" 2>&1 || die "flowdecode_netflow failed: $(cat "$W/fd-n.out")"
	sed -n 's/^sflow: \([0-9]*\) records.*/sflow\t\1/p' "$W/fd-s.out" >>"$DEC"
	sed -n 's/^netflow v9: \([0-9]*\) records.*/v9\t\1/p; s/^ipfix: \([0-9]*\) records.*/ipfix\t\1/p' \
		"$W/fd-n.out" >>"$DEC"
	log "   $(tr '\n' ' ' <"$W/fd-s.out")"
	log "   $(tr '\n' ' ' <"$W/fd-n.out")"
done
DEC_SFLOW_DESC=$(sed -n '2p' "$W/fd-s.out" | sed 's/^ *//; s/;.*//; s/[()]//g')
DEC_V9_DESC=$(sed -n '2p' "$W/fd-n.out" | sed 's/^ *//; s/,.*//; s/[()]//g')
DEC_IPFIX_DESC=$(sed -n '4p' "$W/fd-n.out" | sed 's/^ *//; s/,.*//; s/[()]//g')

# ---- 2. export streams ----
SINK_PORT=
pick_port SINK_PORT
log "== capture: moat-gen"
"$W/moat-gen" -o "$W/cap.pcap" --snaplen 128 -s 1 -d $CAP_DUR --background 50k:hosts=200 \
	--attack udp:198.51.100.5:100k:start=5:dur=20:sources=0 \
	--attack "syn:[2001:db8:5::5]:50k:start=8:dur=15:sources=0" >"$W/gen.log" 2>&1 ||
	die "moat-gen failed: $(cat "$W/gen.log")"
CAP_DESC=$(sed -n 's/^moat-gen: \([0-9]* packets ([^)]*)\).*/\1/p' "$W/gen.log")
log "   $CAP_DESC"

# make_stream FMT: the exporter reads cap.pcap and exports to a sink on 127.0.0.1:SINK_PORT;
# tcpdump on lo keeps the datagrams as stream-FMT.pcap
declare -A EXPORTER_SAYS
make_stream() {
	local fmt=$1 out=$W/stream-$1.pcap sink td ex rc
	"$SEND" --sink "127.0.0.1:$SINK_PORT" >"$W/sink-$fmt.out" 2>&1 &
	sink=$!
	PIDS+=("$sink")
	wait_for "$W/sink-$fmt.out" listening 50 "$sink" || die "sink did not start: $(cat "$W/sink-$fmt.out")"
	tcpdump -i lo -n -s 0 -B 262144 -w "$out" \
		"udp and src host 127.0.0.1 and dst host 127.0.0.1 and dst port $SINK_PORT" 2>"$W/td-$fmt.err" &
	td=$!
	PIDS+=("$td")
	wait_for "$W/td-$fmt.err" "listening on" 100 "$td" || die "tcpdump did not start: $(cat "$W/td-$fmt.err")"
	case $fmt in
	v9 | ipfix)
		# -c none: softflowd 1.1.0 with -r blocks in accept() on its control socket before
		# reading a packet (until "softflowctl shutdown", which ends it with nothing read);
		# without a control socket it reads the file, flushes everything at EOF and exits.
		timeout 600 softflowd -d -r "$W/cap.pcap" -n "127.0.0.1:$SINK_PORT" \
			-v "$([ "$fmt" = v9 ] && echo 9 || echo 10)" -t maxlife=1 -t general=1 -t expint=1 \
			-m 1000000 -6 -p "$W/softflowd.pid" -c none >"$W/exporter-$fmt.log" 2>&1
		rc=$?
		EXPORTER_SAYS[$fmt]="softflowd $(pkgv softflowd): $(sed -n 's/^Flows exported: //p' "$W/exporter-$fmt.log")"
		;;
	sflow)
		cat >"$W/pmacctd.conf" <<EOF
daemonize: false
pcap_savefile: $W/cap.pcap
plugins: sfprobe
sfprobe_receiver: 127.0.0.1:$SINK_PORT
sampling_rate: 1
plugin_pipe_size: 268435456
plugin_buffer_size: 65536
logfile: $W/exporter-sflow.log
pidfile: $W/pmacctd.pid
EOF
		timeout 600 pmacctd -f "$W/pmacctd.conf" >"$W/exporter-sflow.out" 2>&1
		rc=$?
		EXPORTER_SAYS[$fmt]="pmacctd $(pkgv pmacct) sfprobe, sampling_rate 1"
		;;
	esac
	[ $rc = 0 ] || die "the $fmt exporter failed (rc $rc): $(tail -5 "$W"/exporter-$fmt.*)"
	sleep 1
	# on a shared machine something may end our tcpdump early (a kill by name): then try again
	local td_alive=1
	kill -0 "$td" 2>/dev/null || td_alive=0
	stop_pid "$td"
	stop_pid "$sink"
	forget_pids
	[ $td_alive = 1 ] || { log "   tcpdump ended before the exporter: $(tr '\n' ' ' <"$W/td-$fmt.err")"; return 1; }
	local dropped
	dropped=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$W/td-$fmt.err")
	[ "${dropped:-1}" = 0 ] || { log "   tcpdump dropped datagrams: $(tr '\n' ' ' <"$W/td-$fmt.err")"; return 1; }
	"$SEND" -r "$out" --count >"$W/stream-$fmt.count" || { log "   cannot read the $fmt stream"; return 1; }
	if [ "$fmt" != sflow ]; then
		# softflowd says "N flows (M records) in P packets": both must match the capture
		local said_r said_p
		said_r=$(sed -n 's/^Flows exported: .*(\([0-9]*\) records) in \([0-9]*\) packets.*/\1/p' "$W/exporter-$fmt.log")
		said_p=$(sed -n 's/^Flows exported: .*(\([0-9]*\) records) in \([0-9]*\) packets.*/\2/p' "$W/exporter-$fmt.log")
		[ "$said_r" = "$(kv "$W/stream-$fmt.count" records)" ] && [ "$said_p" = "$(kv "$W/stream-$fmt.count" datagrams)" ] ||
			{ log "   the $fmt stream does not hold what softflowd exported ($said_r records in $said_p datagrams): $(tr '\n' ' ' <"$W/stream-$fmt.count")"; return 1; }
	fi
	[ "$(kv "$W/stream-$fmt.count" seq_gaps)" = 0 ] || { log "   the $fmt stream has sequence gaps"; return 1; }
	log "   $fmt: $(tr '\n' ' ' <"$W/stream-$fmt.count")"
}
for fmt in $FORMATS; do
	case $fmt in v9 | ipfix | sflow) ;; *) die "unknown format $fmt (v9 ipfix sflow)" ;; esac
	log "== stream $fmt"
	for try in 1 2 3; do
		make_stream "$fmt" && break
		[ $try = 3 ] && die "could not record a complete $fmt stream"
		log "   again"
	done
done
rm -f "$W/cap.pcap"

# ---- 3. daemons ----
MOAT_NF='' MOAT_SF='' FNM_NF='' FNM_SF='' FNM_PROM=''
pick_port MOAT_NF
pick_port MOAT_SF
pick_port FNM_NF
pick_port FNM_SF
pick_port FNM_PROM

printf '198.51.100.0/24\n2001:db8:5::/48\n' >"$W/networks_list"
: >"$W/whitelist"
cat >"$W/moat.yaml" <<YAML
networks: [198.51.100.0/24, "2001:db8:5::/48"]
thresholds: {pps: 20000, mbps: 1000}
control: {socket: none}
history: {path: none}
capture:
  - netflow: {listen: "127.0.0.1:$MOAT_NF"}
  - sflow: {listen: "127.0.0.1:$MOAT_SF"}
YAML
"$MOATD" -t -c "$W/moat.yaml" >/dev/null || die "moatd refuses the config"

fnm_conf() { # RUNDIR
	local d=$1
	grep -v '^[[:space:]]*#' /etc/fastnetmon.conf | grep -v '^[[:space:]]*$' | sed \
		-e 's/^disable_usage_report *=.*/disable_usage_report = on/' \
		-e 's/^mirror_afpacket *=.*/mirror_afpacket = off/' \
		-e 's/^mirror_afxdp *=.*/mirror_afxdp = off/' \
		-e 's/^mirror_netmap *=.*/mirror_netmap = off/' \
		-e 's/^pcap *=.*/pcap = off/' \
		-e 's/^netflow *=.*/netflow = on/' \
		-e 's/^sflow *=.*/sflow = on/' \
		-e "s/^netflow_port *=.*/netflow_port = $FNM_NF/" \
		-e 's/^netflow_host *=.*/netflow_host = 127.0.0.1/' \
		-e "s/^sflow_port *=.*/sflow_port = $FNM_SF/" \
		-e 's/^sflow_host *=.*/sflow_host = 127.0.0.1/' \
		-e "s|^networks_list_path *=.*|networks_list_path = $W/networks_list|" \
		-e "s|^white_list_path *=.*|white_list_path = $W/whitelist|" \
		-e "s|^notify_script_path *=.*|notify_script_path = $d/notify.sh|" \
		-e "s|^pid_path *=.*|pid_path = $d/fnm.pid|" \
		-e "s|^cli_stats_file_path *=.*|cli_stats_file_path = $d/fnm.dat|" \
		-e "s|^cli_stats_ipv6_file_path *=.*|cli_stats_ipv6_file_path = $d/fnm6.dat|" \
		-e 's/^enable_api *=.*/enable_api = off/' \
		-e 's/^prometheus *=.*/prometheus = on/' \
		-e "s/^prometheus_port *=.*/prometheus_port = $FNM_PROM/" \
		-e 's/^prometheus_host *=.*/prometheus_host = 127.0.0.1/' \
		-e 's/^monitor_local_ip_addresses *=.*/monitor_local_ip_addresses = off/'
}
mk_notify() { # SCRIPT LOG: FastNetMon-style notify script: IP direction PPS action; details on stdin
	cat >"$1" <<EOF
#!/bin/sh
echo "\$(date +%s.%N) \$*" >>"$2"
cat >/dev/null
EOF
	chmod 755 "$1"
}

RAW=$W/raw.tsv
printf 'fmt\tdaemon\trep\trecs_sent\tdgrams_sent\trecs_counted\tv6_counted\tdgrams_counted\tdrops\tcpu_raw_s\tidle_ms_per_s\twindow_s\tcpu_s\tns_per_rec\tsend_s\tsend_lag_ms\tpool_full\tspread_now\tseq_lost\tdetected\tuser_s\tsys_s\n' >"$RAW"

# measure_feed PID FMT PORT DIR UNTIL: idle rate, then the feed; the window ends when the daemon's
# socket queue is empty (UNTIL = queue) or UNTIL s after the feed started, and at least 3 s after
# it ended. Leaves IDLE (ms/s), C0, C1 (ticks), T0, T1, SEND_END in globals.
measure_feed() {
	local pid=$1 fmt=$2 port=$3 d=$4 wait_until=$5
	local i0 i1 ti0 ti1
	sleep 2
	ti0=$(now_s)
	i0=$(sched_ns "$pid")
	sleep "$IDLE_S"
	i1=$(sched_ns "$pid")
	ti1=$(now_s)
	IDLE=$(awk -v a="$i0" -v b="$i1" -v t0="$ti0" -v t1="$ti1" 'BEGIN { printf "%.3f", (b - a) / 1e6 / (t1 - t0) }')
	C0=$(cpu_ticks "$pid")
	U0=$(cpu_user "$pid")
	T0=$(now_s)
	"$SEND" -r "$W/stream-$fmt.pcap" -t "127.0.0.1:$port" -R "$(rate_of "$fmt")" -n "$REPEAT" >"$d/send.out" 2>&1 ||
		die "flows-send failed: $(cat "$d/send.out")"
	SEND_END=$(now_s)
	[ "$(kv "$d/send.out" send_errors)" = 0 ] || die "flows-send had send errors: $(cat "$d/send.out")"
	if [ "$wait_until" = queue ]; then
		# FastNetMon accounts a record when it reads it: done when its socket queue is empty
		for ((i = 0; i < 300; i++)); do
			[ "$(udp_sock "$port" rxq)" = 0 ] && break
			sleep 0.1
		done
		sleep 1
	else
		local w
		w=$(awk -v t0="$T0" -v u="$wait_until" -v e="$SEND_END" -v n="$(now_s)" \
			'BEGIN { x = t0 + u; if (e + 3 > x) x = e + 3; x -= n; printf "%.3f", (x > 0 ? x : 0) }')
		sleep "$w"
	fi
	C1=$(cpu_ticks "$pid")
	U1=$(cpu_user "$pid")
	T1=$(now_s)
}

run_moatd() { # FMT REP
	local fmt=$1 rep=$2 kind port
	local d=$W/run-$fmt-moatd-$rep
	rm -rf "$d"
	mkdir -p "$d"
	if [ "$fmt" = sflow ]; then kind=sflow port=$MOAT_SF; else kind=netflow port=$MOAT_NF; fi
	"$MOATD" -c "$W/moat.yaml" --events "$d/events.json" --stats 2>"$d/moatd.log" &
	local pid=$!
	PIDS+=("$pid")
	wait_for "$d/moatd.log" "collecting sFlow" 100 "$pid" || die "moatd did not start: $(cat "$d/moatd.log")"
	# netflow: a replayed exporter's records are anchored 10 s after the first arrives and keep
	# the capture's spacing, so the last is due 10 + CAP_DUR s after the feed starts; sFlow
	# samples are accounted when they arrive
	measure_feed "$pid" "$fmt" "$port" "$d" "$([ "$kind" = netflow ] && echo $((10 + CAP_DUR + 5)) || echo 0)"
	kill -0 "$pid" 2>/dev/null || { forget_pids; log "   moatd ended during the run: $(tail -3 "$d/moatd.log")"; return 1; }
	stop_pid "$pid"
	forget_pids
	local ex col recs dg drops pool spread lost det
	ex=$(grep "^$kind exporter 127.0.0.1:" "$d/moatd.log" | tail -1)
	col=$(grep "^$kind 127.0.0.1:$port:" "$d/moatd.log" | tail -1)
	[ -n "$col" ] || { log "   moatd printed no $kind stats: $(tail -3 "$d/moatd.log")"; return 1; }
	recs=$(echo "$ex" | sed -n 's/.* datagrams, \([0-9]*\) records,.*/\1/p')
	dg=$(echo "$ex" | sed -n 's/.*127.0.0.1: \([0-9]*\) datagrams,.*/\1/p')
	lost=$(echo "$ex" | sed -n 's/.* \([0-9]*\) lost (sequence gaps).*/\1/p')
	drops=$(echo "$col" | sed -n 's/.*socket drops \([0-9]*\).*/\1/p')
	pool=$(echo "$col" | sed -n 's/.*(pool full \([0-9]*\)).*/\1/p')
	spread=$(echo "$col" | sed -n 's/.*spread now \([0-9]*\).*/\1/p')
	det=$(grep '"event":"attack_start"' "$d/events.json" 2>/dev/null | sed -n 's/.*"target":"\([^"]*\)".*/\1/p' | sort -u | paste -sd, -)
	emit_row "$fmt" moatd "$rep" "$d" "${recs:-0}" NA "${dg:-0}" "${drops:-NA}" "${pool:-NA}" "${spread:-NA}" "${lost:-NA}" "${det:-none}"
}

run_fnm() { # FMT REP VARIANT
	local fmt=$1 rep=$2 var=$3 port
	local d=$W/run-$fmt-fnm-$var-$rep
	rm -rf "$d"
	mkdir -p "$d"
	if [ "$fmt" = sflow ]; then port=$FNM_SF; else port=$FNM_NF; fi
	fnm_conf "$d" >"$d/fnm.conf"
	mk_notify "$d/notify.sh" "$d/notify.log"
	if [ "$var" = buf32 ]; then
		FLOWS_RCVBUF=$FNM_BUF LD_PRELOAD=$W/rcvbuf.so \
			fastnetmon --configuration_file "$d/fnm.conf" --log_file "$d/fnm.log" >"$d/fnm.out" 2>&1 &
	else
		fastnetmon --configuration_file "$d/fnm.conf" --log_file "$d/fnm.log" >"$d/fnm.out" 2>&1 &
	fi
	local pid=$!
	PIDS+=("$pid")
	wait_for "$d/fnm.log" "netflow plugin will listen" 100 "$pid" &&
		wait_for "$d/fnm.log" "sflow: plugin will listen" 50 "$pid" ||
		die "fastnetmon did not start: $(cat "$d/fnm.out" "$d/fnm.log")"
	if [ "$var" = buf32 ]; then
		grep -q "receive buffer size: $((2 * FNM_BUF)) bytes" "$d/fnm.log" ||
			die "the rcvbuf shim did not take: $(grep -i 'buffer size' "$d/fnm.log")"
	fi
	measure_feed "$pid" "$fmt" "$port" "$d" queue
	kill -0 "$pid" 2>/dev/null || { forget_pids; log "   fastnetmon ended during the run: $(tail -3 "$d/fnm.log")"; return 1; }
	local drops
	drops=$(udp_sock "$port" drops)
	curl -s -m 10 "http://127.0.0.1:$FNM_PROM/metrics" >"$d/metrics.txt"
	stop_pid "$pid"
	forget_pids
	local recs v6 dg sent det
	m() { awk -v k="fastnetmon_$1" '$1 == k { print $2; exit }' "$d/metrics.txt"; }
	sent=$(kv "$d/send.out" sent)
	case $fmt in
	v9) recs=$(m netflow_v9_total_flows) v6=$(m netflow_v9_total_ipv6_flows) dg=$(m netflow_v9_total_packets) ;;
	ipfix) recs=$(m ipfix_total_flows) v6=$(m ipfix_total_ipv6_flows) dg=$((sent - ${drops:-0})) ;;
	sflow)
		# 1.2.4 exports no sFlow counters; every flow sample becomes one "simple packet"
		recs=$(m total_simple_packets_processed)
		v6=$((${recs:-0} - $(m total_ipv4_packets)))
		dg=$((sent - ${drops:-0}))
		;;
	esac
	det=$(awk '$NF == "ban" { print $2 }' "$d/notify.log" 2>/dev/null | sort -u | paste -sd, -)
	emit_row "$fmt" "fnm-$var" "$rep" "$d" "${recs:-NA}" "${v6:-NA}" "${dg:-NA}" "${drops:-NA}" NA NA NA "${det:-none}"
}

emit_row() { # FMT DAEMON REP DIR RECS V6 DGRAMS DROPS POOL SPREAD LOST DETECTED
	local fmt=$1 who=$2 rep=$3 d=$4
	local rs ds raw win cpu nsr
	rs=$(($(kv "$W/stream-$fmt.count" records) * REPEAT))
	ds=$(kv "$d/send.out" sent)
	raw=$(awk -v a="$C0" -v b="$C1" -v hz="$HZ" 'BEGIN { printf "%.3f", (b - a) / hz }')
	win=$(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.3f", b - a }')
	cpu=$(awk -v r="$raw" -v i="$IDLE" -v w="$win" 'BEGIN { printf "%.3f", r - i * w / 1000 }')
	nsr=$(awk -v c="$cpu" -v n="$rs" 'BEGIN { printf "%.1f", c * 1e9 / n }')
	local us ss
	us=$(awk -v a="$U0" -v b="$U1" -v hz="$HZ" 'BEGIN { printf "%.3f", (b - a) / hz }')
	ss=$(awk -v r="$raw" -v u="$us" 'BEGIN { printf "%.3f", r - u }')
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
		"$fmt" "$who" "$rep" "$rs" "$ds" "$5" "$6" "$7" "$8" "$raw" "$IDLE" "$win" "$cpu" "$nsr" \
		"$(kv "$d/send.out" seconds)" "$(kv "$d/send.out" max_lag_ms)" "$9" "${10}" "${11}" "${12}" "$us" "$ss" >>"$RAW"
	log "   $fmt $who #$rep: records $5 of $rs, datagrams $7 of $ds, drops $8, cpu ${raw}s - idle ${IDLE} ms/s x ${win}s = ${cpu}s, $nsr ns/record; detected ${12}"
	[ "${KEEP:-0}" = 1 ] || rm -rf "$d"
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
log "== end to end: $REPS runs x {$FORMATS} x {moatd, FastNetMon $FNM_VARIANTS}; datagrams/s v9 $RATE_V9, IPFIX $RATE_IPFIX, sFlow $RATE_SFLOW"
for fmt in $FORMATS; do
	for ((rep = 1; rep <= REPS; rep++)); do
		order=(moatd)
		for v in $FNM_VARIANTS; do order+=("fnm:$v"); done
		n=${#order[@]}
		for ((k = 0; k < n; k++)); do
			who=${order[$(((k + rep - 1) % n))]}
			for try in 1 2 3; do
				if [ "$who" = moatd ]; then run_moatd "$fmt" "$rep"; else run_fnm "$fmt" "$rep" "${who#fnm:}"; fi && break
				[ $try = 3 ] && die "$who: three failed runs"
				log "   again"
			done
		done
	done
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report ----
report() {
	echo "## Flow telemetry: decode rate and CPU per record against FastNetMon"
	echo
	echo "- command: \`REPS=$REPS RATE_V9=$RATE_V9 RATE_IPFIX=$RATE_IPFIX RATE_SFLOW=$RATE_SFLOW REPEAT=$REPEAT FORMATS=\"$FORMATS\" bench/flows-fnm.sh\`"
	echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "- machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), nproc $(nproc); kernel $(uname -r); load average $LOAD_START at the start, $LOAD_END at the end"
	echo "- $MOAT_VERSION (built from tree $TREE at the start of the run)"
	echo "- FastNetMon $FNM_VERSION (Debian $(pkgv fastnetmon)); softflowd $(pkgv softflowd); pmacct $(pkgv pmacct)"
	echo
	echo "### Decode only (one core, no I/O)"
	echo
	echo "| format | records/s per core, median of $DECODE_RUNS | min-max | ns per record | datagram |"
	echo "|---|---|---|---|---|"
	local f desc
	for f in v9 ipfix sflow; do
		case $f in v9) desc=$DEC_V9_DESC ;; ipfix) desc=$DEC_IPFIX_DESC ;; sflow) desc=$DEC_SFLOW_DESC ;; esac
		awk -F'\t' -v f="$f" '$1 == f { print $2 }' "$DEC" | sort -g | awk -v f="$f" -v desc="$desc" '
			{ a[NR] = $1 } END {
				if (!NR) exit
				m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
				name = f == "v9" ? "NetFlow v9" : f == "ipfix" ? "IPFIX" : "sFlow v5"
				printf "| %s | **%.2f M** | %.2f-%.2f M | %.1f | %s |\n", name, m / 1e6, a[1] / 1e6, a[NR] / 1e6, 1e9 / m, desc
			}'
	done
	echo
	echo "### End to end: the same export stream to each daemon"
	echo
	echo "Capture: moat-gen $CAP_DESC over $CAP_DUR s. Sent with bench/flows-send (rate per format below) to 127.0.0.1,"
	echo "the stream $REPEAT time(s) per run; no other daemon of this benchmark running while one is fed. CPU: utime+stime from"
	echo "/proc/PID/stat over the feed (moatd: until its replayed records' time has passed), minus the daemon's"
	echo "idle rate (measured ${IDLE_S} s before the feed) over the same time. Median of $REPS runs."
	echo
	for f in $FORMATS; do
		local name cnt
		case $f in v9) name="NetFlow v9" ;; ipfix) name="IPFIX" ;; sflow) name="sFlow v5 (1 in 1)" ;; esac
		cnt=$W/stream-$f.count
		echo "#### $name: $(kv "$cnt" records) records ($(kv "$cnt" records_v6) IPv6) in $(kv "$cnt" datagrams) datagrams at $(rate_of "$f")/s"
		echo
		echo "From ${EXPORTER_SAYS[$f]}."
		echo
		echo "| daemon | records counted (min-max) | IPv6 records | datagrams received / sent | socket drops (max) | idle ms/s | CPU s, net (user / sys raw) | **ns CPU per record sent** | vs moatd | ns per record counted | M records per CPU s | attacks flagged |"
		echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
		awk -F'\t' -v f="$f" '
		function med(s,   n, a, i, j, t) {
			n = split(s, a, " "); if (n == 0) return "NA"
			for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		function mn(s,   n, a, i, m) { n = split(s, a, " "); m = a[1]; for (i = 2; i <= n; i++) if (a[i] + 0 < m + 0) m = a[i]; return m }
		function mx(s,   n, a, i, m) { n = split(s, a, " "); m = a[1]; for (i = 2; i <= n; i++) if (a[i] + 0 > m + 0) m = a[i]; return m }
		NR == 1 || $1 != f { next }
		{
			w = $2; if (!(w in seen)) { seen[w] = 1; order[++n] = w }
			rc[w] = rc[w] " " $6; v6[w] = v6[w] " " $7; dc[w] = dc[w] " " $8; ds[w] = ds[w] " " $5
			dr[w] = dr[w] " " $9; idle[w] = idle[w] " " $11; cpu[w] = cpu[w] " " $13; ns[w] = ns[w] " " $14
			nsc[w] = nsc[w] " " ($6 + 0 > 0 ? $13 * 1e9 / $6 : "NA"); us[w] = us[w] " " $21; sy[w] = sy[w] " " $22
			det[w] = det[w] == "" || det[w] == $20 ? $20 : det[w] " / " $20
			pool[w] = pool[w] " " $17; sp[w] = sp[w] " " $18; lost[w] = lost[w] " " $19; lag[w] = lag[w] " " $16
		}
		END {
			base = med(ns["moatd"])
			for (i = 1; i <= n; i++) {
				w = order[i]
				name = w == "moatd" ? "**moatd**" : w == "fnm-packaged" ? "FastNetMon (packaged socket buffer)" : w == "fnm-buf32" ? "FastNetMon (32 MiB socket buffer)" : w
				r = mn(rc[w]) == mx(rc[w]) ? mn(rc[w]) : mn(rc[w]) "-" mx(rc[w])
				d = mn(dc[w]) == mx(dc[w]) ? mn(dc[w]) : mn(dc[w]) "-" mx(dc[w])
				printf "| %s | %s | %s | %s / %s | %s | %.2f | %.3f (%.2f / %.2f) | **%.0f** | %s | %.0f | %.2f | %s |\n", name, r,
					(mn(v6[w]) == "NA" ? "-" : med(v6[w])), d, med(ds[w]), mx(dr[w]), med(idle[w]), med(cpu[w]), med(us[w]), med(sy[w]), med(ns[w]),
					(w == "moatd" || base == "NA" || base == 0 ? "1" : sprintf("%.2fx", med(ns[w]) / base)),
					med(nsc[w]), 1000 / med(ns[w]), det[w]
			}
			if ("moatd" in seen)
				printf "\nmoatd: spread pool full %s records (median; accounted at once instead of spread), spread still pending at exit (max) %s, \"lost (sequence gaps)\" %s; sender max lag %s ms (median).\n",
					med(pool["moatd"]), mx(sp["moatd"]), med(lost["moatd"]), med(lag["moatd"])
		}' "$RAW"
		echo
	done
	echo "<details><summary>raw runs</summary>"
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
