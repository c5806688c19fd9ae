/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * toytcp user API: what a program needs beyond <netinet/in.h> to use toytcp.
 *
 *	int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TOYTCP);
 *
 * Everything else is the ordinary BSD socket API with Linux TCP semantics.
 * Socket options at level IPPROTO_TOYTCP or SOL_TCP (6) are the TCP ones
 * (TCP_NODELAY, TCP_MAXSEG, TCP_INFO, TCP_KEEPIDLE/INTVL/CNT, ...); a
 * struct tcp_info's tcpi_state carries the RFC 9293 state in Linux's TCP
 * numbering (TCP_ESTABLISHED == 1 ... TCP_CLOSING == 11).
 */
#ifndef _UAPI_TOYTCP_H
#define _UAPI_TOYTCP_H

/* IP protocol number, from the RFC 3692 experimental range (253, 254). */
#define IPPROTO_TOYTCP		253
#define IPPROTO_TOYTCP_ALT	254

#endif /* _UAPI_TOYTCP_H */
