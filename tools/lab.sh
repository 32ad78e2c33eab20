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
