// SPDX-License-Identifier: GPL-2.0
/*
 * toytcp option parsing (RFC 9293 3.1 and 3.2).
 *
 * toytcp understands MSS and window scale; every other option is skipped by
 * its length.  A list that a real TCP could not walk (a length byte that is
 * missing, below 2, or runs past the header; a known option with the wrong
 * length) makes the whole segment invalid.  toytcp writes its options in
 * output.c, on SYNs only.
 */
#include "toytcp.h"

/**
 * toytcp_parse_options - walk the option list of @th
 * @th: TCP header, all of doff * 4 bytes present and linear
 * @opt: result; mss 0 and wscale -1 when absent
 *
 * Return: 0, or -EINVAL for a malformed list.
 */
int toytcp_parse_options(const struct tcphdr *th, struct toytcp_options *opt)
{
	const u8 *p = (const u8 *)(th + 1);
	int left = th->doff * 4 - sizeof(*th);

	opt->mss = 0;
	opt->wscale = -1;
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
		default:
			break;	/* unknown or unused: skipped */
		}
		p += len;
		left -= len;
	}
	return 0;
}
