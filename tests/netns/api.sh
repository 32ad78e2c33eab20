#!/bin/sh
# The HTTP API (docs/api.md) end to end, in the routed lab of tools/lab.sh (slab): moatd (ASan
# build) captures on prot0 with its XDP scrubber there, the API on 127.0.0.1:18080 inside the
# protected namespace, history in $T/history.db. A capture made by moat-gen (a DNS reflection on
# 198.51.100.5 over a steady TCP stream to it and background traffic to other hosts) is replayed
# from the attacker namespace by tests/netns/api/replay.py (tcpreplay-like: paced to its
# timestamps, MACs rewritten for the router); the protected side floods out from 198.51.100.6
# with hping3 (an outgoing attack: no scrubber rule, so no evidence).
#
# Every route is asked with curl inside the namespace and its values checked: health, status,
# top, hosts, attacks, history, attacks/ID, its evidence pcap, mitigations, scrubber rules (add,
# list, duplicate, delete), bgp (503 without a bgp section), exporters, traffic, config check,
# reload (a broken file refused, the old config kept; a new token applied), /metrics (every line
# parses), the dashboard files. Auth: tokens on loopback; a moatd without a token (403 for
# changes); one on a non-loopback IPv6 address (reads need the token, the dashboard does not);
# one over TLS on a non-loopback IPv4 address. Bad input (bad JSON, unknown member, 64 KiB+
# bodies, unknown parameters, routes and methods), requests and replies larger than one read or
# write of libmicrohttpd's (answered without a tick's wait per piece), and 200 garbage requests
# (tests/netns/api/garbage.py); moatd keeps answering and exits without a sanitizer report. The
# history survives a restart: ended attacks as they were, one active at the stop "interrupted".
. "$MOAT_ROOT/tests/replay/lib.sh"
. "$MOAT_ROOT/tools/lab.sh"
HERE="$MOAT_ROOT/tests/netns/api"
BPFFS="$T/bpffs"
PIN="$BPFFS/moat"
TOKEN=api-test-token-0123456789abcdef
TOKEN2=api-test-token-reloaded-fedcba987
API=http://127.0.0.1:18080/api/v1
ROOT=http://127.0.0.1:18080
pid=
replay=
xpids=
cleanup() {
	# subshells ($(...), &) run this trap too in dash: only the test's own shell cleans up
	[ "$(exec sh -c 'echo $PPID')" = "$$" ] || return 0
	for p in $replay $xpids $pid; do kill -TERM "$p" 2>/dev/null; done
	for p in $replay $xpids $pid; do wait "$p" 2>/dev/null; done
	[ -f "$T/moat.yaml" ] && ip netns exec "$LAB_PROT" "$MOATD" --unload -c "$T/moat.yaml" >/dev/null 2>&1
	slab_down
	umount "$BPFFS" 2>/dev/null
}
trap cleanup EXIT INT TERM

[ "$(id -u)" = 0 ] || { echo "FAIL: needs root for network namespaces and XDP"; exit 1; }
for tool in curl jq tcpdump python3 openssl hping3; do
	command -v $tool >/dev/null || { echo "FAIL: $tool is missing (make test installs it)"; exit 1; }
done
t_start=$(date +%s)
slab_up || { echo "FAIL: cannot build the lab (ip netns, veth)"; exit 1; }
mkdir -p "$BPFFS" && mount -t bpf bpf "$BPFFS" || { echo "FAIL: cannot mount a bpffs"; exit 1; }

