#!/bin/sh
# BGP end to end against a real BIRD 2: the lab's "internet" namespace is the operator's router
# (BIRD at 192.0.2.1, AS 65000), moatd (ASan build) in the protected namespace peers with it
# (AS 65001) and captures on prot0 while moat-gen floods. Asserts: the session is Established;
# a DNS reflection on 198.51.100.5 becomes a Flowspec rule in BIRD's flow4 table (auto: the peer
# has Flowspec, so no blackhole; offering IPv4 unicast only, it gets the blackhole instead), an NTP reflection on 2001:db8:5::5 a flow6 rule, a SYN flood
# over the blackhole threshold on 198.51.100.6 a blackhole /32 with its communities; a diversion
# by hand appears and is withdrawn; the attacks' routes are withdrawn after the hold; a route
# active when moatd stops is withdrawn (withdraw_on_shutdown) and announced again by the next
# moatd from its state file; BIRD restarted gets the routes again; moatd exits cleanly.
. "$MOAT_ROOT/tests/replay/lib.sh"
. "$MOAT_ROOT/tools/lab.sh"
MOATCTL="${MOATCTL:-$MOAT_ROOT/build/asan/moatctl}"
cleanup() {
	[ "$(exec sh -c 'echo $PPID')" = "$$" ] || return 0
	[ -f "$T/bird.pid" ] && kill "$(cat "$T/bird.pid")" 2>/dev/null
	lab_down
}
trap cleanup EXIT INT TERM

[ "$(id -u)" = 0 ] || { echo "FAIL: needs root for network namespaces"; exit 1; }
for tool in bird birdc jq; do
	command -v $tool >/dev/null || { echo "FAIL: $tool is missing (make test installs bird2)"; exit 1; }
done
lab_up || { echo "FAIL: cannot build the lab"; exit 1; }

lab_bird_conf "$T"
bird_start() {
	ip netns exec "$LAB_INET" bird -c "$T/bird.conf" -s "$T/bird.ctl" -P "$T/bird.pid"
	for _ in $(seq 1 30); do [ -S "$T/bird.ctl" ] && break; sleep 0.1; done
}
birdc_() { birdc -s "$T/bird.ctl" "$@"; }
established() { birdc_ show protocols moat | grep -q Established; }
in_table() { birdc_ show route all table "$1" | grep -q -- "$2"; }
route_text() { birdc_ show route all table "$1" | tr '\n' ' '; }

bird_start
check "BIRD runs in the router namespace" test -S "$T/bird.ctl"

cat >"$T/moat.yaml" <<YAML
networks: [198.51.100.0/24, "2001:db8:5::/48"]
thresholds: {pps: 10000}
detection: {cooldown: 2}
capture:
  - af_packet: {interface: prot0, workers: 1}
control: {socket: $T/ctl.sock}
history: {path: $T/history.db}
bgp:
  local_as: 65001
  router_id: 192.0.2.2
  peers:
    - {address: 192.0.2.1, remote_as: 65000, families: [ipv4, ipv6, flowspec4, flowspec6], hold_time: 9}
  blackhole:
    communities: ["65535:666", "65001:666"]
    large_communities: ["65001:666:1"]
    next_hop: 192.0.2.254
    next_hop6: "2001:db8::666"
  diversion: {next_hop: 192.0.2.253, communities: ["65001:777"]}
  hold: 3
  state_file: $T/bgp-routes.json
mitigation:
  - {when: {pps_over: 30000}, action: blackhole}
  - {action: auto}
YAML
ctl() { "$MOATCTL" -s "$T/ctl.sock" "$@"; }
start_moatd() {
	ip netns exec "$LAB_PROT" "$MOATD" -c "$T/moat.yaml" --events "$T/ev.json" 2>>"$T/moatd.log" &
	pid=$!
	wait_for 10 grep -q "capturing on" "$T/moatd.log"
}
start_moatd
check "the session reaches Established" wait_for 15 established
check "moatctl bgp peers says established" \
	sh -c "'$MOATCTL' -s '$T/ctl.sock' --json bgp peers | jq -e '.peers[0].state == \"established\"' >/dev/null"

lab_inet "$MOAT_GEN" -i inet0 -d 4 \
	--attack dns:198.51.100.5:20k:start=0:dur=4:len=1200 \
	--attack ntp:[2001:db8:5::5]:15k:start=0:dur=4 \
	--attack syn:198.51.100.6:45k:start=0:dur=4 2>"$T/gen.log" &
gen=$!
check "flowspec4: the DNS reflection's vector in BIRD" wait_for 4 in_table flowtab4 "198.51.100.5/32"
f4=$(route_text flowtab4)
check "flowspec4 rule: UDP from port 53, longer than 1200, discard: $f4" \
	sh -c "echo '$f4' | grep -q 'proto 17;' && echo '$f4' | grep -q 'sport 53;' && echo '$f4' | grep -q 'length >= 1200;' && echo '$f4' | grep -q '(generic, 0x8006fde9, 0x0)'"
check "flowspec6: the NTP reflection's vector in BIRD" wait_for 4 in_table flowtab6 "2001:db8:5::5/128"
f6=$(route_text flowtab6)
check "flowspec6 rule: UDP from port 123, payload 448: $f6" \
	sh -c "echo '$f6' | grep -q 'next header 17;' && echo '$f6' | grep -q 'sport 123;' && echo '$f6' | grep -q 'length 448;'"
