#!/bin/sh
# Detection to rule in effect: moatd (release) with its scrubber on prot0 of the two-namespace lab
# (tools/lab.sh); moat-gen floods N targets one after another (a DNS reflection, 30 kpps, 2 s each,
# 3 s apart). For each attack:
#   setup   = mitigation_start.setup_us: from the detector's attack_start (the moment it is
#             emitted) to the rule's map update returning, after which the next packet meets it;
#   effect  = the first dropped packet's timestamp (every drop sampled: sample_every 1) minus the
#             attack_start's ts (the detector tick the attack was seen in): tick processing, the
#             rule's setup and the wait for the next attack packet (33 us at 30 kpps).
# Prints each, their medians and maxima. Target (issue: XDP scrubber): under 10 ms.
# usage: sh bench/mitigate-latency.sh [N]   (root)
. "$(dirname "$0")/lib.sh"
. "$ROOT/tools/lab.sh"
N=${1:-10}
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 1; }
D=$(mktemp -d "$W/latency.XXXXXX")
cleanup() {
	ip netns exec "$LAB_PROT" "$MOATD" --unload -c "$D/moat.yaml" >/dev/null 2>&1
	lab_down
	umount "$D/bpffs" 2>/dev/null
}
trap cleanup EXIT INT TERM
lab_up || exit 1
mkdir -p "$D/bpffs" && mount -t bpf bpf "$D/bpffs" || exit 1
cat >"$D/moat.yaml" <<YAML
networks: [198.51.100.0/24]
thresholds: {pps: 10000}
detection: {cooldown: 1}
capture:
  - af_packet: {interface: prot0, workers: 1}
scrubber:
  interfaces: [prot0]
  hold: 1
  sample_every: 1
  evidence_packets: 5
  evidence_dir: $D/evidence
  pin_dir: $D/bpffs/moat
control: {socket: none}
history: {path: none}
YAML
ip netns exec "$LAB_PROT" "$MOATD" -c "$D/moat.yaml" --events "$D/ev.json" 2>"$D/moatd.log" &
moatd_pid=$! # stopped by pid: a name would hit every moatd on the host
for _ in $(seq 1 50); do grep -q "capturing on" "$D/moatd.log" && break; sleep 0.1; done
mode=$(grep -o 'attached to prot0 in [a-z]* mode' "$D/moatd.log")
args=""
i=1
while [ "$i" -le "$N" ]; do
	args="$args --attack dns:198.51.100.$((9 + i)):30k:start=$((1 + 3 * (i - 1))):dur=2:len=1200"
	i=$((i + 1))
done
# shellcheck disable=SC2086
lab_inet "$MOAT_GEN" -i inet0 -d $((3 * N + 2)) $args 2>"$D/gen.log"
sleep 3
kill -TERM "$moatd_pid"
wait "$moatd_pid"
sleep 0.5
echo "# detection to rule in effect, $N attacks, XDP $mode"
machine
printf '%-16s %10s %10s\n' target setup_us effect_ms
jq -r 'select(.event == "mitigation_start") | [.target, .attack, .setup_us, .evidence] | @tsv' "$D/ev.json" |
	while IFS="$(printf '\t')" read -r tgt aid setup ev; do
		ts=$(jq -r --arg id "$aid" 'select(.event == "attack_start" and .id == $id) | .ts' "$D/ev.json")
		first=$(tcpdump -tt -nr "$ev" -c 1 2>/dev/null | awk '{ print $1 }')
		eff=$(awk -v f="$first" -v t="$ts" 'BEGIN { printf "%.3f", (f - t) * 1000 }')
		printf '%-16s %10s %10s\n' "$tgt" "$setup" "$eff"
		echo "$setup" >>"$D/setup"
		echo "$eff" >>"$D/effect"
	done
[ -s "$D/setup" ] || { echo "no mitigations: see $D/moatd.log"; exit 1; }
echo "setup_us: median $(median <"$D/setup"), max $(sort -g "$D/setup" | tail -1)"
echo "effect_ms: median $(median <"$D/effect"), max $(sort -g "$D/effect" | tail -1)"