# ---- helpers ----
# req METHOD URL [CURL-ARGS...]: the status in $code, the seconds it took in $secs, the body in
# $T/b, the headers in $T/h
req() {
	_m=$1 _u=$2
	shift 2
	_w=$(ip netns exec "$LAB_PROT" curl -sg -o "$T/b" -D "$T/h" -w '%{http_code} %{time_total}' \
		--max-time 20 -X "$_m" "$@" "$_u")
	code=${_w%% *} secs=${_w#* }
}
AUTH="Authorization: Bearer $TOKEN"
JSON="Content-Type: application/json"
# post URL BODY [CURL-ARGS...]: with the token
post() {
	_u=$1 _d=$2
	shift 2
	req POST "$_u" -H "$AUTH" -H "$JSON" --data-binary "$_d" "$@"
}
# jqb FILTER [ARGS...]: the last body passes jq -e FILTER
jqb() {
	_f=$1
	shift
	jq -e "$@" "$_f" "$T/b" >/dev/null 2>&1
}
# is STATUS FILTER [ARGS...]: the last status is STATUS and the body passes FILTER
is() {
	_s=$1
	shift
	[ "$code" = "$_s" ] && jqb "$@"
}
body() { # [FILTER [JQ-ARGS...]]: the last body, or part of it, on one line
	_f=${1:-.}
	[ $# -gt 0 ] && shift
	jq -c "$@" "$_f" "$T/b" 2>/dev/null | cut -c1-300
}
# missing PATH KEYS-JSON: the keys of docs/api.md that the object at PATH of the last body lacks
missing() { jq -c --argjson k "$2" "$1"' | $k - keys' "$T/b" 2>/dev/null; }
hdr() { tr -d '\r' <"$T/h" | grep -i "^$1:" | head -1 | cut -d' ' -f2-; }
err() { jq -r .error "$T/b" 2>/dev/null; }
# the sum of a metric's samples whose labels contain FILTER, in the metrics file $1
msum() { grep "^$2[{ ]" "$1" | grep -F -- "${3:-}" | awk '{ s += $NF } END { print s + 0 }'; }
alive() { kill -0 "$1" 2>/dev/null; }
# start_moatd CONFIG LOG: moatd in the protected namespace; the pid in $spid once it captures
start_moatd() {
	ip netns exec "$LAB_PROT" "$MOATD" -c "$1" --events "${2%.log}.events" 2>"$2" &
	spid=$!
	wait_for 20 grep -qs "capturing on" "$2"
}
# stop PID LOG NAME: SIGTERM, a clean exit, no sanitizer report
stop() {
	kill -TERM "$1"
	wait "$1"
	_rc=$?
	check "$3 exits cleanly on SIGTERM (rc $_rc), no sanitizer report in its log" \
		sh -c "[ $_rc -eq 0 ] && ! grep -q 'ERROR: AddressSanitizer\|runtime error:\|ERROR: LeakSanitizer' '$2'"
}

# ---- the configuration, the capture, a certificate ----
write_conf() { # TOKEN
	cat >"$T/moat.yaml" <<YAML
networks: [198.51.100.0/24, "2001:db8:5::/48"]
thresholds: {pps: 6000, udp_pps: 4000}
detection: {cooldown: 3, update_interval: 1}
capture:
  - af_packet: {interface: prot0, workers: 1, ring_mb: 16}
scrubber:
  interfaces: [prot0]
  hold: 3
  sample_every: 10
  evidence_packets: 1000
  evidence_dir: $T/evidence
  pin_dir: $PIN
control: {socket: $T/ctl.sock}
api:
  listen: 127.0.0.1:18080
  token: $1
history: {path: $T/history.db}
YAML
}
write_conf "$TOKEN"
cp "$T/moat.yaml" "$T/moat.yaml.orig"
# 8 s: background to 8 hosts; a steady TCP stream to 198.51.100.5, 300 pps of 700 bytes: under
# every threshold, few enough (under 5%) to stay out of the reflection's rule, and enough to keep
# the host first in top by pps and bps once the reflection is dropped at XDP; a 12 kpps DNS
# reflection (1000-byte answers) on it from second 1 to 7
"$MOAT_GEN" -o "$T/flood.pcap" -d 8 --truth "$T/truth.json" --background 1000:hosts=8 \
	--attack dns:198.51.100.5:12k:start=1:dur=6:len=1000 \
	--attack ack:198.51.100.5:300:start=0:dur=8:len=700:sources=4 2>"$T/gen.log"
check "moat-gen made the capture: $(cat "$T/gen.log")" test -s "$T/flood.pcap"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-keyout "$T/api.key" -out "$T/api.crt" -subj /CN=moat-api-test \
	-addext "subjectAltName=IP:192.0.2.2" >"$T/openssl.log" 2>&1
check "a self-signed certificate for 192.0.2.2" test -s "$T/api.crt"

start_moatd "$T/moat.yaml" "$T/moatd.log"
pid=$spid
check "moatd runs with the API: $(grep -o 'api: .*' "$T/moatd.log" | head -1)" \
	grep -q "api: http://127.0.0.1:18080/" "$T/moatd.log"

# ---- health, status, an idle daemon ----
req GET "$API/health"
check "GET health: 200 $(body)" is 200 '.ok == true and (.version | length > 0) and .uptime >= 0'
version=$(jq -r .version "$T/b")
req GET "$API/status"
K_STATUS='["version","pid","uptime","config","hosts","attacks_active","attacks_total","scrubber","history","api"]'
check "GET status: every member docs/api.md names (missing: $(missing . "$K_STATUS"))" [ "$(missing . "$K_STATUS")" = "[]" ]
check "GET status: 200 without a token on loopback; version, pid, config: $(body '{version, pid, config}')" \
	is 200 '.ok and .version == $v and .pid == ($p | tonumber) and .config == $c' \
	--arg v "$version" --arg p "$pid" --arg c "$T/moat.yaml"
check "status: history member: $(body .history)" \
	jqb '.history.path == $h and .history.write_errors == 0' --arg h "$T/history.db"
check "status: api member: $(body .api)" jqb '.api.listen == "127.0.0.1:18080" and .api.tls == false and .api.requests >= 1'
check "status: scrubber on prot0, auto: $(body '.scrubber | {interfaces, auto}')" \
	jqb '.scrubber.interfaces == ["prot0"] and .scrubber.auto == true'
req GET "$API/attacks"
check "GET attacks before any: $(body)" is 200 '.attacks == []'
req GET "$API/history"
check "GET history of a new database: $(body)" is 200 '.attacks == []'
req GET "$API/mitigations"
check "GET mitigations: no rules, routes null (no bgp): $(body)" is 200 '.rules == [] and .routes == null'
req GET "$API/exporters"
check "GET exporters: no collectors: $(body)" is 200 '.collectors == []'
for r in bgp/peers bgp/routes; do
	req GET "$API/$r"
	check "GET $r: 503 without a bgp section ($code): $(err)" is 503 '.ok == false and (.error | test("no bgp section"))'
done
post "$API/bgp/routes" '{"announce":"blackhole 198.51.100.5"}'
check "POST bgp/routes: 503 without a bgp section ($code): $(err)" is 503 '.ok == false'
for a in 198.51.100.77 2001:db8:5::77; do
	req GET "$API/hosts/$a"
	check "GET hosts/$a (no traffic): 404 ($code): $(err)" is 404 '.ok == false and (.error | test("not tracked"))'
done
for a in 198.51.100.300 not-an-address 2001:db8::zz; do
	req GET "$API/hosts/$a"
	check "GET hosts/$a: 400 ($code): $(err)" is 400 '.ok == false and (.error | test("not an IPv4 or IPv6 address"))'
done
req GET "$API/attacks/1700000000-99"
check "GET attacks/1700000000-99 (unknown): 404 ($code): $(err)" is 404 '.ok == false'
req GET "$API/attacks/1700000000-99/evidence.pcap"
check "GET attacks/1700000000-99/evidence.pcap (unknown): 404 ($code)" is 404 '.ok == false'

# ---- the dashboard's files ----
req GET "$ROOT/"
cp "$T/b" "$T/index.html"
check "GET /: 200 text/html ($code, $(hdr Content-Type))" \
	sh -c "[ $code = 200 ] && grep -qi '<html' '$T/b' && [ \"\$(echo '$(hdr Content-Type)' | cut -d';' -f1)\" = text/html ]"
csp=$(hdr Content-Security-Policy)
check "GET /: Content-Security-Policy: $csp" sh -c "echo \"$csp\" | grep -q \"default-src 'self'\""
for f in app.js uPlot.iife.min.js; do
	req GET "$ROOT/$f"
	n=$(wc -c <"$T/b")
	check "GET /$f: 200 text/javascript, $n bytes ($code, $(hdr Content-Type))" \
		sh -c "[ $code = 200 ] && [ $n -gt 1000 ] && [ \"\$(echo '$(hdr Content-Type)' | cut -d';' -f1)\" = text/javascript ]"
done
# everything the page loads is served, with its type
refs=$(grep -o '\(href\|src\)="[^"#][^"]*"' "$T/index.html" | sed 's/.*="\(.*\)"/\1/' | sort -u)
for f in $refs; do
	req GET "$ROOT/$f"
	ct=$(hdr Content-Type | cut -d';' -f1)
	case $f in *.js) want=text/javascript ;; *.css) want=text/css ;; *.svg) want=image/svg+xml ;; *) want=? ;; esac
	check "GET /$f (the page loads it): 200, $ct ($code)" sh -c "[ $code = 200 ] && [ '$ct' = '$want' ] && [ -s '$T/b' ]"
done
req GET "$ROOT/nothing-here.html"
check "GET /nothing-here.html: 404 ($code)" is 404 '.ok == false'

