// SPDX-License-Identifier: GPL-2.0
/*
 * toytcp option parsing (RFC 9293 3.1 and 3.2).
 *
 * toytcp understands MSS, window scale, SACK-permitted and SACK; every other
 * option is skipped by its length.  A list that a real TCP could not walk (a length byte that is
 * missing, below 2, or runs past the header; a known option with the wrong
 * length) makes the whole segment invalid.  toytcp writes its options in
 * output.c: MSS, window scale and SACK-permitted on SYNs, SACK blocks
 * (sack.c) on ACKs.
 */
#include "toytcp.h"

/**
 * toytcp_parse_options - walk the option list of @th
 * @th: TCP header, all of doff * 4 bytes present and linear
 * @opt: result; mss 0, wscale -1, sack_ok 0 and num_sacks 0 when absent
 *
 * Return: 0, or -EINVAL for a malformed list.
 */
int toytcp_parse_options(const struct tcphdr *th, struct toytcp_options *opt)
{
	const u8 *p = (const u8 *)(th + 1);
	int left = th->doff * 4 - sizeof(*th);

	opt->mss = 0;
	opt->wscale = -1;
	opt->sack_ok = 0;
	opt->sack_off = 0;
	opt->num_sacks = 0;
	while (left > 0) {
		u8 kind = p[0];
		u8 len;

		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			p++;
			left--;
			continue;
		}
		if (left < 2)
			return -EINVAL;
		len = p[1];
		if (len < 2 || len > left)
			return -EINVAL;
		switch (kind) {
		case TCPOPT_MSS:
			if (len != TCPOLEN_MSS)
				return -EINVAL;
			if (th->syn)
				opt->mss = get_unaligned_be16(p + 2);
			break;
		case TCPOPT_WINDOW:
			if (len != TCPOLEN_WINDOW)
				return -EINVAL;
			if (th->syn)
				opt->wscale = min_t(u8, p[2], TOYTCP_MAX_WSCALE);
			break;
		case TCPOPT_SACK_PERM:
			if (len != TCPOLEN_SACK_PERM)
				return -EINVAL;
			if (th->syn)
				opt->sack_ok = 1;
			break;
		case TCPOPT_SACK:
			if (len < TCPOLEN_SACK_BASE + TCPOLEN_SACK_PERBLOCK ||
			    (len - TCPOLEN_SACK_BASE) % TCPOLEN_SACK_PERBLOCK)
				return -EINVAL;
			if (!th->syn) {
				opt->sack_off = p - (const u8 *)th;
				opt->num_sacks = (len - TCPOLEN_SACK_BASE) /
						 TCPOLEN_SACK_PERBLOCK;
			}
			break;
		default:
			break;	/* unknown or unused: skipped */
		}
		p += len;
		left -= len;
	}
	return 0;
}
