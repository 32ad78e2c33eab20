#!/bin/sh
# Generated attacks of every type, IPv4 and IPv6, over background traffic: each is detected once,
# on the right target and direction, classified as generated, within 1 s of its onset, with its
# rate within 10% of the generated rate, and ended after the cooldown. With a scrubber configured
# (dry in a replay), each host attack also gets the rule its class calls for, ended after the hold;
# the hostgroup attack gets none.
. "$MOAT_ROOT/tests/replay/lib.sh"

cat >"$T/moat.yaml" <<'YAML'
networks: [198.51.100.0/24, 2001:db8:5::/48]
thresholds: {pps: 20000, mbps: 1000, syn_pps: 10000}
hostgroups:
  - name: carpet
    prefixes: [198.51.100.224/28]
    thresholds: {pps: 20000}
    total_thresholds: {pps: 30000}
detection: {cooldown: 4}
scrubber: {interfaces: [eth0], hold: 5, sample_every: 0}
YAML
$MOAT_GEN -o "$T/a.pcap" -d 40 --truth "$T/truth.json" --background 3000 \
	--attack syn:198.51.100.11:50k:start=2:dur=4 \
	--attack ack:198.51.100.12:40k:start=3:dur=4 \
	--attack rst:198.51.100.13:40k:start=4:dur=4 \
	--attack udp:198.51.100.14:60k:start=5:dur=4:sources=0 \
	--attack icmp:198.51.100.15:40k:start=6:dur=4 \
	--attack frag:198.51.100.16:40k:start=7:dur=4 \
	--attack dns:198.51.100.17:30k:start=8:dur=4 \
	--attack ntp:[2001:db8:5::18]:40k:start=9:dur=4 \
	--attack ssdp:198.51.100.19:40k:start=10:dur=4 \
	--attack memcached:[2001:db8:5::20]:25k:start=11:dur=4 \
	--attack cldap:198.51.100.21:30k:start=12:dur=4 \
	--attack chargen:198.51.100.22:40k:start=13:dur=4 \
	--attack snmp:198.51.100.23:40k:start=14:dur=4 \
	--attack ipflood:[2001:db8:5::24]:40k:start=15:dur=4 \
	--attack syn:[2001:db8:5::25]:40k:start=16:dur=4:sources=0 \
	--attack carpet:198.51.100.224/28:48k:start=17:dur=4 \
	|| { echo "moat-gen failed"; exit 1; }
$MOATD -c "$T/moat.yaml" -r "$T/a.pcap" --events "$T/ev.json" --stats 2>"$T/stderr" \
	|| { cat "$T/stderr"; echo "moatd failed"; exit 1; }
cat "$T/stderr"

