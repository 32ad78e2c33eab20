#!/bin/sh
# The scrubber end to end, in the routed lab of tools/lab.sh (slab): a real HTTP server in the
# protected namespace, a client namespace making real HTTP requests (curl, a new connection each)
# over IPv4 and IPv6, an attacker namespace flooding with hping3. moatd (ASan build) captures on
# prot0 and has its XDP scrubber there.
#
# Asserts: the flood is detected; its rule appears (mitigation_start, moatctl rule list); at
# least 99% of the attack packets that reach prot0 after the rule is in place are dropped at XDP;
# at least 99% of the client's requests succeed during the flood; an IPv6 reflection flood gets
# a source-port-53 drop rule; a rule by hand drops what it says and goes on `rule del`; bad rule
# words are refused; a deny list (inline and from a file) applied by `moatctl reload` cuts the
# client off over both families and lifting it serves it again; the evidence pcap holds the flood's packets; the program and its rules stay
# when moatd stops, the next moatd takes them over and ends them after the hold; moatd --unload
# removes everything.
. "$MOAT_ROOT/tests/replay/lib.sh"
. "$MOAT_ROOT/tools/lab.sh"
MOATCTL="${MOATCTL:-$MOAT_ROOT/build/asan/moatctl}"
# ip netns exec gives moatd a /sys of its own, whose /sys/fs/bpf dies with it: pin on a bpffs
# mounted here, which the namespaced moatd sees too (as an operator running moatd in a netns would)
BPFFS="$T/bpffs"
PIN="$BPFFS/moat"
cleanup() {
	# subshells ($(...), &) run this trap too in dash: only the test's own shell cleans up
	[ "$(exec sh -c 'echo $PPID')" = "$$" ] || return 0
	[ -n "${flood:-}" ] && kill "$flood" 2>/dev/null
	[ -f "$T/moat.yaml" ] && ip netns exec "$LAB_PROT" "$MOATD" --unload -c "$T/moat.yaml" >/dev/null 2>&1
	slab_down
	umount "$BPFFS" 2>/dev/null
}
trap cleanup EXIT INT TERM

[ "$(id -u)" = 0 ] || { echo "FAIL: needs root for network namespaces and XDP"; exit 1; }
for tool in hping3 curl python3 tcpdump jq; do
	command -v $tool >/dev/null || { echo "FAIL: $tool is missing (make test installs it)"; exit 1; }
done
slab_up || { echo "FAIL: cannot build the lab (ip netns, veth)"; exit 1; }
mkdir -p "$BPFFS" && mount -t bpf bpf "$BPFFS" || { echo "FAIL: cannot mount a bpffs"; exit 1; }

cat >"$T/moat.yaml" <<YAML
networks: [198.51.100.0/24, "2001:db8:5::/48"]
thresholds: {pps: 20000, syn_pps: 5000, udp_pps: 5000}
detection: {cooldown: 2}
capture:
  - af_packet: {interface: prot0, workers: 1, ring_mb: 16}
scrubber:
  interfaces: [prot0]
  hold: 8
  sample_every: 10
  evidence_packets: 1000
  evidence_dir: $T/evidence
  pin_dir: $PIN
control: {socket: $T/ctl.sock}
history: {path: $T/history.db}
YAML
ctl() { "$MOATCTL" -s "$T/ctl.sock" "$@"; }
start_moatd() { # log file
	ip netns exec "$LAB_PROT" "$MOATD" -c "$T/moat.yaml" --events "$T/ev.json" --stats 2>"$1" &
	pid=$!
	for _ in $(seq 1 100); do grep -q "capturing on" "$1" && break; sleep 0.1; done
}

# the web server: Python's threading HTTP server on both families
mkdir -p "$T/www" && head -c 2000 /dev/urandom >"$T/www/index.bin"
ip netns exec "$LAB_PROT" python3 -m http.server 80 --bind :: --directory "$T/www" \
	>"$T/http.log" 2>&1 &
for _ in $(seq 1 50); do
	slab_cli curl -s -o /dev/null --max-time 1 http://198.51.100.5/index.bin && break
	sleep 0.1
