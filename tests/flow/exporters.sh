#!/bin/sh
# Real exporters, same attacks: a generated capture is replayed through moatd in packet mode for
# the reference, then turned into flows by Debian's softflowd (NetFlow v5, v9, IPFIX, and v9 with
# 1:10 sampling) and pmacct's pmacctd (nfprobe NetFlow v9, sfprobe sFlow v5) sent to moatd's
# collectors on loopback. Each run must find the same attacks, on the same targets and with the
# same types, at rates within 10% of the packet-mode figures (sampling compensated).
. "$MOAT_ROOT/tests/replay/lib.sh"

for t in softflowd pmacctd; do
	command -v $t >/dev/null || { echo "FAIL: $t is not installed (make test installs it)"; exit 1; }
done

# one IPv4 and one IPv6 attack over background; flows expire 1 s after their last packet
$MOAT_GEN -o "$T/a.pcap" -d 10 --truth "$T/truth.json" --background 300:hosts=8 \
	--attack syn:198.51.100.5:12k:start=2:dur=4 \
	--attack udp:[2001:db8:5::9]:10k:start=3:dur=4:dport=443:sources=200 >/dev/null 2>&1 \
	|| { echo "FAIL: moat-gen"; exit 1; }

conf() { # capture kind, port
	cat <<YAML
networks: [198.51.100.0/24, 2001:db8:5::/48]
thresholds: {pps: 6000}
detection: {cooldown: 2, update_interval: 5}
control: {socket: none}
history: {path: none}
capture:
  - $1: {listen: "127.0.0.1:$2"}
YAML
}
conf netflow 1 | sed '/capture:/,$d' >"$T/ref.yaml"
$MOATD -c "$T/ref.yaml" -r "$T/a.pcap" --events "$T/ref.json" 2>/dev/null || { echo "FAIL: packet-mode reference"; exit 1; }
ref() { jq -r --arg t "$1" 'select(.event=="attack_start" and .target==$t) | .'"$2" "$T/ref.json" | head -1; }
check "packet mode: SYN flood on 198.51.100.5 ($(ref 198.51.100.5 type) $(ref 198.51.100.5 pps) pps)" \
	[ "$(ref 198.51.100.5 type)" = syn_flood ]
check "packet mode: UDP flood on 2001:db8:5::9 ($(ref 2001:db8:5::9 type) $(ref 2001:db8:5::9 pps) pps)" \
	[ "$(ref 2001:db8:5::9 type)" = udp_flood ]

# ev FILE EVENT TARGET FIELD: that field of the first such event
ev() { jq -r --arg e "$2" --arg t "$3" 'select(.event==$e and .target==$t) | .'"$4" "$1" | head -1; }

port=$((20000 + $$ % 20000))
run() { # name, kind, want_v6 (1/0), exporter command...
	name=$1 kind=$2 v6=$3
	shift 3
	port=$((port + 1))
	conf "$kind" $port >"$T/$name.yaml"
	${MOATD_NS:-} $MOATD -c "$T/$name.yaml" --events "$T/$name.json" --stats 2>"$T/$name.log" &
	pid=$!
	for _ in $(seq 1 50); do grep -q "collecting" "$T/$name.log" && break; sleep 0.1; done
	(cd "$T" && "$@" >"$T/$name.exporter.log" 2>&1)
	# the capture is replayed at its own pace: wait for both attacks to end
	want=$((1 + v6))
	for _ in $(seq 1 100); do
		[ "$(grep -c attack_end "$T/$name.json" 2>/dev/null)" -ge $want ] && break
		sleep 0.2
	done
	kill -TERM $pid
	wait $pid
	check "$name: moatd exits cleanly" [ $? -eq 0 ]
	grep -E "exporter|datagrams" "$T/$name.log" | sed "s/^/   $name: /"
	for tgt in 198.51.100.5 2001:db8:5::9; do
		[ "$tgt" = 2001:db8:5::9 ] && [ "$v6" = 0 ] && continue
		ty=$(jq -r --arg t $tgt 'select(.event=="attack_start" and .target==$t) | .type' "$T/$name.json" | head -1)
		check "$name: $tgt detected as $(ref $tgt type) (got '$ty')" [ "$ty" = "$(ref $tgt type)" ]
		# the rate at detection, the peak and the attack's packets, against packet mode
		for f in "attack_start pps" "attack_end peak_pps" "attack_end packets"; do
			set -- $f
			got=$(ev "$T/$name.json" $1 $tgt $2)
			want_v=$(ev "$T/ref.json" $1 $tgt $2)
			check "$name: $tgt $2 $got within 10% of packet mode $want_v" within "${got:-0}" "$want_v" 0.10
		done
	done
	n=$(grep -c attack_start "$T/$name.json")
	check "$name: no other attack ($n starts)" [ "$n" -eq "$want" ]
}

