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
#include <linux/sched/signal.h>
#include <linux/sizes.h>
#include <linux/termios.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <net/route.h>
#include <net/inet_common.h>
#include <net/ip.h>
#include <net/sock.h>

#include "mib.h"
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

/**
 * toytcp_reset_conn - forget the connection state of a CLOSED socket
 * @sk: socket about to connect, or just disconnected; its timers are
 *	stopped but may still have deferred work, which is kept
 */
static void toytcp_reset_conn(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);

	memset((char *)tp + sizeof(struct inet_sock), 0,
	       offsetof(struct toytcp_sock, opt) - sizeof(struct inet_sock));
	skb_queue_head_init(&tp->ooo_queue);
	INIT_LIST_HEAD(&tp->lq_node);
	spin_lock_init(&tp->lq_lock);
	INIT_LIST_HEAD(&tp->lq_embryos);
	INIT_LIST_HEAD(&tp->lq_ready);
	tp->timer_kind = TOYTCP_TIMER_NONE;
	tp->rto = TOYTCP_RTO_INIT;
	tp->mss = TOYTCP_DEFAULT_MSS;
	tp->adv_mss = TOYTCP_DEFAULT_MSS;
	tp->ssthresh = U32_MAX;
	tp->rcv_wscale = toytcp_choose_wscale(sk);
	tp->rcv_ratio = 512;
	sock_set_flag(sk, SOCK_USE_WRITE_QUEUE);
}

/**
 * toytcp_init_private - set up everything toytcp keeps beyond the inet socket
 * @sk: a new socket, or a child just cloned from its listener (whose timers
 *	and deferred work it must not inherit)
 */
void toytcp_init_private(struct sock *sk)
{
	toytcp_init_timers(sk);
	toytcp_reset_conn(sk);
}

static int toytcp_init_sock(struct sock *sk)
{
	sk->sk_sndbuf = READ_ONCE(toytcp_sk_cfg(sk)->wmem[1]);
	sk->sk_rcvbuf = READ_ONCE(toytcp_sk_cfg(sk)->rmem[1]);
	sk->sk_write_space = toytcp_write_space;
	toytcp_init_private(sk);
	sk_sockets_allocated_inc(sk);
	return 0;
}

static bool toytcp_is_orphan(const struct sock *sk)
{
	return sock_flag(sk, SOCK_DEAD);
}

/**
 * toytcp_done - the connection is over: CLOSED for good
 * @sk: socket, locked (user or bh); the caller holds its own reference
 *
 * With a user still holding the socket, it only wakes the user, whose
 * close() comes back here.  For an orphan (closed by its user, or a child
 * nobody accepted) it frees the queues, the port and the timers and drops
 * the socket's life reference.
 */
void toytcp_done(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);

	/*
	 * Shut down before CLOSED is published: toytcp_set_state() wakes
	 * poll(), which must then see POLLIN and POLLHUP together.
	 */
	WRITE_ONCE(sk->sk_shutdown, SHUTDOWN_MASK);
	toytcp_set_state(sk, TCP_CLOSE);
	toytcp_stop_timers(sk);
	if (tp->released)
		return;

	if (tp->listener && !toytcp_child_unlink(sk))
		return;		/* accept() has just taken it: it owns it */
	if (!toytcp_is_orphan(sk) || tp->listener) {
		if (!toytcp_is_orphan(sk))
			sk->sk_state_change(sk);
		if (!tp->listener)
			return;
		/* an unaccepted child: release it and its listener */
		sock_put(tp->listener);
		tp->listener = NULL;
	}

	tp->released = true;
	sk_dst_reset(sk);	/* a route pins its device, and its netns */
	toytcp_purge_write_queue(sk);
	__skb_queue_purge(&sk->sk_receive_queue);
	__skb_queue_purge(&tp->ooo_queue);
	sk_mem_reclaim(sk);
	toytcp_put_port(sk);
	sk_sockets_allocated_dec(sk);
	sock_put(sk);		/* the life reference */
}

/**
 * toytcp_abort - the connection is over on an error: report it and close
 * @sk: socket, locked (user or bh); the caller holds its own reference
 * @err: the error the user sees (positive errno)
 *
 * For a RST received (input.c counts and traces those first), a timeout,
 * the RFC 2525 abort of data for a closed reader, or no memory for a FIN.
 */
void toytcp_abort(struct sock *sk, int err)
{
	bool dead = sock_flag(sk, SOCK_DEAD);

	/*
	 * Error first, wake-ups after CLOSED: a poll() woken here must see
	 * POLLERR and POLLHUP together, as TCP reports them.  A dead socket
	 * may be freed by toytcp_done(); nobody waits on it.
	 */
	WRITE_ONCE(sk->sk_err, err);
	toytcp_done(sk);
	if (!dead)
		sk_error_report(sk);
}

