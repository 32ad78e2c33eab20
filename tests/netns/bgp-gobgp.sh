#!/bin/sh
# BGP end to end against GoBGP (gobgpd 3): the lab's "internet" namespace is the operator's router
# (gobgpd at 192.0.2.1, AS 65000, its gRPC API on that namespace's own loopback), moatd (ASan
# build) in the protected namespace peers with it (AS 65001, all four families) and captures on
# prot0 while moat-gen floods. Asserts: the session is Established on both sides; a DNS
# reflection on 198.51.100.5 becomes an IPv4 Flowspec rule in GoBGP's rib (UDP, source port 53,
# packet length >= 1200, traffic-rate 0 = discard), an NTP reflection on 2001:db8:5::5 an IPv6
# Flowspec rule, a SYN flood over the blackhole threshold on 198.51.100.6 a blackhole /32 with
# its standard and large communities; all three are withdrawn after the attacks end plus the
# hold; a diversion by hand appears as the /24 with its community and is withdrawn by id; a TCP
# MD5 password mismatch keeps the session down (moatd staying up), matching passwords bring it
# up; moatd exits cleanly on SIGTERM each time and withdraws its routes on shutdown.
. "$MOAT_ROOT/tests/replay/lib.sh"
. "$MOAT_ROOT/tools/lab.sh"
MOATCTL="${MOATCTL:-$MOAT_ROOT/build/asan/moatctl}"
cleanup() {
	[ "$(exec sh -c 'echo $PPID')" = "$$" ] || return 0
	[ -n "${gobgpd_pid:-}" ] && kill "$gobgpd_pid" 2>/dev/null
	lab_down
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE

[ "$(id -u)" = 0 ] || { echo "FAIL: needs root for network namespaces"; exit 1; }
for tool in gobgpd gobgp jq; do
	command -v $tool >/dev/null || { echo "FAIL: $tool is missing (gobgpd, gobgp: apt-get install gobgpd)"; exit 1; }
done
lab_up || { echo "FAIL: cannot build the lab"; exit 1; }

API=127.0.0.1:50051 # in the router namespace: its own loopback
# gobgp_conf PASSWORD (empty: no TCP MD5)
gobgp_conf() {
	cat >"$T/gobgpd.toml" <<EOF
[global.config]
  as = 65000
  router-id = "192.0.2.1"
  local-address-list = ["192.0.2.1"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "192.0.2.2"
    peer-as = 65001
    auth-password = "$1"
  [neighbors.timers.config]
    hold-time = 9
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-flowspec"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-flowspec"
EOF
}
gobgp_() { ip netns exec "$LAB_INET" gobgp -u 127.0.0.1 -p 50051 "$@"; }
gobgp_up() { gobgp_ global >/dev/null 2>&1; }
gobgpd_start() {
	ip netns exec "$LAB_INET" gobgpd -f "$T/gobgpd.toml" -t toml --api-hosts "$API" \
		--pprof-disable -p >>"$T/gobgpd.log" 2>&1 &
	gobgpd_pid=$!
	wait_for 10 gobgp_up
}
gobgpd_stop() {
	kill "$gobgpd_pid" 2>/dev/null
	wait "$gobgpd_pid" 2>/dev/null
	gobgpd_pid=
}
established() { gobgp_ neighbor 2>/dev/null | grep '192\.0\.2\.2' | grep -q 'Establ'; }
# in_rib FAMILY PATTERN: a route matching PATTERN (grep -E) in GoBGP's global rib of FAMILY
in_rib() { gobgp_ global rib -a "$1" 2>/dev/null | grep -Eq -- "$2"; }
not_in_rib() { ! in_rib "$@"; }
not() { ! "$@"; }
rib_text() { gobgp_ global rib -a "$1" 2>/dev/null | tr -s ' \n' ' '; }

gobgp_conf ""
gobgpd_start
check "gobgpd runs in the router namespace, its API answers" gobgp_up

# moat_conf MD5_LINE_FRAGMENT
moat_conf() {
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
    - {address: 192.0.2.1, remote_as: 65000, families: [ipv4, ipv6, flowspec4, flowspec6], hold_time: 9$1}
  blackhole:
    communities: ["65535:666", "65001:666"]
    large_communities: ["65001:666:1"]
    next_hop: 192.0.2.254
    next_hop6: "2001:db8::666"
  diversion: {next_hop: 192.0.2.253, communities: ["65001:777"]}
  hold: 3
  withdraw_on_shutdown: true
  state_file: $T/bgp-routes.json
mitigation:
  - {when: {pps_over: 30000}, action: blackhole}
  - {action: auto}
YAML
}
ctl() { "$MOATCTL" -s "$T/ctl.sock" "$@"; }
runs=0
start_moatd() { # each run its own log and events file ($ev)
	runs=$((runs + 1))
	ev=$T/ev-$runs.json
	: >"$T/moatd.log"
	ip netns exec "$LAB_PROT" "$MOATD" -c "$T/moat.yaml" --events "$ev" 2>>"$T/moatd.log" &
	pid=$!
	wait_for 10 grep -q "capturing on" "$T/moatd.log"
}
stop_moatd() { # what: SIGTERM, then the exit status must be 0 (ASan reports make it non-zero)
	kill -TERM $pid
	wait $pid
	rc=$?
	check "moatd exits cleanly on SIGTERM $1 (rc $rc)" [ $rc -eq 0 ]
	cat "$T/moatd.log" >>"$T/moatd.all.log"
}
# withdrawn_before_down ROUTE_ID: moatd sent the route's withdraw before the session went down
# (GoBGP drops a closed session's routes anyway: the rib alone does not show withdraw_on_shutdown)
withdrawn_before_down() {
	jq -se --argjson id "$1" '(to_entries | map(select(.value.event == "bgp_update_sent" and
		.value.withdraw and (.value.ids | index($id)))) | last.key) as $w |
		(to_entries | map(select(.value.event == "bgp_peer_down")) | last.key) as $d |
		$w != null and $d != null and $w < $d' "$ev" >/dev/null
}
moat_established() { ctl --json bgp peers 2>/dev/null | jq -e '.peers[0].state == "established"' >/dev/null; }