# ---- auth on loopback: changes need the token ----
req POST "$API/scrubber/rules" -H "$JSON" --data-binary '{"rule":"198.51.100.9 proto udp dport 9 drop"}'
www=$(hdr WWW-Authenticate)
check "POST scrubber/rules without a token: 401 ($code), WWW-Authenticate: $www" \
	sh -c "[ $code = 401 ] && [ '$www' = 'Bearer realm=\"moat\"' ]"
req DELETE "$API/scrubber/rules/0"
check "DELETE scrubber/rules/0 without a token: 401 ($code): $(err)" is 401 '.ok == false'
req POST "$API/reload"
check "POST reload without a token: 401 ($code)" is 401 '.ok == false'
req DELETE "$API/bgp/routes/1"
check "DELETE bgp/routes/1 without a token: 401 before anything else ($code)" is 401 '.ok == false'
req POST "$API/config/check" -H "Authorization: bearer $TOKEN"
check "the auth scheme is case-insensitive: 'bearer TOKEN' accepted ($code)" is 200 '.ok == true'
req POST "$API/scrubber/rules" -H "Authorization: Bearer ${TOKEN}x" -H "$JSON" \
	--data-binary '{"rule":"198.51.100.9 proto udp dport 9 drop"}'
check "POST scrubber/rules with a wrong token: 401 ($code): $(err)" is 401 '.error | test("wrong API token")'
req POST "$API/config/check" -H "Authorization: Basic $(printf 'u:%s' "$TOKEN" | base64)"
check "POST config/check with Basic auth instead of Bearer: 401 ($code)" is 401 '.ok == false'
req GET "$ROOT/metrics"
check "GET /metrics without a token on loopback: 200 ($code)" [ "$code" = 200 ]

# ---- scrubber rules by hand ----
post "$API/scrubber/rules" '{"rule":"198.51.100.9 proto udp dport 9 drop"}'
mid=$(jq -r '.rule.id // empty' "$T/b")
check "POST scrubber/rules: 201 with the rule: $(body .rule)" \
	is 201 '.rule.origin == "manual" and (.rule.text | test("proto udp dport 9 drop")) and .rule.target == "198.51.100.9"'
req GET "$API/scrubber/rules"
check "GET scrubber/rules lists it: $(body '[.rules[] | {id, text}]')" \
	is 200 '[.rules[] | select(.id == ($m | tonumber) and .origin == "manual")] | length == 1' --arg m "${mid:-x}"
post "$API/scrubber/rules" '{"rule":"198.51.100.9 proto udp dport 9 drop"}'
check "POST the same rule again: 409 ($code): $(err)" is 409 '.ok == false'
post "$API/scrubber/rules" '{"rule":"198.51.100.9 proto udp sport 99999 drop"}'
check "POST bad rule words: 400 naming the word ($code): $(err)" is 400 '.error | test("99999")'
req DELETE "$API/scrubber/rules/$mid" -H "$AUTH"
check "DELETE scrubber/rules/$mid: 200 ($code): $(body)" is 200 '.deleted == ($m | tonumber)' --arg m "${mid:-x}"
req GET "$API/scrubber/rules"
check "the rule is gone from the list: $(body '[.rules[] | .id]')" \
	is 200 '[.rules[] | select(.id == ($m | tonumber))] | length == 0' --arg m "${mid:-x}"
req DELETE "$API/scrubber/rules/$mid" -H "$AUTH"
check "DELETE scrubber/rules/$mid again: 404 ($code): $(err)" is 404 '.ok == false'
req DELETE "$API/scrubber/rules/4000000000" -H "$AUTH"
check "DELETE scrubber/rules/4000000000 (no such id): 404 ($code): $(err)" is 404 '.ok == false'

# ---- bad input ----
post "$API/scrubber/rules" '{"rule": "198.51.100.9 drop"'
check "POST a malformed JSON body: 400 naming the parse error ($code): $(err)" \
	is 400 '.error | test("not JSON: 1:[0-9]+: ")'
post "$API/scrubber/rules" '{"rules": "198.51.100.9 drop"}'
check "POST a body with a wrong member: 400 ($code): $(err)" is 400 ".error | test(\"unknown member 'rules'\")"
post "$API/scrubber/rules" '{"rule": 5}'
check "POST a body whose member is not a string: 400 ($code): $(err)" is 400 '.ok == false'
post "$API/scrubber/rules" '["198.51.100.9 drop"]'
check "POST a body that is not an object: 400 ($code): $(err)" is 400 '.ok == false'
post "$API/scrubber/rules" ''
check "POST without a body: 400 ($code): $(err)" is 400 '.ok == false'
python3 -c 'import sys; sys.stdout.write("{\"rule\": \"" + "x" * 70000 + "\"}")' >"$T/big.json"
post "$API/scrubber/rules" "@$T/big.json"
check "POST a 70 KB body: 413 ($code): $(err)" is 413 '.ok == false'
python3 -c 'import sys; sys.stdout.write("{\"rule\": \"" + "x" * (65536 - 12) + "\"}")' >"$T/edge.json"
post "$API/scrubber/rules" "@$T/edge.json"
check "POST a body of exactly 64 KiB is read (not 413) ($code, $(wc -c <"$T/edge.json") bytes): $(err | cut -c1-80)" is 400 '.ok == false'
post "$API/config/check" '{"x":1}'
check "POST config/check with a body: 400 ($code): $(err)" is 400 '.ok == false'
req GET "$API/top?foo=1"
check "GET top?foo=1: 400 naming it ($code): $(err)" is 400 ".error | test(\"unknown query parameter 'foo'\")"
req GET "$API/status?verbose=1"
check "GET status?verbose=1: 400 ($code): $(err)" is 400 '.error | test("takes none")'
for q in "top?by=packets" "top?limit=0" "top?limit=101" "top?direction=sideways" "traffic?seconds=601" \
	"traffic?seconds=abc" "history?limit=0" "history?before=yesterday" "history?target=bogus" \
	"top?limit" "history?target" "traffic?seconds="; do
	req GET "$API/$q"
	check "GET $q: 400 ($code): $(err)" is 400 '.ok == false'
done
# a path holding bytes that are not UTF-8: refused, and the reply that quotes them is still JSON
req GET "$API/hosts/198.51.100.%ff%fe"
check "GET hosts/<not UTF-8>: 400 with a reply that is UTF-8 JSON ($code)" \
	sh -c "[ $code = 400 ] && python3 -c 'import json,sys; json.loads(open(sys.argv[1], \"rb\").read().decode(\"utf-8\"))' '$T/b'"
for u in "$API/nope" "$API/attacks/x/y/z" "$ROOT/api/v2/health" "$ROOT/api/v1" "$API/scrubber/rules/1/2" "$API/attacks/bad%20id"; do
	req GET "$u"
	check "GET ${u#"$ROOT"}: 404 ($code): $(err)" is 404 '.ok == false'