/* Called by inet_create() only if init fails; nothing to undo then. */
static void toytcp_destroy_sock(struct sock *sk)
{
}

/* Bytes received and not read, FIN excluded. */
static u32 toytcp_inq(const struct sock *sk)
{
	const struct toytcp_sock *tp = toytcp_sk(sk);
	u32 n = tp->rcv_nxt - tp->copied_seq;

	if (n && sock_flag(sk, SOCK_DONE))
		n--;
	return n;
}

/*
 * An orphan must not keep its network namespace alive: a namespace deleted
 * while connections are still closing would linger until they time out.
 * Like TCP's TIME-WAIT minisockets, it drops its reference, and
 * toytcp_net_purge() ends whatever is left when the namespace goes.
 */
static void toytcp_orphan_net(struct sock *sk)
{
	if (!sk->sk_net_refcnt)
		return;
	sk->sk_net_refcnt = 0;
	sock_inuse_add(sock_net(sk), -1);
	toytcp_sk_net_unref(sk);
}

/**
 * toytcp_net_purge - end every toytcp socket left in a dying namespace
 * @net: the namespace; only orphans can be left, as every socket with a
 *	user holds a reference on it
 */
void toytcp_net_purge(struct net *net)
{
	struct sock *sk;

	while ((sk = toytcp_lookup_any(net))) {
		local_bh_disable();
		bh_lock_sock(sk);
		toytcp_done(sk);
		bh_unlock_sock(sk);
		local_bh_enable();
		sock_put(sk);
	}
}

/* Our FIN is not acknowledged yet: FIN-WAIT-1, CLOSING or LAST-ACK. */
static bool toytcp_closing(const struct sock *sk)
{
	return (1 << READ_ONCE(sk->sk_state)) &
	       (TCPF_FIN_WAIT1 | TCPF_CLOSING | TCPF_LAST_ACK);
}

/*
 * close() with SO_LINGER's time: sleep (the socket lock released) until
 * the peer has acknowledged our FIN, @timeout runs out or a signal comes.
 */
static void toytcp_wait_close(struct sock *sk, long timeout)
{
	DEFINE_WAIT_FUNC(wait, woken_wake_function);

	sock_owned_by_me(sk);
	add_wait_queue(sk_sleep(sk), &wait);
	while (timeout && toytcp_closing(sk) && !signal_pending(current))
		sk_wait_event(sk, &timeout, !toytcp_closing(sk), &wait);
	remove_wait_queue(sk_sleep(sk), &wait);
}

static void toytcp_close(struct sock *sk, long timeout)
{
	struct toytcp_sock *tp = toytcp_sk(sk);
	bool unread;

	lock_sock(sk);
	WRITE_ONCE(sk->sk_shutdown, SHUTDOWN_MASK);

	if (sk->sk_state == TCP_LISTEN) {
		toytcp_listen_stop(sk);
		toytcp_set_state(sk, TCP_CLOSE);
		goto orphan;
	}

	unread = toytcp_inq(sk) > 0 || !skb_queue_empty(&tp->ooo_queue);
	__skb_queue_purge(&sk->sk_receive_queue);
	__skb_queue_purge(&tp->ooo_queue);
	sk_mem_reclaim(sk);

	switch (sk->sk_state) {
	case TCP_CLOSE:
		break;
	case TCP_SYN_SENT:
		/* nothing to tell the peer yet */
		toytcp_set_state(sk, TCP_CLOSE);
		break;
	case TCP_SYN_RECV:
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
		if (unread || (sock_flag(sk, SOCK_LINGER) && !sk->sk_lingertime)) {
			/*
			 * Unread data (RFC 2525 2.17) or SO_LINGER {1, 0}:
			 * abort with RST instead of a FIN.
			 */
			toytcp_send_active_reset(sk, sk->sk_allocation);
			toytcp_set_state(sk, TCP_CLOSE);
			break;
		}
		toytcp_set_state(sk, sk->sk_state == TCP_CLOSE_WAIT ?
				 TCP_LAST_ACK : TCP_FIN_WAIT1);
		toytcp_send_fin(sk);
		break;
	default:
		/* FIN already sent by shutdown(SHUT_WR) */
		if (unread) {
			toytcp_send_active_reset(sk, sk->sk_allocation);
			toytcp_set_state(sk, TCP_CLOSE);
		}
		break;
	}

	/* SO_LINGER with a time: wait for our FIN to be acknowledged. */
	if (timeout && sk->sk_state != TCP_CLOSE)
		toytcp_wait_close(sk, timeout);

orphan:
	sock_hold(sk);
	sock_orphan(sk);
	toytcp_orphan_net(sk);
	if (sk->sk_state == TCP_CLOSE)
		toytcp_done(sk);
	else if (sk->sk_state == TCP_FIN_WAIT2)
		toytcp_timer_fin_wait2(sk);
	release_sock(sk);
	sock_put(sk);
}

