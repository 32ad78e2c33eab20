#!/bin/sh
# Live through libpcap (capture kind pcap) in a namespace lab; a reload that changes events.file
# sends later events to the new file, and a reload that changes the captures says they wait for
# a restart.
. "$MOAT_ROOT/tests/replay/lib.sh"
. "$MOAT_ROOT/tools/lab.sh"
trap 'lab_down' EXIT INT TERM

[ "$(id -u)" = 0 ] || { echo "FAIL: needs root for network namespaces"; exit 1; }
lab_up || { echo "FAIL: cannot build the lab (ip netns, veth)"; exit 1; }

conf() { # events file, capture kind
	cat >"$T/moat.yaml" <<YAML
networks: [198.51.100.0/24, 2001:db8:5::/48]
thresholds: {pps: 15000}
detection: {cooldown: 2}
events: {file: $1}
control: {socket: none}
history: {path: none}
capture:
  - $2: {interface: prot0}
YAML
}
conf "$T/a.json" pcap
ip netns exec "$LAB_PROT" "$MOATD" -c "$T/moat.yaml" 2>"$T/moatd.log" &
pid=$!
for _ in $(seq 1 50); do grep -q "capturing on" "$T/moatd.log" && break; sleep 0.1; done
check "moatd captures on prot0 through libpcap" grep -q "capturing on prot0 with libpcap" "$T/moatd.log"

lab_inet "$MOAT_GEN" -i inet0 -d 4 --attack icmp:198.51.100.5:25k:start=1:dur=2 2>"$T/gen1.log"
for _ in $(seq 1 30); do grep -q attack_end "$T/a.json" 2>/dev/null && break; sleep 0.2; done
a=$(jq -c 'select(.event=="attack_start")' "$T/a.json" 2>/dev/null | head -1)
check "ICMP flood detected through libpcap: $(echo "$a" | jq -c '[.target,.type,.pps]' 2>/dev/null)" \
	[ "$(echo "$a" | jq -r .type 2>/dev/null)" = icmp_flood ]
check "pps within 10% of 25000" within "$(echo "$a" | jq .pps)" 25000 0.10

conf "$T/b.json" af_packet
kill -HUP $pid
sleep 0.5
check "reload says the capture change waits for a restart" grep -q "capture sources changed" "$T/moatd.log"
check "reload moves events to the new file" grep -q "events now go to $T/b.json" "$T/moatd.log"
lab_inet "$MOAT_GEN" -i inet0 -d 4 --attack udp:[2001:db8:5::9]:25k:start=1:dur=2 2>"$T/gen2.log"
for _ in $(seq 1 30); do grep -q attack_end "$T/b.json" 2>/dev/null && break; sleep 0.2; done
check "the second attack is in the new file" grep -q '"target":"2001:db8:5::9"' "$T/b.json"
check "and not in the old one" sh -c "! grep -q '2001:db8:5::9' '$T/a.json'"
kill -TERM $pid
wait $pid
rc=$?
check "SIGTERM: clean exit (rc $rc)" [ $rc -eq 0 ]
cat "$T/moatd.log"
finish