done
req DELETE "$API/health" -H "$AUTH"
check "DELETE health: 405, Allow: $(hdr Allow) ($code)" sh -c "[ $code = 405 ] && [ '$(hdr Allow)' = 'GET, HEAD' ]"
req PUT "$API/scrubber/rules" -H "$AUTH"
check "PUT scrubber/rules: 405, Allow: $(hdr Allow) ($code)" sh -c "[ $code = 405 ] && [ '$(hdr Allow)' = 'GET, HEAD, POST' ]"
req GET "$API/reload"
check "GET reload: 405, Allow: $(hdr Allow) ($code)" sh -c "[ $code = 405 ] && [ '$(hdr Allow)' = 'POST' ]"
req POST "$ROOT/app.js" -H "$AUTH"
check "POST /app.js: 405, Allow: $(hdr Allow) ($code)" sh -c "[ $code = 405 ] && [ '$(hdr Allow)' = 'GET, HEAD' ]"

# a request too large for one read of libmicrohttpd's: the main loop must run it again at once
# (MHD_get_timeout), not a tick later for every piece
big=$(head -c 40000 /dev/zero | tr '\0' h)
t=$(ip netns exec "$LAB_PROT" curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 20 \
	-H "X-Big: $big" "$API/health")
check "GET with a 40 KB header is answered (4xx) within 2 s: $t" \
	sh -c "echo '$t' | awk '{ exit !(\$1 >= 400 && \$1 < 500 && \$2 < 2) }'"
python3 -c 'import sys; sys.stdout.write("{\"rule\": \"" + "x" * 60000 + "\"}")' >"$T/60k.json"
t=$(ip netns exec "$LAB_PROT" curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 20 \
	-H "$AUTH" -H "$JSON" -H "Expect:" --data-binary "@$T/60k.json" "$API/scrubber/rules")
check "POST of a 60 KB body in one piece is answered (400) within 2 s: $t" \
	sh -c "echo '$t' | awk '{ exit !(\$1 == 400 && \$2 < 2) }'"

# ---- config check and reload of a good file ----
req POST "$API/config/check" -H "$AUTH"
check "POST config/check: 200 ($code): $(body)" is 200 '.config == $c' --arg c "$T/moat.yaml"
req POST "$API/reload" -H "$AUTH"
check "POST reload: 200 ($code): $(body)" is 200 '.reloaded == $c' --arg c "$T/moat.yaml"

# ---- /metrics: every line parses ----
req GET "$ROOT/metrics"
cp "$T/b" "$T/metrics0"
ctype=$(hdr Content-Type)
check "GET /metrics: 200, $ctype" sh -c "[ $code = 200 ] && echo '$ctype' | grep -q '^text/plain; version=0.0.4'"
metrics_ok() { # FILE: every line a HELP, a TYPE or a sample of a declared family
	awk '
	/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* / { next }
	/^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped)$/ {
		if ($3 in fam) { print "two TYPE lines for " $3; bad++ }
		fam[$3] = 1; next
	}
	{
		if ($0 !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*\})? (-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?|NaN|[-+]Inf)$/) {
			print "bad line " NR ": " $0; bad++; next
		}
		n = $0; sub(/[{ ].*/, "", n); b = n; sub(/_(bucket|sum|count)$/, "", b)
		if (!(n in fam) && !(b in fam)) { print "no TYPE for " n; bad++ }
		samples++
	}
	END { if (!samples) print "no samples"; exit (bad || !samples) }' "$1"
}
metrics_ok "$T/metrics0" >"$T/metrics0.bad"
check "every /metrics line parses ($(grep -vc '^#' "$T/metrics0") samples) $(head -3 "$T/metrics0.bad" | tr '\n' ' ')" \
	[ ! -s "$T/metrics0.bad" ]
in0=$(msum "$T/metrics0" moat_traffic_packets_total 'direction="incoming"')

# ---- the flood ----
rmac=$(ip -n "$SLAB_RTR" -j link show ratt0 | jq -r '.[0].address')
ip netns exec "$SLAB_ATT" python3 "$HERE/replay.py" "$T/flood.pcap" att0 "$rmac" \
	198.51.100.0/24 2001:db8:5::/48 >"$T/replay.log" 2>&1 &
replay=$!
# an outgoing flood from 198.51.100.6, for 1.5 s
ip netns exec "$LAB_PROT" timeout -s INT 1.5 hping3 -i u50 -q --udp -p 9 -a 198.51.100.6 -d 100 \
	203.0.113.2 >"$T/hping.log" 2>&1 &
hping=$!
# the reflection's attack, as the API lists it
active() {
	req GET "$API/attacks"
	jqb '.attacks[] | select(.target == "198.51.100.5" and .direction == "incoming")'
}
check "the reflection on 198.51.100.5 appears in GET attacks" wait_for 10 active
att=$(jq -c '[.attacks[] | select(.target == "198.51.100.5")][0]' "$T/b")
aid=$(echo "$att" | jq -r .id)
echo "attack: $(echo "$att" | jq -c '{id, type, pps, bps, mitigations}')"
check "GET attacks: $aid active, incoming, $(echo "$att" | jq -r .type), with its fields" \
	sh -c "echo '$att' | jq -e '.active == true and .direction == \"incoming\" and .scope == \"host\" and .pps > 0 and .bps > 0 and .started > 0 and (.vector | type == \"object\") and (.thresholds_exceeded | length > 0)' >/dev/null"
check "GET attacks: its mitigations name the scrubber rule: $(echo "$att" | jq -c .mitigations)" \
	sh -c "echo '$att' | jq -e '.mitigations | length == 1 and .[0].kind == \"scrubber\" and (.[0].rule | test(\"proto udp sport 53\"))' >/dev/null"
rid=$(echo "$att" | jq -r '.mitigations[0].id // empty')
req GET "$API/scrubber/rules"
check "GET scrubber/rules: rule $rid is the attack's (auto): $(body '[.rules[] | {id, origin, attack, text}]')" \
	is 200 '[.rules[] | select(.id == ($r | tonumber) and .origin == "auto" and .attack == $a)] | length == 1' \
	--arg r "${rid:-x}" --arg a "$aid"
K_ATTACK='["id","target","scope","hostgroup","direction","type","pps","bps","peak_pps","peak_bps","thresholds_exceeded","rates","thresholds","started","duration","packets","bytes","vector","active","mitigations"]'
req GET "$API/attacks"
check "GET attacks: every member docs/api.md names (missing: $(missing '.attacks[0]' "$K_ATTACK"))" \
	[ "$(missing '.attacks[0]' "$K_ATTACK")" = "[]" ]
