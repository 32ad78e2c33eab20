#!/bin/sh
# Dashboard in a browser against a live moatd: moatd (ASan build) captures on prot0 in a namespace
# lab and serves its API and dashboard on 127.0.0.1:18080 inside the protected namespace; light
# background traffic comes from the other namespace; Debian's Chromium, driven by playwright-core
# (tests/web/dashboard.mjs), runs in the protected namespace too. Checked: the page loads with no
# console or page errors and asks nothing of anyone but moatd; the live chart moves; a UDP flood
# started during the test is in the active attacks table within 2 s of its attack_start line in
# the events file; its attack page shows the timeline; the history lists it. Then moatd again,
# bound to prot0's address with a token: the page asks for it once and sends it. Screenshots go
# to build/artifacts/web/. Fails (never skips) when node, Chromium or playwright-core is missing:
# `cd web && npm ci` installs playwright-core; Chromium is Debian's chromium package.
: "${MOAT_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$MOAT_ROOT/tests/replay/lib.sh"
. "$MOAT_ROOT/tools/lab.sh"

ART=${WEB_ARTIFACTS:-$MOAT_ROOT/build/artifacts/web}
PORT=18080
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export CHROMIUM
pid= nodepid= floodpid= bgpids=

cleanup() {
	for p in $floodpid $bgpids $nodepid; do kill "$p" 2>/dev/null; done
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		wait "$pid" 2>/dev/null
	fi
	lab_down
}
trap 'cleanup' EXIT
trap 'exit 1' INT TERM

need() { # what is missing, then the command that must succeed
	m=$1
	shift
	"$@" >/dev/null 2>&1 || { echo "FAIL: $m"; exit 1; }
}
[ "$(id -u)" = 0 ] || { echo "FAIL: needs root for network namespaces"; exit 1; }
need "node is missing (Debian: apt-get install nodejs npm)" command -v node
need "node $(node --version 2>/dev/null) is too old: playwright-core needs node 20 or later" \
	node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)'
need "Chromium is missing at $CHROMIUM (Debian: apt-get install chromium)" test -x "$CHROMIUM"
need "playwright-core is not installed: run 'cd web && npm ci'" \
	node -e "require.resolve('playwright-core', {paths: ['$MOAT_ROOT/web']})"
need "uPlot is not installed: run 'cd web && npm ci'" test -f "$MOAT_ROOT/web/node_modules/uplot/dist/uPlot.iife.min.js"
need "hping3 is missing (Debian: apt-get install hping3)" command -v hping3
need "curl is missing" command -v curl
need "no moatd at $MOATD (make asan)" test -x "$MOATD"

