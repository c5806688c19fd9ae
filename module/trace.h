/* SPDX-License-Identifier: GPL-2.0 */
/*
 * toytcp's tracepoints, under events/toytcp/ in tracefs:
 *
 *   toytcp_state       a socket changed state (toytcp_set_state())
 *   toytcp_segment     a segment was sent ("out") or taken in ("in", after
 *                      the checksum and header checks): flags, seq, ack,
 *                      window (the raw field), data length
 *   toytcp_retransmit  a queued segment was sent again
 *   toytcp_reset       a connection was reset by a RST it received
 *
 * Every event names the connection by its addresses and ports as seen from
 * the socket (or, for segments, by the segment's own source and
 * destination; addresses are kept as 4 bytes in network order), so that
 * the two ends of one connection can be matched.
 *
 *   echo 1 >/sys/kernel/tracing/events/toytcp/enable
 *   cat /sys/kernel/tracing/trace_pipe
 *
 * "toytcp ladder" draws a connection from these events.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM toytcp

#if !defined(_TOYTCP_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TOYTCP_TRACE_H

#include <linux/tracepoint.h>
#include <net/sock.h>
#include <net/inet_sock.h>
#include <net/tcp.h>

/* State names as the ladder and the RFC write them (toytcp_state_name()). */
#define toytcp_show_state(s)						\
	__print_symbolic(s,						\
		{ TCP_ESTABLISHED, "ESTABLISHED" },			\
		{ TCP_SYN_SENT, "SYN-SENT" },				\
		{ TCP_SYN_RECV, "SYN-RECEIVED" },			\
		{ TCP_FIN_WAIT1, "FIN-WAIT-1" },			\
		{ TCP_FIN_WAIT2, "FIN-WAIT-2" },			\
		{ TCP_TIME_WAIT, "TIME-WAIT" },				\
		{ TCP_CLOSE, "CLOSED" },				\
		{ TCP_CLOSE_WAIT, "CLOSE-WAIT" },			\
		{ TCP_LAST_ACK, "LAST-ACK" },				\
		{ TCP_LISTEN, "LISTEN" },				\
		{ TCP_CLOSING, "CLOSING" })

#define toytcp_show_flags(f)						\
	__print_flags(f, "|",						\
		{ TCPHDR_FIN, "FIN" }, { TCPHDR_SYN, "SYN" },		\
		{ TCPHDR_RST, "RST" }, { TCPHDR_PSH, "PSH" },		\
		{ TCPHDR_ACK, "ACK" }, { TCPHDR_URG, "URG" },		\
		{ TCPHDR_ECE, "ECE" }, { TCPHDR_CWR, "CWR" })

TRACE_EVENT(toytcp_state,
	    TP_PROTO(const struct sock *sk, int oldstate, int newstate),
	    TP_ARGS(sk, oldstate, newstate),
	    TP_STRUCT__entry(__field(const void *, skaddr)
			     __array(u8, saddr, 4)
			     __array(u8, daddr, 4)
			     __field(u16, sport)
			     __field(u16, dport)
			     __field(int, oldstate)
			     __field(int, newstate)),
	    TP_fast_assign(const struct inet_sock *inet = inet_sk(sk);
			   __entry->skaddr = sk;
			   memcpy(__entry->saddr, &inet->inet_rcv_saddr, 4);
			   memcpy(__entry->daddr, &inet->inet_daddr, 4);
			   __entry->sport = inet->inet_num;
			   __entry->dport = ntohs(inet->inet_dport);
			   __entry->oldstate = oldstate;
			   __entry->newstate = newstate;),
	    TP_printk("sk=%p src=%pI4:%u dst=%pI4:%u from=%s to=%s",
		      __entry->skaddr, __entry->saddr, __entry->sport,
		      __entry->daddr, __entry->dport,
		      toytcp_show_state(__entry->oldstate),
		      toytcp_show_state(__entry->newstate))
);

