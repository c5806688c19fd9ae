// SPDX-License-Identifier: GPL-2.0
/*
 * Initial sequence numbers as RFC 6528 section 3 describes:
 *
 *	ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
 *
 * M is a clock ticking every 4 microseconds (ns >> 12: 4.096 us) and F a
 * keyed hash (SipHash) with a secret made once per module load.  Segments of
 * an old incarnation of a connection then fall outside the new one's space,
 * and an off-path attacker cannot guess the ISN of a connection.
 */
#include <linux/ktime.h>
#include <linux/random.h>
#include <linux/siphash.h>

#include "toytcp.h"

static siphash_aligned_key_t toytcp_isn_secret;

u32 toytcp_isn(__be32 saddr, __be32 daddr, __be16 sport, __be16 dport)
{
	u32 hash;

	net_get_random_once(&toytcp_isn_secret, sizeof(toytcp_isn_secret));
	hash = siphash_3u32((__force u32)saddr, (__force u32)daddr,
			    ((u32)(__force u16)sport << 16) | (__force u16)dport,
			    &toytcp_isn_secret);
	return hash + (u32)(ktime_get_real_ns() >> 12);
}
