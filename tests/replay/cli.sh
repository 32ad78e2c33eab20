#!/bin/sh
# moatd's command line: config check, error messages with file:line:column, exit codes, bad
# inputs refused with a clear message and no crash.
. "$MOAT_ROOT/tests/replay/lib.sh"

printf 'networks: [198.51.100.0/24]\nthresholds: {pps: 1000}\n' >"$T/good.yaml"
printf 'networks: [198.51.100.0/24]\nthresholds:\n  pps: 1000\n  ppz: 5\n' >"$T/bad.yaml"
$MOATD -t -c "$T/good.yaml" 2>"$T/out"
check "-t on a good config exits 0" [ $? -eq 0 ]
$MOATD -t -c "$T/bad.yaml" 2>"$T/out"
rc=$?
check "-t on a bad config exits 1 (got $rc)" [ $rc -eq 1 ]
check "error names file:line:column and the key: $(cat "$T/out")" grep -q "bad.yaml:4:3: .*ppz" "$T/out"
$MOATD -t -v -c "$T/good.yaml" >"$T/canon.yaml" 2>&1
check "-t -v prints the canonical config" grep -q "pps: 1000" "$T/canon.yaml"
$MOATD -t -c "$T/canon.yaml" 2>/dev/null
check "the canonical config loads back" [ $? -eq 0 ]
$MOATD -t -c "$T/missing.yaml" 2>"$T/out"
check "a missing config is an error naming it" grep -q "missing.yaml" "$T/out"
$MOATD -c "$T/good.yaml" -r "$T/nope.pcap" 2>"$T/out"
rc=$?
check "replaying a missing file exits 1 with its name (rc $rc)" sh -c "[ $rc -eq 1 ] && grep -q nope.pcap '$T/out'"
head -c 1000 /dev/urandom >"$T/junk.pcap"
$MOATD -c "$T/good.yaml" -r "$T/junk.pcap" 2>"$T/out"
rc=$?
check "a file that is not a capture is refused (rc $rc): $(tail -1 "$T/out")" [ $rc -eq 1 ]
# a capture cut off in the middle of a packet: what was read counts, the error is reported
$MOAT_GEN -o "$T/ok.pcap" -d 2 --background 1000 2>/dev/null
size=$(stat -c %s "$T/ok.pcap")
head -c $((size - 100)) "$T/ok.pcap" >"$T/cut.pcap"
$MOATD -c "$T/good.yaml" -r "$T/cut.pcap" --stats 2>"$T/out"
check "a truncated capture is reported, not crashed on: $(grep -i trunc "$T/out" | head -1)" grep -qi "truncated\|after" "$T/out"
# events.file from the config, appended across runs (log rotation is the operator's)
$MOAT_GEN -o "$T/flood.pcap" -d 6 --attack udp:198.51.100.5:30k:start=1:dur=2 2>/dev/null
printf 'networks: [198.51.100.0/24]\nthresholds: {pps: 20000}\ndetection: {cooldown: 1}\nevents: {file: %s}\n' "$T/events.json" >"$T/ev.yaml"
$MOATD -c "$T/ev.yaml" -r "$T/flood.pcap" 2>/dev/null
$MOATD -c "$T/ev.yaml" -r "$T/flood.pcap" 2>/dev/null
check "events.file gets the events, appended: $(grep -c attack_ "$T/events.json") lines" \
	[ "$(grep -c attack_start "$T/events.json")" -eq 2 ]
check "every events line is JSON" sh -c "jq -e . '$T/events.json' >/dev/null"
printf 'networks: [198.51.100.0/24]\nevents: {file: /nonexistent/dir/ev.json}\n' >"$T/evbad.yaml"
$MOATD -c "$T/evbad.yaml" -r "$T/flood.pcap" 2>"$T/out"
rc=$?
check "an events file that cannot be opened is an error naming it (rc $rc)" \
	sh -c "[ $rc -eq 1 ] && grep -q /nonexistent/dir/ev.json '$T/out'"
$MOATD --bogus 2>"$T/out"
check "an unknown option exits 2" [ $? -eq 2 ]
$MOATD --help >"$T/out"
check "--help describes -r and -t" sh -c "grep -q -- '--read' '$T/out' && grep -q -- '--test' '$T/out'"
finish
