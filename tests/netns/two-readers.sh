#!/bin/sh
# Two AF_PACKET readers on one interface each see every packet: their fanout groups must never
# be joined (moatd asks the kernel for a unique group id; it once derived one from its pid and
# could land in another program's group, which split the traffic silently).
. "$MOAT_ROOT/tests/replay/lib.sh"
. "$MOAT_ROOT/tools/lab.sh"
trap 'lab_down' EXIT INT TERM
lab_up || { echo "FAIL: cannot build the lab"; exit 1; }

for n in a b; do
	w=2
	[ $n = b ] && w=1
	printf 'networks: [198.51.100.0/24]\ncontrol: {socket: none}\nhistory: {path: none}\ncapture:\n  - af_packet: {interface: prot0, workers: %s}\n' $w >"$T/$n.yaml"
	ip netns exec "$LAB_PROT" "$MOATD" -c "$T/$n.yaml" --stats 2>"$T/$n.log" &
	eval "pid_$n=\$!"
done
for _ in $(seq 1 50); do
	[ "$(cat "$T/a.log" "$T/b.log" | grep -c 'capturing on')" -ge 2 ] && break
	sleep 0.1
done
lab_inet "$MOAT_GEN" -i inet0 -d 2 --attack udp:198.51.100.5:5k:start=0:dur=2 2>"$T/gen.log"
sleep 0.5
kill -TERM $pid_a $pid_b
wait $pid_a
ra=$?
wait $pid_b
rb=$?
sent=$(sed -n 's/.*sent \([0-9]*\) packets.*/\1/p' "$T/gen.log")
for n in a b; do
	got=$(sed -n 's/^decoded \([0-9]*\).*/\1/p' "$T/$n.log")
	check "reader $n decoded $got of the $sent packets sent" [ "${got:-0}" -ge "${sent:-1}" ]
done
check "both exit cleanly ($ra, $rb)" sh -c "[ $ra -eq 0 ] && [ $rb -eq 0 ]"
finish