done
check "HTTP server answers the client before the test" \
	slab_cli curl -s -o /dev/null --max-time 2 http://198.51.100.5/index.bin

start_moatd "$T/moatd.log"
check "moatd attached the scrubber to prot0: $(grep -o 'XDP attached to prot0 in [a-z]* mode' "$T/moatd.log")" \
	grep -q "XDP attached to prot0" "$T/moatd.log"
check "the program is on prot0" sh -c "ip -n '$LAB_PROT' link show prot0 | grep -q xdp"
check "control socket answers: moatctl status" ctl status

# clients: N sequential requests, a new TCP connection each; prints successes
clients() { # family url count
	ok=0
	for _ in $(seq 1 "$3"); do
		c=$(slab_cli curl "-$1" -s -o /dev/null -w '%{http_code}' --max-time 3 "$2")
		[ "$c" = 200 ] && ok=$((ok + 1))
	done
	echo $ok
}

# ---- an IPv4 SYN flood from one attacker, clients fetching meanwhile ----
# spoofed sources, SYNs without TCP options (40 bytes): the usual tool-made flood. Started with
# ip netns exec directly, so $! is hping3 itself.
ip netns exec "$SLAB_ATT" hping3 --flood -q -S -p 80 --rand-source 198.51.100.5 >"$T/hping.log" 2>&1 &
flood=$!
t0=$(date +%s.%N)
clients 4 http://198.51.100.5/index.bin 60 >"$T/ok-a" &
cpid=$!
for _ in $(seq 1 50); do grep -q '"mitigation_start"' "$T/ev.json" 2>/dev/null && break; sleep 0.1; done
start=$(jq -c 'select(.event=="attack_start" and .target=="198.51.100.5")' "$T/ev.json" | head -1)
mit=$(jq -c 'select(.event=="mitigation_start" and .target=="198.51.100.5")' "$T/ev.json" | head -1)
echo "attack vector: $(echo "$start" | jq -c .vector)"
check "SYN flood detected: $(echo "$start" | jq -c '{type, pps}')" \
	[ "$(echo "$start" | jq -r .type)" = syn_flood ]
check "rule appears: $(echo "$mit" | jq -c '{rule, setup_us}')" [ -n "$mit" ]
check "rule is for this attack" [ "$(echo "$mit" | jq -r .attack)" = "$(echo "$start" | jq -r .id)" ]
check "rule: option-less SYNs to port 80 dropped (clients' SYNs carry options)" \
	sh -c "echo '$mit' | jq -r .rule | grep -q '^proto tcp dport 80 len 40 .*flags SYN drop$'"
check "rule in place within 10 ms of detection ($(echo "$mit" | jq .setup_us) us)" \
	le "$(echo "$mit" | jq .setup_us)" 10000
rid=$(echo "$mit" | jq .rule_id)
check "moatctl rule list shows it" sh -c "'$MOATCTL' -s '$T/ctl.sock' rule list | grep -q 'flags SYN drop'"

# the drop ratio: what reached prot0 (inet0's transmit count, minus the client's packets) against
# what the rule dropped, over 4 s with the rule in place
txc() { ip -n "$1" -s -j link show "$2" | jq '.[0].stats64.tx.packets'; }
drops() { ctl --json rule list | jq "[.rules[] | select(.id==$rid) | .dropped_packets][0] // 0"; }
a0=$(txc "$SLAB_RTR" inet0); c0=$(txc "$SLAB_CLI" cli0); d0=$(drops)
sleep 4
a1=$(txc "$SLAB_RTR" inet0); c1=$(txc "$SLAB_CLI" cli0); d1=$(drops)
arrived=$((a1 - a0 - (c1 - c0)))
dropped=$((d1 - d0))
echo "flood: $arrived attack packets reached prot0 in 4 s, $dropped dropped at XDP"
check "the flood is real: $((arrived / 4)) pps reach prot0" [ "$arrived" -gt 40000 ]
check "at least 99% of the attack dropped at XDP ($dropped of $arrived)" \
	awk -v d="$dropped" -v a="$arrived" 'BEGIN { exit !(a > 0 && d >= 0.99 * a) }'