/*
 * connect(AF_UNSPEC), or shutdown() of a listener or a connect in
 * progress: abort whatever there is and leave a reusable CLOSED socket.
 */
static int toytcp_disconnect(struct sock *sk, int flags)
{
	struct toytcp_sock *tp = toytcp_sk(sk);
	int old = sk->sk_state;

	if (old == TCP_LISTEN) {
		toytcp_listen_stop(sk);
	} else if (old != TCP_CLOSE && old != TCP_SYN_SENT &&
		   old != TCP_TIME_WAIT) {
		toytcp_send_active_reset(sk, sk->sk_allocation);
		WRITE_ONCE(sk->sk_err, ECONNRESET);
	}
	toytcp_set_state(sk, TCP_CLOSE);
	toytcp_stop_timers(sk);
	toytcp_purge_write_queue(sk);
	__skb_queue_purge(&sk->sk_receive_queue);
	__skb_queue_purge(&tp->ooo_queue);
	sk_mem_reclaim(sk);
	inet_sk(sk)->inet_dport = 0;
	inet_sk(sk)->inet_daddr = 0;
	if (!(sk->sk_userlocks & SOCK_BINDADDR_LOCK)) {
		inet_sk(sk)->inet_saddr = 0;
		inet_sk(sk)->inet_rcv_saddr = 0;
	}
	WRITE_ONCE(sk->sk_shutdown, 0);
	sock_reset_flag(sk, SOCK_DONE);
	sk_dst_reset(sk);
	toytcp_reset_conn(sk);
	sk->sk_error_report(sk);
	return 0;
}

/* shutdown(SHUT_WR): send FIN, keep receiving (RFC 9293 3.10.4). */
static void toytcp_shutdown(struct sock *sk, int how)
{
	if (!(how & SEND_SHUTDOWN))
		return;
	switch (sk->sk_state) {
	case TCP_ESTABLISHED:
	case TCP_SYN_RECV:
		toytcp_set_state(sk, TCP_FIN_WAIT1);
		toytcp_send_fin(sk);
		break;
	case TCP_CLOSE_WAIT:
		toytcp_set_state(sk, TCP_LAST_ACK);
		toytcp_send_fin(sk);
		break;
	default:
		break;
	}
}

/* struct proto's connect: route, pick a port, send the SYN. */
static int toytcp_v4_connect(struct sock *sk, struct toytcp_sockaddr *uaddr,
			     int addr_len)
{
	struct sockaddr_in *usin = (struct sockaddr_in *)uaddr;
	struct toytcp_sock *tp = toytcp_sk(sk);
	struct inet_sock *inet = inet_sk(sk);
	struct flowi4 *fl4 = &inet->cork.fl.u.ip4;
	struct rtable *rt;
	int err;

	if (addr_len < sizeof(struct sockaddr_in))
		return -EINVAL;
	if (usin->sin_family != AF_INET)
		return -EAFNOSUPPORT;

	flowi4_init_output(fl4, sk->sk_bound_dev_if, sk->sk_mark,
			   toytcp_rt_tos(sk), toytcp_rt_scope(sk),
			   sk->sk_protocol, inet_sk_flowi_flags(sk),
			   usin->sin_addr.s_addr, inet->inet_saddr,
			   usin->sin_port, inet->inet_sport, sk->sk_uid);
	rt = ip_route_output_flow(sock_net(sk), fl4, sk);
	if (IS_ERR(rt))
		return PTR_ERR(rt) == -ENETUNREACH ? -ENETUNREACH :
		       PTR_ERR(rt);
	if (rt->rt_flags & (RTCF_MULTICAST | RTCF_BROADCAST)) {
		ip_rt_put(rt);
		return -ENETUNREACH;
	}
	if (!inet->inet_saddr)
		inet->inet_saddr = fl4->saddr;
	if (!inet->inet_rcv_saddr)
		inet->inet_rcv_saddr = inet->inet_saddr;
	inet->inet_daddr = fl4->daddr;
	inet->inet_dport = usin->sin_port;
	sk_dst_set(sk, &rt->dst);

	if (!inet->inet_num) {
		err = toytcp_get_port(sk, 0);
		if (err)
			goto failure;
		inet->inet_sport = htons(inet->inet_num);
	}

	toytcp_reset_conn(sk);
	toytcp_set_state(sk, TCP_SYN_SENT);
	err = toytcp_hash(sk);
	if (err)
		goto failure;

	atomic_set(&inet->inet_id, get_random_u16());
	tp->iss = toytcp_isn(inet->inet_saddr, inet->inet_daddr,
			     inet->inet_sport, inet->inet_dport);
	tp->snd_una = tp->iss;
	tp->snd_nxt = tp->iss;
	tp->write_seq = tp->iss;
	tp->adv_mss = toytcp_adv_mss(sk);
	toytcp_update_mss(sk, TOYTCP_DEFAULT_MSS);
	tp->cwnd = TOYTCP_INIT_CWND * tp->mss;
	err = toytcp_send_syn(sk, sk->sk_allocation);
	if (err)
		goto failure;
	return 0;

failure:
	toytcp_set_state(sk, TCP_CLOSE);
	inet->inet_dport = 0;
	inet->inet_daddr = 0;
	sk_dst_reset(sk);
	return err;
}

