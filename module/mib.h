/* SPDX-License-Identifier: GPL-2.0 */
/*
 * toytcp counters, per network namespace, in the spirit of TCP's MIB.
 * Read them in /proc/net/toytcp_stat ("Name value" lines; the names are in
 * proc.c).
 */
#ifndef _TOYTCP_MIB_H
#define _TOYTCP_MIB_H

#include <net/net_namespace.h>

enum {
	TOYTCP_MIB_NUM = 0,
	TOYTCP_MIB_ACTIVE_OPENS,	/* connect() sent a SYN */
	TOYTCP_MIB_PASSIVE_OPENS,	/* a listener created a child */
	TOYTCP_MIB_ATTEMPT_FAILS,	/* SYN-SENT/SYN-RECEIVED went to CLOSED */
	TOYTCP_MIB_ESTAB_RESETS,	/* ESTABLISHED/CLOSE-WAIT went to CLOSED */
	TOYTCP_MIB_CURR_ESTAB,	/* connections now ESTABLISHED/CLOSE-WAIT */
	TOYTCP_MIB_IN_SEGS,	/* segments received, valid */
	TOYTCP_MIB_OUT_SEGS,	/* segments sent */
	TOYTCP_MIB_RETRANS_SEGS,	/* segments retransmitted */
	TOYTCP_MIB_IN_ERRS,	/* segments dropped as malformed */
	TOYTCP_MIB_IN_CSUM_ERRORS,	/* segments dropped for their checksum */
	TOYTCP_MIB_OUT_RSTS,	/* RST segments sent */
	TOYTCP_MIB_IN_RSTS,	/* RST segments accepted */
	TOYTCP_MIB_NO_SOCKET,	/* segments for no socket */
	TOYTCP_MIB_CHALLENGE_ACKS,	/* RFC 5961 challenge ACKs sent */
	TOYTCP_MIB_OUT_OF_WINDOW,	/* segments outside the receive window */
	TOYTCP_MIB_OFO_QUEUED,	/* segments queued out of order */
	TOYTCP_MIB_RCV_QDROP,	/* segments dropped: receive buffer full */
	TOYTCP_MIB_BACKLOG_DROP,	/* segments dropped: socket backlog full */
	TOYTCP_MIB_LISTEN_DROPS,	/* SYNs dropped: listener queue full */
	TOYTCP_MIB_SYNCOOKIES_SENT,	/* SYN-ACKs sent with a cookie */
	TOYTCP_MIB_SYNCOOKIES_RECV,	/* valid cookies: connections made */
	TOYTCP_MIB_SYNCOOKIES_FAILED,	/* ACKs with a wrong or stale cookie */
	TOYTCP_MIB_TIME_WAITS,	/* connections that entered TIME-WAIT */
	TOYTCP_MIB_TIMEOUTS,	/* RTO expirations */
	TOYTCP_MIB_FAST_RETRANS,	/* fast retransmits (3 duplicate ACKs) */
	TOYTCP_MIB_PERSIST_PROBES,	/* zero window probes sent */
	TOYTCP_MIB_KEEPALIVE_PROBES,	/* keepalive probes sent */
	TOYTCP_MIB_DELAYED_ACKS,	/* ACKs sent by the delayed ACK timer */
	TOYTCP_MIB_SACK_RECOVERY,	/* fast recoveries guided by SACK */
	TOYTCP_MIB_SACK_RETRANS,	/* holes SACK showed, sent again */
	TOYTCP_MIB_SACK_BLOCKS_SENT,	/* ACKs sent with SACK blocks */
	TOYTCP_MIB_MAX
};

struct toytcp_mib {
	unsigned long	mibs[TOYTCP_MIB_MAX];
};

struct toytcp_mib __percpu *toytcp_net_mib(const struct net *net);

#define TOYTCP_INC(net, field)	\
	this_cpu_inc(toytcp_net_mib(net)->mibs[TOYTCP_MIB_##field])
#define TOYTCP_DEC(net, field)	\
	this_cpu_dec(toytcp_net_mib(net)->mibs[TOYTCP_MIB_##field])

#endif /* _TOYTCP_MIB_H */