check "blackhole of the SYN flood's target in BIRD" wait_for 4 in_table master4 "198.51.100.6/32"
b4=$(birdc_ show route all 198.51.100.6/32 table master4 | tr '\n' ' ')
check "blackhole communities 65535:666, 65001:666 and 65001:666:1: $b4" \
	sh -c "echo '$b4' | grep -q '(65535,666)' && echo '$b4' | grep -q '(65001,666)' && echo '$b4' | grep -q '(65001, 666, 1)'"
check "auto with a Flowspec peer: no blackhole for 198.51.100.5" \
	sh -c "! birdc -s '$T/bird.ctl' show route table master4 | grep -q '198.51.100.5/32'"
wait $gen

# by hand: a diversion of 198.51.100.7's /24
out=$(ctl --json bgp announce diversion 198.51.100.7)
rid=$(echo "$out" | jq .route.id)
check "moatctl bgp announce diversion: $(echo "$out" | jq -c .route.route)" [ -n "$rid" ]
check "diversion 198.51.100.0/24 in BIRD" wait_for 3 in_table master4 "198.51.100.0/24"
d4=$(birdc_ show route all 198.51.100.0/24 table master4 | tr '\n' ' ')
check "diversion community 65001:777 and next hop 192.0.2.253: $d4" \
	sh -c "echo '$d4' | grep -q '(65001,777)' && echo '$d4' | grep -q '192.0.2.253'"
check "moatctl bgp list shows it" sh -c "'$MOATCTL' -s '$T/ctl.sock' bgp list | grep -q '198.51.100.0/24'"
check "moatctl bgp withdraw" ctl bgp withdraw "$rid"
check "diversion gone from BIRD" wait_for 3 sh -c "! birdc -s '$T/bird.ctl' show route table master4 | grep -q '198.51.100.0/24'"
ctl bgp announce blackhole 203.0.113.300 >/dev/null 2>"$T/bad.err"
rc=$?
check "a bad address is refused (rc $rc): $(cat "$T/bad.err")" [ $rc -eq 1 ]

# the attacks end (cooldown 2 s), their routes go after the hold (3 s)
check "the attacks' routes are withdrawn after the hold" \
	wait_for 12 sh -c "! birdc -s '$T/bird.ctl' show route table flowtab4 | grep -q '198.51.100.5/32' && ! birdc -s '$T/bird.ctl' show route table master4 | grep -q '198.51.100.6/32' && ! birdc -s '$T/bird.ctl' show route table flowtab6 | grep -q '2001:db8:5::5/128'"
for e in bgp_announce bgp_withdraw bgp_peer_up bgp_update_sent; do
	check "event $e logged ($(grep -c "\"$e\"" "$T/ev.json"))" grep -q "\"event\":\"$e\"" "$T/ev.json"
done

# a route active when moatd stops: withdrawn on shutdown, announced again by the next moatd
ctl bgp announce blackhole 198.51.100.9 >/dev/null
check "a blackhole by hand reaches BIRD" wait_for 3 in_table master4 "198.51.100.9/32"
kill -TERM $pid
wait $pid
rc=$?
check "moatd exits cleanly (rc $rc)" [ $rc -eq 0 ]
check "withdrawn on shutdown" wait_for 3 sh -c "! birdc -s '$T/bird.ctl' show route table master4 | grep -q '198.51.100.9/32'"
check "the state file keeps it: $(jq -c '[.routes[].target]' "$T/bgp-routes.json")" \
	sh -c "jq -e '.routes | map(.target) | index(\"198.51.100.9\")' '$T/bgp-routes.json' >/dev/null"
start_moatd
check "the next moatd announces it again" wait_for 15 in_table master4 "198.51.100.9/32"

# BIRD restarted: the session comes back with the routes
kill "$(cat "$T/bird.pid")"
sleep 0.5
bird_start
check "BIRD restarted: Established again" wait_for 20 established
check "and the route is there again" wait_for 5 in_table master4 "198.51.100.9/32"
kill -TERM $pid
wait $pid
rc=$?
check "moatd exits cleanly again (rc $rc)" [ $rc -eq 0 ]

# auto toward a peer without Flowspec: the blackhole goes there instead
sed -i 's/families: \[ipv4, ipv6, flowspec4, flowspec6\]/families: [ipv4]/' "$T/moat.yaml"
rm -f "$T/bgp-routes.json"
start_moatd
check "a session offering IPv4 unicast only" wait_for 15 established
lab_inet "$MOAT_GEN" -i inet0 -d 3 --attack dns:198.51.100.5:20k:start=0:dur=3:len=1200 2>"$T/gen2.log"
check "auto: the blackhole of 198.51.100.5 to the peer without Flowspec" \
	sh -c "birdc -s '$T/bird.ctl' show route all 198.51.100.5/32 table master4 | grep -q '(65535,666)'"
check "and no Flowspec rule there" sh -c "! birdc -s '$T/bird.ctl' show route table flowtab4 | grep -q '198.51.100.5/32'"
kill -TERM $pid
wait $pid
rc=$?
check "moatd exits cleanly a third time (rc $rc)" [ $rc -eq 0 ]
grep -E "bgp|error" "$T/moatd.log" | tail -20
finish
