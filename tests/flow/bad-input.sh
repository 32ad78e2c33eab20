#!/bin/sh
# Bad flow input to a running moatd: datagrams from an exporter not in the list are counted and
# dropped; garbage, truncated and lying datagrams from an allowed one are counted as errors; the
# daemon keeps running and exits cleanly (ASan build: no sanitizer report).
. "$MOAT_ROOT/tests/replay/lib.sh"

port=$((40000 + $$ % 10000))
send() { # bytes (printf format) to the collector, from 127.0.0.1
	printf "$1" >/dev/udp/127.0.0.1/$2 2>/dev/null || printf "$1" | timeout 1 nc -u -w0 127.0.0.1 $2
}
cat >"$T/listed.yaml" <<YAML
networks: [198.51.100.0/24]
control: {socket: none}
history: {path: none}
capture:
  - netflow: {listen: "127.0.0.1:$port"}
  - sflow: {listen: "127.0.0.1:$((port + 1))"}
exporters:
  - {address: 192.0.2.1, sampling: 100}
YAML
cat >"$T/open.yaml" <<YAML
networks: [198.51.100.0/24]
control: {socket: none}
history: {path: none}
capture:
  - netflow: {listen: "127.0.0.1:$((port + 2))"}
  - sflow: {listen: "127.0.0.1:$((port + 3))"}
YAML

# bash's /dev/udp is the sender: run the sends through bash
run_sends() { bash -c "$1"; }

$MOATD -c "$T/listed.yaml" --stats 2>"$T/listed.log" &
pid=$!
sleep 0.5
run_sends "for i in 1 2 3 4 5; do printf '\x00\x09\x00\x01garbage' >/dev/udp/127.0.0.1/$port; done"
run_sends "for i in 1 2 3; do printf '\x00\x00\x00\x05junk' >/dev/udp/127.0.0.1/$((port + 1)); done"
sleep 0.3
kill -TERM $pid
wait $pid
rc=$?
check "listed exporters only: exit clean (rc $rc)" [ $rc -eq 0 ]
check "netflow from an unlisted exporter counted: $(grep -o 'unknown exporter [0-9]*' "$T/listed.log" | head -1)" \
	grep -q "netflow 127.0.0.1:$port: 5 datagrams.*unknown exporter 5" "$T/listed.log"
check "sflow from an unlisted exporter counted" \
	grep -q "sflow 127.0.0.1:$((port + 1)): 3 datagrams.*unknown exporter 3" "$T/listed.log"

$MOATD -c "$T/open.yaml" --stats 2>"$T/open.log" &
pid=$!
sleep 0.5
# NetFlow: unknown version; v5 with a count that lies; v9 header cut short; IPFIX length lying;
# a v9 data set for a template never sent; a v9 template set whose length runs past the datagram
run_sends "p=$((port + 2));
 printf '\x00\x07abcdefgh' >/dev/udp/127.0.0.1/\$p
 printf '\x00\x05\x00\x1e\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00' >/dev/udp/127.0.0.1/\$p
 printf '\x00\x09\x00\x01\x00\x00' >/dev/udp/127.0.0.1/\$p
 printf '\x00\x0a\x7f\xff\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x01' >/dev/udp/127.0.0.1/\$p
 printf '\x00\x09\x00\x01\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00\x00\x01\x01\x00\x00\x08\x00\x00\x00\x00' >/dev/udp/127.0.0.1/\$p
 printf '\x00\x09\x00\x01\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x03\x00\x00\x00\x01\x00\x00\x00\xff\x01\x00' >/dev/udp/127.0.0.1/\$p"
# sFlow: version 4; agent address type 9; a sample length past the end
run_sends "p=$((port + 3));
 printf '\x00\x00\x00\x04\x00\x00\x00\x01\x7f\x00\x00\x01' >/dev/udp/127.0.0.1/\$p
 printf '\x00\x00\x00\x05\x00\x00\x00\x09\x7f\x00\x00\x01' >/dev/udp/127.0.0.1/\$p
 printf '\x00\x00\x00\x05\x00\x00\x00\x01\x7f\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\xff\xff' >/dev/udp/127.0.0.1/\$p"
sleep 0.3
kill -0 $pid
check "still running after bad input" [ $? -eq 0 ]
kill -TERM $pid
wait $pid
rc=$?
check "exit clean after bad input (rc $rc)" [ $rc -eq 0 ]
cat "$T/open.log" | grep exporter
nf=$(sed -n 's/^netflow exporter 127.0.0.1: \([0-9]*\) datagrams, \([0-9]*\) records.*, \([0-9]*\) errors, \([0-9]*\) without template.*/\1 \2 \3 \4/p' "$T/open.log")
set -- $nf
check "netflow: no records from garbage (records ${2:-?})" [ "${2:-1}" -eq 0 ]
check "netflow: 4 datagrams rejected as errors, 1 data set without template (errors ${3:-?}, no template ${4:-?})" \
	sh -c "[ ${3:-0} -ge 4 ] && [ ${4:-0} -eq 1 ]"
sf=$(sed -n 's/^sflow exporter 127.0.0.1: \([0-9]*\) datagrams, \([0-9]*\) records.*, \([0-9]*\) errors.*/\1 \2 \3/p' "$T/open.log")
set -- $sf
check "sflow: no records, 3 errors (records ${2:-?}, errors ${3:-?})" sh -c "[ ${2:-1} -eq 0 ] && [ ${3:-0} -eq 3 ]"
finish
