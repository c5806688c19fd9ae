/* SPDX-License-Identifier: GPL-2.0 */
/*
 * toytcp counters, per network namespace, in the spirit of TCP's MIB.
 * Read them in /proc/net/toytcp_stat ("Name value" lines).
 */
#ifndef _TOYTCP_MIB_H
#define _TOYTCP_MIB_H

#include <net/net_namespace.h>

#define TOYTCP_MIB_LIST(X)						\
	X(ActiveOpens,		"connect() sent a SYN")			\
	X(PassiveOpens,		"a listener created a child")		\
	X(AttemptFails,		"SYN-SENT/SYN-RECEIVED went to CLOSED")	\
	X(EstabResets,		"ESTABLISHED/CLOSE-WAIT went to CLOSED")	\
	X(CurrEstab,		"connections now ESTABLISHED/CLOSE-WAIT") \
	X(InSegs,		"segments received, valid")		\
	X(OutSegs,		"segments sent")			\
	X(RetransSegs,		"segments retransmitted")		\
	X(InErrs,		"segments dropped as malformed")	\
	X(InCsumErrors,		"segments dropped for their checksum")	\
	X(OutRsts,		"RST segments sent")			\
	X(InRsts,		"RST segments accepted")		\
	X(NoSocket,		"segments for no socket")		\
	X(ChallengeAcks,	"RFC 5961 challenge ACKs sent")		\
	X(OutOfWindow,		"segments outside the receive window")	\
	X(OfoQueued,		"segments queued out of order")		\
	X(RcvQDrop,		"segments dropped: receive buffer full")	\
	X(BacklogDrop,		"segments dropped: socket backlog full")	\
	X(ListenDrops,		"SYNs dropped: listener queue full")	\
	X(TimeWaits,		"connections that entered TIME-WAIT")	\
	X(Timeouts,		"RTO expirations")			\
	X(FastRetrans,		"fast retransmits (3 duplicate ACKs)")	\
	X(PersistProbes,	"zero window probes sent")		\
	X(KeepaliveProbes,	"keepalive probes sent")		\
	X(DelayedAcks,		"ACKs sent by the delayed ACK timer")

enum {
#define TOYTCP_MIB_ENUM(name, doc) TOYTCP_MIB_##name,
	TOYTCP_MIB_LIST(TOYTCP_MIB_ENUM)
#undef TOYTCP_MIB_ENUM
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
