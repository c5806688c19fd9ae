/* SPDX-License-Identifier: GPL-2.0 */
/*
 * toytcp: a teaching TCP, registered as its own IPv4 transport.
 *
 * Map of the module (one job per file):
 *   main.c	module init/exit, registration, per-netns state
 *   socket.c	socket operations (struct proto_ops and struct proto)
 *   lookup.c	the port, listener and connection tables; port allocator
 *   state.c	toytcp_set_state(): the single place a state changes
 *
 * States use the kernel's TCP numbering (TCP_ESTABLISHED ... TCP_CLOSING from
 * <net/tcp_states.h>) so that the generic inet socket helpers (inet_bind,
 * inet_getname, inet_shutdown, inet_stream_connect, inet_accept) see the
 * states they expect.  Only toytcp_set_state() writes sk->sk_state.
 */
#ifndef _TOYTCP_H
#define _TOYTCP_H

#include <linux/types.h>
#include <linux/list.h>
#include <linux/netdevice.h>
#include <net/inet_sock.h>
#include <net/tcp_states.h>

#include "compat.h"
#include "uapi/toytcp.h"

/* Headroom for a segment: link layer, IP and TCP headers with options. */
#define TOYTCP_MAX_HEADER	(MAX_HEADER + 128)

/* The IP protocol number in use (module parameter "ipproto"). */
extern int toytcp_ipproto;

extern struct proto toytcp_prot;
extern const struct proto_ops toytcp_stream_ops;

/*
 * struct toytcp_sock - a toytcp socket
 * @inet: the inet socket; must be first (inet_sk(), sk_alloc's obj_size)
 *
 * Unless a field says otherwise it is protected by the socket lock: process
 * context holds it with lock_sock() (sock_owned_by_me()), softirq and timers
 * with bh_lock_sock() and only when the socket is not owned by a user.
 */
struct toytcp_sock {
	struct inet_sock	inet;
};

static inline struct toytcp_sock *toytcp_sk(const struct sock *sk)
{
	return (struct toytcp_sock *)sk;
}

/* state.c */
void toytcp_set_state(struct sock *sk, int state);
const char *toytcp_state_name(int state);

/* lookup.c */
int toytcp_get_port(struct sock *sk, unsigned short snum);
bool toytcp_port_can_listen(struct sock *sk);
void toytcp_inherit_port(struct sock *child, const struct sock *listener);
void toytcp_put_port(struct sock *sk);
int toytcp_hash(struct sock *sk);
void toytcp_unhash(struct sock *sk);
struct sock *toytcp_lookup_conn(struct net *net, __be32 laddr, __be16 lport,
				__be32 raddr, __be16 rport);
struct sock *toytcp_lookup_listener(struct net *net, __be32 laddr,
				    __be16 lport, int dif);
int toytcp_lookup_init(void);
void toytcp_lookup_exit(void);

/* socket.c */
int toytcp_socket_init(void);
void toytcp_socket_exit(void);

#endif /* _TOYTCP_H */
