#!/bin/sh
# The same capture gives the same events every time; a capture cut by a snaplen or carried in an
# 802.1Q tag gives the same events as the full one (byte counts come from the wire, not the
# captured length); microsecond and nanosecond pcaps agree.
. "$MOAT_ROOT/tests/replay/lib.sh"

cat >"$T/moat.yaml" <<'YAML'
networks: [198.51.100.0/24, 2001:db8:5::/48]
thresholds: {pps: 20000, mbps: 100, syn_pps: 10000}
detection: {cooldown: 3}
YAML
gen() { $MOAT_GEN -d 12 --background 2000 --attack syn:198.51.100.5:40k:start=2:dur=3 \
	--attack dns:[2001:db8:5::9]:20k:start=4:dur=3 --attack udp:198.51.100.7:30k:start=6:dur=2:len=1400 "$@"; }
gen -o "$T/full.pcap" || exit 1
gen -o "$T/cut.pcap" --snaplen 96 || exit 1
gen -o "$T/vlan.pcap" --vlan 100 || exit 1
gen -o "$T/usec.pcap" --usec || exit 1
for f in full cut vlan usec; do
	$MOATD -c "$T/moat.yaml" -r "$T/$f.pcap" --events "$T/$f.json" || { echo "moatd failed on $f"; exit 1; }
done
$MOATD -c "$T/moat.yaml" -r "$T/full.pcap" --events "$T/again.json" || exit 1
n=$(grep -c attack_start "$T/full.json")
check "three attacks detected ($n)" [ "$n" -eq 3 ]
check "replaying twice gives identical events" cmp "$T/full.json" "$T/again.json"
check "snaplen 96 gives the same events" cmp "$T/full.json" "$T/cut.json"
check "802.1Q-tagged gives the same events" cmp "$T/full.json" "$T/vlan.json"
# microsecond timestamps round the packet times: same attacks, same types, rates within 1%
a=$(jq -c 'select(.event=="attack_start") | [.target,.type]' "$T/full.json")
b=$(jq -c 'select(.event=="attack_start") | [.target,.type]' "$T/usec.json")
check "microsecond pcap: same attacks and types" [ "$a" = "$b" ]
# snaplen 64 cuts the UDP header off fragmented IPv6 (14 + 40 + 8 bytes of headers): ports are
# unknown then, and the vector must not claim "port 0"
gen -o "$T/cut64.pcap" --snaplen 64 || exit 1
$MOATD -c "$T/moat.yaml" -r "$T/cut64.pcap" --events "$T/cut64.json" || exit 1
p0=$(jq -c 'select(.event=="attack_start" and .target=="2001:db8:5::9") | .vector.src_ports' "$T/cut64.json")
check "snaplen 64: no made-up port 0 in the IPv6 vector ($p0)" [ "$p0" = "[]" ]
finish
