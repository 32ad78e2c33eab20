#!/bin/sh
# make demo: a routed network-namespace lab (tools/lab.sh slab) with a web server on the
# protected host, a client fetching from it, and an attacker. moatd watches prot0, detects the
# floods, and its XDP scrubber drops them while the client keeps being served. Prints what
# happened, in words, and cleans up. Needs root.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MOATD=${MOATD:-$ROOT/build/release/moatd}
MOATCTL=${MOATCTL:-$ROOT/build/release/moatctl}
MOAT_GEN=${MOAT_GEN:-$ROOT/build/release/moat-gen}
. "$ROOT/tools/lab.sh"

[ "$(id -u)" = 0 ] || { echo "make demo needs root (network namespaces, AF_PACKET, XDP)" >&2; exit 1; }
W=$(mktemp -d /tmp/moat-demo.XXXXXX)
cleanup() {
	[ "$(exec sh -c 'echo $PPID')" = "$$" ] || return 0 # not in subshells
	[ -f "$W/moat.yaml" ] && ip netns exec "$LAB_PROT" "$MOATD" --unload -c "$W/moat.yaml" 2>/dev/null
	slab_down
	umount "$W/bpffs" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT INT TERM

cat >"$W/moat.yaml" <<YAML
# the demo's config: one protected /24 and /48, thresholds a small host would have
networks: [198.51.100.0/24, 2001:db8:5::/48]
thresholds: {pps: 10000, mbps: 200, syn_pps: 5000, flows: 20000}
hostgroups:
  - name: web
    prefixes: [198.51.100.0/28, 2001:db8:5::/64]
detection: {cooldown: 3, update_interval: 5}
capture:
  - af_packet: {interface: prot0, workers: 2}
scrubber:
  interfaces: [prot0]
  hold: 3
  sample_every: 100
  evidence_dir: $W/evidence
  pin_dir: $W/bpffs/moat
control: {socket: $W/moatd.sock}
history: {path: $W/history.db}
api: {listen: 127.0.0.1:8080}
YAML

echo "== moat demo: attacker, client and a protected web server, routed through a router namespace"
slab_up || { echo "could not build the lab" >&2; exit 1; }
# ip netns exec gives moatd its own /sys: its maps are pinned on a bpffs mounted here instead
mkdir -p "$W/bpffs" && mount -t bpf bpf "$W/bpffs" || { echo "cannot mount a bpffs" >&2; exit 1; }
echo "   attacker 203.0.113.2 and client 192.0.2.66 -> router -> prot0 of 198.51.100.5 / 2001:db8:5::5"
mkdir -p "$W/www" && head -c 4000 /dev/urandom >"$W/www/index.bin"
ip netns exec "$LAB_PROT" python3 -m http.server 80 --bind :: --directory "$W/www" >/dev/null 2>&1 &
# ip netns exec execs moatd, so $! is moatd itself: stop it by pid, never by name
ip netns exec "$LAB_PROT" "$MOATD" -c "$W/moat.yaml" --events "$W/events.json" 2>"$W/moatd.log" &
moatd_pid=$!
for _ in $(seq 1 50); do grep -q "capturing on prot0" "$W/moatd.log" && break; sleep 0.1; done
grep -q "capturing on prot0" "$W/moatd.log" || { cat "$W/moatd.log"; echo "moatd did not start" >&2; exit 1; }
echo "   $(grep -o 'XDP attached to prot0 in [a-z]* mode' "$W/moatd.log")"

echo "== 16 s: the client fetches http://198.51.100.5/ over and over (a new connection each);"
echo "   at 2 s a spoofed SYN flood (hping3, as fast as it can) for 6 s; at 10 s an IPv6 DNS"
echo "   reflection (moat-gen, 15k pps of 1200-byte answers) for 4 s"
start=$(date +%s.%N)
(
	trap - EXIT INT TERM
	ok=0 n=0
	end=$(($(date +%s) + 16))
	while [ "$(date +%s)" -lt "$end" ]; do
		c=$(ip netns exec "$SLAB_CLI" curl -s -o /dev/null -w '%{http_code}' --max-time 3 http://198.51.100.5/index.bin)
		n=$((n + 1))
		[ "$c" = 200 ] && ok=$((ok + 1))
		sleep 0.05
	done
	echo "$ok $n" >"$W/client"
) &
client=$!
sleep 2
ip netns exec "$SLAB_ATT" timeout -s INT 6 hping3 --flood -q -S -p 80 --rand-source 198.51.100.5 \
	>"$W/hping.log" 2>&1 &
sleep 3
echo "== moatctl rule list, during the flood:"
"$MOATCTL" -s "$W/moatd.sock" rule list | sed 's/^/   /'
echo "== the HTTP API, during the flood (GET /api/v1/top?limit=3 and /api/v1/attacks):"
ip netns exec "$LAB_PROT" curl -s "http://127.0.0.1:8080/api/v1/top?limit=3" |
	jq -r '.hosts[] | "   \(.host): \(.pps) pps, \(.bps / 1e6 | floor) Mbit/s, \(.flows) new flows/s, attack \(.attack // "-")"'
ip netns exec "$LAB_PROT" curl -s "http://127.0.0.1:8080/api/v1/attacks" |
	jq -r '.attacks[] | "   attack \(.id) on \(.target): \(.type), \(.pps) pps; mitigations: \(.mitigations | map("\(.kind) \(.id): \(.rule // .route)") | join("; "))"'
sleep 5
ip netns exec "$SLAB_RTR" "$MOAT_GEN" -i inet0 -d 4 --attack "dns:[2001:db8:5::5]:15k:len=1200" \
	2>"$W/gen.log" || { cat "$W/gen.log"; exit 1; }
wait $client
echo "== waiting for the attacks and their rules to end (cooldown 3 s, hold 3 s)"
for _ in $(seq 1 60); do
	[ "$(grep -c mitigation_end "$W/events.json" 2>/dev/null)" -ge 2 ] && break
	sleep 0.25
done
kill -TERM "$moatd_pid" 2>/dev/null
wait "$moatd_pid" 2>/dev/null
sleep 0.5

echo
echo "== what moatd saw and did"
if [ ! -s "$W/events.json" ]; then
	echo "no events: see $W/moatd.log"
	cat "$W/moatd.log"
	exit 1
fi
jq -r --argjson t0 "$start" '
  def r: . * 10 | round / 10;
  def top(f): (f // []) | map("\(.value) (\((.share * 100) | round)%)") | .[:3] | join(", ");
  if .event == "attack_start" then
    "\(.ts - $t0 | r) s  ATTACK on \(.target) (\(.direction)): \(.type), \(.pps) pps, \(.bps / 1e6 | r) Mbit/s\n" +
    "        over: \(.thresholds_exceeded | join(", "))\n" +
    "        protocols: \(top(.vector.protocols))   dst ports: \(top(.vector.dst_ports))   src ports: \(top(.vector.src_ports))\n" +
    "        lengths: \(top(.vector.lengths))   TTLs: \(top(.vector.ttls))   src prefixes: \(top(.vector.src_prefixes))"
  elif .event == "mitigation_start" then
    "\(.ts - $t0 | r) s  XDP RULE \(.rule_id) for \(.target): \(.rule)\n" +
    "        in place \(.setup_us) us after detection; covers ~\((.coverage // 0) * 100 | round)% of the attack" +
    (if .amplification_ports_dropped then "; all amplification ports dropped too" else "" end)
  elif .event == "mitigation_end" then
    "\(.ts - $t0 | r) s  rule \(.rule_id) removed (\(.reason)): dropped \(.dropped_packets) packets, \(.dropped_bytes / 1e6 | r) MB; evidence \(.evidence_packets) samples in \(.evidence // "-")"
  elif .event == "attack_update" then
    "\(.ts - $t0 | r) s  update \(.target): \(.pps) pps (peak \(.peak_pps))"
  else
    "\(.ts - $t0 | r) s  ENDED \(.target): \(.type), lasted \(.duration) s, peak \(.peak_pps) pps / \(.peak_bps / 1e6 | r) Mbit/s, \(.packets) packets seen"
  end' "$W/events.json"
echo
read -r ok n <"$W/client" || { ok=0; n=0; }
starts=$(grep -c attack_start "$W/events.json")
mits=$(grep -c mitigation_start "$W/events.json")
echo "== $starts attacks detected, $mits mitigated at XDP; hping3: $(grep -o '[0-9]* packets transmitted' "$W/hping.log")"
echo "== the client: $ok of $n requests answered during the test"
echo "   (an attack's packets after its rule are dropped before the kernel sees them; \"packets seen\""
echo "   counts what reached moatd's capture, so it stops growing once the rule is in place)"
[ "$starts" -ge 2 ] && [ "$mits" -ge 2 ] && [ "$n" -gt 0 ] && [ "$ok" -eq "$n" ]
