#!/bin/sh
# Memory per tracked host: peak RSS of a replay that creates ~400,000 hosts (a carpet of
# 2001:db8:5::/100 at 20 kpps for 20 s) minus that of the same run over 4 hosts, divided by the
# hosts. Measured with limits.max_hosts sized to the network (409600) and at 40% fill (1048576):
# the indexes are sized by capacity, the host records by use.
. "$(dirname "$0")/lib.sh"
$MOAT_GEN -o "$W/many.pcap" -d 20 --snaplen 96 --attack carpet:2001:db8:5::/100:20k:start=0:dur=20 >/dev/null 2>&1
$MOAT_GEN -o "$W/few.pcap" -d 20 --snaplen 96 --attack carpet:198.51.100.0/30:20k:start=0:dur=20 >/dev/null 2>&1
echo "## Memory per tracked host"
machine
echo
echo "| limits.max_hosts | hosts | peak RSS, many hosts (KiB) | peak RSS, 4 hosts (KiB) | bytes per host |"
echo "|---|---|---|---|---|"
for cap in 409600 1048576; do
	printf 'networks: ["2001:db8:5::/48", 198.51.100.0/24]\nthresholds: {pps: 100000000}\nlimits: {max_hosts: %s}\n' $cap >"$W/hm.yaml"
	$MOATD -c "$W/hm.yaml" -r "$W/many.pcap" --stats 2>"$W/many.txt"
	$MOATD -c "$W/hm.yaml" -r "$W/few.pcap" --stats 2>"$W/few.txt"
	hosts=$(sed -n 's/^hosts \([0-9]*\).*/\1/p' "$W/many.txt")
	a=$(sed -n 's/^peak rss \([0-9]*\) KiB.*/\1/p' "$W/many.txt")
	b=$(sed -n 's/^peak rss \([0-9]*\) KiB.*/\1/p' "$W/few.txt")
	echo "| $cap | $hosts | $a | $b | $(awk -v a="$a" -v b="$b" -v h="$hosts" 'BEGIN { printf "%.0f", (a - b) * 1024 / h }') |"
done
echo
echo "The host record itself is 216 bytes; the rest is the detector's index and the workers' tick-table indexes (by capacity)."