mkdir -p "$ART" "$T/ctl" || exit 1
rm -f "$ART"/*.png "$ART"/results*.txt "$ART"/attack-latency.json "$ART"/requests.txt
lab_up || { echo "FAIL: cannot build the lab (ip netns, veth)"; exit 1; }

cat >"$T/moat.yaml" <<YAML
networks: [198.51.100.0/24, 2001:db8:5::/48]
thresholds: {pps: 2000}
detection: {cooldown: 3, update_interval: 1}
control: {socket: none}
api: {listen: 127.0.0.1:$PORT}
history: {path: $T/history.db}
capture:
  - af_packet: {interface: prot0, workers: 2, ring_mb: 16}
YAML
# ip netns exec execs moatd, so $! is moatd itself
ip netns exec "$LAB_PROT" "$MOATD" -c "$T/moat.yaml" --events "$T/ev.json" 2>"$T/moatd.log" &
pid=$!
api_up() { lab_prot curl -sf -o /dev/null "http://127.0.0.1:$PORT/api/v1/health"; }
if ! wait_for 15 api_up; then
	cat "$T/moatd.log"
	echo "FAIL: moatd's API does not answer on 127.0.0.1:$PORT in the protected namespace"
	exit 1
fi
ok "moatd serves its API on 127.0.0.1:$PORT"

# background: a few packets a second to three hosts. ip netns exec execs the command, so $! is
# the sender itself and can be stopped by pid (a backgrounded lab_inet would be a subshell)
ip netns exec "$LAB_INET" ping -q -i 0.2 198.51.100.5 >/dev/null 2>&1 &
bgpids=$!
ip netns exec "$LAB_INET" hping3 -q --udp -p 53 -i u100000 198.51.100.6 >/dev/null 2>&1 &
bgpids="$bgpids $!"
ip netns exec "$LAB_INET" hping3 -q -S -p 443 -i u250000 198.51.100.7 >/dev/null 2>&1 &
bgpids="$bgpids $!"
sleep 3 # a few seconds of traffic in the charts

# the browser; the flood when it asks for one, stopped when it has seen the attack page
ip netns exec "$LAB_PROT" node "$MOAT_ROOT/tests/web/dashboard.mjs" "http://127.0.0.1:$PORT/" "$ART" \
	--events "$T/ev.json" --control "$T/ctl" >"$T/node.log" 2>&1 &
nodepid=$!
while kill -0 "$nodepid" 2>/dev/null && [ ! -f "$T/ctl/ready" ]; do sleep 0.05; done
if [ -f "$T/ctl/ready" ]; then
	# UDP to a closed port: the protected side's answers (ICMP) are rate-limited by lab_up
	ip netns exec "$LAB_INET" hping3 -q --flood --udp -p 9 -d 64 198.51.100.5 >"$T/flood.log" 2>&1 &
	floodpid=$!
	while kill -0 "$nodepid" 2>/dev/null && [ ! -f "$T/ctl/stop" ]; do sleep 0.1; done
	kill "$floodpid" 2>/dev/null
	wait "$floodpid" 2>/dev/null
	floodpid=
fi
wait "$nodepid"
noderc=$?
nodepid=

stop_moatd() { # what
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	pid=
	check "moatd ($1): clean exit on SIGTERM, no sanitizer report (rc $rc)" [ $rc -eq 0 ]
	[ $rc -eq 0 ] || cat "$T/moatd.log"
}
results() { # FILE: the browser's checks, one by one (and whatever else it said)
	grep -v -E '^(ok|FAIL): |^[0-9]+ passed, [0-9]+ failed$' "$T/node.log"
	[ -f "$1" ] || return 0
	while IFS= read -r line; do
		case $line in
		"ok: "*) ok "${line#ok: }" ;;
		"FAIL: "*) bad "${line#FAIL: }" ;;
		esac
	done <"$1"
}
results "$ART/results.txt"
check "the browser test finished (node exit $noderc)" [ "$noderc" -eq 0 ]
for s in overview attack history; do
	check "screenshot $ART/$s.png" sh -c "head -c 8 '$ART/$s.png' 2>/dev/null | od -An -c | grep -q 'P   N   G'"
done
[ -f "$ART/attack-latency.json" ] && echo "attack_start to row visible: $(jq -c . "$ART/attack-latency.json")"
for p in $bgpids; do kill "$p" 2>/dev/null; done
bgpids=
stop_moatd "open API on loopback"

# the token form: bound beyond loopback (prot0's own address) moatd wants its token for GETs too
TOKEN=moat-web-test-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
sed -e "s|^api: .*|api: {listen: 192.0.2.2:$PORT, token: $TOKEN}|" "$T/moat.yaml" >"$T/token.yaml"
ip netns exec "$LAB_PROT" "$MOATD" -c "$T/token.yaml" --events "$T/ev2.json" 2>"$T/moatd.log" &
pid=$!
api_up() { lab_prot curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" "http://192.0.2.2:$PORT/api/v1/health"; }
if wait_for 15 api_up; then
	code=$(lab_prot curl -s -o /dev/null -w '%{http_code}' "http://192.0.2.2:$PORT/api/v1/status")
	check "without the token: 401 (got $code)" [ "$code" = 401 ]
	ip netns exec "$LAB_PROT" node "$MOAT_ROOT/tests/web/dashboard.mjs" "http://192.0.2.2:$PORT/" "$ART" \
		--auth "$TOKEN" >"$T/node.log" 2>&1
	noderc=$?
	results "$ART/results-token.txt"
	check "the token test finished (node exit $noderc)" [ "$noderc" -eq 0 ]
else
	bad "moatd with a token does not answer on 192.0.2.2:$PORT: $(tail -3 "$T/moatd.log")"
fi
stop_moatd "token, on 192.0.2.2"
lab_down
check "lab removed" sh -c "! ip netns list | grep -q 'moat-.*-$LAB_ID'"
finish
