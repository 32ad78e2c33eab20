#!/bin/sh
# moatctl against a live moatd (ASan build) in the two-namespace lab of tools/lab.sh: moatd captures
# on prot0 with a control socket and a history database in $T; hping3 in the other namespace sends
# a paced UDP flood to 198.51.100.5 (port 9: the kernel's port unreachable answers are rate-limited
# by the lab, so there is no outgoing attack). The rates moatctl shows are compared with what was
# really sent in the same second: inet0's transmit counter, sampled every 50 ms.
#
# Asserts: health answers; top (twice, one second apart, not on a terminal) lists the flooded host
# first, marked as under attack, at the rate sent in the last complete second (within 15%); top
# --json parses, with the same host and rate; attacks shows the attack while it runs; host shows
# the target at the rate sent and refuses an address moatd does not track (exit 1) or that is not
# one (exit 2); bad options exit 2 naming the option; exporters and mitigations on a moatd without
# collectors, scrubber or BGP say so; after the flood, history lists the attack as ended and
# attack ID reports its events, vector and timeline; config check passes, and fails with
# file:line:column once the file is broken; moatctl exits 3 once moatd is gone.
. "$MOAT_ROOT/tests/replay/lib.sh"
. "$MOAT_ROOT/tools/lab.sh"
MOATCTL="${MOATCTL:-$MOAT_ROOT/build/asan/moatctl}"
cleanup() {
	# subshells ($(...), &) run this trap too in dash: only the test's own shell cleans up
	[ "$(exec sh -c 'echo $PPID')" = "$$" ] || return 0
	[ -n "${flood:-}" ] && kill "$flood" 2>/dev/null
	[ -n "${sampler:-}" ] && kill "$sampler" 2>/dev/null
	[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null
	lab_down
}
trap cleanup EXIT INT TERM

[ "$(id -u)" = 0 ] || { echo "FAIL: needs root for network namespaces"; exit 1; }
for tool in hping3 jq; do
	command -v $tool >/dev/null || { echo "FAIL: $tool is missing (make test installs it)"; exit 1; }
done
lab_up || { echo "FAIL: cannot build the lab (ip netns, veth)"; exit 1; }

cat >"$T/moat.yaml" <<YAML
networks: [198.51.100.0/24]
thresholds: {pps: 1000}
detection: {cooldown: 2}
capture:
  - af_packet: {interface: prot0, workers: 1, ring_mb: 16}
control: {socket: $T/ctl.sock}
history: {path: $T/history.db}
YAML
ctl() { "$MOATCTL" -s "$T/ctl.sock" "$@"; }
# rc_of CMD...: the exit status of moatctl CMD (output in $T/out, $T/err)
rc_of() {
	ctl "$@" >"$T/out" 2>"$T/err"
	echo $?
}
# rate VALUE UNIT: "4.01" "kpps" -> 4010
rate() { awk -v v="$1" -v u="$2" 'BEGIN { m = u ~ /^k/ ? 1e3 : u ~ /^M/ ? 1e6 : u ~ /^G/ ? 1e9 : 1; printf "%.0f", v * m }'; }
# sent_in S: the packets inet0 sent in the second [S, S+1), interpolated between the samples of
# its transmit counter in $T/tx.log ("unix-time count" lines); -1 when the samples do not cover it
sent_in() {
	awk -v s="$1" '
		function at(x,   i) {
			for (i = 1; i < n; i++)
				if (t[i] >= x)
					return c[i - 1] + (c[i] - c[i - 1]) * (x - t[i - 1]) / (t[i] - t[i - 1])
			return -1
		}
		{ t[n] = $1; c[n] = $2; n++ }
		END { a = at(s); b = at(s + 1); print (n && t[0] <= s && a >= 0 && b >= 0) ? int(b - a + 0.5) : -1 }' "$T/tx.log"
}
# mid_second: sleeps until 0.3 s into the next second, so that a request is far from the
# detector's tick at a second's start and "the last complete second" is the one before
mid_second() { sleep "$(date +%N | awk '{ d = 0.3 - $1 / 1e9; if (d < 0.05) d += 1; printf "%.3f", d }')"; }
now_s() { date +%s; }

ip netns exec "$LAB_PROT" "$MOATD" -c "$T/moat.yaml" --events "$T/ev.json" 2>"$T/moatd.log" &
pid=$!
wait_for 10 grep -qs "capturing on" "$T/moatd.log"
wait_for 5 test -S "$T/ctl.sock"
rc=$(rc_of health)
v=$(ctl --json health | jq -r .version)
check "health answers (rc $rc): $(cat "$T/out")" sh -c "[ $rc -eq 0 ] && grep -q '^moatd $v is answering, up [0-9]*s\$' '$T/out'"

# ---- refusals before any traffic ----
rc=$(rc_of host 192.0.2.99)
check "host for an address moatd does not track: exit 1 and a message (rc $rc): $(cat "$T/err")" \
	sh -c "[ $rc -eq 1 ] && [ -s '$T/err' ] && [ ! -s '$T/out' ]"
rc=$(rc_of host 192.0.2.300)
check "host for a word that is no address: exit 2 (rc $rc): $(cat "$T/err")" \
	sh -c "[ $rc -eq 2 ] && grep -q '192.0.2.300' '$T/err'"
for bad in "top --by nope:--by" "top -n 0:-n" "top -n 101:-n" "top --interval 0:--interval" \
	"top --count x:--count" "top --direction sideways:--direction" "top --bogus:--bogus" \
	"history -n 0:-n" "history --before yesterday:--before" "history --target x:--target" \
	"attacks --all:--all" "attack:usage" "config chek:usage"; do
	words=${bad%:*}
	opt=${bad##*:}
	# shellcheck disable=SC2086 # the words of the command
	rc=$(rc_of $words)
	check "moatctl $words: exit 2 naming $opt (rc $rc): $(cat "$T/err")" \
		sh -c "[ $rc -eq 2 ] && grep -q -e '$opt' '$T/err' && [ ! -s '$T/out' ]"
done
rc=$(rc_of exporters)
check "exporters on a moatd without collectors says so (rc $rc): $(cat "$T/out")" \
	sh -c "[ $rc -eq 0 ] && grep -q 'no flow collectors' '$T/out'"
rc=$(rc_of mitigations)
check "mitigations on a moatd without scrubber or BGP says so (rc $rc): $(tr '\n' ' ' <"$T/out")" \
	sh -c "[ $rc -eq 0 ] && grep -q '^Scrubber rules: none, no scrubber configured' '$T/out' && grep -q '^BGP routes: none, no BGP configured' '$T/out'"
rc=$(rc_of config check)
check "config check passes (rc $rc): $(cat "$T/out")" \
	sh -c "[ $rc -eq 0 ] && grep -q '$T/moat.yaml' '$T/out'"

# ---- a UDP flood, paced: about 4000 packets a second ----
# shellcheck disable=SC2016 # expanded by the sampling shell
ip netns exec "$LAB_INET" sh -c 'while :; do echo "$(date +%s.%N) $(cat /sys/class/net/inet0/statistics/tx_packets)"; sleep 0.05; done' >"$T/tx.log" &
sampler=$!
ip netns exec "$LAB_INET" hping3 -q --udp -p 9 -d 64 -i u250 198.51.100.5 >"$T/hping.log" 2>&1 &
flood=$!
attacked() { [ "$(ctl --json attacks | jq '[.attacks[] | select(.target == "198.51.100.5")] | length')" -ge 1 ]; }
check "the flood is detected: moatctl --json attacks lists it" wait_for 10 attacked
aid=$(ctl --json attacks | jq -r '[.attacks[] | select(.target == "198.51.100.5")][0].id')
echo "attack $aid"
sleep 1
s=$(($(now_s) - 1))
sent=$(sent_in "$s")
check "hping3 sends: $sent packets in the second $s" [ "$sent" -gt 1500 ]

# two views one second apart: the first of the second before the one we start in, the last of the
# one we start in
mid_second
s=$(now_s)
ctl top --count 2 --interval 1 >"$T/top.txt" 2>"$T/top.err"
rc=$?
t1=$(date +%s.%N)
cat "$T/top.txt"
views=$(grep -c '^top hosts by pps, incoming' "$T/top.txt")
check "top --count 2 --interval 1: two views, a second apart (rc $rc, $views views, done $(awk -v a="$s" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s into the run)" \
	sh -c "[ $rc -eq 0 ] && [ $views -eq 2 ] && awk -v a=$s -v b=$t1 'BEGIN { exit !(b - a >= 1.2 && b - a < 3) }'"
# the first row of the last view: "*1  198.51.100.5  -  4.01 kpps  1.60 Mbit/s ..."
first=$(grep -E '^ *\*?1 ' "$T/top.txt" | tail -1)
# shellcheck disable=SC2086 # the row's words
set -- $first
check "top lists the flooded host first: $first" [ "${2:-}" = 198.51.100.5 ]
check "and marks it as under attack, with the attack's id" \
	sh -c "[ '${1:-}' = '*1' ] && echo '$first' | grep -q ' $aid\$'"
shown=$(rate "${4:-0}" "${5:-pps}")
sent=$(sent_in "$s")
check "top's rate, $shown pps, is within 15% of the $sent packets sent in that second" \
	within "$shown" "$sent" 0.15

mid_second
s=$(($(now_s) - 1))
ctl --json top >"$T/top.json"
rc=$?
check "top --json: one line that parses (rc $rc)" sh -c "[ $rc -eq 0 ] && [ \$(wc -l <'$T/top.json') -eq 1 ] && jq -e . '$T/top.json' >/dev/null"
jh=$(jq -r '.hosts[0].host' "$T/top.json")
jp=$(jq -r '.hosts[0].pps' "$T/top.json")
jt=$(jq -r '.ts' "$T/top.json")
sent=$(sent_in "$s")
check "top --json: the same host first ($jh), at $jp pps, within 15% of the $sent sent in the second $s" \
	sh -c "[ '$jh' = 198.51.100.5 ] && awk -v v='$jp' -v e='$sent' 'BEGIN { d = v - e; if (d < 0) d = -d; exit !(e > 0 && d <= 0.15 * e) }'"
check "top --json: by pps, incoming, ts $jt names the second $s (its start or its end)" \
	sh -c "jq -e '.by == \"pps\" and .direction == \"incoming\"' '$T/top.json' >/dev/null && [ '$jt' -ge $s ] && [ '$jt' -le $((s + 1)) ]"
ctl --json top --by bps -n 1 --count 2 --interval 0.5 >"$T/top2.json"
check "top --json --count 2: two lines, each with one host: $(jq -c '[.by, .hosts[0].host]' "$T/top2.json" | tr '\n' ' ')" \
	sh -c "[ \$(jq -s 'map(select(.by == \"bps\" and (.hosts | length) == 1)) | length' '$T/top2.json') -eq 2 ]"

rc=$(rc_of attacks)
cat "$T/out"
check "attacks shows the attack while it runs (rc $rc)" \
	sh -c "[ $rc -eq 0 ] && grep -q '^$aid  *198.51.100.5  *in  *udp_flood ' '$T/out'"
mid_second
s=$(($(now_s) - 1))
rc=$(rc_of host 198.51.100.5)
cat "$T/out"
hp=$(awk '$1 == "pps" { print $2, $3; exit }' "$T/out")
check "host 198.51.100.5 (rc $rc): incoming $hp, under attack $aid" \
	sh -c "[ $rc -eq 0 ] && grep -q '^host  *198.51.100.5\$' '$T/out' && grep -q '^attack  *$aid  ' '$T/out'"
sent=$(sent_in "$s")
# shellcheck disable=SC2086 # value and unit
check "host's incoming rate is within 15% of the $sent packets sent in the second $s" \
	within "$(rate $hp)" "$sent" 0.15

# ---- the end of the flood: the attack goes to the history as ended ----
kill -INT $flood 2>/dev/null
wait $flood 2>/dev/null
flood=
kill $sampler 2>/dev/null
sampler=
ended() { [ "$(ctl --json history | jq -r --arg id "$aid" '.attacks[] | select(.id == $id) | .state')" = ended ]; }
check "the attack ends (cooldown 2 s)" wait_for 15 ended
rc=$(rc_of history)
cat "$T/out"
check "history lists it as ended (rc $rc)" \
	sh -c "[ $rc -eq 0 ] && grep -q '^$aid  *198.51.100.5  *in  *udp_flood  *ended ' '$T/out'"
rc=$(rc_of history -n 1 --target 198.51.100.5)
check "history -n 1 --target 198.51.100.5: that attack only (rc $rc)" \
	sh -c "[ $rc -eq 0 ] && [ \$(wc -l <'$T/out') -eq 2 ] && grep -q '^$aid ' '$T/out'"
rc=$(rc_of history --target 198.51.100.77)
check "history --target of a host never attacked: none (rc $rc): $(cat "$T/out")" \
	sh -c "[ $rc -eq 0 ] && grep -q 'no attacks' '$T/out'"

rc=$(rc_of attack "$aid")
cat "$T/out"
np=$(ctl --json attack "$aid" | jq '.attack.timeline.ts | length')
check "attack $aid: the report (rc $rc)" \
	sh -c "[ $rc -eq 0 ] && grep -q '^Attack $aid: udp_flood on 198.51.100.5' '$T/out' && grep -q '^  state  *ended' '$T/out'"
check "attack $aid: its events, start to end" \
	sh -c "grep -q '^  [0-9:.]*  attack_start ' '$T/out' && grep -q '^  [0-9:.]*  attack_end ' '$T/out'"
check "attack $aid: its timeline of $np points as a chart" \
	sh -c "[ '$np' -ge 2 ] && grep -q '^Timeline ($np points)' '$T/out' && grep -q '|#' '$T/out'"
check "attack $aid: its vector (UDP to port 9, 92 bytes)" \
	sh -c "grep -q '^  protocols  *udp ' '$T/out' && grep -q '^  dst ports  *9 ' '$T/out' && grep -q '^  lengths  *92 ' '$T/out'"
rc=$(rc_of attack 1-1)
check "attack of an unknown id: exit 1 and a message (rc $rc): $(cat "$T/err")" \
	sh -c "[ $rc -eq 1 ] && [ -s '$T/err' ]"

# ---- config check on a broken file ----
printf 'thresholds:\n  ppz: 5\n' >>"$T/moat.yaml"
rc=$(rc_of config check)
check "config check on a broken file: exit 1 with file:line:column (rc $rc): $(cat "$T/err")" \
	sh -c "[ $rc -eq 1 ] && grep -q 'moat.yaml:[0-9]*:[0-9]*: ' '$T/err'"

kill -TERM $pid
wait $pid
rc=$?
pid=
check "SIGTERM: moatd exits cleanly, no sanitizer report (rc $rc)" [ $rc -eq 0 ]
rc=$(rc_of health)
check "moatctl exits 3 once moatd is gone (rc $rc): $(cat "$T/err")" [ $rc -eq 3 ]
cat "$T/moatd.log"
finish
