/* rule: scrubber rules as words, the form moatctl, the event log and the API use.
 *
 *   TARGET [proto tcp|udp|icmp|icmpv6|N] [sport P[-Q]] [dport P[-Q]] [len A[-B]] [ttl A[-B]]
 *          [flags FLAGS[/MASK]] [frag none|first|later|fragment[,..]] [icmp-type T [icmp-code C]]
 *          (drop | pass | ratelimit PPS [burst N] [per /P])
 *
 * TARGET is one IPv4 or IPv6 address. FLAGS and MASK are comma lists of FIN SYN RST PSH ACK URG
 * (MASK defaults to all six, so "flags SYN" is a SYN without ACK); "frag fragment" is first and
 * later fragments. "per /P" keys the rate-limit buckets by the source masked to P bits (default
 * the whole address). Formatting gives the canonical words back; parse(format(r)) == r.
 */
#ifndef MOAT_MITIGATE_RULE_H
#define MOAT_MITIGATE_RULE_H

#include <stddef.h>

#include "bpf/scrub.h"
#include "core/json.h"

#define RULE_TEXT_MAX 256

/* Parses argv[0..argc) (argv[0] is the target) into r, zeroing it first; r->origin is manual.
 * Returns 0, or -1 with a message naming the bad word in err. */
int rule_parse(int argc, char *const *argv, struct scrub_rule *r, char *err, size_t errlen);

/* Canonical words of r without the target ("udp sport 53 len 1000-65535 drop"). */
void rule_format(const struct scrub_rule *r, char *buf, size_t len);

/* The target as text. */
void rule_target_str(const struct scrub_rule *r, char *buf, size_t len);

/* Writes the rule's members (no braces): target, text, action, origin and its components. */
void rule_json(const struct scrub_rule *r, struct json *j);

/* 1 when the rule does something (action set, ranges ordered, fields valid), else 0. */
int rule_valid(const struct scrub_rule *r);

#endif
