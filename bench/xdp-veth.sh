#!/bin/sh
# bench/xdp-veth.sh: how many packets per second the receiving end of a veth pair drops, and at
# what CPU cost, with moat's XDP scrubber (native and generic mode) and with an nftables rule in
# the netdev ingress hook, in the same run. Root only; makes two network namespaces and a veth
# pair of its own (documentation addresses only) and removes them on exit.
#
# A UDP flood of 60-byte frames to 198.51.100.5 goes from namespace G (vgen) to namespace S
# (vsink) for DUR seconds (default 5), once per setup per round, RUNS rounds (default 5), the
# order of the setups rotating. Setups:
#   none          no filter: the IP stack discards the datagrams (no socket on the port)
#   moat-native   bench/xdp-attach: the scrubber in native veth XDP, rule "198.51.100.5 udp drop"
#   moat-generic  the same in generic (skb) XDP
#   xdp-min       a 10-instruction XDP program (compiled here) dropping the same packets, native:
#                 the floor of XDP on a veth, whatever the program
#   nft           table netdev, hook ingress on vsink: "ip daddr 198.51.100.5 meta l4proto udp
#                 counter drop" (the earliest nftables hook, where a DDoS drop rule belongs)
# The generator is trafgen (netsniff-ng: precomputed frames in a TX ring, one process on CPU 0)
# if installed, else moat-gen -i (GEN=moat-gen forces it, pinned to CPU 0). A veth delivers in the
# sender's context: the receiving side's work runs as softirq on the sender's CPU, so one CPU
# does both and the drop rate is bounded by the sum; the receiving side's cost is CPU 0's softirq
# time (/proc/stat) per packet (other CPUs' is left out: other work on a shared machine lands
# there). Prints Markdown.
RUNS=${RUNS:-5}
DUR=${DUR:-5}
. "$(dirname "$0")/lib.sh"
set -e
[ "$(id -u)" = 0 ] || { echo "xdp-veth: needs root" >&2; exit 1; }
ATTACH=$ROOT/build/release/bench/xdp-attach
[ -x "$ATTACH" ] && [ -x "$MOAT_GEN" ] || make -C "$ROOT" -s release
command -v nft >/dev/null || { echo "xdp-veth: needs nft (Debian nftables)" >&2; exit 1; }
command -v jq >/dev/null || { echo "xdp-veth: needs jq" >&2; exit 1; }
if [ -z "$GEN" ]; then
	GEN=moat-gen
	command -v trafgen >/dev/null && GEN=trafgen
fi

G=mvg$$
S=mvs$$
APID=
cleanup() {
	[ -n "$APID" ] && kill "$APID" 2>/dev/null && wait "$APID" 2>/dev/null
	ip netns del "$G" 2>/dev/null
	ip netns del "$S" 2>/dev/null
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$G"
ip netns add "$S"
ip link add vgen netns "$G" address 02:00:00:00:00:01 type veth peer name vsink netns "$S" \
	address 02:00:00:00:00:02
ip -n "$G" addr add 198.51.100.1/24 dev vgen
ip -n "$S" addr add 198.51.100.5/24 dev vsink
for n in "$G" "$S"; do ip -n "$n" link set lo up; done
ip -n "$G" link set vgen up
ip -n "$S" link set vsink up
# the receiver's MAC and a neighbour entry, so nothing but the flood is sent
ip -n "$G" neigh replace 198.51.100.5 lladdr 02:00:00:00:00:02 dev vgen nud permanent
# a queue on the sending side: with XDP on the receiver, a full veth ring makes the sender wait
# (requeue) instead of failing the send (noqueue), which ended trafgen at once
tc -n "$G" qdisc replace dev vgen root pfifo limit 10000

cat >"$W/veth-xmin.bpf.c" <<'EOF'
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("xdp")
int xmin(struct xdp_md *ctx)
{
	void *d = (void *)(long)ctx->data, *e = (void *)(long)ctx->data_end;
	struct ethhdr *eth = d;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > e || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if (ip->daddr == bpf_htonl(0xc6336405) && ip->protocol == IPPROTO_UDP) /* 198.51.100.5 */
		return XDP_DROP;
	return XDP_PASS;
}
char LICENSE[] SEC("license") = "GPL";
EOF
${CLANG:-clang} -O2 -g -target bpf -I/usr/include/"$(cc -dumpmachine)" -c "$W/veth-xmin.bpf.c" \
	-o "$W/veth-xmin.o"

cat >"$W/veth-udp.trafgen" <<'EOF'
{
  eth(da=02:00:00:00:00:02, sa=02:00:00:00:00:01),
  ipv4(saddr=203.0.113.7, daddr=198.51.100.5, ttl=64),
  udp(sp=4000, dp=5000),
  fill(0x00, 18)
}
EOF

gen() {
	if [ "$GEN" = trafgen ]; then
		# -P 1: one process, which trafgen pins to CPU 0; -q: through the qdisc. trafgen quits
		# when a send finds its socket buffer full (EAGAIN), now and then at the start of a
		# flood: it is started again until DUR is up (restarts are counted in the log)
		end=$(($(date +%s%N) / 1000000 + DUR * 1000))
		while :; do
			left=$((end - $(date +%s%N) / 1000000))
			[ $left -gt 50 ] || break
			ip netns exec "$G" timeout -s INT "$(echo "$left" | awk '{ print $1 / 1000 }')" \
				trafgen -i "$W/veth-udp.trafgen" -o vgen -P 1 -q --no-sock-mem \
				--notouch-irq >>"$W/veth-gen.log" 2>&1 || true
		done
	else
		# a rate it cannot reach: as fast as it goes
		ip netns exec "$G" taskset -c 0 timeout -s INT "$DUR" "$MOAT_GEN" -i vgen -d 36000 \
			--attack udp:198.51.100.5:50M:len=46:sources=1 >>"$W/veth-gen.log" 2>&1 || true
	fi
}

txp() { ip -n "$G" -s -j link show vgen | jq '.[0].stats64.tx.packets'; }
rxp() { ip -n "$S" -s -j link show vsink | jq '.[0].stats64.rx.packets'; }
xdpdrops() { ip netns exec "$S" ethtool -S vsink | awk '/rx_queue_0_xdp_drops/ { print $2 }'; }
# user system softirq ticks (USER_HZ) of CPU 0, where the sender and so the receiving side run
cpu() { awk '/^cpu0 / { print $2 + $3, $4, $8 }' /proc/stat; }

attach() { # extra args for xdp-attach
	: >"$W/veth-attach.err"
	ip netns exec "$S" "$ATTACH" "$@" vsink rule 198.51.100.5 udp >"$W/veth-attach.json" \
		2>"$W/veth-attach.err" &
	APID=$!
	i=0
	until grep -q '^attached' "$W/veth-attach.err"; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$APID" 2>/dev/null; then
			cat "$W/veth-attach.err" >&2
			exit 1
		fi
		sleep 0.05
	done
}

detach() { # sets d to the rule's dropped packets (not in a subshell: APID is this shell's child)
	kill -TERM "$APID"
	wait "$APID" || true
	APID=
	d=$(jq '.rule.dropped_packets' "$W/veth-attach.json")
}

# one flood through one setup: prints "setup sent dropped seconds user_ticks sys_ticks softirq"
one() {
	case $1 in
	moat-native)
		attach
		awk '{ print $3 }' "$W/veth-attach.err" >"$W/veth-mode"
		;;
	xdp-min)
		ip -n "$S" link set dev vsink xdpdrv obj "$W/veth-xmin.o" sec xdp
		x0=$(xdpdrops)
		;;
	moat-generic) attach --generic ;;
	nft)
		ip netns exec "$S" nft -f - <<'EOF'