wait $cpid
ok=$(cat "$T/ok-a")
check "at least 99% of the client's requests succeed during the flood ($ok of 60)" [ "$ok" -ge 60 ]
ok6=$(clients 6 "http://[2001:db8:5::5]/index.bin" 20)
check "IPv6 clients too ($ok6 of 20)" [ "$ok6" -ge 20 ]
kill -INT $flood 2>/dev/null
wait $flood 2>/dev/null
flood=
check "hping3 ran: $(grep -o '[0-9]* packets transmitted' "$T/hping.log")" grep -q "packets transmitted" "$T/hping.log"

# ---- IPv6 DNS reflection (1200-byte answers) from the router side: UDP from port 53, longer than
# 1200, dropped; the other amplification ports too ----
slab_rtr "$MOAT_GEN" -i inet0 -d 4 --attack "dns:[2001:db8:5::5]:20k:len=1200" 2>"$T/gen.log"
for _ in $(seq 1 20); do
	jq -e 'select(.event=="mitigation_start" and .target=="2001:db8:5::5")' "$T/ev.json" >/dev/null 2>&1 && break
	sleep 0.1
done
m6=$(jq -c 'select(.event=="mitigation_start" and .target=="2001:db8:5::5")' "$T/ev.json" | head -1)
check "IPv6 reflection rule: $(echo "$m6" | jq -c '{rule, amplification_ports_dropped}')" \
	sh -c "echo '$m6' | jq -r .rule | grep -q '^proto udp sport 53 .*len 1200-65535.* drop$'"
check "IPv6 reflection: amplification ports dropped" [ "$(echo "$m6" | jq .amplification_ports_dropped)" = true ]
r6=$(echo "$m6" | jq .rule_id)
d6=$(ctl --json rule list | jq "[.rules[] | select(.id==$r6) | .dropped_packets][0] // 0")
check "IPv6 reflection dropped at XDP ($d6 packets)" [ "$d6" -gt 40000 ]

# ---- rules by hand ----
out=$(ctl --json rule add 198.51.100.5 proto udp dport 9 drop)
check "rule add: $(echo "$out" | jq -c .rule.text)" [ "$(echo "$out" | jq -r .rule.origin)" = manual ]
mid=$(echo "$out" | jq .rule.id)
slab_cli python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(100):
    s.sendto(b"x" * 32, ("198.51.100.5", 9))'
sleep 0.2
md=$(ctl --json rule list | jq "[.rules[] | select(.id==$mid) | .dropped_packets][0] // 0")
check "the rule by hand dropped the client's 100 datagrams ($md)" [ "$md" -eq 100 ]
ctl rule add 198.51.100.5 proto udp dport 9 drop >/dev/null 2>"$T/dup.err"
rc=$?
check "the same rule twice is refused (rc $rc): $(cat "$T/dup.err")" [ $rc -eq 1 ]
ctl rule add 198.51.100.5 proto udp sport 99999 drop >/dev/null 2>"$T/bad.err"
rc=$?
check "bad rule words refused with a reason (rc $rc): $(cat "$T/bad.err")" \
	sh -c "[ $rc -eq 1 ] && grep -q \"sport: '99999'\" '$T/bad.err'"
check "rule del" ctl rule del "$mid"
check "deleted rule gone from the list" sh -c "! '$MOATCTL' -s '$T/ctl.sock' --json rule list | jq -e '.rules[] | select(.id==$mid)' >/dev/null"
check "mitigation_end for the deleted rule" \
	sh -c "jq -e 'select(.event==\"mitigation_end\" and .rule_id==$mid and .reason==\"deleted by operator\")' '$T/ev.json' >/dev/null"

# ---- deny list from the config and a list file, applied by moatctl reload, then lifted ----
cp "$T/moat.yaml" "$T/moat.yaml.orig"
echo "2001:db8:c::/64   # the client's IPv6 network" >"$T/deny.txt"
sed "s|^  pin_dir:|  deny: [192.0.2.66/32]\n  deny_file: $T/deny.txt\n  pin_dir:|" "$T/moat.yaml.orig" >"$T/moat.yaml"
check "moatctl reload with a deny list" ctl reload
check "the denied client gets nothing over IPv4" \
	sh -c "! ip netns exec '$SLAB_CLI' curl -s -o /dev/null --max-time 1 http://198.51.100.5/index.bin"