moat_conf ""
start_moatd
check "GoBGP: the session reaches Established" wait_for 15 established
check "moatctl bgp peers says established" wait_for 3 moat_established
families() { gobgp_ neighbor 192.0.2.2 | grep -Ec '(ipv4|ipv6)-(unicast|flowspec):[[:space:]]+advertised and received'; }
check "GoBGP: the four families advertised and received ($(families))" [ "$(families)" -eq 4 ]

lab_inet "$MOAT_GEN" -i inet0 -d 4 \
	--attack dns:198.51.100.5:20k:start=0:dur=4:len=1200 \
	--attack ntp:[2001:db8:5::5]:15k:start=0:dur=4 \
	--attack syn:198.51.100.6:45k:start=0:dur=4 2>"$T/gen.log" &
gen=$!
check "flowspec4: the DNS reflection's rule in GoBGP" wait_for 4 in_rib ipv4-flowspec "198\.51\.100\.5/32"
f4=$(rib_text ipv4-flowspec)
# traffic-rate 0 is what gobgp prints as discard
check "flowspec4 rule: UDP from port 53, length >= 1200, discard: $f4" \
	sh -c "echo '$f4' | grep -q 'destination: 198.51.100.5/32' && echo '$f4' | grep -q 'protocol: ==udp' && echo '$f4' | grep -q 'source-port: ==53' && echo '$f4' | grep -q 'packet-length: >=1200' && echo '$f4' | grep -q 'discard'"
check "flowspec6: the NTP reflection's rule in GoBGP" wait_for 4 in_rib ipv6-flowspec "2001:db8:5::5/128"
f6=$(rib_text ipv6-flowspec)
check "flowspec6 rule: UDP from port 123, discard: $f6" \
	sh -c "echo '$f6' | grep -q 'destination: 2001:db8:5::5/128' && echo '$f6' | grep -q 'protocol: ==udp' && echo '$f6' | grep -q 'source-port: ==123' && echo '$f6' | grep -q 'discard'"
check "blackhole of the SYN flood's target in GoBGP" wait_for 4 in_rib ipv4 "198\.51\.100\.6/32"
b4=$(gobgp_ global rib -a ipv4 198.51.100.6/32 2>/dev/null | tr -s ' \n' ' ')
check "blackhole next hop 192.0.2.254, communities 65535:666, 65001:666, 65001:666:1: $b4" \
	sh -c "echo '$b4' | grep -q '192.0.2.254' && echo '$b4' | grep -Eiq '65535:666|blackhole' && echo '$b4' | grep -q '65001:666[^:]' && echo '$b4' | grep -q '65001:666:1'"
