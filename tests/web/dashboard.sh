#!/bin/sh
# Dashboard in a browser against a live moatd: moatd (ASan build) captures on prot0 in a namespace
# lab and serves its API and dashboard on 127.0.0.1:18080 inside the protected namespace; light
# background traffic comes from the other namespace; Debian's Chromium, driven by playwright-core
# (tests/web/dashboard.mjs), runs in the protected namespace too. Checked: the page loads with no
# console or page errors and asks nothing of anyone but moatd; the live chart moves; a UDP flood
# started during the test is in the active attacks table within 2 s of its attack_start line in
# the events file; its attack page shows the timeline; the history lists it. moatd's XDP scrubber
# is on prot0 (its maps pinned on a bpffs mounted in $T: ip netns exec gives moatd a /sys of its
# own): the flood gets an automatic drop rule, the overview and the attack page show it with its
# counters, and the attack page's evidence link downloads, in the browser, the pcap of the samples
# the rule dropped: a pcap (magic, size) that tcpdump reads, every packet the flood's (UDP to
# 198.51.100.5 port 9, 64 bytes of payload), byte for byte the file in evidence_dir. Then moatd
# again, bound to prot0's address with a token: the page asks for it once and sends it, and the
# evidence link (fetched with the token, saved from a blob) downloads the same file. Screenshots
# and the downloads go to build/artifacts/web/. moatd --unload and the bpffs' umount at the end.
# Fails (never skips) when node, Chromium or playwright-core is missing: `cd web && npm ci`
# installs playwright-core; Chromium is Debian's chromium package.
: "${MOAT_ROOT:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$MOAT_ROOT/tests/replay/lib.sh"
. "$MOAT_ROOT/tools/lab.sh"

ART=${WEB_ARTIFACTS:-$MOAT_ROOT/build/artifacts/web}
PORT=18080
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export CHROMIUM
pid= nodepid= floodpid= bgpids=
# ip netns exec gives moatd a /sys of its own, whose /sys/fs/bpf dies with it: the scrubber's maps
# are pinned on a bpffs mounted here, which the namespaced moatd sees too
BPFFS="$T/bpffs"
EVIDENCE_PACKETS=400 # samples kept: the evidence is complete (and the download final) at this many

