// SPDX-License-Identifier: GPL-2.0
/*
 * SYN cookies: a listener whose embryonic queue is full answers a SYN
 * without keeping any state, with an initial sequence number that encodes
 * what the connection needs later and a MAC that proves we made it.  When
 * the handshake's final ACK comes back (acknowledging cookie + 1), the
 * connection is rebuilt from the cookie alone.  A flood of SYNs from forged
 * addresses therefore costs a bounded amount of memory, and real clients
 * still connect.
 *
 * The cookie (our ISS), from the most significant bit down:
 *
 *	 2 bits  time slot: a counter of 64-second periods, mod 4
 *	 4 bits  the peer's window scale (0-14), 15: the peer sent none
 *	 3 bits  index of the peer's MSS in toytcp_cookie_mss[] (rounded down)
 *	23 bits  MAC: SipHash of both addresses and ports, the peer's ISN,
 *		 the full time counter and the 7 bits above, with a secret
 *		 made once per module load
 *
 * A cookie is valid in the slot it was made in and the next one (64 to 128
 * seconds).  Someone who does not see our SYN-ACK has a 1 in 2^23 chance
 * per forged ACK.  This layout is toytcp's own; Linux TCP keeps its cookie
 * in a different format (with timestamps, for instance).
 */
#include <linux/random.h>
#include <linux/siphash.h>
#include <linux/ktime.h>

#include "toytcp.h"

#define COOKIE_SLOT_SHIFT	30
#define COOKIE_WSCALE_SHIFT	26
#define COOKIE_MSS_SHIFT	23
#define COOKIE_MAC_MASK		((1U << COOKIE_MSS_SHIFT) - 1)
#define COOKIE_NO_WSCALE	15
#define COOKIE_PERIOD_SHIFT	6	/* 64 s slots */

/* MSS values a cookie can carry: common paths, then loopback's. */
static const u16 toytcp_cookie_mss[8] = {
	536, 1200, 1360, 1440, 1460, 4036, 8940, 65483,
};

static siphash_aligned_key_t toytcp_cookie_secret;

static u32 toytcp_cookie_slot(void)
{
	return (u32)(ktime_get_seconds() >> COOKIE_PERIOD_SHIFT);
}

static u32 toytcp_cookie_mac(const struct toytcp_cookie_tuple *t, u32 slot,
			     u32 data)
{
	u32 in[6] = {
		(__force u32)t->saddr, (__force u32)t->daddr,
		((u32)(__force u16)t->sport << 16) | (__force u16)t->dport,
		t->peer_isn, slot, data,
	};

	net_get_random_once(&toytcp_cookie_secret,
			    sizeof(toytcp_cookie_secret));
	return (u32)siphash(in, sizeof(in), &toytcp_cookie_secret);
}

static u32 toytcp_cookie_mss_index(u16 peer_mss)
{
	u32 i = 0;

	while (i + 1 < ARRAY_SIZE(toytcp_cookie_mss) &&
	       toytcp_cookie_mss[i + 1] <= peer_mss)
		i++;
	return i;
}

/**
 * toytcp_cookie_make - the ISS for a SYN-ACK sent from a full listener
 * @t: the connection's addresses and ports (ours as saddr/sport) and the
 *	peer's ISN
 * @peer_mss: the MSS option of the SYN (0: none, then 536)
 * @peer_wscale: the window scale option of the SYN, -1: none
 *
 * Return: the cookie.
 */
u32 toytcp_cookie_make(const struct toytcp_cookie_tuple *t, u16 peer_mss,
		       int peer_wscale)
{
	u32 slot = toytcp_cookie_slot();
	u32 ws, data;

	ws = peer_wscale < 0 ? COOKIE_NO_WSCALE :
	     min_t(u32, peer_wscale, TOYTCP_MAX_WSCALE);
	data = (slot & 3) << COOKIE_SLOT_SHIFT | ws << COOKIE_WSCALE_SHIFT |
	       toytcp_cookie_mss_index(peer_mss) << COOKIE_MSS_SHIFT;
	return data | (toytcp_cookie_mac(t, slot, data) & COOKIE_MAC_MASK);
}

/**
 * toytcp_cookie_check - is @cookie one we made for @t, recently?
 * @t: as for toytcp_cookie_make(), from the ACK (peer_isn: its seq - 1)
 * @cookie: the ACK's acknowledgment number - 1
 * @mss: set to the MSS the cookie carries
 * @wscale: set to the peer's window scale, -1 for none
 *
 * Return: true if the cookie is ours and not older than two slots.
 */
bool toytcp_cookie_check(const struct toytcp_cookie_tuple *t, u32 cookie,
			 u16 *mss, int *wscale)
{
	u32 now = toytcp_cookie_slot();
	u32 data = cookie & ~COOKIE_MAC_MASK;
	u32 slot, ws, age;

	for (age = 0; age < 2; age++) {
		slot = now - age;
		if ((slot & 3) != cookie >> COOKIE_SLOT_SHIFT)
			continue;
		if ((toytcp_cookie_mac(t, slot, data) & COOKIE_MAC_MASK) !=
		    (cookie & COOKIE_MAC_MASK))
			return false;
		ws = (cookie >> COOKIE_WSCALE_SHIFT) & 15;
		if (ws != COOKIE_NO_WSCALE && ws > TOYTCP_MAX_WSCALE)
			return false;
		*wscale = ws == COOKIE_NO_WSCALE ? -1 : ws;
		*mss = toytcp_cookie_mss[(cookie >> COOKIE_MSS_SHIFT) & 7];
		return true;
	}
	return false;
}