/* Grow the tail skb or queue a new one; copy @msg in.  Lock held. */
/* An skb sendmsg() queued but put no data in goes away again. */
static void toytcp_remove_empty_tail(struct sock *sk)
{
	struct sk_buff *skb = skb_peek_tail(&sk->sk_write_queue);
	struct toytcp_sock *tp = toytcp_sk(sk);

	if (!skb || skb->len || skb != tp->send_head ||
	    (TOYTCP_SKB_CB(skb)->flags & (TCPHDR_SYN | TCPHDR_FIN)))
		return;
	__skb_unlink(skb, &sk->sk_write_queue);
	tp->send_head = NULL;
	toytcp_free_queued(sk, skb);
}

static int toytcp_sendmsg_locked(struct sock *sk, struct msghdr *msg,
				 size_t size)
{
	struct toytcp_sock *tp = toytcp_sk(sk);
	long timeo = sock_sndtimeo(sk, msg->msg_flags & MSG_DONTWAIT);
	size_t copied = 0;
	u32 goal;
	int err;

	if ((1 << sk->sk_state) & (TCPF_SYN_SENT | TCPF_SYN_RECV)) {
		err = sk_stream_wait_connect(sk, &timeo);
		if (err)
			goto out_err;
	}
	err = -EPIPE;
	if (sk->sk_err || (sk->sk_shutdown & SEND_SHUTDOWN))
		goto out_err;
	if (!((1 << sk->sk_state) & (TCPF_ESTABLISHED | TCPF_CLOSE_WAIT))) {
		err = -ENOTCONN;
		goto out_err;
	}

	/*
	 * One skb is one segment, at most an MSS (and 64 KiB).  Its data is
	 * in page fragments (sk_page_frag(): pages reused across writes, not
	 * an allocation per segment), behind a linear part for the headers
	 * only.
	 */
	goal = min_t(u32, tp->mss, SZ_64K - TOYTCP_MAX_HEADER);
	while (msg_data_left(msg)) {
		struct sk_buff *skb = skb_peek_tail(&sk->sk_write_queue);
		struct page_frag *pfrag = sk_page_frag(sk);
		bool merge = false;
		size_t copy;
		int i = 0;

		if (!sk_page_frag_refill(sk, pfrag))
			goto wait_for_memory;
		if (skb) {
			i = skb_shinfo(skb)->nr_frags;
			merge = skb_can_coalesce(skb, i, pfrag->page,
						 pfrag->offset);
		}
		if (!skb || !tp->send_head || skb->len >= goal ||
		    (TOYTCP_SKB_CB(skb)->flags & (TCPHDR_SYN | TCPHDR_FIN)) ||
		    (!merge && i >= MAX_SKB_FRAGS)) {
			if (!sk_stream_memory_free(sk))
				goto wait_for_memory;
			skb = toytcp_entail(sk, sk->sk_allocation, 0);
			if (!skb)
				goto wait_for_memory;
			i = 0;
			merge = false;
		}
		copy = min_t(size_t, msg_data_left(msg), goal - skb->len);
		copy = min_t(size_t, copy, pfrag->size - pfrag->offset);
		if (!sk_wmem_schedule(sk, copy))
			goto wait_for_memory;
		if (copy_page_from_iter(pfrag->page, pfrag->offset, copy,
					&msg->msg_iter) != copy) {
			err = -EFAULT;
			goto out_err;
		}
		if (merge) {
			skb_frag_size_add(&skb_shinfo(skb)->frags[i - 1], copy);
		} else {
			skb_fill_page_desc(skb, i, pfrag->page, pfrag->offset,
					   copy);
			get_page(pfrag->page);
		}
		pfrag->offset += copy;
		skb->len += copy;
		skb->data_len += copy;
		skb->truesize += copy;
		sk_wmem_queued_add(sk, copy);
		sk_mem_charge(sk, copy);
		TOYTCP_SKB_CB(skb)->end_seq += copy;
		WRITE_ONCE(tp->write_seq, tp->write_seq + copy);
		copied += copy;
		continue;

wait_for_memory:
		toytcp_remove_empty_tail(sk);
		toytcp_push(sk);
		err = sk_stream_wait_memory(sk, &timeo);
		if (err)
			goto out_err;
	}
	toytcp_push(sk);
	return copied;

out_err:
	toytcp_remove_empty_tail(sk);
	if (copied) {
		toytcp_push(sk);
		return copied;
	}
	return sk_stream_error(sk, msg->msg_flags, err);
}

