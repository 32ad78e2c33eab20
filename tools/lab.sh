# lab.sh: a two-namespace lab, sourced by the demo and the live tests.
#
#   netns moat-inet-$$                    netns moat-prot-$$
#   [ inet0 192.0.2.1/24 ] ---- veth ---- [ prot0 192.0.2.2/24, 198.51.100.5/32 ... ]
#      moat-gen sends here                  moatd captures here (AF_PACKET)
#
# Only documentation addresses, only inside namespaces we create; lab_down removes everything.
# The suffix keeps concurrent labs apart.

LAB_ID=${LAB_ID:-$$}
LAB_INET=moat-inet-$LAB_ID
LAB_PROT=moat-prot-$LAB_ID

lab_down() {
	ip netns pids "$LAB_PROT" 2>/dev/null | xargs -r kill 2>/dev/null
	ip netns pids "$LAB_INET" 2>/dev/null | xargs -r kill 2>/dev/null
	sleep 0.2
	ip netns del "$LAB_INET" 2>/dev/null
	ip netns del "$LAB_PROT" 2>/dev/null
	return 0
}

lab_up() {
	lab_down
	ip netns add "$LAB_INET" || return 1
	ip netns add "$LAB_PROT" || return 1
	ip -n "$LAB_INET" link add inet0 type veth peer name prot0 netns "$LAB_PROT" || return 1
	ip -n "$LAB_INET" addr add 192.0.2.1/24 dev inet0
	ip -n "$LAB_PROT" addr add 192.0.2.2/24 dev prot0
	ip -n "$LAB_PROT" addr add 198.51.100.5/32 dev prot0
	ip -n "$LAB_PROT" addr add 2001:db8:5::5/128 dev prot0 nodad
	ip -n "$LAB_INET" link set inet0 up
	ip -n "$LAB_PROT" link set prot0 up
	ip -n "$LAB_INET" link set lo up
	ip -n "$LAB_PROT" link set lo up
	ip -n "$LAB_INET" route add 198.51.100.0/24 via 192.0.2.2
	# the flood is not meant to be answered: keep the protected side's kernel quiet about it
	ip netns exec "$LAB_PROT" sysctl -qw net.ipv4.icmp_ratelimit=1000 2>/dev/null
	return 0
}

lab_inet() { ip netns exec "$LAB_INET" "$@"; }
lab_prot() { ip netns exec "$LAB_PROT" "$@"; }

# slab: the scrubbing lab. A router namespace joins an attacker, a client and the protected
# namespace, so the client's HTTP and the attacker's flood are routed to the protected host as
# they would be in a network, and the scrubber's XDP sits on prot0, the protected side's uplink.
#
#   moat-att-$$ [att0 203.0.113.2/24, 2001:db8:a::2]--[ratt0]
#                                                             moat-rtr-$$ --[inet0 192.0.2.1/30]--[prot0 192.0.2.2/30] moat-prot-$$
#   moat-cli-$$ [cli0 192.0.2.66/26, 2001:db8:c::2]--[rcli0]                2001:db8:ff::1/64      2001:db8:ff::2, 198.51.100.5, 2001:db8:5::5
SLAB_RTR=moat-rtr-$LAB_ID
SLAB_ATT=moat-att-$LAB_ID
SLAB_CLI=moat-cli-$LAB_ID

slab_down() {
	for ns in "$SLAB_ATT" "$SLAB_CLI" "$LAB_PROT" "$SLAB_RTR"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
	done
	sleep 0.2
	for ns in "$SLAB_ATT" "$SLAB_CLI" "$LAB_PROT" "$SLAB_RTR"; do
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}

# slab_link NS_A IF_A NS_B IF_B: a veth pair between two namespaces, both ends up
slab_link() {
	ip -n "$1" link add "$2" type veth peer name "$4" netns "$3" || return 1
	ip -n "$1" link set "$2" up && ip -n "$3" link set "$4" up
}

