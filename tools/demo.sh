#!/bin/sh
# make demo: moatd watches a protected host in a network-namespace lab while moat-gen floods it
# from the "internet" side. Prints what moatd saw, in words, and cleans up. Needs root.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MOATD=${MOATD:-$ROOT/build/release/moatd}
MOAT_GEN=${MOAT_GEN:-$ROOT/build/release/moat-gen}
. "$ROOT/tools/lab.sh"

[ "$(id -u)" = 0 ] || { echo "make demo needs root (network namespaces, AF_PACKET)" >&2; exit 1; }
W=$(mktemp -d /tmp/moat-demo.XXXXXX)
trap 'lab_down; rm -rf "$W"' EXIT INT TERM

cat >"$W/moat.yaml" <<'YAML'
# the demo's config: one protected /24 and /48, thresholds a small host would have
networks: [198.51.100.0/24, 2001:db8:5::/48]
thresholds: {pps: 10000, mbps: 200, syn_pps: 5000, flows: 20000}
hostgroups:
  - name: web
    prefixes: [198.51.100.0/28, 2001:db8:5::/64]
detection: {cooldown: 5, update_interval: 5}
capture:
  - af_packet: {interface: prot0, workers: 2}
YAML

echo "== moat demo: a lab of two network namespaces joined by a veth pair"
lab_up || { echo "could not build the lab" >&2; exit 1; }
echo "   $LAB_INET (192.0.2.1) --veth-- $LAB_PROT (198.51.100.5, 2001:db8:5::5), moatd on prot0"

lab_prot "$MOATD" -c "$W/moat.yaml" --events "$W/events.json" 2>"$W/moatd.log" &
sleep 1
grep -q "capturing on prot0" "$W/moatd.log" || { cat "$W/moatd.log"; echo "moatd did not start" >&2; exit 1; }

echo "== traffic: 20 s of background; at 3 s a SYN flood (40k pps) on 198.51.100.5,"
echo "   at 11 s a DNS amplification (15k pps, fragmented) on 2001:db8:5::5"
start=$(date +%s.%N)
lab_inet "$MOAT_GEN" -i inet0 -d 20 --background 1000:hosts=8 \
	--attack syn:198.51.100.5:40k:start=3:dur=5 \
	--attack dns:[2001:db8:5::5]:15k:start=11:dur=4 2>"$W/gen.log" || { cat "$W/gen.log"; exit 1; }
echo "   $(tail -1 "$W/gen.log")"
echo "== waiting for the attacks to end (cooldown 5 s)"
for _ in $(seq 1 40); do
	[ "$(grep -c attack_end "$W/events.json" 2>/dev/null)" -ge 2 ] && break
	sleep 0.5
done
lab_prot pkill -TERM -x moatd 2>/dev/null || kill %1 2>/dev/null
wait 2>/dev/null

echo
echo "== what moatd saw"
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
  elif .event == "attack_update" then
    "\(.ts - $t0 | r) s  update \(.target): \(.pps) pps (peak \(.peak_pps))"
  else
    "\(.ts - $t0 | r) s  ENDED \(.target): \(.type), lasted \(.duration) s, peak \(.peak_pps) pps / \(.peak_bps / 1e6 | r) Mbit/s, \(.packets) packets"
  end' "$W/events.json"
echo
starts=$(grep -c attack_start "$W/events.json")
ends=$(grep -c attack_end "$W/events.json")
echo "== $starts attacks detected, $ends ended. Events (JSON lines) were in $W/events.json;"
echo "   the same run offline: moat-gen -o x.pcap ... && moatd -c moat.yaml -r x.pcap --events -"
[ "$starts" -ge 2 ] && [ "$ends" -ge 2 ]
