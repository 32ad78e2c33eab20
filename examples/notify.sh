#!/bin/sh
# notify.sh: example notify script for moatd (FastNetMon-compatible).
#
# moatd runs it when an attack starts and when it ends (see moatd(8), NOTIFY):
#
#   notify.sh IP incoming|outgoing PPS ban|unban
#
# IP is the attacked address, or the hostgroup's name for an attack on a whole hostgroup
# (total_thresholds). The details come on stdin: text lines "Name: value" with
# notify.format: fastnetmon (the default), or the event's JSON line with notify.format: json.
#
# This script only writes the ban/unban and its details to syslog (facility daemon, tag
# moat-notify) with logger(1). It changes nothing on the network: the place where you would call
# your router's API is the function mitigate() below, which does nothing unless you write it and
# set MOAT_NOTIFY_ACT=1 in moatd's environment.
#
# Install: cp notify.sh /etc/moat/notify.sh && chmod 755 /etc/moat/notify.sh, and in moat.yaml:
#   notify: {script: /etc/moat/notify.sh}
# Try it by hand:
#   printf 'Attack type: syn_flood\n' | sh notify.sh 198.51.100.5 incoming 50000 ban
#
# moatd kills the script after notify.timeout seconds (default 30) and logs a non-zero exit.

set -u

TAG=moat-notify
FACILITY=daemon

usage() {
	logger -t "$TAG" -p "$FACILITY.err" -- "bad arguments: $*"
	echo "usage: $0 IP incoming|outgoing PPS ban|unban" >&2
	exit 2
}

[ $# -eq 4 ] || usage "$@"
ip=$1
direction=$2
pps=$3
action=$4

# Check every argument before it goes anywhere: never pass unchecked text to a shell or an API.
case $direction in incoming | outgoing) ;; *) usage "$@" ;; esac
case $action in ban | unban) ;; *) usage "$@" ;; esac
case $pps in '' | *[!0-9]*) usage "$@" ;; esac
case $ip in '' | *[!0-9A-Za-z.:_-]*) usage "$@" ;; esac

# An address has a colon (IPv6; hostgroup names cannot) or is digits and three dots (IPv4);
# anything else is a hostgroup name.
case $ip in
*:*) is_address=1 ;;
*[!0-9.]*) is_address=0 ;;
*.*.*.*) is_address=1 ;;
*) is_address=0 ;;
esac

# The details: moatd writes them and closes the pipe, so this read ends at once. Read them even
# when unused, so that moatd never writes into a closed pipe.
details=$(cat)

if [ "$action" = ban ]; then
	prio=warning
else
	prio=notice
fi
logger -t "$TAG" -p "$FACILITY.$prio" -- "$action $ip $direction $pps pps"

# One syslog line per detail line, each starting with the address so that they can be grepped
# together. The "Event:" line (the full JSON, which is also in the events file) may be longer
# than syslog keeps; syslog daemons cut long lines rather than fail.
printf '%s\n' "$details" | while IFS= read -r line; do
	[ -n "$line" ] && logger -t "$TAG" -p "$FACILITY.info" -- "$ip $action: $line"
done

# Mitigation. Called with the checked arguments; does nothing by default.
mitigate() {
	# $1 = ban|unban, $2 = address, $3 = incoming|outgoing, $4 = pps
	#
	# Examples of what an operator puts here (none of them runs unless you remove the '#'):
	#
	# A remotely triggered blackhole through a BGP speaker (gobgp), for an incoming flood:
	#   [ "$3" = incoming ] || return 0
	#   case $2 in *:*) len=128 fam=ipv6 ;; *) len=32 fam=ipv4 ;; esac
	#   if [ "$1" = ban ]; then
	#       gobgp global rib -a "$fam" add "$2/$len" community 65535:666
	#   else
	#       gobgp global rib -a "$fam" del "$2/$len"
	#   fi
	#
	# Or your router's or scrubbing provider's HTTP API:
	#   curl -fsS --max-time 10 -X POST https://router.example.net/api/blackhole \
	#       -H "Authorization: Bearer $(cat /etc/moat/router.token)" \
	#       -d "{\"prefix\": \"$2\", \"action\": \"$1\"}"
	#
	# Keep it quick (moatd kills the script after notify.timeout) and idempotent: an unban may
	# follow a ban that failed, and a restart of moatd forgets running attacks.
	return 0
}

if [ "${MOAT_NOTIFY_ACT:-0}" = 1 ] && [ "$is_address" = 1 ]; then
	if mitigate "$action" "$ip" "$direction" "$pps"; then
		logger -t "$TAG" -p "$FACILITY.notice" -- "mitigation $action $ip done"
	else
		logger -t "$TAG" -p "$FACILITY.err" -- "mitigation $action $ip FAILED"
		exit 1
	fi
elif [ "$is_address" = 0 ]; then
	# A hostgroup attack (carpet bombing): no single address to act on; a real script might
	# announce the group's prefixes to a scrubbing center here.
	:
fi
exit 0