static int toytcp_sendmsg(struct sock *sk, struct msghdr *msg, size_t size)
{
	int ret;

	lock_sock(sk);
	ret = toytcp_sendmsg_locked(sk, msg, size);
	release_sock(sk);
	return ret;
}

/*
 * After the user read: offer the freed space if it is worth a segment, and
 * send an ACK still owed, unless the connection is an exchange (pingpong):
 * then the answer the user is about to write carries it, as with TCP.
 */
static void toytcp_cleanup_rbuf(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);
	u32 cur = toytcp_cur_rcv_wnd(tp);
	u32 win = toytcp_rcv_window(sk);

	/* after the peer's FIN no data can come: a window update is noise */
	if (sk->sk_state == TCP_CLOSE || sk->sk_state == TCP_LISTEN ||
	    sk->sk_state == TCP_SYN_SENT || sock_flag(sk, SOCK_DONE))
		return;
	if (win > cur && win - cur >= min_t(u32, tp->adv_mss,
					    READ_ONCE(sk->sk_rcvbuf) / 4) &&
	    win >= 2 * cur)
		toytcp_send_ack(sk);
	else if (tp->ack_pending && tp->unacked_segs && !tp->pingpong)
		toytcp_send_ack(sk);
}

int toytcp_do_recvmsg(struct sock *sk, struct msghdr *msg, size_t len,
		      int flags)
{
	struct toytcp_sock *tp = toytcp_sk(sk);
	bool peek = flags & MSG_PEEK;
	u32 peek_seq, *seq;
	size_t copied = 0;
	long timeo;
	int target;
	int err = 0;

	if (flags & MSG_OOB)
		return -EINVAL;	/* no urgent data in toytcp */

	lock_sock(sk);
	if (sk->sk_state == TCP_LISTEN) {
		err = -ENOTCONN;
		goto out;
	}
	timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);
	target = sock_rcvlowat(sk, flags & MSG_WAITALL, len);
	peek_seq = tp->copied_seq;
	seq = peek ? &peek_seq : &tp->copied_seq;

	while (copied < len) {
		struct sk_buff *skb, *last = NULL;
		bool found = false;

		skb_queue_walk(&sk->sk_receive_queue, skb) {
			u32 off = *seq - TOYTCP_SKB_CB(skb)->seq;
			size_t chunk;

			last = skb;
			if (off >= skb->len)
				continue;
			chunk = min_t(size_t, skb->len - off, len - copied);
			if (skb_copy_datagram_msg(skb, off, msg, chunk)) {
				if (!copied)
					err = -EFAULT;
				goto done;
			}
			*seq += chunk;
			copied += chunk;
			found = true;
			break;
		}
		/* free what is fully read */
		while (!peek && (skb = skb_peek(&sk->sk_receive_queue)) &&
		       !toytcp_before(tp->copied_seq, TOYTCP_SKB_CB(skb)->seq +
						      skb->len)) {
			__skb_unlink(skb, &sk->sk_receive_queue);
			__kfree_skb(skb);
		}
		if (found)
			continue;

		if (copied >= target && !READ_ONCE(sk->sk_backlog.tail))
			break;
		if (copied) {
			if (sk->sk_err || sk->sk_state == TCP_CLOSE ||
			    (sk->sk_shutdown & RCV_SHUTDOWN) || !timeo ||
			    signal_pending(current))
				break;
		} else {
			if (sock_flag(sk, SOCK_DONE))
				break;
			if (sk->sk_err) {
				err = sock_error(sk);
				break;
			}
			if (sk->sk_shutdown & RCV_SHUTDOWN)
				break;
			if (sk->sk_state == TCP_CLOSE) {
				err = -ENOTCONN;
				break;
			}
			if (!timeo) {
				err = -EAGAIN;
				break;
			}
			if (signal_pending(current)) {
				err = sock_intr_errno(timeo);
				break;
			}
		}
		if (!peek)
			toytcp_cleanup_rbuf(sk);
		sk_wait_data(sk, &timeo, last);
	}
