/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels toytcp builds for lives here, so that
 * the rest of the module is written against one API: Debian 12's 6.1 first,
 * then 6.12 and newer.  Each entry names the kernel that changed the API and
 * tests for the new name itself, not for a version number.
 */
#ifndef _TOYTCP_COMPAT_H
#define _TOYTCP_COMPAT_H

#include <linux/timer.h>
#include <net/route.h>
#include <net/sock.h>

/*
 * 6.12 moved the unaligned accessors from <asm/unaligned.h> to
 * <linux/unaligned.h>.  Kbuild tells which (sparse before 0.6.5 does not
 * know __has_include).
 */
#ifdef TOYTCP_HAVE_LINUX_UNALIGNED_H
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

/* 6.16 renamed from_timer() to timer_container_of(). */
#ifndef timer_container_of
#define timer_container_of(var, t, field)	from_timer(var, t, field)
#endif

/*
 * 6.5 added register_net_sysctl_sz() (the table's size, for tables without
 * the empty end entry); register_net_sysctl() became a macro that takes
 * ARRAY_SIZE() of its argument, which a kmemdup()ed copy cannot give.
 * @n counts the entries before the end entry.
 */
#include <net/net_namespace.h>
#ifdef register_net_sysctl
#define toytcp_register_net_sysctl(net, path, table, n)	\
	register_net_sysctl_sz(net, path, table, n)
#else
#define toytcp_register_net_sysctl(net, path, table, n)	\
	register_net_sysctl(net, path, table)
#endif

/*
 * The TOS and scope of a socket's route.  RT_CONN_FLAGS() folded
 * SOCK_LOCALROUTE into the TOS (RTO_ONLINK); 6.12 no longer has it, and
 * ip_sock_rt_scope() says RT_SCOPE_LINK for such a socket instead.
 */
#ifdef RT_CONN_FLAGS
#define toytcp_rt_tos(sk)	RT_CONN_FLAGS(sk)
#define toytcp_rt_scope(sk)	RT_SCOPE_UNIVERSE
#else
#define toytcp_rt_tos(sk)	ip_sock_rt_tos(sk)
#define toytcp_rt_scope(sk)	ip_sock_rt_scope(sk)
#endif

/*
 * toytcp_sk_net_unref() - drop @sk's reference on its namespace.  The
 * caller has cleared sk_net_refcnt, so that __sk_destruct() will not drop
 * it again, and treats the socket as kernel sockets are treated:
 * - since "net: better track kernel sockets lifetime" (6.14, and 6.12.y
 *   stable), such a socket holds a passive reference instead (the
 *   namespace's memory stays, the namespace may go), which
 *   __sk_destruct() drops: take it first.  That commit also added
 *   sk_net_refcnt_upgrade(), which Kbuild looks for
 *   (TOYTCP_HAVE_NET_PASSIVE): a stable backport gives no version to test;
 * - since 6.2 __sk_destruct() frees such a socket's tracker from the
 *   namespace's untracked-reference list (TOYTCP_HAVE_NETNS_NOTREFCNT:
 *   __netns_tracker_alloc() exists): put one there.
 */
static inline void toytcp_sk_net_unref(struct sock *sk)
{
	struct net *net = sock_net(sk);

#ifdef TOYTCP_HAVE_NET_PASSIVE
	net_passive_inc(net);
#endif
	put_net_track(net, &sk->ns_tracker);
#ifdef TOYTCP_HAVE_NETNS_NOTREFCNT
	__netns_tracker_alloc(net, &sk->ns_tracker, false, GFP_ATOMIC);
#endif
}

/*
 * The callbacks of struct proto whose signatures changed.  Each is an
 * adapter here around a body with one signature everywhere (socket.c,
 * listen.c).  Kbuild tells which signature the kernel's <net/sock.h> has:
 * the prototypes are what changed, so they are what is tested.
 */
struct sock *toytcp_accept_child(struct sock *sk, int flags, int *err);
int toytcp_do_ioctl(struct sock *sk, int cmd, int *answer);
int toytcp_do_recvmsg(struct sock *sk, struct msghdr *msg, size_t len,
		      int flags);

/*
 * 6.19 passes connect()'s address as struct sockaddr_unsized (its length
 * is the next argument, not sizeof(struct sockaddr)).
 */
#ifdef TOYTCP_HAVE_SOCKADDR_UNSIZED
#define toytcp_sockaddr		sockaddr_unsized
#else
#define toytcp_sockaddr		sockaddr
#endif

/* 6.10 gathers accept()'s flags, error and kern in struct proto_accept_arg. */
#ifdef TOYTCP_HAVE_PROTO_ACCEPT_ARG
static inline struct sock *toytcp_accept(struct sock *sk,
					 struct proto_accept_arg *arg)
{
	return toytcp_accept_child(sk, arg->flags, &arg->err);
}
#else
static inline struct sock *toytcp_accept(struct sock *sk, int flags,
					 int *err, bool kern)
{
	return toytcp_accept_child(sk, flags, err);
}
#endif

/*
 * 6.6 hands ioctl() a kernel int to fill, which sk_ioctl() copies out;
 * before, the protocol got the user's pointer and copied the answer
 * itself.
 */
#ifdef TOYTCP_HAVE_IOCTL_KARG
static inline int toytcp_ioctl(struct sock *sk, int cmd, int *karg)
{
	return toytcp_do_ioctl(sk, cmd, karg);
}
#else
static inline int toytcp_ioctl(struct sock *sk, int cmd, unsigned long arg)
{
	int answer, err = toytcp_do_ioctl(sk, cmd, &answer);

	return err ?: put_user(answer, (int __user *)arg);
}
#endif

/*
 * 6.19 dropped recvmsg()'s addr_len (a stream socket never fills in an
 * address).
 */
#ifdef TOYTCP_HAVE_RECVMSG_ADDR_LEN
static inline int toytcp_recvmsg(struct sock *sk, struct msghdr *msg,
				 size_t len, int flags, int *addr_len)
{
	return toytcp_do_recvmsg(sk, msg, len, flags);
}
#else
static inline int toytcp_recvmsg(struct sock *sk, struct msghdr *msg,
				 size_t len, int flags)
{
	return toytcp_do_recvmsg(sk, msg, len, flags);
}
#endif

#endif /* _TOYTCP_COMPAT_H */