# softflowd: -r reads the capture. softflowd 1.1.0 reads a file one batch per wake-up of its poll
# loop, so its control socket is poked until every packet is processed, then shut down, which
# exports every flow.
pkts=$(tcpdump -r "$T/a.pcap" -w /dev/null --count 2>/dev/null | awk '{print $1}')
sf() {
	rm -f "$T/sf.ctl"
	softflowd -d -r a.pcap -n 127.0.0.1:$port -m 1000000 -6 -p "$T/sf.pid" -c "$T/sf.ctl" "$@" &
	sfpid=$!
	for _ in $(seq 1 100); do [ -S "$T/sf.ctl" ] && break; sleep 0.05; done
	for _ in $(seq 1 200); do
		done_=$(softflowctl -c "$T/sf.ctl" statistics 2>/dev/null | sed -n 's/^Packets processed: //p')
		[ "${done_:-0}" -ge "$pkts" ] && break
		sleep 0.05
	done
	softflowctl -c "$T/sf.ctl" shutdown >/dev/null 2>&1
	wait $sfpid
	echo "softflowd processed ${done_:-0} of $pkts packets"
}
run softflowd-v5 netflow 0 sf -v 5
run softflowd-v9 netflow 1 sf -v 9
run softflowd-ipfix netflow 1 sf -v 10
run softflowd-v9-sampled netflow 1 sf -v 9 -s 10

# pmacctd reads the capture with the nfprobe (NetFlow v9) and sfprobe (sFlow) plugins
cat >"$T/nfprobe.conf" <<EOF
daemonize: false
pcap_savefile: $T/a.pcap
pcap_savefile_wait: false
plugins: nfprobe
nfprobe_receiver: 127.0.0.1:PORT
nfprobe_version: 9
nfprobe_timeouts: general=1:maxlife=1:expint=1
nfprobe_maxflows: 65536
EOF
pm_nf() { sed "s/PORT/$port/" nfprobe.conf >nf.conf && timeout 60 pmacctd -f nf.conf; }
run pmacct-nfprobe netflow 1 pm_nf
# sFlow samples carry no timestamps: a capture read at full speed would arrive as one burst.
# So sfprobe samples live traffic: moat-gen sends the same capture, paced, into a namespace lab
# where pmacctd samples prot0 and exports to moatd on that namespace's loopback.
. "$MOAT_ROOT/tools/lab.sh"
trap 'lab_down' EXIT INT TERM
lab_up || { echo "FAIL: cannot build the lab"; exit 1; }
cat >"$T/sfprobe.conf" <<EOF
daemonize: false
pcap_interface: prot0
plugins: sfprobe
sfprobe_receiver: 127.0.0.1:PORT
sfprobe_agentip: 127.0.0.1
sampling_rate: 1
EOF
pm_sf() {
	sed "s/PORT/$port/" sfprobe.conf >sf.conf
	ip netns exec "$LAB_PROT" pmacctd -f sf.conf &
	spid=$!
	sleep 1
	lab_inet "$MOAT_GEN" -i inet0 -d 10 --background 300:hosts=8 \
		--attack syn:198.51.100.5:12k:start=2:dur=4 \
		--attack udp:[2001:db8:5::9]:10k:start=3:dur=4:dport=443:sources=200
	sleep 1
	kill $spid
	wait $spid
}
# moatd itself runs in the lab's protected namespace for this one
MOATD_NS="ip netns exec $LAB_PROT"
run pmacct-sfprobe-live sflow 1 pm_sf
lab_down
finish