req GET "$API/hosts/198.51.100.5"
K_HOST='["host","hostgroup","protected","whitelisted","idle","incoming","outgoing"]'
K_DIR='["hot","pps","bps","flows","tcp_pps","udp_pps","icmp_pps","packets","bytes","attack"]'
check "GET hosts/198.51.100.5: every member docs/api.md names (missing: $(missing .host "$K_HOST") $(missing .host.incoming "$K_DIR") $(missing .host.outgoing "$K_DIR"))" \
	[ "$(missing .host "$K_HOST")$(missing .host.incoming "$K_DIR")$(missing .host.outgoing "$K_DIR")" = "[][][]" ]
check "GET hosts/198.51.100.5: tracked, protected, incoming rates and the attack: $(body '.host.incoming')" \
	is 200 '.host.host == "198.51.100.5" and .host.protected == true and .host.incoming.pps > 0 and .host.incoming.bps > 0 and .host.incoming.packets > 0 and .host.incoming.attack == $a' \
	--arg a "$aid"
for by in pps bps; do
	req GET "$API/top?by=$by"
	check "GET top?by=$by: 198.51.100.5 first, with its attack: $(body "[.hosts[] | {host, $by}] | .[0:3]")" \
		is 200 '.by == $b and .direction == "incoming" and .hosts[0].host == "198.51.100.5" and .hosts[0].attack == $a and .hosts[0][$b] > 0 and ([.hosts[][$b]] | . == (sort | reverse))' \
		--arg b "$by" --arg a "$aid"
done
K_TOP='["host","hostgroup","pps","bps","flows","tcp_pps","udp_pps","icmp_pps","attack"]'
check "GET top: every member docs/api.md names (missing: $(missing . '["by","direction","ts","hosts"]') $(missing '.hosts[0]' "$K_TOP"))" \
	[ "$(missing . '["by","direction","ts","hosts"]')$(missing '.hosts[0]' "$K_TOP")" = "[][]" ]
req GET "$API/top?limit=2&direction=incoming&by=pps"
check "GET top?limit=2: 2 hosts: $(body '[.hosts[].host]')" is 200 '.hosts | length == 2'
req GET "$API/history"
K_HIST='["id","target","scope","hostgroup","direction","type","state","started","ended","duration","peak_pps","peak_bps","pps","bps","packets","bytes","thresholds_exceeded","vector","mitigations"]'
check "GET history: every member docs/api.md names (missing: $(missing '.attacks[0]' "$K_HIST"))" \
	[ "$(missing '.attacks[0]' "$K_HIST")" = "[]" ]
check "GET history: $aid, state active: $(body '[.attacks[] | {id, state}]')" \
	is 200 '[.attacks[] | select(.id == $a and .state == "active" and .target == "198.51.100.5" and .ended == null)] | length == 1' \
	--arg a "$aid"
req GET "$API/attacks/$aid"
check "GET attacks/$aid while active: state active, from attack_start, its rule not ended (counters null): $(body '.attack | {state, events: [.events[].event], m: .mitigations[0] | {rule_id, ended, counters}}')" \
	is 200 '.attack.state == "active" and .attack.ended == null and .attack.events[0].event == "attack_start" and .attack.mitigations[0].rule_id == ($r | tonumber) and .attack.mitigations[0].ended == null and .attack.mitigations[0].counters == null' \
	--arg r "${rid:-x}"
req GET "$API/mitigations"
check "GET mitigations: the auto rule with counters, routes null: $(body '[.rules[] | {id, attack, dropped_packets}]')" \
	is 200 '.routes == null and ([.rules[] | select(.id == ($r | tonumber) and .attack == $a and (.dropped_packets | type == "number"))] | length == 1)' \
	--arg r "${rid:-x}" --arg a "$aid"
# the evidence: once the rule has dropped and sampled (GET scrubber/rules says where)
has_evidence() {
	req GET "$API/scrubber/rules"
	jqb '.rules[] | select(.attack == $a and .evidence != null)' --arg a "$aid"
}
check "the rule has dropped packets and sampled some as evidence" wait_for 5 has_evidence
sleep 1.2 # the pcap is flushed each tick
req GET "$API/attacks/$aid/evidence.pcap"
cp "$T/b" "$T/ev1.pcap"
evinfo() { # FILE: its magic, its packets, the reflection's among them
	_magic=$(od -An -tx1 -N4 "$1" | tr -d ' ')
	_n=$(tcpdump -nr "$1" 2>/dev/null | wc -l)
	_m=$(tcpdump -nr "$1" 'udp src port 53 and dst host 198.51.100.5' 2>/dev/null | wc -l)
}
evcheck() { # FILE: a pcap (either byte order, micro or nanoseconds) tcpdump reads, the reflection's
	# packets only
	evinfo "$1"
	case $_magic in d4c3b2a1 | a1b2c3d4 | 4d3cb2a1 | a1b23c4d) ;; *) return 1 ;; esac
	[ "$_n" -gt 10 ] && [ "$_m" -eq "$_n" ]
}
ct=$(hdr Content-Type)
check "GET attacks/$aid/evidence.pcap while active: 200, $ct, $(wc -c <"$T/ev1.pcap") bytes in $secs s" \
	sh -c "[ $code = 200 ] && [ '$ct' = application/vnd.tcpdump.pcap ] && awk 'BEGIN { exit !($secs < 2) }'"
evinfo "$T/ev1.pcap"
check "the evidence: magic $_magic, $_n packets, $_m of them DNS answers to 198.51.100.5" evcheck "$T/ev1.pcap"
req GET "$API/traffic?seconds=30"
check "GET traffic: series all and the networks: $(body .series)" \
	is 200 '.interval == 1 and .series == ["all", "198.51.100.0/24", "2001:db8:5::/48"]'
# (fewer than 30 seconds when moatd has not been up that long)
check "traffic: arrays of equal length ($(body '.ts | length') seconds)" \
	jqb '(.ts | length) as $n | $n >= 5 and $n <= 30 and ([.incoming.pps, .incoming.bps, .outgoing.pps, .outgoing.bps][] | length == 3 and all(.[]; length == $n))'
# the reflection is dropped at XDP within a second of its start, so no complete second holds much
# of it: over the background's 1300 pps is enough to tell; the networks' series add up to "all"
check "traffic: incoming pps during the flood, max $(body '[.incoming.pps[0][]] | max') of all, $(body '[.incoming.pps[1][]] | max') of 198.51.100.0/24, $(body '[.incoming.pps[2][]] | max') of 2001:db8:5::/48" \
	jqb '([.incoming.pps[0][]] | max) > 2000 and ([.incoming.pps[1][]] | max) > 2000 and ([.incoming.pps[2][]] | max) > 0 and ([.incoming.bps[0][]] | max) > 1000000 and (.ts | . == sort)'