check "nor over IPv6 (the list file)" \
	sh -c "! ip netns exec '$SLAB_CLI' curl -6 -s -o /dev/null --max-time 1 'http://[2001:db8:5::5]/index.bin'"
dd=$(ctl --json status | jq '.scrubber.reasons.deny_list.dropped_packets')
check "dropped by the deny list at XDP: $dd packets" [ "${dd:-0}" -gt 0 ]
check "the log says so: $(grep -o 'deny list: [0-9]* entries[^)]*)' "$T/moatd.log" | tail -1)" \
	grep -q "deny list: 2 entries" "$T/moatd.log"
cp "$T/moat.yaml.orig" "$T/moat.yaml"
check "moatctl reload without it" ctl reload
check "the client is served again" \
	slab_cli curl -s -o /dev/null --max-time 2 http://198.51.100.5/index.bin
check "the list is empty again" grep -q "deny list: 0 entries (2 were there, 2 removed)" "$T/moatd.log"

# ---- evidence: the SYN flood's samples as a pcap ----
aid=$(echo "$start" | jq -r .id)
pc="$T/evidence/$aid.pcap"
sleep 0.3
n=$(tcpdump -nr "$pc" 2>/dev/null | wc -l)
syn=$(tcpdump -nr "$pc" 'tcp[tcpflags] == tcp-syn and dst host 198.51.100.5 and dst port 80' 2>/dev/null | wc -l)
check "evidence $pc holds $n samples, all SYNs to 198.51.100.5:80 ($syn)" \
	sh -c "[ $n -gt 100 ] && [ $syn -eq $n ]"

# ---- restart: the program and its rules stay, the next moatd takes them over ----
kill -TERM $pid
wait $pid
rc=$?
check "SIGTERM: clean exit, no sanitizer report (rc $rc)" [ $rc -eq 0 ]
check "the program stays on prot0 after moatd stops" sh -c "ip -n '$LAB_PROT' link show prot0 | grep -q xdp"
check "its maps stay pinned in $PIN" test -e "$PIN"
: >"$T/ev.json"
start_moatd "$T/moatd2.log"
check "restarted moatd takes the rules over: $(grep -o 'took over [0-9]* rule(s)' "$T/moatd2.log")" \
	grep -q "took over [1-9][0-9]* rule(s)" "$T/moatd2.log"
nr=$(ctl --json rule list | jq '.rules | length')
check "the rules are listed, held: $(ctl --json rule list | jq -c '[.rules[] | {id, origin, expires_in}]')" \
	sh -c "[ '$nr' -ge 1 ] && '$MOATCTL' -s '$T/ctl.sock' --json rule list | jq -e '.rules | all(.origin == \"auto\" and .expires_in != null)' >/dev/null"
for _ in $(seq 1 120); do [ "$(grep -c '"mitigation_end"' "$T/ev.json")" -ge "$nr" ] && break; sleep 0.1; done
check "after the hold they end: $(grep -c '"mitigation_end"' "$T/ev.json") mitigation_end of $nr" \
	[ "$(grep -c '"mitigation_end"' "$T/ev.json")" -ge "$nr" ]
check "and the list is empty" sh -c "'$MOATCTL' -s '$T/ctl.sock' --json rule list | jq -e '.rules | length == 0' >/dev/null"
kill -TERM $pid
wait $pid
rc=$?
check "second moatd exits cleanly (rc $rc)" [ $rc -eq 0 ]

# ---- unload ----
ip netns exec "$LAB_PROT" "$MOATD" --unload -c "$T/moat.yaml" 2>"$T/unload.log"
rc=$?
check "moatd --unload (rc $rc): $(tr '\n' ' ' <"$T/unload.log")" [ $rc -eq 0 ]
check "no program on prot0" sh -c "! ip -n '$LAB_PROT' link show prot0 | grep -q xdp"
check "no pinned maps" test ! -e "$PIN/rules"
cat "$T/moatd.log" "$T/moatd2.log"
finish
