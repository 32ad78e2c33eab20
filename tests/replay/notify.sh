#!/bin/sh
# The notify hook runs the script FastNetMon-style (IP direction PPS ban|unban, details on stdin)
# on attack start and end, and with format json passes the event on stdin.
. "$MOAT_ROOT/tests/replay/lib.sh"

cat >"$T/notify.sh" <<SH
#!/bin/sh
echo "\$1 \$2 \$3 \$4" >>"$T/calls"
cat >"$T/stdin.\$4"
SH
chmod +x "$T/notify.sh"
$MOAT_GEN -o "$T/a.pcap" -d 10 --background 500 --attack udp:198.51.100.5:40k:start=2:dur=3 || exit 1
for fmt in fastnetmon json; do
	rm -f "$T/calls" "$T"/stdin.*
	cat >"$T/moat.yaml" <<YAML
networks: [198.51.100.0/24]
thresholds: {pps: 20000}
detection: {cooldown: 2}
notify: {script: $T/notify.sh, format: $fmt}
YAML
	$MOATD -c "$T/moat.yaml" -r "$T/a.pcap" || { echo "moatd failed"; exit 1; }
	sleep 0.2
	check "$fmt: two calls (ban, unban): $(tr '\n' '|' <"$T/calls")" [ "$(wc -l <"$T/calls")" -eq 2 ]
	check "$fmt: ban with IP, direction and pps" grep -qE "^198.51.100.5 incoming 4[0-9]{4} ban$" "$T/calls"
	check "$fmt: unban" grep -qE "^198.51.100.5 incoming [0-9]+ unban$" "$T/calls"
	if [ $fmt = json ]; then
		check "json: stdin is the event" sh -c "jq -e '.event == \"attack_start\" and .target == \"198.51.100.5\"' '$T/stdin.ban' >/dev/null"
	else
		check "text: stdin has the attack type" grep -q "Attack type: udp_flood" "$T/stdin.ban"
	fi
done
finish