TRACE_EVENT(toytcp_segment,
	    TP_PROTO(bool out, __be32 saddr, __be32 daddr,
		     const struct tcphdr *th, u32 len),
	    TP_ARGS(out, saddr, daddr, th, len),
	    TP_STRUCT__entry(__field(bool, out)
			     __array(u8, saddr, 4)
			     __array(u8, daddr, 4)
			     __field(u16, sport)
			     __field(u16, dport)
			     __field(u32, seq)
			     __field(u32, ack)
			     __field(u16, window)
			     __field(u8, flags)
			     __field(u32, len)),
	    TP_fast_assign(__entry->out = out;
			   memcpy(__entry->saddr, &saddr, 4);
			   memcpy(__entry->daddr, &daddr, 4);
			   __entry->sport = ntohs(th->source);
			   __entry->dport = ntohs(th->dest);
			   __entry->seq = ntohl(th->seq);
			   __entry->ack = ntohl(th->ack_seq);
			   __entry->window = ntohs(th->window);
			   __entry->flags = tcp_flag_byte(th);
			   __entry->len = len;),
	    TP_printk("%s src=%pI4:%u dst=%pI4:%u flags=%s seq=%u ack=%u win=%u len=%u",
		      __entry->out ? "out" : "in", __entry->saddr, __entry->sport,
		      __entry->daddr, __entry->dport,
		      toytcp_show_flags(__entry->flags), __entry->seq,
		      __entry->ack, __entry->window, __entry->len)
);

TRACE_EVENT(toytcp_retransmit,
	    TP_PROTO(const struct sock *sk, u32 seq, u32 end_seq, u8 count),
	    TP_ARGS(sk, seq, end_seq, count),
	    TP_STRUCT__entry(__field(const void *, skaddr)
			     __array(u8, saddr, 4)
			     __array(u8, daddr, 4)
			     __field(u16, sport)
			     __field(u16, dport)
			     __field(u32, seq)
			     __field(u32, end_seq)
			     __field(u8, count)),
	    TP_fast_assign(const struct inet_sock *inet = inet_sk(sk);
			   __entry->skaddr = sk;
			   memcpy(__entry->saddr, &inet->inet_saddr, 4);
			   memcpy(__entry->daddr, &inet->inet_daddr, 4);
			   __entry->sport = inet->inet_num;
			   __entry->dport = ntohs(inet->inet_dport);
			   __entry->seq = seq;
			   __entry->end_seq = end_seq;
			   __entry->count = count;),
	    TP_printk("sk=%p src=%pI4:%u dst=%pI4:%u seq=%u end_seq=%u retransmits=%u",
		      __entry->skaddr, __entry->saddr, __entry->sport,
		      __entry->daddr, __entry->dport, __entry->seq,
		      __entry->end_seq, __entry->count)
);

TRACE_EVENT(toytcp_reset,
	    TP_PROTO(const struct sock *sk, int state, int err),
	    TP_ARGS(sk, state, err),
	    TP_STRUCT__entry(__field(const void *, skaddr)
			     __array(u8, saddr, 4)
			     __array(u8, daddr, 4)
			     __field(u16, sport)
			     __field(u16, dport)
			     __field(int, state)
			     __field(int, err)),
	    TP_fast_assign(const struct inet_sock *inet = inet_sk(sk);
			   __entry->skaddr = sk;
			   memcpy(__entry->saddr, &inet->inet_saddr, 4);
			   memcpy(__entry->daddr, &inet->inet_daddr, 4);
			   __entry->sport = inet->inet_num;
			   __entry->dport = ntohs(inet->inet_dport);
			   __entry->state = state;
			   __entry->err = err;),
	    TP_printk("sk=%p src=%pI4:%u dst=%pI4:%u state=%s errno=%d",
		      __entry->skaddr, __entry->saddr, __entry->sport,
		      __entry->daddr, __entry->dport,
		      toytcp_show_state(__entry->state), __entry->err)
);

#endif /* _TOYTCP_TRACE_H */

/* This part must be outside the include guard. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