done:
	if (!peek)
		toytcp_cleanup_rbuf(sk);
out:
	release_sock(sk);
	return copied ? copied : err;
}

/* Readiness as tcp_poll() reports it. */
static __poll_t toytcp_poll(struct file *file, struct socket *sock,
			    poll_table *wait)
{
	struct sock *sk = sock->sk;
	__poll_t mask = 0;
	u8 shutdown;
	int state;

	sock_poll_wait(file, sock, wait);
	state = inet_sk_state_load(sk);
	if (state == TCP_LISTEN)
		return READ_ONCE(toytcp_sk(sk)->lq_n_ready) ?
		       EPOLLIN | EPOLLRDNORM : 0;

	shutdown = READ_ONCE(sk->sk_shutdown);
	if (shutdown == SHUTDOWN_MASK || state == TCP_CLOSE)
		mask |= EPOLLHUP;
	if (shutdown & RCV_SHUTDOWN)
		mask |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;
	if (state != TCP_SYN_SENT && state != TCP_SYN_RECV) {
		if (toytcp_inq(sk))
			mask |= EPOLLIN | EPOLLRDNORM;
		if (!(shutdown & SEND_SHUTDOWN)) {
			if (sk_stream_is_writeable(sk)) {
				mask |= EPOLLOUT | EPOLLWRNORM;
			} else {
				sk_set_bit(SOCKWQ_ASYNC_NOSPACE, sk);
				set_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
				/* recheck after setting NOSPACE (tcp_poll) */
				smp_mb__after_atomic();
				if (sk_stream_is_writeable(sk))
					mask |= EPOLLOUT | EPOLLWRNORM;
			}
		} else {
			mask |= EPOLLOUT | EPOLLWRNORM;
		}
	}
	/* pairs with the barrier before sk_error_report(): see tcp_poll() */
	smp_rmb();
	if (READ_ONCE(sk->sk_err) ||
	    !skb_queue_empty_lockless(&sk->sk_error_queue))
		mask |= EPOLLERR;
	return mask;
}

/* SIOCINQ, SIOCOUTQ, SIOCOUTQNSD: the answer goes to *answ. */
int toytcp_do_ioctl(struct sock *sk, int cmd, int *answ)
{
	struct toytcp_sock *tp = toytcp_sk(sk);

	switch (cmd) {
	case SIOCINQ:
		if (sk->sk_state == TCP_LISTEN)
			return -EINVAL;
		lock_sock(sk);
		*answ = toytcp_inq(sk);
		release_sock(sk);
		break;
	case SIOCOUTQ:
		if (sk->sk_state == TCP_LISTEN)
			return -EINVAL;
		*answ = READ_ONCE(tp->write_seq) - READ_ONCE(tp->snd_una);
		break;
	case SIOCOUTQNSD:
		if (sk->sk_state == TCP_LISTEN)
			return -EINVAL;
		*answ = READ_ONCE(tp->write_seq) - READ_ONCE(tp->snd_nxt);
		break;
	default:
		return -ENOIOCTLCMD;
	}
	return 0;
}

static bool toytcp_is_tcp_level(int level)
{
	return level == SOL_TCP || level == toytcp_ipproto;
}

/*
 * TCP_CONGESTION: toytcp has one algorithm, Reno with NewReno recovery,
 * which carries Linux's name for it.  Setting it is accepted; any other name
 * is ENOENT, as for a congestion control module Linux does not have.
 */
static const char toytcp_cc_name[] = "reno";

static int toytcp_set_congestion(sockptr_t optval, unsigned int optlen)
{
	char name[TCP_CA_NAME_MAX];
	size_t n = min_t(size_t, optlen, sizeof(name) - 1);

	if (!optlen)
		return -EINVAL;
	if (copy_from_sockptr(name, optval, n))
		return -EFAULT;
	name[n] = '\0';
	return strcmp(name, toytcp_cc_name) ? -ENOENT : 0;
}