cleanup() {
	# subshells ($(...), &) run this trap too in dash: only the test's own shell cleans up
	[ "$(exec sh -c 'echo $PPID')" = "$$" ] || return 0
	for p in $floodpid $bgpids $nodepid; do kill "$p" 2>/dev/null; done
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		wait "$pid" 2>/dev/null
	fi
	# the program outlives moatd on prot0 (gone with the lab anyway), its maps the bpffs' umount
	[ -f "$T/moat.yaml" ] && ip netns list | grep -q "^$LAB_PROT\b" &&
		ip netns exec "$LAB_PROT" "$MOATD" --unload -c "$T/moat.yaml" >/dev/null 2>&1
	lab_down
	if mountpoint -q "$BPFFS"; then umount "$BPFFS"; fi
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
need "tcpdump is missing (Debian: apt-get install tcpdump)" command -v tcpdump
need "jq is missing (Debian: apt-get install jq)" command -v jq
need "no moatd at $MOATD (make asan)" test -x "$MOATD"

mkdir -p "$ART" "$T/ctl" || exit 1
rm -f "$ART"/*.png "$ART"/results*.txt "$ART"/attack-latency.json "$ART"/requests.txt "$ART"/*.pcap
lab_up || { echo "FAIL: cannot build the lab (ip netns, veth)"; exit 1; }
mkdir -p "$BPFFS" && mount -t bpf bpf "$BPFFS" || { echo "FAIL: cannot mount a bpffs on $BPFFS"; exit 1; }

# cooldown 10: the capture behind the scrubber stops seeing the flood once its rule is in place,
# so the attack ends a cooldown later while the flood goes on; 10 s keeps it in the active
# attacks table while the browser looks at it there. hold 2: the rule ends soon after the flood.
cat >"$T/moat.yaml" <<YAML
networks: [198.51.100.0/24, 2001:db8:5::/48]
thresholds: {pps: 2000}
detection: {cooldown: 10, update_interval: 1}
control: {socket: none}
api: {listen: 127.0.0.1:$PORT}
history: {path: $T/history.db}
capture:
  - af_packet: {interface: prot0, workers: 2, ring_mb: 16}
scrubber:
  interfaces: [prot0]
  hold: 2
  sample_every: 10
  evidence_packets: $EVIDENCE_PACKETS
  evidence_dir: $T/evidence
  pin_dir: $BPFFS/moat
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
check "moatd attached its scrubber to prot0: $(grep -o 'XDP attached to prot0 in [a-z]* mode' "$T/moatd.log")" \
	grep -q "XDP attached to prot0" "$T/moatd.log"

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
	--events "$T/ev.json" --control "$T/ctl" --evidence "$EVIDENCE_PACKETS" >"$T/node.log" 2>&1 &
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
for s in overview attack attack-mitigation history; do
	check "screenshot $ART/$s.png" sh -c "head -c 8 '$ART/$s.png' 2>/dev/null | od -An -c | grep -q 'P   N   G'"
done
[ -f "$ART/attack-latency.json" ] && echo "attack_start to row visible: $(jq -c . "$ART/attack-latency.json")"

# the evidence the browser downloaded: tcpdump reads it, every packet is the flood's (hping3's
# UDP to 198.51.100.5 port 9 with 64 bytes of payload, from inet0), and it is the scrubber's file
aid=$(jq -r 'select(.event == "attack_start" and .target == "198.51.100.5") | .id' "$T/ev.json" 2>/dev/null | head -1)
evcheck() { # FILE WHAT: tcpdump reads FILE to its end, every packet the flood's
	# -q: no dissection past UDP (a source port may look like some protocol's to tcpdump)
	tcpdump -qnr "$1" >"$T/td.out" 2>"$T/td.err"
	_rc=$?
	_n=$(wc -l <"$T/td.out")
	_m=$(tcpdump -qnr "$1" 'udp and src host 192.0.2.1 and dst host 198.51.100.5 and dst port 9 and udp[4:2] == 72' 2>/dev/null |
		wc -l)
	check "tcpdump -r reads $2 (rc $_rc$(grep -v '^reading from' "$T/td.err" | head -2 | sed 's/^/: /' | tr '\n' ' ')): $_n packets, $_m of them the flood's (UDP 192.0.2.1 > 198.51.100.5.9, 64 bytes)" \
		sh -c "[ $_rc -eq 0 ] && [ $_n -ge 10 ] && [ $_m -eq $_n ]"
	echo "  first: $(head -1 "$T/td.out")"
}
if [ -n "$aid" ] && [ -f "$ART/evidence.pcap" ]; then
	evcheck "$ART/evidence.pcap" "the downloaded evidence"
	check "the download is the scrubber's evidence file $T/evidence/$aid.pcap, byte for byte ($(wc -c <"$ART/evidence.pcap") bytes)" \
		cmp -s "$ART/evidence.pcap" "$T/evidence/$aid.pcap"
else
	bad "no evidence download to look at (attack ${aid:-none}, $ART/evidence.pcap $([ -f "$ART/evidence.pcap" ] && echo there || echo missing))"
fi
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
		--auth "$TOKEN" ${aid:+--attack "$aid"} >"$T/node.log" 2>&1
	noderc=$?
	results "$ART/results-token.txt"
	check "the token test finished (node exit $noderc)" [ "$noderc" -eq 0 ]
	if [ -n "$aid" ]; then
		check "with the token, the evidence saved from the page's blob is the same file ($(wc -c <"$ART/evidence-token.pcap" 2>/dev/null) bytes)" \
			cmp -s "$ART/evidence-token.pcap" "$T/evidence/$aid.pcap"
	fi
else
	bad "moatd with a token does not answer on 192.0.2.2:$PORT: $(tail -3 "$T/moatd.log")"
fi
stop_moatd "token, on 192.0.2.2"
ip netns exec "$LAB_PROT" "$MOATD" --unload -c "$T/token.yaml" >"$T/unload.log" 2>&1
rc=$?
check "moatd --unload (rc $rc): $(tr '\n' ' ' <"$T/unload.log")" [ $rc -eq 0 ]
check "no program on prot0" sh -c "! ip -n '$LAB_PROT' link show prot0 | grep -q xdp"
check "no pinned maps left in $BPFFS/moat" sh -c "[ -z \"\$(ls -A '$BPFFS/moat' 2>/dev/null)\" ]"
lab_down
check "lab removed" sh -c "! ip netns list | grep -q 'moat-.*-$LAB_ID'"
umount "$BPFFS"
check "bpffs unmounted" sh -c "! mountpoint -q '$BPFFS'"
finish