wait $gen
# auto: the peer negotiated Flowspec, so it gets the rules and not the reflections' blackholes
check "auto with a Flowspec peer: no blackhole for 198.51.100.5: $(rib_text ipv4)" \
	not_in_rib ipv4 "198\.51\.100\.5/32"
check "auto with a Flowspec peer: no blackhole for 2001:db8:5::5: $(rib_text ipv6)" \
	not_in_rib ipv6 "2001:db8:5::5/128"

# by hand: a diversion of 198.51.100.7's /24
out=$(ctl --json bgp announce diversion 198.51.100.7)
rid=$(echo "$out" | jq .route.id)
check "moatctl bgp announce diversion: $(echo "$out" | jq -c .route.route)" [ -n "$rid" ]
check "diversion 198.51.100.0/24 in GoBGP" wait_for 3 in_rib ipv4 "198\.51\.100\.0/24"
d4=$(gobgp_ global rib -a ipv4 198.51.100.0/24 2>/dev/null | tr -s ' \n' ' ')
check "diversion community 65001:777 and next hop 192.0.2.253: $d4" \
	sh -c "echo '$d4' | grep -q '65001:777' && echo '$d4' | grep -q '192.0.2.253'"
check "moatctl bgp withdraw $rid" sh -c "'$MOATCTL' -s '$T/ctl.sock' bgp withdraw $rid >/dev/null"
check "diversion gone from GoBGP" wait_for 3 not_in_rib ipv4 "198\.51\.100\.0/24"

# the attacks end (cooldown 2 s), their routes go after the hold (3 s)
gone() {
	not_in_rib ipv4-flowspec "198\.51\.100\.5/32" && not_in_rib ipv6-flowspec "2001:db8:5::5/128" &&
		not_in_rib ipv4 "198\.51\.100\.6/32"
}
check "the attacks' routes are withdrawn after the hold" wait_for 12 gone
for e in bgp_announce bgp_withdraw bgp_peer_up bgp_update_sent; do
	check "event $e logged ($(grep -c "\"$e\"" "$ev"))" grep -q "\"event\":\"$e\"" "$ev"
done

# a route active when moatd stops is withdrawn on shutdown
rid=$(ctl --json bgp announce blackhole 198.51.100.9 | jq .route.id)
check "a blackhole by hand reaches GoBGP" wait_for 3 in_rib ipv4 "198\.51\.100\.9/32"
stop_moatd "(first run)"
check "withdrawn on shutdown: gone from GoBGP" wait_for 3 not_in_rib ipv4 "198\.51\.100\.9/32"
check "withdrawn on shutdown: the withdraw of route $rid sent before the session closed" \
	withdrawn_before_down "$rid"
check "GoBGP sees the session go down" wait_for 3 not established

# TCP MD5: different passwords keep the session down, the same ones bring it up
rm -f "$T/bgp-routes.json"
gobgpd_stop
gobgp_conf "not-the-secret"
gobgpd_start
check "gobgpd restarted with auth-password" gobgp_up
moat_conf ", md5: secret"
start_moatd
sleep 8
check "MD5 mismatch: no session within 8 s (GoBGP)" not established
check "MD5 mismatch: moatctl bgp peers not established: $(ctl --json bgp peers | jq -c '.peers[0].state')" not moat_established
check "MD5 mismatch: moatd is still up" kill -0 $pid
stop_moatd "(MD5 mismatch)"
gobgpd_stop
gobgp_conf "secret"
gobgpd_start
check "gobgpd restarted with the matching auth-password" gobgp_up
start_moatd
check "MD5 match: the session reaches Established (GoBGP)" wait_for 15 established
check "MD5 match: moatctl bgp peers says established" wait_for 3 moat_established
rid=$(ctl --json bgp announce blackhole 198.51.100.9 | jq .route.id)
check "MD5 session: a blackhole by hand reaches GoBGP" wait_for 3 in_rib ipv4 "198\.51\.100\.9/32"
stop_moatd "(MD5 session)"
check "MD5 session: withdrawn on shutdown: gone from GoBGP" wait_for 3 not_in_rib ipv4 "198\.51\.100\.9/32"
check "MD5 session: the withdraw of route $rid sent before the session closed" withdrawn_before_down "$rid"
grep -E "bgp|error" "$T/moatd.all.log" | tail -20
finish