static int toytcp_setsockopt(struct sock *sk, int level, int optname,
			     sockptr_t optval, unsigned int optlen)
{
	struct toytcp_sock *tp = toytcp_sk(sk);
	int val, err = 0;

	if (level == SOL_IP)
		return ip_setsockopt(sk, level, optname, optval, optlen);
	if (!toytcp_is_tcp_level(level))
		return -ENOPROTOOPT;
	if (optname == TCP_CONGESTION)
		return toytcp_set_congestion(optval, optlen);
	if (optlen < sizeof(int))
		return -EINVAL;
	if (copy_from_sockptr(&val, optval, sizeof(val)))
		return -EFAULT;

	lock_sock(sk);
	switch (optname) {
	case TCP_NODELAY:
		tp->opt.nodelay = !!val;
		if (val)
			toytcp_push(sk);
		break;
	case TCP_CORK:
		tp->opt.cork = !!val;
		if (!val)
			toytcp_push(sk);
		break;
	case TCP_MAXSEG:
		if (val && (val < 88 || val > 65495)) {
			err = -EINVAL;
			break;
		}
		tp->opt.user_mss = val;
		break;
	case TCP_KEEPIDLE:
	case TCP_KEEPINTVL:
		if (val < 1 || val > MAX_TCP_KEEPIDLE) {
			err = -EINVAL;
			break;
		}
		if (optname == TCP_KEEPIDLE)
			tp->opt.keepalive_time = val * HZ;
		else
			tp->opt.keepalive_intvl = val * HZ;
		toytcp_timer_keepalive_reset(sk);
		break;
	case TCP_KEEPCNT:
		if (val < 1 || val > MAX_TCP_KEEPCNT) {
			err = -EINVAL;
			break;
		}
		tp->opt.keepalive_probes = val;
		break;
	case TCP_SYNCNT:
		if (val < 1 || val > MAX_TCP_SYNCNT) {
			err = -EINVAL;
			break;
		}
		tp->opt.syn_retries = val;
		break;
	case TCP_USER_TIMEOUT:
		if (val < 0) {
			err = -EINVAL;
			break;
		}
		tp->opt.user_timeout = val;
		break;
	case TCP_QUICKACK:
		if (val) {
			tp->quickack = 1;
			if (tp->ack_pending)
				toytcp_send_ack(sk);
		}
		break;
	default:
		err = -ENOPROTOOPT;
		break;
	}
	release_sock(sk);
	return err;
}

static void toytcp_fill_info(struct sock *sk, struct tcp_info *info)
{
	struct toytcp_sock *tp = toytcp_sk(sk);
	struct dst_entry *dst;

	memset(info, 0, sizeof(*info));
	info->tcpi_state = inet_sk_state_load(sk);
	lock_sock(sk);
	dst = __sk_dst_get(sk);
	if (tp->wscale_ok) {
		info->tcpi_options |= TCPI_OPT_WSCALE;
		info->tcpi_snd_wscale = tp->snd_wscale;
		info->tcpi_rcv_wscale = tp->rcv_wscale;
	}
	if (tp->sack_ok)
		info->tcpi_options |= TCPI_OPT_SACK;
	info->tcpi_sacked = tp->sacked_out / max_t(u16, tp->mss, 1);
	info->tcpi_retransmits = tp->retransmits;
	info->tcpi_backoff = tp->backoff;
	info->tcpi_rto = jiffies_to_usecs(tp->rto);
	info->tcpi_snd_mss = tp->mss;
	info->tcpi_rcv_mss = tp->adv_mss;
	info->tcpi_unacked = tp->snd_nxt - tp->snd_una;
	info->tcpi_last_data_recv = jiffies_to_msecs(jiffies - tp->rcv_tstamp);
	info->tcpi_rtt = tp->srtt_us >> 3;
	info->tcpi_rttvar = tp->rttvar_us >> 2;
	info->tcpi_snd_ssthresh = tp->ssthresh == U32_MAX ? TCP_INFINITE_SSTHRESH :
				  tp->ssthresh / max_t(u16, tp->mss, 1);
	info->tcpi_snd_cwnd = tp->cwnd / max_t(u16, tp->mss, 1);
	info->tcpi_advmss = tp->adv_mss;
	info->tcpi_rcv_space = tp->rcv_wnd;
	info->tcpi_total_retrans = tp->total_retrans;
	info->tcpi_snd_wnd = tp->snd_wnd;
	info->tcpi_pmtu = dst ? dst_mtu(dst) : 0;
	info->tcpi_last_ack_recv = info->tcpi_last_data_recv;
	if (sk->sk_state != TCP_LISTEN && sk->sk_state != TCP_CLOSE &&
	    sk->sk_state != TCP_SYN_SENT) {
		/* the SYNs' sequence numbers are not bytes */
		info->tcpi_bytes_acked = tp->snd_una - tp->iss - 1;
		info->tcpi_bytes_received = tp->rcv_nxt - tp->irs - 1;
	}
	release_sock(sk);
}

