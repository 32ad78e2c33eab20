#!/bin/sh
# Live: moatd (ASan build) captures through AF_PACKET with two fanout workers on a veth in a
# namespace lab while moat-gen floods it. Asserts detection within 1 s, rates, classification and
# vectors for an IPv4 and an IPv6 attack; SIGHUP with a bad config keeps the old one, with a good
# one reloads; SIGTERM exits cleanly (ASan would fail the exit on a leak).
. "$MOAT_ROOT/tests/replay/lib.sh"
. "$MOAT_ROOT/tools/lab.sh"
trap 'lab_down' EXIT INT TERM

[ "$(id -u)" = 0 ] || { echo "FAIL: needs root for network namespaces"; exit 1; }
lab_up || { echo "FAIL: cannot build the lab (ip netns, veth)"; exit 1; }

cat >"$T/moat.yaml" <<'YAML'
networks: [198.51.100.0/24, 2001:db8:5::/48]
thresholds: {pps: 15000, syn_pps: 8000}
detection: {cooldown: 3}
control: {socket: none}
history: {path: none}
capture:
  - af_packet: {interface: prot0, workers: 2, ring_mb: 16}
YAML
# ip netns exec execs moatd, so $! is moatd itself (a backgrounded shell function would not be)
ip netns exec "$LAB_PROT" "$MOATD" -c "$T/moat.yaml" --events "$T/ev.json" --stats 2>"$T/moatd.log" &
pid=$!
for _ in $(seq 1 50); do grep -q "capturing on" "$T/moatd.log" && break; sleep 0.1; done
check "moatd captures on prot0 with 2 workers" grep -q "capturing on prot0 with 2 AF_PACKET" "$T/moatd.log"

t0=$(date +%s.%N)
lab_inet "$MOAT_GEN" -i inet0 -d 10 --background 500:hosts=8 \
	--attack syn:198.51.100.5:30k:start=2:dur=3 \
	--attack udp:[2001:db8:5::7]:25k:start=3:dur=3:dport=443 2>"$T/gen.log"
check "moat-gen sent: $(tail -1 "$T/gen.log")" grep -q "sent" "$T/gen.log"

# SIGHUP with a broken config: refused, old config kept, still running
cp "$T/moat.yaml" "$T/good.yaml"
printf 'networks: [198.51.100.0/24]\nthresholds: {pps: lots}\n' >"$T/moat.yaml"
kill -HUP $pid
sleep 0.5
check "bad reload refused with file:line:column" grep -q "reload refused.*moat.yaml:2:" "$T/moatd.log"
check "still running after a bad reload" kill -0 $pid
cp "$T/good.yaml" "$T/moat.yaml"
kill -HUP $pid
sleep 0.5
check "good reload applied" grep -q "reloaded" "$T/moatd.log"

for _ in $(seq 1 40); do [ "$(grep -c attack_end "$T/ev.json" 2>/dev/null)" -ge 2 ] && break; sleep 0.25; done
kill -TERM $pid
wait $pid
rc=$?
check "SIGTERM: clean exit, no sanitizer report (rc $rc)" [ $rc -eq 0 ]
cat "$T/moatd.log"

v4=$(jq -c 'select(.event=="attack_start" and .target=="198.51.100.5")' "$T/ev.json" | head -1)
v6=$(jq -c 'select(.event=="attack_start" and .target=="2001:db8:5::7")' "$T/ev.json" | head -1)
check "IPv4 SYN flood detected" [ -n "$v4" ]
check "IPv6 UDP flood detected" [ -n "$v6" ]
if [ -n "$v4" ]; then
	ts=$(echo "$v4" | jq .ts)
	check "IPv4: detected $(awk -v a="$ts" -v b="$t0" 'BEGIN{print a-b-2}') s after onset (<= 1 s, plus 0.3 s for process start)" \
		since "$t0" "$ts" 3.3
	check "IPv4: syn_flood" [ "$(echo "$v4" | jq -r .type)" = syn_flood ]
	check "IPv4: pps $(echo "$v4" | jq .pps) within 10% of 30000" within "$(echo "$v4" | jq .pps)" 30000 0.10
	check "IPv4: vector dst port 80 dominant" [ "$(echo "$v4" | jq '.vector.dst_ports[0].value')" = 80 ]
	check "IPv4: vector flags S" [ "$(echo "$v4" | jq -r '.vector.tcp_flags[0].value')" = S ]
fi
if [ -n "$v6" ]; then
	ts=$(echo "$v6" | jq .ts)
	check "IPv6: detected $(awk -v a="$ts" -v b="$t0" 'BEGIN{print a-b-3}') s after onset (<= 1 s, plus 0.3 s)" \
		since "$t0" "$ts" 4.3
	check "IPv6: udp_flood" [ "$(echo "$v6" | jq -r .type)" = udp_flood ]
	check "IPv6: pps $(echo "$v6" | jq .pps) within 10% of 25000" within "$(echo "$v6" | jq .pps)" 25000 0.10
	check "IPv6: vector dst port 443" [ "$(echo "$v6" | jq '.vector.dst_ports[0].value')" = 443 ]
	check "IPv6: direction incoming" [ "$(echo "$v6" | jq -r .direction)" = incoming ]
fi
check "both attacks ended" [ "$(grep -c attack_end "$T/ev.json")" -eq 2 ]
check "no false attack" [ "$(grep -c attack_start "$T/ev.json")" -eq 2 ]
lab_down
check "lab removed" sh -c "! ip netns list | grep -q 'moat-.*-$LAB_ID'"
finish