check "traffic: each second of all is the sum of the networks'" \
	jqb '.incoming.pps as $p | [range(0; .ts | length) | select($p[1][.] != null) | $p[0][.] == $p[1][.] + $p[2][.]] | all'
req GET "$ROOT/metrics"
cp "$T/b" "$T/metrics1"
metrics_ok "$T/metrics1" >"$T/metrics1.bad"
check "every /metrics line parses during the attack $(head -3 "$T/metrics1.bad" | tr '\n' ' ')" [ ! -s "$T/metrics1.bad" ]
# Prometheus' own linter (promtool, Debian prometheus): format, names, HELP and TYPE
command -v promtool >/dev/null || { echo "FAIL: promtool missing (tools/deps.sh installs prometheus)"; exit 1; }
promtool check metrics <"$T/metrics1" >"$T/promtool.out" 2>&1
prc=$?
check "promtool check metrics accepts /metrics (rc $prc) $(head -3 "$T/promtool.out" | tr '\n' ' ')" \
	sh -c "[ $prc -eq 0 ] && [ ! -s '$T/promtool.out' ]"
in1=$(msum "$T/metrics1" moat_traffic_packets_total 'direction="incoming"')
check "moat_traffic_packets_total incoming grows: $in0 -> $in1" [ "$in1" -gt $((in0 + 1000)) ]
at=$(msum "$T/metrics1" moat_attacks_total)
check "moat_attacks_total >= 1 ($at)" [ "$at" -ge 1 ]
ar=$(msum "$T/metrics1" moat_api_requests_total)
check "moat_api_requests_total counts the API's requests ($ar)" [ "$ar" -ge 50 ]
check "moat_mitigation_rule_dropped_packets_total for rule $rid: $(grep '^moat_mitigation_rule_dropped_packets_total' "$T/metrics1" | head -2 | tr '\n' ' ')" \
	sh -c "grep '^moat_mitigation_rule_dropped_packets_total{' '$T/metrics1' | grep -q 'rule=\"$rid\"'"

# ---- the outgoing attack: no rule, no evidence ----
wait $hping 2>/dev/null
out_attack() {
	req GET "$API/history?target=198.51.100.6"
	jqb '.attacks[] | select(.direction == "outgoing")'
}
check "the outgoing flood from 198.51.100.6 is in GET history?target=198.51.100.6" wait_for 5 out_attack
oid=$(jq -r '[.attacks[] | select(.direction == "outgoing")][0].id' "$T/b")
check "history?target= lists only that target: $(body '[.attacks[] | {id, target, direction}]')" \
	jqb 'all(.attacks[]; .target == "198.51.100.6")'
req GET "$API/attacks/$oid/evidence.pcap"
check "GET attacks/$oid/evidence.pcap (outgoing: no rule): 404 ($code): $(err)" is 404 '.ok == false'

# ---- a moatd without a token (on IPv6 loopback), one on a non-loopback IPv6 address with a token,
# one over TLS on a non-loopback IPv4 address ----
xconf() { # FILE API-YAML
	cat >"$1" <<YAML
networks: [198.51.100.0/24, "2001:db8:5::/48"]
capture:
  - af_packet: {interface: prot0, workers: 1, ring_mb: 2}
control: {socket: none}
history: {path: none}
api: $2
YAML
}
xconf "$T/x1.yaml" '{listen: "[::1]:18082"}'
xconf "$T/x2.yaml" "{listen: \"[2001:db8:5::5]:18081\", token: $TOKEN}"
xconf "$T/x3.yaml" "{listen: \"192.0.2.2:18443\", token: $TOKEN, tls_cert: $T/api.crt, tls_key: $T/api.key}"
start_moatd "$T/x1.yaml" "$T/x1.log"
x1=$spid
start_moatd "$T/x2.yaml" "$T/x2.log"
x2=$spid
start_moatd "$T/x3.yaml" "$T/x3.log"
x3=$spid
xpids="$x1 $x2 $x3"
X1="http://[::1]:18082"
req POST "$X1/api/v1/scrubber/rules" -H "$AUTH" -H "$JSON" --data-binary '{"rule":"198.51.100.9 drop"}'
check "no token configured: POST scrubber/rules: 403 ($code): $(err)" is 403 '.error | test("changes over HTTP are off")'
req POST "$X1/api/v1/reload"
check "no token configured: POST reload: 403 ($code)" is 403 '.ok == false'
req DELETE "$X1/api/v1/scrubber/rules/0" -H "$AUTH"
check "no token configured: DELETE scrubber/rules/0: 403 ($code)" is 403 '.ok == false'
req GET "$X1/api/v1/status"
check "no token configured, IPv6 loopback: GET status without a token: 200, history null, api member ($code): $(body '{history, api}')" \
	is 200 '.history == null and .api.listen == "[::1]:18082" and .scrubber == null'
req GET "$X1/api/v1/history"
check "no history configured: GET history: 503 ($code): $(err)" is 503 '.ok == false'
req GET "$X1/api/v1/scrubber/rules"
check "no scrubber configured: GET scrubber/rules: 503 ($code): $(err)" is 503 '.ok == false'
X2="http://[2001:db8:5::5]:18081"
req GET "$X2/api/v1/status"
check "IPv6 non-loopback: GET status without a token: 401 ($code), WWW-Authenticate: $(hdr WWW-Authenticate)" \
	sh -c "[ $code = 401 ] && [ '$(hdr WWW-Authenticate)' = 'Bearer realm=\"moat\"' ]"
req GET "$X2/api/v1/status" -H "Authorization: Bearer wrong-token-0123456789abcdef"
check "IPv6 non-loopback: GET status with a wrong token: 401 ($code)" is 401 '.ok == false'
req GET "$X2/api/v1/status" -H "$AUTH"
check "IPv6 non-loopback: GET status with the token: 200 ($code): $(body .api)" \
	is 200 '.api.listen == "[2001:db8:5::5]:18081"'
req GET "$X2/metrics"
check "IPv6 non-loopback: GET /metrics without a token: 401 ($code)" [ "$code" = 401 ]
req GET "$X2/metrics" -H "$AUTH"
check "IPv6 non-loopback: GET /metrics with the token: 200 ($code)" [ "$code" = 200 ]
req GET "$X2/api/v1/health"
check "IPv6 non-loopback: GET health without a token: 401 ($code)" [ "$code" = 401 ]
for f in / /app.js /uPlot.iife.min.js; do
	req GET "$X2$f"
	check "IPv6 non-loopback: GET $f without a token: 200 ($code)" [ "$code" = 200 ]
