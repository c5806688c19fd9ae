// SPDX-License-Identifier: GPL-2.0
/*
 * toytcp socket operations: struct proto_ops (the BSD socket layer's entry
 * points) and struct proto (the transport's).
 *
 * Where the generic inet helper already has Linux TCP's exact semantics and
 * only calls back into struct proto (inet_bind, inet_getname, inet_release,
 * inet_shutdown), toytcp uses it, as DCCP does; everything that knows about
 * the protocol is here or in the files named in toytcp.h.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/percpu_counter.h>
#include <linux/poll.h>
#include <net/inet_common.h>
#include <net/ip.h>
#include <net/sock.h>

#include "toytcp.h"

/* Memory accounting shared by all toytcp sockets, as TCP's. */
static struct percpu_counter toytcp_sockets_allocated;
static atomic_long_t toytcp_memory_allocated;
static DEFINE_PER_CPU(int, toytcp_memory_per_cpu_fw_alloc);
static unsigned long toytcp_memory_pressure;
/* In pages: no pressure below, pressure above, hard limit. */
static long toytcp_sysctl_mem[3];
/* In bytes: minimum, default, maximum per socket. */
static int toytcp_sysctl_wmem[3] = { 4096, 256 * 1024, 4 * 1024 * 1024 };
static int toytcp_sysctl_rmem[3] = { 4096, 256 * 1024, 6 * 1024 * 1024 };

static void toytcp_enter_memory_pressure(struct sock *sk)
{
	WRITE_ONCE(toytcp_memory_pressure, 1);
}

static void toytcp_leave_memory_pressure(struct sock *sk)
{
	WRITE_ONCE(toytcp_memory_pressure, 0);
}

static int toytcp_init_sock(struct sock *sk)
{
	sk->sk_sndbuf = toytcp_sysctl_wmem[1];
	sk->sk_rcvbuf = toytcp_sysctl_rmem[1];
	sk_sockets_allocated_inc(sk);
	return 0;
}

/* Called once, when the socket is dead and CLOSED, before its last put. */
static void toytcp_destroy_sock(struct sock *sk)
{
	toytcp_put_port(sk);
	sk_sockets_allocated_dec(sk);
}

static void toytcp_close(struct sock *sk, long timeout)
{
	lock_sock(sk);
	WRITE_ONCE(sk->sk_shutdown, SHUTDOWN_MASK);
	toytcp_set_state(sk, TCP_CLOSE);
	sock_orphan(sk);
	toytcp_destroy_sock(sk);
	release_sock(sk);
	/* The reference the socket file held. */
	sock_put(sk);
}

static int toytcp_disconnect(struct sock *sk, int flags)
{
	toytcp_set_state(sk, TCP_CLOSE);
	return 0;
}

static void toytcp_shutdown(struct sock *sk, int how)
{
}

static int toytcp_setsockopt(struct sock *sk, int level, int optname,
			     sockptr_t optval, unsigned int optlen)
{
	if (level == SOL_IP)
		return ip_setsockopt(sk, level, optname, optval, optlen);
	return -ENOPROTOOPT;
}

static int toytcp_getsockopt(struct sock *sk, int level, int optname,
			     char __user *optval, int __user *optlen)
{
	if (level == SOL_IP)
		return ip_getsockopt(sk, level, optname, optval, optlen);
	return -ENOPROTOOPT;
}

/* Readiness as tcp_poll() reports it. */
static __poll_t toytcp_poll(struct file *file, struct socket *sock,
			    poll_table *wait)
{
	struct sock *sk = sock->sk;
	__poll_t mask = 0;
	int state;

	sock_poll_wait(file, sock, wait);
	state = inet_sk_state_load(sk);
	if (state == TCP_LISTEN)
		return 0;

	if (READ_ONCE(sk->sk_shutdown) == SHUTDOWN_MASK || state == TCP_CLOSE)
		mask |= EPOLLHUP;
	if (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN)
		mask |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;
	if (state != TCP_SYN_SENT && state != TCP_SYN_RECV) {
		if (!skb_queue_empty_lockless(&sk->sk_receive_queue))
			mask |= EPOLLIN | EPOLLRDNORM;
		if (!(READ_ONCE(sk->sk_shutdown) & SEND_SHUTDOWN)) {
			if (sk_stream_is_writeable(sk))
				mask |= EPOLLOUT | EPOLLWRNORM;
		} else {
			mask |= EPOLLOUT | EPOLLWRNORM;
		}
	}
	if (READ_ONCE(sk->sk_err) ||
	    !skb_queue_empty_lockless(&sk->sk_error_queue))
		mask |= EPOLLERR;
	return mask;
}

struct proto toytcp_prot = {
	.name			= "TOYTCP",
	.owner			= THIS_MODULE,
	.close			= toytcp_close,
	.disconnect		= toytcp_disconnect,
	.init			= toytcp_init_sock,
	.destroy		= toytcp_destroy_sock,
	.shutdown		= toytcp_shutdown,
	.setsockopt		= toytcp_setsockopt,
	.getsockopt		= toytcp_getsockopt,
	.hash			= toytcp_hash,
	.unhash			= toytcp_unhash,
	.get_port		= toytcp_get_port,
	.put_port		= toytcp_put_port,
	.enter_memory_pressure	= toytcp_enter_memory_pressure,
	.leave_memory_pressure	= toytcp_leave_memory_pressure,
	.sockets_allocated	= &toytcp_sockets_allocated,
	.memory_allocated	= &toytcp_memory_allocated,
	.per_cpu_fw_alloc	= &toytcp_memory_per_cpu_fw_alloc,
	.memory_pressure	= &toytcp_memory_pressure,
	.sysctl_mem		= toytcp_sysctl_mem,
	.sysctl_wmem		= toytcp_sysctl_wmem,
	.sysctl_rmem		= toytcp_sysctl_rmem,
	.max_header		= TOYTCP_MAX_HEADER,
	.obj_size		= sizeof(struct toytcp_sock),
};

const struct proto_ops toytcp_stream_ops = {
	.family		= PF_INET,
	.owner		= THIS_MODULE,
	.release	= inet_release,
	.bind		= inet_bind,
	.connect	= sock_no_connect,
	.socketpair	= sock_no_socketpair,
	.accept		= sock_no_accept,
	.getname	= inet_getname,
	.poll		= toytcp_poll,
	.ioctl		= inet_ioctl,
	.listen		= sock_no_listen,
	.shutdown	= inet_shutdown,
	.setsockopt	= sock_common_setsockopt,
	.getsockopt	= sock_common_getsockopt,
	.sendmsg	= sock_no_sendmsg,
	.recvmsg	= sock_no_recvmsg,
	.mmap		= sock_no_mmap,
};

int toytcp_socket_init(void)
{
	unsigned long limit = nr_free_buffer_pages() / 16;

	/* Same proportions of memory as TCP's defaults (tcp_init_mem()). */
	limit = max(limit, 128UL);
	toytcp_sysctl_mem[0] = limit / 4 * 3;
	toytcp_sysctl_mem[1] = limit;
	toytcp_sysctl_mem[2] = toytcp_sysctl_mem[0] * 2;
	return percpu_counter_init(&toytcp_sockets_allocated, 0, GFP_KERNEL);
}

void toytcp_socket_exit(void)
{
	percpu_counter_destroy(&toytcp_sockets_allocated);
}
