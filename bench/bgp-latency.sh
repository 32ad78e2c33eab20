#!/bin/sh
# Detection to BGP UPDATE: moatd (release) in the protected namespace of the two-namespace lab
# (tools/lab.sh) captures on prot0 and peers with a real BIRD 2 in the "internet" namespace
# (192.0.2.1, AS 65000, the config of tests/netns/bgp.sh) with `mitigation: [{action: flowspec}]`;
# moat-gen floods N targets one after another (a DNS reflection, 30 kpps, 2 s each, 3 s apart).
# For each attack (W = bgp_update_sent.mono_ns of the write() that completed the UPDATE carrying
# the attack's route, matched by route id):
#   detect_ms = W (turned into wall-clock time with the CLOCK_REALTIME - CLOCK_MONOTONIC offset
#               read at the end) minus attack_start's ts, the detector tick the attack was seen
#               in: tick processing, policy, speaker and write, in ms;
#   ann_us    = W minus bgp_announce.mono_ns, in us. That clock is read when the policy emits the
#               event, after bgp_speaker_announce() has returned, so the speaker's thread may
#               have written already: a negative value says the UPDATE was on the socket before
#               the policy finished its own bookkeeping;
#   in_bird   = from attack_start's ts to the first `birdc show route table flowtab4` (polled every
#               10 ms, each poll a few ms) that lists the target, in ms: coarse, an upper bound.
# Prints each, their medians and maxima. Target (issue: BGP): under 50 ms from detection to UPDATE.
# usage: sh bench/bgp-latency.sh [N]   (root; needs bird2, jq)
. "$(dirname "$0")/lib.sh"
. "$ROOT/tools/lab.sh"
N=${1:-10}
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 1; }
for t in bird birdc jq; do command -v $t >/dev/null || { echo "needs $t" >&2; exit 1; }; done
D=$(mktemp -d "$W/bgp-latency.XXXXXX")
cleanup() {
	[ -n "$poller" ] && kill "$poller" 2>/dev/null
	[ -f "$D/bird.pid" ] && kill "$(cat "$D/bird.pid")" 2>/dev/null
	lab_down
}
trap cleanup EXIT INT TERM
lab_up || exit 1
lab_bird_conf "$D" "{ warning, error, fatal }"
lab_inet bird -c "$D/bird.conf" -s "$D/bird.ctl" -P "$D/bird.pid" || exit 1
for _ in $(seq 1 30); do [ -S "$D/bird.ctl" ] && break; sleep 0.1; done
cat >"$D/moat.yaml" <<YAML
networks: [198.51.100.0/24]
thresholds: {pps: 10000}
detection: {cooldown: 1}
capture:
  - af_packet: {interface: prot0, workers: 1}
control: {socket: none}
history: {path: none}
bgp:
  local_as: 65001
  router_id: 192.0.2.2
  peers:
    - {address: 192.0.2.1, remote_as: 65000, families: [ipv4, flowspec4], hold_time: 9}
  hold: 1
mitigation:
  - {action: flowspec}
YAML
ip netns exec "$LAB_PROT" "$MOATD" -c "$D/moat.yaml" --events "$D/ev.json" 2>"$D/moatd.log" &
moatd_pid=$! # stopped by pid: a name would hit every moatd on the host
for _ in $(seq 1 150); do
	birdc -s "$D/bird.ctl" show protocols moat 2>/dev/null | grep -q Established && break
	sleep 0.1
done
birdc -s "$D/bird.ctl" show protocols moat | grep -q Established ||
	{ echo "no BGP session: see $D/moatd.log $D/bird.log" >&2; exit 1; }
# the poller: one line "epoch_seconds target" per poll for every target in flowtab4
(
	while :; do
		r=$(birdc -s "$D/bird.ctl" show route table flowtab4 2>/dev/null)
		t=$(date +%s.%N) # after the answer: an upper bound
		echo "$r" | sed -n 's/.*flow4 { dst \([0-9.]*\)\/32;.*/\1/p' | sed "s/^/$t /"
		sleep 0.01
	done
) >"$D/polls" &
poller=$!
args=""
i=1
while [ "$i" -le "$N" ]; do
	args="$args --attack dns:198.51.100.$((9 + i)):30k:start=$((1 + 3 * (i - 1))):dur=2:len=1200"
	i=$((i + 1))
done
# shellcheck disable=SC2086
lab_inet "$MOAT_GEN" -i inet0 -d $((3 * N + 2)) $args 2>"$D/gen.log"
sleep 3
kill "$poller"
poller=
kill -TERM "$moatd_pid"
wait "$moatd_pid"
sleep 0.5
# CLOCK_REALTIME - CLOCK_MONOTONIC in seconds (the smallest of a few reads: the least delayed)
off=$(perl -MTime::HiRes=clock_gettime,CLOCK_MONOTONIC,CLOCK_REALTIME -e '
	my ($o, $w);
	for (1 .. 20) {
		my $m = clock_gettime(CLOCK_MONOTONIC); my $r = clock_gettime(CLOCK_REALTIME);
		my $m2 = clock_gettime(CLOCK_MONOTONIC);
		($o, $w) = ($r - ($m + $m2) / 2, $m2 - $m) if !defined $w || $m2 - $m < $w;
	}
	printf "%.6f", $o')
echo "# detection to BGP UPDATE, $N attacks, BIRD $(bird --version 2>&1 | awk '{ print $3 }')"
machine
printf '%-16s %10s %10s %10s\n' target detect_ms ann_us in_bird_ms
jq -r 'select(.event == "bgp_announce") | [.target, .attack, .route_id, .mono_ns] | @tsv' "$D/ev.json" |
	while IFS="$(printf '\t')" read -r tgt aid rid ann; do
		ts=$(jq -r --arg id "$aid" 'select(.event == "attack_start" and .id == $id) | .ts' "$D/ev.json")
		wr=$(jq -r --argjson r "$rid" 'select(.event == "bgp_update_sent" and .withdraw == false
			and (.ids | index($r))) | .mono_ns' "$D/ev.json" | head -1)
		us=$(awk -v w="$wr" -v a="$ann" 'BEGIN { printf "%.0f", (w - a) / 1000 }')
		dm=$(awk -v w="$wr" -v o="$off" -v t="$ts" 'BEGIN { printf "%.2f", (w / 1e9 + o - t) * 1000 }')
		seen=$(awk -v t="$tgt" '$2 == t { print $1; exit }' "$D/polls")
		ms=$(awk -v s="$seen" -v t="$ts" 'BEGIN { if (s == "") print "-"; else printf "%.1f", (s - t) * 1000 }')
		printf '%-16s %10s %10s %10s\n' "$tgt" "$dm" "$us" "$ms"
		echo "$dm" >>"$D/detect"
		echo "$us" >>"$D/write"
		[ "$ms" != - ] && echo "$ms" >>"$D/bird"
	done
[ -s "$D/write" ] || { echo "no announcements: see $D/moatd.log"; exit 1; }
echo "detect_ms: median $(median <"$D/detect"), max $(sort -g "$D/detect" | tail -1)"
echo "ann_us: median $(median <"$D/write"), max $(sort -g "$D/write" | tail -1) ($(wc -l <"$D/write") attacks)"
[ -s "$D/bird" ] && echo "in_bird_ms: median $(median <"$D/bird"), max $(sort -g "$D/bird" | tail -1) ($(wc -l <"$D/bird") seen)"