done
req POST "$X2/api/v1/reload"
check "IPv6 non-loopback: POST reload without a token: 401 ($code)" is 401 '.ok == false'
req GET "$X2/api/v1/top?by=bps" -H "$AUTH"
check "IPv6 non-loopback: GET top with the token: 200 ($code): $(body '{by, hosts: [.hosts[].host]}')" \
	is 200 '.by == "bps" and (.hosts | type == "array")'
X3=https://192.0.2.2:18443
req GET "$X3/api/v1/health" --cacert "$T/api.crt" -H "$AUTH"
check "TLS: GET health over https with --cacert: 200 ($code): $(body)" is 200 '.ok == true'
req GET "$X3/api/v1/status" --cacert "$T/api.crt" -H "$AUTH"
check "TLS: status says tls: $(body .api)" is 200 '.api.tls == true'
req GET "$X3/api/v1/status" --cacert "$T/api.crt"
check "TLS on a non-loopback address: GET status without a token: 401 ($code)" [ "$code" = 401 ]
req GET "$X3/" --cacert "$T/api.crt"
check "TLS: GET / without a token: 200 ($code)" [ "$code" = 200 ]
req GET "http://192.0.2.2:18443/api/v1/health" -H "$AUTH"
check "TLS: plain http to the https port gets no HTTP answer ($code)" [ "$code" = 000 ]
req GET "$X3/api/v1/health" -H "$AUTH"
check "TLS: https without trusting the certificate fails ($code)" [ "$code" = 000 ]
check "the moatd without a token is still running" alive "$x1"
stop "$x1" "$T/x1.log" "moatd (no token)"
stop "$x2" "$T/x2.log" "moatd (IPv6, token)"
stop "$x3" "$T/x3.log" "moatd (TLS)"
xpids=

# ---- the attack ends; its rule after the hold ----
ended() {
	req GET "$API/history?target=198.51.100.5"
	jqb '.attacks[] | select(.id == $a and .state == "ended" and .ended != null)' --arg a "$aid"
}
check "GET history: $aid ended" wait_for 15 ended
check "history: its summary: $(body '.attacks[0] | {id, state, type, duration, peak_pps, packets, mitigations}')" \
	jqb '.attacks[] | select(.id == $a) | .peak_pps > 6000 and .duration > 0 and .packets > 0 and .mitigations >= 1 and .started < .ended' \
	--arg a "$aid"
req GET "$API/attacks"
check "GET attacks: no longer lists $aid: $(body '[.attacks[].id]')" \
	is 200 '[.attacks[] | select(.id == $a)] | length == 0' --arg a "$aid"
rule_ended() {
	req GET "$API/attacks/$aid"
	jqb '.attack.mitigations[0].ended != null'
}
check "the rule ends after the hold: attacks/$aid says so" wait_for 15 rule_ended
req GET "$API/attacks/$aid"
cp "$T/b" "$T/attack.json"
check "GET attacks/$aid: the history fields: $(body '.attack | {id, state, target, type, direction}')" \
	is 200 '.attack.id == $a and .attack.state == "ended" and .attack.target == "198.51.100.5" and .attack.direction == "incoming"' \
	--arg a "$aid"
nev=$(jq '.attack.events | length' "$T/attack.json")
check "attacks/$aid: $nev events in time order: $(body '[.attack.events[].event] | join(",")' | cut -c1-200)" \
	jqb '.attack.events as $e | ($e | length) >= 4 and $e[0].event == "attack_start" and ([$e[].ts] | . == sort) and ([$e[].event] | index("attack_end") != null and index("mitigation_start") != null and index("mitigation_end") != null) and all($e[]; .attack == $a or .id == $a)' \
	--arg a "$aid"
check "attacks/$aid: timeline arrays of equal length ($(body '.attack.timeline.ts | length')): $(body '.attack.timeline.pps')" \
	jqb '.attack.timeline | (.ts | length) >= 2 and (.ts | length) == (.pps | length) and (.ts | length) == (.bps | length) and (.ts | . == sort) and ([.pps[]] | max) > 6000'
check "attacks/$aid: the mitigation with its counters: $(body '.attack.mitigations[0] | {rule_id, action, origin, counters, evidence_packets}')" \
	jqb '.attack.mitigations | length == 1 and .[0].rule_id == ($r | tonumber) and .[0].origin == "auto" and .[0].counters.dropped_packets > 1000 and .[0].counters.dropped_bytes > 0 and .[0].evidence == $p and .[0].evidence_packets > 10 and .[0].ended >= .[0].started' \
	--arg r "${rid:-x}" --arg p "$T/evidence/$aid.pcap"
check "attacks/$aid: routes empty (no bgp): $(body .attack.routes)" jqb '.attack.routes == []'
K_MIT='["rule_id","rule","action","origin","started","ended","reason","counters","evidence","evidence_packets"]'
check "GET attacks/$aid: every member docs/api.md names (missing: $(missing .attack "$K_HIST") $(missing .attack '["events","timeline","mitigations","routes"]') $(missing '.attack.mitigations[0]' "$K_MIT"))" \
	[ "$(missing .attack "$K_HIST")$(missing .attack '["events","timeline","mitigations","routes"]')$(missing '.attack.mitigations[0]' "$K_MIT")" = "[][][]" ]
req GET "$API/attacks/$aid/evidence.pcap"
cp "$T/b" "$T/ev2.pcap"
check "GET attacks/$aid/evidence.pcap after the rule ended: 200 ($code, $(hdr Content-Type))" \
	sh -c "[ $code = 200 ] && [ '$(hdr Content-Type)' = application/vnd.tcpdump.pcap ]"
evinfo "$T/ev2.pcap"
check "the evidence after: magic $_magic, $_n packets, $_m of them DNS answers to 198.51.100.5" evcheck "$T/ev2.pcap"
check "it is the file the rule wrote" cmp -s "$T/ev2.pcap" "$T/evidence/$aid.pcap"
req GET "$API/history?limit=1"
check "GET history?limit=1: one attack, the newest: $(body '[.attacks[].id]')" is 200 '.attacks | length == 1'
req GET "$API/history?before=1000"
check "GET history?before=1000: none: $(body)" is 200 '.attacks == []'
req GET "$API/history?target=198.51.100.5"
st=$(jq -r --arg a "$aid" '.attacks[] | select(.id == $a) | .started' "$T/b")
req GET "$API/history?before=$st"
check "GET history?before=$st (when $aid started): the earlier outgoing attack, not $aid: $(body '[.attacks[].id]')" \
	is 200 '([.attacks[].id] | index($a) == null) and ([.attacks[].id] | index($o) != null)' --arg a "$aid" --arg o "$oid"
