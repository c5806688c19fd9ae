// SPDX-License-Identifier: GPL-2.0
/*
 * toytcp_set_state(): the one place where a toytcp socket changes state.
 *
 * The states are RFC 9293's eleven, in the kernel's TCP numbering.  Every
 * change is checked against the RFC's state diagram (section 3.3.2); a move
 * the diagram does not have is a bug in toytcp and warns once.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <net/sock.h>

#include "mib.h"
#include "toytcp.h"
#include "trace.h"

static const char * const toytcp_state_names[] = {
	[TCP_ESTABLISHED]	= "ESTABLISHED",
	[TCP_SYN_SENT]		= "SYN-SENT",
	[TCP_SYN_RECV]		= "SYN-RECEIVED",
	[TCP_FIN_WAIT1]		= "FIN-WAIT-1",
	[TCP_FIN_WAIT2]		= "FIN-WAIT-2",
	[TCP_TIME_WAIT]		= "TIME-WAIT",
	[TCP_CLOSE]		= "CLOSED",
	[TCP_CLOSE_WAIT]	= "CLOSE-WAIT",
	[TCP_LAST_ACK]		= "LAST-ACK",
	[TCP_LISTEN]		= "LISTEN",
	[TCP_CLOSING]		= "CLOSING",
};

static const char *toytcp_state_name(int state)
{
	if (state <= 0 || state >= ARRAY_SIZE(toytcp_state_names) ||
	    !toytcp_state_names[state])
		return "INVALID";
	return toytcp_state_names[state];
}

#define F(s)	(1 << (s))

/* Counters that follow from a state change (mib.h). */
static void toytcp_count_state(struct sock *sk, int old, int state)
{
	struct net *net = sock_net(sk);
	bool was_estab = old == TCP_ESTABLISHED || old == TCP_CLOSE_WAIT;
	bool is_estab = state == TCP_ESTABLISHED || state == TCP_CLOSE_WAIT;

	if (was_estab && !is_estab)
		TOYTCP_DEC(net, CURR_ESTAB);
	else if (!was_estab && is_estab)
		TOYTCP_INC(net, CURR_ESTAB);

	switch (state) {
	case TCP_SYN_SENT:
		TOYTCP_INC(net, ACTIVE_OPENS);
		break;
	case TCP_SYN_RECV:
		if (old == TCP_CLOSE)
			TOYTCP_INC(net, PASSIVE_OPENS);
		break;
	case TCP_TIME_WAIT:
		TOYTCP_INC(net, TIME_WAITS);
		break;
	case TCP_CLOSE:
		if (old == TCP_SYN_SENT || old == TCP_SYN_RECV)
			TOYTCP_INC(net, ATTEMPT_FAILS);
		else if (was_estab)
			TOYTCP_INC(net, ESTAB_RESETS);
		break;
	default:
		break;
	}
}

/*
 * Allowed moves, from RFC 9293 figure 5, plus CLOSED from every state (abort,
 * reset, timeout) and LISTEN <- SYN-SENT (a connect() that fails on a socket
 * the user then listens on goes through CLOSED, so it is not listed).
 */
static const u16 toytcp_next_states[] = {
	[TCP_CLOSE]	  = F(TCP_LISTEN) | F(TCP_SYN_SENT) | F(TCP_SYN_RECV),
	[TCP_LISTEN]	  = F(TCP_CLOSE),
	[TCP_SYN_SENT]	  = F(TCP_SYN_RECV) | F(TCP_ESTABLISHED) | F(TCP_CLOSE),
	[TCP_SYN_RECV]	  = F(TCP_ESTABLISHED) | F(TCP_FIN_WAIT1) |
			    F(TCP_CLOSE_WAIT) | F(TCP_CLOSE),
	[TCP_ESTABLISHED] = F(TCP_FIN_WAIT1) | F(TCP_CLOSE_WAIT) | F(TCP_CLOSE),
	[TCP_FIN_WAIT1]	  = F(TCP_FIN_WAIT2) | F(TCP_CLOSING) |
			    F(TCP_TIME_WAIT) | F(TCP_CLOSE),
	[TCP_FIN_WAIT2]	  = F(TCP_TIME_WAIT) | F(TCP_CLOSE),
	[TCP_CLOSE_WAIT]  = F(TCP_LAST_ACK) | F(TCP_CLOSE),
	[TCP_CLOSING]	  = F(TCP_TIME_WAIT) | F(TCP_CLOSE),
	[TCP_LAST_ACK]	  = F(TCP_CLOSE),
	[TCP_TIME_WAIT]	  = F(TCP_CLOSE),
};

/**
 * toytcp_set_state - move @sk to @state
 * @sk: socket, locked (by the user or, in softirq, with bh_lock_sock)
 * @state: the new state
 *
 * Entering CLOSED releases the socket's table entries: it can no longer be
 * found by incoming segments, and its port is free unless the user bound it
 * explicitly and still holds the socket.
 */
void toytcp_set_state(struct sock *sk, int state)
{
	int old = sk->sk_state;

	if (old == state)
		return;
	WARN_ONCE(old <= 0 || old >= ARRAY_SIZE(toytcp_next_states) ||
		  !(toytcp_next_states[old] & F(state)),
		  "toytcp: illegal state change %s -> %s\n",
		  toytcp_state_name(old), toytcp_state_name(state));

	pr_debug("%p %s -> %s\n", sk, toytcp_state_name(old),
		 toytcp_state_name(state));
	trace_toytcp_state(sk, old, state);

	toytcp_count_state(sk, old, state);
	if (state == TCP_CLOSE) {
		sk->sk_prot->unhash(sk);
		if (!(sk->sk_userlocks & SOCK_BINDPORT_LOCK) ||
		    sock_flag(sk, SOCK_DEAD)) {
			toytcp_put_port(sk);
			inet_sk(sk)->inet_num = 0;
		}
	}
	/* Publish last: lockless readers (poll) see a consistent socket. */
	smp_store_release(&sk->sk_state, state);
	/* Wake connect(), poll() and readers waiting for a state. */
	if (!sock_flag(sk, SOCK_DEAD))
		sk->sk_state_change(sk);
}