static int toytcp_getsockopt(struct sock *sk, int level, int optname,
			     char __user *optval, int __user *optlen)
{
	struct toytcp_sock *tp = toytcp_sk(sk);
	int val, len;

	if (level == SOL_IP)
		return ip_getsockopt(sk, level, optname, optval, optlen);
	if (!toytcp_is_tcp_level(level))
		return -ENOPROTOOPT;
	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;

	switch (optname) {
	case TCP_CONGESTION:
		len = min_t(unsigned int, len, TCP_CA_NAME_MAX);
		if (put_user(len, optlen) ||
		    copy_to_user(optval, toytcp_cc_name,
				 min_t(unsigned int, len,
				       sizeof(toytcp_cc_name))))
			return -EFAULT;
		if (len > sizeof(toytcp_cc_name) &&
		    clear_user(optval + sizeof(toytcp_cc_name),
			       len - sizeof(toytcp_cc_name)))
			return -EFAULT;
		return 0;
	case TCP_INFO: {
		struct tcp_info info;

		toytcp_fill_info(sk, &info);
		len = min_t(unsigned int, len, sizeof(info));
		if (put_user(len, optlen) || copy_to_user(optval, &info, len))
			return -EFAULT;
		return 0;
	}
	case TCP_NODELAY:
		val = tp->opt.nodelay;
		break;
	case TCP_CORK:
		val = tp->opt.cork;
		break;
	case TCP_MAXSEG:
		val = tp->opt.user_mss ? : tp->mss;
		break;
	case TCP_KEEPIDLE:
		val = tp->opt.keepalive_time ? tp->opt.keepalive_time / HZ :
		      READ_ONCE(toytcp_sk_cfg(sk)->keepalive_time_secs);
		break;
	case TCP_KEEPINTVL:
		val = tp->opt.keepalive_intvl ? tp->opt.keepalive_intvl / HZ :
		      READ_ONCE(toytcp_sk_cfg(sk)->keepalive_intvl_secs);
		break;
	case TCP_KEEPCNT:
		val = tp->opt.keepalive_probes ? : READ_ONCE(toytcp_sk_cfg(sk)->keepalive_probes);
		break;
	case TCP_SYNCNT:
		val = tp->opt.syn_retries ? : READ_ONCE(toytcp_sk_cfg(sk)->syn_retries);
		break;
	case TCP_USER_TIMEOUT:
		val = tp->opt.user_timeout;
		break;
	case TCP_QUICKACK:
		val = tp->quickack;
		break;
	default:
		return -ENOPROTOOPT;
	}
	len = min_t(unsigned int, len, sizeof(int));
	if (put_user(len, optlen) || copy_to_user(optval, &val, len))
		return -EFAULT;
	return 0;
}

/* SO_KEEPALIVE changed (called by sock_setsockopt with the lock held). */
static void toytcp_keepalive(struct sock *sk, int valbool)
{
	if (valbool)
		sock_set_flag(sk, SOCK_KEEPOPEN);
	else
		sock_reset_flag(sk, SOCK_KEEPOPEN);
	toytcp_timer_keepalive_reset(sk);
}

static int toytcp_listen(struct socket *sock, int backlog)
{
	struct sock *sk = sock->sk;
	int err = -EINVAL;

	lock_sock(sk);
	if (sock->state != SS_UNCONNECTED || sock->type != SOCK_STREAM)
		goto out;
	err = toytcp_listen_start(sk, backlog);
out:
	release_sock(sk);
	return err;
}

/*
 * A segment that waited in the backlog while the user held the socket,
 * handed over by release_sock() in process context.  The receive path is
 * written for softirq (spinlocks that softirq also takes, GFP_ATOMIC): run
 * it with bottom halves off here too.
 */
static int toytcp_backlog_rcv(struct sock *sk, struct sk_buff *skb)
{
	int ret;

	local_bh_disable();
	ret = toytcp_do_rcv(sk, skb);
	local_bh_enable();
	return ret;
}

struct proto toytcp_prot = {
	.name			= "TOYTCP",
	.owner			= THIS_MODULE,
	.close			= toytcp_close,
	.connect		= toytcp_v4_connect,
	.disconnect		= toytcp_disconnect,
	.accept			= toytcp_accept,
	.ioctl			= toytcp_ioctl,
	.keepalive		= toytcp_keepalive,
	.sendmsg		= toytcp_sendmsg,
	.recvmsg		= toytcp_recvmsg,
	.backlog_rcv		= toytcp_backlog_rcv,
	.release_cb		= toytcp_release_cb,
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
	.connect	= inet_stream_connect,
	.socketpair	= sock_no_socketpair,
	.accept		= inet_accept,
	.getname	= inet_getname,
	.poll		= toytcp_poll,
	.ioctl		= inet_ioctl,
	.listen		= toytcp_listen,
	.shutdown	= inet_shutdown,
	.setsockopt	= sock_common_setsockopt,
	.getsockopt	= sock_common_getsockopt,
	.sendmsg	= inet_sendmsg,
	.recvmsg	= inet_recvmsg,
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
