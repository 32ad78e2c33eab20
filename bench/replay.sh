#!/bin/sh
# Offline replay throughput, end to end (libpcap read, decode, account, detect, events), one core.
# The capture: 6 million packets in 6 s of traffic (1 Mpps: background to 250 hosts plus a SYN
# flood, a spoofed UDP flood and an IPv6 DNS amplification), cut at 128 bytes like a mirror-port
# capture. Peer in the same run: tcpdump reading the same file and writing it to /dev/null, the
# floor of what any libpcap reader can do.
. "$(dirname "$0")/lib.sh"
cat >"$W/replay.yaml" <<'YAML'
networks: [198.51.100.0/24, 2001:db8:5::/48]
thresholds: {pps: 20000, mbps: 1000, flows: 5000, syn_pps: 10000}
YAML
f="$W/replay.pcap"
[ -f "$f" ] || $MOAT_GEN -o "$f" --snaplen 128 -d 6 --background 600k:hosts=250 \
	--attack syn:198.51.100.5:200k:start=1:dur=4 \
	--attack udp:198.51.100.6:150k:start=1.5:dur=4:sources=0 \
	--attack dns:[2001:db8:5::9]:50k:start=2:dur=3 >/dev/null 2>&1
pkts=$(tcpdump -r "$f" -w /dev/null --count 2>/dev/null | awk '{print $1}')
: >"$W/moat.mpps"
: >"$W/tcpdump.mpps"
for _ in $(seq 1 "$RUNS"); do
	$MOATD -c "$W/replay.yaml" -r "$f" 2>&1 | sed -n 's/.* \([0-9.]*\) Mpps$/\1/p' >>"$W/moat.mpps"
	s=$(date +%s.%N)
	tcpdump -r "$f" -w /dev/null 2>/dev/null
	e=$(date +%s.%N)
	awk -v n="$pkts" -v s="$s" -v e="$e" 'BEGIN { printf "%.2f\n", n / (e - s) / 1e6 }' >>"$W/tcpdump.mpps"
done
m=$(median <"$W/moat.mpps")
t=$(median <"$W/tcpdump.mpps")
echo "## Offline replay throughput ($pkts packets, median of $RUNS runs)"
machine
echo
echo "| reader | Mpps per core (median) | runs |"
echo "|---|---|---|"
echo "| moatd -r (end to end) | $m | $(tr '\n' ' ' <"$W/moat.mpps")|"
echo "| tcpdump -r -w /dev/null (libpcap floor) | $t | $(tr '\n' ' ' <"$W/tcpdump.mpps")|"
echo
awk -v m="$m" -v t="$t" 'BEGIN { printf "moatd runs at %.0f%% of the speed of libpcap merely reading and writing the file.\n", 100 * m / t }'
