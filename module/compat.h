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
#include <linux/version.h>
#include <net/route.h>
#include <net/sock.h>

/*
 * 6.12 moved the unaligned accessors from <asm/unaligned.h> to
 * <linux/unaligned.h>.
 */
#if __has_include(<linux/unaligned.h>)
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
 * it again.  Since "net: better track kernel sockets lifetime" (6.13, in
 * 6.12.y stable too) a socket with sk_net_refcnt clear holds a passive
 * reference instead (the namespace's memory stays, the namespace may go),
 * which __sk_destruct() drops: take that one, and a tracker of its kind.
 * Kbuild defines TOYTCP_HAVE_NET_PASSIVE when the kernel's headers have
 * net_passive_inc(): a stable backport gives no version to test.
 */
#ifdef TOYTCP_HAVE_NET_PASSIVE
static inline void toytcp_sk_net_unref(struct sock *sk)
{
	struct net *net = sock_net(sk);

	net_passive_inc(net);
	put_net_track(net, &sk->ns_tracker);
	__netns_tracker_alloc(net, &sk->ns_tracker, false, GFP_ATOMIC);
}
#else
static inline void toytcp_sk_net_unref(struct sock *sk)
{
	put_net_track(sock_net(sk), &sk->ns_tracker);
}
#endif

/*
 * The callbacks of struct proto whose signatures changed.  Each
 * TOYTCP_DEFINE_PROTO_*(name, fn) defines the callback @name for this
 * kernel in terms of @fn, which has one signature everywhere.
 */

/*
 * 6.19 passes connect()'s address as struct sockaddr_unsized (its length
 * is the next argument, not sizeof(struct sockaddr)).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 19, 0)
#define toytcp_sockaddr		sockaddr_unsized
#else
#define toytcp_sockaddr		sockaddr
#endif

/*
 * 6.10 gathers accept()'s flags, error and kern in struct
 * proto_accept_arg.  @fn: struct sock *fn(struct sock *sk, int flags,
 * int *err).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define TOYTCP_DEFINE_PROTO_ACCEPT(name, fn)				\
static struct sock *name(struct sock *sk, struct proto_accept_arg *arg)	\
{									\
	return fn(sk, arg->flags, &arg->err);				\
}
#else
#define TOYTCP_DEFINE_PROTO_ACCEPT(name, fn)				\
static struct sock *name(struct sock *sk, int flags, int *err, bool kern) \
{									\
	return fn(sk, flags, err);					\
}
#endif

/*
 * 6.6 hands ioctl() a kernel int to fill, which sk_ioctl() copies out;
 * before, the protocol got the user's pointer and copied the answer
 * itself.  @fn: int fn(struct sock *sk, int cmd, int *answer).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
#define TOYTCP_DEFINE_PROTO_IOCTL(name, fn)				\
static int name(struct sock *sk, int cmd, int *karg)			\
{									\
	return fn(sk, cmd, karg);					\
}
#else
#define TOYTCP_DEFINE_PROTO_IOCTL(name, fn)				\
static int name(struct sock *sk, int cmd, unsigned long arg)		\
{									\
	int answer, err = fn(sk, cmd, &answer);				\
									\
	return err ?: put_user(answer, (int __user *)arg);		\
}
#endif

/*
 * 6.19 dropped recvmsg()'s addr_len (a stream socket never fills in an
 * address).  @fn: int fn(struct sock *sk, struct msghdr *msg, size_t len,
 * int flags).
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 19, 0)
#define TOYTCP_DEFINE_PROTO_RECVMSG(name, fn)				\
static int name(struct sock *sk, struct msghdr *msg, size_t len,	\
		int flags)						\
{									\
	return fn(sk, msg, len, flags);					\
}
#else
#define TOYTCP_DEFINE_PROTO_RECVMSG(name, fn)				\
static int name(struct sock *sk, struct msghdr *msg, size_t len,	\
		int flags, int *addr_len)				\
{									\
	return fn(sk, msg, len, flags);					\
}
#endif

#endif /* _TOYTCP_COMPAT_H */
