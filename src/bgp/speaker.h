/* speaker: moatd's BGP-4 speaker (issue 5). One thread runs the RFC 4271 finite state machine of
 * every configured peer over the codec of bgp/msg.h: active (non-blocking connect, ConnectRetry
 * with exponential backoff 1 s .. 60 s, reset on Established) and passive opens (one listener),
 * hold and keepalive timers (keepalive = negotiated hold / 3; hold 0 = none), NOTIFICATIONs sent
 * for every error the codec reports and understood (logged with their shutdown communication)
 * when received. Capabilities offered: MP (the families configured), 4-octet AS, route refresh.
 * Optional TCP MD5 (RFC 2385, TCP_MD5SIG) per peer.
 *
 * It announces and withdraws the routes moatd gives it (its Adj-RIB-Out) and sends the whole
 * table, then End-of-RIB per family, whenever a peer reaches Established, and again for a family
 * on a ROUTE-REFRESH. Routes received are validated (RFC 7606) and ignored.
 *
 * Connection collision (RFC 4271 6.8, simplified): an incoming connection from a peer that is
 * Established is refused (Cease 6/7). One arriving while an outgoing connection is still being
 * set up keeps the connection the RFC would keep when the peer's BGP identifier is known from an
 * earlier OPEN (ours higher: keep ours, else keep the incoming); with no identifier known yet the
 * incoming one is kept and the outgoing closed (Cease 6/7 if it had sent an OPEN).
 *
 * Incoming connections are matched to peers by source address only.
 */
#ifndef MOAT_BGP_SPEAKER_H
#define MOAT_BGP_SPEAKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bgp/msg.h"
#include "core/json.h"

#define BGP_SPEAKER_MAX_PEERS 64

struct bgp_peer_conf {
	struct maddr addr; /* IPv4 mapped or IPv6 */
	uint16_t port;	   /* 0: 179 */
	uint32_t remote_as;
	unsigned families;  /* BGP_FAM_BIT()s to offer; 0: all four */
	char md5[81];	    /* "" = none; else TCP_MD5SIG key (on the connecting socket and, for the
			     * peer's address, on the listening socket) */
	bool passive;	    /* never connect; wait for the peer */
	unsigned hold_time; /* offered as given (the config layer defaults it to 90); 0 allowed per
			     * RFC (no keepalives, no hold timer); 1 and 2 are refused */
};

struct bgp_speaker_conf {
	uint32_t local_as;
	uint32_t router_id; /* host byte order */
	const struct bgp_peer_conf *peers;
	size_t n_peers;		  /* at most BGP_SPEAKER_MAX_PEERS */
	struct maddr listen_addr; /* also the source address of outgoing connections of its family
				   * unless it is the unspecified address */
	uint16_t listen_port;	  /* 0: do not listen (then passive peers are refused) */
};

/* One route moatd wants announced: the speaker keeps it (Adj-RIB-Out) and sends it to every peer
 * that is Established and negotiated its family, now and whenever a peer (re)establishes (then
 * End-of-RIB per family after the initial table). */
struct bgp_out_route {
	uint64_t id;	      /* caller's unique id */
	struct bgp_route r;   /* family, prefix/len or fs (the speaker copies the fs_rule) */
	struct maddr nexthop; /* unicast families */
	uint32_t comm[16];
	size_t n_comm;
	struct bgp_large_comm large[8];
	size_t n_large;
	uint64_t ext[4]; /* e.g. bgp_ext_traffic_rate(local_as, 0) */
	size_t n_ext;
	bool only_without_flowspec; /* unicast: only to peers that did not negotiate the flowspec
				     * family of the same AFI (a blackhole where flowspec is not
				     * available) */
};

/* One JSON object (not NUL-terminated: use len), called on the speaker's thread:
 *   {"event":"bgp_peer_up","peer":ADDR,"remote_as":N,"families":[...],"hold_time":N}
 *   {"event":"bgp_peer_down","peer":ADDR,"reason":TEXT}
 *   {"event":"bgp_update_sent","peer":ADDR,"family":NAME,"withdraw":B,"ids":[at most 64],
 *    "routes":N,"mono_ns":T}   (T: CLOCK_MONOTONIC when the write() that completed the UPDATE
 *    was made; one event per UPDATE message)
 * The callback may call bgp_speaker_peers_json/routes_json/announce/withdraw. */
typedef void (*bgp_event_fn)(void *arg, const char *json, size_t len);

/* Checks the configuration (errors in err) and builds the speaker; nothing runs yet. */
struct bgp_speaker *bgp_speaker_new(const struct bgp_speaker_conf *c, bgp_event_fn fn, void *arg,
				    char *err, size_t errlen);
/* Binds the listener (a clear error if the port is taken) and starts the thread. 0 or -1. */
int bgp_speaker_start(struct bgp_speaker *s, char *err, size_t errlen);
/* Thread-safe, returns at once. Replaces a route with the same id (withdrawing the old NLRI
 * first when it differs). 0, -EINVAL (a route the codec cannot encode), -ENOSPC, -ENOMEM. */
int bgp_speaker_announce(struct bgp_speaker *s, const struct bgp_out_route *r);
/* Thread-safe. 0 or -ENOENT. */
int bgp_speaker_withdraw(struct bgp_speaker *s, uint64_t id);
/* Thread-safe: an array of {address, port, remote_as, passive, state, uptime (s), families,
 * hold_time, updates_sent, updates_received, notifications_sent, notifications_received,
 * last_error, reconnects}. */
void bgp_speaker_peers_json(struct bgp_speaker *s, struct json *j);
/* Thread-safe: array of {id, family, text, peers_sent}. */
void bgp_speaker_routes_json(struct bgp_speaker *s, struct json *j);
/* Stops: with withdraw, withdraws every route from every Established peer first; then Cease 6/2
 * (Administrative Shutdown) with a short text to every peer with an open session; waits at most
 * 2 s for those bytes to go out; joins the thread; frees. NULL is fine. */
void bgp_speaker_free(struct bgp_speaker *s, bool withdraw);

#endif
