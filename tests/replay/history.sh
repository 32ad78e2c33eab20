#!/bin/sh
# The attack history through moatd: a replay with a history section writes each attack with its
# events and a timeline point a second (attack_sample: the target's traffic for a host attack, the
# whole group's for a hostgroup attack), at the rates the generator sent; a second replay into the
# same database keeps the first run's attacks and adds its own; a replay without the section
# writes nothing.
. "$MOAT_ROOT/tests/replay/lib.sh"

command -v sqlite3 >/dev/null || { echo "FAIL: sqlite3 missing (tools/deps.sh installs it)"; exit 1; }
$MOAT_GEN -o "$T/a.pcap" -d 14 --background 500 --attack udp:198.51.100.5:40k:start=2:dur=4 \
	--attack carpet:198.51.100.128/25:30k:start=8:dur=3 || exit 1
cat >"$T/moat.yaml" <<YAML
networks: [198.51.100.0/24]
thresholds: {pps: 20000}
hostgroups:
  - name: upper
    prefixes: [198.51.100.128/25]
    total_thresholds: {pps: 15000}
detection: {cooldown: 2}
history: {path: $T/h.db}
YAML
$MOATD -c "$T/moat.yaml" -r "$T/a.pcap" 2>"$T/run1.log" || { cat "$T/run1.log"; exit 1; }
q() { sqlite3 "$T/h.db" "$1"; }
check "two attacks written: $(q 'select target, scope, state from attacks' | tr '\n' ' ')" \
	[ "$(q "select count(*) from attacks where state = 'ended'")" -eq 2 ]
host=$(q "select id from attacks where target = '198.51.100.5'")
grp=$(q "select id from attacks where scope = 'hostgroup' and target = 'upper'")
check "the host attack ($host) and the hostgroup attack ($grp)" [ -n "$host" ] && [ -n "$grp" ]
# samples of the flood's full seconds: 40 kpps (and the background's share of that host)
hs=$(q "select json_extract(json, '\$.pps') from events e join attacks a on e.attack = a.seq
	where a.id = '$host' and e.kind = 'attack_sample' and json_extract(json, '\$.pps') > 1000")
check "host attack: $(echo "$hs" | wc -l) samples over 1000 pps ($(echo "$hs" | tr '\n' ' '))" \
	[ "$(echo "$hs" | wc -l)" -ge 3 ]
check "host attack: each full second at 40 kpps (+-10%)" \
	sh -c "for v in $(echo "$hs" | sort -g | tail -n +2 | tr '\n' ' '); do awk -v v=\$v 'BEGIN { exit !(v > 36000 && v < 44000) }' || exit 1; done"
gs=$(q "select json_extract(json, '\$.pps') from events e join attacks a on e.attack = a.seq
	where a.id = '$grp' and e.kind = 'attack_sample' and json_extract(json, '\$.pps') > 20000")
check "hostgroup attack: samples of the group's whole traffic at 30 kpps (+-10%): $(echo "$gs" | tr '\n' ' ')" \
	sh -c "[ -n '$gs' ] && for v in $(echo "$gs" | tr '\n' ' '); do awk -v v=\$v 'BEGIN { exit !(v > 27000 && v < 33000) }' || exit 1; done"
check "events of the host attack: start, updates, end" \
	[ "$(q "select count(*) from events e join attacks a on e.attack = a.seq where a.id = '$host' and e.kind in ('attack_start', 'attack_end')")" -eq 2 ]
# the same capture again: its ids come again (packet time); the first run's rows stay
$MOATD -c "$T/moat.yaml" -r "$T/a.pcap" 2>"$T/run2.log" || { cat "$T/run2.log"; exit 1; }
check "a second replay adds its attacks beside the first run's: $(q 'select count(*) from attacks')" \
	[ "$(q 'select count(*) from attacks')" -eq 4 ]
# without a history section a replay keeps none
sed '/^history:/d' "$T/moat.yaml" >"$T/nohist.yaml"
rm -f "$T/h.db"*
$MOATD -c "$T/nohist.yaml" -r "$T/a.pcap" 2>"$T/run3.log" || { cat "$T/run3.log"; exit 1; }
check "a replay without a history section writes no database" [ ! -e "$T/h.db" ]
check "nor the default one" sh -c "! grep -q 'history:' '$T/run3.log'"
finish