table netdev moatbench {
	chain in {
		type filter hook ingress device vsink priority -500; policy accept;
		ip daddr 198.51.100.5 meta l4proto udp counter drop
	}
}
EOF
		;;
	esac
	tx0=$(txp)
	rx0=$(rxp)
	c0=$(cpu)
	t0=$(date +%s%N)
	gen
	t1=$(date +%s%N)
	c1=$(cpu)
	tx1=$(txp)
	case $1 in
	none) d=$(($(rxp) - rx0)) ;;
	moat-*) detach ;;
	xdp-min)
		d=$(($(xdpdrops) - x0))
		ip -n "$S" link set dev vsink xdpdrv off
		;;
	nft)
		d=$(ip netns exec "$S" nft -j list table netdev moatbench |
			jq '[.nftables[].rule?.expr[]? | .counter?.packets // empty] | add')
		ip netns exec "$S" nft delete table netdev moatbench
		;;
	esac
	echo "$1 $((tx1 - tx0)) $d $(((t1 - t0) / 1000000)) $c0 $c1" |
		awk '{ print $1, $2, $3, $4 / 1000, $8 - $5, $9 - $6, $10 - $7 }'
}

setups="none moat-native moat-generic xdp-min nft"
: >"$W/veth.raw"
: >"$W/veth-gen.log"
r=0
while [ $r -lt "$RUNS" ]; do
	for s in $setups; do one "$s" >>"$W/veth.raw"; done
	setups="$(echo "$setups" | awk '{ for (i = 2; i <= NF; i++) printf "%s ", $i; print $1 }')"
	r=$((r + 1))
done
mode=$(cat "$W/veth-mode" 2>/dev/null || echo "?")

# per setup: medians of dropped Mpps, dropped/sent and softirq ns per packet
col() { # setup, awk expression over the fields of a line
	awk -v s="$1" '$1 == s { print '"$2"' }' "$W/veth.raw" | median
}
echo "## XDP drop rate through veth vs nftables ($GEN, ${DUR} s floods, median of $RUNS rounds)"
echo
machine
echo
echo "| receiving side | Mpps dropped | dropped / sent | softirq ns per packet |"
echo "|---|---|---|---|"
for s in moat-native moat-generic xdp-min nft none; do
	case $s in
	moat-native) name="moat XDP, $mode" ;;
	moat-generic) name="moat XDP, generic" ;;
	xdp-min) name="minimal XDP program, native (floor)" ;;
	nft) name="nftables, netdev ingress" ;;
	none) name="no filter (IP stack, no socket)" ;;
	esac
	echo "| $name | $(col $s '$3 / $4 / 1e6' | awk '{ printf "%.3f", $1 }') |" \
		"$(col $s '$2 ? $3 / $2 : 0' | awk '{ printf "%.3f", $1 }') |" \
		"$(col $s '$3 ? $7 * 1e7 / $3 : 0' | awk '{ printf "%.0f", $1 }') |"
done
echo
nat=$(col moat-native '$3 / $4')
gen=$(col moat-generic '$3 / $4')
nf=$(col nft '$3 / $4')
echo "moat/nftables, packets dropped per second: native $(echo "$nat $nf" | awk '{ printf "%.2f", $1 / $2 }')," \
	"generic $(echo "$gen $nf" | awk '{ printf "%.2f", $1 / $2 }'). Raw lines (setup sent dropped s user sys softirq ticks): $W/veth.raw"