req GET "$API/attacks/$oid"
check "GET attacks/$oid (the outgoing one): no mitigations, its events: $(body '.attack | {direction, mitigations, events: (.events | length)}')" \
	is 200 '.attack.direction == "outgoing" and .attack.target == "198.51.100.6" and .attack.mitigations == [] and .attack.events[0].event == "attack_start"'
req GET "$API/status"
check "status after the attack: attacks_total $(body .attacks_total), history written $(body .history.attacks_written)" \
	is 200 '.attacks_total >= 2 and .history.attacks_written >= 2 and .history.events_written >= 4 and .attacks_active == 0'
wait "$replay"
replay=
check "the replay ran: $(cat "$T/replay.log")" grep -q "^sent [1-9]" "$T/replay.log"

# ---- config check and reload: a broken file is refused, the old config kept ----
echo "bogus_section: 1" >>"$T/moat.yaml"
line=$(wc -l <"$T/moat.yaml")
req POST "$API/config/check" -H "$AUTH"
check "POST config/check of a broken file: 400 with file:line:column ($code): $(err)" \
	is 400 '.error | startswith($f + ":" + $l + ":1: ")' --arg f "$T/moat.yaml" --arg l "$line"
req POST "$API/reload" -H "$AUTH"
check "POST reload of a broken file: 400 ($code): $(err)" is 400 '.error | test(":[0-9]+:[0-9]+: ")'
req GET "$API/status"
check "the running config is kept: status answers, scrubber still on: $(body '.scrubber.interfaces')" \
	is 200 '.scrubber.interfaces == ["prot0"]'
req POST "$API/config/check" -H "$AUTH"
check "and the token is still the old one (config/check authorized: $code, not 401)" [ "$code" = 400 ]
cp "$T/moat.yaml.orig" "$T/moat.yaml"
req POST "$API/config/check" -H "$AUTH"
check "POST config/check of the restored file: 200 ($code)" is 200 '.ok == true'
write_conf "$TOKEN2"
req POST "$API/reload" -H "$AUTH"
check "POST reload of a file with a new token: 200 ($code): $(body)" is 200 '.ok == true'
req POST "$API/config/check" -H "$AUTH"
check "after it, the old token: 401 ($code)" is 401 '.ok == false'
req POST "$API/config/check" -H "Authorization: Bearer $TOKEN2"
check "the new token: 200 ($code)" is 200 '.ok == true'
cp "$T/moat.yaml.orig" "$T/moat.yaml"
req POST "$API/reload" -H "Authorization: Bearer $TOKEN2"
check "POST reload back to the first token: 200 ($code)" is 200 '.ok == true'
req POST "$API/config/check" -H "$AUTH"
check "and the first token works again ($code)" is 200 '.ok == true'

# ---- garbage ----
ip netns exec "$LAB_PROT" python3 "$HERE/garbage.py" 127.0.0.1 18080 200 "$TOKEN" >"$T/garbage.json" 2>"$T/garbage.err"
echo "garbage: $(cat "$T/garbage.json" "$T/garbage.err")"
check "200 garbage requests: every well-formed one answered, none with a 500: $(jq -c .statuses "$T/garbage.json")" \
	sh -c "jq -e '.sent == 200 and (.kinds.http | length > 0) and (.kinds.http.none // 0) == 0 and (.statuses[\"500\"] // 0) == 0' '$T/garbage.json' >/dev/null"
check "moatd (pid $pid) is still running" alive "$pid"
req GET "$API/health"
check "and answers health: 200 ($code)" is 200 '.ok == true'
req GET "$API/scrubber/rules"
check "the garbage added no rule: $(body '[.rules[].text]')" is 200 '.rules == []'

# ---- the history survives a restart; an attack active at the stop is "interrupted" ----
req GET "$API/history"
cp "$T/b" "$T/history1.json"
ip netns exec "$LAB_PROT" timeout -s INT 6 hping3 -i u50 -q --udp -p 9 -a 198.51.100.7 -d 100 \
	203.0.113.2 >"$T/hping2.log" 2>&1 &
hping=$!
active7() {
	req GET "$API/attacks"
	jqb '.attacks[] | select(.target == "198.51.100.7")'
}
check "an outgoing flood from 198.51.100.7 is active at the stop" wait_for 5 active7
iid=$(jq -r '[.attacks[] | select(.target == "198.51.100.7")][0].id' "$T/b")
stop "$pid" "$T/moatd.log" "moatd"
kill -INT "$hping" 2>/dev/null
wait "$hping" 2>/dev/null
start_moatd "$T/moat.yaml" "$T/moatd2.log"
pid=$spid
check "moatd restarted on the same history.db: $(grep -o 'history: .*' "$T/moatd2.log" | head -1)" alive "$pid"
req GET "$API/history"
check "GET history after the restart: $aid still there, ended: $(body '[.attacks[] | {id, state}]')" \
	is 200 '[.attacks[] | select(.id == $a and .state == "ended")] | length == 1' --arg a "$aid"
check "the attacks ended before the restart are as they were" \
	sh -c "[ \"\$(jq -c '[.attacks[] | {id, state, started, ended, peak_pps, packets}]' '$T/history1.json')\" = \"\$(jq -c --arg i '$iid' '[.attacks[] | select(.id != \$i) | {id, state, started, ended, peak_pps, packets}]' '$T/b')\" ]"
check "the attack active at the stop ($iid) is interrupted, ended at its last event: $(body '.attacks[] | select(.id == $i) | {state, started, ended}' --arg i "$iid")" \
	jqb '.attacks[] | select(.id == $i) | .state == "interrupted" and .ended != null and .ended >= .started' --arg i "$iid"
check "the log says so: $(grep -o 'history: [0-9]* attack.* interrupted' "$T/moatd2.log")" \
	grep -q "history: 1 attack left open by the previous run marked interrupted" "$T/moatd2.log"
req GET "$API/attacks/$aid"
check "GET attacks/$aid after the restart: its $nev events ($(body '.attack.events | length'))" \
	is 200 '(.attack.events | length) == ($n | tonumber) and .attack.events[0].event == "attack_start" and .attack.mitigations[0].counters.dropped_packets > 0' \
	--arg n "$nev"
req GET "$API/attacks/$aid/evidence.pcap"
cp "$T/b" "$T/ev3.pcap"
check "its evidence after the restart: 200 ($code)" sh -c "[ $code = 200 ] && cmp -s '$T/ev3.pcap' '$T/ev2.pcap'"
stop "$pid" "$T/moatd2.log" "moatd (after the restart)"
pid=
echo "duration: $(($(date +%s) - t_start)) s"
finish