n=$(jq '.attacks | length' "$T/truth.json")
i=0
while [ "$i" -lt "$n" ]; do
	a=$(jq -c ".attacks[$i]" "$T/truth.json")
	gtype=$(echo "$a" | jq -r .type)
	target=$(echo "$a" | jq -r .target)
	start=$(echo "$a" | jq -r .start)
	end=$(echo "$a" | jq -r .end)
	pps=$(echo "$a" | jq -r .pps)
	case $gtype in
	syn) want=syn_flood ;; ack) want=ack_flood ;; rst) want=rst_flood ;;
	udp) want=udp_flood ;; icmp) want=icmp_flood ;; frag) want=fragment_flood ;;
	ipflood) want=ip_flood ;; carpet) want=udp_flood ;;
	*) want=${gtype}_amplification ;;
	esac
	# the carpet attack is reported on its hostgroup (truth pps counts every fragment)
	[ "$gtype" = carpet ] && target=carpet
	ev=$(jq -c --arg t "$target" 'select(.event == "attack_start" and .target == $t)' "$T/ev.json")
	cnt=$(printf '%s' "$ev" | grep -c . || true)
	check "$gtype on $target: one attack_start (got $cnt)" [ "$cnt" -eq 1 ]
	[ "$cnt" -ge 1 ] || { i=$((i + 1)); continue; }
	ev=$(printf '%s\n' "$ev" | head -1)
	got_type=$(echo "$ev" | jq -r .type)
	ts=$(echo "$ev" | jq -r .ts)
	got_pps=$(echo "$ev" | jq -r .pps)
	dir=$(echo "$ev" | jq -r .direction)
	check "$gtype on $target: type $got_type = $want" [ "$got_type" = "$want" ]
	check "$gtype on $target: incoming ($dir)" [ "$dir" = incoming ]
	check "$gtype on $target: detected at $ts, within 1 s of onset $start" \
		sh -c "$(printf 'awk -v t=%s -v s=%s "BEGIN { exit !(t > s && t <= s + 1.0) }"' "$ts" "$start")"
	check "$gtype on $target: pps $got_pps within 10% of $pps" within "$got_pps" "$pps" 0.10
	endts=$(jq -r --arg t "$target" 'select(.event == "attack_end" and .target == $t) | .ts' "$T/ev.json" | head -1)
	check "$gtype on $target: ended at $endts, 4 s cooldown after $end (+1.5 s)" \
		sh -c "$(printf 'awk -v t=%s -v e=%s "BEGIN { exit !(t != \\"\\" && t >= e + 4 && t <= e + 5.5) }"' "${endts:-0}" "$end")"
	# the scrubber's rule for it: the words its class calls for (see moat.yaml(5) SCRUBBER)
	id=$(echo "$ev" | jq -r .id)
	mit=$(jq -c --arg id "$id" 'select(.event == "mitigation_start" and .attack == $id)' "$T/ev.json")
	rule=$(echo "$mit" | jq -r .rule)
	case $gtype in
	syn) pat='^proto tcp dport 80 len (60|80) .*flags SYN ratelimit 50 burst 100$' ;; # with options: clients' shape
	ack) pat='^proto tcp .*flags ACK ratelimit 1000 burst 2000$' ;;
	rst) pat='^proto tcp .*flags RST ratelimit 1000 burst 2000$' ;;
	udp | ipflood) pat='ratelimit 1000 burst 2000$' ;; # a length alone never drops
	icmp) pat='^proto icmp .*icmp-type 8 icmp-code 0 drop$' ;;
	frag) pat='^proto udp .*frag fragment drop$' ;;
	dns) pat='^proto udp .*len 1[0-9]00-65535 .*drop$' ;; # fragments: no port on most
	carpet) pat='^$' ;;
	*) pat="^proto udp sport $(echo "$a" | jq -r '.sport // empty').* drop$" ;;
	esac
	if [ "$gtype" = carpet ]; then
		check "carpet: no scrubber rule for a hostgroup attack" [ -z "$mit" ]
	else
		check "$gtype on $target: rule '$rule' ~ /$pat/" sh -c "echo '$rule' | grep -Eq '$pat'"
		check "$gtype on $target: computed, not applied, covers $(echo "$mit" | jq .coverage)" \
			sh -c "[ '$(echo "$mit" | jq .applied)' = false ] && awk -v c='$(echo "$mit" | jq .coverage)' 'BEGIN { exit !(c >= 0.9) }'"
		amp=$(echo "$mit" | jq .amplification_ports_dropped)
		case $want in *_amplification) wamp=true ;; *) wamp=false ;; esac
		check "$gtype on $target: amplification ports dropped: $amp" [ "$amp" = "$wamp" ]
		rid=$(echo "$mit" | jq .rule_id)
		mend=$(jq -r --argjson r "${rid:-0}" --arg id "$id" 'select(.event == "mitigation_end" and .attack == $id and .rule_id == $r) | .ts' "$T/ev.json")
		check "$gtype on $target: rule ended at ${mend:-never}, 5 s hold after the attack's end $endts" \
			sh -c "$(printf 'awk -v t=%s -v e=%s "BEGIN { exit !(t != \\"\\" && t >= e + 5 && t <= e + 5.2) }"' "${mend:-0}" "${endts:-0}")"
	fi
	i=$((i + 1))
done
total=$(jq -s '[.[] | select(.event == "attack_start")] | length' "$T/ev.json")
check "no attack beyond the generated ones ($total starts for $n attacks)" [ "$total" -eq "$n" ]
finish