slab_up() {
	slab_down
	for ns in "$SLAB_RTR" "$SLAB_ATT" "$SLAB_CLI" "$LAB_PROT"; do
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up
		# no duplicate address detection: link-local addresses usable at once
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
			net.ipv6.conf.default.accept_dad=0 2>/dev/null
	done
	slab_link "$SLAB_RTR" inet0 "$LAB_PROT" prot0 || return 1
	slab_link "$SLAB_RTR" ratt0 "$SLAB_ATT" att0 || return 1
	slab_link "$SLAB_RTR" rcli0 "$SLAB_CLI" cli0 || return 1
	ip -n "$SLAB_RTR" addr add 192.0.2.1/30 dev inet0
	ip -n "$SLAB_RTR" addr add 2001:db8:ff::1/64 dev inet0 nodad
	ip -n "$SLAB_RTR" addr add 203.0.113.1/24 dev ratt0
	ip -n "$SLAB_RTR" addr add 2001:db8:a::1/64 dev ratt0 nodad
	ip -n "$SLAB_RTR" addr add 192.0.2.65/26 dev rcli0
	ip -n "$SLAB_RTR" addr add 2001:db8:c::1/64 dev rcli0 nodad
	ip -n "$LAB_PROT" addr add 192.0.2.2/30 dev prot0
	ip -n "$LAB_PROT" addr add 2001:db8:ff::2/64 dev prot0 nodad
	ip -n "$LAB_PROT" addr add 198.51.100.5/32 dev prot0
	ip -n "$LAB_PROT" addr add 2001:db8:5::5/128 dev prot0 nodad
	ip -n "$SLAB_ATT" addr add 203.0.113.2/24 dev att0
	ip -n "$SLAB_ATT" addr add 2001:db8:a::2/64 dev att0 nodad
	ip -n "$SLAB_CLI" addr add 192.0.2.66/26 dev cli0
	ip -n "$SLAB_CLI" addr add 2001:db8:c::2/64 dev cli0 nodad
	ip -n "$SLAB_RTR" route add 198.51.100.0/24 via 192.0.2.2
	ip -n "$SLAB_RTR" route add 2001:db8:5::/48 via 2001:db8:ff::2
	ip -n "$LAB_PROT" route add default via 192.0.2.1
	ip -n "$LAB_PROT" route add default via 2001:db8:ff::1
	ip -n "$SLAB_ATT" route add default via 203.0.113.1
	ip -n "$SLAB_ATT" route add default via 2001:db8:a::1
	ip -n "$SLAB_CLI" route add default via 192.0.2.65
	ip -n "$SLAB_CLI" route add default via 2001:db8:c::1
	ip netns exec "$SLAB_RTR" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 ||
		return 1
	ip netns exec "$LAB_PROT" sysctl -qw net.ipv4.icmp_ratelimit=1000 2>/dev/null
	return 0
}

slab_rtr() { ip netns exec "$SLAB_RTR" "$@"; }
slab_att() { ip netns exec "$SLAB_ATT" "$@"; }
slab_cli() { ip netns exec "$SLAB_CLI" "$@"; }

# lab_bird_conf DIR [LOG]: DIR/bird.conf for BIRD 2 as the lab's router: 192.0.2.1, AS 65000,
# peering with moatd at 192.0.2.2 (AS 65001) for IPv4 and IPv6 unicast (next hops resolved
# recursively, so a blackhole's discard next hop is kept as "unreachable") and Flowspec into
# flowtab4 and flowtab6. LOG: BIRD's log classes (default all).
lab_bird_conf() {
	cat >"$1/bird.conf" <<EOF
router id 192.0.2.1;
log "$1/bird.log" ${2:-all};
protocol device {}
flow4 table flowtab4;
flow6 table flowtab6;
protocol bgp moat {
  local 192.0.2.1 as 65000;
  neighbor 192.0.2.2 as 65001;
  multihop;
  hold time 9;
  connect retry time 1;
  ipv4 { import all; export none; gateway recursive; igp table master4; };
  ipv6 { import all; export none; gateway recursive; igp table master6; };
  flow4 { table flowtab4; import all; export none; };
  flow6 { table flowtab6; import all; export none; };
}
EOF
}
