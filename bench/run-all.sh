#!/bin/sh
# Runs the quick benchmarks and prints the results as Markdown (paste into BENCHMARKS.md).
# The peer comparisons take longer and run on their own, as root:
#   sh bench/fnm-onset.sh    detection latency and reported rate beside FastNetMon (~13 min)
#   sh bench/flows-fnm.sh    flow collectors' CPU per record beside FastNetMon (~22 min)
#   sh bench/xdp-ns.sh       XDP ns per packet beside xdp-filter (~1 min)
#   sh bench/xdp-veth.sh     XDP drop rate through a veth beside nftables (~3 min)
#   sh bench/mitigate-latency.sh   detection to scrubber rule in effect (~35 s)
#   sh bench/bgp-latency.sh; sh bench/bgp-load.sh   detection to BGP UPDATE; 10,000 routes to BIRD (~1 min; bird2)
#   sh bench/api-latency.sh  the HTTP API's p99 for top hosts and attacks under a 1 Mpps flood (~4 min; wrk)
#   sh bench/api-fnm.sh      the API beside FastNetMon's Prometheus endpoint and gRPC client (~2 min)
cd "$(dirname "$0")" || exit 1
for b in replay.sh hostmem.sh; do
	sh "$b"
	echo
done
echo "## Flow decoding (records per second per core)"
../build/release/bench/flowdecode_sflow
../build/release/bench/flowdecode_netflow
